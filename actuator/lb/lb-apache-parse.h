/*
 * lb-apache-parse.h - pure helpers of the Apache driver: what the
 * balancer-manager's HTML says about growth slots, and worker URLs as
 * backend addresses. No I/O.
 */
#ifndef VS_LB_APACHE_PARSE_H
#define VS_LB_APACHE_PARSE_H

#include <glib.h>
#include <stdbool.h>

/*
 * From the balancer-manager HTML page, the "MaxMembers" cell of
 * balancer://@balancer ("3 [2 Used]"): the number of worker slots and how
 * many are used. False when the page does not say.
 */
bool vs_apache_parse_max_members(const char *html, size_t len, const char *balancer, unsigned *max,
                                 unsigned *used);

/*
 * The "host:port" a worker URL ("http://127.0.0.1:8080/", "http://[::1]:80")
 * sends to, with the scheme's default port when it has none; NULL for
 * anything else.
 */
char *vs_apache_worker_address(const char *url);

/*
 * The route virtscale gives each worker it adds, its mark of ownership:
 * "vs-" and 12 hex digits of the SHA-256 of @address (lower case). It
 * lives in httpd itself (and in BalancerPersist's state), so it survives a
 * restart of virtscaled; one per address keeps routes unique for sticky
 * sessions, and names no backend in a cookie.
 */
char *vs_apache_route_mark(const char *address);

/* True when @route is the mark of @address. */
bool vs_apache_route_is_mark(const char *route, const char *address);

#endif
