/*
 * lb-none.c - "lb = none": no load balancer in front of the pool. Members
 * are only remembered, so status and reconcile see the same membership the
 * other drivers would report.
 */
#include "config.h"

#include "lb.h"

#include <string.h>

static GHashTable *none_members(vs_lb *lb)
{
	if (!lb->priv)
		lb->priv = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	return lb->priv;
}

static bool none_set(vs_lb *lb, const char *address, vs_lb_state state, GError **error)
{
	g_hash_table_insert(none_members(lb), g_strdup(address), GINT_TO_POINTER(state));
	return true;
}

static bool none_add(vs_lb *lb, const char *address, bool enabled, GError **error)
{
	return none_set(lb, address, enabled ? VS_LB_STATE_ENABLED : VS_LB_STATE_DISABLED, error);
}

static bool none_enable(vs_lb *lb, const char *address, GError **error)
{
	return none_set(lb, address, VS_LB_STATE_ENABLED, error);
}

static bool none_drain(vs_lb *lb, const char *address, GError **error)
{
	return none_set(lb, address, VS_LB_STATE_DRAINING, error);
}

static bool none_remove(vs_lb *lb, const char *address, GError **error)
{
	g_hash_table_remove(none_members(lb), address);
	return true;
}

static GArray *none_list(vs_lb *lb, GError **error)
{
	GArray *out = g_array_new(FALSE, TRUE, sizeof(vs_lb_entry));
	GHashTableIter it;
	gpointer key, value;
	g_hash_table_iter_init(&it, none_members(lb));
	while (g_hash_table_iter_next(&it, &key, &value)) {
		vs_lb_entry m = {.state = GPOINTER_TO_INT(value), .busy = -1, .ours = true};
		g_strlcpy(m.address, key, sizeof(m.address));
		g_array_append_val(out, m);
	}
	return out;
}

static void none_free(vs_lb *lb)
{
	if (lb->priv)
		g_hash_table_destroy(lb->priv);
}

const vs_lb_ops vs_lb_none_ops = {
    .name = "none",
    .add = none_add,
    .enable = none_enable,
    .drain = none_drain,
    .remove = none_remove,
    .list = none_list,
    .free = none_free,
};
