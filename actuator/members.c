/*
 * members.c - a pool's instances as libvirt sees them right now. Membership
 * is the <vs:virtscale pool=... address=.../> tag written when the clone was
 * defined: domains without the tag are never counted, chosen or touched.
 */
#include "config.h"

#include "actuator.h"
#include "vs-domain.h"
#include "vs-pool.h"
#include "vs-sessions.h"
#include "vs-validate.h"

#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

/** vs_member_free: frees a member. */
void vs_member_free(vs_member *m)
{
	if (!m)
		return;
	g_free(m->name);
	g_free(m->uri);
	g_free(m->address);
	g_free(m);
}

/**
 * vs_domain_tag: reads our metadata element of @dom. Only names and
 * addresses that pass validation are returned: the tag is in the domain's
 * XML, which anyone with libvirt access can edit.
 */
bool vs_domain_tag(virDomainPtr dom, char **pool, char **address)
{
	*pool = NULL;
	*address = NULL;
	char *xml = virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, VS_METADATA_NS, 0);
	if (!xml) {
		virResetLastError();
		return false;
	}
	xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), "metadata.xml", NULL,
	                              XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	free(xml);
	if (!doc)
		return false;
	xmlNodePtr root = xmlDocGetRootElement(doc);
	xmlChar *p = root ? xmlGetProp(root, BAD_CAST "pool") : NULL;
	xmlChar *a = root ? xmlGetProp(root, BAD_CAST "address") : NULL;
	if (p && vs_valid_pool_name((const char *)p))
		*pool = g_strdup((const char *)p);
	if (a && vs_valid_host_port((const char *)a))
		*address = g_strdup((const char *)a);
	xmlFree(p);
	xmlFree(a);
	xmlFreeDoc(doc);
	if (!*pool) {
		g_clear_pointer(address, g_free);
		return false;
	}
	return true;
}

static gint member_cmp(gconstpointer a, gconstpointer b)
{
	const vs_member *x = *(vs_member *const *)a, *y = *(vs_member *const *)b;
	if (x->index != y->index)
		return x->index < y->index ? -1 : 1;
	return g_strcmp0(x->name, y->name);
}

/**
 * vs_members_list: every domain tagged for @pool, and named by its
 * name_pattern, on the hosts that answer.
 * A host that does not answer makes the whole list unknown (NULL): acting
 * on a partial view could add or remove one instance too many.
 */
GPtrArray *vs_members_list(vs_virt **hosts, size_t n_hosts, const vs_pool_config *pool,
                           GError **error)
{
	g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func((GDestroyNotify)vs_member_free);
	for (size_t h = 0; h < n_hosts; h++) {
		if (pool->uri && g_strcmp0(pool->uri, vs_virt_uri(hosts[h])) != 0)
			continue;
		virConnectPtr c = vs_virt_get(hosts[h], error);
		if (!c)
			return NULL;
		virDomainPtr *doms = NULL;
		int n = virConnectListAllDomains(c, &doms, 0);
		if (n < 0) {
			vs_set_virt_error(error, vs_virt_uri(hosts[h]));
			virConnectClose(c);
			vs_virt_reset(hosts[h]);
			return NULL;
		}
		for (int i = 0; i < n; i++) {
			g_autofree char *tp = NULL, *ta = NULL;
			unsigned index = 0;
			/* the tag and the name pattern: a pool of the same name in
			 * another configuration is not ours to count or stop */
			if (vs_domain_tag(doms[i], &tp, &ta) && g_strcmp0(tp, pool->name) == 0 &&
			    vs_pool_match_name(pool, virDomainGetName(doms[i]), &index)) {
				vs_member *m = g_new0(vs_member, 1);
				m->name = g_strdup(virDomainGetName(doms[i]));
				m->uri = g_strdup(vs_virt_uri(hosts[h]));
				m->address = g_steal_pointer(&ta);
				m->sessions = -1;
				int reason;
				if (virDomainGetState(doms[i], &m->state, &reason, 0) < 0)
					m->state = VIR_DOMAIN_NOSTATE;
				int cur =
				    virDomainGetVcpusFlags(doms[i], VIR_DOMAIN_AFFECT_CURRENT);
				int max = virDomainGetVcpusFlags(doms[i], VIR_DOMAIN_VCPU_MAXIMUM);
				m->vcpus = cur > 0 ? (unsigned)cur : 1;
				m->vcpus_max = max > 0 ? (unsigned)max : m->vcpus;
				virResetLastError();
				m->index = index;
				g_ptr_array_add(out, m);
			}
			virDomainFree(doms[i]);
		}
		free(doms);
		virConnectClose(c);
	}
	g_ptr_array_sort(out, member_cmp);
	return g_steal_pointer(&out);
}

/** vs_members_used_addresses: addresses of every tagged domain (any pool). */
GHashTable *vs_members_used_addresses(vs_virt **hosts, size_t n_hosts)
{
	GHashTable *used = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	for (size_t h = 0; h < n_hosts; h++) {
		virConnectPtr c = vs_virt_get(hosts[h], NULL);
		if (!c)
			continue;
		virDomainPtr *doms = NULL;
		int n = virConnectListAllDomains(c, &doms, 0);
		for (int i = 0; i < n; i++) {
			g_autofree char *tp = NULL, *ta = NULL;
			if (vs_domain_tag(doms[i], &tp, &ta) && ta)
				g_hash_table_add(used, g_steal_pointer(&ta));
			virDomainFree(doms[i]);
		}
		free(doms);
		virConnectClose(c);
	}
	return used;
}

/** vs_members_running: how many members are running (or booting). */
unsigned vs_members_running(const GPtrArray *members)
{
	unsigned n = 0;
	for (guint i = 0; i < members->len; i++) {
		const vs_member *m = members->pdata[i];
		if (m->state == VIR_DOMAIN_RUNNING || m->state == VIR_DOMAIN_BLOCKED ||
		    m->state == VIR_DOMAIN_PAUSED)
			n++;
	}
	return n;
}

/**
 * vs_members_count_sessions: established connections per running member,
 * counted with sock_diag. With hostfwd the listening end is QEMU on this
 * host (local end = the address); otherwise the balancer connects out to the
 * guest (remote end = the address).
 */
void vs_members_count_sessions(const vs_pool_config *pool, GPtrArray *members)
{
	g_autoptr(GArray) eps = g_array_new(FALSE, TRUE, sizeof(vs_endpoint));
	g_autoptr(GArray) idx = g_array_new(FALSE, FALSE, sizeof(guint));
	for (guint i = 0; i < members->len; i++) {
		vs_member *m = members->pdata[i];
		vs_endpoint ep;
		if (m->address && vs_endpoint_parse(m->address, &ep)) {
			g_array_append_val(eps, ep);
			g_array_append_val(idx, i);
		}
	}
	if (eps->len == 0)
		return;
	g_autofree unsigned *counts = g_new0(unsigned, eps->len);
	bool ok = pool->address == VS_ADDRESS_HOSTFWD
	              ? vs_sockdiag_count_local((vs_endpoint *)eps->data, eps->len, counts, NULL)
	              : vs_sockdiag_count((vs_endpoint *)eps->data, eps->len, counts, NULL);
	if (!ok)
		return;
	for (guint k = 0; k < eps->len; k++) {
		vs_member *m = members->pdata[g_array_index(idx, guint, k)];
		m->sessions = (int)counts[k];
	}
}
