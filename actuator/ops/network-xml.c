/*
 * network-xml.c - the IPv4 networks of a libvirt network's XML; see
 * network-xml.h.
 *
 * libvirt writes <ip address='192.168.122.1' prefix='24'/> (or netmask=):
 * the address is the host's own on the bridge, the prefix gives the network
 * a guest's address has to be in.
 */
#include "config.h"

#include "network-xml.h"

#include "vs-ipv4-net.h"
#include "xml-node.h"

#include <arpa/inet.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdlib.h>
#include <string.h>

/* The prefix length of a dotted netmask (contiguous ones only), or -1. */
static int netmask_prefix(const char *mask)
{
	struct in_addr a;
	uint32_t m;
	int n = 0;

	if (!mask || inet_pton(AF_INET, mask, &a) != 1)
		return -1;
	m = ntohl(a.s_addr);
	while (n < 32 && (m & (0x80000000u >> n)))
		n++;
	return (n < 32 && (m << n)) ? -1 : n;
}

/* prefix='N' as 0..32, or -1. */
static int prefix_length(const char *prefix)
{
	char *end;
	long v;

	if (!g_ascii_isdigit(prefix[0]))
		return -1;
	v = strtol(prefix, &end, 10);
	return (*end || v < 0 || v > 32) ? -1 : (int)v;
}

/**
 * vs_network_xml_ipv4:
 * @xml: a libvirt <network> document (virNetworkGetXMLDesc())
 * @nets: GArray of vs_ipv4_net to append to
 * @host: GArray of uint32_t to append to
 *
 * Returns the number of IPv4 networks appended; see network-xml.h.
 */
size_t vs_network_xml_ipv4(const char *xml, GArray *nets, GArray *host)
{
	xmlDocPtr doc =
	    xml ? xmlReadMemory(xml, (int)strlen(xml), "network.xml", NULL,
	                        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)
	        : NULL;
	xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
	size_t added = 0;

	if (root && !xmlStrEqual(root->name, BAD_CAST "network"))
		root = NULL;
	for (xmlNodePtr n = root ? root->children : NULL; n; n = n->next) {
		g_autofree char *family = NULL, *address = NULL, *prefix = NULL, *mask = NULL;
		struct in_addr a;
		int len;

		if (n->type != XML_ELEMENT_NODE || !xmlStrEqual(n->name, BAD_CAST "ip"))
			continue;
		family = vs_xml_prop(n, "family");
		address = vs_xml_prop(n, "address");
		prefix = vs_xml_prop(n, "prefix");
		mask = vs_xml_prop(n, "netmask");
		if ((family && strcmp(family, "ipv4") != 0) || !address ||
		    inet_pton(AF_INET, address, &a) != 1)
			continue;
		len = prefix ? prefix_length(prefix) : netmask_prefix(mask);
		if (len < 0)
			continue;
		uint32_t self = ntohl(a.s_addr);
		vs_ipv4_net net = vs_ipv4_net_of(self, (unsigned)len);
		g_array_append_val(nets, net);
		g_array_append_val(host, self);
		added++;
	}
	if (doc)
		xmlFreeDoc(doc);
	return added;
}
