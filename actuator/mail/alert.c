/*
 * alert.c - the alerter: a queue and one worker thread between the
 * actuator's decisions and the SMTP server. vs_alerter_post() only copies
 * the event, coalesces it with a queued one of the same pool and kind
 * (rate_limit) and wakes two threads: the journaler writes the entry to
 * state_dir/mail-queue (fsync: never on the caller's thread, which is the
 * event loop), the worker builds the message, delivers it (mail-send.c),
 * retries with backoff while the server is unreachable or answers 4xx, and
 * forgets it after a 2xx or a permanent 5xx. With no [mail] server
 * configured, alerts are only logged.
 *
 * What is guaranteed: an alert is delivered only after its journal file is
 * on disk, its file is removed only after delivery, and vs_alerter_stop()
 * returns only once every queued alert is journaled. So an alert posted is
 * lost only if the process dies (a crash, SIGKILL, power) in the moment
 * between vs_alerter_post() and the journaler's write, or if the disk
 * refuses the write (logged, and the alert is still delivered from memory).
 */
#include "alert-internal.h"
#include "vs-backoff.h"
#include "vs-log.h"
#include "vs-validate.h"

#include <string.h>

#define BACKOFF_FIRST_MS 1000          /* before the first retry */
#define BACKOFF_MAX_MS   60000         /* retries never wait longer than this */
#define GIVE_UP_AGE      (24 * 3600.0) /* a 4xx/unreachable alert older than this is dropped */

/* G_DEFINE_QUARK stringifies its first argument: keep clang-format away */
/* clang-format off */
G_DEFINE_QUARK(vs-mail-error-quark, vs_mail_error)
/* clang-format on */

struct vs_alerter {
	const vs_config *cfg;
	char *journal_dir; /* NULL when the queue is not journaled */
	char *host;
	GMutex lock;
	GCond wake;
	GCond journal_wake;    /* the journaler: an entry changed, or stop */
	GPtrArray *queue;      /* of vs_alert_entry*, oldest first */
	GHashTable *last_sent; /* "kind/pool" -> double* time of the last message */
	GThread *worker;
	GThread *journaler;
	bool stopping;
	bool journal_stopping;
	vs_alerter_stats stats;
};

static double now_s(void)
{
	return g_get_real_time() / 1e6;
}

static char *coalesce_key(const vs_alert *a)
{
	return g_strdup_printf("%s/%s", vs_alert_kind_name(a->kind), a->pool ? a->pool : "");
}

static void log_alert(int prio, const char *what, const vs_alert *a, unsigned count)
{
	g_autofree char *subject = vs_mail_subject(a, count);
	char summary[512], error[512];

	vs_sanitize_line(a->summary ? a->summary : "", summary, sizeof(summary));
	vs_sanitize_line(a->error ? a->error : "", error, sizeof(error));
	vs_log(prio, "alert %s: %s%s%s%s%s", what, subject, *summary ? " - " : "", summary,
	       *error ? " - error: " : "", error);
}

/**
 * vs_alerter_new:
 * @cfg: the configuration (must outlive the alerter)
 * @error: set on failure
 *
 * Creates an alerter for the [mail] section of @cfg. With no mail server
 * configured, alerts are logged only. Queued alerts left in
 * state_dir/mail-queue by a previous run are loaded and will be delivered
 * once the worker is started.
 */
vs_alerter *vs_alerter_new(const vs_config *cfg, GError **error)
{
	vs_alerter *a = g_new0(vs_alerter, 1);
	char host[256];

	a->cfg = cfg;
	g_mutex_init(&a->lock);
	g_cond_init(&a->wake);
	g_cond_init(&a->journal_wake);
	a->queue = g_ptr_array_new_with_free_func((GDestroyNotify)vs_alert_entry_free);
	a->last_sent = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	vs_sanitize_line(g_get_host_name(), host, sizeof(host));
	a->host = g_strdup(host);
	if (cfg->mail_server && cfg->state_dir) {
		a->journal_dir = g_build_filename(cfg->state_dir, "mail-queue", NULL);
		if (!vs_alert_journal_load(a->journal_dir, a->queue, error)) {
			vs_alerter_free(a);
			return NULL;
		}
		if (a->queue->len)
			vs_notice("alert: %u queued alert(s) from the previous run", a->queue->len);
		a->stats.queued += a->queue->len;
	}
	return a;
}

/* Seconds to wait after @attempts failed attempts: 1, 2, 4, ... 60. */
static double backoff(unsigned attempts)
{
	return vs_backoff_delay_ms(BACKOFF_FIRST_MS, BACKOFF_MAX_MS, attempts) / 1e3;
}

static double ready_time(const vs_alert_entry *e)
{
	return MAX(e->not_before, e->next_try);
}

/* With the lock held: the journal holds @e as it is now (or gave up on it),
 * so it may be delivered. */
static bool on_disk(const vs_alert_entry *e)
{
	return e->on_disk == e->version;
}

/* Called with the lock held: the next entry due, or NULL; @wait gets the delay. */
static vs_alert_entry *next_due(vs_alerter *a, double now, double *wait)
{
	vs_alert_entry *best = NULL;

	for (guint i = 0; i < a->queue->len; i++) {
		vs_alert_entry *e = a->queue->pdata[i];
		if (e->in_flight || !on_disk(e))
			continue;
		if (!best || ready_time(e) < ready_time(best))
			best = e;
	}
	*wait = best ? ready_time(best) - now : -1;
	return best;
}

/* With the lock held: @e is new or changed; the journaler writes it. */
static void journal_later(vs_alerter *a, vs_alert_entry *e)
{
	e->version++;
	if (a->journal_dir)
		g_cond_signal(&a->journal_wake);
	else
		e->on_disk = e->version;
}

typedef struct journal_write {
	vs_alert_entry *e;
	unsigned version;
	char *id;
	char *data;
	gsize len;
} journal_write;

/*
 * Called and returns with the lock held: writes every entry whose newest
 * version the journal does not hold yet, with the lock released during the
 * writes (vs_alerter_post() never waits for them). An entry not on disk is
 * never delivered, and only delivery removes one, so @e outlives the
 * writes. Returns how many were written.
 */
static guint flush_journal(vs_alerter *a)
{
	GArray *todo = g_array_new(FALSE, FALSE, sizeof(journal_write));
	guint n;

	for (guint i = 0; i < a->queue->len; i++) {
		vs_alert_entry *e = a->queue->pdata[i];
		journal_write w = {e, e->version, NULL, NULL, 0};

		if (on_disk(e))
			continue;
		w.id = g_strdup(e->id);
		w.data = vs_alert_journal_data(e, &w.len);
		g_array_append_val(todo, w);
	}
	n = todo->len;
	if (n) {
		g_mutex_unlock(&a->lock);
		for (guint i = 0; i < n; i++) {
			journal_write *w = &g_array_index(todo, journal_write, i);
			g_autoptr(GError) err = NULL;

			if (!vs_alert_journal_write_data(a->journal_dir, w->id, w->data, w->len,
			                                 &err))
				vs_error("alert: cannot journal: %s (kept in memory only)",
				         err->message);
		}
		g_mutex_lock(&a->lock);
		for (guint i = 0; i < n; i++) {
			journal_write *w = &g_array_index(todo, journal_write, i);

			w->e->on_disk = w->version;
			g_free(w->id);
			g_free(w->data);
		}
		/* the worker waits for entries to reach the disk */
		g_cond_broadcast(&a->wake);
	}
	g_array_free(todo, TRUE);
	return n;
}

/* The journaler: the durable writes, off the poster's thread. */
static gpointer journaler_main(gpointer data)
{
	vs_alerter *a = data;

	g_mutex_lock(&a->lock);
	for (;;) {
		if (flush_journal(a))
			continue;
		if (a->journal_stopping)
			break;
		g_cond_wait(&a->journal_wake, &a->lock);
	}
	g_mutex_unlock(&a->lock);
	return NULL;
}

/* Worker side, without the lock: one delivery attempt of @e. */
static void deliver_one(vs_alerter *a, vs_alert_entry *e, vs_mail_result *res)
{
	vs_mail_message_input in = {
	    .alert = &e->alert,
	    .count = e->count,
	    .first_time = e->first_time,
	    .from = a->cfg->mail_from,
	    .to = (const char *const *)a->cfg->mail_to,
	    .host = a->host,
	    .message_id = e->message_id,
	    .date = now_s(),
	};
	g_autofree char *msg = vs_mail_message_build(&in);

	vs_mail_deliver(a->cfg, msg, (const char *const *)e->rcpt, res);
}

/* With the lock held: acts on the result of a delivery attempt of @e. When
 * @e is done with, returns the id whose journal file the caller removes
 * once the lock is released. */
static char *settle(vs_alerter *a, vs_alert_entry *e, vs_mail_result *res)
{
	char *done_id = NULL;
	g_autofree char *key = coalesce_key(&e->alert);
	bool done = false;

	for (guint i = 0; res->refused && i < res->refused->len; i++) {
		vs_error("alert %s: recipient refused permanently: %s", e->message_id,
		         (char *)res->refused->pdata[i]);
		a->stats.refused++;
	}
	switch (res->outcome) {
	case VS_MAIL_SENT:
		if (res->accepted && res->accepted->len) {
			vs_notice("alert %s delivered to %u recipient(s)", e->message_id,
			          res->accepted->len);
			a->stats.sent++;
		}
		done = true;
		break;
	case VS_MAIL_PERMFAIL:
		vs_error("alert %s refused by the server, not retried: %s", e->message_id,
		         res->message_text ? res->message_text : "?");
		a->stats.refused++;
		done = true;
		break;
	case VS_MAIL_TEMPFAIL:
		/* some recipients got it: counted as sent when the rest get it */
		if (now_s() - e->first_time > GIVE_UP_AGE) {
			vs_error("alert %s not delivered after %u attempts, dropped: %s",
			         e->message_id, e->attempts,
			         res->message_text ? res->message_text : "?");
			a->stats.dropped++;
			done = true;
			break;
		}
		/* retry only the recipients that have not got it yet */
		if (res->deferred && res->deferred->len) {
			g_strfreev(e->rcpt);
			e->rcpt = g_new0(char *, res->deferred->len + 1);
			for (guint i = 0; i < res->deferred->len; i++)
				e->rcpt[i] = g_strdup(res->deferred->pdata[i]);
		}
		e->next_try = now_s() + backoff(e->attempts);
		a->stats.retried++;
		vs_warning("alert %s not delivered (%s), retry in %.0f s", e->message_id,
		           res->message_text ? res->message_text : "?", e->next_try - now_s());
		journal_later(a, e);
		break;
	}
	if (done) {
		double *t = g_new(double, 1);
		*t = now_s();
		g_hash_table_replace(a->last_sent, g_steal_pointer(&key), t);
		if (a->journal_dir)
			done_id = g_strdup(e->id);
		g_ptr_array_remove(a->queue, e);
	} else {
		e->in_flight = false;
	}
	return done_id;
}

static gpointer worker_main(gpointer data)
{
	vs_alerter *a = data;

	g_mutex_lock(&a->lock);
	while (!a->stopping) {
		double wait;
		vs_alert_entry *e = next_due(a, now_s(), &wait);
		vs_mail_result res = {0};
		char *done_id;

		if (!e) {
			g_cond_wait(&a->wake, &a->lock);
			continue;
		}
		if (wait > 0) {
			g_cond_wait_until(&a->wake, &a->lock,
			                  g_get_monotonic_time() + (gint64)(wait * 1e6) + 1);
			continue;
		}
		e->in_flight = true;
		e->attempts++;
		g_mutex_unlock(&a->lock);
		deliver_one(a, e, &res);
		g_mutex_lock(&a->lock);
		done_id = settle(a, e, &res);
		vs_mail_result_clear(&res);
		if (done_id) {
			/* a posting thread never waits for this unlink */
			g_mutex_unlock(&a->lock);
			vs_alert_journal_remove(a->journal_dir, done_id);
			g_free(done_id);
			g_mutex_lock(&a->lock);
		}
	}
	g_mutex_unlock(&a->lock);
	return NULL;
}

/**
 * vs_alerter_start:
 * @a: the alerter
 * @error: set when a thread cannot be created
 *
 * Starts the journaler and the worker (nothing to start when mail is
 * disabled).
 */
bool vs_alerter_start(vs_alerter *a, GError **error)
{
	if (!a->cfg->mail_server || a->worker)
		return true;
	if (a->journal_dir && !a->journaler) {
		a->journaler = g_thread_try_new("vs-alert-jnl", journaler_main, a, error);
		if (!a->journaler)
			return false;
	}
	a->worker = g_thread_try_new("vs-alert", worker_main, a, error);
	return a->worker != NULL;
}

/* With the lock held: a queued, not yet sent entry for the same pool and kind. */
static vs_alert_entry *find_coalescable(vs_alerter *a, const vs_alert *alert)
{
	if (alert->kind == VS_ALERT_TEST || a->cfg->mail_rate_limit == 0)
		return NULL;
	for (guint i = 0; i < a->queue->len; i++) {
		vs_alert_entry *e = a->queue->pdata[i];
		if (!e->in_flight && e->alert.kind == alert->kind &&
		    g_strcmp0(e->alert.pool, alert->pool) == 0)
			return e;
	}
	return NULL;
}

/* With the lock held: is a message for the same pool and kind being sent now? */
static bool in_flight_same(vs_alerter *a, const vs_alert *alert)
{
	for (guint i = 0; i < a->queue->len; i++) {
		vs_alert_entry *e = a->queue->pdata[i];
		if (e->in_flight && e->alert.kind == alert->kind &&
		    g_strcmp0(e->alert.pool, alert->pool) == 0)
			return true;
	}
	return false;
}

/**
 * vs_alerter_post:
 * @a: the alerter
 * @alert: the event (copied; strings may contain anything)
 *
 * Queues @alert and returns at once: never waits for SMTP. An event of the
 * same pool and kind as one still queued, or within rate_limit seconds of
 * the last message for them, is coalesced into one message with a count.
 * Returns false when the queue is full and the alert was dropped (counted).
 */
bool vs_alerter_post(vs_alerter *a, const vs_alert *alert)
{
	vs_alert_entry *e;
	double now = now_s();
	bool ok = true;

	if (!a->cfg->mail_server ||
	    (alert->kind == VS_ALERT_RECOVERED && !a->cfg->mail_notify_recovered)) {
		/* no server, or recovery mails not wanted: the log is the record */
		log_alert(LOG_WARNING, a->cfg->mail_server ? "(not mailed)" : "(mail disabled)",
		          alert, 1);
		g_mutex_lock(&a->lock);
		a->stats.queued++;
		g_mutex_unlock(&a->lock);
		return true;
	}
	log_alert(LOG_NOTICE, "queued", alert, 1);
	g_mutex_lock(&a->lock);
	e = find_coalescable(a, alert);
	if (e) {
		unsigned count = e->count + 1;
		double first = e->first_time;
		vs_alert_clear(&e->alert);
		vs_alert_copy(&e->alert, alert);
		if (e->alert.time <= 0)
			e->alert.time = now;
		e->count = count;
		e->first_time = first;
		a->stats.coalesced++;
		journal_later(a, e);
	} else if (a->queue->len >= MAX(1u, a->cfg->mail_queue_max)) {
		a->stats.dropped++;
		ok = false;
	} else {
		g_autofree char *key = coalesce_key(alert);
		double *last = g_hash_table_lookup(a->last_sent, key);

		e = vs_alert_entry_new(alert, (const char *const *)a->cfg->mail_to, a->host);
		if (alert->kind != VS_ALERT_TEST && in_flight_same(a, alert))
			e->not_before = now + a->cfg->mail_rate_limit; /* one is being sent */
		else if (last && alert->kind != VS_ALERT_TEST)
			e->not_before = *last + a->cfg->mail_rate_limit;
		g_ptr_array_add(a->queue, e);
		a->stats.queued++;
		journal_later(a, e);
	}
	g_mutex_unlock(&a->lock);
	if (!ok)
		log_alert(LOG_ERR, "dropped (queue full)", alert, 1);
	return ok;
}

/**
 * vs_alerter_stop:
 * @a: the alerter
 *
 * Stops the worker after its current delivery attempt (bounded by the
 * [mail] timeout), then returns once every queued alert is in the journal,
 * where the next run finds it.
 */
void vs_alerter_stop(vs_alerter *a)
{
	if (!a)
		return;
	g_mutex_lock(&a->lock);
	a->stopping = true;
	g_cond_broadcast(&a->wake);
	g_mutex_unlock(&a->lock);
	if (a->worker)
		g_thread_join(a->worker);
	a->worker = NULL;
	g_mutex_lock(&a->lock);
	a->stopping = false;
	a->journal_stopping = true;
	g_cond_signal(&a->journal_wake);
	g_mutex_unlock(&a->lock);
	if (a->journaler) {
		g_thread_join(a->journaler);
		a->journaler = NULL;
	}
	/* never started: what was posted is written here, at the end */
	g_mutex_lock(&a->lock);
	while (a->journal_dir && flush_journal(a))
		;
	a->journal_stopping = false;
	g_mutex_unlock(&a->lock);
}

/** vs_alerter_free: stops and frees @a (NULL is fine). */
void vs_alerter_free(vs_alerter *a)
{
	if (!a)
		return;
	vs_alerter_stop(a);
	g_ptr_array_free(a->queue, TRUE);
	g_hash_table_destroy(a->last_sent);
	g_mutex_clear(&a->lock);
	g_cond_clear(&a->wake);
	g_cond_clear(&a->journal_wake);
	g_free(a->journal_dir);
	g_free(a->host);
	g_free(a);
}

/** vs_alerter_queue_length: alerts queued, in flight included (tests, status). */
unsigned vs_alerter_queue_length(vs_alerter *a)
{
	unsigned n;

	g_mutex_lock(&a->lock);
	n = a->queue->len;
	g_mutex_unlock(&a->lock);
	return n;
}

/** vs_alerter_get_stats: a consistent copy of the counters. */
void vs_alerter_get_stats(vs_alerter *a, vs_alerter_stats *out)
{
	g_mutex_lock(&a->lock);
	*out = a->stats;
	g_mutex_unlock(&a->lock);
}

/**
 * vs_mail_send_test:
 * @cfg: the configuration
 * @report: (out): the server's answer, one line per recipient
 * @error: set when mail is not configured or the message was not accepted
 *
 * Sends one test message now, synchronously (for `virtscalectl test-mail`).
 * Returns true only when every recipient accepted it.
 */
bool vs_mail_send_test(const vs_config *cfg, char **report, GError **error)
{
	vs_alert alert = {.kind = VS_ALERT_TEST, .time = now_s()};
	vs_mail_result res = {0};
	char host[256];
	g_autofree char *msgid = NULL;
	g_autofree char *msg = NULL;
	bool ok;

	*report = NULL;
	if (!cfg->mail_server) {
		g_set_error(error, VS_MAIL_ERROR, VS_MAIL_ERROR_NOT_CONFIGURED,
		            "%s: [mail] server is not set", cfg->path ? cfg->path : "config");
		return false;
	}
	vs_sanitize_line(g_get_host_name(), host, sizeof(host));
	alert.summary = g_strdup_printf("test message from virtscale on %s", host);
	msgid = vs_mail_new_message_id(host);
	{
		vs_mail_message_input in = {
		    .alert = &alert,
		    .count = 1,
		    .first_time = alert.time,
		    .from = cfg->mail_from,
		    .to = (const char *const *)cfg->mail_to,
		    .host = host,
		    .message_id = msgid,
		    .date = alert.time,
		};
		msg = vs_mail_message_build(&in);
	}
	vs_mail_deliver(cfg, msg, (const char *const *)cfg->mail_to, &res);
	ok = res.outcome == VS_MAIL_SENT && (!res.refused || res.refused->len == 0) &&
	     res.accepted && res.accepted->len > 0;
	*report = g_strdup(res.report ? res.report : (res.message_text ? res.message_text : ""));
	if (!ok && res.refused && res.refused->len) {
		GString *who = g_string_new(NULL);
		for (guint i = 0; i < res.refused->len; i++)
			g_string_append_printf(who, "%s%s", i ? "; " : "",
			                       (char *)res.refused->pdata[i]);
		g_set_error(error, VS_MAIL_ERROR, VS_MAIL_ERROR_REFUSED, "refused by %s", who->str);
		g_string_free(who, TRUE);
	} else if (!ok) {
		g_set_error(error, VS_MAIL_ERROR, VS_MAIL_ERROR_NOT_ACCEPTED, "not accepted: %s",
		            res.message_text ? res.message_text : "see report");
	}
	g_free(alert.summary);
	vs_mail_result_clear(&res);
	return ok;
}
