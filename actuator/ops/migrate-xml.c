/*
 * migrate-xml.c - the domain XML a migrating member gets on its
 * destination: its own port forward on the destination's hostfwd_address
 * (two QEMUs cannot listen on one port), our tag naming that address, and
 * the destination's cgroup partition. Pure (libxml2 only).
 */
#include "config.h"

#include "act-error.h"
#include "clone-xml.h"
#include "migrate-xml.h"
#include "vs-domain.h"
#include "xml-node.h"

#include <libxml/parser.h>
#include <string.h>

/* Our tag element in <metadata>, or NULL. */
static xmlNodePtr find_tag(xmlNodePtr root)
{
	xmlNodePtr md = vs_xml_child(root, "metadata");

	for (xmlNodePtr c = md ? md->children : NULL; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE && c->ns &&
		    xmlStrEqual(c->ns->href, BAD_CAST VS_METADATA_NS) &&
		    xmlStrEqual(c->name, BAD_CAST VS_METADATA_KEY))
			return c;
	return NULL;
}

static void set_partition(xmlNodePtr root, const char *partition)
{
	xmlNodePtr res = vs_xml_child(root, "resource");
	xmlNodePtr part;

	if (!res) {
		res = xmlNewNode(NULL, BAD_CAST "resource");
		xmlAddChild(root, res);
	}
	part = vs_xml_child(res, "partition");
	if (!part)
		part = xmlNewChild(res, NULL, BAD_CAST "partition", NULL);
	xmlNodeSetContent(part, BAD_CAST partition);
}

/**
 * vs_migrate_xml: see migrate-xml.h.
 */
char *vs_migrate_xml(const char *xml, const char *address, const char *partition,
                     const vs_pool_config *cfg, GError **error)
{
	xmlDocPtr doc =
	    xml ? xmlReadMemory(xml, (int)strlen(xml), "domain.xml", NULL,
	                        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)
	        : NULL;
	xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
	xmlNodePtr tag;
	xmlChar *buf = NULL;
	int len = 0;
	char *out;

	if (!root || !xmlStrEqual(root->name, BAD_CAST "domain")) {
		g_set_error(error, VS_ACT_ERROR, VS_ACT_ERROR_INVALID, "unreadable domain XML");
		if (doc)
			xmlFreeDoc(doc);
		return NULL;
	}
	tag = find_tag(root);
	if (!tag) {
		g_set_error(error, VS_ACT_ERROR, VS_ACT_ERROR_INVALID,
		            "the domain carries no virtscale tag");
		xmlFreeDoc(doc);
		return NULL;
	}
	if (address) {
		xmlSetProp(tag, BAD_CAST "address", BAD_CAST address);
		if (cfg->address == VS_ADDRESS_HOSTFWD)
			vs_clone_xml_set_hostfwd(doc, root, address, cfg);
	}
	if (partition)
		set_partition(root, partition);
	xmlDocDumpFormatMemory(doc, &buf, &len, 1);
	out = g_strndup((const char *)buf, (gsize)len);
	xmlFree(buf);
	xmlFreeDoc(doc);
	return out;
}
