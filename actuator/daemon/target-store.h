/*
 * target-store.h - STATE_DIR/targets.json: the manual targets users set
 * (`virtscalectl scale POOL N`), so that a restart - even after kill -9 in
 * the middle of reaching one - carries on towards them. Replaced atomically
 * (lib/vs-file.c) by a thread of its own: the event loop posts and never
 * waits for the disk. Shared by every pool's machine (reference-counted).
 *
 *   {"v":1,"targets":{"web":3}}
 */
#ifndef VS_TARGET_STORE_H
#define VS_TARGET_STORE_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

#define VS_TARGETS_FILE "targets.json"
#define VS_TARGET_MAX   1000 /* as the wire format's desired count */

typedef struct vs_target_store vs_target_store;

/* The store of @state_dir: the one already open, or a new one that reads
 * the file (an unreadable one is logged and starts empty). */
vs_target_store *vs_target_store_open(const char *state_dir);
void vs_target_store_unref(vs_target_store *s);
/* The recorded manual target of @pool, -1 none. Event loop. */
int vs_target_store_get(vs_target_store *s, const char *pool);
/* Records (-1: forgets) @pool's manual target; written soon. Event loop. */
void vs_target_store_set(vs_target_store *s, const char *pool, int target);

/* Pure, for the store and its tests: pool -> GINT_TO_POINTER(target+1). */
GHashTable *vs_targets_from_json(const char *json, size_t len, GError **error);
char *vs_targets_to_json(GHashTable *targets);

#endif
