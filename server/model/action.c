/*
 * The action lifecycle.  Feedback moves an action scheduled -> running ->
 * succeeded | failed, or through canceling to canceled; a closed action
 * never changes again, so late or repeated feedback cannot corrupt it.
 * Every change appends to the status history; details lines go to the log.
 * Both are bounded per action, whatever the device sends: identical
 * entries fold into one with a repeat count, and past the cap the first
 * entries and the newest stay while the middle is dropped and counted.
 * The API reads them a page at a time.
 *
 * Assignments follow hawkBit: an action has a type (forced, soft,
 * downloadonly, timeforced) and may have a maintenance window; an
 * operator's assignment supersedes the device's other open actions and
 * is never withdrawn by the poll's policy.  History entries carry
 * hawkBit's status type and the device's messages of one feedback, so
 * /rest/v1 shows them as hawkBit does.
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
    [ACTION_DOWNLOADED] = "downloaded",
};

static const char *const action_type_names[] = {
    [ACTION_TYPE_FORCED] = "forced",
    [ACTION_TYPE_SOFT] = "soft",
    [ACTION_TYPE_DOWNLOADONLY] = "downloadonly",
    [ACTION_TYPE_TIMEFORCED] = "timeforced",
};

#define ACTION_TEXT_RETRIEVED                                                  \
	"Update Server: Target retrieved update action and should start now "  \
	"the download."
#define ACTION_TEXT_FORCE_QUIT "Update Server: A force quit has been performed."
#define ACTION_TEXT_CANCEL "Update Server: manual cancelation requested"
#define ACTION_TEXT_OBSOLETE                                                   \
	"Update Server: cancel obsolete action due to new update"

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

const char *
action_type_str(enum action_type t)
{
	return action_type_names[t];
}

int
action_type_parse(const char *s, enum action_type *t)
{
	for (size_t i = 0; i < NELEM(action_type_names); i++)
		if (s && strcmp(s, action_type_names[i]) == 0) {
			*t = (enum action_type)i;
			return 0;
		}
	return -1;
}

/*
 * Falconet's statuses in hawkBit's words (Action.Status lowercased):
 *
 *   scheduled, running, never retrieved  running   (hawkBit's assignment
 *                                                  starts running)
 *   scheduled, running, retrieved        retrieved
 *   canceling                            canceling
 *   succeeded                            finished
 *   failed                               error
 *   canceled                             canceled
 *   downloaded                           downloaded
 *
 * Intermediate feedback leaves the word alone, as in hawkBit.
 */
const char *
action_hawkbit_status(const struct action *a)
{
	switch (a->status) {
	case ACTION_SCHEDULED:
	case ACTION_RUNNING:
		return a->retrieved ? "retrieved" : "running";
	case ACTION_CANCELING:
		return "canceling";
	case ACTION_SUCCEEDED:
		return "finished";
	case ACTION_FAILED:
		return "error";
	case ACTION_CANCELED:
		return "canceled";
	case ACTION_DOWNLOADED:
		return "downloaded";
	}
	return "error";
}

const char *
action_hawkbit_type(const struct action *a)
{
	return a->status == ACTION_CANCELING || a->status == ACTION_CANCELED
	           ? "cancel"
	           : "update";
}

/* Parse a window's parts; -1 with *why (a thread's buffer) if bad. */
static int
action_window_parse(const char *schedule, const char *duration,
    const char *timezone, struct mwindow *w, const char **why)
{
	static __thread char detail[160];

	if (mwindow_parse(
	        schedule, duration, timezone, w, detail, sizeof(detail)) == 0)
		return 0;
	*why = detail;
	return -1;
}

int
action_assign_check(const struct action_assign *as, int64_t now,
    const char **why, bool *schedule_bad)
{
	struct mwindow w;

	*schedule_bad = false;
	if (as->type == ACTION_TYPE_TIMEFORCED && as->force_time <= 0) {
		*why = "a timeforced assignment needs forcetime (ms)";
		return -1;
	}
	if (as->schedule == NULL && as->duration == NULL &&
	    as->timezone == NULL)
		return 0;
	*schedule_bad = true;
	if (action_window_parse(
	        as->schedule, as->duration, as->timezone, &w, why) == -1)
		return -1;
	if (mwindow_state(&w, now, NULL) == MWINDOW_NEVER) {
		*why = "the maintenance window never opens again";
		return -1;
	}
	return 0;
}

bool
action_is_forced_now(const struct action *a, int64_t now_ms)
{
	return a->type == ACTION_TYPE_FORCED ||
	       (a->type == ACTION_TYPE_TIMEFORCED && now_ms >= a->force_time);
}

enum mwindow_state
action_window_state(const struct action *a, int64_t now, int64_t *start)
{
	struct mwindow w;
	const char *why;

	if (start)
		*start = -1;
	if (a->window.schedule[0] == '\0')
		return MWINDOW_OPEN;
	if (action_window_parse(a->window.schedule, a->window.duration,
	        a->window.timezone, &w, &why) == -1) {
		/* Checked when assigned: only a changed grammar gets here. */
		log_warnx("action %lld: window: %s", (long long)a->id, why);
		return MWINDOW_NEVER;
	}
	return mwindow_state(&w, now, start);
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
	"superseded, type, COALESCE(force_time, 0), explicit, mw_schedule, "   \
	"mw_duration, mw_timezone, update_offered"

static void
action_copy_column(sqlite3_stmt *st, int col, char *buf, size_t len)
{
	const char *v = (const char *)sqlite3_column_text(st, col);

	snprintf(buf, len, "%s", v ? v : "");
}

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
	if (action_type_parse((const char *)sqlite3_column_text(st, col + 10),
	        &a->type) == -1)
		a->type = ACTION_TYPE_FORCED;
	a->force_time = sqlite3_column_int64(st, col + 11);
	a->explicit = sqlite3_column_int(st, col + 12) != 0;
	action_copy_column(
	    st, col + 13, a->window.schedule, sizeof(a->window.schedule));
	action_copy_column(
	    st, col + 14, a->window.duration, sizeof(a->window.duration));
	action_copy_column(
	    st, col + 15, a->window.timezone, sizeof(a->window.timezone));
	a->update_offered = sqlite3_column_int(st, col + 16) != 0;
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
		*installed = sqlite3_column_int64(st, ACTION_NCOLUMNS);
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
action_oldest_open(struct db *db, int64_t device_id, struct action *a)
{
	static const char sql[] =
	    "SELECT " ACTION_COLUMNS " FROM action WHERE device_id = ?1 AND "
	    "status IN ('scheduled', 'running', 'canceling') ORDER BY id "
	    "LIMIT 1";
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

/*
 * One history entry: Falconet's status word and message, and hawkBit's
 * status type (NULL: not one hawkBit shows), messages (a JSON array's
 * text, or NULL) and the device's code.
 */
struct action_entry {
	const char *status, *message, *type, *messages;
	bool has_code;
	int64_t code;
};

/* Append to the history, or fold into the newest entry if the same. */
static enum result
action_history_entry(struct db *db, int64_t id, const struct action_entry *e)
{
	static const char fold[] =
	    "UPDATE action_status SET repeats = repeats + 1, last_at = ?4 "
	    "WHERE id = (SELECT id FROM action_status WHERE action_id = ?1 "
	    "ORDER BY id DESC LIMIT 1) AND status = ?2 AND message IS ?3 "
	    "AND type IS ?5 AND messages IS ?6 AND code IS ?7";
	static const char sql[] =
	    "INSERT INTO action_status (action_id, at, status, message, type, "
	    "messages, code) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
	sqlite3_stmt *st = db_prepare(db, fold);
	enum result r;

	if (st == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, id);
	db_bind_text(st, 2, e->status);
	db_bind_text(st, 3, e->message);
	db_bind_int64(st, 4, now_s());
	db_bind_text(st, 5, e->type);
	db_bind_text(st, 6, e->messages);
	if (e->has_code)
		db_bind_int64(st, 7, e->code);
	if ((r = db_step_changed(db, st, __func__)) != RESULT_NOTFOUND)
		return r; /* folded, or an error */
	if ((st = db_prepare(db, sql)) == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, id);
	db_bind_int64(st, 2, now_s());
	db_bind_text(st, 3, e->status);
	db_bind_text(st, 4, e->message);
	db_bind_text(st, 5, e->type);
	db_bind_text(st, 6, e->messages);
	if (e->has_code)
		db_bind_int64(st, 7, e->code);
	if ((r = db_step_done(db, st, __func__)) != RESULT_OK)
		return r;
	return action_ring_added(db, &action_history_ring, id, 1);
}

/* Falconet's own entry, which hawkBit does not show. */
static enum result
action_history(
    struct db *db, int64_t id, const char *status, const char *message)
{
	struct action_entry e = {.status = status, .message = message};

	return action_history_entry(db, id, &e);
}

/* An entry of the server's: hawkBit's type and one message, which is
 * also Falconet's. */
static enum result
action_history_server(struct db *db, int64_t id, const char *status,
    const char *type, const char *text)
{
	json_t *list = json_pack("[s]", text);
	char *messages = list ? json_dumps(list, JSON_COMPACT) : NULL;
	struct action_entry e = {.status = status,
	    .message = text,
	    .type = type,
	    .messages = messages};
	enum result r =
	    messages ? action_history_entry(db, id, &e) : RESULT_ERROR;

	free(messages);
	json_decref(list);
	return r;
}

static enum result
action_set_status(struct db *db, int64_t id, enum action_status s)
{
	static const char sql[] =
	    "UPDATE action SET status = ?2, updated_at = ?3, stale = 0, "
	    "closed_at = CASE WHEN ?2 IN ('succeeded', 'failed', 'canceled', "
	    "'downloaded') "
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

/* Insert an action: the policy's (as NULL: forced type, no window) or
 * an operator's assignment (explicit). */
static enum result
action_insert(struct db *db, int64_t device_id, int64_t ds_id,
    int64_t rollout_id, bool forced, const struct action_assign *as,
    int64_t *id)
{
	static const char sql[] =
	    "INSERT INTO action (device_id, ds_id, rollout_id, forced, "
	    "created_at, updated_at, type, force_time, mw_schedule, "
	    "mw_duration, mw_timezone, explicit) VALUES (?1, ?2, ?3, ?4, ?5, "
	    "?5, ?6, ?7, ?8, ?9, ?10, ?11)";
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
	db_bind_text(st, 6, action_type_names[as ? as->type : 0]);
	if (as && as->type == ACTION_TYPE_TIMEFORCED)
		db_bind_int64(st, 7, as->force_time);
	if (as && as->schedule) {
		db_bind_text(st, 8, as->schedule);
		db_bind_text(st, 9, as->duration);
		db_bind_text(st, 10, as->timezone);
	}
	db_bind_int64(st, 11, as != NULL);
	if ((r = db_step_done(db, st, __func__)) != RESULT_OK)
		return r;
	*id = sqlite3_last_insert_rowid(db_handle(db));
	if (rollout_id && (r = wave_action_changed(db, *id)) != RESULT_OK)
		return r;
	if (as)
		return action_history_server(db, *id, "scheduled", "running",
		    "Update Server: Assignment initiated by the operator.");
	return action_history_server(db, *id, "scheduled", "running",
	    forced ? "Update offered (forced by the operator)"
	           : "Update offered");
}

enum result
action_create(struct db *db, int64_t device_id, int64_t ds_id,
    int64_t rollout_id, bool forced, int64_t *id)
{
	return action_insert(
	    db, device_id, ds_id, rollout_id, forced, NULL, id);
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
	/* Withdrawn, not canceled: pending again in its rollout's group. */
	if ((r = wave_action_changed(db, id)) != RESULT_OK)
		return r;
	return action_history_server(db, id, "canceled", "canceled", why);
}

/* Is the action's newest history entry of hawkBit type `type`? */
static bool
action_newest_is(struct db *db, int64_t id, const char *type)
{
	static const char sql[] =
	    "SELECT type IS ?2 FROM action_status WHERE action_id = ?1 "
	    "ORDER BY id DESC LIMIT 1";
	sqlite3_stmt *st = db_prepare(db, sql);
	bool is = false;

	if (st == NULL)
		return false;
	db_bind_int64(st, 1, id);
	db_bind_text(st, 2, type);
	if (sqlite3_step(st) == SQLITE_ROW)
		is = sqlite3_column_int(st, 0) != 0;
	db_done(st);
	return is;
}

enum result
action_mark_retrieved(struct db *db, int64_t id)
{
	static const char sql[] = "UPDATE action SET retrieved_at = ?2 "
	                          "WHERE id = ?1 AND retrieved_at IS NULL";
	sqlite3_stmt *st;
	enum result r;

	/* A device fetching it again and again writes nothing. */
	if (action_newest_is(db, id, "retrieved"))
		return RESULT_OK;
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
	if (!action_newest_is(db, id, "retrieved") &&
	    (r = action_history_server(db, id, "retrieved", "retrieved",
	         ACTION_TEXT_RETRIEVED)) != RESULT_OK)
		goto fail;
	return db_commit(db) == 0 ? RESULT_OK : RESULT_ERROR;
fail:
	db_rollback(db);
	return r;
}

enum result
action_mark_update_offered(struct db *db, int64_t id)
{
	static const char sql[] = "UPDATE action SET update_offered = 1 "
	                          "WHERE id = ?1 AND update_offered = 0";
	sqlite3_stmt *st = db_prepare(db, sql);

	if (st == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, id);
	return db_step_done(db, st, __func__);
}

enum result
action_note_download(
    struct db *db, int64_t device_id, int64_t sm, const char *path)
{
	static const char sql[] =
	    "SELECT a.id FROM action a JOIN ds_module x ON x.ds_id = a.ds_id "
	    "WHERE a.device_id = ?1 AND x.module_id = ?2 AND a.status IN "
	    "('scheduled', 'running') ORDER BY a.id LIMIT 1";
	sqlite3_stmt *st = db_prepare(db, sql);
	int64_t id = 0;
	char *text;
	enum result r;

	if (st == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, device_id);
	db_bind_int64(st, 2, sm);
	if (sqlite3_step(st) == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	db_done(st);
	if (id == 0)
		return RESULT_NOTFOUND;
	text = xasprintf("Update Server: Target downloads %s", path);
	if (db_begin(db) == -1) {
		free(text);
		return RESULT_ERROR;
	}
	r = action_history_server(db, id, "download", "download", text);
	free(text);
	if (r == RESULT_OK && db_commit(db) == 0)
		return RESULT_OK;
	db_rollback(db);
	return RESULT_ERROR;
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

/*
 * hawkBit's status type of a feedback, and the server's texts that go
 * before and after the device's messages (NULL: none; `empty` only when
 * the device sent no details).
 */
struct action_fb_kind {
	const char *type, *before, *empty, *after;
};

/*
 * A success the device reports for an update it was only ever told to
 * skip (SWUpdate answers update "skip" with closed/success "Skipped
 * Update."): nothing was installed.  A download-only action ends as
 * downloaded; one waiting for its window stays open.
 */
static bool
action_skipped_success(const struct action *a, const struct action_feedback *fb)
{
	return strcmp(fb->execution, "closed") == 0 &&
	       strcmp(fb->finished, "failure") != 0 && !a->update_offered &&
	       (a->type == ACTION_TYPE_DOWNLOADONLY ||
	           a->window.schedule[0] != '\0');
}

static struct action_fb_kind
action_fb_kind(
    const struct action *a, const struct action_feedback *fb, bool cancel)
{
	bool closed = strcmp(fb->execution, "closed") == 0;
	bool failure = strcmp(fb->finished, "failure") == 0;
	const char *x = fb->execution;
	struct action_fb_kind k = {"running", NULL, NULL, NULL};

	if (cancel) {
		/* hawkBit's generateActionCancelStatus: its text first. */
		if (closed && !failure) {
			k.type = "canceled";
			k.empty = "Update Server: Cancellation confirmed.";
			k.after = "Update Server: Cancellation completion is "
			          "finished successfully.";
		} else if (closed) {
			k.type = "error";
			k.before = "Update Server: Target was not able to "
			           "complete cancellation.";
		} else if (strcmp(x, "rejected") == 0) {
			k.type = "cancel_rejected";
			k.before = "Update Server: Target rejected the "
			           "cancellation request.";
		} else if (strcmp(x, "canceled") == 0) {
			k.type = "warning";
			k.before = "Update Server: Target canceled a "
			           "cancellation, which is not supported.";
		}
		return k;
	}
	if (action_skipped_success(a, fb)) {
		k.type = a->type == ACTION_TYPE_DOWNLOADONLY ? "downloaded"
		                                             : "warning";
		k.after = a->type == ACTION_TYPE_DOWNLOADONLY
		              ? "Update Server: The target was told not to "
		                "install; the download-only action ends as "
		                "downloaded."
		              : "Update Server: The target was told to skip "
		                "the installation until the maintenance window "
		                "opens; the action stays open.";
	} else if (closed)
		k.type = failure ? "error" : "finished";
	else if (strcmp(x, "downloaded") == 0 || strcmp(x, "download") == 0 ||
	         strcmp(x, "canceled") == 0)
		k.type = x;
	else if (strcmp(x, "rejected") == 0)
		k.type = "warning";
	return k;
}

/* Append s to list if the bounds let it (cut to the bytes left). */
static void
action_messages_add(json_t *list, const char *s, size_t *bytes)
{
	size_t n;

	if (json_array_size(list) >= ACTION_MESSAGES_MAX ||
	    *bytes >= ACTION_MESSAGES_BYTES)
		return;
	n = utf8_cut(s, ACTION_MESSAGES_BYTES - *bytes);
	json_array_append_new(list, json_stringn(s, n));
	*bytes += n;
}

/*
 * The messages of a feedback's entry as JSON text (new string): the
 * device's details in order, then "Device reported status code: N" if it
 * sent one, on the deployment channel with a server text only when that
 * is empty; on the cancel channel the server's text first.  Bounded by
 * ACTION_MESSAGES_MAX and ACTION_MESSAGES_BYTES, room kept for the
 * server's closing lines.
 */
static char *
action_feedback_messages(const struct action_feedback *fb,
    const struct action_fb_kind *k, bool cancel)
{
	json_t *list = json_array(), *v;
	size_t bytes = 0, i, nd = json_array_size(fb->details);
	char code[64], fallback[96], *text;
	size_t reserve = (k->after != NULL) + (fb->has_code && !cancel);

	if (k->before)
		action_messages_add(list, k->before, &bytes);
	if (nd == 0 && k->empty)
		action_messages_add(list, k->empty, &bytes);
	json_array_foreach(fb->details, i, v)
	{
		if (json_array_size(list) + reserve >= ACTION_MESSAGES_MAX)
			break;
		action_messages_add(list, json_string_value(v), &bytes);
	}
	if (fb->has_code && !cancel) {
		snprintf(code, sizeof(code),
		    "Device reported status code: %lld", (long long)fb->code);
		bytes = bytes > ACTION_MESSAGES_BYTES - 64
		            ? ACTION_MESSAGES_BYTES - 64
		            : bytes;
		action_messages_add(list, code, &bytes);
	}
	if (k->after) {
		bytes = bytes > ACTION_MESSAGES_BYTES - 128
		            ? ACTION_MESSAGES_BYTES - 128
		            : bytes;
		action_messages_add(list, k->after, &bytes);
	}
	if (json_array_size(list) == 0) {
		snprintf(fallback, sizeof(fallback),
		    "Update Server: Target reported %s (%s).", fb->execution,
		    fb->finished);
		action_messages_add(list, fallback, &bytes);
	}
	text = json_dumps(list, JSON_COMPACT);
	json_decref(list);
	return text;
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
	if (action_skipped_success(a, fb))
		return a->type == ACTION_TYPE_DOWNLOADONLY ? ACTION_DOWNLOADED
		       : a->status == ACTION_SCHEDULED     ? ACTION_RUNNING
		                                           : a->status;
	if (closed)
		return failure ? ACTION_FAILED : ACTION_SUCCEEDED;
	/* hawkBit: downloaded closes only download-only actions. */
	if (strcmp(fb->execution, "downloaded") == 0 &&
	    a->type == ACTION_TYPE_DOWNLOADONLY)
		return ACTION_DOWNLOADED;
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
	char *messages = NULL;
	const char *last = NULL;
	struct action_fb_kind kind;
	struct action_entry e;
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
	kind = action_fb_kind(&a, fb, cancel);
	if ((messages = action_feedback_messages(fb, &kind, cancel)) == NULL) {
		r = RESULT_ERROR;
		goto fail;
	}
	e = (struct action_entry){.status = fb->execution,
	    .message = msg,
	    .type = kind.type,
	    .messages = messages,
	    .has_code = fb->has_code,
	    .code = fb->code};
	if ((r = action_history_entry(db, id, &e)) != RESULT_OK)
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
	if (next == ACTION_DOWNLOADED &&
	    (r = device_request_attributes(db, device_id)) != RESULT_OK)
		goto fail;
	if (next == ACTION_FAILED && a.rollout_id &&
	    (r = rollout_check_failures(db, a.rollout_id)) != RESULT_OK)
		goto fail;
	free(version);
	free(messages);
	if (db_commit(db) == -1)
		return RESULT_ERROR;
	if (next == ACTION_FAILED && a.rollout_id)
		rollout_catalog_changed(); /* it may have paused */
	return RESULT_OK;
fail:
	free(version);
	free(messages);
	db_rollback(db);
	return r;
}

enum result
action_cancel(struct db *db, int64_t id, bool hawkbit)
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
		return hawkbit ? RESULT_CONFLICT : RESULT_OK;
	}
	/* A device that never fetched the deployment has nothing to stop;
	 * hawkBit asks it all the same. */
	next = a.status == ACTION_SCHEDULED && !a.retrieved && !hawkbit
	           ? ACTION_CANCELED
	           : ACTION_CANCELING;
	if ((r = action_set_status(db, id, next)) != RESULT_OK ||
	    (r = action_history_server(db, id, action_names[next],
	         action_names[next], ACTION_TEXT_CANCEL)) != RESULT_OK)
		goto fail;
	return db_commit(db) == 0 ? RESULT_OK : RESULT_ERROR;
fail:
	db_rollback(db);
	return r;
}

enum result
action_force_quit(struct db *db, int64_t id)
{
	struct action a;
	enum result r;

	if (db_begin(db) == -1)
		return RESULT_ERROR;
	if ((r = action_load(db, id, &a)) != RESULT_OK)
		goto fail;
	if (a.status != ACTION_CANCELING) {
		r = RESULT_CONFLICT;
		goto fail;
	}
	if ((r = action_set_status(db, id, ACTION_CANCELED)) != RESULT_OK ||
	    (r = action_history_server(db, id, "canceled", "canceled",
	         ACTION_TEXT_FORCE_QUIT)) != RESULT_OK)
		goto fail;
	return db_commit(db) == 0 ? RESULT_OK : RESULT_ERROR;
fail:
	db_rollback(db);
	return r;
}

/* Is set ds_id there, not deleted (RESULT_NOTFOUND) and complete
 * (RESULT_INVALID)? */
static enum result
action_ds_assignable(struct db *db, int64_t ds_id)
{
	static const char sql[] =
	    "SELECT complete FROM distribution_set WHERE id = ?1 AND "
	    "deleted_at IS NULL";
	sqlite3_stmt *st = db_prepare(db, sql);
	enum result r = RESULT_NOTFOUND;

	if (st == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, ds_id);
	if (sqlite3_step(st) == SQLITE_ROW)
		r = sqlite3_column_int(st, 0) ? RESULT_OK : RESULT_INVALID;
	db_done(st);
	return r;
}

/*
 * The assignment's effect on the device's open actions: *same gets the
 * id of one for ds_id that is not being canceled (0 if none); the others
 * are superseded as hawkBit does.
 */
static enum result
action_supersede_open(
    struct db *db, int64_t device_id, int64_t ds_id, int64_t *same)
{
	static const char sql[] =
	    "SELECT " ACTION_COLUMNS " FROM action WHERE device_id = ?1 AND "
	    "status IN ('scheduled', 'running', 'canceling') ORDER BY id";
	sqlite3_stmt *st = db_prepare(db, sql);
	struct action open[16];
	size_t n = 0;
	enum result r = RESULT_OK;

	*same = 0;
	if (st == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, device_id);
	while (n < NELEM(open) && sqlite3_step(st) == SQLITE_ROW)
		action_from_row(st, 0, &open[n++]);
	db_done(st);
	for (size_t i = 0; i < n && r == RESULT_OK; i++) {
		struct action *a = &open[i];

		if (a->status == ACTION_CANCELING)
			continue;
		if (a->ds_id == ds_id) {
			*same = a->id;
			continue;
		}
		if (a->status == ACTION_SCHEDULED && !a->retrieved)
			r = action_supersede(db, a->id, ACTION_TEXT_OBSOLETE);
		else if ((r = action_set_status(db, a->id, ACTION_CANCELING)) ==
		         RESULT_OK)
			r = action_history_server(db, a->id, "canceling",
			    "canceling", ACTION_TEXT_OBSOLETE);
	}
	return r;
}

enum result
action_assign(struct db *db, int64_t device_id, int64_t ds_id,
    const struct action_assign *as, int64_t *id, bool *already,
    const char **why)
{
	int64_t same = 0;
	enum result r;

	*already = false;
	*id = 0;
	if (db_begin(db) == -1)
		return RESULT_ERROR;
	if ((r = action_ds_assignable(db, ds_id)) != RESULT_OK) {
		if (r == RESULT_INVALID)
			*why = "the distribution set is not complete";
		goto fail;
	}
	if ((r = device_set_assigned(db, device_id, ds_id)) != RESULT_OK ||
	    (r = action_supersede_open(db, device_id, ds_id, &same)) !=
	        RESULT_OK)
		goto fail;
	if (same) {
		*already = true;
		*id = same;
	} else if ((r = action_insert(
	                db, device_id, ds_id, 0, false, as, id)) != RESULT_OK)
		goto fail;
	if (db_commit(db) == -1)
		return RESULT_ERROR;
	rollout_catalog_changed(); /* the device's target changed */
	return RESULT_OK;
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

/* {schedule, duration, timezone} of the action's window and its state
 * now, in Falconet's words (state open/closed/never, next_start: the
 * opening it is in or the next one, unix seconds, or null). */
static json_t *
action_window_json(const struct action *a, bool hawkbit)
{
	int64_t start;
	enum mwindow_state st;
	static const char *const states[] = {
	    [MWINDOW_OPEN] = "open",
	    [MWINDOW_CLOSED] = "closed",
	    [MWINDOW_NEVER] = "never",
	};
	json_t *o;

	if (a->window.schedule[0] == '\0')
		return NULL;
	st = action_window_state(a, now_s(), &start);
	o = json_pack("{s:s, s:s, s:s}", "schedule", a->window.schedule,
	    "duration", a->window.duration, "timezone", a->window.timezone);
	if (o == NULL)
		return NULL;
	if (hawkbit) {
		if (start >= 0)
			json_object_set_new(
			    o, "nextStartAt", json_integer(start * 1000));
		return o;
	}
	json_object_set_new(o, "state", json_string(states[st]));
	json_object_set_new(
	    o, "next_start", start >= 0 ? json_integer(start) : json_null());
	return o;
}

/* The assignment's fields of the action read from column col on
 * (ACTION_A_COLUMNS) into o: type, force_time, maintenance_window,
 * explicit. */
static void
action_assignment_json(sqlite3_stmt *st, int col, json_t *o)
{
	struct action a;
	json_t *w;

	action_from_row(st, col, &a);
	w = action_window_json(&a, false);
	json_object_set_new(o, "type", json_string(action_type_names[a.type]));
	json_object_set_new(o, "force_time",
	    a.type == ACTION_TYPE_TIMEFORCED ? json_integer(a.force_time)
	                                     : json_null());
	json_object_set_new(o, "maintenance_window", w ? w : json_null());
	json_object_set_new(o, "explicit", json_boolean(a.explicit));
}

char *
action_last_message(struct db *db, int64_t id)
{
	static const char sql[] =
	    "SELECT message FROM action_status WHERE action_id = ?1 AND "
	    "message IS NOT NULL ORDER BY id DESC LIMIT 1";
	sqlite3_stmt *st = db_prepare(db, sql);
	char *m = NULL;

	if (st == NULL)
		return NULL;
	db_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW)
		m = db_column_strdup(st, 0);
	db_done(st);
	return m;
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
	    "WHERE l.action_id = a.id ORDER BY l.id DESC LIMIT "
	    "1), " ACTION_A_COLUMNS
	    " FROM action a JOIN device d ON d.id = a.device_id "
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
		action_assignment_json(st, 23, o);
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

/* hawkBit's status of an action as SQL over the table named a (see
 * action_hawkbit_status). */
#define ACTION_HAWKBIT_STATUS_SQL                                              \
	"(CASE WHEN a.status IN ('scheduled', 'running') THEN CASE WHEN "      \
	"a.retrieved_at IS NULL THEN 'running' ELSE 'retrieved' END "          \
	"WHEN a.status = 'succeeded' THEN 'finished' WHEN a.status = "         \
	"'failed' THEN 'error' ELSE a.status END)"
#define ACTION_ACTIVE_SQL "(a.status IN ('scheduled', 'running', 'canceling'))"
#define ACTION_PENDING_SQL                                                     \
	"(CASE WHEN " ACTION_ACTIVE_SQL " THEN 'pending' ELSE 'finished' END)"

static const struct rsql_enum action_rest_active[] = {
    {"pending", "pending"},
    {"finished", "finished"},
    {NULL, NULL},
};

/* hawkBit's ActionFields; status is pending (active) or finished. */
const struct rsql_field action_rest_fields[] = {
    {"id", RSQL_INT, "a.id", NULL},
    {"status", RSQL_ENUM, ACTION_PENDING_SQL, action_rest_active},
    {"active", RSQL_BOOL, ACTION_ACTIVE_SQL, NULL},
    {"detailStatus", RSQL_TEXT, ACTION_HAWKBIT_STATUS_SQL, NULL},
    {"lastStatusCode", RSQL_INT, "a.result_code", NULL},
    {"weight", RSQL_INT, "1000", NULL},
    {"forceType", RSQL_TEXT, "a.type", NULL},
    {"createdAt", RSQL_INT, "(a.created_at * 1000)", NULL},
    {"lastModifiedAt", RSQL_INT, "(a.updated_at * 1000)", NULL},
    {"target.controllerId", RSQL_TEXT, "d.controller_id", NULL},
    {"target.name", RSQL_TEXT, "COALESCE(d.name, d.controller_id)", NULL},
    {"distributionSet.id", RSQL_INT, "a.ds_id", NULL},
    {"distributionSet.name", RSQL_TEXT, "s.name", NULL},
    {"distributionSet.version", RSQL_TEXT, "s.version", NULL},
    {"rollout.id", RSQL_INT, "a.rollout_id", NULL},
};
const size_t action_rest_nfields = NELEM(action_rest_fields);

static void
action_bind_query(sqlite3_stmt *st, int first, const struct rsql_query *q)
{
	for (size_t i = 0; q && i < q->nparams; i++) {
		if (q->params[i].is_int)
			db_bind_int64(st, first + (int)i, q->params[i].num);
		else
			db_bind_text(st, first + (int)i, q->params[i].text);
	}
}

/* A statement for SQL made at run time (a filter, an order), finalized by
 * the caller. */
static sqlite3_stmt *
action_prepare_once(struct db *db, const char *sql)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(db_handle(db), sql, -1, &st, NULL) !=
	    SQLITE_OK) {
		db_log_error(db, __func__);
		sqlite3_finalize(st);
		return NULL;
	}
	return st;
}

/* One MgmtAction from a row of action_rest_list's query. */
static json_t *
action_rest_json(sqlite3_stmt *st)
{
	struct action a;
	json_t *o, *w;
	char *dsname;

	action_from_row(st, 0, &a);
	dsname = xasprintf("%s:%s",
	    (const char *)sqlite3_column_text(st, ACTION_NCOLUMNS + 1),
	    (const char *)sqlite3_column_text(st, ACTION_NCOLUMNS + 2));
	o = json_pack("{s:I, s:s, s:b, s:s, s:s, s:I, s:s, s:I, s:s, "
	              "s:I, s:s, s:s, s:I}",
	    "id", (json_int_t)a.id, "type", action_hawkbit_type(&a), "active",
	    action_is_open(a.status), "status", action_hawkbit_status(&a),
	    "detailStatus", action_hawkbit_status(&a), "createdAt",
	    (json_int_t)sqlite3_column_int64(st, ACTION_NCOLUMNS + 3) * 1000,
	    "createdBy", "system", "lastModifiedAt",
	    (json_int_t)sqlite3_column_int64(st, ACTION_NCOLUMNS + 4) * 1000,
	    "lastModifiedBy", "system", "weight", (json_int_t)1000, "forceType",
	    action_type_names[a.type], "_cid",
	    (const char *)sqlite3_column_text(st, ACTION_NCOLUMNS), "_ds",
	    (json_int_t)a.ds_id);
	if (o == NULL) {
		free(dsname);
		return NULL;
	}
	json_object_set_new(o, "_dsname", json_string(dsname));
	free(dsname);
	if (a.type == ACTION_TYPE_TIMEFORCED)
		json_object_set_new(o, "forceTime", json_integer(a.force_time));
	if ((w = action_window_json(&a, true)) != NULL)
		json_object_set_new(o, "maintenanceWindow", w);
	if (a.rollout_id)
		json_object_set_new(o, "rollout", json_integer(a.rollout_id));
	if (sqlite3_column_type(st, ACTION_NCOLUMNS + 5) != SQLITE_NULL)
		json_object_set_new(o, "lastStatusCode",
		    json_integer(
		        sqlite3_column_int64(st, ACTION_NCOLUMNS + 5)));
	return o;
}

enum result
action_rest_list(struct db *db, int64_t device_id, const struct rsql_query *q,
    const char *order, int64_t offset, int64_t limit, json_t **content,
    int64_t *total)
{
	static const char from[] =
	    " FROM action a JOIN device d ON d.id = a.device_id "
	    "JOIN distribution_set s ON s.id = a.ds_id "
	    "WHERE (?1 = 0 OR a.device_id = ?1)";
	const char *cond = q && q->sql ? q->sql : NULL;
	int nq = q ? (int)q->nparams : 0;
	char *sql;
	sqlite3_stmt *st;
	enum result r = RESULT_ERROR;
	int rc;

	*content = json_array();
	*total = 0;
	sql = xasprintf("SELECT count(*)%s%s%s", from, cond ? " AND " : "",
	    cond ? cond : "");
	st = action_prepare_once(db, sql);
	free(sql);
	if (st == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, device_id);
	action_bind_query(st, 2, q);
	if (sqlite3_step(st) == SQLITE_ROW)
		*total = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sql = xasprintf("SELECT " ACTION_A_COLUMNS ", d.controller_id, s.name, "
	                "s.version, a.created_at, a.updated_at, a.result_code"
	                "%s%s%s%s LIMIT ?%d OFFSET ?%d",
	    from, cond ? " AND " : "", cond ? cond : "", order, nq + 2, nq + 3);
	st = action_prepare_once(db, sql);
	free(sql);
	if (st == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, device_id);
	action_bind_query(st, 2, q);
	db_bind_int64(st, nq + 2, limit);
	db_bind_int64(st, nq + 3, offset);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *o = action_rest_json(st);

		if (o)
			json_array_append_new(*content, o);
	}
	if (rc == SQLITE_DONE)
		r = RESULT_OK;
	else
		db_log_error(db, __func__);
	sqlite3_finalize(st);
	return r;
}

/* One MgmtActionStatus. */
static json_t *
action_rest_status_json(sqlite3_stmt *st)
{
	json_t *msgs =
	    json_loads((const char *)sqlite3_column_text(st, 2), 0, NULL);
	json_t *o = json_pack("{s:I, s:s, s:o, s:I, s:I}", "id",
	    (json_int_t)sqlite3_column_int64(st, 0), "type",
	    (const char *)sqlite3_column_text(st, 1), "messages",
	    json_is_array(msgs) ? msgs : json_array(), "reportedAt",
	    (json_int_t)sqlite3_column_int64(st, 3) * 1000, "timestamp",
	    (json_int_t)sqlite3_column_int64(st, 4) * 1000);

	if (!json_is_array(msgs))
		json_decref(msgs);
	if (o && sqlite3_column_type(st, 5) != SQLITE_NULL)
		json_object_set_new(
		    o, "code", json_integer(sqlite3_column_int64(st, 5)));
	return o;
}

enum result
action_rest_status(struct db *db, int64_t id, int64_t device_id, bool ascending,
    int64_t offset, int64_t limit, json_t **content, int64_t *total)
{
	static const char count[] =
	    "SELECT count(*) FROM action_status WHERE action_id = ?1 AND "
	    "type IS NOT NULL";
	static const char desc[] =
	    "SELECT id, type, messages, at, COALESCE(last_at, at), code FROM "
	    "action_status WHERE action_id = ?1 AND type IS NOT NULL "
	    "ORDER BY id DESC LIMIT ?2 OFFSET ?3";
	static const char asc[] =
	    "SELECT id, type, messages, at, COALESCE(last_at, at), code FROM "
	    "action_status WHERE action_id = ?1 AND type IS NOT NULL "
	    "ORDER BY id LIMIT ?2 OFFSET ?3";
	struct action a;
	sqlite3_stmt *st;
	enum result r;
	int rc;

	*content = json_array();
	*total = 0;
	if ((r = action_load(db, id, &a)) != RESULT_OK)
		return r;
	if (a.device_id != device_id)
		return RESULT_NOTFOUND;
	if ((st = db_prepare(db, count)) == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, id);
	*total = db_count(st);
	if ((st = db_prepare(db, ascending ? asc : desc)) == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, id);
	db_bind_int64(st, 2, limit);
	db_bind_int64(st, 3, offset);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *o = action_rest_status_json(st);

		if (o)
			json_array_append_new(*content, o);
	}
	db_done(st);
	if (rc != SQLITE_DONE) {
		db_log_error(db, __func__);
		return RESULT_ERROR;
	}
	return RESULT_OK;
}

/* "2026-12-02T08:00:00Z" of unix time t into buf[21]. */
static const char *
action_time_text(int64_t t, char buf[21])
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (t <= 0 || gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, 21, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, 21, "-");
	return buf;
}

/* Past ACTION_LOG_TEXT_MAX bytes in f: say so (once) and return true. */
static bool
action_log_text_full(FILE *f, bool *said)
{
	if (ftell(f) < ACTION_LOG_TEXT_MAX)
		return false;
	if (!*said)
		fprintf(f, "... cut here: the log passed %d bytes\n",
		    ACTION_LOG_TEXT_MAX);
	*said = true;
	return true;
}

/* One action's history and log lines into f, oldest first. */
static void
action_log_text_one(struct db *db, FILE *f, int64_t id, bool *full)
{
	static const char hist[] =
	    "SELECT at, status, message, repeats FROM action_status WHERE "
	    "action_id = ?1 ORDER BY id";
	static const char log[] =
	    "SELECT at, line, repeats FROM action_log WHERE action_id = ?1 "
	    "ORDER BY id";
	sqlite3_stmt *st;
	const char *m;
	char t[21];
	int64_t rep;

	if ((st = db_prepare(db, hist)) != NULL) {
		db_bind_int64(st, 1, id);
		while (!action_log_text_full(f, full) &&
		       sqlite3_step(st) == SQLITE_ROW) {
			m = (const char *)sqlite3_column_text(st, 2);
			rep = sqlite3_column_int64(st, 3);
			fprintf(f, "  %s  %-10s %s",
			    action_time_text(sqlite3_column_int64(st, 0), t),
			    (const char *)sqlite3_column_text(st, 1),
			    m ? m : "");
			if (rep > 1)
				fprintf(f, " (x%lld)", (long long)rep);
			fputc('\n', f);
		}
		db_done(st);
	}
	if ((st = db_prepare(db, log)) != NULL) {
		db_bind_int64(st, 1, id);
		while (!action_log_text_full(f, full) &&
		       sqlite3_step(st) == SQLITE_ROW) {
			rep = sqlite3_column_int64(st, 2);
			fprintf(f, "  %s  log        %s",
			    action_time_text(sqlite3_column_int64(st, 0), t),
			    (const char *)sqlite3_column_text(st, 1));
			if (rep > 1)
				fprintf(f, " (x%lld)", (long long)rep);
			fputc('\n', f);
		}
		db_done(st);
	}
}

char *
action_log_text(struct db *db, int64_t device_id, const char *cid, size_t *len)
{
	static const char sql[] =
	    "SELECT a.id, a.status, a.created_at, COALESCE(a.closed_at, 0), "
	    "COALESCE(a.rollout_id, 0), a.result_code, s.version, s.name "
	    "FROM action a JOIN distribution_set s ON s.id = a.ds_id "
	    "WHERE a.device_id = ?1 ORDER BY a.id DESC LIMIT ?2";
	struct row {
		int64_t id, created, closed, rollout;
		char *status, *version, *name, *code;
	} rows[ACTION_LOG_TEXT_ACTIONS];
	sqlite3_stmt *st;
	char *buf = NULL, t1[21], t2[21];
	bool full = false;
	size_t n = 0;
	FILE *f;

	if ((st = db_prepare(db, sql)) == NULL)
		return NULL;
	db_bind_int64(st, 1, device_id);
	db_bind_int64(st, 2, ACTION_LOG_TEXT_ACTIONS);
	while (n < ACTION_LOG_TEXT_ACTIONS && sqlite3_step(st) == SQLITE_ROW) {
		rows[n].id = sqlite3_column_int64(st, 0);
		rows[n].status = db_column_strdup(st, 1);
		rows[n].created = sqlite3_column_int64(st, 2);
		rows[n].closed = sqlite3_column_int64(st, 3);
		rows[n].rollout = sqlite3_column_int64(st, 4);
		rows[n].code = db_column_strdup(st, 5);
		rows[n].version = db_column_strdup(st, 6);
		rows[n].name = db_column_strdup(st, 7);
		n++;
	}
	db_done(st);
	if ((f = open_memstream(&buf, len)) == NULL)
		fatal("open_memstream");
	fprintf(f, "Update log of device %s, %zu update(s), written %s\n", cid,
	    n, action_time_text(now_s(), t1));
	/* Oldest first, as a log reads. */
	while (n-- > 0) {
		struct row *r = &rows[n];

		if (!action_log_text_full(f, &full)) {
			fprintf(f, "\nUpdate #%lld: %s %s, %s",
			    (long long)r->id, r->name ? r->name : "",
			    r->version ? r->version : "", r->status);
			if (r->rollout)
				fprintf(f, ", rollout #%lld",
				    (long long)r->rollout);
			if (r->code)
				fprintf(f, ", result code %s", r->code);
			fprintf(f, ", created %s, closed %s\n",
			    action_time_text(r->created, t1),
			    r->closed ? action_time_text(r->closed, t2) : "-");
			action_log_text_one(db, f, r->id, &full);
		}
		free(r->status);
		free(r->version);
		free(r->name);
		free(r->code);
	}
	if (fclose(f) != 0)
		fatal("open_memstream");
	return buf;
}
