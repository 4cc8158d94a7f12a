/*
 * fuzz-journal.c - STATE_DIR/journal as virtscaled replays it on start
 * (actuator/ops/journal.c): after a crash it may end in a torn record,
 * hold NUL bytes from a short write, or anything a full disk leaves. The
 * replay is reached the way the daemon reaches it: the input is written as
 * the journal of a scratch state directory, which is then opened. Promise:
 * any content opens (or fails with an error), every pending operation has
 * the pool and domain name reconcile needs, and the next operation begun
 * gets a new id, above every open one (or fails: 0).
 */
#include "config.h"

#include "fuzz-common.h"
#include "journal.h"

#include <glib/gstdio.h>
#include <unistd.h>

static char *state_dir;
static char *journal_path;

static void remove_state_dir(void)
{
	g_unlink(journal_path);
	g_rmdir(state_dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	GError *err = NULL;

	if (!state_dir) {
		fuzz_setup();
		/* in memory when possible: every record is fdatasync'd */
		if (g_file_test("/dev/shm", G_FILE_TEST_IS_DIR) && access("/dev/shm", W_OK) == 0)
			g_setenv("TMPDIR", "/dev/shm", TRUE);
		state_dir = g_dir_make_tmp("vs-fuzz-journal-XXXXXX", &err);
		FUZZ_ASSERT(state_dir != NULL);
		journal_path = g_build_filename(state_dir, "journal", NULL);
		atexit(remove_state_dir);
	}
	FUZZ_ASSERT(g_file_set_contents(journal_path, (const char *)data, (gssize)size, NULL));
	vs_journal *j = vs_journal_open(state_dir, &err);
	if (!j) {
		FUZZ_ASSERT(err != NULL);
		g_error_free(err);
		return 0;
	}
	GPtrArray *pending = vs_journal_pending(j, NULL);
	for (guint i = 0; i < pending->len; i++) {
		const vs_journal_op *op = g_ptr_array_index(pending, i);
		FUZZ_ASSERT(op->pool != NULL && op->name != NULL && op->step != NULL);
		FUZZ_ASSERT(op->vols != NULL);
	}
	const vs_journal_op next = {.op = "clone", .pool = "web", .name = "web-09"};
	uint64_t id = vs_journal_begin(j, &next, NULL);
	for (guint i = 0; id != 0 && i < pending->len; i++)
		FUZZ_ASSERT(((const vs_journal_op *)g_ptr_array_index(pending, i))->id < id);
	g_ptr_array_unref(pending);
	vs_journal_close(j);
	return 0;
}
