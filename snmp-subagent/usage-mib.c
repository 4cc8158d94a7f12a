/*
 * usage-mib.c - VIRTSCALE-MIB's usage accounting (vsUsage): the
 * discontinuity time, vsUsagePoolTable (one row per configured pool, as
 * vsPoolTable) and vsUsageDomainTable (one row per domain UUID accounted),
 * from a copy of the program's usage counters (lib/vs-usage-store.c) taken
 * at most once a second in the main loop.
 */
#include "config.h"

#include "agent.h"
#include "vs-snmp-oids.h"

#include <string.h>

/* The UUID's 16 bytes as index sub-identifiers; false when malformed. */
static bool uuid_index(const char *uuid, oid idx[16])
{
	size_t n = 0;

	for (const char *p = uuid; *p && n < 16; p++) {
		if (*p == '-')
			continue;
		int hi = g_ascii_xdigit_value(p[0]);
		int lo = p[1] ? g_ascii_xdigit_value(p[1]) : -1;

		if (hi < 0 || lo < 0)
			return false;
		idx[n++] = (oid)(hi * 16 + lo);
		p++;
	}
	return n == 16;
}

static void add_pool_row(vs_mib_builder *b, const vs_usage_counters *c, oid idx)
{
	for (int k = 0; k < VS_USAGE_N_KINDS; k++) {
		const oid col[] = {VS_OBJECTS, VS_USAGE, VS_USAGE_POOL_TABLE, 1,
		                   VS_USAGE_POOL_COL(k)};

		vs_mib_add_u64(b, col, 5, &idx, 1, c ? vs_usage_export(k, c->v[k]) : 0);
	}
}

static void add_domain_row(vs_mib_builder *b, const vs_usage_domain *d)
{
	oid idx[16];

	if (!uuid_index(d->uuid, idx))
		return;
#define COL(c) ((const oid[]){VS_OBJECTS, VS_USAGE, VS_USAGE_DOMAIN_TABLE, 1, (c)})
	vs_mib_add_string(b, COL(VS_USAGE_DOMAIN_NAME), 5, idx, 16, d->name ? d->name : "");
	vs_mib_add_string(b, COL(VS_USAGE_DOMAIN_POOL), 5, idx, 16, d->pool ? d->pool : "");
	for (int k = 0; k < VS_USAGE_MAX_INSTANCE; k++)
		vs_mib_add_u64(b, COL(VS_USAGE_DOMAIN_COL(k)), 5, idx, 16,
		               vs_usage_export(k, d->c.v[k]));
#undef COL
}

/**
 * vs_usage_rows_add:
 * vsUsage from the newest copy of the counters (none yet: no rows).
 */
void vs_usage_rows_add(vs_mib_builder *b, vs_agent *a)
{
	static const oid disc[] = {VS_OBJECTS, VS_USAGE, VS_USAGE_DISCONTINUITY};
	static const oid zero[] = {0};
	int64_t now = g_get_monotonic_time();

	if (!a->usage)
		return;
	if (!a->usage_view || now - a->usage_view_us >= G_USEC_PER_SEC) {
		vs_usage_free(a->usage_view);
		a->usage_view = vs_usage_store_copy(a->usage);
		a->usage_view_us = now;
	}
	const vs_usage *u = a->usage_view;

	vs_mib_add_int(b, disc, 3, zero, 1, ASN_UNSIGNED,
	               (long)MIN(MAX(u->discontinuity_us, 0) / G_USEC_PER_SEC, G_MAXUINT32));
	for (guint i = 0; i < a->cfg->pools->len; i++) {
		const vs_pool_config *p = g_ptr_array_index(a->cfg->pools, i);

		add_pool_row(b, vs_usage_pool(u, p->name), i + 1);
	}
	g_autoptr(GPtrArray) uuids = vs_usage_domain_uuids(u);

	for (guint i = 0; i < uuids->len; i++)
		add_domain_row(b, vs_usage_domain_get(u, uuids->pdata[i]));
}
