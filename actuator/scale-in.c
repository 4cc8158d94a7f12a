/*
 * scale-in.c - one instance fewer: the running member with the fewest
 * sessions is drained in the load balancer, given drain_timeout for its
 * sessions to end, shut down gracefully (destroyed after shutdown_timeout),
 * removed from the balancer, then undefined with its volumes deleted - or
 * kept shut off for a fast restart (keep_stopped). Journaled step by step.
 */
#include "config.h"

#include "actuator.h"
#include "vs-log.h"

#include <libvirt/virterror.h>
#include <string.h>

static vs_member *choose_victim(GPtrArray *members)
{
	vs_member *best = NULL;
	for (guint i = 0; i < members->len; i++) {
		vs_member *m = members->pdata[i];
		if (m->state != VIR_DOMAIN_RUNNING && m->state != VIR_DOMAIN_BLOCKED &&
		    m->state != VIR_DOMAIN_PAUSED)
			continue;
		/* fewest sessions; among equals the newest (highest index) */
		int s = m->sessions < 0 ? 0 : m->sessions;
		int bs = best ? (best->sessions < 0 ? 0 : best->sessions) : G_MAXINT;
		if (!best || s < bs || (s == bs && m->index >= best->index))
			best = m;
	}
	return best;
}

/* The volumes of @dom that are ours to delete: in the pool's storage pool
 * and named after the domain (as scale-out names them). */
static char **owned_volumes(virConnectPtr c, virDomainPtr dom, const char *spname)
{
	GPtrArray *out = g_ptr_array_new();
	char *xml = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE);
	g_autoptr(GPtrArray) disks = xml ? vs_clone_xml_disks(xml, NULL) : NULL;
	free(xml);
	const char *dname = virDomainGetName(dom);
	for (guint i = 0; disks && i < disks->len; i++) {
		const vs_clone_disk *d = disks->pdata[i];
		virStorageVolPtr v = virStorageVolLookupByPath(c, d->src_path);
		if (!v)
			continue;
		virStoragePoolPtr sp = virStoragePoolLookupByVolume(v);
		const char *vname = virStorageVolGetName(v);
		if (sp && g_strcmp0(virStoragePoolGetName(sp), spname) == 0 && vname &&
		    g_str_has_prefix(vname, dname))
			g_ptr_array_add(out, g_strdup(vname));
		if (sp)
			virStoragePoolFree(sp);
		virStorageVolFree(v);
	}
	virResetLastError();
	g_ptr_array_add(out, NULL);
	return (char **)g_ptr_array_free(out, FALSE);
}

/**
 * stop_domain: graceful shutdown, destroy after @timeout_s. True when the
 * domain is shut off; false with G_IO_ERROR_CANCELLED when virtscaled
 * stops first (the journal keeps the scale-in for the next start).
 */
static bool stop_domain(virDomainPtr dom, unsigned timeout_s, GCancellable *cancel, GError **error)
{
	int state, reason;
	if (virDomainGetState(dom, &state, &reason, 0) == 0 && state == VIR_DOMAIN_SHUTOFF)
		return true;
	virDomainShutdown(dom);
	virResetLastError();
	int64_t deadline = g_get_monotonic_time() + (int64_t)timeout_s * G_USEC_PER_SEC;
	while (g_get_monotonic_time() < deadline) {
		if (virDomainGetState(dom, &state, &reason, 0) == 0 && state == VIR_DOMAIN_SHUTOFF)
			return true;
		if (!vs_wait_ms(cancel, 200, error))
			return false;
	}
	if (virDomainDestroy(dom) < 0 &&
	    (virDomainGetState(dom, &state, &reason, 0) < 0 || state != VIR_DOMAIN_SHUTOFF)) {
		vs_set_virt_error(error, "destroy");
		return false;
	}
	return true;
}

/** vs_scale_in: removes one running instance; see the file comment. */
bool vs_scale_in(vs_worker_ctx *w, GPtrArray *members, char **action, char **step, GError **error)
{
	const vs_pool_config *p = w->pool;
	*action = g_strdup("scale-in");
	vs_members_count_sessions(p, members);
	vs_member *v = choose_victim(members);
	if (!v) {
		g_set_error(error, VS_ACT_ERROR, 0, "no running instance to stop");
		*step = g_strdup("choose");
		return false;
	}
	vs_virt *host = NULL;
	for (size_t h = 0; h < w->n_hosts; h++)
		if (g_strcmp0(vs_virt_uri(w->hosts[h]), v->uri) == 0)
			host = w->hosts[h];
	*step = g_strdup("connect");
	virConnectPtr c = host ? vs_virt_get(host, error) : NULL;
	if (!c)
		return false;
	bool ok = false;
	const char *spname = p->storage_pool ? p->storage_pool : "default";
	virDomainPtr dom = virDomainLookupByName(c, v->name);
	g_auto(GStrv) vols = NULL;
	uint64_t jid = 0;
	if (!dom) {
		vs_set_virt_error(error, v->name);
		goto out;
	}
	vols = owned_volumes(c, dom, spname);
	vs_journal_op op = {.op = "scale-in",
	                    .pool = p->name,
	                    .name = v->name,
	                    .uri = v->uri,
	                    .vol_pool = (char *)spname,
	                    .vols = vols,
	                    .address = v->address};
	g_free(*step);
	*step = g_strdup("journal");
	jid = vs_journal_begin(w->journal, &op, error);
	if (!jid)
		goto out;
	vs_info("pool %s: scaling in %s (%d sessions)", p->name, v->name, v->sessions);
	if (v->address) {
		g_free(*step);
		*step = g_strdup("lb-drain");
		g_autoptr(GError) lerr = NULL;
		if (!vs_lb_drain(w->lb, v->address, &lerr))
			vs_warning("pool %s: drain %s: %s", p->name, v->address, lerr->message);
		vs_journal_step(w->journal, jid, "draining", NULL);
		/* the balancer's busy count where it has one, else sock_diag */
		g_autoptr(GError) derr = NULL;
		if (!vs_lb_wait_drained(w->lb, v->address, p->drain_timeout, w->stop, &derr)) {
			if (g_error_matches(derr, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
				g_propagate_error(error, g_steal_pointer(&derr));
				goto out; /* journaled as draining: the next start finishes it */
			}
			vs_notice("pool %s: drain of %s: %s", p->name, v->address,
			          derr ? derr->message : "?");
		}
		vs_journal_step(w->journal, jid, "drained", NULL);
	}
	g_free(*step);
	*step = g_strdup("shutdown");
	if (!stop_domain(dom, p->shutdown_timeout, w->stop, error))
		goto out;
	vs_journal_step(w->journal, jid, "stopped", NULL);
	if (v->address) {
		g_free(*step);
		*step = g_strdup("lb-remove");
		if (!vs_lb_remove(w->lb, v->address, error))
			goto out;
	}
	vs_journal_step(w->journal, jid, "lb-removed", NULL);
	if (!p->keep_stopped) {
		g_free(*step);
		*step = g_strdup("undefine");
		if (!vs_destroy_instance(w, v->uri, v->name, spname, vols, true, error))
			goto out;
	}
	vs_journal_end(w->journal, jid, "ok", NULL);
	ok = true;
out:
	/* a failed scale-in stays journaled: reconcile finishes it */
	if (dom)
		virDomainFree(dom);
	virConnectClose(c);
	return ok;
}
