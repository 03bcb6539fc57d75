/*
 * What one host may hold, and how long a request may take to arrive.
 * libmicrohttpd's own limits fall short twice: its per-address limit would
 * count a trusted proxy as one client, and its timeout is an idle timeout,
 * so a header line every few seconds keeps a connection for ever.  The
 * guard follows every connection from accept to close:
 *
 * - At most http.per_ip_limit connections per client address (an IPv6
 *   address counts with its /64), trusted proxies (proxy.trusted) not
 *   counted.  One more is shut as it is accepted.  A connection whose
 *   client hung up stops counting at the next tick, before libmicrohttpd
 *   cleans it up (on an idle thread that can take long).
 * - Deadlines, checked once a second by a thread of its own.  A request's
 *   line and headers must be in within http.request_timeout of the
 *   connection's start; on a kept-alive connection, of the end of the
 *   previous request plus http.timeout (the idle wait such a connection is
 *   allowed anyway).  Its body, after the same grace, must average
 *   http.body_min_rate bytes a second.  A connection past its deadline is
 *   shut down (shutdown(2)): libmicrohttpd reads the end and closes it, as
 *   if the client had left.
 *
 * While an answer is made or sent, and while a connection is suspended
 * (live events, the management pool), nothing is timed here; http.timeout
 * still closes a client that stops reading.
 */
#ifndef GUARD_H
#define GUARD_H

#include <microhttpd.h>
#include <stddef.h>

#define GUARD_TICK_MS 1000 /* how often the deadlines are checked */

struct guard;
struct settings;

/* Start the deadline thread.  NULL on failure (logged). */
struct guard *guard_start(const struct settings *);
/* Stop it; call after libmicrohttpd has closed every connection. */
void guard_stop(struct guard *);

/* libmicrohttpd's MHD_OPTION_NOTIFY_CONNECTION callback, cls the guard. */
void guard_notify(void *cls, struct MHD_Connection *, void **socket_context,
    enum MHD_ConnectionNotificationCode);

/* From the access handler: the request's head is in (its first call). */
void guard_request(struct MHD_Connection *);
/* Body bytes arrived. */
void guard_body(struct MHD_Connection *, size_t bytes);
/* The answer is being made: no deadline until the request ends. */
void guard_answer(struct MHD_Connection *);
/* The request ended; the connection may wait for the next one. */
void guard_done(struct MHD_Connection *);

#endif
