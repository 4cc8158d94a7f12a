/* vs-mib.c - the pool report and the actuator's status -> the VIRTSCALE-MIB
 * view (general, pools, backends; the hosts are in host-mib.c). Every enumeration's number comes
 * from lib/vs-states.h, the one table of states. */
#include "config.h"

#include "agent.h"
#include "vs-snmp-oids.h"
#include "mib-text.h"

#include <arpa/inet.h>
#include <string.h>

static const oid zero[] = {0};

static long policy_value(vs_policy_kind k)
{
	switch (k) {
	case VS_POLICY_AVERAGE:
		return 1;
	case VS_POLICY_RATIO:
		return 2;
	default:
		return 3;
	}
}

static void pool_int(vs_mib_builder *b, oid col, oid idx, u_char type, long v)
{
	const oid sub[] = {VS_OBJECTS, VS_POOL_TABLE, 1, col};
	vs_mib_add_int(b, sub, 4, &idx, 1, type, v);
}

static void pool_str(vs_mib_builder *b, oid col, oid idx, const char *s)
{
	const oid sub[] = {VS_OBJECTS, VS_POOL_TABLE, 1, col};
	vs_mib_add_string(b, sub, 4, &idx, 1, s);
}

static void pool_u64(vs_mib_builder *b, oid col, oid idx, uint64_t v)
{
	const oid sub[] = {VS_OBJECTS, VS_POOL_TABLE, 1, col};
	vs_mib_add_u64(b, sub, 4, &idx, 1, v);
}

/* The columns the pool's configuration and evaluation give. */
static void add_pool_measures(vs_mib_builder *b, const vs_pool_config *cfg, const vs_pool_report *p,
                              oid idx)
{
	const vs_pool_view *v = p ? p->view : NULL;

	pool_str(b, VS_POOL_NAME, idx, cfg->name);
	pool_int(b, VS_POOL_MIN, idx, ASN_UNSIGNED, cfg->min);
	pool_int(b, VS_POOL_MAX, idx, ASN_UNSIGNED, cfg->max);
	pool_int(b, VS_POOL_INSTANCES, idx, ASN_GAUGE, v ? v->n_running : 0);
	pool_int(b, VS_POOL_RECOMMENDED, idx, ASN_GAUGE,
	         p && p->evaluated ? p->decision.desired : 0);
	pool_int(b, VS_POOL_POLICY, idx, ASN_INTEGER, policy_value(cfg->policy));
	pool_int(b, VS_POOL_AVG_CPU, idx, ASN_INTEGER, vs_hundredths(v ? v->avg_cpu : -1));
	pool_int(b, VS_POOL_AVG_SESSIONS, idx, ASN_INTEGER,
	         vs_hundredths(v ? v->avg_sessions : -1));
	pool_int(b, VS_POOL_STATE, idx, ASN_INTEGER,
	         vs_verdict_mib(p ? p->verdict : VS_VERDICT_UNKNOWN));
	pool_int(b, VS_POOL_SESSIONS, idx, ASN_GAUGE, v ? v->total_sessions : 0);
	pool_int(b, VS_POOL_WARM, idx, ASN_GAUGE, v ? v->n_warm : 0);
}

/* The columns the actuator's status gives (NULL: the actuator is absent). */
static void add_pool_actuator(vs_mib_builder *b, const vs_pool_status *st, oid idx)
{
	vs_phase phase = st ? st->phase : VS_PHASE_UNKNOWN;
	vs_action action = st ? st->last_action : VS_ACTION_UNKNOWN;
	char last_error[VS_POOL_LAST_ERROR_MAX + 1];

	vs_mib_last_error(st ? st->last_error : "", last_error);

	pool_int(b, VS_POOL_DESIRED, idx, ASN_INTEGER, st ? (long)st->desired : -1);
	pool_str(b, VS_POOL_LAST_ACTION, idx, vs_action_name(action));
	pool_int(b, VS_POOL_LAST_RESULT, idx, ASN_INTEGER,
	         vs_result_mib(st ? st->last_result : VS_RESULT_UNKNOWN));
	pool_int(b, VS_POOL_LAST_TIME, idx, ASN_UNSIGNED,
	         st && st->last_time > 0 ? (long)st->last_time : 0);
	pool_str(b, VS_POOL_LAST_ERROR, idx, last_error);
	pool_u64(b, VS_POOL_SCALE_OUTS, idx, st ? st->scale_outs : 0);
	pool_u64(b, VS_POOL_SCALE_INS, idx, st ? st->scale_ins : 0);
	pool_u64(b, VS_POOL_FAILURES, idx, st ? st->failures : 0);
	pool_str(b, VS_POOL_PHASE, idx, vs_phase_name(phase));
	pool_int(b, VS_POOL_PHASE_STATE, idx, ASN_INTEGER, vs_phase_mib(phase));
	pool_int(b, VS_POOL_LAST_ACTION_KIND, idx, ASN_INTEGER, vs_action_mib(action));
	pool_u64(b, VS_POOL_ALERTS, idx, st ? st->alerts : 0);
	pool_int(b, VS_POOL_LAST_ALERT, idx, ASN_INTEGER,
	         vs_alert_kind_mib(st ? st->last_alert : VS_ALERT_UNKNOWN));
	pool_int(b, VS_POOL_LAST_ALERT_TIME, idx, ASN_UNSIGNED,
	         st && st->last_alert_time > 0 ? (long)st->last_alert_time : 0);
}

/* A member's balancer state: the pool's session source knows it (Apache),
 * else the actuator's status. */
static vs_lb_state member_lb_state(const vs_member *m, const vs_pool_status *st)
{
	for (guint i = 0; m->lb_state == VS_LB_STATE_UNKNOWN && st && i < st->instances->len; i++) {
		const vs_member *sm = st->instances->pdata[i];

		if (g_strcmp0(sm->name, m->name) == 0)
			return sm->lb_state;
	}
	return m->lb_state;
}

static void add_backend_rows(vs_mib_builder *b, vs_agent *a, const vs_pool_report *p,
                             const vs_pool_status *st, oid pool_idx)
{
	g_autoptr(GHashTable) seen = g_hash_table_new(g_direct_hash, g_direct_equal);
	double capacity = p->cfg->session_capacity;

	for (guint i = 0; i < p->view->members->len; i++) {
		const vs_member *m = p->view->members->pdata[i];
		oid bi = m->index;
		if (bi == 0 || bi > 99999 || g_hash_table_contains(seen, GUINT_TO_POINTER(bi)))
			bi = 100000 + i;
		g_hash_table_add(seen, GUINT_TO_POINTER(bi));
		const oid idx[] = {pool_idx, bi};
#define COL(c) ((const oid[]){VS_OBJECTS, VS_BACKEND_TABLE, 1, (c)})
		vs_mib_add_string(b, COL(VS_BACKEND_DOMAIN), 4, idx, 2, m->name);
		vs_mib_add_int(b, COL(VS_BACKEND_VM_INDEX), 4, idx, 2, ASN_INTEGER,
		               m->uuid_str[0] ? vs_vm_index_lookup(a->vm_index, m->uuid_str) : 0);
		unsigned char addr[16];
		long type = 0;
		size_t alen = 0;
		if (m->have_endpoint) {
			if (inet_pton(AF_INET, m->endpoint.host, addr) == 1)
				type = 1, alen = 4;
			else if (inet_pton(AF_INET6, m->endpoint.host, addr) == 1)
				type = 2, alen = 16;
		}
		vs_mib_add_int(b, COL(VS_BACKEND_ADDR_TYPE), 4, idx, 2, ASN_INTEGER, type);
		vs_mib_add(b, COL(VS_BACKEND_ADDR), 4, idx, 2, ASN_OCTET_STR, addr, alen);
		vs_mib_add_int(b, COL(VS_BACKEND_PORT), 4, idx, 2, ASN_UNSIGNED,
		               m->have_endpoint ? m->endpoint.port : 0);
		vs_mib_add_int(b, COL(VS_BACKEND_SESSIONS), 4, idx, 2, ASN_GAUGE,
		               m->sessions >= 0 ? m->sessions : 0);
		vs_mib_add_int(b, COL(VS_BACKEND_CAPACITY), 4, idx, 2, ASN_GAUGE,
		               capacity > 0 ? (long)capacity : 0);
		vs_mib_add_int(b, COL(VS_BACKEND_RATIO), 4, idx, 2, ASN_INTEGER,
		               m->sessions >= 0 ? vs_hundredths(m->ratio * 100.0) : -1);
		vs_mib_add_int(b, COL(VS_BACKEND_LB_STATE), 4, idx, 2, ASN_INTEGER,
		               vs_lb_state_mib(member_lb_state(m, st)));
		vs_mib_add_int(b, COL(VS_BACKEND_RUNNING), 4, idx, 2, ASN_INTEGER,
		               m->running ? 1 : 2);
		vs_mib_add_int(b, COL(VS_BACKEND_CPU), 4, idx, 2, ASN_INTEGER,
		               vs_hundredths(m->cpu_percent));
		vs_mib_add_int(b, COL(VS_BACKEND_HOST_INDEX), 4, idx, 2, ASN_INTEGER,
		               vs_host_index(a, m->host_uri));
		vs_mib_add_string(b, COL(VS_BACKEND_HOST), 4, idx, 2,
		                  m->host_uri ? vs_config_host_name(a->cfg, m->host_uri) : "");
		vs_mib_add_int(b, COL(VS_BACKEND_WARM), 4, idx, 2, ASN_INTEGER, m->warm ? 1 : 2);
#undef COL
	}
}

static void add_general(vs_mib_builder *b, vs_agent *a, const vs_status *status)
{
	static const oid version[] = {VS_OBJECTS, VS_GENERAL, 1};
	static const oid actuator[] = {VS_OBJECTS, VS_GENERAL, 2};
	static const oid number[] = {VS_OBJECTS, VS_GENERAL, 3};
	static const oid hosts[] = {VS_OBJECTS, VS_GENERAL, 4};
	static const oid age[] = {VS_OBJECTS, VS_GENERAL, 5};
	long connected = 0, age_ms = 0;

	vs_mib_add_string(b, version, 3, zero, 1, PACKAGE_VERSION);
	vs_mib_add_int(b, actuator, 3, zero, 1, ASN_INTEGER, status ? 1 : 2);
	vs_mib_add_int(b, number, 3, zero, 1, ASN_INTEGER, a->cfg->pools->len);
	if (a->snap) {
		for (guint i = 0; a->snap->hosts && i < a->snap->hosts->len; i++) {
			const vs_host_status *h = g_ptr_array_index(a->snap->hosts, i);
			connected += h->state == VS_HOST_CONNECTED;
		}
		if (a->snap->taken_mono_us > 0)
			age_ms = (g_get_monotonic_time() - a->snap->taken_mono_us) / 1000;
	}
	vs_mib_add_int(b, hosts, 3, zero, 1, ASN_GAUGE, connected);
	vs_mib_add_int(b, age, 3, zero, 1, ASN_GAUGE, MAX(age_ms, 0));
}

/**
 * vs_mib_build:
 * VIRTSCALE-MIB from the newest pool report (before the first one the pools
 * are listed from the configuration, nothing measured), the actuator's
 * status and the VM-MIB snapshot for the general group and the hosts.
 */
vs_mib_view *vs_mib_build(vs_agent *a)
{
	static const oid root[] = {VS_ENTERPRISE_ARC};
	const vs_status *status = a->io_report ? a->io_report->status : NULL;
	vs_mib_builder b;

	vs_mib_builder_init(&b, root, G_N_ELEMENTS(root));
	add_general(&b, a, status);
	vs_host_rows_add(&b, a);
	vs_usage_rows_add(&b, a);
	vs_migration_rows_add(&b, a, status);
	for (guint i = 0; i < a->cfg->pools->len; i++) {
		const vs_pool_config *cfg = g_ptr_array_index(a->cfg->pools, i);
		const vs_pool_report *p = a->pools ? g_ptr_array_index(a->pools->pools, i) : NULL;
		const vs_pool_status *st = vs_status_find_pool(status, cfg->name);

		add_pool_measures(&b, cfg, p, i + 1);
		add_pool_actuator(&b, st, i + 1);
		if (p)
			add_backend_rows(&b, a, p, st, i + 1);
	}
	return vs_mib_builder_finish(&b);
}
