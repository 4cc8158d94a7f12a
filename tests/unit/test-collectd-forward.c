/*
 * test-collectd-forward.c - the collectd plugin's actuator forwarder
 * (collectd-plugin/vsc-forward.c): lines arrive whole and in order, the
 * queue drops the oldest and counts them while nobody listens, and the
 * worker connects once the actuator appears (backoff, no busy loop).
 */
#include "config.h"

#include "testutil.h"
#include "vsc-forward.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static char *tmpdir;
static char *sock_path;

static void setup(void)
{
	tmpdir = g_dir_make_tmp("vscfwd-XXXXXX", NULL);
	sock_path = g_build_filename(tmpdir, "act.sock", NULL);
}

static void teardown(void)
{
	g_unlink(sock_path);
	g_rmdir(tmpdir);
	g_free(sock_path);
	g_free(tmpdir);
}

static int listen_at(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	g_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(fd, 4), 0);
	return fd;
}

/* Reads from @fd until @n newlines arrived or 5 s passed. */
static char *read_lines(int fd, unsigned n)
{
	GString *buf = g_string_new(NULL);
	int64_t deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
	unsigned seen = 0;

	while (seen < n && g_get_monotonic_time() < deadline) {
		char chunk[256];
		struct timeval tv = {.tv_sec = 0, .tv_usec = 200000};
		ssize_t r;

		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		r = recv(fd, chunk, sizeof(chunk), 0);
		if (r <= 0)
			continue;
		g_string_append_len(buf, chunk, r);
		seen = 0;
		for (gsize i = 0; i < buf->len; i++)
			seen += buf->str[i] == '\n';
	}
	return g_string_free(buf, FALSE);
}

static bool wait_stats(vsc_forwarder *f, bool (*pred)(const vsc_forwarder_stats *))
{
	for (int i = 0; i < 100; i++) {
		vsc_forwarder_stats st;

		vsc_forwarder_get_stats(f, &st);
		if (pred(&st))
			return true;
		g_usleep(50000);
	}
	return false;
}

static bool is_connected(const vsc_forwarder_stats *st)
{
	return st->connected;
}

static bool sent_two(const vsc_forwarder_stats *st)
{
	return st->sent == 2;
}

static bool all_accounted(const vsc_forwarder_stats *st)
{
	return st->sent + st->dropped == 5;
}

START_TEST(lines_arrive_in_order)
{
	int lfd = listen_at(sock_path);
	vsc_forwarder *f = vsc_forwarder_new(sock_path, 10);
	pthread_t t;
	int cfd;
	g_autofree char *got = NULL;
	vsc_forwarder_stats st;

	pthread_create(&t, NULL, vsc_forwarder_run, f);
	vsc_forwarder_push(f, "{\"v\":1,\"n\":1}");
	vsc_forwarder_push(f, "{\"v\":1,\"n\":2}");
	cfd = accept(lfd, NULL, NULL);
	ck_assert_int_ge(cfd, 0);
	got = read_lines(cfd, 2);
	ck_assert_str_eq(got, "{\"v\":1,\"n\":1}\n{\"v\":1,\"n\":2}\n");
	/* the counter moves just after the bytes left */
	ck_assert(wait_stats(f, sent_two));
	vsc_forwarder_get_stats(f, &st);
	ck_assert_uint_eq(st.sent, 2);
	ck_assert_uint_eq(st.dropped, 0);
	ck_assert(st.connected);
	vsc_forwarder_stop(f);
	pthread_join(t, NULL);
	vsc_forwarder_free(f);
	close(cfd);
	close(lfd);
}
END_TEST

START_TEST(drops_oldest_while_away_then_delivers)
{
	vsc_forwarder *f = vsc_forwarder_new(sock_path, 3);
	vsc_forwarder_stats st;
	pthread_t t;
	int lfd, cfd;
	g_autofree char *got = NULL;

	pthread_create(&t, NULL, vsc_forwarder_run, f);
	/* nobody listens: lines wait, the oldest go beyond 3 */
	for (int i = 1; i <= 5; i++) {
		g_autofree char *line = g_strdup_printf("line %d", i);

		vsc_forwarder_push(f, line);
	}
	g_usleep(300000);
	vsc_forwarder_get_stats(f, &st);
	ck_assert(!st.connected);
	ck_assert_uint_ge(st.failures, 1);
	/* the worker may hold one line in hand; 5 pushed, capacity 3 */
	ck_assert_uint_eq(st.queued, 5);
	ck_assert_uint_ge(st.dropped, 1);
	ck_assert_uint_le(st.queue_len, 3);

	/* the actuator appears: reconnect with backoff, newest lines delivered */
	lfd = listen_at(sock_path);
	cfd = accept(lfd, NULL, NULL);
	ck_assert_int_ge(cfd, 0);
	got = read_lines(cfd, 5 - (unsigned)st.dropped);
	ck_assert_ptr_nonnull(strstr(got, "line 5\n"));
	ck_assert_ptr_null(strstr(got, "line 1\n"));
	ck_assert(wait_stats(f, is_connected));
	/* every line pushed was either delivered or counted as dropped */
	ck_assert(wait_stats(f, all_accounted));
	vsc_forwarder_stop(f);
	pthread_join(t, NULL);
	vsc_forwarder_free(f);
	close(cfd);
	close(lfd);
}
END_TEST

START_TEST(reconnects_after_the_actuator_hangs_up)
{
	int lfd = listen_at(sock_path);
	vsc_forwarder *f = vsc_forwarder_new(sock_path, 10);
	pthread_t t;
	int cfd;
	g_autofree char *a = NULL;
	g_autofree char *b = NULL;
	vsc_forwarder_stats st;

	pthread_create(&t, NULL, vsc_forwarder_run, f);
	vsc_forwarder_push(f, "first");
	cfd = accept(lfd, NULL, NULL);
	a = read_lines(cfd, 1);
	ck_assert_str_eq(a, "first\n");
	close(cfd); /* the actuator restarts */
	g_usleep(200000);
	vsc_forwarder_push(f, "second");
	cfd = accept(lfd, NULL, NULL);
	ck_assert_int_ge(cfd, 0);
	b = read_lines(cfd, 1);
	ck_assert_str_eq(b, "second\n");
	vsc_forwarder_get_stats(f, &st);
	ck_assert_uint_eq(st.connects, 2);
	vsc_forwarder_stop(f);
	pthread_join(t, NULL);
	vsc_forwarder_free(f);
	close(cfd);
	close(lfd);
}
END_TEST

START_TEST(push_never_blocks_on_a_stalled_reader)
{
	int lfd = listen_at(sock_path);
	vsc_forwarder *f = vsc_forwarder_new(sock_path, 100);
	pthread_t t;
	int cfd;
	char big[4000];
	int64_t t0;
	vsc_forwarder_stats st;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	pthread_create(&t, NULL, vsc_forwarder_run, f);
	cfd = accept(lfd, NULL, NULL); /* accepted, never read */
	t0 = g_get_monotonic_time();
	for (int i = 0; i < 2000; i++)
		vsc_forwarder_push(f, big);
	/* 8 MB offered to a reader that takes nothing: pushes stay cheap */
	ck_assert_int_lt(g_get_monotonic_time() - t0, 2 * G_USEC_PER_SEC);
	vsc_forwarder_get_stats(f, &st);
	ck_assert_uint_ge(st.dropped, 1);
	ck_assert_uint_le(st.queue_len, 100);
	vsc_forwarder_stop(f);
	pthread_join(t, NULL); /* stop is prompt even with a full socket */
	vsc_forwarder_free(f);
	close(cfd);
	close(lfd);
}
END_TEST

Suite *vs_test_suite(void)
{
	Suite *s = suite_create("collectd-forward");
	TCase *tc = tcase_create("forwarder");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, lines_arrive_in_order);
	tcase_add_test(tc, drops_oldest_while_away_then_delivers);
	tcase_add_test(tc, reconnects_after_the_actuator_hangs_up);
	tcase_add_test(tc, push_never_blocks_on_a_stalled_reader);
	suite_add_tcase(s, tc);
	return s;
}
