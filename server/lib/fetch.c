/*
 * libcurl's easy interface, one transfer at a time on the calling thread.
 * No bytes are kept: the caller frees the upload.
 *
 * libcurl is loaded on the first fetch, not linked: it brings some
 * seventeen libraries of its own (Kerberos, LDAP, SSH, ...) whose pages
 * would otherwise weigh on every idle daemon, for a feature operators use
 * now and then.
 */
#include "fetch.h"

#include <curl/curl.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "log.h"
#include "settings.h"
#include "upload.h"
#include "util.h"

struct fetch_sink {
	struct upload *u;
	uint64_t expect, got;
	bool too_long;
};

static size_t
fetch_write(char *data, size_t size, size_t n, void *arg)
{
	struct fetch_sink *s = arg;
	size_t len = size * n;

	s->got += len;
	if (s->got > s->expect) {
		s->too_long = true;
		return 0; /* makes curl stop with CURLE_WRITE_ERROR */
	}
	return upload_write(s->u, data, len) == UPLOAD_OK ? len : 0;
}

#define FETCH_LIBCURL "libcurl.so.4"

/* The libcurl functions fetch uses, from dlsym. */
static struct {
	CURLcode (*global_init)(long);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_perform)(CURL *);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	void (*easy_cleanup)(CURL *);
	const char *(*easy_strerror)(CURLcode);
	bool loaded;
	char error[256];
} curl;

static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;

/* dlsym into a function pointer (POSIX allows the conversion). */
#define FETCH_SYM(h, field, name)                                              \
	(*(void **)(&curl.field) = dlsym(h, name)) != NULL

static void
fetch_init(void)
{
	void *h = dlopen(FETCH_LIBCURL, RTLD_NOW | RTLD_LOCAL);

	if (h == NULL) {
		snprintf(curl.error, sizeof(curl.error), "cannot load %s: %s",
		    FETCH_LIBCURL, dlerror());
		log_warnx("fetch: %s", curl.error);
		return;
	}
	if (!(FETCH_SYM(h, global_init, "curl_global_init") &&
	        FETCH_SYM(h, easy_init, "curl_easy_init") &&
	        FETCH_SYM(h, easy_setopt, "curl_easy_setopt") &&
	        FETCH_SYM(h, easy_perform, "curl_easy_perform") &&
	        FETCH_SYM(h, easy_getinfo, "curl_easy_getinfo") &&
	        FETCH_SYM(h, easy_cleanup, "curl_easy_cleanup") &&
	        FETCH_SYM(h, easy_strerror, "curl_easy_strerror"))) {
		snprintf(curl.error, sizeof(curl.error),
		    "%s lacks a function fetch needs", FETCH_LIBCURL);
		log_warnx("fetch: %s", curl.error);
		return;
	}
	if (curl.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(
		    curl.error, sizeof(curl.error), "curl_global_init failed");
		return;
	}
	curl.loaded = true;
}

enum result
fetch_url(const struct app *app, const char *url, uint64_t expect,
    struct upload **out, char *why, size_t whylen)
{
	struct fetch_sink sink = {.expect = expect};
	char errbuf[CURL_ERROR_SIZE] = "";
	long status = 0;
	CURLcode rc;
	CURL *c;

	*out = NULL;
	pthread_once(&fetch_once, fetch_init);
	if (!curl.loaded) {
		snprintf(why, whylen, "fetch: %s", curl.error);
		return RESULT_ERROR;
	}
	if ((sink.u = upload_new(app->tmp_dir, expect)) == NULL) {
		snprintf(why, whylen, "cannot create a temp file");
		return RESULT_ERROR;
	}
	if ((c = curl.easy_init()) == NULL) {
		upload_free(sink.u);
		snprintf(why, whylen, "cannot start the transfer");
		return RESULT_ERROR;
	}
	curl.easy_setopt(c, CURLOPT_URL, url);
	curl.easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl.easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl.easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl.easy_setopt(c, CURLOPT_MAXREDIRS, (long)FETCH_REDIRECTS_MAX);
	curl.easy_setopt(
	    c, CURLOPT_TIMEOUT, (long)app->settings->fetch_timeout);
	curl.easy_setopt(
	    c, CURLOPT_CONNECTTIMEOUT, (long)app->settings->fetch_timeout);
	curl.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl.easy_setopt(c, CURLOPT_NOPROGRESS, 1L);
	curl.easy_setopt(c, CURLOPT_USERAGENT, "falconet");
	curl.easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl.easy_setopt(c, CURLOPT_WRITEFUNCTION, fetch_write);
	curl.easy_setopt(c, CURLOPT_WRITEDATA, &sink);
	/* An error status ends the transfer before its page is read. */
	curl.easy_setopt(c, CURLOPT_FAILONERROR, 1L);
	/* Refuse at once what announces itself as too large. */
	curl.easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)expect);
	rc = curl.easy_perform(c);
	curl.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl.easy_cleanup(c);
	/* The status first: an error page may be larger than expected. */
	if (status != 0 && status != 200 &&
	    (rc == CURLE_OK || rc == CURLE_HTTP_RETURNED_ERROR ||
	        rc == CURLE_FILESIZE_EXCEEDED || rc == CURLE_WRITE_ERROR)) {
		utf8_snprintf(
		    why, whylen, "fetch: %s answered %ld", url, status);
		goto fail;
	}
	if (sink.too_long || rc == CURLE_FILESIZE_EXCEEDED) {
		utf8_snprintf(why, whylen,
		    "fetch: %s sent more than the %llu bytes "
		    "announced",
		    url, (unsigned long long)expect);
		goto fail;
	}
	if (rc != CURLE_OK) {
		utf8_snprintf(why, whylen, "fetch: %s",
		    errbuf[0] ? errbuf : curl.easy_strerror(rc));
		goto fail;
	}
	if (upload_finish(sink.u) != UPLOAD_OK) {
		snprintf(why, whylen, "fetch: cannot write the temp file");
		upload_free(sink.u);
		return RESULT_ERROR;
	}
	*out = sink.u;
	return RESULT_OK;
fail:
	upload_free(sink.u);
	return RESULT_INVALID;
}
