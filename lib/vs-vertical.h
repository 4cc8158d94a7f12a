/*
 * vs-vertical.h - vertical scaling of one member on its own load (the Xen
 * elastic-cloud paper): every member has its own M-of-N windows
 * (vertical_debounce) on its own CPU% (of its vCPUs) and memory use (of
 * the memory its balloon gives it now).
 *
 *  CPU:    M of the last N samples above vertical_cpu_high -> +1 vCPU, up to
 *          its maximum; below vertical_cpu_low -> -1 vCPU, down to 1.
 *  Memory: above vertical_memory_high -> a bigger balloon (a quarter of its
 *          maximum more, up to the maximum); below vertical_memory_low -> a
 *          smaller one (a quarter less, never below a quarter of the maximum
 *          nor so low that what it uses would be above vertical_memory_high).
 *  Order:  scale_order = vertical-first: a member that can still grow does
 *          so before the pool adds an instance, and a member shrinks before
 *          the pool removes one; instances are added once the busy members
 *          are at their maximum. horizontal-first: members grow only when the
 *          pool is at max, and shrink only when it is at min.
 *
 * A window forgets its samples when the member's vCPUs (or memory) change:
 * the percentages then have another denominator.
 *
 * Pure: no I/O, no clock; the actuator feeds the samples (daemon/vertical-watch.c).
 */
#ifndef VS_VERTICAL_H
#define VS_VERTICAL_H

#include "vs-config.h"
#include "vs-policy.h"

#include <stdint.h>

/* One reading of one member. */
typedef struct vs_vertical_sample {
	double cpu_percent;   /* of its vCPUs since the last reading, <0 unknown */
	unsigned vcpus;       /* it has now */
	unsigned vcpus_max;   /* it may have */
	double mem_percent;   /* in use, of the memory it has now; <0 unknown */
	uint64_t mem_kib;     /* its balloon now, 0 unknown */
	uint64_t mem_max_kib; /* the balloon's ceiling, 0 unknown */
} vs_vertical_sample;

/* A member's windows, and what they were last fed with. */
typedef struct vs_vertical_window {
	vs_debounce cpu_high, cpu_low, mem_high, mem_low;
	unsigned vcpus;   /* of the last sample, 0 none */
	uint64_t mem_kib; /* likewise */
} vs_vertical_window;

/* What a member's windows ask for after a sample. */
typedef struct vs_vertical_step {
	int vcpu;        /* +1 one more vCPU, -1 one fewer, 0 nothing */
	int memory;      /* +1 a bigger balloon, -1 a smaller one, 0 nothing */
	bool cpu_at_max; /* its CPU window says high, and it has all its vCPUs */
	bool mem_at_max; /* its memory window says high, and it has all its memory */
	double cpu;      /* the sample's CPU% (for choosing among members) */
} vs_vertical_step;

void vs_vertical_window_init(vs_vertical_window *w, const vs_pool_config *cfg);
/* Forgets the CPU (@cpu) and/or memory (@memory) samples, after the
 * actuator changed that resource of the member. */
void vs_vertical_window_reset(vs_vertical_window *w, bool cpu, bool memory);
/* Adds one sample of the member; what its windows ask for now. A resource
 * the pool does not scale (vertical = vcpu | memory) is never asked for. */
vs_vertical_step vs_vertical_push(const vs_pool_config *cfg, vs_vertical_window *w,
                                  const vs_vertical_sample *s);
/* Does @st ask for anything? +1 grow (either resource), -1 shrink, 0 none;
 * growing wins. */
int vs_vertical_direction(const vs_vertical_step *st);

/* Memory use in percent from the guest's balloon statistics (KiB): of
 * @available, what is not @usable (or, unknown, not @unused); <0 when the
 * guest reports nothing. */
double vs_vertical_memory_percent(uint64_t available, uint64_t usable, uint64_t unused);
/* The balloon after one step in @direction from @cur_kib (@used_percent of
 * it in use, <0 unknown), within a quarter of @max_kib .. @max_kib; @cur_kib
 * when it cannot move. */
uint64_t vs_vertical_memory_target(const vs_pool_config *cfg, uint64_t cur_kib, uint64_t max_kib,
                                   double used_percent, int direction);

/* Is the domain of @xml (virDomainGetXMLDesc) emulated by TCG (<domain
 * type='qemu'>)? Its vCPUs are not hot-unplugged: QEMU 7.2 never reports
 * such a vCPU's removal (no DEVICE_DELETED for its alias), so libvirt keeps
 * counting it, and once libvirt counts again (a libvirtd restart) plugging
 * it back crashes QEMU. */
bool vs_vertical_tcg_domain(const char *xml);

/*
 * The order (scale_order): may a member grow (@direction +1) or shrink (-1)
 * now, with @running instances? vertical-first: always; horizontal-first:
 * grow only at max, shrink only at min.
 */
bool vs_vertical_allowed(const vs_pool_config *cfg, unsigned running, int direction);
/* Does a member that may grow hold back the pool's scale-out? Only with
 * vertical-first: horizontal-first adds instances first. */
bool vs_vertical_first(const vs_pool_config *cfg);

#endif
