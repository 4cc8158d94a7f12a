/*
 * act-error.c - the actuator's GError domain (see act-error.h).
 * G_DEFINE_QUARK stringifies its first argument: clang-format would put
 * spaces around the dashes.
 */
#include "config.h"

#include "act-error.h"

/* clang-format off */
G_DEFINE_QUARK(vs-act-error-quark, vs_act_error)
/* clang-format on */
