/*
 * vs-rebalance.h - automatic rebalancing of a pool between its hosts
 * (rebalance = on | dry-run): when a host's guests keep its CPUs busy
 * above host_cpu_high (M of N samples, the pool's debounce, as the Xen
 * elastic-cloud paper) and another host of the pool stays below
 * host_cpu_low, one instance moves from the hottest such host to the
 * best-placed cool one (vs_placement_pick: the weighted score, or the
 * fewest instances). The instance is the one whose move leaves the two
 * hosts' loads closest; a move that would not bring them closer is not
 * made: a member of c percent moves from load ls to ld only when
 * c < ls - ld, exactly when the sum of the squared loads falls, so moves
 * cannot cycle (no ping-pong) while the load lasts. A host with a
 * migration under way is neither source nor destination; after a move
 * (or a dry-run report) nothing more for rebalance_cooldown seconds and
 * the windows start empty (samples taken while the load moved do not
 * count).
 *
 * Loads are percent of the host's CPUs its guests used between two
 * samples (host-health.h), a member's its share of the same.
 *
 * Pure: no I/O, no clock (times are passed in).
 */
#ifndef VS_REBALANCE_H
#define VS_REBALANCE_H

#include "vs-placement.h"
#include "vs-policy.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A running member of the pool, as rebalancing sees it. */
typedef struct vs_rebalance_member {
	const char *name;
	size_t host; /* index into the hosts */
	double cpu;  /* percent of its host's CPUs it used, <0 unknown */
} vs_rebalance_member;

typedef struct vs_rebalance_state {
	size_t n;
	vs_debounce *hot, *cool; /* per host */
	bool *is_hot, *is_cool;  /* their verdicts at the last sample */
	int64_t quiet_until_us;  /* cooldown after a move (monotonic) */
} vs_rebalance_state;

/* What to move (indices into the members and hosts) and the loads. */
typedef struct vs_rebalance_move {
	int member, from, to;
	double from_load, to_load;   /* percent busy now */
	double from_after, to_after; /* expected after the move */
} vs_rebalance_move;

vs_rebalance_state *vs_rebalance_state_new(const vs_pool_config *p, size_t n_hosts);
void vs_rebalance_state_free(vs_rebalance_state *st);

/* Percent of its CPUs a host's guests keep busy, <0 unknown (a host that
 * does not answer or has no figure yet). */
double vs_rebalance_host_load(const vs_placement_host *h);

/* One sample of every host (@hosts, in the pool's host order) into the
 * windows; an unknown load counts as neither hot nor cool. */
void vs_rebalance_push(const vs_pool_config *p, vs_rebalance_state *st,
                       const vs_placement_host *hosts);

/*
 * The move to make now, if any: true with @out filled. @migrating (may be
 * NULL) marks hosts with a migration under way; @hosts' scores are filled
 * (vs_placement_pick) for the candidates.
 */
bool vs_rebalance_decide(const vs_pool_config *p, const vs_rebalance_state *st,
                         vs_placement_host *hosts, const bool *migrating,
                         const vs_rebalance_member *members, size_t n_members, int64_t now_us,
                         vs_rebalance_move *out);

/* Forgets every sample: loads measured while a guest moves between the
 * hosts count for neither. */
void vs_rebalance_forget(vs_rebalance_state *st);

/* A move was made (or reported, in dry-run) at @now_us: cooldown, and the
 * windows start again. */
void vs_rebalance_moved(const vs_pool_config *p, vs_rebalance_state *st, int64_t now_us);

#endif
