/*
 * Artifacts: the files of a software module, stored under
 * data_dir/artifacts or hosted elsewhere (an external http(s) URL devices
 * get as it is).  Owns the artifact table and the files.
 */
#ifndef ARTIFACT_H
#define ARTIFACT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "util.h"

struct db;
struct upload;

#define ARTIFACT_FILENAME_MAX 200
#define ARTIFACT_PER_MODULE_MAX 256

struct artifact {
	int64_t id, module_id, size, created_at;
	char *filename;
	char *md5, *sha1, *sha256; /* lower-case hex; md5, sha256 may be NULL
	                              for external artifacts */
	char *path;      /* file under the artifact dir, NULL if none */
	char *url;       /* external artifact, NULL if stored here */
	char *format;    /* "swu", "raucb" or "file" */
	char *info;      /* JSON text: what the format's reader found */
	char *signature; /* none, unchecked, verified, failed, unreadable */
};

enum result artifact_load(struct db *, int64_t id, struct artifact *);
/* The artifact of module_id named filename. */
enum result artifact_find(
    struct db *, int64_t module_id, const char *filename, struct artifact *);
/* Every artifact of a module, oldest first; *out has *n entries. */
enum result artifact_list(
    struct db *, int64_t module_id, struct artifact **out, size_t *n);
void artifact_clear(struct artifact *);
void artifact_free_list(struct artifact *, size_t n);

/* A plain file name devices can be given: [A-Za-z0-9._+-], no leading dot,
 * at most ARTIFACT_FILENAME_MAX bytes. */
bool artifact_filename_valid(const char *);

/*
 * Inside the caller's transaction: insert the row for a finished upload
 * and rename its temp file into dir.  On RESULT_OK *final holds the new
 * path: if the caller's commit fails it unlinks it.  RESULT_CONFLICT: the
 * module has an artifact of that name.
 */
enum result artifact_insert_upload(struct db *, const char *dir,
    int64_t module_id, struct upload *, const char *filename,
    const char *format, const char *info, const char *signature, int64_t *id,
    char *final, size_t finallen);

/* Inside the caller's transaction: an artifact hosted at url.
 * RESULT_CONFLICT: the module has an artifact of that name. */
enum result artifact_insert_external(struct db *, int64_t module_id,
    const char *filename, const char *url, int64_t size, const char *md5,
    const char *sha1, const char *sha256, const char *format, const char *info,
    const char *signature, int64_t *id);

/* Make renames into dir durable: fsync the directory. */
void artifact_sync_dir(const char *dir);

/* Open the stored file read-only.  -1 if there is none (logged). */
int artifact_open(const char *dir, const struct artifact *);

/* The operator's view: id, filename, size, hashes, format, signature,
 * url or stored, and what the reader found. */
json_t *artifact_to_json(const struct artifact *);

/*
 * Inside the caller's transaction: forget the files of module_id's
 * artifacts (their path becomes NULL).  *paths gets the stored names to
 * unlink once the transaction committed (artifact_unlink_paths).
 */
enum result artifact_release_files(
    struct db *, int64_t module_id, char ***paths, size_t *n);
void artifact_unlink_paths(const char *dir, char **paths, size_t n);

/*
 * At start-up: remove files under dir that no artifact row names.
 * artifact_insert_upload renames the file into place just before its
 * caller commits, so a crash between the two leaves such a file; its
 * upload was never answered.
 */
void artifact_sweep(struct db *, const char *dir);

#endif
