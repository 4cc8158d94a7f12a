/*
 * vs-validate.c - allow-list validators for every name that crosses a trust
 * boundary (VM names, addresses, messages) before it reaches a load-balancer
 * config, a mail header, a log line or an argv. Nothing is escaped here:
 * anything outside the allow-list is refused.
 */
#include "config.h"

#include "vs-validate.h"
#include "vs-notify.h"

#include <arpa/inet.h>
#include <glib.h>
#include <string.h>

/**
 * vs_valid_ip_literal:
 * @s: candidate string
 *
 * Returns true for an IPv4 dotted quad or an IPv6 literal without brackets.
 * inet_pton() is the reference: it refuses octal, hex and short IPv4 forms
 * that inet_aton() would accept and that would surprise a reader.
 */
bool vs_valid_ip_literal(const char *s)
{
	unsigned char buf[sizeof(struct in6_addr)];

	if (!s || !*s || strlen(s) > 45)
		return false;
	if (inet_pton(AF_INET, s, buf) == 1)
		return true;
	return inet_pton(AF_INET6, s, buf) == 1;
}

/**
 * vs_valid_hostname:
 * @s: candidate string
 *
 * Returns true for an RFC 1123 host name: dot-separated labels of 1..63
 * characters from [A-Za-z0-9-], not starting or ending with '-', at most 253
 * characters in all. A trailing dot (FQDN root) is refused.
 */
bool vs_valid_hostname(const char *s)
{
	size_t label = 0;
	size_t i;

	if (!s || !*s)
		return false;
	for (i = 0; s[i]; i++) {
		char c = s[i];

		if (i >= 253)
			return false;
		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!g_ascii_isalnum(c) && c != '-')
			return false;
		if (c == '-' && label == 0)
			return false;
		if (++label > 63)
			return false;
	}
	return label > 0 && s[i - 1] != '-';
}

/* Parses a decimal TCP/UDP port 1..65535: digits only, no sign, no spaces. */
static bool valid_port(const char *p)
{
	unsigned long v = 0;
	size_t n = 0;

	if (!p || !*p)
		return false;
	for (; *p; p++, n++) {
		if (!g_ascii_isdigit(*p) || n >= 5)
			return false;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	return v >= 1 && v <= 65535;
}

/**
 * vs_valid_host_port:
 * @s: candidate string
 *
 * Returns true for "host:port" (host an IPv4 literal or a host name) or
 * "[v6]:port" (an IPv6 literal in brackets), port 1..65535.
 */
bool vs_valid_host_port(const char *s)
{
	const char *colon;
	char host[256];
	size_t hlen;

	if (!s || !*s || strlen(s) > 253 + 6)
		return false;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			return false;
		hlen = (size_t)(close - s - 1);
		if (hlen == 0 || hlen >= sizeof(host))
			return false;
		memcpy(host, s + 1, hlen);
		host[hlen] = '\0';
		if (!strchr(host, ':') || !vs_valid_ip_literal(host))
			return false;
		return valid_port(close + 2);
	}
	colon = strchr(s, ':');
	if (!colon || strchr(colon + 1, ':'))
		return false; /* bare IPv6 needs brackets */
	hlen = (size_t)(colon - s);
	if (hlen == 0 || hlen >= sizeof(host))
		return false;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	if (!vs_valid_ip_literal(host) && !vs_valid_hostname(host))
		return false;
	return valid_port(colon + 1);
}

/* Shared shape of domain and pool names: [A-Za-z0-9][A-Za-z0-9 + extra]{0,63}. */
static bool valid_name(const char *s, const char *extra)
{
	size_t i;

	if (!s || !g_ascii_isalnum(s[0]))
		return false;
	for (i = 1; s[i]; i++) {
		if (i >= 64)
			return false;
		if (!g_ascii_isalnum(s[i]) && !strchr(extra, s[i]))
			return false;
	}
	return true;
}

/**
 * vs_valid_domain_name:
 * @s: candidate string
 *
 * Returns true for names of domains we create or act on:
 * [A-Za-z0-9][A-Za-z0-9_.+-]{0,63}. These names end up in nginx upstream
 * files, mail subjects and argv, so no spaces, quotes or separators.
 */
bool vs_valid_domain_name(const char *s)
{
	return valid_name(s, "_.+-");
}

/**
 * vs_valid_pool_name:
 * @s: candidate string
 *
 * Returns true for pool names: [A-Za-z0-9][A-Za-z0-9_-]{0,63}. This is the
 * one definition of a pool name: the config parser refuses any other
 * [pool NAME], and every consumer takes what it accepts as it is: a single
 * token in the nginx upstream include (where '.' would end the header's
 * sentence and nginx's own names allow no more), the Apache balancer, the
 * wire format, a vsPoolName index (SnmpAdminString of 1..64) and a mail
 * header. No '.', '+', '/', blank or quote.
 */
bool vs_valid_pool_name(const char *s)
{
	return valid_name(s, "_-");
}

/**
 * vs_valid_lb_name:
 * @s: candidate string
 *
 * Returns true for the names of a load balancer's own objects: the nginx
 * upstream and its zone, the Apache balancer. Same shape as a pool name,
 * [A-Za-z0-9][A-Za-z0-9_-]{0,63}: nginx reads it as one token in the
 * upstream include, and it goes unescaped into the balancer-manager's
 * query string (b=NAME), where '+' would read as a blank and '.', '/' or
 * '%' change what is asked for. The config parser refuses any other, and
 * the drivers check again with this same function.
 */
bool vs_valid_lb_name(const char *s)
{
	return valid_name(s, "_-");
}

/* True for the code points we refuse in text: C0, DEL and C1 controls. */
static bool is_control(gunichar c)
{
	return c < 0x20 || (c >= 0x7f && c <= 0x9f);
}

/**
 * vs_valid_text:
 * @s: bytes (need not be NUL-terminated)
 * @len: number of bytes
 *
 * Returns true when @s is valid UTF-8 (no overlong forms, no surrogates)
 * with no control character at all: no NUL, CR, LF, TAB, ESC, DEL or C1
 * control, so it is safe in a log line, an SNMP string or a mail header.
 */
bool vs_valid_text(const char *s, size_t len)
{
	const char *p, *end;

	if (!s)
		return len == 0;
	if (!g_utf8_validate(s, (gssize)len, &end) || end != s + len)
		return false;
	for (p = s; p < s + len; p = g_utf8_next_char(p)) {
		if (is_control(g_utf8_get_char(p)))
			return false;
	}
	return true;
}

/**
 * vs_sanitize_line:
 * @in: NUL-terminated input, may be NULL
 * @out: destination
 * @outsz: size of @out in bytes
 *
 * Copies @in into @out replacing every control character and every byte of
 * invalid UTF-8 by '?', truncating at a character boundary so the result is
 * always valid UTF-8 and NUL-terminated. Used where a hostile string must be
 * shown (logs, mail bodies) rather than refused.
 */
void vs_sanitize_line(const char *in, char *out, size_t outsz)
{
	size_t o = 0;
	const char *p;

	if (!out || outsz == 0)
		return;
	if (!in) {
		out[0] = '\0';
		return;
	}
	for (p = in; *p;) {
		gunichar c = g_utf8_get_char_validated(p, -1);
		size_t clen;

		if (c == (gunichar)-1 || c == (gunichar)-2) {
			/* one invalid byte becomes one '?', then resynchronise */
			if (o + 1 >= outsz)
				break;
			out[o++] = '?';
			p++;
			continue;
		}
		clen = (size_t)(g_utf8_next_char(p) - p);
		if (is_control(c)) {
			if (o + 1 >= outsz)
				break;
			out[o++] = '?';
		} else {
			if (o + clen >= outsz)
				break;
			memcpy(out + o, p, clen);
			o += clen;
		}
		p += clen;
	}
	out[o] = '\0';
}
