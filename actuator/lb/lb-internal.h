/*
 * lb-internal.h - what the load-balancer drivers share with the dispatch in
 * lb.c and with the test tool; not part of the actuator's interface.
 */
#ifndef VS_LB_INTERNAL_H
#define VS_LB_INTERNAL_H

#include "lb.h"

extern const vs_lb_ops vs_lb_none_ops;
extern const vs_lb_ops vs_lb_nginx_ops;
extern const vs_lb_ops vs_lb_apache_ops;

/* Driver set-up called by vs_lb_open() once lb->cfg and lb->pool are set. */
bool vs_lb_nginx_init(vs_lb *lb, GError **error);
bool vs_lb_apache_init(vs_lb *lb, GError **error);

/*
 * Established TCP connections from this host to @address (sock_diag); a
 * hostname counts the connections to every address it resolves to.
 */
bool vs_lb_count_connections(const char *address, unsigned *count, GError **error);

/*
 * vs_lb_run: runs @argv (no shell; PATH searched) in a process group of its
 * own, its stdin /dev/null. When it has not exited after @timeout_s, or
 * @cancel (may be NULL) is cancelled, the whole group is killed (SIGKILL)
 * and reaped. False with @error when it could not start, timed out or exited
 * non-zero (VS_LB_ERROR @code, with what it printed on stderr, else stdout),
 * or was cancelled (G_IO_ERROR_CANCELLED). Blocks: worker threads only.
 */
bool vs_lb_run(char **argv, unsigned timeout_s, GCancellable *cancel, int code, GError **error);

/*
 * vs_lb_apache_pin_nonce: the next change is POSTed with @nonce instead of
 * the balancer's current one, and retried at most @retries times when the
 * balancer-manager ignores it. For tests of the stale-nonce path.
 */
void vs_lb_apache_pin_nonce(vs_lb *lb, const char *nonce, int retries);

#endif
