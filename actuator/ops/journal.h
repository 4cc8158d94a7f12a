/*
 * journal.h - STATE_DIR/journal: every step of every action, recorded and
 * made durable before the step is taken, so a crash at any point leaves a
 * record of what may be half-made (reconcile.c settles it). Thread-safe.
 */
#ifndef VS_JOURNAL_H
#define VS_JOURNAL_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct vs_journal vs_journal;

typedef struct vs_journal_op {
	uint64_t id;
	char *op; /* "clone", "scale-in", "migrate" */
	char *pool;
	char *name; /* domain */
	char *uri;
	char *vol_pool;
	char **vols; /* volume names we created (clone) or will delete */
	char *address;
	char *dest_uri;     /* migrate: the host it moves to (uri: where it was) */
	char *dest_address; /* migrate: its address there */
	char *step;         /* last step reached */
	uint64_t owner;     /* in memory only: the running job that began it, 0 none */
} vs_journal_op;

vs_journal *vs_journal_open(const char *state_dir, GError **error);
void vs_journal_close(vs_journal *j);
/* Records a new operation before its first step; its id, 0 on failure (the
 * caller must not act then). */
uint64_t vs_journal_begin(vs_journal *j, const vs_journal_op *op, GError **error);
/* Records a step; false (the record cut off again) when it could not be
 * made durable: the caller must not go on as if it had been. */
bool vs_journal_step(vs_journal *j, uint64_t id, const char *step, GError **error);
/* Closes an operation ("ok", "rolled-back", "finished", "adopted",
 * "dropped"); false when that could not be recorded: the operation stays
 * open and reconcile settles it later. */
bool vs_journal_end(vs_journal *j, uint64_t id, const char *result, GError **error);
/* Copies of the operations begun and not ended, of @pool (NULL = all). */
GPtrArray *vs_journal_pending(vs_journal *j, const char *pool);

/* Owners: a pool has two workers (its actions, and its warm pool's upkeep
 * beside them), and each job begins by settling what interrupted jobs left
 * open. An operation a job still running holds open is no leftover: each
 * job takes an owner (vs_journal_owner_new), sets it on its thread (and on
 * the threads it starts), and releases it when it ends; what it left open
 * then is settled by the next job, as after a crash. */
uint64_t vs_journal_owner_new(void);
/* The owner of the operations the calling thread begins from now (0: none). */
void vs_journal_set_owner(uint64_t owner);
uint64_t vs_journal_get_owner(void);
/* The operations of @owner still open become leftovers for reconcile. */
void vs_journal_release(vs_journal *j, uint64_t owner);
/* As vs_journal_pending, without those a running job holds. */
GPtrArray *vs_journal_settleable(vs_journal *j, const char *pool);
void vs_journal_op_free(vs_journal_op *op);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vs_journal_op, vs_journal_op_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vs_journal, vs_journal_close)

#endif
