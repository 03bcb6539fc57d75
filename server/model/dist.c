/*
 * Distribution set rows, their modules and their hardware compatibility.
 */
#include "dist.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"
#include "meta.h"
#include "rollout.h"
#include "version.h"

#define DIST_COLUMNS                                                           \
	"d.id, d.name, d.version, d.description, d.ds_type_id, t.type_key, "   \
	"d.version_scheme, d.rauc_compatible, d.complete, "                    \
	"d.required_migration, d.created_at, d.deleted_at IS NOT NULL"

enum result
dist_load(struct db *db, int64_t id, bool with_hw, struct dist *d)
{
	static const char sql[] =
	    "SELECT " DIST_COLUMNS " FROM distribution_set d "
	    "JOIN ds_type t ON t.id = d.ds_type_id WHERE d.id = ?1";
	sqlite3_stmt *st = db_prepare(db, sql);
	enum result r = RESULT_ERROR;

	memset(d, 0, sizeof(*d));
	if (st == NULL)
		return r;
	db_bind_int64(st, 1, id);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		d->id = sqlite3_column_int64(st, 0);
		d->name = db_column_strdup(st, 1);
		d->version = db_column_strdup(st, 2);
		d->description = db_column_strdup(st, 3);
		d->type_id = sqlite3_column_int64(st, 4);
		d->type_key = db_column_strdup(st, 5);
		d->version_scheme = db_column_strdup(st, 6);
		d->rauc_compatible = db_column_strdup(st, 7);
		d->complete = sqlite3_column_int(st, 8) != 0;
		d->required_migration = sqlite3_column_int(st, 9) != 0;
		d->created_at = sqlite3_column_int64(st, 10);
		d->deleted = sqlite3_column_int(st, 11) != 0;
		r = RESULT_OK;
		break;
	case SQLITE_DONE:
		r = RESULT_NOTFOUND;
		break;
	default:
		db_log_error(db, __func__);
	}
	db_done(st);
	if (r == RESULT_OK && with_hw &&
	    (r = dist_load_hw(db, id, &d->hw, &d->nhw)) != RESULT_OK)
		dist_clear(d);
	return r;
}

void
dist_clear(struct dist *d)
{
	if (d == NULL)
		return;
	free(d->name);
	free(d->version);
	free(d->description);
	free(d->type_key);
	free(d->version_scheme);
	free(d->rauc_compatible);
	dist_free_hw(d->hw, d->nhw);
	memset(d, 0, sizeof(*d));
}

void
dist_free_hw(struct swu_hw *hw, size_t nhw)
{
	for (size_t i = 0; i < nhw; i++) {
		free(hw[i].board);
		free(hw[i].revision);
	}
	free(hw);
}

enum result
dist_load_hw(struct db *db, int64_t id, struct swu_hw **hw, size_t *nhw)
{
	/* Sorted, NULLs first on any engine. */
	static const char sql[] =
	    "SELECT board, revision, is_regex FROM ds_hw WHERE ds_id = ?1 "
	    "ORDER BY COALESCE(board, ''), COALESCE(revision, ''), is_regex";
	sqlite3_stmt *st = db_prepare(db, sql);
	size_t cap = 0;
	int rc;

	*hw = NULL;
	*nhw = 0;
	if (st == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*nhw == cap) {
			cap = cap ? cap * 2 : 4;
			*hw = xrealloc(*hw, cap * sizeof(**hw));
		}
		(*hw)[*nhw].board = db_column_strdup(st, 0);
		(*hw)[*nhw].revision = db_column_strdup(st, 1);
		(*hw)[*nhw].is_regex = sqlite3_column_int(st, 2) != 0;
		(*nhw)++;
	}
	db_done(st);
	if (rc != SQLITE_DONE) {
		db_log_error(db, __func__);
		dist_free_hw(*hw, *nhw);
		*hw = NULL;
		*nhw = 0;
		return RESULT_ERROR;
	}
	return RESULT_OK;
}

enum result
dist_modules(struct db *db, int64_t id, struct module **out, size_t *n)
{
	static const char sql[] =
	    "SELECT m.id FROM ds_module x JOIN software_module m "
	    "ON m.id = x.module_id JOIN sm_type t ON t.id = m.sm_type_id "
	    "WHERE x.ds_id = ?1 ORDER BY t.type_key <> 'os', m.sm_type_id, "
	    "m.id LIMIT ?2";
	sqlite3_stmt *st = db_prepare(db, sql);
	int64_t *ids;
	size_t nids;

	*out = NULL;
	*n = 0;
	if (st == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, id);
	db_bind_int64(st, 2, DIST_MODULES_MAX);
	ids = db_collect_ids(st, &nids);
	if (nids)
		*out = xcalloc(nids, sizeof(**out));
	for (size_t i = 0; i < nids; i++) {
		if (module_load(db, ids[i], true, &(*out)[*n]) != RESULT_OK) {
			dist_free_modules(*out, *n);
			*out = NULL;
			*n = 0;
			free(ids);
			return RESULT_ERROR;
		}
		(*n)++;
	}
	free(ids);
	return RESULT_OK;
}

void
dist_free_modules(struct module *m, size_t n)
{
	for (size_t i = 0; i < n; i++)
		module_clear(&m[i]);
	free(m);
}

enum result
dist_type_find(struct db *db, const char *key, int64_t *id)
{
	static const char sql[] = "SELECT id FROM ds_type WHERE type_key = ?1 "
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

/* Do two compatibility sets admit a common device? */
static bool
dist_hw_overlap(
    const struct swu_hw *a, size_t na, const struct swu_hw *b, size_t nb)
{
	if (na == 0 || nb == 0)
		return true;
	for (size_t i = 0; i < na; i++)
		for (size_t j = 0; j < nb; j++) {
			if (strcmp(a[i].board, b[j].board) != 0)
				continue;
			if (a[i].revision == NULL || b[j].revision == NULL ||
			    a[i].is_regex || b[j].is_regex ||
			    strcmp(a[i].revision, b[j].revision) == 0)
				return true;
		}
	return false;
}

enum result
dist_conflicts(struct db *db, const char *version, const struct swu_hw *hw,
    size_t nhw, int64_t *other)
{
	static const char sql[] = "SELECT id, version FROM distribution_set "
	                          "WHERE deleted_at IS NULL";
	sqlite3_stmt *st = db_prepare(db, sql);
	int64_t ids[256];
	size_t n = 0;
	enum result r = RESULT_OK;

	if (st == NULL)
		return RESULT_ERROR;
	while (sqlite3_step(st) == SQLITE_ROW)
		if (version_equal(
		        (const char *)sqlite3_column_text(st, 1), version) &&
		    n < NELEM(ids))
			ids[n++] = sqlite3_column_int64(st, 0);
	db_done(st);
	for (size_t i = 0; i < n && r == RESULT_OK; i++) {
		struct swu_hw *h;
		size_t nh;

		if (dist_load_hw(db, ids[i], &h, &nh) != RESULT_OK)
			return RESULT_ERROR;
		if (dist_hw_overlap(h, nh, hw, nhw)) {
			*other = ids[i];
			r = RESULT_CONFLICT;
		}
		dist_free_hw(h, nh);
	}
	return r;
}

enum result
dist_insert(struct db *db, const struct dist *d, int64_t *id)
{
	static const char sql[] =
	    "INSERT INTO distribution_set (name, version, description, "
	    "ds_type_id, version_scheme, rauc_compatible, required_migration, "
	    "created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING id";
	static const char hw_sql[] =
	    "INSERT INTO ds_hw (ds_id, board, revision, is_regex) "
	    "VALUES (?1, ?2, ?3, ?4)";
	sqlite3_stmt *st = db_prepare(db, sql);
	enum result r = RESULT_ERROR;

	if (st == NULL)
		return r;
	db_bind_text(st, 1, d->name);
	db_bind_text(st, 2, d->version);
	db_bind_text(st, 3, d->description);
	db_bind_int64(st, 4, d->type_id);
	db_bind_text(st, 5, d->version_scheme);
	db_bind_text(st, 6, d->rauc_compatible);
	db_bind_int64(st, 7, d->required_migration);
	db_bind_int64(st, 8, now_s());
	r = db_step_id(db, st, id, __func__);
	for (size_t i = 0; i < d->nhw && r == RESULT_OK; i++) {
		if ((st = db_prepare(db, hw_sql)) == NULL)
			return RESULT_ERROR;
		db_bind_int64(st, 1, *id);
		db_bind_text(st, 2, d->hw[i].board);
		db_bind_text(st, 3, d->hw[i].revision);
		db_bind_int64(st, 4, d->hw[i].is_regex);
		r = db_step_done(db, st, __func__);
	}
	return r;
}

enum result
dist_add_module(struct db *db, int64_t id, int64_t module_id)
{
	static const char sql[] =
	    "INSERT INTO ds_module (ds_id, module_id) VALUES (?1, ?2)";
	sqlite3_stmt *st = db_prepare(db, sql);

	if (st == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, id);
	db_bind_int64(st, 2, module_id);
	return db_step_done(db, st, __func__);
}

enum result
dist_update_complete(struct db *db, int64_t id)
{
	/* Complete: it holds a module, and no mandatory module type of its
	 * type is missing. */
	static const char sql[] =
	    "UPDATE distribution_set SET complete = EXISTS (SELECT 1 FROM "
	    "ds_module y WHERE y.ds_id = distribution_set.id) AND NOT EXISTS ("
	    "SELECT 1 FROM ds_type_element e WHERE e.ds_type_id = "
	    "distribution_set.ds_type_id AND e.mandatory = 1 AND NOT EXISTS ("
	    "SELECT 1 FROM ds_module x JOIN software_module m ON m.id = "
	    "x.module_id WHERE x.ds_id = distribution_set.id AND "
	    "m.sm_type_id = e.sm_type_id)) WHERE id = ?1";
	sqlite3_stmt *st = db_prepare(db, sql);

	if (st == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, id);
	return db_step_done(db, st, __func__);
}

static json_t *
dist_rollouts_json(struct db *db, int64_t id)
{
	static const char sql[] =
	    "SELECT id FROM rollout WHERE ds_id = ?1 ORDER BY id";
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

static bool
dist_ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && strcmp(s + n - k, suffix) == 0;
}

/*
 * Which device clients can install the set, as they read deploymentBase:
 * Debian's swupdate takes from each chunk the artifacts whose names end
 * in .swu and fails the action on a chunk without one;
 * rauc-hawkbit-updater and the Python rauc client take exactly one chunk
 * with one artifact, a bundle.
 */
static json_t *
dist_clients_json(const struct module *m, size_t nm)
{
	bool swupdate = nm > 0, rauc;

	for (size_t i = 0; i < nm; i++) {
		bool has_swu = false;

		for (size_t j = 0; j < m[i].nartifacts; j++)
			if (strcmp(m[i].artifacts[j].format, "swu") == 0 &&
			    dist_ends_with(m[i].artifacts[j].filename, ".swu"))
				has_swu = true;
		swupdate = swupdate && has_swu;
	}
	rauc = nm == 1 && m[0].nartifacts == 1 &&
	       strcmp(m[0].artifacts[0].format, "raucb") == 0;
	return json_pack(
	    "{s:b, s:b}", "swupdate", swupdate, "rauc_hawkbit_updater", rauc);
}

json_t *
dist_to_json(struct db *db, const struct dist *d)
{
	json_t *hw = json_array(), *mods = json_array(), *o;
	const struct artifact *first = NULL;
	struct module *m = NULL;
	size_t nm = 0;

	for (size_t i = 0; i < d->nhw; i++)
		json_array_append_new(
		    hw, json_pack("{s:s, s:s?, s:b}", "board", d->hw[i].board,
		            "revision", d->hw[i].revision, "regex",
		            d->hw[i].is_regex));
	if (dist_modules(db, d->id, &m, &nm) == RESULT_OK)
		for (size_t i = 0; i < nm; i++) {
			json_array_append_new(
			    mods, module_detail_json(db, &m[i]));
			if (first == NULL && m[i].nartifacts)
				first = &m[i].artifacts[0];
		}
	o = json_pack("{s:I, s:s, s:s, s:s?, s:s, s:s, s:b, s:s?, s:o, s:I, "
	              "s:b, s:o, s:o}",
	    "id", (json_int_t)d->id, "name", d->name, "version", d->version,
	    "description", d->description, "type", d->type_key,
	    "version_scheme", d->version_scheme, "complete", d->complete,
	    "rauc_compatible", d->rauc_compatible, "compatibility", hw,
	    "created_at", (json_int_t)d->created_at, "deleted", d->deleted,
	    "rollouts", dist_rollouts_json(db, d->id), "modules", mods);
	json_object_set_new(o, "metadata", dist_metadata_json(db, d->id));
	json_object_set_new(o, "locked", json_boolean(dist_locked(db, d->id)));
	json_object_set_new(o, "clients", dist_clients_json(m, nm));
	/* The fields of /api/v1/software from before sets had modules. */
	json_object_set_new(
	    o, "filename", first ? json_string(first->filename) : json_null());
	json_object_set_new(o, "size", json_integer(first ? first->size : 0));
	json_object_set_new(o, "hashes",
	    first ? json_pack("{s:s?, s:s, s:s?}", "md5", first->md5, "sha1",
	                first->sha1, "sha256", first->sha256)
	          : json_null());
	json_object_set_new(
	    o, "format", first ? json_string(first->format) : json_null());
	json_object_set_new(o, "signed",
	    json_boolean(first && strcmp(first->signature, "none") != 0));
	json_object_set_new(o, "signature",
	    first ? json_string(first->signature) : json_null());
	dist_free_modules(m, nm);
	return o;
}

json_t *
dist_list_json(struct db *db, const char *key, int64_t limit, int64_t offset,
    const char *text)
{
	/* The text matches the set's name or version or a file name. */
#define DIST_TEXT_MATCH                                                        \
	"(?1 IS NULL OR instr(d.name, ?1) > 0 OR instr(d.version, ?1) > 0 "    \
	"OR EXISTS (SELECT 1 FROM ds_module x JOIN artifact a ON "             \
	"a.module_id = x.module_id WHERE x.ds_id = d.id AND "                  \
	"instr(a.filename, ?1) > 0))"
	static const char sql[] =
	    "SELECT d.id FROM distribution_set d WHERE d.deleted_at IS NULL "
	    "AND " DIST_TEXT_MATCH " ORDER BY d.id DESC LIMIT ?2 OFFSET ?3";
	static const char count[] =
	    "SELECT count(*) FROM distribution_set d WHERE d.deleted_at IS "
	    "NULL AND " DIST_TEXT_MATCH;
#undef DIST_TEXT_MATCH
	sqlite3_stmt *st;
	json_t *list = json_array();
	int64_t *ids, total = 0;
	size_t n;

	if ((st = db_prepare(db, count)) != NULL) {
		db_bind_text(st, 1, text);
		total = db_count(st);
	}
	if ((st = db_prepare(db, sql)) == NULL) {
		json_decref(list);
		return NULL;
	}
	db_bind_text(st, 1, text);
	db_bind_int64(st, 2, limit);
	db_bind_int64(st, 3, offset);
	ids = db_collect_ids(st, &n);
	for (size_t i = 0; i < n; i++) {
		struct dist d;

		if (dist_load(db, ids[i], true, &d) != RESULT_OK)
			continue;
		json_array_append_new(list, dist_to_json(db, &d));
		dist_clear(&d);
	}
	free(ids);
	return json_pack("{s:o, s:I, s:I, s:I}", key, list, "total",
	    (json_int_t)total, "limit", (json_int_t)limit, "offset",
	    (json_int_t)offset);
}

static int64_t
dist_count(struct db *db, const char *sql, int64_t id)
{
	sqlite3_stmt *st = db_prepare(db, sql);
	int64_t n = -1;

	if (st == NULL)
		return -1;
	db_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	db_done(st);
	return n;
}

/*
 * Inside the caller's transaction: delete the modules of set id that no
 * other live set holds, keeping the rows of those any device was given
 * (keep_history).  Their files' names go to *paths.
 */
static enum result
dist_delete_modules(
    struct db *db, int64_t id, bool keep_history, char ***paths, size_t *npaths)
{
	static const char orphans[] =
	    "SELECT x.module_id FROM ds_module x WHERE x.ds_id = ?1 AND NOT "
	    "EXISTS (SELECT 1 FROM ds_module y JOIN distribution_set d ON "
	    "d.id = y.ds_id WHERE y.module_id = x.module_id AND y.ds_id <> ?1 "
	    "AND d.deleted_at IS NULL)";
	static const char soft_del[] =
	    "UPDATE software_module SET deleted_at = ?2 WHERE id = ?1";
	static const char unlink_sets[] =
	    "DELETE FROM ds_module WHERE module_id = ?1";
	static const char hard_del[] =
	    "DELETE FROM software_module WHERE id = ?1";
	sqlite3_stmt *st = db_prepare(db, orphans);
	enum result r = RESULT_OK;
	int64_t *ids;
	size_t n;

	*paths = NULL;
	*npaths = 0;
	if (st == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, id);
	ids = db_collect_ids(st, &n);
	for (size_t i = 0; i < n && r == RESULT_OK; i++) {
		char **p;
		size_t np;

		r = artifact_release_files(db, ids[i], &p, &np);
		if (np) {
			*paths =
			    xrealloc(*paths, (*npaths + np) * sizeof(**paths));
			memcpy(*paths + *npaths, p, np * sizeof(*p));
			*npaths += np;
		}
		free(p);
		if (r != RESULT_OK)
			break;
		/* Given to a device through this set or any other. */
		if (keep_history || module_locked(db, ids[i])) {
			if ((st = db_prepare(db, soft_del)) == NULL)
				r = RESULT_ERROR;
			else {
				db_bind_int64(st, 1, ids[i]);
				db_bind_int64(st, 2, now_s());
				r = db_step_done(db, st, __func__);
			}
			continue;
		}
		if ((st = db_prepare(db, unlink_sets)) == NULL) {
			r = RESULT_ERROR;
			break;
		}
		db_bind_int64(st, 1, ids[i]);
		if ((r = db_step_done(db, st, __func__)) != RESULT_OK)
			break;
		if ((st = db_prepare(db, hard_del)) == NULL) {
			r = RESULT_ERROR;
			break;
		}
		db_bind_int64(st, 1, ids[i]);
		r = db_step_done(db, st, __func__);
	}
	free(ids);
	return r;
}

enum result
dist_delete(struct db *db, const char *dir, int64_t id, const char **why)
{
	return dist_delete_set(db, dir, id, false, why);
}

enum result
dist_delete_set(struct db *db, const char *dir, int64_t id, bool keep_modules,
    const char **why)
{
	static const char used_rollout[] =
	    "SELECT count(*) FROM rollout WHERE ds_id = ?1";
	static const char used_open[] =
	    "SELECT count(*) FROM action WHERE ds_id = ?1 AND status IN "
	    "('scheduled', 'running', 'canceling')";
	static const char used_any[] =
	    "SELECT count(*) FROM action WHERE ds_id = ?1";
	static const char soft_del[] =
	    "UPDATE distribution_set SET deleted_at = ?2 WHERE id = ?1";
	static const char hard_del[] =
	    "DELETE FROM distribution_set WHERE id = ?1";
	struct dist d;
	sqlite3_stmt *st;
	enum result r;
	char **paths = NULL;
	size_t npaths = 0;
	int64_t n;

	*why = NULL;
	memset(&d, 0, sizeof(d));
	if (db_begin(db) == -1)
		return RESULT_ERROR;
	if ((r = dist_load(db, id, false, &d)) != RESULT_OK)
		goto fail;
	if (d.deleted) {
		r = RESULT_NOTFOUND;
		goto fail;
	}
	if ((n = dist_count(db, used_rollout, id)) != 0) {
		r = n < 0 ? RESULT_ERROR : RESULT_CONFLICT;
		*why = "a rollout uses this software; delete the rollout first";
		goto fail;
	}
	if ((n = dist_count(db, used_open, id)) != 0) {
		r = n < 0 ? RESULT_ERROR : RESULT_CONFLICT;
		*why = "an update of this software is in progress";
		goto fail;
	}
	if ((n = dist_count(db, used_any, id)) < 0) {
		r = RESULT_ERROR;
		goto fail;
	}
	if (!keep_modules && (r = dist_delete_modules(
	                          db, id, n > 0, &paths, &npaths)) != RESULT_OK)
		goto fail;
	if ((st = db_prepare(db, n ? soft_del : hard_del)) == NULL) {
		r = RESULT_ERROR;
		goto fail;
	}
	db_bind_int64(st, 1, id);
	if (n)
		db_bind_int64(st, 2, now_s());
	if ((r = db_step_done(db, st, __func__)) != RESULT_OK)
		goto fail;
	if (db_commit(db) == -1) {
		r = RESULT_ERROR;
		goto fail;
	}
	rollout_catalog_changed();
	/* The rows are gone or marked: the files can go now. */
	artifact_unlink_paths(dir, paths, npaths);
	log_info("deleted distribution set %lld%s", (long long)id,
	    n ? " (history kept)" : "");
	dist_clear(&d);
	return RESULT_OK;
fail:
	db_rollback(db);
	for (size_t i = 0; i < npaths; i++)
		free(paths[i]);
	free(paths);
	dist_clear(&d);
	return r;
}

bool
dist_locked(struct db *db, int64_t id)
{
	static const char sql[] = "SELECT 1 FROM action WHERE ds_id = ?1 "
	                          "LIMIT 1";
	sqlite3_stmt *st = db_prepare(db, sql);
	bool locked;

	if (st == NULL)
		return true;
	db_bind_int64(st, 1, id);
	locked = sqlite3_step(st) == SQLITE_ROW;
	db_done(st);
	return locked;
}

json_t *
dist_metadata_json(struct db *db, int64_t id)
{
	static const char sql[] = "SELECT meta_key, meta_value FROM "
	                          "ds_metadata WHERE ds_id = ?1 ORDER BY "
	                          "meta_key";

	return meta_json(db, id, false, sql);
}

static enum result
dist_set_metadata(struct db *db, int64_t id, json_t *meta, const char **why)
{
	static const char clear[] = "DELETE FROM ds_metadata WHERE ds_id = ?1";
	static const char ins[] = "INSERT INTO ds_metadata (ds_id, meta_key, "
	                          "meta_value) VALUES (?1, ?2, ?3)";

	return meta_replace(db, id, meta, false, clear, ins, why);
}

/* Parse compatibility [{board, revision?, regex?}] into rows. */
static const char *
dist_parse_hw(json_t *a, struct swu_hw **hw, size_t *nhw)
{
	size_t i;
	json_t *e;

	*hw = NULL;
	*nhw = 0;
	if (!json_is_array(a))
		return "compatibility must be an array of {board, revision, "
		       "regex}";
	if (json_array_size(a) > SWU_HW_MAX)
		return "compatibility: at most 1024 entries";
	if (json_array_size(a))
		*hw = xcalloc(json_array_size(a), sizeof(**hw));
	json_array_foreach(a, i, e)
	{
		json_t *board = json_object_get(e, "board");
		json_t *rev = json_object_get(e, "revision");
		json_t *re = json_object_get(e, "regex");
		const char *name;
		json_t *x;
		regex_t compiled;

		if (!json_is_object(e) || !json_is_string(board) ||
		    (rev && !json_is_string(rev) && !json_is_null(rev)) ||
		    (re && !json_is_boolean(re)))
			return "compatibility: entries are {board (\"\" for "
			       "any), revision (string or null), regex "
			       "(bool)}";
		json_object_foreach(e, name, x)
		{
			if (strcmp(name, "board") && strcmp(name, "revision") &&
			    strcmp(name, "regex"))
				return "compatibility: entries have board, "
				       "revision and regex";
		}
		if (json_string_length(board) > 128 ||
		    (json_is_string(rev) && json_string_length(rev) > 255))
			return "compatibility: board at most 128, revision at "
			       "most 255 characters";
		if (json_is_true(re)) {
			if (!json_is_string(rev))
				return "compatibility: a regex entry needs a "
				       "revision pattern";
			if (regcomp(&compiled, json_string_value(rev),
			        REG_EXTENDED | REG_NOSUB) != 0)
				return "compatibility: a revision pattern is "
				       "not a POSIX extended regex";
			regfree(&compiled);
		}
		(*hw)[*nhw].board = xstrdup(json_string_value(board));
		(*hw)[*nhw].revision = json_is_string(rev)
		                           ? xstrdup(json_string_value(rev))
		                           : NULL;
		(*hw)[*nhw].is_regex = json_is_true(re);
		(*nhw)++;
	}
	return NULL;
}

static enum result
dist_replace_hw(struct db *db, int64_t id, const struct swu_hw *hw, size_t n)
{
	static const char clear[] = "DELETE FROM ds_hw WHERE ds_id = ?1";
	static const char ins[] = "INSERT INTO ds_hw (ds_id, board, revision, "
	                          "is_regex) VALUES (?1, ?2, ?3, ?4)";
	sqlite3_stmt *st = db_prepare(db, clear);
	enum result r;

	if (st == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, id);
	if ((r = db_step_done(db, st, __func__)) != RESULT_OK)
		return r;
	for (size_t i = 0; i < n; i++) {
		if ((st = db_prepare(db, ins)) == NULL)
			return RESULT_ERROR;
		db_bind_int64(st, 1, id);
		db_bind_text(st, 2, hw[i].board);
		db_bind_text(st, 3, hw[i].revision);
		db_bind_int64(st, 4, hw[i].is_regex);
		if ((r = db_step_done(db, st, __func__)) != RESULT_OK)
			return r;
	}
	return RESULT_OK;
}

/*
 * Inside the caller's transaction: make modules (an array of ids) the
 * set's modules, checked against its type: each module live and of a
 * type the set type admits, each module type at most max_assignments
 * times.
 */
static enum result
dist_replace_modules(struct db *db, int64_t id, int64_t type_id,
    json_t *modules, const char **why)
{
	static const char admit[] =
	    "SELECT t.max_assignments, t.type_key, "
	    "(SELECT count(*) FROM ds_type_element e WHERE e.ds_type_id = ?2 "
	    "AND e.sm_type_id = m.sm_type_id) FROM software_module m JOIN "
	    "sm_type t ON t.id = m.sm_type_id WHERE m.id = ?1 AND "
	    "m.deleted_at IS NULL";
	static const char per_type[] =
	    "SELECT count(*) FROM ds_module x JOIN software_module m ON m.id "
	    "= x.module_id WHERE x.ds_id = ?1 AND m.sm_type_id = (SELECT "
	    "sm_type_id FROM software_module WHERE id = ?2)";
	static const char clear[] = "DELETE FROM ds_module WHERE ds_id = ?1";
	sqlite3_stmt *st;
	enum result r;
	size_t i;
	json_t *e;

	if (!json_is_array(modules) ||
	    json_array_size(modules) > DIST_MODULES_MAX)
		return *why = "modules: an array of at most 64 module ids",
		       RESULT_INVALID;
	if ((st = db_prepare(db, clear)) == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, id);
	if ((r = db_step_done(db, st, __func__)) != RESULT_OK)
		return r;
	json_array_foreach(modules, i, e)
	{
		int64_t max, admitted, have, mid = json_integer_value(e);

		if (!json_is_integer(e))
			return *why = "modules: an array of module ids",
			       RESULT_INVALID;
		if ((st = db_prepare(db, admit)) == NULL)
			return RESULT_ERROR;
		db_bind_int64(st, 1, mid);
		db_bind_int64(st, 2, type_id);
		if (sqlite3_step(st) != SQLITE_ROW) {
			db_done(st);
			return *why = "modules: no such module", RESULT_INVALID;
		}
		max = sqlite3_column_int64(st, 0);
		admitted = sqlite3_column_int64(st, 2);
		db_done(st);
		if (!admitted)
			return *why = "modules: the set's type does not admit "
			              "a module of that type",
			       RESULT_INVALID;
		if ((st = db_prepare(db, per_type)) == NULL)
			return RESULT_ERROR;
		db_bind_int64(st, 1, id);
		db_bind_int64(st, 2, mid);
		have = db_count(st);
		if (have >= max)
			return *why = "modules: more modules of one type than "
			              "the type's max_assignments",
			       RESULT_INVALID;
		if ((r = dist_add_module(db, id, mid)) != RESULT_OK) {
			if (r == RESULT_CONFLICT)
				*why = "modules: a module is listed twice";
			return r == RESULT_CONFLICT ? RESULT_INVALID : r;
		}
	}
	return dist_update_complete(db, id);
}

static bool
dist_scheme_valid(const char *s)
{
	return s && (strcmp(s, "swupdate") == 0 || strcmp(s, "semver") == 0 ||
	                strcmp(s, "none") == 0);
}

/* Checks shared by create and patch on the plain text fields. */
static const char *
dist_check_fields(json_t *body)
{
	json_t *v;

	if ((v = json_object_get(body, "name")) &&
	    (!json_is_string(v) || json_string_length(v) < 1 ||
	        json_string_length(v) > MODULE_NAME_MAX))
		return "name: 1 to 128 characters";
	if ((v = json_object_get(body, "version")) &&
	    !version_valid(json_string_value(v)))
		return "version: printable ASCII without spaces, at most 255 "
		       "characters";
	if ((v = json_object_get(body, "description")) && !json_is_null(v) &&
	    (!json_is_string(v) || json_string_length(v) > 4000))
		return "description: at most 4000 characters";
	if ((v = json_object_get(body, "version_scheme")) &&
	    !dist_scheme_valid(json_string_value(v)))
		return "version_scheme: swupdate, semver or none";
	if ((v = json_object_get(body, "rauc_compatible")) &&
	    !json_is_null(v) &&
	    (!json_is_string(v) || json_string_length(v) < 1 ||
	        json_string_length(v) > 255))
		return "rauc_compatible: 1 to 255 characters, or null";
	return NULL;
}

/* Is (name, version) taken by another set, deleted ones included? */
static bool
dist_name_taken(
    struct db *db, int64_t id, const char *name, const char *version)
{
	static const char sql[] =
	    "SELECT 1 FROM distribution_set WHERE name = ?1 AND version = ?2 "
	    "AND id <> ?3 LIMIT 1";
	sqlite3_stmt *st = db_prepare(db, sql);
	bool taken;

	if (st == NULL)
		return true;
	db_bind_text(st, 1, name);
	db_bind_text(st, 2, version);
	db_bind_int64(st, 3, id);
	taken = sqlite3_step(st) == SQLITE_ROW;
	db_done(st);
	return taken;
}

/* A copy of a string member of body, or NULL. */
static char *
dist_strdup(json_t *body, const char *key)
{
	const char *v = json_string_value(json_object_get(body, key));

	return v ? xstrdup(v) : NULL;
}

enum result
dist_create(struct db *db, json_t *body, int64_t *id, const char **why)
{
	const char *type = json_string_value(json_object_get(body, "type"));
	json_t *hwj = json_object_get(body, "compatibility");
	json_t *mods = json_object_get(body, "modules");
	json_t *meta = json_object_get(body, "metadata");
	struct dist d;
	enum result r;

	*why = NULL;
	memset(&d, 0, sizeof(d));
	if (!json_is_string(json_object_get(body, "name")) ||
	    !json_is_string(json_object_get(body, "version")))
		return *why = "name and version are required", RESULT_INVALID;
	if ((*why = dist_check_fields(body)) != NULL)
		return RESULT_INVALID;
	if (hwj && (*why = dist_parse_hw(hwj, &d.hw, &d.nhw)) != NULL) {
		dist_free_hw(d.hw, d.nhw);
		return RESULT_INVALID;
	}
	d.name = dist_strdup(body, "name");
	d.version = dist_strdup(body, "version");
	d.description = dist_strdup(body, "description");
	d.version_scheme = dist_strdup(body, "version_scheme");
	if (d.version_scheme == NULL)
		d.version_scheme = xstrdup("swupdate");
	d.rauc_compatible = dist_strdup(body, "rauc_compatible");
	if (db_begin(db) == -1) {
		r = RESULT_ERROR;
		goto out;
	}
	if ((r = dist_type_find(db, type ? type : "os_app", &d.type_id)) !=
	    RESULT_OK) {
		if (r == RESULT_NOTFOUND) {
			*why = "type: no such distribution set type";
			r = RESULT_INVALID;
		}
		goto fail;
	}
	if (dist_name_taken(db, 0, d.name, d.version)) {
		*why = "a distribution set of that name and version exists "
		       "(deleted ones included)";
		r = RESULT_CONFLICT;
		goto fail;
	}
	if ((r = dist_insert(db, &d, id)) != RESULT_OK)
		goto fail;
	if (mods && (r = dist_replace_modules(db, *id, d.type_id, mods, why)) !=
	                RESULT_OK)
		goto fail;
	if (mods == NULL && (r = dist_update_complete(db, *id)) != RESULT_OK)
		goto fail;
	if (meta && (r = dist_set_metadata(db, *id, meta, why)) != RESULT_OK)
		goto fail;
	if (db_commit(db) == -1) {
		r = RESULT_ERROR;
		goto fail;
	}
	rollout_catalog_changed();
	r = RESULT_OK;
	goto out;
fail:
	db_rollback(db);
out:
	dist_clear(&d);
	return r;
}

/* Set one text column of a set: column names come from a fixed table. */
static enum result
dist_set_text(struct db *db, int64_t id, const char *key, json_t *v)
{
	static const char set_name[] =
	    "UPDATE distribution_set SET name = ?2 WHERE id = ?1";
	static const char set_version[] =
	    "UPDATE distribution_set SET version = ?2 WHERE id = ?1";
	static const char set_desc[] =
	    "UPDATE distribution_set SET description = ?2 WHERE id = ?1";
	static const char set_scheme[] =
	    "UPDATE distribution_set SET version_scheme = ?2 WHERE id = ?1";
	static const char set_rauc[] =
	    "UPDATE distribution_set SET rauc_compatible = ?2 WHERE id = ?1";
	static const struct {
		const char *key, *sql;
	} cols[] = {{"name", set_name}, {"version", set_version},
	    {"description", set_desc}, {"version_scheme", set_scheme},
	    {"rauc_compatible", set_rauc}};
	sqlite3_stmt *st;

	for (size_t i = 0; i < NELEM(cols); i++) {
		if (strcmp(cols[i].key, key) != 0)
			continue;
		if ((st = db_prepare(db, cols[i].sql)) == NULL)
			return RESULT_ERROR;
		db_bind_int64(st, 1, id);
		db_bind_text(st, 2, json_string_value(v));
		return db_step_done(db, st, __func__);
	}
	return RESULT_OK;
}

enum result
dist_patch(struct db *db, int64_t id, json_t *body, const char **why)
{
	static const char *const texts[] = {"name", "version", "description",
	    "version_scheme", "rauc_compatible"};
	json_t *hwj = json_object_get(body, "compatibility");
	json_t *mods = json_object_get(body, "modules");
	json_t *meta = json_object_get(body, "metadata");
	json_t *name = json_object_get(body, "name");
	json_t *version = json_object_get(body, "version");
	struct swu_hw *hw = NULL;
	size_t nhw = 0;
	struct dist d;
	enum result r;

	*why = NULL;
	memset(&d, 0, sizeof(d));
	if (json_object_get(body, "type"))
		return *why = "type cannot be changed; create a new set",
		       RESULT_INVALID;
	if ((*why = dist_check_fields(body)) != NULL)
		return RESULT_INVALID;
	if (hwj && (*why = dist_parse_hw(hwj, &hw, &nhw)) != NULL) {
		dist_free_hw(hw, nhw);
		return RESULT_INVALID;
	}
	if (db_begin(db) == -1) {
		dist_free_hw(hw, nhw);
		return RESULT_ERROR;
	}
	if ((r = dist_load(db, id, false, &d)) != RESULT_OK)
		goto fail;
	if (d.deleted) {
		r = RESULT_NOTFOUND;
		goto fail;
	}
	if ((hwj || mods || version || name) && dist_locked(db, id)) {
		*why = "devices were given this set: its name, version, "
		       "modules and compatibility stay as they are";
		r = RESULT_CONFLICT;
		goto fail;
	}
	if ((name || version) &&
	    dist_name_taken(db, id, name ? json_string_value(name) : d.name,
	        version ? json_string_value(version) : d.version)) {
		*why = "a distribution set of that name and version exists "
		       "(deleted ones included)";
		r = RESULT_CONFLICT;
		goto fail;
	}
	for (size_t i = 0; i < NELEM(texts); i++) {
		json_t *v = json_object_get(body, texts[i]);

		if (v && (r = dist_set_text(db, id, texts[i], v)) != RESULT_OK)
			goto fail;
	}
	if (hwj && (r = dist_replace_hw(db, id, hw, nhw)) != RESULT_OK)
		goto fail;
	if (mods && (r = dist_replace_modules(db, id, d.type_id, mods, why)) !=
	                RESULT_OK)
		goto fail;
	if (meta && (r = dist_set_metadata(db, id, meta, why)) != RESULT_OK)
		goto fail;
	if (db_commit(db) == -1) {
		r = RESULT_ERROR;
		goto fail;
	}
	rollout_catalog_changed();
	dist_free_hw(hw, nhw);
	dist_clear(&d);
	return RESULT_OK;
fail:
	db_rollback(db);
	dist_free_hw(hw, nhw);
	dist_clear(&d);
	return r;
}

static json_t *
dist_type_elements(struct db *db, int64_t type_id, bool mandatory)
{
	static const char sql[] =
	    "SELECT t.type_key FROM ds_type_element e JOIN sm_type t ON t.id "
	    "= e.sm_type_id WHERE e.ds_type_id = ?1 AND e.mandatory = ?2 "
	    "ORDER BY t.id";
	sqlite3_stmt *st = db_prepare(db, sql);
	json_t *a = json_array();

	if (st == NULL)
		return a;
	db_bind_int64(st, 1, type_id);
	db_bind_int64(st, 2, mandatory);
	while (sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(
		    a, json_string((const char *)sqlite3_column_text(st, 0)));
	db_done(st);
	return a;
}

json_t *
dist_types_json(struct db *db)
{
	static const char sql[] = "SELECT id, type_key, name, description "
	                          "FROM ds_type WHERE deleted_at IS NULL "
	                          "ORDER BY id";
	sqlite3_stmt *st = db_prepare(db, sql);
	json_t *a = json_array();
	int64_t ids[256];
	size_t n = 0;

	if (st == NULL) {
		json_decref(a);
		return NULL;
	}
	while (n < NELEM(ids) && sqlite3_step(st) == SQLITE_ROW) {
		ids[n++] = sqlite3_column_int64(st, 0);
		json_array_append_new(a,
		    json_pack("{s:I, s:s, s:s, s:s?}", "id",
		        (json_int_t)sqlite3_column_int64(st, 0), "key",
		        (const char *)sqlite3_column_text(st, 1), "name",
		        (const char *)sqlite3_column_text(st, 2), "description",
		        (const char *)sqlite3_column_text(st, 3)));
	}
	db_done(st);
	/* The elements after the cursor is done: one statement at a time. */
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_array_get(a, i);

		json_object_set_new(
		    o, "mandatory", dist_type_elements(db, ids[i], true));
		json_object_set_new(
		    o, "optional", dist_type_elements(db, ids[i], false));
	}
	return json_pack("{s:o}", "types", a);
}

/* Inside the caller's transaction: the module types of keys as
 * elements of set type id. */
static enum result
dist_type_add_elements(
    struct db *db, int64_t id, json_t *keys, bool mandatory, const char **why)
{
	static const char ins[] =
	    "INSERT INTO ds_type_element (ds_type_id, sm_type_id, mandatory) "
	    "VALUES (?1, ?2, ?3)";
	sqlite3_stmt *st;
	enum result r;
	int64_t tid;
	size_t i;
	json_t *k;

	if (keys == NULL)
		return RESULT_OK;
	if (!json_is_array(keys) || json_array_size(keys) > 64)
		return *why = "mandatory and optional: arrays of at most 64 "
		              "module type keys",
		       RESULT_INVALID;
	json_array_foreach(keys, i, k)
	{
		if (!json_is_string(k))
			return *why =
			           "mandatory and optional: module type keys",
			       RESULT_INVALID;
		if ((r = module_type_find(db, json_string_value(k), &tid)) !=
		    RESULT_OK)
			return r == RESULT_NOTFOUND
			           ? (*why = "no such module type",
			                 RESULT_INVALID)
			           : r;
		if ((st = db_prepare(db, ins)) == NULL)
			return RESULT_ERROR;
		db_bind_int64(st, 1, id);
		db_bind_int64(st, 2, tid);
		db_bind_int64(st, 3, mandatory);
		if ((r = db_step_done(db, st, __func__)) != RESULT_OK)
			return r == RESULT_CONFLICT
			           ? (*why = "a module type is listed twice",
			                 RESULT_INVALID)
			           : r;
	}
	return RESULT_OK;
}

enum result
dist_type_create(struct db *db, json_t *body, int64_t *id, const char **why)
{
	static const char sql[] =
	    "INSERT INTO ds_type (type_key, name, description, created_at) "
	    "VALUES (?1, ?2, ?3, ?4) RETURNING id";
	const char *key = json_string_value(json_object_get(body, "key"));
	const char *name = json_string_value(json_object_get(body, "name"));
	json_t *desc = json_object_get(body, "description");
	sqlite3_stmt *st;
	enum result r = RESULT_ERROR;

	*why = NULL;
	if (key == NULL || !module_type_key_valid(key))
		return *why = "key: 1 to 64 of [a-z0-9_.-]", RESULT_INVALID;
	if (name == NULL || *name == '\0' || strlen(name) > MODULE_NAME_MAX)
		return *why = "name: 1 to 128 characters", RESULT_INVALID;
	if (desc && !json_is_null(desc) &&
	    (!json_is_string(desc) || json_string_length(desc) > 4000))
		return *why = "description: at most 4000 characters",
		       RESULT_INVALID;
	if (db_begin(db) == -1)
		return RESULT_ERROR;
	if ((st = db_prepare(db, sql)) == NULL)
		goto fail;
	db_bind_text(st, 1, key);
	db_bind_text(st, 2, name);
	db_bind_text(st, 3, json_string_value(desc));
	db_bind_int64(st, 4, now_s());
	if ((r = db_step_id(db, st, id, __func__)) != RESULT_OK) {
		if (r == RESULT_CONFLICT)
			*why = "a set type with that key exists (deleted ones "
			       "included)";
		goto fail;
	}
	if ((r = dist_type_add_elements(db, *id,
	         json_object_get(body, "mandatory"), true, why)) != RESULT_OK ||
	    (r = dist_type_add_elements(db, *id,
	         json_object_get(body, "optional"), false, why)) != RESULT_OK)
		goto fail;
	if (db_commit(db) == -1) {
		r = RESULT_ERROR;
		goto fail;
	}
	return RESULT_OK;
fail:
	db_rollback(db);
	return r;
}

enum result
dist_type_delete(struct db *db, int64_t id, const char **why)
{
	static const char used[] =
	    "SELECT count(*) FROM distribution_set WHERE ds_type_id = ?1";
	static const char soft_del[] = "UPDATE ds_type SET deleted_at = ?2 "
	                               "WHERE id = ?1 AND deleted_at IS NULL";
	static const char hard_del[] = "DELETE FROM ds_type WHERE id = ?1";
	sqlite3_stmt *st;
	int64_t n;

	*why = NULL;
	if (id >= 1 && id <= 3)
		return *why = "os, app and os_app are built in",
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

const struct meta_table dist_meta_table = {
    .count = "SELECT count(*) FROM ds_metadata WHERE ds_id = ?1",
    .page = "SELECT meta_key, meta_value FROM ds_metadata "
            "WHERE ds_id = ?1 ORDER BY meta_key LIMIT ?2 OFFSET ?3",
    .get = "SELECT meta_value FROM ds_metadata WHERE ds_id = ?1 "
           "AND meta_key = ?2",
    .insert = "INSERT INTO ds_metadata (ds_id, meta_key, "
              "meta_value) VALUES (?1, ?2, ?3)",
    .update = "UPDATE ds_metadata SET meta_value = ?3 "
              "WHERE ds_id = ?1 AND meta_key = ?2",
    .remove = "DELETE FROM ds_metadata WHERE ds_id = ?1 AND "
              "meta_key = ?2",
};

enum result
dist_set_required_migration(struct db *db, int64_t id, bool on)
{
	static const char sql[] =
	    "UPDATE distribution_set SET required_migration = ?2 WHERE id = ?1";
	sqlite3_stmt *st = db_prepare(db, sql);

	if (st == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, id);
	db_bind_int64(st, 2, on);
	return db_step_changed(db, st, __func__);
}
