/*
 * What the /rest/v1 resources share: hawkBit's error bodies, paging,
 * sorting, FIQL filters, links and body parsing.
 */
#include "rest.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "db.h"
#include "http.h"
#include "log.h"

#define REST_EXCEPTION_PACKAGE "org.eclipse.hawkbit.repository.exception."

static void
rest_verror(struct request *req, int status, const char *exception,
    const char *code, json_t *info, const char *fmt, va_list ap)
{
	char message[HTTP_TEXT_MAX], *lossy = NULL, *cls;
	json_t *o;

	utf8_vsnprintf(message, sizeof(message), fmt, ap);
	if (!utf8_valid(message, strlen(message)))
		lossy = utf8_lossy(message);
	cls = strchr(exception, '.')
	          ? xstrdup(exception)
	          : xasprintf("%s%s", REST_EXCEPTION_PACKAGE, exception);
	/* hawkBit's ExceptionInfo, and Falconet's own two fields beside it
	 * for scripts written against /api/v1. */
	o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "exceptionClass", cls,
	    "errorCode", code, "message", lossy ? lossy : message, "error",
	    code, "detail", lossy ? lossy : message);
	if (o && info)
		json_object_set(o, "info", info);
	free(cls);
	free(lossy);
	http_reply_json(req, status, o);
}

void
rest_error(struct request *req, int status, const char *exception,
    const char *code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rest_verror(req, status, exception, code, NULL, fmt, ap);
	va_end(ap);
}

static void rest_error_info(struct request *req, int status,
    const char *exception, const char *code, json_t *info, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static void
rest_error_info(struct request *req, int status, const char *exception,
    const char *code, json_t *info, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rest_verror(req, status, exception, code, info, fmt, ap);
	va_end(ap);
	json_decref(info);
}

void
rest_not_found(struct request *req, const char *type, const char *id)
{
	int n = (int)utf8_cut(id, 256);

	rest_error_info(req, 404, "EntityNotFoundException", REST_E_NOT_FOUND,
	    json_pack("{s:s, s:s%}", "type", type, "entityId", id, (size_t)n),
	    "%s with given identifier {%.*s} does not exist.", type, n, id);
}

void
rest_not_found_id(struct request *req, const char *type, int64_t id)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%lld", (long long)id);
	rest_not_found(req, type, buf);
}

void
rest_status_error(struct request *req, int status, const char *detail)
{
	const char *exception = REST_X_GENERIC;
	const char *code = REST_E_NOT_READABLE;

	switch (status) {
	case 401:
		http_set_header(req, "WWW-Authenticate",
		    "Basic realm=\"falconet\", charset=\"UTF-8\"");
		exception = "org.springframework.security.authentication."
		            "BadCredentialsException";
		code = "hawkbit.server.error.unauthorized";
		break;
	case 403:
		exception = "InsufficientPermissionException";
		code = REST_E_FORBIDDEN;
		break;
	case 404:
		exception = "EntityNotFoundException";
		code = REST_E_NOT_FOUND;
		break;
	case 405:
		exception = "org.springframework.web."
		            "HttpRequestMethodNotSupportedException";
		code = "hawkbit.server.error.rest.methodNotAllowed";
		break;
	case 413:
		exception = REST_X_FILE_SIZE;
		code = REST_E_FILE_SIZE;
		break;
	case 415:
		exception = "org.springframework.web."
		            "HttpMediaTypeNotSupportedException";
		code = "hawkbit.server.error.rest.unsupportedMediaType";
		break;
	case 429:
		exception = "AssignmentQuotaExceededException";
		code = REST_E_QUOTA;
		break;
	default:
		if (status >= 500) {
			exception = "GenericError";
			code = REST_E_INTERNAL;
		}
	}
	rest_error(req, status, exception, code, "%s", detail);
}

void
rest_result(struct request *req, enum result r, const char *detail)
{
	switch (r) {
	case RESULT_OK:
		http_reply_empty(req, 204);
		return;
	case RESULT_NOTFOUND:
		rest_error(req, 404, "EntityNotFoundException",
		    REST_E_NOT_FOUND, "%s", detail ? detail : "Not found.");
		return;
	case RESULT_CONFLICT:
		rest_error(req, 409, "EntityAlreadyExistsException",
		    REST_E_EXISTS, "%s",
		    detail ? detail
		           : "The given entity already exists in database");
		return;
	case RESULT_INVALID:
		rest_error(req, 400, "ConstraintViolationException",
		    REST_E_CONSTRAINT, "%s",
		    detail ? detail : "The given entity cannot be saved.");
		return;
	case RESULT_GONE:
		rest_error(req, 404, "EntityNotFoundException", REST_E_DELETED,
		    "%s", detail ? detail : "Deleted.");
		return;
	default:
		rest_status_error(req, http_status_of(r),
		    detail ? detail : "The request failed.");
	}
}

struct db *
rest_db(struct request *req)
{
	struct db *db = db_thread();

	if (db == NULL)
		rest_status_error(req, 503, "The database is unavailable.");
	return db;
}

bool
rest_id(struct request *req, int i, const char *type, int64_t *id)
{
	if (i < req->nparams &&
	    parse_int64(req->params[i], 1, INT64_MAX, id) == 0)
		return true;
	rest_not_found(req, type, i < req->nparams ? req->params[i] : "");
	return false;
}

static json_t *
rest_body_json(struct request *req)
{
	json_error_t err;
	json_t *root;
	char *text;

	root =
	    json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &err);
	if (root == NULL) {
		text = utf8_lossy(err.text);
		rest_error(req, 400,
		    "org.eclipse.hawkbit.rest.exception."
		    "MessageNotReadableException",
		    REST_E_NOT_READABLE,
		    "The body is not valid JSON: line %d: %s", err.line, text);
		free(text);
	}
	return root;
}

json_t *
rest_body_array(struct request *req, size_t max)
{
	json_t *root = rest_body_json(req), *v;
	size_t i;

	if (root == NULL)
		return NULL;
	if (!json_is_array(root) || json_array_size(root) == 0 ||
	    json_array_size(root) > max) {
		rest_error(req, 400,
		    "org.eclipse.hawkbit.rest.exception."
		    "MessageNotReadableException",
		    REST_E_NOT_READABLE,
		    "The body must be a JSON array of 1 to %zu objects.", max);
		json_decref(root);
		return NULL;
	}
	json_array_foreach(root, i, v)
	{
		if (json_is_object(v))
			continue;
		rest_error(req, 400,
		    "org.eclipse.hawkbit.rest.exception."
		    "MessageNotReadableException",
		    REST_E_NOT_READABLE,
		    "Element %zu of the body is not an object.", i);
		json_decref(root);
		return NULL;
	}
	return root;
}

json_t *
rest_body_object(struct request *req)
{
	json_t *root = rest_body_json(req);

	if (root != NULL && !json_is_object(root)) {
		rest_error(req, 400,
		    "org.eclipse.hawkbit.rest.exception."
		    "MessageNotReadableException",
		    REST_E_NOT_READABLE, "The body must be a JSON object.");
		json_decref(root);
		return NULL;
	}
	return root;
}

/* A query parameter as hawkBit's PagingUtility reads it: a number, or the
 * default when absent or not a number. */
static int64_t
rest_query_number(struct request *req, const char *name, int64_t dflt)
{
	const char *v = http_query(req, name);
	int64_t n;

	if (v == NULL || parse_int64(v, INT64_MIN, INT64_MAX, &n) == -1)
		return dflt;
	return n;
}

bool
rest_page(struct request *req, struct rest_page *p)
{
	p->offset = rest_query_number(req, "offset", 0);
	p->limit = rest_query_number(req, "limit", REST_LIMIT_DEFAULT);
	if (p->offset < 0)
		p->offset = 0;
	if (p->limit < 1)
		p->limit = REST_LIMIT_DEFAULT;
	if (p->limit > REST_LIMIT_MAX)
		p->limit = REST_LIMIT_MAX;
	return true;
}

static bool
rest_sort_term(struct request *req, const struct rest_sort_field *f, size_t n,
    const char *term, size_t len, struct buf *out)
{
	const char *colon = memchr(term, ':', len);
	size_t flen = colon ? (size_t)(colon - term) : len;
	const char *dir = colon ? colon + 1 : NULL;
	size_t dlen = colon ? len - flen - 1 : 0;
	size_t i;

	while (flen && term[0] == ' ') {
		term++;
		flen--;
	}
	for (i = 0; i < n; i++)
		if (strlen(f[i].name) == flen &&
		    strncasecmp(f[i].name, term, flen) == 0)
			break;
	if (dir == NULL || flen == 0) {
		rest_error(req, 400, "SortParameterSyntaxErrorException",
		    REST_E_SORT,
		    "The sort parameter must be field:ASC or field:DESC.");
		return false;
	}
	if (i == n) {
		rest_error(req, 400, "SortParameterUnsupportedFieldException",
		    REST_E_SORT_FIELD, "The sort field %.*s is not supported.",
		    (int)utf8_cut(term, flen < 64 ? flen : 64), term);
		return false;
	}
	if (!((dlen == 3 && strncasecmp(dir, "ASC", 3) == 0) ||
	        (dlen == 4 && strncasecmp(dir, "DESC", 4) == 0))) {
		rest_error(req, 400,
		    "SortParameterUnsupportedDirectionException",
		    REST_E_SORT_DIRECTION,
		    "The sort direction must be ASC or DESC.");
		return false;
	}
	buf_adds(out, out->len ? ", " : " ORDER BY ");
	buf_adds(out, f[i].sql);
	buf_adds(out, dlen == 3 ? " ASC" : " DESC");
	return true;
}

bool
rest_sort(struct request *req, const struct rest_sort_field *f, size_t n,
    const char *dflt, const char *tiebreak, char *out, size_t outlen)
{
	const char *sort = http_query(req, "sort"), *p, *comma;
	struct buf b = {0};
	int terms = 0;
	bool ok = true;

	if (sort == NULL || sort[0] == '\0')
		sort = dflt;
	for (p = sort; ok && *p; p = comma ? comma + 1 : p + strlen(p)) {
		comma = strchr(p, ',');
		if (++terms > REST_SORT_MAX) {
			rest_error(req, 400,
			    "SortParameterSyntaxErrorException", REST_E_SORT,
			    "At most %d sort fields.", REST_SORT_MAX);
			ok = false;
			break;
		}
		ok = rest_sort_term(
		    req, f, n, p, comma ? (size_t)(comma - p) : strlen(p), &b);
	}
	if (ok && tiebreak) {
		buf_adds(&b, b.len ? ", " : " ORDER BY ");
		buf_adds(&b, tiebreak);
	}
	if (ok && b.len >= outlen) {
		rest_status_error(req, 500, "The sort order is too long.");
		ok = false;
	}
	if (ok)
		snprintf(out, outlen, "%.*s", (int)b.len, b.len ? b.data : "");
	free(b.data);
	return ok;
}

bool
rest_query(struct request *req, const struct rsql_field *fields, size_t n,
    struct rsql_query *q)
{
	const char *text = http_query(req, "q");
	char why[256];
	enum rsql_err e;

	memset(q, 0, sizeof(*q));
	if (text == NULL || text[0] == '\0')
		return true;
	if ((e = rsql_compile(text, fields, n, q, why, sizeof(why))) == RSQL_OK)
		return true;
	if (e == RSQL_ERR_FIELD)
		rest_error(req, 400, "RSQLParameterUnsupportedFieldException",
		    REST_E_RSQL_FIELD, "%s", why);
	else
		rest_error(req, 400, "RSQLParameterSyntaxException",
		    REST_E_RSQL_SYNTAX, "%s", why);
	return false;
}

void
rest_bind_query(sqlite3_stmt *st, int first, const struct rsql_query *q)
{
	db_bind_query(st, first, q);
}

sqlite3_stmt *
rest_prepare(struct db *db, const char *sql)
{
	return db_prepare_once(db, sql);
}

json_t *
rest_link(struct request *req, const char *fmt, ...)
{
	char path[1024], *href;
	va_list ap;
	json_t *o;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	href = xasprintf("%s" REST_PREFIX "%s", http_base_url(req), path);
	o = json_pack("{s:s}", "href", href);
	free(href);
	return o;
}

void
rest_add_link(json_t *o, const char *rel, json_t *link)
{
	json_t *links = json_object_get(o, "_links");

	if (links == NULL) {
		links = json_object();
		json_object_set_new(o, "_links", links);
	}
	json_object_set_new(links, rel, link);
}

json_t *
rest_paged(json_t *content, int64_t total)
{
	size_t n = json_array_size(content);

	if (content == NULL)
		return NULL;
	return json_pack("{s:o, s:I, s:I}", "content", content, "total",
	    (json_int_t)total, "size", (json_int_t)n);
}

void
rest_reply(struct request *req, int status, json_t *o)
{
	if (o == NULL)
		rest_status_error(req, 500, "The answer could not be made.");
	else
		http_reply_json(req, status, o);
}

bool
rest_is_rest_path(const char *url)
{
	size_t n = strlen(REST_PREFIX);

	return strncmp(url, REST_PREFIX, n) == 0 &&
	       (url[n] == '/' || url[n] == '\0' || url[n] == '?');
}
