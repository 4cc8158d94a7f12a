/*
 * fuzz-status-json.c - STATE_DIR/status.json as virtscale-snmp and
 * virtscalectl read it (lib/vs-status.c). Promise: any bytes give a status
 * or an error; a status the reader accepted, written again by the writer,
 * is accepted again with the same pools and instances (the writer writes
 * only what the reader accepts).
 */
#include "config.h"

#include "fuzz-common.h"
#include "vs-status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	GError *err = NULL;

	if (!ready) {
		fuzz_setup();
		ready = true;
	}
	vs_status *s = vs_status_from_json((const char *)data, size, &err);
	if (!s) {
		FUZZ_ASSERT(err != NULL);
		g_error_free(err);
		return 0;
	}
	char *json = vs_status_to_json(s);
	FUZZ_ASSERT(json != NULL);
	vs_status *again = vs_status_from_json(json, strlen(json), &err);
	if (!again)
		fprintf(stderr, "written status refused: %s\n%s\n", err->message, json);
	FUZZ_ASSERT(again != NULL);
	FUZZ_ASSERT(again->pools->len == s->pools->len);
	for (guint i = 0; i < s->pools->len; i++) {
		const vs_pool_status *a = g_ptr_array_index(s->pools, i);
		const vs_pool_status *b = g_ptr_array_index(again->pools, i);
		FUZZ_ASSERT(g_strcmp0(a->name, b->name) == 0);
		FUZZ_ASSERT(a->instances->len == b->instances->len);
	}
	vs_status_free(again);
	g_free(json);
	vs_status_free(s);
	return 0;
}
