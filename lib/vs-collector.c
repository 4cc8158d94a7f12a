/*
 * vs-collector.c - the collector's threads: one worker per hypervisor URI
 * that connects, refreshes and reconnects with backoff, and a watchdog
 * that keeps publishing while a worker is stuck in a frozen libvirtd.
 *
 * Each worker owns its connection and its per-domain cache; what readers
 * see is the published vs_snapshot, rebuilt from every host's latest part
 * under c->lock and then only read. No reader ever waits for libvirt: the
 * lock is held for the copy of a few hundred structs, never across a call
 * to libvirt. A worker blocked in libvirt (libvirtd frozen) is reported in
 * its host's status by the watchdog; libvirt's keepalive eventually closes
 * the connection and the worker reconnects.
 */
#include "config.h"

#include <glib/gstdio.h>
#include <libvirt/virterror.h>
#include <string.h>

#include "vs-collector-private.h"
#include "vs-log.h"
#include "vs-placement.h"

#define KEEPALIVE_INTERVAL 2 /* seconds between keepalive probes */
#define KEEPALIVE_COUNT    3 /* unanswered probes before libvirt closes */
#define STUCK_MIN_MS       2000

#define SLOW_GROUPS                                                                                \
	(VIR_DOMAIN_STATS_BALLOON | VIR_DOMAIN_STATS_VCPU | VIR_DOMAIN_STATS_BLOCK |               \
	 VIR_DOMAIN_STATS_INTERFACE)

/**
 * vs_collect_slow_due:
 * @every_refresh: every refresh is a slow round (the "same metrics" mode)
 * @now_us: monotonic time of the refresh
 * @next_slow_us: when the periodic slow round is due (0 after a connect)
 *
 * Whether this refresh is the periodic slow round, which asks every
 * domain's monitor-bound groups. Lifecycle events do not make a refresh
 * slow: the domains they changed get their groups from a call of their own
 * (vs_collect_plan_round()), so an event costs the same at 10 domains as at
 * 200. Pure.
 */
bool vs_collect_slow_due(bool every_refresh, int64_t now_us, int64_t next_slow_us)
{
	return every_refresh || now_us >= next_slow_us;
}

/**
 * vs_collect_plan_round:
 * @fast: state and CPU come from the local fast path (cgroup, /proc)
 * @slow: the periodic slow round (vs_collect_slow_due())
 * @plan: (out) the groups of the round's calls
 *
 * The bulk call (virConnectGetAllDomainStats) asks every domain for the
 * state, plus cpu-total without the fast path, plus the monitor-bound
 * groups in a slow round. Outside a slow round the domains that changed
 * (new, flagged by a lifecycle event, started again with a new id) are
 * asked the monitor-bound groups on their own (virDomainListGetStats of
 * just those): a started domain has its memory, disk and NIC figures at
 * once while the others keep their slow cadence. Locally the vCPU times
 * come from their threads every refresh, which spares the vcpu group's
 * monitor calls. Pure.
 */
void vs_collect_plan_round(bool fast, bool slow, vs_round_plan *plan)
{
	unsigned monitor = fast ? SLOW_GROUPS & ~VIR_DOMAIN_STATS_VCPU : SLOW_GROUPS;

	plan->bulk_groups = VIR_DOMAIN_STATS_STATE;
	if (!fast)
		plan->bulk_groups |= VIR_DOMAIN_STATS_CPU_TOTAL;
	if (slow)
		plan->bulk_groups |= monitor;
	plan->changed_groups = slow ? 0 : monitor;
}

static int compare_domains(gconstpointer a, gconstpointer b)
{
	const vs_domain_stats *x = *(vs_domain_stats *const *)a;
	const vs_domain_stats *y = *(vs_domain_stats *const *)b;
	int r = g_strcmp0(x->host_uri, y->host_uri);

	return r ? r : g_strcmp0(x->name, y->name);
}

static unsigned stuck_threshold_ms(const vs_collector *c)
{
	return MAX(2 * c->refresh_ms, STUCK_MIN_MS);
}

/* Builds a new snapshot from every host's part; the caller holds c->lock.
 * Returns a reference for the on_snapshot callback (or NULL). */
static vs_snapshot *publish_locked(vs_collector *c)
{
	vs_snapshot *s = vs_snapshot_new();
	int64_t now = g_get_monotonic_time();

	for (guint i = 0; i < c->hosts->len; i++) {
		vs_host *h = g_ptr_array_index(c->hosts, i);
		vs_host_status *st = vs_host_status_copy(h->status);

		if (h->busy_since_us && now - h->busy_since_us > stuck_threshold_ms(c) * 1000ll) {
			st->state = VS_HOST_DISCONNECTED;
			g_free(st->last_error);
			st->last_error = g_strdup_printf("no answer from libvirtd for %.1f s",
			                                 (now - h->busy_since_us) / 1e6);
			if (!st->down_since_mono_us)
				st->down_since_mono_us = h->busy_since_us;
		}
		st->lost = vs_host_lost(st->down_since_mono_us, now, c->host_grace_s);
		g_ptr_array_add(s->hosts, st);
		for (guint j = 0; h->part && j < h->part->len; j++)
			g_ptr_array_add(s->domains, vs_domain_stats_copy(h->part->pdata[j]));
	}
	g_ptr_array_sort(s->domains, compare_domains);
	s->generation = ++c->generation;
	s->last_change_real_us = c->last_change_real_us;
	vs_snapshot *old = c->snap;

	c->snap = s;
	c->last_publish_us = now;
	vs_snapshot_unref(old);
	g_cond_broadcast(&c->published);
	return c->on_snapshot ? vs_snapshot_ref(s) : NULL;
}

/**
 * vs_collector_publish:
 * @c: the collector
 *
 * Publishes a snapshot of every host's newest data and calls on_snapshot
 * (outside the lock).
 */
void vs_collector_publish(vs_collector *c)
{
	g_mutex_lock(&c->lock);
	vs_snapshot *s = publish_locked(c);

	g_mutex_unlock(&c->lock);
	if (s) {
		c->on_snapshot(s, c->opaque);
		vs_snapshot_unref(s);
	}
}

static void set_busy(vs_host *h, bool busy)
{
	g_mutex_lock(&h->c->lock);
	h->busy_since_us = busy ? g_get_monotonic_time() : 0;
	g_mutex_unlock(&h->c->lock);
}

/* Records a failure in the host's status and publishes it; @msg NULL takes
 * libvirt's last error. */
static void host_failed(vs_host *h, vs_host_state state, const char *what, const char *msg)
{
	if (!msg)
		msg = virGetLastErrorMessage();
	g_mutex_lock(&h->c->lock);
	h->status->state = state;
	h->status->failures++;
	if (!h->status->down_since_mono_us)
		h->status->down_since_mono_us = g_get_monotonic_time();
	g_free(h->status->last_error);
	h->status->last_error = g_strdup_printf("%s: %s", what, msg ? msg : "unknown error");
	h->busy_since_us = 0;
	g_mutex_unlock(&h->c->lock);
	vs_collector_publish(h->c);
}

static void connection_closed(virConnectPtr conn, int reason, void *opaque)
{
	(void)conn;
	vs_host *h = opaque;

	g_atomic_int_set(&h->conn_closed, 1);
	g_mutex_lock(&h->c->lock);
	h->kicked = true;
	g_cond_broadcast(&h->c->wake);
	g_mutex_unlock(&h->c->lock);
	vs_debug("%s: connection closed (reason %d)", h->uri, reason);
}

static void host_disconnect(vs_host *h)
{
	if (!h->conn)
		return;
	if (h->lifecycle_cb_id >= 0)
		virConnectDomainEventDeregisterAny(h->conn, h->lifecycle_cb_id);
	h->lifecycle_cb_id = -1;
	virConnectUnregisterCloseCallback(h->conn, connection_closed);
	virConnectClose(h->conn);
	h->conn = NULL;
	vs_virt_reset(h->virt);
}

static void read_host_info(vs_host *h, vs_host_status *st)
{
	virNodeInfo info;
	unsigned long v;
	const char *type = virConnectGetType(h->conn);
	char *hostname = virConnectGetHostname(h->conn);

	st->hypervisor = g_strdup(type);
	if (virConnectGetVersion(h->conn, &v) == 0)
		st->hv_version = v;
	if (virConnectGetLibVersion(h->conn, &v) == 0)
		st->lib_version = v;
	st->hostname = g_strdup(hostname);
	free(hostname);
	if (virNodeGetInfo(h->conn, &info) == 0) {
		st->host_cpus = info.cpus;
		st->host_mem_kib = info.memory;
	}
}

static bool host_connect(vs_host *h)
{
	g_autoptr(GError) error = NULL;

	set_busy(h, true);
	g_atomic_int_set(&h->conn_closed, 0);
	h->conn = vs_virt_get(h->virt, NULL, &error);
	if (!h->conn) {
		host_failed(h, VS_HOST_DISCONNECTED, "connect", error->message);
		return false;
	}
	virConnectRegisterCloseCallback(h->conn, connection_closed, h, NULL);
	h->lifecycle_cb_id = virConnectDomainEventRegisterAny(
	    h->conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
	    VIR_DOMAIN_EVENT_CALLBACK(vs_collect_lifecycle_cb), h, NULL);
	if (h->lifecycle_cb_id < 0)
		vs_warning("%s: no lifecycle events: %s", h->uri, virGetLastErrorMessage());
	vs_host_status tmp = {0};

	read_host_info(h, &tmp);
	/* After a reconnect libvirtd may have restarted: reload every
	 * domain's static data and collect every group at once. */
	GHashTableIter it;
	gpointer v;

	g_hash_table_iter_init(&it, h->cache);
	while (g_hash_table_iter_next(&it, NULL, &v))
		((vs_dom_cache *)v)->static_valid = false;
	h->next_slow_us = 0;
	h->prev_total_ns = 0;

	g_mutex_lock(&h->c->lock);
	vs_host_status *st = h->status;

	if (st->connected_real_us)
		st->reconnects++;
	st->state = VS_HOST_CONNECTED;
	g_clear_pointer(&st->last_error, g_free);
	st->connected_real_us = g_get_real_time();
	g_free(st->hypervisor);
	g_free(st->hostname);
	st->hypervisor = tmp.hypervisor;
	st->hostname = tmp.hostname;
	st->hv_version = tmp.hv_version;
	st->lib_version = tmp.lib_version;
	st->host_cpus = tmp.host_cpus;
	st->host_mem_kib = tmp.host_mem_kib;
	h->busy_since_us = 0;
	g_mutex_unlock(&h->c->lock);
	vs_info("%s: connected", h->uri);
	vs_collector_publish(h->c);
	return true;
}

static void dom_cache_free(gpointer p)
{
	vs_dom_cache *dc = p;

	vs_domain_stats_free(dc->d);
	g_free(dc->cpu_file);
	g_free(dc->cgroup_dir);
	g_free(dc);
}

/* Loads what changes only with define/start/stop events. Returns false if
 * the domain vanished meanwhile (normal) or libvirt failed. */
static bool load_static(vs_host *h, vs_dom_cache *dc, virDomainPtr dom)
{
	char *xml = virDomainGetXMLDesc(dom, 0);
	g_autoptr(GError) error = NULL;
	int autostart = 0;

	if (!xml)
		return false;
	if (!vs_collect_parse_domain_xml(dc->d, xml, &error))
		vs_warning("%s: %s: unreadable XML: %s", h->uri, dc->d->name, error->message);
	free(xml);
	int persistent = virDomainIsPersistent(dom);

	if (persistent < 0)
		return false;
	dc->d->persistent = persistent == 1;
	dc->d->autostart = virDomainGetAutostart(dom, &autostart) == 0 && autostart;
	dc->static_valid = true;
	dc->static_id = dc->d->id;
	return true;
}

/* Local fast path for one running domain: its CPU time from the cgroup. */
static bool fast_cpu(vs_dom_cache *dc)
{
	uint64_t cpu_ns;

	if (dc->cpu_file_id != dc->d->id || dc->cpu_src == VS_CPU_SRC_NONE) {
		if (!vs_collect_cgroup_find(dc, dc->d->name))
			return false;
		g_autofree char *pidfile = g_strdup_printf("/run/libvirt/qemu/%s.pid", dc->d->name);
		GStatBuf sb;

		/* libvirt writes the pid file when it starts QEMU */
		if (g_stat(pidfile, &sb) == 0 && !dc->d->started_real_us)
			dc->d->started_real_us = (int64_t)sb.st_mtime * G_USEC_PER_SEC;
	}
	if (!vs_collect_cgroup_read(dc, &cpu_ns)) {
		dc->cpu_src = VS_CPU_SRC_NONE;
		return false;
	}
	dc->d->cpu_time_ns = cpu_ns;
	dc->d->sample_mono_us = g_get_monotonic_time();
	return true;
}

/* CPU% over the interval actually measured between two samples of the
 * same run of the domain. */
static void compute_cpu_percent(vs_dom_cache *dc)
{
	vs_domain_stats *d = dc->d;

	if (d->id < 0) {
		d->cpu_percent = d->cpu_percent_of_vcpus = 0;
		dc->prev_id = -1;
		dc->prev_mono_us = 0;
		return;
	}
	if (dc->prev_id == d->id && dc->prev_mono_us && d->sample_mono_us > dc->prev_mono_us)
		vs_cpu_percent(dc->prev_cpu_ns, dc->prev_mono_us, d->cpu_time_ns, d->sample_mono_us,
		               d->vcpu_current, &d->cpu_percent, &d->cpu_percent_of_vcpus);
	else if (dc->prev_id != d->id || !dc->prev_mono_us)
		d->cpu_percent = d->cpu_percent_of_vcpus = -1;
	if (d->sample_mono_us != dc->prev_mono_us) {
		dc->prev_id = d->id;
		dc->prev_cpu_ns = d->cpu_time_ns;
		dc->prev_mono_us = d->sample_mono_us;
	}
}

static void refresh_host_cpu_mem(vs_host *h, uint64_t *free_kib, double *idle_pct)
{
	uint64_t idle = 0, total = 0;

	*idle_pct = -1;
	*free_kib = 0;
	/* Free memory from libvirt (one cheap call) so it agrees with the
	 * node's total memory that libvirt reports; its round trip is the
	 * host's RTT (placement = weighted). */
	int64_t t0 = g_get_monotonic_time();
	unsigned long long free_bytes = virNodeGetFreeMemory(h->conn);

	h->rtt_ms = (double)(g_get_monotonic_time() - t0) / 1000.0;

	*free_kib = free_bytes / 1024;
	if (h->local) {
		if (!vs_collect_local_host_cpu(&idle, &total))
			return;
	} else if (!vs_virt_node_cpu_times(h->conn, &idle, &total)) {
		return;
	}
	if (h->prev_total_ns && total > h->prev_total_ns && idle >= h->prev_idle_ns)
		*idle_pct =
		    (double)(idle - h->prev_idle_ns) / (double)(total - h->prev_total_ns) * 100.0;
	h->prev_idle_ns = idle;
	h->prev_total_ns = total;
}

/* Takes the uuids the event thread flagged since the last refresh. */
static bool take_invalidations(vs_host *h)
{
	GHashTableIter it;
	gpointer key;
	bool any = false;

	g_mutex_lock(&h->c->lock);
	g_hash_table_iter_init(&it, h->invalidate);
	while (g_hash_table_iter_next(&it, &key, NULL)) {
		vs_dom_cache *dc = g_hash_table_lookup(h->cache, key);

		if (dc)
			dc->static_valid = false;
		any = true;
	}
	g_hash_table_remove_all(h->invalidate);
	g_mutex_unlock(&h->c->lock);
	return any;
}

static vs_dom_cache *cache_entry(vs_host *h, virDomainPtr dom, bool *is_new)
{
	char uuid_str[VIR_UUID_STRING_BUFLEN];
	vs_dom_cache *dc;

	*is_new = false;
	if (virDomainGetUUIDString(dom, uuid_str) < 0)
		return NULL;
	dc = g_hash_table_lookup(h->cache, uuid_str);
	if (!dc) {
		dc = g_new0(vs_dom_cache, 1);
		dc->d = vs_domain_stats_new();
		dc->d->host_uri = g_strdup(h->uri);
		dc->prev_id = -1;
		dc->cpu_file_id = -1;
		virDomainGetUUID(dom, dc->d->uuid);
		g_strlcpy(dc->d->uuid_str, uuid_str, sizeof(dc->d->uuid_str));
		g_hash_table_insert(h->cache, g_strdup(uuid_str), dc);
		*is_new = true;
	}
	const char *name = virDomainGetName(dom);

	if (g_strcmp0(dc->d->name, name) != 0) {
		g_free(dc->d->name);
		dc->d->name = g_strdup(name);
		dc->cpu_file_id = -1;
	}
	return dc;
}

/* Asks libvirt @groups of just @doms (their cache entries in @caches):
 * the running domains the local fast path could not read (no cgroup
 * found), or the monitor-bound groups (@slow) of the domains that changed
 * outside a slow round; those are marked as sampled in this round. */
static void stats_from_libvirt(GPtrArray *doms, GPtrArray *caches, unsigned groups, bool slow)
{
	virDomainStatsRecordPtr *recs = NULL;

	if (!doms->len)
		return;
	g_ptr_array_add(doms, NULL);
	int n = virDomainListGetStats((virDomainPtr *)doms->pdata, groups, &recs,
	                              VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT);
	int64_t now = g_get_monotonic_time();
	/* each record to its cache entry by UUID: one lookup, not a pass over
	 * every entry (all the host's domains when the cgroups are unreadable) */
	g_autoptr(GHashTable) by_uuid = g_hash_table_new(g_str_hash, g_str_equal);

	for (guint j = 0; j < caches->len; j++) {
		vs_dom_cache *dc = caches->pdata[j];

		g_hash_table_insert(by_uuid, dc->d->uuid_str, dc);
	}
	for (int i = 0; i < n; i++) {
		char uuid_str[VIR_UUID_STRING_BUFLEN];
		vs_dom_cache *dc;
		bool have_cpu;

		if (virDomainGetUUIDString(recs[i]->dom, uuid_str) < 0 ||
		    !(dc = g_hash_table_lookup(by_uuid, uuid_str)))
			continue;
		vs_collect_apply_record(dc->d, recs[i]->params, recs[i]->nparams, &have_cpu);
		if (have_cpu)
			dc->d->sample_mono_us = now;
		if (slow)
			dc->d->slow_mono_us = now;
	}
	if (recs)
		virDomainStatsRecordListFree(recs);
}

/* One refresh of a host, step by step. */
typedef struct refresh_round {
	bool slow;     /* the periodic round: every domain's monitor-bound groups */
	bool fast;     /* state and CPU from the local fast path */
	bool changed;  /* the domain set or a state changed */
	int64_t after; /* when libvirt answered */
	/* domains whose fast path failed: asked from libvirt instead */
	GPtrArray *no_fast_doms, *no_fast_caches;
	GPtrArray *no_vcpu_doms, *no_vcpu_caches;
	/* outside a slow round, the domains that changed: their monitor-bound
	 * groups asked for them alone */
	GPtrArray *changed_doms, *changed_caches;
} refresh_round;

/* Step 2: one bulk record into its domain's cache entry. */
static void apply_record(vs_host *h, refresh_round *r, virDomainStatsRecordPtr rec)
{
	virDomainPtr dom = rec->dom;
	bool is_new, have_cpu;
	vs_dom_cache *dc = cache_entry(h, dom, &is_new);

	if (!dc)
		return;
	unsigned int raw_id = virDomainGetID(dom);
	int id = raw_id == (unsigned int)-1 ? -1 : (int)raw_id;
	int old_state = dc->d->state;

	if (id != dc->d->id) {
		if (id >= 0 && !is_new)
			dc->d->started_real_us = g_get_real_time();
		else if (id < 0)
			dc->d->started_real_us = 0;
		dc->d->id = id;
		dc->static_valid = false;
		r->changed = true;
	}
	/* static data not valid: the domain is new, a lifecycle event flagged
	 * it or it runs with a new id */
	bool dom_changed = !dc->static_valid;

	if (dom_changed && !load_static(h, dc, dom))
		return; /* vanished mid-refresh: normal */
	vs_collect_apply_record(dc->d, rec->params, rec->nparams, &have_cpu);
	dc->seen = true;
	r->changed |= is_new || old_state != dc->d->state;
	if (have_cpu)
		dc->d->sample_mono_us = r->after;
	if (r->slow) {
		dc->d->slow_mono_us = r->after;
	} else if (dom_changed) {
		/* its memory, disks and NICs now rather than at the next slow
		 * round; the other domains are not asked again */
		g_ptr_array_add(r->changed_doms, dom);
		g_ptr_array_add(r->changed_caches, dc);
	}
	if (id < 0) {
		dc->d->sample_mono_us = r->after;
		return;
	}
	if (!r->fast)
		return;
	/* a changed domain's vCPUs are taken as in a slow round: libvirt's
	 * vcpu group when its threads are not found */
	bool slow = r->slow || dom_changed;

	if (!fast_cpu(dc)) {
		g_ptr_array_add(r->no_fast_doms, dom);
		g_ptr_array_add(r->no_fast_caches, dc);
	} else if (!r->slow) {
		/* (a changed domain's balloon.rss, asked after, replaces it) */
		dc->d->mem_rss_kib = vs_collect_proc_rss_kib(dc->pid);
	}
	if (slow && !vs_collect_cgroup_vcpus(dc)) {
		g_ptr_array_add(r->no_vcpu_doms, dom);
		g_ptr_array_add(r->no_vcpu_caches, dc);
	} else if (!slow) {
		vs_collect_cgroup_vcpus(dc); /* best effort between slow rounds */
	}
}

/* Step 3: the host's new part of the snapshot; forgets domains not seen. */
static GPtrArray *take_part(vs_host *h, refresh_round *r)
{
	GPtrArray *part = g_ptr_array_new_with_free_func((GDestroyNotify)vs_domain_stats_free);
	GHashTableIter it;
	gpointer v;

	g_hash_table_iter_init(&it, h->cache);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		vs_dom_cache *dc = v;

		if (!dc->seen) {
			g_hash_table_iter_remove(&it); /* undefined or vanished */
			r->changed = true;
			continue;
		}
		compute_cpu_percent(dc);
		g_ptr_array_add(part, vs_domain_stats_copy(dc->d));
	}
	return part;
}

/* Step 4: the part and the host's status published. */
static void publish_part(vs_host *h, GPtrArray *part, bool changed)
{
	vs_collector *c = h->c;
	uint64_t free_kib;
	double idle_pct;

	refresh_host_cpu_mem(h, &free_kib, &idle_pct);
	g_mutex_lock(&c->lock);
	g_ptr_array_unref(h->part);
	h->part = part;
	h->status->state = VS_HOST_CONNECTED;
	h->status->refreshes++;
	g_clear_pointer(&h->status->last_error, g_free);
	h->status->host_free_mem_kib = free_kib;
	h->status->host_cpu_idle_percent = idle_pct;
	h->status->rtt_ms = h->rtt_ms;
	h->status->down_since_mono_us = 0;
	h->busy_since_us = 0;
	if (changed)
		c->last_change_real_us = g_get_real_time();
	vs_snapshot *s = publish_locked(c);

	g_mutex_unlock(&c->lock);
	if (s) {
		c->on_snapshot(s, c->opaque);
		vs_snapshot_unref(s);
	}
}

/* One refresh: the bulk stats RPC (step 1), each record into the cache,
 * the fast path's failures and the changed domains' monitor-bound groups
 * asked from libvirt, the new part published. */
static bool host_refresh(vs_host *h)
{
	vs_collector *c = h->c;
	int64_t now = g_get_monotonic_time();
	g_autoptr(GPtrArray) no_fast_doms = g_ptr_array_new();
	g_autoptr(GPtrArray) no_fast_caches = g_ptr_array_new();
	g_autoptr(GPtrArray) no_vcpu_doms = g_ptr_array_new();
	g_autoptr(GPtrArray) no_vcpu_caches = g_ptr_array_new();
	g_autoptr(GPtrArray) changed_doms = g_ptr_array_new();
	g_autoptr(GPtrArray) changed_caches = g_ptr_array_new();
	refresh_round r = {.changed = take_invalidations(h),
	                   .fast = h->local && !c->no_fast_path,
	                   .no_fast_doms = no_fast_doms,
	                   .no_fast_caches = no_fast_caches,
	                   .no_vcpu_doms = no_vcpu_doms,
	                   .no_vcpu_caches = no_vcpu_caches,
	                   .changed_doms = changed_doms,
	                   .changed_caches = changed_caches};
	vs_round_plan plan;
	virDomainStatsRecordPtr *recs = NULL;
	GHashTableIter it;
	gpointer v;

	/* A lifecycle event (r.changed) no longer makes the round slow: that
	 * asked the monitor-bound groups of every domain of the host for the
	 * one that changed, and a started domain's first values waited for
	 * it (1.6 s at 200 domains). Only the changed domains are asked. */
	r.slow = vs_collect_slow_due(c->slow_every_refresh, now, h->next_slow_us);
	vs_collect_plan_round(r.fast, r.slow, &plan);
	set_busy(h, true);
	int n = virConnectGetAllDomainStats(h->conn, plan.bulk_groups, &recs,
	                                    VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT);

	if (n < 0) {
		host_failed(h, VS_HOST_CONNECTED, "domain stats", NULL);
		return false;
	}
	r.after = g_get_monotonic_time();
	if (r.slow)
		h->next_slow_us = now + c->slow_ms * 1000ll;
	g_hash_table_iter_init(&it, h->cache);
	while (g_hash_table_iter_next(&it, NULL, &v))
		((vs_dom_cache *)v)->seen = false;
	for (int i = 0; i < n; i++)
		apply_record(h, &r, recs[i]);
	stats_from_libvirt(no_fast_doms, no_fast_caches, VIR_DOMAIN_STATS_CPU_TOTAL, false);
	stats_from_libvirt(no_vcpu_doms, no_vcpu_caches, VIR_DOMAIN_STATS_VCPU, false);
	stats_from_libvirt(changed_doms, changed_caches, plan.changed_groups, true);
	if (recs)
		virDomainStatsRecordListFree(recs);
	GPtrArray *part = take_part(h, &r);

	publish_part(h, part, r.changed);
	return true;
}

/* Waits until @deadline_us (monotonic), a kick (if @kickable) or stop.
 * Returns false when the collector is stopping. */
static bool host_wait(vs_host *h, int64_t deadline_us, bool kickable)
{
	vs_collector *c = h->c;
	bool run;

	g_mutex_lock(&c->lock);
	while (!c->stopping && !(kickable && h->kicked) && g_get_monotonic_time() < deadline_us)
		g_cond_wait_until(&c->wake, &c->lock, deadline_us);
	if (kickable)
		h->kicked = false;
	run = !c->stopping;
	g_mutex_unlock(&c->lock);
	return run;
}

static gpointer host_thread(gpointer data)
{
	vs_host *h = data;
	vs_collector *c = h->c;
	int64_t next = g_get_monotonic_time();

	for (;;) {
		g_mutex_lock(&c->lock);
		bool stop = c->stopping;

		g_mutex_unlock(&c->lock);
		if (stop)
			break;
		if (!h->conn) {
			if (!host_connect(h)) {
				/* the holder's backoff says when to try again */
				int64_t wait_us = MAX(vs_virt_retry_in_ms(h->virt), 1) * 1000;

				if (!host_wait(h, g_get_monotonic_time() + wait_us, false))
					break;
				continue;
			}
			next = g_get_monotonic_time();
		}
		host_refresh(h);

		if (g_atomic_int_get(&h->conn_closed) || virConnectIsAlive(h->conn) != 1) {
			vs_warning("%s: connection lost, reconnecting", h->uri);
			host_failed(h, VS_HOST_DISCONNECTED, "connection lost", NULL);
			host_disconnect(h);
			continue;
		}
		int64_t now = g_get_monotonic_time();

		next += c->refresh_ms * 1000ll;
		if (next <= now)
			next = now + c->refresh_ms * 1000ll;
		if (!host_wait(h, next, true))
			break;
	}
	host_disconnect(h);
	return NULL;
}

/* Publishes on schedule when no worker does (all of them stuck in a
 * frozen libvirtd), so readers see fresh host status and never wait. */
static gpointer watchdog_thread(gpointer data)
{
	vs_collector *c = data;

	g_mutex_lock(&c->lock);
	while (!c->stopping) {
		int64_t deadline = c->last_publish_us + c->refresh_ms * 1000ll;

		if (g_get_monotonic_time() >= deadline) {
			vs_snapshot *s = publish_locked(c);

			g_mutex_unlock(&c->lock);
			if (s) {
				c->on_snapshot(s, c->opaque);
				vs_snapshot_unref(s);
			}
			g_mutex_lock(&c->lock);
			continue;
		}
		g_cond_wait_until(&c->wake, &c->lock, deadline);
	}
	g_mutex_unlock(&c->lock);
	return NULL;
}

/**
 * vs_collector_handle_lifecycle:
 * @h: the host the event came from
 * @name: domain name
 * @uuid: domain UUID
 * @event: virDomainEventType
 * @detail: its detail
 *
 * Runs in libvirt's event loop thread: applies the state the event implies
 * to the published data at once, flags the domain's static data for a
 * reload, wakes the worker and tells the on_event callback. Never calls
 * libvirt.
 */
void vs_collector_handle_lifecycle(vs_host *h, const char *name, const unsigned char uuid[16],
                                   int event, int detail)
{
	vs_collector *c = h->c;
	vs_lifecycle_event ev = {
	    .host_uri = h->uri,
	    .name = name,
	    .old_state = -1,
	    .libvirt_event = event,
	    .libvirt_detail = detail,
	};
	int state, reason;

	memcpy(ev.uuid, uuid, 16);
	vs_uuid_format(uuid, ev.uuid_str);
	vs_collect_event_map(event, detail, &ev.kind, &state, &reason);
	ev.new_state = state;
	ev.new_reason = reason;

	g_mutex_lock(&c->lock);
	for (guint i = 0; h->part && i < h->part->len; i++) {
		vs_domain_stats *d = h->part->pdata[i];

		if (memcmp(d->uuid, uuid, 16) != 0)
			continue;
		ev.old_state = d->state;
		if (state >= 0) {
			d->state = state;
			d->reason = reason;
		} else {
			ev.new_state = d->state;
			ev.new_reason = d->reason;
		}
		if (state == VIR_DOMAIN_SHUTOFF) {
			d->id = -1;
			d->cpu_percent = d->cpu_percent_of_vcpus = 0;
		}
		if (event == VIR_DOMAIN_EVENT_UNDEFINED) {
			d->persistent = false;
			if (d->state == VIR_DOMAIN_SHUTOFF)
				g_ptr_array_remove_index(h->part, i);
		}
		break;
	}
	if (ev.new_state < 0 && event == VIR_DOMAIN_EVENT_UNDEFINED)
		ev.new_state = VIR_DOMAIN_SHUTOFF;
	g_hash_table_add(h->invalidate, g_strdup(ev.uuid_str));
	h->kicked = true;
	c->last_change_real_us = g_get_real_time();
	g_cond_broadcast(&c->wake);
	vs_snapshot *s = publish_locked(c);

	g_mutex_unlock(&c->lock);
	if (c->on_event)
		c->on_event(&ev, c->opaque);
	if (s) {
		c->on_snapshot(s, c->opaque);
		vs_snapshot_unref(s);
	}
}

static bool uri_is_local_system(const char *uri)
{
	return strcmp(uri, "qemu:///system") == 0 || strcmp(uri, "qemu+unix:///system") == 0;
}

/**
 * vs_collector_new:
 * @cfg: the configuration ([libvirt] hosts, refresh_interval, slow_interval,
 *	fast_path); only read here, not kept
 * @opts: overrides and callbacks, may be NULL
 *
 * Returns a collector that is not started yet; its snapshot lists every
 * host as connecting and no domain.
 */
vs_collector *vs_collector_new(const vs_config *cfg, const vs_collector_options *opts)
{
	static const vs_collector_options none = {0};
	vs_collector *c = g_new0(vs_collector, 1);

	if (!opts)
		opts = &none;
	g_mutex_init(&c->lock);
	g_cond_init(&c->published);
	g_cond_init(&c->wake);
	c->refresh_ms = opts->refresh_ms        ? opts->refresh_ms
	                : cfg->refresh_interval ? cfg->refresh_interval * 1000
	                                        : 1000;
	c->slow_ms = opts->slow_ms        ? opts->slow_ms
	             : cfg->slow_interval ? cfg->slow_interval * 1000
	                                  : 10000;
	c->slow_every_refresh = opts->slow_every_refresh;
	c->host_grace_s = cfg->host_grace ? cfg->host_grace : 30;
	c->no_fast_path = opts->no_fast_path || !cfg->use_cgroup;
	c->on_event = opts->on_event;
	c->on_snapshot = opts->on_snapshot;
	c->opaque = opts->opaque;
	c->hosts = g_ptr_array_new();
	for (char **u = cfg->hosts; u && *u; u++) {
		vs_host *h = g_new0(vs_host, 1);

		h->c = c;
		h->uri = g_strdup(*u);
		/* keepalive turns a frozen or vanished libvirtd into a closed
		 * connection (and failed calls), not a worker blocked forever */
		h->virt = vs_virt_new(*u, KEEPALIVE_INTERVAL, KEEPALIVE_COUNT);
		h->local = uri_is_local_system(*u);
		h->lifecycle_cb_id = -1;
		h->cache = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, dom_cache_free);
		h->invalidate = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
		h->part = g_ptr_array_new_with_free_func((GDestroyNotify)vs_domain_stats_free);
		h->status = vs_host_status_new(*u);
		g_ptr_array_add(c->hosts, h);
	}
	g_mutex_lock(&c->lock);
	vs_snapshot *s = publish_locked(c);

	g_mutex_unlock(&c->lock);
	vs_snapshot_unref(s);
	return c;
}

/**
 * vs_collector_start:
 * @c: a collector from vs_collector_new()
 * @error: set when a thread cannot be created
 *
 * Starts libvirt's event loop (once per process), one worker per host and
 * the watchdog. Unreachable hosts are not an error: they are retried.
 */
bool vs_collector_start(vs_collector *c, GError **error)
{
	if (c->started)
		return true;
	vs_collect_events_init();
	c->started = true;
	for (guint i = 0; i < c->hosts->len; i++) {
		vs_host *h = g_ptr_array_index(c->hosts, i);

		h->thread = g_thread_try_new("vs-collector", host_thread, h, error);
		if (!h->thread) {
			vs_collector_stop(c);
			return false;
		}
	}
	c->watchdog = g_thread_try_new("vs-collector-wd", watchdog_thread, c, error);
	if (!c->watchdog) {
		vs_collector_stop(c);
		return false;
	}
	return true;
}

/**
 * vs_collector_get_snapshot:
 * @c: the collector
 *
 * Returns a new reference to the newest snapshot; never blocks on libvirt.
 */
vs_snapshot *vs_collector_get_snapshot(vs_collector *c)
{
	g_mutex_lock(&c->lock);
	vs_snapshot *s = vs_snapshot_ref(c->snap);

	g_mutex_unlock(&c->lock);
	return s;
}

/**
 * vs_collector_wait_snapshot:
 * @c: the collector
 * @generation: the generation the caller already has
 * @timeout_ms: how long to wait at most
 *
 * Returns a reference to the newest snapshot once it is newer than
 * @generation or the timeout passed. For tools and tests.
 */
vs_snapshot *vs_collector_wait_snapshot(vs_collector *c, uint64_t generation, unsigned timeout_ms)
{
	int64_t deadline = g_get_monotonic_time() + timeout_ms * 1000ll;

	g_mutex_lock(&c->lock);
	while (c->generation <= generation && !c->stopping)
		if (!g_cond_wait_until(&c->published, &c->lock, deadline))
			break;
	vs_snapshot *s = vs_snapshot_ref(c->snap);

	g_mutex_unlock(&c->lock);
	return s;
}

/**
 * vs_collector_stop:
 * @c: the collector
 *
 * Stops and joins the threads. A worker blocked in a frozen libvirtd
 * returns when keepalive closes its connection (a few seconds).
 */
void vs_collector_stop(vs_collector *c)
{
	g_mutex_lock(&c->lock);
	c->stopping = true;
	g_cond_broadcast(&c->wake);
	g_cond_broadcast(&c->published);
	g_mutex_unlock(&c->lock);
	for (guint i = 0; i < c->hosts->len; i++) {
		vs_host *h = g_ptr_array_index(c->hosts, i);

		if (h->thread)
			g_thread_join(h->thread);
		h->thread = NULL;
	}
	if (c->watchdog)
		g_thread_join(c->watchdog);
	c->watchdog = NULL;
}

/**
 * vs_collector_free:
 * @c: a collector or NULL
 *
 * Stops it if needed and frees everything; snapshots still referenced by
 * readers stay valid.
 */
void vs_collector_free(vs_collector *c)
{
	if (!c)
		return;
	vs_collector_stop(c);
	for (guint i = 0; i < c->hosts->len; i++) {
		vs_host *h = g_ptr_array_index(c->hosts, i);

		g_hash_table_unref(h->cache);
		g_hash_table_unref(h->invalidate);
		g_ptr_array_unref(h->part);
		vs_host_status_free(h->status);
		vs_virt_free(h->virt);
		g_free(h->uri);
		g_free(h);
	}
	g_ptr_array_unref(c->hosts);
	vs_snapshot_unref(c->snap);
	g_cond_clear(&c->published);
	g_cond_clear(&c->wake);
	g_mutex_clear(&c->lock);
	g_free(c);
}
