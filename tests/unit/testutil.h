/*
 * testutil.h - what the unit tests share: the suite each test file
 * defines; configurations built the way the programs build them - through
 * the real parser, from text, so every default applies; files of the
 * source tree; pool members and collector snapshots made the way the
 * programs make them.
 */
#ifndef VS_TESTUTIL_H
#define VS_TESTUTIL_H

#include "vs-config.h"
#include "vs-domain.h"
#include "vs-pool.h"

#include <check.h>
#include <stddef.h>

/* The hypervisor of a configuration without [libvirt] (its default). */
#define VS_TEST_HOST "qemu:///system"

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
/* The same with its length in *@len (for files that may hold NUL bytes). */
char *vs_test_read_source_len(const char *relative_path, size_t *len);

/*
 * A member of @pool named @name (its number taken from the name, 0 when it
 * does not match name_pattern) on the pool's hypervisor, in @state (a
 * virDomainState) with @cpu_percent of its vCPUs (<0 unknown). Sessions
 * are unknown.
 */
vs_member *vs_test_member(const vs_pool_config *pool, const char *name, int state,
                          double cpu_percent);

/*
 * Adds a domain to @snap as the collector records one: on @host_uri, in
 * @state, with @cpu_percent of its vCPUs, and the virtscale tag's raw
 * attributes @tag_pool / @tag_address (NULL: absent) passed through
 * vs_domain_tag_accept() as the collector does.
 */
vs_domain_stats *vs_test_snapshot_domain(vs_snapshot *snap, const char *host_uri, const char *name,
                                         int state, double cpu_percent, const char *tag_pool,
                                         const char *tag_address);
/* Adds a hypervisor to @snap in @state after @refreshes collections. */
vs_host_status *vs_test_snapshot_host(vs_snapshot *snap, const char *uri, vs_host_state state,
                                      uint64_t refreshes);

#endif
