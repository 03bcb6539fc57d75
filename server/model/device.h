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
	const char *text; /* in id, name, model, version or address */
	const char *state, *feed, *mode;
	int64_t rollout_id;
	const char *sort; /* column name; NULL = controller_id */
	bool descending;
};

/* Id and stored token hash ("" if none) of controller id cid. */
enum result device_find_auth(
    struct db *, const char *cid, int64_t *id, char token_hash[65]);
/* Register cid (token_hash may be NULL); *id is its row id.  A device that
 * registered concurrently is found instead. */
enum result device_register(
    struct db *, const char *cid, const char *token_hash, int64_t *id);
/* Trust on first use: store token_hash only if the device has none. */
enum result device_store_first_token(
    struct db *, int64_t id, const char *token_hash);

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
/* {"total", "online", "updating", "failed", "by_state": {...}}. */
json_t *device_stats_json(struct db *, const struct settings *);

/*
 * Operator changes from a PATCH body (already type-checked by mgmt.c);
 * keys absent from `patch` are left alone.  RESULT_INVALID with *why set
 * for bad values.
 */
enum result device_patch(
    struct db *, int64_t id, json_t *patch, const char **why);
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
/* Clear the force flag once it was used. */
enum result device_clear_force(struct db *, int64_t id);
/* Ask the device for its attributes again (after an update finished) and
 * record the installed version. */
enum result device_set_installed(struct db *, int64_t id, const char *version);

/* Valid controller id: 1..256 bytes, no control characters. */
bool device_cid_valid(const char *cid);

#endif
