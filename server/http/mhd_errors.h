#ifndef MHD_ERRORS_H
#define MHD_ERRORS_H

#include <stddef.h>

/*
 * libmicrohttpd's own HTML error pages become JSON (see mhd_errors.c; the
 * replacement of MHD_create_response_from_buffer needs nothing called).
 * mhd_error_json writes the JSON for one such page into out and returns
 * its length, or 0 when it does not fit.
 */
size_t mhd_error_json(const char *page, size_t size, char *out, size_t outlen);

#endif
