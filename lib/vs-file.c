/*
 * vs-file.c - atomic, durable file replacement (see vs-file.h).
 */
#include "config.h"

#include "vs-error.h"
#include "vs-file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static bool write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return false;
		}
		data += n;
		len -= (size_t)n;
	}
	return true;
}

static bool fail(GError **error, vs_file_error_code code, const char *what, const char *path,
                 int err)
{
	g_set_error(error, VS_FILE_ERROR, code, "%s %s: %s", what, path, g_strerror(err));
	return false;
}

/**
 * vs_file_replace:
 * @path: the file to replace (or create)
 * @data: its new content
 * @len: bytes of @data
 * @mode: permission bits, or VS_FILE_KEEP_MODE
 * @error: set on failure
 *
 * See vs-file.h. Returns true when the new content is in place and durable.
 */
bool vs_file_replace(const char *path, const void *data, size_t len, int mode, GError **error)
{
	g_autofree char *dir = g_path_get_dirname(path);
	g_autofree char *base = g_path_get_basename(path);
	g_autofree char *tmp = g_strdup_printf("%s/.%s.tmp-XXXXXX", dir, base);
	struct stat st;
	int fd, dfd, err;

	if (mode < 0)
		mode = stat(path, &st) == 0 ? (int)(st.st_mode & 07777) : 0644;
	fd = g_mkstemp_full(tmp, O_WRONLY | O_CLOEXEC, 0600);
	if (fd < 0)
		return fail(error, VS_FILE_ERROR_CREATE, "cannot create", tmp, errno);
	if (!write_all(fd, data, len) || fchmod(fd, (mode_t)mode) < 0 || fsync(fd) < 0) {
		err = errno;
		close(fd);
		unlink(tmp);
		return fail(error, VS_FILE_ERROR_WRITE, "cannot write", tmp, err);
	}
	if (close(fd) < 0) {
		err = errno;
		unlink(tmp);
		return fail(error, VS_FILE_ERROR_WRITE, "cannot write", tmp, err);
	}
	if (rename(tmp, path) < 0) {
		err = errno;
		unlink(tmp);
		return fail(error, VS_FILE_ERROR_RENAME, "cannot rename to", path, err);
	}
	/* the rename itself is durable only once the directory is synced */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return fail(error, VS_FILE_ERROR_SYNC, "cannot open", dir, errno);
	if (fsync(dfd) < 0) {
		err = errno;
		close(dfd);
		return fail(error, VS_FILE_ERROR_SYNC, "cannot sync", dir, err);
	}
	close(dfd);
	return true;
}
