/*
 * vs-pool.h - a pool and its members as every program sees them: which
 * domains are members, what "running" means, where a member serves, the
 * pool's aggregates and which member a scale-in stops. The SNMP subagent
 * and the collectd plugin build a view from a collector snapshot, the
 * actuator from what libvirt lists right now; from there on the same
 * functions decide, so the three programs see one pool.
 *
 * Pure: no I/O. Session counts are filled in by vs-pool-sessions.h.
 */
#ifndef VS_POOL_H
#define VS_POOL_H

#include "vs-config.h"
#include "vs-domain.h"
#include "vs-placement.h"
#include "vs-policy.h"
#include "vs-sessions.h"
#include "vs-states.h"

/* One member of a pool. */
typedef struct vs_member {
	char *name;
	char *host_uri;
	char uuid_str[VS_UUID_STRING_LEN]; /* "" unknown */
	unsigned index;                    /* the N of name_pattern */
	int state;                         /* virDomainState */
	bool running;                      /* vs_pool_member_running(state), not lost */
	bool lost;                         /* its host stopped answering host_grace ago */
	bool returned;                     /* on a host that came back after it was lost */
	char *address;                     /* host:port the balancer sends traffic to, or NULL */
	bool have_endpoint;                /* address is numeric (sessions can be counted) */
	vs_endpoint endpoint;
	int sessions;       /* active sessions from the pool's source, -1 unknown */
	double ratio;       /* sessions / session_capacity, <0 unknown */
	double cpu_percent; /* of its vCPUs, <0 unknown */
	uint64_t cpu_time_ns;
	int64_t sample_mono_us; /* when cpu_time_ns was read, 0 unknown */
	unsigned vcpus, vcpus_max;
	uint64_t mem_kib, mem_max_kib; /* its balloon now and its ceiling, 0 unknown */
	vs_lb_state lb_state;
	bool warm;         /* a warm instance (its tag says so): never running, not counted */
	char *template_id; /* the template it was cloned from (its tag), NULL unknown */
	bool warming;      /* started less than warmup ago: its CPU is not averaged */
} vs_member;

vs_member *vs_member_new(const char *name, const char *host_uri);
vs_member *vs_member_copy(const vs_member *m);
void vs_member_free(vs_member *m);
/* Sets the address (and the endpoint when it is numeric). */
void vs_member_set_address(vs_member *m, const char *address);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vs_member, vs_member_free)

typedef struct vs_pool_view {
	const vs_pool_config *cfg;
	GPtrArray *members; /* of vs_member*, by index, then name */
	/* vs_pool_view_aggregate(): */
	unsigned n_running;
	unsigned n_warm;             /* warm instances (not lost): vs_member.warm */
	double avg_cpu;              /* over running members with a CPU figure, <0 none */
	double avg_sessions;         /* over running members with a session count, <0 none */
	double min_ratio, max_ratio; /* over running members with a session count, <0 none */
	unsigned total_sessions;
	/* the running members as a policy sample (vs_pool_view_sample) */
	GArray *sample_cpu;      /* of double */
	GArray *sample_sessions; /* of double */
	GArray *sample_member;   /* of guint: index into members */
} vs_pool_view;

/* What "running" means for a member: it serves and counts against max. */
bool vs_pool_member_running(int state);
/* Is the domain @name, tagged for @tag_pool (NULL: untagged), a member of
 * @pool? Sets @index to its number. The template never is. */
bool vs_pool_is_member(const vs_pool_config *pool, const char *name, const char *tag_pool,
                       unsigned *index);
/*
 * The virtscale tag of a domain: <vs:virtscale pool='web' address='...'/> in
 * its metadata (namespace VS_METADATA_NS), written when virtscale defines a
 * clone. Reading: true when @pool_attr is a valid pool name (then *@pool is
 * set, and *@address when @address_attr is a valid host:port). The tag is in
 * XML anyone with libvirt access can edit: nothing else gets through.
 */
bool vs_domain_tag_accept(const char *pool_attr, const char *address_attr, char **pool,
                          char **address);
/* Writing: the element for virDomainSetMetadata(), escaped. */
char *vs_domain_tag_xml(const char *pool, const char *address);
/*
 * The tag's two optional attributes: template='ID' (the identity of the
 * template the clone was made from, vs_template_identity()) and warm='yes'
 * (a warm instance: paused or saved, out of the balancer, not counted).
 * Reading: *@warm is true only for "yes", *@template_id a copy of a valid ID
 * (1 to 64 hex digits) or NULL.
 */
void vs_domain_tag_accept_warm(const char *warm_attr, const char *template_attr, bool *warm,
                               char **template_id);
char *vs_domain_tag_xml_full(const char *pool, const char *address, const char *template_id,
                             bool warm);
/* The identity of a template: the SHA-256 of its inactive XML, in hex. */
char *vs_template_identity(const char *template_xml);

/* Does @pool keep members on the hypervisor @uri? */
bool vs_pool_on_host(const vs_pool_config *pool, const char *uri);

/* Is @name exactly name_pattern with some number, and which? */
bool vs_pool_match_name(const vs_pool_config *pool, const char *name, unsigned *index);
/* The member name for @index (name_pattern), newly allocated. */
char *vs_pool_member_name(const vs_pool_config *pool, unsigned index);

vs_pool_view *vs_pool_view_new(const vs_pool_config *pool);
/* Adds @m (taken) to the view; call vs_pool_view_aggregate() after the last. */
void vs_pool_view_add(vs_pool_view *v, vs_member *m);
/* The members of @pool in @snap, with their state, CPU and address. */
vs_pool_view *vs_pool_view_from_snapshot(const vs_pool_config *pool, const vs_snapshot *snap);
vs_pool_view *vs_pool_view_copy(const vs_pool_view *v);
void vs_pool_view_set_sessions(vs_pool_view *v, guint i, unsigned sessions);
/* Sorts the members and recomputes the aggregates and the sample. */
void vs_pool_view_aggregate(vs_pool_view *v);
void vs_pool_view_free(vs_pool_view *v);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vs_pool_view, vs_pool_view_free)

/* The running members as one policy sample at @now_ms; without sessions
 * when @with_sessions is false (the source did not answer). */
vs_policy_sample vs_pool_view_sample(const vs_pool_view *v, int64_t now_ms, bool with_sessions);
/* The member a scale-in stops: on a pool of several hosts the one
 * vs_pool_view_scale_in_host() names, then vs_policy_victim's rule among its
 * members. Index into members, -1 when none may stop. */
int vs_pool_view_victim(const vs_pool_view *v);
/* The host a scale-in takes an instance from (vs-placement.h), NULL when
 * every host is at host_min. */
const char *vs_pool_view_scale_in_host(const vs_pool_view *v);
/* Fills the running instances and sessions of each of @hosts (uri set). */
void vs_pool_view_host_counts(const vs_pool_view *v, vs_placement_host *hosts, size_t n);

#endif
