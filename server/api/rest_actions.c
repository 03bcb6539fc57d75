/*
 * /rest/v1 assignments and actions, as hawkBit's MgmtDistributionSet-,
 * MgmtTarget- and MgmtActionResource answer them.  The rules live in
 * action.c (action_assign, action_cancel, action_force_quit); this file
 * reads the bodies, maps results to hawkBit's errors and adds the links.
 */
#include "rest_actions.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "action.h"
#include "device.h"
#include "dist.h"
#include "http.h"
#include "log.h"
#include "rest.h"

#define REST_ASSIGN_MAX 1000 /* assignments in one request */

/* clang-format off */
static const struct rest_sort_field rest_action_sorts[] = {
	{ "id",             "a.id" },
	{ "status",         "(a.status IN ('scheduled', 'running', 'canceling'))" },
	{ "detailStatus",   "a.status" },
	{ "lastStatusCode", "a.result_code" },
	{ "weight",         "a.id" },
	{ "forceType",      "a.type" },
	{ "createdAt",      "a.created_at" },
	{ "lastModifiedAt", "a.updated_at" },
};
static const struct rest_sort_field rest_status_sorts[] = {
	{ "id",         "id" },
	{ "reportedAt", "id" },
	{ "timestamp",  "id" },
};
/* clang-format on */

/* The device of controller id params[0], or a 404 answer and false. */
static bool
rest_target(struct request *req, struct db *db, int64_t *id)
{
	char hash[65];
	enum result r = device_find_auth(db, req->params[0], id, hash);

	explicit_bzero(hash, sizeof(hash));
	if (r == RESULT_OK)
		return true;
	if (r == RESULT_NOTFOUND)
		rest_not_found(req, "Target", req->params[0]);
	else
		rest_result(req, r, NULL);
	return false;
}

/* A set that may be assigned, or a 404 / 400 answer and false. */
static bool
rest_assignable_set(struct request *req, struct db *db, int64_t ds)
{
	struct dist d;
	enum result r = dist_load(db, ds, false, &d);
	bool ok = r == RESULT_OK && !d.deleted && d.complete;

	if (r == RESULT_OK && d.deleted)
		rest_not_found_id(req, "DistributionSet", ds);
	else if (r == RESULT_OK && !d.complete)
		rest_error(req, 400, "IncompleteDistributionSetException",
		    REST_E_DS_INCOMPLETE,
		    "Distribution set of type %s is incomplete: its mandatory "
		    "modules are missing.",
		    d.type_key ? d.type_key : "?");
	else if (r == RESULT_NOTFOUND)
		rest_not_found_id(req, "DistributionSet", ds);
	else if (r != RESULT_OK)
		rest_result(req, r, NULL);
	if (r == RESULT_OK)
		dist_clear(&d);
	return ok;
}

/*
 * One entry of an assignment body (MgmtTargetAssignmentRequestBody or
 * MgmtDistributionSetAssignment): its type, forcetime and window into
 * *as (strings borrowed from e).  A 400 answer and false if bad.
 */
static bool
rest_assignment(struct request *req, json_t *e, struct action_assign *as)
{
	json_t *type = json_object_get(e, "type");
	json_t *ft = json_object_get(e, "forcetime");
	json_t *mw = json_object_get(e, "maintenanceWindow");
	const char *why = NULL;
	bool schedule_bad;

	memset(as, 0, sizeof(*as));
	if (type && !json_is_null(type) &&
	    action_type_parse(json_string_value(type), &as->type) == -1) {
		rest_error(req, 400, "MessageNotReadableException",
		    REST_E_NOT_READABLE,
		    "type must be soft, forced, timeforced or downloadonly.");
		return false;
	}
	if (ft && !json_is_null(ft)) {
		if (!json_is_integer(ft) || json_integer_value(ft) < 0) {
			rest_error(req, 400, "MessageNotReadableException",
			    REST_E_NOT_READABLE,
			    "forcetime must be a time in milliseconds.");
			return false;
		}
		as->force_time = json_integer_value(ft);
	}
	if (mw && !json_is_null(mw)) {
		if (!json_is_object(mw)) {
			rest_error(req, 400,
			    "InvalidMaintenanceScheduleException",
			    REST_E_SCHEDULE,
			    "maintenanceWindow must be an object.");
			return false;
		}
		as->schedule =
		    json_string_value(json_object_get(mw, "schedule"));
		as->duration =
		    json_string_value(json_object_get(mw, "duration"));
		as->timezone =
		    json_string_value(json_object_get(mw, "timezone"));
		if (!as->schedule && !as->duration && !as->timezone) {
			rest_error(req, 400,
			    "InvalidMaintenanceScheduleException",
			    REST_E_SCHEDULE,
			    "schedule, duration and timezone go together.");
			return false;
		}
	}
	if (action_assign_check(as, now_s(), &why, &schedule_bad) == -1) {
		if (schedule_bad)
			rest_error(req, 400,
			    "InvalidMaintenanceScheduleException",
			    REST_E_SCHEDULE, "Invalid maintenance window: %s.",
			    why);
		else
			rest_error(req, 400, "MessageNotReadableException",
			    REST_E_NOT_READABLE, "%s.", why);
		return false;
	}
	return true;
}

/* One validated assignment of a request. */
struct rest_job {
	int64_t device_id, ds_id;
	const char *cid;
	struct action_assign as;
};

/*
 * Run the jobs (validated: targets and sets exist) and answer
 * MgmtTargetAssignmentResponseBody.
 */
static void
rest_run_assignments(
    struct request *req, struct db *db, struct rest_job *jobs, size_t n)
{
	json_t *actions = json_array(), *o;
	char *cid;
	int64_t assigned = 0, already = 0, id;
	const char *why = NULL;
	bool same;
	enum result r = RESULT_OK;

	for (size_t i = 0; i < n; i++) {
		r = action_assign(db, jobs[i].device_id, jobs[i].ds_id,
		    &jobs[i].as, &id, &same, &why);
		if (r != RESULT_OK)
			break;
		if (same) {
			already++;
			continue;
		}
		assigned++;
		log_info("device %s: set %lld assigned by %s (action %lld, %s)",
		    jobs[i].cid, (long long)jobs[i].ds_id, req->principal,
		    (long long)id, action_type_str(jobs[i].as.type));
		o = json_pack("{s:I}", "id", (json_int_t)id);
		cid = url_encode_segment(jobs[i].cid);
		rest_add_link(o, "self",
		    rest_link(
		        req, "/targets/%s/actions/%lld", cid, (long long)id));
		free(cid);
		json_array_append_new(actions, o);
	}
	if (r == RESULT_INVALID) {
		json_decref(actions);
		rest_error(req, 400, "IncompleteDistributionSetException",
		    REST_E_DS_INCOMPLETE, "%s.", why ? why : "Incomplete set");
		return;
	}
	if (r != RESULT_OK) {
		json_decref(actions);
		rest_result(req, r, "The assignment failed.");
		return;
	}
	rest_reply(req, 200,
	    json_pack("{s:I, s:o, s:I, s:I}", "alreadyAssigned",
	        (json_int_t)already, "assignedActions", actions, "assigned",
	        (json_int_t)assigned, "total", (json_int_t)n));
}

void
rest_post_ds_assigned_targets(struct request *req)
{
	struct db *db = rest_db(req);
	struct rest_job *jobs = NULL;
	json_t *body = NULL, *e;
	int64_t ds;
	char hash[65];
	size_t i, n = 0;
	enum result r;

	if (db == NULL || !rest_id(req, 0, "DistributionSet", &ds) ||
	    (body = rest_body_array(req, REST_ASSIGN_MAX)) == NULL)
		goto done;
	if (!rest_assignable_set(req, db, ds))
		goto done;
	jobs = xcalloc(json_array_size(body), sizeof(*jobs));
	json_array_foreach(body, i, e)
	{
		const char *cid = json_string_value(json_object_get(e, "id"));

		if (cid == NULL) {
			rest_error(req, 400, "MessageNotReadableException",
			    REST_E_NOT_READABLE,
			    "Each assignment needs the target's \"id\".");
			goto done;
		}
		r = device_find_auth(db, cid, &jobs[n].device_id, hash);
		explicit_bzero(hash, sizeof(hash));
		if (r == RESULT_NOTFOUND) {
			rest_not_found(req, "Target", cid);
			goto done;
		}
		if (r != RESULT_OK) {
			rest_result(req, r, NULL);
			goto done;
		}
		if (!rest_assignment(req, e, &jobs[n].as))
			goto done;
		jobs[n].ds_id = ds;
		jobs[n].cid = cid;
		n++;
	}
	rest_run_assignments(req, db, jobs, n);
done:
	free(jobs);
	json_decref(body);
}

void
rest_post_target_assigned_ds(struct request *req)
{
	struct db *db = rest_db(req);
	struct rest_job *jobs = NULL;
	json_t *body = NULL, *list, *e;
	int64_t device_id;
	size_t i, n = 0;

	if (db == NULL || !rest_target(req, db, &device_id))
		return;
	/* hawkBit takes one assignment or an array of them. */
	list = body =
	    json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, NULL);
	if (json_is_object(body)) {
		list = json_array();
		json_array_append(list, body);
	}
	if (!json_is_array(list) || json_array_size(list) == 0 ||
	    json_array_size(list) > REST_ASSIGN_MAX) {
		rest_error(req, 400, "MessageNotReadableException",
		    REST_E_NOT_READABLE,
		    "The body must be an assignment {\"id\": set} or an array "
		    "of them.");
		goto done;
	}
	jobs = xcalloc(json_array_size(list), sizeof(*jobs));
	json_array_foreach(list, i, e)
	{
		json_t *id = json_object_get(e, "id");

		if (!json_is_integer(id) || json_integer_value(id) < 1) {
			rest_error(req, 400, "MessageNotReadableException",
			    REST_E_NOT_READABLE,
			    "Each assignment needs the set's \"id\".");
			goto done;
		}
		jobs[n].ds_id = json_integer_value(id);
		if (!rest_assignable_set(req, db, jobs[n].ds_id) ||
		    !rest_assignment(req, e, &jobs[n].as))
			goto done;
		jobs[n].device_id = device_id;
		jobs[n].cid = req->params[0];
		n++;
	}
	rest_run_assignments(req, db, jobs, n);
done:
	free(jobs);
	if (list != body)
		json_decref(list);
	json_decref(body);
}

/*
 * Add MgmtAction's links to o and drop the helper keys.  global: under
 * /actions (self there); single: the links of a single GET.
 */
static void
rest_action_links(struct request *req, json_t *o, bool global, bool single)
{
	const char *cid = json_string_value(json_object_get(o, "_cid"));
	const char *dsname = json_string_value(json_object_get(o, "_dsname"));
	int64_t id = json_integer_value(json_object_get(o, "id"));
	int64_t ds = json_integer_value(json_object_get(o, "_ds"));
	json_t *rollout = json_object_get(o, "rollout");
	char *enc = url_encode_segment(cid ? cid : "");
	json_t *l;

	if (global)
		rest_add_link(
		    o, "self", rest_link(req, "/actions/%lld", (long long)id));
	else
		rest_add_link(o, "self",
		    rest_link(
		        req, "/targets/%s/actions/%lld", enc, (long long)id));
	if (single || global) {
		l = rest_link(req, "/targets/%s", enc);
		json_object_set_new(l, "name", json_string(cid ? cid : ""));
		rest_add_link(o, "target", l);
		l = rest_link(req, "/distributionsets/%lld", (long long)ds);
		json_object_set_new(
		    l, "name", json_string(dsname ? dsname : ""));
		rest_add_link(o, "distributionset", l);
	}
	if (single) {
		rest_add_link(o, "status",
		    rest_link(req,
		        "/targets/%s/actions/%lld/status?offset=0&limit=50&"
		        "sort=id%%3ADESC",
		        enc, (long long)id));
		if (strcmp(json_string_value(json_object_get(o, "status")),
		        "canceling") == 0)
			rest_add_link(o, "canceledaction",
			    rest_link(req, "/targets/%s/actions/%lld", enc,
			        (long long)id));
		if (json_is_integer(rollout))
			rest_add_link(o, "rollout",
			    rest_link(req, "/rollouts/%lld",
			        (long long)json_integer_value(rollout)));
	}
	json_object_del(o, "_cid");
	json_object_del(o, "_ds");
	json_object_del(o, "_dsname");
	free(enc);
}

/* A paged list of actions of device_id (0: all). */
static void
rest_reply_actions(struct request *req, struct db *db, int64_t device_id)
{
	struct rest_page page;
	struct rsql_query q = {0};
	char order[512];
	json_t *content = NULL, *o;
	int64_t total;
	size_t i;

	if (!rest_page(req, &page) ||
	    !rest_sort(req, rest_action_sorts, NELEM(rest_action_sorts),
	        "id:DESC", "a.id DESC", order, sizeof(order)) ||
	    !rest_query(req, action_rest_fields, action_rest_nfields, &q))
		return;
	if (action_rest_list(db, device_id, &q, order, page.offset, page.limit,
	        &content, &total) != RESULT_OK) {
		json_decref(content);
		rsql_query_free(&q);
		rest_reply(req, 500, NULL);
		return;
	}
	json_array_foreach(content, i, o)
	    rest_action_links(req, o, device_id == 0, false);
	rsql_query_free(&q);
	rest_reply(req, 200, rest_paged(content, total));
}

/* One action, of device_id or (0) of any device, or a 404 answer. */
static void
rest_reply_action(
    struct request *req, struct db *db, int64_t device_id, int64_t id)
{
	struct rsql_param p = {.is_int = true, .num = id};
	char cond[] = "(a.id = ?)";
	struct rsql_query q = {.sql = cond, .params = &p, .nparams = 1};
	json_t *content = NULL, *o;
	int64_t total;

	if (action_rest_list(db, device_id, &q, "", 0, 1, &content, &total) !=
	    RESULT_OK) {
		json_decref(content);
		rest_reply(req, 500, NULL);
		return;
	}
	if ((o = json_array_get(content, 0)) == NULL) {
		json_decref(content);
		rest_not_found_id(req, "Action", id);
		return;
	}
	json_incref(o);
	json_decref(content);
	rest_action_links(req, o, device_id == 0, true);
	rest_reply(req, 200, o);
}

void
rest_get_target_actions(struct request *req)
{
	struct db *db = rest_db(req);
	int64_t device_id;

	if (db && rest_target(req, db, &device_id))
		rest_reply_actions(req, db, device_id);
}

void
rest_get_target_action(struct request *req)
{
	struct db *db = rest_db(req);
	int64_t device_id, id;

	if (db && rest_target(req, db, &device_id) &&
	    rest_id(req, 1, "Action", &id))
		rest_reply_action(req, db, device_id, id);
}

void
rest_get_target_action_status(struct request *req)
{
	struct db *db = rest_db(req);
	struct rest_page page;
	char order[128];
	json_t *content = NULL;
	int64_t device_id, id, total;
	enum result r;

	if (db == NULL || !rest_target(req, db, &device_id) ||
	    !rest_id(req, 1, "Action", &id) || !rest_page(req, &page) ||
	    !rest_sort(req, rest_status_sorts, NELEM(rest_status_sorts),
	        "id:DESC", NULL, order, sizeof(order)))
		return;
	r = action_rest_status(db, id, device_id, strstr(order, " ASC") != NULL,
	    page.offset, page.limit, &content, &total);
	if (r == RESULT_OK)
		rest_reply(req, 200, rest_paged(content, total));
	else {
		json_decref(content);
		if (r == RESULT_NOTFOUND)
			rest_not_found_id(req, "Action", id);
		else
			rest_result(req, r, NULL);
	}
}

void
rest_delete_target_action(struct request *req)
{
	struct db *db = rest_db(req);
	const char *force = http_query(req, "force");
	bool quit = force && strcmp(force, "true") == 0;
	struct action a;
	int64_t device_id, id;
	enum result r;

	if (db == NULL || !rest_target(req, db, &device_id) ||
	    !rest_id(req, 1, "Action", &id))
		return;
	r = action_load(db, id, &a);
	if (r == RESULT_OK && a.device_id != device_id)
		r = RESULT_NOTFOUND;
	if (r == RESULT_OK)
		r = quit ? action_force_quit(db, id)
		         : action_cancel(db, id, true);
	switch (r) {
	case RESULT_OK:
		log_info("action %lld %s by %s", (long long)id,
		    quit ? "force-quit" : "canceled", req->principal);
		http_reply_empty(req, 204);
		break;
	case RESULT_NOTFOUND:
		rest_not_found_id(req, "Action", id);
		break;
	case RESULT_CONFLICT:
		if (quit)
			rest_error(req, 405,
			    "ForceQuitActionNotAllowedException",
			    REST_E_NOT_FORCE_QUITABLE,
			    "Action %lld is not canceling, it cannot be "
			    "force-quit.",
			    (long long)id);
		else
			rest_error(req, 405, "CancelActionNotAllowedException",
			    REST_E_NOT_CANCELABLE,
			    "Action %lld is not active or is canceled already.",
			    (long long)id);
		break;
	default:
		rest_result(req, r, NULL);
	}
}

void
rest_get_actions(struct request *req)
{
	struct db *db = rest_db(req);

	if (db)
		rest_reply_actions(req, db, 0);
}

void
rest_get_action(struct request *req)
{
	struct db *db = rest_db(req);
	int64_t id;

	if (db && rest_id(req, 0, "Action", &id))
		rest_reply_action(req, db, 0, id);
}
