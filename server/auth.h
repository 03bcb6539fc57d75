/*
 * Who may make a request.  Devices: TargetToken, GatewayToken, a client
 * certificate checked by a trusted proxy, or nothing, per device_auth.mode.
 * Operators: management API tokens (Bearer), stored as SHA-256 only.
 */
#ifndef AUTH_H
#define AUTH_H

#include <stddef.h>

#include "util.h"

struct db;
struct request;

#define AUTH_TOKEN_LEN 40	/* alphanumerics in a management token */
#define AUTH_DEVICE_TOKEN_MAX 128

/*
 * Decide whether req may act as device `cid`.  Sets req->device_id (0 for
 * an unknown device), req->device_may_register and, in tofu mode, the
 * token hash to store.  0 allowed; else the HTTP status to answer (401).
 */
int auth_device(struct request *req, struct db *db, const char *cid);

/* Check the Bearer token of a management request.  0 ok, else 401. */
int auth_admin(struct request *req, struct db *db);

/*
 * Create a management token named `name` (1..64 chars [A-Za-z0-9_.-]).
 * Writes the token (AUTH_TOKEN_LEN + 1 bytes) to out; only its hash is
 * stored.  RESULT_CONFLICT if the name exists, RESULT_INVALID for a bad name.
 */
enum result auth_token_create(struct db *db, const char *name, char *out);
/* Delete a token by name.  RESULT_NOTFOUND if there is none. */
enum result auth_token_delete(struct db *db, const char *name);

/* Hash a device or API token for storage: hex SHA-256 into out[65]. */
void auth_hash_token(const char *token, char out[65]);

#endif
