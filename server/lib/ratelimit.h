/*
 * Failure counting for logins: a fixed-size table of keys (user names,
 * addresses) with a count of failures in the current window.  Thread-safe.
 * When the table is full the oldest window is forgotten first.
 */
#ifndef RATELIMIT_H
#define RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct ratelimit;

struct ratelimit *ratelimit_new(void);
void ratelimit_free(struct ratelimit *);
/*
 * Count an attempt for key and say whether it may go ahead: false once
 * max attempts were counted within window seconds (*retry_after is then
 * the seconds until the window ends).  Counting before the check is done
 * means concurrent attempts cannot slip past the limit together; a
 * success calls ratelimit_reset.
 */
bool ratelimit_attempt(
    struct ratelimit *, const char *key, int max, int window, int *retry_after);
/* Take back one counted attempt (it succeeded, or another limit
 * refused it). */
void ratelimit_refund(struct ratelimit *, const char *key);
/* Forget key (after a success). */
void ratelimit_reset(struct ratelimit *, const char *key);

#endif
