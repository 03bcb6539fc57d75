/*
 * Device and operator authentication.  Tokens are never stored: devices'
 * TargetTokens and management tokens are kept as SHA-256 hex, and compared
 * in constant time.  The gateway token comes from the settings.
 */
#include "auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "app.h"
#include "db.h"
#include "device.h"
#include "http.h"
#include "log.h"
#include "perm.h"
#include "settings.h"
#include "user.h"

void
auth_hash_token(const char *token, char out[65])
{
	sha256_hex(token, out);
}

/* Split "Scheme value"; the scheme is case-sensitive, one space. */
static const char *
auth_scheme(const char *header, const char *scheme)
{
	size_t n = strlen(scheme);

	if (header == NULL || strncmp(header, scheme, n) != 0 ||
	    header[n] != ' ' || header[n + 1] == '\0')
		return NULL;
	return header + n + 1;
}

/*
 * Client certificate checked by a reverse proxy (hawkBit style).  Only the
 * socket peer's word counts, and only if it is in proxy.cert_trusted: a
 * proxy that passed a client's own headers on would let it be any device.
 */
static bool
auth_proxy_cert(struct request *req, const char *cid)
{
	const struct settings *s = req->app->settings;
	const char *cn, *issuer;
	char buf[1024], *tok, *save;

	if (!s->cert_header_enabled || !req->peer_cert_proxy)
		return false;
	if ((cn = http_header(req, s->cert_cn_header)) == NULL ||
	    strcmp(cn, cid) != 0 ||
	    (issuer = http_header(req, s->cert_issuer_header)) == NULL)
		return false;
	snprintf(buf, sizeof(buf), "%s", issuer);
	for (tok = strtok_r(buf, ",;", &save); tok;
	     tok = strtok_r(NULL, ",;", &save)) {
		tok += strspn(tok, " ");
		for (size_t i = 0; i < s->ncert_authorities; i++)
			if (strcasecmp(tok, s->cert_authorities[i]) == 0)
				return true;
	}
	return false;
}

int
auth_device(struct request *req, struct db *db, const char *cid)
{
	const struct settings *s = req->app->settings;
	const char *authz = http_header(req, "Authorization");
	const char *target = auth_scheme(authz, "TargetToken");
	const char *gateway = auth_scheme(authz, "GatewayToken");
	struct device *d = xcalloc(1, sizeof(*d));
	const char *stored = "";
	char hash[65];
	enum result r;

	req->principal = xstrndup(cid, utf8_cut(cid, 256));
	if (strlen(cid) > 256) {
		free(d);
		return 0; /* the handler answers 400 */
	}
	/* The whole row: the poll handler uses it without reading again. */
	r = device_load_ddi(db, cid, d);
	if (r == RESULT_ERROR) {
		free(d);
		return 503;
	}
	if (r == RESULT_OK) {
		req->device = d;
		req->device_id = d->id;
		stored = d->token_hash;
	} else
		free(d);
	if (auth_proxy_cert(req, cid)) {
		req->device_may_register = req->device_vouched = true;
		return 0;
	}
	if (authz != NULL && target == NULL && gateway == NULL)
		return 401; /* an unknown scheme is not "no token" */
	if (gateway != NULL) {
		if (s->gateway_token[0] == '\0' ||
		    !ct_equal(gateway, strlen(gateway), s->gateway_token,
		        strlen(s->gateway_token)))
			return 401;
		req->device_may_register = req->device_vouched = true;
		return 0;
	}
	if (target != NULL) {
		if (strlen(target) > AUTH_DEVICE_TOKEN_MAX)
			return 401;
		auth_hash_token(target, hash);
		if (stored[0] != '\0')
			return ct_equal(hash, 64, stored, strlen(stored)) ? 0
			                                                  : 401;
		switch (s->device_auth) {
		case DEVICE_AUTH_TOKEN:
			return 401; /* only pre-registered tokens */
		case DEVICE_AUTH_TOFU:
			/* Trust on first use: remember this token, if it is
			 * one the operator could have set (device.c). */
			if (!device_token_valid(target))
				return 401;
			req->new_token_hash = xstrdup(hash);
			req->device_may_register = true;
			return 0;
		case DEVICE_AUTH_OPEN:
			req->device_may_register = true;
			return 0;
		}
		return 401;
	}
	/* No credentials: only open mode, and only for token-less devices. */
	if (s->device_auth != DEVICE_AUTH_OPEN || stored[0] != '\0')
		return 401;
	req->device_may_register = true;
	return 0;
}

/* A management API token: machine tokens have full access; personal ones
 * carry their grants, limited by their user's. */
static int
auth_admin_token(struct request *req, struct db *db, const char *token)
{
	static const char sql[] =
	    "SELECT t.id, t.name, t.last_used_at, t.user_id, t.permissions, "
	    "u.username, u.permissions, u.enabled FROM api_token t "
	    "LEFT JOIN app_user u ON u.id = t.user_id WHERE t.token_hash = ?1";
	static const char touch[] =
	    "UPDATE api_token SET last_used_at = ?1 WHERE id = ?2";
	sqlite3_stmt *st;
	char hash[65];
	int64_t last = 0;
	int rc = 401;

	if (strlen(token) > 256)
		return 401;
	auth_hash_token(token, hash);
	if ((st = db_prepare(db, sql)) == NULL)
		return 503;
	db_bind_text(st, 1, hash);
	if (sqlite3_step(st) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 1);
		const char *grants = (const char *)sqlite3_column_text(st, 4);

		req->token_id = sqlite3_column_int64(st, 0);
		snprintf(req->cred_hash, sizeof(req->cred_hash), "%s", hash);
		last = sqlite3_column_int64(st, 2);
		req->user_id = sqlite3_column_int64(st, 3);
		req->grants = json_loads(grants ? grants : "[]", 0, NULL);
		free(req->principal);
		if (req->user_id) {
			const char *ug =
			    (const char *)sqlite3_column_text(st, 6);

			req->principal = xasprintf(
			    "%s", (const char *)sqlite3_column_text(st, 5));
			req->user_grants = json_loads(ug ? ug : "[]", 0, NULL);
			rc = sqlite3_column_int(st, 7) ? 0 : 401;
		} else {
			req->principal = xasprintf("token:%s", name);
			rc = 0;
		}
	}
	db_done(st);
	/* Note use at most once a minute: reads stay reads. */
	if (rc == 0 && now_s() - last >= 60 &&
	    (st = db_prepare(db, touch)) != NULL) {
		db_bind_int64(st, 1, now_s());
		db_bind_int64(st, 2, req->token_id);
		if (sqlite3_step(st) != SQLITE_DONE)
			db_log_error(db, __func__);
		db_done(st);
	}
	return rc;
}

const char *
auth_cookie_name(struct request *req)
{
	return http_is_https(req) ? AUTH_COOKIE_HTTPS : AUTH_COOKIE;
}

int
auth_admin(struct request *req, struct db *db)
{
	const char *authz = http_header(req, "Authorization");
	const char *token = auth_scheme(authz, "Bearer");
	const char *cookie;
	struct session sess;
	enum result r;

	if (authz != NULL)
		return token ? auth_admin_token(req, db, token) : 401;
	if ((cookie = http_cookie(req, auth_cookie_name(req))) == NULL)
		return 401;
	r = session_find(db, req->app->settings, cookie, &sess);
	if (r == RESULT_ERROR)
		return 503;
	if (r != RESULT_OK)
		return 401;
	req->via_session = true;
	sha256_hex(cookie, req->cred_hash);
	req->user_id = sess.user.id;
	req->grants = json_incref(sess.user.permissions);
	free(req->principal);
	req->principal = xstrdup(sess.user.username);
	snprintf(req->csrf, sizeof(req->csrf), "%s", sess.csrf);
	user_clear(&sess.user);
	return 0;
}

int
auth_rest(struct request *req, struct db *db)
{
	return auth_admin(req, db);
}

/* Does the API token hashed as hash still exist and allow perm, with its
 * user (if any) still there and enabled?  RESULT_ERROR on a database
 * error. */
static enum result
auth_token_allows(struct db *db, const char *hash, const char *perm)
{
	static const char sql[] =
	    "SELECT t.permissions, t.user_id, u.permissions, u.enabled "
	    "FROM api_token t LEFT JOIN app_user u ON u.id = t.user_id "
	    "WHERE t.token_hash = ?1";
	sqlite3_stmt *st;
	enum result r = RESULT_NOTFOUND;
	int rc;

	if ((st = db_prepare(db, sql)) == NULL)
		return RESULT_ERROR;
	db_bind_text(st, 1, hash);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *tp = (const char *)sqlite3_column_text(st, 0);
		const char *up = (const char *)sqlite3_column_text(st, 2);
		bool personal = sqlite3_column_type(st, 1) != SQLITE_NULL;
		json_t *tg = json_loads(tp ? tp : "[]", 0, NULL);
		json_t *ug =
		    personal ? json_loads(up ? up : "[]", 0, NULL) : NULL;

		if (perm_allows(tg, perm) &&
		    (!personal || (up != NULL && sqlite3_column_int(st, 3) &&
		                      perm_allows(ug, perm))))
			r = RESULT_OK;
		json_decref(tg);
		json_decref(ug);
	} else if (rc != SQLITE_DONE)
		r = RESULT_ERROR;
	db_done(st);
	return r;
}

bool
auth_still_allows(struct db *db, const struct settings *s, bool via_session,
    const char *hash, const char *perm)
{
	struct session sess;
	enum result r;

	if (via_session) {
		r = session_find_hash(db, s, hash, &sess);
		if (r == RESULT_OK && !perm_allows(sess.user.permissions, perm))
			r = RESULT_NOTFOUND;
		user_clear(&sess.user);
	} else
		r = auth_token_allows(db, hash, perm);
	/* A busy database is no revocation: the next check decides. */
	if (r == RESULT_ERROR)
		db_log_error(db, __func__);
	return r != RESULT_NOTFOUND;
}

bool
auth_allows(struct request *req, const char *perm)
{
	return perm_allows(req->grants, perm) &&
	       (req->user_grants == NULL ||
	           perm_allows(req->user_grants, perm));
}

bool
auth_may_grant(struct request *req, const json_t *grants)
{
	return perm_subset(grants, req->grants) &&
	       (req->user_grants == NULL ||
	           perm_subset(grants, req->user_grants));
}

bool
auth_manages_tokens(struct request *req)
{
	return req->via_session || auth_allows(req, AUTH_TOKENS_PERM);
}

int
auth_check_csrf(struct request *req)
{
	const char *got = http_header(req, "X-CSRF-Token");

	if (!req->via_session || strcmp(req->method, "GET") == 0 ||
	    strcmp(req->method, "HEAD") == 0)
		return 0;
	if (got == NULL || req->csrf[0] == '\0' ||
	    !ct_equal(got, strlen(got), req->csrf, strlen(req->csrf)))
		return 403;
	return 0;
}

static bool
auth_name_valid(const char *name)
{
	size_t n = strlen(name);

	return n >= 1 && n <= 64 &&
	       strspn(name,
	           "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	           "0123456789_.-") == n;
}

enum result
auth_token_create_for(struct db *db, const char *name, int64_t user_id,
    const json_t *grants, char *out, int64_t *id)
{
	static const char sql[] =
	    "INSERT INTO api_token (name, token_hash, created_at, user_id, "
	    "permissions) VALUES (?1, ?2, ?3, ?4, ?5)";
	sqlite3_stmt *st;
	char hash[65], *perms;
	enum result r = RESULT_ERROR;
	int rc;

	if (!auth_name_valid(name))
		return RESULT_INVALID;
	if (random_token(out, AUTH_TOKEN_LEN) == -1)
		return RESULT_ERROR;
	auth_hash_token(out, hash);
	if ((st = db_prepare(db, sql)) == NULL)
		return RESULT_ERROR;
	perms = json_dumps(grants, JSON_COMPACT);
	db_bind_text(st, 1, name);
	db_bind_text(st, 2, hash);
	db_bind_int64(st, 3, now_s());
	if (user_id)
		db_bind_int64(st, 4, user_id);
	db_bind_text(st, 5, perms ? perms : "[]");
	free(perms);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		*id = sqlite3_last_insert_rowid(db_handle(db));
		r = RESULT_OK;
	} else if ((rc & 0xff) == SQLITE_CONSTRAINT)
		r = RESULT_CONFLICT;
	else
		db_log_error(db, __func__);
	db_done(st);
	explicit_bzero(hash, sizeof(hash));
	return r;
}

enum result
auth_token_create(struct db *db, const char *name, char *out)
{
	json_t *all = json_pack("[s]", "*");
	int64_t id;
	enum result r = auth_token_create_for(db, name, 0, all, out, &id);

	json_decref(all);
	return r;
}

json_t *
auth_token_list_json(struct db *db, int64_t user_id)
{
	static const char sql[] =
	    "SELECT id, name, permissions, created_at, last_used_at "
	    "FROM api_token WHERE COALESCE(user_id, 0) = ?1 ORDER BY name";
	sqlite3_stmt *st = db_prepare(db, sql);
	json_t *list = json_array();

	if (st == NULL)
		return NULL;
	db_bind_int64(st, 1, user_id);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *p = (const char *)sqlite3_column_text(st, 2);
		json_t *grants = json_loads(p ? p : "[]", 0, NULL);

		json_array_append_new(list,
		    json_pack("{s:I, s:s, s:o, s:I, s:o}", "id",
		        (json_int_t)sqlite3_column_int64(st, 0), "name",
		        (const char *)sqlite3_column_text(st, 1), "permissions",
		        grants ? grants : json_array(), "created_at",
		        (json_int_t)sqlite3_column_int64(st, 3), "last_used_at",
		        sqlite3_column_type(st, 4) == SQLITE_NULL
		            ? json_null()
		            : json_integer(sqlite3_column_int64(st, 4))));
	}
	db_done(st);
	return json_pack("{s:o}", "tokens", list);
}

enum result
auth_token_delete_id(struct db *db, int64_t id, int64_t user_id)
{
	static const char sql[] =
	    "DELETE FROM api_token WHERE id = ?1 AND COALESCE(user_id, 0) = ?2";
	sqlite3_stmt *st;

	if ((st = db_prepare(db, sql)) == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, id);
	db_bind_int64(st, 2, user_id);
	return db_step_changed(db, st, __func__);
}

enum result
auth_token_delete(struct db *db, const char *name)
{
	static const char sql[] =
	    "DELETE FROM api_token WHERE name = ?1 AND user_id IS NULL";
	sqlite3_stmt *st;

	if ((st = db_prepare(db, sql)) == NULL)
		return RESULT_ERROR;
	db_bind_text(st, 1, name);
	return db_step_changed(db, st, __func__);
}
