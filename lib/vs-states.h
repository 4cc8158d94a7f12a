/*
 * vs-states.h - every state a virtscale program writes, as an enum with one
 * table: the name used on the wire (notifications), in files (status.json,
 * the alert queue), in log lines and in the manual pages, and the label and
 * number of the same state in VIRTSCALE-MIB. Strings exist only at those
 * boundaries; inside the programs a state is always one of these enums.
 *
 * A unit test checks every table against the MIB's enumerations and the
 * manual pages, so a state added here and nowhere else fails the build.
 */
#ifndef VS_STATES_H
#define VS_STATES_H

#include <stdbool.h>

/* The pool policy's verdict (vs-policy.h). Its value is also the collectd
 * gauge vs_policy_state; UNKNOWN (not evaluated) is dispatched as NaN. */
typedef enum {
	VS_VERDICT_OK,
	VS_VERDICT_HIGH,   /* scale out recommended */
	VS_VERDICT_LOW,    /* scale in recommended */
	VS_VERDICT_AT_MAX, /* high, but the pool is at max: alert */
	VS_VERDICT_UNKNOWN /* not evaluated (no usable sample yet) */
} vs_verdict;

/* What the actuator is doing with a pool. */
typedef enum {
	VS_PHASE_IDLE,
	VS_PHASE_SCALING_OUT,
	VS_PHASE_SCALING_IN,
	VS_PHASE_COOLDOWN,
	VS_PHASE_MIGRATING, /* moving a member live to another host */
	VS_PHASE_UNKNOWN    /* only read: a newer writer's state, or no actuator */
} vs_phase;

/* The actuator's last action on a pool. */
typedef enum {
	VS_ACTION_NONE,
	VS_ACTION_SCALE_OUT,
	VS_ACTION_SCALE_IN,
	VS_ACTION_RESTART, /* a member kept shut off (keep_stopped) started again */
	VS_ACTION_VCPU_ADD,
	VS_ACTION_VCPU_REMOVE,
	VS_ACTION_MEMORY_ADD,
	VS_ACTION_MEMORY_REMOVE,
	VS_ACTION_MIGRATE, /* a member moved live to another host */
	VS_ACTION_UNKNOWN
} vs_action;

/* How the last action ended. */
typedef enum {
	VS_RESULT_NONE, /* no action yet, or it found nothing to do */
	VS_RESULT_OK,
	VS_RESULT_FAILED,
	VS_RESULT_RUNNING,   /* started, not finished */
	VS_RESULT_CANCELLED, /* cut short because virtscaled stopped */
	VS_RESULT_UNKNOWN
} vs_result;

/* A member's state in its load balancer. */
typedef enum {
	VS_LB_STATE_UNKNOWN,
	VS_LB_STATE_ENABLED,
	VS_LB_STATE_DRAINING,
	VS_LB_STATE_DISABLED,
} vs_lb_state;

/* Why the administrator gets an e-mail. */
typedef enum {
	VS_ALERT_NONE,          /* no alert yet */
	VS_ALERT_AT_MAX,        /* pool at max and still high */
	VS_ALERT_ACTION_FAILED, /* a scaling or load-balancer step failed */
	VS_ALERT_RECONCILED,    /* leftovers of an interrupted action were cleaned */
	VS_ALERT_RECOVERED,     /* pool back to normal after an alert */
	VS_ALERT_TEST,          /* virtscalectl test-mail */
	VS_ALERT_HOST_LOST,     /* a host stopped answering: its instances were replaced */
	VS_ALERT_HOST_BACK,     /* a lost host answers again: its instances settled */
	VS_ALERT_UNKNOWN
} vs_alert_kind;

/* A hypervisor as the monitors show it (vsHostState of the TC VsHostStatus, the collectd host
 * values): the collector's connection state, or lost once it has not
 * answered for [libvirt] host_grace (vs_host_status_condition()). */
typedef enum {
	VS_HOST_COND_CONNECTED,
	VS_HOST_COND_CONNECTING,   /* first connection under way */
	VS_HOST_COND_DISCONNECTED, /* not answering, reconnecting with backoff */
	VS_HOST_COND_LOST,         /* not answering for host_grace: its instances do not count */
	VS_HOST_COND_UNKNOWN       /* not sampled yet */
} vs_host_cond;

/* One state: its name outside the programs, and in VIRTSCALE-MIB. */
typedef struct vs_state_entry {
	const char *name;      /* wire, file and manual name: "scaling-out" */
	const char *mib_label; /* the MIB enumeration's label: "scalingOut" */
	long mib;              /* its number in the MIB */
} vs_state_entry;

typedef struct vs_state_table {
	const char *what;              /* "verdict", "phase", ... (for messages and tests) */
	const char *mib_type;          /* the VIRTSCALE-MIB textual convention */
	const vs_state_entry *entries; /* indexed by the enum's value */
	unsigned n;
	unsigned unknown; /* the enum value that stands for "unknown" */
} vs_state_table;

extern const vs_state_table vs_verdict_table;
extern const vs_state_table vs_phase_table;
extern const vs_state_table vs_action_table;
extern const vs_state_table vs_result_table;
extern const vs_state_table vs_lb_state_table;
extern const vs_state_table vs_alert_kind_table;
extern const vs_state_table vs_host_cond_table;

/* A value as the MIB's VsHundredths: rounded hundredths, -1 when unknown
 * (negative or NaN), at most 2^31-1. */
long vs_hundredths(double v);

/* Every table, for tests and documentation checks; NULL-terminated. */
extern const vs_state_table *const vs_state_tables[];

const char *vs_state_name(const vs_state_table *t, unsigned value);
/* Looks @name up; false (and *value = the unknown state) when it is none. */
bool vs_state_from_name(const vs_state_table *t, const char *name, unsigned *value);
long vs_state_mib(const vs_state_table *t, unsigned value);

/* Typed accessors: vs_verdict_name(), vs_verdict_from_name(), vs_verdict_mib(), ... */
#define VS_STATE_ACCESSORS(prefix, type)                                                           \
	static inline const char *prefix##_name(type v)                                            \
	{                                                                                          \
		return vs_state_name(&prefix##_table, (unsigned)v);                                \
	}                                                                                          \
	static inline bool prefix##_from_name(const char *s, type *v)                              \
	{                                                                                          \
		unsigned u;                                                                        \
		bool ok = vs_state_from_name(&prefix##_table, s, &u);                              \
		*v = (type)u;                                                                      \
		return ok;                                                                         \
	}                                                                                          \
	static inline long prefix##_mib(type v)                                                    \
	{                                                                                          \
		return vs_state_mib(&prefix##_table, (unsigned)v);                                 \
	}

VS_STATE_ACCESSORS(vs_verdict, vs_verdict)
VS_STATE_ACCESSORS(vs_phase, vs_phase)
VS_STATE_ACCESSORS(vs_action, vs_action)
VS_STATE_ACCESSORS(vs_result, vs_result)
VS_STATE_ACCESSORS(vs_lb_state, vs_lb_state)
VS_STATE_ACCESSORS(vs_alert_kind, vs_alert_kind)
VS_STATE_ACCESSORS(vs_host_cond, vs_host_cond)

#endif
