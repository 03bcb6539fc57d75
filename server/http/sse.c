/*
 * The event hub.  One thread, one database connection; every half second
 * it reads what is new for each watched device, and every SSE_CHECK_S
 * seconds it asks auth whether each stream's credential still holds.
 * Clients are few (people looking at a device page), so a linear list is
 * enough.
 */
#include "sse.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "db.h"
#include "log.h"
#include "settings.h"
#include "util.h"

#include <jansson.h>

#define SSE_TICK_MS 500
#define SSE_PING_S 5 /* also how a closed parked stream is noticed */
#define SSE_LINES_PER_TICK 200

struct sse_client {
	struct sse_hub *hub;
	pthread_mutex_t lock;
	struct sse_owner owner;
	int64_t started, checked; /* now_s() of the start, the last check */
	int64_t device_id;
	int64_t last_log_id; /* -1: not started */
	char *last_action;   /* JSON of the last action event sent */
	char *buf;
	size_t len;
	bool parked, closed;
	int64_t last_ping;
	void (*wake)(void *);
	void *arg;
	struct sse_client *next;
};

struct sse_hub {
	pthread_mutex_t lock; /* guards the client list and stop */
	pthread_t thread;
	bool stop;
	char *db_path;
	const struct settings *settings;
	struct sse_client *clients;
	int nclients;
};

/* Append bytes; called with the client's lock held. */
static void
sse_append(struct sse_client *c, const char *s, size_t n)
{
	if (c->closed)
		return;
	if (c->len + n > SSE_BUFFER_MAX) {
		c->closed = true; /* a reader this slow is dropped */
		return;
	}
	c->buf = xrealloc(c->buf, c->len + n);
	memcpy(c->buf + c->len, s, n);
	c->len += n;
}

/* One record; id > 0 gives it that id (log lines: their row id). */
static void
sse_event(struct sse_client *c, int64_t id, const char *event, const char *data)
{
	char *rec = id > 0 ? xasprintf("id: %lld\nevent: %s\ndata: %s\n\n",
	                         (long long)id, event, data)
	                   : xasprintf("event: %s\ndata: %s\n\n", event, data);

	sse_append(c, rec, strlen(rec));
	free(rec);
}

/* Called with the client's lock held. */
static void
sse_wake_locked(struct sse_client *c)
{
	if (c->parked && (c->len > 0 || c->closed)) {
		c->parked = false;
		c->wake(c->arg);
	}
}

/* The id of the newest log line of device_id (0 if none): where a new
 * watcher starts, since the page loaded the rest. */
static int64_t
sse_newest_line(struct db *db, int64_t device_id)
{
	static const char sql[] =
	    "SELECT COALESCE(max(l.id), 0) FROM action_log l JOIN action a "
	    "ON a.id = l.action_id WHERE a.device_id = ?1";
	sqlite3_stmt *st = db_prepare(db, sql);
	int64_t id = 0;

	if (st == NULL)
		return 0;
	db_bind_int64(st, 1, device_id);
	if (sqlite3_step(st) == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	db_done(st);
	return id;
}

/* Start c after log line id.  An id without data sets the browser's
 * Last-Event-ID, so a reconnect misses no line that came in between.
 * The client's lock is held (or c is not in the list yet). */
static void
sse_start_at(struct sse_client *c, int64_t id)
{
	char rec[40];

	c->last_log_id = id;
	snprintf(rec, sizeof(rec), "id: %lld\n\n", (long long)id);
	sse_append(c, rec, strlen(rec));
}

/* New log lines and the latest action of c's device, as events. */
static void
sse_poll_client(struct db *db, struct sse_client *c, int64_t now)
{
	static const char lines[] =
	    "SELECT l.id, l.action_id, l.at, l.line FROM action_log l "
	    "JOIN action a ON a.id = l.action_id WHERE a.device_id = ?1 "
	    "AND l.id > ?2 ORDER BY l.id LIMIT ?3";
	static const char latest[] =
	    "SELECT a.id, a.status, a.progress, s.version, a.result_code "
	    "FROM action a JOIN distribution_set s ON s.id = a.ds_id "
	    "WHERE a.device_id = ?1 ORDER BY a.id DESC LIMIT 1";
	sqlite3_stmt *st;
	int64_t from;

	pthread_mutex_lock(&c->lock);
	from = c->last_log_id;
	pthread_mutex_unlock(&c->lock);
	if (from < 0) {
		/* sse_subscribe could not read where to start. */
		from = sse_newest_line(db, c->device_id);
		pthread_mutex_lock(&c->lock);
		sse_start_at(c, from);
		pthread_mutex_unlock(&c->lock);
	}
	if ((st = db_prepare(db, lines)) != NULL) {
		db_bind_int64(st, 1, c->device_id);
		db_bind_int64(st, 2, from);
		db_bind_int64(st, 3, SSE_LINES_PER_TICK);
		while (sqlite3_step(st) == SQLITE_ROW) {
			char *line = utf8_lossy(
			    (const char *)sqlite3_column_text(st, 3));
			json_t *o = json_pack("{s:I, s:I, s:I, s:s}", "id",
			    (json_int_t)sqlite3_column_int64(st, 0),
			    "action_id",
			    (json_int_t)sqlite3_column_int64(st, 1), "at",
			    (json_int_t)sqlite3_column_int64(st, 2), "line",
			    line ? line : "");
			char *d = o ? json_dumps(o, JSON_COMPACT) : NULL;

			free(line);
			from = sqlite3_column_int64(st, 0);
			pthread_mutex_lock(&c->lock);
			if (d)
				sse_event(c, from, "log", d);
			pthread_mutex_unlock(&c->lock);
			free(d);
			json_decref(o);
		}
		db_done(st);
	}
	pthread_mutex_lock(&c->lock);
	c->last_log_id = from;
	pthread_mutex_unlock(&c->lock);
	if ((st = db_prepare(db, latest)) != NULL) {
		db_bind_int64(st, 1, c->device_id);
		if (sqlite3_step(st) == SQLITE_ROW) {
			json_t *o = json_pack("{s:I, s:s, s:o, s:s, s:o}", "id",
			    (json_int_t)sqlite3_column_int64(st, 0), "status",
			    (const char *)sqlite3_column_text(st, 1),
			    "progress",
			    sqlite3_column_type(st, 2) == SQLITE_NULL
			        ? json_null()
			        : json_integer(sqlite3_column_int64(st, 2)),
			    "version", (const char *)sqlite3_column_text(st, 3),
			    "result_code",
			    sqlite3_column_type(st, 4) == SQLITE_NULL
			        ? json_null()
			        : json_integer(sqlite3_column_int64(st, 4)));
			char *d = o ? json_dumps(o, JSON_COMPACT) : NULL;

			pthread_mutex_lock(&c->lock);
			if (d && (c->last_action == NULL ||
			             strcmp(d, c->last_action) != 0)) {
				sse_event(c, 0, "action", d);
				free(c->last_action);
				c->last_action = d;
				d = NULL;
			}
			pthread_mutex_unlock(&c->lock);
			free(d);
			json_decref(o);
		}
		db_done(st);
	}
	pthread_mutex_lock(&c->lock);
	if (now - c->last_ping >= SSE_PING_S) {
		sse_append(c, ": ping\n\n", 8);
		c->last_ping = now;
	}
	sse_wake_locked(c);
	pthread_mutex_unlock(&c->lock);
}

/* End c's stream: after what is buffered, or at once (dropped) when its
 * credential no longer holds. */
static void
sse_end(struct sse_client *c, bool drop)
{
	pthread_mutex_lock(&c->lock);
	if (drop)
		c->len = 0;
	c->closed = true;
	sse_wake_locked(c);
	pthread_mutex_unlock(&c->lock);
}

/* Is c still to be served?  Ends it if not.  Called by the hub thread
 * with the list lock held: closed changes only under that lock, so
 * sse_subscribe may read it holding the list lock alone. */
static bool
sse_still_open(
    struct sse_hub *hub, struct db *db, struct sse_client *c, int64_t now)
{
	const struct sse_owner *o = &c->owner;

	if (c->closed)
		return false;
	if (now - c->checked >= SSE_CHECK_S) {
		c->checked = now;
		if (!auth_still_allows(db, hub->settings, o->via_session,
		        o->cred_hash, o->perm)) {
			sse_end(c, true);
			return false;
		}
	}
	if (now - c->started >= hub->settings->sse_lifetime) {
		sse_end(c, false); /* EventSource reconnects */
		return false;
	}
	return true;
}

static void *
sse_main(void *arg)
{
	struct sse_hub *hub = arg;
	struct db *db = db_open(hub->db_path);
	struct timespec ts = {0, SSE_TICK_MS * 1000000L};

	if (db == NULL)
		fatalx("%s: cannot open the database", __func__);
	for (;;) {
		pthread_mutex_lock(&hub->lock);
		if (hub->stop) {
			pthread_mutex_unlock(&hub->lock);
			break;
		}
		/* The list lock is held while polling: subscribers wait at
		 * most one tick to join or leave. */
		for (struct sse_client *c = hub->clients; c; c = c->next)
			if (sse_still_open(hub, db, c, now_s()))
				sse_poll_client(db, c, now_s());
		pthread_mutex_unlock(&hub->lock);
		nanosleep(&ts, NULL);
	}
	db_close(db);
	return NULL;
}

struct sse_hub *
sse_start(const char *db_path, const struct settings *s)
{
	struct sse_hub *hub = xcalloc(1, sizeof(*hub));

	pthread_mutex_init(&hub->lock, NULL);
	hub->db_path = xstrdup(db_path);
	hub->settings = s;
	if (pthread_create(&hub->thread, NULL, sse_main, hub) != 0) {
		free(hub->db_path);
		free(hub);
		return NULL;
	}
	return hub;
}

void
sse_close_all(struct sse_hub *hub)
{
	if (hub == NULL)
		return;
	pthread_mutex_lock(&hub->lock);
	hub->stop = true;
	for (struct sse_client *c = hub->clients; c; c = c->next) {
		pthread_mutex_lock(&c->lock);
		c->closed = true;
		sse_wake_locked(c);
		pthread_mutex_unlock(&c->lock);
	}
	pthread_mutex_unlock(&hub->lock);
}

void
sse_stop(struct sse_hub *hub)
{
	if (hub == NULL)
		return;
	sse_close_all(hub);
	pthread_join(hub->thread, NULL);
	free(hub->db_path);
	pthread_mutex_destroy(&hub->lock);
	free(hub);
}

/* Streams open for the owner of o: a user's, or a machine token's. */
static int
sse_owned(const struct sse_hub *hub, const struct sse_owner *o)
{
	int n = 0;

	for (const struct sse_client *c = hub->clients; c; c = c->next)
		if (!c->closed && c->owner.user_id == o->user_id &&
		    (o->user_id != 0 || c->owner.token_id == o->token_id))
			n++;
	return n;
}

struct sse_client *
sse_subscribe(struct sse_hub *hub, struct db *db, int64_t device_id,
    int64_t after, const struct sse_owner *owner, void (*wake)(void *),
    void *arg, enum sse_refusal *why)
{
	struct sse_client *c;
	int64_t start =
	    after >= 0 || db == NULL ? after : sse_newest_line(db, device_id);

	pthread_mutex_lock(&hub->lock);
	*why = SSE_OK;
	if (hub->stop || hub->nclients >= SSE_CLIENTS_MAX)
		*why = SSE_FULL;
	else if (sse_owned(hub, owner) >= hub->settings->sse_per_user)
		*why = SSE_USER_FULL;
	if (*why != SSE_OK) {
		pthread_mutex_unlock(&hub->lock);
		return NULL;
	}
	c = xcalloc(1, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
	c->hub = hub;
	c->owner = *owner;
	c->started = c->checked = now_s();
	c->device_id = device_id;
	c->last_log_id = -1;
	c->last_ping = now_s();
	c->wake = wake;
	c->arg = arg;
	/* Tell the browser how long to wait before reconnecting. */
	sse_append(c, "retry: 3000\n\n", 13);
	if (after >= 0)
		c->last_log_id = after; /* the browser knows where it is */
	else if (start >= 0)
		sse_start_at(c, start);
	c->next = hub->clients;
	hub->clients = c;
	hub->nclients++;
	pthread_mutex_unlock(&hub->lock);
	return c;
}

void
sse_unsubscribe(struct sse_client *c)
{
	struct sse_hub *hub;

	if (c == NULL)
		return;
	hub = c->hub;
	pthread_mutex_lock(&hub->lock);
	for (struct sse_client **p = &hub->clients; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			hub->nclients--;
			break;
		}
	pthread_mutex_unlock(&hub->lock);
	pthread_mutex_destroy(&c->lock);
	free(c->buf);
	free(c->last_action);
	free(c);
}

size_t
sse_take(struct sse_client *c, char *buf, size_t max, bool *closed,
    void (*park)(void *), void *arg)
{
	size_t n;

	pthread_mutex_lock(&c->lock);
	n = c->len < max ? c->len : max;
	if (n > 0) {
		memcpy(buf, c->buf, n);
		memmove(c->buf, c->buf + n, c->len - n);
		c->len -= n;
	}
	*closed = n == 0 && c->closed;
	if (n == 0 && !c->closed) {
		c->parked = true;
		park(arg);
	}
	pthread_mutex_unlock(&c->lock);
	return n;
}
