/*
 * vs-pool.c - pools and their members (see vs-pool.h): membership, what
 * "running" means, aggregates, and the member a scale-in stops. Everything
 * here is pure; session counts come from vs-pool-sessions.c.
 *
 * Membership: a domain is a member of a pool when it carries the virtscale
 * metadata tag naming the pool AND its name is the pool's name_pattern with
 * some number. The tag says virtscale made it for this pool; the name keeps
 * a pool of the same name in another configuration out. The template is
 * never a member: it is the shut-off image clones are made from. The
 * actuator acts on exactly the members the monitors count.
 */
#include "config.h"

#include "vs-pool.h"
#include "vs-validate.h"

#include <libvirt/libvirt.h>
#include <math.h>
#include <string.h>

/* name_pattern split around its one %d / %0Nd. */
typedef struct name_pattern {
	const char *prefix;
	size_t prefix_len;
	const char *suffix;
	unsigned width; /* zero-padded width, 0 = none */
} name_pattern;

static bool split_pattern(const char *pattern, name_pattern *np)
{
	const char *pct;

	if (!pattern || !(pct = strchr(pattern, '%')))
		return false;
	np->prefix = pattern;
	np->prefix_len = (size_t)(pct - pattern);
	np->width = 0;
	pct++;
	if (pct[0] == '0' && pct[1] >= '1' && pct[1] <= '9') {
		np->width = (unsigned)(pct[1] - '0');
		pct += 2;
	}
	if (*pct != 'd' || strchr(pct + 1, '%'))
		return false;
	np->suffix = pct + 1;
	return true;
}

/**
 * vs_pool_member_name:
 * @pool: the pool
 * @index: the clone's number
 *
 * Returns name_pattern with @index in place of its %d / %0Nd ("web-03"),
 * newly allocated, or NULL when the pool has no usable pattern. Built by
 * hand, never by passing the configured pattern to printf.
 */
char *vs_pool_member_name(const vs_pool_config *pool, unsigned index)
{
	name_pattern np;

	if (!pool || !split_pattern(pool->name_pattern, &np))
		return NULL;
	return g_strdup_printf("%.*s%0*u%s", (int)np.prefix_len, np.prefix, (int)np.width, index,
	                       np.suffix);
}

/**
 * vs_pool_match_name:
 * @pool: the pool
 * @name: a domain name
 * @index: set to the clone's number on a match (may be NULL)
 *
 * Returns true when @name is exactly what vs_pool_member_name() gives for
 * some number (so "web-3" does not match "web-%02d").
 */
bool vs_pool_match_name(const vs_pool_config *pool, const char *name, unsigned *index)
{
	name_pattern np;
	size_t len, slen;
	const char *digits;
	size_t ndigits;
	unsigned v = 0;
	g_autofree char *expected = NULL;

	if (!pool || !name || !split_pattern(pool->name_pattern, &np))
		return false;
	len = strlen(name);
	slen = strlen(np.suffix);
	if (len < np.prefix_len + slen + 1 || strncmp(name, np.prefix, np.prefix_len) != 0 ||
	    strcmp(name + len - slen, np.suffix) != 0)
		return false;
	digits = name + np.prefix_len;
	ndigits = len - np.prefix_len - slen;
	if (ndigits > 9)
		return false;
	for (size_t i = 0; i < ndigits; i++) {
		if (digits[i] < '0' || digits[i] > '9')
			return false;
		v = v * 10 + (unsigned)(digits[i] - '0');
	}
	expected = vs_pool_member_name(pool, v);
	if (!expected || strcmp(expected, name) != 0)
		return false;
	if (index)
		*index = v;
	return true;
}

/**
 * vs_pool_member_running:
 * @state: a virDomainState
 *
 * Returns true when a member in @state serves and counts against max:
 * running, or blocked (running, idle on I/O). Paused, shut down, crashed and
 * suspended members do not serve.
 */
bool vs_pool_member_running(int state)
{
	return state == VIR_DOMAIN_RUNNING || state == VIR_DOMAIN_BLOCKED;
}

/**
 * vs_pool_is_member:
 * @pool: the pool
 * @name: a domain name
 * @tag_pool: the pool its virtscale tag names, NULL when untagged
 * @index: set to the member's number on a match (may be NULL)
 *
 * Returns true when the domain is a member of @pool (see the file comment).
 */
bool vs_pool_is_member(const vs_pool_config *pool, const char *name, const char *tag_pool,
                       unsigned *index)
{
	if (!name || !tag_pool || strcmp(tag_pool, pool->name) != 0)
		return false;
	if (pool->template_name && strcmp(name, pool->template_name) == 0)
		return false;
	return vs_pool_match_name(pool, name, index);
}

/**
 * vs_domain_tag_accept:
 * @pool_attr: the tag's pool attribute (may be NULL)
 * @address_attr: its address attribute (may be NULL)
 * @pool: set to a copy of a valid @pool_attr, else NULL
 * @address: set to a copy of a valid @address_attr, else NULL
 *
 * Returns true when the tag names a valid pool.
 */
bool vs_domain_tag_accept(const char *pool_attr, const char *address_attr, char **pool,
                          char **address)
{
	bool ours = pool_attr && vs_valid_pool_name(pool_attr);

	*pool = ours ? g_strdup(pool_attr) : NULL;
	*address = ours && address_attr && vs_valid_host_port(address_attr) ? g_strdup(address_attr)
	                                                                    : NULL;
	return ours;
}

/**
 * vs_domain_tag_xml:
 * @pool: a valid pool name
 * @address: its backend address, or NULL
 *
 * Returns the tag element, newly allocated.
 */
char *vs_domain_tag_xml(const char *pool, const char *address)
{
	return vs_domain_tag_xml_full(pool, address, NULL, false);
}

/**
 * vs_domain_tag_accept_warm:
 * @warm_attr: the tag's warm attribute (may be NULL)
 * @template_attr: its template attribute (may be NULL)
 * @warm: set to true when @warm_attr is "yes"
 * @template_id: set to a copy of a valid @template_attr, else NULL
 */
void vs_domain_tag_accept_warm(const char *warm_attr, const char *template_attr, bool *warm,
                               char **template_id)
{
	size_t n = template_attr ? strlen(template_attr) : 0;
	bool ok = n > 0 && n <= 64;

	for (size_t i = 0; ok && i < n; i++)
		ok = g_ascii_isxdigit(template_attr[i]);
	*warm = g_strcmp0(warm_attr, "yes") == 0;
	*template_id = ok ? g_strdup(template_attr) : NULL;
}

/**
 * vs_domain_tag_xml_full:
 * @pool: a valid pool name
 * @address: its backend address, or NULL
 * @template_id: the identity of its template, or NULL
 * @warm: a warm instance
 *
 * Returns the tag element, newly allocated.
 */
char *vs_domain_tag_xml_full(const char *pool, const char *address, const char *template_id,
                             bool warm)
{
	GString *s = g_string_new(NULL);
	g_autofree char *p = g_markup_printf_escaped("<%s pool='%s'", VS_METADATA_KEY, pool);

	g_string_append(s, p);
	if (address) {
		g_autofree char *a = g_markup_printf_escaped(" address='%s'", address);
		g_string_append(s, a);
	}
	if (template_id) {
		g_autofree char *t = g_markup_printf_escaped(" template='%s'", template_id);
		g_string_append(s, t);
	}
	if (warm)
		g_string_append(s, " warm='yes'");
	g_string_append(s, "/>");
	return g_string_free(s, FALSE);
}

/**
 * vs_template_identity:
 * @template_xml: the template's inactive XML
 *
 * Returns its identity (SHA-256 in hex): a clone made from another
 * version of the template has another.
 */
char *vs_template_identity(const char *template_xml)
{
	return g_compute_checksum_for_string(G_CHECKSUM_SHA256, template_xml, -1);
}

/**
 * vs_pool_on_host:
 * @pool: the pool
 * @uri: a configured hypervisor
 *
 * Returns true when @pool keeps members on @uri.
 */
bool vs_pool_on_host(const vs_pool_config *pool, const char *uri)
{
	return uri && pool->hosts && g_strv_contains((const char *const *)pool->hosts, uri);
}

/**
 * vs_member_new:
 * @name: the domain's name
 * @host_uri: its hypervisor
 *
 * Returns a member with nothing measured yet (no address, sessions, CPU).
 */
vs_member *vs_member_new(const char *name, const char *host_uri)
{
	vs_member *m = g_new0(vs_member, 1);

	m->name = g_strdup(name);
	m->host_uri = g_strdup(host_uri);
	m->state = VIR_DOMAIN_NOSTATE;
	m->sessions = -1;
	m->ratio = -1;
	m->cpu_percent = -1;
	m->lb_state = VS_LB_STATE_UNKNOWN;
	return m;
}

/**
 * vs_member_copy:
 * @m: a member
 *
 * Returns a deep copy.
 */
vs_member *vs_member_copy(const vs_member *m)
{
	vs_member *c = g_memdup2(m, sizeof(*m));

	c->name = g_strdup(m->name);
	c->host_uri = g_strdup(m->host_uri);
	c->address = g_strdup(m->address);
	c->template_id = g_strdup(m->template_id);
	return c;
}

/**
 * vs_member_free:
 * @m: a member or NULL
 */
void vs_member_free(vs_member *m)
{
	if (!m)
		return;
	g_free(m->name);
	g_free(m->host_uri);
	g_free(m->address);
	g_free(m->template_id);
	g_free(m);
}

/**
 * vs_member_set_address:
 * @m: a member
 * @address: where its balancer sends traffic ("host:port"), or NULL
 *
 * Numeric addresses also become the endpoint session counts are made for.
 */
void vs_member_set_address(vs_member *m, const char *address)
{
	g_free(m->address);
	m->address = g_strdup(address);
	m->have_endpoint = address && vs_endpoint_parse(address, &m->endpoint);
}

static gint compare_members(gconstpointer a, gconstpointer b)
{
	const vs_member *x = *(vs_member *const *)a, *y = *(vs_member *const *)b;

	if (x->index != y->index)
		return x->index < y->index ? -1 : 1;
	return g_strcmp0(x->name, y->name);
}

/**
 * vs_pool_view_new:
 * @pool: the pool (must outlive the view)
 *
 * Returns a view with no member.
 */
vs_pool_view *vs_pool_view_new(const vs_pool_config *pool)
{
	vs_pool_view *v = g_new0(vs_pool_view, 1);

	v->cfg = pool;
	v->members = g_ptr_array_new_with_free_func((GDestroyNotify)vs_member_free);
	v->sample_cpu = g_array_new(FALSE, FALSE, sizeof(double));
	v->sample_sessions = g_array_new(FALSE, FALSE, sizeof(double));
	v->sample_member = g_array_new(FALSE, FALSE, sizeof(guint));
	vs_pool_view_aggregate(v);
	return v;
}

/**
 * vs_pool_view_add:
 * @v: the view
 * @m: a member (taken); its running flag is set from its state
 */
void vs_pool_view_add(vs_pool_view *v, vs_member *m)
{
	m->running = !m->lost && !m->warm && vs_pool_member_running(m->state);
	g_ptr_array_add(v->members, m);
}

/**
 * vs_pool_view_from_snapshot:
 * @pool: the pool
 * @snap: a collector snapshot
 *
 * Returns the members of @pool in @snap with their state, CPU% and backend
 * address (from the virtscale tag), aggregated. Sessions are unknown until
 * vs_pool_collect_sessions().
 */
vs_pool_view *vs_pool_view_from_snapshot(const vs_pool_config *pool, const vs_snapshot *snap)
{
	vs_pool_view *v = vs_pool_view_new(pool);
	g_autoptr(GHashTable) lost = g_hash_table_new(g_str_hash, g_str_equal);
	int64_t now_real = g_get_real_time();

	for (guint i = 0; snap && snap->hosts && i < snap->hosts->len; i++) {
		const vs_host_status *h = g_ptr_array_index(snap->hosts, i);

		if (h->lost && h->uri)
			g_hash_table_add(lost, h->uri);
	}

	for (guint i = 0; snap && snap->domains && i < snap->domains->len; i++) {
		const vs_domain_stats *d = g_ptr_array_index(snap->domains, i);
		unsigned index;
		vs_member *m;

		if (!vs_pool_on_host(pool, d->host_uri) ||
		    !vs_pool_is_member(pool, d->name, d->meta_pool, &index))
			continue;
		m = vs_member_new(d->name, d->host_uri);
		memcpy(m->uuid_str, d->uuid_str, sizeof(m->uuid_str));
		m->index = index;
		m->state = d->state;
		m->cpu_percent = d->cpu_percent_of_vcpus;
		m->cpu_time_ns = d->cpu_time_ns;
		m->sample_mono_us = d->sample_mono_us;
		m->vcpus = d->vcpu_current;
		m->vcpus_max = d->vcpu_max;
		m->lost = g_hash_table_contains(lost, d->host_uri);
		m->warm = d->meta_warm;
		m->warming = pool->warmup && d->started_real_us &&
		             now_real - d->started_real_us < (int64_t)pool->warmup * G_USEC_PER_SEC;
		vs_member_set_address(m, d->meta_address);
		vs_pool_view_add(v, m);
	}
	vs_pool_view_aggregate(v);
	return v;
}

/**
 * vs_pool_view_copy:
 * @v: a view
 *
 * Returns a deep copy (its members copied).
 */
vs_pool_view *vs_pool_view_copy(const vs_pool_view *v)
{
	vs_pool_view *c = vs_pool_view_new(v->cfg);

	for (guint i = 0; i < v->members->len; i++)
		g_ptr_array_add(c->members, vs_member_copy(v->members->pdata[i]));
	vs_pool_view_aggregate(c);
	return c;
}

/**
 * vs_pool_view_set_sessions:
 * @v: the view
 * @i: the member's position in @v->members
 * @sessions: its active sessions
 *
 * Sets the count and the ratio Ai/SMax. Call vs_pool_view_aggregate() after
 * the last change.
 */
void vs_pool_view_set_sessions(vs_pool_view *v, guint i, unsigned sessions)
{
	vs_member *m;

	if (!v || i >= v->members->len)
		return;
	m = v->members->pdata[i];
	m->sessions = (int)MIN(sessions, (unsigned)G_MAXINT);
	m->ratio = v->cfg->session_capacity > 0 ? sessions / v->cfg->session_capacity : 0;
}

/**
 * vs_pool_view_aggregate:
 * @v: the view
 *
 * Sorts the members by number, then recomputes the pool's figures from the
 * running ones: the count, the average CPU% over those with a CPU figure,
 * the average sessions and the min/max ratio over those with a session
 * count, the total sessions, and the policy sample. A figure with no member
 * to average over is -1.
 */
void vs_pool_view_aggregate(vs_pool_view *v)
{
	double cpu_sum = 0, sess_sum = 0;
	unsigned cpu_n = 0, sess_n = 0;

	g_ptr_array_sort(v->members, compare_members);
	g_array_set_size(v->sample_cpu, 0);
	g_array_set_size(v->sample_sessions, 0);
	g_array_set_size(v->sample_member, 0);
	v->n_running = 0;
	v->n_warm = 0;
	v->total_sessions = 0;
	v->min_ratio = v->max_ratio = -1;
	for (guint i = 0; i < v->members->len; i++) {
		const vs_member *m = v->members->pdata[i];
		double sessions = m->sessions; /* <0 unknown */

		v->n_warm += m->warm && !m->lost;
		if (!m->running)
			continue;
		v->n_running++;
		/* counted, but the CPU of a member still warming up (its
		 * start-up work) stays out of the averages and the policy, as
		 * an unknown figure; its sessions count (it takes its share) */
		double cpu = m->warming ? -1 : m->cpu_percent;

		g_array_append_val(v->sample_cpu, cpu);
		g_array_append_val(v->sample_sessions, sessions);
		g_array_append_val(v->sample_member, i);
		if (cpu >= 0) {
			cpu_sum += cpu;
			cpu_n++;
		}
		if (m->sessions >= 0) {
			sess_sum += m->sessions;
			sess_n++;
			v->total_sessions += (unsigned)m->sessions;
			if (v->min_ratio < 0 || m->ratio < v->min_ratio)
				v->min_ratio = m->ratio;
			if (m->ratio > v->max_ratio)
				v->max_ratio = m->ratio;
		}
	}
	v->avg_cpu = cpu_n ? cpu_sum / cpu_n : -1;
	v->avg_sessions = sess_n ? sess_sum / sess_n : -1;
}

/**
 * vs_pool_view_free:
 * @v: a view or NULL
 */
void vs_pool_view_free(vs_pool_view *v)
{
	if (!v)
		return;
	g_ptr_array_unref(v->members);
	g_array_unref(v->sample_cpu);
	g_array_unref(v->sample_sessions);
	g_array_unref(v->sample_member);
	g_free(v);
}

/**
 * vs_pool_view_sample:
 * @v: an aggregated view
 * @now_ms: the sample's time
 * @with_sessions: the session counts are usable
 *
 * Returns the running members as one policy sample; it points into @v.
 */
vs_policy_sample vs_pool_view_sample(const vs_pool_view *v, int64_t now_ms, bool with_sessions)
{
	return (vs_policy_sample){
	    .now_ms = now_ms,
	    .n_running = v->n_running,
	    .cpu = (const double *)(void *)v->sample_cpu->data,
	    .sessions = with_sessions ? (const double *)(void *)v->sample_sessions->data : NULL,
	};
}

static int member_of_sample(const vs_pool_view *v, int k)
{
	return k < 0 ? -1 : (int)g_array_index(v->sample_member, guint, k);
}

/**
 * vs_pool_view_victim:
 * @v: an aggregated view, sessions counted where they could be
 *
 * Returns the index into @v->members of the member a scale-in stops
 * (vs_policy_victim), -1 when none is running.
 */
int vs_pool_view_victim(const vs_pool_view *v)
{
	bool with_sessions = false;
	const char *host = NULL;

	for (guint k = 0; k < v->sample_sessions->len; k++)
		with_sessions |= g_array_index(v->sample_sessions, double, k) >= 0;
	if ((v->cfg->hosts && v->cfg->hosts[0] && v->cfg->hosts[1]) || v->cfg->host_min) {
		host = vs_pool_view_scale_in_host(v);
		if (!host)
			return -1;
	}
	vs_policy_sample s = vs_pool_view_sample(v, 0, with_sessions);
	if (!host)
		return member_of_sample(v, vs_policy_victim(&s));

	/* the policy's rule among the members on that host */
	g_autoptr(GArray) cpu = g_array_new(FALSE, FALSE, sizeof(double));
	g_autoptr(GArray) sessions = g_array_new(FALSE, FALSE, sizeof(double));
	g_autoptr(GArray) index = g_array_new(FALSE, FALSE, sizeof(int));

	for (guint k = 0; k < v->sample_member->len; k++) {
		int i = member_of_sample(v, (int)k);
		const vs_member *m = v->members->pdata[i];

		if (g_strcmp0(m->host_uri, host) != 0)
			continue;
		g_array_append_val(cpu, g_array_index(v->sample_cpu, double, k));
		g_array_append_val(sessions, g_array_index(v->sample_sessions, double, k));
		g_array_append_val(index, i);
	}
	s.n_running = cpu->len;
	s.cpu = (const double *)(void *)cpu->data;
	s.sessions = with_sessions ? (const double *)(void *)sessions->data : NULL;
	int k = vs_policy_victim(&s);
	return k < 0 ? -1 : g_array_index(index, int, k);
}

/**
 * vs_pool_view_host_counts:
 * @v: an aggregated view
 * @hosts: one entry per host of the pool (its hosts, in order); uri set
 *
 * Fills each host's running instances and their sessions from @v.
 */
void vs_pool_view_host_counts(const vs_pool_view *v, vs_placement_host *hosts, size_t n)
{
	for (size_t h = 0; h < n; h++) {
		hosts[h].running = 0;
		hosts[h].sessions = 0;
		for (guint i = 0; i < v->members->len; i++) {
			const vs_member *m = v->members->pdata[i];

			if (!m->running || g_strcmp0(m->host_uri, hosts[h].uri) != 0)
				continue;
			hosts[h].running++;
			hosts[h].sessions += m->sessions > 0 ? (unsigned)m->sessions : 0;
		}
	}
}

/**
 * vs_pool_view_scale_in_host:
 * @v: an aggregated view
 *
 * Returns the URI of the host a scale-in takes an instance from
 * (vs_placement_scale_in_host), NULL when every host is at host_min.
 */
const char *vs_pool_view_scale_in_host(const vs_pool_view *v)
{
	size_t n = v->cfg->hosts ? g_strv_length(v->cfg->hosts) : 0;
	g_autofree vs_placement_host *hosts = g_new0(vs_placement_host, MAX(n, 1));
	int h;

	for (size_t i = 0; i < n; i++)
		hosts[i].uri = v->cfg->hosts[i];
	vs_pool_view_host_counts(v, hosts, n);
	h = vs_placement_scale_in_host(v->cfg, hosts, n);
	return h < 0 ? NULL : v->cfg->hosts[h];
}
