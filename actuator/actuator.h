/*
 * actuator.h - internal interfaces between the parts of virtscaled.
 *
 * Threads: the GMainLoop thread owns every vs_pool_machine and never calls
 * libvirt, a load balancer or the disk synchronously. Each pool has one
 * worker thread (a GThreadPool of one) that runs one job at a time: it
 * re-reads the real state from libvirt, acts, and hands a vs_job_result back
 * to the loop. The journal and the libvirt connections lock internally.
 */
#ifndef VS_ACTUATOR_H
#define VS_ACTUATOR_H

#include "alert.h"
#include "lb.h"
#include "vs-config.h"
#include "vs-notify.h"
#include "vs-status.h"

#include <glib.h>
#include <libvirt/libvirt.h>
#include <stdbool.h>
#include <stdint.h>

/* ---- libvirt connections with reconnect and backoff (virt-conn.c) ---- */
typedef struct vs_virt vs_virt;
vs_virt *vs_virt_new(const char *uri);
void vs_virt_free(vs_virt *v);
const char *vs_virt_uri(const vs_virt *v);
/* A referenced, live connection (virConnectClose it), or NULL with @error
 * while libvirtd is unreachable (the next try waits out a backoff). */
virConnectPtr vs_virt_get(vs_virt *v, GError **error);
/* Drops the connection after an RPC failure so the next get reconnects. */
void vs_virt_reset(vs_virt *v);

#define VS_ACT_ERROR (vs_act_error_quark())
GQuark vs_act_error_quark(void);
/* A GError from libvirt's last error, prefixed with @what. */
void vs_set_virt_error(GError **error, const char *what);

/* ---- journal (journal.c) ---- */
typedef struct vs_journal vs_journal;
typedef struct vs_journal_op {
	uint64_t id;
	char *op; /* "clone", "scale-in" */
	char *pool;
	char *name; /* domain */
	char *uri;
	char *vol_pool;
	char **vols; /* volume names we created (clone) or will delete */
	char *address;
	char *step; /* last step reached */
} vs_journal_op;

vs_journal *vs_journal_open(const char *state_dir, GError **error);
void vs_journal_close(vs_journal *j);
uint64_t vs_journal_begin(vs_journal *j, const vs_journal_op *op, GError **error);
bool vs_journal_step(vs_journal *j, uint64_t id, const char *step, GError **error);
bool vs_journal_end(vs_journal *j, uint64_t id, const char *result, GError **error);
/* Copies of the operations begun and not ended, of @pool (NULL = all). */
GPtrArray *vs_journal_pending(vs_journal *j, const char *pool);
void vs_journal_op_free(vs_journal_op *op);

/* ---- pool members as libvirt sees them (members.c) ---- */
typedef struct vs_member {
	char *name;
	char *uri;
	int state; /* virDomainState */
	char *address;
	unsigned vcpus, vcpus_max;
	unsigned index;
	int sessions; /* -1 unknown */
} vs_member;

void vs_member_free(vs_member *m);
/* Reads the tag of @dom: true when it is ours, with the pool and address. */
bool vs_domain_tag(virDomainPtr dom, char **pool, char **address);
/* Every domain tagged for @pool on every host. NULL with @error when no
 * host answered. */
GPtrArray *vs_members_list(vs_virt **hosts, size_t n_hosts, const vs_pool_config *pool,
                           GError **error);
/* Every address:port in use by any tagged domain on the hosts. */
GHashTable *vs_members_used_addresses(vs_virt **hosts, size_t n_hosts);
unsigned vs_members_running(const GPtrArray *members);
/* Fills sessions of running members (sock_diag), best effort. */
void vs_members_count_sessions(const vs_pool_config *pool, GPtrArray *members);

/* ---- the daemon ---- */
typedef struct vs_act vs_act;
typedef struct vs_pool_machine vs_pool_machine;

typedef enum {
	VS_JOB_SYNC,      /* reconcile leftovers, re-read members, re-sync the LB */
	VS_JOB_SCALE_OUT, /* +1 instance (or +1 vCPU first when vertical) */
	VS_JOB_SCALE_IN,  /* -1 instance (or -1 vCPU first when vertical) */
} vs_job_kind;

typedef struct vs_job_result {
	vs_pool_machine *machine;
	vs_job_kind kind;
	bool ok;
	bool acted;   /* something changed (cooldown starts) */
	bool at_max;  /* scale-out refused: pool at max */
	char *action; /* "scale-out", "scale-in", "vcpu-add", "none", ... */
	char *step;   /* failed step */
	char *error;
	bool cancelled; /* cut short because virtscaled is stopping */
	bool have_members;
	unsigned running;
	GPtrArray *members; /* of vs_member* */
	double seconds;
} vs_job_result;

void vs_job_result_free(vs_job_result *r);

/* Context a worker needs: everything here is thread-safe or read-only. */
typedef struct vs_worker_ctx {
	const vs_config *cfg;
	const vs_pool_config *pool;
	vs_virt **hosts;
	size_t n_hosts;
	vs_journal *journal;
	vs_lb *lb;          /* used by this pool's worker only */
	GMutex *alloc_lock; /* held while choosing a name/port and defining */
	GCancellable *stop; /* cancelled when virtscaled stops: waits end early */
} vs_worker_ctx;

/* scale-out.c: clone (or restart a kept instance), start, probe, LB add. */
bool vs_scale_out(vs_worker_ctx *w, GPtrArray *members, char **action, char **step, GError **error);
/* scale-in.c: choose, drain, shutdown, LB remove, undefine + delete. */
bool vs_scale_in(vs_worker_ctx *w, GPtrArray *members, char **action, char **step, GError **error);
/* vertical.c: +1/-1 vCPU (or memory) on a running member; false = nothing done. */
bool vs_vertical_up(vs_worker_ctx *w, GPtrArray *members, char **action, GError **error);
bool vs_vertical_down(vs_worker_ctx *w, GPtrArray *members, char **action, GError **error);
/* reconcile.c: finishes or rolls back the pool's journaled operations. */
unsigned vs_reconcile_pool(vs_worker_ctx *w, GError **error);
/* Re-adds running members to the LB, removes the others. */
void vs_reconcile_lb(vs_worker_ctx *w, const GPtrArray *members);
/* Removes a domain we created and its volumes (tagged domains only). */
bool vs_destroy_instance(vs_worker_ctx *w, const char *uri, const char *name, const char *vol_pool,
                         char **vols, bool undefine, GError **error);
/* placement.c: which host a new instance goes to. */
size_t vs_placement_choose(vs_worker_ctx *w, const GPtrArray *members);
/* address.c */
char *vs_address_alloc_hostfwd(vs_worker_ctx *w, GError **error);
char *vs_address_from_libvirt(virDomainPtr dom, const vs_pool_config *pool, unsigned timeout_s,
                              GCancellable *cancel, GError **error);
/* probe.c: waits until @address answers (tcp connect / HTTP GET 2xx-3xx). */
bool vs_probe_wait(const vs_pool_config *pool, const char *address, unsigned timeout_s,
                   GCancellable *cancel, GError **error);
/* clone-xml.c: the new domain's XML from the template's. */
typedef struct vs_clone_disk {
	char *target;     /* "vda" */
	char *src_path;   /* template's file */
	char *src_format; /* "qcow2", "raw" */
	char *new_path;   /* the clone's volume path */
	char *new_format;
} vs_clone_disk;
GPtrArray *vs_clone_xml_disks(const char *xml, GError **error); /* of vs_clone_disk* */
void vs_clone_disk_free(vs_clone_disk *d);
char *vs_clone_xml_rewrite(const char *xml, const char *name, const GPtrArray *disks,
                           const char *pool, const char *address, const vs_pool_config *cfg,
                           GError **error);

/* pool-machine.c (event-loop thread only) */
vs_pool_machine *vs_pool_machine_new(vs_act *act, const vs_pool_config *cfg, vs_worker_ctx *ctx);
void vs_pool_machine_stop(vs_pool_machine *m);
void vs_pool_machine_free(vs_pool_machine *m);
void vs_pool_machine_notify(vs_pool_machine *m, const vs_notification *n);
/* Manual target; false with @error when outside min..max. */
bool vs_pool_machine_set_target(vs_pool_machine *m, unsigned target, GError **error);
/* Called every second and after every event: starts the next job if due. */
void vs_pool_machine_tick(vs_pool_machine *m);
vs_pool_status *vs_pool_machine_status(vs_pool_machine *m);
bool vs_pool_machine_busy(vs_pool_machine *m);

/* virtscaled.c: services the machines use. */
void vs_act_status_changed(vs_act *act);
void vs_act_alert(vs_act *act, vs_alert_kind kind, const char *pool, const char *step,
                  const char *error, const char *summary);

/* status.c: background writer of STATE_DIR/status.json. */
typedef struct vs_status_writer vs_status_writer;
vs_status_writer *vs_status_writer_new(const char *state_dir);
/* Takes ownership of @s; only the newest pending status is written. */
void vs_status_writer_post(vs_status_writer *w, vs_status *s);
void vs_status_writer_free(vs_status_writer *w);

/* intake.c: the Unix socket, one JSON object per line. */
typedef struct vs_intake_stats {
	uint64_t connections, lines, accepted, malformed, oversized, invalid_utf8, unknown_pool,
	    status_requests, scale_requests;
} vs_intake_stats;
typedef struct vs_intake vs_intake;
/* Handles one valid notification; returns a reply line or NULL. */
typedef char *(*vs_intake_handler)(const vs_notification *n, void *opaque);
vs_intake *vs_intake_new(const vs_config *cfg, vs_intake_handler fn, void *opaque, GError **error);
void vs_intake_free(vs_intake *in);
const vs_intake_stats *vs_intake_get_stats(const vs_intake *in);
/* Is the pool known? (counts unknown pools without acting) */
typedef bool (*vs_intake_pool_known)(const char *pool, void *opaque);

/* notify-formats.c: stdin formats of `virtscalectl notify`, converted to
 * one wire-format JSON line (validated by the caller with
 * vs_notification_parse()). @pool / @state override what the input says. */
char *vs_notify_from_collectd_exec(const char *text, const char *pool, const char *state,
                                   GError **error);
char *vs_notify_from_snmptrap(const char *text, const vs_config *cfg, const char *pool,
                              const char *state, GError **error);

#endif
