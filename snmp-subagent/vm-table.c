/* vm-table.c - vmTable: one row per domain */
#include "config.h"

#include "vm-state.h"
#include "vm-tables.h"
#include "vs-snmp-oids.h"

#include <libvirt/libvirt.h>

#define VM_MEM_UNIT 1024 /* vmMemUnit: memory columns are in KiB, as libvirt gives them */

static long clamp_i32(uint64_t v)
{
	return v > G_MAXINT32 ? G_MAXINT32 : (long)v;
}

static void add_col(vs_mib_builder *b, oid col, oid idx, u_char type, long v)
{
	const oid sub[] = {VM_OBJECTS, VM_TABLE, 1, col};
	vs_mib_add_int(b, sub, G_N_ELEMENTS(sub), &idx, 1, type, v);
}

/**
 * vm_table_add_row:
 * Every column of vmTable for @d. Memory is in KiB (vmMemUnit 1024);
 * vmMinMem and vmMinCpuNumber are -1 since libvirt has no floor; vmCpuTime
 * is in microseconds; vmUpTime counts from the last start we saw.
 */
void vm_table_add_row(vs_mib_builder *b, const vs_domain_stats *d, oid idx, int oper)
{
	const oid name[] = {VM_OBJECTS, VM_TABLE, 1, VM_COL_NAME};
	const oid uuid[] = {VM_OBJECTS, VM_TABLE, 1, VM_COL_UUID};
	const oid ostype[] = {VM_OBJECTS, VM_TABLE, 1, VM_COL_OSTYPE};
	const oid cputime[] = {VM_OBJECTS, VM_TABLE, 1, VM_COL_CPU_TIME};
	bool running = d->id >= 0 && d->state != VIR_DOMAIN_SHUTOFF;

	vs_mib_add_string(b, name, G_N_ELEMENTS(name), &idx, 1, d->name);
	vs_mib_add(b, uuid, G_N_ELEMENTS(uuid), &idx, 1, ASN_OCTET_STR, d->uuid, 16);
	vs_mib_add_string(b, ostype, G_N_ELEMENTS(ostype), &idx, 1, d->os_type);
	add_col(b, VM_COL_ADMIN, idx, ASN_INTEGER, vm_admin_state(d->state, d->reason));
	add_col(b, VM_COL_OPER, idx, ASN_INTEGER, oper);
	add_col(b, VM_COL_AUTOSTART, idx, ASN_INTEGER, d->autostart ? 2 : 3);
	add_col(b, VM_COL_PERSISTENT, idx, ASN_INTEGER, d->persistent ? 2 : 3);
	add_col(b, VM_COL_CUR_CPU, idx, ASN_INTEGER, d->vcpu_current);
	add_col(b, VM_COL_MIN_CPU, idx, ASN_INTEGER, -1);
	add_col(b, VM_COL_MAX_CPU, idx, ASN_INTEGER, d->vcpu_max ? (long)d->vcpu_max : -1);
	add_col(b, VM_COL_MEM_UNIT, idx, ASN_INTEGER, VM_MEM_UNIT);
	add_col(b, VM_COL_CUR_MEM, idx, ASN_INTEGER, clamp_i32(d->mem_current_kib));
	add_col(b, VM_COL_MIN_MEM, idx, ASN_INTEGER, -1);
	add_col(b, VM_COL_MAX_MEM, idx, ASN_INTEGER,
	        d->mem_max_kib ? clamp_i32(d->mem_max_kib) : -1);
	long up = 0;
	if (running && d->started_real_us > 0) {
		gint64 now = g_get_real_time();
		up = now > d->started_real_us ? (long)((now - d->started_real_us) / 10000) : 0;
	}
	add_col(b, VM_COL_UPTIME, idx, ASN_TIMETICKS, up);
	vs_mib_add_u64(b, cputime, G_N_ELEMENTS(cputime), &idx, 1, d->cpu_time_ns / 1000);
}
