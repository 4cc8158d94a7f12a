/*
 * fuzz-nginx-upstream.c - the nginx upstream include as the nginx driver
 * reads it back before every rewrite (actuator/lb/lb-nginx-render.c): the
 * file may have been edited or replaced by anyone who can write it.
 * Promise: anything but a file virtscale wrote is refused naming
 * FILE:LINE; what is accepted renders again to a file that parses back to
 * the same members.
 */
#include "config.h"

#include "fuzz-common.h"
#include "lb-nginx-render.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	GError *err = NULL;

	if (!ready) {
		fuzz_setup();
		ready = true;
	}
	GArray *members = vs_nginx_parse_upstream((const char *)data, size, "web", "up.conf", &err);
	if (!members) {
		FUZZ_ASSERT(err != NULL);
		FUZZ_ASSERT(g_str_has_prefix(err->message, "up.conf:"));
		g_error_free(err);
		return 0;
	}
	const vs_nginx_render_opts opts = {.upstream = "web", .pool = "web"};
	char *text = vs_nginx_render_upstream(&opts, (const vs_lb_entry *)(void *)members->data,
	                                      members->len, &err);
	if (!text)
		fprintf(stderr, "accepted members not rendered: %s\n", err->message);
	FUZZ_ASSERT(text != NULL);
	GArray *back = vs_nginx_parse_upstream(text, strlen(text), "web", "again.conf", &err);
	if (!back)
		fprintf(stderr, "rendered file refused: %s\n%s", err->message, text);
	FUZZ_ASSERT(back != NULL);
	FUZZ_ASSERT(back->len == members->len);
	for (guint i = 0; i < back->len; i++) {
		const vs_lb_entry *a = &g_array_index(members, vs_lb_entry, i);
		const vs_lb_entry *b = &g_array_index(back, vs_lb_entry, i);
		FUZZ_ASSERT(strcmp(a->address, b->address) == 0);
		FUZZ_ASSERT(a->state == b->state && a->weight == b->weight &&
		            a->backup == b->backup);
	}
	g_array_unref(back);
	g_free(text);
	g_array_unref(members);
	return 0;
}
