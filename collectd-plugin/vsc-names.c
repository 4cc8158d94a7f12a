/* vsc-names.c - collectd identifiers for host names (see vsc-names.h) */
#include "vsc-names.h"

#include <stdbool.h>
#include <string.h>

static bool keep_char(char c)
{
	return g_ascii_isalnum(c) || c == '_' || c == '-';
}

/* @name as an identifier part: runs of other characters become one '_'. */
static char *sanitize(const char *name)
{
	GString *out = g_string_new(NULL);

	for (const char *p = name ? name : ""; *p; p++) {
		if (keep_char(*p))
			g_string_append_c(out, *p);
		else if (out->len && out->str[out->len - 1] != '_')
			g_string_append_c(out, '_');
	}
	while (out->len && out->str[out->len - 1] == '_')
		g_string_truncate(out, out->len - 1);
	if (!out->len)
		g_string_append(out, "host");
	if (out->len > VSC_INSTANCE_MAX)
		g_string_truncate(out, VSC_INSTANCE_MAX);
	return g_string_free(out, FALSE);
}

static bool taken(const GPtrArray *names, const char *s)
{
	for (guint i = 0; i < names->len; i++)
		if (strcmp(names->pdata[i], s) == 0)
			return true;
	return false;
}

/**
 * vsc_host_instances: see vsc-names.h.
 */
GPtrArray *vsc_host_instances(const char *const *names, size_t n)
{
	GPtrArray *out = g_ptr_array_new_with_free_func(g_free);

	for (size_t i = 0; i < n; i++) {
		char *s = sanitize(names[i]);

		/* a taken name gets its position; should even that be taken
		 * (a name that looks like a suffixed one), the next free number */
		for (size_t k = i + 1; taken(out, s); k++) {
			g_autofree char *base = sanitize(names[i]);
			g_autofree char *suffix = g_strdup_printf("_%zu", k);
			size_t keep = MIN(strlen(base), VSC_INSTANCE_MAX - strlen(suffix));

			g_free(s);
			s = g_strdup_printf("%.*s%s", (int)keep, base, suffix);
		}
		g_ptr_array_add(out, s);
	}
	return out;
}
