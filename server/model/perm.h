/*
 * Operator permissions, as gooseBit names them: dotted names such as
 * "device.read".  A grant matches a permission when it equals it, is a
 * dotted prefix of it ("device"), or has "*" segments ("*", "*.read",
 * "device.*").  A grant starting with '!' denies what it matches, and a
 * deny wins over any allow.  Pure: no I/O.
 */
#ifndef PERM_H
#define PERM_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define PERM_GRANTS_MAX 64
#define PERM_GRANT_LEN 64

/* Every permission a route can require, NULL-terminated. */
extern const char *const perm_names[];

/* Does the JSON array of grant strings allow perm?  NULL perm: any
 * authenticated principal (always true). */
bool perm_allows(const json_t *grants, const char *perm);
/* Is s a well-formed grant ("!"? segments of [a-z*] joined by dots)? */
bool perm_grant_valid(const char *s);
/* Is grants a JSON array of at most PERM_GRANTS_MAX valid grants?  *why
 * says what is wrong otherwise. */
bool perm_grants_valid(const json_t *grants, const char **why);
/* Does `inner` allow nothing that `outer` does not? */
bool perm_subset(const json_t *inner, const json_t *outer);
/* The grants of a named role ("admin", "operator", "readonly") as a new
 * JSON array, or NULL. */
json_t *perm_role(const char *name);

#endif
