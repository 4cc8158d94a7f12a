/* migration-mib.c - vsMigrationTable: each pool's last (or running) live
 * migration and its last rebalancing move, from the actuator's status. */
#include "config.h"

#include "agent.h"
#include "vs-snmp-oids.h"

static void mig_int(vs_mib_builder *b, oid col, oid idx, u_char type, long v)
{
	const oid sub[] = {VS_OBJECTS, VS_MIGRATION_TABLE, 1, col};

	vs_mib_add_int(b, sub, 4, &idx, 1, type, v);
}

static void mig_str(vs_mib_builder *b, oid col, oid idx, const char *s)
{
	const oid sub[] = {VS_OBJECTS, VS_MIGRATION_TABLE, 1, col};

	vs_mib_add_string(b, sub, 4, &idx, 1, s ? s : "");
}

static long clamp32(uint64_t v)
{
	return (long)MIN(v, (uint64_t)G_MAXUINT32);
}

static void add_rebalance(vs_mib_builder *b, const vs_pool_status *st, oid idx)
{
	const vs_rebalance_status *rb = st->rebalance;
	const oid count[] = {VS_OBJECTS, VS_MIGRATION_TABLE, 1, VS_MIG_REBALANCES};

	mig_str(b, VS_MIG_REBALANCE_DOMAIN, idx, rb ? rb->domain : "");
	mig_str(b, VS_MIG_REBALANCE_FROM, idx, rb ? rb->from : "");
	mig_str(b, VS_MIG_REBALANCE_TO, idx, rb ? rb->to : "");
	mig_int(b, VS_MIG_REBALANCE_FROM_LOAD, idx, ASN_INTEGER,
	        rb ? vs_hundredths(rb->from_load) : 0);
	mig_int(b, VS_MIG_REBALANCE_TO_LOAD, idx, ASN_INTEGER, rb ? vs_hundredths(rb->to_load) : 0);
	/* TruthValue: true(1), false(2) */
	mig_int(b, VS_MIG_REBALANCE_DRY_RUN, idx, ASN_INTEGER, rb && rb->dry_run ? 1 : 2);
	mig_int(b, VS_MIG_REBALANCE_TIME, idx, ASN_UNSIGNED,
	        rb && rb->time > 0 ? (long)rb->time : 0);
	vs_mib_add_u64(b, count, 4, &idx, 1, st->rebalances);
}

/**
 * vs_migration_rows_add:
 * One vsMigrationTable row per configured pool (vsPoolIndex) whose status
 * has a migration or a rebalancing move.
 */
void vs_migration_rows_add(vs_mib_builder *b, const vs_agent *a, const vs_status *status)
{
	for (guint i = 0; status && i < a->cfg->pools->len; i++) {
		const vs_pool_config *cfg = g_ptr_array_index(a->cfg->pools, i);
		const vs_pool_status *st = vs_status_find_pool(status, cfg->name);
		const vs_migration_status *mg = st ? st->migration : NULL;
		const oid idx = i + 1;
		const oid count[] = {VS_OBJECTS, VS_MIGRATION_TABLE, 1, VS_MIGRATIONS};

		if (!mg && !(st && st->rebalance))
			continue;
		if (!mg) {
			static const vs_migration_status none = {.dirty_rate = -1};

			mg = &none;
		}
		mig_str(b, VS_MIGRATION_DOMAIN, idx, mg->domain);
		mig_str(b, VS_MIGRATION_FROM, idx, mg->from);
		mig_str(b, VS_MIGRATION_TO, idx, mg->to);
		mig_int(b, VS_MIGRATION_PATH, idx, ASN_INTEGER, mg->path <= 3 ? (long)mg->path : 0);
		mig_int(b, VS_MIGRATION_DIRTY_RATE, idx, ASN_INTEGER,
		        vs_hundredths(mg->dirty_rate));
		mig_int(b, VS_MIGRATION_STATE, idx, ASN_INTEGER, vs_result_mib(mg->result));
		mig_int(b, VS_MIGRATION_TOTAL_TIME, idx, ASN_UNSIGNED, clamp32(mg->total_ms));
		mig_int(b, VS_MIGRATION_DOWNTIME, idx, ASN_UNSIGNED, clamp32(mg->downtime_ms));
		mig_int(b, VS_MIGRATION_KBYTES, idx, ASN_UNSIGNED, clamp32(mg->bytes / 1024));
		mig_int(b, VS_MIGRATION_ITERATIONS, idx, ASN_UNSIGNED, clamp32(mg->iterations));
		mig_int(b, VS_MIGRATION_TIME, idx, ASN_UNSIGNED, mg->time > 0 ? (long)mg->time : 0);
		vs_mib_add_u64(b, count, 4, &idx, 1, st->migrations);
		add_rebalance(b, st, idx);
	}
}
