/*
 * fuzz-balancer-html.c - Apache's balancer-manager HTML page: the nonce
 * (lib/vs-balancer-xml.c, for httpd without a nonce in the XML) and the
 * MaxMembers cell (actuator/lb/lb-apache-parse.c).
 */
#include "config.h"

#include "fuzz-common.h"
#include "lb-apache-parse.h"
#include "vs-sessions.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	static const char *const names[] = {"web", "balancer://web"};
	const char *buf = (const char *)data;
	unsigned max, used;

	if (!ready) {
		fuzz_setup();
		ready = true;
	}
	for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
		char *nonce = vs_balancer_parse_html_nonce(buf, size, names[i]);
		if (nonce)
			FUZZ_ASSERT(*nonce != '\0');
		g_free(nonce);
	}
	if (vs_apache_parse_max_members(buf, size, "web", &max, &used))
		FUZZ_ASSERT(used <= max);
	return 0;
}
