/*
 * The action lifecycle.  Feedback moves an action scheduled -> running ->
 * succeeded | failed, or through canceling to canceled; a closed action
 * never changes again, so late or repeated feedback cannot corrupt it.
 * Every change appends to the status history; details lines go to the log.
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

static enum result
action_history(
    struct db *db, int64_t id, const char *status, const char *message)
{
	static const char sql[] =
	    "INSERT INTO action_status (action_id, at, status, message) "
	    "VALUES (?1, ?2, ?3, ?4)";
	sqlite3_stmt *st = db_prepare(db, sql);

	if (st == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, id);
	db_bind_int64(st, 2, now_s());
	db_bind_text(st, 3, status);
	db_bind_text(st, 4, message);
	return db_step_done(db, st, __func__);
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
	db_bind_int64(st, 1, id);
	db_bind_text(st, 2, action_names[s]);
	db_bind_int64(st, 3, now_s());
	return db_step_done(db, st, __func__);
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
	sqlite3_stmt *st = db_prepare(db, sql);
	enum result r;

	if (st == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, id);
	db_bind_int64(st, 2, now_s());
	if ((r = db_step_done(db, st, __func__)) != RESULT_OK)
		return r;
	if (sqlite3_changes(db_handle(db)) > 0)
		return action_history(
		    db, id, "retrieved", "Device retrieved the deployment");
	return RESULT_OK;
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

static enum result
action_append_log(struct db *db, int64_t id, json_t *details)
{
	static const char count[] =
	    "SELECT count(*) FROM action_log WHERE action_id = ?1";
	static const char sql[] =
	    "INSERT INTO action_log (action_id, at, line) VALUES (?1, ?2, ?3)";
	sqlite3_stmt *st;
	int64_t have = 0;
	size_t i;
	json_t *v;
	enum result r;

	if (json_array_size(details) == 0)
		return RESULT_OK;
	if ((st = db_prepare(db, count)) == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW)
		have = sqlite3_column_int64(st, 0);
	db_done(st);
	json_array_foreach(details, i, v)
	{
		const char *line = json_string_value(v);
		char *cut;

		if (line == NULL || *line == '\0')
			continue;
		if (have++ >= ACTION_LOG_MAX)
			break; /* the log keeps its first lines */
		if ((st = db_prepare(db, sql)) == NULL)
			return RESULT_ERROR;
		cut = xstrndup(line, utf8_cut(line, ACTION_LINE_MAX));
		db_bind_int64(st, 1, id);
		db_bind_int64(st, 2, now_s());
		db_bind_text(st, 3, cut);
		free(cut);
		if ((r = db_step_done(db, st, __func__)) != RESULT_OK)
			return r;
	}
	return RESULT_OK;
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

static json_t *
action_history_json(struct db *db, int64_t id)
{
	static const char sql[] =
	    "SELECT at, status, message FROM action_status "
	    "WHERE action_id = ?1 ORDER BY id";
	sqlite3_stmt *st = db_prepare(db, sql);
	json_t *a = json_array();

	if (st == NULL)
		return a;
	db_bind_int64(st, 1, id);
	while (sqlite3_step(st) == SQLITE_ROW) {
		/* Lossy: a row stored before messages were cut on character
		 * boundaries is shown, not dropped. */
		char *m = utf8_lossy((const char *)sqlite3_column_text(st, 2));

		json_array_append_new(
		    a, json_pack("{s:I, s:s, s:s?}", "at",
		           (json_int_t)sqlite3_column_int64(st, 0), "status",
		           (const char *)sqlite3_column_text(st, 1), "message",
		           m));
		free(m);
	}
	db_done(st);
	return a;
}

static json_t *
action_log_json(struct db *db, int64_t id)
{
	static const char sql[] =
	    "SELECT at, line FROM action_log WHERE action_id = ?1 ORDER BY id";
	sqlite3_stmt *st = db_prepare(db, sql);
	json_t *a = json_array();

	if (st == NULL)
		return a;
	db_bind_int64(st, 1, id);
	while (sqlite3_step(st) == SQLITE_ROW) {
		char *line =
		    utf8_lossy((const char *)sqlite3_column_text(st, 1));

		json_array_append_new(
		    a, json_pack("{s:I, s:s}", "at",
		           (json_int_t)sqlite3_column_int64(st, 0), "line",
		           line ? line : ""));
		free(line);
	}
	db_done(st);
	return a;
}

static json_t *
json_opt_int(sqlite3_stmt *st, int col)
{
	return sqlite3_column_type(st, col) == SQLITE_NULL
	           ? json_null()
	           : json_integer(sqlite3_column_int64(st, col));
}

json_t *
action_to_json(struct db *db, int64_t id, bool with_history)
{
	static const char sql[] =
	    "SELECT a.id, d.controller_id, a.status, a.ds_id, "
	    "s.version, a.rollout_id, a.forced, a.progress, a.result_code, "
	    "a.stale, a.created_at, a.updated_at, a.closed_at, (SELECT "
	    "f.filename FROM ds_module x JOIN artifact f ON f.module_id = "
	    "x.module_id WHERE x.ds_id = s.id ORDER BY f.id LIMIT 1), s.name "
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
	db_done(st);
	if (o && with_history) {
		json_object_set_new(o, "history", action_history_json(db, id));
		json_object_set_new(o, "log", action_log_json(db, id));
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
	for (size_t i = 0; i < n; i++) {
		json_t *a = action_to_json(db, ids[i], true);

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
