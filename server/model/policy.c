/*
 * The update policy: hardware compatibility and the choice of what to offer
 * a device.  Pure: plain structs in, an answer out; no database, no HTTP, no
 * logging.  The one thing kept between calls is each thread's cache of
 * compiled "#RE:" regexes.  Versions are ordered by version.c, so "1.0"
 * installed counts as "1.0.0" offered.
 */
#include "policy.h"

#include <limits.h>
#include <pthread.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "version.h"

/* clang-format off */
/* Names as stored in the database and used by the admin API. */
static const char *const policy_mode_names[] = {
	[MODE_ROLLOUT]		= "rollout",
	[MODE_LATEST]		= "latest",
	[MODE_ASSIGNED]		= "assigned",
	[MODE_PINNED]		= "pinned",
};

/* Short names for logs and the admin API. */
static const char *const policy_reason_names[] = {
	[POLICY_OFFER]		= "offer",
	[POLICY_NONE]		= "none",
	[POLICY_INCOMPATIBLE]	= "incompatible",
	[POLICY_UP_TO_DATE]	= "up_to_date",
	[POLICY_DOWNGRADE]	= "downgrade",
	[POLICY_PARKED]		= "parked",
};
/* clang-format on */

/* The board a row applies to; NULL is read as "" (any board). */
static const char *
hw_board(const struct swu_hw *row)
{
	return row->board != NULL ? row->board : "";
}

/*
 * Compiled regexes, per thread: a poll checks the same few patterns again
 * and again.  Direct-mapped by a hash of the pattern; a collision simply
 * recompiles.
 */
#define HW_RE_SLOTS 16

struct hw_re {
	char *pattern; /* NULL: empty slot */
	bool ok;       /* compiled; false if the pattern does not compile */
	regex_t rx;
};

static pthread_key_t hw_re_key;
static pthread_once_t hw_re_once = PTHREAD_ONCE_INIT;

static void
hw_re_free(void *p)
{
	struct hw_re *cache = p;

	for (size_t i = 0; i < HW_RE_SLOTS; i++)
		if (cache[i].pattern) {
			if (cache[i].ok)
				regfree(&cache[i].rx);
			free(cache[i].pattern);
		}
	free(cache);
}

static void
hw_re_key_init(void)
{
	(void)pthread_key_create(&hw_re_key, hw_re_free);
}

/* The compiled regex for re from this thread's cache, or NULL if re does
 * not compile. */
static const regex_t *
hw_re_get(const char *re)
{
	struct hw_re *cache, *e;
	uint32_t h = 2166136261u; /* FNV-1a */

	pthread_once(&hw_re_once, hw_re_key_init);
	if ((cache = pthread_getspecific(hw_re_key)) == NULL) {
		cache = xcalloc(HW_RE_SLOTS, sizeof(*cache));
		pthread_setspecific(hw_re_key, cache);
	}
	for (const char *p = re; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	e = &cache[h % HW_RE_SLOTS];
	if (e->pattern == NULL || strcmp(e->pattern, re) != 0) {
		if (e->pattern && e->ok)
			regfree(&e->rx);
		free(e->pattern);
		e->pattern = xstrdup(re);
		e->ok = regcomp(&e->rx, re, REG_EXTENDED | REG_NOSUB) == 0;
	}
	return e->ok ? &e->rx : NULL;
}

/*
 * True if the POSIX extended regex re matches somewhere in s.  Like
 * SWUpdate, the match is not anchored: "^...$" in the regex anchors it.  A
 * regex that does not compile matches nothing.
 */
static bool
hw_regex_match(const char *re, const char *s)
{
	const regex_t *rx = hw_re_get(re);

	return rx != NULL && regexec(rx, s, 0, NULL, 0) == 0;
}

/* True if one compatibility row accepts the device's revision. */
static bool
hw_row_matches(const struct swu_hw *row, const char *hw_revision)
{
	if (row->revision == NULL)
		return true;
	if (hw_revision == NULL)
		return false;
	if (row->is_regex)
		return hw_regex_match(row->revision, hw_revision);
	/* SWUpdate compares revisions as plain strings, so do we. */
	return strcmp(row->revision, hw_revision) == 0;
}

/* True if some row of board `board` accepts hw_revision. */
static bool
hw_board_matches(const struct swu_hw *hw, size_t nhw, const char *board,
    const char *hw_revision)
{
	size_t i;

	for (i = 0; i < nhw; i++)
		if (strcmp(hw_board(&hw[i]), board) == 0 &&
		    hw_row_matches(&hw[i], hw_revision))
			return true;
	return false;
}

static bool
hw_has_board(const struct swu_hw *hw, size_t nhw, const char *board)
{
	size_t i;

	for (i = 0; i < nhw; i++)
		if (strcmp(hw_board(&hw[i]), board) == 0)
			return true;
	return false;
}

bool
policy_compatible(const struct swu_hw *hw, size_t nhw, const char *hw_model,
    const char *hw_revision)
{
	const char *board = "";

	if (nhw == 0)
		return true;
	/* Rows naming the device's board shadow the any-board rows. */
	if (hw_model != NULL && hw_has_board(hw, nhw, hw_model))
		board = hw_model;
	return hw_board_matches(hw, nhw, board, hw_revision);
}

bool
policy_fits(const struct policy_sw *sw, const char *hw_model,
    const char *hw_revision, const char *compatible)
{
	if (sw->rauc_compatible != NULL && compatible != NULL)
		return strcmp(sw->rauc_compatible, compatible) == 0;
	return policy_compatible(sw->hw, sw->nhw, hw_model, hw_revision);
}

static bool
policy_device_fits(const struct policy_device *dev, const struct policy_sw *sw)
{
	return policy_fits(
	    sw, dev->hw_model, dev->hw_revision, dev->compatible);
}

/*
 * The index of the candidate `mode` selects among the compatible ones, or
 * -1 if none is compatible.
 */
static int
policy_pick(const struct policy_device *dev, const struct policy_sw *cands,
    size_t ncands)
{
	size_t i;
	int best = -1;

	for (i = 0; i < ncands; i++) {
		if (!policy_device_fits(dev, &cands[i]))
			continue;
		if (dev->mode != MODE_LATEST)
			return (int)i;
		if (cands[i].version_scheme &&
		    strcmp(cands[i].version_scheme, "none") == 0)
			continue;
		/* Strictly greater, so the first of equal versions stays. */
		if (best == -1 ||
		    version_compare_scheme(cands[i].version_scheme,
		        cands[i].version, cands[best].version) > 0)
			best = (int)i;
	}
	return best;
}

enum policy_reason
policy_choose(const struct policy_device *dev, const struct policy_sw *cands,
    size_t ncands, int *chosen)
{
	const char *installed = dev->installed_version;
	int c, pick;

	*chosen = -1;
	/* Pinned, or a mode outside the enum, never offers anything. */
	if (dev->mode != MODE_ROLLOUT && dev->mode != MODE_LATEST &&
	    dev->mode != MODE_ASSIGNED)
		return POLICY_NONE;
	if (ncands == 0)
		return POLICY_NONE;
	/* An index must fit the int the caller gets back. */
	if (ncands > (size_t)INT_MAX)
		ncands = (size_t)INT_MAX;
	if ((pick = policy_pick(dev, cands, ncands)) == -1)
		return POLICY_INCOMPATIBLE;
	*chosen = pick;

	if (dev->last_action_failed && !dev->force)
		return POLICY_PARKED;
	if (installed == NULL)
		return POLICY_OFFER;
	c = version_compare_scheme(
	    cands[pick].version_scheme, cands[pick].version, installed);
	if (c == 0 && !dev->force)
		return POLICY_UP_TO_DATE;
	/* Force re-offers what is installed; only allow_downgrade goes back. */
	if (c < 0 && !dev->allow_downgrade)
		return POLICY_DOWNGRADE;
	return POLICY_OFFER;
}

const char *
policy_reason_str(enum policy_reason reason)
{
	if ((size_t)reason >= NELEM(policy_reason_names))
		return "unknown";
	return policy_reason_names[reason];
}

const char *
policy_mode_str(enum policy_mode mode)
{
	if ((size_t)mode >= NELEM(policy_mode_names))
		return "unknown";
	return policy_mode_names[mode];
}

int
policy_mode_parse(const char *s, enum policy_mode *mode)
{
	size_t i;

	if (s == NULL)
		return -1;
	for (i = 0; i < NELEM(policy_mode_names); i++) {
		if (strcmp(s, policy_mode_names[i]) == 0) {
			*mode = (enum policy_mode)i;
			return 0;
		}
	}
	return -1;
}
