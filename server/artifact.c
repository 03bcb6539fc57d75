/*
 * Software rows and artifact files.  An upload becomes software only when
 * it parsed completely: the row is inserted and the file renamed into
 * place inside one transaction, and either both happen or neither.
 */
#include "artifact.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "log.h"
#include "rollout.h"
#include "upload.h"
#include "version.h"

#define ARTIFACT_COLUMNS                                                       \
	"id, filename, version, description, md5, sha1, sha256, path, "        \
	"size, created_at, is_signed, deleted_at IS NOT NULL"

static void
artifact_from_row(sqlite3_stmt *st, struct software *s)
{
	memset(s, 0, sizeof(*s));
	s->id = sqlite3_column_int64(st, 0);
	s->filename = db_column_strdup(st, 1);
	s->version = db_column_strdup(st, 2);
	s->description = db_column_strdup(st, 3);
	s->md5 = db_column_strdup(st, 4);
	s->sha1 = db_column_strdup(st, 5);
	s->sha256 = db_column_strdup(st, 6);
	s->path = db_column_strdup(st, 7);
	s->size = sqlite3_column_int64(st, 8);
	s->created_at = sqlite3_column_int64(st, 9);
	s->is_signed = sqlite3_column_int(st, 10) != 0;
	s->deleted = sqlite3_column_int(st, 11) != 0;
}

void
artifact_free_hw(struct swu_hw *hw, size_t nhw)
{
	for (size_t i = 0; i < nhw; i++) {
		free(hw[i].board);
		free(hw[i].revision);
	}
	free(hw);
}

enum result
artifact_load_hw(struct db *db, int64_t id, struct swu_hw **hw, size_t *nhw)
{
	static const char sql[] =
	    "SELECT board, revision, is_regex FROM software_hw "
	    "WHERE software_id = ?1 ORDER BY rowid";
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
		artifact_free_hw(*hw, *nhw);
		*hw = NULL;
		*nhw = 0;
		return RESULT_ERROR;
	}
	return RESULT_OK;
}

enum result
artifact_load(struct db *db, int64_t id, bool with_hw, struct software *s)
{
	static const char sql[] =
	    "SELECT " ARTIFACT_COLUMNS " FROM software WHERE id = ?1";
	sqlite3_stmt *st = db_prepare(db, sql);
	enum result r = RESULT_ERROR;

	if (st == NULL)
		return r;
	db_bind_int64(st, 1, id);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		artifact_from_row(st, s);
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
	    (r = artifact_load_hw(db, id, &s->hw, &s->nhw)) != RESULT_OK)
		artifact_clear(s);
	return r;
}

void
artifact_clear(struct software *s)
{
	if (s == NULL)
		return;
	free(s->filename);
	free(s->version);
	free(s->description);
	free(s->md5);
	free(s->sha1);
	free(s->sha256);
	free(s->path);
	artifact_free_hw(s->hw, s->nhw);
	memset(s, 0, sizeof(*s));
}

int
artifact_open(const char *dir, const struct software *s)
{
	char path[2048];
	int fd;

	if (s->path == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/%s", dir, s->path);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		log_warn("%s: %s", __func__, path);
	return fd;
}

/* A file name devices will see: a plain name ending in .swu. */
static bool
artifact_filename_valid(const char *n)
{
	size_t len = strlen(n);

	return len > 4 && len <= ARTIFACT_FILENAME_MAX && n[0] != '.' &&
	       strcmp(n + len - 4, ".swu") == 0 &&
	       strspn(n, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                 "0123456789._+-") == len;
}

/* Do two compatibility sets admit a common device? */
static bool
artifact_hw_overlap(
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

/* Is there software of an equal version whose compatibility overlaps? */
static enum result
artifact_conflicts(struct db *db, const struct swu_info *info, int64_t *other)
{
	static const char sql[] =
	    "SELECT id, version FROM software WHERE deleted_at IS NULL";
	sqlite3_stmt *st = db_prepare(db, sql);
	int64_t ids[256];
	size_t n = 0;
	enum result r = RESULT_OK;

	if (st == NULL)
		return RESULT_ERROR;
	while (sqlite3_step(st) == SQLITE_ROW)
		if (version_equal((const char *)sqlite3_column_text(st, 1),
		        info->version) &&
		    n < NELEM(ids))
			ids[n++] = sqlite3_column_int64(st, 0);
	db_done(st);
	for (size_t i = 0; i < n && r == RESULT_OK; i++) {
		struct swu_hw *hw;
		size_t nhw;

		if (artifact_load_hw(db, ids[i], &hw, &nhw) != RESULT_OK)
			return RESULT_ERROR;
		if (artifact_hw_overlap(hw, nhw, info->hw, info->nhw)) {
			*other = ids[i];
			r = RESULT_CONFLICT;
		}
		artifact_free_hw(hw, nhw);
	}
	return r;
}

static enum result
artifact_insert(struct db *db, const struct upload *u, const char *filename,
    const struct swu_info *info, int64_t *id)
{
	static const char sql[] =
	    "INSERT INTO software (filename, version, description, size, md5, "
	    "sha1, sha256, is_signed, created_at) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
	static const char hw_sql[] =
	    "INSERT INTO software_hw (software_id, board, revision, is_regex) "
	    "VALUES (?1, ?2, ?3, ?4)";
	sqlite3_stmt *st = db_prepare(db, sql);

	if (st == NULL)
		return RESULT_ERROR;
	db_bind_text(st, 1, filename);
	db_bind_text(st, 2, info->version);
	db_bind_text(st, 3, info->description);
	db_bind_int64(st, 4, (int64_t)upload_size(u));
	db_bind_text(st, 5, upload_md5(u));
	db_bind_text(st, 6, upload_sha1(u));
	db_bind_text(st, 7, upload_sha256(u));
	db_bind_int64(st, 8, info->is_signed);
	db_bind_int64(st, 9, now_s());
	if (sqlite3_step(st) != SQLITE_DONE) {
		db_log_error(db, __func__);
		db_done(st);
		return RESULT_ERROR;
	}
	db_done(st);
	*id = sqlite3_last_insert_rowid(db_handle(db));
	for (size_t i = 0; i < info->nhw; i++) {
		if ((st = db_prepare(db, hw_sql)) == NULL)
			return RESULT_ERROR;
		db_bind_int64(st, 1, *id);
		db_bind_text(st, 2, info->hw[i].board);
		db_bind_text(st, 3, info->hw[i].revision);
		db_bind_int64(st, 4, info->hw[i].is_regex);
		if (sqlite3_step(st) != SQLITE_DONE) {
			db_log_error(db, __func__);
			db_done(st);
			return RESULT_ERROR;
		}
		db_done(st);
	}
	return RESULT_OK;
}

static enum result
artifact_set_path(struct db *db, int64_t id, const char *path)
{
	static const char sql[] = "UPDATE software SET path = ?2 WHERE id = ?1";
	sqlite3_stmt *st = db_prepare(db, sql);
	int rc;

	if (st == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, id);
	db_bind_text(st, 2, path);
	rc = sqlite3_step(st);
	db_done(st);
	return rc == SQLITE_DONE ? RESULT_OK : RESULT_ERROR;
}

/* Make a rename durable: fsync the directory that holds the new name. */
static void
artifact_sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd == -1 || fsync(fd) == -1)
		log_warn("%s: %s", __func__, dir);
	if (fd != -1)
		close(fd);
}

enum result
artifact_store(struct db *db, const char *dir, struct upload *u, int64_t *id,
    char *why, size_t whylen)
{
	struct swu_info info;
	enum swu_err e;
	enum result r;
	char *filename = NULL, name[64], final[2048];
	int64_t other = 0;
	bool renamed = false;

	memset(&info, 0, sizeof(info));
	if ((e = swu_parse_fd(upload_fd(u), &info)) != SWU_OK) {
		snprintf(why, whylen, "not a valid SWUpdate image: %s",
		    swu_strerror(e));
		return RESULT_INVALID;
	}
	if (upload_filename(u) != NULL)
		filename = xstrdup(upload_filename(u));
	else
		filename = xasprintf("software-%s.swu", info.version);
	if (!artifact_filename_valid(filename)) {
		snprintf(why, whylen,
		    "file name must be a plain name of at most %d characters "
		    "[A-Za-z0-9._+-] ending in .swu",
		    ARTIFACT_FILENAME_MAX);
		r = RESULT_INVALID;
		goto done;
	}
	if (db_begin(db) == -1) {
		r = RESULT_ERROR;
		goto done;
	}
	if ((r = artifact_conflicts(db, &info, &other)) != RESULT_OK) {
		if (r == RESULT_CONFLICT)
			snprintf(why, whylen,
			    "software %lld has version %s with overlapping "
			    "hardware compatibility",
			    (long long)other, info.version);
		goto fail;
	}
	if ((r = artifact_insert(db, u, filename, &info, id)) != RESULT_OK)
		goto fail;
	snprintf(name, sizeof(name), "%lld-%.16s.swu", (long long)*id,
	    upload_sha256(u));
	snprintf(final, sizeof(final), "%s/%s", dir, name);
	if ((r = artifact_set_path(db, *id, name)) != RESULT_OK)
		goto fail;
	if (rename(upload_path(u), final) == -1) {
		log_warn("%s: rename to %s", __func__, final);
		snprintf(
		    why, whylen, "cannot store the file: %s", strerror(errno));
		r = RESULT_ERROR;
		goto fail;
	}
	renamed = true;
	upload_keep(u);
	if (db_commit(db) == -1) {
		r = RESULT_ERROR;
		goto fail;
	}
	artifact_sync_dir(dir);
	rollout_catalog_changed();
	log_info("stored software %lld: %s version %s, %llu bytes",
	    (long long)*id, filename, info.version,
	    (unsigned long long)upload_size(u));
	r = RESULT_OK;
	goto done;
fail:
	db_rollback(db);
	if (renamed)
		unlink(final);
done:
	free(filename);
	swu_info_clear(&info);
	return r;
}

static json_t *
artifact_rollouts_json(struct db *db, int64_t id)
{
	static const char sql[] =
	    "SELECT id FROM rollout WHERE software_id = ?1 ORDER BY id";
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
artifact_to_json(struct db *db, const struct software *s)
{
	json_t *hw = json_array();

	for (size_t i = 0; i < s->nhw; i++)
		json_array_append_new(
		    hw, json_pack("{s:s, s:s?, s:b}", "board", s->hw[i].board,
		            "revision", s->hw[i].revision, "regex",
		            s->hw[i].is_regex));
	return json_pack("{s:I, s:s, s:s, s:s?, s:I, s:{s:s, s:s, s:s}, s:b, "
	                 "s:o, s:I, s:b, s:o}",
	    "id", (json_int_t)s->id, "filename", s->filename, "version",
	    s->version, "description", s->description, "size",
	    (json_int_t)s->size, "hashes", "md5", s->md5, "sha1", s->sha1,
	    "sha256", s->sha256, "signed", s->is_signed, "compatibility", hw,
	    "created_at", (json_int_t)s->created_at, "deleted", s->deleted,
	    "rollouts", artifact_rollouts_json(db, s->id));
}

json_t *
artifact_list_json(
    struct db *db, int64_t limit, int64_t offset, const char *text)
{
	static const char sql[] =
	    "SELECT id FROM software WHERE deleted_at IS NULL AND (?3 IS NULL "
	    "OR instr(filename, ?3) > 0 OR instr(version, ?3) > 0) "
	    "ORDER BY id DESC LIMIT ?1 OFFSET ?2";
	static const char count[] =
	    "SELECT count(*) FROM software WHERE deleted_at IS NULL AND (?1 IS "
	    "NULL OR instr(filename, ?1) > 0 OR instr(version, ?1) > 0)";
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
	db_bind_int64(st, 1, limit);
	db_bind_int64(st, 2, offset);
	db_bind_text(st, 3, text);
	ids = db_collect_ids(st, &n);
	for (size_t i = 0; i < n; i++) {
		struct software s;

		if (artifact_load(db, ids[i], true, &s) != RESULT_OK)
			continue;
		json_array_append_new(list, artifact_to_json(db, &s));
		artifact_clear(&s);
	}
	free(ids);
	return json_pack("{s:o, s:I, s:I, s:I}", "software", list, "total",
	    (json_int_t)total, "limit", (json_int_t)limit, "offset",
	    (json_int_t)offset);
}

static int64_t
artifact_count(struct db *db, const char *sql, int64_t id)
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

enum result
artifact_delete(struct db *db, const char *dir, int64_t id, const char **why)
{
	static const char used_rollout[] =
	    "SELECT count(*) FROM rollout WHERE software_id = ?1";
	static const char used_open[] =
	    "SELECT count(*) FROM action WHERE software_id = ?1 AND status IN "
	    "('scheduled', 'running', 'canceling')";
	static const char used_any[] =
	    "SELECT count(*) FROM action WHERE software_id = ?1";
	static const char soft_del[] =
	    "UPDATE software SET deleted_at = ?2, path = NULL WHERE id = ?1";
	static const char hard_del[] = "DELETE FROM software WHERE id = ?1";
	struct software s;
	sqlite3_stmt *st;
	enum result r;
	int64_t n;
	char path[2048];

	*why = NULL;
	memset(&s, 0, sizeof(s));
	if (db_begin(db) == -1)
		return RESULT_ERROR;
	if ((r = artifact_load(db, id, false, &s)) != RESULT_OK)
		goto fail;
	if (s.deleted) {
		r = RESULT_NOTFOUND;
		goto fail;
	}
	if ((n = artifact_count(db, used_rollout, id)) != 0) {
		r = n < 0 ? RESULT_ERROR : RESULT_CONFLICT;
		*why = "a rollout uses this software; delete the rollout first";
		goto fail;
	}
	if ((n = artifact_count(db, used_open, id)) != 0) {
		r = n < 0 ? RESULT_ERROR : RESULT_CONFLICT;
		*why = "an update of this software is in progress";
		goto fail;
	}
	n = artifact_count(db, used_any, id);
	if (n < 0 || (st = db_prepare(db, n ? soft_del : hard_del)) == NULL) {
		r = RESULT_ERROR;
		goto fail;
	}
	db_bind_int64(st, 1, id);
	if (n)
		db_bind_int64(st, 2, now_s());
	if (sqlite3_step(st) != SQLITE_DONE) {
		db_log_error(db, __func__);
		db_done(st);
		r = RESULT_ERROR;
		goto fail;
	}
	db_done(st);
	if (db_commit(db) == -1) {
		r = RESULT_ERROR;
		goto out;
	}
	rollout_catalog_changed();
	/* The row is gone or marked: the file can go now. */
	if (s.path) {
		snprintf(path, sizeof(path), "%s/%s", dir, s.path);
		if (unlink(path) == -1 && errno != ENOENT)
			log_warn("%s: %s", __func__, path);
	}
	log_info("deleted software %lld%s", (long long)id,
	    n ? " (history kept)" : "");
	r = RESULT_OK;
	goto out;
fail:
	db_rollback(db);
out:
	artifact_clear(&s);
	return r;
}

void
artifact_sweep(struct db *db, const char *dir)
{
	static const char sql[] = "SELECT 1 FROM software WHERE path = ?1";
	DIR *d = opendir(dir);
	struct dirent *e;
	sqlite3_stmt *st;
	char path[2048];
	bool known;

	if (d == NULL) {
		log_warn("%s: %s", __func__, dir);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);

		/* Only names artifact_store makes: "<id>-<hash>.swu". */
		if (n < 5 || strcmp(e->d_name + n - 4, ".swu") != 0 ||
		    strspn(e->d_name, "0123456789") == 0)
			continue;
		if ((st = db_prepare(db, sql)) == NULL)
			break;
		db_bind_text(st, 1, e->d_name);
		known = sqlite3_step(st) == SQLITE_ROW;
		db_done(st);
		if (known)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (unlink(path) == 0)
			log_info(
			    "removed %s: no software refers to it (an "
			    "upload stopped between its rename and commit)",
			    path);
	}
	closedir(d);
}
