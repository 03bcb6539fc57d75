/*
 * Devices: registration, credentials, attributes from configData, and the
 * operator's settings for each device (mode, feed, assignment, force).
 * Owns the device and device_attribute tables.
 */
#ifndef DEVICE_H
#define DEVICE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "action.h"
#include "policy.h"
#include "util.h"

struct db;
struct settings;
struct meta_table;

#define DEVICE_ID_MAX 256   /* controller id bytes (hawkBit's limit) */
#define DEVICE_ATTR_MAX 100 /* attributes per device */
#define DEVICE_ATTR_LEN 128 /* bytes in a key or value */
#define DEVICE_NAME_MAX 256
#define DEVICE_FEED_MAX 64
#define DEVICE_TOKEN_MAX 128 /* bytes in a TargetToken */

struct device {
	int64_t id;
	char *controller_id;
	char *name;
	bool has_token;
	enum policy_mode mode;
	char *feed;
	int64_t assigned_ds_id; /* distribution set, 0 = none */
	bool force;
	bool allow_downgrade;
	char *hw_model, *hw_revision, *installed_version;
	char *compatible; /* its RAUC compatible (attributes.rauc_compatible) */
	bool request_attributes;
	int64_t created_at, last_seen;
	char *last_address;
	char *state;             /* pending, updating, in_sync, ... */
	char *target_version;    /* version of the open action, or NULL */
	int64_t target_ds_id;    /* set of the open action, 0 if none */
	int64_t installed_ds_id; /* set of the newest succeeded action, 0 */
	char token_hash[65];     /* device_load_ddi only: "" if none */
	/* device_load_ddi only: the newest action and the newest succeeded
	 * one, read in the same query, so a poll costs one SELECT. */
	bool actions_loaded;
	bool has_last;
	struct action last;
	int64_t installed_action;
};

/* Filters and order of the device list; NULL or 0 members do not filter. */
struct device_query {
	int64_t limit, offset;
	const char *text; /* in id, name, model, revision, version, address */
	const char *state, *feed, *mode;
	const char *seen; /* "online", "overdue", "never" */
	bool refused;     /* refused since the last accepted contact */
	int64_t rollout_id;
	const char *rollout_state;     /* with rollout_id; NULL: targeted */
	const char *installed_version; /* exactly this installed version */
	int64_t installed_ds;          /* its newest success was this set */
	const char *sort;              /* column name; NULL = controller_id */
	bool descending;
};

/* Id and stored token hash ("" if none) of controller id cid. */
enum result device_find_auth(
    struct db *, const char *cid, int64_t *id, char token_hash[65]);
/* A device registering itself on its first contact. */
struct device_new {
	const char *cid;
	const char *token_hash; /* tofu: the token to store, else NULL */
	const char *feed;       /* NULL: "default" */
	bool vouched;           /* by the GatewayToken or a proxy certificate */
};

/*
 * Register n->cid; *id is its row id and *created says whether this call
 * made the row.  If the row exists already (a concurrent first contact, an
 * operator), the request joins it only if it is vouched for, holds the
 * token stored, or none is stored (then n->token_hash is stored, as
 * device_store_first_token does); RESULT_CONFLICT otherwise (answer 401).
 */
enum result device_register(
    struct db *, const struct device_new *n, int64_t *id, bool *created);
/*
 * Trust on first use: store token_hash only if the device has none.
 * RESULT_CONFLICT if another token was stored first (the loser of a race
 * of first contacts: answer 401); RESULT_OK if this one is stored, or the
 * same one was.
 */
enum result device_store_first_token(
    struct db *, int64_t id, const char *token_hash);
/*
 * How many devices are on one feed, for a cap checked on every
 * self-registration: counted from the table at most once a second and
 * counted up by device_tally_add in between, so a
 * flood of attempts does not count the feed each time (1,000,000 rows take
 * about 0.1 s).  Operators' moves and deletions show within that age.
 * Thread-safe; always asked about the same feed.
 */
struct device_tally;
struct device_tally *device_tally_new(void);
void device_tally_free(struct device_tally *);
/* Devices on feed, counting no further than limit; -1 on a database
 * error. */
int64_t device_tally_get(
    struct device_tally *, struct db *, const char *feed, int64_t limit);
/* A device joined the feed. */
void device_tally_add(struct device_tally *);
/* The cap refused a registration: true at most once a minute, when the
 * caller should log it (a flood must not flood the log). */
bool device_tally_full(struct device_tally *);

/*
 * Load a device; the caller releases it with device_clear.  device_load
 * and device_load_ddi read the row alone (state and target_version NULL;
 * device_load_ddi also fills token_hash) for the poll path;
 * device_load_cid adds the derived state for operators.
 */
enum result device_load(struct db *, int64_t id, struct device *);
enum result device_load_ddi(struct db *, const char *cid, struct device *);
enum result device_load_cid(struct db *, const char *cid, struct device *);
void device_clear(struct device *);
/* device_clear and free a heap device (accepts NULL). */
void device_free(struct device *);

/*
 * Apply a DDI configData body's "data" object in mode merge, replace or
 * remove, and refresh hw_model, hw_revision and installed_version from the
 * configured attribute names.  RESULT_INVALID for bad keys or values,
 * RESULT_CONFLICT when the device would hold more than DEVICE_ATTR_MAX.
 */
enum result device_put_attributes(struct db *, const struct settings *,
    int64_t id, const char *mode, json_t *data, const char **why);

/* The device as management API JSON (new reference). */
json_t *device_to_json(
    struct db *, const struct settings *, const struct device *);
/* One page of devices: {"devices": [...], "total": N, ...}. */
json_t *device_list_json(
    struct db *, const struct settings *, const struct device_query *);
/* {"total", "online", "updating", "failed", "by_state": {...},
 * "by_version": [{"version", "devices"}, ...] (the newest 100 versions
 * installed, as the policy orders them)}. */
json_t *device_stats_json(struct db *, const struct settings *);
/* How many devices run each software (their newest succeeded action's
 * set): {"<set id>": N, ...}, a new reference. */
json_t *device_installed_counts(struct db *);

/*
 * Operator changes from a PATCH body (already type-checked by mgmt.c);
 * keys absent from `patch` are left alone.  RESULT_INVALID with *why set
 * for bad values.
 */
enum result device_patch(
    struct db *, int64_t id, json_t *patch, const char **why);
/*
 * A target as hawkBit's Management API writes it.  On create every field
 * is stored; on update only those whose set_* flag is true (a NULL string
 * then clears it).  token_hash is the SHA-256 devices are checked against,
 * token_sealed the token sealed by tokenbox.c; by names the operator.
 */
struct device_target {
	const char *cid, *name, *description, *by;
	const char *token_hash, *token_sealed;
	bool set_name, set_description, set_token, request_attributes;
};
/* Inside the caller's transaction: a new device.  RESULT_CONFLICT if the
 * controller id is taken. */
enum result device_target_insert(
    struct db *, const struct device_target *, int64_t *id);
/* Change a device's hawkBit fields; request_attributes true asks the
 * device for its attributes again.  RESULT_NOTFOUND if there is none. */
enum result device_target_update(
    struct db *, int64_t id, const struct device_target *);
/* The statements of device_metadata (meta.h). */
extern const struct meta_table device_meta_table;

/* Pre-register a device (management API).  RESULT_CONFLICT if it exists. */
enum result device_create(struct db *, const char *cid, json_t *fields,
    int64_t *id, const char **why);
enum result device_delete(struct db *, int64_t id);
/*
 * Apply one PATCH to, or (patch NULL) delete, every device of the JSON
 * array of controller ids, all or nothing.  *n counts the devices changed.
 */
enum result device_bulk(
    struct db *, json_t *ids, json_t *patch, int64_t *n, const char **why);
/* The same inside the caller's transaction (rolled back on an error). */
enum result device_bulk_in(
    struct db *, json_t *ids, json_t *patch, int64_t *n, const char **why);
/* The controller ids of the devices q matches (its filters; not its
 * sort or page), in id order, at most limit of them: a new JSON array,
 * or NULL on a database error. */
json_t *device_match_ids(struct db *, const struct settings *,
    const struct device_query *q, int64_t limit);
/* How many of the controller ids in the JSON array ids q still matches,
 * each looked up by its id (no scan of the fleet); -1 on a database
 * error. */
int64_t device_match_count(struct db *, const struct settings *,
    const struct device_query *q, json_t *ids);
/* Clear the force flag once it was used. */
enum result device_clear_force(struct db *, int64_t id);
/* Ask the device for its attributes again (after an update finished) and
 * record the installed version. */
enum result device_set_installed(struct db *, int64_t id, const char *version);
/* Ask the device for its attributes again (a download-only action
 * finished), nothing else changed. */
enum result device_request_attributes(struct db *, int64_t id);
/* An operator's assignment: mode assigned, to set ds_id (caller's txn).
 * RESULT_NOTFOUND if there is no such device. */
enum result device_set_assigned(struct db *, int64_t id, int64_t ds_id);

/*
 * The controller ids every DDI path takes: 1..256 bytes, no C0 control or
 * DEL.  Looser than device_cid_problem, so that a device registered before
 * that rule existed stays reachable.
 */
bool device_cid_valid(const char *cid);
/*
 * What is wrong with cid as the id of a new device (registration on first
 * contact, or by an operator), or NULL if nothing: 1..256 bytes of UTF-8
 * without controls, format characters (zero-width, bidi), line or paragraph
 * separators or other invisible code points (unicode_invisible), and
 * without a leading or trailing space (Zs).  So that no new id can pass for
 * another one in the dashboard ("k-001 ", "k-001\u200b").
 */
const char *device_cid_problem(const char *cid);
/* A TargetToken an operator may set, or tofu may store: 8..128 of
 * [A-Za-z0-9_.-~+/=]. */
bool device_token_valid(const char *token);

#endif
