/* pool-notify.c - VIRTSCALE-MIB notifications: pool verdicts and actions */
#include "config.h"

#include "agent.h"
#include "vs-snmp-oids.h"

#include <string.h>

static const oid snmp_trap_oid[] = {1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0};

static void add_pool_var(netsnmp_variable_list **vars, oid col, oid idx, u_char type,
                         const void *val, size_t len)
{
	const oid name[] = {VS_ENTERPRISE_ARC, VS_OBJECTS, VS_POOL_TABLE, 1, col, idx};
	snmp_varlist_add_variable(vars, name, G_N_ELEMENTS(name), type, val, len);
}

static long hundredths(double v)
{
	return v < 0 ? -1 : (long)(v * 100.0 + 0.5);
}

static void send_pool_notification(int notif, const vs_pool_report *p, oid idx)
{
	const oid trap[] = {VS_ENTERPRISE_ARC, 0, notif};
	netsnmp_variable_list *vars = NULL;
	snmp_varlist_add_variable(&vars, snmp_trap_oid, G_N_ELEMENTS(snmp_trap_oid), ASN_OBJECT_ID,
	                          trap, sizeof(trap));
	add_pool_var(&vars, VS_POOL_NAME, idx, ASN_OCTET_STR, p->name, strlen(p->name));
	long instances = p->n_running;
	long desired = p->have_status ? (long)p->desired : -1;
	if (notif >= VS_NOTIF_ACTION_STARTED) {
		const char *action = p->last_action ? p->last_action : "unknown";
		long result = vs_mib_last_result(p);
		add_pool_var(&vars, VS_POOL_LAST_ACTION, idx, ASN_OCTET_STR, action,
		             strlen(action));
		add_pool_var(&vars, VS_POOL_LAST_RESULT, idx, ASN_INTEGER, &result, sizeof(result));
		if (notif == VS_NOTIF_ACTION_FAILED) {
			const char *err = p->last_error ? p->last_error : "";
			add_pool_var(&vars, VS_POOL_LAST_ERROR, idx, ASN_OCTET_STR, err,
			             MIN(strlen(err), 255));
		}
		add_pool_var(&vars, VS_POOL_DESIRED, idx, ASN_INTEGER, &desired, sizeof(desired));
		add_pool_var(&vars, VS_POOL_INSTANCES, idx, ASN_GAUGE, &instances,
		             sizeof(instances));
	} else {
		long rec = p->recommended, cpu = hundredths(p->avg_cpu);
		long sess = hundredths(p->avg_sessions);
		add_pool_var(&vars, VS_POOL_INSTANCES, idx, ASN_GAUGE, &instances,
		             sizeof(instances));
		add_pool_var(&vars, VS_POOL_RECOMMENDED, idx, ASN_GAUGE, &rec, sizeof(rec));
		add_pool_var(&vars, VS_POOL_AVG_CPU, idx, ASN_INTEGER, &cpu, sizeof(cpu));
		add_pool_var(&vars, VS_POOL_AVG_SESSIONS, idx, ASN_INTEGER, &sess, sizeof(sess));
	}
	send_v2trap(vars);
	snmp_free_varbind(vars);
}

static int verdict_notification(long state)
{
	switch (state) {
	case 1:
		return VS_NOTIF_POOL_NORMAL;
	case 2:
		return VS_NOTIF_POOL_HIGH;
	case 3:
		return VS_NOTIF_POOL_LOW;
	case 4:
		return VS_NOTIF_POOL_AT_MAX;
	default:
		return 0;
	}
}

static int action_notification(const vs_pool_report *p)
{
	switch (vs_mib_last_result(p)) {
	case 2:
		return VS_NOTIF_ACTION_SUCCEEDED;
	case 3:
		return VS_NOTIF_ACTION_FAILED;
	case 4:
		return VS_NOTIF_ACTION_STARTED;
	default:
		return 0;
	}
}

static bool same_action(const vs_pool_report *a, const vs_pool_report *b)
{
	return a->have_status == b->have_status && a->last_time == b->last_time &&
	       vs_mib_last_result(a) == vs_mib_last_result(b) &&
	       g_strcmp0(a->last_action, b->last_action) == 0;
}

/**
 * pool_notify_changes:
 * Compares two consecutive reports pool by pool: a new policy verdict sends
 * vsPoolHigh/Low/Normal/AtMax (the first evaluation only when not ok), a
 * new or finished actuator action sends vsActionStarted/Succeeded/Failed.
 */
void pool_notify_changes(vs_agent *a, const vs_pools_report *old, const vs_pools_report *cur)
{
	for (guint i = 0; i < cur->pools->len; i++) {
		const vs_pool_report *p = g_ptr_array_index(cur->pools, i);
		const vs_pool_report *o =
		    old && i < old->pools->len ? g_ptr_array_index(old->pools, i) : NULL;
		long state = vs_mib_policy_state(p);
		long old_state = o ? vs_mib_policy_state(o) : 5;
		if (state != old_state && !(old_state == 5 && state == 1)) {
			int n = verdict_notification(state);
			if (n)
				send_pool_notification(n, p, i + 1);
		}
		if (p->have_status && p->last_time > 0 && (!o || !same_action(o, p))) {
			/* at start-up, only an action still running is news */
			int n = action_notification(p);
			if (n && (o || n == VS_NOTIF_ACTION_STARTED))
				send_pool_notification(n, p, i + 1);
		}
	}
}
