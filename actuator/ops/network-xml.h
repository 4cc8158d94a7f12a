/*
 * network-xml.h - the IPv4 networks a libvirt network's XML declares: the
 * default of address_cidr (see address.c). Pure (libxml2 only):
 * unit-tested without libvirt.
 */
#ifndef VS_NETWORK_XML_H
#define VS_NETWORK_XML_H

#include <glib.h>

/*
 * Appends to @nets (of vs_ipv4_net) the network of each IPv4 <ip> element of
 * the <network> document @xml (address with prefix= or netmask=, no family
 * or family='ipv4'), and to @host (of uint32_t, host byte order) the host's
 * own address on it. IPv6, an element without a usable address or length,
 * and XML that does not parse add nothing. Returns how many networks were
 * added.
 */
size_t vs_network_xml_ipv4(const char *xml, GArray *nets, GArray *host);

#endif
