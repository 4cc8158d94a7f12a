/*
 * fuzz-balancer-xml.c - Apache's balancer-manager XML (?b=NAME&xml=1),
 * read by the Apache driver and the session counter
 * (lib/vs-balancer-xml.c), and the worker URLs in it as backend addresses
 * (actuator/lb/lb-apache-parse.c).
 */
#include "config.h"

#include "fuzz-common.h"
#include "lb-apache-parse.h"
#include "vs-sessions.h"

static void check(const char *buf, size_t len, const char *balancer)
{
	GError *err = NULL;
	vs_balancer_state *st = vs_balancer_parse_xml(buf, len, balancer, &err);

	if (!st) {
		FUZZ_ASSERT(err != NULL);
		g_error_free(err);
		return;
	}
	FUZZ_ASSERT(err == NULL);
	FUZZ_ASSERT(st->workers != NULL);
	for (guint i = 0; i < st->workers->len; i++) {
		const vs_balancer_worker *w = g_ptr_array_index(st->workers, i);
		(void)vs_balancer_worker_state(w);
		g_free(vs_apache_worker_address(w->name));
	}
	vs_balancer_state_free(st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;

	if (!ready) {
		fuzz_setup();
		ready = true;
	}
	check((const char *)data, size, "web");
	check((const char *)data, size, NULL);
	return 0;
}
