/*
 * vs-sessions-count.c - prints active sessions per endpoint, one count per
 * line, through lib/'s session sources. Used by integration tests and
 * benchmarks.
 *
 *   vs-sessions-count [--local] HOST:PORT...   sock_diag, remote (or local) end
 *   vs-sessions-count --http URL...            a status page, parsed
 *   vs-sessions-count --balancer URL NAME      balancer-manager XML: "name busy"
 *   vs-sessions-count --pool CONFIG POOL DOMAIN=ADDR...
 *        the pool's configured source through vs_pool_collect_sessions(), for
 *        running domains DOMAIN (tagged for POOL) serving at ADDR: prints
 *        "DOMAIN SESSIONS LB-STATE" per member ("-" = unknown), then
 *        "pool RUNNING TOTAL AVG MIN-RATIO MAX-RATIO".
 *
 * Exit status: 0 on success, 1 on a source error, 2 on bad arguments.
 */
#include "config.h"

#include "vs-pool-sessions.h"
#include "vs-sessions.h"

#include <libvirt/libvirt.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>

#define HTTP_TIMEOUT_MS 5000
#define HTTP_MAX_BYTES  (1024 * 1024)

static int usage(void)
{
	fprintf(stderr, "usage: vs-sessions-count [--local] HOST:PORT...\n"
	                "       vs-sessions-count --http URL...\n"
	                "       vs-sessions-count --balancer URL BALANCER\n");
	return 2;
}

static int count_sockdiag(bool local, char **args, int n)
{
	g_autofree vs_endpoint *eps = g_new0(vs_endpoint, n);
	g_autofree unsigned *counts = g_new0(unsigned, n);
	g_autoptr(GError) error = NULL;

	for (int i = 0; i < n; i++) {
		if (!vs_endpoint_parse(args[i], &eps[i])) {
			fprintf(stderr, "vs-sessions-count: not a numeric HOST:PORT: '%s'\n",
			        args[i]);
			return 2;
		}
	}
	if (!(local ? vs_sockdiag_count_local : vs_sockdiag_count)(eps, (size_t)n, counts,
	                                                           &error)) {
		fprintf(stderr, "vs-sessions-count: %s\n", error->message);
		return 1;
	}
	for (int i = 0; i < n; i++)
		printf("%u\n", counts[i]);
	return 0;
}

static int count_http(char **urls, int n)
{
	for (int i = 0; i < n; i++) {
		g_autoptr(GError) error = NULL;
		g_autofree char *body = NULL;
		size_t len = 0;
		unsigned count;

		body = vs_http_fetch(urls[i], HTTP_TIMEOUT_MS, HTTP_MAX_BYTES, &len, &error);
		if (!body) {
			fprintf(stderr, "vs-sessions-count: %s\n", error->message);
			return 1;
		}
		if (!vs_parse_session_count(body, len, &count)) {
			fprintf(stderr, "vs-sessions-count: %s: no session count in the answer\n",
			        urls[i]);
			return 1;
		}
		printf("%u\n", count);
	}
	return 0;
}

static int count_balancer(const char *url, const char *balancer)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *body = NULL;
	g_autoptr(vs_balancer_state) st = NULL;
	size_t len = 0;

	body = vs_http_fetch(url, HTTP_TIMEOUT_MS, HTTP_MAX_BYTES, &len, &error);
	if (body)
		st = vs_balancer_parse_xml(body, len, balancer, &error);
	if (!st) {
		fprintf(stderr, "vs-sessions-count: %s\n", error->message);
		return 1;
	}
	for (guint i = 0; i < st->workers->len; i++) {
		const vs_balancer_worker *w = g_ptr_array_index(st->workers, i);

		printf("%s %u\n", w->name, w->busy);
	}
	return 0;
}

static int count_pool(const char *path, const char *name, char **members, int n)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(vs_config) cfg = vs_config_load(path, &error);
	g_autoptr(vs_snapshot) snap = NULL;
	g_autoptr(vs_pool_view) v = NULL;
	const vs_pool_config *pool;
	bool ok;

	if (!cfg) {
		fprintf(stderr, "vs-sessions-count: %s\n", error->message);
		return 2;
	}
	pool = vs_config_find_pool(cfg, name);
	if (!pool) {
		fprintf(stderr, "vs-sessions-count: no pool '%s' in %s\n", name, path);
		return 2;
	}
	snap = vs_snapshot_new();
	for (int i = 0; i < n; i++) {
		const char *eq = strchr(members[i], '=');
		vs_domain_stats *d;

		if (!eq || eq == members[i]) {
			fprintf(stderr, "vs-sessions-count: expected DOMAIN=ADDR: '%s'\n",
			        members[i]);
			return 2;
		}
		d = vs_domain_stats_new();
		d->name = g_strndup(members[i], (gsize)(eq - members[i]));
		d->state = VIR_DOMAIN_RUNNING;
		d->meta_pool = g_strdup(name);
		d->meta_address = g_strdup(eq + 1);
		g_ptr_array_add(snap->domains, d);
	}
	for (guint i = 0; i < snap->domains->len; i++) {
		vs_domain_stats *d = snap->domains->pdata[i];
		d->host_uri = g_strdup(pool->uri);
	}
	v = vs_pool_view_from_snapshot(pool, snap);
	ok = vs_pool_collect_sessions(cfg, v, &error);
	for (guint i = 0; i < v->members->len; i++) {
		const vs_member *m = v->members->pdata[i];

		if (m->sessions >= 0)
			printf("%s %d %s\n", m->name, m->sessions, vs_lb_state_name(m->lb_state));
		else
			printf("%s - %s\n", m->name, vs_lb_state_name(m->lb_state));
	}
	printf("pool %u %u %.2f %.2f %.2f\n", v->n_running, v->total_sessions, v->avg_sessions,
	       v->min_ratio, v->max_ratio);
	if (!ok) {
		fprintf(stderr, "vs-sessions-count: %s\n", error->message);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	bool local = false;
	int first = 1;

	signal(SIGPIPE, SIG_IGN);
	if (argc < 2)
		return usage();
	if (strcmp(argv[1], "--http") == 0)
		return argc > 2 ? count_http(argv + 2, argc - 2) : usage();
	if (strcmp(argv[1], "--balancer") == 0)
		return argc == 4 ? count_balancer(argv[2], argv[3]) : usage();
	if (strcmp(argv[1], "--pool") == 0)
		return argc > 4 ? count_pool(argv[2], argv[3], argv + 4, argc - 4) : usage();
	if (strcmp(argv[1], "--local") == 0) {
		local = true;
		first = 2;
	}
	if (first >= argc || argv[first][0] == '-')
		return usage();
	return count_sockdiag(local, argv + first, argc - first);
}
