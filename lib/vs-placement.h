/*
 * vs-placement.h - where a pool's instances go and which host gives one
 * up: the rules of a pool that spans several hypervisors, shared by the
 * actuator (which acts on them) and the monitors (which show them).
 *
 * Placement (placement = fewest | weighted, host_max, host_min): among the
 * pool's hosts that answer and are below host_max, a host below host_min
 * first; then "fewest" (the Luban paper): the fewest running instances of
 * the pool; "weighted" (the Xen elastic-cloud paper): the best score of
 * measured CPU idle, free memory and round-trip time. Ties go to the host
 * listed first in the pool's hosts.
 *
 * Scale-in: the host with the most running instances that is above
 * host_min, ties to the one with the fewest sessions, then the host order.
 *
 * A host that has not answered for host_grace seconds is lost: its
 * instances no longer count (vs_host_lost).
 *
 * Pure: no I/O, no clock (times are passed in).
 */
#ifndef VS_PLACEMENT_H
#define VS_PLACEMENT_H

#include "vs-config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One of the pool's hosts, as placement sees it. */
typedef struct vs_placement_host {
	const char *uri;
	bool answers;      /* reachable now (a lost or unreachable host is skipped) */
	unsigned running;  /* running instances of the pool on it */
	unsigned sessions; /* their sessions together (scale-in ties) */
	double cpu_idle;   /* 0..1 over the last seconds, <0 unknown */
	double mem_free;   /* free memory, 0..1 of the host's, <0 unknown */
	double rtt_ms;     /* round-trip time of a libvirt call, <0 unknown */
	double score;      /* out: the weighted score (placement = weighted) */
} vs_placement_host;

/*
 * The host for the next instance of @pool: an index into @hosts (which are
 * in the pool's tie order), or -1 when none answers with room below
 * host_max. Fills each candidate's score (weighted) for logs and status;
 * unknown figures score 0.
 */
int vs_placement_pick(const vs_pool_config *pool, vs_placement_host *hosts, size_t n);

/*
 * The host a scale-in takes an instance from: an index into @hosts, or -1
 * when every host is at host_min (or runs nothing).
 */
int vs_placement_scale_in_host(const vs_pool_config *pool, const vs_placement_host *hosts,
                               size_t n);

/*
 * Is a host that stopped answering at @down_since_us (monotonic, 0 = it
 * answers) lost at @now_us, with the grace of @grace_s seconds?
 */
bool vs_host_lost(int64_t down_since_us, int64_t now_us, unsigned grace_s);

#endif
