/*
 * snmptrap-input.c - what snmptrapd hands a traphandle on stdin, turned
 * into one "pool" notification:
 *
 *   hostname
 *   transport                      UDP: [192.0.2.1]:40000->[192.0.2.9]:162
 *   OID value                      one line per varbind
 *
 * A trap is an order to scale, and snmptrapd passes on whatever reached its
 * port, so nothing in it is taken on trust or on resemblance: the
 * snmpTrapOID.0 varbind must be exactly one of VIRTSCALE-MIB's pool
 * notifications (vsPoolHigh, vsPoolLow, vsPoolNormal, vsPoolAtMax) and the
 * pool comes from the vsPoolName.N varbind found by its OID, never from a
 * value that happens to look like a pool name. snmptrapd prints OIDs
 * numerically (-On), with the MIB loaded (VIRTSCALE-MIB::vsPoolHigh), with
 * only its stock MIBs (NET-SNMP-MIB::netSnmpPlaypen.9999.0.1,
 * SNMPv2-SMI::enterprises.8072...) or with none (iso.3.6.1...): each form
 * is turned back into numbers, by exact labels only, and compared whole.
 * The OIDs are the subagent's (snmp-subagent/vs-snmp-oids.h).
 */
#include "config.h"

#include "act-error.h"
#include "notify-formats.h"
#include "vs-snmp-oids.h"
#include "vs-validate.h"

#include <string.h>

#define MAX_ARCS 128

typedef struct oid_path {
	unsigned arcs[MAX_ARCS];
	size_t len;
} oid_path;

static const unsigned virtscale_mib[] = {VS_ENTERPRISE_ARC};
static const unsigned snmp_trap_oid[] = {1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0};

/* The labels snmptrapd may print for the start of an OID we need, each
 * with the module that defines it; a label is matched whole, never as a
 * part of a longer one. */
typedef struct label_root {
	const char *module, *label;
	unsigned arcs[16];
	size_t len;
} label_root;

#define VS_ARCS 1, 3, 6, 1, 4, 1, 8072, 9999, 9999
static const label_root roots[] = {
    {NULL, "iso", {1}, 1},
    {"SNMPv2-SMI", "enterprises", {1, 3, 6, 1, 4, 1}, 6},
    {"NET-SNMP-MIB", "netSnmp", {1, 3, 6, 1, 4, 1, 8072}, 7},
    {"NET-SNMP-MIB", "netSnmpPlaypen", {1, 3, 6, 1, 4, 1, 8072, 9999}, 8},
    {"SNMPv2-MIB", "snmpTrapOID", {1, 3, 6, 1, 6, 3, 1, 1, 4, 1}, 10},
    {"VIRTSCALE-MIB", "virtscaleMIB", {VS_ARCS}, 9},
    {"VIRTSCALE-MIB", "vsNotifications", {VS_ARCS, 0}, 10},
    {"VIRTSCALE-MIB", "vsPoolHigh", {VS_ARCS, 0, VS_NOTIF_POOL_HIGH}, 11},
    {"VIRTSCALE-MIB", "vsPoolLow", {VS_ARCS, 0, VS_NOTIF_POOL_LOW}, 11},
    {"VIRTSCALE-MIB", "vsPoolNormal", {VS_ARCS, 0, VS_NOTIF_POOL_NORMAL}, 11},
    {"VIRTSCALE-MIB", "vsPoolAtMax", {VS_ARCS, 0, VS_NOTIF_POOL_AT_MAX}, 11},
    {"VIRTSCALE-MIB", "vsActionStarted", {VS_ARCS, 0, VS_NOTIF_ACTION_STARTED}, 11},
    {"VIRTSCALE-MIB", "vsActionSucceeded", {VS_ARCS, 0, VS_NOTIF_ACTION_SUCCEEDED}, 11},
    {"VIRTSCALE-MIB", "vsActionFailed", {VS_ARCS, 0, VS_NOTIF_ACTION_FAILED}, 11},
    {"VIRTSCALE-MIB", "vsPoolName", {VS_ARCS, VS_OBJECTS, VS_POOL_TABLE, 1, VS_POOL_NAME}, 13},
};
#undef VS_ARCS

G_STATIC_ASSERT(G_N_ELEMENTS(virtscale_mib) == 9);

static bool append_arc(oid_path *o, const char *s, size_t n)
{
	guint64 v = 0;

	if (n == 0 || n > 10 || o->len >= MAX_ARCS)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!g_ascii_isdigit(s[i]))
			return false;
		v = v * 10 + (guint64)(s[i] - '0');
	}
	if (v > G_MAXUINT32)
		return false;
	o->arcs[o->len++] = (unsigned)v;
	return true;
}

/* Appends the arcs of "1.2.3" to @o. */
static bool append_numbers(oid_path *o, const char *s)
{
	while (*s) {
		const char *dot = strchr(s, '.');
		size_t n = dot ? (size_t)(dot - s) : strlen(s);

		if (!append_arc(o, s, n))
			return false;
		if (!dot)
			return true;
		s = dot + 1;
		if (!*s)
			return false; /* a trailing dot */
	}
	return true;
}

/* "MODULE::label.1.2", "label.1.2", ".1.3.6...", "1.3.6...", "iso.3.6..." */
static bool oid_parse(const char *text, oid_path *o)
{
	const char *label = text, *module_end = strstr(text, "::");
	size_t module_len = 0;

	o->len = 0;
	if (!*text)
		return false;
	if (text[0] == '.')
		return append_numbers(o, text + 1);
	if (g_ascii_isdigit(text[0]))
		return append_numbers(o, text);
	if (module_end) {
		module_len = (size_t)(module_end - text);
		label = module_end + 2;
	}
	const char *dot = strchr(label, '.');
	size_t label_len = dot ? (size_t)(dot - label) : strlen(label);

	for (size_t i = 0; i < G_N_ELEMENTS(roots); i++) {
		const label_root *r = &roots[i];

		if (strlen(r->label) != label_len || strncmp(r->label, label, label_len) != 0)
			continue;
		/* the module, when printed, must be the label's own */
		if (module_end && (!r->module || strlen(r->module) != module_len ||
		                   strncmp(r->module, text, module_len) != 0))
			return false;
		memcpy(o->arcs, r->arcs, r->len * sizeof(r->arcs[0]));
		o->len = r->len;
		return dot ? append_numbers(o, dot + 1) : true;
	}
	return false;
}

static bool oid_is(const oid_path *o, const unsigned *arcs, size_t len)
{
	return o->len == len && memcmp(o->arcs, arcs, len * sizeof(arcs[0])) == 0;
}

/* vsNotifications.N -> N, else 0 */
static unsigned virtscale_notification(const oid_path *o)
{
	if (o->len != G_N_ELEMENTS(virtscale_mib) + 2 ||
	    memcmp(o->arcs, virtscale_mib, sizeof(virtscale_mib)) != 0 ||
	    o->arcs[G_N_ELEMENTS(virtscale_mib)] != 0)
		return 0;
	return o->arcs[G_N_ELEMENTS(virtscale_mib) + 1];
}

/* vsPoolName.INDEX: the column's OID and exactly one index arc, >= 1 */
static bool is_pool_name(const oid_path *o)
{
	static const unsigned column[] = {VS_ENTERPRISE_ARC, VS_OBJECTS, VS_POOL_TABLE, 1,
	                                  VS_POOL_NAME};

	return o->len == G_N_ELEMENTS(column) + 1 && memcmp(o->arcs, column, sizeof(column)) == 0 &&
	       o->arcs[o->len - 1] >= 1;
}

static bool verdict_of(unsigned notification, vs_verdict *v)
{
	switch (notification) {
	case VS_NOTIF_POOL_HIGH:
		*v = VS_VERDICT_HIGH;
		return true;
	case VS_NOTIF_POOL_LOW:
		*v = VS_VERDICT_LOW;
		return true;
	case VS_NOTIF_POOL_NORMAL:
		*v = VS_VERDICT_OK;
		return true;
	case VS_NOTIF_POOL_AT_MAX:
		*v = VS_VERDICT_AT_MAX;
		return true;
	default:
		return false;
	}
}

/* A varbind's value without snmptrapd's type prefix ("STRING: ", "OID: ")
 * and without the quotes of a string. */
static char *trap_value(const char *v)
{
	const char *colon = strstr(v, ": ");

	if (colon && colon - v < 20 && g_ascii_isupper(v[0])) {
		bool type_word = true;

		for (const char *p = v; p < colon; p++)
			type_word = type_word && (g_ascii_isalnum(*p) || *p == '-');
		if (type_word)
			v = colon + 2;
	}
	size_t n = strlen(v);
	if (n >= 2 && v[0] == '"' && v[n - 1] == '"')
		return g_strndup(v + 1, n - 2);
	return g_strdup(v);
}

static bool refuse(GError **error, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static bool refuse(GError **error, const char *fmt, ...)
{
	va_list ap;
	g_autofree char *msg = NULL;

	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_set_error(error, VS_ACT_ERROR, VS_ACT_ERROR_REFUSED, "snmptrapd input: %s", msg);
	return false;
}

/**
 * vs_notify_from_snmptrap: an snmptrapd traphandle input as a "pool"
 * notification. Only vsPoolHigh, vsPoolLow, vsPoolNormal and vsPoolAtMax
 * are taken; the pool is the value of the vsPoolName.N varbind and must be
 * configured in @cfg (when @cfg is given) and be @pool (when @pool is
 * given). Anything else fails with VS_ACT_ERROR_REFUSED; input that is not
 * snmptrapd's format at all fails with VS_ACT_ERROR_INVALID.
 */
bool vs_notify_from_snmptrap(const char *text, const vs_config *cfg, const char *pool,
                             vs_notification *out, GError **error)
{
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	g_autofree char *found_pool = NULL;
	unsigned notification = 0;
	bool have_trap_oid = false;
	vs_verdict verdict;

	if (!lines[0] || !lines[1]) {
		g_set_error(error, VS_ACT_ERROR, VS_ACT_ERROR_INVALID,
		            "snmptrapd input: expected hostname and address lines");
		return false;
	}
	for (char **l = lines + 2; *l; l++) {
		char *line = g_strstrip(*l);
		char *sp = strpbrk(line, " \t");
		oid_path oid;

		if (!sp)
			continue;
		*sp = '\0';
		if (!oid_parse(line, &oid))
			continue; /* a varbind of no concern: never guessed at */
		g_autofree char *val = trap_value(g_strstrip(sp + 1));
		if (oid_is(&oid, snmp_trap_oid, G_N_ELEMENTS(snmp_trap_oid))) {
			oid_path trap;

			if (have_trap_oid)
				return refuse(error, "two snmpTrapOID.0 varbinds");
			have_trap_oid = true;
			notification = oid_parse(val, &trap) ? virtscale_notification(&trap) : 0;
			if (!notification) {
				char safe[80];

				vs_sanitize_line(val, safe, sizeof(safe));
				return refuse(error, "trap %s is not a VIRTSCALE-MIB notification",
				              safe);
			}
		} else if (is_pool_name(&oid)) {
			if (!vs_valid_pool_name(val))
				return refuse(error, "vsPoolName is not a pool name");
			if (found_pool && strcmp(found_pool, val) != 0)
				return refuse(error,
				              "two vsPoolName varbinds naming different pools");
			g_free(found_pool);
			found_pool = g_strdup(val);
		}
	}
	if (!have_trap_oid)
		return refuse(error, "no snmpTrapOID.0 varbind (not an SNMPv2 notification)");
	if (!verdict_of(notification, &verdict))
		return refuse(error,
		              "VIRTSCALE-MIB notification %u is not a pool verdict (vsPoolHigh, "
		              "vsPoolLow, vsPoolNormal or vsPoolAtMax)",
		              notification);
	if (!found_pool)
		return refuse(error, "no vsPoolName varbind");
	if (pool && strcmp(pool, found_pool) != 0)
		return refuse(error, "the trap names pool %s, not %s", found_pool, pool);
	if (cfg && !vs_config_find_pool(cfg, found_pool))
		return refuse(error, "pool %s is not configured", found_pool);

	vs_notification_init(out, VS_NOTIFY_POOL);
	out->verdict = verdict;
	out->severity = verdict == VS_VERDICT_OK ? VS_SEVERITY_OKAY : VS_SEVERITY_WARNING;
	vs_notification_set_text(out->pool, found_pool);
	vs_notification_set_text(out->host, g_strstrip(lines[0]));
	vs_notification_set_text(out->source, "snmptrap");
	return true;
}
