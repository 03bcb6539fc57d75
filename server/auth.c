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
#include "settings.h"

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

/* Client certificate checked by a trusted reverse proxy (ddi-api.md §2). */
static bool
auth_proxy_cert(struct request *req, const char *cid)
{
	const struct settings *s = req->app->settings;
	const char *cn, *issuer;
	char buf[1024], *tok, *save;

	if (!s->cert_header_enabled || !req->peer_trusted)
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
	char stored[65] = "", hash[65];
	int64_t id = 0;
	enum result r;

	req->principal = xstrndup(cid, 256);
	if (strlen(cid) > 256)
		return 0;	/* the handler answers 400 */
	r = device_find_auth(db, cid, &id, stored);
	if (r == RESULT_ERROR)
		return 503;
	req->device_id = r == RESULT_OK ? id : 0;
	if (auth_proxy_cert(req, cid)) {
		req->device_may_register = true;
		return 0;
	}
	if (authz != NULL && target == NULL && gateway == NULL)
		return 401;	/* an unknown scheme is not "no token" */
	if (gateway != NULL) {
		if (s->gateway_token[0] == '\0' ||
		    !ct_equal(gateway, strlen(gateway), s->gateway_token,
			strlen(s->gateway_token)))
			return 401;
		req->device_may_register = true;
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
			return 401;	/* only pre-registered tokens */
		case DEVICE_AUTH_TOFU:
			/* Trust on first use: remember this token. */
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

int
auth_admin(struct request *req, struct db *db)
{
	static const char sql[] =
	    "SELECT id, name, last_used_at FROM api_token "
	    "WHERE token_hash = ?1";
	static const char touch[] =
	    "UPDATE api_token SET last_used_at = ?1 WHERE id = ?2";
	const char *token = auth_scheme(http_header(req, "Authorization"),
	    "Bearer");
	sqlite3_stmt *st;
	char hash[65];
	int64_t id = 0, last = 0;
	int rc = 401;

	if (token == NULL || strlen(token) > 256)
		return 401;
	auth_hash_token(token, hash);
	if ((st = db_prepare(db, sql)) == NULL)
		return 503;
	db_bind_text(st, 1, hash);
	if (sqlite3_step(st) == SQLITE_ROW) {
		id = sqlite3_column_int64(st, 0);
		free(req->principal);
		req->principal = db_column_strdup(st, 1);
		last = sqlite3_column_int64(st, 2);
		rc = 0;
	}
	db_done(st);
	/* Note use at most once a minute: reads stay reads. */
	if (rc == 0 && now_s() - last >= 60 &&
	    (st = db_prepare(db, touch)) != NULL) {
		db_bind_int64(st, 1, now_s());
		db_bind_int64(st, 2, id);
		if (sqlite3_step(st) != SQLITE_DONE)
			db_log_error(db, __func__);
		db_done(st);
	}
	return rc;
}

static bool
auth_name_valid(const char *name)
{
	size_t n = strlen(name);

	return n >= 1 && n <= 64 &&
	    strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			 "0123456789_.-") == n;
}

enum result
auth_token_create(struct db *db, const char *name, char *out)
{
	static const char sql[] =
	    "INSERT INTO api_token (name, token_hash, created_at) "
	    "VALUES (?1, ?2, ?3)";
	sqlite3_stmt *st;
	char hash[65];
	enum result r = RESULT_ERROR;

	if (!auth_name_valid(name))
		return RESULT_INVALID;
	if (random_token(out, AUTH_TOKEN_LEN) == -1)
		return RESULT_ERROR;
	auth_hash_token(out, hash);
	if ((st = db_prepare(db, sql)) == NULL)
		return RESULT_ERROR;
	db_bind_text(st, 1, name);
	db_bind_text(st, 2, hash);
	db_bind_int64(st, 3, now_s());
	switch (sqlite3_step(st)) {
	case SQLITE_DONE:
		r = RESULT_OK;
		break;
	case SQLITE_CONSTRAINT:
		r = RESULT_CONFLICT;
		break;
	default:
		if (sqlite3_extended_errcode(db_handle(db)) ==
		    SQLITE_CONSTRAINT_UNIQUE)
			r = RESULT_CONFLICT;
		else
			db_log_error(db, __func__);
	}
	db_done(st);
	explicit_bzero(hash, sizeof(hash));
	return r;
}

enum result
auth_token_delete(struct db *db, const char *name)
{
	static const char sql[] = "DELETE FROM api_token WHERE name = ?1";
	sqlite3_stmt *st;
	enum result r = RESULT_ERROR;

	if ((st = db_prepare(db, sql)) == NULL)
		return RESULT_ERROR;
	db_bind_text(st, 1, name);
	if (sqlite3_step(st) == SQLITE_DONE)
		r = sqlite3_changes(db_handle(db)) ? RESULT_OK
						   : RESULT_NOTFOUND;
	else
		db_log_error(db, __func__);
	db_done(st);
	return r;
}
