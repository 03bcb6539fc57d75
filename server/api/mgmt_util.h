/*
 * Helpers shared by the management API handlers: strict body parsing,
 * id parameters and common replies.
 */
#ifndef MGMT_UTIL_H
#define MGMT_UTIL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct db;
struct request;

/* A body field: its name and the JSON types it may take. */
struct field {
	const char *name;
	unsigned types;
};

#define T_STR (1u << JSON_STRING)
#define T_INT (1u << JSON_INTEGER)
#define T_BOOL ((1u << JSON_TRUE) | (1u << JSON_FALSE))
#define T_NULL (1u << JSON_NULL)
#define T_ARRAY (1u << JSON_ARRAY)
#define T_OBJECT (1u << JSON_OBJECT)

/*
 * Parse the request body as a JSON object whose keys are all in fields
 * with the listed types.  Replies 400 and returns NULL otherwise; the
 * caller json_decrefs the result.
 */
json_t *mgmt_body(struct request *, const struct field *, size_t);
/* This thread's database, or a 503 reply and NULL. */
struct db *mgmt_db(struct request *);
/* A positive numeric id from params[0], or a 404 reply and false. */
bool mgmt_id(struct request *, int64_t *id);
/* 500 if o is NULL (a query or json_pack failed), else o with status. */
void mgmt_reply_object(struct request *, int status, json_t *o);
/* Overwrite a secret held in a JSON string (accepts NULL). */
void mgmt_wipe_string(json_t *);
/* One user as JSON, or NULL. */
json_t *mgmt_user_json(struct db *, const char *username);
/* An integer query parameter in [min, max] (dflt if absent); replies 400
 * and returns false if it is malformed. */
bool mgmt_query_int(struct request *, const char *name, int64_t min,
    int64_t max, int64_t dflt, int64_t *out);
/* The most items one list page (or one bulk request) may hold. */
#define MGMT_PAGE_MAX 1000

/* The paging parameters of a list: limit in [1, MGMT_PAGE_MAX] (dflt if
 * absent) and offset from 0; replies 400 and returns false if malformed. */
bool mgmt_query_page(
    struct request *, int64_t dflt, int64_t *limit, int64_t *offset);

/*
 * Finish the request's upload: its file name from ?filename= when given,
 * then flushed and hashed.  Replies 400 (empty body), 507 or 500 and
 * returns false when it cannot be used.
 */
bool mgmt_upload_finish(struct request *);
/* Take field alias as another name of field name: copied over, unless
 * both are given with different values (a 400 reply and false). */
bool mgmt_alias(
    struct request *, json_t *body, const char *name, const char *alias);
/* The answer to a delete: 204, or the result's status with why (else
 * notfound for RESULT_NOTFOUND). */
void mgmt_reply_deleted(
    struct request *, enum result, const char *why, const char *notfound);
/* A second positive numeric id from params[1], or a 404 reply. */
bool mgmt_id2(struct request *, int64_t *id);

/* Is v NULL or one of the NULL-terminated names? */
bool mgmt_one_of(const char *v, const char *const *names);

#endif
