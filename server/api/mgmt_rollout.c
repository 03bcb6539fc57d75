/*
 * The management API of rollouts in waves: starting a rollout, approving
 * a group, retrying the failed devices, and the groups with their
 * devices.  Creating, changing and listing rollouts is in mgmt.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "filter.h"
#include "http.h"
#include "mgmt.h"
#include "mgmt_util.h"
#include "rollout.h"
#include "wave.h"

/* The rollout id in params[0]; a 404 answer if there is none. */
static bool
mgmt_rollout_param(struct request *req, struct db *db, int64_t *id)
{
	json_t *o;

	if (!mgmt_id(req, id))
		return false;
	if ((o = rollout_to_json(db, *id)) == NULL) {
		http_reply_error(req, 404, NULL, "no such rollout");
		return false;
	}
	json_decref(o);
	req->audit_target = xasprintf("%lld", (long long)*id);
	return true;
}

void
mgmt_post_rollout_start(struct request *req)
{
	struct db *db = mgmt_db(req);
	enum result r;
	int64_t id;

	if (db == NULL || !mgmt_rollout_param(req, db, &id))
		return;
	if ((r = wave_start(db, id)) == RESULT_OK)
		mgmt_reply_object(req, 200, rollout_to_json(db, id));
	else
		http_reply_result(req, r,
		    r == RESULT_CONFLICT ? "the rollout was started already"
		                         : NULL);
}

void
mgmt_post_rollout_retry(struct request *req)
{
	struct db *db = mgmt_db(req);
	int64_t id, group, moved;
	enum result r;

	if (db == NULL || !mgmt_rollout_param(req, db, &id))
		return;
	if ((r = wave_retry_failed(db, id, &group, &moved)) == RESULT_OK) {
		rollout_catalog_changed();
		mgmt_reply_object(req, 201, wave_group_json(db, id, group));
	} else
		http_reply_result(req, r,
		    r == RESULT_CONFLICT ? "no device of the rollout failed"
		                         : NULL);
}

void
mgmt_get_rollout_groups(struct request *req)
{
	struct db *db = mgmt_db(req);
	int64_t id;

	if (db == NULL || !mgmt_rollout_param(req, db, &id))
		return;
	mgmt_reply_object(
	    req, 200, json_pack("{s:o}", "groups", wave_groups_json(db, id)));
}

/* The rollout and group ids of a group route; a 404 answer if the
 * rollout has no such group. */
static bool
mgmt_group_params(
    struct request *req, struct db *db, int64_t *id, int64_t *group)
{
	json_t *o;

	if (!mgmt_id(req, id) || !mgmt_id2(req, group))
		return false;
	if ((o = wave_group_json(db, *id, *group)) == NULL) {
		http_reply_error(req, 404, NULL, "no such group");
		return false;
	}
	json_decref(o);
	req->audit_target =
	    xasprintf("%lld/%lld", (long long)*id, (long long)*group);
	return true;
}

void
mgmt_get_rollout_group(struct request *req)
{
	struct db *db = mgmt_db(req);
	int64_t id, group;

	if (db && mgmt_group_params(req, db, &id, &group))
		mgmt_reply_object(req, 200, wave_group_json(db, id, group));
}

void
mgmt_post_rollout_group_approve(struct request *req)
{
	struct db *db = mgmt_db(req);
	int64_t id, group;
	enum result r;

	if (db == NULL || !mgmt_group_params(req, db, &id, &group))
		return;
	if ((r = wave_approve(db, id, group)) == RESULT_OK)
		mgmt_reply_object(req, 200, wave_group_json(db, id, group));
	else
		http_reply_result(req, r,
		    r == RESULT_CONFLICT ? "the group is not waiting for "
		                           "approval"
		                         : NULL);
}

void
mgmt_get_rollout_group_devices(struct request *req)
{
	struct db *db = mgmt_db(req);
	const char *state = http_query(req, "state");
	int64_t id, group, limit, offset;

	if (db == NULL || !mgmt_group_params(req, db, &id, &group) ||
	    !mgmt_query_page(req, 100, &limit, &offset))
		return;
	if (state && *state == '\0')
		state = NULL;
	if (state && !wave_state_valid(state)) {
		http_reply_error(req, 400, "invalid_query",
		    "state is pending, running, succeeded, failed or canceled");
		return;
	}
	mgmt_reply_object(req, 200,
	    wave_group_devices_json(db, id, group, state, limit, offset));
}

void
mgmt_get_rollout_devices(struct request *req)
{
	struct db *db = mgmt_db(req);
	const char *state = http_query(req, "state");
	int64_t id, limit, offset;
	json_t *o;

	if (db == NULL || !mgmt_rollout_param(req, db, &id) ||
	    !mgmt_query_page(req, 100, &limit, &offset))
		return;
	if (state && *state == '\0')
		state = NULL;
	if (state && !wave_list_state_valid(state)) {
		http_reply_error(req, 400, "invalid_query",
		    "state is targeted, pending, running, succeeded, failed, "
		    "canceled or superseded");
		return;
	}
	if ((o = wave_rollout_devices_json(db, id, state, limit, offset)) ==
	    NULL) {
		http_reply_result(req, RESULT_ERROR, NULL);
		return;
	}
	mgmt_reply_object(req, 200, o);
}

/* GET /api/v1/rollouts/preview?software_id=&feed=&target_filter=
 * &target_filter_id=: what a rollout made so would reach now. */
void
mgmt_get_rollout_preview(struct request *req)
{
	static const char *const texts[] = {"feed", "target_filter"};
	struct db *db = mgmt_db(req);
	const char *why = NULL, *v;
	json_t *body, *out = NULL;
	int64_t sw, fid;
	enum result r;

	if (db == NULL ||
	    !mgmt_query_int(req, "software_id", 1, INT64_MAX, 0, &sw) ||
	    !mgmt_query_int(req, "target_filter_id", 1, INT64_MAX, 0, &fid))
		return;
	body = json_object();
	if (sw)
		json_object_set_new(body, "software_id", json_integer(sw));
	if (fid)
		json_object_set_new(
		    body, "target_filter_id", json_integer(fid));
	for (size_t i = 0; i < NELEM(texts); i++) {
		if ((v = http_query(req, texts[i])) == NULL)
			continue;
		if (strlen(v) > WAVE_FILTER_MAX || !utf8_valid(v, strlen(v))) {
			json_decref(body);
			http_reply_error(req, 400, "invalid_query",
			    "feed and target_filter are UTF-8 of at most "
			    "4096 bytes");
			return;
		}
		json_object_set_new(body, texts[i], json_string(v));
	}
	r = rollout_preview(db, body, &out, &why);
	json_decref(body);
	if (r == RESULT_OK)
		mgmt_reply_object(req, 200, out);
	else
		http_reply_result(req, r, why);
}

/* Saved target filters, for rollouts (hawkBit's target filter queries). */

static json_t *
mgmt_filter_json(const struct target_filter *f)
{
	return json_pack("{s:I, s:s, s:s, s:I, s:s?, s:I, s:s?}", "id",
	    (json_int_t)f->id, "name", f->name, "query", f->query, "created_at",
	    (json_int_t)f->created_at, "created_by", f->created_by,
	    "modified_at", (json_int_t)f->modified_at, "modified_by",
	    f->modified_by);
}

void
mgmt_get_filters(struct request *req)
{
	struct db *db = mgmt_db(req);
	struct target_filter *f;
	int64_t limit, offset, total;
	json_t *list;
	size_t n;

	if (db == NULL || !mgmt_query_page(req, 100, &limit, &offset))
		return;
	if (filter_list(db, NULL, limit, offset, &f, &n, &total) != RESULT_OK) {
		http_reply_result(req, RESULT_ERROR, NULL);
		return;
	}
	list = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, mgmt_filter_json(&f[i]));
	filter_list_free(f, n);
	mgmt_reply_object(req, 200,
	    json_pack("{s:o, s:I, s:I, s:I}", "filters", list, "total",
	        (json_int_t)total, "limit", (json_int_t)limit, "offset",
	        (json_int_t)offset));
}

void
mgmt_post_filter(struct request *req)
{
	static const struct field fields[] = {
	    {"name", T_STR},
	    {"query", T_STR},
	};
	struct db *db = mgmt_db(req);
	struct target_filter f;
	const char *why = NULL;
	json_t *body;
	enum result r;
	int64_t id;

	if (db == NULL ||
	    (body = mgmt_body(req, fields, NELEM(fields))) == NULL)
		return;
	r = filter_create(db, json_string_value(json_object_get(body, "name")),
	    json_string_value(json_object_get(body, "query")), req->principal,
	    &id, &why);
	json_decref(body);
	if (r == RESULT_OK && filter_load(db, id, &f) == RESULT_OK) {
		req->audit_target = xasprintf("%lld", (long long)id);
		mgmt_reply_object(req, 201, mgmt_filter_json(&f));
		filter_clear(&f);
	} else
		http_reply_result(req, r == RESULT_OK ? RESULT_ERROR : r,
		    r == RESULT_CONFLICT ? "a filter of that name exists"
		                         : why);
}

void
mgmt_delete_filter(struct request *req)
{
	struct db *db = mgmt_db(req);
	enum result r;
	int64_t id;

	if (db == NULL || !mgmt_id(req, &id))
		return;
	req->audit_target = xasprintf("%lld", (long long)id);
	if ((r = filter_delete(db, id)) == RESULT_OK)
		http_reply_empty(req, 204);
	else
		http_reply_result(
		    req, r, r == RESULT_NOTFOUND ? "no such filter" : NULL);
}
