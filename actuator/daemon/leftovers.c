/*
 * leftovers.c - journaled operations no pool of the configuration can
 * settle: their pool, or their hypervisor, left the configuration while
 * they were open. Nothing here may act on them (the pool's rules are gone,
 * or the host cannot be reached under this configuration), and kept open
 * they would pin the journal forever. At start-up each is reported once,
 * in an alert naming the domain left behind, and dropped from the journal.
 */
#include "config.h"

#include "leftovers.h"
#include "vs-log.h"
#include "vs-pool.h"

/* Why @op cannot be settled under @cfg; NULL when its pool can settle it. */
static char *unsettleable(const vs_config *cfg, const vs_journal_op *op)
{
	const vs_pool_config *pool = vs_config_find_pool(cfg, op->pool);

	if (!pool)
		return g_strdup_printf("pool %s is no longer configured", op->pool);
	if (!op->uri || !g_strv_contains((const char *const *)cfg->hosts, op->uri) ||
	    !vs_pool_on_host(pool, op->uri))
		return g_strdup_printf("host %s is no longer configured for pool %s",
		                       op->uri ? op->uri : "-", op->pool);
	/* a migration's destination too: it may hold the guest */
	if (op->dest_uri && (!g_strv_contains((const char *const *)cfg->hosts, op->dest_uri) ||
	                     !vs_pool_on_host(pool, op->dest_uri)))
		return g_strdup_printf("host %s is no longer configured for pool %s", op->dest_uri,
		                       op->pool);
	return NULL;
}

/**
 * vs_leftovers_drop: see leftovers.h. Returns how many were dropped.
 */
unsigned vs_leftovers_drop(vs_act *act, vs_journal *j, const vs_config *cfg)
{
	g_autoptr(GPtrArray) ops = vs_journal_pending(j, NULL);
	unsigned dropped = 0;

	for (guint i = 0; i < ops->len; i++) {
		const vs_journal_op *op = ops->pdata[i];
		g_autofree char *why = unsettleable(cfg, op);
		g_autofree char *vols = NULL, *summary = NULL;
		g_autoptr(GError) err = NULL;

		if (!why)
			continue;
		vols = op->vols && op->vols[0] ? g_strjoinv(", ", op->vols) : g_strdup("none");
		summary = g_strdup_printf(
		    "unfinished %s of domain %s on %s (pool %s) dropped from the journal: %s; "
		    "check the domain and its volumes (%s in storage pool %s) by hand",
		    op->op ? op->op : "operation", op->name, op->uri ? op->uri : "-", op->pool, why,
		    vols, op->vol_pool ? op->vol_pool : "-");
		vs_warning("journal: %s", summary);
		vs_act_alert(act, VS_ALERT_RECONCILED, op->pool, op->step, why, summary);
		if (vs_journal_end(j, op->id, "dropped", &err))
			dropped++;
		else
			vs_warning("journal: %s", err->message);
	}
	return dropped;
}
