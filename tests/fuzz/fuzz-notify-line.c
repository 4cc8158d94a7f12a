/*
 * fuzz-notify-line.c - one line of the notification wire format, as a
 * client of the intake socket sends it (lib/vs-notify.c). Promise: any
 * bytes are refused or accepted, and what is accepted serializes to a line
 * that parses back to the same notification.
 */
#include "config.h"

#include "fuzz-common.h"
#include "vs-notify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	vs_notification n, back;
	GError *err = NULL;

	if (!ready) {
		fuzz_setup();
		ready = true;
	}
	if (!vs_notification_parse((const char *)data, size, &n, &err)) {
		FUZZ_ASSERT(err != NULL);
		g_error_free(err);
		return 0;
	}
	FUZZ_ASSERT(err == NULL);
	char *line = vs_notification_to_json(&n);
	FUZZ_ASSERT(line != NULL);
	FUZZ_ASSERT(strlen(line) <= VS_NOTIFY_MAX_LINE);
	FUZZ_ASSERT(strchr(line, '\n') == NULL);
	FUZZ_ASSERT(vs_notification_parse(line, strlen(line), &back, NULL));
	FUZZ_ASSERT(memcmp(&n, &back, sizeof(n)) == 0);
	g_free(line);
	return 0;
}
