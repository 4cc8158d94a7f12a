/*
 * precheck.c - the preconditions of a scale-out, checked before anything
 * is cloned; see precheck.h.
 */
#include "config.h"

#include "precheck.h"

#include "vs-log.h"

#include <libvirt/virterror.h>

/* Fails with "@check: ..." and the condition key of @err. */
static bool failed(const char *check, GError *err, char **condition, GError **error)
{
	*condition = g_strdup_printf("%s:%s:%d", check, g_quark_to_string(err->domain), err->code);
	g_prefix_error(&err, "%s: ", check);
	g_propagate_error(error, err);
	return false;
}

/*
 * The template exists on @c (the host @uri, which placement chose: the
 * operator defines it on each host of the pool) and is shut off; the
 * storage pool is active. The errors name the host.
 */
static bool check_host(vs_ops_ctx *w, virConnectPtr c, const char *uri, char **condition,
                       GError **error)
{
	const vs_pool_config *pool = w->pool;
	const char *host = vs_config_host_name(w->cfg, uri);
	const char *storage = pool->storage_pool ? pool->storage_pool : "default";
	g_autoptr(virDomain) tmpl = virDomainLookupByName(c, pool->template_name);
	g_autoptr(virStoragePool) sp = NULL;
	GError *err = NULL;
	int state, reason;

	if (!tmpl) {
		vs_virt_set_error(&err, "template missing");
		g_prefix_error(&err, "%s on host %s: ", pool->template_name, host);
		return failed("template", err, condition, error);
	}
	if (virDomainGetState(tmpl, &state, &reason, 0) == 0 && state != VIR_DOMAIN_SHUTOFF) {
		g_set_error(&err, VS_ACT_ERROR, VS_ACT_ERROR_STATE,
		            "%s on host %s is not shut off: its disk would change under the clone",
		            pool->template_name, host);
		return failed("template", err, condition, error);
	}
	sp = virStoragePoolLookupByName(c, storage);
	if (!sp) {
		vs_virt_set_error(&err, "storage pool");
		g_prefix_error(&err, "%s on host %s: ", storage, host);
		return failed("storage", err, condition, error);
	}
	if (virStoragePoolIsActive(sp) != 1) {
		g_set_error(&err, VS_ACT_ERROR, VS_ACT_ERROR_STATE, "%s on host %s is not active",
		            storage, host);
		return failed("storage", err, condition, error);
	}
	return true;
}

/* A member kept shut off (keep_stopped) on @uri that the scale-out
 * restarts. */
static const vs_member *kept_member(const vs_ops_ctx *w, const vs_pool_view *v, const char *uri)
{
	for (guint i = 0; w->pool->keep_stopped && i < v->members->len; i++) {
		const vs_member *m = v->members->pdata[i];

		if (m->state == VIR_DOMAIN_SHUTOFF && !m->lost && g_strcmp0(m->host_uri, uri) == 0)
			return m;
	}
	return NULL;
}

/**
 * vs_precheck_scale_out: see precheck.h.
 */
bool vs_precheck_scale_out(vs_ops_ctx *w, const vs_pool_view *v, char **condition, GError **error)
{
	vs_virt *host = vs_placement_choose(w, v);
	const vs_member *kept = host ? kept_member(w, v, vs_virt_uri(host)) : NULL;
	g_autofree char *address = NULL;
	GError *err = NULL;

	*condition = NULL;
	if (!host) {
		g_set_error(&err, VS_ACT_ERROR, VS_ACT_ERROR_NOT_FOUND,
		            w->pool->host_max
		                ? "no host of the pool answers with room below host_max"
		                : "no host of the pool answers");
		return failed("hypervisor", err, condition, error);
	}
	if (kept) {
		/* a restart clones nothing: only its balancer entry matters */
		address = g_strdup(kept->address);
	} else {
		g_autoptr(virConnect) c = vs_virt_get(host, NULL, &err);

		if (!c)
			return failed("hypervisor", err, condition, error);
		if (!check_host(w, c, vs_virt_uri(host), condition, error))
			return false;
		/* the port the clone would get: a balancer may already have
		 * its worker (Apache reuses it, no growth slot needed) */
		if (w->pool->address == VS_ADDRESS_HOSTFWD) {
			address = vs_address_alloc_hostfwd(w, vs_virt_uri(host), &err);
			if (!address)
				return failed("address", err, condition, error);
		}
	}
	if (!vs_lb_precheck(w->lb, address, &err))
		return failed("load balancer", err, condition, error);
	return true;
}

/**
 * vs_precheck_track: see precheck.h.
 */
vs_block_change vs_precheck_track(char **blocked, const char *condition)
{
	vs_block_change change;

	if (!condition)
		change = *blocked ? VS_BLOCK_CLEARED : VS_BLOCK_NONE;
	else
		change = g_strcmp0(*blocked, condition) == 0 ? VS_BLOCK_SAME : VS_BLOCK_NEW;
	if (change != VS_BLOCK_SAME) {
		g_free(*blocked);
		*blocked = g_strdup(condition);
	}
	return change;
}
