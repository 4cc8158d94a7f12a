/*
 * fuzz-common.h - what every harness in tests/fuzz shares. A harness is one
 * LLVMFuzzerTestOneInput() over one parser of outside data; it is linked
 * either with libFuzzer (clang, scripts/fuzz.sh) or with replay-main.c
 * (any compiler, `make replay`: every corpus file once, as a regression
 * test). A harness aborts on anything the parser promises never to do
 * (a crash, a GLib critical, an accepted input whose output the next
 * reader refuses), so that libFuzzer reports it as a crash.
 */
#ifndef VS_FUZZ_COMMON_H
#define VS_FUZZ_COMMON_H

#include "vs-log.h"

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken promise: print what and abort (libFuzzer saves the input). */
#define FUZZ_ASSERT(cond)                                                                          \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: fuzz assertion failed: %s\n", __FILE__, __LINE__,  \
			        #cond);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

static void fuzz_log_drop(int priority, const char *message, void *opaque)
{
	(void)priority;
	(void)message;
	(void)opaque;
}

/* GLib's messages: a critical or an error aborts (libFuzzer then saves the
 * input; GLib's own fatal path would raise SIGTRAP, which it does not). */
static void fuzz_glib_log(const gchar *domain, GLogLevelFlags level, const gchar *message,
                          gpointer opaque)
{
	(void)opaque;
	if (level & (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_ERROR)) {
		fprintf(stderr, "fuzz: GLib critical (%s): %s\n", domain ? domain : "-", message);
		abort();
	}
}

/*
 * Once per process: parsers log what they refuse, which is noise millions
 * of times over; a GLib critical is a precondition a caller broke, i.e. a
 * bug, so it aborts.
 */
static inline void fuzz_setup(void)
{
	vs_log_set_handler(fuzz_log_drop, NULL);
	g_log_set_default_handler(fuzz_glib_log, NULL);
}

/* The input as a NUL-terminated string (it may hold NULs of its own). */
static inline char *fuzz_strndup(const uint8_t *data, size_t size)
{
	char *s = g_malloc(size + 1);

	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

#endif
