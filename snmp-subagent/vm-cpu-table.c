/* vm-cpu-table.c - vmCpuTable: one row per vCPU of a running domain */
#include "config.h"

#include "vm-tables.h"
#include "vs-snmp-oids.h"

/**
 * vm_cpu_table_add_rows:
 * vmCpuCoreTime (microseconds) of each vCPU libvirt reported; a shut-off
 * domain has no vCPUs and no rows.
 */
void vm_cpu_table_add_rows(vs_mib_builder *b, const vs_domain_stats *d, oid vm_index)
{
	const oid col[] = {VM_OBJECTS, VM_CPU_TABLE, 1, 2};
	for (size_t i = 0; d->vcpus && i < d->n_vcpus; i++) {
		const oid idx[] = {vm_index, i + 1};
		vs_mib_add_u64(b, col, G_N_ELEMENTS(col), idx, 2, d->vcpus[i].time_ns / 1000);
	}
}
