/*
 * The HTTP layer on libmicrohttpd: one struct request per request, body
 * caps, streaming uploads, and the reply helpers every handler ends in.
 * Handlers never see libmicrohttpd types.
 */
#ifndef HTTP_H
#define HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tls.h"
#include "util.h"

#define HTTP_JSON_BODY_MAX (256 * 1024) /* DDI and management JSON bodies */
#define HTTP_HEADERS_MAX 16             /* extra response headers */
#define HTTP_PARAMS_MAX 4               /* {name} segments in a route */
#define HTTP_TEXT_MAX 512 /* an error's detail or message, NUL included */

struct app;
struct device;
struct route;
struct http_server;
struct upload;

struct http_header {
	const char *name; /* a literal */
	char *value;      /* owned */
};

struct request {
	struct app *app;
	void *conn;         /* struct MHD_Connection */
	const char *method; /* "GET", ... (libmicrohttpd's) */
	const char *url;    /* raw path, not decoded */
	const struct route *route;
	char *params[HTTP_PARAMS_MAX]; /* decoded {name} segments */
	int nparams;
	bool is_head;

	char *body; /* JSON body, NUL-terminated */
	size_t body_len;
	struct upload *upload; /* streaming upload, or NULL */

	/* Set by auth: who made the request, for handlers and the log. */
	int64_t device_id;     /* DDI: 0 if not registered yet */
	struct device *device; /* DDI: its row as auth read it, or NULL */
	bool device_may_register;
	bool device_vouched;  /* by the GatewayToken or a proxy certificate */
	char *new_token_hash; /* tofu: token to store for the device */
	/* Set by auth for management requests. */
	json_t *grants;        /* the principal's permissions */
	json_t *user_grants;   /* a personal token's user's, or NULL */
	int64_t user_id;       /* 0: a token made on the command line */
	int64_t token_id;      /* the API token used, 0 for a session */
	bool via_session;      /* authenticated by the session cookie */
	bool auth_deferred;    /* Basic: auth_rest_finish checks it first */
	char cred_hash[65];    /* SHA-256 of that cookie or the API token */
	char csrf[40];         /* the session's CSRF token */
	char *audit_target;    /* set by a handler to name the object */
	char *principal;       /* controller id or token name */
	char peer[64];         /* client address (through trusted proxies) */
	bool peer_trusted;     /* the socket peer is a trusted proxy */
	bool peer_cert_proxy;  /* ... one in proxy.cert_trusted */
	bool upload_seen_file; /* multipart: the "file" part arrived */
	json_t *form;          /* multipart: the other small fields */
	bool tls;              /* it came over our own HTTPS listener */
	/* DDI over HTTPS with tls.client_ca: the client certificate for the
	 * path's controller id, and why it was refused (TLS_CLIENT_BAD). */
	enum tls_client client_cert;
	char client_cert_why[128];

	struct http_header headers[HTTP_HEADERS_MAX];
	int nheaders;

	/* The reply (set by exactly one reply helper). */
	bool replied;
	int status;
	uint64_t bytes;
	int64_t start_ms;
	char *error_code; /* deferred error to answer at the end */
	int error_status;
	char *error_detail;
};

/* Start serving on the settings' address: HTTPS when app->tls is set,
 * and then plain HTTP too on listen.http_port if that is not -1.  NULL on
 * failure (logged). */
struct http_server *http_start(struct app *);
/* The port actually bound (useful with port 0): the main listener's. */
int http_port(struct http_server *);
/* The plain HTTP listener's port beside HTTPS, or -1 if there is none. */
int http_plain_port(struct http_server *);
void http_stop(struct http_server *);

/* Request accessors.  Strings are owned by the request. */
const char *http_header(struct request *, const char *name);
/* A query parameter, percent-decoded ('+' is a space), or NULL. */
const char *http_query(struct request *, const char *name);
/* A multipart/form-data field other than "file" (at most
 * HTTP_FORM_VALUE_MAX bytes of text), or NULL. */
const char *http_form(struct request *, const char *name);
#define HTTP_FORM_FIELDS_MAX 16
#define HTTP_FORM_VALUE_MAX 512
/* Scheme://host[:port] for absolute links: public_url, or the request's
 * Host (and X-Forwarded-* from trusted proxies).  Owned by the request. */
const char *http_base_url(struct request *);

/* A cookie sent by the client, or NULL. */
const char *http_cookie(struct request *, const char *name);
/* Did the client reach us over https (directly or via a trusted proxy)? */
bool http_is_https(struct request *);

/* Add a response header; name must be a literal, value is copied. */
void http_set_header(struct request *, const char *name, const char *value);

/* The reply helpers.  Each request ends in exactly one of them. */
/* JSON body (consumed, even on error; NULL, a failed json_pack, is 500). */
void http_reply_json(struct request *, int status, json_t *body);
/* A JSON body already written (malloc'd; the reply takes it). */
void http_reply_json_text(struct request *, int status, char *text, size_t len);
/* Management API error: {"error": code, "detail": detail}. */
void http_reply_error(struct request *, int status, const char *code,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Map a domain result to a status and answer with a management error. */
void http_reply_result(struct request *, enum result, const char *detail);
/* DDI error: hawkBit's {"errorCode", "message"} body; status 401 and 405
 * get no body, as hawkBit answers. */
void http_reply_ddi_error(struct request *, int status, const char *code,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* No body. */
void http_reply_empty(struct request *, int status);
/* Plain text body (copied). */
void http_reply_text(
    struct request *, int status, const char *ctype, const char *text);
/*
 * len bytes at offset from the open file fd, sent zero-copy (sendfile).
 * Takes over fd: it is closed when the reply is done or on failure.
 */
void http_reply_fd(struct request *, int status, int fd, uint64_t offset,
    uint64_t len, const char *ctype);

/* A Server-Sent Events stream of device_id's log and action changes,
 * open until the client leaves or the server stops. */
void http_reply_events(struct request *, int64_t device_id);

/* Status and the result enum both ways. */
int http_status_of(enum result);

#endif
