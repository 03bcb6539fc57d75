/*
 * The action lifecycle.  Feedback moves an action scheduled -> running ->
 * succeeded | failed, or through canceling to canceled; a closed action
 * never changes again, so late or repeated feedback cannot corrupt it.
 * Every change appends to the status history; details lines go to the log.
 * Both are bounded per action, whatever the device sends: identical
 * entries fold into one with a repeat count, and past the cap the first
 * entries and the newest stay while the middle is dropped and counted.
 * The API reads them a page at a time.
 */
#include "action.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "device.h"
#include "log.h"
#include "rollout.h"
#include "wave.h"

static const char *const action_names[] = {
    [ACTION_SCHEDULED] = "scheduled",
    [ACTION_RUNNING] = "running",
    [ACTION_CANCELING] = "canceling",
    [ACTION_SUCCEEDED] = "succeeded",
    [ACTION_FAILED] = "failed",
    [ACTION_CANCELED] = "canceled",
};

int
action_feedback_parse(const char *body, size_t len, json_t **root,
    struct action_feedback *fb, const char **why)
{
	json_t *status, *result, *progress, *v;

	memset(fb, 0, sizeof(*fb));
	*root = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
	if (*root == NULL || !json_is_object(*root)) {
		*why = "the body is not a JSON object";
		return 400;
	}
	status = json_object_get(*root, "status");
	result = json_object_get(status, "result");
	fb->execution = json_string_value(json_object_get(status, "execution"));
	fb->finished = json_string_value(json_object_get(result, "finished"));
	if (!json_is_object(status) || !json_is_object(result) ||
	    fb->execution == NULL || fb->finished == NULL) {
		*why = "status.execution and status.result.finished are "
		       "required strings";
		return 400;
	}
	/* Progress is informational: clients send {cnt, of}, {percentage}
	 * or {}; only a well-formed {cnt, of} is used. */
	progress = json_object_get(result, "progress");
	if (json_is_integer(json_object_get(progress, "cnt")) &&
	    json_is_integer(json_object_get(progress, "of"))) {
		fb->has_progress = true;
		fb->cnt = json_integer_value(json_object_get(progress, "cnt"));
		fb->of = json_integer_value(json_object_get(progress, "of"));
	}
	if (json_is_integer(v = json_object_get(status, "code"))) {
		fb->has_code = true;
		fb->code = json_integer_value(v);
	}
	v = json_object_get(status, "details");
	if (json_is_array(v)) {
		if (json_array_size(v) > ACTION_DETAILS_MAX) {
			*why = "too many details in one feedback (at most 256)";
			return 429;
		}
		for (size_t i = 0; i < json_array_size(v); i++)
			if (!json_is_string(json_array_get(v, i))) {
				*why = "details must be strings";
				return 400;
			}
		fb->details = v;
	}
	return 0;
}

bool
action_is_open(enum action_status s)
{
	return s == ACTION_SCHEDULED || s == ACTION_RUNNING ||
	       s == ACTION_CANCELING;
}

const char *
action_status_str(enum action_status s)
{
	return action_names[s];
}

static enum action_status
action_status_parse(const char *s)
{
	for (size_t i = 0; i < NELEM(action_names); i++)
		if (s && strcmp(s, action_names[i]) == 0)
			return (enum action_status)i;
	return ACTION_FAILED;
}

#define ACTION_COLUMNS                                                         \
	"id, device_id, ds_id, COALESCE(rollout_id, 0), status, "              \
	"forced, retrieved_at IS NOT NULL, stale, COALESCE(progress, -1), "    \
	"superseded"

void
action_from_row(sqlite3_stmt *st, int col, struct action *a)
{
	a->id = sqlite3_column_int64(st, col);
	a->device_id = sqlite3_column_int64(st, col + 1);
	a->ds_id = sqlite3_column_int64(st, col + 2);
	a->rollout_id = sqlite3_column_int64(st, col + 3);
	a->status =
	    action_status_parse((const char *)sqlite3_column_text(st, col + 4));
	a->forced = sqlite3_column_int(st, col + 5) != 0;
	a->retrieved = sqlite3_column_int(st, col + 6) != 0;
	a->stale = sqlite3_column_int(st, col + 7) != 0;
	a->progress = sqlite3_column_int(st, col + 8);
	a->superseded = sqlite3_column_int(st, col + 9) != 0;
}

static enum result
action_read(struct db *db, sqlite3_stmt *st, struct action *a)
{
	enum result r = RESULT_ERROR;

	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		action_from_row(st, 0, a);
		r = RESULT_OK;
		break;
	case SQLITE_DONE:
		r = RESULT_NOTFOUND;
		break;
	default:
		db_log_error(db, "action_read");
	}
	db_done(st);
	return r;
}

enum result
action_newest_installed(
    struct db *db, int64_t device_id, struct action *a, int64_t *installed)
{
	static const char sql[] =
	    "SELECT " ACTION_COLUMNS ", (SELECT max(i.id) FROM action i WHERE "
	    "i.device_id = ?1 AND i.status = 'succeeded') FROM action "
	    "WHERE device_id = ?1 ORDER BY id DESC LIMIT 1";
	sqlite3_stmt *st = db_prepare(db, sql);
	enum result r = RESULT_ERROR;

	*installed = 0;
	if (st == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, device_id);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		action_from_row(st, 0, a);
		*installed = sqlite3_column_int64(st, 10);
		r = RESULT_OK;
		break;
	case SQLITE_DONE:
		r = RESULT_NOTFOUND; /* no action: nothing installed either */
		break;
	default:
		db_log_error(db, __func__);
	}
	db_done(st);
	return r;
}

enum result
action_newest(struct db *db, int64_t device_id, struct action *a)
{
	static const char sql[] =
	    "SELECT " ACTION_COLUMNS " FROM action "
	    "WHERE device_id = ?1 ORDER BY id DESC LIMIT 1";
	sqlite3_stmt *st = db_prepare(db, sql);

	if (st == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, device_id);
	return action_read(db, st, a);
}

enum result
action_load(struct db *db, int64_t id, struct action *a)
{
	static const char sql[] =
	    "SELECT " ACTION_COLUMNS " FROM action WHERE id = ?1";
	sqlite3_stmt *st = db_prepare(db, sql);

	if (st == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, id);
	return action_read(db, st, a);
}

/*
 * The two bounded tables of an action, history and log (see action.h):
 * the statements that keep one within its cap.  The action row counts
 * the rows, so a feedback never counts them: every statement here is an
 * index lookup on (action_id, id).
 */
struct action_ring {
	int64_t max, head;
	const char *added;   /* ?1 action, ?2 added; RETURNING rows, head */
	const char *head_id; /* ?1 action, ?2 offset of the last head row */
	const char *drop;    /* ?1 action, ?2 head id, ?3 how many */
	const char *dropped; /* ?1 action, ?2 how many went, ?3 head id */
};

static const struct action_ring action_history_ring = {
    ACTION_HISTORY_MAX,
    ACTION_HISTORY_HEAD,
    "UPDATE action SET history_rows = history_rows + ?2 WHERE id = ?1 "
    "RETURNING history_rows, history_head",
    "SELECT id FROM action_status WHERE action_id = ?1 ORDER BY id "
    "LIMIT 1 OFFSET ?2",
    "DELETE FROM action_status WHERE id IN (SELECT id FROM action_status "
    "WHERE action_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3)",
    "UPDATE action SET history_rows = history_rows - ?2, "
    "history_dropped = history_dropped + ?2, history_head = ?3 "
    "WHERE id = ?1",
};

static const struct action_ring action_log_ring = {
    ACTION_LOG_MAX,
    ACTION_LOG_HEAD,
    "UPDATE action SET log_rows = log_rows + ?2 WHERE id = ?1 "
    "RETURNING log_rows, log_head",
    "SELECT id FROM action_log WHERE action_id = ?1 ORDER BY id "
    "LIMIT 1 OFFSET ?2",
    "DELETE FROM action_log WHERE id IN (SELECT id FROM action_log "
    "WHERE action_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3)",
    "UPDATE action SET log_rows = log_rows - ?2, "
    "log_dropped = log_dropped + ?2, log_head = ?3 WHERE id = ?1",
};

/*
 * Count n rows just added to the ring's table for action id and, while it
 * holds more than its cap, drop the oldest rows after the head.  Runs in
 * the caller's transaction.
 */
static enum result
action_ring_added(
    struct db *db, const struct action_ring *ring, int64_t id, int64_t n)
{
	sqlite3_stmt *st;
	int64_t rows = 0, head = 0, over, gone;
	enum result r;
	int rc;

	if (n == 0)
		return RESULT_OK;
	if ((st = db_prepare(db, ring->added)) == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, id);
	db_bind_int64(st, 2, n);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		rows = sqlite3_column_int64(st, 0);
		head = sqlite3_column_int64(st, 1);
		rc = sqlite3_step(st);
	}
	db_done(st);
	if (rc != SQLITE_DONE) {
		db_log_error(db, __func__);
		return RESULT_ERROR;
	}
	if ((over = rows - ring->max) <= 0)
		return RESULT_OK;
	if (head == 0) {
		/* The first drop: the head ends here for good. */
		if ((st = db_prepare(db, ring->head_id)) == NULL)
			return RESULT_ERROR;
		db_bind_int64(st, 1, id);
		db_bind_int64(st, 2, ring->head - 1);
		if (sqlite3_step(st) == SQLITE_ROW)
			head = sqlite3_column_int64(st, 0);
		db_done(st);
		if (head == 0) {
			log_warnx("%s: action %lld counts %lld rows it does "
			          "not hold",
			    __func__, (long long)id, (long long)rows);
			return RESULT_ERROR;
		}
	}
	if ((st = db_prepare(db, ring->drop)) == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, id);
	db_bind_int64(st, 2, head);
	db_bind_int64(st, 3, over);
	if ((r = db_step_done(db, st, __func__)) != RESULT_OK)
		return r;
	gone = sqlite3_changes(db_handle(db));
	if ((st = db_prepare(db, ring->dropped)) == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, id);
	db_bind_int64(st, 2, gone);
	db_bind_int64(st, 3, head);
	return db_step_done(db, st, __func__);
}

/* Append to the history, or fold into the newest entry if the same. */
static enum result
action_history(
    struct db *db, int64_t id, const char *status, const char *message)
{
	static const char fold[] =
	    "UPDATE action_status SET repeats = repeats + 1, last_at = ?4 "
	    "WHERE id = (SELECT id FROM action_status WHERE action_id = ?1 "
	    "ORDER BY id DESC LIMIT 1) AND status = ?2 AND message IS ?3";
	static const char sql[] =
	    "INSERT INTO action_status (action_id, at, status, message) "
	    "VALUES (?1, ?2, ?3, ?4)";
	sqlite3_stmt *st = db_prepare(db, fold);
	enum result r;

	if (st == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, id);
	db_bind_text(st, 2, status);
	db_bind_text(st, 3, message);
	db_bind_int64(st, 4, now_s());
	if ((r = db_step_changed(db, st, __func__)) != RESULT_NOTFOUND)
		return r; /* folded, or an error */
	if ((st = db_prepare(db, sql)) == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, id);
	db_bind_int64(st, 2, now_s());
	db_bind_text(st, 3, status);
	db_bind_text(st, 4, message);
	if ((r = db_step_done(db, st, __func__)) != RESULT_OK)
		return r;
	return action_ring_added(db, &action_history_ring, id, 1);
}

static enum result
action_set_status(struct db *db, int64_t id, enum action_status s)
{
	static const char sql[] =
	    "UPDATE action SET status = ?2, updated_at = ?3, stale = 0, "
	    "closed_at = CASE WHEN ?2 IN ('succeeded', 'failed', 'canceled') "
	    "THEN ?3 ELSE closed_at END WHERE id = ?1";
	sqlite3_stmt *st = db_prepare(db, sql);

	if (st == NULL)
		return RESULT_ERROR;
	enum result r;

	db_bind_int64(st, 1, id);
	db_bind_text(st, 2, action_names[s]);
	db_bind_int64(st, 3, now_s());
	if ((r = db_step_done(db, st, __func__)) != RESULT_OK)
		return r;
	/* Its device's state in its rollout's group, and the counters. */
	return wave_action_changed(db, id);
}

enum result
action_create(struct db *db, int64_t device_id, int64_t ds_id,
    int64_t rollout_id, bool forced, int64_t *id)
{
	static const char sql[] =
	    "INSERT INTO action (device_id, ds_id, rollout_id, forced, "
	    "created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)";
	sqlite3_stmt *st = db_prepare(db, sql);
	enum result r;

	if (st == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, device_id);
	db_bind_int64(st, 2, ds_id);
	if (rollout_id)
		db_bind_int64(st, 3, rollout_id);
	db_bind_int64(st, 4, forced);
	db_bind_int64(st, 5, now_s());
	if ((r = db_step_done(db, st, __func__)) != RESULT_OK)
		return r;
	*id = sqlite3_last_insert_rowid(db_handle(db));
	if (rollout_id && (r = wave_action_changed(db, *id)) != RESULT_OK)
		return r;
	return action_history(db, *id, "scheduled",
	    forced ? "Update offered (forced by the operator)"
	           : "Update offered");
}

enum result
action_supersede(struct db *db, int64_t id, const char *why)
{
	static const char sql[] =
	    "UPDATE action SET superseded = 1 WHERE id = ?1";
	sqlite3_stmt *st;
	enum result r;

	if ((r = action_set_status(db, id, ACTION_CANCELED)) != RESULT_OK)
		return r;
	if ((st = db_prepare(db, sql)) == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, id);
	if ((r = db_step_done(db, st, __func__)) != RESULT_OK)
		return r;
	return action_history(db, id, "canceled", why);
}

enum result
action_mark_retrieved(struct db *db, int64_t id)
{
	static const char sql[] = "UPDATE action SET retrieved_at = ?2 "
	                          "WHERE id = ?1 AND retrieved_at IS NULL";
	sqlite3_stmt *st;
	enum result r;

	/* One transaction: the history row and the counts it moves. */
	if (db_begin(db) == -1)
		return RESULT_ERROR;
	if ((st = db_prepare(db, sql)) == NULL) {
		r = RESULT_ERROR;
		goto fail;
	}
	db_bind_int64(st, 1, id);
	db_bind_int64(st, 2, now_s());
	if ((r = db_step_done(db, st, __func__)) != RESULT_OK)
		goto fail;
	if (sqlite3_changes(db_handle(db)) > 0 &&
	    (r = action_history(db, id, "retrieved",
	         "Device retrieved the deployment")) != RESULT_OK)
		goto fail;
	return db_commit(db) == 0 ? RESULT_OK : RESULT_ERROR;
fail:
	db_rollback(db);
	return r;
}

/* "Downloaded 42%" in SWUpdate's log lines; the last one wins. */
static int
action_progress_from_details(json_t *details)
{
	size_t i;
	json_t *v;
	int pct = -1;

	json_array_foreach(details, i, v)
	{
		const char *s = json_string_value(v), *p;

		while (s && (p = strstr(s, "Downloaded ")) != NULL) {
			char *end;
			long n = strtol(p + 11, &end, 10);

			if (end != p + 11 && *end == '%' && n >= 0 && n <= 100)
				pct = (int)n;
			s = p + 11;
		}
	}
	return pct;
}

/* Append details lines to the log; a line the same as the newest one is
 * folded into it. */
static enum result
action_append_log(struct db *db, int64_t id, json_t *details)
{
	static const char fold[] =
	    "UPDATE action_log SET repeats = repeats + 1, last_at = ?3 "
	    "WHERE id = (SELECT id FROM action_log WHERE action_id = ?1 "
	    "ORDER BY id DESC LIMIT 1) AND line = ?2";
	static const char sql[] =
	    "INSERT INTO action_log (action_id, at, line) VALUES (?1, ?2, ?3)";
	sqlite3_stmt *st;
	int64_t added = 0;
	size_t i;
	json_t *v;
	enum result r;

	json_array_foreach(details, i, v)
	{
		const char *line = json_string_value(v);
		char *cut;

		if (line == NULL || *line == '\0')
			continue;
		cut = xstrndup(line, utf8_cut(line, ACTION_LINE_MAX));
		if ((st = db_prepare(db, fold)) == NULL) {
			free(cut);
			return RESULT_ERROR;
		}
		db_bind_int64(st, 1, id);
		db_bind_text(st, 2, cut);
		db_bind_int64(st, 3, now_s());
		r = db_step_changed(db, st, __func__);
		if (r == RESULT_NOTFOUND) {
			if ((st = db_prepare(db, sql)) == NULL) {
				free(cut);
				return RESULT_ERROR;
			}
			db_bind_int64(st, 1, id);
			db_bind_int64(st, 2, now_s());
			db_bind_text(st, 3, cut);
			r = db_step_done(db, st, __func__);
			added++;
		}
		free(cut);
		if (r != RESULT_OK)
			return r;
	}
	return action_ring_added(db, &action_log_ring, id, added);
}

static enum result
action_set_progress(
    struct db *db, int64_t id, int pct, bool has_code, int64_t code)
{
	static const char sql[] =
	    "UPDATE action SET progress = CASE WHEN ?2 >= 0 THEN ?2 "
	    "ELSE progress END, result_code = CASE WHEN ?3 THEN ?4 "
	    "ELSE result_code END, updated_at = ?5, stale = 0 WHERE id = ?1";
	sqlite3_stmt *st = db_prepare(db, sql);

	if (st == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, id);
	db_bind_int64(st, 2, pct);
	db_bind_int64(st, 3, has_code);
	db_bind_int64(st, 4, code);
	db_bind_int64(st, 5, now_s());
	return db_step_done(db, st, __func__);
}

static enum result
action_software_version(struct db *db, int64_t id, char **version)
{
	static const char sql[] =
	    "SELECT s.version FROM action a JOIN distribution_set s "
	    "ON s.id = a.ds_id WHERE a.id = ?1";
	sqlite3_stmt *st = db_prepare(db, sql);
	enum result r = RESULT_NOTFOUND;

	*version = NULL;
	if (st == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		*version = db_column_strdup(st, 0);
		r = RESULT_OK;
	}
	db_done(st);
	return r;
}

/* The status the feedback leads to, given the current one. */
static enum action_status
action_next(
    const struct action *a, const struct action_feedback *fb, bool cancel)
{
	bool closed = strcmp(fb->execution, "closed") == 0;
	bool failure = strcmp(fb->finished, "failure") == 0;

	if (cancel) {
		/* hawkBit: closed+success|none ends the cancel;
		 * rejected or closed+failure resumes the action. */
		if (closed && !failure)
			return ACTION_CANCELED;
		if (strcmp(fb->execution, "rejected") == 0 || closed)
			return ACTION_RUNNING;
		return a->status;
	}
	if (closed)
		return failure ? ACTION_FAILED : ACTION_SUCCEEDED;
	if (a->status == ACTION_SCHEDULED &&
	    strcmp(fb->execution, "rejected") != 0 &&
	    strcmp(fb->execution, "canceled") != 0)
		return ACTION_RUNNING;
	return a->status;
}

static bool
action_enum_ok(const char *v, const char *const *names)
{
	for (; *names; names++)
		if (strcmp(v, *names) == 0)
			return true;
	return false;
}

enum result
action_apply_feedback(struct db *db, int64_t id, int64_t device_id,
    const struct action_feedback *fb, bool cancel)
{
	static const char *const executions[] = {"closed", "proceeding",
	    "canceled", "scheduled", "rejected", "resumed", "downloaded",
	    "download", NULL};
	static const char *const finishes[] = {
	    "success", "failure", "none", NULL};
	struct action a;
	enum action_status next;
	enum result r;
	char msg[ACTION_MESSAGE_MAX + 1], code[32] = "", *version = NULL;
	const char *last = NULL;
	size_t head;
	int pct;

	if (!action_enum_ok(fb->execution, executions) ||
	    !action_enum_ok(fb->finished, finishes))
		return RESULT_INVALID;
	if (db_begin(db) == -1)
		return RESULT_ERROR;
	if ((r = action_load(db, id, &a)) != RESULT_OK)
		goto fail;
	if (a.device_id != device_id) {
		r = RESULT_NOTFOUND;
		goto fail;
	}
	if (!action_is_open(a.status)) {
		r = RESULT_GONE;
		goto fail;
	}
	if (cancel && a.status != ACTION_CANCELING) {
		r = RESULT_CONFLICT;
		goto fail;
	}
	next = action_next(&a, fb, cancel);
	pct = action_progress_from_details(fb->details);
	if (pct < 0 && fb->has_progress && fb->of > 0 && fb->cnt >= 0 &&
	    fb->cnt <= fb->of)
		pct = (int)(fb->cnt * 100 / fb->of);
	if (next == ACTION_SUCCEEDED)
		pct = 100;
	if ((r = action_append_log(db, id, fb->details)) != RESULT_OK ||
	    (r = action_set_progress(db, id, pct, fb->has_code, fb->code)) !=
	        RESULT_OK)
		goto fail;
	if (json_array_size(fb->details))
		last = json_string_value(json_array_get(
		    fb->details, json_array_size(fb->details) - 1));
	if (fb->has_code)
		snprintf(
		    code, sizeof(code), " (code %lld)", (long long)fb->code);
	/* The last detail is cut to fit, on a character boundary (jansson
	 * refuses half a character, and the row would vanish from the
	 * history); the words before it are short, the code is kept. */
	head = (size_t)snprintf(msg, sizeof(msg), "%s%s/%s%s",
	    cancel ? "cancel " : "", fb->execution, fb->finished,
	    last ? ": " : "");
	snprintf(msg + head, sizeof(msg) - head, "%.*s%s",
	    (int)utf8_cut(
	        last ? last : "", sizeof(msg) - 1 - head - strlen(code)),
	    last ? last : "", code);
	if ((r = action_history(db, id, fb->execution, msg)) != RESULT_OK)
		goto fail;
	if (next != a.status) {
		if ((r = action_set_status(db, id, next)) != RESULT_OK ||
		    (r = action_history(db, id, action_names[next], NULL)) !=
		        RESULT_OK)
			goto fail;
	}
	if (next == ACTION_SUCCEEDED) {
		if ((r = action_software_version(db, id, &version)) !=
		        RESULT_OK ||
		    (r = device_set_installed(db, device_id, version)) !=
		        RESULT_OK)
			goto fail;
	}
	if (next == ACTION_FAILED && a.rollout_id &&
	    (r = rollout_check_failures(db, a.rollout_id)) != RESULT_OK)
		goto fail;
	free(version);
	if (db_commit(db) == -1)
		return RESULT_ERROR;
	if (next == ACTION_FAILED && a.rollout_id)
		rollout_catalog_changed(); /* it may have paused */
	return RESULT_OK;
fail:
	free(version);
	db_rollback(db);
	return r;
}

enum result
action_cancel(struct db *db, int64_t id)
{
	struct action a;
	enum action_status next;
	enum result r;

	if (db_begin(db) == -1)
		return RESULT_ERROR;
	if ((r = action_load(db, id, &a)) != RESULT_OK)
		goto fail;
	if (!action_is_open(a.status)) {
		r = RESULT_CONFLICT;
		goto fail;
	}
	if (a.status == ACTION_CANCELING) {
		db_rollback(db);
		return RESULT_OK;
	}
	/* A device that never fetched the deployment has nothing to stop. */
	next = a.status == ACTION_SCHEDULED && !a.retrieved ? ACTION_CANCELED
	                                                    : ACTION_CANCELING;
	if ((r = action_set_status(db, id, next)) != RESULT_OK ||
	    (r = action_history(db, id, action_names[next],
	         "Canceled by the operator")) != RESULT_OK)
		goto fail;
	return db_commit(db) == 0 ? RESULT_OK : RESULT_ERROR;
fail:
	db_rollback(db);
	return r;
}

int64_t
action_count_running(struct db *db, int64_t rollout_id)
{
	static const char all[] =
	    "SELECT count(*) FROM action WHERE status IN ('scheduled', "
	    "'running', 'canceling') AND stale = 0";
	static const char one[] =
	    "SELECT count(*) FROM action WHERE status IN ('scheduled', "
	    "'running', 'canceling') AND stale = 0 AND rollout_id = ?1";
	sqlite3_stmt *st = db_prepare(db, rollout_id ? one : all);
	int64_t n = -1;

	if (st == NULL)
		return -1;
	if (rollout_id)
		db_bind_int64(st, 1, rollout_id);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	else
		db_log_error(db, __func__);
	db_done(st);
	return n;
}

/* One history entry or log line of a page (the columns of the page
 * queries below). */
static json_t *
action_entry_json(sqlite3_stmt *st, enum action_page which)
{
	/* Lossy: a row stored before strings were cut on character
	 * boundaries is shown, not dropped. */
	char *text = utf8_lossy((const char *)sqlite3_column_text(
	    st, 4 + (which == ACTION_PAGE_HISTORY)));
	json_t *o = json_pack("{s:I, s:I, s:I, s:I}", "id",
	    (json_int_t)sqlite3_column_int64(st, 0), "at",
	    (json_int_t)sqlite3_column_int64(st, 1), "last_at",
	    (json_int_t)sqlite3_column_int64(st, 2), "repeats",
	    (json_int_t)sqlite3_column_int64(st, 3));

	if (o == NULL) {
		free(text);
		return NULL;
	}
	if (which == ACTION_PAGE_HISTORY) {
		json_object_set_new(o, "status",
		    json_string((const char *)sqlite3_column_text(st, 4)));
		json_object_set_new(
		    o, "message", text ? json_string(text) : json_null());
	} else
		json_object_set_new(o, "line", json_string(text ? text : ""));
	free(text);
	return o;
}

/* The row counts of an action: rows, dropped and head of its history
 * (c[0..2]) and of its log (c[3..5]). */
static enum result
action_counts(struct db *db, int64_t id, int64_t c[6])
{
	static const char sql[] =
	    "SELECT history_rows, history_dropped, history_head, log_rows, "
	    "log_dropped, log_head FROM action WHERE id = ?1";
	sqlite3_stmt *st = db_prepare(db, sql);
	enum result r = RESULT_NOTFOUND;

	if (st == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		for (int i = 0; i < 6; i++)
			c[i] = sqlite3_column_int64(st, i);
		r = RESULT_OK;
	}
	db_done(st);
	return r;
}

/*
 * The entries of a page, oldest first, into *entries; *next_before gets
 * the cursor of the page before it, or 0 at the first entry.  One row
 * more than the page is read to know whether there is one.
 */
static enum result
action_page_entries(struct db *db, int64_t id, enum action_page which,
    int64_t limit, int64_t before, json_t **entries, int64_t *next_before)
{
	static const char history[] =
	    "SELECT id, at, COALESCE(last_at, at), repeats, status, message "
	    "FROM action_status WHERE action_id = ?1 AND id < ?2 "
	    "ORDER BY id DESC LIMIT ?3";
	static const char log[] =
	    "SELECT id, at, COALESCE(last_at, at), repeats, line "
	    "FROM action_log WHERE action_id = ?1 AND id < ?2 "
	    "ORDER BY id DESC LIMIT ?3";
	sqlite3_stmt *st =
	    db_prepare(db, which == ACTION_PAGE_HISTORY ? history : log);
	int64_t n = 0, oldest = 0;
	int rc;

	*entries = json_array();
	*next_before = 0;
	if (st == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, id);
	db_bind_int64(st, 2, before > 0 ? before : INT64_MAX);
	db_bind_int64(st, 3, limit + 1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *e;

		if (n++ == limit) {
			*next_before = oldest; /* there is an older entry */
			rc = SQLITE_DONE;
			break;
		}
		oldest = sqlite3_column_int64(st, 0);
		if ((e = action_entry_json(st, which)) != NULL)
			json_array_insert_new(*entries, 0, e);
	}
	db_done(st);
	if (rc != SQLITE_DONE) {
		db_log_error(db, __func__);
		return RESULT_ERROR;
	}
	return RESULT_OK;
}

json_t *
action_page_json(struct db *db, int64_t id, enum action_page which,
    int64_t limit, int64_t before)
{
	int64_t c[6], *k, next;
	json_t *entries, *o;

	if (action_counts(db, id, c) != RESULT_OK)
		return NULL;
	if (action_page_entries(
	        db, id, which, limit, before, &entries, &next) != RESULT_OK) {
		json_decref(entries);
		return NULL;
	}
	k = which == ACTION_PAGE_HISTORY ? c : c + 3;
	o = json_pack("{s:o, s:I, s:I, s:o, s:I, s:o}",
	    which == ACTION_PAGE_HISTORY ? "history" : "log", entries, "count",
	    (json_int_t)k[0], "dropped", (json_int_t)k[1], "dropped_after",
	    k[1] > 0 ? json_integer(k[2]) : json_null(), "limit",
	    (json_int_t)limit, "next_before",
	    next ? json_integer(next) : json_null());
	return o;
}

json_t *
action_messages_json(struct db *db, int64_t id, int64_t n)
{
	static const char sql[] =
	    "SELECT status, message, repeats FROM action_status "
	    "WHERE action_id = ?1 ORDER BY id DESC LIMIT ?2";
	sqlite3_stmt *st = db_prepare(db, sql);
	json_t *msgs = json_array();

	if (st == NULL)
		return msgs;
	db_bind_int64(st, 1, id);
	db_bind_int64(st, 2, n);
	while ((int64_t)json_array_size(msgs) < n &&
	       sqlite3_step(st) == SQLITE_ROW) {
		/* Lossy: an old row with a split character is sent, not
		 * dropped. */
		char *m = utf8_lossy((const char *)sqlite3_column_text(st, 1));
		const char *text =
		    m ? m : (const char *)sqlite3_column_text(st, 0);

		for (int64_t k = sqlite3_column_int64(st, 2);
		     k > 0 && (int64_t)json_array_size(msgs) < n; k--)
			json_array_append_new(msgs, json_string(text));
		free(m);
	}
	db_done(st);
	return msgs;
}

static json_t *
json_opt_int(sqlite3_stmt *st, int col)
{
	return sqlite3_column_type(st, col) == SQLITE_NULL
	           ? json_null()
	           : json_integer(sqlite3_column_int64(st, col));
}

/* Column col as a JSON string shown lossily, or null. */
static json_t *
json_opt_text(sqlite3_stmt *st, int col)
{
	char *s = utf8_lossy((const char *)sqlite3_column_text(st, col));
	json_t *v = s ? json_string(s) : json_null();

	free(s);
	return v;
}

/* The newest page of one of the action's lists into o, as "history" or
 * "log" with its cursor "history_next_before" or "log_next_before". */
static void
action_embed_page(struct db *db, json_t *o, int64_t id, enum action_page which)
{
	json_t *entries;
	int64_t next;
	const char *name = which == ACTION_PAGE_HISTORY ? "history" : "log";
	char key[32];

	action_page_entries(
	    db, id, which, ACTION_PAGE_DEFAULT, 0, &entries, &next);
	json_object_set_new(o, name, entries);
	snprintf(key, sizeof(key), "%s_next_before", name);
	json_object_set_new(o, key, next ? json_integer(next) : json_null());
}

json_t *
action_to_json(struct db *db, int64_t id, bool with_history)
{
	static const char sql[] =
	    "SELECT a.id, d.controller_id, a.status, a.ds_id, "
	    "s.version, a.rollout_id, a.forced, a.progress, a.result_code, "
	    "a.stale, a.created_at, a.updated_at, a.closed_at, (SELECT "
	    "f.filename FROM ds_module x JOIN artifact f ON f.module_id = "
	    "x.module_id WHERE x.ds_id = s.id ORDER BY f.id LIMIT 1), s.name, "
	    "a.history_rows, a.history_dropped, a.history_head, a.log_rows, "
	    "a.log_dropped, a.log_head, (SELECT h.message FROM action_status h "
	    "WHERE h.action_id = a.id AND h.message IS NOT NULL "
	    "ORDER BY h.id DESC LIMIT 1), (SELECT l.line FROM action_log l "
	    "WHERE l.action_id = a.id ORDER BY l.id DESC LIMIT 1) "
	    "FROM action a JOIN device d ON d.id = a.device_id "
	    "JOIN distribution_set s ON s.id = a.ds_id WHERE a.id = ?1";
	sqlite3_stmt *st = db_prepare(db, sql);
	json_t *o = NULL;

	if (st == NULL)
		return NULL;
	db_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW)
		o = json_pack("{s:I, s:s, s:s, s:I, s:I, s:s, s:s, s:o, s:b, "
		              "s:o, s:o, s:b, s:I, s:I, s:o, s:s?}",
		    "id", (json_int_t)sqlite3_column_int64(st, 0), "device",
		    (const char *)sqlite3_column_text(st, 1), "status",
		    (const char *)sqlite3_column_text(st, 2), "software_id",
		    (json_int_t)sqlite3_column_int64(st, 3), "distribution_id",
		    (json_int_t)sqlite3_column_int64(st, 3), "name",
		    (const char *)sqlite3_column_text(st, 14), "version",
		    (const char *)sqlite3_column_text(st, 4), "rollout_id",
		    json_opt_int(st, 5), "forced", sqlite3_column_int(st, 6),
		    "progress", json_opt_int(st, 7), "result_code",
		    json_opt_int(st, 8), "stale", sqlite3_column_int(st, 9),
		    "created_at", (json_int_t)sqlite3_column_int64(st, 10),
		    "updated_at", (json_int_t)sqlite3_column_int64(st, 11),
		    "closed_at", json_opt_int(st, 12), "filename",
		    (const char *)sqlite3_column_text(st, 13));
	if (o) {
		/* The summary: what the history and log hold, what they
		 * dropped after which entry, the newest message and line. */
		json_object_update_missing_new(o,
		    json_pack("{s:I, s:I, s:o, s:I, s:I, s:o, s:o, s:o}",
		        "history_count",
		        (json_int_t)sqlite3_column_int64(st, 15),
		        "history_dropped",
		        (json_int_t)sqlite3_column_int64(st, 16),
		        "history_dropped_after",
		        sqlite3_column_int64(st, 16) > 0 ? json_opt_int(st, 17)
		                                         : json_null(),
		        "log_count", (json_int_t)sqlite3_column_int64(st, 18),
		        "log_dropped", (json_int_t)sqlite3_column_int64(st, 19),
		        "log_dropped_after",
		        sqlite3_column_int64(st, 19) > 0 ? json_opt_int(st, 20)
		                                         : json_null(),
		        "last_message", json_opt_text(st, 21), "last_line",
		        json_opt_text(st, 22)));
	}
	db_done(st);
	if (o && with_history) {
		action_embed_page(db, o, id, ACTION_PAGE_HISTORY);
		action_embed_page(db, o, id, ACTION_PAGE_LOG);
	}
	return o;
}

json_t *
action_latest_json(struct db *db, int64_t device_id)
{
	struct action a;

	if (action_newest(db, device_id, &a) != RESULT_OK)
		return NULL;
	return action_to_json(db, a.id, false);
}

json_t *
action_list_json(struct db *db, int64_t device_id)
{
	static const char sql[] =
	    "SELECT id FROM action WHERE device_id = ?1 ORDER BY id DESC "
	    "LIMIT 100";
	sqlite3_stmt *st = db_prepare(db, sql);
	json_t *list = json_array();
	int64_t *ids;
	size_t n;

	if (st == NULL)
		return list;
	db_bind_int64(st, 1, device_id);
	ids = db_collect_ids(st, &n);
	/* Summaries: the entries are read page by page, per action. */
	for (size_t i = 0; i < n; i++) {
		json_t *a = action_to_json(db, ids[i], false);

		if (a)
			json_array_append_new(list, a);
	}
	free(ids);
	return list;
}

json_t *
action_daily_json(struct db *db, int days)
{
	static const char sql[] =
	    "SELECT date(closed_at, 'unixepoch') AS day, "
	    "sum(status = 'succeeded'), sum(status = 'failed') FROM action "
	    "WHERE closed_at >= ?1 AND status IN ('succeeded', 'failed') "
	    "GROUP BY day ORDER BY day";
	sqlite3_stmt *st = db_prepare(db, sql);
	json_t *list = json_array(), *found = json_object();
	int64_t start = (now_s() / 86400 - days + 1) * 86400;
	char day[16];

	if (st != NULL) {
		db_bind_int64(st, 1, start);
		while (sqlite3_step(st) == SQLITE_ROW)
			json_object_set_new(found,
			    (const char *)sqlite3_column_text(st, 0),
			    json_pack("{s:I, s:I}", "succeeded",
			        (json_int_t)sqlite3_column_int64(st, 1),
			        "failed",
			        (json_int_t)sqlite3_column_int64(st, 2)));
		db_done(st);
	}
	/* Every day of the range, zero where nothing finished. */
	for (int i = 0; i < days; i++) {
		time_t t = (time_t)(start + (int64_t)i * 86400);
		struct tm tm;
		json_t *d;

		gmtime_r(&t, &tm);
		strftime(day, sizeof(day), "%Y-%m-%d", &tm);
		d = json_object_get(found, day);
		json_array_append_new(list,
		    json_pack("{s:s, s:I, s:I}", "day", day, "succeeded",
		        json_integer_value(json_object_get(d, "succeeded")),
		        "failed",
		        json_integer_value(json_object_get(d, "failed"))));
	}
	json_decref(found);
	return list;
}

json_t *
action_status_counts_json(struct db *db)
{
	static const char sql[] =
	    "SELECT status, count(*) FROM action GROUP BY status";
	sqlite3_stmt *st = db_prepare(db, sql);
	json_t *o = json_object();

	for (size_t i = 0; i < NELEM(action_names); i++)
		json_object_set_new(o, action_names[i], json_integer(0));
	if (st == NULL)
		return o;
	while (sqlite3_step(st) == SQLITE_ROW)
		json_object_set_new(o, (const char *)sqlite3_column_text(st, 0),
		    json_integer(sqlite3_column_int64(st, 1)));
	db_done(st);
	return o;
}
