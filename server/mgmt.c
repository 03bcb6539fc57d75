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
#include "db.h"
#include "device.h"
#include "http.h"
#include "log.h"
#include "rollout.h"
#include "upload.h"

#define MGMT_PAGE_MAX 1000

/* A body field: its name and the JSON types it may take. */
struct field {
	const char *name;
	unsigned types;
};

#define T_STR (1u << JSON_STRING)
#define T_INT (1u << JSON_INTEGER)
#define T_BOOL ((1u << JSON_TRUE) | (1u << JSON_FALSE))
#define T_NULL (1u << JSON_NULL)

static const char *
mgmt_type_words(unsigned t)
{
	if (t & T_STR)
		return t & T_NULL ? "a string or null" : "a string";
	if (t & T_INT)
		return t & T_NULL ? "an integer or null" : "an integer";
	return "true or false";
}

/*
 * Parse the request body as a JSON object whose keys are all in fields
 * with the listed types.  Replies 400 and returns NULL otherwise.
 */
static json_t *
mgmt_body(struct request *req, const struct field *fields, size_t nfields)
{
	json_error_t err;
	json_t *root, *v;
	const char *key;

	root = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES,
	    &err);
	if (root == NULL) {
		http_reply_error(req, 400, "invalid_json", "line %d: %s",
		    err.line, err.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		http_reply_error(req, 400, "invalid_json",
		    "the body must be a JSON object");
		return NULL;
	}
	json_object_foreach(root, key, v) {
		size_t i;

		for (i = 0; i < nfields; i++)
			if (strcmp(key, fields[i].name) == 0)
				break;
		if (i == nfields) {
			http_reply_error(req, 400, "unknown_field",
			    "unknown field \"%.64s\"", key);
			json_decref(root);
			return NULL;
		}
		if (!((1u << json_typeof(v)) & fields[i].types)) {
			http_reply_error(req, 400, "invalid_field",
			    "%s must be %s", key,
			    mgmt_type_words(fields[i].types));
			json_decref(root);
			return NULL;
		}
	}
	return root;
}

static struct db *
mgmt_db(struct request *req)
{
	struct db *db = db_thread();

	if (db == NULL)
		http_reply_error(req, 503, NULL, "database unavailable");
	return db;
}

/* A numeric id from params[0], or a 404 reply. */
static bool
mgmt_id(struct request *req, int64_t *id)
{
	if (parse_int64(req->params[0], 1, INT64_MAX, id) == -1) {
		http_reply_error(req, 404, NULL, "no such id");
		return false;
	}
	return true;
}

static void
mgmt_reply_object(struct request *req, int status, json_t *o)
{
	if (o == NULL)
		http_reply_error(req, 500, NULL, "cannot build the answer");
	else
		http_reply_json(req, status, o);
}

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

	if (db)
		mgmt_reply_object(req, 200, artifact_list_json(db));
}

static void
mgmt_reply_software(struct request *req, struct db *db, int64_t id,
    int status)
{
	struct software s;
	enum result r = artifact_load(db, id, true, &s);

	if (r != RESULT_OK) {
		http_reply_result(req, r, r == RESULT_NOTFOUND
			? "no such software" : NULL);
		return;
	}
	mgmt_reply_object(req, status, artifact_to_json(db, &s));
	artifact_clear(&s);
}

void
mgmt_post_software(struct request *req)
{
	struct db *db = mgmt_db(req);
	const char *name = http_query(req, "filename");
	char why[512] = "";
	enum upload_err ue;
	enum result r;
	int64_t id = 0;

	if (db == NULL)
		return;
	if (upload_size(req->upload) == 0) {
		http_reply_error(req, 400, "empty_upload",
		    "send the .swu file as the body (application/octet-stream) "
		    "or as the multipart field \"file\"");
		return;
	}
	if (name)
		upload_set_filename(req->upload, name);
	if ((ue = upload_finish(req->upload)) != UPLOAD_OK) {
		if (ue == UPLOAD_NO_SPACE)
			http_reply_error(req, 507, NULL,
			    "not enough disk space for the upload");
		else
			http_reply_error(req, 500, NULL,
			    "cannot write the upload");
		return;
	}
	r = artifact_store(db, req->app->artifact_dir, req->upload, &id, why,
	    sizeof(why));
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
	r = artifact_delete(db, req->app->artifact_dir, id, &why);
	if (r == RESULT_OK)
		http_reply_empty(req, 204);
	else
		http_reply_result(req, r,
		    why ? why : r == RESULT_NOTFOUND ? "no such software" : NULL);
}

/* Devices */

/* clang-format off */
static const struct field device_fields[] = {
	{ "controller_id",        T_STR },
	{ "name",                 T_STR | T_NULL },
	{ "mode",                 T_STR },
	{ "feed",                 T_STR },
	{ "assigned_software_id", T_INT | T_NULL },
	{ "force",                T_BOOL },
	{ "allow_downgrade",      T_BOOL },
	{ "token",                T_STR | T_NULL },
};
/* clang-format on */

static bool
mgmt_query_int(struct request *req, const char *name, int64_t min,
    int64_t max, int64_t dflt, int64_t *out)
{
	const char *v = http_query(req, name);

	*out = dflt;
	if (v && parse_int64(v, min, max, out) == -1) {
		http_reply_error(req, 400, "invalid_query",
		    "%s must be an integer from %lld to %lld", name,
		    (long long)min, (long long)max);
		return false;
	}
	return true;
}

void
mgmt_get_devices(struct request *req)
{
	struct db *db = mgmt_db(req);
	int64_t limit, offset;

	if (db == NULL ||
	    !mgmt_query_int(req, "limit", 1, MGMT_PAGE_MAX, 100, &limit) ||
	    !mgmt_query_int(req, "offset", 0, INT32_MAX, 0, &offset))
		return;
	mgmt_reply_object(req, 200,
	    device_list_json(db, limit, offset, http_query(req, "q")));
}

static void
mgmt_reply_device(struct request *req, struct db *db, const char *cid,
    int status)
{
	struct device d;
	enum result r = device_load_cid(db, cid, &d);

	if (r != RESULT_OK) {
		http_reply_result(req, r,
		    r == RESULT_NOTFOUND ? "no such device" : NULL);
		return;
	}
	mgmt_reply_object(req, status, device_to_json(db, &d));
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

	if (db == NULL ||
	    (body = mgmt_body(req, device_fields, NELEM(device_fields))) ==
		NULL)
		return;
	if ((cid = json_string_value(json_object_get(body, "controller_id"))) ==
	    NULL) {
		http_reply_error(req, 400, "invalid_field",
		    "controller_id is required");
		json_decref(body);
		return;
	}
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

/* The device's row id, or a 404 reply. */
static bool
mgmt_device_id(struct request *req, struct db *db, int64_t *id)
{
	char hash[65];
	enum result r = device_find_auth(db, req->params[0], id, hash);

	explicit_bzero(hash, sizeof(hash));
	if (r == RESULT_OK)
		return true;
	http_reply_result(req, r, r == RESULT_NOTFOUND ? "no such device"
						       : NULL);
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
	r = device_patch(db, id, body, &why);
	json_decref(body);
	if (r == RESULT_OK) {
		log_info("device %s changed by %s", req->params[0],
		    req->principal);
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

void
mgmt_post_action_cancel(struct request *req)
{
	struct db *db = mgmt_db(req);
	enum result r;
	int64_t id;

	if (db == NULL || !mgmt_id(req, &id))
		return;
	r = action_cancel(db, id);
	if (r == RESULT_OK) {
		log_info("action %lld canceled by %s", (long long)id,
		    req->principal);
		mgmt_reply_object(req, 200, action_to_json(db, id, true));
	} else
		http_reply_result(req, r,
		    r == RESULT_CONFLICT	? "the action is already closed"
		    : r == RESULT_NOTFOUND ? "no such action"
					   : NULL);
}

/* Rollouts */

/* clang-format off */
static const struct field rollout_fields[] = {
	{ "name",                      T_STR },
	{ "feed",                      T_STR },
	{ "software_id",               T_INT },
	{ "paused",                    T_BOOL },
	{ "max_running",               T_INT },
	{ "failure_threshold_count",   T_INT },
	{ "failure_threshold_percent", T_INT },
};
/* clang-format on */

void
mgmt_get_rollouts(struct request *req)
{
	struct db *db = mgmt_db(req);

	if (db)
		mgmt_reply_object(req, 200, rollout_list_json(db));
}

void
mgmt_post_rollout(struct request *req)
{
	struct db *db = mgmt_db(req);
	const char *why = NULL;
	json_t *body;
	enum result r;
	int64_t id;

	if (db == NULL ||
	    (body = mgmt_body(req, rollout_fields, NELEM(rollout_fields))) ==
		NULL)
		return;
	if (!json_is_integer(json_object_get(body, "software_id"))) {
		http_reply_error(req, 400, "invalid_field",
		    "software_id is required");
		json_decref(body);
		return;
	}
	r = rollout_create(db, body, &id, &why);
	json_decref(body);
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
	    json_object_get(body, "software_id")) {
		http_reply_error(req, 400, "invalid_field",
		    "feed and software_id cannot be changed; create a new "
		    "rollout");
		json_decref(body);
		return;
	}
	r = rollout_patch(db, id, body, &why);
	json_decref(body);
	if (r == RESULT_OK)
		mgmt_reply_object(req, 200, rollout_to_json(db, id));
	else
		http_reply_result(req, r,
		    why ? why : r == RESULT_NOTFOUND ? "no such rollout" : NULL);
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
		http_reply_result(req, r,
		    r == RESULT_NOTFOUND ? "no such rollout" : NULL);
}
