/*
 * hawkBit's rollout resource under /rest/v1/rollouts: rollouts with their
 * deployment groups, started, paused, resumed and retried, on Falconet's
 * rollouts in waves (server/model/wave.c).  A hawkBit rollout targets the
 * devices in rollout mode on the feed "default" that its
 * targetFilterQuery selects (devices created through /rest/v1 are there).
 *
 * Statuses, as hawkBit names them: a rollout is ready, starting,
 * running, paused or finished (every group finished); a group is
 * scheduled (also while it waits for approval), running, finished or
 * error.  totalTargetsPerStatus counts notstarted (pending), running,
 * finished (succeeded), error (failed), cancelled and scheduled (0: an
 * offer is made when the device polls).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "http.h"
#include "rest.h"
#include "rest_rollouts.h"
#include "rollout.h"
#include "wave.h"

#define REST_ROLLOUT_CREATE_MAX 1 /* hawkBit creates one rollout a call */

static const char *
rest_group_status(const char *state)
{
	if (strcmp(state, "waiting_approval") == 0)
		return "scheduled";
	return state;
}

static json_t *
rest_counts_per_status(json_t *c)
{
	json_int_t pending = json_integer_value(json_object_get(c, "pending"));

	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "scheduled",
	    (json_int_t)0, "running",
	    json_integer_value(json_object_get(c, "running")), "error",
	    json_integer_value(json_object_get(c, "failed")), "finished",
	    json_integer_value(json_object_get(c, "succeeded")), "cancelled",
	    json_integer_value(json_object_get(c, "canceled")), "notstarted",
	    pending);
}

static json_t *
rest_condition(const char *kind, json_int_t percent)
{
	char expr[24];

	snprintf(expr, sizeof(expr), "%lld", (long long)percent);
	return json_pack("{s:s, s:s}", "condition", kind, "expression", expr);
}

/* One of Falconet's groups (wave_groups_json) as MgmtRolloutGroupResponseBody.
 */
static json_t *
rest_group(struct request *req, int64_t rollout_id, json_t *g)
{
	json_t *c = json_object_get(g, "counts"), *o;
	json_int_t id = json_integer_value(json_object_get(g, "id"));
	json_int_t err =
	    json_integer_value(json_object_get(g, "error_percent"));

	o = json_pack("{s:I, s:s, s:s, s:I, s:o, s:o, s:{s:s, s:s}, s:b}", "id",
	    id, "name", json_string_value(json_object_get(g, "name")), "status",
	    rest_group_status(json_string_value(json_object_get(g, "state"))),
	    "totalTargets", json_integer_value(json_object_get(c, "total")),
	    "totalTargetsPerStatus", rest_counts_per_status(c),
	    "successCondition",
	    rest_condition("THRESHOLD",
	        json_integer_value(json_object_get(g, "success_percent"))),
	    "successAction", "action", "NEXTGROUP", "expression", "", "dynamic",
	    0);
	if (o == NULL)
		return NULL;
	if (json_object_get(g, "percent"))
		json_object_set_new(o, "targetPercentage",
		    json_real((double)json_integer_value(
		        json_object_get(g, "percent"))));
	if (err > 0) {
		json_object_set_new(
		    o, "errorCondition", rest_condition("THRESHOLD", err));
		json_object_set_new(o, "errorAction",
		    json_pack(
		        "{s:s, s:s}", "action", "PAUSE", "expression", ""));
	}
	rest_add_link(o, "self",
	    rest_link(req, "/rollouts/%lld/deploygroups/%lld",
	        (long long)rollout_id, (long long)id));
	return o;
}

/* The rollout's status as hawkBit says it. */
static const char *
rest_rollout_status(json_t *r)
{
	const char *state = json_string_value(json_object_get(r, "state"));
	json_t *groups = json_object_get(r, "groups"), *g;
	bool finished = json_array_size(groups) > 0;
	size_t i;

	if (state == NULL || strcmp(state, "running") != 0)
		return state ? state : "ready";
	json_array_foreach(groups, i, g)
	{
		if (strcmp(json_string_value(json_object_get(g, "state")),
		        "finished") != 0)
			finished = false;
	}
	return finished ? "finished" : "running";
}

/* Falconet's rollout JSON (rollout_to_json) as MgmtRolloutResponseBody. */
static json_t *
rest_rollout(struct request *req, json_t *r)
{
	json_int_t id = json_integer_value(json_object_get(r, "id"));
	json_t *c = json_object_get(r, "counts"), *o, *v;
	json_int_t created =
	    json_integer_value(json_object_get(r, "created_at"));

	o = json_pack("{s:I, s:s, s:I, s:s, s:I, s:o, s:I, s:b, s:s, s:I, s:I, "
	              "s:b}",
	    "id", id, "name", json_string_value(json_object_get(r, "name")),
	    "distributionSetId",
	    json_integer_value(json_object_get(r, "software_id")), "status",
	    rest_rollout_status(r), "totalTargets",
	    json_integer_value(json_object_get(c, "targeted")),
	    "totalTargetsPerStatus", rest_counts_per_status(c), "totalGroups",
	    (json_int_t)json_array_size(json_object_get(r, "groups")),
	    "deleted", 0, "type", "forced", "createdAt", created * 1000,
	    "lastModifiedAt", created * 1000, "dynamic", 0);
	if (o == NULL)
		return NULL;
	if ((v = json_object_get(r, "target_filter")) && json_is_string(v))
		json_object_set(o, "targetFilterQuery", v);
	if ((v = json_object_get(r, "start_at")) && json_is_integer(v))
		json_object_set_new(
		    o, "startAt", json_integer(json_integer_value(v) * 1000));
	rest_add_link(
	    o, "self", rest_link(req, "/rollouts/%lld", (long long)id));
	rest_add_link(
	    o, "start", rest_link(req, "/rollouts/%lld/start", (long long)id));
	rest_add_link(
	    o, "pause", rest_link(req, "/rollouts/%lld/pause", (long long)id));
	rest_add_link(o, "resume",
	    rest_link(req, "/rollouts/%lld/resume", (long long)id));
	rest_add_link(o, "triggerNextGroup",
	    rest_link(req, "/rollouts/%lld/triggerNextGroup", (long long)id));
	rest_add_link(o, "groups",
	    rest_link(req, "/rollouts/%lld/deploygroups?offset=0&limit=50",
	        (long long)id));
	rest_add_link(o, "distributionset",
	    rest_link(req, "/distributionsets/%lld",
	        (long long)json_integer_value(
	            json_object_get(r, "software_id"))));
	return o;
}

/* The rollout of params[0] as Falconet's JSON, or a 404 answer. */
static json_t *
rest_rollout_param(struct request *req, struct db *db, int64_t *id)
{
	json_t *r;

	if (!rest_id(req, 0, "Rollout", id))
		return NULL;
	if ((r = rollout_to_json(db, *id)) == NULL)
		rest_not_found_id(req, "Rollout", *id);
	else
		req->audit_target = xasprintf("%lld", (long long)*id);
	return r;
}

void
rest_get_rollouts(struct request *req)
{
	struct db *db = rest_db(req);
	struct rest_page p;
	json_t *page, *content, *r;
	size_t i;

	if (db == NULL || !rest_page(req, &p))
		return;
	if ((page = rollout_list_json(db, p.limit, p.offset, NULL, -1)) ==
	    NULL) {
		rest_status_error(req, 500, "The rollouts cannot be read.");
		return;
	}
	content = json_array();
	json_array_foreach(json_object_get(page, "rollouts"), i, r)
	    json_array_append_new(content, rest_rollout(req, r));
	rest_reply(req, 200,
	    rest_paged(
	        content, json_integer_value(json_object_get(page, "total"))));
	json_decref(page);
}

void
rest_get_rollout(struct request *req)
{
	struct db *db = rest_db(req);
	json_t *r;
	int64_t id;

	if (db == NULL || (r = rest_rollout_param(req, db, &id)) == NULL)
		return;
	rest_reply(req, 200, rest_rollout(req, r));
	json_decref(r);
}

/* A condition's THRESHOLD percentage, or -1 (a 400 answer given). */
static int
rest_threshold(struct request *req, json_t *cond, int dflt)
{
	const char *kind, *expr;
	char *end;
	long v;

	if (cond == NULL || json_is_null(cond))
		return dflt;
	kind = json_string_value(json_object_get(cond, "condition"));
	expr = json_string_value(json_object_get(cond, "expression"));
	if (!json_is_object(cond) || (kind && strcmp(kind, "THRESHOLD") != 0) ||
	    expr == NULL || (v = strtol(expr, &end, 10), *end != '\0') ||
	    end == expr || v < 0 || v > 100) {
		rest_error(req, 400, "ValidationException", REST_E_CONSTRAINT,
		    "A condition is {\"condition\": \"THRESHOLD\", "
		    "\"expression\": \"0\" to \"100\"}.");
		return -1;
	}
	return (int)v;
}

/*
 * Falconet's groups for a hawkBit body: its groups, or amountGroups
 * equal ones, with the rollout's conditions as the defaults.  NULL with
 * a 400 answer.
 */
static json_t *
rest_groups(struct request *req, json_t *body)
{
	json_t *in = json_object_get(body, "groups"), *out = json_array(), *g;
	json_t *amount = json_object_get(body, "amountGroups");
	int success, error;
	size_t i, n;

	if ((success = rest_threshold(
	         req, json_object_get(body, "successCondition"), 100)) < 0 ||
	    (error = rest_threshold(
	         req, json_object_get(body, "errorCondition"), 0)) < 0)
		goto fail;
	if (json_is_array(in) && json_array_size(in) > 0) {
		json_array_foreach(in, i, g)
		{
			json_t *pct = json_object_get(g, "targetPercentage");
			json_t *w = json_object();
			int s, e;

			if (!json_is_object(g) ||
			    (json_object_get(g, "targetFilterQuery") &&
			        !json_is_null(
			            json_object_get(g, "targetFilterQuery")))) {
				json_decref(w);
				rest_error(req, 400, "ValidationException",
				    REST_E_CONSTRAINT,
				    "A group is an object; groups take no "
				    "filter "
				    "of their own here (the rollout's "
				    "targetFilterQuery selects the devices).");
				goto fail;
			}
			if (json_is_string(json_object_get(g, "name")))
				json_object_set(
				    w, "name", json_object_get(g, "name"));
			if (json_is_number(pct) &&
			    i + 1 < json_array_size(in)) {
				double p = json_number_value(pct);

				if (!(p > 0 && p <= 100)) {
					json_decref(w);
					rest_error(req, 400,
					    "ValidationException",
					    REST_E_CONSTRAINT,
					    "targetPercentage is above 0 and "
					    "at "
					    "most 100.");
					goto fail;
				}
				json_object_set_new(w, "percent",
				    json_integer((int)(p + 0.999999)));
			}
			if ((s = rest_threshold(req,
			         json_object_get(g, "successCondition"),
			         success)) < 0 ||
			    (e = rest_threshold(req,
			         json_object_get(g, "errorCondition"), error)) <
			        0) {
				json_decref(w);
				goto fail;
			}
			json_object_set_new(
			    w, "success_percent", json_integer(s));
			json_object_set_new(
			    w, "error_percent", json_integer(e));
			json_array_append_new(out, w);
		}
		return out;
	}
	n = json_is_integer(amount) ? (size_t)json_integer_value(amount) : 1;
	if (!json_is_integer(amount) && amount && !json_is_null(amount)) {
		rest_error(req, 400, "ValidationException", REST_E_CONSTRAINT,
		    "amountGroups is a number.");
		goto fail;
	}
	if (n < 1 || n > WAVE_GROUPS_MAX) {
		rest_error(req, 400, "ValidationException", REST_E_CONSTRAINT,
		    "amountGroups is 1 to %d.", WAVE_GROUPS_MAX);
		goto fail;
	}
	for (i = 0; i < n; i++) {
		char name[32];

		/* Equal groups: each takes its share of what is left. */
		snprintf(name, sizeof(name), "group-%zu", i + 1);
		g = json_pack("{s:s, s:i, s:i}", "name", name,
		    "success_percent", success, "error_percent", error);
		if (i + 1 < n)
			json_object_set_new(g, "percent",
			    json_integer((int)((100 + (n - i) - 1) / (n - i))));
		json_array_append_new(out, g);
	}
	return out;
fail:
	json_decref(out);
	return NULL;
}

/*
 * The values of a new rollout Falconet does not do: an action type other
 * than forced (unknown fields are ignored, as hawkBit ignores them).
 * Replies 400 and returns false.
 */
static bool
rest_rollout_fields_ok(struct request *req, json_t *in)
{
	const char *type = json_string_value(json_object_get(in, "type"));

	if (json_object_get(in, "type") &&
	    (type == NULL || strcmp(type, "forced") != 0)) {
		rest_error(req, 400, "ValidationException", REST_E_CONSTRAINT,
		    "A rollout's updates are forced here; type is \"forced\" "
		    "or left out.");
		return false;
	}
	return true;
}

void
rest_post_rollout(struct request *req)
{
	struct db *db = rest_db(req);
	json_t *body, *in, *fal = NULL, *groups, *v, *r;
	const char *why = NULL;
	enum result res;
	int64_t id;

	if (db == NULL || (body = rest_body_object(req)) == NULL)
		return;
	in = body;
	if (!rest_rollout_fields_ok(req, in))
		goto done;
	if (!json_is_string(json_object_get(in, "name")) ||
	    !json_is_integer(json_object_get(in, "distributionSetId")) ||
	    !json_is_string(json_object_get(in, "targetFilterQuery"))) {
		rest_error(req, 400, "ValidationException", REST_E_CONSTRAINT,
		    "A rollout needs name, distributionSetId and "
		    "targetFilterQuery.");
		goto done;
	}
	if (json_is_true(json_object_get(in, "dynamic"))) {
		rest_error(req, 400, "ValidationException", REST_E_CONSTRAINT,
		    "Dynamic rollouts are not supported: a device that joins "
		    "later goes to the last group.");
		goto done;
	}
	if ((groups = rest_groups(req, in)) == NULL)
		goto done;
	fal = json_pack("{s:O, s:O, s:s, s:O, s:o}", "name",
	    json_object_get(in, "name"), "software_id",
	    json_object_get(in, "distributionSetId"), "feed", "default",
	    "target_filter", json_object_get(in, "targetFilterQuery"), "groups",
	    groups);
	if ((v = json_object_get(in, "startAt")) && json_is_integer(v))
		json_object_set_new(fal, "start_at",
		    json_integer(json_integer_value(v) / 1000));
	else
		json_object_set_new(fal, "start", json_false());
	res = rollout_create(db, fal, &id, &why);
	if (res == RESULT_INVALID && why &&
	    strncmp(why, "software_id", 11) == 0)
		rest_not_found_id(req, "DistributionSet",
		    json_integer_value(
		        json_object_get(in, "distributionSetId")));
	else if (res != RESULT_OK)
		rest_result(req, res, why);
	else {
		req->audit_target = xasprintf("%lld", (long long)id);
		r = rollout_to_json(db, id);
		rest_reply(req, 201, r ? rest_rollout(req, r) : NULL);
		json_decref(r);
	}
done:
	json_decref(fal);
	json_decref(body);
}

void
rest_delete_rollout(struct request *req)
{
	struct db *db = rest_db(req);
	json_t *r;
	int64_t id;

	if (db == NULL || (r = rest_rollout_param(req, db, &id)) == NULL)
		return;
	json_decref(r);
	rest_result(req, rollout_delete(db, id), NULL);
}

/* pause and resume: PATCH paused. */
static void
rest_rollout_pause(struct request *req, bool paused)
{
	struct db *db = rest_db(req);
	const char *why = NULL, *state;
	json_t *r, *patch;
	enum result res;
	int64_t id;

	if (db == NULL || (r = rest_rollout_param(req, db, &id)) == NULL)
		return;
	state = json_string_value(json_object_get(r, "state"));
	if (strcmp(state, paused ? "running" : "paused") != 0) {
		rest_error(req, 400, "RolloutIllegalStateException",
		    REST_E_ROLLOUT_STATE,
		    "Rollout %lld is %s; only a %s one "
		    "can be %s.",
		    (long long)id, state, paused ? "running" : "paused",
		    paused ? "paused" : "resumed");
		json_decref(r);
		return;
	}
	json_decref(r);
	patch = json_pack("{s:b}", "paused", paused);
	res = rollout_patch(db, id, patch, &why);
	json_decref(patch);
	if (res == RESULT_OK)
		http_reply_empty(req, 200);
	else
		rest_result(req, res, why);
}

void
rest_post_rollout_pause(struct request *req)
{
	rest_rollout_pause(req, true);
}

void
rest_post_rollout_resume(struct request *req)
{
	rest_rollout_pause(req, false);
}

/* start and triggerNextGroup: op on the rollout, 200; RESULT_CONFLICT
 * is hawkBit's illegal state with why. */
static void
rest_rollout_op(struct request *req, enum result (*op)(struct db *, int64_t),
    const char *why)
{
	struct db *db = rest_db(req);
	enum result res;
	json_t *r;
	int64_t id;

	if (db == NULL || (r = rest_rollout_param(req, db, &id)) == NULL)
		return;
	json_decref(r);
	if ((res = op(db, id)) == RESULT_OK)
		http_reply_empty(req, 200);
	else if (res == RESULT_CONFLICT)
		rest_error(req, 400, "RolloutIllegalStateException",
		    REST_E_ROLLOUT_STATE, "Rollout %lld %s.", (long long)id,
		    why);
	else
		rest_result(req, res, NULL);
}

void
rest_post_rollout_start(struct request *req)
{
	rest_rollout_op(req, wave_start, "is not ready");
}

void
rest_post_rollout_next(struct request *req)
{
	rest_rollout_op(req, wave_trigger_next,
	    "is not running or has no group left to start");
}

void
rest_post_rollout_retry(struct request *req)
{
	struct db *db = rest_db(req);
	int64_t id, group, moved;
	enum result res;
	json_t *r;

	if (db == NULL || (r = rest_rollout_param(req, db, &id)) == NULL)
		return;
	json_decref(r);
	if ((res = wave_retry_failed(db, id, &group, &moved)) == RESULT_OK) {
		rollout_catalog_changed();
		r = rollout_to_json(db, id);
		rest_reply(req, 201, r ? rest_rollout(req, r) : NULL);
		json_decref(r);
	} else if (res == RESULT_CONFLICT)
		rest_error(req, 400, "RolloutIllegalStateException",
		    REST_E_ROLLOUT_STATE, "No device of rollout %lld failed.",
		    (long long)id);
	else
		rest_result(req, res, NULL);
}

void
rest_get_rollout_groups(struct request *req)
{
	struct db *db = rest_db(req);
	json_t *r, *all, *content, *g;
	struct rest_page p;
	int64_t id;
	size_t i;

	if (db == NULL || !rest_page(req, &p) ||
	    (r = rest_rollout_param(req, db, &id)) == NULL)
		return;
	all = json_object_get(r, "groups");
	content = json_array();
	json_array_foreach(all, i, g)
	{
		if ((int64_t)i >= p.offset &&
		    (int64_t)json_array_size(content) < p.limit)
			json_array_append_new(content, rest_group(req, id, g));
	}
	rest_reply(
	    req, 200, rest_paged(content, (int64_t)json_array_size(all)));
	json_decref(r);
}

/* The group of params[1] in the rollout of params[0], or a 404 answer. */
static json_t *
rest_group_param(struct request *req, struct db *db, int64_t *id, int64_t *gid)
{
	json_t *g;

	if (!rest_id(req, 0, "Rollout", id) ||
	    !rest_id(req, 1, "RolloutGroup", gid))
		return NULL;
	if ((g = wave_group_json(db, *id, *gid)) == NULL)
		rest_not_found_id(req, "RolloutGroup", *gid);
	return g;
}

void
rest_get_rollout_group(struct request *req)
{
	struct db *db = rest_db(req);
	int64_t id, gid;
	json_t *g;

	if (db == NULL || (g = rest_group_param(req, db, &id, &gid)) == NULL)
		return;
	rest_reply(req, 200, rest_group(req, id, g));
	json_decref(g);
}

void
rest_get_rollout_group_targets(struct request *req)
{
	struct db *db = rest_db(req);
	json_t *g, *page, *content, *d;
	struct rest_page p;
	int64_t id, gid;
	size_t i;

	if (db == NULL || !rest_page(req, &p) ||
	    (g = rest_group_param(req, db, &id, &gid)) == NULL)
		return;
	json_decref(g);
	page = wave_group_devices_json(db, id, gid, NULL, p.limit, p.offset);
	content = json_array();
	json_array_foreach(json_object_get(page, "devices"), i, d)
	{
		const char *cid =
		    json_string_value(json_object_get(d, "controller_id"));
		const char *name =
		    json_string_value(json_object_get(d, "name"));
		char *enc = url_encode_segment(cid);
		json_t *t = json_pack("{s:s, s:s}", "controllerId", cid, "name",
		    name ? name : cid);

		rest_add_link(t, "self", rest_link(req, "/targets/%s", enc));
		free(enc);
		json_array_append_new(content, t);
	}
	rest_reply(req, 200,
	    rest_paged(
	        content, json_integer_value(json_object_get(page, "total"))));
	json_decref(page);
}
