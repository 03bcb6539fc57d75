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

#endif
