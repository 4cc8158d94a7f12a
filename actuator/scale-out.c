/*
 * scale-out.c - one more instance: restart one kept shut off
 * (keep_stopped), or clone the template like virt-clone does, each disk as a
 * qcow2 overlay on the template's volume (constant time, whatever the image
 * size) or as a full copy (clone = copy); define, start, wait until the
 * backend answers, then add it to the load balancer. Every step is
 * journaled first; a failure rolls the clone back.
 */
#include "config.h"

#include "actuator.h"
#include "vs-log.h"
#include "vs-pool.h"
#include "vs-validate.h"

#include <libvirt/virterror.h>

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
	virStorageVolPtr v = virStorageVolLookupByName(sp, name);
	if (v) {
		virStorageVolFree(v);
		return true;
	}
	virResetLastError();
	return false;
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
	virStorageVolPtr src = find_volume_by_path(c, d->src_path);
	if (!src) {
		vs_set_virt_error(error, "template disk is not a storage-pool volume");
		return false;
	}
	virStorageVolInfo info;
	if (virStorageVolGetInfo(src, &info) < 0) {
		vs_set_virt_error(error, "template volume info");
		virStorageVolFree(src);
		return false;
	}
	g_autofree char *xml = NULL;
	virStorageVolPtr vol;
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
	virStorageVolFree(src);
	if (!vol) {
		vs_set_virt_error(error, "create volume");
		return false;
	}
	char *path = virStorageVolGetPath(vol);
	d->new_path = g_strdup(path);
	free(path);
	virStorageVolFree(vol);
	return d->new_path != NULL;
}

static bool domain_name_taken(vs_worker_ctx *w, const char *name)
{
	for (size_t h = 0; h < w->n_hosts; h++) {
		virConnectPtr c = vs_virt_get(w->hosts[h], NULL);
		if (!c)
			return true; /* unknown: do not risk a collision */
		virDomainPtr d = virDomainLookupByName(c, name);
		virResetLastError();
		virConnectClose(c);
		if (d) {
			g_autofree char *tp = NULL, *ta = NULL;
			if (!vs_domain_tag(d, &tp, &ta))
				vs_warning("pool %s: %s exists and is not ours; skipping the name",
				           w->pool->name, name);
			virDomainFree(d);
			return true;
		}
	}
	return false;
}

/* Starts @dom, learns its address, waits for the probe, adds it to the LB. */
static bool bring_up(vs_worker_ctx *w, virDomainPtr dom, uint64_t jid, char **address,
                     bool lb_added_out[1], char **step, GError **error)
{
	const vs_pool_config *p = w->pool;
	*step = g_strdup("start");
	if (virDomainCreate(dom) < 0) {
		vs_set_virt_error(error, "start");
		return false;
	}
	if (jid)
		vs_journal_step(w->journal, jid, "started", NULL);
	vs_info("pool %s: %s started", p->name, virDomainGetName(dom));
	if (!*address) {
		g_free(*step);
		*step = g_strdup("address");
		*address = vs_address_from_libvirt(dom, p, p->probe_timeout, w->stop, error);
		if (!*address)
			return false;
		g_autofree char *md = g_markup_printf_escaped("<virtscale pool='%s' address='%s'/>",
		                                              p->name, *address);
		virDomainSetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, md, "vs", VS_METADATA_NS,
		                     VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG);
		virResetLastError();
	}
	g_free(*step);
	*step = g_strdup("probe");
	if (!vs_probe_wait(p, *address, p->probe_timeout, w->stop, error))
		return false;
	if (jid)
		vs_journal_step(w->journal, jid, "probed", NULL);
	g_free(*step);
	*step = g_strdup("lb-add");
	if (!vs_lb_add(w->lb, *address, true, error))
		return false;
	lb_added_out[0] = true;
	return true;
}

/* keep_stopped: a member shut off by an earlier scale-in restarts in the
 * time of a boot, with no clone at all. */
static int restart_kept(vs_worker_ctx *w, GPtrArray *members, char **step, GError **error)
{
	for (guint i = 0; i < members->len; i++) {
		vs_member *m = members->pdata[i];
		if (m->state != VIR_DOMAIN_SHUTOFF)
			continue;
		for (size_t h = 0; h < w->n_hosts; h++) {
			if (g_strcmp0(vs_virt_uri(w->hosts[h]), m->uri) != 0)
				continue;
			virConnectPtr c = vs_virt_get(w->hosts[h], error);
			if (!c)
				return -1;
			virDomainPtr d = virDomainLookupByName(c, m->name);
			virConnectClose(c);
			if (!d)
				continue;
			g_autofree char *addr = g_strdup(m->address);
			bool lb_added = false;
			bool ok = bring_up(w, d, 0, &addr, &lb_added, step, error);
			if (!ok)
				virDomainDestroy(d);
			virDomainFree(d);
			vs_info("pool %s: restarted kept instance %s: %s", w->pool->name, m->name,
			        ok ? "ok" : "failed");
			return ok ? 1 : -1;
		}
	}
	return 0;
}

/**
 * vs_scale_out: adds one running instance to the pool. On failure @step
 * names the step and everything made so far is removed again (or left
 * journaled for reconcile when libvirt cannot be reached).
 */
bool vs_scale_out(vs_worker_ctx *w, GPtrArray *members, char **action, char **step, GError **error)
{
	const vs_pool_config *p = w->pool;
	if (p->keep_stopped) {
		int r = restart_kept(w, members, step, error);
		if (r != 0) {
			*action = g_strdup("restart");
			return r > 0;
		}
	}
	*action = g_strdup("scale-out");
	size_t h = vs_placement_choose(w, members);
	const char *uri = vs_virt_uri(w->hosts[h]);
	*step = g_strdup("connect");
	const char *spname = p->storage_pool ? p->storage_pool : "default";
	virConnectPtr c = vs_virt_get(w->hosts[h], error);
	if (!c)
		return false;

	bool ok = false;
	virDomainPtr tmpl = NULL, dom = NULL;
	virStoragePoolPtr sp = NULL;
	g_autofree char *xml = NULL, *name = NULL, *address = NULL, *new_xml = NULL;
	g_autoptr(GPtrArray) disks = NULL;
	g_autoptr(GPtrArray) vols = g_ptr_array_new_with_free_func(g_free);
	uint64_t jid = 0;
	bool locked = false, lb_added = false;

	g_free(*step);
	*step = g_strdup("template");
	tmpl = virDomainLookupByName(c, p->template_name);
	if (!tmpl) {
		vs_set_virt_error(error, "template missing");
		goto out;
	}
	int tstate, treason;
	if (virDomainGetState(tmpl, &tstate, &treason, 0) == 0 && tstate != VIR_DOMAIN_SHUTOFF) {
		g_set_error(error, VS_ACT_ERROR, 0,
		            "template %s is not shut off: its disk would change under the clone",
		            p->template_name);
		goto out;
	}
	xml = virDomainGetXMLDesc(tmpl, VIR_DOMAIN_XML_INACTIVE | VIR_DOMAIN_XML_SECURE);
	if (!xml) {
		vs_set_virt_error(error, "template XML");
		goto out;
	}
	disks = vs_clone_xml_disks(xml, error);
	if (!disks)
		goto out;
	g_free(*step);
	*step = g_strdup("storage");
	sp = virStoragePoolLookupByName(c, spname);
	if (!sp) {
		vs_set_virt_error(error, "storage pool");
		goto out;
	}
	virStoragePoolRefresh(sp, 0);
	virResetLastError();

	g_mutex_lock(w->alloc_lock);
	locked = true;
	g_free(*step);
	*step = g_strdup("name");
	for (unsigned idx = 1; idx <= 9999 && !name; idx++) {
		g_autofree char *cand = vs_pool_member_name(p, idx);
		if (!cand || !vs_valid_domain_name(cand) || domain_name_taken(w, cand))
			continue;
		bool vol_taken = false;
		for (guint i = 0; i < disks->len && !vol_taken; i++) {
			vs_clone_disk *d = disks->pdata[i];
			bool q =
			    p->clone == VS_CLONE_OVERLAY || g_strcmp0(d->src_format, "qcow2") == 0;
			g_autofree char *vn = volume_name(cand, d, i, q);
			vol_taken = volume_exists(sp, vn);
		}
		if (!vol_taken)
			name = g_steal_pointer(&cand);
	}
	if (!name) {
		g_set_error(error, VS_ACT_ERROR, 0, "no free name for name_pattern %s",
		            p->name_pattern);
		goto out;
	}
	for (guint i = 0; i < disks->len; i++) {
		vs_clone_disk *d = disks->pdata[i];
		bool q = p->clone == VS_CLONE_OVERLAY || g_strcmp0(d->src_format, "qcow2") == 0;
		d->new_format = g_strdup(q ? "qcow2" : "raw");
		g_ptr_array_add(vols, volume_name(name, d, i, q));
	}
	g_ptr_array_add(vols, NULL);
	if (p->address == VS_ADDRESS_HOSTFWD) {
		g_free(*step);
		*step = g_strdup("address");
		address = vs_address_alloc_hostfwd(w, error);
		if (!address)
			goto out;
	}

	vs_journal_op op = {.op = "clone",
	                    .pool = p->name,
	                    .name = name,
	                    .uri = (char *)uri,
	                    .vol_pool = (char *)spname,
	                    .vols = (char **)vols->pdata,
	                    .address = address};
	g_free(*step);
	*step = g_strdup("journal");
	jid = vs_journal_begin(w->journal, &op, error);
	if (!jid)
		goto out;
	vs_info("pool %s: cloning %s from %s on %s (%s)", p->name, name, p->template_name, uri,
	        p->clone == VS_CLONE_COPY ? "full copy" : "overlay");

	g_free(*step);
	*step = g_strdup("volume");
	for (guint i = 0; i < disks->len; i++)
		if (!create_volume(c, sp, p, disks->pdata[i], vols->pdata[i], error))
			goto out;
	vs_journal_step(w->journal, jid, "volumes", NULL);

	g_free(*step);
	*step = g_strdup("define");
	new_xml = vs_clone_xml_rewrite(xml, name, disks, p->name, address, p, error);
	if (!new_xml)
		goto out;
	dom = virDomainDefineXML(c, new_xml);
	if (!dom) {
		vs_set_virt_error(error, "define");
		goto out;
	}
	vs_journal_step(w->journal, jid, "defined", NULL);
	vs_info("pool %s: %s defined", p->name, name);
	g_mutex_unlock(w->alloc_lock);
	locked = false;

	g_free(*step);
	*step = NULL;
	if (!bring_up(w, dom, jid, &address, &lb_added, step, error))
		goto out;
	vs_journal_end(w->journal, jid, "ok", NULL);
	vs_info("pool %s: %s is serving at %s", p->name, name, address ? address : "-");
	ok = true;

out:
	if (locked)
		g_mutex_unlock(w->alloc_lock);
	if (!ok && jid) {
		g_autoptr(GError) rerr = NULL;
		if (lb_added && address)
			vs_lb_remove(w->lb, address, NULL);
		if (vs_destroy_instance(w, uri, name, spname, (char **)vols->pdata, true, &rerr))
			vs_journal_end(w->journal, jid, "rolled-back", NULL);
		else
			vs_warning("pool %s: rollback of %s incomplete (%s); reconcile retries",
			           p->name, name, rerr ? rerr->message : "?");
	}
	if (dom)
		virDomainFree(dom);
	if (tmpl)
		virDomainFree(tmpl);
	if (sp)
		virStoragePoolFree(sp);
	virConnectClose(c);
	return ok;
}
