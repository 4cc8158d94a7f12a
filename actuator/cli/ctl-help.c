/*
 * ctl-help.c - the help of each virtscalectl command (see ctl-help.h). The
 * texts follow virtscalectl(1), which has the details.
 */
#include "config.h"

#include "ctl-help.h"
#include "vs-config.h"

#include <glib.h>
#include <string.h>

typedef struct ctl_command {
	const char *name;
	const char *synopsis; /* after "virtscalectl [OPTION...] " */
	const char *summary;  /* one line of the command list */
	const char *text;     /* what it does, its options, its exit status */
} ctl_command;

static const ctl_command commands[] = {
    {"status", "status [--json]", "print every pool, its instances and the intake counters",
     "Asks virtscaled for the state of every pool (phase, running and desired\n"
     "instances, cooldown, last action, counters, instances with their load-balancer\n"
     "state and sessions) and for the intake counters, and prints them.\n\n"
     "  -j, --json            print the daemon's JSON answer as it is\n\n"
     "Exit status: 0, or 1 when virtscaled cannot be reached."},
    {"scale", "scale POOL N|auto", "set a manual target of N running instances, or end it",
     "Sets a manual target of N running instances for POOL (within its min and\n"
     "max); virtscaled reaches it one instance at a time, with the same safety rules\n"
     "as for notifications. \"auto\" ends the manual target: the policy decides again.\n\n"
     "Exit status: 0 when virtscaled took the target, 1 when the pool is not\n"
     "configured, virtscaled refused the target or cannot be reached, 2 for a\n"
     "malformed POOL or N."},
    {"migrate", "migrate DOMAIN HOST", "move a running pool member live to another host",
     "Asks virtscaled to move DOMAIN, a running member of a pool, live to HOST (a\n"
     "[host NAME] of that pool) with libvirt's migration, and waits until it ends.\n"
     "The load balancer follows: the old address is drained, the new one added once\n"
     "it answers, the old one removed. Prints the time taken, the downtime, the\n"
     "iterations and the bytes sent.\n\n"
     "Exit status: 0 when the member runs on HOST, 1 when virtscaled refused or the\n"
     "migration failed (the member keeps running where it was), 2 for a malformed\n"
     "DOMAIN or HOST."},
    {"notify", "notify [--format FMT] [--pool POOL] [--state STATE]",
     "send notifications read on stdin (JSON lines, collectd exec, snmptrapd)",
     "Reads notifications on standard input and sends them to virtscaled:\n"
     "JSON lines of the wire format, a collectd exec notification (NotificationExec)\n"
     "or a snmptrapd traphandle trap (vsPoolHigh, vsPoolLow, vsPoolNormal,\n"
     "vsPoolAtMax only).\n\n"
     "  -f, --format FMT      auto (default), json, collectd or snmptrap\n"
     "  -p, --pool POOL       collectd input: the pool; snmptrapd input: the only\n"
     "                        pool a trap may name\n"
     "      --state STATE     collectd input: high, low, ok or at_max\n\n"
     "Exit status: 0 when every notification was taken, 1 otherwise, 3 for a trap\n"
     "refused as not ours to obey (logged to syslog)."},
    {"check-config", "check-config",
     "check the configuration file as virtscaled would before it starts",
     "Reads and validates the configuration file (every error names FILE:LINE)\n"
     "and what virtscaled checks on this host before it starts (the socket's\n"
     "directory and group), then prints the number of pools.\n\n"
     "Exit status: 0 when the file is valid, 2 otherwise."},
    {"test-mail", "test-mail", "send a test e-mail through the [mail] settings",
     "Sends one test message with the [mail] settings of the configuration and\n"
     "prints the server's answers.\n\n"
     "Exit status: 0 when the server accepted the message for every recipient,\n"
     "1 otherwise."},
    {"usage", "usage [--pool POOL] [--since T] [--format table|csv|json] [--file PATH]",
     "print the usage of each pool and its cost with [prices]",
     "Reads the usage counters virtscale-snmp keeps (state_dir/usage-snmp.state,\n"
     "else the collectd plugin's usage-collectd.state) and prints, per pool and in\n"
     "total: instance, vCPU and CPU seconds, memory MiB-seconds allocated and used,\n"
     "disk and network bytes, the instance-seconds a fixed pool at max would have\n"
     "used, and the cost: the sum of each [prices] unit price times the usage.\n\n"
     "  -p, --pool POOL       only this pool\n"
     "      --since T         only from T on, in whole hours (epoch seconds, ISO 8601,\n"
     "                        or back from now: 90m, 24h, 7d; at most 62 days)\n"
     "  -f, --format FMT      table (default), csv or json\n"
     "      --file PATH       read this state file\n\n"
     "Exit status: 0, 1 when the file or the pool is missing or unusable, 2 for a\n"
     "bad option."},
    {"help", "help [COMMAND]", "print the help of virtscalectl or of one command",
     "Prints the list of commands, or the help of COMMAND (as COMMAND --help does)."},
};

void vs_ctl_print_commands(FILE *out)
{
	fprintf(out, "Commands:\n");
	for (size_t i = 0; i < G_N_ELEMENTS(commands); i++)
		fprintf(out, "  %-14s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\n\"virtscalectl help COMMAND\" (or COMMAND --help) prints the help of one "
	             "command;\nsee virtscalectl(1).\n");
}

bool vs_ctl_print_command_help(FILE *out, const char *command)
{
	for (size_t i = 0; i < G_N_ELEMENTS(commands); i++) {
		const ctl_command *c = &commands[i];

		if (strcmp(c->name, command) != 0)
			continue;
		fprintf(
		    out,
		    "Usage: virtscalectl [-c FILE] [-s SOCKET] %s\n\n%s\n\n"
		    "Options of every command:\n"
		    "  -c, --config FILE     configuration file (default %s)\n"
		    "  -s, --socket PATH     virtscaled's socket (default: [actuator] socket)\n",
		    c->synopsis, c->text, VS_DEFAULT_CONFIG_FILE);
		return true;
	}
	return false;
}
