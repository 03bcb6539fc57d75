/*
 * Live device events for the dashboard (Server-Sent Events).  A hub thread
 * polls the database twice a second for new log lines and action changes
 * of the devices someone watches, and appends "event: ...\ndata: ...\n\n"
 * records to each subscriber's buffer.  http.c streams the buffers; a
 * subscriber with nothing to read is parked (its connection suspended)
 * and woken by the hub through the wake callback.
 */
#ifndef SSE_H
#define SSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SSE_CLIENTS_MAX 256
#define SSE_BUFFER_MAX (256 * 1024)

struct sse_hub;
struct sse_client;

struct sse_hub *sse_start(const char *db_path);
/* Close every stream and wake its connection (before http_stop). */
void sse_close_all(struct sse_hub *);
/* Stop the thread and free the hub (after http_stop).  Accepts NULL. */
void sse_stop(struct sse_hub *);

/*
 * Watch device_id.  wake(arg) is called, with the client's lock held, when
 * data arrives for a parked client.  NULL when the hub is full.
 */
struct sse_client *sse_subscribe(
    struct sse_hub *, int64_t device_id, void (*wake)(void *), void *arg);
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
