/*
 * vs-file.h - replacing a file so that a reader, or the next boot after a
 * crash, sees the old content or the new one and never half of either:
 * status.json, the vmIndex map, the alert queue and the nginx upstream
 * file all go through here.
 */
#ifndef VS_FILE_H
#define VS_FILE_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

#define VS_FILE_KEEP_MODE (-1) /* the replaced file's mode, 0644 for a new file */

/*
 * vs_file_replace:
 * Writes @len bytes of @data to a hidden temporary file in @path's
 * directory (".NAME.tmp-XXXXXX", which no "*.conf" include matches),
 * retrying short writes, fsyncs it, gives it @mode, renames it over @path
 * and fsyncs the directory. On failure the temporary file is gone and
 * @error (VS_FILE_ERROR) names the step; @path is untouched unless only
 * the directory sync failed (VS_FILE_ERROR_SYNC: the new content is in
 * place, its durability unknown).
 */
bool vs_file_replace(const char *path, const void *data, size_t len, int mode, GError **error);

#endif
