/*
 * Static files of the dashboard.  The request path is already split into
 * decoded segments without "." or ".."; a segment holding a '/' or starting
 * with a dot is refused, the joined path is resolved with realpath(3) and
 * must stay inside web_dir, and only regular files are sent (sendfile).
 */
#include "ui.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app.h"
#include "http.h"
#include "log.h"
#include "settings.h"

/* Extension to Content-Type; anything else is not served. */
/* clang-format off */
static const struct { const char *ext, *type; } ui_types[] = {
	{ ".html",  "text/html; charset=utf-8" },
	{ ".js",    "text/javascript; charset=utf-8" },
	{ ".mjs",   "text/javascript; charset=utf-8" },
	{ ".css",   "text/css; charset=utf-8" },
	{ ".json",  "application/json" },
	{ ".svg",   "image/svg+xml" },
	{ ".png",   "image/png" },
	{ ".ico",   "image/x-icon" },
	{ ".woff2", "font/woff2" },
	{ ".txt",   "text/plain; charset=utf-8" },
};
/* clang-format on */

#define UI_CSP                                                                 \
	"default-src 'self'; img-src 'self' data:; style-src 'self'; "         \
	"script-src 'self'; connect-src 'self'; frame-ancestors 'none'; "      \
	"base-uri 'none'; form-action 'self'"

static const char *
ui_type(const char *path)
{
	const char *dot = strrchr(path, '.');

	for (size_t i = 0; dot && i < NELEM(ui_types); i++)
		if (strcmp(dot, ui_types[i].ext) == 0)
			return ui_types[i].type;
	return NULL;
}

void
ui_get_root(struct request *req)
{
	http_set_header(req, "Location", "/ui/");
	http_reply_empty(req, 302);
}

static void
ui_not_found(struct request *req)
{
	http_reply_text(req, 404, "text/plain; charset=utf-8", "not found\n");
}

void
ui_get_file(struct request *req)
{
	char rel[PATH_MAX], full[PATH_MAX], root[PATH_MAX], real[PATH_MAX];
	char etag[64];
	const char *type, *inm;
	size_t n = 0, rlen;
	struct stat sb;
	int fd;

	rel[0] = '\0';
	for (int i = 0; i < req->nparams; i++) {
		const char *seg = req->params[i];

		if (seg[0] == '.' || strchr(seg, '/') != NULL ||
		    n + strlen(seg) + 2 >= sizeof(rel)) {
			ui_not_found(req);
			return;
		}
		n += (size_t)snprintf(
		    rel + n, sizeof(rel) - n, "%s%s", i ? "/" : "", seg);
	}
	if (n == 0)
		snprintf(rel, sizeof(rel), "index.html");
	if (realpath(req->app->settings->web_dir, root) == NULL) {
		log_warn("ui.web_dir %s", req->app->settings->web_dir);
		ui_not_found(req);
		return;
	}
	if ((size_t)snprintf(full, sizeof(full), "%s/%s", root, rel) >=
	    sizeof(full)) {
		ui_not_found(req);
		return;
	}
	rlen = strlen(root);
	if ((type = ui_type(rel)) == NULL || realpath(full, real) == NULL ||
	    strncmp(real, root, rlen) != 0 || real[rlen] != '/' ||
	    (fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		ui_not_found(req);
		return;
	}
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		close(fd);
		ui_not_found(req);
		return;
	}
	snprintf(etag, sizeof(etag), "\"%llx-%llx\"",
	    (unsigned long long)sb.st_mtime, (unsigned long long)sb.st_size);
	http_set_header(req, "ETag", etag);
	http_set_header(req, "Cache-Control", "no-cache");
	http_set_header(req, "Content-Security-Policy", UI_CSP);
	http_set_header(req, "X-Frame-Options", "DENY");
	http_set_header(req, "Referrer-Policy", "same-origin");
	if ((inm = http_header(req, "If-None-Match")) &&
	    strcmp(inm, etag) == 0) {
		close(fd);
		http_reply_empty(req, 304);
		return;
	}
	http_reply_fd(req, 200, fd, 0, (uint64_t)sb.st_size, type);
}
