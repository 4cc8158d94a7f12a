/* vm-scalars.c - VM-MIB hypervisor group and the scalars of vmObjects */
#include "config.h"

#include "vm-tables.h"
#include "vs-snmp-oids.h"

#include <stdio.h>
#include <string.h>

static const oid zero[] = {0};

/* The hypervisor is re-initialized when its host boots (KVM lives in the
 * kernel); for a remote hypervisor the best we know is when we connected. */
static unsigned long hv_uptime_ticks(const vs_host_status *h)
{
	gint64 now = g_get_real_time();
	if (h && h->uri && strstr(h->uri, ":///")) { /* local: no host part */
		g_autofree char *up = NULL;
		double secs;
		if (g_file_get_contents("/proc/uptime", &up, NULL, NULL) &&
		    sscanf(up, "%lf", &secs) == 1)
			return (unsigned long)(secs * 100.0);
	}
	if (h && h->connected_real_us > 0 && now > h->connected_real_us)
		return (unsigned long)((now - h->connected_real_us) / 10000);
	return 0;
}

static char *version_string(unsigned long v)
{
	return g_strdup_printf("%lu.%lu.%lu", v / 1000000, (v / 1000) % 1000, v % 1000);
}

/**
 * vm_scalars_add:
 * vmHvSoftware, vmHvVersion, vmHvObjectID, vmHvUpTime, vmNumber,
 * vmTableLastChange and the two notification switches. With several hosts
 * the hypervisor group describes the first one configured (the first row
 * of vsHostTable), whatever its state: a manager that reads the VM-MIB
 * alone sees one stable hypervisor; vsHostTable describes them all.
 */
void vm_scalars_add(vs_mib_builder *b, const vs_agent *a, const vs_snapshot *snap, unsigned n_rows)
{
	const vs_host_status *h =
	    snap->hosts && snap->hosts->len ? g_ptr_array_index(snap->hosts, 0) : NULL;
	static const oid sw[] = {VM_OBJECTS, VM_HYPERVISOR, 1};
	static const oid ver[] = {VM_OBJECTS, VM_HYPERVISOR, 2};
	static const oid objid[] = {VM_OBJECTS, VM_HYPERVISOR, 3};
	static const oid uptime[] = {VM_OBJECTS, VM_HYPERVISOR, 4};
	static const oid number[] = {VM_OBJECTS, VM_NUMBER};
	static const oid change[] = {VM_OBJECTS, VM_TABLE_CHANGE};
	static const oid per_vm[] = {VM_OBJECTS, VM_PER_VM_NOTIF};
	static const oid bulk[] = {VM_OBJECTS, VM_BULK_NOTIF};
	/* VIRTSCALE-MIB vsHypervisorLibvirt: the hypervisor as libvirt drives it */
	static const oid hv_id[] = {VS_ENTERPRISE_ARC, 3, 1};

	g_autofree char *software = NULL;
	g_autofree char *version = NULL;
	if (h && h->hypervisor) {
		g_autofree char *lib = version_string(h->lib_version);
		software = g_strdup_printf("%s via libvirt %s", h->hypervisor, lib);
		version = version_string(h->hv_version);
	}
	vs_mib_add_string(b, sw, G_N_ELEMENTS(sw), zero, 1, software);
	vs_mib_add_string(b, ver, G_N_ELEMENTS(ver), zero, 1, version);
	vs_mib_add(b, objid, G_N_ELEMENTS(objid), zero, 1, ASN_OBJECT_ID, hv_id, sizeof(hv_id));
	vs_mib_add_int(b, uptime, G_N_ELEMENTS(uptime), zero, 1, ASN_TIMETICKS,
	               (long)hv_uptime_ticks(h));
	vs_mib_add_int(b, number, G_N_ELEMENTS(number), zero, 1, ASN_INTEGER, n_rows);
	vs_mib_add_int(b, change, G_N_ELEMENTS(change), zero, 1, ASN_TIMETICKS,
	               (long)a->table_last_change);
	vs_mib_add_int(b, per_vm, G_N_ELEMENTS(per_vm), zero, 1, ASN_INTEGER,
	               VM_TRUTH(a->per_vm_notifications));
	vs_mib_add_int(b, bulk, G_N_ELEMENTS(bulk), zero, 1, ASN_INTEGER,
	               VM_TRUTH(a->bulk_notifications));
}
