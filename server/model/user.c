/*
 * Users and sessions.  argon2id parameters come from the settings (OWASP's
 * minimum by default).  Verification of an unknown user still computes one
 * hash, so response times do not tell which user names exist.
 */
#include "user.h"

#include <argon2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"
#include "settings.h"

#define USER_SALT_LEN 16
#define USER_HASH_LEN 32

void
user_clear(struct user *u)
{
	if (u == NULL)
		return;
	free(u->username);
	json_decref(u->permissions);
	memset(u, 0, sizeof(*u));
}

bool
user_name_valid(const char *n)
{
	size_t len = strlen(n);

	return len >= 1 && len <= USER_NAME_MAX &&
	       strspn(n, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                 "0123456789_.@-") == len;
}

const char *
user_password_problem(const char *p)
{
	size_t n = strlen(p);

	if (n < USER_PASSWORD_MIN)
		return "passwords have at least 10 characters";
	if (n > USER_PASSWORD_MAX)
		return "passwords have at most 256 characters";
	if (!utf8_valid(p, n))
		return "passwords are UTF-8 text";
	return NULL;
}

static int
user_hash(const struct settings *s, const char *password, char *out)
{
	unsigned char salt[USER_SALT_LEN];

	if (random_bytes(salt, sizeof(salt)) == -1)
		return -1;
	if (argon2id_hash_encoded((uint32_t)s->argon2_iterations,
	        (uint32_t)s->argon2_memory_kib, (uint32_t)s->argon2_parallelism,
	        password, strlen(password), salt, sizeof(salt), USER_HASH_LEN,
	        out, USER_ENCODED_MAX) != ARGON2_OK) {
		log_warnx("%s: argon2id failed", __func__);
		return -1;
	}
	return 0;
}

int64_t
user_count(struct db *db)
{
	static const char sql[] = "SELECT count(*) FROM app_user";
	sqlite3_stmt *st = db_prepare(db, sql);
	int64_t n = -1;

	if (st == NULL)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	db_done(st);
	return n;
}

enum result
user_create(struct db *db, const struct settings *s, const char *username,
    const char *password, const json_t *perms, bool first_only, int64_t *id)
{
	return user_create_weak(
	    db, s, username, password, perms, first_only, false, id);
}

enum result
user_create_weak(struct db *db, const struct settings *s, const char *username,
    const char *password, const json_t *perms, bool first_only, bool weak,
    int64_t *id)
{
	static const char sql[] =
	    "INSERT INTO app_user (id, username, password, permissions, "
	    "created_at) VALUES (?5, ?1, ?2, ?3, ?4)";
	/* Ids are never reused (migrations/0006_id_counter.sql); a row
	 * written past the counter (by hand, say) moves it on. */
	static const char next_id[] =
	    "UPDATE id_counter SET last_id = 1 + CASE WHEN last_id >= "
	    "(SELECT COALESCE(MAX(id), 0) FROM app_user) THEN last_id ELSE "
	    "(SELECT COALESCE(MAX(id), 0) FROM app_user) END "
	    "WHERE name = 'app_user' RETURNING last_id";
	char encoded[USER_ENCODED_MAX];
	char *grants;
	sqlite3_stmt *st;
	enum result r;

	if (!user_name_valid(username) ||
	    (user_password_problem(password) &&
	        !(weak && password[0] && strlen(password) < USER_PASSWORD_MIN &&
	            utf8_valid(password, strlen(password)))))
		return RESULT_INVALID;
	if (user_hash(s, password, encoded) == -1)
		return RESULT_ERROR;
	if (db_begin(db) == -1)
		return RESULT_ERROR;
	if (first_only && user_count(db) != 0) {
		db_rollback(db);
		return RESULT_CONFLICT;
	}
	if ((st = db_prepare(db, next_id)) == NULL ||
	    db_step_id(db, st, id, __func__) != RESULT_OK ||
	    (st = db_prepare(db, sql)) == NULL) {
		explicit_bzero(encoded, sizeof(encoded));
		db_rollback(db);
		return RESULT_ERROR;
	}
	grants = json_dumps(perms, JSON_COMPACT);
	db_bind_text(st, 1, username);
	db_bind_text(st, 2, encoded);
	db_bind_text(st, 3, grants ? grants : "[]");
	db_bind_int64(st, 4, now_s());
	db_bind_int64(st, 5, *id);
	free(grants);
	explicit_bzero(encoded, sizeof(encoded));
	if ((r = db_step_done(db, st, __func__)) != RESULT_OK) {
		db_rollback(db);
		return r;
	}
	if (db_commit(db) == -1)
		return RESULT_ERROR;
	log_info("user %s created", username);
	return RESULT_OK;
}

static void
user_from_row(sqlite3_stmt *st, int col, struct user *u)
{
	const char *p = (const char *)sqlite3_column_text(st, col + 2);

	u->id = sqlite3_column_int64(st, col);
	u->username = db_column_strdup(st, col + 1);
	u->permissions = p ? json_loads(p, 0, NULL) : NULL;
	if (!json_is_array(u->permissions)) {
		json_decref(u->permissions);
		u->permissions = json_array();
	}
	u->enabled = sqlite3_column_int(st, col + 3) != 0;
}

enum result
user_load(struct db *db, const char *username, struct user *u)
{
	static const char sql[] =
	    "SELECT id, username, permissions, enabled FROM app_user "
	    "WHERE username = ?1";
	sqlite3_stmt *st = db_prepare(db, sql);
	enum result r = RESULT_NOTFOUND;

	memset(u, 0, sizeof(*u));
	if (st == NULL)
		return RESULT_ERROR;
	db_bind_text(st, 1, username);
	if (sqlite3_step(st) == SQLITE_ROW) {
		user_from_row(st, 0, u);
		r = RESULT_OK;
	}
	db_done(st);
	return r;
}

enum result
user_verify(struct db *db, const struct settings *s, const char *username,
    const char *password, struct user *u)
{
	return user_verify_hash(db, s, username, password, u, NULL);
}

enum result
user_verify_hash(struct db *db, const struct settings *s, const char *username,
    const char *password, struct user *u, char hash[USER_ENCODED_MAX])
{
	static const char sql[] =
	    "SELECT id, username, permissions, enabled, password "
	    "FROM app_user WHERE username = ?1";
	static const char touch[] =
	    "UPDATE app_user SET last_login_at = ?2 WHERE id = ?1";
	static pthread_mutex_t dummy_lock = PTHREAD_MUTEX_INITIALIZER;
	static char dummy[USER_ENCODED_MAX];
	sqlite3_stmt *st = db_prepare(db, sql);
	char encoded[USER_ENCODED_MAX] = "";
	bool found = false;

	memset(u, 0, sizeof(*u));
	if (st == NULL)
		return RESULT_ERROR;
	db_bind_text(st, 1, username);
	if (sqlite3_step(st) == SQLITE_ROW) {
		user_from_row(st, 0, u);
		snprintf(encoded, sizeof(encoded), "%s",
		    (const char *)sqlite3_column_text(st, 4));
		found = true;
	}
	db_done(st);
	if (!found) {
		/* Spend the same effort on a hash that cannot match. */
		pthread_mutex_lock(&dummy_lock);
		if (dummy[0] == '\0' && user_hash(s, "falconet-dummy", dummy))
			dummy[0] = '\0';
		snprintf(encoded, sizeof(encoded), "%s", dummy);
		pthread_mutex_unlock(&dummy_lock);
	}
	if (argon2id_verify(encoded, password, strlen(password)) != ARGON2_OK ||
	    !found || !u->enabled) {
		explicit_bzero(encoded, sizeof(encoded));
		user_clear(u);
		return RESULT_NOTFOUND;
	}
	if (hash)
		memcpy(hash, encoded, USER_ENCODED_MAX);
	explicit_bzero(encoded, sizeof(encoded));
	if ((st = db_prepare(db, touch)) != NULL) {
		db_bind_int64(st, 1, u->id);
		db_bind_int64(st, 2, now_s());
		db_step_done(db, st, __func__);
	}
	return RESULT_OK;
}

enum result
user_load_with_hash(struct db *db, int64_t id, const char *hash, struct user *u)
{
	static const char sql[] =
	    "SELECT id, username, permissions, enabled, password "
	    "FROM app_user WHERE id = ?1";
	sqlite3_stmt *st = db_prepare(db, sql);
	enum result r = RESULT_NOTFOUND;
	int rc;

	memset(u, 0, sizeof(*u));
	if (st == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, id);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *p = (const char *)sqlite3_column_text(st, 4);

		if (p && sqlite3_column_int(st, 3) &&
		    ct_equal(p, strlen(p), hash, strlen(hash))) {
			user_from_row(st, 0, u);
			r = RESULT_OK;
		}
	} else if (rc != SQLITE_DONE) {
		db_log_error(db, __func__);
		r = RESULT_ERROR;
	}
	db_done(st);
	return r;
}

static enum result
user_revoke_sessions(struct db *db, int64_t user_id)
{
	static const char sql[] = "DELETE FROM session WHERE user_id = ?1";
	sqlite3_stmt *st = db_prepare(db, sql);

	if (st == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, user_id);
	return db_step_done(db, st, __func__);
}

/* Delete the personal API tokens of user_id; *n says how many. */
static enum result
user_revoke_tokens(struct db *db, int64_t user_id, int *n)
{
	static const char sql[] = "DELETE FROM api_token WHERE user_id = ?1";
	sqlite3_stmt *st = db_prepare(db, sql);
	enum result r;

	*n = 0;
	if (st == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, user_id);
	if ((r = db_step_done(db, st, __func__)) == RESULT_OK)
		*n = sqlite3_changes(db_handle(db));
	return r;
}

enum result
user_update(struct db *db, const struct settings *s, const char *username,
    const json_t *perms, int enabled, const char *password, bool keep_tokens)
{
	static const char sql[] =
	    "UPDATE app_user SET permissions = COALESCE(?2, permissions), "
	    "enabled = COALESCE(?3, enabled), password = COALESCE(?4, "
	    "password) "
	    "WHERE id = ?1";
	char encoded[USER_ENCODED_MAX];
	char *grants = NULL;
	struct user u;
	sqlite3_stmt *st;
	enum result r;
	int ntokens = 0;

	if (password && user_password_problem(password))
		return RESULT_INVALID;
	if (password && user_hash(s, password, encoded) == -1)
		return RESULT_ERROR;
	if (db_begin(db) == -1)
		return RESULT_ERROR;
	if ((r = user_load(db, username, &u)) != RESULT_OK)
		goto fail;
	if ((st = db_prepare(db, sql)) == NULL) {
		r = RESULT_ERROR;
		goto fail;
	}
	if (perms)
		grants = json_dumps(perms, JSON_COMPACT);
	db_bind_int64(st, 1, u.id);
	db_bind_text(st, 2, grants);
	if (enabled >= 0)
		db_bind_int64(st, 3, enabled);
	db_bind_text(st, 4, password ? encoded : NULL);
	free(grants);
	if ((r = db_step_done(db, st, __func__)) != RESULT_OK)
		goto fail;
	if ((password || enabled == 0) &&
	    (r = user_revoke_sessions(db, u.id)) != RESULT_OK)
		goto fail;
	if (password && !keep_tokens &&
	    (r = user_revoke_tokens(db, u.id, &ntokens)) != RESULT_OK)
		goto fail;
	explicit_bzero(encoded, sizeof(encoded));
	if (db_commit(db) == -1) {
		user_clear(&u);
		return RESULT_ERROR;
	}
	if (ntokens > 0)
		log_info("password of %s changed: %d personal token(s) "
		         "revoked",
		    u.username, ntokens);
	user_clear(&u);
	return RESULT_OK;
fail:
	user_clear(&u);
	explicit_bzero(encoded, sizeof(encoded));
	db_rollback(db);
	return r;
}

enum result
user_delete(struct db *db, const char *username)
{
	static const char sql[] = "DELETE FROM app_user WHERE username = ?1";
	sqlite3_stmt *st = db_prepare(db, sql);

	if (st == NULL)
		return RESULT_ERROR;
	db_bind_text(st, 1, username);
	return db_step_changed(db, st, __func__);
}

json_t *
user_list_json(struct db *db)
{
	static const char sql[] =
	    "SELECT id, username, permissions, enabled, created_at, "
	    "last_login_at FROM app_user ORDER BY username";
	sqlite3_stmt *st = db_prepare(db, sql);
	json_t *list = json_array();

	if (st == NULL)
		return NULL;
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct user u;

		user_from_row(st, 0, &u);
		json_array_append_new(
		    list, json_pack("{s:s, s:O, s:b, s:I, s:o}", "username",
		              u.username, "permissions", u.permissions,
		              "enabled", u.enabled, "created_at",
		              (json_int_t)sqlite3_column_int64(st, 4),
		              "last_login_at",
		              sqlite3_column_type(st, 5) == SQLITE_NULL
		                  ? json_null()
		                  : json_integer(sqlite3_column_int64(st, 5))));
		user_clear(&u);
	}
	db_done(st);
	return json_pack("{s:o}", "users", list);
}

enum result
session_create(struct db *db, const struct settings *s, int64_t user_id,
    const char *address, char cookie[USER_SESSION_LEN + 1],
    char csrf[USER_CSRF_LEN + 1])
{
	static const char sql[] =
	    "INSERT INTO session (user_id, token_hash, csrf_token, created_at, "
	    "last_seen_at, address) VALUES (?1, ?2, ?3, ?4, ?4, ?5)";
	/* The newest max_sessions_per_user stay (the new one included). */
	static const char cap[] =
	    "DELETE FROM session WHERE user_id = ?1 AND id NOT IN "
	    "(SELECT id FROM session WHERE user_id = ?1 "
	    "ORDER BY created_at DESC, id DESC LIMIT ?2)";
	sqlite3_stmt *st;
	char hash[65];
	enum result r;

	if (random_token(cookie, USER_SESSION_LEN) == -1 ||
	    random_token(csrf, USER_CSRF_LEN) == -1)
		return RESULT_ERROR;
	sha256_hex(cookie, hash);
	if (db_begin(db) == -1)
		return RESULT_ERROR;
	if ((st = db_prepare(db, sql)) == NULL) {
		r = RESULT_ERROR;
		goto fail;
	}
	db_bind_int64(st, 1, user_id);
	db_bind_text(st, 2, hash);
	db_bind_text(st, 3, csrf);
	db_bind_int64(st, 4, now_s());
	db_bind_text(st, 5, address);
	if ((r = db_step_done(db, st, __func__)) != RESULT_OK)
		goto fail;
	if ((st = db_prepare(db, cap)) == NULL) {
		r = RESULT_ERROR;
		goto fail;
	}
	db_bind_int64(st, 1, user_id);
	db_bind_int64(st, 2, s->max_sessions_per_user);
	if ((r = db_step_done(db, st, __func__)) != RESULT_OK)
		goto fail;
	return db_commit(db) == 0 ? RESULT_OK : RESULT_ERROR;
fail:
	db_rollback(db);
	return r;
}

/* The live session whose cookie hashes to hash; touch notes activity. */
static enum result
session_lookup(struct db *db, const struct settings *s, const char *hash,
    struct session *out, bool touch)
{
	static const char sql[] =
	    "SELECT s.id, s.csrf_token, s.created_at, s.last_seen_at, "
	    "u.id, u.username, u.permissions, u.enabled FROM session s "
	    "JOIN app_user u ON u.id = s.user_id WHERE s.token_hash = ?1";
	static const char touch_sql[] =
	    "UPDATE session SET last_seen_at = ?2 WHERE id = ?1";
	sqlite3_stmt *st;
	int64_t created, seen = 0, now = now_s();
	enum result r = RESULT_NOTFOUND;

	memset(out, 0, sizeof(*out));
	if ((st = db_prepare(db, sql)) == NULL)
		return RESULT_ERROR;
	db_bind_text(st, 1, hash);
	if (sqlite3_step(st) == SQLITE_ROW) {
		out->id = sqlite3_column_int64(st, 0);
		snprintf(out->csrf, sizeof(out->csrf), "%s",
		    (const char *)sqlite3_column_text(st, 1));
		created = sqlite3_column_int64(st, 2);
		seen = sqlite3_column_int64(st, 3);
		user_from_row(st, 4, &out->user);
		r = RESULT_OK;
		if (!out->user.enabled || now - seen > s->session_idle ||
		    now - created > (int64_t)s->session_max_hours * 3600) {
			user_clear(&out->user);
			r = RESULT_NOTFOUND;
		}
	}
	db_done(st);
	/* Note activity now and then, often enough that the idle clock
	 * restarts (a tenth of the idle time, at most a minute apart). */
	if (touch && r == RESULT_OK &&
	    now - seen >=
	        (s->session_idle >= 600 ? 60 : s->session_idle / 10) &&
	    (st = db_prepare(db, touch_sql)) != NULL) {
		db_bind_int64(st, 1, out->id);
		db_bind_int64(st, 2, now);
		db_step_done(db, st, __func__);
	}
	return r;
}

enum result
session_find(struct db *db, const struct settings *s, const char *cookie,
    bool activity, struct session *out)
{
	char hash[65];

	memset(out, 0, sizeof(*out));
	if (strlen(cookie) != USER_SESSION_LEN)
		return RESULT_NOTFOUND;
	sha256_hex(cookie, hash);
	return session_lookup(db, s, hash, out, activity);
}

enum result
session_find_hash(struct db *db, const struct settings *s, const char *hash,
    struct session *out)
{
	return session_lookup(db, s, hash, out, false);
}

enum result
session_delete(struct db *db, const char *cookie)
{
	static const char sql[] = "DELETE FROM session WHERE token_hash = ?1";
	sqlite3_stmt *st = db_prepare(db, sql);
	char hash[65];

	if (st == NULL)
		return RESULT_ERROR;
	sha256_hex(cookie, hash);
	db_bind_text(st, 1, hash);
	return db_step_done(db, st, __func__);
}

void
session_expire(struct db *db, const struct settings *s)
{
	static const char sql[] =
	    "DELETE FROM session WHERE last_seen_at < ?1 OR created_at < ?2";
	sqlite3_stmt *st = db_prepare(db, sql);

	if (st == NULL)
		return;
	db_bind_int64(st, 1, now_s() - s->session_idle);
	db_bind_int64(st, 2, now_s() - (int64_t)s->session_max_hours * 3600);
	db_step_done(db, st, __func__);
}
