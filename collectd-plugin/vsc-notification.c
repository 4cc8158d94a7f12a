/*
 * vsc-notification.c - pool events <-> collectd notifications <-> actuator
 * messages (see vsc-notification.h).
 *
 * Pool notifications go through collectd's own chain first and reach the
 * actuator through our notification callback, like threshold-plugin
 * notifications do: one path, and whatever the operator wired to collectd
 * (notify_email, exec) sees exactly what the actuator sees.
 */
#include "collectd.h"
#include "plugin.h"
#include "utils_time.h"

#include "vsc-notification.h"
#include "vsc-plugin.h"

#include "vs-validate.h"

#include <math.h>
#include <string.h>

#define POOL_NOTIF_TYPE "vs_policy_state"

static int severity_of(vs_verdict v)
{
	switch (v) {
	case VS_VERDICT_OK:
		return NOTIF_OKAY;
	case VS_VERDICT_AT_MAX:
		return NOTIF_FAILURE;
	default:
		return NOTIF_WARNING;
	}
}

static void describe(const vs_pool_notice *ev, char *buf, size_t size)
{
	const vs_policy_decision *d = &ev->decision;
	const char *metric = vs_metric_name(d->metric);
	unsigned instances = d->current;

	switch (ev->verdict) {
	case VS_VERDICT_OK:
		g_snprintf(buf, size,
		           "pool %s back to normal: %s %.2f within %.2f..%.2f, %u instances",
		           ev->pool->name, metric, d->value, d->threshold_low, d->threshold_high,
		           instances);
		break;
	case VS_VERDICT_HIGH:
		g_snprintf(buf, size,
		           "pool %s high%s: %s %.2f above %.2f, %u instances, desired %u",
		           ev->pool->name, ev->repeat ? " (still)" : "", metric, d->value,
		           d->threshold_high, instances, d->desired);
		break;
	case VS_VERDICT_LOW:
		g_snprintf(buf, size, "pool %s low%s: %s %.2f below %.2f, %u instances, desired %u",
		           ev->pool->name, ev->repeat ? " (still)" : "", metric, d->value,
		           d->threshold_low, instances, d->desired);
		break;
	case VS_VERDICT_AT_MAX:
		g_snprintf(buf, size,
		           "pool %s at its maximum of %u instances and still high: %s %.2f above "
		           "%.2f",
		           ev->pool->name, ev->pool->max, metric, d->value, d->threshold_high);
		break;
	case VS_VERDICT_UNKNOWN:
		g_snprintf(buf, size, "pool %s not evaluated", ev->pool->name);
		break;
	}
}

/**
 * vsc_notification_dispatch_pool:
 * @ev: the event (from the pool worker)
 *
 * Severity WARNING for high and low, FAILURE at max, OKAY back to normal;
 * meta data pool, state, metric, value, threshold_high, threshold_low,
 * instances, desired, repeat.
 */
void vsc_notification_dispatch_pool(const vs_pool_notice *ev)
{
	notification_t n = {
	    .severity = severity_of(ev->verdict),
	    .time = DOUBLE_TO_CDTIME_T(ev->time),
	};
	const vs_policy_decision *d = &ev->decision;

	if (n.time == 0)
		n.time = cdtime();
	describe(ev, n.message, sizeof(n.message));
	g_strlcpy(n.host, hostname_g, sizeof(n.host));
	g_strlcpy(n.plugin, VSC_PLUGIN_NAME, sizeof(n.plugin));
	g_strlcpy(n.plugin_instance, ev->pool->name, sizeof(n.plugin_instance));
	g_strlcpy(n.type, POOL_NOTIF_TYPE, sizeof(n.type));
	g_strlcpy(n.type_instance, vs_metric_name(d->metric), sizeof(n.type_instance));

	plugin_notification_meta_add_string(&n, "pool", ev->pool->name);
	plugin_notification_meta_add_string(&n, "state", vs_verdict_name(ev->verdict));
	plugin_notification_meta_add_string(&n, "previous", vs_verdict_name(ev->previous));
	plugin_notification_meta_add_string(&n, "metric", vs_metric_name(d->metric));
	plugin_notification_meta_add_double(&n, "value", d->value);
	plugin_notification_meta_add_double(&n, "threshold_high", d->threshold_high);
	plugin_notification_meta_add_double(&n, "threshold_low", d->threshold_low);
	plugin_notification_meta_add_signed_int(&n, "instances", d->current);
	plugin_notification_meta_add_signed_int(&n, "desired", d->desired);
	plugin_notification_meta_add_boolean(&n, "repeat", ev->repeat);

	plugin_dispatch_notification(&n);
	plugin_notification_meta_free(n.meta);
}

static const notification_meta_t *find_meta(const notification_t *n, const char *name)
{
	for (const notification_meta_t *m = n->meta; m; m = m->next)
		if (strcasecmp(m->name, name) == 0)
			return m;
	return NULL;
}

/* Reads a numeric meta value of any numeric type; false when absent. */
static bool meta_number(const notification_t *n, const char *name, double *out)
{
	const notification_meta_t *m = find_meta(n, name);

	if (!m)
		return false;
	switch (m->type) {
	case NM_TYPE_DOUBLE:
		*out = m->nm_value.nm_double;
		return isfinite(*out);
	case NM_TYPE_SIGNED_INT:
		*out = (double)m->nm_value.nm_signed_int;
		return true;
	case NM_TYPE_UNSIGNED_INT:
		*out = (double)m->nm_value.nm_unsigned_int;
		return true;
	default:
		return false;
	}
}

static const char *meta_string(const notification_t *n, const char *name)
{
	const notification_meta_t *m = find_meta(n, name);

	return m && m->type == NM_TYPE_STRING ? m->nm_value.nm_string : NULL;
}

static vs_severity wire_severity(int severity)
{
	switch (severity) {
	case NOTIF_FAILURE:
		return VS_SEVERITY_FAILURE;
	case NOTIF_WARNING:
		return VS_SEVERITY_WARNING;
	default:
		return VS_SEVERITY_OKAY;
	}
}

static bool pool_from_collectd(const notification_t *n, vs_notification *out)
{
	const char *pool = meta_string(n, "pool");
	const char *state = meta_string(n, "state");
	const char *metric = meta_string(n, "metric");
	double v;

	vs_verdict verdict;

	if (!pool || !state || !metric || !vs_valid_pool_name(pool) ||
	    !vs_verdict_from_name(state, &verdict) || verdict == VS_VERDICT_UNKNOWN)
		return false;
	vs_notification_init(out, VS_NOTIFY_POOL);
	out->verdict = verdict;
	g_strlcpy(out->pool, pool, sizeof(out->pool));
	vs_notification_set_text(out->metric, metric);
	out->severity = wire_severity(n->severity);
	if (meta_number(n, "value", &v))
		out->value = v;
	if (meta_number(n, "threshold_high", &v))
		out->threshold_high = v;
	if (meta_number(n, "threshold_low", &v))
		out->threshold_low = v;
	if (meta_number(n, "instances", &v))
		out->instances = (int)v;
	if (meta_number(n, "desired", &v))
		out->desired = (int)v;
	out->time = CDTIME_T_TO_DOUBLE(n->time);
	vs_notification_set_text(out->host, n->host);
	vs_notification_set_text(out->source, "collectd");
	vs_notification_set_text(out->message, n->message);
	return true;
}

/* A threshold-plugin notification: CurrentValue, WarningMin/Max,
 * FailureMin/Max. Its verdict is not decided here: the wire format derives
 * it (vs_policy_threshold_verdict) when the line is parsed. */
static void threshold_from_collectd(const notification_t *n, vs_notification *out)
{
	double v;

	vs_notification_init(out, VS_NOTIFY_THRESHOLD);
	out->severity = wire_severity(n->severity);
	if (meta_number(n, "CurrentValue", &v))
		out->value = v;
	if (!meta_number(n, n->severity == NOTIF_FAILURE ? "FailureMax" : "WarningMax",
	                 &out->threshold_high))
		meta_number(n, "WarningMax", &out->threshold_high);
	if (!meta_number(n, n->severity == NOTIF_FAILURE ? "FailureMin" : "WarningMin",
	                 &out->threshold_low))
		meta_number(n, "WarningMin", &out->threshold_low);
	if (vs_valid_pool_name(n->plugin_instance))
		g_strlcpy(out->pool, n->plugin_instance, sizeof(out->pool));
	vs_notification_set_text(out->metric, n->type);
	out->time = CDTIME_T_TO_DOUBLE(n->time);
	vs_notification_set_text(out->host, n->host);
	vs_notification_set_text(out->source, "collectd");
	vs_notification_set_text(out->message, n->message);
	vs_notification_set_text(out->plugin, n->plugin);
	vs_notification_set_text(out->plugin_instance, n->plugin_instance);
	vs_notification_set_text(out->type_name, n->type);
	vs_notification_set_text(out->type_instance, n->type_instance);
}

/**
 * vsc_notification_from_collectd:
 * @n: any notification collectd dispatched
 * @out: filled unless the result is VSC_NOTIF_IGNORE
 *
 * Our pool notifications (type vs_policy_state with pool meta data) become
 * "pool" messages; any other notification about a virtscale value (the
 * threshold plugin's) becomes a "threshold" message; the rest is ignored.
 */
vsc_notif_kind vsc_notification_from_collectd(const notification_t *n, vs_notification *out)
{
	if (strcmp(n->plugin, VSC_PLUGIN_NAME) != 0)
		return VSC_NOTIF_IGNORE;
	if (strcmp(n->type, POOL_NOTIF_TYPE) == 0 && find_meta(n, "pool"))
		return pool_from_collectd(n, out) ? VSC_NOTIF_POOL : VSC_NOTIF_IGNORE;
	threshold_from_collectd(n, out);
	return VSC_NOTIF_THRESHOLD;
}
