/*
 * vsc-names.h - collectd identifiers for virtscale's names. A host is
 * named by its [host NAME] (already a valid identifier part) or by its URI
 * ("qemu+tcp://hv2/system"), whose '/' would split a collectd identifier
 * and whose ':' and '+' other writers mangle. No collectd dependency.
 */
#ifndef VSC_NAMES_H
#define VSC_NAMES_H

#include <glib.h>
#include <stddef.h>

/* The longest plugin_instance collectd keeps (DATA_MAX_NAME_LEN - 1). */
#define VSC_INSTANCE_MAX 127

/*
 * The plugin_instance of each of the @n host names, in order (a new
 * array of new strings): letters, digits, '_' and '-' kept, every other run
 * of characters one '_', none at either end, at most VSC_INSTANCE_MAX
 * bytes; "host" when nothing is left. Two hosts never share one: a name
 * taken already gets "_N" appended (its position from 1, or the next
 * number that is free).
 */
GPtrArray *vsc_host_instances(const char *const *names, size_t n);

#endif
