/*
 * replay-main.c - a main() for a harness without libFuzzer: feeds every
 * file named on the command line (a directory: every file in it, in name
 * order) to LLVMFuzzerTestOneInput() once. Built with the project's
 * compiler and sanitizers, so `make replay` checks every corpus input
 * (seeds and the crashes found so far) on every build, without clang.
 * Exits non-zero when a file cannot be read; a crash aborts.
 */
#include "config.h"

#include "fuzz-common.h"

#include <string.h>

/* Defined by harnesses that need a one-time set-up (weak: optional). */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool replay_file(const char *path)
{
	gchar *data = NULL;
	gsize len = 0;
	GError *err = NULL;

	if (!g_file_get_contents(path, &data, &len, &err)) {
		fprintf(stderr, "replay: %s\n", err->message);
		g_error_free(err);
		return false;
	}
	/* a copy of the exact size, so ASan sees a read past the end */
	uint8_t *copy = g_malloc(len ? len : 1);
	memcpy(copy, data, len);
	g_free(data);
	LLVMFuzzerTestOneInput(copy, len);
	g_free(copy);
	return true;
}

/* Replays @path (a file or a directory of files); counts into @n. */
static bool replay_path(const char *path, unsigned *n)
{
	if (!g_file_test(path, G_FILE_TEST_IS_DIR)) {
		(*n)++;
		return replay_file(path);
	}
	GError *err = NULL;
	GDir *dir = g_dir_open(path, 0, &err);
	if (!dir) {
		fprintf(stderr, "replay: %s\n", err->message);
		g_error_free(err);
		return false;
	}
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
	const char *entry;
	while ((entry = g_dir_read_name(dir)))
		g_ptr_array_add(names, g_build_filename(path, entry, NULL));
	g_dir_close(dir);
	qsort(names->pdata, names->len, sizeof(char *), compare_names);
	bool ok = true;
	for (guint i = 0; i < names->len; i++) {
		if (g_file_test(names->pdata[i], G_FILE_TEST_IS_REGULAR)) {
			(*n)++;
			ok = replay_file(names->pdata[i]) && ok;
		}
	}
	g_ptr_array_free(names, TRUE);
	return ok;
}

int main(int argc, char **argv)
{
	unsigned n = 0;
	bool ok = true;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE_OR_DIR...\n", argv[0]);
		return 2;
	}
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++)
		ok = replay_path(argv[i], &n) && ok;
	char *name = g_path_get_basename(argv[0]);
	printf("%s: %u inputs replayed, no crash\n", name, n);
	g_free(name);
	return ok ? 0 : 1;
}
