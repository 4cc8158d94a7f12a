/*
 * vs-pool.c - pools: which domains belong to a pool, where each serves,
 * and the pool's aggregates (instance count, average CPU and sessions,
 * per-instance ratio Ai/SMax). Everything here is pure except
 * vs_pool_collect_sessions(), which asks the pool's session source.
 *
 * Membership: a domain tagged with virtscale metadata belongs to the pool
 * its tag names (and to no other, whatever its name); an untagged domain
 * belongs when its name matches the pool's name_pattern. The template is
 * never a member: it is the shut-off image clones are made from.
 */
#include "config.h"

#include "vs-pool.h"

#include <arpa/inet.h>
#include <libvirt/libvirt.h>
#include <string.h>

#define SESSIONS_HTTP_TIMEOUT_MS 2000
#define SESSIONS_HTTP_MAX_BYTES  (64 * 1024)
#define BALANCER_MAX_BYTES       (4 * 1024 * 1024)

/* G_DEFINE_QUARK stringifies its first argument: keep clang-format away */
/* clang-format off */
G_DEFINE_QUARK(vs-pool-error-quark, vs_pool_error)
/* clang-format on */

/* name_pattern split around its one %d / %0Nd. */
typedef struct name_pattern {
	const char *prefix;
	size_t prefix_len;
	const char *suffix;
	unsigned width; /* zero-padded width, 0 = none */
} name_pattern;

static bool split_pattern(const char *pattern, name_pattern *np)
{
	const char *pct;

	if (!pattern || !(pct = strchr(pattern, '%')))
		return false;
	np->prefix = pattern;
	np->prefix_len = (size_t)(pct - pattern);
	np->width = 0;
	pct++;
	if (pct[0] == '0' && pct[1] >= '1' && pct[1] <= '9') {
		np->width = (unsigned)(pct[1] - '0');
		pct += 2;
	}
	if (*pct != 'd' || strchr(pct + 1, '%'))
		return false;
	np->suffix = pct + 1;
	return true;
}

/**
 * vs_pool_member_name:
 * @pool: the pool
 * @index: the clone's number
 *
 * Returns name_pattern with @index in place of its %d / %0Nd ("web-03"),
 * newly allocated, or NULL when the pool has no usable pattern. Built by
 * hand, never by passing the configured pattern to printf.
 */
char *vs_pool_member_name(const vs_pool_config *pool, unsigned index)
{
	name_pattern np;

	if (!pool || !split_pattern(pool->name_pattern, &np))
		return NULL;
	return g_strdup_printf("%.*s%0*u%s", (int)np.prefix_len, np.prefix, (int)np.width, index,
	                       np.suffix);
}

/**
 * vs_pool_match_name:
 * @pool: the pool
 * @name: a domain name
 * @index: set to the clone's number on a match (may be NULL)
 *
 * Returns true when @name is exactly what vs_pool_member_name() gives for
 * some number (so "web-3" does not match "web-%02d").
 */
bool vs_pool_match_name(const vs_pool_config *pool, const char *name, unsigned *index)
{
	name_pattern np;
	size_t len, slen;
	const char *digits;
	size_t ndigits;
	unsigned v = 0;
	g_autofree char *expected = NULL;

	if (!pool || !name || !split_pattern(pool->name_pattern, &np))
		return false;
	len = strlen(name);
	slen = strlen(np.suffix);
	if (len < np.prefix_len + slen + 1 || strncmp(name, np.prefix, np.prefix_len) != 0 ||
	    strcmp(name + len - slen, np.suffix) != 0)
		return false;
	digits = name + np.prefix_len;
	ndigits = len - np.prefix_len - slen;
	if (ndigits > 9)
		return false;
	for (size_t i = 0; i < ndigits; i++) {
		if (digits[i] < '0' || digits[i] > '9')
			return false;
		v = v * 10 + (unsigned)(digits[i] - '0');
	}
	expected = vs_pool_member_name(pool, v);
	if (!expected || strcmp(expected, name) != 0)
		return false;
	if (index)
		*index = v;
	return true;
}

static int compare_backends(gconstpointer a, gconstpointer b)
{
	const vs_backend *x = a, *y = b;

	if (x->index != y->index)
		return x->index < y->index ? -1 : 1;
	return g_strcmp0(x->domain->name, y->domain->name);
}

/**
 * vs_pool_view_build:
 * @pool: the pool
 * @snap: a snapshot (must outlive the view: backends borrow its domains)
 *
 * Returns the pool's members, sorted by clone number, with their running
 * state, CPU% and backend endpoint (from the domain's virtscale metadata
 * address). Sessions are unknown until vs_pool_view_set_sessions() or
 * vs_pool_collect_sessions(); the aggregates are computed once here.
 */
vs_pool_view *vs_pool_view_build(const vs_pool_config *pool, const vs_snapshot *snap)
{
	vs_pool_view *v = g_new0(vs_pool_view, 1);
	GArray *members = g_array_new(FALSE, TRUE, sizeof(vs_backend));

	v->cfg = pool;
	for (guint i = 0; snap && snap->domains && i < snap->domains->len; i++) {
		const vs_domain_stats *d = g_ptr_array_index(snap->domains, i);
		vs_backend b = {.domain = d, .cpu_percent = -1, .lb_state = VS_LB_STATE_UNKNOWN};
		bool by_name;

		if (!d->name || (pool->template_name && strcmp(d->name, pool->template_name) == 0))
			continue;
		by_name = vs_pool_match_name(pool, d->name, &b.index);
		if (d->meta_pool ? strcmp(d->meta_pool, pool->name) != 0 : !by_name)
			continue;
		b.running = d->state == VIR_DOMAIN_RUNNING;
		b.cpu_percent = d->cpu_percent_of_vcpus;
		b.have_endpoint =
		    d->meta_address && vs_endpoint_parse(d->meta_address, &b.endpoint);
		g_array_append_val(members, b);
	}
	g_array_sort(members, compare_backends);
	v->n_backends = members->len;
	v->backends = (vs_backend *)g_array_free(members, FALSE);
	vs_pool_view_aggregate(v);
	return v;
}

/**
 * vs_pool_view_set_sessions:
 * @v: the view
 * @i: the backend's position in @v->backends
 * @sessions: its active sessions
 *
 * Sets the count and the ratio Ai/SMax. Call vs_pool_view_aggregate() after
 * the last change.
 */
void vs_pool_view_set_sessions(vs_pool_view *v, size_t i, unsigned sessions)
{
	vs_backend *b;

	if (!v || i >= v->n_backends)
		return;
	b = &v->backends[i];
	b->have_sessions = true;
	b->sessions = sessions;
	b->ratio = v->cfg->session_capacity > 0 ? sessions / v->cfg->session_capacity : 0;
}

/**
 * vs_pool_view_aggregate:
 * @v: the view
 *
 * Recomputes the pool's figures from its running members: the count, the
 * average CPU% over those with a CPU figure, the average sessions and the
 * min/max ratio over those with a session count, and the total sessions.
 * A figure with no member to average over is -1.
 */
void vs_pool_view_aggregate(vs_pool_view *v)
{
	double cpu_sum = 0, sess_sum = 0;
	unsigned cpu_n = 0, sess_n = 0;

	v->n_running = 0;
	v->total_sessions = 0;
	v->min_ratio = v->max_ratio = -1;
	for (size_t i = 0; i < v->n_backends; i++) {
		const vs_backend *b = &v->backends[i];

		if (!b->running)
			continue;
		v->n_running++;
		if (b->cpu_percent >= 0) {
			cpu_sum += b->cpu_percent;
			cpu_n++;
		}
		if (b->have_sessions) {
			sess_sum += b->sessions;
			sess_n++;
			v->total_sessions += b->sessions;
			if (v->min_ratio < 0 || b->ratio < v->min_ratio)
				v->min_ratio = b->ratio;
			if (b->ratio > v->max_ratio)
				v->max_ratio = b->ratio;
		}
	}
	v->avg_cpu = cpu_n ? cpu_sum / cpu_n : -1;
	v->avg_sessions = sess_n ? sess_sum / sess_n : -1;
}

/**
 * vs_pool_view_free:
 * @v: a view or NULL
 */
void vs_pool_view_free(vs_pool_view *v)
{
	if (!v)
		return;
	g_free(v->backends);
	g_free(v);
}

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

static vs_lb_state lb_state_of(const vs_balancer_worker *w)
{
	if (w->disabled || w->stopped)
		return VS_LB_STATE_DISABLED;
	if (w->draining)
		return VS_LB_STATE_DRAINING;
	return VS_LB_STATE_ENABLED;
}

static bool collect_sockdiag(vs_pool_view *v, GError **error)
{
	g_autofree vs_endpoint *eps = g_new0(vs_endpoint, v->n_backends + 1);
	g_autofree size_t *which = g_new0(size_t, v->n_backends + 1);
	g_autofree unsigned *counts = NULL;
	size_t n = 0;

	for (size_t i = 0; i < v->n_backends; i++) {
		if (v->backends[i].have_endpoint) {
			eps[n] = v->backends[i].endpoint;
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
		    error, vs_pool_error_quark(), 1,
		    "pool %s: sessions = apache needs [apache] balancer_manager and balancer",
		    v->cfg->name);
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
		for (size_t i = 0; i < v->n_backends; i++) {
			if (v->backends[i].have_endpoint &&
			    same_endpoint(&v->backends[i].endpoint, &ep)) {
				vs_pool_view_set_sessions(v, i, worker->busy);
				v->backends[i].lb_state = lb_state_of(worker);
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
		g_set_error(error, vs_pool_error_quark(), 1,
		            "pool %s: sessions = http: without URL", v->cfg->name);
		return false;
	}
	for (size_t i = 0; i < v->n_backends; i++) {
		vs_backend *b = &v->backends[i];
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
			g_set_error(&err, vs_pool_error_quark(), 2, "%s: no session count", url);
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
	for (size_t i = 0; i < v->n_backends; i++)
		v->backends[i].have_sessions = false;
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

/**
 * vs_lb_state_name:
 * @s: a load-balancer state
 *
 * Returns "unknown", "enabled", "draining" or "disabled".
 */
const char *vs_lb_state_name(vs_lb_state s)
{
	switch (s) {
	case VS_LB_STATE_UNKNOWN:
		return "unknown";
	case VS_LB_STATE_ENABLED:
		return "enabled";
	case VS_LB_STATE_DRAINING:
		return "draining";
	case VS_LB_STATE_DISABLED:
		return "disabled";
	}
	return "unknown";
}
