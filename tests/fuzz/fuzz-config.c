/*
 * fuzz-config.c - the configuration file (lib/vs-config.c and
 * vs-config-values.c), through the same entry as a file on disk after it
 * is read. Promise: any bytes give a configuration or an error naming
 * FILE:LINE, never a crash.
 */
#include "config.h"

#include "fuzz-common.h"
#include "vs-config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	GError *err = NULL;

	if (!ready) {
		fuzz_setup();
		ready = true;
	}
	vs_config *cfg = vs_config_load_from_data((const char *)data, size, "fuzz.conf", &err);
	if (cfg) {
		FUZZ_ASSERT(err == NULL);
		vs_config_free(cfg);
	} else {
		FUZZ_ASSERT(err != NULL);
		FUZZ_ASSERT(g_str_has_prefix(err->message, "fuzz.conf"));
		g_error_free(err);
	}
	return 0;
}
