/*
 * falconet backup / restore.  The database is copied with SQLite's online
 * backup API in one read transaction: in WAL mode that is a consistent
 * snapshot and never blocks the server's writers.  The artifacts that
 * snapshot names are then copied and hashed.  Stored artifact files are
 * never rewritten, only created (before their row commits) and removed
 * (after the commit that clears their row), so a file the snapshot names
 * either is there whole or was deleted after it: then the snapshot is
 * taken again, as it no longer describes what is on disk.
 */
#include "backup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define BACKUP_DB "falconet.db"
#define BACKUP_ARTIFACTS "artifacts"
#define BACKUP_TRIES 5       /* snapshots before giving up */
#define BACKUP_BUSY_MS 10000 /* waiting for a lock */
#define BACKUP_BUF (1 << 20) /* bytes copied at a time */
#define BACKUP_PATH_MAX 4096
#define BACKUP_INPUT_MAX 1024 /* bytes of a directory given */

static void errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/*
 * out = a/b.  The callers' inputs are bounded (BACKUP_INPUT_MAX for the
 * directories, stored names under 256 bytes), so this never cuts; kept
 * out of line so that the compiler does not guess otherwise.
 */
static bool __attribute__((noinline))
path_join(char *out, const char *a, const char *b)
{
	int n = snprintf(out, BACKUP_PATH_MAX, "%s/%s", a, b);

	return n >= 0 && n < BACKUP_PATH_MAX;
}

/* Does path not exist, or is it an empty directory? */
static bool
dir_absent_or_empty(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	bool empty = true;

	if (d == NULL)
		return errno == ENOENT;
	while (empty && (e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			empty = false;
	closedir(d);
	return empty;
}

/* Remove a directory tree of regular files (what a backup holds). */
static void
remove_tree(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	char sub[BACKUP_PATH_MAX];
	struct stat sb;

	if (d == NULL) {
		(void)unlink(path);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		path_join(sub, path, e->d_name);
		if (lstat(sub, &sb) == 0 && S_ISDIR(sb.st_mode))
			remove_tree(sub);
		else
			(void)unlink(sub);
	}
	closedir(d);
	(void)rmdir(path);
}

static int
fsync_path(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

	if (fd == -1)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/*
 * Copy src to dst (created, mode 0600, never over an existing file) and
 * fsync it; sha256 (65 bytes) gets the hex digest of what was copied and
 * *size its length.  0 ok; -1 with errno set (ENOENT: src is gone).
 */
static int
copy_file(const char *src, const char *dst, char *sha256, int64_t *size)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = NULL;
	char *buf = NULL;
	int in = -1, out = -1, saved = 0, rc = -1;
	ssize_t n;

	*size = 0;
	if ((in = open(src, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	if ((out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) ==
	        -1 ||
	    (buf = malloc(BACKUP_BUF)) == NULL ||
	    (ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		goto done;
	while ((n = read(in, buf, BACKUP_BUF)) > 0) {
		if (EVP_DigestUpdate(ctx, buf, (size_t)n) != 1)
			goto done;
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(out, buf + off, (size_t)(n - off));

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				goto done;
			off += w;
		}
		*size += n;
	}
	if (n < 0 || fsync(out) == -1 ||
	    EVP_DigestFinal_ex(ctx, md, &mdlen) != 1)
		goto done;
	hex_encode(md, mdlen, sha256);
	rc = 0;
done:
	saved = errno;
	EVP_MD_CTX_free(ctx);
	free(buf);
	if (in != -1)
		close(in);
	if (out != -1 && close(out) == -1 && rc == 0) {
		saved = errno;
		rc = -1;
	}
	errno = saved;
	return rc;
}

/* Open a database file without creating it. */
static sqlite3 *
open_db(const char *path, bool readonly, char *err, size_t errlen)
{
	sqlite3 *h = NULL;
	int flags = readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;

	if (sqlite3_open_v2(path, &h, flags | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		errf(err, errlen, "%s: %s", path,
		    h ? sqlite3_errmsg(h) : "out of memory");
		sqlite3_close(h);
		return NULL;
	}
	sqlite3_busy_timeout(h, BACKUP_BUSY_MS);
	return h;
}

static int
user_version(sqlite3 *h)
{
	sqlite3_stmt *st = NULL;
	int v = -1;

	if (sqlite3_prepare_v2(h, "PRAGMA user_version", -1, &st, NULL) ==
	        SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* Copy the live database at src into the new file dst, one snapshot. */
static int
snapshot_db(const char *src, const char *dst, char *err, size_t errlen)
{
	sqlite3 *from, *to = NULL;
	sqlite3_backup *b;
	int rc = -1, step;

	if ((from = open_db(src, false, err, errlen)) == NULL)
		return -1;
	if (sqlite3_open_v2(dst, &to,
	        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	            SQLITE_OPEN_NOMUTEX,
	        NULL) != SQLITE_OK) {
		errf(err, errlen, "%s: %s", dst,
		    to ? sqlite3_errmsg(to) : "out of memory");
		goto done;
	}
	if ((b = sqlite3_backup_init(to, "main", from, "main")) == NULL) {
		errf(err, errlen, "backup of %s: %s", src, sqlite3_errmsg(to));
		goto done;
	}
	/* All pages in one step: one read transaction, one snapshot.  A
	 * busy or locked source (a checkpoint) is waited for. */
	for (int i = 0; i < 100; i++) {
		step = sqlite3_backup_step(b, -1);
		if (step != SQLITE_BUSY && step != SQLITE_LOCKED)
			break;
		sqlite3_sleep(100);
	}
	if (sqlite3_backup_finish(b) != SQLITE_OK || step != SQLITE_DONE) {
		errf(err, errlen, "backup of %s: %s", src, sqlite3_errmsg(to));
		goto done;
	}
	/* One self-contained file: no -wal beside it. */
	if (sqlite3_exec(to, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL) !=
	    SQLITE_OK) {
		errf(err, errlen, "%s: %s", dst, sqlite3_errmsg(to));
		goto done;
	}
	rc = 0;
done:
	if (sqlite3_close(to) != SQLITE_OK && rc == 0) {
		errf(err, errlen, "%s: cannot close", dst);
		rc = -1;
	}
	sqlite3_close(from);
	return rc;
}

/* The artifact files a database names, as a prepared statement over
 * (path, size, sha256). */
static sqlite3_stmt *
artifact_rows(sqlite3 *h, char *err, size_t errlen)
{
	static const char sql[] =
	    "SELECT path, size, sha256 FROM artifact WHERE path IS NOT NULL "
	    "ORDER BY id";
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK) {
		errf(err, errlen, "reading the artifacts: %s",
		    sqlite3_errmsg(h));
		sqlite3_finalize(st);
		return NULL;
	}
	return st;
}

/* A stored name is one file name, as artifact.c makes them. */
static bool
stored_name_ok(const char *name)
{
	return name && name[0] && name[0] != '.' && strchr(name, '/') == NULL &&
	       strlen(name) < 256;
}

/* Outcome of copying what one database names. */
enum copy_outcome { COPY_OK, COPY_GONE, COPY_FAILED };

/*
 * Copy every artifact the database db_file names from src_dir to
 * dst_dir, checking size and SHA-256.  COPY_GONE when a file is missing
 * (deleted since the snapshot, for a backup).
 */
static enum copy_outcome
copy_artifacts(const char *db_file, const char *src_dir, const char *dst_dir,
    struct backup_stats *stats, char *err, size_t errlen)
{
	char src[BACKUP_PATH_MAX], dst[BACKUP_PATH_MAX], sha[65];
	enum copy_outcome out = COPY_OK;
	sqlite3_stmt *st;
	sqlite3 *h;
	int64_t size;

	if ((h = open_db(db_file, true, err, errlen)) == NULL)
		return COPY_FAILED;
	if ((st = artifact_rows(h, err, errlen)) == NULL) {
		sqlite3_close(h);
		return COPY_FAILED;
	}
	while (out == COPY_OK && sqlite3_step(st) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		const char *want = (const char *)sqlite3_column_text(st, 2);
		int64_t want_size = sqlite3_column_int64(st, 1);

		if (!stored_name_ok(name)) {
			errf(err, errlen,
			    "an artifact's stored name is not "
			    "a file name");
			out = COPY_FAILED;
			break;
		}
		path_join(src, src_dir, name);
		path_join(dst, dst_dir, name);
		if (copy_file(src, dst, sha, &size) == -1) {
			if (errno == ENOENT) {
				errf(err, errlen, "%s is gone", src);
				out = COPY_GONE;
			} else {
				errf(err, errlen, "copying %s: %s", src,
				    strerror(errno));
				out = COPY_FAILED;
			}
			break;
		}
		if (size != want_size || (want && strcmp(want, sha) != 0)) {
			errf(err, errlen,
			    "%s does not match its record (%lld bytes, sha256 "
			    "%.12s..., recorded %lld bytes, %.12s...)",
			    src, (long long)size, sha, (long long)want_size,
			    want ? want : "-");
			out = COPY_FAILED;
			break;
		}
		stats->artifacts++;
		stats->bytes += size;
	}
	sqlite3_finalize(st);
	sqlite3_close(h);
	return out;
}

/* Is this top-level entry of a data directory copied as an extra file?
 * The database (and its -wal, -shm) and the directories are not. */
static bool
extra_file(const char *dir, const char *name)
{
	char path[BACKUP_PATH_MAX];
	struct stat sb;

	if (name[0] == '.' ||
	    strncmp(name, BACKUP_DB, strlen(BACKUP_DB)) == 0 ||
	    strcmp(name, BACKUP_MANIFEST) == 0)
		return false;
	path_join(path, dir, name);
	return lstat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* Copy the extra files of src's top level to dst. */
static int
copy_extras(const char *src, const char *dst, char *err, size_t errlen)
{
	char from[BACKUP_PATH_MAX], to[BACKUP_PATH_MAX], sha[65];
	DIR *d = opendir(src);
	struct dirent *e;
	int64_t size;
	int rc = 0;

	if (d == NULL) {
		errf(err, errlen, "%s: %s", src, strerror(errno));
		return -1;
	}
	while (rc == 0 && (e = readdir(d)) != NULL) {
		if (!extra_file(src, e->d_name))
			continue;
		path_join(from, src, e->d_name);
		path_join(to, dst, e->d_name);
		if (copy_file(from, to, sha, &size) == -1) {
			errf(err, errlen, "copying %s: %s", from,
			    strerror(errno));
			rc = -1;
		}
	}
	closedir(d);
	return rc;
}

static int
write_manifest(
    const char *dir, const struct backup_stats *stats, char *err, size_t errlen)
{
	char path[BACKUP_PATH_MAX];
	json_t *m;
	int rc;

	path_join(path, dir, BACKUP_MANIFEST);
	m = json_pack("{s:s, s:i, s:i, s:I, s:I, s:I}", "format", BACKUP_FORMAT,
	    "version", BACKUP_VERSION, "schema", stats->schema, "created_at",
	    (json_int_t)time(NULL), "artifacts", (json_int_t)stats->artifacts,
	    "bytes", (json_int_t)stats->bytes);
	rc = m ? json_dump_file(m, path, JSON_INDENT(2)) : -1;
	json_decref(m);
	if (rc == -1 || fsync_path(path) == -1) {
		errf(err, errlen, "%s: cannot write", path);
		return -1;
	}
	return 0;
}

/* One snapshot and the files it names into the empty directory work. */
static enum copy_outcome
backup_once(const char *data_dir, const char *work, struct backup_stats *stats,
    char *err, size_t errlen)
{
	char db[BACKUP_PATH_MAX], src_db[BACKUP_PATH_MAX];
	char arts[BACKUP_PATH_MAX], src_arts[BACKUP_PATH_MAX];
	enum copy_outcome out;
	sqlite3 *h;

	path_join(src_db, data_dir, BACKUP_DB);
	snprintf(
	    src_arts, sizeof(src_arts), "%s/%s", data_dir, BACKUP_ARTIFACTS);
	path_join(db, work, BACKUP_DB);
	path_join(arts, work, BACKUP_ARTIFACTS);
	if (access(src_db, F_OK) == -1) {
		errf(err, errlen, "%s: %s", src_db, strerror(errno));
		return COPY_FAILED;
	}
	if (mkdir(arts, 0700) == -1) {
		errf(err, errlen, "%s: %s", arts, strerror(errno));
		return COPY_FAILED;
	}
	if (snapshot_db(src_db, db, err, errlen) == -1)
		return COPY_FAILED;
	if ((h = open_db(db, true, err, errlen)) == NULL)
		return COPY_FAILED;
	stats->schema = user_version(h);
	sqlite3_close(h);
	out = copy_artifacts(db, src_arts, arts, stats, err, errlen);
	if (out == COPY_OK &&
	    (copy_extras(data_dir, work, err, errlen) == -1 ||
	        write_manifest(work, stats, err, errlen) == -1 ||
	        fsync_path(arts) == -1 || fsync_path(work) == -1))
		out = COPY_FAILED;
	return out;
}

int
backup_create(const char *data_dir, const char *dir, struct backup_stats *stats,
    char *err, size_t errlen)
{
	char work[BACKUP_PATH_MAX], parent[BACKUP_PATH_MAX], *slash;
	enum copy_outcome out = COPY_FAILED;

	memset(stats, 0, sizeof(*stats));
	if (strlen(dir) >= BACKUP_INPUT_MAX ||
	    strlen(data_dir) >= BACKUP_INPUT_MAX) {
		errf(err, errlen, "the path is too long");
		return -1;
	}
	if (!dir_absent_or_empty(dir)) {
		errf(err, errlen, "%s exists and is not empty", dir);
		return -1;
	}
	snprintf(work, sizeof(work), "%s.partial", dir);
	remove_tree(work); /* a run that was killed */
	for (stats->tries = 1; stats->tries <= BACKUP_TRIES; stats->tries++) {
		if (mkdir(work, 0700) == -1) {
			errf(err, errlen, "%s: %s", work, strerror(errno));
			return -1;
		}
		stats->artifacts = stats->bytes = 0;
		out = backup_once(data_dir, work, stats, err, errlen);
		if (out == COPY_OK)
			break;
		remove_tree(work);
		if (out == COPY_FAILED)
			return -1;
	}
	if (out != COPY_OK) {
		errf(err, errlen,
		    "artifacts kept being deleted during %d snapshots",
		    BACKUP_TRIES);
		return -1;
	}
	(void)rmdir(dir); /* an empty one */
	if (rename(work, dir) == -1) {
		errf(err, errlen, "renaming %s to %s: %s", work, dir,
		    strerror(errno));
		remove_tree(work);
		return -1;
	}
	snprintf(parent, sizeof(parent), "%s", dir);
	slash = strrchr(parent, '/');
	if (slash == parent)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	else
		snprintf(parent, sizeof(parent), ".");
	(void)fsync_path(parent);
	return 0;
}

/* Is the backup in dir one this build can restore?  Checks the manifest
 * and the database. */
static int
restore_check(const char *dir, int latest_schema, struct backup_stats *stats,
    char *err, size_t errlen)
{
	char path[BACKUP_PATH_MAX];
	const char *format, *ok;
	sqlite3_stmt *st = NULL;
	json_error_t jerr;
	sqlite3 *h;
	json_t *m;
	int rc = -1;

	path_join(path, dir, BACKUP_MANIFEST);
	if ((m = json_load_file(path, 0, &jerr)) == NULL) {
		errf(err, errlen, "%s: not a backup (%s)", dir, jerr.text);
		return -1;
	}
	format = json_string_value(json_object_get(m, "format"));
	if (format == NULL || strcmp(format, BACKUP_FORMAT) != 0 ||
	    json_integer_value(json_object_get(m, "version")) !=
	        BACKUP_VERSION) {
		errf(err, errlen, "%s: not a backup of this format", path);
		json_decref(m);
		return -1;
	}
	json_decref(m);
	path_join(path, dir, BACKUP_DB);
	if ((h = open_db(path, true, err, errlen)) == NULL)
		return -1;
	stats->schema = user_version(h);
	if (stats->schema < 1 || stats->schema > latest_schema) {
		errf(err, errlen,
		    "%s: schema version %d; this falconet knows 1 to %d", path,
		    stats->schema, latest_schema);
		goto done;
	}
	if (sqlite3_prepare_v2(h, "PRAGMA integrity_check", -1, &st, NULL) !=
	        SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW ||
	    (ok = (const char *)sqlite3_column_text(st, 0)) == NULL ||
	    strcmp(ok, "ok") != 0) {
		errf(err, errlen, "%s fails PRAGMA integrity_check", path);
		goto done;
	}
	rc = 0;
done:
	sqlite3_finalize(st);
	sqlite3_close(h);
	return rc;
}

int
backup_restore(const char *dir, const char *data_dir, int latest_schema,
    struct backup_stats *stats, char *err, size_t errlen)
{
	char db[BACKUP_PATH_MAX], src_db[BACKUP_PATH_MAX];
	char arts[BACKUP_PATH_MAX], src_arts[BACKUP_PATH_MAX], sha[65];
	bool made_dir = false;
	int64_t size;

	memset(stats, 0, sizeof(*stats));
	if (strlen(dir) >= BACKUP_INPUT_MAX ||
	    strlen(data_dir) >= BACKUP_INPUT_MAX) {
		errf(err, errlen, "the path is too long");
		return -1;
	}
	if (!dir_absent_or_empty(data_dir)) {
		errf(err, errlen,
		    "%s is not empty: restore into a new data directory",
		    data_dir);
		return -1;
	}
	if (restore_check(dir, latest_schema, stats, err, errlen) == -1)
		return -1;
	if (mkdir(data_dir, 0700) == 0)
		made_dir = true;
	else if (errno != EEXIST) {
		errf(err, errlen, "%s: %s", data_dir, strerror(errno));
		return -1;
	}
	path_join(src_db, dir, BACKUP_DB);
	path_join(src_arts, dir, BACKUP_ARTIFACTS);
	path_join(db, data_dir, BACKUP_DB);
	path_join(arts, data_dir, BACKUP_ARTIFACTS);
	if (mkdir(arts, 0700) == -1) {
		errf(err, errlen, "%s: %s", arts, strerror(errno));
		goto fail;
	}
	if (copy_artifacts(src_db, src_arts, arts, stats, err, errlen) !=
	        COPY_OK ||
	    copy_extras(dir, data_dir, err, errlen) == -1)
		goto fail;
	/* The database last: a data directory with one is a restored one. */
	if (copy_file(src_db, db, sha, &size) == -1) {
		errf(err, errlen, "copying %s: %s", src_db, strerror(errno));
		goto fail;
	}
	if (fsync_path(arts) == -1 || fsync_path(data_dir) == -1) {
		errf(err, errlen, "%s: cannot sync", data_dir);
		goto fail;
	}
	return 0;
fail:
	/* Leave the directory as it was found: empty, or absent. */
	remove_tree(data_dir);
	if (!made_dir)
		(void)mkdir(data_dir, 0700);
	return -1;
}
