/*
 * test-states.c - the state tables of lib/vs-states.c: each table is
 * consistent on its own (unique names and MIB numbers, an unknown state,
 * names that read back), matches its textual convention in
 * mibs/VIRTSCALE-MIB.txt label for label and number for number, and every
 * state is documented where users read about it (virtscaled(8), the
 * notification protocol). Also vs_hundredths(), the MIB's VsHundredths.
 */
#include "config.h"

#include "vs-domain.h"
#include "vs-states.h"

#include "testutil.h"

#include <limits.h>
#include <math.h>
#include <string.h>

/* The tables vs_state_tables lists, counted once here so that a table
 * added there runs through every loop test below. */
static unsigned count_tables(void)
{
	unsigned n = 0;

	while (vs_state_tables[n])
		n++;
	return n;
}

START_TEST(every_table_listed_once)
{
	const vs_state_table *const expected[] = {
	    &vs_verdict_table,  &vs_phase_table,      &vs_action_table,    &vs_result_table,
	    &vs_lb_state_table, &vs_alert_kind_table, &vs_host_cond_table,
	};

	ck_assert_uint_eq(count_tables(), G_N_ELEMENTS(expected));
	for (size_t i = 0; i < G_N_ELEMENTS(expected); i++) {
		unsigned found = 0;

		for (unsigned k = 0; vs_state_tables[k]; k++)
			found += vs_state_tables[k] == expected[i];
		ck_assert_msg(found == 1, "table %s listed %u times", expected[i]->what, found);
	}
}
END_TEST

START_TEST(table_names_and_numbers_unique)
{
	const vs_state_table *t = vs_state_tables[_i];

	ck_assert_ptr_nonnull(t->what);
	ck_assert_ptr_nonnull(t->mib_type);
	ck_assert_uint_gt(t->n, 1);
	for (unsigned a = 0; a < t->n; a++) {
		const vs_state_entry *x = &t->entries[a];

		ck_assert_msg(x->name && *x->name, "%s[%u]: no name", t->what, a);
		ck_assert_msg(x->mib_label && *x->mib_label, "%s[%u]: no MIB label", t->what, a);
		ck_assert_msg(x->mib > 0, "%s %s: MIB enumerations start at 1", t->what, x->name);
		for (unsigned b = a + 1; b < t->n; b++) {
			const vs_state_entry *y = &t->entries[b];

			ck_assert_msg(strcmp(x->name, y->name) != 0, "%s: name %s twice", t->what,
			              x->name);
			ck_assert_msg(strcmp(x->mib_label, y->mib_label) != 0,
			              "%s: MIB label %s twice", t->what, x->mib_label);
			ck_assert_msg(x->mib != y->mib, "%s: MIB number %ld for %s and %s", t->what,
			              x->mib, x->name, y->name);
		}
	}
}
END_TEST

START_TEST(table_has_unknown)
{
	const vs_state_table *t = vs_state_tables[_i];

	ck_assert_uint_lt(t->unknown, t->n);
	ck_assert_str_eq(t->entries[t->unknown].name, "unknown");
	ck_assert_str_eq(t->entries[t->unknown].mib_label, "unknown");
}
END_TEST

START_TEST(table_names_round_trip)
{
	const vs_state_table *t = vs_state_tables[_i];
	unsigned v;

	for (unsigned i = 0; i < t->n; i++) {
		v = t->n + 7;
		ck_assert_msg(vs_state_from_name(t, t->entries[i].name, &v), "%s %s not read",
		              t->what, t->entries[i].name);
		ck_assert_uint_eq(v, i);
		ck_assert_str_eq(vs_state_name(t, i), t->entries[i].name);
		ck_assert_int_eq(vs_state_mib(t, i), t->entries[i].mib);
	}
	/* anything else reads as the unknown state, and says so */
	v = 0;
	ck_assert(!vs_state_from_name(t, "no-such-state", &v));
	ck_assert_uint_eq(v, t->unknown);
	v = 0;
	ck_assert(!vs_state_from_name(t, NULL, &v));
	ck_assert_uint_eq(v, t->unknown);
	v = 0;
	ck_assert(!vs_state_from_name(t, "", &v));
	ck_assert_uint_eq(v, t->unknown);
	/* names are exact: no case folding, no prefix */
	v = 0;
	ck_assert(!vs_state_from_name(t, "UNKNOWN", &v));
	ck_assert_uint_eq(v, t->unknown);
}
END_TEST

START_TEST(table_out_of_range_is_unknown)
{
	const vs_state_table *t = vs_state_tables[_i];
	const unsigned bad[] = {t->n, t->n + 1, 1000, UINT_MAX};

	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		ck_assert_str_eq(vs_state_name(t, bad[i]), "unknown");
		ck_assert_int_eq(vs_state_mib(t, bad[i]), t->entries[t->unknown].mib);
	}
}
END_TEST

/* The enum constants index their own entries (a table out of step with
 * its enum would name every state wrongly). */
START_TEST(typed_accessors)
{
	vs_verdict verdict;
	vs_phase phase;
	vs_action action;
	vs_result result;
	vs_lb_state lb;
	vs_alert_kind alert;
	vs_host_cond host;

	ck_assert_str_eq(vs_verdict_name(VS_VERDICT_OK), "ok");
	ck_assert_str_eq(vs_verdict_name(VS_VERDICT_HIGH), "high");
	ck_assert_str_eq(vs_verdict_name(VS_VERDICT_LOW), "low");
	ck_assert_str_eq(vs_verdict_name(VS_VERDICT_AT_MAX), "at_max");
	ck_assert_str_eq(vs_verdict_name(VS_VERDICT_UNKNOWN), "unknown");
	ck_assert_int_eq(vs_verdict_mib(VS_VERDICT_AT_MAX), 4);
	ck_assert(vs_verdict_from_name("low", &verdict));
	ck_assert_int_eq(verdict, VS_VERDICT_LOW);

	ck_assert_str_eq(vs_phase_name(VS_PHASE_IDLE), "idle");
	ck_assert_str_eq(vs_phase_name(VS_PHASE_SCALING_OUT), "scaling-out");
	ck_assert_str_eq(vs_phase_name(VS_PHASE_SCALING_IN), "scaling-in");
	ck_assert_str_eq(vs_phase_name(VS_PHASE_COOLDOWN), "cooldown");
	ck_assert(vs_phase_from_name("scaling-in", &phase));
	ck_assert_int_eq(phase, VS_PHASE_SCALING_IN);
	ck_assert(!vs_phase_from_name("scaling_in", &phase));
	ck_assert_int_eq(phase, VS_PHASE_UNKNOWN);

	ck_assert_str_eq(vs_action_name(VS_ACTION_NONE), "none");
	ck_assert_str_eq(vs_action_name(VS_ACTION_SCALE_OUT), "scale-out");
	ck_assert_str_eq(vs_action_name(VS_ACTION_SCALE_IN), "scale-in");
	ck_assert_str_eq(vs_action_name(VS_ACTION_RESTART), "restart");
	ck_assert_str_eq(vs_action_name(VS_ACTION_VCPU_ADD), "vcpu-add");
	ck_assert_str_eq(vs_action_name(VS_ACTION_VCPU_REMOVE), "vcpu-remove");
	ck_assert_str_eq(vs_action_name(VS_ACTION_MEMORY_ADD), "memory-add");
	ck_assert_str_eq(vs_action_name(VS_ACTION_MEMORY_REMOVE), "memory-remove");
	ck_assert(vs_action_from_name("vcpu-remove", &action));
	ck_assert_int_eq(action, VS_ACTION_VCPU_REMOVE);

	ck_assert_str_eq(vs_result_name(VS_RESULT_NONE), "none");
	ck_assert_str_eq(vs_result_name(VS_RESULT_OK), "ok");
	ck_assert_str_eq(vs_result_name(VS_RESULT_FAILED), "failed");
	ck_assert_str_eq(vs_result_name(VS_RESULT_RUNNING), "running");
	ck_assert_str_eq(vs_result_name(VS_RESULT_CANCELLED), "cancelled");
	/* published numbers never move: cancelled came after unknown */
	ck_assert_int_eq(vs_result_mib(VS_RESULT_UNKNOWN), 5);
	ck_assert_int_eq(vs_result_mib(VS_RESULT_CANCELLED), 6);
	ck_assert(vs_result_from_name("cancelled", &result));
	ck_assert_int_eq(result, VS_RESULT_CANCELLED);

	ck_assert_str_eq(vs_lb_state_name(VS_LB_STATE_UNKNOWN), "unknown");
	ck_assert_str_eq(vs_lb_state_name(VS_LB_STATE_ENABLED), "enabled");
	ck_assert_str_eq(vs_lb_state_name(VS_LB_STATE_DRAINING), "draining");
	ck_assert_str_eq(vs_lb_state_name(VS_LB_STATE_DISABLED), "disabled");
	ck_assert(vs_lb_state_from_name("draining", &lb));
	ck_assert_int_eq(lb, VS_LB_STATE_DRAINING);

	ck_assert_str_eq(vs_alert_kind_name(VS_ALERT_NONE), "none");
	ck_assert_str_eq(vs_alert_kind_name(VS_ALERT_AT_MAX), "at-max");
	ck_assert_str_eq(vs_alert_kind_name(VS_ALERT_ACTION_FAILED), "action-failed");
	ck_assert_str_eq(vs_alert_kind_name(VS_ALERT_RECONCILED), "reconciled");
	ck_assert_str_eq(vs_alert_kind_name(VS_ALERT_RECOVERED), "recovered");
	ck_assert_str_eq(vs_alert_kind_name(VS_ALERT_TEST), "test");
	ck_assert(vs_alert_kind_from_name("recovered", &alert));
	ck_assert_int_eq(alert, VS_ALERT_RECOVERED);
	ck_assert_int_eq(vs_alert_kind_mib(VS_ALERT_UNKNOWN), 7);

	ck_assert_str_eq(vs_host_cond_name(VS_HOST_COND_CONNECTED), "connected");
	ck_assert_str_eq(vs_host_cond_name(VS_HOST_COND_CONNECTING), "connecting");
	ck_assert_str_eq(vs_host_cond_name(VS_HOST_COND_DISCONNECTED), "disconnected");
	ck_assert_str_eq(vs_host_cond_name(VS_HOST_COND_LOST), "lost");
	ck_assert_int_eq(vs_host_cond_mib(VS_HOST_COND_CONNECTED), 1);
	ck_assert_int_eq(vs_host_cond_mib(VS_HOST_COND_LOST), 4);
	ck_assert_int_eq(vs_host_cond_mib(VS_HOST_COND_UNKNOWN), 5);
	ck_assert(vs_host_cond_from_name("lost", &host));
	ck_assert_int_eq(host, VS_HOST_COND_LOST);
}
END_TEST

/* A host's status as the monitors show it: lost wins over the connection
 * state, nothing sampled is unknown. */
START_TEST(host_status_condition)
{
	g_autoptr(vs_host_status) h = vs_host_status_new("qemu:///system");

	ck_assert_int_eq(vs_host_status_condition(NULL), VS_HOST_COND_UNKNOWN);
	h->state = VS_HOST_CONNECTING;
	ck_assert_int_eq(vs_host_status_condition(h), VS_HOST_COND_CONNECTING);
	h->state = VS_HOST_CONNECTED;
	ck_assert_int_eq(vs_host_status_condition(h), VS_HOST_COND_CONNECTED);
	h->state = VS_HOST_DISCONNECTED;
	ck_assert_int_eq(vs_host_status_condition(h), VS_HOST_COND_DISCONNECTED);
	h->lost = true;
	ck_assert_int_eq(vs_host_status_condition(h), VS_HOST_COND_LOST);
	/* the stuck-libvirtd case: still "connected", but down for host_grace */
	h->state = VS_HOST_CONNECTED;
	ck_assert_int_eq(vs_host_status_condition(h), VS_HOST_COND_LOST);
}
END_TEST

/* ---- VIRTSCALE-MIB ---------------------------------------------------------- */

/* The MIB without its comments ("--" to the end of the line). */
static char *mib_without_comments(void)
{
	g_autofree char *text = vs_test_read_source("mibs/VIRTSCALE-MIB.txt");
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	GString *out = g_string_new(NULL);

	for (char **l = lines; *l; l++) {
		char *dash = strstr(*l, "--");

		if (dash)
			*dash = '\0';
		g_string_append_printf(out, "%s\n", *l);
	}
	return g_string_free(out, FALSE);
}

/*
 * The label(number) pairs of the INTEGER enumeration of textual convention
 * @type in @mib, as "label=number" strings; NULL with *@why when @type is
 * not defined, or not as an enumeration. Only the convention's own text
 * (up to the next definition) is read, so a convention with another
 * SYNTAX never borrows the next one's enumeration.
 */
static GPtrArray *mib_enumeration(const char *mib, const char *type, char **why)
{
	g_autofree char *quoted = g_regex_escape_string(type, -1);
	g_autofree char *header_re =
	    g_strdup_printf("(?m)^\\s*%s\\s*::=\\s*TEXTUAL-CONVENTION\\b", quoted);
	g_autoptr(GRegex) header = g_regex_new(header_re, 0, 0, NULL);
	g_autoptr(GRegex) syntax =
	    g_regex_new("\\bSYNTAX\\s+(\\S+)\\s*(\\{([^}]*)\\})?", 0, 0, NULL);
	g_autoptr(GRegex) item =
	    g_regex_new("^\\s*([a-z][A-Za-z0-9-]*)\\s*\\(\\s*(-?[0-9]+)\\s*\\)\\s*$", 0, 0, NULL);
	g_autoptr(GMatchInfo) hm = NULL, sm = NULL;
	g_autoptr(GPtrArray) pairs = g_ptr_array_new_with_free_func(g_free);
	g_autofree char *body = NULL, *kind = NULL, *list = NULL;
	g_auto(GStrv) items = NULL;
	const char *next;
	int end = 0;

	ck_assert_ptr_nonnull(header);
	ck_assert_ptr_nonnull(syntax);
	ck_assert_ptr_nonnull(item);
	if (!g_regex_match(header, mib, 0, &hm)) {
		*why = g_strdup_printf("no textual convention %s", type);
		return NULL;
	}
	g_match_info_fetch_pos(hm, 0, NULL, &end);
	next = strstr(mib + end, "::=");
	body = next ? g_strndup(mib + end, (gsize)(next - (mib + end))) : g_strdup(mib + end);
	if (!g_regex_match(syntax, body, 0, &sm)) {
		*why = g_strdup_printf("%s has no SYNTAX clause", type);
		return NULL;
	}
	kind = g_match_info_fetch(sm, 1);
	list = g_match_info_fetch(sm, 3);
	if (strcmp(kind, "INTEGER") != 0 || !list || !*list) {
		*why = g_strdup_printf("%s: SYNTAX %s is not an INTEGER enumeration", type, kind);
		return NULL;
	}
	items = g_strsplit(list, ",", -1);
	for (char **i = items; *i; i++) {
		g_autoptr(GMatchInfo) im = NULL;
		g_autofree char *label = NULL, *number = NULL;

		if (!*g_strstrip(*i))
			continue;
		if (!g_regex_match(item, *i, 0, &im)) {
			*why = g_strdup_printf("%s: '%s' is not label(number)", type, *i);
			return NULL;
		}
		label = g_match_info_fetch(im, 1);
		number = g_match_info_fetch(im, 2);
		g_ptr_array_add(pairs, g_strdup_printf("%s=%s", label, number));
	}
	return g_steal_pointer(&pairs);
}

static bool pairs_contain(const GPtrArray *pairs, const char *pair)
{
	for (guint i = 0; i < pairs->len; i++)
		if (strcmp(pairs->pdata[i], pair) == 0)
			return true;
	return false;
}

START_TEST(table_matches_mib)
{
	const vs_state_table *t = vs_state_tables[_i];
	g_autofree char *mib = mib_without_comments();
	g_autofree char *why = NULL;
	g_autoptr(GPtrArray) pairs = mib_enumeration(mib, t->mib_type, &why);

	ck_assert_msg(pairs != NULL, "%s: VIRTSCALE-MIB: %s", t->what, why);
	for (unsigned i = 0; i < t->n; i++) {
		g_autofree char *pair =
		    g_strdup_printf("%s=%ld", t->entries[i].mib_label, t->entries[i].mib);

		ck_assert_msg(pairs_contain(pairs, pair), "%s %s: %s(%ld) is not in the MIB's %s",
		              t->what, t->entries[i].name, t->entries[i].mib_label,
		              t->entries[i].mib, t->mib_type);
	}
	/* and the MIB has nothing the table lacks (pairs are unique in the
	 * table, so equal counts mean equal sets) */
	ck_assert_msg(pairs->len == t->n, "%s: the MIB's %s has %u values, the table %u", t->what,
	              t->mib_type, pairs->len, t->n);
}
END_TEST

/* The MIB reader above must find what is there and refuse what is not,
 * or the comparison proves nothing. */
START_TEST(mib_reader_is_strict)
{
	const char *doc = "Good ::= TEXTUAL-CONVENTION\n"
	                  "    STATUS current\n"
	                  "    DESCRIPTION \"x\"\n"
	                  "    SYNTAX INTEGER { a(1), bC(2) }\n"
	                  "Octets ::= TEXTUAL-CONVENTION\n"
	                  "    STATUS current\n"
	                  "    SYNTAX OCTET STRING (SIZE (0..4))\n"
	                  "Bad ::= TEXTUAL-CONVENTION\n"
	                  "    SYNTAX INTEGER { x(1), y }\n"
	                  "Later ::= TEXTUAL-CONVENTION\n"
	                  "    SYNTAX INTEGER { z(9) }\n"
	                  "vsThing OBJECT-TYPE SYNTAX Good ::= { vsX 1 }\n";
	g_autofree char *why = NULL;
	g_autoptr(GPtrArray) good = mib_enumeration(doc, "Good", &why);

	ck_assert_ptr_nonnull(good);
	ck_assert_uint_eq(good->len, 2);
	ck_assert(pairs_contain(good, "a=1"));
	ck_assert(pairs_contain(good, "bC=2"));
	ck_assert(!pairs_contain(good, "z=9"));
	/* another SYNTAX does not borrow the next convention's enumeration */
	ck_assert_ptr_null(mib_enumeration(doc, "Octets", &why));
	ck_assert_ptr_nonnull(strstr(why, "OCTET"));
	g_clear_pointer(&why, g_free);
	ck_assert_ptr_null(mib_enumeration(doc, "Bad", &why));
	g_clear_pointer(&why, g_free);
	/* a name used as a SYNTAX is not a definition */
	ck_assert_ptr_null(mib_enumeration(doc, "Missing", &why));
	g_clear_pointer(&why, g_free);
	ck_assert_ptr_null(mib_enumeration(doc, "Goo", &why));
}
END_TEST

/* ---- documentation ---------------------------------------------------------- */

/* @text as plain words: roff font escapes and escaped hyphens, and
 * Markdown's escaped underscores and code marks, removed. */
static char *plain_text(const char *text)
{
	g_autoptr(GRegex) escapes = g_regex_new("\\\\f[BIRP]|\\\\f\\(..|\\\\&|`", 0, 0, NULL);
	g_autofree char *a = g_regex_replace_literal(escapes, text, -1, 0, "", 0, NULL);
	g_autoptr(GRegex) hyphen = g_regex_new("\\\\-", 0, 0, NULL);
	g_autofree char *b = g_regex_replace_literal(hyphen, a, -1, 0, "-", 0, NULL);
	g_autoptr(GRegex) underscore = g_regex_new("\\\\_", 0, 0, NULL);

	return g_regex_replace_literal(underscore, b, -1, 0, "_", 0, NULL);
}

/* Does @word appear in @text as a whole word (not inside a longer name)? */
static bool has_word(const char *text, const char *word)
{
	g_autofree char *quoted = g_regex_escape_string(word, -1);
	g_autofree char *pattern = g_strdup_printf("(?<![A-Za-z0-9_-])%s(?![A-Za-z0-9_-])", quoted);
	g_autoptr(GRegex) re = g_regex_new(pattern, 0, 0, NULL);

	return g_regex_match(re, text, 0, NULL);
}

START_TEST(word_matching)
{
	ck_assert(has_word("state scaling-out then", "scaling-out"));
	ck_assert(!has_word("state scaling-outward", "scaling-out"));
	ck_assert(!has_word("pre-scaling-out", "scaling-out"));
	ck_assert(has_word("(at_max)", "at_max"));
	g_autofree char *roff = plain_text("\\fBscaling\\-out\\fR and \\fIat\\_max\\fP");
	ck_assert_str_eq(roff, "scaling-out and at_max");
}
END_TEST

static void assert_documented(const vs_state_table *t, const char *doc, const char *where)
{
	for (unsigned i = 0; i < t->n; i++) {
		if (i == t->unknown)
			continue;
		ck_assert_msg(has_word(doc, t->entries[i].name), "%s %s is not documented in %s",
		              t->what, t->entries[i].name, where);
	}
}

START_TEST(actuator_states_in_manual)
{
	g_autofree char *raw = vs_test_read_source("docs/virtscaled.8");
	g_autofree char *manual = plain_text(raw);
	const vs_state_table *const tables[] = {&vs_phase_table, &vs_action_table, &vs_result_table,
	                                        &vs_lb_state_table, &vs_alert_kind_table};

	for (size_t i = 0; i < G_N_ELEMENTS(tables); i++)
		assert_documented(tables[i], manual, "docs/virtscaled.8");
}
END_TEST

START_TEST(host_states_in_manual)
{
	g_autofree char *raw = vs_test_read_source("docs/virtscale-snmp.8");
	g_autofree char *manual = plain_text(raw);

	assert_documented(&vs_host_cond_table, manual, "docs/virtscale-snmp.8");
}
END_TEST

START_TEST(verdicts_in_protocol)
{
	g_autofree char *raw = vs_test_read_source("docs/notification-protocol.md");
	g_autofree char *doc = plain_text(raw);

	assert_documented(&vs_verdict_table, doc, "docs/notification-protocol.md");
}
END_TEST

/* ---- VsHundredths ------------------------------------------------------------ */

START_TEST(hundredths)
{
	/* unknown */
	ck_assert_int_eq(vs_hundredths(-1), -1);
	ck_assert_int_eq(vs_hundredths(-0.001), -1);
	ck_assert_int_eq(vs_hundredths(-1e300), -1);
	ck_assert_int_eq(vs_hundredths(NAN), -1);
	/* rounded to the nearest hundredth (halves away from zero) */
	ck_assert_int_eq(vs_hundredths(0), 0);
	ck_assert_int_eq(vs_hundredths(12.34), 1234);
	ck_assert_int_eq(vs_hundredths(0.004), 0);
	ck_assert_int_eq(vs_hundredths(0.006), 1);
	ck_assert_int_eq(vs_hundredths(0.125), 13);
	ck_assert_int_eq(vs_hundredths(0.124), 12);
	ck_assert_int_eq(vs_hundredths(99.999), 10000);
	/* capped at 2^31-1 */
	ck_assert_int_eq(vs_hundredths(21474836.47), 2147483647);
	ck_assert_int_eq(vs_hundredths(21474836.48), 2147483647);
	ck_assert_int_eq(vs_hundredths(1e300), 2147483647);
	ck_assert_int_eq(vs_hundredths(INFINITY), 2147483647);
}
END_TEST

Suite *vs_test_suite(void)
{
	Suite *s = suite_create("states");
	TCase *tables = tcase_create("tables");
	TCase *mib = tcase_create("mib");
	TCase *docs = tcase_create("docs");
	TCase *numbers = tcase_create("numbers");
	int n = (int)count_tables();

	tcase_add_test(tables, every_table_listed_once);
	tcase_add_loop_test(tables, table_names_and_numbers_unique, 0, n);
	tcase_add_loop_test(tables, table_has_unknown, 0, n);
	tcase_add_loop_test(tables, table_names_round_trip, 0, n);
	tcase_add_loop_test(tables, table_out_of_range_is_unknown, 0, n);
	tcase_add_test(tables, typed_accessors);
	tcase_add_test(tables, host_status_condition);
	suite_add_tcase(s, tables);

	tcase_add_test(mib, mib_reader_is_strict);
	tcase_add_loop_test(mib, table_matches_mib, 0, n);
	suite_add_tcase(s, mib);

	tcase_add_test(docs, word_matching);
	tcase_add_test(docs, actuator_states_in_manual);
	tcase_add_test(docs, verdicts_in_protocol);
	tcase_add_test(docs, host_states_in_manual);
	suite_add_tcase(s, docs);

	tcase_add_test(numbers, hundredths);
	suite_add_tcase(s, numbers);
	return s;
}
