/*
 * The management JSON API.  Bodies are parsed strictly: duplicate keys,
 * unknown keys and wrong types are 400 with a detail naming the field.
 * Handlers validate and call the modules that own the tables.
 */
#include "mgmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "action.h"
#include "app.h"
#include "artifact.h"
#include "audit.h"
#include "auth.h"
#include "db.h"
#include "device.h"
#include "dist.h"
#include "http.h"
#include "log.h"
#include "memo.h"
#include "metrics.h"
#include "mgmt_devices.h"
#include "mgmt_util.h"
#include "openapi.h"
#include "rollout.h"
#include "settings.h"
#include "software.h"
#include "upload.h"
#include "wave.h"

void
mgmt_get_health(struct request *req)
{
	struct db *db = db_thread();
	sqlite3_stmt *st;
	bool ok = false;

	static const char sql[] = "SELECT 1";
	if (db && (st = db_prepare(db, sql)) != NULL) {
		ok = sqlite3_step(st) == SQLITE_ROW;
		db_done(st);
	}
	if (ok)
		http_reply_json(req, 200, json_pack("{s:s}", "status", "ok"));
	else
		http_reply_error(req, 503, "unhealthy", "database unavailable");
}

/* Software */

void
mgmt_get_software_list(struct request *req)
{
	struct db *db = mgmt_db(req);
	const char *q = http_query(req, "q");
	int64_t limit, offset;

	json_t *o, *counts, *v;
	size_t i;
	char key[24];

	if (db == NULL || !mgmt_query_page(req, MGMT_PAGE_MAX, &limit, &offset))
		return;
	o = dist_list_json(db, "software", limit, offset, q && *q ? q : NULL);
	/* "installed on N devices": one grouped query for the page. */
	counts = device_installed_counts(db);
	json_array_foreach(json_object_get(o, "software"), i, v)
	{
		snprintf(key, sizeof(key), "%lld",
		    (long long)json_integer_value(json_object_get(v, "id")));
		json_object_set_new(v, "installed_devices",
		    json_integer(
		        json_integer_value(json_object_get(counts, key))));
	}
	json_decref(counts);
	mgmt_reply_object(req, 200, o);
}

static void
mgmt_reply_software(struct request *req, struct db *db, int64_t id, int status)
{
	struct dist s;
	enum result r = dist_load(db, id, true, &s);

	if (r != RESULT_OK) {
		http_reply_result(
		    req, r, r == RESULT_NOTFOUND ? "no such software" : NULL);
		return;
	}
	mgmt_reply_object(req, status, dist_to_json(db, &s));
	dist_clear(&s);
}

void
mgmt_post_software(struct request *req)
{
	struct db *db = mgmt_db(req);
	struct software_hints hints = {
	    .version = http_query(req, "version"),
	    .compatible = http_query(req, "compatible"),
	};
	char why[512] = "";
	enum result r;
	int64_t id = 0;

	if (db == NULL || !mgmt_upload_finish(req))
		return;
	r = software_store(
	    db, req->app, req->upload, &hints, &id, why, sizeof(why));
	req->audit_target = r == RESULT_OK ? xasprintf("%lld", (long long)id)
	                    : upload_filename(req->upload)
	                        ? xstrdup(upload_filename(req->upload))
	                        : NULL;
	if (r == RESULT_OK)
		mgmt_reply_software(req, db, id, 201);
	else if (r == RESULT_INVALID)
		http_reply_error(req, 400, "invalid_image", "%s", why);
	else if (r == RESULT_CONFLICT)
		http_reply_error(req, 409, NULL, "%s", why);
	else
		http_reply_error(req, 500, NULL, "%s",
		    why[0] ? why : "cannot store the software");
}

void
mgmt_get_software(struct request *req)
{
	struct db *db = mgmt_db(req);
	int64_t id;

	if (db && mgmt_id(req, &id))
		mgmt_reply_software(req, db, id, 200);
}

void
mgmt_delete_software(struct request *req)
{
	struct db *db = mgmt_db(req);
	const char *why = NULL;
	enum result r;
	int64_t id;

	if (db == NULL || !mgmt_id(req, &id))
		return;
	r = dist_delete(db, req->app->artifact_dir, id, &why);
	mgmt_reply_deleted(req, r, why, "no such software");
}

/* Devices */

/* clang-format off */
static const struct field device_fields[] = {
	{ "controller_id",        T_STR },
	{ "name",                 T_STR | T_NULL },
	{ "mode",                 T_STR },
	{ "feed",                 T_STR },
	{ "assigned_software_id", T_INT | T_NULL },
	{ "assigned_distribution_id", T_INT | T_NULL },
	{ "metadata",             T_ARRAY },
	{ "force",                T_BOOL },
	{ "allow_downgrade",      T_BOOL },
	{ "token",                T_STR | T_NULL },
	{ "confirm",              T_BOOL },
};
/* clang-format on */

void
mgmt_get_devices(struct request *req)
{
	static const char *const sorts[] = {"controller_id", "name", "hw_model",
	    "feed", "mode", "installed_version", "state", "last_seen", NULL};
	static const char *const orders[] = {"asc", "desc", NULL};
	static const char *const bools[] = {"0", "1", "false", "true", NULL};
	struct db *db = mgmt_db(req);
	struct device_query q;
	const char *order, *refused, *why;

	memset(&q, 0, sizeof(q));
	if (db == NULL || !mgmt_query_page(req, 100, &q.limit, &q.offset) ||
	    !mgmt_query_int(req, "rollout", 1, INT64_MAX, 0, &q.rollout_id) ||
	    !mgmt_query_int(req, "installed_distribution_id", 1, INT64_MAX, 0,
	        &q.installed_ds))
		return;
	q.text = http_query(req, "q");
	q.state = http_query(req, "state");
	q.feed = http_query(req, "feed");
	q.mode = http_query(req, "mode");
	q.sort = http_query(req, "sort");
	q.rollout_state = http_query(req, "rollout_state");
	order = http_query(req, "order");
	q.seen = http_query(req, "seen");
	q.installed_version = http_query(req, "installed_version");
	refused = http_query(req, "refused");
	if (q.text && *q.text == '\0')
		q.text = NULL;
	if (q.installed_version && *q.installed_version == '\0')
		q.installed_version = NULL;
	if (!mgmt_one_of(q.sort, sorts) || !mgmt_one_of(order, orders) ||
	    !mgmt_one_of(refused, bools)) {
		http_reply_error(req, 400, "invalid_query",
		    "sort, order or refused has an unknown value");
		return;
	}
	if (q.rollout_state && *q.rollout_state == '\0')
		q.rollout_state = NULL;
	if ((why = mgmt_device_filter_problem(&q)) != NULL) {
		http_reply_error(req, 400, "invalid_query", "%s", why);
		return;
	}
	q.refused = refused &&
	            (strcmp(refused, "1") == 0 || strcmp(refused, "true") == 0);
	q.descending = order && strcmp(order, "desc") == 0;
	mgmt_reply_object(
	    req, 200, device_list_json(db, req->app->settings, &q));
}

static void
mgmt_reply_device(
    struct request *req, struct db *db, const char *cid, int status)
{
	struct device d;
	enum result r = device_load_cid(db, cid, &d);

	if (r != RESULT_OK) {
		http_reply_result(
		    req, r, r == RESULT_NOTFOUND ? "no such device" : NULL);
		return;
	}
	mgmt_reply_object(
	    req, status, device_to_json(db, req->app->settings, &d));
	device_clear(&d);
}

void
mgmt_post_device(struct request *req)
{
	struct db *db = mgmt_db(req);
	const char *why = NULL, *cid;
	json_t *body;
	enum result r;
	int64_t id;

	if (db == NULL || (body = mgmt_body(req, device_fields,
	                       NELEM(device_fields))) == NULL)
		return;
	if ((cid = json_string_value(json_object_get(body, "controller_id"))) ==
	    NULL) {
		http_reply_error(
		    req, 400, "invalid_field", "controller_id is required");
		json_decref(body);
		return;
	}
	if (!mgmt_alias(req, body, "assigned_software_id",
	        "assigned_distribution_id")) {
		json_decref(body);
		return;
	}
	req->audit_target = xstrdup(cid);
	/* A new device has told nothing: no hardware, no version to check. */
	json_object_del(body, "confirm");
	r = device_create(db, cid, body, &id, &why);
	if (r == RESULT_OK)
		mgmt_reply_device(req, db, cid, 201);
	else
		http_reply_result(req, r, why);
	json_decref(body);
}

void
mgmt_get_device(struct request *req)
{
	struct db *db = mgmt_db(req);

	if (db)
		mgmt_reply_device(req, db, req->params[0], 200);
}

/*
 * Assigning software that does not fit the device or is older than what
 * it runs (without allow_downgrade) is refused, 409 with the policy's
 * reason, unless confirmed.  One device: cid params[0] and
 * patch, whose "confirm" is taken out; body the whole request (for bulk:
 * its ids and confirm).  Returns false if a reply was sent.
 */
static bool
mgmt_assign_check_one(
    struct db *db, const char *cid, json_t *patch, json_t *refused)
{
	json_t *sw = json_object_get(patch, "assigned_software_id");
	json_t *down = json_object_get(patch, "allow_downgrade");
	const char *code;
	char why[256];
	struct device d;
	enum result r;

	if (!json_is_integer(sw))
		return true;
	if ((r = device_load_cid(db, cid, &d)) != RESULT_OK)
		return r == RESULT_NOTFOUND; /* device_bulk says which */
	if (json_is_boolean(down))
		d.allow_downgrade = json_is_true(down);
	r = rollout_assign_check(
	    db, &d, json_integer_value(sw), &code, why, sizeof(why));
	device_clear(&d);
	if (r == RESULT_CONFLICT)
		json_array_append_new(
		    refused, json_pack("{s:s, s:s, s:s}", "controller_id", cid,
		                 "reason_code", code, "reason", why));
	return r != RESULT_ERROR;
}

/* Devices named in a 409 assignment_refused; refused_total counts all. */
#define MGMT_REFUSED_SHOWN 100

/* Reply 409 with the devices refused (the first MGMT_REFUSED_SHOWN of
 * them: a bulk change by filter may touch 10,000), or 500; always
 * false. */
static bool
mgmt_assign_refuse(struct request *req, json_t *refused, size_t n)
{
	json_t *first = json_array_get(refused, 0);
	size_t total = json_array_size(refused);
	char detail[400];

	snprintf(detail, sizeof(detail),
	    "%s%s; send \"confirm\": true to "
	    "assign it anyway",
	    n > 1 ? "devices refuse the software, e.g. " : "",
	    json_string_value(json_object_get(first, "reason")));
	while (json_array_size(refused) > MGMT_REFUSED_SHOWN)
		json_array_remove(refused, json_array_size(refused) - 1);
	http_reply_json(req, 409,
	    json_pack("{s:s, s:s, s:O, s:O, s:I}", "error",
	        "assignment_refused", "detail", detail, "reason_code",
	        json_object_get(first, "reason_code"), "refused", refused,
	        "refused_total", (json_int_t)total));
	json_decref(refused);
	return false;
}

static bool
mgmt_assign_allowed(struct request *req, struct db *db, json_t *body)
{
	bool confirm = json_is_true(json_object_get(body, "confirm"));
	json_t *refused = json_array();

	json_object_del(body, "confirm");
	if (confirm) {
		json_decref(refused);
		return true;
	}
	if (!mgmt_assign_check_one(db, req->params[0], body, refused)) {
		json_decref(refused);
		http_reply_error(req, 500, NULL, "cannot check the software");
		return false;
	}
	if (json_array_size(refused) > 0)
		return mgmt_assign_refuse(req, refused, 1);
	json_decref(refused);
	return true;
}

/* The same for the devices of a bulk patch. */
bool
mgmt_assign_allowed_bulk(struct request *req, struct db *db, json_t *ids,
    json_t *patch, bool confirm)
{
	json_t *refused, *v;
	size_t i;

	if (confirm ||
	    !json_is_integer(json_object_get(patch, "assigned_software_id")))
		return true;
	refused = json_array();
	json_array_foreach(ids, i, v)
	{
		if (!mgmt_assign_check_one(
		        db, json_string_value(v), patch, refused)) {
			json_decref(refused);
			http_reply_error(
			    req, 500, NULL, "cannot check the software");
			return false;
		}
	}
	if (json_array_size(refused) > 0)
		return mgmt_assign_refuse(
		    req, refused, json_array_size(refused));
	json_decref(refused);
	return true;
}

/* The device's row id, or a 404 reply. */
static bool
mgmt_device_id(struct request *req, struct db *db, int64_t *id)
{
	char hash[65];
	enum result r = device_find_auth(db, req->params[0], id, hash);

	explicit_bzero(hash, sizeof(hash));
	if (r == RESULT_OK)
		return true;
	http_reply_result(
	    req, r, r == RESULT_NOTFOUND ? "no such device" : NULL);
	return false;
}

void
mgmt_patch_device(struct request *req)
{
	struct db *db = mgmt_db(req);
	const char *why = NULL;
	json_t *body;
	enum result r;
	int64_t id;

	if (db == NULL || !mgmt_device_id(req, db, &id) ||
	    (body = mgmt_body(req, device_fields, NELEM(device_fields))) ==
	        NULL)
		return;
	if (json_object_get(body, "controller_id")) {
		http_reply_error(req, 400, "invalid_field",
		    "controller_id cannot be changed");
		json_decref(body);
		return;
	}
	if (!mgmt_alias(req, body, "assigned_software_id",
	        "assigned_distribution_id")) {
		json_decref(body);
		return;
	}
	if (!mgmt_assign_allowed(req, db, body)) {
		json_decref(body);
		return;
	}
	r = device_patch(db, id, body, &why);
	json_decref(body);
	if (r == RESULT_OK) {
		log_info(
		    "device %s changed by %s", req->params[0], req->principal);
		mgmt_reply_device(req, db, req->params[0], 200);
	} else
		http_reply_result(req, r, why);
}

void
mgmt_delete_device(struct request *req)
{
	struct db *db = mgmt_db(req);
	int64_t id;
	enum result r;

	if (db == NULL || !mgmt_device_id(req, db, &id))
		return;
	if ((r = device_delete(db, id)) == RESULT_OK)
		http_reply_empty(req, 204);
	else
		http_reply_result(req, r, NULL);
}

void
mgmt_get_device_actions(struct request *req)
{
	struct db *db = mgmt_db(req);
	int64_t id;

	if (db && mgmt_device_id(req, db, &id))
		http_reply_json(req, 200,
		    json_pack("{s:o}", "actions", action_list_json(db, id)));
}

/* Actions */

void
mgmt_get_action(struct request *req)
{
	struct db *db = mgmt_db(req);
	json_t *o;
	int64_t id;

	if (db == NULL || !mgmt_id(req, &id))
		return;
	if ((o = action_to_json(db, id, true)) == NULL)
		http_reply_error(req, 404, NULL, "no such action");
	else
		http_reply_json(req, 200, o);
}

/* ?limit=&before=: a page of the action's history or log, the newest
 * entries first in paging order, oldest first within the page. */
static void
mgmt_reply_action_page(struct request *req, enum action_page which)
{
	struct db *db = mgmt_db(req);
	int64_t id, limit, before;
	json_t *o;

	if (db == NULL || !mgmt_id(req, &id) ||
	    !mgmt_query_int(req, "limit", 1, ACTION_PAGE_MAX,
	        ACTION_PAGE_DEFAULT, &limit) ||
	    !mgmt_query_int(req, "before", 1, INT64_MAX, 0, &before))
		return;
	if ((o = action_page_json(db, id, which, limit, before)) == NULL)
		http_reply_error(req, 404, NULL, "no such action");
	else
		http_reply_json(req, 200, o);
}

void
mgmt_get_action_history(struct request *req)
{
	mgmt_reply_action_page(req, ACTION_PAGE_HISTORY);
}

void
mgmt_get_action_log(struct request *req)
{
	mgmt_reply_action_page(req, ACTION_PAGE_LOG);
}

void
mgmt_post_action_cancel(struct request *req)
{
	struct db *db = mgmt_db(req);
	enum result r;
	int64_t id;

	if (db == NULL || !mgmt_id(req, &id))
		return;
	r = action_cancel(db, id, false);
	if (r == RESULT_OK) {
		log_info("action %lld canceled by %s", (long long)id,
		    req->principal);
		mgmt_reply_object(req, 200, action_to_json(db, id, true));
	} else
		http_reply_result(req, r,
		    r == RESULT_CONFLICT   ? "the action is already closed"
		    : r == RESULT_NOTFOUND ? "no such action"
		                           : NULL);
}

void
mgmt_post_action_force_quit(struct request *req)
{
	struct db *db = mgmt_db(req);
	enum result r;
	int64_t id;

	if (db == NULL || !mgmt_id(req, &id))
		return;
	r = action_force_quit(db, id);
	if (r == RESULT_OK) {
		log_info("action %lld force-quit by %s", (long long)id,
		    req->principal);
		mgmt_reply_object(req, 200, action_to_json(db, id, true));
	} else
		http_reply_result(req, r,
		    r == RESULT_CONFLICT ? "only an action being canceled can "
		                           "be force-quit"
		    : r == RESULT_NOTFOUND ? "no such action"
		                           : NULL);
}

static const struct field assign_fields[] = {
    {"distribution_id", T_INT},
    {"confirm", T_BOOL},
    {"type", T_STR | T_NULL},
    {"forcetime", T_INT | T_NULL},
    {"maintenance_window", T_OBJECT | T_NULL},
};

/* The assignment of a body into *as (strings borrowed from body); a 400
 * reply and false if bad. */
static bool
mgmt_assignment(struct request *req, json_t *body, struct action_assign *as)
{
	json_t *type = json_object_get(body, "type");
	json_t *mw = json_object_get(body, "maintenance_window");
	const char *why = NULL, *key;
	json_t *v;
	bool schedule_bad;

	memset(as, 0, sizeof(*as));
	if (json_is_string(type) &&
	    action_type_parse(json_string_value(type), &as->type) == -1) {
		http_reply_error(req, 400, "invalid_field",
		    "type must be forced, soft, downloadonly or timeforced");
		return false;
	}
	as->force_time = json_integer_value(json_object_get(body, "forcetime"));
	json_object_foreach(mw, key, v)
	{
		if ((strcmp(key, "schedule") != 0 &&
		        strcmp(key, "duration") != 0 &&
		        strcmp(key, "timezone") != 0) ||
		    !json_is_string(v)) {
			http_reply_error(req, 400, "invalid_field",
			    "maintenance_window takes the strings schedule, "
			    "duration and timezone");
			return false;
		}
	}
	as->schedule = json_string_value(json_object_get(mw, "schedule"));
	as->duration = json_string_value(json_object_get(mw, "duration"));
	as->timezone = json_string_value(json_object_get(mw, "timezone"));
	if (json_is_object(mw) && json_object_size(mw) == 0) {
		http_reply_error(req, 400, "invalid_maintenance_window",
		    "schedule, duration and timezone go together");
		return false;
	}
	if (action_assign_check(as, now_s(), &why, &schedule_bad) == -1) {
		http_reply_error(req, 400,
		    schedule_bad ? "invalid_maintenance_window"
		                 : "invalid_field",
		    "%s", why);
		return false;
	}
	return true;
}

void
mgmt_post_device_assign(struct request *req)
{
	struct db *db = mgmt_db(req);
	struct action_assign as;
	const char *why = NULL;
	json_t *body = NULL, *o;
	int64_t device_id, id;
	bool already;
	enum result r;

	if (db == NULL || !mgmt_device_id(req, db, &device_id) ||
	    (body = mgmt_body(req, assign_fields, NELEM(assign_fields))) ==
	        NULL)
		return;
	if (!json_is_integer(json_object_get(body, "distribution_id"))) {
		http_reply_error(
		    req, 400, "missing_field", "distribution_id is required");
		goto done;
	}
	if (!mgmt_assignment(req, body, &as))
		goto done;
	json_object_set(body, "assigned_software_id",
	    json_object_get(body, "distribution_id"));
	if (!mgmt_assign_allowed(req, db, body))
		goto done;
	r = action_assign(db, device_id,
	    json_integer_value(json_object_get(body, "distribution_id")), &as,
	    &id, &already, &why);
	if (r != RESULT_OK) {
		http_reply_result(req, r,
		    r == RESULT_NOTFOUND ? "no such distribution set" : why);
		goto done;
	}
	log_info("device %s: assigned by %s (action %lld, %s)", req->params[0],
	    req->principal, (long long)id, action_type_str(as.type));
	if ((o = action_to_json(db, id, true)) != NULL)
		json_object_set_new(
		    o, "already_assigned", json_boolean(already));
	mgmt_reply_object(req, already ? 200 : 201, o);
done:
	json_decref(body);
}

/* Rollouts */

/* clang-format off */
static const struct field rollout_fields[] = {
	{ "name",                      T_STR },
	{ "feed",                      T_STR },
	{ "software_id",               T_INT },
	{ "distribution_id",           T_INT },
	{ "paused",                    T_BOOL },
	{ "max_running",               T_INT },
	{ "failure_threshold_count",   T_INT },
	{ "failure_threshold_percent", T_INT },
	{ "groups",                    T_ARRAY },
	{ "target_filter",             T_STR | T_NULL },
	{ "target_filter_id",          T_INT },
	{ "start_at",                  T_INT | T_NULL },
	{ "start",                     T_BOOL },
};
/* clang-format on */

void
mgmt_get_rollouts(struct request *req)
{
	static const char *const bools[] = {"false", "true", NULL};
	struct db *db = mgmt_db(req);
	const char *feed = http_query(req, "feed");
	const char *paused = http_query(req, "paused");
	int64_t limit, offset;

	if (db == NULL || !mgmt_query_page(req, MGMT_PAGE_MAX, &limit, &offset))
		return;
	if (!mgmt_one_of(paused, bools)) {
		http_reply_error(
		    req, 400, "invalid_query", "paused must be true or false");
		return;
	}
	mgmt_reply_object(req, 200,
	    rollout_list_json(db, limit, offset, feed && *feed ? feed : NULL,
	        paused ? strcmp(paused, "true") == 0 : -1));
}

void
mgmt_post_rollout(struct request *req)
{
	struct db *db = mgmt_db(req);
	const char *why = NULL;
	json_t *body;
	enum result r;
	int64_t id;

	if (db == NULL || (body = mgmt_body(req, rollout_fields,
	                       NELEM(rollout_fields))) == NULL)
		return;
	if (!mgmt_alias(req, body, "software_id", "distribution_id")) {
		json_decref(body);
		return;
	}
	if (!json_is_integer(json_object_get(body, "software_id"))) {
		http_reply_error(
		    req, 400, "invalid_field", "software_id is required");
		json_decref(body);
		return;
	}
	r = rollout_create(db, body, &id, &why);
	json_decref(body);
	if (r == RESULT_OK)
		req->audit_target = xasprintf("%lld", (long long)id);
	if (r == RESULT_OK)
		mgmt_reply_object(req, 201, rollout_to_json(db, id));
	else
		http_reply_result(req, r, why);
}

void
mgmt_get_rollout(struct request *req)
{
	struct db *db = mgmt_db(req);
	json_t *o;
	int64_t id;

	if (db == NULL || !mgmt_id(req, &id))
		return;
	if ((o = rollout_to_json(db, id)) == NULL)
		http_reply_error(req, 404, NULL, "no such rollout");
	else
		http_reply_json(req, 200, o);
}

void
mgmt_patch_rollout(struct request *req)
{
	struct db *db = mgmt_db(req);
	const char *why = NULL;
	json_t *body;
	enum result r;
	int64_t id;

	if (db == NULL || !mgmt_id(req, &id) ||
	    (body = mgmt_body(req, rollout_fields, NELEM(rollout_fields))) ==
	        NULL)
		return;
	if (json_object_get(body, "feed") ||
	    json_object_get(body, "software_id") ||
	    json_object_get(body, "distribution_id") ||
	    json_object_get(body, "groups") ||
	    json_object_get(body, "target_filter") ||
	    json_object_get(body, "target_filter_id") ||
	    json_object_get(body, "start_at") ||
	    json_object_get(body, "start")) {
		http_reply_error(req, 400, "invalid_field",
		    "feed, software_id, groups, target_filter and the start "
		    "cannot be changed; create a new rollout (or POST its "
		    "/start)");
		json_decref(body);
		return;
	}
	r = rollout_patch(db, id, body, &why);
	json_decref(body);
	if (r == RESULT_OK)
		mgmt_reply_object(req, 200, rollout_to_json(db, id));
	else
		http_reply_result(req, r,
		    why                    ? why
		    : r == RESULT_NOTFOUND ? "no such rollout"
		                           : NULL);
}

void
mgmt_delete_rollout(struct request *req)
{
	struct db *db = mgmt_db(req);
	enum result r;
	int64_t id;

	if (db == NULL || !mgmt_id(req, &id))
		return;
	if ((r = rollout_delete(db, id)) == RESULT_OK)
		http_reply_empty(req, 204);
	else
		http_reply_result(
		    req, r, r == RESULT_NOTFOUND ? "no such rollout" : NULL);
}

/* Operator views: audit, settings, stats, metrics, the API description */

void
mgmt_get_audit(struct request *req)
{
	static const char *const texts[] = {"user", "action"};
	struct db *db = mgmt_db(req);
	struct audit_query q = {0};

	if (db == NULL || !mgmt_query_page(req, 100, &q.limit, &q.offset) ||
	    !mgmt_query_int(req, "since", 0, INT64_MAX / 2, 0, &q.since) ||
	    !mgmt_query_int(req, "until", 0, INT64_MAX / 2, 0, &q.until))
		return;
	for (size_t i = 0; i < NELEM(texts); i++) {
		const char *v = http_query(req, texts[i]);

		if (v && strlen(v) > AUDIT_QUERY_TEXT_MAX) {
			http_reply_error(req, 400, "invalid_query",
			    "%s is longer than %d bytes", texts[i],
			    AUDIT_QUERY_TEXT_MAX);
			return;
		}
		if (v && *v == '\0')
			v = NULL;
		if (i == 0)
			q.user = v;
		else
			q.action = v;
	}
	mgmt_reply_object(req, 200, audit_list_json(db, &q));
}

void
mgmt_get_settings(struct request *req)
{
	mgmt_reply_object(req, 200,
	    json_pack(
	        "{s:o}", "settings", settings_to_json(req->app->settings)));
}

/* The answer of /api/v1/stats, computed for app->stats_memo. */
static char *
mgmt_stats_fill(void *arg, size_t *len)
{
	struct request *req = arg;
	struct db *db = db_thread();
	int64_t t0 = now_ms();
	json_t *devices, *o;
	char *text;

	if (db == NULL ||
	    (devices = device_stats_json(db, req->app->settings)) == NULL)
		return NULL;
	o = json_pack("{s:o, s:o, s:o}", "devices", devices, "updates",
	    action_daily_json(db, 14), "actions",
	    action_status_counts_json(db));
	text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	*len = text ? strlen(text) : 0;
	log_debug("stats computed in %lld ms", (long long)(now_ms() - t0));
	return text;
}

void
mgmt_get_stats(struct request *req)
{
	char *text;
	size_t len;

	if (mgmt_db(req) == NULL)
		return;
	text = memo_get(req->app->stats_memo, mgmt_stats_fill, req, &len);
	if (text == NULL)
		http_reply_error(req, 500, NULL, "cannot count devices");
	else
		http_reply_json_text(req, 200, text, len);
}

/* Append text to the metrics buffer. */
static void
mgmt_metrics_add(char **buf, size_t *len, char *line)
{
	size_t n = strlen(line);

	*buf = xrealloc(*buf, *len + n + 1);
	memcpy(*buf + *len, line, n + 1);
	*len += n;
	free(line);
}

/* One Prometheus gauge family from a JSON object of name: count. */
static void
mgmt_metrics_family(char **buf, size_t *len, const char *name, const char *help,
    const char *label, json_t *counts)
{
	const char *k;
	json_t *v;

	mgmt_metrics_add(buf, len,
	    xasprintf("# HELP %s %s\n# TYPE %s gauge\n", name, help, name));
	json_object_foreach(counts, k, v)
	{
		mgmt_metrics_add(buf, len,
		    xasprintf("%s{%s=\"%s\"} %lld\n", name, label, k,
		        (long long)json_integer_value(v)));
	}
}

/* The refusals the audit log folded (requests without credentials). */
static void
mgmt_metrics_audit(char **buf, size_t *len, struct audit_log *a)
{
	static const char name[] = "falconet_audit_folded_total";
	json_t *c, *list, *e;
	size_t i;

	if (a == NULL || (c = audit_fold_counts_json(a)) == NULL)
		return;
	list = json_object_get(c, "entries");
	mgmt_metrics_add(buf, len,
	    xasprintf("# HELP %s Failed requests without credentials, "
	              "folded in the audit log.\n# TYPE %s counter\n",
	        name, name));
	json_array_foreach(list, i, e)
	{
		mgmt_metrics_add(buf, len,
		    xasprintf("%s{action=\"%s\",status=\"%lld\"} %lld\n", name,
		        json_string_value(json_object_get(e, "action")),
		        (long long)json_integer_value(
		            json_object_get(e, "status")),
		        (long long)json_integer_value(
		            json_object_get(e, "count"))));
	}
	mgmt_metrics_add(buf, len,
	    xasprintf("# HELP falconet_audit_folded_overflow_total Folded "
	              "failures of minutes with more than %d addresses.\n"
	              "# TYPE falconet_audit_folded_overflow_total counter\n"
	              "falconet_audit_folded_overflow_total %lld\n",
	        AUDIT_FOLD_MAX,
	        (long long)json_integer_value(json_object_get(c, "overflow"))));
	json_decref(c);
}

/* /metrics' gauges of devices and actions, computed for
 * app->metrics_memo (the request counters are rendered every time). */
static char *
mgmt_metrics_fill(void *arg, size_t *len)
{
	struct request *req = arg;
	struct db *db = db_thread();
	int64_t t0 = now_ms();
	json_t *dev, *act;
	char *buf;

	*len = 0;
	if (db == NULL)
		return NULL;
	buf = xstrdup("");
	dev = device_stats_json(db, req->app->settings);
	act = action_status_counts_json(db);
	mgmt_metrics_family(&buf, len, "falconet_devices", "Devices by state.",
	    "state", json_object_get(dev, "by_state"));
	mgmt_metrics_family(&buf, len, "falconet_actions",
	    "Deployment actions by status.", "status", act);
	json_decref(dev);
	json_decref(act);
	log_debug(
	    "metrics gauges computed in %lld ms", (long long)(now_ms() - t0));
	return buf;
}

void
mgmt_get_metrics(struct request *req)
{
	char *buf;
	size_t len = 0;

	if (mgmt_db(req) == NULL)
		return;
	buf = memo_get(req->app->metrics_memo, mgmt_metrics_fill, req, &len);
	if (buf == NULL)
		buf = xstrdup("");
	metrics_render(req->app->metrics, &buf, &len);
	mgmt_metrics_audit(&buf, &len, req->app->audit);
	http_reply_text(
	    req, 200, "text/plain; version=0.0.4; charset=utf-8", buf);
	free(buf);
}

void
mgmt_get_openapi(struct request *req)
{
	http_set_header(req, "Cache-Control", "no-cache");
	http_reply_text(req, 200, "application/json", openapi_json);
}

void
mgmt_get_software_file(struct request *req)
{
	struct db *db = mgmt_db(req);
	struct module *m = NULL;
	const struct artifact *a = NULL;
	struct dist d;
	size_t nm = 0;
	char disp[256];
	int64_t id;
	int fd = -1;

	if (db == NULL || !mgmt_id(req, &id))
		return;
	if (dist_load(db, id, false, &d) != RESULT_OK) {
		http_reply_error(req, 404, NULL, "no such software");
		return;
	}
	/* The set's first artifact: the image or bundle it was made of. */
	if (dist_modules(db, id, &m, &nm) == RESULT_OK)
		for (size_t i = 0; i < nm && a == NULL; i++)
			if (m[i].nartifacts)
				a = &m[i].artifacts[0];
	if (d.deleted || a == NULL ||
	    (fd = artifact_open(req->app->artifact_dir, a)) == -1)
		http_reply_error(req, 410, NULL, "the file was deleted");
	else {
		snprintf(disp, sizeof(disp), "attachment; filename=\"%s\"",
		    a->filename);
		http_set_header(req, "Content-Disposition", disp);
		http_reply_fd(req, 200, fd, 0, (uint64_t)a->size,
		    "application/octet-stream");
	}
	dist_free_modules(m, nm);
	dist_clear(&d);
}

void
mgmt_post_devices_bulk(struct request *req)
{
	/* clang-format off */
	static const struct field fields[] = {
		{ "ids",      T_ARRAY },
		{ "match",    T_OBJECT },
		{ "expected", T_INT },
		{ "patch",    T_OBJECT },
		{ "delete",   T_BOOL },
		{ "confirm",  T_BOOL },
	};
	/* clang-format on */
	struct db *db = mgmt_db(req);
	json_t *body, *ids, *patch, *match;
	const char *why = NULL, *key;
	bool del;
	size_t i;
	json_t *v;
	int64_t n = 0;
	enum result r;

	if (db == NULL ||
	    (body = mgmt_body(req, fields, NELEM(fields))) == NULL)
		return;
	ids = json_object_get(body, "ids");
	patch = json_object_get(body, "patch");
	del = json_is_true(json_object_get(body, "delete"));
	match = json_object_get(body, "match");
	if ((match == NULL && (json_array_size(ids) == 0 ||
	                          json_array_size(ids) > MGMT_PAGE_MAX)) ||
	    (patch == NULL) == !del) {
		http_reply_error(req, 400, "invalid_field",
		    "give 1 to 1000 ids or a match, and either a patch or "
		    "delete: true");
		goto done;
	}
	json_array_foreach(ids, i, v)
	{
		if (!json_is_string(v)) {
			http_reply_error(req, 400, "invalid_field",
			    "ids are controller ids (strings)");
			goto done;
		}
	}
	json_object_foreach(patch, key, v)
	{
		size_t k;

		for (k = 0; k < NELEM(device_fields); k++)
			if (strcmp(key, device_fields[k].name) == 0)
				break;
		if (k == NELEM(device_fields) ||
		    strcmp(key, "controller_id") == 0 ||
		    strcmp(key, "confirm") == 0 ||
		    !((1u << json_typeof(v)) & device_fields[k].types)) {
			http_reply_error(req, 400, "invalid_field",
			    "patch: unknown field or wrong type: %.*s",
			    (int)utf8_cut(key, 64), key);
			goto done;
		}
	}
	if (del && !auth_allows(req, "device.delete")) {
		http_reply_error(
		    req, 403, "forbidden", "you lack the permission for this");
		goto done;
	}
	if (match != NULL) {
		mgmt_devices_bulk_match(req, db, body, patch, del);
		goto done;
	}
	if (patch && !mgmt_assign_allowed_bulk(req, db, ids, patch,
	                 json_is_true(json_object_get(body, "confirm"))))
		goto done;
	req->audit_target = xasprintf("%zu devices", json_array_size(ids));
	r = device_bulk(db, ids, patch, &n, &why);
	if (r == RESULT_OK)
		http_reply_json(req, 200,
		    json_pack(
		        "{s:I}", del ? "deleted" : "updated", (json_int_t)n));
	else
		http_reply_result(req, r, why);
done:
	json_decref(body);
}

void
mgmt_get_device_events(struct request *req)
{
	struct db *db = mgmt_db(req);
	int64_t id;

	if (db && mgmt_device_id(req, db, &id))
		http_reply_events(req, id);
}
