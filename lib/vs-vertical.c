/*
 * vs-vertical.c - each member's own windows and the vertical rules (see
 * vs-vertical.h). Pure.
 */
#include "config.h"

#include "vs-vertical.h"

#include <glib.h>
#include <math.h>
#include <string.h>

/**
 * vs_vertical_window_init:
 * @w: a member's windows
 * @cfg: its pool (vertical_debounce)
 */
void vs_vertical_window_init(vs_vertical_window *w, const vs_pool_config *cfg)
{
	unsigned m = cfg->vertical_debounce.m, n = cfg->vertical_debounce.n;

	vs_debounce_init(&w->cpu_high, m, n);
	vs_debounce_init(&w->cpu_low, m, n);
	vs_debounce_init(&w->mem_high, m, n);
	vs_debounce_init(&w->mem_low, m, n);
	w->vcpus = 0;
	w->mem_kib = 0;
}

/**
 * vs_vertical_window_reset: forgets the CPU and/or memory samples of @w.
 */
void vs_vertical_window_reset(vs_vertical_window *w, bool cpu, bool memory)
{
	if (cpu) {
		vs_debounce_reset(&w->cpu_high);
		vs_debounce_reset(&w->cpu_low);
	}
	if (memory) {
		vs_debounce_reset(&w->mem_high);
		vs_debounce_reset(&w->mem_low);
	}
}

/**
 * vs_vertical_push:
 * @cfg: the member's pool
 * @w: its windows
 * @s: its newest reading
 *
 * Returns what its windows ask for now (see vs-vertical.h).
 */
vs_vertical_step vs_vertical_push(const vs_pool_config *cfg, vs_vertical_window *w,
                                  const vs_vertical_sample *s)
{
	vs_vertical_step st = {.cpu = s->cpu_percent};

	/* another count of vCPUs: the old percentages meant something else */
	vs_vertical_window_reset(w, w->vcpus && s->vcpus != w->vcpus,
	                         w->mem_kib && s->mem_kib != w->mem_kib);
	w->vcpus = s->vcpus;
	w->mem_kib = s->mem_kib;
	if (cfg->vertical_vcpu && s->cpu_percent >= 0 && s->vcpus) {
		bool high = vs_debounce_push(&w->cpu_high, s->cpu_percent > cfg->vertical_cpu_high);
		bool low = vs_debounce_push(&w->cpu_low, s->cpu_percent < cfg->vertical_cpu_low);

		if (high && s->vcpus < s->vcpus_max)
			st.vcpu = +1;
		else if (high)
			st.cpu_at_max = true;
		else if (low && s->vcpus > 1)
			st.vcpu = -1;
	}
	if (cfg->vertical_memory && s->mem_percent >= 0 && s->mem_kib && s->mem_max_kib) {
		bool high =
		    vs_debounce_push(&w->mem_high, s->mem_percent > cfg->vertical_memory_high);
		bool low = vs_debounce_push(&w->mem_low, s->mem_percent < cfg->vertical_memory_low);

		if (high && s->mem_kib < s->mem_max_kib)
			st.memory = +1;
		else if (high)
			st.mem_at_max = true;
		else if (low && vs_vertical_memory_target(cfg, s->mem_kib, s->mem_max_kib,
		                                          s->mem_percent, -1) < s->mem_kib)
			st.memory = -1;
	}
	return st;
}

/**
 * vs_vertical_direction: +1 when @st asks to grow anything, else -1 when it
 * asks to shrink something, else 0.
 */
int vs_vertical_direction(const vs_vertical_step *st)
{
	if (st->vcpu > 0 || st->memory > 0)
		return +1;
	if (st->vcpu < 0 || st->memory < 0)
		return -1;
	return 0;
}

/**
 * vs_vertical_memory_percent:
 * @available: the memory the guest sees (balloon statistic "available"), KiB
 * @usable: what it could use without swapping ("usable"), 0 unknown
 * @unused: what it leaves free ("unused"), 0 unknown
 *
 * Returns the percent of @available in use, or -1 when the guest reports
 * nothing (no balloon driver, or statistics not enabled).
 */
double vs_vertical_memory_percent(uint64_t available, uint64_t usable, uint64_t unused)
{
	uint64_t free_kib = usable ? usable : unused;

	if (!available || !free_kib || free_kib > available)
		return -1;
	return 100.0 * (double)(available - free_kib) / (double)available;
}

/**
 * vs_vertical_memory_target:
 * @cfg: the pool (vertical_memory_high)
 * @cur_kib: the member's balloon now
 * @max_kib: its ceiling
 * @used_percent: of @cur_kib in use, <0 unknown
 * @direction: +1 grow, -1 shrink
 *
 * One step is a quarter of @max_kib. Shrinking stops at a quarter of the
 * maximum and above what the guest uses divided by vertical_memory_high
 * (so the smaller balloon does not at once read as high); unknown use
 * never shrinks. Returns the new balloon, @cur_kib when it cannot move.
 */
uint64_t vs_vertical_memory_target(const vs_pool_config *cfg, uint64_t cur_kib, uint64_t max_kib,
                                   double used_percent, int direction)
{
	uint64_t step = max_kib / 4, floor_kib = max_kib / 4;

	if (!max_kib || !cur_kib || !step)
		return cur_kib;
	if (direction > 0)
		return cur_kib >= max_kib ? cur_kib : MIN(max_kib, cur_kib + step);
	if (used_percent < 0 || cfg->vertical_memory_high <= 0)
		return cur_kib;
	double used_kib = (double)cur_kib * used_percent / 100.0;
	uint64_t keep = (uint64_t)ceil(used_kib * 100.0 / cfg->vertical_memory_high);
	uint64_t target = cur_kib > step ? cur_kib - step : 0;

	target = MAX(target, MAX(floor_kib, keep));
	return target < cur_kib ? target : cur_kib;
}

/* The root element's type= ("qemu" is TCG), then parsing stops. */
static void root_type(GMarkupParseContext *ctx, const char *element, const char **names,
                      const char **values, gpointer data, GError **error)
{
	bool *tcg = data;

	for (guint i = 0; strcmp(element, "domain") == 0 && names[i]; i++)
		if (strcmp(names[i], "type") == 0)
			*tcg = strcmp(values[i], "qemu") == 0;
	g_set_error_literal(error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT, "root read");
}

/**
 * vs_vertical_tcg_domain: see vs-vertical.h.
 */
bool vs_vertical_tcg_domain(const char *xml)
{
	static const GMarkupParser parser = {.start_element = root_type};
	bool tcg = false;
	GMarkupParseContext *ctx;

	if (!xml)
		return false;
	ctx = g_markup_parse_context_new(&parser, 0, &tcg, NULL);
	/* only the root's start tag matters: the rest is never read */
	g_markup_parse_context_parse(ctx, xml, -1, NULL);
	g_markup_parse_context_free(ctx);
	return tcg;
}

/**
 * vs_vertical_allowed: see vs-vertical.h.
 */
bool vs_vertical_allowed(const vs_pool_config *cfg, unsigned running, int direction)
{
	if (cfg->scale_order == VS_ORDER_VERTICAL_FIRST)
		return true;
	return direction > 0 ? running >= cfg->max : running <= cfg->min;
}

/**
 * vs_vertical_first: see vs-vertical.h.
 */
bool vs_vertical_first(const vs_pool_config *cfg)
{
	return cfg->scale_order == VS_ORDER_VERTICAL_FIRST;
}
