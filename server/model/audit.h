/*
 * The audit log of operator actions: who, what, on which object, from
 * where, when, and the answer's status.  Owns the audit table.
 *
 * Failed requests made without credentials (wrong passwords, missing
 * tokens: anyone can send them, as fast as the network goes) are not
 * written one row each but folded: one entry per action, status, address
 * and minute, with a count.  A background thread writes the folded
 * entries and prunes the table to audit.max_age and audit.max_rows.
 */
#ifndef AUDIT_H
#define AUDIT_H

#include <jansson.h>
#include <stdint.h>

struct db;
struct settings;
struct audit_log;

#define AUDIT_FOLD_MAX 1024 /* folded entries per minute, then "*" */

/* Append one entry; failures are logged, never fatal. */
void audit_write(struct db *, const char *actor, const char *address,
    const char *action, const char *target, int status);
/* What GET /api/v1/audit asks for; NULL and 0 fields do not filter. */
struct audit_query {
	int64_t limit, offset;
	const char *user;   /* this actor exactly */
	const char *action; /* this action, or its family: "device" */
	int64_t since;      /* at >= since (Unix seconds) */
	int64_t until;      /* at <= until */
};

#define AUDIT_QUERY_TEXT_MAX 128 /* bytes of user and action */

/*
 * {"entries": [...], "total": N, "limit", "offset"}, newest first; an
 * entry on an action (action.cancel...) names its device.  Unfiltered,
 * total is the span of ids kept (exact: entries are deleted only from the
 * oldest end), not a count(*), which reads the whole table; filtered, it
 * is the count of matching entries.  NULL on a database error.
 */
json_t *audit_list_json(struct db *, const struct audit_query *);

/* Start the writer and pruner thread on db_path, with the settings'
 * retention (which must outlive it).  NULL on failure (logged). */
struct audit_log *audit_start(const char *db_path, const struct settings *);
/* Write what is folded, stop the thread and free.  Accepts NULL. */
void audit_stop(struct audit_log *);
/*
 * Count one failed request made without credentials.  action is a route's
 * audit name (a literal: it is kept); address, actor (the user name a
 * login tried, or NULL) and target (or NULL) are copied; an entry shows
 * "*" for an actor or target its requests did not agree on.  The first
 * request of an entry writes it through db (this thread's connection);
 * the others only count, and the thread writes the counts within about
 * a second.
 */
void audit_fold(struct audit_log *, struct db *, const char *action, int status,
    const char *address, const char *actor, const char *target);
/* Every failure folded since start-up, for /metrics: {"entries":
 * [{"action", "status", "count"}], "overflow": N} (overflow: failures of
 * a minute that had AUDIT_FOLD_MAX addresses already, folded as "*"). */
json_t *audit_fold_counts_json(struct audit_log *);

/*
 * Delete the entries older than max_age_s seconds before now, and the
 * oldest beyond max_rows, in batches, each its own short transaction.
 * Uses the id and at indexes, never a scan.  Returns the number deleted,
 * or -1 on an error (logged).
 */
int64_t audit_prune(
    struct db *, int64_t now, int64_t max_age_s, int64_t max_rows);

#endif
