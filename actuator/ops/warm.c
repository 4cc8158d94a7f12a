/*
 * warm.c - warm instances: clones made ahead of need, booted until their
 * probe answers, then paused (virDomainSuspend) or saved to disk
 * (virDomainManagedSave). Their tag says warm='yes': they are never
 * running members, never in the balancer, never counted against max. A
 * scale-out takes one first: restored (saved) or resumed (paused), probed
 * (the probe decides: a clock or lease may be stale after a long pause),
 * then added to the balancer. The tag also names the identity of the
 * template the clone was made from: a warm instance of another template is
 * stale and replaced. Every step is journaled like a clone's: an
 * interrupted resume is settled by reconcile (kept when it serves in the
 * balancer, else removed).
 */
#include "config.h"

#include "ops.h"
#include "vs-log.h"

#include <libvirt/virterror.h>

/* The upkeep (vs_warm_fill) runs on a pool's second worker, beside the
 * actions that take warm instances or return members to the warm pool. A
 * domain tagged warm that runs is, to the upkeep, stale (a warm instance
 * is paused or saved): held while a take or a return changes a tag and a
 * state, and while the upkeep classifies and removes, so neither sees the
 * other's half-done step. Never held while a clone boots. */
static GMutex warm_lock;

/* The identity of the template on @c (NULL when it cannot be read). */
static char *template_identity(vs_ops_ctx *w, virConnectPtr c)
{
	g_autoptr(virDomain) tmpl = virDomainLookupByName(c, w->pool->template_name);
	char *xml = tmpl
	                ? virDomainGetXMLDesc(tmpl, VIR_DOMAIN_XML_INACTIVE | VIR_DOMAIN_XML_SECURE)
	                : NULL;
	char *id = xml ? vs_template_identity(xml) : NULL;

	free(xml);
	virResetLastError();
	return id;
}

typedef enum { WARM_NONE, WARM_READY, WARM_STALE, WARM_SILENT } warm_class;

/* What warm member @m is: ready (its template's identity matches and it
 * is paused, or shut off with a managed save image), stale, or on a host
 * that does not answer (left alone). Its tag is read again: @m may come
 * from a view read before a take or a return changed it. @ids caches each
 * host's identity. */
static warm_class classify(vs_ops_ctx *w, const vs_member *m, GHashTable *ids)
{
	vs_virt *host = m->warm && !m->lost ? vs_ops_host(w, m->host_uri) : NULL;
	g_autoptr(virConnect) c = NULL;
	g_autoptr(virDomain) d = NULL;
	g_autofree char *tag_pool = NULL, *tag_address = NULL, *tag_template = NULL;
	bool warm = false;
	const char *id;
	int state, reason;

	if (!host)
		return m->warm && !m->lost ? WARM_SILENT : WARM_NONE;
	c = vs_virt_get(host, NULL, NULL);
	if (!c)
		return WARM_SILENT;
	d = virDomainLookupByName(c, m->name);
	if (!d || virDomainGetState(d, &state, &reason, 0) < 0) {
		virErrorPtr e = virGetLastError();
		bool gone = !d && e && e->code == VIR_ERR_NO_DOMAIN;

		virResetLastError();
		return gone ? WARM_NONE : WARM_SILENT;
	}
	if (!vs_domain_tag_full(d, &tag_pool, &tag_address, &tag_template, &warm) || !warm)
		return WARM_NONE; /* taken since, or no longer ours */
	if (!g_hash_table_contains(ids, m->host_uri))
		g_hash_table_insert(ids, g_strdup(m->host_uri), template_identity(w, c));
	id = g_hash_table_lookup(ids, m->host_uri);
	if (!id)
		return WARM_SILENT; /* no template to compare with: keep what there is */
	if (g_strcmp0(id, tag_template) != 0)
		return WARM_STALE;
	if (state == VIR_DOMAIN_PAUSED)
		return WARM_READY;
	if (state == VIR_DOMAIN_SHUTOFF && virDomainHasManagedSaveImage(d, 0) > 0)
		return WARM_READY;
	virResetLastError();
	return WARM_STALE;
}

static GHashTable *identity_cache(void)
{
	return g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
}

/**
 * vs_warm_count: see ops.h.
 */
void vs_warm_count(vs_ops_ctx *w, const vs_pool_view *v, unsigned *ready, unsigned *stale)
{
	g_autoptr(GHashTable) ids = identity_cache();

	*ready = *stale = 0;
	for (guint i = 0; v && i < v->members->len; i++) {
		warm_class k = classify(w, v->members->pdata[i], ids);

		*ready += k == WARM_READY;
		*stale += k == WARM_STALE;
	}
}

/* Room within warm_memory on @uri (@conn) for one more warm instance that
 * holds its memory: each warm instance there that is not shut off (paused,
 * or still booting to be parked) is counted at the template's maximum
 * memory. */
static bool paused_room(vs_ops_ctx *w, const vs_pool_view *v, virConnectPtr conn, const char *uri,
                        GError **error)
{
	const vs_pool_config *p = w->pool;
	g_autoptr(virDomain) tmpl = NULL;
	unsigned long kib;
	unsigned paused = 0;

	if (!p->warm_memory)
		return true;
	tmpl = virDomainLookupByName(conn, p->template_name);
	kib = tmpl ? virDomainGetMaxMemory(tmpl) : 0;
	virResetLastError();
	for (guint i = 0; v && i < v->members->len; i++) {
		const vs_member *m = v->members->pdata[i];

		paused += m->warm && !m->lost && m->state != VIR_DOMAIN_SHUTOFF &&
		          g_strcmp0(m->host_uri, uri) == 0;
	}
	if ((uint64_t)(paused + 1) * kib <= (uint64_t)p->warm_memory * 1024)
		return true;
	g_set_error(error, VS_ACT_ERROR, VS_ACT_ERROR_EXHAUSTED,
	            "warm_memory = %u MiB on %s holds %u paused instance(s) of %lu MiB",
	            p->warm_memory, uri, paused, kib / 1024);
	return false;
}

/**
 * vs_warm_wants: see ops.h.
 */
bool vs_warm_wants(vs_ops_ctx *w, const vs_pool_view *v, const vs_member *m)
{
	vs_virt *host = m && m->template_id ? vs_ops_host(w, m->host_uri) : NULL;
	g_autoptr(virConnect) c = host ? vs_virt_get(host, NULL, NULL) : NULL;
	g_autofree char *id = c ? template_identity(w, c) : NULL;
	unsigned ready, stale;

	if (!w->pool->warm || !id || g_strcmp0(id, m->template_id) != 0)
		return false;
	vs_warm_count(w, v, &ready, &stale);
	/* returned paused whatever warm_mode says: within warm_memory */
	return ready < w->pool->warm && paused_room(w, v, c, m->host_uri, NULL);
}

/**
 * vs_warm_return: see ops.h.
 */
bool vs_warm_return(vs_ops_ctx *w, virDomainPtr dom, const vs_member *m, vs_op_outcome *o,
                    GError **error)
{
	g_autofree char *tag =
	    vs_domain_tag_xml_full(w->pool->name, m->address, m->template_id, true);
	g_autoptr(GMutexLocker) locked = g_mutex_locker_new(&warm_lock);

	o->step = VS_STEP_WARM;
	/* tagged first: the suspend event makes every monitor re-read it */
	if (virDomainSetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, tag, "vs", VS_METADATA_NS,
	                         VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG) < 0) {
		vs_virt_set_error(error, "tag");
		return false;
	}
	if (virDomainSuspend(dom) < 0) {
		vs_virt_set_error(error, "suspend");
		return false;
	}
	vs_info("pool %s: %s returned to the warm pool (paused)", w->pool->name, m->name);
	return true;
}

/**
 * vs_warm_park: see ops.h. Paused, the guest keeps its memory and resumes
 * in tens of milliseconds; saved, it holds no memory and restores in about
 * a second.
 */
bool vs_warm_park(vs_ops_ctx *w, virDomainPtr dom, vs_op_outcome *o, GError **error)
{
	bool saved = w->pool->warm_mode == VS_WARM_SAVED;

	o->step = VS_STEP_WARM;
	if (saved ? virDomainManagedSave(dom, 0) < 0 : virDomainSuspend(dom) < 0) {
		vs_virt_set_error(error, saved ? "managed save" : "suspend");
		return false;
	}
	return true;
}

/**
 * vs_warm_budget_allows: see ops.h. Saved instances hold no memory.
 */
bool vs_warm_budget_allows(vs_ops_ctx *w, const vs_pool_view *v, virConnectPtr conn,
                           const char *uri, GError **error)
{
	return w->pool->warm_mode == VS_WARM_SAVED || paused_room(w, v, conn, uri, error);
}

/* A warm instance that failed on its way in: out of the balancer, removed
 * with its volumes; the journal entry stays open when that fails. */
static void roll_back(vs_ops_ctx *w, const vs_member *m, uint64_t jid, char **vols, bool lb_added)
{
	const char *spname = w->pool->storage_pool ? w->pool->storage_pool : "default";
	g_autoptr(GError) err = NULL;

	if (lb_added && m->address)
		vs_lb_remove(w->lb, m->address, NULL);
	if (!vs_destroy_instance(w, m->host_uri, m->name, spname, vols, true, &err)) {
		vs_warning("pool %s: removing warm instance %s: %s; reconcile retries",
		           w->pool->name, m->name, err ? err->message : "?");
		return;
	}
	if (!vs_journal_end(w->journal, jid, "rolled-back", &err))
		vs_warning("pool %s: %s", w->pool->name, err->message);
}

/* Steps of taking warm member @m (on @c): restored paused from its saved
 * image, its tag made a member's, resumed, probed, added to the balancer. */
static bool bring_in(vs_ops_ctx *w, virConnectPtr c, const vs_member *m, uint64_t jid,
                     bool *lb_added, vs_op_outcome *o, GError **error)
{
	const vs_pool_config *p = w->pool;
	g_autoptr(virDomain) d = virDomainLookupByName(c, m->name);
	g_autofree char *tag = vs_domain_tag_xml_full(p->name, m->address, m->template_id, false);
	int state, reason;

	o->step = VS_STEP_START;
	if (!d || virDomainGetState(d, &state, &reason, 0) < 0) {
		vs_virt_set_error(error, m->name);
		return false;
	}
	if (state == VIR_DOMAIN_SHUTOFF) {
		/* restored paused: the tag changes before the guest runs */
		if (virDomainCreateWithFlags(d, VIR_DOMAIN_START_PAUSED) < 0) {
			vs_virt_set_error(error, "restore");
			return false;
		}
		if (!vs_ops_journal_step(w, jid, "restored", o, error))
			return false;
	}
	/* a member from here on: the resume event makes every monitor
	 * re-read the tag */
	if (virDomainSetMetadata(d, VIR_DOMAIN_METADATA_ELEMENT, tag, "vs", VS_METADATA_NS,
	                         VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG) < 0) {
		vs_virt_set_error(error, "tag");
		return false;
	}
	if (virDomainResume(d) < 0) {
		vs_virt_set_error(error, "resume");
		return false;
	}
	if (!vs_ops_journal_step(w, jid, "resumed", o, error))
		return false;
	o->step = VS_STEP_PROBE;
	if (!vs_probe_wait(p, m->address, p->probe_timeout, w->stop, error))
		return false;
	if (!vs_ops_journal_step(w, jid, "probed", o, error))
		return false;
	o->step = VS_STEP_LB_ADD;
	if (!vs_lb_add(w->lb, m->address, true, error))
		return false;
	*lb_added = true;
	return true;
}

/* Takes warm member @m; false with @error (and @m removed) on failure. */
static bool take_one(vs_ops_ctx *w, const vs_member *m, vs_op_outcome *o, GError **error)
{
	const vs_pool_config *p = w->pool;
	const char *spname = p->storage_pool ? p->storage_pool : "default";
	vs_virt *host = vs_ops_host(w, m->host_uri);
	int64_t t0 = g_get_monotonic_time();
	g_autoptr(virConnect) c = NULL;
	g_autoptr(virDomain) d = NULL;
	g_auto(GStrv) vols = NULL;
	bool lb_added = false;
	uint64_t jid;

	o->step = VS_STEP_CONNECT;
	c = host ? vs_virt_get(host, NULL, error) : NULL;
	if (!c)
		return false;
	d = virDomainLookupByName(c, m->name);
	if (!d) {
		vs_virt_set_error(error, m->name);
		return false;
	}
	vols = vs_owned_volumes(c, d, spname);
	jid = vs_ops_journal_member(w, "resume", m, spname, vols, o, error);
	if (!jid)
		return false;
	if (!bring_in(w, c, m, jid, &lb_added, o, error) ||
	    !vs_journal_end(w->journal, jid, "ok", error)) {
		if (!g_error_matches(*error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			roll_back(w, m, jid, vols, lb_added);
		return false;
	}
	vs_info("pool %s: warm instance %s is serving at %s (%.0f ms)", p->name, m->name,
	        m->address, (double)(g_get_monotonic_time() - t0) / 1000);
	return true;
}

/**
 * vs_warm_take: see ops.h. Paused instances go first (they resume
 * fastest), then saved ones.
 */
int vs_warm_take(vs_ops_ctx *w, const vs_pool_view *v, vs_op_outcome *o, GError **error)
{
	g_autoptr(GHashTable) ids = identity_cache();
	g_autoptr(GMutexLocker) locked = g_mutex_locker_new(&warm_lock);

	o->action = VS_ACTION_SCALE_OUT;
	for (int pass = 0; pass < 2; pass++) {
		for (guint i = 0; i < v->members->len; i++) {
			const vs_member *m = v->members->pdata[i];

			if ((pass == 0) != (m->state == VIR_DOMAIN_PAUSED) ||
			    classify(w, m, ids) != WARM_READY || !m->address)
				continue;
			if (w->warm_taken)
				w->warm_taken(w->opaque); /* the upkeep may start now */
			if (take_one(w, m, o, error))
				return 1;
			vs_warning("pool %s: warm instance %s failed at step %s: %s; removed",
			           w->pool->name, m->name, vs_op_step_name(o->step),
			           (*error)->message);
			return -1;
		}
	}
	return 0;
}

/* Removes warm member @m (stale, or surplus: @why), journaled. */
static bool remove_stale(vs_ops_ctx *w, const vs_member *m, const char *why, vs_op_outcome *o,
                         GError **error)
{
	const char *spname = w->pool->storage_pool ? w->pool->storage_pool : "default";
	vs_virt *host = vs_ops_host(w, m->host_uri);
	g_autoptr(virConnect) c = host ? vs_virt_get(host, NULL, error) : NULL;
	g_autoptr(virDomain) d = c ? virDomainLookupByName(c, m->name) : NULL;
	g_auto(GStrv) vols = NULL;
	uint64_t jid;

	o->step = VS_STEP_UNDEFINE;
	if (!d) {
		if (error && !*error)
			vs_virt_set_error(error, m->name);
		return false;
	}
	vols = vs_owned_volumes(c, d, spname);
	jid = vs_ops_journal_member(w, "warm-remove", m, spname, vols, o, error);
	if (!jid)
		return false;
	o->step = VS_STEP_UNDEFINE;
	if (!vs_destroy_instance(w, m->host_uri, m->name, spname, vols, true, error))
		return false;
	if (!vs_journal_end(w->journal, jid, "ok", error))
		return false;
	vs_notice("pool %s: warm instance %s removed: %s", w->pool->name, m->name, why);
	return true;
}

/**
 * vs_warm_fill: see ops.h. Surplus ready instances (a member returned to
 * the warm pool while the upkeep made one, or a smaller warm) go too, the
 * highest-numbered first: names are reused lowest number first, so those
 * are the newest.
 */
bool vs_warm_fill(vs_ops_ctx *w, const vs_pool_view *v, vs_op_outcome *o, GError **error)
{
	const vs_pool_config *p = w->pool;
	g_autoptr(GHashTable) ids = identity_cache();
	g_autofree warm_class *kind = g_new0(warm_class, MAX(v->members->len, 1));
	unsigned ready = 0;
	bool ok = true;

	o->action = VS_ACTION_SCALE_OUT;
	g_mutex_lock(&warm_lock);
	for (guint i = 0; i < v->members->len; i++) {
		kind[i] = classify(w, v->members->pdata[i], ids);
		/* a silent host's may answer again: not replaced yet */
		ready += kind[i] == WARM_READY || kind[i] == WARM_SILENT;
	}
	for (guint i = 0; ok && i < v->members->len; i++)
		if (kind[i] == WARM_STALE)
			ok = remove_stale(w, v->members->pdata[i],
			                  "made from another template, or "
			                  "unusable",
			                  o, error);
	for (guint i = v->members->len; ok && ready > p->warm && i-- > 0;) {
		if (kind[i] != WARM_READY)
			continue;
		ok = remove_stale(w, v->members->pdata[i], "more than warm are ready", o, error);
		ready--;
	}
	g_mutex_unlock(&warm_lock);
	if (!ok)
		return false;
	if (ready >= p->warm || v->n_running + ready >= p->max + p->warm)
		return true;
	return vs_scale_out_clone(w, v, true, o, error);
}
