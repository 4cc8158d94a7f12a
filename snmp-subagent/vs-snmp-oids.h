/*
 * vs-snmp-oids.h - the OIDs this subagent serves.
 *
 * VIRTSCALE-MIB's enterprise arc is defined here and only here (and in
 * mibs/VIRTSCALE-MIB.txt): net-snmp's playpen, netSnmpPlaypen
 * (1.3.6.1.4.1.8072.9999.9999), until a Private Enterprise Number is
 * registered for virtscale.
 */
#ifndef VS_SNMP_OIDS_H
#define VS_SNMP_OIDS_H

#define VS_ENTERPRISE_ARC 1, 3, 6, 1, 4, 1, 8072, 9999, 9999
#define VM_MIB_ARC        1, 3, 6, 1, 2, 1, 236

/* Below the VM-MIB root (vmMIB). */
#define VM_OBJECTS      1
#define VM_HYPERVISOR   1 /* vmObjects.1 */
#define VM_NUMBER       2
#define VM_TABLE_CHANGE 3
#define VM_TABLE        4
#define VM_CPU_TABLE    5
#define VM_AFFINITY     6
#define VM_STORAGE      7
#define VM_NETWORK      8
#define VM_PER_VM_NOTIF 9
#define VM_BULK_NOTIF   10
#define VM_AFFECTED_VMS 11

/* vmTable columns */
enum {
	VM_COL_NAME = 2,
	VM_COL_UUID,
	VM_COL_OSTYPE,
	VM_COL_ADMIN,
	VM_COL_OPER,
	VM_COL_AUTOSTART,
	VM_COL_PERSISTENT,
	VM_COL_CUR_CPU,
	VM_COL_MIN_CPU,
	VM_COL_MAX_CPU,
	VM_COL_MEM_UNIT,
	VM_COL_CUR_MEM,
	VM_COL_MIN_MEM,
	VM_COL_MAX_MEM,
	VM_COL_UPTIME,
	VM_COL_CPU_TIME,
};

/* Below the VIRTSCALE-MIB root (virtscaleMIB). */
#define VS_OBJECTS         1
#define VS_GENERAL         1
#define VS_POOL_TABLE      2
#define VS_BACKEND_TABLE   3
#define VS_HOST_TABLE      4
#define VS_MIGRATION_TABLE 6

enum {
	VS_POOL_NAME = 2,
	VS_POOL_MIN,
	VS_POOL_MAX,
	VS_POOL_INSTANCES,
	VS_POOL_DESIRED,
	VS_POOL_RECOMMENDED,
	VS_POOL_POLICY,
	VS_POOL_AVG_CPU,
	VS_POOL_AVG_SESSIONS,
	VS_POOL_STATE,
	VS_POOL_LAST_ACTION,
	VS_POOL_LAST_RESULT,
	VS_POOL_LAST_TIME,
	VS_POOL_LAST_ERROR,
	VS_POOL_SCALE_OUTS,
	VS_POOL_SCALE_INS,
	VS_POOL_FAILURES,
	VS_POOL_SESSIONS,
	VS_POOL_PHASE,
	VS_POOL_PHASE_STATE,
	VS_POOL_LAST_ACTION_KIND,
	VS_POOL_ALERTS,
	VS_POOL_LAST_ALERT,
	VS_POOL_LAST_ALERT_TIME,
	VS_POOL_WARM,
};

enum {
	VS_BACKEND_DOMAIN = 2,
	VS_BACKEND_VM_INDEX,
	VS_BACKEND_ADDR_TYPE,
	VS_BACKEND_ADDR,
	VS_BACKEND_PORT,
	VS_BACKEND_SESSIONS,
	VS_BACKEND_CAPACITY,
	VS_BACKEND_RATIO,
	VS_BACKEND_LB_STATE,
	VS_BACKEND_RUNNING,
	VS_BACKEND_CPU,
	VS_BACKEND_HOST_INDEX,
	VS_BACKEND_HOST,
	VS_BACKEND_WARM,
};

/* vsHostTable columns */
enum {
	VS_HOST_NAME = 2,
	VS_HOST_URI,
	VS_HOST_STATE,
	VS_HOST_INSTANCES,
	VS_HOST_CPU_IDLE,
	VS_HOST_FREE_MEMORY,
	VS_HOST_TOTAL_MEMORY,
	VS_HOST_RTT,
	VS_HOST_DOWN_SINCE,
	VS_HOST_DOWN_TIME,
	VS_HOST_RECONNECTS,
	VS_HOST_LAST_ERROR,
};

/* vsUsage (vsObjects.8): usage accounting */
#define VS_USAGE               8
#define VS_USAGE_DISCONTINUITY 1
#define VS_USAGE_POOL_TABLE    2
#define VS_USAGE_DOMAIN_TABLE  3
/* vsUsagePoolEntry: one column per vs_usage_kind, in its order, from 1 */
#define VS_USAGE_POOL_COL(kind) ((kind) + 1)
/* vsUsageDomainEntry: the UUID index (1), name, pool, then the kinds but
 * the pool-only max-instance one */
#define VS_USAGE_DOMAIN_NAME      2
#define VS_USAGE_DOMAIN_POOL      3
#define VS_USAGE_DOMAIN_COL(kind) ((kind) + 4)
/* vsMigrationTable columns (INDEX vsPoolIndex) */
enum {
	VS_MIGRATION_DOMAIN = 1,
	VS_MIGRATION_FROM,
	VS_MIGRATION_TO,
	VS_MIGRATION_PATH,
	VS_MIGRATION_DIRTY_RATE,
	VS_MIGRATION_STATE,
	VS_MIGRATION_TOTAL_TIME,
	VS_MIGRATION_DOWNTIME,
	VS_MIGRATION_KBYTES,
	VS_MIGRATION_ITERATIONS,
	VS_MIGRATION_TIME,
	VS_MIGRATIONS,
};

/* vsPoolLastError is SnmpAdminString (SIZE (0..255)) */
#define VS_POOL_LAST_ERROR_MAX 255

/* VIRTSCALE-MIB notifications (vsNotifications.N) */
enum {
	VS_NOTIF_POOL_HIGH = 1,
	VS_NOTIF_POOL_LOW,
	VS_NOTIF_POOL_NORMAL,
	VS_NOTIF_POOL_AT_MAX,
	VS_NOTIF_ACTION_STARTED,
	VS_NOTIF_ACTION_SUCCEEDED,
	VS_NOTIF_ACTION_FAILED,
	VS_NOTIF_HOST_LOST,
	VS_NOTIF_HOST_BACK,
};

#endif
