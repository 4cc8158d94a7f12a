/* vm-mib.c - one snapshot -> the whole VM-MIB view; the two writable objects */
#include "config.h"

#include "vm-migrating.h"
#include "vm-rows.h"
#include "vm-state.h"
#include "vm-tables.h"
#include "vs-snmp-oids.h"

#include <string.h>

/* vmTableLastChange moves when a row appears, disappears or changes its
 * operational state (RFC 7666: "the last creation, deletion, or state
 * change of a row"). */
static void note_table_changes(vs_agent *a, GHashTable *keys)
{
	bool changed = g_hash_table_size(keys) != g_hash_table_size(a->row_key_by_uuid);
	GHashTableIter it;
	gpointer k, v;
	g_hash_table_iter_init(&it, keys);
	while (!changed && g_hash_table_iter_next(&it, &k, &v)) {
		gpointer old;
		if (!g_hash_table_lookup_extended(a->row_key_by_uuid, k, NULL, &old) || old != v)
			changed = true;
	}
	if (changed && a->snap)
		a->table_last_change = netsnmp_get_agent_uptime();
	g_hash_table_unref(a->row_key_by_uuid);
	a->row_key_by_uuid = g_hash_table_ref(keys);
}

/* How long a UUID must be missing from the snapshots before its vmIndex is
 * forgotten, unless libvirt said it was undefined: a snapshot taken while a
 * hypervisor (re)connects may list only some domains, and renumbering rows
 * for that would break every NMS's history. */
#define VM_INDEX_GRACE_US (60 * G_USEC_PER_SEC)

typedef struct keep_ctx {
	vs_agent *a;
	GHashTable *present;
	int64_t now;
} keep_ctx;

static bool keep_index(const char *uuid, void *opaque)
{
	keep_ctx *k = opaque;
	if (g_hash_table_contains(k->present, uuid)) {
		g_hash_table_remove(k->a->absent_since, uuid);
		g_hash_table_remove(k->a->undefined, uuid);
		return true;
	}
	if (g_hash_table_remove(k->a->undefined, uuid)) {
		g_hash_table_remove(k->a->absent_since, uuid);
		return false;
	}
	gpointer since;
	if (!g_hash_table_lookup_extended(k->a->absent_since, uuid, NULL, &since)) {
		int64_t *t = g_new(int64_t, 1);
		*t = k->now;
		g_hash_table_insert(k->a->absent_since, g_strdup(uuid), t);
		return true;
	}
	if (k->now - *(int64_t *)since < VM_INDEX_GRACE_US)
		return true;
	g_hash_table_remove(k->a->absent_since, uuid);
	return false;
}

/**
 * vm_mib_build:
 * Translates @snap into the VM-MIB view, one row per UUID of every host
 * (vm-rows.h): assigns (and persists) vmIndex for
 * new UUIDs, forgets those of domains that no longer exist (undefined, or
 * missing for a grace period, so a reconnect never renumbers anything), and
 * records operational states for the notifications' "previous state".
 */
vs_mib_view *vm_mib_build(vs_agent *a, const vs_snapshot *snap)
{
	static const oid root[] = {VM_MIB_ARC};
	vs_mib_builder b;
	vs_mib_builder_init(&b, root, G_N_ELEMENTS(root));

	g_autoptr(GHashTable) keys = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autoptr(GPtrArray) rows = vm_rows_select(snap);
	for (guint i = 0; i < rows->len; i++) {
		const vs_domain_stats *d = g_ptr_array_index(rows, i);
		oid idx = vs_vm_index_get(a->vm_index, d->uuid_str);
		int oper = vm_oper_state(d->state, d->reason);
		if (oper == VM_OPER_RUNNING &&
		    vm_migrating_out(a->io_report ? a->io_report->status : NULL, a->cfg, d))
			oper = VM_OPER_MIGRATING;
		vm_table_add_row(&b, d, idx, oper);
		vm_cpu_table_add_rows(&b, d, idx);
		vm_affinity_table_add_rows(&b, d, idx, a->io_report);
		vm_storage_table_add_rows(&b, d, idx);
		vm_network_table_add_rows(&b, d, idx);
		g_hash_table_replace(keys, g_strdup(d->uuid_str), GINT_TO_POINTER(oper));
		if (!g_hash_table_contains(a->oper_by_uuid, d->uuid_str))
			g_hash_table_insert(a->oper_by_uuid, g_strdup(d->uuid_str),
			                    GINT_TO_POINTER(oper));
	}
	keep_ctx k = {a, keys, g_get_monotonic_time()};
	vs_vm_index_retain(a->vm_index, keep_index, &k);
	vs_vm_index_save(a->vm_index);
	/* the previous states of domains that are gone go with their index */
	vs_vm_index_prune(a->vm_index, a->oper_by_uuid);
	note_table_changes(a, keys);
	vm_scalars_add(&b, a, snap, rows->len);
	return vs_mib_builder_finish(&b);
}

static bool is_scalar(const oid *name, size_t len, oid which)
{
	static const oid root[] = {VM_MIB_ARC, VM_OBJECTS};
	const size_t rl = G_N_ELEMENTS(root);
	return len == rl + 2 && snmp_oid_compare(name, rl, root, rl) == 0 && name[rl] == which &&
	       name[rl + 1] == 0;
}

/**
 * vm_mib_set_check:
 * Only vmPerVMNotificationsEnabled.0 and vmBulkNotificationsEnabled.0 are
 * writable (TruthValue); everything else is notWritable.
 */
int vm_mib_set_check(const oid *name, size_t len, const netsnmp_variable_list *vb, void *opaque)
{
	if (!is_scalar(name, len, VM_PER_VM_NOTIF) && !is_scalar(name, len, VM_BULK_NOTIF))
		return SNMP_ERR_NOTWRITABLE;
	if (vb->type != ASN_INTEGER)
		return SNMP_ERR_WRONGTYPE;
	if (*vb->val.integer != 1 && *vb->val.integer != 2)
		return SNMP_ERR_WRONGVALUE;
	return SNMP_ERR_NOERROR;
}

/**
 * vm_mib_set_apply: switches the notifications (not persistent, as the RFC
 * says), then serves a view rebuilt with the new value: views are never
 * written into.
 */
void vm_mib_set_apply(const oid *name, size_t len, long value, void *opaque)
{
	vs_agent *a = opaque;
	if (is_scalar(name, len, VM_PER_VM_NOTIF))
		a->per_vm_notifications = value == 1;
	else if (is_scalar(name, len, VM_BULK_NOTIF))
		a->bulk_notifications = value == 1;
	if (a->snap)
		vs_mib_subtree_set_view(&a->vm_tree, vm_mib_build(a, a->snap));
}
