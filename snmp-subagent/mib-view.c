/* mib-view.c - sorted varbind views and the handler that serves them */
#include "config.h"

#include "mib-view.h"

#include <string.h>

void vs_mib_builder_init(vs_mib_builder *b, const oid *root, size_t root_len)
{
	b->root = root;
	b->root_len = root_len;
	b->vars = g_array_new(FALSE, FALSE, sizeof(vs_mib_var));
}

static void mib_var_clear(vs_mib_var *v)
{
	g_free(v->name);
	g_free(v->val);
}

/**
 * vs_mib_add:
 * Adds one varbind root.@sub.@idx of @type whose value is @val_len bytes at
 * @val (copied).
 */
void vs_mib_add(vs_mib_builder *b, const oid *sub, size_t sub_len, const oid *idx, size_t idx_len,
                u_char type, const void *val, size_t val_len)
{
	vs_mib_var v = {0};
	v.name_len = b->root_len + sub_len + idx_len;
	if (v.name_len > MAX_OID_LEN)
		return; /* cannot be encoded: an index that long is dropped, not truncated */
	v.name = g_new(oid, v.name_len);
	memcpy(v.name, b->root, b->root_len * sizeof(oid));
	memcpy(v.name + b->root_len, sub, sub_len * sizeof(oid));
	if (idx_len)
		memcpy(v.name + b->root_len + sub_len, idx, idx_len * sizeof(oid));
	v.type = type;
	v.val_len = val_len;
	v.val = g_malloc(val_len ? val_len : 1);
	if (val_len)
		memcpy(v.val, val, val_len);
	g_array_append_val(b->vars, v);
}

/** vs_mib_add_int: an INTEGER-like value (Integer32, Gauge32, TimeTicks, ...). */
void vs_mib_add_int(vs_mib_builder *b, const oid *sub, size_t sub_len, const oid *idx,
                    size_t idx_len, u_char type, long value)
{
	vs_mib_add(b, sub, sub_len, idx, idx_len, type, &value, sizeof(value));
}

/** vs_mib_add_u64: a Counter64. */
void vs_mib_add_u64(vs_mib_builder *b, const oid *sub, size_t sub_len, const oid *idx,
                    size_t idx_len, uint64_t value)
{
	struct counter64 c = {.high = value >> 32, .low = value & 0xffffffffu};
	vs_mib_add(b, sub, sub_len, idx, idx_len, ASN_COUNTER64, &c, sizeof(c));
}

/** vs_mib_add_string: an OCTET STRING from a C string (NULL = empty). */
void vs_mib_add_string(vs_mib_builder *b, const oid *sub, size_t sub_len, const oid *idx,
                       size_t idx_len, const char *s)
{
	s = s ? s : "";
	vs_mib_add(b, sub, sub_len, idx, idx_len, ASN_OCTET_STR, s, strlen(s));
}

static int mib_var_compare(const void *a, const void *b)
{
	const vs_mib_var *x = a, *y = b;
	return snmp_oid_compare(x->name, x->name_len, y->name, y->name_len);
}

/**
 * vs_mib_builder_finish:
 * Sorts the collected varbinds into a view. Duplicates (which a builder
 * should never add) keep the first one so lookups stay well defined.
 */
vs_mib_view *vs_mib_builder_finish(vs_mib_builder *b)
{
	vs_mib_view *v = g_new0(vs_mib_view, 1);
	g_array_sort(b->vars, mib_var_compare);
	size_t n = b->vars->len, out = 0;
	vs_mib_var *all = (vs_mib_var *)(void *)b->vars->data;
	for (size_t i = 0; i < n; i++) {
		if (out > 0 && mib_var_compare(&all[out - 1], &all[i]) == 0) {
			mib_var_clear(&all[i]);
			continue;
		}
		all[out++] = all[i];
	}
	v->n_vars = out;
	v->vars = (vs_mib_var *)(void *)g_array_free(b->vars, FALSE);
	b->vars = NULL;
	return v;
}

/** vs_mib_view_free: frees @v and every varbind in it. */
void vs_mib_view_free(vs_mib_view *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->n_vars; i++)
		mib_var_clear(&v->vars[i]);
	g_free(v->vars);
	g_free(v);
}

/* Index of the first entry >= name (or > name when !inclusive). */
static size_t view_lower_bound(const vs_mib_view *v, const oid *name, size_t len, bool inclusive)
{
	size_t lo = 0, hi = v->n_vars;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = snmp_oid_compare(v->vars[mid].name, v->vars[mid].name_len, name, len);
		if (c < 0 || (c == 0 && !inclusive))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/** vs_mib_view_find: the entry named exactly @name, or NULL. */
const vs_mib_var *vs_mib_view_find(const vs_mib_view *v, const oid *name, size_t len)
{
	if (!v)
		return NULL;
	size_t i = view_lower_bound(v, name, len, true);
	if (i < v->n_vars && snmp_oid_compare(v->vars[i].name, v->vars[i].name_len, name, len) == 0)
		return &v->vars[i];
	return NULL;
}

/** vs_mib_view_next: the lexicographic successor of @name in @v, or NULL. */
const vs_mib_var *vs_mib_view_next(const vs_mib_view *v, const oid *name, size_t len,
                                   bool inclusive)
{
	if (!v)
		return NULL;
	size_t i = view_lower_bound(v, name, len, inclusive);
	return i < v->n_vars ? &v->vars[i] : NULL;
}

static void answer(netsnmp_request_info *r, const vs_mib_var *e)
{
	snmp_set_var_typed_value(r->requestvb, e->type, e->val, e->val_len);
}

static void handle_set(vs_mib_subtree *t, netsnmp_agent_request_info *reqinfo,
                       netsnmp_request_info *requests)
{
	for (netsnmp_request_info *r = requests; r; r = r->next) {
		if (r->processed)
			continue;
		netsnmp_variable_list *vb = r->requestvb;
		switch (reqinfo->mode) {
		case MODE_SET_RESERVE1: {
			int rc = SNMP_ERR_NOTWRITABLE;
			if (t->set_check)
				rc = t->set_check(vb->name, vb->name_length, vb, t->opaque);
			if (rc != SNMP_ERR_NOERROR)
				netsnmp_set_request_error(reqinfo, r, rc);
			break;
		}
		case MODE_SET_ACTION: {
			/* the owner applies the value and serves a rebuilt view:
			 * a published view is never written into */
			const vs_mib_var *e = vs_mib_view_find(t->view, vb->name, vb->name_length);
			long *old = g_new(long, 1);
			*old = e ? *(long *)e->val : 0;
			netsnmp_request_add_list_data(r,
			                              netsnmp_create_data_list("old", old, g_free));
			t->set_apply(vb->name, vb->name_length, *vb->val.integer, t->opaque);
			break;
		}
		case MODE_SET_UNDO: {
			long *old = netsnmp_request_get_list_data(r, "old");
			if (old)
				t->set_apply(vb->name, vb->name_length, *old, t->opaque);
			break;
		}
		default: /* RESERVE2, COMMIT, FREE: nothing held */
			break;
		}
	}
}

static int subtree_handler(netsnmp_mib_handler *handler, netsnmp_handler_registration *reg,
                           netsnmp_agent_request_info *reqinfo, netsnmp_request_info *requests)
{
	vs_mib_subtree *t = handler->myvoid;

	switch (reqinfo->mode) {
	case MODE_GET:
		for (netsnmp_request_info *r = requests; r; r = r->next) {
			if (r->processed)
				continue;
			const vs_mib_var *e = vs_mib_view_find(t->view, r->requestvb->name,
			                                       r->requestvb->name_length);
			if (e)
				answer(r, e);
			else
				netsnmp_set_request_error(reqinfo, r, SNMP_NOSUCHINSTANCE);
		}
		break;
	case MODE_GETNEXT:
		for (netsnmp_request_info *r = requests; r; r = r->next) {
			if (r->processed)
				continue;
			const vs_mib_var *e =
			    vs_mib_view_next(t->view, r->requestvb->name, r->requestvb->name_length,
			                     r->inclusive != 0);
			/* Nothing left here: leave the varbind unanswered and
			 * the agent moves on to the next registration. */
			if (!e)
				continue;
			snmp_set_var_objid(r->requestvb, e->name, e->name_len);
			answer(r, e);
		}
		break;
	default:
		handle_set(t, reqinfo, requests);
		break;
	}
	return SNMP_ERR_NOERROR;
}

/**
 * vs_mib_subtree_register:
 * Registers t->root as one subtree whose requests are answered from
 * t->view. GETBULK reaches the handler as GETNEXT (net-snmp injects its
 * bulk_to_next helper since the registration does not claim GETBULK).
 */
bool vs_mib_subtree_register(vs_mib_subtree *t)
{
	netsnmp_handler_registration *reg = netsnmp_create_handler_registration(
	    t->label, subtree_handler, t->root, t->root_len, HANDLER_CAN_RWRITE);
	if (!reg)
		return false;
	reg->handler->myvoid = t;
	if (netsnmp_register_handler(reg) != MIB_REGISTERED_OK)
		return false;
	t->reg = reg;
	return true;
}

/** vs_mib_subtree_set_view: serves @v from now on; frees the previous view. */
void vs_mib_subtree_set_view(vs_mib_subtree *t, vs_mib_view *v)
{
	vs_mib_view *old = t->view;
	t->view = v;
	vs_mib_view_free(old);
}
