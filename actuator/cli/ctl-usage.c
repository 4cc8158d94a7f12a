/*
 * ctl-usage.c - `virtscalectl usage`: the usage counters a program keeps
 * under state_dir (lib/vs-usage-store.h), per pool and in total, with the
 * cost of [prices] (C = Σ kinds price · usage), as a table, CSV or JSON.
 * Reads the file only: no libvirt call, no daemon needed.
 */
#include "config.h"

#include "ctl-usage.h"

#include "vs-usage-store.h"

#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>

/* One row of the report: a pool or the total. */
typedef struct usage_row {
	char *name;
	vs_usage_counters c;
	double cost;
} usage_row;

static void row_free(usage_row *r)
{
	g_free(r->name);
	g_free(r);
}

/**
 * vs_ctl_usage_parse_since:
 * @text: seconds since the epoch, an ISO 8601 time with a zone
 *	("2026-12-01T00:00:00Z"), or a duration back from @now_s ("90m", "24h",
 *	"7d")
 * @now_s: now, seconds since the epoch
 * @since: the time, seconds since the epoch
 *
 * Returns false when @text is none of these.
 */
bool vs_ctl_usage_parse_since(const char *text, int64_t now_s, int64_t *since)
{
	guint64 n;
	size_t len = strlen(text);

	if (len && g_ascii_string_to_unsigned(text, 10, 0, G_MAXINT64, &n, NULL)) {
		*since = (int64_t)n;
		return true;
	}
	if (len >= 2 && strchr("smhd", text[len - 1])) {
		g_autofree char *num = g_strndup(text, len - 1);
		static const struct {
			char unit;
			int64_t s;
		} units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}};

		if (g_ascii_string_to_unsigned(num, 10, 0, G_MAXINT64 / 86400, &n, NULL)) {
			for (size_t i = 0; i < G_N_ELEMENTS(units); i++)
				if (units[i].unit == text[len - 1])
					*since = now_s - (int64_t)n * units[i].s;
			return true;
		}
	}
	g_autoptr(GDateTime) t = g_date_time_new_from_iso8601(text, NULL);

	if (!t)
		return false;
	*since = g_date_time_to_unix(t);
	return true;
}

static GPtrArray *build_rows(const vs_usage *u, const vs_config *cfg, const char *pool,
                             int64_t since, bool with_since)
{
	GPtrArray *rows = g_ptr_array_new_with_free_func((GDestroyNotify)row_free);
	g_autoptr(GHashTable) names = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GPtrArray) order = g_ptr_array_new();
	g_autoptr(GPtrArray) in_file = vs_usage_pool_names(u);
	double price[VS_USAGE_N_KINDS];
	usage_row *total = g_new0(usage_row, 1);

	vs_usage_prices_from_config(cfg, price);
	/* configured pools in file order, then pools only the file still has */
	for (guint i = 0; i < cfg->pools->len; i++) {
		const vs_pool_config *p = g_ptr_array_index(cfg->pools, i);

		if (g_hash_table_add(names, p->name))
			g_ptr_array_add(order, p->name);
	}
	for (guint i = 0; i < in_file->len; i++)
		if (g_hash_table_add(names, in_file->pdata[i]))
			g_ptr_array_add(order, in_file->pdata[i]);
	for (guint i = 0; i < order->len; i++) {
		const char *name = order->pdata[i];
		usage_row *r;

		if (pool && strcmp(pool, name) != 0)
			continue;
		r = g_new0(usage_row, 1);
		r->name = g_strdup(name);
		if (with_since) {
			vs_usage_since(u, name, since, &r->c);
		} else {
			const vs_usage_counters *c = vs_usage_pool(u, name);

			if (c)
				r->c = *c;
		}
		r->cost = vs_usage_cost(&r->c, price);
		for (int k = 0; k < VS_USAGE_N_KINDS; k++)
			total->c.v[k] += r->c.v[k];
		total->cost += r->cost;
		g_ptr_array_add(rows, r);
	}
	total->name = g_strdup("total");
	g_ptr_array_add(rows, total);
	return rows;
}

/* A value in its exported unit: bytes whole, the rest with milliseconds. */
static char *value_text(vs_usage_kind k, uint64_t raw)
{
	if (k >= VS_USAGE_DISK_READ && k <= VS_USAGE_NET_TX)
		return g_strdup_printf("%" G_GUINT64_FORMAT, raw);
	return g_strdup_printf("%.3f", vs_usage_export_double(k, raw));
}

static char *time_text(int64_t s)
{
	g_autoptr(GDateTime) t = g_date_time_new_from_unix_utc(s);

	return t ? g_date_time_format(t, "%Y-%m-%dT%H:%M:%SZ") : g_strdup("?");
}

static void print_table(FILE *out, GPtrArray *rows)
{
	fprintf(out, "%-16s", "pool");
	for (int k = 0; k < VS_USAGE_N_KINDS; k++)
		fprintf(out, " %s", vs_usage_kind_name(k));
	fprintf(out, " cost\n");
	for (guint i = 0; i < rows->len; i++) {
		const usage_row *r = rows->pdata[i];

		fprintf(out, "%-16s", r->name);
		for (int k = 0; k < VS_USAGE_N_KINDS; k++) {
			g_autofree char *v = value_text(k, r->c.v[k]);

			fprintf(out, " %*s", (int)strlen(vs_usage_kind_name(k)), v);
		}
		fprintf(out, " %.4f\n", r->cost);
	}
}

static void print_csv(FILE *out, GPtrArray *rows)
{
	fprintf(out, "pool");
	for (int k = 0; k < VS_USAGE_N_KINDS; k++)
		fprintf(out, ",%s", vs_usage_kind_name(k));
	fprintf(out, ",cost\n");
	for (guint i = 0; i < rows->len; i++) {
		const usage_row *r = rows->pdata[i];

		fprintf(out, "%s", r->name); /* pool names are [A-Za-z0-9_.-] */
		for (int k = 0; k < VS_USAGE_N_KINDS; k++) {
			g_autofree char *v = value_text(k, r->c.v[k]);

			fprintf(out, ",%s", v);
		}
		fprintf(out, ",%.6f\n", r->cost);
	}
}

static void json_row(JsonBuilder *b, const usage_row *r)
{
	json_builder_begin_object(b);
	json_builder_set_member_name(b, "pool");
	json_builder_add_string_value(b, r->name);
	for (int k = 0; k < VS_USAGE_N_KINDS; k++) {
		json_builder_set_member_name(b, vs_usage_kind_name(k));
		if (k >= VS_USAGE_DISK_READ && k <= VS_USAGE_NET_TX)
			json_builder_add_int_value(b, (gint64)MIN(r->c.v[k], (uint64_t)G_MAXINT64));
		else
			json_builder_add_double_value(b, vs_usage_export_double(k, r->c.v[k]));
	}
	json_builder_set_member_name(b, "cost");
	json_builder_add_double_value(b, r->cost);
	json_builder_end_object(b);
}

static void print_json(FILE *out, GPtrArray *rows, const char *file, const vs_usage *u,
                       int64_t since, bool with_since)
{
	g_autoptr(JsonBuilder) b = json_builder_new();

	json_builder_begin_object(b);
	json_builder_set_member_name(b, "file");
	json_builder_add_string_value(b, file);
	json_builder_set_member_name(b, "discontinuity");
	json_builder_add_int_value(b, u->discontinuity_us / G_USEC_PER_SEC);
	json_builder_set_member_name(b, "updated");
	json_builder_add_int_value(b, u->last_real_us / G_USEC_PER_SEC);
	json_builder_set_member_name(b, "since");
	if (with_since)
		json_builder_add_int_value(b, since / 3600 * 3600);
	else
		json_builder_add_null_value(b);
	json_builder_set_member_name(b, "pools");
	json_builder_begin_array(b);
	for (guint i = 0; i + 1 < rows->len; i++)
		json_row(b, rows->pdata[i]);
	json_builder_end_array(b);
	json_builder_set_member_name(b, "total");
	json_row(b, rows->pdata[rows->len - 1]);
	json_builder_end_object(b);
	g_autoptr(JsonNode) root = json_builder_get_root(b);
	g_autofree char *text = json_to_string(root, TRUE);

	fprintf(out, "%s\n", text);
}

/* The file to read: @file, else the subagent's, else the plugin's. */
static char *pick_file(const vs_config *cfg, const char *file)
{
	if (file)
		return g_strdup(file);
	g_autofree char *snmp = vs_usage_store_path(cfg, "snmp");
	g_autofree char *collectd = vs_usage_store_path(cfg, "collectd");

	if (!g_file_test(snmp, G_FILE_TEST_EXISTS) && g_file_test(collectd, G_FILE_TEST_EXISTS))
		return g_steal_pointer(&collectd);
	return g_steal_pointer(&snmp);
}

int vs_ctl_usage(const vs_config *cfg, const char *file, const char *pool, const char *since_text,
                 const char *format)
{
	g_autofree char *path = pick_file(cfg, file);
	g_autoptr(GError) error = NULL;
	int64_t since = 0;
	bool used_prev;

	if (!format || g_str_equal(format, "auto"))
		format = "table";
	if (!g_str_equal(format, "table") && !g_str_equal(format, "csv") &&
	    !g_str_equal(format, "json")) {
		fprintf(stderr, "virtscalectl: usage: --format must be table, csv or json\n");
		return 2;
	}
	if (since_text &&
	    !vs_ctl_usage_parse_since(since_text, g_get_real_time() / G_USEC_PER_SEC, &since)) {
		fprintf(stderr,
		        "virtscalectl: usage: --since '%s' is not seconds since the epoch, an "
		        "ISO 8601 time or a duration (90m, 24h, 7d)\n",
		        since_text);
		return 2;
	}
	g_autoptr(vs_usage) u = vs_usage_load_file(path, &used_prev, &error);

	if (!u) {
		fprintf(stderr, "virtscalectl: usage: %s\n", error->message);
		return 1;
	}
	if (used_prev)
		fprintf(stderr, "virtscalectl: usage: %s is unusable; read its last good copy\n",
		        path);
	if (pool && !vs_config_find_pool(cfg, pool) && !vs_usage_pool(u, pool)) {
		fprintf(stderr, "virtscalectl: usage: no pool '%s'\n", pool);
		return 1;
	}
	g_autoptr(GPtrArray) rows = build_rows(u, cfg, pool, since, since_text != NULL);

	if (g_str_equal(format, "json")) {
		print_json(stdout, rows, path, u, since, since_text != NULL);
		return 0;
	}
	if (g_str_equal(format, "csv")) {
		print_csv(stdout, rows);
		return 0;
	}
	g_autofree char *from =
	    time_text(since_text ? since / 3600 * 3600 : u->discontinuity_us / G_USEC_PER_SEC);
	g_autofree char *to = time_text(u->last_real_us / G_USEC_PER_SEC);

	printf("%s: usage from %s to %s%s\n", path, from, to,
	       since_text ? " (whole hours)" : " (since the counters started)");
	print_table(stdout, rows);
	return 0;
}
