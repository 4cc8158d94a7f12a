/*
 * vsc-values.c - dispatches the snapshot and the pool report as collectd
 * values (see vsc-values.h).
 *
 * Per-domain values use the types of collectd's stock virt plugin, with
 * plugin "virtscale" and plugin_instance the domain name, so a dashboard
 * written for one needs only the plugin name changed. Every value carries
 * the time libvirt was sampled, not the time of the read: the monitor-bound
 * groups are sampled less often, and a sample is dispatched once only.
 */
#include "collectd.h"
#include "plugin.h"
#include "utils_time.h"

#include "vsc-names.h"
#include "vsc-plugin.h"
#include "vsc-values.h"

#include <math.h>
#include <string.h>

typedef struct sent_mark {
	int64_t fast_mono_us;
	int64_t slow_mono_us;
	uint64_t seen_generation;
	int state;   /* the domain state of the last fast values sent */
	bool active; /* whether they had the CPU values of a running domain */
} sent_mark;

struct vsc_values {
	/* the read thread and the collector thread (vsc_values_dispatch_changes)
	 * both send domain values: one of them at a time decides what is new */
	GMutex lock;
	GHashTable *sent; /* "uri\nname" -> sent_mark */
	uint64_t pools_generation;
	bool pools_sent;
	uint64_t hosts_generation;
	GPtrArray *host_instances; /* plugin_instance of each configured host */
};

/**
 * vsc_values_new: the dispatcher's memory of what was already sent.
 */
vsc_values *vsc_values_new(void)
{
	vsc_values *v = g_new0(vsc_values, 1);

	g_mutex_init(&v->lock);
	v->sent = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	return v;
}

/**
 * vsc_values_free: frees @v.
 */
void vsc_values_free(vsc_values *v)
{
	if (!v)
		return;
	g_hash_table_unref(v->sent);
	g_mutex_clear(&v->lock);
	if (v->host_instances)
		g_ptr_array_unref(v->host_instances);
	g_free(v);
}

static int submit(const char *plugin_instance, const char *type, const char *type_instance,
                  value_t *values, size_t n, cdtime_t time, cdtime_t interval)
{
	value_list_t vl = VALUE_LIST_INIT;

	vl.values = values;
	vl.values_len = n;
	vl.time = time;
	vl.interval = interval;
	g_strlcpy(vl.plugin, VSC_PLUGIN_NAME, sizeof(vl.plugin));
	g_strlcpy(vl.plugin_instance, plugin_instance, sizeof(vl.plugin_instance));
	g_strlcpy(vl.type, type, sizeof(vl.type));
	if (type_instance)
		g_strlcpy(vl.type_instance, type_instance, sizeof(vl.type_instance));
	return plugin_dispatch_values(&vl) == 0 ? 1 : 0;
}

static int submit_derive(const char *pi, const char *type, const char *ti, uint64_t d, cdtime_t t,
                         cdtime_t iv)
{
	value_t v[] = {{.derive = (derive_t)d}};

	return submit(pi, type, ti, v, 1, t, iv);
}

static int submit_derive2(const char *pi, const char *type, const char *ti, uint64_t a, uint64_t b,
                          cdtime_t t, cdtime_t iv)
{
	value_t v[] = {{.derive = (derive_t)a}, {.derive = (derive_t)b}};

	return submit(pi, type, ti, v, 2, t, iv);
}

static int submit_gauge(const char *pi, const char *type, const char *ti, double g, cdtime_t t,
                        cdtime_t iv)
{
	value_t v[] = {{.gauge = g}};

	return submit(pi, type, ti, v, 1, t, iv);
}

static int submit_gauge2(const char *pi, const char *type, const char *ti, double a, double b,
                         cdtime_t t, cdtime_t iv)
{
	value_t v[] = {{.gauge = a}, {.gauge = b}};

	return submit(pi, type, ti, v, 2, t, iv);
}

/* Wall-clock time of a sample taken at @mono_us, from the snapshot's pair. */
static cdtime_t sample_time(const vs_snapshot *snap, int64_t mono_us)
{
	int64_t real_us = snap->taken_real_us;

	if (mono_us > 0)
		real_us += mono_us - snap->taken_mono_us;
	return US_TO_CDTIME_T((uint64_t)real_us);
}

/* The fast group: state and CPU. */
static unsigned dispatch_fast(const vs_domain_stats *d, cdtime_t t, cdtime_t iv)
{
	unsigned n = 0;

	n += submit_gauge2(d->name, "domain_state", NULL, d->state, d->reason, t, iv);
	if (d->id < 0)
		return n;
	n += submit_derive(d->name, "virt_cpu_total", NULL, d->cpu_time_ns, t, iv);
	if (d->cpu_percent_of_vcpus >= 0)
		n += submit_gauge(d->name, "percent", "virt_cpu_total", d->cpu_percent_of_vcpus, t,
		                  iv);
	return n;
}

/* The monitor-bound groups: vCPUs, balloon, block, interfaces. */
static unsigned dispatch_slow(const vs_domain_stats *d, cdtime_t t, cdtime_t iv)
{
	unsigned n = 0;
	char ti[DATA_MAX_NAME_LEN];

	for (size_t i = 0; i < d->n_vcpus; i++) {
		g_snprintf(ti, sizeof(ti), "%zu", i);
		n += submit_derive(d->name, "virt_vcpu", ti, d->vcpus[i].time_ns, t, iv);
	}
	if (d->mem_current_kib)
		n += submit_gauge(d->name, "memory", "total", d->mem_current_kib * 1024.0, t, iv);
	if (d->mem_rss_kib)
		n += submit_gauge(d->name, "memory", "rss", d->mem_rss_kib * 1024.0, t, iv);
	if (d->mem_usable_kib)
		n += submit_gauge(d->name, "memory", "usable", d->mem_usable_kib * 1024.0, t, iv);
	if (d->mem_unused_kib)
		n += submit_gauge(d->name, "memory", "unused", d->mem_unused_kib * 1024.0, t, iv);
	for (size_t i = 0; i < d->n_disks; i++) {
		const vs_disk_stats *k = &d->disks[i];

		if (!k->have_io || !k->target)
			continue;
		n += submit_derive2(d->name, "disk_ops", k->target, k->rd_reqs, k->wr_reqs, t, iv);
		n += submit_derive2(d->name, "disk_octets", k->target, k->rd_bytes, k->wr_bytes, t,
		                    iv);
		n += submit_derive2(d->name, "disk_time", k->target, k->rd_times_ns, k->wr_times_ns,
		                    t, iv);
	}
	for (size_t i = 0; i < d->n_nets; i++) {
		const vs_net_stats *k = &d->nets[i];
		const char *name = k->ifname ? k->ifname : k->mac;

		if (!k->have_io || !name)
			continue;
		n += submit_derive2(d->name, "if_octets", name, k->rx_bytes, k->tx_bytes, t, iv);
		n += submit_derive2(d->name, "if_packets", name, k->rx_pkts, k->tx_pkts, t, iv);
		n += submit_derive2(d->name, "if_errors", name, k->rx_errs, k->tx_errs, t, iv);
		n += submit_derive2(d->name, "if_dropped", name, k->rx_drop, k->tx_drop, t, iv);
	}
	return n;
}

/* The mark of @d in @v, made when absent. Call with v->lock held. */
static sent_mark *mark_of(vsc_values *v, const vs_domain_stats *d)
{
	g_autofree char *key = g_strconcat(d->host_uri ? d->host_uri : "", "\n", d->name, NULL);
	sent_mark *m = g_hash_table_lookup(v->sent, key);

	if (!m) {
		m = g_new0(sent_mark, 1);
		m->state = -1;
		g_hash_table_insert(v->sent, g_steal_pointer(&key), m);
	}
	return m;
}

static int64_t fast_sample_us(const vs_snapshot *snap, const vs_domain_stats *d)
{
	return d->sample_mono_us ? d->sample_mono_us : snap->taken_mono_us;
}

/* The fast values of @d if its sample is new. Call with v->lock held. */
static unsigned send_fast(const vs_snapshot *snap, const vs_domain_stats *d, sent_mark *m,
                          cdtime_t interval)
{
	int64_t fast = fast_sample_us(snap, d);

	/* never older than what was sent: the two threads may hold snapshots
	 * of different ages, and collectd refuses a value older than the last */
	if (fast <= m->fast_mono_us)
		return 0;
	m->fast_mono_us = fast;
	m->state = d->state;
	m->active = d->id >= 0;
	return dispatch_fast(d, sample_time(snap, fast), interval);
}

/**
 * vsc_values_dispatch_domains:
 * @v: what was sent before
 * @snap: the newest snapshot
 * @interval: the read interval (for collectd's missing-value detection)
 *
 * Dispatches each domain's samples that were not dispatched yet. Returns
 * how many value lists collectd accepted.
 */
unsigned vsc_values_dispatch_domains(vsc_values *v, const vs_snapshot *snap, cdtime_t interval)
{
	unsigned n = 0;
	GHashTableIter it;
	gpointer value;

	g_mutex_lock(&v->lock);
	for (guint i = 0; i < snap->domains->len; i++) {
		const vs_domain_stats *d = g_ptr_array_index(snap->domains, i);
		sent_mark *m = mark_of(v, d);

		m->seen_generation = MAX(m->seen_generation, snap->generation);
		n += send_fast(snap, d, m, interval);
		if (d->id >= 0 && d->slow_mono_us > m->slow_mono_us) {
			n += dispatch_slow(d, sample_time(snap, d->slow_mono_us), interval);
			m->slow_mono_us = d->slow_mono_us;
		}
	}
	/* Forget domains that went away, so a re-created one starts afresh. */
	g_hash_table_iter_init(&it, v->sent);
	while (g_hash_table_iter_next(&it, NULL, &value))
		if (((sent_mark *)value)->seen_generation < snap->generation)
			g_hash_table_iter_remove(&it);
	g_mutex_unlock(&v->lock);
	return n;
}

/**
 * vsc_values_dispatch_changes:
 * @v: what was sent
 * @snap: a snapshot just published (collector thread)
 * @interval: the read interval
 *
 * Sends at once the fast values (state, CPU) of each domain that is new,
 * whose state differs from the last state sent or that became active (its
 * first CPU figures), provided its sample is new, and its monitor-bound
 * values (memory, vCPUs, disks, NICs) if that refresh brought new ones:
 * a started domain's first value follows the lifecycle event and the
 * collector's refresh it triggers, not the next read interval. The read
 * callback skips what was sent here. Returns how many value lists collectd
 * accepted.
 */
unsigned vsc_values_dispatch_changes(vsc_values *v, const vs_snapshot *snap, cdtime_t interval)
{
	unsigned n = 0;

	g_mutex_lock(&v->lock);
	for (guint i = 0; i < snap->domains->len; i++) {
		const vs_domain_stats *d = g_ptr_array_index(snap->domains, i);
		sent_mark *m = mark_of(v, d);

		m->seen_generation = MAX(m->seen_generation, snap->generation);
		/* a start shows as two snapshots: the event's (state running, no
		 * CPU figures yet) and the refresh it triggers (the first ones) */
		if (m->state == d->state && m->active == (d->id >= 0))
			continue;
		n += send_fast(snap, d, m, interval);
		/* that refresh also asked the monitor-bound groups of this
		 * domain alone (lib/vs-collector.c): its memory, disk and NIC
		 * values go with the first CPU value, not at the next read */
		if (d->id >= 0 && d->slow_mono_us > m->slow_mono_us) {
			n += dispatch_slow(d, sample_time(snap, d->slow_mono_us), interval);
			m->slow_mono_us = d->slow_mono_us;
		}
	}
	g_mutex_unlock(&v->lock);
	return n;
}

static double or_nan(double x)
{
	return x < 0 ? NAN : x;
}

/* The collectd gauge of a verdict: its enum value, NaN when not evaluated. */
static double verdict_gauge(vs_verdict v)
{
	return v == VS_VERDICT_UNKNOWN ? NAN : (double)v;
}

/**
 * vsc_values_dispatch_pools:
 * @v: what was sent before
 * @r: the newest pool report
 * @interval: the read interval
 *
 * Per running member with a session count (plugin_instance = domain):
 * current_sessions, vs_ratio. Per pool (plugin_instance = pool):
 * vs_instances, vs_warm (warm instances, not counted in vs_instances),
 * vs_pool_cpu, vs_pool_sessions, vs_pool_ratio, vs_policy_state,
 * vs_notifications per verdict.
 */
unsigned vsc_values_dispatch_pools(vsc_values *v, const vs_pools_report *r, cdtime_t interval)
{
	cdtime_t t = US_TO_CDTIME_T((uint64_t)r->taken_real_us);
	unsigned n = 0;

	if (v->pools_sent && r->generation == v->pools_generation)
		return 0;
	v->pools_sent = true;
	v->pools_generation = r->generation;
	for (guint i = 0; i < r->pools->len; i++) {
		const vs_pool_report *p = g_ptr_array_index(r->pools, i);
		const vs_pool_view *view = p->view;
		const char *pool = p->cfg->name;

		for (guint b = 0; b < view->members->len; b++) {
			const vs_member *m = view->members->pdata[b];

			if (!m->running || m->sessions < 0)
				continue;
			n += submit_gauge(m->name, "current_sessions", NULL, m->sessions, t,
			                  interval);
			n += submit_gauge(m->name, "vs_ratio", NULL, m->ratio, t, interval);
		}
		n += submit_gauge2(pool, "vs_instances", NULL, view->n_running, p->decision.desired,
		                   t, interval);
		n += submit_gauge(pool, "vs_warm", NULL, view->n_warm, t, interval);
		n += submit_gauge(pool, "vs_pool_cpu", NULL, or_nan(view->avg_cpu), t, interval);
		n += submit_gauge2(pool, "vs_pool_sessions", NULL, or_nan(view->avg_sessions),
		                   p->sessions_ok ? view->total_sessions : NAN, t, interval);
		n += submit_gauge2(pool, "vs_pool_ratio", NULL, or_nan(view->min_ratio),
		                   or_nan(view->max_ratio), t, interval);
		n += submit_gauge(pool, "vs_policy_state", NULL, verdict_gauge(p->verdict), t,
		                  interval);
		for (int s = VS_VERDICT_OK; s < VS_VERDICT_UNKNOWN; s++)
			n += submit_derive(pool, "vs_notifications", vs_verdict_name(s),
			                   p->notices[s], t, interval);
	}
	return n;
}

static const vs_host_status *find_host(const vs_snapshot *snap, const char *uri)
{
	for (guint i = 0; snap->hosts && i < snap->hosts->len; i++) {
		const vs_host_status *h = g_ptr_array_index(snap->hosts, i);

		if (g_strcmp0(h->uri, uri) == 0)
			return h;
	}
	return NULL;
}

/**
 * vsc_values_dispatch_hosts:
 * @v: what was sent before
 * @cfg: the configuration (its hosts, in order)
 * @snap: the newest snapshot
 * @r: the newest pool report, or NULL
 * @interval: the read interval
 *
 * Per configured host (plugin_instance = its name made an identifier,
 * vsc-names.h), the figures of VIRTSCALE-MIB's vsHostTable:
 * vs_host_state (connected and lost, 0 or 1), vs_host_instances (running
 * pool members on it), vs_host_cpu_idle (percent), vs_host_memory (free and
 * total, bytes), vs_host_rtt (seconds). Figures of a host that does not
 * answer are NaN. Once per snapshot.
 */
unsigned vsc_values_dispatch_hosts(vsc_values *v, const vs_config *cfg, const vs_snapshot *snap,
                                   const vs_pools_report *r, cdtime_t interval)
{
	cdtime_t t = US_TO_CDTIME_T((uint64_t)snap->taken_real_us);
	unsigned n = 0;

	if (snap->generation == v->hosts_generation)
		return 0;
	v->hosts_generation = snap->generation;
	if (!v->host_instances) {
		g_autofree const char **names = g_new0(const char *, cfg->host_configs->len + 1);

		for (guint i = 0; i < cfg->host_configs->len; i++)
			names[i] = ((const vs_host_config *)cfg->host_configs->pdata[i])->name;
		v->host_instances = vsc_host_instances(names, cfg->host_configs->len);
	}
	for (guint i = 0; i < cfg->host_configs->len; i++) {
		const vs_host_config *hc = g_ptr_array_index(cfg->host_configs, i);
		const char *pi = v->host_instances->pdata[i];
		const vs_host_status *h = find_host(snap, hc->uri);
		vs_host_cond cond = vs_host_status_condition(h);
		bool answers = cond == VS_HOST_COND_CONNECTED;

		if (cond == VS_HOST_COND_UNKNOWN)
			continue;
		n += submit_gauge2(pi, "vs_host_state", NULL, answers, cond == VS_HOST_COND_LOST, t,
		                   interval);
		n += submit_gauge(pi, "vs_host_instances", NULL,
		                  vs_pools_report_host_instances(r, hc->uri), t, interval);
		n += submit_gauge(pi, "vs_host_cpu_idle", NULL,
		                  answers ? or_nan(h->host_cpu_idle_percent) : NAN, t, interval);
		n += submit_gauge2(pi, "vs_host_memory", NULL,
		                   answers ? h->host_free_mem_kib * 1024.0 : NAN,
		                   answers ? h->host_mem_kib * 1024.0 : NAN, t, interval);
		n += submit_gauge(pi, "vs_host_rtt", NULL,
		                  answers ? or_nan(h->rtt_ms) / 1000.0 : NAN, t, interval);
	}
	return n;
}

/**
 * vsc_values_dispatch_forwarder:
 * @st: the forwarder's counters
 * @interval: the read interval
 *
 * plugin_instance "actuator": lines sent, dropped, connection failures, and
 * the queue length.
 */
void vsc_values_dispatch_forwarder(const vsc_forwarder_stats *st, cdtime_t interval)
{
	value_t v[] = {{.derive = (derive_t)st->sent},
	               {.derive = (derive_t)st->dropped},
	               {.derive = (derive_t)st->failures}};
	cdtime_t t = cdtime();

	submit("actuator", "vs_forwarder", NULL, v, 3, t, interval);
	submit_gauge("actuator", "vs_queue_length", NULL, st->queue_len, t, interval);
}

/**
 * vsc_values_dispatch_migrations:
 * @cfg: the configuration (its pools)
 * @st: the actuator's status (status.json), may be NULL
 * @interval: the read interval
 *
 * Per pool (plugin_instance = pool), as vsMigrationTable: vs_migration
 * (total_ms, downtime_ms, bytes, iterations of the last or running
 * migration), vs_migration_path (path 0-3, dirty_rate in percent of the
 * guest's memory per second or NaN, state as vsMigrationState: 2 ok,
 * 3 failed, 4 running, 6 cancelled), vs_migrations and vs_rebalances
 * (counters since virtscaled started).
 */
unsigned vsc_values_dispatch_migrations(const vs_config *cfg, const vs_status *st,
                                        cdtime_t interval)
{
	cdtime_t t = cdtime();
	unsigned n = 0;

	for (guint i = 0; st && i < cfg->pools->len; i++) {
		const vs_pool_config *pc = g_ptr_array_index(cfg->pools, i);
		const vs_pool_status *p = vs_status_find_pool(st, pc->name);
		const vs_migration_status *mg = p ? p->migration : NULL;

		if (!p || (!mg && !p->rebalance))
			continue;
		if (mg) {
			value_t fig[] = {{.gauge = (gauge_t)mg->total_ms},
			                 {.gauge = (gauge_t)mg->downtime_ms},
			                 {.gauge = (gauge_t)mg->bytes},
			                 {.gauge = (gauge_t)mg->iterations}};
			value_t path[] = {{.gauge = mg->path <= 3 ? (gauge_t)mg->path : 0},
			                  {.gauge = mg->dirty_rate >= 0 ? mg->dirty_rate : NAN},
			                  {.gauge = (gauge_t)vs_result_mib(mg->result)}};

			n += submit(pc->name, "vs_migration", NULL, fig, G_N_ELEMENTS(fig), t,
			            interval);
			n += submit(pc->name, "vs_migration_path", NULL, path, G_N_ELEMENTS(path),
			            t, interval);
		}
		n += submit_derive(pc->name, "vs_migrations", NULL, p->migrations, t, interval);
		n += submit_derive(pc->name, "vs_rebalances", NULL, p->rebalances, t, interval);
	}
	return n;
}
