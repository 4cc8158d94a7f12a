/*
 * vm-migrating.c - whether a domain is being moved live by the actuator.
 * libvirt shows a migrating source as running until its last pause, so
 * VM-MIB's migrating(9) comes from the actuator's status: the domain of a
 * pool's running migration, on the host it leaves.
 */
#include "config.h"

#include "vm-migrating.h"

/**
 * vm_migrating_out: see vm-migrating.h.
 */
bool vm_migrating_out(const vs_status *st, const vs_config *cfg, const vs_domain_stats *d)
{
	const char *host = d->host_uri ? vs_config_host_name(cfg, d->host_uri) : NULL;

	for (guint i = 0; st && host && i < st->pools->len; i++) {
		const vs_pool_status *p = st->pools->pdata[i];
		const vs_migration_status *mg = p->migration;

		if (mg && mg->result == VS_RESULT_RUNNING && g_strcmp0(mg->domain, d->name) == 0 &&
		    g_strcmp0(mg->from, host) == 0)
			return true;
	}
	return false;
}
