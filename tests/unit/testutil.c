/*
 * testutil.c - helpers shared by the unit tests (see testutil.h).
 */
#include "config.h"

#include "testutil.h"

#include <string.h>

/**
 * vs_test_config: the configuration @text gives, through the real parser.
 */
vs_config *vs_test_config(const char *text)
{
	g_autoptr(GError) error = NULL;
	vs_config *cfg = vs_config_load_from_data(text, strlen(text), "test.conf", &error);

	ck_assert_msg(cfg != NULL, "test configuration does not parse: %s",
	              error ? error->message : "?");
	return cfg;
}

/**
 * vs_test_pool: a configuration with the one pool "web" and @pool_keys.
 */
vs_config *vs_test_pool(const char *pool_keys, const vs_pool_config **pool)
{
	g_autofree char *text = g_strdup_printf("[pool web]\n"
	                                        "template = web-template\n"
	                                        "name_pattern = web-%%02d\n"
	                                        "%s",
	                                        pool_keys ? pool_keys : "");
	vs_config *cfg = vs_test_config(text);

	*pool = vs_config_find_pool(cfg, "web");
	ck_assert_ptr_nonnull(*pool);
	return cfg;
}

/**
 * vs_test_read_source: a file of the source tree, e.g. "mibs/VIRTSCALE-MIB.txt".
 */
char *vs_test_read_source(const char *relative_path)
{
	g_autofree char *path = g_build_filename(TOP_SRCDIR, relative_path, NULL);
	g_autoptr(GError) error = NULL;
	char *text = NULL;

	ck_assert_msg(g_file_get_contents(path, &text, NULL, &error), "%s: %s", path,
	              error ? error->message : "?");
	return text;
}
