/*
 * Distribution sets: what devices are offered.  A set has a name, a
 * version (ordered by its version scheme), a type listing the module types
 * it must and may hold, its modules, hardware compatibility, and is
 * complete once its mandatory module types are there.  Owns the
 * distribution_set, ds_type, ds_type_element, ds_module, ds_hw and
 * ds_metadata tables.
 */
#ifndef DIST_H
#define DIST_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "module.h"
#include "swu.h"
#include "util.h"

struct db;
struct meta_table;

#define DIST_MODULES_MAX 64

struct dist {
	int64_t id, type_id, created_at;
	char *name, *version, *description, *type_key;
	char *version_scheme;  /* "swupdate", "semver" or "none" */
	char *rauc_compatible; /* a RAUC bundle's compatible, or NULL */
	bool complete, deleted, required_migration;
	struct swu_hw *hw; /* with_hw only; see policy_compatible */
	size_t nhw;
};

enum result dist_load(struct db *, int64_t id, bool with_hw, struct dist *);
void dist_clear(struct dist *);
enum result dist_load_hw(
    struct db *, int64_t id, struct swu_hw **hw, size_t *nhw);
void dist_free_hw(struct swu_hw *hw, size_t nhw);

/* The set's modules with their artifacts, in chunk order (os first, then
 * by module type and id). */
enum result dist_modules(
    struct db *, int64_t id, struct module **out, size_t *n);
void dist_free_modules(struct module *, size_t n);

/* The id of the set type with this key (deleted types excluded). */
enum result dist_type_find(struct db *, const char *key, int64_t *id);

/* Is there a set of an equal version whose compatibility overlaps hw?
 * RESULT_CONFLICT with *other its id. */
enum result dist_conflicts(struct db *, const char *version,
    const struct swu_hw *hw, size_t nhw, int64_t *other);

/* Inside the caller's transaction: a new set with its compatibility rows
 * (d's id, created_at and complete are ignored). */
enum result dist_insert(struct db *, const struct dist *d, int64_t *id);
/* Inside the caller's transaction: add a module to a set. */
enum result dist_add_module(struct db *, int64_t id, int64_t module_id);
/* Inside the caller's transaction: recompute the complete flag. */
enum result dist_update_complete(struct db *, int64_t id);

/*
 * The operator's view of a set.  Besides the set's own fields it carries,
 * for scripts written against /api/v1/software, the file name, size,
 * hashes and signed flag of its first artifact, and the ids of the
 * rollouts that use it.
 */
json_t *dist_to_json(struct db *, const struct dist *);
/* A page of sets, newest first; text filters on name, file name or
 * version (NULL: all).  The list is under key `key`. */
json_t *dist_list_json(struct db *, const char *key, int64_t limit,
    int64_t offset, const char *text);

/*
 * A set is locked once a device was given it: its modules and
 * compatibility stay as they are.
 */
bool dist_locked(struct db *, int64_t id);

/*
 * Create a set by hand from a JSON body: name, version (both required),
 * type (default os_app), description, modules [ids], compatibility
 * [{board, revision, regex}], version_scheme (swupdate, semver or none;
 * default swupdate), rauc_compatible, metadata [{key, value}].  The
 * modules must be live, of types the set type admits, and within each
 * module type's max_assignments.  RESULT_INVALID or RESULT_CONFLICT (name
 * and version taken, deleted sets included) with *why.
 */
enum result dist_create(
    struct db *, json_t *body, int64_t *id, const char **why);
/* Patch the same fields but type; modules and compatibility only while
 * the set is not locked. */
enum result dist_patch(struct db *, int64_t id, json_t *body, const char **why);
/* hawkBit's requiredMigrationStep of a set. */
enum result dist_set_required_migration(struct db *, int64_t id, bool on);
json_t *dist_metadata_json(struct db *, int64_t id);

/* Set types: [{id, key, name, description, mandatory [keys], optional
 * [keys]}] under "types". */
json_t *dist_types_json(struct db *);
enum result dist_type_create(
    struct db *, json_t *body, int64_t *id, const char **why);
enum result dist_type_delete(struct db *, int64_t id, const char **why);

/*
 * Delete a set: RESULT_CONFLICT while a rollout uses it or an update of it
 * is in progress.  A set any device was ever given keeps its row
 * (deleted set, hidden from lists, kept in device history).  Its modules
 * that no other set holds go with it, the same way, and their files are
 * removed.
 */
enum result dist_delete(
    struct db *, const char *artifact_dir, int64_t id, const char **why);
/* dist_delete, leaving the set's modules alone when keep_modules (as
 * hawkBit deletes a set). */
enum result dist_delete_set(struct db *, const char *artifact_dir, int64_t id,
    bool keep_modules, const char **why);

/* The statements of ds_metadata (meta.h). */
extern const struct meta_table dist_meta_table;

#endif
