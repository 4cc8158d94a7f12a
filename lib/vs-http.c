/*
 * vs-http.c - one small HTTP GET (libcurl) for session sources: a
 * backend's status page or Apache's balancer-manager.
 *
 * Bounded in every dimension a misbehaving server could stretch: total
 * time, body size, http/https only, no proxy from the environment (the
 * sources are on this host or its LAN), and no signals (CURLOPT_NOSIGNAL)
 * so it is safe in threaded programs. Redirects are never followed: a
 * status page is served by a guest, and a guest that answers 302 must not
 * make a collector running as root fetch a URL of the guest's choosing on
 * the host or the LAN. A 3xx is a failed fetch.
 */
#include "config.h"

#include "vs-error.h"
#include "vs-sessions.h"

#include <curl/curl.h>
#include <string.h>

typedef struct http_body {
	GByteArray *data;
	size_t max_bytes;
	bool too_big;
} http_body;

static size_t collect_body(char *ptr, size_t size, size_t nmemb, void *opaque)
{
	http_body *b = opaque;
	size_t n = size * nmemb;

	if (b->data->len + n > b->max_bytes) {
		b->too_big = true;
		return 0; /* makes curl fail with CURLE_WRITE_ERROR */
	}
	g_byte_array_append(b->data, (const guint8 *)ptr, (guint)n);
	return n;
}

static gpointer init_curl(gpointer unused)
{
	(void)unused;
	return GINT_TO_POINTER(curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 1 : 2);
}

/* Only http and https (and, should a redirect ever be followed, no other). */
static void restrict_protocols(CURL *c)
{
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
}

/**
 * vs_http_fetch:
 * @url: an http:// or https:// URL
 * @timeout_ms: the whole transfer's limit (connect included)
 * @max_bytes: a longer body is an error
 * @len: set to the body's length (may be NULL)
 * @error: set on failure
 *
 * GETs @url, and only @url: a redirect is not followed but refused
 * (VS_HTTP_ERROR_REDIRECT), and any status other than 2xx is an error.
 * Returns the body, NUL-terminated (the terminator is not counted in
 * @len), or NULL.
 */
char *vs_http_fetch(const char *url, unsigned timeout_ms, size_t max_bytes, size_t *len,
                    GError **error)
{
	static GOnce once = G_ONCE_INIT;
	char errbuf[CURL_ERROR_SIZE] = "";
	http_body body = {.max_bytes = max_bytes};
	long status = 0;
	CURLcode rc;
	CURL *c;

	if (!url || (g_ascii_strncasecmp(url, "http://", 7) != 0 &&
	             g_ascii_strncasecmp(url, "https://", 8) != 0)) {
		g_set_error(error, VS_HTTP_ERROR, VS_HTTP_ERROR_URL, "not an http(s) URL: '%s'",
		            url ? url : "(null)");
		return NULL;
	}
	if (GPOINTER_TO_INT(g_once(&once, init_curl, NULL)) != 1) {
		g_set_error(error, VS_HTTP_ERROR, VS_HTTP_ERROR_INIT,
		            "libcurl initialisation failed");
		return NULL;
	}
	c = curl_easy_init();
	if (!c) {
		g_set_error(error, VS_HTTP_ERROR, VS_HTTP_ERROR_INIT, "libcurl: no handle");
		return NULL;
	}
	body.data = g_byte_array_new();
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(timeout_ms ? timeout_ms : 1));
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)(timeout_ms ? timeout_ms : 1));
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 0L);
	restrict_protocols(c);
	curl_easy_setopt(c, CURLOPT_PROXY, "");
	curl_easy_setopt(c, CURLOPT_USERAGENT, PACKAGE_NAME "/" PACKAGE_VERSION);
	/* httpd's balancer-manager ignores every query parameter (xml=1
	 * included) unless the Referer names its own host. */
	curl_easy_setopt(c, CURLOPT_REFERER, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	if (max_bytes < (size_t)G_MAXINT32)
		curl_easy_setopt(c, CURLOPT_MAXFILESIZE, (long)max_bytes);

	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);

	if (body.too_big || rc == CURLE_FILESIZE_EXCEEDED) {
		g_set_error(error, VS_HTTP_ERROR, VS_HTTP_ERROR_TOO_LARGE,
		            "%s: body larger than %zu bytes", url, max_bytes);
	} else if (rc != CURLE_OK) {
		g_set_error(error, VS_HTTP_ERROR, VS_HTTP_ERROR_TRANSFER, "%s: %s", url,
		            errbuf[0] ? errbuf : curl_easy_strerror(rc));
	} else if (status >= 300 && status < 400) {
		/* the Location is the server's text: not repeated here */
		g_set_error(error, VS_HTTP_ERROR, VS_HTTP_ERROR_REDIRECT,
		            "%s: HTTP status %ld: a redirect, not followed (point the URL at the "
		            "page itself)",
		            url, status);
	} else if (status < 200 || status >= 300) {
		g_set_error(error, VS_HTTP_ERROR, VS_HTTP_ERROR_STATUS, "%s: HTTP status %ld", url,
		            status);
	} else {
		if (len)
			*len = body.data->len;
		g_byte_array_append(body.data, (const guint8 *)"", 1);
		return (char *)g_byte_array_free(body.data, FALSE);
	}
	g_byte_array_free(body.data, TRUE);
	return NULL;
}
