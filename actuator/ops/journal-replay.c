/*
 * journal-replay.c - the journal read back (see journal-replay.h). Every
 * line is judged on its own, so one bad line never hides the records
 * after it; the tail after the last complete record is reported, never
 * replayed: a record is acted on only when its '\n' made it to the disk,
 * which is when its writer was told it was durable.
 */
#include "config.h"

#include "journal-replay.h"
#include "vs-validate.h"

#include <json-glib/json-glib.h>
#include <string.h>

#define RECORD_MAX (64 * 1024) /* a record is a few hundred bytes */

/** vs_journal_replay_table: an empty id -> vs_journal_op* table. */
GHashTable *vs_journal_replay_table(void)
{
	return g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free,
	                             (GDestroyNotify)vs_journal_op_free);
}

static const char *member_str(JsonObject *o, const char *key)
{
	JsonNode *n = json_object_get_member(o, key);
	return n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING
	           ? json_node_get_string(n)
	           : NULL;
}

/* An integer "id" from 1 to VS_JOURNAL_MAX_ID, 0 when there is none (a
 * foreign record: an id out of range could be reused by a new operation). */
static uint64_t member_id(JsonObject *o)
{
	JsonNode *n = json_object_get_member(o, "id");
	if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64)
		return 0;
	gint64 v = json_node_get_int(n);
	return v > 0 && (uint64_t)v <= VS_JOURNAL_MAX_ID ? (uint64_t)v : 0;
}

/* The begin record of an operation; NULL when it lacks what reconcile
 * needs (a pool and a domain name it may act on). */
static vs_journal_op *op_from_record(JsonObject *o, uint64_t id)
{
	const char *pool = member_str(o, "pool"), *name = member_str(o, "name");
	if (!pool || !vs_valid_text(pool, strlen(pool)) || !*pool || !name ||
	    !vs_valid_domain_name(name))
		return NULL;
	vs_journal_op *op = g_new0(vs_journal_op, 1);
	op->id = id;
	op->op = g_strdup(member_str(o, "op"));
	op->pool = g_strdup(pool);
	op->name = g_strdup(name);
	op->uri = g_strdup(member_str(o, "uri"));
	op->vol_pool = g_strdup(member_str(o, "vol_pool"));
	op->address = g_strdup(member_str(o, "address"));
	op->dest_uri = g_strdup(member_str(o, "dest_uri"));
	op->dest_address = g_strdup(member_str(o, "dest_address"));
	op->step = g_strdup("begin");
	GPtrArray *vols = g_ptr_array_new();
	JsonNode *vn = json_object_get_member(o, "vols");
	if (vn && JSON_NODE_HOLDS_ARRAY(vn)) {
		JsonArray *a = json_node_get_array(vn);
		for (guint i = 0; i < json_array_get_length(a); i++) {
			JsonNode *e = json_array_get_element(a, i);
			if (JSON_NODE_HOLDS_VALUE(e) &&
			    json_node_get_value_type(e) == G_TYPE_STRING &&
			    vs_valid_domain_name(json_node_get_string(e)))
				g_ptr_array_add(vols, g_strdup(json_node_get_string(e)));
		}
	}
	g_ptr_array_add(vols, NULL);
	op->vols = (char **)g_ptr_array_free(vols, FALSE);
	return op;
}

/* One complete line: true when it is a record (replayed into @r). */
static bool replay_line(vs_journal_replay *r, const char *line, size_t len)
{
	if (len == 0 || len > RECORD_MAX || memchr(line, '\0', len) ||
	    !g_utf8_validate(line, (gssize)len, NULL))
		return false;
	g_autoptr(JsonParser) p = json_parser_new_immutable();
	if (!json_parser_load_from_data(p, line, (gssize)len, NULL))
		return false;
	JsonNode *root = json_parser_get_root(p);
	if (!root || !JSON_NODE_HOLDS_OBJECT(root))
		return false;
	JsonObject *o = json_node_get_object(root);
	uint64_t id = member_id(o);
	if (!id)
		return false;
	if (member_str(o, "op")) {
		vs_journal_op *op = op_from_record(o, id);
		if (!op)
			return false;
		g_hash_table_replace(r->open, g_memdup2(&op->id, sizeof(op->id)), op);
	} else if (member_str(o, "step")) {
		vs_journal_op *op = g_hash_table_lookup(r->open, &id);
		if (op) {
			g_free(op->step);
			op->step = g_strdup(member_str(o, "step"));
		}
	} else if (member_str(o, "end")) {
		g_hash_table_remove(r->open, &id);
	} else {
		return false;
	}
	r->next_id = MAX(r->next_id, id + 1);
	return true;
}

/** vs_journal_replay_data: see journal-replay.h. */
void vs_journal_replay_data(vs_journal_replay *r, const char *data, size_t len)
{
	size_t off = 0;
	unsigned bad_since_good = 0;

	r->next_id = MAX(r->next_id, 1);
	r->good_len = 0;
	while (off < len) {
		const char *nl = memchr(data + off, '\n', len - off);
		if (!nl)
			break; /* no '\n': cut short, never acknowledged */
		size_t line_len = (size_t)(nl - (data + off));
		if (replay_line(r, data + off, line_len)) {
			r->records++;
			r->skipped += bad_since_good;
			bad_since_good = 0;
			r->good_len = off + line_len + 1;
		} else if (line_len > 0) {
			bad_since_good++;
		}
		off += line_len + 1;
	}
}
