/* host-mib.c - vsHostTable from the collector's snapshot and the pool
 * report, and the host columns of vsBackendTable. Rows follow the
 * configuration (vsHostIndex = position of the host), so a host that has
 * never answered still has its row. */
#include "config.h"

#include "agent.h"
#include "mib-text.h"
#include "vs-snmp-oids.h"

#include <math.h>
#include <string.h>

/**
 * vs_host_index:
 * The vsHostIndex of the configured host @uri, 0 when none has it.
 */
oid vs_host_index(const vs_agent *a, const char *uri)
{
	for (guint i = 0; uri && i < a->cfg->host_configs->len; i++) {
		const vs_host_config *h = g_ptr_array_index(a->cfg->host_configs, i);

		if (strcmp(h->uri, uri) == 0)
			return i + 1;
	}
	return 0;
}

/**
 * vs_host_find:
 * The status of the host @uri in @snap, NULL before it was sampled.
 */
const vs_host_status *vs_host_find(const vs_snapshot *snap, const char *uri)
{
	for (guint i = 0; snap && snap->hosts && i < snap->hosts->len; i++) {
		const vs_host_status *h = g_ptr_array_index(snap->hosts, i);

		if (g_strcmp0(h->uri, uri) == 0)
			return h;
	}
	return NULL;
}

static long clamp_gauge(uint64_t v)
{
	return (long)MIN(v, (uint64_t)G_MAXUINT32);
}

/**
 * vs_host_down_since_real_s:
 * When @h stopped answering, in seconds since the epoch (its record is on
 * this process's monotonic clock); 0 while it answers.
 */
long vs_host_down_since_real_s(const vs_host_status *h)
{
	if (!h || h->down_since_mono_us <= 0)
		return 0;
	int64_t ago = g_get_monotonic_time() - h->down_since_mono_us;

	return (long)((g_get_real_time() - MAX(ago, 0)) / G_USEC_PER_SEC);
}

static void add_host_row(vs_mib_builder *b, const vs_agent *a, const vs_host_config *cfg,
                         const vs_host_status *h, oid idx)
{
	vs_host_cond cond = vs_host_status_condition(h);
	bool answers = cond == VS_HOST_COND_CONNECTED;
	char error[VS_POOL_LAST_ERROR_MAX + 1];
	long down_s = 0;

	vs_mib_last_error(h && h->last_error ? h->last_error : "", error);
	if (h && h->down_since_mono_us > 0)
		down_s =
		    (long)MAX(g_get_monotonic_time() - h->down_since_mono_us, 0) / G_USEC_PER_SEC;
#define COL(c) ((const oid[]){VS_OBJECTS, VS_HOST_TABLE, 1, (c)})
	vs_mib_add_string(b, COL(VS_HOST_NAME), 4, &idx, 1, cfg->name);
	vs_mib_add_string(b, COL(VS_HOST_URI), 4, &idx, 1, cfg->uri);
	vs_mib_add_int(b, COL(VS_HOST_STATE), 4, &idx, 1, ASN_INTEGER, vs_host_cond_mib(cond));
	vs_mib_add_int(b, COL(VS_HOST_INSTANCES), 4, &idx, 1, ASN_GAUGE,
	               vs_pools_report_host_instances(a->pools, cfg->uri));
	vs_mib_add_int(b, COL(VS_HOST_CPU_IDLE), 4, &idx, 1, ASN_INTEGER,
	               answers ? vs_hundredths(h->host_cpu_idle_percent) : -1);
	vs_mib_add_int(b, COL(VS_HOST_FREE_MEMORY), 4, &idx, 1, ASN_GAUGE,
	               answers ? clamp_gauge(h->host_free_mem_kib) : 0);
	vs_mib_add_int(b, COL(VS_HOST_TOTAL_MEMORY), 4, &idx, 1, ASN_GAUGE,
	               answers ? clamp_gauge(h->host_mem_kib) : 0);
	vs_mib_add_int(b, COL(VS_HOST_RTT), 4, &idx, 1, ASN_INTEGER,
	               answers && h->rtt_ms >= 0 ? MIN(lround(h->rtt_ms * 1000.0), G_MAXINT32)
	                                         : -1);
	vs_mib_add_int(b, COL(VS_HOST_DOWN_SINCE), 4, &idx, 1, ASN_UNSIGNED,
	               vs_host_down_since_real_s(h));
	vs_mib_add_int(b, COL(VS_HOST_DOWN_TIME), 4, &idx, 1, ASN_GAUGE, down_s);
	vs_mib_add_u64(b, COL(VS_HOST_RECONNECTS), 4, &idx, 1, h ? h->reconnects : 0);
	vs_mib_add_string(b, COL(VS_HOST_LAST_ERROR), 4, &idx, 1, error);
#undef COL
}

/**
 * vs_host_rows_add:
 * One vsHostTable row per configured host, from the snapshot the VM-MIB
 * view was built from and the newest pool report.
 */
void vs_host_rows_add(vs_mib_builder *b, const vs_agent *a)
{
	for (guint i = 0; i < a->cfg->host_configs->len; i++) {
		const vs_host_config *cfg = g_ptr_array_index(a->cfg->host_configs, i);

		add_host_row(b, a, cfg, vs_host_find(a->snap, cfg->uri), i + 1);
	}
}
