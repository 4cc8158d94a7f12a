/* vs-log.c - see vs-log.h */
#include "config.h"

#include "vs-log.h"

#include <stdarg.h>
#include <stdio.h>

static vs_log_handler log_handler;
static void *log_opaque;
static int log_max_priority = LOG_INFO;

void vs_log_set_handler(vs_log_handler fn, void *opaque)
{
	log_handler = fn;
	log_opaque = opaque;
}

void vs_log_set_level(int max_priority)
{
	log_max_priority = max_priority;
}

void vs_log(int priority, const char *fmt, ...)
{
	if (priority > log_max_priority)
		return;
	va_list ap;
	va_start(ap, fmt);
	g_autofree char *msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	if (log_handler) {
		log_handler(priority, msg, log_opaque);
		return;
	}
	fprintf(stderr, "virtscale: %s\n", msg);
}
