/*
 * vs-lb-tool.c - drives one load-balancer driver from the command line, for
 * the integration tests and bench/lb (not installed):
 *
 *   vs-lb-tool -c CONFIG -p POOL [-t SECONDS] [--nonce N --retries R]
 *              add|add-disabled|enable|drain|remove|wait-drained ADDRESS
 *   vs-lb-tool -c CONFIG -p POOL weight ADDRESS N
 *   vs-lb-tool -c CONFIG -p POOL list
 *
 * Prints "ok" (or one line per member for list) on stdout; on failure
 * "error[KIND]: message" on stderr and exit status 1; config errors exit 2.
 * --time prints "call_start=EPOCH_SECONDS call_ms=MS" after a change.
 */
#include "config.h"

#include "lb-internal.h"

#include "vs-config.h"
#include "vs-log.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *error_kind(const GError *e)
{
	static const char *const kinds[] = {
	    [VS_LB_ERROR_FAILED] = "failed",           [VS_LB_ERROR_INVALID] = "invalid",
	    [VS_LB_ERROR_UNREACHABLE] = "unreachable", [VS_LB_ERROR_REJECTED] = "rejected",
	    [VS_LB_ERROR_NO_SLOT] = "no-slot",         [VS_LB_ERROR_CONFIG_TEST] = "config-test",
	    [VS_LB_ERROR_RELOAD] = "reload",           [VS_LB_ERROR_TIMEOUT] = "timeout",
	};
	if (e->domain == VS_LB_ERROR && e->code >= 0 && (size_t)e->code < G_N_ELEMENTS(kinds))
		return kinds[e->code];
	return "failed";
}

static const char *state_name(vs_lb_state s)
{
	switch (s) {
	case VS_LB_STATE_ENABLED:
		return "enabled";
	case VS_LB_STATE_DRAINING:
		return "draining";
	case VS_LB_STATE_DISABLED:
		return "disabled";
	case VS_LB_STATE_UNKNOWN:
		break;
	}
	return "unknown";
}

static int usage(void)
{
	fprintf(stderr, "usage: vs-lb-tool -c CONFIG -p POOL [-t SECONDS] [--time] [--nonce N] "
	                "[--retries R] COMMAND [ADDRESS [ARG]]\n"
	                "commands: add add-disabled enable drain remove wait-drained weight "
	                "list\n");
	return 2;
}

static bool run_command(vs_lb *lb, const char *cmd, char **args, int nargs, unsigned timeout,
                        GError **error)
{
	const char *address = nargs > 0 ? args[0] : NULL;
	if (!strcmp(cmd, "list")) {
		g_autoptr(GArray) members = vs_lb_list(lb, error);
		if (!members)
			return false;
		for (guint i = 0; i < members->len; i++) {
			const vs_lb_entry *m = &g_array_index(members, vs_lb_entry, i);
			printf("%s %s weight=%u backup=%s busy=%d error=%s ours=%s\n", m->address,
			       state_name(m->state), m->weight, m->backup ? "yes" : "no", m->busy,
			       m->in_error ? "yes" : "no", m->ours ? "yes" : "no");
		}
		return true;
	}
	if (!address) {
		g_set_error(error, VS_LB_ERROR, VS_LB_ERROR_INVALID, "%s needs an ADDRESS", cmd);
		return false;
	}
	if (!strcmp(cmd, "add"))
		return vs_lb_add(lb, address, true, error);
	if (!strcmp(cmd, "add-disabled"))
		return vs_lb_add(lb, address, false, error);
	if (!strcmp(cmd, "enable"))
		return vs_lb_enable(lb, address, error);
	if (!strcmp(cmd, "drain"))
		return vs_lb_drain(lb, address, error);
	if (!strcmp(cmd, "remove"))
		return vs_lb_remove(lb, address, error);
	if (!strcmp(cmd, "wait-drained"))
		return vs_lb_wait_drained(lb, address, timeout, NULL, error);
	if (!strcmp(cmd, "weight") && nargs == 2)
		return vs_lb_set_weight(lb, address, (unsigned)strtoul(args[1], NULL, 10), error);
	g_set_error(error, VS_LB_ERROR, VS_LB_ERROR_INVALID, "unknown command %s", cmd);
	return false;
}

int main(int argc, char **argv)
{
	g_autofree char *config_path = NULL;
	g_autofree char *pool_name = NULL;
	g_autofree char *nonce = NULL;
	gint timeout = 30;
	gint retries = 2;
	gboolean timing = FALSE;
	GOptionEntry entries[] = {
	    {"config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path, "configuration file", "F"},
	    {"pool", 'p', 0, G_OPTION_ARG_STRING, &pool_name, "pool", "NAME"},
	    {"timeout", 't', 0, G_OPTION_ARG_INT, &timeout, "wait-drained timeout (s)", "S"},
	    {"nonce", 0, 0, G_OPTION_ARG_STRING, &nonce, "Apache: nonce of the first POST", "N"},
	    {"retries", 0, 0, G_OPTION_ARG_INT, &retries, "Apache: stale-nonce retries", "R"},
	    {"time", 0, 0, G_OPTION_ARG_NONE, &timing, "print when the call started", NULL},
	    {NULL},
	};
	signal(SIGPIPE, SIG_IGN);
	g_autoptr(GOptionContext) ctx = g_option_context_new("COMMAND [ADDRESS [ARG]]");
	g_option_context_add_main_entries(ctx, entries, NULL);
	GError *err = NULL;
	if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
		fprintf(stderr, "vs-lb-tool: %s\n", err->message);
		g_error_free(err);
		return usage();
	}
	if (!config_path || !pool_name || argc < 2 || timeout < 0)
		return usage();
	g_autoptr(vs_config) cfg = vs_config_load_or_exit("vs-lb-tool", config_path);
	const vs_pool_config *pool = vs_config_find_pool(cfg, pool_name);
	if (!pool) {
		fprintf(stderr, "vs-lb-tool: no [pool %s] in %s\n", pool_name, config_path);
		return 2;
	}
	vs_lb *lb = vs_lb_open(cfg, pool, &err);
	if (!lb) {
		fprintf(stderr, "error[%s]: %s\n", error_kind(err), err->message);
		g_error_free(err);
		return 1;
	}
	if (nonce && pool->lb == VS_LB_APACHE)
		vs_lb_apache_pin_nonce(lb, nonce, retries);
	gint64 start_real = g_get_real_time();
	gint64 start = g_get_monotonic_time();
	bool ok = run_command(lb, argv[1], argv + 2, argc - 2, (unsigned)timeout, &err);
	gint64 elapsed = g_get_monotonic_time() - start;
	vs_lb_free(lb);
	if (!ok) {
		fprintf(stderr, "error[%s]: %s\n", error_kind(err), err->message);
		g_error_free(err);
		return 1;
	}
	if (timing)
		printf("call_start=%.6f call_ms=%.3f\n", start_real / 1e6, elapsed / 1e3);
	if (strcmp(argv[1], "list"))
		printf("ok\n");
	return 0;
}
