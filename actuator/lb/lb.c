/* lb.c - load-balancer driver dispatch; see lb.h. */
#include "config.h"

#include "lb-internal.h"

#include "vs-sessions.h"
#include "vs-validate.h"

#include <netdb.h>
#include <string.h>
#include <sys/socket.h>

/* G_DEFINE_QUARK stringifies its first argument: keep clang-format away */
/* clang-format off */
G_DEFINE_QUARK(vs-lb-error-quark, vs_lb_error)
/* clang-format on */

static const vs_lb_ops *lb_ops_for(vs_lb_kind kind)
{
	switch (kind) {
	case VS_LB_NONE:
		return &vs_lb_none_ops;
	case VS_LB_NGINX:
		return &vs_lb_nginx_ops;
	case VS_LB_APACHE:
		return &vs_lb_apache_ops;
	}
	return NULL;
}

/**
 * vs_lb_open: opens the load-balancer driver configured for @pool.
 */
vs_lb *vs_lb_open(const vs_config *cfg, const vs_pool_config *pool, GError **error)
{
	const vs_lb_ops *ops = lb_ops_for(pool->lb);
	if (!ops) {
		g_set_error(error, VS_LB_ERROR, VS_LB_ERROR_FAILED,
		            "pool %s: load balancer '%s' is not supported by this build",
		            pool->name, vs_lb_kind_name(pool->lb));
		return NULL;
	}
	vs_lb *lb = g_new0(vs_lb, 1);
	lb->ops = ops;
	lb->cfg = cfg;
	lb->pool = pool;
	bool ok = true;
	if (pool->lb == VS_LB_NGINX)
		ok = vs_lb_nginx_init(lb, error);
	else if (pool->lb == VS_LB_APACHE)
		ok = vs_lb_apache_init(lb, error);
	if (!ok) {
		vs_lb_free(lb);
		return NULL;
	}
	return lb;
}

/**
 * vs_lb_free: closes the driver (its HTTP connection, ...).
 */
void vs_lb_free(vs_lb *lb)
{
	if (!lb)
		return;
	if (lb->ops->free)
		lb->ops->free(lb);
	g_free(lb);
}

/**
 * vs_lb_set_cancellable: see lb.h.
 */
void vs_lb_set_cancellable(vs_lb *lb, GCancellable *cancel)
{
	lb->cancel = cancel;
}

/* Every address reaches a driver only through here, so no driver can be
 * handed something that would inject syntax into its config or request. */
static bool lb_check_address(const char *address, GError **error)
{
	if (address && vs_valid_host_port(address))
		return true;
	char shown[128];
	vs_sanitize_line(address ? address : "(none)", shown, sizeof(shown));
	g_set_error(error, VS_LB_ERROR, VS_LB_ERROR_INVALID,
	            "invalid backend address \"%s\": expected host:port or [IPv6]:port", shown);
	return false;
}

/**
 * vs_lb_add: adds @address to the pool's balancer, enabled or not; see lb.h.
 */
bool vs_lb_add(vs_lb *lb, const char *address, bool enabled, GError **error)
{
	return lb_check_address(address, error) && lb->ops->add(lb, address, enabled, error);
}

/**
 * vs_lb_enable: sends new sessions to @address again.
 */
bool vs_lb_enable(vs_lb *lb, const char *address, GError **error)
{
	return lb_check_address(address, error) && lb->ops->enable(lb, address, error);
}

/**
 * vs_lb_drain: no new sessions to @address; open ones continue.
 */
bool vs_lb_drain(vs_lb *lb, const char *address, GError **error)
{
	return lb_check_address(address, error) && lb->ops->drain(lb, address, error);
}

/**
 * vs_lb_remove: no traffic at all to @address (removed where the balancer can).
 */
bool vs_lb_remove(vs_lb *lb, const char *address, GError **error)
{
	return lb_check_address(address, error) && lb->ops->remove(lb, address, error);
}

/**
 * vs_lb_list: the members as the balancer sees them (vs_lb_entry).
 */
GArray *vs_lb_list(vs_lb *lb, GError **error)
{
	return lb->ops->list(lb, error);
}

/**
 * vs_lb_set_weight: nginx `weight` or Apache load factor of @address.
 */
bool vs_lb_set_weight(vs_lb *lb, const char *address, unsigned weight, GError **error)
{
	if (!lb_check_address(address, error))
		return false;
	if (!lb->ops->set_weight) {
		g_set_error(error, VS_LB_ERROR, VS_LB_ERROR_FAILED,
		            "load balancer '%s' has no weights", lb->ops->name);
		return false;
	}
	return lb->ops->set_weight(lb, address, weight, error);
}

/**
 * vs_lb_refresh: a configuration change that membership does not show (the
 * nginx method after a restart, say) reaches the balancer; a no-op when
 * nothing changed or the driver renders nothing.
 */
bool vs_lb_refresh(vs_lb *lb, GError **error)
{
	return !lb->ops->refresh || lb->ops->refresh(lb, error);
}

/**
 * vs_lb_precheck: see lb.h.
 */
bool vs_lb_precheck(vs_lb *lb, const char *address, GError **error)
{
	if (address && !lb_check_address(address, error))
		return false;
	return !lb->ops->precheck || lb->ops->precheck(lb, address, error);
}

/**
 * vs_lb_same_address: true when @a and @b name the same backend; hostnames
 * and IPv6 literals are compared without case.
 */
bool vs_lb_same_address(const char *a, const char *b)
{
	return g_ascii_strcasecmp(a, b) == 0;
}

/* Splits a validated "host:port" / "[v6]:port". */
static bool split_host_port(const char *address, char *host, size_t hostsz, char **port)
{
	const char *colon = strrchr(address, ':');
	const char *h = address;
	size_t hlen;
	if (!colon)
		return false;
	hlen = (size_t)(colon - address);
	if (address[0] == '[') {
		h++;
		hlen -= 2;
	}
	if (hlen == 0 || hlen >= hostsz)
		return false;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	*port = (char *)colon + 1;
	return true;
}

/**
 * vs_lb_count_connections: established TCP connections from this host to
 * @address, counted with sock_diag; a hostname is resolved and every
 * address it has is counted.
 */
bool vs_lb_count_connections(const char *address, unsigned *count, GError **error)
{
	vs_endpoint eps[8];
	size_t n = 0;
	if (vs_endpoint_parse(address, &eps[0])) {
		n = 1;
	} else {
		char host[256];
		char *port;
		struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
		struct addrinfo *res = NULL;
		if (!split_host_port(address, host, sizeof(host), &port) ||
		    getaddrinfo(host, port, &hints, &res) != 0) {
			g_set_error(error, VS_LB_ERROR, VS_LB_ERROR_INVALID, "%s does not resolve",
			            address);
			return false;
		}
		for (struct addrinfo *ai = res; ai && n < G_N_ELEMENTS(eps); ai = ai->ai_next) {
			char numeric[64];
			if (getnameinfo(ai->ai_addr, ai->ai_addrlen, numeric, sizeof(numeric), NULL,
			                0, NI_NUMERICHOST) != 0)
				continue;
			g_autofree char *text = ai->ai_family == AF_INET6
			                            ? g_strdup_printf("[%s]:%s", numeric, port)
			                            : g_strdup_printf("%s:%s", numeric, port);
			if (vs_endpoint_parse(text, &eps[n]))
				n++;
		}
		freeaddrinfo(res);
	}
	unsigned counts[G_N_ELEMENTS(eps)] = {0};
	if (n > 0 && !vs_sockdiag_count(eps, n, counts, error))
		return false;
	*count = 0;
	for (size_t i = 0; i < n; i++)
		*count += counts[i];
	return true;
}

/* The busy count of @address: the balancer's where it has one, else ours. */
static bool lb_busy(vs_lb *lb, const char *address, unsigned *busy, GError **error)
{
	g_autoptr(GArray) members = lb->ops->list(lb, error);
	if (!members)
		return false;
	for (guint i = 0; i < members->len; i++) {
		const vs_lb_entry *m = &g_array_index(members, vs_lb_entry, i);
		if (vs_lb_same_address(m->address, address) && m->busy >= 0) {
			*busy = (unsigned)m->busy;
			return true;
		}
	}
	return vs_lb_count_connections(address, busy, error);
}

/**
 * vs_lb_wait_drained: polls the busy count of @address until it is 0 or
 * @timeout_s passes (VS_LB_ERROR_TIMEOUT); see lb.h.
 */
bool vs_lb_wait_drained(vs_lb *lb, const char *address, unsigned timeout_s, GCancellable *cancel,
                        GError **error)
{
	return vs_lb_wait_drained_to(lb, address, 0, timeout_s, cancel, error);
}

/**
 * vs_lb_wait_drained_to: vs_lb_wait_drained(), done once the busy count is
 * at most @max_busy.
 */
bool vs_lb_wait_drained_to(vs_lb *lb, const char *address, unsigned max_busy, unsigned timeout_s,
                           GCancellable *cancel, GError **error)
{
	if (!lb_check_address(address, error))
		return false;
	gint64 deadline = g_get_monotonic_time() + (gint64)timeout_s * G_USEC_PER_SEC;
	for (;;) {
		unsigned busy;
		if (!lb_busy(lb, address, &busy, error))
			return false;
		if (busy <= max_busy)
			return true;
		if (g_get_monotonic_time() >= deadline) {
			g_set_error(error, VS_LB_ERROR, VS_LB_ERROR_TIMEOUT,
			            "%s still has %u active connection(s) after %u s", address,
			            busy, timeout_s);
			return false;
		}
		if (!vs_wait_ms(cancel, 100, error))
			return false;
	}
}
