/*
 * vs-config-values.c - the syntax of every value type of virtscale.conf:
 * integers, durations, numbers, booleans, enums, paths, names, URLs,
 * addresses and the compound values (debounce = M/N, hostfwd_ports = A-B,
 * sessions, probe, name_pattern). Each parser stores a valid value or
 * explains in one phrase what is wrong; vs-config.c adds FILE:LINE, the
 * group and the key.
 */
#include "config.h"

#include "vs-config-internal.h"
#include "vs-notify.h"
#include "vs-validate.h"

#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <math.h>
#include <pwd.h>
#include <string.h>

#define FIELD(k, base, type) ((type *)(void *)((char *)(base) + (k)->offset))

_Static_assert(sizeof(vs_policy_kind) == sizeof(int), "enums are stored as int");

static void set_string(char **field, const char *value)
{
	g_free(*field);
	*field = g_strdup(value);
}

static bool has_space(const char *s)
{
	return strpbrk(s, " \t") != NULL;
}

/* Unsigned decimal, digits only: no sign, no hex, no trailing junk. */
static bool parse_decimal(const char *s, unsigned long long *out)
{
	unsigned long long v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (!g_ascii_isdigit(*s))
			return false;
		if (v > (ULLONG_MAX - 9) / 10)
			return false;
		v = v * 10 + (unsigned)(*s - '0');
	}
	*out = v;
	return true;
}

/* integer: decimal digits only, within [k->min, k->max]. */
bool vs_config_value_uint(const key_desc *k, void *base, const char *value, char **msg)
{
	unsigned long long v;

	if (!parse_decimal(value, &v)) {
		*msg = g_strdup_printf("'%s' is not a non-negative integer", value);
		return false;
	}
	if ((double)v < k->min || (double)v > k->max) {
		*msg = g_strdup_printf("%llu is out of range %.0f..%.0f", v, k->min, k->max);
		return false;
	}
	*FIELD(k, base, unsigned) = (unsigned)v;
	return true;
}

/* Durations are integer seconds; same rules as parse_uint, clearer errors. */
bool vs_config_value_duration(const key_desc *k, void *base, const char *value, char **msg)
{
	unsigned long long v;

	if (!parse_decimal(value, &v)) {
		*msg = g_strdup_printf("'%s' is not a duration in whole seconds", value);
		return false;
	}
	if ((double)v < k->min || (double)v > k->max) {
		*msg =
		    g_strdup_printf("%llu seconds is out of range %.0f..%.0f", v, k->min, k->max);
		return false;
	}
	*FIELD(k, base, unsigned) = (unsigned)v;
	return true;
}

/* number: decimal, finite, within [k->min, k->max]. */
bool vs_config_value_double(const key_desc *k, void *base, const char *value, char **msg)
{
	char *end = NULL;
	double v;

	/* strtod would also take "inf", "nan" and hex floats: refuse them */
	if (!*value || strspn(value, "0123456789.eE+-") != strlen(value)) {
		*msg = g_strdup_printf("'%s' is not a number", value);
		return false;
	}
	errno = 0;
	v = g_ascii_strtod(value, &end);
	if (errno || !end || *end || !isfinite(v)) {
		*msg = g_strdup_printf("'%s' is not a number", value);
		return false;
	}
	if (v < k->min || v > k->max) {
		*msg = g_strdup_printf("%s is out of range %g..%g", value, k->min, k->max);
		return false;
	}
	*FIELD(k, base, double) = v;
	return true;
}

static int lookup_bool(const char *value)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};

	for (size_t i = 0; i < G_N_ELEMENTS(yes); i++) {
		if (g_ascii_strcasecmp(value, yes[i]) == 0)
			return 1;
		if (g_ascii_strcasecmp(value, no[i]) == 0)
			return 0;
	}
	return -1;
}

/* boolean: yes/no, true/false, on/off, 1/0 in any case. */
bool vs_config_value_bool(const key_desc *k, void *base, const char *value, char **msg)
{
	int b = lookup_bool(value);

	if (b < 0) {
		*msg = g_strdup_printf("'%s' is not a boolean (yes/no, true/false, on/off, 1/0)",
		                       value);
		return false;
	}
	*FIELD(k, base, bool) = b;
	return true;
}

/* An empty choice holds the place of an enum value that cannot be set. */
static int lookup_choice(const char *const *choices, const char *value)
{
	for (int i = 0; choices[i]; i++) {
		if (*choices[i] && strcmp(choices[i], value) == 0)
			return i;
	}
	return -1;
}

static char *choices_text(const char *const *choices)
{
	GString *s = g_string_new(NULL);

	for (int i = 0; choices[i]; i++)
		if (*choices[i])
			g_string_append_printf(s, "%s%s", s->len ? " | " : "", choices[i]);
	return g_string_free(s, FALSE);
}

static bool bad_choice(const key_desc *k, const char *value, char **msg)
{
	g_autofree char *list = choices_text(k->choices);

	*msg = g_strdup_printf("'%s' is not one of: %s", value, list);
	return false;
}

/* one of k->choices, stored as its index (the enum value). */
bool vs_config_value_enum(const key_desc *k, void *base, const char *value, char **msg)
{
	int i = lookup_choice(k->choices, value);

	if (i < 0)
		return bad_choice(k, value, msg);
	*FIELD(k, base, int) = i;
	return true;
}

/* A single word: printable, no whitespace (sockets, binaries, user names). */
bool vs_config_value_word(const key_desc *k, void *base, const char *value, char **msg)
{
	if (has_space(value)) {
		*msg = g_strdup_printf("'%s' must not contain spaces", value);
		return false;
	}
	set_string(FIELD(k, base, char *), value);
	return true;
}

/* Free text (e.g. a reload command split on spaces later, never by a shell). */
bool vs_config_value_text(const key_desc *k, void *base, const char *value, char **msg)
{
	(void)msg;
	set_string(FIELD(k, base, char *), value);
	return true;
}

/* an absolute path without blanks. */
bool vs_config_value_path(const key_desc *k, void *base, const char *value, char **msg)
{
	if (value[0] != '/') {
		*msg = g_strdup_printf("'%s' is not an absolute path", value);
		return false;
	}
	if (has_space(value)) {
		*msg = g_strdup_printf("'%s': paths with spaces are not supported", value);
		return false;
	}
	set_string(FIELD(k, base, char *), value);
	return true;
}

/* Names that go into a load-balancer config or libvirt: strict allow-list. */
bool vs_config_value_name(const key_desc *k, void *base, const char *value, char **msg)
{
	if (!vs_valid_domain_name(value)) {
		*msg = g_strdup_printf("'%s' is not a valid name ([A-Za-z0-9][A-Za-z0-9_.+-], "
		                       "at most 64 characters)",
		                       value);
		return false;
	}
	set_string(FIELD(k, base, char *), value);
	return true;
}

/* Names of the load balancer's own objects: the drivers' rule, vs_valid_lb_name(). */
bool vs_config_value_lb_name(const key_desc *k, void *base, const char *value, char **msg)
{
	if (!vs_valid_lb_name(value)) {
		*msg = g_strdup_printf("'%s' is not a valid load-balancer name "
		                       "([A-Za-z0-9][A-Za-z0-9_-], at most 64 characters)",
		                       value);
		return false;
	}
	set_string(FIELD(k, base, char *), value);
	return true;
}

/* A Unix group name as useradd accepts it. */
bool vs_config_value_unix_group(const key_desc *k, void *base, const char *value, char **msg)
{
	size_t n = strlen(value);
	bool ok = n >= 1 && n <= 32 && (g_ascii_islower(value[0]) || value[0] == '_');

	for (size_t i = 1; ok && i < n; i++)
		ok = g_ascii_islower(value[i]) || g_ascii_isdigit(value[i]) ||
		     strchr("_-", value[i]) != NULL;
	if (!ok) {
		*msg = g_strdup_printf("'%s' is not a valid group name", value);
		return false;
	}
	set_string(FIELD(k, base, char *), value);
	return true;
}

/* A user or group: a number, or a name this host knows (resolved now, so a
 * typo is an error of the file, not a peer silently refused later). */
static bool id_list(const key_desc *k, void *base, const char *value, bool users, char **msg)
{
	g_auto(GStrv) parts = g_strsplit_set(value, ", \t", -1);
	GArray *ids = g_array_new(FALSE, FALSE, sizeof(guint32));
	GArray **field = FIELD(k, base, GArray *);

	for (char **p = parts; *p; p++) {
		unsigned long long n;
		guint32 id;

		if (!**p)
			continue;
		if (parse_decimal(*p, &n)) {
			if (n >= G_MAXUINT32) {
				*msg = g_strdup_printf("%s is not a %s id", *p,
				                       users ? "user" : "group");
				g_array_unref(ids);
				return false;
			}
			id = (guint32)n;
		} else if (users) {
			struct passwd pw, *res = NULL;
			char buf[4096];

			if (getpwnam_r(*p, &pw, buf, sizeof(buf), &res) != 0 || !res) {
				*msg = g_strdup_printf("no user '%s' on this host", *p);
				g_array_unref(ids);
				return false;
			}
			id = (guint32)res->pw_uid;
		} else {
			struct group gr, *res = NULL;
			char buf[16384];

			if (getgrnam_r(*p, &gr, buf, sizeof(buf), &res) != 0 || !res) {
				*msg = g_strdup_printf("no group '%s' on this host", *p);
				g_array_unref(ids);
				return false;
			}
			id = (guint32)res->gr_gid;
		}
		g_array_append_val(ids, id);
	}
	if (ids->len == 0) {
		*msg = g_strdup_printf("no %s given", users ? "user" : "group");
		g_array_unref(ids);
		return false;
	}
	if (*field)
		g_array_unref(*field);
	*field = ids;
	return true;
}

/* allow_uids: user names or numbers, separated by commas or blanks. */
bool vs_config_value_uid_list(const key_desc *k, void *base, const char *value, char **msg)
{
	return id_list(k, base, value, true, msg);
}

/* allow_gids: group names or numbers, separated by commas or blanks. */
bool vs_config_value_gid_list(const key_desc *k, void *base, const char *value, char **msg)
{
	return id_list(k, base, value, false, msg);
}

static bool valid_url(const char *value)
{
	const char *rest;

	if (g_str_has_prefix(value, "http://"))
		rest = value + 7;
	else if (g_str_has_prefix(value, "https://"))
		rest = value + 8;
	else
		return false;
	if (!*rest || *rest == '/' || strlen(value) > 2048)
		return false;
	for (const char *p = value; *p; p++) {
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || *p == '"' ||
		    *p == '\\')
			return false;
	}
	return true;
}

/* URL: http:// or https://, printable ASCII, no blanks or quotes. */
bool vs_config_value_url(const key_desc *k, void *base, const char *value, char **msg)
{
	if (!valid_url(value)) {
		*msg = g_strdup_printf("'%s' is not an http:// or https:// URL", value);
		return false;
	}
	set_string(FIELD(k, base, char *), value);
	return true;
}

/* host:port or [v6]:port, as vs_valid_host_port() accepts. */
bool vs_config_value_host_port(const key_desc *k, void *base, const char *value, char **msg)
{
	if (!vs_valid_host_port(value)) {
		*msg = g_strdup_printf("'%s' is not host:port (port 1..65535)", value);
		return false;
	}
	set_string(FIELD(k, base, char *), value);
	return true;
}

/* local@domain with a conservative local part; safe in a mail header. */
static bool valid_email(const char *s)
{
	const char *at = strrchr(s, '@');
	size_t local = at ? (size_t)(at - s) : 0;

	if (!at || local == 0 || local > 64 || s[0] == '.' || at[-1] == '.' ||
	    strstr(s, "..") != NULL)
		return false;
	for (const char *p = s; p < at; p++) {
		if (!g_ascii_isalnum(*p) && !strchr("._%+-", *p))
			return false;
	}
	return vs_valid_hostname(at + 1);
}

/* one e-mail address. */
bool vs_config_value_email(const key_desc *k, void *base, const char *value, char **msg)
{
	if (!valid_email(value)) {
		*msg = g_strdup_printf("'%s' is not an e-mail address (local@host)", value);
		return false;
	}
	set_string(FIELD(k, base, char *), value);
	return true;
}

/*
 * A list of words separated by any of @separators into the NULL-terminated
 * *@field, each accepted by @valid; @refusal says what a word should be
 * ("is not an e-mail address (local@host)"), @none what is missing when
 * there is no word.
 */
static bool word_list(const char *value, const char *separators, bool (*valid)(const char *),
                      const char *refusal, const char *none, char ***field, char **msg)
{
	g_auto(GStrv) parts = g_strsplit_set(value, separators, -1);
	GPtrArray *list = g_ptr_array_new_with_free_func(g_free);

	for (char **p = parts; *p; p++) {
		if (!**p)
			continue;
		if (!valid(*p)) {
			*msg = g_strdup_printf("'%s' %s", *p, refusal);
			g_ptr_array_free(list, TRUE);
			return false;
		}
		g_ptr_array_add(list, g_strdup(*p));
	}
	if (list->len == 0) {
		*msg = g_strdup(none);
		g_ptr_array_free(list, TRUE);
		return false;
	}
	g_ptr_array_add(list, NULL);
	g_strfreev(*field);
	*field = (char **)g_ptr_array_free(list, FALSE);
	return true;
}

/* [mail] to: addresses separated by commas and/or blanks. */
bool vs_config_value_email_list(const key_desc *k, void *base, const char *value, char **msg)
{
	return word_list(value, ", \t", valid_email, "is not an e-mail address (local@host)",
	                 "no address given", FIELD(k, base, char **), msg);
}

/* A libvirt connection URI: scheme:rest, printable, no spaces. */
static bool valid_libvirt_uri(const char *s)
{
	const char *p = s;

	if (!g_ascii_islower(*p) || strlen(s) > 1024)
		return false;
	/* strchr() finds the terminating NUL too: stop at the end */
	while (g_ascii_isalnum(*p) || (*p && strchr("+.-", *p)))
		p++;
	if (*p != ':' || p[1] == '\0')
		return false;
	for (; *p; p++) {
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p == 0x7f)
			return false;
	}
	return true;
}

/* one libvirt URI. */
bool vs_config_value_uri(const key_desc *k, void *base, const char *value, char **msg)
{
	if (!valid_libvirt_uri(value)) {
		*msg = g_strdup_printf("'%s' is not a libvirt URI (e.g. qemu:///system)", value);
		return false;
	}
	set_string(FIELD(k, base, char *), value);
	return true;
}

/* uri = X and hosts = X Y both fill the NULL-terminated hosts list. */
bool vs_config_value_uri_list(const key_desc *k, void *base, const char *value, char **msg)
{
	g_auto(GStrv) parts = g_strsplit_set(value, " \t", -1);
	GPtrArray *list = g_ptr_array_new_with_free_func(g_free);
	char ***field = FIELD(k, base, char **);

	for (char **p = parts; *p; p++) {
		if (!**p)
			continue;
		if (!valid_libvirt_uri(*p)) {
			*msg =
			    g_strdup_printf("'%s' is not a libvirt URI (e.g. qemu:///system)", *p);
			goto fail;
		}
		for (guint i = 0; i < list->len; i++) {
			if (strcmp(list->pdata[i], *p) == 0) {
				*msg = g_strdup_printf("'%s' is listed twice", *p);
				goto fail;
			}
		}
		g_ptr_array_add(list, g_strdup(*p));
	}
	if (strcmp(k->name, "uri") == 0 && list->len != 1) {
		*msg = g_strdup("uri takes exactly one URI; use hosts = URI URI ... for several");
		goto fail;
	}
	g_ptr_array_add(list, NULL);
	g_strfreev(*field);
	*field = (char **)g_ptr_array_free(list, FALSE);
	return true;
fail:
	g_ptr_array_free(list, TRUE);
	return false;
}

static bool valid_host_word(const char *s)
{
	return vs_valid_pool_name(s) || valid_libvirt_uri(s);
}

/* hosts = a b: host names or URIs, blank-separated, resolved by the
 * cross-checks once every [host NAME] is known. */
bool vs_config_value_word_list(const key_desc *k, void *base, const char *value, char **msg)
{
	return word_list(value, " \t", valid_host_word, "is neither a host name nor a libvirt URI",
	                 "no host given", FIELD(k, base, char **), msg);
}

/* One IPv4 address in dotted-quad form (hostfwd_address = 127.0.0.2). */
bool vs_config_value_ipv4_address(const key_desc *k, void *base, const char *value, char **msg)
{
	struct in_addr a;

	if (inet_pton(AF_INET, value, &a) != 1) {
		*msg = g_strdup_printf("'%s' is not an IPv4 address (A.B.C.D)", value);
		return false;
	}
	set_string(FIELD(k, base, char *), value);
	return true;
}

/* fast_path = cgroup | libvirt */
bool vs_config_value_fast_path(const key_desc *k, void *base, const char *value, char **msg)
{
	int i = lookup_choice(k->choices, value);

	if (i < 0)
		return bad_choice(k, value, msg);
	((vs_config *)base)->use_cgroup = (i == 0);
	return true;
}

/* starttls = no | optional | required; yes/true/on mean required. */
bool vs_config_value_starttls(const key_desc *k, void *base, const char *value, char **msg)
{
	int i = lookup_choice(k->choices, value);

	if (i < 0) {
		int b = lookup_bool(value);

		if (b < 0)
			return bad_choice(k, value, msg);
		i = b ? VS_STARTTLS_REQUIRED : VS_STARTTLS_NO;
	}
	((vs_config *)base)->mail_starttls = (vs_starttls_mode)i;
	return true;
}

/* debounce = M/N with 1 <= M <= N <= 64: into debounce_m/_n (no offset),
 * or into the vs_m_of_n at the key's offset */
bool vs_config_value_debounce(const key_desc *k, void *base, const char *value, char **msg)
{
	vs_pool_config *p = base;
	unsigned long long m, n;
	g_auto(GStrv) parts = g_strsplit(value, "/", 3);

	if (g_strv_length(parts) != 2 || !parse_decimal(parts[0], &m) ||
	    !parse_decimal(parts[1], &n)) {
		*msg = g_strdup_printf("'%s' is not M/N (e.g. 7/10)", value);
		return false;
	}
	if (m < 1 || n > 64 || m > n) {
		*msg = g_strdup_printf("'%s': need 1 <= M <= N <= 64", value);
		return false;
	}
	if (k->offset) {
		vs_m_of_n *w = (vs_m_of_n *)((char *)base + k->offset);

		w->m = (unsigned)m;
		w->n = (unsigned)n;
		return true;
	}
	p->debounce_m = (unsigned)m;
	p->debounce_n = (unsigned)n;
	return true;
}

/* hostfwd_ports = A-B, 1 <= A <= B <= 65535 */
bool vs_config_value_port_range(const key_desc *k, void *base, const char *value, char **msg)
{
	vs_pool_config *p = base;
	unsigned long long a, b;
	g_auto(GStrv) parts = g_strsplit(value, "-", 3);

	(void)k;
	if (g_strv_length(parts) != 2 || !parse_decimal(parts[0], &a) ||
	    !parse_decimal(parts[1], &b)) {
		*msg = g_strdup_printf("'%s' is not a port range A-B (e.g. 18100-18199)", value);
		return false;
	}
	if (a < 1 || b > 65535 || a > b) {
		*msg = g_strdup_printf("'%s': need 1 <= A <= B <= 65535", value);
		return false;
	}
	p->hostfwd_first = (unsigned)a;
	p->hostfwd_last = (unsigned)b;
	return true;
}

/* address_cidr = A.B.C.D/N ...: IPv4 networks, separated by commas and/or blanks. */
bool vs_config_value_ipv4_nets(const key_desc *k, void *base, const char *value, char **msg)
{
	vs_pool_config *p = base;
	g_auto(GStrv) parts = g_strsplit_set(value, ", \t", -1);
	g_autoptr(GArray) nets = g_array_new(FALSE, FALSE, sizeof(vs_ipv4_net));

	(void)k;
	for (char **s = parts; *s; s++) {
		vs_ipv4_net n;

		if (!**s)
			continue;
		if (!vs_ipv4_net_parse(*s, &n, msg))
			return false;
		g_array_append_val(nets, n);
	}
	if (nets->len == 0) {
		*msg = g_strdup("no network given");
		return false;
	}
	g_free(p->address_cidr);
	p->n_address_cidr = nets->len;
	p->address_cidr = (vs_ipv4_net *)(void *)g_array_free(g_steal_pointer(&nets), FALSE);
	return true;
}

/*
 * The URL of sessions = http:URL may hold %a (address) and %p (port), and
 * %% or %XX escapes; any other '%' is a typo we would otherwise send out.
 */
static bool valid_sessions_template(const char *url)
{
	for (const char *p = url; *p; p++) {
		if (*p != '%')
			continue;
		if (p[1] == 'a' || p[1] == 'p' || p[1] == '%') {
			p++;
			continue;
		}
		if (g_ascii_isxdigit(p[1]) && g_ascii_isxdigit(p[2])) {
			p += 2;
			continue;
		}
		return false;
	}
	return true;
}

/* sessions = sockdiag | apache | http:URL */
bool vs_config_value_sessions(const key_desc *k, void *base, const char *value, char **msg)
{
	vs_pool_config *p = base;

	(void)k;
	if (strcmp(value, "sockdiag") == 0 || strcmp(value, "apache") == 0) {
		p->sessions = value[0] == 's' ? VS_SESSIONS_SOCKDIAG : VS_SESSIONS_APACHE;
		g_clear_pointer(&p->sessions_url, g_free);
		return true;
	}
	if (g_str_has_prefix(value, "http:")) {
		const char *url = value + 5;

		if (!valid_url(url) || !valid_sessions_template(url)) {
			*msg = g_strdup_printf("'%s': after http: an http:// or https:// URL is "
			                       "expected (%%a and %%p expand to address and port)",
			                       value);
			return false;
		}
		p->sessions = VS_SESSIONS_HTTP;
		set_string(&p->sessions_url, url);
		return true;
	}
	*msg = g_strdup_printf("'%s' is not one of: sockdiag | apache | http:URL", value);
	return false;
}

/* probe = http:/PATH | tcp | none */
bool vs_config_value_probe(const key_desc *k, void *base, const char *value, char **msg)
{
	vs_pool_config *p = base;

	(void)k;
	if (strcmp(value, "tcp") == 0 || strcmp(value, "none") == 0) {
		p->probe = value[0] == 't' ? VS_PROBE_TCP : VS_PROBE_NONE;
		g_clear_pointer(&p->probe_path, g_free);
		return true;
	}
	if (g_str_has_prefix(value, "http:")) {
		const char *path = value + 5;
		bool ok = path[0] == '/' && strlen(path) <= 1024;

		/* the path goes verbatim into an HTTP request line */
		for (const char *c = path; ok && *c; c++)
			ok = (unsigned char)*c > 0x20 && (unsigned char)*c < 0x7f;
		if (!ok) {
			*msg = g_strdup_printf("'%s': expected http:/PATH (printable ASCII, no "
			                       "spaces)",
			                       value);
			return false;
		}
		p->probe = VS_PROBE_HTTP;
		set_string(&p->probe_path, path);
		return true;
	}
	*msg = g_strdup_printf("'%s' is not one of: http:/PATH | tcp | none", value);
	return false;
}

/* vertical = none | vcpu | memory | both */
bool vs_config_value_vertical(const key_desc *k, void *base, const char *value, char **msg)
{
	vs_pool_config *p = base;
	int i = lookup_choice(k->choices, value);

	if (i < 0)
		return bad_choice(k, value, msg);
	p->vertical_vcpu = (i == 1 || i == 3);
	p->vertical_memory = (i == 2 || i == 3);
	return true;
}

/*
 * name_pattern: exactly one %d or %0Nd (N 1..9) and otherwise characters of
 * a domain name, so every clone name is valid and unique per number.
 */
bool vs_config_value_name_pattern(const key_desc *k, void *base, const char *value, char **msg)
{
	unsigned conversions = 0;
	size_t plain = 0;

	for (const char *p = value; *p; p++) {
		if (*p == '%') {
			const char *q = p + 1;

			if (q[0] == '0' && q[1] >= '1' && q[1] <= '9' && q[2] == 'd')
				q += 2;
			if (*q != 'd') {
				*msg = g_strdup_printf("'%s': only %%d or %%0Nd (N = 1..9) may "
				                       "follow '%%'",
				                       value);
				return false;
			}
			conversions++;
			p = q;
			continue;
		}
		if (!g_ascii_isalnum(*p) && !strchr("_.+-", *p)) {
			*msg = g_strdup_printf("'%s': '%c' is not allowed in a domain name", value,
			                       *p);
			return false;
		}
		plain++;
	}
	if (conversions != 1) {
		*msg = g_strdup_printf("'%s' must contain exactly one %%d or %%0Nd", value);
		return false;
	}
	if (!g_ascii_isalnum(value[0]) && value[0] != '%') {
		*msg = g_strdup_printf("'%s' must start with a letter or digit", value);
		return false;
	}
	if (plain + 10 > 64) {
		*msg = g_strdup_printf("'%s' is too long for a domain name (64)", value);
		return false;
	}
	set_string(FIELD(k, base, char *), value);
	return true;
}
