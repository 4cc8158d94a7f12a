/*
 * vs-error.c - the GError domains of lib/ (see vs-error.h for their codes).
 *
 * G_DEFINE_QUARK stringifies its first argument: clang-format would put
 * spaces around the dashes, so it is kept away from these lines.
 */
#include "config.h"

#include "vs-error.h"

/* clang-format off */
G_DEFINE_QUARK(vs-config-error-quark, vs_config_error)
G_DEFINE_QUARK(vs-notify-error-quark, vs_notify_error)
G_DEFINE_QUARK(vs-status-error-quark, vs_status_error)
G_DEFINE_QUARK(vs-file-error-quark, vs_file_error)
G_DEFINE_QUARK(vs-pidfile-error-quark, vs_pidfile_error)
G_DEFINE_QUARK(vs-pool-error-quark, vs_pool_error)
G_DEFINE_QUARK(vs-http-error-quark, vs_http_error)
G_DEFINE_QUARK(vs-balancer-error-quark, vs_balancer_error)
G_DEFINE_QUARK(vs-sockdiag-error-quark, vs_sockdiag_error)
G_DEFINE_QUARK(vs-virt-error-quark, vs_virt_error)
G_DEFINE_QUARK(vs-usage-error-quark, vs_usage_error)
/* clang-format on */
