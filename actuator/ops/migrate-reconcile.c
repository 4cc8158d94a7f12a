/*
 * migrate-reconcile.c - a migration that did not finish (virtscaled was
 * killed, or a step after the move failed), settled from what libvirt
 * shows on both hosts: when the guest runs on the destination, the move is
 * finished (what is left of it on the source goes, the new address joins
 * the balancer, the old one leaves); otherwise it is rolled back (what the
 * destination holds of it goes, the source serves again). Disks are never
 * touched: they are the guest's, on either host. Only tagged domains are.
 */
#include "config.h"

#include "ops.h"
#include "vs-log.h"

#include <libvirt/virterror.h>

/* The domain @name on @uri, tagged: its state; -1 when there is none (or
 * it is not ours), -2 when the host does not answer. */
static int tagged_state(vs_ops_ctx *w, const char *uri, const char *name, virDomainPtr *out,
                        GError **error)
{
	vs_virt *host = vs_ops_host(w, uri);
	g_autoptr(virConnect) c = host ? vs_virt_get(host, NULL, error) : NULL;
	g_autofree char *tp = NULL, *ta = NULL;
	virDomainPtr d;
	int state, reason;

	if (!c) {
		if (!host)
			g_set_error(error, VS_ACT_ERROR, VS_ACT_ERROR_NOT_FOUND,
			            "host %s is no longer configured", uri);
		return -2;
	}
	d = virDomainLookupByName(c, name);
	virResetLastError();
	if (!d)
		return -1;
	if (!vs_domain_tag(d, &tp, &ta) || virDomainGetState(d, &state, &reason, 0) < 0) {
		virResetLastError();
		virDomainFree(d);
		return -1;
	}
	*out = d;
	return state;
}

/* libvirt failed: true when the domain is gone anyway (an incoming one is
 * destroyed by its host once the connection that prepared it closes). */
static bool failed_unless_gone(const char *what, GError **error)
{
	virErrorPtr e = virGetLastError();

	if (e && e->code == VIR_ERR_NO_DOMAIN) {
		virResetLastError();
		return true;
	}
	vs_virt_set_error(error, what);
	return false;
}

/* Removes the copy of the guest on one host: destroyed if active,
 * undefined if persistent; its disks stay. */
static bool remove_copy(virDomainPtr d, GError **error)
{
	int state, reason;

	if (virDomainGetState(d, &state, &reason, 0) == 0 && state != VIR_DOMAIN_SHUTOFF &&
	    virDomainDestroy(d) < 0 && !failed_unless_gone("destroy", error))
		return false;
	if (virDomainIsPersistent(d) == 1 &&
	    virDomainUndefineFlags(d, VIR_DOMAIN_UNDEFINE_MANAGED_SAVE |
	                                  VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA |
	                                  VIR_DOMAIN_UNDEFINE_NVRAM) < 0 &&
	    !failed_unless_gone("undefine", error))
		return false;
	virResetLastError();
	return true;
}

/**
 * vs_reconcile_migrate: see ops.h.
 */
bool vs_reconcile_migrate(vs_ops_ctx *w, const vs_journal_op *op, const char **result,
                          GError **error)
{
	virDomainPtr src = NULL, dst = NULL;
	int ss = tagged_state(w, op->uri, op->name, &src, error);
	int ds = ss == -2 ? -2 : tagged_state(w, op->dest_uri, op->name, &dst, error);
	bool ok = true;

	if (ss == -2 || ds == -2)
		ok = false; /* a host does not answer: try again later */
	else if (ds == VIR_DOMAIN_RUNNING) {
		/* it moved: the source's copy (paused at the end, or defined)
		 * goes; the new address serves */
		ok = !src || remove_copy(src, error);
		if (ok && op->dest_address && g_strcmp0(op->dest_address, op->address) != 0) {
			ok = vs_lb_add(w->lb, op->dest_address, true, error);
			if (ok && op->address)
				vs_lb_remove(w->lb, op->address, NULL);
		} else if (ok && op->dest_address) {
			vs_lb_enable(w->lb, op->dest_address, NULL);
		}
		*result = "finished";
	} else {
		/* it did not move: the destination's half-made copy goes */
		ok = !dst || remove_copy(dst, error);
		if (ok && ss == VIR_DOMAIN_PAUSED && virDomainResume(src) < 0)
			virResetLastError();
		if (ok && op->address)
			vs_lb_enable(w->lb, op->address, NULL);
		if (ss < 0 || ss == VIR_DOMAIN_SHUTOFF)
			vs_warning("pool %s: reconcile: %s runs on neither %s nor %s",
			           w->pool->name, op->name, vs_config_host_name(w->cfg, op->uri),
			           vs_config_host_name(w->cfg, op->dest_uri));
		*result = "rolled-back";
	}
	if (src)
		virDomainFree(src);
	if (dst)
		virDomainFree(dst);
	return ok && vs_journal_end(w->journal, op->id, *result, error);
}
