/*
 * probe.c - readiness of a new backend before it joins the load balancer:
 * a TCP connect, or an HTTP GET whose status is 2xx/3xx. Retried until the
 * timeout, because the guest is still booting when it is first tried.
 */
#include "config.h"

#include "ops.h"
#include "vs-sessions.h"

#include <gio/gio.h>
#include <string.h>

static bool probe_once(const vs_pool_config *pool, const vs_endpoint *ep, GError **error)
{
	g_autoptr(GSocketClient) client = g_socket_client_new();
	g_socket_client_set_timeout(client, 2);
	g_autoptr(GSocketConnection) conn =
	    g_socket_client_connect_to_host(client, ep->host, ep->port, NULL, error);
	if (!conn)
		return false;
	if (pool->probe != VS_PROBE_HTTP)
		return true;
	g_autofree char *req = g_strdup_printf(
	    "GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: virtscaled\r\nConnection: close\r\n\r\n",
	    pool->probe_path ? pool->probe_path : "/", ep->host);
	GOutputStream *out = g_io_stream_get_output_stream(G_IO_STREAM(conn));
	if (!g_output_stream_write_all(out, req, strlen(req), NULL, NULL, error))
		return false;
	char buf[64] = {0};
	gsize got = 0;
	GInputStream *in = g_io_stream_get_input_stream(G_IO_STREAM(conn));
	if (!g_input_stream_read_all(in, buf, 12, &got, NULL, error))
		return false;
	/* "HTTP/1.x NNN" */
	if (got < 12 || strncmp(buf, "HTTP/1.", 7) != 0 || (buf[9] != '2' && buf[9] != '3')) {
		g_set_error(error, VS_ACT_ERROR, VS_ACT_ERROR_FAILED, "HTTP probe answered '%.12s'",
		            buf);
		return false;
	}
	return true;
}

/**
 * vs_probe_wait: waits until @address answers the pool's probe, or fails
 * after @timeout_s with the last error. probe = none succeeds at once.
 */
bool vs_probe_wait(const vs_pool_config *pool, const char *address, unsigned timeout_s,
                   GCancellable *cancel, GError **error)
{
	if (pool->probe == VS_PROBE_NONE)
		return true;
	vs_endpoint ep;
	if (!address || !vs_endpoint_parse(address, &ep)) {
		g_set_error(error, VS_ACT_ERROR, VS_ACT_ERROR_INVALID,
		            "no backend address to probe");
		return false;
	}
	int64_t deadline = g_get_monotonic_time() + (int64_t)timeout_s * G_USEC_PER_SEC;
	for (;;) {
		g_autoptr(GError) err = NULL;
		if (probe_once(pool, &ep, &err))
			return true;
		if (g_get_monotonic_time() >= deadline) {
			g_set_error(error, VS_ACT_ERROR, VS_ACT_ERROR_TIMEOUT,
			            "%s did not answer within %u s: %s", address, timeout_s,
			            err ? err->message : "?");
			return false;
		}
		if (!vs_wait_ms(cancel, 200, error))
			return false;
	}
}
