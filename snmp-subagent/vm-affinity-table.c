/* vm-affinity-table.c - vmCpuAffinityTable: vCPU x host CPU pinning */
#include "config.h"

#include "vm-tables.h"
#include "vs-snmp-oids.h"

/* hrDeviceIndex of host CPU N in net-snmp's HOST-RESOURCES-MIB
 * (HRDEV_PROC << 8 | N), which vmCpuPhysIndex refers to. */
#define HR_DEVICE_PROCESSOR_BASE 768

/**
 * vm_affinity_table_add_rows:
 * enable(1)/disable(2) for every vCPU and host CPU, from the pinning the
 * I/O worker collected; no rows for a domain whose pinning is not known
 * yet (never a guess).
 */
void vm_affinity_table_add_rows(vs_mib_builder *b, const vs_domain_stats *d, oid vm_index,
                                const vs_io_report *io)
{
	const oid col[] = {VM_OBJECTS, VM_AFFINITY, 1, 3};
	if (!io || !io->affinity || io->host_cpus == 0 || d->id < 0)
		return;
	GByteArray *flags = g_hash_table_lookup(io->affinity, d->uuid_str);
	if (!flags)
		return;
	unsigned ncpus = io->host_cpus;
	unsigned nvcpus = flags->len / ncpus;
	for (unsigned v = 0; v < nvcpus; v++)
		for (unsigned p = 0; p < ncpus; p++) {
			const oid idx[] = {vm_index, v + 1, HR_DEVICE_PROCESSOR_BASE + p};
			vs_mib_add_int(b, col, G_N_ELEMENTS(col), idx, 3, ASN_INTEGER,
			               flags->data[v * ncpus + p] ? 1 : 2);
		}
}
