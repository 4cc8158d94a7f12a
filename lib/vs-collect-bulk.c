/*
 * vs-collect-bulk.c - one virConnectGetAllDomainStats() record into a
 * vs_domain_stats: the state, cpu-total, balloon, vcpu, block and
 * interface groups, whichever the record carries.
 *
 * Disks and NICs are matched to the ones the domain's XML listed (by
 * target and by host interface name); a device the XML did not list yet
 * (the static data is reloaded on events only) is appended.
 */
#include "config.h"

#include <string.h>

#include "vs-collector-private.h"

static uint64_t param_u64(const virTypedParameter *p)
{
	switch (p->type) {
	case VIR_TYPED_PARAM_INT:
		return p->value.i < 0 ? 0 : (uint64_t)p->value.i;
	case VIR_TYPED_PARAM_UINT:
		return p->value.ui;
	case VIR_TYPED_PARAM_LLONG:
		return p->value.l < 0 ? 0 : (uint64_t)p->value.l;
	case VIR_TYPED_PARAM_ULLONG:
		return p->value.ul;
	case VIR_TYPED_PARAM_DOUBLE:
		return p->value.d < 0 ? 0 : (uint64_t)p->value.d;
	case VIR_TYPED_PARAM_BOOLEAN:
		return p->value.b ? 1 : 0;
	default:
		return 0;
	}
}

/* Splits "block.3.rd.bytes" (after the group prefix) into 3 and "rd.bytes". */
static bool split_index(const char *rest, unsigned *index, const char **field)
{
	char *end;
	guint64 v = g_ascii_strtoull(rest, &end, 10);

	if (end == rest || *end != '.' || v > 4096)
		return false;
	*index = (unsigned)v;
	*field = end + 1;
	return true;
}

static vs_disk_stats *disk_by_target(vs_domain_stats *d, const char *target)
{
	for (size_t i = 0; i < d->n_disks; i++)
		if (g_strcmp0(d->disks[i].target, target) == 0)
			return &d->disks[i];
	d->disks = g_renew(vs_disk_stats, d->disks, d->n_disks + 1);
	vs_disk_stats *disk = &d->disks[d->n_disks++];

	memset(disk, 0, sizeof(*disk));
	disk->target = g_strdup(target);
	return disk;
}

static vs_net_stats *net_by_ifname(vs_domain_stats *d, const char *ifname)
{
	for (size_t i = 0; i < d->n_nets; i++)
		if (g_strcmp0(d->nets[i].ifname, ifname) == 0)
			return &d->nets[i];
	d->nets = g_renew(vs_net_stats, d->nets, d->n_nets + 1);
	vs_net_stats *net = &d->nets[d->n_nets++];

	memset(net, 0, sizeof(*net));
	net->ifname = g_strdup(ifname);
	return net;
}

static void set_disk_field(vs_disk_stats *disk, const char *f, uint64_t v)
{
	static const struct {
		const char *name;
		size_t off;
	} fields[] = {
	    {"rd.reqs", G_STRUCT_OFFSET(vs_disk_stats, rd_reqs)},
	    {"rd.bytes", G_STRUCT_OFFSET(vs_disk_stats, rd_bytes)},
	    {"rd.times", G_STRUCT_OFFSET(vs_disk_stats, rd_times_ns)},
	    {"wr.reqs", G_STRUCT_OFFSET(vs_disk_stats, wr_reqs)},
	    {"wr.bytes", G_STRUCT_OFFSET(vs_disk_stats, wr_bytes)},
	    {"wr.times", G_STRUCT_OFFSET(vs_disk_stats, wr_times_ns)},
	    {"fl.reqs", G_STRUCT_OFFSET(vs_disk_stats, fl_reqs)},
	    {"fl.times", G_STRUCT_OFFSET(vs_disk_stats, fl_times_ns)},
	    {"errors", G_STRUCT_OFFSET(vs_disk_stats, errors)},
	    {"capacity", G_STRUCT_OFFSET(vs_disk_stats, capacity)},
	    {"allocation", G_STRUCT_OFFSET(vs_disk_stats, allocation)},
	    {"physical", G_STRUCT_OFFSET(vs_disk_stats, physical)},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(fields); i++)
		if (strcmp(f, fields[i].name) == 0) {
			G_STRUCT_MEMBER(uint64_t, disk, fields[i].off) = v;
			return;
		}
}

static void set_net_field(vs_net_stats *net, const char *f, uint64_t v)
{
	static const struct {
		const char *name;
		size_t off;
	} fields[] = {
	    {"rx.bytes", G_STRUCT_OFFSET(vs_net_stats, rx_bytes)},
	    {"rx.pkts", G_STRUCT_OFFSET(vs_net_stats, rx_pkts)},
	    {"rx.errs", G_STRUCT_OFFSET(vs_net_stats, rx_errs)},
	    {"rx.drop", G_STRUCT_OFFSET(vs_net_stats, rx_drop)},
	    {"tx.bytes", G_STRUCT_OFFSET(vs_net_stats, tx_bytes)},
	    {"tx.pkts", G_STRUCT_OFFSET(vs_net_stats, tx_pkts)},
	    {"tx.errs", G_STRUCT_OFFSET(vs_net_stats, tx_errs)},
	    {"tx.drop", G_STRUCT_OFFSET(vs_net_stats, tx_drop)},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(fields); i++)
		if (strcmp(f, fields[i].name) == 0) {
			G_STRUCT_MEMBER(uint64_t, net, fields[i].off) = v;
			return;
		}
}

/* The device name of "block.N." / "net.N." (libvirt sends it before the
 * counters, but we do not rely on the order). */
static const char *indexed_name(const virTypedParameter *params, int n, const char *group,
                                unsigned index)
{
	char key[VIR_TYPED_PARAM_FIELD_LENGTH];

	g_snprintf(key, sizeof(key), "%s.%u.name", group, index);
	for (int i = 0; i < n; i++)
		if (params[i].type == VIR_TYPED_PARAM_STRING && strcmp(params[i].field, key) == 0)
			return params[i].value.s;
	return NULL;
}

static void apply_vcpus(vs_domain_stats *d, const virTypedParameter *params, int n)
{
	GArray *v = g_array_new(FALSE, TRUE, sizeof(vs_vcpu_stats));
	unsigned max_index = 0;
	bool any = false;

	for (int i = 0; i < n; i++) {
		unsigned idx;
		const char *f;

		if (!g_str_has_prefix(params[i].field, "vcpu.") ||
		    !split_index(params[i].field + 5, &idx, &f))
			continue;
		if (idx >= v->len)
			g_array_set_size(v, idx + 1);
		vs_vcpu_stats *s = &g_array_index(v, vs_vcpu_stats, idx);

		if (strcmp(f, "state") == 0)
			s->state = (int)param_u64(&params[i]);
		else if (strcmp(f, "time") == 0)
			s->time_ns = param_u64(&params[i]);
		else
			continue;
		any = true;
		max_index = MAX(max_index, idx);
	}
	/* Offline vCPUs have no entries: keep only the ones that were reported. */
	GArray *out = g_array_new(FALSE, TRUE, sizeof(vs_vcpu_stats));

	for (unsigned i = 0; any && i <= max_index && i < v->len; i++) {
		char key[VIR_TYPED_PARAM_FIELD_LENGTH];
		bool present = false;

		g_snprintf(key, sizeof(key), "vcpu.%u.state", i);
		for (int j = 0; j < n && !present; j++)
			present = strcmp(params[j].field, key) == 0;
		if (present)
			g_array_append_val(out, g_array_index(v, vs_vcpu_stats, i));
	}
	g_array_free(v, TRUE);
	g_free(d->vcpus);
	d->n_vcpus = out->len;
	d->vcpus = (vs_vcpu_stats *)g_array_free(out, d->n_vcpus == 0);
}

/**
 * vs_collect_apply_record:
 * @d: the domain to update
 * @params: the record's typed parameters
 * @n: their number
 * @have_cpu: (out) set when the record carried cpu.time
 *
 * Copies every field the record carries into @d; fields of groups the
 * record does not carry keep their previous values. Marks the disks and
 * NICs as sampled when the block or interface group is present.
 */
void vs_collect_apply_record(vs_domain_stats *d, const virTypedParameter *params, int n,
                             bool *have_cpu)
{
	bool have_block = false, have_net = false, have_vcpu = false;

	*have_cpu = false;
	for (int i = 0; i < n; i++) {
		const char *k = params[i].field;
		uint64_t v = param_u64(&params[i]);

		if (strcmp(k, "state.state") == 0)
			d->state = (int)v;
		else if (strcmp(k, "state.reason") == 0)
			d->reason = (int)v;
		else if (strcmp(k, "cpu.time") == 0) {
			d->cpu_time_ns = v;
			*have_cpu = true;
		} else if (strcmp(k, "balloon.current") == 0)
			d->mem_current_kib = v;
		else if (strcmp(k, "balloon.maximum") == 0)
			d->mem_max_kib = v;
		else if (strcmp(k, "balloon.rss") == 0)
			d->mem_rss_kib = v;
		else if (strcmp(k, "balloon.usable") == 0)
			d->mem_usable_kib = v;
		else if (strcmp(k, "balloon.unused") == 0)
			d->mem_unused_kib = v;
		else if (strcmp(k, "vcpu.current") == 0) {
			d->vcpu_current = (unsigned)v;
			have_vcpu = true;
		} else if (strcmp(k, "vcpu.maximum") == 0)
			d->vcpu_max = (unsigned)v;
		else if (strcmp(k, "block.count") == 0)
			have_block = true;
		else if (strcmp(k, "net.count") == 0)
			have_net = true;
	}
	if (have_vcpu)
		apply_vcpus(d, params, n);
	if (have_block)
		for (size_t i = 0; i < d->n_disks; i++)
			d->disks[i].have_io = false;
	if (have_net)
		for (size_t i = 0; i < d->n_nets; i++)
			d->nets[i].have_io = false;
	for (int i = 0; i < n && (have_block || have_net); i++) {
		const char *k = params[i].field, *f, *name;
		unsigned idx;

		if (have_block && g_str_has_prefix(k, "block.") && split_index(k + 6, &idx, &f)) {
			name = indexed_name(params, n, "block", idx);
			if (!name || strcmp(f, "name") == 0 || strcmp(f, "path") == 0)
				continue;
			vs_disk_stats *disk = disk_by_target(d, name);

			disk->have_io = true;
			set_disk_field(disk, f, param_u64(&params[i]));
		} else if (have_net && g_str_has_prefix(k, "net.") &&
		           split_index(k + 4, &idx, &f)) {
			name = indexed_name(params, n, "net", idx);
			if (!name || strcmp(f, "name") == 0)
				continue;
			vs_net_stats *net = net_by_ifname(d, name);

			net->have_io = true;
			set_net_field(net, f, param_u64(&params[i]));
		}
	}
}
