/*
 * Actions: one deployment of one software to one device, with its status
 * history and the device's log.  Owns the action, action_status and
 * action_log tables.
 */
#ifndef ACTION_H
#define ACTION_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct db;

#define ACTION_DETAILS_MAX 256 /* details lines in one feedback */
#define ACTION_LINE_MAX 2048   /* bytes kept of one log line */
#define ACTION_MESSAGE_MAX 255 /* bytes kept of one history message */

/*
 * What one action keeps, whatever its device sends.  A history entry or
 * log line identical to the newest one is folded into it (a repeat count
 * and the last time).  Past the cap the first HEAD entries stay for good
 * and the rest is a ring of the newest: the oldest entry after the head is
 * dropped, and the action counts what it dropped.  migrations/0005 cuts
 * older databases with the same numbers.
 */
#define ACTION_HISTORY_MAX 1000 /* history entries kept per action */
#define ACTION_HISTORY_HEAD 100 /* of which the first ones */
#define ACTION_LOG_MAX 20000    /* log lines kept per action */
#define ACTION_LOG_HEAD 1000    /* of which the first ones */

/* Pages of history and log in the API: what an answer holds is bounded
 * by these, not by what is stored. */
#define ACTION_PAGE_DEFAULT 100
#define ACTION_PAGE_MAX 1000

enum action_status {
	ACTION_SCHEDULED,
	ACTION_RUNNING,
	ACTION_CANCELING,
	ACTION_SUCCEEDED,
	ACTION_FAILED,
	ACTION_CANCELED,
};

struct action {
	int64_t id, device_id, ds_id, rollout_id;
	enum action_status status;
	bool forced, retrieved, stale, superseded;
	int progress; /* -1 unknown */
};

/* A device's feedback, parsed by ddi.c; details is borrowed. */
struct action_feedback {
	const char *execution; /* closed, proceeding, ... */
	const char *finished;  /* success, failure, none */
	bool has_progress;
	int64_t cnt, of;
	bool has_code;
	int64_t code;
	json_t *details; /* array of strings or NULL */
};

/*
 * The action columns action_from_row reads, for a query that names the
 * action table "a" (a join); action_from_row(st, col, a) reads them from
 * column col on.
 */
#define ACTION_A_COLUMNS                                                       \
	"a.id, a.device_id, a.ds_id, COALESCE(a.rollout_id, 0), "              \
	"a.status, a.forced, a.retrieved_at IS NOT NULL, a.stale, "            \
	"COALESCE(a.progress, -1), a.superseded"
#define ACTION_NCOLUMNS 10
void action_from_row(sqlite3_stmt *st, int col, struct action *a);

/*
 * Parse a DDI feedback body leniently (unknown fields ignored, legacy id
 * and time too).  0 ok: *root holds the JSON the caller json_decrefs and
 * fb borrows from; else 400 or 429 with *why set (and *root NULL or to be
 * released all the same).
 */
int action_feedback_parse(const char *body, size_t len, json_t **root,
    struct action_feedback *fb, const char **why);

bool action_is_open(enum action_status);
const char *action_status_str(enum action_status);

/* The device's newest action.  RESULT_NOTFOUND if it never had one. */
enum result action_newest(struct db *, int64_t device_id, struct action *);
/* The same, and in one query the id of its newest succeeded action
 * (*installed, 0 if none). */
enum result action_newest_installed(
    struct db *, int64_t device_id, struct action *, int64_t *installed);
enum result action_load(struct db *, int64_t id, struct action *);
/* Create a scheduled action; runs inside the caller's transaction. */
enum result action_create(struct db *, int64_t device_id, int64_t ds_id,
    int64_t rollout_id, bool forced, int64_t *id);
/* Close a scheduled action the policy no longer wants (caller's txn). */
enum result action_supersede(struct db *, int64_t id, const char *why);
/* Note the first time the device fetched the deployment (in a
 * transaction of its own). */
enum result action_mark_retrieved(struct db *, int64_t id);

/*
 * Apply feedback from device_id to action id, on the deployment channel
 * or (cancel true) the cancel channel, in one transaction.  RESULT_NOTFOUND
 * if the action is not the device's, RESULT_GONE if it is closed,
 * RESULT_CONFLICT on the cancel channel for an action not being canceled,
 * RESULT_INVALID for an unknown execution or finished value.
 */
enum result action_apply_feedback(struct db *, int64_t id, int64_t device_id,
    const struct action_feedback *, bool cancel);

/* Operator cancel: canceled at once if the device never fetched it, else
 * canceling until the device confirms.  RESULT_CONFLICT if closed. */
enum result action_cancel(struct db *, int64_t id);

/* Open actions counting against limits: of rollout_id, or all if 0. */
int64_t action_count_running(struct db *, int64_t rollout_id);

/*
 * JSON for the management API (new references, NULL if none).  Every
 * action carries a summary of its history and log (counts, what was
 * dropped, the newest message and line); with_history adds the newest
 * ACTION_PAGE_DEFAULT entries of each and the cursors to the older ones.
 */
json_t *action_to_json(struct db *, int64_t id, bool with_history);
json_t *action_latest_json(struct db *, int64_t device_id);
/* The device's newest 100 actions, newest first, summaries only. */
json_t *action_list_json(struct db *, int64_t device_id);

enum action_page {
	ACTION_PAGE_HISTORY,
	ACTION_PAGE_LOG,
};
/*
 * One page of an action's history or log: the newest `limit` entries
 * with an id below `before` (0: from the newest), oldest first, as
 * {"history"|"log": [...], "count", "dropped", "dropped_after", "limit",
 * "next_before"}; next_before is the cursor of the page before this one,
 * null at the first entry.  NULL if there is no such action.
 */
json_t *action_page_json(
    struct db *, int64_t id, enum action_page, int64_t limit, int64_t before);
/*
 * DDI actionHistory: the newest n messages, newest first, a folded entry
 * counted as often as it was repeated (n at most).  A new reference.
 */
json_t *action_messages_json(struct db *, int64_t id, int64_t n);
/* Finished updates per day for the last `days` days:
 * [{"day": "YYYY-MM-DD", "succeeded": n, "failed": n}], oldest first. */
json_t *action_daily_json(struct db *, int days);
/* Actions by status: {"scheduled": n, ...}. */
json_t *action_status_counts_json(struct db *);

#endif
