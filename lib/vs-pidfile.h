/*
 * vs-pidfile.h - the pid file of a daemon (-p FILE): one daemon per file.
 * The file is created if need be and locked (flock) for the daemon's whole
 * life, so a second daemon given the same file learns at once that the
 * first still runs, whatever the file says; a file left by a daemon that
 * died (kill -9, a crash) holds no lock and is simply taken over. The pid
 * is written once the lock is held, and the file removed on a clean exit.
 */
#ifndef VS_PIDFILE_H
#define VS_PIDFILE_H

#include "vs-error.h"

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct vs_pidfile vs_pidfile;

/*
 * vs_pidfile_lock:
 * Opens @path (created 0644, never through a symbolic link, a regular file
 * only) and takes its lock without waiting. NULL with @error
 * VS_PIDFILE_ERROR_HELD when another process holds it (*@holder: the pid
 * the file names, or -1 when it names none yet), VS_PIDFILE_ERROR_IO for
 * any other failure. On success the file is emptied and *@holder is the
 * pid a previous daemon left in it (taken over: it held no lock any more),
 * or -1. The lock
 * survives fork() (it belongs to the open file, as daemon(3) needs).
 */
vs_pidfile *vs_pidfile_lock(const char *path, pid_t *holder, GError **error);

/* Replaces the file's content with "@pid\n". False with @error (IO). */
bool vs_pidfile_write(vs_pidfile *f, pid_t pid, GError **error);

/* The file's path, as given. */
const char *vs_pidfile_path(const vs_pidfile *f);

/* Removes the file (it is still ours: the lock is held until now), then
 * closes it and frees @f. NULL is ignored. */
void vs_pidfile_remove(vs_pidfile *f);

/*
 * vs_pidfile_parse:
 * The pid in a pid file's content: decimal digits, optionally followed by
 * one newline, 1..INT_MAX (leading zeros, signs, blanks and anything else
 * are refused); -1 when it holds none.
 */
pid_t vs_pidfile_parse(const char *text, size_t len);

#endif
