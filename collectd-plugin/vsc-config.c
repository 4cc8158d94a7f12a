/*
 * vsc-config.c - parses the <Plugin virtscale> block (see vsc-config.h)
 * with collectd's own getters, which check each value's type and log what
 * is wrong. Every key is known; a misspelt key or a bad value fails the
 * block, so collectd refuses the configuration instead of running with a
 * default the operator did not mean.
 */
#include "collectd.h"
#include "configfile.h"
#include "plugin.h"

#include "vsc-config.h"
#include "vsc-plugin.h"

#include <math.h>
#include <string.h>
#include <strings.h>

/**
 * vsc_options_init: the defaults (everything from virtscale.conf).
 */
void vsc_options_init(vsc_options *o)
{
	*o = (vsc_options){
	    .interval_s = 0,
	    .slow_interval_s = -1,
	    .repeat_interval_s = -1,
	    .forward_notifications = true,
	    .forward_thresholds = true,
	    .queue_length = 1000,
	    .max_age_intervals = 5,
	};
}

/**
 * vsc_options_clear: frees the strings of @o.
 */
void vsc_options_clear(vsc_options *o)
{
	g_clear_pointer(&o->config_file, g_free);
	g_clear_pointer(&o->actuator_socket, g_free);
}

/* A number within [lo, hi] (collectd's getter checks the type). */
static bool get_number(const oconfig_item_t *ci, double lo, double hi, double *out)
{
	double v;

	if (cf_util_get_double(ci, &v) != 0)
		return false;
	if (!isfinite(v) || v < lo || v > hi) {
		ERROR(VSC_PLUGIN_NAME ": option `%s': %g is out of range (%g to %g)", ci->key, v,
		      lo, hi);
		return false;
	}
	*out = v;
	return true;
}

/* A number of whole units within [lo, hi]. */
static bool get_whole(const oconfig_item_t *ci, double lo, double hi, double *out)
{
	if (!get_number(ci, lo, hi, out))
		return false;
	if (*out != floor(*out)) {
		ERROR(VSC_PLUGIN_NAME ": option `%s' takes a whole number", ci->key);
		return false;
	}
	return true;
}

static bool parse_option(const oconfig_item_t *c, vsc_options *o)
{
	double v;

	if (c->children_num > 0) {
		ERROR(VSC_PLUGIN_NAME ": option `%s' takes no block", c->key);
		return false;
	}
	if (strcasecmp(c->key, "ConfigFile") == 0)
		return cf_util_get_string(c, &o->config_file) == 0;
	if (strcasecmp(c->key, "ActuatorSocket") == 0)
		return cf_util_get_string(c, &o->actuator_socket) == 0;
	if (strcasecmp(c->key, "ForwardNotifications") == 0)
		return cf_util_get_boolean(c, &o->forward_notifications) == 0;
	if (strcasecmp(c->key, "ForwardThresholds") == 0)
		return cf_util_get_boolean(c, &o->forward_thresholds) == 0;
	if (strcasecmp(c->key, "Interval") == 0)
		return get_number(c, 0.1, 3600, &o->interval_s);
	if (strcasecmp(c->key, "SlowInterval") == 0)
		return get_number(c, 0, 3600, &o->slow_interval_s);
	if (strcasecmp(c->key, "RepeatInterval") == 0) {
		if (!get_whole(c, 0, 86400, &v))
			return false;
		o->repeat_interval_s = (int)v;
		return true;
	}
	if (strcasecmp(c->key, "QueueLength") == 0) {
		if (!get_whole(c, 1, 1000000, &v))
			return false;
		o->queue_length = (unsigned)v;
		return true;
	}
	if (strcasecmp(c->key, "MaxAge") == 0) {
		if (!get_whole(c, 2, 1000, &v))
			return false;
		o->max_age_intervals = (unsigned)v;
		return true;
	}
	ERROR(VSC_PLUGIN_NAME
	      ": unknown option `%s' in <Plugin virtscale> (known: ConfigFile, "
	      "Interval, SlowInterval, RepeatInterval, ActuatorSocket, ForwardNotifications, "
	      "ForwardThresholds, QueueLength, MaxAge)",
	      c->key);
	return false;
}

/**
 * vsc_config_parse:
 * @ci: the <Plugin virtscale> block
 * @o: options, already initialized; updated
 *
 * Returns 0, or -1 after logging what is wrong.
 */
int vsc_config_parse(oconfig_item_t *ci, vsc_options *o)
{
	for (int i = 0; i < ci->children_num; i++)
		if (!parse_option(&ci->children[i], o))
			return -1;
	return 0;
}
