/*
 * agent.h - the state of one virtscale-snmp process, shared by its files.
 *
 * Threads: the collector thread, the pool monitor and the I/O worker only
 * ever touch the fields under "crossing threads" (with @lock held) and
 * write one byte to the wake pipe; everything else, and every net-snmp
 * call, belongs to the net-snmp main loop.
 */
#ifndef VS_SNMP_AGENT_H
#define VS_SNMP_AGENT_H

#include "io-worker.h"
#include "mib-view.h"
#include "vm-index.h"
#include "vs-collector.h"
#include "vs-config.h"
#include "vs-pool-monitor.h"
#include "vs-usage-store.h"

#include <signal.h>

typedef struct vs_vm_event {
	vs_event_kind kind;
	char *name;
	char uuid_str[VS_UUID_STRING_LEN];
	unsigned char uuid[16];
	int new_state, new_reason, old_state;
	int libvirt_event, libvirt_detail;
} vs_vm_event;

typedef struct vs_agent {
	vs_config *cfg;
	const char *agentx_socket;
	bool foreground;
	bool debug;

	vs_collector *collector;
	vs_pool_monitor *monitor; /* pools: lib/'s evaluation, shared with collectd */
	GThread *monitor_thread;
	vs_io_worker *io; /* status.json and vCPU pinning */
	vs_vm_index *vm_index;
	vs_usage_store *usage; /* usage accounting, fed by the collector thread */

	vs_mib_subtree vm_tree; /* VM-MIB */
	vs_mib_subtree vs_tree; /* VIRTSCALE-MIB */

	int wake_rd, wake_wr;

	/* crossing threads */
	GMutex lock;
	GQueue events;  /* of vs_vm_event* */
	GQueue notices; /* of vs_pool_notice*, for traps */
	bool snapshot_pending;
	bool pools_pending; /* the monitor published a report */

	/* main loop only */
	vs_snapshot *snap;               /* the snapshot the VM-MIB view was built from */
	vs_pools_report *pools;          /* the pool report the VIRTSCALE-MIB view was built from */
	vs_io_report *io_report;         /* the actuator's status and the pinning */
	GHashTable *oper_by_uuid;        /* uuid string -> vm_oper_mark */
	GHashTable *row_key_by_uuid;     /* uuid string -> "oper" for vmTableLastChange */
	GHashTable *absent_since;        /* uuid string -> monotonic us it left the snapshots */
	GHashTable *undefined;           /* uuid strings libvirt said were undefined */
	bool per_vm_notifications;       /* vmPerVMNotificationsEnabled */
	bool bulk_notifications;         /* vmBulkNotificationsEnabled */
	unsigned bulk_threshold;         /* changes to one state in one batch that go bulk */
	unsigned long table_last_change; /* agent uptime, centiseconds */
	GHashTable *hosts_lost;          /* URIs vsHostLost announced (host-notify.c) */
	int64_t hv_boot_real_us;
	vs_usage *usage_view;  /* the copy vsUsage was built from (usage-mib.c) */
	int64_t usage_view_us; /* when it was taken (monotonic) */
} vs_agent;

/* An event-sourced operational state (it suppresses duplicate traps) or a
 * snapshot-sourced one (it does not). */
#define VM_OPER_FROM_EVENT 0x100

/* agentx.c */
bool vs_agentx_init(vs_agent *a);
void vs_agentx_wake(vs_agent *a);
void vs_agentx_shutdown(vs_agent *a);

/* refresh.c: the main loop side of the wake pipe */
void vs_refresh_on_wake(int fd, void *opaque);
void vs_refresh_vm_mib(vs_agent *a);
void vs_refresh_vs_mib(vs_agent *a);

/* vm-mib.c */
vs_mib_view *vm_mib_build(vs_agent *a, const vs_snapshot *snap);
int vm_mib_set_check(const oid *name, size_t name_len, const netsnmp_variable_list *vb,
                     void *opaque);
void vm_mib_set_apply(const oid *name, size_t name_len, long value, void *opaque);

/* vs-mib.c */
vs_mib_view *vs_mib_build(vs_agent *a);

/* usage-mib.c: vsUsage */
void vs_usage_rows_add(vs_mib_builder *b, vs_agent *a);

/* host-mib.c: vsHostTable and the hosts of vsBackendTable */
void vs_host_rows_add(vs_mib_builder *b, const vs_agent *a);
/* vsMigrationTable (migration-mib.c) from the actuator's status. */
void vs_migration_rows_add(vs_mib_builder *b, const vs_agent *a, const vs_status *status);
/* vsHostIndex of the configured host @uri; 0 when it is not configured. */
oid vs_host_index(const vs_agent *a, const char *uri);
const vs_host_status *vs_host_find(const vs_snapshot *snap, const char *uri);
long vs_host_down_since_real_s(const vs_host_status *h);

/* host-notify.c */
/* vsHostLost / vsHostBack for each host whose lost state changed in @snap. */
void host_notify_changes(vs_agent *a, const vs_snapshot *snap);

/* vm-notify.c */
void vm_notify_events(vs_agent *a, GQueue *events);

/* pool-notify.c */
/* vsPoolHigh/Low/Normal/AtMax for each notice (repeats are not news). */
void pool_notify_verdicts(vs_agent *a, GQueue *notices);
/* vsActionStarted/Succeeded/Failed for each action the actuator's status
 * shows started or finished since @old (NULL: start-up). */
void pool_notify_actions(vs_agent *a, const vs_status *old, const vs_status *cur);

#endif
