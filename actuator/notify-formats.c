/*
 * notify-formats.c - what stock tools hand a program on stdin, turned into
 * our wire format, so collectd's `exec` plugin (NotificationExec) and
 * snmptrapd's `traphandle` can drive the actuator without any glue:
 *
 *  collectd exec:  "Severity: FAILURE\nTime: ...\nHost: ...\nPlugin: virtscale\n
 *                   PluginInstance: web\nType: ...\nCurrentValue: ...\n
 *                   WarningMax: ...\n\nmessage text"
 *  snmptrapd:      "hostname\ntransport\nOID value\nOID value\n..."
 *
 * Nothing here is trusted: every value ends up in a JSON string and the
 * result goes through vs_notification_parse() before it is sent.
 */
#include "config.h"

#include "actuator.h"
#include "vs-validate.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

static void add_str(JsonBuilder *b, const char *key, const char *val, size_t max)
{
	if (!val || !*val)
		return;
	char safe[512];
	vs_sanitize_line(val, safe, MIN(sizeof(safe), max));
	json_builder_set_member_name(b, key);
	json_builder_add_string_value(b, safe);
}

static char *finish(JsonBuilder *b)
{
	json_builder_end_object(b);
	g_autoptr(JsonGenerator) gen = json_generator_new();
	JsonNode *root = json_builder_get_root(b);
	json_generator_set_root(gen, root);
	json_node_unref(root);
	return json_generator_to_data(gen, NULL);
}

static bool parse_double(const char *s, double *out)
{
	if (!s || !*s)
		return false;
	char *end = NULL;
	double v = g_ascii_strtod(s, &end);
	if (end == s || *end || !isfinite(v))
		return false;
	*out = v;
	return true;
}

static bool valid_state(const char *s)
{
	return s && (g_str_equal(s, "high") || g_str_equal(s, "low") || g_str_equal(s, "ok") ||
	             g_str_equal(s, "at_max"));
}

/**
 * vs_notify_from_collectd_exec: a collectd exec-plugin notification as a
 * "pool" notification. The pool is @pool, else the PluginInstance of a
 * "virtscale" notification; the state is @state, else OKAY = ok, a value
 * under its lower threshold = low, anything else = high.
 */
char *vs_notify_from_collectd_exec(const char *text, const char *pool, const char *state,
                                   GError **error)
{
	g_autoptr(GHashTable) h = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	GString *message = g_string_new(NULL);
	bool body = false;
	for (char **l = lines; *l; l++) {
		g_strchomp(*l);
		if (body) {
			if (message->len < 500 && **l)
				g_string_append_printf(message, "%s%s", message->len ? " " : "",
				                       *l);
			continue;
		}
		if (!**l) {
			body = true;
			continue;
		}
		char *colon = strchr(*l, ':');
		if (!colon) {
			g_set_error(error, VS_ACT_ERROR, 0,
			            "collectd exec input: header line without ':'");
			g_string_free(message, TRUE);
			return NULL;
		}
		*colon = '\0';
		g_hash_table_replace(h, g_ascii_strdown(g_strstrip(*l), -1),
		                     g_strdup(g_strstrip(colon + 1)));
	}
	g_autofree char *msg = g_string_free(message, FALSE);
	const char *sev = g_hash_table_lookup(h, "severity");
	if (!sev) {
		g_set_error(error, VS_ACT_ERROR, 0, "collectd exec input: no Severity header");
		return NULL;
	}
	const char *pi = g_hash_table_lookup(h, "plugininstance");
	const char *plugin = g_hash_table_lookup(h, "plugin");
	if (!pool && pi && g_strcmp0(plugin, "virtscale") == 0)
		pool = pi;
	if (!pool || !vs_valid_pool_name(pool)) {
		g_set_error(error, VS_ACT_ERROR, 0,
		            "collectd exec input: no pool (give --pool, or PluginInstance of "
		            "plugin virtscale)");
		return NULL;
	}
	double value = NAN, wmin = NAN, fmin = NAN, wmax = NAN, fmax = NAN;
	parse_double(g_hash_table_lookup(h, "currentvalue"), &value);
	parse_double(g_hash_table_lookup(h, "warningmin"), &wmin);
	parse_double(g_hash_table_lookup(h, "failuremin"), &fmin);
	parse_double(g_hash_table_lookup(h, "warningmax"), &wmax);
	parse_double(g_hash_table_lookup(h, "failuremax"), &fmax);
	double low = isnan(wmin) ? fmin : wmin, high = isnan(wmax) ? fmax : wmax;
	const char *severity;
	if (g_ascii_strcasecmp(sev, "OKAY") == 0)
		severity = "okay";
	else if (g_ascii_strcasecmp(sev, "WARNING") == 0)
		severity = "warning";
	else if (g_ascii_strcasecmp(sev, "FAILURE") == 0)
		severity = "failure";
	else {
		g_set_error(error, VS_ACT_ERROR, 0, "collectd exec input: unknown Severity");
		return NULL;
	}
	if (!state) {
		if (g_str_equal(severity, "okay"))
			state = "ok";
		else if (!isnan(value) && !isnan(low) && value < low)
			state = "low";
		else
			state = "high";
	}
	if (!valid_state(state)) {
		g_set_error(error, VS_ACT_ERROR, 0, "state must be high, low, ok or at_max");
		return NULL;
	}
	g_autoptr(JsonBuilder) b = json_builder_new();
	json_builder_begin_object(b);
	json_builder_set_member_name(b, "v");
	json_builder_add_int_value(b, VS_NOTIFY_VERSION);
	json_builder_set_member_name(b, "type");
	json_builder_add_string_value(b, "pool");
	add_str(b, "pool", pool, 65);
	add_str(b, "state", state, 16);
	add_str(b, "severity", severity, 16);
	const char *type = g_hash_table_lookup(h, "type");
	if (type && vs_valid_pool_name(type))
		add_str(b, "metric", type, 32);
	if (!isnan(value)) {
		json_builder_set_member_name(b, "value");
		json_builder_add_double_value(b, value);
	}
	if (!isnan(high)) {
		json_builder_set_member_name(b, "threshold_high");
		json_builder_add_double_value(b, high);
	}
	if (!isnan(low)) {
		json_builder_set_member_name(b, "threshold_low");
		json_builder_add_double_value(b, low);
	}
	const char *host = g_hash_table_lookup(h, "host");
	if (host && vs_valid_hostname(host))
		add_str(b, "host", host, 256);
	add_str(b, "source", "collectd", 32);
	add_str(b, "message", msg, 512);
	return finish(b);
}

/* A varbind's value without its quotes and type prefix ("STRING: "). */
static char *trap_value(const char *v)
{
	const char *colon = strstr(v, ": ");
	if (colon && colon - v < 16 && g_ascii_isupper(v[0]))
		v = colon + 2;
	size_t n = strlen(v);
	if (n >= 2 && v[0] == '"' && v[n - 1] == '"')
		return g_strndup(v + 1, n - 2);
	return g_strdup(v);
}

static const char *state_from_word(const char *s)
{
	g_autofree char *l = g_ascii_strdown(s, -1);
	if (strstr(l, "atmax") || strstr(l, "at_max"))
		return "at_max";
	if (strstr(l, "high"))
		return "high";
	if (strstr(l, "low"))
		return "low";
	if (strstr(l, "normal") || strstr(l, "clear") || g_str_equal(l, "ok") ||
	    g_str_has_suffix(l, "ok"))
		return "ok";
	return NULL;
}

/**
 * vs_notify_from_snmptrap: an snmptrapd traphandle input as a "pool"
 * notification. The pool is @pool, else the first string varbind naming a
 * configured pool; the state is @state, else read from the snmpTrapOID
 * value's name (…High, …Low, …AtMax, …Normal/Ok) or a varbind saying
 * "high"/"low"/"ok".
 */
char *vs_notify_from_snmptrap(const char *text, const vs_config *cfg, const char *pool,
                              const char *state, GError **error)
{
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	if (!lines[0] || !lines[1]) {
		g_set_error(error, VS_ACT_ERROR, 0,
		            "snmptrapd input: expected hostname and address lines");
		return NULL;
	}
	g_autofree char *host = g_strdup(g_strstrip(lines[0]));
	const char *trap_state = NULL;
	g_autofree char *found_pool = NULL;
	for (char **l = lines + 2; *l; l++) {
		g_strstrip(*l);
		char *sp = strchr(*l, ' ');
		if (!sp)
			continue;
		*sp = '\0';
		const char *oid = *l;
		g_autofree char *val = trap_value(g_strstrip(sp + 1));
		bool is_trap_oid = strstr(oid, "snmpTrapOID") ||
		                   g_str_has_prefix(oid, ".1.3.6.1.6.3.1.1.4.1") ||
		                   g_str_has_prefix(oid, "1.3.6.1.6.3.1.1.4.1");
		if (is_trap_oid) {
			const char *w = strrchr(val, ':');
			const char *s = state_from_word(w ? w + 1 : val);
			if (s)
				trap_state = s;
			continue;
		}
		if (!found_pool && cfg && vs_valid_pool_name(val) && vs_config_find_pool(cfg, val))
			found_pool = g_strdup(val);
		else if (!trap_state && (g_str_equal(val, "high") || g_str_equal(val, "low") ||
		                         g_str_equal(val, "ok")))
			trap_state = state_from_word(val);
	}
	if (!pool)
		pool = found_pool;
	if (!state)
		state = trap_state;
	if (!pool || !vs_valid_pool_name(pool)) {
		g_set_error(error, VS_ACT_ERROR, 0,
		            "snmptrapd input: no configured pool named in the trap (give --pool)");
		return NULL;
	}
	if (!valid_state(state)) {
		g_set_error(error, VS_ACT_ERROR, 0,
		            "snmptrapd input: cannot tell the state (give --state)");
		return NULL;
	}
	g_autoptr(JsonBuilder) b = json_builder_new();
	json_builder_begin_object(b);
	json_builder_set_member_name(b, "v");
	json_builder_add_int_value(b, VS_NOTIFY_VERSION);
	json_builder_set_member_name(b, "type");
	json_builder_add_string_value(b, "pool");
	add_str(b, "pool", pool, 65);
	add_str(b, "state", state, 16);
	add_str(b, "severity", g_str_equal(state, "ok") ? "okay" : "warning", 16);
	if (vs_valid_hostname(host) || vs_valid_ip_literal(host))
		add_str(b, "host", host, 256);
	add_str(b, "source", "snmptrap", 32);
	return finish(b);
}
