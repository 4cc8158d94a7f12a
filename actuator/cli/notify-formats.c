/*
 * notify-formats.c - what stock tools hand a program on stdin, turned into
 * our wire format, so collectd's `exec` plugin (NotificationExec) and
 * snmptrapd's `traphandle` can drive the actuator without any glue:
 *
 *  collectd exec:  "Severity: FAILURE\nTime: ...\nHost: ...\nPlugin: virtscale\n
 *                   PluginInstance: web\nType: ...\nCurrentValue: ...\n
 *                   WarningMax: ...\n\nmessage text"
 *
 * (snmptrapd's traphandle input is read by snmptrap-input.c.)
 *
 * Nothing here is trusted: text is copied into the notification's fields
 * with vs_notification_set_text(), which cuts and cleans it to what the
 * wire format accepts; the caller serializes it with the one serializer
 * (vs_notification_to_json) and validates the line before sending it.
 */
#include "config.h"

#include "act-error.h"
#include "notify-formats.h"
#include "vs-policy.h"
#include "vs-validate.h"

#include <math.h>
#include <string.h>

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

/* A number the wire format carries (NaN: an absent threshold). */
static bool in_wire_range(double v)
{
	return isnan(v) || fabs(v) <= VS_NOTIFY_MAX_VALUE;
}

/* A state given on the command line: one of the wire names. */
static bool state_from_name(const char *s, vs_verdict *v)
{
	return vs_verdict_from_name(s, v) && *v != VS_VERDICT_UNKNOWN;
}

/**
 * vs_notify_from_collectd_exec: a collectd exec-plugin notification as a
 * "pool" notification. The pool is @pool, else the PluginInstance of a
 * "virtscale" notification; the state is @state, else the threshold's
 * verdict (vs_policy_threshold_verdict: OKAY is ok, a value under its lower
 * threshold low, anything else high).
 */
bool vs_notify_from_collectd_exec(const char *text, const char *pool, const char *state,
                                  vs_notification *out, GError **error)
{
	g_autoptr(GHashTable) h = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	g_autoptr(GString) message = g_string_new(NULL);
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
			g_set_error(error, VS_ACT_ERROR, VS_ACT_ERROR_INVALID,
			            "collectd exec input: header line without ':'");
			return false;
		}
		*colon = '\0';
		g_hash_table_replace(h, g_ascii_strdown(g_strstrip(*l), -1),
		                     g_strdup(g_strstrip(colon + 1)));
	}
	const char *sev = g_hash_table_lookup(h, "severity");
	if (!sev) {
		g_set_error(error, VS_ACT_ERROR, VS_ACT_ERROR_INVALID,
		            "collectd exec input: no Severity header");
		return false;
	}
	const char *pi = g_hash_table_lookup(h, "plugininstance");
	const char *plugin = g_hash_table_lookup(h, "plugin");
	if (!pool && pi && g_strcmp0(plugin, "virtscale") == 0)
		pool = pi;
	if (!pool || !vs_valid_pool_name(pool)) {
		g_set_error(error, VS_ACT_ERROR, VS_ACT_ERROR_INVALID,
		            "collectd exec input: no pool (give --pool, or PluginInstance of "
		            "plugin virtscale)");
		return false;
	}
	vs_notification_init(out, VS_NOTIFY_POOL);
	double wmin = NAN, fmin = NAN, wmax = NAN, fmax = NAN;
	parse_double(g_hash_table_lookup(h, "currentvalue"), &out->value);
	parse_double(g_hash_table_lookup(h, "warningmin"), &wmin);
	parse_double(g_hash_table_lookup(h, "failuremin"), &fmin);
	parse_double(g_hash_table_lookup(h, "warningmax"), &wmax);
	parse_double(g_hash_table_lookup(h, "failuremax"), &fmax);
	out->threshold_low = isnan(wmin) ? fmin : wmin;
	out->threshold_high = isnan(wmax) ? fmax : wmax;
	if (g_ascii_strcasecmp(sev, "OKAY") == 0)
		out->severity = VS_SEVERITY_OKAY;
	else if (g_ascii_strcasecmp(sev, "WARNING") == 0)
		out->severity = VS_SEVERITY_WARNING;
	else if (g_ascii_strcasecmp(sev, "FAILURE") == 0)
		out->severity = VS_SEVERITY_FAILURE;
	else {
		g_set_error(error, VS_ACT_ERROR, VS_ACT_ERROR_INVALID,
		            "collectd exec input: unknown Severity");
		return false;
	}
	/* the wire carries only numbers in range: say so here, not at the socket */
	if (!in_wire_range(out->value) || !in_wire_range(out->threshold_low) ||
	    !in_wire_range(out->threshold_high)) {
		g_set_error(error, VS_ACT_ERROR, VS_ACT_ERROR_INVALID,
		            "collectd exec input: a value or threshold beyond +-%g",
		            VS_NOTIFY_MAX_VALUE);
		return false;
	}
	if (!state)
		out->verdict = vs_policy_threshold_verdict(out->severity == VS_SEVERITY_OKAY,
		                                           out->value, out->threshold_low);
	else if (!state_from_name(state, &out->verdict)) {
		g_set_error(error, VS_ACT_ERROR, VS_ACT_ERROR_INVALID,
		            "state must be high, low, ok or at_max");
		return false;
	}
	vs_notification_set_text(out->pool, pool);
	const char *type = g_hash_table_lookup(h, "type");
	if (type && vs_valid_pool_name(type))
		vs_notification_set_text(out->metric, type);
	/* the host is collectd's Hostname, whatever it is: data, cleaned */
	vs_notification_set_text(out->host, g_hash_table_lookup(h, "host"));
	vs_notification_set_text(out->source, "collectd");
	vs_notification_set_text(out->message, message->str);
	return true;
}
