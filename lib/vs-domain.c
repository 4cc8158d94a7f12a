/*
 * vs-domain.c - the snapshot of every domain: builders, reference counting,
 * look-ups and state names.
 *
 * A snapshot is built by one thread (the collector), then published and
 * never modified again, so any number of readers may share it without a
 * lock; the last vs_snapshot_unref() frees it.
 */
#include "config.h"

#include <libvirt/libvirt.h>
#include <string.h>

#include "vs-domain.h"

/**
 * vs_snapshot_new:
 *
 * Returns an empty snapshot with one reference. Its domains array owns its
 * vs_domain_stats and its hosts array owns its vs_host_status.
 */
vs_snapshot *vs_snapshot_new(void)
{
	vs_snapshot *s = g_new0(vs_snapshot, 1);

	s->refcount = 1;
	s->taken_mono_us = g_get_monotonic_time();
	s->taken_real_us = g_get_real_time();
	s->domains = g_ptr_array_new_with_free_func((GDestroyNotify)vs_domain_stats_free);
	s->hosts = g_ptr_array_new_with_free_func((GDestroyNotify)vs_host_status_free);
	return s;
}

/**
 * vs_snapshot_ref:
 * @s: a snapshot or NULL
 *
 * Takes one more reference (atomic: any thread). Returns @s.
 */
vs_snapshot *vs_snapshot_ref(vs_snapshot *s)
{
	if (s)
		g_atomic_int_inc(&s->refcount);
	return s;
}

/**
 * vs_snapshot_unref:
 * @s: a snapshot or NULL
 *
 * Drops one reference; the last one frees the snapshot and everything in it.
 */
void vs_snapshot_unref(vs_snapshot *s)
{
	if (!s || !g_atomic_int_dec_and_test(&s->refcount))
		return;
	g_ptr_array_unref(s->domains);
	g_ptr_array_unref(s->hosts);
	g_free(s);
}

/**
 * vs_snapshot_find_uuid:
 * @s: the snapshot
 * @uuid: 16 raw bytes
 *
 * Returns the domain with this UUID (on any host), or NULL. The pointer is
 * valid as long as the caller holds its reference to @s.
 */
const vs_domain_stats *vs_snapshot_find_uuid(const vs_snapshot *s, const unsigned char uuid[16])
{
	if (!s || !uuid)
		return NULL;
	for (guint i = 0; i < s->domains->len; i++) {
		const vs_domain_stats *d = g_ptr_array_index(s->domains, i);

		if (memcmp(d->uuid, uuid, 16) == 0)
			return d;
	}
	return NULL;
}

/**
 * vs_snapshot_find_name:
 * @s: the snapshot
 * @host_uri: the hypervisor, or NULL for the first domain of that name on
 *	any host (names are unique per host only)
 * @name: the domain name
 *
 * Returns the domain, or NULL.
 */
const vs_domain_stats *vs_snapshot_find_name(const vs_snapshot *s, const char *host_uri,
                                             const char *name)
{
	if (!s || !name)
		return NULL;
	for (guint i = 0; i < s->domains->len; i++) {
		const vs_domain_stats *d = g_ptr_array_index(s->domains, i);

		if (g_strcmp0(d->name, name) != 0)
			continue;
		if (host_uri && g_strcmp0(d->host_uri, host_uri) != 0)
			continue;
		return d;
	}
	return NULL;
}

/**
 * vs_domain_stats_new:
 *
 * Returns a zeroed domain with the "unknown" markers set: id -1 (not
 * running) and negative CPU percentages.
 */
vs_domain_stats *vs_domain_stats_new(void)
{
	vs_domain_stats *d = g_new0(vs_domain_stats, 1);

	d->id = -1;
	d->state = VIR_DOMAIN_NOSTATE;
	d->cpu_percent = -1;
	d->cpu_percent_of_vcpus = -1;
	return d;
}

/**
 * vs_domain_stats_free:
 * @d: a domain or NULL
 *
 * Frees the domain with its strings, vCPU, disk and interface arrays.
 */
void vs_domain_stats_free(vs_domain_stats *d)
{
	if (!d)
		return;
	g_free(d->host_uri);
	g_free(d->name);
	g_free(d->os_type);
	g_free(d->vcpus);
	for (size_t i = 0; i < d->n_disks; i++) {
		g_free(d->disks[i].target);
		g_free(d->disks[i].source);
		g_free(d->disks[i].source_type);
		g_free(d->disks[i].device);
		g_free(d->disks[i].format);
	}
	g_free(d->disks);
	for (size_t i = 0; i < d->n_nets; i++) {
		g_free(d->nets[i].ifname);
		g_free(d->nets[i].mac);
		g_free(d->nets[i].model);
	}
	g_free(d->nets);
	g_free(d->meta_pool);
	g_free(d->meta_address);
	g_free(d);
}

/**
 * vs_host_status_new:
 * @uri: the hypervisor URI (copied)
 *
 * Returns a host in state VS_HOST_CONNECTING with unknown idle CPU.
 */
vs_host_status *vs_host_status_new(const char *uri)
{
	vs_host_status *h = g_new0(vs_host_status, 1);

	h->uri = g_strdup(uri);
	h->state = VS_HOST_CONNECTING;
	h->host_cpu_idle_percent = -1;
	h->rtt_ms = -1;
	return h;
}

/**
 * vs_host_status_free:
 * @h: a host or NULL
 */
void vs_host_status_free(vs_host_status *h)
{
	if (!h)
		return;
	g_free(h->uri);
	g_free(h->hypervisor);
	g_free(h->hostname);
	g_free(h->last_error);
	g_free(h);
}

static const char *const domain_state_names[] = {
    [VIR_DOMAIN_NOSTATE] = "no state",     [VIR_DOMAIN_RUNNING] = "running",
    [VIR_DOMAIN_BLOCKED] = "idle",         [VIR_DOMAIN_PAUSED] = "paused",
    [VIR_DOMAIN_SHUTDOWN] = "in shutdown", [VIR_DOMAIN_SHUTOFF] = "shut off",
    [VIR_DOMAIN_CRASHED] = "crashed",      [VIR_DOMAIN_PMSUSPENDED] = "pmsuspended",
};

/**
 * vs_domain_state_name:
 * @state: a virDomainState
 *
 * Returns libvirt's name for the state as virsh prints it ("running",
 * "paused", "shut off", ...), "unknown" for anything else. Never NULL.
 */
const char *vs_domain_state_name(int state)
{
	if (state >= 0 && state < (int)G_N_ELEMENTS(domain_state_names))
		return domain_state_names[state];
	return "unknown";
}

/**
 * vs_domain_state_from_name:
 * @name: a name from vs_domain_state_name()
 *
 * Returns the virDomainState it names, VIR_DOMAIN_NOSTATE when none.
 */
int vs_domain_state_from_name(const char *name)
{
	for (int i = 0; name && i < (int)G_N_ELEMENTS(domain_state_names); i++)
		if (strcmp(domain_state_names[i], name) == 0)
			return i;
	return VIR_DOMAIN_NOSTATE;
}

/**
 * vs_domain_stats_copy:
 * @d: a domain
 *
 * Returns a deep copy of @d (strings and arrays duplicated).
 */
vs_domain_stats *vs_domain_stats_copy(const vs_domain_stats *d)
{
	vs_domain_stats *c = g_memdup2(d, sizeof(*d));

	c->host_uri = g_strdup(d->host_uri);
	c->name = g_strdup(d->name);
	c->os_type = g_strdup(d->os_type);
	c->vcpus = d->n_vcpus ? g_memdup2(d->vcpus, d->n_vcpus * sizeof(*d->vcpus)) : NULL;
	c->disks = d->n_disks ? g_memdup2(d->disks, d->n_disks * sizeof(*d->disks)) : NULL;
	for (size_t i = 0; i < d->n_disks; i++) {
		c->disks[i].target = g_strdup(d->disks[i].target);
		c->disks[i].source = g_strdup(d->disks[i].source);
		c->disks[i].source_type = g_strdup(d->disks[i].source_type);
		c->disks[i].device = g_strdup(d->disks[i].device);
		c->disks[i].format = g_strdup(d->disks[i].format);
	}
	c->nets = d->n_nets ? g_memdup2(d->nets, d->n_nets * sizeof(*d->nets)) : NULL;
	for (size_t i = 0; i < d->n_nets; i++) {
		c->nets[i].ifname = g_strdup(d->nets[i].ifname);
		c->nets[i].mac = g_strdup(d->nets[i].mac);
		c->nets[i].model = g_strdup(d->nets[i].model);
	}
	c->meta_pool = g_strdup(d->meta_pool);
	c->meta_address = g_strdup(d->meta_address);
	return c;
}

/**
 * vs_host_status_condition:
 * @h: a host's status from a snapshot, or NULL
 *
 * Returns its state as vsHostState and the collectd host values show it:
 * lost (down for host_grace) before the connection state, unknown before
 * the host was sampled.
 */
vs_host_cond vs_host_status_condition(const vs_host_status *h)
{
	if (!h)
		return VS_HOST_COND_UNKNOWN;
	if (h->lost)
		return VS_HOST_COND_LOST;
	switch (h->state) {
	case VS_HOST_CONNECTED:
		return VS_HOST_COND_CONNECTED;
	case VS_HOST_CONNECTING:
		return VS_HOST_COND_CONNECTING;
	case VS_HOST_DISCONNECTED:
		return VS_HOST_COND_DISCONNECTED;
	}
	return VS_HOST_COND_UNKNOWN;
}

/**
 * vs_host_status_copy:
 * @h: a host
 *
 * Returns a deep copy of @h.
 */
vs_host_status *vs_host_status_copy(const vs_host_status *h)
{
	vs_host_status *c = g_memdup2(h, sizeof(*h));

	c->uri = g_strdup(h->uri);
	c->hypervisor = g_strdup(h->hypervisor);
	c->hostname = g_strdup(h->hostname);
	c->last_error = g_strdup(h->last_error);
	return c;
}

/**
 * vs_uuid_format:
 * @uuid: 16 bytes
 * @out: receives the 36 characters and a NUL
 */
void vs_uuid_format(const unsigned char uuid[16], char out[VS_UUID_STRING_LEN])
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[uuid[i] >> 4];
		out[o++] = hex[uuid[i] & 15];
	}
	out[o] = '\0';
}

/**
 * vs_cpu_percent:
 * @prev_ns: cumulative CPU time of the earlier sample
 * @prev_us: its monotonic time, 0 when there is none
 * @cur_ns: cumulative CPU time now
 * @cur_us: monotonic time now
 * @vcpus: the domain's vCPUs (0 counts as 1)
 * @of_host: set to percent of one host CPU, -1 unknown
 * @of_vcpus: set to percent of all its vCPUs, -1 unknown
 *
 * Returns true when both figures are known: the CPU time used over the
 * interval actually measured, not the nominal one.
 */
bool vs_cpu_percent(uint64_t prev_ns, int64_t prev_us, uint64_t cur_ns, int64_t cur_us,
                    unsigned vcpus, double *of_host, double *of_vcpus)
{
	*of_host = *of_vcpus = -1;
	if (!prev_us || cur_us <= prev_us || cur_ns < prev_ns)
		return false;
	*of_host = (double)(cur_ns - prev_ns) / ((double)(cur_us - prev_us) * 1000.0) * 100.0;
	*of_vcpus = *of_host / (vcpus ? vcpus : 1);
	return true;
}
