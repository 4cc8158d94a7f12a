/*
 * test-collectd-forward.c - the collectd plugin's actuator forwarder
 * (collectd-plugin/vsc-forward.c): lines arrive whole and in order, one at
 * a time, each counted as sent only once the actuator answered it; a line
 * not answered, or answered "retry", is sent again; a refused one is
 * counted and dropped; the queue drops the oldest and counts them while
 * nobody listens, and the worker connects once the actuator appears
 * (backoff, no busy loop).
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

#define ACK "{\"v\":1,\"ok\":true}\n"

/* The actuator's answer to one line. */
static void answer(int fd, const char *line)
{
	ck_assert_int_eq(send(fd, line, strlen(line), MSG_NOSIGNAL), (ssize_t)strlen(line));
}

/* Reads one line and acknowledges it; returns it (without the newline). */
static char *take_line(int fd)
{
	char *l = read_lines(fd, 1);

	ck_assert_msg(g_str_has_suffix(l, "\n"), "no line: '%s'", l);
	l[strlen(l) - 1] = '\0';
	answer(fd, ACK);
	return l;
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
	/* one line in flight at a time: the second waits for the first's answer */
	got = read_lines(cfd, 2);
	ck_assert_str_eq(got, "{\"v\":1,\"n\":1}\n");
	vsc_forwarder_get_stats(f, &st);
	ck_assert_uint_eq(st.sent, 0);
	answer(cfd, ACK);
	g_autofree char *second = take_line(cfd);
	ck_assert_str_eq(second, "{\"v\":1,\"n\":2}");
	/* the counter moves with the answer */
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
	got = g_strdup("");
	for (unsigned i = 0; i < 5 - (unsigned)st.dropped; i++) {
		g_autofree char *l = take_line(cfd);
		char *all = g_strconcat(got, l, "\n", NULL);

		g_free(got);
		got = all;
	}
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
	a = take_line(cfd);
	ck_assert_str_eq(a, "first");
	close(cfd); /* the actuator restarts */
	g_usleep(200000);
	vsc_forwarder_push(f, "second");
	cfd = accept(lfd, NULL, NULL);
	ck_assert_int_ge(cfd, 0);
	b = take_line(cfd);
	ck_assert_str_eq(b, "second");
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

static bool sent_one(const vsc_forwarder_stats *st)
{
	return st->sent == 1;
}

static bool refused_one(const vsc_forwarder_stats *st)
{
	return st->refused == 1;
}

/* A line read but never answered (the actuator went away with it, or
 * accepted the connection and closed it) is not lost: sent again. */
START_TEST(unanswered_line_sent_again)
{
	int lfd = listen_at(sock_path);
	vsc_forwarder *f = vsc_forwarder_new(sock_path, 10);
	pthread_t t;
	int cfd;
	vsc_forwarder_stats st;

	pthread_create(&t, NULL, vsc_forwarder_run, f);
	vsc_forwarder_push(f, "high");
	cfd = accept(lfd, NULL, NULL);
	g_autofree char *a = read_lines(cfd, 1);
	ck_assert_str_eq(a, "high\n");
	close(cfd); /* taken from the socket, never answered */
	cfd = accept(lfd, NULL, NULL);
	ck_assert_int_ge(cfd, 0);
	g_autofree char *b = take_line(cfd);
	ck_assert_str_eq(b, "high");
	ck_assert(wait_stats(f, sent_one));
	vsc_forwarder_get_stats(f, &st);
	ck_assert_uint_eq(st.sent, 1);
	ck_assert_uint_eq(st.dropped, 0);
	vsc_forwarder_stop(f);
	pthread_join(t, NULL);
	vsc_forwarder_free(f);
	close(cfd);
	close(lfd);
}
END_TEST

/* "retry" (no free slot): the same line on the next connection. An error:
 * the line is dropped, counted, and the next one goes. */
START_TEST(retry_and_refusal)
{
	int lfd = listen_at(sock_path);
	vsc_forwarder *f = vsc_forwarder_new(sock_path, 10);
	pthread_t t;
	int cfd;
	vsc_forwarder_stats st;

	pthread_create(&t, NULL, vsc_forwarder_run, f);
	vsc_forwarder_push(f, "one");
	cfd = accept(lfd, NULL, NULL);
	answer(cfd, "{\"v\":1,\"ok\":false,\"error\":\"busy: too many clients\",\"retry\":true}\n");
	close(cfd);
	cfd = accept(lfd, NULL, NULL);
	g_autofree char *a = take_line(cfd);
	ck_assert_str_eq(a, "one");
	ck_assert(wait_stats(f, sent_one));

	vsc_forwarder_push(f, "bad");
	vsc_forwarder_push(f, "two");
	g_autofree char *b = read_lines(cfd, 1);
	ck_assert_str_eq(b, "bad\n");
	answer(cfd, "{\"v\":1,\"ok\":false,\"error\":\"state: must be ...\"}\n");
	g_autofree char *c = take_line(cfd);
	ck_assert_str_eq(c, "two");
	ck_assert(wait_stats(f, refused_one));
	ck_assert(wait_stats(f, sent_two));
	vsc_forwarder_get_stats(f, &st);
	ck_assert_uint_eq(st.sent, 2);
	ck_assert_uint_eq(st.refused, 1);
	vsc_forwarder_stop(f);
	pthread_join(t, NULL);
	vsc_forwarder_free(f);
	close(cfd);
	close(lfd);
}
END_TEST

/* The actuator closes an idle connection: no reconnect loop, a connection
 * again when there is a line to send. */
START_TEST(idle_close_reconnects_on_demand)
{
	int lfd = listen_at(sock_path);
	vsc_forwarder *f = vsc_forwarder_new(sock_path, 10);
	pthread_t t;
	int cfd;
	vsc_forwarder_stats st;

	pthread_create(&t, NULL, vsc_forwarder_run, f);
	cfd = accept(lfd, NULL, NULL);
	ck_assert(wait_stats(f, is_connected));
	close(cfd); /* idle timeout */
	g_usleep(500000);
	vsc_forwarder_get_stats(f, &st);
	ck_assert(!st.connected);
	ck_assert_uint_eq(st.connects, 1);
	ck_assert_uint_eq(st.failures, 0);
	vsc_forwarder_push(f, "later");
	cfd = accept(lfd, NULL, NULL);
	g_autofree char *a = take_line(cfd);
	ck_assert_str_eq(a, "later");
	ck_assert(wait_stats(f, sent_one));
	vsc_forwarder_get_stats(f, &st);
	ck_assert_uint_eq(st.connects, 2);
	vsc_forwarder_stop(f);
	pthread_join(t, NULL);
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
	tcase_add_test(tc, unanswered_line_sent_again);
	tcase_add_test(tc, retry_and_refusal);
	tcase_add_test(tc, idle_close_reconnects_on_demand);
	suite_add_tcase(s, tc);
	return s;
}
