/*
 * hawkBit's Management API under /rest/v1: what every resource shares.
 * Errors are hawkBit's ExceptionInfo ({"exceptionClass", "errorCode",
 * "message"}, plus Falconet's "error" and "detail"), lists are paged as
 * {"content", "total", "size"} with offset, limit, sort and q, and links
 * are absolute URLs built from the request (http_base_url).
 */
#ifndef REST_H
#define REST_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rsql.h"
#include "util.h"

struct db;
struct request;

#define REST_PREFIX "/rest/v1"
#define REST_LIMIT_DEFAULT 50 /* hawkBit's PagingUtility */
#define REST_LIMIT_MAX 500
#define REST_SORT_MAX 8 /* fields in one sort= */

/* hawkBit's error codes (SpServerError) the resources answer with. */
#define REST_E_NOT_FOUND "hawkbit.server.error.repo.entityNotFound"
#define REST_E_EXISTS "hawkbit.server.error.repo.entityAlreadyExists"
#define REST_E_NOT_READABLE "hawkbit.server.error.rest.body.notReadable"
#define REST_E_CONSTRAINT "hawkbit.server.error.repo.constraintViolation"
#define REST_E_LOCKED "hawkbit.server.error.locked"
#define REST_E_DELETED "hawkbit.server.error.deleted"
#define REST_E_SORT "hawkbit.server.error.rest.param.sortParamSyntax"
#define REST_E_SORT_FIELD "hawkbit.server.error.rest.param.invalidField"
#define REST_E_SORT_DIRECTION "hawkbit.server.error.rest.param.invalidDirection"
#define REST_E_RSQL_SYNTAX "hawkbit.server.error.rest.param.rsqlParamSyntax"
#define REST_E_RSQL_FIELD "hawkbit.server.error.rest.param.rsqlInvalidField"
#define REST_E_QUOTA "hawkbit.server.error.quota.tooManyEntries"
#define REST_E_FORBIDDEN "hawkbit.server.error.insufficientPermission"
#define REST_E_NOT_CANCELABLE "hawkbit.server.error.action.notCancelable"
#define REST_E_NOT_FORCE_QUITABLE "hawkbit.server.error.action.notForceQuitable"
#define REST_E_DS_INCOMPLETE "hawkbit.server.error.distributionset.incomplete"
#define REST_E_DS_UNSUPPORTED                                                  \
	"hawkbit.server.error.distributionset.modules.unsupported"
#define REST_E_CONFIG_KEY "hawkbit.server.error.configKeyInvalid"
#define REST_E_CONFIG_VALUE "hawkbit.server.error.configValueInvalid"
#define REST_E_SCHEDULE "hawkbit.server.error.maintenanceScheduleInvalid"
#define REST_E_UPLOAD "hawkbit.server.error.artifact.uploadFailed"
#define REST_E_ROLLOUT_STATE "hawkbit.server.error.rollout.illegalState"
#define REST_E_INTERNAL "hawkbit.server.error.repo.genericError"
#define REST_E_FILE_SIZE "hawkbit.server.error.quota.fileSizeExceeded"
/* exceptionClass values used beyond one file */
#define REST_X_GENERIC "org.eclipse.hawkbit.exception.GenericError"
#define REST_X_FILE_SIZE                                                       \
	"org.eclipse.hawkbit.repository.exception."                            \
	"FileSizeQuotaExceededException"

/*
 * Answer an error in hawkBit's shape.  exception is the Java class's
 * simple name ("EntityNotFoundException"); the package hawkBit's
 * clients see in front of it is added here.
 */
void rest_error(struct request *, int status, const char *exception,
    const char *code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* 404 "<type> with given identifier {<id>} does not exist." with info. */
void rest_not_found(struct request *, const char *type, const char *id);
/* 404 for an id given as a number. */
void rest_not_found_id(struct request *, const char *type, int64_t id);
/* The error for an HTTP status the HTTP layer answers itself (no route,
 * wrong method, credentials, body too big, ...). */
void rest_status_error(struct request *, int status, const char *detail);
/* Map a domain result (RESULT_NOTFOUND, RESULT_CONFLICT, ...) to its
 * hawkBit error with detail as the message. */
void rest_result(struct request *, enum result, const char *detail);

/* This thread's database, or a 503 answer and NULL. */
struct db *rest_db(struct request *);
/* The positive number in params[i], or a 404 answer for type and false. */
bool rest_id(struct request *, int i, const char *type, int64_t *id);

/*
 * The body as JSON: an array of objects (rest_body_array, the creates)
 * or one object (rest_body_object).  A 400 notReadable answer and NULL
 * otherwise, or when the array is empty or longer than max.  The caller
 * json_decrefs the result.
 */
json_t *rest_body_array(struct request *, size_t max);
json_t *rest_body_object(struct request *);

/* offset (from 0) and limit (1..REST_LIMIT_MAX, default 50) as hawkBit
 * reads them: out-of-range values are clamped, never refused. */
struct rest_page {
	int64_t offset, limit;
};
bool rest_page(struct request *, struct rest_page *);

/* A field a list sorts by: its name in sort= (any case) and the SQL. */
struct rest_sort_field {
	const char *name;
	const char *sql;
};
/*
 * sort=field:ASC|DESC[,field:DIR...] as " ORDER BY ..." in out, the
 * default when absent; a unique tie-breaker (tiebreak, say "id") ends
 * every order so that pages never overlap.  A 400 answer and false for
 * an unknown field, direction or syntax.
 */
bool rest_sort(struct request *, const struct rest_sort_field *, size_t n,
    const char *dflt, const char *tiebreak, char *out, size_t outlen);
/*
 * q= compiled against fields into *q (q->sql NULL when absent).  A 400
 * answer with hawkBit's rsql codes and false when it does not compile.
 * Bind with rest_bind_query from column first on; free with
 * rsql_query_free.
 */
bool rest_query(struct request *, const struct rsql_field *, size_t n,
    struct rsql_query *q);
void rest_bind_query(sqlite3_stmt *, int first, const struct rsql_query *);
/* A statement for SQL built at run time (a filter, an order): prepared
 * for this one use, finalized by the caller; NULL (logged) on error.
 * Literal SQL goes through db_prepare's cache instead. */
sqlite3_stmt *rest_prepare(struct db *, const char *sql);

/* {"href": "<base>/rest/v1<path>"} (path printf-formatted). */
json_t *rest_link(struct request *, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Set o["_links"][rel] = link (link consumed). */
void rest_add_link(json_t *o, const char *rel, json_t *link);
/* {"content": content, "total": total, "size": len(content)}. */
json_t *rest_paged(json_t *content, int64_t total);

/* Answer o with status, or 500 if o is NULL (a failed query or pack). */
void rest_reply(struct request *, int status, json_t *o);

/* Is the request one for /rest/v1 (its errors take hawkBit's shape)? */
bool rest_is_rest_path(const char *url);

#endif
