/*
 * Reading an external artifact once, to check it: libcurl streams the URL
 * into an upload (a temp file, hashed on the way) under bounds.
 */
#ifndef FETCH_H
#define FETCH_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct app;
struct upload;

#define FETCH_REDIRECTS_MAX 5

/*
 * GET url (http or https only, also after redirects, at most
 * FETCH_REDIRECTS_MAX of them) into a new upload under the app's temp dir.
 * The transfer stops with RESULT_INVALID once more than `expect` bytes
 * arrived, after upload.fetch_timeout seconds, or on any HTTP status but
 * 200; *why says which.  On RESULT_OK *out is finished (hashes ready);
 * the caller frees it, which removes the file.
 */
enum result fetch_url(const struct app *, const char *url, uint64_t expect,
    struct upload **out, char *why, size_t whylen);

#endif
