/*
 * vs-status.c - the actuator's published state, STATE_DIR/status.json.
 *
 * virtscaled rewrites it after every change; virtscale-snmp, the collectd
 * plugin and virtscalectl read it. It is replaced atomically (vs-file.c) so
 * a reader sees the old or the new file, never half of one, even across a
 * crash. Readers validate what they read: the file may be stale,
 * hand-edited or truncated by a full disk. Unknown members are ignored and
 * an unknown state name reads as "unknown", so an older reader keeps working
 * with a newer writer; known members must have the right type. The writer
 * sanitizes its free text (an error message may hold anything a command
 * printed) so that it never writes what the reader refuses.
 */
#include "config.h"

#include "vs-file.h"
#include "vs-notify.h"
#include "vs-status.h"
#include "vs-validate.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#define STATUS_VERSION  1
#define STATUS_MAX_FILE (16 * 1024 * 1024)

static const char *const target_source_names[] = {
    [VS_TARGET_SOURCE_MIN] = "min",
    [VS_TARGET_SOURCE_POLICY] = "policy",
    [VS_TARGET_SOURCE_MANUAL] = "manual",
    [VS_TARGET_SOURCE_UNKNOWN] = "unknown",
};

/** vs_target_source_name: "min", "policy", "manual" (or "unknown"). */
const char *vs_target_source_name(vs_target_source s)
{
	return (unsigned)s < G_N_ELEMENTS(target_source_names) ? target_source_names[s] : "unknown";
}

/** vs_target_source_from_name: the source called @name, else unknown. */
vs_target_source vs_target_source_from_name(const char *name)
{
	for (unsigned i = 0; name && i < G_N_ELEMENTS(target_source_names); i++)
		if (strcmp(target_source_names[i], name) == 0)
			return (vs_target_source)i;
	return VS_TARGET_SOURCE_UNKNOWN;
}

/**
 * vs_status_new:
 *
 * Returns an empty status (no pools, time 0, pid 0); free with vs_status_free().
 */
vs_status *vs_status_new(void)
{
	vs_status *s = g_new0(vs_status, 1);

	s->pools = g_ptr_array_new_with_free_func((GDestroyNotify)vs_pool_status_free);
	s->hosts = g_ptr_array_new_with_free_func((GDestroyNotify)vs_host_report_free);
	return s;
}

/**
 * vs_host_report_new:
 * @name: the host's name
 * @uri: its libvirt URI
 *
 * Returns a host that answers, with nothing measured.
 */
vs_host_report *vs_host_report_new(const char *name, const char *uri)
{
	vs_host_report *h = g_new0(vs_host_report, 1);

	h->name = g_strdup(name);
	h->uri = g_strdup(uri);
	h->answers = true;
	h->cpu_idle = h->mem_free = h->rtt_us = -1;
	return h;
}

/** vs_host_report_free: frees @h (NULL is fine). */
void vs_host_report_free(vs_host_report *h)
{
	if (!h)
		return;
	g_free(h->name);
	g_free(h->uri);
	g_free(h);
}

/**
 * vs_status_free:
 * @s: a status or NULL
 *
 * Frees @s, its pools and their instances.
 */
void vs_status_free(vs_status *s)
{
	if (!s)
		return;
	g_ptr_array_free(s->pools, TRUE);
	g_ptr_array_free(s->hosts, TRUE);
	g_free(s);
}

/**
 * vs_pool_status_new:
 * @name: the pool's name
 *
 * Returns a pool status with phase idle, last action, result and alert
 * none, an empty last error and no instances. The caller adds it to a
 * vs_status (which then owns it) or frees it with vs_pool_status_free().
 */
vs_pool_status *vs_pool_status_new(const char *name)
{
	vs_pool_status *p = g_new0(vs_pool_status, 1);

	p->name = g_strdup(name);
	p->target_source = VS_TARGET_SOURCE_MIN;
	p->phase = VS_PHASE_IDLE;
	p->last_action = VS_ACTION_NONE;
	p->last_result = VS_RESULT_NONE;
	p->last_alert = VS_ALERT_NONE;
	p->last_error = g_strdup("");
	p->instances = g_ptr_array_new_with_free_func((GDestroyNotify)vs_member_free);
	return p;
}

/** vs_migration_status_free: frees a migration record (NULL is fine). */
void vs_migration_status_free(vs_migration_status *m)
{
	if (!m)
		return;
	g_free(m->domain);
	g_free(m->from);
	g_free(m->to);
	g_free(m);
}

/** vs_migration_status_copy: a deep copy, NULL for NULL. */
vs_migration_status *vs_migration_status_copy(const vs_migration_status *m)
{
	vs_migration_status *c;

	if (!m)
		return NULL;
	c = g_memdup2(m, sizeof(*m));
	c->domain = g_strdup(m->domain);
	c->from = g_strdup(m->from);
	c->to = g_strdup(m->to);
	return c;
}

/** vs_rebalance_status_free: frees a rebalancing record (NULL is fine). */
void vs_rebalance_status_free(vs_rebalance_status *r)
{
	if (!r)
		return;
	g_free(r->domain);
	g_free(r->from);
	g_free(r->to);
	g_free(r);
}

/** vs_rebalance_status_copy: a deep copy, NULL for NULL. */
vs_rebalance_status *vs_rebalance_status_copy(const vs_rebalance_status *r)
{
	vs_rebalance_status *c;

	if (!r)
		return NULL;
	c = g_memdup2(r, sizeof(*r));
	c->domain = g_strdup(r->domain);
	c->from = g_strdup(r->from);
	c->to = g_strdup(r->to);
	return c;
}

/** vs_vertical_status_free: frees a vertical step's record (NULL is fine). */
void vs_vertical_status_free(vs_vertical_status *v)
{
	if (!v)
		return;
	g_free(v->domain);
	g_free(v->error);
	g_free(v);
}

/** vs_vertical_status_copy: a deep copy, NULL for NULL. */
vs_vertical_status *vs_vertical_status_copy(const vs_vertical_status *v)
{
	vs_vertical_status *c;

	if (!v)
		return NULL;
	c = g_memdup2(v, sizeof(*v));
	c->domain = g_strdup(v->domain);
	c->error = g_strdup(v->error);
	return c;
}

/**
 * vs_pool_status_free:
 * @p: a pool status or NULL
 *
 * Frees @p and its instances.
 */
void vs_pool_status_free(vs_pool_status *p)
{
	if (!p)
		return;
	g_free(p->name);
	g_free(p->last_error);
	g_ptr_array_free(p->instances, TRUE);
	vs_migration_status_free(p->migration);
	vs_rebalance_status_free(p->rebalance);
	vs_vertical_status_free(p->vertical);
	g_free(p);
}

/**
 * vs_status_find_pool:
 * @s: a status
 * @name: pool name
 *
 * Returns the pool called @name, or NULL.
 */
const vs_pool_status *vs_status_find_pool(const vs_status *s, const char *name)
{
	if (!s || !name)
		return NULL;
	for (guint i = 0; i < s->pools->len; i++) {
		const vs_pool_status *p = s->pools->pdata[i];

		if (g_strcmp0(p->name, name) == 0)
			return p;
	}
	return NULL;
}

/* ---- writing ---------------------------------------------------------------- */

/**
 * vs_status_text:
 * @in: any text, may be NULL (read as "")
 *
 * Returns @in as a reader of status.json accepts a string: every control
 * character (CR, LF, TAB, ESC, DEL, C1) and every byte of invalid UTF-8
 * replaced by '?', cut at a character boundary to at most
 * VS_STATUS_MAX_STRING bytes. The writer passes every string through here:
 * an error message holds whatever a command printed (`nginx -t` prints
 * several lines), and one string the reader refuses makes the whole
 * document unreadable. Free with g_free().
 */
char *vs_status_text(const char *in)
{
	char clean[VS_STATUS_MAX_STRING + 1];

	vs_sanitize_line(in ? in : "", clean, sizeof(clean));
	return g_strdup(clean);
}

/* Every string member goes through vs_status_text(); NULL stays null. */
static void put_string(JsonBuilder *b, const char *name, const char *value)
{
	json_builder_set_member_name(b, name);
	if (value) {
		g_autofree char *clean = vs_status_text(value);

		json_builder_add_string_value(b, clean);
	} else {
		json_builder_add_null_value(b);
	}
}

/* Free text: never null, "" for none. */
static void put_text(JsonBuilder *b, const char *name, const char *value)
{
	put_string(b, name, value ? value : "");
}

static void put_int(JsonBuilder *b, const char *name, gint64 value)
{
	json_builder_set_member_name(b, name);
	json_builder_add_int_value(b, value);
}

static void put_bool(JsonBuilder *b, const char *name, bool value)
{
	json_builder_set_member_name(b, name);
	json_builder_add_boolean_value(b, value);
}

/* Times: the reader refuses what is not finite or below zero. */
static void put_double(JsonBuilder *b, const char *name, double value)
{
	json_builder_set_member_name(b, name);
	json_builder_add_double_value(b, isfinite(value) && value > 0 ? value : 0);
}

static void put_instance(JsonBuilder *b, const vs_member *m)
{
	/* the reader refuses a document with an instance it cannot name */
	if (!vs_valid_domain_name(m->name))
		return;
	json_builder_begin_object(b);
	put_string(b, "name", m->name);
	put_string(b, "state", vs_domain_state_name(m->state));
	put_string(b, "address", m->address);
	put_string(b, "lb", vs_lb_state_name(m->lb_state));
	put_int(b, "sessions", MAX(m->sessions, -1));
	put_string(b, "host", m->host_uri);
	put_bool(b, "lost", m->lost);
	put_int(b, "vcpus", m->vcpus);
	put_int(b, "vcpus_max", m->vcpus_max);
	put_int(b, "memory_kib", (gint64)MIN(m->mem_kib, (uint64_t)G_MAXINT64));
	put_int(b, "memory_max_kib", (gint64)MIN(m->mem_max_kib, (uint64_t)G_MAXINT64));
	put_bool(b, "warm", m->warm);
	json_builder_end_object(b);
}

static void put_host(JsonBuilder *b, const vs_host_report *h)
{
	json_builder_begin_object(b);
	put_string(b, "name", h->name);
	put_string(b, "uri", h->uri);
	put_bool(b, "answers", h->answers);
	put_bool(b, "lost", h->lost);
	put_int(b, "down_for", h->down_for);
	put_int(b, "instances", h->instances);
	put_int(b, "cpu_idle", MAX(h->cpu_idle, -1));
	put_int(b, "mem_free", MAX(h->mem_free, -1));
	put_int(b, "rtt_us", MAX(h->rtt_us, -1));
	json_builder_end_object(b);
}

static void put_migration(JsonBuilder *b, const vs_migration_status *m)
{
	json_builder_set_member_name(b, "migration");
	json_builder_begin_object(b);
	put_text(b, "domain", m->domain);
	put_text(b, "from", m->from);
	put_text(b, "to", m->to);
	put_string(b, "result", vs_result_name(m->result));
	put_double(b, "time", m->time);
	put_int(b, "total_ms", (gint64)MIN(m->total_ms, (uint64_t)G_MAXINT64));
	put_int(b, "downtime_ms", (gint64)MIN(m->downtime_ms, (uint64_t)G_MAXINT64));
	put_int(b, "bytes", (gint64)MIN(m->bytes, (uint64_t)G_MAXINT64));
	put_int(b, "iterations", (gint64)MIN(m->iterations, (uint64_t)G_MAXINT64));
	put_int(b, "path", m->path);
	put_double(b, "dirty_rate", m->dirty_rate);
	put_bool(b, "postcopy", m->postcopy);
	json_builder_end_object(b);
}

static void put_rebalance(JsonBuilder *b, const vs_rebalance_status *r)
{
	json_builder_set_member_name(b, "rebalance");
	json_builder_begin_object(b);
	put_text(b, "domain", r->domain);
	put_text(b, "from", r->from);
	put_text(b, "to", r->to);
	put_double(b, "from_load", r->from_load);
	put_double(b, "to_load", r->to_load);
	put_bool(b, "dry_run", r->dry_run);
	put_double(b, "time", r->time);
	json_builder_end_object(b);
}

static void put_vertical(JsonBuilder *b, const vs_vertical_status *v)
{
	json_builder_set_member_name(b, "vertical");
	json_builder_begin_object(b);
	put_text(b, "domain", v->domain);
	put_string(b, "action", vs_action_name(v->action));
	put_string(b, "result", vs_result_name(v->result));
	put_double(b, "time", v->time);
	put_int(b, "vcpus", v->vcpus);
	put_int(b, "memory_kib", (gint64)MIN(v->memory_kib, (uint64_t)G_MAXINT64));
	put_text(b, "error", v->error ? v->error : "");
	json_builder_end_object(b);
}

static void put_pool(JsonBuilder *b, const vs_pool_status *p)
{
	/* as for instances: one pool the reader cannot name would hide all */
	if (!vs_valid_pool_name(p->name))
		return;
	json_builder_begin_object(b);
	put_string(b, "name", p->name);
	put_int(b, "desired", p->desired);
	put_string(b, "target_source", vs_target_source_name(p->target_source));
	put_int(b, "actual", p->actual);
	put_int(b, "warm", p->warm);
	put_string(b, "phase", vs_phase_name(p->phase));
	put_int(b, "cooldown_left", p->cooldown_left);
	put_string(b, "last_action", vs_action_name(p->last_action));
	put_string(b, "last_result", vs_result_name(p->last_result));
	put_double(b, "last_time", p->last_time);
	put_text(b, "last_error", p->last_error);
	/* counters stay far below 2^63; clamp so a corrupt value cannot wrap */
	put_int(b, "scale_outs", (gint64)MIN(p->scale_outs, (uint64_t)G_MAXINT64));
	put_int(b, "scale_ins", (gint64)MIN(p->scale_ins, (uint64_t)G_MAXINT64));
	put_int(b, "failures", (gint64)MIN(p->failures, (uint64_t)G_MAXINT64));
	put_int(b, "alerts", (gint64)MIN(p->alerts, (uint64_t)G_MAXINT64));
	put_string(b, "last_alert", vs_alert_kind_name(p->last_alert));
	put_double(b, "last_alert_time", p->last_alert_time);
	put_int(b, "migrations", (gint64)MIN(p->migrations, (uint64_t)G_MAXINT64));
	if (p->migration && p->migration->domain)
		put_migration(b, p->migration);
	put_int(b, "rebalances", (gint64)MIN(p->rebalances, (uint64_t)G_MAXINT64));
	if (p->rebalance && p->rebalance->domain)
		put_rebalance(b, p->rebalance);
	put_int(b, "vertical_steps", (gint64)MIN(p->vertical_steps, (uint64_t)G_MAXINT64));
	if (p->vertical && p->vertical->domain)
		put_vertical(b, p->vertical);
	json_builder_set_member_name(b, "instances");
	json_builder_begin_array(b);
	for (guint i = 0; p->instances && i < p->instances->len; i++)
		put_instance(b, p->instances->pdata[i]);
	json_builder_end_array(b);
	json_builder_end_object(b);
}

/**
 * vs_status_to_json:
 * @s: a status
 *
 * Serializes @s as indented JSON ending with a newline (people read this
 * file too). Free with g_free().
 */
char *vs_status_to_json(const vs_status *s)
{
	g_autoptr(JsonBuilder) b = json_builder_new();
	g_autoptr(JsonGenerator) gen = json_generator_new();
	g_autoptr(JsonNode) root = NULL;
	g_autofree char *text = NULL;

	json_builder_begin_object(b);
	put_int(b, "v", STATUS_VERSION);
	put_double(b, "time", s->time);
	put_int(b, "pid", MAX(s->pid, 0));
	json_builder_set_member_name(b, "pools");
	json_builder_begin_array(b);
	for (guint i = 0; i < s->pools->len; i++)
		put_pool(b, s->pools->pdata[i]);
	json_builder_end_array(b);
	json_builder_set_member_name(b, "hosts");
	json_builder_begin_array(b);
	for (guint i = 0; s->hosts && i < s->hosts->len; i++)
		put_host(b, s->hosts->pdata[i]);
	json_builder_end_array(b);
	json_builder_end_object(b);
	root = json_builder_get_root(b);
	json_generator_set_root(gen, root);
	json_generator_set_pretty(gen, TRUE);
	json_generator_set_indent(gen, 1);
	json_generator_set_indent_char(gen, '\t');
	text = json_generator_to_data(gen, NULL);
	return g_strconcat(text, "\n", NULL);
}

/**
 * vs_status_write:
 * @s: the status
 * @state_dir: directory of status.json
 * @error: set on failure (VS_FILE_ERROR)
 *
 * Replaces @state_dir/status.json atomically and durably; on failure the
 * old file is intact.
 */
bool vs_status_write(const vs_status *s, const char *state_dir, GError **error)
{
	g_autofree char *json = vs_status_to_json(s);
	g_autofree char *path = g_build_filename(state_dir, VS_STATUS_FILE, NULL);

	return vs_file_replace(path, json, strlen(json), 0644, error);
}

/* ---- reading ----------------------------------------------------------------- */

typedef struct reader {
	GError **error;
	const char *where; /* "pools[2]" etc. for messages */
} reader;

static bool invalid(GError **error, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static bool invalid(GError **error, const char *fmt, ...)
{
	va_list ap;
	g_autofree char *msg = NULL;

	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_set_error_literal(error, VS_STATUS_ERROR, VS_STATUS_ERROR_INVALID, msg);
	return false;
}

/* An optional string member: absent or null leaves @out as it is. */
static bool get_string(reader *r, JsonObject *o, const char *name, char **out)
{
	JsonNode *n = json_object_get_member(o, name);
	const char *s;

	if (!n || JSON_NODE_HOLDS_NULL(n))
		return true;
	if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
		return invalid(r->error, "%s.%s: must be a string", r->where, name);
	s = json_node_get_string(n);
	if (strlen(s) > VS_STATUS_MAX_STRING || !vs_valid_text(s, strlen(s)))
		return invalid(r->error, "%s.%s: too long or not printable UTF-8", r->where, name);
	g_free(*out);
	*out = g_strdup(s);
	return true;
}

/* An optional integer member within [min, max]. */
static bool get_int(reader *r, JsonObject *o, const char *name, gint64 min, gint64 max, gint64 *out)
{
	JsonNode *n = json_object_get_member(o, name);
	gint64 v;

	if (!n)
		return true;
	if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64)
		return invalid(r->error, "%s.%s: must be an integer", r->where, name);
	v = json_node_get_int(n);
	if (v < min || v > max)
		return invalid(r->error, "%s.%s: out of range", r->where, name);
	*out = v;
	return true;
}

static bool get_double(reader *r, JsonObject *o, const char *name, double *out)
{
	JsonNode *n = json_object_get_member(o, name);
	GType t;

	if (!n)
		return true;
	t = JSON_NODE_HOLDS_VALUE(n) ? json_node_get_value_type(n) : G_TYPE_INVALID;
	if (t == G_TYPE_INT64)
		*out = (double)json_node_get_int(n);
	else if (t == G_TYPE_DOUBLE)
		*out = json_node_get_double(n);
	else
		return invalid(r->error, "%s.%s: must be a number", r->where, name);
	if (!isfinite(*out) || *out < 0)
		return invalid(r->error, "%s.%s: out of range", r->where, name);
	return true;
}

/* An optional boolean member. */
static bool get_bool(reader *r, JsonObject *o, const char *name, bool *out)
{
	JsonNode *n = json_object_get_member(o, name);

	if (!n)
		return true;
	if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_BOOLEAN)
		return invalid(r->error, "%s.%s: must be true or false", r->where, name);
	*out = json_node_get_boolean(n);
	return true;
}

static JsonArray *get_array(reader *r, JsonObject *o, const char *name)
{
	JsonNode *n = json_object_get_member(o, name);

	if (!n)
		return NULL;
	if (!JSON_NODE_HOLDS_ARRAY(n)) {
		invalid(r->error, "%s.%s: must be an array", r->where, name);
		return NULL;
	}
	return json_node_get_array(n);
}

/* An optional state member: absent or null leaves @out as it is; a name
 * the table does not know (a newer writer's) reads as its unknown state. */
static bool get_state(reader *r, JsonObject *o, const char *name, const vs_state_table *t,
                      unsigned *out)
{
	g_autofree char *text = NULL;

	if (!get_string(r, o, name, &text))
		return false;
	if (text)
		vs_state_from_name(t, text, out);
	return true;
}

static vs_member *read_instance(reader *r, JsonNode *node)
{
	g_autofree char *name = NULL, *state = NULL, *address = NULL, *host = NULL;
	unsigned lb = VS_LB_STATE_UNKNOWN;
	gint64 sessions = -1, vcpus = 0, vcpus_max = 0, mem = 0, mem_max = 0;
	bool lost = false, warm = false;
	vs_member *m;
	JsonObject *o;

	if (!JSON_NODE_HOLDS_OBJECT(node)) {
		invalid(r->error, "%s: must be an object", r->where);
		return NULL;
	}
	o = json_node_get_object(node);
	if (!get_string(r, o, "name", &name) || !get_string(r, o, "state", &state) ||
	    !get_string(r, o, "address", &address) ||
	    !get_state(r, o, "lb", &vs_lb_state_table, &lb) ||
	    !get_int(r, o, "sessions", -1, G_MAXINT, &sessions) ||
	    !get_string(r, o, "host", &host) || !get_bool(r, o, "lost", &lost) ||
	    !get_int(r, o, "vcpus", 0, G_MAXUINT, &vcpus) ||
	    !get_int(r, o, "vcpus_max", 0, G_MAXUINT, &vcpus_max) ||
	    !get_int(r, o, "memory_kib", 0, G_MAXINT64, &mem) ||
	    !get_int(r, o, "memory_max_kib", 0, G_MAXINT64, &mem_max) ||
	    !get_bool(r, o, "warm", &warm))
		return NULL;
	if (!name || !vs_valid_domain_name(name)) {
		invalid(r->error, "%s.name: missing or not a valid domain name", r->where);
		return NULL;
	}
	m = vs_member_new(name, host);
	m->state = vs_domain_state_from_name(state);
	m->lost = lost;
	m->warm = warm;
	m->running = !lost && !warm && vs_pool_member_running(m->state);
	vs_member_set_address(m, address);
	m->lb_state = (vs_lb_state)lb;
	m->sessions = (int)sessions;
	m->vcpus = (unsigned)vcpus;
	m->vcpus_max = (unsigned)vcpus_max;
	m->mem_kib = (uint64_t)mem;
	m->mem_max_kib = (uint64_t)mem_max;
	return m;
}

/* The optional "vertical" object of a pool (see read_migration). */
static bool read_vertical(reader *r, JsonObject *po, vs_vertical_status **out)
{
	JsonNode *node = json_object_get_member(po, "vertical");
	vs_vertical_status *v;
	gint64 vcpus = 0, mem = 0;
	unsigned action = VS_ACTION_NONE, result = VS_RESULT_NONE;
	JsonObject *o;

	if (!node || JSON_NODE_HOLDS_NULL(node))
		return true;
	if (!JSON_NODE_HOLDS_OBJECT(node))
		return invalid(r->error, "%s.vertical: must be an object", r->where);
	o = json_node_get_object(node);
	v = g_new0(vs_vertical_status, 1);
	if (!get_string(r, o, "domain", &v->domain) ||
	    !get_state(r, o, "action", &vs_action_table, &action) ||
	    !get_state(r, o, "result", &vs_result_table, &result) ||
	    !get_double(r, o, "time", &v->time) || !get_int(r, o, "vcpus", 0, G_MAXUINT, &vcpus) ||
	    !get_int(r, o, "memory_kib", 0, G_MAXINT64, &mem) ||
	    !get_string(r, o, "error", &v->error)) {
		vs_vertical_status_free(v);
		return false;
	}
	if (!v->error)
		v->error = g_strdup("");
	v->action = (vs_action)action;
	v->result = (vs_result)result;
	v->vcpus = (unsigned)vcpus;
	v->memory_kib = (uint64_t)mem;
	*out = v;
	return true;
}

/* The optional "migration" object of a pool; NULL with @r's error set
 * when it is malformed, NULL without when absent. */
static bool read_migration(reader *r, JsonObject *po, vs_migration_status **out)
{
	JsonNode *node = json_object_get_member(po, "migration");
	vs_migration_status *m;
	gint64 total = 0, down = 0, bytes = 0, iter = 0, path = 0;
	unsigned result = VS_RESULT_NONE;
	JsonObject *o;

	if (!node || JSON_NODE_HOLDS_NULL(node))
		return true;
	if (!JSON_NODE_HOLDS_OBJECT(node))
		return invalid(r->error, "%s.migration: must be an object", r->where);
	o = json_node_get_object(node);
	m = g_new0(vs_migration_status, 1);
	m->dirty_rate = -1;
	if (!get_string(r, o, "domain", &m->domain) || !get_string(r, o, "from", &m->from) ||
	    !get_string(r, o, "to", &m->to) ||
	    !get_state(r, o, "result", &vs_result_table, &result) ||
	    !get_double(r, o, "time", &m->time) ||
	    !get_int(r, o, "total_ms", 0, G_MAXINT64, &total) ||
	    !get_int(r, o, "downtime_ms", 0, G_MAXINT64, &down) ||
	    !get_int(r, o, "bytes", 0, G_MAXINT64, &bytes) ||
	    !get_int(r, o, "iterations", 0, G_MAXINT64, &iter) ||
	    !get_int(r, o, "path", 0, 3, &path) ||
	    !get_double(r, o, "dirty_rate", &m->dirty_rate) ||
	    !get_bool(r, o, "postcopy", &m->postcopy)) {
		vs_migration_status_free(m);
		return false;
	}
	m->result = (vs_result)result;
	m->total_ms = (uint64_t)total;
	m->downtime_ms = (uint64_t)down;
	m->bytes = (uint64_t)bytes;
	m->iterations = (uint64_t)iter;
	m->path = (unsigned)path;
	*out = m;
	return true;
}

/* The optional "rebalance" object of a pool, as read_migration(). */
static bool read_rebalance(reader *r, JsonObject *po, vs_rebalance_status **out)
{
	JsonNode *node = json_object_get_member(po, "rebalance");
	vs_rebalance_status *m;
	JsonObject *o;

	if (!node || JSON_NODE_HOLDS_NULL(node))
		return true;
	if (!JSON_NODE_HOLDS_OBJECT(node))
		return invalid(r->error, "%s.rebalance: must be an object", r->where);
	o = json_node_get_object(node);
	m = g_new0(vs_rebalance_status, 1);
	if (!get_string(r, o, "domain", &m->domain) || !get_string(r, o, "from", &m->from) ||
	    !get_string(r, o, "to", &m->to) || !get_double(r, o, "from_load", &m->from_load) ||
	    !get_double(r, o, "to_load", &m->to_load) || !get_bool(r, o, "dry_run", &m->dry_run) ||
	    !get_double(r, o, "time", &m->time)) {
		vs_rebalance_status_free(m);
		return false;
	}
	*out = m;
	return true;
}

static vs_pool_status *read_pool(reader *r, JsonNode *node)
{
	vs_pool_status *p = vs_pool_status_new(NULL);
	gint64 desired = 0, actual = 0, cooldown = 0, warm = 0;
	gint64 outs = 0, ins = 0, failures = 0, alerts = 0, migrations = 0, rebalances = 0;
	gint64 vsteps = 0;
	g_autofree char *source = NULL;
	unsigned phase = p->phase, action = p->last_action, result = p->last_result;
	unsigned alert = p->last_alert;
	JsonArray *instances;
	JsonObject *o;

	if (!JSON_NODE_HOLDS_OBJECT(node)) {
		invalid(r->error, "%s: must be an object", r->where);
		goto fail;
	}
	o = json_node_get_object(node);
	if (!get_string(r, o, "name", &p->name) ||
	    !get_int(r, o, "desired", 0, G_MAXUINT, &desired) ||
	    !get_string(r, o, "target_source", &source) ||
	    !get_int(r, o, "actual", 0, G_MAXUINT, &actual) ||
	    !get_int(r, o, "warm", 0, G_MAXUINT, &warm) ||
	    !get_state(r, o, "phase", &vs_phase_table, &phase) ||
	    !get_int(r, o, "cooldown_left", 0, G_MAXUINT, &cooldown) ||
	    !get_state(r, o, "last_action", &vs_action_table, &action) ||
	    !get_state(r, o, "last_result", &vs_result_table, &result) ||
	    !get_double(r, o, "last_time", &p->last_time) ||
	    !get_string(r, o, "last_error", &p->last_error) ||
	    !get_int(r, o, "scale_outs", 0, G_MAXINT64, &outs) ||
	    !get_int(r, o, "scale_ins", 0, G_MAXINT64, &ins) ||
	    !get_int(r, o, "failures", 0, G_MAXINT64, &failures) ||
	    !get_int(r, o, "alerts", 0, G_MAXINT64, &alerts) ||
	    !get_state(r, o, "last_alert", &vs_alert_kind_table, &alert) ||
	    !get_double(r, o, "last_alert_time", &p->last_alert_time) ||
	    !get_int(r, o, "migrations", 0, G_MAXINT64, &migrations) ||
	    !read_migration(r, o, &p->migration) ||
	    !get_int(r, o, "rebalances", 0, G_MAXINT64, &rebalances) ||
	    !read_rebalance(r, o, &p->rebalance) ||
	    !get_int(r, o, "vertical_steps", 0, G_MAXINT64, &vsteps) ||
	    !read_vertical(r, o, &p->vertical))
		goto fail;
	if (!p->name || !vs_valid_pool_name(p->name)) {
		invalid(r->error, "%s.name: missing or not a valid pool name", r->where);
		goto fail;
	}
	p->desired = (unsigned)desired;
	/* absent (an older writer) or a newer writer's name: unknown */
	p->target_source = vs_target_source_from_name(source);
	p->actual = (unsigned)actual;
	p->warm = (unsigned)warm;
	p->phase = (vs_phase)phase;
	p->cooldown_left = (unsigned)cooldown;
	p->last_action = (vs_action)action;
	p->last_result = (vs_result)result;
	p->scale_outs = (uint64_t)outs;
	p->scale_ins = (uint64_t)ins;
	p->failures = (uint64_t)failures;
	p->alerts = (uint64_t)alerts;
	p->last_alert = (vs_alert_kind)alert;
	p->migrations = (uint64_t)migrations;
	p->rebalances = (uint64_t)rebalances;
	p->vertical_steps = (uint64_t)vsteps;
	instances = get_array(r, o, "instances");
	if (!instances && json_object_has_member(o, "instances"))
		goto fail;
	for (guint i = 0; instances && i < json_array_get_length(instances); i++) {
		g_autofree char *where = g_strdup_printf("%s.instances[%u]", r->where, i);
		reader sub = {r->error, where};
		vs_member *inst = read_instance(&sub, json_array_get_element(instances, i));

		if (!inst)
			goto fail;
		g_ptr_array_add(p->instances, inst);
	}
	return p;
fail:
	vs_pool_status_free(p);
	return NULL;
}

static vs_host_report *read_host(reader *r, JsonNode *node)
{
	vs_host_report *h = vs_host_report_new(NULL, NULL);
	gint64 down = 0, instances = 0, idle = -1, mem = -1, rtt = -1;
	JsonObject *o;

	if (!JSON_NODE_HOLDS_OBJECT(node)) {
		invalid(r->error, "%s: must be an object", r->where);
		goto fail;
	}
	o = json_node_get_object(node);
	if (!get_string(r, o, "name", &h->name) || !get_string(r, o, "uri", &h->uri) ||
	    !get_bool(r, o, "answers", &h->answers) || !get_bool(r, o, "lost", &h->lost) ||
	    !get_int(r, o, "down_for", 0, G_MAXUINT, &down) ||
	    !get_int(r, o, "instances", 0, G_MAXUINT, &instances) ||
	    !get_int(r, o, "cpu_idle", -1, 10000, &idle) ||
	    !get_int(r, o, "mem_free", -1, 10000, &mem) ||
	    !get_int(r, o, "rtt_us", -1, G_MAXINT, &rtt))
		goto fail;
	if (!h->name || !h->uri) {
		invalid(r->error, "%s: a host needs a name and a uri", r->where);
		goto fail;
	}
	h->down_for = (unsigned)down;
	h->instances = (unsigned)instances;
	h->cpu_idle = (long)idle;
	h->mem_free = (long)mem;
	h->rtt_us = (long)rtt;
	return h;
fail:
	vs_host_report_free(h);
	return NULL;
}

/**
 * vs_status_from_json:
 * @json: the text (need not be NUL-terminated)
 * @len: its length
 * @error: set when it is not a valid status document
 *
 * Parses and validates a status document: "v" must be 1; pool and instance
 * names must be valid; strings must be printable UTF-8; numbers in range.
 * Unknown members are ignored (newer writers may add some).
 */
vs_status *vs_status_from_json(const char *json, size_t len, GError **error)
{
	g_autoptr(JsonParser) parser = json_parser_new_immutable();
	g_autoptr(vs_status) s = vs_status_new();
	g_autoptr(GError) jerr = NULL;
	reader r = {error, "status"};
	gint64 version = 0, pid = 0;
	JsonArray *pools;
	JsonNode *root;
	JsonObject *o;

	if (!json || len == 0) {
		invalid(error, "empty status document");
		return NULL;
	}
	if (memchr(json, '\0', len) || !g_utf8_validate(json, (gssize)len, NULL)) {
		invalid(error, "status document is not UTF-8 text");
		return NULL;
	}
	if (!json_parser_load_from_data(parser, json, (gssize)len, &jerr)) {
		char clean[160];

		vs_sanitize_line(jerr->message, clean, sizeof(clean));
		invalid(error, "status document is not valid JSON: %s", clean);
		return NULL;
	}
	root = json_parser_get_root(parser);
	if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
		invalid(error, "status document is not a JSON object");
		return NULL;
	}
	o = json_node_get_object(root);
	if (!json_object_has_member(o, "v")) {
		invalid(error, "status.v: missing");
		return NULL;
	}
	if (!get_int(&r, o, "v", 0, G_MAXINT, &version))
		return NULL;
	if (version != STATUS_VERSION) {
		invalid(error, "status.v: unsupported version %" G_GINT64_FORMAT, version);
		return NULL;
	}
	if (!get_double(&r, o, "time", &s->time) || !get_int(&r, o, "pid", 0, G_MAXINT, &pid))
		return NULL;
	s->pid = (int)pid;
	pools = get_array(&r, o, "pools");
	if (!pools && json_object_has_member(o, "pools"))
		return NULL;
	for (guint i = 0; pools && i < json_array_get_length(pools); i++) {
		g_autofree char *where = g_strdup_printf("pools[%u]", i);
		reader sub = {error, where};
		vs_pool_status *p = read_pool(&sub, json_array_get_element(pools, i));

		if (!p)
			return NULL;
		if (vs_status_find_pool(s, p->name)) {
			invalid(error, "%s.name: duplicate pool", where);
			vs_pool_status_free(p);
			return NULL;
		}
		g_ptr_array_add(s->pools, p);
	}
	JsonArray *hosts = get_array(&r, o, "hosts");
	if (!hosts && json_object_has_member(o, "hosts"))
		return NULL;
	for (guint i = 0; hosts && i < json_array_get_length(hosts); i++) {
		g_autofree char *where = g_strdup_printf("hosts[%u]", i);
		reader sub = {error, where};
		vs_host_report *h = read_host(&sub, json_array_get_element(hosts, i));

		if (!h)
			return NULL;
		g_ptr_array_add(s->hosts, h);
	}
	return g_steal_pointer(&s);
}

/**
 * vs_status_read:
 * @state_dir: directory of status.json
 * @error: set when the file is absent (G_FILE_ERROR_NOENT), unreadable or
 *         invalid; the message names the file
 *
 * Reads and validates @state_dir/status.json. Returns NULL on any problem:
 * callers report "no actuator" and go on.
 */
vs_status *vs_status_read(const char *state_dir, GError **error)
{
	g_autofree char *path = g_build_filename(state_dir, VS_STATUS_FILE, NULL);
	g_autofree char *data = NULL;
	GError *err = NULL;
	vs_status *s;
	gsize len = 0;

	if (!g_file_get_contents(path, &data, &len, error))
		return NULL;
	if (len > STATUS_MAX_FILE) {
		invalid(error, "%s: too large (%zu bytes)", path, (size_t)len);
		return NULL;
	}
	s = vs_status_from_json(data, len, &err);
	if (!s) {
		g_prefix_error(&err, "%s: ", path);
		g_propagate_error(error, err);
	}
	return s;
}
