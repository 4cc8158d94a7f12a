/*
 * vs-daemon.c - the start-up every virtscale daemon shares (see vs-daemon.h).
 */
#include "config.h"

#include "vs-daemon.h"
#include "vs-log.h"
#include "vs-pidfile.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_EXTRA 8

static const char *log_program = "virtscale";
/* The pid file this process holds, and the process that removes it on
 * exit: the parent of daemon(3) exits as soon as its child runs, and
 * must leave the file to it. */
static vs_pidfile *held_pidfile;
static pid_t held_pidfile_owner;

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
	fprintf(out, "Usage: %s [-f] [-d] [-c FILE] [-p FILE]", d->program);
	for (const vs_daemon_option *o = extra; o && o->short_name; o++)
		fprintf(out, " [-%c %s]", o->short_name, o->arg_name);
	fprintf(out,
	        "\n%s\n\n"
	        "  -f, --foreground      stay in the foreground, log to stderr\n"
	        "  -d, --debug           debug logging\n"
	        "  -c, --config FILE     configuration file (default %s)\n"
	        "  -p, --pid-file FILE   write the pid to FILE, locked while running\n",
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
	struct option longopts[6 + MAX_EXTRA + 1] = {
	    {"foreground", no_argument, NULL, 'f'},   {"debug", no_argument, NULL, 'd'},
	    {"config", required_argument, NULL, 'c'}, {"pid-file", required_argument, NULL, 'p'},
	    {"version", no_argument, NULL, 'V'},      {"help", no_argument, NULL, 'h'},
	};
	GString *shorts = g_string_new("fdc:p:Vh");
	size_t n = 6;
	int c;

	*d = (vs_daemon){
	    .program = program, .summary = summary, .config_path = VS_DEFAULT_CONFIG_FILE};
	log_program = program;
	/* a peer that goes away under a write must not kill a daemon */
	signal(SIGPIPE, SIG_IGN);
	for (const vs_daemon_option *o = extra; o && o->short_name && n < 6 + MAX_EXTRA; o++) {
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
		case 'p':
			d->pid_file = optarg;
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
 * vs_config_load_or_exit:
 * @program: prefix of the message (the program's name)
 * @path: the file; NULL means VS_DEFAULT_CONFIG_FILE
 *
 * vs_config_load(), or "PROGRAM: FILE:LINE: ..." on stderr and
 * exit(VS_EXIT_CONFIG) before the caller starts anything.
 */
vs_config *vs_config_load_or_exit(const char *program, const char *path)
{
	g_autoptr(GError) err = NULL;
	vs_config *cfg = vs_config_load(path, &err);

	if (!cfg) {
		fprintf(stderr, "%s: %s\n", program ? program : "virtscale", err->message);
		exit(VS_EXIT_CONFIG);
	}
	return cfg;
}

static void remove_pidfile_at_exit(void)
{
	if (held_pidfile && getpid() == held_pidfile_owner)
		vs_pidfile_remove(g_steal_pointer(&held_pidfile));
}

/* Before detaching, so that a refusal and its exit status reach whoever
 * started the daemon. Returns the pid a dead daemon left in the file, or
 * -1. */
static pid_t lock_pidfile(const vs_daemon *d)
{
	g_autoptr(GError) err = NULL;
	pid_t previous = -1;
	char *path;

	/* daemon(3) changes to /: a relative name must still mean the same
	 * file when it is removed */
	path = g_canonicalize_filename(d->pid_file, NULL);
	held_pidfile = vs_pidfile_lock(path, &previous, &err);
	g_free(path);
	if (g_error_matches(err, VS_PIDFILE_ERROR, VS_PIDFILE_ERROR_HELD)) {
		if (previous > 0)
			fprintf(stderr,
			        "%s: %s is locked by a running daemon (pid %d); not starting\n",
			        d->program, d->pid_file, (int)previous);
		else
			fprintf(stderr, "%s: %s is locked by a running daemon; not starting\n",
			        d->program, d->pid_file);
		exit(VS_EXIT_RUNNING);
	}
	if (!held_pidfile) {
		fprintf(stderr, "%s: %s\n", d->program, err->message);
		exit(1);
	}
	held_pidfile_owner = getpid();
	atexit(remove_pidfile_at_exit);
	return previous;
}

static void write_pidfile(pid_t previous)
{
	g_autoptr(GError) err = NULL;

	held_pidfile_owner = getpid();
	if (!vs_pidfile_write(held_pidfile, held_pidfile_owner, &err)) {
		vs_error("%s", err->message);
		exit(1);
	}
	if (previous > 0 && previous != held_pidfile_owner)
		vs_notice("pid file %s: taken over from pid %d, which holds it no more",
		          vs_pidfile_path(held_pidfile), (int)previous);
}

/**
 * vs_daemon_detach:
 * @d: an initialised daemon
 *
 * See vs-daemon.h.
 */
bool vs_daemon_detach(vs_daemon *d)
{
	pid_t previous = d->pid_file ? lock_pidfile(d) : -1;

	vs_log_set_level(d->debug ? LOG_DEBUG : LOG_INFO);
	if (d->foreground) {
		vs_log_set_handler(log_to_stderr, NULL);
	} else {
		openlog(d->program, LOG_PID, LOG_DAEMON);
		vs_log_set_handler(log_to_syslog, NULL);
		if (daemon(0, 0) != 0)
			return false;
	}
	if (held_pidfile)
		write_pidfile(previous);
	return true;
}
