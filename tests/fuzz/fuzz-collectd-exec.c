/*
 * fuzz-collectd-exec.c - what collectd's exec plugin (NotificationExec)
 * writes on `virtscalectl notify --format collectd`'s stdin
 * (actuator/cli/notify-formats.c). The first byte picks --pool/--state.
 */
#include "config.h"

#include "fuzz-notify-formats.h"
#include "notify-formats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	const char *pool, *state;
	vs_notification n;
	GError *err = NULL;

	if (!ready) {
		fuzz_setup();
		ready = true;
	}
	data = fuzz_overrides(data, &size, &pool, &state);
	char *text = fuzz_strndup(data, size);
	if (vs_notify_from_collectd_exec(text, pool, state, &n, &err))
		fuzz_check_as_sent(&n);
	else
		FUZZ_ASSERT(err != NULL);
	g_clear_error(&err);
	g_free(text);
	return 0;
}
