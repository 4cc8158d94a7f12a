/* vm-storage-table.c - vmStorageTable: one row per disk of a domain */
#include "config.h"

#include "vm-tables.h"
#include "vs-snmp-oids.h"

#include <string.h>

#define STORAGE_SIZE_UNIT (1024 * 1024) /* vmStorageSizeUnit: MiB keeps Integer32 enough */

enum { SRC_UNKNOWN = 1, SRC_OTHER, SRC_BLOCK, SRC_RAW, SRC_SPARSE, SRC_NETWORK };
enum { MEDIA_OTHER = 1, MEDIA_UNKNOWN, MEDIA_HARD_DISK, MEDIA_OPTICAL, MEDIA_FLOPPY };

static long source_type(const vs_disk_stats *s)
{
	if (!s->source_type)
		return SRC_UNKNOWN;
	if (!strcmp(s->source_type, "block"))
		return SRC_BLOCK;
	if (!strcmp(s->source_type, "network"))
		return SRC_NETWORK;
	if (strcmp(s->source_type, "file") != 0 && strcmp(s->source_type, "volume") != 0)
		return SRC_OTHER; /* "dir", "nvme", "vhostuser" */
	/* An image file: raw as it is, or a format that allocates on write
	 * (qcow2, qed, vmdk, vdi, vhdx) - the RFC's sparse file. */
	if (!s->format)
		return SRC_UNKNOWN;
	return strcmp(s->format, "raw") == 0 ? SRC_RAW : SRC_SPARSE;
}

static long media_type(const vs_disk_stats *s)
{
	if (!s->device)
		return MEDIA_UNKNOWN;
	if (!strcmp(s->device, "disk") || !strcmp(s->device, "lun"))
		return MEDIA_HARD_DISK;
	if (!strcmp(s->device, "cdrom"))
		return MEDIA_OPTICAL;
	if (!strcmp(s->device, "floppy"))
		return MEDIA_FLOPPY;
	return MEDIA_OTHER;
}

static long size_in_units(uint64_t bytes)
{
	if (bytes == 0)
		return -1;
	uint64_t u = (bytes + STORAGE_SIZE_UNIT - 1) / STORAGE_SIZE_UNIT;
	return u > G_MAXINT32 ? G_MAXINT32 : (long)u;
}

static void add_int(vs_mib_builder *b, oid col, const oid *idx, long v)
{
	const oid sub[] = {VM_OBJECTS, VM_STORAGE, 1, col};
	vs_mib_add_int(b, sub, G_N_ELEMENTS(sub), idx, 2, ASN_INTEGER, v);
}

static void add_u64(vs_mib_builder *b, oid col, const oid *idx, uint64_t v)
{
	const oid sub[] = {VM_OBJECTS, VM_STORAGE, 1, col};
	vs_mib_add_u64(b, sub, G_N_ELEMENTS(sub), idx, 2, v);
}

static void add_str(vs_mib_builder *b, oid col, const oid *idx, const char *s)
{
	const oid sub[] = {VM_OBJECTS, VM_STORAGE, 1, col};
	/* SnmpAdminString (SIZE (0..255)): a longer path is cut at 255 bytes */
	size_t len = s ? strlen(s) : 0;
	vs_mib_add(b, sub, G_N_ELEMENTS(sub), idx, 2, ASN_OCTET_STR, s ? s : "", MIN(len, 255));
}

/**
 * vm_storage_table_add_rows:
 * One row per disk, indexed (vmIndex, position from 1). Sizes in MiB
 * (-1 unknown); I/O counters and latencies (microseconds) as libvirt's
 * block stats give them, zero until the block group has been sampled.
 */
void vm_storage_table_add_rows(vs_mib_builder *b, const vs_domain_stats *d, oid vm_index)
{
	for (size_t i = 0; d->disks && i < d->n_disks; i++) {
		const vs_disk_stats *s = &d->disks[i];
		const oid idx[] = {vm_index, i + 1};
		add_int(b, 3, idx, 0); /* vmStorageParent: not in hrStorageTable */
		add_int(b, 4, idx, source_type(s));
		add_str(b, 5, idx, s->source_type ? s->source_type : "");
		add_str(b, 6, idx, s->source ? s->source : "");
		add_int(b, 7, idx, s->read_only ? 3 : 2);
		add_int(b, 8, idx, media_type(s));
		add_str(b, 9, idx, s->device ? s->device : "");
		add_int(b, 10, idx, STORAGE_SIZE_UNIT);
		add_int(b, 11, idx, size_in_units(s->capacity));
		add_int(b, 12, idx, size_in_units(s->allocation));
		add_u64(b, 13, idx, s->rd_reqs);
		add_u64(b, 14, idx, s->wr_reqs);
		add_u64(b, 15, idx, s->rd_bytes);
		add_u64(b, 16, idx, s->wr_bytes);
		add_u64(b, 17, idx, s->rd_times_ns / 1000);
		add_u64(b, 18, idx, s->wr_times_ns / 1000);
	}
}
