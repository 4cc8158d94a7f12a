/*
 * host-watch.c - the sampling thread of host-health.h; see host-watch.h.
 */
#include "config.h"

#include "host-watch.h"
#include "vs-wait.h"

struct vs_host_watch {
	vs_virt **hosts;
	vs_host_health **health;
	size_t n;
	GCancellable *stop;
	GThread *thread;
};

static gpointer watch_thread(gpointer data)
{
	vs_host_watch *w = data;

	do {
		for (size_t i = 0; i < w->n; i++) {
			g_autoptr(virConnect) c = vs_virt_get(w->hosts[i], NULL, NULL);

			if (c && virConnectIsAlive(c) == 1) {
				vs_host_health_sample(w->health[i], c);
				continue;
			}
			if (c)
				vs_virt_reset(w->hosts[i]);
			vs_host_health_failed(w->health[i], g_get_monotonic_time());
		}
	} while (vs_wait_ms(w->stop, VS_HOST_WATCH_INTERVAL_MS, NULL));
	return NULL;
}

/** vs_host_watch_start: see host-watch.h. */
vs_host_watch *vs_host_watch_start(vs_virt **hosts, vs_host_health **health, size_t n)
{
	vs_host_watch *w = g_new0(vs_host_watch, 1);

	w->hosts = hosts;
	w->health = health;
	w->n = n;
	w->stop = g_cancellable_new();
	w->thread = g_thread_new("host-watch", watch_thread, w);
	return w;
}

/** vs_host_watch_stop: see host-watch.h. */
void vs_host_watch_stop(vs_host_watch *w)
{
	if (!w)
		return;
	g_cancellable_cancel(w->stop);
	g_thread_join(w->thread);
	g_object_unref(w->stop);
	g_free(w);
}
