/*
 * pool-vertical.c - a pool machine's vertical part (see pool-vertical.h).
 */
#include "config.h"

#include "pool-vertical.h"
#include "vertical-watch.h"
#include "vs-log.h"

/* One member as the vertical part knows it. */
typedef struct vmember {
	vs_vertical_window window;
	vs_vertical_step step;   /* what its windows asked for at the last reading */
	vs_vertical_sample last; /* its last reading */
	bool read;               /* a reading arrived */
	/* a step that failed is not asked again while the member has what it
	 * had then (one alert, not one per window): its direction, and the
	 * vCPUs or balloon it failed at */
	int failed_vcpu, failed_memory;
	unsigned failed_vcpus;
	uint64_t failed_mem_kib;
} vmember;

struct vs_pool_vertical {
	const vs_ops_ctx *ctx;
	vs_vertical_watch *watch;
	GHashTable *members; /* name -> vmember* */
	void (*changed)(void *opaque);
	void *opaque;
	uint64_t steps;
	vs_vertical_status *last;
};

static vmember *member_for(vs_pool_vertical *pv, const char *name)
{
	vmember *vm = g_hash_table_lookup(pv->members, name);

	if (!vm) {
		vm = g_new0(vmember, 1);
		vs_vertical_window_init(&vm->window, pv->ctx->pool);
		g_hash_table_insert(pv->members, g_strdup(name), vm);
	}
	return vm;
}

static void on_readings(GPtrArray *readings, void *opaque)
{
	vs_pool_vertical *pv = opaque;

	for (guint i = 0; i < readings->len; i++) {
		const vs_vertical_reading *r = readings->pdata[i];
		vmember *vm = g_hash_table_lookup(pv->members, r->name);

		if (!vm) /* listed no more */
			continue;
		vm->step = vs_vertical_push(pv->ctx->pool, &vm->window, &r->s);
		if (vm->failed_vcpu && r->s.vcpus != vm->failed_vcpus)
			vm->failed_vcpu = 0;
		if (vm->failed_memory && r->s.mem_kib != vm->failed_mem_kib)
			vm->failed_memory = 0;
		if (vm->failed_vcpu && vm->step.vcpu == vm->failed_vcpu)
			vm->step.vcpu = 0;
		if (vm->failed_memory && vm->step.memory == vm->failed_memory)
			vm->step.memory = 0;
		vm->last = r->s;
		vm->read = true;
		if (vs_vertical_direction(&vm->step))
			vs_debug("pool %s: %s asks for %s%s (CPU %.0f%% of %u vCPUs, memory "
			         "%.0f%%)",
			         pv->ctx->pool->name, r->name,
			         vm->step.vcpu ? (vm->step.vcpu > 0 ? "+1 vCPU" : "-1 vCPU") : "",
			         vm->step.memory
			             ? (vm->step.memory > 0 ? " more memory" : " less memory")
			             : "",
			         r->s.cpu_percent, r->s.vcpus, r->s.mem_percent);
	}
	g_ptr_array_unref(readings);
	pv->changed(pv->opaque);
}

/** vs_pool_vertical_new: see pool-vertical.h. */
vs_pool_vertical *vs_pool_vertical_new(const vs_ops_ctx *ctx, void (*changed)(void *opaque),
                                       void *opaque)
{
	vs_pool_vertical *pv;

	if (!ctx->pool->vertical_vcpu && !ctx->pool->vertical_memory)
		return NULL;
	pv = g_new0(vs_pool_vertical, 1);
	pv->ctx = ctx;
	pv->changed = changed;
	pv->opaque = opaque;
	pv->members = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	pv->watch = vs_vertical_watch_start(ctx, on_readings, pv);
	return pv;
}

/** vs_pool_vertical_stop: see pool-vertical.h. */
void vs_pool_vertical_stop(vs_pool_vertical *pv)
{
	if (pv)
		vs_vertical_watch_stop(pv->watch);
}

/** vs_pool_vertical_free: see pool-vertical.h. */
void vs_pool_vertical_free(vs_pool_vertical *pv)
{
	if (!pv)
		return;
	vs_vertical_watch_free(pv->watch);
	g_hash_table_destroy(pv->members);
	vs_vertical_status_free(pv->last);
	g_free(pv);
}

/** vs_pool_vertical_set_members: see pool-vertical.h. */
void vs_pool_vertical_set_members(vs_pool_vertical *pv, const vs_pool_view *v)
{
	GHashTableIter it;
	gpointer key;

	if (!pv || !v)
		return;
	g_hash_table_iter_init(&it, pv->members);
	while (g_hash_table_iter_next(&it, &key, NULL)) {
		bool running = false;

		for (guint i = 0; i < v->members->len && !running; i++) {
			const vs_member *m = v->members->pdata[i];

			running = m->running && g_strcmp0(m->name, key) == 0;
		}
		if (!running)
			g_hash_table_iter_remove(&it);
	}
	for (guint i = 0; i < v->members->len; i++) {
		const vs_member *m = v->members->pdata[i];

		if (m->running)
			member_for(pv, m->name);
	}
	vs_vertical_watch_set_members(pv->watch, v);
}

/** vs_pool_vertical_wants: see pool-vertical.h. */
vs_vertical_wants vs_pool_vertical_wants(const vs_pool_vertical *pv)
{
	vs_vertical_wants w = {0};
	GHashTableIter it;
	gpointer value;

	if (!pv)
		return w;
	g_hash_table_iter_init(&it, pv->members);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		int d = vs_vertical_direction(&((vmember *)value)->step);

		w.grow += d > 0;
		w.shrink += d < 0;
	}
	return w;
}

/** vs_pool_vertical_take: see pool-vertical.h. */
bool vs_pool_vertical_take(vs_pool_vertical *pv, int direction, vs_job *job)
{
	GHashTableIter it;
	gpointer key, value;
	const char *best = NULL;
	vmember *bm = NULL;

	if (!pv)
		return false;
	g_hash_table_iter_init(&it, pv->members);
	while (g_hash_table_iter_next(&it, &key, &value)) {
		vmember *vm = value;

		if (vs_vertical_direction(&vm->step) != direction)
			continue;
		/* the busiest grows first, the idlest shrinks first; a tie by name */
		if (!bm ||
		    (direction > 0 ? vm->step.cpu > bm->step.cpu : vm->step.cpu < bm->step.cpu) ||
		    (vm->step.cpu == bm->step.cpu && g_strcmp0(key, best) < 0)) {
			best = key;
			bm = vm;
		}
	}
	if (!bm)
		return false;
	job->kind = VS_JOB_VERTICAL;
	job->domain = g_strdup(best);
	/* vCPUs first when the CPU window asks in this direction */
	if (bm->step.vcpu == direction) {
		job->vcpu_step = direction;
		vs_vertical_window_reset(&bm->window, true, false);
	} else {
		job->memory_step = direction;
		vs_vertical_window_reset(&bm->window, false, true);
	}
	job->mem_percent = bm->last.mem_percent;
	bm->step = (vs_vertical_step){0};
	return true;
}

/** vs_pool_vertical_started: see pool-vertical.h. */
void vs_pool_vertical_started(vs_pool_vertical *pv, const vs_job *job, vs_action action)
{
	if (!pv)
		return;
	vs_vertical_status_free(pv->last);
	pv->last = g_new0(vs_vertical_status, 1);
	pv->last->domain = g_strdup(job->domain);
	pv->last->action = action;
	pv->last->result = VS_RESULT_RUNNING;
	pv->last->time = (double)g_get_real_time() / 1e6;
	pv->last->error = g_strdup("");
}

/** vs_pool_vertical_ended: see pool-vertical.h. */
void vs_pool_vertical_ended(vs_pool_vertical *pv, const vs_job_result *r)
{
	vs_vertical_status *l = pv ? pv->last : NULL;

	if (!l)
		return;
	l->result = r->ok          ? (r->acted ? VS_RESULT_OK : VS_RESULT_NONE)
	            : r->cancelled ? VS_RESULT_CANCELLED
	                           : VS_RESULT_FAILED;
	l->vcpus = r->vertical.vcpus;
	l->memory_kib = r->vertical.mem_kib;
	g_free(l->error);
	l->error = g_strdup(r->ok ? "" : r->error ? r->error : "failed");
	pv->steps += r->acted;
	vmember *vm = g_hash_table_lookup(pv->members, l->domain);

	if (vm && r->vertical.changed) { /* newer than its last reading */
		vm->last.vcpus = r->vertical.vcpus;
		vm->last.mem_kib = r->vertical.mem_kib;
	}
	if (vm && !r->ok && !r->cancelled) {
		bool cpu = l->action == VS_ACTION_VCPU_ADD || l->action == VS_ACTION_VCPU_REMOVE;
		int dir =
		    l->action == VS_ACTION_VCPU_ADD || l->action == VS_ACTION_MEMORY_ADD ? +1 : -1;

		if (cpu) {
			vm->failed_vcpu = dir;
			vm->failed_vcpus = vm->last.vcpus;
		} else {
			vm->failed_memory = dir;
			vm->failed_mem_kib = vm->last.mem_kib;
		}
		vs_notice(
		    "pool %s: %s: %s not asked again while it has %u vCPUs and %" G_GUINT64_FORMAT
		    " KiB",
		    pv->ctx->pool->name, l->domain, vs_action_name(l->action), vm->last.vcpus,
		    vm->last.mem_kib);
	}
}

/** vs_pool_vertical_status: see pool-vertical.h. */
void vs_pool_vertical_status(const vs_pool_vertical *pv, vs_pool_status *ps)
{
	if (!pv)
		return;
	ps->vertical_steps = pv->steps;
	vs_vertical_status_free(ps->vertical);
	ps->vertical = vs_vertical_status_copy(pv->last);
	for (guint i = 0; i < ps->instances->len; i++) {
		vs_member *m = ps->instances->pdata[i];
		const vmember *vm = g_hash_table_lookup(pv->members, m->name);

		if (!vm || !vm->read)
			continue;
		m->vcpus = vm->last.vcpus;
		m->vcpus_max = vm->last.vcpus_max;
		m->mem_kib = vm->last.mem_kib;
		m->mem_max_kib = vm->last.mem_max_kib;
	}
}
