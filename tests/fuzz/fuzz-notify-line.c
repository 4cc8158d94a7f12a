/*
 * fuzz-notify-line.c - one line of the notification wire format, as a
 * client of the intake socket sends it (lib/vs-notify.c). Promise: any
 * bytes are refused or accepted, and what is accepted serializes to a line
 * that parses back to the same notification.
 */
#include "config.h"

#include "fuzz-notify-formats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	vs_notification n;
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
	fuzz_check_as_sent(&n);
	return 0;
}
