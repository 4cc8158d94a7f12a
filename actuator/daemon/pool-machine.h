/*
 * pool-machine.h - one pool's state machine, on the event loop:
 *
 *   idle --high--> scaling-out --done--> cooldown --cooldown over--> idle
 *   idle --low (stable)--> scaling-in --done--> cooldown
 *
 * What to start when is decide.c's; the jobs run in the pool's own worker
 * thread (ops/job.c), so at most one action per pool runs at a time, pools
 * are independent and the loop never waits.
 */
#ifndef VS_POOL_MACHINE_H
#define VS_POOL_MACHINE_H

#include "act.h"
#include "ops.h"
#include "vs-notify.h"
#include "vs-status.h"

typedef struct vs_pool_machine vs_pool_machine;

/* The machine of @cfg; @ctx (taken) is what its jobs work with. Its first
 * job is a sync: settle leftovers and read the members. */
vs_pool_machine *vs_pool_machine_new(vs_act *act, const vs_pool_config *cfg, vs_ops_ctx *ctx);
/* Starts no more jobs, waits for the running one and takes its result. */
void vs_pool_machine_stop(vs_pool_machine *m);
void vs_pool_machine_free(vs_pool_machine *m);
/* A notification about the pool (pool or threshold). */
void vs_pool_machine_notify(vs_pool_machine *m, const vs_notification *n);
/* A manual target; false with @error when outside min..max. */
bool vs_pool_machine_set_target(vs_pool_machine *m, unsigned target, GError **error);
/* Ends the manual target, if any (forgotten on disk too): the policy, or
 * the pool's min, steers the pool again from its current size. */
void vs_pool_machine_clear_target(vs_pool_machine *m);
/* A live migration of member @domain to the host @uri, started as soon as
 * the running job ends; false with @error when one is already asked for
 * or running (the member and host are checked by the job, against libvirt). */
bool vs_pool_machine_migrate(vs_pool_machine *m, const char *domain, const char *uri,
                             GError **error);
/* Called every second and after every event: starts the next job if due. */
void vs_pool_machine_tick(vs_pool_machine *m);
/* The pool's entry of status.json. */
vs_pool_status *vs_pool_machine_status(vs_pool_machine *m);

#endif
