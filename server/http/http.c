/*
 * The HTTP layer.  libmicrohttpd runs an epoll thread pool; each request
 * gets a struct request on the first call of the access handler, body bytes
 * on the middle calls (JSON to a capped buffer, uploads to a temp file), and
 * is dispatched on the last call.  Responses are queued on a later call
 * than the first, because libmicrohttpd 0.9.75 closes the connection after
 * a response queued on the first call (keep-alive would be lost).  Early
 * answers (401 before an upload, 413) are queued at once on purpose: the
 * connection should close then.
 */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "app.h"
#include "audit.h"
#include "auth.h"
#include "db.h"
#include "device.h"
#include "guard.h"
#include "log.h"
#include "metrics.h"
#include "pool.h"
#include "rest.h"
#include "route.h"
#include "settings.h"
#include "sse.h"
#include "upload.h"
#include "util.h"

#define HTTP_CONN_MEMORY (12 * 1024)      /* per-connection buffer */
#define HTTP_DRAIN_MAX (16 * 1024 * 1024) /* see http_refuse_now */
/* Descriptors kept back from connections: listening socket, epoll and
 * wake-up descriptors, standard streams, libraries... */
#define HTTP_FD_RESERVE 32
#define HTTP_FD_PER_THREAD 6 /* its epoll and eventfd, SQLite's 3, slack */
#define HTTP_POOL_RETRY "1"  /* Retry-After when the pool's queue is full */
#define HTTP_CONNS_MIN 8     /* fewer connections than this: do not start */

static const char http_json_too_big[] = "JSON bodies are limited to 256 KiB";
_Static_assert(HTTP_JSON_BODY_MAX == 262144, "http_json_too_big says so");
static const char http_too_many_params[] = "at most 16 query parameters";
/* Query parameters a request may carry (more is a 400): every name is
 * decoded and kept once looked up, so this also bounds that cache.  The
 * device list reads nine. */
#define HTTP_QUERY_MAX 16
#define HTTP_XFF_LINES 8 /* X-Forwarded-For header lines read */
_Static_assert(HTTP_QUERY_MAX == 16, "http_too_many_params says so");

/* One listening daemon: the main one (HTTPS when TLS is set up), and
 * with TLS maybe a plain HTTP one beside it (listen.http_port). */
struct http_listener {
	struct http_server *srv;
	struct MHD_Daemon *mhd;
	bool tls;
	int port;
};

struct http_server {
	struct http_listener main, plain; /* plain.mhd NULL: none */
	struct app *app;
	struct pool *pool;   /* the management pool (route flag ROUTE_POOL) */
	struct guard *guard; /* per-address limits, request deadlines */
};

/* Per-request extras that only http.c knows. */
struct request_priv {
	struct request req;
	struct MHD_PostProcessor *pp;
	char *query_names[HTTP_QUERY_MAX];
	char *query_values[HTTP_QUERY_MAX];
	int nquery;
	char *base_url;
	size_t body_cap;
	uint64_t dropped; /* body bytes read and thrown away */
	struct http_server *srv;
	struct http_listener *lst; /* the one it came in on */
	/* Handed to the management pool: the connection is suspended, and
	 * the reply helpers keep the answer here for http_access to queue
	 * when it resumes (only the connection's own thread queues). */
	bool pooled;
	struct MHD_Response *pending;
	unsigned pending_status;
};

int
http_status_of(enum result r)
{
	switch (r) {
	case RESULT_OK:
		return MHD_HTTP_OK;
	case RESULT_NOTFOUND:
		return MHD_HTTP_NOT_FOUND;
	case RESULT_INVALID:
		return MHD_HTTP_BAD_REQUEST;
	case RESULT_CONFLICT:
		return MHD_HTTP_CONFLICT;
	case RESULT_GONE:
		return MHD_HTTP_GONE;
	case RESULT_ERROR:
		break;
	}
	return MHD_HTTP_INTERNAL_SERVER_ERROR;
}

static const char *
http_code_name(int status)
{
	switch (status) {
	case 400:
		return "bad_request";
	case 401:
		return "unauthorized";
	case 403:
		return "forbidden";
	case 404:
		return "not_found";
	case 405:
		return "method_not_allowed";
	case 409:
		return "conflict";
	case 410:
		return "gone";
	case 411:
		return "length_required";
	case 413:
		return "payload_too_large";
	case 415:
		return "unsupported_media_type";
	case 416:
		return "range_not_satisfiable";
	case 421:
		return "misdirected_request";
	case 422:
		return "unprocessable";
	case 429:
		return "too_many_requests";
	case 503:
		return "unavailable";
	case 507:
		return "insufficient_storage";
	}
	return status >= 500 ? "internal_error" : "error";
}

const char *
http_header(struct request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *
http_cookie(struct request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND, name);
}

bool
http_is_https(struct request *req)
{
	const char *p = http_header(req, "X-Forwarded-Proto");

	if (req->tls)
		return true;
	if (strncmp(req->app->settings->public_url, "https://", 8) == 0)
		return true;
	return req->peer_trusted && p && strcasecmp(p, "https") == 0;
}

const char *
http_query(struct request *req, const char *name)
{
	struct request_priv *rp = (struct request_priv *)req;
	const char *raw;
	char *v;

	for (int i = 0; i < rp->nquery; i++)
		if (strcmp(rp->query_names[i], name) == 0)
			return rp->query_values[i];
	raw =
	    MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
	if (raw == NULL)
		return NULL;
	/* Cannot happen: http_begin refuses more parameters than this. */
	if (rp->nquery == HTTP_QUERY_MAX) {
		log_warnx(
		    "%s: more than %d query names", __func__, HTTP_QUERY_MAX);
		return NULL;
	}
	if ((v = route_decode(raw, strlen(raw), 1)) == NULL)
		return NULL;
	rp->query_names[rp->nquery] = xstrdup(name);
	rp->query_values[rp->nquery++] = v;
	return v;
}

/* Host header characters: a name, IPv4 or [IPv6] and an optional port. */
static bool
http_host_valid(const char *h)
{
	size_t n = strlen(h);

	if (n == 0 || n > 255)
		return false;
	return strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                 "0123456789.-:[]_") == n;
}

/* Does name (no port, lower or upper case) equal or fall under pattern
 * ("name", or "*.name" for its subdomains)? */
static bool
http_host_match(const char *name, size_t n, const char *pattern)
{
	size_t pn = strlen(pattern);

	if (strncmp(pattern, "*.", 2) == 0)
		return n > pn - 1 && strncasecmp(name + n - (pn - 1),
		                         pattern + 1, pn - 1) == 0;
	return n == pn && strncasecmp(name, pattern, n) == 0;
}

/* The host of public_url into out, "" if none. */
static void
http_public_host(const char *url, char *out, size_t size)
{
	const char *h = strstr(url, "://");
	size_t n;

	out[0] = '\0';
	if (h == NULL)
		return;
	h += 3;
	n = h[0] == '[' ? strcspn(h, "]") + 1 : strcspn(h, ":/");
	if (n < size) {
		memcpy(out, h, n);
		out[n] = '\0';
	}
}

/*
 * May a browser's request for host (a Host header: name or address and
 * an optional port) be answered?  DNS rebinding gives a hostile page the
 * server's address under the attacker's own name, so the check is on
 * names: IP literals always pass (a page cannot take an address as its
 * origin), as do localhost, the host of public_url and http.allowed_hosts.
 */
static bool
http_host_allowed(const struct settings *s, const char *host)
{
	unsigned char bin[sizeof(struct in6_addr)];
	char name[256], pub[256];
	size_t n;

	for (size_t i = 0; i < s->nallowed_hosts; i++)
		if (strcmp(s->allowed_hosts[i], "*") == 0)
			return true;
	if (host[0] == '[') {
		n = strcspn(host, "]");
		if (host[n] != ']' || n - 1 >= sizeof(name))
			return false;
		memcpy(name, host + 1, n - 1);
		name[n - 1] = '\0';
		return inet_pton(AF_INET6, name, bin) == 1;
	}
	n = strcspn(host, ":");
	if (n >= sizeof(name))
		return false;
	memcpy(name, host, n);
	name[n] = '\0';
	if (inet_pton(AF_INET, name, bin) == 1)
		return true;
	if (n > 0 && name[n - 1] == '.')
		name[--n] = '\0'; /* "localhost." is localhost */
	if (n == 0)
		return false;
	if (http_host_match(name, n, "localhost") ||
	    http_host_match(name, n, "*.localhost"))
		return true;
	http_public_host(s->public_url, pub, sizeof(pub));
	if (pub[0] && http_host_match(name, n, pub))
		return true;
	for (size_t i = 0; i < s->nallowed_hosts; i++)
		if (http_host_match(name, n, s->allowed_hosts[i]))
			return true;
	return false;
}

/*
 * The Host check for the dashboard and the API (not DDI: see README).
 * From a trusted proxy the browser's Host is X-Forwarded-Host when the
 * proxy sends one.  No Host at all (HTTP/1.0) is no browser.
 */
static bool
http_host_ok(struct request *req)
{
	static _Atomic int64_t logged;
	const struct settings *s = req->app->settings;
	const char *host = http_header(req, MHD_HTTP_HEADER_HOST), *fh;
	int64_t now = now_s(), last = logged;

	if (req->peer_trusted && (fh = http_header(req, "X-Forwarded-Host")))
		host = fh;
	if (host == NULL || http_host_allowed(s, host))
		return true;
	/* Once a minute at most: a hint for a name the operator forgot. */
	if (now - last >= 60 &&
	    atomic_compare_exchange_strong(&logged, &last, now))
		log_warnx("refused a request for Host %.*s from %s: add the "
		          "name to http.allowed_hosts (or set public_url)",
		    (int)utf8_cut(host, 100), host, req->peer);
	return false;
}

const char *
http_base_url(struct request *req)
{
	struct request_priv *rp = (struct request_priv *)req;
	const struct settings *s = req->app->settings;
	const char *host = http_header(req, "Host"), *proto = "http";
	const char *fh, *fp, *port = NULL;

	if (rp->base_url)
		return rp->base_url;
	if (s->public_url[0]) {
		rp->base_url = xstrdup(s->public_url);
		return rp->base_url;
	}
	if (req->tls)
		proto = "https";
	if (req->peer_trusted) {
		if ((fp = http_header(req, "X-Forwarded-Proto")) &&
		    strcasecmp(fp, "https") == 0)
			proto = "https";
		if ((fh = http_header(req, "X-Forwarded-Host")) &&
		    http_host_valid(fh))
			host = fh;
		/* The proxy's port, unless its host already names one. */
		if ((fp = http_header(req, "X-Forwarded-Port")) &&
		    strlen(fp) <= 5 && strspn(fp, "0123456789") == strlen(fp) &&
		    *fp != '\0' && host &&
		    strchr(host + (host[0] == '[' ? strcspn(host, "]") : 0),
		        ':') == NULL)
			port = fp;
	}
	if (host == NULL || !http_host_valid(host))
		host = "localhost";
	if (port &&
	    ((strcmp(proto, "https") == 0 && strcmp(port, "443") == 0) ||
	        (strcmp(proto, "http") == 0 && strcmp(port, "80") == 0)))
		port = NULL; /* the scheme's default port goes unsaid */
	rp->base_url = xasprintf(
	    "%s://%s%s%s", proto, host, port ? ":" : "", port ? port : "");
	return rp->base_url;
}

void
http_set_header(struct request *req, const char *name, const char *value)
{
	if (req->nheaders == HTTP_HEADERS_MAX)
		fatalx("%s: too many headers", __func__);
	req->headers[req->nheaders].name = name;
	req->headers[req->nheaders].value = xstrdup(value);
	req->nheaders++;
}

/* Queue resp with the common headers; destroys resp. */
static void
http_queue(
    struct request *req, int status, struct MHD_Response *resp, uint64_t bytes)
{
	if (req->replied)
		fatalx("%s: %s %s answered twice", __func__, req->method,
		    req->url);
	req->replied = true;
	req->status = status;
	req->bytes = bytes;
	if (resp == NULL) {
		log_warnx("%s: cannot create a response", __func__);
		return;
	}
	for (int i = 0; i < req->nheaders; i++)
		MHD_add_response_header(
		    resp, req->headers[i].name, req->headers[i].value);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	if (req->tls && req->app->settings->tls_hsts_max_age > 0) {
		char hsts[32];

		snprintf(hsts, sizeof(hsts), "max-age=%d",
		    req->app->settings->tls_hsts_max_age);
		MHD_add_response_header(
		    resp, "Strict-Transport-Security", hsts);
	}
	if (((struct request_priv *)req)->pooled) {
		((struct request_priv *)req)->pending = resp;
		((struct request_priv *)req)->pending_status = (unsigned)status;
		return;
	}
	if (MHD_queue_response(req->conn, (unsigned)status, resp) != MHD_YES)
		log_warnx(
		    "%s: cannot queue %d for %s", __func__, status, req->url);
	MHD_destroy_response(resp);
}

static void
http_reply_buffer(
    struct request *req, int status, const char *ctype, char *buf, size_t len)
{
	struct MHD_Response *resp;

	resp = MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);
	if (resp == NULL)
		free(buf);
	else if (ctype)
		MHD_add_response_header(resp, "Content-Type", ctype);
	http_queue(req, status, resp, len);
}

void
http_reply_json(struct request *req, int status, json_t *body)
{
	char *text;

	if (body == NULL) {
		/* A json_pack that failed: a bug, not the client's fault. */
		log_warnx("%s: %s %s: no body to send", __func__, req->method,
		    req->url);
		http_reply_buffer(
		    req, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL, xstrdup(""), 0);
		return;
	}
	text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	if (text == NULL) {
		log_warnx("%s: json_dumps failed", __func__);
		http_reply_buffer(
		    req, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL, xstrdup(""), 0);
		return;
	}
	http_reply_json_text(req, status, text, strlen(text));
}

void
http_reply_json_text(struct request *req, int status, char *text, size_t len)
{
	http_reply_buffer(req, status, "application/json", text, len);
}

/* Is this a device's request (matched or not), which gets DDI errors? */
static bool
http_is_ddi(struct request *req)
{
	const char *p;

	if (req->route)
		return req->route->auth == AUTH_DEVICE;
	/* "/{tenant}/controller/v1/..." */
	p = req->url[0] == '/' ? strchr(req->url + 1, '/') : NULL;
	return p && strncmp(p, "/controller/v1/", 15) == 0;
}

/* hawkBit's errorCode for a status the HTTP layer answers itself. */
static const char *
http_ddi_code(int status)
{
	switch (status) {
	case 404:
		return "hawkbit.server.error.repo.entityNotFound";
	case 406:
		return "hawkbit.server.error.rest.notAcceptable";
	case 413:
		return "hawkbit.server.error.rest.body.tooLarge";
	case 415:
		return "hawkbit.server.error.rest.unsupportedMediaType";
	case 429:
		return "hawkbit.server.error.quota.tooManyEntries";
	}
	return status >= 500 ? "hawkbit.server.error.internal"
	                     : "hawkbit.server.error.rest.body.notReadable";
}

/*
 * Format an error's text into buf: cut on a character boundary if it is
 * too long, and with any invalid UTF-8 in what the caller passed replaced,
 * since jansson refuses it (the answer would be a 500 instead).
 */
static void
http_format_text(char *buf, size_t size, const char *fmt, va_list ap)
{
	size_t n = utf8_vsnprintf(buf, size, fmt, ap);
	char *fixed;

	if (utf8_valid(buf, n))
		return;
	fixed = utf8_lossy(buf);
	utf8_snprintf(buf, size, "%s", fixed);
	free(fixed);
}

static void
http_vreply_error(struct request *req, int status, const char *code,
    const char *fmt, va_list ap)
{
	char detail[HTTP_TEXT_MAX];

	http_format_text(detail, sizeof(detail), fmt, ap);
	if (http_is_ddi(req)) {
		/* Devices get hawkBit's error bodies (none for 401, 405). */
		http_reply_ddi_error(
		    req, status, http_ddi_code(status), "%s", detail);
		return;
	}
	if (rest_is_rest_path(req->url)) {
		/* hawkBit's Management API: its ExceptionInfo. */
		rest_status_error(req, status, detail);
		return;
	}
	http_reply_json(req, status,
	    json_pack("{s:s, s:s}", "error",
	        code ? code : http_code_name(status), "detail", detail));
}

void
http_reply_error(
    struct request *req, int status, const char *code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	http_vreply_error(req, status, code, fmt, ap);
	va_end(ap);
}

void
http_reply_result(struct request *req, enum result r, const char *detail)
{
	int status = http_status_of(r);

	http_reply_error(
	    req, status, NULL, "%s", detail ? detail : http_code_name(status));
}

void
http_reply_ddi_error(
    struct request *req, int status, const char *code, const char *fmt, ...)
{
	char message[HTTP_TEXT_MAX];
	va_list ap;

	if (status == MHD_HTTP_UNAUTHORIZED ||
	    status == MHD_HTTP_METHOD_NOT_ALLOWED) {
		http_reply_empty(req, status);
		return;
	}
	va_start(ap, fmt);
	http_format_text(message, sizeof(message), fmt, ap);
	va_end(ap);
	http_reply_json(req, status,
	    json_pack("{s:s, s:s}", "errorCode", code, "message", message));
}

void
http_reply_empty(struct request *req, int status)
{
	http_queue(req, status,
	    MHD_create_response_from_buffer(
	        0, (void *)"", MHD_RESPMEM_PERSISTENT),
	    0);
}

void
http_reply_text(
    struct request *req, int status, const char *ctype, const char *text)
{
	http_reply_buffer(req, status, ctype, xstrdup(text), strlen(text));
}

void
http_reply_fd(struct request *req, int status, int fd, uint64_t offset,
    uint64_t len, const char *ctype)
{
	struct MHD_Response *resp;

	resp = MHD_create_response_from_fd_at_offset64(len, fd, offset);
	if (resp == NULL)
		close(fd);
	else if (ctype)
		MHD_add_response_header(resp, "Content-Type", ctype);
	http_queue(req, status, resp, req->is_head ? 0 : len);
}

/* A Server-Sent Events stream: the reader parks the connection when the
 * hub has nothing for it, and the hub's wake resumes it. */
struct http_events {
	struct MHD_Connection *conn;
	struct sse_client *client;
};

static void
http_events_park(void *arg)
{
	MHD_suspend_connection(((struct http_events *)arg)->conn);
}

static void
http_events_wake(void *arg)
{
	MHD_resume_connection(((struct http_events *)arg)->conn);
}

static ssize_t
http_events_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct http_events *ev = cls;
	bool closed;
	size_t n;

	(void)pos;
	n = sse_take(ev->client, buf, max, &closed, http_events_park, ev);
	if (closed)
		return MHD_CONTENT_READER_END_OF_STREAM;
	return (ssize_t)n;
}

static void
http_events_free(void *cls)
{
	struct http_events *ev = cls;

	sse_unsubscribe(ev->client);
	free(ev);
}

void
http_reply_events(struct request *req, int64_t device_id)
{
	struct http_events *ev = xcalloc(1, sizeof(*ev));
	const char *last = http_header(req, "Last-Event-ID");
	struct sse_owner owner = {.user_id = req->user_id,
	    .token_id = req->token_id,
	    .via_session = req->via_session,
	    .perm = req->route->perm};
	struct MHD_Response *resp;
	enum sse_refusal why;
	int64_t after = -1;

	/* A reconnecting EventSource names the last log line it got. */
	if (last && parse_int64(last, 0, INT64_MAX, &after) == -1)
		after = -1;
	snprintf(
	    owner.cred_hash, sizeof(owner.cred_hash), "%s", req->cred_hash);
	ev->conn = req->conn;
	ev->client = sse_subscribe(req->app->sse, db_thread(), device_id, after,
	    &owner, http_events_wake, ev, &why);
	if (ev->client == NULL) {
		free(ev);
		if (why == SSE_USER_FULL) {
			http_set_header(req, "Retry-After", "30");
			http_reply_error(req, 429, "too_many_streams",
			    "you have %d live streams open already",
			    req->app->settings->sse_per_user);
		} else {
			/* Streams end by themselves (http.sse_lifetime, a
			 * client gone, a credential revoked): try again
			 * later, as the management pool's 503 says. */
			http_set_header(req, "Retry-After", "30");
			http_reply_error(
			    req, 503, "busy", "too many live streams are open");
		}
		return;
	}
	resp = MHD_create_response_from_callback(
	    MHD_SIZE_UNKNOWN, 4096, http_events_read, ev, http_events_free);
	if (resp == NULL)
		http_events_free(ev);
	else {
		MHD_add_response_header(
		    resp, "Content-Type", "text/event-stream");
		MHD_add_response_header(resp, "Cache-Control", "no-cache");
	}
	http_queue(req, 200, resp, 0);
}

/* Record an error to answer when the request is dispatched. */
static void
http_defer_error_code(
    struct request *req, int status, const char *code, const char *detail)
{
	if (req->error_status)
		return;
	req->error_status = status;
	req->error_code = code ? xstrdup(code) : NULL;
	req->error_detail = xstrdup(detail);
}

static void
http_defer_error(struct request *req, int status, const char *detail)
{
	http_defer_error_code(req, status, NULL, detail);
}

static void
http_reply_deferred(struct request *req)
{
	http_reply_error(
	    req, req->error_status, req->error_code, "%s", req->error_detail);
}

/* An address as text; IPv4-mapped IPv6 (a dual-stack socket's view of an
 * IPv4 peer) as plain IPv4, so one client has one spelling. */
static void
http_addr_text(const struct sockaddr *sa, char *out, size_t size)
{
	const struct in6_addr *a6;

	if (sa->sa_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
		    out, (socklen_t)size);
		return;
	}
	if (sa->sa_family != AF_INET6)
		return;
	a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;
	if (IN6_IS_ADDR_V4MAPPED(a6))
		inet_ntop(AF_INET, &a6->s6_addr[12], out, (socklen_t)size);
	else
		inet_ntop(AF_INET6, a6, out, (socklen_t)size);
}

/* Parse one X-Forwarded-For element (len bytes, trimmed) into *ss. */
static bool
http_xff_addr(const char *p, size_t len, struct sockaddr_storage *ss)
{
	char tok[INET6_ADDRSTRLEN];

	memset(ss, 0, sizeof(*ss));
	if (len == 0 || len >= sizeof(tok))
		return false;
	memcpy(tok, p, len);
	tok[len] = '\0';
	if (inet_pton(AF_INET, tok,
	        &((struct sockaddr_in *)(void *)ss)->sin_addr) == 1) {
		ss->ss_family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, tok,
	        &((struct sockaddr_in6 *)(void *)ss)->sin6_addr) == 1) {
		ss->ss_family = AF_INET6;
		return true;
	}
	return false;
}

/* The X-Forwarded-For lines of a request, the last HTTP_XFF_LINES of
 * them: a proxy may add a line of its own rather than append to the
 * client's (HAProxy does), and the lines read as one list in order. */
struct http_xff {
	const char *line[HTTP_XFF_LINES];
	int n;
	bool dropped; /* there were more lines than kept */
};

static enum MHD_Result
http_xff_line(
    void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct http_xff *x = cls;

	(void)kind;
	if (value == NULL || strcasecmp(key, "X-Forwarded-For") != 0)
		return MHD_YES;
	if (x->n == HTTP_XFF_LINES) {
		memmove(x->line, x->line + 1, sizeof(x->line[0]) * (x->n - 1));
		x->n--;
		x->dropped = true;
	}
	x->line[x->n++] = value;
	return MHD_YES;
}

/*
 * The client address behind trusted proxies: X-Forwarded-For read from
 * its end, element by element in place (no copy, so no length cut can push
 * the proxies' own entries off), skipping addresses that are trusted
 * proxies themselves, as nginx's real_ip_recursive does.  The first other
 * address is the client.  An element that is not an address, or a list
 * made only of trusted proxies beyond the lines kept, leaves the socket
 * peer: whatever a client wrote left of its proxy's entry never counts.
 */
static void
http_forwarded_peer(struct request *req)
{
	struct http_xff x = {.n = 0};
	struct sockaddr_storage ss;
	char addr[sizeof(req->peer)] = "";

	MHD_get_connection_values(
	    req->conn, MHD_HEADER_KIND, http_xff_line, &x);
	for (int i = x.n - 1; i >= 0; i--) {
		const char *v = x.line[i];
		size_t end = strlen(v);

		while (end > 0) {
			size_t e = end, b;

			while (e > 0 && (v[e - 1] == ' ' || v[e - 1] == '\t'))
				e--;
			b = e;
			while (b > 0 && v[b - 1] != ',')
				b--;
			end = b > 0 ? b - 1 : 0;
			while (b < e && (v[b] == ' ' || v[b] == '\t'))
				b++;
			if (b == e)
				continue; /* an empty element: "a,,b" */
			if (!http_xff_addr(v + b, e - b, &ss))
				return;
			http_addr_text(
			    (struct sockaddr *)&ss, addr, sizeof(addr));
			if (!settings_is_trusted_proxy(
			        req->app->settings, &ss)) {
				snprintf(
				    req->peer, sizeof(req->peer), "%s", addr);
				return;
			}
		}
	}
	/* Only trusted proxies: the leftmost is as near the client as the
	 * header goes, unless lines were left unread. */
	if (addr[0] != '\0' && !x.dropped)
		snprintf(req->peer, sizeof(req->peer), "%s", addr);
}

/* The client address: the socket peer, or X-Forwarded-For's last hop
 * that is not a trusted proxy when the peer is one. */
static void
http_set_peer(struct request *req)
{
	const union MHD_ConnectionInfo *ci;
	const struct sockaddr *sa;

	ci = MHD_get_connection_info(
	    req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || (sa = ci->client_addr) == NULL)
		return;
	http_addr_text(sa, req->peer, sizeof(req->peer));
	req->peer_trusted = settings_is_trusted_proxy(req->app->settings, sa);
	req->peer_cert_proxy = settings_is_cert_proxy(req->app->settings, sa);
	if (req->peer_trusted)
		http_forwarded_peer(req);
}

static bool
http_json_ctype_ok(const char *ct)
{
	size_t n;

	if (ct == NULL)
		return true;
	n = strcspn(ct, "; \t");
	return (n == 16 && strncasecmp(ct, "application/json", 16) == 0) ||
	       (n > 17 && strncasecmp(ct, "application/", 12) == 0 &&
	           strncasecmp(ct + n - 5, "+json", 5) == 0);
}

/*
 * A small form field beside the "file" part (hawkBit's filename and
 * sha1sum, say), kept for http_form.  Longer or more fields than the
 * bounds are refused.
 */
static enum MHD_Result
http_form_field(struct request *req, const char *key, const char *data,
    uint64_t off, size_t size)
{
	const char *had;
	char *v;

	if (req->form == NULL)
		req->form = json_object();
	had = json_string_value(json_object_get(req->form, key));
	if ((off == 0 && had == NULL &&
	        json_object_size(req->form) >= HTTP_FORM_FIELDS_MAX) ||
	    (had ? strlen(had) : 0) + size > HTTP_FORM_VALUE_MAX ||
	    (off > 0 && had == NULL)) {
		http_defer_error(req, 400,
		    "a form field is too long, or there "
		    "are too many");
		return MHD_NO;
	}
	v = xasprintf("%s%.*s", off > 0 ? had : "", (int)size, data);
	if (!utf8_valid(v, strlen(v))) {
		free(v);
		http_defer_error(req, 400, "a form field is not UTF-8");
		return MHD_NO;
	}
	json_object_set_new(req->form, key, json_string(v));
	free(v);
	return MHD_YES;
}

const char *
http_form(struct request *req, const char *name)
{
	return json_string_value(json_object_get(req->form, name));
}

static enum MHD_Result
http_post_iter(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *filename, const char *content_type,
    const char *transfer_encoding, const char *data, uint64_t off, size_t size)
{
	struct request *req = cls;

	(void)kind;
	(void)content_type;
	(void)transfer_encoding;
	if (strcmp(key, "file") != 0)
		return http_form_field(req, key, data, off, size);
	/* Each part starts at offset 0.  A second "file" part is refused,
	 * not joined to the first into one image. */
	if (off == 0 && req->upload_seen_file) {
		http_defer_error(req, 400, "give one part named \"file\"");
		return MHD_NO;
	}
	if (filename && upload_filename(req->upload) == NULL) {
		/* It becomes the stored name and the audit target. */
		if (!utf8_valid(filename, strlen(filename))) {
			http_defer_error(
			    req, 400, "the multipart file name is not UTF-8");
			return MHD_NO;
		}
		upload_set_filename(req->upload, filename);
	}
	req->upload_seen_file = true;
	if (size > 0 && upload_write(req->upload, data, size) != UPLOAD_OK)
		return MHD_NO;
	return MHD_YES;
}

/*
 * First call: match the route, authenticate, prepare the body sink.
 * Returns false if a response was queued at once.
 */
/* Does every query name and value decode (valid escapes, UTF-8)? */
static enum MHD_Result
http_query_check(
    void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	bool *ok = cls;
	char *d;

	(void)kind;
	for (int i = 0; i < 2; i++) {
		const char *s = i == 0 ? key : value;

		if (s == NULL)
			continue;
		if ((d = route_decode(s, strlen(s), 1)) == NULL) {
			*ok = false;
			return MHD_NO;
		}
		free(d);
	}
	return MHD_YES;
}

/*
 * A body refused on its Content-Length alone is answered at once when the
 * client waits for "100 Continue" or the body is large.  Otherwise it is
 * read and dropped first: closing with unread bytes in the socket resets
 * the connection, and the client would never read the answer.
 */
static bool
http_refuse_now(struct request *req, uint64_t clen)
{
	const char *expect = http_header(req, MHD_HTTP_HEADER_EXPECT);

	return clen > HTTP_DRAIN_MAX ||
	       (expect && strcasecmp(expect, "100-continue") == 0);
}

/*
 * Refuse a request on its headers alone (no credentials, a foreign Host).
 * Its body, which nothing will read, is not drained when it is larger than
 * any JSON body or of unknown length (chunked): the answer goes out at
 * once and the connection closes.  A small body is drained first, as in
 * http_refuse_now.  `now` answers at once in any case (uploads).  Returns
 * what http_begin returns.
 */
static bool
http_refuse(struct request *req, uint64_t clen, bool now, int status,
    const char *code, const char *detail)
{
	if (now || clen > HTTP_JSON_BODY_MAX || http_refuse_now(req, clen) ||
	    http_header(req, MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL) {
		http_reply_error(req, status, code, "%s", detail);
		return false;
	}
	http_defer_error_code(req, status, code, detail);
	return true;
}

/* A browser's request from another site (Fetch Metadata): a page of
 * another origin posting to login or set-up. */
static bool
http_cross_site(struct request *req)
{
	const char *site = http_header(req, "Sec-Fetch-Site");

	return site && (strcasecmp(site, "cross-site") == 0 ||
	                   strcasecmp(site, "same-site") == 0);
}

/*
 * auth_rest, with a Basic password that must be hashed checked at once
 * only for an upload (its body is not to be read for a stranger); other
 * requests leave it to http_auth_deferred on the handler's thread.
 */
static int
http_auth_rest(struct request *req, struct db *db)
{
	int status = auth_rest(req, db);

	if (status == 0 && req->auth_deferred &&
	    req->route->body == BODY_UPLOAD)
		status = auth_rest_finish(req, db);
	return status;
}

/*
 * Plain HTTP beside HTTPS: devices may poll over it (and are then
 * authenticated by token only), /healthz answers probes; the dashboard
 * and the APIs are not served, so no password, cookie or token crosses
 * the network in the clear from a browser that followed an http:// link.
 * A GET or HEAD is redirected to the same path over HTTPS (public_url
 * if it is an https one), the rest is refused.  A trusted proxy that
 * says the client used HTTPS is believed.
 */
static bool
http_plain_refused(struct request *req)
{
	const char *p = http_header(req, "X-Forwarded-Proto");

	if (req->app->tls == NULL || req->tls || http_is_ddi(req) ||
	    strcmp(req->url, "/healthz") == 0)
		return false;
	/* Not http_is_https: an https public_url says nothing of this
	 * connection. */
	return !(req->peer_trusted && p && strcasecmp(p, "https") == 0);
}

static bool
http_to_https(struct request_priv *rp, uint64_t clen)
{
	struct request *req = &rp->req;
	const char *pub = req->app->settings->public_url;
	const char *host = http_header(req, MHD_HTTP_HEADER_HOST);
	char name[256], port[8] = "";
	char *url;
	size_t n;

	if (strncmp(pub, "https://", 8) == 0) {
		n = strlen(pub);
		if (pub[n - 1] == '/')
			n--;
		url = xasprintf("%.*s%s", (int)n, pub, req->url);
	} else {
		if (host == NULL || !http_host_valid(host))
			host = "localhost";
		n = host[0] == '[' ? strcspn(host, "]") + 1
		                   : strcspn(host, ":");
		snprintf(name, sizeof(name), "%.*s", (int)n, host);
		if (rp->srv->main.port != 443)
			snprintf(port, sizeof(port), ":%d", rp->srv->main.port);
		url = xasprintf("https://%s%s%s", name, port, req->url);
	}
	if (strcmp(req->method, "GET") == 0 || req->is_head) {
		http_set_header(req, "Location", url);
		free(url);
		return http_refuse(req, clen, false, 308, "https_required",
		    "this server answers the dashboard and the API over HTTPS "
		    "only");
	}
	free(url);
	return http_refuse(req, clen, false, 403, "https_required",
	    "this server answers the dashboard and the API over HTTPS only");
}

/* DDI over our HTTPS with client certificates on: check the one the
 * device presented (if any) for the path's controller id. */
static void
http_client_cert(struct request *req)
{
	const union MHD_ConnectionInfo *ci;

	if (!req->tls || req->app->tls == NULL || req->nparams < 2)
		return;
	ci = MHD_get_connection_info(
	    req->conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	if (ci == NULL)
		return;
	req->client_cert = tls_check_client(req->app->tls, ci->tls_session,
	    req->params[1], req->client_cert_why, sizeof(req->client_cert_why));
}

static bool
http_begin(struct request_priv *rp, const char *version)
{
	struct request *req = &rp->req;
	const struct settings *s = req->app->settings;
	const char *cl = http_header(req, MHD_HTTP_HEADER_CONTENT_LENGTH);
	const char *ct = http_header(req, MHD_HTTP_HEADER_CONTENT_TYPE);
	uint64_t clen = 0;
	enum route_auth auth;
	const char *code = NULL, *detail = "missing or invalid credentials";
	struct db *db;
	int status;
	bool query_ok = true;

	http_set_peer(req);
	if (cl && parse_size(cl, UINT64_MAX >> 1, &clen) == -1)
		clen = 0;
	if (http_plain_refused(req))
		return http_to_https(rp, clen);
	switch (route_match(
	    req->method, req->url, &req->route, req->params, &req->nparams)) {
	case ROUTE_FOUND:
		break;
	case ROUTE_NOT_FOUND:
		http_defer_error(req, 404, "no such path");
		return true;
	case ROUTE_BAD_METHOD:
		http_defer_error(req, 405, "method not allowed on this path");
		return true;
	case ROUTE_BAD_PATH:
		http_defer_error(req, 400, "malformed path");
		return true;
	}
	if (strcmp(version, MHD_HTTP_VERSION_1_1) == 0 &&
	    http_header(req, MHD_HTTP_HEADER_HOST) == NULL) {
		http_defer_error(req, 400, "HTTP/1.1 needs a Host header");
		return true;
	}
	MHD_get_connection_values(
	    req->conn, MHD_GET_ARGUMENT_KIND, http_query_check, &query_ok);
	if (!query_ok) {
		http_defer_error(req, 400, "malformed query string");
		return true;
	}
	if (MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, NULL,
	        NULL) > HTTP_QUERY_MAX) {
		http_defer_error(req, 400, http_too_many_params);
		return true;
	}
	/* Devices keep any Host: they are configured with names and
	 * addresses an operator does not list (README, "Host names").  So
	 * do /healthz and a /metrics that needs a token, which scrapers and
	 * probes reach by names of their own: a rebinding page has no token
	 * (and no cookie of ours) to send. */
	if (req->route->auth != AUTH_DEVICE &&
	    strcmp(req->route->pattern, "/healthz") != 0 &&
	    (req->route->auth != AUTH_METRICS || s->metrics_public) &&
	    !http_host_ok(req))
		return http_refuse(req, clen, false, 421, NULL,
		    "this server does not answer to that host name; its "
		    "operator can add it to http.allowed_hosts");
	auth = req->route->auth;
	if (auth == AUTH_METRICS)
		auth = s->metrics_public ? AUTH_NONE : AUTH_ADMIN;
	if (auth != AUTH_NONE) {
		if ((db = db_thread()) == NULL) {
			http_defer_error(req, 503, "database unavailable");
			return true;
		}
		if (auth == AUTH_DEVICE) {
			http_client_cert(req);
			status = auth_device(req, db, req->params[1]);
		} else if ((status = auth == AUTH_REST
		                         ? http_auth_rest(req, db)
		                         : auth_admin(req, db)) == 0 &&
		           !req->auth_deferred &&
		           !auth_allows(req, req->route->perm)) {
			status = 403;
			code = "forbidden";
			detail = "you lack the permission for this";
		} else if (status == 0 && (status = auth_check_csrf(req))) {
			code = "csrf";
			detail = "missing or wrong X-CSRF-Token header";
		}
		if (status == 429)
			detail = "too many failed logins; try again later";
		if (status != 0)
			return http_refuse(req, clen,
			    req->route->body == BODY_UPLOAD, status, code,
			    detail);
	}
	switch (req->route->body) {
	case BODY_NONE:
		break;
	case BODY_JSON:
		/* Login and set-up take no credentials, so no CSRF token
		 * guards them: a page of another site must not post to them.
		 * A declared application/json makes a cross-origin fetch
		 * preflighted (and refused, there are no CORS headers). */
		if (auth == AUTH_NONE && http_cross_site(req))
			return http_refuse(req, clen, false, 403, "cross_site",
			    "login and set-up are not taken from another site");
		if (!http_json_ctype_ok(ct) ||
		    (ct == NULL && auth == AUTH_NONE)) {
			http_defer_error(
			    req, 415, "the body must be application/json");
			break;
		}
		if (clen > HTTP_JSON_BODY_MAX && http_refuse_now(req, clen)) {
			http_reply_error(
			    req, 413, NULL, "%s", http_json_too_big);
			return false;
		}
		if (clen > HTTP_JSON_BODY_MAX)
			http_defer_error(req, 413, http_json_too_big);
		break;
	case BODY_UPLOAD:
		if (clen > s->upload_max_size && http_refuse_now(req, clen)) {
			char max[32];

			format_bytes(s->upload_max_size, max);
			http_reply_error(req, 413, NULL,
			    "uploads are limited to %s (upload.max_size)", max);
			return false;
		}
		if (clen > s->upload_max_size) {
			http_defer_error(req, 413,
			    "the upload is larger than upload.max_size");
			break;
		}
		if (ct && strncasecmp(ct, "multipart/form-data", 19) == 0) {
			rp->pp = MHD_create_post_processor(
			    req->conn, 64 * 1024, http_post_iter, req);
			if (rp->pp == NULL) {
				http_reply_error(req, 400, NULL,
				    "malformed multipart/form-data header");
				return false;
			}
		} else if (ct && strncasecmp(
		                     ct, "application/octet-stream", 24) != 0) {
			http_reply_error(req, 415, NULL,
			    "upload the file as application/octet-stream or "
			    "multipart/form-data");
			return false;
		}
		req->upload = upload_new(req->app->tmp_dir, s->upload_max_size);
		if (req->upload == NULL) {
			http_reply_error(
			    req, 500, NULL, "cannot create a temporary file");
			return false;
		}
		break;
	}
	return true;
}

/*
 * A middle call: body bytes.  libmicrohttpd 0.9.75 will not queue an
 * answer while a body is still arriving, so a failure here is deferred:
 * the rest of the body is read and dropped, and the error answered when
 * it is complete.  A failed upload's temp file is removed at once.  A
 * body nobody reads is dropped up to HTTP_DRAIN_MAX bytes; past that
 * (chunked, so its size was not known at the start) false closes the
 * connection without an answer.
 */
static bool
http_body(struct request_priv *rp, const char *data, size_t size)
{
	struct request *req = &rp->req;
	enum upload_err ue;

	if (req->error_status || req->route == NULL ||
	    req->route->body == BODY_NONE) {
		rp->dropped += size;
		return rp->dropped <= HTTP_DRAIN_MAX;
	}
	if (req->route->body == BODY_JSON) {
		if (size > HTTP_JSON_BODY_MAX - req->body_len) {
			http_defer_error(req, 413, http_json_too_big);
			rp->dropped = req->body_len + size;
			return true;
		}
		if (req->body_len + size + 1 > rp->body_cap) {
			rp->body_cap = (req->body_len + size + 1) * 2;
			if (rp->body_cap > HTTP_JSON_BODY_MAX + 1)
				rp->body_cap = HTTP_JSON_BODY_MAX + 1;
			req->body = xrealloc(req->body, rp->body_cap);
		}
		memcpy(req->body + req->body_len, data, size);
		req->body_len += size;
		req->body[req->body_len] = '\0';
		return true;
	}
	if (rp->pp) {
		if (MHD_post_process(rp->pp, data, size) == MHD_YES)
			return true;
		if ((ue = upload_error(req->upload)) == UPLOAD_OK) {
			http_defer_error(
			    req, 400, "malformed multipart/form-data body");
			ue = UPLOAD_IO;
		}
	} else if ((ue = upload_write(req->upload, data, size)) == UPLOAD_OK)
		return true;
	if (ue == UPLOAD_TOO_BIG)
		http_defer_error(req, 413,
		    "the upload is larger than "
		    "upload.max_size");
	else if (ue == UPLOAD_NO_SPACE)
		http_defer_error_code(req, 507, "insufficient_storage",
		    "not enough disk space for the upload");
	else
		http_defer_error(req, 500, "cannot write the upload");
	upload_free(req->upload); /* unlinks the temp file now */
	req->upload = NULL;
	return true;
}

/*
 * Record a state-changing management request in the audit log.  A
 * failure without credentials (no principal was authenticated: bad
 * logins, missing tokens) is folded: anyone may send those, as fast as
 * they like, and each would otherwise be a row.
 */
static void
http_audit(struct request *req)
{
	const char *target = req->audit_target ? req->audit_target
	                     : req->nparams    ? req->params[0]
	                                       : NULL;
	struct db *db;

	if (req->route == NULL || req->route->audit == NULL)
		return;
	db = db_thread();
	if (req->grants == NULL && req->status >= 400 && req->app->audit)
		audit_fold(req->app->audit, db, req->route->audit, req->status,
		    req->peer, req->principal, target);
	else if (db)
		audit_write(db, req->principal, req->peer, req->route->audit,
		    target, req->status);
}

/* Finish a deferred Basic check (auth_rest_finish) and the route's
 * permission; false once an error is answered. */
static bool
http_auth_deferred(struct request *req)
{
	struct db *db = db_thread();
	int status = db ? auth_rest_finish(req, db) : 503;

	if (status == 0 && !auth_allows(req, req->route->perm)) {
		http_reply_error(
		    req, 403, "forbidden", "you lack the permission for this");
		return false;
	}
	if (status != 0) {
		http_reply_error(req, status, NULL, "%s",
		    status == 401 ? "missing or invalid credentials"
		                  : "the database is unavailable");
		return false;
	}
	return true;
}

/* Run the route's handler and record the request. */
static void
http_handle(struct request_priv *rp)
{
	struct request *req = &rp->req;

	if (req->auth_deferred && !http_auth_deferred(req)) {
		http_audit(req);
		return;
	}
	req->route->handler(req);
	if (!req->replied) {
		log_warnx("%s: %s %s: handler gave no answer", __func__,
		    req->method, req->url);
		http_reply_error(req, 500, NULL, "no answer");
	}
	http_audit(req);
}

/*
 * A pool thread's job: the handler, then the connection resumes and its
 * own thread queues the answer (http_access).  After the resume the
 * request is no longer ours: its thread may finish and free it.
 */
static void
http_pool_run(void *arg, bool canceled)
{
	struct request_priv *rp = arg;

	if (canceled) {
		http_set_header(&rp->req, "Retry-After", HTTP_POOL_RETRY);
		http_reply_error(
		    &rp->req, 503, "busy", "the server is stopping");
		http_audit(&rp->req);
	} else
		http_handle(rp);
	MHD_resume_connection(rp->req.conn);
}

/*
 * Hand a ROUTE_POOL request to the management pool: suspend the
 * connection, then queue the job.  A full queue is answered 503 the same
 * way, through the resumed connection.
 */
static void
http_pool_hand_off(struct request_priv *rp)
{
	rp->pooled = true;
	MHD_suspend_connection(rp->req.conn);
	if (pool_submit(rp->srv->pool, http_pool_run, rp) == 0)
		return;
	http_set_header(&rp->req, "Retry-After", HTTP_POOL_RETRY);
	http_reply_error(&rp->req, 503, "busy",
	    "too many management requests are waiting; retry shortly");
	http_audit(&rp->req);
	MHD_resume_connection(rp->req.conn);
}

/* The answer a pool thread made, queued by the connection's thread. */
static enum MHD_Result
http_queue_pending(struct request_priv *rp)
{
	struct MHD_Response *resp = rp->pending;
	enum MHD_Result ok = MHD_NO;

	rp->pooled = false;
	rp->pending = NULL;
	if (resp == NULL)
		return MHD_NO; /* no response could be made: close */
	ok = MHD_queue_response(rp->req.conn, rp->pending_status, resp);
	if (ok != MHD_YES)
		log_warnx("%s: cannot queue %u for %s", __func__,
		    rp->pending_status, rp->req.url);
	MHD_destroy_response(resp);
	return ok;
}

static void
http_dispatch(struct request_priv *rp)
{
	struct request *req = &rp->req;

	if (req->error_status) {
		http_reply_deferred(req);
		http_audit(req);
		return;
	}
	if (req->route->body == BODY_JSON && req->body == NULL)
		req->body = xstrdup("");
	if (rp->pp)
		MHD_destroy_post_processor(rp->pp);
	rp->pp = NULL;
	if ((req->route->flags & ROUTE_POOL) && rp->srv->pool) {
		http_pool_hand_off(rp);
		return;
	}
	http_handle(rp);
}

static enum MHD_Result
http_access(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct http_listener *lst = cls;
	struct http_server *srv = lst->srv;
	struct request_priv *rp = *con_cls;

	if (rp == NULL) {
		guard_request(conn);
		rp = xcalloc(1, sizeof(*rp));
		rp->req.app = srv->app;
		rp->req.tls = lst->tls;
		rp->lst = lst;
		rp->req.conn = conn;
		rp->req.method = method;
		rp->req.url = url;
		rp->req.is_head = strcmp(method, "HEAD") == 0;
		rp->req.start_ms = now_ms();
		rp->srv = srv;
		*con_cls = rp;
		if (!http_begin(rp, version)) {
			http_audit(&rp->req); /* answered at once */
			guard_answer(conn);
		}
		return MHD_YES;
	}
	if (rp->pooled)
		return http_queue_pending(rp);
	if (rp->req.replied) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (*upload_data_size != 0) {
		guard_body(conn, *upload_data_size);
		if (!http_body(rp, upload_data, *upload_data_size))
			return MHD_NO; /* closes the connection */
		*upload_data_size = 0;
		return MHD_YES;
	}
	guard_answer(conn);
	http_dispatch(rp);
	return MHD_YES;
}

static void
http_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct http_server *srv = ((struct http_listener *)cls)->srv;
	struct request_priv *rp = *con_cls;
	struct request *req;

	guard_done(conn);
	if (rp == NULL)
		return;
	req = &rp->req;
	metrics_observe(srv->app->metrics,
	    req->route ? (size_t)(req->route - routes) : nroutes,
	    (double)(now_ms() - req->start_ms) / 1000.0, req->bytes);
	if (srv->app->settings->log_access)
		log_info("method=%s path=%s status=%d bytes=%llu ms=%lld "
		         "peer=%s who=%s%s",
		    req->method, req->url, req->status,
		    (unsigned long long)req->bytes,
		    (long long)(now_ms() - req->start_ms), req->peer,
		    req->principal ? req->principal : "-",
		    toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? ""
		                                               : " aborted=1");
	if (rp->pp)
		MHD_destroy_post_processor(rp->pp);
	if (rp->pending) /* the daemon stopped before it was queued */
		MHD_destroy_response(rp->pending);
	upload_free(req->upload);
	for (int i = 0; i < req->nparams; i++)
		free(req->params[i]);
	for (int i = 0; i < req->nheaders; i++)
		free(req->headers[i].value);
	for (int i = 0; i < rp->nquery; i++) {
		free(rp->query_names[i]);
		free(rp->query_values[i]);
	}
	free(rp->base_url);
	if (req->body) /* it may hold a password */
		explicit_bzero(req->body, req->body_len);
	free(req->body);
	free(req->principal);
	free(req->new_token_hash);
	device_free(req->device);
	free(req->audit_target);
	free(req->error_code);
	json_decref(req->grants);
	json_decref(req->form);
	json_decref(req->user_grants);
	free(req->error_detail);
	free(rp);
	*con_cls = NULL;
}

/* Keep the URL and query strings raw: route.c decodes each segment, so an
 * encoded '/' inside a controller id cannot split the path. */
static size_t
http_unescape_none(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	return strlen(s);
}

/* libmicrohttpd's words for a client that left mid-request, or that the
 * guard shut: one line per connection, the client's doing, so debug. */
static const char *const http_mhd_client_left[] = {
    "Connection socket is closed when reading request",
    "Connection was closed by remote side with incomplete request",
};

static void
http_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[512];

	(void)cls;
	utf8_vsnprintf(buf, sizeof(buf), fmt, ap);
	buf[strcspn(buf, "\n")] = '\0';
	for (size_t i = 0; i < NELEM(http_mhd_client_left); i++)
		if (strncmp(buf, http_mhd_client_left[i],
		        strlen(http_mhd_client_left[i])) == 0) {
			log_debug("libmicrohttpd: %s", buf);
			return;
		}
	log_warnx("libmicrohttpd: %s", buf);
}

/*
 * Raise the open-file limit to its hard limit and return how many
 * connections fit in what the process got: beside its socket, each may
 * hold a file being sent or an upload being written, and every thread
 * (nthreads) holds descriptors of its own.
 */
static long
http_fd_room(int nthreads)
{
	struct rlimit rl;
	rlim_t was;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1) {
		log_warn("getrlimit RLIMIT_NOFILE");
		return LONG_MAX;
	}
	was = rl.rlim_cur;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1) {
			log_warn("cannot raise the open-file limit to %llu",
			    (unsigned long long)rl.rlim_max);
			rl.rlim_cur = was;
		} else
			log_info("open-file limit raised from %llu to %llu",
			    (unsigned long long)was,
			    (unsigned long long)rl.rlim_cur);
	}
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > LONG_MAX / 2)
		return LONG_MAX;
	return ((long)rl.rlim_cur - HTTP_FD_RESERVE -
	           HTTP_FD_PER_THREAD * (long)nthreads) /
	       2;
}

/* http.connection_limit (per listener), or less if the open-file limit
 * is lower: -1 if not even HTTP_CONNS_MIN connections fit (logged). */
static int
http_connection_limit(const struct settings *s, int nthreads, int nlisteners)
{
	long room = http_fd_room(nthreads) / nlisteners;
	struct rlimit rl;

	if (room >= s->http_connection_limit)
		return s->http_connection_limit;
	getrlimit(RLIMIT_NOFILE, &rl);
	if (room < HTTP_CONNS_MIN) {
		log_warnx("the open-file limit %llu leaves room for %ld "
		          "connections: raise it (ulimit -n, systemd's "
		          "LimitNOFILE=)",
		    (unsigned long long)rl.rlim_cur, room < 0 ? 0 : room);
		return -1;
	}
	log_warnx("http.connection_limit %d lowered to %ld: the process may "
	          "open %llu files (RLIMIT_NOFILE), and a connection can take "
	          "two; raise the limit (ulimit -n, systemd's LimitNOFILE=) "
	          "for more",
	    s->http_connection_limit, room, (unsigned long long)rl.rlim_cur);
	return (int)room;
}

/* The address and port of a listener into *ss (its length in *len);
 * -1 if listen.address is not an IP address (logged). */
static int
http_sockaddr(const struct settings *s, int port, struct sockaddr_storage *ss,
    unsigned int *flags)
{
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, s->listen_address,
	        &((struct sockaddr_in *)ss)->sin_addr) == 1) {
		ss->ss_family = AF_INET;
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
		return 0;
	}
	if (inet_pton(AF_INET6, s->listen_address,
	        &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		ss->ss_family = AF_INET6;
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
		*flags |= MHD_USE_IPv6;
		return 0;
	}
	log_warnx("listen.address %s is not an IP address", s->listen_address);
	return -1;
}

/*
 * The connection notifier of the HTTPS listener: the guard's, and
 * TCP_NODELAY first.  A TLS handshake is several small writes each way,
 * and with Nagle each waits for the peer's ACK (measured on loopback: 12
 * ms per new HTTPS connection without it, 2 ms with it).
 */
static void
http_tls_notify(void *cls, struct MHD_Connection *conn, void **ctx,
    enum MHD_ConnectionNotificationCode code)
{
	const union MHD_ConnectionInfo *ci;
	int one = 1;

	if (code == MHD_CONNECTION_NOTIFY_STARTED &&
	    (ci = MHD_get_connection_info(
	         conn, MHD_CONNECTION_INFO_CONNECTION_FD)) != NULL &&
	    setsockopt(ci->connect_fd, IPPROTO_TCP, TCP_NODELAY, &one,
	        sizeof(one)) == -1)
		log_debug("%s: TCP_NODELAY: %s", __func__, strerror(errno));
	guard_notify(cls, conn, ctx, code);
}

/*
 * Start one listener on port, with TLS from app->tls when tls.  The
 * guard limits connections per address (libmicrohttpd's own limit would
 * count a trusted proxy as one client).  -1 on failure (logged).
 */
static int
http_listen(struct http_server *srv, struct http_listener *lst, int port,
    bool tls, int threads, int conn_limit)
{
	const struct settings *s = srv->app->settings;
	unsigned int flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG |
	                     MHD_ALLOW_SUSPEND_RESUME;
	struct MHD_OptionItem opts[4];
	const union MHD_DaemonInfo *di;
	struct sockaddr_storage ss;
	int nopts = 0;

	if (http_sockaddr(s, port, &ss, &flags) == -1)
		return -1;
	lst->srv = srv;
	lst->tls = tls;
	if (tls) {
		const char *ca = tls_client_ca_pem(srv->app->tls);

		flags |= MHD_USE_TLS;
		opts[nopts++] = (struct MHD_OptionItem){
		    MHD_OPTION_HTTPS_CERT_CALLBACK, 0, tls_cert_callback_fn()};
		opts[nopts++] =
		    (struct MHD_OptionItem){MHD_OPTION_HTTPS_PRIORITIES, 0,
		        (void *)(uintptr_t)tls_priorities(srv->app->tls)};
		/* A client CA makes libmicrohttpd request (not require) a
		 * certificate: tls.c checks it, for devices only. */
		if (ca)
			opts[nopts++] =
			    (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_TRUST,
			        0, (void *)(uintptr_t)ca};
	}
	opts[nopts] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
	lst->mhd = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL,
	    http_access, lst, MHD_OPTION_EXTERNAL_LOGGER, http_mhd_log, NULL,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)threads,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)conn_limit,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)s->http_timeout,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_CONN_MEMORY,
	    MHD_OPTION_NOTIFY_COMPLETED, http_completed, lst,
	    MHD_OPTION_NOTIFY_CONNECTION, tls ? http_tls_notify : guard_notify,
	    srv->guard, MHD_OPTION_UNESCAPE_CALLBACK, http_unescape_none, NULL,
	    MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
	if (lst->mhd == NULL) {
		log_warnx("cannot listen on %s port %d%s", s->listen_address,
		    port, tls ? " (HTTPS)" : "");
		return -1;
	}
	di = MHD_get_daemon_info(lst->mhd, MHD_DAEMON_INFO_BIND_PORT);
	lst->port = di ? di->port : port;
	return 0;
}

struct http_server *
http_start(struct app *app)
{
	const struct settings *s = app->settings;
	struct http_server *srv = xcalloc(1, sizeof(*srv));
	int threads = s->http_threads ? s->http_threads : app->cores;
	bool plain = app->tls && s->listen_http_port != -1;
	int nlisteners = plain ? 2 : 1;
	int conn_limit;

	srv->app = app;
	srv->plain.port = -1;
	/* Threads beside the daemons': the pool's, the guard's, the event
	 * hub's, the last-seen writer's and main.  Two listeners share the
	 * descriptors the process may open. */
	conn_limit = http_connection_limit(
	    s, nlisteners * threads + s->http_mgmt_threads + 4, nlisteners);
	/* Lowered below http.per_ip_limit by the open-file limit: main
	 * warned about the settings alone. */
	if (conn_limit != -1 && conn_limit < s->http_connection_limit &&
	    s->http_per_ip_limit >= conn_limit)
		log_warnx("http.per_ip_limit %d is not below the %d "
		          "connections the open-file limit leaves: one address "
		          "can hold every connection",
		    s->http_per_ip_limit, conn_limit);
	if (conn_limit == -1 ||
	    (srv->pool = pool_start(
	         "mgmt", s->http_mgmt_threads, s->http_mgmt_queue)) == NULL ||
	    (srv->guard = guard_start(s)) == NULL) {
		pool_free(srv->pool);
		free(srv);
		return NULL;
	}
	if (http_listen(srv, &srv->main, s->listen_port, app->tls != NULL,
	        threads, conn_limit) == -1 ||
	    (plain && http_listen(srv, &srv->plain, s->listen_http_port, false,
	                  threads, conn_limit) == -1)) {
		if (srv->main.mhd)
			MHD_stop_daemon(srv->main.mhd);
		pool_free(srv->pool);
		guard_stop(srv->guard);
		free(srv);
		return NULL;
	}
	return srv;
}

int
http_port(struct http_server *srv)
{
	return srv->main.port;
}

int
http_plain_port(struct http_server *srv)
{
	return srv->plain.mhd ? srv->plain.port : -1;
}

void
http_stop(struct http_server *srv)
{
	if (srv == NULL)
		return;
	/* Every pooled connection is answered and resumed before the daemon
	 * stops (libmicrohttpd must not stop with suspended connections). */
	pool_stop(srv->pool);
	if (srv->plain.mhd)
		MHD_stop_daemon(srv->plain.mhd);
	MHD_stop_daemon(srv->main.mhd);
	pool_free(srv->pool);
	guard_stop(srv->guard);
	free(srv);
}
