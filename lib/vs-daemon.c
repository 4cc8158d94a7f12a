/*
 * vs-daemon.c - the start-up every virtscale daemon shares (see vs-daemon.h).
 */
#include "config.h"

#include "vs-daemon.h"
#include "vs-log.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_EXTRA 8

static const char *log_program = "virtscale";

static void log_to_stderr(int priority, const char *message, void *opaque)
{
	static const char *const names[] = {"emerg",   "alert",  "crit", "error",
	                                    "warning", "notice", "info", "debug"};
	g_autoptr(GDateTime) now = g_date_time_new_now_local();
	g_autofree char *ts = g_date_time_format(now, "%H:%M:%S.%f");

	fprintf(stderr, "%.12s %s[%d] %s: %s\n", ts, log_program, getpid(), names[priority & 7],
	        message);
}

static void log_to_syslog(int priority, const char *message, void *opaque)
{
	syslog(priority, "%s", message);
}

static void usage(FILE *out, const vs_daemon *d, const vs_daemon_option *extra)
{
	fprintf(out, "Usage: %s [-f] [-d] [-c FILE]", d->program);
	for (const vs_daemon_option *o = extra; o && o->short_name; o++)
		fprintf(out, " [-%c %s]", o->short_name, o->arg_name);
	fprintf(out,
	        "\n%s\n\n"
	        "  -f, --foreground      stay in the foreground, log to stderr\n"
	        "  -d, --debug           debug logging\n"
	        "  -c, --config FILE     configuration file (default %s)\n",
	        d->summary, VS_DEFAULT_CONFIG_FILE);
	for (const vs_daemon_option *o = extra; o && o->short_name; o++) {
		g_autofree char *left =
		    g_strdup_printf("-%c, --%s %s", o->short_name, o->long_name, o->arg_name);

		fprintf(out, "  %-21s %s\n", left, o->help);
	}
	fprintf(out, "  -V, --version         print the version and exit\n"
	             "  -h, --help            print this help and exit\n");
}

/**
 * vs_daemon_init:
 * @d: filled in
 * @program: the program's name (messages, --version, syslog ident)
 * @summary: one line for --help
 * @argc, @argv: the command line
 * @extra: the program's own options, or NULL
 *
 * See vs-daemon.h: returns only when the daemon is to start.
 */
void vs_daemon_init(vs_daemon *d, const char *program, const char *summary, int argc, char **argv,
                    const vs_daemon_option *extra)
{
	struct option longopts[5 + MAX_EXTRA + 1] = {
	    {"foreground", no_argument, NULL, 'f'},   {"debug", no_argument, NULL, 'd'},
	    {"config", required_argument, NULL, 'c'}, {"version", no_argument, NULL, 'V'},
	    {"help", no_argument, NULL, 'h'},
	};
	GString *shorts = g_string_new("fdc:Vh");
	size_t n = 5;
	int c;

	*d = (vs_daemon){
	    .program = program, .summary = summary, .config_path = VS_DEFAULT_CONFIG_FILE};
	log_program = program;
	/* a peer that goes away under a write must not kill a daemon */
	signal(SIGPIPE, SIG_IGN);
	for (const vs_daemon_option *o = extra; o && o->short_name && n < 5 + MAX_EXTRA; o++) {
		longopts[n++] =
		    (struct option){o->long_name, required_argument, NULL, o->short_name};
		g_string_append_printf(shorts, "%c:", o->short_name);
	}
	while ((c = getopt_long(argc, argv, shorts->str, longopts, NULL)) != -1) {
		const vs_daemon_option *o = extra;

		switch (c) {
		case 'f':
			d->foreground = true;
			continue;
		case 'd':
			d->debug = true;
			continue;
		case 'c':
			d->config_path = optarg;
			continue;
		case 'V':
			printf("%s %s\n", program, PACKAGE_VERSION);
			exit(0);
		case 'h':
			usage(stdout, d, extra);
			exit(0);
		}
		while (o && o->short_name && o->short_name != c)
			o++;
		if (!o || !o->short_name) {
			usage(stderr, d, extra);
			exit(VS_EXIT_CONFIG);
		}
		*o->value = optarg;
	}
	g_string_free(shorts, TRUE);
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", program, argv[optind]);
		usage(stderr, d, extra);
		exit(VS_EXIT_CONFIG);
	}
	d->cfg = vs_config_load_or_exit(program, d->config_path);
}

/**
 * vs_daemon_detach:
 * @d: an initialised daemon
 *
 * See vs-daemon.h.
 */
bool vs_daemon_detach(vs_daemon *d)
{
	vs_log_set_level(d->debug ? LOG_DEBUG : LOG_INFO);
	if (d->foreground) {
		vs_log_set_handler(log_to_stderr, NULL);
		return true;
	}
	openlog(d->program, LOG_PID, LOG_DAEMON);
	vs_log_set_handler(log_to_syslog, NULL);
	return daemon(0, 0) == 0;
}
