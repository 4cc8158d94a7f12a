/*
 * vs-wait.h - the pause between two polls of an action step (probe, address,
 * drain, shutdown), cut short when the daemon is stopping.
 */
#ifndef VS_WAIT_H
#define VS_WAIT_H

#include <gio/gio.h>
#include <stdbool.h>

/*
 * Sleeps @ms milliseconds unless @cancel (may be NULL) is or becomes
 * cancelled: then returns false at once with G_IO_ERROR_CANCELLED.
 */
bool vs_wait_ms(GCancellable *cancel, unsigned ms, GError **error);

#endif
