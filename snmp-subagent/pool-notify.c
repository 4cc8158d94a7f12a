/* pool-notify.c - VIRTSCALE-MIB notifications: pool verdicts (from the pool
 * monitor's notices, the same ones collectd turns into notifications),
 * the actuator's actions and the end of its migrations (from its status). */
#include "config.h"

#include "agent.h"
#include "mib-text.h"
#include "vs-snmp-oids.h"

#include <string.h>

static const oid snmp_trap_oid[] = {1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0};

static void add_pool_var(netsnmp_variable_list **vars, oid col, oid idx, u_char type,
                         const void *val, size_t len)
{
	const oid name[] = {VS_ENTERPRISE_ARC, VS_OBJECTS, VS_POOL_TABLE, 1, col, idx};
	snmp_varlist_add_variable(vars, name, G_N_ELEMENTS(name), type, val, len);
}

static netsnmp_variable_list *start_trap(int notif, const char *pool, oid idx)
{
	const oid trap[] = {VS_ENTERPRISE_ARC, 0, notif};
	netsnmp_variable_list *vars = NULL;

	snmp_varlist_add_variable(&vars, snmp_trap_oid, G_N_ELEMENTS(snmp_trap_oid), ASN_OBJECT_ID,
	                          trap, sizeof(trap));
	add_pool_var(&vars, VS_POOL_NAME, idx, ASN_OCTET_STR, pool, strlen(pool));
	return vars;
}

static void send_trap(netsnmp_variable_list *vars)
{
	send_v2trap(vars);
	snmp_free_varbind(vars);
}

static int verdict_notification(vs_verdict v)
{
	switch (v) {
	case VS_VERDICT_OK:
		return VS_NOTIF_POOL_NORMAL;
	case VS_VERDICT_HIGH:
		return VS_NOTIF_POOL_HIGH;
	case VS_VERDICT_LOW:
		return VS_NOTIF_POOL_LOW;
	case VS_VERDICT_AT_MAX:
		return VS_NOTIF_POOL_AT_MAX;
	case VS_VERDICT_UNKNOWN:
		break;
	}
	return 0;
}

/* vsPoolIndex of a configured pool. */
static oid pool_index(const vs_agent *a, const vs_pool_config *pool)
{
	for (guint i = 0; i < a->cfg->pools->len; i++)
		if (g_ptr_array_index(a->cfg->pools, i) == pool)
			return i + 1;
	return 0;
}

/**
 * pool_notify_verdicts:
 * One vsPoolHigh, vsPoolLow, vsPoolNormal or vsPoolAtMax per notice: the
 * pool's verdict changed (the monitor gives none for a first "ok").
 */
void pool_notify_verdicts(vs_agent *a, GQueue *notices)
{
	for (GList *l = notices->head; l; l = l->next) {
		const vs_pool_notice *n = l->data;
		int notif = verdict_notification(n->verdict);
		oid idx = pool_index(a, n->pool);
		long instances = n->decision.current, rec = n->decision.desired;
		long cpu = vs_hundredths(n->avg_cpu), sess = vs_hundredths(n->avg_sessions);

		if (!notif || !idx)
			continue;
		netsnmp_variable_list *vars = start_trap(notif, n->pool->name, idx);
		add_pool_var(&vars, VS_POOL_INSTANCES, idx, ASN_GAUGE, &instances,
		             sizeof(instances));
		add_pool_var(&vars, VS_POOL_RECOMMENDED, idx, ASN_GAUGE, &rec, sizeof(rec));
		add_pool_var(&vars, VS_POOL_AVG_CPU, idx, ASN_INTEGER, &cpu, sizeof(cpu));
		add_pool_var(&vars, VS_POOL_AVG_SESSIONS, idx, ASN_INTEGER, &sess, sizeof(sess));
		send_trap(vars);
	}
}

static int action_notification(vs_result r)
{
	switch (r) {
	case VS_RESULT_OK:
		return VS_NOTIF_ACTION_SUCCEEDED;
	case VS_RESULT_FAILED:
		return VS_NOTIF_ACTION_FAILED;
	case VS_RESULT_RUNNING:
		return VS_NOTIF_ACTION_STARTED;
	default:
		return 0;
	}
}

static bool same_action(const vs_pool_status *x, const vs_pool_status *y)
{
	return x->last_time == y->last_time && x->last_result == y->last_result &&
	       x->last_action == y->last_action;
}

static void send_action_notification(int notif, const vs_pool_status *p, oid idx)
{
	netsnmp_variable_list *vars = start_trap(notif, p->name, idx);
	const char *action = vs_action_name(p->last_action);
	long result = vs_result_mib(p->last_result);
	long desired = p->desired, instances = p->actual;

	add_pool_var(&vars, VS_POOL_LAST_ACTION, idx, ASN_OCTET_STR, action, strlen(action));
	add_pool_var(&vars, VS_POOL_LAST_RESULT, idx, ASN_INTEGER, &result, sizeof(result));
	if (notif == VS_NOTIF_ACTION_FAILED) {
		char error[VS_POOL_LAST_ERROR_MAX + 1];
		size_t len = vs_mib_last_error(p->last_error, error);

		add_pool_var(&vars, VS_POOL_LAST_ERROR, idx, ASN_OCTET_STR, error, len);
	}
	add_pool_var(&vars, VS_POOL_DESIRED, idx, ASN_INTEGER, &desired, sizeof(desired));
	add_pool_var(&vars, VS_POOL_INSTANCES, idx, ASN_GAUGE, &instances, sizeof(instances));
	send_trap(vars);
}

static void add_migration_var(netsnmp_variable_list **vars, oid col, oid idx, u_char type,
                              const void *val, size_t len)
{
	const oid name[] = {VS_ENTERPRISE_ARC, VS_OBJECTS, VS_MIGRATION_TABLE, 1, col, idx};
	snmp_varlist_add_variable(vars, name, G_N_ELEMENTS(name), type, val, len);
}

static void add_migration_str(netsnmp_variable_list **vars, oid col, oid idx, const char *v)
{
	v = v ? v : "";
	add_migration_var(vars, col, idx, ASN_OCTET_STR, v, MIN(strlen(v), 255));
}

/* vsMigrationSucceeded / vsMigrationFailed with the row's figures. */
static void send_migration_notification(const vs_pool_status *p, oid idx)
{
	const vs_migration_status *mg = p->migration;
	int notif =
	    mg->result == VS_RESULT_OK ? VS_NOTIF_MIGRATION_SUCCEEDED : VS_NOTIF_MIGRATION_FAILED;
	netsnmp_variable_list *vars = start_trap(notif, p->name, idx);
	long path = mg->path <= 3 ? (long)mg->path : 0, state = vs_result_mib(mg->result);
	u_long total = (u_long)MIN(mg->total_ms, (uint64_t)G_MAXUINT32);
	u_long down = (u_long)MIN(mg->downtime_ms, (uint64_t)G_MAXUINT32);
	u_long kib = (u_long)MIN(mg->bytes / 1024, (uint64_t)G_MAXUINT32);

	add_migration_str(&vars, VS_MIGRATION_DOMAIN, idx, mg->domain);
	add_migration_str(&vars, VS_MIGRATION_FROM, idx, mg->from);
	add_migration_str(&vars, VS_MIGRATION_TO, idx, mg->to);
	add_migration_var(&vars, VS_MIGRATION_PATH, idx, ASN_INTEGER, &path, sizeof(path));
	add_migration_var(&vars, VS_MIGRATION_STATE, idx, ASN_INTEGER, &state, sizeof(state));
	add_migration_var(&vars, VS_MIGRATION_TOTAL_TIME, idx, ASN_UNSIGNED, &total, sizeof(total));
	add_migration_var(&vars, VS_MIGRATION_DOWNTIME, idx, ASN_UNSIGNED, &down, sizeof(down));
	add_migration_var(&vars, VS_MIGRATION_KBYTES, idx, ASN_UNSIGNED, &kib, sizeof(kib));
	send_trap(vars);
}

/* Has the migration of @cur ended since @old (the same one, or none)? */
static bool migration_ended(const vs_migration_status *old, const vs_migration_status *cur)
{
	if (!cur || (cur->result != VS_RESULT_OK && cur->result != VS_RESULT_FAILED))
		return false;
	return !old || old->time != cur->time || old->result != cur->result ||
	       g_strcmp0(old->domain, cur->domain) != 0;
}

/**
 * pool_notify_actions:
 * Compares two consecutive actuator states pool by pool: a new or finished
 * action sends vsActionStarted/Succeeded/Failed, a migration that ended
 * vsMigrationSucceeded/Failed. At start-up (@old NULL) only an action
 * still running is news.
 */
void pool_notify_actions(vs_agent *a, const vs_status *old, const vs_status *cur)
{
	for (guint i = 0; cur && i < a->cfg->pools->len; i++) {
		const vs_pool_config *cfg = g_ptr_array_index(a->cfg->pools, i);
		const vs_pool_status *p = vs_status_find_pool(cur, cfg->name);
		const vs_pool_status *o = vs_status_find_pool(old, cfg->name);
		int notif;

		if (p && o && migration_ended(o->migration, p->migration))
			send_migration_notification(p, i + 1);
		if (!p || p->last_time <= 0 || (o && same_action(o, p)))
			continue;
		notif = action_notification(p->last_result);
		if (notif && (o || notif == VS_NOTIF_ACTION_STARTED))
			send_action_notification(notif, p, i + 1);
	}
}
