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

#include "mwindow.h"
#include "rsql.h"
#include "util.h"

struct db;

#define ACTION_DETAILS_MAX 256 /* details lines in one feedback */
#define ACTION_LINE_MAX 2048   /* bytes kept of one log line */
#define ACTION_MESSAGE_MAX 255 /* bytes kept of one history message */
/* The device's messages one history entry keeps (the full lines stay in
 * the log): at most this many, of at most this many bytes in all. */
#define ACTION_MESSAGES_MAX 50
#define ACTION_MESSAGES_BYTES 8192

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
	ACTION_DOWNLOADED, /* closed: a download-only action downloaded */
};

/* hawkBit's action types: what deploymentBase tells the device to do. */
enum action_type {
	ACTION_TYPE_FORCED,
	ACTION_TYPE_SOFT,
	ACTION_TYPE_DOWNLOADONLY,
	ACTION_TYPE_TIMEFORCED,
};

/* A maintenance window as stored (see mwindow.h); schedule "" if none. */
struct action_window {
	char schedule[CRON_EXPR_MAX];
	char duration[MWINDOW_DURATION_MAX];
	char timezone[MWINDOW_TIMEZONE_MAX];
};

struct action {
	int64_t id, device_id, ds_id, rollout_id;
	enum action_status status;
	bool forced, retrieved, stale, superseded;
	int progress; /* -1 unknown */
	enum action_type type;
	int64_t force_time;  /* ms; timeforced only, else 0 */
	bool explicit;       /* made by an operator's assignment */
	bool update_offered; /* the device was told to install it */
	struct action_window window;
};

/* What an operator's assignment asks for; the window's parts are all
 * NULL or all set (borrowed). */
struct action_assign {
	enum action_type type;
	int64_t force_time; /* ms, timeforced */
	const char *schedule, *duration, *timezone;
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
	"COALESCE(a.progress, -1), a.superseded, a.type, "                     \
	"COALESCE(a.force_time, 0), a.explicit, a.mw_schedule, "               \
	"a.mw_duration, a.mw_timezone, a.update_offered"
#define ACTION_NCOLUMNS 17
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
const char *action_type_str(enum action_type);
/* "forced", "soft", "downloadonly", "timeforced": 0, else -1. */
int action_type_parse(const char *, enum action_type *);
/*
 * hawkBit's word for the action's status (MgmtAction.status), and its
 * type: "cancel" while canceling or canceled, else "update".
 */
const char *action_hawkbit_status(const struct action *);
const char *action_hawkbit_type(const struct action *);

/*
 * Check an assignment's type, force time and window: 0, or -1 with *why.
 * *schedule_bad tells a bad or never opening window (hawkBit's
 * maintenanceScheduleInvalid) from a bad type or force time.
 */
int action_assign_check(const struct action_assign *, int64_t now,
    const char **why, bool *schedule_bad);
/* Is the action a timeforced one whose force time has come, or forced? */
bool action_is_forced_now(const struct action *, int64_t now_ms);
/* The action's window at now (unix seconds), MWINDOW_OPEN if it has
 * none; *start as mwindow_state's (may be NULL). */
enum mwindow_state action_window_state(
    const struct action *, int64_t now, int64_t *start);

/* The device's newest action.  RESULT_NOTFOUND if it never had one. */
enum result action_newest(struct db *, int64_t device_id, struct action *);
/* The same, and in one query the id of its newest succeeded action
 * (*installed, 0 if none). */
enum result action_newest_installed(
    struct db *, int64_t device_id, struct action *, int64_t *installed);
enum result action_load(struct db *, int64_t id, struct action *);
/* The device's oldest open action.  RESULT_NOTFOUND if none is open. */
enum result action_oldest_open(struct db *, int64_t device_id, struct action *);
/* Create a scheduled action; runs inside the caller's transaction. */
enum result action_create(struct db *, int64_t device_id, int64_t ds_id,
    int64_t rollout_id, bool forced, int64_t *id);
/* Close a scheduled action the policy no longer wants (caller's txn). */
enum result action_supersede(struct db *, int64_t id, const char *why);
/* The device fetched the deployment: note the first time, and add a
 * "retrieved" entry unless the newest entry is one (in a transaction of
 * its own). */
enum result action_mark_retrieved(struct db *, int64_t id);
/* deploymentBase told the device to install (update attempt or forced):
 * noted once, so that a success reported after a skip is not taken for
 * an install. */
enum result action_mark_update_offered(struct db *, int64_t id);
/* The device started a full download of module sm (path its artifact
 * path): a "download" entry on its open action holding sm, folded into
 * the newest entry when the same. */
enum result action_note_download(
    struct db *, int64_t device_id, int64_t sm, const char *path);

/*
 * An operator's assignment of set ds_id to device_id, in one transaction:
 * a complete set that is not deleted (RESULT_NOTFOUND if there is no such
 * set or device, RESULT_INVALID with *why if incomplete).  An open action
 * for the same set is kept (*already true, its id in *id); open actions
 * for other sets are canceled at once if never retrieved, else set
 * canceling.  The device's mode becomes assigned to ds_id, and the new
 * action is created now.  The caller checked `as` with
 * action_assign_check.
 */
enum result action_assign(struct db *, int64_t device_id, int64_t ds_id,
    const struct action_assign *as, int64_t *id, bool *already,
    const char **why);

/*
 * Apply feedback from device_id to action id, on the deployment channel
 * or (cancel true) the cancel channel, in one transaction.  RESULT_NOTFOUND
 * if the action is not the device's, RESULT_GONE if it is closed,
 * RESULT_CONFLICT on the cancel channel for an action not being canceled,
 * RESULT_INVALID for an unknown execution or finished value.
 */
enum result action_apply_feedback(struct db *, int64_t id, int64_t device_id,
    const struct action_feedback *, bool cancel);

/*
 * Operator cancel: canceled at once if the device never fetched it, else
 * canceling until the device confirms; RESULT_CONFLICT if closed.  With
 * hawkbit, hawkBit's rules: always canceling until the device confirms,
 * RESULT_CONFLICT if closed or being canceled already.
 */
enum result action_cancel(struct db *, int64_t id, bool hawkbit);
/* Close an action being canceled as canceled without the device
 * (hawkBit's force quit).  RESULT_CONFLICT if it is not canceling. */
enum result action_force_quit(struct db *, int64_t id);

/* Open actions counting against limits: of rollout_id, or all if 0. */
int64_t action_count_running(struct db *, int64_t rollout_id);

/*
 * JSON for the management API (new references, NULL if none).  Every
 * action carries a summary of its history and log (counts, what was
 * dropped, the newest message and line); with_history adds the newest
 * ACTION_PAGE_DEFAULT entries of each and the cursors to the older ones.
 */
json_t *action_to_json(struct db *, int64_t id, bool with_history);
/* The newest history message of action id (why it failed, or how far it
 * got), NULL if it has none; the caller frees it. */
char *action_last_message(struct db *, int64_t id);
json_t *action_latest_json(struct db *, int64_t device_id);
/*
 * The device's update log as text (cid names it in the first line): its
 * newest ACTION_LOG_TEXT_ACTIONS actions, oldest first, each with its
 * history and log lines (at most what the action keeps, see
 * ACTION_HISTORY_MAX and ACTION_LOG_MAX), cut past ACTION_LOG_TEXT_MAX
 * bytes.  The caller frees the text;
 * *len is its length.  NULL on a database error.
 */
#define ACTION_LOG_TEXT_ACTIONS 20
#define ACTION_LOG_TEXT_MAX (16 * 1024 * 1024) /* bytes, then cut */
char *action_log_text(
    struct db *, int64_t device_id, const char *cid, size_t *len);
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
/*
 * hawkBit's Management API.  action_rest_list: one page of MgmtAction
 * objects of device_id (0: of every device) filtered by q (NULL for
 * none) in the order `order` (" ORDER BY ..."), into *content, with the
 * number of matches in *total.  Each object also holds "_cid" (the
 * device's controller id), "_ds" (the set's id) and "_dsname"
 * ("name:version") for the caller's links, who removes them.
 */
enum result action_rest_list(struct db *, int64_t device_id,
    const struct rsql_query *q, const char *order, int64_t offset,
    int64_t limit, json_t **content, int64_t *total);
/* The fields a q= over actions takes, and the orders of sort=. */
extern const struct rsql_field action_rest_fields[];
extern const size_t action_rest_nfields;
/*
 * One page of the action's hawkBit status entries (MgmtActionStatus),
 * newest first unless ascending; Falconet's own entries are left out.
 * RESULT_NOTFOUND if there is no such action of device_id.
 */
enum result action_rest_status(struct db *, int64_t id, int64_t device_id,
    bool ascending, int64_t offset, int64_t limit, json_t **content,
    int64_t *total);

/* Finished updates per day for the last `days` days:
 * [{"day": "YYYY-MM-DD", "succeeded": n, "failed": n}], oldest first. */
json_t *action_daily_json(struct db *, int days);
/* Actions by status: {"scheduled": n, ...}. */
json_t *action_status_counts_json(struct db *);

#endif
