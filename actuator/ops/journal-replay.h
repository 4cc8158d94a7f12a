/*
 * journal-replay.h - reading STATE_DIR/journal back: which operations a
 * previous run left open, and where the last complete record ends. Pure
 * (no I/O): journal.c reads the file and cuts it, the unit tests and the
 * fuzzer feed it any bytes.
 */
#ifndef VS_JOURNAL_REPLAY_H
#define VS_JOURNAL_REPLAY_H

#include "journal.h"

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

/* Operation ids run from 1 (0 means failure) to this; replay skips any
 * other as foreign. */
#define VS_JOURNAL_MAX_ID ((uint64_t)G_MAXINT32)

typedef struct vs_journal_replay {
	GHashTable *open; /* id -> vs_journal_op*, the operations begun and not ended */
	uint64_t next_id; /* above every id seen */
	size_t good_len;  /* bytes up to the end of the last complete record */
	unsigned records; /* complete records read */
	unsigned skipped; /* complete lines before good_len that are no record */
} vs_journal_replay;

/*
 * Replays @len bytes of journal text (any bytes: NULs, invalid UTF-8, a
 * torn last line) into @r, whose @open table the caller created (see
 * vs_journal_replay_table()). A record is one line ending in '\n' that is
 * a JSON object with a positive integer "id"; what follows the last one
 * (a line cut short by a crash or a full disk, NUL bytes, garbage) is the
 * torn tail the caller cuts at @good_len.
 */
void vs_journal_replay_data(vs_journal_replay *r, const char *data, size_t len);
/* An empty table of open operations for vs_journal_replay.open. */
GHashTable *vs_journal_replay_table(void);

#endif
