/*
 * status.c - STATE_DIR/status.json written by a thread of its own: the
 * write is fsync'd, and the event loop must never wait for a disk. Only the
 * newest status matters, so a post replaces one not yet written.
 */
#include "config.h"

#include "status-writer.h"
#include "vs-log.h"

struct vs_status_writer {
	char *state_dir;
	GMutex lock;
	GCond cond;
	vs_status *pending;
	bool stop;
	GThread *thread;
};

static gpointer writer_main(gpointer data)
{
	vs_status_writer *w = data;
	g_mutex_lock(&w->lock);
	for (;;) {
		while (!w->pending && !w->stop)
			g_cond_wait(&w->cond, &w->lock);
		vs_status *s = g_steal_pointer(&w->pending);
		bool stop = w->stop;
		g_mutex_unlock(&w->lock);
		if (s) {
			g_autoptr(GError) err = NULL;
			if (!vs_status_write(s, w->state_dir, &err))
				vs_warning("status file: %s", err->message);
			vs_status_free(s);
		}
		g_mutex_lock(&w->lock);
		if (stop && !w->pending)
			break;
	}
	g_mutex_unlock(&w->lock);
	return NULL;
}

/** vs_status_writer_new: starts the writer thread for @state_dir. */
vs_status_writer *vs_status_writer_new(const char *state_dir)
{
	vs_status_writer *w = g_new0(vs_status_writer, 1);
	w->state_dir = g_strdup(state_dir);
	g_mutex_init(&w->lock);
	g_cond_init(&w->cond);
	w->thread = g_thread_new("vs-status", writer_main, w);
	return w;
}

/** vs_status_writer_post: queues @s (taken) for writing. */
void vs_status_writer_post(vs_status_writer *w, vs_status *s)
{
	g_mutex_lock(&w->lock);
	if (w->pending)
		vs_status_free(w->pending);
	w->pending = s;
	g_cond_signal(&w->cond);
	g_mutex_unlock(&w->lock);
}

/** vs_status_writer_free: writes what is pending, then stops. */
void vs_status_writer_free(vs_status_writer *w)
{
	if (!w)
		return;
	g_mutex_lock(&w->lock);
	w->stop = true;
	g_cond_signal(&w->cond);
	g_mutex_unlock(&w->lock);
	g_thread_join(w->thread);
	g_mutex_clear(&w->lock);
	g_cond_clear(&w->cond);
	g_free(w->state_dir);
	g_free(w);
}
