/*
 * lb-nginx-render.h - the nginx upstream include file that the nginx driver
 * owns: rendered from the members, and parsed back strictly (the file is the
 * driver's only state, so what it reads must be exactly what it wrote).
 * Pure: no I/O.
 */
#ifndef VS_LB_NGINX_RENDER_H
#define VS_LB_NGINX_RENDER_H

#include "lb.h"

/* The address of the placeholder server that keeps an upstream non-empty. */
#define VS_NGINX_PLACEHOLDER "127.0.0.1:1"

typedef struct vs_nginx_render_opts {
	const char *upstream;   /* upstream block name */
	const char *pool;       /* pool name, for the header comment */
	vs_nginx_method method; /* round-robin or least_conn */
	unsigned max_conns;     /* per server, 0 = unlimited */
	const char *zone;       /* shared memory zone name, NULL = none */
} vs_nginx_render_opts;

/*
 * Renders the include file for @members (@n of them, in that order). Never
 * an empty upstream: with no member a `down` placeholder is written. NULL
 * with @error when a name or an address is not valid.
 */
char *vs_nginx_render_upstream(const vs_nginx_render_opts *opts, const vs_lb_entry *members,
                               size_t n, GError **error);

/*
 * Parses a file written by vs_nginx_render_upstream() for @upstream. Any
 * other content is an error naming @file:line (the driver then refuses to
 * overwrite it). Returns the members (vs_lb_entry, busy = -1) without the
 * placeholder.
 */
GArray *vs_nginx_parse_upstream(const char *text, size_t len, const char *upstream,
                                const char *file, GError **error);

#endif
