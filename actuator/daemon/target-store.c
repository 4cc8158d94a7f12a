/*
 * target-store.c - STATE_DIR/targets.json (see target-store.h). The loop
 * keeps the table; every change posts a copy of it as text to the writer
 * thread, which writes the newest one (fsync'd, renamed over the old file),
 * and tries again every few seconds while that fails.
 */
#include "config.h"

#include "act-error.h"
#include "target-store.h"
#include "vs-file.h"
#include "vs-log.h"
#include "vs-validate.h"

#include <json-glib/json-glib.h>
#include <string.h>

#define TARGETS_MAX_FILE (1024 * 1024)
#define WRITE_RETRY_US   (2 * G_USEC_PER_SEC)

struct vs_target_store {
	int refs;
	char *path;
	GHashTable *targets; /* pool -> GINT_TO_POINTER(target + 1); loop only */
	GMutex lock;
	GCond cond;
	char *pending; /* text not yet written */
	bool stop;
	GThread *thread;
};

static vs_target_store *the_store; /* one per process: one state_dir */

/** vs_targets_from_json: parses and validates a targets document. */
GHashTable *vs_targets_from_json(const char *json, size_t len, GError **error)
{
	g_autoptr(JsonParser) p = json_parser_new_immutable();
	g_autoptr(GHashTable) out = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	JsonNode *root, *v, *t;

	if (!json || memchr(json, '\0', len) || !g_utf8_validate(json, (gssize)len, NULL) ||
	    !json_parser_load_from_data(p, json, (gssize)len, NULL) ||
	    !(root = json_parser_get_root(p)) || !JSON_NODE_HOLDS_OBJECT(root)) {
		g_set_error(error, VS_ACT_ERROR, VS_ACT_ERROR_INVALID, "not a JSON object");
		return NULL;
	}
	v = json_object_get_member(json_node_get_object(root), "v");
	t = json_object_get_member(json_node_get_object(root), "targets");
	if (!v || !JSON_NODE_HOLDS_VALUE(v) || json_node_get_value_type(v) != G_TYPE_INT64 ||
	    json_node_get_int(v) != 1 || !t || !JSON_NODE_HOLDS_OBJECT(t)) {
		g_set_error(error, VS_ACT_ERROR, VS_ACT_ERROR_INVALID,
		            "not a version 1 targets document");
		return NULL;
	}
	JsonObjectIter it;
	const char *pool;
	JsonNode *n;
	json_object_iter_init(&it, json_node_get_object(t));
	while (json_object_iter_next(&it, &pool, &n)) {
		gint64 target;

		if (!vs_valid_pool_name(pool) || !JSON_NODE_HOLDS_VALUE(n) ||
		    json_node_get_value_type(n) != G_TYPE_INT64 ||
		    (target = json_node_get_int(n)) < 0 || target > VS_TARGET_MAX) {
			g_set_error(error, VS_ACT_ERROR, VS_ACT_ERROR_INVALID,
			            "targets: an entry is not a pool name and a count 0..%d",
			            VS_TARGET_MAX);
			return NULL;
		}
		g_hash_table_replace(out, g_strdup(pool), GINT_TO_POINTER((int)target + 1));
	}
	return g_steal_pointer(&out);
}

/** vs_targets_to_json: the document of @targets, pools in name order. */
char *vs_targets_to_json(GHashTable *targets)
{
	g_autoptr(JsonBuilder) b = json_builder_new();
	g_autoptr(JsonGenerator) gen = json_generator_new();
	g_autoptr(GList) pools = g_list_sort(g_hash_table_get_keys(targets), (GCompareFunc)strcmp);
	g_autoptr(JsonNode) root = NULL;

	json_builder_begin_object(b);
	json_builder_set_member_name(b, "v");
	json_builder_add_int_value(b, 1);
	json_builder_set_member_name(b, "targets");
	json_builder_begin_object(b);
	for (GList *l = pools; l; l = l->next) {
		json_builder_set_member_name(b, l->data);
		json_builder_add_int_value(
		    b, GPOINTER_TO_INT(g_hash_table_lookup(targets, l->data)) - 1);
	}
	json_builder_end_object(b);
	json_builder_end_object(b);
	root = json_builder_get_root(b);
	json_generator_set_root(gen, root);
	g_autofree char *text = json_generator_to_data(gen, NULL);
	return g_strconcat(text, "\n", NULL);
}

/* Writes @text; logs the first failure of a streak and the end of one. */
static bool write_targets(vs_target_store *s, const char *text, bool *failing)
{
	g_autoptr(GError) err = NULL;
	bool ok = vs_file_replace(s->path, text, strlen(text), 0640, &err);

	if (!ok && !*failing)
		vs_warning("manual targets: %s; retried every %d s", err->message,
		           (int)(WRITE_RETRY_US / G_USEC_PER_SEC));
	else if (ok && *failing)
		vs_notice("manual targets: %s written again", s->path);
	*failing = !ok;
	return ok;
}

/* The writer thread: the newest text, retried until it is on the disk (a
 * full state_dir must not leave an acknowledged target unrecorded once
 * space returns); given up only when the store stops. */
static gpointer writer_main(gpointer data)
{
	vs_target_store *s = data;
	bool failing = false;

	g_mutex_lock(&s->lock);
	for (;;) {
		while (!s->pending && !s->stop)
			g_cond_wait(&s->cond, &s->lock);
		g_autofree char *text = g_steal_pointer(&s->pending);
		bool stop = s->stop;
		g_mutex_unlock(&s->lock);
		bool ok = !text || write_targets(s, text, &failing);
		g_mutex_lock(&s->lock);
		if (!ok && !stop) {
			int64_t until = g_get_monotonic_time() + WRITE_RETRY_US;

			if (!s->pending) /* a newer text replaces this one */
				s->pending = g_steal_pointer(&text);
			while (!s->stop && g_cond_wait_until(&s->cond, &s->lock, until))
				;
			continue;
		}
		if (stop && !s->pending)
			break;
	}
	g_mutex_unlock(&s->lock);
	return NULL;
}

static GHashTable *load(const char *path)
{
	g_autofree char *text = NULL;
	g_autoptr(GError) err = NULL;
	gsize len = 0;
	GHashTable *t;

	if (!g_file_get_contents(path, &text, &len, &err)) {
		if (!g_error_matches(err, G_FILE_ERROR, G_FILE_ERROR_NOENT))
			vs_warning("manual targets: %s", err->message);
		return NULL;
	}
	if (len > TARGETS_MAX_FILE) {
		vs_warning("manual targets: %s: too large, ignored", path);
		return NULL;
	}
	t = vs_targets_from_json(text, len, &err);
	if (!t)
		vs_warning("manual targets: %s: %s; ignored", path, err->message);
	return t;
}

/** vs_target_store_open: see target-store.h. */
vs_target_store *vs_target_store_open(const char *state_dir)
{
	vs_target_store *s = the_store;

	if (s) {
		s->refs++;
		return s;
	}
	s = g_new0(vs_target_store, 1);
	s->refs = 1;
	s->path = g_build_filename(state_dir, VS_TARGETS_FILE, NULL);
	s->targets = load(s->path);
	if (!s->targets)
		s->targets = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_mutex_init(&s->lock);
	g_cond_init(&s->cond);
	s->thread = g_thread_new("vs-targets", writer_main, s);
	the_store = s;
	return s;
}

/** vs_target_store_unref: the last reference writes what is pending and stops. */
void vs_target_store_unref(vs_target_store *s)
{
	if (!s || --s->refs > 0)
		return;
	g_mutex_lock(&s->lock);
	s->stop = true;
	g_cond_signal(&s->cond);
	g_mutex_unlock(&s->lock);
	g_thread_join(s->thread);
	g_mutex_clear(&s->lock);
	g_cond_clear(&s->cond);
	g_hash_table_destroy(s->targets);
	g_free(s->pending);
	g_free(s->path);
	if (the_store == s)
		the_store = NULL;
	g_free(s);
}

/** vs_target_store_get: see target-store.h. */
int vs_target_store_get(vs_target_store *s, const char *pool)
{
	return GPOINTER_TO_INT(g_hash_table_lookup(s->targets, pool)) - 1;
}

/** vs_target_store_set: see target-store.h. */
void vs_target_store_set(vs_target_store *s, const char *pool, int target)
{
	if (vs_target_store_get(s, pool) == target)
		return;
	if (target < 0)
		g_hash_table_remove(s->targets, pool);
	else
		g_hash_table_replace(s->targets, g_strdup(pool), GINT_TO_POINTER(target + 1));
	char *text = vs_targets_to_json(s->targets);
	g_mutex_lock(&s->lock);
	g_free(s->pending);
	s->pending = text;
	g_cond_signal(&s->cond);
	g_mutex_unlock(&s->lock);
}
