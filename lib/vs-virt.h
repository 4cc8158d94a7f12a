/*
 * vs-virt.h - the one way every program holds a libvirt connection: opened
 * lazily, with libvirt's keepalive (a frozen or vanished libvirtd becomes a
 * failed call, never a thread blocked for good), reopened after a failure
 * no more often than an exponential backoff allows. Connections are
 * thread-safe: any thread may take one.
 *
 * Also the cleanup functions of libvirt's handles, so g_autoptr(virDomain)
 * and friends release them, and libvirt errors as GErrors of VS_VIRT_ERROR
 * (code: libvirt's virErrorNumber).
 */
#ifndef VS_VIRT_H
#define VS_VIRT_H

#include "vs-error.h"

#include <glib.h>
#include <libvirt/libvirt.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct vs_virt vs_virt;

/* @keepalive_interval_s x @keepalive_count unanswered probes close the
 * connection (libvirt's keepalive); 0 uses 5 x 6, for a loaded libvirtd. */
vs_virt *vs_virt_new(const char *uri, int keepalive_interval_s, unsigned keepalive_count);
void vs_virt_free(vs_virt *v);
const char *vs_virt_uri(const vs_virt *v);

/*
 * A live connection with a reference of its own (virConnectClose() it, or
 * hold it in a g_autoptr(virConnect)); NULL with @error while libvirtd is
 * unreachable: the next attempt waits out the backoff. *@fresh (may be
 * NULL) says the connection was opened by this call.
 */
virConnectPtr vs_virt_get(vs_virt *v, bool *fresh, GError **error);
/* After a failed call: drops the connection if it is dead, so the next
 * vs_virt_get() reconnects. */
void vs_virt_reset(vs_virt *v);
/* Milliseconds until the next connection attempt may be made. */
int64_t vs_virt_retry_in_ms(vs_virt *v);

/* The host's idle (idle + iowait) and total CPU time in ns, summed over its
 * CPUs (virNodeGetCPUStats); false when libvirt does not tell. */
bool vs_virt_node_cpu_times(virConnectPtr c, uint64_t *idle_ns, uint64_t *total_ns);

/* Sets @error from libvirt's last error of this thread, prefixed by @what. */
void vs_virt_set_error(GError **error, const char *what);

/* Cleanup of libvirt's handles for g_autoptr(). */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(virConnect, virConnectClose)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(virDomain, virDomainFree)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(virStoragePool, virStoragePoolFree)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(virStorageVol, virStorageVolFree)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vs_virt, vs_virt_free)

#endif
