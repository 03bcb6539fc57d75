/*
 * The hawkBit DDI controller API.  Every handler starts in
 * ddi_begin (tenant, controller id, device row); the root poll only reads,
 * except when it registers a device or creates an action, and records
 * last-seen through the coalescer.  JSON shapes follow what SWUpdate,
 * rauc-hawkbit-updater and the other reference clients strictly need:
 * ids as strings, sleep as HH:MM:SS, download and download-http links.
 */
#include "ddi.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "action.h"
#include "app.h"
#include "artifact.h"
#include "db.h"
#include "device.h"
#include "dist.h"
#include "http.h"
#include "log.h"
#include "ratelimit.h"
#include "refused.h"
#include "rollout.h"
#include "seen.h"
#include "settings.h"
#include "sysconf.h"

#define DDI_NOT_FOUND "hawkbit.server.error.repo.entityNotFound"
#define DDI_NOT_READABLE "hawkbit.server.error.rest.body.notReadable"
#define DDI_BAD_ATTRIBUTES "hawkbit.server.error.repo.invalidTargetAttributes"
#define DDI_QUOTA "hawkbit.server.error.quota.tooManyEntries"
#define DDI_NOT_CANCELABLE "hawkbit.server.error.action.notCancelable"
#define DDI_GONE "hawkbit.server.error.action.closed"
#define DDI_CONSTRAINT "hawkbit.server.error.repo.constraintViolation"
#define DDI_HISTORY_MAX 100
#define DDI_REGISTER_WINDOW 60 /* seconds: register_rate is per minute */

/* What ddi_begin found. */
struct ddi_ctx {
	struct db *db;
	const char *tenant, *cid;
	char *cid_enc;   /* percent-encoded for hrefs */
	bool registered; /* by this request */
	int running_interval;
};

static void
ddi_ctx_clear(struct ddi_ctx *c)
{
	free(c->cid_enc);
}

/* Is the Accept header satisfiable by a JSON answer? */
static bool
ddi_accepts_json(struct request *req)
{
	const char *a = http_header(req, "Accept");

	return a == NULL || strcasestr(a, "json") != NULL ||
	       strstr(a, "*/*") != NULL ||
	       strcasestr(a, "application/*") != NULL;
}

/*
 * May this unknown device register itself (open and tofu modes, no
 * GatewayToken or certificate vouching for it)?  Registrations count per
 * address (IPv6: per /64) and minute, and stop while register_feed holds
 * register_max devices.  Answers 429 and returns false if not; *key gets
 * the address's key, to take the attempt back if no device was made.
 */
static bool
ddi_may_self_register(
    struct request *req, struct ddi_ctx *c, char *key, size_t keylen)
{
	const struct settings *s = req->app->settings;
	char addr[RATELIMIT_KEY_MAX], retry[16];
	int wait = 0;
	int64_t n;

	ratelimit_address_key(req->peer, addr); /* "addr:..." */
	snprintf(key, keylen, "reg:%s", addr + strlen("addr:"));
	if (!ratelimit_attempt(req->app->register_limits, key, s->register_rate,
	        DDI_REGISTER_WINDOW, &wait)) {
		snprintf(retry, sizeof(retry), "%d", wait);
		http_set_header(req, "Retry-After", retry);
		http_reply_ddi_error(req, 429, DDI_QUOTA,
		    "Too many new targets from this address; try again in %d "
		    "seconds.",
		    wait);
		return false;
	}
	/* Not atomic with the insert: concurrent registrations may pass the
	 * cap by a few (one per worker thread). */
	n = device_tally_get(
	    req->app->register_tally, c->db, s->register_feed, s->register_max);
	if (n < 0) {
		http_reply_ddi_error(req, 503,
		    "hawkbit.server.error.unavailable",
		    "The database is unavailable.");
		return false;
	}
	if (n >= s->register_max) {
		if (device_tally_full(req->app->register_tally))
			log_warnx("refused to register %s: feed %s holds %lld "
			          "devices, device_auth.register_max (said at "
			          "most once a minute)",
			    c->cid, s->register_feed, (long long)n);
		http_reply_ddi_error(req, 429, DDI_QUOTA,
		    "The server takes no more new targets for now.");
		return false;
	}
	return true;
}

/*
 * Register the unknown device of the request on its first poll.  Returns
 * false if a reply was sent.
 */
static bool
ddi_register(struct request *req, struct ddi_ctx *c)
{
	const struct settings *s = req->app->settings;
	struct device_new n = {.cid = c->cid,
	    .token_hash = req->new_token_hash,
	    .vouched = req->device_vouched};
	char key[RATELIMIT_KEY_MAX + 4] = "";
	bool created;
	enum result r;

	/* Vouched-for devices join "default" as they always did; a stranger
	 * joins the feed the operator chose for them. */
	if (!req->device_vouched) {
		if (!ddi_may_self_register(req, c, key, sizeof(key)))
			return false;
		n.feed = s->register_feed;
	}
	r = device_register(c->db, &n, &req->device_id, &created);
	if (created && n.feed != NULL)
		device_tally_add(req->app->register_tally);
	if (!created && key[0] != '\0')
		ratelimit_refund(req->app->register_limits, key);
	if (r == RESULT_CONFLICT) {
		/* It registered meanwhile with another token. */
		refused_note(req->app->refused, c->cid, req->peer,
		    REFUSED_TOKEN_CONFLICT);
		http_reply_empty(req, 401);
		return false;
	}
	if (r != RESULT_OK) {
		http_reply_ddi_error(req, 500, "hawkbit.server.error.internal",
		    "Cannot register the target.");
		return false;
	}
	return true;
}

/*
 * Common checks.  register_ok: the root poll registers unknown devices
 * when auth allows it.  Returns false if a reply was sent.
 */
static bool
ddi_begin(struct request *req, struct ddi_ctx *c, bool register_ok, bool json)
{
	const struct settings *s = req->app->settings;
	const char *why;
	enum result r;

	memset(c, 0, sizeof(*c));
	c->tenant = req->params[0];
	c->cid = req->params[1];
	if (strcasecmp(c->tenant, s->tenant) != 0) {
		http_reply_ddi_error(req, 404, DDI_NOT_FOUND,
		    "Tenant %s does not exist.", c->tenant);
		return false;
	}
	/* A known device's id passes the looser check it registered under;
	 * a new one must not pass for another (device_cid_problem). */
	if (!device_cid_valid(c->cid)) {
		http_reply_ddi_error(req, 400, DDI_CONSTRAINT,
		    "The controller id must be 1 to %d printable characters.",
		    DEVICE_ID_MAX);
		return false;
	}
	if (req->device_id == 0 && (why = device_cid_problem(c->cid))) {
		http_reply_ddi_error(req, 400, DDI_CONSTRAINT,
		    "The controller id of a new target %s.", why);
		return false;
	}
	if (json && !ddi_accepts_json(req)) {
		http_reply_ddi_error(req, 406,
		    "hawkbit.server.error.rest.notAcceptable",
		    "Only JSON answers are available.");
		return false;
	}
	if ((c->db = db_thread()) == NULL) {
		http_reply_ddi_error(req, 503,
		    "hawkbit.server.error.unavailable",
		    "The database is unavailable.");
		return false;
	}
	if (req->device_id == 0) {
		if (!register_ok || !req->device_may_register) {
			http_reply_ddi_error(req, 404, DDI_NOT_FOUND,
			    "Target with the given identifier does not exist.");
			return false;
		}
		if (!ddi_register(req, c))
			return false;
		c->registered = true;
	} else if (req->new_token_hash != NULL &&
	           (r = device_store_first_token(c->db, req->device_id,
	                req->new_token_hash)) != RESULT_OK) {
		/* The loser of a race of first contacts with other tokens. */
		if (r == RESULT_CONFLICT) {
			refused_note(req->app->refused, c->cid, req->peer,
			    REFUSED_TOKEN_CONFLICT);
			http_reply_empty(req, 401);
		} else
			http_reply_ddi_error(req, 500,
			    "hawkbit.server.error.internal",
			    "Cannot store the target token.");
		return false;
	}
	seen_note(req->app->seen, req->device_id, req->peer);
	c->cid_enc = url_encode_segment(c->cid);
	return true;
}

/* An absolute href under this device's DDI base (new string). */
static char *
ddi_vhref(struct request *req, struct ddi_ctx *c, const char *fmt, va_list ap)
{
	char tail[512];

	vsnprintf(tail, sizeof(tail), fmt, ap);
	return xasprintf("%s/%s/controller/v1/%s%s", http_base_url(req),
	    req->app->settings->tenant, c->cid_enc, tail);
}

/* {"href": ...} for the _links of deploymentBase and the artifacts. */
static json_t *ddi_link(struct request *req, struct ddi_ctx *c, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));

static json_t *
ddi_link(struct request *req, struct ddi_ctx *c, const char *fmt, ...)
{
	va_list ap;
	char *href;
	json_t *o;

	va_start(ap, fmt);
	href = ddi_vhref(req, c, fmt, ap);
	va_end(ap);
	o = json_pack("{s:s}", "href", href);
	free(href);
	return o;
}

/* The same, written into the poll answer as "name":{"href":...}. */
static void ddi_poll_link(struct buf *b, struct request *req, struct ddi_ctx *c,
    const char *name, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void
ddi_poll_link(struct buf *b, struct request *req, struct ddi_ctx *c,
    const char *name, const char *fmt, ...)
{
	va_list ap;
	char *href;

	va_start(ap, fmt);
	href = ddi_vhref(req, c, fmt, ap);
	va_end(ap);
	if (b->data[b->len - 1] != '{')
		buf_add(b, ",", 1);
	buf_add_json_string(b, name);
	buf_adds(b, ":{\"href\":");
	buf_add_json_string(b, href);
	buf_adds(b, "}");
	free(href);
}

/*
 * What deploymentBase tells the device now (hawkBit's
 * DdiRootController.calculate*): download and update forced, attempt or
 * skip, and the window's availability (NULL when it has none).
 */
struct ddi_handling {
	const char *download, *update, *window;
};

static struct ddi_handling
ddi_handling(const struct action *a)
{
	struct ddi_handling h;
	enum mwindow_state w = action_window_state(a, now_s(), NULL);

	h.download = action_is_forced_now(a, now_ms()) ? "forced" : "attempt";
	if (a->type == ACTION_TYPE_SOFT)
		h.download = "attempt";
	else if (a->type == ACTION_TYPE_DOWNLOADONLY)
		h.download = "forced";
	h.update = a->type == ACTION_TYPE_DOWNLOADONLY ? "skip" : h.download;
	h.window = NULL;
	if (a->window.schedule[0] != '\0') {
		h.window = w == MWINDOW_OPEN ? "available" : "unavailable";
		if (w != MWINDOW_OPEN)
			h.update = "skip";
	}
	return h;
}

/* hawkBit's opaque ?c= value: changes when the deployment content does
 * (the set, the force time reached, the window opening). */
static int
ddi_c_value(const struct action *a)
{
	struct ddi_handling d = ddi_handling(a);
	uint32_t h = 2166136261u;
	int64_t parts[5] = {a->id, a->ds_id, a->forced,
	    d.update[0] + (d.download[0] << 8), d.window ? d.window[0] : 0};

	for (size_t i = 0; i < NELEM(parts); i++) {
		h ^= (uint32_t)parts[i];
		h *= 16777619u;
	}
	return (int)(h & 0x7fffffff) - 0x40000000;
}

/*
 * Sleep less than the interval in two cases: a window of the action opens
 * soon (the device polls about maintenanceWindowPollCount times before
 * that, sysconf_mw_poll_count), and a device that has just registered and was
 * asked for its configData gets the running interval, so that its first offer
 * does not wait a whole idle interval.  sleep holds the interval as HH:MM:SS.
 */
static void
ddi_poll_sooner(const struct settings *s, const struct ddi_ctx *c,
    const struct device *d, const struct action *a, char sleep[9])
{
	int h = 0, m = 0, sec = 0;
	int64_t interval, start, shorter;
	enum mwindow_state w;

	if (sscanf(sleep, "%d:%d:%d", &h, &m, &sec) != 3)
		return;
	interval = (int64_t)h * 3600 + m * 60 + sec;
	shorter = interval;
	if (c->registered && d->request_attributes &&
	    (int64_t)c->running_interval < shorter)
		shorter = c->running_interval;
	if (a != NULL && a->window.schedule[0] != '\0') {
		w = action_window_state(a, now_s(), &start);
		interval = mwindow_poll_sleep(
		    w, start - now_s(), shorter, sysconf_mw_poll_count(s));
		if (interval < shorter)
			shorter = interval;
	}
	format_hms((int)shorter, sleep);
}

void
ddi_get_poll(struct request *req)
{
	const struct settings *s = req->app->settings;
	struct ddi_ctx c;
	struct device loaded, *d = req->device;
	struct action a;
	bool have = false;
	struct buf body = {0};
	char sleep[9], *text;
	size_t len;
	int64_t installed = 0;
	enum result r = RESULT_OK;

	memset(&loaded, 0, sizeof(loaded));
	if (!ddi_begin(req, &c, true, true))
		return;
	c.running_interval = s->poll_interval_running;
	/* Auth read the row already, unless the poll just registered it. */
	if (d == NULL &&
	    (r = device_load(c.db, req->device_id, &loaded)) == RESULT_OK)
		d = &loaded;
	if (r != RESULT_OK ||
	    rollout_decide(c.db, s, d, &a, &have, &installed) != RESULT_OK) {
		device_clear(&loaded);
		ddi_ctx_clear(&c);
		http_reply_ddi_error(req, 500, "hawkbit.server.error.internal",
		    "Cannot read the target's state.");
		return;
	}
	/*
	 * Written by hand, not with jansson: the answer is small and always
	 * of this shape, and a general encoder's dump costs more than the
	 * rest of the poll.
	 */
	format_hms(
	    have ? s->poll_interval_running : sysconf_polling_time(s), sleep);
	ddi_poll_sooner(s, &c, d, have ? &a : NULL, sleep);
	buf_adds(&body, "{\"config\":{\"polling\":{\"sleep\":\"");
	buf_adds(&body, sleep);
	buf_adds(&body, "\"}},\"_links\":{");
	if (have && a.status == ACTION_CANCELING)
		ddi_poll_link(&body, req, &c, "cancelAction",
		    "/cancelAction/%lld", (long long)a.id);
	else if (have)
		ddi_poll_link(&body, req, &c, "deploymentBase",
		    "/deploymentBase/%lld?c=%d", (long long)a.id,
		    ddi_c_value(&a));
	if (installed && (!have || installed != a.id))
		ddi_poll_link(&body, req, &c, "installedBase",
		    "/installedBase/%lld", (long long)installed);
	if (d->request_attributes)
		ddi_poll_link(&body, req, &c, "configData", "/configData");
	buf_adds(&body, "}}");
	device_clear(&loaded);
	ddi_ctx_clear(&c);
	text = buf_take(&body, &len);
	http_reply_json_text(req, 200, text, len);
}

/* The action id in params[2]: 404 unless it is a number in range. */
static bool
ddi_action_param(struct request *req, int64_t *id)
{
	if (parse_int64(req->params[2], 1, INT32_MAX, id) == -1) {
		http_reply_ddi_error(req, 404, DDI_NOT_FOUND,
		    "Action with the given id does not exist.");
		return false;
	}
	return true;
}

static const char *
ddi_history_status(enum action_status s)
{
	static const char *const names[] = {"SCHEDULED", "RUNNING", "CANCELING",
	    "FINISHED", "ERROR", "CANCELED", "DOWNLOADED"};

	return names[s];
}

/* actionHistory: the newest n status messages, newest first (a message
 * the device repeated counts as often as it was sent, n at most). */
static json_t *
ddi_action_history(struct db *db, const struct action *a, int64_t n)
{
	return json_pack("{s:s, s:o}", "status", ddi_history_status(a->status),
	    "messages", action_messages_json(db, a->id, n));
}

/*
 * One artifact as in deploymentBase and the artifact list.  An external
 * artifact's links are its URL, as it is.
 */
static json_t *
ddi_artifact_json(struct request *req, struct ddi_ctx *c, int64_t module_id,
    const struct artifact *a)
{
	char *fn;
	json_t *o, *links, *hashes;

	/* Hashes an external artifact was given without are left out. */
	hashes = json_pack("{s:s}", "sha1", a->sha1);
	if (a->md5)
		json_object_set_new(hashes, "md5", json_string(a->md5));
	if (a->sha256)
		json_object_set_new(hashes, "sha256", json_string(a->sha256));
	o = json_pack("{s:s, s:o, s:I}", "filename", a->filename, "hashes",
	    hashes, "size", (json_int_t)a->size);
	if (a->url) {
		links = json_pack("{s:{s:s}, s:{s:s}}", "download", "href",
		    a->url, "download-http", "href", a->url);
		json_object_set_new(o, "_links", links);
		return o;
	}
	fn = url_encode_segment(a->filename);
	links = json_pack("{s:o, s:o}", "download",
	    ddi_link(req, c, "/softwaremodules/%lld/artifacts/%s",
	        (long long)module_id, fn),
	    "download-http",
	    ddi_link(req, c, "/softwaremodules/%lld/artifacts/%s",
	        (long long)module_id, fn));
	if (a->md5) {
		json_object_set_new(links, "md5sum",
		    ddi_link(req, c,
		        "/softwaremodules/%lld/artifacts/%s.MD5SUM",
		        (long long)module_id, fn));
		json_object_set_new(links, "md5sum-http",
		    ddi_link(req, c,
		        "/softwaremodules/%lld/artifacts/%s.MD5SUM",
		        (long long)module_id, fn));
	}
	json_object_set_new(o, "_links", links);
	free(fn);
	return o;
}

static json_t *
ddi_artifacts_json(
    struct request *req, struct ddi_ctx *c, const struct module *m)
{
	json_t *arts = json_array();

	for (size_t i = 0; i < m->nartifacts; i++)
		json_array_append_new(
		    arts, ddi_artifact_json(req, c, m->id, &m->artifacts[i]));
	return arts;
}

/* One chunk per module of the set, as hawkBit sends them. */
static json_t *
ddi_chunks_json(
    struct request *req, struct ddi_ctx *c, const struct module *m, size_t n)
{
	json_t *chunks = json_array(), *chunk, *meta;

	for (size_t i = 0; i < n; i++) {
		chunk = json_pack("{s:s, s:s, s:s, s:o}", "part", m[i].type_key,
		    "version", m[i].version, "name", m[i].name, "artifacts",
		    ddi_artifacts_json(req, c, &m[i]));
		if (m[i].encrypted)
			json_object_set_new(chunk, "encrypted", json_true());
		if ((meta = module_metadata_json(c->db, m[i].id, true)) != NULL)
			json_object_set_new(chunk, "metadata", meta);
		json_array_append_new(chunks, chunk);
	}
	return chunks;
}

/* deploymentBase and installedBase share this shape. */
static void
ddi_reply_deployment(
    struct request *req, struct ddi_ctx *c, const struct action *a)
{
	const char *hist = http_query(req, "actionHistory");
	struct ddi_handling h;
	struct module *m = NULL;
	size_t nm = 0;
	int64_t n = 0;
	json_t *body;

	if (dist_modules(c->db, a->ds_id, &m, &nm) != RESULT_OK || nm == 0) {
		dist_free_modules(m, nm);
		http_reply_ddi_error(
		    req, 404, DDI_NOT_FOUND, "Software module does not exist.");
		return;
	}
	h = ddi_handling(a);
	body = json_pack("{s:s, s:{s:s, s:s, s:o}}", "id", req->params[2],
	    "deployment", "download", h.download, "update", h.update, "chunks",
	    ddi_chunks_json(req, c, m, nm));
	if (body && h.window)
		json_object_set_new(json_object_get(body, "deployment"),
		    "maintenanceWindow", json_string(h.window));
	if (hist && parse_int64(hist, INT32_MIN, INT32_MAX, &n) == 0 &&
	    n != 0) {
		if (n < 0 || n > DDI_HISTORY_MAX)
			n = DDI_HISTORY_MAX;
		json_object_set_new(
		    body, "actionHistory", ddi_action_history(c->db, a, n));
	}
	dist_free_modules(m, nm);
	http_reply_json(req, 200, body);
}

/* Load action id of this device; replies 404 and returns false if not. */
static bool
ddi_load_action(
    struct request *req, struct ddi_ctx *c, int64_t id, struct action *a)
{
	enum result r = action_load(c->db, id, a);

	if (r == RESULT_OK && a->device_id == req->device_id)
		return true;
	if (r == RESULT_ERROR)
		http_reply_ddi_error(req, 500, "hawkbit.server.error.internal",
		    "Cannot read the action.");
	else
		http_reply_ddi_error(req, 404, DDI_NOT_FOUND,
		    "Action with the given id does not exist for this target.");
	return false;
}

void
ddi_get_deployment(struct request *req)
{
	struct ddi_ctx c;
	struct action a;
	int64_t id;

	if (!ddi_begin(req, &c, false, true))
		return;
	if (ddi_action_param(req, &id) && ddi_load_action(req, &c, id, &a)) {
		if (a.status == ACTION_CANCELING || a.status == ACTION_CANCELED)
			http_reply_ddi_error(req, 404, DDI_NOT_FOUND,
			    "Action %lld is being canceled.", (long long)id);
		else {
			/* A closed action is shown as hawkBit does, with no
			 * entry added. */
			if (action_is_open(a.status))
				action_mark_retrieved(c.db, a.id);
			if (action_is_open(a.status) && !a.update_offered &&
			    strcmp(ddi_handling(&a).update, "skip") != 0)
				action_mark_update_offered(c.db, a.id);
			ddi_reply_deployment(req, &c, &a);
		}
	}
	ddi_ctx_clear(&c);
}

void
ddi_get_installed(struct request *req)
{
	struct ddi_ctx c;
	struct action a;
	int64_t id;

	if (!ddi_begin(req, &c, false, true))
		return;
	if (ddi_action_param(req, &id) && ddi_load_action(req, &c, id, &a)) {
		if (a.status != ACTION_SUCCEEDED)
			http_reply_ddi_error(req, 404, DDI_NOT_FOUND,
			    "Action %lld is not an installed one.",
			    (long long)id);
		else
			ddi_reply_deployment(req, &c, &a);
	}
	ddi_ctx_clear(&c);
}

void
ddi_get_cancel(struct request *req)
{
	struct ddi_ctx c;
	struct action a;
	int64_t id;

	if (!ddi_begin(req, &c, false, true))
		return;
	if (ddi_action_param(req, &id) && ddi_load_action(req, &c, id, &a)) {
		if (a.status != ACTION_CANCELING && a.status != ACTION_CANCELED)
			http_reply_ddi_error(req, 404, DDI_NOT_FOUND,
			    "Action %lld is not being canceled.",
			    (long long)id);
		else
			http_reply_json(req, 200,
			    json_pack("{s:s, s:{s:s}}", "id", req->params[2],
			        "cancelAction", "stopId", req->params[2]));
	}
	ddi_ctx_clear(&c);
}

/* Parse the feedback body; replies and returns false if it is bad. */
static bool
ddi_parse_feedback(
    struct request *req, json_t **root, struct action_feedback *fb)
{
	const char *why = NULL;
	int status;

	status =
	    action_feedback_parse(req->body, req->body_len, root, fb, &why);
	if (status == 429)
		http_reply_ddi_error(req, 429, DDI_QUOTA, "%s", why);
	else if (status != 0)
		http_reply_ddi_error(req, 400, DDI_NOT_READABLE, "%s", why);
	return status == 0;
}

static void
ddi_feedback(struct request *req, bool cancel)
{
	struct action_feedback fb;
	struct ddi_ctx c;
	json_t *root = NULL;
	int64_t id;

	if (!ddi_begin(req, &c, false, false))
		return;
	if (!ddi_action_param(req, &id) || !ddi_parse_feedback(req, &root, &fb))
		goto done;
	switch (action_apply_feedback(c.db, id, req->device_id, &fb, cancel)) {
	case RESULT_OK:
		http_reply_empty(req, 200);
		break;
	case RESULT_NOTFOUND:
		http_reply_ddi_error(req, 404, DDI_NOT_FOUND,
		    "Action with the given id does not exist for this target.");
		break;
	case RESULT_GONE:
		http_reply_ddi_error(req, 410, DDI_GONE,
		    "Action %lld is closed.", (long long)id);
		break;
	case RESULT_CONFLICT:
		http_reply_ddi_error(req, 405, DDI_NOT_CANCELABLE,
		    "Action %lld is not being canceled.", (long long)id);
		break;
	case RESULT_INVALID:
		http_reply_ddi_error(req, 400, DDI_NOT_READABLE,
		    "Unknown execution or finished value.");
		break;
	default:
		http_reply_ddi_error(req, 500, "hawkbit.server.error.internal",
		    "Cannot store the feedback.");
	}
done:
	json_decref(root);
	ddi_ctx_clear(&c);
}

void
ddi_post_feedback(struct request *req)
{
	ddi_feedback(req, false);
}

void
ddi_post_cancel_feedback(struct request *req)
{
	ddi_feedback(req, true);
}

void
ddi_put_config_data(struct request *req)
{
	struct ddi_ctx c;
	json_error_t err;
	json_t *root, *data;
	const char *mode, *why = NULL;
	enum result r;

	if (!ddi_begin(req, &c, false, false))
		return;
	root =
	    json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &err);
	data = json_object_get(root, "data");
	mode = json_string_value(json_object_get(root, "mode"));
	if (!json_is_object(root) || !json_is_object(data) ||
	    json_object_size(data) == 0) {
		http_reply_ddi_error(req, 400, DDI_NOT_READABLE,
		    "The body needs a non-empty \"data\" object.");
		goto done;
	}
	if (json_object_get(root, "mode") &&
	    !json_is_null(json_object_get(root, "mode")) &&
	    (mode == NULL ||
	        (strcmp(mode, "merge") != 0 && strcmp(mode, "replace") != 0 &&
	            strcmp(mode, "remove") != 0))) {
		http_reply_ddi_error(req, 400, DDI_NOT_READABLE,
		    "mode must be merge, replace or remove.");
		goto done;
	}
	r = device_put_attributes(c.db, req->app->settings, req->device_id,
	    mode ? mode : "merge", data, &why);
	if (r == RESULT_OK)
		http_reply_empty(req, 200);
	else if (r == RESULT_INVALID)
		http_reply_ddi_error(req, 400, DDI_BAD_ATTRIBUTES, "%s", why);
	else if (r == RESULT_CONFLICT)
		http_reply_ddi_error(req, 429, DDI_QUOTA, "%s", why);
	else
		http_reply_ddi_error(req, 500, "hawkbit.server.error.internal",
		    "Cannot store the attributes.");
done:
	json_decref(root);
	ddi_ctx_clear(&c);
}

/*
 * May this device read module sm?  An open action for a set holding it
 * gives access (the device is installing it); with installed_too, its
 * installed set as well.
 */
static bool
ddi_may_read(struct db *db, int64_t device_id, int64_t sm, bool installed_too)
{
	static const char sql[] =
	    "SELECT 1 FROM action a JOIN ds_module x ON x.ds_id = a.ds_id "
	    "WHERE a.device_id = ?1 AND x.module_id = ?2 "
	    "AND (a.status IN ('scheduled', 'running') OR "
	    "(?3 AND a.status = 'succeeded')) LIMIT 1";
	sqlite3_stmt *st = db_prepare(db, sql);
	bool ok;

	if (st == NULL)
		return false;
	db_bind_int64(st, 1, device_id);
	db_bind_int64(st, 2, sm);
	db_bind_int64(st, 3, installed_too);
	ok = sqlite3_step(st) == SQLITE_ROW;
	db_done(st);
	return ok;
}

/* The module id in params[2] if the device may read it; else reply 404. */
static bool
ddi_module_param(
    struct request *req, struct ddi_ctx *c, bool installed_too, int64_t *sm)
{
	if (parse_int64(req->params[2], 1, INT64_MAX, sm) == -1 ||
	    !ddi_may_read(c->db, req->device_id, *sm, installed_too)) {
		http_reply_ddi_error(req, 404, DDI_NOT_FOUND,
		    "Software module does not exist for this target.");
		return false;
	}
	return true;
}

void
ddi_get_artifacts(struct request *req)
{
	struct ddi_ctx c;
	struct module m;
	int64_t sm;

	if (!ddi_begin(req, &c, false, true))
		return;
	if (ddi_module_param(req, &c, true, &sm)) {
		if (module_load(c.db, sm, true, &m) == RESULT_OK) {
			http_reply_json(
			    req, 200, ddi_artifacts_json(req, &c, &m));
			module_clear(&m);
		} else
			http_reply_ddi_error(req, 404, DDI_NOT_FOUND,
			    "Software module does not exist for this target.");
	}
	ddi_ctx_clear(&c);
}

static void
ddi_http_date(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, len, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

/* Does an If-None-Match / If-Match list name our ETag (or "*")? */
static bool
ddi_etag_listed(const char *list, const char *etag)
{
	const char *p = list;
	size_t n = strlen(etag);

	if (strchr(list, '*') != NULL)
		return true;
	while ((p = strstr(p, etag)) != NULL) {
		if ((p == list || p[-1] == ' ' || p[-1] == ',' ||
		        p[-1] == '/') &&
		    (p[n] == '\0' || p[n] == ',' || p[n] == ' '))
			return true;
		p += n;
	}
	return false;
}

static void
ddi_send_file(
    struct request *req, const struct artifact *s, struct db *db, int64_t sm)
{
	char etag[48], date[64], disp[256], range[96];
	const char *h;
	uint64_t start = 0, len = (uint64_t)s->size;
	int fd, status = 200, rr = 0;

	snprintf(etag, sizeof(etag), "\"%s\"", s->sha1);
	ddi_http_date(s->created_at, date, sizeof(date));
	snprintf(disp, sizeof(disp), "attachment;filename=%s", s->filename);
	http_set_header(req, "ETag", etag);
	http_set_header(req, "Last-Modified", date);
	http_set_header(req, "Accept-Ranges", "bytes");
	if ((h = http_header(req, "If-Match")) && !ddi_etag_listed(h, etag)) {
		http_reply_ddi_error(req, 412,
		    "hawkbit.server.error.rest.preconditionFailed",
		    "If-Match does not match the artifact.");
		return;
	}
	if ((h = http_header(req, "If-None-Match")) &&
	    ddi_etag_listed(h, etag)) {
		http_reply_empty(req, 304);
		return;
	}
	h = http_header(req, "If-Range");
	if (h == NULL || strcmp(h, etag) == 0 || strcmp(h, date) == 0)
		rr = parse_range(http_header(req, "Range"), len, &start, &len);
	if (rr < 0) {
		snprintf(
		    range, sizeof(range), "bytes */%lld", (long long)s->size);
		http_set_header(req, "Content-Range", range);
		http_reply_ddi_error(req, 416,
		    "hawkbit.server.error.rest.rangeNotSatisfiable",
		    "The requested range is not satisfiable.");
		return;
	}
	if (rr == 1) {
		status = 206;
		snprintf(range, sizeof(range), "bytes %llu-%llu/%lld",
		    (unsigned long long)start,
		    (unsigned long long)(start + len - 1), (long long)s->size);
		http_set_header(req, "Content-Range", range);
	}
	/* hawkBit notes a full download, not the range requests. */
	if (http_header(req, "Range") == NULL &&
	    action_note_download(db, req->device_id, sm, req->url) ==
	        RESULT_ERROR)
		log_warnx("device %lld: cannot note the download of %s",
		    (long long)req->device_id, s->filename);
	if ((fd = artifact_open(req->app->artifact_dir, s)) == -1) {
		http_reply_ddi_error(req, 500,
		    "hawkbit.server.error.artifact.loadFailed",
		    "The artifact cannot be read.");
		return;
	}
	http_set_header(req, "Content-Disposition", disp);
	http_reply_fd(req, status, fd, start, len, "application/octet-stream");
}

void
ddi_get_artifact(struct request *req)
{
	const char *name = req->params[3];
	size_t n = strlen(name);
	struct ddi_ctx c;
	struct artifact a;
	char *body, *base = NULL, disp[256];
	bool md5sum = false;
	int64_t sm;
	enum result r;

	memset(&a, 0, sizeof(a));
	if (!ddi_begin(req, &c, false, false))
		return;
	if (!ddi_module_param(req, &c, false, &sm))
		goto done;
	r = artifact_find(c.db, sm, name, &a);
	if (r == RESULT_NOTFOUND && n > 7 &&
	    strcmp(name + n - 7, ".MD5SUM") == 0) {
		base = xstrndup(name, n - 7);
		r = artifact_find(c.db, sm, base, &a);
		md5sum = true;
	}
	if (r != RESULT_OK || a.url != NULL || (md5sum && a.md5 == NULL))
		http_reply_ddi_error(
		    req, 404, DDI_NOT_FOUND, "Artifact does not exist.");
	else if (!md5sum)
		ddi_send_file(req, &a, c.db, sm);
	else {
		/* md5sum -c format: "<md5>  <name>", no newline. */
		body = xasprintf("%s  %s", a.md5, a.filename);
		snprintf(disp, sizeof(disp), "attachment;filename=%s.MD5SUM",
		    a.filename);
		http_set_header(req, "Content-Disposition", disp);
		http_reply_text(req, 200, "text/plain", body);
		free(body);
	}
	artifact_clear(&a);
	free(base);
done:
	ddi_ctx_clear(&c);
}
