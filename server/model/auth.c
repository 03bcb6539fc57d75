/*
 * Device and operator authentication.  Tokens are never stored: devices'
 * TargetTokens and management tokens are kept as SHA-256 hex, and compared
 * in constant time.  The gateway token comes from the settings.
 */
#include "auth.h"

#include <nettle/base64.h>
#include <nettle/hmac.h>
#include <nettle/sha2.h>
#include <pthread.h>
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
#include "ratelimit.h"
#include "refused.h"
#include "settings.h"
#include "sysconf.h"
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

/* Does one header value (a list split on ',' and ';') hold a trusted
 * authority? */
static bool
auth_authority_listed(const struct settings *s, const char *value)
{
	char buf[1024], *tok, *save;

	snprintf(buf, sizeof(buf), "%s", value);
	for (tok = strtok_r(buf, ",;", &save); tok;
	     tok = strtok_r(NULL, ",;", &save)) {
		size_t n;

		tok += strspn(tok, " \t");
		n = strlen(tok);
		while (n > 0 && (tok[n - 1] == ' ' || tok[n - 1] == '\t'))
			tok[--n] = '\0';
		if (n > 0 && sysconf_authority_trusted(s, tok))
			return true;
	}
	return false;
}

/*
 * Client certificate checked by a reverse proxy (hawkBit's header
 * authentication): the CN header equals the path's controller id, and the
 * issuer header (X-Authority) or one of its numbered forms (X-Authority-0,
 * X-Authority-1, ...) holds a trusted authority.  Only the socket peer's
 * word counts, and only if it is in proxy.cert_trusted: a proxy that
 * passed a client's own headers on would let it be any device.
 */
static bool
auth_proxy_cert(struct request *req, const char *cid)
{
	const struct settings *s = req->app->settings;
	const char *cn, *v;
	char name[sizeof(s->cert_issuer_header) + 8];

	if (!req->peer_cert_proxy || !sysconf_header_enabled(s))
		return false;
	if ((cn = http_header(req, s->cert_cn_header)) == NULL ||
	    strcmp(cn, cid) != 0)
		return false;
	if ((v = http_header(req, s->cert_issuer_header)) != NULL &&
	    auth_authority_listed(s, v))
		return true;
	for (int i = 0; i < AUTH_AUTHORITY_HEADERS; i++) {
		snprintf(name, sizeof(name), "%s-%d", s->cert_issuer_header, i);
		if ((v = http_header(req, name)) != NULL &&
		    auth_authority_listed(s, v))
			return true;
	}
	return false;
}

/* auth_device's decision; *why says what a 401 was for. */
static int
auth_device_check(struct request *req, struct db *db, const char *cid,
    enum refused_reason *why)
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
	/* A certificate presented to us over HTTPS (tls.client_ca): one
	 * for this device vouches for it as a proxy's would; a refused one
	 * (another device's, expired, another CA's) is refused whatever
	 * else the request carries. */
	if (req->client_cert == TLS_CLIENT_BAD) {
		log_warnx("refused device %.*s from %s: its client certificate "
		          "%s",
		    (int)utf8_cut(req->principal, 64), req->principal,
		    req->peer, req->client_cert_why);
		return 401;
	}
	if (req->client_cert == TLS_CLIENT_OK || auth_proxy_cert(req, cid)) {
		req->device_may_register = req->device_vouched = true;
		return 0;
	}
	if (s->tls_client_auth == TLS_AUTH_REQUIRED &&
	    s->tls_client_ca[0] != '\0') {
		log_warnx("refused device %.*s from %s: no client certificate "
		          "(tls.client_auth is required)",
		    (int)utf8_cut(req->principal, 64), req->principal,
		    req->peer);
		return 401;
	}
	if (authz != NULL && target == NULL && gateway == NULL)
		return *why = REFUSED_BAD_SCHEME, 401; /* not "no token" */
	if (gateway != NULL) {
		if (!sysconf_gateway_ok(s, gateway))
			return *why = REFUSED_WRONG_GATEWAY, 401;
		req->device_may_register = req->device_vouched = true;
		return 0;
	}
	if (target != NULL) {
		if (!sysconf_targettoken_enabled(s))
			return *why = REFUSED_TOKEN_DISABLED, 401;
		if (strlen(target) > AUTH_DEVICE_TOKEN_MAX)
			return *why = REFUSED_BAD_TOKEN, 401;
		auth_hash_token(target, hash);
		if (stored[0] != '\0')
			return ct_equal(hash, 64, stored, strlen(stored))
			           ? 0
			           : (*why = REFUSED_WRONG_TOKEN, 401);
		switch (s->device_auth) {
		case DEVICE_AUTH_TOKEN:
			/* Only pre-registered tokens. */
			return *why = req->device_id ? REFUSED_MISSING_TOKEN
			                             : REFUSED_UNKNOWN_DEVICE,
			       401;
		case DEVICE_AUTH_TOFU:
			/* Trust on first use: remember this token, if it is
			 * one the operator could have set (device.c). */
			if (!device_token_valid(target))
				return *why = REFUSED_BAD_TOKEN, 401;
			req->new_token_hash = xstrdup(hash);
			req->device_may_register = true;
			return 0;
		case DEVICE_AUTH_OPEN:
			req->device_may_register = true;
			return 0;
		}
		return *why = REFUSED_WRONG_TOKEN, 401;
	}
	/* No credentials: only open mode, and only for token-less devices. */
	if (s->device_auth != DEVICE_AUTH_OPEN || stored[0] != '\0')
		return *why =
		           req->device_id || s->device_auth != DEVICE_AUTH_TOKEN
		               ? REFUSED_MISSING_TOKEN
		               : REFUSED_UNKNOWN_DEVICE,
		       401;
	req->device_may_register = true;
	return 0;
}

int
auth_device(struct request *req, struct db *db, const char *cid)
{
	enum refused_reason why = REFUSED_WRONG_TOKEN;
	int status = auth_device_check(req, db, cid, &why);

	if (status == 401)
		refused_note(req->app->refused, cid, req->peer, why);
	return status;
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

/*
 * Whether a request is the operator's doing, which restarts the session's
 * idle clock: not the dashboard's background refreshes (X-Background: 1)
 * nor a live event stream (Accept: text/event-stream), so that a tab left
 * open idles out like any other.
 */
static bool
auth_is_activity(struct request *req)
{
	const char *bg = http_header(req, "X-Background");
	const char *accept = http_header(req, "Accept");

	if (bg != NULL && strcmp(bg, "1") == 0)
		return false;
	return accept == NULL ||
	       strncasecmp(accept, "text/event-stream", 17) != 0;
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
	r = session_find(
	    db, req->app->settings, cookie, auth_is_activity(req), &sess);
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

void
auth_guard_keys(const char *peer, const char *name, struct auth_guard *g)
{
	snprintf(g->user_key, sizeof(g->user_key), "user:%s", name);
	ratelimit_address_key(peer, g->addr_key);
}

bool
auth_guard_begin(
    struct request *req, const char *name, struct auth_guard *g, int *wait)
{
	const struct settings *s = req->app->settings;

	auth_guard_keys(req->peer, name, g);
	*wait = 0;
	/* The address first: while it is refused, the user's count stays
	 * untouched; an attempt the user's limit refuses is taken back
	 * from the address. */
	return ratelimit_attempt2(req->app->login_limits, g->addr_key,
	    s->login_max_failures * 4, g->user_key, s->login_max_failures,
	    s->login_window, wait);
}

void
auth_guard_end(struct request *req, const char *name,
    const struct auth_guard *g, bool ok, const char *what)
{
	if (!ok) {
		log_warnx("failed %s for %s from %s", what, name, req->peer);
		return;
	}
	/* A success counts against neither limit. */
	ratelimit_reset(req->app->login_limits, g->user_key);
	ratelimit_refund(req->app->login_limits, g->addr_key);
}

/*
 * Recent successful Basic credentials, so that a script's every request
 * does not cost an argon2id hash.  An entry is keyed by an HMAC of the
 * whole Authorization value under a key drawn at start (the table never
 * holds a password, nor a plain hash of one that could be guessed
 * offline), and holds the user id and the stored password hash it was
 * checked against.  It counts for AUTH_BASIC_TTL seconds, and only while
 * the user's row still has that hash and is enabled: a password change
 * or disabling ends it at the next request.
 */
struct auth_basic_entry {
	unsigned char mac[SHA256_DIGEST_SIZE];
	int64_t user_id;
	int64_t until; /* 0: free */
	char hash[USER_ENCODED_MAX];
};

struct auth_basic_cache {
	pthread_mutex_t lock;
	struct hmac_sha256_ctx hmac; /* keyed once, copied per use */
	struct auth_basic_entry e[AUTH_BASIC_CACHE_MAX];
};

struct auth_basic_cache *
auth_basic_cache_new(void)
{
	struct auth_basic_cache *c = xcalloc(1, sizeof(*c));
	unsigned char key[32];

	if (random_bytes(key, sizeof(key)) == -1) {
		free(c);
		return NULL;
	}
	pthread_mutex_init(&c->lock, NULL);
	hmac_sha256_set_key(&c->hmac, sizeof(key), key);
	explicit_bzero(key, sizeof(key));
	return c;
}

void
auth_basic_cache_free(struct auth_basic_cache *c)
{
	if (c == NULL)
		return;
	pthread_mutex_destroy(&c->lock);
	explicit_bzero(c, sizeof(*c));
	free(c);
}

static void
auth_basic_mac(struct auth_basic_cache *c, const char *authz,
    unsigned char mac[SHA256_DIGEST_SIZE])
{
	struct hmac_sha256_ctx ctx;

	pthread_mutex_lock(&c->lock);
	ctx = c->hmac;
	pthread_mutex_unlock(&c->lock);
	hmac_sha256_update(&ctx, strlen(authz), (const uint8_t *)authz);
	hmac_sha256_digest(&ctx, SHA256_DIGEST_SIZE, mac);
	explicit_bzero(&ctx, sizeof(ctx));
}

/* The live entry for mac: its user id and hash copied out. */
static bool
auth_basic_lookup(struct auth_basic_cache *c, const unsigned char *mac,
    int64_t *user_id, char hash[USER_ENCODED_MAX])
{
	int64_t now = now_s();
	bool found = false;

	pthread_mutex_lock(&c->lock);
	for (size_t i = 0; i < AUTH_BASIC_CACHE_MAX && !found; i++) {
		struct auth_basic_entry *e = &c->e[i];

		if (e->until > now &&
		    memcmp(e->mac, mac, SHA256_DIGEST_SIZE) == 0) {
			*user_id = e->user_id;
			memcpy(hash, e->hash, USER_ENCODED_MAX);
			found = true;
		}
	}
	pthread_mutex_unlock(&c->lock);
	return found;
}

/* Forget mac (its user's row no longer matches). */
static void
auth_basic_forget(struct auth_basic_cache *c, const unsigned char *mac)
{
	pthread_mutex_lock(&c->lock);
	for (size_t i = 0; i < AUTH_BASIC_CACHE_MAX; i++)
		if (memcmp(c->e[i].mac, mac, SHA256_DIGEST_SIZE) == 0)
			explicit_bzero(&c->e[i], sizeof(c->e[i]));
	pthread_mutex_unlock(&c->lock);
}

/* Remember a checked credential: in its own slot, a free or ended one,
 * else the one that ends first. */
static void
auth_basic_store(struct auth_basic_cache *c, const unsigned char *mac,
    int64_t user_id, const char *hash)
{
	int64_t now = now_s();
	size_t pick = 0;

	pthread_mutex_lock(&c->lock);
	for (size_t i = 0; i < AUTH_BASIC_CACHE_MAX; i++) {
		if (memcmp(c->e[i].mac, mac, SHA256_DIGEST_SIZE) == 0 ||
		    c->e[i].until <= now) {
			pick = i;
			break;
		}
		if (c->e[i].until < c->e[pick].until)
			pick = i;
	}
	memcpy(c->e[pick].mac, mac, SHA256_DIGEST_SIZE);
	c->e[pick].user_id = user_id;
	c->e[pick].until = now + AUTH_BASIC_TTL;
	snprintf(c->e[pick].hash, sizeof(c->e[pick].hash), "%s", hash);
	pthread_mutex_unlock(&c->lock);
}

/*
 * Decode "Basic base64(user:password)" into name and pw.  A name
 * "TENANT\user" counts when TENANT is the settings' tenant (any case).
 * false for anything else: bad base64, no colon, a NUL, over-long parts.
 */
static bool
auth_basic_decode(const struct settings *s, const char *b64,
    char name[USER_NAME_MAX + 1], char pw[USER_PASSWORD_MAX + 1])
{
	struct base64_decode_ctx ctx;
	size_t in = strlen(b64), n = 0;
	char out[BASE64_DECODE_LENGTH(AUTH_BASIC_MAX) + 1], *colon, *user;
	bool ok = false;

	if (in > AUTH_BASIC_MAX)
		return false;
	base64_decode_init(&ctx);
	n = sizeof(out) - 1;
	if (!base64_decode_update(&ctx, &n, (uint8_t *)out, in, b64) ||
	    !base64_decode_final(&ctx) || memchr(out, '\0', n) != NULL)
		goto done;
	out[n] = '\0';
	if ((colon = strchr(out, ':')) == NULL)
		goto done;
	*colon = '\0';
	user = strchr(out, '\\');
	if (user != NULL) {
		*user++ = '\0';
		if (strcasecmp(out, s->tenant) != 0)
			goto done;
	} else
		user = out;
	if (strlen(user) == 0 || strlen(user) > USER_NAME_MAX ||
	    strlen(colon + 1) > USER_PASSWORD_MAX)
		goto done;
	memcpy(name, user, strlen(user) + 1);
	memcpy(pw, colon + 1, strlen(colon + 1) + 1);
	ok = true;
done:
	explicit_bzero(out, sizeof(out));
	return ok;
}

/* The user u signed in with Basic: its grants for this request. */
static void
auth_basic_accept(struct request *req, const struct user *u)
{
	req->user_id = u->id;
	req->grants = json_incref(u->permissions);
	free(req->principal);
	req->principal = xstrdup(u->username);
}

/*
 * Basic with a credential in the cache: one read by primary key.  0
 * accepted, 1 not cached (argon2 must decide), or 503.
 */
static int
auth_basic_cached(struct request *req, struct db *db, const char *authz)
{
	struct auth_basic_cache *c = req->app->basic_cache;
	unsigned char mac[SHA256_DIGEST_SIZE];
	char hash[USER_ENCODED_MAX];
	int64_t id;
	struct user u;
	enum result r;
	int rc = 1;

	if (c == NULL)
		return 1;
	auth_basic_mac(c, authz, mac);
	if (!auth_basic_lookup(c, mac, &id, hash))
		return 1;
	r = user_load_with_hash(db, id, hash, &u);
	if (r == RESULT_OK) {
		auth_basic_accept(req, &u);
		rc = 0;
	} else if (r == RESULT_ERROR)
		rc = 503;
	else
		auth_basic_forget(c, mac);
	user_clear(&u);
	explicit_bzero(hash, sizeof(hash));
	return rc;
}

int
auth_rest(struct request *req, struct db *db)
{
	const char *authz = http_header(req, "Authorization");
	const char *b64 = auth_scheme(authz, "Basic");
	char name[USER_NAME_MAX + 1], pw[USER_PASSWORD_MAX + 1], retry[16];
	struct auth_guard g;
	int rc, wait;

	/* No session cookie here: /rest/v1 has no CSRF token to check. */
	if (authz == NULL)
		return 401;
	if (b64 == NULL)
		return auth_scheme(authz, "Bearer") ? auth_admin(req, db) : 401;
	if (!auth_basic_decode(req->app->settings, b64, name, pw))
		return 401;
	explicit_bzero(pw, sizeof(pw));
	free(req->principal);
	req->principal = xstrdup(name);
	/* Counted as a login is, before the password is looked at. */
	if (!auth_guard_begin(req, name, &g, &wait)) {
		snprintf(retry, sizeof(retry), "%d", wait);
		http_set_header(req, "Retry-After", retry);
		return 429;
	}
	if ((rc = auth_basic_cached(req, db, authz)) != 1) {
		if (rc == 0)
			auth_guard_end(req, name, &g, true, "Basic login");
		return rc;
	}
	/* argon2id is for the thread that runs the handler (auth_rest_finish):
	 * the management pool, not a thread that answers devices. */
	req->auth_deferred = true;
	return 0;
}

int
auth_rest_finish(struct request *req, struct db *db)
{
	const char *authz = http_header(req, "Authorization");
	const char *b64 = auth_scheme(authz, "Basic");
	char name[USER_NAME_MAX + 1], pw[USER_PASSWORD_MAX + 1];
	char hash[USER_ENCODED_MAX];
	unsigned char mac[SHA256_DIGEST_SIZE];
	struct auth_guard g;
	struct user u;
	enum result r;

	req->auth_deferred = false;
	if (b64 == NULL ||
	    !auth_basic_decode(req->app->settings, b64, name, pw))
		return 401;
	auth_guard_keys(req->peer, name, &g);
	r = user_verify_hash(db, req->app->settings, name, pw, &u, hash);
	explicit_bzero(pw, sizeof(pw));
	if (r == RESULT_ERROR)
		return 503;
	auth_guard_end(req, name, &g, r == RESULT_OK, "Basic login");
	if (r != RESULT_OK)
		return 401;
	if (req->app->basic_cache) {
		auth_basic_mac(req->app->basic_cache, authz, mac);
		auth_basic_store(req->app->basic_cache, mac, u.id, hash);
	}
	explicit_bzero(hash, sizeof(hash));
	auth_basic_accept(req, &u);
	user_clear(&u);
	return 0;
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
