/*
 * vsc-usage.h - the usage counters (lib/vs-usage-store.h) as collectd
 * values: DERIVE, so Prometheus or Graphite compute rates. Include after
 * collectd.h and plugin.h.
 */
#ifndef VSC_USAGE_H
#define VSC_USAGE_H

#include "vs-config.h"
#include "vs-usage-store.h"

/* Per configured pool: type vs_pool_usage, plugin_instance the pool,
 * type_instance the kind ("instance_seconds", ...); per domain in the newest
 * snapshot: vs_domain_usage, plugin_instance the domain's name. Returns
 * values sent. Copies the counters (never waits for libvirt). */
unsigned vsc_usage_dispatch(vs_usage_store *st, const vs_config *cfg, cdtime_t interval);

#endif
