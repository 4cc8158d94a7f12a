/*
 * pool-worker.h - the thread that does the I/O the VIRTSCALE-MIB and the
 * vCPU affinity table need (session counts, the actuator's state file,
 * libvirt pinning), away from the AgentX main loop, and publishes a
 * self-contained report of plain values.
 */
#ifndef VS_POOL_WORKER_H
#define VS_POOL_WORKER_H

#include "vs-collector.h"
#include "vs-config.h"
#include "vs-policy.h"
#include "vs-pool.h"

typedef struct vs_backend_report {
	char *domain;
	char uuid_str[VS_UUID_STRING_LEN];
	unsigned index;
	bool running;
	bool have_endpoint;
	vs_endpoint endpoint;
	bool have_sessions;
	unsigned sessions;
	double ratio;
	double cpu;
	vs_lb_state lb;
} vs_backend_report;

typedef struct vs_pool_report {
	char *name;
	unsigned min, max;
	vs_policy_kind policy;
	double capacity;
	unsigned n_running;
	double avg_cpu, avg_sessions;
	unsigned total_sessions;
	bool evaluated;
	vs_verdict verdict;
	unsigned recommended;
	/* from the actuator's status; have_status false = actuator absent */
	bool have_status;
	unsigned desired;
	char *phase, *last_action, *last_result, *last_error;
	double last_time;
	uint64_t scale_outs, scale_ins, failures;
	GArray *backends; /* of vs_backend_report */
} vs_pool_report;

typedef struct vs_pools_report {
	uint64_t generation;
	bool actuator_available;
	GPtrArray *pools; /* of vs_pool_report*, config order */
	/* uuid string -> GByteArray: for each vCPU, host_cpus bytes of 0/1 */
	GHashTable *affinity;
	unsigned host_cpus;
} vs_pools_report;

typedef struct vs_pool_worker vs_pool_worker;

typedef void (*vs_pool_worker_cb)(void *opaque);

/* Starts the thread; @ready is called from it after each new report. */
vs_pool_worker *vs_pool_worker_start(const vs_config *cfg, vs_collector *collector,
                                     vs_pool_worker_cb ready, void *opaque);
/* Takes the newest report if there is one newer than the last taken. */
vs_pools_report *vs_pool_worker_take(vs_pool_worker *w);
/* Asks the thread to stop; does not wait for a thread stuck in I/O. */
void vs_pool_worker_stop(vs_pool_worker *w);
void vs_pools_report_free(vs_pools_report *r);

#endif
