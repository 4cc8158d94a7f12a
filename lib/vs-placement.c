/*
 * vs-placement.c - which host gets a new instance and which gives one up;
 * see vs-placement.h for the rules.
 */
#include "config.h"

#include "vs-placement.h"

#include <glib.h>

/* Scores closer than this are a tie (broken by the host order). */
#define SCORE_EPSILON 1e-9

static bool has_room(const vs_pool_config *pool, const vs_placement_host *h)
{
	return h->answers && (!pool->host_max || h->running < pool->host_max);
}

static double known(double x)
{
	return x < 0 ? 0 : MIN(x, 1.0);
}

/* Fills the weighted score of every candidate. */
static void score_hosts(const vs_pool_config *pool, vs_placement_host *hosts, size_t n)
{
	double rtt_min = -1;

	for (size_t i = 0; i < n; i++) {
		if (has_room(pool, &hosts[i]) && hosts[i].rtt_ms > 0 &&
		    (rtt_min < 0 || hosts[i].rtt_ms < rtt_min))
			rtt_min = hosts[i].rtt_ms;
	}
	for (size_t i = 0; i < n; i++) {
		vs_placement_host *h = &hosts[i];
		double rtt = h->rtt_ms > 0 && rtt_min > 0 ? rtt_min / h->rtt_ms : 0;

		h->score = pool->placement_cpu_weight * known(h->cpu_idle) +
		           pool->placement_memory_weight * known(h->mem_free) +
		           pool->placement_rtt_weight * rtt;
	}
}

/**
 * vs_placement_pick: see vs-placement.h.
 */
int vs_placement_pick(const vs_pool_config *pool, vs_placement_host *hosts, size_t n)
{
	int best = -1;
	bool best_short = false;

	score_hosts(pool, hosts, n);
	for (size_t i = 0; i < n; i++) {
		const vs_placement_host *h = &hosts[i];
		const vs_placement_host *b = best >= 0 ? &hosts[best] : NULL;
		bool is_short = h->running < pool->host_min;

		if (!has_room(pool, h))
			continue;
		if (b && best_short != is_short) {
			if (is_short) /* a host below host_min comes first */
				best = (int)i, best_short = true;
			continue;
		}
		if (!b)
			best = (int)i, best_short = is_short;
		else if (pool->placement == VS_PLACEMENT_WEIGHTED && !is_short
		             ? h->score > b->score + SCORE_EPSILON
		             : h->running < b->running)
			best = (int)i;
	}
	return best;
}

/**
 * vs_placement_scale_in_host: see vs-placement.h.
 */
int vs_placement_scale_in_host(const vs_pool_config *pool, const vs_placement_host *hosts, size_t n)
{
	int best = -1;

	for (size_t i = 0; i < n; i++) {
		const vs_placement_host *h = &hosts[i];
		const vs_placement_host *b = best >= 0 ? &hosts[best] : NULL;

		if (h->running == 0 || h->running <= pool->host_min)
			continue;
		if (!b || h->running > b->running ||
		    (h->running == b->running && h->sessions < b->sessions))
			best = (int)i;
	}
	return best;
}

/**
 * vs_host_lost: see vs-placement.h.
 */
bool vs_host_lost(int64_t down_since_us, int64_t now_us, unsigned grace_s)
{
	return down_since_us > 0 && now_us - down_since_us >= (int64_t)grace_s * G_USEC_PER_SEC;
}
