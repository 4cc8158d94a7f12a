/*
 * vs-usage-store.h - the usage counters of one program, kept in memory and
 * persisted under state_dir: fed from the collector's snapshots (no libvirt
 * call of its own), saved by a thread of its own every
 * VS_USAGE_SAVE_INTERVAL_S and when the program stops.
 *
 * The file (vs-usage.c's text, checksummed) is replaced atomically with
 * fsync (vs-file.c); the previous good content is kept next to it as
 * FILE.prev. A torn or corrupt file is moved aside to FILE.corrupt and the
 * last good copy used and written back; when none is usable the counters
 * start from zero and the discontinuity time says when.
 */
#ifndef VS_USAGE_STORE_H
#define VS_USAGE_STORE_H

#include "vs-config.h"
#include "vs-domain.h"
#include "vs-usage.h"

#define VS_USAGE_SAVE_INTERVAL_S 60

typedef struct vs_usage_store vs_usage_store;

/* The state file a program keeps: state_dir/usage-@program.state
 * ("snmp", "collectd"). */
char *vs_usage_store_path(const vs_config *cfg, const char *program);

/*
 * vs_usage_load_file:
 * Reads @path, falling back to @path.prev when it is missing, torn or
 * corrupt. Returns NULL with @error (about @path; G_FILE_ERROR_NOENT when
 * it is missing) when neither is usable. *@used_prev tells which one was
 * read. Never writes.
 */
vs_usage *vs_usage_load_file(const char *path, bool *used_prev, GError **error);

/* Loads (and repairs) @path; never fails: counters start from zero then.
 * @cfg must outlive the store. */
vs_usage_store *vs_usage_store_open(const vs_config *cfg, const char *path);
/* Starts the thread that saves every @save_interval_s seconds (0: the default). */
void vs_usage_store_start(vs_usage_store *st, unsigned save_interval_s);
/* Collector thread: accounts @snap (pure computation under a mutex, no I/O). */
void vs_usage_store_offer(vs_usage_store *st, const vs_snapshot *snap);
/* A copy of the counters for a reader in another thread. */
vs_usage *vs_usage_store_copy(vs_usage_store *st);
/* Writes the file now (saver thread, or at stop). */
bool vs_usage_store_save(vs_usage_store *st, GError **error);
/* Stops the thread, saves a last time, frees. */
void vs_usage_store_close(vs_usage_store *st);

#endif
