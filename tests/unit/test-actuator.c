/*
 * test-actuator.c - the actuator's pure parts: the clone's domain XML
 * (ops/clone-xml.c), the networks of a libvirt network's XML (ops/network-xml.c), the stdin formats
 * of `virtscalectl notify` (cli/notify-formats.c, cli/snmptrap-input.c) turned into notifications
 * that pass the wire format, and journal replay after a crash (ops/journal.c).
 */
#include "config.h"

#include "act-error.h"
#include "clone-xml.h"
#include "migrate-xml.h"
#include "journal.h"
#include "network-xml.h"
#include "target-store.h"
#include "notify-formats.h"
#include "precheck.h"
#include "vs-ipv4-net.h"
#include "vs-notify.h"

#include "testutil.h"

#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *TEMPLATE_XML =
    "<domain type='kvm' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>"
    "<name>web-template</name><uuid>bf8dd05d-20b4-434d-91fd-b15c307f4fe8</uuid>"
    "<memory unit='KiB'>65536</memory>"
    "<sysinfo type='smbios'><system><entry name='product'>web-template</entry></system></sysinfo>"
    "<devices>"
    "<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
    "<source file='/img/web-template.img'/><target dev='vda' bus='virtio'/></disk>"
    "<disk type='file' device='cdrom'><source file='/img/tools.iso'/><target dev='hdc'/>"
    "<readonly/></disk>"
    "<interface type='ethernet'><mac address='52:54:00:11:22:33'/>"
    "<target dev='vnet7'/><model type='virtio'/></interface>"
    "<serial type='pty'><log file='/var/log/libvirt/qemu/web-template-console.log'/>"
    "<target port='0'/></serial>"
    "<graphics type='vnc' port='5901' autoport='no'/>"
    "</devices>"
    "<qemu:commandline><qemu:arg value='-netdev'/>"
    "<qemu:arg value='user,id=n0,hostfwd=tcp:127.0.0.1:18100-:80'/></qemu:commandline>"
    "</domain>";

/* The pool the clones are made for, with @address_keys ("address = ..."). */
static vs_config *clone_pool(const char *address_keys, const vs_pool_config **pool)
{
	g_autofree char *keys = g_strdup_printf("backend_port = 8080\n%s", address_keys);

	return vs_test_pool(keys, pool);
}

#define HOSTFWD "address = hostfwd\nhostfwd_ports = 18100-18199\n"

START_TEST(clone_disks_skip_readonly_and_refuse_block)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(GPtrArray) disks = vs_clone_xml_disks(TEMPLATE_XML, &err);
	ck_assert_ptr_nonnull(disks);
	ck_assert_uint_eq(disks->len, 1);
	vs_clone_disk *d = disks->pdata[0];
	ck_assert_str_eq(d->target, "vda");
	ck_assert_str_eq(d->src_path, "/img/web-template.img");
	ck_assert_str_eq(d->src_format, "raw");

	const char *block = "<domain><name>t</name><devices><disk type='block' device='disk'>"
	                    "<source dev='/dev/sdb'/><target dev='vda'/></disk></devices></domain>";
	g_autoptr(GError) err2 = NULL;
	ck_assert_ptr_null(vs_clone_xml_disks(block, &err2));
	ck_assert_ptr_nonnull(strstr(err2->message, "block"));
	g_autoptr(GError) err3 = NULL;
	ck_assert_ptr_null(vs_clone_xml_disks("<domain><name>", &err3));
}
END_TEST

START_TEST(clone_rewrite_like_virt_clone)
{
	const vs_pool_config *p;
	g_autoptr(vs_config) c = clone_pool(HOSTFWD, &p);
	g_autoptr(GPtrArray) disks = vs_clone_xml_disks(TEMPLATE_XML, NULL);
	vs_clone_disk *d = disks->pdata[0];
	d->new_path = g_strdup("/img/web-03.qcow2");
	d->new_format = g_strdup("qcow2");
	g_autoptr(GError) err = NULL;
	g_autofree char *x =
	    vs_clone_xml_rewrite(TEMPLATE_XML, "web-03", disks, "web", "127.0.0.1:18103", p, &err);
	ck_assert_ptr_nonnull(x);
	ck_assert_ptr_nonnull(strstr(x, "<name>web-03</name>"));
	ck_assert_ptr_null(strstr(x, "<uuid>"));
	ck_assert_ptr_null(strstr(x, "52:54:00:11:22:33"));
	ck_assert_ptr_null(strstr(x, "vnet7"));
	ck_assert_ptr_nonnull(strstr(x, "file=\"/img/web-03.qcow2\""));
	ck_assert_ptr_nonnull(strstr(x, "type=\"qcow2\""));
	/* the shared read-only CD-ROM stays as it is */
	ck_assert_ptr_nonnull(strstr(x, "/img/tools.iso"));
	ck_assert_ptr_nonnull(strstr(x, "hostfwd=tcp:127.0.0.1:18103-:80"));
	ck_assert_ptr_null(strstr(x, "18100"));
	ck_assert_ptr_nonnull(strstr(x, "web-03-console.log"));
	ck_assert_ptr_nonnull(strstr(x, "<entry name=\"product\">web-03</entry>"));
	ck_assert_ptr_null(strstr(x, "5901"));
	ck_assert_ptr_nonnull(strstr(x, VS_METADATA_NS));
	ck_assert_ptr_nonnull(strstr(x, "pool=\"web\""));
	ck_assert_ptr_nonnull(strstr(x, "address=\"127.0.0.1:18103\""));

	/* a clone on a host whose forwards listen on 127.0.0.2 */
	g_autofree char *b =
	    vs_clone_xml_rewrite(TEMPLATE_XML, "web-04", disks, "web", "127.0.0.2:18104", p, &err);
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_nonnull(strstr(b, "hostfwd=tcp:127.0.0.2:18104-:80"));
	ck_assert_ptr_null(strstr(b, "127.0.0.1"));
}
END_TEST

START_TEST(clone_rewrite_adds_user_network_when_missing)
{
	const char *plain = "<domain type='kvm'><name>t</name><devices><disk type='file' "
	                    "device='disk'><source file='/img/t.qcow2'/><target dev='vda'/>"
	                    "</disk></devices></domain>";
	const vs_pool_config *p, *q;
	g_autoptr(vs_config) c = clone_pool(HOSTFWD, &p);
	g_autoptr(vs_config) c_lease = clone_pool("address = lease\n", &q);
	g_autoptr(GPtrArray) disks = vs_clone_xml_disks(plain, NULL);
	vs_clone_disk *d = disks->pdata[0];
	ck_assert_str_eq(d->src_format, "raw");
	d->new_path = g_strdup("/img/c-01.qcow2");
	d->new_format = g_strdup("qcow2");
	g_autofree char *x =
	    vs_clone_xml_rewrite(plain, "c-01", disks, "web", "127.0.0.1:19000", p, NULL);
	ck_assert_ptr_nonnull(x);
	ck_assert_ptr_nonnull(strstr(x, "hostfwd=tcp:127.0.0.1:19000-:8080"));
	ck_assert_ptr_nonnull(strstr(x, "virtio-net-pci,netdev=vsnet0"));
	/* with another address kind nothing is added */
	g_autofree char *y = vs_clone_xml_rewrite(plain, "c-01", disks, "web", NULL, q, NULL);
	ck_assert_ptr_null(strstr(y, "hostfwd"));
	ck_assert_ptr_null(strstr(y, "address="));
}
END_TEST

static const char *COLLECTD = "Severity: WARNING\nTime: 1764000000.25\nHost: hv1\n"
                              "Plugin: virtscale\nPluginInstance: web\nType: sessions\n"
                              "CurrentValue: 7.5e+01\nWarningMin: 1.0e+01\nWarningMax: 6.0e+01\n"
                              "FailureMin: nan\nFailureMax: nan\n\nsessions 75 above 60\n";

/*
 * What virtscalectl does with a converted notification: serialize it with
 * the one serializer and validate the line before sending. Returns what
 * the actuator would read.
 */
static vs_notification as_sent(const vs_notification *n)
{
	g_autofree char *line = vs_notification_to_json(n);
	vs_notification back;
	g_autoptr(GError) err = NULL;

	ck_assert_msg(vs_notification_parse(line, strlen(line), &back, &err), "%s: %s", line,
	              err ? err->message : "");
	ck_assert_msg(memcmp(n, &back, sizeof(back)) == 0, "changed on the wire: %s", line);
	return back;
}

/* @input (with --pool @pool and --state @state) refused as invalid input. */
static void assert_exec_refused(const char *input, const char *pool, const char *state)
{
	vs_notification n;
	g_autoptr(GError) err = NULL;

	ck_assert_msg(!vs_notify_from_collectd_exec(input, pool, state, &n, &err), "accepted %s",
	              input);
	ck_assert(g_error_matches(err, VS_ACT_ERROR, VS_ACT_ERROR_INVALID));
}

/* @text with the first @from replaced by @to (same length). */
static char *with_replaced(const char *text, const char *from, const char *to)
{
	char *out = g_strdup(text);
	char *at = strstr(out, from);

	ck_assert_ptr_nonnull(at);
	ck_assert_uint_eq(strlen(from), strlen(to));
	memcpy(at, to, strlen(to));
	return out;
}

START_TEST(collectd_exec_format)
{
	g_autoptr(GError) err = NULL;
	vs_notification n, sent;

	ck_assert_msg(vs_notify_from_collectd_exec(COLLECTD, NULL, NULL, &n, &err), "%s",
	              err ? err->message : "");
	sent = as_sent(&n);
	ck_assert_int_eq(sent.type, VS_NOTIFY_POOL);
	ck_assert_str_eq(sent.pool, "web");
	/* 75 above its warning maximum: high */
	ck_assert_int_eq(sent.verdict, VS_VERDICT_HIGH);
	ck_assert_int_eq(sent.severity, VS_SEVERITY_WARNING);
	ck_assert_str_eq(sent.source, "collectd");
	ck_assert_str_eq(sent.metric, "sessions");
	ck_assert_str_eq(sent.host, "hv1");
	ck_assert_str_eq(sent.message, "sessions 75 above 60");
	ck_assert(sent.value == 75.0 && sent.threshold_high == 60.0 && sent.threshold_low == 10.0);

	/* under the lower threshold: low */
	g_autofree char *low_in = with_replaced(COLLECTD, "7.5e+01", "5.0e+00");
	ck_assert(vs_notify_from_collectd_exec(low_in, NULL, NULL, &n, NULL));
	ck_assert_int_eq(as_sent(&n).verdict, VS_VERDICT_LOW);

	/* no lower threshold (nan): high, and the threshold is absent */
	g_autofree char *no_min =
	    with_replaced(COLLECTD, "WarningMin: 1.0e+01", "WarningMin: nan    ");
	g_autofree char *no_min_low = with_replaced(no_min, "7.5e+01", "5.0e+00");
	ck_assert(vs_notify_from_collectd_exec(no_min_low, NULL, NULL, &n, NULL));
	sent = as_sent(&n);
	ck_assert_int_eq(sent.verdict, VS_VERDICT_HIGH);
	ck_assert(isnan(sent.threshold_low));

	/* the failure threshold when there is no warning one */
	g_autofree char *fail_min = with_replaced(no_min_low, "FailureMin: nan", "FailureMin: 8.0");
	ck_assert(vs_notify_from_collectd_exec(fail_min, NULL, NULL, &n, NULL));
	sent = as_sent(&n);
	ck_assert_double_eq(sent.threshold_low, 8);
	ck_assert_int_eq(sent.verdict, VS_VERDICT_LOW);

	/* OKAY is ok, whatever the value; --pool wins over the input */
	g_autofree char *ok_in = with_replaced(COLLECTD, "WARNING", "OKAY\n  ");
	ck_assert(vs_notify_from_collectd_exec(ok_in, "other", NULL, &n, NULL));
	sent = as_sent(&n);
	ck_assert_int_eq(sent.verdict, VS_VERDICT_OK);
	ck_assert_int_eq(sent.severity, VS_SEVERITY_OKAY);
	ck_assert_str_eq(sent.pool, "other");

	/* --state wins over the thresholds */
	ck_assert(vs_notify_from_collectd_exec(COLLECTD, NULL, "at_max", &n, NULL));
	ck_assert_int_eq(as_sent(&n).verdict, VS_VERDICT_AT_MAX);
	ck_assert(vs_notify_from_collectd_exec(low_in, NULL, "ok", &n, NULL));
	ck_assert_int_eq(as_sent(&n).verdict, VS_VERDICT_OK);

	/* hostile text is cleaned, never passed on as is; the host is data */
	const char *hostile = "Severity: FAILURE\nHost: bad\x01host;rm\nPlugin: virtscale\n"
	                      "PluginInstance: web\nType: a;b\nCurrentValue: 1e+02\n\n"
	                      "line\x1b[2J one\nline two\n";
	ck_assert(vs_notify_from_collectd_exec(hostile, NULL, NULL, &n, NULL));
	sent = as_sent(&n);
	ck_assert_str_eq(sent.host, "bad?host;rm");
	ck_assert_str_eq(sent.metric, "");
	ck_assert_str_eq(sent.message, "line?[2J one line two");
	/* a collectd Hostname that is no RFC 1123 name is carried as it is */
	GString *hv_1 = g_string_new(COLLECTD);
	g_string_replace(hv_1, "Host: hv1\n", "Host: hv_1\n", 1);
	ck_assert(vs_notify_from_collectd_exec(hv_1->str, NULL, NULL, &n, NULL));
	g_string_free(hv_1, TRUE);
	ck_assert_str_eq(as_sent(&n).host, "hv_1");

	assert_exec_refused("Host: x\n\nmsg\n", "web", NULL); /* no Severity */
	assert_exec_refused("garbage\n", "web", NULL);        /* no header */
	assert_exec_refused(COLLECTD, "bad;name", NULL);      /* bad pool */
	assert_exec_refused(COLLECTD, NULL, "sky");           /* bad state */
	assert_exec_refused(COLLECTD, NULL, "unknown");       /* never sent */
	/* numbers the wire format cannot carry: refused here, not lost at the socket */
	g_autofree char *huge_max = with_replaced(COLLECTD, "6.0e+01", "6.0e101");
	assert_exec_refused(huge_max, NULL, NULL);
	g_autofree char *huge_value = with_replaced(COLLECTD, "7.5e+01", "7.5e+16");
	assert_exec_refused(huge_value, NULL, NULL);
	g_autofree char *bad_sev = with_replaced(COLLECTD, "WARNING", "PANIC!!");
	assert_exec_refused(bad_sev, NULL, NULL);
	/* not a virtscale notification and no --pool: no pool */
	g_autofree char *other_plugin =
	    with_replaced(COLLECTD, "Plugin: virtscale", "Plugin: cpu______");
	assert_exec_refused(other_plugin, NULL, NULL);
}
END_TEST

/* snmptrapd's traphandle input: host, transport, then "OID value" lines */
#define TRAP_HEAD "hv1\nUDP: [127.0.0.1]:40000->[127.0.0.1]:162\n"
#define VS_MIB    ".1.3.6.1.4.1.8072.9999.9999"
#define POOL_NAME VS_MIB ".1.2.1.2"

static void assert_trap(const vs_config *cfg, const char *trap, const char *pool,
                        vs_verdict verdict)
{
	g_autoptr(GError) err = NULL;
	vs_notification n;

	ck_assert_msg(vs_notify_from_snmptrap(trap, cfg, NULL, &n, &err), "%s: %s", trap,
	              err ? err->message : "");
	vs_notification sent = as_sent(&n);
	ck_assert_int_eq(sent.type, VS_NOTIFY_POOL);
	ck_assert_str_eq(sent.pool, pool);
	ck_assert_int_eq(sent.verdict, verdict);
	ck_assert_int_eq(sent.severity,
	                 verdict == VS_VERDICT_OK ? VS_SEVERITY_OKAY : VS_SEVERITY_WARNING);
	ck_assert_str_eq(sent.source, "snmptrap");
}

static void assert_trap_refused_at(const vs_config *cfg, const char *trap, const char *pool,
                                   const char *why, int line)
{
	g_autoptr(GError) err = NULL;
	vs_notification n;

	ck_assert_msg(!vs_notify_from_snmptrap(trap, cfg, pool, &n, &err), "line %d: accepted",
	              line);
	ck_assert_msg(g_error_matches(err, VS_ACT_ERROR, VS_ACT_ERROR_REFUSED), "line %d: %s", line,
	              err->message);
	ck_assert_msg(strstr(err->message, why), "line %d: '%s' lacks '%s'", line, err->message,
	              why);
}
#define assert_trap_refused(cfg, trap, pool, why)                                                  \
	assert_trap_refused_at(cfg, trap, pool, why, __LINE__)

START_TEST(snmptrap_numeric_and_symbolic_forms)
{
	g_autoptr(vs_config) cfg = vs_test_config("[pool web]\ntemplate = t\nname_pattern = "
	                                          "web-%02d\n[pool db]\ntemplate = u\n"
	                                          "name_pattern = db-%02d\n");
	/* -On: every OID in numbers, as snmptrapd prints with no MIB at hand */
	assert_trap(cfg,
	            TRAP_HEAD ".1.3.6.1.2.1.1.3.0 0:0:01:00.00\n"
	                      ".1.3.6.1.6.3.1.1.4.1.0 " VS_MIB ".0.1\n" POOL_NAME
	                      ".1 \"web\"\n" VS_MIB ".1.2.1.5.1 3\n",
	            "web", VS_VERDICT_HIGH);
	/* the same without leading dots, and with the value's type printed */
	assert_trap(cfg,
	            TRAP_HEAD "1.3.6.1.6.3.1.1.4.1.0 OID: 1.3.6.1.4.1.8072.9999.9999.0.2\n"
	                      "1.3.6.1.4.1.8072.9999.9999.1.2.1.2.2 STRING: \"db\"\n",
	            "db", VS_VERDICT_LOW);
	/* VIRTSCALE-MIB loaded */
	assert_trap(cfg,
	            TRAP_HEAD "DISMAN-EVENT-MIB::sysUpTimeInstance 0:0:01:00.00\n"
	                      "SNMPv2-MIB::snmpTrapOID.0 VIRTSCALE-MIB::vsPoolAtMax\n"
	                      "VIRTSCALE-MIB::vsPoolName.1 \"web\"\n"
	                      "VIRTSCALE-MIB::vsPoolInstances.1 6\n",
	            "web", VS_VERDICT_AT_MAX);
	/* -Os: labels without their module */
	assert_trap(cfg, TRAP_HEAD "snmpTrapOID.0 vsPoolNormal\nvsPoolName.1 web\n", "web",
	            VS_VERDICT_OK);
	/* only the stock MIBs loaded: our arc under their labels */
	assert_trap(cfg,
	            TRAP_HEAD "SNMPv2-MIB::snmpTrapOID.0 NET-SNMP-MIB::netSnmpPlaypen.9999.0.1\n"
	                      "SNMPv2-SMI::enterprises.8072.9999.9999.1.2.1.2.1 \"web\"\n",
	            "web", VS_VERDICT_HIGH);
	/* no MIB at all (MIBS=""): the root's label only */
	assert_trap(cfg,
	            TRAP_HEAD "iso.3.6.1.6.3.1.1.4.1.0 iso.3.6.1.4.1.8072.9999.9999.0.2\n"
	                      "iso.3.6.1.4.1.8072.9999.9999.1.2.1.2.1 \"web\"\n",
	            "web", VS_VERDICT_LOW);
	/* the host line is data; what is not text is cleaned */
	g_autoptr(GError) err = NULL;
	vs_notification n;
	ck_assert(vs_notify_from_snmptrap("h_1;x\x1b\nUDP: x\nsnmpTrapOID.0 vsPoolHigh\n"
	                                  "vsPoolName.1 web\n",
	                                  cfg, "web", &n, &err));
	ck_assert_str_eq(as_sent(&n).host, "h_1;x?");
}
END_TEST

START_TEST(snmptrap_anything_else_refused)
{
	g_autoptr(vs_config) cfg =
	    vs_test_config("[pool web]\ntemplate = t\nname_pattern = web-%02d\n");
	/* another MIB's trap whose name says low, with a varbind holding a pool name */
	assert_trap_refused(cfg,
	                    TRAP_HEAD ".1.3.6.1.6.3.1.1.4.1.0 UPS-MIB::upsBatteryLow\n"
	                              ".1.3.6.1.4.1.99999.1.2 STRING: \"web\"\n",
	                    NULL, "not a VIRTSCALE-MIB notification");
	assert_trap_refused(cfg,
	                    TRAP_HEAD "SNMPv2-MIB::snmpTrapOID.0 .1.3.6.1.4.1.318.0.7\n" POOL_NAME
	                              ".1 \"web\"\n",
	                    NULL, "not a VIRTSCALE-MIB notification");
	/* our labels under another module, or ours lengthened, are not ours */
	assert_trap_refused(cfg,
	                    TRAP_HEAD "snmpTrapOID.0 EVIL-MIB::vsPoolHigh\n" POOL_NAME ".1 web\n",
	                    NULL, "not a VIRTSCALE-MIB notification");
	assert_trap_refused(
	    cfg, TRAP_HEAD "snmpTrapOID.0 VIRTSCALE-MIB::vsPoolHighish\n" POOL_NAME ".1 web\n",
	    NULL, "not a VIRTSCALE-MIB notification");
	assert_trap_refused(cfg, TRAP_HEAD "snmpTrapOID.0 " VS_MIB ".0.1.5\n" POOL_NAME ".1 web\n",
	                    NULL, "not a VIRTSCALE-MIB notification");
	/* a notification of ours that is no verdict */
	assert_trap_refused(
	    cfg, TRAP_HEAD "snmpTrapOID.0 VIRTSCALE-MIB::vsActionFailed\n" POOL_NAME ".1 web\n",
	    NULL, "not a pool verdict");
	/* the pool name in a varbind that is not vsPoolName is never taken */
	assert_trap_refused(cfg,
	                    TRAP_HEAD "snmpTrapOID.0 vsPoolHigh\n.1.3.6.1.4.1.99999.1.2 \"web\"\n"
	                              "sysLocation.0 web\n" POOL_NAME ".1.1 web\n" POOL_NAME
	                              " web\n",
	                    NULL, "no vsPoolName varbind");
	assert_trap_refused(cfg,
	                    TRAP_HEAD "snmpTrapOID.0 vsPoolHigh\n.1.3.6.1.4.1.99999.1.2 \"web\"\n"
	                              "vsPoolName.1 \"other\"\n",
	                    NULL, "pool other is not configured");
	/* no trap OID, two of them, two pools, another pool than --pool */
	assert_trap_refused(cfg, TRAP_HEAD "vsPoolName.1 web\n", NULL, "no snmpTrapOID.0");
	assert_trap_refused(cfg,
	                    TRAP_HEAD "snmpTrapOID.0 vsPoolLow\nsnmpTrapOID.0 vsPoolHigh\n"
	                              "vsPoolName.1 web\n",
	                    NULL, "two snmpTrapOID.0");
	assert_trap_refused(cfg,
	                    TRAP_HEAD "snmpTrapOID.0 vsPoolLow\nvsPoolName.1 web\n"
	                              "vsPoolName.2 db\n",
	                    NULL, "two vsPoolName");
	assert_trap_refused(cfg, TRAP_HEAD "snmpTrapOID.0 vsPoolLow\nvsPoolName.1 web\n", "db",
	                    "not db");
	assert_trap_refused(cfg, TRAP_HEAD "snmpTrapOID.0 vsPoolLow\nvsPoolName.1 \"a;b\"\n", NULL,
	                    "not a pool name");

	/* not snmptrapd's format at all: invalid, not refused */
	g_autoptr(GError) err = NULL;
	vs_notification n;
	ck_assert(!vs_notify_from_snmptrap("only-one-line", cfg, NULL, &n, &err));
	ck_assert(g_error_matches(err, VS_ACT_ERROR, VS_ACT_ERROR_INVALID));
}
END_TEST

START_TEST(journal_replays_open_operations)
{
	g_autofree char *dir = g_dir_make_tmp("vs-journal-XXXXXX", NULL);
	g_autoptr(GError) err = NULL;
	vs_journal *j = vs_journal_open(dir, &err);
	ck_assert_ptr_nonnull(j);
	char *vols[] = {(char *)"web-01.qcow2", NULL};
	vs_journal_op op = {.op = (char *)"clone",
	                    .pool = (char *)"web",
	                    .name = (char *)"web-01",
	                    .uri = (char *)"qemu:///system",
	                    .vol_pool = (char *)"default",
	                    .vols = vols,
	                    .address = (char *)"127.0.0.1:18100"};
	uint64_t a = vs_journal_begin(j, &op, &err);
	ck_assert_uint_gt(a, 0);
	ck_assert(vs_journal_step(j, a, "defined", NULL));
	op.name = (char *)"web-02";
	uint64_t b = vs_journal_begin(j, &op, NULL);
	ck_assert(vs_journal_end(j, b, "ok", NULL));
	vs_journal_close(j); /* a crash: a is still open */

	/* a torn last line (crash in the middle of a write) is ignored */
	g_autofree char *path = g_build_filename(dir, "journal", NULL);
	FILE *f = fopen(path, "a");
	fputs("{\"id\":99,\"op\":\"clo", f);
	fclose(f);

	j = vs_journal_open(dir, &err);
	ck_assert_ptr_nonnull(j);
	g_autoptr(GPtrArray) pending = vs_journal_pending(j, NULL);
	ck_assert_uint_eq(pending->len, 1);
	vs_journal_op *p = pending->pdata[0];
	ck_assert_str_eq(p->name, "web-01");
	ck_assert_str_eq(p->step, "defined");
	ck_assert_str_eq(p->vols[0], "web-01.qcow2");
	ck_assert_ptr_null(p->vols[1]);
	ck_assert_str_eq(p->address, "127.0.0.1:18100");
	g_autoptr(GPtrArray) other = vs_journal_pending(j, "db");
	ck_assert_uint_eq(other->len, 0);
	/* ids keep growing across restarts */
	uint64_t c = vs_journal_begin(j, &op, NULL);
	ck_assert_uint_gt(c, b);
	ck_assert(vs_journal_end(j, c, "ok", NULL));
	ck_assert(vs_journal_end(j, p->id, "rolled-back", NULL));
	/* nothing open: the file is truncated */
	g_autofree char *text = NULL;
	ck_assert(g_file_get_contents(path, &text, NULL, NULL));
	ck_assert_str_eq(text, "");
	vs_journal_close(j);
	g_unlink(path);
	g_rmdir(dir);
}
END_TEST

/* targets.json: the manual targets a restart restores; a file that is
 * not one is refused whole (and then ignored by the store). */
START_TEST(targets_document)
{
	g_autoptr(GHashTable) t = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autoptr(GError) err = NULL;

	g_hash_table_replace(t, g_strdup("web"), GINT_TO_POINTER(3 + 1));
	g_hash_table_replace(t, g_strdup("db"), GINT_TO_POINTER(0 + 1));
	g_autofree char *json = vs_targets_to_json(t);
	ck_assert_str_eq(json, "{\"v\":1,\"targets\":{\"db\":0,\"web\":3}}\n");
	g_autoptr(GHashTable) back = vs_targets_from_json(json, strlen(json), &err);
	ck_assert_msg(back != NULL, "%s", err ? err->message : "");
	ck_assert_int_eq(GPOINTER_TO_INT(g_hash_table_lookup(back, "web")), 3 + 1);
	ck_assert_int_eq(GPOINTER_TO_INT(g_hash_table_lookup(back, "db")), 0 + 1);
	const char *bad[] = {
	    "",
	    "[]",
	    "{\"v\":2,\"targets\":{}}",
	    "{\"v\":1}",
	    "{\"v\":1,\"targets\":{\"web\":-1}}",
	    "{\"v\":1,\"targets\":{\"web\":1001}}",
	    "{\"v\":1,\"targets\":{\"web\":\"3\"}}",
	    "{\"v\":1,\"targets\":{\"a b\":3}}",
	    "{\"v\":1,\"targets\":{\"web\":3}",
	};
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GError) e = NULL;
		g_autoptr(GHashTable) r = vs_targets_from_json(bad[i], strlen(bad[i]), &e);
		ck_assert_msg(r == NULL && e != NULL, "accepted: %s", bad[i]);
	}
}
END_TEST

/*
 * One threshold crossing, two ways in: collectd's exec plugin on
 * `virtscalectl notify` stdin, and the plugin's forwarded threshold
 * notification on the wire. Both must reach the actuator with the same
 * verdict (a collectd value crossing WarningMin is low, WarningMax high,
 * OKAY ok) - it was once decided in three places that disagreed.
 */
START_TEST(threshold_crossing_same_verdict_both_ways)
{
	static const struct {
		const char *severity, *wire_severity;
		double value;
		const char *min, *max;
	} cases[] = {
	    {"WARNING", "warning", 75, "nan", "6.0e+01"},
	    {"FAILURE", "failure", 95, "1.0e+01", "9.0e+01"},
	    {"WARNING", "warning", 5, "1.0e+01", "nan"},
	    {"WARNING", "warning", 5, "1.0e+01", "6.0e+01"},
	    {"OKAY", "okay", 30, "1.0e+01", "6.0e+01"},
	    {"WARNING", "warning", 30, "nan", "nan"},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *exec = g_strdup_printf(
		    "Severity: %s\nHost: hv1\nPlugin: virtscale\nPluginInstance: web\n"
		    "Type: vs_ratio\nCurrentValue: %g\nWarningMin: %s\nWarningMax: %s\n\nmsg\n",
		    cases[i].severity, cases[i].value, cases[i].min, cases[i].max);
		GString *wire = g_string_new(NULL);
		vs_notification from_exec, from_wire;
		g_autoptr(GError) err = NULL;

		g_string_printf(wire,
		                "{\"v\":1,\"type\":\"threshold\",\"pool\":\"web\","
		                "\"plugin\":\"virtscale\",\"severity\":\"%s\",\"value\":%g",
		                cases[i].wire_severity, cases[i].value);
		if (strcmp(cases[i].min, "nan") != 0)
			g_string_append_printf(wire, ",\"threshold_low\":%g", atof(cases[i].min));
		if (strcmp(cases[i].max, "nan") != 0)
			g_string_append_printf(wire, ",\"threshold_high\":%g", atof(cases[i].max));
		g_string_append(wire, "}");
		ck_assert_msg(vs_notify_from_collectd_exec(exec, NULL, NULL, &from_exec, &err),
		              "%s", err ? err->message : "");
		from_exec = as_sent(&from_exec);
		ck_assert_msg(vs_notification_parse(wire->str, wire->len, &from_wire, &err),
		              "%s: %s", wire->str, err ? err->message : "");
		ck_assert_msg(from_exec.verdict == from_wire.verdict, "case %zu: exec %s, wire %s",
		              i, vs_verdict_name(from_exec.verdict),
		              vs_verdict_name(from_wire.verdict));
		g_string_free(wire, TRUE);
	}
}
END_TEST

/* A failing precondition is news once; the same one again is not, another
 * one is, and passing after being blocked is news again. */
START_TEST(precheck_alerts_once_per_condition)
{
	g_autofree char *blocked = NULL;

	ck_assert_int_eq(vs_precheck_track(&blocked, NULL), VS_BLOCK_NONE);
	ck_assert_ptr_null(blocked);
	ck_assert_int_eq(vs_precheck_track(&blocked, "load balancer:vs-lb-error-quark:0"),
	                 VS_BLOCK_NEW);
	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(vs_precheck_track(&blocked, "load balancer:vs-lb-error-quark:0"),
		                 VS_BLOCK_SAME);
	ck_assert_int_eq(vs_precheck_track(&blocked, "template:vs-virt:42"), VS_BLOCK_NEW);
	ck_assert_str_eq(blocked, "template:vs-virt:42");
	ck_assert_int_eq(vs_precheck_track(&blocked, NULL), VS_BLOCK_CLEARED);
	ck_assert_ptr_null(blocked);
	ck_assert_int_eq(vs_precheck_track(&blocked, NULL), VS_BLOCK_NONE);
	ck_assert_int_eq(vs_precheck_track(&blocked, "template:vs-virt:42"), VS_BLOCK_NEW);
}
END_TEST

/* A network as virsh net-dumpxml shows it, with every form of <ip>. */
static const char *NETWORK_XML =
    "<network><name>default</name><forward mode='nat'/>"
    "<bridge name='virbr0' stp='on' delay='0'/>"
    "<ip address='192.168.122.1' netmask='255.255.255.0'>"
    "<dhcp><range start='192.168.122.2' end='192.168.122.254'/></dhcp></ip>"
    "<ip family='ipv6' address='fd00:1::1' prefix='64'/>"
    "<ip family='ipv4' address='10.1.2.3' prefix='16'/>"
    "<ip address='10.9.0.1' netmask='255.0.255.0'/>" /* not contiguous */
    "<ip address='10.8.0.1' prefix='33'/>"
    "<ip address='10.7.0.1' prefix=''/>"
    "<ip address='10.6.0.1'/>"
    "<ip address='not-an-address' prefix='24'/>"
    "<route address='172.16.0.0' prefix='12' gateway='192.168.122.2'/>"
    "</network>";

/* A migrating member's destination XML: its forward on the destination's
 * address, the tag naming it, the destination's partition; nothing else. */
START_TEST(migrate_xml_forward_tag_partition)
{
	const vs_pool_config *p;
	g_autoptr(vs_config) cfg = clone_pool(HOSTFWD, &p);
	g_autoptr(GPtrArray) disks = vs_clone_xml_disks(TEMPLATE_XML, NULL);
	g_autofree char *clone =
	    vs_clone_xml_rewrite(TEMPLATE_XML, "web-03", disks, "web", "127.0.0.1:18103", p, NULL);
	GError *err = NULL;

	ck_assert_ptr_nonnull(clone);
	g_autofree char *x = vs_migrate_xml(clone, "127.0.0.2:18107", "/machine/hostb", p, &err);
	ck_assert_msg(x != NULL, "%s", err ? err->message : "");
	ck_assert_ptr_nonnull(strstr(x, "hostfwd=tcp:127.0.0.2:18107-"));
	ck_assert_ptr_null(strstr(x, "127.0.0.1:18103"));
	ck_assert_ptr_nonnull(strstr(x, "address=\"127.0.0.2:18107\""));
	ck_assert_ptr_nonnull(strstr(x, "<partition>/machine/hostb</partition>"));
	ck_assert_ptr_nonnull(strstr(x, "<name>web-03</name>"));
	/* no partition: kept as it is (none here) */
	g_autofree char *y = vs_migrate_xml(clone, "127.0.0.2:18107", NULL, p, NULL);
	ck_assert_ptr_null(strstr(y, "partition"));
	/* a domain without our tag is not ours to move */
	ck_assert_ptr_null(vs_migrate_xml(TEMPLATE_XML, "127.0.0.2:18107", NULL, p, &err) ? "x"
	                                                                                  : NULL);
	ck_assert_ptr_nonnull(err);
	g_clear_error(&err);
	ck_assert_ptr_null(vs_migrate_xml("<nodomain/>", NULL, NULL, p, NULL));
}
END_TEST

START_TEST(network_xml_networks_are_address_cidr_default)
{
	g_autoptr(GArray) nets = g_array_new(FALSE, FALSE, sizeof(vs_ipv4_net));
	g_autoptr(GArray) host = g_array_new(FALSE, FALSE, sizeof(uint32_t));
	char buf[20];

	ck_assert_uint_eq(vs_network_xml_ipv4(NETWORK_XML, nets, host), 2);
	ck_assert_uint_eq(nets->len, 2);
	ck_assert_uint_eq(host->len, 2);
	ck_assert_str_eq(vs_ipv4_net_format(&g_array_index(nets, vs_ipv4_net, 0), buf, sizeof(buf)),
	                 "192.168.122.0/24");
	ck_assert_str_eq(vs_ipv4_net_format(&g_array_index(nets, vs_ipv4_net, 1), buf, sizeof(buf)),
	                 "10.1.0.0/16");
	ck_assert_uint_eq(g_array_index(host, uint32_t, 0), 0xc0a87a01u);
	ck_assert_uint_eq(g_array_index(host, uint32_t, 1), 0x0a010203u);

	/* what those networks let a guest be reached at */
	vs_guest_address_rules rules = {.nets = (const vs_ipv4_net *)(void *)nets->data,
	                                .n_nets = nets->len,
	                                .host = (const uint32_t *)(void *)host->data,
	                                .n_host = host->len};
	const char *listed[] = {"127.0.0.1", "192.168.122.1", "192.168.122.255", "172.16.0.5",
	                        "10.9.0.5",  "10.8.0.5",      "192.168.122.50",  "10.1.9.9"};
	ck_assert_int_eq(vs_guest_address_choose(listed, G_N_ELEMENTS(listed), &rules), 6);
	ck_assert_str_eq(vs_guest_address_refusal("192.168.122.1", &rules),
	                 "an address of this host");
	ck_assert_str_eq(vs_guest_address_refusal("192.168.122.255", &rules),
	                 "the network's broadcast address");
	ck_assert_str_eq(vs_guest_address_refusal("10.9.0.5", &rules),
	                 "outside the accepted networks");
	ck_assert_ptr_null(vs_guest_address_refusal("10.1.9.9", &rules));
}
END_TEST

START_TEST(network_xml_without_ipv4_adds_nothing)
{
	const char *none[] = {
	    /* a network with no <ip>: no address on its bridge, no default networks */
	    "<network><name>isolated</name><bridge name='vstbr0'/><dns enable='no'/></network>",
	    "<network><ip family='ipv6' address='fd00::1' prefix='64'/></network>",
	    "<domain><ip address='10.0.0.1' prefix='8'/></domain>",
	    "<network><ip address='10.0.0.1' prefix='8'>",
	    "",
	    NULL,
	};
	g_autoptr(GArray) nets = g_array_new(FALSE, FALSE, sizeof(vs_ipv4_net));
	g_autoptr(GArray) host = g_array_new(FALSE, FALSE, sizeof(uint32_t));

	for (size_t i = 0; i < G_N_ELEMENTS(none); i++) {
		ck_assert_msg(vs_network_xml_ipv4(none[i], nets, host) == 0, "case %zu", i);
		ck_assert_uint_eq(nets->len, 0);
		ck_assert_uint_eq(host->len, 0);
	}
}
END_TEST

Suite *vs_test_suite(void)
{
	Suite *s = suite_create("actuator");
	TCase *tc = tcase_create("pure");
	tcase_add_test(tc, clone_disks_skip_readonly_and_refuse_block);
	tcase_add_test(tc, clone_rewrite_like_virt_clone);
	tcase_add_test(tc, clone_rewrite_adds_user_network_when_missing);
	tcase_add_test(tc, migrate_xml_forward_tag_partition);
	tcase_add_test(tc, network_xml_networks_are_address_cidr_default);
	tcase_add_test(tc, network_xml_without_ipv4_adds_nothing);
	tcase_add_test(tc, collectd_exec_format);
	tcase_add_test(tc, snmptrap_numeric_and_symbolic_forms);
	tcase_add_test(tc, snmptrap_anything_else_refused);
	tcase_add_test(tc, journal_replays_open_operations);
	tcase_add_test(tc, targets_document);
	tcase_add_test(tc, precheck_alerts_once_per_condition);
	tcase_add_test(tc, threshold_crossing_same_verdict_both_ways);
	suite_add_tcase(s, tc);
	return s;
}
