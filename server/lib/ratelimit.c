/*
 * A small fixed table: RATELIMIT_SLOTS entries, linear search (the table is
 * consulted only on logins, so simplicity wins over speed).
 */
#include "ratelimit.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define RATELIMIT_SLOTS 1024
#define RATELIMIT_KEY 96

struct rl_slot {
	char key[RATELIMIT_KEY];
	int64_t start; /* window start, 0 = free */
	int failures;
};

struct ratelimit {
	pthread_mutex_t lock;
	struct rl_slot slots[RATELIMIT_SLOTS];
};

struct ratelimit *
ratelimit_new(void)
{
	struct ratelimit *rl = xcalloc(1, sizeof(*rl));

	pthread_mutex_init(&rl->lock, NULL);
	return rl;
}

void
ratelimit_free(struct ratelimit *rl)
{
	if (rl == NULL)
		return;
	pthread_mutex_destroy(&rl->lock);
	free(rl);
}

/* The slot of key, or NULL.  Called with the lock held. */
static struct rl_slot *
rl_find(struct ratelimit *rl, const char *key)
{
	for (size_t i = 0; i < RATELIMIT_SLOTS; i++)
		if (rl->slots[i].start != 0 &&
		    strncmp(rl->slots[i].key, key, RATELIMIT_KEY - 1) == 0)
			return &rl->slots[i];
	return NULL;
}

/* The slot of key in its current window, made if need be.  Lock held. */
static struct rl_slot *
rl_get(struct ratelimit *rl, const char *key, int window, int64_t now)
{
	struct rl_slot *s, *oldest = &rl->slots[0];

	if ((s = rl_find(rl, key)) != NULL && now - s->start >= window)
		s->start = 0;
	if (s == NULL || s->start == 0) {
		s = NULL;
		for (size_t i = 0; i < RATELIMIT_SLOTS && s == NULL; i++) {
			if (rl->slots[i].start == 0 ||
			    now - rl->slots[i].start >= window)
				s = &rl->slots[i];
			else if (rl->slots[i].start < oldest->start)
				oldest = &rl->slots[i];
		}
		if (s == NULL)
			s = oldest;
		snprintf(s->key, sizeof(s->key), "%s", key);
		s->start = now;
		s->failures = 0;
	}
	return s;
}

bool
ratelimit_attempt(struct ratelimit *rl, const char *key, int max, int window,
    int *retry_after)
{
	struct rl_slot *s;
	int64_t now = now_s();
	bool allowed = true;

	pthread_mutex_lock(&rl->lock);
	s = rl_get(rl, key, window, now);
	if (s->failures >= max) {
		allowed = false;
		*retry_after = (int)(s->start + window - now);
		if (*retry_after < 1)
			*retry_after = 1;
	} else
		s->failures++;
	pthread_mutex_unlock(&rl->lock);
	return allowed;
}

void
ratelimit_refund(struct ratelimit *rl, const char *key)
{
	struct rl_slot *s;

	pthread_mutex_lock(&rl->lock);
	if ((s = rl_find(rl, key)) != NULL && s->failures > 0)
		s->failures--;
	pthread_mutex_unlock(&rl->lock);
}

void
ratelimit_reset(struct ratelimit *rl, const char *key)
{
	struct rl_slot *s;

	pthread_mutex_lock(&rl->lock);
	if ((s = rl_find(rl, key)) != NULL)
		s->start = 0;
	pthread_mutex_unlock(&rl->lock);
}
