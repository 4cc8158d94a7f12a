/*
 * vm-migrating.h - a domain the actuator is moving to another host, for
 * vmOperState migrating(9). Pure: main loop.
 */
#ifndef VS_VM_MIGRATING_H
#define VS_VM_MIGRATING_H

#include "vs-config.h"
#include "vs-domain.h"
#include "vs-status.h"

#include <stdbool.h>

/* Is @d the source of a migration @st (may be NULL) reports running? */
bool vm_migrating_out(const vs_status *st, const vs_config *cfg, const vs_domain_stats *d);

#endif
