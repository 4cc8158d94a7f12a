/* vm-network-table.c - vmNetworkTable: one row per NIC of a domain */
#include "config.h"

#include "vm-tables.h"
#include "vs-snmp-oids.h"

#include <stdio.h>
#include <string.h>

/* The host's ifIndex of a network device, from sysfs (a local read that
 * never blocks on libvirt); 0 when there is none. */
static long sysfs_ifindex(const char *ifname, const char *rel)
{
	if (!ifname || !*ifname || strchr(ifname, '/') || ifname[0] == '.')
		return 0;
	g_autofree char *path = g_strdup_printf("/sys/class/net/%s/%s", ifname, rel);
	g_autofree char *text = NULL;
	long v;
	if (!g_file_get_contents(path, &text, NULL, NULL) || sscanf(text, "%ld", &v) != 1)
		return 0;
	return v > 0 && v <= G_MAXINT32 ? v : 0;
}

static size_t parse_mac(const char *mac, unsigned char out[6])
{
	unsigned v[6];
	if (!mac || sscanf(mac, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
		return 0;
	for (int i = 0; i < 6; i++)
		out[i] = (unsigned char)v[i];
	return 6;
}

/**
 * vm_network_table_add_rows:
 * vmNetworkIfIndex is the ifIndex of the guest's tap device on the host, so
 * IF-MIB's 64-bit counters line up with the row; vmNetworkParent is the
 * ifIndex of the bridge the tap is enslaved to. Both 0 when there is none
 * (user-mode NICs).
 */
void vm_network_table_add_rows(vs_mib_builder *b, const vs_domain_stats *d, oid vm_index)
{
	for (size_t i = 0; d->nets && i < d->n_nets; i++) {
		const vs_net_stats *n = &d->nets[i];
		const oid idx[] = {vm_index, i + 1};
		const oid ifindex[] = {VM_OBJECTS, VM_NETWORK, 1, 2};
		const oid parent[] = {VM_OBJECTS, VM_NETWORK, 1, 3};
		const oid model[] = {VM_OBJECTS, VM_NETWORK, 1, 4};
		const oid phys[] = {VM_OBJECTS, VM_NETWORK, 1, 5};
		unsigned char mac[6];
		size_t mac_len = parse_mac(n->mac, mac);
		vs_mib_add_int(b, ifindex, 4, idx, 2, ASN_INTEGER,
		               sysfs_ifindex(n->ifname, "ifindex"));
		vs_mib_add_int(b, parent, 4, idx, 2, ASN_INTEGER,
		               sysfs_ifindex(n->ifname, "master/ifindex"));
		vs_mib_add_string(b, model, 4, idx, 2, n->model);
		vs_mib_add(b, phys, 4, idx, 2, ASN_OCTET_STR, mac, mac_len);
	}
}
