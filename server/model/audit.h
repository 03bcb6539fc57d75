/*
 * The audit log of operator actions: who, what, on which object, from
 * where, when, and the answer's status.  Owns the audit table.
 */
#ifndef AUDIT_H
#define AUDIT_H

#include <jansson.h>
#include <stdint.h>

struct db;

/* Append one entry; failures are logged, never fatal. */
void audit_write(struct db *, const char *actor, const char *address,
    const char *action, const char *target, int status);
/* {"entries": [...], "total": N}, newest first. */
json_t *audit_list_json(struct db *, int64_t limit, int64_t offset);

#endif
