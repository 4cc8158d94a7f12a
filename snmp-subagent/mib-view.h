/*
 * mib-view.h - an immutable, sorted set of varbinds served for one
 * registered subtree.
 *
 * Every table and scalar of a MIB is translated from the newest snapshot
 * into one of these in the main loop, and the request handler answers GET
 * and GETNEXT by binary search. A request therefore never waits for libvirt
 * and costs O(log n) whatever the table, which keeps the per-varbind cost at
 * the AgentX path's own limit.
 */
#ifndef VS_MIB_VIEW_H
#define VS_MIB_VIEW_H

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct vs_mib_var {
	oid *name;
	size_t name_len;
	u_char type;
	size_t val_len;
	void *val; /* long, struct counter64, oid[], or bytes */
} vs_mib_var;

/* Builds a view; entries may be added in any order. */
typedef struct vs_mib_builder {
	const oid *root;
	size_t root_len;
	GArray *vars; /* of vs_mib_var */
} vs_mib_builder;

typedef struct vs_mib_view {
	vs_mib_var *vars; /* sorted by OID */
	size_t n_vars;
} vs_mib_view;

/* Validates a SET on one object of the view: return SNMP_ERR_NOERROR to accept. */
typedef int (*vs_mib_set_check)(const oid *name, size_t name_len, const netsnmp_variable_list *vb,
                                void *opaque);
/* Applies (or, with the old value, undoes) a SET the check accepted; the
 * owner then serves a view rebuilt with the new value. */
typedef void (*vs_mib_set_apply)(const oid *name, size_t name_len, long value, void *opaque);

/* A registered subtree; its view is replaced on every rebuild. */
typedef struct vs_mib_subtree {
	const char *label;
	const oid *root;
	size_t root_len;
	vs_mib_view *view;
	vs_mib_set_check set_check; /* NULL: every object is read-only */
	vs_mib_set_apply set_apply;
	void *opaque;
	netsnmp_handler_registration *reg;
} vs_mib_subtree;

void vs_mib_builder_init(vs_mib_builder *b, const oid *root, size_t root_len);
/* Sorts the entries and moves them into a view; the builder is emptied. */
vs_mib_view *vs_mib_builder_finish(vs_mib_builder *b);
void vs_mib_view_free(vs_mib_view *v);

/*
 * Adders: @sub is the OID below the builder's root up to and including the
 * column (e.g. {1, 4, 1, 2} for vmName), @idx the row's index OIDs (none
 * for a scalar, which gets .0 appended by vs_mib_add_scalar_*).
 */
void vs_mib_add(vs_mib_builder *b, const oid *sub, size_t sub_len, const oid *idx, size_t idx_len,
                u_char type, const void *val, size_t val_len);
void vs_mib_add_int(vs_mib_builder *b, const oid *sub, size_t sub_len, const oid *idx,
                    size_t idx_len, u_char type, long value);
void vs_mib_add_u64(vs_mib_builder *b, const oid *sub, size_t sub_len, const oid *idx,
                    size_t idx_len, uint64_t value);
void vs_mib_add_string(vs_mib_builder *b, const oid *sub, size_t sub_len, const oid *idx,
                       size_t idx_len, const char *s);

/* Finds the exact entry (GET), or NULL. */
const vs_mib_var *vs_mib_view_find(const vs_mib_view *v, const oid *name, size_t len);
/* Finds the first entry after @name (at or after when @inclusive), or NULL. */
const vs_mib_var *vs_mib_view_next(const vs_mib_view *v, const oid *name, size_t len,
                                   bool inclusive);

/* Registers @t with the agent (its handler answers from t->view). */
bool vs_mib_subtree_register(vs_mib_subtree *t);
/* Replaces the served view; frees the old one. Main loop only. */
void vs_mib_subtree_set_view(vs_mib_subtree *t, vs_mib_view *v);

#endif
