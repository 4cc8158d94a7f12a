/*
 * vs-usage-store.c - one program's usage counters: accounted from the
 * collector's snapshots, persisted under state_dir (rules in
 * vs-usage-store.h).
 */
#include "config.h"

#include "vs-usage-store.h"

#include "vs-error.h"
#include "vs-file.h"
#include "vs-log.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

struct vs_usage_store {
	const vs_config *cfg;
	char *path, *prev_path;
	GMutex lock; /* the counters */
	vs_usage *usage;
	GMutex save_lock; /* one writer at a time; the text last written */
	char *last_saved; /* becomes FILE.prev at the next save */
	GMutex stop_lock;
	GCond stop_cond;
	bool stopping;
	unsigned interval_s;
	GThread *thread;
};

char *vs_usage_store_path(const vs_config *cfg, const char *program)
{
	g_autofree char *base = g_strdup_printf("usage-%s.state", program);

	return g_build_filename(cfg->state_dir, base, NULL);
}

static vs_usage *load_one(const char *path, GError **error)
{
	g_autofree char *text = NULL;
	gsize len;
	g_autoptr(GError) err = NULL;

	if (!g_file_get_contents(path, &text, &len, error))
		return NULL;
	vs_usage *u = vs_usage_parse(text, len, &err);

	if (!u)
		g_set_error(error, VS_USAGE_ERROR, err->code, "%s: %s", path, err->message);
	return u;
}

vs_usage *vs_usage_load_file(const char *path, bool *used_prev, GError **error)
{
	g_autofree char *prev = g_strconcat(path, ".prev", NULL);
	g_autoptr(GError) first = NULL;
	vs_usage *u = load_one(path, &first);

	*used_prev = false;
	if (u)
		return u;
	u = load_one(prev, NULL);
	if (u) {
		*used_prev = true;
		return u;
	}
	g_propagate_error(error, g_steal_pointer(&first));
	return NULL;
}

/**
 * vs_usage_store_open:
 * @cfg: the configuration (pools), kept
 * @path: the state file
 *
 * Reads @path; a torn or corrupt one is moved to @path.corrupt and the
 * last good copy (@path.prev) used and written back. Without either the
 * counters start from zero now (the discontinuity time).
 */
vs_usage_store *vs_usage_store_open(const vs_config *cfg, const char *path)
{
	vs_usage_store *st = g_new0(vs_usage_store, 1);
	g_autoptr(GError) error = NULL;
	bool used_prev = false;

	st->cfg = cfg;
	st->path = g_strdup(path);
	st->prev_path = g_strconcat(path, ".prev", NULL);
	g_mutex_init(&st->lock);
	g_mutex_init(&st->save_lock);
	g_mutex_init(&st->stop_lock);
	g_cond_init(&st->stop_cond);
	st->usage = vs_usage_load_file(path, &used_prev, &error);
	if (!st->usage) {
		if (g_error_matches(error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
			vs_notice("usage: %s does not exist; counters start from zero", path);
		else
			vs_error("usage: %s; no good copy (%s): counters start from zero",
			         error->message, st->prev_path);
		st->usage = vs_usage_new(g_get_real_time());
	} else {
		st->last_saved = vs_usage_serialize(st->usage); /* the good copy to keep */
	}
	if (used_prev || (error && !g_error_matches(error, G_FILE_ERROR, G_FILE_ERROR_NOENT))) {
		g_autofree char *aside = g_strconcat(path, ".corrupt", NULL);

		if (g_rename(path, aside) == 0)
			vs_warning("usage: %s was unusable (kept as %s)%s", path, aside,
			           used_prev ? "; the last good copy is used" : "");
	}
	if (used_prev) {
		g_autoptr(GError) err = NULL;

		if (!vs_usage_store_save(st, &err))
			vs_warning("usage: cannot write %s back: %s", path, err->message);
	}
	return st;
}

void vs_usage_store_offer(vs_usage_store *st, const vs_snapshot *snap)
{
	g_mutex_lock(&st->lock);
	vs_usage_update(st->usage, st->cfg, snap);
	g_mutex_unlock(&st->lock);
}

vs_usage *vs_usage_store_copy(vs_usage_store *st)
{
	g_mutex_lock(&st->lock);
	vs_usage *u = vs_usage_copy(st->usage);
	g_mutex_unlock(&st->lock);
	return u;
}

/**
 * vs_usage_store_save:
 * Writes the counters to the file (atomic replace, fsync), after the
 * previous content written by this store became FILE.prev: a crash at any
 * point leaves one good copy or the other.
 */
bool vs_usage_store_save(vs_usage_store *st, GError **error)
{
	g_autoptr(vs_usage) u = vs_usage_store_copy(st);
	char *text = vs_usage_serialize(u);
	bool ok;

	g_mutex_lock(&st->save_lock);
	if (st->last_saved &&
	    !vs_file_replace(st->prev_path, st->last_saved, strlen(st->last_saved), 0600, error)) {
		g_mutex_unlock(&st->save_lock);
		g_free(text);
		return false;
	}
	ok = vs_file_replace(st->path, text, strlen(text), 0600, error);
	if (ok) {
		g_free(st->last_saved);
		st->last_saved = text;
	} else {
		g_free(text);
	}
	g_mutex_unlock(&st->save_lock);
	return ok;
}

static gpointer saver_thread(gpointer data)
{
	vs_usage_store *st = data;

	g_mutex_lock(&st->stop_lock);
	while (!st->stopping) {
		int64_t deadline =
		    g_get_monotonic_time() + (int64_t)st->interval_s * G_USEC_PER_SEC;

		while (!st->stopping && g_cond_wait_until(&st->stop_cond, &st->stop_lock, deadline))
			;
		if (st->stopping)
			break;
		g_mutex_unlock(&st->stop_lock);
		g_autoptr(GError) error = NULL;

		if (!vs_usage_store_save(st, &error))
			vs_warning("usage: cannot save %s: %s", st->path, error->message);
		g_mutex_lock(&st->stop_lock);
	}
	g_mutex_unlock(&st->stop_lock);
	return NULL;
}

void vs_usage_store_start(vs_usage_store *st, unsigned save_interval_s)
{
	st->interval_s = save_interval_s ? save_interval_s : VS_USAGE_SAVE_INTERVAL_S;
	st->thread = g_thread_new("vs-usage", saver_thread, st);
}

void vs_usage_store_close(vs_usage_store *st)
{
	g_autoptr(GError) error = NULL;

	if (!st)
		return;
	if (st->thread) {
		g_mutex_lock(&st->stop_lock);
		st->stopping = true;
		g_cond_broadcast(&st->stop_cond);
		g_mutex_unlock(&st->stop_lock);
		g_thread_join(st->thread);
	}
	if (!vs_usage_store_save(st, &error))
		vs_warning("usage: cannot save %s: %s", st->path, error->message);
	vs_usage_free(st->usage);
	g_free(st->last_saved);
	g_free(st->path);
	g_free(st->prev_path);
	g_mutex_clear(&st->lock);
	g_mutex_clear(&st->save_lock);
	g_mutex_clear(&st->stop_lock);
	g_cond_clear(&st->stop_cond);
	g_free(st);
}
