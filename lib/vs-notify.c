/*
 * vs-notify.c - the notification wire format (JSON lines, version 1):
 * parsing with every field validated, and serialization.
 *
 * A notification comes from whoever can write to the actuator's socket, so
 * nothing in it is trusted: the raw line is checked (length, NUL, UTF-8,
 * control bytes) before JSON parsing, every member must be known and
 * allowed for the message type, of the right JSON type, in range and within
 * the size of its destination. Nothing is truncated or guessed. Error
 * messages never echo the offending value (they go to logs); at most a
 * sanitized member name. See docs/notification-protocol.md.
 */
#include "config.h"

#include "vs-notify.h"
#include "vs-policy.h"
#include "vs-validate.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <stddef.h>
#include <string.h>

/* Bit per message type, for the allowed/required masks below. */
#define T_POOL      (1u << VS_NOTIFY_POOL)
#define T_SCALE     (1u << VS_NOTIFY_SCALE)
#define T_STATUS    (1u << VS_NOTIFY_STATUS)
#define T_THRESHOLD (1u << VS_NOTIFY_THRESHOLD)
#define T_MIGRATE   (1u << VS_NOTIFY_MIGRATE)
#define T_ALL       (T_POOL | T_SCALE | T_STATUS | T_THRESHOLD | T_MIGRATE)

static const char *const type_names[] = {"pool", "scale", "status", "threshold", "migrate", NULL};
static const char *const severity_names[] = {"okay", "warning", "failure", NULL};

typedef enum {
	K_VERSION,
	K_TYPE,
	K_STRING,
	K_INT,
	K_DOUBLE,
	K_SEVERITY,
	K_VERDICT,
	K_DESIRED, /* K_INT, or "auto" in a scale request */
} field_kind;

typedef bool (*string_check)(const char *s);

typedef struct field_desc {
	const char *name;
	field_kind kind;
	size_t offset; /* in vs_notification */
	size_t size;   /* K_STRING: buffer size */
	double min, max;
	string_check check; /* K_STRING */
	unsigned allowed;   /* T_* masks */
	unsigned required;
} field_desc;

/* ---- string rules ------------------------------------------------------ */

static bool only_chars(const char *s, const char *extra)
{
	if (!*s)
		return false;
	for (; *s; s++) {
		if (!g_ascii_isalnum(*s) && !strchr(extra, *s))
			return false;
	}
	return true;
}

static bool check_identifier(const char *s)
{
	return only_chars(s, "_.-");
}

/* The sender's host as its own configuration names it (a collectd Hostname
 * may be "hv_1" or hold blanks): data for people and logs, never used as a
 * name, so printable text is all it must be. */
static bool check_host(const char *s)
{
	return *s && vs_valid_text(s, strlen(s));
}

static bool check_text(const char *s)
{
	return vs_valid_text(s, strlen(s));
}

#define N(field) offsetof(vs_notification, field)
#define S(field) sizeof(((vs_notification *)0)->field)
static const field_desc fields[] = {
    {"v", K_VERSION, 0, 0, 0, 0, NULL, T_ALL, T_ALL},
    {"type", K_TYPE, 0, 0, 0, 0, NULL, T_ALL, T_ALL},
    {"pool", K_STRING, N(pool), S(pool), 0, 0, vs_valid_pool_name, T_POOL | T_SCALE | T_THRESHOLD,
     T_POOL | T_SCALE},
    {"state", K_VERDICT, N(verdict), 0, 0, 0, NULL, T_POOL, T_POOL},
    {"severity", K_SEVERITY, N(severity), 0, 0, 0, NULL, T_POOL | T_THRESHOLD, T_THRESHOLD},
    {"metric", K_STRING, N(metric), S(metric), 0, 0, check_identifier, T_POOL | T_THRESHOLD, 0},
    {"value", K_DOUBLE, N(value), 0, -VS_NOTIFY_MAX_VALUE, VS_NOTIFY_MAX_VALUE, NULL,
     T_POOL | T_THRESHOLD, 0},
    {"threshold_high", K_DOUBLE, N(threshold_high), 0, -VS_NOTIFY_MAX_VALUE, VS_NOTIFY_MAX_VALUE,
     NULL, T_POOL | T_THRESHOLD, 0},
    {"threshold_low", K_DOUBLE, N(threshold_low), 0, -VS_NOTIFY_MAX_VALUE, VS_NOTIFY_MAX_VALUE,
     NULL, T_POOL | T_THRESHOLD, 0},
    {"instances", K_INT, N(instances), 0, 0, 100000, NULL, T_POOL, 0},
    {"desired", K_DESIRED, N(desired), 0, 0, 1000, NULL, T_POOL | T_SCALE, T_SCALE},
    {"time", K_DOUBLE, N(time), 0, 0, 1e11, NULL, T_ALL, 0},
    {"host", K_STRING, N(host), S(host), 0, 0, check_host, T_ALL, 0},
    {"source", K_STRING, N(source), S(source), 0, 0, check_identifier, T_ALL, 0},
    {"message", K_STRING, N(message), S(message), 0, 0, check_text, T_ALL, 0},
    {"plugin", K_STRING, N(plugin), S(plugin), 0, 0, check_identifier, T_THRESHOLD, T_THRESHOLD},
    {"plugin_instance", K_STRING, N(plugin_instance), S(plugin_instance), 0, 0, check_text,
     T_THRESHOLD, 0},
    {"type_name", K_STRING, N(type_name), S(type_name), 0, 0, check_identifier, T_THRESHOLD, 0},
    {"type_instance", K_STRING, N(type_instance), S(type_instance), 0, 0, check_text, T_THRESHOLD,
     0},
    {"domain", K_STRING, N(domain), S(domain), 0, 0, vs_valid_domain_name, T_MIGRATE, T_MIGRATE},
    {"to", K_STRING, N(to), S(to), 0, 0, vs_valid_pool_name, T_MIGRATE, T_MIGRATE},
};
#undef N
#undef S

static const field_desc *find_field(const char *name)
{
	for (size_t i = 0; i < G_N_ELEMENTS(fields); i++) {
		if (strcmp(fields[i].name, name) == 0)
			return &fields[i];
	}
	return NULL;
}

static int lookup(const char *const *names, const char *s)
{
	for (int i = 0; names[i]; i++) {
		if (strcmp(names[i], s) == 0)
			return i;
	}
	return -1;
}

/**
 * vs_notification_init:
 * @n: the notification to reset
 * @type: its type
 *
 * Clears @n: empty strings, value and thresholds NaN, instances and desired
 * -1, time 0 (all absent), severity okay, verdict ok.
 */
void vs_notification_init(vs_notification *n, vs_notify_type type)
{
	memset(n, 0, sizeof(*n));
	n->type = type;
	n->severity = VS_SEVERITY_OKAY;
	n->verdict = VS_VERDICT_OK;
	n->value = NAN;
	n->threshold_high = NAN;
	n->threshold_low = NAN;
	n->instances = -1;
	n->desired = -1;
}

/**
 * vs_severity_name:
 * @s: a severity
 *
 * Returns "okay", "warning" or "failure" (the wire names), else "unknown".
 */
const char *vs_severity_name(vs_severity s)
{
	if ((unsigned)s < G_N_ELEMENTS(severity_names) - 1)
		return severity_names[s];
	return "unknown";
}

/* ---- parsing -------------------------------------------------------------- */

static bool invalid(GError **error, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static bool invalid(GError **error, const char *fmt, ...)
{
	va_list ap;
	g_autofree char *msg = NULL;

	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_set_error_literal(error, VS_NOTIFY_ERROR, VS_NOTIFY_ERROR_INVALID, msg);
	return false;
}

/*
 * json-glib is lenient (it takes 'single quotes', for one). Outside string
 * literals, strict JSON holds only structure, numbers and true/false/null:
 * refuse any other byte rather than accept what another reader may not.
 */
static bool strict_json_bytes(const char *line, size_t len)
{
	bool in_string = false;

	for (size_t i = 0; i < len; i++) {
		char c = line[i];

		if (in_string) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_string = false;
			continue;
		}
		if (c == '"')
			in_string = true;
		else if (!strchr(" \t{}[]:,0123456789+-.eEtruefalsn", c))
			return false;
	}
	return true;
}

/* Checks the raw bytes before any JSON parsing. */
static bool check_raw_line(const char *line, size_t len, GError **error)
{
	if (len > VS_NOTIFY_MAX_LINE)
		return invalid(error, "line too long (%zu bytes, at most %d)", len,
		               VS_NOTIFY_MAX_LINE);
	if (len == 0)
		return invalid(error, "empty line");
	if (memchr(line, '\0', len))
		return invalid(error, "NUL byte in line");
	if (!g_utf8_validate(line, (gssize)len, NULL))
		return invalid(error, "invalid UTF-8");
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return invalid(error, "control character 0x%02x in line", c);
	}
	if (!strict_json_bytes(line, len))
		return invalid(error, "not strict JSON (single quotes, comments or bare words)");
	/* json-glib would cut a string at an escaped NUL: refuse, never truncate */
	if (g_strstr_len(line, (gssize)len, "\\u0000"))
		return invalid(error, "escaped NUL (\\u0000) in a string");
	return true;
}

static bool parse_number(JsonNode *node, bool integer, double *out)
{
	GType t;

	if (!JSON_NODE_HOLDS_VALUE(node))
		return false;
	t = json_node_get_value_type(node);
	if (t == G_TYPE_INT64) {
		*out = (double)json_node_get_int(node);
		return true;
	}
	if (t == G_TYPE_DOUBLE && !integer) {
		*out = json_node_get_double(node);
		return isfinite(*out);
	}
	return false;
}

static const char *node_string(JsonNode *node)
{
	if (!JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_STRING)
		return NULL;
	return json_node_get_string(node);
}

/* Stores one member's value; the type was checked to allow it. */
static bool parse_member(const field_desc *f, JsonNode *node, vs_notification *n, GError **error)
{
	char *base = (char *)n;
	const char *s;
	double d;
	int i;

	switch (f->kind) {
	case K_VERSION:
	case K_TYPE:
		return true; /* handled before */
	case K_STRING:
		s = node_string(node);
		if (!s)
			return invalid(error, "%s: must be a string", f->name);
		if (strlen(s) >= f->size)
			return invalid(error, "%s: too long (at most %zu bytes)", f->name,
			               f->size - 1);
		if (!f->check(s))
			return invalid(error, "%s: invalid value", f->name);
		memcpy(base + f->offset, s, strlen(s) + 1);
		return true;
	case K_VERDICT:
		s = node_string(node);
		if (!s || !vs_verdict_from_name(s, (vs_verdict *)(void *)(base + f->offset)) ||
		    *(vs_verdict *)(void *)(base + f->offset) == VS_VERDICT_UNKNOWN)
			return invalid(error,
			               "state: must be \"ok\", \"high\", \"low\" or \"at_max\"");
		return true;
	case K_SEVERITY:
		s = node_string(node);
		i = s ? lookup(severity_names, s) : -1;
		if (i < 0)
			return invalid(error,
			               "severity: must be \"okay\", \"warning\" or \"failure\"");
		*(vs_severity *)(void *)(base + f->offset) = (vs_severity)i;
		return true;
	case K_DESIRED:
		/* a user's "back to the policy": a word of its own, never a
		 * number that could also be a count */
		if (n->type == VS_NOTIFY_SCALE && (s = node_string(node)) &&
		    strcmp(s, "auto") == 0) {
			*(int *)(void *)(base + f->offset) = VS_NOTIFY_DESIRED_AUTO;
			return true;
		}
		if (!parse_number(node, true, &d))
			return invalid(error, "%s: must be an integer%s", f->name,
			               n->type == VS_NOTIFY_SCALE ? " or \"auto\"" : "");
		if (d < f->min || d > f->max)
			return invalid(error, "%s: out of range %g..%g", f->name, f->min, f->max);
		*(int *)(void *)(base + f->offset) = (int)d;
		return true;
	case K_INT:
	case K_DOUBLE:
		if (!parse_number(node, f->kind == K_INT, &d))
			return invalid(error, "%s: must be %s", f->name,
			               f->kind == K_INT ? "an integer" : "a number");
		if (d < f->min || d > f->max)
			return invalid(error, "%s: out of range %g..%g", f->name, f->min, f->max);
		if (f->kind == K_INT)
			*(int *)(void *)(base + f->offset) = (int)d;
		else
			*(double *)(void *)(base + f->offset) = d;
		return true;
	}
	return invalid(error, "%s: internal error", f->name);
}

/*
 * json-glib keeps the last of two members with the same name; another
 * reader may keep the first. Such a line means two things: refuse it. The
 * parser announces every member after adding it, so an object whose size
 * did not grow with the count of its members had a duplicate.
 */
typedef struct member_count {
	GHashTable *counts; /* JsonObject* -> members announced */
	bool duplicate;
} member_count;

static void count_member(JsonParser *parser, JsonObject *obj, const char *name, gpointer data)
{
	member_count *mc = data;
	guint n = GPOINTER_TO_UINT(g_hash_table_lookup(mc->counts, obj)) + 1;

	(void)parser;
	(void)name;
	g_hash_table_insert(mc->counts, obj, GUINT_TO_POINTER(n));
	if (json_object_get_size(obj) != n)
		mc->duplicate = true;
}

/* Reads "v" and "type" first: they decide which members are allowed. */
static bool parse_header(JsonObject *obj, vs_notify_type *type, GError **error)
{
	JsonNode *v = json_object_get_member(obj, "v");
	JsonNode *t = json_object_get_member(obj, "type");
	double version;
	const char *s;
	int i;

	if (!v)
		return invalid(error, "v: missing (protocol version)");
	if (!parse_number(v, true, &version))
		return invalid(error, "v: must be an integer");
	if (version != VS_NOTIFY_VERSION)
		return invalid(error, "v: unsupported protocol version %.0f (this is %d)",
		               fmin(fmax(version, -1e9), 1e9), VS_NOTIFY_VERSION);
	if (!t)
		return invalid(error, "type: missing");
	s = node_string(t);
	i = s ? lookup(type_names, s) : -1;
	if (i < 0)
		return invalid(error,
		               "type: must be \"pool\", \"scale\", \"status\", \"threshold\" "
		               "or \"migrate\"");
	*type = (vs_notify_type)i;
	return true;
}

/**
 * vs_notification_parse:
 * @line: one line without its newline (need not be NUL-terminated)
 * @len: its length in bytes
 * @out: filled on success; untouched on failure
 * @error: set on failure (the message never echoes the offending value)
 *
 * Parses and validates one notification. Returns false on any problem:
 * oversize line, bad bytes, invalid JSON, not an object, version other than
 * 1, unknown type, unknown or disallowed member, wrong JSON type, out of
 * range, too long for its buffer, missing required member.
 */
bool vs_notification_parse(const char *line, size_t len, vs_notification *out, GError **error)
{
	g_autoptr(JsonParser) parser = NULL;
	g_autoptr(GError) jerr = NULL;
	g_autoptr(GList) members = NULL;
	member_count members_seen = {NULL, false};
	vs_notification n;
	vs_notify_type type = VS_NOTIFY_POOL;
	bool loaded;
	JsonNode *root;
	JsonObject *obj;
	unsigned mask;

	g_return_val_if_fail(out != NULL, false);
	if (!line)
		return invalid(error, "empty line");
	if (len > 0 && line[len - 1] == '\r')
		len--; /* a CRLF client */
	if (!check_raw_line(line, len, error))
		return false;
	parser = json_parser_new_immutable();
	members_seen.counts = g_hash_table_new(g_direct_hash, g_direct_equal);
	g_signal_connect(parser, "object-member", G_CALLBACK(count_member), &members_seen);
	loaded = json_parser_load_from_data(parser, line, (gssize)len, &jerr);
	g_hash_table_destroy(members_seen.counts);
	if (!loaded) {
		char clean[160];

		vs_sanitize_line(jerr->message, clean, sizeof(clean));
		return invalid(error, "not valid JSON: %s", clean);
	}
	if (members_seen.duplicate)
		return invalid(error, "a member appears twice");
	root = json_parser_get_root(parser);
	if (!root || !JSON_NODE_HOLDS_OBJECT(root))
		return invalid(error, "not a JSON object");
	obj = json_node_get_object(root);
	if (!parse_header(obj, &type, error))
		return false;
	mask = 1u << type;
	vs_notification_init(&n, type);

	members = json_object_get_members(obj);
	for (GList *l = members; l; l = l->next) {
		const char *name = l->data;
		const field_desc *f = find_field(name);

		if (!f) {
			char clean[40];

			vs_sanitize_line(name, clean, sizeof(clean));
			return invalid(error, "unknown member \"%s\"", clean);
		}
		if (!(f->allowed & mask))
			return invalid(error, "%s: not allowed in a \"%s\" notification", f->name,
			               type_names[type]);
		if (!parse_member(f, json_object_get_member(obj, name), &n, error))
			return false;
	}
	for (size_t i = 0; i < G_N_ELEMENTS(fields); i++) {
		if ((fields[i].required & mask) && !json_object_has_member(obj, fields[i].name))
			return invalid(error, "%s: missing (required in a \"%s\" notification)",
			               fields[i].name, type_names[type]);
	}
	/* a threshold crossing carries no state: it is derived here, once */
	if (type == VS_NOTIFY_THRESHOLD)
		n.verdict = vs_policy_threshold_verdict(n.severity == VS_SEVERITY_OKAY, n.value,
		                                        n.threshold_low);
	memcpy(out, &n, sizeof(n)); /* padding included: callers may compare */
	return true;
}

/* ---- serialization ---------------------------------------------------------- */

static void add_string(JsonBuilder *b, const char *name, const char *value)
{
	if (!value || !*value)
		return;
	json_builder_set_member_name(b, name);
	json_builder_add_string_value(b, value);
}

static void add_int(JsonBuilder *b, const char *name, gint64 value)
{
	json_builder_set_member_name(b, name);
	json_builder_add_int_value(b, value);
}

/* NaN is an absent value: left out. */
static void add_double(JsonBuilder *b, const char *name, double value)
{
	if (!isfinite(value))
		return;
	json_builder_set_member_name(b, name);
	/* integral values as integers: shorter, and exact for every reader */
	if (value == floor(value) && fabs(value) < 9e15)
		json_builder_add_int_value(b, (gint64)value);
	else
		json_builder_add_double_value(b, value);
}

/**
 * vs_notification_to_json:
 * @n: a notification
 *
 * Serializes @n to one line of JSON without the trailing newline, with the
 * members its type allows; absent values (empty strings, NaN numbers, -1
 * counts, time 0) are left out. Free with g_free().
 */
char *vs_notification_to_json(const vs_notification *n)
{
	g_autoptr(JsonBuilder) b = json_builder_new();
	g_autoptr(JsonGenerator) gen = json_generator_new();
	g_autoptr(JsonNode) root = NULL;
	unsigned mask = 1u << n->type;

	json_builder_begin_object(b);
	add_int(b, "v", VS_NOTIFY_VERSION);
	json_builder_set_member_name(b, "type");
	json_builder_add_string_value(
	    b, (unsigned)n->type < G_N_ELEMENTS(type_names) - 1 ? type_names[n->type] : "status");
	if (mask & (T_POOL | T_SCALE | T_THRESHOLD))
		add_string(b, "pool", n->pool);
	if (mask & T_POOL)
		add_string(b, "state", vs_verdict_name(n->verdict));
	if (mask & (T_POOL | T_THRESHOLD)) {
		json_builder_set_member_name(b, "severity");
		json_builder_add_string_value(b, vs_severity_name(n->severity));
		add_string(b, "metric", n->metric);
		add_double(b, "value", n->value);
		add_double(b, "threshold_high", n->threshold_high);
		add_double(b, "threshold_low", n->threshold_low);
	}
	if ((mask & T_POOL) && n->instances >= 0)
		add_int(b, "instances", n->instances);
	if ((mask & (T_POOL | T_SCALE)) && n->desired >= 0)
		add_int(b, "desired", n->desired);
	else if ((mask & T_SCALE) && n->desired == VS_NOTIFY_DESIRED_AUTO)
		add_string(b, "desired", "auto");
	if (n->time > 0)
		add_double(b, "time", n->time);
	add_string(b, "host", n->host);
	add_string(b, "source", n->source);
	add_string(b, "message", n->message);
	if (mask & T_MIGRATE) {
		add_string(b, "domain", n->domain);
		add_string(b, "to", n->to);
	}
	if (mask & T_THRESHOLD) {
		add_string(b, "plugin", n->plugin);
		add_string(b, "plugin_instance", n->plugin_instance);
		add_string(b, "type_name", n->type_name);
		add_string(b, "type_instance", n->type_instance);
	}
	json_builder_end_object(b);
	root = json_builder_get_root(b);
	json_generator_set_root(gen, root);
	return json_generator_to_data(gen, NULL);
}
