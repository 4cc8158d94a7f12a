/*
 * io-worker.h - the thread that does the I/O the MIB views need besides
 * the collector and the pool monitor: the actuator's status.json (the
 * actuator columns and the action notifications of VIRTSCALE-MIB) and the
 * vCPU pinning (vmCpuAffinityTable). It publishes a self-contained report
 * of plain values; the main loop never reads a file or calls libvirt.
 */
#ifndef VS_IO_WORKER_H
#define VS_IO_WORKER_H

#include "vs-collector.h"
#include "vs-config.h"
#include "vs-status.h"

typedef struct vs_io_report {
	uint64_t generation;
	vs_status *status; /* the actuator's state; NULL = no actuator */
	/* uuid string -> GByteArray: for each vCPU, host_cpus bytes of 0/1 */
	GHashTable *affinity;
	unsigned host_cpus;
} vs_io_report;

typedef struct vs_io_worker vs_io_worker;
typedef void (*vs_io_worker_cb)(void *opaque);

/* Starts the thread: one report per refresh_interval; @ready is called
 * from it after each and must only wake the main loop. */
vs_io_worker *vs_io_worker_start(const vs_config *cfg, vs_collector *collector,
                                 vs_io_worker_cb ready, void *opaque);
/* The newest report if there is one newer than the last taken (caller frees). */
vs_io_report *vs_io_worker_take(vs_io_worker *w);
/* Asks the thread to stop; does not wait for a thread stuck in libvirt. */
void vs_io_worker_stop(vs_io_worker *w);
void vs_io_report_free(vs_io_report *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vs_io_report, vs_io_report_free)

#endif
