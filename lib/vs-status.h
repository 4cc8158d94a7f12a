/*
 * vs-status.h - the actuator's published state: STATE_DIR/status.json,
 * replaced atomically (vs-file.h) after every change by virtscaled, read by
 * virtscale-snmp (the actuator columns of VIRTSCALE-MIB) and virtscalectl. A missing or
 * unreadable file means "no actuator": readers say so and go on. The
 * writer writes only what a reader accepts.
 *
 *  {"v":1,"time":1764000000.5,"pid":123,
 *   "pools":[{"name":"web","desired":3,"target_source":"manual","actual":3,"warm":2,
 *     "phase":"idle",
 *     "cooldown_left":12,"last_action":"scale-out","last_result":"ok",
 *     "last_time":1764000000.1,"last_error":"","scale_outs":4,"scale_ins":1,
 *     "failures":0,"alerts":0,"last_alert":"none","last_alert_time":0,"migrations":1,
 *     "migration":{"domain":"web-02","from":"a","to":"b","result":"ok","time":1764000000.2,
 *                  "total_ms":1040,"downtime_ms":140,"bytes":13312000,"iterations":3,
 *                  "path":1,"dirty_rate":2.5,"postcopy":false},"rebalances":1,
 *     "rebalance":{"domain":"web-02","from":"a","to":"b","from_load":92.5,"to_load":3.1,
 *                  "dry_run":false,"time":1764000000.1},
 *     "vertical_steps":2,
 *     "vertical":{"domain":"web-01","action":"vcpu-add","result":"ok","time":1764000000.3,
 *                 "vcpus":2,"memory_kib":131072,"error":""},
 *     "instances":[{"name":"web-01","state":"running","address":"127.0.0.1:18101",
 *                   "lb":"enabled","sessions":12,"host":"qemu:///system","lost":false,
 *                   "vcpus":2,"vcpus_max":4,"memory_kib":131072,
 *                   "memory_max_kib":262144,"warm":false}]}],
 *   "hosts":[{"name":"a","uri":"qemu:///system","answers":true,"lost":false,"down_for":0,
 *     "instances":3,"cpu_idle":9512,"mem_free":6403,"rtt_us":180}]}
 *
 * Every state is a name of vs-states.h; an instance's state is libvirt's.
 */
#ifndef VS_STATUS_H
#define VS_STATUS_H

#include "vs-error.h"
#include "vs-pool.h"
#include "vs-states.h"

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#define VS_STATUS_FILE "status.json"
/* The longest string, in bytes, a reader accepts. */
#define VS_STATUS_MAX_STRING 1024

/* Where a pool's desired count comes from ("target_source"). */
typedef enum {
	VS_TARGET_SOURCE_MIN,    /* held at the pool's min (nothing asked for more) */
	VS_TARGET_SOURCE_POLICY, /* the policy's notifications decide */
	VS_TARGET_SOURCE_MANUAL, /* a user's `virtscalectl scale POOL N` */
	VS_TARGET_SOURCE_UNKNOWN /* only read: a newer writer's, or absent */
} vs_target_source;

const char *vs_target_source_name(vs_target_source s);
/* A name this version does not know reads as VS_TARGET_SOURCE_UNKNOWN. */
vs_target_source vs_target_source_from_name(const char *name);

/* A pool's last (or running) live migration ("migration"). */
typedef struct vs_migration_status {
	char *domain;
	char *from, *to; /* host names */
	vs_result result;
	double time;                                       /* unix seconds it started */
	uint64_t total_ms, downtime_ms, bytes, iterations; /* libvirt's figures, 0 unknown */
	unsigned path;     /* 1 pre-copy, 2 XBZRLE then post-copy, 3 post-copy; 0 unknown */
	double dirty_rate; /* percent of the guest's memory per second, -1 unknown */
	bool postcopy;     /* it switched to post-copy */
} vs_migration_status;

void vs_migration_status_free(vs_migration_status *m);
vs_migration_status *vs_migration_status_copy(const vs_migration_status *m);

/* A pool's last rebalancing move, made or only reported ("rebalance"). */
typedef struct vs_rebalance_status {
	char *domain;
	char *from, *to;           /* host names */
	double from_load, to_load; /* percent of each host's CPUs its guests used */
	bool dry_run;              /* rebalance = dry-run: reported, not made */
	double time;               /* unix seconds of the decision */
} vs_rebalance_status;

void vs_rebalance_status_free(vs_rebalance_status *r);
vs_rebalance_status *vs_rebalance_status_copy(const vs_rebalance_status *r);

/* A pool's last (or running) vertical step of one member ("vertical"). */
typedef struct vs_vertical_status {
	char *domain;
	vs_action action; /* vcpu-add, vcpu-remove, memory-add, memory-remove */
	vs_result result;
	double time;         /* unix seconds it started */
	unsigned vcpus;      /* the member's vCPUs afterwards, 0 unknown */
	uint64_t memory_kib; /* its balloon afterwards, 0 unknown */
	char *error;         /* "" none */
} vs_vertical_status;

void vs_vertical_status_free(vs_vertical_status *v);
vs_vertical_status *vs_vertical_status_copy(const vs_vertical_status *v);

typedef struct vs_pool_status {
	char *name;
	unsigned desired;
	vs_target_source target_source;
	unsigned actual;
	unsigned warm; /* warm instances ready (not counted in actual) */
	vs_phase phase;
	unsigned cooldown_left;
	vs_action last_action;
	vs_result last_result;
	double last_time; /* unix seconds the last action started, 0 none */
	char *last_error; /* "" none */
	uint64_t scale_outs, scale_ins, failures, alerts;
	vs_alert_kind last_alert;
	double last_alert_time; /* unix seconds, 0 none */
	/* of vs_member*: name, state, address, lb_state, sessions, host_uri, lost,
	 * vcpus, vcpus_max, mem_kib, mem_max_kib */
	GPtrArray *instances;
	uint64_t migrations;            /* live migrations done */
	vs_migration_status *migration; /* the last or running one, NULL none */
	uint64_t rebalances;            /* rebalancing moves decided (made or reported) */
	vs_rebalance_status *rebalance; /* the last one, NULL none */
	uint64_t vertical_steps;        /* vCPU or memory changes of a member done */
	vs_vertical_status *vertical;   /* the last or running one, NULL none */
} vs_pool_status;

/* A hypervisor as the actuator sees it. */
typedef struct vs_host_report {
	char *name;
	char *uri;
	bool answers;
	bool lost;          /* silent for host_grace: its instances do not count */
	unsigned down_for;  /* seconds it has not answered, 0 when it answers */
	unsigned instances; /* running instances of every pool on it */
	long cpu_idle;      /* hundredths of a percent, -1 unknown */
	long mem_free;      /* hundredths of a percent of its memory, -1 unknown */
	long rtt_us;        /* round trip of one libvirt call, -1 unknown */
} vs_host_report;

typedef struct vs_status {
	double time;
	int pid;
	GPtrArray *pools; /* of vs_pool_status* */
	GPtrArray *hosts; /* of vs_host_report*, config order */
} vs_status;

vs_host_report *vs_host_report_new(const char *name, const char *uri);
void vs_host_report_free(vs_host_report *h);

vs_status *vs_status_new(void);
void vs_status_free(vs_status *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vs_status, vs_status_free)
vs_pool_status *vs_pool_status_new(const char *name);
void vs_pool_status_free(vs_pool_status *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vs_pool_status, vs_pool_status_free)
const vs_pool_status *vs_status_find_pool(const vs_status *s, const char *name);

/* @in as the reader accepts a string (see vs-status.c). */
char *vs_status_text(const char *in);
char *vs_status_to_json(const vs_status *s);
vs_status *vs_status_from_json(const char *json, size_t len, GError **error);
/* Atomic write into @state_dir/status.json. */
bool vs_status_write(const vs_status *s, const char *state_dir, GError **error);
/* NULL with @error when absent or invalid. */
vs_status *vs_status_read(const char *state_dir, GError **error);

#endif
