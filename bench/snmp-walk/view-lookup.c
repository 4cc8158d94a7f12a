/*
 * view-lookup.c - the subagent's own share of a GETNEXT: one lookup in the
 * sorted view (mib-view.c) that virtscale-snmp answers from, timed apart
 * from net-snmp, AgentX and snmpd, for views the size of N domains' VM-MIB.
 *
 *   bench/snmp-walk/view-lookup.sh [BUILDDIR] [N...]     (default 10 50 100 200)
 *
 * For each N: a view of 29 vmTable columns per domain and 9 vmStorageTable
 * columns for 2 disks per domain (about 47 varbinds per domain, as VM-MIB),
 * walked from its root by successive vs_mib_view_next() calls; prints ns
 * per lookup, the best of 20 walks.
 */
#include "config.h"

#include "mib-view.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static vs_mib_view *build(const oid *root, size_t root_len, long n)
{
	vs_mib_builder b;
	vs_mib_builder_init(&b, root, root_len);
	for (long d = 1; d <= n; d++) {
		for (oid c = 2; c <= 30; c++) {
			const oid sub[] = {1, 4, 1, c}, idx[] = {(oid)d};
			vs_mib_add_int(&b, sub, 4, idx, 1, ASN_INTEGER, d * (long)c);
		}
		for (oid k = 1; k <= 2; k++)
			for (oid c = 2; c <= 10; c++) {
				const oid sub[] = {1, 6, 1, c}, idx[] = {(oid)d, k};
				vs_mib_add_u64(&b, sub, 4, idx, 2, 12345);
			}
	}
	return vs_mib_builder_finish(&b);
}

int main(int argc, char **argv)
{
	static const oid root[] = {1, 3, 6, 1, 2, 1, 236};
	static const long dflt[] = {10, 50, 100, 200};
	int count = argc > 1 ? argc - 1 : 4;
	printf("| N | varbinds | ns per GETNEXT lookup |\n|---|---|---|\n");
	for (int a = 0; a < count; a++) {
		long n = argc > 1 ? atol(argv[a + 1]) : dflt[a];
		vs_mib_view *v = build(root, G_N_ELEMENTS(root), n);
		double best = 1e9;
		for (int r = 0; r < 20; r++) {
			oid cur[MAX_OID_LEN];
			size_t len = G_N_ELEMENTS(root), steps = 0;
			memcpy(cur, root, sizeof(root));
			const vs_mib_var *e;
			double t0 = now();
			while ((e = vs_mib_view_next(v, cur, len, false))) {
				memcpy(cur, e->name, e->name_len * sizeof(oid));
				len = e->name_len;
				steps++;
			}
			double per = (now() - t0) / (double)(steps ? steps : 1);
			if (per < best)
				best = per;
		}
		printf("| %ld | %zu | %.1f |\n", n, v->n_vars, best * 1e9);
		vs_mib_view_free(v);
	}
	return 0;
}
