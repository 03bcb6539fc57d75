/*
 * settings.yaml -> struct settings.  The file is read with libyaml's event
 * API; nested mappings name dotted keys ("listen.port") that are looked up in
 * one table giving each key's type, bounds and place in struct settings, as
 * kore's config.c does.  Whatever the table does not describe is an error:
 * unknown or duplicate keys, a value of the wrong shape, anchors, aliases and
 * tags (so no billion laughs), more than one document.  The first error ends
 * the load with "file:line: key: what is wrong" and leaves *s untouched.
 * Error messages never quote values: the file may hold a gateway token.
 */
#include "settings.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "hwcompat.h"
#include "log.h"
#include "util.h"

#define SETTINGS_FILE_MAX (1024 * 1024) /* larger is not a settings file */
#define SETTINGS_KEY_MAX 64             /* longest dotted key we report + 1 */

enum set_type {
	SET_SECTION, /* a mapping of further keys */
	SET_STRING,  /* char[size], length min..max */
	SET_INT,     /* int in min..max */
	SET_HMS,     /* "HH:MM:SS" -> int seconds in min..max */
	SET_SIZE,    /* "4G" -> uint64_t bytes in min..max */
	SET_BOOL,    /* true or false -> bool */
	SET_ENUM,    /* one of names[] -> its index, stored as int */
	SET_STRLIST, /* list of char[size] of length min..max, nmax entries */
	SET_NETLIST  /* list of "ADDR[/PREFIX]" -> struct proxy_net, nmax */
};

/* What a value of each type looks like, for "expected ..., found ..." */
static const char *const type_what[] = {
    [SET_SECTION] = "a mapping of keys",
    [SET_STRING] = "a string",
    [SET_INT] = "an integer",
    [SET_HMS] = "a duration \"HH:MM:SS\"",
    [SET_SIZE] = "a size such as 4G",
    [SET_BOOL] = "true or false",
    [SET_ENUM] = "a name",
    [SET_STRLIST] = "a list of strings",
    [SET_NETLIST] = "a list of addresses or networks",
};

/*
 * One row per key:
 *   key	dotted path in the YAML file
 *   type	how the value is parsed and stored
 *   off	offsetof the value (of the first entry for lists)
 *   size	sizeof the value (of one entry for lists)
 *   noff	lists: offsetof the size_t entry count
 *   nmax	lists: most entries
 *   min, max	bounds: string length, integer, seconds or bytes
 *   names	SET_ENUM: the value names in enum order, NULL-terminated
 *   check	strings: extra test returning what is wrong, or NULL if fine
 */
struct setting {
	const char *key;
	enum set_type type;
	size_t off;
	size_t size;
	size_t noff;
	size_t nmax;
	int64_t min, max;
	const char *const *names;
	const char *(*check)(const char *);
};

static const char *const auth_names[] = {"open", "token", "tofu", NULL};
static const char *const signature_names[] = {"off", "warn", "require", NULL};
static const char *const client_auth_names[] = {
    "accepted", "required", "ignored", NULL};
static const char *const client_id_names[] = {"cn", "san-dns", "san-uri", NULL};
static const char *const level_names[] = {
    "error", "warn", "info", "debug", NULL};

static const char *check_address(const char *);
static const char *check_url(const char *);
static const char *check_tenant(const char *);
static const char *check_token(const char *);
static const char *check_header(const char *);
static const char *check_pattern(const char *);
static const char *check_feed(const char *);
static const char *check_host(const char *);

#define MEMBER(m) offsetof(struct settings, m)
#define MSIZE(m) sizeof(((struct settings *)NULL)->m)

/* clang-format off */
#define SECTION(k) {.key = k, .type = SET_SECTION}
#define STRING(k, m, lo, chk)                                                  \
	{.key = k, .type = SET_STRING, .off = MEMBER(m), .size = MSIZE(m),     \
	    .min = lo, .max = MSIZE(m) - 1, .check = chk}
#define INT(k, m, lo, hi)                                                      \
	{.key = k, .type = SET_INT, .off = MEMBER(m), .size = MSIZE(m),        \
	    .min = lo, .max = hi}
#define HMS(k, m, lo, hi)                                                      \
	{.key = k, .type = SET_HMS, .off = MEMBER(m), .size = MSIZE(m),        \
	    .min = lo, .max = hi}
#define SIZE(k, m, lo, hi)                                                     \
	{.key = k, .type = SET_SIZE, .off = MEMBER(m), .size = MSIZE(m),       \
	    .min = lo, .max = hi}
#define BOOL(k, m)                                                             \
	{.key = k, .type = SET_BOOL, .off = MEMBER(m), .size = MSIZE(m)}
#define ENUM(k, m, n)                                                          \
	{.key = k, .type = SET_ENUM, .off = MEMBER(m), .size = MSIZE(m),       \
	    .names = n}
#define STRLIST(k, m, n, chk)                                                  \
	{.key = k, .type = SET_STRLIST, .off = MEMBER(m),                      \
	    .size = MSIZE(m[0]), .noff = MEMBER(n),                            \
	    .nmax = MSIZE(m) / MSIZE(m[0]), .min = 1, .max = MSIZE(m[0]) - 1,  \
	    .check = chk}
#define NETLIST(k, m, n)                                                       \
	{.key = k, .type = SET_NETLIST, .off = MEMBER(m),                      \
	    .size = MSIZE(m[0]), .noff = MEMBER(n),                            \
	    .nmax = MSIZE(m) / MSIZE(m[0])}
/* clang-format on */

#define KIB 1024LL
#define TIB (KIB * KIB * KIB * KIB)

/* clang-format off */
static const struct setting table[] = {
	SECTION("listen"),
	STRING("listen.address",	listen_address, 1, check_address),
	INT("listen.port",		listen_port, 0, 65535),
	INT("listen.http_port",		listen_http_port, -1, 65535),
	STRING("public_url",		public_url, 0, check_url),
	STRING("data_dir",		data_dir, 1, NULL),
	STRING("tenant",		tenant, 1, check_tenant),

	SECTION("tls"),
	STRING("tls.cert",		tls_cert, 0, NULL),
	STRING("tls.key",		tls_key, 0, NULL),
	STRING("tls.priorities",	tls_priorities, 1, NULL),
	INT("tls.hsts_max_age",		tls_hsts_max_age, 0, 63072000),
	STRING("tls.client_ca",		tls_client_ca, 0, NULL),
	ENUM("tls.client_auth",		tls_client_auth, client_auth_names),
	ENUM("tls.client_id",		tls_client_id, client_id_names),

	SECTION("poll"),
	HMS("poll.interval",		poll_interval, 1, 86399),
	HMS("poll.running_interval",	poll_interval_running, 1, 86399),
	HMS("poll.overdue",		poll_overdue, 0, 86399),

	SECTION("device_auth"),
	ENUM("device_auth.mode",	device_auth, auth_names),
	STRING("device_auth.gateway_token", gateway_token, 0, check_token),
	INT("device_auth.register_rate", register_rate, 1, 1000000),
	INT("device_auth.register_max",	register_max, 1, 100000000),
	STRING("device_auth.register_feed", register_feed, 1, check_feed),
	INT("device_auth.refused_max",	refused_max, 10, 1000000),
	SECTION("device_auth.proxy_cert"),
	BOOL("device_auth.proxy_cert.enabled", cert_header_enabled),
	STRING("device_auth.proxy_cert.cn_header", cert_cn_header, 1,
	    check_header),
	STRING("device_auth.proxy_cert.issuer_header", cert_issuer_header, 1,
	    check_header),
	STRLIST("device_auth.proxy_cert.trusted_issuers", cert_authorities,
	    ncert_authorities, NULL),

	SECTION("attributes"),
	STRING("attributes.hw_model",	attr_hw_model, 1, NULL),
	STRING("attributes.hw_revision", attr_hw_revision, 1, NULL),
	STRING("attributes.sw_version",	attr_sw_version, 1, NULL),
	STRING("attributes.rauc_compatible", attr_rauc_compatible, 1, NULL),

	SECTION("swupdate"),
	STRING("swupdate.keyring",	swu_keyring, 0, NULL),
	ENUM("swupdate.signature",	swu_signature, signature_names),

	SECTION("rauc"),
	STRING("rauc.keyring",		rauc_keyring, 0, NULL),
	ENUM("rauc.signature",		rauc_signature, signature_names),
	BOOL("rauc.accept_encrypted",	rauc_accept_encrypted),
	STRING("rauc.compatible_pattern", rauc_compatible_pattern, 0,
	    check_pattern),

	SECTION("upload"),
	SIZE("upload.max_size",		upload_max_size, KIB, TIB),
	INT("upload.fetch_timeout",	fetch_timeout, 1, 86400),

	SECTION("updates"),
	INT("updates.max_running",	max_running, 1, 1000000),
	HMS("updates.stale_timeout",	stale_timeout, 60, 86399),

	SECTION("proxy"),
	NETLIST("proxy.trusted",	proxies, nproxies),
	NETLIST("proxy.cert_trusted",	cert_proxies, ncert_proxies),

	SECTION("http"),
	INT("http.threads",		http_threads, 0, 64),
	INT("http.connection_limit",	http_connection_limit, 16, 1000000),
	INT("http.timeout",		http_timeout, 5, 3600),
	INT("http.per_ip_limit",	http_per_ip_limit, 0, 1000000),
	STRLIST("http.allowed_hosts",	allowed_hosts, nallowed_hosts,
	    check_host),
	INT("http.sse_per_user",	sse_per_user, 1, 256),
	HMS("http.sse_lifetime",	sse_lifetime, 5, 86399),
	INT("http.request_timeout",	http_request_timeout, 1, 3600),
	INT("http.body_min_rate",	http_body_min_rate, 0, 1000000000),
	INT("http.management_threads",	http_mgmt_threads, 1, 16),
	INT("http.management_queue",	http_mgmt_queue, 1, 100000),

	SECTION("log"),
	ENUM("log.level",		log_level, level_names),
	BOOL("log.access",		log_access),

	SECTION("ui"),
	STRING("ui.web_dir",		web_dir, 1, NULL),

	SECTION("auth"),
	HMS("auth.session_idle",	session_idle, 60, 86399),
	INT("auth.session_max_hours",	session_max_hours, 1, 720),
	INT("auth.argon2_memory_kib",	argon2_memory_kib, 1024, 4194304),
	INT("auth.argon2_iterations",	argon2_iterations, 1, 16),
	INT("auth.argon2_parallelism",	argon2_parallelism, 1, 16),
	INT("auth.login_max_failures",	login_max_failures, 1, 1000),
	HMS("auth.login_window",	login_window, 1, 86399),
	INT("auth.login_tracked_keys",	login_tracked_keys, 16, 1048576),
	INT("auth.max_sessions_per_user", max_sessions_per_user, 1, 10000),
	HMS("auth.session_purge_interval", session_purge_interval, 1, 86399),

	SECTION("metrics"),
	BOOL("metrics.public",		metrics_public),

	SECTION("audit"),
	INT("audit.max_age",		audit_max_age, 1, 36500),
	INT("audit.max_rows",		audit_max_rows, 1000, 100000000),
};
/* clang-format on */

/* SET_INT and SET_ENUM store an int; the enum fields must be that wide. */
_Static_assert(MSIZE(device_auth) == sizeof(int), "enum is not int-sized");
_Static_assert(MSIZE(log_level) == sizeof(int), "log_level is not an int");
_Static_assert(
    MSIZE(rauc_signature) == sizeof(int), "rauc_signature is not int-sized");
_Static_assert(
    MSIZE(swu_signature) == sizeof(int), "swu_signature is not int-sized");
_Static_assert(MSIZE(tls_client_auth) == sizeof(int) &&
                   MSIZE(tls_client_id) == sizeof(int),
    "tls enums are not int-sized");
_Static_assert(LOG_LVL_DEBUG == 3, "log.level names follow enum log_level");

/*
 * State of one load.  s points at a copy of the caller's settings that
 * replaces them only if the whole file loads and validates.
 */
struct loader {
	yaml_parser_t parser;
	struct settings *s;
	const char *name;
	const char *buf;
	size_t len;
	char *err;
	size_t errlen;
	size_t line[NELEM(table)]; /* line each key was set on, 0 = not set */
};

void
settings_defaults(struct settings *s)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->listen_address, sizeof(s->listen_address), "%s", "0.0.0.0");
	s->listen_port = 8080;
	s->listen_http_port = -1;
	snprintf(s->tls_priorities, sizeof(s->tls_priorities), "%s",
	    SETTINGS_TLS_PRIORITIES);
	s->tls_hsts_max_age = 31536000;
	s->tls_client_auth = TLS_AUTH_ACCEPTED;
	s->tls_client_id = TLS_ID_CN;
	snprintf(s->data_dir, sizeof(s->data_dir), "%s", "./data");
	snprintf(s->tenant, sizeof(s->tenant), "%s", "DEFAULT");
	s->poll_interval = 300;
	s->poll_interval_running = 30;
	s->poll_overdue = 300; /* hawkBit's pollingOverdueTime */
	s->device_auth = DEVICE_AUTH_OPEN;
	s->register_rate = 1000;
	s->register_max = 100000;
	snprintf(s->register_feed, sizeof(s->register_feed), "%s", "default");
	s->refused_max = 10000;
	s->cert_header_enabled = false;
	snprintf(s->cert_cn_header, sizeof(s->cert_cn_header), "%s",
	    "X-Controller-Id");
	snprintf(s->cert_issuer_header, sizeof(s->cert_issuer_header), "%s",
	    "X-Authority");
	snprintf(
	    s->attr_hw_model, sizeof(s->attr_hw_model), "%s", "hw_boardname");
	snprintf(s->attr_hw_revision, sizeof(s->attr_hw_revision), "%s",
	    "hw_revision");
	snprintf(
	    s->attr_sw_version, sizeof(s->attr_sw_version), "%s", "sw_version");
	snprintf(s->attr_rauc_compatible, sizeof(s->attr_rauc_compatible), "%s",
	    "compatible");
	s->rauc_signature = SIGNATURE_WARN;
	s->swu_signature = SIGNATURE_WARN;
	s->rauc_accept_encrypted = true;
	s->upload_max_size = 4 * KIB * KIB * KIB;
	s->fetch_timeout = 300;
	s->max_running = 100;
	s->stale_timeout = 3600;
	s->http_threads = 0;
	s->http_connection_limit = 4096;
	s->http_timeout = 60;
	s->http_per_ip_limit = 64;
	s->http_request_timeout = 30;
	s->http_body_min_rate = 1024;
	s->http_mgmt_threads = 2;
	s->http_mgmt_queue = 64;
	s->nallowed_hosts = 0;
	s->sse_per_user = 8;
	s->sse_lifetime = 600;
	s->log_level = LOG_LVL_INFO;
	s->log_access = true;
	snprintf(s->web_dir, sizeof(s->web_dir), "%s", "./web");
	s->session_idle = 3600;
	s->session_max_hours = 24;
	s->argon2_memory_kib = 19456;
	s->argon2_iterations = 2;
	s->argon2_parallelism = 1;
	s->login_max_failures = 5;
	s->login_window = 900;
	s->login_tracked_keys = 16384;
	s->max_sessions_per_user = 20;
	s->session_purge_interval = 60;
	s->metrics_public = false;
	s->audit_max_age = 365;
	s->audit_max_rows = 1000000;
}

const char *
settings_auth_mode_str(enum device_auth_mode mode)
{
	if ((size_t)mode < NELEM(auth_names) - 1)
		return auth_names[mode];
	return "unknown";
}

/*
 * Record the first error as "name:line: key: what".  line 0 and key NULL
 * leave their part out.  Always returns -1, so callers can return it.
 */
static int __attribute__((format(printf, 4, 5)))
fail(struct loader *l, size_t line, const char *key, const char *fmt, ...)
{
	char what[256], where[32] = "";
	va_list ap;

	if (l->err == NULL || l->errlen == 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (line > 0)
		snprintf(where, sizeof(where), ":%zu", line);
	snprintf(l->err, l->errlen, "%s%s: %s%s%s", l->name, where,
	    key ? key : "", key ? ": " : "", what);
	return -1;
}

/* A YAML mark's line, 1-based. */
static size_t
mark_line(const yaml_mark_t *m)
{
	return m->line + 1;
}

/* Index of the row for key, or -1. */
static int
find_setting(const char *key)
{
	for (size_t i = 0; i < NELEM(table); i++)
		if (strcmp(table[i].key, key) == 0)
			return (int)i;
	return -1;
}

/* Line a key was set on in this file, 0 if it was not. */
static size_t
key_line(const struct loader *l, const char *key)
{
	int i = find_setting(key);

	return i == -1 ? 0 : l->line[i];
}

/*
 * True if the character at a mark is a tab, YAML's most common mistake,
 * which libyaml reports as "found character that cannot start any token".
 * Marks count characters, so walk the line's UTF-8 sequences.
 */
static bool
tab_at(const struct loader *l, const yaml_mark_t *m)
{
	size_t i = 0, line = 0, col = 0;

	while (i < l->len && line < m->line)
		if (l->buf[i++] == '\n')
			line++;
	for (; i < l->len && l->buf[i] != '\n'; i++) {
		if (((unsigned char)l->buf[i] & 0xc0) == 0x80)
			continue;
		if (col++ == m->column)
			return l->buf[i] == '\t';
	}
	return false;
}

/*
 * Report a libyaml error.  Reader errors (bad UTF-8, control characters)
 * carry a byte offset instead of a mark, so count the lines up to it.
 */
static int
parse_error(struct loader *l)
{
	const yaml_parser_t *p = &l->parser;
	const char *problem = p->problem ? p->problem : "syntax error";
	size_t line = mark_line(&p->problem_mark);

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		return fail(l, 0, NULL, "out of memory");
	case YAML_READER_ERROR:
		line = 1;
		for (size_t i = 0; i < p->problem_offset && i < l->len; i++)
			if (l->buf[i] == '\n')
				line++;
		break;
	case YAML_SCANNER_ERROR:
		if (tab_at(l, &p->problem_mark))
			return fail(
			    l, line, NULL, "found a tab: indent with spaces");
		break;
	default:
		break;
	}
	if (p->context != NULL)
		return fail(l, line, NULL, "%s %s", problem, p->context);
	return fail(l, line, NULL, "%s", problem);
}

/*
 * Pull the next event into *ev, refusing aliases, anchors and tags.  key
 * names the value being read, for messages (NULL at the top).  0 ok and the
 * caller deletes *ev; -1 failed and there is nothing to delete.
 */
static int
next_event(struct loader *l, yaml_event_t *ev, const char *key)
{
	const yaml_char_t *anchor = NULL, *tag = NULL;
	size_t line;

	if (!yaml_parser_parse(&l->parser, ev))
		return parse_error(l);
	line = mark_line(&ev->start_mark);
	switch (ev->type) {
	case YAML_ALIAS_EVENT:
		yaml_event_delete(ev);
		return fail(l, line, key, "aliases (*name) are not allowed");
	case YAML_SCALAR_EVENT:
		anchor = ev->data.scalar.anchor;
		tag = ev->data.scalar.tag;
		break;
	case YAML_SEQUENCE_START_EVENT:
		anchor = ev->data.sequence_start.anchor;
		tag = ev->data.sequence_start.tag;
		break;
	case YAML_MAPPING_START_EVENT:
		anchor = ev->data.mapping_start.anchor;
		tag = ev->data.mapping_start.tag;
		break;
	default:
		break;
	}
	if (anchor == NULL && tag == NULL)
		return 0;
	yaml_event_delete(ev); /* zeroes *ev */
	return fail(l, line, key, "%s are not allowed",
	    anchor ? "anchors (&name)" : "tags (!name)");
}

/* What an event holds, for "expected ..., found ..." messages. */
static const char *
event_what(const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_SEQUENCE_START_EVENT:
		return "a list";
	case YAML_MAPPING_START_EVENT:
		return "a mapping";
	default:
		return "a single value";
	}
}

/* A plain empty, ~ or null scalar: YAML's null, "nothing here". */
static bool
is_null(const yaml_event_t *ev)
{
	const char *v = (const char *)ev->data.scalar.value;

	if (ev->type != YAML_SCALAR_EVENT ||
	    ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	return strcmp(v, "") == 0 || strcmp(v, "~") == 0 ||
	       strcmp(v, "null") == 0 || strcmp(v, "Null") == 0 ||
	       strcmp(v, "NULL") == 0;
}

/* What is wrong with the bytes of a scalar, or NULL if nothing is. */
static const char *
text_problem(const yaml_event_t *ev)
{
	const char *v = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;

	if (!utf8_valid(v, len))
		return "holds a NUL byte or invalid UTF-8";
	/* C0, DEL and C1 (U+0080..U+009F, 0xc2 0x80..0x9f in UTF-8). */
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f ||
		    ((unsigned char)v[i] == 0xc2 && i + 1 < len &&
		        (unsigned char)v[i + 1] < 0xa0))
			return "holds a control character";
	return NULL;
}

/*
 * Copy a key into out (SETTINGS_KEY_MAX bytes) fit to print: control and
 * non-ASCII bytes become '?', and a long key is cut short with "...".
 */
static void
printable_key(const char *key, char *out)
{
	size_t i;

	for (i = 0; key[i] != '\0' && i < SETTINGS_KEY_MAX - 4; i++)
		out[i] = key[i] >= 0x20 && key[i] < 0x7f ? key[i] : '?';
	if (key[i] != '\0')
		memcpy(out + i, "...", 4);
	else
		out[i] = '\0';
}

/*
 * Find the row for a key event inside the mapping named prefix ("" at the
 * top) and mark it set.  NULL and an error for anything but a known key seen
 * for the first time.
 */
static const struct setting *
lookup_key(struct loader *l, const char *prefix, const yaml_event_t *ev)
{
	char full[SETTINGS_KEY_MAX * 2], shown[SETTINGS_KEY_MAX];
	size_t line = mark_line(&ev->start_mark);
	const char *k;
	int i;

	if (ev->type != YAML_SCALAR_EVENT) {
		fail(l, line, *prefix ? prefix : NULL,
		    "expected a key, found %s", event_what(ev));
		return NULL;
	}
	k = (const char *)ev->data.scalar.value;
	/* Keys are single words: a NUL or dot inside would fake a match, and
	 * a cut-short key could too. */
	if ((size_t)snprintf(full, sizeof(full), "%s%s%s", prefix,
	        *prefix ? "." : "", k) >= sizeof(full) ||
	    strlen(k) != ev->data.scalar.length || strchr(k, '.') != NULL ||
	    (i = find_setting(full)) == -1) {
		if (*k == '\0')
			snprintf(full, sizeof(full), "%s%s\"\"", prefix,
			    *prefix ? "." : "");
		printable_key(full, shown);
		fail(l, line, shown, "unknown key");
		return NULL;
	}
	if (l->line[i] != 0) {
		fail(l, line, table[i].key, "duplicate key (first on line %zu)",
		    l->line[i]);
		return NULL;
	}
	l->line[i] = line;
	return &table[i];
}

/* Print a byte count with the largest exact suffix, "4G", "1536K". */
static void
format_size(uint64_t n, char *buf, size_t len)
{
	static const char suffix[] = "\0KMGT";
	int i = 0;

	while (i < 4 && n != 0 && n % 1024 == 0) {
		n /= 1024;
		i++;
	}
	snprintf(buf, len, "%llu%.1s", (unsigned long long)n, &suffix[i]);
}

static int
set_string(struct loader *l, const struct setting *e, size_t line,
    const char *v, size_t len)
{
	char *dst = (char *)l->s + e->off;
	const char *why;

	if ((int64_t)len > e->max)
		return fail(l, line, e->key, "longer than %lld bytes",
		    (long long)e->max);
	if ((int64_t)len < e->min)
		return fail(l, line, e->key, "must not be empty");
	if (e->check != NULL && len > 0 && (why = e->check(v)) != NULL)
		return fail(l, line, e->key, "%s", why);
	memcpy(dst, v, len + 1);
	return 0;
}

static int
set_int(struct loader *l, const struct setting *e, size_t line, const char *v)
{
	int64_t n;

	if (parse_int64(v, e->min, e->max, &n) == -1)
		return fail(l, line, e->key,
		    "must be an integer from %lld to %lld", (long long)e->min,
		    (long long)e->max);
	*(int *)(void *)((char *)l->s + e->off) = (int)n;
	return 0;
}

static int
set_hms(struct loader *l, const struct setting *e, size_t line, const char *v)
{
	char lo[9], hi[9];
	int secs;

	if (parse_hms(v, &secs) == -1 || secs < e->min || secs > e->max) {
		format_hms((int)e->min, lo);
		format_hms((int)e->max, hi);
		return fail(l, line, e->key,
		    "must be a duration \"HH:MM:SS\" from %s to %s", lo, hi);
	}
	*(int *)(void *)((char *)l->s + e->off) = secs;
	return 0;
}

static int
set_size(struct loader *l, const struct setting *e, size_t line, const char *v)
{
	char lo[32], hi[32];
	uint64_t n;

	if (parse_size(v, (uint64_t)e->max, &n) == -1 || n < (uint64_t)e->min) {
		format_size((uint64_t)e->min, lo, sizeof(lo));
		format_size((uint64_t)e->max, hi, sizeof(hi));
		return fail(l, line, e->key,
		    "must be a size from %s to %s (a number with an optional "
		    "K, M, G or T suffix)",
		    lo, hi);
	}
	*(uint64_t *)(void *)((char *)l->s + e->off) = n;
	return 0;
}

static int
set_bool(struct loader *l, const struct setting *e, size_t line, const char *v)
{
	bool *dst = (bool *)(void *)((char *)l->s + e->off);

	if (strcmp(v, "true") == 0)
		*dst = true;
	else if (strcmp(v, "false") == 0)
		*dst = false;
	else
		return fail(l, line, e->key, "must be true or false");
	return 0;
}

static int
set_enum(struct loader *l, const struct setting *e, size_t line, const char *v)
{
	char list[128] = "";
	size_t n = 0;
	int i;

	for (i = 0; e->names[i] != NULL; i++) {
		if (strcmp(v, e->names[i]) == 0) {
			*(int *)(void *)((char *)l->s + e->off) = i;
			return 0;
		}
	}
	/* "a, b or c" */
	for (int k = 0; k < i && n < sizeof(list); k++) {
		const char *sep = k == i - 1 ? " or " : ", ";

		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s",
		    k == 0 ? "" : sep, e->names[k]);
	}
	return fail(l, line, e->key, "must be %s", list);
}

/*
 * Parse "ADDR" or "ADDR/PREFIX" into *net with the host bits cleared.  An
 * IPv4-mapped IPv6 network becomes the IPv4 network it stands for, since
 * settings_is_trusted_proxy compares mapped peers as IPv4.  NULL ok, else
 * what is wrong.
 */
static const char *
parse_net(const char *v, struct proxy_net *net)
{
	static const unsigned char mapped[12] = {
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	char host[INET6_ADDRSTRLEN];
	const char *slash = strchr(v, '/');
	size_t hlen = slash ? (size_t)(slash - v) : strlen(v);
	int64_t prefix;
	int bits;

	memset(net, 0, sizeof(*net));
	if (hlen >= sizeof(host))
		return "is not an IPv4 or IPv6 address";
	memcpy(host, v, hlen);
	host[hlen] = '\0';
	if (inet_pton(AF_INET, host, net->addr) == 1) {
		net->family = AF_INET;
		bits = 32;
	} else if (inet_pton(AF_INET6, host, net->addr) == 1) {
		net->family = AF_INET6;
		bits = 128;
	} else
		return "is not an IPv4 or IPv6 address";
	prefix = bits;
	if (slash != NULL && parse_int64(slash + 1, 0, bits, &prefix) == -1)
		return bits == 32 ? "needs a prefix length from 0 to 32"
		                  : "needs a prefix length from 0 to 128";
	net->prefix = (int)prefix;
	if (net->family == AF_INET6 && net->prefix >= 96 &&
	    memcmp(net->addr, mapped, sizeof(mapped)) == 0) {
		memmove(net->addr, net->addr + 12, 4);
		memset(net->addr + 4, 0, 12);
		net->family = AF_INET;
		net->prefix -= 96;
	}
	for (int i = 0; i < 16; i++) {
		int keep = net->prefix - i * 8;

		if (keep <= 0)
			net->addr[i] = 0;
		else if (keep < 8)
			net->addr[i] &= (unsigned char)(0xff00 >> keep);
	}
	return NULL;
}

/* Store one list entry at dst.  NULL ok, else what is wrong. */
static const char *
list_entry(const struct setting *e, void *dst, const yaml_event_t *ev)
{
	const char *v = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;
	const char *why;

	if (e->type == SET_NETLIST)
		return parse_net(v, dst);
	if (len < (size_t)e->min)
		return "must not be empty";
	if (len > (size_t)e->max)
		return "is too long";
	if (e->check != NULL && (why = e->check(v)) != NULL)
		return why;
	memcpy(dst, v, len + 1);
	return NULL;
}

/*
 * Read a list whose SEQUENCE-START has been consumed; it replaces the
 * list's old entries.
 */
static int
load_list(struct loader *l, const struct setting *e)
{
	char *base = (char *)l->s + e->off;
	size_t *count = (size_t *)(void *)((char *)l->s + e->noff);
	size_t n = 0, line;
	const char *why;
	yaml_event_t ev;

	for (;;) {
		if (next_event(l, &ev, e->key) == -1)
			return -1;
		if (ev.type == YAML_SEQUENCE_END_EVENT)
			break;
		line = mark_line(&ev.start_mark);
		if (n == e->nmax)
			why = "is one too many";
		else if (ev.type != YAML_SCALAR_EVENT)
			why = "must be a single value";
		else if ((why = text_problem(&ev)) == NULL)
			why = list_entry(e, base + n * e->size, &ev);
		yaml_event_delete(&ev);
		if (why != NULL && n == e->nmax)
			return fail(l, line, e->key,
			    "entry %zu %s (at most %zu)", n + 1, why, e->nmax);
		if (why != NULL)
			return fail(
			    l, line, e->key, "entry %zu %s", n + 1, why);
		n++;
	}
	yaml_event_delete(&ev);
	*count = n;
	return 0;
}

/* Store one scalar event's value for e. */
static int
load_scalar(struct loader *l, const struct setting *e, const yaml_event_t *ev)
{
	const char *v = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;
	size_t line = mark_line(&ev->start_mark);
	const char *why;

	if ((why = text_problem(ev)) != NULL)
		return fail(l, line, e->key, "%s", why);
	switch (e->type) {
	case SET_STRING:
		if (is_null(ev))
			return set_string(l, e, line, "", 0);
		return set_string(l, e, line, v, len);
	case SET_INT:
		return set_int(l, e, line, v);
	case SET_HMS:
		return set_hms(l, e, line, v);
	case SET_SIZE:
		return set_size(l, e, line, v);
	case SET_BOOL:
		return set_bool(l, e, line, v);
	case SET_ENUM:
		return set_enum(l, e, line, v);
	default:
		return fail(
		    l, line, e->key, "internal error: type %d", (int)e->type);
	}
}

static int load_mapping(struct loader *, const char *);

/*
 * Read the value event ev of the key e, which is on line kline.  Sections
 * recurse into their mapping; their depth is bounded by the table, as
 * unknown keys fail.
 */
static int
load_value(struct loader *l, const struct setting *e, size_t kline,
    const yaml_event_t *ev)
{
	bool list = e->type == SET_STRLIST || e->type == SET_NETLIST;

	switch (ev->type) {
	case YAML_MAPPING_START_EVENT:
		if (e->type == SET_SECTION)
			return load_mapping(l, e->key);
		break;
	case YAML_SEQUENCE_START_EVENT:
		if (list)
			return load_list(l, e);
		break;
	case YAML_SCALAR_EVENT:
		/* "proxy:" with every key commented out is an empty section. */
		if (e->type == SET_SECTION && is_null(ev))
			return 0;
		if (list && is_null(ev)) {
			*(size_t *)(void *)((char *)l->s + e->noff) = 0;
			return 0;
		}
		if (e->type != SET_SECTION && !list)
			return load_scalar(l, e, ev);
		break;
	default:
		break;
	}
	/* The key's line: a block mapping value starts on the next one. */
	return fail(l, kline, e->key, "expected %s, found %s",
	    type_what[e->type], event_what(ev));
}

/*
 * Read the keys and values of a mapping whose MAPPING-START has been
 * consumed, up to its MAPPING-END.  prefix is its dotted key, "" at the top.
 */
static int
load_mapping(struct loader *l, const char *prefix)
{
	const struct setting *e;
	yaml_event_t ev;
	size_t kline;
	int rc;

	for (;;) {
		if (next_event(l, &ev, *prefix ? prefix : NULL) == -1)
			return -1;
		if (ev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&ev);
			return 0;
		}
		kline = mark_line(&ev.start_mark);
		e = lookup_key(l, prefix, &ev);
		yaml_event_delete(&ev);
		if (e == NULL || next_event(l, &ev, e->key) == -1)
			return -1;
		rc = load_value(l, e, kline, &ev);
		yaml_event_delete(&ev);
		if (rc == -1)
			return -1;
	}
}

/* Read one document: a mapping, or nothing at all ("---" alone). */
static int
load_document(struct loader *l)
{
	yaml_event_t ev;
	int rc = 0;

	if (next_event(l, &ev, NULL) == -1)
		return -1;
	if (ev.type == YAML_MAPPING_START_EVENT)
		rc = load_mapping(l, "");
	else if (!is_null(&ev))
		rc = fail(l, mark_line(&ev.start_mark), NULL,
		    "the top level must be a mapping of keys, not %s",
		    ev.type == YAML_SEQUENCE_START_EVENT ? "a list"
		                                         : "a single value");
	yaml_event_delete(&ev);
	if (rc == -1 || next_event(l, &ev, NULL) == -1)
		return -1;
	/* The parser guarantees DOCUMENT-END after the root node. */
	yaml_event_delete(&ev);
	return 0;
}

/* Read the stream: no document (an empty file) or exactly one. */
static int
load_stream(struct loader *l)
{
	yaml_event_t ev;
	int ndocs = 0;
	size_t line;

	for (;;) {
		if (next_event(l, &ev, NULL) == -1)
			return -1;
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			yaml_event_delete(&ev);
			return 0;
		case YAML_DOCUMENT_START_EVENT:
			line = mark_line(&ev.start_mark);
			yaml_event_delete(&ev);
			if (ndocs++ > 0)
				return fail(l, line, NULL,
				    "only one YAML document is allowed");
			if (load_document(l) == -1)
				return -1;
			break;
		default: /* STREAM-START */
			yaml_event_delete(&ev);
			break;
		}
	}
}

/* Rules that tie keys together, checked once the file is read. */
static int
validate(struct loader *l)
{
	static const char enabled[] = "device_auth.proxy_cert.enabled";
	static const char issuer[] = "device_auth.proxy_cert.issuer_header";
	static const char rauc_sig[] = "rauc.signature";
	static const char swu_sig[] = "swupdate.signature";
	const struct settings *s = l->s;

	if ((s->tls_cert[0] == '\0') != (s->tls_key[0] == '\0'))
		return fail(l,
		    key_line(l, s->tls_cert[0] ? "tls.cert" : "tls.key"),
		    s->tls_cert[0] ? "tls.cert" : "tls.key", "needs %s as well",
		    s->tls_cert[0] ? "tls.key" : "tls.cert");
	if (s->listen_http_port != -1 && s->tls_cert[0] == '\0')
		return fail(l, key_line(l, "listen.http_port"),
		    "listen.http_port",
		    "is the plain HTTP listener beside HTTPS: it needs "
		    "tls.cert (without it listen.port speaks plain HTTP)");
	if (s->listen_http_port > 0 && s->listen_http_port == s->listen_port)
		return fail(l, key_line(l, "listen.http_port"),
		    "listen.http_port", "must differ from listen.port");
	if (s->tls_client_ca[0] && s->tls_cert[0] == '\0')
		return fail(l, key_line(l, "tls.client_ca"), "tls.client_ca",
		    "needs tls.cert: client certificates come over HTTPS");
	if (s->tls_client_auth == TLS_AUTH_REQUIRED &&
	    s->tls_client_ca[0] == '\0')
		return fail(l, key_line(l, "tls.client_auth"),
		    "tls.client_auth", "required needs tls.client_ca");

	if (s->cert_header_enabled && s->ncert_authorities == 0)
		return fail(l, key_line(l, enabled), enabled,
		    "needs at least one entry in "
		    "device_auth.proxy_cert.trusted_issuers");
	/*
	 * Anyone could send the headers; only a proxy's word counts, and
	 * only the word of a proxy trusted for them: proxy.trusted may also
	 * list load balancers that pass headers through.  Before
	 * proxy.cert_trusted existed, proxy.trusted was that list, so it
	 * still stands in (main warns).
	 */
	if (l->s->cert_proxies_from_trusted &&
	    key_line(l, "proxy.cert_trusted") == 0)
		l->s->ncert_proxies = 0; /* a copy made by an earlier load */
	l->s->cert_proxies_from_trusted = false;
	if (s->cert_header_enabled && s->ncert_proxies == 0 &&
	    s->nproxies > 0) {
		memcpy(l->s->cert_proxies, s->proxies, sizeof(s->proxies));
		l->s->ncert_proxies = s->nproxies;
		l->s->cert_proxies_from_trusted = true;
	}
	if (s->cert_header_enabled && s->ncert_proxies == 0)
		return fail(l, key_line(l, enabled), enabled,
		    "needs proxy.cert_trusted, the proxy that checks the "
		    "certificates");
	if (strcasecmp(s->cert_cn_header, s->cert_issuer_header) == 0)
		return fail(l, key_line(l, issuer), issuer,
		    "must differ from device_auth.proxy_cert.cn_header");
	if (s->swu_signature == SIGNATURE_REQUIRE && s->swu_keyring[0] == 0)
		return fail(l, key_line(l, swu_sig), swu_sig,
		    "require needs swupdate.keyring, the certificate devices "
		    "use");
	if (s->rauc_signature == SIGNATURE_REQUIRE && s->rauc_keyring[0] == 0)
		return fail(l, key_line(l, rauc_sig), rauc_sig,
		    "require needs rauc.keyring, the keyring devices use");
	return 0;
}

int
settings_load_mem(struct settings *s, const char *name, const char *buf,
    size_t len, char *err, size_t errlen)
{
	struct settings tmp = *s;
	struct loader l;
	int rc;

	memset(&l, 0, sizeof(l));
	l.s = &tmp;
	l.name = name ? name : "settings";
	l.buf = buf ? buf : "";
	l.len = buf ? len : 0;
	l.err = err;
	l.errlen = errlen;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (l.len > SETTINGS_FILE_MAX)
		return fail(
		    &l, 0, NULL, "larger than %d bytes", SETTINGS_FILE_MAX);
	if (!yaml_parser_initialize(&l.parser))
		return fail(&l, 0, NULL, "out of memory");
	yaml_parser_set_input_string(
	    &l.parser, (const unsigned char *)l.buf, l.len);
	yaml_parser_set_encoding(&l.parser, YAML_UTF8_ENCODING);
	rc = load_stream(&l);
	yaml_parser_delete(&l.parser);
	if (rc == 0)
		rc = validate(&l);
	if (rc == 0)
		*s = tmp;
	return rc;
}

int
settings_load(struct settings *s, const char *path, char *err, size_t errlen)
{
	struct loader l = {.name = path, .err = err, .errlen = errlen};
	char *buf = NULL;
	size_t len = 0;
	struct stat st;
	ssize_t n;
	int fd = -1, rc = -1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		fail(&l, 0, NULL, "cannot open: %s", strerror(errno));
		goto done;
	}
	if (fstat(fd, &st) == -1) {
		fail(&l, 0, NULL, "cannot stat: %s", strerror(errno));
		goto done;
	}
	if (!S_ISREG(st.st_mode)) {
		fail(&l, 0, NULL, "not a regular file");
		goto done;
	}
	if (st.st_size > SETTINGS_FILE_MAX) {
		fail(&l, 0, NULL, "larger than %d bytes", SETTINGS_FILE_MAX);
		goto done;
	}
	buf = xmalloc((size_t)st.st_size + 1);
	while (len < (size_t)st.st_size) {
		n = read(fd, buf + len, (size_t)st.st_size - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			fail(&l, 0, NULL, "cannot read: %s", strerror(errno));
			goto done;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	rc = settings_load_mem(s, path, buf, len, err, errlen);
done:
	if (fd != -1)
		close(fd);
	free(buf);
	return rc;
}

/* True if the first prefix bits of addr equal those of net. */
static bool
net_contains(const struct proxy_net *net, const unsigned char *addr)
{
	int whole = net->prefix / 8, rest = net->prefix % 8;
	unsigned char mask = (unsigned char)(0xff00 >> rest);

	if (memcmp(net->addr, addr, (size_t)whole) != 0)
		return false;
	return rest == 0 || (addr[whole] & mask) == net->addr[whole];
}

/* True if sockaddr is inside one of the n networks. */
static bool
nets_contain(const struct proxy_net *nets, size_t n, const void *sockaddr)
{
	const struct sockaddr *sa = sockaddr;
	const struct sockaddr_in *sin;
	const struct sockaddr_in6 *sin6;
	unsigned char addr[16];
	int family;

	if (sa == NULL)
		return false;
	switch (sa->sa_family) {
	case AF_INET:
		sin = sockaddr;
		memcpy(addr, &sin->sin_addr, 4);
		family = AF_INET;
		break;
	case AF_INET6:
		sin6 = sockaddr;
		memcpy(addr, &sin6->sin6_addr, 16);
		family = AF_INET6;
		/* A dual-stack socket shows IPv4 peers as ::ffff:a.b.c.d. */
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			memmove(addr, addr + 12, 4);
			family = AF_INET;
		}
		break;
	default:
		return false;
	}
	for (size_t i = 0; i < n && i < SETTINGS_MAX_PROXIES; i++)
		if (nets[i].family == family && net_contains(&nets[i], addr))
			return true;
	return false;
}

bool
settings_is_trusted_proxy(const struct settings *s, const void *sockaddr)
{
	return s != NULL && nets_contain(s->proxies, s->nproxies, sockaddr);
}

bool
settings_is_cert_proxy(const struct settings *s, const void *sockaddr)
{
	return s != NULL &&
	       nets_contain(s->cert_proxies, s->ncert_proxies, sockaddr);
}

/* Checks for string keys; each says what is wrong, or NULL. */

static const char *
check_address(const char *v)
{
	unsigned char buf[sizeof(struct in6_addr)];

	if (inet_pton(AF_INET, v, buf) != 1 && inet_pton(AF_INET6, v, buf) != 1)
		return "is not an IPv4 or IPv6 address";
	return NULL;
}

static const char *
check_url(const char *v)
{
	const char *host;
	size_t len = strlen(v);

	if (strncmp(v, "http://", 7) == 0)
		host = v + 7;
	else if (strncmp(v, "https://", 8) == 0)
		host = v + 8;
	else
		return "must start with http:// or https://";
	for (size_t i = 0; i < len; i++)
		if (v[i] <= ' ' || v[i] >= 0x7f)
			return "must be printable ASCII without spaces";
	if (*host == '\0' || *host == '/')
		return "needs a host name";
	if (strpbrk(v, "?#") != NULL)
		return "must not have a query (?) or fragment (#)";
	if (v[len - 1] == '/')
		return "must not end with a slash";
	return NULL;
}

static const char *
check_tenant(const char *v)
{
	if (strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	              "0123456789_.-") != strlen(v))
		return "may hold only letters, digits, '_', '.' and '-'";
	return NULL;
}

static const char *
check_token(const char *v)
{
	size_t len = strlen(v);

	if (len < 16)
		return "must be empty or at least 16 characters";
	for (size_t i = 0; i < len; i++)
		if (v[i] <= ' ' || v[i] >= 0x7f)
			return "must be printable ASCII without spaces";
	return NULL;
}

/* An HTTP field name: RFC 9110 token characters. */
static const char *
check_header(const char *v)
{
	if (strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	              "0123456789!#$%&'*+-.^_`|~") != strlen(v))
		return "is not an HTTP header name";
	return NULL;
}

static const char *
check_pattern(const char *v)
{
	return *v ? hwcompat_pattern_check(v) : NULL;
}

/* A feed name, as the API takes it (device.c, rollout.c). */
static const char *
check_feed(const char *v)
{
	if (strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	              "0123456789_.-") != strlen(v))
		return "may hold only letters, digits, '_', '.' and '-'";
	return NULL;
}

/* An http.allowed_hosts entry: "*", a host name (a leading "*." matches
 * its subdomains) or an IP address ([IPv6] too), without a port. */
static const char *
check_host(const char *v)
{
	unsigned char buf[sizeof(struct in6_addr)];
	char addr[INET6_ADDRSTRLEN];
	size_t n = strlen(v), skip = 0;

	if (strcmp(v, "*") == 0 || inet_pton(AF_INET, v, buf) == 1 ||
	    inet_pton(AF_INET6, v, buf) == 1)
		return NULL;
	if (n > 2 && v[0] == '[' && v[n - 1] == ']' && n - 2 < sizeof(addr)) {
		memcpy(addr, v + 1, n - 2);
		addr[n - 2] = '\0';
		if (inet_pton(AF_INET6, addr, buf) == 1)
			return NULL;
	}
	if (n > 2 && v[0] == '*' && v[1] == '.')
		skip = 2;
	if (n == skip || v[skip] == '.' || v[skip] == '-' ||
	    strspn(v + skip,
	        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	        "0123456789.-_") != n - skip)
		return "must be *, a host name or an IP address, without a "
		       "port";
	return NULL;
}

/* A network of proxy.trusted or cert_trusted back in "ADDR/PREFIX" form. */
static json_t *
settings_net_json(const struct proxy_net *n)
{
	char addr[INET6_ADDRSTRLEN], *s;
	json_t *v;

	inet_ntop(n->family, n->addr, addr, sizeof(addr));
	s = xasprintf("%s/%d", addr, n->prefix);
	v = json_string(s);
	free(s);
	return v;
}

/* Secrets never leave the process: shown masked when set. */
static bool
settings_is_secret(const char *key)
{
	return strcmp(key, "device_auth.gateway_token") == 0;
}

json_t *
settings_to_json(const struct settings *s)
{
	const char *base = (const char *)s;
	json_t *o = json_object(), *list;

	for (size_t i = 0; i < NELEM(table); i++) {
		const struct setting *e = &table[i];
		const char *p = base + e->off;
		json_t *v = NULL;
		size_t n;

		switch (e->type) {
		case SET_SECTION:
			continue;
		case SET_STRING:
			v = json_string(
			    settings_is_secret(e->key) && *p ? "********" : p);
			break;
		case SET_INT:
			v = json_integer(*(const int *)(const void *)p);
			break;
		case SET_HMS: {
			char hms[9];

			format_hms(*(const int *)(const void *)p, hms);
			v = json_string(hms);
			break;
		}
		case SET_SIZE:
			v = json_integer(
			    (json_int_t) * (const uint64_t *)(const void *)p);
			break;
		case SET_BOOL:
			v = json_boolean(*(const bool *)(const void *)p);
			break;
		case SET_ENUM:
			v = json_string(
			    e->names[*(const int *)(const void *)p]);
			break;
		case SET_STRLIST:
			list = json_array();
			n = *(const size_t *)(const void *)(base + e->noff);
			for (size_t k = 0; k < n; k++)
				json_array_append_new(
				    list, json_string(p + k * e->size));
			v = list;
			break;
		case SET_NETLIST:
			list = json_array();
			n = *(const size_t *)(const void *)(base + e->noff);
			for (size_t k = 0; k < n; k++)
				json_array_append_new(list,
				    settings_net_json((const struct proxy_net
				            *)(const void *)(p + k * e->size)));
			v = list;
			break;
		}
		json_object_set_new(o, e->key, v ? v : json_null());
	}
	return o;
}
