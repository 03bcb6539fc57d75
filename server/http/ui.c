/*
 * Static files of the dashboard.  The request path is already split into
 * decoded segments without "." or ".."; a segment holding a '/' or starting
 * with a dot is refused, the joined path is resolved with realpath(3) and
 * must stay inside web_dir, and only regular files are sent (sendfile).
 *
 * Text files may have a gzip copy beside them, FILE.gz (make web-gz
 * writes them with gzip -9 -n).  It is sent, with Content-Encoding: gzip,
 * to a client whose Accept-Encoding takes gzip, as long as it is a regular
 * file no older than FILE (an edited FILE is sent as it is until its copy
 * is made again).  Each encoding has its own ETag, and Vary says the
 * answer depends on Accept-Encoding.
 */
#include "ui.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app.h"
#include "http.h"
#include "log.h"
#include "settings.h"

/* Extension to Content-Type, and whether a FILE.gz copy is looked for;
 * anything else is not served. */
/* clang-format off */
static const struct { const char *ext, *type; bool gz; } ui_types[] = {
	{ ".html",  "text/html; charset=utf-8",       true },
	{ ".js",    "text/javascript; charset=utf-8", true },
	{ ".mjs",   "text/javascript; charset=utf-8", true },
	{ ".css",   "text/css; charset=utf-8",        true },
	{ ".json",  "application/json",               true },
	{ ".svg",   "image/svg+xml",                  true },
	{ ".png",   "image/png",                      false },
	{ ".ico",   "image/x-icon",                   false },
	{ ".woff2", "font/woff2",                     false },
	{ ".txt",   "text/plain; charset=utf-8",      true },
};
/* clang-format on */

/* An Accept-Encoding value is read up to this length; longer is refused
 * gzip (browsers send a few dozen bytes). */
#define UI_ACCEPT_ENCODING_MAX 256

#define UI_CSP                                                                 \
	"default-src 'self'; img-src 'self' data:; style-src 'self'; "         \
	"script-src 'self'; connect-src 'self'; frame-ancestors 'none'; "      \
	"base-uri 'none'; form-action 'self'"

static const char *
ui_type(const char *path, bool *gz)
{
	const char *dot = strrchr(path, '.');

	for (size_t i = 0; dot && i < NELEM(ui_types); i++)
		if (strcmp(dot, ui_types[i].ext) == 0) {
			*gz = ui_types[i].gz;
			return ui_types[i].type;
		}
	return NULL;
}

/*
 * Whether an Accept-Encoding header takes gzip: a "gzip", "x-gzip" or "*"
 * coding whose q is not zero (RFC 9110, 12.5.3).  Codings are separated by
 * commas, parameters by semicolons; anything unparsable counts as no.
 */
static bool
ui_accepts_gzip(const char *ae)
{
	const char *p = ae;

	if (ae == NULL ||
	    strnlen(ae, UI_ACCEPT_ENCODING_MAX + 1) > UI_ACCEPT_ENCODING_MAX)
		return false;
	while (*p) {
		const char *tok, *end;
		size_t len;
		bool zero = false;

		p += strspn(p, " \t,");
		tok = p;
		len = strcspn(p, " \t,;");
		p += len;
		end = p + strcspn(p, ",");
		/* Parameters: only q matters; q=0, 0.0, 0.00... refuses. */
		for (const char *q = p; q < end; q++) {
			if (*q != ';')
				continue;
			q += 1 + strspn(q + 1, " \t");
			if ((q[0] == 'q' || q[0] == 'Q') && q[1] == '=' &&
			    q[2] == '0') {
				zero = true;
				for (const char *d = q + 3;
				     d < end && *d != ';' && *d != ' ' &&
				     *d != '\t';
				     d++)
					if (*d != '.' && *d != '0')
						zero = false;
			}
		}
		if (!zero &&
		    ((len == 4 && strncasecmp(tok, "gzip", 4) == 0) ||
		        (len == 6 && strncasecmp(tok, "x-gzip", 6) == 0) ||
		        (len == 1 && tok[0] == '*')))
			return true;
		p = end;
	}
	return false;
}

/* The gzip copy of the open file real, or -1: a regular FILE.gz, not a
 * symbolic link, no older than the file itself. */
static int
ui_open_gz(const char *real, const struct stat *orig, struct stat *sb)
{
	char gz[PATH_MAX];
	int fd;

	if ((size_t)snprintf(gz, sizeof(gz), "%s.gz", real) >= sizeof(gz) ||
	    (fd = open(gz, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return -1;
	if (fstat(fd, sb) == -1 || !S_ISREG(sb->st_mode) ||
	    sb->st_mtim.tv_sec < orig->st_mtim.tv_sec ||
	    (sb->st_mtim.tv_sec == orig->st_mtim.tv_sec &&
	        sb->st_mtim.tv_nsec < orig->st_mtim.tv_nsec)) {
		close(fd);
		return -1;
	}
	return fd;
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
	struct stat sb, gzsb;
	bool gz = false;
	int fd, gzfd = -1;

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
	if ((type = ui_type(rel, &gz)) == NULL ||
	    realpath(full, real) == NULL || strncmp(real, root, rlen) != 0 ||
	    real[rlen] != '/' ||
	    (fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		ui_not_found(req);
		return;
	}
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		close(fd);
		ui_not_found(req);
		return;
	}
	if (gz && ui_accepts_gzip(http_header(req, "Accept-Encoding")) &&
	    (gzfd = ui_open_gz(real, &sb, &gzsb)) != -1) {
		close(fd);
		fd = gzfd;
		sb = gzsb;
		http_set_header(req, "Content-Encoding", "gzip");
	}
	snprintf(etag, sizeof(etag), "\"%llx-%llx%s\"",
	    (unsigned long long)sb.st_mtime, (unsigned long long)sb.st_size,
	    gzfd != -1 ? "-gz" : "");
	if (gz)
		http_set_header(req, "Vary", "Accept-Encoding");
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
