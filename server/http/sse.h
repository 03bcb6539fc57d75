/*
 * Live device events for the dashboard (Server-Sent Events).  A hub thread
 * polls the database twice a second for new log lines and action changes
 * of the devices someone watches, and appends "event: ...\ndata: ...\n\n"
 * records to each subscriber's buffer.  http.c streams the buffers; a
 * subscriber with nothing to read is parked (its connection suspended)
 * and woken by the hub through the wake callback.  Each stream remembers
 * the credential that opened it and ends when that is revoked, and after
 * http.sse_lifetime in any case; log events carry their line's id, so a
 * browser's automatic reconnect resumes where it left off.
 */
#ifndef SSE_H
#define SSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SSE_CLIENTS_MAX 256
#define SSE_BUFFER_MAX (256 * 1024)
#define SSE_CHECK_S 2 /* a stream's credential is checked this often */

struct db;
struct settings;
struct sse_hub;
struct sse_client;

/*
 * What opened a stream, checked again every SSE_CHECK_S seconds: the
 * stream ends when the session or token is gone, expired or no longer
 * holds perm, or its user is disabled or deleted.
 */
struct sse_owner {
	int64_t user_id;    /* 0: a machine token */
	int64_t token_id;   /* the API token, 0 for a session */
	bool via_session;   /* opened with the session cookie */
	char cred_hash[65]; /* SHA-256 of the cookie or the token */
	const char *perm;   /* the permission it needs (a literal) */
};

enum sse_refusal {
	SSE_OK,
	SSE_FULL,      /* SSE_CLIENTS_MAX streams are open */
	SSE_USER_FULL, /* the owner holds http.sse_per_user streams */
};

/* Start the hub's thread; s (http.sse_per_user, http.sse_lifetime and
 * the session expiry) must outlive it. */
struct sse_hub *sse_start(const char *db_path, const struct settings *s);
/* Close every stream and wake its connection (before http_stop). */
void sse_close_all(struct sse_hub *);
/* Stop the thread and free the hub (after http_stop).  Accepts NULL. */
void sse_stop(struct sse_hub *);

/*
 * Watch device_id for owner (copied), from log line id `after` on (a
 * reconnecting browser's Last-Event-ID), or from the newest (read now
 * through db, the caller's connection) if after is -1.  wake(arg) is
 * called, with the client's lock held, when data arrives for a parked
 * client.  NULL, with *why, when the hub or the owner's share is full.
 */
struct sse_client *sse_subscribe(struct sse_hub *, struct db *db,
    int64_t device_id, int64_t after, const struct sse_owner *owner,
    void (*wake)(void *), void *arg, enum sse_refusal *why);
/* Stop watching; frees the client. */
void sse_unsubscribe(struct sse_client *);

/*
 * Under the client's lock: take up to max buffered bytes.  0 with
 * *closed false means "nothing yet": the caller parks the connection and
 * the client is marked parked, so the next data wakes it.
 */
size_t sse_take(struct sse_client *, char *buf, size_t max, bool *closed,
    void (*park)(void *), void *arg);

#endif
