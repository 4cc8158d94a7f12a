/*
 * leftovers.h - journaled operations of a pool or host that left the
 * configuration: reported once and dropped at start-up. Runs before the
 * event loop starts (it writes the journal).
 */
#ifndef VS_LEFTOVERS_H
#define VS_LEFTOVERS_H

#include "act.h"
#include "journal.h"
#include "vs-config.h"

/* Raises one alert per such operation, naming its domain, and ends it in
 * the journal ("dropped"); returns how many were dropped. */
unsigned vs_leftovers_drop(vs_act *act, vs_journal *j, const vs_config *cfg);

#endif
