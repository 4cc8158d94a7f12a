/*
 * intake-access.c - peer credentials, allow lists, and the checks of the
 * socket's group and directory (see intake-access.h and intake.h).
 */
#include "config.h"

#include "act-error.h"
#include "intake-access.h"
#include "intake.h"

#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/** vs_peer_read: the kernel's credentials of the peer of @fd. */
void vs_peer_read(int fd, vs_peer *p)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	memset(p, 0, sizeof(*p));
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || len != sizeof(cred))
		return;
	p->known = true;
	p->pid = cred.pid;
	p->uid = cred.uid;
	p->gid = cred.gid;
#ifdef SO_PEERGROUPS
	len = sizeof(p->groups);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, p->groups, &len) == 0)
		p->n_groups = (int)(len / sizeof(gid_t));
#endif
}

/** vs_peer_describe: "pid P, uid U, gid G" for logs. */
const char *vs_peer_describe(const vs_peer *p, char *buf, size_t size)
{
	if (!p->known)
		g_strlcpy(buf, "credentials unknown", size);
	else
		snprintf(buf, size, "pid %ld, uid %lu, gid %lu", (long)p->pid,
		         (unsigned long)p->uid, (unsigned long)p->gid);
	return buf;
}

static bool listed(const GArray *ids, guint32 id)
{
	for (guint i = 0; ids && i < ids->len; i++)
		if (g_array_index(ids, guint32, i) == id)
			return true;
	return false;
}

/** vs_peer_allowed: see intake-access.h. */
bool vs_peer_allowed(const vs_peer *p, const GArray *uids, const GArray *gids, uid_t self)
{
	if ((!uids || !uids->len) && (!gids || !gids->len))
		return true;
	if (!p->known)
		return false;
	if (p->uid == 0 || p->uid == self || listed(uids, p->uid) || listed(gids, p->gid))
		return true;
	for (int i = 0; i < p->n_groups; i++)
		if (listed(gids, p->groups[i]))
			return true;
	return false;
}

static bool check_group(const vs_config *cfg, GError **error)
{
	struct group gr, *res = NULL;
	char buf[16384];

	if (getgrnam_r(cfg->socket_group, &gr, buf, sizeof(buf), &res) == 0 && res)
		return true;
	if (cfg->socket_group_line > 0)
		g_set_error(error, VS_ACT_ERROR, VS_ACT_ERROR_INVALID,
		            "%s:%d: [actuator] socket_group: no group '%s' on this host", cfg->path,
		            cfg->socket_group_line, cfg->socket_group);
	else
		g_set_error(error, VS_ACT_ERROR, VS_ACT_ERROR_INVALID,
		            "%s: [actuator] socket_group: the default group '%s' does not exist on "
		            "this host: create it (contrib/systemd/virtscale-sysusers.conf) or set "
		            "socket_group",
		            cfg->path, cfg->socket_group);
	return false;
}

/* Whoever may write to the socket's directory may put a socket of their own
 * in its place (and hear every order), or squat the name before we start. */
static bool check_dir(const char *dir, bool create, GError **error)
{
	struct stat st;

	if (create && g_mkdir_with_parents(dir, 0755) != 0) {
		g_set_error(error, VS_ACT_ERROR, VS_ACT_ERROR_IO, "%s: %s", dir, g_strerror(errno));
		return false;
	}
	if (stat(dir, &st) != 0) {
		if (!create && errno == ENOENT)
			return true;
		g_set_error(error, VS_ACT_ERROR, VS_ACT_ERROR_IO, "%s: %s", dir, g_strerror(errno));
		return false;
	}
	if (!S_ISDIR(st.st_mode)) {
		g_set_error(error, VS_ACT_ERROR, VS_ACT_ERROR_INVALID,
		            "socket directory %s is not a directory", dir);
		return false;
	}
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		g_set_error(error, VS_ACT_ERROR, VS_ACT_ERROR_INVALID,
		            "socket directory %s belongs to uid %lu, not to root: its owner could "
		            "replace the socket",
		            dir, (unsigned long)st.st_uid);
		return false;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		g_set_error(error, VS_ACT_ERROR, VS_ACT_ERROR_INVALID,
		            "socket directory %s is writable by its group or others (mode %04o): "
		            "they could replace the socket; make it 0755 or give the socket a "
		            "directory of its own",
		            dir, (unsigned)(st.st_mode & 07777));
		return false;
	}
	return true;
}

/** vs_intake_check_setup: see intake.h. */
bool vs_intake_check_setup(const vs_config *cfg, bool create_dir, GError **error)
{
	g_autofree char *dir = NULL;

	if (!check_group(cfg, error))
		return false;
	if (!cfg->actuator_socket)
		return true;
	dir = g_path_get_dirname(cfg->actuator_socket);
	return check_dir(dir, create_dir, error);
}
