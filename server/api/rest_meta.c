/*
 * Metadata of /rest/v1 resources (rest_meta.h).
 */
#include "rest_meta.h"

#include <stdlib.h>

#include "db.h"
#include "http.h"
#include "meta.h"
#include "rest.h"

void
rest_meta_list(struct request *req, struct db *db, const struct meta_table *t,
    int64_t owner)
{
	struct rest_page p;
	int64_t total;
	json_t *a;

	rest_page(req, &p);
	a = meta_page_json(db, t, owner, p.limit, p.offset, &total);
	rest_reply(req, 200, rest_paged(a, total));
}

void
rest_meta_create(struct request *req, struct db *db, const struct meta_table *t,
    int64_t owner)
{
	json_t *body = rest_body_array(req, META_MAX), *e, *out;
	const char *why = NULL, *key = NULL;
	enum result r = RESULT_OK;
	size_t i;

	if (body == NULL)
		return;
	if (db_begin(db) == -1) {
		json_decref(body);
		rest_result(req, RESULT_ERROR, NULL);
		return;
	}
	json_array_foreach(body, i, e)
	{
		key = json_string_value(json_object_get(e, "key"));
		r = meta_add(db, t, owner, key,
		    json_string_value(json_object_get(e, "value")), &why);
		if (r != RESULT_OK)
			break;
	}
	if (r == RESULT_OK && db_commit(db) == -1)
		r = RESULT_ERROR;
	if (r != RESULT_OK) {
		db_rollback(db);
		if (r == RESULT_CONFLICT)
			rest_error(req, 409, "EntityAlreadyExistsException",
			    REST_E_EXISTS,
			    "Metadata with key %s already exists.", key);
		else
			rest_result(req, r, why);
	} else {
		out = json_array();
		json_array_foreach(body, i, e)
		{
			json_array_append_new(
			    out, json_pack("{s:O, s:O}", "key",
			             json_object_get(e, "key"), "value",
			             json_object_get(e, "value")));
		}
		rest_reply(req, 201, out);
	}
	json_decref(body);
}

static void
rest_meta_missing(struct request *req, const char *key)
{
	rest_not_found(req, "Metadata", key);
}

void
rest_meta_get(struct request *req, struct db *db, const struct meta_table *t,
    int64_t owner, int i)
{
	const char *key = req->params[i];
	enum result r;
	char *v = meta_get(db, t, owner, key, &r);

	if (r == RESULT_NOTFOUND)
		rest_meta_missing(req, key);
	else if (r != RESULT_OK)
		rest_result(req, r, NULL);
	else
		rest_reply(
		    req, 200, json_pack("{s:s, s:s}", "key", key, "value", v));
	free(v);
}

void
rest_meta_put(struct request *req, struct db *db, const struct meta_table *t,
    int64_t owner, int i)
{
	const char *key = req->params[i], *why = NULL, *value;
	json_t *body = rest_body_object(req);
	enum result r;

	if (body == NULL)
		return;
	value = json_string_value(json_object_get(body, "value"));
	r = meta_set(db, t, owner, key, value, &why);
	if (r == RESULT_NOTFOUND)
		rest_meta_missing(req, key);
	else if (r != RESULT_OK)
		rest_result(req, r, why);
	else
		rest_reply(req, 200,
		    json_pack("{s:s, s:s}", "key", key, "value", value));
	json_decref(body);
}

void
rest_meta_delete(struct request *req, struct db *db, const struct meta_table *t,
    int64_t owner, int i)
{
	enum result r = meta_remove(db, t, owner, req->params[i]);

	if (r == RESULT_NOTFOUND)
		rest_meta_missing(req, req->params[i]);
	else
		rest_result(req, r, NULL);
}
