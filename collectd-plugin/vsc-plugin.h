/*
 * vsc-plugin.h - what the plugin's collectd-facing files share. Include
 * after collectd.h and plugin.h (never with virtscale's own config.h:
 * collectd's defines PACKAGE_* and VERSION).
 */
#ifndef VSC_PLUGIN_H
#define VSC_PLUGIN_H

#include "vsc-config.h"

#define VSC_PLUGIN_NAME "virtscale"

/* vsc-config.c */
int vsc_config_parse(oconfig_item_t *ci, vsc_options *o);

#endif
