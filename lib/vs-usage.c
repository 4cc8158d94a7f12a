/*
 * vs-usage.c - usage accounting from collector snapshots (rules in
 * vs-usage.h), and the text of its state file.
 */
#include "config.h"

#include "vs-usage.h"

#include "vs-error.h"
#include "vs-pool.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define FORMAT_LINE "virtscale-usage 1"

static const struct {
	const char *name;
	const char *unit;
	double per_unit; /* raw units in one exported unit */
} kinds[VS_USAGE_N_KINDS] = {
    [VS_USAGE_INSTANCE] = {"instance_seconds", "s", 1e6},
    [VS_USAGE_VCPU] = {"vcpu_seconds", "s", 1e6},
    [VS_USAGE_CPU] = {"cpu_seconds", "s", 1e9},
    [VS_USAGE_MEM_ALLOC] = {"memory_allocated_mib_seconds", "MiB-s", 1e3},
    [VS_USAGE_MEM_USED] = {"memory_used_mib_seconds", "MiB-s", 1e3},
    [VS_USAGE_DISK_READ] = {"disk_read_bytes", "bytes", 1},
    [VS_USAGE_DISK_WRITE] = {"disk_written_bytes", "bytes", 1},
    [VS_USAGE_NET_RX] = {"net_received_bytes", "bytes", 1},
    [VS_USAGE_NET_TX] = {"net_sent_bytes", "bytes", 1},
    [VS_USAGE_MAX_INSTANCE] = {"max_instance_seconds", "s", 1e6},
};

const char *vs_usage_kind_name(vs_usage_kind k)
{
	return k < VS_USAGE_N_KINDS ? kinds[k].name : "?";
}

const char *vs_usage_kind_unit(vs_usage_kind k)
{
	return k < VS_USAGE_N_KINDS ? kinds[k].unit : "?";
}

int vs_usage_kind_from_name(const char *name)
{
	for (int k = 0; k < VS_USAGE_N_KINDS; k++)
		if (strcmp(kinds[k].name, name) == 0)
			return k;
	return -1;
}

uint64_t vs_usage_export(vs_usage_kind k, uint64_t raw)
{
	return k < VS_USAGE_N_KINDS ? raw / (uint64_t)kinds[k].per_unit : 0;
}

double vs_usage_export_double(vs_usage_kind k, uint64_t raw)
{
	return k < VS_USAGE_N_KINDS ? (double)raw / kinds[k].per_unit : 0;
}

static void device_free(vs_usage_device *dev)
{
	g_free(dev->key);
	g_free(dev);
}

static vs_usage_domain *domain_new(const char *uuid)
{
	vs_usage_domain *d = g_new0(vs_usage_domain, 1);

	g_strlcpy(d->uuid, uuid, sizeof(d->uuid));
	d->run_id = -1;
	d->disks = g_ptr_array_new_with_free_func((GDestroyNotify)device_free);
	d->nets = g_ptr_array_new_with_free_func((GDestroyNotify)device_free);
	return d;
}

static void domain_free(vs_usage_domain *d)
{
	g_free(d->name);
	g_free(d->pool);
	g_free(d->run_host);
	g_ptr_array_unref(d->disks);
	g_ptr_array_unref(d->nets);
	g_free(d);
}

static void bucket_free(vs_usage_bucket *b)
{
	g_hash_table_unref(b->pools);
	g_free(b);
}

static GHashTable *counters_table(void)
{
	return g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
}

/**
 * vs_usage_new:
 * @now_real_us: wall clock, recorded as the discontinuity time
 *
 * Returns counters at zero.
 */
vs_usage *vs_usage_new(int64_t now_real_us)
{
	vs_usage *u = g_new0(vs_usage, 1);

	u->domains =
	    g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)domain_free);
	u->pools = counters_table();
	u->hosts_read = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_queue_init(&u->buckets);
	u->discontinuity_us = now_real_us;
	return u;
}

void vs_usage_free(vs_usage *u)
{
	if (!u)
		return;
	g_hash_table_unref(u->domains);
	g_hash_table_unref(u->pools);
	g_hash_table_unref(u->hosts_read);
	g_queue_clear_full(&u->buckets, (GDestroyNotify)bucket_free);
	g_free(u);
}

static vs_usage_counters *counters_of(GHashTable *t, const char *name)
{
	vs_usage_counters *c = g_hash_table_lookup(t, name);

	if (!c) {
		c = g_new0(vs_usage_counters, 1);
		g_hash_table_insert(t, g_strdup(name), c);
	}
	return c;
}

static void counters_add(vs_usage_counters *to, const vs_usage_counters *g)
{
	for (int k = 0; k < VS_USAGE_N_KINDS; k++)
		to->v[k] += g->v[k];
}

static void copy_counters_table(GHashTable *to, GHashTable *from)
{
	GHashTableIter it;
	gpointer k, v;

	g_hash_table_iter_init(&it, from);
	while (g_hash_table_iter_next(&it, &k, &v))
		*counters_of(to, k) = *(vs_usage_counters *)v;
}

static GPtrArray *copy_devices(const GPtrArray *from)
{
	GPtrArray *to = g_ptr_array_new_with_free_func((GDestroyNotify)device_free);

	for (guint i = 0; i < from->len; i++) {
		const vs_usage_device *s = from->pdata[i];
		vs_usage_device *dev = g_new0(vs_usage_device, 1);

		dev->key = g_strdup(s->key);
		dev->a = s->a;
		dev->b = s->b;
		g_ptr_array_add(to, dev);
	}
	return to;
}

/* A deep copy, for readers in other threads. */
vs_usage *vs_usage_copy(const vs_usage *u)
{
	vs_usage *c = vs_usage_new(u->discontinuity_us);
	GHashTableIter it;
	gpointer v;

	g_hash_table_iter_init(&it, u->domains);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		const vs_usage_domain *s = v;
		vs_usage_domain *d = g_memdup2(s, sizeof(*s));

		d->name = g_strdup(s->name);
		d->pool = g_strdup(s->pool);
		d->run_host = g_strdup(s->run_host);
		d->disks = copy_devices(s->disks);
		d->nets = copy_devices(s->nets);
		g_hash_table_insert(c->domains, d->uuid, d);
	}
	copy_counters_table(c->pools, u->pools);
	for (GList *l = u->buckets.head; l; l = l->next) {
		const vs_usage_bucket *s = l->data;
		vs_usage_bucket *b = g_new0(vs_usage_bucket, 1);

		b->hour = s->hour;
		b->pools = counters_table();
		copy_counters_table(b->pools, s->pools);
		g_queue_push_tail(&c->buckets, b);
	}
	g_hash_table_iter_init(&it, u->hosts_read);
	while (g_hash_table_iter_next(&it, &v, NULL))
		g_hash_table_add(c->hosts_read, g_strdup(v));
	c->last_mono_us = u->last_mono_us;
	c->last_real_us = u->last_real_us;
	c->saved_mono_us = u->saved_mono_us;
	c->updates = u->updates;
	return c;
}

/* Growth of a cumulative counter from @prev to @cur: a counter that went
 * back restarted from zero, so @cur is what it grew since. */
static uint64_t growth(uint64_t prev, uint64_t cur)
{
	return cur >= prev ? cur - prev : cur;
}

static vs_usage_device *device_find(GPtrArray *devs, const char *key)
{
	for (guint i = 0; i < devs->len; i++) {
		vs_usage_device *dev = devs->pdata[i];

		if (strcmp(dev->key, key) == 0)
			return dev;
	}
	return NULL;
}

/* One device reading of the current run: its growth into @ga/@gb. */
static void device_reading(vs_usage_domain *ud, GPtrArray *devs, const char *key, uint64_t a,
                           uint64_t b, uint64_t *ga, uint64_t *gb)
{
	vs_usage_device *dev = device_find(devs, key);

	if (dev) {
		*ga += growth(dev->a, a);
		*gb += growth(dev->b, b);
	} else {
		if (ud->run_fresh) { /* all of it belongs to this run */
			*ga += a;
			*gb += b;
		}
		dev = g_new0(vs_usage_device, 1);
		dev->key = g_strdup(key);
		g_ptr_array_add(devs, dev);
	}
	dev->a = a;
	dev->b = b;
}

/* The memory a domain holds and uses, in KiB (balloon-aware). */
static uint64_t mem_alloc_kib(const vs_domain_stats *d)
{
	return d->mem_current_kib ? d->mem_current_kib : d->mem_max_kib;
}

static uint64_t mem_used_kib(const vs_domain_stats *d)
{
	uint64_t cur = mem_alloc_kib(d);

	if (d->mem_rss_kib)
		return d->mem_rss_kib;
	if (d->mem_unused_kib && d->mem_unused_kib <= cur)
		return cur - d->mem_unused_kib;
	return cur;
}

/* The pool @d is a member of, NULL none (the first pool that claims it). */
static const char *pool_of(const vs_config *cfg, const vs_domain_stats *d)
{
	for (guint i = 0; cfg && cfg->pools && i < cfg->pools->len; i++) {
		const vs_pool_config *p = cfg->pools->pdata[i];
		unsigned index;

		if (vs_pool_on_host(p, d->host_uri) &&
		    vs_pool_is_member(p, d->name, d->meta_pool, &index))
			return p->name;
	}
	return NULL;
}

/* Starts a new run of @ud at @d's reading: its first readings count whole
 * when the run began while watched (@fresh). */
static void start_run(vs_usage_domain *ud, const vs_domain_stats *d, bool fresh)
{
	g_free(ud->run_host);
	ud->run_host = g_strdup(d->host_uri);
	ud->run_id = d->id;
	ud->run_mono_us = d->sample_mono_us;
	ud->run_fresh = fresh;
	ud->have_cpu = false;
	ud->cpu_ns = 0;
	g_ptr_array_set_size(ud->disks, 0);
	g_ptr_array_set_size(ud->nets, 0);
}

/* The cumulative counters of a running domain's reading into @g. */
static void cumulative_growth(vs_usage *u, vs_usage_domain *ud, const vs_domain_stats *d,
                              bool known, vs_usage_counters *g)
{
	bool same_run = ud->run_id == d->id && g_strcmp0(ud->run_host, d->host_uri) == 0;

	if (!same_run) {
		/* A run we knew ended (restart, migration) or one began after
		 * a snapshot that listed its host: it started from zero. A
		 * domain first met on a host not read before was running
		 * before we watched: only its baseline. */
		bool fresh =
		    known || (d->host_uri && g_hash_table_contains(u->hosts_read, d->host_uri));
		start_run(ud, d, fresh);
	}
	if (d->sample_mono_us > 0) { /* a CPU reading of this run */
		if (ud->have_cpu)
			g->v[VS_USAGE_CPU] += growth(ud->cpu_ns, d->cpu_time_ns);
		else if (ud->run_fresh)
			g->v[VS_USAGE_CPU] += d->cpu_time_ns;
		ud->cpu_ns = d->cpu_time_ns;
		ud->have_cpu = true;
	}
	/* Devices keep the previous run's counters until the next slow
	 * sample: only samples taken during this run are readings of it. */
	if (!d->slow_mono_us || d->slow_mono_us < ud->run_mono_us)
		return;
	for (size_t i = 0; i < d->n_disks; i++) {
		const vs_disk_stats *k = &d->disks[i];

		if (k->have_io && k->target)
			device_reading(ud, ud->disks, k->target, k->rd_bytes, k->wr_bytes,
			               &g->v[VS_USAGE_DISK_READ], &g->v[VS_USAGE_DISK_WRITE]);
	}
	for (size_t i = 0; i < d->n_nets; i++) {
		const vs_net_stats *n = &d->nets[i];
		const char *key = n->mac ? n->mac : n->ifname;

		if (n->have_io && key)
			device_reading(ud, ud->nets, key, n->rx_bytes, n->tx_bytes,
			               &g->v[VS_USAGE_NET_RX], &g->v[VS_USAGE_NET_TX]);
	}
}

static vs_usage_bucket *bucket_for(vs_usage *u, int64_t real_us)
{
	int64_t hour = real_us / G_USEC_PER_SEC / 3600 * 3600;
	vs_usage_bucket *last = g_queue_peek_tail(&u->buckets);

	if (last && last->hour >= hour)
		return last; /* the clock went back: keep adding to the newest */
	vs_usage_bucket *b = g_new0(vs_usage_bucket, 1);

	b->hour = hour;
	b->pools = counters_table();
	g_queue_push_tail(&u->buckets, b);
	while (u->buckets.length > VS_USAGE_MAX_BUCKETS)
		bucket_free(g_queue_pop_head(&u->buckets));
	return b;
}

static void charge_pool(vs_usage *u, vs_usage_bucket *b, const char *pool,
                        const vs_usage_counters *g)
{
	counters_add(counters_of(u->pools, pool), g);
	if (b)
		counters_add(counters_of(b->pools, pool), g);
}

/* Among records of one UUID (a migration lists it on two hosts), the one
 * that runs, then the one with an id. */
static GHashTable *pick_records(const vs_snapshot *snap)
{
	GHashTable *t = g_hash_table_new(g_str_hash, g_str_equal);

	for (guint i = 0; snap->domains && i < snap->domains->len; i++) {
		const vs_domain_stats *d = snap->domains->pdata[i];
		const vs_domain_stats *o = g_hash_table_lookup(t, d->uuid_str);

		if (o && (vs_pool_member_running(o->state) ||
		          (o->id >= 0 && !vs_pool_member_running(d->state))))
			continue;
		g_hash_table_insert(t, (gpointer)d->uuid_str, (gpointer)d);
	}
	return t;
}

/**
 * vs_usage_update:
 * @u: the counters
 * @cfg: the configuration (pools and their max)
 * @snap: a collector snapshot newer than the previous one given
 *
 * Accounts the interval since the previous snapshot (rules in vs-usage.h).
 * An older or equal snapshot changes nothing.
 */
void vs_usage_update(vs_usage *u, const vs_config *cfg, const vs_snapshot *snap)
{
	if (!snap || (u->last_mono_us && snap->taken_mono_us <= u->last_mono_us))
		return;
	/* Written before the machine restarted: its runs are over. */
	if (!u->last_mono_us && u->saved_mono_us && snap->taken_mono_us < u->saved_mono_us) {
		GHashTableIter it;
		gpointer v;

		g_hash_table_iter_init(&it, u->domains);
		while (g_hash_table_iter_next(&it, NULL, &v)) {
			vs_usage_domain *ud = v;

			ud->run_id = ud->run_id >= 0 ? -2 : -1; /* known, ended */
		}
	}
	int64_t dt_us = u->last_mono_us ? snap->taken_mono_us - u->last_mono_us : 0;
	vs_usage_bucket *b = bucket_for(u, snap->taken_real_us);
	g_autoptr(GHashTable) picked = pick_records(snap);
	GHashTableIter it;
	gpointer v;

	g_hash_table_iter_init(&it, picked);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		const vs_domain_stats *d = v;
		vs_usage_domain *ud = g_hash_table_lookup(u->domains, d->uuid_str);
		bool known = ud != NULL;
		vs_usage_counters g = {{0}};
		const char *pool = pool_of(cfg, d);

		if (!ud) {
			ud = domain_new(d->uuid_str);
			g_hash_table_insert(u->domains, ud->uuid, ud);
		}
		if (g_strcmp0(ud->name, d->name) != 0) {
			g_free(ud->name);
			ud->name = g_strdup(d->name);
		}
		if (pool && g_strcmp0(ud->pool, pool) != 0) {
			g_free(ud->pool);
			ud->pool = g_strdup(pool);
		}
		if (ud->present && ud->was_running && dt_us > 0) {
			g.v[VS_USAGE_INSTANCE] = dt_us;
			g.v[VS_USAGE_VCPU] = (uint64_t)ud->vcpus * dt_us;
			g.v[VS_USAGE_MEM_ALLOC] =
			    (uint64_t)((double)ud->mem_alloc_kib * dt_us / 1024e3);
			g.v[VS_USAGE_MEM_USED] =
			    (uint64_t)((double)ud->mem_used_kib * dt_us / 1024e3);
		}
		if (d->id >= 0)
			cumulative_growth(u, ud, d, known && ud->run_id != -1, &g);
		else if (ud->run_id >= 0)
			ud->run_id = -2; /* the run ended: the next one starts from zero */
		counters_add(&ud->c, &g);
		if (pool)
			charge_pool(u, b, pool, &g);
		ud->was_running = vs_pool_member_running(d->state);
		ud->vcpus = d->vcpu_current;
		ud->mem_alloc_kib = mem_alloc_kib(d);
		ud->mem_used_kib = mem_used_kib(d);
		ud->last_seen_real_us = snap->taken_real_us;
		ud->present = true;
	}
	/* Domains gone from the snapshot: no more time; their records stay
	 * (the UUID may come back) until unseen for VS_USAGE_FORGET_US. A run
	 * ends only when its host was read and no longer lists it: a host not
	 * read yet (a restart of the program) or not answering lists nothing. */
	g_autoptr(GHashTable) read_now =
	    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

	for (guint i = 0; snap->hosts && i < snap->hosts->len; i++) {
		const vs_host_status *h = snap->hosts->pdata[i];

		if (h->state == VS_HOST_CONNECTED && h->refreshes > 0 && h->uri)
			g_hash_table_add(read_now, g_strdup(h->uri));
	}
	g_hash_table_iter_init(&it, u->domains);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		vs_usage_domain *ud = v;

		if (g_hash_table_contains(picked, ud->uuid))
			continue;
		ud->present = false;
		ud->was_running = false;
		if (ud->run_id >= 0 && ud->run_host &&
		    g_hash_table_contains(read_now, ud->run_host))
			ud->run_id = -2;
		if (snap->taken_real_us - ud->last_seen_real_us > VS_USAGE_FORGET_US)
			g_hash_table_iter_remove(&it);
	}
	for (guint i = 0; dt_us > 0 && cfg && cfg->pools && i < cfg->pools->len; i++) {
		const vs_pool_config *p = cfg->pools->pdata[i];
		vs_usage_counters g = {{0}};

		g.v[VS_USAGE_MAX_INSTANCE] = (uint64_t)p->max * dt_us;
		charge_pool(u, b, p->name, &g);
	}
	g_hash_table_unref(u->hosts_read);
	u->hosts_read = g_steal_pointer(&read_now);
	u->last_mono_us = snap->taken_mono_us;
	u->last_real_us = snap->taken_real_us;
	u->updates++;
}

const vs_usage_counters *vs_usage_pool(const vs_usage *u, const char *name)
{
	return g_hash_table_lookup(u->pools, name);
}

const vs_usage_domain *vs_usage_domain_get(const vs_usage *u, const char *uuid)
{
	return g_hash_table_lookup(u->domains, uuid);
}

static gint cmp_str(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static GPtrArray *sorted_keys(GHashTable *t)
{
	GPtrArray *a = g_ptr_array_new();
	GHashTableIter it;
	gpointer k;

	g_hash_table_iter_init(&it, t);
	while (g_hash_table_iter_next(&it, &k, NULL))
		g_ptr_array_add(a, k);
	g_ptr_array_sort(a, cmp_str);
	return a;
}

GPtrArray *vs_usage_pool_names(const vs_usage *u)
{
	return sorted_keys(u->pools);
}

GPtrArray *vs_usage_domain_uuids(const vs_usage *u)
{
	return sorted_keys(u->domains);
}

void vs_usage_since(const vs_usage *u, const char *pool, int64_t since, vs_usage_counters *out)
{
	int64_t hour = since >= 0 ? since / 3600 * 3600 : 0;

	memset(out, 0, sizeof(*out));
	for (GList *l = u->buckets.head; l; l = l->next) {
		const vs_usage_bucket *b = l->data;
		GHashTableIter it;
		gpointer k, v;

		if (b->hour < hour)
			continue;
		g_hash_table_iter_init(&it, b->pools);
		while (g_hash_table_iter_next(&it, &k, &v))
			if (!pool || strcmp(pool, k) == 0)
				counters_add(out, v);
	}
}

G_STATIC_ASSERT(VS_CONFIG_N_PRICES == VS_USAGE_MAX_INSTANCE);

/* [prices] keys are per hour, GiB-hour and GiB: per exported unit here. */
void vs_usage_prices_from_config(const vs_config *cfg, double price[VS_USAGE_N_KINDS])
{
	static const double per_key_unit[VS_CONFIG_N_PRICES] = {
	    [VS_USAGE_INSTANCE] = 3600,
	    [VS_USAGE_VCPU] = 3600,
	    [VS_USAGE_CPU] = 3600,
	    [VS_USAGE_MEM_ALLOC] = 1024.0 * 3600,
	    [VS_USAGE_MEM_USED] = 1024.0 * 3600,
	    [VS_USAGE_DISK_READ] = 1073741824.0,
	    [VS_USAGE_DISK_WRITE] = 1073741824.0,
	    [VS_USAGE_NET_RX] = 1073741824.0,
	    [VS_USAGE_NET_TX] = 1073741824.0,
	};

	for (int k = 0; k < VS_USAGE_N_KINDS; k++)
		price[k] = k < VS_CONFIG_N_PRICES ? cfg->prices[k] / per_key_unit[k] : 0;
}

double vs_usage_cost(const vs_usage_counters *c, const double price[VS_USAGE_N_KINDS])
{
	double sum = 0;

	for (int k = 0; k < VS_USAGE_N_KINDS; k++)
		if (k != VS_USAGE_MAX_INSTANCE) /* what a fixed pool would use is not billed */
			sum += price[k] * vs_usage_export_double(k, c->v[k]);
	return sum;
}

/* ---- the state file ---------------------------------------------------- */

/* Names in the file: escaped so they hold no space or newline; "-" is none. */
static char *esc(const char *s)
{
	return s ? g_uri_escape_string(s, NULL, FALSE) : g_strdup("-");
}

static void put_counters(GString *out, const vs_usage_counters *c)
{
	for (int k = 0; k < VS_USAGE_N_KINDS; k++)
		g_string_append_printf(out, " %" PRIu64, c->v[k]);
	g_string_append_c(out, '\n');
}

static void put_devices(GString *out, const char *what, const char *uuid, GPtrArray *devs)
{
	for (guint i = 0; i < devs->len; i++) {
		const vs_usage_device *dev = devs->pdata[i];
		g_autofree char *key = esc(dev->key);

		g_string_append_printf(out, "%s %s %s %" PRIu64 " %" PRIu64 "\n", what, uuid, key,
		                       dev->a, dev->b);
	}
}

/**
 * vs_usage_serialize:
 * @u: the counters
 *
 * Returns the state file's text: a version line, the clocks, one line per
 * pool, domain, device baseline and hourly bucket, and a last line with
 * the SHA-256 of everything before it, so a torn or altered file is known.
 */
char *vs_usage_serialize(const vs_usage *u)
{
	GString *out = g_string_new(FORMAT_LINE "\n");
	g_autoptr(GPtrArray) pools = vs_usage_pool_names(u);
	g_autoptr(GPtrArray) uuids = vs_usage_domain_uuids(u);

	g_string_append_printf(
	    out, "clock %" G_GINT64_FORMAT " %" G_GINT64_FORMAT " %" G_GINT64_FORMAT "\n",
	    u->discontinuity_us, u->last_real_us,
	    u->last_mono_us ? u->last_mono_us : u->saved_mono_us);
	for (guint i = 0; i < pools->len; i++) {
		g_autofree char *name = esc(pools->pdata[i]);

		g_string_append_printf(out, "pool %s", name);
		put_counters(out, g_hash_table_lookup(u->pools, pools->pdata[i]));
	}
	for (guint i = 0; i < uuids->len; i++) {
		const vs_usage_domain *d = g_hash_table_lookup(u->domains, uuids->pdata[i]);
		g_autofree char *name = esc(d->name);
		g_autofree char *pool = esc(d->pool);
		g_autofree char *host = esc(d->run_host);

		g_string_append_printf(out,
		                       "domain %s %s %s %s %d %" G_GINT64_FORMAT " %d %d %" PRIu64
		                       " %" G_GINT64_FORMAT,
		                       d->uuid, name, pool, host, d->run_id, d->run_mono_us,
		                       d->run_fresh, d->have_cpu, d->cpu_ns, d->last_seen_real_us);
		put_counters(out, &d->c);
		put_devices(out, "disk", d->uuid, d->disks);
		put_devices(out, "net", d->uuid, d->nets);
	}
	for (GList *l = u->buckets.head; l; l = l->next) {
		const vs_usage_bucket *b = l->data;
		g_autoptr(GPtrArray) names = sorted_keys(b->pools);

		for (guint i = 0; i < names->len; i++) {
			g_autofree char *name = esc(names->pdata[i]);

			g_string_append_printf(out, "bucket %" G_GINT64_FORMAT " %s", b->hour,
			                       name);
			put_counters(out, g_hash_table_lookup(b->pools, names->pdata[i]));
		}
	}
	g_autofree char *sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256, out->str, out->len);

	g_string_append_printf(out, "sha256 %s\n", sum);
	return g_string_free(out, FALSE);
}

static bool parse_u64(const char *s, uint64_t *v)
{
	return g_ascii_string_to_unsigned(s, 10, 0, G_MAXUINT64, v, NULL);
}

static bool parse_i64(const char *s, int64_t *v)
{
	return g_ascii_string_to_signed(s, 10, G_MININT64, G_MAXINT64, v, NULL);
}

static bool parse_counters(char **f, vs_usage_counters *c)
{
	for (int k = 0; k < VS_USAGE_N_KINDS; k++)
		if (!f[k] || !parse_u64(f[k], &c->v[k]))
			return false;
	return f[VS_USAGE_N_KINDS] == NULL;
}

/* An escaped name back, NULL for "-" (*@ok false when malformed). */
static char *unesc(const char *s, bool *ok)
{
	if (strcmp(s, "-") == 0)
		return NULL;
	char *r = g_uri_unescape_string(s, NULL);

	if (!r || !*r)
		*ok = false;
	return r;
}

static bool parse_line(vs_usage *u, char **f, guint n)
{
	bool ok = true;

	if (strcmp(f[0], "clock") == 0 && n == 4)
		return parse_i64(f[1], &u->discontinuity_us) && parse_i64(f[2], &u->last_real_us) &&
		       parse_i64(f[3], &u->saved_mono_us);
	if (strcmp(f[0], "pool") == 0 && n == 2 + VS_USAGE_N_KINDS) {
		g_autofree char *name = unesc(f[1], &ok);
		vs_usage_counters c;

		if (!ok || !name || !parse_counters(f + 2, &c))
			return false;
		*counters_of(u->pools, name) = c;
		return true;
	}
	if (strcmp(f[0], "domain") == 0 && n == 11 + VS_USAGE_N_KINDS) {
		vs_usage_domain *d = domain_new(f[1]);
		int64_t run_id, fresh, have_cpu;

		d->name = unesc(f[2], &ok);
		d->pool = unesc(f[3], &ok);
		d->run_host = unesc(f[4], &ok);
		ok = ok && strlen(f[1]) == VS_UUID_STRING_LEN - 1 && parse_i64(f[5], &run_id) &&
		     run_id >= -2 && run_id <= G_MAXINT && parse_i64(f[6], &d->run_mono_us) &&
		     parse_i64(f[7], &fresh) && parse_i64(f[8], &have_cpu) &&
		     parse_u64(f[9], &d->cpu_ns) && parse_i64(f[10], &d->last_seen_real_us) &&
		     parse_counters(f + 11, &d->c) && !g_hash_table_contains(u->domains, f[1]);
		if (!ok) {
			domain_free(d);
			return false;
		}
		d->run_id = (int)run_id;
		d->run_fresh = fresh != 0;
		d->have_cpu = have_cpu != 0;
		g_hash_table_insert(u->domains, d->uuid, d);
		return true;
	}
	if ((strcmp(f[0], "disk") == 0 || strcmp(f[0], "net") == 0) && n == 5) {
		vs_usage_domain *d = g_hash_table_lookup(u->domains, f[1]);
		vs_usage_device *dev = g_new0(vs_usage_device, 1);

		dev->key = unesc(f[2], &ok);
		if (!d || !ok || !dev->key || !parse_u64(f[3], &dev->a) ||
		    !parse_u64(f[4], &dev->b)) {
			device_free(dev);
			return false;
		}
		g_ptr_array_add(f[0][0] == 'd' ? d->disks : d->nets, dev);
		return true;
	}
	if (strcmp(f[0], "bucket") == 0 && n == 3 + VS_USAGE_N_KINDS) {
		int64_t hour;
		g_autofree char *name = unesc(f[2], &ok);
		vs_usage_counters c;
		vs_usage_bucket *last = g_queue_peek_tail(&u->buckets);

		if (!ok || !name || !parse_i64(f[1], &hour) || hour % 3600 ||
		    !parse_counters(f + 3, &c) || (last && last->hour > hour))
			return false;
		if (!last || last->hour != hour) {
			last = g_new0(vs_usage_bucket, 1);
			last->hour = hour;
			last->pools = counters_table();
			g_queue_push_tail(&u->buckets, last);
		}
		*counters_of(last->pools, name) = c;
		return true;
	}
	return false;
}

/**
 * vs_usage_parse:
 * @text: a state file's content
 * @len: its length
 * @error: why it is not usable
 *
 * Returns the counters it holds, or NULL when the file is torn (no
 * checksum line at the end), altered (checksum differs), of another
 * version or malformed: a half-read file is never used.
 */
vs_usage *vs_usage_parse(const char *text, gsize len, GError **error)
{
	const char *tail;
	gsize body;

	if (!len || text[len - 1] != '\n' || memchr(text, '\0', len)) {
		g_set_error(error, VS_USAGE_ERROR, VS_USAGE_ERROR_CORRUPT,
		            "torn (no complete last line)");
		return NULL;
	}
	tail = g_strrstr_len(text, (gssize)len - 1, "\n");
	body = tail ? (gsize)(tail - text) + 1 : 0;
	if (!g_str_has_prefix(text + body, "sha256 ")) {
		g_set_error(error, VS_USAGE_ERROR, VS_USAGE_ERROR_CORRUPT,
		            "torn (no checksum line)");
		return NULL;
	}
	g_autofree char *sum =
	    g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)text, body);
	g_autofree char *want = g_strndup(text + body + 7, len - body - 8);

	if (strcmp(sum, want) != 0) {
		g_set_error(error, VS_USAGE_ERROR, VS_USAGE_ERROR_CORRUPT, "checksum mismatch");
		return NULL;
	}
	g_autofree char *copy = g_strndup(text, body);
	g_auto(GStrv) lines = g_strsplit(copy, "\n", -1);

	if (!lines[0] || strcmp(lines[0], FORMAT_LINE) != 0) {
		g_set_error(error, VS_USAGE_ERROR, VS_USAGE_ERROR_VERSION,
		            "not a \"" FORMAT_LINE "\" file");
		return NULL;
	}
	g_autoptr(vs_usage) u = vs_usage_new(0);

	for (guint i = 1; lines[i]; i++) {
		if (!*lines[i])
			continue;
		g_auto(GStrv) f = g_strsplit(lines[i], " ", -1);

		if (!parse_line(u, f, g_strv_length(f))) {
			g_set_error(error, VS_USAGE_ERROR, VS_USAGE_ERROR_CORRUPT,
			            "line %u is malformed", i + 1);
			return NULL;
		}
	}
	return g_steal_pointer(&u);
}
