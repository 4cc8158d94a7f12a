/*
 * migrate.c - a running member moved live to another host of its pool with
 * libvirt's own migration (pre-copy; the client drives the phases, holding
 * both connections, so no host needs to reach the other's libvirtd). The
 * balancer is coordinated so that no request fails: the old address is
 * drained (it finishes what it serves and takes nothing new), the guest
 * migrates with its own port forward on the destination (destination XML),
 * the new address joins once it answers its probe, the old one leaves.
 * Every step is journaled first: a crash leaves a "migrate" record that
 * vs_reconcile_migrate() settles (the guest runs on exactly one host).
 * How memory moves depends on the guest's dirty rate, measured just before
 * (migrate-path.h): a watcher thread switches to post-copy when the path
 * says so, while libvirt's migration call blocks.
 */
#include "config.h"

#include "migrate-path.h"
#include "migrate-xml.h"
#include "ops.h"
#include "vs-log.h"

#include <libvirt/virterror.h>
#include <string.h>

static const vs_member *find_member(const vs_pool_view *v, const char *name)
{
	for (guint i = 0; v && i < v->members->len; i++) {
		const vs_member *m = v->members->pdata[i];

		if (g_strcmp0(m->name, name) == 0)
			return m;
	}
	return NULL;
}

/* The live and persistent XML of @dom rewritten for the destination. */
static bool dest_xmls(vs_ops_ctx *w, virDomainPtr dom, const char *address,
                      const vs_host_config *dest, char **live, char **persistent, GError **error)
{
	char *lx = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_MIGRATABLE | VIR_DOMAIN_XML_SECURE);
	char *px = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_MIGRATABLE | VIR_DOMAIN_XML_SECURE |
	                                        VIR_DOMAIN_XML_INACTIVE);
	const char *part = dest ? dest->partition : NULL;

	if (!lx || !px) {
		vs_virt_set_error(error, "domain XML");
		free(lx);
		free(px);
		return false;
	}
	*live = vs_migrate_xml(lx, address, part, w->pool, error);
	*persistent = *live ? vs_migrate_xml(px, address, part, w->pool, error) : NULL;
	free(lx);
	free(px);
	return *live && *persistent;
}

/* libvirt's figures of a finished migration job. */
typedef struct job_figures {
	bool got;
	uint64_t total_ms, downtime_ms, bytes, iterations;
} job_figures;

static bool figures_from(virTypedParameterPtr params, int n, job_figures *f)
{
	unsigned long long v;

	if (virTypedParamsGetULLong(params, n, VIR_DOMAIN_JOB_TIME_ELAPSED, &v) != 1)
		return false;
	*f = (job_figures){.got = true, .total_ms = v};
	if (virTypedParamsGetULLong(params, n, VIR_DOMAIN_JOB_DOWNTIME, &v) == 1)
		f->downtime_ms = v;
	if (virTypedParamsGetULLong(params, n, VIR_DOMAIN_JOB_DATA_PROCESSED, &v) == 1)
		f->bytes = v;
	if (virTypedParamsGetULLong(params, n, VIR_DOMAIN_JOB_MEMORY_ITERATION, &v) == 1)
		f->iterations = v;
	return true;
}

/* The source's job-completed event of the migrating domain: libvirt
 * sends it with the completed job's figures once the migration really
 * ended, also after post-copy, when the destination may not report its
 * completed job for a long while. Registered before the migration starts
 * (the source domain is gone afterwards); it needs libvirt's event loop
 * running in the process (virtscaled's main loop). Shared with libvirt's
 * event thread, which holds a reference until it drops the callback. */
typedef struct job_events {
	gint refs;
	GMutex lock;
	GCond cond;
	job_figures fig;
	virConnectPtr conn;
	int id;
} job_events;

static void job_events_unref(void *opaque)
{
	job_events *je = opaque;

	if (!g_atomic_int_dec_and_test(&je->refs))
		return;
	g_mutex_clear(&je->lock);
	g_cond_clear(&je->cond);
	g_free(je);
}

/* libvirt's event thread: copies the figures, never waits. */
static void job_completed_cb(virConnectPtr conn, virDomainPtr dom, virTypedParameterPtr params,
                             int nparams, void *opaque)
{
	job_events *je = opaque;
	job_figures f;

	(void)conn;
	(void)dom;
	if (!figures_from(params, nparams, &f))
		return;
	g_mutex_lock(&je->lock);
	if (!je->fig.got) {
		je->fig = f;
		g_cond_broadcast(&je->cond);
	}
	g_mutex_unlock(&je->lock);
}

/* Listens for @dom's job-completed event on @conn; NULL when libvirt
 * refuses (then only the destination is asked). */
static job_events *job_events_watch(virConnectPtr conn, virDomainPtr dom)
{
	job_events *je = g_new0(job_events, 1);

	je->refs = 2; /* ours, and the registration's (dropped by libvirt) */
	g_mutex_init(&je->lock);
	g_cond_init(&je->cond);
	je->conn = conn;
	je->id = virConnectDomainEventRegisterAny(conn, dom, VIR_DOMAIN_EVENT_ID_JOB_COMPLETED,
	                                          VIR_DOMAIN_EVENT_CALLBACK(job_completed_cb), je,
	                                          job_events_unref);
	if (je->id < 0) {
		vs_warning("no job-completed events: %s", virGetLastErrorMessage());
		virResetLastError();
		je->refs = 1;
		job_events_unref(je);
		return NULL;
	}
	return je;
}

static void job_events_stop(job_events *je)
{
	if (!je)
		return;
	if (virConnectDomainEventDeregisterAny(je->conn, je->id) < 0)
		virResetLastError();
	job_events_unref(je);
}

/* The destination's completed job, when it has it. */
static bool dest_figures(virDomainPtr ddom, job_figures *f)
{
	virTypedParameterPtr params = NULL;
	int n = 0, type = 0;
	bool ok =
	    virDomainGetJobStats(ddom, &type, &params, &n, VIR_DOMAIN_JOB_STATS_COMPLETED) == 0 &&
	    figures_from(params, n, f);

	if (!ok)
		virResetLastError();
	virTypedParamsFree(params, n);
	return ok;
}

/* What libvirt measured of the finished migration: the source's
 * job-completed event, waited for up to 2 s after pre-copy and 20 s after
 * post-copy (it comes once the last pages are sent, which may be after
 * the migration call returned). Meanwhile the destination is asked for
 * its completed job; if it has one and the event does not follow within
 * a second (no event loop, say), the destination's figures are taken.
 * Without either the total is the migration call's own time. */
static void read_job_stats(job_events *je, virDomainPtr ddom, vs_migration_stats *st)
{
	int64_t start = g_get_monotonic_time(), dest_at = 0;
	int64_t deadline = start + (st->postcopy ? 20 : 2) * G_USEC_PER_SEC;
	job_figures f = {0}, df = {0};
	const char *from = "source";

	for (;;) {
		int64_t now = g_get_monotonic_time();

		if (je) {
			g_mutex_lock(&je->lock);
			f = je->fig;
			g_mutex_unlock(&je->lock);
		}
		if (f.got)
			break;
		if (!df.got && dest_figures(ddom, &df))
			dest_at = now;
		if (df.got && (!je || now - dest_at >= G_USEC_PER_SEC || now >= deadline)) {
			f = df;
			from = "destination";
			break;
		}
		if (now >= deadline)
			break;
		if (je) {
			g_mutex_lock(&je->lock);
			if (!je->fig.got)
				g_cond_wait_until(&je->cond, &je->lock, now + 200 * 1000);
			g_mutex_unlock(&je->lock);
		} else {
			g_usleep(200 * 1000);
		}
	}
	if (!f.got) {
		vs_warning("migration: libvirt reported no completed job within %.0f s",
		           (double)(deadline - start) / G_USEC_PER_SEC);
		return;
	}
	vs_debug("migration: the %s's completed job, %.2f s after the migration call", from,
	         (double)(g_get_monotonic_time() - start) / G_USEC_PER_SEC);
	st->total_ms = f.total_ms;
	st->downtime_ms = f.downtime_ms;
	st->bytes = f.bytes;
	st->iterations = f.iterations;
}

/* One page-sampling calculation over a second: MiB/s, -1 when none. */
static double dirty_rate_once(virDomainPtr dom, GCancellable *stop)
{
	virDomainPtr doms[] = {dom, NULL};

	if (virDomainStartDirtyRateCalc(dom, 1, 0) < 0) {
		virResetLastError();
		return -1;
	}
	for (int tries = 0; tries < 30 && !g_cancellable_is_cancelled(stop); tries++) {
		virDomainStatsRecordPtr *recs = NULL;
		int status = -1;
		long long mbps = -1;

		g_usleep(tries == 0 ? G_USEC_PER_SEC : 100 * 1000);
		if (virDomainListGetStats(doms, VIR_DOMAIN_STATS_DIRTYRATE, &recs, 0) < 1) {
			virResetLastError();
			continue;
		}
		virTypedParamsGetInt(recs[0]->params, recs[0]->nparams, "dirtyrate.calc_status",
		                     &status);
		virTypedParamsGetLLong(recs[0]->params, recs[0]->nparams,
		                       "dirtyrate.megabytes_per_second", &mbps);
		virDomainStatsRecordListFree(recs);
		if (status == VIR_DOMAIN_DIRTYRATE_MEASURED)
			return (double)mbps;
	}
	return -1;
}

/* The guest's dirty rate in percent of its memory per second, measured by
 * libvirt (page sampling: QEMU hashes 512 random pages per GiB at the
 * start and the end of a second); -1 when it cannot be. A small guest has
 * few pages sampled: it is measured up to 3 times (about 256 pages in
 * all) and the mean taken. (The dirty-bitmap mode would count every page,
 * but takes QEMU 7.2 under TCG down.) */
static double measure_dirty_rate(virDomainPtr dom, GCancellable *stop)
{
	virDomainInfo info;
	double mib, sum = 0, pages_per_pass;
	unsigned passes, done = 0;

	if (virDomainGetInfo(dom, &info) < 0) {
		virResetLastError();
		return -1;
	}
	mib = (double)info.memory / 1024.0;
	pages_per_pass = 512.0 * mib / 1024.0;
	passes = pages_per_pass >= 256 ? 1 : pages_per_pass >= 128 ? 2 : 3;
	for (unsigned i = 0; i < passes; i++) {
		double r = dirty_rate_once(dom, stop);

		if (r >= 0) {
			sum += r;
			done++;
		}
	}
	return done ? vs_migrate_dirty_percent(sum / done, mib) : -1;
}

/* The thread that watches a running migration: sets the longest final
 * pause once the job runs (libvirt applies it to a migration under way:
 * set before, the migration's own parameters would replace it), and
 * switches to post-copy at once (path 3) or after the pool's pre-copy
 * passes (path 2). */
typedef struct watch {
	virDomainPtr dom;
	vs_migrate_path path;
	unsigned max_iterations;
	unsigned max_downtime_ms; /* 0: libvirt's */
	bool postcopy_allowed;
	gint done;
	bool postcopy;
} watch;

static bool watch_more(const watch *wt)
{
	return wt->max_downtime_ms || (wt->postcopy_allowed && !wt->postcopy);
}

static gpointer watch_thread(gpointer data)
{
	watch *wt = data;

	while (!g_atomic_int_get(&wt->done) && watch_more(wt)) {
		virTypedParameterPtr params = NULL;
		int n = 0, type = VIR_DOMAIN_JOB_NONE;
		unsigned long long iter = 0;

		g_usleep(50 * 1000);
		if (virDomainGetJobStats(wt->dom, &type, &params, &n, 0) < 0) {
			virResetLastError();
			continue;
		}
		virTypedParamsGetULLong(params, n, VIR_DOMAIN_JOB_MEMORY_ITERATION, &iter);
		virTypedParamsFree(params, n);
		if (type != VIR_DOMAIN_JOB_UNBOUNDED)
			continue;
		if (wt->max_downtime_ms) {
			if (virDomainMigrateSetMaxDowntime(wt->dom, wt->max_downtime_ms, 0) == 0)
				wt->max_downtime_ms = 0;
			else
				virResetLastError(); /* the job is not ready for it yet: again */
		}
		if (!wt->postcopy_allowed || wt->postcopy)
			continue;
		if (wt->path == VS_MIGRATE_PATH_XBZRLE && iter <= wt->max_iterations)
			continue;
		if (virDomainMigrateStartPostCopy(wt->dom, 0) == 0)
			wt->postcopy = true;
		else
			virResetLastError(); /* not ready yet: again */
	}
	return NULL;
}

/* Is @err libvirt refusing post-copy (no userfaultfd for QEMU)? */
static bool postcopy_refused(const GError *err)
{
	return err && (strstr(err->message, "ostcopy") || strstr(err->message, "ost-copy"));
}

/* libvirt's migration itself along @path: the guest on @dconn afterwards,
 * or NULL (then libvirt has left it running on the source). */
static virDomainPtr migrate_along(vs_ops_ctx *w, virDomainPtr dom, virConnectPtr dconn,
                                  const vs_host_config *dest, const char *live,
                                  const char *persistent, vs_migrate_path path, bool postcopy_ok,
                                  vs_migration_stats *st, GError **error)
{
	const vs_pool_config *p = w->pool;
	virTypedParameterPtr params = NULL;
	int n = 0, max = 0;
	unsigned flags = VIR_MIGRATE_LIVE | VIR_MIGRATE_PERSIST_DEST | VIR_MIGRATE_UNDEFINE_SOURCE;
	watch wt = {.dom = dom,
	            .path = path,
	            .max_iterations = p->migrate_max_iterations,
	            .max_downtime_ms = p->migrate_max_downtime};
	GThread *watcher = NULL;
	virDomainPtr ddom;

	if (p->migrate_unsafe)
		flags |= VIR_MIGRATE_UNSAFE;
	if (p->migrate_auto_converge) {
		flags |= VIR_MIGRATE_AUTO_CONVERGE;
		if (p->migrate_auto_converge_initial)
			virTypedParamsAddInt(&params, &n, &max,
			                     VIR_MIGRATE_PARAM_AUTO_CONVERGE_INITIAL,
			                     (int)p->migrate_auto_converge_initial);
		if (p->migrate_auto_converge_increment)
			virTypedParamsAddInt(&params, &n, &max,
			                     VIR_MIGRATE_PARAM_AUTO_CONVERGE_INCREMENT,
			                     (int)p->migrate_auto_converge_increment);
	}
	bool postcopy = postcopy_ok && path != VS_MIGRATE_PATH_PRECOPY;

	if (postcopy)
		flags |= VIR_MIGRATE_POSTCOPY;
	wt.postcopy_allowed = postcopy;
	virTypedParamsAddString(&params, &n, &max, VIR_MIGRATE_PARAM_DEST_XML, live);
	virTypedParamsAddString(&params, &n, &max, VIR_MIGRATE_PARAM_PERSIST_XML, persistent);
	if (dest && dest->migrate_uri)
		virTypedParamsAddString(&params, &n, &max, VIR_MIGRATE_PARAM_URI,
		                        dest->migrate_uri);
	if (path == VS_MIGRATE_PATH_XBZRLE) {
		flags |= VIR_MIGRATE_COMPRESSED;
		virTypedParamsAddString(&params, &n, &max, VIR_MIGRATE_PARAM_COMPRESSION, "xbzrle");
		virTypedParamsAddULLong(&params, &n, &max,
		                        VIR_MIGRATE_PARAM_COMPRESSION_XBZRLE_CACHE,
		                        (unsigned long long)p->migrate_xbzrle_cache << 20);
	}
	if (watch_more(&wt))
		watcher = g_thread_new("vs-migrate-watch", watch_thread, &wt);
	int64_t t0 = g_get_monotonic_time();

	ddom = virDomainMigrate3(dom, dconn, params, (unsigned)n, flags);
	st->total_ms = (uint64_t)(g_get_monotonic_time() - t0) / 1000;
	if (!ddom)
		vs_virt_set_error(error, "migrate");
	if (watcher) {
		g_atomic_int_set(&wt.done, 1);
		g_thread_join(watcher);
	}
	st->postcopy = wt.postcopy;
	if (wt.max_downtime_ms)
		vs_warning("pool %s: migrate_max_downtime not applied: the migration ended first",
		           p->name);
	virTypedParamsFree(params, n);
	return ddom;
}

/* The path for the guest's dirty rate; post-copy that the hosts cannot do
 * falls back to pre-copy with XBZRLE (path 2 without its switch). */
static virDomainPtr run_migration(vs_ops_ctx *w, virDomainPtr dom, virConnectPtr dconn,
                                  const vs_host_config *dest, const char *live,
                                  const char *persistent, vs_migration_stats *st, GError **error)
{
	const vs_pool_config *p = w->pool;
	vs_migrate_path path;
	virDomainPtr ddom;

	st->dirty_rate = measure_dirty_rate(dom, w->stop);
	path = vs_migrate_path_choose(st->dirty_rate, p->migrate_dirty_low, p->migrate_dirty_high);
	st->path = path;
	vs_info("pool %s: %s dirties %.1f%% of its memory per second: path %d (%s)", p->name,
	        virDomainGetName(dom), st->dirty_rate, path, vs_migrate_path_name(path));
	ddom = migrate_along(w, dom, dconn, dest, live, persistent, path, true, st, error);
	if (!ddom && path != VS_MIGRATE_PATH_PRECOPY && postcopy_refused(*error)) {
		vs_warning("pool %s: post-copy refused (%s): path %d without it", p->name,
		           (*error)->message, VS_MIGRATE_PATH_XBZRLE);
		g_clear_error(error);
		st->path = VS_MIGRATE_PATH_XBZRLE;
		/* XBZRLE without post-copy: the cap cannot apply */
		ddom = migrate_along(w, dom, dconn, dest, live, persistent, VS_MIGRATE_PATH_XBZRLE,
		                     false, st, error);
	}
	return ddom;
}

/* The old address serves again after a failed migration. */
static void restore_source(vs_ops_ctx *w, const char *address)
{
	g_autoptr(GError) err = NULL;

	if (address && !vs_lb_enable(w->lb, address, &err))
		vs_warning("pool %s: %s could not be enabled again: %s", w->pool->name, address,
		           err->message);
}

/* Checks the request against the members as libvirt lists them now. */
static const vs_member *check_request(vs_ops_ctx *w, const vs_pool_view *v, const char *name,
                                      const char *dest_uri, GError **error)
{
	const vs_member *m = find_member(v, name);

	if (!m) {
		g_set_error(error, VS_ACT_ERROR, VS_ACT_ERROR_NOT_FOUND,
		            "%s is not a member of pool %s", name, w->pool->name);
		return NULL;
	}
	if (!m->running) {
		g_set_error(error, VS_ACT_ERROR, VS_ACT_ERROR_STATE, "%s is not running", name);
		return NULL;
	}
	if (g_strcmp0(m->host_uri, dest_uri) == 0) {
		g_set_error(error, VS_ACT_ERROR, VS_ACT_ERROR_STATE, "%s already runs on %s", name,
		            vs_config_host_name(w->cfg, dest_uri));
		return NULL;
	}
	if (!vs_pool_on_host(w->pool, dest_uri) || !vs_ops_host(w, dest_uri)) {
		g_set_error(error, VS_ACT_ERROR, VS_ACT_ERROR_NOT_FOUND, "pool %s has no host %s",
		            w->pool->name, dest_uri);
		return NULL;
	}
	return m;
}

/* A port forward's connections live in the source's QEMU (user-mode
 * networking) and end with it at the switch-over: what the old address
 * serves finishes before the guest moves. Past drain_timeout the migration
 * goes on, as a scale-in stops its victim then; false only when virtscaled
 * stops meanwhile. */
static bool wait_forward_drained(vs_ops_ctx *w, const char *name, const char *address,
                                 GError **error)
{
	g_autoptr(GError) err = NULL;

	if (vs_lb_wait_drained(w->lb, address, w->pool->drain_timeout, w->stop, &err))
		return true;
	if (g_error_matches(err, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
		g_propagate_error(error, g_steal_pointer(&err));
		return false;
	}
	vs_notice("pool %s: migration of %s: drain of %s: %s", w->pool->name, name, address,
	          err->message);
	return true;
}

/**
 * vs_migrate: see ops.h.
 */
bool vs_migrate(vs_ops_ctx *w, const vs_pool_view *v, const char *name, const char *dest_uri,
                vs_migration_stats *st, vs_op_outcome *o, GError **error)
{
	const vs_member *m;
	const vs_host_config *dest = vs_ops_host_config(w, dest_uri);
	g_autoptr(virConnect) sconn = NULL, dconn = NULL;
	g_autoptr(virDomain) dom = NULL;
	g_autoptr(virDomain) ddom = NULL;
	g_autofree char *src_uri = NULL, *old_addr = NULL, *new_addr = NULL;
	g_autofree char *live = NULL, *persistent = NULL;
	int64_t t0 = g_get_monotonic_time();
	uint64_t jid = 0;
	bool drained = false, ok = false;
	job_events *events = NULL;

	o->action = VS_ACTION_MIGRATE;
	o->step = VS_STEP_CHOOSE;
	st->dirty_rate = -1;
	m = check_request(w, v, name, dest_uri, error);
	if (!m)
		return false;
	src_uri = g_strdup(m->host_uri);
	old_addr = g_strdup(m->address);
	o->step = VS_STEP_CONNECT;
	sconn = vs_virt_get(vs_ops_host(w, src_uri), NULL, error);
	dconn = sconn ? vs_virt_get(vs_ops_host(w, dest_uri), NULL, error) : NULL;
	if (!dconn)
		return false;
	dom = virDomainLookupByName(sconn, name);
	if (!dom) {
		vs_virt_set_error(error, "lookup");
		return false;
	}

	/* the destination's port and the journal under the allocation lock,
	 * held until the destination's QEMU listens on it: no clone takes it */
	g_mutex_lock(w->alloc_lock);
	o->step = VS_STEP_ADDRESS;
	if (w->pool->address == VS_ADDRESS_HOSTFWD)
		new_addr = vs_address_alloc_hostfwd(w, dest_uri, error);
	else
		new_addr = g_strdup(old_addr); /* bridged: the address moves with it */
	if (!new_addr || !dest_xmls(w, dom, new_addr, dest, &live, &persistent, error))
		goto unlock;
	o->step = VS_STEP_JOURNAL;
	{
		vs_journal_op op = {.op = "migrate",
		                    .pool = w->pool->name,
		                    .name = (char *)name,
		                    .uri = src_uri,
		                    .address = old_addr,
		                    .dest_uri = (char *)dest_uri,
		                    .dest_address = new_addr};

		jid = vs_journal_begin(w->journal, &op, error);
	}
	if (!jid)
		goto unlock;
	vs_info("pool %s: migrating %s from %s to %s (%s -> %s)", w->pool->name, name,
	        vs_config_host_name(w->cfg, src_uri), vs_config_host_name(w->cfg, dest_uri),
	        old_addr ? old_addr : "-", new_addr);
	o->step = VS_STEP_LB_DRAIN;
	if (old_addr && g_strcmp0(old_addr, new_addr) != 0) {
		if (!vs_lb_drain(w->lb, old_addr, error))
			goto unlock;
		drained = true;
		if (!wait_forward_drained(w, name, old_addr, error))
			goto unlock;
	}
	if (!vs_ops_journal_step(w, jid, "drained", o, error))
		goto unlock;
	if (w->draining)
		w->draining(name, w->opaque);
	o->step = VS_STEP_MIGRATE;
	if (!vs_ops_journal_step(w, jid, "migrating", o, error))
		goto unlock;
	events = job_events_watch(sconn, dom);
	ddom = run_migration(w, dom, dconn, dest, live, persistent, st, error);
unlock:
	g_mutex_unlock(w->alloc_lock);
	if (!ddom)
		goto out;
	read_job_stats(events, ddom, st);
	if (!vs_ops_journal_step(w, jid, "migrated", o, error))
		goto out;
	vs_info("pool %s: %s now runs on %s", w->pool->name, name,
	        vs_config_host_name(w->cfg, dest_uri));
	o->step = VS_STEP_PROBE;
	if (!vs_probe_wait(w->pool, new_addr, w->pool->probe_timeout, w->stop, error))
		goto out;
	if (g_strcmp0(old_addr, new_addr) != 0) {
		o->step = VS_STEP_LB_ADD;
		if (!vs_lb_add(w->lb, new_addr, true, error))
			goto out;
		if (!vs_ops_journal_step(w, jid, "lb-added", o, error))
			goto out;
		o->step = VS_STEP_LB_REMOVE;
		if (old_addr && !vs_lb_remove(w->lb, old_addr, error))
			goto out;
	} else if (drained) {
		vs_lb_enable(w->lb, new_addr, NULL);
	}
	ok = vs_journal_end(w->journal, jid, "ok", error);
	if (!ok)
		o->step = VS_STEP_JOURNAL;
out:
	if (!ok && !ddom && jid) {
		/* libvirt left the guest running on the source */
		if (drained)
			restore_source(w, old_addr);
		if (!vs_journal_end(w->journal, jid, "rolled-back", NULL))
			vs_warning("pool %s: migration of %s: rollback not recorded", w->pool->name,
			           name);
	}
	job_events_stop(events);
	/* a failure after the guest moved stays journaled: reconcile finishes it */
	if (ddom || ok)
		st->moved = true;
	vs_info("pool %s: migration of %s to %s %s after %.2f s (path %d%s, downtime %llu ms, "
	        "%llu iteration(s), %llu bytes)",
	        w->pool->name, name, vs_config_host_name(w->cfg, dest_uri), ok ? "done" : "failed",
	        (double)(g_get_monotonic_time() - t0) / 1e6, st->path,
	        st->postcopy ? ", post-copy" : "", (unsigned long long)st->downtime_ms,
	        (unsigned long long)st->iterations, (unsigned long long)st->bytes);
	return ok;
}
