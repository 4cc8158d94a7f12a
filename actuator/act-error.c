/* act-error.c - the actuator's GError domain, shared by virtscaled and virtscalectl. */
#include "config.h"

#include "actuator.h"

G_DEFINE_QUARK(vs - act - error - quark, vs_act_error)
