/*
 * lb.h - the load-balancer driver interface used by the actuator.
 * Drivers: none (lb-none.c), nginx (lb-nginx.c), apache (lb-apache.c).
 * Every call either verifies that the change took effect or fails with a
 * GError saying which step failed; nothing is assumed. Calls may block
 * (HTTP, nginx -t, reload): the actuator calls them from its action worker,
 * never from its event loop.
 */
#ifndef VS_LB_H
#define VS_LB_H

#include "vs-config.h"
#include "vs-states.h"
#include "vs-wait.h"

#include <gio/gio.h>
#include <glib.h>

#define VS_LB_ERROR (vs_lb_error_quark())
GQuark vs_lb_error_quark(void);

typedef enum {
	VS_LB_ERROR_FAILED,
	VS_LB_ERROR_INVALID,     /* address refused by validation */
	VS_LB_ERROR_UNREACHABLE, /* manager / nginx not reachable */
	VS_LB_ERROR_REJECTED,    /* change not applied (read back differs) */
	VS_LB_ERROR_NO_SLOT,     /* Apache growth slots exhausted */
	VS_LB_ERROR_CONFIG_TEST, /* nginx -t failed; previous file restored */
	VS_LB_ERROR_RELOAD,      /* reload not confirmed; previous file restored */
	VS_LB_ERROR_TIMEOUT,     /* drain did not reach 0 in time */
} vs_lb_error_code;

/* One member as the balancer lists it (it may be no pool member at all). */
typedef struct vs_lb_entry {
	char address[300]; /* "host:port", validated */
	vs_lb_state state;
	unsigned weight; /* 0 = default */
	bool backup;
	int busy;      /* active requests/connections, -1 unknown */
	bool in_error; /* the balancer found it failing (Apache status E) */
	/* virtscale added it (nginx, none: every member of the file or list;
	 * Apache: the worker carries virtscale's route mark). A member that is
	 * not ours is never changed by a sync. */
	bool ours;
} vs_lb_entry;

typedef struct vs_lb vs_lb;

typedef struct vs_lb_ops {
	const char *name;
	/* Adds @address (enabled unless @enabled is false) as ours. Idempotent. */
	bool (*add)(vs_lb *lb, const char *address, bool enabled, GError **error);
	bool (*enable)(vs_lb *lb, const char *address, GError **error);
	/* Stops sending new sessions; existing ones continue. */
	bool (*drain)(vs_lb *lb, const char *address, GError **error);
	/* No traffic at all; removes the member where the balancer can. */
	bool (*remove)(vs_lb *lb, const char *address, GError **error);
	/* Current members as the balancer sees them. */
	GArray *(*list)(vs_lb *lb, GError **error); /* of vs_lb_entry */
	void (*free)(vs_lb *lb);
	/* Optional (NULL = not supported): nginx weight / Apache load factor. */
	bool (*set_weight)(vs_lb *lb, const char *address, unsigned weight, GError **error);
	/* Optional: re-applies the settings the driver renders itself (nginx:
	 * method, max_conns, zone) when they changed since the last write. */
	bool (*refresh)(vs_lb *lb, GError **error);
	/* Optional: checks, changing nothing, that an add of @address (NULL:
	 * an address not known yet) can succeed now. */
	bool (*precheck)(vs_lb *lb, const char *address, GError **error);
} vs_lb_ops;

struct vs_lb {
	const vs_lb_ops *ops;
	const vs_config *cfg;
	const vs_pool_config *pool;
	GCancellable *cancel; /* ends helper programs early (virtscaled stopping); may be NULL */
	void *priv;
};

/* Opens the driver configured for @pool (pool->lb). */
vs_lb *vs_lb_open(const vs_config *cfg, const vs_pool_config *pool, GError **error);
void vs_lb_free(vs_lb *lb);
/* Helper programs the driver runs (nginx -t, reload) are killed when
 * @cancel (kept, not owned) is cancelled. */
void vs_lb_set_cancellable(vs_lb *lb, GCancellable *cancel);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vs_lb, vs_lb_free)

bool vs_lb_add(vs_lb *lb, const char *address, bool enabled, GError **error);
bool vs_lb_enable(vs_lb *lb, const char *address, GError **error);
bool vs_lb_drain(vs_lb *lb, const char *address, GError **error);
bool vs_lb_remove(vs_lb *lb, const char *address, GError **error);
GArray *vs_lb_list(vs_lb *lb, GError **error);
/* Weight (nginx, 1..1000) or load factor (Apache, 1..100) of @address. */
bool vs_lb_set_weight(vs_lb *lb, const char *address, unsigned weight, GError **error);
/* Re-applies the driver's own rendered settings; true where it has none. */
bool vs_lb_refresh(vs_lb *lb, GError **error);
/*
 * Whether adding @address (NULL when the new member's address is not known
 * before it boots) can succeed now, checked without changing anything:
 * nginx: the upstream file is absent or ours and its directory writable,
 * the pid file names a running nginx master, `nginx -t` passes; Apache: the
 * balancer-manager answers for the balancer and a worker of @address exists
 * or a growth slot is free. True where the driver has nothing to check.
 */
bool vs_lb_precheck(vs_lb *lb, const char *address, GError **error);
/* Two backend addresses name the same member (host compared without case). */
bool vs_lb_same_address(const char *a, const char *b);
/*
 * Waits until @address has no active sessions (busy count from the
 * balancer where it has one, else established connections counted with
 * sock_diag), or @timeout_s passes (VS_LB_ERROR_TIMEOUT), or @cancel
 * (may be NULL) is cancelled (G_IO_ERROR_CANCELLED).
 */
bool vs_lb_wait_drained(vs_lb *lb, const char *address, unsigned timeout_s, GCancellable *cancel,
                        GError **error);
/* The same, done once at most @max_busy sessions are left. */
bool vs_lb_wait_drained_to(vs_lb *lb, const char *address, unsigned max_busy, unsigned timeout_s,
                           GCancellable *cancel, GError **error);

#endif
