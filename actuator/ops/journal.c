/*
 * journal.c - STATE_DIR/journal: every step of every action, one JSON line
 * each, fdatasync'd before the step is taken, so a crash at any point leaves
 * a record of what may be half-made. Records:
 *   {"id":7,"op":"clone","pool":"web","name":"web-03","uri":"qemu:///system",
 *    "vol_pool":"default","vols":["web-03.qcow2"],"address":"127.0.0.1:18103"}
 *   {"id":8,"op":"migrate","pool":"web","name":"web-01","uri":"qemu:///system",
 *    "address":"127.0.0.1:18101","dest_uri":"qemu+tcp://hv2/system",
 *    "dest_address":"127.0.0.2:18102"}
 *   {"id":7,"step":"defined"}
 *   {"id":7,"end":"ok"}
 * The file is truncated whenever no operation is open. A record counts
 * once its line, '\n' included, is on the disk: an append that fails (a
 * full state_dir, EIO) is cut off again and reported, and the caller does
 * not take the step; a torn tail found on open is cut (journal-replay.c).
 */
#include "config.h"

#include "act-error.h"
#include "journal-replay.h"
#include "journal.h"
#include "vs-log.h"

#include <errno.h>
#include <fcntl.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define JOURNAL_FILE "journal"

/* The running job this thread works for (vs_journal_set_owner). */
static _Thread_local uint64_t current_owner;

struct vs_journal {
	GMutex lock;
	int fd;
	char *path;
	uint64_t next_id;
	GHashTable *open; /* id -> vs_journal_op* */
	off_t good;       /* the file's size before the last append */
	bool torn;        /* an append failed and its bytes could not be cut yet */
};

/** vs_journal_op_free: frees a copy of an operation. */
void vs_journal_op_free(vs_journal_op *op)
{
	if (!op)
		return;
	g_free(op->op);
	g_free(op->pool);
	g_free(op->name);
	g_free(op->uri);
	g_free(op->vol_pool);
	g_strfreev(op->vols);
	g_free(op->address);
	g_free(op->dest_uri);
	g_free(op->dest_address);
	g_free(op->step);
	g_free(op);
}

static vs_journal_op *op_copy(const vs_journal_op *o)
{
	vs_journal_op *c = g_new0(vs_journal_op, 1);
	c->id = o->id;
	c->op = g_strdup(o->op);
	c->pool = g_strdup(o->pool);
	c->name = g_strdup(o->name);
	c->uri = g_strdup(o->uri);
	c->vol_pool = g_strdup(o->vol_pool);
	c->vols = g_strdupv(o->vols);
	c->address = g_strdup(o->address);
	c->dest_uri = g_strdup(o->dest_uri);
	c->dest_address = g_strdup(o->dest_address);
	c->step = g_strdup(o->step ? o->step : "begin");
	c->owner = o->owner;
	return c;
}

/* Reads the file back: the operations a previous run left open. A torn
 * tail (a record cut short by a crash or a full disk, NUL bytes a file
 * system left after a crash, garbage) is cut at the last complete record,
 * so the next record starts on a line of its own. */
static bool journal_load(vs_journal *j, GError **error)
{
	g_autofree char *text = NULL;
	gsize len = 0;
	g_autoptr(GError) rerr = NULL;

	if (!g_file_get_contents(j->path, &text, &len, &rerr)) {
		if (g_error_matches(rerr, G_FILE_ERROR, G_FILE_ERROR_NOENT))
			return true;
		g_set_error(error, VS_ACT_ERROR, VS_ACT_ERROR_IO, "%s", rerr->message);
		return false;
	}
	vs_journal_replay r = {.open = j->open, .next_id = 1};
	vs_journal_replay_data(&r, text, len);
	j->next_id = r.next_id;
	if (r.skipped)
		vs_warning("journal %s: %u unreadable line(s) skipped", j->path, r.skipped);
	if (r.good_len < len) {
		vs_warning("journal %s: torn tail of %zu byte(s) after the last complete record "
		           "(offset %zu) cut",
		           j->path, (size_t)len - r.good_len, r.good_len);
		if (truncate(j->path, (off_t)r.good_len) != 0) {
			g_set_error(error, VS_ACT_ERROR, VS_ACT_ERROR_IO,
			            "journal %s: truncate: %s", j->path, g_strerror(errno));
			return false;
		}
	}
	return true;
}

/* The directory entry of a new journal must survive a crash too. */
static bool sync_dir(const char *dir, GError **error)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) != 0) {
		g_set_error(error, VS_ACT_ERROR, VS_ACT_ERROR_IO, "%s: fsync: %s", dir,
		            g_strerror(errno));
		if (fd >= 0)
			close(fd);
		return false;
	}
	close(fd);
	return true;
}

/**
 * vs_journal_open: opens (creates) STATE_DIR/journal and replays it: the
 * operations left open by a previous run are what reconcile must finish.
 * A torn tail is cut (logged); the directory is synced so that the file
 * itself survives a crash.
 */
vs_journal *vs_journal_open(const char *state_dir, GError **error)
{
	if (g_mkdir_with_parents(state_dir, 0750) != 0) {
		g_set_error(error, VS_ACT_ERROR, VS_ACT_ERROR_IO, "%s: %s", state_dir,
		            g_strerror(errno));
		return NULL;
	}
	vs_journal *j = g_new0(vs_journal, 1);
	g_mutex_init(&j->lock);
	j->fd = -1;
	j->path = g_build_filename(state_dir, JOURNAL_FILE, NULL);
	j->next_id = 1;
	j->open = vs_journal_replay_table();
	if (!journal_load(j, error)) {
		vs_journal_close(j);
		return NULL;
	}
	j->fd = open(j->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (j->fd < 0) {
		g_set_error(error, VS_ACT_ERROR, VS_ACT_ERROR_IO, "%s: %s", j->path,
		            g_strerror(errno));
		vs_journal_close(j);
		return NULL;
	}
	if (fdatasync(j->fd) != 0 || !sync_dir(state_dir, error)) {
		if (error && !*error)
			g_set_error(error, VS_ACT_ERROR, VS_ACT_ERROR_IO, "journal %s: %s", j->path,
			            g_strerror(errno));
		vs_journal_close(j);
		return NULL;
	}
	return j;
}

/** vs_journal_close: closes the file (open operations stay recorded). */
void vs_journal_close(vs_journal *j)
{
	if (!j)
		return;
	if (j->fd >= 0)
		close(j->fd);
	g_hash_table_destroy(j->open);
	g_mutex_clear(&j->lock);
	g_free(j->path);
	g_free(j);
}

/* Cuts what a failed append left (part of a record) so the next record
 * starts on a line of its own; called with the lock held. */
static bool journal_untear(vs_journal *j, off_t good, GError **error)
{
	if (ftruncate(j->fd, good) != 0 || fdatasync(j->fd) != 0) {
		j->torn = true;
		if (error && !*error)
			g_set_error(error, VS_ACT_ERROR, VS_ACT_ERROR_IO,
			            "journal %s: cannot cut a torn record: %s", j->path,
			            g_strerror(errno));
		return false;
	}
	j->torn = false;
	return true;
}

/*
 * Appends one line and makes it durable; called with the lock held. On
 * any failure (a short write, ENOSPC, EIO, a failed fdatasync) the record
 * is cut off again and the caller must not take the step it records: the
 * file then holds exactly the records that were acknowledged.
 */
static bool journal_append(vs_journal *j, JsonBuilder *b, GError **error)
{
	g_autoptr(JsonGenerator) gen = json_generator_new();
	JsonNode *root = json_builder_get_root(b);
	json_generator_set_root(gen, root);
	g_autofree char *text = json_generator_to_data(gen, NULL);
	json_node_unref(root);
	g_autofree char *line = g_strconcat(text, "\n", NULL);
	size_t len = strlen(line), off = 0;
	struct stat st;

	if (j->torn && !journal_untear(j, j->good, error))
		return false;
	if (fstat(j->fd, &st) != 0) {
		g_set_error(error, VS_ACT_ERROR, VS_ACT_ERROR_IO, "journal %s: %s", j->path,
		            g_strerror(errno));
		return false;
	}
	j->good = st.st_size; /* every record before is complete */
	while (off < len) {
		ssize_t w = write(j->fd, line + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int e = w < 0 ? errno : EIO;
			g_set_error(error, VS_ACT_ERROR, VS_ACT_ERROR_IO, "journal %s: %s", j->path,
			            g_strerror(e));
			journal_untear(j, j->good, NULL);
			return false;
		}
		off += (size_t)w;
	}
	if (fdatasync(j->fd) != 0) {
		g_set_error(error, VS_ACT_ERROR, VS_ACT_ERROR_IO, "journal %s: fdatasync: %s",
		            j->path, g_strerror(errno));
		journal_untear(j, j->good, NULL);
		return false;
	}
	return true;
}

/**
 * vs_journal_begin: records a new operation before its first step; returns
 * its id, 0 on failure (then the caller must not act).
 */
uint64_t vs_journal_begin(vs_journal *j, const vs_journal_op *op, GError **error)
{
	g_mutex_lock(&j->lock);
	if (j->next_id > VS_JOURNAL_MAX_ID) {
		g_set_error(error, VS_ACT_ERROR, VS_ACT_ERROR_IO,
		            "journal %s: no operation id left until the open ones end", j->path);
		g_mutex_unlock(&j->lock);
		return 0;
	}
	uint64_t id = j->next_id++;
	g_autoptr(JsonBuilder) b = json_builder_new();
	json_builder_begin_object(b);
	json_builder_set_member_name(b, "id");
	json_builder_add_int_value(b, (gint64)id);
	const char *keys[] = {"op",       "pool",    "name",     "uri",
	                      "vol_pool", "address", "dest_uri", "dest_address"};
	const char *vals[] = {op->op,       op->pool,    op->name,     op->uri,
	                      op->vol_pool, op->address, op->dest_uri, op->dest_address};
	for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) {
		if (!vals[i])
			continue;
		json_builder_set_member_name(b, keys[i]);
		json_builder_add_string_value(b, vals[i]);
	}
	json_builder_set_member_name(b, "vols");
	json_builder_begin_array(b);
	for (char **v = op->vols; v && *v; v++)
		json_builder_add_string_value(b, *v);
	json_builder_end_array(b);
	json_builder_end_object(b);
	bool ok = journal_append(j, b, error);
	if (ok) {
		vs_journal_op *c = op_copy(op);
		c->id = id;
		c->owner = current_owner;
		g_hash_table_replace(j->open, g_memdup2(&c->id, sizeof(c->id)), c);
	}
	g_mutex_unlock(&j->lock);
	return ok ? id : 0;
}

/** vs_journal_step: records that operation @id reached @step. */
bool vs_journal_step(vs_journal *j, uint64_t id, const char *step, GError **error)
{
	g_mutex_lock(&j->lock);
	g_autoptr(JsonBuilder) b = json_builder_new();
	json_builder_begin_object(b);
	json_builder_set_member_name(b, "id");
	json_builder_add_int_value(b, (gint64)id);
	json_builder_set_member_name(b, "step");
	json_builder_add_string_value(b, step);
	json_builder_end_object(b);
	bool ok = journal_append(j, b, error);
	vs_journal_op *op = g_hash_table_lookup(j->open, &id);
	if (ok && op) {
		g_free(op->step);
		op->step = g_strdup(step);
	}
	g_mutex_unlock(&j->lock);
	return ok;
}

/**
 * vs_journal_end: closes operation @id; when nothing is left open the file
 * is truncated, so it never grows without bound.
 */
bool vs_journal_end(vs_journal *j, uint64_t id, const char *result, GError **error)
{
	g_mutex_lock(&j->lock);
	g_autoptr(JsonBuilder) b = json_builder_new();
	json_builder_begin_object(b);
	json_builder_set_member_name(b, "id");
	json_builder_add_int_value(b, (gint64)id);
	json_builder_set_member_name(b, "end");
	json_builder_add_string_value(b, result);
	json_builder_end_object(b);
	bool ok = journal_append(j, b, error);
	if (ok) {
		g_hash_table_remove(j->open, &id);
		if (g_hash_table_size(j->open) == 0 && ftruncate(j->fd, 0) == 0)
			(void)fdatasync(j->fd);
	}
	g_mutex_unlock(&j->lock);
	return ok;
}

static GPtrArray *pending(vs_journal *j, const char *pool, bool with_owned)
{
	GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)vs_journal_op_free);
	g_mutex_lock(&j->lock);
	GHashTableIter it;
	gpointer v;
	g_hash_table_iter_init(&it, j->open);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		vs_journal_op *op = v;
		if ((!pool || g_strcmp0(op->pool, pool) == 0) && (with_owned || !op->owner))
			g_ptr_array_add(out, op_copy(op));
	}
	g_mutex_unlock(&j->lock);
	return out;
}

/** vs_journal_pending: copies of the open operations of @pool (NULL: all). */
GPtrArray *vs_journal_pending(vs_journal *j, const char *pool)
{
	return pending(j, pool, true);
}

/** vs_journal_settleable: see journal.h. */
GPtrArray *vs_journal_settleable(vs_journal *j, const char *pool)
{
	return pending(j, pool, false);
}

/** vs_journal_owner_new: see journal.h. */
uint64_t vs_journal_owner_new(void)
{
	static uint64_t last;
	static GMutex lock;
	uint64_t owner;

	g_mutex_lock(&lock);
	owner = ++last;
	g_mutex_unlock(&lock);
	return owner;
}

/** vs_journal_set_owner: see journal.h. */
void vs_journal_set_owner(uint64_t owner)
{
	current_owner = owner;
}

/** vs_journal_get_owner: see journal.h. */
uint64_t vs_journal_get_owner(void)
{
	return current_owner;
}

/** vs_journal_release: see journal.h. */
void vs_journal_release(vs_journal *j, uint64_t owner)
{
	GHashTableIter it;
	gpointer v;

	if (!owner)
		return;
	g_mutex_lock(&j->lock);
	g_hash_table_iter_init(&it, j->open);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		vs_journal_op *op = v;

		if (op->owner == owner)
			op->owner = 0;
	}
	g_mutex_unlock(&j->lock);
}
