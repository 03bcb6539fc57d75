/*
 * Requests refused at the door: a device polling with a wrong or missing
 * TargetToken, an id token mode does not know, a certificate that names
 * another device.  Any refusal path calls refused_note; the notes gather
 * in memory, coalesced per controller id and reason, and refused_flush
 * writes them about once a second in one transaction, so a flood of 401s
 * costs no write per request.  The table keeps one row per id and reason
 * (REFUSED_PER_ID reasons per id at most) and `rows_max` rows in all, the
 * most recent.  Owns the refused_request table.
 */
#ifndef REFUSED_H
#define REFUSED_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct db;

#define REFUSED_PENDING_MAX 4096 /* ids and reasons gathered per flush */
#define REFUSED_PER_ID 4         /* rows (reasons) kept per controller id */
#define REFUSED_ADDR_MAX 48      /* an IPv6 address in text is at most 45 */

enum refused_reason {
	REFUSED_WRONG_TOKEN,    /* a TargetToken other than the device's */
	REFUSED_MISSING_TOKEN,  /* none, and the device has one or must */
	REFUSED_UNKNOWN_DEVICE, /* token mode: a TargetToken, no device */
	REFUSED_WRONG_GATEWAY,  /* a GatewayToken that is not the one */
	REFUSED_TOKEN_DISABLED, /* TargetTokens are switched off */
	REFUSED_BAD_TOKEN,      /* a token tofu could not store */
	REFUSED_BAD_SCHEME,     /* an Authorization scheme not known */
	REFUSED_TOKEN_CONFLICT, /* lost a race of first contacts */
	REFUSED_CERT_MISMATCH,  /* a client certificate of another id */
	REFUSED_NREASONS
};

struct refused;

/* An empty memory writing at most rows_max rows.  Never NULL. */
struct refused *refused_new(int64_t rows_max);
/* Accepts NULL.  Call refused_flush first to keep what is pending. */
void refused_free(struct refused *);
/*
 * Note a refused request of controller id cid (bytes past DEVICE_ID_MAX
 * are cut) from address (may be NULL).  Never touches the database; a
 * note of a new id past REFUSED_PENDING_MAX per flush is dropped and
 * counted.  Thread-safe; accepts a NULL memory.
 */
void refused_note(struct refused *, const char *cid, const char *address,
    enum refused_reason);
/* Write what was noted since the last flush in one transaction and cut
 * the table to its bounds.  0 ok, -1 on a database error (the notes are
 * lost). */
int refused_flush(struct refused *, struct db *);
/* Notes dropped so far for want of room. */
uint64_t refused_dropped(struct refused *);

/* "wrong_target_token", ... and "wrong TargetToken", ...; "unknown" out of
 * range.  refused_reason_text also maps a code read from the table. */
const char *refused_reason_code(enum refused_reason);
const char *refused_text_of_code(const char *code);

/*
 * The newest refusal of cid after `since` (the device's last accepted
 * contact, 0 if none) as {reason_code, reason, attempts, first_at,
 * last_at, address}, or JSON null (new reference; null on error).
 */
json_t *refused_device_json(struct db *, const char *cid, int64_t since);
/*
 * A page of refused controller ids, the most recent first:
 * {"refused": [{controller_id, known, reason_code, reason, attempts,
 * first_at, last_at, address, reasons: [...]}], "total", "limit",
 * "offset"}.  unknown_only: only ids that are not devices.  NULL on a
 * database error.
 */
json_t *refused_list_json(
    struct db *, int64_t limit, int64_t offset, bool unknown_only);

/* The SQL condition "device d (a device list row, with controller_id
 * and last_seen) has a refusal newer than its last accepted contact". */
#define REFUSED_DEVICE_SQL                                                     \
	"EXISTS (SELECT 1 FROM refused_request rr WHERE rr.controller_id = "   \
	"d.controller_id AND rr.last_at > COALESCE(d.last_seen, 0))"

#endif
