/*
 * vs-rebalance.c - which instance moves to which host when a pool's hosts
 * are unevenly loaded; see vs-rebalance.h.
 */
#include "config.h"

#include "vs-rebalance.h"

#include <glib.h>
#include <math.h>

/** vs_rebalance_state_new: empty windows for @n_hosts hosts. */
vs_rebalance_state *vs_rebalance_state_new(const vs_pool_config *p, size_t n_hosts)
{
	vs_rebalance_state *st = g_new0(vs_rebalance_state, 1);

	st->n = n_hosts;
	st->hot = g_new0(vs_debounce, MAX(n_hosts, 1));
	st->cool = g_new0(vs_debounce, MAX(n_hosts, 1));
	st->is_hot = g_new0(bool, MAX(n_hosts, 1));
	st->is_cool = g_new0(bool, MAX(n_hosts, 1));
	for (size_t i = 0; i < n_hosts; i++) {
		vs_debounce_init(&st->hot[i], p->debounce_m, p->debounce_n);
		vs_debounce_init(&st->cool[i], p->debounce_m, p->debounce_n);
	}
	return st;
}

/** vs_rebalance_state_free: frees @st (NULL is fine). */
void vs_rebalance_state_free(vs_rebalance_state *st)
{
	if (!st)
		return;
	g_free(st->hot);
	g_free(st->cool);
	g_free(st->is_hot);
	g_free(st->is_cool);
	g_free(st);
}

/** vs_rebalance_host_load: see vs-rebalance.h. */
double vs_rebalance_host_load(const vs_placement_host *h)
{
	if (!h->answers || h->cpu_idle < 0)
		return -1;
	return MIN(100.0, MAX(0.0, (1.0 - h->cpu_idle) * 100.0));
}

/** vs_rebalance_push: see vs-rebalance.h. */
void vs_rebalance_push(const vs_pool_config *p, vs_rebalance_state *st,
                       const vs_placement_host *hosts)
{
	for (size_t i = 0; i < st->n; i++) {
		double load = vs_rebalance_host_load(&hosts[i]);

		st->is_hot[i] = vs_debounce_push(&st->hot[i], load >= 0 && load > p->host_cpu_high);
		st->is_cool[i] =
		    vs_debounce_push(&st->cool[i], load >= 0 && load < p->host_cpu_low);
	}
}

/* The hottest host that stays hot and is free to give an instance. */
static int pick_source(const vs_rebalance_state *st, const vs_placement_host *hosts,
                       const bool *migrating)
{
	int best = -1;

	for (size_t i = 0; i < st->n; i++) {
		double load = vs_rebalance_host_load(&hosts[i]);

		if (!st->is_hot[i] || load < 0 || (migrating && migrating[i]))
			continue;
		if (best < 0 || load > vs_rebalance_host_load(&hosts[best]))
			best = (int)i;
	}
	return best;
}

/* The cool host placement would choose, other than @from; -1 none. */
static int pick_destination(const vs_pool_config *p, const vs_rebalance_state *st,
                            vs_placement_host *hosts, const bool *migrating, int from)
{
	g_autofree vs_placement_host *cand = g_new0(vs_placement_host, st->n);
	g_autofree size_t *index = g_new0(size_t, st->n);
	size_t n = 0;
	int pick;

	for (size_t i = 0; i < st->n; i++) {
		if ((int)i == from || !st->is_cool[i] || vs_rebalance_host_load(&hosts[i]) < 0 ||
		    (migrating && migrating[i]))
			continue;
		cand[n] = hosts[i];
		index[n++] = i;
	}
	if (!n)
		return -1;
	pick = vs_placement_pick(p, cand, n);
	for (size_t i = 0; i < n; i++)
		hosts[index[i]].score = cand[i].score;
	return pick < 0 ? -1 : (int)index[pick];
}

/** vs_rebalance_decide: see vs-rebalance.h. */
bool vs_rebalance_decide(const vs_pool_config *p, const vs_rebalance_state *st,
                         vs_placement_host *hosts, const bool *migrating,
                         const vs_rebalance_member *members, size_t n_members, int64_t now_us,
                         vs_rebalance_move *out)
{
	int from, to, best = -1;
	double ls, ld, gap, best_gap = 0;

	if (p->rebalance == VS_REBALANCE_OFF || st->n < 2 || now_us < st->quiet_until_us)
		return false;
	from = pick_source(st, hosts, migrating);
	to = from < 0 ? -1 : pick_destination(p, st, hosts, migrating, from);
	if (to < 0)
		return false;
	ls = vs_rebalance_host_load(&hosts[from]);
	ld = vs_rebalance_host_load(&hosts[to]);
	gap = fabs(ls - ld);
	for (size_t i = 0; i < n_members; i++) {
		const vs_rebalance_member *m = &members[i];
		double after;

		if ((int)m->host != from || m->cpu < 0)
			continue;
		/* only a move that brings the two closer: each one then lowers
		 * the sum of the squared loads, so no sequence of moves can
		 * come back to where it started (no ping-pong) */
		after = fabs((ls - m->cpu) - (ld + m->cpu));
		if (after >= gap)
			continue;
		if (best < 0 || after < best_gap) {
			best = (int)i;
			best_gap = after;
		}
	}
	if (best < 0)
		return false;
	out->member = best;
	out->from = from;
	out->to = to;
	out->from_load = ls;
	out->to_load = ld;
	out->from_after = ls - members[best].cpu;
	out->to_after = ld + members[best].cpu;
	return true;
}

/** vs_rebalance_moved: see vs-rebalance.h. */
void vs_rebalance_moved(const vs_pool_config *p, vs_rebalance_state *st, int64_t now_us)
{
	st->quiet_until_us = now_us + (int64_t)p->rebalance_cooldown * G_USEC_PER_SEC;
	vs_rebalance_forget(st);
}

/** vs_rebalance_forget: see vs-rebalance.h. */
void vs_rebalance_forget(vs_rebalance_state *st)
{
	for (size_t i = 0; i < st->n; i++) {
		vs_debounce_reset(&st->hot[i]);
		vs_debounce_reset(&st->cool[i]);
		st->is_hot[i] = st->is_cool[i] = false;
	}
}
