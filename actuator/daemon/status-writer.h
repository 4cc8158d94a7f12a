/*
 * status-writer.h - STATE_DIR/status.json written by a thread of its own:
 * the write is fsync'd, and the event loop must never wait for a disk.
 */
#ifndef VS_STATUS_WRITER_H
#define VS_STATUS_WRITER_H

#include "vs-status.h"

typedef struct vs_status_writer vs_status_writer;

vs_status_writer *vs_status_writer_new(const char *state_dir);
/* Takes @s; only the newest status not yet written is written. */
void vs_status_writer_post(vs_status_writer *w, vs_status *s);
/* Writes what is pending, then stops. */
void vs_status_writer_free(vs_status_writer *w);

#endif
