/*
 * falconet health: one GET /healthz to the server a settings file
 * describes, for a container's HEALTHCHECK without curl in the image.
 */
#ifndef HEALTH_H
#define HEALTH_H

#include <stddef.h>

struct settings;

#define HEALTH_TIMEOUT_MS 5000 /* connect, send and answer, all told */

/*
 * 0 if the server at listen.address:listen.port answers /healthz with 200
 * within timeout_ms; -1 otherwise, with the reason in err.  A wildcard
 * address (0.0.0.0, ::) is reached on loopback.
 */
int health_probe(
    const struct settings *s, int timeout_ms, char *err, size_t errlen);

#endif
