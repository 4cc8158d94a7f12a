/*
 * test-file.c - atomic file replacement (lib/vs-file.c): the new content
 * and mode are in place after success, the old file is intact after a
 * failure, and no temporary file is left behind either way. The tests run
 * as root, so failures are provoked by paths (a missing directory, a
 * directory in the way), never by permissions.
 */
#include "config.h"

#include "vs-error.h"
#include "vs-file.h"

#include "testutil.h"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

/* A fresh directory for one test, removed with everything in it. */
typedef struct scratch_dir {
	char *path;
} scratch_dir;

static void scratch_remove(const char *path)
{
	g_autoptr(GDir) d = g_dir_open(path, 0, NULL);
	const char *name;

	while (d && (name = g_dir_read_name(d))) {
		g_autofree char *child = g_build_filename(path, name, NULL);

		if (g_file_test(child, G_FILE_TEST_IS_DIR) &&
		    !g_file_test(child, G_FILE_TEST_IS_SYMLINK))
			scratch_remove(child);
		else
			g_unlink(child);
	}
	g_rmdir(path);
}

static void scratch_free(scratch_dir *s)
{
	scratch_remove(s->path);
	g_free(s->path);
	g_free(s);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(scratch_dir, scratch_free)

static scratch_dir *scratch_new(void)
{
	scratch_dir *s = g_new0(scratch_dir, 1);

	s->path = g_dir_make_tmp("vs-file-XXXXXX", NULL);
	ck_assert_ptr_nonnull(s->path);
	return s;
}

static gint compare_names(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted names in @dir, joined by spaces (hidden ones included). */
static char *dir_listing(const char *dir)
{
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	const char *name;

	ck_assert_ptr_nonnull(d);
	while ((name = g_dir_read_name(d)))
		g_ptr_array_add(names, g_strdup(name));
	g_ptr_array_sort(names, compare_names);
	g_ptr_array_add(names, NULL);
	return g_strjoinv(" ", (char **)names->pdata);
}

static unsigned mode_of(const char *path)
{
	struct stat st;

	ck_assert_int_eq(g_stat(path, &st), 0);
	return st.st_mode & 07777;
}

static void assert_content(const char *path, const char *data, size_t len)
{
	g_autofree char *text = NULL;
	gsize n = 0;

	ck_assert(g_file_get_contents(path, &text, &n, NULL));
	ck_assert_uint_eq(n, len);
	ck_assert(memcmp(text, data, len) == 0);
}

START_TEST(creates_file_with_mode)
{
	g_autoptr(scratch_dir) dir = scratch_new();
	g_autofree char *path = g_build_filename(dir->path, "status.json", NULL);
	g_autoptr(GError) err = NULL;

	ck_assert_msg(vs_file_replace(path, "hello\n", 6, 0640, &err), "%s",
	              err ? err->message : "");
	assert_content(path, "hello\n", 6);
	ck_assert_uint_eq(mode_of(path), 0640);
	g_autofree char *listing = dir_listing(dir->path);
	ck_assert_str_eq(listing, "status.json");
}
END_TEST

START_TEST(replaces_content_and_mode)
{
	g_autoptr(scratch_dir) dir = scratch_new();
	g_autofree char *path = g_build_filename(dir->path, "f", NULL);
	g_autoptr(GError) err = NULL;
	const char binary[] = {'a', '\0', 'b', '\n', '\0'};

	ck_assert(g_file_set_contents(path, "a much longer old content\n", -1, NULL));
	ck_assert_int_eq(g_chmod(path, 0644), 0);
	ck_assert_msg(vs_file_replace(path, binary, sizeof(binary), 0600, &err), "%s",
	              err ? err->message : "");
	/* every byte, NULs included, and nothing of the longer old file */
	assert_content(path, binary, sizeof(binary));
	ck_assert_uint_eq(mode_of(path), 0600);

	/* an empty content is a content */
	ck_assert(vs_file_replace(path, "", 0, 0600, &err));
	assert_content(path, "", 0);
	g_autofree char *listing = dir_listing(dir->path);
	ck_assert_str_eq(listing, "f");
}
END_TEST

START_TEST(keep_mode)
{
	g_autoptr(scratch_dir) dir = scratch_new();
	g_autofree char *path = g_build_filename(dir->path, "upstream.conf", NULL);
	g_autofree char *fresh = g_build_filename(dir->path, "new.conf", NULL);
	g_autoptr(GError) err = NULL;

	ck_assert(g_file_set_contents(path, "old", -1, NULL));
	ck_assert_int_eq(g_chmod(path, 0604), 0);
	ck_assert(vs_file_replace(path, "new", 3, VS_FILE_KEEP_MODE, &err));
	assert_content(path, "new", 3);
	ck_assert_uint_eq(mode_of(path), 0604);
	/* an unusual mode is kept as well, whatever the umask */
	ck_assert_int_eq(g_chmod(path, 0420), 0);
	ck_assert(vs_file_replace(path, "newer", 5, VS_FILE_KEEP_MODE, &err));
	ck_assert_uint_eq(mode_of(path), 0420);
	/* a new file gets 0644 */
	ck_assert(vs_file_replace(fresh, "x", 1, VS_FILE_KEEP_MODE, &err));
	ck_assert_uint_eq(mode_of(fresh), 0644);
	g_autofree char *listing = dir_listing(dir->path);
	ck_assert_str_eq(listing, "new.conf upstream.conf");
}
END_TEST

START_TEST(large_content)
{
	g_autoptr(scratch_dir) dir = scratch_new();
	g_autofree char *path = g_build_filename(dir->path, "big", NULL);
	size_t len = 3 * 1024 * 1024 + 17;
	g_autofree char *data = g_malloc(len);
	g_autoptr(GError) err = NULL;

	for (size_t i = 0; i < len; i++)
		data[i] = (char)(i * 31 + i / 4096);
	ck_assert(vs_file_replace(path, data, len, 0644, &err));
	assert_content(path, data, len);
}
END_TEST

START_TEST(missing_directory)
{
	g_autoptr(scratch_dir) dir = scratch_new();
	g_autofree char *path = g_build_filename(dir->path, "missing", "status.json", NULL);
	g_autoptr(GError) err = NULL;

	ck_assert(!vs_file_replace(path, "x", 1, 0644, &err));
	ck_assert(g_error_matches(err, VS_FILE_ERROR, VS_FILE_ERROR_CREATE));
	/* the message says where */
	ck_assert_ptr_nonnull(strstr(err->message, "missing"));
	ck_assert(!g_file_test(path, G_FILE_TEST_EXISTS));
	g_autofree char *listing = dir_listing(dir->path);
	ck_assert_str_eq(listing, "");
}
END_TEST

START_TEST(directory_in_the_way)
{
	g_autoptr(scratch_dir) dir = scratch_new();
	g_autofree char *target = g_build_filename(dir->path, "target", NULL);
	g_autofree char *inside = g_build_filename(target, "keep", NULL);
	g_autoptr(GError) err = NULL;

	ck_assert_int_eq(g_mkdir(target, 0755), 0);
	ck_assert(g_file_set_contents(inside, "precious", -1, NULL));
	ck_assert(!vs_file_replace(target, "x", 1, 0644, &err));
	ck_assert_msg(g_error_matches(err, VS_FILE_ERROR, VS_FILE_ERROR_RENAME), "%s",
	              err->message);
	ck_assert_ptr_nonnull(strstr(err->message, target));
	/* the old target is intact, and the temporary file is gone */
	ck_assert(g_file_test(target, G_FILE_TEST_IS_DIR));
	assert_content(inside, "precious", 8);
	g_autofree char *listing = dir_listing(dir->path);
	ck_assert_str_eq(listing, "target");

	/* an empty directory in the way is not replaced either */
	g_autofree char *empty = g_build_filename(dir->path, "empty", NULL);
	g_clear_error(&err);
	ck_assert_int_eq(g_mkdir(empty, 0755), 0);
	ck_assert(!vs_file_replace(empty, "x", 1, 0644, &err));
	ck_assert(g_error_matches(err, VS_FILE_ERROR, VS_FILE_ERROR_RENAME));
	ck_assert(g_file_test(empty, G_FILE_TEST_IS_DIR));
	g_autofree char *after = dir_listing(dir->path);
	ck_assert_str_eq(after, "empty target");
}
END_TEST

/* A failure leaves the previous file as it was, mode included. */
START_TEST(failure_keeps_old_file)
{
	g_autoptr(scratch_dir) dir = scratch_new();
	g_autofree char *path = g_build_filename(dir->path, "f", NULL);
	g_autofree char *blocker = g_build_filename(dir->path, "sub", NULL);
	g_autofree char *under = g_build_filename(blocker, "f", NULL);
	g_autoptr(GError) err = NULL;

	ck_assert(vs_file_replace(path, "old", 3, 0640, &err));
	/* "sub" is a file: nothing can be created under it */
	ck_assert(g_file_set_contents(blocker, "", -1, NULL));
	ck_assert(!vs_file_replace(under, "new", 3, 0644, &err));
	ck_assert(g_error_matches(err, VS_FILE_ERROR, VS_FILE_ERROR_CREATE));
	assert_content(path, "old", 3);
	ck_assert_uint_eq(mode_of(path), 0640);
	g_autofree char *listing = dir_listing(dir->path);
	ck_assert_str_eq(listing, "f sub");
}
END_TEST

Suite *vs_test_suite(void)
{
	Suite *s = suite_create("file");
	TCase *tc = tcase_create("replace");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, creates_file_with_mode);
	tcase_add_test(tc, replaces_content_and_mode);
	tcase_add_test(tc, keep_mode);
	tcase_add_test(tc, large_content);
	tcase_add_test(tc, missing_directory);
	tcase_add_test(tc, directory_in_the_way);
	tcase_add_test(tc, failure_keeps_old_file);
	suite_add_tcase(s, tc);
	return s;
}
