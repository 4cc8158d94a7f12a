/*
 * vs-wait.c - a cancellable pause for the action worker's polling loops, so
 * that stopping virtscaled does not wait out a probe or drain timeout.
 */
#include "config.h"

#include "vs-wait.h"

bool vs_wait_ms(GCancellable *cancel, unsigned ms, GError **error)
{
	if (g_cancellable_set_error_if_cancelled(cancel, error))
		return false;
	GPollFD pfd;
	if (cancel && g_cancellable_make_pollfd(cancel, &pfd)) {
		g_poll(&pfd, 1, (gint)ms);
		g_cancellable_release_fd(cancel);
	} else {
		g_usleep((gulong)ms * 1000);
	}
	return !g_cancellable_set_error_if_cancelled(cancel, error);
}
