/*
 * libFuzzer target for request bodies and credential headers through the
 * real handlers: every route that takes a JSON body (the management API's
 * users, tokens, devices, bulk, rollouts, login, set-up, password, the
 * DDI's feedback and configData, and /rest/v1's targets, software modules,
 * sets, their types and metadata), on a real database.
 *
 * Input: byte 0 picks the route, byte 1 the path ids and whether the next
 * line is the Authorization header (else a valid one is sent); the rest is
 * the body.  The HTTP layer below stands in for http.c, so no socket is
 * involved; it checks that every request gets exactly one answer and that
 * no answer is a 5xx: bad input must be a 4xx.  Every answer is built as
 * http.c builds it: JSON bodies must serialise to valid UTF-8 that parses
 * again, and error texts must be valid UTF-8 as the handler wrote them
 * (a byte cap that splits a character fails here, though http.c would
 * repair it) and pack into their JSON body once cut to HTTP_TEXT_MAX on a
 * character boundary.  After each input, the rows the handlers stored
 * (action log and history, the newest audit entry) must be valid UTF-8
 * and all of them must show in the JSON built from them: none dropped.
 * The database is restored to its seeded state after every input that
 * changed it, so runs do not depend on their order.
 */
#include <sqlite3.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "action.h"
#include "app.h"
#include "audit.h"
#include "auth.h"
#include "db.h"
#include "device.h"
#include "http.h"
#include "log.h"
#include "migrate.h"
#include "ratelimit.h"
#include "route.h"
#include "settings.h"
#include "user.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The request's headers, as the fake layer serves them. */
static const char *fake_authz;
static char admin_authz[64];

/* ---- the HTTP layer, without libmicrohttpd ---- */

/* An answer's JSON text: valid UTF-8 that parses as JSON. */
static void
fake_check_text(struct request *req, const char *text, size_t len)
{
	json_t *j;

	if (!utf8_valid(text, len) ||
	    (j = json_loadb(text, len, 0, NULL)) == NULL) {
		fprintf(stderr, "%s %s: the answer is not JSON in UTF-8\n",
		    req->method, req->url);
		abort();
	}
	json_decref(j);
}

static void
fake_answer(struct request *req, int status)
{
	if (req->replied) {
		fprintf(
		    stderr, "%s %s answered twice\n", req->method, req->url);
		abort();
	}
	if (status >= 500) {
		fprintf(stderr, "%s %s answered %d\n", req->method, req->url,
		    status);
		abort();
	}
	req->replied = true;
	req->status = status;
}

const char *
http_header(struct request *req, const char *name)
{
	(void)req;
	if (strcasecmp(name, "Authorization") == 0)
		return fake_authz;
	if (strcasecmp(name, "Content-Type") == 0)
		return "application/json";
	return NULL;
}

const char *
http_query(struct request *req, const char *name)
{
	(void)req;
	(void)name;
	return NULL;
}

/* The multipart fields of uploads: no upload route is fuzzed here. */
const char *
http_form(struct request *req, const char *name)
{
	(void)req;
	(void)name;
	return NULL;
}

const char *
http_base_url(struct request *req)
{
	(void)req;
	return "http://127.0.0.1:8080";
}

const char *
http_cookie(struct request *req, const char *name)
{
	(void)req;
	(void)name;
	return NULL;
}

bool
http_is_https(struct request *req)
{
	(void)req;
	return false;
}

void
http_set_header(struct request *req, const char *name, const char *value)
{
	if (req->nheaders >= HTTP_HEADERS_MAX)
		abort(); /* a handler set more headers than the layer holds */
	req->headers[req->nheaders].name = name;
	req->headers[req->nheaders++].value = xstrdup(value);
}

void
http_reply_json(struct request *req, int status, json_t *body)
{
	char *s;

	if (body == NULL) {
		fake_answer(req, 500);
		return;
	}
	/* Serialise as the real layer does: the answer must be valid JSON,
	 * in valid UTF-8. */
	if ((s = json_dumps(body, JSON_COMPACT)) == NULL)
		abort();
	fake_check_text(req, s, strlen(s));
	free(s);
	json_decref(body);
	fake_answer(req, status);
}

/* A body written by hand must parse as JSON. */
void
http_reply_json_text(struct request *req, int status, char *text, size_t len)
{
	fake_check_text(req, text, len);
	free(text);
	fake_answer(req, status);
}

/*
 * An error answer, built as http.c builds it: the text formatted (so a bad
 * format or argument shows under the sanitizers), cut to HTTP_TEXT_MAX on
 * a character boundary and packed into the management or the DDI error
 * body.  The handler's text must be valid UTF-8 before the cut.
 */
static void
fake_error(struct request *req, int status, bool ddi, const char *code,
    const char *fmt, va_list ap)
{
	json_t *body;
	char *text, *s;

	if (vasprintf(&text, fmt, ap) < 0)
		abort();
	if (!utf8_valid(text, strlen(text))) {
		fprintf(stderr, "%s %s: the error text is not UTF-8: %s\n",
		    req->method, req->url, text);
		abort();
	}
	text[utf8_cut(text, HTTP_TEXT_MAX - 1)] = '\0';
	body = ddi ? json_pack("{s:s, s:s}", "errorCode", code ? code : "x",
	                 "message", text)
	           : json_pack("{s:s, s:s}", "error", code ? code : "error",
	                 "detail", text);
	if (body == NULL || (s = json_dumps(body, JSON_COMPACT)) == NULL) {
		fprintf(stderr, "%s %s: no JSON body for the error text %s\n",
		    req->method, req->url, text);
		abort();
	}
	fake_check_text(req, s, strlen(s));
	free(s);
	json_decref(body);
	free(text);
	fake_answer(req, status);
}

void
http_reply_error(
    struct request *req, int status, const char *code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fake_error(req, status, false, code, fmt, ap);
	va_end(ap);
}

int
http_status_of(enum result r)
{
	switch (r) {
	case RESULT_OK:
		return 200;
	case RESULT_NOTFOUND:
		return 404;
	case RESULT_INVALID:
		return 400;
	case RESULT_CONFLICT:
		return 409;
	case RESULT_GONE:
		return 410;
	case RESULT_ERROR:
		break;
	}
	return 500;
}

void
http_reply_result(struct request *req, enum result r, const char *detail)
{
	http_reply_error(
	    req, http_status_of(r), NULL, "%s", detail ? detail : "error");
}

void
http_reply_ddi_error(
    struct request *req, int status, const char *code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fake_error(req, status, true, code, fmt, ap);
	va_end(ap);
}

void
http_reply_empty(struct request *req, int status)
{
	fake_answer(req, status);
}

void
http_reply_text(
    struct request *req, int status, const char *ctype, const char *text)
{
	(void)ctype;
	(void)text;
	fake_answer(req, status);
}

void
http_reply_fd(struct request *req, int status, int fd, uint64_t offset,
    uint64_t len, const char *ctype)
{
	(void)offset;
	(void)len;
	(void)ctype;
	close(fd);
	fake_answer(req, status);
}

void
http_reply_events(struct request *req, int64_t device_id)
{
	(void)device_id;
	fake_answer(req, 200);
}

/* ---- the database, seeded once and restored before every input ---- */

static struct settings settings;
static struct app app;
static sqlite3 *pristine; /* in-memory copy of the seeded database */
static bool dirty;        /* the last input's handler changed rows */
static const struct route *body_routes[64];
static size_t nbody_routes;

static const char seed_sql[] =
    "INSERT INTO software_module (id, sm_type_id, name, version, created_at)"
    " VALUES (1, 1, 'a', '1.0.0', 1), (2, 1, 'b', '2.0.0', 2);"
    "INSERT INTO artifact (id, module_id, filename, size, md5, sha1, sha256,"
    " format, created_at) VALUES"
    " (1, 1, 'a.swu', 10, 'x', 'x', 'x', 'swu', 1),"
    " (2, 2, 'b.swu', 10, 'x', 'x', 'x', 'swu', 2);"
    "INSERT INTO distribution_set (id, name, version, ds_type_id, complete,"
    " created_at) VALUES (1, 'a', '1.0.0', 1, 1, 1), (2, 'b', '2.0.0', 1, 1,"
    " 2);"
    "INSERT INTO ds_module (ds_id, module_id) VALUES (1, 1), (2, 2);"
    "INSERT INTO ds_hw (ds_id, board, revision) VALUES"
    " (1, 'board', '1.0'), (2, 'board', NULL);"
    "INSERT INTO rollout (id, name, feed, ds_id, created_at) VALUES"
    " (1, 'r1', 'default', 2, 3);"
    "INSERT INTO device (id, controller_id, hw_model, hw_revision,"
    " installed_version, created_at) VALUES"
    " (1, 'dev1', 'board', '1.0', '1.0.0', 1), (2, 'dev2', NULL, NULL, NULL, "
    "1);"
    "INSERT INTO action (id, device_id, ds_id, rollout_id, status, "
    "updated_at,"
    " created_at) VALUES (1, 1, 2, 1, 'running', 4, 4),"
    " (2, 2, 1, NULL, 'canceling', 5, 5);";

static char data_dir[64];

/* Remove the data directory at exit (the database and its WAL files). */
static void
fuzz_cleanup(void)
{
	static const char *const names[] = {
	    "falconet.db", "falconet.db-wal", "falconet.db-shm"};
	char path[128];

	db_thread_close();
	for (size_t i = 0; i < NELEM(names); i++) {
		snprintf(path, sizeof(path), "%s/%s", data_dir, names[i]);
		unlink(path);
	}
	rmdir(data_dir);
}

static void
fuzz_init(void)
{
	char *dir = data_dir, token[AUTH_TOKEN_LEN + 1];
	struct db *db;
	sqlite3_backup *b;
	json_t *grants;
	int64_t uid;

	log_init(LOG_LVL_ERROR, false); /* handlers log warnings on bad input */
	/* A memory file system when there is one: every input writes. */
	snprintf(data_dir, sizeof(data_dir), "/dev/shm/fuzz-api-XXXXXX");
	if (mkdtemp(data_dir) == NULL) {
		snprintf(data_dir, sizeof(data_dir), "/tmp/fuzz-api-XXXXXX");
		if (mkdtemp(data_dir) == NULL)
			abort();
	}
	atexit(fuzz_cleanup);
	settings_defaults(&settings);
	snprintf(settings.data_dir, sizeof(settings.data_dir), "%s", dir);
	settings.argon2_memory_kib = 8; /* argon2's least: not what is fuzzed */
	settings.argon2_iterations = 1;
	settings.device_auth = DEVICE_AUTH_TOFU;
	settings.register_rate = 1000000; /* every input comes from one peer */
	app.settings = &settings;
	snprintf(app.db_path, sizeof(app.db_path), "%s/falconet.db", dir);
	snprintf(
	    app.artifact_dir, sizeof(app.artifact_dir), "%s/artifacts", dir);
	snprintf(app.tmp_dir, sizeof(app.tmp_dir), "%s/tmp", dir);
	snprintf(app.setup_token, sizeof(app.setup_token), "%s",
	    "0123456789abcdef0123456789abcdef");
	app.login_limits = ratelimit_new(64);
	app.register_limits = ratelimit_new(64);
	app.register_tally = device_tally_new();
	app.cores = 1;
	db_set_path(app.db_path);
	if ((db = db_thread()) == NULL || migrate_run(db) == -1 ||
	    db_exec(db, seed_sql) == -1 ||
	    auth_token_create(db, "fuzz", token) != RESULT_OK)
		abort();
	grants = json_pack("[s]", "device.*");
	if (user_create(db, &settings, "fuzz", "fuzz-password", grants, false,
	        &uid) != RESULT_OK)
		abort();
	json_decref(grants);
	snprintf(admin_authz, sizeof(admin_authz), "Bearer %s", token);
	if (sqlite3_open(":memory:", &pristine) != SQLITE_OK ||
	    (b = sqlite3_backup_init(
	         pristine, "main", db_handle(db), "main")) == NULL)
		abort();
	sqlite3_backup_step(b, -1);
	if (sqlite3_backup_finish(b) != SQLITE_OK)
		abort();
	for (size_t i = 0; i < nroutes; i++)
		if (routes[i].body == BODY_JSON &&
		    nbody_routes < NELEM(body_routes))
			body_routes[nbody_routes++] = &routes[i];
}

static void
fuzz_restore(void)
{
	sqlite3_backup *b;

	b = sqlite3_backup_init(
	    db_handle(db_thread()), "main", pristine, "main");
	if (b == NULL)
		abort();
	sqlite3_backup_step(b, -1);
	if (sqlite3_backup_finish(b) != SQLITE_OK)
		abort();
}

/* Column 0 of every row of sql: an integer, or -1 for no row. */
static int64_t
fuzz_int(sqlite3 *h, const char *sql, int64_t id)
{
	sqlite3_stmt *st;
	int64_t v = -1;

	if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK)
		abort();
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* Every text sql selects is valid UTF-8 (jansson would refuse it). */
static void
fuzz_check_texts(sqlite3 *h, const char *sql)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK)
		abort();
	while (sqlite3_step(st) == SQLITE_ROW)
		for (int i = 0; i < sqlite3_column_count(st); i++) {
			const char *t =
			    (const char *)sqlite3_column_text(st, i);

			if (t && !utf8_valid(t, strlen(t))) {
				fprintf(stderr,
				    "%s: a stored text is not "
				    "UTF-8: %s\n",
				    sql, t);
				abort();
			}
		}
	sqlite3_finalize(st);
}

/*
 * The rows handlers store are valid UTF-8 and every one of them shows in
 * the API's JSON: an action's log and history, and the newest audit entry
 * (which every input with an audit name writes).
 */
static void
fuzz_check_rows(struct db *db, bool actions)
{
	sqlite3 *h = db_handle(db);
	json_t *j;

	fuzz_check_texts(h, "SELECT actor, address, action, target FROM "
	                    "audit ORDER BY id DESC LIMIT 1");
	j = audit_list_json(db, &(struct audit_query){.limit = 1});
	if (j == NULL ||
	    json_array_size(json_object_get(j, "entries")) !=
	        (json_integer_value(json_object_get(j, "total")) > 0 ? 1u : 0u))
		abort(); /* the newest audit entry left out */
	json_decref(j);
	if (!actions)
		return;
	fuzz_check_texts(h, "SELECT line FROM action_log");
	fuzz_check_texts(h, "SELECT message FROM action_status");
	for (int64_t id = 1; id <= 2; id++) {
		if (fuzz_int(h, "SELECT id FROM action WHERE id = ?1", id) < 0)
			continue; /* the device was deleted */
		/* The newest page of each, and the counts the action keeps
		 * agree with the rows. */
		int64_t nlog = fuzz_int(h,
		    "SELECT count(*) FROM action_log WHERE action_id = ?1", id);
		int64_t nhist = fuzz_int(h,
		    "SELECT count(*) FROM action_status WHERE action_id = ?1",
		    id);

		if ((j = action_to_json(db, id, true)) == NULL ||
		    (int64_t)json_array_size(json_object_get(j, "log")) !=
		        (nlog < ACTION_PAGE_DEFAULT ? nlog
		                                    : ACTION_PAGE_DEFAULT) ||
		    (int64_t)json_array_size(json_object_get(j, "history")) !=
		        (nhist < ACTION_PAGE_DEFAULT ? nhist
		                                     : ACTION_PAGE_DEFAULT) ||
		    json_integer_value(json_object_get(j, "log_count")) !=
		        nlog ||
		    json_integer_value(json_object_get(j, "history_count")) !=
		        nhist)
			abort(); /* a row left out of the action's JSON */
		json_decref(j);
	}
}

/* The route's pattern with its {captures} filled in, into req. */
static void
fuzz_fill_params(struct request *req, uint8_t pick)
{
	static const char *const ids[] = {"1", "2", "999"};
	static const char *const users[] = {"fuzz", "nobody"};
	const char *p = req->route->pattern;

	req->nparams = 0;
	while ((p = strchr(p, '{')) != NULL && req->nparams < HTTP_PARAMS_MAX) {
		const char *v;

		if (strncmp(p, "{tenant}", 8) == 0)
			v = pick & 0x10 ? "other" : "DEFAULT";
		else if (strncmp(p, "{cid}", 5) == 0)
			v = pick & 0x20 ? "dev2" : "dev1";
		else if (strncmp(p, "{name}", 6) == 0)
			v = users[(pick >> 1) & 1];
		else
			v = ids[((pick >> 2) & 3) % 3];
		req->params[req->nparams++] = xstrdup(v);
		p++;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	static int since_restore;
	struct request req;
	const char *body, *nl;
	char *authz = NULL;
	size_t len;
	struct db *db;
	int status, changes;

	if (!ready) {
		fuzz_init();
		ready = true;
	}
	if (size < 2)
		return 0;
	db = db_thread();
	/* Restore after a handler's writes, and now and then to drop the
	 * audit rows that pile up. */
	if (dirty || ++since_restore == 10000) {
		fuzz_restore();
		since_restore = 0;
	}
	ratelimit_free(app.login_limits); /* failed logins start afresh */
	app.login_limits = ratelimit_new(64);
	ratelimit_free(app.register_limits);
	app.register_limits = ratelimit_new(64);
	device_tally_free(app.register_tally); /* the restore moved rows */
	app.register_tally = device_tally_new();
	memset(&req, 0, sizeof(req));
	req.app = &app;
	req.route = body_routes[data[0] % nbody_routes];
	req.method = req.route->method;
	req.url = req.route->pattern;
	fuzz_fill_params(&req, data[1]);
	snprintf(req.peer, sizeof(req.peer), "127.0.0.1");
	body = (const char *)data + 2;
	len = size - 2;
	fake_authz = admin_authz;
	if (data[1] & 0x01) {
		nl = memchr(body, '\n', len);
		authz = xstrndup(body, nl ? (size_t)(nl - body) : len);
		fake_authz = authz;
		len -= nl ? (size_t)(nl - body) + 1 : len;
		body = nl ? nl + 1 : body + len;
	} else if (req.route->auth == AUTH_DEVICE)
		fake_authz = NULL; /* tofu accepts a device without a token */
	/* As the real layer: the bytes as sent, NUL-terminated. */
	req.body = xmalloc(len + 1);
	memcpy(req.body, body, len);
	req.body[len] = '\0';
	req.body_len = len;

	/* The auth step of http.c's http_begin, then the handler. */
	status = 0;
	if (req.route->auth == AUTH_DEVICE)
		status = auth_device(&req, db, req.params[1]);
	else if (req.route->auth == AUTH_ADMIN &&
	         (status = auth_admin(&req, db)) == 0 &&
	         !auth_allows(&req, req.route->perm))
		status = 403;
	else if (req.route->auth == AUTH_REST &&
	         (status = auth_rest(&req, db)) == 0 &&
	         !auth_allows(&req, req.route->perm))
		status = 403;
	/* Only the handler's writes call for a restore: what auth and the
	 * audit log write (a token's last use, audit rows) changes nothing a
	 * handler reads. */
	changes = sqlite3_total_changes(db_handle(db));
	if (status != 0)
		fake_answer(&req, status);
	else
		req.route->handler(&req);
	dirty = sqlite3_total_changes(db_handle(db)) != changes;
	if (!req.replied)
		abort(); /* a handler must always answer */
	if (req.route->audit)
		audit_write(db, req.principal, req.peer, req.route->audit,
		    req.audit_target ? req.audit_target
		    : req.nparams    ? req.params[0]
		                     : NULL,
		    req.status);
	fuzz_check_rows(db, dirty);

	for (int i = 0; i < req.nparams; i++)
		free(req.params[i]);
	for (int i = 0; i < req.nheaders; i++)
		free(req.headers[i].value);
	device_free(req.device);
	json_decref(req.grants);
	json_decref(req.user_grants);
	free(req.new_token_hash);
	free(req.audit_target);
	free(req.principal);
	free(req.body);
	free(authz);
	return 0;
}
