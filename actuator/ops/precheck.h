/*
 * precheck.h - what a scale-out needs, checked before anything is cloned:
 * the hypervisor answers, the template is defined there and shut off, the
 * storage pool is active, and the load balancer can take the new member
 * (vs_lb_precheck(): the nginx upstream file is absent or ours and
 * writable, nginx runs and `nginx -t` passes; the balancer-manager answers
 * and has a growth slot free). A failing precondition would otherwise be
 * found after clone, boot and probe, rolled back, and met again at the next
 * attempt: a pool that churns clones without ever serving.
 *
 * Threads: vs_precheck_scale_out() blocks (libvirt, HTTP, nginx -t) and runs
 * in the pool's worker; vs_precheck_track() is pure (the pool's machine,
 * on the event loop).
 */
#ifndef VS_PRECHECK_H
#define VS_PRECHECK_H

#include "ops.h"

/*
 * True when a scale-out of the pool can start now. Otherwise false with
 * @error ("CHECK: what is wrong") and *@condition (newly allocated), a key
 * that stays the same while the same precondition fails for the same
 * reason (the check and the error's domain and code, never the message,
 * which may carry a pid or a count).
 */
bool vs_precheck_scale_out(vs_ops_ctx *w, const vs_pool_view *v, char **condition, GError **error);

typedef enum {
	VS_BLOCK_NONE,    /* passed, and was not blocked */
	VS_BLOCK_NEW,     /* blocked on a condition it was not blocked on before: alert */
	VS_BLOCK_SAME,    /* still blocked on the same condition: no alert */
	VS_BLOCK_CLEARED, /* passed after being blocked */
} vs_block_change;

/*
 * Records a precheck's outcome: @condition is its key (NULL: passed);
 * *@blocked holds the condition the pool is blocked on (NULL: none) and is
 * updated. Says whether that is news.
 */
vs_block_change vs_precheck_track(char **blocked, const char *condition);

#endif
