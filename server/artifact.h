/*
 * Software and its artifact files: storing a parsed upload, reading rows
 * with their hardware compatibility, deleting.  Owns the software and
 * software_hw tables and the files under data_dir/artifacts.
 */
#ifndef ARTIFACT_H
#define ARTIFACT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "swu.h"
#include "util.h"

struct db;
struct upload;

#define ARTIFACT_FILENAME_MAX 200

struct software {
	int64_t id;
	char *filename, *version, *description;
	char *md5, *sha1, *sha256;
	char *path; /* file under the artifact dir, NULL if deleted */
	int64_t size, created_at;
	bool is_signed, deleted;
	struct swu_hw *hw; /* with_hw only */
	size_t nhw;
};

/*
 * Parse the finished upload as a .swu image and store it: the row and its
 * compatibility in one transaction, the temp file renamed into artifact_dir
 * before the commit.  RESULT_INVALID (bad image or name; *why says what),
 * RESULT_CONFLICT (same version with overlapping compatibility).  On any
 * failure no row and no file remain.
 */
enum result artifact_store(struct db *, const char *artifact_dir,
    struct upload *, int64_t *id, char *why, size_t whylen);

/* Load software id (with its compatibility rows if with_hw). */
enum result artifact_load(
    struct db *, int64_t id, bool with_hw, struct software *);
void artifact_clear(struct software *);
/* Load just the compatibility rows; the caller frees them with
 * artifact_free_hw. */
enum result artifact_load_hw(
    struct db *, int64_t id, struct swu_hw **hw, size_t *nhw);
void artifact_free_hw(struct swu_hw *hw, size_t nhw);

/* Open the artifact file read-only.  -1 if it is gone (logged). */
int artifact_open(const char *artifact_dir, const struct software *);

json_t *artifact_to_json(struct db *, const struct software *);
/* A page of software, newest first; text filters on file name or
 * version (NULL: all). */
json_t *artifact_list_json(
    struct db *, int64_t limit, int64_t offset, const char *text);

/*
 * At start-up: remove artifact files no software row names.  artifact_store
 * renames the file into place just before its commit, so a crash between
 * the two leaves such a file; its upload was never answered.
 */
void artifact_sweep(struct db *, const char *artifact_dir);

/*
 * Delete software: RESULT_CONFLICT while a rollout uses it or an update of
 * it is in progress.  Software that devices installed keeps its row (file
 * removed, deleted set) so their history stays readable.
 */
enum result artifact_delete(
    struct db *, const char *artifact_dir, int64_t id, const char **why);

#endif
