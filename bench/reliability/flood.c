/*
 * flood.c - notification lines into a Unix socket from several clients, as
 * fast as a given total rate allows (0: as fast as the receiver takes
 * them, BATCH lines per write). Half the lines are valid notifications for
 * POOL (state ok or low), half are what an intake must refuse: not JSON, an
 * unknown state, an unknown pool, invalid UTF-8, a line over 4 KiB.
 * A client whose connection fails reconnects. Prints "sent=N seconds=S
 * reconnects=R" at the end.
 *
 *   flood SOCKET POOL CLIENTS RATE SECONDS
 */
#define _GNU_SOURCE
#include <errno.h>
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

typedef struct {
	unsigned id;
	uint64_t sent, reconnects;
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
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	strncpy(sa.sun_path, sock_path, sizeof(sa.sun_path) - 1);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
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
		if (send_all(fd, buf, len) != 0) {
			close(fd);
			fd = -1;
			c->reconnects++;
			continue;
		}
		c->sent += n;
		if (rate_per_client > 0) {
			double due = start + c->sent / rate_per_client, t = now();
			if (due > t)
				usleep((useconds_t)((due - t) * 1e6));
		}
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
	if (argc != 6) {
		fprintf(stderr, "usage: flood SOCKET POOL CLIENTS RATE SECONDS\n");
		return 2;
	}
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
	uint64_t sent = 0, rec = 0;
	for (unsigned i = 0; i < nclients; i++) {
		pthread_join(t[i], NULL);
		sent += cs[i].sent;
		rec += cs[i].reconnects;
	}
	printf("sent=%llu seconds=%.3f reconnects=%llu\n", (unsigned long long)sent, now() - t0,
	       (unsigned long long)rec);
	return 0;
}
