/*
 * /rest/v1/targets: Falconet's devices as hawkBit's MgmtTarget.  A
 * target's updateStatus is the device's update_status (kept by triggers
 * from its newest action, see migration 0010), its pollStatus comes from
 * the last contact, and its securityToken is the TargetToken sealed at
 * rest (tokenbox.c).  DELETE is a hard delete: the controller id is free
 * again at once, with nothing of the old device left.
 */
#include "rest_targets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "db.h"
#include "device.h"
#include "http.h"
#include "log.h"
#include "meta.h"
#include "rest.h"
#include "rest_meta.h"
#include "rest_software.h"
#include "settings.h"
#include "sysconf.h"
#include "tokenbox.h"

#define REST_TARGETS_CREATE_MAX 500 /* targets in one POST */

/* The newest action's set, else the operator's assignment. */
#define TARGET_ASSIGNED_SQL                                                    \
	"COALESCE((SELECT a.ds_id FROM action a WHERE a.device_id = d.id "     \
	"ORDER BY a.id DESC LIMIT 1), d.assigned_ds_id)"
#define TARGET_INSTALLED_SQL                                                   \
	"(SELECT a.ds_id FROM action a WHERE a.device_id = d.id AND "          \
	"a.status = 'succeeded' ORDER BY a.id DESC LIMIT 1)"

/* Columns of a MgmtTarget, in the order target_json reads them. */
#define TARGET_COLUMNS                                                         \
	"d.id, d.controller_id, d.name, d.description, d.update_status, "      \
	"d.created_at, d.created_by, d.modified_at, d.modified_by, "           \
	"d.request_attributes, d.token_sealed, s.at, s.address, "              \
	"(SELECT max(a.closed_at) FROM action a WHERE a.device_id = d.id "     \
	"AND a.status = 'succeeded')"
#define TARGET_FROM                                                            \
	" FROM device d LEFT JOIN device_seen s ON s.device_id = d.id"

/*
 * The keyed fields, and the same lookups as sets of device ids: a
 * comparison of one key's value that rsql compiles against the first is
 * rewritten into "d.id IN (<set> AND <comparison of value>)", which the
 * (key, LOWER(value)) indexes of migration 0010 answer without visiting
 * every device.  The placeholders stay in the same order (key, then the
 * values); a comparison of another shape (!=, =out=) keeps the scalar
 * form.
 */
#define TARGET_ATTRIBUTE_SQL                                                   \
	"(SELECT t.value FROM device_attribute t WHERE t.device_id = d.id "    \
	"AND t.key = ?)"
#define TARGET_ATTRIBUTE_SET                                                   \
	"d.id IN (SELECT t.device_id FROM device_attribute t WHERE t.key = ? " \
	"AND "
#define TARGET_ATTRIBUTE_VALUE "t.value"
#define TARGET_METADATA_SQL                                                    \
	"(SELECT t.meta_value FROM device_metadata t WHERE t.device_id = "     \
	"d.id "                                                                \
	"AND t.meta_key = ?)"
#define TARGET_METADATA_SET                                                    \
	"d.id IN (SELECT t.device_id FROM device_metadata t WHERE "            \
	"t.meta_key = ? AND "
#define TARGET_METADATA_VALUE "t.meta_value"

/* clang-format off */
static const struct rsql_enum target_status[] = {
	{ "unknown",    "unknown" },
	{ "in_sync",    "in_sync" },
	{ "pending",    "pending" },
	{ "error",      "error" },
	{ "registered", "registered" },
	{ NULL, NULL },
};

/* hawkBit's TargetFields (docs/entity-definitions.md). */
static const struct rsql_field target_fields[] = {
	{ "id",                      RSQL_TEXT, "d.controller_id", NULL },
	{ "controllerId",            RSQL_TEXT, "d.controller_id", NULL },
	{ "name",                    RSQL_TEXT, "d.name", NULL },
	{ "description",             RSQL_TEXT, "d.description", NULL },
	{ "updateStatus",            RSQL_ENUM, "d.update_status", target_status },
	{ "ipAddress",               RSQL_TEXT, "s.address", NULL },
	{ "address",                 RSQL_TEXT, "s.address", NULL },
	{ "lastControllerRequestAt", RSQL_INT,  "(s.at * 1000)", NULL },
	{ "createdAt",               RSQL_INT,  "(d.created_at * 1000)", NULL },
	{ "lastModifiedAt",          RSQL_INT,
	    "(COALESCE(d.modified_at, d.created_at) * 1000)", NULL },
	{ "requestAttributes",       RSQL_BOOL, "d.request_attributes", NULL },
	{ "installedDS.name",        RSQL_TEXT,
	    "(SELECT x.name FROM distribution_set x WHERE x.id = "
	    TARGET_INSTALLED_SQL ")", NULL },
	{ "installedDS.version",     RSQL_TEXT,
	    "(SELECT x.version FROM distribution_set x WHERE x.id = "
	    TARGET_INSTALLED_SQL ")", NULL },
	{ "assignedDS.name",         RSQL_TEXT,
	    "(SELECT x.name FROM distribution_set x WHERE x.id = "
	    TARGET_ASSIGNED_SQL ")", NULL },
	{ "assignedDS.version",      RSQL_TEXT,
	    "(SELECT x.version FROM distribution_set x WHERE x.id = "
	    TARGET_ASSIGNED_SQL ")", NULL },
	{ "attribute.",              RSQL_TEXT, TARGET_ATTRIBUTE_SQL, NULL },
	{ "metadata.",               RSQL_TEXT, TARGET_METADATA_SQL, NULL },
};

static const struct rest_sort_field target_sort[] = {
	{ "id",                      "d.controller_id" },
	{ "controllerId",            "d.controller_id" },
	{ "name",                    "d.name" },
	{ "description",             "d.description" },
	{ "updateStatus",            "d.update_status" },
	{ "ipAddress",               "s.address" },
	{ "address",                 "s.address" },
	{ "lastControllerRequestAt", "s.at" },
	{ "createdAt",               "d.created_at" },
	{ "lastModifiedAt",          "COALESCE(d.modified_at, d.created_at)" },
};
/* clang-format on */

/* cid percent-encoded for a path segment (malloc'd). */
static char *
target_path(const char *cid)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(cid), o = 0;
	char *out = xmalloc(3 * n + 1);

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)cid[i];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || strchr("-._~", c) != NULL) {
			out[o++] = (char)c;
			continue;
		}
		out[o++] = '%';
		out[o++] = hex[c >> 4];
		out[o++] = hex[c & 15];
	}
	out[o] = '\0';
	return out;
}

/* The token key, read once per request when a target shows a token. */
struct target_key {
	bool tried, ok;
	unsigned char key[TOKENBOX_KEY_LEN];
};

static void
target_key_clear(struct target_key *k)
{
	explicit_bzero(k, sizeof(*k));
}

static bool
target_key_get(struct request *req, struct target_key *k)
{
	if (!k->tried) {
		k->tried = true;
		k->ok = tokenbox_key(req->app->settings->data_dir, k->key) == 0;
	}
	return k->ok;
}

/* When the next poll is due and how long after it a target is overdue:
 * hawkBit's pollingTime and pollingOverdueTime (system/configs). */
static void
target_poll_times(
    struct request *req, int64_t *interval_ms, int64_t *overdue_ms)
{
	const struct settings *s = req->app->settings;

	*interval_ms = (int64_t)sysconf_polling_time(s) * 1000;
	*overdue_ms = (int64_t)sysconf_polling_overdue(s) * 1000;
}

static void
target_set_ms(json_t *o, const char *name, sqlite3_stmt *st, int col)
{
	if (sqlite3_column_type(st, col) != SQLITE_NULL)
		json_object_set_new(o, name,
		    json_integer(sqlite3_column_int64(st, col) * 1000));
}

static void
target_set_text(json_t *o, const char *name, sqlite3_stmt *st, int col)
{
	const char *v = (const char *)sqlite3_column_text(st, col);

	if (v != NULL)
		json_object_set_new(o, name, json_string(v));
}

/* A MgmtTarget from a row of TARGET_COLUMNS (null fields omitted). */
static json_t *
target_json(struct request *req, sqlite3_stmt *st, struct target_key *k)
{
	const char *cid = (const char *)sqlite3_column_text(st, 1);
	const char *name = (const char *)sqlite3_column_text(st, 2);
	const char *sealed = (const char *)sqlite3_column_text(st, 10);
	const char *ip = (const char *)sqlite3_column_text(st, 12);
	int64_t seen, interval, overdue, next;
	char token[DEVICE_TOKEN_MAX + 1], *addr, *path;
	json_t *o;

	o = json_pack("{s:s, s:s, s:s, s:b}", "controllerId", cid, "name",
	    name ? name : cid, "updateStatus",
	    (const char *)sqlite3_column_text(st, 4), "requestAttributes",
	    sqlite3_column_int(st, 9) != 0);
	if (o == NULL)
		return NULL;
	target_set_text(o, "description", st, 3);
	target_set_ms(o, "createdAt", st, 5);
	target_set_text(o, "createdBy", st, 6);
	target_set_ms(o, "lastModifiedAt", st,
	    sqlite3_column_type(st, 7) != SQLITE_NULL ? 7 : 5);
	target_set_text(o, "lastModifiedBy", st,
	    sqlite3_column_type(st, 8) != SQLITE_NULL ? 8 : 6);
	target_set_ms(o, "installedAt", st, 13);
	if (sqlite3_column_type(st, 11) != SQLITE_NULL) {
		seen = sqlite3_column_int64(st, 11) * 1000;
		target_poll_times(req, &interval, &overdue);
		next = seen + interval;
		json_object_set_new(
		    o, "lastControllerRequestAt", json_integer(seen));
		json_object_set_new(o, "pollStatus",
		    json_pack("{s:I, s:I, s:b}", "lastRequestAt",
		        (json_int_t)seen, "nextExpectedRequestAt",
		        (json_int_t)next, "overdue",
		        now_ms() > next + overdue));
	}
	if (ip != NULL) {
		json_object_set_new(o, "ipAddress", json_string(ip));
		addr = xasprintf("http://%s", ip);
		json_object_set_new(o, "address", json_string(addr));
		free(addr);
	}
	if (sealed && target_key_get(req, k) &&
	    tokenbox_open(k->key, sealed, token, sizeof(token)) == 0) {
		json_object_set_new(o, "securityToken", json_string(token));
		explicit_bzero(token, sizeof(token));
	}
	path = target_path(cid);
	rest_add_link(o, "self", rest_link(req, "/targets/%s", path));
	free(path);
	return o;
}

/* Load the target of params[0]: its row in *st (stepped to it), or a
 * 404 / 500 answer and NULL. */
static sqlite3_stmt *
target_row(struct request *req, struct db *db)
{
	static const char sql[] =
	    "SELECT " TARGET_COLUMNS TARGET_FROM " WHERE d.controller_id = ?1";
	sqlite3_stmt *st = db_prepare(db, sql);

	if (st == NULL) {
		rest_result(req, RESULT_ERROR, NULL);
		return NULL;
	}
	db_bind_text(st, 1, req->params[0]);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		return st;
	case SQLITE_DONE:
		rest_not_found(req, "Target", req->params[0]);
		break;
	default:
		db_log_error(db, __func__);
		rest_result(req, RESULT_ERROR, NULL);
	}
	db_done(st);
	return NULL;
}

/* The device id of params[0], or a 404 answer and false. */
static bool
target_id(struct request *req, struct db *db, int64_t *id)
{
	char hash[65];
	enum result r = device_find_auth(db, req->params[0], id, hash);

	explicit_bzero(hash, sizeof(hash));
	if (r == RESULT_NOTFOUND)
		rest_not_found(req, "Target", req->params[0]);
	else if (r != RESULT_OK)
		rest_result(req, r, NULL);
	return r == RESULT_OK;
}

/* The end of the comparison that starts at p, after "LOWER(<scalar>)":
 * " = LOWER(?)", " LIKE LOWER(?) ESCAPE '\\'" or " IN (LOWER(?), ...)";
 * NULL if it is none of these. */
static const char *
target_compare_end(const char *p)
{
	static const char eq[] = " = LOWER(?)";
	static const char like[] = " LIKE LOWER(?) ESCAPE '\\'";
	static const char in[] = " IN (LOWER(?)";
	static const char more[] = ", LOWER(?)";

	if (strncmp(p, eq, strlen(eq)) == 0)
		return p + strlen(eq);
	if (strncmp(p, like, strlen(like)) == 0)
		return p + strlen(like);
	if (strncmp(p, in, strlen(in)) != 0)
		return NULL;
	p += strlen(in);
	while (strncmp(p, more, strlen(more)) == 0)
		p += strlen(more);
	return *p == ')' ? p + 1 : NULL;
}

/* Rewrite each "LOWER(scalar) <comparison>" of one keyed field in sql
 * into its set form (see TARGET_ATTRIBUTE_SQL).  Takes over sql. */
static char *
target_rewrite(
    char *sql, const char *scalar, const char *set, const char *value)
{
	char *pat = xasprintf("LOWER(%s)", scalar);
	const char *from = sql, *p, *end;
	struct buf b = {0};

	while ((p = strstr(from, pat)) != NULL) {
		if ((end = target_compare_end(p + strlen(pat))) == NULL) {
			buf_add(&b, from, (size_t)(p - from) + strlen(pat));
			from = p + strlen(pat);
			continue;
		}
		buf_add(&b, from, (size_t)(p - from));
		buf_adds(&b, set);
		buf_adds(&b, "LOWER(");
		buf_adds(&b, value);
		buf_adds(&b, ")");
		buf_add(&b, p + strlen(pat), (size_t)(end - p - strlen(pat)));
		buf_adds(&b, ")");
		from = end;
	}
	buf_adds(&b, from);
	free(pat);
	free(sql);
	return b.data;
}

void
rest_get_targets(struct request *req)
{
	struct db *db = rest_db(req);
	struct target_key k = {0};
	struct rsql_query q;
	struct rest_page p;
	char order[512], *sql;
	sqlite3_stmt *st;
	int64_t total = 0;
	json_t *a;

	if (db == NULL || !rest_page(req, &p) ||
	    !rest_sort(req, target_sort, NELEM(target_sort), "controllerId:ASC",
	        "d.id", order, sizeof(order)) ||
	    !rest_query(req, target_fields, NELEM(target_fields), &q))
		return;
	if (q.sql) {
		q.sql = target_rewrite(q.sql, TARGET_ATTRIBUTE_SQL,
		    TARGET_ATTRIBUTE_SET, TARGET_ATTRIBUTE_VALUE);
		q.sql = target_rewrite(q.sql, TARGET_METADATA_SQL,
		    TARGET_METADATA_SET, TARGET_METADATA_VALUE);
	}
	/* The count joins the last contact only when the filter reads it. */
	sql = xasprintf("SELECT count(*)%s WHERE %s",
	    q.sql && (strstr(q.sql, "s.at") || strstr(q.sql, "s.address"))
	        ? TARGET_FROM
	        : " FROM device d",
	    q.sql ? q.sql : "1");
	if ((st = rest_prepare(db, sql)) != NULL) {
		rest_bind_query(st, 1, &q);
		if (sqlite3_step(st) == SQLITE_ROW)
			total = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	free(sql);
	/* The page's ids first, then their columns: a sort then holds ids,
	 * not every matching row's columns and subqueries. */
	sql = xasprintf("SELECT " TARGET_COLUMNS
	                " FROM (SELECT d.id AS pick" TARGET_FROM
	                " WHERE %s%s LIMIT ? OFFSET ?) AS p JOIN device d ON "
	                "d.id = p.pick LEFT JOIN device_seen s ON "
	                "s.device_id = d.id%s",
	    q.sql ? q.sql : "1", order, order);
	a = NULL;
	if ((st = rest_prepare(db, sql)) != NULL) {
		a = json_array();
		rest_bind_query(st, 1, &q);
		db_bind_int64(st, (int)q.nparams + 1, p.limit);
		db_bind_int64(st, (int)q.nparams + 2, p.offset);
		while (sqlite3_step(st) == SQLITE_ROW)
			json_array_append_new(a, target_json(req, st, &k));
		sqlite3_finalize(st);
	}
	free(sql);
	rsql_query_free(&q);
	target_key_clear(&k);
	rest_reply(req, 200, rest_paged(a, total));
}

/* A target's links on a single GET. */
static void
target_add_links(struct request *req, json_t *o, const char *cid)
{
	char *path = target_path(cid);

	rest_add_link(
	    o, "assignedDS", rest_link(req, "/targets/%s/assignedDS", path));
	rest_add_link(
	    o, "installedDS", rest_link(req, "/targets/%s/installedDS", path));
	rest_add_link(
	    o, "attributes", rest_link(req, "/targets/%s/attributes", path));
	rest_add_link(o, "actions",
	    rest_link(req,
	        "/targets/%s/actions?offset=0&limit=50&sort=id%%3ADESC", path));
	rest_add_link(o, "metadata",
	    rest_link(req, "/targets/%s/metadata?offset=0&limit=50", path));
	free(path);
}

static void
target_reply(struct request *req, struct db *db, int status)
{
	struct target_key k = {0};
	sqlite3_stmt *st = target_row(req, db);
	json_t *o;

	if (st == NULL)
		return;
	o = target_json(req, st, &k);
	db_done(st);
	target_key_clear(&k);
	if (o && status == 200)
		target_add_links(req, o, req->params[0]);
	rest_reply(req, status, o);
}

void
rest_get_target(struct request *req)
{
	struct db *db = rest_db(req);

	if (db != NULL)
		target_reply(req, db, 200);
}

/*
 * The token fields of t: the one given, or (generate) a new one.  Sealed
 * with the key; false with a 400 or 500 answer.
 */
static bool
target_token(struct request *req, struct target_key *k, json_t *given,
    bool generate, struct device_target *t, char hash[65], char **sealed)
{
	char fresh[33];
	const char *token;

	*sealed = NULL;
	if (given == NULL && !generate)
		return true;
	if (given != NULL &&
	    (!json_is_string(given) ||
	        !device_token_valid(json_string_value(given)))) {
		rest_error(req, 400, "ConstraintViolationException",
		    REST_E_CONSTRAINT,
		    "securityToken: 8 to 128 characters of "
		    "[A-Za-z0-9_.-~+/=].");
		return false;
	}
	if (given == NULL && tokenbox_new_token(fresh) == -1) {
		rest_result(req, RESULT_ERROR, NULL);
		return false;
	}
	token = given ? json_string_value(given) : fresh;
	if (!target_key_get(req, k) ||
	    (*sealed = tokenbox_seal(k->key, token)) == NULL) {
		explicit_bzero(fresh, sizeof(fresh));
		rest_status_error(req, 500, "The token cannot be sealed.");
		return false;
	}
	sha256_hex(token, hash);
	explicit_bzero(fresh, sizeof(fresh));
	t->token_hash = hash;
	t->token_sealed = *sealed;
	t->set_token = true;
	return true;
}

/* Checks of a MgmtTargetRequestBody's text fields; false with a 400. */
static bool
target_body_ok(struct request *req, json_t *e, bool create)
{
	json_t *cid = json_object_get(e, "controllerId");
	json_t *name = json_object_get(e, "name");
	json_t *desc = json_object_get(e, "description");
	const char *why = NULL;

	if (create && !json_is_string(cid))
		why = "controllerId is required.";
	else if (create && device_cid_problem(json_string_value(cid)) != NULL)
		why =
		    "controllerId: 1 to 256 bytes of UTF-8 without control or "
		    "invisible characters or surrounding spaces.";
	else if (name && !json_is_null(name) &&
	         (!json_is_string(name) || json_string_length(name) < 1 ||
	             json_string_length(name) > DEVICE_NAME_MAX))
		why = "name: 1 to 256 characters.";
	else if (desc && !json_is_null(desc) &&
	         (!json_is_string(desc) || json_string_length(desc) > 512))
		why = "description: at most 512 characters.";
	if (why == NULL)
		return true;
	rest_error(req, 400, "ConstraintViolationException", REST_E_CONSTRAINT,
	    "%s", why);
	return false;
}

/* Create one element of the POST body inside the transaction; false
 * with an answer. */
static bool
target_create_one(
    struct request *req, struct db *db, struct target_key *k, json_t *e)
{
	struct device_target t = {0};
	char hash[65], *sealed = NULL;
	enum result r;
	int64_t id;

	if (!target_body_ok(req, e, true))
		return false;
	t.cid = json_string_value(json_object_get(e, "controllerId"));
	/* hawkBit stores the controller id as the name when none is given. */
	t.name = json_string_value(json_object_get(e, "name"));
	if (t.name == NULL)
		t.name = t.cid;
	t.description = json_string_value(json_object_get(e, "description"));
	t.by = req->principal;
	if (!target_token(req, k, json_object_get(e, "securityToken"), true, &t,
	        hash, &sealed))
		return false;
	r = device_target_insert(db, &t, &id);
	free(sealed);
	explicit_bzero(hash, sizeof(hash));
	if (r == RESULT_CONFLICT)
		rest_error(req, 409, "EntityAlreadyExistsException",
		    REST_E_EXISTS,
		    "Target with controllerId %s already exists.", t.cid);
	else if (r != RESULT_OK)
		rest_result(req, r, NULL);
	return r == RESULT_OK;
}

void
rest_post_targets(struct request *req)
{
	struct db *db = rest_db(req);
	struct target_key k = {0};
	json_t *body, *e, *out, *o;
	sqlite3_stmt *st;
	bool ok = true;
	size_t i;

	if (db == NULL ||
	    (body = rest_body_array(req, REST_TARGETS_CREATE_MAX)) == NULL)
		return;
	if (db_begin(db) == -1) {
		rest_result(req, RESULT_ERROR, NULL);
		goto out;
	}
	json_array_foreach(body, i, e)
	{
		if (!(ok = target_create_one(req, db, &k, e)))
			break;
	}
	if (ok && db_commit(db) == -1) {
		rest_result(req, RESULT_ERROR, NULL);
		ok = false;
	}
	if (!ok) {
		db_rollback(db);
		goto out;
	}
	out = json_array();
	json_array_foreach(body, i, e)
	{
		static const char sql[] = "SELECT " TARGET_COLUMNS TARGET_FROM
		                          " WHERE d.controller_id = ?1";

		if ((st = db_prepare(db, sql)) == NULL)
			continue;
		db_bind_text(st, 1,
		    json_string_value(json_object_get(e, "controllerId")));
		if (sqlite3_step(st) == SQLITE_ROW &&
		    (o = target_json(req, st, &k)) != NULL)
			json_array_append_new(out, o);
		db_done(st);
	}
	log_info("%zu target(s) created by %s", json_array_size(body),
	    req->principal);
	req->audit_target = xstrdup(json_string_value(
	    json_object_get(json_array_get(body, 0), "controllerId")));
	rest_reply(req, 201, out);
out:
	target_key_clear(&k);
	json_decref(body);
}

void
rest_put_target(struct request *req)
{
	struct db *db = rest_db(req);
	struct device_target t = {0};
	struct target_key k = {0};
	char hash[65] = "", *sealed = NULL;
	json_t *body, *ra;
	enum result r;
	int64_t id;

	if (db == NULL || !target_id(req, db, &id) ||
	    (body = rest_body_object(req)) == NULL)
		return;
	ra = json_object_get(body, "requestAttributes");
	if (ra && !json_is_true(ra)) {
		rest_error(req, 400, "ConstraintViolationException",
		    REST_E_CONSTRAINT,
		    "requestAttributes can only be set to true.");
		goto out;
	}
	if (!target_body_ok(req, body, false) ||
	    !target_token(req, &k, json_object_get(body, "securityToken"),
	        false, &t, hash, &sealed))
		goto out;
	t.set_name = json_is_string(json_object_get(body, "name"));
	t.name = json_string_value(json_object_get(body, "name"));
	t.set_description = json_object_get(body, "description") != NULL;
	t.description = json_string_value(json_object_get(body, "description"));
	t.request_attributes = ra != NULL;
	t.by = req->principal;
	r = device_target_update(db, id, &t);
	if (r != RESULT_OK)
		rest_result(req, r, NULL);
	else {
		req->audit_target = xstrdup(req->params[0]);
		target_reply(req, db, 200);
	}
out:
	free(sealed);
	explicit_bzero(hash, sizeof(hash));
	target_key_clear(&k);
	json_decref(body);
}

void
rest_delete_target(struct request *req)
{
	struct db *db = rest_db(req);
	int64_t id;

	if (db == NULL || !target_id(req, db, &id))
		return;
	req->audit_target = xstrdup(req->params[0]);
	rest_result(req, device_delete(db, id), NULL);
}

void
rest_get_target_attributes(struct request *req)
{
	static const char sql[] = "SELECT key, value FROM device_attribute "
	                          "WHERE device_id = ?1 ORDER BY key";
	struct db *db = rest_db(req);
	sqlite3_stmt *st;
	json_t *o;
	int64_t id;

	if (db == NULL || !target_id(req, db, &id))
		return;
	if ((st = db_prepare(db, sql)) == NULL) {
		rest_result(req, RESULT_ERROR, NULL);
		return;
	}
	o = json_object();
	db_bind_int64(st, 1, id);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *v = (const char *)sqlite3_column_text(st, 1);

		json_object_set_new(o, (const char *)sqlite3_column_text(st, 0),
		    json_string(v ? v : ""));
	}
	db_done(st);
	/* hawkBit answers 204 for a target without attributes. */
	if (json_object_size(o) == 0) {
		json_decref(o);
		http_reply_empty(req, 204);
	} else
		rest_reply(req, 200, o);
}

static void
target_ds(struct request *req, const char *sql)
{
	struct db *db = rest_db(req);
	sqlite3_stmt *st;
	int64_t id, ds = 0;

	if (db == NULL || !target_id(req, db, &id))
		return;
	if ((st = db_prepare(db, sql)) == NULL) {
		rest_result(req, RESULT_ERROR, NULL);
		return;
	}
	db_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW)
		ds = sqlite3_column_int64(st, 0);
	db_done(st);
	if (ds == 0)
		http_reply_empty(req, 204);
	else
		rest_reply(req, 200, rest_ds_json(req, db, ds));
}

void
rest_get_target_assigned_ds(struct request *req)
{
	static const char sql[] =
	    "SELECT " TARGET_ASSIGNED_SQL " FROM device d WHERE d.id = ?1";

	target_ds(req, sql);
}

void
rest_get_target_installed_ds(struct request *req)
{
	static const char sql[] =
	    "SELECT " TARGET_INSTALLED_SQL " FROM device d WHERE d.id = ?1";

	target_ds(req, sql);
}

void
rest_get_target_metadata(struct request *req)
{
	struct db *db = rest_db(req);
	int64_t id;

	if (db && target_id(req, db, &id))
		rest_meta_list(req, db, &device_meta_table, id);
}

void
rest_post_target_metadata(struct request *req)
{
	struct db *db = rest_db(req);
	int64_t id;

	if (db && target_id(req, db, &id))
		rest_meta_create(req, db, &device_meta_table, id);
}

void
rest_get_target_metadata_key(struct request *req)
{
	struct db *db = rest_db(req);
	int64_t id;

	if (db && target_id(req, db, &id))
		rest_meta_get(req, db, &device_meta_table, id, 1);
}

void
rest_put_target_metadata_key(struct request *req)
{
	struct db *db = rest_db(req);
	int64_t id;

	if (db && target_id(req, db, &id))
		rest_meta_put(req, db, &device_meta_table, id, 1);
}

void
rest_delete_target_metadata_key(struct request *req)
{
	struct db *db = rest_db(req);
	int64_t id;

	if (db && target_id(req, db, &id))
		rest_meta_delete(req, db, &device_meta_table, id, 1);
}
