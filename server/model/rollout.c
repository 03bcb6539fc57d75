/*
 * Rollouts, their counts and failure thresholds, and rollout_decide: the
 * one place that turns the policy's answer into an action for a device.
 */
#include "rollout.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "device.h"
#include "dist.h"
#include "filter.h"
#include "log.h"
#include "policy.h"
#include "settings.h"
#include "version.h"
#include "wave.h"

#define ROLLOUT_CANDIDATES_MAX 256
#define ROLLOUT_CACHE_SLOTS 8 /* candidate sets each thread keeps */

struct candidates {
	struct policy_sw sw[ROLLOUT_CANDIDATES_MAX];
	struct swu_hw *hw[ROLLOUT_CANDIDATES_MAX];
	size_t nhw[ROLLOUT_CANDIDATES_MAX];
	char *version[ROLLOUT_CANDIDATES_MAX];
	char *scheme[ROLLOUT_CANDIDATES_MAX];
	char *compatible[ROLLOUT_CANDIDATES_MAX];
	size_t n;
	/* Rollout mode: the newest rollout of the feed that is not running
	 * (paused, ready, starting), 0 if none; for rollout_explain. */
	int64_t idle_id;
	char idle_state[16];
};

static void
candidates_clear(struct candidates *c)
{
	for (size_t i = 0; i < c->n; i++) {
		dist_free_hw(c->hw[i], c->nhw[i]);
		free(c->version[i]);
		free(c->scheme[i]);
		free(c->compatible[i]);
	}
	c->n = 0;
}

/*
 * Candidate sets change only when software or rollouts do, so each worker
 * thread keeps the sets it used last, tagged with the catalog generation
 * they were read at.  Writers bump the generation after they commit; a
 * reader takes the generation before it reads, so a set is never newer
 * than its tag and a stale one is always reloaded.
 */
static atomic_uint_fast64_t rollout_generation = 1;

struct candidates_slot {
	char key[96];
	uint64_t generation;
	struct candidates *c;
};

struct candidates_cache {
	struct candidates_slot slot[ROLLOUT_CACHE_SLOTS];
	unsigned next;
};

static pthread_key_t candidates_key;
static pthread_once_t candidates_once = PTHREAD_ONCE_INIT;

static void candidates_clear(struct candidates *);

static void
candidates_cache_free(void *p)
{
	struct candidates_cache *cache = p;

	for (size_t i = 0; i < ROLLOUT_CACHE_SLOTS; i++) {
		if (cache->slot[i].c)
			candidates_clear(cache->slot[i].c);
		free(cache->slot[i].c);
	}
	free(cache);
}

static void
candidates_key_init(void)
{
	if (pthread_key_create(&candidates_key, candidates_cache_free) != 0)
		fatalx("%s: pthread_key_create", __func__);
}

void
rollout_catalog_changed(void)
{
	atomic_fetch_add(&rollout_generation, 1);
}

/* The newest rollout of feed that is not running, into c->idle_*. */
static int
candidates_load_idle(struct db *db, const char *feed, struct candidates *c)
{
	static const char sql[] =
	    "SELECT id, state FROM rollout WHERE feed = ?1 AND state <> "
	    "'running' ORDER BY id DESC LIMIT 1";
	sqlite3_stmt *st;
	int rc;

	if ((st = db_prepare(db, sql)) == NULL)
		return -1;
	db_bind_text(st, 1, feed);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		c->idle_id = sqlite3_column_int64(st, 0);
		snprintf(c->idle_state, sizeof(c->idle_state), "%s",
		    (const char *)sqlite3_column_text(st, 1));
	}
	db_done(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

/* Load the software a device in its mode could get, in precedence order. */
static enum result
candidates_load(struct db *db, const struct device *d, struct candidates *c)
{
	static const char by_feed[] =
	    "SELECT r.id, s.id, s.version, s.version_scheme, "
	    "s.rauc_compatible FROM rollout r JOIN distribution_set s "
	    "ON s.id = r.ds_id WHERE r.feed = ?1 AND r.state = 'running' "
	    "AND s.deleted_at IS NULL AND s.complete = 1 "
	    "ORDER BY r.id DESC LIMIT 256";
	static const char all[] =
	    "SELECT 0, id, version, version_scheme, rauc_compatible "
	    "FROM distribution_set WHERE deleted_at IS NULL AND complete = 1 "
	    "ORDER BY id DESC LIMIT 256";
	static const char one[] =
	    "SELECT 0, id, version, version_scheme, rauc_compatible "
	    "FROM distribution_set WHERE id = ?2 AND deleted_at IS NULL "
	    "AND complete = 1";
	const char *sql;
	sqlite3_stmt *st;

	c->n = 0;
	c->idle_id = 0;
	c->idle_state[0] = '\0';
	switch (d->mode) {
	case MODE_ROLLOUT:
		sql = by_feed;
		break;
	case MODE_LATEST:
		sql = all;
		break;
	case MODE_ASSIGNED:
		if (d->assigned_ds_id == 0)
			return RESULT_OK;
		sql = one;
		break;
	default:
		return RESULT_OK;
	}
	if ((st = db_prepare(db, sql)) == NULL)
		return RESULT_ERROR;
	if (sql == by_feed)
		db_bind_text(st, 1, d->feed);
	if (sql == one)
		db_bind_int64(st, 2, d->assigned_ds_id);
	while (
	    c->n < ROLLOUT_CANDIDATES_MAX && sqlite3_step(st) == SQLITE_ROW) {
		c->sw[c->n].rollout_id = sqlite3_column_int64(st, 0);
		c->sw[c->n].id = sqlite3_column_int64(st, 1);
		c->version[c->n] = db_column_strdup(st, 2);
		c->sw[c->n].version = c->version[c->n];
		c->scheme[c->n] = db_column_strdup(st, 3);
		c->sw[c->n].version_scheme = c->scheme[c->n];
		c->compatible[c->n] = db_column_strdup(st, 4);
		c->sw[c->n].rauc_compatible = c->compatible[c->n];
		c->hw[c->n] = NULL;
		c->nhw[c->n] = 0;
		c->n++;
	}
	db_done(st);
	if (sql == by_feed && candidates_load_idle(db, d->feed, c) == -1)
		return RESULT_ERROR;
	for (size_t i = 0; i < c->n; i++) {
		if (dist_load_hw(db, c->sw[i].id, &c->hw[i], &c->nhw[i]) !=
		    RESULT_OK) {
			candidates_clear(c);
			return RESULT_ERROR;
		}
		c->sw[i].hw = c->hw[i];
		c->sw[i].nhw = c->nhw[i];
	}
	return RESULT_OK;
}

/*
 * The candidates for device d, from this thread's cache or the database.
 * The set stays owned by the cache: valid until this thread's next call.
 */
static enum result
candidates_get(
    struct db *db, const struct device *d, const struct candidates **out)
{
	uint64_t gen = atomic_load(&rollout_generation);
	struct candidates_cache *cache;
	struct candidates_slot *slot;
	char key[96];
	enum result r;

	pthread_once(&candidates_once, candidates_key_init);
	if ((cache = pthread_getspecific(candidates_key)) == NULL) {
		cache = xcalloc(1, sizeof(*cache));
		pthread_setspecific(candidates_key, cache);
	}
	snprintf(key, sizeof(key), "%d/%lld/%s", (int)d->mode,
	    (long long)(d->mode == MODE_ASSIGNED ? d->assigned_ds_id : 0),
	    d->mode == MODE_ROLLOUT ? d->feed : "");
	for (size_t i = 0; i < ROLLOUT_CACHE_SLOTS; i++) {
		slot = &cache->slot[i];
		if (slot->c && slot->generation == gen &&
		    strcmp(slot->key, key) == 0) {
			*out = slot->c;
			return RESULT_OK;
		}
	}
	slot = &cache->slot[cache->next++ % ROLLOUT_CACHE_SLOTS];
	if (slot->c == NULL)
		slot->c = xcalloc(1, sizeof(*slot->c));
	candidates_clear(slot->c);
	slot->key[0] = '\0';
	if ((r = candidates_load(db, d, slot->c)) != RESULT_OK)
		return r;
	snprintf(slot->key, sizeof(slot->key), "%s", key);
	slot->generation = gen;
	*out = slot->c;
	return RESULT_OK;
}

static int64_t
rollout_max_running(struct db *db, int64_t id)
{
	static const char sql[] =
	    "SELECT max_running FROM rollout WHERE id = ?1";
	sqlite3_stmt *st = db_prepare(db, sql);
	int64_t n = 0;

	if (st == NULL)
		return 0;
	db_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	db_done(st);
	return n;
}

/* Within the global and the rollout's limit of simultaneous updates? */
static bool
rollout_within_limits(
    struct db *db, const struct settings *s, int64_t rollout_id)
{
	int64_t max, n;

	if ((n = action_count_running(db, 0)) < 0 || n >= s->max_running)
		return false;
	if (rollout_id && (max = rollout_max_running(db, rollout_id)) > 0 &&
	    ((n = action_count_running(db, rollout_id)) < 0 || n >= max))
		return false;
	return true;
}

/*
 * Ask the policy.  *chosen is the candidate to offer or NULL.  forced_by
 * counts an already forced action as forced.
 */
static enum policy_reason
rollout_choose(const struct device *d, const struct action *last, bool forced,
    const struct policy_sw *sw, size_t n, const struct policy_sw **chosen,
    const struct policy_sw **picked)
{
	struct policy_device pd = {
	    .mode = d->mode,
	    .hw_model = d->hw_model,
	    .hw_revision = d->hw_revision,
	    .compatible = d->compatible,
	    .installed_version = d->installed_version,
	    .force = d->force || forced,
	    .allow_downgrade = d->allow_downgrade,
	    .last_action_failed = last && last->status == ACTION_FAILED,
	};
	enum policy_reason why;
	int i = -1;

	why = policy_choose(&pd, sw, n, &i);
	*chosen = why == POLICY_OFFER && i >= 0 ? &sw[i] : NULL;
	if (picked)
		*picked = i >= 0 ? &sw[i] : NULL;
	/* An operator's cancel is not undone by the next poll, nor is a
	 * download-only assignment turned into an install. */
	if (*chosen && last &&
	    ((last->status == ACTION_CANCELED && !last->superseded) ||
	        last->status == ACTION_DOWNLOADED) &&
	    last->ds_id == (*chosen)->id && !pd.force) {
		*chosen = NULL;
		why = POLICY_NONE;
	}
	return why;
}

/*
 * Which candidates the policy chooses among for device d.  In rollout
 * mode one rollout decides alone (*from is that one candidate), by the
 * rule wave.h states above WAVE_REACH_FROM, which the counts and lists
 * of a rollout's devices follow too: the newest running rollout that
 * placed the device, else the newest that never considered it, whose
 * set fits its hardware and whose filter takes it.  Nothing is offered
 * before the device's group runs.  *retry: the device is in a follow-up
 * wave of failed devices.
 */
static enum result
rollout_decider(struct db *db, const struct device *d,
    const struct candidates *c, const struct policy_sw **from, size_t *n,
    bool *retry)
{
	enum wave_seat seat[ROLLOUT_CANDIDATES_MAX];
	bool admit, match;
	enum result r;
	size_t i;

	*from = c->sw;
	*n = c->n;
	*retry = false;
	if (d->mode != MODE_ROLLOUT)
		return RESULT_OK;
	for (i = 0; i < c->n; i++) {
		if ((r = wave_seat(db, c->sw[i].rollout_id, d->id, &seat[i],
		         &admit, retry)) != RESULT_OK)
			return r;
		if (seat[i] == WAVE_SEAT_PLACED) {
			*from = &c->sw[i];
			*n = admit ? 1 : 0;
			return RESULT_OK;
		}
	}
	for (i = 0; i < c->n; i++) {
		if (seat[i] != WAVE_SEAT_NONE ||
		    !policy_fits(
		        &c->sw[i], d->hw_model, d->hw_revision, d->compatible))
			continue;
		if ((r = wave_join(db, c->sw[i].rollout_id, d->id, &match,
		         &admit)) != RESULT_OK)
			return r;
		if (!match)
			continue;
		*from = &c->sw[i];
		*n = admit ? 1 : 0;
		return RESULT_OK;
	}
	*from = NULL;
	*n = 0;
	return RESULT_OK;
}

enum result
rollout_decide(struct db *db, const struct settings *s, const struct device *d,
    struct action *out, bool *have, int64_t *installed)
{
	const struct candidates *c = NULL;
	const struct policy_sw *chosen, *from;
	struct action last, again;
	bool has_last, retry = false;
	size_t nfrom;
	enum result r;

	*have = false;
	if (d->actions_loaded) {
		/* The poll's device read brought them along. */
		has_last = d->has_last;
		last = d->last;
		*installed = d->installed_action;
	} else {
		if ((r = action_newest_installed(
		         db, d->id, &last, installed)) == RESULT_ERROR)
			goto out;
		has_last = r == RESULT_OK;
	}
	r = RESULT_OK;
	/*
	 * An operator's assignment is never withdrawn or replaced by the
	 * policy.  It may have left an older action being canceled, which
	 * the device sees first (hawkBit shows the oldest open action).
	 */
	if (has_last && last.explicit && action_is_open(last.status)) {
		if ((r = action_oldest_open(db, d->id, out)) == RESULT_NOTFOUND)
			*out = last;
		*have = r != RESULT_ERROR;
		r = r == RESULT_ERROR ? r : RESULT_OK;
		goto out;
	}
	/* Running or being canceled: the device sees it through. */
	if (has_last && (last.status == ACTION_RUNNING ||
	                    last.status == ACTION_CANCELING)) {
		*out = last;
		*have = true;
		r = RESULT_OK;
		goto out;
	}
	if ((r = candidates_get(db, d, &c)) != RESULT_OK)
		goto out;
	if ((r = rollout_decider(db, d, c, &from, &nfrom, &retry)) != RESULT_OK)
		goto out;
	rollout_choose(d, has_last ? &last : NULL,
	    retry ||
	        (has_last && last.status == ACTION_SCHEDULED && last.forced),
	    from, nfrom, &chosen, NULL);
	if (has_last && last.status == ACTION_SCHEDULED && chosen &&
	    chosen->id == last.ds_id) {
		*out = last;
		*have = true;
		goto out;
	}
	if (chosen == NULL && !(has_last && last.status == ACTION_SCHEDULED))
		goto out; /* nothing to do: the common case, no write */
	/* Counted first without the write lock, so that the polls of
	 * waiting devices stay reads, and again under it, so that polls of
	 * other devices cannot pass the limits together. */
	if (chosen && !rollout_within_limits(db, s, chosen->rollout_id)) {
		chosen = NULL;
		if (!(has_last && last.status == ACTION_SCHEDULED))
			goto out;
	}
	if (db_begin(db) == -1) {
		r = RESULT_ERROR;
		goto out;
	}
	if (chosen && !rollout_within_limits(db, s, chosen->rollout_id)) {
		chosen = NULL;
		if (!(has_last && last.status == ACTION_SCHEDULED)) {
			db_rollback(db);
			goto out;
		}
	}
	/* Re-read under the write lock: a concurrent poll may have acted. */
	if ((r = action_newest(db, d->id, &again)) == RESULT_ERROR)
		goto fail;
	if (r == RESULT_OK && (!has_last || again.id != last.id)) {
		db_rollback(db);
		if (action_is_open(again.status)) {
			*out = again;
			*have = true;
		}
		r = RESULT_OK;
		goto out;
	}
	if (has_last && last.status == ACTION_SCHEDULED &&
	    (r = action_supersede(db, last.id,
	         "Withdrawn: the device's target changed")) != RESULT_OK)
		goto fail;
	if (chosen) {
		memset(out, 0, sizeof(*out));
		if ((r = action_create(db, d->id, chosen->id,
		         chosen->rollout_id, d->force || retry, &out->id)) !=
		    RESULT_OK)
			goto fail;
		if (d->force &&
		    (r = device_clear_force(db, d->id)) != RESULT_OK)
			goto fail;
		out->device_id = d->id;
		out->ds_id = chosen->id;
		out->rollout_id = chosen->rollout_id;
		out->status = ACTION_SCHEDULED;
		out->forced = d->force || retry;
		out->progress = -1;
		*have = true;
	}
	if (db_commit(db) == -1) {
		*have = false;
		r = RESULT_ERROR;
		goto out;
	}
	if (chosen)
		log_info("device %s: offering software %lld (action %lld)",
		    d->controller_id, (long long)chosen->id,
		    (long long)out->id);
	r = RESULT_OK;
	goto out;
fail:
	*have = false;
	db_rollback(db);
out:
	return r;
}

/* ---- explanations ------------------------------------------------------ */

/* Where the candidate's offer comes from, in the words of the reasons:
 * "from rollout #N", "assigned", "the newest that fits". */
static void
rollout_why_set(
    struct rollout_why *w, const struct device *d, const struct policy_sw *sw)
{
	w->software_id = sw->id;
	w->rollout_id = sw->rollout_id;
	snprintf(w->version, sizeof(w->version), "%s",
	    sw->version ? sw->version : "");
	w->source = d->mode == MODE_ROLLOUT    ? "rollout"
	            : d->mode == MODE_ASSIGNED ? "assigned"
	                                       : "latest";
}

static void
rollout_why_offer(struct rollout_why *w, const char *code, const char *tail)
{
	w->code = code;
	if (w->rollout_id)
		snprintf(w->reason, sizeof(w->reason),
		    "%s from rollout #%lld%s", w->version,
		    (long long)w->rollout_id, tail);
	else if (strcmp(w->source, "assigned") == 0)
		snprintf(w->reason, sizeof(w->reason), "%s assigned%s",
		    w->version, tail);
	else
		snprintf(w->reason, sizeof(w->reason),
		    "%s, the newest software that fits%s", w->version, tail);
}

/* Nothing was picked: say why no candidate decided. */
static void
rollout_why_nothing(struct rollout_why *w, const struct device *d,
    const struct candidates *c, const struct policy_sw *from, size_t nfrom)
{
	if (d->mode == MODE_PINNED) {
		w->code = "pinned";
		snprintf(w->reason, sizeof(w->reason),
		    "pinned: gets no updates until its mode changes");
	} else if (d->mode == MODE_ASSIGNED && d->assigned_ds_id == 0) {
		w->code = "no_assignment";
		snprintf(w->reason, sizeof(w->reason),
		    "assigned mode, but no software is assigned");
	} else if (d->mode == MODE_ASSIGNED || d->mode == MODE_LATEST) {
		w->code = "no_software";
		snprintf(w->reason, sizeof(w->reason),
		    d->mode == MODE_ASSIGNED
		        ? "the assigned software is deleted or incomplete"
		        : "no complete software is uploaded");
	} else if (from != NULL && nfrom == 0) {
		w->code = "waiting";
		w->rollout_id = from->rollout_id;
		w->software_id = from->id;
		w->source = "rollout";
		snprintf(w->version, sizeof(w->version), "%s", from->version);
		snprintf(w->reason, sizeof(w->reason),
		    "rollout #%lld: the device's group has not started",
		    (long long)from->rollout_id);
	} else if (c->idle_id != 0) {
		bool paused = strcmp(c->idle_state, "paused") == 0;

		w->code = paused ? "rollout_paused" : "rollout_ready";
		w->rollout_id = c->idle_id;
		snprintf(w->reason, sizeof(w->reason), "rollout #%lld is %s",
		    (long long)c->idle_id, paused ? "paused" : "not started");
	} else {
		w->code = "no_rollout";
		snprintf(w->reason, sizeof(w->reason),
		    "no running rollout on feed %s", d->feed ? d->feed : "");
	}
}

/* The policy's answer (why, the candidate it picked) in words. */
static void
rollout_why_policy(struct db *db, const struct settings *s,
    struct rollout_why *w, const struct device *d, const struct action *last,
    enum policy_reason why, const struct policy_sw *picked)
{
	rollout_why_set(w, d, picked);
	switch (why) {
	case POLICY_OFFER:
		if (s && !rollout_within_limits(db, s, picked->rollout_id))
			rollout_why_offer(w, "waiting",
			    ": waiting, the limit of updates at once is "
			    "reached");
		else
			rollout_why_offer(w, "offer", "");
		break;
	case POLICY_UP_TO_DATE:
		rollout_why_offer(w, "up_to_date", ": installed");
		break;
	case POLICY_PARKED:
		w->code = "parked";
		snprintf(w->reason, sizeof(w->reason),
		    "parked after a failure: force to retry");
		break;
	case POLICY_DOWNGRADE:
		w->code = "downgrade";
		snprintf(w->reason, sizeof(w->reason),
		    "%s is older than installed %s: allow downgrade",
		    w->version,
		    d->installed_version ? d->installed_version : "");
		break;
	default:
		/* rollout_choose's own rules: a cancel or a download-only. */
		w->code = last && last->status == ACTION_DOWNLOADED
		              ? "downloaded"
		              : "canceled";
		snprintf(w->reason, sizeof(w->reason), "%s %s", w->version,
		    last && last->status == ACTION_DOWNLOADED
		        ? "was downloaded only: assign it to install"
		        : "was canceled by an operator: force to retry");
		break;
	}
}

enum result
rollout_explain(struct db *db, const struct settings *s, const struct device *d,
    struct rollout_why *w)
{
	const struct candidates *c = NULL;
	const struct policy_sw *chosen, *picked, *from;
	struct action last;
	bool has_last, retry;
	int64_t installed;
	size_t nfrom;
	enum policy_reason why;
	enum result r;

	memset(w, 0, sizeof(*w));
	if (d->actions_loaded) {
		has_last = d->has_last;
		last = d->last;
	} else {
		if ((r = action_newest_installed(
		         db, d->id, &last, &installed)) == RESULT_ERROR)
			return r;
		has_last = r == RESULT_OK;
	}
	/* An open action is seen through (rollout_decide). */
	if (has_last && action_is_open(last.status)) {
		w->software_id = last.ds_id;
		w->rollout_id = last.rollout_id;
		w->source = last.rollout_id ? "rollout"
		            : last.explicit ? "assigned"
		                            : policy_mode_str(d->mode);
		snprintf(w->version, sizeof(w->version), "%s",
		    d->target_version ? d->target_version : "");
		rollout_why_offer(w, "updating",
		    last.status == ACTION_SCHEDULED ? ": offered"
		    : last.status == ACTION_RUNNING ? ": installing"
		                                    : ": being canceled");
		return RESULT_OK;
	}
	if ((r = candidates_get(db, d, &c)) != RESULT_OK)
		return r;
	if ((r = rollout_decider(db, d, c, &from, &nfrom, &retry)) != RESULT_OK)
		return r;
	why = rollout_choose(
	    d, has_last ? &last : NULL, retry, from, nfrom, &chosen, &picked);
	if (picked != NULL)
		rollout_why_policy(
		    db, s, w, d, has_last ? &last : NULL, why, picked);
	else if (why == POLICY_INCOMPATIBLE) {
		w->code = "incompatible";
		w->source = policy_mode_str(d->mode);
		if (nfrom > 0) {
			w->software_id = from->id;
			w->rollout_id = from->rollout_id;
			snprintf(w->version, sizeof(w->version), "%s",
			    from->version);
		}
		if (d->mode == MODE_LATEST)
			snprintf(w->reason, sizeof(w->reason),
			    "no software fits this hardware");
		else if (w->rollout_id)
			snprintf(w->reason, sizeof(w->reason),
			    "rollout #%lld (%s) does not fit this hardware",
			    (long long)w->rollout_id, w->version);
		else
			snprintf(w->reason, sizeof(w->reason),
			    "assigned %s: does not fit this hardware",
			    w->version);
	} else
		rollout_why_nothing(w, d, c, from, nfrom);
	return RESULT_OK;
}

json_t *
rollout_why_json(const struct rollout_why *w)
{
	return json_pack("{s:o, s:o, s:s?, s:o, s:s, s:s}", "software_id",
	    w->software_id ? json_integer(w->software_id) : json_null(),
	    "version", w->version[0] ? json_string(w->version) : json_null(),
	    "source", w->source, "rollout_id",
	    w->rollout_id ? json_integer(w->rollout_id) : json_null(),
	    "reason_code", w->code ? w->code : "none", "reason", w->reason);
}

enum result
rollout_assign_check(struct db *db, const struct device *d, int64_t ds_id,
    const char **code, char *why, size_t len)
{
	struct policy_device pd = {
	    .mode = MODE_ASSIGNED,
	    .hw_model = d->hw_model,
	    .hw_revision = d->hw_revision,
	    .compatible = d->compatible,
	    .installed_version = d->installed_version,
	    .force = true,
	    .allow_downgrade = d->allow_downgrade,
	};
	struct policy_sw sw;
	struct dist ds;
	enum policy_reason pr;
	enum result r;
	int i;

	*code = NULL;
	why[0] = '\0';
	if ((r = dist_load(db, ds_id, true, &ds)) != RESULT_OK)
		return r;
	if (ds.deleted || !ds.complete) {
		dist_clear(&ds);
		return RESULT_NOTFOUND;
	}
	sw = (struct policy_sw){.id = ds.id,
	    .version = ds.version,
	    .hw = ds.hw,
	    .nhw = ds.nhw,
	    .version_scheme = ds.version_scheme,
	    .rauc_compatible = ds.rauc_compatible};
	pr = policy_choose(&pd, &sw, 1, &i);
	r = RESULT_OK;
	if (pr == POLICY_INCOMPATIBLE) {
		*code = "incompatible";
		snprintf(why, len, "%s does not fit this hardware (%s%s%s)",
		    ds.version, d->hw_model ? d->hw_model : "no model",
		    d->hw_revision ? " rev " : "",
		    d->hw_revision ? d->hw_revision : "");
		r = RESULT_CONFLICT;
	} else if (pr == POLICY_DOWNGRADE) {
		*code = "downgrade";
		snprintf(why, len,
		    "%s is older than installed %s and downgrades are not "
		    "allowed",
		    ds.version, d->installed_version);
		r = RESULT_CONFLICT;
	}
	dist_clear(&ds);
	return r;
}

struct rollout_counts {
	int64_t targeted, pending, running, succeeded, failed, stale, canceled;
	int64_t superseded;
};

/* A rollout's counts: the sums of its groups' counts (wave.c keeps
 * them), and its stale actions (of running).  exact: see
 * wave_totals_json. */
static void
rollout_counts(struct db *db, int64_t id, bool exact, struct rollout_counts *k)
{
	static const char stale[] =
	    "SELECT count(*) FROM action WHERE rollout_id = ?1 AND stale = 1 "
	    "AND status IN ('scheduled', 'running', 'canceling')";
	json_t *t = wave_totals_json(db, id, exact);
	sqlite3_stmt *st;

	memset(k, 0, sizeof(*k));
	k->targeted = json_integer_value(json_object_get(t, "targeted"));
	k->pending = json_integer_value(json_object_get(t, "pending"));
	k->running = json_integer_value(json_object_get(t, "running"));
	k->succeeded = json_integer_value(json_object_get(t, "succeeded"));
	k->failed = json_integer_value(json_object_get(t, "failed"));
	k->canceled = json_integer_value(json_object_get(t, "canceled"));
	k->superseded = json_integer_value(json_object_get(t, "superseded"));
	json_decref(t);
	if ((st = db_prepare(db, stale)) != NULL) {
		db_bind_int64(st, 1, id);
		k->stale = db_count(st);
	}
}

struct rollout_row {
	int64_t id, ds_id, max_running, fail_count, fail_percent;
	int64_t created_at, start_at, started_at;
	bool paused;
	char *name, *feed, *pause_reason, *version, *state, *filter;
};

static enum result
rollout_load(struct db *db, int64_t id, struct rollout_row *r)
{
	static const char sql[] =
	    "SELECT r.id, r.name, r.feed, r.ds_id, r.paused, "
	    "r.pause_reason, r.max_running, r.failure_threshold_count, "
	    "r.failure_threshold_percent, r.created_at, s.version, r.state, "
	    "r.target_filter, COALESCE(r.start_at, 0), "
	    "COALESCE(r.started_at, 0) "
	    "FROM rollout r JOIN distribution_set s ON s.id = r.ds_id "
	    "WHERE r.id = ?1";
	sqlite3_stmt *st = db_prepare(db, sql);
	enum result res = RESULT_ERROR;

	memset(r, 0, sizeof(*r));
	if (st == NULL)
		return res;
	db_bind_int64(st, 1, id);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		r->id = sqlite3_column_int64(st, 0);
		r->name = db_column_strdup(st, 1);
		r->feed = db_column_strdup(st, 2);
		r->ds_id = sqlite3_column_int64(st, 3);
		r->paused = sqlite3_column_int(st, 4) != 0;
		r->pause_reason = db_column_strdup(st, 5);
		r->max_running = sqlite3_column_int64(st, 6);
		r->fail_count = sqlite3_column_int64(st, 7);
		r->fail_percent = sqlite3_column_int64(st, 8);
		r->created_at = sqlite3_column_int64(st, 9);
		r->version = db_column_strdup(st, 10);
		r->state = db_column_strdup(st, 11);
		r->filter = db_column_strdup(st, 12);
		r->start_at = sqlite3_column_int64(st, 13);
		r->started_at = sqlite3_column_int64(st, 14);
		res = RESULT_OK;
		break;
	case SQLITE_DONE:
		res = RESULT_NOTFOUND;
		break;
	default:
		db_log_error(db, __func__);
	}
	db_done(st);
	return res;
}

static void
rollout_row_clear(struct rollout_row *r)
{
	free(r->name);
	free(r->feed);
	free(r->pause_reason);
	free(r->version);
	free(r->state);
	free(r->filter);
}

/*
 * Finished: started, and every device it targets reached an end state
 * (succeeded, failed or canceled).  Only "retry failed", or a device
 * that joins its feed later, gives it work again.
 */
static bool
rollout_finished(const struct rollout_row *r, const struct rollout_counts *k)
{
	return (strcmp(r->state, "running") == 0 ||
	           strcmp(r->state, "paused") == 0) &&
	       k->targeted > 0 && k->pending == 0 && k->running == 0;
}

json_t *
rollout_to_json(struct db *db, int64_t id)
{
	struct rollout_row r;
	struct rollout_counts k;
	bool finished;
	json_t *o;

	if (rollout_load(db, id, &r) != RESULT_OK)
		return NULL;
	rollout_counts(db, id, true, &k);
	finished = rollout_finished(&r, &k);
	o = json_pack("{s:I, s:s, s:s, s:I, s:I, s:s, s:b, s:s?, s:I, s:I, "
	              "s:I, s:I, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}}",
	    "id", (json_int_t)r.id, "name", r.name, "feed", r.feed,
	    "software_id", (json_int_t)r.ds_id, "distribution_id",
	    (json_int_t)r.ds_id, "version", r.version, "paused", r.paused,
	    "pause_reason", r.pause_reason, "max_running",
	    (json_int_t)r.max_running, "failure_threshold_count",
	    (json_int_t)r.fail_count, "failure_threshold_percent",
	    (json_int_t)r.fail_percent, "created_at", (json_int_t)r.created_at,
	    "counts", "targeted", (json_int_t)k.targeted, "pending",
	    (json_int_t)k.pending, "running", (json_int_t)k.running,
	    "succeeded", (json_int_t)k.succeeded, "failed",
	    (json_int_t)k.failed, "stale", (json_int_t)k.stale, "canceled",
	    (json_int_t)k.canceled, "superseded", (json_int_t)k.superseded);
	if (o != NULL) {
		json_object_set_new(
		    o, "state", json_string(finished ? "finished" : r.state));
		json_object_set_new(o, "finished", json_boolean(finished));
		json_object_set_new(o, "target_filter",
		    r.filter ? json_string(r.filter) : json_null());
		json_object_set_new(o, "start_at",
		    r.start_at ? json_integer(r.start_at) : json_null());
		json_object_set_new(o, "started_at",
		    r.started_at ? json_integer(r.started_at) : json_null());
		json_object_set_new(o, "groups", wave_groups_json(db, id));
	}
	rollout_row_clear(&r);
	return o;
}

json_t *
rollout_list_json(
    struct db *db, int64_t limit, int64_t offset, const char *feed, int paused)
{
	static const char sql[] =
	    "SELECT id FROM rollout WHERE (?3 IS NULL OR feed = ?3) AND "
	    "(?4 IS NULL OR paused = ?4) ORDER BY id DESC LIMIT ?1 OFFSET ?2";
	static const char count[] =
	    "SELECT count(*) FROM rollout WHERE (?1 IS NULL OR feed = ?1) AND "
	    "(?2 IS NULL OR paused = ?2)";
	sqlite3_stmt *st;
	json_t *list = json_array();
	int64_t *ids, total = 0;
	size_t n;

	if ((st = db_prepare(db, count)) != NULL) {
		db_bind_text(st, 1, feed);
		if (paused >= 0)
			db_bind_int64(st, 2, paused);
		total = db_count(st);
	}
	if ((st = db_prepare(db, sql)) == NULL) {
		json_decref(list);
		return NULL;
	}
	db_bind_int64(st, 1, limit);
	db_bind_int64(st, 2, offset);
	db_bind_text(st, 3, feed);
	if (paused >= 0)
		db_bind_int64(st, 4, paused);
	ids = db_collect_ids(st, &n);
	for (size_t i = 0; i < n; i++) {
		json_t *o = rollout_to_json(db, ids[i]);

		if (o)
			json_array_append_new(list, o);
	}
	free(ids);
	return json_pack("{s:o, s:I, s:I, s:I}", "rollouts", list, "total",
	    (json_int_t)total, "limit", (json_int_t)limit, "offset",
	    (json_int_t)offset);
}

static enum result
rollout_pause(struct db *db, int64_t id, const char *reason)
{
	static const char sql[] =
	    "UPDATE rollout SET paused = 1, state = CASE WHEN state = "
	    "'running' THEN 'paused' ELSE state END, pause_reason = ?2 "
	    "WHERE id = ?1";
	sqlite3_stmt *st = db_prepare(db, sql);
	int rc;

	if (st == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, id);
	db_bind_text(st, 2, reason);
	rc = sqlite3_step(st);
	db_done(st);
	return rc == SQLITE_DONE ? RESULT_OK : RESULT_ERROR;
}

enum result
rollout_check_failures(struct db *db, int64_t id)
{
	struct rollout_row r;
	struct rollout_counts k;
	char reason[160];
	int64_t base;

	if (rollout_load(db, id, &r) != RESULT_OK)
		return RESULT_OK; /* deleted meanwhile */
	if (r.paused || (r.fail_count == 0 && r.fail_percent == 0)) {
		rollout_row_clear(&r);
		return RESULT_OK;
	}
	/* Inside the caller's write transaction: the stored counters, so
	 * the base also holds the devices a newer rollout superseded. */
	rollout_counts(db, id, false, &k);
	base = k.targeted > 0 ? k.targeted : 1;
	reason[0] = '\0';
	if (r.fail_count > 0 && k.failed >= r.fail_count)
		snprintf(reason, sizeof(reason),
		    "%lld failed updates reached the threshold of %lld",
		    (long long)k.failed, (long long)r.fail_count);
	else if (r.fail_percent > 0 && k.failed * 100 >= r.fail_percent * base)
		snprintf(reason, sizeof(reason),
		    "%lld of %lld targeted devices failed, threshold %lld%%",
		    (long long)k.failed, (long long)base,
		    (long long)r.fail_percent);
	rollout_row_clear(&r);
	if (reason[0] == '\0')
		return RESULT_OK;
	log_warnx("rollout %lld paused: %s", (long long)id, reason);
	/* Bumped before the caller's commit: a poll may cache the old set
	 * under the new generation until the next change.  Bump again once
	 * committed (action.c does) to close that window. */
	rollout_catalog_changed();
	return rollout_pause(db, id, reason);
}

/* Validate and bind the optional numeric and boolean fields. */
static enum result
rollout_check_fields(json_t *body, const char **why)
{
	json_t *v;
	const char *n;

	if ((v = json_object_get(body, "name")) &&
	    (!json_is_string(v) ||
	        strlen(n = json_string_value(v)) > ROLLOUT_NAME_MAX ||
	        !utf8_valid(n, strlen(n))))
		return *why = "name: a string of at most 128 characters",
		       RESULT_INVALID;
	if ((v = json_object_get(body, "max_running")) &&
	    (json_integer_value(v) < 0 || json_integer_value(v) > 1000000))
		return *why = "max_running: 0 (no limit) to 1000000",
		       RESULT_INVALID;
	if ((v = json_object_get(body, "failure_threshold_count")) &&
	    (json_integer_value(v) < 0 || json_integer_value(v) > 1000000))
		return *why = "failure_threshold_count: 0 (off) to 1000000",
		       RESULT_INVALID;
	if ((v = json_object_get(body, "failure_threshold_percent")) &&
	    (json_integer_value(v) < 0 || json_integer_value(v) > 100))
		return *why = "failure_threshold_percent: 0 (off) to 100",
		       RESULT_INVALID;
	return RESULT_OK;
}

#define ROLLOUT_FEED_WHY "feed: 1 to 64 of [A-Za-z0-9_.-]"

static bool
rollout_feed_ok(const char *feed)
{
	return strlen(feed) >= 1 && strlen(feed) <= DEVICE_FEED_MAX &&
	       strspn(feed,
	           "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	           "0123456789_.-") == strlen(feed);
}

/*
 * Check what a new rollout reaches: "feed" (default "default", stored
 * into body), "target_filter" or "target_filter_id" (the saved filter's
 * query is copied into body as "target_filter") and "software_id".  On
 * RESULT_OK *s is the set, which the caller clears; RESULT_INVALID with
 * *why.
 */
static enum result
rollout_check_target(
    struct db *db, json_t *body, struct dist *s, const char **why)
{
	const char *feed = json_string_value(json_object_get(body, "feed"));
	const char *filter =
	    json_string_value(json_object_get(body, "target_filter"));
	json_int_t sw =
	    json_integer_value(json_object_get(body, "software_id"));
	json_t *fid = json_object_get(body, "target_filter_id");
	static __thread char filter_why[200];
	struct target_filter saved = {0};
	enum result r;

	if (feed == NULL) {
		json_object_set_new(body, "feed", json_string("default"));
		feed = "default";
	}
	if (!rollout_feed_ok(feed))
		return *why = ROLLOUT_FEED_WHY, RESULT_INVALID;
	if (filter && filter[0] == '\0') {
		json_object_del(body, "target_filter");
		filter = NULL;
	}
	/* A saved filter: its query, copied (later changes to the filter do
	 * not move a rollout's devices). */
	if (fid && filter)
		return *why = "target_filter or target_filter_id, not both",
		       RESULT_INVALID;
	if (fid) {
		if ((r = filter_load(db, json_integer_value(fid), &saved)) !=
		    RESULT_OK) {
			if (r == RESULT_NOTFOUND) {
				*why = "target_filter_id: no such filter";
				r = RESULT_INVALID;
			}
			return r;
		}
		json_object_set_new(
		    body, "target_filter", json_string(saved.query));
		filter_clear(&saved);
		filter =
		    json_string_value(json_object_get(body, "target_filter"));
	}
	if (filter) {
		char buf[160];
		const char *p = wave_filter_problem(filter, buf, sizeof(buf));

		if (p) {
			/* Per thread: the reason lives until this thread's
			 * handler has answered. */
			snprintf(filter_why, sizeof(filter_why),
			    "target_filter: %s", p);
			return *why = filter_why, RESULT_INVALID;
		}
	}
	if ((r = dist_load(db, sw, true, s)) != RESULT_OK) {
		if (r == RESULT_NOTFOUND) {
			*why = "software_id: no such software";
			r = RESULT_INVALID;
		}
		return r;
	}
	if (s->deleted) {
		dist_clear(s);
		return *why = "software_id: that software was deleted",
		       RESULT_INVALID;
	}
	if (!s->complete) {
		dist_clear(s);
		return *why = "software_id: that distribution set is not "
		              "complete (a mandatory module is missing)",
		       RESULT_INVALID;
	}
	return RESULT_OK;
}

enum result
rollout_create(struct db *db, json_t *body, int64_t *id, const char **why)
{
	static const char sql[] =
	    "INSERT INTO rollout (name, feed, ds_id, paused, "
	    "max_running, failure_threshold_count, failure_threshold_percent, "
	    "created_at, state, target_filter, start_at) VALUES (?1, ?2, ?3, "
	    "0, ?5, ?6, ?7, ?8, 'ready', ?9, ?10) RETURNING id";
	json_int_t sw =
	    json_integer_value(json_object_get(body, "software_id"));
	const char *name = json_string_value(json_object_get(body, "name"));
	const char *feed, *filter;
	json_t *start_at = json_object_get(body, "start_at");
	bool start_now = !json_is_false(json_object_get(body, "start")) &&
	                 !json_is_integer(start_at);
	struct dist s;
	sqlite3_stmt *st;
	enum result r;
	char *dflt = NULL;

	*why = NULL;
	if ((r = rollout_check_fields(body, why)) != RESULT_OK)
		return r;
	if (json_is_integer(start_at) &&
	    (json_integer_value(start_at) < 0 ||
	        json_integer_value(start_at) > INT64_C(253402300799)))
		return *why = "start_at: a time in Unix seconds",
		       RESULT_INVALID;
	if ((r = rollout_check_target(db, body, &s, why)) != RESULT_OK)
		return r;
	feed = json_string_value(json_object_get(body, "feed"));
	filter = json_string_value(json_object_get(body, "target_filter"));
	if (name == NULL)
		name = dflt = xasprintf("%s to %s", s.version, feed);
	dist_clear(&s);
	if (db_begin(db) == -1) {
		free(dflt);
		return RESULT_ERROR;
	}
	if ((st = db_prepare(db, sql)) == NULL) {
		free(dflt);
		db_rollback(db);
		return RESULT_ERROR;
	}
	db_bind_text(st, 1, name);
	db_bind_text(st, 2, feed);
	db_bind_int64(st, 3, sw);
	db_bind_int64(
	    st, 5, json_integer_value(json_object_get(body, "max_running")));
	db_bind_int64(st, 6,
	    json_integer_value(
	        json_object_get(body, "failure_threshold_count")));
	db_bind_int64(st, 7,
	    json_integer_value(
	        json_object_get(body, "failure_threshold_percent")));
	db_bind_int64(st, 8, now_s());
	db_bind_text(st, 9, filter);
	if (json_is_integer(start_at))
		db_bind_int64(st, 10, json_integer_value(start_at));
	r = db_step_id(db, st, id, __func__);
	free(dflt);
	if (r == RESULT_OK)
		r = wave_create_groups(
		    db, *id, json_object_get(body, "groups"), why);
	if (r != RESULT_OK) {
		db_rollback(db);
		return r;
	}
	if (db_commit(db) == -1)
		return RESULT_ERROR;
	log_info("rollout %lld created: software %lld to feed %s",
	    (long long)*id, (long long)sw, feed);
	if (start_now && (r = wave_start(db, *id)) != RESULT_OK)
		return r;
	if (json_is_true(json_object_get(body, "paused")))
		return rollout_patch(db, *id, body, why);
	rollout_catalog_changed();
	return RESULT_OK;
}

/* The distinct hardware of a feed's devices in rollout mode. */
struct feed_hw {
	char *(*hw)[3]; /* hw_model, hw_revision, compatible */
	size_t n;
};

static enum result
feed_hw_load(struct db *db, const char *feed, struct feed_hw *f)
{
	static const char sql[] =
	    "SELECT DISTINCT hw_model, hw_revision, compatible FROM device "
	    "WHERE feed = ?1 AND mode = 'rollout' LIMIT 1000";
	sqlite3_stmt *st = db_prepare(db, sql);
	size_t cap = 0;

	memset(f, 0, sizeof(*f));
	if (st == NULL)
		return RESULT_ERROR;
	db_bind_text(st, 1, feed);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (f->n == cap) {
			cap = cap ? cap * 2 : 16;
			f->hw = xrealloc(f->hw, cap * sizeof(*f->hw));
		}
		for (int i = 0; i < 3; i++)
			f->hw[f->n][i] = db_column_strdup(st, i);
		f->n++;
	}
	db_done(st);
	return RESULT_OK;
}

static void
feed_hw_clear(struct feed_hw *f)
{
	for (size_t k = 0; k < f->n; k++)
		for (int i = 0; i < 3; i++)
			free(f->hw[k][i]);
	free(f->hw);
}

static void
policy_sw_of(const struct dist *d, struct policy_sw *sw)
{
	memset(sw, 0, sizeof(*sw));
	sw->id = d->id;
	sw->version = d->version;
	sw->version_scheme = d->version_scheme;
	sw->rauc_compatible = d->rauc_compatible;
	sw->hw = d->hw;
	sw->nhw = d->nhw;
}

/* Does a device of the feed's hardware fit set a, and b too (NULL: a
 * alone)? */
static bool
feed_hw_fits(
    const struct feed_hw *f, const struct dist *a, const struct dist *b)
{
	struct policy_sw sa, sb;

	policy_sw_of(a, &sa);
	if (b)
		policy_sw_of(b, &sb);
	for (size_t k = 0; k < f->n; k++)
		if (policy_fits(&sa, f->hw[k][0], f->hw[k][1], f->hw[k][2]) &&
		    (b == NULL || policy_fits(&sb, f->hw[k][0], f->hw[k][1],
		                      f->hw[k][2])))
			return true;
	return false;
}

/* Warnings of a preview about the rollouts of the feed that offer a
 * newer version than set s to devices of the same hardware: creating
 * this one would send the older one to those they have not updated yet
 * (the newest rollout wins). */
static void
rollout_preview_older(struct db *db, const char *feed, const struct feed_hw *f,
    const struct dist *s, json_t *warnings)
{
	static const char sql[] =
	    "SELECT r.id, x.id, x.version FROM rollout r JOIN "
	    "distribution_set x ON x.id = r.ds_id WHERE r.feed = ?1 AND "
	    "r.state IN ('ready', 'starting', 'running', 'paused') ORDER BY "
	    "r.id DESC LIMIT 256";
	sqlite3_stmt *st = db_prepare(db, sql);
	int64_t *rows = NULL;
	size_t n = 0, cap = 0;

	if (st == NULL)
		return;
	db_bind_text(st, 1, feed);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *v = (const char *)sqlite3_column_text(st, 2);

		if (v == NULL || version_compare_scheme(
		                     s->version_scheme, s->version, v) >= 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			rows = xrealloc(rows, cap * 2 * sizeof(*rows));
		}
		rows[2 * n] = sqlite3_column_int64(st, 0);
		rows[2 * n + 1] = sqlite3_column_int64(st, 1);
		n++;
	}
	db_done(st);
	/* Read after the cursor is closed: each set is a query. */
	for (size_t i = 0; i < n; i++) {
		struct dist o;
		char *msg;

		if (dist_load(db, rows[2 * i + 1], true, &o) != RESULT_OK)
			continue;
		if (feed_hw_fits(f, s, &o)) {
			msg = xasprintf("version %s is older than %s, which "
			                "rollout #%lld offers on feed %s: the "
			                "devices it has not updated yet would "
			                "get %s instead",
			    s->version, o.version, (long long)rows[2 * i], feed,
			    s->version);
			json_array_append_new(
			    warnings, json_pack("{s:s, s:I, s:s, s:s}", "code",
			                  "older_than_active", "rollout_id",
			                  (json_int_t)rows[2 * i], "version",
			                  o.version, "message", msg));
			free(msg);
		}
		dist_clear(&o);
	}
	free(rows);
}

/*
 * The newest complete set (by version; not of the scheme "none") whose
 * hardware fits at least one device of the feed in rollout mode, into o as
 * "newest_fitting"
 * ({id, version} or null): what the dashboard's software picker
 * proposes.  Reads the feed's distinct hardware, not every device.
 */
static enum result
rollout_newest_fitting(struct db *db, const struct feed_hw *f, json_t *o)
{
	static const char sets_sql[] =
	    "SELECT id FROM distribution_set WHERE deleted_at IS NULL AND "
	    "complete = 1 ORDER BY id DESC LIMIT 256";
	struct dist d, bestd = {0};
	int64_t *sets, best = 0;
	sqlite3_stmt *st;
	size_t nsets = 0;

	if ((st = db_prepare(db, sets_sql)) == NULL)
		return RESULT_ERROR;
	sets = db_collect_ids(st, &nsets);
	for (size_t i = 0; i < nsets; i++) {
		if (dist_load(db, sets[i], true, &d) != RESULT_OK)
			continue;
		/* Versions of the scheme "none" have no order (the latest
		 * mode never picks them either). */
		if (d.version_scheme && strcmp(d.version_scheme, "none") == 0) {
			dist_clear(&d);
			continue;
		}
		/* Strictly newer: of equal versions the newest upload wins,
		 * as sets come newest first. */
		if (feed_hw_fits(f, &d, NULL) &&
		    (best == 0 || version_compare_scheme(d.version_scheme,
		                      d.version, bestd.version) > 0)) {
			dist_clear(&bestd);
			bestd = d;
			best = d.id;
		} else
			dist_clear(&d);
	}
	free(sets);
	json_object_set_new(o, "newest_fitting",
	    best ? json_pack("{s:I, s:s}", "id", (json_int_t)best, "version",
	               bestd.version)
	         : json_null());
	if (best)
		dist_clear(&bestd);
	return RESULT_OK;
}

enum result
rollout_preview(struct db *db, json_t *body, json_t **out, const char **why)
{
	struct wave_preview k;
	struct feed_hw f;
	json_t *o, *warnings;
	const char *feed, *filter;
	struct dist s;
	enum result r;

	*out = NULL;
	*why = NULL;
	if (json_object_get(body, "software_id") == NULL) {
		/* Only the proposal for the feed's software picker. */
		feed = json_string_value(json_object_get(body, "feed"));
		if (feed == NULL)
			feed = "default";
		if (!rollout_feed_ok(feed))
			return *why = ROLLOUT_FEED_WHY, RESULT_INVALID;
		if (feed_hw_load(db, feed, &f) != RESULT_OK)
			return RESULT_ERROR;
		o = json_pack("{s:s}", "feed", feed);
		r = rollout_newest_fitting(db, &f, o);
		feed_hw_clear(&f);
		if (r != RESULT_OK)
			json_decref(o);
		else
			*out = o;
		return r;
	}
	if ((r = rollout_check_target(db, body, &s, why)) != RESULT_OK)
		return r;
	feed = json_string_value(json_object_get(body, "feed"));
	filter = json_string_value(json_object_get(body, "target_filter"));
	if ((r = wave_preview(db, feed, filter, s.id, &k)) != RESULT_OK ||
	    (r = feed_hw_load(db, feed, &f)) != RESULT_OK) {
		dist_clear(&s);
		return r == RESULT_NOTFOUND ? RESULT_ERROR : r;
	}
	warnings = json_array();
	if (k.reach == 0)
		json_array_append_new(warnings,
		    json_pack("{s:s, s:s}", "code", "no_devices", "message",
		        "no device would be reached: none of the feed's "
		        "devices "
		        "in rollout mode fits the software and the filter"));
	rollout_preview_older(db, feed, &f, &s, warnings);
	o = json_pack("{s:I, s:s, s:s, s:s?, s:I, s:I, s:I, s:I, s:I, s:I, "
	              "s:I, s:o}",
	    "software_id", (json_int_t)s.id, "version", s.version, "feed", feed,
	    "target_filter", filter, "devices", (json_int_t)k.reach, "pending",
	    (json_int_t)k.pending, "succeeded", (json_int_t)k.succeeded,
	    "failed", (json_int_t)k.failed, "filtered", (json_int_t)k.filtered,
	    "other_hardware", (json_int_t)k.other_hw, "downgrade",
	    (json_int_t)k.downgrade, "warnings", warnings);
	dist_clear(&s);
	r = o ? rollout_newest_fitting(db, &f, o) : RESULT_ERROR;
	feed_hw_clear(&f);
	if (r != RESULT_OK) {
		json_decref(o);
		return r;
	}
	*out = o;
	return RESULT_OK;
}

enum result
rollout_patch(struct db *db, int64_t id, json_t *body, const char **why)
{
	static const char sql[] =
	    "UPDATE rollout SET "
	    "name = COALESCE(?2, name), "
	    "max_running = COALESCE(?4, max_running), "
	    "failure_threshold_count = COALESCE(?5, failure_threshold_count), "
	    "failure_threshold_percent = COALESCE(?6, "
	    "failure_threshold_percent) "
	    "WHERE id = ?1";
	/* Pausing takes a running rollout (or one still to start) out of
	 * the offers; resuming runs it again, and its groups stopped by
	 * their error condition. */
	static const char pause[] =
	    "UPDATE rollout SET paused = ?2, pause_reason = CASE WHEN ?2 = 1 "
	    "THEN 'Paused by the operator' ELSE NULL END, state = CASE "
	    "WHEN ?2 = 1 AND state = 'running' THEN 'paused' "
	    "WHEN ?2 = 0 AND state = 'paused' THEN 'running' ELSE state END "
	    "WHERE id = ?1";
	static const char *const ints[] = {"max_running",
	    "failure_threshold_count", "failure_threshold_percent"};
	sqlite3_stmt *st;
	json_t *v;
	enum result r;

	*why = NULL;
	if ((r = rollout_check_fields(body, why)) != RESULT_OK)
		return r;
	if (db_begin(db) == -1)
		return RESULT_ERROR;
	if ((st = db_prepare(db, sql)) == NULL) {
		db_rollback(db);
		return RESULT_ERROR;
	}
	db_bind_int64(st, 1, id);
	db_bind_text(st, 2, json_string_value(json_object_get(body, "name")));
	for (int i = 0; i < 3; i++)
		if ((v = json_object_get(body, ints[i])))
			db_bind_int64(st, 4 + i, json_integer_value(v));
	r = db_step_changed(db, st, __func__);
	if (r == RESULT_OK && (v = json_object_get(body, "paused"))) {
		if ((st = db_prepare(db, pause)) == NULL)
			r = RESULT_ERROR;
		else {
			db_bind_int64(st, 1, id);
			db_bind_int64(st, 2, json_is_true(v));
			r = db_step_done(db, st, __func__);
		}
		if (r == RESULT_OK && json_is_false(v))
			r = wave_resume(db, id);
	}
	if (r != RESULT_OK) {
		db_rollback(db);
		return r;
	}
	if (db_commit(db) == -1)
		return RESULT_ERROR;
	rollout_catalog_changed();
	return RESULT_OK;
}

enum result
rollout_delete(struct db *db, int64_t id)
{
	static const char sql[] = "DELETE FROM rollout WHERE id = ?1";
	sqlite3_stmt *st = db_prepare(db, sql);
	enum result r;

	if (st == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, id);
	r = db_step_changed(db, st, __func__);
	if (r == RESULT_OK)
		rollout_catalog_changed();
	return r;
}
