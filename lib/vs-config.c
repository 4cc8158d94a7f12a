/*
 * vs-config.c - the virtscale.conf parser and validator.
 *
 * A small line-based INI reader of our own: GKeyFile forgets line numbers,
 * and every error here must name FILE:LINE so an operator can fix it before
 * anything starts. Keys are described by one table (keys[] below): name,
 * group, value parser, field offset, default and range, so a new key is one
 * line. Defaults are strings run through the same parser as the file, which
 * keeps the documented default and the effective one identical.
 *
 * Error messages: "FILE:LINE: [group] key: what is wrong".
 */
#include "config.h"

#include "vs-config.h"
#include "vs-notify.h"
#include "vs-validate.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONFIG_MAX_LINE 4096               /* bytes per line, without the newline */
#define CONFIG_MAX_FILE (16 * 1024 * 1024) /* a config file is never this big */

enum { VS_CONFIG_ERROR_PARSE = 1, VS_CONFIG_ERROR_IO = 2 };

G_DEFINE_QUARK(vs - config - error - quark, vs_config_error)

typedef enum { G_LIBVIRT, G_SNMP, G_ACTUATOR, G_NGINX, G_APACHE, G_MAIL, G_POOL, G_COUNT } group_id;

static const char *const group_names[G_COUNT] = {
    "libvirt", "snmp", "actuator", "nginx", "apache", "mail", "pool",
};

typedef struct key_desc key_desc;

/*
 * A value parser: stores @value into @base (a vs_config or vs_pool_config)
 * or returns false with a message in @msg. Parsers replace (and free) what
 * the field held, so the default can be overwritten.
 */
typedef bool (*value_parser)(const key_desc *k, void *base, const char *value, char **msg);

struct key_desc {
	group_id group;
	const char *name;
	value_parser parse;
	size_t offset;              /* of the field in base; unused by custom parsers */
	const char *def;            /* default, parsed by @parse; NULL = unset */
	double min, max;            /* numeric range (inclusive) */
	const char *const *choices; /* enum names, index = enum value */
	bool required;
};

/* ---- value parsers ------------------------------------------------------ */

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

static bool parse_uint(const key_desc *k, void *base, const char *value, char **msg)
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
static bool parse_duration(const key_desc *k, void *base, const char *value, char **msg)
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

static bool parse_double(const key_desc *k, void *base, const char *value, char **msg)
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

static bool parse_bool(const key_desc *k, void *base, const char *value, char **msg)
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

static int lookup_choice(const char *const *choices, const char *value)
{
	for (int i = 0; choices[i]; i++) {
		if (strcmp(choices[i], value) == 0)
			return i;
	}
	return -1;
}

static char *choices_text(const char *const *choices)
{
	GString *s = g_string_new(NULL);

	for (int i = 0; choices[i]; i++)
		g_string_append_printf(s, "%s%s", i ? " | " : "", choices[i]);
	return g_string_free(s, FALSE);
}

static bool bad_choice(const key_desc *k, const char *value, char **msg)
{
	g_autofree char *list = choices_text(k->choices);

	*msg = g_strdup_printf("'%s' is not one of: %s", value, list);
	return false;
}

static bool parse_enum(const key_desc *k, void *base, const char *value, char **msg)
{
	int i = lookup_choice(k->choices, value);

	if (i < 0)
		return bad_choice(k, value, msg);
	*FIELD(k, base, int) = i;
	return true;
}

/* An enum stored as its (static-validated) name, e.g. target_metric. */
static bool parse_enum_string(const key_desc *k, void *base, const char *value, char **msg)
{
	if (lookup_choice(k->choices, value) < 0)
		return bad_choice(k, value, msg);
	set_string(FIELD(k, base, char *), value);
	return true;
}

/* A single word: printable, no whitespace (sockets, binaries, user names). */
static bool parse_word(const key_desc *k, void *base, const char *value, char **msg)
{
	if (has_space(value)) {
		*msg = g_strdup_printf("'%s' must not contain spaces", value);
		return false;
	}
	set_string(FIELD(k, base, char *), value);
	return true;
}

/* Free text (e.g. a reload command split on spaces later, never by a shell). */
static bool parse_text(const key_desc *k, void *base, const char *value, char **msg)
{
	(void)msg;
	set_string(FIELD(k, base, char *), value);
	return true;
}

static bool parse_path(const key_desc *k, void *base, const char *value, char **msg)
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
static bool parse_name(const key_desc *k, void *base, const char *value, char **msg)
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

/* A Unix group name as useradd accepts it. */
static bool parse_unix_group(const key_desc *k, void *base, const char *value, char **msg)
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

static bool parse_url(const key_desc *k, void *base, const char *value, char **msg)
{
	if (!valid_url(value)) {
		*msg = g_strdup_printf("'%s' is not an http:// or https:// URL", value);
		return false;
	}
	set_string(FIELD(k, base, char *), value);
	return true;
}

static bool parse_host_port(const key_desc *k, void *base, const char *value, char **msg)
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

static bool parse_email(const key_desc *k, void *base, const char *value, char **msg)
{
	if (!valid_email(value)) {
		*msg = g_strdup_printf("'%s' is not an e-mail address (local@host)", value);
		return false;
	}
	set_string(FIELD(k, base, char *), value);
	return true;
}

static bool parse_email_list(const key_desc *k, void *base, const char *value, char **msg)
{
	g_auto(GStrv) parts = g_strsplit_set(value, ", \t", -1);
	GPtrArray *list = g_ptr_array_new_with_free_func(g_free);
	char ***field = FIELD(k, base, char **);

	for (char **p = parts; *p; p++) {
		if (!**p)
			continue;
		if (!valid_email(*p)) {
			*msg = g_strdup_printf("'%s' is not an e-mail address (local@host)", *p);
			g_ptr_array_free(list, TRUE);
			return false;
		}
		g_ptr_array_add(list, g_strdup(*p));
	}
	if (list->len == 0) {
		*msg = g_strdup("no address given");
		g_ptr_array_free(list, TRUE);
		return false;
	}
	g_ptr_array_add(list, NULL);
	g_strfreev(*field);
	*field = (char **)g_ptr_array_free(list, FALSE);
	return true;
}

/* A libvirt connection URI: scheme:rest, printable, no spaces. */
static bool valid_libvirt_uri(const char *s)
{
	const char *p = s;

	if (!g_ascii_islower(*p) || strlen(s) > 1024)
		return false;
	while (g_ascii_isalnum(*p) || strchr("+.-", *p))
		p++;
	if (*p != ':' || p[1] == '\0')
		return false;
	for (; *p; p++) {
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p == 0x7f)
			return false;
	}
	return true;
}

static bool parse_uri(const key_desc *k, void *base, const char *value, char **msg)
{
	if (!valid_libvirt_uri(value)) {
		*msg = g_strdup_printf("'%s' is not a libvirt URI (e.g. qemu:///system)", value);
		return false;
	}
	set_string(FIELD(k, base, char *), value);
	return true;
}

/* uri = X and hosts = X Y both fill the NULL-terminated hosts list. */
static bool parse_uri_list(const key_desc *k, void *base, const char *value, char **msg)
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

/* fast_path = cgroup | libvirt */
static bool parse_fast_path(const key_desc *k, void *base, const char *value, char **msg)
{
	int i = lookup_choice(k->choices, value);

	if (i < 0)
		return bad_choice(k, value, msg);
	((vs_config *)base)->use_cgroup = (i == 0);
	return true;
}

/* starttls = no | optional | required; yes/true/on mean required. */
static bool parse_starttls(const key_desc *k, void *base, const char *value, char **msg)
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

/* debounce = M/N with 1 <= M <= N <= 64 */
static bool parse_debounce(const key_desc *k, void *base, const char *value, char **msg)
{
	vs_pool_config *p = base;
	unsigned long long m, n;
	g_auto(GStrv) parts = g_strsplit(value, "/", 3);

	(void)k;
	if (g_strv_length(parts) != 2 || !parse_decimal(parts[0], &m) ||
	    !parse_decimal(parts[1], &n)) {
		*msg = g_strdup_printf("'%s' is not M/N (e.g. 7/10)", value);
		return false;
	}
	if (m < 1 || n > 64 || m > n) {
		*msg = g_strdup_printf("'%s': need 1 <= M <= N <= 64", value);
		return false;
	}
	p->debounce_m = (unsigned)m;
	p->debounce_n = (unsigned)n;
	return true;
}

/* hostfwd_ports = A-B, 1 <= A <= B <= 65535 */
static bool parse_port_range(const key_desc *k, void *base, const char *value, char **msg)
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
static bool parse_sessions(const key_desc *k, void *base, const char *value, char **msg)
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
static bool parse_probe(const key_desc *k, void *base, const char *value, char **msg)
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
static bool parse_vertical(const key_desc *k, void *base, const char *value, char **msg)
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
static bool parse_name_pattern(const key_desc *k, void *base, const char *value, char **msg)
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

/* ---- the key table ------------------------------------------------------- */

static const char *const policy_names[] = {"average", "ratio", "proportional", NULL};
static const char *const lb_names[] = {"none", "nginx", "apache", NULL};
static const char *const address_names[] = {"lease", "agent", "arp", "hostfwd", NULL};
static const char *const clone_names[] = {"overlay", "copy", NULL};
static const char *const placement_names[] = {"fewest", "weighted", NULL};
static const char *const starttls_names[] = {"no", "optional", "required", NULL};
static const char *const method_names[] = {"round-robin", "least_conn", NULL};
static const char *const fast_path_names[] = {"cgroup", "libvirt", NULL};
static const char *const metric_names[] = {"cpu", "sessions", NULL};
static const char *const vertical_names[] = {"none", "vcpu", "memory", "both", NULL};

#define NOF      0
#define C(field) offsetof(vs_config, field)
#define P(field) offsetof(vs_pool_config, field)
/* group, name, parser, offset, default, min, max, choices, required */
static const key_desc keys[] = {
    {G_LIBVIRT, "uri", parse_uri_list, C(hosts), NULL, 0, 0, NULL, false},
    {G_LIBVIRT, "hosts", parse_uri_list, C(hosts), "qemu:///system", 0, 0, NULL, false},
    {G_LIBVIRT, "refresh_interval", parse_duration, C(refresh_interval), "1", 1, 3600, NULL, false},
    {G_LIBVIRT, "slow_interval", parse_duration, C(slow_interval), "10", 1, 86400, NULL, false},
    {G_LIBVIRT, "fast_path", parse_fast_path, NOF, "cgroup", 0, 0, fast_path_names, false},

    {G_SNMP, "agentx_socket", parse_word, C(agentx_socket), "/var/agentx/master", 0, 0, NULL,
     false},
    {G_SNMP, "agentx_ping_interval", parse_duration, C(agentx_ping_interval), "5", 0, 3600, NULL,
     false},
    {G_SNMP, "state_file", parse_path, C(snmp_state_file), NULL, 0, 0, NULL, false},

    {G_ACTUATOR, "socket", parse_path, C(actuator_socket), RUNSTATEDIR "/virtscale/actuator.sock",
     0, 0, NULL, false},
    {G_ACTUATOR, "state_dir", parse_path, C(state_dir), LOCALSTATEDIR "/lib/virtscale", 0, 0, NULL,
     false},
    {G_ACTUATOR, "socket_group", parse_unix_group, C(socket_group), "virtscale", 0, 0, NULL, false},
    {G_ACTUATOR, "max_line", parse_uint, C(max_line), "4096", 256, VS_NOTIFY_MAX_LINE, NULL, false},

    {G_NGINX, "upstream_file", parse_path, C(nginx_upstream_file), NULL, 0, 0, NULL, false},
    {G_NGINX, "upstream", parse_name, C(nginx_upstream), NULL, 0, 0, NULL, false},
    {G_NGINX, "conf", parse_path, C(nginx_conf), NULL, 0, 0, NULL, false},
    {G_NGINX, "pid_file", parse_path, C(nginx_pid_file), "/run/nginx.pid", 0, 0, NULL, false},
    {G_NGINX, "binary", parse_word, C(nginx_binary), "nginx", 0, 0, NULL, false},
    {G_NGINX, "reload_command", parse_text, C(nginx_reload_command), NULL, 0, 0, NULL, false},
    {G_NGINX, "method", parse_enum, C(nginx_method), "round-robin", 0, 0, method_names, false},
    {G_NGINX, "max_conns", parse_uint, C(nginx_max_conns), "0", 0, 1000000, NULL, false},
    {G_NGINX, "zone", parse_name, C(nginx_zone), NULL, 0, 0, NULL, false},

    {G_APACHE, "balancer_manager", parse_url, C(apache_balancer_manager), NULL, 0, 0, NULL, false},
    {G_APACHE, "balancer", parse_name, C(apache_balancer), NULL, 0, 0, NULL, false},
    {G_APACHE, "timeout", parse_duration, C(apache_timeout), "5", 1, 300, NULL, false},

    {G_MAIL, "server", parse_host_port, C(mail_server), NULL, 0, 0, NULL, false},
    {G_MAIL, "from", parse_email, C(mail_from), "virtscale@localhost", 0, 0, NULL, false},
    {G_MAIL, "to", parse_email_list, C(mail_to), NULL, 0, 0, NULL, false},
    {G_MAIL, "starttls", parse_starttls, NOF, "no", 0, 0, starttls_names, false},
    {G_MAIL, "user", parse_word, C(mail_user), NULL, 0, 0, NULL, false},
    {G_MAIL, "password_file", parse_path, C(mail_password_file), NULL, 0, 0, NULL, false},
    {G_MAIL, "timeout", parse_duration, C(mail_timeout), "30", 1, 600, NULL, false},
    {G_MAIL, "rate_limit", parse_duration, C(mail_rate_limit), "300", 0, 86400, NULL, false},
    {G_MAIL, "notify_recovered", parse_bool, C(mail_notify_recovered), "no", 0, 0, NULL, false},
    {G_MAIL, "queue_max", parse_uint, C(mail_queue_max), "1000", 1, 1000000, NULL, false},

    {G_POOL, "template", parse_name, P(template_name), NULL, 0, 0, NULL, true},
    {G_POOL, "name_pattern", parse_name_pattern, P(name_pattern), NULL, 0, 0, NULL, true},
    {G_POOL, "uri", parse_uri, P(uri), NULL, 0, 0, NULL, false},
    {G_POOL, "min", parse_uint, P(min), "2", 0, 1000, NULL, false},
    {G_POOL, "max", parse_uint, P(max), "6", 1, 1000, NULL, false},
    {G_POOL, "policy", parse_enum, P(policy), "ratio", 0, 0, policy_names, false},
    {G_POOL, "cpu_high", parse_double, P(cpu_high), "50", 0, 100, NULL, false},
    {G_POOL, "cpu_low", parse_double, P(cpu_low), "15", 0, 100, NULL, false},
    {G_POOL, "sessions_high", parse_double, P(sessions_high), "50", 0, 1e6, NULL, false},
    {G_POOL, "sessions_low", parse_double, P(sessions_low), "5", 0, 1e6, NULL, false},
    {G_POOL, "session_capacity", parse_double, P(session_capacity), "100", 1, 1e6, NULL, false},
    {G_POOL, "ratio_high", parse_double, P(ratio_high), "60", 0, 100, NULL, false},
    {G_POOL, "ratio_low", parse_double, P(ratio_low), "10", 0, 100, NULL, false},
    {G_POOL, "debounce", parse_debounce, NOF, "7/10", 0, 0, NULL, false},
    {G_POOL, "target_metric", parse_enum_string, P(target_metric), "sessions", 0, 0, metric_names,
     false},
    {G_POOL, "target", parse_double, P(target), "50", 0.001, 1e6, NULL, false},
    {G_POOL, "tolerance", parse_double, P(tolerance), "0.1", 0, 0.99, NULL, false},
    {G_POOL, "stabilization", parse_duration, P(stabilization), "300", 0, 86400, NULL, false},
    {G_POOL, "max_step_up", parse_uint, P(max_step_up), "1", 1, 1000, NULL, false},
    {G_POOL, "max_step_down", parse_uint, P(max_step_down), "1", 1, 1000, NULL, false},
    {G_POOL, "sessions", parse_sessions, NOF, "sockdiag", 0, 0, NULL, false},
    {G_POOL, "backend_port", parse_uint, P(backend_port), "80", 1, 65535, NULL, false},
    {G_POOL, "lb", parse_enum, P(lb), "none", 0, 0, lb_names, false},
    {G_POOL, "cooldown", parse_duration, P(cooldown), "60", 0, 86400, NULL, false},
    {G_POOL, "address", parse_enum, P(address), "lease", 0, 0, address_names, false},
    {G_POOL, "hostfwd_ports", parse_port_range, NOF, NULL, 0, 0, NULL, false},
    {G_POOL, "probe", parse_probe, NOF, "http:/", 0, 0, NULL, false},
    {G_POOL, "probe_timeout", parse_duration, P(probe_timeout), "60", 1, 3600, NULL, false},
    {G_POOL, "drain_timeout", parse_duration, P(drain_timeout), "30", 0, 3600, NULL, false},
    {G_POOL, "shutdown_timeout", parse_duration, P(shutdown_timeout), "30", 0, 3600, NULL, false},
    {G_POOL, "keep_stopped", parse_bool, P(keep_stopped), "no", 0, 0, NULL, false},
    {G_POOL, "clone", parse_enum, P(clone), "overlay", 0, 0, clone_names, false},
    {G_POOL, "storage_pool", parse_name, P(storage_pool), "default", 0, 0, NULL, false},
    {G_POOL, "vertical", parse_vertical, NOF, "none", 0, 0, vertical_names, false},
    {G_POOL, "placement", parse_enum, P(placement), "fewest", 0, 0, placement_names, false},
    {G_POOL, "repeat_interval", parse_duration, P(repeat_interval), "10", 1, 3600, NULL, false},
};
#undef C
#undef P
#define N_KEYS G_N_ELEMENTS(keys)

static int find_key(group_id g, const char *name)
{
	for (size_t i = 0; i < N_KEYS; i++) {
		if (keys[i].group == g && strcmp(keys[i].name, name) == 0)
			return (int)i;
	}
	return -1;
}

/* Applies every default of group @g to @base; a bad default is a bug. */
static void apply_defaults(group_id g, void *base)
{
	for (size_t i = 0; i < N_KEYS; i++) {
		g_autofree char *msg = NULL;

		if (keys[i].group != g || !keys[i].def)
			continue;
		if (!keys[i].parse(&keys[i], base, keys[i].def, &msg))
			g_error("virtscale: bad built-in default for %s: %s", keys[i].name, msg);
	}
}

/* ---- parser state -------------------------------------------------------- */

/* Where each key of one group instance was set (0 = not set). */
typedef struct group_lines {
	int header;
	int key[G_N_ELEMENTS(keys)];
} group_lines;

typedef struct parser {
	const char *name; /* file name for messages */
	vs_config *cfg;
	group_lines global[G_POOL]; /* one instance of each fixed group */
	GPtrArray *pool_lines;      /* group_lines*, parallel to cfg->pools */
	group_id group;             /* current group, G_COUNT = none yet */
	void *base;                 /* current struct */
	group_lines *lines;         /* current lines */
	char *group_label;          /* "[pool web]" for messages */
} parser;

static void fail(parser *ps, GError **error, int line, const char *fmt, ...) G_GNUC_PRINTF(4, 5);

/* Sets @error to "FILE:LINE: message"; a line of 0 omits it. */
static void fail(parser *ps, GError **error, int line, const char *fmt, ...)
{
	va_list ap;
	g_autofree char *msg = NULL;

	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	if (line > 0)
		g_set_error(error, VS_CONFIG_ERROR, VS_CONFIG_ERROR_PARSE, "%s:%d: %s", ps->name,
		            line, msg);
	else
		g_set_error(error, VS_CONFIG_ERROR, VS_CONFIG_ERROR_PARSE, "%s: %s", ps->name, msg);
}

static char *label_for(group_id g, const char *pool)
{
	if (g == G_POOL)
		return g_strdup_printf("[pool %s]", pool);
	return g_strdup_printf("[%s]", group_names[g]);
}

static void pool_config_free(gpointer data)
{
	vs_pool_config *p = data;

	if (!p)
		return;
	g_free(p->name);
	g_free(p->template_name);
	g_free(p->name_pattern);
	g_free(p->uri);
	g_free(p->target_metric);
	g_free(p->sessions_url);
	g_free(p->probe_path);
	g_free(p->storage_pool);
	g_free(p);
}

static vs_config *config_new(const char *name)
{
	vs_config *cfg = g_new0(vs_config, 1);

	cfg->path = g_strdup(name);
	cfg->pools = g_ptr_array_new_with_free_func(pool_config_free);
	for (group_id g = G_LIBVIRT; g < G_POOL; g++)
		apply_defaults(g, cfg);
	return cfg;
}

/* Strips leading and trailing blanks in place; returns the new start. */
static char *strip(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	return s;
}

/*
 * Refuses what a text config never contains: NUL bytes, control characters
 * other than TAB, and invalid UTF-8. Returns NULL or a message.
 */
static char *check_line_bytes(const char *line, size_t len)
{
	const char *end;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];

		if (c == 0)
			return g_strdup("NUL byte: this is not a text file");
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return g_strdup_printf("control character 0x%02x: this is not a text file",
			                       c);
	}
	if (!g_utf8_validate(line, (gssize)len, &end))
		return g_strdup_printf("invalid UTF-8 at column %zu", (size_t)(end - line) + 1);
	return NULL;
}

static bool start_group(parser *ps, int lineno, char *header, GError **error)
{
	char *close = strchr(header, ']');
	char *inner, *after;
	group_id g = G_COUNT;
	const char *pool_name = NULL;

	if (!close) {
		fail(ps, error, lineno, "group header without ']'");
		return false;
	}
	*close = '\0';
	after = strip(close + 1);
	if (*after && *after != ';' && *after != '#') {
		fail(ps, error, lineno, "unexpected text after group header: '%s'", after);
		return false;
	}
	inner = strip(header + 1);
	if (g_str_has_prefix(inner, "pool") && (inner[4] == ' ' || inner[4] == '\t')) {
		g = G_POOL;
		pool_name = strip(inner + 4);
	} else {
		for (group_id i = G_LIBVIRT; i < G_POOL; i++) {
			if (strcmp(inner, group_names[i]) == 0)
				g = i;
		}
	}
	if (g == G_COUNT) {
		if (strcmp(inner, "pool") == 0)
			fail(ps, error, lineno, "[pool]: a pool group needs a name: [pool NAME]");
		else
			fail(ps, error, lineno, "[%s]: unknown group", inner);
		return false;
	}
	g_free(ps->group_label);
	ps->group_label = label_for(g, pool_name);
	if (g != G_POOL) {
		if (ps->global[g].header) {
			fail(ps, error, lineno, "%s: duplicate group (first at line %d)",
			     ps->group_label, ps->global[g].header);
			return false;
		}
		ps->global[g].header = lineno;
		ps->group = g;
		ps->base = ps->cfg;
		ps->lines = &ps->global[g];
		return true;
	}
	if (!vs_valid_pool_name(pool_name)) {
		fail(ps, error, lineno,
		     "%s: invalid pool name ([A-Za-z0-9][A-Za-z0-9_.-], at most 64 characters)",
		     ps->group_label);
		return false;
	}
	for (guint i = 0; i < ps->cfg->pools->len; i++) {
		vs_pool_config *other = ps->cfg->pools->pdata[i];

		if (strcmp(other->name, pool_name) == 0) {
			fail(ps, error, lineno, "%s: duplicate group (first at line %d)",
			     ps->group_label, other->line);
			return false;
		}
	}
	vs_pool_config *p = g_new0(vs_pool_config, 1);
	group_lines *gl = g_new0(group_lines, 1);

	p->name = g_strdup(pool_name);
	p->line = lineno;
	apply_defaults(G_POOL, p);
	gl->header = lineno;
	g_ptr_array_add(ps->cfg->pools, p);
	g_ptr_array_add(ps->pool_lines, gl);
	ps->group = G_POOL;
	ps->base = p;
	ps->lines = gl;
	return true;
}

/* Cuts an inline comment: ';' or '#' preceded by a blank. */
static void cut_comment(char *value)
{
	for (char *p = value; *p; p++) {
		if ((*p == ';' || *p == '#') && p > value && (p[-1] == ' ' || p[-1] == '\t')) {
			*p = '\0';
			return;
		}
	}
}

static bool set_key(parser *ps, int lineno, char *line, GError **error)
{
	char *eq = strchr(line, '=');
	char *key, *value;
	g_autofree char *msg = NULL;
	int idx;

	if (!eq) {
		fail(ps, error, lineno, "expected 'key = value' (missing '=')");
		return false;
	}
	*eq = '\0';
	key = strip(line);
	value = eq + 1;
	cut_comment(value);
	value = strip(value);
	if (!*key) {
		fail(ps, error, lineno, "missing key before '='");
		return false;
	}
	if (ps->group == G_COUNT) {
		fail(ps, error, lineno, "%s: key outside of any group", key);
		return false;
	}
	idx = find_key(ps->group, key);
	if (idx < 0) {
		fail(ps, error, lineno, "%s %s: unknown key", ps->group_label, key);
		return false;
	}
	if (ps->lines->key[idx]) {
		fail(ps, error, lineno, "%s %s: duplicate key (first at line %d)", ps->group_label,
		     key, ps->lines->key[idx]);
		return false;
	}
	if (!*value) {
		fail(ps, error, lineno, "%s %s: empty value (remove the line to get the default)",
		     ps->group_label, key);
		return false;
	}
	if (!keys[idx].parse(&keys[idx], ps->base, value, &msg)) {
		fail(ps, error, lineno, "%s %s: %s", ps->group_label, key, msg);
		return false;
	}
	ps->lines->key[idx] = lineno;
	return true;
}

static bool parse_lines(parser *ps, const char *data, gsize len, GError **error)
{
	gsize pos = 0;
	int lineno = 0;

	while (pos < len) {
		const char *start = data + pos;
		const char *nl = memchr(start, '\n', len - pos);
		gsize llen = nl ? (gsize)(nl - start) : len - pos;
		g_autofree char *line = NULL;
		g_autofree char *bad = NULL;
		char *s;

		lineno++;
		pos += llen + (nl ? 1 : 0);
		if (llen > 0 && start[llen - 1] == '\r')
			llen--; /* CRLF files */
		if (llen > CONFIG_MAX_LINE) {
			fail(ps, error, lineno, "line too long (more than %d bytes)",
			     CONFIG_MAX_LINE);
			return false;
		}
		bad = check_line_bytes(start, llen);
		if (bad) {
			fail(ps, error, lineno, "%s", bad);
			return false;
		}
		line = g_strndup(start, llen);
		s = strip(line);
		if (!*s || *s == ';' || *s == '#')
			continue;
		if (*s == '[') {
			if (!start_group(ps, lineno, s, error))
				return false;
			continue;
		}
		if (!set_key(ps, lineno, s, error))
			return false;
	}
	return true;
}

/* ---- cross-checks ---------------------------------------------------------- */

/* The line to blame for key @name in @gl: where it was set, else the header. */
static int blame(const group_lines *gl, group_id g, const char *name)
{
	int idx = find_key(g, name);

	if (idx >= 0 && gl->key[idx])
		return gl->key[idx];
	return gl->header;
}

/* The later of two keys' lines: the one that made the pair inconsistent. */
static int blame2(const group_lines *gl, group_id g, const char *a, const char *b)
{
	int la = blame(gl, g, a), lb = blame(gl, g, b);

	return la > lb ? la : lb;
}

static bool check_pool(parser *ps, vs_pool_config *p, group_lines *gl, GError **error)
{
	vs_config *cfg = ps->cfg;
	g_autofree char *label = label_for(G_POOL, p->name);

	for (size_t i = 0; i < N_KEYS; i++) {
		if (keys[i].group == G_POOL && keys[i].required && !gl->key[i]) {
			fail(ps, error, gl->header, "%s %s: required key missing", label,
			     keys[i].name);
			return false;
		}
	}
	if (p->min > p->max) {
		fail(ps, error, blame2(gl, G_POOL, "min", "max"),
		     "%s min: min (%u) must not exceed max (%u)", label, p->min, p->max);
		return false;
	}
	if (p->cpu_low >= p->cpu_high) {
		fail(ps, error, blame2(gl, G_POOL, "cpu_low", "cpu_high"),
		     "%s cpu_low: cpu_low (%g) must be below cpu_high (%g)", label, p->cpu_low,
		     p->cpu_high);
		return false;
	}
	if (p->sessions_low >= p->sessions_high) {
		fail(ps, error, blame2(gl, G_POOL, "sessions_low", "sessions_high"),
		     "%s sessions_low: sessions_low (%g) must be below sessions_high (%g)", label,
		     p->sessions_low, p->sessions_high);
		return false;
	}
	if (p->ratio_low >= p->ratio_high) {
		fail(ps, error, blame2(gl, G_POOL, "ratio_low", "ratio_high"),
		     "%s ratio_low: ratio_low (%g) must be below ratio_high (%g)", label,
		     p->ratio_low, p->ratio_high);
		return false;
	}
	if (p->uri) {
		if (!g_strv_contains((const char *const *)cfg->hosts, p->uri)) {
			fail(ps, error, blame(gl, G_POOL, "uri"),
			     "%s uri: '%s' is not one of the [libvirt] hosts", label, p->uri);
			return false;
		}
	} else {
		p->uri = g_strdup(cfg->hosts[0]);
	}
	if (p->address == VS_ADDRESS_HOSTFWD) {
		if (!p->hostfwd_first) {
			fail(ps, error, blame(gl, G_POOL, "address"),
			     "%s address: address = hostfwd needs hostfwd_ports = A-B", label);
			return false;
		}
		if (p->hostfwd_last - p->hostfwd_first + 1 < p->max) {
			fail(ps, error, blame2(gl, G_POOL, "hostfwd_ports", "max"),
			     "%s hostfwd_ports: %u-%u has %u ports, fewer than max = %u", label,
			     p->hostfwd_first, p->hostfwd_last,
			     p->hostfwd_last - p->hostfwd_first + 1, p->max);
			return false;
		}
	}
	if (p->lb == VS_LB_NGINX) {
		const char *missing = !cfg->nginx_upstream_file ? "upstream_file"
		                      : !cfg->nginx_upstream    ? "upstream"
		                      : !cfg->nginx_conf        ? "conf"
		                                                : NULL;
		if (missing) {
			fail(ps, error, blame(gl, G_POOL, "lb"),
			     "%s lb: lb = nginx needs %s in [nginx]", label, missing);
			return false;
		}
	}
	if (p->lb == VS_LB_APACHE || p->sessions == VS_SESSIONS_APACHE) {
		const char *missing = !cfg->apache_balancer_manager ? "balancer_manager"
		                      : !cfg->apache_balancer       ? "balancer"
		                                                    : NULL;
		const char *key = p->lb == VS_LB_APACHE ? "lb" : "sessions";

		if (missing) {
			fail(ps, error, blame(gl, G_POOL, key),
			     "%s %s: %s = apache needs %s in [apache]", label, key, key, missing);
			return false;
		}
	}
	return true;
}

/* Pools share one [nginx]/[apache] upstream and must not share clone names or ports. */
static bool check_pool_pairs(parser *ps, GError **error)
{
	GPtrArray *pools = ps->cfg->pools;

	for (guint i = 0; i < pools->len; i++) {
		vs_pool_config *a = pools->pdata[i];

		for (guint j = i + 1; j < pools->len; j++) {
			vs_pool_config *b = pools->pdata[j];
			group_lines *gl = ps->pool_lines->pdata[j];
			g_autofree char *label = label_for(G_POOL, b->name);

			if (strcmp(a->name_pattern, b->name_pattern) == 0) {
				fail(ps, error, blame(gl, G_POOL, "name_pattern"),
				     "%s name_pattern: same as pool %s", label, a->name);
				return false;
			}
			if (a->lb == b->lb && a->lb != VS_LB_NONE) {
				fail(
				    ps, error, blame(gl, G_POOL, "lb"),
				    "%s lb: pool %s already uses lb = %s (one upstream per config)",
				    label, a->name, vs_lb_kind_name(a->lb));
				return false;
			}
			if (a->address == VS_ADDRESS_HOSTFWD && b->address == VS_ADDRESS_HOSTFWD &&
			    a->hostfwd_first <= b->hostfwd_last &&
			    b->hostfwd_first <= a->hostfwd_last) {
				fail(ps, error, blame(gl, G_POOL, "hostfwd_ports"),
				     "%s hostfwd_ports: overlaps pool %s (%u-%u)", label, a->name,
				     a->hostfwd_first, a->hostfwd_last);
				return false;
			}
		}
	}
	return true;
}

static bool check_config(parser *ps, GError **error)
{
	vs_config *cfg = ps->cfg;
	const group_lines *lv = &ps->global[G_LIBVIRT];
	const group_lines *mail = &ps->global[G_MAIL];

	if (lv->key[find_key(G_LIBVIRT, "uri")] && lv->key[find_key(G_LIBVIRT, "hosts")]) {
		fail(ps, error, blame2(lv, G_LIBVIRT, "uri", "hosts"),
		     "[libvirt] hosts: give either uri or hosts, not both");
		return false;
	}
	if (cfg->slow_interval < cfg->refresh_interval) {
		fail(ps, error, blame2(lv, G_LIBVIRT, "slow_interval", "refresh_interval"),
		     "[libvirt] slow_interval: %u must not be below refresh_interval (%u)",
		     cfg->slow_interval, cfg->refresh_interval);
		return false;
	}
	if (cfg->mail_server && !cfg->mail_to) {
		fail(ps, error, mail->header, "[mail] to: required key missing (server is set)");
		return false;
	}
	if (!cfg->snmp_state_file)
		cfg->snmp_state_file = g_build_filename(cfg->state_dir, "vm-index.map", NULL);
	for (guint i = 0; i < cfg->pools->len; i++) {
		if (!check_pool(ps, cfg->pools->pdata[i], ps->pool_lines->pdata[i], error))
			return false;
	}
	return check_pool_pairs(ps, error);
}

/* ---- public API -------------------------------------------------------------- */

/**
 * vs_config_load_from_data:
 * @data: file contents (need not be NUL-terminated; may hold junk)
 * @len: length of @data
 * @name: name used in error messages and stored as cfg->path
 * @error: set on failure, "NAME:LINE: [group] key: what is wrong"
 *
 * Parses and validates a whole configuration. Returns NULL on the first
 * error; nothing is partially applied.
 */
vs_config *vs_config_load_from_data(const char *data, gsize len, const char *name, GError **error)
{
	parser ps = {0};
	bool ok;

	g_return_val_if_fail(data != NULL || len == 0, NULL);
	ps.name = name ? name : "(config)";
	ps.cfg = config_new(ps.name);
	ps.pool_lines = g_ptr_array_new_with_free_func(g_free);
	ps.group = G_COUNT;
	ok = parse_lines(&ps, data ? data : "", len, error) && check_config(&ps, error);
	g_ptr_array_free(ps.pool_lines, TRUE);
	g_free(ps.group_label);
	if (!ok) {
		vs_config_free(ps.cfg);
		return NULL;
	}
	return ps.cfg;
}

/**
 * vs_config_load:
 * @path: the file; NULL means VS_DEFAULT_CONFIG_FILE
 * @error: set on failure, "FILE:LINE: [group] key: what is wrong", or
 *         "FILE: message" when the file cannot be read
 *
 * Reads, parses and validates the whole file. Returns NULL on any error.
 */
vs_config *vs_config_load(const char *path, GError **error)
{
	g_autofree char *data = NULL;
	g_autoptr(GError) err = NULL;
	gsize len = 0;

	if (!path)
		path = VS_DEFAULT_CONFIG_FILE;
	if (!g_file_get_contents(path, &data, &len, &err)) {
		g_set_error(error, VS_CONFIG_ERROR, VS_CONFIG_ERROR_IO, "%s: cannot read: %s", path,
		            err->message);
		return NULL;
	}
	if (len > CONFIG_MAX_FILE) {
		g_set_error(error, VS_CONFIG_ERROR, VS_CONFIG_ERROR_IO,
		            "%s: file too large (%zu bytes; a config is at most %d)", path,
		            (size_t)len, CONFIG_MAX_FILE);
		return NULL;
	}
	return vs_config_load_from_data(data, len, path, error);
}

/**
 * vs_config_load_or_exit:
 * @program: prefix of the message (the program's name)
 * @path: the file; NULL means VS_DEFAULT_CONFIG_FILE
 *
 * vs_config_load(), or "PROGRAM: FILE:LINE: ..." on stderr and
 * exit(VS_EXIT_CONFIG) before the caller starts anything.
 */
vs_config *vs_config_load_or_exit(const char *program, const char *path)
{
	g_autoptr(GError) err = NULL;
	vs_config *cfg = vs_config_load(path, &err);

	if (!cfg) {
		fprintf(stderr, "%s: %s\n", program ? program : "virtscale", err->message);
		exit(VS_EXIT_CONFIG);
	}
	return cfg;
}

/**
 * vs_config_free:
 * @cfg: a configuration or NULL
 *
 * Frees @cfg and every pool in it.
 */
void vs_config_free(vs_config *cfg)
{
	if (!cfg)
		return;
	g_free(cfg->path);
	g_strfreev(cfg->hosts);
	g_free(cfg->agentx_socket);
	g_free(cfg->snmp_state_file);
	g_free(cfg->actuator_socket);
	g_free(cfg->state_dir);
	g_free(cfg->socket_group);
	g_free(cfg->nginx_upstream_file);
	g_free(cfg->nginx_upstream);
	g_free(cfg->nginx_conf);
	g_free(cfg->nginx_pid_file);
	g_free(cfg->nginx_binary);
	g_free(cfg->nginx_reload_command);
	g_free(cfg->nginx_zone);
	g_free(cfg->apache_balancer_manager);
	g_free(cfg->apache_balancer);
	g_free(cfg->mail_server);
	g_free(cfg->mail_from);
	g_strfreev(cfg->mail_to);
	g_free(cfg->mail_user);
	g_free(cfg->mail_password_file);
	if (cfg->pools)
		g_ptr_array_free(cfg->pools, TRUE);
	g_free(cfg);
}

/**
 * vs_config_find_pool:
 * @cfg: a configuration
 * @name: pool name
 *
 * Returns the pool called @name, or NULL.
 */
const vs_pool_config *vs_config_find_pool(const vs_config *cfg, const char *name)
{
	if (!cfg || !name)
		return NULL;
	for (guint i = 0; i < cfg->pools->len; i++) {
		const vs_pool_config *p = cfg->pools->pdata[i];

		if (strcmp(p->name, name) == 0)
			return p;
	}
	return NULL;
}

/**
 * vs_policy_kind_name:
 * @k: a policy kind
 *
 * Returns the name used in the config file ("average", "ratio",
 * "proportional"), or "unknown".
 */
const char *vs_policy_kind_name(vs_policy_kind k)
{
	if ((unsigned)k < G_N_ELEMENTS(policy_names) - 1)
		return policy_names[k];
	return "unknown";
}

/**
 * vs_lb_kind_name:
 * @k: a load-balancer kind
 *
 * Returns the name used in the config file ("none", "nginx", "apache"), or
 * "unknown".
 */
const char *vs_lb_kind_name(vs_lb_kind k)
{
	if ((unsigned)k < G_N_ELEMENTS(lb_names) - 1)
		return lb_names[k];
	return "unknown";
}
