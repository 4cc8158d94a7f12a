/*
 * vs-sessions.h - active sessions per backend, from three kinds of source,
 * and the parsers of what those sources answer. Parsers are pure (no I/O)
 * and accept any bytes: truncated or hostile input gives an error, never a
 * crash or a made-up number.
 */
#ifndef VS_SESSIONS_H
#define VS_SESSIONS_H

#include "vs-states.h"

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>

typedef struct vs_endpoint {
	char host[64]; /* numeric IPv4/IPv6 literal */
	uint16_t port;
} vs_endpoint;

/* Parses "127.0.0.1:18100", "[::1]:80" (numeric only). */
bool vs_endpoint_parse(const char *text, vs_endpoint *out);

/*
 * vs_sockdiag_count:
 * Counts ESTABLISHED TCP connections on this host whose remote end is each
 * endpoint (NETLINK_SOCK_DIAG, inet_diag, IPv4 and IPv6). counts[i] is set
 * for eps[i]. One netlink dump per call whatever n is. Returns false with
 * @error on a netlink failure.
 */
bool vs_sockdiag_count(const vs_endpoint *eps, size_t n, unsigned *counts, GError **error);

/*
 * Same, counting connections whose *local* end is each endpoint (a server
 * on this host: accepted connections to 127.0.0.1:port).
 */
bool vs_sockdiag_count_local(const vs_endpoint *eps, size_t n, unsigned *counts, GError **error);

/* Apache balancer-manager XML (?b=NAME&xml=1). */
typedef struct vs_balancer_worker {
	char *name; /* worker URL, e.g. "http://127.0.0.1:18100" */
	char *route;
	unsigned busy;
	unsigned lbfactor;
	bool disabled;    /* status D */
	bool draining;    /* status N */
	bool stopped;     /* status S */
	bool in_error;    /* status E */
	bool hot_standby; /* status H */
	char *status;     /* the raw status string ("Init Ok ", ...) */
	uint64_t elected;
} vs_balancer_worker;

typedef struct vs_balancer_state {
	char *name; /* "balancer://web" */
	char *nonce;
	unsigned growth;      /* free slots left where the XML says, else 0 */
	unsigned max_workers; /* from the XML "max" element when present */
	GPtrArray *workers;   /* of vs_balancer_worker* */
} vs_balancer_state;

/* The state of a worker in the balancer: stopped or disabled, draining, else enabled. */
vs_lb_state vs_balancer_worker_state(const vs_balancer_worker *w);

vs_balancer_state *vs_balancer_parse_xml(const char *buf, size_t len, const char *balancer,
                                         GError **error);
/* The nonce from the HTML page (older httpd without xml=1 nonce). */
char *vs_balancer_parse_html_nonce(const char *buf, size_t len, const char *balancer);
void vs_balancer_state_free(vs_balancer_state *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vs_balancer_state, vs_balancer_state_free)

/* Apache server-status?auto: BusyWorkers. */
bool vs_parse_apache_status(const char *buf, size_t len, unsigned *busy);
/* nginx stub_status: "Active connections: N". */
bool vs_parse_nginx_stub_status(const char *buf, size_t len, unsigned *active);
/* Any of the above, or a plain non-negative integer. */
bool vs_parse_session_count(const char *buf, size_t len, unsigned *count);

/*
 * vs_http_fetch: GET @url with libcurl, loopback/LAN only by configuration,
 * @timeout_ms total; body capped at @max_bytes; never follows a redirect (a
 * 3xx is an error). Returns the body or NULL with @error. Safe to call from
 * any thread except net-snmp's main loop.
 */
char *vs_http_fetch(const char *url, unsigned timeout_ms, size_t max_bytes, size_t *len,
                    GError **error);

#endif
