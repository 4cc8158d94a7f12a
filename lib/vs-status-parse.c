/*
 * vs-status-parse.c - parsers of what session sources answer: Apache
 * server-status?auto, nginx stub_status, a plain number, and backend
 * endpoints. Pure: any bytes in, a number or a refusal out.
 *
 * The status pages end every line with '\n'; a figure whose line is not
 * terminated may be cut short ("12" read as "1"), so it is refused rather
 * than reported.
 */
#include "config.h"

#include "vs-sessions.h"

#include <arpa/inet.h>
#include <limits.h>
#include <string.h>

/*
 * Reads a decimal number of at most 9 digits at @p (bounded by @end).
 * Returns the position after it, or NULL when there is no digit or it is
 * too long to be a session count.
 */
static const char *parse_count(const char *p, const char *end, unsigned *out)
{
	unsigned v = 0;
	int digits = 0;

	while (p < end && *p >= '0' && *p <= '9') {
		if (++digits > 9)
			return NULL;
		v = v * 10 + (unsigned)(*p - '0');
		p++;
	}
	if (digits == 0)
		return NULL;
	*out = v;
	return p;
}

static const char *skip_blanks(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

/*
 * Finds a line starting with @key in @buf, reads the number after it and
 * requires the rest of the line to be blank up to a '\n'.
 */
static bool parse_keyed_line(const char *buf, size_t len, const char *key, unsigned *out)
{
	const char *end = buf + len;
	size_t klen = strlen(key);
	const char *line = buf;

	if (!buf)
		return false;
	while (line < end) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		const char *eol = nl ? nl : end;

		if ((size_t)(eol - line) >= klen && memcmp(line, key, klen) == 0) {
			unsigned v;
			const char *p = skip_blanks(line + klen, eol);

			if (!nl)
				return false; /* possibly truncated */
			p = parse_count(p, eol, &v);
			if (!p)
				return false;
			p = skip_blanks(p, eol);
			if (p < eol && *p == '\r')
				p++;
			if (p != eol)
				return false;
			*out = v;
			return true;
		}
		if (!nl)
			break;
		line = nl + 1;
	}
	return false;
}

/**
 * vs_parse_apache_status:
 * @buf: the body of server-status?auto (not NUL-terminated)
 * @len: its length
 * @busy: set to BusyWorkers
 *
 * Returns false when there is no complete "BusyWorkers: N" line.
 */
bool vs_parse_apache_status(const char *buf, size_t len, unsigned *busy)
{
	return parse_keyed_line(buf, len, "BusyWorkers:", busy);
}

/**
 * vs_parse_nginx_stub_status:
 * @buf: the body of nginx's stub_status page
 * @len: its length
 * @active: set to "Active connections"
 *
 * Returns false when the page has no complete "Active connections: N" line.
 */
bool vs_parse_nginx_stub_status(const char *buf, size_t len, unsigned *active)
{
	return parse_keyed_line(buf, len, "Active connections:", active);
}

/**
 * vs_parse_session_count:
 * @buf: a status page body
 * @len: its length
 * @count: set to the session count
 *
 * Accepts Apache server-status?auto, nginx stub_status, or a body that is
 * just a non-negative integer (blanks and a line end around it allowed).
 */
bool vs_parse_session_count(const char *buf, size_t len, unsigned *count)
{
	const char *p, *end;
	unsigned v;

	if (!buf)
		return false;
	if (vs_parse_apache_status(buf, len, count) || vs_parse_nginx_stub_status(buf, len, count))
		return true;
	end = buf + len;
	p = buf;
	while (p < end && g_ascii_isspace(*p))
		p++;
	p = parse_count(p, end, &v);
	if (!p)
		return false;
	while (p < end && g_ascii_isspace(*p))
		p++;
	if (p != end)
		return false;
	*count = v;
	return true;
}

/**
 * vs_endpoint_parse:
 * @text: "127.0.0.1:18100" or "[::1]:80" (numeric addresses only)
 * @out: the endpoint
 *
 * Returns false on anything else: names, missing or zero port, junk.
 */
bool vs_endpoint_parse(const char *text, vs_endpoint *out)
{
	char host[sizeof(out->host)];
	const char *port;
	size_t hlen;
	unsigned char addr[sizeof(struct in6_addr)];
	unsigned long p = 0;
	bool v6;

	if (!text)
		return false;
	if (text[0] == '[') {
		const char *close = strchr(text, ']');

		if (!close || close[1] != ':')
			return false;
		hlen = (size_t)(close - text - 1);
		if (hlen == 0 || hlen >= sizeof(host))
			return false;
		memcpy(host, text + 1, hlen);
		port = close + 2;
		v6 = true;
	} else {
		const char *colon = strrchr(text, ':');

		if (!colon || memchr(text, ':', (size_t)(colon - text)))
			return false; /* IPv6 literals need brackets */
		hlen = (size_t)(colon - text);
		if (hlen == 0 || hlen >= sizeof(host))
			return false;
		memcpy(host, text, hlen);
		port = colon + 1;
		v6 = false;
	}
	host[hlen] = '\0';
	if (inet_pton(v6 ? AF_INET6 : AF_INET, host, addr) != 1)
		return false;
	if (*port < '1' || *port > '9')
		return false;
	for (; *port; port++) {
		if (*port < '0' || *port > '9')
			return false;
		p = p * 10 + (unsigned long)(*port - '0');
		if (p > 65535)
			return false;
	}
	memcpy(out->host, host, hlen + 1);
	out->port = (uint16_t)p;
	return true;
}
