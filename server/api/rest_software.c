/*
 * /rest/v1 software: modules, their artifacts and types, distribution
 * sets and their types, as hawkBit's MgmtSoftwareModule, MgmtArtifact,
 * MgmtDistributionSet and the type bodies.  The model's rules stay
 * Falconet's (module.c, dist.c, software.c): uploads go through the same
 * readers as /api/v1, deletes keep the rows of what a device was ever
 * given.  Versions are free text here: sets made through /rest/v1 take
 * the version scheme "none", so the latest mode never picks them.
 */
#include "rest_software.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "app.h"
#include "artifact.h"
#include "db.h"
#include "dist.h"
#include "http.h"
#include "log.h"
#include "meta.h"
#include "module.h"
#include "rest.h"
#include "rest_meta.h"
#include "software.h"
#include "upload.h"
#include "version.h"

#define REST_CREATE_MAX 100 /* modules or sets in one POST */

/* clang-format off */
static const struct rsql_field module_fields[] = {
	{ "id",          RSQL_INT,  "m.id", NULL },
	{ "name",        RSQL_TEXT, "m.name", NULL },
	{ "version",     RSQL_TEXT, "m.version", NULL },
	{ "type",        RSQL_TEXT, "t.type_key", NULL },
	{ "description", RSQL_TEXT, "m.description", NULL },
	{ "vendor",      RSQL_TEXT, "m.vendor", NULL },
	{ "metadata.",   RSQL_TEXT,
	    "(SELECT x.meta_value FROM sm_metadata x WHERE x.module_id = m.id "
	    "AND x.meta_key = ?)", NULL },
};

static const struct rest_sort_field module_sort[] = {
	{ "id",          "m.id" },
	{ "name",        "m.name" },
	{ "version",     "m.version" },
	{ "type",        "t.type_key" },
	{ "description", "m.description" },
	{ "vendor",      "m.vendor" },
	{ "createdAt",   "m.created_at" },
};

static const struct rsql_field set_fields[] = {
	{ "id",          RSQL_INT,  "d.id", NULL },
	{ "name",        RSQL_TEXT, "d.name", NULL },
	{ "version",     RSQL_TEXT, "d.version", NULL },
	{ "type",        RSQL_TEXT, "t.type_key", NULL },
	{ "description", RSQL_TEXT, "d.description", NULL },
	{ "complete",    RSQL_BOOL, "d.complete", NULL },
	{ "metadata.",   RSQL_TEXT,
	    "(SELECT x.meta_value FROM ds_metadata x WHERE x.ds_id = d.id "
	    "AND x.meta_key = ?)", NULL },
};

static const struct rest_sort_field set_sort[] = {
	{ "id",          "d.id" },
	{ "name",        "d.name" },
	{ "version",     "d.version" },
	{ "type",        "t.type_key" },
	{ "description", "d.description" },
	{ "complete",    "d.complete" },
	{ "createdAt",   "d.created_at" },
};

static const struct rsql_field type_fields[] = {
	{ "id",          RSQL_INT,  "t.id", NULL },
	{ "key",         RSQL_TEXT, "t.type_key", NULL },
	{ "name",        RSQL_TEXT, "t.name", NULL },
	{ "description", RSQL_TEXT, "t.description", NULL },
};

static const struct rest_sort_field type_sort[] = {
	{ "id",          "t.id" },
	{ "key",         "t.type_key" },
	{ "name",        "t.name" },
	{ "description", "t.description" },
};
/* clang-format on */

/* {"createdAt": ms, "lastModifiedAt": ms} of a row created at s (Unix
 * seconds); rows of these tables are not stamped when changed. */
static void
sw_set_times(json_t *o, int64_t s)
{
	json_object_set_new(o, "createdAt", json_integer(s * 1000));
	json_object_set_new(o, "lastModifiedAt", json_integer(s * 1000));
}

/* Drop the null members of o (hawkBit omits null fields). */
static json_t *
sw_no_nulls(json_t *o)
{
	const char *k;
	json_t *v;
	void *tmp;

	json_object_foreach_safe(o, tmp, k, v)
	{
		if (json_is_null(v))
			json_object_del(o, k);
	}
	return o;
}

/*
 * A page of ids: SELECT <id> FROM from WHERE (live) AND q ORDER BY ...,
 * with the total.  NULL after an answer (400 from sort or q, 500).
 */
static int64_t *
sw_page_ids(struct request *req, struct db *db, const char *select_from,
    const char *live, const struct rsql_field *fields, size_t nfields,
    const struct rest_sort_field *sort, size_t nsort, const char *tiebreak,
    size_t *n, int64_t *total)
{
	struct rsql_query q;
	struct rest_page p;
	char order[512], *sql;
	sqlite3_stmt *st;
	int64_t *ids = NULL;

	*n = 0;
	*total = 0;
	if (!rest_page(req, &p) ||
	    !rest_sort(
	        req, sort, nsort, "id:ASC", tiebreak, order, sizeof(order)) ||
	    !rest_query(req, fields, nfields, &q))
		return NULL;
	sql = xasprintf("SELECT count(*) FROM (%s WHERE %s AND %s)",
	    select_from, live, q.sql ? q.sql : "1");
	if ((st = rest_prepare(db, sql)) != NULL) {
		rest_bind_query(st, 1, &q);
		if (sqlite3_step(st) == SQLITE_ROW)
			*total = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	free(sql);
	sql = xasprintf("%s WHERE %s AND %s%s LIMIT ? OFFSET ?", select_from,
	    live, q.sql ? q.sql : "1", order);
	if ((st = rest_prepare(db, sql)) != NULL) {
		ids = xcalloc((size_t)p.limit + 1, sizeof(*ids));
		rest_bind_query(st, 1, &q);
		db_bind_int64(st, (int)q.nparams + 1, p.limit);
		db_bind_int64(st, (int)q.nparams + 2, p.offset);
		while (*n < (size_t)p.limit && sqlite3_step(st) == SQLITE_ROW)
			ids[(*n)++] = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	free(sql);
	rsql_query_free(&q);
	if (ids == NULL)
		rest_result(req, RESULT_ERROR, NULL);
	return ids;
}

/* Modules */

/* A MgmtSoftwareModule; full adds the artifacts, type and metadata
 * links (a set's modules carry self only). */
static json_t *
sw_module_json(
    struct request *req, struct db *db, const struct module *m, bool full)
{
	json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s*, s:s*, s:b, "
	                      "s:b, s:b, s:b}",
	    "id", (json_int_t)m->id, "name", m->name, "version", m->version,
	    "type", m->type_key, "typeName", m->type_name, "description",
	    m->description, "vendor", m->vendor, "encrypted", m->encrypted,
	    "locked", module_locked(db, m->id), "deleted", m->deleted,
	    "complete", m->nartifacts > 0);

	if (o == NULL)
		return NULL;
	sw_set_times(o, m->created_at);
	rest_add_link(o, "self",
	    rest_link(req, "/softwaremodules/%lld", (long long)m->id));
	if (!full)
		return o;
	rest_add_link(o, "artifacts",
	    rest_link(
	        req, "/softwaremodules/%lld/artifacts", (long long)m->id));
	rest_add_link(o, "type",
	    rest_link(req, "/softwaremoduletypes/%lld", (long long)m->type_id));
	rest_add_link(o, "metadata",
	    rest_link(req, "/softwaremodules/%lld/metadata?offset=0&limit=50",
	        (long long)m->id));
	return o;
}

static json_t *
sw_module_json_id(struct request *req, struct db *db, int64_t id, bool full)
{
	struct module m;
	json_t *o;

	if (module_load(db, id, true, &m) != RESULT_OK)
		return NULL;
	o = sw_module_json(req, db, &m, full);
	module_clear(&m);
	return o;
}

/* The live module of params[0] in *m, or a 404 answer and false. */
static bool
sw_module(struct request *req, struct db *db, struct module *m)
{
	int64_t id;
	enum result r;

	if (!rest_id(req, 0, "SoftwareModule", &id))
		return false;
	r = module_load(db, id, true, m);
	if (r == RESULT_OK && !m->deleted)
		return true;
	if (r == RESULT_OK)
		module_clear(m);
	if (r == RESULT_ERROR)
		rest_result(req, r, NULL);
	else
		rest_not_found_id(req, "SoftwareModule", id);
	return false;
}

void
rest_get_modules(struct request *req)
{
	struct db *db = rest_db(req);
	int64_t *ids, total;
	json_t *a;
	size_t n;

	if (db == NULL ||
	    (ids = sw_page_ids(req, db,
	         "SELECT m.id FROM software_module m JOIN sm_type t ON t.id "
	         "= m.sm_type_id",
	         "m.deleted_at IS NULL", module_fields, NELEM(module_fields),
	         module_sort, NELEM(module_sort), "m.id", &n, &total)) == NULL)
		return;
	a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(
		    a, sw_module_json_id(req, db, ids[i], true));
	free(ids);
	rest_reply(req, 200, rest_paged(a, total));
}

static void
sw_invalid(struct request *req, const char *why)
{
	rest_error(req, 400, "ConstraintViolationException", REST_E_CONSTRAINT,
	    "%s", why);
}

/* One element of POST softwaremodules, inside the transaction. */
static bool
sw_module_create_one(struct request *req, struct db *db, json_t *e, int64_t *id)
{
	const char *type = json_string_value(json_object_get(e, "type"));
	const char *name = json_string_value(json_object_get(e, "name"));
	const char *version = json_string_value(json_object_get(e, "version"));
	const char *why;
	int64_t type_id;
	enum result r;

	if (type == NULL || name == NULL || version == NULL) {
		sw_invalid(req, "name, version and type are required.");
		return false;
	}
	if (*name == '\0' || strlen(name) > MODULE_NAME_MAX ||
	    !version_valid(version)) {
		sw_invalid(req, "name: 1 to 128 characters; version: printable "
		                "ASCII without spaces, at most 255.");
		return false;
	}
	if ((why = module_text_check(e)) != NULL) {
		sw_invalid(req, why);
		return false;
	}
	if ((r = module_type_find(db, type, &type_id)) == RESULT_NOTFOUND) {
		rest_not_found(req, "SoftwareModuleType", type);
		return false;
	}
	if (r == RESULT_OK)
		r = module_create(db, type_id, name, version,
		    json_string_value(json_object_get(e, "vendor")),
		    json_string_value(json_object_get(e, "description")), id);
	if (r == RESULT_OK && json_is_true(json_object_get(e, "encrypted")))
		r = module_set_encrypted(db, *id);
	if (r == RESULT_CONFLICT)
		rest_error(req, 409, "EntityAlreadyExistsException",
		    REST_E_EXISTS,
		    "SoftwareModule %s:%s of type %s already exists.", name,
		    version, type);
	else if (r != RESULT_OK)
		rest_result(req, r, NULL);
	return r == RESULT_OK;
}

void
rest_post_modules(struct request *req)
{
	struct db *db = rest_db(req);
	int64_t ids[REST_CREATE_MAX];
	json_t *body, *e, *out;
	bool ok = true;
	size_t i;

	if (db == NULL ||
	    (body = rest_body_array(req, REST_CREATE_MAX)) == NULL)
		return;
	if (db_begin(db) == -1) {
		rest_result(req, RESULT_ERROR, NULL);
		json_decref(body);
		return;
	}
	json_array_foreach(body, i, e)
	{
		if (!(ok = sw_module_create_one(req, db, e, &ids[i])))
			break;
	}
	if (ok && db_commit(db) == -1) {
		rest_result(req, RESULT_ERROR, NULL);
		ok = false;
	}
	if (!ok) {
		db_rollback(db);
		json_decref(body);
		return;
	}
	out = json_array();
	for (i = 0; i < json_array_size(body); i++)
		json_array_append_new(
		    out, sw_module_json_id(req, db, ids[i], true));
	req->audit_target = xasprintf("%lld", (long long)ids[0]);
	json_decref(body);
	rest_reply(req, 201, out);
}

void
rest_get_module(struct request *req)
{
	struct db *db = rest_db(req);
	struct module m;

	if (db == NULL || !sw_module(req, db, &m))
		return;
	rest_reply(req, 200, sw_module_json(req, db, &m, true));
	module_clear(&m);
}

void
rest_put_module(struct request *req)
{
	struct db *db = rest_db(req);
	const char *why = NULL;
	json_t *body, *patch;
	struct module m;
	enum result r;
	int64_t id;

	if (db == NULL || !sw_module(req, db, &m))
		return;
	id = m.id;
	module_clear(&m);
	if ((body = rest_body_object(req)) == NULL)
		return;
	/* MgmtSoftwareModuleRequestBodyPut: description and vendor change,
	 * the rest is the module's identity. */
	patch = json_object();
	if (json_object_get(body, "description"))
		json_object_set(
		    patch, "description", json_object_get(body, "description"));
	if (json_object_get(body, "vendor"))
		json_object_set(
		    patch, "vendor", json_object_get(body, "vendor"));
	if ((why = module_text_check(patch)) != NULL)
		sw_invalid(req, why);
	else if ((r = module_patch(db, id, patch, &why)) != RESULT_OK)
		rest_result(req, r, why);
	else {
		req->audit_target = xasprintf("%lld", (long long)id);
		rest_reply(req, 200, sw_module_json_id(req, db, id, true));
	}
	json_decref(patch);
	json_decref(body);
}

void
rest_delete_module(struct request *req)
{
	struct db *db = rest_db(req);
	const char *why = NULL;
	struct module m;
	enum result r;
	int64_t id;

	if (db == NULL || !rest_id(req, 0, "SoftwareModule", &id))
		return;
	if ((r = module_load(db, id, false, &m)) != RESULT_OK) {
		if (r == RESULT_NOTFOUND)
			rest_not_found_id(req, "SoftwareModule", id);
		else
			rest_result(req, r, NULL);
		return;
	}
	req->audit_target = xasprintf("%lld", (long long)id);
	/* A module kept as deleted is deleted: hawkBit answers 204 again. */
	if (m.deleted)
		r = RESULT_OK;
	else
		r = module_delete(db, req->app->artifact_dir, id, &why);
	module_clear(&m);
	/* Falconet keeps a module while a live set holds it. */
	if (r == RESULT_CONFLICT)
		rest_error(req, 423, "LockedException", REST_E_LOCKED, "%s",
		    why ? why : "A distribution set holds the module.");
	else
		rest_result(req, r, why);
}

/* Artifacts */

static json_t *
sw_artifact_json(struct request *req, const struct artifact *a)
{
	json_t *o = json_pack("{s:I, s:{s:s, s:s*, s:s*}, s:s, s:I}", "id",
	    (json_int_t)a->id, "hashes", "sha1", a->sha1, "md5", a->md5,
	    "sha256", a->sha256, "providedFilename", a->filename, "size",
	    (json_int_t)a->size);

	if (o == NULL)
		return NULL;
	sw_no_nulls(json_object_get(o, "hashes"));
	sw_set_times(o, a->created_at);
	rest_add_link(o, "self",
	    rest_link(req, "/softwaremodules/%lld/artifacts/%lld",
	        (long long)a->module_id, (long long)a->id));
	rest_add_link(o, "download",
	    rest_link(req, "/softwaremodules/%lld/artifacts/%lld/download",
	        (long long)a->module_id, (long long)a->id));
	return o;
}

/* Artifact params[1] of the live module params[0] in *a, or a 404. */
static bool
sw_artifact(struct request *req, struct db *db, struct artifact *a)
{
	struct module m;
	int64_t aid;
	enum result r;

	if (!sw_module(req, db, &m))
		return false;
	if (!rest_id(req, 1, "Artifact", &aid)) {
		module_clear(&m);
		return false;
	}
	r = artifact_load(db, aid, a);
	if (r == RESULT_OK && a->module_id == m.id) {
		module_clear(&m);
		return true;
	}
	if (r == RESULT_OK)
		artifact_clear(a);
	module_clear(&m);
	if (r == RESULT_ERROR)
		rest_result(req, r, NULL);
	else
		rest_not_found_id(req, "Artifact", aid);
	return false;
}

void
rest_get_module_artifacts(struct request *req)
{
	struct db *db = rest_db(req);
	struct module m;
	json_t *a;

	if (db == NULL || !sw_module(req, db, &m))
		return;
	/* hawkBit answers a plain list here, not a page. */
	a = json_array();
	for (size_t i = 0; i < m.nartifacts; i++)
		json_array_append_new(
		    a, sw_artifact_json(req, &m.artifacts[i]));
	module_clear(&m);
	rest_reply(req, 200, a);
}

/* A parameter of the upload: the query's, else the multipart field's. */
static const char *
sw_upload_param(struct request *req, const char *name)
{
	const char *v = http_query(req, name);

	return v ? v : http_form(req, name);
}

/* Does the announced hash (any case) match the file's?  Absent is fine. */
static bool
sw_hash_matches(const char *given, const char *have)
{
	return given == NULL || *given == '\0' ||
	       (have && strcasecmp(given, have) == 0);
}

/* The checks hawkBit makes before it stores an upload; false after an
 * answer. */
static bool
sw_upload_checks(struct request *req, struct db *db, int64_t id)
{
	static const struct {
		const char *param, *alg;
		const char *(*have)(const struct upload *);
	} hashes[] = {
	    {"md5sum", "md5", upload_md5},
	    {"sha1sum", "sha1", upload_sha1},
	    {"sha256sum", "sha256", upload_sha256},
	};
	const char *name = sw_upload_param(req, "filename");
	struct artifact a;
	enum upload_err ue;
	char code[128];

	if (upload_size(req->upload) == 0) {
		rest_error(req, 400, "ArtifactUploadFailedException",
		    REST_E_UPLOAD,
		    "Send the file as the multipart part \"file\".");
		return false;
	}
	if (name)
		upload_set_filename(req->upload, name);
	if ((ue = upload_finish(req->upload)) != UPLOAD_OK) {
		rest_status_error(req, ue == UPLOAD_NO_SPACE ? 507 : 500,
		    "The upload cannot be stored.");
		return false;
	}
	for (size_t i = 0; i < NELEM(hashes); i++) {
		if (sw_hash_matches(sw_upload_param(req, hashes[i].param),
		        hashes[i].have(req->upload)))
			continue;
		snprintf(code, sizeof(code), REST_E_UPLOAD ".checksum.%s.match",
		    hashes[i].alg);
		rest_error(req, 400, "InvalidChecksumException", code,
		    "The given %s does not match the file's.", hashes[i].alg);
		return false;
	}
	if (module_locked(db, id)) {
		rest_error(req, 423, "LockedException", REST_E_LOCKED,
		    "SoftwareModule %lld is locked: a device was given it.",
		    (long long)id);
		return false;
	}
	name = upload_filename(req->upload);
	if (name && artifact_find(db, id, name, &a) == RESULT_OK) {
		artifact_clear(&a);
		rest_error(req, 409, "EntityAlreadyExistsException",
		    REST_E_EXISTS,
		    "File with that name already exists in the Software "
		    "Module");
		return false;
	}
	return true;
}

void
rest_post_module_artifact(struct request *req)
{
	struct db *db = rest_db(req);
	char why[512] = "";
	struct artifact a;
	struct module m;
	int64_t id, aid = 0;
	enum result r;

	if (db == NULL || !sw_module(req, db, &m))
		return;
	id = m.id;
	module_clear(&m);
	if (!sw_upload_checks(req, db, id))
		return;
	r = software_add_artifact(
	    db, req->app, id, req->upload, NULL, &aid, why, sizeof(why));
	if (r == RESULT_CONFLICT && strstr(why, "artifact named"))
		rest_error(req, 409, "EntityAlreadyExistsException",
		    REST_E_EXISTS,
		    "File with that name already exists in the Software "
		    "Module");
	else if (r == RESULT_INVALID)
		rest_error(req, 400, "ArtifactUploadFailedException",
		    REST_E_UPLOAD, "%s", why);
	else if (r != RESULT_OK)
		rest_result(req, r, why[0] ? why : NULL);
	else if (artifact_load(db, aid, &a) != RESULT_OK)
		rest_result(req, RESULT_ERROR, NULL);
	else {
		req->audit_target =
		    xasprintf("%lld/%lld", (long long)id, (long long)aid);
		rest_reply(req, 201, sw_artifact_json(req, &a));
		artifact_clear(&a);
	}
}

void
rest_get_module_artifact(struct request *req)
{
	struct db *db = rest_db(req);
	struct artifact a;

	if (db == NULL || !sw_artifact(req, db, &a))
		return;
	rest_reply(req, 200, sw_artifact_json(req, &a));
	artifact_clear(&a);
}

void
rest_delete_module_artifact(struct request *req)
{
	struct db *db = rest_db(req);
	const char *why = NULL;
	struct artifact a;
	enum result r;

	if (db == NULL || !sw_artifact(req, db, &a))
		return;
	req->audit_target =
	    xasprintf("%lld/%lld", (long long)a.module_id, (long long)a.id);
	r = software_delete_artifact(db, req->app, a.module_id, a.id, &why);
	if (r == RESULT_CONFLICT)
		rest_error(req, 423, "LockedException", REST_E_LOCKED, "%s",
		    why ? why : "The module is locked.");
	else
		rest_result(req, r, why);
	artifact_clear(&a);
}

void
rest_get_module_artifact_download(struct request *req)
{
	struct db *db = rest_db(req);
	struct artifact a;
	char disp[256];
	int fd;

	if (db == NULL || !sw_artifact(req, db, &a))
		return;
	if (a.url)
		rest_error(req, 404, "ArtifactBinaryNotFoundException",
		    REST_E_NOT_FOUND, "The artifact is hosted elsewhere: %s",
		    a.url);
	else if ((fd = artifact_open(req->app->artifact_dir, &a)) == -1)
		rest_error(req, 404, "ArtifactBinaryNotFoundException",
		    REST_E_NOT_FOUND, "The artifact's file was deleted.");
	else {
		snprintf(disp, sizeof(disp), "attachment; filename=\"%s\"",
		    a.filename);
		http_set_header(req, "Content-Disposition", disp);
		http_reply_fd(req, 200, fd, 0, (uint64_t)a.size,
		    "application/octet-stream");
	}
	artifact_clear(&a);
}

#define SW_MODULE_META(fn, call)                                               \
	void fn(struct request *req)                                           \
	{                                                                      \
		struct db *db = rest_db(req);                                  \
		struct module m;                                               \
		int64_t id;                                                    \
                                                                               \
		if (db == NULL || !sw_module(req, db, &m))                     \
			return;                                                \
		id = m.id;                                                     \
		module_clear(&m);                                              \
		call;                                                          \
	}

SW_MODULE_META(
    rest_get_module_metadata, rest_meta_list(req, db, &module_meta_table, id))
SW_MODULE_META(rest_post_module_metadata,
    rest_meta_create(req, db, &module_meta_table, id))
SW_MODULE_META(rest_get_module_metadata_key,
    rest_meta_get(req, db, &module_meta_table, id, 1))
SW_MODULE_META(rest_put_module_metadata_key,
    rest_meta_put(req, db, &module_meta_table, id, 1))
SW_MODULE_META(rest_delete_module_metadata_key,
    rest_meta_delete(req, db, &module_meta_table, id, 1))

/* Module types */

#define SM_TYPE_COLUMNS                                                        \
	"t.id, t.type_key, t.name, t.description, t.max_assignments, "         \
	"t.created_at, t.deleted_at IS NOT NULL"

static json_t *
sw_module_type_json(struct request *req, sqlite3_stmt *st)
{
	int64_t id = sqlite3_column_int64(st, 0);
	json_t *o = json_pack("{s:I, s:s, s:s, s:s*, s:I, s:b}", "id",
	    (json_int_t)id, "key", (const char *)sqlite3_column_text(st, 1),
	    "name", (const char *)sqlite3_column_text(st, 2), "description",
	    (const char *)sqlite3_column_text(st, 3), "maxAssignments",
	    (json_int_t)sqlite3_column_int64(st, 4), "deleted",
	    sqlite3_column_int(st, 6) != 0);

	if (o == NULL)
		return NULL;
	sw_set_times(o, sqlite3_column_int64(st, 5));
	rest_add_link(o, "self",
	    rest_link(req, "/softwaremoduletypes/%lld", (long long)id));
	return o;
}

static json_t *
sw_module_type_json_id(struct request *req, struct db *db, int64_t id)
{
	static const char sql[] =
	    "SELECT " SM_TYPE_COLUMNS " FROM sm_type t WHERE t.id = ?1";
	sqlite3_stmt *st = db_prepare(db, sql);
	json_t *o = NULL;

	if (st == NULL)
		return NULL;
	db_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW)
		o = sw_module_type_json(req, st);
	db_done(st);
	return o;
}

void
rest_get_module_types(struct request *req)
{
	struct db *db = rest_db(req);
	int64_t *ids, total;
	json_t *a;
	size_t n;

	if (db == NULL ||
	    (ids = sw_page_ids(req, db, "SELECT t.id FROM sm_type t",
	         "t.deleted_at IS NULL", type_fields, NELEM(type_fields),
	         type_sort, NELEM(type_sort), "t.id", &n, &total)) == NULL)
		return;
	a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(
		    a, sw_module_type_json_id(req, db, ids[i]));
	free(ids);
	rest_reply(req, 200, rest_paged(a, total));
}

void
rest_get_module_type(struct request *req)
{
	struct db *db = rest_db(req);
	json_t *o;
	int64_t id;

	if (db == NULL || !rest_id(req, 0, "SoftwareModuleType", &id))
		return;
	o = sw_module_type_json_id(req, db, id);
	if (o == NULL || json_is_true(json_object_get(o, "deleted"))) {
		json_decref(o);
		rest_not_found_id(req, "SoftwareModuleType", id);
	} else
		rest_reply(req, 200, o);
}

/* POST bodies of both type kinds: hawkBit's names to Falconet's. */
static json_t *
sw_type_body(json_t *e)
{
	json_t *b = json_object();
	json_t *v;

	if ((v = json_object_get(e, "key")))
		json_object_set(b, "key", v);
	if ((v = json_object_get(e, "name")))
		json_object_set(b, "name", v);
	if ((v = json_object_get(e, "description")))
		json_object_set(b, "description", v);
	if ((v = json_object_get(e, "maxAssignments")))
		json_object_set(b, "max_assignments", v);
	return b;
}

void
rest_post_module_types(struct request *req)
{
	struct db *db = rest_db(req);
	int64_t ids[REST_CREATE_MAX];
	const char *why = NULL;
	enum result r = RESULT_OK;
	json_t *body, *e, *b, *out;
	size_t i;

	if (db == NULL ||
	    (body = rest_body_array(req, REST_CREATE_MAX)) == NULL)
		return;
	/* module_type_create runs inside the caller's transaction: all or
	 * nothing. */
	if (db_begin(db) == -1)
		r = RESULT_ERROR;
	json_array_foreach(body, i, e)
	{
		if (r != RESULT_OK)
			break;
		b = sw_type_body(e);
		r = module_type_create(db, b, &ids[i], &why);
		json_decref(b);
	}
	if (r == RESULT_OK && db_commit(db) == -1)
		r = RESULT_ERROR;
	if (r != RESULT_OK) {
		db_rollback(db);
		rest_result(req, r, why);
		json_decref(body);
		return;
	}
	out = json_array();
	for (i = 0; i < json_array_size(body); i++)
		json_array_append_new(
		    out, sw_module_type_json_id(req, db, ids[i]));
	json_decref(body);
	req->audit_target = xasprintf("%lld", (long long)ids[0]);
	rest_reply(req, 201, out);
}

void
rest_delete_module_type(struct request *req)
{
	struct db *db = rest_db(req);
	const char *why = NULL;
	enum result r;
	int64_t id;

	if (db == NULL || !rest_id(req, 0, "SoftwareModuleType", &id))
		return;
	r = module_type_delete(db, id, &why);
	if (r == RESULT_NOTFOUND)
		rest_not_found_id(req, "SoftwareModuleType", id);
	else
		rest_result(req, r, why);
}

/* Distribution sets */

static json_t *
sw_set_modules_json(struct request *req, struct db *db, int64_t id)
{
	struct module *mods = NULL;
	size_t n = 0;
	json_t *a = json_array();

	if (dist_modules(db, id, &mods, &n) != RESULT_OK)
		return a;
	for (size_t i = 0; i < n; i++)
		json_array_append_new(
		    a, sw_module_json(req, db, &mods[i], false));
	dist_free_modules(mods, n);
	return a;
}

static char *
sw_set_type_name(struct db *db, int64_t type_id)
{
	static const char sql[] = "SELECT name FROM ds_type WHERE id = ?1";
	sqlite3_stmt *st = db_prepare(db, sql);
	char *name = NULL;

	if (st == NULL)
		return NULL;
	db_bind_int64(st, 1, type_id);
	if (sqlite3_step(st) == SQLITE_ROW)
		name = db_column_strdup(st, 0);
	db_done(st);
	return name;
}

json_t *
rest_ds_json(struct request *req, struct db *db, int64_t id)
{
	struct dist d;
	char *type_name;
	json_t *o;

	if (dist_load(db, id, false, &d) != RESULT_OK)
		return NULL;
	type_name = sw_set_type_name(db, d.type_id);
	o = json_pack("{s:I, s:s, s:s, s:s*, s:s, s:s*, s:b, s:b, s:b, s:b, "
	              "s:b, s:o}",
	    "id", (json_int_t)d.id, "name", d.name ? d.name : "", "version",
	    d.version, "description", d.description, "type", d.type_key,
	    "typeName", type_name, "complete", d.complete, "valid", !d.deleted,
	    "locked", dist_locked(db, id), "deleted", d.deleted,
	    "requiredMigrationStep", d.required_migration, "modules",
	    sw_set_modules_json(req, db, id));
	free(type_name);
	if (o != NULL) {
		sw_set_times(o, d.created_at);
		rest_add_link(o, "self",
		    rest_link(req, "/distributionsets/%lld", (long long)id));
		rest_add_link(o, "modules",
		    rest_link(req,
		        "/distributionsets/%lld/assignedSM?offset=0&limit=50",
		        (long long)id));
		rest_add_link(o, "type",
		    rest_link(req, "/distributionsettypes/%lld",
		        (long long)d.type_id));
		rest_add_link(o, "metadata",
		    rest_link(req,
		        "/distributionsets/%lld/metadata?offset=0&limit=50",
		        (long long)id));
	}
	dist_clear(&d);
	return o;
}

/* The live set of params[0]: its id, or a 404 answer and false. */
static bool
sw_set(struct request *req, struct db *db, int64_t *id)
{
	struct dist d;
	enum result r;

	if (!rest_id(req, 0, "DistributionSet", id))
		return false;
	r = dist_load(db, *id, false, &d);
	if (r == RESULT_OK) {
		r = d.deleted ? RESULT_NOTFOUND : RESULT_OK;
		dist_clear(&d);
	}
	if (r == RESULT_NOTFOUND)
		rest_not_found_id(req, "DistributionSet", *id);
	else if (r != RESULT_OK)
		rest_result(req, r, NULL);
	return r == RESULT_OK;
}

void
rest_get_sets(struct request *req)
{
	struct db *db = rest_db(req);
	int64_t *ids, total;
	json_t *a;
	size_t n;

	if (db == NULL ||
	    (ids = sw_page_ids(req, db,
	         "SELECT d.id FROM distribution_set d JOIN ds_type t ON t.id "
	         "= d.ds_type_id",
	         "d.deleted_at IS NULL", set_fields, NELEM(set_fields),
	         set_sort, NELEM(set_sort), "d.id", &n, &total)) == NULL)
		return;
	a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, rest_ds_json(req, db, ids[i]));
	free(ids);
	rest_reply(req, 200, rest_paged(a, total));
}

/* [{id}] as Falconet's [ids]; NULL after a 400 answer. */
static json_t *
sw_module_ids(struct request *req, json_t *list)
{
	json_t *ids = json_array(), *e, *id;
	size_t i;

	if (list == NULL)
		return ids;
	if (!json_is_array(list) || json_array_size(list) > DIST_MODULES_MAX)
		goto bad;
	json_array_foreach(list, i, e)
	{
		if (!json_is_integer(id = json_object_get(e, "id")))
			goto bad;
		json_array_append(ids, id);
	}
	return ids;
bad:
	json_decref(ids);
	sw_invalid(req, "modules: an array of {\"id\": number}.");
	return NULL;
}

/* The answer to a failed dist_create or dist_patch. */
static void
sw_set_failed(struct request *req, enum result r, const char *why)
{
	if (r == RESULT_CONFLICT && why && strstr(why, "name and version"))
		rest_error(req, 409, "EntityAlreadyExistsException",
		    REST_E_EXISTS, "%s", why);
	else if (r == RESULT_CONFLICT)
		rest_error(req, 423, "LockedException", REST_E_LOCKED, "%s",
		    why ? why : "The distribution set is locked.");
	else
		rest_result(req, r, why);
}

/* Create one element of POST distributionsets. */
static bool
sw_set_create_one(struct request *req, struct db *db, json_t *e, int64_t *id)
{
	json_t *b = json_object(), *v, *mods;
	const char *why = NULL;
	enum result r;

	if ((mods = sw_module_ids(req, json_object_get(e, "modules"))) ==
	    NULL) {
		json_decref(b);
		return false;
	}
	if ((v = json_object_get(e, "name")))
		json_object_set(b, "name", v);
	if ((v = json_object_get(e, "version")))
		json_object_set(b, "version", v);
	if ((v = json_object_get(e, "description")))
		json_object_set(b, "description", v);
	json_object_set_new(b, "type",
	    json_string(json_is_string(json_object_get(e, "type"))
	                    ? json_string_value(json_object_get(e, "type"))
	                    : "os_app"));
	json_object_set_new(b, "modules", mods);
	json_object_set_new(b, "version_scheme", json_string("none"));
	r = dist_create(db, b, id, &why);
	json_decref(b);
	if (r == RESULT_OK &&
	    json_is_true(json_object_get(e, "requiredMigrationStep")))
		r = dist_set_required_migration(db, *id, true);
	if (r != RESULT_OK)
		sw_set_failed(req, r, why);
	return r == RESULT_OK;
}

void
rest_post_sets(struct request *req)
{
	struct db *db = rest_db(req);
	int64_t ids[REST_CREATE_MAX];
	json_t *body, *e, *out;
	size_t i, done = 0;

	if (db == NULL ||
	    (body = rest_body_array(req, REST_CREATE_MAX)) == NULL)
		return;
	json_array_foreach(body, i, e)
	{
		if (!sw_set_create_one(req, db, e, &ids[i]))
			break;
		done++;
	}
	if (done == json_array_size(body)) {
		out = json_array();
		for (i = 0; i < done; i++)
			json_array_append_new(
			    out, rest_ds_json(req, db, ids[i]));
		req->audit_target = xasprintf("%lld", (long long)ids[0]);
		rest_reply(req, 201, out);
	} else {
		/* All or nothing, as in hawkBit: the sets made before the one
		 * refused (no device was given them yet) go again. */
		for (i = 0; i < done; i++) {
			const char *why = NULL;

			if (dist_delete_set(db, req->app->artifact_dir, ids[i],
			        true, &why) != RESULT_OK)
				log_warnx("%s: set %lld stays: %s", __func__,
				    (long long)ids[i], why ? why : "error");
		}
	}
	json_decref(body);
}

void
rest_get_set(struct request *req)
{
	struct db *db = rest_db(req);
	int64_t id;

	if (db && sw_set(req, db, &id))
		rest_reply(req, 200, rest_ds_json(req, db, id));
}

void
rest_put_set(struct request *req)
{
	struct db *db = rest_db(req);
	const char *why = NULL;
	json_t *body, *patch, *v;
	enum result r = RESULT_OK;
	int64_t id;

	if (db == NULL || !sw_set(req, db, &id) ||
	    (body = rest_body_object(req)) == NULL)
		return;
	patch = json_object();
	if ((v = json_object_get(body, "name")))
		json_object_set(patch, "name", v);
	if ((v = json_object_get(body, "version")))
		json_object_set(patch, "version", v);
	if ((v = json_object_get(body, "description")))
		json_object_set(patch, "description", v);
	if (json_object_size(patch) > 0)
		r = dist_patch(db, id, patch, &why);
	if (r == RESULT_OK &&
	    json_is_boolean(v = json_object_get(body, "requiredMigrationStep")))
		r = dist_set_required_migration(db, id, json_is_true(v));
	if (r != RESULT_OK)
		sw_set_failed(req, r, why);
	else {
		req->audit_target = xasprintf("%lld", (long long)id);
		rest_reply(req, 200, rest_ds_json(req, db, id));
	}
	json_decref(patch);
	json_decref(body);
}

void
rest_delete_set(struct request *req)
{
	struct db *db = rest_db(req);
	const char *why = NULL;
	struct dist d;
	enum result r;
	int64_t id;

	if (db == NULL || !rest_id(req, 0, "DistributionSet", &id))
		return;
	if ((r = dist_load(db, id, false, &d)) != RESULT_OK) {
		if (r == RESULT_NOTFOUND)
			rest_not_found_id(req, "DistributionSet", id);
		else
			rest_result(req, r, NULL);
		return;
	}
	req->audit_target = xasprintf("%lld", (long long)id);
	/* A set kept as deleted is deleted: 204 again, as for modules. */
	if (d.deleted)
		r = RESULT_OK;
	else
		r = dist_delete_set(db, req->app->artifact_dir, id, true, &why);
	dist_clear(&d);
	if (r == RESULT_CONFLICT)
		rest_error(req, 423, "LockedException", REST_E_LOCKED, "%s",
		    why ? why : "The distribution set is in use.");
	else
		rest_result(req, r, why);
}

void
rest_get_set_modules(struct request *req)
{
	struct db *db = rest_db(req);
	struct rest_page p;
	json_t *all, *page;
	int64_t id;
	size_t n;

	if (db == NULL || !sw_set(req, db, &id))
		return;
	rest_page(req, &p);
	all = sw_set_modules_json(req, db, id);
	n = json_array_size(all);
	page = json_array();
	for (size_t i = (size_t)p.offset;
	     i < n && i < (size_t)(p.offset + p.limit); i++)
		json_array_append(page, json_array_get(all, i));
	json_decref(all);
	rest_reply(req, 200, rest_paged(page, (int64_t)n));
}

/* The set's module ids as a JSON array. */
static json_t *
sw_set_module_ids(struct db *db, int64_t id)
{
	struct module *mods = NULL;
	size_t n = 0;
	json_t *a = json_array();

	if (dist_modules(db, id, &mods, &n) == RESULT_OK)
		for (size_t i = 0; i < n; i++)
			json_array_append_new(a, json_integer(mods[i].id));
	dist_free_modules(mods, n);
	return a;
}

/* Replace the set's modules with ids (consumed); 204 or the error. */
static void
sw_set_replace_modules(
    struct request *req, struct db *db, int64_t id, json_t *ids)
{
	json_t *patch = json_pack("{s:o}", "modules", ids);
	const char *why = NULL;
	enum result r = dist_patch(db, id, patch, &why);

	json_decref(patch);
	req->audit_target = xasprintf("%lld", (long long)id);
	if (r == RESULT_CONFLICT)
		rest_error(req, 423, "LockedException", REST_E_LOCKED, "%s",
		    why ? why : "The distribution set is locked.");
	else
		rest_result(req, r, why);
}

void
rest_post_set_modules(struct request *req)
{
	struct db *db = rest_db(req);
	json_t *body, *add, *ids, *v;
	int64_t id;
	size_t i, j;

	if (db == NULL || !sw_set(req, db, &id) ||
	    (body = rest_body_array(req, DIST_MODULES_MAX)) == NULL)
		return;
	add = sw_module_ids(req, body);
	json_decref(body);
	if (add == NULL)
		return;
	ids = sw_set_module_ids(db, id);
	json_array_foreach(add, i, v)
	{
		bool have = false;
		json_t *w;

		json_array_foreach(ids, j, w)
		{
			have = have || json_equal(v, w);
		}
		if (!have)
			json_array_append(ids, v);
	}
	json_decref(add);
	sw_set_replace_modules(req, db, id, ids);
}

void
rest_delete_set_module(struct request *req)
{
	struct db *db = rest_db(req);
	int64_t id, mid;
	json_t *ids;
	size_t i, n;

	if (db == NULL || !sw_set(req, db, &id) ||
	    !rest_id(req, 1, "SoftwareModule", &mid))
		return;
	ids = sw_set_module_ids(db, id);
	n = json_array_size(ids);
	for (i = 0; i < n; i++)
		if (json_integer_value(json_array_get(ids, i)) == mid)
			break;
	if (i == n) {
		json_decref(ids);
		rest_not_found_id(req, "SoftwareModule", mid);
		return;
	}
	json_array_remove(ids, i);
	sw_set_replace_modules(req, db, id, ids);
}

#define SW_SET_META(fn, call)                                                  \
	void fn(struct request *req)                                           \
	{                                                                      \
		struct db *db = rest_db(req);                                  \
		int64_t id;                                                    \
                                                                               \
		if (db && sw_set(req, db, &id))                                \
			call;                                                  \
	}

SW_SET_META(
    rest_get_set_metadata, rest_meta_list(req, db, &dist_meta_table, id))
SW_SET_META(
    rest_post_set_metadata, rest_meta_create(req, db, &dist_meta_table, id))
SW_SET_META(
    rest_get_set_metadata_key, rest_meta_get(req, db, &dist_meta_table, id, 1))
SW_SET_META(
    rest_put_set_metadata_key, rest_meta_put(req, db, &dist_meta_table, id, 1))
SW_SET_META(rest_delete_set_metadata_key,
    rest_meta_delete(req, db, &dist_meta_table, id, 1))

/* Set types */

/* The module types of set type id, mandatory or optional, as
 * [{"id", "key", "name"}]. */
static json_t *
sw_set_type_elements(struct db *db, int64_t id, bool mandatory)
{
	static const char sql[] =
	    "SELECT t.id, t.type_key, t.name FROM ds_type_element e JOIN "
	    "sm_type t ON t.id = e.sm_type_id WHERE e.ds_type_id = ?1 AND "
	    "e.mandatory = ?2 ORDER BY t.id";
	sqlite3_stmt *st = db_prepare(db, sql);
	json_t *a = json_array();

	if (st == NULL)
		return a;
	db_bind_int64(st, 1, id);
	db_bind_int64(st, 2, mandatory);
	while (sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(
		    a, json_pack("{s:I, s:s, s:s}", "id",
		           (json_int_t)sqlite3_column_int64(st, 0), "key",
		           (const char *)sqlite3_column_text(st, 1), "name",
		           (const char *)sqlite3_column_text(st, 2)));
	db_done(st);
	return a;
}

static json_t *
sw_set_type_json_id(struct request *req, struct db *db, int64_t id)
{
	static const char sql[] =
	    "SELECT t.id, t.type_key, t.name, t.description, t.created_at, "
	    "t.deleted_at IS NOT NULL FROM ds_type t WHERE t.id = ?1";
	sqlite3_stmt *st = db_prepare(db, sql);
	json_t *o = NULL;
	int64_t created = 0;

	if (st == NULL)
		return NULL;
	db_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		o = json_pack("{s:I, s:s, s:s, s:s*, s:b}", "id",
		    (json_int_t)id, "key",
		    (const char *)sqlite3_column_text(st, 1), "name",
		    (const char *)sqlite3_column_text(st, 2), "description",
		    (const char *)sqlite3_column_text(st, 3), "deleted",
		    sqlite3_column_int(st, 5) != 0);
		created = sqlite3_column_int64(st, 4);
	}
	db_done(st);
	if (o == NULL)
		return NULL;
	sw_set_times(o, created);
	json_object_set_new(
	    o, "mandatorymodules", sw_set_type_elements(db, id, true));
	json_object_set_new(
	    o, "optionalmodules", sw_set_type_elements(db, id, false));
	rest_add_link(o, "self",
	    rest_link(req, "/distributionsettypes/%lld", (long long)id));
	return o;
}

void
rest_get_set_types(struct request *req)
{
	struct db *db = rest_db(req);
	int64_t *ids, total;
	json_t *a;
	size_t n;

	if (db == NULL ||
	    (ids = sw_page_ids(req, db, "SELECT t.id FROM ds_type t",
	         "t.deleted_at IS NULL", type_fields, NELEM(type_fields),
	         type_sort, NELEM(type_sort), "t.id", &n, &total)) == NULL)
		return;
	a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, sw_set_type_json_id(req, db, ids[i]));
	free(ids);
	rest_reply(req, 200, rest_paged(a, total));
}

void
rest_get_set_type(struct request *req)
{
	struct db *db = rest_db(req);
	json_t *o;
	int64_t id;

	if (db == NULL || !rest_id(req, 0, "DistributionSetType", &id))
		return;
	o = sw_set_type_json_id(req, db, id);
	if (o == NULL || json_is_true(json_object_get(o, "deleted"))) {
		json_decref(o);
		rest_not_found_id(req, "DistributionSetType", id);
	} else
		rest_reply(req, 200, o);
}

/* hawkBit's [{id}] of module types as Falconet's [keys]; NULL if one is
 * not a live module type. */
static json_t *
sw_type_keys(struct db *db, json_t *list)
{
	static const char sql[] =
	    "SELECT type_key FROM sm_type WHERE id = ?1 AND deleted_at IS NULL";
	json_t *keys = json_array(), *e;
	sqlite3_stmt *st;
	size_t i;

	json_array_foreach(list, i, e)
	{
		bool found = false;

		if (!json_is_integer(json_object_get(e, "id")) ||
		    (st = db_prepare(db, sql)) == NULL) {
			json_decref(keys);
			return NULL;
		}
		db_bind_int64(
		    st, 1, json_integer_value(json_object_get(e, "id")));
		if (sqlite3_step(st) == SQLITE_ROW) {
			json_array_append_new(keys,
			    json_string(
			        (const char *)sqlite3_column_text(st, 0)));
			found = true;
		}
		db_done(st);
		if (!found) {
			json_decref(keys);
			return NULL;
		}
	}
	return keys;
}

void
rest_post_set_types(struct request *req)
{
	struct db *db = rest_db(req);
	int64_t ids[REST_CREATE_MAX];
	json_t *body, *e, *b, *keys, *out;
	const char *why = NULL;
	enum result r = RESULT_OK;
	size_t i, done = 0;

	if (db == NULL ||
	    (body = rest_body_array(req, REST_CREATE_MAX)) == NULL)
		return;
	json_array_foreach(body, i, e)
	{
		b = sw_type_body(e);
		json_object_del(b, "max_assignments");
		for (int k = 0; k < 2 && r == RESULT_OK; k++) {
			json_t *l = json_object_get(
			    e, k == 0 ? "mandatorymodules" : "optionalmodules");

			if (l == NULL)
				continue;
			if (!json_is_array(l) ||
			    (keys = sw_type_keys(db, l)) == NULL) {
				why = "mandatorymodules and optionalmodules: "
				      "[{\"id\"}] of module types";
				r = RESULT_INVALID;
				break;
			}
			json_object_set_new(
			    b, k == 0 ? "mandatory" : "optional", keys);
		}
		if (r == RESULT_OK)
			r = dist_type_create(db, b, &ids[i], &why);
		json_decref(b);
		if (r != RESULT_OK)
			break;
		done++;
	}
	if (r != RESULT_OK) {
		rest_result(req, r, why);
		json_decref(body);
		/* All or nothing: the types made before it go again (no set
		 * uses them yet, so they are removed entirely). */
		for (i = 0; i < done; i++) {
			const char *ignored = NULL;

			dist_type_delete(db, ids[i], &ignored);
		}
		return;
	}
	out = json_array();
	for (i = 0; i < done; i++)
		json_array_append_new(
		    out, sw_set_type_json_id(req, db, ids[i]));
	req->audit_target = xasprintf("%lld", (long long)ids[0]);
	json_decref(body);
	rest_reply(req, 201, out);
}

void
rest_delete_set_type(struct request *req)
{
	struct db *db = rest_db(req);
	const char *why = NULL;
	enum result r;
	int64_t id;

	if (db == NULL || !rest_id(req, 0, "DistributionSetType", &id))
		return;
	r = dist_type_delete(db, id, &why);
	if (r == RESULT_NOTFOUND)
		rest_not_found_id(req, "DistributionSetType", id);
	else
		rest_result(req, r, why);
}
