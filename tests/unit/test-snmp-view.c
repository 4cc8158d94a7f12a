/*
 * test-snmp-view.c - the pure parts of virtscale-snmp: the sorted varbind
 * view (GET/GETNEXT lookups), the persistent vmIndex map and the libvirt
 * state to VM-MIB state mapping.
 */
#include "config.h"

#include "mib-text.h"
#include "mib-view.h"
#include "vm-index.h"
#include "vm-rows.h"
#include "vm-state.h"
#include "vs-validate.h"

#include "testutil.h"

#include <glib/gstdio.h>
#include <libvirt/libvirt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const oid root[] = {1, 3, 6, 1, 2, 1, 236};

static vs_mib_view *sample_view(void)
{
	vs_mib_builder b;
	vs_mib_builder_init(&b, root, G_N_ELEMENTS(root));
	/* added out of order, with one duplicate */
	const oid name_col[] = {1, 4, 1, 2};
	const oid oper_col[] = {1, 4, 1, 6};
	const oid number[] = {1, 2};
	const oid zero[] = {0};
	oid i10 = 10, i2 = 2;
	vs_mib_add_int(&b, oper_col, 4, &i10, 1, ASN_INTEGER, 11);
	vs_mib_add_string(&b, name_col, 4, &i10, 1, "ten");
	vs_mib_add_string(&b, name_col, 4, &i2, 1, "two");
	vs_mib_add_int(&b, oper_col, 4, &i2, 1, ASN_INTEGER, 4);
	vs_mib_add_int(&b, number, 2, zero, 1, ASN_INTEGER, 2);
	vs_mib_add_string(&b, name_col, 4, &i2, 1, "duplicate");
	vs_mib_add_u64(&b, (const oid[]){1, 4, 1, 17}, 4, &i2, 1, 0x100000002ull);
	return vs_mib_builder_finish(&b);
}

START_TEST(view_is_sorted_without_duplicates)
{
	vs_mib_view *v = sample_view();
	ck_assert_uint_eq(v->n_vars, 6);
	for (size_t i = 1; i < v->n_vars; i++)
		ck_assert_int_lt(snmp_oid_compare(v->vars[i - 1].name, v->vars[i - 1].name_len,
		                                  v->vars[i].name, v->vars[i].name_len),
		                 0);
	/* the first one added wins */
	const oid two[] = {1, 3, 6, 1, 2, 1, 236, 1, 4, 1, 2, 2};
	const vs_mib_var *e = vs_mib_view_find(v, two, G_N_ELEMENTS(two));
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(e->val_len, 3);
	ck_assert_int_eq(memcmp(e->val, "two", 3), 0);
	vs_mib_view_free(v);
}
END_TEST

START_TEST(view_getnext_walks_in_oid_order)
{
	vs_mib_view *v = sample_view();
	/* from the root: vmNumber.0 first, then vmName.2, vmName.10, vmOperState.2 ... */
	const vs_mib_var *e = vs_mib_view_next(v, root, G_N_ELEMENTS(root), false);
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(e->name_len, 10);
	ck_assert_uint_eq(e->name[7], 1);
	ck_assert_uint_eq(e->name[8], 2);
	ck_assert_int_eq(*(long *)e->val, 2);
	e = vs_mib_view_next(v, e->name, e->name_len, false);
	ck_assert_uint_eq(e->name[e->name_len - 1], 2);
	ck_assert_uint_eq(e->name[e->name_len - 2], 2);
	e = vs_mib_view_next(v, e->name, e->name_len, false);
	ck_assert_uint_eq(e->name[e->name_len - 1], 10);
	/* inclusive returns the entry itself */
	const vs_mib_var *same = vs_mib_view_next(v, e->name, e->name_len, true);
	ck_assert_ptr_eq(same, e);
	/* an OID between rows: the next row */
	const oid between[] = {1, 3, 6, 1, 2, 1, 236, 1, 4, 1, 2, 5, 7};
	e = vs_mib_view_next(v, between, G_N_ELEMENTS(between), false);
	ck_assert_uint_eq(e->name[e->name_len - 1], 10);
	/* past the last: nothing, the agent moves on to the next subtree */
	const oid after[] = {1, 3, 6, 1, 2, 1, 237};
	ck_assert_ptr_null(vs_mib_view_next(v, after, G_N_ELEMENTS(after), false));
	/* a GET of a missing instance finds nothing */
	const oid missing[] = {1, 3, 6, 1, 2, 1, 236, 1, 4, 1, 2, 3};
	ck_assert_ptr_null(vs_mib_view_find(v, missing, G_N_ELEMENTS(missing)));
	vs_mib_view_free(v);
}
END_TEST

START_TEST(view_counter64_split)
{
	vs_mib_view *v = sample_view();
	const oid cpu[] = {1, 3, 6, 1, 2, 1, 236, 1, 4, 1, 17, 2};
	const vs_mib_var *e = vs_mib_view_find(v, cpu, G_N_ELEMENTS(cpu));
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(e->type, ASN_COUNTER64);
	const struct counter64 *c = e->val;
	ck_assert_uint_eq(c->high, 1);
	ck_assert_uint_eq(c->low, 2);
	vs_mib_view_free(v);
}
END_TEST

static const char *U1 = "11111111-2222-3333-4444-555555555555";
static const char *U2 = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
static const char *U3 = "99999999-8888-7777-6666-555555555555";

static bool keep_only_u2(const char *uuid, void *opaque)
{
	return strcmp(uuid, U2) == 0;
}

START_TEST(vm_index_persists_and_never_reuses)
{
	g_autofree char *dir = g_dir_make_tmp("vs-vmindex-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, "sub", "vm-index.map", NULL);

	vs_vm_index *m = vs_vm_index_load(path);
	ck_assert_int_eq(vs_vm_index_get(m, U1), 1);
	ck_assert_int_eq(vs_vm_index_get(m, U2), 2);
	ck_assert_int_eq(vs_vm_index_get(m, U1), 1);
	/* case does not matter */
	g_autofree char *upper = g_ascii_strup(U2, -1);
	ck_assert_int_eq(vs_vm_index_lookup(m, upper), 2);
	ck_assert(vs_vm_index_save(m));
	vs_vm_index_free(m);

	m = vs_vm_index_load(path);
	ck_assert_int_eq(vs_vm_index_lookup(m, U1), 1);
	ck_assert_int_eq(vs_vm_index_lookup(m, U2), 2);
	/* a forgotten UUID's index is not handed out again */
	vs_vm_index_retain(m, keep_only_u2, NULL);
	ck_assert_int_eq(vs_vm_index_lookup(m, U1), 0);
	ck_assert_int_eq(vs_vm_index_get(m, U3), 3);
	ck_assert(vs_vm_index_save(m));
	vs_vm_index_free(m);

	m = vs_vm_index_load(path);
	ck_assert_int_eq(vs_vm_index_get(m, U1), 4);
	vs_vm_index_free(m);

	g_autofree char *sub = g_path_get_dirname(path);
	g_unlink(path);
	g_rmdir(sub);
	g_rmdir(dir);
}
END_TEST

START_TEST(vm_index_skips_malformed_lines)
{
	g_autofree char *dir = g_dir_make_tmp("vs-vmindex-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, "vm-index.map", NULL);
	const char *text = "# comment\nnext 7\n3 11111111-2222-3333-4444-555555555555\n"
	                   "garbage line\n-4 aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee\n5 not-a-uuid\n";
	ck_assert(g_file_set_contents(path, text, -1, NULL));
	vs_vm_index *m = vs_vm_index_load(path);
	ck_assert_int_eq(vs_vm_index_lookup(m, U1), 3);
	ck_assert_int_eq(vs_vm_index_lookup(m, U2), 0);
	ck_assert_int_eq(vs_vm_index_get(m, U2), 7);
	vs_vm_index_free(m);
	g_unlink(path);
	g_rmdir(dir);
}
END_TEST

START_TEST(oper_state_from_state_and_reason)
{
	ck_assert_int_eq(vm_oper_state(VIR_DOMAIN_RUNNING, 1), VM_OPER_RUNNING);
	ck_assert_int_eq(vm_oper_state(VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_USER), VM_OPER_PAUSED);
	ck_assert_int_eq(vm_oper_state(VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_MIGRATION),
	                 VM_OPER_MIGRATING);
	ck_assert_int_eq(vm_oper_state(VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_SAVE),
	                 VM_OPER_SUSPENDING);
	ck_assert_int_eq(vm_oper_state(VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_STARTING_UP),
	                 VM_OPER_PREPARING);
	ck_assert_int_eq(vm_oper_state(VIR_DOMAIN_SHUTDOWN, 0), VM_OPER_SHUTTINGDOWN);
	ck_assert_int_eq(vm_oper_state(VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_DESTROYED),
	                 VM_OPER_SHUTDOWN);
	ck_assert_int_eq(vm_oper_state(VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_SAVED),
	                 VM_OPER_SUSPENDED);
	ck_assert_int_eq(vm_oper_state(VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_CRASHED),
	                 VM_OPER_CRASHED);
	ck_assert_int_eq(vm_oper_state(VIR_DOMAIN_CRASHED, 0), VM_OPER_CRASHED);
	ck_assert_int_eq(vm_oper_state(VIR_DOMAIN_PMSUSPENDED, 0), VM_OPER_SUSPENDED);
	ck_assert_int_eq(vm_oper_state(VIR_DOMAIN_NOSTATE, 0), VM_OPER_UNKNOWN);
	ck_assert_int_eq(vm_admin_state(VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_USER),
	                 VM_ADMIN_PAUSED);
	ck_assert_int_eq(vm_admin_state(VIR_DOMAIN_SHUTOFF, 0), VM_ADMIN_SHUTDOWN);
	ck_assert_int_eq(vm_admin_state(VIR_DOMAIN_RUNNING, 1), VM_ADMIN_RUNNING);
	/* notification numbers follow RFC 7666 */
	ck_assert_int_eq(vm_oper_notification(VM_OPER_RUNNING), 1);
	ck_assert_int_eq(vm_oper_notification(VM_OPER_SHUTDOWN), 3);
	ck_assert_int_eq(vm_oper_notification(VM_OPER_CRASHED), 9);
	ck_assert_int_eq(vm_oper_notification(VM_OPER_PREPARING), 0);
}
END_TEST

/* A symlink planted where the map's temporary file once had a fixed name
 * (PATH.tmp), or at the map itself, is never followed: the file it points
 * to keeps its content. */
START_TEST(vm_index_save_follows_no_planted_symlink)
{
	g_autofree char *dir = g_dir_make_tmp("vs-vmindex-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, "vm-index.map", NULL);
	g_autofree char *tmp = g_strconcat(path, ".tmp", NULL);
	g_autofree char *victim = g_build_filename(dir, "victim", NULL);
	g_autofree char *text = NULL;
	vs_vm_index *m;

	ck_assert(g_file_set_contents(victim, "precious\n", -1, NULL));
	ck_assert_int_eq(symlink(victim, tmp), 0);
	m = vs_vm_index_load(path);
	vs_vm_index_get(m, U1);
	ck_assert(vs_vm_index_save(m));
	vs_vm_index_free(m);
	ck_assert(g_file_get_contents(victim, &text, NULL, NULL));
	ck_assert_str_eq(text, "precious\n");
	ck_assert(g_file_test(tmp, G_FILE_TEST_IS_SYMLINK));
	g_clear_pointer(&text, g_free);
	ck_assert(g_file_get_contents(path, &text, NULL, NULL));
	ck_assert_ptr_nonnull(strstr(text, U1));

	/* the map itself a symlink: replaced, not written through */
	g_unlink(path);
	ck_assert_int_eq(symlink(victim, path), 0);
	m = vs_vm_index_load(path); /* reads "precious": a malformed line, skipped */
	vs_vm_index_get(m, U2);
	ck_assert(vs_vm_index_save(m));
	vs_vm_index_free(m);
	g_clear_pointer(&text, g_free);
	ck_assert(g_file_get_contents(victim, &text, NULL, NULL));
	ck_assert_str_eq(text, "precious\n");
	ck_assert(!g_file_test(path, G_FILE_TEST_IS_SYMLINK));

	g_unlink(path);
	g_unlink(tmp);
	g_unlink(victim);
	g_rmdir(dir);
}
END_TEST

static const char *transient_uuid; /* the one domain of the round still there */

static bool keep_persistent(const char *uuid, void *opaque)
{
	return strcmp(uuid, U1) == 0 || (transient_uuid && strcmp(uuid, transient_uuid) == 0);
}

/* What the subagent remembers of each domain (its last operational state,
 * for the notifications' "previous state") ends with the domain's vmIndex:
 * a thousand transient domains created and destroyed leave nothing behind. */
START_TEST(remembered_states_end_with_the_index)
{
	vs_vm_index *m = vs_vm_index_load(NULL);
	GHashTable *oper = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

	vs_vm_index_get(m, U1);
	g_hash_table_insert(oper, g_strdup(U1), GINT_TO_POINTER(4));
	for (int i = 0; i < 1000; i++) {
		g_autofree char *uuid = g_uuid_string_random();

		/* it starts: an index and a state; the persistent one is kept */
		vs_vm_index_get(m, uuid);
		g_hash_table_insert(oper, g_strdup(uuid), GINT_TO_POINTER(4));
		transient_uuid = uuid;
		vs_vm_index_retain(m, keep_persistent, NULL);
		ck_assert_uint_eq(vs_vm_index_prune(m, oper), 0);
		ck_assert_uint_eq(g_hash_table_size(oper), 2);
		/* it is destroyed: gone from libvirt, its index forgotten */
		transient_uuid = NULL;
		vs_vm_index_retain(m, keep_persistent, NULL);
		ck_assert_uint_eq(vs_vm_index_prune(m, oper), 1);
		ck_assert_uint_eq(g_hash_table_size(oper), 1);
	}
	ck_assert(g_hash_table_contains(oper, U1));
	/* keys in capitals are the same UUIDs */
	g_hash_table_insert(oper, g_ascii_strup(U1, -1), GINT_TO_POINTER(4));
	ck_assert_uint_eq(vs_vm_index_prune(m, oper), 0);
	g_hash_table_destroy(oper);
	vs_vm_index_free(m);
}
END_TEST

/* Assigning a new vmIndex costs the same with thousands of rows as with
 * one: the free index is found without a pass over every UUID. 40000 new
 * domains took seconds when every assignment scanned the map. */
START_TEST(vm_index_assignment_does_not_scan_the_map)
{
	vs_vm_index *m = vs_vm_index_load(NULL);
	enum { N = 40000 };
	char **uuids = g_new0(char *, N + 1);

	for (int i = 0; i < N; i++)
		uuids[i] = g_uuid_string_random();
	int64_t t0 = g_get_monotonic_time();

	for (int i = 0; i < N; i++)
		ck_assert_int_eq(vs_vm_index_get(m, uuids[i]), i + 1);
	int64_t dt = g_get_monotonic_time() - t0;

	ck_assert_msg(dt < 1000000, "%d assignments took %.2f s", N, dt / 1e6);
	g_strfreev(uuids);
	vs_vm_index_free(m);
}
END_TEST

/* After the counter wraps, the indexes still held are skipped, those given
 * up are handed out again, and a UUID that a damaged map listed twice
 * frees its earlier index. */
START_TEST(vm_index_wraps_around_indexes_in_use)
{
	g_autofree char *dir = g_dir_make_tmp("vs-vmindex-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, "vm-index.map", NULL);
	const char *text = "next 5\n1 11111111-2222-3333-4444-555555555555\n"
	                   "2 99999999-8888-7777-6666-555555555555\n"
	                   "3 99999999-8888-7777-6666-555555555555\n"
	                   "2147483646 aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee\n";
	ck_assert(g_file_set_contents(path, text, -1, NULL));
	vs_vm_index *m = vs_vm_index_load(path);

	ck_assert_int_eq(vs_vm_index_lookup(m, U3), 3);
	/* next is 2^31 - 1: wraps to 1 (U1's), 2 is free again (U3 moved to 3) */
	ck_assert_int_eq(vs_vm_index_get(m, "00000000-0000-0000-0000-000000000001"), 2);
	/* 3 is U3's: skipped, unless U3 is forgotten */
	vs_vm_index_forget(m, U3);
	ck_assert_int_eq(vs_vm_index_get(m, "00000000-0000-0000-0000-000000000002"), 3);
	ck_assert_int_eq(vs_vm_index_get(m, U3), 4);
	/* U2 is still held: the next wrap skips it */
	ck_assert_int_eq(vs_vm_index_lookup(m, U2), 2147483646);
	vs_vm_index_free(m);
	g_unlink(path);
	g_rmdir(dir);
}
END_TEST

/* vsPoolLastError, as GET serves it and vsActionFailed carries it: at most
 * 255 bytes, never a character cut in two, one line of printable text. */
START_TEST(last_error_cut_for_the_mib)
{
	char out[VS_POOL_LAST_ERROR_MAX + 1];
	GString *in = g_string_new(NULL);
	GRand *rand = g_rand_new_with_seed(255);

	/* multi-line `nginx -t` output */
	ck_assert_uint_eq(vs_mib_last_error("lb-add: nginx -t failed:\nnginx: [emerg] x\n", out),
	                  strlen("lb-add: nginx -t failed:?nginx: [emerg] x?"));
	ck_assert_str_eq(out, "lb-add: nginx -t failed:?nginx: [emerg] x?");
	/* the 1024 bytes status.json allows: cut to 255 */
	while (in->len < 1024)
		g_string_append_c(in, 'e');
	ck_assert_uint_eq(vs_mib_last_error(in->str, out), 255);
	/* 254 bytes then a 2-byte character: the character goes whole */
	g_string_truncate(in, 254);
	g_string_append(in, "\xc3\xa9tail");
	ck_assert_uint_eq(vs_mib_last_error(in->str, out), 254);
	/* 253 bytes then a 3-byte character */
	g_string_truncate(in, 253);
	g_string_append(in, "\xe2\x82\xac");
	ck_assert_uint_eq(vs_mib_last_error(in->str, out), 253);
	/* a 2-byte character that ends exactly at byte 255 stays */
	g_string_truncate(in, 253);
	g_string_append(in, "\xc3\xa9");
	ck_assert_uint_eq(vs_mib_last_error(in->str, out), 255);
	ck_assert(g_str_has_suffix(out, "\xc3\xa9"));
	/* invalid UTF-8 and NULL */
	ck_assert_uint_eq(vs_mib_last_error("a\xff\xc0\xaf", out), 4);
	ck_assert_str_eq(out, "a???");
	ck_assert_uint_eq(vs_mib_last_error(NULL, out), 0);
	/* whatever comes in, what goes out is printable UTF-8 within the SIZE */
	for (int i = 0; i < 2000; i++) {
		guint len = (guint)g_rand_int_range(rand, 0, 600);
		g_string_truncate(in, 0);
		for (guint j = 0; j < len; j++)
			g_string_append_c(in, (char)g_rand_int_range(rand, 1, 0x100));
		size_t n = vs_mib_last_error(in->str, out);
		ck_assert_uint_le(n, VS_POOL_LAST_ERROR_MAX);
		ck_assert_uint_eq(n, strlen(out));
		ck_assert(vs_valid_text(out, n));
	}
	g_rand_free(rand);
	g_string_free(in, TRUE);
}
END_TEST

static vs_domain_stats *domain_on(vs_snapshot *s, const char *uri, const char *name,
                                  const char *uuid, int state, int id)
{
	vs_domain_stats *d = vs_domain_stats_new();

	d->host_uri = g_strdup(uri);
	d->name = g_strdup(name);
	g_strlcpy(d->uuid_str, uuid, sizeof(d->uuid_str));
	d->state = state;
	d->id = id;
	g_ptr_array_add(s->domains, d);
	return d;
}

/* One vmTable row per UUID: the same name on two hosts is two rows; one
 * UUID on two hosts (a migration) is one row, the running domain's, else
 * the first configured host's. */
START_TEST(vm_rows_one_per_uuid)
{
	g_autoptr(vs_snapshot) s = vs_snapshot_new();
	const char *a = "qemu:///system", *b = "qemu+tcp://127.0.0.1:16510/system";

	/* host order of the configuration: b first */
	g_ptr_array_add(s->hosts, vs_host_status_new(b));
	g_ptr_array_add(s->hosts, vs_host_status_new(a));
	vs_domain_stats *same_a =
	    domain_on(s, a, "web", "11111111-1111-1111-1111-111111111111", VIR_DOMAIN_RUNNING, 3);
	vs_domain_stats *same_b =
	    domain_on(s, b, "web", "22222222-2222-2222-2222-222222222222", VIR_DOMAIN_SHUTOFF, -1);
	/* migrating: running on a, paused (incoming) on b */
	vs_domain_stats *src =
	    domain_on(s, a, "mig", "33333333-3333-3333-3333-333333333333", VIR_DOMAIN_RUNNING, 4);
	domain_on(s, b, "mig", "33333333-3333-3333-3333-333333333333", VIR_DOMAIN_PAUSED, 9);
	/* defined on both, off on both: the first configured host (b) */
	domain_on(s, a, "off", "44444444-4444-4444-4444-444444444444", VIR_DOMAIN_SHUTOFF, -1);
	vs_domain_stats *off_b =
	    domain_on(s, b, "off", "44444444-4444-4444-4444-444444444444", VIR_DOMAIN_SHUTOFF, -1);
	/* after the migration: paused on a (its source, cleaning up), running on b */
	domain_on(s, a, "done", "55555555-5555-5555-5555-555555555555", VIR_DOMAIN_PAUSED, 5);
	vs_domain_stats *dst =
	    domain_on(s, b, "done", "55555555-5555-5555-5555-555555555555", VIR_DOMAIN_RUNNING, 6);
	g_autoptr(GPtrArray) rows = vm_rows_select(s);

	ck_assert_uint_eq(rows->len, 5);
	ck_assert_ptr_eq(rows->pdata[0], same_a);
	ck_assert_ptr_eq(rows->pdata[1], same_b);
	ck_assert_ptr_eq(rows->pdata[2], src);
	ck_assert_ptr_eq(rows->pdata[3], off_b);
	ck_assert_ptr_eq(rows->pdata[4], dst);
}
END_TEST

Suite *vs_test_suite(void)
{
	Suite *s = suite_create("snmp-view");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, view_is_sorted_without_duplicates);
	tcase_add_test(tc, view_getnext_walks_in_oid_order);
	tcase_add_test(tc, view_counter64_split);
	tcase_add_test(tc, vm_index_persists_and_never_reuses);
	tcase_add_test(tc, vm_index_skips_malformed_lines);
	tcase_add_test(tc, vm_index_assignment_does_not_scan_the_map);
	tcase_add_test(tc, vm_index_wraps_around_indexes_in_use);
	tcase_add_test(tc, oper_state_from_state_and_reason);
	tcase_add_test(tc, last_error_cut_for_the_mib);
	tcase_add_test(tc, remembered_states_end_with_the_index);
	tcase_add_test(tc, vm_index_save_follows_no_planted_symlink);
	tcase_add_test(tc, vm_rows_one_per_uuid);
	suite_add_tcase(s, tc);
	return s;
}
