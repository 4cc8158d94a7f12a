/* vm-notify.c - VM-MIB notifications from libvirt lifecycle events */
#include "config.h"

#include "vm-state.h"
#include "vs-snmp-oids.h"
#include "agent.h"

#include <libvirt/libvirt.h>
#include <string.h>

static const oid snmp_trap_oid[] = {1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0};

#define VM_NOTIF_DELETED 10
#define VM_NOTIF_BULK    10 /* vmBulkX = vmX + 10 */

/* The operational state an event leaves the domain in; 0 = the event is
 * not a state change (defined, undefined). The event kind and detail are
 * authoritative here: new_state may have been read after a later change. */
static int event_oper_state(const vs_vm_event *ev)
{
	switch (ev->kind) {
	case VS_EVENT_STARTED:
	case VS_EVENT_RESUMED:
		return VM_OPER_RUNNING;
	case VS_EVENT_SUSPENDED:
		if (ev->libvirt_event == VIR_DOMAIN_EVENT_SUSPENDED &&
		    (ev->libvirt_detail == VIR_DOMAIN_EVENT_SUSPENDED_MIGRATED ||
		     ev->libvirt_detail == VIR_DOMAIN_EVENT_SUSPENDED_POSTCOPY))
			return VM_OPER_MIGRATING;
		return VM_OPER_PAUSED;
	case VS_EVENT_MIGRATING:
		return VM_OPER_MIGRATING;
	case VS_EVENT_STOPPED:
		if (ev->libvirt_event == VIR_DOMAIN_EVENT_STOPPED) {
			if (ev->libvirt_detail == VIR_DOMAIN_EVENT_STOPPED_CRASHED)
				return VM_OPER_CRASHED;
			if (ev->libvirt_detail == VIR_DOMAIN_EVENT_STOPPED_SAVED)
				return VM_OPER_SUSPENDED;
			if (ev->libvirt_detail == VIR_DOMAIN_EVENT_STOPPED_MIGRATED)
				return VM_OPER_MIGRATING;
		}
		return VM_OPER_SHUTDOWN;
	case VS_EVENT_SHUTDOWN:
		return VM_OPER_SHUTTINGDOWN;
	case VS_EVENT_PMSUSPENDED:
		return VM_OPER_SUSPENDED;
	case VS_EVENT_CRASHED:
		return VM_OPER_CRASHED;
	default:
		return 0;
	}
}

static void add_row_var(netsnmp_variable_list **vars, oid col, oid idx, u_char type,
                        const void *val, size_t len)
{
	const oid name[] = {VM_MIB_ARC, VM_OBJECTS, VM_TABLE, 1, col, idx};
	snmp_varlist_add_variable(vars, name, G_N_ELEMENTS(name), type, val, len);
}

static void send_per_vm(int notif, const vs_vm_event *ev, oid idx, long prev_oper, long persistent)
{
	const oid trap[] = {VM_MIB_ARC, 0, notif};
	netsnmp_variable_list *vars = NULL;
	snmp_varlist_add_variable(&vars, snmp_trap_oid, G_N_ELEMENTS(snmp_trap_oid), ASN_OBJECT_ID,
	                          trap, sizeof(trap));
	const char *name = ev->name ? ev->name : "";
	add_row_var(&vars, VM_COL_NAME, idx, ASN_OCTET_STR, name, MIN(strlen(name), 255));
	add_row_var(&vars, VM_COL_UUID, idx, ASN_OCTET_STR, ev->uuid, 16);
	add_row_var(&vars, VM_COL_OPER, idx, ASN_INTEGER, &prev_oper, sizeof(prev_oper));
	if (notif == VM_NOTIF_DELETED)
		add_row_var(&vars, VM_COL_PERSISTENT, idx, ASN_INTEGER, &persistent,
		            sizeof(persistent));
	send_v2trap(vars);
	snmp_free_varbind(vars);
}

/* vmAffectedVMs: bit (vmIndex - 1), most significant bit first. */
static void bitmap_set(GByteArray *bits, oid idx)
{
	if (idx == 0 || idx > 8u * 65535u)
		return;
	size_t byte = (idx - 1) / 8;
	while (bits->len <= byte) {
		guint8 z = 0;
		g_byte_array_append(bits, &z, 1);
	}
	bits->data[byte] |= (guint8)(0x80u >> ((idx - 1) % 8));
}

static void send_bulk(int notif, GByteArray *bits)
{
	const oid trap[] = {VM_MIB_ARC, 0, notif + VM_NOTIF_BULK};
	const oid affected[] = {VM_MIB_ARC, VM_OBJECTS, VM_AFFECTED_VMS, 0};
	netsnmp_variable_list *vars = NULL;
	snmp_varlist_add_variable(&vars, snmp_trap_oid, G_N_ELEMENTS(snmp_trap_oid), ASN_OBJECT_ID,
	                          trap, sizeof(trap));
	snmp_varlist_add_variable(&vars, affected, G_N_ELEMENTS(affected), ASN_OCTET_STR,
	                          bits->data, bits->len);
	send_v2trap(vars);
	snmp_free_varbind(vars);
}

typedef struct pending_notif {
	int notif;
	vs_vm_event *ev;
	oid idx;
	long prev, persistent;
} pending_notif;

static bool was_persistent(const vs_agent *a, const vs_vm_event *ev)
{
	const vs_domain_stats *d = a->snap ? vs_snapshot_find_uuid(a->snap, ev->uuid) : NULL;
	/* only a persistent domain can be undefined */
	return d ? d->persistent : ev->kind == VS_EVENT_UNDEFINED;
}

/**
 * vm_notify_events:
 * Turns the queued lifecycle events into notifications: per VM with
 * vmName, vmUUID and the *previous* vmOperState (RFC 7666), or one bulk
 * notification with vmAffectedVMs when at least bulk_threshold domains
 * entered the same state in this batch (or per-VM ones are disabled).
 * A repeated event for a state already announced is not re-announced.
 */
void vm_notify_events(vs_agent *a, GQueue *events)
{
	GArray *out = g_array_new(FALSE, FALSE, sizeof(pending_notif));
	for (GList *l = events->head; l; l = l->next) {
		vs_vm_event *ev = l->data;
		oid idx = vs_vm_index_get(a->vm_index, ev->uuid_str);
		gpointer v;
		long prev = VM_OPER_UNKNOWN;
		bool have = g_hash_table_lookup_extended(a->oper_by_uuid, ev->uuid_str, NULL, &v);
		int mark = have ? GPOINTER_TO_INT(v) : 0;
		if (have)
			prev = mark & 0xff;
		else if (ev->old_state >= 0)
			prev = vm_oper_state(ev->old_state, 0);

		if (ev->kind == VS_EVENT_UNDEFINED) {
			pending_notif p = {VM_NOTIF_DELETED, ev, idx, prev,
			                   was_persistent(a, ev) ? 2 : 3};
			g_array_append_val(out, p);
			g_hash_table_remove(a->oper_by_uuid, ev->uuid_str);
			/* its vmIndex goes once the snapshots no longer list it */
			g_hash_table_add(a->undefined, g_strdup(ev->uuid_str));
			continue;
		}
		int oper = event_oper_state(ev);
		if (ev->kind == VS_EVENT_DEFINED && !have) {
			/* a newly defined domain is off unless libvirt says otherwise */
			int defined = ev->new_state >= 0
			                  ? vm_oper_state(ev->new_state, ev->new_reason)
			                  : VM_OPER_SHUTDOWN;
			g_hash_table_insert(a->oper_by_uuid, g_strdup(ev->uuid_str),
			                    GINT_TO_POINTER(defined | VM_OPER_FROM_EVENT));
		}
		if (oper == 0)
			continue;
		if ((mark & VM_OPER_FROM_EVENT) && prev == oper)
			continue; /* already announced */
		g_hash_table_replace(a->oper_by_uuid, g_strdup(ev->uuid_str),
		                     GINT_TO_POINTER(oper | VM_OPER_FROM_EVENT));
		int notif = vm_oper_notification(oper);
		if (notif) {
			pending_notif p = {notif, ev, idx, prev, 0};
			g_array_append_val(out, p);
		}
		/* a transient domain that stops is gone: announce the deletion too */
		if (ev->kind == VS_EVENT_STOPPED && a->snap) {
			const vs_domain_stats *d = vs_snapshot_find_uuid(a->snap, ev->uuid);
			if (d && !d->persistent) {
				pending_notif p = {VM_NOTIF_DELETED, ev, idx, oper, 3};
				g_array_append_val(out, p);
			}
		}
	}

	/* Per-VM notifications go out in event order; a state many domains
	 * entered together goes out once, as its bulk variant. */
	bool bulk[VM_NOTIF_DELETED + 1] = {false};
	for (int notif = 1; notif <= VM_NOTIF_DELETED; notif++) {
		unsigned count = 0;
		for (guint i = 0; i < out->len; i++)
			count += g_array_index(out, pending_notif, i).notif == notif;
		bulk[notif] = count > 0 && a->bulk_notifications &&
		              (count >= a->bulk_threshold || !a->per_vm_notifications);
	}
	for (guint i = 0; a->per_vm_notifications && i < out->len; i++) {
		pending_notif *p = &g_array_index(out, pending_notif, i);
		if (!bulk[p->notif])
			send_per_vm(p->notif, p->ev, p->idx, p->prev, p->persistent);
	}
	for (int notif = 1; notif <= VM_NOTIF_DELETED; notif++) {
		if (!bulk[notif])
			continue;
		GByteArray *bits = g_byte_array_new();
		for (guint i = 0; i < out->len; i++) {
			pending_notif *p = &g_array_index(out, pending_notif, i);
			if (p->notif == notif)
				bitmap_set(bits, p->idx);
		}
		send_bulk(notif, bits);
		g_byte_array_unref(bits);
	}
	g_array_free(out, TRUE);
}
