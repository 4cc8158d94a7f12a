/*
 * virt-conn.c - one libvirt connection per hypervisor URI, shared by the
 * pool workers (libvirt connections are thread-safe), reopened with an
 * exponential backoff when libvirtd goes away.
 */
#include "config.h"

#include "actuator.h"

#include <libvirt/virterror.h>

#define BACKOFF_MIN_US (250 * 1000)
#define BACKOFF_MAX_US (30 * 1000 * 1000)

struct vs_virt {
	char *uri;
	GMutex lock;
	virConnectPtr conn;
	int64_t next_try_us;
	int64_t backoff_us;
};

/**
 * vs_set_virt_error: sets @error from libvirt's last error of this thread.
 */
void vs_set_virt_error(GError **error, const char *what)
{
	virErrorPtr e = virGetLastError();
	g_set_error(error, VS_ACT_ERROR, e ? e->code : 0, "%s: %s", what,
	            e && e->message ? e->message : "unknown libvirt error");
}

/** vs_virt_new: a connection holder for @uri; connects lazily. */
vs_virt *vs_virt_new(const char *uri)
{
	vs_virt *v = g_new0(vs_virt, 1);
	v->uri = g_strdup(uri);
	g_mutex_init(&v->lock);
	v->backoff_us = BACKOFF_MIN_US;
	return v;
}

/** vs_virt_free: closes the connection. */
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

/** vs_virt_uri: the hypervisor URI. */
const char *vs_virt_uri(const vs_virt *v)
{
	return v->uri;
}

/**
 * vs_virt_get: a live connection with a reference the caller closes. A dead
 * connection is dropped and reopened, but no more often than the backoff
 * allows, so a stopped libvirtd costs one failed connect per backoff step.
 */
virConnectPtr vs_virt_get(vs_virt *v, GError **error)
{
	g_mutex_lock(&v->lock);
	if (v->conn && virConnectIsAlive(v->conn) != 1) {
		virConnectClose(v->conn);
		v->conn = NULL;
	}
	if (!v->conn) {
		int64_t now = g_get_monotonic_time();
		if (now < v->next_try_us) {
			g_set_error(error, VS_ACT_ERROR, 0,
			            "%s: not connected (retrying in %.1f s)", v->uri,
			            (v->next_try_us - now) / 1e6);
			g_mutex_unlock(&v->lock);
			return NULL;
		}
		v->conn = virConnectOpen(v->uri);
		if (!v->conn) {
			vs_set_virt_error(error, v->uri);
			v->next_try_us = now + v->backoff_us;
			v->backoff_us = MIN(v->backoff_us * 2, BACKOFF_MAX_US);
			g_mutex_unlock(&v->lock);
			return NULL;
		}
		/* keepalive lets libvirt notice a dead daemon without an RPC hanging;
		 * generous, because a loaded libvirtd answers late */
		virConnectSetKeepAlive(v->conn, 5, 6);
		v->backoff_us = BACKOFF_MIN_US;
		v->next_try_us = 0;
	}
	virConnectPtr c = v->conn;
	virConnectRef(c);
	g_mutex_unlock(&v->lock);
	return c;
}

/** vs_virt_reset: forgets the connection (after an RPC error). */
void vs_virt_reset(vs_virt *v)
{
	g_mutex_lock(&v->lock);
	if (v->conn && virConnectIsAlive(v->conn) != 1) {
		virConnectClose(v->conn);
		v->conn = NULL;
	}
	g_mutex_unlock(&v->lock);
}
