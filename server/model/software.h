/*
 * The simple upload path: one .swu image or one RAUC bundle becomes, in one
 * transaction, a software module of type os holding it as its one artifact
 * and a distribution set of type os holding that module, with the version
 * and hardware compatibility read from the file, both named as the file.
 * The format is told by content, never by name.
 */
#ifndef SOFTWARE_H
#define SOFTWARE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct app;
struct db;
struct upload;

/* What the caller may add to what the file says (NULL: nothing). */
struct software_hints {
	const char *version;    /* for bundles whose version is unreadable */
	const char *compatible; /* for encrypted RAUC bundles */
};

/*
 * Read the finished upload, check it and store it.  RESULT_INVALID (not
 * an image or bundle, corrupt, refused by the signature policy, bad name;
 * *why says what), RESULT_CONFLICT (the same version with overlapping
 * compatibility).  On any failure no row and no file remain.  *id is the
 * new set's id.
 */
enum result software_store(struct db *, const struct app *, struct upload *,
    const struct software_hints *, int64_t *id, char *why, size_t whylen);

/*
 * The granular path: add the finished upload to module_id as an artifact
 * named after the upload (or NULL filename: as the client named it).  The
 * content decides the format: a .swu or a RAUC bundle is read and checked
 * as on the simple path (and refused if corrupt), anything else is a
 * plain file.  expect_* are hashes the client announced (NULL: none); a
 * mismatch is RESULT_INVALID.  RESULT_CONFLICT: the module is locked or
 * has an artifact of that name.  RESULT_NOTFOUND: no such live module.
 */
struct software_expect {
	const char *md5, *sha1, *sha256;
};
enum result software_add_artifact(struct db *, const struct app *,
    int64_t module_id, struct upload *, const struct software_expect *,
    int64_t *id, char *why, size_t whylen);

/*
 * An artifact hosted elsewhere: body {url, filename?, size, sha1, md5?,
 * sha256?, fetch?}.  With fetch, the URL is read once (http and https
 * only, upload.max_size and http.timeout as bounds, no bytes kept) to
 * check the hashes and run the format's reader.
 */
enum result software_add_external(struct db *, const struct app *,
    int64_t module_id, json_t *body, int64_t *id, char *why, size_t whylen);

/* Delete artifact aid of module id (and its file): RESULT_CONFLICT while
 * the module is locked. */
enum result software_delete_artifact(struct db *, const struct app *,
    int64_t module_id, int64_t aid, const char **why);

#endif
