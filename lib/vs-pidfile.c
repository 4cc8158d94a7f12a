/*
 * vs-pidfile.c - a daemon's locked pid file (see vs-pidfile.h).
 *
 * flock() rather than fcntl() locks: an flock lock belongs to the open
 * file, so it is taken before daemon(3) forks (a refusal still reaches the
 * terminal) and the child keeps it when the parent exits, and two opens in
 * one process conflict as two processes do (the unit tests rely on it).
 */
#include "config.h"

#include "vs-pidfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* Enough for any pid and its newline; a longer file names no pid. */
#define PIDFILE_MAX_TEXT 32
/* Attempts when the file is replaced under us (see lock_current). */
#define PIDFILE_ATTEMPTS 5

struct vs_pidfile {
	char *path;
	int fd;
};

/** vs_pidfile_parse: see vs-pidfile.h. */
pid_t vs_pidfile_parse(const char *text, size_t len)
{
	long long pid = 0;
	size_t i = 0;

	if (!text)
		return -1;
	if (len > 0 && text[len - 1] == '\n')
		len--;
	if (len == 0 || len > 10 || text[0] == '0')
		return -1;
	for (i = 0; i < len; i++) {
		if (text[i] < '0' || text[i] > '9')
			return -1;
		pid = pid * 10 + (text[i] - '0');
	}
	return pid <= INT_MAX ? (pid_t)pid : -1;
}

/* The pid the open file names, -1 when none. */
static pid_t read_pid(int fd)
{
	char buf[PIDFILE_MAX_TEXT];
	ssize_t n = pread(fd, buf, sizeof(buf), 0);

	return n > 0 && (size_t)n < sizeof(buf) ? vs_pidfile_parse(buf, (size_t)n) : -1;
}

static void *io_error(GError **error, const char *path, const char *what, int err)
{
	g_set_error(error, VS_PIDFILE_ERROR, VS_PIDFILE_ERROR_IO, "pid file %s: %s: %s", path, what,
	            g_strerror(err));
	return NULL;
}

/* True when @fd is still the file at @path: a daemon that was stopping
 * may have removed it between our open and our lock, and a lock on a
 * file nobody can find again protects nothing. */
static bool still_at_path(int fd, const char *path)
{
	struct stat opened, named;

	return fstat(fd, &opened) == 0 && stat(path, &named) == 0 &&
	       opened.st_dev == named.st_dev && opened.st_ino == named.st_ino;
}

/** vs_pidfile_lock: see vs-pidfile.h. */
vs_pidfile *vs_pidfile_lock(const char *path, pid_t *holder, GError **error)
{
	*holder = -1;
	for (int attempt = 0; attempt < PIDFILE_ATTEMPTS; attempt++) {
		struct stat st;
		int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0644);

		if (fd < 0)
			return io_error(error, path, "cannot open", errno);
		if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
			int err = errno;

			close(fd);
			return io_error(error, path, "not a regular file", err ? err : EINVAL);
		}
		if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
			int err = errno;

			if (err == EWOULDBLOCK) {
				*holder = read_pid(fd);
				close(fd);
				g_set_error(error, VS_PIDFILE_ERROR, VS_PIDFILE_ERROR_HELD,
				            "pid file %s is locked by a running process", path);
				return NULL;
			}
			close(fd);
			return io_error(error, path, "cannot lock", err);
		}
		if (!still_at_path(fd, path)) {
			close(fd);
			continue;
		}
		/* whatever it says is no longer true: empty until our pid */
		*holder = read_pid(fd);
		if (ftruncate(fd, 0) != 0) {
			int err = errno;

			close(fd);
			return io_error(error, path, "cannot truncate", err);
		}
		vs_pidfile *f = g_new0(vs_pidfile, 1);

		f->path = g_strdup(path);
		f->fd = fd;
		return f;
	}
	return io_error(error, path, "replaced while being locked", EAGAIN);
}

/** vs_pidfile_write: see vs-pidfile.h. */
bool vs_pidfile_write(vs_pidfile *f, pid_t pid, GError **error)
{
	char text[PIDFILE_MAX_TEXT];
	int len = g_snprintf(text, sizeof(text), "%d\n", (int)pid);
	ssize_t n;

	if (ftruncate(f->fd, 0) != 0) {
		io_error(error, f->path, "cannot truncate", errno);
		return false;
	}
	n = pwrite(f->fd, text, (size_t)len, 0);
	if (n != len) {
		io_error(error, f->path, "cannot write", n < 0 ? errno : ENOSPC);
		return false;
	}
	return true;
}

/** vs_pidfile_path: see vs-pidfile.h. */
const char *vs_pidfile_path(const vs_pidfile *f)
{
	return f->path;
}

/** vs_pidfile_remove: see vs-pidfile.h. */
void vs_pidfile_remove(vs_pidfile *f)
{
	if (!f)
		return;
	/* unlinked before the lock goes: a daemon starting now either
	 * finds the lock held or a file that is no longer the one at the path
	 * (and opens the path again) */
	unlink(f->path);
	close(f->fd);
	g_free(f->path);
	g_free(f);
}
