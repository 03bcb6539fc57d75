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
 * Which rollout reaches a device: the one rule that the poll path
 * (rollout.c) and every count and list of a rollout's devices follow.
 * Among the running rollouts of the device's feed (in rollout mode), the
 * newest that placed it in a group decides for it alone; a rollout that
 * considered it and left it out (filter) passes.  A device placed by
 * none joins the newest that never considered it, whose set fits its
 * hardware and whose filter takes it (in that one's last group).
 *
 * So a device a rollout placed is still reached by it until it has an
 * action there: while it is pending it is superseded (and no longer
 * counted) when it left the feed or rollout mode, or a newer running
 * rollout of the feed placed it.  The SQL below reads that over
 * rollout_target t, its rollout r and the device dv; a running, ended or
 * canceled device is always counted in its state.
 */
#define WAVE_REACH_FROM                                                        \
	"rollout_target t JOIN rollout r ON r.id = t.rollout_id "              \
	"JOIN device dv ON dv.id = t.device_id"
#define WAVE_SUPERSEDED                                                        \
	"(t.state = 'pending' AND (dv.mode <> 'rollout' OR dv.feed <> r.feed " \
	"OR EXISTS (SELECT 1 FROM rollout_target t2 JOIN rollout r2 ON "       \
	"r2.id = t2.rollout_id JOIN distribution_set s2 ON s2.id = r2.ds_id "  \
	"WHERE t2.device_id = t.device_id AND t2.rollout_id > t.rollout_id "   \
	"AND t2.group_id IS NOT NULL AND r2.feed = r.feed AND r2.state = "     \
	"'running' AND s2.deleted_at IS NULL AND s2.complete = 1)))"
/* The device's state in the rollout as counted: its stored state, or
 * 'superseded'. */
#define WAVE_REACH_STATE                                                       \
	"(CASE WHEN " WAVE_SUPERSEDED " THEN 'superseded' ELSE t.state END)"
/* Does row t (placed: group_id not NULL) fall under the list state in
 * parameter P: NULL or 'targeted' (every device the rollout reaches),
 * or one of the states, 'superseded' included? */
#define WAVE_REACH_MATCH(P)                                                    \
	"(t.group_id IS NOT NULL AND CASE WHEN " P " IS NULL OR " P            \
	" = 'targeted' THEN NOT " WAVE_SUPERSEDED " ELSE " WAVE_REACH_STATE    \
	" = " P " END)"

/* Where a rollout has device_id: placed in a group, considered and left
 * out, or neither. */
enum wave_seat { WAVE_SEAT_NONE, WAVE_SEAT_OUT, WAVE_SEAT_PLACED };

/*
 * The poll's question for a rollout candidate: where does rollout_id
 * have device_id?  When placed, *admit is true if its group runs (or
 * ran), and *retry true in a follow-up wave of failed devices not
 * offered there yet (offer once, although its last update failed).
 */
enum result wave_seat(struct db *, int64_t rollout_id, int64_t device_id,
    enum wave_seat *seat, bool *admit, bool *retry);

/* For a device rollout_id never considered: does its filter take it
 * (*match), and does the last group, which it would join, run (*admit)? */
enum result wave_join(struct db *, int64_t rollout_id, int64_t device_id,
    bool *match, bool *admit);

/*
 * What a rollout of set ds_id to feed with filter (NULL: none) would
 * reach if it started now: the same reading of the feed that the start
 * places devices by.  reach = pending + succeeded + failed.
 */
struct wave_preview {
	int64_t reach;     /* the devices it would place in its groups */
	int64_t pending;   /* of them, to be offered the set */
	int64_t succeeded; /* run its version already */
	int64_t failed;    /* parked: their last update failed */
	int64_t filtered;  /* left out by the filter */
	int64_t other_hw;  /* the set does not fit their hardware */
	int64_t downgrade; /* run a newer version */
};
enum result wave_preview(struct db *, const char *feed, const char *filter,
    int64_t ds_id, struct wave_preview *out);

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
/* The sums of the groups' counts: {"targeted", "pending", "running",
 * "succeeded", "failed", "canceled", "superseded"}; the first six add
 * up: targeted = pending + running + succeeded + failed + canceled.
 * Superseded devices (see WAVE_SUPERSEDED) are not targeted.  Without
 * exact (inside a write transaction) the stored counters alone: the
 * superseded devices are then counted as pending. */
json_t *wave_totals_json(struct db *, int64_t rollout_id, bool exact);
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
/* Is state one a rollout's device list takes: targeted, superseded or
 * one of wave_state_valid's? */
bool wave_list_state_valid(const char *state);

/*
 * A page of the devices of a rollout in list state (NULL: targeted; see
 * WAVE_REACH_MATCH), by device id: {"devices": [{"controller_id",
 * "name", "state", "group_id", "group", "action_id", "reason"}], "total",
 * "limit", "offset"}; reason is the newest message of the device's last
 * action of the rollout.  The counts of wave_totals_json are the totals
 * of these lists.
 */
json_t *wave_rollout_devices_json(struct db *, int64_t rollout_id,
    const char *state, int64_t limit, int64_t offset);

/*
 * Start what is due (main calls it once a second): rollouts whose
 * start_at came and, with first (the first call after start-up), the
 * ones a restart found half-started.
 */
void wave_tick(struct db *, bool first);

#endif
