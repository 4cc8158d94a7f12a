/*
 * vs-alert-tool - drives the alerter (alert.h) for integration tests:
 *
 *   vs-alert-tool -c CONFIG [-s SUMMARY] [-d DETAILS] COMMAND...
 *     post KIND POOL [STEP ERROR]   queue an alert (KIND: at-max,
 *                                   action-failed, reconciled, recovered, test)
 *     run-for SECONDS               let the worker deliver for SECONDS
 *     wait-idle SECONDS             until the queue is empty (or SECONDS)
 *     test-mail                     synchronous test message, prints the answer
 *
 * Commands run left to right. At exit the counters are printed on stdout as
 * "stats queued=N sent=N retried=N dropped=N refused=N coalesced=N".
 * Escapes "\r", "\n" and "\\" in POOL, STEP, ERROR, SUMMARY and DETAILS are
 * decoded, so tests can pass control characters.
 */
#include "alert-internal.h"
#include "vs-log.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(void)
{
	fprintf(stderr, "usage: vs-alert-tool -c CONFIG [-s SUMMARY] [-d DETAILS] "
	                "{post KIND POOL [STEP ERROR] | run-for SECONDS | wait-idle SECONDS "
	                "| test-mail}...\n");
	exit(64);
}

/* Decodes \r, \n, \t and \\ so a test can put control characters in names. */
static char *unescape(const char *s)
{
	GString *o = g_string_new(NULL);

	for (; *s; s++) {
		if (*s == '\\' && s[1]) {
			s++;
			switch (*s) {
			case 'r':
				g_string_append_c(o, '\r');
				break;
			case 'n':
				g_string_append_c(o, '\n');
				break;
			case 't':
				g_string_append_c(o, '\t');
				break;
			default:
				g_string_append_c(o, *s);
				break;
			}
		} else {
			g_string_append_c(o, *s);
		}
	}
	return g_string_free(o, FALSE);
}

static bool is_command(const char *s)
{
	return !strcmp(s, "post") || !strcmp(s, "run-for") || !strcmp(s, "wait-idle") ||
	       !strcmp(s, "test-mail");
}

/* Until every queued alert is settled (delivered, refused, dropped) or @seconds pass. */
static void wait_idle(vs_alerter *a, double seconds)
{
	gint64 end = g_get_monotonic_time() + (gint64)(seconds * 1e6);

	while (g_get_monotonic_time() < end && vs_alerter_queue_length(a) > 0)
		g_usleep(50000);
}

int main(int argc, char **argv)
{
	const char *conf = NULL;
	g_autofree char *summary = NULL, *details = NULL;
	g_autoptr(vs_config) cfg = NULL;
	g_autoptr(GError) err = NULL;
	vs_alerter *a;
	vs_alerter_stats st;
	int opt, status = 0;

	signal(SIGPIPE, SIG_IGN);
	while ((opt = getopt(argc, argv, "+c:s:d:")) != -1) {
		switch (opt) {
		case 'c':
			conf = optarg;
			break;
		case 's':
			summary = unescape(optarg);
			break;
		case 'd':
			details = unescape(optarg);
			break;
		default:
			usage();
		}
	}
	if (!conf || optind >= argc)
		usage();
	cfg = vs_config_load_or_exit("vs-alert-tool", conf);
	a = vs_alerter_new(cfg, &err);
	if (!a) {
		fprintf(stderr, "vs-alert-tool: %s\n", err->message);
		return 1;
	}
	if (!vs_alerter_start(a, &err)) {
		fprintf(stderr, "vs-alert-tool: %s\n", err->message);
		return 1;
	}
	for (int i = optind; i < argc;) {
		const char *cmd = argv[i++];

		if (!strcmp(cmd, "post")) {
			vs_alert al = {0};
			g_autofree char *pool = NULL, *step = NULL, *error = NULL;
			if (i + 2 > argc || !vs_alert_kind_from_name(argv[i], &al.kind))
				usage();
			pool = unescape(argv[i + 1]);
			i += 2;
			if (i + 2 <= argc && !is_command(argv[i])) {
				step = unescape(argv[i]);
				error = unescape(argv[i + 1]);
				i += 2;
			}
			al.pool = pool;
			al.step = step;
			al.error = error;
			al.summary = summary;
			al.details = details;
			al.time = g_get_real_time() / 1e6;
			if (!vs_alerter_post(a, &al))
				status = 3;
		} else if (!strcmp(cmd, "run-for") && i < argc) {
			g_usleep((gulong)(g_ascii_strtod(argv[i++], NULL) * 1e6));
		} else if (!strcmp(cmd, "wait-idle") && i < argc) {
			wait_idle(a, g_ascii_strtod(argv[i++], NULL));
		} else if (!strcmp(cmd, "test-mail")) {
			g_autofree char *report = NULL;
			g_autoptr(GError) terr = NULL;
			bool ok = vs_mail_send_test(cfg, &report, &terr);
			printf("%s\n", report ? report : "");
			if (!ok) {
				fprintf(stderr, "vs-alert-tool: test-mail: %s\n", terr->message);
				status = 1;
			}
		} else {
			usage();
		}
	}
	vs_alerter_stop(a);
	vs_alerter_get_stats(a, &st);
	printf("stats queued=%" G_GUINT64_FORMAT " sent=%" G_GUINT64_FORMAT
	       " retried=%" G_GUINT64_FORMAT " dropped=%" G_GUINT64_FORMAT
	       " refused=%" G_GUINT64_FORMAT " coalesced=%" G_GUINT64_FORMAT "\n",
	       st.queued, st.sent, st.retried, st.dropped, st.refused, st.coalesced);
	vs_alerter_free(a);
	return status;
}
