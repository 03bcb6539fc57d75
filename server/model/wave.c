/*
 * Rollout groups.  Every device of a started rollout has a row in
 * rollout_target with its group and its state there; every change of
 * that state goes through wave_target_set, which moves the group's
 * counters with it in the same transaction, so that a group's counts are
 * read from its row and never by counting the fleet.  The conditions are
 * checked when a device of a running group succeeds or fails.
 */
#include "wave.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "action.h"
#include "db.h"
#include "dist.h"
#include "log.h"
#include "rollout.h"
#include "rsql.h"
#include "superseded.h"

/* The states of a device in its group, as stored. */
static const char *const wave_target_states[] = {
    "pending", "running", "succeeded", "failed", "canceled", NULL};

/* What a device's newest action of the rollout says of it there. */
static const char *
wave_state_of_action(const char *status, bool superseded)
{
	if (strcmp(status, "scheduled") == 0 ||
	    strcmp(status, "running") == 0 || strcmp(status, "canceling") == 0)
		return "running";
	if (strcmp(status, "succeeded") == 0 ||
	    strcmp(status, "downloaded") == 0)
		return "succeeded";
	if (strcmp(status, "failed") == 0)
		return "failed";
	/* canceled: an operator's cancel, or withdrawn by the policy (the
	 * device may be offered the set again). */
	return superseded ? "pending" : "canceled";
}

/*
 * The fields a rollout's target filter may name, over the device table
 * "d" (hawkBit's target fields where Falconet has them).
 */
static const struct rsql_field wave_filter_fields[] = {
    {"controllerId", RSQL_TEXT, "d.controller_id", NULL},
    {"id", RSQL_TEXT, "d.controller_id", NULL},
    {"name", RSQL_TEXT, "d.name", NULL},
    {"feed", RSQL_TEXT, "d.feed", NULL},
    {"hwModel", RSQL_TEXT, "d.hw_model", NULL},
    {"hwRevision", RSQL_TEXT, "d.hw_revision", NULL},
    {"swVersion", RSQL_TEXT, "d.installed_version", NULL},
    {"attribute.", RSQL_TEXT,
        "(SELECT x.value FROM device_attribute x WHERE x.device_id = d.id "
        "AND x.key = ?)",
        NULL},
    {"metadata.", RSQL_TEXT,
        "(SELECT m.meta_value FROM device_metadata m WHERE m.device_id = "
        "d.id AND m.meta_key = ?)",
        NULL},
};

const char *
wave_filter_problem(const char *filter, char *buf, size_t len)
{
	struct rsql_query q;
	enum rsql_err e;

	if (strlen(filter) > WAVE_FILTER_MAX)
		return "target_filter: at most 4096 bytes";
	e = rsql_compile(filter, wave_filter_fields, NELEM(wave_filter_fields),
	    &q, buf, len);
	if (e == RSQL_OK) {
		rsql_query_free(&q);
		return NULL;
	}
	return buf;
}

/* ---- groups ------------------------------------------------------------ */

static enum result
wave_check_group(json_t *g, size_t i, size_t n, const char **why)
{
	static const char *const keys[] = {"name", "percent", "count",
	    "success_percent", "error_percent", "approval", NULL};
	json_t *v;
	const char *key, *s;

	if (!json_is_object(g))
		return *why = "groups: each group is an object", RESULT_INVALID;
	json_object_foreach(g, key, v)
	{
		size_t k;

		for (k = 0; keys[k]; k++)
			if (strcmp(key, keys[k]) == 0)
				break;
		if (keys[k] == NULL)
			return *why = "groups: a group takes name, percent or "
			              "count, success_percent, error_percent "
			              "and approval",
			       RESULT_INVALID;
	}
	if ((v = json_object_get(g, "name")) &&
	    (!json_is_string(v) || (s = json_string_value(v))[0] == '\0' ||
	        strlen(s) > WAVE_NAME_MAX || !utf8_valid(s, strlen(s))))
		return *why = "groups: name is 1 to 128 bytes of UTF-8",
		       RESULT_INVALID;
	if ((v = json_object_get(g, "percent")) &&
	    (!json_is_integer(v) || json_integer_value(v) < 1 ||
	        json_integer_value(v) > 100))
		return *why = "groups: percent is 1 to 100", RESULT_INVALID;
	if ((v = json_object_get(g, "count")) &&
	    (!json_is_integer(v) || json_integer_value(v) < 1 ||
	        json_integer_value(v) > 100000000))
		return *why = "groups: count is 1 to 100000000", RESULT_INVALID;
	if (json_object_get(g, "percent") && json_object_get(g, "count"))
		return *why = "groups: percent or count, not both",
		       RESULT_INVALID;
	if (i + 1 < n && !json_object_get(g, "percent") &&
	    !json_object_get(g, "count"))
		return *why = "groups: every group but the last needs a "
		              "percent or a count",
		       RESULT_INVALID;
	if ((v = json_object_get(g, "success_percent")) &&
	    (!json_is_integer(v) || json_integer_value(v) < 0 ||
	        json_integer_value(v) > 100))
		return *why = "groups: success_percent is 0 to 100",
		       RESULT_INVALID;
	if ((v = json_object_get(g, "error_percent")) &&
	    (!json_is_integer(v) || json_integer_value(v) < 0 ||
	        json_integer_value(v) > 100))
		return *why = "groups: error_percent is 0 (off) to 100",
		       RESULT_INVALID;
	if ((v = json_object_get(g, "approval")) && !json_is_boolean(v))
		return *why = "groups: approval is true or false",
		       RESULT_INVALID;
	return RESULT_OK;
}

static enum result
wave_insert_group(struct db *db, int64_t rollout_id, int position,
    const char *name, json_t *g, bool retry, const char *state, int64_t *id)
{
	static const char sql[] =
	    "INSERT INTO rollout_group (rollout_id, position, name, "
	    "target_percent, target_count, success_percent, error_percent, "
	    "approval, retry, state, started_at) VALUES (?1, ?2, ?3, ?4, ?5, "
	    "?6, ?7, ?8, ?9, ?10, ?11) RETURNING id";
	sqlite3_stmt *st = db_prepare(db, sql);
	json_t *v;

	if (st == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, rollout_id);
	db_bind_int64(st, 2, position);
	db_bind_text(st, 3, name);
	if ((v = json_object_get(g, "percent")))
		db_bind_int64(st, 4, json_integer_value(v));
	if ((v = json_object_get(g, "count")))
		db_bind_int64(st, 5, json_integer_value(v));
	v = json_object_get(g, "success_percent");
	db_bind_int64(st, 6, v ? json_integer_value(v) : 100);
	db_bind_int64(
	    st, 7, json_integer_value(json_object_get(g, "error_percent")));
	db_bind_int64(st, 8, json_is_true(json_object_get(g, "approval")));
	db_bind_int64(st, 9, retry);
	db_bind_text(st, 10, state);
	if (strcmp(state, "running") == 0)
		db_bind_int64(st, 11, now_s());
	return db_step_id(db, st, id, __func__);
}

enum result
wave_create_groups(
    struct db *db, int64_t rollout_id, json_t *groups, const char **why)
{
	size_t n = json_array_size(groups), i;
	char name[32];
	int64_t id;
	enum result r;
	json_t *g;

	if (groups && !json_is_array(groups))
		return *why = "groups: an array", RESULT_INVALID;
	if (n > WAVE_GROUPS_MAX)
		return *why = "groups: at most 100", RESULT_INVALID;
	for (i = 0; i < n; i++)
		if ((r = wave_check_group(
		         json_array_get(groups, i), i, n, why)) != RESULT_OK)
			return r;
	if (n == 0)
		return wave_insert_group(db, rollout_id, 1, "All devices", NULL,
		    false, "scheduled", &id);
	json_array_foreach(groups, i, g)
	{
		const char *gn = json_string_value(json_object_get(g, "name"));

		snprintf(name, sizeof(name), "Wave %zu", i + 1);
		if ((r = wave_insert_group(db, rollout_id, (int)i + 1,
		         gn ? gn : name, g, false, "scheduled", &id)) !=
		    RESULT_OK)
			return r;
	}
	return RESULT_OK;
}

struct wave_group {
	int64_t id, rollout_id, total, running, succeeded, failed, canceled;
	int64_t retried, success_percent, error_percent, target_count;
	int64_t target_percent;          /* 0: none */
	int64_t superseded;              /* of total: set by wave_groups_read */
	int64_t started_at, finished_at; /* 0: not yet */
	char name[WAVE_NAME_MAX + 1];
	int position;
	bool approval, retry;
	char state[24];
};

#define WAVE_GROUP_COLUMNS                                                     \
	"id, rollout_id, position, total, running, succeeded, failed, "        \
	"canceled, retried, success_percent, error_percent, "                  \
	"COALESCE(target_count, 0), COALESCE(target_percent, 0), approval, "   \
	"retry, state, COALESCE(started_at, 0), COALESCE(finished_at, 0), "    \
	"name"

static void
wave_group_from_row(sqlite3_stmt *st, struct wave_group *g)
{
	memset(g, 0, sizeof(*g));
	g->id = sqlite3_column_int64(st, 0);
	g->rollout_id = sqlite3_column_int64(st, 1);
	g->position = sqlite3_column_int(st, 2);
	g->total = sqlite3_column_int64(st, 3);
	g->running = sqlite3_column_int64(st, 4);
	g->succeeded = sqlite3_column_int64(st, 5);
	g->failed = sqlite3_column_int64(st, 6);
	g->canceled = sqlite3_column_int64(st, 7);
	g->retried = sqlite3_column_int64(st, 8);
	g->success_percent = sqlite3_column_int64(st, 9);
	g->error_percent = sqlite3_column_int64(st, 10);
	g->target_count = sqlite3_column_int64(st, 11);
	g->target_percent = sqlite3_column_int64(st, 12);
	g->approval = sqlite3_column_int(st, 13) != 0;
	g->retry = sqlite3_column_int(st, 14) != 0;
	snprintf(g->state, sizeof(g->state), "%s",
	    (const char *)sqlite3_column_text(st, 15));
	g->started_at = sqlite3_column_int64(st, 16);
	g->finished_at = sqlite3_column_int64(st, 17);
	snprintf(g->name, sizeof(g->name), "%s",
	    (const char *)sqlite3_column_text(st, 18));
}

static enum result
wave_group_load(struct db *db, int64_t id, struct wave_group *g)
{
	static const char sql[] =
	    "SELECT " WAVE_GROUP_COLUMNS " FROM rollout_group WHERE id = ?1";
	sqlite3_stmt *st = db_prepare(db, sql);
	enum result r = RESULT_NOTFOUND;

	if (st == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		wave_group_from_row(st, g);
		r = RESULT_OK;
	}
	db_done(st);
	return r;
}

/* All groups of a rollout, in order; *n of them, the caller frees. */
static struct wave_group *
wave_groups_load(struct db *db, int64_t rollout_id, size_t *n)
{
	static const char sql[] =
	    "SELECT " WAVE_GROUP_COLUMNS " FROM rollout_group "
	    "WHERE rollout_id = ?1 ORDER BY position";
	sqlite3_stmt *st = db_prepare(db, sql);
	struct wave_group *g = NULL;
	size_t cap = 0;

	*n = 0;
	if (st == NULL)
		return NULL;
	db_bind_int64(st, 1, rollout_id);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			g = xrealloc(g, cap * sizeof(*g));
		}
		wave_group_from_row(st, &g[(*n)++]);
	}
	db_done(st);
	return g;
}

static int64_t
wave_group_pending(const struct wave_group *g)
{
	int64_t p =
	    g->total - g->running - g->succeeded - g->failed - g->canceled;

	return p > 0 ? p : 0;
}

/*
 * The groups of a rollout as counted (for reading, not inside a write):
 * with each group's superseded devices (WAVE_SUPERSEDED, superseded.c).
 * Only pending devices can be superseded.
 */
static struct wave_group *
wave_groups_read(struct db *db, int64_t rollout_id, size_t *n)
{
	struct wave_group *g = wave_groups_load(db, rollout_id, n);
	struct superseded_count c[WAVE_GROUPS_MAX];
	int64_t pending = 0;
	size_t nc;

	for (size_t i = 0; i < *n; i++)
		pending += wave_group_pending(&g[i]);
	nc = superseded_counts(db, rollout_id, pending, c, WAVE_GROUPS_MAX);
	for (size_t k = 0; k < nc; k++)
		for (size_t i = 0; i < *n; i++)
			if (g[i].id == c[k].group_id) {
				g[i].superseded = c[k].count;
				if (g[i].superseded > wave_group_pending(&g[i]))
					g[i].superseded =
					    wave_group_pending(&g[i]);
			}
	return g;
}

static enum result
wave_group_set_state(struct db *db, int64_t id, const char *state)
{
	static const char sql[] =
	    "UPDATE rollout_group SET state = ?2, "
	    "started_at = CASE WHEN ?2 = 'running' AND started_at IS NULL "
	    "THEN ?3 ELSE started_at END, "
	    "finished_at = CASE WHEN ?2 = 'finished' THEN ?3 ELSE NULL END "
	    "WHERE id = ?1";
	sqlite3_stmt *st = db_prepare(db, sql);

	if (st == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, id);
	db_bind_text(st, 2, state);
	db_bind_int64(st, 3, now_s());
	return db_step_done(db, st, __func__);
}

static enum result
wave_pause_rollout(struct db *db, int64_t rollout_id, const char *reason)
{
	static const char sql[] =
	    "UPDATE rollout SET paused = 1, state = 'paused', pause_reason = "
	    "?2 WHERE id = ?1 AND state = 'running'";
	sqlite3_stmt *st = db_prepare(db, sql);

	if (st == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, rollout_id);
	db_bind_text(st, 2, reason);
	log_warnx("rollout %lld paused: %s", (long long)rollout_id, reason);
	/* Polls reload the candidates; bumped again after the commit. */
	rollout_catalog_changed();
	return db_step_done(db, st, __func__);
}

static bool
wave_share_met(int64_t part, int64_t total, int64_t percent)
{
	return part * 100 >= percent * total;
}

/*
 * Check group g's conditions, and run the groups after it whose turn it
 * is: the next one starts once g met its success condition (or waits for
 * approval), and an empty or already updated group passes on at once.
 */
static enum result
wave_advance(struct db *db, int64_t group_id)
{
	struct wave_group g;
	char reason[200];
	enum result r;

	for (int guard = 0; guard <= WAVE_GROUPS_MAX; guard++) {
		if ((r = wave_group_load(db, group_id, &g)) != RESULT_OK)
			return r == RESULT_NOTFOUND ? RESULT_OK : r;
		if (strcmp(g.state, "running") != 0)
			return RESULT_OK;
		if (g.error_percent > 0 && g.failed > 0 &&
		    wave_share_met(g.failed, g.total, g.error_percent)) {
			snprintf(reason, sizeof(reason),
			    "group %d: %lld of %lld devices failed, its error "
			    "condition is %lld%%",
			    g.position, (long long)g.failed, (long long)g.total,
			    (long long)g.error_percent);
			if ((r = wave_group_set_state(db, g.id, "error")) !=
			    RESULT_OK)
				return r;
			return wave_pause_rollout(db, g.rollout_id, reason);
		}
		if (!wave_share_met(g.succeeded, g.total, g.success_percent))
			return RESULT_OK;
		if ((r = wave_group_set_state(db, g.id, "finished")) !=
		    RESULT_OK)
			return r;
		/* The next group by position, if any. */
		{
			static const char next[] =
			    "SELECT id, approval FROM rollout_group WHERE "
			    "rollout_id = ?1 AND position > ?2 AND state = "
			    "'scheduled' ORDER BY position LIMIT 1";
			sqlite3_stmt *st = db_prepare(db, next);
			bool approval = false;
			int64_t nid = 0;

			if (st == NULL)
				return RESULT_ERROR;
			db_bind_int64(st, 1, g.rollout_id);
			db_bind_int64(st, 2, g.position);
			if (sqlite3_step(st) == SQLITE_ROW) {
				nid = sqlite3_column_int64(st, 0);
				approval = sqlite3_column_int(st, 1) != 0;
			}
			db_done(st);
			if (nid == 0)
				return RESULT_OK;
			if ((r = wave_group_set_state(db, nid,
			         approval ? "waiting_approval" : "running")) !=
			    RESULT_OK)
				return r;
			log_info("rollout %lld: group %d done (%lld of %lld "
			         "updated), the next one %s",
			    (long long)g.rollout_id, g.position,
			    (long long)g.succeeded, (long long)g.total,
			    approval ? "waits for approval" : "runs");
			if (approval)
				return RESULT_OK;
			group_id = nid;
		}
	}
	return RESULT_OK;
}

/*
 * Move device_id's state in rollout_id to state, with the counters of
 * its group.  A device of the rollout not placed in it (one that joined
 * the feed after the start, or was not offered the set then) joins its
 * last group (not a follow-up wave of failed devices).
 */
static enum result
wave_target_set(
    struct db *db, int64_t rollout_id, int64_t device_id, const char *state)
{
	static const char find[] =
	    "SELECT group_id, state FROM rollout_target WHERE rollout_id = ?1 "
	    "AND device_id = ?2";
	static const char last[] =
	    "SELECT id FROM rollout_group WHERE rollout_id = ?1 AND retry = 0 "
	    "ORDER BY position DESC LIMIT 1";
	static const char join[] =
	    "INSERT INTO rollout_target (rollout_id, device_id, group_id, "
	    "state) VALUES (?1, ?2, ?3, 'pending') ON CONFLICT (rollout_id, "
	    "device_id) DO UPDATE SET group_id = ?3, state = 'pending'";
	static const char set[] =
	    "UPDATE rollout_target SET state = ?3 WHERE rollout_id = ?1 AND "
	    "device_id = ?2";
	static const char count[] =
	    "UPDATE rollout_group SET total = total + ?4, "
	    "running = running + CASE WHEN ?3 = 'running' THEN 1 ELSE 0 END "
	    "  - CASE WHEN ?2 = 'running' THEN 1 ELSE 0 END, "
	    "succeeded = succeeded + CASE WHEN ?3 = 'succeeded' THEN 1 ELSE 0 "
	    "  END - CASE WHEN ?2 = 'succeeded' THEN 1 ELSE 0 END, "
	    "failed = failed + CASE WHEN ?3 = 'failed' THEN 1 ELSE 0 END "
	    "  - CASE WHEN ?2 = 'failed' THEN 1 ELSE 0 END, "
	    "canceled = canceled + CASE WHEN ?3 = 'canceled' THEN 1 ELSE 0 "
	    "  END - CASE WHEN ?2 = 'canceled' THEN 1 ELSE 0 END "
	    "WHERE id = ?1";
	char old[16] = "";
	int64_t group = 0, joined = 0;
	sqlite3_stmt *st;
	enum result r;

	if ((st = db_prepare(db, find)) == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, rollout_id);
	db_bind_int64(st, 2, device_id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		group = sqlite3_column_int64(st, 0);
		snprintf(old, sizeof(old), "%s",
		    (const char *)sqlite3_column_text(st, 1));
	}
	db_done(st);
	if (group == 0) {
		if ((st = db_prepare(db, last)) == NULL)
			return RESULT_ERROR;
		db_bind_int64(st, 1, rollout_id);
		group = sqlite3_step(st) == SQLITE_ROW
		            ? sqlite3_column_int64(st, 0)
		            : 0;
		db_done(st);
		if (group == 0)
			return RESULT_OK; /* a rollout without groups */
		if ((st = db_prepare(db, join)) == NULL)
			return RESULT_ERROR;
		db_bind_int64(st, 1, rollout_id);
		db_bind_int64(st, 2, device_id);
		db_bind_int64(st, 3, group);
		if ((r = db_step_done(db, st, __func__)) != RESULT_OK)
			return r;
		snprintf(old, sizeof(old), "pending");
		joined = 1;
	}
	if (strcmp(old, state) == 0 && !joined)
		return RESULT_OK;
	if ((st = db_prepare(db, set)) == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, rollout_id);
	db_bind_int64(st, 2, device_id);
	db_bind_text(st, 3, state);
	if ((r = db_step_done(db, st, __func__)) != RESULT_OK)
		return r;
	if ((st = db_prepare(db, count)) == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, group);
	db_bind_text(st, 2, old);
	db_bind_text(st, 3, state);
	db_bind_int64(st, 4, joined);
	if ((r = db_step_done(db, st, __func__)) != RESULT_OK)
		return r;
	if (strcmp(state, "succeeded") == 0 || strcmp(state, "failed") == 0)
		return wave_advance(db, group);
	return RESULT_OK;
}

enum result
wave_action_changed(struct db *db, int64_t action_id)
{
	static const char sql[] =
	    "SELECT rollout_id, device_id, status, superseded FROM action "
	    "WHERE id = ?1 AND rollout_id IS NOT NULL";
	sqlite3_stmt *st = db_prepare(db, sql);
	int64_t rollout = 0, device = 0;
	char status[16] = "";
	bool superseded = false;

	if (st == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, action_id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		rollout = sqlite3_column_int64(st, 0);
		device = sqlite3_column_int64(st, 1);
		snprintf(status, sizeof(status), "%s",
		    (const char *)sqlite3_column_text(st, 2));
		superseded = sqlite3_column_int(st, 3) != 0;
	}
	db_done(st);
	if (rollout == 0)
		return RESULT_OK;
	return wave_target_set(
	    db, rollout, device, wave_state_of_action(status, superseded));
}

enum result
wave_forget_device(struct db *db, int64_t device_id)
{
	static const char sql[] =
	    "UPDATE rollout_group SET total = total - 1, "
	    "running = running - CASE WHEN t.state = 'running' THEN 1 ELSE 0 "
	    "  END, "
	    "succeeded = succeeded - CASE WHEN t.state = 'succeeded' THEN 1 "
	    "  ELSE 0 END, "
	    "failed = failed - CASE WHEN t.state = 'failed' THEN 1 ELSE 0 END, "
	    "canceled = canceled - CASE WHEN t.state = 'canceled' THEN 1 "
	    "  ELSE 0 END "
	    "FROM rollout_target t WHERE t.group_id = rollout_group.id AND "
	    "t.device_id = ?1";
	sqlite3_stmt *st = db_prepare(db, sql);

	if (st == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, device_id);
	return db_step_done(db, st, __func__);
}

/* ---- the poll ---------------------------------------------------------- */

/* Does device_id fit the rollout's filter (NULL: every device)? */
static enum result
wave_filter_matches(
    struct db *db, const char *filter, int64_t device_id, bool *match)
{
	struct rsql_query q;
	sqlite3_stmt *st;
	char why[128], *sql;

	*match = false;
	if (filter == NULL) {
		*match = true;
		return RESULT_OK;
	}
	if (rsql_compile(filter, wave_filter_fields, NELEM(wave_filter_fields),
	        &q, why, sizeof(why)) != RSQL_OK)
		return RESULT_OK; /* checked at creation: never here */
	sql = xasprintf("SELECT 1 FROM device d WHERE d.id = ?1 AND %s", q.sql);
	st = db_prepare_once(db, sql);
	free(sql);
	if (st == NULL) {
		rsql_query_free(&q);
		return RESULT_ERROR;
	}
	db_bind_int64(st, 1, device_id);
	db_bind_query(st, 2, &q);
	*match = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	rsql_query_free(&q);
	return RESULT_OK;
}

enum result
wave_seat(struct db *db, int64_t rollout_id, int64_t device_id,
    enum wave_seat *seat, bool *admit, bool *retry)
{
	/* A follow-up wave forces one offer: once the device failed (or
	 * got anything) there, the policy's rules apply again. */
	static const char sql[] =
	    "SELECT t.group_id IS NULL, g.state, g.retry AND t.state = "
	    "'pending' FROM rollout_target t "
	    "LEFT JOIN rollout_group g ON g.id = t.group_id "
	    "WHERE t.rollout_id = ?1 AND t.device_id = ?2";
	sqlite3_stmt *st = db_prepare(db, sql);

	*seat = WAVE_SEAT_NONE;
	*admit = *retry = false;
	if (st == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, rollout_id);
	db_bind_int64(st, 2, device_id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		const char *state = (const char *)sqlite3_column_text(st, 1);

		if (sqlite3_column_int(st, 0))
			*seat = WAVE_SEAT_OUT; /* considered, not targeted */
		else {
			*seat = WAVE_SEAT_PLACED;
			*admit = state && (strcmp(state, "running") == 0 ||
			                      strcmp(state, "finished") == 0);
			*retry = sqlite3_column_int(st, 2) != 0;
		}
	}
	db_done(st);
	return RESULT_OK;
}

enum result
wave_join(struct db *db, int64_t rollout_id, int64_t device_id, bool *match,
    bool *admit)
{
	static const char filter_sql[] =
	    "SELECT target_filter FROM rollout WHERE id = ?1";
	static const char last[] =
	    "SELECT state FROM rollout_group WHERE rollout_id = ?1 "
	    "AND retry = 0 ORDER BY position DESC LIMIT 1";
	sqlite3_stmt *st;
	const char *state;
	char *filter = NULL;
	enum result r;

	*match = *admit = false;
	if ((st = db_prepare(db, filter_sql)) == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, rollout_id);
	if (sqlite3_step(st) == SQLITE_ROW)
		filter = db_column_strdup(st, 0);
	db_done(st);
	r = wave_filter_matches(db, filter, device_id, match);
	free(filter);
	if (r != RESULT_OK || !*match)
		return r;
	if ((st = db_prepare(db, last)) == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, rollout_id);
	if (sqlite3_step(st) == SQLITE_ROW &&
	    (state = (const char *)sqlite3_column_text(st, 0)))
		*admit = strcmp(state, "running") == 0 ||
		         strcmp(state, "finished") == 0;
	db_done(st);
	return RESULT_OK;
}

/* ---- start ------------------------------------------------------------- */

/* One device the start considers, and where it goes. */
struct wave_candidate {
	int64_t id;
	/* pending, succeeded, failed; NULL: its filter leaves it out (a
	 * row without a group, so that it is not considered again). */
	const char *state;
};

/*
 * Read the feed's devices in rollout mode, and what the policy would
 * answer for each about set ds: into *out (when not NULL) the devices
 * to record, and into *k (when not NULL) how many of each kind.  The
 * start and the preview both read the feed this way, so that a preview
 * counts what a start then places.
 */
static enum result
wave_read_feed(struct db *db, const char *feed, const char *filter, int64_t ds,
    struct wave_candidate **out, size_t *n, struct wave_preview *k)
{
	struct policy_device pd = {.mode = MODE_ROLLOUT};
	struct wave_candidate *c = NULL;
	struct rsql_query q = {0};
	char *sql, why[128];
	struct policy_sw sw;
	struct dist d;
	sqlite3_stmt *st;
	size_t cap = 0;
	enum result r;
	int chosen;

	if (out)
		*out = NULL;
	*n = 0;
	if (k)
		memset(k, 0, sizeof(*k));
	if ((r = dist_load(db, ds, true, &d)) != RESULT_OK)
		return r;
	memset(&sw, 0, sizeof(sw));
	sw.id = d.id;
	sw.version = d.version;
	sw.version_scheme = d.version_scheme;
	sw.rauc_compatible = d.rauc_compatible;
	sw.hw = d.hw;
	sw.nhw = d.nhw;
	r = RESULT_ERROR;
	if (filter &&
	    rsql_compile(filter, wave_filter_fields, NELEM(wave_filter_fields),
	        &q, why, sizeof(why)) != RSQL_OK) {
		r = RESULT_INVALID;
		goto out_dist;
	}
	sql = xasprintf(
	    "SELECT d.id, d.hw_model, d.hw_revision, d.compatible, "
	    "d.installed_version, d.allow_downgrade, (SELECT a.status FROM "
	    "action a WHERE a.device_id = d.id ORDER BY a.id DESC LIMIT 1), "
	    "CASE WHEN %s THEN 1 ELSE 0 END "
	    "FROM device d WHERE d.feed = ?%zu AND d.mode = 'rollout' "
	    "ORDER BY d.id",
	    q.sql ? q.sql : "1 = 1", q.nparams + 1);
	st = db_prepare_once(db, sql);
	free(sql);
	if (st == NULL)
		goto out_query;
	/* The filter's placeholders come first in the text: 1..n. */
	db_bind_query(st, 1, &q);
	db_bind_text(st, (int)q.nparams + 1, feed);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *last = (const char *)sqlite3_column_text(st, 6);
		enum policy_reason why_not;
		const char *state;

		pd.hw_model = (const char *)sqlite3_column_text(st, 1);
		pd.hw_revision = (const char *)sqlite3_column_text(st, 2);
		pd.compatible = (const char *)sqlite3_column_text(st, 3);
		pd.installed_version = (const char *)sqlite3_column_text(st, 4);
		pd.allow_downgrade = sqlite3_column_int(st, 5) != 0;
		pd.last_action_failed = last && strcmp(last, "failed") == 0;
		why_not = policy_choose(&pd, &sw, 1, &chosen);
		if (sqlite3_column_int(st, 7) == 0) {
			state = NULL;
			if (k)
				k->filtered++;
		} else if (why_not == POLICY_OFFER)
			state = "pending";
		else if (why_not == POLICY_UP_TO_DATE)
			state = "succeeded"; /* runs it already */
		else if (why_not == POLICY_PARKED)
			state = "failed"; /* its last update failed */
		else {
			/* Other hardware, a downgrade: not placed; it joins
			 * if it is offered the set later. */
			if (k && why_not == POLICY_INCOMPATIBLE)
				k->other_hw++;
			else if (k)
				k->downgrade++;
			continue;
		}
		if (k && state) {
			k->reach++;
			if (strcmp(state, "pending") == 0)
				k->pending++;
			else if (strcmp(state, "succeeded") == 0)
				k->succeeded++;
			else
				k->failed++;
		}
		if (out == NULL)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 1024;
			c = xrealloc(c, cap * sizeof(*c));
		}
		c[*n].id = sqlite3_column_int64(st, 0);
		c[*n].state = state;
		(*n)++;
	}
	sqlite3_finalize(st);
	if (out)
		*out = c;
	r = RESULT_OK;
out_query:
	rsql_query_free(&q);
out_dist:
	dist_clear(&d);
	return r;
}

/* The devices rollout_id's start records, read from its feed. */
static enum result
wave_candidates(
    struct db *db, int64_t rollout_id, struct wave_candidate **out, size_t *n)
{
	static const char head[] =
	    "SELECT r.feed, r.target_filter, r.ds_id FROM rollout r "
	    "WHERE r.id = ?1";
	char *feed = NULL, *filter = NULL;
	sqlite3_stmt *st;
	int64_t ds = 0;
	enum result r;

	*out = NULL;
	*n = 0;
	if ((st = db_prepare(db, head)) == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, rollout_id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		feed = db_column_strdup(st, 0);
		filter = db_column_strdup(st, 1);
		ds = sqlite3_column_int64(st, 2);
	}
	db_done(st);
	if (feed == NULL)
		return RESULT_NOTFOUND;
	r = wave_read_feed(db, feed, filter, ds, out, n, NULL);
	if (r == RESULT_NOTFOUND)
		r = RESULT_ERROR; /* its set is gone: a broken invariant */
	free(feed);
	free(filter);
	return r;
}

enum result
wave_preview(struct db *db, const char *feed, const char *filter, int64_t ds_id,
    struct wave_preview *out)
{
	size_t n;

	return wave_read_feed(db, feed, filter, ds_id, NULL, &n, out);
}

static enum result
wave_set_rollout_state(
    struct db *db, int64_t id, const char *from, const char *to)
{
	static const char sql[] =
	    "UPDATE rollout SET "
	    "state = CASE WHEN ?3 = 'running' AND paused = 1 THEN 'paused' "
	    "  ELSE ?3 END, "
	    "paused = CASE WHEN ?3 = 'paused' OR (?3 = 'running' AND paused = "
	    "  1) THEN 1 ELSE 0 END, "
	    "started_at = CASE WHEN ?3 = 'running' AND started_at IS NULL "
	    "  THEN ?4 ELSE started_at END "
	    "WHERE id = ?1 AND state = ?2";
	sqlite3_stmt *st = db_prepare(db, sql);

	if (st == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, id);
	db_bind_text(st, 2, from);
	db_bind_text(st, 3, to);
	db_bind_int64(st, 4, now_s());
	return db_step_changed(db, st, __func__);
}

/* Record candidate c in group g (NULL: not targeted). */
static enum result
wave_place(struct db *db, int64_t rollout_id, const struct wave_candidate *c,
    const struct wave_group *g)
{
	static const char sql[] =
	    "INSERT INTO rollout_target (rollout_id, device_id, group_id, "
	    "state) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (rollout_id, "
	    "device_id) DO NOTHING";
	sqlite3_stmt *st = db_prepare(db, sql);

	if (st == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, rollout_id);
	db_bind_int64(st, 2, c->id);
	if (g)
		db_bind_int64(st, 3, g->id);
	db_bind_text(st, 4, c->state ? c->state : "pending");
	return db_step_done(db, st, __func__);
}

/* Set a group's counters from what was placed in it. */
static enum result
wave_count_group(struct db *db, int64_t group_id)
{
	static const char sql[] =
	    "UPDATE rollout_group SET "
	    "total = (SELECT count(*) FROM rollout_target t WHERE t.group_id "
	    "  = ?1), "
	    "succeeded = (SELECT count(*) FROM rollout_target t WHERE "
	    "  t.group_id = ?1 AND t.state = 'succeeded'), "
	    "failed = (SELECT count(*) FROM rollout_target t WHERE t.group_id "
	    "  = ?1 AND t.state = 'failed'), running = 0, canceled = 0 "
	    "WHERE id = ?1";
	sqlite3_stmt *st = db_prepare(db, sql);

	if (st == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, group_id);
	return db_step_done(db, st, __func__);
}

enum result
wave_start(struct db *db, int64_t id)
{
	struct wave_candidate *c = NULL;
	struct wave_group *g = NULL;
	size_t nc = 0, ng = 0, targeted = 0, placed = 0, i, k;
	size_t *ends = NULL;
	enum result r;

	/* ready -> starting; a restart resumes a starting one afresh. */
	if (db_begin(db) == -1)
		return RESULT_ERROR;
	r = wave_set_rollout_state(db, id, "ready", "starting");
	if (r == RESULT_NOTFOUND) {
		static const char again[] =
		    "DELETE FROM rollout_target WHERE rollout_id = ?1 AND "
		    "EXISTS (SELECT 1 FROM rollout WHERE id = ?1 AND state = "
		    "'starting')";
		sqlite3_stmt *st = db_prepare(db, again);

		r = RESULT_ERROR;
		if (st) {
			db_bind_int64(st, 1, id);
			r = db_step_changed(db, st, __func__);
		}
		if (r == RESULT_NOTFOUND) {
			/* Nothing was placed yet; is it starting at all? */
			static const char is[] =
			    "SELECT 1 FROM rollout WHERE id = ?1 AND state = "
			    "'starting'";
			if ((st = db_prepare(db, is)) != NULL) {
				db_bind_int64(st, 1, id);
				r = sqlite3_step(st) == SQLITE_ROW
				        ? RESULT_OK
				        : RESULT_CONFLICT;
				db_done(st);
			}
		}
	}
	if (r != RESULT_OK) {
		db_rollback(db);
		return r;
	}
	if (db_commit(db) == -1)
		return RESULT_ERROR;
	/* Read outside a write transaction: the fleet keeps polling. */
	if ((r = wave_candidates(db, id, &c, &nc)) != RESULT_OK)
		goto fail;
	g = wave_groups_load(db, id, &ng);
	if (ng == 0) {
		r = RESULT_ERROR;
		goto fail;
	}
	for (i = 0; i < nc; i++)
		if (c[i].state)
			targeted++;
	/* Each group's share of the targeted devices, in id order. */
	ends = xcalloc(ng, sizeof(*ends));
	for (k = 0; k < ng; k++) {
		size_t left = targeted - placed, take = left;

		if (k + 1 < ng && g[k].target_count > 0)
			take = (size_t)g[k].target_count < left
			           ? (size_t)g[k].target_count
			           : left;
		else if (k + 1 < ng && g[k].target_percent > 0)
			take = (left * (size_t)g[k].target_percent + 99) / 100;
		placed += take;
		ends[k] = placed;
	}
	/* In batches: the polls' writes wait for one batch at most. */
	for (i = 0, k = 0, placed = 0; i < nc;) {
		size_t end =
		    nc - i > WAVE_PLACE_BATCH ? i + WAVE_PLACE_BATCH : nc;

		if (db_begin(db) == -1) {
			r = RESULT_ERROR;
			goto fail;
		}
		for (; i < end; i++) {
			const struct wave_group *into = NULL;

			if (c[i].state) {
				while (k + 1 < ng && placed >= ends[k])
					k++;
				into = &g[k];
				placed++;
			}
			if ((r = wave_place(db, id, &c[i], into)) !=
			    RESULT_OK) {
				db_rollback(db);
				goto fail;
			}
		}
		if (db_commit(db) == -1) {
			r = RESULT_ERROR;
			goto fail;
		}
	}
	/* Count, run the first group and the rollout. */
	if (db_begin(db) == -1) {
		r = RESULT_ERROR;
		goto fail;
	}
	for (k = 0; k < ng; k++)
		if ((r = wave_count_group(db, g[k].id)) != RESULT_OK)
			goto rollback;
	if ((r = wave_group_set_state(db, g[0].id,
	         g[0].approval ? "waiting_approval" : "running")) !=
	        RESULT_OK ||
	    (r = wave_set_rollout_state(db, id, "starting", "running")) !=
	        RESULT_OK ||
	    (r = wave_advance(db, g[0].id)) != RESULT_OK)
		goto rollback;
	if (db_commit(db) == -1) {
		r = RESULT_ERROR;
		goto fail;
	}
	rollout_catalog_changed();
	log_info("rollout %lld started: %zu devices in %zu groups (%zu not "
	         "targeted)",
	    (long long)id, targeted, ng, nc - targeted);
	free(ends);
	free(g);
	free(c);
	return RESULT_OK;
rollback:
	db_rollback(db);
fail:
	free(ends);
	free(g);
	free(c);
	return r;
}

/* ---- operators --------------------------------------------------------- */

enum result
wave_approve(struct db *db, int64_t rollout_id, int64_t group_id)
{
	struct wave_group g;
	enum result r;

	if (db_begin(db) == -1)
		return RESULT_ERROR;
	r = wave_group_load(db, group_id, &g);
	if (r == RESULT_OK && g.rollout_id != rollout_id)
		r = RESULT_NOTFOUND;
	if (r == RESULT_OK && strcmp(g.state, "waiting_approval") != 0)
		r = RESULT_CONFLICT;
	if (r == RESULT_OK)
		r = wave_group_set_state(db, group_id, "running");
	if (r == RESULT_OK)
		r = wave_advance(db, group_id);
	if (r != RESULT_OK) {
		db_rollback(db);
		return r;
	}
	return db_commit(db) == 0 ? RESULT_OK : RESULT_ERROR;
}

enum result
wave_trigger_next(struct db *db, int64_t rollout_id)
{
	static const char next[] =
	    "SELECT g.id FROM rollout_group g JOIN rollout r ON r.id = "
	    "g.rollout_id WHERE g.rollout_id = ?1 AND r.state = 'running' AND "
	    "g.state IN ('scheduled', 'waiting_approval') ORDER BY g.position "
	    "LIMIT 1";
	sqlite3_stmt *st;
	int64_t gid = 0;
	enum result r;

	if (db_begin(db) == -1)
		return RESULT_ERROR;
	if ((st = db_prepare(db, next)) == NULL) {
		db_rollback(db);
		return RESULT_ERROR;
	}
	db_bind_int64(st, 1, rollout_id);
	gid = db_count(st);
	r = gid ? wave_group_set_state(db, gid, "running") : RESULT_CONFLICT;
	if (r == RESULT_OK)
		r = wave_advance(db, gid);
	if (r != RESULT_OK) {
		db_rollback(db);
		return r;
	}
	return db_commit(db) == 0 ? RESULT_OK : RESULT_ERROR;
}

enum result
wave_resume(struct db *db, int64_t rollout_id)
{
	static const char sql[] =
	    "UPDATE rollout_group SET state = 'running' WHERE rollout_id = ?1 "
	    "AND state = 'error'";
	sqlite3_stmt *st = db_prepare(db, sql);

	if (st == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, rollout_id);
	return db_step_done(db, st, __func__);
}

enum result
wave_retry_failed(
    struct db *db, int64_t rollout_id, int64_t *group_id, int64_t *moved)
{
	static const char count[] =
	    "SELECT count(*) FROM rollout_target WHERE rollout_id = ?1 AND "
	    "state = 'failed' AND group_id IS NOT NULL";
	static const char position[] =
	    "SELECT COALESCE(max(position), 0) + 1 FROM rollout_group WHERE "
	    "rollout_id = ?1";
	static const char take[] =
	    "UPDATE rollout_group SET retried = retried + (SELECT count(*) "
	    "FROM rollout_target t WHERE t.group_id = rollout_group.id AND "
	    "t.state = 'failed'), total = total - (SELECT count(*) FROM "
	    "rollout_target t WHERE t.group_id = rollout_group.id AND "
	    "t.state = 'failed'), failed = 0 WHERE rollout_id = ?1";
	static const char move[] =
	    "UPDATE rollout_target SET group_id = ?2, state = 'pending' "
	    "WHERE rollout_id = ?1 AND state = 'failed' AND group_id IS NOT "
	    "NULL";
	static const char size[] =
	    "UPDATE rollout_group SET total = ?2 WHERE id = ?1";
	sqlite3_stmt *st;
	char name[64];
	int64_t pos = 0;
	enum result r;

	*group_id = *moved = 0;
	if (db_begin(db) == -1)
		return RESULT_ERROR;
	r = RESULT_ERROR;
	if ((st = db_prepare(db, count)) == NULL)
		goto fail;
	db_bind_int64(st, 1, rollout_id);
	*moved = db_count(st);
	if (*moved == 0) {
		r = RESULT_CONFLICT;
		goto fail;
	}
	if ((st = db_prepare(db, position)) == NULL)
		goto fail;
	db_bind_int64(st, 1, rollout_id);
	pos = db_count(st);
	snprintf(name, sizeof(name), "Retry of failed devices (%lld)",
	    (long long)*moved);
	if ((r = wave_insert_group(db, rollout_id, (int)pos, name, NULL, true,
	         "running", group_id)) != RESULT_OK)
		goto fail;
	r = RESULT_ERROR;
	if ((st = db_prepare(db, take)) == NULL)
		goto fail;
	db_bind_int64(st, 1, rollout_id);
	if ((r = db_step_done(db, st, __func__)) != RESULT_OK)
		goto fail;
	r = RESULT_ERROR;
	if ((st = db_prepare(db, move)) == NULL)
		goto fail;
	db_bind_int64(st, 1, rollout_id);
	db_bind_int64(st, 2, *group_id);
	if ((r = db_step_done(db, st, __func__)) != RESULT_OK)
		goto fail;
	r = RESULT_ERROR;
	if ((st = db_prepare(db, size)) == NULL)
		goto fail;
	db_bind_int64(st, 1, *group_id);
	db_bind_int64(st, 2, *moved);
	if ((r = db_step_done(db, st, __func__)) != RESULT_OK)
		goto fail;
	if (db_commit(db) == -1)
		return RESULT_ERROR;
	log_info("rollout %lld: %lld failed devices retried in group %lld",
	    (long long)rollout_id, (long long)*moved, (long long)*group_id);
	return RESULT_OK;
fail:
	db_rollback(db);
	return r;
}

/* ---- JSON -------------------------------------------------------------- */

static json_t *
wave_group_to_json(const struct wave_group *g)
{
	int64_t pending = wave_group_pending(g) - g->superseded;
	json_t *o = json_pack(
	    "{s:I, s:i, s:s, s:I, s:I, s:b, s:b, s:{s:I, s:I, s:I, s:I, s:I, "
	    "s:I, s:I, s:I}}",
	    "id", (json_int_t)g->id, "position", g->position, "state", g->state,
	    "success_percent", (json_int_t)g->success_percent, "error_percent",
	    (json_int_t)g->error_percent, "approval", g->approval, "retry",
	    g->retry, "counts", "total", (json_int_t)(g->total - g->superseded),
	    "pending", (json_int_t)pending, "running", (json_int_t)g->running,
	    "succeeded", (json_int_t)g->succeeded, "failed",
	    (json_int_t)g->failed, "canceled", (json_int_t)g->canceled,
	    "retried", (json_int_t)g->retried, "superseded",
	    (json_int_t)g->superseded);

	if (o == NULL)
		return NULL;
	json_object_set_new(o, "name", json_string(g->name));
	if (g->target_percent)
		json_object_set_new(
		    o, "percent", json_integer(g->target_percent));
	if (g->target_count)
		json_object_set_new(o, "count", json_integer(g->target_count));
	json_object_set_new(o, "started_at",
	    g->started_at ? json_integer(g->started_at) : json_null());
	json_object_set_new(o, "finished_at",
	    g->finished_at ? json_integer(g->finished_at) : json_null());
	return o;
}

json_t *
wave_groups_json(struct db *db, int64_t rollout_id)
{
	size_t n;
	struct wave_group *g = wave_groups_read(db, rollout_id, &n);
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, wave_group_to_json(&g[i]));
	free(g);
	return a;
}

json_t *
wave_totals_json(struct db *db, int64_t rollout_id, bool exact)
{
	size_t n;
	struct wave_group *g = exact ? wave_groups_read(db, rollout_id, &n)
	                             : wave_groups_load(db, rollout_id, &n);
	int64_t v[7] = {0};

	for (size_t i = 0; i < n; i++) {
		v[0] += g[i].total - g[i].superseded;
		v[1] += wave_group_pending(&g[i]) - g[i].superseded;
		v[2] += g[i].running;
		v[3] += g[i].succeeded;
		v[4] += g[i].failed;
		v[5] += g[i].canceled;
		v[6] += g[i].superseded;
	}
	free(g);
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "targeted",
	    (json_int_t)v[0], "pending", (json_int_t)v[1], "running",
	    (json_int_t)v[2], "succeeded", (json_int_t)v[3], "failed",
	    (json_int_t)v[4], "canceled", (json_int_t)v[5], "superseded",
	    (json_int_t)v[6]);
}

json_t *
wave_group_json(struct db *db, int64_t rollout_id, int64_t group_id)
{
	json_t *all = wave_groups_json(db, rollout_id), *v, *found = NULL;
	size_t i;

	json_array_foreach(all, i, v)
	{
		if (json_integer_value(json_object_get(v, "id")) == group_id) {
			found = json_incref(v);
			break;
		}
	}
	json_decref(all);
	return found;
}

json_t *
wave_group_devices_json(struct db *db, int64_t rollout_id, int64_t group_id,
    const char *state, int64_t limit, int64_t offset)
{
	static const char sql[] =
	    "SELECT d.controller_id, d.name, t.state FROM rollout_target t "
	    "JOIN device d ON d.id = t.device_id WHERE t.group_id = ?1 AND "
	    "(?2 IS NULL OR t.state = ?2) ORDER BY d.controller_id "
	    "LIMIT ?3 OFFSET ?4";
	static const char count[] =
	    "SELECT count(*) FROM rollout_target t WHERE t.group_id = ?1 AND "
	    "(?2 IS NULL OR t.state = ?2)";
	struct wave_group g;
	sqlite3_stmt *st;
	json_t *list;
	int64_t total;

	if (wave_group_load(db, group_id, &g) != RESULT_OK ||
	    g.rollout_id != rollout_id)
		return NULL;
	if ((st = db_prepare(db, count)) == NULL)
		return NULL;
	db_bind_int64(st, 1, group_id);
	db_bind_text(st, 2, state);
	total = db_count(st);
	if ((st = db_prepare(db, sql)) == NULL)
		return NULL;
	db_bind_int64(st, 1, group_id);
	db_bind_text(st, 2, state);
	db_bind_int64(st, 3, limit);
	db_bind_int64(st, 4, offset);
	list = json_array();
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 1);

		json_array_append_new(list,
		    json_pack("{s:s, s:s?, s:s}", "controller_id",
		        (const char *)sqlite3_column_text(st, 0), "name", name,
		        "state", (const char *)sqlite3_column_text(st, 2)));
	}
	db_done(st);
	return json_pack("{s:o, s:I, s:I, s:I}", "devices", list, "total",
	    (json_int_t)total, "limit", (json_int_t)limit, "offset",
	    (json_int_t)offset);
}

bool
wave_state_valid(const char *state)
{
	for (int i = 0; wave_target_states[i]; i++)
		if (strcmp(state, wave_target_states[i]) == 0)
			return true;
	return false;
}

bool
wave_list_state_valid(const char *state)
{
	return strcmp(state, "targeted") == 0 ||
	       strcmp(state, "superseded") == 0 || wave_state_valid(state);
}

json_t *
wave_rollout_devices_json(struct db *db, int64_t rollout_id, const char *state,
    int64_t limit, int64_t offset)
{
	/* The device's newest action of the rollout, and its newest
	 * message: why it failed, or how far it got. */
	static const char sql[] =
	    "SELECT dv.controller_id, dv.name, " WAVE_REACH_STATE ", g.id, "
	    "g.name, (SELECT max(a.id) FROM action a WHERE a.device_id = "
	    "t.device_id AND a.rollout_id = t.rollout_id) FROM " WAVE_REACH_FROM
	    " JOIN rollout_group g ON g.id = t.group_id WHERE t.rollout_id = "
	    "?1 AND " WAVE_REACH_MATCH("?2") " ORDER BY t.device_id "
	                                     "LIMIT ?3 OFFSET ?4";
	/* A state only a stored state can be (superseded devices are
	 * pending): by the group index, not a walk of every device of the
	 * rollout looking for the few running or failed ones. */
	static const char stored[] =
	    "SELECT dv.controller_id, dv.name, t.state, g.id, g.name, (SELECT "
	    "max(a.id) FROM action a WHERE a.device_id = t.device_id AND "
	    "a.rollout_id = t.rollout_id) FROM rollout_group g JOIN "
	    "rollout_target t ON t.group_id = g.id AND t.state = ?2 JOIN "
	    "device "
	    "dv ON dv.id = t.device_id WHERE g.rollout_id = ?1 ORDER BY "
	    "t.device_id LIMIT ?3 OFFSET ?4";
	sqlite3_stmt *st;
	json_t *list, *totals;
	int64_t total, *actions;
	size_t n = 0;

	/* The total is the rollout's count of that state, not a count of
	 * rows: at a million devices that would read them all. */
	totals = wave_totals_json(db, rollout_id, true);
	total = json_integer_value(
	    json_object_get(totals, state ? state : "targeted"));
	json_decref(totals);
	if (offset >= total)
		return json_pack("{s:[], s:I, s:I, s:I}", "devices", "total",
		    (json_int_t)total, "limit", (json_int_t)limit, "offset",
		    (json_int_t)offset);
	st = state && strcmp(state, "pending") != 0 && wave_state_valid(state)
	         ? db_prepare(db, stored)
	         : db_prepare(db, sql);
	if (st == NULL)
		return NULL;
	db_bind_int64(st, 1, rollout_id);
	db_bind_text(st, 2, state);
	db_bind_int64(st, 3, limit);
	db_bind_int64(st, 4, offset);
	list = json_array();
	actions = xcalloc((size_t)limit + 1, sizeof(*actions));
	while (n < (size_t)limit && sqlite3_step(st) == SQLITE_ROW) {
		int64_t aid = sqlite3_column_int64(st, 5);

		json_array_append_new(list,
		    json_pack("{s:s, s:s?, s:s, s:I, s:s, s:o}",
		        "controller_id",
		        (const char *)sqlite3_column_text(st, 0), "name",
		        (const char *)sqlite3_column_text(st, 1), "state",
		        (const char *)sqlite3_column_text(st, 2), "group_id",
		        (json_int_t)sqlite3_column_int64(st, 3), "group",
		        (const char *)sqlite3_column_text(st, 4), "action_id",
		        aid ? json_integer(aid) : json_null()));
		actions[n++] = aid;
	}
	db_done(st);
	/* Read after the cursor is closed: each is a query of its own. */
	for (size_t i = 0; i < n; i++) {
		char *why =
		    actions[i] ? action_last_message(db, actions[i]) : NULL;

		json_object_set_new(json_array_get(list, i), "reason",
		    why ? json_string(why) : json_null());
		free(why);
	}
	free(actions);
	return json_pack("{s:o, s:I, s:I, s:I}", "devices", list, "total",
	    (json_int_t)total, "limit", (json_int_t)limit, "offset",
	    (json_int_t)offset);
}

/* ---- the scheduler ----------------------------------------------------- */

void
wave_tick(struct db *db, bool first)
{
	static const char due[] =
	    "SELECT id FROM rollout WHERE (state = 'ready' AND start_at IS NOT "
	    "NULL AND start_at <= ?1) OR (?2 AND state = 'starting') "
	    "ORDER BY id LIMIT 16";
	sqlite3_stmt *st = db_prepare(db, due);
	int64_t *ids;
	size_t n;

	if (st == NULL)
		return;
	db_bind_int64(st, 1, now_s());
	db_bind_int64(st, 2, first);
	ids = db_collect_ids(st, &n);
	for (size_t i = 0; i < n; i++)
		if (wave_start(db, ids[i]) != RESULT_OK)
			log_warnx(
			    "rollout %lld: cannot start", (long long)ids[i]);
	free(ids);
}
