/*
 * One uploaded image or bundle as module, artifact and set.  Each format's
 * reader fills a struct read_result; storing it is the same for all.
 */
#include "software.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "app.h"
#include "artifact.h"
#include "db.h"
#include "dist.h"
#include "fetch.h"
#include "hwcompat.h"
#include "log.h"
#include "module.h"
#include "rauc.h"
#include "rollout.h"
#include "swu.h"
#include "trust.h"
#include "upload.h"
#include "version.h"

/* What a reader found, in the terms of the model. */
struct read_result {
	const char *format; /* artifact format: "swu" or "raucb" */
	const char *ext;    /* default file name extension */
	char *version, *description;
	char *rauc_compatible;
	const char *scheme; /* the set's version scheme */
	struct swu_hw *hw;  /* owned */
	size_t nhw;
	char *info;            /* JSON text */
	const char *signature; /* artifact.signature */
};

#define SOFTWARE_URL_MAX 2048

/* n lower- or upper-case hex digits? */
static bool
software_hex_valid(const char *s, size_t n)
{
	return s && strlen(s) == n && strspn(s, "0123456789abcdefABCDEF") == n;
}

static void
read_result_clear(struct read_result *r)
{
	free(r->version);
	free(r->description);
	free(r->rauc_compatible);
	dist_free_hw(r->hw, r->nhw);
	free(r->info);
	memset(r, 0, sizeof(*r));
}

/* Does the file start like a cpio archive (newc or crc)? */
static bool
software_looks_cpio(int fd)
{
	char magic[6];

	return pread(fd, magic, sizeof(magic), 0) == sizeof(magic) &&
	       (memcmp(magic, "070701", 6) == 0 ||
	           memcmp(magic, "070702", 6) == 0);
}

/*
 * Check sw-description.sig as Debian's swupdate does (a detached CMS over
 * sw-description) against swupdate.keyring.  Returns the artifact's
 * signature status and sets the JSON it found; RESULT_INVALID when the
 * policy requires a signature that does not verify.
 */
static enum result
software_check_swu_sig(const struct app *app, const struct swu_info *info,
    const char **status, json_t **found, char *why, size_t whylen)
{
	const struct settings *s = app->settings;
	struct trust_signer signer;
	char *err = NULL;

	*found = NULL;
	if (!info->is_signed) {
		*status = "none";
		if (s->swu_signature == SIGNATURE_REQUIRE) {
			snprintf(why, whylen,
			    "the image is not signed (no sw-description.sig): "
			    "devices that check signatures refuse it");
			return RESULT_INVALID;
		}
		return RESULT_OK;
	}
	if (s->swu_signature == SIGNATURE_OFF || app->swu_keyring == NULL) {
		*status = "unchecked";
		return RESULT_OK;
	}
	if (trust_cms_verify_detached(app->swu_keyring, info->sig,
	        info->sig_len, info->sw_description, info->sw_description_len,
	        &signer, &err) == 0)
		*status = "verified";
	else
		*status = "failed";
	*found = json_pack("{s:s, s:s?, s:s?, s:s?, s:I}", "status", *status,
	    "error", err, "signer_subject", signer.subject, "signer_issuer",
	    signer.issuer, "signer_not_after", (json_int_t)signer.not_after);
	trust_signer_clear(&signer);
	if (err && s->swu_signature == SIGNATURE_REQUIRE) {
		snprintf(
		    why, whylen, "sw-description.sig does not verify: %s", err);
		free(err);
		json_decref(*found);
		*found = NULL;
		return RESULT_INVALID;
	}
	if (err)
		log_warnx("SWUpdate image signature not verified: %s", err);
	free(err);
	return RESULT_OK;
}

static enum result
software_read_swu(const struct app *app, int fd, struct read_result *out,
    char *why, size_t whylen)
{
	struct swu_info info;
	enum swu_err e = SWU_ERR_IO;
	enum result r;
	json_t *found, *j;

	memset(&info, 0, sizeof(info));
	if (lseek(fd, 0, SEEK_SET) == -1 ||
	    (e = swu_parse_fd(fd, &info)) != SWU_OK) {
		if (!software_looks_cpio(fd))
			snprintf(why, whylen,
			    "neither an SWUpdate image (.swu) nor a RAUC "
			    "bundle (.raucb); other files are artifacts of "
			    "a module: POST /api/v1/modules/{id}/artifacts");
		else
			snprintf(why, whylen, "not a valid SWUpdate image: %s",
			    swu_strerror(e));
		return RESULT_INVALID;
	}
	if ((r = software_check_swu_sig(app, &info, &out->signature, &found,
	         why, whylen)) != RESULT_OK) {
		swu_info_clear(&info);
		return r;
	}
	out->format = "swu";
	out->ext = "swu";
	out->scheme = "swupdate";
	out->version = info.version;
	out->description = info.description;
	out->hw = info.hw;
	out->nhw = info.nhw;
	j = json_pack("{s:b, s:I}", "signed", info.is_signed, "entries",
	    (json_int_t)info.nentries);
	if (found)
		json_object_set_new(j, "signature", found);
	out->info = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	/* The strings and the rows now belong to *out. */
	info.version = info.description = NULL;
	info.hw = NULL;
	info.nhw = 0;
	swu_info_clear(&info);
	return RESULT_OK;
}

static enum result
software_read_rauc(const struct app *app, int fd,
    const struct software_hints *hints, struct read_result *out, char *why,
    size_t whylen)
{
	const struct settings *s = app->settings;
	const struct trust_store *keyring =
	    s->rauc_signature == SIGNATURE_OFF ? NULL : app->rauc_keyring;
	const char *compatible;
	struct rauc_info info;
	enum rauc_err e;
	char detail[512] = "";
	char *model, *revision;
	json_t *j;

	memset(&info, 0, sizeof(info));
	e = rauc_parse_fd(fd, keyring, s->rauc_signature == SIGNATURE_REQUIRE,
	    &info, detail, sizeof(detail));
	if (e != RAUC_OK) {
		snprintf(why, whylen, "not a valid RAUC bundle: %s",
		    detail[0] ? detail : rauc_strerror(e));
		return RESULT_INVALID;
	}
	if (info.format == RAUC_FORMAT_CRYPT_ENCRYPTED &&
	    !s->rauc_accept_encrypted) {
		snprintf(why, whylen,
		    "encrypted RAUC bundles are refused here "
		    "(rauc.accept_encrypted)");
		goto invalid;
	}
	compatible = info.compatible ? info.compatible : hints->compatible;
	if (info.format == RAUC_FORMAT_CRYPT_ENCRYPTED &&
	    (info.version == NULL && hints->version == NULL) &&
	    compatible == NULL) {
		snprintf(why, whylen,
		    "the bundle is encrypted, its manifest unreadable: give "
		    "its version and compatible with ?version=&compatible=");
		goto invalid;
	}
	if (info.version == NULL && hints->version == NULL) {
		snprintf(why, whylen,
		    "the bundle names no version ([update] version): give "
		    "one with ?version=");
		goto invalid;
	}
	if (compatible == NULL) {
		snprintf(why, whylen,
		    "the bundle is encrypted: give its compatible with "
		    "?compatible=");
		goto invalid;
	}
	out->format = "raucb";
	out->ext = "raucb";
	out->scheme = "semver";
	out->version = xstrdup(info.version ? info.version : hints->version);
	out->description = info.description ? xstrdup(info.description) : NULL;
	out->rauc_compatible = xstrdup(compatible);
	hwcompat_split(
	    s->rauc_compatible_pattern, compatible, &model, &revision);
	out->hw = xcalloc(1, sizeof(*out->hw));
	out->hw[0].board = model;
	out->hw[0].revision = revision;
	out->nhw = 1;
	j = rauc_info_json(&info);
	out->info = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	out->signature = rauc_sig_name(info.sig);
	if (info.sig == RAUC_SIG_FAILED)
		log_warnx("RAUC bundle signature not verified: %s",
		    info.sig_error ? info.sig_error : "unknown error");
	rauc_info_clear(&info);
	return RESULT_OK;
invalid:
	rauc_info_clear(&info);
	return RESULT_INVALID;
}

/*
 * Read fd as what its content is.  plain_ok: anything that is neither a
 * .swu nor a RAUC bundle is a plain file; else it is refused.
 */
static enum result
software_read(const struct app *app, int fd, const struct software_hints *hints,
    bool plain_ok, struct read_result *out, char *why, size_t whylen)
{
	memset(out, 0, sizeof(*out));
	if (rauc_detect(fd))
		return software_read_rauc(app, fd, hints, out, why, whylen);
	if (plain_ok && !software_looks_cpio(fd)) {
		out->format = "file";
		out->signature = "none";
		return RESULT_OK;
	}
	return software_read_swu(app, fd, out, why, whylen);
}

/*
 * Another name for a module when (os, name, version) is taken, as when
 * images of one name and version exist for other hardware: the sha256
 * prefix before the extension.
 */
static char *
software_other_name(const char *filename, const char *sha256)
{
	const char *dot = strrchr(filename, '.');

	if (dot == NULL || dot == filename)
		return xasprintf("%s-%.8s", filename, sha256);
	return xasprintf(
	    "%.*s-%.8s%s", (int)(dot - filename), filename, sha256, dot);
}

enum result
software_store(struct db *db, const struct app *app, struct upload *u,
    const struct software_hints *hints, int64_t *id, char *why, size_t whylen)
{
	static const struct software_hints none;
	struct read_result rr = {0};
	struct dist d;
	enum result r;
	char *filename = NULL, *name = NULL, final[2048] = "", scheme[16];
	int64_t other = 0, module_id, artifact_id, os_type;
	int fd = upload_fd(u);

	if (hints == NULL)
		hints = &none;
	if (hints->version && !version_valid(hints->version)) {
		snprintf(why, whylen,
		    "version: printable ASCII without spaces, "
		    "at most 255 characters");
		return RESULT_INVALID;
	}
	if ((r = software_read(app, fd, hints, false, &rr, why, whylen)) !=
	    RESULT_OK)
		return r;
	if (!version_valid(rr.version)) {
		snprintf(why, whylen,
		    "version '%.*s' is not usable: printable "
		    "ASCII without spaces, at most 255 characters",
		    (int)utf8_cut(rr.version, 64), rr.version);
		r = RESULT_INVALID;
		goto done;
	}
	if (upload_filename(u) != NULL)
		filename = xstrdup(upload_filename(u));
	else
		filename = xasprintf("software-%s.%s", rr.version, rr.ext);
	if (!artifact_filename_valid(filename)) {
		snprintf(why, whylen,
		    "file name must be a plain name of at most %d characters "
		    "[A-Za-z0-9._+-]",
		    ARTIFACT_FILENAME_MAX);
		r = RESULT_INVALID;
		goto done;
	}
	/* Named as the file, so that devices see the chunk name they saw
	 * before sets had modules. */
	name = xstrdup(filename);
	if (db_begin(db) == -1) {
		r = RESULT_ERROR;
		goto done;
	}
	if ((r = dist_conflicts(db, rr.version, rr.hw, rr.nhw, &other)) !=
	    RESULT_OK) {
		if (r == RESULT_CONFLICT) {
			struct dist od;

			/* Named as the operator knows it: its file name. */
			if (dist_load(db, other, false, &od) == RESULT_OK) {
				snprintf(why, whylen,
				    "%s already has version %s for the same "
				    "hardware; delete it or give this image "
				    "another version",
				    od.name, rr.version);
				dist_clear(&od);
			} else
				snprintf(why, whylen,
				    "version %s is already uploaded for the "
				    "same hardware",
				    rr.version);
		}
		goto fail;
	}
	if ((r = module_type_find(db, "os", &os_type)) != RESULT_OK)
		goto fail;
	r = module_create(
	    db, os_type, name, rr.version, NULL, rr.description, &module_id);
	if (r == RESULT_CONFLICT) {
		free(name);
		name = software_other_name(filename, upload_sha256(u));
		r = module_create(db, os_type, name, rr.version, NULL,
		    rr.description, &module_id);
	}
	if (r != RESULT_OK) {
		if (r == RESULT_CONFLICT)
			snprintf(why, whylen,
			    "a module named %s version %s exists already", name,
			    rr.version);
		goto fail;
	}
	memset(&d, 0, sizeof(d));
	d.name = name;
	d.version = rr.version;
	d.description = rr.description;
	snprintf(scheme, sizeof(scheme), "%s", rr.scheme);
	d.version_scheme = scheme;
	d.rauc_compatible = rr.rauc_compatible;
	d.hw = rr.hw;
	d.nhw = rr.nhw;
	if ((r = dist_type_find(db, "os", &d.type_id)) != RESULT_OK ||
	    (r = dist_insert(db, &d, id)) != RESULT_OK ||
	    (r = dist_add_module(db, *id, module_id)) != RESULT_OK ||
	    (r = dist_update_complete(db, *id)) != RESULT_OK)
		goto fail;
	r = artifact_insert_upload(db, app->artifact_dir, module_id, u,
	    filename, rr.format, rr.info, rr.signature, &artifact_id, final,
	    sizeof(final));
	if (r != RESULT_OK) {
		if (r == RESULT_ERROR && final[0] == '\0' && errno)
			snprintf(why, whylen, "cannot store the file: %s",
			    strerror(errno));
		goto fail;
	}
	if (db_commit(db) == -1) {
		r = RESULT_ERROR;
		goto fail;
	}
	artifact_sync_dir(app->artifact_dir);
	rollout_catalog_changed();
	log_info("stored software %lld: %s (%s) version %s, %llu bytes",
	    (long long)*id, filename, rr.format, rr.version,
	    (unsigned long long)upload_size(u));
	r = RESULT_OK;
	goto done;
fail:
	db_rollback(db);
	if (final[0])
		unlink(final);
done:
	free(filename);
	free(name);
	read_result_clear(&rr);
	return r;
}

/* Does a hash the client announced match (case-insensitive)? */
static bool
software_hash_ok(const char *want, const char *have)
{
	return want == NULL || (have && strcasecmp(want, have) == 0);
}

/* A live module that may take artifacts, inside the caller's txn. */
static enum result
software_module_open(struct db *db, int64_t module_id, char *why, size_t len)
{
	struct module m;
	enum result r;

	if ((r = module_load(db, module_id, false, &m)) != RESULT_OK)
		return r;
	if (m.deleted)
		r = RESULT_NOTFOUND;
	else if (module_locked(db, module_id)) {
		snprintf(why, len,
		    "module %lld is locked: devices were given a set holding "
		    "it; make a new module",
		    (long long)module_id);
		r = RESULT_CONFLICT;
	}
	module_clear(&m);
	return r;
}

enum result
software_add_artifact(struct db *db, const struct app *app, int64_t module_id,
    struct upload *u, const struct software_expect *expect, int64_t *id,
    char *why, size_t whylen)
{
	static const struct software_hints none;
	struct read_result rr = {0};
	const char *filename = upload_filename(u);
	char final[2048] = "";
	enum result r;

	if (filename == NULL || !artifact_filename_valid(filename)) {
		snprintf(why, whylen,
		    "name the file (?filename= or the multipart file name): a "
		    "plain name of at most %d characters [A-Za-z0-9._+-]",
		    ARTIFACT_FILENAME_MAX);
		return RESULT_INVALID;
	}
	if (expect &&
	    (!software_hash_ok(expect->md5, upload_md5(u)) ||
	        !software_hash_ok(expect->sha1, upload_sha1(u)) ||
	        !software_hash_ok(expect->sha256, upload_sha256(u)))) {
		snprintf(why, whylen,
		    "the file's hashes do not match the ones announced "
		    "(md5sum, sha1sum, sha256sum)");
		return RESULT_INVALID;
	}
	if ((r = software_read(app, upload_fd(u), &none, true, &rr, why,
	         whylen)) != RESULT_OK)
		return r;
	/* SWUpdate picks artifacts by name: a plain file named so would be
	 * fetched and fail as a corrupt image on every device. */
	if (strcmp(rr.format, "swu") != 0 && strlen(filename) > 4 &&
	    strcmp(filename + strlen(filename) - 4, ".swu") == 0) {
		snprintf(why, whylen,
		    "%s is named .swu but is not an SWUpdate image: swupdate "
		    "would download it and fail",
		    filename);
		r = RESULT_INVALID;
		goto done;
	}
	if (db_begin(db) == -1) {
		r = RESULT_ERROR;
		goto done;
	}
	if ((r = software_module_open(db, module_id, why, whylen)) != RESULT_OK)
		goto fail;
	r = artifact_insert_upload(db, app->artifact_dir, module_id, u,
	    filename, rr.format, rr.info, rr.signature, id, final,
	    sizeof(final));
	if (r == RESULT_CONFLICT)
		snprintf(why, whylen,
		    "module %lld has an artifact named %s already",
		    (long long)module_id, filename);
	if (r != RESULT_OK)
		goto fail;
	if (db_commit(db) == -1) {
		r = RESULT_ERROR;
		goto fail;
	}
	artifact_sync_dir(app->artifact_dir);
	rollout_catalog_changed();
	log_info("module %lld: stored artifact %s (%s), %llu bytes",
	    (long long)module_id, filename, rr.format,
	    (unsigned long long)upload_size(u));
	r = RESULT_OK;
	goto done;
fail:
	db_rollback(db);
	if (final[0])
		unlink(final);
done:
	read_result_clear(&rr);
	return r;
}

/* An external URL: http or https, printable ASCII, bounded. */
static bool
software_url_valid(const char *url)
{
	size_t n = strlen(url);

	if (n > SOFTWARE_URL_MAX || (strncmp(url, "http://", 7) != 0 &&
	                                strncmp(url, "https://", 8) != 0))
		return false;
	for (size_t i = 0; i < n; i++)
		if (url[i] <= ' ' || url[i] > '~')
			return false;
	return true;
}

/* The last path segment of a URL, without query or fragment. */
static char *
software_url_name(const char *url)
{
	const char *p = strstr(url, "://"), *end, *slash;

	p = p ? p + 3 : url;
	end = p + strcspn(p, "?#");
	slash = memrchr(p, '/', (size_t)(end - p));
	if (slash == NULL || slash + 1 >= end)
		return NULL;
	return xstrndup(slash + 1, (size_t)(end - slash - 1));
}

enum result
software_add_external(struct db *db, const struct app *app, int64_t module_id,
    json_t *body, int64_t *id, char *why, size_t whylen)
{
	static const struct software_hints none;
	const char *url = json_string_value(json_object_get(body, "url"));
	const char *sha1 = json_string_value(json_object_get(body, "sha1"));
	const char *md5 = json_string_value(json_object_get(body, "md5"));
	const char *sha256 = json_string_value(json_object_get(body, "sha256"));
	json_t *size = json_object_get(body, "size");
	const char *fn = json_string_value(json_object_get(body, "filename"));
	struct read_result rr = {0};
	struct upload *u = NULL;
	char *filename = NULL;
	enum result r = RESULT_INVALID;

	rr.format = "file";
	rr.signature = "none";
	if (url == NULL || !software_url_valid(url)) {
		snprintf(why, whylen,
		    "url: an http or https URL of at most %d "
		    "printable characters",
		    SOFTWARE_URL_MAX);
		return RESULT_INVALID;
	}
	if (!json_is_integer(size) || json_integer_value(size) < 0 ||
	    (uint64_t)json_integer_value(size) >
	        app->settings->upload_max_size) {
		snprintf(why, whylen,
		    "size: the file's size in bytes, at most "
		    "upload.max_size");
		return RESULT_INVALID;
	}
	if (!software_hex_valid(sha1, 40) ||
	    (md5 && !software_hex_valid(md5, 32)) ||
	    (sha256 && !software_hex_valid(sha256, 64))) {
		snprintf(why, whylen,
		    "sha1 (required), md5 and sha256: hex "
		    "digests");
		return RESULT_INVALID;
	}
	filename = fn ? xstrdup(fn) : software_url_name(url);
	if (filename == NULL || !artifact_filename_valid(filename)) {
		snprintf(why, whylen,
		    "filename: a plain name of at most %d characters "
		    "[A-Za-z0-9._+-] (the URL's last segment is not one)",
		    ARTIFACT_FILENAME_MAX);
		goto done;
	}
	if (json_is_true(json_object_get(body, "fetch"))) {
		if ((r = fetch_url(app, url, (uint64_t)json_integer_value(size),
		         &u, why, whylen)) != RESULT_OK)
			goto done;
		if (upload_size(u) != (uint64_t)json_integer_value(size) ||
		    strcasecmp(upload_sha1(u), sha1) != 0 ||
		    !software_hash_ok(md5, upload_md5(u)) ||
		    !software_hash_ok(sha256, upload_sha256(u))) {
			snprintf(why, whylen,
			    "the fetched file (%llu bytes, sha1 %s) does not "
			    "match the size and hashes given",
			    (unsigned long long)upload_size(u), upload_sha1(u));
			r = RESULT_INVALID;
			goto done;
		}
		if ((r = software_read(app, upload_fd(u), &none, true, &rr, why,
		         whylen)) != RESULT_OK)
			goto done;
		/* Fetched hashes are known: fill in the ones not given. */
		if (md5 == NULL)
			md5 = upload_md5(u);
		if (sha256 == NULL)
			sha256 = upload_sha256(u);
	}
	if (db_begin(db) == -1) {
		r = RESULT_ERROR;
		goto done;
	}
	if ((r = software_module_open(db, module_id, why, whylen)) != RESULT_OK)
		goto fail;
	r = artifact_insert_external(db, module_id, filename, url,
	    json_integer_value(size), md5, sha1, sha256, rr.format, rr.info,
	    rr.signature, id);
	if (r == RESULT_CONFLICT)
		snprintf(why, whylen,
		    "module %lld has an artifact named %s already",
		    (long long)module_id, filename);
	if (r != RESULT_OK)
		goto fail;
	if (db_commit(db) == -1) {
		r = RESULT_ERROR;
		goto fail;
	}
	rollout_catalog_changed();
	log_info("module %lld: external artifact %s", (long long)module_id,
	    filename);
	r = RESULT_OK;
	goto done;
fail:
	db_rollback(db);
done:
	upload_free(u);
	free(filename);
	read_result_clear(&rr);
	return r;
}

enum result
software_delete_artifact(struct db *db, const struct app *app,
    int64_t module_id, int64_t aid, const char **why)
{
	static const char sql[] = "DELETE FROM artifact WHERE id = ?1";
	struct artifact a;
	sqlite3_stmt *st;
	enum result r;
	char path[2048], detail[256] = "";

	*why = NULL;
	memset(&a, 0, sizeof(a));
	if (db_begin(db) == -1)
		return RESULT_ERROR;
	if ((r = artifact_load(db, aid, &a)) != RESULT_OK)
		goto fail;
	if (a.module_id != module_id) {
		r = RESULT_NOTFOUND;
		goto fail;
	}
	if ((r = software_module_open(db, module_id, detail, sizeof(detail))) !=
	    RESULT_OK) {
		if (r == RESULT_CONFLICT)
			*why = "the module is locked: devices were given a set "
			       "holding it";
		goto fail;
	}
	if ((st = db_prepare(db, sql)) == NULL) {
		r = RESULT_ERROR;
		goto fail;
	}
	db_bind_int64(st, 1, aid);
	if ((r = db_step_done(db, st, __func__)) != RESULT_OK)
		goto fail;
	if (db_commit(db) == -1) {
		r = RESULT_ERROR;
		goto fail;
	}
	rollout_catalog_changed();
	if (a.path) {
		snprintf(
		    path, sizeof(path), "%s/%s", app->artifact_dir, a.path);
		if (unlink(path) == -1 && errno != ENOENT)
			log_warn("%s: %s", __func__, path);
	}
	artifact_clear(&a);
	return RESULT_OK;
fail:
	db_rollback(db);
	artifact_clear(&a);
	return r;
}
