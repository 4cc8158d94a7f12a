/*
 * fuzz-server-status.c - Apache's server-status?auto as a session source
 * (`sessions = http:` may point at a page a guest serves), and the same
 * body through the any-format reader (lib/vs-status-parse.c). The body is
 * not NUL-terminated, as it comes from libcurl.
 */
#include "config.h"

#include "fuzz-common.h"
#include "vs-sessions.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	const char *buf = (const char *)data;
	unsigned busy, count;

	if (!ready) {
		fuzz_setup();
		ready = true;
	}
	if (vs_parse_apache_status(buf, size, &busy)) {
		/* the any-format reader takes what the Apache reader takes */
		FUZZ_ASSERT(vs_parse_session_count(buf, size, &count));
		FUZZ_ASSERT(count == busy);
	}
	(void)vs_parse_session_count(buf, size, &count);
	return 0;
}
