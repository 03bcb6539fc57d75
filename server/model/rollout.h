/*
 * Rollouts and the decision of what a polling device gets.  A rollout says
 * "devices in rollout mode on this feed whose hardware fits should run this
 * software"; the newest unpaused fitting rollout of a feed wins.  Owns the
 * rollout table.
 */
#ifndef ROLLOUT_H
#define ROLLOUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "action.h"
#include "util.h"

struct db;
struct device;
struct settings;

#define ROLLOUT_NAME_MAX 128

/*
 * The poll's question: which action should device d see now?  Finds its
 * open action, or asks the policy and, within the update limits, creates
 * one.  *have is false when there is nothing to do.  *installed is the id
 * of the device's newest succeeded action (0 if none).
 */
enum result rollout_decide(struct db *, const struct settings *,
    const struct device *d, struct action *out, bool *have, int64_t *installed);

/*
 * Why device d is where it is: what it is offered or installing and
 * where that comes from, or why nothing is offered.  Computed by the same
 * steps as rollout_decide (the policy, the rollout's groups, the parking
 * and cancel rules) without writing.  reason is a sentence for operators;
 * code one of: updating (an open action), offer (the next poll gets it),
 * up_to_date, parked, incompatible, downgrade, canceled, downloaded,
 * waiting (the device's rollout group has not started), rollout_paused,
 * rollout_ready, no_rollout, no_assignment, no_software, pinned.
 */
struct rollout_why {
	int64_t software_id; /* 0 if none */
	int64_t rollout_id;  /* 0 if none */
	const char *source;  /* rollout, assigned, latest, or NULL */
	const char *code;
	char version[128];
	char reason[256];
};
enum result rollout_explain(struct db *, const struct settings *,
    const struct device *d, struct rollout_why *out);
/* out as JSON: {software_id, version, source, rollout_id, reason_code,
 * reason} (new reference). */
json_t *rollout_why_json(const struct rollout_why *);

/*
 * May software ds_id be assigned to device d?  The policy's answer for d
 * in assigned mode, forced (parking and an installed equal version do not
 * count): RESULT_OK if it fits and is not older than the installed
 * version (or d allows downgrades); RESULT_CONFLICT with *code
 * ("incompatible" or "downgrade") and why filled if not; RESULT_NOTFOUND
 * if there is no such complete software.
 */
enum result rollout_assign_check(struct db *, const struct device *d,
    int64_t ds_id, const char **code, char *why, size_t len);

/* Software or rollouts changed (call after the commit): polls reload the
 * candidate sets they cache. */
void rollout_catalog_changed(void);

/* After a failed action of rollout id: pause it when a threshold is hit.
 * Runs inside the caller's transaction. */
enum result rollout_check_failures(struct db *, int64_t id);

/* Management API.  Bodies were type-checked by mgmt.c. */
enum result rollout_create(
    struct db *, json_t *body, int64_t *id, const char **why);
enum result rollout_patch(
    struct db *, int64_t id, json_t *body, const char **why);
enum result rollout_delete(struct db *, int64_t id);
/*
 * What a rollout made from body ({"software_id", "feed", "target_filter"
 * or "target_filter_id"}, as for rollout_create) would reach if it
 * started now, with warnings (none reached; an active rollout of the
 * feed offers a newer version) and the feed's newest fitting software.
 * Without software_id only {"feed", "newest_fitting"}.  *out is the
 * caller's; RESULT_INVALID with *why.
 */
enum result rollout_preview(
    struct db *, json_t *body, json_t **out, const char **why);
json_t *rollout_to_json(struct db *, int64_t id);
/* A page of rollouts, newest first; feed (NULL: any) and paused (-1: any,
 * 0 or 1) filter. */
json_t *rollout_list_json(
    struct db *, int64_t limit, int64_t offset, const char *feed, int paused);

#endif
