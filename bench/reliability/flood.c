/*
 * flood.c - notification lines into a Unix socket from several clients, as
 * fast as a given total rate allows (0: as fast as the receiver takes
 * them, BATCH lines per write). Half the lines are valid notifications for
 * POOL (state ok or low), half are what an intake must refuse: not JSON, an
 * unknown state, an unknown pool, invalid UTF-8, a line over 4 KiB.
 * A client whose connection fails reconnects.
 *
 * MODE "read": each client reads the answers as they come (one line per
 * line sent: {"v":1,"ok":true}, a refusal, or busy with "retry":true) and,
 * at the end, waits up to 2 s for the rest. MODE "noread": the client never
 * reads; once the receiver stops taking its lines (no progress for 1 s) it
 * is "stalled", and the time and the lines sent until then are reported.
 * Prints one line of key=value at the end: sent, seconds, reconnects,
 * answered, ok, refused, retry, stalled_clients, stalled_at (seconds after
 * the start, the first client), sent_before_stall (all stalled clients).
 *
 *   flood SOCKET POOL CLIENTS RATE SECONDS [read|noread]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define BATCH 50 /* lines per write at full speed */

static const char *sock_path;
static double rate_per_client, seconds;
#define NLINES 10
static char *lines[NLINES];
static size_t lens[NLINES];

static bool read_answers; /* MODE read */

typedef struct {
	unsigned id;
	uint64_t sent, reconnects;
	uint64_t answered, ok, refused, retry;
	char partial[256]; /* the start of an answer not yet complete */
	size_t plen;
	double stalled_at; /* 0: never */
	uint64_t sent_before_stall;
} client;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int connect_sock(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	strncpy(sa.sun_path, sock_path, sizeof(sa.sun_path) - 1);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Sorts one complete answer line by what it says. */
static void count_answer(client *c, const char *a, size_t n)
{
	c->answered++;
	if (memmem(a, n, "\"ok\":true", 9))
		c->ok++;
	else if (memmem(a, n, "\"retry\":true", 13))
		c->retry++;
	else
		c->refused++;
}

/* Reads the answers waiting; -1 when the peer closed or failed. */
static int drain(client *c, int fd)
{
	char buf[65536];

	for (;;) {
		ssize_t r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (r <= 0)
			return -1;
		for (char *p = buf, *e = buf + r; p < e;) {
			char *nl = memchr(p, '\n', (size_t)(e - p));
			size_t n = (size_t)((nl ? nl : e) - p);
			size_t room = sizeof(c->partial) - c->plen;
			memcpy(c->partial + c->plen, p, n < room ? n : room);
			c->plen += n < room ? n : room;
			if (!nl)
				break;
			count_answer(c, c->partial, c->plen);
			c->plen = 0;
			p = nl + 1;
		}
	}
}

/* Sends @n bytes, reading answers while the socket is full (MODE read);
 * -1 when the connection failed. A client that does not read and makes no
 * progress for a second is marked stalled, once. */
static int send_all(client *c, int fd, const char *p, size_t n, double start, double end)
{
	double since = now();
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd pfd = {.fd = fd,
			                     .events = POLLOUT | (read_answers ? POLLIN : 0)};
			if (now() >= end)
				return 0; /* the time is up: the batch is not counted */
			if (!read_answers && !c->stalled_at && now() - since >= 1.0) {
				c->stalled_at = since - start;
				c->sent_before_stall = c->sent;
			}
			poll(&pfd, 1, 100);
			if (read_answers && drain(c, fd) < 0)
				return -1;
			continue;
		}
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
		since = now();
	}
	return 1;
}

static void *run(void *arg)
{
	client *c = arg;
	unsigned seed = c->id * 7919u + 1;
	double start = now(), end = start + seconds;
	int fd = -1;
	static __thread char buf[BATCH * 4800];

	while (now() < end) {
		size_t len = 0;
		unsigned n = rate_per_client > 0 ? 1 : BATCH;
		for (unsigned i = 0; i < n; i++) {
			unsigned k = (unsigned)rand_r(&seed) % NLINES;
			memcpy(buf + len, lines[k], lens[k]);
			len += lens[k];
		}
		if (fd < 0 && (fd = connect_sock()) < 0) {
			c->reconnects++;
			usleep(20000);
			continue;
		}
		int r = send_all(c, fd, buf, len, start, end);
		if (r < 0 || (read_answers && drain(c, fd) < 0)) {
			close(fd);
			fd = -1;
			c->plen = 0;
			c->reconnects++;
			continue;
		}
		if (r == 0)
			break;
		c->sent += n;
		if (rate_per_client > 0) {
			double due = start + c->sent / rate_per_client, t = now();
			if (due > t)
				usleep((useconds_t)((due - t) * 1e6));
		}
	}
	/* the answers still on their way, for at most 2 s */
	double until = now() + 2.0;
	while (fd >= 0 && read_answers && c->answered < c->sent && now() < until) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		poll(&pfd, 1, 100);
		if (drain(c, fd) < 0)
			break;
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

static char *line(const char *fmt, const char *pool, size_t *len)
{
	char *s;
	*len = (size_t)asprintf(&s, fmt, pool);
	return s;
}

int main(int argc, char **argv)
{
	if (argc != 6 && argc != 7) {
		fprintf(stderr, "usage: flood SOCKET POOL CLIENTS RATE SECONDS [read|noread]\n");
		return 2;
	}
	read_answers = argc == 6 || strcmp(argv[6], "read") == 0;
	sock_path = argv[1];
	const char *pool = argv[2];
	unsigned nclients = (unsigned)atoi(argv[3]);
	double rate = atof(argv[4]);
	seconds = atof(argv[5]);
	if (!nclients || strlen(pool) > 64)
		return 2;
	rate_per_client = rate / nclients;
	static char big[4700];
	memset(big, 'A', sizeof(big) - 1);
	char *bigfmt;
	if (asprintf(&bigfmt,
	             "{\"v\":1,\"type\":\"pool\",\"pool\":\"%%s\",\"state\":\"high\",\"message\":"
	             "\"%s\"}\n",
	             big) < 0)
		return 1;
	/* half valid, half invalid (one of each kind the intake refuses) */
	const char *fmts[NLINES] = {
	    "{\"v\":1,\"type\":\"pool\",\"pool\":\"%s\",\"state\":\"ok\",\"source\":\"flood\"}\n",
	    "{\"v\":1,\"type\":\"pool\",\"pool\":\"%s\",\"state\":\"low\",\"source\":\"flood\"}\n",
	    "{\"v\":1,\"type\":\"pool\",\"pool\":\"%s\",\"state\":\"ok\",\"source\":\"flood\"}\n",
	    "{\"v\":1,\"type\":\"pool\",\"pool\":\"%s\",\"state\":\"low\",\"source\":\"flood\"}\n",
	    "{\"v\":1,\"type\":\"pool\",\"pool\":\"%s\",\"state\":\"ok\",\"source\":\"flood\"}\n",
	    "not json %s\n",
	    "{\"v\":1,\"type\":\"pool\",\"pool\":\"%s\",\"state\":\"sky-high\"}\n",
	    "{\"v\":1,\"type\":\"pool\",\"pool\":\"nosuch-%s\",\"state\":\"high\"}\n",
	    "{\"v\":1,\"type\":\"pool\",\"pool\":\"%s\",\"state\":\"\xff\xfe\"}\n",
	    bigfmt,
	};
	for (unsigned i = 0; i < NLINES; i++)
		lines[i] = line(fmts[i], pool, &lens[i]);

	pthread_t *t = calloc(nclients, sizeof(*t));
	client *cs = calloc(nclients, sizeof(*cs));
	double t0 = now();
	for (unsigned i = 0; i < nclients; i++) {
		cs[i].id = i;
		pthread_create(&t[i], NULL, run, &cs[i]);
	}
	uint64_t sent = 0, rec = 0, answered = 0, ok = 0, refused = 0, retry = 0, before = 0;
	unsigned stalled = 0;
	double stalled_at = 0;
	for (unsigned i = 0; i < nclients; i++) {
		pthread_join(t[i], NULL);
		sent += cs[i].sent;
		rec += cs[i].reconnects;
		answered += cs[i].answered;
		ok += cs[i].ok;
		refused += cs[i].refused;
		retry += cs[i].retry;
		if (cs[i].stalled_at) {
			stalled++;
			before += cs[i].sent_before_stall;
			if (!stalled_at || cs[i].stalled_at < stalled_at)
				stalled_at = cs[i].stalled_at;
		}
	}
	printf("sent=%llu seconds=%.3f reconnects=%llu answered=%llu ok=%llu refused=%llu "
	       "retry=%llu stalled_clients=%u stalled_at=%.2f sent_before_stall=%llu\n",
	       (unsigned long long)sent, now() - t0, (unsigned long long)rec,
	       (unsigned long long)answered, (unsigned long long)ok, (unsigned long long)refused,
	       (unsigned long long)retry, stalled, stalled_at, (unsigned long long)before);
	return 0;
}
