/*
 * test-ipv4-net.c - IPv4 networks (A.B.C.D/N) and the rule for the address
 * a guest reports: never loopback, link-local, multicast, broadcast,
 * unspecified or one of this host's, only inside the accepted networks, and
 * the first good one whatever the guest lists before it.
 */
#include "config.h"

#include "vs-ipv4-net.h"

#include "testutil.h"

#include <arpa/inet.h>
#include <glib.h>
#include <string.h>

static vs_ipv4_net net(const char *s)
{
	vs_ipv4_net n = {0};
	g_autofree char *msg = NULL;

	ck_assert_msg(vs_ipv4_net_parse(s, &n, &msg), "%s: %s", s, msg ? msg : "?");
	return n;
}

static uint32_t ip(const char *s)
{
	struct in_addr a;

	ck_assert(inet_pton(AF_INET, s, &a) == 1);
	return ntohl(a.s_addr);
}

static void parse_fails(const char *s, const char *want)
{
	vs_ipv4_net n;
	g_autofree char *msg = NULL;

	ck_assert_msg(!vs_ipv4_net_parse(s, &n, &msg), "accepted '%s'", s);
	ck_assert_msg(msg && strstr(msg, want), "'%s': got '%s', want '%s'", s, msg ? msg : "",
	              want);
}

START_TEST(parses_networks_strictly)
{
	char buf[20];
	vs_ipv4_net n = net("192.168.122.0/24");

	ck_assert_uint_eq(n.addr, 0xc0a87a00u);
	ck_assert_uint_eq(n.prefix, 24);
	ck_assert_str_eq(vs_ipv4_net_format(&n, buf, sizeof(buf)), "192.168.122.0/24");
	n = net("0.0.0.0/0");
	ck_assert_uint_eq(n.prefix, 0);
	n = net("10.1.2.3/32");
	ck_assert_str_eq(vs_ipv4_net_format(&n, buf, sizeof(buf)), "10.1.2.3/32");
	parse_fails("192.168.122.1/24", "host bits set (the network is 192.168.122.0/24)");
	parse_fails("10.0.0.0/33", "0..32");
	parse_fails("10.0.0.0/08", "0..32");
	parse_fails("10.0.0.0", "not an IPv4 network");
	parse_fails("10.0.0.0/", "not an IPv4 network");
	parse_fails("/8", "not an IPv4 network");
	parse_fails("10.0.0.0/8x", "not an IPv4 network");
	parse_fails("10.0.0.0/-1", "not an IPv4 network");
	parse_fails("10.0.0.0/100", "not an IPv4 network");
	parse_fails("10/8", "not an IPv4 address");
	parse_fails("0x0a.0.0.0/8", "not an IPv4 address");
	parse_fails("fd00::/8", "not an IPv4 address");
	parse_fails("10.0.0.0.0.0.0.0.0/8", "not an IPv4");
	parse_fails("", "not an IPv4 network");
}
END_TEST

START_TEST(network_of_and_contains)
{
	vs_ipv4_net n = vs_ipv4_net_of(ip("192.168.122.1"), 24);
	vs_ipv4_net all = net("0.0.0.0/0");
	vs_ipv4_net one = net("10.0.0.7/32");

	ck_assert_uint_eq(n.addr, ip("192.168.122.0"));
	ck_assert(vs_ipv4_net_contains(&n, ip("192.168.122.254")));
	ck_assert(!vs_ipv4_net_contains(&n, ip("192.168.123.1")));
	ck_assert(vs_ipv4_net_contains(&all, ip("203.0.113.9")));
	ck_assert(vs_ipv4_net_contains(&one, ip("10.0.0.7")));
	ck_assert(!vs_ipv4_net_contains(&one, ip("10.0.0.6")));
	ck_assert_uint_eq(vs_ipv4_net_of(ip("1.2.3.4"), 40).prefix, 32);
}
END_TEST

static const char *refusal(const char *addr, const vs_guest_address_rules *r)
{
	return vs_guest_address_refusal(addr, r);
}

START_TEST(never_the_special_addresses)
{
	/* no networks known: only the fixed rules apply, and they always do */
	vs_guest_address_rules none = {0};
	vs_ipv4_net any = net("0.0.0.0/0");
	vs_guest_address_rules wide = {.nets = &any, .n_nets = 1};
	const vs_guest_address_rules *both[] = {&none, &wide};

	for (size_t i = 0; i < G_N_ELEMENTS(both); i++) {
		const vs_guest_address_rules *r = both[i];

		ck_assert_str_eq(refusal("127.0.0.1", r), "loopback");
		ck_assert_str_eq(refusal("127.8.9.10", r), "loopback");
		ck_assert_str_eq(refusal("169.254.0.1", r), "link-local");
		ck_assert_str_eq(refusal("169.254.169.254", r), "link-local");
		ck_assert_str_eq(refusal("224.0.0.1", r), "multicast");
		ck_assert_str_eq(refusal("239.255.255.250", r), "multicast");
		ck_assert_str_eq(refusal("255.255.255.255", r), "broadcast");
		ck_assert_str_eq(refusal("0.0.0.0", r), "unspecified");
		ck_assert_str_eq(refusal("0.1.2.3", r), "unspecified");
		ck_assert_str_eq(refusal("240.0.0.1", r), "reserved");
		ck_assert_str_eq(refusal("::1", r), "not an IPv4 address");
		ck_assert_str_eq(refusal("127.1", r), "not an IPv4 address");
		ck_assert_str_eq(refusal("", r), "not an IPv4 address");
		ck_assert_str_eq(refusal(NULL, r), "not an IPv4 address");
		ck_assert_ptr_null(refusal("192.168.122.50", r));
		ck_assert_ptr_null(refusal("10.0.0.5", r));
		ck_assert_ptr_null(refusal("169.253.255.255", r)); /* just below 169.254/16 */
		ck_assert_ptr_null(refusal("223.255.255.254", r)); /* just below 224/4 */
	}
}
END_TEST

START_TEST(only_inside_the_accepted_networks)
{
	vs_ipv4_net nets[] = {net("192.168.122.0/24"), net("10.20.0.0/16")};
	uint32_t host[] = {ip("192.168.122.1"), ip("10.20.0.1")};
	vs_guest_address_rules r = {.nets = nets, .n_nets = 2, .host = host, .n_host = 2};

	ck_assert_ptr_null(refusal("192.168.122.2", &r));
	ck_assert_ptr_null(refusal("192.168.122.254", &r));
	ck_assert_ptr_null(refusal("10.20.255.1", &r));
	ck_assert_str_eq(refusal("192.168.123.2", &r), "outside the accepted networks");
	ck_assert_str_eq(refusal("10.21.0.1", &r), "outside the accepted networks");
	ck_assert_str_eq(refusal("8.8.8.8", &r), "outside the accepted networks");
	/* the host's own address on the network: traffic would go to the host */
	ck_assert_str_eq(refusal("192.168.122.1", &r), "an address of this host");
	ck_assert_str_eq(refusal("10.20.0.1", &r), "an address of this host");
	ck_assert_str_eq(refusal("192.168.122.0", &r), "the network's own address");
	ck_assert_str_eq(refusal("192.168.122.255", &r), "the network's broadcast address");
	/* the fixed rules win over a network that covers them */
	vs_ipv4_net lo = net("127.0.0.0/8");
	vs_guest_address_rules rlo = {.nets = &lo, .n_nets = 1};
	ck_assert_str_eq(refusal("127.0.0.2", &rlo), "loopback");
	/* a /31 or /32 has no network or broadcast address to refuse */
	vs_ipv4_net p2p = net("10.9.9.8/31");
	vs_guest_address_rules r31 = {.nets = &p2p, .n_nets = 1};
	ck_assert_ptr_null(refusal("10.9.9.8", &r31));
	ck_assert_ptr_null(refusal("10.9.9.9", &r31));
}
END_TEST

START_TEST(first_good_address_whatever_comes_first)
{
	vs_ipv4_net nets[] = {net("192.168.122.0/24")};
	vs_guest_address_rules r = {.nets = nets, .n_nets = 1};
	vs_guest_address_rules none = {0};
	/* a guest agent's order: lo first, then the interface that matters */
	const char *agent[] = {"127.0.0.1", "192.168.122.57"};
	const char *hostile[] = {"127.0.0.1", "169.254.1.1", "224.0.0.251",  "255.255.255.255",
	                         "0.0.0.0",   "10.0.0.9",    "192.168.122.9"};
	const char *bad[] = {"127.0.0.1", "169.254.1.1", "10.0.0.9"};

	ck_assert_int_eq(vs_guest_address_choose(agent, G_N_ELEMENTS(agent), &r), 1);
	ck_assert_int_eq(vs_guest_address_choose(agent, G_N_ELEMENTS(agent), &none), 1);
	ck_assert_int_eq(vs_guest_address_choose(hostile, G_N_ELEMENTS(hostile), &r), 6);
	/* without networks the first unicast address is good enough */
	ck_assert_int_eq(vs_guest_address_choose(hostile, G_N_ELEMENTS(hostile), &none), 5);
	ck_assert_int_eq(vs_guest_address_choose(bad, G_N_ELEMENTS(bad), &r), -1);
	ck_assert_int_eq(vs_guest_address_choose(bad, 2, &none), -1);
	ck_assert_int_eq(vs_guest_address_choose(NULL, 0, &r), -1);
}
END_TEST

Suite *vs_test_suite(void)
{
	Suite *s = suite_create("ipv4-net");
	TCase *tc = tcase_create("ipv4-net");

	tcase_add_test(tc, parses_networks_strictly);
	tcase_add_test(tc, network_of_and_contains);
	tcase_add_test(tc, never_the_special_addresses);
	tcase_add_test(tc, only_inside_the_accepted_networks);
	tcase_add_test(tc, first_good_address_whatever_comes_first);
	suite_add_tcase(s, tc);
	return s;
}
