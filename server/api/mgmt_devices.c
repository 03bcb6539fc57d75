/*
 * Management API handlers about devices that explain themselves: the
 * requests refused at the door, a device's update log as a text file,
 * and bulk changes of the devices a filter of the list matches.
 */
#include "mgmt_devices.h"
#include "mgmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "action.h"
#include "app.h"
#include "db.h"
#include "device.h"
#include "http.h"
#include "mgmt_util.h"
#include "refused.h"
#include "wave.h"

void
mgmt_get_refused(struct request *req)
{
	struct db *db = mgmt_db(req);
	const char *unknown = http_query(req, "unknown");
	int64_t limit, offset;

	if (db == NULL || !mgmt_query_page(req, 100, &limit, &offset))
		return;
	if (unknown && strcmp(unknown, "0") != 0 && strcmp(unknown, "1") != 0 &&
	    strcmp(unknown, "false") != 0 && strcmp(unknown, "true") != 0) {
		http_reply_error(req, 400, "invalid_query",
		    "unknown takes 0, 1, false or true");
		return;
	}
	mgmt_reply_object(req, 200,
	    refused_list_json(db, limit, offset,
	        unknown && (strcmp(unknown, "1") == 0 ||
	                       strcmp(unknown, "true") == 0)));
}

void
mgmt_get_device_log(struct request *req)
{
	struct db *db = mgmt_db(req);
	char hash[65], disp[128], *text, *name;
	enum result r;
	size_t len = 0; /* the text holds no NUL: http_reply_text copies it */
	int64_t id;

	if (db == NULL)
		return;
	r = device_find_auth(db, req->params[0], &id, hash);
	explicit_bzero(hash, sizeof(hash));
	if (r != RESULT_OK) {
		http_reply_result(
		    req, r, r == RESULT_NOTFOUND ? "no such device" : NULL);
		return;
	}
	if ((text = action_log_text(db, id, req->params[0], &len)) == NULL) {
		http_reply_error(req, 500, NULL, "cannot read the update log");
		return;
	}
	/* The file name keeps the id's safe characters only: a quote or
	 * a control character must not end the header's value. */
	name = xstrdup(req->params[0]);
	for (char *p = name; *p; p++)
		if (strchr(
		        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		        "0123456789_.-",
		        *p) == NULL)
			*p = '_';
	snprintf(disp, sizeof(disp),
	    "attachment; filename=\"%.64s-update-log.txt\"", name);
	free(name);
	http_set_header(req, "Content-Disposition", disp);
	http_reply_text(req, 200, "text/plain; charset=utf-8", text);
	free(text);
}

/* Bulk changes by filter */

/* The longest filter value a bulk change by filter takes. */
#define MGMT_MATCH_TEXT_MAX 256

const char *
mgmt_device_filter_problem(const struct device_query *q)
{
	static const char *const states[] = {"registered", "idle", "pending",
	    "updating", "canceling", "in_sync", "failed", "canceled", NULL};
	static const char *const modes[] = {
	    "rollout", "latest", "assigned", "pinned", NULL};
	static const char *const seens[] = {"online", "overdue", "never", NULL};

	if (!mgmt_one_of(q->state, states))
		return "state is registered, idle, pending, updating, "
		       "canceling, in_sync, failed or canceled";
	if (!mgmt_one_of(q->mode, modes))
		return "mode is rollout, latest, assigned or pinned";
	if (!mgmt_one_of(q->seen, seens))
		return "seen is online, overdue or never";
	if (q->rollout_state &&
	    (q->rollout_id == 0 || !wave_list_state_valid(q->rollout_state)))
		return "rollout_state needs rollout, and is targeted, pending, "
		       "running, succeeded, failed, canceled or superseded";
	return NULL;
}

/*
 * The "match" object of a bulk request as a device query: the keys of
 * the list's query (q, state, feed, mode, seen, refused, rollout,
 * rollout_state, installed_version, installed_distribution_id), strings of at
 * most MGMT_MATCH_TEXT_MAX bytes (empty or null: no filter).  Borrows from
 * match.  Replies 400 and returns false otherwise.
 */
static bool
mgmt_devices_match_query(
    struct request *req, json_t *match, struct device_query *q)
{
	/* clang-format off */
	static const struct field fields[] = {
		{ "q",             T_STR | T_NULL },
		{ "state",         T_STR | T_NULL },
		{ "feed",          T_STR | T_NULL },
		{ "mode",          T_STR | T_NULL },
		{ "seen",          T_STR | T_NULL },
		{ "rollout_state", T_STR | T_NULL },
		{ "installed_version", T_STR | T_NULL },
		{ "refused",       T_BOOL | T_NULL },
		{ "rollout",       T_INT | T_NULL },
		{ "installed_distribution_id", T_INT | T_NULL },
	};
	/* clang-format on */
	const char **text[] = {&q->text, &q->state, &q->feed, &q->mode,
	    &q->seen, &q->rollout_state, &q->installed_version};
	const char *key, *why;
	json_t *v;
	size_t k;

	memset(q, 0, sizeof(*q));
	json_object_foreach(match, key, v)
	{
		for (k = 0; k < NELEM(fields); k++)
			if (strcmp(key, fields[k].name) == 0)
				break;
		if (k == NELEM(fields) ||
		    !((1u << json_typeof(v)) & fields[k].types)) {
			http_reply_error(req, 400, "invalid_field",
			    "match: unknown field or wrong type: %.*s",
			    (int)utf8_cut(key, 64), key);
			return false;
		}
		if (json_is_null(v))
			continue;
		if (k < NELEM(text)) {
			if (json_string_length(v) > MGMT_MATCH_TEXT_MAX) {
				http_reply_error(req, 400, "invalid_field",
				    "match: %s is longer than %d bytes", key,
				    MGMT_MATCH_TEXT_MAX);
				return false;
			}
			if (json_string_length(v) > 0)
				*text[k] = json_string_value(v);
		} else if (strcmp(key, "refused") == 0)
			q->refused = json_is_true(v);
		else if (strcmp(key, "installed_distribution_id") == 0) {
			if ((q->installed_ds = json_integer_value(v)) < 1) {
				http_reply_error(req, 400, "invalid_field",
				    "match: installed_distribution_id is a "
				    "distribution set id (1 or more)");
				return false;
			}
		} else if ((q->rollout_id = json_integer_value(v)) < 1) {
			http_reply_error(req, 400, "invalid_field",
			    "match: rollout is a rollout id (1 or more)");
			return false;
		}
	}
	if ((why = mgmt_device_filter_problem(q)) != NULL) {
		http_reply_error(req, 400, "invalid_field", "match: %s", why);
		return false;
	}
	return true;
}

/* 409 match_changed: the filter matches got devices, not want. */
static void
mgmt_devices_match_changed(struct request *req, size_t got, int64_t want)
{
	http_reply_json(req, 409,
	    json_pack("{s:s, s:s+, s:I, s:I}", "error", "match_changed",
	        "detail",
	        got > MGMT_BULK_MATCH_MAX
	            ? "the filter matches more devices than one change may "
	              "touch"
	            : "the filter matches another number of devices now",
	        "; look at the list again", "matched", (json_int_t)got,
	        "expected", (json_int_t)want));
}

void
mgmt_devices_bulk_match(
    struct request *req, struct db *db, json_t *body, json_t *patch, bool del)
{
	json_t *expected = json_object_get(body, "expected");
	const char *why = NULL;
	json_t *ids = NULL;
	struct device_query q;
	int64_t want, still, n = 0;
	size_t got;
	enum result r;

	if (json_object_get(body, "ids") != NULL) {
		http_reply_error(req, 400, "invalid_field",
		    "give either ids or match, not both");
		return;
	}
	want = json_integer_value(expected);
	if (!json_is_integer(expected) || want < 1 ||
	    want > MGMT_BULK_MATCH_MAX) {
		http_reply_error(req, 400, "invalid_field",
		    "match needs expected: the number of devices the filter "
		    "matched, 1 to %d",
		    MGMT_BULK_MATCH_MAX);
		return;
	}
	if (!mgmt_devices_match_query(req, json_object_get(body, "match"), &q))
		return;
	req->audit_target =
	    xasprintf("%lld devices by filter", (long long)want);
	/* The match is read first, outside the write: at a million devices
	 * a filter may read them all.  Inside the write each matched device
	 * is looked up again by its id, so that the check and the change see
	 * exactly the devices the operator counted, still matching. */
	if ((ids = device_match_ids(db, req->app->settings, &q,
	         MGMT_BULK_MATCH_MAX + 1)) == NULL) {
		http_reply_error(req, 500, NULL, "cannot list the devices");
		return;
	}
	if ((got = json_array_size(ids)) != (size_t)want) {
		mgmt_devices_match_changed(req, got, want);
		json_decref(ids);
		return;
	}
	if (db_begin(db) == -1) {
		http_reply_error(req, 500, NULL, "cannot begin the change");
		json_decref(ids);
		return;
	}
	if ((still = device_match_count(db, req->app->settings, &q, ids)) !=
	    want) {
		db_rollback(db);
		if (still < 0)
			http_reply_error(
			    req, 500, NULL, "cannot list the devices");
		else
			mgmt_devices_match_changed(req, (size_t)still, want);
		json_decref(ids);
		return;
	}
	if (patch && !mgmt_assign_allowed_bulk(req, db, ids, patch,
	                 json_is_true(json_object_get(body, "confirm")))) {
		db_rollback(db);
		json_decref(ids);
		return;
	}
	r = device_bulk_in(db, ids, patch, &n, &why);
	if (r != RESULT_OK) {
		db_rollback(db);
		http_reply_result(req, r, why);
	} else if (db_commit(db) == -1)
		http_reply_error(req, 500, NULL, "cannot commit the change");
	else
		http_reply_json(req, 200,
		    json_pack("{s:I, s:I}", del ? "deleted" : "updated",
		        (json_int_t)n, "matched", (json_int_t)got));
	json_decref(ids);
}
