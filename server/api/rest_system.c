/*
 * System configuration routes.  Both APIs read the snapshot sysconf
 * publishes (never the table) and write through sysconf_apply, which
 * stores all of a request's changes in one transaction; the handler names
 * the changes, old and new value, in the audit entry.
 */
#include "rest_system.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "auth.h"
#include "http.h"
#include "mgmt_util.h"
#include "rest.h"
#include "sysconf.h"

#define REST_E_CONFIG_KEY_CLASS "InvalidTenantConfigurationKeyException"
#define REST_E_CONFIG_VALUE_CLASS "TenantConfigurationValidatorException"
#define SYSCONF_MASK "********"
#define SYSCONF_WRITE_PERM "settings.write"

/*
 * The value of key k as the caller may see it: the gateway key only for
 * those who may change it (whoever holds it can act as any device, and
 * settings.read is in the read-only role).
 */
static json_t *
sysconf_shown(struct request *req, enum sysconf_key k, const char *text)
{
	if (sysconf_key_secret(k) && text[0] &&
	    !auth_allows(req, SYSCONF_WRITE_PERM))
		return json_string(SYSCONF_MASK);
	return sysconf_value_json(k, text);
}

/* One key as hawkBit's MgmtSystemTenantConfigurationValue. */
static json_t *
rest_config_json(
    struct request *req, const struct sysconf_snap *sn, enum sysconf_key k)
{
	const struct sysconf_entry *e = &sn->e[k];
	json_t *o = json_pack("{s:o, s:b}", "value",
	    sysconf_shown(req, k, e->text), "global", !e->stored);

	if (o == NULL)
		return NULL;
	if (e->stored) {
		json_object_set_new(o, "lastModifiedAt",
		    json_integer((json_int_t)e->updated_at * 1000));
		json_object_set_new(
		    o, "lastModifiedBy", json_string(e->updated_by));
	}
	rest_add_link(o, "self",
	    rest_link(req, "/system/configs/%s", sysconf_key_name(k)));
	return o;
}

/* The key of params[0], or a 400 configKeyInvalid answer and -1. */
static int
rest_config_key(struct request *req)
{
	int k = sysconf_key_find(req->params[0]);

	if (k < 0)
		rest_error(req, 400, REST_E_CONFIG_KEY_CLASS, REST_E_CONFIG_KEY,
		    "The given configuration key {%s} does not exist.",
		    req->params[0]);
	return k;
}

/* Check value for key into c; a 400 configValueInvalid answer and
 * false when refused. */
static bool
rest_config_change(struct request *req, enum sysconf_key k, const json_t *value,
    struct sysconf_change *c)
{
	const char *why;

	c->key = k;
	c->reset = false;
	if ((why = sysconf_parse(k, value, c->text)) == NULL)
		return true;
	rest_error(req, 400, REST_E_CONFIG_VALUE_CLASS, REST_E_CONFIG_VALUE,
	    "The value of %s %s.", sysconf_key_name(k), why);
	return false;
}

/* Apply changes, audit them and answer 204 (or 500). */
static void
rest_config_apply(struct request *req, const struct sysconf_change *c, size_t n)
{
	struct db *db = rest_db(req);
	char *audit;

	if (db == NULL)
		return;
	if (sysconf_apply(db, req->app->settings, c, n, req->principal,
	        &audit) != RESULT_OK) {
		rest_result(
		    req, RESULT_ERROR, "Cannot store the configuration.");
		return;
	}
	free(req->audit_target);
	req->audit_target = audit;
	http_reply_empty(req, 204);
}

void
rest_get_system_configs(struct request *req)
{
	struct sysconf_snap *sn = xmalloc(sizeof(*sn));
	json_t *o = json_object();

	sysconf_get(req->app->settings, sn);
	for (int k = 0; k < SYSCONF_NKEYS; k++)
		json_object_set_new(o, sysconf_key_name((enum sysconf_key)k),
		    rest_config_json(req, sn, (enum sysconf_key)k));
	explicit_bzero(sn, sizeof(*sn));
	free(sn);
	rest_reply(req, 200, o);
}

void
rest_get_system_config(struct request *req)
{
	struct sysconf_snap *sn;
	int k;

	if ((k = rest_config_key(req)) < 0)
		return;
	sn = xmalloc(sizeof(*sn));
	sysconf_get(req->app->settings, sn);
	rest_reply(req, 200, rest_config_json(req, sn, (enum sysconf_key)k));
	explicit_bzero(sn, sizeof(*sn));
	free(sn);
}

void
rest_put_system_config(struct request *req)
{
	struct sysconf_change c;
	json_t *body, *value;
	int k;

	if ((k = rest_config_key(req)) < 0 ||
	    (body = rest_body_object(req)) == NULL)
		return;
	if ((value = json_object_get(body, "value")) == NULL)
		rest_error(req, 400, REST_E_CONFIG_VALUE_CLASS,
		    REST_E_CONFIG_VALUE, "The body needs a \"value\".");
	else if (rest_config_change(req, (enum sysconf_key)k, value, &c))
		rest_config_apply(req, &c, 1);
	json_decref(body);
	explicit_bzero(&c, sizeof(c));
}

void
rest_put_system_configs(struct request *req)
{
	struct sysconf_change c[SYSCONF_NKEYS];
	const char *name;
	json_t *body, *value;
	size_t n = 0;
	int k;

	if ((body = rest_body_object(req)) == NULL)
		return;
	json_object_foreach(body, name, value)
	{
		if ((k = sysconf_key_find(name)) < 0) {
			rest_error(req, 400, REST_E_CONFIG_KEY_CLASS,
			    REST_E_CONFIG_KEY,
			    "The given configuration key {%s} does not exist.",
			    name);
			goto done;
		}
		/* Duplicate keys are refused by the parser: n stays within
		 * the number of keys. */
		if (!rest_config_change(req, (enum sysconf_key)k, value, &c[n]))
			goto done;
		n++;
	}
	rest_config_apply(req, c, n);
done:
	json_decref(body);
	explicit_bzero(c, sizeof(c));
}

void
rest_delete_system_config(struct request *req)
{
	struct sysconf_change c = {.reset = true};
	int k;

	if ((k = rest_config_key(req)) < 0)
		return;
	c.key = (enum sysconf_key)k;
	rest_config_apply(req, &c, 1);
}

/* Falconet's shape of every key. */
static json_t *
mgmt_configs_json(struct request *req)
{
	struct sysconf_snap *sn = xmalloc(sizeof(*sn));
	json_t *o = json_object();

	sysconf_get(req->app->settings, sn);
	for (int k = 0; k < SYSCONF_NKEYS; k++) {
		const struct sysconf_entry *e = &sn->e[k];

		json_object_set_new(o, sysconf_key_name((enum sysconf_key)k),
		    json_pack("{s:o, s:b, s:s, s:o, s:o}", "value",
		        sysconf_shown(req, (enum sysconf_key)k, e->text),
		        "global", !e->stored, "type",
		        sysconf_type_name(
		            sysconf_key_type((enum sysconf_key)k)),
		        "updated_at",
		        e->stored ? json_integer(e->updated_at) : json_null(),
		        "updated_by",
		        e->stored ? json_string(e->updated_by) : json_null()));
	}
	explicit_bzero(sn, sizeof(*sn));
	free(sn);
	return json_pack("{s:o}", "configs", o);
}

void
mgmt_get_system_configs(struct request *req)
{
	mgmt_reply_object(req, 200, mgmt_configs_json(req));
}

void
mgmt_patch_system_configs(struct request *req)
{
	struct field fields[SYSCONF_NKEYS];
	struct sysconf_change c[SYSCONF_NKEYS];
	struct db *db = mgmt_db(req);
	const char *name, *why;
	json_t *body, *value;
	size_t n = 0;
	char *audit;

	for (int k = 0; k < SYSCONF_NKEYS; k++) {
		fields[k].name = sysconf_key_name((enum sysconf_key)k);
		fields[k].types = T_STR | T_BOOL | T_INT | T_NULL;
	}
	if (db == NULL ||
	    (body = mgmt_body(req, fields, NELEM(fields))) == NULL)
		return;
	json_object_foreach(body, name, value)
	{
		c[n].key = (enum sysconf_key)sysconf_key_find(name);
		c[n].reset = json_is_null(value);
		if (!c[n].reset &&
		    (why = sysconf_parse(c[n].key, value, c[n].text)) != NULL) {
			http_reply_error(
			    req, 400, "invalid_field", "%s %s", name, why);
			goto done;
		}
		n++;
	}
	if (sysconf_apply(db, req->app->settings, c, n, req->principal,
	        &audit) != RESULT_OK) {
		http_reply_error(
		    req, 500, NULL, "cannot store the configuration");
		goto done;
	}
	free(req->audit_target);
	req->audit_target = audit;
	mgmt_reply_object(req, 200, mgmt_configs_json(req));
done:
	json_decref(body);
	explicit_bzero(c, sizeof(c));
}
