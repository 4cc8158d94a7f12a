/*
 * testutil.h - what the unit tests share: the suite each test file
 * defines, and configurations built the way the programs build them -
 * through the real parser, from text, so every default applies.
 */
#ifndef VS_TESTUTIL_H
#define VS_TESTUTIL_H

#include "vs-config.h"

#include <check.h>

/* Defined by each test file; run by check-main.c. */
Suite *vs_test_suite(void);

/*
 * A whole configuration from @text (fails the test with the parser's
 * message when it does not parse). Free with vs_config_free().
 */
vs_config *vs_test_config(const char *text);

/*
 * A configuration with one pool "web" (template web-template, name_pattern
 * web-%02d) and the pool keys in @pool_keys ("key = value" lines, may be
 * ""); *@pool is set to the pool. Free the configuration.
 */
vs_config *vs_test_pool(const char *pool_keys, const vs_pool_config **pool);

/* The text of a file of the source tree (relative to the top), or fails. */
char *vs_test_read_source(const char *relative_path);

#endif
