/*
 * Runtime system configuration.  The key table below gives each key its
 * type and bounds; sysconf_build starts a snapshot from settings.yaml and
 * the table's rows go over it.  The published snapshot is the one piece
 * of mutable state here: a pointer swapped under a mutex when a change
 * commits.  Device-path readers take the mutex for a few loads and never
 * wait on the database; sysconf_apply serialises writers with a second
 * mutex, so the old values in its audit text are the ones replaced.
 *
 * The snapshot is process-wide because its readers (device.c's online
 * flag, auth.c) are handed the settings only; before the first
 * sysconf_reload (the command line, unit tests) readers get
 * settings.yaml's values.
 */
#include "sysconf.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "db.h"
#include "log.h"
#include "settings.h"

/*
 * Columns: hawkBit's key name, type, and the bounds of a duration or
 * integer (seconds or the number), or of a string's length.
 */
struct sysconf_def {
	const char *name;
	enum sysconf_type type;
	int min, max;
};

/* clang-format off */
static const struct sysconf_def defs[SYSCONF_NKEYS] = {
	[SYSCONF_POLLING_TIME] =        { "pollingTime", SYSCONF_DURATION, 1, 86399 },
	[SYSCONF_POLLING_OVERDUE] =     { "pollingOverdueTime", SYSCONF_DURATION, 0, 86399 },
	[SYSCONF_TARGETTOKEN_ENABLED] = { "authentication.targettoken.enabled", SYSCONF_BOOL, 0, 0 },
	[SYSCONF_GATEWAY_ENABLED] =     { "authentication.gatewaytoken.enabled", SYSCONF_BOOL, 0, 0 },
	[SYSCONF_GATEWAY_KEY] =         { "authentication.gatewaytoken.key", SYSCONF_STRING, 0, SYSCONF_GATEWAY_KEY_MAX },
	[SYSCONF_HEADER_ENABLED] =      { "authentication.header.enabled", SYSCONF_BOOL, 0, 0 },
	[SYSCONF_HEADER_AUTHORITY] =    { "authentication.header.authority", SYSCONF_STRING, 0, SYSCONF_VALUE_MAX - 1 },
	[SYSCONF_MW_POLL_COUNT] =       { "maintenanceWindowPollCount", SYSCONF_INT, 1, 100 },
};
/* clang-format on */

static pthread_mutex_t snap_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t apply_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sysconf_snap *published; /* NULL: settings.yaml's */

int
sysconf_key_find(const char *name)
{
	for (int k = 0; k < SYSCONF_NKEYS; k++)
		if (strcmp(defs[k].name, name) == 0)
			return k;
	return -1;
}

const char *
sysconf_key_name(enum sysconf_key k)
{
	return defs[k].name;
}

enum sysconf_type
sysconf_key_type(enum sysconf_key k)
{
	return defs[k].type;
}

const char *
sysconf_type_name(enum sysconf_type t)
{
	static const char *const names[] = {
	    "duration", "bool", "string", "int"};

	return names[t];
}

bool
sysconf_key_secret(enum sysconf_key k)
{
	return k == SYSCONF_GATEWAY_KEY;
}

/*
 * Split an authority list on ',' and ';' into out (blanks around each
 * entry dropped, empty entries skipped).  The count, or -1 for too many
 * or too long entries.
 */
static int
sysconf_split_authorities(
    const char *text, char out[][SYSCONF_AUTHORITY_MAX], size_t max)
{
	const char *p = text;
	size_t n = 0;

	while (*p) {
		size_t len, skip = strspn(p, " \t");

		p += skip;
		len = strcspn(p, ",;");
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len > 0) {
			if (n == max || len >= SYSCONF_AUTHORITY_MAX)
				return -1;
			memcpy(out[n], p, len);
			out[n++][len] = '\0';
		}
		p += strcspn(p, ",;");
		if (*p)
			p++;
	}
	return (int)n;
}

static const char *
sysconf_parse_string(enum sysconf_key k, const char *v, char *out)
{
	char list[SYSCONF_AUTHORITIES_MAX][SYSCONF_AUTHORITY_MAX];
	size_t len = strlen(v);

	if (len > (size_t)defs[k].max)
		return "is too long";
	if (!utf8_valid(v, len))
		return "must be UTF-8 text";
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)v[i] < ' ' || v[i] == 0x7f)
			return "must not hold control characters";
	if (k == SYSCONF_GATEWAY_KEY && len > 0) {
		if (len < SYSCONF_GATEWAY_KEY_MIN)
			return "must be empty or at least 16 characters";
		for (size_t i = 0; i < len; i++)
			if (v[i] <= ' ' || (unsigned char)v[i] >= 0x7f)
				return "must be printable ASCII without "
				       "spaces";
	}
	if (k == SYSCONF_HEADER_AUTHORITY &&
	    sysconf_split_authorities(v, list, SYSCONF_AUTHORITIES_MAX) < 0)
		return "holds at most 16 authorities of 127 bytes, "
		       "separated by , or ;";
	memcpy(out, v, len + 1);
	return NULL;
}

const char *
sysconf_parse(enum sysconf_key k, const json_t *v, char out[SYSCONF_VALUE_MAX])
{
	const struct sysconf_def *d = &defs[k];
	json_int_t n;
	int secs;

	switch (d->type) {
	case SYSCONF_DURATION:
		if (!json_is_string(v) ||
		    parse_hms(json_string_value(v), &secs) == -1)
			return "must be a string HH:MM:SS";
		if (secs < d->min || secs > d->max)
			return d->min ? "must be 00:00:01 to 23:59:59"
			              : "must be 00:00:00 to 23:59:59";
		format_hms(secs, out);
		return NULL;
	case SYSCONF_BOOL:
		if (!json_is_boolean(v))
			return "must be true or false";
		snprintf(out, SYSCONF_VALUE_MAX, "%s",
		    json_is_true(v) ? "true" : "false");
		return NULL;
	case SYSCONF_INT:
		if (!json_is_integer(v))
			return "must be an integer";
		n = json_integer_value(v);
		if (n < d->min || n > d->max)
			return "must be 1 to 100";
		snprintf(out, SYSCONF_VALUE_MAX, "%lld", (long long)n);
		return NULL;
	case SYSCONF_STRING:
		if (!json_is_string(v))
			return "must be a string";
		return sysconf_parse_string(k, json_string_value(v), out);
	}
	return "has no type";
}

json_t *
sysconf_value_json(enum sysconf_key k, const char *text)
{
	json_t *v = NULL;
	char check[SYSCONF_VALUE_MAX];
	long long n;
	char *end;

	switch (defs[k].type) {
	case SYSCONF_DURATION:
	case SYSCONF_STRING:
		v = json_string(text);
		break;
	case SYSCONF_BOOL:
		if (strcmp(text, "true") == 0 || strcmp(text, "false") == 0)
			v = json_boolean(text[0] == 't');
		break;
	case SYSCONF_INT:
		n = strtoll(text, &end, 10);
		if (*text && *end == '\0')
			v = json_integer(n);
		break;
	}
	/* Stored text the rules of today refuse is no value. */
	if (v && sysconf_parse(k, v, check) != NULL) {
		json_decref(v);
		v = NULL;
	}
	return v;
}

/* The parsed forms of e[k] into the snapshot's fields. */
static void
sysconf_snap_derive(struct sysconf_snap *sn, enum sysconf_key k)
{
	const char *t = sn->e[k].text;
	int n;

	switch (k) {
	case SYSCONF_POLLING_TIME:
		parse_hms(t, &sn->polling_time);
		break;
	case SYSCONF_POLLING_OVERDUE:
		parse_hms(t, &sn->polling_overdue);
		break;
	case SYSCONF_TARGETTOKEN_ENABLED:
		sn->targettoken = strcmp(t, "true") == 0;
		break;
	case SYSCONF_GATEWAY_ENABLED:
		sn->gateway = strcmp(t, "true") == 0;
		break;
	case SYSCONF_GATEWAY_KEY:
		snprintf(sn->gateway_key, sizeof(sn->gateway_key), "%s", t);
		break;
	case SYSCONF_HEADER_ENABLED:
		sn->header = strcmp(t, "true") == 0;
		break;
	case SYSCONF_HEADER_AUTHORITY:
		n = sysconf_split_authorities(
		    t, sn->authorities, SYSCONF_AUTHORITIES_MAX);
		sn->nauthorities = n > 0 ? (size_t)n : 0;
		break;
	case SYSCONF_MW_POLL_COUNT:
		sn->mw_poll_count = atoi(t); /* checked by sysconf_parse */
		break;
	case SYSCONF_NKEYS:
		break;
	}
}

void
sysconf_build(const struct settings *s, struct sysconf_snap *out)
{
	struct sysconf_entry *e = out->e;
	size_t off = 0;

	memset(out, 0, sizeof(*out));
	format_hms(s->poll_interval, e[SYSCONF_POLLING_TIME].text);
	format_hms(s->poll_overdue, e[SYSCONF_POLLING_OVERDUE].text);
	snprintf(
	    e[SYSCONF_TARGETTOKEN_ENABLED].text, SYSCONF_VALUE_MAX, "true");
	snprintf(e[SYSCONF_GATEWAY_ENABLED].text, SYSCONF_VALUE_MAX, "%s",
	    s->gateway_token[0] ? "true" : "false");
	snprintf(e[SYSCONF_GATEWAY_KEY].text, SYSCONF_VALUE_MAX, "%s",
	    s->gateway_token);
	snprintf(e[SYSCONF_HEADER_ENABLED].text, SYSCONF_VALUE_MAX, "%s",
	    s->cert_header_enabled ? "true" : "false");
	for (size_t i = 0; i < s->ncert_authorities; i++) {
		int n = snprintf(e[SYSCONF_HEADER_AUTHORITY].text + off,
		    SYSCONF_VALUE_MAX - off, "%s%s", i ? "," : "",
		    s->cert_authorities[i]);

		if (n < 0 || (size_t)n >= SYSCONF_VALUE_MAX - off)
			break;
		off += (size_t)n;
	}
	snprintf(e[SYSCONF_MW_POLL_COUNT].text, SYSCONF_VALUE_MAX, "%d",
	    SYSCONF_MW_POLL_COUNT_DEFAULT);
	for (int k = 0; k < SYSCONF_NKEYS; k++)
		sysconf_snap_derive(out, (enum sysconf_key)k);
}

int
sysconf_snap_set(struct sysconf_snap *sn, enum sysconf_key k, const char *text,
    int64_t at, const char *by)
{
	json_t *v = sysconf_value_json(k, text);

	json_decref(v);
	if (v == NULL)
		return -1;
	snprintf(sn->e[k].text, SYSCONF_VALUE_MAX, "%s", text);
	sn->e[k].stored = true;
	sn->e[k].updated_at = at;
	snprintf(sn->e[k].updated_by, SYSCONF_BY_MAX, "%s", by ? by : "");
	sysconf_snap_derive(sn, k);
	return 0;
}

/* A snapshot of settings.yaml with the table's rows over it. */
static struct sysconf_snap *
sysconf_read(struct db *db, const struct settings *s)
{
	static const char sql[] = "SELECT config_key, config_value, "
	                          "updated_at, updated_by FROM system_config";
	struct sysconf_snap *sn = xmalloc(sizeof(*sn));
	sqlite3_stmt *st;
	int rc, k;

	sysconf_build(s, sn);
	if ((st = db_prepare(db, sql)) == NULL) {
		free(sn);
		return NULL;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		const char *text = (const char *)sqlite3_column_text(st, 1);

		if ((k = sysconf_key_find(name)) < 0 ||
		    sysconf_snap_set(sn, (enum sysconf_key)k, text,
		        sqlite3_column_int64(st, 2),
		        (const char *)sqlite3_column_text(st, 3)) == -1)
			log_warnx("system configuration: ignoring the stored "
			          "value of %s, which is not valid",
			    name);
	}
	db_done(st);
	if (rc != SQLITE_DONE) {
		db_log_error(db, __func__);
		free(sn);
		return NULL;
	}
	return sn;
}

static void
sysconf_publish(struct sysconf_snap *sn)
{
	struct sysconf_snap *old;

	pthread_mutex_lock(&snap_lock);
	old = published;
	published = sn;
	pthread_mutex_unlock(&snap_lock);
	if (old)
		explicit_bzero(old->gateway_key, sizeof(old->gateway_key));
	free(old);
}

int
sysconf_reload(struct db *db, const struct settings *s)
{
	struct sysconf_snap *sn = sysconf_read(db, s);

	if (sn == NULL)
		return -1;
	sysconf_publish(sn);
	return 0;
}

void
sysconf_shutdown(void)
{
	sysconf_publish(NULL);
}

/* Append "key: old -> new" to the audit text in b. */
static void
sysconf_audit_add(struct buf *b, enum sysconf_key k, const char *old,
    const char *new, bool reset)
{
	bool secret = sysconf_key_secret(k);

	if (b->len)
		buf_adds(b, "; ");
	buf_adds(b, defs[k].name);
	buf_adds(b, ": ");
	buf_adds(b, secret ? (old[0] ? "***" : "\"\"") : old);
	buf_adds(b, " -> ");
	buf_adds(b, secret ? (new[0] ? "***" : "\"\"") : new);
	if (reset)
		buf_adds(b, " (settings.yaml)");
}

static enum result
sysconf_write(struct db *db, const struct sysconf_change *c, const char *by)
{
	static const char upsert[] =
	    "INSERT INTO system_config (config_key, config_value, updated_at, "
	    "updated_by) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (config_key) DO "
	    "UPDATE SET config_value = excluded.config_value, updated_at = "
	    "excluded.updated_at, updated_by = excluded.updated_by";
	static const char del[] =
	    "DELETE FROM system_config WHERE config_key = ?1";
	sqlite3_stmt *st = db_prepare(db, c->reset ? del : upsert);

	if (st == NULL)
		return RESULT_ERROR;
	db_bind_text(st, 1, defs[c->key].name);
	if (!c->reset) {
		db_bind_text(st, 2, c->text);
		db_bind_int64(st, 3, now_s());
		db_bind_text(st, 4, by);
	}
	return db_step_done(db, st, __func__);
}

enum result
sysconf_apply(struct db *db, const struct settings *s,
    const struct sysconf_change *c, size_t n, const char *by, char **audit)
{
	struct sysconf_snap *before = xmalloc(sizeof(*before)), *after;
	struct sysconf_snap *yaml = xmalloc(sizeof(*yaml));
	enum result r = RESULT_ERROR;
	struct buf b = {0};

	*audit = NULL;
	pthread_mutex_lock(&apply_lock);
	sysconf_get(s, before);
	sysconf_build(s, yaml);
	if (db_begin(db) == -1)
		goto done;
	for (size_t i = 0; i < n; i++)
		if (sysconf_write(db, &c[i], by) != RESULT_OK) {
			db_rollback(db);
			goto done;
		}
	if (db_commit(db) == -1)
		goto done;
	if ((after = sysconf_read(db, s)) == NULL)
		goto done;
	for (size_t i = 0; i < n; i++)
		sysconf_audit_add(&b, c[i].key, before->e[c[i].key].text,
		    c[i].reset ? yaml->e[c[i].key].text : c[i].text,
		    c[i].reset);
	sysconf_publish(after);
	*audit = buf_take(&b, NULL);
	r = RESULT_OK;
done:
	pthread_mutex_unlock(&apply_lock);
	free(b.data);
	explicit_bzero(before, sizeof(*before));
	explicit_bzero(yaml, sizeof(*yaml));
	free(before);
	free(yaml);
	return r;
}

void
sysconf_get(const struct settings *s, struct sysconf_snap *out)
{
	bool have;

	pthread_mutex_lock(&snap_lock);
	if ((have = published != NULL))
		memcpy(out, published, sizeof(*out));
	pthread_mutex_unlock(&snap_lock);
	if (!have)
		sysconf_build(s, out);
}

int
sysconf_polling_time(const struct settings *s)
{
	int v;

	pthread_mutex_lock(&snap_lock);
	v = published ? published->polling_time : s->poll_interval;
	pthread_mutex_unlock(&snap_lock);
	return v;
}

int
sysconf_polling_overdue(const struct settings *s)
{
	int v;

	pthread_mutex_lock(&snap_lock);
	v = published ? published->polling_overdue : s->poll_overdue;
	pthread_mutex_unlock(&snap_lock);
	return v;
}

int
sysconf_mw_poll_count(const struct settings *s)
{
	int v;

	(void)s;
	pthread_mutex_lock(&snap_lock);
	v = published ? published->mw_poll_count
	              : SYSCONF_MW_POLL_COUNT_DEFAULT;
	pthread_mutex_unlock(&snap_lock);
	return v;
}

bool
sysconf_targettoken_enabled(const struct settings *s)
{
	bool v;

	(void)s;
	pthread_mutex_lock(&snap_lock);
	v = published ? published->targettoken : true;
	pthread_mutex_unlock(&snap_lock);
	return v;
}

bool
sysconf_gateway_ok(const struct settings *s, const char *token)
{
	bool ok;

	pthread_mutex_lock(&snap_lock);
	if (published)
		ok = published->gateway && published->gateway_key[0] &&
		     ct_equal(token, strlen(token), published->gateway_key,
		         strlen(published->gateway_key));
	else
		ok = s->gateway_token[0] &&
		     ct_equal(token, strlen(token), s->gateway_token,
		         strlen(s->gateway_token));
	pthread_mutex_unlock(&snap_lock);
	return ok;
}

bool
sysconf_header_enabled(const struct settings *s)
{
	bool v;

	pthread_mutex_lock(&snap_lock);
	v = published ? published->header : s->cert_header_enabled;
	pthread_mutex_unlock(&snap_lock);
	return v;
}

bool
sysconf_authority_trusted(const struct settings *s, const char *authority)
{
	bool ok = false;

	pthread_mutex_lock(&snap_lock);
	if (published) {
		for (size_t i = 0; i < published->nauthorities && !ok; i++)
			ok = strcasecmp(authority, published->authorities[i]) ==
			     0;
	} else {
		for (size_t i = 0; i < s->ncert_authorities && !ok; i++)
			ok = strcasecmp(authority, s->cert_authorities[i]) == 0;
	}
	pthread_mutex_unlock(&snap_lock);
	return ok;
}
