/*
 * lb-nginx.c - "lb = nginx": open-source nginx has no runtime API, so the
 * pool's upstream block lives in an include file this driver owns. Every
 * change: parse the file back (it is the only state), render the new one,
 * replace it atomically, `nginx -t` against the real main config, reload,
 * confirm that a new worker generation started, and on any failure put the
 * previous file back. Unchanged content is not reloaded.
 */
#include "config.h"

#include "lb-internal.h"
#include "lb-nginx-render.h"

#include "vs-file.h"
#include "vs-log.h"
#include "vs-validate.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* How long a reload may take to start new workers before we call it failed. */
#define RELOAD_CONFIRM_MS 10000

typedef enum {
	NGINX_ADD,
	NGINX_ENABLE,
	NGINX_DRAIN,
	NGINX_REMOVE,
	NGINX_WEIGHT,
	NGINX_RENDER, /* membership unchanged: the settings only */
} nginx_op;

static const char *nginx_binary(const vs_lb *lb)
{
	return lb->cfg->nginx_binary ? lb->cfg->nginx_binary : "nginx";
}

/**
 * vs_lb_nginx_init: checks that the [nginx] keys the driver needs are set.
 */
bool vs_lb_nginx_init(vs_lb *lb, GError **error)
{
	const vs_config *c = lb->cfg;
	const char *missing = !c->nginx_upstream_file                            ? "upstream_file"
	                      : !c->nginx_upstream                               ? "upstream"
	                      : !c->nginx_conf                                   ? "conf"
	                      : (!c->nginx_pid_file && !c->nginx_reload_command) ? "pid_file"
	                                                                         : NULL;
	if (missing) {
		g_set_error(error, VS_LB_ERROR, VS_LB_ERROR_FAILED,
		            "pool %s: lb = nginx needs [nginx] %s", lb->pool->name, missing);
		return false;
	}
	if (!vs_valid_lb_name(c->nginx_upstream) ||
	    (c->nginx_zone && !vs_valid_lb_name(c->nginx_zone))) {
		g_set_error(error, VS_LB_ERROR, VS_LB_ERROR_INVALID,
		            "[nginx] upstream and zone must be plain names "
		            "([A-Za-z0-9][A-Za-z0-9_-], at most 64 characters)");
		return false;
	}
	return true;
}

/* Serializes changes by every driver instance (daemon, tools) on one file. */
static int nginx_lock(const vs_lb *lb, GError **error)
{
	g_autofree char *dir = g_path_get_dirname(lb->cfg->nginx_upstream_file);
	g_autofree char *base = g_path_get_basename(lb->cfg->nginx_upstream_file);
	g_autofree char *path = g_strdup_printf("%s/.%s.lock", dir, base);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX) < 0) {
		g_set_error(error, VS_LB_ERROR, VS_LB_ERROR_FAILED, "%s: %s", path,
		            g_strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Reads the include; a missing or empty file is an upstream with no member yet. */
static bool nginx_read(const vs_lb *lb, char **old_text, size_t *old_len, GArray **members,
                       GError **error)
{
	const char *path = lb->cfg->nginx_upstream_file;
	GError *err = NULL;
	*old_text = NULL;
	*old_len = 0;
	if (!g_file_get_contents(path, old_text, old_len, &err)) {
		if (!g_error_matches(err, G_FILE_ERROR, G_FILE_ERROR_NOENT)) {
			g_set_error(error, VS_LB_ERROR, VS_LB_ERROR_FAILED, "%s", err->message);
			g_error_free(err);
			return false;
		}
		g_error_free(err);
		*members = g_array_new(FALSE, TRUE, sizeof(vs_lb_entry));
		return true;
	}
	if (*old_len == 0) { /* created empty by the operator: no member yet */
		*members = g_array_new(FALSE, TRUE, sizeof(vs_lb_entry));
		return true;
	}
	*members =
	    vs_nginx_parse_upstream(*old_text, *old_len, lb->cfg->nginx_upstream, path, error);
	if (!*members) {
		g_clear_pointer(old_text, g_free);
		return false;
	}
	return true;
}

/*
 * Replaces @path by @text atomically (vs_file_replace: a hidden temporary
 * name that no `include *.conf` matches, keeping the file's mode). @text
 * NULL removes @path (there was no file before).
 */
static bool replace_file(const char *path, const char *text, GError **error)
{
	g_autoptr(GError) err = NULL;

	if (!text) {
		if (unlink(path) < 0 && errno != ENOENT) {
			g_set_error(error, VS_LB_ERROR, VS_LB_ERROR_FAILED, "removing %s: %s", path,
			            g_strerror(errno));
			return false;
		}
		return true;
	}
	if (!vs_file_replace(path, text, strlen(text), VS_FILE_KEEP_MODE, &err)) {
		g_set_error(error, VS_LB_ERROR, VS_LB_ERROR_FAILED, "%s", err->message);
		return false;
	}
	return true;
}

/* Seconds nginx -t or the reload command may take. */
static unsigned helper_timeout(const vs_lb *lb)
{
	return lb->cfg->nginx_timeout ? lb->cfg->nginx_timeout : 10;
}

static bool nginx_test_config(const vs_lb *lb, GError **error)
{
	char *argv[] = {(char *)nginx_binary(lb), "-t", "-q", "-c", lb->cfg->nginx_conf, NULL};
	return vs_lb_run(argv, helper_timeout(lb), lb->cancel, VS_LB_ERROR_CONFIG_TEST, error);
}

/* The configured nginx program as the kernel names it in /proc/PID/exe. */
static char *nginx_binary_path(const vs_lb *lb)
{
	const char *bin = nginx_binary(lb);
	g_autofree char *found = strchr(bin, '/') ? g_strdup(bin) : g_find_program_in_path(bin);
	char *real = found ? realpath(found, NULL) : NULL;
	char *path = real ? g_strdup(real) : NULL;

	free(real);
	return path;
}

/*
 * A pid file outlives its nginx, and the pid may since belong to anything:
 * only a process that runs the configured nginx binary and calls itself
 * "nginx: master process" (the title nginx gives its master) is signalled
 * or watched. /proc/PID/exe of a binary replaced by an upgrade reads
 * "PATH (deleted)": that is still the master to reload.
 */
static bool is_nginx_master(const vs_lb *lb, pid_t pid, GError **error)
{
	g_autofree char *exe_link = g_strdup_printf("/proc/%d/exe", (int)pid);
	g_autofree char *cmd_path = g_strdup_printf("/proc/%d/cmdline", (int)pid);
	g_autofree char *exe = g_file_read_link(exe_link, NULL);
	g_autofree char *want = nginx_binary_path(lb);
	g_autofree char *cmdline = NULL;
	gsize len = 0;
	const char *why = NULL;

	if (exe && g_str_has_suffix(exe, " (deleted)"))
		exe[strlen(exe) - strlen(" (deleted)")] = '\0';
	if (!want)
		why = "the configured nginx binary is not found";
	else if (!exe)
		why = "its program cannot be read";
	else if (strcmp(exe, want) != 0)
		why = "it does not run the configured nginx binary";
	else if (!g_file_get_contents(cmd_path, &cmdline, &len, NULL) || len == 0 ||
	         !g_str_has_prefix(cmdline, "nginx: master process"))
		why = "it is not an nginx master process";
	if (!why)
		return true;
	g_set_error(error, VS_LB_ERROR, VS_LB_ERROR_UNREACHABLE,
	            "%s names pid %d, which is no nginx master of %s: %s (stale pid file?); "
	            "not signalled",
	            lb->cfg->nginx_pid_file, (int)pid, want ? want : nginx_binary(lb), why);
	return false;
}

/*
 * The master's pid from the pid file, checked to be nginx's master. With
 * @pidfd, a pidfd opened before the check: a signal sent through it reaches
 * the process that was checked or nothing, even if the pid is reused.
 */
static pid_t read_master_pid(const vs_lb *lb, int *pidfd, GError **error)
{
	g_autofree char *text = NULL;
	GError *err = NULL;
	if (!g_file_get_contents(lb->cfg->nginx_pid_file, &text, NULL, &err)) {
		g_set_error(error, VS_LB_ERROR, VS_LB_ERROR_UNREACHABLE, "nginx is not running: %s",
		            err->message);
		g_error_free(err);
		return -1;
	}
	char *end;
	long pid = strtol(g_strstrip(text), &end, 10);
	if (*end || pid <= 1 || pid > INT32_MAX || kill((pid_t)pid, 0) < 0) {
		g_set_error(error, VS_LB_ERROR, VS_LB_ERROR_UNREACHABLE,
		            "%s: no running nginx master", lb->cfg->nginx_pid_file);
		return -1;
	}
	if (pidfd && (*pidfd = pidfd_open((pid_t)pid, 0)) < 0) {
		g_set_error(error, VS_LB_ERROR, VS_LB_ERROR_UNREACHABLE, "nginx master %ld: %s",
		            pid, g_strerror(errno));
		return -1;
	}
	if (!is_nginx_master(lb, (pid_t)pid, error)) {
		if (pidfd) {
			close(*pidfd);
			*pidfd = -1;
		}
		return -1;
	}
	return (pid_t)pid;
}

/* Children of @master found by scanning /proc (kernels without
 * CONFIG_PROC_CHILDREN have no children file). */
static char *scan_children(pid_t master)
{
	GString *out = g_string_new(NULL);
	GDir *dir = g_dir_open("/proc", 0, NULL);
	const char *name;
	while (dir && (name = g_dir_read_name(dir))) {
		if (!g_ascii_isdigit(name[0]))
			continue;
		g_autofree char *path = g_strdup_printf("/proc/%s/stat", name);
		g_autofree char *stat = NULL;
		if (!g_file_get_contents(path, &stat, NULL, NULL))
			continue;
		/* "pid (comm) state ppid ...": comm may hold spaces, skip past ')'. */
		const char *p = strrchr(stat, ')');
		int ppid;
		char state;
		if (p && sscanf(p + 1, " %c %d", &state, &ppid) == 2 && ppid == master)
			g_string_append_printf(out, "%s ", name);
	}
	if (dir)
		g_dir_close(dir);
	return g_string_free(out, FALSE);
}

/* The master's children (workers, cache processes), space separated. */
static char *master_children(pid_t master)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/task/%d/children", master, master);
	char *text = NULL;
	if (!g_file_get_contents(path, &text, NULL, NULL))
		return scan_children(master);
	return text;
}

/* An old child no longer takes new connections once it exited or marked
 * itself "is shutting down" (its listening sockets are closed then). */
static bool child_retired(const char *pid)
{
	g_autofree char *path = g_strdup_printf("/proc/%s/cmdline", pid);
	g_autofree char *cmdline = NULL;
	gsize len;
	if (!g_file_get_contents(path, &cmdline, &len, NULL) || len == 0)
		return true;
	return g_strstr_len(cmdline, (gssize)len, "shutting down") != NULL;
}

/*
 * True once the reload took effect: a child that was not there before
 * @before exists, and every child of before has retired, so any new
 * connection is served by the new configuration.
 */
static bool new_generation(pid_t master, const char *before)
{
	g_autofree char *now = master_children(master);
	g_auto(GStrv) old_pids = g_strsplit(before, " ", -1);
	g_auto(GStrv) pids = g_strsplit(g_strstrip(now), " ", -1);
	bool fresh = false;
	for (size_t i = 0; pids[i]; i++)
		if (*pids[i] && !g_strv_contains((const char *const *)old_pids, pids[i]))
			fresh = true;
	if (!fresh)
		return false;
	for (size_t i = 0; old_pids[i]; i++)
		if (*old_pids[i] && !child_retired(old_pids[i]))
			return false;
	return true;
}

/*
 * Reloads nginx and confirms it: a reload is asynchronous and a master that
 * cannot apply the new config keeps its old workers, so success is a new
 * worker generation, with the old one retired, within RELOAD_CONFIRM_MS
 * (until then an old worker may still accept). Without a pid file only the
 * reload command's exit status is known.
 */
static bool nginx_reload_with(const vs_lb *lb, int *pidfd, GError **error)
{
	pid_t master = -1;
	g_autofree char *before = NULL;
	if (lb->cfg->nginx_pid_file) {
		master = read_master_pid(lb, pidfd, error);
		if (master < 0)
			return false;
		before = master_children(master);
		g_strstrip(before);
	}
	if (lb->cfg->nginx_reload_command) {
		g_auto(GStrv) words = g_strsplit(lb->cfg->nginx_reload_command, " ", -1);
		GPtrArray *argv = g_ptr_array_new();
		for (size_t i = 0; words[i]; i++)
			if (*words[i])
				g_ptr_array_add(argv, words[i]);
		g_ptr_array_add(argv, NULL);
		bool ok = argv->len > 1 && vs_lb_run((char **)argv->pdata, helper_timeout(lb),
		                                     lb->cancel, VS_LB_ERROR_RELOAD, error);
		if (argv->len <= 1)
			g_set_error(error, VS_LB_ERROR, VS_LB_ERROR_RELOAD,
			            "[nginx] reload_command is empty");
		g_ptr_array_free(argv, TRUE);
		if (!ok)
			return false;
	} else if (pidfd_send_signal(*pidfd, SIGHUP, NULL, 0) < 0) {
		g_set_error(error, VS_LB_ERROR, VS_LB_ERROR_RELOAD, "SIGHUP to nginx %d: %s",
		            master, g_strerror(errno));
		return false;
	}
	if (master < 0)
		return true;
	gint64 deadline = g_get_monotonic_time() + RELOAD_CONFIRM_MS * 1000;
	while (g_get_monotonic_time() < deadline) {
		if (new_generation(master, before))
			return true;
		if (kill(master, 0) < 0)
			break;
		g_usleep(2000);
	}
	g_set_error(error, VS_LB_ERROR, VS_LB_ERROR_RELOAD,
	            "nginx (pid %d) did not start new workers within %d ms: reload not applied, "
	            "see nginx's error log",
	            master, RELOAD_CONFIRM_MS);
	return false;
}

static bool nginx_reload(const vs_lb *lb, GError **error)
{
	int pidfd = -1;
	bool ok = nginx_reload_with(lb, &pidfd, error);

	if (pidfd >= 0)
		close(pidfd);
	return ok;
}

/* Writes @text, tests, reloads; on failure restores @old_text (NULL: none). */
static bool nginx_commit(const vs_lb *lb, const char *text, const char *old_text, GError **error)
{
	const char *path = lb->cfg->nginx_upstream_file;
	if (!replace_file(path, text, error))
		return false;
	if (nginx_test_config(lb, error) && nginx_reload(lb, error))
		return true;
	GError *restore_err = NULL;
	if (!replace_file(path, old_text, &restore_err)) {
		g_prefix_error(
		    error, "%s; restoring the previous file failed too: ", restore_err->message);
		g_error_free(restore_err);
	} else {
		g_prefix_error(error, "previous %s restored: ", path);
	}
	return false;
}

static int find_member(GArray *members, const char *address)
{
	for (guint i = 0; i < members->len; i++)
		if (vs_lb_same_address(g_array_index(members, vs_lb_entry, i).address, address))
			return (int)i;
	return -1;
}

/* Applies @op to the members; false with @error when it cannot apply. */
static bool apply_op(GArray *members, nginx_op op, const char *address, unsigned arg,
                     GError **error)
{
	if (op == NGINX_RENDER)
		return true;
	int i = find_member(members, address);
	if (i < 0 && op == NGINX_ADD) {
		vs_lb_entry m = {.busy = -1};
		g_strlcpy(m.address, address, sizeof(m.address));
		g_array_append_val(members, m);
		i = (int)members->len - 1;
	}
	if (i < 0) {
		if (op == NGINX_REMOVE)
			return true;
		g_set_error(error, VS_LB_ERROR, VS_LB_ERROR_FAILED,
		            "%s is not a member of the upstream", address);
		return false;
	}
	vs_lb_entry *m = &g_array_index(members, vs_lb_entry, i);
	switch (op) {
	case NGINX_ADD:
		m->state = arg ? VS_LB_STATE_ENABLED : VS_LB_STATE_DISABLED;
		break;
	case NGINX_ENABLE:
		m->state = VS_LB_STATE_ENABLED;
		break;
	case NGINX_DRAIN:
		/* `down`: nginx sends no new request; open ones finish. */
		m->state = VS_LB_STATE_DRAINING;
		break;
	case NGINX_REMOVE:
		g_array_remove_index(members, i);
		break;
	case NGINX_WEIGHT:
		if (arg < 1 || arg > 1000) {
			g_set_error(error, VS_LB_ERROR, VS_LB_ERROR_INVALID,
			            "nginx weight must be 1..1000");
			return false;
		}
		m->weight = arg == 1 ? 0 : arg;
		break;
	case NGINX_RENDER:
		break;
	}
	return true;
}

static bool nginx_change(vs_lb *lb, nginx_op op, const char *address, unsigned arg, GError **error)
{
	int lock = nginx_lock(lb, error);
	if (lock < 0)
		return false;
	g_autofree char *old_text = NULL;
	size_t old_len;
	g_autoptr(GArray) members = NULL;
	g_autofree char *text = NULL;
	bool ok = false;
	if (!nginx_read(lb, &old_text, &old_len, &members, error) ||
	    !apply_op(members, op, address, arg, error))
		goto out;
	if (op == NGINX_RENDER && !old_len) {
		ok = true; /* no file yet: the first member's add writes it */
		goto out;
	}
	vs_nginx_render_opts opts = {
	    .upstream = lb->cfg->nginx_upstream,
	    .pool = lb->pool->name,
	    .method = lb->cfg->nginx_method,
	    .max_conns = lb->cfg->nginx_max_conns,
	    .zone = lb->cfg->nginx_zone,
	};
	text = vs_nginx_render_upstream(&opts, (vs_lb_entry *)members->data, members->len, error);
	if (!text)
		goto out;
	if (old_text && !strcmp(old_text, text)) {
		ok = true; /* nothing changed: no reload */
		goto out;
	}
	ok = nginx_commit(lb, text, old_text, error);
	if (ok)
		vs_info("nginx upstream %s: %s, reloaded", lb->cfg->nginx_upstream,
		        lb->cfg->nginx_upstream_file);
out:
	close(lock); /* releases the lock */
	return ok;
}

static bool nginx_add(vs_lb *lb, const char *address, bool enabled, GError **error)
{
	return nginx_change(lb, NGINX_ADD, address, enabled, error);
}

static bool nginx_enable(vs_lb *lb, const char *address, GError **error)
{
	return nginx_change(lb, NGINX_ENABLE, address, 0, error);
}

static bool nginx_drain(vs_lb *lb, const char *address, GError **error)
{
	return nginx_change(lb, NGINX_DRAIN, address, 0, error);
}

static bool nginx_remove(vs_lb *lb, const char *address, GError **error)
{
	return nginx_change(lb, NGINX_REMOVE, address, 0, error);
}

static bool nginx_set_weight(vs_lb *lb, const char *address, unsigned weight, GError **error)
{
	return nginx_change(lb, NGINX_WEIGHT, address, weight, error);
}

static bool nginx_refresh(vs_lb *lb, GError **error)
{
	return nginx_change(lb, NGINX_RENDER, NULL, 0, error);
}

/* Precheck: what an add needs, checked without writing or reloading. */
static bool nginx_precheck(vs_lb *lb, const char *address, GError **error)
{
	const char *path = lb->cfg->nginx_upstream_file;
	g_autofree char *dir = g_path_get_dirname(path);
	g_autofree char *old_text = NULL;
	g_autoptr(GArray) members = NULL;
	size_t old_len;

	(void)address;
	/* a file we did not write is refused by the parse, naming FILE:LINE */
	if (!nginx_read(lb, &old_text, &old_len, &members, error))
		return false;
	/* replaced through a temporary file in its directory */
	if (access(dir, W_OK | X_OK) < 0 || (old_text && access(path, W_OK) < 0)) {
		g_set_error(error, VS_LB_ERROR, VS_LB_ERROR_FAILED, "%s is not writable: %s",
		            old_text ? path : dir, g_strerror(errno));
		return false;
	}
	if (!nginx_test_config(lb, error))
		return false;
	return !lb->cfg->nginx_pid_file || read_master_pid(lb, NULL, error) >= 0;
}

/* Members from the file; busy = connections from this host to each. */
static GArray *nginx_list(vs_lb *lb, GError **error)
{
	g_autofree char *old_text = NULL;
	size_t old_len;
	GArray *members = NULL;
	if (!nginx_read(lb, &old_text, &old_len, &members, error))
		return NULL;
	for (guint i = 0; i < members->len; i++) {
		vs_lb_entry *m = &g_array_index(members, vs_lb_entry, i);
		unsigned count;
		m->ours = true; /* the file is ours, every server in it too */
		m->busy = vs_lb_count_connections(m->address, &count, NULL) ? (int)count : -1;
	}
	return members;
}

const vs_lb_ops vs_lb_nginx_ops = {
    .name = "nginx",
    .add = nginx_add,
    .enable = nginx_enable,
    .drain = nginx_drain,
    .remove = nginx_remove,
    .list = nginx_list,
    .set_weight = nginx_set_weight,
    .refresh = nginx_refresh,
    .precheck = nginx_precheck,
};
