/*
 * The update policy: which software, if any, a device should be offered.
 * Pure functions over plain structs; no I/O.  rollout.c and device.c load the
 * inputs from the database and act on the answer.
 */
#ifndef POLICY_H
#define POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "swu.h"

enum policy_mode { MODE_ROLLOUT, MODE_LATEST, MODE_ASSIGNED, MODE_PINNED };

/* A candidate software with its compatibility set (struct swu_hw rows). */
struct policy_sw {
	int64_t id;
	const char *version;
	const struct swu_hw *hw;
	size_t nhw;
	int64_t rollout_id;          /* the rollout offering it, 0 if none */
	const char *version_scheme;  /* "swupdate" (NULL), "semver", "none" */
	const char *rauc_compatible; /* a RAUC bundle's compatible, or NULL */
};

struct policy_device {
	enum policy_mode mode;
	const char *hw_model;          /* NULL if the device never said */
	const char *hw_revision;       /* NULL if the device never said */
	const char *compatible;        /* its RAUC compatible, or NULL */
	const char *installed_version; /* NULL if unknown */
	bool force; /* re-offer even if installed or parked */
	bool allow_downgrade;
	bool last_action_failed; /* parks the device unless forced */
};

enum policy_reason {
	POLICY_OFFER,        /* *chosen is the software to offer */
	POLICY_NONE,         /* no candidate (pinned, no rollout, ...) */
	POLICY_INCOMPATIBLE, /* candidates exist, none fits the hardware */
	POLICY_UP_TO_DATE,   /* the chosen version is installed */
	POLICY_DOWNGRADE,    /* it is older than the installed one */
	POLICY_PARKED,       /* the last action failed; needs force */
};

/*
 * True if the device's hardware fits the compatibility set: the rows whose
 * board equals hw_model are used if there are any, else the rows with board
 * "" (any board); no such rows: not compatible.  A row matches when its
 * revision is NULL, equals hw_revision, or (is_regex) the POSIX extended
 * regex matches hw_revision.  A device with no model uses the "" rows; one
 * with no revision matches only NULL-revision rows.  An empty set (nhw 0)
 * fits every device.
 */
bool policy_compatible(const struct swu_hw *hw, size_t nhw,
    const char *hw_model, const char *hw_revision);

/*
 * Does the device fit the candidate?  A device that reports its RAUC
 * compatible and a set made of a RAUC bundle are matched as RAUC matches
 * them: the two strings must be equal.  Otherwise policy_compatible
 * decides.
 */
bool policy_fits(const struct policy_sw *sw, const char *hw_model,
    const char *hw_revision, const char *compatible);

/*
 * Choose among candidates.  MODE_ROLLOUT and MODE_ASSIGNED: candidates are
 * in precedence order (newest unpaused rollout of the feed first, or the
 * one assigned software) and the first compatible one is chosen.
 * MODE_LATEST: the compatible candidate with the highest version (ties: the
 * first; sets whose version scheme is "none" are never chosen).  Versions
 * compare in the candidate's scheme.  MODE_PINNED: never offers.  The chosen
 * software is then checked against the installed version (equal:
 * POLICY_UP_TO_DATE unless forced; lower: POLICY_DOWNGRADE unless
 * allow_downgrade; force does not override this) and the parked state (PARKED
 * unless forced).  An unknown installed version never blocks an offer.  *chosen
 * is set to the index of the chosen candidate whenever one was chosen (also
 * with UP_TO_DATE, DOWNGRADE and PARKED), else -1.
 */
enum policy_reason policy_choose(const struct policy_device *dev,
    const struct policy_sw *cands, size_t ncands, int *chosen);

const char *policy_reason_str(enum policy_reason);
const char *policy_mode_str(enum policy_mode);
/* 0 ok (mode set), -1 unknown name. */
int policy_mode_parse(const char *s, enum policy_mode *mode);

#endif
