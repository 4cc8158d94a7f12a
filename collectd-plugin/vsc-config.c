/*
 * vsc-config.c - parses the <Plugin virtscale> block (see vsc-config.h).
 *
 * Every key is known; a misspelt key or a bad value fails the block, so
 * collectd (and `collectd -t`) refuses the configuration instead of running
 * with a default the operator did not mean.
 */
#include "collectd.h"
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

static bool get_string(const oconfig_item_t *ci, char **out)
{
	if (ci->values_num != 1 || ci->values[0].type != OCONFIG_TYPE_STRING) {
		ERROR("virtscale: option `%s' needs exactly one string argument", ci->key);
		return false;
	}
	g_free(*out);
	*out = g_strdup(ci->values[0].value.string);
	return true;
}

static bool get_number(const oconfig_item_t *ci, double lo, double hi, double *out)
{
	double v;

	if (ci->values_num != 1 || ci->values[0].type != OCONFIG_TYPE_NUMBER) {
		ERROR("virtscale: option `%s' needs exactly one number argument", ci->key);
		return false;
	}
	v = ci->values[0].value.number;
	if (!isfinite(v) || v < lo || v > hi) {
		ERROR("virtscale: option `%s': %g is out of range (%g to %g)", ci->key, v, lo, hi);
		return false;
	}
	*out = v;
	return true;
}

static bool get_boolean(const oconfig_item_t *ci, bool *out)
{
	if (ci->values_num != 1 || ci->values[0].type != OCONFIG_TYPE_BOOLEAN) {
		ERROR("virtscale: option `%s' needs exactly one boolean argument (true or false)",
		      ci->key);
		return false;
	}
	*out = ci->values[0].value.boolean != 0;
	return true;
}

static bool parse_option(const oconfig_item_t *c, vsc_options *o)
{
	double v;

	if (c->children_num > 0) {
		ERROR("virtscale: option `%s' takes no block", c->key);
		return false;
	}
	if (strcasecmp(c->key, "ConfigFile") == 0)
		return get_string(c, &o->config_file);
	if (strcasecmp(c->key, "ActuatorSocket") == 0)
		return get_string(c, &o->actuator_socket);
	if (strcasecmp(c->key, "ForwardNotifications") == 0)
		return get_boolean(c, &o->forward_notifications);
	if (strcasecmp(c->key, "ForwardThresholds") == 0)
		return get_boolean(c, &o->forward_thresholds);
	if (strcasecmp(c->key, "Interval") == 0) {
		if (!get_number(c, 0.1, 3600, &v))
			return false;
		o->interval_s = v;
		return true;
	}
	if (strcasecmp(c->key, "SlowInterval") == 0) {
		if (!get_number(c, 0, 3600, &v))
			return false;
		o->slow_interval_s = v;
		return true;
	}
	if (strcasecmp(c->key, "RepeatInterval") == 0) {
		if (!get_number(c, 0, 86400, &v))
			return false;
		if (v != floor(v)) {
			ERROR("virtscale: option `RepeatInterval' takes whole seconds");
			return false;
		}
		o->repeat_interval_s = (int)v;
		return true;
	}
	if (strcasecmp(c->key, "QueueLength") == 0) {
		if (!get_number(c, 1, 1000000, &v))
			return false;
		o->queue_length = (unsigned)v;
		return true;
	}
	if (strcasecmp(c->key, "MaxAge") == 0) {
		if (!get_number(c, 2, 1000, &v))
			return false;
		o->max_age_intervals = (unsigned)v;
		return true;
	}
	ERROR("virtscale: unknown option `%s' in <Plugin virtscale> (known: ConfigFile, "
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
