/*
 * clone-xml.c - the clone's domain XML from the template's, as virt-clone
 * makes it: a new name, no UUID (libvirt generates one), no MAC addresses
 * (libvirt generates new ones), no host tap names (a stale "vnet3" would
 * collide), disks pointing at the clone's own volumes, our metadata tag,
 * and with address = hostfwd the clone's own host port in the user-mode
 * network's hostfwd rule.
 */
#include "config.h"

#include "act-error.h"
#include "clone-xml.h"
#include "vs-domain.h"
#include "xml-node.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <string.h>

#define QEMU_NS "http://libvirt.org/schemas/domain/qemu/1.0"

/** vs_clone_disk_free: frees a disk description. */
void vs_clone_disk_free(vs_clone_disk *d)
{
	if (!d)
		return;
	g_free(d->target);
	g_free(d->src_path);
	g_free(d->src_format);
	g_free(d->new_path);
	g_free(d->new_format);
	g_free(d);
}

static xmlDocPtr parse_xml(const char *xml, GError **error)
{
	xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), "domain.xml", NULL,
	                              XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc)
		g_set_error(error, VS_ACT_ERROR, VS_ACT_ERROR_INVALID,
		            "cannot parse the template's XML");
	return doc;
}

static void remove_children(xmlNodePtr n, const char *name)
{
	xmlNodePtr c;
	while ((c = vs_xml_child(n, name))) {
		xmlUnlinkNode(c);
		xmlFreeNode(c);
	}
}

/* The writable disks that get a volume of their own; CD-ROMs and
 * read-only/shareable disks are shared with the template as they are. */
static bool disk_is_cloned(xmlNodePtr disk)
{
	g_autofree char *device = vs_xml_prop(disk, "device");
	return (!device || g_str_equal(device, "disk")) && !vs_xml_child(disk, "readonly") &&
	       !vs_xml_child(disk, "shareable");
}

/**
 * vs_clone_xml_disks: the template's disks to clone (target, file, format).
 * Only file-backed disks are supported: a block or network disk has no
 * storage-pool volume to overlay, so the clone is refused with a reason.
 */
GPtrArray *vs_clone_xml_disks(const char *xml, GError **error)
{
	xmlDocPtr doc = parse_xml(xml, error);
	if (!doc)
		return NULL;
	GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)vs_clone_disk_free);
	xmlNodePtr devices = vs_xml_child(xmlDocGetRootElement(doc), "devices");
	for (xmlNodePtr d = devices ? devices->children : NULL; d; d = d->next) {
		if (d->type != XML_ELEMENT_NODE || !xmlStrEqual(d->name, BAD_CAST "disk") ||
		    !disk_is_cloned(d))
			continue;
		g_autofree char *type = vs_xml_prop(d, "type");
		xmlNodePtr src = vs_xml_child(d, "source");
		g_autofree char *file = vs_xml_prop(src, "file");
		if (!type || !g_str_equal(type, "file") || !file) {
			g_set_error(error, VS_ACT_ERROR, VS_ACT_ERROR_INVALID,
			            "template disk of type '%s' cannot be cloned (file disks only)",
			            type ? type : "?");
			g_ptr_array_unref(out);
			xmlFreeDoc(doc);
			return NULL;
		}
		vs_clone_disk *cd = g_new0(vs_clone_disk, 1);
		cd->target = vs_xml_prop(vs_xml_child(d, "target"), "dev");
		cd->src_path = g_steal_pointer(&file);
		cd->src_format = vs_xml_prop(vs_xml_child(d, "driver"), "type");
		if (!cd->src_format)
			cd->src_format = g_strdup("raw");
		if (!cd->target)
			cd->target = g_strdup_printf("disk%u", out->len);
		g_ptr_array_add(out, cd);
	}
	xmlFreeDoc(doc);
	return out;
}

static void add_qemu_arg(xmlNodePtr cmdline, xmlNsPtr ns, const char *value)
{
	xmlNodePtr a = xmlNewChild(cmdline, ns, BAD_CAST "arg", NULL);
	xmlSetProp(a, BAD_CAST "value", BAD_CAST value);
}

/**
 * vs_clone_xml_set_hostfwd: rewrites the host side of the first
 * "hostfwd=tcp:HOST:PORT-" rule to @address (the host's hostfwd_address
 * and the instance's port), or adds a user-mode NIC with one when the
 * domain has none.
 */
void vs_clone_xml_set_hostfwd(xmlDocPtr doc, xmlNodePtr root, const char *address,
                              const vs_pool_config *cfg)
{
	const char *colon = strrchr(address, ':');
	unsigned port = colon ? (unsigned)g_ascii_strtoull(colon + 1, NULL, 10) : 0;
	g_autofree char *ip =
	    colon ? g_strndup(address, (gsize)(colon - address)) : g_strdup("127.0.0.1");
	g_autoptr(GRegex) re = g_regex_new("hostfwd=tcp:[^:,]*:[0-9]+-", 0, 0, NULL);
	g_autofree char *repl = g_strdup_printf("hostfwd=tcp:%s:%u-", ip, port);
	for (xmlNodePtr c = root->children; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE || !xmlStrEqual(c->name, BAD_CAST "commandline") ||
		    !c->ns || !xmlStrEqual(c->ns->href, BAD_CAST QEMU_NS))
			continue;
		for (xmlNodePtr a = c->children; a; a = a->next) {
			g_autofree char *v =
			    a->type == XML_ELEMENT_NODE ? vs_xml_prop(a, "value") : NULL;
			if (!v || !g_regex_match(re, v, 0, NULL))
				continue;
			g_autofree char *nv = g_regex_replace_literal(re, v, -1, 0, repl,
			                                              G_REGEX_MATCH_DEFAULT, NULL);
			xmlSetProp(a, BAD_CAST "value", BAD_CAST nv);
			return;
		}
	}
	xmlNsPtr ns = xmlSearchNsByHref(doc, root, BAD_CAST QEMU_NS);
	if (!ns)
		ns = xmlNewNs(root, BAD_CAST QEMU_NS, BAD_CAST "qemu");
	xmlNodePtr cmd = xmlNewChild(root, ns, BAD_CAST "commandline", NULL);
	g_autofree char *netdev = g_strdup_printf("user,id=vsnet0,hostfwd=tcp:%s:%u-:%u", ip, port,
	                                          cfg->backend_port ? cfg->backend_port : 80);
	add_qemu_arg(cmd, ns, "-netdev");
	add_qemu_arg(cmd, ns, netdev);
	add_qemu_arg(cmd, ns, "-device");
	add_qemu_arg(cmd, ns, "virtio-net-pci,netdev=vsnet0,bus=pci.0,addr=0x9");
}

/* A console log named after the template would be shared by every clone:
 * name it after the clone, or drop it when it does not carry the name. */
static void rewrite_log_file(xmlNodePtr dev, const char *old_name, const char *name)
{
	xmlNodePtr log = vs_xml_child(dev, "log");
	g_autofree char *file = vs_xml_prop(log, "file");
	if (!file)
		return;
	if (old_name && *old_name && strstr(file, old_name)) {
		g_auto(GStrv) parts = g_strsplit(file, old_name, -1);
		g_autofree char *nf = g_strjoinv(name, parts);
		xmlSetProp(log, BAD_CAST "file", BAD_CAST nf);
	} else {
		xmlUnlinkNode(log);
		xmlFreeNode(log);
	}
}

/**
 * vs_clone_xml_rewrite: the clone's XML. @disks give each cloned disk's new
 * path and format (same order as vs_clone_xml_disks()).
 */
char *vs_clone_xml_rewrite(const char *xml, const char *name, const GPtrArray *disks,
                           const char *pool, const char *address, const vs_pool_config *cfg,
                           GError **error)
{
	return vs_clone_xml_rewrite_tagged(xml, name, disks, pool, address, NULL, false, cfg,
	                                   error);
}

/**
 * vs_clone_xml_rewrite_tagged: vs_clone_xml_rewrite(), the tag also naming
 * the template's identity @template_id (NULL: none) and, with @warm, the
 * clone a warm instance.
 */
char *vs_clone_xml_rewrite_tagged(const char *xml, const char *name, const GPtrArray *disks,
                                  const char *pool, const char *address, const char *template_id,
                                  bool warm, const vs_pool_config *cfg, GError **error)
{
	xmlDocPtr doc = parse_xml(xml, error);
	if (!doc)
		return NULL;
	xmlNodePtr root = xmlDocGetRootElement(doc);
	xmlNodePtr n = vs_xml_child(root, "name");
	if (!n) {
		g_set_error(error, VS_ACT_ERROR, VS_ACT_ERROR_INVALID,
		            "template XML has no <name>");
		xmlFreeDoc(doc);
		return NULL;
	}
	xmlChar *old_name = xmlNodeGetContent(n);
	xmlNodeSetContent(n, BAD_CAST name);
	remove_children(root, "uuid");
	remove_children(root, "title");

	xmlNodePtr devices = vs_xml_child(root, "devices");
	guint di = 0;
	for (xmlNodePtr d = devices ? devices->children : NULL; d; d = d->next) {
		if (d->type != XML_ELEMENT_NODE)
			continue;
		if (xmlStrEqual(d->name, BAD_CAST "disk") && disk_is_cloned(d)) {
			if (di >= disks->len)
				break;
			const vs_clone_disk *cd = disks->pdata[di++];
			xmlSetProp(vs_xml_child(d, "source"), BAD_CAST "file",
			           BAD_CAST cd->new_path);
			xmlNodePtr drv = vs_xml_child(d, "driver");
			if (!drv) {
				drv = xmlNewChild(d, NULL, BAD_CAST "driver", NULL);
				xmlSetProp(drv, BAD_CAST "name", BAD_CAST "qemu");
			}
			xmlSetProp(drv, BAD_CAST "type", BAD_CAST cd->new_format);
			remove_children(d, "backingStore");
		} else if (xmlStrEqual(d->name, BAD_CAST "interface")) {
			remove_children(d, "mac");
			remove_children(d, "target");
			remove_children(d, "alias");
		} else if (xmlStrEqual(d->name, BAD_CAST "serial") ||
		           xmlStrEqual(d->name, BAD_CAST "console")) {
			rewrite_log_file(d, (const char *)old_name, name);
		} else if (xmlStrEqual(d->name, BAD_CAST "graphics")) {
			/* a fixed VNC/SPICE port would collide between clones */
			g_autofree char *autoport = vs_xml_prop(d, "autoport");
			if (g_strcmp0(autoport, "no") == 0) {
				xmlSetProp(d, BAD_CAST "autoport", BAD_CAST "yes");
				xmlUnsetProp(d, BAD_CAST "port");
			}
		}
	}

	xmlNodePtr md = vs_xml_child(root, "metadata");
	if (!md) {
		md = xmlNewNode(NULL, BAD_CAST "metadata");
		xmlNodePtr after = vs_xml_child(root, "uuid") ? vs_xml_child(root, "uuid") : n;
		xmlAddNextSibling(after, md);
	}
	/* a template tag (should not exist) must not survive into the clone */
	for (xmlNodePtr c = md->children, next; c; c = next) {
		next = c->next;
		if (c->ns && xmlStrEqual(c->ns->href, BAD_CAST VS_METADATA_NS)) {
			xmlUnlinkNode(c);
			xmlFreeNode(c);
		}
	}
	xmlNodePtr tag = xmlNewChild(md, NULL, BAD_CAST VS_METADATA_KEY, NULL);
	xmlNsPtr vs = xmlNewNs(tag, BAD_CAST VS_METADATA_NS, BAD_CAST "vs");
	xmlSetNs(tag, vs);
	xmlSetProp(tag, BAD_CAST "pool", BAD_CAST pool);
	if (address)
		xmlSetProp(tag, BAD_CAST "address", BAD_CAST address);
	if (template_id)
		xmlSetProp(tag, BAD_CAST "template", BAD_CAST template_id);
	if (warm)
		xmlSetProp(tag, BAD_CAST "warm", BAD_CAST "yes");

	if (cfg->address == VS_ADDRESS_HOSTFWD && address)
		vs_clone_xml_set_hostfwd(doc, root, address, cfg);

	/* an SMBIOS product/serial naming the template names the clone */
	xmlNodePtr sysinfo = vs_xml_child(root, "sysinfo");
	for (xmlNodePtr sec = sysinfo ? sysinfo->children : NULL; sec; sec = sec->next)
		for (xmlNodePtr e = sec->children; e; e = e->next) {
			if (e->type != XML_ELEMENT_NODE || !xmlStrEqual(e->name, BAD_CAST "entry"))
				continue;
			xmlChar *text = xmlNodeGetContent(e);
			if (text && old_name && xmlStrEqual(text, old_name))
				xmlNodeSetContent(e, BAD_CAST name);
			xmlFree(text);
		}
	xmlFree(old_name);
	xmlChar *buf = NULL;
	int len = 0;
	xmlDocDumpFormatMemory(doc, &buf, &len, 1);
	char *out = g_strndup((const char *)buf, (gsize)len);
	xmlFree(buf);
	xmlFreeDoc(doc);
	return out;
}
