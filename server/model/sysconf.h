/*
 * Runtime system configuration: hawkBit's system/configs keys (polling
 * times, which device credentials count, the gateway key, trusted
 * authorities).  Each key starts from settings.yaml; a value set at run
 * time is stored in the system_config table and wins until it is
 * deleted.  Readers on the device path never touch the database: they
 * read a snapshot in memory, replaced whole once a change commits.
 * Owns the system_config table.
 */
#ifndef SYSCONF_H
#define SYSCONF_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct db;
struct settings;

#define SYSCONF_VALUE_MAX 1024     /* a value as stored, NUL included */
#define SYSCONF_BY_MAX 128         /* who set it, NUL included */
#define SYSCONF_AUTHORITIES_MAX 16 /* entries of header.authority */
#define SYSCONF_AUTHORITY_MAX 128  /* bytes of one, NUL included */
#define SYSCONF_GATEWAY_KEY_MIN 16 /* as device_auth.gateway_token */
#define SYSCONF_GATEWAY_KEY_MAX 255
#define SYSCONF_MW_POLL_COUNT_DEFAULT 3 /* hawkBit's */

enum sysconf_key {
	SYSCONF_POLLING_TIME,
	SYSCONF_POLLING_OVERDUE,
	SYSCONF_TARGETTOKEN_ENABLED,
	SYSCONF_GATEWAY_ENABLED,
	SYSCONF_GATEWAY_KEY,
	SYSCONF_HEADER_ENABLED,
	SYSCONF_HEADER_AUTHORITY,
	SYSCONF_MW_POLL_COUNT,
	SYSCONF_NKEYS
};

enum sysconf_type {
	SYSCONF_DURATION, /* "HH:MM:SS" */
	SYSCONF_BOOL,
	SYSCONF_STRING,
	SYSCONF_INT,
};

/* One key in a snapshot: its value as text ("true", "00:05:00", "3"). */
struct sysconf_entry {
	char text[SYSCONF_VALUE_MAX];
	bool stored;        /* set at run time; false: settings.yaml's */
	int64_t updated_at; /* epoch seconds, when stored */
	char updated_by[SYSCONF_BY_MAX];
};

/* Every key's value, and the parsed forms the device path reads. */
struct sysconf_snap {
	struct sysconf_entry e[SYSCONF_NKEYS];
	int polling_time, polling_overdue; /* seconds */
	int mw_poll_count;
	bool targettoken, gateway, header;
	char gateway_key[SYSCONF_GATEWAY_KEY_MAX + 1];
	char authorities[SYSCONF_AUTHORITIES_MAX][SYSCONF_AUTHORITY_MAX];
	size_t nauthorities;
};

/* A change: a new value (text from sysconf_parse) or back to the
 * settings.yaml value (reset). */
struct sysconf_change {
	enum sysconf_key key;
	bool reset;
	char text[SYSCONF_VALUE_MAX];
};

/* The key named name (hawkBit's spelling, case-sensitive), or -1. */
int sysconf_key_find(const char *name);
const char *sysconf_key_name(enum sysconf_key);
enum sysconf_type sysconf_key_type(enum sysconf_key);
/* "duration", "bool", "string" or "int". */
const char *sysconf_type_name(enum sysconf_type);

/*
 * Check a JSON value for key (a string for durations and strings, a
 * boolean, an integer) and its bounds.  NULL and the stored text in out,
 * or why it is refused.
 */
const char *sysconf_parse(
    enum sysconf_key, const json_t *value, char out[SYSCONF_VALUE_MAX]);
/* The JSON value of a key's text (a new reference, NULL if the text is
 * not one sysconf_parse writes). */
json_t *sysconf_value_json(enum sysconf_key, const char *text);
/* What the gateway key and its like look like in the audit log. */
bool sysconf_key_secret(enum sysconf_key);

/*
 * Build a snapshot: settings.yaml's values, then rows (key, text) over
 * them; a row the current rules refuse is skipped with a warning.  Pure:
 * for sysconf_reload and the unit tests.
 */
void sysconf_build(const struct settings *, struct sysconf_snap *out);
/* Put one stored value on a snapshot.  -1 if text does not parse. */
int sysconf_snap_set(struct sysconf_snap *, enum sysconf_key, const char *text,
    int64_t at, const char *by);

/* Read the table and publish the snapshot.  s must outlive every reader.
 * 0, or -1 (logged) on a database error. */
int sysconf_reload(struct db *, const struct settings *);
/* Forget the published snapshot (at shutdown). */
void sysconf_shutdown(void);

/*
 * Apply changes in one transaction, all or nothing, then publish the new
 * snapshot.  by names who made them.  *audit (malloc'd, the caller frees)
 * says "key: old -> new" for each, the gateway key masked.  RESULT_OK,
 * or RESULT_ERROR (logged).
 */
enum result sysconf_apply(struct db *, const struct settings *,
    const struct sysconf_change *, size_t n, const char *by, char **audit);

/* A copy of the snapshot (settings.yaml's values before the first
 * sysconf_reload). */
void sysconf_get(const struct settings *, struct sysconf_snap *out);

/* The snapshot's readers for the device path: no database, no copy. */
int sysconf_polling_time(const struct settings *);
int sysconf_polling_overdue(const struct settings *);
/* maintenanceWindowPollCount: polls wanted before a window opens. */
int sysconf_mw_poll_count(const struct settings *);
bool sysconf_targettoken_enabled(const struct settings *);
/* Is the GatewayToken on and token its key (constant time)? */
bool sysconf_gateway_ok(const struct settings *, const char *token);
bool sysconf_header_enabled(const struct settings *);
/* Is authority (case-insensitive) a trusted one? */
bool sysconf_authority_trusted(const struct settings *, const char *authority);

#endif
