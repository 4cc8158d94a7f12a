/*
 * decide-vertical.h - when a pool's machine changes one member's vCPUs or
 * memory rather than (or before) what decide.h says: pure, like decide.h.
 *
 * Each member's own windows (lib/vs-vertical.h) say whether it should grow
 * or shrink; this decides when, against the pool's next horizontal job @h:
 *
 *   not synced, after a failure,   -> @h (instances first)
 *     a manual target, a refill,
 *     min/max to converge to
 *   vertical-first (scale_order):  a member that asks to grow does, before a
 *                                  scale-out (and instead of an at-max
 *                                  alert); one that asks to shrink does,
 *                                  unless the pool scales out now. The
 *                                  pool's cooldown does not hold them: each
 *                                  member's window is its own debounce
 *   horizontal-first:              @h first; a member grows only at max,
 *                                  shrinks only at min
 *
 * A grow is taken before a shrink. The machine picks which member.
 */
#ifndef VS_DECIDE_VERTICAL_H
#define VS_DECIDE_VERTICAL_H

#include "decide.h"

/* What the members' windows ask for now. */
typedef struct vs_vertical_wants {
	unsigned grow;   /* members that ask to grow and can */
	unsigned shrink; /* members that ask to shrink and can */
} vs_vertical_wants;

vs_pool_next vs_pool_decide_vertical(const vs_pool_config *cfg, const vs_pool_facts *f,
                                     const vs_vertical_wants *v, vs_pool_next h);

#endif
