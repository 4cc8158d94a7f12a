/*
 * scale-out.c - one more instance: restart one kept shut off
 * (keep_stopped), or clone the template like virt-clone does, each disk as a
 * qcow2 overlay on the template's volume (constant time, whatever the image
 * size) or as a full copy (clone = copy); define, start, wait until the
 * backend answers, then add it to the load balancer. Every step is
 * journaled first; a failure rolls the clone back.
 */
#include "config.h"

#include "clone-xml.h"
#include "ops.h"
#include "vs-log.h"
#include "vs-validate.h"

#include <libvirt/virterror.h>

/* The balancer of a pool is driven by one thread at a time; the clones of
 * a parallel scale-out (job.c) take turns for it. */
static GMutex lb_lock;

/* A clone in the making: what each step needs from the ones before. */
typedef struct clone_plan {
	vs_ops_ctx *w;
	vs_op_outcome *o;
	vs_virt *host;
	const char *uri;
	const char *storage_pool;
	virConnectPtr conn;
	virDomainPtr domain;
	char *template_xml;
	GPtrArray *disks; /* of vs_clone_disk* */
	GPtrArray *vols;  /* the clone's volume names, NULL-terminated */
	char *name;
	char *address;
	uint64_t journal_id;
	bool lb_added;
	bool warm;         /* a warm instance: parked once it answers, not in the balancer */
	char *template_id; /* the template's identity, recorded in the clone's tag */
} clone_plan;

static void clone_plan_clear(clone_plan *p)
{
	g_clear_pointer(&p->domain, virDomainFree);
	g_clear_pointer(&p->conn, virConnectClose);
	g_free(p->template_xml);
	if (p->disks)
		g_ptr_array_unref(p->disks);
	if (p->vols)
		g_ptr_array_unref(p->vols);
	g_free(p->name);
	g_free(p->address);
	g_free(p->template_id);
}

static virStorageVolPtr find_volume_by_path(virConnectPtr c, const char *path)
{
	virStorageVolPtr v = virStorageVolLookupByPath(c, path);
	if (v)
		return v;
	/* a file created behind libvirt's back: refresh the pools once */
	virStoragePoolPtr *pools = NULL;
	int n = virConnectListAllStoragePools(c, &pools, VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE);
	for (int i = 0; i < n; i++) {
		virStoragePoolRefresh(pools[i], 0);
		virStoragePoolFree(pools[i]);
	}
	free(pools);
	virResetLastError();
	return virStorageVolLookupByPath(c, path);
}

static bool volume_exists(virStoragePoolPtr sp, const char *name)
{
	g_autoptr(virStorageVol) v = virStorageVolLookupByName(sp, name);

	virResetLastError();
	return v != NULL;
}

/* A disk becomes a qcow2 overlay, or a copy in its own format. */
static bool clone_is_qcow2(const vs_pool_config *pool, const vs_clone_disk *d)
{
	return pool->clone == VS_CLONE_OVERLAY || g_strcmp0(d->src_format, "qcow2") == 0;
}

static char *volume_name(const char *domain, const vs_clone_disk *d, guint i, bool qcow2)
{
	const char *ext = qcow2 ? "qcow2" : "img";
	return i == 0 ? g_strdup_printf("%s.%s", domain, ext)
	              : g_strdup_printf("%s-%s.%s", domain, d->target, ext);
}

/* Creates the clone's volume for one disk; sets d->new_path. */
static bool create_volume(virConnectPtr c, virStoragePoolPtr sp, const vs_pool_config *pool,
                          vs_clone_disk *d, const char *vol_name, GError **error)
{
	g_autoptr(virStorageVol) src = find_volume_by_path(c, d->src_path);
	g_autoptr(virStorageVol) vol = NULL;
	g_autofree char *xml = NULL;
	virStorageVolInfo info;
	char *path;

	if (!src) {
		vs_virt_set_error(error, "template disk is not a storage-pool volume");
		return false;
	}
	if (virStorageVolGetInfo(src, &info) < 0) {
		vs_virt_set_error(error, "template volume info");
		return false;
	}
	if (pool->clone == VS_CLONE_COPY) {
		xml = g_markup_printf_escaped(
		    "<volume><name>%s</name><capacity unit='bytes'>%llu</capacity>"
		    "<target><format type='%s'/><permissions><mode>0644</mode></permissions>"
		    "</target></volume>",
		    vol_name, info.capacity, d->new_format);
		vol = virStorageVolCreateXMLFrom(sp, xml, src, 0);
	} else {
		xml = g_markup_printf_escaped(
		    "<volume><name>%s</name><capacity unit='bytes'>%llu</capacity>"
		    "<target><format type='qcow2'/><permissions><mode>0644</mode></permissions>"
		    "</target><backingStore><path>%s</path><format type='%s'/></backingStore>"
		    "</volume>",
		    vol_name, info.capacity, d->src_path, d->src_format);
		vol = virStorageVolCreateXML(sp, xml, 0);
	}
	if (!vol) {
		vs_virt_set_error(error, "create volume");
		return false;
	}
	path = virStorageVolGetPath(vol);
	d->new_path = g_strdup(path);
	free(path);
	return d->new_path != NULL;
}

/* A host that does not answer: was @name one of its domains when it last
 * answered? Unknown counts as taken, unless the host is lost and was never
 * listed (then nothing can be known of it). */
static bool name_taken_on_silent_host(vs_ops_ctx *w, size_t h, const char *name)
{
	vs_host_health *health = w->health ? w->health[h] : NULL;

	if (!health)
		return true;
	if (vs_host_health_listed(health))
		return vs_host_health_had_name(health, name);
	return !vs_host_lost(vs_host_health_down_since(health), g_get_monotonic_time(),
	                     w->cfg->host_grace);
}

/* Is @name used by a domain on any host (a silent one: its last listing)? */
static bool domain_name_taken(vs_ops_ctx *w, const char *name)
{
	for (size_t h = 0; h < w->n_hosts; h++) {
		g_autoptr(virConnect) c = vs_virt_get(w->hosts[h], NULL, NULL);
		if (!c) {
			if (name_taken_on_silent_host(w, h, name))
				return true;
			continue;
		}
		g_autoptr(virDomain) d = virDomainLookupByName(c, name);
		virResetLastError();
		if (d) {
			g_autofree char *tp = NULL, *ta = NULL;
			if (!vs_domain_tag(d, &tp, &ta))
				vs_warning("pool %s: %s exists and is not ours; skipping the name",
				           w->pool->name, name);
			return true;
		}
	}
	return false;
}

/* Step "template": its XML and disks; it must be shut off. */
static bool step_template(clone_plan *p, GError **error)
{
	const vs_pool_config *pool = p->w->pool;
	g_autoptr(virDomain) tmpl = NULL;
	int state, reason;

	p->o->step = VS_STEP_TEMPLATE;
	tmpl = virDomainLookupByName(p->conn, pool->template_name);
	if (!tmpl) {
		vs_virt_set_error(error, "template missing");
		return false;
	}
	if (virDomainGetState(tmpl, &state, &reason, 0) == 0 && state != VIR_DOMAIN_SHUTOFF) {
		g_set_error(error, VS_ACT_ERROR, VS_ACT_ERROR_STATE,
		            "template %s is not shut off: its disk would change under the clone",
		            pool->template_name);
		return false;
	}
	p->template_xml =
	    virDomainGetXMLDesc(tmpl, VIR_DOMAIN_XML_INACTIVE | VIR_DOMAIN_XML_SECURE);
	if (!p->template_xml) {
		vs_virt_set_error(error, "template XML");
		return false;
	}
	p->template_id = vs_template_identity(p->template_xml);
	p->disks = vs_clone_xml_disks(p->template_xml, error);
	return p->disks != NULL;
}

/* Step "name": the lowest number whose name and volume names are free.
 * Called with the allocation lock held. */
static bool step_name(clone_plan *p, virStoragePoolPtr sp, GError **error)
{
	const vs_pool_config *pool = p->w->pool;

	p->o->step = VS_STEP_NAME;
	for (unsigned idx = 1; idx <= 9999 && !p->name; idx++) {
		g_autofree char *cand = vs_pool_member_name(pool, idx);
		bool vol_taken = false;

		if (!cand || !vs_valid_domain_name(cand) || domain_name_taken(p->w, cand))
			continue;
		for (guint i = 0; i < p->disks->len && !vol_taken; i++) {
			vs_clone_disk *d = p->disks->pdata[i];
			g_autofree char *vn = volume_name(cand, d, i, clone_is_qcow2(pool, d));

			vol_taken = volume_exists(sp, vn);
		}
		if (!vol_taken)
			p->name = g_steal_pointer(&cand);
	}
	if (!p->name) {
		g_set_error(error, VS_ACT_ERROR, VS_ACT_ERROR_EXHAUSTED,
		            "no free name for name_pattern %s", pool->name_pattern);
		return false;
	}
	p->vols = g_ptr_array_new_with_free_func(g_free);
	for (guint i = 0; i < p->disks->len; i++) {
		vs_clone_disk *d = p->disks->pdata[i];
		bool q = clone_is_qcow2(pool, d);

		d->new_format = g_strdup(q ? "qcow2" : "raw");
		g_ptr_array_add(p->vols, volume_name(p->name, d, i, q));
	}
	g_ptr_array_add(p->vols, NULL);
	return true;
}

/* Step "journal": the clone is recorded before anything of it exists. */
static bool step_journal(clone_plan *p, GError **error)
{
	vs_journal_op op = {.op = "clone",
	                    .pool = p->w->pool->name,
	                    .name = p->name,
	                    .uri = (char *)p->uri,
	                    .vol_pool = (char *)p->storage_pool,
	                    .vols = (char **)p->vols->pdata,
	                    .address = p->address};

	p->o->step = VS_STEP_JOURNAL;
	p->journal_id = vs_journal_begin(p->w->journal, &op, error);
	return p->journal_id != 0;
}

/* Steps "volume" and "define". */
static bool step_define(clone_plan *p, virStoragePoolPtr sp, GError **error)
{
	const vs_pool_config *pool = p->w->pool;
	g_autofree char *xml = NULL;

	p->o->step = VS_STEP_VOLUME;
	for (guint i = 0; i < p->disks->len; i++)
		if (!create_volume(p->conn, sp, pool, p->disks->pdata[i], p->vols->pdata[i], error))
			return false;
	if (!vs_ops_journal_step(p->w, p->journal_id, "volumes", p->o, error))
		return false;
	p->o->step = VS_STEP_DEFINE;
	xml = vs_clone_xml_rewrite_tagged(p->template_xml, p->name, p->disks, pool->name,
	                                  p->address, p->template_id, p->warm, pool, error);
	if (!xml)
		return false;
	p->domain = virDomainDefineXML(p->conn, xml);
	if (!p->domain) {
		vs_virt_set_error(error, "define");
		return false;
	}
	if (!vs_ops_journal_step(p->w, p->journal_id, "defined", p->o, error))
		return false;
	vs_info("pool %s: %s defined", pool->name, p->name);
	return true;
}

/* Steps "start", "address", "probe", "lb-add": starts @dom, learns its
 * address unless it has one, waits for the probe, adds it to the balancer. */
static bool bring_up(vs_ops_ctx *w, virDomainPtr dom, uint64_t jid, char **address, bool *lb_added,
                     const char *template_id, bool warm, vs_op_outcome *o, GError **error)
{
	const vs_pool_config *p = w->pool;

	o->step = VS_STEP_START;
	if (virDomainCreate(dom) < 0) {
		vs_virt_set_error(error, "start");
		return false;
	}
	if (!vs_ops_journal_step(w, jid, "started", o, error))
		return false;
	vs_info("pool %s: %s started", p->name, virDomainGetName(dom));
	if (!*address) {
		g_autofree char *tag = NULL;

		o->step = VS_STEP_ADDRESS;
		*address = vs_address_from_libvirt(dom, p, p->probe_timeout, w->stop, error);
		if (!*address)
			return false;
		tag = vs_domain_tag_xml_full(p->name, *address, template_id, warm);
		virDomainSetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, tag, "vs", VS_METADATA_NS,
		                     VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG);
		virResetLastError();
	}
	o->step = VS_STEP_PROBE;
	if (!vs_probe_wait(p, *address, p->probe_timeout, w->stop, error))
		return false;
	if (!vs_ops_journal_step(w, jid, "probed", o, error))
		return false;
	if (warm)
		return vs_warm_park(w, dom, o, error);
	o->step = VS_STEP_LB_ADD;
	g_mutex_lock(&lb_lock);
	*lb_added = vs_lb_add(w->lb, *address, true, error);
	g_mutex_unlock(&lb_lock);
	return *lb_added;
}

/* keep_stopped: a member on @uri shut off by an earlier scale-in restarts
 * in the time of a boot, with no clone at all. 1 restarted, 0 none, -1
 * failed. */
static int restart_kept(vs_ops_ctx *w, const vs_pool_view *v, const char *uri, vs_op_outcome *o,
                        GError **error)
{
	for (guint i = 0; i < v->members->len; i++) {
		const vs_member *m = v->members->pdata[i];
		vs_virt *host = m->state == VIR_DOMAIN_SHUTOFF && !m->lost && !m->warm &&
		                        g_strcmp0(m->host_uri, uri) == 0
		                    ? vs_ops_host(w, m->host_uri)
		                    : NULL;
		g_autoptr(virConnect) c = NULL;
		g_autoptr(virDomain) d = NULL;
		g_autofree char *addr = NULL;
		bool lb_added = false, ok;

		if (!host)
			continue;
		o->action = VS_ACTION_RESTART;
		o->step = VS_STEP_CONNECT;
		c = vs_virt_get(host, NULL, error);
		if (!c)
			return -1;
		d = virDomainLookupByName(c, m->name);
		if (!d)
			continue;
		addr = g_strdup(m->address);
		ok = bring_up(w, d, 0, &addr, &lb_added, m->template_id, false, o, error);
		if (!ok)
			virDomainDestroy(d);
		vs_info("pool %s: restarted kept instance %s: %s", w->pool->name, m->name,
		        ok ? "ok" : "failed");
		return ok ? 1 : -1;
	}
	return 0;
}

/* A failed clone leaves nothing behind, or a journal entry reconcile
 * settles when libvirt cannot be reached now. */
static void roll_back(clone_plan *p)
{
	g_autoptr(GError) err = NULL;

	if (p->lb_added && p->address) {
		g_mutex_lock(&lb_lock);
		vs_lb_remove(p->w->lb, p->address, NULL);
		g_mutex_unlock(&lb_lock);
	}
	g_clear_pointer(&p->domain, virDomainFree);
	if (!vs_destroy_instance(p->w, p->uri, p->name, p->storage_pool, (char **)p->vols->pdata,
	                         true, &err)) {
		vs_warning("pool %s: rollback of %s incomplete (%s); reconcile retries",
		           p->w->pool->name, p->name, err ? err->message : "?");
		return;
	}
	vs_info("pool %s: %s rolled back", p->w->pool->name, p->name);
	/* unrecorded (the journal still failing), the operation stays open and
	 * the next reconcile finds nothing left of it */
	if (!vs_journal_end(p->w->journal, p->journal_id, "rolled-back", &err))
		vs_warning("pool %s: %s", p->w->pool->name, err->message);
}

/* The clone under the allocation lock: name, port, journal, volumes, define
 * (two workers never pick the same name or port). */
static bool allocate_and_define(clone_plan *p, virStoragePoolPtr sp, GError **error)
{
	bool ok;

	g_mutex_lock(p->w->alloc_lock);
	ok = step_name(p, sp, error);
	if (ok && p->w->pool->address == VS_ADDRESS_HOSTFWD) {
		p->o->step = VS_STEP_ADDRESS;
		p->address = vs_address_alloc_hostfwd(p->w, p->uri, error);
		ok = p->address != NULL;
	}
	ok = ok && step_journal(p, error);
	if (ok)
		vs_info("pool %s: cloning %s from %s on %s (%s)", p->w->pool->name, p->name,
		        p->w->pool->template_name, p->uri,
		        p->w->pool->clone == VS_CLONE_COPY ? "full copy" : "overlay");
	ok = ok && step_define(p, sp, error);
	g_mutex_unlock(p->w->alloc_lock);
	return ok;
}

/**
 * vs_scale_out_clone: one clone of the template, made a running member
 * (in the balancer) or, with @warm, a warm instance (paused or saved once
 * it answers, out of the balancer). On failure the outcome names the step
 * and everything made so far is removed again (or left journaled for
 * reconcile when libvirt cannot be reached).
 */
bool vs_scale_out_clone(vs_ops_ctx *w, const vs_pool_view *v, bool warm, vs_op_outcome *o,
                        GError **error)
{
	return vs_scale_out_clone_on(w, v, vs_placement_choose(w, v), warm, o, error);
}

/**
 * vs_scale_out_clone_on: vs_scale_out_clone() on @host (NULL: no host
 * has room, an error).
 */
bool vs_scale_out_clone_on(vs_ops_ctx *w, const vs_pool_view *v, vs_virt *host, bool warm,
                           vs_op_outcome *o, GError **error)
{
	const vs_pool_config *pool = w->pool;
	clone_plan p = {.w = w, .o = o, .warm = warm};
	g_autoptr(virStoragePool) sp = NULL;
	bool ok = false;

	o->action = VS_ACTION_SCALE_OUT;
	o->step = VS_STEP_CONNECT;
	p.host = host;
	if (!p.host) {
		g_set_error(error, VS_ACT_ERROR, VS_ACT_ERROR_NOT_FOUND,
		            pool->host_max ? "pool %s: no host answers with room below host_max"
		                           : "pool %s: no host answers",
		            pool->name);
		return false;
	}
	p.uri = vs_virt_uri(p.host);
	if (pool->keep_stopped && !warm) {
		int r = restart_kept(w, v, p.uri, o, error);
		if (r != 0)
			return r > 0;
		o->action = VS_ACTION_SCALE_OUT;
		o->step = VS_STEP_CONNECT;
	}
	p.storage_pool = pool->storage_pool ? pool->storage_pool : "default";
	p.conn = vs_virt_get(p.host, NULL, error);
	if (!p.conn)
		return false;
	if (!step_template(&p, error))
		goto out;
	if (warm && !vs_warm_budget_allows(w, v, p.conn, p.uri, error)) {
		o->step = VS_STEP_PRECHECK;
		goto out;
	}
	o->step = VS_STEP_STORAGE;
	sp = virStoragePoolLookupByName(p.conn, p.storage_pool);
	if (!sp) {
		vs_virt_set_error(error, "storage pool");
		goto out;
	}
	virStoragePoolRefresh(sp, 0);
	virResetLastError();
	if (!allocate_and_define(&p, sp, error))
		goto out;
	if (!bring_up(w, p.domain, p.journal_id, &p.address, &p.lb_added, p.template_id, warm, o,
	              error))
		goto out;
	if (!vs_journal_end(w->journal, p.journal_id, warm ? "warm" : "ok", error)) {
		/* unrecorded, a serving clone would look half-made to the next
		 * reconcile: undo it now, while we know what it is */
		o->step = VS_STEP_JOURNAL;
		g_prefix_error(error, "cannot record the finished clone %s: ", p.name);
		goto out;
	}
	if (warm)
		vs_info("pool %s: %s is warm (%s)", pool->name, p.name,
		        pool->warm_mode == VS_WARM_SAVED ? "saved" : "paused");
	else
		vs_info("pool %s: %s is serving at %s", pool->name, p.name,
		        p.address ? p.address : "-");
	ok = true;
out:
	if (!ok && p.journal_id)
		roll_back(&p);
	clone_plan_clear(&p);
	return ok;
}

/**
 * vs_scale_out: adds one running instance to the pool: a warm instance
 * when one is ready (vs_warm_take), else a new clone.
 */
bool vs_scale_out(vs_ops_ctx *w, const vs_pool_view *v, vs_op_outcome *o, GError **error)
{
	if (w->pool->warm) {
		int r = vs_warm_take(w, v, o, error);

		if (r > 0)
			return true;
		if (r < 0 && g_error_matches(*error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			return false;
		g_clear_error(error);
	}
	return vs_scale_out_clone(w, v, false, o, error);
}
