/*
 * The connection guard.  Each connection gets a struct guard_conn as
 * libmicrohttpd's socket context.  Its thread writes the request's phase
 * and the time it began into one atomic word, so the hooks on the request
 * path take no lock; the deadline thread reads the word once a second.
 * The list of connections and the per-address counts change only as
 * connections open and close, under the guard's mutex, which the deadline
 * thread also holds while it shuts connections: a connection leaves the
 * list (NOTIFY_CLOSED) before libmicrohttpd closes its descriptor, so the
 * thread never shuts a descriptor that was closed and reused.
 */
#include "guard.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "log.h"
#include "settings.h"
#include "util.h"

#define GUARD_BUCKETS 1024 /* per-address counts: hash buckets */
#define GUARD_KEY_LEN 17   /* family, then 4 or 16 address bytes */

/* A request's phase, in the top two bits of guard_conn.state. */
enum guard_phase {
	GUARD_HEAD,  /* a new connection: the first head is coming */
	GUARD_KEPT,  /* kept alive: idle, or the next head is coming */
	GUARD_BODY,  /* the head is in, the body is coming */
	GUARD_REPLY, /* answering, or shut: no deadline */
};
#define GUARD_PHASE_SHIFT 62
#define GUARD_TIME_MASK ((UINT64_C(1) << GUARD_PHASE_SHIFT) - 1)

struct guard_addr {
	struct guard_addr *next;
	unsigned char key[GUARD_KEY_LEN];
	int n; /* open connections from it */
};

#define GUARD_POLL_BATCH 256 /* descriptors polled at once for hang-ups */

struct guard_conn {
	struct guard_conn *prev, *next;
	struct guard *g;
	int fd;
	char peer[INET6_ADDRSTRLEN]; /* for the log */
	struct guard_addr *addr;     /* counted against it, or NULL */
	_Atomic uint64_t state;      /* phase << 62 | its start, ms */
	_Atomic uint64_t bytes;      /* body bytes of this request */
};

struct guard {
	const struct settings *s;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stop;
	pthread_t thread;
	struct guard_conn *conns;
	struct guard_addr *addrs[GUARD_BUCKETS];
	int refused; /* over the per-address limit since the last tick */
	char refused_peer[INET6_ADDRSTRLEN]; /* the last of them */
};

static uint64_t
guard_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t
guard_word(enum guard_phase phase, uint64_t ms)
{
	return (uint64_t)phase << GUARD_PHASE_SHIFT | (ms & GUARD_TIME_MASK);
}

/*
 * The key an address is counted under: IPv4 (also when mapped into IPv6)
 * whole, IPv6 by its /64, which one host or one site usually holds whole.
 * The text form goes to peer.  False for other families.
 */
static bool
guard_key(const struct sockaddr *sa, unsigned char *key, char *peer)
{
	static const unsigned char mapped[12] = {
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	const unsigned char *a6;

	memset(key, 0, GUARD_KEY_LEN);
	peer[0] = '\0';
	if (sa == NULL)
		return false;
	if (sa->sa_family == AF_INET) {
		const struct in_addr *a =
		    &((const struct sockaddr_in *)sa)->sin_addr;

		key[0] = 4;
		memcpy(key + 1, a, 4);
		inet_ntop(AF_INET, a, peer, INET6_ADDRSTRLEN);
		return true;
	}
	if (sa->sa_family != AF_INET6)
		return false;
	a6 = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
	inet_ntop(AF_INET6, a6, peer, INET6_ADDRSTRLEN);
	if (memcmp(a6, mapped, sizeof(mapped)) == 0) {
		key[0] = 4;
		memcpy(key + 1, a6 + 12, 4);
	} else {
		key[0] = 6;
		memcpy(key + 1, a6, 8);
	}
	return true;
}

static size_t
guard_hash(const unsigned char *key)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (size_t i = 0; i < GUARD_KEY_LEN; i++)
		h = (h ^ key[i]) * 16777619u;
	return h % GUARD_BUCKETS;
}

/* The count for key, created at 0 if absent.  Under g->lock. */
static struct guard_addr *
guard_addr_get(struct guard *g, const unsigned char *key)
{
	struct guard_addr **b = &g->addrs[guard_hash(key)], *a;

	for (a = *b; a; a = a->next)
		if (memcmp(a->key, key, GUARD_KEY_LEN) == 0)
			return a;
	a = xcalloc(1, sizeof(*a));
	memcpy(a->key, key, GUARD_KEY_LEN);
	a->next = *b;
	*b = a;
	return a;
}

/* One connection less from a; freed at 0.  Under g->lock. */
static void
guard_addr_put(struct guard *g, struct guard_addr *a)
{
	struct guard_addr **p;

	if (--a->n > 0)
		return;
	for (p = &g->addrs[guard_hash(a->key)]; *p != a; p = &(*p)->next)
		;
	*p = a->next;
	free(a);
}

static void
guard_opened(struct guard *g, struct MHD_Connection *conn, void **ctx)
{
	const struct settings *s = g->s;
	struct guard_conn *gc = xcalloc(1, sizeof(*gc));
	const union MHD_ConnectionInfo *ci;
	const struct sockaddr *sa = NULL;
	unsigned char key[GUARD_KEY_LEN];
	bool counted, refused = false;
	struct guard_addr *a;

	gc->g = g;
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	gc->fd = ci ? ci->connect_fd : -1;
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci)
		sa = ci->client_addr;
	counted = guard_key(sa, key, gc->peer) && s->http_per_ip_limit > 0 &&
	          !settings_is_trusted_proxy(s, sa);
	atomic_store(&gc->state, guard_word(GUARD_HEAD, guard_now()));
	pthread_mutex_lock(&g->lock);
	gc->next = g->conns;
	if (g->conns)
		g->conns->prev = gc;
	g->conns = gc;
	if (counted) {
		a = guard_addr_get(g, key);
		if (a->n >= s->http_per_ip_limit)
			refused = true;
		else {
			a->n++;
			gc->addr = a;
		}
	}
	if (refused) {
		atomic_store(&gc->state, guard_word(GUARD_REPLY, 0));
		if (gc->fd != -1)
			shutdown(gc->fd, SHUT_RDWR);
		g->refused++;
		memcpy(g->refused_peer, gc->peer, sizeof(g->refused_peer));
	}
	pthread_mutex_unlock(&g->lock);
	*ctx = gc;
}

static void
guard_closed(struct guard *g, void **ctx)
{
	struct guard_conn *gc = *ctx;

	if (gc == NULL)
		return;
	pthread_mutex_lock(&g->lock);
	if (gc->prev)
		gc->prev->next = gc->next;
	else
		g->conns = gc->next;
	if (gc->next)
		gc->next->prev = gc->prev;
	if (gc->addr)
		guard_addr_put(g, gc->addr);
	pthread_mutex_unlock(&g->lock);
	free(gc);
	*ctx = NULL;
}

void
guard_notify(void *cls, struct MHD_Connection *conn, void **ctx,
    enum MHD_ConnectionNotificationCode code)
{
	if (code == MHD_CONNECTION_NOTIFY_STARTED)
		guard_opened(cls, conn, ctx);
	else if (code == MHD_CONNECTION_NOTIFY_CLOSED)
		guard_closed(cls, ctx);
}

static struct guard_conn *
guard_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci ? ci->socket_context : NULL;
}

static void
guard_set(struct MHD_Connection *conn, enum guard_phase phase)
{
	struct guard_conn *gc = guard_of(conn);
	uint64_t old;

	if (gc == NULL)
		return;
	/* A connection the guard shut stays shut. */
	old = atomic_load(&gc->state);
	do {
		if (old >> GUARD_PHASE_SHIFT == GUARD_REPLY &&
		    (old & GUARD_TIME_MASK) == 0)
			return;
	} while (!atomic_compare_exchange_weak(
	    &gc->state, &old, guard_word(phase, guard_now())));
}

void
guard_request(struct MHD_Connection *conn)
{
	struct guard_conn *gc = guard_of(conn);

	if (gc == NULL)
		return;
	atomic_store_explicit(&gc->bytes, 0, memory_order_relaxed);
	guard_set(conn, GUARD_BODY);
}

void
guard_body(struct MHD_Connection *conn, size_t bytes)
{
	struct guard_conn *gc = guard_of(conn);

	if (gc)
		atomic_fetch_add_explicit(
		    &gc->bytes, bytes, memory_order_relaxed);
}

void
guard_answer(struct MHD_Connection *conn)
{
	guard_set(conn, GUARD_REPLY);
}

void
guard_done(struct MHD_Connection *conn)
{
	guard_set(conn, GUARD_KEPT);
}

/*
 * Is gc past its deadline at now?  why says which one.  A shut connection
 * is marked REPLY with time 0 (guard_set leaves it so).
 */
static bool
guard_late(const struct guard *g, struct guard_conn *gc, uint64_t now,
    uint64_t *word, const char **why)
{
	const struct settings *s = g->s;
	uint64_t w = atomic_load(&gc->state), since = w & GUARD_TIME_MASK;
	uint64_t head = (uint64_t)s->http_request_timeout * 1000, allowed;

	*word = w;
	switch ((enum guard_phase)(w >> GUARD_PHASE_SHIFT)) {
	case GUARD_HEAD:
		*why = "request head not complete within http.request_timeout";
		return now > since + head;
	case GUARD_KEPT:
		*why = "request head not complete within http.request_timeout "
		       "(after http.timeout idle)";
		return now > since + head + (uint64_t)s->http_timeout * 1000;
	case GUARD_BODY:
		if (s->http_body_min_rate == 0)
			return false;
		*why = "request body slower than http.body_min_rate";
		allowed = head + atomic_load_explicit(
		                     &gc->bytes, memory_order_relaxed) *
		                     1000 / (uint64_t)s->http_body_min_rate;
		return now > since + allowed;
	case GUARD_REPLY:
		break;
	}
	return false;
}

/*
 * Count out the connections whose client has hung up.  libmicrohttpd
 * reads the end and cleans such a connection up on its thread's next
 * turn, which on a thread with nothing else to do can be much later (the
 * close notification comes then); meanwhile the client's address would be
 * charged for a connection it no longer holds.  Under g->lock: a
 * descriptor of the list is not closed before its connection leaves it.
 */
static void
guard_count_out_gone(struct guard *g)
{
	struct pollfd pf[GUARD_POLL_BATCH];
	struct guard_conn *who[GUARD_POLL_BATCH];
	struct guard_conn *gc = g->conns;
	size_t n = 0;

	for (;;) {
		if (gc && gc->addr && gc->fd != -1) {
			pf[n].fd = gc->fd;
			pf[n].events = POLLRDHUP;
			pf[n].revents = 0;
			who[n++] = gc;
		}
		if (n > 0 && (n == GUARD_POLL_BATCH || gc == NULL) &&
		    poll(pf, n, 0) > 0) {
			for (size_t i = 0; i < n; i++)
				if (pf[i].revents &
				    (POLLRDHUP | POLLHUP | POLLERR)) {
					guard_addr_put(g, who[i]->addr);
					who[i]->addr = NULL;
				}
		}
		if (n == GUARD_POLL_BATCH || gc == NULL)
			n = 0;
		if (gc == NULL)
			break;
		gc = gc->next;
	}
}

static void *
guard_main(void *arg)
{
	struct guard *g = arg;
	struct timespec ts;

	pthread_mutex_lock(&g->lock);
	while (!g->stop) {
		uint64_t now = guard_now();
		const char *why = NULL, *last_why = NULL;
		char last_peer[INET6_ADDRSTRLEN] = "";
		char refused_peer[INET6_ADDRSTRLEN];
		int shut = 0, refused = g->refused;

		for (struct guard_conn *gc = g->conns; gc; gc = gc->next) {
			uint64_t w;

			if (gc->fd == -1 || !guard_late(g, gc, now, &w, &why))
				continue;
			/* Unless its thread moved on meanwhile. */
			if (!atomic_compare_exchange_strong(
			        &gc->state, &w, guard_word(GUARD_REPLY, 0)))
				continue;
			shutdown(gc->fd, SHUT_RDWR);
			shut++;
			last_why = why;
			memcpy(last_peer, gc->peer, sizeof(last_peer));
		}
		guard_count_out_gone(g);
		memcpy(refused_peer, g->refused_peer, sizeof(refused_peer));
		g->refused = 0;
		if (shut || refused) {
			pthread_mutex_unlock(&g->lock);
			if (shut)
				log_warnx("closed %d slow connection%s (the "
				          "last from %s: %s)",
				    shut, shut == 1 ? "" : "s", last_peer,
				    last_why);
			if (refused)
				log_warnx(
				    "refused %d connection%s over "
				    "http.per_ip_limit %d (the last from "
				    "%s; devices behind one NAT share its "
				    "address)",
				    refused, refused == 1 ? "" : "s",
				    g->s->http_per_ip_limit, refused_peer);
			pthread_mutex_lock(&g->lock);
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += (long)GUARD_TICK_MS % 1000 * 1000000;
		ts.tv_sec += GUARD_TICK_MS / 1000 + ts.tv_nsec / 1000000000;
		ts.tv_nsec %= 1000000000;
		if (!g->stop)
			pthread_cond_timedwait(&g->wake, &g->lock, &ts);
	}
	pthread_mutex_unlock(&g->lock);
	return NULL;
}

struct guard *
guard_start(const struct settings *s)
{
	struct guard *g = xcalloc(1, sizeof(*g));
	int e;

	g->s = s;
	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->wake, NULL);
	if ((e = pthread_create(&g->thread, NULL, guard_main, g)) != 0) {
		errno = e;
		log_warn("%s: pthread_create", __func__);
		pthread_cond_destroy(&g->wake);
		pthread_mutex_destroy(&g->lock);
		free(g);
		return NULL;
	}
	pthread_setname_np(g->thread, "guard");
	return g;
}

void
guard_stop(struct guard *g)
{
	if (g == NULL)
		return;
	pthread_mutex_lock(&g->lock);
	g->stop = true;
	pthread_cond_signal(&g->wake);
	pthread_mutex_unlock(&g->lock);
	pthread_join(g->thread, NULL);
	/* libmicrohttpd closed every connection: both lists are empty. */
	for (size_t i = 0; i < GUARD_BUCKETS; i++)
		while (g->addrs[i]) {
			struct guard_addr *a = g->addrs[i];

			g->addrs[i] = a->next;
			free(a);
		}
	pthread_cond_destroy(&g->wake);
	pthread_mutex_destroy(&g->lock);
	free(g);
}
