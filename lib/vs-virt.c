/*
 * vs-virt.c - libvirt connections with keepalive and reconnect backoff
 * (see vs-virt.h).
 */
#include "config.h"

#include "vs-backoff.h"
#include "vs-virt.h"

#include <libvirt/virterror.h>
#include <string.h>

#define BACKOFF_FIRST_MS 250
#define BACKOFF_MAX_MS   (10 * 1000)

struct vs_virt {
	char *uri;
	int keepalive_interval_s;
	unsigned keepalive_count;
	GMutex lock;
	virConnectPtr conn;
	vs_backoff backoff;
};

static int64_t now_ms(void)
{
	return g_get_monotonic_time() / 1000;
}

/**
 * vs_virt_set_error:
 * @error: set from libvirt's last error of the calling thread
 * @what: what was being done, or the URI
 */
void vs_virt_set_error(GError **error, const char *what)
{
	virErrorPtr e = virGetLastError();

	g_set_error(error, VS_VIRT_ERROR, e ? e->code : VIR_ERR_INTERNAL_ERROR, "%s: %s", what,
	            e && e->message ? e->message : "unknown libvirt error");
}

/**
 * vs_virt_new:
 * @uri: the hypervisor
 * @keepalive_interval_s: seconds between keepalive probes (0: 5)
 * @keepalive_count: unanswered probes before libvirt closes (0: 6)
 *
 * Returns a holder that connects on the first vs_virt_get().
 */
vs_virt *vs_virt_new(const char *uri, int keepalive_interval_s, unsigned keepalive_count)
{
	vs_virt *v = g_new0(vs_virt, 1);

	v->uri = g_strdup(uri);
	v->keepalive_interval_s = keepalive_interval_s > 0 ? keepalive_interval_s : 5;
	v->keepalive_count = keepalive_count > 0 ? keepalive_count : 6;
	g_mutex_init(&v->lock);
	vs_backoff_init(&v->backoff, BACKOFF_FIRST_MS, BACKOFF_MAX_MS);
	return v;
}

/**
 * vs_virt_free:
 * @v: a holder or NULL; its connection is closed
 */
void vs_virt_free(vs_virt *v)
{
	if (!v)
		return;
	if (v->conn)
		virConnectClose(v->conn);
	g_mutex_clear(&v->lock);
	g_free(v->uri);
	g_free(v);
}

/**
 * vs_virt_uri:
 * @v: a holder
 *
 * Returns its hypervisor URI.
 */
const char *vs_virt_uri(const vs_virt *v)
{
	return v->uri;
}

/**
 * vs_virt_get:
 * @v: a holder
 * @fresh: set to true when this call opened the connection (may be NULL)
 * @error: set when there is no connection
 *
 * Returns a live connection with a reference for the caller. A dead one is
 * dropped and reopened, no more often than the backoff allows, so a stopped
 * libvirtd costs one failed connect per backoff step, whoever asks.
 */
virConnectPtr vs_virt_get(vs_virt *v, bool *fresh, GError **error)
{
	virConnectPtr c;

	if (fresh)
		*fresh = false;
	g_mutex_lock(&v->lock);
	if (v->conn && virConnectIsAlive(v->conn) != 1)
		g_clear_pointer(&v->conn, virConnectClose);
	if (!v->conn) {
		int64_t now = now_ms();

		if (!vs_backoff_ready(&v->backoff, now)) {
			g_set_error(error, VS_VIRT_ERROR, VIR_ERR_NO_CONNECT,
			            "%s: not connected (retrying in %.1f s)", v->uri,
			            vs_backoff_remaining(&v->backoff, now) / 1e3);
			g_mutex_unlock(&v->lock);
			return NULL;
		}
		v->conn = virConnectOpen(v->uri);
		if (!v->conn) {
			vs_virt_set_error(error, v->uri);
			vs_backoff_failed(&v->backoff, now);
			g_mutex_unlock(&v->lock);
			return NULL;
		}
		virConnectSetKeepAlive(v->conn, v->keepalive_interval_s, v->keepalive_count);
		vs_backoff_reset(&v->backoff);
		if (fresh)
			*fresh = true;
	}
	c = v->conn;
	virConnectRef(c);
	g_mutex_unlock(&v->lock);
	return c;
}

/**
 * vs_virt_reset:
 * @v: a holder
 *
 * Forgets a connection that is no longer alive (after an RPC error).
 */
void vs_virt_reset(vs_virt *v)
{
	g_mutex_lock(&v->lock);
	if (v->conn && virConnectIsAlive(v->conn) != 1)
		g_clear_pointer(&v->conn, virConnectClose);
	g_mutex_unlock(&v->lock);
}

/**
 * vs_virt_retry_in_ms:
 * @v: a holder
 *
 * Returns how long until vs_virt_get() will try to connect again.
 */
int64_t vs_virt_retry_in_ms(vs_virt *v)
{
	int64_t ms;

	g_mutex_lock(&v->lock);
	ms = v->conn ? 0 : vs_backoff_remaining(&v->backoff, now_ms());
	g_mutex_unlock(&v->lock);
	return ms;
}

/**
 * vs_virt_node_cpu_times:
 * @c: a connection
 * @idle_ns: set to the idle and iowait time of all CPUs
 * @total_ns: set to the time of every state of all CPUs
 *
 * Two samples give the host's idle share in between. Returns false when
 * libvirt does not tell (the values are then 0).
 */
bool vs_virt_node_cpu_times(virConnectPtr c, uint64_t *idle_ns, uint64_t *total_ns)
{
	int n = 0;

	*idle_ns = *total_ns = 0;
	if (virNodeGetCPUStats(c, VIR_NODE_CPU_STATS_ALL_CPUS, NULL, &n, 0) < 0 || n <= 0)
		return false;
	g_autofree virNodeCPUStatsPtr p = g_new0(virNodeCPUStats, n);
	if (virNodeGetCPUStats(c, VIR_NODE_CPU_STATS_ALL_CPUS, p, &n, 0) < 0)
		return false;
	for (int i = 0; i < n; i++) {
		if (strcmp(p[i].field, VIR_NODE_CPU_STATS_IDLE) == 0 ||
		    strcmp(p[i].field, VIR_NODE_CPU_STATS_IOWAIT) == 0)
			*idle_ns += p[i].value;
		if (strcmp(p[i].field, VIR_NODE_CPU_STATS_UTILIZATION) != 0)
			*total_ns += p[i].value;
	}
	return *total_ns > 0;
}
