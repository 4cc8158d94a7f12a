/*
 * vs-collect-xml.c - the static part of a domain, read from its XML: OS
 * type, maximum memory and vCPUs, disks (source, type, device, read-only),
 * NICs (MAC, model, host tap name) and our metadata element.
 *
 * This changes only when the domain is defined, started or stopped, so the
 * collector parses it then, not every refresh. GMarkup is enough for the
 * well-formed XML libvirt writes; it does not know namespaces, so our
 * metadata element is recognised by its local name plus an xmlns attribute
 * equal to VS_METADATA_NS.
 */
#include "config.h"

#include <string.h>

#include "vs-collector-private.h"
#include "vs-pool.h"

typedef struct {
	vs_domain_stats *d;
	GArray *disks; /* of vs_disk_stats */
	GArray *nets;  /* of vs_net_stats */
	GSList *stack; /* element names, innermost first (not owned) */
	GString *text;
	char *unit; /* unit= of the <memory> element */
	bool in_disk, in_net;
} xml_ctx;

static const char *attr(const char **names, const char **values, const char *name)
{
	for (int i = 0; names[i]; i++)
		if (strcmp(names[i], name) == 0)
			return values[i];
	return NULL;
}

static bool parent_is(xml_ctx *x, const char *name)
{
	return x->stack && strcmp(x->stack->data, name) == 0;
}

static bool grandparent_is(xml_ctx *x, const char *name)
{
	return x->stack && x->stack->next && strcmp(x->stack->next->data, name) == 0;
}

static const char *local_name(const char *name)
{
	const char *colon = strchr(name, ':');

	return colon ? colon + 1 : name;
}

static void read_metadata(xml_ctx *x, const char **names, const char **values)
{
	bool ours = false;

	for (int i = 0; names[i]; i++)
		if ((strcmp(names[i], "xmlns") == 0 || g_str_has_prefix(names[i], "xmlns:")) &&
		    strcmp(values[i], VS_METADATA_NS) == 0)
			ours = true;
	if (!ours)
		return;
	g_free(x->d->meta_pool);
	g_free(x->d->meta_address);
	vs_domain_tag_accept(attr(names, values, "pool"), attr(names, values, "address"),
	                     &x->d->meta_pool, &x->d->meta_address);
	g_autofree char *template_id = NULL;
	vs_domain_tag_accept_warm(attr(names, values, "warm"), NULL, &x->d->meta_warm,
	                          &template_id);
}

static void read_disk_source(vs_disk_stats *disk, const char **names, const char **values)
{
	const char *src = attr(names, values, "file");

	if (!src)
		src = attr(names, values, "dev");
	if (!src)
		src = attr(names, values, "volume");
	if (!src)
		src = attr(names, values, "name");
	g_free(disk->source);
	disk->source = g_strdup(src);
}

static void start_element(GMarkupParseContext *ctx, const char *element, const char **names,
                          const char **values, gpointer data, GError **error)
{
	(void)ctx;
	(void)error;
	xml_ctx *x = data;

	g_string_truncate(x->text, 0);
	if (strcmp(element, "disk") == 0 && parent_is(x, "devices")) {
		vs_disk_stats disk = {0};

		disk.source_type = g_strdup(attr(names, values, "type"));
		disk.device = g_strdup(attr(names, values, "device"));
		if (!disk.device)
			disk.device = g_strdup("disk");
		g_array_append_val(x->disks, disk);
		x->in_disk = true;
	} else if (strcmp(element, "interface") == 0 && parent_is(x, "devices")) {
		vs_net_stats net = {0};

		g_array_append_val(x->nets, net);
		x->in_net = true;
	} else if (x->in_disk && parent_is(x, "disk")) {
		vs_disk_stats *disk = &g_array_index(x->disks, vs_disk_stats, x->disks->len - 1);

		if (strcmp(element, "source") == 0)
			read_disk_source(disk, names, values);
		else if (strcmp(element, "target") == 0) {
			g_free(disk->target);
			disk->target = g_strdup(attr(names, values, "dev"));
		} else if (strcmp(element, "driver") == 0) {
			g_free(disk->format);
			disk->format = g_strdup(attr(names, values, "type"));
		} else if (strcmp(element, "readonly") == 0)
			disk->read_only = true;
	} else if (x->in_net && parent_is(x, "interface")) {
		vs_net_stats *net = &g_array_index(x->nets, vs_net_stats, x->nets->len - 1);

		if (strcmp(element, "mac") == 0) {
			g_free(net->mac);
			net->mac = g_strdup(attr(names, values, "address"));
		} else if (strcmp(element, "target") == 0) {
			g_free(net->ifname);
			net->ifname = g_strdup(attr(names, values, "dev"));
		} else if (strcmp(element, "model") == 0) {
			g_free(net->model);
			net->model = g_strdup(attr(names, values, "type"));
		}
	} else if (strcmp(element, "memory") == 0 && parent_is(x, "domain")) {
		g_free(x->unit);
		x->unit = g_strdup(attr(names, values, "unit"));
	} else if (strcmp(element, "vcpu") == 0 && parent_is(x, "domain")) {
		const char *cur = attr(names, values, "current");

		x->d->vcpu_current = cur ? (unsigned)g_ascii_strtoull(cur, NULL, 10) : 0;
	} else if (parent_is(x, "metadata") && grandparent_is(x, "domain") &&
	           strcmp(local_name(element), VS_METADATA_KEY) == 0) {
		read_metadata(x, names, values);
	}
	x->stack = g_slist_prepend(x->stack, (gpointer)element);
}

static uint64_t to_kib(uint64_t v, const char *unit)
{
	if (!unit || g_ascii_strcasecmp(unit, "KiB") == 0 || g_ascii_strcasecmp(unit, "k") == 0)
		return v;
	if (g_ascii_strcasecmp(unit, "MiB") == 0 || g_ascii_strcasecmp(unit, "M") == 0)
		return v * 1024;
	if (g_ascii_strcasecmp(unit, "GiB") == 0 || g_ascii_strcasecmp(unit, "G") == 0)
		return v * 1024 * 1024;
	if (g_ascii_strcasecmp(unit, "b") == 0 || g_ascii_strcasecmp(unit, "bytes") == 0)
		return v / 1024;
	return v;
}

static void end_element(GMarkupParseContext *ctx, const char *element, gpointer data,
                        GError **error)
{
	(void)ctx;
	(void)error;
	xml_ctx *x = data;

	x->stack = g_slist_delete_link(x->stack, x->stack);
	if (strcmp(element, "disk") == 0 && parent_is(x, "devices"))
		x->in_disk = false;
	else if (strcmp(element, "interface") == 0 && parent_is(x, "devices"))
		x->in_net = false;
	else if (strcmp(element, "type") == 0 && parent_is(x, "os") &&
	         grandparent_is(x, "domain")) {
		g_free(x->d->os_type);
		x->d->os_type = g_strstrip(g_strdup(x->text->str));
	} else if (strcmp(element, "memory") == 0 && parent_is(x, "domain"))
		x->d->mem_max_kib = to_kib(g_ascii_strtoull(x->text->str, NULL, 10), x->unit);
	else if (strcmp(element, "vcpu") == 0 && parent_is(x, "domain")) {
		x->d->vcpu_max = (unsigned)g_ascii_strtoull(x->text->str, NULL, 10);
		if (!x->d->vcpu_current)
			x->d->vcpu_current = x->d->vcpu_max;
	}
	g_string_truncate(x->text, 0);
}

static void text(GMarkupParseContext *ctx, const char *t, gsize len, gpointer data, GError **error)
{
	(void)ctx;
	(void)error;
	xml_ctx *x = data;

	if (x->text->len < 256) /* only short values (numbers, "hvm") are read */
		g_string_append_len(x->text, t, (gssize)len);
}

/* Keeps the counters of devices that were already known, so a reload of
 * the static data (after an event) leaves no gap in the I/O figures. */
static void carry_disk_counters(vs_disk_stats *nd, const vs_disk_stats *old, size_t n_old)
{
	for (size_t i = 0; i < n_old; i++) {
		if (g_strcmp0(old[i].target, nd->target) != 0)
			continue;
		char *t = nd->target, *s = nd->source, *st = nd->source_type, *dv = nd->device;
		char *fmt = nd->format;
		bool ro = nd->read_only;

		*nd = old[i];
		nd->target = t;
		nd->source = s;
		nd->source_type = st;
		nd->device = dv;
		nd->format = fmt;
		nd->read_only = ro;
		return;
	}
}

static void carry_net_counters(vs_net_stats *nn, const vs_net_stats *old, size_t n_old)
{
	for (size_t i = 0; i < n_old; i++) {
		if (!nn->mac || g_strcmp0(old[i].mac, nn->mac) != 0)
			continue;
		char *ifn = nn->ifname, *mac = nn->mac, *model = nn->model;

		*nn = old[i];
		nn->ifname = ifn;
		nn->mac = mac;
		nn->model = model;
		return;
	}
}

static void free_disks(vs_disk_stats *disks, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		g_free(disks[i].target);
		g_free(disks[i].source);
		g_free(disks[i].source_type);
		g_free(disks[i].device);
		g_free(disks[i].format);
	}
	g_free(disks);
}

static void free_nets(vs_net_stats *nets, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		g_free(nets[i].ifname);
		g_free(nets[i].mac);
		g_free(nets[i].model);
	}
	g_free(nets);
}

/**
 * vs_collect_parse_domain_xml:
 * @d: the domain to fill
 * @xml: its XML (virDomainGetXMLDesc)
 * @error: set when the XML is malformed
 *
 * Replaces @d's static fields (os_type, mem_max_kib, vcpu_max and
 * vcpu_current, the disk and NIC lists, meta_pool, meta_address) with what
 * @xml says, keeping the I/O counters of devices that stay. On error @d
 * is unchanged.
 */
bool vs_collect_parse_domain_xml(vs_domain_stats *d, const char *xml, GError **error)
{
	static const GMarkupParser parser = {start_element, end_element, text, NULL, NULL};
	vs_domain_stats tmp = *d;
	xml_ctx x = {
	    .d = &tmp,
	    .disks = g_array_new(FALSE, TRUE, sizeof(vs_disk_stats)),
	    .nets = g_array_new(FALSE, TRUE, sizeof(vs_net_stats)),
	    .text = g_string_new(NULL),
	};

	tmp.os_type = NULL;
	tmp.meta_pool = NULL;
	tmp.meta_address = NULL;
	tmp.meta_warm = false;
	tmp.vcpu_current = 0;
	GMarkupParseContext *ctx = g_markup_parse_context_new(&parser, 0, &x, NULL);
	bool ok = g_markup_parse_context_parse(ctx, xml, -1, error) &&
	          g_markup_parse_context_end_parse(ctx, error);

	g_markup_parse_context_free(ctx);
	g_slist_free(x.stack);
	g_string_free(x.text, TRUE);
	g_free(x.unit);
	size_t n_disks = x.disks->len, n_nets = x.nets->len;
	vs_disk_stats *disks = (vs_disk_stats *)g_array_free(x.disks, FALSE);
	vs_net_stats *nets = (vs_net_stats *)g_array_free(x.nets, FALSE);

	if (!ok) {
		free_disks(disks, n_disks);
		free_nets(nets, n_nets);
		g_free(tmp.os_type);
		g_free(tmp.meta_pool);
		g_free(tmp.meta_address);
		return false;
	}
	for (size_t i = 0; i < n_disks; i++)
		carry_disk_counters(&disks[i], d->disks, d->n_disks);
	for (size_t i = 0; i < n_nets; i++)
		carry_net_counters(&nets[i], d->nets, d->n_nets);
	free_disks(d->disks, d->n_disks);
	free_nets(d->nets, d->n_nets);
	g_free(d->os_type);
	g_free(d->meta_pool);
	g_free(d->meta_address);
	d->os_type = tmp.os_type;
	d->meta_pool = tmp.meta_pool;
	d->meta_address = tmp.meta_address;
	d->meta_warm = tmp.meta_warm;
	d->mem_max_kib = tmp.mem_max_kib;
	d->vcpu_max = tmp.vcpu_max;
	d->vcpu_current = tmp.vcpu_current;
	d->disks = n_disks ? disks : (g_free(disks), NULL);
	d->n_disks = n_disks;
	d->nets = n_nets ? nets : (g_free(nets), NULL);
	d->n_nets = n_nets;
	return true;
}
