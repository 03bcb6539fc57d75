/*
 * Metadata: the key/value lists operators attach to modules, distribution
 * sets and devices, as JSON arrays [{key, value[, target_visible]}].  Each
 * owner keeps its rows in a table of its own; the callers pass the
 * statements (string literals, see db_prepare).
 */
#ifndef META_H
#define META_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "util.h"

struct db;

#define META_MAX 100
#define META_KEY_MAX 128
#define META_VALUE_MAX 4000

/* NULL if meta is a valid list (entries may carry target_visible when
 * visible), else why not. */
const char *meta_check(json_t *meta, bool visible);

/*
 * Inside the caller's transaction: check meta, then run clear_sql (?1 the
 * owner) and insert_sql (?1 owner, ?2 key, ?3 value, ?4 target_visible
 * when visible) for each entry.  RESULT_INVALID with *why on a bad list.
 */
enum result meta_replace(struct db *, int64_t owner, json_t *meta, bool visible,
    const char *clear_sql, const char *insert_sql, const char **why);

/* The rows select_sql (?1 the owner; columns key, value[, visible])
 * returns, as a list. */
json_t *meta_json(
    struct db *, int64_t owner, bool visible, const char *select_sql);

/*
 * One owner's metadata table for the single-entry calls of hawkBit's
 * Management API.  Statements (literals): count (?1 owner), page (?1
 * owner, ?2 limit, ?3 offset; columns key, value), get (?1 owner, ?2
 * key; column value), insert, update (?1 owner, ?2 key, ?3 value) and
 * remove (?1 owner, ?2 key).
 */
struct meta_table {
	const char *count, *page, *get, *insert, *update, *remove;
};

/* A page of [{key, value}] and the total count in *total. */
json_t *meta_page_json(struct db *, const struct meta_table *, int64_t owner,
    int64_t limit, int64_t offset, int64_t *total);
/* The value of key (malloc'd) or NULL: RESULT_NOTFOUND or RESULT_ERROR in
 * *r. */
char *meta_get(struct db *, const struct meta_table *, int64_t owner,
    const char *key, enum result *r);
/* Inside the caller's transaction: add key (RESULT_CONFLICT if there,
 * RESULT_INVALID with *why past META_MAX entries or bounds). */
enum result meta_add(struct db *, const struct meta_table *, int64_t owner,
    const char *key, const char *value, const char **why);
/* Change or remove one entry: RESULT_NOTFOUND if there is none. */
enum result meta_set(struct db *, const struct meta_table *, int64_t owner,
    const char *key, const char *value, const char **why);
enum result meta_remove(
    struct db *, const struct meta_table *, int64_t owner, const char *key);

#endif
