/*
 * vsc-usage.c - the usage counters as collectd DERIVE values, in the
 * exported units (seconds, MiB-seconds, bytes).
 */
#include "collectd.h"
#include "plugin.h"
#include "utils_time.h"
#include "vsc-plugin.h"
#include "vsc-usage.h"

static unsigned submit(const char *pi, const char *type, vs_usage_kind k, uint64_t raw, cdtime_t t,
                       cdtime_t interval)
{
	value_list_t vl = VALUE_LIST_INIT;
	value_t v = {.derive = (derive_t)vs_usage_export(k, raw)};

	vl.values = &v;
	vl.values_len = 1;
	vl.time = t;
	vl.interval = interval;
	g_strlcpy(vl.plugin, VSC_PLUGIN_NAME, sizeof(vl.plugin));
	g_strlcpy(vl.plugin_instance, pi, sizeof(vl.plugin_instance));
	g_strlcpy(vl.type, type, sizeof(vl.type));
	g_strlcpy(vl.type_instance, vs_usage_kind_name(k), sizeof(vl.type_instance));
	return plugin_dispatch_values(&vl) == 0;
}

unsigned vsc_usage_dispatch(vs_usage_store *st, const vs_config *cfg, cdtime_t interval)
{
	g_autoptr(vs_usage) u = vs_usage_store_copy(st);
	unsigned n = 0;

	if (!u->last_real_us)
		return 0; /* nothing accounted yet */
	cdtime_t t = US_TO_CDTIME_T((uint64_t)u->last_real_us);

	for (guint i = 0; i < cfg->pools->len; i++) {
		const vs_pool_config *p = g_ptr_array_index(cfg->pools, i);
		const vs_usage_counters *c = vs_usage_pool(u, p->name);

		for (int k = 0; k < VS_USAGE_N_KINDS; k++)
			n += submit(p->name, "vs_pool_usage", k, c ? c->v[k] : 0, t, interval);
	}
	g_autoptr(GPtrArray) uuids = vs_usage_domain_uuids(u);

	for (guint i = 0; i < uuids->len; i++) {
		const vs_usage_domain *d = vs_usage_domain_get(u, uuids->pdata[i]);

		if (!d->name || d->last_seen_real_us != u->last_real_us)
			continue; /* not in the newest snapshot */
		for (int k = 0; k < VS_USAGE_MAX_INSTANCE; k++)
			n += submit(d->name, "vs_domain_usage", k, d->c.v[k], t, interval);
	}
	return n;
}
