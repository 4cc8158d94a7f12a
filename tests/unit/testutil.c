/*
 * testutil.c - helpers shared by the unit tests (see testutil.h).
 */
#include "config.h"

#include "testutil.h"

#include <libvirt/libvirt.h>
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
	size_t len;

	return vs_test_read_source_len(relative_path, &len);
}

/**
 * vs_test_read_source_len: a file of the source tree and its length.
 */
char *vs_test_read_source_len(const char *relative_path, size_t *len)
{
	g_autofree char *path = g_build_filename(TOP_SRCDIR, relative_path, NULL);
	g_autoptr(GError) error = NULL;
	char *text = NULL;
	gsize n = 0;

	ck_assert_msg(g_file_get_contents(path, &text, &n, &error), "%s: %s", path,
	              error ? error->message : "?");
	*len = n;
	return text;
}

/**
 * vs_test_member: a member of @pool as the programs make one.
 */
vs_member *vs_test_member(const vs_pool_config *pool, const char *name, int state,
                          double cpu_percent)
{
	vs_member *m = vs_member_new(name, pool->uri);
	unsigned index = 0;

	if (vs_pool_match_name(pool, name, &index))
		m->index = index;
	m->state = state;
	m->cpu_percent = cpu_percent;
	m->vcpus = m->vcpus_max = 1;
	return m;
}

/**
 * vs_test_snapshot_domain: a domain of a collector snapshot.
 */
vs_domain_stats *vs_test_snapshot_domain(vs_snapshot *snap, const char *host_uri, const char *name,
                                         int state, double cpu_percent, const char *tag_pool,
                                         const char *tag_address)
{
	vs_domain_stats *d = vs_domain_stats_new();

	d->host_uri = g_strdup(host_uri);
	d->name = g_strdup(name);
	d->state = state;
	d->id = vs_pool_member_running(state) ? 1 : -1;
	d->cpu_percent = cpu_percent;
	d->cpu_percent_of_vcpus = cpu_percent;
	d->vcpu_current = d->vcpu_max = 1;
	vs_domain_tag_accept(tag_pool, tag_address, &d->meta_pool, &d->meta_address);
	g_ptr_array_add(snap->domains, d);
	return d;
}

/**
 * vs_test_snapshot_host: a hypervisor of a collector snapshot.
 */
vs_host_status *vs_test_snapshot_host(vs_snapshot *snap, const char *uri, vs_host_state state,
                                      uint64_t refreshes)
{
	vs_host_status *h = vs_host_status_new(uri);

	h->state = state;
	h->refreshes = refreshes;
	g_ptr_array_add(snap->hosts, h);
	return h;
}
