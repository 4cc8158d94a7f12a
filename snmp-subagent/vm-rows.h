/*
 * vm-rows.h - which domains of a snapshot are vmTable rows. vmIndex is
 * keyed by UUID, and a domain can be known to two hosts at once (during a
 * live migration, or defined on both with one UUID): one row per UUID, so
 * every column of a row comes from the same domain.
 *
 * Pure: no I/O.
 */
#ifndef VS_VM_ROWS_H
#define VS_VM_ROWS_H

#include "vs-domain.h"

/*
 * The domains of @snap that are rows, in snapshot order (borrowed
 * pointers): of several with one UUID, the one running (or blocked), else
 * the one active (paused, an incoming migration), else the one on the host
 * configured first. Domains with the same name and different UUIDs on two
 * hosts are two rows.
 */
GPtrArray *vm_rows_select(const vs_snapshot *snap);

#endif
