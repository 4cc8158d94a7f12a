/*
 * members.c - a pool's members as libvirt lists them right now, turned
 * into the pool view every program shares (lib/vs-pool.h): the same
 * membership rule, the same "running", the same session source. Only
 * domains carrying our tag are ever counted, chosen or touched.
 */
#include "config.h"

#include "ops.h"
#include "vs-log.h"
#include "vs-pool-sessions.h"
#include "vs-validate.h"

#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

/**
 * vs_ops_host: the holder of hypervisor @uri, NULL when it is not configured.
 */
vs_virt *vs_ops_host(const vs_ops_ctx *w, const char *uri)
{
	for (size_t h = 0; h < w->n_hosts; h++)
		if (g_strcmp0(vs_virt_uri(w->hosts[h]), uri) == 0)
			return w->hosts[h];
	return NULL;
}

/**
 * vs_ops_health: what is known of hypervisor @uri, NULL when it is not
 * configured.
 */
vs_host_health *vs_ops_health(const vs_ops_ctx *w, const char *uri)
{
	for (size_t h = 0; h < w->n_hosts; h++)
		if (g_strcmp0(vs_virt_uri(w->hosts[h]), uri) == 0)
			return w->health ? w->health[h] : NULL;
	return NULL;
}

/**
 * vs_ops_host_config: the [host] of @uri (every configured URI has one).
 */
const vs_host_config *vs_ops_host_config(const vs_ops_ctx *w, const char *uri)
{
	return vs_config_find_host(w->cfg, uri);
}

/**
 * vs_domain_tag: reads our metadata element of @dom. Only names and
 * addresses that pass validation are returned: the tag is in the domain's
 * XML, which anyone with libvirt access can edit.
 */
bool vs_domain_tag(virDomainPtr dom, char **pool, char **address)
{
	bool warm;
	g_autofree char *template_id = NULL;

	return vs_domain_tag_full(dom, pool, address, &template_id, &warm);
}

/**
 * vs_domain_tag_full: vs_domain_tag(), with the tag's template identity
 * (NULL when it has none) and whether it marks a warm instance.
 */
bool vs_domain_tag_full(virDomainPtr dom, char **pool, char **address, char **template_id,
                        bool *warm)
{
	*pool = NULL;
	*address = NULL;
	*template_id = NULL;
	*warm = false;
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
	xmlChar *t = root ? xmlGetProp(root, BAD_CAST "template") : NULL;
	xmlChar *wa = root ? xmlGetProp(root, BAD_CAST "warm") : NULL;
	bool ours = vs_domain_tag_accept((const char *)p, (const char *)a, pool, address);
	if (ours)
		vs_domain_tag_accept_warm((const char *)wa, (const char *)t, warm, template_id);
	xmlFree(p);
	xmlFree(a);
	xmlFree(t);
	xmlFree(wa);
	xmlFreeDoc(doc);
	return ours;
}

/* One listed domain as a member, or NULL when it is not one of @pool. */
static vs_member *member_of(virDomainPtr dom, const char *uri, const vs_pool_config *pool)
{
	g_autofree char *tag_pool = NULL, *tag_address = NULL, *template_id = NULL;
	unsigned index;
	virDomainInfo info;
	vs_member *m;
	bool warm;
	int max;

	if (!vs_domain_tag_full(dom, &tag_pool, &tag_address, &template_id, &warm) ||
	    !vs_pool_is_member(pool, virDomainGetName(dom), tag_pool, &index))
		return NULL;
	m = vs_member_new(virDomainGetName(dom), uri);
	m->index = index;
	m->warm = warm;
	m->template_id = g_steal_pointer(&template_id);
	vs_member_set_address(m, tag_address);
	virDomainGetUUIDString(dom, m->uuid_str);
	if (virDomainGetInfo(dom, &info) == 0) {
		m->state = info.state;
		m->cpu_time_ns = info.cpuTime;
		m->sample_mono_us = g_get_monotonic_time();
		m->vcpus = info.nrVirtCpu ? info.nrVirtCpu : 1;
		m->mem_kib = info.memory;
		m->mem_max_kib = info.maxMem;
	}
	max = virDomainGetVcpusFlags(dom, VIR_DOMAIN_VCPU_MAXIMUM);
	m->vcpus_max = max > 0 ? (unsigned)max : m->vcpus;
	virResetLastError();
	return m;
}

/* CPU% of each member since the same member's sample in @previous. */
static void compute_cpu(vs_pool_view *v, const vs_pool_view *previous)
{
	for (guint i = 0; previous && i < v->members->len; i++) {
		vs_member *m = v->members->pdata[i];

		for (guint k = 0; k < previous->members->len; k++) {
			const vs_member *p = previous->members->pdata[k];

			if (g_strcmp0(p->uuid_str, m->uuid_str) == 0 && p->running && m->running) {
				double of_host;

				vs_cpu_percent(p->cpu_time_ns, p->sample_mono_us, m->cpu_time_ns,
				               m->sample_mono_us, m->vcpus, &of_host,
				               &m->cpu_percent);
				break;
			}
		}
	}
}

/* The members of @previous on host @uri, as lost: its last known word. */
static void add_lost(vs_pool_view *v, const vs_pool_view *previous, const char *uri)
{
	for (guint i = 0; previous && i < previous->members->len; i++) {
		const vs_member *p = previous->members->pdata[i];

		if (g_strcmp0(p->host_uri, uri) != 0)
			continue;
		vs_member *m = vs_member_copy(p);

		m->lost = true;
		m->returned = false;
		m->sessions = -1;
		m->cpu_percent = -1;
		vs_pool_view_add(v, m);
	}
}

static bool had_lost_members(const vs_pool_view *previous, const char *uri)
{
	for (guint i = 0; previous && i < previous->members->len; i++) {
		const vs_member *p = previous->members->pdata[i];

		if (p->lost && g_strcmp0(p->host_uri, uri) == 0)
			return true;
	}
	return false;
}

/* One host's members into @v; false when it does not answer. */
static bool list_host(const vs_ops_ctx *w, size_t h, const vs_pool_view *previous, vs_pool_view *v,
                      GError **error)
{
	const char *uri = vs_virt_uri(w->hosts[h]);
	vs_host_health *health = w->health ? w->health[h] : NULL;
	g_autoptr(virConnect) c = vs_virt_get(w->hosts[h], NULL, error);
	virDomainPtr *doms = NULL;
	int n = c ? virConnectListAllDomains(c, &doms, 0) : -1;

	if (n < 0) {
		if (c) {
			vs_virt_set_error(error, uri);
			vs_virt_reset(w->hosts[h]);
		}
		if (health)
			vs_host_health_failed(health, g_get_monotonic_time());
		return false;
	}
	bool returned = had_lost_members(previous, uri);
	g_autoptr(GPtrArray) names = g_ptr_array_new();

	for (int i = 0; i < n; i++) {
		vs_member *m = member_of(doms[i], uri, w->pool);

		g_ptr_array_add(names, (gpointer)virDomainGetName(doms[i]));
		if (m) {
			m->returned = returned;
			vs_pool_view_add(v, m);
		}
	}
	g_ptr_array_add(names, NULL);
	if (health)
		vs_host_health_answered(health, (const char *const *)names->pdata);
	for (int i = 0; i < n; i++)
		virDomainFree(doms[i]);
	free(doms);
	if (returned)
		vs_notice("pool %s: host %s answers again", w->pool->name,
		          vs_config_host_name(w->cfg, uri));
	return true;
}

/**
 * vs_members_list: see ops.h.
 */
vs_pool_view *vs_members_list(const vs_ops_ctx *w, const vs_pool_view *previous, GError **error)
{
	g_autoptr(vs_pool_view) v = vs_pool_view_new(w->pool);
	g_autoptr(GError) serr = NULL;

	for (size_t h = 0; h < w->n_hosts; h++) {
		const char *uri = vs_virt_uri(w->hosts[h]);
		g_autoptr(GError) herr = NULL;

		if (!vs_pool_on_host(w->pool, uri) || list_host(w, h, previous, v, &herr))
			continue;
		int64_t down = w->health ? vs_host_health_down_since(w->health[h]) : 0;

		if (!vs_host_lost(down, g_get_monotonic_time(), w->cfg->host_grace)) {
			g_propagate_error(error, g_steal_pointer(&herr));
			return NULL;
		}
		/* lost: the others decide; its members stay known, as lost */
		add_lost(v, previous, uri);
	}
	vs_pool_view_aggregate(v);
	compute_cpu(v, previous);
	/* the same source as the monitors: the victim is chosen on the
	 * numbers the pool's verdict was made of */
	if (!vs_pool_collect_sessions(w->cfg, v, &serr))
		vs_debug("pool %s: sessions: %s", w->pool->name, serr->message);
	return g_steal_pointer(&v);
}

/**
 * vs_members_used_addresses: addresses of every tagged domain (any pool).
 */
GHashTable *vs_members_used_addresses(const vs_ops_ctx *w)
{
	GHashTable *used = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	for (size_t h = 0; h < w->n_hosts; h++) {
		g_autoptr(virConnect) c = vs_virt_get(w->hosts[h], NULL, NULL);
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
	}
	return used;
}
