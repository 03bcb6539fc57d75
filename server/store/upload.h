/*
 * An upload in progress: bytes stream into a temp file under the data
 * directory while md5, sha1 and sha256 are computed.  Nothing holds the
 * whole file in memory.  Knows nothing of HTTP.
 */
#ifndef UPLOAD_H
#define UPLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum upload_err {
	UPLOAD_OK,
	UPLOAD_TOO_BIG,  /* more than max_size bytes */
	UPLOAD_NO_SPACE, /* ENOSPC or EDQUOT */
	UPLOAD_IO,       /* any other write or hash error */
};

struct upload;

/* Create a temp file in dir.  NULL on failure (logged). */
struct upload *upload_new(const char *dir, uint64_t max_size);
/* Append bytes.  Once an error occurred every later write fails with it. */
enum upload_err upload_write(struct upload *, const void *buf, size_t len);
/* Flush to disk and finish the digests.  UPLOAD_OK or the error. */
enum upload_err upload_finish(struct upload *);
enum upload_err upload_error(const struct upload *);

const char *upload_path(const struct upload *);
int upload_fd(const struct upload *);
uint64_t upload_size(const struct upload *);
/* Lower-case hex digests, valid after upload_finish. */
const char *upload_md5(const struct upload *);
const char *upload_sha1(const struct upload *);
const char *upload_sha256(const struct upload *);

/* The client's file name (from ?filename= or the multipart part). */
void upload_set_filename(struct upload *, const char *name);
const char *upload_filename(const struct upload *);

/*
 * The temp file now belongs elsewhere (it was renamed into place):
 * upload_free will not unlink it.
 */
void upload_keep(struct upload *);
/* Close and, unless kept, unlink the temp file.  Accepts NULL. */
void upload_free(struct upload *);

#endif
