/*
 * vs-pool-sessions.c - the active sessions of every member, from the pool's
 * configured source: sock_diag (the proxy's established connections to
 * each member), Apache's balancer-manager (each worker's busy count, and its
 * state) or each member's own status page (http:URL). Used alike by the
 * monitors (vsBackendSessions, current_sessions) and the actuator (which
 * member a scale-in stops, the balancer weights).
 */
#include "config.h"

#include "vs-pool-sessions.h"
#include "vs-validate.h"

#include <arpa/inet.h>
#include <string.h>

#define SESSIONS_HTTP_TIMEOUT_MS 2000
#define SESSIONS_HTTP_MAX_BYTES  (64 * 1024)
#define BALANCER_MAX_BYTES       (4 * 1024 * 1024)

/* Compared as binary addresses: "::1" and "0:0::1" are the same backend. */
static bool same_endpoint(const vs_endpoint *a, const vs_endpoint *b)
{
	unsigned char x[16], y[16];
	int fam = strchr(a->host, ':') ? AF_INET6 : AF_INET;

	if (a->port != b->port || (strchr(b->host, ':') != NULL) != (fam == AF_INET6))
		return false;
	if (inet_pton(fam, a->host, x) != 1 || inet_pton(fam, b->host, y) != 1)
		return false;
	return memcmp(x, y, fam == AF_INET6 ? 16 : 4) == 0;
}

/* "http://127.0.0.1:18100/path" -> endpoint (default port by scheme). */
static bool endpoint_from_url(const char *url, vs_endpoint *ep)
{
	const char *p = strstr(url, "://");
	g_autofree char *authority = NULL;
	bool tls;

	if (!p)
		return false;
	tls = g_ascii_strncasecmp(url, "https", 5) == 0;
	p += 3;
	authority = g_strndup(p, strcspn(p, "/?#"));
	if (vs_endpoint_parse(authority, ep))
		return true;
	/* No port: the scheme's. */
	g_autofree char *with_port = g_strdup_printf("%s:%u", authority, tls ? 443 : 80);

	return vs_endpoint_parse(with_port, ep);
}

static bool collect_sockdiag(vs_pool_view *v, GError **error)
{
	g_autofree vs_endpoint *eps = g_new0(vs_endpoint, v->members->len + 1);
	g_autofree guint *which = g_new0(guint, v->members->len + 1);
	g_autofree unsigned *counts = NULL;
	size_t n = 0;

	for (guint i = 0; i < v->members->len; i++) {
		const vs_member *m = v->members->pdata[i];

		if (m->have_endpoint) {
			eps[n] = m->endpoint;
			which[n++] = i;
		}
	}
	counts = g_new0(unsigned, n + 1);
	/* The proxy's connections to each backend: their remote end is it. */
	if (!vs_sockdiag_count(eps, n, counts, error))
		return false;
	for (size_t k = 0; k < n; k++)
		vs_pool_view_set_sessions(v, which[k], counts[k]);
	return true;
}

static bool collect_apache(const vs_config *cfg, vs_pool_view *v, GError **error)
{
	g_autofree char *url = NULL;
	g_autofree char *body = NULL;
	g_autoptr(vs_balancer_state) st = NULL;
	size_t len = 0;
	unsigned timeout_ms = (cfg->apache_timeout ? cfg->apache_timeout : 5) * 1000;

	if (!cfg->apache_balancer_manager || !cfg->apache_balancer) {
		g_set_error(
		    error, VS_POOL_ERROR, VS_POOL_ERROR_CONFIG,
		    "pool %s: sessions = apache needs [apache] balancer_manager and balancer",
		    v->cfg->name);
		return false;
	}
	if (!vs_valid_lb_name(cfg->apache_balancer)) {
		/* it goes into the query string as it is */
		g_set_error(error, VS_POOL_ERROR, VS_POOL_ERROR_CONFIG,
		            "[apache] balancer '%s' is not a plain name", cfg->apache_balancer);
		return false;
	}
	url = g_strdup_printf("%s%cb=%s&xml=1", cfg->apache_balancer_manager,
	                      strchr(cfg->apache_balancer_manager, '?') ? '&' : '?',
	                      cfg->apache_balancer);
	body = vs_http_fetch(url, timeout_ms, BALANCER_MAX_BYTES, &len, error);
	if (!body)
		return false;
	st = vs_balancer_parse_xml(body, len, cfg->apache_balancer, error);
	if (!st)
		return false;
	for (guint w = 0; w < st->workers->len; w++) {
		const vs_balancer_worker *worker = g_ptr_array_index(st->workers, w);
		vs_endpoint ep;

		if (!endpoint_from_url(worker->name, &ep))
			continue;
		for (guint i = 0; i < v->members->len; i++) {
			vs_member *m = v->members->pdata[i];

			if (m->have_endpoint && same_endpoint(&m->endpoint, &ep)) {
				vs_pool_view_set_sessions(v, i, worker->busy);
				m->lb_state = vs_balancer_worker_state(worker);
			}
		}
	}
	return true;
}

/* sessions_url with %a (address, bracketed if IPv6), %p (port), %% ('%'). */
static char *expand_sessions_url(const char *tmpl, const vs_endpoint *ep)
{
	GString *s = g_string_new(NULL);

	for (const char *p = tmpl; *p; p++) {
		if (p[0] == '%' && p[1] == 'a') {
			if (strchr(ep->host, ':'))
				g_string_append_printf(s, "[%s]", ep->host);
			else
				g_string_append(s, ep->host);
			p++;
		} else if (p[0] == '%' && p[1] == 'p') {
			g_string_append_printf(s, "%u", ep->port);
			p++;
		} else if (p[0] == '%' && p[1] == '%') {
			g_string_append_c(s, '%');
			p++;
		} else {
			g_string_append_c(s, *p);
		}
	}
	return g_string_free(s, FALSE);
}

static bool collect_http(vs_pool_view *v, GError **error)
{
	bool ok = true;

	if (!v->cfg->sessions_url) {
		g_set_error(error, VS_POOL_ERROR, VS_POOL_ERROR_CONFIG,
		            "pool %s: sessions = http: without URL", v->cfg->name);
		return false;
	}
	for (guint i = 0; i < v->members->len; i++) {
		const vs_member *b = v->members->pdata[i];
		g_autofree char *url = NULL;
		g_autofree char *body = NULL;
		g_autoptr(GError) err = NULL;
		size_t len = 0;
		unsigned count;

		if (!b->have_endpoint || !b->running)
			continue;
		url = expand_sessions_url(v->cfg->sessions_url, &b->endpoint);
		body = vs_http_fetch(url, SESSIONS_HTTP_TIMEOUT_MS, SESSIONS_HTTP_MAX_BYTES, &len,
		                     &err);
		if (body && !vs_parse_session_count(body, len, &count))
			g_set_error(&err, VS_POOL_ERROR, VS_POOL_ERROR_NO_COUNT,
			            "%s: no session count", url);
		if (err) {
			/* One silent backend must not hide the others' figures. */
			if (ok)
				g_propagate_error(error, g_steal_pointer(&err));
			ok = false;
			continue;
		}
		vs_pool_view_set_sessions(v, i, count);
	}
	return ok;
}

/**
 * vs_pool_collect_sessions:
 * @cfg: the whole configuration ([apache] for sessions = apache)
 * @v: the pool's view; members' sessions (and, from Apache, LB states) are set
 * @error: set on failure
 *
 * Asks the pool's session source once: sock_diag (one dump for every
 * member), Apache's balancer-manager (one request, each worker's busy), or
 * each running member's own status page (http:URL). Then recomputes the
 * aggregates. Does I/O: call from a collector or worker thread only.
 *
 * Returns false with @error when the source failed; with http:URL the
 * members that did answer keep their figures.
 */
bool vs_pool_collect_sessions(const vs_config *cfg, vs_pool_view *v, GError **error)
{
	bool ok = false;

	if (!v)
		return false;
	for (guint i = 0; i < v->members->len; i++) {
		vs_member *m = v->members->pdata[i];

		m->sessions = -1;
		m->ratio = -1;
	}
	switch (v->cfg->sessions) {
	case VS_SESSIONS_SOCKDIAG:
		ok = collect_sockdiag(v, error);
		break;
	case VS_SESSIONS_APACHE:
		ok = collect_apache(cfg, v, error);
		break;
	case VS_SESSIONS_HTTP:
		ok = collect_http(v, error);
		break;
	}
	vs_pool_view_aggregate(v);
	return ok;
}
