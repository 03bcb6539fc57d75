/*
 * Artifact rows and their files.  A stored artifact's file is renamed into
 * place inside its caller's transaction, just before the commit, so either
 * both the row and the file exist or neither does (artifact_sweep removes
 * the file a crash left between the two).
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
#include "upload.h"

#define ARTIFACT_COLUMNS                                                       \
	"id, module_id, filename, size, md5, sha1, sha256, path, url, "        \
	"format, info, signature, created_at"

static void
artifact_from_row(sqlite3_stmt *st, struct artifact *a)
{
	memset(a, 0, sizeof(*a));
	a->id = sqlite3_column_int64(st, 0);
	a->module_id = sqlite3_column_int64(st, 1);
	a->filename = db_column_strdup(st, 2);
	a->size = sqlite3_column_int64(st, 3);
	a->md5 = db_column_strdup(st, 4);
	a->sha1 = db_column_strdup(st, 5);
	a->sha256 = db_column_strdup(st, 6);
	a->path = db_column_strdup(st, 7);
	a->url = db_column_strdup(st, 8);
	a->format = db_column_strdup(st, 9);
	a->info = db_column_strdup(st, 10);
	a->signature = db_column_strdup(st, 11);
	a->created_at = sqlite3_column_int64(st, 12);
}

/* Step st for one row into *a. */
static enum result
artifact_load_one(struct db *db, sqlite3_stmt *st, struct artifact *a)
{
	enum result r = RESULT_ERROR;

	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		artifact_from_row(st, a);
		r = RESULT_OK;
		break;
	case SQLITE_DONE:
		r = RESULT_NOTFOUND;
		break;
	default:
		db_log_error(db, "artifact_load");
	}
	db_done(st);
	return r;
}

enum result
artifact_load(struct db *db, int64_t id, struct artifact *a)
{
	static const char sql[] =
	    "SELECT " ARTIFACT_COLUMNS " FROM artifact WHERE id = ?1";
	sqlite3_stmt *st = db_prepare(db, sql);

	if (st == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, id);
	return artifact_load_one(db, st, a);
}

enum result
artifact_find(
    struct db *db, int64_t module_id, const char *filename, struct artifact *a)
{
	static const char sql[] = "SELECT " ARTIFACT_COLUMNS
	                          " FROM artifact WHERE module_id = ?1 AND "
	                          "filename = ?2";
	sqlite3_stmt *st = db_prepare(db, sql);

	if (st == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, module_id);
	db_bind_text(st, 2, filename);
	return artifact_load_one(db, st, a);
}

enum result
artifact_list(
    struct db *db, int64_t module_id, struct artifact **out, size_t *n)
{
	static const char sql[] =
	    "SELECT " ARTIFACT_COLUMNS " FROM artifact WHERE module_id = ?1 "
	    "ORDER BY id LIMIT ?2";
	sqlite3_stmt *st = db_prepare(db, sql);
	size_t cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (st == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, module_id);
	db_bind_int64(st, 2, ARTIFACT_PER_MODULE_MAX);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 2;
			*out = xrealloc(*out, cap * sizeof(**out));
		}
		artifact_from_row(st, &(*out)[(*n)++]);
	}
	db_done(st);
	if (rc != SQLITE_DONE) {
		db_log_error(db, __func__);
		artifact_free_list(*out, *n);
		*out = NULL;
		*n = 0;
		return RESULT_ERROR;
	}
	return RESULT_OK;
}

void
artifact_clear(struct artifact *a)
{
	if (a == NULL)
		return;
	free(a->filename);
	free(a->md5);
	free(a->sha1);
	free(a->sha256);
	free(a->path);
	free(a->url);
	free(a->format);
	free(a->info);
	free(a->signature);
	memset(a, 0, sizeof(*a));
}

void
artifact_free_list(struct artifact *a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		artifact_clear(&a[i]);
	free(a);
}

bool
artifact_filename_valid(const char *n)
{
	size_t len = strlen(n);

	return len > 0 && len <= ARTIFACT_FILENAME_MAX && n[0] != '.' &&
	       strspn(n, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                 "0123456789._+-") == len;
}

enum result
artifact_insert_upload(struct db *db, const char *dir, int64_t module_id,
    struct upload *u, const char *filename, const char *format,
    const char *info, const char *signature, int64_t *id, char *final,
    size_t finallen)
{
	static const char sql[] =
	    "INSERT INTO artifact (module_id, filename, size, md5, sha1, "
	    "sha256, format, info, signature, created_at) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) RETURNING id";
	static const char set_path[] =
	    "UPDATE artifact SET path = ?2 WHERE id = ?1";
	sqlite3_stmt *st = db_prepare(db, sql);
	enum result r;
	char name[64];

	final[0] = '\0';
	if (st == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, module_id);
	db_bind_text(st, 2, filename);
	db_bind_int64(st, 3, (int64_t)upload_size(u));
	db_bind_text(st, 4, upload_md5(u));
	db_bind_text(st, 5, upload_sha1(u));
	db_bind_text(st, 6, upload_sha256(u));
	db_bind_text(st, 7, format);
	db_bind_text(st, 8, info);
	db_bind_text(st, 9, signature);
	db_bind_int64(st, 10, now_s());
	if ((r = db_step_id(db, st, id, __func__)) != RESULT_OK)
		return r;
	/* Stored names start with the id: see artifact_sweep. */
	snprintf(name, sizeof(name), "%lld-%.16s.%s", (long long)*id,
	    upload_sha256(u), format);
	if ((st = db_prepare(db, set_path)) == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, *id);
	db_bind_text(st, 2, name);
	if ((r = db_step_done(db, st, __func__)) != RESULT_OK)
		return r;
	snprintf(final, finallen, "%s/%s", dir, name);
	if (rename(upload_path(u), final) == -1) {
		log_warn("%s: rename to %s", __func__, final);
		final[0] = '\0';
		return RESULT_ERROR;
	}
	upload_keep(u);
	return RESULT_OK;
}

enum result
artifact_insert_external(struct db *db, int64_t module_id, const char *filename,
    const char *url, int64_t size, const char *md5, const char *sha1,
    const char *sha256, const char *format, const char *info,
    const char *signature, int64_t *id)
{
	static const char sql[] =
	    "INSERT INTO artifact (module_id, filename, size, md5, sha1, "
	    "sha256, url, format, info, signature, created_at) "
	    "VALUES (?1, ?2, ?3, lower(?4), lower(?5), lower(?6), ?7, ?8, ?9, "
	    "?10, ?11) RETURNING id";
	sqlite3_stmt *st = db_prepare(db, sql);

	if (st == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, module_id);
	db_bind_text(st, 2, filename);
	db_bind_int64(st, 3, size);
	db_bind_text(st, 4, md5);
	db_bind_text(st, 5, sha1);
	db_bind_text(st, 6, sha256);
	db_bind_text(st, 7, url);
	db_bind_text(st, 8, format);
	db_bind_text(st, 9, info);
	db_bind_text(st, 10, signature);
	db_bind_int64(st, 11, now_s());
	return db_step_id(db, st, id, __func__);
}

void
artifact_sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd == -1 || fsync(fd) == -1)
		log_warn("%s: %s", __func__, dir);
	if (fd != -1)
		close(fd);
}

int
artifact_open(const char *dir, const struct artifact *a)
{
	char path[2048];
	int fd;

	if (a->path == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/%s", dir, a->path);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		log_warn("%s: %s", __func__, path);
	return fd;
}

json_t *
artifact_to_json(const struct artifact *a)
{
	json_t *info = a->info ? json_loads(a->info, 0, NULL) : NULL;

	return json_pack("{s:I, s:s, s:I, s:{s:s?, s:s, s:s?}, s:s, s:s, "
	                 "s:s?, s:b, s:o, s:I}",
	    "id", (json_int_t)a->id, "filename", a->filename, "size",
	    (json_int_t)a->size, "hashes", "md5", a->md5, "sha1", a->sha1,
	    "sha256", a->sha256, "format", a->format, "signature", a->signature,
	    "url", a->url, "stored", a->path != NULL, "info",
	    info ? info : json_object(), "created_at",
	    (json_int_t)a->created_at);
}

enum result
artifact_release_files(
    struct db *db, int64_t module_id, char ***paths, size_t *n)
{
	static const char sql[] = "SELECT path FROM artifact WHERE "
	                          "module_id = ?1 AND path IS NOT NULL";
	static const char clear[] = "UPDATE artifact SET path = NULL WHERE "
	                            "module_id = ?1";
	sqlite3_stmt *st = db_prepare(db, sql);
	size_t cap = 0;

	*paths = NULL;
	*n = 0;
	if (st == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, module_id);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 2;
			*paths = xrealloc(*paths, cap * sizeof(**paths));
		}
		(*paths)[(*n)++] = db_column_strdup(st, 0);
	}
	db_done(st);
	if ((st = db_prepare(db, clear)) == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, module_id);
	return db_step_done(db, st, __func__);
}

void
artifact_unlink_paths(const char *dir, char **paths, size_t n)
{
	char path[2048];

	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, paths[i]);
		if (unlink(path) == -1 && errno != ENOENT)
			log_warn("%s: %s", __func__, path);
		free(paths[i]);
	}
	free(paths);
}

void
artifact_sweep(struct db *db, const char *dir)
{
	static const char sql[] = "SELECT 1 FROM artifact WHERE path = ?1";
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
		size_t digits = strspn(e->d_name, "0123456789");

		/* Only names artifact_insert_upload makes: "<id>-...". */
		if (digits == 0 || e->d_name[digits] != '-')
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
			    "removed %s: no artifact refers to it (an "
			    "upload stopped between its rename and commit)",
			    path);
	}
	closedir(d);
}
