/* vm-rows.c - one vmTable row per domain UUID (see vm-rows.h) */
#include "config.h"

#include "vm-rows.h"

#include <libvirt/libvirt.h>
#include <string.h>

/* How much a domain is "the" domain of its UUID: running over active over
 * defined. */
static int row_rank(const vs_domain_stats *d)
{
	if (d->state == VIR_DOMAIN_RUNNING || d->state == VIR_DOMAIN_BLOCKED)
		return 2;
	return d->id >= 0 ? 1 : 0;
}

/* The position of @uri among the snapshot's hosts (config order). */
static guint host_position(const vs_snapshot *snap, const char *uri)
{
	for (guint i = 0; snap->hosts && i < snap->hosts->len; i++) {
		const vs_host_status *h = g_ptr_array_index(snap->hosts, i);

		if (g_strcmp0(h->uri, uri) == 0)
			return i;
	}
	return G_MAXUINT;
}

static bool preferred(const vs_snapshot *snap, const vs_domain_stats *x, const vs_domain_stats *y)
{
	int rx = row_rank(x), ry = row_rank(y);

	if (rx != ry)
		return rx > ry;
	return host_position(snap, x->host_uri) < host_position(snap, y->host_uri);
}

/**
 * vm_rows_select: see vm-rows.h.
 */
GPtrArray *vm_rows_select(const vs_snapshot *snap)
{
	g_autoptr(GHashTable) chosen = g_hash_table_new(g_str_hash, g_str_equal);
	GPtrArray *rows = g_ptr_array_new();

	for (guint i = 0; i < snap->domains->len; i++) {
		const vs_domain_stats *d = g_ptr_array_index(snap->domains, i);
		const vs_domain_stats *other = g_hash_table_lookup(chosen, d->uuid_str);

		if (!other || preferred(snap, d, other))
			g_hash_table_insert(chosen, (gpointer)d->uuid_str, (gpointer)d);
	}
	for (guint i = 0; i < snap->domains->len; i++) {
		const vs_domain_stats *d = g_ptr_array_index(snap->domains, i);

		if (g_hash_table_lookup(chosen, d->uuid_str) == d)
			g_ptr_array_add(rows, (gpointer)d);
	}
	return rows;
}
