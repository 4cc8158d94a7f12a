/*
 * test-config.c - virtscale.conf parser: good files, every error class with
 * its exact FILE:LINE, hostile input (binary junk, a 1 MB line), defaults,
 * and the shipped contrib/virtscale.conf.
 */
#include "config.h"

#include "vs-config.h"
#include "vs-config-internal.h"
#include "vs-validate.h"

#include "testutil.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define POOL_OK "[pool web]\ntemplate = web-template\nname_pattern = web-%02d\n"

static vs_config *parse_config_text(const char *text, GError **error)
{
	return vs_config_load_from_data(text, strlen(text), "t.conf", error);
}

/* Asserts @text fails and the message starts with @prefix (FILE:LINE: ...). */
static void expect_error_at(const char *text, const char *prefix, const char *file, int line)
{
	GError *err = NULL;
	vs_config *cfg = parse_config_text(text, &err);

	if (cfg)
		vs_config_free(cfg);
	ck_assert_msg(cfg == NULL, "%s:%d: accepted: %s", file, line, text);
	ck_assert_msg(err != NULL, "%s:%d: no error set", file, line);
	ck_assert_msg(g_str_has_prefix(err->message, prefix), "%s:%d: got '%s', want prefix '%s'",
	              file, line, err->message, prefix);
	ck_assert(err->domain == VS_CONFIG_ERROR);
	g_error_free(err);
}
#define expect_error(text, prefix) expect_error_at(text, prefix, __FILE__, __LINE__)

static vs_config *load_ok_at(const char *text, const char *file, int line)
{
	GError *err = NULL;
	vs_config *cfg = parse_config_text(text, &err);

	ck_assert_msg(cfg != NULL, "%s:%d: refused: %s", file, line, err ? err->message : "?");
	return cfg;
}
#define load_ok(text) load_ok_at(text, __FILE__, __LINE__)

START_TEST(test_empty_file_gives_defaults)
{
	vs_config *cfg = load_ok("");

	ck_assert_str_eq(cfg->path, "t.conf");
	ck_assert_ptr_nonnull(cfg->hosts);
	ck_assert_str_eq(cfg->hosts[0], "qemu:///system");
	ck_assert_ptr_null(cfg->hosts[1]);
	ck_assert_uint_eq(cfg->refresh_interval, 1);
	ck_assert_uint_eq(cfg->slow_interval, 10);
	ck_assert(cfg->use_cgroup);
	ck_assert_str_eq(cfg->agentx_socket, "/var/agentx/master");
	ck_assert_uint_eq(cfg->agentx_ping_interval, 5);
	/* LOCALSTATEDIR and RUNSTATEDIR come from configure */
	ck_assert(cfg->state_dir[0] == '/' && g_str_has_suffix(cfg->state_dir, "/lib/virtscale"));
	g_autofree char *map = g_strconcat(cfg->state_dir, "/vm-index.map", NULL);
	ck_assert_str_eq(cfg->snmp_state_file, map);
	ck_assert(cfg->actuator_socket[0] == '/' &&
	          g_str_has_suffix(cfg->actuator_socket, "/virtscale/actuator.sock"));
	ck_assert_str_eq(cfg->socket_group, "virtscale");
	ck_assert_int_eq(cfg->socket_group_line, 0);
	ck_assert_uint_eq(cfg->max_line, 4096);
	ck_assert_uint_eq(cfg->idle_timeout, 60);
	ck_assert_ptr_null(cfg->allow_uids);
	ck_assert_ptr_null(cfg->allow_gids);
	ck_assert_ptr_null(cfg->nginx_upstream_file);
	ck_assert_str_eq(cfg->nginx_pid_file, "/run/nginx.pid");
	ck_assert_str_eq(cfg->nginx_binary, "nginx");
	ck_assert_ptr_null(cfg->nginx_reload_command);
	ck_assert_int_eq(cfg->nginx_method, VS_NGINX_ROUND_ROBIN);
	ck_assert_uint_eq(cfg->nginx_max_conns, 0);
	ck_assert_ptr_null(cfg->apache_balancer_manager);
	ck_assert_uint_eq(cfg->apache_timeout, 5);
	ck_assert_ptr_null(cfg->mail_server);
	ck_assert_str_eq(cfg->mail_from, "virtscale@localhost");
	ck_assert_ptr_null(cfg->mail_to);
	ck_assert_int_eq(cfg->mail_starttls, VS_STARTTLS_NO);
	ck_assert_uint_eq(cfg->mail_timeout, 30);
	ck_assert_uint_eq(cfg->mail_rate_limit, 300);
	ck_assert(!cfg->mail_notify_recovered);
	ck_assert_uint_eq(cfg->mail_queue_max, 1000);
	ck_assert_uint_eq(cfg->pools->len, 0); /* zero pools: valid (subagent only) */
	vs_config_free(cfg);
}
END_TEST

START_TEST(test_pool_defaults)
{
	vs_config *cfg = load_ok("# comment\n; another\n\n" POOL_OK);
	const vs_pool_config *p = vs_config_find_pool(cfg, "web");

	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_null(vs_config_find_pool(cfg, "db"));
	ck_assert_str_eq(p->name, "web");
	ck_assert_int_eq(p->line, 4);
	ck_assert_str_eq(p->template_name, "web-template");
	ck_assert_str_eq(p->name_pattern, "web-%02d");
	ck_assert_str_eq(p->uri, "qemu:///system");
	ck_assert_uint_eq(p->min, 2);
	ck_assert_uint_eq(p->max, 6);
	ck_assert_int_eq(p->policy, VS_POLICY_RATIO);
	ck_assert_double_eq(p->cpu_high, 50);
	ck_assert_double_eq(p->cpu_low, 15);
	ck_assert_double_eq(p->sessions_high, 50);
	ck_assert_double_eq(p->sessions_low, 5);
	ck_assert_double_eq(p->session_capacity, 100);
	ck_assert_double_eq(p->ratio_high, 60);
	ck_assert_double_eq(p->ratio_low, 10);
	ck_assert_uint_eq(p->debounce_m, 7);
	ck_assert_uint_eq(p->debounce_n, 10);
	ck_assert_int_eq(p->target_metric, VS_METRIC_SESSIONS);
	ck_assert_int_eq(p->weights, VS_WEIGHTS_NONE);
	ck_assert_double_eq(p->target, 50);
	ck_assert_double_eq_tol(p->tolerance, 0.1, 1e-12);
	ck_assert_uint_eq(p->stabilization, 300);
	ck_assert_uint_eq(p->max_step_up, 1);
	ck_assert_uint_eq(p->max_step_down, 1);
	ck_assert_int_eq(p->sessions, VS_SESSIONS_SOCKDIAG);
	ck_assert_ptr_null(p->sessions_url);
	ck_assert_uint_eq(p->backend_port, 80);
	ck_assert_int_eq(p->lb, VS_LB_NONE);
	ck_assert_uint_eq(p->cooldown, 60);
	ck_assert_int_eq(p->address, VS_ADDRESS_LEASE);
	ck_assert_uint_eq(p->hostfwd_first, 0);
	ck_assert_int_eq(p->probe, VS_PROBE_HTTP);
	ck_assert_str_eq(p->probe_path, "/");
	ck_assert_uint_eq(p->probe_timeout, 60);
	ck_assert_uint_eq(p->drain_timeout, 30);
	ck_assert_uint_eq(p->sync_interval, 10);
	ck_assert_uint_eq(p->shutdown_timeout, 30);
	ck_assert(!p->keep_stopped);
	ck_assert_int_eq(p->clone, VS_CLONE_OVERLAY);
	ck_assert_str_eq(p->storage_pool, "default");
	ck_assert(!p->vertical_vcpu && !p->vertical_memory);
	ck_assert_int_eq(p->placement, VS_PLACEMENT_FEWEST);
	ck_assert_uint_eq(p->repeat_interval, 10);
	vs_config_free(cfg);
}
END_TEST

START_TEST(test_full_file)
{
	const char *text = "[libvirt]\r\n"
	                   "hosts = qemu:///system   qemu+ssh://hv2/system ; two hosts\r\n"
	                   "refresh_interval = 2\n"
	                   "slow_interval = 20\n"
	                   "fast_path = libvirt\n"
	                   "[snmp]\n"
	                   "agentx_socket = tcp:127.0.0.1:705\n"
	                   "agentx_ping_interval = 0\n"
	                   "state_file = /tmp/vs/map\n"
	                   "[actuator]\n"
	                   "socket = /tmp/vs/a.sock\n"
	                   "state_dir = /tmp/vs\n"
	                   "socket_group = ops\n"
	                   "max_line = 2048\n"
	                   "[nginx]\n"
	                   "upstream_file = /etc/nginx/conf.d/vs.conf\n"
	                   "upstream = web\n"
	                   "conf = /etc/nginx/nginx.conf\n"
	                   "pid_file = /tmp/nginx.pid\n"
	                   "binary = /usr/sbin/nginx\n"
	                   "reload_command = /usr/sbin/nginx -s reload\n"
	                   "method = least_conn\n"
	                   "max_conns = 100\n"
	                   "zone = web_zone\n"
	                   "[apache]\n"
	                   "balancer_manager = http://127.0.0.1:8080/balancer-manager\n"
	                   "balancer = web2\n"
	                   "timeout = 7\n"
	                   "[mail]\n"
	                   "server = 127.0.0.1:2525\n"
	                   "from = vs@example.org\n"
	                   "to = a@example.org, b@example.org c@localhost\n"
	                   "starttls = yes\n"
	                   "user = smtpuser\n"
	                   "password_file = /etc/virtscale/smtp.pw\n"
	                   "timeout = 9\n"
	                   "rate_limit = 0\n"
	                   "notify_recovered = on\n"
	                   "queue_max = 5\n"
	                   "[pool web]\n"
	                   "template = web-template\n"
	                   "name_pattern = web-%02d\n"
	                   "uri = qemu+ssh://hv2/system\n"
	                   "min = 0\n"
	                   "max = 8\n"
	                   "policy = proportional\n"
	                   "cpu_high = 80\n"
	                   "cpu_low = 15.5\n"
	                   "sessions_high = 40\n"
	                   "sessions_low = 2\n"
	                   "session_capacity = 200\n"
	                   "ratio_high = 70\n"
	                   "ratio_low = 5\n"
	                   "debounce = 3/5\n"
	                   "target_metric = cpu\n"
	                   "target = 60\n"
	                   "tolerance = 0.2\n"
	                   "stabilization = 120\n"
	                   "max_step_up = 2\n"
	                   "max_step_down = 3\n"
	                   "sessions = http:http://%a:%p/server-status?auto#x\n"
	                   "backend_port = 8080\n"
	                   "lb = nginx\n"
	                   "weights = ratio\n"
	                   "cooldown = 0\n"
	                   "address = hostfwd\n"
	                   "hostfwd_ports = 18100-18107\n"
	                   "probe = http:/health?x=1\n"
	                   "probe_timeout = 5\n"
	                   "drain_timeout = 1\n"
	                   "sync_interval = 2\n"
	                   "shutdown_timeout = 2\n"
	                   "keep_stopped = true\n"
	                   "clone = copy\n"
	                   "storage_pool = images\n"
	                   "vertical = both\n"
	                   "placement = weighted\n"
	                   "repeat_interval = 3\n"
	                   "  [pool db_1]  ; second pool\n"
	                   "template = db\n"
	                   "name_pattern = %dx-db\n"
	                   "lb = apache\n"
	                   "sessions = apache\n"
	                   "probe = tcp\n"
	                   "vertical = memory\n";
	vs_config *cfg = load_ok(text);
	const vs_pool_config *p = vs_config_find_pool(cfg, "web");
	const vs_pool_config *d = vs_config_find_pool(cfg, "db_1");

	ck_assert_str_eq(cfg->hosts[0], "qemu:///system");
	ck_assert_str_eq(cfg->hosts[1], "qemu+ssh://hv2/system");
	ck_assert_ptr_null(cfg->hosts[2]);
	ck_assert_uint_eq(cfg->refresh_interval, 2);
	ck_assert_uint_eq(cfg->slow_interval, 20);
	ck_assert(!cfg->use_cgroup);
	ck_assert_str_eq(cfg->agentx_socket, "tcp:127.0.0.1:705");
	ck_assert_uint_eq(cfg->agentx_ping_interval, 0);
	ck_assert_str_eq(cfg->snmp_state_file, "/tmp/vs/map");
	ck_assert_str_eq(cfg->actuator_socket, "/tmp/vs/a.sock");
	ck_assert_str_eq(cfg->socket_group, "ops");
	ck_assert_uint_eq(cfg->max_line, 2048);
	ck_assert_str_eq(cfg->nginx_upstream, "web");
	ck_assert_str_eq(cfg->nginx_reload_command, "/usr/sbin/nginx -s reload");
	ck_assert_int_eq(cfg->nginx_method, VS_NGINX_LEAST_CONN);
	ck_assert_uint_eq(cfg->nginx_max_conns, 100);
	ck_assert_str_eq(cfg->nginx_zone, "web_zone");
	ck_assert_str_eq(cfg->apache_balancer, "web2");
	ck_assert_uint_eq(cfg->apache_timeout, 7);
	ck_assert_str_eq(cfg->mail_server, "127.0.0.1:2525");
	ck_assert_str_eq(cfg->mail_to[0], "a@example.org");
	ck_assert_str_eq(cfg->mail_to[1], "b@example.org");
	ck_assert_str_eq(cfg->mail_to[2], "c@localhost");
	ck_assert_ptr_null(cfg->mail_to[3]);
	ck_assert_int_eq(cfg->mail_starttls, VS_STARTTLS_REQUIRED);
	ck_assert_str_eq(cfg->mail_user, "smtpuser");
	ck_assert_uint_eq(cfg->mail_rate_limit, 0);
	ck_assert(cfg->mail_notify_recovered);
	ck_assert_uint_eq(cfg->mail_queue_max, 5);
	ck_assert_uint_eq(cfg->pools->len, 2);

	ck_assert_str_eq(p->uri, "qemu+ssh://hv2/system");
	ck_assert_uint_eq(p->min, 0);
	ck_assert_uint_eq(p->max, 8);
	ck_assert_int_eq(p->policy, VS_POLICY_PROPORTIONAL);
	ck_assert_double_eq_tol(p->cpu_low, 15.5, 1e-12);
	ck_assert_uint_eq(p->debounce_m, 3);
	ck_assert_uint_eq(p->debounce_n, 5);
	ck_assert_int_eq(p->target_metric, VS_METRIC_CPU);
	ck_assert_int_eq(p->weights, VS_WEIGHTS_RATIO);
	ck_assert_int_eq(p->sessions, VS_SESSIONS_HTTP);
	/* '#' without a blank before it is part of the value */
	ck_assert_str_eq(p->sessions_url, "http://%a:%p/server-status?auto#x");
	ck_assert_uint_eq(p->backend_port, 8080);
	ck_assert_int_eq(p->lb, VS_LB_NGINX);
	ck_assert_int_eq(p->address, VS_ADDRESS_HOSTFWD);
	ck_assert_uint_eq(p->hostfwd_first, 18100);
	ck_assert_uint_eq(p->hostfwd_last, 18107);
	ck_assert_str_eq(p->probe_path, "/health?x=1");
	ck_assert(p->keep_stopped);
	ck_assert_int_eq(p->clone, VS_CLONE_COPY);
	ck_assert_str_eq(p->storage_pool, "images");
	ck_assert(p->vertical_vcpu && p->vertical_memory);
	ck_assert_int_eq(p->placement, VS_PLACEMENT_WEIGHTED);
	ck_assert_uint_eq(p->repeat_interval, 3);
	ck_assert_uint_eq(p->sync_interval, 2);

	ck_assert_int_eq(d->line, 79);
	ck_assert_int_eq(d->weights, VS_WEIGHTS_NONE);
	ck_assert_str_eq(d->uri, "qemu:///system");
	ck_assert_int_eq(d->lb, VS_LB_APACHE);
	ck_assert_int_eq(d->sessions, VS_SESSIONS_APACHE);
	ck_assert_int_eq(d->probe, VS_PROBE_TCP);
	ck_assert_ptr_null(d->probe_path);
	ck_assert(!d->vertical_vcpu && d->vertical_memory);
	vs_config_free(cfg);
}
END_TEST

/* allow_uids / allow_gids: names resolved when the file is read, numbers as
 * they are; a name this host does not know is an error of the file. */
START_TEST(test_intake_access_keys)
{
	static const char text[] = "[actuator]\nsocket_group = root\n"
	                           "allow_uids = root, 65534 4242\n"
	                           "allow_gids = root,nogroup\nidle_timeout = 5\n";
	g_autoptr(GError) err = NULL;
	g_autoptr(vs_config) cfg = vs_config_load_from_data(text, strlen(text), "t.conf", &err);

	ck_assert_msg(cfg != NULL, "%s", err ? err->message : "");
	ck_assert_int_eq(cfg->socket_group_line, 2);
	ck_assert_uint_eq(cfg->idle_timeout, 5);
	ck_assert_uint_eq(cfg->allow_uids->len, 3);
	ck_assert_uint_eq(g_array_index(cfg->allow_uids, guint32, 0), 0);
	ck_assert_uint_eq(g_array_index(cfg->allow_uids, guint32, 1), 65534);
	ck_assert_uint_eq(g_array_index(cfg->allow_uids, guint32, 2), 4242);
	ck_assert_uint_eq(cfg->allow_gids->len, 2);
	ck_assert_uint_eq(g_array_index(cfg->allow_gids, guint32, 0), 0);
	ck_assert_uint_eq(g_array_index(cfg->allow_gids, guint32, 1), 65534);

	expect_error("[actuator]\nallow_uids = root, no-such-user-vst\n",
	             "t.conf:2: [actuator] allow_uids: no user 'no-such-user-vst' on this host");
	expect_error("[actuator]\n\nallow_gids = no-such-group-vst\n",
	             "t.conf:3: [actuator] allow_gids: no group 'no-such-group-vst' on this host");
	expect_error("[actuator]\nallow_uids = 4294967295\n", "t.conf:2: [actuator] allow_uids:");
	expect_error("[actuator]\nallow_gids = ,\n", "t.conf:2: [actuator] allow_gids: no group");
	expect_error("[actuator]\nidle_timeout = 0\n", "t.conf:2: [actuator] idle_timeout:");
}
END_TEST

START_TEST(test_byte_order_mark)
{
	vs_config *cfg = load_ok("\xef\xbb\xbf[libvirt]\nrefresh_interval = 3\n");

	ck_assert_uint_eq(cfg->refresh_interval, 3);
	vs_config_free(cfg);
	/* only at the very start */
	expect_error("[libvirt]\n\xef\xbb\xbfrefresh_interval = 3\n",
	             "t.conf:2: invalid key name: keys are made of [a-z0-9_]");
}
END_TEST

START_TEST(test_booleans)
{
	static const char *const yes[] = {"yes", "true", "on", "1", "YES", "True"};
	static const char *const no[] = {"no", "false", "off", "0", "No", "OFF"};

	for (size_t i = 0; i < G_N_ELEMENTS(yes); i++) {
		g_autofree char *y = g_strdup_printf("[mail]\nnotify_recovered = %s\n", yes[i]);
		g_autofree char *n = g_strdup_printf("[mail]\nnotify_recovered = %s\n", no[i]);
		vs_config *cy = load_ok(y), *cn = load_ok(n);

		ck_assert(cy->mail_notify_recovered);
		ck_assert(!cn->mail_notify_recovered);
		vs_config_free(cy);
		vs_config_free(cn);
	}
	expect_error("[mail]\nnotify_recovered = maybe\n",
	             "t.conf:2: [mail] notify_recovered: 'maybe' is not a boolean");
}
END_TEST

/* An SMTP password never crosses the network in clear text unless the
 * configuration says so: user with starttls = no is refused. */
START_TEST(test_mail_auth_needs_tls)
{
	vs_config *cfg;

	expect_error("[mail]\nserver = 127.0.0.1:25\nto = a@localhost\nuser = u\n",
	             "t.conf:4: [mail] user: the password would be sent in clear text");
	expect_error("[mail]\nuser = u\nstarttls = no\n",
	             "t.conf:3: [mail] user: the password would be sent in clear text");
	cfg = load_ok("[mail]\nuser = u\nstarttls = no\nallow_cleartext_auth = yes\n");
	ck_assert(cfg->mail_allow_cleartext_auth);
	vs_config_free(cfg);
	cfg = load_ok("[mail]\nuser = u\nstarttls = optional\n");
	ck_assert(!cfg->mail_allow_cleartext_auth);
	vs_config_free(cfg);
	cfg = load_ok("[mail]\nstarttls = no\n");
	vs_config_free(cfg);
}
END_TEST

START_TEST(test_uri_single)
{
	vs_config *cfg = load_ok("[libvirt]\nuri = test:///default\n");

	ck_assert_str_eq(cfg->hosts[0], "test:///default");
	ck_assert_ptr_null(cfg->hosts[1]);
	vs_config_free(cfg);
	expect_error("[libvirt]\nuri = a:/x b:/y\n", "t.conf:2: [libvirt] uri: uri takes exactly");
	expect_error("[libvirt]\nuri = qemu:///system\nhosts = qemu:///system\n",
	             "t.conf:3: [libvirt] hosts: give either uri or hosts");
	expect_error("[libvirt]\nhosts = qemu:///system qemu:///system\n",
	             "t.conf:2: [libvirt] hosts: 'qemu:///system' is listed twice");
	expect_error("[libvirt]\nhosts = /system\n", "t.conf:2: [libvirt] hosts: '/system' is not");
	/* a scheme and nothing after it: refused, never read past its end */
	expect_error("[libvirt]\nhosts = ystem\n", "t.conf:2: [libvirt] hosts: 'ystem' is not");
	expect_error("[libvirt]\nuri = qemu+ssh\n", "t.conf:2: [libvirt] uri: 'qemu+ssh' is not");
}
END_TEST

START_TEST(test_syntax_errors)
{
	expect_error("[libvirt\n", "t.conf:1: group header without ']'");
	expect_error("\n\n[frobnicate]\n", "t.conf:3: [frobnicate]: unknown group");
	expect_error("[pool]\n", "t.conf:1: [pool]: a pool group needs a name");
	expect_error("[pool bad/name]\n", "t.conf:1: [pool bad/name]: invalid pool name");
	expect_error("[pool -x]\n", "t.conf:1: [pool -x]: invalid pool name");
	/* one definition of a pool name: what nginx, Apache, SNMP and mail all take */
	expect_error("[snmp]\n[pool db.1]\n", "t.conf:2: [pool db.1]: invalid pool name");
	expect_error("[pool a+b]\n", "t.conf:1: [pool a+b]: invalid pool name");
	expect_error("[snmp] junk\n", "t.conf:1: unexpected text after group header");
	expect_error("uri = qemu:///system\n", "t.conf:1: uri: key outside of any group");
	expect_error("[libvirt]\n\nrefresh_interval 1\n",
	             "t.conf:3: expected 'key = value' (missing '=')");
	expect_error("[libvirt]\n = 1\n", "t.conf:2: missing key before '='");
	expect_error("[libvirt]\nfoo = 1\n", "t.conf:2: [libvirt] foo: unknown key");
	expect_error("[libvirt]\nRefresh_Interval = 1\n", "t.conf:2: invalid key name");
	expect_error("[libvirt]\nrefresh interval = 1\n", "t.conf:2: invalid key name");
	/* a key of another group is unknown here */
	expect_error("[snmp]\nrefresh_interval = 1\n",
	             "t.conf:2: [snmp] refresh_interval: unknown key");
	expect_error(POOL_OK "frob = 1\n", "t.conf:4: [pool web] frob: unknown key");
	expect_error("[libvirt]\nrefresh_interval =\n",
	             "t.conf:2: [libvirt] refresh_interval: empty value");
	expect_error("[libvirt]\nrefresh_interval = ; only a comment\n",
	             "t.conf:2: [libvirt] refresh_interval: empty value");
}
END_TEST

START_TEST(test_duplicates)
{
	expect_error("[snmp]\n[libvirt]\n[snmp]\n",
	             "t.conf:3: [snmp]: duplicate group (first at line 1)");
	expect_error(POOL_OK "[pool db]\ntemplate = db\nname_pattern = db%d\n[pool web]\n",
	             "t.conf:7: [pool web]: duplicate group (first at line 1)");
	expect_error("[libvirt]\nrefresh_interval = 1\nslow_interval = 5\nrefresh_interval = 2\n",
	             "t.conf:4: [libvirt] refresh_interval: duplicate key (first at line 2)");
	expect_error(POOL_OK "min = 1\nmin = 1\n",
	             "t.conf:5: [pool web] min: duplicate key (first at line 4)");
}
END_TEST

START_TEST(test_bad_values)
{
	expect_error(
	    "[libvirt]\nrefresh_interval = -1\n",
	    "t.conf:2: [libvirt] refresh_interval: '-1' is not a duration in whole seconds");
	expect_error("[libvirt]\nrefresh_interval = 1s\n", "t.conf:2: [libvirt] refresh_interval:");
	expect_error("[libvirt]\nrefresh_interval = 0x10\n",
	             "t.conf:2: [libvirt] refresh_interval:");
	expect_error("[libvirt]\nrefresh_interval = 99999999999999999999999\n",
	             "t.conf:2: [libvirt] refresh_interval:");
	expect_error("[libvirt]\nrefresh_interval = 0\n",
	             "t.conf:2: [libvirt] refresh_interval: 0 seconds is out of range 1..3600");
	expect_error("[libvirt]\nfast_path = proc\n",
	             "t.conf:2: [libvirt] fast_path: 'proc' is not one of: cgroup | libvirt");
	expect_error("[actuator]\nstate_dir = var/lib\n",
	             "t.conf:2: [actuator] state_dir: 'var/lib' is not an absolute path");
	expect_error("[actuator]\nsocket_group = Bad Group\n",
	             "t.conf:2: [actuator] socket_group:");
	expect_error("[actuator]\nmax_line = 10\n",
	             "t.conf:2: [actuator] max_line: 10 is out of range 256..4096");
	expect_error("[nginx]\nupstream = web;evil\n", "t.conf:2: [nginx] upstream: 'web;evil'");
	expect_error("[nginx]\nupstream = web}\n", "t.conf:2: [nginx] upstream:");
	expect_error("[nginx]\nmethod = random\n",
	             "t.conf:2: [nginx] method: 'random' is not one of");
	expect_error("[apache]\nbalancer_manager = ftp://x/\n",
	             "t.conf:2: [apache] balancer_manager:");
	expect_error("[mail]\nserver = localhost\n",
	             "t.conf:2: [mail] server: 'localhost' is not host:port");
	expect_error("[mail]\nserver = localhost:0\n", "t.conf:2: [mail] server:");
	expect_error("[mail]\nfrom = nobody\n", "t.conf:2: [mail] from: 'nobody' is not an e-mail");
	expect_error("[mail]\nto = a@b, evil@x>\n", "t.conf:2: [mail] to: 'evil@x>' is not");
	expect_error("[mail]\nto = ,\n", "t.conf:2: [mail] to: no address given");
	expect_error("[mail]\nstarttls = maybe\n", "t.conf:2: [mail] starttls:");
	expect_error(POOL_OK "min = two\n",
	             "t.conf:4: [pool web] min: 'two' is not a non-negative integer");
	expect_error(POOL_OK "max = 0\n", "t.conf:4: [pool web] max: 0 is out of range 1..1000");
	expect_error(
	    POOL_OK "policy = magic\n",
	    "t.conf:4: [pool web] policy: 'magic' is not one of: average | ratio | proportional");
	expect_error(POOL_OK "cpu_high = 101\n",
	             "t.conf:4: [pool web] cpu_high: 101 is out of range");
	expect_error(POOL_OK "cpu_high = nan\n",
	             "t.conf:4: [pool web] cpu_high: 'nan' is not a number");
	expect_error(POOL_OK "cpu_high = inf\n",
	             "t.conf:4: [pool web] cpu_high: 'inf' is not a number");
	expect_error(POOL_OK "cpu_high = 1e999\n", "t.conf:4: [pool web] cpu_high:");
	expect_error(POOL_OK "cpu_high = 5.5.5\n", "t.conf:4: [pool web] cpu_high:");
	expect_error(POOL_OK "session_capacity = 0\n", "t.conf:4: [pool web] session_capacity:");
	expect_error(POOL_OK "debounce = 7\n", "t.conf:4: [pool web] debounce: '7' is not M/N");
	expect_error(POOL_OK "debounce = 0/10\n",
	             "t.conf:4: [pool web] debounce: '0/10': need 1 <= M");
	expect_error(POOL_OK "debounce = 8/7\n", "t.conf:4: [pool web] debounce: '8/7': need");
	expect_error(POOL_OK "debounce = 10/65\n", "t.conf:4: [pool web] debounce: '10/65': need");
	expect_error(POOL_OK "debounce = 1/2/3\n", "t.conf:4: [pool web] debounce:");
	/* a ratio is not something a per-instance target can be set for */
	expect_error(POOL_OK "target_metric = ratio\n",
	             "t.conf:4: [pool web] target_metric: 'ratio' is not one of: cpu | sessions");
	expect_error(POOL_OK "weights = sessions\n",
	             "t.conf:4: [pool web] weights: 'sessions' is not one of: none | ratio");
	expect_error(POOL_OK "tolerance = 1\n", "t.conf:4: [pool web] tolerance:");
	expect_error(
	    POOL_OK "sessions = netstat\n",
	    "t.conf:4: [pool web] sessions: 'netstat' is not one of: sockdiag | apache | http:URL");
	expect_error(POOL_OK "sessions = http:/status\n", "t.conf:4: [pool web] sessions:");
	expect_error(POOL_OK "sessions = http:http://%a:%p/%s\n", "t.conf:4: [pool web] sessions:");
	expect_error(POOL_OK "backend_port = 65536\n", "t.conf:4: [pool web] backend_port:");
	expect_error(POOL_OK "lb = haproxy\n",
	             "t.conf:4: [pool web] lb: 'haproxy' is not one of: none | nginx | apache");
	expect_error(POOL_OK "address = dhcp\n", "t.conf:4: [pool web] address:");
	expect_error(POOL_OK "hostfwd_ports = 18100\n",
	             "t.conf:4: [pool web] hostfwd_ports: '18100' is not");
	expect_error(POOL_OK "hostfwd_ports = 200-100\n",
	             "t.conf:4: [pool web] hostfwd_ports: '200-100': need");
	expect_error(POOL_OK "hostfwd_ports = 0-100\n", "t.conf:4: [pool web] hostfwd_ports:");
	expect_error(POOL_OK "hostfwd_ports = 100-70000\n", "t.conf:4: [pool web] hostfwd_ports:");
	expect_error(POOL_OK "probe = http:health\n", "t.conf:4: [pool web] probe: 'http:health'");
	expect_error(POOL_OK "probe = icmp\n", "t.conf:4: [pool web] probe:");
	expect_error(POOL_OK "probe_timeout = 0\n", "t.conf:4: [pool web] probe_timeout:");
	expect_error(POOL_OK "clone = link\n", "t.conf:4: [pool web] clone:");
	expect_error(POOL_OK "storage_pool = a b\n", "t.conf:4: [pool web] storage_pool:");
	expect_error(POOL_OK "vertical = disk\n", "t.conf:4: [pool web] vertical:");
	expect_error(POOL_OK "placement = random\n", "t.conf:4: [pool web] placement:");
	expect_error(POOL_OK "keep_stopped = 2\n", "t.conf:4: [pool web] keep_stopped:");
	expect_error(
	    POOL_OK "uri = qemu+ssh://hv9/system\n",
	    "t.conf:4: [pool web] uri: 'qemu+ssh://hv9/system' is not one of the configured hosts");
}
END_TEST

START_TEST(test_name_pattern)
{
	static const char *const bad[] = {
	    "web",     "web-%d-%d",
	    "web-%s",  "web-%x",
	    "web-%5d", "web %d",
	    "web-%02", "-web%d",
	    "web;%d",  "web-%0d",
	    "web-%%d", "%n",
	    "web/%d",  "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij%d",
	};

	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autofree char *text =
		    g_strdup_printf("[pool web]\ntemplate = t\nname_pattern = %s\n", bad[i]);
		expect_error(text, "t.conf:3: [pool web] name_pattern:");
	}
	vs_config *cfg = load_ok("[pool web]\ntemplate = t\nname_pattern = %03d.web_x+1\n");
	ck_assert_str_eq(((vs_pool_config *)cfg->pools->pdata[0])->name_pattern, "%03d.web_x+1");
	vs_config_free(cfg);
}
END_TEST

START_TEST(test_required_and_cross_checks)
{
	expect_error("[libvirt]\n\n[pool web]\nname_pattern = w%d\n",
	             "t.conf:3: [pool web] template: required key missing");
	expect_error("[pool web]\ntemplate = t\n",
	             "t.conf:1: [pool web] name_pattern: required key missing");
	expect_error("[pool web]\ntemplate = bad name\n", "t.conf:2: [pool web] template:");
	expect_error(POOL_OK "max = 3\nmin = 4\n",
	             "t.conf:5: [pool web] min: min (4) must not exceed max (3)");
	expect_error(POOL_OK "min = 7\n",
	             "t.conf:4: [pool web] min: min (7) must not exceed max (6)");
	expect_error(POOL_OK "cpu_low = 50\n",
	             "t.conf:4: [pool web] cpu_low: cpu_low (50) must be below cpu_high (50)");
	expect_error(POOL_OK "sessions_high = 1\n", "t.conf:4: [pool web] sessions_low:");
	expect_error(POOL_OK "ratio_low = 70\n",
	             "t.conf:4: [pool web] ratio_low: ratio_low (70) must be below");
	expect_error(POOL_OK "address = hostfwd\n",
	             "t.conf:4: [pool web] address: address = hostfwd needs hostfwd_ports");
	expect_error(
	    POOL_OK "address = hostfwd\nhostfwd_ports = 18100-18104\n",
	    "t.conf:5: [pool web] hostfwd_ports: 18100-18104 has 5 ports, fewer than max = 6");
	expect_error(POOL_OK "lb = nginx\n",
	             "t.conf:4: [pool web] lb: lb = nginx needs upstream_file in [nginx]");
	expect_error("[nginx]\nupstream_file = /x\nupstream = u\n" POOL_OK "lb = nginx\n",
	             "t.conf:7: [pool web] lb: lb = nginx needs conf in [nginx]");
	expect_error(POOL_OK "lb = apache\n",
	             "t.conf:4: [pool web] lb: lb = apache needs balancer_manager in [apache]");
	expect_error("[apache]\nbalancer_manager = http://127.0.0.1/bm\n" POOL_OK
	             "sessions = apache\n",
	             "t.conf:6: [pool web] sessions: sessions = apache needs balancer in [apache]");
	expect_error("[mail]\nserver = 127.0.0.1:25\n",
	             "t.conf:1: [mail] to: required key missing");
	expect_error("[libvirt]\nrefresh_interval = 5\nslow_interval = 2\n",
	             "t.conf:3: [libvirt] slow_interval: 2 must not be below refresh_interval (5)");
	/* pairs of pools */
	expect_error(POOL_OK "[pool b]\ntemplate = t\nname_pattern = web-%02d\n",
	             "t.conf:6: [pool b] name_pattern: same as pool web");
	expect_error("[apache]\nbalancer_manager = http://127.0.0.1/bm\nbalancer = b\n" POOL_OK
	             "lb = apache\n[pool b]\ntemplate = t\nname_pattern = b%d\nlb = apache\n",
	             "t.conf:11: [pool b] lb: pool web already uses lb = apache");
	expect_error(POOL_OK "address = hostfwd\nhostfwd_ports = 100-199\n"
	                     "[pool b]\ntemplate = t\nname_pattern = b%d\naddress = hostfwd\n"
	                     "hostfwd_ports = 150-250\n",
	             "t.conf:10: [pool b] hostfwd_ports: overlaps pool web (100-199)");
	/* the smallest valid range equals max; min = 0 is fine */
	vs_config *cfg =
	    load_ok(POOL_OK "min = 0\nmax = 1\naddress = hostfwd\nhostfwd_ports = 9-9\n");
	vs_config_free(cfg);
}
END_TEST

START_TEST(test_address_cidr)
{
	vs_config *cfg = load_ok(POOL_OK);
	const vs_pool_config *p = cfg->pools->pdata[0];

	/* default: none, the guest's libvirt networks decide */
	ck_assert_ptr_null(p->address_cidr);
	ck_assert_uint_eq(p->n_address_cidr, 0);
	vs_config_free(cfg);
	cfg = load_ok(POOL_OK "address = agent\naddress_cidr = 192.168.122.0/24, 10.0.0.0/8 "
	                      "172.16.5.4/32\n");
	p = cfg->pools->pdata[0];
	ck_assert_uint_eq(p->n_address_cidr, 3);
	ck_assert_uint_eq(p->address_cidr[0].addr, 0xc0a87a00u);
	ck_assert_uint_eq(p->address_cidr[0].prefix, 24);
	ck_assert_uint_eq(p->address_cidr[1].addr, 0x0a000000u);
	ck_assert_uint_eq(p->address_cidr[1].prefix, 8);
	ck_assert_uint_eq(p->address_cidr[2].prefix, 32);
	vs_config_free(cfg);
	expect_error(POOL_OK "address_cidr = 192.168.122.1/24\n",
	             "t.conf:4: [pool web] address_cidr: '192.168.122.1/24' has host bits set "
	             "(the network is 192.168.122.0/24)");
	expect_error(POOL_OK "address_cidr = 10.0.0.0/8, fd00::/8\n",
	             "t.conf:4: [pool web] address_cidr: 'fd00::/8': 'fd00::' is not an IPv4");
	expect_error(POOL_OK "address_cidr = 10.0.0.0/33\n",
	             "t.conf:4: [pool web] address_cidr: '10.0.0.0/33': the prefix length");
	expect_error(POOL_OK "address_cidr = 10.0.0.0\n",
	             "t.conf:4: [pool web] address_cidr: '10.0.0.0' is not an IPv4 network");
	expect_error(POOL_OK "address_cidr = ,\n",
	             "t.conf:4: [pool web] address_cidr: no network given");
	/* hostfwd is the operator's address, not the guest's: nothing to filter */
	expect_error(POOL_OK "address = hostfwd\nhostfwd_ports = 100-199\n"
	                     "address_cidr = 10.0.0.0/8\n",
	             "t.conf:6: [pool web] address_cidr: only for addresses a guest reports");
}
END_TEST

/* [host NAME] groups, a pool's hosts (names or URIs, in tie order) and the
 * per-host limits. */
START_TEST(test_hosts)
{
#define HOSTS                                                                                      \
	"[host a]\nuri = qemu:///system\n"                                                         \
	"[host b]\nuri = qemu+tcp://127.0.0.1:16510/system\nhostfwd_address = 127.0.0.2\n"
	vs_config *cfg = load_ok(HOSTS "[libvirt]\nhost_grace = 12\n" POOL_OK
	                               "hosts = b a\nhost_max = 3\nhost_min = 1\n"
	                               "placement_rtt_weight = 0\n"
	                               "[pool api]\ntemplate = t\nname_pattern = api-%d\n");
	const vs_pool_config *web = vs_config_find_pool(cfg, "web");
	const vs_pool_config *api = vs_config_find_pool(cfg, "api");

	ck_assert_uint_eq(cfg->host_configs->len, 2);
	ck_assert_str_eq(cfg->hosts[0], "qemu:///system");
	ck_assert_str_eq(cfg->hosts[1], "qemu+tcp://127.0.0.1:16510/system");
	ck_assert_ptr_null(cfg->hosts[2]);
	ck_assert_uint_eq(cfg->host_grace, 12);
	ck_assert_str_eq(vs_config_host_name(cfg, "qemu+tcp://127.0.0.1:16510/system"), "b");
	ck_assert_str_eq(vs_config_find_host(cfg, "qemu:///system")->hostfwd_address, "127.0.0.1");
	ck_assert_str_eq(vs_config_find_host(cfg, cfg->hosts[1])->hostfwd_address, "127.0.0.2");
	/* tie order as written; uri = the first of them */
	ck_assert_str_eq(web->hosts[0], "qemu+tcp://127.0.0.1:16510/system");
	ck_assert_str_eq(web->hosts[1], "qemu:///system");
	ck_assert_ptr_null(web->hosts[2]);
	ck_assert_str_eq(web->uri, web->hosts[0]);
	ck_assert_uint_eq(web->host_max, 3);
	ck_assert_uint_eq(web->host_min, 1);
	ck_assert_double_eq_tol(web->placement_cpu_weight, 0.4, 1e-12);
	ck_assert_double_eq_tol(web->placement_rtt_weight, 0, 1e-12);
	ck_assert(vs_pool_on_host(web, "qemu:///system"));
	/* no hosts = : every host, in config order */
	ck_assert_str_eq(api->hosts[0], "qemu:///system");
	ck_assert_str_eq(api->hosts[1], "qemu+tcp://127.0.0.1:16510/system");
	ck_assert_uint_eq(api->host_max, 0);
	vs_config_free(cfg);

	/* URIs of [libvirt] hosts are hosts named by their URI */
	cfg = load_ok("[libvirt]\nhosts = qemu:///system test:///default\n" POOL_OK
	              "hosts = test:///default\n");
	ck_assert_str_eq(vs_config_host_name(cfg, "test:///default"), "test:///default");
	ck_assert_str_eq(vs_config_find_host(cfg, "test:///default")->hostfwd_address, "127.0.0.1");
	ck_assert_str_eq(vs_config_find_pool(cfg, "web")->hosts[0], "test:///default");
	ck_assert_ptr_null(vs_config_find_pool(cfg, "web")->hosts[1]);
	ck_assert(!vs_pool_on_host(vs_config_find_pool(cfg, "web"), "qemu:///system"));
	vs_config_free(cfg);

	expect_error("[host a]\nhostfwd_address = 127.0.0.2\n",
	             "t.conf:1: [host a] uri: required key missing");
	expect_error("[host a]\nuri = qemu:///system\n[host a]\nuri = test:///default\n",
	             "t.conf:3: [host a]: duplicate group (first at line 1)");
	expect_error("[host a]\nuri = qemu:///system\n[host b]\nuri = qemu:///system\n",
	             "t.conf:4: [host b] uri: 'qemu:///system' is already the uri of host a");
	expect_error("[host]\n", "t.conf:1: [host]: a host group needs a name: [host NAME]");
	expect_error("[host a;b]\n", "t.conf:1: [host a;b]: invalid host name");
	expect_error("[host a]\nuri = qemu:///system\nhostfwd_address = localhost\n",
	             "t.conf:3: [host a] hostfwd_address: 'localhost' is not an IPv4 address");
	expect_error("[host a]\nuri = qemu:///system\n[libvirt]\nhosts = test:///default\n",
	             "t.conf:4: [libvirt] hosts: hosts are given by [host NAME] groups (first at "
	             "line 1)");
	expect_error(HOSTS POOL_OK "hosts = a c\n",
	             "t.conf:9: [pool web] hosts: 'c' is not a configured host");
	expect_error(HOSTS POOL_OK "hosts = a qemu:///system\n",
	             "t.conf:9: [pool web] hosts: 'qemu:///system' is listed twice");
	expect_error(HOSTS POOL_OK "hosts = a\nuri = qemu:///system\n",
	             "t.conf:10: [pool web] hosts: give either uri or hosts, not both");
	expect_error(HOSTS POOL_OK "hosts = a;b\n",
	             "t.conf:9: [pool web] hosts: 'a;b' is neither a host name nor a libvirt URI");
	expect_error(HOSTS POOL_OK "host_max = 1\nhost_min = 2\n",
	             "t.conf:10: [pool web] host_min: host_min (2) must not exceed host_max (1)");
	/* two hosts of one instance each cannot hold three */
	expect_error(HOSTS POOL_OK "host_max = 1\nmin = 3\nmax = 4\n",
	             "t.conf:10: [pool web] host_max: 2 hosts x host_max 1 cannot hold min = 3");
	expect_error(HOSTS POOL_OK "host_min = 4\n",
	             "t.conf:9: [pool web] host_min: 2 hosts x host_min 4 exceed max = 6");
	expect_error("[libvirt]\nhost_grace = 0\n", "t.conf:2: [libvirt] host_grace:");
#undef HOSTS
}
END_TEST

START_TEST(test_hostile_bytes)
{
	static const char nul[] = "[libvirt]\nrefresh_interval = 1\x00junk\n";
	GError *err = NULL;
	vs_config *cfg = vs_config_load_from_data(nul, sizeof(nul) - 1, "t.conf", &err);

	ck_assert_ptr_null(cfg);
	ck_assert_str_eq(err->message, "t.conf:2: NUL byte: this is not a text file");
	g_clear_error(&err);

	expect_error("[libvirt]\n\nrefresh_interval = 1\x1b[2J\n",
	             "t.conf:3: control character 0x1b: this is not a text file");
	expect_error("[libvirt]\r\nrefresh_interval = 1\rslow_interval = 2\n",
	             "t.conf:2: control character 0x0d");
	expect_error("[snmp]\nagentx_socket = /tmp/\xff\xfe\n",
	             "t.conf:2: invalid UTF-8 at column 22");
	expect_error("[snmp]\nagentx_socket = /tmp/\xc0\xaf\n",
	             "t.conf:2: invalid UTF-8"); /* overlong */
	expect_error("[snmp]\nagentx_socket = /tmp/\xed\xa0\x80\n",
	             "t.conf:2: invalid UTF-8"); /* surrogate */

	/* random binary junk: refused with a line number, no crash */
	GRand *rand = g_rand_new_with_seed(42);
	for (int round = 0; round < 200; round++) {
		gsize len = (gsize)g_rand_int_range(rand, 1, 2000);
		g_autofree char *junk = g_malloc(len);

		for (gsize i = 0; i < len; i++)
			junk[i] = (char)g_rand_int_range(rand, 0, 256);
		junk[0] = '\x01'; /* never a valid config */
		cfg = vs_config_load_from_data(junk, len, "junk", &err);
		ck_assert_ptr_null(cfg);
		ck_assert(g_str_has_prefix(err->message, "junk:1: "));
		g_clear_error(&err);
	}
	g_rand_free(rand);
}
END_TEST

START_TEST(test_long_lines)
{
	gsize big = 1024 * 1024;
	GString *s = g_string_new("[libvirt]\nrefresh_interval = 1\n; ");
	GError *err = NULL;
	vs_config *cfg;

	for (gsize i = 0; i < big; i++)
		g_string_append_c(s, 'x');
	g_string_append(s, "\n");
	cfg = vs_config_load_from_data(s->str, s->len, "t.conf", &err);
	ck_assert_ptr_null(cfg);
	ck_assert_str_eq(err->message, "t.conf:3: line too long (more than 4096 bytes)");
	g_clear_error(&err);
	g_string_free(s, TRUE);

	/* exactly 4096 bytes is fine; 4097 is not */
	s = g_string_new("[libvirt]\n;");
	while (s->len < 10 + 4096)
		g_string_append_c(s, 'y');
	cfg = vs_config_load_from_data(s->str, s->len, "t.conf", &err);
	ck_assert_msg(cfg != NULL, "%s", err ? err->message : "");
	vs_config_free(cfg);
	g_string_append_c(s, 'y');
	cfg = vs_config_load_from_data(s->str, s->len, "t.conf", &err);
	ck_assert_ptr_null(cfg);
	ck_assert_str_eq(err->message, "t.conf:2: line too long (more than 4096 bytes)");
	g_clear_error(&err);
	g_string_free(s, TRUE);
}
END_TEST

START_TEST(test_load_file_and_exit)
{
	g_autofree char *dir = g_dir_make_tmp("vs-config-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, "v.conf", NULL);
	g_autofree char *missing = g_build_filename(dir, "none.conf", NULL);
	g_autofree char *expect = NULL;
	GError *err = NULL;
	vs_config *cfg;
	int fds[2];
	pid_t pid;
	int status;
	char buf[512] = {0};
	ssize_t n;

	ck_assert(g_file_set_contents(path, POOL_OK "max = x\n", -1, NULL));
	cfg = vs_config_load(path, &err);
	ck_assert_ptr_null(cfg);
	expect = g_strdup_printf("%s:4: [pool web] max: 'x' is not a non-negative integer", path);
	ck_assert_str_eq(err->message, expect);
	g_clear_error(&err);

	cfg = vs_config_load(missing, &err);
	ck_assert_ptr_null(cfg);
	ck_assert(g_str_has_prefix(err->message, missing));
	ck_assert_ptr_nonnull(strstr(err->message, "cannot read"));
	g_clear_error(&err);

	/* load_or_exit: message on stderr prefixed by the program, status 2 */
	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(fds[1], 2);
		vs_config_load_or_exit("prog", path);
		_exit(0);
	}
	close(fds[1]);
	n = read(fds[0], buf, sizeof(buf) - 1);
	close(fds[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), VS_EXIT_CONFIG);
	ck_assert_int_gt(n, 0);
	g_autofree char *line = g_strdup_printf("prog: %s\n", expect);
	ck_assert_str_eq(buf, line);

	ck_assert(g_file_set_contents(path, POOL_OK, -1, NULL));
	cfg = vs_config_load_or_exit("prog", path);
	ck_assert_str_eq(cfg->path, path);
	vs_config_free(cfg);
	g_unlink(path);
	g_rmdir(dir);
}
END_TEST

/*
 * [nginx] upstream and zone and [apache] balancer go into the load balancer's
 * config and URLs as one token: check-config refuses what the drivers would
 * refuse at run time, with the same rule (vs_valid_lb_name()).
 */
START_TEST(test_lb_names)
{
	static const struct {
		const char *group, *key, *value;
	} refused[] = {
	    {"nginx", "upstream", "web.1"},  {"nginx", "upstream", "web+1"},
	    {"nginx", "upstream", "-web"},   {"nginx", "upstream", "_web"},
	    {"nginx", "zone", "zone.web"},   {"nginx", "zone", "z+1"},
	    {"apache", "balancer", "web.2"}, {"apache", "balancer", "a+b"},
	    {"apache", "balancer", "web/2"}, {"apache", "balancer", "w%41"},
	};
	g_autofree char *long_name = g_strnfill(65, 'a');

	for (size_t i = 0; i < G_N_ELEMENTS(refused); i++) {
		g_autofree char *text = g_strdup_printf("[%s]\n\n%s = %s\n", refused[i].group,
		                                        refused[i].key, refused[i].value);
		g_autofree char *want =
		    g_strdup_printf("t.conf:3: [%s] %s: '%s' is not a valid load-balancer name",
		                    refused[i].group, refused[i].key, refused[i].value);
		ck_assert(!vs_valid_lb_name(refused[i].value));
		expect_error(text, want);
	}
	g_autofree char *too_long = g_strdup_printf("[nginx]\nupstream = %s\n", long_name);
	expect_error(too_long, "t.conf:2: [nginx] upstream: 'aaaa");

	vs_config *cfg = load_ok("[nginx]\nupstream = Web_2-b\nzone = web_zone\n"
	                         "[apache]\nbalancer = b-2\n");
	ck_assert_str_eq(cfg->nginx_upstream, "Web_2-b");
	ck_assert_str_eq(cfg->nginx_zone, "web_zone");
	ck_assert_str_eq(cfg->apache_balancer, "b-2");
	ck_assert(vs_valid_lb_name(cfg->nginx_upstream) && vs_valid_lb_name(cfg->apache_balancer));
	vs_config_free(cfg);

	/* what check-config does with it: FILE:LINE on stderr, exit status 2 */
	g_autofree char *dir = g_dir_make_tmp("vs-config-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, "lb.conf", NULL);
	char buf[512] = {0};
	int fds[2], status;
	pid_t pid;

	ck_assert(g_file_set_contents(path, "[apache]\nbalancer = web.2\n", -1, NULL));
	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(fds[1], 2);
		vs_config_load_or_exit("prog", path);
		_exit(0);
	}
	close(fds[1]);
	ck_assert_int_gt(read(fds[0], buf, sizeof(buf) - 1), 0);
	close(fds[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 2);
	g_autofree char *want = g_strdup_printf("prog: %s:2: [apache] balancer: 'web.2'", path);
	ck_assert_msg(g_str_has_prefix(buf, want), "got '%s'", buf);
	g_unlink(path);
	g_rmdir(dir);
}
END_TEST

START_TEST(test_contrib_example)
{
	GError *err = NULL;
	g_autofree char *path = g_build_filename(TOP_SRCDIR, "contrib", "virtscale.conf", NULL);
	vs_config *cfg = vs_config_load(path, &err);

	ck_assert_msg(cfg != NULL, "%s", err ? err->message : "");
	ck_assert_uint_ge(cfg->pools->len, 1);
	ck_assert_ptr_nonnull(vs_config_find_pool(cfg, "web"));
	vs_config_free(cfg);
}
END_TEST

/*
 * Every key of the table appears in the example file (set or commented out,
 * in its group) and in virtscale.conf(5): adding a key without documenting
 * it fails here.
 */
START_TEST(test_every_key_documented)
{
	g_autofree char *example = vs_test_read_source("contrib/virtscale.conf");
	g_autofree char *manual = vs_test_read_source("docs/virtscale.conf.5");
	g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_auto(GStrv) lines = NULL;
	const char *group = NULL, *name;
	g_autofree char *current = g_strdup("");
	size_t n = 0;

	lines = g_strsplit(example, "\n", -1);
	for (char **l = lines; *l; l++) {
		const char *p = *l;
		size_t klen;

		if (p[0] == ';' && p[1] == '[')
			p++; /* an optional group, e.g. ;[host a] */
		if (p[0] == '[') {
			g_free(current);
			current = g_strndup(p + 1, strcspn(p + 1, " ]"));
			continue;
		}
		if (p[0] == ';')
			p++;
		klen = strspn(p, "abcdefghijklmnopqrstuvwxyz_");
		if (klen > 0 && g_str_has_prefix(p + klen, " = "))
			g_hash_table_add(seen, g_strdup_printf("%s/%.*s", current, (int)klen, p));
	}
	while (vs_config_key_at(n, &group, &name)) {
		g_autofree char *k = g_strdup_printf("%s/%s", group, name);
		g_autofree char *man = g_strdup_printf(".BR %s \"", name);

		ck_assert_msg(g_hash_table_contains(seen, k),
		              "%s missing in contrib/virtscale.conf", k);
		ck_assert_msg(strstr(manual, man) != NULL, "%s missing in virtscale.conf(5)", k);
		n++;
	}
	ck_assert_uint_gt(n, 60);
	ck_assert_uint_eq(g_hash_table_size(seen), n); /* and nothing unknown in the example */
}
END_TEST

static unsigned long lines_in(const GString *s)
{
	unsigned long n = 0;

	for (gsize i = 0; i < s->len; i++)
		n += s->str[i] == '\n';
	return n;
}

/*
 * The example file with a few random bytes changed, inserted or deleted:
 * never a crash, and every refusal names a line of the file.
 */
START_TEST(test_mutation_fuzz)
{
	size_t len = 0;
	g_autofree char *example = vs_test_read_source_len("contrib/virtscale.conf", &len);
	GRand *rand = g_rand_new_with_seed(2026);
	unsigned refused = 0;

	for (int round = 0; round < 3000; round++) {
		GString *s = g_string_new_len(example, (gssize)len);
		int edits = g_rand_int_range(rand, 1, 4);
		GError *err = NULL;
		vs_config *cfg;

		for (int e = 0; e < edits; e++) {
			gsize at = (gsize)g_rand_int_range(rand, 0, (gint32)s->len);
			char c = (char)g_rand_int_range(rand, 0, 256);

			switch (g_rand_int_range(rand, 0, 3)) {
			case 0:
				s->str[at] = c;
				break;
			case 1:
				g_string_insert_c(s, (gssize)at, c);
				break;
			default:
				g_string_erase(s, (gssize)at, 1);
			}
		}
		cfg = vs_config_load_from_data(s->str, s->len, "fuzz", &err);
		if (cfg) {
			ck_assert_ptr_nonnull(cfg->hosts);
			vs_config_free(cfg);
		} else {
			unsigned long line = 0;
			const char *p = err->message + strlen("fuzz:");

			ck_assert_msg(g_str_has_prefix(err->message, "fuzz:") &&
			                  g_ascii_isdigit(*p),
			              "no line in '%s'", err->message);
			line = strtoul(p, NULL, 10);
			ck_assert_uint_ge(line, 1);
			ck_assert_uint_le(line, lines_in(s) + 1);
			g_error_free(err);
			refused++;
		}
		g_string_free(s, TRUE);
	}
	ck_assert_uint_gt(refused, 100); /* the mutations do hit */
	g_rand_free(rand);
}
END_TEST

START_TEST(test_enum_names)
{
	ck_assert_str_eq(vs_policy_kind_name(VS_POLICY_AVERAGE), "average");
	ck_assert_str_eq(vs_policy_kind_name(VS_POLICY_RATIO), "ratio");
	ck_assert_str_eq(vs_policy_kind_name(VS_POLICY_PROPORTIONAL), "proportional");
	ck_assert_str_eq(vs_policy_kind_name((vs_policy_kind)42), "unknown");
	ck_assert_str_eq(vs_lb_kind_name(VS_LB_NONE), "none");
	ck_assert_str_eq(vs_lb_kind_name(VS_LB_NGINX), "nginx");
	ck_assert_str_eq(vs_lb_kind_name(VS_LB_APACHE), "apache");
	ck_assert_str_eq(vs_lb_kind_name((vs_lb_kind)-1), "unknown");
	ck_assert(vs_config_error_quark() == VS_CONFIG_ERROR);
	ck_assert(vs_config_error_quark() != 0);
}
END_TEST

/* Warm instances and multi-step scaling: defaults, values, ranges. */
START_TEST(test_warm_and_step_keys)
{
	g_autoptr(vs_config) d = load_ok(POOL_OK);
	const vs_pool_config *p = d->pools->pdata[0];

	ck_assert_uint_eq(p->warm, 0);
	ck_assert_int_eq(p->warm_mode, VS_WARM_PAUSED);
	ck_assert_uint_eq(p->warm_memory, 0);
	ck_assert_uint_eq(p->step, 1);
	ck_assert_uint_eq(p->max_parallel, 1);
	ck_assert_uint_eq(p->stabilization_up, 0);
	ck_assert_uint_eq(p->busy_sessions, 0);
	ck_assert_uint_eq(p->warmup, 0);

	g_autoptr(vs_config) c =
	    load_ok(POOL_OK "warm = 2\nwarm_mode = saved\nwarm_memory = 512\nstep = 3\n"
	                    "max_parallel = 4\nstabilization_up = 60\nbusy_sessions = 5\n"
	                    "warmup = 30\n");
	p = c->pools->pdata[0];
	ck_assert_uint_eq(p->warm, 2);
	ck_assert_int_eq(p->warm_mode, VS_WARM_SAVED);
	ck_assert_uint_eq(p->warm_memory, 512);
	ck_assert_uint_eq(p->step, 3);
	ck_assert_uint_eq(p->max_parallel, 4);
	ck_assert_uint_eq(p->stabilization_up, 60);
	ck_assert_uint_eq(p->busy_sessions, 5);
	ck_assert_uint_eq(p->warmup, 30);

	expect_error(POOL_OK "warm = -1\n", "t.conf:4: [pool web] warm:");
	expect_error(POOL_OK "warm = 1001\n", "t.conf:4: [pool web] warm:");
	expect_error(POOL_OK "warm_mode = frozen\n", "t.conf:4: [pool web] warm_mode:");
	expect_error(POOL_OK "step = 0\n", "t.conf:4: [pool web] step:");
	expect_error(POOL_OK "max_parallel = 0\n", "t.conf:4: [pool web] max_parallel:");
	expect_error(POOL_OK "max_parallel = 65\n", "t.conf:4: [pool web] max_parallel:");
}
END_TEST

Suite *vs_test_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("config");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_empty_file_gives_defaults);
	tcase_add_test(tc, test_pool_defaults);
	tcase_add_test(tc, test_full_file);
	tcase_add_test(tc, test_intake_access_keys);
	tcase_add_test(tc, test_byte_order_mark);
	tcase_add_test(tc, test_booleans);
	tcase_add_test(tc, test_mail_auth_needs_tls);
	tcase_add_test(tc, test_uri_single);
	tcase_add_test(tc, test_syntax_errors);
	tcase_add_test(tc, test_duplicates);
	tcase_add_test(tc, test_bad_values);
	tcase_add_test(tc, test_name_pattern);
	tcase_add_test(tc, test_required_and_cross_checks);
	tcase_add_test(tc, test_address_cidr);
	tcase_add_test(tc, test_hosts);
	tcase_add_test(tc, test_hostile_bytes);
	tcase_add_test(tc, test_long_lines);
	tcase_add_test(tc, test_load_file_and_exit);
	tcase_add_test(tc, test_lb_names);
	tcase_add_test(tc, test_contrib_example);
	tcase_add_test(tc, test_every_key_documented);
	tcase_add_test(tc, test_mutation_fuzz);
	tcase_add_test(tc, test_enum_names);
	tcase_add_test(tc, test_warm_and_step_keys);
	suite_add_tcase(s, tc);
	return s;
}
