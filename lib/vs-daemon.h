/*
 * vs-daemon.h - how virtscaled and virtscale-snmp start: the options every
 * daemon has (-f, -d, -c FILE, -p FILE, -V, -h, as long options too, plus
 * the program's own), the configuration loaded before anything starts (a
 * bad file names FILE:LINE and exits 2), SIGPIPE ignored, the pid file
 * locked (a second daemon on the same file exits 3), and logging to stderr
 * in the foreground or to syslog once detached.
 */
#ifndef VS_DAEMON_H
#define VS_DAEMON_H

#include "vs-config.h"

#include <stdbool.h>

/* Another daemon holds the pid file: starting again would not help. */
#define VS_EXIT_RUNNING 3

/* An option of one program only, e.g. -x SOCKET. */
typedef struct vs_daemon_option {
	char short_name;
	const char *long_name;
	const char *arg_name; /* "SOCKET" */
	const char *help;
	const char **value; /* set to the argument */
} vs_daemon_option;

typedef struct vs_daemon {
	const char *program; /* "virtscaled" */
	const char *summary; /* one line of --help */
	const char *config_path;
	bool foreground;
	bool debug;
	/* -p FILE; the program may fill it from its configuration before
	 * vs_daemon_detach(); NULL: no pid file */
	const char *pid_file;
	vs_config *cfg;
} vs_daemon;

/*
 * vs_daemon_init:
 * Parses the command line (@extra: NULL or an array ended by a zeroed
 * entry) and loads the configuration. --help and --version print and exit
 * 0; a usage or configuration error exits 2 (VS_EXIT_CONFIG).
 */
void vs_daemon_init(vs_daemon *d, const char *program, const char *summary, int argc, char **argv,
                    const vs_daemon_option *extra);

/*
 * vs_daemon_detach:
 * Locks the pid file first, when there is one: held by a running daemon,
 * it prints which on stderr and exits 3 (VS_EXIT_RUNNING); one that cannot
 * be created or locked exits 1. Then logs to stderr in the foreground, or
 * opens syslog and leaves the terminal (daemon(3)); debug logging when -d.
 * The pid is written once detached, and the file removed when the process
 * exits normally (exit() or a return from main()). False with errno when
 * detaching failed.
 */
bool vs_daemon_detach(vs_daemon *d);

#endif
