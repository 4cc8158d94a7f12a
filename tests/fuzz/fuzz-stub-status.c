/*
 * fuzz-stub-status.c - nginx's stub_status page as a session source, a
 * plain number body, and backend endpoints written as text
 * (lib/vs-status-parse.c).
 */
#include "config.h"

#include "fuzz-common.h"
#include "vs-sessions.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	const char *buf = (const char *)data;
	unsigned active, count;
	vs_endpoint ep;

	if (!ready) {
		fuzz_setup();
		ready = true;
	}
	if (vs_parse_nginx_stub_status(buf, size, &active))
		FUZZ_ASSERT(vs_parse_session_count(buf, size, &count));
	(void)vs_parse_session_count(buf, size, &count);
	char *text = fuzz_strndup(data, size);
	if (vs_endpoint_parse(text, &ep)) {
		FUZZ_ASSERT(ep.port != 0);
		FUZZ_ASSERT(memchr(ep.host, '\0', sizeof(ep.host)) != NULL);
	}
	g_free(text);
	return 0;
}
