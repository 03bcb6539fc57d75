/*
 * The device table: registration on first contact, TargetToken hashes,
 * attributes from configData, and what operators set per device.
 */
#include "device.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "action.h"
#include "db.h"
#include "log.h"
#include "meta.h"
#include "refused.h"
#include "resultcode.h"
#include "rollout.h"
#include "settings.h"
#include "sysconf.h"
#include "wave.h"

/*
 * The device's state for operators, from its newest action: pending,
 * updating, canceling, in_sync, failed, canceled; without actions
 * registered (no attributes yet) or idle.
 */
#define DEVICE_STATE_SQL                                                       \
	"CASE (SELECT a.status FROM action a WHERE a.device_id = device.id "   \
	"ORDER BY a.id DESC LIMIT 1) WHEN 'scheduled' THEN 'pending' "         \
	"WHEN 'running' THEN 'updating' WHEN 'canceling' THEN 'canceling' "    \
	"WHEN 'succeeded' THEN 'in_sync' WHEN 'failed' THEN 'failed' "         \
	"WHEN 'canceled' THEN 'canceled' ELSE CASE WHEN hw_model IS NULL "     \
	"AND request_attributes = 1 THEN 'registered' ELSE 'idle' END END"

/* The version an open action is installing. */
#define DEVICE_TARGET_SQL                                                      \
	"(SELECT s.version FROM action a JOIN distribution_set s ON s.id = "   \
	"a.ds_id WHERE a.device_id = device.id AND a.status IN "               \
	"('scheduled', 'running', 'canceling') ORDER BY a.id DESC LIMIT 1)"

/* The sets of the open action and of the newest succeeded one. */
#define DEVICE_TARGET_DS_SQL                                                   \
	"(SELECT a.ds_id FROM action a WHERE a.device_id = device.id AND "     \
	"a.status IN ('scheduled', 'running', 'canceling') ORDER BY a.id "     \
	"DESC LIMIT 1)"
#define DEVICE_INSTALLED_DS_SQL                                                \
	"(SELECT a.ds_id FROM action a WHERE a.device_id = device.id AND "     \
	"a.status = 'succeeded' ORDER BY a.id DESC LIMIT 1)"

#define DEVICE_ROW_COLUMNS                                                     \
	"id, controller_id, name, token_hash IS NOT NULL AS has_token, "       \
	"mode, feed, assigned_ds_id, force_update, allow_downgrade, "          \
	"hw_model, hw_revision, installed_version, request_attributes, "       \
	"created_at, compatible"

/* The device row with its last contact (device_seen, see 0003). */
#define DEVICE_SEEN_FROM                                                       \
	"device LEFT JOIN device_seen ON device_seen.device_id = device.id"

/* The last contact, from device_seen (see DEVICE_SEEN_FROM). */
#define DEVICE_SEEN_COLUMNS                                                    \
	"device_seen.at AS last_seen, device_seen.address AS last_address"

/* For operators: with the derived state and target version. */
#define DEVICE_COLUMNS                                                         \
	DEVICE_ROW_COLUMNS ", " DEVICE_SEEN_COLUMNS ", " DEVICE_STATE_SQL      \
	                   " AS state, " DEVICE_TARGET_SQL                     \
	                   " AS target_version, " DEVICE_TARGET_DS_SQL         \
	                   " AS target_ds, " DEVICE_INSTALLED_DS_SQL           \
	                   " AS installed_ds"

/* For devices (the poll path): the row and the token hash, nothing
 * derived and no last contact, so a poll costs one indexed lookup. */
#define DEVICE_DDI_COLUMNS                                                     \
	DEVICE_ROW_COLUMNS ", NULL, NULL, NULL, NULL, NULL, NULL, token_hash"
#define DEVICE_DDI_NCOLUMNS 22

bool
device_cid_valid(const char *cid)
{
	size_t n = strlen(cid);

	if (n == 0 || n > DEVICE_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)cid[i] < 0x20 || cid[i] == 0x7f)
			return false;
	return true;
}

const char *
device_cid_problem(const char *cid)
{
	size_t n = strlen(cid), i = 0, k;
	uint32_t cp = 0;
	bool first = true;

	if (n == 0 || n > DEVICE_ID_MAX)
		return "must be 1 to 256 bytes";
	while (i < n) {
		if ((k = utf8_char(cid + i, n - i, &cp)) == 0)
			return "must be UTF-8";
		if (unicode_invisible(cp))
			return "must not hold control, format or other "
			       "invisible characters";
		if (first && unicode_space(cp))
			return "must not start with a space";
		first = false;
		i += k;
	}
	if (unicode_space(cp))
		return "must not end with a space";
	return NULL;
}

bool
device_token_valid(const char *token)
{
	size_t n = strlen(token);

	return n >= 8 && n <= DEVICE_TOKEN_MAX &&
	       strspn(token, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTU"
	                     "VWXYZ0123456789_.-~+/=") == n;
}

enum result
device_find_auth(
    struct db *db, const char *cid, int64_t *id, char token_hash[65])
{
	static const char sql[] =
	    "SELECT id, token_hash FROM device WHERE controller_id = ?1";
	sqlite3_stmt *st = db_prepare(db, sql);
	enum result r = RESULT_ERROR;
	const unsigned char *h;

	token_hash[0] = '\0';
	if (st == NULL)
		return RESULT_ERROR;
	db_bind_text(st, 1, cid);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		*id = sqlite3_column_int64(st, 0);
		if ((h = sqlite3_column_text(st, 1)) != NULL)
			snprintf(token_hash, 65, "%s", (const char *)h);
		r = RESULT_OK;
		break;
	case SQLITE_DONE:
		r = RESULT_NOTFOUND;
		break;
	default:
		db_log_error(db, __func__);
	}
	db_done(st);
	return r;
}

/*
 * The device's row came first (a concurrent first contact, or an
 * operator): join it if the request is vouched for, holds the token
 * stored, or none is stored (then its tofu token is stored).
 */
static enum result
device_join_existing(struct db *db, const struct device_new *n, int64_t *id)
{
	char stored[65];
	enum result r;

	if ((r = device_find_auth(db, n->cid, id, stored)) != RESULT_OK)
		return r == RESULT_NOTFOUND ? RESULT_CONFLICT : r;
	if (n->vouched)
		return RESULT_OK;
	if (stored[0] == '\0')
		return n->token_hash
		           ? device_store_first_token(db, *id, n->token_hash)
		           : RESULT_OK;
	return n->token_hash && ct_equal(stored, strlen(stored), n->token_hash,
	                            strlen(n->token_hash))
	           ? RESULT_OK
	           : RESULT_CONFLICT;
}

enum result
device_register(
    struct db *db, const struct device_new *n, int64_t *id, bool *created)
{
	static const char sql[] =
	    "INSERT INTO device (controller_id, token_hash, created_at, feed) "
	    "VALUES (?1, ?2, ?3, COALESCE(?4, 'default')) "
	    "ON CONFLICT (controller_id) DO NOTHING";
	sqlite3_stmt *st = db_prepare(db, sql);
	enum result r;

	*created = false;
	if (st == NULL)
		return RESULT_ERROR;
	db_bind_text(st, 1, n->cid);
	db_bind_text(st, 2, n->token_hash);
	db_bind_int64(st, 3, now_s());
	db_bind_text(st, 4, n->feed);
	if ((r = db_step_done(db, st, __func__)) != RESULT_OK)
		return r;
	if (sqlite3_changes(db_handle(db)) == 0)
		return device_join_existing(db, n, id);
	*id = sqlite3_last_insert_rowid(db_handle(db));
	*created = true;
	log_info("device %s registered on feed %s", n->cid,
	    n->feed ? n->feed : "default");
	return RESULT_OK;
}

enum result
device_store_first_token(struct db *db, int64_t id, const char *token_hash)
{
	static const char sql[] = "UPDATE device SET token_hash = ?1 "
	                          "WHERE id = ?2 AND token_hash IS NULL";
	static const char now[] = "SELECT token_hash FROM device WHERE id = ?1";
	sqlite3_stmt *st = db_prepare(db, sql);
	const char *stored;
	enum result r;

	if (st == NULL)
		return RESULT_ERROR;
	db_bind_text(st, 1, token_hash);
	db_bind_int64(st, 2, id);
	if ((r = db_step_done(db, st, __func__)) != RESULT_OK)
		return r;
	if (sqlite3_changes(db_handle(db)) == 1)
		return RESULT_OK;
	/* Another first contact stored its token first: this one may go on
	 * only if it was the same token. */
	if ((st = db_prepare(db, now)) == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, id);
	r = RESULT_CONFLICT;
	if (sqlite3_step(st) == SQLITE_ROW &&
	    (stored = (const char *)sqlite3_column_text(st, 0)) != NULL &&
	    ct_equal(stored, strlen(stored), token_hash, strlen(token_hash)))
		r = RESULT_OK;
	db_done(st);
	return r;
}

/* How many devices are on feed, counting no further than limit; -1 on a
 * database error. */
static int64_t
device_count_feed(struct db *db, const char *feed, int64_t limit)
{
	static const char sql[] =
	    "SELECT count(*) FROM (SELECT 1 FROM device WHERE feed = ?1 "
	    "LIMIT ?2)";
	sqlite3_stmt *st = db_prepare(db, sql);
	int64_t n = -1;

	if (st == NULL)
		return -1;
	db_bind_text(st, 1, feed);
	db_bind_int64(st, 2, limit);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	else
		db_log_error(db, __func__);
	db_done(st);
	return n;
}

#define DEVICE_TALLY_AGE_MS 1000 /* how old device_tally_get's count may be */

struct device_tally {
	pthread_mutex_t lock;
	int64_t n;      /* devices on the feed, as counted plus added since */
	int64_t at;     /* when counted (ms), 0 = never */
	int64_t warned; /* when device_tally_full last said so (s) */
};

struct device_tally *
device_tally_new(void)
{
	struct device_tally *t = xcalloc(1, sizeof(*t));

	pthread_mutex_init(&t->lock, NULL);
	return t;
}

void
device_tally_free(struct device_tally *t)
{
	if (t == NULL)
		return;
	pthread_mutex_destroy(&t->lock);
	free(t);
}

int64_t
device_tally_get(
    struct device_tally *t, struct db *db, const char *feed, int64_t limit)
{
	int64_t n, now = now_ms();

	/* Counted under the lock: one thread counts, the others wait for
	 * its answer instead of counting too. */
	pthread_mutex_lock(&t->lock);
	if (t->at == 0 || now - t->at >= DEVICE_TALLY_AGE_MS) {
		if ((n = device_count_feed(db, feed, limit)) >= 0) {
			t->n = n;
			t->at = now;
		}
	} else
		n = t->n;
	pthread_mutex_unlock(&t->lock);
	return n;
}

void
device_tally_add(struct device_tally *t)
{
	pthread_mutex_lock(&t->lock);
	t->n++;
	pthread_mutex_unlock(&t->lock);
}

bool
device_tally_full(struct device_tally *t)
{
	int64_t now = now_s();
	bool say;

	pthread_mutex_lock(&t->lock);
	if ((say = t->warned == 0 || now - t->warned >= 60))
		t->warned = now;
	pthread_mutex_unlock(&t->lock);
	return say;
}

static void
device_from_row(sqlite3_stmt *st, struct device *d)
{
	const char *mode = (const char *)sqlite3_column_text(st, 4);

	memset(d, 0, sizeof(*d));
	d->id = sqlite3_column_int64(st, 0);
	d->controller_id = db_column_strdup(st, 1);
	d->name = db_column_strdup(st, 2);
	d->has_token = sqlite3_column_int(st, 3) != 0;
	if (mode == NULL || policy_mode_parse(mode, &d->mode) == -1)
		d->mode = MODE_PINNED;
	d->feed = db_column_strdup(st, 5);
	d->assigned_ds_id = sqlite3_column_int64(st, 6);
	d->force = sqlite3_column_int(st, 7) != 0;
	d->allow_downgrade = sqlite3_column_int(st, 8) != 0;
	d->hw_model = db_column_strdup(st, 9);
	d->hw_revision = db_column_strdup(st, 10);
	d->installed_version = db_column_strdup(st, 11);
	d->request_attributes = sqlite3_column_int(st, 12) != 0;
	d->created_at = sqlite3_column_int64(st, 13);
	d->compatible = db_column_strdup(st, 14);
	d->last_seen = sqlite3_column_int64(st, 15);
	d->last_address = db_column_strdup(st, 16);
	d->state = db_column_strdup(st, 17);
	d->target_version = db_column_strdup(st, 18);
	d->target_ds_id = sqlite3_column_int64(st, 19);
	d->installed_ds_id = sqlite3_column_int64(st, 20);
	if (sqlite3_column_count(st) >= DEVICE_DDI_NCOLUMNS &&
	    sqlite3_column_text(st, 21))
		snprintf(d->token_hash, sizeof(d->token_hash), "%s",
		    (const char *)sqlite3_column_text(st, 21));
}

static enum result
device_load_stmt(struct db *db, sqlite3_stmt *st, struct device *d)
{
	enum result r = RESULT_ERROR;

	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		device_from_row(st, d);
		r = RESULT_OK;
		break;
	case SQLITE_DONE:
		r = RESULT_NOTFOUND;
		break;
	default:
		db_log_error(db, "device_load");
	}
	db_done(st);
	return r;
}

enum result
device_load(struct db *db, int64_t id, struct device *d)
{
	static const char sql[] =
	    "SELECT " DEVICE_DDI_COLUMNS " FROM device WHERE id = ?1";
	sqlite3_stmt *st = db_prepare(db, sql);

	if (st == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, id);
	return device_load_stmt(db, st, d);
}

enum result
device_load_ddi(struct db *db, const char *cid, struct device *d)
{
	static const char sql[] =
	    "SELECT dv.*, " ACTION_A_COLUMNS
	    ", (SELECT max(i.id) FROM action i "
	    "WHERE i.device_id = dv.id AND i.status = 'succeeded') "
	    "FROM (SELECT " DEVICE_DDI_COLUMNS " FROM device "
	    "WHERE controller_id = ?1) AS dv LEFT JOIN action a ON a.id = "
	    "(SELECT max(x.id) FROM action x WHERE x.device_id = dv.id)";
	sqlite3_stmt *st = db_prepare_shared(db, sql);
	enum result r = RESULT_ERROR;

	if (st == NULL)
		return RESULT_ERROR;
	db_bind_text(st, 1, cid);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		device_from_row(st, d);
		d->actions_loaded = true;
		d->has_last =
		    sqlite3_column_type(st, DEVICE_DDI_NCOLUMNS) != SQLITE_NULL;
		if (d->has_last)
			action_from_row(st, DEVICE_DDI_NCOLUMNS, &d->last);
		d->installed_action = sqlite3_column_int64(
		    st, DEVICE_DDI_NCOLUMNS + ACTION_NCOLUMNS);
		r = RESULT_OK;
		break;
	case SQLITE_DONE:
		r = RESULT_NOTFOUND;
		break;
	default:
		db_log_error(db, __func__);
	}
	db_done(st);
	return r;
}

enum result
device_load_cid(struct db *db, const char *cid, struct device *d)
{
	static const char sql[] =
	    "SELECT " DEVICE_COLUMNS " FROM " DEVICE_SEEN_FROM
	    " WHERE controller_id = ?1";
	sqlite3_stmt *st = db_prepare(db, sql);

	if (st == NULL)
		return RESULT_ERROR;
	db_bind_text(st, 1, cid);
	return device_load_stmt(db, st, d);
}

void
device_clear(struct device *d)
{
	if (d == NULL)
		return;
	free(d->controller_id);
	free(d->name);
	free(d->feed);
	free(d->hw_model);
	free(d->compatible);
	free(d->hw_revision);
	free(d->installed_version);
	free(d->last_address);
	free(d->state);
	free(d->target_version);
	memset(d, 0, sizeof(*d));
}

void
device_free(struct device *d)
{
	device_clear(d);
	free(d);
}

/* Attribute text hawkBit allows in configData, plus UTF-8. */
static bool
device_attr_text_valid(const char *s)
{
	size_t n = strlen(s);

	if (n > DEVICE_ATTR_LEN || !utf8_valid(s, n))
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

static enum result
device_attr_exec(
    struct db *db, const char *sql, int64_t id, const char *k, const char *v)
{
	sqlite3_stmt *st = db_prepare(db, sql);

	if (st == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, id);
	if (k)
		db_bind_text(st, 2, k);
	if (v)
		db_bind_text(st, 3, v);
	return db_step_done(db, st, "device_put_attributes");
}

/*
 * Copy the mapped attributes into the device's columns.  The installed
 * version follows the version attribute only when the device reports a
 * new value (old_version is what it reported before): clients such as
 * rauc-hawkbit-updater send a fixed value from their configuration, which
 * must not undo what a successful deployment recorded.
 */
static enum result
device_refresh_mapped(struct db *db, const struct settings *s, int64_t id,
    const char *old_version)
{
	static const char sql[] =
	    "UPDATE device SET request_attributes = 0, "
	    "hw_model = (SELECT value FROM device_attribute "
	    "  WHERE device_id = ?1 AND key = ?2), "
	    "hw_revision = (SELECT value FROM device_attribute "
	    "  WHERE device_id = ?1 AND key = ?3), "
	    "installed_version = CASE WHEN (SELECT value FROM device_attribute "
	    "  WHERE device_id = ?1 AND key = ?4) IS DISTINCT FROM ?6 THEN "
	    "  COALESCE((SELECT value FROM device_attribute WHERE device_id = "
	    "  ?1 AND key = ?4), installed_version) ELSE installed_version "
	    "END, "
	    "compatible = (SELECT value FROM device_attribute "
	    "  WHERE device_id = ?1 AND key = ?5) "
	    "WHERE id = ?1";
	sqlite3_stmt *st = db_prepare(db, sql);

	if (st == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, id);
	db_bind_text(st, 2, s->attr_hw_model);
	db_bind_text(st, 3, s->attr_hw_revision);
	db_bind_text(st, 4, s->attr_sw_version);
	db_bind_text(st, 5, s->attr_rauc_compatible);
	db_bind_text(st, 6, old_version);
	return db_step_done(db, st, __func__);
}

/* The value of attribute key of the device, or NULL (the caller frees). */
static char *
device_attr_value(struct db *db, int64_t id, const char *key)
{
	static const char sql[] = "SELECT value FROM device_attribute WHERE "
	                          "device_id = ?1 AND key = ?2";
	sqlite3_stmt *st = db_prepare(db, sql);
	char *v = NULL;

	if (st == NULL)
		return NULL;
	db_bind_int64(st, 1, id);
	db_bind_text(st, 2, key);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = db_column_strdup(st, 0);
	db_done(st);
	return v;
}

static int64_t
device_attr_count(struct db *db, int64_t id)
{
	static const char sql[] =
	    "SELECT count(*) FROM device_attribute WHERE device_id = ?1";
	sqlite3_stmt *st = db_prepare(db, sql);
	int64_t n = -1;

	if (st == NULL)
		return -1;
	db_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	db_done(st);
	return n;
}

enum result
device_put_attributes(struct db *db, const struct settings *s, int64_t id,
    const char *mode, json_t *data, const char **why)
{
	static const char del_all[] =
	    "DELETE FROM device_attribute WHERE device_id = ?1";
	static const char del_one[] =
	    "DELETE FROM device_attribute WHERE device_id = ?1 AND key = ?2";
	static const char upsert[] =
	    "INSERT INTO device_attribute (device_id, key, value) "
	    "VALUES (?1, ?2, ?3) ON CONFLICT (device_id, key) "
	    "DO UPDATE SET value = excluded.value";
	bool remove = strcmp(mode, "remove") == 0;
	const char *key;
	char *old_version = NULL;
	json_t *v;
	enum result r;

	*why = NULL;
	if (json_object_size(data) > DEVICE_ATTR_MAX) {
		*why = "more than 100 attributes";
		return RESULT_CONFLICT;
	}
	json_object_foreach(data, key, v)
	{
		if (*key == '\0' || !device_attr_text_valid(key)) {
			*why = "attribute keys are 1 to 128 printable "
			       "characters";
			return RESULT_INVALID;
		}
		if (!remove && !json_is_null(v) &&
		    (!json_is_string(v) ||
		        !device_attr_text_valid(json_string_value(v)))) {
			*why = "attribute values are strings of at most 128 "
			       "printable characters";
			return RESULT_INVALID;
		}
	}
	if (db_begin(db) == -1)
		return RESULT_ERROR;
	old_version = device_attr_value(db, id, s->attr_sw_version);
	if (strcmp(mode, "replace") == 0 &&
	    (r = device_attr_exec(db, del_all, id, NULL, NULL)) != RESULT_OK)
		goto fail;
	json_object_foreach(data, key, v)
	{
		if (remove || json_is_null(v))
			r = device_attr_exec(db, del_one, id, key, NULL);
		else
			r = device_attr_exec(
			    db, upsert, id, key, json_string_value(v));
		if (r != RESULT_OK)
			goto fail;
	}
	if (device_attr_count(db, id) > DEVICE_ATTR_MAX) {
		*why = "more than 100 attributes";
		r = RESULT_CONFLICT;
		goto fail;
	}
	if ((r = device_refresh_mapped(db, s, id, old_version)) != RESULT_OK)
		goto fail;
	free(old_version);
	if (db_commit(db) == -1)
		return RESULT_ERROR;
	return RESULT_OK;
fail:
	db_rollback(db);
	free(old_version);
	return r;
}

/*
 * The WHERE clause of the device list: ?3 text search (ASCII letters in
 * any case, in the id, name, hardware model and revision, installed
 * version or address), ?4 state, ?5 feed, ?6 mode, ?7 rollout (the devices
 * it reaches, in its state ?9: see WAVE_REACH_MATCH), ?10 seen ("online":
 * a contact since ?13, or ?12 while an update is open, as device_to_json
 * says; "overdue": seen before that; "never"), ?11 refused since the last
 * accepted contact (refused.h), ?14 installed version (exactly), ?15
 * installed set (installed_ds: the set of its newest success).
 */
#define DEVICE_WHERE                                                           \
	"WHERE (?3 IS NULL OR instr(lower(controller_id), lower(?3)) > 0 OR "  \
	"instr(lower(COALESCE(name, '')), lower(?3)) > 0 OR "                  \
	"instr(lower(COALESCE(hw_model, '')), lower(?3)) > 0 OR "              \
	"instr(lower(COALESCE(hw_revision, '')), lower(?3)) > 0 OR "           \
	"instr(lower(COALESCE(installed_version, '')), lower(?3)) > 0 OR "     \
	"instr(lower(COALESCE(last_address, '')), lower(?3)) > 0) "            \
	"AND (?4 IS NULL OR state = ?4) AND (?5 IS NULL OR feed = ?5) "        \
	"AND (?6 IS NULL OR mode = ?6) AND (?7 IS NULL OR id IN (SELECT "      \
	"t.device_id FROM " WAVE_REACH_FROM                                    \
	" WHERE t.rollout_id = ?7 AND " WAVE_REACH_MATCH(                      \
	    "?9") ")) "                                                        \
	          "AND (?10 IS NULL OR (?10 = 'online' AND last_seen >= "      \
	          "CASE WHEN target_version IS NULL THEN ?13 ELSE ?12 END) "   \
	          "OR "                                                        \
	          "(?10 = 'overdue' AND last_seen < "                          \
	          "CASE WHEN target_version IS NULL THEN ?13 ELSE ?12 END) "   \
	          "OR "                                                        \
	          "(?10 = 'never' AND last_seen IS NULL)) "                    \
	          "AND (?11 IS NULL OR " REFUSED_DEVICE_SQL ") "               \
	          "AND (?14 IS NULL OR installed_version = ?14) "              \
	          "AND (?15 IS NULL OR installed_ds = ?15)"

/* The sort column ?8, from a fixed list (anything else: controller id).
 * Versions sort as the policy orders them (the "version" collation of
 * db.c) in DEVICE_ORDER_VERSION, which is NULL for every other column. */
#define DEVICE_ORDER_VERSION                                                   \
	"CASE WHEN ?8 = 'installed_version' THEN installed_version END "       \
	"COLLATE version"
#define DEVICE_ORDER                                                           \
	"CASE ?8 WHEN 'name' THEN name WHEN 'hw_model' THEN hw_model "         \
	"WHEN 'feed' THEN feed WHEN 'mode' THEN mode "                         \
	"WHEN 'installed_version' THEN installed_version "                     \
	"WHEN 'state' THEN state WHEN 'last_seen' THEN last_seen "             \
	"ELSE controller_id END"

static void
device_bind_query(
    sqlite3_stmt *st, const struct settings *s, const struct device_query *q)
{
	db_bind_text(st, 3, q->text);
	db_bind_text(st, 4, q->state);
	db_bind_text(st, 5, q->feed);
	db_bind_text(st, 6, q->mode);
	if (q->rollout_id)
		db_bind_int64(st, 7, q->rollout_id);
	db_bind_text(st, 9, q->rollout_state);
	/* device_to_json's "online", for a device with no update open. */
	db_bind_int64(st, 13,
	    now_s() - sysconf_polling_time(s) - sysconf_polling_overdue(s));
	db_bind_int64(st, 12,
	    now_s() - s->poll_interval_running - sysconf_polling_overdue(s));
	db_bind_text(st, 10, q->seen);
	if (q->refused)
		db_bind_int64(st, 11, 1);
	db_bind_text(st, 14, q->installed_version);
	if (q->installed_ds)
		db_bind_int64(st, 15, q->installed_ds);
}

static json_t *
device_attributes_json(struct db *db, int64_t id)
{
	static const char sql[] =
	    "SELECT key, value FROM device_attribute WHERE device_id = ?1 "
	    "ORDER BY key";
	sqlite3_stmt *st = db_prepare(db, sql);
	json_t *o = json_object();

	if (st == NULL)
		return o;
	db_bind_int64(st, 1, id);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *v = (const char *)sqlite3_column_text(st, 1);

		json_object_set_new(o, (const char *)sqlite3_column_text(st, 0),
		    v ? json_string(v) : json_null());
	}
	db_done(st);
	return o;
}

static json_t *
json_int_or_null(int64_t v)
{
	return v ? json_integer(v) : json_null();
}

static json_t *device_metadata_json(struct db *, int64_t id);

/*
 * Why the newest action (JSON, borrowed) failed, or JSON null if it did
 * not: the device's result code with its name (an ATS Garage code) and
 * the last message, with the reason a known SWUpdate or RAUC message
 * names.
 */
static json_t *
device_failure_json(json_t *action)
{
	json_t *code = json_object_get(action, "result_code");
	const char *msg =
	    json_string_value(json_object_get(action, "last_message"));
	const char *name = NULL, *why;
	const char *status =
	    json_string_value(json_object_get(action, "status"));

	if (status == NULL || strcmp(status, "failed") != 0)
		return json_null();
	if (json_is_integer(code))
		name = resultcode_name(json_integer_value(code));
	if ((why = resultcode_message(msg)) == NULL)
		why = name;
	return json_pack("{s:O, s:s?, s:s?, s:s?}", "code",
	    code ? code : json_null(), "code_name", name, "reason", why,
	    "message", msg);
}

/* The explanations: the target and why (rollout.c, from the same steps
 * as the poll), a refusal since the last accepted contact, the last
 * failure. */
static void
device_explain_json(
    struct db *db, const struct settings *s, const struct device *d, json_t *o)
{
	struct rollout_why w;

	json_object_set_new(o, "target",
	    rollout_explain(db, s, d, &w) == RESULT_OK ? rollout_why_json(&w)
	                                               : json_null());
	json_object_set_new(o, "refused",
	    refused_device_json(db, d->controller_id, d->last_seen));
	json_object_set_new(o, "last_failure",
	    device_failure_json(json_object_get(o, "action")));
}

json_t *
device_to_json(struct db *db, const struct settings *s, const struct device *d)
{
	json_t *action = action_latest_json(db, d->id);
	json_t *o;
	int interval = d->target_version ? s->poll_interval_running
	                                 : sysconf_polling_time(s);
	/* hawkBit's rule: overdue once pollingOverdueTime past its poll. */
	bool online = d->last_seen && now_s() - d->last_seen <
	                                  interval + sysconf_polling_overdue(s);

	o = json_pack("{s:s, s:s?, s:s, s:s, s:o, s:o, s:b, s:b, s:b, "
	              "s:s?, s:s?, s:s?, s:s?, s:s?, s:o, s:o, s:o, s:o, "
	              "s:I, s:o, s:s?, s:b, s:i, s:s, s:o, s:b}",
	    "controller_id", d->controller_id, "name", d->name, "mode",
	    policy_mode_str(d->mode), "feed", d->feed, "assigned_software_id",
	    json_int_or_null(d->assigned_ds_id), "assigned_distribution_id",
	    json_int_or_null(d->assigned_ds_id), "force", d->force,
	    "allow_downgrade", d->allow_downgrade, "has_token", d->has_token,
	    "hw_model", d->hw_model, "hw_revision", d->hw_revision,
	    "compatible", d->compatible, "installed_version",
	    d->installed_version, "target_version", d->target_version,
	    "target_distribution_id", json_int_or_null(d->target_ds_id),
	    "installed_distribution_id", json_int_or_null(d->installed_ds_id),
	    "attributes", device_attributes_json(db, d->id), "metadata",
	    device_metadata_json(db, d->id), "created_at",
	    (json_int_t)d->created_at, "last_seen",
	    json_int_or_null(d->last_seen), "last_address", d->last_address,
	    "online", online, "poll_interval", interval, "state",
	    d->state ? d->state : "idle", "action",
	    action ? action : json_null(), "request_attributes",
	    d->request_attributes);
	if (o != NULL)
		device_explain_json(db, s, d, o);
	return o;
}

/* Filters of the device list; NULL members do not filter. */
json_t *
device_list_json(
    struct db *db, const struct settings *s, const struct device_query *q)
{
	static const char asc[] =
	    "SELECT * FROM (SELECT " DEVICE_COLUMNS " FROM " DEVICE_SEEN_FROM
	    ") AS d " DEVICE_WHERE " ORDER BY " DEVICE_ORDER_VERSION
	    " ASC, " DEVICE_ORDER " ASC, controller_id ASC "
	    "LIMIT ?1 OFFSET ?2";
	static const char desc[] =
	    "SELECT * FROM (SELECT " DEVICE_COLUMNS " FROM " DEVICE_SEEN_FROM
	    ") AS d " DEVICE_WHERE " ORDER BY " DEVICE_ORDER_VERSION
	    " DESC, " DEVICE_ORDER " DESC, controller_id DESC "
	    "LIMIT ?1 OFFSET ?2";
	static const char count[] =
	    "SELECT count(*) FROM (SELECT " DEVICE_COLUMNS
	    " FROM " DEVICE_SEEN_FROM ") AS d " DEVICE_WHERE
	    " AND ?1 IS NULL AND ?2 IS NULL AND ?8 IS NULL";
	sqlite3_stmt *st;
	json_t *list = json_array();
	int64_t total = 0;
	struct device *rows = NULL;
	size_t n = 0;

	if ((st = db_prepare(db, count)) != NULL) {
		device_bind_query(st, s, q);
		if (sqlite3_step(st) == SQLITE_ROW)
			total = sqlite3_column_int64(st, 0);
		db_done(st);
	}
	if ((st = db_prepare(db, q->descending ? desc : asc)) != NULL) {
		device_bind_query(st, s, q);
		db_bind_int64(st, 1, q->limit);
		db_bind_int64(st, 2, q->offset);
		db_bind_text(st, 8, q->sort);
		rows = xcalloc((size_t)q->limit, sizeof(*rows));
		while (n < (size_t)q->limit && sqlite3_step(st) == SQLITE_ROW)
			device_from_row(st, &rows[n++]);
		db_done(st);
	}
	/* Build JSON after the cursor is closed: device_to_json queries. */
	for (size_t i = 0; i < n; i++) {
		json_array_append_new(list, device_to_json(db, s, &rows[i]));
		device_clear(&rows[i]);
	}
	free(rows);
	return json_pack("{s:o, s:I, s:I, s:I}", "devices", list, "total",
	    (json_int_t)total, "limit", (json_int_t)q->limit, "offset",
	    (json_int_t)q->offset);
}

json_t *
device_stats_json(struct db *db, const struct settings *s)
{
	static const char sql[] =
	    "SELECT count(*), "
	    "  COALESCE(sum(last_seen >= ?1), 0), "
	    "  COALESCE(sum(state IN ('pending', "
	    "'updating', 'canceling')), 0), "
	    "  COALESCE(sum(state = 'failed'), 0) "
	    "FROM (SELECT device_seen.at AS last_seen, " DEVICE_STATE_SQL
	    " AS state FROM " DEVICE_SEEN_FROM ")";
	static const char states[] =
	    "SELECT state, count(*) FROM (SELECT " DEVICE_STATE_SQL
	    " AS state FROM device) GROUP BY state ORDER BY state";
	/* The newest first, as the policy orders versions. */
	static const char versions[] =
	    "SELECT installed_version, count(*) FROM device WHERE "
	    "installed_version IS NOT NULL GROUP BY installed_version "
	    "ORDER BY installed_version COLLATE version DESC LIMIT 100";
	sqlite3_stmt *st;
	json_t *o = NULL, *by = json_object(), *byv;

	if ((st = db_prepare(db, sql)) == NULL) {
		json_decref(by);
		return NULL;
	}
	db_bind_int64(st, 1,
	    now_s() - sysconf_polling_time(s) - sysconf_polling_overdue(s));
	if (sqlite3_step(st) == SQLITE_ROW)
		o = json_pack("{s:I, s:I, s:I, s:I}", "total",
		    (json_int_t)sqlite3_column_int64(st, 0), "online",
		    (json_int_t)sqlite3_column_int64(st, 1), "updating",
		    (json_int_t)sqlite3_column_int64(st, 2), "failed",
		    (json_int_t)sqlite3_column_int64(st, 3));
	db_done(st);
	if (o && (st = db_prepare(db, states)) != NULL) {
		while (sqlite3_step(st) == SQLITE_ROW)
			json_object_set_new(by,
			    (const char *)sqlite3_column_text(st, 0),
			    json_integer(sqlite3_column_int64(st, 1)));
		db_done(st);
	}
	if (o)
		json_object_set_new(o, "by_state", by);
	else
		json_decref(by);
	if (o && (st = db_prepare(db, versions)) != NULL) {
		byv = json_array();
		while (sqlite3_step(st) == SQLITE_ROW)
			json_array_append_new(
			    byv, json_pack("{s:s, s:I}", "version",
			             (const char *)sqlite3_column_text(st, 0),
			             "devices",
			             (json_int_t)sqlite3_column_int64(st, 1)));
		db_done(st);
		json_object_set_new(o, "by_version", byv);
	}
	return o;
}

json_t *
device_installed_counts(struct db *db)
{
	static const char sql[] =
	    "SELECT ds, count(*) FROM (SELECT " DEVICE_INSTALLED_DS_SQL
	    " AS ds FROM device) WHERE ds IS NOT NULL GROUP BY ds";
	sqlite3_stmt *st = db_prepare(db, sql);
	json_t *o = json_object();
	char key[24];

	if (st == NULL)
		return o;
	while (sqlite3_step(st) == SQLITE_ROW) {
		snprintf(key, sizeof(key), "%lld",
		    (long long)sqlite3_column_int64(st, 0));
		json_object_set_new(
		    o, key, json_integer(sqlite3_column_int64(st, 1)));
	}
	db_done(st);
	return o;
}

static bool
device_feed_valid(const char *f)
{
	size_t n = strlen(f);

	return n >= 1 && n <= DEVICE_FEED_MAX &&
	       strspn(f, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                 "0123456789_.-") == n;
}

static bool
device_name_valid(const char *n)
{
	size_t len = strlen(n);

	return len <= DEVICE_NAME_MAX && utf8_valid(n, len);
}

static enum result
device_software_exists(struct db *db, int64_t sw)
{
	static const char sql[] =
	    "SELECT 1 FROM distribution_set WHERE id = ?1 AND "
	    "deleted_at IS NULL AND complete = 1";
	sqlite3_stmt *st = db_prepare(db, sql);
	enum result r = RESULT_ERROR;

	if (st == NULL)
		return r;
	db_bind_int64(st, 1, sw);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		r = RESULT_OK;
		break;
	case SQLITE_DONE:
		r = RESULT_NOTFOUND;
		break;
	}
	db_done(st);
	return r;
}

/*
 * Inside the caller's transaction: replace the operators' metadata of a
 * device with meta, [{key, value}].  Apart from the attributes, which are
 * the device's own (configData).
 */
static enum result
device_set_metadata(struct db *db, int64_t id, json_t *meta, const char **why)
{
	static const char clear[] =
	    "DELETE FROM device_metadata WHERE device_id = ?1";
	static const char ins[] = "INSERT INTO device_metadata (device_id, "
	                          "meta_key, meta_value) VALUES (?1, ?2, ?3)";

	return meta_replace(db, id, meta, false, clear, ins, why);
}

static json_t *
device_metadata_json(struct db *db, int64_t id)
{
	static const char sql[] = "SELECT meta_key, meta_value FROM "
	                          "device_metadata WHERE device_id = ?1 "
	                          "ORDER BY meta_key";

	return meta_json(db, id, false, sql);
}

/* Apply one PATCH field inside the caller's transaction. */
static enum result
device_patch_field(
    struct db *db, int64_t id, const char *key, json_t *v, const char **why)
{
	static const char set_name[] =
	    "UPDATE device SET name = ?2 WHERE id = ?1";
	static const char set_mode[] =
	    "UPDATE device SET mode = ?2 WHERE id = ?1";
	static const char set_feed[] =
	    "UPDATE device SET feed = ?2 WHERE id = ?1";
	static const char set_sw[] =
	    "UPDATE device SET assigned_ds_id = ?2 WHERE id = ?1";
	static const char set_force[] =
	    "UPDATE device SET force_update = ?2 WHERE id = ?1";
	static const char set_down[] =
	    "UPDATE device SET allow_downgrade = ?2 WHERE id = ?1";
	static const char set_token[] =
	    "UPDATE device SET token_hash = ?2 WHERE id = ?1";
	const char *sql;
	sqlite3_stmt *st;
	enum policy_mode mode;
	char hash[65];
	const char *text = json_is_string(v) ? json_string_value(v) : NULL;

	if (strcmp(key, "name") == 0) {
		if (text && !device_name_valid(text))
			return *why = "name: at most 256 characters of UTF-8",
			       RESULT_INVALID;
		sql = set_name;
	} else if (strcmp(key, "mode") == 0) {
		if (text == NULL || policy_mode_parse(text, &mode) == -1)
			return *why = "mode: one of rollout, latest, assigned, "
			              "pinned",
			       RESULT_INVALID;
		sql = set_mode;
	} else if (strcmp(key, "feed") == 0) {
		if (text == NULL || !device_feed_valid(text))
			return *why = "feed: 1 to 64 of [A-Za-z0-9_.-]",
			       RESULT_INVALID;
		sql = set_feed;
	} else if (strcmp(key, "assigned_software_id") == 0 ||
	           strcmp(key, "assigned_distribution_id") == 0) {
		if (json_is_integer(v) &&
		    device_software_exists(db, json_integer_value(v)) !=
		        RESULT_OK)
			return *why = "assigned_software_id: no such complete "
			              "software (distribution set)",
			       RESULT_INVALID;
		sql = set_sw;
	} else if (strcmp(key, "force") == 0)
		sql = set_force;
	else if (strcmp(key, "allow_downgrade") == 0)
		sql = set_down;
	else if (strcmp(key, "token") == 0) {
		if (text && !device_token_valid(text))
			return *why = "token: 8 to 128 characters of "
			              "[A-Za-z0-9_.-~+/=]",
			       RESULT_INVALID;
		if (text)
			sha256_hex(text, hash);
		sql = set_token;
	} else if (strcmp(key, "metadata") == 0)
		return device_set_metadata(db, id, v, why);
	else
		return *why = "unknown field", RESULT_INVALID;
	if ((st = db_prepare(db, sql)) == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, id);
	if (sql == set_token)
		db_bind_text(st, 2, text ? hash : NULL);
	else if (json_is_boolean(v))
		db_bind_int64(st, 2, json_is_true(v));
	else if (json_is_integer(v))
		db_bind_int64(st, 2, json_integer_value(v));
	else
		db_bind_text(st, 2, text);
	return db_step_done(db, st, __func__);
}

enum result
device_patch(struct db *db, int64_t id, json_t *patch, const char **why)
{
	const char *key;
	json_t *v;
	enum result r = RESULT_OK;

	*why = NULL;
	if (db_begin(db) == -1)
		return RESULT_ERROR;
	json_object_foreach(patch, key, v)
	{
		if ((r = device_patch_field(db, id, key, v, why)) != RESULT_OK)
			break;
	}
	if (r != RESULT_OK) {
		db_rollback(db);
		return r;
	}
	return db_commit(db) == 0 ? RESULT_OK : RESULT_ERROR;
}

enum result
device_create(struct db *db, const char *cid, json_t *fields, int64_t *id,
    const char **why)
{
	static const char sql[] =
	    "INSERT INTO device (controller_id, created_at) VALUES (?1, ?2)";
	sqlite3_stmt *st;
	const char *key;
	json_t *v;
	enum result r;

	*why = NULL;
	if (device_cid_problem(cid) != NULL)
		return *why = "controller_id: 1 to 256 bytes of UTF-8, without "
		              "control, format or other invisible characters "
		              "and without leading or trailing spaces",
		       RESULT_INVALID;
	if (db_begin(db) == -1)
		return RESULT_ERROR;
	if ((st = db_prepare(db, sql)) == NULL) {
		r = RESULT_ERROR;
		goto fail;
	}
	db_bind_text(st, 1, cid);
	db_bind_int64(st, 2, now_s());
	if ((r = db_step_done(db, st, __func__)) != RESULT_OK) {
		if (r == RESULT_CONFLICT)
			*why = "a device with this controller id exists";
		goto fail;
	}
	*id = sqlite3_last_insert_rowid(db_handle(db));
	json_object_foreach(fields, key, v)
	{
		if (strcmp(key, "controller_id") == 0)
			continue;
		if ((r = device_patch_field(db, *id, key, v, why)) != RESULT_OK)
			goto fail;
	}
	if (db_commit(db) == -1)
		return RESULT_ERROR;
	log_info("device %s pre-registered", cid);
	return RESULT_OK;
fail:
	db_rollback(db);
	return r;
}

/* Delete device id inside the caller's transaction: out of its rollout
 * groups' counters first, then the row (its actions, attributes and
 * places in rollouts go with it). */
static enum result
device_delete_in(struct db *db, int64_t id)
{
	static const char sql[] = "DELETE FROM device WHERE id = ?1";
	sqlite3_stmt *st;
	enum result r;

	if ((r = wave_forget_device(db, id)) != RESULT_OK)
		return r;
	if ((st = db_prepare(db, sql)) == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, id);
	return db_step_changed(db, st, __func__);
}

enum result
device_delete(struct db *db, int64_t id)
{
	enum result r;

	if (db_begin(db) == -1)
		return RESULT_ERROR;
	if ((r = device_delete_in(db, id)) != RESULT_OK) {
		db_rollback(db);
		return r;
	}
	return db_commit(db) == 0 ? RESULT_OK : RESULT_ERROR;
}

enum result
device_clear_force(struct db *db, int64_t id)
{
	static const char sql[] =
	    "UPDATE device SET force_update = 0 WHERE id = ?1";
	sqlite3_stmt *st = db_prepare(db, sql);

	if (st == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, id);
	return db_step_done(db, st, __func__);
}

enum result
device_set_installed(struct db *db, int64_t id, const char *version)
{
	static const char sql[] =
	    "UPDATE device SET installed_version = ?2, request_attributes = 1 "
	    "WHERE id = ?1";
	sqlite3_stmt *st = db_prepare(db, sql);

	if (st == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, id);
	db_bind_text(st, 2, version);
	return db_step_done(db, st, __func__);
}

enum result
device_request_attributes(struct db *db, int64_t id)
{
	static const char sql[] =
	    "UPDATE device SET request_attributes = 1 WHERE id = ?1";
	sqlite3_stmt *st = db_prepare(db, sql);

	if (st == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, id);
	return db_step_done(db, st, __func__);
}

enum result
device_set_assigned(struct db *db, int64_t id, int64_t ds_id)
{
	static const char sql[] = "UPDATE device SET mode = 'assigned', "
	                          "assigned_ds_id = ?2 WHERE id = ?1";
	sqlite3_stmt *st = db_prepare(db, sql);

	if (st == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, id);
	db_bind_int64(st, 2, ds_id);
	return db_step_changed(db, st, __func__);
}

json_t *
device_match_ids(struct db *db, const struct settings *s,
    const struct device_query *q, int64_t limit)
{
	static const char sql[] =
	    "SELECT controller_id FROM (SELECT " DEVICE_COLUMNS
	    " FROM " DEVICE_SEEN_FROM ") AS d " DEVICE_WHERE
	    " ORDER BY controller_id LIMIT ?1";
	sqlite3_stmt *st = db_prepare(db, sql);
	json_t *ids;
	int rc;

	if (st == NULL)
		return NULL;
	ids = json_array();
	device_bind_query(st, s, q);
	db_bind_int64(st, 1, limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		json_array_append_new(
		    ids, json_string((const char *)sqlite3_column_text(st, 0)));
	db_done(st);
	if (rc != SQLITE_DONE) {
		log_warnx("%s: cannot list the devices", __func__);
		json_decref(ids);
		return NULL;
	}
	return ids;
}

int64_t
device_match_count(struct db *db, const struct settings *s,
    const struct device_query *q, json_t *ids)
{
	static const char sql[] =
	    "SELECT 1 FROM (SELECT " DEVICE_COLUMNS " FROM " DEVICE_SEEN_FROM
	    " WHERE device.controller_id = ?16) AS d " DEVICE_WHERE;
	sqlite3_stmt *st = db_prepare(db, sql);
	int64_t n = 0;
	json_t *v;
	size_t i;
	int rc;

	if (st == NULL)
		return -1;
	device_bind_query(st, s, q);
	json_array_foreach(ids, i, v)
	{
		sqlite3_reset(st);
		db_bind_text(st, 16, json_string_value(v));
		if ((rc = sqlite3_step(st)) == SQLITE_ROW)
			n++;
		else if (rc != SQLITE_DONE) {
			n = -1;
			break;
		}
	}
	db_done(st);
	return n;
}

enum result
device_bulk(
    struct db *db, json_t *ids, json_t *patch, int64_t *n, const char **why)
{
	enum result r;

	if (db_begin(db) == -1)
		return RESULT_ERROR;
	if ((r = device_bulk_in(db, ids, patch, n, why)) != RESULT_OK) {
		db_rollback(db);
		return r;
	}
	return db_commit(db) == 0 ? RESULT_OK : RESULT_ERROR;
}

enum result
device_bulk_in(
    struct db *db, json_t *ids, json_t *patch, int64_t *n, const char **why)
{
	static const char find[] =
	    "SELECT id FROM device WHERE controller_id = ?1";
	struct device d;
	size_t i;
	json_t *v;
	enum result r = RESULT_OK;
	const char *key;
	json_t *pv;

	*n = 0;
	*why = NULL;
	json_array_foreach(ids, i, v)
	{
		const char *cid = json_string_value(v);
		sqlite3_stmt *st;

		if (patch == NULL) {
			int64_t id;

			if ((st = db_prepare(db, find)) == NULL) {
				r = RESULT_ERROR;
				break;
			}
			db_bind_text(st, 1, cid);
			id = db_count(st);
			if (id == 0)
				continue; /* no such device: nothing to do */
			if ((r = device_delete_in(db, id)) != RESULT_OK)
				break;
			(*n)++;
			continue;
		}
		if ((r = device_load_cid(db, cid, &d)) != RESULT_OK) {
			if (r == RESULT_NOTFOUND)
				*why = "one of the ids is not a device";
			break;
		}
		json_object_foreach(patch, key, pv)
		{
			if ((r = device_patch_field(db, d.id, key, pv, why)) !=
			    RESULT_OK)
				break;
		}
		device_clear(&d);
		if (r != RESULT_OK)
			break;
		(*n)++;
	}
	return r;
}

enum result
device_target_insert(struct db *db, const struct device_target *t, int64_t *id)
{
	static const char sql[] =
	    "INSERT INTO device (controller_id, name, description, "
	    "token_hash, token_sealed, created_at, created_by, modified_at, "
	    "modified_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?6, ?7) "
	    "RETURNING id";
	sqlite3_stmt *st = db_prepare(db, sql);

	if (st == NULL)
		return RESULT_ERROR;
	db_bind_text(st, 1, t->cid);
	db_bind_text(st, 2, t->name);
	db_bind_text(st, 3, t->description);
	db_bind_text(st, 4, t->token_hash);
	db_bind_text(st, 5, t->token_sealed);
	db_bind_int64(st, 6, now_s());
	db_bind_text(st, 7, t->by);
	return db_step_id(db, st, id, __func__);
}

enum result
device_target_update(struct db *db, int64_t id, const struct device_target *t)
{
	static const char sql[] =
	    "UPDATE device SET name = CASE WHEN ?2 THEN ?3 ELSE name END, "
	    "description = CASE WHEN ?4 THEN ?5 ELSE description END, "
	    "token_hash = CASE WHEN ?6 THEN ?7 ELSE token_hash END, "
	    "token_sealed = CASE WHEN ?6 THEN ?8 ELSE token_sealed END, "
	    "request_attributes = CASE WHEN ?9 THEN 1 "
	    "ELSE request_attributes END, modified_at = ?10, "
	    "modified_by = ?11 WHERE id = ?1";
	sqlite3_stmt *st = db_prepare(db, sql);

	if (st == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, id);
	db_bind_int64(st, 2, t->set_name);
	db_bind_text(st, 3, t->name);
	db_bind_int64(st, 4, t->set_description);
	db_bind_text(st, 5, t->description);
	db_bind_int64(st, 6, t->set_token);
	db_bind_text(st, 7, t->token_hash);
	db_bind_text(st, 8, t->token_sealed);
	db_bind_int64(st, 9, t->request_attributes);
	db_bind_int64(st, 10, now_s());
	db_bind_text(st, 11, t->by);
	return db_step_changed(db, st, __func__);
}

const struct meta_table device_meta_table = {
    .count = "SELECT count(*) FROM device_metadata WHERE device_id = ?1",
    .page = "SELECT meta_key, meta_value FROM device_metadata "
            "WHERE device_id = ?1 ORDER BY meta_key LIMIT ?2 OFFSET ?3",
    .get = "SELECT meta_value FROM device_metadata WHERE device_id = ?1 "
           "AND meta_key = ?2",
    .insert = "INSERT INTO device_metadata (device_id, meta_key, "
              "meta_value) VALUES (?1, ?2, ?3)",
    .update = "UPDATE device_metadata SET meta_value = ?3 "
              "WHERE device_id = ?1 AND meta_key = ?2",
    .remove = "DELETE FROM device_metadata WHERE device_id = ?1 AND "
              "meta_key = ?2",
};
