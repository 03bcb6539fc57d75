/*
 * The OpenAPI 3 description of the whole HTTP API (server/openapi.json,
 * compiled into the binary and served at /api/v1/openapi.json).
 */
#ifndef OPENAPI_H
#define OPENAPI_H

extern const char openapi_json[];

#endif
