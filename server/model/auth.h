/*
 * Who may make a request.  Devices: TargetToken, GatewayToken, a client
 * certificate (presented over HTTPS, or checked by a trusted proxy), or
 * nothing, per device_auth.mode and tls.client_auth.
 * Operators: management API tokens (Bearer), stored as SHA-256 only.
 */
#ifndef AUTH_H
#define AUTH_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ratelimit.h"
#include "util.h"

struct db;
struct request;

#define AUTH_TOKEN_LEN 40 /* alphanumerics in a management token */
#define AUTH_DEVICE_TOKEN_MAX 128
/* What an API token needs to manage its user's tokens (a session needs
 * nothing): see auth_manages_tokens. */
#define AUTH_TOKENS_PERM "users.write"

/*
 * Decide whether req may act as device `cid`.  Sets req->device_id (0 for
 * an unknown device), req->device_may_register, req->device_vouched (the
 * GatewayToken, a client certificate that http.c checked into
 * req->client_cert, or a proxy's, vouches for the device) and, in tofu
 * mode, the token hash to store: only a token device_token_valid takes.
 * 0 allowed; else the HTTP status to answer (401).
 */
int auth_device(struct request *req, struct db *db, const char *cid);

#define AUTH_COOKIE "falconet_session"
/* Over HTTPS: browsers take a __Host- cookie only from a secure origin,
 * for Path=/ and no Domain, so a sibling subdomain cannot plant one. */
#define AUTH_COOKIE_HTTPS "__Host-falconet_session"

/* The session cookie's name for this request: AUTH_COOKIE_HTTPS when the
 * server is reached over HTTPS (http_is_https), else AUTH_COOKIE.  Only
 * that name is read. */
const char *auth_cookie_name(struct request *req);

/*
 * Authenticate a management request: a Bearer token (machine or personal)
 * or the session cookie.  Sets req->grants, user_id, principal and, for a
 * session, via_session and csrf.  0 ok, else 401 (or 503).
 */
int auth_admin(struct request *req, struct db *db);
/*
 * /rest/v1 (hawkBit's Management API): HTTP Basic with an operator's
 * name and password (also as "TENANT\\name"), or a Bearer token as
 * auth_admin takes it; never the session cookie.  Basic counts against
 * the login limits as POST /api/v1/login does (429 with Retry-After set
 * while locked).  A credential checked in the last AUTH_BASIC_TTL seconds
 * costs one read; any other sets req->auth_deferred and returns 0, and
 * auth_rest_finish, on the thread that runs the handler, checks the
 * password.  0, or the status to answer.
 */
int auth_rest(struct request *req, struct db *db);
/* The argon2id half of auth_rest.  0, or the status to answer. */
int auth_rest_finish(struct request *req, struct db *db);

#define AUTH_BASIC_CACHE_MAX 256  /* recent Basic credentials kept */
#define AUTH_BASIC_TTL 60         /* seconds one is trusted without argon2 */
#define AUTH_BASIC_MAX 1024       /* bytes of base64 after "Basic " */
#define AUTH_AUTHORITY_HEADERS 10 /* X-Authority-0 .. X-Authority-9 */

struct auth_basic_cache;
/* The cache of app->basic_cache (with a fresh random key), NULL if no
 * random bytes could be had; freed by auth_basic_cache_free (NULL ok). */
struct auth_basic_cache *auth_basic_cache_new(void);
void auth_basic_cache_free(struct auth_basic_cache *);

/*
 * Password checks (login, Basic, proving the current password) count
 * against two limits: auth.login_max_failures per user name and four
 * times that per client address.  auth_guard_begin counts the attempt
 * first, so concurrent guesses cannot slip past together; false (and
 * *wait, seconds) while either refuses.  auth_guard_end takes the attempt
 * back after a success, or logs the failure ("failed <what> for ...").
 */
struct auth_guard {
	char user_key[RATELIMIT_KEY_MAX];
	char addr_key[RATELIMIT_KEY_MAX];
};
void auth_guard_keys(const char *peer, const char *name, struct auth_guard *);
bool auth_guard_begin(
    struct request *, const char *name, struct auth_guard *, int *wait);
void auth_guard_end(struct request *, const char *name,
    const struct auth_guard *, bool ok, const char *what);
struct settings;

/*
 * Does the credential that opened a long request (a live stream) still
 * allow perm?  hash is req->cred_hash: the session's (via_session) or the
 * API token's.  False once the session ended, expired or was revoked, the
 * token was deleted, the user disabled or deleted, or the permission taken
 * away.  A database error answers true (checked again later).
 */
bool auth_still_allows(struct db *, const struct settings *, bool via_session,
    const char *hash, const char *perm);
/* May the authenticated principal do perm (NULL: anything signed in)? */
bool auth_allows(struct request *req, const char *perm);
/* May the principal hand out these grants (to a user or a token)?  Only
 * what it holds itself: for a personal token, what both the token and
 * its user hold. */
bool auth_may_grant(struct request *req, const json_t *grants);
/*
 * May the principal list, create and delete its own API tokens?  A login
 * session may; an API token only if it allows users.write (minting
 * credentials is managing accounts), so a scoped token cannot outlive its
 * own revocation through children or revoke its siblings.  (Any token may
 * still delete itself: mgmt_delete_token.)
 */
bool auth_manages_tokens(struct request *req);
/* A state-changing request made with the session cookie must echo the
 * session's CSRF token in X-CSRF-Token.  0 ok, else 403. */
int auth_check_csrf(struct request *req);

/*
 * Create a management token named `name` (1..64 chars [A-Za-z0-9_.-]).
 * Writes the token (AUTH_TOKEN_LEN + 1 bytes) to out; only its hash is
 * stored.  RESULT_CONFLICT if the name exists, RESULT_INVALID for a bad name.
 */
enum result auth_token_create(struct db *db, const char *name, char *out);
/* Delete a command-line token by name.  RESULT_NOTFOUND if none. */
enum result auth_token_delete(struct db *db, const char *name);
/* A token of user_id (0: a full-access machine token) with these grants. */
enum result auth_token_create_for(struct db *db, const char *name,
    int64_t user_id, const json_t *grants, char *out, int64_t *id);
/* {"tokens": [...]} of user_id (0: the machine tokens); never the tokens. */
json_t *auth_token_list_json(struct db *db, int64_t user_id);
/* Delete token id if it belongs to user_id. */
enum result auth_token_delete_id(struct db *db, int64_t id, int64_t user_id);

/* Hash a device or API token for storage: hex SHA-256 into out[65]. */
void auth_hash_token(const char *token, char out[65]);

#endif
