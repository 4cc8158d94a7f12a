/*
 * scale-in.c - one instance fewer: the member vs_pool_view_victim() names
 * (the policy's rule, on the pool's own session counts) is drained in the
 * load balancer, given drain_timeout for its sessions to end, shut down
 * gracefully (destroyed after shutdown_timeout), removed from the balancer,
 * then undefined with its volumes deleted - or kept shut off for a fast
 * restart (keep_stopped). Journaled step by step.
 */
#include "config.h"

#include "clone-xml.h"
#include "ops.h"
#include "vs-log.h"

#include <libvirt/virterror.h>
#include <string.h>

/* The volumes of @dom that are ours to delete: in the pool's storage pool
 * and named after the domain (as scale-out names them). */
char **vs_owned_volumes(virConnectPtr c, virDomainPtr dom, const char *spname)
{
	GPtrArray *out = g_ptr_array_new();
	char *xml = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE);
	g_autoptr(GPtrArray) disks = xml ? vs_clone_xml_disks(xml, NULL) : NULL;
	const char *dname = virDomainGetName(dom);

	free(xml);
	for (guint i = 0; disks && i < disks->len; i++) {
		const vs_clone_disk *d = disks->pdata[i];
		g_autoptr(virStorageVol) v = virStorageVolLookupByPath(c, d->src_path);
		g_autoptr(virStoragePool) sp = v ? virStoragePoolLookupByVolume(v) : NULL;
		const char *vname = v ? virStorageVolGetName(v) : NULL;

		if (sp && g_strcmp0(virStoragePoolGetName(sp), spname) == 0 && vname &&
		    g_str_has_prefix(vname, dname))
			g_ptr_array_add(out, g_strdup(vname));
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
		vs_virt_set_error(error, "destroy");
		return false;
	}
	return true;
}

/* Step "lb-drain": no new sessions, then wait for the open ones to end (the
 * balancer's busy count where it has one, else sock_diag). False when
 * virtscaled stops meanwhile (the journal keeps the scale-in) or when the
 * journal cannot record the drain. */
static bool drain(vs_ops_ctx *w, const vs_member *m, uint64_t jid, vs_op_outcome *o, GError **error)
{
	g_autoptr(GError) lerr = NULL, derr = NULL;

	/* recorded first: a scale-in still at "begin" has touched nothing */
	if (!vs_ops_journal_step(w, jid, "draining", o, error))
		return false;
	if (!vs_lb_drain(w->lb, m->address, &lerr))
		vs_warning("pool %s: drain %s: %s", w->pool->name, m->address, lerr->message);
	if (w->draining)
		w->draining(m->name, w->opaque);
	/* busy_sessions: the member may stop with that many still open */
	if (!vs_lb_wait_drained_to(w->lb, m->address, w->pool->busy_sessions,
	                           w->pool->drain_timeout, w->stop, &derr)) {
		if (g_error_matches(derr, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
			g_propagate_error(error, g_steal_pointer(&derr));
			return false;
		}
		vs_notice("pool %s: drain of %s: %s", w->pool->name, m->address,
		          derr ? derr->message : "?");
	}
	return vs_ops_journal_step(w, jid, "drained", o, error);
}

/* The journal failed before the victim was stopped: it serves again and
 * the scale-in is given up. Unrecorded, reconcile later finds the member
 * running and enabled in the balancer and gives it up too. */
static void roll_back(vs_ops_ctx *w, const vs_member *m, uint64_t jid)
{
	g_autoptr(GError) err = NULL;

	if (m->address && !vs_lb_enable(w->lb, m->address, &err)) {
		vs_warning("pool %s: re-enabling %s: %s", w->pool->name, m->address, err->message);
		return;
	}
	vs_notice("pool %s: scale-in of %s given up: it serves again", w->pool->name, m->name);
	if (!vs_journal_end(w->journal, jid, "rolled-back", &err))
		vs_warning("pool %s: %s", w->pool->name, err->message);
}

static bool scale_in(vs_ops_ctx *w, const vs_member *m, bool to_warm, vs_op_outcome *o,
                     GError **error);

/** vs_scale_in: removes one running instance; see the file comment. */
bool vs_scale_in(vs_ops_ctx *w, const vs_pool_view *v, vs_op_outcome *o, GError **error)
{
	int victim = vs_pool_view_victim(v);
	const vs_member *m = victim >= 0 ? v->members->pdata[victim] : NULL;

	return scale_in(w, m, vs_warm_wants(w, v, m), o, error);
}

/** vs_scale_in_member: removes member @m; see the file comment. */
bool vs_scale_in_member(vs_ops_ctx *w, const vs_member *m, vs_op_outcome *o, GError **error)
{
	return scale_in(w, m, false, o, error);
}

/* Member @m drained and stopped, or with @to_warm drained, out of the
 * balancer and paused as a warm instance. */
static bool scale_in(vs_ops_ctx *w, const vs_member *m, bool to_warm, vs_op_outcome *o,
                     GError **error)
{
	const vs_pool_config *p = w->pool;
	const char *spname = p->storage_pool ? p->storage_pool : "default";
	vs_virt *host = m ? vs_ops_host(w, m->host_uri) : NULL;
	g_autoptr(virConnect) c = NULL;
	g_autoptr(virDomain) dom = NULL;
	g_auto(GStrv) vols = NULL;
	uint64_t jid;

	o->action = VS_ACTION_SCALE_IN;
	o->step = VS_STEP_CHOOSE;
	if (!m || !host) {
		g_set_error(error, VS_ACT_ERROR, VS_ACT_ERROR_STATE, "no running instance to stop");
		return false;
	}
	o->step = VS_STEP_CONNECT;
	c = vs_virt_get(host, NULL, error);
	if (!c)
		return false;
	dom = virDomainLookupByName(c, m->name);
	if (!dom) {
		vs_virt_set_error(error, m->name);
		return false;
	}
	vols = vs_owned_volumes(c, dom, spname);
	jid = vs_ops_journal_member(w, "scale-in", m, spname, vols, o, error);
	if (!jid)
		return false;
	/* from here on a failure stays journaled: reconcile finishes it */
	vs_info("pool %s: scaling in %s (%d sessions)", p->name, m->name, m->sessions);
	o->step = VS_STEP_LB_DRAIN;
	if (m->address && !drain(w, m, jid, o, error)) {
		if (o->step == VS_STEP_JOURNAL)
			roll_back(w, m, jid);
		return false;
	}
	if (to_warm) {
		o->step = VS_STEP_LB_REMOVE;
		if (m->address && !vs_lb_remove(w->lb, m->address, error))
			return false;
		if (!vs_ops_journal_step(w, jid, "lb-removed", o, error) ||
		    !vs_warm_return(w, dom, m, o, error))
			return false;
		if (!vs_journal_end(w->journal, jid, "warm", error)) {
			o->step = VS_STEP_JOURNAL;
			return false;
		}
		return true;
	}
	o->step = VS_STEP_SHUTDOWN;
	if (!stop_domain(dom, p->shutdown_timeout, w->stop, error))
		return false;
	/* stopped: past undoing, a journal failure leaves the rest to reconcile */
	if (!vs_ops_journal_step(w, jid, "stopped", o, error))
		return false;
	o->step = VS_STEP_LB_REMOVE;
	if (m->address && !vs_lb_remove(w->lb, m->address, error))
		return false;
	if (!vs_ops_journal_step(w, jid, "lb-removed", o, error))
		return false;
	o->step = VS_STEP_UNDEFINE;
	if (!p->keep_stopped &&
	    !vs_destroy_instance(w, m->host_uri, m->name, spname, vols, true, error))
		return false;
	if (!vs_journal_end(w->journal, jid, "ok", error)) {
		o->step = VS_STEP_JOURNAL;
		g_prefix_error(error, "cannot record the finished scale-in of %s: ", m->name);
		return false;
	}
	return true;
}
