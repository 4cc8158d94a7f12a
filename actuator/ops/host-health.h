/*
 * host-health.h - what the actuator knows of each hypervisor between two
 * jobs: since when it has not answered (a pool on it waits host_grace,
 * then counts its instances as lost), the domain names it had when it last
 * answered (a clone elsewhere must not take one of them: the host comes
 * back with its domains), and its measured CPU idle, free memory and
 * round-trip time for placement = weighted (sampled by the host watch,
 * daemon/host-watch.c). The CPU figure is what the host's running domains
 * leave of its CPUs (libvirt's cpu.time of each, between two samples): the
 * load placement can move, and what each libvirtd alone can tell (two
 * hosts on one machine see the same /proc/stat).
 *
 * Threads: any thread; a mutex inside, never held across a libvirt call;
 * vs_host_health_sample() from one thread only.
 */
#ifndef VS_HOST_HEALTH_H
#define VS_HOST_HEALTH_H

#include "vs-placement.h"

#include <glib.h>
#include <libvirt/libvirt.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct vs_host_health vs_host_health;

vs_host_health *vs_host_health_new(void);
void vs_host_health_free(vs_host_health *h);

/* The host answered; @names (NULL-terminated, may be NULL) are all its
 * domains now. */
void vs_host_health_answered(vs_host_health *h, const char *const *names);
/* A call to the host failed at @now_us (monotonic). */
void vs_host_health_failed(vs_host_health *h, int64_t now_us);
/* Since when it has not answered (monotonic), 0 when it answers. */
int64_t vs_host_health_down_since(vs_host_health *h);
/* Did the host have a domain named @name when it last answered? */
bool vs_host_health_had_name(vs_host_health *h, const char *name);
/* Has it ever been listed (its names are known)? */
bool vs_host_health_listed(vs_host_health *h);

/*
 * One sample of @c (blocking: the host watch's thread, the only caller):
 * the share of its CPUs its domains left idle since the previous sample,
 * free memory fraction, round trip of one call. Marks the host answered,
 * or failed when a call fails.
 */
void vs_host_health_sample(vs_host_health *h, virConnectPtr c);
/* The sampled figures into @out (cpu_idle, mem_free, rtt_ms; <0 unknown). */
void vs_host_health_figures(vs_host_health *h, vs_placement_host *out);
/* Percent of the host's CPUs domain @name used between the last two
 * samples, <0 unknown. */
double vs_host_health_domain_cpu(vs_host_health *h, const char *name);
/* How many samples with a CPU figure were taken (a new one: it changed). */
uint64_t vs_host_health_samples(vs_host_health *h);
/* A migration from or to the host starts (+1) or ends (-1). */
void vs_host_health_migration(vs_host_health *h, int delta);
/* Migrations from or to the host under way. */
unsigned vs_host_health_migrations(vs_host_health *h);

#endif
