/* agentx.c - the AgentX session with the master agent and the wake pipe */
#include "config.h"

#include "agent.h"
#include "vs-log.h"
#include "vs-snmp-oids.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#define APP_NAME "virtscale-snmp"

/**
 * vs_agentx_wake:
 * Wakes the main loop from any thread (async-signal-safe: one write).
 * A full pipe already means "wake up", so EAGAIN is fine.
 */
void vs_agentx_wake(vs_agent *a)
{
	char c = 1;
	ssize_t n = write(a->wake_wr, &c, 1);
	(void)n;
}

static bool make_wake_pipe(vs_agent *a)
{
	int fds[2];
	if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0) {
		vs_error("pipe: %s", g_strerror(errno));
		return false;
	}
	a->wake_rd = fds[0];
	a->wake_wr = fds[1];
	return true;
}

/**
 * vs_agentx_init:
 * Becomes an AgentX subagent of the master at a->agentx_socket. With
 * agentXPingInterval set, net-snmp pings the master and, when the master
 * is gone (restarted, or not started yet), keeps trying to reconnect at that
 * interval and re-registers our subtrees by itself.
 */
bool vs_agentx_init(vs_agent *a)
{
	netsnmp_ds_set_boolean(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_ROLE, 1);
	netsnmp_ds_set_string(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_X_SOCKET,
	                      a->agentx_socket);
	/* Our state (vmIndex map) lives in the state dir, not net-snmp's. */
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_PERSIST_STATE, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_LOAD, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_SAVE, 1);
	/* We serve numeric OIDs: no MIB parsing at start-up. */
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_LOAD_HOST_FILES, 1);
	setenv("MIBS", "", 0);

	if (init_agent(APP_NAME) != 0) {
		vs_error("init_agent failed");
		return false;
	}

	static const oid vm_root[] = {VM_MIB_ARC};
	static const oid vs_root[] = {VS_ENTERPRISE_ARC};
	a->vm_tree.label = "vmMIB";
	a->vm_tree.root = vm_root;
	a->vm_tree.root_len = G_N_ELEMENTS(vm_root);
	a->vm_tree.set_check = vm_mib_set_check;
	a->vm_tree.set_apply = vm_mib_set_apply;
	a->vm_tree.opaque = a;
	a->vs_tree.label = "virtscaleMIB";
	a->vs_tree.root = vs_root;
	a->vs_tree.root_len = G_N_ELEMENTS(vs_root);
	if (!vs_mib_subtree_register(&a->vm_tree) || !vs_mib_subtree_register(&a->vs_tree)) {
		vs_error("cannot register the MIB subtrees");
		return false;
	}

	/* Set after init_agent(), which installs net-snmp's own default (15 s);
	 * the connection is made when init_snmp() finishes reading config. */
	netsnmp_ds_set_int(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_AGENTX_PING_INTERVAL,
	                   (int)MAX(a->cfg->agentx_ping_interval, 1u));
	init_snmp(APP_NAME);

	if (!make_wake_pipe(a))
		return false;
	if (register_readfd(a->wake_rd, vs_refresh_on_wake, a) != FD_REGISTERED_OK) {
		vs_error("register_readfd failed");
		return false;
	}
	return true;
}

/** vs_agentx_shutdown: closes the AgentX session and the wake pipe. */
void vs_agentx_shutdown(vs_agent *a)
{
	unregister_readfd(a->wake_rd);
	snmp_shutdown(APP_NAME);
	shutdown_agent();
	close(a->wake_rd);
	/* wake_wr stays open: a worker thread stuck in I/O may still write to it */
}
