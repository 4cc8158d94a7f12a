/*
 * test-pool.c - pools and their members (lib/vs-pool.c): member names,
 * the membership and "running" rules, the virtscale tag, aggregates, the
 * member a scale-in stops - and that the monitors (a view from a collector
 * snapshot) and the actuator (a view built member by member from what
 * libvirt lists) see the same pool.
 */
#include "config.h"

#include "vs-pool.h"

#include "testutil.h"

#include <libvirt/libvirt.h>
#include <string.h>

#define OTHER_HOST "qemu+ssh://hv2/system"

/* The index in @v->members of the member called @name, -1 when none. */
static int member_at(const vs_pool_view *v, const char *name)
{
	for (guint i = 0; i < v->members->len; i++)
		if (strcmp(((const vs_member *)v->members->pdata[i])->name, name) == 0)
			return (int)i;
	return -1;
}

static const vs_member *member_named(const vs_pool_view *v, const char *name)
{
	int i = member_at(v, name);

	ck_assert_msg(i >= 0, "%s is not a member", name);
	return v->members->pdata[i];
}

/* The name of member @i, "(none)" for -1. */
static const char *name_at(const vs_pool_view *v, int i)
{
	return i < 0 ? "(none)" : ((const vs_member *)v->members->pdata[i])->name;
}

START_TEST(member_names)
{
	const vs_pool_config *pool, *plain;
	g_autoptr(vs_config) c = vs_test_pool("", &pool);
	g_autoptr(vs_config) c2 = vs_test_config("[pool app]\n"
	                                         "template = app-template\n"
	                                         "name_pattern = app%d.local\n");
	g_autofree char *n3 = vs_pool_member_name(pool, 3);
	g_autofree char *n123 = vs_pool_member_name(pool, 123);
	g_autofree char *a7 = NULL;
	unsigned idx = 99;

	ck_assert_str_eq(n3, "web-03");
	ck_assert_str_eq(n123, "web-123");
	ck_assert(vs_pool_match_name(pool, "web-03", &idx));
	ck_assert_uint_eq(idx, 3);
	ck_assert(vs_pool_match_name(pool, "web-123", &idx));
	ck_assert_uint_eq(idx, 123);
	/* Only exactly what the pattern produces. */
	ck_assert(!vs_pool_match_name(pool, "web-3", NULL));
	ck_assert(!vs_pool_match_name(pool, "web-003", NULL));
	ck_assert(!vs_pool_match_name(pool, "web-", NULL));
	ck_assert(!vs_pool_match_name(pool, "web-0x", NULL));
	ck_assert(!vs_pool_match_name(pool, "web-03b", NULL));
	ck_assert(!vs_pool_match_name(pool, "xweb-03", NULL));
	ck_assert(!vs_pool_match_name(pool, "web-template", NULL));
	ck_assert(!vs_pool_match_name(pool, "web-99999999999", NULL));
	ck_assert(!vs_pool_match_name(pool, NULL, NULL));
	ck_assert(!vs_pool_match_name(NULL, "web-01", NULL));
	ck_assert_ptr_null(vs_pool_member_name(NULL, 1));

	plain = vs_config_find_pool(c2, "app");
	a7 = vs_pool_member_name(plain, 7);
	ck_assert_str_eq(a7, "app7.local");
	ck_assert(vs_pool_match_name(plain, "app12.local", &idx));
	ck_assert_uint_eq(idx, 12);
	ck_assert(!vs_pool_match_name(plain, "app012.local", NULL));
	ck_assert(!vs_pool_match_name(plain, "app12.locale", NULL));
}
END_TEST

/*
 * Membership: the tag naming the pool AND the name matching name_pattern.
 * The template is configured here with a name the pattern matches, so
 * only the template rule keeps it out.
 */
START_TEST(membership_rule)
{
	g_autoptr(vs_config) c = vs_test_config("[pool web]\n"
	                                        "template = web-00\n"
	                                        "name_pattern = web-%02d\n"
	                                        "[pool api]\n"
	                                        "template = api-template\n"
	                                        "name_pattern = api-%d\n");
	const vs_pool_config *web = vs_config_find_pool(c, "web");
	const vs_pool_config *api = vs_config_find_pool(c, "api");
	unsigned idx = 99;

	ck_assert(vs_pool_is_member(web, "web-01", "web", &idx));
	ck_assert_uint_eq(idx, 1);
	ck_assert(vs_pool_is_member(web, "web-17", "web", NULL));
	/* untagged, with a matching name: someone else's domain */
	ck_assert(!vs_pool_is_member(web, "web-01", NULL, &idx));
	/* tagged for another pool */
	ck_assert(!vs_pool_is_member(web, "web-01", "api", &idx));
	ck_assert(vs_pool_is_member(api, "api-1", "api", &idx));
	ck_assert(!vs_pool_is_member(api, "web-01", "api", &idx));
	/* tagged for ours, but not a name the pattern makes */
	ck_assert(!vs_pool_is_member(web, "custom-backend", "web", &idx));
	ck_assert(!vs_pool_is_member(web, "web-1", "web", &idx));
	/* the template, even tagged */
	ck_assert(vs_pool_match_name(web, "web-00", NULL));
	ck_assert(!vs_pool_is_member(web, "web-00", "web", &idx));
	ck_assert(!vs_pool_is_member(web, NULL, "web", &idx));
	/* tags compare exactly */
	ck_assert(!vs_pool_is_member(web, "web-01", "Web", &idx));
	ck_assert(!vs_pool_is_member(web, "web-01", "web ", &idx));
	ck_assert_uint_eq(idx, 1); /* untouched by the refusals */
}
END_TEST

START_TEST(running_rule)
{
	ck_assert(vs_pool_member_running(VIR_DOMAIN_RUNNING));
	ck_assert(vs_pool_member_running(VIR_DOMAIN_BLOCKED));
	ck_assert(!vs_pool_member_running(VIR_DOMAIN_PAUSED));
	ck_assert(!vs_pool_member_running(VIR_DOMAIN_SHUTOFF));
	ck_assert(!vs_pool_member_running(VIR_DOMAIN_SHUTDOWN));
	ck_assert(!vs_pool_member_running(VIR_DOMAIN_CRASHED));
	ck_assert(!vs_pool_member_running(VIR_DOMAIN_PMSUSPENDED));
	ck_assert(!vs_pool_member_running(VIR_DOMAIN_NOSTATE));
	ck_assert(!vs_pool_member_running(-1));
}
END_TEST

START_TEST(tag_accept)
{
	char *pool = (char *)"x", *address = (char *)"x";

	ck_assert(vs_domain_tag_accept("web", "127.0.0.1:18101", &pool, &address));
	ck_assert_str_eq(pool, "web");
	ck_assert_str_eq(address, "127.0.0.1:18101");
	g_free(pool);
	g_free(address);

	/* a valid pool with a bad address: ours, without an address */
	ck_assert(vs_domain_tag_accept("web", "127.0.0.1:80;rm -rf /", &pool, &address));
	ck_assert_str_eq(pool, "web");
	ck_assert_ptr_null(address);
	g_free(pool);
	ck_assert(vs_domain_tag_accept("web", NULL, &pool, &address));
	ck_assert_ptr_null(address);
	g_free(pool);
	ck_assert(vs_domain_tag_accept("web", "[::1]:8080", &pool, &address));
	ck_assert_str_eq(address, "[::1]:8080");
	g_free(pool);
	g_free(address);

	/* an invalid pool: not ours at all, whatever the address */
	ck_assert(!vs_domain_tag_accept("we b", "127.0.0.1:80", &pool, &address));
	ck_assert_ptr_null(pool);
	ck_assert_ptr_null(address);
	ck_assert(!vs_domain_tag_accept("", "127.0.0.1:80", &pool, &address));
	ck_assert_ptr_null(pool);
	ck_assert(!vs_domain_tag_accept("web'/><x y='", NULL, &pool, &address));
	ck_assert_ptr_null(pool);
	ck_assert(!vs_domain_tag_accept(NULL, "127.0.0.1:80", &pool, &address));
	ck_assert_ptr_null(pool);
	ck_assert_ptr_null(address);
}
END_TEST

START_TEST(tag_xml)
{
	g_autofree char *plain = vs_domain_tag_xml("web", NULL);
	g_autofree char *with = vs_domain_tag_xml("web", "127.0.0.1:18101");
	g_autofree char *hostile = vs_domain_tag_xml("a'b", "<x>&\"");
	char *pool = NULL, *address = NULL;

	ck_assert_str_eq(plain, "<virtscale pool='web'/>");
	ck_assert_str_eq(with, "<virtscale pool='web' address='127.0.0.1:18101'/>");
	/* whatever it is given, the element stays one element */
	ck_assert_ptr_null(strchr(hostile + 1, '<'));
	ck_assert_ptr_nonnull(strstr(hostile, "pool='a&"));
	/* the four quotes that delimit the attributes, and no other */
	unsigned quotes = 0;
	for (const char *p = hostile; *p; p++)
		quotes += *p == '\'';
	ck_assert_uint_eq(quotes, 4);
	ck_assert_ptr_nonnull(strstr(hostile, "address='&lt;x&gt;&amp;&quot;'"));
	/* and what it writes for a real member reads back */
	ck_assert(vs_domain_tag_accept("web", "127.0.0.1:18101", &pool, &address));
	g_autofree char *again = vs_domain_tag_xml(pool, address);
	ck_assert_str_eq(again, with);
	g_free(pool);
	g_free(address);
}
END_TEST

/*
 * One hypervisor listing, seen by the monitors (collector snapshot ->
 * vs_pool_view_from_snapshot) and by the actuator (each listed domain's
 * tag read and checked, then vs_pool_view_new + vs_pool_view_add, as
 * actuator/ops/members.c does): the same members, running count and
 * victim.
 */
typedef struct listed_domain {
	const char *host;
	const char *name;
	int state;
	double cpu;
	const char *tag_pool; /* raw attributes of the virtscale tag */
	const char *tag_address;
	int sessions; /* -1 unknown */
	unsigned vcpus, vcpus_max;
} listed_domain;

static const listed_domain listing[] = {
    {VS_TEST_HOST, "web-template", VIR_DOMAIN_SHUTOFF, -1, NULL, NULL, -1, 1, 1},
    {VS_TEST_HOST, "web-02", VIR_DOMAIN_RUNNING, 40, "web", "127.0.0.1:18102", 9, 1, 4},
    {VS_TEST_HOST, "web-01", VIR_DOMAIN_RUNNING, 20, "web", "127.0.0.1:18101", 3, 2, 4},
    {VS_TEST_HOST, "web-05", VIR_DOMAIN_BLOCKED, 5, "web", "127.0.0.1:18105", 3, 2, 2},
    {VS_TEST_HOST, "web-06", VIR_DOMAIN_PAUSED, -1, "web", "127.0.0.1:18106", 0, 1, 1},
    {VS_TEST_HOST, "web-04", VIR_DOMAIN_SHUTOFF, -1, "web", "127.0.0.1:18104", -1, 1, 1},
    {VS_TEST_HOST, "web-07", VIR_DOMAIN_CRASHED, -1, "web", NULL, -1, 1, 1},
    /* a matching name without the tag, or with another pool's */
    {VS_TEST_HOST, "web-03", VIR_DOMAIN_RUNNING, 90, NULL, "127.0.0.1:18103", 0, 1, 1},
    {VS_TEST_HOST, "web-08", VIR_DOMAIN_RUNNING, 95, "api", "127.0.0.1:18108", 0, 1, 1},
    /* the tag with a name the pattern does not make */
    {VS_TEST_HOST, "custom-backend", VIR_DOMAIN_RUNNING, 60, "web", "[::1]:8080", 0, 1, 1},
    /* a tag whose pool name is refused */
    {VS_TEST_HOST, "web-09", VIR_DOMAIN_RUNNING, 60, "web;x", "127.0.0.1:18109", 0, 1, 1},
    /* a bad address: a member, without an endpoint */
    {VS_TEST_HOST, "web-10", VIR_DOMAIN_RUNNING, 85, "web", "not an address", 1, 1, 4},
    /* another hypervisor than the pool's */
    {OTHER_HOST, "web-11", VIR_DOMAIN_RUNNING, 10, "web", "127.0.0.1:18111", 0, 1, 1},
};

static vs_pool_view *monitors_view(const vs_pool_config *pool)
{
	g_autoptr(vs_snapshot) snap = vs_snapshot_new();

	for (size_t i = 0; i < G_N_ELEMENTS(listing); i++) {
		const listed_domain *l = &listing[i];
		vs_domain_stats *d = vs_test_snapshot_domain(snap, l->host, l->name, l->state,
		                                             l->cpu, l->tag_pool, l->tag_address);

		d->vcpu_current = l->vcpus;
		d->vcpu_max = l->vcpus_max;
	}
	return vs_pool_view_from_snapshot(pool, snap);
}

static vs_pool_view *actuator_view(const vs_pool_config *pool)
{
	vs_pool_view *v = vs_pool_view_new(pool);

	for (size_t i = 0; i < G_N_ELEMENTS(listing); i++) {
		const listed_domain *l = &listing[i];
		g_autofree char *tag_pool = NULL, *tag_address = NULL;
		unsigned index;
		vs_member *m;

		if (!vs_pool_on_host(pool, l->host))
			continue; /* the actuator lists only the pool's hypervisors */
		if (!vs_domain_tag_accept(l->tag_pool, l->tag_address, &tag_pool, &tag_address) ||
		    !vs_pool_is_member(pool, l->name, tag_pool, &index))
			continue;
		m = vs_member_new(l->name, l->host);
		m->index = index;
		vs_member_set_address(m, tag_address);
		m->state = l->state;
		m->cpu_percent = l->cpu;
		m->vcpus = l->vcpus;
		m->vcpus_max = l->vcpus_max;
		vs_pool_view_add(v, m);
	}
	vs_pool_view_aggregate(v);
	return v;
}

/* The session counts of the listing, as the pool's source would give them. */
static void count_sessions(vs_pool_view *v)
{
	for (guint i = 0; i < v->members->len; i++) {
		const vs_member *m = v->members->pdata[i];

		for (size_t k = 0; k < G_N_ELEMENTS(listing); k++)
			if (strcmp(listing[k].name, m->name) == 0 && listing[k].sessions >= 0)
				vs_pool_view_set_sessions(v, i, (unsigned)listing[k].sessions);
	}
	vs_pool_view_aggregate(v);
}

static void assert_same_pool(const vs_pool_view *a, const vs_pool_view *b)
{
	ck_assert_uint_eq(a->members->len, b->members->len);
	for (guint i = 0; i < a->members->len; i++) {
		const vs_member *x = a->members->pdata[i], *y = b->members->pdata[i];

		ck_assert_str_eq(x->name, y->name);
		ck_assert_uint_eq(x->index, y->index);
		ck_assert_int_eq(x->state, y->state);
		ck_assert(x->running == y->running);
		ck_assert_pstr_eq(x->address, y->address);
		ck_assert(x->have_endpoint == y->have_endpoint);
		ck_assert_int_eq(x->sessions, y->sessions);
	}
	ck_assert_uint_eq(a->n_running, b->n_running);
	ck_assert_double_eq_tol(a->avg_cpu, b->avg_cpu, 1e-9);
	ck_assert_double_eq_tol(a->avg_sessions, b->avg_sessions, 1e-9);
	ck_assert_uint_eq(a->total_sessions, b->total_sessions);
	ck_assert_str_eq(name_at(a, vs_pool_view_victim(a)), name_at(b, vs_pool_view_victim(b)));
}

START_TEST(monitors_and_actuator_agree)
{
	const vs_pool_config *pool;
	g_autoptr(vs_config) c =
	    vs_test_config("[libvirt]\nhosts = " VS_TEST_HOST " " OTHER_HOST "\n"
	                   "[pool web]\ntemplate = web-template\nname_pattern = web-%02d\n"
	                   "hosts = " VS_TEST_HOST "\ncpu_high = 80\ncpu_low = 15\n");
	g_autoptr(vs_pool_view) seen = NULL;
	g_autoptr(vs_pool_view) acted = NULL;

	pool = vs_config_find_pool(c, "web");
	ck_assert_str_eq(pool->uri, VS_TEST_HOST);
	seen = monitors_view(pool);
	acted = actuator_view(pool);

	/* what both must see: members 01 02 04 05 06 07 10, running 01 02 05 10 */
	ck_assert_uint_eq(seen->members->len, 7);
	ck_assert_str_eq(name_at(seen, 0), "web-01");
	ck_assert_str_eq(name_at(seen, 6), "web-10");
	ck_assert_int_lt(member_at(seen, "web-03"), 0);
	ck_assert_int_lt(member_at(seen, "web-08"), 0);
	ck_assert_int_lt(member_at(seen, "web-09"), 0);
	ck_assert_int_lt(member_at(seen, "web-11"), 0);
	ck_assert_int_lt(member_at(seen, "custom-backend"), 0);
	ck_assert_int_lt(member_at(seen, "web-template"), 0);
	ck_assert_uint_eq(seen->n_running, 4);
	ck_assert(member_named(seen, "web-05")->running);  /* blocked runs */
	ck_assert(!member_named(seen, "web-06")->running); /* paused does not */
	ck_assert(!member_named(seen, "web-10")->have_endpoint);
	ck_assert_ptr_null(member_named(seen, "web-10")->address);
	assert_same_pool(seen, acted);
	/* without sessions: the lowest CPU (web-05, 5%) */
	ck_assert_str_eq(name_at(seen, vs_pool_view_victim(seen)), "web-05");

	/* with the session counts: the fewest sessions */
	count_sessions(seen);
	count_sessions(acted);
	assert_same_pool(seen, acted);
	ck_assert_str_eq(name_at(seen, vs_pool_view_victim(seen)), "web-10");
}
END_TEST

START_TEST(aggregates)
{
	const vs_pool_config *pool;
	g_autoptr(vs_config) c = vs_test_pool("", &pool);
	g_autoptr(vs_pool_view) v = vs_pool_view_new(pool);

	/* added out of order: the view sorts by number */
	vs_pool_view_add(v, vs_test_member(pool, "web-03", VIR_DOMAIN_RUNNING, 90));
	vs_pool_view_add(v, vs_test_member(pool, "web-01", VIR_DOMAIN_RUNNING, 30));
	vs_pool_view_add(v, vs_test_member(pool, "web-04", VIR_DOMAIN_SHUTOFF, -1));
	vs_pool_view_add(v, vs_test_member(pool, "web-02", VIR_DOMAIN_BLOCKED, -1));
	vs_pool_view_aggregate(v);
	ck_assert_str_eq(name_at(v, 0), "web-01");
	ck_assert_str_eq(name_at(v, 3), "web-04");
	ck_assert_uint_eq(v->n_running, 3);
	/* CPU: unknown figures are left out, not counted as 0 */
	ck_assert_double_eq_tol(v->avg_cpu, 60, 1e-9);
	/* no session counts yet */
	ck_assert_double_lt(v->avg_sessions, 0);
	ck_assert_double_lt(v->min_ratio, 0);
	ck_assert_double_lt(v->max_ratio, 0);
	ck_assert_uint_eq(v->total_sessions, 0);
	ck_assert_uint_eq(v->sample_cpu->len, 3);

	vs_pool_view_set_sessions(v, 0, 65);
	vs_pool_view_set_sessions(v, 1, 80);
	vs_pool_view_set_sessions(v, 2, 5);
	vs_pool_view_set_sessions(v, 3, 1000); /* not running: ignored */
	vs_pool_view_set_sessions(v, 99, 1);   /* out of range: ignored */
	vs_pool_view_aggregate(v);

	ck_assert_double_eq_tol(member_named(v, "web-01")->ratio, 0.65, 1e-9);
	ck_assert_double_eq_tol(member_named(v, "web-03")->ratio, 0.05, 1e-9);
	ck_assert_uint_eq(v->n_running, 3);
	ck_assert_uint_eq(v->total_sessions, 150);
	ck_assert_double_eq_tol(v->avg_sessions, 50, 1e-9);
	ck_assert_double_eq_tol(v->min_ratio, 0.05, 1e-9);
	ck_assert_double_eq_tol(v->max_ratio, 0.80, 1e-9);

	/* the policy sample is the running members, in order */
	vs_policy_sample s = vs_pool_view_sample(v, 42, true);
	ck_assert_int_eq(s.now_ms, 42);
	ck_assert_uint_eq(s.n_running, 3);
	ck_assert_double_eq(s.cpu[0], 30);
	ck_assert_double_lt(s.cpu[1], 0);
	ck_assert_double_eq(s.sessions[1], 80);
	ck_assert_double_eq(s.sessions[2], 5);
	ck_assert_ptr_null(vs_pool_view_sample(v, 42, false).sessions);

	/* Partial session figures: averages over the members that have one. */
	((vs_member *)v->members->pdata[1])->sessions = -1;
	vs_pool_view_aggregate(v);
	ck_assert_uint_eq(v->total_sessions, 70);
	ck_assert_double_eq_tol(v->avg_sessions, 35, 1e-9);
	ck_assert_double_eq_tol(v->max_ratio, 0.65, 1e-9);
}
END_TEST

START_TEST(ratio_uses_capacity)
{
	const vs_pool_config *pool;
	g_autoptr(vs_config) c = vs_test_pool("session_capacity = 40\n", &pool);
	g_autoptr(vs_pool_view) v = vs_pool_view_new(pool);

	vs_pool_view_add(v, vs_test_member(pool, "web-01", VIR_DOMAIN_RUNNING, 10));
	vs_pool_view_aggregate(v);
	vs_pool_view_set_sessions(v, 0, 10);
	ck_assert_double_eq_tol(member_named(v, "web-01")->ratio, 0.25, 1e-9);
}
END_TEST

START_TEST(empty_pool)
{
	const vs_pool_config *pool;
	g_autoptr(vs_config) c = vs_test_pool("", &pool);
	g_autoptr(vs_snapshot) snap = vs_snapshot_new();
	g_autoptr(vs_pool_view) v = NULL;

	vs_test_snapshot_domain(snap, VS_TEST_HOST, "web-template", VIR_DOMAIN_SHUTOFF, -1, "web",
	                        NULL);
	v = vs_pool_view_from_snapshot(pool, snap);
	ck_assert_uint_eq(v->members->len, 0);
	ck_assert_uint_eq(v->n_running, 0);
	ck_assert_double_lt(v->avg_cpu, 0);
	ck_assert_double_lt(v->avg_sessions, 0);
	ck_assert_int_eq(vs_pool_view_victim(v), -1);
}
END_TEST

START_TEST(victim)
{
	const vs_pool_config *pool;
	g_autoptr(vs_config) c = vs_test_pool("", &pool);
	g_autoptr(vs_pool_view) v = vs_pool_view_new(pool);

	vs_pool_view_add(v, vs_test_member(pool, "web-01", VIR_DOMAIN_RUNNING, 10));
	vs_pool_view_add(v, vs_test_member(pool, "web-02", VIR_DOMAIN_RUNNING, 50));
	vs_pool_view_add(v, vs_test_member(pool, "web-03", VIR_DOMAIN_RUNNING, 30));
	/* not running: never the victim, however idle */
	vs_pool_view_add(v, vs_test_member(pool, "web-04", VIR_DOMAIN_PAUSED, 0));
	vs_pool_view_aggregate(v);

	/* no session figures: the lowest CPU */
	ck_assert_str_eq(name_at(v, vs_pool_view_victim(v)), "web-01");

	/* fewest sessions */
	vs_pool_view_set_sessions(v, 0, 7);
	vs_pool_view_set_sessions(v, 1, 2);
	vs_pool_view_set_sessions(v, 2, 4);
	vs_pool_view_set_sessions(v, 3, 0);
	vs_pool_view_aggregate(v);
	ck_assert_str_eq(name_at(v, vs_pool_view_victim(v)), "web-02");

	/* ties: the youngest (highest number) */
	vs_pool_view_set_sessions(v, 2, 2);
	vs_pool_view_aggregate(v);
	ck_assert_str_eq(name_at(v, vs_pool_view_victim(v)), "web-03");

	/* nothing running: none */
	g_autoptr(vs_pool_view) idle = vs_pool_view_new(pool);
	vs_pool_view_add(idle, vs_test_member(pool, "web-01", VIR_DOMAIN_SHUTOFF, -1));
	vs_pool_view_aggregate(idle);
	ck_assert_int_eq(vs_pool_view_victim(idle), -1);
}
END_TEST

/* Without session figures, a member whose CPU is not known yet does not
 * count as idler than one measured (the rule says: lowest known CPU). */
START_TEST(view_victim_lowest_known_cpu)
{
	const vs_pool_config *pool;
	g_autoptr(vs_config) c = vs_test_pool("", &pool);
	g_autoptr(vs_pool_view) v = vs_pool_view_new(pool);

	vs_pool_view_add(v, vs_test_member(pool, "web-01", VIR_DOMAIN_RUNNING, 20));
	vs_pool_view_add(v, vs_test_member(pool, "web-02", VIR_DOMAIN_RUNNING, 10));
	vs_pool_view_add(v, vs_test_member(pool, "web-03", VIR_DOMAIN_RUNNING, -1));
	vs_pool_view_aggregate(v);
	ck_assert_str_eq(name_at(v, vs_pool_view_victim(v)), "web-02");
}
END_TEST

START_TEST(copy_is_deep)
{
	const vs_pool_config *pool;
	g_autoptr(vs_config) c = vs_test_pool("", &pool);
	g_autoptr(vs_pool_view) v = vs_pool_view_new(pool);
	g_autoptr(vs_pool_view) copy = NULL;
	vs_member *m = vs_test_member(pool, "web-01", VIR_DOMAIN_RUNNING, 40);

	vs_member_set_address(m, "127.0.0.1:18101");
	vs_pool_view_add(v, m);
	vs_pool_view_aggregate(v);
	vs_pool_view_set_sessions(v, 0, 12);
	vs_pool_view_aggregate(v);
	copy = vs_pool_view_copy(v);
	g_clear_pointer(&v, vs_pool_view_free);
	ck_assert_uint_eq(copy->n_running, 1);
	ck_assert_uint_eq(copy->total_sessions, 12);
	ck_assert_str_eq(member_named(copy, "web-01")->address, "127.0.0.1:18101");
	ck_assert(member_named(copy, "web-01")->have_endpoint);
	ck_assert_uint_eq(member_named(copy, "web-01")->endpoint.port, 18101);
}
END_TEST

/* Warm instances: the tag's warm and template attributes, never running,
 * counted apart; a member still warming up keeps its CPU out of the
 * averages and the policy. */
START_TEST(warm_and_warmup)
{
	const vs_pool_config *pool;
	g_autoptr(vs_config) c = vs_test_pool("warmup = 30\n", &pool);
	g_autoptr(vs_snapshot) snap = vs_snapshot_new();
	g_autoptr(vs_pool_view) v = NULL;
	g_autofree char *tid = NULL, *bad = NULL, *xml = NULL, *id = NULL, *id2 = NULL;
	bool warm;
	vs_domain_stats *d;

	vs_domain_tag_accept_warm("yes", "0123abcdef", &warm, &tid);
	ck_assert(warm);
	ck_assert_str_eq(tid, "0123abcdef");
	vs_domain_tag_accept_warm("no", "xyz'", &warm, &bad);
	ck_assert(!warm);
	ck_assert_ptr_null(bad);
	xml = vs_domain_tag_xml_full("web", "127.0.0.1:18101", "ab12", true);
	ck_assert_str_eq(xml, "<virtscale pool='web' address='127.0.0.1:18101' template='ab12' "
	                      "warm='yes'/>");
	id = vs_template_identity("<domain/>");
	id2 = vs_template_identity("<domain><description>x</description></domain>");
	ck_assert_uint_eq(strlen(id), 64);
	ck_assert_str_ne(id, id2);

	vs_test_snapshot_domain(snap, VS_TEST_HOST, "web-01", VIR_DOMAIN_RUNNING, 20, "web",
	                        "127.0.0.1:18101");
	d = vs_test_snapshot_domain(snap, VS_TEST_HOST, "web-02", VIR_DOMAIN_RUNNING, 95, "web",
	                            "127.0.0.1:18102");
	d->started_real_us = g_get_real_time() - 5 * G_USEC_PER_SEC; /* warming up */
	d = vs_test_snapshot_domain(snap, VS_TEST_HOST, "web-03", VIR_DOMAIN_PAUSED, 0, "web",
	                            "127.0.0.1:18103");
	d->meta_warm = true;
	d = vs_test_snapshot_domain(snap, VS_TEST_HOST, "web-04", VIR_DOMAIN_RUNNING, 50, "web",
	                            "127.0.0.1:18104");
	d->meta_warm = true; /* a warm one still booting */
	v = vs_pool_view_from_snapshot(pool, snap);
	ck_assert_uint_eq(v->members->len, 4);
	ck_assert_uint_eq(v->n_running, 2);
	ck_assert_uint_eq(v->n_warm, 2);
	ck_assert(member_named(v, "web-02")->warming);
	ck_assert(!member_named(v, "web-04")->running);
	/* web-02's start-up CPU stays out */
	ck_assert_double_eq_tol(v->avg_cpu, 20, 1e-9);
	vs_policy_sample s = vs_pool_view_sample(v, 0, false);
	ck_assert_uint_eq(s.n_running, 2);
	ck_assert_double_lt(s.cpu[1], 0);
}
END_TEST

Suite *vs_test_suite(void)
{
	Suite *s = suite_create("pool");
	TCase *tc = tcase_create("pool");

	tcase_add_test(tc, member_names);
	tcase_add_test(tc, membership_rule);
	tcase_add_test(tc, running_rule);
	tcase_add_test(tc, tag_accept);
	tcase_add_test(tc, tag_xml);
	tcase_add_test(tc, monitors_and_actuator_agree);
	tcase_add_test(tc, aggregates);
	tcase_add_test(tc, ratio_uses_capacity);
	tcase_add_test(tc, empty_pool);
	tcase_add_test(tc, victim);
	tcase_add_test(tc, view_victim_lowest_known_cpu);
	tcase_add_test(tc, copy_is_deep);
	tcase_add_test(tc, warm_and_warmup);
	suite_add_tcase(s, tc);
	return s;
}
