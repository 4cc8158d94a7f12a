/* lb-apache-parse.c - pure helpers of the Apache driver; see lb-apache-parse.h. */
#include "config.h"

#include "lb-apache-parse.h"

#include "vs-validate.h"

#include <stdlib.h>
#include <string.h>

/**
 * vs_apache_parse_max_members: slots and used slots of @balancer from the
 * manager's HTML page. The page lists each balancer under a heading ending
 * in ">balancer://NAME</a>", followed by a table whose first cell is
 * MaxMembers as "N [M Used]".
 */
bool vs_apache_parse_max_members(const char *html, size_t len, const char *balancer, unsigned *max,
                                 unsigned *used)
{
	g_autofree char *text = g_strndup(html, len);
	g_autofree char *anchor = g_strdup_printf(">balancer://%s</a>", balancer);
	const char *p = strstr(text, anchor);
	if (!p)
		return false;
	p = strstr(p, "MaxMembers");
	if (!p)
		return false;
	p = strstr(p, "<tr><td>");
	if (!p)
		return false;
	p += strlen("<tr><td>");
	char *end;
	unsigned long m = strtoul(p, &end, 10);
	if (end == p || strncmp(end, " [", 2))
		return false;
	p = end + 2;
	unsigned long u = strtoul(p, &end, 10);
	if (end == p || strncmp(end, " Used]", 6) || m > 100000 || u > m)
		return false;
	*max = (unsigned)m;
	*used = (unsigned)u;
	return true;
}

/**
 * vs_apache_worker_address: "host:port" of an http(s) worker URL, or NULL.
 */
char *vs_apache_worker_address(const char *url)
{
	const char *rest;
	const char *default_port;
	if (g_ascii_strncasecmp(url, "http://", 7) == 0) {
		rest = url + 7;
		default_port = "80";
	} else if (g_ascii_strncasecmp(url, "https://", 8) == 0) {
		rest = url + 8;
		default_port = "443";
	} else {
		return NULL;
	}
	size_t n = strcspn(rest, "/?#");
	g_autofree char *authority = g_strndup(rest, n);
	const char *after_host = authority;
	if (authority[0] == '[') {
		after_host = strchr(authority, ']');
		if (!after_host)
			return NULL;
		after_host++;
	}
	char *address = strchr(after_host, ':') ? g_strdup(authority)
	                                        : g_strdup_printf("%s:%s", authority, default_port);
	if (!vs_valid_host_port(address)) {
		g_free(address);
		return NULL;
	}
	return address;
}

/**
 * vs_apache_route_mark: the route that marks a worker of @address as
 * virtscale's; see lb-apache-parse.h.
 */
char *vs_apache_route_mark(const char *address)
{
	g_autofree char *lower = g_ascii_strdown(address, -1);
	g_autofree char *sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256, lower, -1);

	return g_strdup_printf("vs-%.12s", sum);
}

/**
 * vs_apache_route_is_mark: true when @route (may be NULL) marks @address.
 */
bool vs_apache_route_is_mark(const char *route, const char *address)
{
	g_autofree char *mark = vs_apache_route_mark(address);

	return route && strcmp(route, mark) == 0;
}
