/*
 * vs-ipv4-net.h - IPv4 networks (A.B.C.D/N) and the rule for which address
 * a guest may report as its backend address.
 *
 * A guest is untrusted: whatever its agent, its DHCP lease or the ARP table
 * says becomes the place the load balancer sends public traffic to. So an
 * address is taken only when it is an ordinary unicast address (never
 * unspecified, loopback, link-local, multicast, broadcast or reserved),
 * is not one of this host's own addresses, and lies inside one of the
 * pool's networks (address_cidr, or the networks of the guest's libvirt
 * network) when any are known. Pure: no I/O.
 */
#ifndef VS_IPV4_NET_H
#define VS_IPV4_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct vs_ipv4_net {
	uint32_t addr;   /* host byte order, host bits zero */
	unsigned prefix; /* 0..32 */
} vs_ipv4_net;

/*
 * Parses "A.B.C.D/N" (dotted quad as inet_pton() reads it, N 0..32, host
 * bits zero). On error returns false with *@msg set to one phrase.
 */
bool vs_ipv4_net_parse(const char *s, vs_ipv4_net *out, char **msg);

/*
 * The network of @addr (host byte order) with @prefix, host bits cleared:
 * what libvirt's <ip address='192.168.122.1' prefix='24'/> stands for.
 */
vs_ipv4_net vs_ipv4_net_of(uint32_t addr, unsigned prefix);

/* Whether @addr (host byte order) is inside @net. */
bool vs_ipv4_net_contains(const vs_ipv4_net *net, uint32_t addr);

/* "A.B.C.D/N" into @buf (at least 19 bytes); returns @buf. */
char *vs_ipv4_net_format(const vs_ipv4_net *net, char *buf, size_t size);

/* Where a guest's address must be: the rules of one pool and host. */
typedef struct vs_guest_address_rules {
	const vs_ipv4_net *nets; /* accepted networks; none = any unicast address */
	size_t n_nets;
	const uint32_t *host; /* this host's own addresses (host byte order) */
	size_t n_host;
} vs_guest_address_rules;

/*
 * Why the guest-reported @ip may not be a backend address ("loopback",
 * "link-local", "outside the accepted networks", ...), or NULL when it may.
 */
const char *vs_guest_address_refusal(const char *ip, const vs_guest_address_rules *rules);

/*
 * The index of the first acceptable address of @ips (in the order the guest
 * listed them), or -1 when none is.
 */
int vs_guest_address_choose(const char *const *ips, size_t n, const vs_guest_address_rules *rules);

#endif
