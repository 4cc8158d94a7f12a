/*
 * vs-sockdiag.c - active sessions per backend from the kernel's socket
 * table (NETLINK_SOCK_DIAG / inet_diag): established TCP connections on
 * this host towards (or, for a local server, accepted at) an endpoint.
 *
 * Works behind any proxy running on this host (nginx, httpd, haproxy) with
 * no module: the proxy's upstream connections are ordinary sockets. One
 * dump per address family per call, whatever the number of endpoints.
 */
#include "config.h"

#include "vs-error.h"
#include "vs-sessions.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define SOCKDIAG_RECV_BUF  65536
#define SOCKDIAG_TIMEOUT_S 2
#define SOCKDIAG_RETRIES   3

/* An endpoint in the kernel's representation, for cheap comparison. */
typedef struct wanted_endpoint {
	int family;
	uint8_t addr[16];
	uint16_t port_be;
} wanted_endpoint;

static bool to_wanted(const vs_endpoint *ep, wanted_endpoint *w)
{
	memset(w, 0, sizeof(*w));
	w->port_be = htons(ep->port);
	if (inet_pton(AF_INET, ep->host, w->addr) == 1) {
		w->family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, ep->host, w->addr) == 1) {
		static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

		/* ::ffff:a.b.c.d is the IPv4 endpoint. */
		if (memcmp(w->addr, mapped, sizeof(mapped)) == 0) {
			memmove(w->addr, w->addr + 12, 4);
			memset(w->addr + 4, 0, 12);
			w->family = AF_INET;
		} else {
			w->family = AF_INET6;
		}
		return true;
	}
	return false;
}

/* Normalises a socket's address: a v4-mapped IPv6 address (dual-stack
 * socket) compares equal to the IPv4 one. */
static int normalise(int family, const __be32 raw[4], uint8_t out[16])
{
	memset(out, 0, 16);
	if (family == AF_INET) {
		memcpy(out, raw, 4);
		return AF_INET;
	}
	memcpy(out, raw, 16);
	if (raw[0] == 0 && raw[1] == 0 && raw[2] == htonl(0xffff)) {
		memmove(out, out + 12, 4);
		memset(out + 4, 0, 12);
		return AF_INET;
	}
	return AF_INET6;
}

static void count_socket(const struct inet_diag_msg *m, bool local, const wanted_endpoint *w,
                         size_t n, unsigned *counts)
{
	uint8_t addr[16];
	int family;
	__be16 port = local ? m->id.idiag_sport : m->id.idiag_dport;

	family = normalise(m->idiag_family, local ? m->id.idiag_src : m->id.idiag_dst, addr);
	for (size_t i = 0; i < n; i++) {
		if (w[i].port_be == port && w[i].family == family &&
		    memcmp(w[i].addr, addr, family == AF_INET ? 4 : 16) == 0)
			counts[i]++;
	}
}

static bool send_dump_request(int fd, int family, uint32_t seq, GError **error)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 req;
	} msg = {
	    .nlh =
	        {
	            .nlmsg_len = sizeof(msg),
	            .nlmsg_type = SOCK_DIAG_BY_FAMILY,
	            .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
	            .nlmsg_seq = seq,
	        },
	    .req =
	        {
	            .sdiag_family = (uint8_t)family,
	            .sdiag_protocol = IPPROTO_TCP,
	            .idiag_states = 1u << TCP_ESTABLISHED,
	        },
	};
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	ssize_t r;

	do {
		r = sendto(fd, &msg, sizeof(msg), 0, (struct sockaddr *)&kernel, sizeof(kernel));
	} while (r < 0 && errno == EINTR);
	if (r != (ssize_t)sizeof(msg)) {
		g_set_error(error, VS_SOCKDIAG_ERROR, VS_SOCKDIAG_ERROR_SOCKET,
		            "sock_diag request: %s", r < 0 ? g_strerror(errno) : "short write");
		return false;
	}
	return true;
}

typedef enum { DUMP_OK, DUMP_INTERRUPTED, DUMP_FAILED } dump_result;

/*
 * Reads one dump's answer, adding to @counts. DUMP_INTERRUPTED when the
 * kernel says the table changed during the dump (NLM_F_DUMP_INTR): the
 * caller retries with fresh counts.
 */
static dump_result read_dump(int fd, uint32_t seq, bool local, const wanted_endpoint *w, size_t n,
                             unsigned *counts, GError **error)
{
	g_autofree char *buf = g_malloc(SOCKDIAG_RECV_BUF);
	bool interrupted = false;

	for (;;) {
		struct sockaddr_nl from;
		struct iovec iov = {.iov_base = buf, .iov_len = SOCKDIAG_RECV_BUF};
		struct msghdr mh = {
		    .msg_name = &from,
		    .msg_namelen = sizeof(from),
		    .msg_iov = &iov,
		    .msg_iovlen = 1,
		};
		ssize_t len;

		len = recvmsg(fd, &mh, 0);
		if (len < 0 && errno == EINTR)
			continue;
		if (len < 0) {
			g_set_error(error, VS_SOCKDIAG_ERROR, VS_SOCKDIAG_ERROR_SOCKET,
			            "sock_diag receive: %s",
			            errno == EAGAIN ? "timed out" : g_strerror(errno));
			return DUMP_FAILED;
		}
		if (mh.msg_flags & MSG_TRUNC) {
			g_set_error(error, VS_SOCKDIAG_ERROR, VS_SOCKDIAG_ERROR_PROTOCOL,
			            "sock_diag receive: message truncated");
			return DUMP_FAILED;
		}
		if (from.nl_pid != 0)
			continue; /* not from the kernel */

		int rem = (int)len;

		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, rem);
		     h = NLMSG_NEXT(h, rem)) {
			if (h->nlmsg_seq != seq)
				continue; /* a stale answer */
			if (h->nlmsg_flags & NLM_F_DUMP_INTR)
				interrupted = true;
			if (h->nlmsg_type == NLMSG_DONE)
				return interrupted ? DUMP_INTERRUPTED : DUMP_OK;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);
				int err =
				    h->nlmsg_len >= NLMSG_LENGTH(sizeof(*e)) ? -e->error : EPROTO;

				g_set_error(error, VS_SOCKDIAG_ERROR, VS_SOCKDIAG_ERROR_KERNEL,
				            "sock_diag: kernel error: %s", g_strerror(err));
				return DUMP_FAILED;
			}
			if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY)
				continue;
			if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct inet_diag_msg))) {
				g_set_error(error, VS_SOCKDIAG_ERROR, VS_SOCKDIAG_ERROR_PROTOCOL,
				            "sock_diag: short inet_diag message (%u bytes)",
				            h->nlmsg_len);
				return DUMP_FAILED;
			}
			const struct inet_diag_msg *m = NLMSG_DATA(h);

			if (m->idiag_state == TCP_ESTABLISHED &&
			    (m->idiag_family == AF_INET || m->idiag_family == AF_INET6))
				count_socket(m, local, w, n, counts);
		}
		if (rem != 0) {
			g_set_error(error, VS_SOCKDIAG_ERROR, VS_SOCKDIAG_ERROR_PROTOCOL,
			            "sock_diag: %d trailing bytes in a message", rem);
			return DUMP_FAILED;
		}
	}
}

static bool sockdiag_count(const vs_endpoint *eps, size_t n, unsigned *counts, bool local,
                           GError **error)
{
	g_autofree wanted_endpoint *w = g_new0(wanted_endpoint, n ? n : 1);
	static const int families[] = {AF_INET, AF_INET6};
	struct timeval tv = {.tv_sec = SOCKDIAG_TIMEOUT_S};
	int bufsize = SOCKDIAG_RECV_BUF;
	uint32_t seq = 1;
	bool ok = false;
	int fd;

	for (size_t i = 0; i < n; i++) {
		counts[i] = 0;
		if (!to_wanted(&eps[i], &w[i])) {
			g_set_error(error, VS_SOCKDIAG_ERROR, VS_SOCKDIAG_ERROR_INVALID,
			            "sock_diag: not a numeric address: '%s'", eps[i].host);
			return false;
		}
	}
	if (n == 0)
		return true;

	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0) {
		g_set_error(error, VS_SOCKDIAG_ERROR, VS_SOCKDIAG_ERROR_SOCKET,
		            "sock_diag socket: %s", g_strerror(errno));
		return false;
	}
	/* Never block a collector for long if the kernel does not answer. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsize, sizeof(bufsize));

	for (int attempt = 0; attempt < SOCKDIAG_RETRIES; attempt++) {
		dump_result r = DUMP_OK;

		for (size_t i = 0; i < n; i++)
			counts[i] = 0;
		for (size_t f = 0; f < G_N_ELEMENTS(families) && r == DUMP_OK; f++) {
			seq++;
			if (!send_dump_request(fd, families[f], seq, error)) {
				r = DUMP_FAILED;
				break;
			}
			r = read_dump(fd, seq, local, w, n, counts, error);
		}
		if (r == DUMP_OK) {
			ok = true;
			break;
		}
		if (r == DUMP_FAILED)
			break;
	}
	if (!ok && error && !*error)
		g_set_error(error, VS_SOCKDIAG_ERROR, VS_SOCKDIAG_ERROR_KERNEL,
		            "sock_diag: socket table kept changing during %d dumps",
		            SOCKDIAG_RETRIES);
	close(fd);
	return ok;
}

/**
 * vs_sockdiag_count:
 * @eps: endpoints (numeric addresses)
 * @n: how many
 * @counts: set to the number of ESTABLISHED TCP connections whose remote
 *          end is each endpoint
 * @error: set on failure
 *
 * Returns false on a netlink failure (counts are then meaningless).
 */
bool vs_sockdiag_count(const vs_endpoint *eps, size_t n, unsigned *counts, GError **error)
{
	return sockdiag_count(eps, n, counts, false, error);
}

/**
 * vs_sockdiag_count_local:
 * @eps: endpoints (numeric addresses)
 * @n: how many
 * @counts: set to the number of ESTABLISHED TCP connections whose local
 *          end is each endpoint (accepted by a server on this host)
 * @error: set on failure
 *
 * Returns false on a netlink failure.
 */
bool vs_sockdiag_count_local(const vs_endpoint *eps, size_t n, unsigned *counts, GError **error)
{
	return sockdiag_count(eps, n, counts, true, error);
}
