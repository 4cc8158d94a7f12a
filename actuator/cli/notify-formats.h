/*
 * notify-formats.h - what stock tools hand a program on stdin, turned into
 * one notification of the wire format, so collectd's exec plugin
 * (NotificationExec) and snmptrapd's traphandle drive the actuator with no
 * glue. Nothing in the input is trusted.
 */
#ifndef VS_NOTIFY_FORMATS_H
#define VS_NOTIFY_FORMATS_H

#include "vs-config.h"
#include "vs-notify.h"

/* @pool / @state (NULL: from the input) override what the input says.
 * False with @error (VS_ACT_ERROR_INVALID) when the input says too little. */
bool vs_notify_from_collectd_exec(const char *text, const char *pool, const char *state,
                                  vs_notification *out, GError **error);
bool vs_notify_from_snmptrap(const char *text, const vs_config *cfg, const char *pool,
                             const char *state, vs_notification *out, GError **error);

#endif
