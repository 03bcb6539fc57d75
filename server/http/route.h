/*
 * The route table, the index of every URL the daemon answers, and its
 * matcher.  The matcher tells "no such path" (404) from "path exists, other
 * method" (405), as kore's route lookup does.
 */
#ifndef ROUTE_H
#define ROUTE_H

#include <stddef.h>

#include "http.h"

#define ROUTE_SEGMENTS_MAX 16
#define ROUTE_SEGMENT_MAX 1024 /* decoded bytes in one path segment */

enum route_auth {
	AUTH_NONE,    /* anyone */
	AUTH_DEVICE,  /* DDI: device credentials per settings */
	AUTH_ADMIN,   /* management API: Bearer token or session cookie */
	AUTH_METRICS, /* AUTH_ADMIN unless metrics.public is set */
	AUTH_REST,    /* /rest/v1: HTTP Basic (a user) or a Bearer token */
};

enum route_body {
	BODY_NONE,   /* a body is read and discarded */
	BODY_JSON,   /* JSON up to HTTP_JSON_BODY_MAX */
	BODY_UPLOAD, /* streamed to a temp file (software upload) */
};

/*
 * ROUTE_POOL: the handler runs on the management pool, not on the threads
 * that answer devices (http.c).  For the handlers that hash a password,
 * read or write across the fleet, or take a whole file or a remote fetch.
 */
#define ROUTE_POOL 0x1

struct route {
	const char *method;
	const char *pattern; /* "/a/{x}/b": {x} captures one segment */
	void (*handler)(struct request *);
	enum route_auth auth;
	enum route_body body;
	const char *perm;  /* AUTH_ADMIN: permission needed, NULL = any */
	const char *audit; /* name in the audit log, NULL = not audited */
	unsigned flags;    /* ROUTE_POOL, or 0 (left out in the table) */
};

extern const struct route routes[];
extern const size_t nroutes;

enum route_match_result {
	ROUTE_FOUND,
	ROUTE_NOT_FOUND,
	ROUTE_BAD_METHOD,
	ROUTE_BAD_PATH
};

/*
 * Match method and raw (still percent-encoded) path against the table.
 * On ROUTE_FOUND *out is the route and params[0..*nparams) the decoded
 * captures, which the caller frees.  HEAD matches GET routes.  A path with
 * a bad escape, NUL, invalid UTF-8, "." or ".." segments, a segment over
 * ROUTE_SEGMENT_MAX or too many segments is ROUTE_BAD_PATH.
 */
enum route_match_result route_match(const char *method, const char *path,
    const struct route **out, char **params, int *nparams);

/*
 * Percent-decode len bytes of in.  plus_is_space decodes '+' as a space
 * (query strings).  Refuses bad escapes, NUL bytes and invalid UTF-8.
 * Returns a new string the caller frees, or NULL.
 */
char *route_decode(const char *in, size_t len, int plus_is_space);

#endif
