/*
 * JSON instead of libmicrohttpd's own HTML error pages.
 *
 * libmicrohttpd answers some requests itself, before any handler of ours
 * runs: a request line or headers larger than the connection's buffer
 * (414, 431), a request it cannot parse (400), a bad chunk or a
 * Content-Length it cannot hold (400, 413), an HTTP version it does not
 * speak (505).  It has no option to change those answers: each is a
 * small HTML page from a fixed string, made into a response with
 * MHD_create_response_from_buffer(), which the library calls through its
 * PLT.  The executable defines that function too (and the Makefile
 * exports it with --export-dynamic-symbol), so the dynamic linker binds
 * the library's call here.  A body that is one of those pages becomes the
 * JSON error every other answer has; anything else, the server's own
 * calls included, goes on to the library's function unchanged.
 *
 * The JSON carries both shapes clients parse: Falconet's {error, detail}
 * and hawkBit's {exceptionClass, errorCode, message}, since the path the
 * request was for is not known here (often not even parsed).
 */
#include <dlfcn.h>
#include <jansson.h>
#include <microhttpd.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "mhd_errors.h"
#include "rest.h"

#define MHD_ERR_PAGE "<html><head><title>"
#define MHD_ERR_JSON_MAX 1024

typedef struct MHD_Response *(*create_fn)(
    size_t, void *, enum MHD_ResponseMemoryMode);

/*
 * Titles of libmicrohttpd's pages (0.9.7x) and what they become; hawkBit's
 * names as server/api/rest.c gives them for the same statuses.
 */
static const struct mhd_error_map {
	const char *title;
	const char *error;
	const char *exception;
	const char *code;
	const char *detail; /* NULL: the page's own sentence */
} mhd_error_map[] = {
    {"Request too big", "request_too_large", REST_X_GENERIC,
        REST_E_NOT_READABLE,
        "the request line or the headers are longer than this server "
        "accepts"},
    {"Request malformed", "bad_request", REST_X_GENERIC, REST_E_NOT_READABLE,
        NULL},
    {"Request content too large", "payload_too_large", REST_X_FILE_SIZE,
        REST_E_FILE_SIZE, NULL},
    {"Requested HTTP version is not supported", "http_version_not_supported",
        REST_X_GENERIC, REST_E_NOT_READABLE,
        "this server speaks HTTP/1.0 and HTTP/1.1"},
    {NULL, "bad_request", REST_X_GENERIC, REST_E_NOT_READABLE, NULL},
};

static _Atomic(create_fn) real_create;

static create_fn
library_create(void)
{
	create_fn f = atomic_load(&real_create);

	if (f == NULL) {
		/* POSIX allows the object-to-function pointer conversion. */
		*(void **)&f =
		    dlsym(RTLD_NEXT, "MHD_create_response_from_buffer");
		atomic_store(&real_create, f);
	}
	return f;
}

/*
 * Copy the text between open and close in page (size bytes, not
 * terminated) into out, without its tags ("<b>Content-Length</b>"); ""
 * when either is missing.
 */
static void
page_text(const char *page, size_t size, const char *open, const char *close,
    char *out, size_t outlen)
{
	const char *end = page + size, *a, *b;
	size_t n;

	out[0] = '\0';
	a = memmem(page, size, open, strlen(open));
	if (a == NULL)
		return;
	a += strlen(open);
	b = memmem(a, (size_t)(end - a), close, strlen(close));
	if (b == NULL)
		return;
	for (n = 0; a < b && n + 1 < outlen; a++) {
		if (*a == '<') {
			a = memchr(a, '>', (size_t)(b - a));
			if (a == NULL)
				break;
			continue;
		}
		out[n++] = *a;
	}
	out[n] = '\0';
}

/*
 * The JSON error for one of libmicrohttpd's pages, into out; its length,
 * or 0 when it does not fit.
 */
size_t
mhd_error_json(const char *page, size_t size, char *out, size_t outlen)
{
	const struct mhd_error_map *m;
	char title[128], detail[512];
	json_t *o;
	size_t n;

	page_text(page, size, "<title>", "</title>", title, sizeof(title));
	page_text(page, size, "<body>", "</body>", detail, sizeof(detail));
	for (m = mhd_error_map; m->title != NULL; m++)
		if (strcmp(m->title, title) == 0)
			break;
	if (m->detail != NULL)
		snprintf(detail, sizeof(detail), "%s", m->detail);
	else if (detail[0] == '\0')
		snprintf(detail, sizeof(detail), "%s",
		    title[0] != '\0' ? title : "bad request");
	o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "error", m->error, "detail",
	    detail, "exceptionClass", m->exception, "errorCode", m->code,
	    "message", detail);
	if (o == NULL)
		return 0;
	n = json_dumpb(o, out, outlen, JSON_COMPACT);
	json_decref(o);
	return n < outlen ? n : 0;
}

struct MHD_Response *
MHD_create_response_from_buffer(
    size_t size, void *buffer, enum MHD_ResponseMemoryMode mode)
{
	create_fn create = library_create();
	struct MHD_Response *r;
	char json[MHD_ERR_JSON_MAX];
	size_t n;

	if (create == NULL)
		return NULL;
	if (mode != MHD_RESPMEM_PERSISTENT || buffer == NULL ||
	    size < sizeof(MHD_ERR_PAGE) - 1 ||
	    memcmp(buffer, MHD_ERR_PAGE, sizeof(MHD_ERR_PAGE) - 1) != 0 ||
	    (n = mhd_error_json(buffer, size, json, sizeof(json))) == 0)
		return create(size, buffer, mode);
	r = create(n, json, MHD_RESPMEM_MUST_COPY);
	if (r != NULL) {
		MHD_add_response_header(
		    r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
		MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	}
	return r;
}
