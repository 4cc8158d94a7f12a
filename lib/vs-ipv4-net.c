/*
 * vs-ipv4-net.c - IPv4 networks and the rule for guest-reported backend
 * addresses; see vs-ipv4-net.h.
 */
#include "config.h"

#include "vs-ipv4-net.h"

#include <arpa/inet.h>
#include <glib.h>
#include <string.h>

static uint32_t mask_of(unsigned prefix)
{
	return prefix == 0 ? 0 : prefix >= 32 ? 0xffffffffu : ~(0xffffffffu >> prefix);
}

/* A dotted quad as inet_pton() reads it (no octal, hex or short forms). */
static bool parse_quad(const char *s, uint32_t *out)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return false;
	*out = ntohl(a.s_addr);
	return true;
}

/**
 * vs_ipv4_net_parse:
 * @s: "A.B.C.D/N"
 * @out: set on success
 * @msg: set on failure to one phrase (free with g_free)
 *
 * Strict: a prefix of 0..32 in plain decimal, and no host bits, so that
 * "192.168.122.1/24" (an address, not a network) is refused with the
 * network it probably meant.
 */
bool vs_ipv4_net_parse(const char *s, vs_ipv4_net *out, char **msg)
{
	const char *slash = s ? strchr(s, '/') : NULL;
	char quad[16];
	unsigned prefix = 0;
	uint32_t addr;
	size_t qlen;

	if (!slash || slash == s || !slash[1] || strlen(slash + 1) > 2) {
		*msg = g_strdup_printf("'%s' is not an IPv4 network (A.B.C.D/N)", s ? s : "");
		return false;
	}
	qlen = (size_t)(slash - s);
	for (const char *p = slash + 1; *p; p++) {
		if (!g_ascii_isdigit(*p)) {
			*msg = g_strdup_printf("'%s' is not an IPv4 network (A.B.C.D/N)", s);
			return false;
		}
		prefix = prefix * 10 + (unsigned)(*p - '0');
	}
	if (qlen >= sizeof(quad)) {
		*msg = g_strdup_printf("'%s' is not an IPv4 network (A.B.C.D/N)", s);
		return false;
	}
	memcpy(quad, s, qlen);
	quad[qlen] = '\0';
	if (!parse_quad(quad, &addr)) {
		*msg = g_strdup_printf("'%s': '%s' is not an IPv4 address", s, quad);
		return false;
	}
	if (prefix > 32 || (slash[1] == '0' && slash[2])) {
		*msg = g_strdup_printf("'%s': the prefix length must be 0..32", s);
		return false;
	}
	if (addr & ~mask_of(prefix)) {
		vs_ipv4_net net = vs_ipv4_net_of(addr, prefix);
		char buf[20];

		*msg = g_strdup_printf("'%s' has host bits set (the network is %s)", s,
		                       vs_ipv4_net_format(&net, buf, sizeof(buf)));
		return false;
	}
	out->addr = addr;
	out->prefix = prefix;
	return true;
}

/**
 * vs_ipv4_net_of:
 * @addr: an address, host byte order
 * @prefix: its prefix length (more than 32 counts as 32)
 *
 * Returns the network @addr is in.
 */
vs_ipv4_net vs_ipv4_net_of(uint32_t addr, unsigned prefix)
{
	vs_ipv4_net n;

	n.prefix = prefix > 32 ? 32 : prefix;
	n.addr = addr & mask_of(n.prefix);
	return n;
}

/**
 * vs_ipv4_net_contains:
 * @net: a network
 * @addr: an address, host byte order
 *
 * Returns whether @addr is inside @net.
 */
bool vs_ipv4_net_contains(const vs_ipv4_net *net, uint32_t addr)
{
	return (addr & mask_of(net->prefix)) == net->addr;
}

/**
 * vs_ipv4_net_format:
 * @net: a network
 * @buf: destination
 * @size: its size (19 bytes hold any network)
 *
 * Returns @buf holding "A.B.C.D/N".
 */
char *vs_ipv4_net_format(const vs_ipv4_net *net, char *buf, size_t size)
{
	g_snprintf(buf, size, "%u.%u.%u.%u/%u", net->addr >> 24, (net->addr >> 16) & 0xff,
	           (net->addr >> 8) & 0xff, net->addr & 0xff, net->prefix);
	return buf;
}

/* The addresses no guest may ever be reached at, whatever the networks. */
static const char *special_refusal(uint32_t a)
{
	if (a == 0xffffffffu)
		return "broadcast";
	if ((a >> 24) == 0)
		return "unspecified"; /* 0.0.0.0/8: "this network" */
	if ((a >> 24) == 127)
		return "loopback";
	if ((a >> 16) == 0xa9fe)
		return "link-local"; /* 169.254.0.0/16 */
	if ((a >> 28) == 0xe)
		return "multicast"; /* 224.0.0.0/4 */
	if ((a >> 28) == 0xf)
		return "reserved"; /* 240.0.0.0/4 */
	return NULL;
}

/**
 * vs_guest_address_refusal:
 * @ip: an address as the guest (or libvirt on its behalf) reported it
 * @rules: the accepted networks and this host's addresses
 *
 * Returns why @ip may not become a backend address, or NULL when it may.
 * Inside an accepted network of more than two addresses, the network's own
 * address and its broadcast address are refused too.
 */
const char *vs_guest_address_refusal(const char *ip, const vs_guest_address_rules *rules)
{
	const char *why;
	uint32_t a;

	if (!ip || !parse_quad(ip, &a))
		return "not an IPv4 address";
	why = special_refusal(a);
	if (why)
		return why;
	for (size_t i = 0; rules && i < rules->n_host; i++) {
		if (rules->host[i] == a)
			return "an address of this host";
	}
	if (!rules || rules->n_nets == 0)
		return NULL;
	for (size_t i = 0; i < rules->n_nets; i++) {
		const vs_ipv4_net *n = &rules->nets[i];

		if (!vs_ipv4_net_contains(n, a))
			continue;
		if (n->prefix <= 30 && a == n->addr)
			return "the network's own address";
		if (n->prefix <= 30 && a == (n->addr | ~mask_of(n->prefix)))
			return "the network's broadcast address";
		return NULL;
	}
	return "outside the accepted networks";
}

/**
 * vs_guest_address_choose:
 * @ips: addresses in the order the guest listed them
 * @n: how many
 * @rules: as for vs_guest_address_refusal()
 *
 * Returns the index of the first acceptable address, or -1. A guest agent
 * lists "lo" first: order alone must never pick a backend.
 */
int vs_guest_address_choose(const char *const *ips, size_t n, const vs_guest_address_rules *rules)
{
	for (size_t i = 0; i < n && i < (size_t)G_MAXINT; i++) {
		if (!vs_guest_address_refusal(ips[i], rules))
			return (int)i;
	}
	return -1;
}
