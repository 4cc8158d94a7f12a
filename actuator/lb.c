/* lb.c - load-balancer driver dispatch; see lb.h. */
#include "config.h"

#include "lb.h"

#include "vs-validate.h"

G_DEFINE_QUARK(vs-lb-error-quark, vs_lb_error)

extern const vs_lb_ops vs_lb_none_ops;

static const vs_lb_ops *lb_ops_for(vs_lb_kind kind)
{
	switch (kind) {
	case VS_LB_NONE:
		return &vs_lb_none_ops;
	case VS_LB_NGINX:
	case VS_LB_APACHE:
		break;
	}
	return NULL;
}

/**
 * vs_lb_open: opens the load-balancer driver configured for @pool.
 */
vs_lb *vs_lb_open(const vs_config *cfg, const vs_pool_config *pool, GError **error)
{
	const vs_lb_ops *ops = lb_ops_for(pool->lb);
	if (!ops) {
		g_set_error(error, VS_LB_ERROR, VS_LB_ERROR_FAILED,
			    "pool %s: load balancer '%s' is not supported by this build", pool->name,
			    vs_lb_kind_name(pool->lb));
		return NULL;
	}
	vs_lb *lb = g_new0(vs_lb, 1);
	lb->ops = ops;
	lb->cfg = cfg;
	lb->pool = pool;
	return lb;
}

void vs_lb_free(vs_lb *lb)
{
	if (!lb)
		return;
	if (lb->ops->free)
		lb->ops->free(lb);
	g_free(lb);
}

/* Every address reaches a driver only through here, so no driver can be
 * handed something that would inject syntax into its config or request. */
static bool lb_check_address(const char *address, GError **error)
{
	if (address && vs_valid_host_port(address))
		return true;
	g_set_error(error, VS_LB_ERROR, VS_LB_ERROR_INVALID, "invalid backend address");
	return false;
}

bool vs_lb_add(vs_lb *lb, const char *address, bool enabled, GError **error)
{
	return lb_check_address(address, error) && lb->ops->add(lb, address, enabled, error);
}

bool vs_lb_enable(vs_lb *lb, const char *address, GError **error)
{
	return lb_check_address(address, error) && lb->ops->enable(lb, address, error);
}

bool vs_lb_drain(vs_lb *lb, const char *address, GError **error)
{
	return lb_check_address(address, error) && lb->ops->drain(lb, address, error);
}

bool vs_lb_remove(vs_lb *lb, const char *address, GError **error)
{
	return lb_check_address(address, error) && lb->ops->remove(lb, address, error);
}

GArray *vs_lb_list(vs_lb *lb, GError **error)
{
	return lb->ops->list(lb, error);
}
