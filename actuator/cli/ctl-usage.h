/*
 * ctl-usage.h - `virtscalectl usage`: usage counters per pool and in total,
 * with the cost of [prices], from the file a program keeps under state_dir.
 */
#ifndef VS_CTL_USAGE_H
#define VS_CTL_USAGE_H

#include "vs-config.h"

#include <stdbool.h>
#include <stdint.h>

/* --since: epoch seconds, ISO 8601 with a zone, or a duration back ("24h"). */
bool vs_ctl_usage_parse_since(const char *text, int64_t now_s, int64_t *since);

/* Prints the report; @file NULL: state_dir/usage-snmp.state, else
 * usage-collectd.state. Returns the exit status (0, 1 file or pool
 * missing, 2 bad arguments). */
int vs_ctl_usage(const vs_config *cfg, const char *file, const char *pool, const char *since_text,
                 const char *format);

#endif
