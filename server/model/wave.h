/*
 * Rollouts in waves (hawkBit's rollout groups): a rollout's groups, the
 * placement of its devices in them when it starts, each device's state in
 * its group, the counters those states add up to, and the conditions that
 * start the next group or pause the rollout.  Owns the rollout_group and
 * rollout_target tables (migration 0011); rollout.c owns the rollout row.
 */
#ifndef WAVE_H
#define WAVE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "policy.h"
#include "util.h"

struct db;

#define WAVE_GROUPS_MAX 100   /* groups in one rollout */
#define WAVE_NAME_MAX 128     /* bytes in a group's name */
#define WAVE_FILTER_MAX 4096  /* bytes in a rollout's target filter */
#define WAVE_PLACE_BATCH 5000 /* devices placed per transaction */

/*
 * Check and store the groups of a new rollout (inside the caller's
 * transaction): a JSON array of {"name", "percent" | "count",
 * "success_percent", "error_percent", "approval"}, in order; NULL or []
 * makes one group of every device.  The last group takes the devices the
 * others leave, whatever its share says.  RESULT_INVALID with *why.
 */
enum result wave_create_groups(
    struct db *, int64_t rollout_id, json_t *groups, const char **why);

/* Does a rollout's target filter compile?  NULL if so, else why not
 * (a static string or one in buf). */
const char *wave_filter_problem(const char *filter, char *buf, size_t len);

/*
 * Start rollout id: place the devices of its feed in rollout mode that
 * fit its set and filter in its groups, in batches of WAVE_PLACE_BATCH
 * per transaction while the rollout is 'starting', then run its first
 * group.  A device the set would not be offered to (other hardware, a
 * downgrade) is recorded as not targeted; one running the set's version
 * already counts as succeeded, one whose last update failed as failed.
 * RESULT_CONFLICT if the rollout is not ready (or starting, after a
 * restart).
 */
enum result wave_start(struct db *, int64_t id);

/*
 * The poll's question for a rollout candidate: may device_id be offered
 * rollout_id's set now?  *admit true if its group runs (or ran), or it is
 * not placed yet and fits the rollout's filter (it joins the last group
 * when its action is made); *retry true in a follow-up wave of failed
 * devices not offered there yet (offer once, although its last update
 * failed).  *skip true if the
 * rollout does not target the device (the next candidate decides).
 */
enum result wave_admit(struct db *, int64_t rollout_id, int64_t device_id,
    bool *admit, bool *retry, bool *skip);

/*
 * An action of a rollout was created or changed status (inside the
 * caller's transaction, after the change): move its device's state in
 * its group, update the counters, and check the group's conditions.
 * Does nothing for actions of no rollout.
 */
enum result wave_action_changed(struct db *, int64_t action_id);

/* A device is about to be deleted (caller's transaction): take it out of
 * its groups' counters. */
enum result wave_forget_device(struct db *, int64_t device_id);

/* An operator approves a group waiting for it.  RESULT_CONFLICT if it is
 * not waiting, RESULT_NOTFOUND if there is no such group. */
enum result wave_approve(struct db *, int64_t rollout_id, int64_t group_id);

/* Start the next group now, whatever the running one's success (hawkBit's
 * triggerNextGroup).  RESULT_CONFLICT if the rollout does not run or no
 * group is left to start. */
enum result wave_trigger_next(struct db *, int64_t rollout_id);

/* Resume: a group stopped by its error condition runs again (called
 * when the rollout is resumed, caller's transaction). */
enum result wave_resume(struct db *, int64_t rollout_id);

/*
 * "Retry failed": move the devices of the rollout whose update failed
 * into a new last group that runs at once and offers the set to them
 * again.  *group_id is the new group, *moved how many; RESULT_CONFLICT
 * if none failed.
 */
enum result wave_retry_failed(
    struct db *, int64_t rollout_id, int64_t *group_id, int64_t *moved);

/* A rollout's groups with their counts, in order, as JSON. */
json_t *wave_groups_json(struct db *, int64_t rollout_id);
/* The sums of the groups' counters: {"targeted", "pending", "running",
 * "succeeded", "failed", "canceled"}. */
json_t *wave_totals_json(struct db *, int64_t rollout_id);
/* One group as JSON, NULL if the rollout has no such group. */
json_t *wave_group_json(struct db *, int64_t rollout_id, int64_t group_id);
/*
 * A page of a group's devices, in one state (NULL: all), by controller
 * id: {"devices": [{"controller_id", "name", "state"}], "total", "limit",
 * "offset"}.  NULL if there is no such group.
 */
json_t *wave_group_devices_json(struct db *, int64_t rollout_id,
    int64_t group_id, const char *state, int64_t limit, int64_t offset);

/* Is state one of a device's states in a group (pending, running,
 * succeeded, failed, canceled)? */
bool wave_state_valid(const char *state);

/*
 * Start what is due (main calls it once a second): rollouts whose
 * start_at came and, with first (the first call after start-up), the
 * ones a restart found half-started.
 */
void wave_tick(struct db *, bool first);

#endif
