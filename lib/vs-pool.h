/*
 * vs-pool.h - pools: which domains are a pool's members, where each one
 * serves (its backend), and the pool's aggregates. Pure: works on a
 * snapshot and session counts, no I/O.
 */
#ifndef VS_POOL_H
#define VS_POOL_H

#include "vs-config.h"
#include "vs-domain.h"
#include "vs-sessions.h"

typedef enum {
	VS_LB_STATE_UNKNOWN,
	VS_LB_STATE_ENABLED,
	VS_LB_STATE_DRAINING,
	VS_LB_STATE_DISABLED,
} vs_lb_state;

typedef struct vs_backend {
	const vs_domain_stats *domain; /* borrowed from the snapshot */
	unsigned index;                /* the N of name_pattern, or 0 */
	bool running;
	bool have_endpoint;
	vs_endpoint endpoint; /* where the load balancer sends traffic */
	bool have_sessions;
	unsigned sessions;
	double ratio;       /* sessions / session_capacity, 0..n */
	double cpu_percent; /* of the domain's vCPUs, <0 unknown */
	vs_lb_state lb_state;
} vs_backend;

typedef struct vs_pool_view {
	const vs_pool_config *cfg;
	vs_backend *backends; /* members, sorted by index */
	size_t n_backends;
	unsigned n_running;
	double avg_cpu;              /* over running members with a CPU figure, <0 none */
	double avg_sessions;         /* over running members, <0 none */
	double min_ratio, max_ratio; /* over running members with sessions, <0 none */
	unsigned total_sessions;
} vs_pool_view;

/* Is @name a member name of @pool (name_pattern), and which index? */
bool vs_pool_match_name(const vs_pool_config *pool, const char *name, unsigned *index);
/* The member name for @index (name_pattern), newly allocated. */
char *vs_pool_member_name(const vs_pool_config *pool, unsigned index);

/*
 * vs_pool_view_build: members of @pool in @snap (by metadata tag, or by
 * name_pattern when untagged; never the template), with their endpoints
 * (metadata address, else none). Sessions and LB state are filled in by
 * vs_pool_view_set_sessions() and the caller.
 */
vs_pool_view *vs_pool_view_build(const vs_pool_config *pool, const vs_snapshot *snap);
void vs_pool_view_set_sessions(vs_pool_view *v, size_t i, unsigned sessions);
/* Recomputes the aggregates after the per-backend fields changed. */
void vs_pool_view_aggregate(vs_pool_view *v);
void vs_pool_view_free(vs_pool_view *v);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vs_pool_view, vs_pool_view_free)

/*
 * vs_pool_collect_sessions: fills every member's sessions from the pool's
 * configured source (sockdiag, apache balancer-manager, http:URL). Does I/O:
 * call from a collector/worker thread only.
 */
bool vs_pool_collect_sessions(const vs_config *cfg, vs_pool_view *v, GError **error);

const char *vs_lb_state_name(vs_lb_state s);

#endif
