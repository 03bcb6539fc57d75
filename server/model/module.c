/*
 * Software module rows.  Artifacts are artifact.c's; sets that hold a
 * module are dist.c's.
 */
#include "module.h"

#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"
#include "meta.h"

enum result
module_load(struct db *db, int64_t id, bool with_artifacts, struct module *m)
{
	static const char sql[] =
	    "SELECT m.id, m.sm_type_id, t.type_key, t.name, m.name, "
	    "m.version, m.vendor, m.description, m.encrypted, m.created_at, "
	    "m.deleted_at IS NOT NULL FROM software_module m "
	    "JOIN sm_type t ON t.id = m.sm_type_id WHERE m.id = ?1";
	sqlite3_stmt *st = db_prepare(db, sql);
	enum result r = RESULT_ERROR;

	memset(m, 0, sizeof(*m));
	if (st == NULL)
		return r;
	db_bind_int64(st, 1, id);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		m->id = sqlite3_column_int64(st, 0);
		m->type_id = sqlite3_column_int64(st, 1);
		m->type_key = db_column_strdup(st, 2);
		m->type_name = db_column_strdup(st, 3);
		m->name = db_column_strdup(st, 4);
		m->version = db_column_strdup(st, 5);
		m->vendor = db_column_strdup(st, 6);
		m->description = db_column_strdup(st, 7);
		m->encrypted = sqlite3_column_int(st, 8) != 0;
		m->created_at = sqlite3_column_int64(st, 9);
		m->deleted = sqlite3_column_int(st, 10) != 0;
		r = RESULT_OK;
		break;
	case SQLITE_DONE:
		r = RESULT_NOTFOUND;
		break;
	default:
		db_log_error(db, __func__);
	}
	db_done(st);
	if (r == RESULT_OK && with_artifacts &&
	    (r = artifact_list(db, id, &m->artifacts, &m->nartifacts)) !=
	        RESULT_OK)
		module_clear(m);
	return r;
}

void
module_clear(struct module *m)
{
	if (m == NULL)
		return;
	free(m->type_key);
	free(m->type_name);
	free(m->name);
	free(m->version);
	free(m->vendor);
	free(m->description);
	artifact_free_list(m->artifacts, m->nartifacts);
	memset(m, 0, sizeof(*m));
}

enum result
module_type_find(struct db *db, const char *key, int64_t *id)
{
	static const char sql[] = "SELECT id FROM sm_type WHERE type_key = ?1 "
	                          "AND deleted_at IS NULL";
	sqlite3_stmt *st = db_prepare(db, sql);
	enum result r = RESULT_NOTFOUND;

	if (st == NULL)
		return RESULT_ERROR;
	db_bind_text(st, 1, key);
	if (sqlite3_step(st) == SQLITE_ROW) {
		*id = sqlite3_column_int64(st, 0);
		r = RESULT_OK;
	}
	db_done(st);
	return r;
}

enum result
module_create(struct db *db, int64_t type_id, const char *name,
    const char *version, const char *vendor, const char *description,
    int64_t *id)
{
	static const char sql[] =
	    "INSERT INTO software_module (sm_type_id, name, version, vendor, "
	    "description, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
	    "RETURNING id";
	sqlite3_stmt *st = db_prepare(db, sql);

	if (st == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, type_id);
	db_bind_text(st, 2, name);
	db_bind_text(st, 3, version);
	db_bind_text(st, 4, vendor);
	db_bind_text(st, 5, description);
	db_bind_int64(st, 6, now_s());
	return db_step_id(db, st, id, __func__);
}

enum result
module_set_encrypted(struct db *db, int64_t id)
{
	static const char sql[] =
	    "UPDATE software_module SET encrypted = 1 WHERE id = ?1";
	sqlite3_stmt *st = db_prepare(db, sql);

	if (st == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, id);
	return db_step_done(db, st, __func__);
}

json_t *
module_to_json(const struct module *m)
{
	json_t *arts = json_array();

	for (size_t i = 0; i < m->nartifacts; i++)
		json_array_append_new(arts, artifact_to_json(&m->artifacts[i]));
	return json_pack("{s:I, s:s, s:s, s:s, s:s, s:s?, s:s?, s:b, s:b, "
	                 "s:I, s:o}",
	    "id", (json_int_t)m->id, "type", m->type_key, "type_name",
	    m->type_name, "name", m->name, "version", m->version, "vendor",
	    m->vendor, "description", m->description, "encrypted", m->encrypted,
	    "deleted", m->deleted, "created_at", (json_int_t)m->created_at,
	    "artifacts", arts);
}

json_t *
module_metadata_json(struct db *db, int64_t id, bool visible_only)
{
	static const char sql[] =
	    "SELECT meta_key, meta_value FROM sm_metadata WHERE module_id = "
	    "?1 AND (?2 = 0 OR target_visible = 1) ORDER BY meta_key";
	sqlite3_stmt *st = db_prepare(db, sql);
	json_t *a = NULL;

	if (st == NULL)
		return NULL;
	db_bind_int64(st, 1, id);
	db_bind_int64(st, 2, visible_only);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (a == NULL)
			a = json_array();
		json_array_append_new(
		    a, json_pack("{s:s, s:s}", "key",
		           (const char *)sqlite3_column_text(st, 0), "value",
		           (const char *)sqlite3_column_text(st, 1)));
	}
	db_done(st);
	return a;
}

bool
module_locked(struct db *db, int64_t id)
{
	static const char sql[] =
	    "SELECT 1 FROM ds_module x JOIN action a ON a.ds_id = x.ds_id "
	    "WHERE x.module_id = ?1 LIMIT 1";
	sqlite3_stmt *st = db_prepare(db, sql);
	bool locked;

	if (st == NULL)
		return true; /* when in doubt, change nothing */
	db_bind_int64(st, 1, id);
	locked = sqlite3_step(st) == SQLITE_ROW;
	db_done(st);
	return locked;
}

/* The live sets holding module id. */
static json_t *
module_sets_json(struct db *db, int64_t id)
{
	static const char sql[] =
	    "SELECT d.id FROM ds_module x JOIN distribution_set d ON d.id = "
	    "x.ds_id WHERE x.module_id = ?1 AND d.deleted_at IS NULL "
	    "ORDER BY d.id";
	sqlite3_stmt *st = db_prepare(db, sql);
	json_t *a = json_array();

	if (st == NULL)
		return a;
	db_bind_int64(st, 1, id);
	while (sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(
		    a, json_integer(sqlite3_column_int64(st, 0)));
	db_done(st);
	return a;
}

json_t *
module_detail_json(struct db *db, const struct module *m)
{
	json_t *o = module_to_json(m);
	static const char sql[] =
	    "SELECT meta_key, meta_value, target_visible FROM sm_metadata "
	    "WHERE module_id = ?1 ORDER BY meta_key";

	json_object_set_new(o, "metadata", meta_json(db, m->id, true, sql));
	json_object_set_new(o, "distributions", module_sets_json(db, m->id));
	json_object_set_new(
	    o, "locked", json_boolean(module_locked(db, m->id)));
	return o;
}

json_t *
module_list_json(struct db *db, int64_t limit, int64_t offset, const char *text,
    const char *type)
{
#define MODULE_MATCH                                                           \
	"m.deleted_at IS NULL AND (?1 IS NULL OR instr(m.name, ?1) > 0 OR "    \
	"instr(m.version, ?1) > 0) AND (?2 IS NULL OR t.type_key = ?2)"
	static const char sql[] =
	    "SELECT m.id FROM software_module m JOIN sm_type t ON t.id = "
	    "m.sm_type_id WHERE " MODULE_MATCH
	    " ORDER BY m.id DESC LIMIT ?3 OFFSET ?4";
	static const char count[] =
	    "SELECT count(*) FROM software_module m JOIN sm_type t ON t.id = "
	    "m.sm_type_id WHERE " MODULE_MATCH;
#undef MODULE_MATCH
	sqlite3_stmt *st;
	json_t *list = json_array();
	int64_t *ids, total = 0;
	size_t n;

	if ((st = db_prepare(db, count)) != NULL) {
		db_bind_text(st, 1, text);
		db_bind_text(st, 2, type);
		total = db_count(st);
	}
	if ((st = db_prepare(db, sql)) == NULL) {
		json_decref(list);
		return NULL;
	}
	db_bind_text(st, 1, text);
	db_bind_text(st, 2, type);
	db_bind_int64(st, 3, limit);
	db_bind_int64(st, 4, offset);
	ids = db_collect_ids(st, &n);
	for (size_t i = 0; i < n; i++) {
		struct module m;

		if (module_load(db, ids[i], true, &m) != RESULT_OK)
			continue;
		json_array_append_new(list, module_detail_json(db, &m));
		module_clear(&m);
	}
	free(ids);
	return json_pack("{s:o, s:I, s:I, s:I}", "modules", list, "total",
	    (json_int_t)total, "limit", (json_int_t)limit, "offset",
	    (json_int_t)offset);
}

enum result
module_set_metadata(struct db *db, int64_t id, json_t *meta, const char **why)
{
	static const char clear[] =
	    "DELETE FROM sm_metadata WHERE module_id = ?1";
	static const char ins[] =
	    "INSERT INTO sm_metadata (module_id, meta_key, meta_value, "
	    "target_visible) VALUES (?1, ?2, ?3, ?4)";

	return meta_replace(db, id, meta, true, clear, ins, why);
}

/* Optional text: absent leaves it, null clears it, else at most max. */
static bool
module_text_ok(json_t *v, size_t max)
{
	return v == NULL || json_is_null(v) ||
	       (json_is_string(v) && json_string_length(v) <= max);
}

const char *
module_text_check(json_t *body)
{
	if (!module_text_ok(json_object_get(body, "vendor"), MODULE_NAME_MAX))
		return "vendor: at most 128 characters";
	if (!module_text_ok(
	        json_object_get(body, "description"), META_VALUE_MAX))
		return "description: at most 4000 characters";
	return NULL;
}

enum result
module_patch(struct db *db, int64_t id, json_t *body, const char **why)
{
	static const char set_vendor[] =
	    "UPDATE software_module SET vendor = ?2 WHERE id = ?1";
	static const char set_desc[] =
	    "UPDATE software_module SET description = ?2 WHERE id = ?1";
	json_t *vendor = json_object_get(body, "vendor");
	json_t *desc = json_object_get(body, "description");
	json_t *meta = json_object_get(body, "metadata");
	struct module m;
	sqlite3_stmt *st;
	enum result r;

	if ((*why = module_text_check(body)) != NULL)
		return RESULT_INVALID;
	if (db_begin(db) == -1)
		return RESULT_ERROR;
	if ((r = module_load(db, id, false, &m)) != RESULT_OK)
		goto fail;
	if (m.deleted) {
		r = RESULT_NOTFOUND;
		goto fail;
	}
	if (vendor) {
		if ((st = db_prepare(db, set_vendor)) == NULL) {
			r = RESULT_ERROR;
			goto fail;
		}
		db_bind_int64(st, 1, id);
		db_bind_text(st, 2, json_string_value(vendor));
		if ((r = db_step_done(db, st, __func__)) != RESULT_OK)
			goto fail;
	}
	if (desc) {
		if ((st = db_prepare(db, set_desc)) == NULL) {
			r = RESULT_ERROR;
			goto fail;
		}
		db_bind_int64(st, 1, id);
		db_bind_text(st, 2, json_string_value(desc));
		if ((r = db_step_done(db, st, __func__)) != RESULT_OK)
			goto fail;
	}
	if (meta && (r = module_set_metadata(db, id, meta, why)) != RESULT_OK)
		goto fail;
	module_clear(&m);
	return db_commit(db) == -1 ? RESULT_ERROR : RESULT_OK;
fail:
	db_rollback(db);
	module_clear(&m);
	return r;
}

enum result
module_delete(struct db *db, const char *dir, int64_t id, const char **why)
{
	static const char in_live_set[] =
	    "SELECT 1 FROM ds_module x JOIN distribution_set d ON d.id = "
	    "x.ds_id WHERE x.module_id = ?1 AND d.deleted_at IS NULL LIMIT 1";
	static const char soft_del[] =
	    "UPDATE software_module SET deleted_at = ?2 WHERE id = ?1";
	static const char unlink_sets[] =
	    "DELETE FROM ds_module WHERE module_id = ?1";
	static const char hard_del[] =
	    "DELETE FROM software_module WHERE id = ?1";
	struct module m;
	sqlite3_stmt *st;
	enum result r;
	char **paths = NULL;
	size_t npaths = 0;
	bool used, keep;

	*why = NULL;
	if (db_begin(db) == -1)
		return RESULT_ERROR;
	if ((r = module_load(db, id, false, &m)) != RESULT_OK)
		goto fail;
	if (m.deleted) {
		r = RESULT_NOTFOUND;
		goto fail;
	}
	if ((st = db_prepare(db, in_live_set)) == NULL) {
		r = RESULT_ERROR;
		goto fail;
	}
	db_bind_int64(st, 1, id);
	used = sqlite3_step(st) == SQLITE_ROW;
	db_done(st);
	if (used) {
		*why = "a distribution set holds this module; remove it from "
		       "the set or delete the set first";
		r = RESULT_CONFLICT;
		goto fail;
	}
	keep = module_locked(db, id);
	if ((r = artifact_release_files(db, id, &paths, &npaths)) != RESULT_OK)
		goto fail;
	if (keep) {
		if ((st = db_prepare(db, soft_del)) == NULL) {
			r = RESULT_ERROR;
			goto fail;
		}
		db_bind_int64(st, 1, id);
		db_bind_int64(st, 2, now_s());
	} else {
		if ((st = db_prepare(db, unlink_sets)) == NULL) {
			r = RESULT_ERROR;
			goto fail;
		}
		db_bind_int64(st, 1, id);
		if ((r = db_step_done(db, st, __func__)) != RESULT_OK)
			goto fail;
		if ((st = db_prepare(db, hard_del)) == NULL) {
			r = RESULT_ERROR;
			goto fail;
		}
		db_bind_int64(st, 1, id);
	}
	if ((r = db_step_done(db, st, __func__)) != RESULT_OK)
		goto fail;
	if (db_commit(db) == -1) {
		r = RESULT_ERROR;
		goto fail;
	}
	artifact_unlink_paths(dir, paths, npaths);
	log_info("deleted module %lld%s", (long long)id,
	    keep ? " (history kept)" : "");
	module_clear(&m);
	return RESULT_OK;
fail:
	db_rollback(db);
	for (size_t i = 0; i < npaths; i++)
		free(paths[i]);
	free(paths);
	module_clear(&m);
	return r;
}

json_t *
module_types_json(struct db *db)
{
	static const char sql[] =
	    "SELECT id, type_key, name, description, max_assignments FROM "
	    "sm_type WHERE deleted_at IS NULL ORDER BY id";
	sqlite3_stmt *st = db_prepare(db, sql);
	json_t *a = json_array();

	if (st == NULL) {
		json_decref(a);
		return NULL;
	}
	while (sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(a,
		    json_pack("{s:I, s:s, s:s, s:s?, s:I}", "id",
		        (json_int_t)sqlite3_column_int64(st, 0), "key",
		        (const char *)sqlite3_column_text(st, 1), "name",
		        (const char *)sqlite3_column_text(st, 2), "description",
		        (const char *)sqlite3_column_text(st, 3),
		        "max_assignments",
		        (json_int_t)sqlite3_column_int64(st, 4)));
	db_done(st);
	return json_pack("{s:o}", "types", a);
}

bool
module_type_key_valid(const char *k)
{
	size_t n = strlen(k);

	return n >= 1 && n <= 64 &&
	       strspn(k, "abcdefghijklmnopqrstuvwxyz0123456789_.-") == n;
}

enum result
module_type_create(struct db *db, json_t *body, int64_t *id, const char **why)
{
	static const char sql[] =
	    "INSERT INTO sm_type (type_key, name, description, "
	    "max_assignments, created_at) VALUES (?1, ?2, ?3, ?4, ?5) "
	    "RETURNING id";
	const char *key = json_string_value(json_object_get(body, "key"));
	const char *name = json_string_value(json_object_get(body, "name"));
	json_t *desc = json_object_get(body, "description");
	json_t *max = json_object_get(body, "max_assignments");
	sqlite3_stmt *st;
	enum result r;

	*why = NULL;
	if (key == NULL || !module_type_key_valid(key))
		return *why = "key: 1 to 64 of [a-z0-9_.-]", RESULT_INVALID;
	if (name == NULL || *name == '\0' || strlen(name) > MODULE_NAME_MAX)
		return *why = "name: 1 to 128 characters", RESULT_INVALID;
	if (!module_text_ok(desc, META_VALUE_MAX))
		return *why = "description: at most 4000 characters",
		       RESULT_INVALID;
	if (max && (!json_is_integer(max) || json_integer_value(max) < 1 ||
	               json_integer_value(max) > INT32_MAX))
		return *why = "max_assignments: 1 to 2147483647",
		       RESULT_INVALID;
	if ((st = db_prepare(db, sql)) == NULL)
		return RESULT_ERROR;
	db_bind_text(st, 1, key);
	db_bind_text(st, 2, name);
	db_bind_text(st, 3, json_string_value(desc));
	db_bind_int64(st, 4, max ? json_integer_value(max) : 1);
	db_bind_int64(st, 5, now_s());
	if ((r = db_step_id(db, st, id, __func__)) == RESULT_CONFLICT)
		*why = "a module type with that key exists (deleted ones "
		       "included)";
	return r;
}

enum result
module_type_delete(struct db *db, int64_t id, const char **why)
{
	static const char used[] =
	    "SELECT (SELECT count(*) FROM software_module WHERE sm_type_id = "
	    "?1) + (SELECT count(*) FROM ds_type_element WHERE sm_type_id = "
	    "?1)";
	static const char soft_del[] = "UPDATE sm_type SET deleted_at = ?2 "
	                               "WHERE id = ?1 AND deleted_at IS NULL";
	static const char hard_del[] = "DELETE FROM sm_type WHERE id = ?1";
	sqlite3_stmt *st;
	int64_t n;

	*why = NULL;
	/* The simple upload path makes os modules; sets of every shipped
	 * type need os or application. */
	if (id == 1 || id == 2)
		return *why = "os and application are built in",
		       RESULT_CONFLICT;
	if ((st = db_prepare(db, used)) == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, id);
	n = db_count(st);
	if ((st = db_prepare(db, n ? soft_del : hard_del)) == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, id);
	if (n)
		db_bind_int64(st, 2, now_s());
	return db_step_changed(db, st, __func__);
}

const struct meta_table module_meta_table = {
    .count = "SELECT count(*) FROM sm_metadata WHERE module_id = ?1",
    .page = "SELECT meta_key, meta_value FROM sm_metadata "
            "WHERE module_id = ?1 ORDER BY meta_key LIMIT ?2 OFFSET ?3",
    .get = "SELECT meta_value FROM sm_metadata WHERE module_id = ?1 "
           "AND meta_key = ?2",
    .insert = "INSERT INTO sm_metadata (module_id, meta_key, "
              "meta_value) VALUES (?1, ?2, ?3)",
    .update = "UPDATE sm_metadata SET meta_value = ?3 "
              "WHERE module_id = ?1 AND meta_key = ?2",
    .remove = "DELETE FROM sm_metadata WHERE module_id = ?1 AND "
              "meta_key = ?2",
};
