/*
 * Shared management API helpers.  Bodies are parsed strictly: duplicate
 * keys, unknown keys and wrong types are 400 with a detail naming the
 * field.
 */
#include "mgmt_util.h"

#include <string.h>

#include "db.h"
#include "http.h"
#include "upload.h"
#include "user.h"
#include "util.h"

static const char *
mgmt_type_words(unsigned t)
{
	if (t & T_STR)
		return t & T_NULL ? "a string or null" : "a string";
	if (t & T_INT)
		return t & T_NULL ? "an integer or null" : "an integer";
	if (t & T_ARRAY)
		return "an array";
	if (t & T_OBJECT)
		return "an object";
	return "true or false";
}

json_t *
mgmt_body(struct request *req, const struct field *fields, size_t nfields)
{
	json_error_t err;
	json_t *root, *v;
	const char *key;

	root =
	    json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &err);
	if (root == NULL) {
		/* jansson quotes the bytes near the error as it read them:
		 * half a character, or bytes that are not UTF-8 at all. */
		char *text = utf8_lossy(err.text);

		http_reply_error(
		    req, 400, "invalid_json", "line %d: %s", err.line, text);
		free(text);
		return NULL;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		http_reply_error(
		    req, 400, "invalid_json", "the body must be a JSON object");
		return NULL;
	}
	json_object_foreach(root, key, v)
	{
		size_t i;

		for (i = 0; i < nfields; i++)
			if (strcmp(key, fields[i].name) == 0)
				break;
		if (i == nfields) {
			http_reply_error(req, 400, "unknown_field",
			    "unknown field \"%.*s\"", (int)utf8_cut(key, 64),
			    key);
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

struct db *
mgmt_db(struct request *req)
{
	struct db *db = db_thread();

	if (db == NULL)
		http_reply_error(req, 503, NULL, "database unavailable");
	return db;
}

bool
mgmt_id(struct request *req, int64_t *id)
{
	if (parse_int64(req->params[0], 1, INT64_MAX, id) == -1) {
		http_reply_error(req, 404, NULL, "no such id");
		return false;
	}
	return true;
}

bool
mgmt_alias(
    struct request *req, json_t *body, const char *name, const char *alias)
{
	json_t *a = json_object_get(body, alias),
	       *v = json_object_get(body, name);

	if (a == NULL)
		return true;
	if (v != NULL && !json_equal(a, v)) {
		http_reply_error(req, 400, "invalid_field",
		    "%s and %s name the same thing: give one", name, alias);
		return false;
	}
	json_object_set(body, name, a);
	json_object_del(body, alias);
	return true;
}

void
mgmt_reply_deleted(
    struct request *req, enum result r, const char *why, const char *notfound)
{
	if (r == RESULT_OK)
		http_reply_empty(req, 204);
	else
		http_reply_result(req, r,
		    why                    ? why
		    : r == RESULT_NOTFOUND ? notfound
		                           : NULL);
}

bool
mgmt_id2(struct request *req, int64_t *id)
{
	if (parse_int64(req->params[1], 1, INT64_MAX, id) == -1) {
		http_reply_error(req, 404, NULL, "no such id");
		return false;
	}
	return true;
}

bool
mgmt_upload_finish(struct request *req)
{
	const char *name = http_query(req, "filename");
	enum upload_err ue;

	if (upload_size(req->upload) == 0) {
		http_reply_error(req, 400, "empty_upload",
		    "send the file as the body (application/octet-stream) or "
		    "as the multipart field \"file\"");
		return false;
	}
	if (name)
		upload_set_filename(req->upload, name);
	if ((ue = upload_finish(req->upload)) != UPLOAD_OK) {
		if (ue == UPLOAD_NO_SPACE)
			http_reply_error(req, 507, NULL,
			    "not enough disk space for the upload");
		else
			http_reply_error(
			    req, 500, NULL, "cannot write the upload");
		return false;
	}
	return true;
}

void
mgmt_reply_object(struct request *req, int status, json_t *o)
{
	if (o == NULL)
		http_reply_error(req, 500, NULL, "cannot build the answer");
	else
		http_reply_json(req, status, o);
}

void
mgmt_wipe_string(json_t *v)
{
	if (json_is_string(v))
		explicit_bzero((char *)(uintptr_t)json_string_value(v),
		    json_string_length(v));
}

json_t *
mgmt_user_json(struct db *db, const char *username)
{
	json_t *all = user_list_json(db), *u, *found = NULL;
	size_t i;

	json_array_foreach(json_object_get(all, "users"), i, u)
	{
		if (strcmp(json_string_value(json_object_get(u, "username")),
		        username) == 0)
			found = json_incref(u);
	}
	json_decref(all);
	return found;
}

bool
mgmt_query_int(struct request *req, const char *name, int64_t min, int64_t max,
    int64_t dflt, int64_t *out)
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

bool
mgmt_query_page(
    struct request *req, int64_t dflt, int64_t *limit, int64_t *offset)
{
	return mgmt_query_int(req, "limit", 1, MGMT_PAGE_MAX, dflt, limit) &&
	       mgmt_query_int(req, "offset", 0, INT32_MAX, 0, offset);
}

bool
mgmt_one_of(const char *v, const char *const *names)
{
	if (v == NULL)
		return true;
	for (; *names; names++)
		if (strcmp(v, *names) == 0)
			return true;
	return false;
}
