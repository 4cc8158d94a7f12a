/*
 * journal.c - STATE_DIR/journal: every step of every action, one JSON line
 * each, fdatasync'd before the step is taken, so a crash at any point leaves
 * a record of what may be half-made. Records:
 *   {"id":7,"op":"clone","pool":"web","name":"web-03","uri":"qemu:///system",
 *    "vol_pool":"default","vols":["web-03.qcow2"],"address":"127.0.0.1:18103"}
 *   {"id":7,"step":"defined"}
 *   {"id":7,"end":"ok"}
 * The file is truncated whenever no operation is open.
 */
#include "config.h"

#include "act-error.h"
#include "journal.h"
#include "vs-log.h"

#include <errno.h>
#include <fcntl.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <unistd.h>

#define JOURNAL_FILE "journal"
/* Ids run from 1 (0 means failure) to this; replay skips any other as foreign. */
#define JOURNAL_MAX_ID ((uint64_t)G_MAXINT32)

struct vs_journal {
	GMutex lock;
	int fd;
	char *path;
	uint64_t next_id;
	GHashTable *open; /* id -> vs_journal_op* */
};

/** vs_journal_op_free: frees a copy of an operation. */
void vs_journal_op_free(vs_journal_op *op)
{
	if (!op)
		return;
	g_free(op->op);
	g_free(op->pool);
	g_free(op->name);
	g_free(op->uri);
	g_free(op->vol_pool);
	g_strfreev(op->vols);
	g_free(op->address);
	g_free(op->step);
	g_free(op);
}

static vs_journal_op *op_copy(const vs_journal_op *o)
{
	vs_journal_op *c = g_new0(vs_journal_op, 1);
	c->id = o->id;
	c->op = g_strdup(o->op);
	c->pool = g_strdup(o->pool);
	c->name = g_strdup(o->name);
	c->uri = g_strdup(o->uri);
	c->vol_pool = g_strdup(o->vol_pool);
	c->vols = g_strdupv(o->vols);
	c->address = g_strdup(o->address);
	c->step = g_strdup(o->step ? o->step : "begin");
	return c;
}

static const char *member_str(JsonObject *o, const char *key)
{
	JsonNode *n = json_object_get_member(o, key);
	return n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING
	           ? json_node_get_string(n)
	           : NULL;
}

/* Replays one record into the open set; torn or foreign lines are skipped. */
static void journal_replay_line(vs_journal *j, const char *line)
{
	g_autoptr(JsonParser) p = json_parser_new();
	if (!*line || !json_parser_load_from_data(p, line, -1, NULL))
		return;
	JsonNode *root = json_parser_get_root(p);
	if (!root || !JSON_NODE_HOLDS_OBJECT(root))
		return;
	JsonObject *o = json_node_get_object(root);
	JsonNode *idn = json_object_get_member(o, "id");
	if (!idn || !JSON_NODE_HOLDS_VALUE(idn) || json_node_get_value_type(idn) != G_TYPE_INT64 ||
	    json_node_get_int(idn) < 1 || (uint64_t)json_node_get_int(idn) > JOURNAL_MAX_ID)
		return;
	uint64_t id = (uint64_t)json_node_get_int(idn);
	j->next_id = MAX(j->next_id, id + 1);
	if (member_str(o, "op")) {
		vs_journal_op *op = g_new0(vs_journal_op, 1);
		op->id = id;
		op->op = g_strdup(member_str(o, "op"));
		op->pool = g_strdup(member_str(o, "pool"));
		op->name = g_strdup(member_str(o, "name"));
		op->uri = g_strdup(member_str(o, "uri"));
		op->vol_pool = g_strdup(member_str(o, "vol_pool"));
		op->address = g_strdup(member_str(o, "address"));
		op->step = g_strdup("begin");
		GPtrArray *vols = g_ptr_array_new();
		JsonNode *vn = json_object_get_member(o, "vols");
		if (vn && JSON_NODE_HOLDS_ARRAY(vn)) {
			JsonArray *a = json_node_get_array(vn);
			for (guint i = 0; i < json_array_get_length(a); i++) {
				JsonNode *e = json_array_get_element(a, i);
				if (JSON_NODE_HOLDS_VALUE(e) &&
				    json_node_get_value_type(e) == G_TYPE_STRING)
					g_ptr_array_add(vols, g_strdup(json_node_get_string(e)));
			}
		}
		g_ptr_array_add(vols, NULL);
		op->vols = (char **)g_ptr_array_free(vols, FALSE);
		if (!op->pool || !op->name) {
			vs_journal_op_free(op);
			return;
		}
		g_hash_table_replace(j->open, GUINT_TO_POINTER(id), op);
	} else if (member_str(o, "step")) {
		vs_journal_op *op = g_hash_table_lookup(j->open, GUINT_TO_POINTER(id));
		if (op) {
			g_free(op->step);
			op->step = g_strdup(member_str(o, "step"));
		}
	} else if (member_str(o, "end")) {
		g_hash_table_remove(j->open, GUINT_TO_POINTER(id));
	}
}

/**
 * vs_journal_open: opens (creates) STATE_DIR/journal and replays it: the
 * operations left open by a previous run are what reconcile must finish.
 */
vs_journal *vs_journal_open(const char *state_dir, GError **error)
{
	if (g_mkdir_with_parents(state_dir, 0750) != 0) {
		g_set_error(error, VS_ACT_ERROR, VS_ACT_ERROR_IO, "%s: %s", state_dir,
		            g_strerror(errno));
		return NULL;
	}
	vs_journal *j = g_new0(vs_journal, 1);
	g_mutex_init(&j->lock);
	j->path = g_build_filename(state_dir, JOURNAL_FILE, NULL);
	j->next_id = 1;
	j->open = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL,
	                                (GDestroyNotify)vs_journal_op_free);
	g_autofree char *text = NULL;
	if (g_file_get_contents(j->path, &text, NULL, NULL)) {
		g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
		for (char **l = lines; *l; l++)
			journal_replay_line(j, *l);
	}
	j->fd = open(j->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (j->fd < 0) {
		g_set_error(error, VS_ACT_ERROR, VS_ACT_ERROR_IO, "%s: %s", j->path,
		            g_strerror(errno));
		vs_journal_close(j);
		return NULL;
	}
	return j;
}

/** vs_journal_close: closes the file (open operations stay recorded). */
void vs_journal_close(vs_journal *j)
{
	if (!j)
		return;
	if (j->fd >= 0)
		close(j->fd);
	g_hash_table_destroy(j->open);
	g_mutex_clear(&j->lock);
	g_free(j->path);
	g_free(j);
}

/* Appends one line and makes it durable; called with the lock held. */
static bool journal_append(vs_journal *j, JsonBuilder *b, GError **error)
{
	g_autoptr(JsonGenerator) gen = json_generator_new();
	JsonNode *root = json_builder_get_root(b);
	json_generator_set_root(gen, root);
	g_autofree char *text = json_generator_to_data(gen, NULL);
	json_node_unref(root);
	g_autofree char *line = g_strconcat(text, "\n", NULL);
	size_t len = strlen(line), off = 0;
	while (off < len) {
		ssize_t w = write(j->fd, line + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			g_set_error(error, VS_ACT_ERROR, VS_ACT_ERROR_IO, "journal %s: %s", j->path,
			            g_strerror(errno));
			return false;
		}
		off += (size_t)w;
	}
	if (fdatasync(j->fd) != 0) {
		g_set_error(error, VS_ACT_ERROR, VS_ACT_ERROR_IO, "journal %s: fdatasync: %s",
		            j->path, g_strerror(errno));
		return false;
	}
	return true;
}

/**
 * vs_journal_begin: records a new operation before its first step; returns
 * its id, 0 on failure (then the caller must not act).
 */
uint64_t vs_journal_begin(vs_journal *j, const vs_journal_op *op, GError **error)
{
	g_mutex_lock(&j->lock);
	if (j->next_id > JOURNAL_MAX_ID) {
		g_set_error(error, VS_ACT_ERROR, VS_ACT_ERROR_IO,
		            "journal %s: no operation id left until the open ones end", j->path);
		g_mutex_unlock(&j->lock);
		return 0;
	}
	uint64_t id = j->next_id++;
	g_autoptr(JsonBuilder) b = json_builder_new();
	json_builder_begin_object(b);
	json_builder_set_member_name(b, "id");
	json_builder_add_int_value(b, (gint64)id);
	const char *keys[] = {"op", "pool", "name", "uri", "vol_pool", "address"};
	const char *vals[] = {op->op, op->pool, op->name, op->uri, op->vol_pool, op->address};
	for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) {
		if (!vals[i])
			continue;
		json_builder_set_member_name(b, keys[i]);
		json_builder_add_string_value(b, vals[i]);
	}
	json_builder_set_member_name(b, "vols");
	json_builder_begin_array(b);
	for (char **v = op->vols; v && *v; v++)
		json_builder_add_string_value(b, *v);
	json_builder_end_array(b);
	json_builder_end_object(b);
	bool ok = journal_append(j, b, error);
	if (ok) {
		vs_journal_op *c = op_copy(op);
		c->id = id;
		g_hash_table_replace(j->open, GUINT_TO_POINTER(id), c);
	}
	g_mutex_unlock(&j->lock);
	return ok ? id : 0;
}

/** vs_journal_step: records that operation @id reached @step. */
bool vs_journal_step(vs_journal *j, uint64_t id, const char *step, GError **error)
{
	g_mutex_lock(&j->lock);
	g_autoptr(JsonBuilder) b = json_builder_new();
	json_builder_begin_object(b);
	json_builder_set_member_name(b, "id");
	json_builder_add_int_value(b, (gint64)id);
	json_builder_set_member_name(b, "step");
	json_builder_add_string_value(b, step);
	json_builder_end_object(b);
	bool ok = journal_append(j, b, error);
	vs_journal_op *op = g_hash_table_lookup(j->open, GUINT_TO_POINTER(id));
	if (ok && op) {
		g_free(op->step);
		op->step = g_strdup(step);
	}
	g_mutex_unlock(&j->lock);
	return ok;
}

/**
 * vs_journal_end: closes operation @id; when nothing is left open the file
 * is truncated, so it never grows without bound.
 */
bool vs_journal_end(vs_journal *j, uint64_t id, const char *result, GError **error)
{
	g_mutex_lock(&j->lock);
	g_autoptr(JsonBuilder) b = json_builder_new();
	json_builder_begin_object(b);
	json_builder_set_member_name(b, "id");
	json_builder_add_int_value(b, (gint64)id);
	json_builder_set_member_name(b, "end");
	json_builder_add_string_value(b, result);
	json_builder_end_object(b);
	bool ok = journal_append(j, b, error);
	if (ok) {
		g_hash_table_remove(j->open, GUINT_TO_POINTER(id));
		if (g_hash_table_size(j->open) == 0 && ftruncate(j->fd, 0) == 0)
			(void)fdatasync(j->fd);
	}
	g_mutex_unlock(&j->lock);
	return ok;
}

/** vs_journal_pending: copies of the open operations of @pool (NULL: all). */
GPtrArray *vs_journal_pending(vs_journal *j, const char *pool)
{
	GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)vs_journal_op_free);
	g_mutex_lock(&j->lock);
	GHashTableIter it;
	gpointer v;
	g_hash_table_iter_init(&it, j->open);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		vs_journal_op *op = v;
		if (!pool || g_strcmp0(op->pool, pool) == 0)
			g_ptr_array_add(out, op_copy(op));
	}
	g_mutex_unlock(&j->lock);
	return out;
}
