/*
 * vs-balancer-xml.c - reads Apache's balancer-manager state
 * (/balancer-manager?b=NAME&nonce=N&xml=1, httpd 2.4): each worker's URL,
 * route, status flags, load factor and busy count, plus the balancer's nonce.
 *
 * GMarkup does the XML (a strict, non-recursive parser: truncated input
 * leaves an element open and fails at the end). On top of it this file
 * insists that every worker it reports has a name and a busy figure, so a
 * cut or forged answer is an error, never a made-up session count.
 *
 * A sample of what httpd 2.4.71 answers is in tests/data/.
 */
#include "config.h"

#include "vs-error.h"
#include "vs-sessions.h"

#include <math.h>
#include <string.h>

#define BALANCER_PREFIX "balancer://"
#define NONCE_MAX       64

typedef struct parse_state {
	const char *wanted;         /* "balancer://web", or NULL for the first */
	vs_balancer_state *found;   /* the wanted balancer, once complete */
	vs_balancer_state *current; /* the balancer being read */
	vs_balancer_worker *worker; /* the worker being read */
	bool worker_has_busy;
	GString *text; /* text of the current leaf element */
} parse_state;

static void worker_free(gpointer p)
{
	vs_balancer_worker *w = p;

	if (!w)
		return;
	g_free(w->name);
	g_free(w->route);
	g_free(w->status);
	g_free(w);
}

/**
 * vs_balancer_state_free:
 * @s: a state from vs_balancer_parse_xml() (may be NULL)
 *
 * Frees it and every worker.
 */
void vs_balancer_state_free(vs_balancer_state *s)
{
	if (!s)
		return;
	g_free(s->name);
	g_free(s->nonce);
	if (s->workers)
		g_ptr_array_unref(s->workers);
	g_free(s);
}

static bool parse_u64(const char *text, uint64_t max, uint64_t *out)
{
	const char *p = text;
	uint64_t v = 0;

	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	if (*p < '0' || *p > '9')
		return false;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');

		if (v > (max - d) / 10)
			return false;
		v = v * 10 + d;
	}
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	if (*p)
		return false;
	*out = v;
	return true;
}

/* "Init Drn Ok " -> flags (httpd's ap_proxy_parse_wstatus() tokens). */
static void apply_status(vs_balancer_worker *w, const char *status)
{
	g_auto(GStrv) tokens = g_strsplit(status, " ", -1);

	g_free(w->status);
	w->status = g_strdup(status);
	w->disabled = w->draining = w->stopped = w->in_error = w->hot_standby = false;
	for (char **t = tokens; *t; t++) {
		if (strcmp(*t, "Dis") == 0)
			w->disabled = true;
		else if (strcmp(*t, "Drn") == 0)
			w->draining = true;
		else if (strcmp(*t, "Stop") == 0)
			w->stopped = true;
		else if (strcmp(*t, "Err") == 0)
			w->in_error = true;
		else if (strcmp(*t, "Stby") == 0)
			w->hot_standby = true;
	}
}

static const char *parent_element(GMarkupParseContext *ctx)
{
	const GSList *stack = g_markup_parse_context_get_element_stack(ctx);

	return stack && stack->next ? stack->next->data : NULL;
}

static void on_start(GMarkupParseContext *ctx, const char *element, const char **names,
                     const char **values, gpointer data, GError **error)
{
	parse_state *ps = data;
	const char *parent = parent_element(ctx);

	(void)names;
	(void)values;
	g_string_truncate(ps->text, 0);
	if (strcmp(element, "httpd:balancer") == 0) {
		if (ps->current) {
			g_set_error(error, VS_BALANCER_ERROR, VS_BALANCER_ERROR_SYNTAX,
			            "nested balancer element");
			return;
		}
		ps->current = g_new0(vs_balancer_state, 1);
		ps->current->workers = g_ptr_array_new_with_free_func(worker_free);
	} else if (strcmp(element, "httpd:worker") == 0) {
		if (!ps->current || ps->worker || g_strcmp0(parent, "httpd:workers") != 0) {
			g_set_error(error, VS_BALANCER_ERROR, VS_BALANCER_ERROR_SYNTAX,
			            "worker element outside a balancer's workers");
			return;
		}
		ps->worker = g_new0(vs_balancer_worker, 1);
		ps->worker_has_busy = false;
	}
}

static void on_text(GMarkupParseContext *ctx, const char *text, gsize len, gpointer data,
                    GError **error)
{
	parse_state *ps = data;

	(void)ctx;
	/* No field httpd writes is that long: refuse rather than keep a cut
	 * value, and keep memory bounded. */
	if (ps->text->len + len > 4096) {
		g_set_error(error, VS_BALANCER_ERROR, VS_BALANCER_ERROR_VALUE,
		            "text longer than 4096 bytes");
		return;
	}
	g_string_append_len(ps->text, text, (gssize)len);
}

static bool set_number(const char *element, const char *text, uint64_t max, uint64_t *out,
                       GError **error)
{
	if (!parse_u64(text, max, out)) {
		g_set_error(error, VS_BALANCER_ERROR, VS_BALANCER_ERROR_VALUE,
		            "bad number in <%s>: '%.32s'", element, text);
		return false;
	}
	return true;
}

/* A field of the worker being read. */
static void end_worker_field(parse_state *ps, const char *element, GError **error)
{
	vs_balancer_worker *w = ps->worker;
	const char *text = ps->text->str;
	uint64_t v;

	if (strcmp(element, "httpd:name") == 0) {
		g_free(w->name);
		w->name = g_strdup(text);
	} else if (strcmp(element, "httpd:route") == 0) {
		g_free(w->route);
		w->route = g_strdup(text);
	} else if (strcmp(element, "httpd:status") == 0) {
		apply_status(w, text);
	} else if (strcmp(element, "httpd:busy") == 0) {
		if (set_number(element, text, G_MAXUINT, &v, error)) {
			w->busy = (unsigned)v;
			ps->worker_has_busy = true;
		}
	} else if (strcmp(element, "httpd:elected") == 0) {
		if (set_number(element, text, G_MAXUINT64, &v, error))
			w->elected = v;
	} else if (strcmp(element, "httpd:loadfactor") == 0) {
		/* "2.00": httpd shows its internal factor / 100. */
		char *end = NULL;
		double f = g_ascii_strtod(text, &end);

		if (!end || end == text || *end || !(f >= 0 && f <= 1000)) {
			g_set_error(error, VS_BALANCER_ERROR, VS_BALANCER_ERROR_VALUE,
			            "bad number in <httpd:loadfactor>: '%.32s'", text);
			return;
		}
		w->lbfactor = (unsigned)lround(f);
	}
}

static void on_end(GMarkupParseContext *ctx, const char *element, gpointer data, GError **error)
{
	parse_state *ps = data;
	const char *parent = parent_element(ctx);

	if (ps->worker && strcmp(element, "httpd:worker") == 0) {
		if (!ps->worker->name || !ps->worker->name[0] || !ps->worker_has_busy) {
			g_set_error(error, VS_BALANCER_ERROR, VS_BALANCER_ERROR_INCOMPLETE,
			            "a worker without %s", ps->worker_has_busy ? "name" : "busy");
			return;
		}
		g_ptr_array_add(ps->current->workers, ps->worker);
		ps->worker = NULL;
	} else if (ps->worker && g_strcmp0(parent, "httpd:worker") == 0) {
		end_worker_field(ps, element, error);
	} else if (ps->current && strcmp(element, "httpd:balancer") == 0) {
		vs_balancer_state *b = ps->current;

		ps->current = NULL;
		if (!b->name) {
			vs_balancer_state_free(b);
			g_set_error(error, VS_BALANCER_ERROR, VS_BALANCER_ERROR_INCOMPLETE,
			            "a balancer without name");
			return;
		}
		if (!ps->found && (!ps->wanted || strcmp(b->name, ps->wanted) == 0))
			ps->found = b;
		else
			vs_balancer_state_free(b);
	} else if (ps->current && g_strcmp0(parent, "httpd:balancer") == 0) {
		uint64_t v;

		if (strcmp(element, "httpd:name") == 0) {
			g_free(ps->current->name);
			ps->current->name = g_strdup(ps->text->str);
		} else if (strcmp(element, "httpd:nonce") == 0) {
			g_free(ps->current->nonce);
			ps->current->nonce = g_strdup(ps->text->str);
		} else if (strcmp(element, "httpd:max") == 0) {
			if (set_number(element, ps->text->str, G_MAXUINT, &v, error))
				ps->current->max_workers = (unsigned)v;
		} else if (strcmp(element, "httpd:growth") == 0) {
			if (set_number(element, ps->text->str, G_MAXUINT, &v, error))
				ps->current->growth = (unsigned)v;
		}
	}
	g_string_truncate(ps->text, 0);
}

/**
 * vs_balancer_parse_xml:
 * @buf: the XML answer (not necessarily NUL-terminated)
 * @len: its length
 * @balancer: the balancer wanted, "web" or "balancer://web"; NULL for the first
 * @error: set on failure
 *
 * Returns the balancer's state, or NULL when the XML is malformed or
 * incomplete, a worker lacks its name or busy count, or the balancer is
 * not in it.
 */
vs_balancer_state *vs_balancer_parse_xml(const char *buf, size_t len, const char *balancer,
                                         GError **error)
{
	static const GMarkupParser parser = {
	    .start_element = on_start,
	    .end_element = on_end,
	    .text = on_text,
	};
	g_autofree char *wanted = NULL;
	parse_state ps = {0};
	GMarkupParseContext *ctx;
	bool ok;

	if (!buf || len > G_MAXSSIZE) {
		g_set_error(error, VS_BALANCER_ERROR, VS_BALANCER_ERROR_SYNTAX,
		            "no balancer-manager answer");
		return NULL;
	}
	if (balancer)
		wanted = g_str_has_prefix(balancer, BALANCER_PREFIX)
		             ? g_strdup(balancer)
		             : g_strconcat(BALANCER_PREFIX, balancer, NULL);
	ps.wanted = wanted;
	ps.text = g_string_new(NULL);
	ctx = g_markup_parse_context_new(&parser, G_MARKUP_PREFIX_ERROR_POSITION, &ps, NULL);
	ok = g_markup_parse_context_parse(ctx, buf, (gssize)len, error) &&
	     g_markup_parse_context_end_parse(ctx, error);
	g_markup_parse_context_free(ctx);
	g_string_free(ps.text, TRUE);
	worker_free(ps.worker);
	vs_balancer_state_free(ps.current);
	if (!ok) {
		vs_balancer_state_free(ps.found);
		g_prefix_error(error, "balancer-manager XML: ");
		return NULL;
	}
	if (!ps.found) {
		g_set_error(error, VS_BALANCER_ERROR, VS_BALANCER_ERROR_NOT_FOUND,
		            "balancer-manager XML: no balancer '%s'", wanted ? wanted : "(any)");
		return NULL;
	}
	return ps.found;
}

/* memmem() bounded to @len, for buffers that are not NUL-terminated. */
static const char *find_bytes(const char *hay, size_t len, const char *needle)
{
	size_t n = strlen(needle);

	if (n == 0 || n > len)
		return NULL;
	for (size_t i = 0; i + n <= len; i++) {
		if (hay[i] == needle[0] && memcmp(hay + i, needle, n) == 0)
			return hay + i;
	}
	return NULL;
}

/**
 * vs_balancer_parse_html_nonce:
 * @buf: the balancer-manager HTML page
 * @len: its length
 * @balancer: the balancer, "web" (without balancer://)
 *
 * Finds the nonce in the page's link "?b=web&amp;nonce=N" (httpd versions
 * whose XML carries no nonce). Returns it newly allocated, or NULL.
 */
char *vs_balancer_parse_html_nonce(const char *buf, size_t len, const char *balancer)
{
	static const char *const separators[] = {"&amp;nonce=", "&nonce="};
	const char *name = balancer;

	if (!buf || !balancer)
		return NULL;
	if (g_str_has_prefix(name, BALANCER_PREFIX))
		name += strlen(BALANCER_PREFIX);
	for (size_t s = 0; s < G_N_ELEMENTS(separators); s++) {
		g_autofree char *needle = g_strconcat("?b=", name, separators[s], NULL);
		const char *hit = find_bytes(buf, len, needle);
		const char *p, *end = buf + len;

		if (!hit)
			continue;
		p = hit + strlen(needle);
		const char *start = p;

		while (p < end && (g_ascii_isxdigit(*p) || *p == '-') && p - start <= NONCE_MAX)
			p++;
		/* The nonce must end where the link does: a cut page gives none. */
		if (p == start || p - start > NONCE_MAX || p >= end ||
		    (*p != '"' && *p != '\'' && *p != '&'))
			return NULL;
		return g_strndup(start, (gsize)(p - start));
	}
	return NULL;
}

/**
 * vs_balancer_worker_state:
 * @w: a worker of the balancer-manager's XML
 *
 * Returns its state as a load-balancer member state: stopped (S) or
 * disabled (D) is disabled, draining (N) is draining, anything else enabled.
 */
vs_lb_state vs_balancer_worker_state(const vs_balancer_worker *w)
{
	if (w->disabled || w->stopped)
		return VS_LB_STATE_DISABLED;
	if (w->draining)
		return VS_LB_STATE_DRAINING;
	return VS_LB_STATE_ENABLED;
}
