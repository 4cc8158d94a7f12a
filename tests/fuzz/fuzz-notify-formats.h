/*
 * fuzz-notify-formats.h - the check the wire-format harnesses share: a
 * notification must go out as a line the intake accepts, unchanged
 * (vs-notify.c and notify-formats.c promise it for any input).
 */
#ifndef VS_FUZZ_NOTIFY_FORMATS_H
#define VS_FUZZ_NOTIFY_FORMATS_H

#include "fuzz-common.h"
#include "vs-notify.h"

/* -0.0 and 0.0 are the same number; JSON need not keep the sign of zero. */
static inline void fuzz_unsign_zeros(vs_notification *n)
{
	double *numbers[] = {&n->value, &n->threshold_high, &n->threshold_low, &n->time};

	for (size_t i = 0; i < G_N_ELEMENTS(numbers); i++)
		if (*numbers[i] == 0)
			*numbers[i] = 0;
}

/* Same notification: every field equal (numbers as numbers). */
static inline bool fuzz_same_notification(const vs_notification *a, const vs_notification *b)
{
	vs_notification x = *a, y = *b;

	fuzz_unsign_zeros(&x);
	fuzz_unsign_zeros(&y);
	return memcmp(&x, &y, sizeof(x)) == 0;
}

static inline void fuzz_check_as_sent(const vs_notification *n)
{
	vs_notification back;
	char *line = vs_notification_to_json(n);

	FUZZ_ASSERT(line != NULL);
	FUZZ_ASSERT(vs_notification_parse(line, strlen(line), &back, NULL));
	FUZZ_ASSERT(fuzz_same_notification(n, &back));
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
