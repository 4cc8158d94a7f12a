/*
 * ops.h - what the actuator does to libvirt and the load balancer: one
 * job at a time per pool, in that pool's worker thread (see
 * daemon/pool-machine.c for when). A job re-reads the real members from
 * libvirt first (a notification says what to aim for, never how many
 * instances exist), settles what an interrupted action left behind, acts,
 * and reads the members again. Every step that changes something is
 * journaled first.
 *
 * Threads: everything here may block (libvirt, HTTP, nginx -t, probes) and
 * runs in a pool worker, never on the event loop. libvirt connections and
 * the journal lock internally; the context is otherwise read-only.
 */
#ifndef VS_OPS_H
#define VS_OPS_H

#include "act-error.h"
#include "host-health.h"
#include "journal.h"
#include "lb.h"
#include "vs-config.h"
#include "vs-pool.h"
#include "vs-states.h"
#include "vs-virt.h"

#include <gio/gio.h>

/* The steps of an action, named in logs, status.json and alerts. */
typedef enum {
	VS_STEP_NONE,
	VS_STEP_LIST,     /* listing the members */
	VS_STEP_CONNECT,  /* reaching the hypervisor */
	VS_STEP_TEMPLATE, /* reading the template */
	VS_STEP_STORAGE,  /* finding the storage pool */
	VS_STEP_NAME,     /* choosing the clone's name */
	VS_STEP_ADDRESS,  /* the clone's backend address */
	VS_STEP_JOURNAL,  /* recording the action */
	VS_STEP_VOLUME,   /* creating the clone's volumes */
	VS_STEP_DEFINE,   /* defining the clone */
	VS_STEP_START,    /* starting it */
	VS_STEP_PROBE,    /* waiting until it answers */
	VS_STEP_LB_ADD,   /* adding it to the balancer */
	VS_STEP_CHOOSE,   /* choosing the member to stop */
	VS_STEP_LB_DRAIN, /* draining it */
	VS_STEP_SHUTDOWN, /* shutting it down */
	VS_STEP_LB_REMOVE,
	VS_STEP_UNDEFINE, /* removing it and its volumes */
	VS_STEP_VERTICAL, /* changing a member's vCPUs or memory */
	VS_STEP_PRECHECK, /* a precondition of the scale-out (precheck.h) */
	VS_STEP_MIGRATE,  /* libvirt's live migration itself */
	VS_STEP_WARM,     /* pausing or saving a warm instance */
} vs_op_step;

const char *vs_op_step_name(vs_op_step step);

/* Everything an operation needs: thread-safe or read-only. */
typedef struct vs_ops_ctx {
	const vs_config *cfg;
	const vs_pool_config *pool;
	vs_virt **hosts;         /* every configured hypervisor, config order */
	vs_host_health **health; /* parallel to hosts, shared by every pool */
	size_t n_hosts;
	vs_journal *journal;
	vs_lb *lb;          /* this pool's balancer: its worker only */
	GMutex *alloc_lock; /* held while choosing a name and port and defining */
	GCancellable *stop; /* cancelled when virtscaled stops: waits end early */
	/* told (from the worker) the member a scale-in is draining */
	void (*draining)(const char *member, void *opaque);
	/* told (from the worker) that a warm instance is being taken */
	void (*warm_taken)(void *opaque);
	void *opaque;
} vs_ops_ctx;

/* What an operation did, besides its GError. */
typedef struct vs_op_outcome {
	vs_action action;
	vs_op_step step; /* where it failed */
} vs_op_outcome;

/* ---- jobs (job.c) ---- */
typedef enum {
	VS_JOB_SYNC,      /* settle leftovers, re-read members, re-sync the balancer */
	VS_JOB_SCALE_OUT, /* up to target (or one vCPU first when vertical) */
	VS_JOB_SCALE_IN,  /* down to target (or one vCPU first when vertical) */
	VS_JOB_MIGRATE,   /* one member live to another host */
	VS_JOB_VERTICAL,  /* one member one vCPU or balloon step bigger or smaller */
	VS_JOB_WARM,      /* the warm pool's upkeep: stale ones replaced, one more made */
} vs_job_kind;

/* What a vertical step did to its member. */
typedef struct vs_vertical_done {
	double mem_percent; /* in: the member's memory use when it asked, <0 unknown */
	bool changed;       /* the member was changed */
	unsigned vcpus;     /* its vCPUs afterwards */
	uint64_t mem_kib;   /* its balloon afterwards */
} vs_vertical_done;

/* What libvirt measured of one migration (0: unknown). */
typedef struct vs_migration_stats {
	uint64_t total_ms, downtime_ms, bytes, iterations;
	int path;          /* migrate-path.h's vs_migrate_path, 0 before it is chosen */
	double dirty_rate; /* percent of the guest's memory per second, -1 unknown */
	bool postcopy;     /* switched to post-copy */
	bool moved;        /* the guest runs on the destination */
} vs_migration_stats;

typedef struct vs_job {
	vs_job_kind kind;
	unsigned target;        /* OUT: up to this many running; IN: down to this many */
	unsigned steps;         /* instances this action may add or remove */
	bool notified;          /* driven by a notification: vertical first */
	bool precheck;          /* SYNC: check the preconditions of a scale-out too */
	vs_pool_view *previous; /* the members of the last job, for CPU% (may be NULL) */
	char *domain;           /* MIGRATE, VERTICAL: the member, */
	char *dest_uri;         /* ...and the host it moves to */
	int vcpu_step;          /* VERTICAL: +1 / -1 vCPU, or */
	int memory_step;        /* ...+1 / -1 balloon step */
	double mem_percent;     /* VERTICAL: its memory use, <0 unknown */
} vs_job;

typedef struct vs_job_result {
	vs_job_kind kind;
	bool ok;
	bool acted;     /* something changed: cooldown starts */
	bool at_max;    /* scale-out found the pool at max */
	bool cancelled; /* cut short because virtscaled is stopping */
	vs_op_outcome outcome;
	char *error;
	unsigned reconciled;       /* interrupted actions settled first */
	unsigned adopted;          /* of them, clones kept because they serve */
	bool prechecked;           /* the preconditions of a scale-out were checked */
	char *condition;           /* ...and this one failed (precheck.h), NULL: they hold */
	char *blocked;             /* ...with this error */
	vs_pool_view *view;        /* the members afterwards, NULL when unknown */
	unsigned returned_adopted; /* instances of a host that came back: kept */
	unsigned returned_removed; /* ...and removed (no room below max, or dead) */
	double seconds;
	vs_migration_stats migration; /* MIGRATE */
	vs_vertical_done vertical;    /* VERTICAL */
	unsigned warm_ready;          /* warm instances ready afterwards (warm > 0) */
	unsigned warm_stale;          /* ...and stale ones still to replace */
} vs_job_result;

vs_job_result *vs_job_run(vs_ops_ctx *w, const vs_job *job);
void vs_job_result_free(vs_job_result *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vs_job_result, vs_job_result_free)

/* job.c: records that operation @jid (0: none, nothing to record)
 * reached @step; false, the outcome at step "journal", when the journal
 * cannot: an unrecorded step is a crash away from a leak. */
bool vs_ops_journal_step(vs_ops_ctx *w, uint64_t jid, const char *step, vs_op_outcome *o,
                         GError **error);
/* job.c: records operation @what ("scale-in", "resume", ...) of member @m
 * with the volumes @vols of storage pool @vol_pool before its first step;
 * its id, 0 (the outcome at step "journal") when it cannot be recorded. */
uint64_t vs_ops_journal_member(vs_ops_ctx *w, const char *what, const vs_member *m,
                               const char *vol_pool, char **vols, vs_op_outcome *o, GError **error);

/* ---- members as libvirt lists them now (members.c) ---- */
/* The hypervisor @uri among the configured ones, or NULL. */
vs_virt *vs_ops_host(const vs_ops_ctx *w, const char *uri);
/* What is known of hypervisor @uri (host-health.h), or NULL. */
vs_host_health *vs_ops_health(const vs_ops_ctx *w, const char *uri);
/* The [host] of @uri: its name and hostfwd_address. */
const vs_host_config *vs_ops_host_config(const vs_ops_ctx *w, const char *uri);
/* Reads our tag of @dom: true when it has one, with its pool and address
 * (validated: the tag is in XML anyone with libvirt access can edit). */
bool vs_domain_tag(virDomainPtr dom, char **pool, char **address);
bool vs_domain_tag_full(virDomainPtr dom, char **pool, char **address, char **template_id,
                        bool *warm);
/* The pool's members on every host it lives on, with state, vCPUs, CPU%
 * (against @previous), sessions from the pool's source and their balancer
 * state. NULL with @error when a host does not answer, until it has not
 * answered for host_grace: acting on a partial view could add or remove
 * one instance too many. Then its members of @previous are in the view as
 * lost (not running); when it answers again, its members are "returned"
 * (vs_reconcile_returned decides what becomes of them). */
vs_pool_view *vs_members_list(const vs_ops_ctx *w, const vs_pool_view *previous, GError **error);
/* Every address:port in use by a tagged domain on any host. */
GHashTable *vs_members_used_addresses(const vs_ops_ctx *w);

/* ---- the actions ---- */
/* scale-out.c: one running instance more (restart a kept one, or clone). */
bool vs_scale_out(vs_ops_ctx *w, const vs_pool_view *v, vs_op_outcome *o, GError **error);
/* scale-out.c: one clone made a running member, or with @warm a warm
 * instance (warm.c parks it). */
bool vs_scale_out_clone(vs_ops_ctx *w, const vs_pool_view *v, bool warm, vs_op_outcome *o,
                        GError **error);
/* vs_scale_out_clone() on @host, chosen by the caller (NULL: none has room). */
bool vs_scale_out_clone_on(vs_ops_ctx *w, const vs_pool_view *v, vs_virt *host, bool warm,
                           vs_op_outcome *o, GError **error);
/* ---- warm instances (warm.c) ---- */
/* Takes a ready warm instance of @v: restored or resumed, probed, added to
 * the balancer. 1 taken, 0 none ready, -1 failed (the instance removed). */
int vs_warm_take(vs_ops_ctx *w, const vs_pool_view *v, vs_op_outcome *o, GError **error);
/* Should scale-in victim @m go back to the warm pool (made from the
 * current template, the warm pool short, and room for one more paused
 * instance on its host within warm_memory)? */
bool vs_warm_wants(vs_ops_ctx *w, const vs_pool_view *v, const vs_member *m);
/* Drained member @m, out of the balancer, paused and tagged warm. */
bool vs_warm_return(vs_ops_ctx *w, virDomainPtr dom, const vs_member *m, vs_op_outcome *o,
                    GError **error);
/* A warm clone that answers its probe, paused or saved (warm_mode). */
bool vs_warm_park(vs_ops_ctx *w, virDomainPtr dom, vs_op_outcome *o, GError **error);
/* Room for one more paused warm instance on @uri within warm_memory. */
bool vs_warm_budget_allows(vs_ops_ctx *w, const vs_pool_view *v, virConnectPtr conn,
                           const char *uri, GError **error);
/* The warm instances of @v: @ready (usable, of the current template) and
 * @stale (another template's, or in a state no scale-out can take). */
void vs_warm_count(vs_ops_ctx *w, const vs_pool_view *v, unsigned *ready, unsigned *stale);
/* The warm pool's upkeep: stale instances removed, and ready ones beyond
 * warm; then one instance made when fewer than warm are ready (never above
 * max + warm). */
bool vs_warm_fill(vs_ops_ctx *w, const vs_pool_view *v, vs_op_outcome *o, GError **error);
/* scale-in.c: the volumes of @dom that are ours to delete. */
char **vs_owned_volumes(virConnectPtr c, virDomainPtr dom, const char *spname);
/* scale-in.c: the member vs_pool_view_victim() names, drained and stopped. */
bool vs_scale_in(vs_ops_ctx *w, const vs_pool_view *v, vs_op_outcome *o, GError **error);
/* vertical.c: member @name of @v one vCPU more or fewer (@vcpu_step), or
 * else its balloon one step bigger or smaller (@memory_step), live and
 * journaled; @done says what it has afterwards. True without a change when
 * it no longer runs or is at that bound already. */
bool vs_vertical_member(vs_ops_ctx *w, const vs_pool_view *v, const char *name, int vcpu_step,
                        int memory_step, vs_vertical_done *done, vs_op_outcome *o, GError **error);
/* migrate.c: member @name (running in @v) moved live to @dest_uri, the
 * balancer following (old address drained, new one added once it
 * answers, old one removed); @st filled from libvirt's job statistics. */
bool vs_migrate(vs_ops_ctx *w, const vs_pool_view *v, const char *name, const char *dest_uri,
                vs_migration_stats *st, vs_op_outcome *o, GError **error);
/* migrate-reconcile.c: an unfinished migration settled (@result:
 * "finished" when the guest runs on the destination, else "rolled-back");
 * false when a host does not answer (it stays journaled). */
bool vs_reconcile_migrate(vs_ops_ctx *w, const vs_journal_op *op, const char **result,
                          GError **error);
/* reconcile.c: settles the pool's journaled operations; how many, @adopted
 * of them clones that serve and are kept. */
unsigned vs_reconcile_pool(vs_ops_ctx *w, unsigned *adopted, GError **error);
/* reconcile-adopt.c: a clone whose final record is missing but that runs,
 * is a member and serves in the balancer. */
bool vs_reconcile_clone_serving(vs_ops_ctx *w, const vs_journal_op *op);
/* reconcile-adopt.c: a scale-in whose member still runs and serves. */
bool vs_reconcile_scale_in_untouched(vs_ops_ctx *w, const vs_journal_op *op);
/* reconcile.c: the balancer's membership and weights made to match the
 * running members; each member's balancer state read back into @v. */
void vs_reconcile_lb(vs_ops_ctx *w, vs_pool_view *v);
/* returned.c: the running members of a host that came back after it was
 * lost: each is kept when it answers its probe and the pool has room below
 * max, else stopped and removed like a scale-in. Counts into @r. */
void vs_reconcile_returned(vs_ops_ctx *w, vs_pool_view **v, vs_job_result *r);
/* scale-in.c: drains, stops and removes member @m (of @v). */
bool vs_scale_in_member(vs_ops_ctx *w, const vs_member *m, vs_op_outcome *o, GError **error);
/* reconcile.c: each member's balancer state read into @v. */
void vs_reconcile_read_lb(vs_ops_ctx *w, vs_pool_view *v);
/* reconcile.c: removes a domain we created and its volumes (tagged only). */
bool vs_destroy_instance(vs_ops_ctx *w, const char *uri, const char *name, const char *vol_pool,
                         char **vols, bool undefine, GError **error);
/* placement.c: the hypervisor of the next instance (lib/vs-placement.h's
 * rule on what each host answers now), NULL when none has room. */
vs_virt *vs_placement_choose(vs_ops_ctx *w, const vs_pool_view *v);
/* vs_placement_choose() counting @placed[i] more instances on the pool's
 * i-th host: those this action sent there that @v does not show yet; the
 * chosen host's count is raised. */
vs_virt *vs_placement_choose_after(vs_ops_ctx *w, const vs_pool_view *v, unsigned *placed);
/* address.c: a free hostfwd port on @uri's hostfwd_address. */
char *vs_address_alloc_hostfwd(vs_ops_ctx *w, const char *uri, GError **error);
char *vs_address_from_libvirt(virDomainPtr dom, const vs_pool_config *pool, unsigned timeout_s,
                              GCancellable *cancel, GError **error);
/* probe.c: waits until @address answers (TCP connect / HTTP GET 2xx-3xx). */
bool vs_probe_wait(const vs_pool_config *pool, const char *address, unsigned timeout_s,
                   GCancellable *cancel, GError **error);

#endif
