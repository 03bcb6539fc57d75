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
 * Is key over max failures within window seconds?  If so *retry_after is
 * the seconds until the window ends.
 */
bool ratelimit_blocked(struct ratelimit *, const char *key, int max,
    int window, int *retry_after);
/* Count one failure for key. */
void ratelimit_fail(struct ratelimit *, const char *key, int window);
/* Forget key (after a success). */
void ratelimit_reset(struct ratelimit *, const char *key);

#endif
