/*
 * An open-addressing hash table with linear probing, sized once: twice as
 * many slots as keys it may hold, so probes stay short.  A slot holds
 * 128 bits of the SHA-256 of its key, not the key: slots stay 32 bytes,
 * and no two keys an attacker can choose share a counter (sharing one
 * would let a successful login of one name reset another's lock).
 * Entries leave by backward-shift deletion, so no tombstones pile up.
 * Making room when full is a scan of the table; it happens only while the
 * table is full, and each attempt it serves costs far less than the
 * password hash behind it.  A scan that finds every entry locked is
 * remembered, so the refusals that follow (which hash no password) cost
 * no scan.
 */
#include "ratelimit.h"

#include <arpa/inet.h>
#include <nettle/sha2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"

struct rl_slot {
	uint64_t hash[2]; /* of the key; hash[0] picks the home slot */
	int64_t expires;  /* window end, 0 = free slot */
	int32_t failures; /* attempts counted in the window */
	int32_t max;      /* the limit counted against: locked at max */
};

struct ratelimit {
	pthread_mutex_t lock;
	struct rl_slot *slots;
	size_t mask;  /* slots - 1 (a power of two) */
	size_t used;  /* occupied slots */
	size_t limit; /* keys held at most */
	/* Every entry was locked at the last look and the first of them
	 * ends then: until that time (or a refund or reset) no room can be
	 * made, and refusing needs no scan. */
	int64_t all_locked_until;
};

struct ratelimit *
ratelimit_new(int keys)
{
	struct ratelimit *rl = xcalloc(1, sizeof(*rl));
	size_t n = 4;

	rl->limit = keys < 2 ? 2 : (size_t)keys;
	while (n < rl->limit * 2)
		n *= 2;
	rl->slots = xcalloc(n, sizeof(*rl->slots));
	rl->mask = n - 1;
	pthread_mutex_init(&rl->lock, NULL);
	return rl;
}

void
ratelimit_free(struct ratelimit *rl)
{
	if (rl == NULL)
		return;
	pthread_mutex_destroy(&rl->lock);
	free(rl->slots);
	free(rl);
}

static void
rl_hash(const char *key, uint64_t out[2])
{
	struct sha256_ctx ctx;
	uint8_t md[SHA256_DIGEST_SIZE];

	sha256_init(&ctx);
	sha256_update(&ctx, strlen(key), (const uint8_t *)key);
	sha256_digest(&ctx, sizeof(md), md);
	memcpy(out, md, 2 * sizeof(uint64_t));
}

/* The slot holding hash h, or NULL.  Lock held. */
static struct rl_slot *
rl_find(struct ratelimit *rl, const uint64_t h[2])
{
	for (size_t i = h[0] & rl->mask;; i = (i + 1) & rl->mask) {
		struct rl_slot *s = &rl->slots[i];

		if (s->expires == 0)
			return NULL;
		if (s->hash[0] == h[0] && s->hash[1] == h[1])
			return s;
	}
}

/* Empty slot s and move later entries of its probe run back into the
 * hole, so every entry stays reachable from its home slot.  Lock held. */
static void
rl_remove(struct ratelimit *rl, struct rl_slot *s)
{
	size_t i = (size_t)(s - rl->slots), j = i, home;

	for (;;) {
		j = (j + 1) & rl->mask;
		if (rl->slots[j].expires == 0)
			break;
		home = rl->slots[j].hash[0] & rl->mask;
		/* Leave entry j if its home lies cyclically in (i, j]. */
		if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
			continue;
		rl->slots[i] = rl->slots[j];
		i = j;
	}
	memset(&rl->slots[i], 0, sizeof(rl->slots[i]));
	rl->used--;
}

/* Is h one of the n hashes of keep? */
static bool
rl_kept(const uint64_t h[2], const uint64_t (*keep)[2], size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (keep[i][0] == h[0] && keep[i][1] == h[1])
			return true;
	return false;
}

/*
 * Make room for one more key in a full table: an expired entry goes
 * first, then the one with the fewest failures among those not locked
 * (the newest of equals: an old entry is the likelier to be a real user
 * near the limit).  A locked entry stays until its window ends, and so do
 * the entries of the attempt being counted (`keep`): else the user name's
 * entry could push out the address's it was counted with, and neither
 * limit would hold.  False if nothing may go; *wait is then the seconds
 * until an entry expires.  Lock held.
 */
static bool
rl_evict(struct ratelimit *rl, const uint64_t (*keep)[2], size_t nkeep,
    int64_t now, int64_t *wait)
{
	struct rl_slot *victim = NULL;
	int64_t first_end = INT64_MAX;
	bool kept = false;

	if (now < rl->all_locked_until) {
		*wait = rl->all_locked_until - now;
		return false;
	}
	for (size_t i = 0; i <= rl->mask; i++) {
		struct rl_slot *s = &rl->slots[i];

		if (s->expires == 0)
			continue;
		if (s->expires <= now) {
			victim = s;
			break;
		}
		if (s->failures >= s->max || rl_kept(s->hash, keep, nkeep)) {
			kept |= s->failures < s->max;
			if (s->expires < first_end)
				first_end = s->expires;
			continue;
		}
		if (victim == NULL || s->failures < victim->failures ||
		    (s->failures == victim->failures &&
		        s->expires > victim->expires))
			victim = s;
	}
	if (victim != NULL) {
		rl_remove(rl, victim);
		return true;
	}
	if (first_end == INT64_MAX) /* cannot be: a full table */
		first_end = now + 1;
	*wait = first_end - now;
	if (!kept) {
		rl->all_locked_until = first_end;
		log_warnx("login limits: all %zu tracked names and addresses "
		          "are locked; logins under other names are refused "
		          "for %lld s (auth.login_tracked_keys)",
		    rl->limit, (long long)*wait);
	}
	return false;
}

/* The entry of hash h in its current window, found or made (not at the
 * cost of the entries of keep); NULL and *wait if there is no room.
 * Lock held. */
static struct rl_slot *
rl_entry(struct ratelimit *rl, const uint64_t h[2], const uint64_t (*keep)[2],
    size_t nkeep, int max, int window, int64_t now, int64_t *wait)
{
	struct rl_slot *s;
	size_t i;

	if ((s = rl_find(rl, h)) == NULL) {
		if (rl->used >= rl->limit &&
		    !rl_evict(rl, keep, nkeep, now, wait))
			return NULL;
		for (i = h[0] & rl->mask; rl->slots[i].expires != 0;
		     i = (i + 1) & rl->mask)
			;
		s = &rl->slots[i];
		s->hash[0] = h[0];
		s->hash[1] = h[1];
		rl->used++;
	}
	if (s->expires <= now) {
		s->expires = now + window;
		s->failures = 0;
	}
	s->max = max;
	return s;
}

/* Take one failure back from the entry of h.  Lock held. */
static void
rl_uncount(struct ratelimit *rl, const uint64_t h[2])
{
	struct rl_slot *s = rl_find(rl, h);

	if (s == NULL || s->failures == 0)
		return;
	if (s->failures-- >= s->max)
		rl->all_locked_until = 0; /* it is no longer locked */
}

/*
 * Count an attempt against each of n keys (at most 2) in turn: refused
 * by the first that is at its limit or cannot get an entry, and then
 * what was counted for the keys before it is taken back.
 */
static bool
rl_attempt(struct ratelimit *rl, const char *const *keys, const int *maxes,
    size_t n, int window, int *retry_after, int64_t now)
{
	uint64_t h[2][2];
	struct rl_slot *s;
	int64_t wait = 0;
	size_t i, counted = 0;

	for (i = 0; i < n; i++)
		rl_hash(keys[i], h[i]);
	pthread_mutex_lock(&rl->lock);
	for (i = 0; i < n; i++) {
		s = rl_entry(rl, h[i], h, n, maxes[i], window, now, &wait);
		if (s == NULL)
			break;
		if (s->failures >= s->max) {
			wait = s->expires - now;
			break;
		}
		s->failures++;
		counted++;
	}
	/* Refused: the entries counted may have moved, find them again. */
	if (counted < n)
		for (i = 0; i < counted; i++)
			rl_uncount(rl, h[i]);
	pthread_mutex_unlock(&rl->lock);
	if (counted < n)
		*retry_after = wait < 1           ? 1
		               : wait > INT32_MAX ? INT32_MAX
		                                  : (int)wait;
	return counted == n;
}

bool
ratelimit_attempt_at(struct ratelimit *rl, const char *key, int max, int window,
    int *retry_after, int64_t now)
{
	return rl_attempt(rl, &key, &max, 1, window, retry_after, now);
}

bool
ratelimit_attempt2_at(struct ratelimit *rl, const char *first, int first_max,
    const char *second, int second_max, int window, int *retry_after,
    int64_t now)
{
	const char *keys[2] = {first, second};
	int maxes[2] = {first_max, second_max};

	return rl_attempt(rl, keys, maxes, 2, window, retry_after, now);
}

bool
ratelimit_attempt2(struct ratelimit *rl, const char *first, int first_max,
    const char *second, int second_max, int window, int *retry_after)
{
	return ratelimit_attempt2_at(rl, first, first_max, second, second_max,
	    window, retry_after, now_s());
}

bool
ratelimit_attempt(struct ratelimit *rl, const char *key, int max, int window,
    int *retry_after)
{
	return ratelimit_attempt_at(rl, key, max, window, retry_after, now_s());
}

void
ratelimit_refund(struct ratelimit *rl, const char *key)
{
	uint64_t h[2];

	rl_hash(key, h);
	pthread_mutex_lock(&rl->lock);
	rl_uncount(rl, h);
	pthread_mutex_unlock(&rl->lock);
}

void
ratelimit_reset(struct ratelimit *rl, const char *key)
{
	struct rl_slot *s;
	uint64_t h[2];

	rl_hash(key, h);
	pthread_mutex_lock(&rl->lock);
	if ((s = rl_find(rl, h)) != NULL) {
		rl_remove(rl, s);
		rl->all_locked_until = 0;
	}
	pthread_mutex_unlock(&rl->lock);
}

size_t
ratelimit_count(struct ratelimit *rl)
{
	size_t n;

	pthread_mutex_lock(&rl->lock);
	n = rl->used;
	pthread_mutex_unlock(&rl->lock);
	return n;
}

void
ratelimit_address_key(const char *address, char out[RATELIMIT_KEY_MAX])
{
	static const unsigned char mapped[12] = {
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	unsigned char a[16];
	char text[INET6_ADDRSTRLEN];

	if (inet_pton(AF_INET6, address, a) == 1) {
		if (memcmp(a, mapped, sizeof(mapped)) == 0)
			inet_ntop(AF_INET, a + 12, text, sizeof(text));
		else {
			memset(a + 8, 0, 8);
			inet_ntop(AF_INET6, a, text, sizeof(text));
			strcat(text, "/64");
		}
	} else if (inet_pton(AF_INET, address, a) == 1)
		inet_ntop(AF_INET, a, text, sizeof(text));
	else {
		snprintf(out, RATELIMIT_KEY_MAX, "addr:%.*s",
		    (int)utf8_cut(address, RATELIMIT_KEY_MAX - 6), address);
		return;
	}
	snprintf(out, RATELIMIT_KEY_MAX, "addr:%s", text);
}
