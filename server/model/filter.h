/*
 * Saved target filters: a name and a FIQL query over devices (the fields
 * of a rollout's target filter, wave.c), for rollouts to take as theirs.
 * Owns the target_filter table.
 */
#ifndef FILTER_H
#define FILTER_H

#include <jansson.h>
#include <stdint.h>

#include "rsql.h"
#include "util.h"

struct db;

#define FILTER_NAME_MAX 128

struct target_filter {
	int64_t id, created_at, modified_at;
	char *name, *query, *created_by, *modified_by;
};

/* RESULT_INVALID with *why for a bad name or query, RESULT_CONFLICT for a
 * name taken.  by: who (for created_by / modified_by). */
enum result filter_create(struct db *, const char *name, const char *query,
    const char *by, int64_t *id, const char **why);
/* name or query NULL: unchanged. */
enum result filter_update(struct db *, int64_t id, const char *name,
    const char *query, const char *by, const char **why);
enum result filter_delete(struct db *, int64_t id);
enum result filter_load(struct db *, int64_t id, struct target_filter *);
void filter_clear(struct target_filter *);
/* The fields a list of filters may be filtered on (FIQL): id, name,
 * query. */
extern const struct rsql_field filter_fields[];
extern const size_t nfilter_fields;
/* A page by id, and how many match q (a compiled filter over
 * filter_fields, NULL: all). */
struct rsql_query;
enum result filter_list(struct db *, const struct rsql_query *q, int64_t limit,
    int64_t offset, struct target_filter **out, size_t *n, int64_t *total);
void filter_list_free(struct target_filter *, size_t n);

#endif
