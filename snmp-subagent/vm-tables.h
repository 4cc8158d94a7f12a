/*
 * vm-tables.h - the translation of one snapshot into VM-MIB varbinds: one
 * file per scalar group or table, each adding its rows to a builder rooted
 * at vmMIB (1.3.6.1.2.1.236).
 */
#ifndef VS_VM_TABLES_H
#define VS_VM_TABLES_H

#include "agent.h"

#define VM_TRUTH(b) ((b) ? 1 : 2) /* TruthValue */

void vm_scalars_add(vs_mib_builder *b, const vs_agent *a, const vs_snapshot *snap, unsigned n_rows);
/* @oper: its vmOperState (vm_oper_state(), or migrating from the actuator) */
void vm_table_add_row(vs_mib_builder *b, const vs_domain_stats *d, oid vm_index, int oper);
void vm_cpu_table_add_rows(vs_mib_builder *b, const vs_domain_stats *d, oid vm_index);
void vm_affinity_table_add_rows(vs_mib_builder *b, const vs_domain_stats *d, oid vm_index,
                                const vs_io_report *io);
void vm_storage_table_add_rows(vs_mib_builder *b, const vs_domain_stats *d, oid vm_index);
void vm_network_table_add_rows(vs_mib_builder *b, const vs_domain_stats *d, oid vm_index);

#endif
