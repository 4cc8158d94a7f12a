/*
 * pool-vertical.h - a pool machine's vertical part: each member's own
 * windows on its own load (lib/vs-vertical.h), fed by the actuator's
 * readings (vertical-watch.h); which member a vertical job changes and
 * how; the pool's last vertical step for status.json. The machine asks
 * decide-vertical.h when.
 *
 * Threads: event loop only.
 */
#ifndef VS_POOL_VERTICAL_H
#define VS_POOL_VERTICAL_H

#include "decide-vertical.h"
#include "ops.h"
#include "vs-status.h"

typedef struct vs_pool_vertical vs_pool_vertical;

/* The vertical part of @ctx's pool, NULL when it does not scale
 * vertically; @changed (on the loop) after every round of readings. */
vs_pool_vertical *vs_pool_vertical_new(const vs_ops_ctx *ctx, void (*changed)(void *opaque),
                                       void *opaque);
/* Stops reading (before the main context is drained). */
void vs_pool_vertical_stop(vs_pool_vertical *pv);
void vs_pool_vertical_free(vs_pool_vertical *pv);
/* The members a job listed: read from now on; the windows of those gone
 * are dropped. */
void vs_pool_vertical_set_members(vs_pool_vertical *pv, const vs_pool_view *v);
/* What the members' windows ask for now. */
vs_vertical_wants vs_pool_vertical_wants(const vs_pool_vertical *pv);
/* Fills @job (domain, step) for the member that grows (@direction +1: the
 * busiest that asks to) or shrinks (-1: the idlest); its window of that
 * resource starts again. False when none asks. */
bool vs_pool_vertical_take(vs_pool_vertical *pv, int direction, vs_job *job);
/* A vertical job started (@job) and ended (@r). */
void vs_pool_vertical_started(vs_pool_vertical *pv, const vs_job *job, vs_action action);
void vs_pool_vertical_ended(vs_pool_vertical *pv, const vs_job_result *r);
/* Its part of the pool's status: the steps done, the last one, and each
 * instance's newest vCPU and memory figures. */
void vs_pool_vertical_status(const vs_pool_vertical *pv, vs_pool_status *ps);

#endif
