/*
 * vs-collect-cgroup.c - the local fast path: a running domain's CPU time
 * read straight from its cgroup, the way libvirt itself computes cpu.time,
 * without a call to libvirtd or to the QEMU monitor.
 *
 * libvirt writes the QEMU pid to /run/libvirt/qemu/NAME.pid and moves the
 * process into the domain's cgroup (…/machine/qemu-ID-NAME.libvirt-qemu/,
 * threads in its emulator/ and vcpuN/ children). The domain's own
 * directory accounts for all of them: on cgroup v2 `cpu.stat` usage_usec,
 * on v1 `cpuacct.usage` (ns). Both are exactly what virsh domstats shows
 * as cpu.time. Without either we leave the domain to libvirt's cpu-total
 * group rather than approximate it.
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vs-collector-private.h"

#define QEMU_RUN_DIR "/run/libvirt/qemu"

typedef struct {
	char *v2; /* cgroup2 mount point, NULL if none */
	char *v1_cpuacct;
} cgroup_mounts;

static gpointer find_mounts(gpointer data)
{
	(void)data;
	cgroup_mounts *m = g_new0(cgroup_mounts, 1);
	g_autofree char *text = NULL;

	if (!g_file_get_contents("/proc/self/mountinfo", &text, NULL, NULL))
		return m;
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

	for (char **l = lines; *l; l++) {
		/* id parent maj:min root mountpoint options... - fstype source superopts */
		g_auto(GStrv) f = g_strsplit(*l, " ", -1);
		guint n = g_strv_length(f), dash = 0;

		for (guint i = 0; i < n; i++)
			if (strcmp(f[i], "-") == 0) {
				dash = i;
				break;
			}
		if (n < 5 || !dash || dash + 3 > n)
			continue;
		if (strcmp(f[dash + 1], "cgroup2") == 0 && !m->v2)
			m->v2 = g_strcompress(f[4]);
		else if (strcmp(f[dash + 1], "cgroup") == 0 && !m->v1_cpuacct) {
			g_auto(GStrv) opts = g_strsplit(f[dash + 3], ",", -1);

			if (g_strv_contains((const char *const *)opts, "cpuacct"))
				m->v1_cpuacct = g_strcompress(f[4]);
		}
	}
	return m;
}

static const cgroup_mounts *mounts(void)
{
	static GOnce once = G_ONCE_INIT;

	return g_once(&once, find_mounts, NULL);
}

static int domain_pid(const char *name)
{
	if (!name || strchr(name, '/') || name[0] == '.')
		return -1;
	g_autofree char *path = g_strdup_printf(QEMU_RUN_DIR "/%s.pid", name);
	g_autofree char *text = NULL;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		return -1;
	gint64 pid = g_ascii_strtoll(text, NULL, 10);

	return pid > 1 && pid < G_MAXINT ? (int)pid : -1;
}

/* The domain's cgroup directory from a process's cgroup path: libvirt puts
 * the QEMU main thread into the "emulator" child. */
static char *domain_dir(const char *base, const char *path)
{
	g_autofree char *p = g_strdup(path);
	size_t len = strlen(p);

	if (g_str_has_suffix(p, "/emulator"))
		p[len - strlen("/emulator")] = '\0';
	if (p[0] == '\0' || strcmp(p, "/") == 0)
		return NULL; /* the root cgroup is the whole host, not the domain */
	return g_strconcat(base, p, NULL);
}

/**
 * vs_collect_cgroup_find:
 * @dc: the domain's cache entry (its d->id must be the running id)
 * @name: the domain name (for its pid file)
 *
 * Locates the file holding the domain's cumulative CPU time and remembers
 * it in @dc for this run of the domain. Returns false if there is none
 * (then the caller uses libvirt's cpu-total group).
 */
bool vs_collect_cgroup_find(vs_dom_cache *dc, const char *name)
{
	const cgroup_mounts *m = mounts();
	int pid = domain_pid(name);

	g_clear_pointer(&dc->cpu_file, g_free);
	g_clear_pointer(&dc->cgroup_dir, g_free);
	dc->cpu_src = VS_CPU_SRC_NONE;
	dc->cpu_file_id = dc->d->id;
	dc->pid = pid;
	if (pid < 0)
		return false;
	g_autofree char *cgpath = g_strdup_printf("/proc/%d/cgroup", pid);
	g_autofree char *text = NULL;

	if (!g_file_get_contents(cgpath, &text, NULL, NULL))
		return false;
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

	for (char **l = lines; *l && dc->cpu_src == VS_CPU_SRC_NONE; l++) {
		g_auto(GStrv) f = g_strsplit(*l, ":", 3);

		if (g_strv_length(f) != 3)
			continue;
		if (strcmp(f[0], "0") == 0 && f[1][0] == '\0' && m->v2) {
			g_autofree char *dir = domain_dir(m->v2, f[2]);
			g_autofree char *file =
			    dir ? g_build_filename(dir, "cpu.stat", NULL) : NULL;

			if (file && access(file, R_OK) == 0) {
				dc->cpu_file = g_steal_pointer(&file);
				dc->cgroup_dir = g_steal_pointer(&dir);
				dc->cpu_src = VS_CPU_SRC_V2_STAT;
			}
		}
	}
	for (char **l = lines; *l && dc->cpu_src == VS_CPU_SRC_NONE; l++) {
		g_auto(GStrv) f = g_strsplit(*l, ":", 3);

		if (g_strv_length(f) != 3 || !m->v1_cpuacct)
			continue;
		g_auto(GStrv) ctrls = g_strsplit(f[1], ",", -1);

		if (!g_strv_contains((const char *const *)ctrls, "cpuacct"))
			continue;
		g_autofree char *dir = domain_dir(m->v1_cpuacct, f[2]);
		g_autofree char *file = dir ? g_build_filename(dir, "cpuacct.usage", NULL) : NULL;

		if (file && access(file, R_OK) == 0) {
			dc->cpu_file = g_steal_pointer(&file);
			dc->cgroup_dir = g_steal_pointer(&dir);
			dc->cpu_src = VS_CPU_SRC_V1_ACCT;
		}
	}
	return dc->cpu_src != VS_CPU_SRC_NONE;
}

/* Reads a small file into buf with one read(2): cheaper than stdio. */
static bool read_small(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "re");

	if (!f)
		return false;
	size_t n = fread(buf, 1, size - 1, f);

	fclose(f);
	buf[n] = '\0';
	return n > 0;
}

/**
 * vs_collect_cgroup_read:
 * @dc: a cache entry vs_collect_cgroup_find() succeeded for
 * @cpu_ns: (out) cumulative CPU time of the domain
 *
 * Returns false when the file is gone (the domain stopped meanwhile).
 */
bool vs_collect_cgroup_read(vs_dom_cache *dc, uint64_t *cpu_ns)
{
	char buf[1024];

	if (dc->cpu_src == VS_CPU_SRC_NONE || !read_small(dc->cpu_file, buf, sizeof(buf)))
		return false;
	if (dc->cpu_src == VS_CPU_SRC_V1_ACCT) {
		*cpu_ns = g_ascii_strtoull(buf, NULL, 10);
		return true;
	}
	const char *p = strstr(buf, "usage_usec ");

	if (!p)
		return false;
	*cpu_ns = g_ascii_strtoull(p + strlen("usage_usec "), NULL, 10) * 1000;
	return true;
}

/* utime + stime of one thread, in ns (libvirt's vcpu.N.time is exactly
 * this: the thread's /proc stat in clock ticks). */
static bool thread_cpu_ns(int pid, long tid, uint64_t *ns)
{
	char path[80], buf[1024];

	g_snprintf(path, sizeof(path), "/proc/%d/task/%ld/stat", pid, tid);
	if (!read_small(path, buf, sizeof(buf)))
		return false;
	char *p = strrchr(buf, ')'); /* the command name may hold spaces */

	if (!p)
		return false;
	p++;
	/* after ")": state is field 3; utime and stime are fields 14 and 15 */
	for (int field = 3; field < 14; field++) {
		p = strchr(p + 1, ' ');
		if (!p)
			return false;
	}
	char *end;
	uint64_t utime = g_ascii_strtoull(p + 1, &end, 10);
	uint64_t stime = g_ascii_strtoull(end, NULL, 10);
	long hz = sysconf(_SC_CLK_TCK);

	*ns = (utime + stime) * (1000000000ull / (uint64_t)(hz > 0 ? hz : 100));
	return true;
}

/**
 * vs_collect_cgroup_vcpus:
 * @dc: a cache entry vs_collect_cgroup_find() succeeded for
 *
 * Reads every online vCPU's time from its thread: libvirt puts vCPU N's
 * thread into the vcpuN/ child of the domain's cgroup (offline vCPUs have
 * none). Replaces d->vcpus and sets d->vcpu_current. Returns false when no
 * vCPU cgroup is found (then libvirt's vcpu group is used): this avoids
 * the QEMU monitor calls of that group (query-cpus-fast, query-stats).
 */
bool vs_collect_cgroup_vcpus(vs_dom_cache *dc)
{
	vs_domain_stats *d = dc->d;
	GArray *out;
	unsigned max = d->vcpu_max ? d->vcpu_max : 1;

	if (!dc->cgroup_dir || dc->pid <= 0)
		return false;
	out = g_array_new(FALSE, TRUE, sizeof(vs_vcpu_stats));
	for (unsigned i = 0; i < max; i++) {
		char path[PATH_MAX], buf[512];
		const char *list = dc->cpu_src == VS_CPU_SRC_V2_STAT ? "cgroup.threads" : "tasks";
		vs_vcpu_stats v = {.state = VIR_VCPU_RUNNING};
		bool found = false;

		g_snprintf(path, sizeof(path), "%s/vcpu%u/%s", dc->cgroup_dir, i, list);
		if (!read_small(path, buf, sizeof(buf)))
			continue; /* offline */
		for (char *p = buf; *p;) {
			char *end;
			long tid = strtol(p, &end, 10);
			uint64_t ns;

			if (end == p)
				break;
			if (tid > 0 && thread_cpu_ns(dc->pid, tid, &ns)) {
				v.time_ns += ns;
				found = true;
			}
			p = end;
		}
		if (found)
			g_array_append_val(out, v);
	}
	if (out->len == 0) {
		g_array_free(out, TRUE);
		return false;
	}
	g_free(d->vcpus);
	d->n_vcpus = out->len;
	d->vcpu_current = out->len;
	d->vcpus = (vs_vcpu_stats *)g_array_free(out, FALSE);
	return true;
}

/**
 * vs_collect_proc_rss_kib:
 * @pid: a running domain's QEMU process (vs_dom_cache.pid, found with its
 *	cgroup for this run of the domain: not read again from the pid file
 *	each refresh, one file less per domain and refresh)
 *
 * Returns the resident set size of the process from /proc/PID/statm
 * (what libvirt reports as balloon.rss), 0 if unknown.
 */
uint64_t vs_collect_proc_rss_kib(int pid)
{
	char path[64], buf[256];

	if (pid <= 1)
		return 0;
	g_snprintf(path, sizeof(path), "/proc/%d/statm", pid);
	if (!read_small(path, buf, sizeof(buf)))
		return 0;
	char *p = strchr(buf, ' ');

	if (!p)
		return 0;
	return g_ascii_strtoull(p + 1, NULL, 10) * (uint64_t)sysconf(_SC_PAGESIZE) / 1024;
}

/**
 * vs_collect_local_host_cpu:
 * @idle_ns: (out) cumulative idle + iowait time of all CPUs
 * @total_ns: (out) cumulative time of all CPUs
 *
 * Reads the first line of /proc/stat. Returns false if it cannot.
 */
bool vs_collect_local_host_cpu(uint64_t *idle_ns, uint64_t *total_ns)
{
	char buf[512];
	uint64_t v[10] = {0};

	if (!read_small("/proc/stat", buf, sizeof(buf)) || strncmp(buf, "cpu ", 4) != 0)
		return false;
	char *p = buf + 4;

	for (int i = 0; i < 8; i++)
		v[i] = g_ascii_strtoull(p, &p, 10);
	long hz = sysconf(_SC_CLK_TCK);
	uint64_t ns_per_tick = 1000000000ull / (uint64_t)(hz > 0 ? hz : 100);

	*idle_ns = (v[3] + v[4]) * ns_per_tick;
	*total_ns = 0;
	for (int i = 0; i < 8; i++)
		*total_ns += v[i] * ns_per_tick;
	return true;
}
