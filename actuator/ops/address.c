/*
 * address.c - where a new instance serves. With user-mode networking the
 * actuator allocates a host port (hostfwd_ports) that no tagged domain uses
 * and nothing on this host listens on: the operator's choice, taken as it
 * is. Otherwise libvirt reports the guest's address (DHCP lease, guest
 * agent, or ARP table): the guest's word, so it is taken only when
 * lib/vs-ipv4-net.c's rule allows it, inside address_cidr or, without it,
 * inside the networks of the libvirt network the guest is attached to.
 */
#include "config.h"

#include "network-xml.h"
#include "ops.h"
#include "vs-ipv4-net.h"
#include "vs-log.h"
#include "vs-validate.h"
#include "xml-node.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* At most this many refused addresses are named in the error. */
#define MAX_REFUSALS_SHOWN 8

/* Nothing listens on @ip:@port here. An address that is not this
 * machine's (a remote host's forwards) cannot be checked: free. */
static bool port_free(const char *ip, unsigned port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	if (inet_pton(AF_INET, ip, &sa.sin_addr) != 1)
		return false;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	bool ok = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 || errno == EADDRNOTAVAIL;
	close(fd);
	return ok;
}

/**
 * vs_address_alloc_hostfwd: on host @uri's hostfwd_address, the lowest port
 * of the pool's range not used by any tagged domain (running or not) and
 * bindable right now. Call with the allocation lock held until the clone
 * is defined, so two workers never pick the same port.
 */
char *vs_address_alloc_hostfwd(vs_ops_ctx *w, const char *uri, GError **error)
{
	const vs_pool_config *p = w->pool;
	const vs_host_config *hc = vs_ops_host_config(w, uri);
	const char *ip = hc && hc->hostfwd_address ? hc->hostfwd_address : "127.0.0.1";
	if (!p->hostfwd_first || p->hostfwd_last < p->hostfwd_first) {
		g_set_error(error, VS_ACT_ERROR, VS_ACT_ERROR_INVALID,
		            "pool %s: hostfwd_ports is not set", p->name);
		return NULL;
	}
	g_autoptr(GHashTable) used = vs_members_used_addresses(w);
	for (unsigned port = p->hostfwd_first; port <= p->hostfwd_last; port++) {
		g_autofree char *a = g_strdup_printf("%s:%u", ip, port);
		if (!g_hash_table_contains(used, a) && port_free(ip, port))
			return g_steal_pointer(&a);
	}
	g_set_error(error, VS_ACT_ERROR, VS_ACT_ERROR_EXHAUSTED,
	            "pool %s: no free port in hostfwd_ports %u-%u", p->name, p->hostfwd_first,
	            p->hostfwd_last);
	return NULL;
}

static xmlDocPtr parse_xml(const char *xml)
{
	if (!xml)
		return NULL;
	return xmlReadMemory(xml, (int)strlen(xml), "libvirt.xml", NULL,
	                     XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
}

/*
 * Adds the IPv4 networks of one libvirt network to @nets, and the host's
 * own address on each to @host (network-xml.c reads them).
 */
static void add_network_ips(virNetworkPtr net, GArray *nets, GArray *host)
{
	g_autofree char *xml = virNetworkGetXMLDesc(net, 0);

	vs_network_xml_ipv4(xml, nets, host);
	virResetLastError();
}

/* The libvirt network whose bridge is @bridge, or NULL. */
static virNetworkPtr network_of_bridge(virConnectPtr conn, const char *bridge)
{
	virNetworkPtr *all = NULL;
	virNetworkPtr found = NULL;
	int n = virConnectListAllNetworks(conn, &all, VIR_CONNECT_LIST_NETWORKS_ACTIVE);

	for (int i = 0; i < n; i++) {
		char *name = found ? NULL : virNetworkGetBridgeName(all[i]);

		if (name && strcmp(name, bridge) == 0) {
			found = all[i];
			all[i] = NULL;
		}
		free(name);
		if (all[i])
			virNetworkFree(all[i]);
	}
	free(all);
	virResetLastError();
	return found;
}

/*
 * The networks of the libvirt networks @dom's interfaces are on, directly
 * (<interface type='network'>) or through the network's bridge
 * (<interface type='bridge'>). Other interfaces (user-mode, direct, a
 * bridge libvirt does not manage) add nothing: then only the fixed rules
 * apply. The host's address on each network goes to @host.
 */
static void domain_networks(virDomainPtr dom, GArray *nets, GArray *host)
{
	g_autofree char *xml = virDomainGetXMLDesc(dom, 0);
	xmlDocPtr doc = parse_xml(xml);
	xmlNodePtr devices = doc ? vs_xml_child(xmlDocGetRootElement(doc), "devices") : NULL;
	virConnectPtr conn = virDomainGetConnect(dom);

	for (xmlNodePtr n = devices ? devices->children : NULL; n; n = n->next) {
		g_autofree char *type = NULL, *network = NULL, *bridge = NULL;
		xmlNodePtr source;
		virNetworkPtr net = NULL;

		if (n->type != XML_ELEMENT_NODE || !xmlStrEqual(n->name, BAD_CAST "interface"))
			continue;
		type = vs_xml_prop(n, "type");
		source = vs_xml_child(n, "source");
		network = vs_xml_prop(source, "network");
		bridge = vs_xml_prop(source, "bridge");
		if (type && strcmp(type, "network") == 0 && network)
			net = virNetworkLookupByName(conn, network);
		else if (type && strcmp(type, "bridge") == 0 && bridge)
			net = network_of_bridge(conn, bridge);
		if (net) {
			add_network_ips(net, nets, host);
			virNetworkFree(net);
		}
	}
	if (doc)
		xmlFreeDoc(doc);
	virResetLastError();
}

/* Every IPv4 address of this host's interfaces, host byte order. */
static void host_addresses(GArray *host)
{
	struct ifaddrs *ifa = NULL;

	if (getifaddrs(&ifa) != 0)
		return;
	for (struct ifaddrs *i = ifa; i; i = i->ifa_next) {
		if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET) {
			uint32_t a =
			    ntohl(((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr.s_addr);
			g_array_append_val(host, a);
		}
	}
	freeifaddrs(ifa);
}

static char *describe_networks(const vs_ipv4_net *nets, size_t n)
{
	GString *s = g_string_new(NULL);

	for (size_t i = 0; i < n; i++) {
		char buf[20];
		g_string_append_printf(s, "%s%s", i ? " " : "",
		                       vs_ipv4_net_format(&nets[i], buf, sizeof(buf)));
	}
	if (n == 0)
		g_string_append(
		    s, "any unicast address (no address_cidr, no IPv4 network known from libvirt)");
	return g_string_free(s, FALSE);
}

/* Remembers why @ip was refused, once per address, for the final error. */
static void note_refusal(GString *refused, GHashTable *seen, const char *ip, const char *why)
{
	if (g_hash_table_contains(seen, ip))
		return;
	g_hash_table_add(seen, g_strdup(ip));
	if (g_hash_table_size(seen) > MAX_REFUSALS_SHOWN) {
		if (g_hash_table_size(seen) == MAX_REFUSALS_SHOWN + 1)
			g_string_append(refused, ", ...");
		return;
	}
	g_string_append_printf(refused, "%s%s (%s)", refused->len ? ", " : "", ip, why);
}

/**
 * vs_address_from_libvirt: the first IPv4 address libvirt reports for @dom
 * from the configured source that the guest may serve at (see
 * vs_guest_address_refusal()), with the backend port; polls until
 * @timeout_s because a booting guest has no lease yet, and a guest agent
 * lists "lo" before the interface that matters. A guest that reports
 * nothing acceptable in time fails the step, naming what it reported.
 */
char *vs_address_from_libvirt(virDomainPtr dom, const vs_pool_config *pool, unsigned timeout_s,
                              GCancellable *cancel, GError **error)
{
	unsigned src = pool->address == VS_ADDRESS_AGENT ? VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT
	               : pool->address == VS_ADDRESS_ARP ? VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_ARP
	                                                 : VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE;
	g_autoptr(GArray) nets = g_array_new(FALSE, FALSE, sizeof(vs_ipv4_net));
	g_autoptr(GArray) host = g_array_new(FALSE, FALSE, sizeof(uint32_t));
	g_autoptr(GString) refused = g_string_new(NULL);
	g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autofree char *accepted = NULL;
	int64_t deadline = g_get_monotonic_time() + (int64_t)timeout_s * G_USEC_PER_SEC;

	if (pool->n_address_cidr)
		g_array_append_vals(nets, pool->address_cidr, (guint)pool->n_address_cidr);
	else
		domain_networks(dom, nets, host);
	host_addresses(host);
	vs_guest_address_rules rules = {.nets = (const vs_ipv4_net *)(void *)nets->data,
	                                .n_nets = nets->len,
	                                .host = (const uint32_t *)(void *)host->data,
	                                .n_host = host->len};
	accepted = describe_networks(rules.nets, rules.n_nets);
	do {
		virDomainInterfacePtr *ifs = NULL;
		int n = virDomainInterfaceAddresses(dom, &ifs, src, 0);
		g_autoptr(GPtrArray) ips = g_ptr_array_new_with_free_func(g_free);
		char *found = NULL;

		for (int i = 0; i < n; i++) {
			for (unsigned k = 0; k < ifs[i]->naddrs; k++) {
				const char *ip = ifs[i]->addrs[k].addr;
				if (ifs[i]->addrs[k].type == VIR_IP_ADDR_TYPE_IPV4 && ip &&
				    vs_valid_ip_literal(ip))
					g_ptr_array_add(ips, g_strdup(ip));
			}
			virDomainInterfaceFree(ifs[i]);
		}
		free(ifs);
		virResetLastError();
		int pick =
		    vs_guest_address_choose((const char *const *)ips->pdata, ips->len, &rules);
		for (int i = 0; i < (pick < 0 ? (int)ips->len : pick); i++)
			note_refusal(refused, seen, ips->pdata[i],
			             vs_guest_address_refusal(ips->pdata[i], &rules));
		if (pick >= 0)
			found =
			    g_strdup_printf("%s:%u", (char *)ips->pdata[pick], pool->backend_port);
		if (found) {
			if (refused->len)
				vs_info("pool %s: %s: took %s, refused %s", pool->name,
				        virDomainGetName(dom), (char *)ips->pdata[pick],
				        refused->str);
			return found;
		}
		if (!vs_wait_ms(cancel, 500, error))
			return NULL;
	} while (g_get_monotonic_time() < deadline);
	if (refused->len)
		g_set_error(error, VS_ACT_ERROR, VS_ACT_ERROR_TIMEOUT,
		            "no acceptable IPv4 address reported within %u s: refused %s; "
		            "accepted: %s",
		            timeout_s, refused->str, accepted);
	else
		g_set_error(error, VS_ACT_ERROR, VS_ACT_ERROR_TIMEOUT,
		            "no IPv4 address reported within %u s", timeout_s);
	return NULL;
}
