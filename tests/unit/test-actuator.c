/*
 * test-actuator.c - the actuator's pure parts: the clone's domain XML, the
 * stdin formats of `virtscalectl notify`, and journal replay after a crash.
 */
#include "config.h"

#include "actuator.h"
#include "vs-notify.h"

#include <check.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

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

static vs_pool_config pool_cfg(vs_address_kind address)
{
	vs_pool_config p = {0};
	p.name = (char *)"web";
	p.address = address;
	p.backend_port = 8080;
	return p;
}

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
	vs_pool_config p = pool_cfg(VS_ADDRESS_HOSTFWD);
	g_autoptr(GPtrArray) disks = vs_clone_xml_disks(TEMPLATE_XML, NULL);
	vs_clone_disk *d = disks->pdata[0];
	d->new_path = g_strdup("/img/web-03.qcow2");
	d->new_format = g_strdup("qcow2");
	g_autoptr(GError) err = NULL;
	g_autofree char *x =
	    vs_clone_xml_rewrite(TEMPLATE_XML, "web-03", disks, "web", "127.0.0.1:18103", &p, &err);
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
}
END_TEST

START_TEST(clone_rewrite_adds_user_network_when_missing)
{
	const char *plain = "<domain type='kvm'><name>t</name><devices><disk type='file' "
	                    "device='disk'><source file='/img/t.qcow2'/><target dev='vda'/>"
	                    "</disk></devices></domain>";
	vs_pool_config p = pool_cfg(VS_ADDRESS_HOSTFWD);
	g_autoptr(GPtrArray) disks = vs_clone_xml_disks(plain, NULL);
	vs_clone_disk *d = disks->pdata[0];
	ck_assert_str_eq(d->src_format, "raw");
	d->new_path = g_strdup("/img/c-01.qcow2");
	d->new_format = g_strdup("qcow2");
	g_autofree char *x =
	    vs_clone_xml_rewrite(plain, "c-01", disks, "web", "127.0.0.1:19000", &p, NULL);
	ck_assert_ptr_nonnull(x);
	ck_assert_ptr_nonnull(strstr(x, "hostfwd=tcp:127.0.0.1:19000-:8080"));
	ck_assert_ptr_nonnull(strstr(x, "virtio-net-pci,netdev=vsnet0"));
	/* with another address kind nothing is added */
	vs_pool_config q = pool_cfg(VS_ADDRESS_LEASE);
	g_autofree char *y = vs_clone_xml_rewrite(plain, "c-01", disks, "web", NULL, &q, NULL);
	ck_assert_ptr_null(strstr(y, "hostfwd"));
	ck_assert_ptr_null(strstr(y, "address="));
}
END_TEST

static const char *COLLECTD = "Severity: WARNING\nTime: 1764000000.25\nHost: hv1\n"
                              "Plugin: virtscale\nPluginInstance: web\nType: sessions\n"
                              "CurrentValue: 7.5e+01\nWarningMin: 1.0e+01\nWarningMax: 6.0e+01\n"
                              "FailureMin: nan\nFailureMax: nan\n\nsessions 75 above 60\n";

static vs_notification parse_ok(const char *line)
{
	vs_notification n;
	g_autoptr(GError) err = NULL;
	ck_assert_msg(vs_notification_parse(line, strlen(line), &n, &err), "%s: %s", line,
	              err ? err->message : "");
	return n;
}

START_TEST(collectd_exec_format)
{
	g_autoptr(GError) err = NULL;
	g_autofree char *l = vs_notify_from_collectd_exec(COLLECTD, NULL, NULL, &err);
	ck_assert_ptr_nonnull(l);
	vs_notification n = parse_ok(l);
	ck_assert_int_eq(n.type, VS_NOTIFY_POOL);
	ck_assert_str_eq(n.pool, "web");
	ck_assert_str_eq(n.state, "high");
	ck_assert_str_eq(n.source, "collectd");
	ck_assert(n.value == 75.0 && n.threshold_high == 60.0 && n.threshold_low == 10.0);

	g_autofree char *low_in = g_strdup(COLLECTD);
	memcpy(strstr(low_in, "7.5e+01"), "5.0e+00", 7);
	g_autofree char *low = vs_notify_from_collectd_exec(low_in, NULL, NULL, NULL);
	ck_assert_str_eq(parse_ok(low).state, "low");

	g_autofree char *ok_in = g_strdup(COLLECTD);
	memcpy(strstr(ok_in, "WARNING"), "OKAY\n  ", 7);
	g_autofree char *ok = vs_notify_from_collectd_exec(ok_in, "other", NULL, NULL);
	vs_notification o = parse_ok(ok);
	ck_assert_str_eq(o.state, "ok");
	ck_assert_str_eq(o.pool, "other");

	g_autoptr(GError) e1 = NULL;
	ck_assert_ptr_null(vs_notify_from_collectd_exec("Host: x\n\nmsg\n", "web", NULL, &e1));
	g_autoptr(GError) e2 = NULL;
	ck_assert_ptr_null(vs_notify_from_collectd_exec("garbage\n", "web", NULL, &e2));
	g_autoptr(GError) e3 = NULL;
	ck_assert_ptr_null(vs_notify_from_collectd_exec(COLLECTD, "bad;name", NULL, &e3));
	g_autoptr(GError) e4 = NULL;
	ck_assert_ptr_null(vs_notify_from_collectd_exec(COLLECTD, NULL, "sky", &e4));
}
END_TEST

START_TEST(snmptrap_format)
{
	const char *conf = "[pool web]\ntemplate = t\nname_pattern = web-%02d\nlb = none\n"
	                   "address = hostfwd\nhostfwd_ports = 18100-18199\n";
	g_autoptr(GError) cerr = NULL;
	g_autoptr(vs_config) cfg = vs_config_load_from_data(conf, strlen(conf), "t.conf", &cerr);
	ck_assert_msg(cfg != NULL, "%s", cerr ? cerr->message : "");
	const char *trap = "hv1\nUDP: [127.0.0.1]:40000->[127.0.0.1]:162\n"
	                   ".1.3.6.1.2.1.1.3.0 0:0:01:00.00\n"
	                   ".1.3.6.1.6.3.1.1.4.1.0 VIRTSCALE-MIB::vsPoolHigh\n"
	                   ".1.3.6.1.4.1.99999.1.2 STRING: \"web\"\n";
	g_autoptr(GError) err = NULL;
	g_autofree char *l = vs_notify_from_snmptrap(trap, cfg, NULL, NULL, &err);
	ck_assert_msg(l != NULL, "%s", err ? err->message : "");
	vs_notification n = parse_ok(l);
	ck_assert_str_eq(n.pool, "web");
	ck_assert_str_eq(n.state, "high");
	ck_assert_str_eq(n.source, "snmptrap");
	ck_assert_str_eq(n.host, "hv1");

	/* a pool the configuration does not have is not taken from the trap */
	const char *other = "hv1\nUDP: x\n.1.3.6.1.6.3.1.1.4.1.0 .1.3.6.1.4.1.9.9.9\n"
	                    ".1.3.6.1.4.1.9.1 \"nosuch\"\n";
	g_autoptr(GError) e1 = NULL;
	ck_assert_ptr_null(vs_notify_from_snmptrap(other, cfg, NULL, NULL, &e1));
	g_autoptr(GError) e2 = NULL;
	ck_assert_ptr_null(vs_notify_from_snmptrap(other, cfg, "web", NULL, &e2));
	g_autofree char *forced = vs_notify_from_snmptrap(other, cfg, "web", "low", NULL);
	ck_assert_str_eq(parse_ok(forced).state, "low");
	g_autoptr(GError) e3 = NULL;
	ck_assert_ptr_null(vs_notify_from_snmptrap("only-one-line", cfg, "web", "low", &e3));
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

int main(void)
{
	Suite *s = suite_create("actuator");
	TCase *tc = tcase_create("pure");
	tcase_add_test(tc, clone_disks_skip_readonly_and_refuse_block);
	tcase_add_test(tc, clone_rewrite_like_virt_clone);
	tcase_add_test(tc, clone_rewrite_adds_user_network_when_missing);
	tcase_add_test(tc, collectd_exec_format);
	tcase_add_test(tc, snmptrap_format);
	tcase_add_test(tc, journal_replays_open_operations);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
