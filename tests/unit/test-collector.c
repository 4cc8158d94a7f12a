/*
 * test-collector.c - the collector's pure parts: lifecycle event mapping,
 * domain XML parsing, bulk stats records, the groups a refresh asks,
 * snapshot builders and look-ups.
 * (The threads and libvirt itself are covered by tests/integration.)
 */
#include "config.h"

#include "vs-collector-private.h"

#include "testutil.h"

#include <string.h>

static const char *sample_xml =
    "<domain type='kvm' id='7'>\n"
    "  <name>web-01</name>\n"
    "  <metadata>\n"
    "    <other:x xmlns:other='urn:other' pool='wrong' address='1.2.3.4:1'/>\n"
    "    <vs:virtscale xmlns:vs='" VS_METADATA_NS "' pool='web' address='10.0.0.5:80'/>\n"
    "  </metadata>\n"
    "  <memory unit='MiB'>512</memory>\n"
    "  <vcpu placement='static' current='2'>4</vcpu>\n"
    "  <os><type arch='x86_64' machine='pc'>hvm</type></os>\n"
    "  <devices>\n"
    "    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
    "<source file='/img/a.qcow2'/>"
    "<target dev='vda' bus='virtio'/></disk>\n"
    "    <disk type='block' device='cdrom'><source dev='/dev/sr0'/>"
    "<target dev='hdc' bus='ide'/><readonly/></disk>\n"
    "    <interface type='ethernet'><mac address='52:54:00:aa:bb:cc'/>"
    "<target dev='vnet3'/><model type='virtio'/></interface>\n"
    "    <interface type='user'><mac address='52:54:00:dd:ee:ff'/></interface>\n"
    "  </devices>\n"
    "</domain>\n";

START_TEST(xml_static_data)
{
	vs_domain_stats *d = vs_domain_stats_new();
	GError *error = NULL;

	ck_assert(vs_collect_parse_domain_xml(d, sample_xml, &error));
	ck_assert_str_eq(d->os_type, "hvm");
	ck_assert_uint_eq(d->mem_max_kib, 512 * 1024);
	ck_assert_uint_eq(d->vcpu_max, 4);
	ck_assert_uint_eq(d->vcpu_current, 2);
	ck_assert_uint_eq(d->n_disks, 2);
	ck_assert_str_eq(d->disks[0].target, "vda");
	ck_assert_str_eq(d->disks[0].source, "/img/a.qcow2");
	ck_assert_str_eq(d->disks[0].source_type, "file");
	ck_assert_str_eq(d->disks[0].device, "disk");
	ck_assert_str_eq(d->disks[0].format, "qcow2");
	ck_assert_ptr_null(d->disks[1].format);
	ck_assert(!d->disks[0].read_only);
	ck_assert_str_eq(d->disks[1].source, "/dev/sr0");
	ck_assert_str_eq(d->disks[1].device, "cdrom");
	ck_assert(d->disks[1].read_only);
	ck_assert_uint_eq(d->n_nets, 2);
	ck_assert_str_eq(d->nets[0].ifname, "vnet3");
	ck_assert_str_eq(d->nets[0].mac, "52:54:00:aa:bb:cc");
	ck_assert_str_eq(d->nets[0].model, "virtio");
	ck_assert_ptr_null(d->nets[1].ifname);
	ck_assert_str_eq(d->nets[1].mac, "52:54:00:dd:ee:ff");
	ck_assert_str_eq(d->meta_pool, "web");
	ck_assert_str_eq(d->meta_address, "10.0.0.5:80");
	vs_domain_stats_free(d);
}
END_TEST

START_TEST(xml_malformed_leaves_domain_unchanged)
{
	vs_domain_stats *d = vs_domain_stats_new();
	GError *error = NULL;

	ck_assert(vs_collect_parse_domain_xml(d, sample_xml, NULL));
	ck_assert(!vs_collect_parse_domain_xml(d, "<domain><memory>1</domain>", &error));
	ck_assert_ptr_nonnull(error);
	g_clear_error(&error);
	ck_assert(!vs_collect_parse_domain_xml(d, "\x01\xff junk", &error));
	g_clear_error(&error);
	ck_assert_uint_eq(d->mem_max_kib, 512 * 1024);
	ck_assert_uint_eq(d->n_disks, 2);
	ck_assert_str_eq(d->meta_pool, "web");
	vs_domain_stats_free(d);
}
END_TEST

static virTypedParameter p_ull(const char *field, unsigned long long v)
{
	virTypedParameter p = {0};

	g_strlcpy(p.field, field, sizeof(p.field));
	p.type = VIR_TYPED_PARAM_ULLONG;
	p.value.ul = v;
	return p;
}

static virTypedParameter p_int(const char *field, int v)
{
	virTypedParameter p = {0};

	g_strlcpy(p.field, field, sizeof(p.field));
	p.type = VIR_TYPED_PARAM_INT;
	p.value.i = v;
	return p;
}

static virTypedParameter p_str(const char *field, char *v)
{
	virTypedParameter p = {0};

	g_strlcpy(p.field, field, sizeof(p.field));
	p.type = VIR_TYPED_PARAM_STRING;
	p.value.s = v;
	return p;
}

START_TEST(record_every_group)
{
	vs_domain_stats *d = vs_domain_stats_new();
	bool have_cpu;

	ck_assert(vs_collect_parse_domain_xml(d, sample_xml, NULL));
	virTypedParameter params[] = {
	    p_int("state.state", 1),
	    p_int("state.reason", 1),
	    p_ull("cpu.time", 123456789),
	    p_ull("balloon.current", 400000),
	    p_ull("balloon.maximum", 524288),
	    p_ull("balloon.rss", 40000),
	    p_ull("balloon.usable", 300000),
	    p_ull("balloon.unused", 200000),
	    p_int("vcpu.current", 2),
	    p_int("vcpu.maximum", 4),
	    p_int("vcpu.0.state", 1),
	    p_ull("vcpu.0.time", 1000),
	    p_int("vcpu.1.state", 1),
	    p_ull("vcpu.1.time", 2000),
	    p_ull("vcpu.1.halt_wait_ns.sum", 99), /* KVM stat: ignored */
	    p_int("block.count", 2),
	    /* libvirt may list devices in another order than the XML */
	    p_str("block.0.name", "hdc"),
	    p_ull("block.0.rd.bytes", 7),
	    p_str("block.1.name", "vda"),
	    p_ull("block.1.rd.reqs", 3),
	    p_ull("block.1.wr.bytes", 4096),
	    p_ull("block.1.capacity", 1048576),
	    p_ull("block.1.allocation", 200704),
	    p_ull("block.1.physical", 196616),
	    p_int("net.count", 1),
	    p_str("net.0.name", "vnet3"),
	    p_ull("net.0.rx.bytes", 90),
	    p_ull("net.0.tx.drop", 2),
	};

	vs_collect_apply_record(d, params, G_N_ELEMENTS(params), &have_cpu);
	ck_assert(have_cpu);
	ck_assert_int_eq(d->state, 1);
	ck_assert_uint_eq(d->cpu_time_ns, 123456789);
	ck_assert_uint_eq(d->mem_current_kib, 400000);
	ck_assert_uint_eq(d->mem_max_kib, 524288);
	ck_assert_uint_eq(d->mem_rss_kib, 40000);
	ck_assert_uint_eq(d->mem_usable_kib, 300000);
	ck_assert_uint_eq(d->mem_unused_kib, 200000);
	ck_assert_uint_eq(d->vcpu_current, 2);
	ck_assert_uint_eq(d->n_vcpus, 2);
	ck_assert_uint_eq(d->vcpus[1].time_ns, 2000);
	ck_assert_uint_eq(d->n_disks, 2);
	ck_assert_str_eq(d->disks[0].target, "vda");
	ck_assert_uint_eq(d->disks[0].rd_reqs, 3);
	ck_assert_uint_eq(d->disks[0].wr_bytes, 4096);
	ck_assert_uint_eq(d->disks[0].capacity, 1048576);
	ck_assert_uint_eq(d->disks[0].allocation, 200704);
	ck_assert_uint_eq(d->disks[0].physical, 196616);
	ck_assert(d->disks[0].have_io && d->disks[1].have_io);
	ck_assert_uint_eq(d->disks[1].rd_bytes, 7);
	ck_assert_uint_eq(d->n_nets, 2);
	ck_assert(d->nets[0].have_io && !d->nets[1].have_io);
	ck_assert_uint_eq(d->nets[0].rx_bytes, 90);
	ck_assert_uint_eq(d->nets[0].tx_drop, 2);

	/* a state-only record keeps the monitor-bound figures */
	virTypedParameter fast[] = {p_int("state.state", 3), p_int("state.reason", 1)};

	vs_collect_apply_record(d, fast, G_N_ELEMENTS(fast), &have_cpu);
	ck_assert(!have_cpu);
	ck_assert_int_eq(d->state, 3);
	ck_assert_uint_eq(d->disks[0].wr_bytes, 4096);
	ck_assert_uint_eq(d->n_vcpus, 2);

	/* the static data reloaded after an event keeps the counters */
	ck_assert(vs_collect_parse_domain_xml(d, sample_xml, NULL));
	ck_assert_uint_eq(d->disks[0].wr_bytes, 4096);
	ck_assert_uint_eq(d->nets[0].rx_bytes, 90);
	vs_domain_stats_free(d);
}
END_TEST

START_TEST(record_unknown_device_is_appended)
{
	vs_domain_stats *d = vs_domain_stats_new();
	bool have_cpu;
	virTypedParameter params[] = {
	    p_int("block.count", 1),         p_str("block.0.name", "sdz"),
	    p_ull("block.0.errors", 5),      p_int("net.count", 1),
	    p_str("net.0.name", "tap9"),     p_ull("net.0.rx.pkts", 11),
	    p_ull("block.99999.rd.reqs", 1), /* absurd index: ignored */
	};

	vs_collect_apply_record(d, params, G_N_ELEMENTS(params), &have_cpu);
	ck_assert_uint_eq(d->n_disks, 1);
	ck_assert_str_eq(d->disks[0].target, "sdz");
	ck_assert_uint_eq(d->disks[0].errors, 5);
	ck_assert_uint_eq(d->n_nets, 1);
	ck_assert_str_eq(d->nets[0].ifname, "tap9");
	ck_assert_uint_eq(d->nets[0].rx_pkts, 11);
	vs_domain_stats_free(d);
}
END_TEST

START_TEST(event_mapping)
{
	vs_event_kind kind;
	int state, reason;

	vs_collect_event_map(VIR_DOMAIN_EVENT_STARTED, VIR_DOMAIN_EVENT_STARTED_BOOTED, &kind,
	                     &state, &reason);
	ck_assert_int_eq(kind, VS_EVENT_STARTED);
	ck_assert_int_eq(state, VIR_DOMAIN_RUNNING);
	ck_assert_int_eq(reason, VIR_DOMAIN_RUNNING_BOOTED);
	vs_collect_event_map(VIR_DOMAIN_EVENT_SUSPENDED, VIR_DOMAIN_EVENT_SUSPENDED_PAUSED, &kind,
	                     &state, &reason);
	ck_assert_int_eq(kind, VS_EVENT_SUSPENDED);
	ck_assert_int_eq(state, VIR_DOMAIN_PAUSED);
	ck_assert_int_eq(reason, VIR_DOMAIN_PAUSED_USER);
	vs_collect_event_map(VIR_DOMAIN_EVENT_RESUMED, VIR_DOMAIN_EVENT_RESUMED_MIGRATED, &kind,
	                     &state, &reason);
	ck_assert_int_eq(kind, VS_EVENT_MIGRATING);
	ck_assert_int_eq(state, VIR_DOMAIN_RUNNING);
	vs_collect_event_map(VIR_DOMAIN_EVENT_STOPPED, VIR_DOMAIN_EVENT_STOPPED_DESTROYED, &kind,
	                     &state, &reason);
	ck_assert_int_eq(kind, VS_EVENT_STOPPED);
	ck_assert_int_eq(state, VIR_DOMAIN_SHUTOFF);
	ck_assert_int_eq(reason, VIR_DOMAIN_SHUTOFF_DESTROYED);
	vs_collect_event_map(VIR_DOMAIN_EVENT_UNDEFINED, 0, &kind, &state, &reason);
	ck_assert_int_eq(kind, VS_EVENT_UNDEFINED);
	ck_assert_int_eq(state, -1);
	vs_collect_event_map(VIR_DOMAIN_EVENT_CRASHED, 0, &kind, &state, &reason);
	ck_assert_int_eq(kind, VS_EVENT_CRASHED);
	ck_assert_int_eq(state, VIR_DOMAIN_CRASHED);
	vs_collect_event_map(12345, 0, &kind, &state, &reason); /* newer than us */
	ck_assert_int_eq(state, -1);
}
END_TEST

START_TEST(snapshot_lookup_copy_and_refcount)
{
	vs_snapshot *s = vs_snapshot_new();
	vs_domain_stats *a = vs_domain_stats_new(), *b = vs_domain_stats_new();

	a->host_uri = g_strdup("qemu:///system");
	a->name = g_strdup("web-01");
	a->uuid[0] = 1;
	ck_assert(vs_collect_parse_domain_xml(a, sample_xml, NULL));
	b->host_uri = g_strdup("qemu+ssh://hv2/system");
	b->name = g_strdup("web-01");
	b->uuid[0] = 2;
	g_ptr_array_add(s->domains, a);
	g_ptr_array_add(s->domains, b);
	g_ptr_array_add(s->hosts, vs_host_status_new("qemu:///system"));

	unsigned char u2[16] = {2};

	ck_assert_ptr_eq(vs_snapshot_find_uuid(s, u2), b);
	ck_assert_ptr_eq(vs_snapshot_find_name(s, "qemu+ssh://hv2/system", "web-01"), b);
	ck_assert_ptr_eq(vs_snapshot_find_name(s, NULL, "web-01"), a);
	ck_assert_ptr_null(vs_snapshot_find_name(s, NULL, "nope"));
	ck_assert_int_eq(a->id, -1);
	ck_assert(a->cpu_percent < 0);

	vs_domain_stats *c = vs_domain_stats_copy(a);

	ck_assert_ptr_ne(c->disks, a->disks);
	ck_assert_str_eq(c->disks[1].source, "/dev/sr0");
	ck_assert_str_eq(c->meta_address, "10.0.0.5:80");
	vs_domain_stats_free(c);

	vs_host_status *h = vs_host_status_copy(s->hosts->pdata[0]);

	ck_assert_str_eq(h->uri, "qemu:///system");
	ck_assert_int_eq(h->state, VS_HOST_CONNECTING);
	vs_host_status_free(h);

	ck_assert_ptr_eq(vs_snapshot_ref(s), s);
	vs_snapshot_unref(s);
	ck_assert_int_eq(s->refcount, 1);
	vs_snapshot_unref(s);
	ck_assert_str_eq(vs_domain_state_name(VIR_DOMAIN_SHUTOFF), "shut off");
	ck_assert_str_eq(vs_domain_state_name(99), "unknown");
}
END_TEST

/* What one refresh asks libvirt: a lifecycle event does not make the round
 * slow; outside the periodic slow round the monitor-bound groups are asked
 * of the changed domains alone. */
START_TEST(round_plan)
{
	const unsigned monitor =
	    VIR_DOMAIN_STATS_BALLOON | VIR_DOMAIN_STATS_BLOCK | VIR_DOMAIN_STATS_INTERFACE;
	vs_round_plan p;

	/* due once its time has come, or always in the every-group mode */
	ck_assert(vs_collect_slow_due(false, 1000, 0));
	ck_assert(vs_collect_slow_due(false, 1000, 1000));
	ck_assert(!vs_collect_slow_due(false, 999, 1000));
	ck_assert(vs_collect_slow_due(true, 999, 1000));

	/* local fast path, between slow rounds: only the state for every
	 * domain; the changed ones get balloon, block and interface (their
	 * vCPUs come from their threads) */
	vs_collect_plan_round(true, false, &p);
	ck_assert_uint_eq(p.bulk_groups, VIR_DOMAIN_STATS_STATE);
	ck_assert_uint_eq(p.changed_groups, monitor);

	/* the periodic slow round: every domain gets them from the bulk call,
	 * so nothing is asked separately */
	vs_collect_plan_round(true, true, &p);
	ck_assert_uint_eq(p.bulk_groups, VIR_DOMAIN_STATS_STATE | monitor);
	ck_assert_uint_eq(p.changed_groups, 0);

	/* remote host (no fast path): CPU from libvirt every refresh, and the
	 * vcpu group is one of the monitor-bound ones */
	vs_collect_plan_round(false, false, &p);
	ck_assert_uint_eq(p.bulk_groups, VIR_DOMAIN_STATS_STATE | VIR_DOMAIN_STATS_CPU_TOTAL);
	ck_assert_uint_eq(p.changed_groups, monitor | VIR_DOMAIN_STATS_VCPU);
	vs_collect_plan_round(false, true, &p);
	ck_assert_uint_eq(p.bulk_groups, VIR_DOMAIN_STATS_STATE | VIR_DOMAIN_STATS_CPU_TOTAL |
	                                     monitor | VIR_DOMAIN_STATS_VCPU);
	ck_assert_uint_eq(p.changed_groups, 0);
}
END_TEST

Suite *vs_test_suite(void)
{
	Suite *s = suite_create("collector");
	TCase *tc = tcase_create("pure");

	tcase_add_test(tc, xml_static_data);
	tcase_add_test(tc, xml_malformed_leaves_domain_unchanged);
	tcase_add_test(tc, record_every_group);
	tcase_add_test(tc, record_unknown_device_is_appended);
	tcase_add_test(tc, event_mapping);
	tcase_add_test(tc, snapshot_lookup_copy_and_refcount);
	tcase_add_test(tc, round_plan);
	suite_add_tcase(s, tc);
	return s;
}
