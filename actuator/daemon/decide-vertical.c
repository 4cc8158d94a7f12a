/*
 * decide-vertical.c - a member's vertical step against the pool's next
 * horizontal job (see decide-vertical.h). Pure.
 */
#include "config.h"

#include "decide-vertical.h"
#include "vs-vertical.h"

static vs_pool_next vertical(int direction)
{
	return (vs_pool_next){.kind = VS_NEXT_VERTICAL, .steps = 1, .direction = direction};
}

/**
 * vs_pool_decide_vertical:
 * @cfg: the pool
 * @f: what its machine knows now
 * @v: what its members' windows ask for
 * @h: what vs_pool_decide() says for the same facts
 *
 * Returns a VS_NEXT_VERTICAL job or @h (see decide-vertical.h).
 */
vs_pool_next vs_pool_decide_vertical(const vs_pool_config *cfg, const vs_pool_facts *f,
                                     const vs_vertical_wants *v, vs_pool_next h)
{
	bool scaling = h.kind == VS_NEXT_SCALE_OUT || h.kind == VS_NEXT_SCALE_IN;
	bool grow, shrink;

	if (!(cfg->vertical_vcpu || cfg->vertical_memory) || !f->synced || !f->have_members ||
	    f->now_us < f->retry_after_us)
		return h;
	/* a user's target, a refill after a lost host, min/max: instances */
	if ((scaling && !h.notified) || h.kind == VS_NEXT_MANUAL_REACHED)
		return h;
	grow = v->grow && vs_vertical_allowed(cfg, f->running, +1);
	shrink = v->shrink && vs_vertical_allowed(cfg, f->running, -1);
	if (!vs_vertical_first(cfg) && scaling)
		return h;
	if (grow)
		return vertical(+1);
	if (shrink && h.kind != VS_NEXT_SCALE_OUT)
		return vertical(-1);
	return h;
}
