/*
 * hawkBit's target filter queries, /rest/v1/targetfilters: saved FIQL
 * filters (server/model/filter.c) that rollouts take as their target
 * filter.  Auto-assignment is not offered: its fields are refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "filter.h"
#include "http.h"
#include "rest.h"
#include "rest_filters.h"

static json_t *
rest_filter(struct request *req, const struct target_filter *f)
{
	json_t *o = json_pack("{s:I, s:s, s:s, s:I, s:I}", "id",
	    (json_int_t)f->id, "name", f->name, "query", f->query, "createdAt",
	    (json_int_t)f->created_at * 1000, "lastModifiedAt",
	    (json_int_t)f->modified_at * 1000);

	if (o == NULL)
		return NULL;
	if (f->created_by)
		json_object_set_new(o, "createdBy", json_string(f->created_by));
	if (f->modified_by)
		json_object_set_new(
		    o, "lastModifiedBy", json_string(f->modified_by));
	rest_add_link(
	    o, "self", rest_link(req, "/targetfilters/%lld", (long long)f->id));
	return o;
}

/* A body's name and query; auto-assignment fields are refused. */
static bool
rest_filter_body(
    struct request *req, json_t *body, const char **name, const char **query)
{
	json_t *n = json_object_get(body, "name"),
	       *q = json_object_get(body, "query");

	if (json_object_get(body, "autoAssignDistributionSet") ||
	    json_object_get(body, "autoAssignActionType")) {
		rest_error(req, 400, "ValidationException", REST_E_CONSTRAINT,
		    "Auto-assignment is not offered here; a filter is a name "
		    "and a query.");
		return false;
	}
	if ((n && !json_is_string(n)) || (q && !json_is_string(q))) {
		rest_error(req, 400, "ValidationException", REST_E_CONSTRAINT,
		    "name and query are strings.");
		return false;
	}
	*name = json_string_value(n);
	*query = json_string_value(q);
	return true;
}

static void
rest_filter_reply(struct request *req, struct db *db, int64_t id, int status)
{
	struct target_filter f;

	if (filter_load(db, id, &f) != RESULT_OK) {
		rest_not_found_id(req, "TargetFilterQuery", id);
		return;
	}
	rest_reply(req, status, rest_filter(req, &f));
	filter_clear(&f);
}

void
rest_get_filters(struct request *req)
{
	struct db *db = rest_db(req);
	struct target_filter *f;
	struct rest_page p;
	int64_t total;
	json_t *content;
	size_t n;

	struct rsql_query q;
	enum result r;

	if (db == NULL || !rest_page(req, &p) ||
	    !rest_query(req, filter_fields, nfilter_fields, &q))
		return;
	r = filter_list(db, &q, p.limit, p.offset, &f, &n, &total);
	rsql_query_free(&q);
	if (r != RESULT_OK) {
		rest_status_error(req, 500, "The filters cannot be read.");
		return;
	}
	content = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(content, rest_filter(req, &f[i]));
	filter_list_free(f, n);
	rest_reply(req, 200, rest_paged(content, total));
}

void
rest_post_filter(struct request *req)
{
	struct db *db = rest_db(req);
	const char *name, *query, *why = NULL;
	json_t *body;
	enum result r;
	int64_t id;

	if (db == NULL || (body = rest_body_object(req)) == NULL)
		return;
	if (rest_filter_body(req, body, &name, &query)) {
		r = filter_create(db, name, query, req->principal, &id, &why);
		if (r == RESULT_OK) {
			req->audit_target = xasprintf("%lld", (long long)id);
			rest_filter_reply(req, db, id, 201);
		} else
			rest_result(req, r,
			    r == RESULT_CONFLICT
			        ? "A filter of that name exists."
			        : why);
	}
	json_decref(body);
}

void
rest_get_filter(struct request *req)
{
	struct db *db = rest_db(req);
	int64_t id;

	if (db && rest_id(req, 0, "TargetFilterQuery", &id))
		rest_filter_reply(req, db, id, 200);
}

void
rest_put_filter(struct request *req)
{
	struct db *db = rest_db(req);
	const char *name, *query, *why = NULL;
	json_t *body;
	enum result r;
	int64_t id;

	if (db == NULL || !rest_id(req, 0, "TargetFilterQuery", &id) ||
	    (body = rest_body_object(req)) == NULL)
		return;
	if (rest_filter_body(req, body, &name, &query)) {
		req->audit_target = xasprintf("%lld", (long long)id);
		r = filter_update(db, id, name, query, req->principal, &why);
		if (r == RESULT_OK)
			rest_filter_reply(req, db, id, 200);
		else if (r == RESULT_NOTFOUND)
			rest_not_found_id(req, "TargetFilterQuery", id);
		else
			rest_result(req, r,
			    r == RESULT_CONFLICT
			        ? "A filter of that name exists."
			        : why);
	}
	json_decref(body);
}

void
rest_delete_filter(struct request *req)
{
	struct db *db = rest_db(req);
	enum result r;
	int64_t id;

	if (db == NULL || !rest_id(req, 0, "TargetFilterQuery", &id))
		return;
	req->audit_target = xasprintf("%lld", (long long)id);
	if ((r = filter_delete(db, id)) == RESULT_NOTFOUND)
		rest_not_found_id(req, "TargetFilterQuery", id);
	else
		rest_result(req, r, NULL);
}
