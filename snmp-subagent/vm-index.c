/* vm-index.c - persistent UUID -> vmIndex map */
#include "config.h"

#include "vm-index.h"
#include "vs-file.h"
#include "vs-log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct vs_vm_index {
	char *path;
	GHashTable *by_uuid; /* uuid string -> GINT_TO_POINTER(index) */
	GHashTable *used;    /* GINT_TO_POINTER(index) -> how many UUIDs hold it */
	int next;            /* never reuse an index while the subagent knows it was used */
	bool dirty;
};

static bool valid_uuid(const char *s)
{
	return g_uuid_string_is_valid(s);
}

static void used_add(vs_vm_index *m, int idx)
{
	gpointer k = GINT_TO_POINTER(idx);

	g_hash_table_insert(
	    m->used, k, GUINT_TO_POINTER(GPOINTER_TO_UINT(g_hash_table_lookup(m->used, k)) + 1));
}

static void used_remove(vs_vm_index *m, int idx)
{
	gpointer k = GINT_TO_POINTER(idx);
	guint n = GPOINTER_TO_UINT(g_hash_table_lookup(m->used, k));

	if (n > 1)
		g_hash_table_insert(m->used, k, GUINT_TO_POINTER(n - 1));
	else
		g_hash_table_remove(m->used, k);
}

/* @uuid (lower case, taken) holds @idx from now on. */
static void assign(vs_vm_index *m, char *uuid, int idx)
{
	gpointer old;

	if (g_hash_table_lookup_extended(m->by_uuid, uuid, NULL, &old))
		used_remove(m, GPOINTER_TO_INT(old));
	g_hash_table_replace(m->by_uuid, uuid, GINT_TO_POINTER(idx));
	used_add(m, idx);
}

/**
 * vs_vm_index_load:
 * Reads "next N" and "INDEX UUID" lines from @path. Anything else is logged
 * and skipped: a damaged map costs renumbering of the damaged rows only.
 */
vs_vm_index *vs_vm_index_load(const char *path)
{
	vs_vm_index *m = g_new0(vs_vm_index, 1);
	m->path = g_strdup(path);
	m->by_uuid = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	m->used = g_hash_table_new(g_direct_hash, g_direct_equal);
	m->next = 1;

	g_autofree char *data = NULL;
	g_autoptr(GError) error = NULL;
	if (!path || !g_file_get_contents(path, &data, NULL, &error)) {
		if (error && !g_error_matches(error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
			vs_warning("vmIndex map %s: %s", path, error->message);
		return m;
	}
	g_auto(GStrv) lines = g_strsplit(data, "\n", -1);
	for (int i = 0; lines[i]; i++) {
		char *line = g_strstrip(lines[i]);
		char uuid[64];
		int idx;
		if (!*line || *line == '#')
			continue;
		if (sscanf(line, "next %d", &idx) == 1 && idx > 0) {
			m->next = MAX(m->next, idx);
			continue;
		}
		if (sscanf(line, "%d %63s", &idx, uuid) != 2 || idx <= 0 || !valid_uuid(uuid)) {
			vs_warning("vmIndex map %s:%d: malformed line skipped", path, i + 1);
			continue;
		}
		assign(m, g_ascii_strdown(uuid, -1), idx);
		m->next = MAX(m->next, idx + 1);
	}
	return m;
}

/** vs_vm_index_free: frees the map (without saving). */
void vs_vm_index_free(vs_vm_index *m)
{
	if (!m)
		return;
	g_hash_table_destroy(m->by_uuid);
	g_hash_table_destroy(m->used);
	g_free(m->path);
	g_free(m);
}

/** vs_vm_index_lookup: the index of @uuid_str, 0 when unknown. */
int vs_vm_index_lookup(const vs_vm_index *m, const char *uuid_str)
{
	g_autofree char *key = g_ascii_strdown(uuid_str, -1);
	return GPOINTER_TO_INT(g_hash_table_lookup(m->by_uuid, key));
}

static bool index_in_use(const vs_vm_index *m, int idx)
{
	return g_hash_table_contains(m->used, GINT_TO_POINTER(idx));
}

/** vs_vm_index_get: the index of @uuid_str, assigned now if it has none. */
int vs_vm_index_get(vs_vm_index *m, const char *uuid_str)
{
	int idx = vs_vm_index_lookup(m, uuid_str);
	if (idx > 0)
		return idx;
	/* Indices only collide after 2^31 assignments wrapped; the set of
	 * indexes in use makes the check one lookup, not a pass over the map. */
	for (;;) {
		if (m->next >= G_MAXINT32)
			m->next = 1;
		if (!index_in_use(m, m->next))
			break;
		m->next++;
	}
	idx = m->next++;
	assign(m, g_ascii_strdown(uuid_str, -1), idx);
	m->dirty = true;
	return idx;
}

/** vs_vm_index_forget: drops @uuid_str (its domain no longer exists). */
void vs_vm_index_forget(vs_vm_index *m, const char *uuid_str)
{
	g_autofree char *key = g_ascii_strdown(uuid_str, -1);
	gpointer v;
	if (g_hash_table_lookup_extended(m->by_uuid, key, NULL, &v)) {
		used_remove(m, GPOINTER_TO_INT(v));
		g_hash_table_remove(m->by_uuid, key);
		m->dirty = true;
	}
}

/** vs_vm_index_retain: drops every UUID for which @keep says no. */
void vs_vm_index_retain(vs_vm_index *m, bool (*keep)(const char *uuid_str, void *opaque),
                        void *opaque)
{
	GHashTableIter it;
	gpointer k, v;
	g_hash_table_iter_init(&it, m->by_uuid);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		if (!keep(k, opaque)) {
			used_remove(m, GPOINTER_TO_INT(v));
			g_hash_table_iter_remove(&it);
			m->dirty = true;
		}
	}
}

/**
 * vs_vm_index_prune:
 * @m: the map
 * @by_uuid: a table keyed by UUID strings (any case)
 *
 * A transient domain that is created and destroyed is never undefined, so
 * nothing else would ever remove what was remembered of it; its vmIndex is
 * forgotten once it is gone (see vm-mib.c), and this follows suit.
 */
guint vs_vm_index_prune(const vs_vm_index *m, GHashTable *by_uuid)
{
	GHashTableIter it;
	gpointer k;
	guint dropped = 0;

	g_hash_table_iter_init(&it, by_uuid);
	while (g_hash_table_iter_next(&it, &k, NULL)) {
		if (vs_vm_index_lookup(m, k) == 0) {
			g_hash_table_iter_remove(&it);
			dropped++;
		}
	}
	return dropped;
}

static gint by_index(gconstpointer a, gconstpointer b, gpointer user)
{
	GHashTable *h = user;
	return GPOINTER_TO_INT(g_hash_table_lookup(h, a)) -
	       GPOINTER_TO_INT(g_hash_table_lookup(h, b));
}

/**
 * vs_vm_index_save:
 * Replaces the map atomically (vs_file_replace), so a crash leaves either
 * the old or the new map, never half of one.
 */
bool vs_vm_index_save(vs_vm_index *m)
{
	if (!m->dirty || !m->path)
		return true;
	GString *out = g_string_new("# virtscale-snmp vmIndex map: INDEX UUID\n");
	g_string_append_printf(out, "next %d\n", m->next);
	GList *keys =
	    g_list_sort_with_data(g_hash_table_get_keys(m->by_uuid), by_index, m->by_uuid);
	for (GList *l = keys; l; l = l->next)
		g_string_append_printf(out, "%d %s\n",
		                       GPOINTER_TO_INT(g_hash_table_lookup(m->by_uuid, l->data)),
		                       (char *)l->data);
	g_list_free(keys);

	g_autofree char *dir = g_path_get_dirname(m->path);
	g_autoptr(GError) error = NULL;
	bool ok = false;
	if (g_mkdir_with_parents(dir, 0755) < 0) {
		vs_warning("vmIndex map: cannot create %s: %s", dir, g_strerror(errno));
		goto out;
	}
	if (!vs_file_replace(m->path, out->str, out->len, 0644, &error)) {
		vs_warning("vmIndex map: %s", error->message);
		goto out;
	}
	m->dirty = false;
	ok = true;
out:
	g_string_free(out, TRUE);
	return ok;
}
