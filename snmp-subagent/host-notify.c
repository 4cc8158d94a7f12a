/* host-notify.c - vsHostLost and vsHostBack: a host the collector marks
 * lost (down for [libvirt] host_grace) is announced once per outage, and
 * its return once it answers again. */
#include "config.h"

#include "agent.h"
#include "mib-text.h"
#include "vs-log.h"
#include "vs-snmp-oids.h"

#include <string.h>

static const oid snmp_trap_oid[] = {1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0};

static void add_host_var(netsnmp_variable_list **vars, oid col, oid idx, u_char type,
                         const void *val, size_t len)
{
	const oid name[] = {VS_ENTERPRISE_ARC, VS_OBJECTS, VS_HOST_TABLE, 1, col, idx};

	snmp_varlist_add_variable(vars, name, G_N_ELEMENTS(name), type, val, len);
}

static void send_host_notification(int notif, const vs_host_config *cfg, const vs_host_status *h,
                                   oid idx)
{
	const oid trap[] = {VS_ENTERPRISE_ARC, 0, notif};
	netsnmp_variable_list *vars = NULL;
	long state = vs_host_cond_mib(vs_host_status_condition(h));

	snmp_varlist_add_variable(&vars, snmp_trap_oid, G_N_ELEMENTS(snmp_trap_oid), ASN_OBJECT_ID,
	                          trap, sizeof(trap));
	add_host_var(&vars, VS_HOST_NAME, idx, ASN_OCTET_STR, cfg->name, strlen(cfg->name));
	add_host_var(&vars, VS_HOST_URI, idx, ASN_OCTET_STR, cfg->uri, strlen(cfg->uri));
	add_host_var(&vars, VS_HOST_STATE, idx, ASN_INTEGER, &state, sizeof(state));
	if (notif == VS_NOTIF_HOST_LOST) {
		long since = vs_host_down_since_real_s(h);
		char error[VS_POOL_LAST_ERROR_MAX + 1];
		size_t len = vs_mib_last_error(h->last_error ? h->last_error : "", error);

		add_host_var(&vars, VS_HOST_DOWN_SINCE, idx, ASN_UNSIGNED, &since, sizeof(since));
		add_host_var(&vars, VS_HOST_LAST_ERROR, idx, ASN_OCTET_STR, error, len);
	}
	send_v2trap(vars);
	snmp_free_varbind(vars);
}

/**
 * host_notify_changes:
 * Compares each configured host in @snap with what was announced: newly
 * lost sends vsHostLost, answering again after that sends vsHostBack. A
 * host that recovers within host_grace was never announced, and is not.
 */
void host_notify_changes(vs_agent *a, const vs_snapshot *snap)
{
	if (!a->hosts_lost)
		a->hosts_lost = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	for (guint i = 0; i < a->cfg->host_configs->len; i++) {
		const vs_host_config *cfg = g_ptr_array_index(a->cfg->host_configs, i);
		const vs_host_status *h = vs_host_find(snap, cfg->uri);
		bool announced = g_hash_table_contains(a->hosts_lost, cfg->uri);

		if (!h)
			continue;
		if (h->lost && !announced) {
			vs_warning("host %s (%s) lost: %s", cfg->name, cfg->uri,
			           h->last_error ? h->last_error : "not answering");
			g_hash_table_add(a->hosts_lost, g_strdup(cfg->uri));
			send_host_notification(VS_NOTIF_HOST_LOST, cfg, h, i + 1);
		} else if (!h->lost && announced && h->state == VS_HOST_CONNECTED) {
			vs_notice("host %s (%s) answers again", cfg->name, cfg->uri);
			g_hash_table_remove(a->hosts_lost, cfg->uri);
			send_host_notification(VS_NOTIF_HOST_BACK, cfg, h, i + 1);
		}
	}
}
