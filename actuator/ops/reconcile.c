/*
 * reconcile.c - after a crash (or a failed rollback) the journal says what
 * may be half-made: a clone that did not finish is rolled back (destroy,
 * undefine, delete its volumes), a scale-in that did not finish is
 * finished. Only domains carrying our tag are ever touched. Then the load
 * balancer's membership is re-synced with the running members, and with
 * weights = ratio each member's weight follows its load. Only the balancer
 * members virtscale added are touched: the driver says which are ours
 * (vs_lb_entry.ours), and an address a pool member's tag names is ours too
 * (a worker added before it was marked); the operator's static members
 * are left as they are.
 */
#include "config.h"

#include "ops.h"
#include "vs-log.h"

#include <libvirt/virterror.h>

/**
 * vs_destroy_instance: destroys and (with @undefine) undefines the domain
 * @name if it carries our tag, then deletes the listed volumes. A domain of
 * that name without our tag is left alone, and so are the volumes (they may
 * be its disks). True when nothing of it is left.
 */
bool vs_destroy_instance(vs_ops_ctx *w, const char *uri, const char *name, const char *vol_pool,
                         char **vols, bool undefine, GError **error)
{
	vs_virt *host = vs_ops_host(w, uri);
	if (!host) {
		g_set_error(error, VS_ACT_ERROR, VS_ACT_ERROR_NOT_FOUND,
		            "%s: host %s is no longer configured", name, uri);
		return false;
	}
	virConnectPtr c = vs_virt_get(host, NULL, error);
	if (!c)
		return false;
	bool ok = true;
	virDomainPtr dom = name ? virDomainLookupByName(c, name) : NULL;
	if (dom) {
		g_autofree char *tp = NULL, *ta = NULL;
		if (!vs_domain_tag(dom, &tp, &ta)) {
			vs_warning("%s exists but is not ours: left alone", name);
			virDomainFree(dom);
			virConnectClose(c);
			return true;
		}
		int state, reason;
		if (virDomainGetState(dom, &state, &reason, 0) == 0 &&
		    state != VIR_DOMAIN_SHUTOFF && virDomainDestroy(dom) < 0) {
			vs_virt_set_error(error, "destroy");
			ok = false;
		}
		if (ok && undefine &&
		    virDomainUndefineFlags(dom, VIR_DOMAIN_UNDEFINE_MANAGED_SAVE |
		                                    VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA |
		                                    VIR_DOMAIN_UNDEFINE_NVRAM) < 0) {
			vs_virt_set_error(error, "undefine");
			ok = false;
		}
		virDomainFree(dom);
	} else {
		virErrorPtr e = virGetLastError();
		if (e && e->code != VIR_ERR_NO_DOMAIN) {
			vs_virt_set_error(error, "lookup");
			ok = false;
		}
		virResetLastError();
	}
	if (ok && undefine && vols && vol_pool) {
		virStoragePoolPtr sp = virStoragePoolLookupByName(c, vol_pool);
		if (sp) {
			virStoragePoolRefresh(sp, 0);
			for (char **v = vols; *v; v++) {
				virStorageVolPtr vol = virStorageVolLookupByName(sp, *v);
				if (vol && virStorageVolDelete(vol, 0) < 0) {
					vs_virt_set_error(error, "delete volume");
					ok = false;
				}
				if (vol)
					virStorageVolFree(vol);
			}
			virStoragePoolFree(sp);
		}
		virResetLastError();
	}
	virConnectClose(c);
	if (!ok)
		vs_virt_reset(host);
	return ok;
}

/**
 * vs_reconcile_pool: settles the journaled operations of this pool; returns
 * how many were settled, @adopted of them clones kept because they serve
 * (reconcile-adopt.c). Those that cannot be settled now (libvirt down)
 * stay in the journal for the next try.
 */
unsigned vs_reconcile_pool(vs_ops_ctx *w, unsigned *adopted, GError **error)
{
	g_autoptr(GPtrArray) ops = vs_journal_settleable(w->journal, w->pool->name);
	unsigned done = 0;
	*adopted = 0;
	for (guint i = 0; i < ops->len; i++) {
		vs_journal_op *op = ops->pdata[i];
		g_autoptr(GError) err = NULL;
		if (g_strcmp0(op->op, "migrate") == 0) {
			const char *result = NULL;

			if (vs_reconcile_migrate(w, op, &result, &err)) {
				vs_notice("pool %s: reconcile: migrate of %s (reached '%s') %s",
				          w->pool->name, op->name, op->step, result);
				done++;
			} else {
				vs_warning("pool %s: reconcile of migrate %s failed: %s",
				           w->pool->name, op->name, err ? err->message : "?");
			}
			continue;
		}
		if (g_strcmp0(op->op, "vertical") == 0) {
			/* a live vCPU or balloon change: done or not, libvirt's count
			 * is the member's now; nothing to undo, nothing to remove */
			if (vs_journal_end(w->journal, op->id, "finished", &err)) {
				vs_notice("pool %s: reconcile: vertical step of %s closed as it is",
				          w->pool->name, op->name);
				done++;
			} else {
				vs_warning("pool %s: reconcile: %s", w->pool->name, err->message);
			}
			continue;
		}
		/* an interrupted resume of a warm instance is settled like a
		 * clone: kept when it serves, else removed; a warm instance's
		 * removal is finished */
		bool is_clone = g_strcmp0(op->op, "clone") == 0 || g_strcmp0(op->op, "resume") == 0;
		bool is_warm_remove = g_strcmp0(op->op, "warm-remove") == 0;
		const char *kept =
		    is_clone ? (vs_reconcile_clone_serving(w, op) ? "adopted" : NULL)
		             : (vs_reconcile_scale_in_untouched(w, op) ? "given up" : NULL);
		if (kept) {
			if (!vs_journal_end(w->journal, op->id,
			                    is_clone ? "adopted" : "rolled-back", &err)) {
				vs_warning("pool %s: reconcile: %s", w->pool->name, err->message);
				if (error && !*error)
					*error = g_steal_pointer(&err);
				continue;
			}
			vs_notice(
			    "pool %s: reconcile: %s of %s (reached '%s') %s: it runs and serves",
			    w->pool->name, op->op, op->name, op->step, kept);
			*adopted += is_clone;
			done++;
			continue;
		}
		if (op->address)
			vs_lb_remove(w->lb, op->address, NULL);
		bool undefine = is_clone || is_warm_remove || !w->pool->keep_stopped;
		if (vs_destroy_instance(w, op->uri, op->name, op->vol_pool, op->vols, undefine,
		                        &err) &&
		    vs_journal_end(w->journal, op->id, is_clone ? "rolled-back" : "finished",
		                   &err)) {
			vs_notice("pool %s: reconcile: %s of %s (reached '%s') %s", w->pool->name,
			          op->op, op->name, op->step,
			          is_clone ? "rolled back" : "finished");
			done++;
		} else {
			vs_warning("pool %s: reconcile of %s %s failed: %s", w->pool->name, op->op,
			           op->name, err ? err->message : "?");
			if (error && !*error)
				*error = g_steal_pointer(&err);
		}
	}
	return done;
}

/* Each member's state in the balancer, from its list (address match). */
static void set_lb_states(vs_pool_view *v, const GArray *have)
{
	for (guint i = 0; i < v->members->len; i++) {
		vs_member *m = v->members->pdata[i];

		m->lb_state = VS_LB_STATE_UNKNOWN;
		for (guint k = 0; m->address && k < have->len; k++) {
			const vs_lb_entry *e = &g_array_index(have, vs_lb_entry, k);

			if (vs_lb_same_address(e->address, m->address))
				m->lb_state = e->state;
		}
	}
}

/* weights = ratio: each running member's weight from its load (Luban). */
static void apply_weights(vs_ops_ctx *w, const vs_pool_view *v, const GArray *have)
{
	for (guint i = 0; i < v->members->len; i++) {
		const vs_member *m = v->members->pdata[i];
		unsigned weight = vs_policy_lb_weight(m->ratio);
		g_autoptr(GError) err = NULL;

		if (!m->running || !m->address || m->sessions < 0)
			continue;
		for (guint k = 0; k < have->len; k++) {
			const vs_lb_entry *e = &g_array_index(have, vs_lb_entry, k);

			/* a balancer lists its default weight as 0: it is 1 */
			if (!vs_lb_same_address(e->address, m->address) ||
			    (e->weight ? e->weight : 1) == weight)
				continue;
			if (vs_lb_set_weight(w->lb, m->address, weight, &err))
				vs_info("pool %s: %s weight %u (%d sessions)", w->pool->name,
				        m->name, weight, m->sessions);
			else
				vs_warning("pool %s: weight of %s: %s", w->pool->name, m->name,
				           err->message);
		}
	}
}

/* True when @address is the address of one of the pool's members. */
static bool member_address(const vs_pool_view *v, const char *address)
{
	for (guint i = 0; i < v->members->len; i++) {
		const vs_member *m = v->members->pdata[i];

		if (m->address && vs_lb_same_address(m->address, address))
			return true;
	}
	return false;
}

/**
 * vs_reconcile_lb: makes the balancer's membership match the running
 * members: adds the missing, removes those that are not running members;
 * with weights = ratio sets each member's weight from its load; then reads
 * every member's balancer state into @v.
 */
void vs_reconcile_lb(vs_ops_ctx *w, vs_pool_view *v)
{
	g_autoptr(GHashTable) want = g_hash_table_new(g_str_hash, g_str_equal);
	for (guint i = 0; i < v->members->len; i++) {
		const vs_member *m = v->members->pdata[i];
		if (m->address && m->running)
			g_hash_table_add(want, m->address);
	}
	g_autoptr(GError) err = NULL;
	g_autoptr(GArray) have = vs_lb_list(w->lb, &err);
	if (!have) {
		vs_warning("pool %s: cannot list the load balancer: %s", w->pool->name,
		           err ? err->message : "?");
		return;
	}
	g_autoptr(GHashTable) present = g_hash_table_new(g_str_hash, g_str_equal);
	for (guint i = 0; i < have->len; i++) {
		vs_lb_entry *lm = &g_array_index(have, vs_lb_entry, i);
		if (g_hash_table_contains(want, lm->address)) {
			g_hash_table_add(present, lm->address);
			/* add marks a running member's worker as ours if it is not */
			if (!lm->ours)
				vs_lb_add(w->lb, lm->address, true, NULL);
			else if (lm->state != VS_LB_STATE_ENABLED)
				vs_lb_enable(w->lb, lm->address, NULL);
		} else if (!lm->ours && !member_address(v, lm->address)) {
			continue; /* the operator's: never touched */
		} else if (lm->state != VS_LB_STATE_DISABLED) {
			vs_notice("pool %s: reconcile: removing %s from the load balancer",
			          w->pool->name, lm->address);
			vs_lb_remove(w->lb, lm->address, NULL);
		}
	}
	GHashTableIter it;
	gpointer k;
	g_hash_table_iter_init(&it, want);
	while (g_hash_table_iter_next(&it, &k, NULL))
		if (!g_hash_table_contains(present, k)) {
			g_autoptr(GError) aerr = NULL;
			if (!vs_lb_add(w->lb, k, true, &aerr))
				vs_warning("pool %s: reconcile: add %s: %s", w->pool->name,
				           (char *)k, aerr->message);
		}
	if (!vs_lb_refresh(w->lb, &err))
		vs_warning("pool %s: reconcile: load balancer settings: %s", w->pool->name,
		           err ? err->message : "?");
	g_clear_pointer(&have, g_array_unref);
	g_clear_error(&err);
	have = vs_lb_list(w->lb, &err);
	if (!have)
		return;
	if (w->pool->weights == VS_WEIGHTS_RATIO)
		apply_weights(w, v, have);
	set_lb_states(v, have);
}

/**
 * vs_reconcile_read_lb: every member's state in the balancer, read into @v
 * (unknown when the balancer cannot be listed).
 */
void vs_reconcile_read_lb(vs_ops_ctx *w, vs_pool_view *v)
{
	g_autoptr(GArray) have = vs_lb_list(w->lb, NULL);

	if (have)
		set_lb_states(v, have);
}
