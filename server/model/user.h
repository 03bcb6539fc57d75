/*
 * Operator accounts and their login sessions.  Passwords are argon2id
 * hashes; a session is known by the SHA-256 of its cookie value.  Owns the
 * app_user and session tables.
 */
#ifndef USER_H
#define USER_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "util.h"

struct db;
struct settings;

#define USER_NAME_MAX 64
#define USER_PASSWORD_MIN 10
#define USER_PASSWORD_MAX 256
#define USER_SESSION_LEN 43 /* cookie value: random alphanumerics */
#define USER_CSRF_LEN 32
#define USER_ENCODED_MAX 256 /* an argon2id encoded hash, NUL included */

struct user {
	int64_t id;
	char *username;
	json_t *permissions; /* array of grants */
	bool enabled;
};

struct session {
	int64_t id;
	struct user user;
	char csrf[USER_CSRF_LEN + 1];
};

void user_clear(struct user *);

/* Number of users, or -1 on error. */
int64_t user_count(struct db *);
bool user_name_valid(const char *);
/* *why for a password that is too short or too long, else NULL. */
const char *user_password_problem(const char *);

/*
 * Create a user.  first_only refuses (RESULT_CONFLICT) when any user
 * exists, checked in the same transaction (the first-run set-up).
 */
enum result user_create(struct db *, const struct settings *,
    const char *username, const char *password, const json_t *perms,
    bool first_only, int64_t *id);
/* user_create that, with weak, also takes a password shorter than
 * USER_PASSWORD_MIN (the command line's --allow-weak-password). */
enum result user_create_weak(struct db *, const struct settings *,
    const char *username, const char *password, const json_t *perms,
    bool first_only, bool weak, int64_t *id);
/* Check a password; RESULT_OK fills *u (an enabled user).  Takes the same
 * time whether or not the user exists. */
enum result user_verify(struct db *, const struct settings *,
    const char *username, const char *password, struct user *u);
/* user_verify that also copies the user's stored password hash into
 * hash on RESULT_OK (for auth.c's cache of Basic credentials). */
enum result user_verify_hash(struct db *, const struct settings *,
    const char *username, const char *password, struct user *u,
    char hash[USER_ENCODED_MAX]);
/* The enabled user id whose stored password hash is still hash (one
 * read by primary key, no argon2): RESULT_OK fills *u, RESULT_NOTFOUND
 * once the password changed or the user was disabled or deleted. */
enum result user_load_with_hash(
    struct db *, int64_t id, const char *hash, struct user *u);
enum result user_load(struct db *, const char *username, struct user *);
/* Change permissions, enabled or password (any may be NULL/unset). A
 * password change or disabling revokes the user's sessions; a password
 * change also their personal API tokens, unless keep_tokens. */
enum result user_update(struct db *, const struct settings *,
    const char *username, const json_t *perms, int enabled,
    const char *password, bool keep_tokens);
enum result user_delete(struct db *, const char *username);
json_t *user_list_json(struct db *);

/* Start a session; writes the cookie value and CSRF token.  The user's
 * oldest sessions end beyond s->max_sessions_per_user. */
enum result session_create(struct db *, const struct settings *,
    int64_t user_id, const char *address, char cookie[USER_SESSION_LEN + 1],
    char csrf[USER_CSRF_LEN + 1]);
/* The live session of a cookie value (idle and absolute expiry applied);
 * activity restarts its idle clock (false for requests the dashboard makes
 * on its own, such as its background refreshes and live streams). */
enum result session_find(struct db *, const struct settings *,
    const char *cookie, bool activity, struct session *);
/* The same by the SHA-256 of the cookie (hex), without noting activity:
 * for checking a live stream's session again. */
enum result session_find_hash(
    struct db *, const struct settings *, const char *hash, struct session *);
enum result session_delete(struct db *, const char *cookie);
/* Drop expired sessions (called now and then). */
void session_expire(struct db *, const struct settings *);

#endif
