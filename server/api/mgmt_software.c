/*
 * The software catalogue in hawkBit's model: modules with their artifacts,
 * distribution sets built from modules, and the types of both.  The simple
 * upload path (/api/v1/software) is in mgmt.c.
 */
#include "mgmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "artifact.h"
#include "db.h"
#include "dist.h"
#include "http.h"
#include "meta.h"
#include "mgmt_util.h"
#include "module.h"
#include "software.h"
#include "upload.h"
#include "version.h"

/* Modules */

/* clang-format off */
static const struct field module_fields[] = {
	{ "type",        T_STR },
	{ "name",        T_STR },
	{ "version",     T_STR },
	{ "vendor",      T_STR | T_NULL },
	{ "description", T_STR | T_NULL },
	{ "encrypted",   T_BOOL },
	{ "metadata",    T_ARRAY },
};
/* clang-format on */

static void
mgmt_reply_module(struct request *req, struct db *db, int64_t id, int status)
{
	struct module m;
	enum result r = module_load(db, id, true, &m);

	if (r == RESULT_OK && m.deleted && status != 200)
		r = RESULT_NOTFOUND;
	if (r != RESULT_OK) {
		http_reply_result(
		    req, r, r == RESULT_NOTFOUND ? "no such module" : NULL);
		return;
	}
	mgmt_reply_object(req, status, module_detail_json(db, &m));
	module_clear(&m);
}

void
mgmt_get_modules(struct request *req)
{
	struct db *db = mgmt_db(req);
	const char *q = http_query(req, "q");
	const char *type = http_query(req, "type");
	int64_t limit, offset;

	if (db == NULL || !mgmt_query_page(req, MGMT_PAGE_MAX, &limit, &offset))
		return;
	mgmt_reply_object(req, 200,
	    module_list_json(db, limit, offset, q && *q ? q : NULL,
	        type && *type ? type : NULL));
}

void
mgmt_post_module(struct request *req)
{
	struct db *db = mgmt_db(req);
	const char *type, *name, *version, *why = NULL;
	json_t *body, *meta;
	int64_t type_id, id;
	enum result r;

	if (db == NULL || (body = mgmt_body(req, module_fields,
	                       NELEM(module_fields))) == NULL)
		return;
	type = json_string_value(json_object_get(body, "type"));
	name = json_string_value(json_object_get(body, "name"));
	version = json_string_value(json_object_get(body, "version"));
	meta = json_object_get(body, "metadata");
	if (type == NULL || name == NULL || version == NULL) {
		http_reply_error(req, 400, "invalid_field",
		    "type, name and version are required");
		goto out;
	}
	if (*name == '\0' || strlen(name) > MODULE_NAME_MAX ||
	    !version_valid(version)) {
		http_reply_error(req, 400, "invalid_field",
		    "name: 1 to 128 characters; version: printable ASCII "
		    "without spaces, at most 255 characters");
		goto out;
	}
	if ((why = module_text_check(body)) != NULL) {
		http_reply_error(req, 400, "invalid_field", "%s", why);
		goto out;
	}
	if (meta && (why = meta_check(meta, true)) != NULL) {
		http_reply_error(req, 400, "invalid_field", "%s", why);
		goto out;
	}
	if (db_begin(db) == -1) {
		http_reply_result(req, RESULT_ERROR, NULL);
		goto out;
	}
	if ((r = module_type_find(db, type, &type_id)) == RESULT_NOTFOUND) {
		why = "type: no such module type";
		r = RESULT_INVALID;
	}
	if (r == RESULT_OK) {
		r = module_create(db, type_id, name, version,
		    json_string_value(json_object_get(body, "vendor")),
		    json_string_value(json_object_get(body, "description")),
		    &id);
		if (r == RESULT_CONFLICT)
			why = "a module of that type, name and version exists "
			      "(deleted ones included)";
	}
	if (r == RESULT_OK && json_is_true(json_object_get(body, "encrypted")))
		r = module_set_encrypted(db, id);
	if (r == RESULT_OK && meta)
		r = module_set_metadata(db, id, meta, &why);
	if (r != RESULT_OK || db_commit(db) == -1) {
		db_rollback(db);
		http_reply_result(req, r == RESULT_OK ? RESULT_ERROR : r, why);
		goto out;
	}
	req->audit_target = xasprintf("%lld", (long long)id);
	mgmt_reply_module(req, db, id, 201);
out:
	json_decref(body);
}

void
mgmt_get_module(struct request *req)
{
	struct db *db = mgmt_db(req);
	int64_t id;

	if (db && mgmt_id(req, &id))
		mgmt_reply_module(req, db, id, 200);
}

void
mgmt_patch_module(struct request *req)
{
	struct db *db = mgmt_db(req);
	const char *why = NULL;
	json_t *body;
	enum result r;
	int64_t id;

	if (db == NULL || !mgmt_id(req, &id) ||
	    (body = mgmt_body(req, module_fields, NELEM(module_fields))) ==
	        NULL)
		return;
	if (json_object_get(body, "type") || json_object_get(body, "name") ||
	    json_object_get(body, "version") ||
	    json_object_get(body, "encrypted")) {
		http_reply_error(req, 400, "invalid_field",
		    "type, name, version and encrypted cannot be changed; "
		    "create a new module");
		json_decref(body);
		return;
	}
	r = module_patch(db, id, body, &why);
	json_decref(body);
	if (r == RESULT_OK)
		mgmt_reply_module(req, db, id, 200);
	else
		http_reply_result(req, r,
		    why                    ? why
		    : r == RESULT_NOTFOUND ? "no such module"
		                           : NULL);
}

void
mgmt_delete_module(struct request *req)
{
	struct db *db = mgmt_db(req);
	const char *why = NULL;
	enum result r;
	int64_t id;

	if (db == NULL || !mgmt_id(req, &id))
		return;
	r = module_delete(db, req->app->artifact_dir, id, &why);
	mgmt_reply_deleted(req, r, why, "no such module");
}

/* Artifacts */

/* Reply with artifact aid if it belongs to module id. */
static void
mgmt_reply_artifact(
    struct request *req, struct db *db, int64_t id, int64_t aid, int status)
{
	struct artifact a;
	enum result r = artifact_load(db, aid, &a);

	if (r == RESULT_OK && a.module_id != id) {
		artifact_clear(&a);
		r = RESULT_NOTFOUND;
	}
	if (r != RESULT_OK) {
		http_reply_result(
		    req, r, r == RESULT_NOTFOUND ? "no such artifact" : NULL);
		return;
	}
	mgmt_reply_object(req, status, artifact_to_json(&a));
	artifact_clear(&a);
}

static void
mgmt_reply_add_result(struct request *req, struct db *db, enum result r,
    int64_t id, int64_t aid, const char *why)
{
	if (r == RESULT_OK) {
		req->audit_target =
		    xasprintf("%lld/%lld", (long long)id, (long long)aid);
		mgmt_reply_artifact(req, db, id, aid, 201);
	} else if (r == RESULT_INVALID)
		http_reply_error(req, 400, "invalid_artifact", "%s", why);
	else
		http_reply_result(req, r,
		    why[0]                 ? why
		    : r == RESULT_NOTFOUND ? "no such module"
		                           : NULL);
}

void
mgmt_post_artifact(struct request *req)
{
	struct db *db = mgmt_db(req);
	struct software_expect expect = {
	    .md5 = http_query(req, "md5sum"),
	    .sha1 = http_query(req, "sha1sum"),
	    .sha256 = http_query(req, "sha256sum"),
	};
	char why[512] = "";
	int64_t id, aid = 0;
	enum result r;

	if (db == NULL || !mgmt_id(req, &id) || !mgmt_upload_finish(req))
		return;
	r = software_add_artifact(
	    db, req->app, id, req->upload, &expect, &aid, why, sizeof(why));
	mgmt_reply_add_result(req, db, r, id, aid, why);
}

/* clang-format off */
static const struct field external_fields[] = {
	{ "url",      T_STR },
	{ "filename", T_STR },
	{ "size",     T_INT },
	{ "sha1",     T_STR },
	{ "md5",      T_STR },
	{ "sha256",   T_STR },
	{ "fetch",    T_BOOL },
};
/* clang-format on */

void
mgmt_post_external_artifact(struct request *req)
{
	struct db *db = mgmt_db(req);
	char why[512] = "";
	int64_t id, aid = 0;
	enum result r;
	json_t *body;

	if (db == NULL || !mgmt_id(req, &id) ||
	    (body = mgmt_body(req, external_fields, NELEM(external_fields))) ==
	        NULL)
		return;
	r = software_add_external(
	    db, req->app, id, body, &aid, why, sizeof(why));
	json_decref(body);
	mgmt_reply_add_result(req, db, r, id, aid, why);
}

void
mgmt_get_artifacts(struct request *req)
{
	struct db *db = mgmt_db(req);
	struct module m;
	json_t *a;
	int64_t id;

	if (db == NULL || !mgmt_id(req, &id))
		return;
	if (module_load(db, id, true, &m) != RESULT_OK) {
		http_reply_error(req, 404, NULL, "no such module");
		return;
	}
	a = json_array();
	for (size_t i = 0; i < m.nartifacts; i++)
		json_array_append_new(a, artifact_to_json(&m.artifacts[i]));
	module_clear(&m);
	mgmt_reply_object(req, 200, json_pack("{s:o}", "artifacts", a));
}

void
mgmt_get_artifact(struct request *req)
{
	struct db *db = mgmt_db(req);
	int64_t id, aid;

	if (db && mgmt_id(req, &id) && mgmt_id2(req, &aid))
		mgmt_reply_artifact(req, db, id, aid, 200);
}

void
mgmt_get_artifact_file(struct request *req)
{
	struct db *db = mgmt_db(req);
	struct artifact a;
	char disp[256];
	int64_t id, aid;
	int fd;

	if (db == NULL || !mgmt_id(req, &id) || !mgmt_id2(req, &aid))
		return;
	if (artifact_load(db, aid, &a) != RESULT_OK) {
		http_reply_error(req, 404, NULL, "no such artifact");
		return;
	}
	if (a.module_id != id)
		http_reply_error(req, 404, NULL, "no such artifact");
	else if (a.url)
		http_reply_error(req, 404, NULL,
		    "the artifact is hosted elsewhere: %s", a.url);
	else if ((fd = artifact_open(req->app->artifact_dir, &a)) == -1)
		http_reply_error(req, 410, NULL, "the file was deleted");
	else {
		snprintf(disp, sizeof(disp), "attachment; filename=\"%s\"",
		    a.filename);
		http_set_header(req, "Content-Disposition", disp);
		http_reply_fd(req, 200, fd, 0, (uint64_t)a.size,
		    "application/octet-stream");
	}
	artifact_clear(&a);
}

void
mgmt_delete_artifact(struct request *req)
{
	struct db *db = mgmt_db(req);
	const char *why = NULL;
	enum result r;
	int64_t id, aid;

	if (db == NULL || !mgmt_id(req, &id) || !mgmt_id2(req, &aid))
		return;
	r = software_delete_artifact(db, req->app, id, aid, &why);
	mgmt_reply_deleted(req, r, why, "no such artifact");
}

/* Distribution sets */

/* clang-format off */
static const struct field dist_fields[] = {
	{ "name",            T_STR },
	{ "version",         T_STR },
	{ "type",            T_STR },
	{ "description",     T_STR | T_NULL },
	{ "modules",         T_ARRAY },
	{ "compatibility",   T_ARRAY },
	{ "version_scheme",  T_STR },
	{ "rauc_compatible", T_STR | T_NULL },
	{ "metadata",        T_ARRAY },
};
/* clang-format on */

static void
mgmt_reply_dist(struct request *req, struct db *db, int64_t id, int status)
{
	struct dist d;
	enum result r = dist_load(db, id, true, &d);

	if (r != RESULT_OK) {
		http_reply_result(req, r,
		    r == RESULT_NOTFOUND ? "no such distribution set" : NULL);
		return;
	}
	mgmt_reply_object(req, status, dist_to_json(db, &d));
	dist_clear(&d);
}

void
mgmt_get_distributions(struct request *req)
{
	struct db *db = mgmt_db(req);
	const char *q = http_query(req, "q");
	int64_t limit, offset;

	if (db == NULL || !mgmt_query_page(req, MGMT_PAGE_MAX, &limit, &offset))
		return;
	mgmt_reply_object(req, 200,
	    dist_list_json(
	        db, "distributions", limit, offset, q && *q ? q : NULL));
}

void
mgmt_post_distribution(struct request *req)
{
	struct db *db = mgmt_db(req);
	const char *why = NULL;
	json_t *body;
	enum result r;
	int64_t id = 0;

	if (db == NULL ||
	    (body = mgmt_body(req, dist_fields, NELEM(dist_fields))) == NULL)
		return;
	r = dist_create(db, body, &id, &why);
	json_decref(body);
	if (r == RESULT_OK) {
		req->audit_target = xasprintf("%lld", (long long)id);
		mgmt_reply_dist(req, db, id, 201);
	} else
		http_reply_result(req, r, why);
}

void
mgmt_get_distribution(struct request *req)
{
	struct db *db = mgmt_db(req);
	int64_t id;

	if (db && mgmt_id(req, &id))
		mgmt_reply_dist(req, db, id, 200);
}

void
mgmt_patch_distribution(struct request *req)
{
	struct db *db = mgmt_db(req);
	const char *why = NULL;
	json_t *body;
	enum result r;
	int64_t id;

	if (db == NULL || !mgmt_id(req, &id) ||
	    (body = mgmt_body(req, dist_fields, NELEM(dist_fields))) == NULL)
		return;
	r = dist_patch(db, id, body, &why);
	json_decref(body);
	if (r == RESULT_OK)
		mgmt_reply_dist(req, db, id, 200);
	else
		http_reply_result(req, r,
		    why                    ? why
		    : r == RESULT_NOTFOUND ? "no such distribution set"
		                           : NULL);
}

void
mgmt_delete_distribution(struct request *req)
{
	struct db *db = mgmt_db(req);
	const char *why = NULL;
	enum result r;
	int64_t id;

	if (db == NULL || !mgmt_id(req, &id))
		return;
	r = dist_delete(db, req->app->artifact_dir, id, &why);
	mgmt_reply_deleted(req, r, why, "no such distribution set");
}

/* Types */

/* clang-format off */
static const struct field module_type_fields[] = {
	{ "key",             T_STR },
	{ "name",            T_STR },
	{ "description",     T_STR | T_NULL },
	{ "max_assignments", T_INT },
};
static const struct field dist_type_fields[] = {
	{ "key",         T_STR },
	{ "name",        T_STR },
	{ "description", T_STR | T_NULL },
	{ "mandatory",   T_ARRAY },
	{ "optional",    T_ARRAY },
};
/* clang-format on */

void
mgmt_get_module_types(struct request *req)
{
	struct db *db = mgmt_db(req);

	if (db)
		mgmt_reply_object(req, 200, module_types_json(db));
}

void
mgmt_post_module_type(struct request *req)
{
	struct db *db = mgmt_db(req);
	const char *why = NULL;
	json_t *body;
	enum result r;
	int64_t id = 0;

	if (db == NULL || (body = mgmt_body(req, module_type_fields,
	                       NELEM(module_type_fields))) == NULL)
		return;
	r = module_type_create(db, body, &id, &why);
	json_decref(body);
	if (r != RESULT_OK) {
		http_reply_result(req, r, why);
		return;
	}
	req->audit_target = xasprintf("%lld", (long long)id);
	mgmt_reply_object(req, 201, module_types_json(db));
}

void
mgmt_delete_module_type(struct request *req)
{
	struct db *db = mgmt_db(req);
	const char *why = NULL;
	enum result r;
	int64_t id;

	if (db == NULL || !mgmt_id(req, &id))
		return;
	r = module_type_delete(db, id, &why);
	mgmt_reply_deleted(req, r, why, "no such module type");
}

void
mgmt_get_dist_types(struct request *req)
{
	struct db *db = mgmt_db(req);

	if (db)
		mgmt_reply_object(req, 200, dist_types_json(db));
}

void
mgmt_post_dist_type(struct request *req)
{
	struct db *db = mgmt_db(req);
	const char *why = NULL;
	json_t *body;
	enum result r;
	int64_t id = 0;

	if (db == NULL || (body = mgmt_body(req, dist_type_fields,
	                       NELEM(dist_type_fields))) == NULL)
		return;
	r = dist_type_create(db, body, &id, &why);
	json_decref(body);
	if (r != RESULT_OK) {
		http_reply_result(req, r, why);
		return;
	}
	req->audit_target = xasprintf("%lld", (long long)id);
	mgmt_reply_object(req, 201, dist_types_json(db));
}

void
mgmt_delete_dist_type(struct request *req)
{
	struct db *db = mgmt_db(req);
	const char *why = NULL;
	enum result r;
	int64_t id;

	if (db == NULL || !mgmt_id(req, &id))
		return;
	r = dist_type_delete(db, id, &why);
	mgmt_reply_deleted(req, r, why, "no such distribution set type");
}
