/*
 * Software modules and their types (hawkBit's model): a module of a type
 * (os, application, or one an operator added) with a name, a version and
 * any number of artifacts.  Owns the software_module, sm_type and
 * sm_metadata tables.
 */
#ifndef MODULE_H
#define MODULE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "artifact.h"
#include "util.h"

struct db;
struct meta_table;

#define MODULE_NAME_MAX 128
#define MODULE_VERSION_MAX 255

struct module {
	int64_t id, type_id, created_at;
	char *type_key, *type_name;
	char *name, *version, *vendor, *description;
	bool encrypted, deleted;
	struct artifact *artifacts; /* with_artifacts only */
	size_t nartifacts;
};

enum result module_load(
    struct db *, int64_t id, bool with_artifacts, struct module *);
void module_clear(struct module *);

/* The id of the module type with this key (deleted types excluded). */
enum result module_type_find(struct db *, const char *key, int64_t *id);

/*
 * Inside the caller's transaction: a new module.  RESULT_CONFLICT when
 * (type, name, version) is taken, deleted modules included.
 */
enum result module_create(struct db *, int64_t type_id, const char *name,
    const char *version, const char *vendor, const char *description,
    int64_t *id);

/* Inside the caller's transaction: mark the module's artifacts as
 * encrypted for devices (chunks[].encrypted). */
enum result module_set_encrypted(struct db *, int64_t id);

/* The module with its artifacts (artifact_to_json each). */
json_t *module_to_json(const struct module *);

/* Its metadata as [{key, value}], only the target-visible entries when
 * visible_only (what deploymentBase sends); NULL when there are none. */
json_t *module_metadata_json(struct db *, int64_t id, bool visible_only);

/* The operator's view: module_to_json with its metadata (with the
 * target_visible flags), the live sets holding it and whether it is
 * locked. */
json_t *module_detail_json(struct db *, const struct module *);
/* A page of live modules, newest first; text filters on name or version,
 * type on the type key (NULL: all).  Under key "modules". */
json_t *module_list_json(struct db *, int64_t limit, int64_t offset,
    const char *text, const char *type);

/*
 * A module is locked once a device was given a set holding it: its
 * artifacts then stay as they are (make a new module instead).
 */
bool module_locked(struct db *, int64_t id);

/* Inside the caller's transaction: replace the module's metadata with
 * `meta`, an array of {key, value, target_visible?} (meta.h).
 * RESULT_INVALID with *why on a bad entry. */
enum result module_set_metadata(
    struct db *, int64_t id, json_t *meta, const char **why);

/* NULL if body's vendor and description (if any) are within bounds,
 * else why not. */
const char *module_text_check(json_t *body);

/* Patch vendor, description or metadata (other fields are not changed). */
enum result module_patch(
    struct db *, int64_t id, json_t *body, const char **why);

/*
 * Delete a module: RESULT_CONFLICT while a live set holds it.  One a
 * device was ever given (through a set) keeps its row as deleted, its
 * name and version still taken; its files are removed either way.
 */
enum result module_delete(
    struct db *, const char *artifact_dir, int64_t id, const char **why);

/* Module types. */
json_t *module_types_json(struct db *);
/* A type key: 1 to 64 of [a-z0-9_.-]. */
bool module_type_key_valid(const char *);
enum result module_type_create(
    struct db *, json_t *body, int64_t *id, const char **why);
enum result module_type_delete(struct db *, int64_t id, const char **why);

/* The statements of sm_metadata (meta.h). */
extern const struct meta_table module_meta_table;

#endif
