/*
 * intake-access.h - who is on the other end of the actuator's socket, and
 * whether that peer may talk to it: the kernel's credentials of the peer
 * (SO_PEERCRED, SO_PEERGROUPS), the allow lists of [actuator], and the
 * checks of the socket's group and directory before the daemon starts.
 */
#ifndef VS_INTAKE_ACCESS_H
#define VS_INTAKE_ACCESS_H

#include <glib.h>
#include <stdbool.h>
#include <sys/types.h>

#define VS_PEER_MAX_GROUPS 64

typedef struct vs_peer {
	bool known; /* the kernel told us */
	pid_t pid;
	uid_t uid;
	gid_t gid;
	gid_t groups[VS_PEER_MAX_GROUPS]; /* supplementary, when the kernel tells */
	int n_groups;
} vs_peer;

/* Reads the credentials of the peer of the connected socket @fd. */
void vs_peer_read(int fd, vs_peer *p);
/* "pid 123, uid 0, gid 0" (or "credentials unknown") into @buf. */
const char *vs_peer_describe(const vs_peer *p, char *buf, size_t size);
/*
 * Whether @p may talk: always with no list at all; else root, the daemon's
 * own user (@self), a user in @uids, or a peer whose group or one of whose
 * supplementary groups is in @gids. Unknown credentials: only without
 * lists. Pure.
 */
bool vs_peer_allowed(const vs_peer *p, const GArray *uids, const GArray *gids, uid_t self);

#endif
