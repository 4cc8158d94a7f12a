/*
 * test-usage.c - usage accounting (lib/vs-usage.c): time and counters
 * accumulated from snapshots, counter resets and new runs never negative or
 * counted twice, a domain stopped between two refreshes charged up to its
 * stop, counters across a restart of the program, the state file's
 * checksum catching torn and altered files, hourly buckets and the cost.
 */
#include "config.h"

#include "vs-usage.h"

#include "testutil.h"

#include <libvirt/libvirt.h>
#include <string.h>

#define SEC   G_GINT64_CONSTANT(1000000)
#define T0    (1000 * SEC)                          /* monotonic clock of the first snapshot */
#define REAL0 (G_GINT64_CONSTANT(1800000000) * SEC) /* wall clock, a round hour */
#define UUID1 "11111111-2222-3333-4444-000000000001"
#define UUID2 "11111111-2222-3333-4444-000000000002"

static const char *config_text = "[pool web]\ntemplate = web-template\n"
                                 "name_pattern = web-%02d\nmin = 1\nmax = 4\n";

/* A snapshot at @t_us after T0 with the local hypervisor connected and read. */
static vs_snapshot *snap_at(int64_t t_us)
{
	vs_snapshot *s = vs_snapshot_new();

	s->taken_mono_us = T0 + t_us;
	s->taken_real_us = REAL0 + t_us;
	vs_test_snapshot_host(s, VS_TEST_HOST, VS_HOST_CONNECTED, 5);
	return s;
}

/* A domain of @s: 2 vCPUs, 1 GiB balloon, 256 MiB RSS, one disk and one NIC. */
static vs_domain_stats *dom(vs_snapshot *s, const char *uuid, const char *name, int state, int id,
                            uint64_t cpu_s, uint64_t io)
{
	vs_domain_stats *d = vs_test_snapshot_domain(s, VS_TEST_HOST, name, state, -1, "web", NULL);

	g_strlcpy(d->uuid_str, uuid, sizeof(d->uuid_str));
	d->id = id;
	d->vcpu_current = 2;
	d->mem_current_kib = 1024 * 1024;
	d->mem_rss_kib = 256 * 1024;
	d->cpu_time_ns = cpu_s * 1000000000ULL;
	d->sample_mono_us = s->taken_mono_us;
	d->slow_mono_us = s->taken_mono_us;
	d->n_disks = 1;
	d->disks = g_new0(vs_disk_stats, 1);
	d->disks[0].target = g_strdup("vda");
	d->disks[0].have_io = true;
	d->disks[0].rd_bytes = io;
	d->disks[0].wr_bytes = 2 * io;
	d->n_nets = 1;
	d->nets = g_new0(vs_net_stats, 1);
	d->nets[0].mac = g_strdup("52:54:00:00:00:01");
	d->nets[0].have_io = true;
	d->nets[0].rx_bytes = 3 * io;
	d->nets[0].tx_bytes = 4 * io;
	return d;
}

static void feed(vs_usage *u, const vs_config *cfg, vs_snapshot *s)
{
	vs_usage_update(u, cfg, s);
	vs_snapshot_unref(s);
}

static const vs_usage_domain *get(const vs_usage *u, const char *uuid)
{
	const vs_usage_domain *d = vs_usage_domain_get(u, uuid);

	ck_assert_ptr_nonnull(d);
	return d;
}

START_TEST(test_running_domain_accumulates)
{
	g_autoptr(vs_config) cfg = vs_test_config(config_text);
	g_autoptr(vs_usage) u = vs_usage_new(REAL0);
	vs_snapshot *s;

	s = snap_at(0);
	dom(s, UUID1, "web-01", VIR_DOMAIN_RUNNING, 7, 100, 1000);
	feed(u, cfg, s);
	/* the first snapshot is a baseline: nothing charged */
	ck_assert_uint_eq(get(u, UUID1)->c.v[VS_USAGE_INSTANCE], 0);
	ck_assert_uint_eq(get(u, UUID1)->c.v[VS_USAGE_CPU], 0);

	s = snap_at(2 * SEC);
	dom(s, UUID1, "web-01", VIR_DOMAIN_RUNNING, 7, 101, 1500);
	feed(u, cfg, s);
	s = snap_at(3 * SEC);
	dom(s, UUID1, "web-01", VIR_DOMAIN_RUNNING, 7, 103, 1600);
	feed(u, cfg, s);

	const vs_usage_counters *c = &get(u, UUID1)->c;
	ck_assert_uint_eq(c->v[VS_USAGE_INSTANCE], 3 * SEC);
	ck_assert_uint_eq(c->v[VS_USAGE_VCPU], 6 * SEC);
	ck_assert_uint_eq(c->v[VS_USAGE_CPU], 3000000000ULL);
	ck_assert_uint_eq(c->v[VS_USAGE_MEM_ALLOC], 1024 * 3000); /* MiB-ms */
	ck_assert_uint_eq(c->v[VS_USAGE_MEM_USED], 256 * 3000);
	ck_assert_uint_eq(c->v[VS_USAGE_DISK_READ], 600);
	ck_assert_uint_eq(c->v[VS_USAGE_DISK_WRITE], 1200);
	ck_assert_uint_eq(c->v[VS_USAGE_NET_RX], 1800);
	ck_assert_uint_eq(c->v[VS_USAGE_NET_TX], 2400);
	ck_assert_uint_eq(vs_usage_export(VS_USAGE_INSTANCE, c->v[VS_USAGE_INSTANCE]), 3);
	ck_assert_uint_eq(vs_usage_export(VS_USAGE_MEM_ALLOC, c->v[VS_USAGE_MEM_ALLOC]), 3072);

	const vs_usage_counters *p = vs_usage_pool(u, "web");
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(p->v[VS_USAGE_INSTANCE], 3 * SEC);
	ck_assert_uint_eq(p->v[VS_USAGE_CPU], 3000000000ULL);
	ck_assert_uint_eq(p->v[VS_USAGE_MAX_INSTANCE], 4 * 3 * SEC); /* max = 4 */
}
END_TEST

START_TEST(test_counter_reset_never_negative_nor_double)
{
	g_autoptr(vs_config) cfg = vs_test_config(config_text);
	g_autoptr(vs_usage) u = vs_usage_new(REAL0);
	vs_snapshot *s;

	s = snap_at(0);
	dom(s, UUID1, "web-01", VIR_DOMAIN_RUNNING, 7, 100, 1000);
	feed(u, cfg, s);
	/* same run, the guest's counters went back (reset to zero, then grew) */
	s = snap_at(1 * SEC);
	dom(s, UUID1, "web-01", VIR_DOMAIN_RUNNING, 7, 5, 10);
	feed(u, cfg, s);
	const vs_usage_counters *c = &get(u, UUID1)->c;
	ck_assert_uint_eq(c->v[VS_USAGE_CPU], 5000000000ULL);
	ck_assert_uint_eq(c->v[VS_USAGE_DISK_READ], 10);
	/* QEMU restarted between two refreshes: a new id, counters from zero */
	s = snap_at(2 * SEC);
	dom(s, UUID1, "web-01", VIR_DOMAIN_RUNNING, 8, 2, 40);
	feed(u, cfg, s);
	ck_assert_uint_eq(c->v[VS_USAGE_CPU], 7000000000ULL);
	ck_assert_uint_eq(c->v[VS_USAGE_DISK_READ], 50);
	/* the same reading again: nothing more */
	s = snap_at(3 * SEC);
	dom(s, UUID1, "web-01", VIR_DOMAIN_RUNNING, 8, 2, 40);
	feed(u, cfg, s);
	ck_assert_uint_eq(c->v[VS_USAGE_CPU], 7000000000ULL);
	ck_assert_uint_eq(c->v[VS_USAGE_DISK_READ], 50);
	ck_assert_uint_eq(c->v[VS_USAGE_NET_TX], 4 * 50);
}
END_TEST

/* After a restart the collector keeps the old run's device counters until
 * the next slow sample: they are not the new run's. */
START_TEST(test_stale_device_counters_of_a_new_run_ignored)
{
	g_autoptr(vs_config) cfg = vs_test_config(config_text);
	g_autoptr(vs_usage) u = vs_usage_new(REAL0);
	vs_snapshot *s;
	vs_domain_stats *d;

	s = snap_at(0);
	dom(s, UUID1, "web-01", VIR_DOMAIN_RUNNING, 7, 100, 1000);
	feed(u, cfg, s);
	s = snap_at(1 * SEC);
	d = dom(s, UUID1, "web-01", VIR_DOMAIN_RUNNING, 8, 1, 1000);
	d->slow_mono_us = T0; /* the last slow sample was of the old run */
	feed(u, cfg, s);
	ck_assert_uint_eq(get(u, UUID1)->c.v[VS_USAGE_DISK_READ], 0);
	ck_assert_uint_eq(get(u, UUID1)->c.v[VS_USAGE_CPU], 1000000000ULL);
	s = snap_at(2 * SEC);
	dom(s, UUID1, "web-01", VIR_DOMAIN_RUNNING, 8, 1, 30);
	feed(u, cfg, s);
	ck_assert_uint_eq(get(u, UUID1)->c.v[VS_USAGE_DISK_READ], 30);
}
END_TEST

/* Destroyed between two refreshes: the lifecycle event's snapshot ends
 * its time; then it disappears and is charged nothing more. */
START_TEST(test_destroyed_between_refreshes)
{
	g_autoptr(vs_config) cfg = vs_test_config(config_text);
	g_autoptr(vs_usage) u = vs_usage_new(REAL0);
	vs_snapshot *s;

	s = snap_at(0);
	dom(s, UUID1, "web-01", VIR_DOMAIN_RUNNING, 7, 100, 1000);
	dom(s, UUID2, "web-02", VIR_DOMAIN_RUNNING, 9, 100, 1000);
	feed(u, cfg, s);
	s = snap_at(1 * SEC);
	dom(s, UUID1, "web-01", VIR_DOMAIN_RUNNING, 7, 101, 1000);
	dom(s, UUID2, "web-02", VIR_DOMAIN_RUNNING, 9, 101, 1000);
	feed(u, cfg, s);
	/* the event's snapshot: web-02 shut off, its last figures kept */
	s = snap_at(1 * SEC + 400000);
	dom(s, UUID1, "web-01", VIR_DOMAIN_RUNNING, 7, 101, 1000);
	dom(s, UUID2, "web-02", VIR_DOMAIN_SHUTOFF, -1, 101, 1000);
	feed(u, cfg, s);
	s = snap_at(2 * SEC);
	dom(s, UUID1, "web-01", VIR_DOMAIN_RUNNING, 7, 102, 1000);
	feed(u, cfg, s);
	s = snap_at(3 * SEC);
	dom(s, UUID1, "web-01", VIR_DOMAIN_RUNNING, 7, 103, 1000);
	feed(u, cfg, s);

	ck_assert_uint_eq(get(u, UUID2)->c.v[VS_USAGE_INSTANCE], 1 * SEC + 400000);
	ck_assert_uint_eq(get(u, UUID2)->c.v[VS_USAGE_CPU], 1000000000ULL);
	ck_assert_uint_eq(get(u, UUID1)->c.v[VS_USAGE_INSTANCE], 3 * SEC);
	/* the pool keeps the sum of both (scale-in does not take it away) */
	ck_assert_uint_eq(vs_usage_pool(u, "web")->v[VS_USAGE_INSTANCE], 4 * SEC + 400000);
	ck_assert_uint_eq(vs_usage_pool(u, "web")->v[VS_USAGE_CPU], 4000000000ULL);
}
END_TEST

/* Scale-out: a clone that appears on a host already read started from
 * zero and is charged whole; a domain met on a first read is only a
 * baseline (its history is not ours). */
START_TEST(test_new_domain_charged_whole_only_when_watched)
{
	g_autoptr(vs_config) cfg = vs_test_config(config_text);
	g_autoptr(vs_usage) u = vs_usage_new(REAL0);
	vs_snapshot *s;

	s = snap_at(0);
	dom(s, UUID1, "web-01", VIR_DOMAIN_RUNNING, 7, 500, 1000);
	feed(u, cfg, s);
	s = snap_at(1 * SEC);
	dom(s, UUID1, "web-01", VIR_DOMAIN_RUNNING, 7, 500, 1000);
	dom(s, UUID2, "web-02", VIR_DOMAIN_RUNNING, 9, 3, 70);
	feed(u, cfg, s);
	ck_assert_uint_eq(get(u, UUID1)->c.v[VS_USAGE_CPU], 0);
	ck_assert_uint_eq(get(u, UUID2)->c.v[VS_USAGE_CPU], 3000000000ULL);
	ck_assert_uint_eq(get(u, UUID2)->c.v[VS_USAGE_DISK_READ], 70);
	ck_assert_uint_eq(get(u, UUID2)->c.v[VS_USAGE_INSTANCE], 0);
}
END_TEST

/* A host that was not read in the previous snapshot (connecting) lists
 * domains that ran before: baselines only. */
START_TEST(test_host_first_read_gives_baselines)
{
	g_autoptr(vs_config) cfg = vs_test_config(config_text);
	g_autoptr(vs_usage) u = vs_usage_new(REAL0);
	vs_snapshot *s = vs_snapshot_new();

	s->taken_mono_us = T0;
	s->taken_real_us = REAL0;
	vs_test_snapshot_host(s, VS_TEST_HOST, VS_HOST_CONNECTING, 0);
	feed(u, cfg, s);
	s = snap_at(1 * SEC);
	dom(s, UUID1, "web-01", VIR_DOMAIN_RUNNING, 7, 500, 1000);
	feed(u, cfg, s);
	ck_assert_uint_eq(get(u, UUID1)->c.v[VS_USAGE_CPU], 0);
	ck_assert_uint_eq(get(u, UUID1)->c.v[VS_USAGE_DISK_READ], 0);
}
END_TEST

/* Restart of the program: the file read back continues the counters; the
 * gap charges no time, a run seen before grows by its difference. */
START_TEST(test_restart_with_persisted_state)
{
	g_autoptr(vs_config) cfg = vs_test_config(config_text);
	g_autoptr(vs_usage) u = vs_usage_new(REAL0);
	g_autoptr(GError) error = NULL;
	vs_snapshot *s;

	s = snap_at(0);
	dom(s, UUID1, "web-01", VIR_DOMAIN_RUNNING, 7, 100, 1000);
	dom(s, UUID2, "web-02", VIR_DOMAIN_RUNNING, 9, 100, 1000);
	feed(u, cfg, s);
	s = snap_at(1 * SEC);
	dom(s, UUID1, "web-01", VIR_DOMAIN_RUNNING, 7, 101, 1100);
	dom(s, UUID2, "web-02", VIR_DOMAIN_RUNNING, 9, 101, 1100);
	feed(u, cfg, s);
	g_autofree char *text = vs_usage_serialize(u);
	g_autoptr(vs_usage) r = vs_usage_parse(text, strlen(text), &error);

	ck_assert_msg(r != NULL, "%s", error ? error->message : "");
	ck_assert_int_eq(r->discontinuity_us, REAL0);
	for (int k = 0; k < VS_USAGE_N_KINDS; k++) {
		ck_assert_uint_eq(get(r, UUID1)->c.v[k], get(u, UUID1)->c.v[k]);
		ck_assert_uint_eq(vs_usage_pool(r, "web")->v[k], vs_usage_pool(u, "web")->v[k]);
	}
	g_autofree char *again = vs_usage_serialize(r);
	ck_assert_str_eq(again, text);

	/* the restarted program's first snapshot: the host not read yet, no
	 * domain listed (their runs are not over for that) */
	s = vs_snapshot_new();
	s->taken_mono_us = T0 + 10 * SEC;
	s->taken_real_us = REAL0 + 10 * SEC;
	vs_test_snapshot_host(s, VS_TEST_HOST, VS_HOST_CONNECTING, 0);
	feed(r, cfg, s);
	/* a second later: web-01 ran on, web-02 was restarted meanwhile */
	s = snap_at(11 * SEC);
	dom(s, UUID1, "web-01", VIR_DOMAIN_RUNNING, 7, 105, 1500);
	dom(s, UUID2, "web-02", VIR_DOMAIN_RUNNING, 12, 2, 30);
	feed(r, cfg, s);
	ck_assert_uint_eq(get(r, UUID1)->c.v[VS_USAGE_INSTANCE], 1 * SEC);
	ck_assert_uint_eq(get(r, UUID1)->c.v[VS_USAGE_CPU], 5000000000ULL);
	ck_assert_uint_eq(get(r, UUID1)->c.v[VS_USAGE_DISK_READ], 500);
	ck_assert_uint_eq(get(r, UUID2)->c.v[VS_USAGE_CPU], 3000000000ULL);
	ck_assert_uint_eq(get(r, UUID2)->c.v[VS_USAGE_DISK_READ], 130);
	/* 1 s before the restart and the second watched since, never the gap */
	ck_assert_uint_eq(vs_usage_pool(r, "web")->v[VS_USAGE_MAX_INSTANCE], 2 * 4 * SEC);
	/* and then time again */
	s = snap_at(12 * SEC);
	dom(s, UUID1, "web-01", VIR_DOMAIN_RUNNING, 7, 105, 1500);
	feed(r, cfg, s);
	ck_assert_uint_eq(get(r, UUID1)->c.v[VS_USAGE_INSTANCE], 2 * SEC);
}
END_TEST

/* A file written before the machine restarted: its runs are over, even if
 * a domain id is the same number again. */
START_TEST(test_state_from_before_a_reboot)
{
	g_autoptr(vs_config) cfg = vs_test_config(config_text);
	g_autoptr(vs_usage) u = vs_usage_new(REAL0);
	vs_snapshot *s;

	s = snap_at(0);
	dom(s, UUID1, "web-01", VIR_DOMAIN_RUNNING, 1, 100, 1000);
	feed(u, cfg, s);
	g_autofree char *text = vs_usage_serialize(u);
	g_autoptr(vs_usage) r = vs_usage_parse(text, strlen(text), NULL);

	ck_assert_ptr_nonnull(r);
	s = vs_snapshot_new(); /* monotonic clock below the saved one: rebooted */
	s->taken_mono_us = 5 * SEC;
	s->taken_real_us = REAL0 + 600 * SEC;
	vs_test_snapshot_host(s, VS_TEST_HOST, VS_HOST_CONNECTED, 1);
	vs_domain_stats *d = dom(s, UUID1, "web-01", VIR_DOMAIN_RUNNING, 1, 150, 2000);
	d->sample_mono_us = d->slow_mono_us = s->taken_mono_us;
	feed(r, cfg, s);
	ck_assert_uint_eq(get(r, UUID1)->c.v[VS_USAGE_CPU], 150000000000ULL);
	ck_assert_uint_eq(get(r, UUID1)->c.v[VS_USAGE_DISK_READ], 2000);
}
END_TEST

START_TEST(test_corrupt_file_rejected)
{
	g_autoptr(vs_config) cfg = vs_test_config(config_text);
	g_autoptr(vs_usage) u = vs_usage_new(REAL0);
	vs_snapshot *s;

	s = snap_at(0);
	dom(s, UUID1, "web-01", VIR_DOMAIN_RUNNING, 7, 100, 1000);
	feed(u, cfg, s);
	s = snap_at(1 * SEC);
	dom(s, UUID1, "web-01", VIR_DOMAIN_RUNNING, 7, 101, 1000);
	feed(u, cfg, s);
	g_autofree char *text = vs_usage_serialize(u);
	size_t len = strlen(text);
	GError *error = NULL;

	/* torn at every length */
	for (size_t n = 0; n < len; n++) {
		vs_usage *r = vs_usage_parse(text, n, &error);

		ck_assert_msg(r == NULL, "torn at %zu accepted", n);
		ck_assert_int_eq(error->code, VS_USAGE_ERROR_CORRUPT);
		g_clear_error(&error);
	}
	/* one digit changed */
	g_autofree char *bad = g_strdup(text);
	char *digit = strstr(bad, "pool web ") + 9;
	*digit = *digit == '9' ? '8' : *digit + 1;
	ck_assert_ptr_null(vs_usage_parse(bad, len, &error));
	ck_assert_str_eq(error->message, "checksum mismatch");
	g_clear_error(&error);
	/* garbage */
	ck_assert_ptr_null(vs_usage_parse("\0\0\0\n", 4, &error));
	g_clear_error(&error);
	/* another version, correctly summed */
	const char *body = "virtscale-usage 2\n";
	g_autofree char *sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256, body, -1);
	g_autofree char *v2 = g_strdup_printf("%ssha256 %s\n", body, sum);
	ck_assert_ptr_null(vs_usage_parse(v2, strlen(v2), &error));
	ck_assert_int_eq(error->code, VS_USAGE_ERROR_VERSION);
	g_clear_error(&error);
}
END_TEST

START_TEST(test_hourly_buckets_and_cost)
{
	g_autoptr(vs_config) cfg = vs_test_config(config_text);
	g_autoptr(vs_usage) u = vs_usage_new(REAL0);
	vs_snapshot *s;
	vs_usage_counters c;

	s = snap_at(0);
	dom(s, UUID1, "web-01", VIR_DOMAIN_RUNNING, 7, 0, 0);
	feed(u, cfg, s);
	s = snap_at(3600 * SEC - 10 * SEC);
	dom(s, UUID1, "web-01", VIR_DOMAIN_RUNNING, 7, 10, 0);
	feed(u, cfg, s);
	s = snap_at(3600 * SEC + 20 * SEC); /* the next hour */
	dom(s, UUID1, "web-01", VIR_DOMAIN_RUNNING, 7, 12, 0);
	feed(u, cfg, s);
	ck_assert_uint_eq(u->buckets.length, 2);

	vs_usage_since(u, NULL, REAL0 / SEC + 3600, &c);
	ck_assert_uint_eq(c.v[VS_USAGE_INSTANCE], 30 * SEC);
	ck_assert_uint_eq(c.v[VS_USAGE_CPU], 2000000000ULL);
	vs_usage_since(u, "web", REAL0 / SEC, &c);
	ck_assert_uint_eq(c.v[VS_USAGE_INSTANCE], 3620 * SEC);
	vs_usage_since(u, "db", REAL0 / SEC, &c);
	ck_assert_uint_eq(c.v[VS_USAGE_INSTANCE], 0);

	/* C = Σ price_k · usage_k: 0.5/instance-second, 2/CPU-second */
	double price[VS_USAGE_N_KINDS] = {0};
	price[VS_USAGE_INSTANCE] = 0.5;
	price[VS_USAGE_CPU] = 2;
	price[VS_USAGE_MAX_INSTANCE] = 100; /* never billed */
	vs_usage_since(u, "web", 0, &c);
	ck_assert_double_eq_tol(vs_usage_cost(&c, price), 0.5 * 3620 + 2 * 12, 1e-6);
}
END_TEST

START_TEST(test_prices_from_config)
{
	g_autoptr(vs_config) cfg = vs_test_config("[prices]\ninstance_hour = 3.6\n"
	                                          "memory_used_gib_hour = 36.864\n"
	                                          "net_sent_gib = 1073741824\n");
	double price[VS_USAGE_N_KINDS];
	vs_usage_counters c = {{0}};

	vs_usage_prices_from_config(cfg, price);
	ck_assert_double_eq_tol(price[VS_USAGE_INSTANCE], 0.001, 1e-12);
	ck_assert_double_eq_tol(price[VS_USAGE_MEM_USED], 0.00001, 1e-15);
	ck_assert_double_eq_tol(price[VS_USAGE_NET_TX], 1, 1e-12);
	ck_assert_double_eq(price[VS_USAGE_CPU], 0);
	c.v[VS_USAGE_INSTANCE] = 1000 * SEC;  /* 1000 s */
	c.v[VS_USAGE_MEM_USED] = 1000 * 1000; /* 1000 MiB-s */
	c.v[VS_USAGE_NET_TX] = 5;
	ck_assert_double_eq_tol(vs_usage_cost(&c, price), 1 + 0.01 + 5, 1e-9);

	GError *error = NULL;
	vs_config *bad =
	    vs_config_load_from_data("[prices]\ncpu_hour = -1\n", 23, "t.conf", &error);
	ck_assert_ptr_null(bad);
	ck_assert_str_eq(error->message,
	                 "t.conf:2: [prices] cpu_hour: -1 is out of range 0..1e+12");
	g_clear_error(&error);
}
END_TEST

/* During a migration the UUID is listed on both hosts: the running one
 * counts, and the destination's counters (a new QEMU) start from zero. */
START_TEST(test_migration_counts_the_running_record)
{
	g_autoptr(vs_config) cfg = vs_test_config("[libvirt]\nhosts = qemu:///system "
	                                          "qemu+tcp://127.0.0.1:16510/system\n"
	                                          "[pool web]\ntemplate = web-template\n"
	                                          "name_pattern = web-%02d\nmax = 4\n");
	g_autoptr(vs_usage) u = vs_usage_new(REAL0);
	const char *b = "qemu+tcp://127.0.0.1:16510/system";
	vs_snapshot *s;
	vs_domain_stats *d;

	s = snap_at(0);
	vs_test_snapshot_host(s, b, VS_HOST_CONNECTED, 5);
	dom(s, UUID1, "web-01", VIR_DOMAIN_RUNNING, 7, 100, 1000);
	feed(u, cfg, s);
	s = snap_at(1 * SEC);
	vs_test_snapshot_host(s, b, VS_HOST_CONNECTED, 5);
	dom(s, UUID1, "web-01", VIR_DOMAIN_PAUSED, 7, 102, 1000);
	d = dom(s, UUID1, "web-01", VIR_DOMAIN_RUNNING, 3, 1, 0);
	g_free(d->host_uri);
	d->host_uri = g_strdup(b);
	feed(u, cfg, s);
	ck_assert_uint_eq(get(u, UUID1)->c.v[VS_USAGE_INSTANCE], 1 * SEC);
	ck_assert_uint_eq(get(u, UUID1)->c.v[VS_USAGE_CPU], 1000000000ULL);
	ck_assert_str_eq(get(u, UUID1)->run_host, b);
}
END_TEST

/*
 * Accounting adds no libvirt or QEMU call: the files that compute, keep and
 * export it call no vir* function and include no libvirt header, so all
 * they have is the collector's snapshot.
 */
START_TEST(test_accounting_sources_call_no_libvirt)
{
	static const char *const files[] = {
	    "lib/vs-usage.c",
	    "lib/vs-usage.h",
	    "lib/vs-usage-store.c",
	    "lib/vs-usage-store.h",
	    "snmp-subagent/usage-mib.c",
	    "collectd-plugin/vsc-usage.c",
	    "collectd-plugin/vsc-usage.h",
	    "actuator/cli/ctl-usage.c",
	};
	g_autoptr(GRegex) call =
	    g_regex_new("\\bvir[A-Z][A-Za-z]*\\s*\\(|<libvirt/|qemu", 0, 0, NULL);

	for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
		g_autofree char *text = vs_test_read_source(files[i]);
		g_autoptr(GMatchInfo) m = NULL;

		ck_assert_msg(!g_regex_match(call, text, 0, &m), "%s: %s", files[i],
		              g_match_info_fetch(m, 0));
	}
}
END_TEST

Suite *vs_test_suite(void)
{
	Suite *s = suite_create("usage");
	TCase *tc = tcase_create("usage");

	tcase_add_test(tc, test_running_domain_accumulates);
	tcase_add_test(tc, test_counter_reset_never_negative_nor_double);
	tcase_add_test(tc, test_stale_device_counters_of_a_new_run_ignored);
	tcase_add_test(tc, test_destroyed_between_refreshes);
	tcase_add_test(tc, test_new_domain_charged_whole_only_when_watched);
	tcase_add_test(tc, test_host_first_read_gives_baselines);
	tcase_add_test(tc, test_restart_with_persisted_state);
	tcase_add_test(tc, test_state_from_before_a_reboot);
	tcase_add_test(tc, test_corrupt_file_rejected);
	tcase_add_test(tc, test_hourly_buckets_and_cost);
	tcase_add_test(tc, test_migration_counts_the_running_record);
	tcase_add_test(tc, test_prices_from_config);
	tcase_add_test(tc, test_accounting_sources_call_no_libvirt);
	suite_add_tcase(s, tc);
	return s;
}
