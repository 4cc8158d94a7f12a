/*
 * reconcile-adopt.c - which interrupted operations reconcile must not undo.
 * The journal says what may be half-made, libvirt and the balancer say
 * what is: a clone whose final record is missing (a crash, or a full disk,
 * right after it joined the balancer) but that runs, is a member by the
 * pool's rules and is in the balancer serving, is adopted - destroying it
 * would cut its sessions. A scale-in that never took its member out of the
 * balancer is given up, not finished: nothing of it happened.
 */
#include "config.h"

#include "ops.h"
#include "vs-log.h"

#include <libvirt/virterror.h>

/* Is @address listed by the pool's balancer in @want state? */
static bool lb_has(vs_ops_ctx *w, const char *address, vs_lb_state want)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(GArray) have = vs_lb_list(w->lb, &err);

	if (!have) {
		vs_warning("pool %s: reconcile: cannot list the load balancer: %s", w->pool->name,
		           err ? err->message : "?");
		return false;
	}
	for (guint k = 0; k < have->len; k++) {
		const vs_lb_entry *e = &g_array_index(have, vs_lb_entry, k);

		if (vs_lb_same_address(e->address, address) && e->state == want)
			return true;
	}
	return false;
}

/* The journaled domain as it is now: a running member of this pool (our
 * tag, the pool's name rule, one of its hosts), with the address of its
 * tag. NULL when it is anything less, or unknown. */
static char *running_member_address(vs_ops_ctx *w, const vs_journal_op *op)
{
	vs_virt *host = vs_ops_host(w, op->uri);
	g_autoptr(virConnect) c = NULL;
	g_autoptr(virDomain) dom = NULL;
	g_autofree char *tag_pool = NULL, *tag_address = NULL;
	unsigned index;
	int state, reason;

	if (!host || !vs_pool_on_host(w->pool, op->uri))
		return NULL;
	c = vs_virt_get(host, NULL, NULL);
	dom = c ? virDomainLookupByName(c, op->name) : NULL;
	virResetLastError();
	if (!dom || !vs_domain_tag(dom, &tag_pool, &tag_address) ||
	    !vs_pool_is_member(w->pool, op->name, tag_pool, &index) || !tag_address ||
	    virDomainGetState(dom, &state, &reason, 0) != 0 || !vs_pool_member_running(state))
		return NULL;
	return g_steal_pointer(&tag_address);
}

/**
 * vs_reconcile_clone_serving: true when the clone of @op finished all but
 * its final record: a running member in the balancer, enabled. With
 * lb = none (whose membership does not outlive virtscaled) a recorded
 * probe stands for the balancer: it was the last step that could fail.
 */
bool vs_reconcile_clone_serving(vs_ops_ctx *w, const vs_journal_op *op)
{
	g_autofree char *address = running_member_address(w, op);

	if (!address)
		return false;
	if (w->pool->lb == VS_LB_NONE)
		return g_strcmp0(op->step, "probed") == 0;
	return lb_has(w, address, VS_LB_STATE_ENABLED);
}

/**
 * vs_reconcile_scale_in_untouched: true when the member of scale-in @op
 * still runs and is enabled in the balancer (or, with lb = none, the
 * scale-in never began its drain): giving it up loses nothing.
 */
bool vs_reconcile_scale_in_untouched(vs_ops_ctx *w, const vs_journal_op *op)
{
	g_autofree char *address = running_member_address(w, op);

	if (!address)
		return false;
	if (w->pool->lb == VS_LB_NONE)
		return g_strcmp0(op->step, "begin") == 0;
	return lb_has(w, address, VS_LB_STATE_ENABLED);
}
