/*
 * vm-index.h - vmIndex assignment: one stable index per domain UUID, kept
 * for as long as the domain exists and across subagent restarts (the map
 * is persisted in the file named by snmp_state_file).
 */
#ifndef VS_VM_INDEX_H
#define VS_VM_INDEX_H

#include <glib.h>
#include <stdbool.h>

typedef struct vs_vm_index vs_vm_index;

/* Loads @path if it exists (a missing file is an empty map; a malformed
 * line is logged and skipped). */
vs_vm_index *vs_vm_index_load(const char *path);
void vs_vm_index_free(vs_vm_index *m);

/* The index of @uuid_str, assigning the next free one when new. */
int vs_vm_index_get(vs_vm_index *m, const char *uuid_str);
/* The index of @uuid_str, or 0 when it has none. */
int vs_vm_index_lookup(const vs_vm_index *m, const char *uuid_str);
/* Forgets every UUID for which @keep returns false. */
void vs_vm_index_retain(vs_vm_index *m, bool (*keep)(const char *uuid_str, void *opaque),
                        void *opaque);
void vs_vm_index_forget(vs_vm_index *m, const char *uuid_str);
/* Drops every key (a UUID string) of @by_uuid that @m no longer numbers:
 * what is remembered of a domain lasts exactly as long as its vmIndex.
 * Returns how many were dropped. */
guint vs_vm_index_prune(const vs_vm_index *m, GHashTable *by_uuid);
/* Writes the map atomically when it changed since the last save. */
bool vs_vm_index_save(vs_vm_index *m);

#endif
