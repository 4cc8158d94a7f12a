/*
 * lb-nginx-render.c - renders and strictly parses back the nginx upstream
 * include; see lb-nginx-render.h.
 *
 * Format (one directive per line, a comment giving each server's state so
 * that draining and disabled, both `down` for nginx, survive a restart):
 *
 *   # virtscale: pool web. Rewritten on every change; do not edit.
 *   upstream web {
 *   	zone web 64k;
 *   	least_conn;
 *   	server 10.0.0.5:80 weight=2 max_conns=100 backup; # enabled
 *   	server 10.0.0.6:80 down; # draining
 *   }
 */
#include "config.h"

#include "lb-nginx-render.h"

#include "vs-validate.h"

#include <stdlib.h>
#include <string.h>

#define HEADER_PREFIX "# virtscale: pool "
#define MAX_WEIGHT    1000

/* The member's state, in the comment after its line (vs-states.h names). */
static const char *state_comment(vs_lb_state s)
{
	return vs_lb_state_name(s == VS_LB_STATE_UNKNOWN ? VS_LB_STATE_ENABLED : s);
}

static void render_server(GString *out, const vs_nginx_render_opts *opts, const char *address,
                          unsigned weight, bool backup, vs_lb_state state, const char *comment)
{
	g_string_append_printf(out, "\tserver %s", address);
	if (weight > 0)
		g_string_append_printf(out, " weight=%u", weight);
	if (opts->max_conns > 0)
		g_string_append_printf(out, " max_conns=%u", opts->max_conns);
	if (backup)
		g_string_append(out, " backup");
	if (state != VS_LB_STATE_ENABLED)
		g_string_append(out, " down");
	g_string_append_printf(out, "; # %s\n", comment);
}

/**
 * vs_nginx_render_upstream: the include file text for @members; see the
 * header for the format. Every name and address is checked again here, so
 * the file can never carry nginx syntax from outside.
 */
char *vs_nginx_render_upstream(const vs_nginx_render_opts *opts, const vs_lb_entry *members,
                               size_t n, GError **error)
{
	if (!vs_valid_lb_name(opts->upstream) || !vs_valid_pool_name(opts->pool) ||
	    (opts->zone && !vs_valid_lb_name(opts->zone))) {
		g_set_error(error, VS_LB_ERROR, VS_LB_ERROR_INVALID,
		            "nginx upstream, pool or zone name is not a plain token");
		return NULL;
	}
	GString *out = g_string_new(NULL);
	g_string_append_printf(out, HEADER_PREFIX "%s. Rewritten on every change; do not edit.\n",
	                       opts->pool);
	g_string_append_printf(out, "upstream %s {\n", opts->upstream);
	if (opts->zone)
		g_string_append_printf(out, "\tzone %s 64k;\n", opts->zone);
	if (opts->method == VS_NGINX_LEAST_CONN)
		g_string_append(out, "\tleast_conn;\n");
	for (size_t i = 0; i < n; i++) {
		const vs_lb_entry *m = &members[i];
		if (!vs_valid_host_port(m->address) || m->weight > MAX_WEIGHT) {
			g_set_error(error, VS_LB_ERROR, VS_LB_ERROR_INVALID,
			            "member %zu: invalid address or weight", i);
			g_string_free(out, TRUE);
			return NULL;
		}
		render_server(out, opts, m->address, m->weight, m->backup, m->state,
		              state_comment(m->state));
	}
	/* An empty upstream fails `nginx -t`; a down server keeps it valid. */
	if (n == 0)
		render_server(out, &(vs_nginx_render_opts){0}, VS_NGINX_PLACEHOLDER, 0, false,
		              VS_LB_STATE_DISABLED, "placeholder");
	g_string_append(out, "}\n");
	return g_string_free(out, FALSE);
}

static bool parse_uint(const char *s, unsigned max, unsigned *out)
{
	if (!*s || !g_ascii_isdigit(*s) || (s[0] == '0' && s[1]))
		return false;
	char *end;
	unsigned long v = strtoul(s, &end, 10);
	if (*end || v == 0 || v > max)
		return false;
	*out = (unsigned)v;
	return true;
}

/* One "\tserver ADDR [params]; # STATE" line; *placeholder set for ours. */
static bool parse_server(const char *line, vs_lb_entry *m, bool *placeholder)
{
	if (!g_str_has_prefix(line, "\tserver "))
		return false;
	const char *semi = strstr(line, "; # ");
	if (!semi)
		return false;
	const char *comment = semi + 4;
	g_autofree char *body = g_strndup(line + 8, semi - (line + 8));
	g_auto(GStrv) words = g_strsplit(body, " ", -1);
	if (!words[0] || !vs_valid_host_port(words[0]) || strlen(words[0]) >= sizeof(m->address))
		return false;
	memset(m, 0, sizeof(*m));
	g_strlcpy(m->address, words[0], sizeof(m->address));
	m->busy = -1;
	bool down = false;
	unsigned max_conns;
	for (size_t i = 1; words[i]; i++) {
		const char *w = words[i];
		if (g_str_has_prefix(w, "weight=") && !m->weight) {
			if (!parse_uint(w + 7, MAX_WEIGHT, &m->weight))
				return false;
		} else if (g_str_has_prefix(w, "max_conns=")) {
			/* Comes from the configuration, re-rendered from it. */
			if (!parse_uint(w + 10, G_MAXINT, &max_conns))
				return false;
		} else if (!strcmp(w, "backup") && !m->backup) {
			m->backup = true;
		} else if (!strcmp(w, "down") && !down) {
			down = true;
		} else {
			return false;
		}
	}
	*placeholder = false;
	if (!strcmp(comment, "placeholder")) {
		*placeholder =
		    down && !m->weight && !m->backup && !strcmp(m->address, VS_NGINX_PLACEHOLDER);
		return *placeholder;
	}
	/* enabled members serve; draining and disabled ones are down */
	return vs_lb_state_from_name(comment, &m->state) && m->state != VS_LB_STATE_UNKNOWN &&
	       down == (m->state != VS_LB_STATE_ENABLED);
}

static bool parse_fail(GError **error, const char *file, size_t lineno, const char *what)
{
	g_set_error(error, VS_LB_ERROR, VS_LB_ERROR_FAILED,
	            "%s:%zu: %s; this file is not one virtscale wrote, refusing to rewrite it",
	            file, lineno, what);
	return false;
}

static int member_index(GArray *members, const char *address)
{
	for (guint i = 0; i < members->len; i++)
		if (!g_ascii_strcasecmp(g_array_index(members, vs_lb_entry, i).address, address))
			return (int)i;
	return -1;
}

static bool is_options_line(const char *line)
{
	if (!strcmp(line, "\tleast_conn;"))
		return true;
	if (!g_str_has_prefix(line, "\tzone ") || !g_str_has_suffix(line, " 64k;"))
		return false;
	g_autofree char *name = g_strndup(line + 6, strlen(line) - 6 - 5);
	return vs_valid_lb_name(name);
}

/**
 * vs_nginx_parse_upstream: members of an include file written by
 * vs_nginx_render_upstream() for @upstream; anything else is refused with
 * @file:line.
 */
GArray *vs_nginx_parse_upstream(const char *text, size_t len, const char *upstream,
                                const char *file, GError **error)
{
	if (memchr(text, '\0', len) || !g_utf8_validate(text, len, NULL)) {
		parse_fail(error, file, 1, "binary content");
		return NULL;
	}
	g_autofree char *copy = g_strndup(text, len);
	if (len == 0 || copy[len - 1] != '\n') {
		parse_fail(error, file, 1, "empty or not ending with a newline");
		return NULL;
	}
	copy[len - 1] = '\0';
	g_auto(GStrv) lines = g_strsplit(copy, "\n", -1);
	g_autofree char *opening = g_strdup_printf("upstream %s {", upstream);
	GArray *members = g_array_new(FALSE, TRUE, sizeof(vs_lb_entry));
	size_t n_lines = g_strv_length(lines);
	bool placeholder_seen = false;
	const char *what = NULL;
	size_t i;

	for (i = 0; i < n_lines && !what; i++) {
		const char *line = lines[i];
		if (i == 0) {
			if (!g_str_has_prefix(line, HEADER_PREFIX))
				what = "no virtscale header";
		} else if (i == 1) {
			if (strcmp(line, opening))
				what = "not the expected `upstream NAME {` line";
		} else if (i == n_lines - 1) {
			if (strcmp(line, "}"))
				what = "the upstream block does not end here";
		} else if (is_options_line(line)) {
			if (members->len || placeholder_seen)
				what = "option after a server";
		} else {
			vs_lb_entry m;
			bool placeholder;
			if (!parse_server(line, &m, &placeholder))
				what = "not a server line virtscale writes";
			else if (placeholder)
				placeholder_seen = true;
			else if (placeholder_seen)
				what = "server after the placeholder";
			else if (member_index(members, m.address) >= 0)
				what = "the same server twice";
			else
				g_array_append_val(members, m);
		}
	}
	if (!what && n_lines < 3) {
		what = "truncated";
		i = n_lines;
	}
	if (!what && members->len > 0 && placeholder_seen) {
		what = "a placeholder next to real servers";
		i = n_lines;
	}
	if (!what && members->len == 0 && !placeholder_seen) {
		what = "an upstream with no server";
		i = n_lines;
	}
	if (what) {
		parse_fail(error, file, i, what);
		g_array_unref(members);
		return NULL;
	}
	return members;
}
