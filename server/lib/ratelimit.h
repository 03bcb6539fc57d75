/*
 * Failure counting for logins: a bounded table of keys (user names,
 * client networks) with a count of failures in the current window.
 * Thread-safe.  A key that reached its limit is never forgotten before its
 * window ends: when the table is full, an expired entry makes room first,
 * then the entry with the fewest failures that is not locked; when every
 * entry is locked, attempts for new keys are refused until one expires.
 */
#ifndef RATELIMIT_H
#define RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RATELIMIT_KEY_MAX 80 /* "addr:" + an IPv6 network, "user:" + name */

struct ratelimit;

/* A table that tracks at most `keys` keys at once (at least 2). */
struct ratelimit *ratelimit_new(int keys);
void ratelimit_free(struct ratelimit *);
/*
 * Count an attempt for key and say whether it may go ahead: false once
 * max attempts were counted within window seconds (*retry_after is then
 * the seconds until the window ends), or when the table has no room for a
 * new key.  Counting before the check is done means concurrent attempts
 * cannot slip past the limit together; a success calls ratelimit_reset.
 */
bool ratelimit_attempt(
    struct ratelimit *, const char *key, int max, int window, int *retry_after);
/*
 * One attempt counted against two keys at once (a client address and a
 * user name): allowed if both allow.  While the first refuses, the second
 * is not counted; when the second refuses, the first's count is taken
 * back.  Neither key's entry is pushed out to make room for the other.
 */
bool ratelimit_attempt2(struct ratelimit *, const char *first, int first_max,
    const char *second, int second_max, int window, int *retry_after);
/* The same at time `now` (seconds), for tests. */
bool ratelimit_attempt_at(struct ratelimit *, const char *key, int max,
    int window, int *retry_after, int64_t now);
bool ratelimit_attempt2_at(struct ratelimit *, const char *first, int first_max,
    const char *second, int second_max, int window, int *retry_after,
    int64_t now);
/* Take back one counted attempt (it succeeded, or another limit
 * refused it). */
void ratelimit_refund(struct ratelimit *, const char *key);
/* Forget key (after a success). */
void ratelimit_reset(struct ratelimit *, const char *key);
/* Keys held now (expired ones included until their slot is reused). */
size_t ratelimit_count(struct ratelimit *);

/*
 * The address key of a client address in text: "addr:" and the IPv4
 * address, or the /64 network of an IPv6 address ("addr:2001:db8::/64"),
 * since one host or LAN commonly holds a whole /64.  An IPv4-mapped IPv6
 * address counts as its IPv4 address; text that is not an address is
 * used as it is.
 */
void ratelimit_address_key(const char *address, char out[RATELIMIT_KEY_MAX]);

#endif
