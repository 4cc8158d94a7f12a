/* mib-text.c - free text for VIRTSCALE-MIB string columns (see mib-text.h) */
#include "config.h"

#include "mib-text.h"
#include "vs-validate.h"

#include <string.h>

/**
 * vs_mib_last_error:
 * @error: the actuator's last error (anything a command printed), or NULL
 * @out: VS_POOL_LAST_ERROR_MAX + 1 bytes
 *
 * status.json allows 1024 bytes where the MIB allows 255: cutting a UTF-8
 * character in two would leave a manager an invalid string, so the cut
 * falls before the character that does not fit whole.
 */
size_t vs_mib_last_error(const char *error, char out[VS_POOL_LAST_ERROR_MAX + 1])
{
	vs_sanitize_line(error ? error : "", out, VS_POOL_LAST_ERROR_MAX + 1);
	return strlen(out);
}
