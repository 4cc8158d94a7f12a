/*
 * lb-apache.c - "lb = apache": httpd's mod_proxy_balancer, driven through its
 * balancer-manager with libcurl.
 *
 * What httpd 2.4.71 does (measured): parameters count only with the
 * balancer's nonce and a Referer naming the manager itself; anything else is
 * answered 200 and silently ignored. So every change is: read the state
 * (XML, nonce included), POST, read the XML back and check the change is
 * there; a nonce that went stale in between (httpd restarted) is retried.
 * Workers are added into free `growth` slots, start disabled and can never
 * be removed: "remove" disables, and adding an address that has a worker
 * reuses it. Each worker added gets virtscale's route mark
 * (vs_apache_route_mark()): the balancer may hold static BalancerMembers of
 * the operator's, which are listed as not ours and never touched by a sync.
 */
#include "config.h"

#include "lb-apache-parse.h"
#include "lb-internal.h"

#include "vs-log.h"
#include "vs-sessions.h"
#include "vs-validate.h"

#include <curl/curl.h>
#include <string.h>

#define MAX_BODY        (4u << 20)
#define DEFAULT_RETRIES 2

typedef struct apache_priv {
	CURL *curl;
	char *manager;  /* balancer-manager URL */
	char *balancer; /* name without balancer:// */
	long timeout_ms;
	char *pinned_nonce; /* test hook: nonce of the next POST */
	int retries;        /* stale-nonce retries per change */
} apache_priv;

typedef enum { AP_ADD, AP_MARK, AP_ENABLE, AP_DRAIN, AP_DISABLE, AP_WEIGHT } apache_op;

static const char *const op_names[] = {
    [AP_ADD] = "add",     [AP_MARK] = "set the route of", [AP_ENABLE] = "enable",
    [AP_DRAIN] = "drain", [AP_DISABLE] = "disable",       [AP_WEIGHT] = "set load factor",
};

/**
 * vs_lb_apache_init: checks [apache] and opens the HTTP connection handle.
 */
bool vs_lb_apache_init(vs_lb *lb, GError **error)
{
	const vs_config *c = lb->cfg;
	if (!c->apache_balancer_manager || !c->apache_balancer) {
		g_set_error(error, VS_LB_ERROR, VS_LB_ERROR_FAILED,
		            "pool %s: lb = apache needs [apache] balancer_manager and balancer",
		            lb->pool->name);
		return false;
	}
	if (!vs_valid_lb_name(c->apache_balancer)) {
		g_set_error(error, VS_LB_ERROR, VS_LB_ERROR_INVALID,
		            "[apache] balancer must be a plain name "
		            "([A-Za-z0-9][A-Za-z0-9_-], at most 64 characters)");
		return false;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		g_set_error(error, VS_LB_ERROR, VS_LB_ERROR_FAILED,
		            "libcurl initialisation failed");
		return false;
	}
	apache_priv *p = g_new0(apache_priv, 1);
	p->curl = curl_easy_init();
	p->manager = g_strdup(c->apache_balancer_manager);
	p->balancer = g_strdup(c->apache_balancer);
	p->timeout_ms = (long)(c->apache_timeout ? c->apache_timeout : 5) * 1000;
	p->retries = DEFAULT_RETRIES;
	lb->priv = p;
	if (!p->curl) {
		g_set_error(error, VS_LB_ERROR, VS_LB_ERROR_FAILED, "curl_easy_init failed");
		return false;
	}
	return true;
}

/**
 * vs_lb_apache_pin_nonce: see lb-internal.h.
 */
void vs_lb_apache_pin_nonce(vs_lb *lb, const char *nonce, int retries)
{
	apache_priv *p = lb->priv;
	g_free(p->pinned_nonce);
	p->pinned_nonce = g_strdup(nonce);
	p->retries = retries;
}

static void apache_free(vs_lb *lb)
{
	apache_priv *p = lb->priv;
	if (!p)
		return;
	if (p->curl)
		curl_easy_cleanup(p->curl);
	g_free(p->manager);
	g_free(p->balancer);
	g_free(p->pinned_nonce);
	g_free(p);
	curl_global_cleanup();
}

static size_t collect_body(char *data, size_t size, size_t nmemb, void *opaque)
{
	GString *body = opaque;
	size_t n = size * nmemb;
	if (body->len + n > MAX_BODY)
		return 0; /* aborts the transfer */
	g_string_append_len(body, data, (gssize)n);
	return n;
}

/*
 * GET @url, or POST @post (x-www-form-urlencoded) to it, with the manager's
 * own URL as Referer; only a 200 answer is a success.
 */
static char *apache_request(apache_priv *p, const char *url, const char *post, size_t *len,
                            GError **error)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	GString *body = g_string_new(NULL);
	CURL *c = p->curl;
	curl_easy_reset(c); /* keeps the connection for the next request */
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, p->timeout_ms);
	curl_easy_setopt(c, CURLOPT_REFERER, p->manager);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
	if (post)
		curl_easy_setopt(c, CURLOPT_COPYPOSTFIELDS, post);
	CURLcode rc = curl_easy_perform(c);
	long status = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (rc != CURLE_OK || status != 200) {
		if (rc != CURLE_OK)
			g_set_error(error, VS_LB_ERROR, VS_LB_ERROR_UNREACHABLE,
			            "balancer-manager %s: %s", p->manager,
			            *errbuf ? errbuf : curl_easy_strerror(rc));
		else
			g_set_error(error, VS_LB_ERROR, VS_LB_ERROR_UNREACHABLE,
			            "balancer-manager %s answered HTTP %ld", p->manager, status);
		g_string_free(body, TRUE);
		return NULL;
	}
	*len = body->len;
	return g_string_free(body, FALSE);
}

static char *manager_url(apache_priv *p, const char *nonce, bool xml)
{
	g_autofree char *b = curl_easy_escape(p->curl, p->balancer, 0);
	g_autofree char *n = nonce ? curl_easy_escape(p->curl, nonce, 0) : NULL;
	return g_strdup_printf("%s?b=%s%s%s%s", p->manager, b, n ? "&nonce=" : "", n ? n : "",
	                       xml ? "&xml=1" : "");
}

static bool looks_like_xml(const char *body)
{
	return g_str_has_prefix(body, "<?xml");
}

/* The HTML page of the manager: the nonce when the XML lacks it. */
static char *apache_html_nonce(apache_priv *p, GError **error)
{
	size_t len;
	g_autofree char *html = apache_request(p, p->manager, NULL, &len, error);
	if (!html)
		return NULL;
	char *nonce = vs_balancer_parse_html_nonce(html, len, p->balancer);
	if (!nonce)
		g_set_error(error, VS_LB_ERROR, VS_LB_ERROR_FAILED,
		            "balancer-manager %s has no balancer://%s", p->manager, p->balancer);
	return nonce;
}

/*
 * The balancer's state from the XML view, nonce included. httpd puts the
 * nonce in the XML; where it does not, or answers HTML because it wants the
 * nonce in the query, the nonce comes from the HTML page.
 */
static vs_balancer_state *apache_read_state(apache_priv *p, GError **error)
{
	g_autofree char *url = manager_url(p, NULL, true);
	size_t len;
	g_autofree char *body = apache_request(p, url, NULL, &len, error);
	if (!body)
		return NULL;
	g_autofree char *nonce = NULL;
	if (!looks_like_xml(body)) {
		nonce = vs_balancer_parse_html_nonce(body, len, p->balancer);
		if (!nonce) {
			g_set_error(error, VS_LB_ERROR, VS_LB_ERROR_FAILED,
			            "balancer-manager %s has no balancer://%s", p->manager,
			            p->balancer);
			return NULL;
		}
		g_free(url);
		g_free(body);
		url = manager_url(p, nonce, true);
		body = apache_request(p, url, NULL, &len, error);
		if (!body)
			return NULL;
		if (!looks_like_xml(body)) {
			g_set_error(
			    error, VS_LB_ERROR, VS_LB_ERROR_REJECTED,
			    "balancer-manager %s ignores our parameters: it does not accept "
			    "the Referer %s (httpd logs AH10187; check ServerName / "
			    "UseCanonicalName)",
			    p->manager, p->manager);
			return NULL;
		}
	}
	GError *err = NULL;
	vs_balancer_state *s = vs_balancer_parse_xml(body, len, p->balancer, &err);
	if (!s) {
		g_set_error(error, VS_LB_ERROR, VS_LB_ERROR_FAILED, "balancer-manager %s: %s",
		            p->manager, err->message);
		g_error_free(err);
		return NULL;
	}
	if (!s->nonce || !*s->nonce) {
		g_free(s->nonce);
		s->nonce = nonce ? g_steal_pointer(&nonce) : apache_html_nonce(p, error);
		if (!s->nonce) {
			vs_balancer_state_free(s);
			return NULL;
		}
	}
	return s;
}

static vs_balancer_worker *find_worker(const vs_balancer_state *s, const char *address)
{
	for (guint i = 0; i < s->workers->len; i++) {
		vs_balancer_worker *w = g_ptr_array_index(s->workers, i);
		g_autofree char *a = w->name ? vs_apache_worker_address(w->name) : NULL;
		if (a && vs_lb_same_address(a, address))
			return w;
	}
	return NULL;
}

/* True when the state of @w already is what @op asks for. */
static bool op_done(const vs_balancer_worker *w, apache_op op, const char *address, unsigned arg)
{
	switch (op) {
	case AP_ADD:
		return w != NULL;
	case AP_MARK:
		return w && vs_apache_route_is_mark(w->route, address);
	case AP_ENABLE:
		return w && !w->disabled && !w->draining && !w->stopped;
	case AP_DRAIN:
		return w && w->draining && !w->disabled && !w->stopped;
	case AP_DISABLE:
		return !w || w->disabled;
	case AP_WEIGHT:
		return w && w->lbfactor == arg;
	}
	return false;
}

/* The form fields of @op, after b= and nonce=. */
static char *op_fields(apache_priv *p, apache_op op, const vs_balancer_worker *w,
                       const char *address, unsigned arg)
{
	if (op == AP_ADD) {
		g_autofree char *url = g_strdup_printf("http://%s", address);
		g_autofree char *esc = curl_easy_escape(p->curl, url, 0);
		return g_strdup_printf("b_nwrkr=%s&b_wyes=1", esc);
	}
	g_autofree char *esc = curl_easy_escape(p->curl, w->name, 0);
	g_autofree char *mark = NULL;
	switch (op) {
	case AP_MARK:
		mark = vs_apache_route_mark(address);
		return g_strdup_printf("w=%s&w_wr=%s", esc, mark);
	case AP_ENABLE:
		return g_strdup_printf("w=%s&w_status_D=0&w_status_N=0&w_status_S=0", esc);
	case AP_DRAIN:
		return g_strdup_printf("w=%s&w_status_N=1&w_status_D=0&w_status_S=0", esc);
	case AP_DISABLE:
		return g_strdup_printf("w=%s&w_status_D=1", esc);
	case AP_WEIGHT:
		return g_strdup_printf("w=%s&w_lf=%u", esc, arg);
	case AP_ADD:
		break;
	}
	return NULL;
}

/* A clear error when the balancer has no free worker slot left. */
static bool check_free_slot(apache_priv *p, const char *nonce, GError **error)
{
	g_autofree char *url = manager_url(p, nonce, false);
	size_t len;
	g_autofree char *html = apache_request(p, url, NULL, &len, error);
	if (!html)
		return false;
	unsigned max, used;
	if (vs_apache_parse_max_members(html, len, p->balancer, &max, &used) && used >= max) {
		g_set_error(error, VS_LB_ERROR, VS_LB_ERROR_NO_SLOT,
		            "balancer://%s has no free worker slot (%u of %u used; workers cannot "
		            "be removed): raise growth= in its ProxySet and restart httpd",
		            p->balancer, used, max);
		return false;
	}
	return true;
}

/*
 * Applies @op to @address and verifies it from the XML read back. @known is
 * a state read just before (reused to save a round trip) or NULL; on return
 * it holds the last state read.
 */
static bool apache_apply(vs_lb *lb, apache_op op, const char *address, unsigned arg,
                         vs_balancer_state **known, GError **error)
{
	apache_priv *p = lb->priv;
	for (int attempt = 0;; attempt++) {
		vs_balancer_state *s = *known;
		if (!s) {
			s = *known = apache_read_state(p, error);
			if (!s)
				return false;
		}
		vs_balancer_worker *w = find_worker(s, address);
		if (op_done(w, op, address, arg))
			return true;
		if (!w && op != AP_ADD) {
			g_set_error(error, VS_LB_ERROR, VS_LB_ERROR_FAILED,
			            "%s is not a worker of balancer://%s", address, p->balancer);
			return false;
		}
		if (op == AP_ADD && !check_free_slot(p, s->nonce, error))
			return false;
		g_autofree char *nonce = g_strdup(p->pinned_nonce ? p->pinned_nonce : s->nonce);
		g_clear_pointer(&p->pinned_nonce, g_free);
		g_autofree char *fields = op_fields(p, op, w, address, arg);
		g_autofree char *b = curl_easy_escape(p->curl, p->balancer, 0);
		g_autofree char *n = curl_easy_escape(p->curl, nonce, 0);
		g_autofree char *post = g_strdup_printf("b=%s&nonce=%s&%s", b, n, fields);
		size_t len;
		g_autofree char *answer = apache_request(p, p->manager, post, &len, error);
		g_clear_pointer(known, vs_balancer_state_free);
		if (!answer)
			return false;
		s = *known = apache_read_state(p, error);
		if (!s)
			return false;
		if (op_done(find_worker(s, address), op, address, arg))
			return true;
		if (g_strcmp0(s->nonce, nonce) && attempt < p->retries) {
			vs_warning("balancer://%s: nonce %s was stale, retrying %s of %s",
			           p->balancer, nonce, op_names[op], address);
			continue;
		}
		if (op == AP_ADD && !check_free_slot(p, s->nonce, error))
			return false;
		g_set_error(error, VS_LB_ERROR, VS_LB_ERROR_REJECTED,
		            "balancer://%s: %s of %s not applied (httpd answered 200 and ignored "
		            "it: %s); see httpd's error log",
		            p->balancer, op_names[op], address,
		            g_strcmp0(s->nonce, nonce) ? "nonce not accepted" : "request refused");
		return false;
	}
}

static bool apache_add(vs_lb *lb, const char *address, bool enabled, GError **error)
{
	g_autoptr(vs_balancer_state) s = NULL;
	/* New workers start disabled: add, mark as ours, then set the state
	 * asked for (a crash in between leaves a disabled worker: harmless). */
	return apache_apply(lb, AP_ADD, address, 0, &s, error) &&
	       apache_apply(lb, AP_MARK, address, 0, &s, error) &&
	       apache_apply(lb, enabled ? AP_ENABLE : AP_DISABLE, address, 0, &s, error);
}

static bool apache_simple(vs_lb *lb, apache_op op, const char *address, unsigned arg,
                          GError **error)
{
	g_autoptr(vs_balancer_state) s = NULL;
	return apache_apply(lb, op, address, arg, &s, error);
}

static bool apache_enable(vs_lb *lb, const char *address, GError **error)
{
	return apache_simple(lb, AP_ENABLE, address, 0, error);
}

static bool apache_drain(vs_lb *lb, const char *address, GError **error)
{
	return apache_simple(lb, AP_DRAIN, address, 0, error);
}

/* Workers cannot be removed from a running httpd: disable it. */
static bool apache_remove(vs_lb *lb, const char *address, GError **error)
{
	return apache_simple(lb, AP_DISABLE, address, 0, error);
}

static bool apache_set_weight(vs_lb *lb, const char *address, unsigned weight, GError **error)
{
	if (weight < 1 || weight > 100) {
		g_set_error(error, VS_LB_ERROR, VS_LB_ERROR_INVALID,
		            "Apache load factor must be 1..100");
		return false;
	}
	return apache_simple(lb, AP_WEIGHT, address, weight, error);
}

/* Precheck: the manager answers for the balancer (nonce included), and the
 * worker of @address exists or a growth slot is free for it. */
static bool apache_precheck(vs_lb *lb, const char *address, GError **error)
{
	apache_priv *p = lb->priv;
	g_autoptr(vs_balancer_state) s = apache_read_state(p, error);

	if (!s)
		return false;
	if (address && find_worker(s, address))
		return true;
	return check_free_slot(p, s->nonce, error);
}

static GArray *apache_list(vs_lb *lb, GError **error)
{
	g_autoptr(vs_balancer_state) s = apache_read_state(lb->priv, error);
	if (!s)
		return NULL;
	GArray *out = g_array_new(FALSE, TRUE, sizeof(vs_lb_entry));
	for (guint i = 0; i < s->workers->len; i++) {
		const vs_balancer_worker *w = g_ptr_array_index(s->workers, i);
		g_autofree char *address = w->name ? vs_apache_worker_address(w->name) : NULL;
		if (!address)
			continue; /* not an http(s) host:port worker */
		vs_lb_entry m = {
		    .state = vs_balancer_worker_state(w),
		    .weight = w->lbfactor,
		    .backup = w->hot_standby,
		    .busy = (int)MIN(w->busy, (unsigned)G_MAXINT),
		    .in_error = w->in_error,
		    .ours = vs_apache_route_is_mark(w->route, address),
		};
		g_strlcpy(m.address, address, sizeof(m.address));
		g_array_append_val(out, m);
	}
	return out;
}

const vs_lb_ops vs_lb_apache_ops = {
    .name = "apache",
    .add = apache_add,
    .enable = apache_enable,
    .drain = apache_drain,
    .remove = apache_remove,
    .list = apache_list,
    .free = apache_free,
    .set_weight = apache_set_weight,
    .precheck = apache_precheck,
};
