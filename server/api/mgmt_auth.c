/*
 * Management API for operators: first-run set-up, login and logout,
 * the caller's own account and tokens, and user administration.
 */
#include "mgmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "auth.h"
#include "db.h"
#include "http.h"
#include "log.h"
#include "mgmt_util.h"
#include "perm.h"
#include "settings.h"
#include "user.h"

/* Start a session for user u and answer with the cookie and CSRF token. */
static void
mgmt_start_session(
    struct request *req, struct db *db, const struct user *u, int status)
{
	const struct settings *s = req->app->settings;
	char cookie[USER_SESSION_LEN + 1], csrf[USER_CSRF_LEN + 1], *hdr;

	if (session_create(db, s, u->id, req->peer, cookie, csrf) !=
	    RESULT_OK) {
		http_reply_error(req, 500, NULL, "cannot start a session");
		return;
	}
	hdr = xasprintf("%s=%s; Path=/; HttpOnly; SameSite=Strict; "
	                "Max-Age=%d%s",
	    auth_cookie_name(req), cookie, s->session_max_hours * 3600,
	    http_is_https(req) ? "; Secure" : "");
	http_set_header(req, "Set-Cookie", hdr);
	explicit_bzero(cookie, sizeof(cookie));
	explicit_bzero(hdr, strlen(hdr));
	free(hdr);
	http_reply_json(req, status,
	    json_pack("{s:s, s:O, s:s}", "username", u->username, "permissions",
	        u->permissions, "csrf_token", csrf));
}

static void
mgmt_clear_cookie(struct request *req)
{
	char *hdr = xasprintf("%s=; Path=/; HttpOnly; SameSite=Strict; "
	                      "Max-Age=0%s",
	    auth_cookie_name(req), http_is_https(req) ? "; Secure" : "");

	http_set_header(req, "Set-Cookie", hdr);
	free(hdr);
}

/* auth_guard_begin, answering 429 with Retry-After while refused. */
static bool
mgmt_guard_begin(struct request *req, const char *name, struct auth_guard *g)
{
	char retry[16];
	int wait = 0;

	if (auth_guard_begin(req, name, g, &wait))
		return true;
	snprintf(retry, sizeof(retry), "%d", wait);
	http_set_header(req, "Retry-After", retry);
	http_reply_error(req, 429, "too_many_attempts",
	    "too many failed logins; try again in %d seconds", wait);
	return false;
}

void
mgmt_get_setup(struct request *req)
{
	struct db *db = mgmt_db(req);
	int64_t n;

	if (db == NULL)
		return;
	if ((n = user_count(db)) < 0)
		http_reply_error(req, 500, NULL, "cannot count users");
	else
		http_reply_json(req, 200, json_pack("{s:b}", "needed", n == 0));
}

void
mgmt_post_setup(struct request *req)
{
	/* clang-format off */
	static const struct field fields[] = {
		{ "token",    T_STR },
		{ "username", T_STR },
		{ "password", T_STR },
	};
	/* clang-format on */
	const char *token, *name, *pw, *why;
	struct db *db = mgmt_db(req);
	struct user u;
	json_t *body, *admin;
	enum result r;
	int64_t id;

	if (db == NULL ||
	    (body = mgmt_body(req, fields, NELEM(fields))) == NULL)
		return;
	token = json_string_value(json_object_get(body, "token"));
	name = json_string_value(json_object_get(body, "username"));
	pw = json_string_value(json_object_get(body, "password"));
	if (user_count(db) != 0 || req->app->setup_token[0] == '\0' ||
	    token == NULL ||
	    !ct_equal(token, strlen(token), req->app->setup_token,
	        strlen(req->app->setup_token))) {
		http_reply_error(req, 403, "setup_closed",
		    "set-up needs the one-time token from the server log, and "
		    "only while no user exists");
		goto done;
	}
	if (name == NULL || !user_name_valid(name)) {
		http_reply_error(req, 400, "invalid_field",
		    "username: 1 to 64 of [A-Za-z0-9_.@-]");
		goto done;
	}
	if (pw == NULL || (why = user_password_problem(pw)) != NULL) {
		http_reply_error(req, 400, "weak_password", "%s",
		    pw ? why : "password is required");
		goto done;
	}
	admin = perm_role("admin");
	r = user_create(db, req->app->settings, name, pw, admin, true, &id);
	json_decref(admin);
	if (r == RESULT_CONFLICT) {
		http_reply_error(req, 403, "setup_closed",
		    "a user exists: set-up is closed");
		goto done;
	}
	if (r != RESULT_OK || user_load(db, name, &u) != RESULT_OK) {
		http_reply_error(req, 500, NULL, "cannot create the user");
		goto done;
	}
	free(req->principal);
	req->principal = xstrdup(name);
	log_info("first administrator %s created; set-up is closed", name);
	mgmt_start_session(req, db, &u, 201);
	user_clear(&u);
done:
	if (json_object_get(body, "password"))
		mgmt_wipe_string(json_object_get(body, "password"));
	json_decref(body);
}

void
mgmt_post_login(struct request *req)
{
	/* clang-format off */
	static const struct field fields[] = {
		{ "username", T_STR },
		{ "password", T_STR },
	};
	/* clang-format on */
	const struct settings *s = req->app->settings;
	struct db *db = mgmt_db(req);
	const char *name, *pw;
	struct auth_guard guard;
	struct user u;
	json_t *body;
	enum result r;

	if (db == NULL ||
	    (body = mgmt_body(req, fields, NELEM(fields))) == NULL)
		return;
	name = json_string_value(json_object_get(body, "username"));
	pw = json_string_value(json_object_get(body, "password"));
	if (name == NULL || pw == NULL || strlen(name) > USER_NAME_MAX ||
	    strlen(pw) > USER_PASSWORD_MAX) {
		http_reply_error(req, 400, "invalid_field",
		    "username and password are required");
		goto done;
	}
	free(req->principal);
	req->principal = xstrdup(name);
	if (!mgmt_guard_begin(req, name, &guard))
		goto done;
	r = user_verify(db, s, name, pw, &u);
	if (r == RESULT_ERROR) {
		http_reply_error(req, 500, NULL, "cannot check the password");
		goto done;
	}
	auth_guard_end(req, name, &guard, r == RESULT_OK, "login");
	if (r != RESULT_OK) {
		http_reply_error(
		    req, 401, "bad_credentials", "wrong user name or password");
		goto done;
	}
	mgmt_start_session(req, db, &u, 200);
	user_clear(&u);
done:
	mgmt_wipe_string(json_object_get(body, "password"));
	json_decref(body);
}

void
mgmt_post_logout(struct request *req)
{
	struct db *db = mgmt_db(req);
	const char *cookie = http_cookie(req, auth_cookie_name(req));

	if (db == NULL)
		return;
	if (req->via_session && cookie)
		session_delete(db, cookie);
	mgmt_clear_cookie(req);
	http_reply_empty(req, 204);
}

void
mgmt_get_me(struct request *req)
{
	http_reply_json(req, 200,
	    json_pack("{s:s, s:O, s:s?, s:b, s:s, s:s, s:I}", "username",
	        req->principal, "permissions", req->grants, "csrf_token",
	        req->via_session ? req->csrf : NULL, "session",
	        req->via_session, "version", FALCONET_VERSION, "api_document",
	        "/api/v1/openapi.json", "session_idle",
	        (json_int_t)req->app->settings->session_idle));
}

/*
 * A signed-in user changing their own password proves they know the
 * current one: the check counts against the login limits and a wrong one
 * is logged like a failed login.  Replies (429, 403) and returns false if
 * not proven.
 */
static bool
mgmt_check_current_password(struct request *req, struct db *db, const char *cur)
{
	struct auth_guard guard;
	struct user u;
	enum result r;

	if (strlen(cur) > USER_PASSWORD_MAX) {
		http_reply_error(req, 400, "invalid_field",
		    "passwords have at most 256 characters");
		return false;
	}
	if (!mgmt_guard_begin(req, req->principal, &guard))
		return false;
	r = user_verify(db, req->app->settings, req->principal, cur, &u);
	if (r == RESULT_ERROR) {
		http_reply_error(req, 500, NULL, "cannot check the password");
		return false;
	}
	user_clear(&u);
	auth_guard_end(
	    req, req->principal, &guard, r == RESULT_OK, "password check");
	if (r != RESULT_OK) {
		http_reply_error(req, 403, "bad_credentials",
		    "the current password is wrong");
		return false;
	}
	return true;
}

void
mgmt_post_password(struct request *req)
{
	/* clang-format off */
	static const struct field fields[] = {
		{ "current",     T_STR },
		{ "new",         T_STR },
		{ "keep_tokens", T_BOOL },
	};
	/* clang-format on */
	struct db *db = mgmt_db(req);
	const char *cur, *new, *why;
	json_t *body;
	enum result r;

	if (db == NULL ||
	    (body = mgmt_body(req, fields, NELEM(fields))) == NULL)
		return;
	cur = json_string_value(json_object_get(body, "current"));
	new = json_string_value(json_object_get(body, "new"));
	if (req->user_id == 0 || !req->via_session) {
		http_reply_error(req, 403, "forbidden",
		    "change your password from a login session");
		goto done;
	}
	if (cur == NULL || new == NULL) {
		http_reply_error(
		    req, 400, "invalid_field", "current and new are required");
		goto done;
	}
	if ((why = user_password_problem(new)) != NULL) {
		http_reply_error(req, 400, "weak_password", "%s", why);
		goto done;
	}
	if (!mgmt_check_current_password(req, db, cur))
		goto done;
	r = user_update(db, req->app->settings, req->principal, NULL, -1, new,
	    json_is_true(json_object_get(body, "keep_tokens")));
	if (r == RESULT_OK) {
		mgmt_clear_cookie(req);
		http_reply_empty(req, 204);
	} else
		http_reply_result(req, r, NULL);
done:
	mgmt_wipe_string(json_object_get(body, "current"));
	mgmt_wipe_string(json_object_get(body, "new"));
	json_decref(body);
}

void
mgmt_get_users(struct request *req)
{
	struct db *db = mgmt_db(req);

	if (db)
		mgmt_reply_object(req, 200, user_list_json(db));
}

/*
 * Users may manage only users no more privileged than themselves (else a
 * user manager could reset an admin's password and become admin).
 * Replies and returns false if the caller may not touch `name`.
 */
static bool
mgmt_may_manage(struct request *req, struct db *db, const char *name)
{
	struct user u;
	enum result r = user_load(db, name, &u);
	bool ok;

	if (r != RESULT_OK) {
		http_reply_result(
		    req, r, r == RESULT_NOTFOUND ? "no such user" : NULL);
		return false;
	}
	ok = auth_may_grant(req, u.permissions);
	user_clear(&u);
	if (!ok)
		http_reply_error(req, 403, "forbidden",
		    "that user holds permissions you do not have");
	return ok;
}

/* The grants of a body: "permissions" or a "role" name.  NULL if neither
 * (and *bad set if one was invalid). */
static json_t *
mgmt_body_grants(struct request *req, json_t *body, bool *bad)
{
	json_t *perms = json_object_get(body, "permissions");
	const char *role = json_string_value(json_object_get(body, "role"));
	const char *why = NULL;
	json_t *g;

	*bad = false;
	if (perms && role) {
		http_reply_error(req, 400, "invalid_field",
		    "give permissions or role, not both");
		*bad = true;
		return NULL;
	}
	if (role) {
		if ((g = perm_role(role)) == NULL) {
			http_reply_error(req, 400, "invalid_field",
			    "role: admin, operator or readonly");
			*bad = true;
		}
		return g;
	}
	if (perms == NULL)
		return NULL;
	if (!perm_grants_valid(perms, &why)) {
		http_reply_error(req, 400, "invalid_field", "%s", why);
		*bad = true;
		return NULL;
	}
	return json_incref(perms);
}

void
mgmt_post_user(struct request *req)
{
	/* clang-format off */
	static const struct field fields[] = {
		{ "username",    T_STR },
		{ "password",    T_STR },
		{ "permissions", T_ARRAY },
		{ "role",        T_STR },
	};
	/* clang-format on */
	struct db *db = mgmt_db(req);
	const char *name, *pw, *why;
	json_t *body, *grants = NULL;
	bool bad;
	enum result r;
	int64_t id;

	if (db == NULL ||
	    (body = mgmt_body(req, fields, NELEM(fields))) == NULL)
		return;
	name = json_string_value(json_object_get(body, "username"));
	pw = json_string_value(json_object_get(body, "password"));
	req->audit_target = name ? xstrdup(name) : NULL;
	if (name == NULL || !user_name_valid(name)) {
		http_reply_error(req, 400, "invalid_field",
		    "username: 1 to 64 of [A-Za-z0-9_.@-]");
		goto done;
	}
	if (pw == NULL || (why = user_password_problem(pw)) != NULL) {
		http_reply_error(req, 400, "weak_password", "%s",
		    pw ? why : "password is required");
		goto done;
	}
	grants = mgmt_body_grants(req, body, &bad);
	if (bad)
		goto done;
	if (grants == NULL)
		grants = perm_role("readonly");
	if (!auth_may_grant(req, grants)) {
		http_reply_error(req, 403, "forbidden",
		    "you cannot grant permissions you do not have");
		goto done;
	}
	r = user_create(db, req->app->settings, name, pw, grants, false, &id);
	if (r == RESULT_OK)
		mgmt_reply_object(req, 201, mgmt_user_json(db, name));
	else
		http_reply_result(req, r,
		    r == RESULT_CONFLICT ? "a user with this name exists"
		                         : NULL);
done:
	mgmt_wipe_string(json_object_get(body, "password"));
	json_decref(grants);
	json_decref(body);
}

void
mgmt_patch_user(struct request *req)
{
	/* clang-format off */
	static const struct field fields[] = {
		{ "permissions", T_ARRAY },
		{ "role",        T_STR },
		{ "enabled",     T_BOOL },
		{ "password",    T_STR },
		{ "current_password", T_STR },
		{ "keep_tokens", T_BOOL },
	};
	/* clang-format on */
	struct db *db = mgmt_db(req);
	const char *pw, *cur, *why;
	json_t *body, *grants = NULL, *en;
	bool bad, self;
	enum result r;

	if (db == NULL ||
	    (body = mgmt_body(req, fields, NELEM(fields))) == NULL)
		return;
	pw = json_string_value(json_object_get(body, "password"));
	cur = json_string_value(json_object_get(body, "current_password"));
	en = json_object_get(body, "enabled");
	if (pw && (why = user_password_problem(pw)) != NULL) {
		http_reply_error(req, 400, "weak_password", "%s", why);
		goto done;
	}
	grants = mgmt_body_grants(req, body, &bad);
	if (bad)
		goto done;
	if (grants && !auth_may_grant(req, grants)) {
		http_reply_error(req, 403, "forbidden",
		    "you cannot grant permissions you do not have");
		goto done;
	}
	if (!mgmt_may_manage(req, db, req->params[0]))
		goto done;
	self = req->user_id != 0 && strcmp(req->params[0], req->principal) == 0;
	if (self && (json_is_false(en) || grants)) {
		http_reply_error(req, 409, "conflict",
		    "you cannot disable yourself or change your own "
		    "permissions");
		goto done;
	}
	/* Your own password, as at /me/password: a stolen session or token
	 * must not lock its owner out.  (Resetting another user's password
	 * needs only the right to manage them.) */
	if (self && pw && cur == NULL) {
		http_reply_error(req, 403, "current_password_required",
		    "changing your own password needs current_password");
		goto done;
	}
	if (self && pw && !mgmt_check_current_password(req, db, cur))
		goto done;
	r = user_update(db, req->app->settings, req->params[0], grants,
	    en ? json_is_true(en) : -1, pw,
	    json_is_true(json_object_get(body, "keep_tokens")));
	if (r == RESULT_OK)
		mgmt_reply_object(req, 200, mgmt_user_json(db, req->params[0]));
	else
		http_reply_result(
		    req, r, r == RESULT_NOTFOUND ? "no such user" : NULL);
done:
	mgmt_wipe_string(json_object_get(body, "password"));
	if (json_object_get(body, "current_password"))
		mgmt_wipe_string(json_object_get(body, "current_password"));
	json_decref(grants);
	json_decref(body);
}

void
mgmt_delete_user(struct request *req)
{
	struct db *db = mgmt_db(req);
	enum result r;

	if (db == NULL)
		return;
	if (strcmp(req->params[0], req->principal) == 0) {
		http_reply_error(
		    req, 409, "conflict", "you cannot delete yourself");
		return;
	}
	if (!mgmt_may_manage(req, db, req->params[0]))
		return;
	if ((r = user_delete(db, req->params[0])) == RESULT_OK)
		http_reply_empty(req, 204);
	else
		http_reply_result(
		    req, r, r == RESULT_NOTFOUND ? "no such user" : NULL);
}

/*
 * Tokens are managed from a login session or with a token that may manage
 * accounts (auth_manages_tokens).  Replies 403 and returns false if not.
 */
static bool
mgmt_may_manage_tokens(struct request *req)
{
	if (auth_manages_tokens(req))
		return true;
	http_reply_error(req, 403, "forbidden",
	    "managing tokens needs a login session or a token "
	    "with " AUTH_TOKENS_PERM);
	return false;
}

void
mgmt_get_tokens(struct request *req)
{
	struct db *db;

	if (mgmt_may_manage_tokens(req) && (db = mgmt_db(req)) != NULL)
		mgmt_reply_object(
		    req, 200, auth_token_list_json(db, req->user_id));
}

void
mgmt_post_token(struct request *req)
{
	/* clang-format off */
	static const struct field fields[] = {
		{ "name",        T_STR },
		{ "permissions", T_ARRAY },
	};
	/* clang-format on */
	char token[AUTH_TOKEN_LEN + 1];
	const char *name, *why = NULL;
	json_t *body, *grants;
	struct db *db;
	enum result r;
	int64_t id = 0;

	if (!mgmt_may_manage_tokens(req) || (db = mgmt_db(req)) == NULL ||
	    (body = mgmt_body(req, fields, NELEM(fields))) == NULL)
		return;
	name = json_string_value(json_object_get(body, "name"));
	grants = json_object_get(body, "permissions");
	req->audit_target = name ? xstrdup(name) : NULL;
	if (name == NULL) {
		http_reply_error(req, 400, "invalid_field", "name is required");
		goto done;
	}
	if (grants && !perm_grants_valid(grants, &why)) {
		http_reply_error(req, 400, "invalid_field", "%s", why);
		goto done;
	}
	if (grants == NULL)
		grants = req->grants;
	if (!auth_may_grant(req, grants)) {
		http_reply_error(req, 403, "forbidden",
		    "a token cannot have permissions you do not have");
		goto done;
	}
	r = auth_token_create_for(db, name, req->user_id, grants, token, &id);
	if (r == RESULT_OK) {
		http_reply_json(req, 201,
		    json_pack("{s:I, s:s, s:s, s:O}", "id", (json_int_t)id,
		        "name", name, "token", token, "permissions", grants));
		explicit_bzero(token, sizeof(token));
	} else
		http_reply_result(req, r,
		    r == RESULT_CONFLICT ? "you have a token with this name"
		    : r == RESULT_INVALID
		        ? "token names are 1 to 64 of [A-Za-z0-9_.-]"
		        : NULL);
done:
	json_decref(body);
}

void
mgmt_delete_token(struct request *req)
{
	struct db *db;
	enum result r;
	int64_t id;

	/* Any token may delete itself: revoking is never an escalation. */
	if (!mgmt_id(req, &id) ||
	    (id != req->token_id && !mgmt_may_manage_tokens(req)) ||
	    (db = mgmt_db(req)) == NULL)
		return;
	if ((r = auth_token_delete_id(db, id, req->user_id)) == RESULT_OK)
		http_reply_empty(req, 204);
	else
		http_reply_result(
		    req, r, r == RESULT_NOTFOUND ? "no such token" : NULL);
}
