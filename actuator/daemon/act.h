/*
 * act.h - what the daemon's parts ask of virtscaled as a whole. Event-loop
 * thread only.
 */
#ifndef VS_ACT_H
#define VS_ACT_H

#include "alert.h"

typedef struct vs_act vs_act;

/* The status file is rewritten soon (changes are coalesced). */
void vs_act_status_changed(vs_act *act);
/* Queues an administrator alert; never blocks. */
void vs_act_alert(vs_act *act, vs_alert_kind kind, const char *pool, const char *step,
                  const char *error, const char *summary);

#endif
