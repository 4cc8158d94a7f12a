/*
 * address.c - where a new instance serves. With user-mode networking the
 * actuator allocates a host port (hostfwd_ports) that no tagged domain uses
 * and nothing on this host listens on; otherwise libvirt reports the guest's
 * address (DHCP lease, guest agent, or ARP table).
 */
#include "config.h"

#include "ops.h"
#include "vs-validate.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

static bool port_free_on_loopback(unsigned port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bool ok = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

/**
 * vs_address_alloc_hostfwd: the lowest port of the pool's range not used by
 * any tagged domain (running or not) and bindable right now. Call with the
 * allocation lock held until the clone is defined, so two workers never
 * pick the same port.
 */
char *vs_address_alloc_hostfwd(vs_ops_ctx *w, GError **error)
{
	const vs_pool_config *p = w->pool;
	if (!p->hostfwd_first || p->hostfwd_last < p->hostfwd_first) {
		g_set_error(error, VS_ACT_ERROR, VS_ACT_ERROR_INVALID,
		            "pool %s: hostfwd_ports is not set", p->name);
		return NULL;
	}
	g_autoptr(GHashTable) used = vs_members_used_addresses(w);
	for (unsigned port = p->hostfwd_first; port <= p->hostfwd_last; port++) {
		g_autofree char *a = g_strdup_printf("127.0.0.1:%u", port);
		if (!g_hash_table_contains(used, a) && port_free_on_loopback(port))
			return g_steal_pointer(&a);
	}
	g_set_error(error, VS_ACT_ERROR, VS_ACT_ERROR_EXHAUSTED,
	            "pool %s: no free port in hostfwd_ports %u-%u", p->name, p->hostfwd_first,
	            p->hostfwd_last);
	return NULL;
}

/**
 * vs_address_from_libvirt: the first IPv4 address libvirt reports for
 * @dom from the configured source, with the backend port; polls until
 * @timeout_s because a booting guest has no lease yet.
 */
char *vs_address_from_libvirt(virDomainPtr dom, const vs_pool_config *pool, unsigned timeout_s,
                              GCancellable *cancel, GError **error)
{
	unsigned src = pool->address == VS_ADDRESS_AGENT ? VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT
	               : pool->address == VS_ADDRESS_ARP ? VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_ARP
	                                                 : VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE;
	int64_t deadline = g_get_monotonic_time() + (int64_t)timeout_s * G_USEC_PER_SEC;
	do {
		virDomainInterfacePtr *ifs = NULL;
		int n = virDomainInterfaceAddresses(dom, &ifs, src, 0);
		char *found = NULL;
		for (int i = 0; i < n; i++) {
			for (unsigned k = 0; !found && k < ifs[i]->naddrs; k++) {
				const char *ip = ifs[i]->addrs[k].addr;
				if (ifs[i]->addrs[k].type == VIR_IP_ADDR_TYPE_IPV4 && ip &&
				    vs_valid_ip_literal(ip))
					found = g_strdup_printf("%s:%u", ip, pool->backend_port);
			}
			virDomainInterfaceFree(ifs[i]);
		}
		free(ifs);
		if (found)
			return found;
		if (!vs_wait_ms(cancel, 500, error))
			return NULL;
	} while (g_get_monotonic_time() < deadline);
	g_set_error(error, VS_ACT_ERROR, VS_ACT_ERROR_TIMEOUT,
	            "no IPv4 address reported within %u s", timeout_s);
	return NULL;
}
