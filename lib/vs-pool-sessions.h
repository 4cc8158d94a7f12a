/*
 * vs-pool-sessions.h - counting each member's active sessions from the
 * pool's source (sessions = sockdiag | apache | http:URL). Does I/O
 * (netlink, HTTP): call it from a worker thread, never from collectd's
 * callbacks, net-snmp's main loop or the actuator's event loop.
 */
#ifndef VS_POOL_SESSIONS_H
#define VS_POOL_SESSIONS_H

#include "vs-pool.h"

/*
 * vs_pool_collect_sessions:
 * @cfg: the whole configuration ([apache] for sessions = apache)
 * @v: the pool's view; every member's sessions (and, from Apache, its
 *     balancer state) are set or made unknown, and the view re-aggregated
 * Returns false with @error when the source failed.
 */
bool vs_pool_collect_sessions(const vs_config *cfg, vs_pool_view *v, GError **error);

#endif
