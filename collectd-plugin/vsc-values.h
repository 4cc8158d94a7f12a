/*
 * vsc-values.h - turns a snapshot and a pool report into collectd values.
 * Include after collectd.h and plugin.h.
 */
#ifndef VSC_VALUES_H
#define VSC_VALUES_H

#include "vs-config.h"
#include "vs-domain.h"
#include "vs-pool-monitor.h"
#include "vs-status.h"
#include "vsc-forward.h"

typedef struct vsc_values vsc_values;

vsc_values *vsc_values_new(void);
void vsc_values_free(vsc_values *v);

/* Per domain: CPU, vCPUs, memory, disks, interfaces, state. Values of a
 * sample already dispatched are not sent again. Returns values sent. */
unsigned vsc_values_dispatch_domains(vsc_values *v, const vs_snapshot *snap, cdtime_t interval);
/* From the collector thread, after each snapshot: at once, the state and
 * CPU values of a domain that appeared or changed state (events, not the
 * read interval), with its memory, disk and NIC values when the refresh
 * brought new ones. Returns values sent. */
unsigned vsc_values_dispatch_changes(vsc_values *v, const vs_snapshot *snap, cdtime_t interval);
/* Per backend and per pool. */
unsigned vsc_values_dispatch_pools(vsc_values *v, const vs_pools_report *r, cdtime_t interval);
/* Per configured host (plugin_instance = its name as an identifier). */
unsigned vsc_values_dispatch_hosts(vsc_values *v, const vs_config *cfg, const vs_snapshot *snap,
                                   const vs_pools_report *r, cdtime_t interval);
/* Per configured pool with a migration or a rebalancing move in the
 * actuator's status (plugin_instance = pool): the figures of
 * VIRTSCALE-MIB's vsMigrationTable. Returns values sent. */
unsigned vsc_values_dispatch_migrations(const vs_config *cfg, const vs_status *st,
                                        cdtime_t interval);
/* The forwarder's counters. */
void vsc_values_dispatch_forwarder(const vsc_forwarder_stats *st, cdtime_t interval);

#endif
