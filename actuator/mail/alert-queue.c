/*
 * alert-queue.c - queued alerts and their journal. Each entry is one small
 * key file in the journal directory (state_dir/mail-queue), written to a
 * temporary name, fsynced and renamed, so a crash leaves either the old or
 * the new version, never half of one (vs_file_replace). An entry is removed only once the
 * server has accepted the message (or refused it for good), so a restart
 * resumes exactly the alerts not yet delivered.
 */
#include "alert-internal.h"
#include "vs-file.h"
#include "vs-log.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#define JOURNAL_GROUP  "alert"
#define JOURNAL_SUFFIX ".alert"

/** vs_alert_copy: deep copy of @src into @dst (which must be empty). */
void vs_alert_copy(vs_alert *dst, const vs_alert *src)
{
	dst->kind = src->kind;
	dst->pool = g_strdup(src->pool);
	dst->step = g_strdup(src->step);
	dst->error = g_strdup(src->error);
	dst->summary = g_strdup(src->summary);
	dst->details = g_strdup(src->details);
	dst->time = src->time;
}

/** vs_alert_clear: frees the strings of @a and empties it. */
void vs_alert_clear(vs_alert *a)
{
	g_free(a->pool);
	g_free(a->step);
	g_free(a->error);
	g_free(a->summary);
	g_free(a->details);
	memset(a, 0, sizeof(*a));
}

/**
 * vs_alert_entry_new:
 * @alert: the event (copied)
 * @rcpt: the recipients (copied)
 * @host: local host name for the Message-ID
 *
 * Returns a new entry with a unique id and Message-ID, count 1.
 */
vs_alert_entry *vs_alert_entry_new(const vs_alert *alert, const char *const *rcpt, const char *host)
{
	vs_alert_entry *e = g_new0(vs_alert_entry, 1);

	vs_alert_copy(&e->alert, alert);
	if (e->alert.time <= 0)
		e->alert.time = g_get_real_time() / 1e6;
	e->id = g_strdup_printf("%016" G_GINT64_FORMAT "-%08x", g_get_real_time(), g_random_int());
	e->count = 1;
	e->first_time = e->alert.time;
	e->message_id = vs_mail_new_message_id(host);
	e->rcpt = g_strdupv((char **)rcpt);
	return e;
}

/** vs_alert_entry_free: frees @e (NULL is fine). */
void vs_alert_entry_free(vs_alert_entry *e)
{
	if (!e)
		return;
	vs_alert_clear(&e->alert);
	g_free(e->id);
	g_free(e->message_id);
	g_strfreev(e->rcpt);
	g_free(e);
}

static void set_opt(GKeyFile *kf, const char *key, const char *value)
{
	if (value)
		g_key_file_set_string(kf, JOURNAL_GROUP, key, value);
}

/**
 * vs_alert_journal_data:
 * @e: the entry
 * @len: (out): bytes returned
 *
 * Returns the journal file's content for @e (a key file), to be written
 * with vs_alert_journal_write_data(). Only memory: the alerter builds it
 * under its lock and writes it without.
 */
char *vs_alert_journal_data(const vs_alert_entry *e, gsize *len)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();

	g_key_file_set_string(kf, JOURNAL_GROUP, "kind", vs_alert_kind_name(e->alert.kind));
	set_opt(kf, "pool", e->alert.pool);
	set_opt(kf, "step", e->alert.step);
	set_opt(kf, "error", e->alert.error);
	set_opt(kf, "summary", e->alert.summary);
	set_opt(kf, "details", e->alert.details);
	g_key_file_set_double(kf, JOURNAL_GROUP, "time", e->alert.time);
	g_key_file_set_double(kf, JOURNAL_GROUP, "first_time", e->first_time);
	g_key_file_set_double(kf, JOURNAL_GROUP, "not_before", e->not_before);
	g_key_file_set_integer(kf, JOURNAL_GROUP, "count", (int)e->count);
	g_key_file_set_integer(kf, JOURNAL_GROUP, "attempts", (int)e->attempts);
	g_key_file_set_string(kf, JOURNAL_GROUP, "message_id", e->message_id);
	if (e->rcpt)
		g_key_file_set_string_list(kf, JOURNAL_GROUP, "rcpt", (const char *const *)e->rcpt,
		                           g_strv_length(e->rcpt));
	return g_key_file_to_data(kf, len, NULL);
}

/**
 * vs_alert_journal_write_data:
 * @dir: the journal directory (created if missing)
 * @id: the entry's id
 * @data: what vs_alert_journal_data() made
 * @len: its length
 * @error: set on failure
 *
 * Writes or replaces the journal file of entry @id atomically and durably
 * (vs_file_replace: a temporary file of a new, unpredictable name created
 * exclusively, so nothing planted in the directory is followed).
 */
bool vs_alert_journal_write_data(const char *dir, const char *id, const char *data, gsize len,
                                 GError **error)
{
	g_autofree char *name = g_strconcat(id, JOURNAL_SUFFIX, NULL);
	g_autofree char *path = g_build_filename(dir, name, NULL);

	if (g_mkdir_with_parents(dir, 0700) < 0) {
		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno), "%s: %s", dir,
		            g_strerror(errno));
		return false;
	}
	return vs_file_replace(path, data, len, 0600, error);
}

/**
 * vs_alert_journal_write:
 * @dir: the journal directory (created if missing)
 * @e: the entry
 * @error: set on failure
 *
 * Writes or replaces the journal file of @e atomically and durably.
 */
bool vs_alert_journal_write(const char *dir, const vs_alert_entry *e, GError **error)
{
	gsize len = 0;
	g_autofree char *data = vs_alert_journal_data(e, &len);

	return vs_alert_journal_write_data(dir, e->id, data, len, error);
}

/**
 * vs_alert_journal_remove:
 * @dir: the journal directory
 * @id: the id of a delivered (or abandoned) entry
 *
 * Removes its journal file; logs when that fails (the alert would be sent
 * again after a restart).
 */
void vs_alert_journal_remove(const char *dir, const char *id)
{
	g_autofree char *name = g_strconcat(id, JOURNAL_SUFFIX, NULL);
	g_autofree char *path = g_build_filename(dir, name, NULL);

	if (unlink(path) < 0 && errno != ENOENT)
		vs_error("alert: cannot remove %s: %s", path, g_strerror(errno));
}

static vs_alert_entry *entry_from_file(const char *path, const char *id, GError **error)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autofree char *kind = NULL;
	vs_alert_entry *e;
	vs_alert_kind k;

	if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, error))
		return NULL;
	kind = g_key_file_get_string(kf, JOURNAL_GROUP, "kind", error);
	if (!kind)
		return NULL;
	if (!vs_alert_kind_from_name(kind, &k) || k == VS_ALERT_NONE || k == VS_ALERT_UNKNOWN) {
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "unknown kind '%s'", kind);
		return NULL;
	}
	e = g_new0(vs_alert_entry, 1);
	e->id = g_strdup(id);
	e->alert.kind = k;
	e->alert.pool = g_key_file_get_string(kf, JOURNAL_GROUP, "pool", NULL);
	e->alert.step = g_key_file_get_string(kf, JOURNAL_GROUP, "step", NULL);
	e->alert.error = g_key_file_get_string(kf, JOURNAL_GROUP, "error", NULL);
	e->alert.summary = g_key_file_get_string(kf, JOURNAL_GROUP, "summary", NULL);
	e->alert.details = g_key_file_get_string(kf, JOURNAL_GROUP, "details", NULL);
	e->alert.time = g_key_file_get_double(kf, JOURNAL_GROUP, "time", NULL);
	e->first_time = g_key_file_get_double(kf, JOURNAL_GROUP, "first_time", NULL);
	e->not_before = g_key_file_get_double(kf, JOURNAL_GROUP, "not_before", NULL);
	e->count = (unsigned)MAX(1, g_key_file_get_integer(kf, JOURNAL_GROUP, "count", NULL));
	e->attempts = (unsigned)MAX(0, g_key_file_get_integer(kf, JOURNAL_GROUP, "attempts", NULL));
	e->message_id = g_key_file_get_string(kf, JOURNAL_GROUP, "message_id", NULL);
	e->rcpt = g_key_file_get_string_list(kf, JOURNAL_GROUP, "rcpt", NULL, NULL);
	if (!e->message_id || !e->rcpt || !e->rcpt[0]) {
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "missing message_id or rcpt");
		vs_alert_entry_free(e);
		return NULL;
	}
	return e;
}

static gint compare_entry_id(gconstpointer a, gconstpointer b)
{
	const vs_alert_entry *x = *(vs_alert_entry *const *)a;
	const vs_alert_entry *y = *(vs_alert_entry *const *)b;
	return strcmp(x->id, y->id);
}

/**
 * vs_alert_journal_load:
 * @dir: the journal directory (missing = empty)
 * @out: (element-type vs_alert_entry): entries are appended, oldest first
 * @error: set when the directory cannot be read
 *
 * Loads the queued alerts a previous run left. A file that cannot be parsed
 * is logged and renamed to *.bad (kept for the administrator, never sent).
 */
bool vs_alert_journal_load(const char *dir, GPtrArray *out, GError **error)
{
	g_autoptr(GDir) d = NULL;
	g_autoptr(GError) err = NULL;
	guint first = out->len;
	const char *name;

	d = g_dir_open(dir, 0, &err);
	if (!d) {
		if (g_error_matches(err, G_FILE_ERROR, G_FILE_ERROR_NOENT))
			return true;
		g_propagate_error(error, g_steal_pointer(&err));
		return false;
	}
	while ((name = g_dir_read_name(d))) {
		g_autofree char *path = g_build_filename(dir, name, NULL);
		g_autofree char *id = NULL;
		g_autoptr(GError) perr = NULL;
		vs_alert_entry *e;

		if (name[0] == '.' && strstr(name, ".tmp-")) {
			/* vs_file_replace() was interrupted: the rename never happened */
			(void)unlink(path);
			continue;
		}
		if (!g_str_has_suffix(name, JOURNAL_SUFFIX))
			continue;
		id = g_strndup(name, strlen(name) - strlen(JOURNAL_SUFFIX));
		e = entry_from_file(path, id, &perr);
		if (!e) {
			g_autofree char *bad = g_strconcat(path, ".bad", NULL);
			vs_error("alert: bad journal file %s (%s), kept as %s", path,
			         perr ? perr->message : "?", bad);
			(void)rename(path, bad);
			continue;
		}
		g_ptr_array_add(out, e);
	}
	/* ids start with the creation time: sort the new part oldest first */
	if (out->len > first) {
		GPtrArray *tmp = g_ptr_array_new();
		for (guint i = first; i < out->len; i++)
			g_ptr_array_add(tmp, out->pdata[i]);
		g_ptr_array_sort(tmp, compare_entry_id);
		for (guint i = 0; i < tmp->len; i++)
			out->pdata[first + i] = tmp->pdata[i];
		g_ptr_array_free(tmp, TRUE);
	}
	return true;
}
