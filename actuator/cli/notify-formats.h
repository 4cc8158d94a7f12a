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

/* collectd exec (notify-formats.c): @pool / @state (NULL: from the input)
 * override what the input says. False with @error (VS_ACT_ERROR_INVALID)
 * when the input says too little. */
bool vs_notify_from_collectd_exec(const char *text, const char *pool, const char *state,
                                  vs_notification *out, GError **error);
/* snmptrapd traphandle (snmptrap-input.c): only a VIRTSCALE-MIB pool
 * notification naming a pool of @cfg (and @pool, when given) by its
 * vsPoolName varbind; anything else fails with VS_ACT_ERROR_REFUSED,
 * input that is not snmptrapd's with VS_ACT_ERROR_INVALID. */
bool vs_notify_from_snmptrap(const char *text, const vs_config *cfg, const char *pool,
                             vs_notification *out, GError **error);

#endif
