/* vs-mib.c - the pool report -> VIRTSCALE-MIB view (general, pools, backends) */
#include "config.h"

#include "agent.h"
#include "vs-snmp-oids.h"

#include <arpa/inet.h>
#include <math.h>
#include <string.h>

static const oid zero[] = {0};

/* VsHundredths: -1 unknown */
static long hundredths(double v)
{
	if (v < 0 || isnan(v))
		return -1;
	double h = round(v * 100.0);
	return h > G_MAXINT32 ? G_MAXINT32 : (long)h;
}

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

/* VsPolicyState */
long vs_mib_policy_state(const vs_pool_report *p)
{
	if (!p->evaluated)
		return 5;
	switch (p->verdict) {
	case VS_VERDICT_OK:
		return 1;
	case VS_VERDICT_HIGH:
		return 2;
	case VS_VERDICT_LOW:
		return 3;
	default:
		return 4;
	}
}

/* vsPoolLastResult */
long vs_mib_last_result(const vs_pool_report *p)
{
	const char *r = p->have_status ? p->last_result : NULL;
	if (!r)
		return 5;
	if (!strcmp(r, "none"))
		return 1;
	if (!strcmp(r, "ok"))
		return 2;
	if (!strcmp(r, "failed"))
		return 3;
	if (!strcmp(r, "running"))
		return 4;
	return 5;
}

static long lb_value(vs_lb_state s)
{
	switch (s) {
	case VS_LB_STATE_ENABLED:
		return 2;
	case VS_LB_STATE_DRAINING:
		return 3;
	case VS_LB_STATE_DISABLED:
		return 4;
	default:
		return 1;
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

static void add_pool_row(vs_mib_builder *b, const vs_pool_report *p, oid idx)
{
	bool st = p->have_status;
	pool_str(b, VS_POOL_NAME, idx, p->name);
	pool_int(b, VS_POOL_MIN, idx, ASN_UNSIGNED, p->min);
	pool_int(b, VS_POOL_MAX, idx, ASN_UNSIGNED, p->max);
	pool_int(b, VS_POOL_INSTANCES, idx, ASN_GAUGE, p->n_running);
	pool_int(b, VS_POOL_DESIRED, idx, ASN_INTEGER, st ? (long)p->desired : -1);
	pool_int(b, VS_POOL_RECOMMENDED, idx, ASN_GAUGE, p->evaluated ? p->recommended : 0);
	pool_int(b, VS_POOL_POLICY, idx, ASN_INTEGER, policy_value(p->policy));
	pool_int(b, VS_POOL_AVG_CPU, idx, ASN_INTEGER, hundredths(p->avg_cpu));
	pool_int(b, VS_POOL_AVG_SESSIONS, idx, ASN_INTEGER, hundredths(p->avg_sessions));
	pool_int(b, VS_POOL_STATE, idx, ASN_INTEGER, vs_mib_policy_state(p));
	pool_str(b, VS_POOL_LAST_ACTION, idx, st && p->last_action ? p->last_action : "unknown");
	pool_int(b, VS_POOL_LAST_RESULT, idx, ASN_INTEGER, vs_mib_last_result(p));
	pool_int(b, VS_POOL_LAST_TIME, idx, ASN_UNSIGNED,
	         st && p->last_time > 0 ? (long)p->last_time : 0);
	pool_str(b, VS_POOL_LAST_ERROR, idx, st ? p->last_error : "");
	pool_u64(b, VS_POOL_SCALE_OUTS, idx, p->scale_outs);
	pool_u64(b, VS_POOL_SCALE_INS, idx, p->scale_ins);
	pool_u64(b, VS_POOL_FAILURES, idx, p->failures);
	pool_int(b, VS_POOL_SESSIONS, idx, ASN_GAUGE, p->total_sessions);
	pool_str(b, VS_POOL_PHASE, idx, st && p->phase ? p->phase : "unknown");
}

static void add_backend_rows(vs_mib_builder *b, vs_agent *a, const vs_pool_report *p, oid pool_idx)
{
	GHashTable *seen = g_hash_table_new(g_direct_hash, g_direct_equal);
	for (guint i = 0; i < p->backends->len; i++) {
		const vs_backend_report *be = &g_array_index(p->backends, vs_backend_report, i);
		oid bi = be->index;
		if (bi == 0 || bi > 99999 || g_hash_table_contains(seen, GUINT_TO_POINTER(bi)))
			bi = 100000 + i;
		g_hash_table_add(seen, GUINT_TO_POINTER(bi));
		const oid idx[] = {pool_idx, bi};
#define COL(c) ((const oid[]){VS_OBJECTS, VS_BACKEND_TABLE, 1, (c)})
		vs_mib_add_string(b, COL(VS_BACKEND_DOMAIN), 4, idx, 2, be->domain);
		vs_mib_add_int(b, COL(VS_BACKEND_VM_INDEX), 4, idx, 2, ASN_INTEGER,
		               be->uuid_str[0] ? vs_vm_index_lookup(a->vm_index, be->uuid_str) : 0);
		unsigned char addr[16];
		long type = 0;
		size_t alen = 0;
		if (be->have_endpoint) {
			if (inet_pton(AF_INET, be->endpoint.host, addr) == 1)
				type = 1, alen = 4;
			else if (inet_pton(AF_INET6, be->endpoint.host, addr) == 1)
				type = 2, alen = 16;
		}
		vs_mib_add_int(b, COL(VS_BACKEND_ADDR_TYPE), 4, idx, 2, ASN_INTEGER, type);
		vs_mib_add(b, COL(VS_BACKEND_ADDR), 4, idx, 2, ASN_OCTET_STR, addr, alen);
		vs_mib_add_int(b, COL(VS_BACKEND_PORT), 4, idx, 2, ASN_UNSIGNED,
		               be->have_endpoint ? be->endpoint.port : 0);
		vs_mib_add_int(b, COL(VS_BACKEND_SESSIONS), 4, idx, 2, ASN_GAUGE,
		               be->have_sessions ? be->sessions : 0);
		vs_mib_add_int(b, COL(VS_BACKEND_CAPACITY), 4, idx, 2, ASN_GAUGE,
		               p->capacity > 0 ? (long)p->capacity : 0);
		vs_mib_add_int(b, COL(VS_BACKEND_RATIO), 4, idx, 2, ASN_INTEGER,
		               be->have_sessions ? hundredths(be->ratio * 100.0) : -1);
		vs_mib_add_int(b, COL(VS_BACKEND_LB_STATE), 4, idx, 2, ASN_INTEGER,
		               lb_value(be->lb));
		vs_mib_add_int(b, COL(VS_BACKEND_RUNNING), 4, idx, 2, ASN_INTEGER,
		               be->running ? 1 : 2);
		vs_mib_add_int(b, COL(VS_BACKEND_CPU), 4, idx, 2, ASN_INTEGER, hundredths(be->cpu));
#undef COL
	}
	g_hash_table_destroy(seen);
}

/**
 * vs_mib_build:
 * VIRTSCALE-MIB from the pool worker's report @r (NULL before the first
 * one: the pools are listed from the configuration with nothing measured)
 * and the VM-MIB snapshot for the general group.
 */
vs_mib_view *vs_mib_build(vs_agent *a, const vs_pools_report *r)
{
	static const oid root[] = {VS_ENTERPRISE_ARC};
	vs_mib_builder b;
	vs_mib_builder_init(&b, root, G_N_ELEMENTS(root));

	static const oid version[] = {VS_OBJECTS, VS_GENERAL, 1};
	static const oid actuator[] = {VS_OBJECTS, VS_GENERAL, 2};
	static const oid number[] = {VS_OBJECTS, VS_GENERAL, 3};
	static const oid hosts[] = {VS_OBJECTS, VS_GENERAL, 4};
	static const oid age[] = {VS_OBJECTS, VS_GENERAL, 5};
	vs_mib_add_string(&b, version, 3, zero, 1, PACKAGE_VERSION);
	vs_mib_add_int(&b, actuator, 3, zero, 1, ASN_INTEGER, r && r->actuator_available ? 1 : 2);
	vs_mib_add_int(&b, number, 3, zero, 1, ASN_INTEGER, r ? (long)r->pools->len : 0);
	long connected = 0, age_ms = 0;
	if (a->snap) {
		for (guint i = 0; a->snap->hosts && i < a->snap->hosts->len; i++) {
			const vs_host_status *h = g_ptr_array_index(a->snap->hosts, i);
			connected += h->state == VS_HOST_CONNECTED;
		}
		if (a->snap->taken_mono_us > 0)
			age_ms = (g_get_monotonic_time() - a->snap->taken_mono_us) / 1000;
	}
	vs_mib_add_int(&b, hosts, 3, zero, 1, ASN_GAUGE, connected);
	vs_mib_add_int(&b, age, 3, zero, 1, ASN_GAUGE, MAX(age_ms, 0));

	for (guint i = 0; r && i < r->pools->len; i++) {
		const vs_pool_report *p = g_ptr_array_index(r->pools, i);
		add_pool_row(&b, p, i + 1);
		add_backend_rows(&b, a, p, i + 1);
	}
	return vs_mib_builder_finish(&b);
}
