/*
 * vs-log.h - logging for lib/ code, routed to whatever the hosting program
 * uses (net-snmp's snmp_log, collectd's plugin_log, syslog/stderr).
 */
#ifndef VS_LOG_H
#define VS_LOG_H

#include <glib.h>
#include <syslog.h>

typedef void (*vs_log_handler)(int priority, const char *message, void *opaque);

/* Installs the handler (NULL = stderr). Not thread-safe: call at start-up. */
void vs_log_set_handler(vs_log_handler fn, void *opaque);
/* Messages above this priority (e.g. LOG_DEBUG) are dropped; default LOG_INFO. */
void vs_log_set_level(int max_priority);
void vs_log(int priority, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

#define vs_error(...)   vs_log(LOG_ERR, __VA_ARGS__)
#define vs_warning(...) vs_log(LOG_WARNING, __VA_ARGS__)
#define vs_notice(...)  vs_log(LOG_NOTICE, __VA_ARGS__)
#define vs_info(...)    vs_log(LOG_INFO, __VA_ARGS__)
#define vs_debug(...)   vs_log(LOG_DEBUG, __VA_ARGS__)

#endif
