/*
 * mib-text.h - free text as a VIRTSCALE-MIB string column carries it. The
 * same cut serves GET and the notifications, so a manager sees the same
 * bytes in both.
 */
#ifndef VS_SNMP_MIB_TEXT_H
#define VS_SNMP_MIB_TEXT_H

#include "vs-snmp-oids.h"

#include <stddef.h>

/*
 * vsPoolLastError (SIZE (0..255)) from the actuator's last error: control
 * characters and invalid UTF-8 become '?', cut at a character boundary to
 * at most VS_POOL_LAST_ERROR_MAX bytes. @out holds VS_POOL_LAST_ERROR_MAX + 1
 * bytes; returns the length written (without the NUL).
 */
size_t vs_mib_last_error(const char *error, char out[VS_POOL_LAST_ERROR_MAX + 1]);

#endif
