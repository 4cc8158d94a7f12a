/*
 * fuzz-notify-formats.h - the check both stdin formats of `virtscalectl
 * notify` share: a converted notification must go out as a line the
 * intake accepts, unchanged (notify-formats.c promises it for any input).
 */
#ifndef VS_FUZZ_NOTIFY_FORMATS_H
#define VS_FUZZ_NOTIFY_FORMATS_H

#include "fuzz-common.h"
#include "vs-notify.h"

static inline void fuzz_check_as_sent(const vs_notification *n)
{
	vs_notification back;
	char *line = vs_notification_to_json(n);

	FUZZ_ASSERT(line != NULL);
	FUZZ_ASSERT(vs_notification_parse(line, strlen(line), &back, NULL));
	FUZZ_ASSERT(memcmp(n, &back, sizeof(back)) == 0);
	g_free(line);
}

/*
 * The command line's --pool/--state, chosen by the input's first byte (so
 * libFuzzer explores them too); returns the rest of the input.
 */
static inline const uint8_t *fuzz_overrides(const uint8_t *data, size_t *size, const char **pool,
                                            const char **state)
{
	static const char *const states[] = {NULL, "high", "low", "ok", "at_max", "unknown"};
	uint8_t sel = *size ? data[0] : 0;

	*pool = (sel & 1) ? "web" : NULL;
	*state = states[(sel >> 1) % G_N_ELEMENTS(states)];
	if (*size) {
		(*size)--;
		data++;
	}
	return data;
}

#endif
