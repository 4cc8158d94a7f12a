/*
 * fuzz-snmptrap.c - what snmptrapd's traphandle writes on `virtscalectl
 * notify --format snmptrap`'s stdin (actuator/cli/notify-formats.c): from
 * anyone who can send a trap to snmptrapd. The first byte picks --pool
 * (--state is refused for this input); the configuration has the pools
 * "web" and "api".
 */
#include "config.h"

#include "fuzz-notify-formats.h"
#include "notify-formats.h"

static vs_config *cfg;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *pool, *state;
	vs_notification n;
	GError *err = NULL;

	if (!cfg) {
		static const char conf[] = "[pool web]\ntemplate = t\nname_pattern = web-%02d\n"
		                           "[pool api]\ntemplate = a\nname_pattern = api-%02d\n";
		fuzz_setup();
		cfg = vs_config_load_from_data(conf, sizeof(conf) - 1, "fuzz.conf", NULL);
		FUZZ_ASSERT(cfg != NULL);
	}
	data = fuzz_overrides(data, &size, &pool, &state);
	char *text = fuzz_strndup(data, size);
	(void)state;
	if (vs_notify_from_snmptrap(text, cfg, pool, &n, &err))
		fuzz_check_as_sent(&n);
	else
		FUZZ_ASSERT(err != NULL);
	g_clear_error(&err);
	g_free(text);
	return 0;
}
