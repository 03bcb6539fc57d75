/*
 * Unit tests for the OpenAPI document (server/api/openapi.json, embedded as
 * openapi_json): it parses, and it agrees with the route table (route.c)
 * both ways: every route has its operation and every operation its route,
 * with the route's permission, audit name, auth and body kind.  $refs must
 * resolve and path templates must declare their parameters.
 *
 * Each check lists every problem it finds (print_error) before failing, so
 * one run shows all that is missing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "openapi.h"
#include "route.h"

/* The path item keys that are operations (OpenAPI 3.0). */
static const char *const http_methods[] = {
    "get", "put", "post", "delete", "options", "head", "patch", "trace", NULL};

/* The tags the document must define. */
static const char *const required_tags[] = {"devices", "software", "rollouts",
    "actions", "operators", "ddi", "system", NULL};

static json_t *doc;

static int
setup(void **state)
{
	json_error_t err;

	(void)state;
	doc = json_loads(openapi_json, JSON_REJECT_DUPLICATES, &err);
	if (doc == NULL)
		print_error("openapi.json line %d column %d: %s\n", err.line,
		    err.column, err.text);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	json_decref(doc);
	doc = NULL;
	return 0;
}

static bool
is_http_method(const char *key)
{
	for (size_t i = 0; http_methods[i]; i++)
		if (strcmp(key, http_methods[i]) == 0)
			return true;
	return false;
}

/* The route's method in lower case, as OpenAPI spells it. */
static void
lower_method(const char *method, char *out, size_t len)
{
	size_t i;

	for (i = 0; method[i] && i + 1 < len; i++)
		out[i] = (char)(method[i] >= 'A' && method[i] <= 'Z'
		                    ? method[i] - 'A' + 'a'
		                    : method[i]);
	out[i] = '\0';
}

/* The operation of a route, or NULL. */
static json_t *
route_operation(const struct route *r)
{
	char m[16];

	lower_method(r->method, m, sizeof(m));
	return json_object_get(
	    json_object_get(json_object_get(doc, "paths"), r->pattern), m);
}

/* Resolve a local reference ("#/a/b~1c") within the document, or NULL. */
static json_t *
resolve(const char *ref)
{
	json_t *v = doc;
	const char *p;

	if (strncmp(ref, "#/", 2) != 0)
		return NULL;
	p = ref + 2;
	while (v != NULL) {
		char tok[256];
		size_t n = 0;

		while (*p && *p != '/') {
			if (n + 1 == sizeof(tok))
				return NULL;
			if (p[0] == '~' && (p[1] == '0' || p[1] == '1')) {
				tok[n++] = p[1] == '0' ? '~' : '/';
				p += 2;
			} else
				tok[n++] = *p++;
		}
		tok[n] = '\0';
		if (json_is_object(v))
			v = json_object_get(v, tok);
		else if (json_is_array(v)) {
			char *end;
			unsigned long i = strtoul(tok, &end, 10);

			v = (n > 0 && *end == '\0') ? json_array_get(v, i)
			                            : NULL;
		} else
			v = NULL;
		if (*p == '\0')
			break;
		p++;
	}
	return v;
}

/* Follow $ref until a real object (a few levels at most). */
static json_t *
deref(json_t *v)
{
	for (int i = 0; i < 8 && v; i++) {
		const char *ref = json_string_value(json_object_get(v, "$ref"));

		if (ref == NULL)
			return v;
		v = resolve(ref);
	}
	return NULL;
}

static void
test_parses(void **state)
{
	const char *version;
	json_t *info;

	(void)state;
	assert_non_null(doc);
	assert_true(json_is_object(doc));
	version = json_string_value(json_object_get(doc, "openapi"));
	assert_non_null(version);
	assert_true(strncmp(version, "3.", 2) == 0);
	info = json_object_get(doc, "info");
	assert_non_null(json_string_value(json_object_get(info, "title")));
	assert_non_null(json_string_value(json_object_get(info, "version")));
	assert_true(json_is_object(json_object_get(doc, "paths")));
	assert_true(json_object_size(json_object_get(doc, "paths")) > 0);
	assert_true(json_is_object(json_object_get(
	    json_object_get(doc, "components"), "securitySchemes")));
}

/* Every route (method and pattern) has an operation. */
static void
test_every_route_documented(void **state)
{
	int bad = 0;

	(void)state;
	assert_non_null(doc);
	for (size_t i = 0; i < nroutes; i++) {
		if (!json_is_object(route_operation(&routes[i]))) {
			print_error("route %s %s has no operation in "
			            "openapi.json\n",
			    routes[i].method, routes[i].pattern);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

/* Every operation is a route; a path item holds nothing else unknown. */
static void
test_every_operation_routed(void **state)
{
	const char *path, *key;
	json_t *item, *v;
	int bad = 0;

	(void)state;
	assert_non_null(doc);
	json_object_foreach(json_object_get(doc, "paths"), path, item)
	{
		json_object_foreach(item, key, v)
		{
			bool found = false;

			if (!is_http_method(key)) {
				if (strcmp(key, "parameters") != 0 &&
				    strcmp(key, "summary") != 0 &&
				    strcmp(key, "description") != 0 &&
				    strcmp(key, "servers") != 0 &&
				    strncmp(key, "x-", 2) != 0) {
					print_error("path %s: unexpected key "
					            "%s\n",
					    path, key);
					bad++;
				}
				continue;
			}
			for (size_t i = 0; i < nroutes && !found; i++) {
				char m[16];

				lower_method(routes[i].method, m, sizeof(m));
				found = strcmp(routes[i].pattern, path) == 0 &&
				        strcmp(m, key) == 0;
			}
			if (!found) {
				print_error("operation %s %s is not in the "
				            "route table\n",
				    key, path);
				bad++;
			}
		}
	}
	assert_int_equal(bad, 0);
}

/* x-permission and x-audit equal the table's columns (absent if NULL). */
static void
test_permissions_and_audit(void **state)
{
	int bad = 0;

	(void)state;
	assert_non_null(doc);
	for (size_t i = 0; i < nroutes; i++) {
		const struct route *r = &routes[i];
		json_t *op = route_operation(r);
		const char *perm, *audit;

		if (op == NULL)
			continue; /* reported by another test */
		perm = json_string_value(json_object_get(op, "x-permission"));
		audit = json_string_value(json_object_get(op, "x-audit"));
		if (r->perm && (perm == NULL || strcmp(perm, r->perm) != 0)) {
			print_error("%s %s: x-permission is %s, the route "
			            "needs %s\n",
			    r->method, r->pattern, perm ? perm : "missing",
			    r->perm);
			bad++;
		}
		if (r->perm == NULL && json_object_get(op, "x-permission")) {
			print_error("%s %s: x-permission set, the route "
			            "needs none\n",
			    r->method, r->pattern);
			bad++;
		}
		if (r->audit &&
		    (audit == NULL || strcmp(audit, r->audit) != 0)) {
			print_error("%s %s: x-audit is %s, the route's audit "
			            "name is %s\n",
			    r->method, r->pattern, audit ? audit : "missing",
			    r->audit);
			bad++;
		}
		if (r->audit == NULL && json_object_get(op, "x-audit")) {
			print_error("%s %s: x-audit set, the route is not "
			            "audited\n",
			    r->method, r->pattern);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

/* Does one of the security requirements name scheme (NULL: anonymous)? */
static bool
security_has(json_t *sec, const char *scheme)
{
	size_t i;
	json_t *req;

	json_array_foreach(sec, i, req)
	{
		if (scheme == NULL ? json_object_size(req) == 0
		                   : json_object_get(req, scheme) != NULL)
			return true;
	}
	return false;
}

/* Per-operation security matches the route's auth column. */
static void
test_security(void **state)
{
	json_t *schemes;
	int bad = 0;

	(void)state;
	assert_non_null(doc);
	schemes = json_object_get(
	    json_object_get(doc, "components"), "securitySchemes");
	for (size_t i = 0; i < nroutes; i++) {
		const struct route *r = &routes[i];
		json_t *op = route_operation(r), *sec, *req;
		const char *why = NULL, *name;
		size_t k;

		if (op == NULL)
			continue;
		sec = json_object_get(op, "security");
		if (!json_is_array(sec)) {
			print_error("%s %s: no security array\n", r->method,
			    r->pattern);
			bad++;
			continue;
		}
		switch (r->auth) {
		case AUTH_NONE:
			if (json_array_size(sec) != 0)
				why = "a route without auth needs "
				      "\"security\": []";
			break;
		case AUTH_ADMIN:
		case AUTH_METRICS:
			if (!security_has(sec, "bearerAuth") ||
			    !security_has(sec, "cookieAuth"))
				why = "needs bearerAuth and cookieAuth";
			else if (security_has(sec, NULL))
				why = "must not allow anonymous access";
			break;
		case AUTH_REST:
			if (!security_has(sec, "basicAuth") ||
			    !security_has(sec, "bearerAuth"))
				why = "needs basicAuth and bearerAuth";
			else if (security_has(sec, "cookieAuth") ||
			         security_has(sec, NULL))
				why = "takes no cookie and no anonymous access";
			break;
		case AUTH_DEVICE:
			if (!security_has(sec, "targetToken") ||
			    !security_has(sec, "gatewayToken"))
				why = "needs targetToken and gatewayToken";
			break;
		}
		if (why) {
			print_error(
			    "%s %s: security %s\n", r->method, r->pattern, why);
			bad++;
		}
		json_array_foreach(sec, k, req)
		{
			json_t *v;

			json_object_foreach(req, name, v)
			{
				if (json_object_get(schemes, name) == NULL) {
					print_error("%s %s: unknown security "
					            "scheme %s\n",
					    r->method, r->pattern, name);
					bad++;
				}
			}
		}
	}
	assert_int_equal(bad, 0);
}

/* requestBody matches the body column; management bodies are strict
 * (hawkBit's /rest/v1 bodies tolerate unknown fields, as hawkBit does). */
static void
test_request_bodies(void **state)
{
	int bad = 0;

	(void)state;
	assert_non_null(doc);
	for (size_t i = 0; i < nroutes; i++) {
		const struct route *r = &routes[i];
		json_t *op = route_operation(r), *content, *schema;
		const char *why = NULL;

		if (op == NULL)
			continue;
		content = json_object_get(
		    deref(json_object_get(op, "requestBody")), "content");
		switch (r->body) {
		case BODY_NONE:
			if (json_object_get(op, "requestBody"))
				why = "has a requestBody, the route reads none";
			break;
		case BODY_JSON:
			schema = deref(json_object_get(
			    json_object_get(content, "application/json"),
			    "schema"));
			if (schema == NULL)
				why = "needs an application/json schema";
			/* DDI and hawkBit's /rest/v1 bodies tolerate
			 * unknown fields, as hawkBit's Jackson does. */
			else if (r->auth != AUTH_DEVICE &&
			         r->auth != AUTH_REST &&
			         !json_is_false(json_object_get(
			             schema, "additionalProperties")))
				why =
				    "management bodies reject unknown fields: "
				    "additionalProperties must be false";
			break;
		case BODY_UPLOAD:
			if (!json_object_get(
			        content, "application/octet-stream") ||
			    !json_object_get(content, "multipart/form-data"))
				why = "uploads take application/octet-stream "
				      "and multipart/form-data";
			break;
		}
		if (why) {
			print_error("%s %s: %s\n", r->method, r->pattern, why);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

/* Every $ref in the document, recursively. */
static void
check_refs(json_t *v, const char *where, int *bad)
{
	const char *key;
	json_t *c;
	size_t i;

	if (json_is_object(v)) {
		json_object_foreach(v, key, c)
		{
			if (strcmp(key, "$ref") == 0) {
				const char *ref = json_string_value(c);

				if (ref == NULL || resolve(ref) == NULL) {
					print_error("%s: $ref %s does not "
					            "resolve\n",
					    where,
					    ref ? ref : "(not a string)");
					(*bad)++;
				}
			} else
				check_refs(c,
				    json_object_get(doc, "paths") == v ? key
				                                       : where,
				    bad);
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, c) check_refs(c, where, bad);
	}
}

static void
test_refs_resolve(void **state)
{
	int bad = 0;

	(void)state;
	assert_non_null(doc);
	check_refs(doc, "(document)", &bad);
	/* The resolver itself. */
	assert_non_null(resolve("#/components/securitySchemes"));
	assert_null(resolve("#/components/no-such-thing"));
	assert_null(resolve("other.json#/components"));
	assert_int_equal(bad, 0);
}

/* Is name one of the {names} of the path template? */
static bool
template_has(const char *path, const char *name)
{
	const char *p = path, *e;
	size_t n = strlen(name);

	while ((p = strchr(p, '{')) != NULL) {
		if ((e = strchr(p, '}')) == NULL)
			return false;
		if ((size_t)(e - p - 1) == n && strncmp(p + 1, name, n) == 0)
			return true;
		p = e;
	}
	return false;
}

/* The path parameter called name among the path item's and op's, or NULL. */
static json_t *
path_param(json_t *item, json_t *op, const char *name, size_t nlen)
{
	json_t *lists[2] = {json_object_get(op, "parameters"),
	    json_object_get(item, "parameters")};

	for (int l = 0; l < 2; l++) {
		size_t i;
		json_t *p;

		json_array_foreach(lists[l], i, p)
		{
			const char *pn, *in;

			p = deref(p);
			pn = json_string_value(json_object_get(p, "name"));
			in = json_string_value(json_object_get(p, "in"));
			if (pn && in && strcmp(in, "path") == 0 &&
			    strlen(pn) == nlen && strncmp(pn, name, nlen) == 0)
				return p;
		}
	}
	return NULL;
}

/* Each {name} of a path is a declared, required path parameter of each of
 * its operations, and each declared path parameter is in the template. */
static void
test_path_parameters(void **state)
{
	const char *path, *key;
	json_t *item, *op;
	int bad = 0;

	(void)state;
	assert_non_null(doc);
	json_object_foreach(json_object_get(doc, "paths"), path, item)
	{
		json_object_foreach(item, key, op)
		{
			const char *p = path, *e;
			json_t *lists[2] = {json_object_get(op, "parameters"),
			    json_object_get(item, "parameters")};

			if (!is_http_method(key))
				continue;
			while ((p = strchr(p, '{')) != NULL) {
				json_t *decl;

				if ((e = strchr(p, '}')) == NULL) {
					print_error(
					    "path %s: unclosed {\n", path);
					bad++;
					break;
				}
				decl = path_param(
				    item, op, p + 1, (size_t)(e - p - 1));
				if (decl == NULL ||
				    !json_is_true(
				        json_object_get(decl, "required"))) {
					print_error("%s %s: path parameter "
					            "%.*s is %s\n",
					    key, path, (int)(e - p - 1), p + 1,
					    decl ? "not required"
					         : "not declared");
					bad++;
				}
				p = e;
			}
			for (int l = 0; l < 2; l++) {
				size_t i;
				json_t *prm;

				json_array_foreach(lists[l], i, prm)
				{
					const char *pn, *in;

					prm = deref(prm);
					pn = json_string_value(
					    json_object_get(prm, "name"));
					in = json_string_value(
					    json_object_get(prm, "in"));
					if (pn == NULL || in == NULL) {
						print_error("%s %s: a "
						            "parameter lacks "
						            "name or in\n",
						    key, path);
						bad++;
					} else if (strcmp(in, "path") == 0 &&
					           !template_has(path, pn)) {
						print_error("%s %s: path "
						            "parameter %s is "
						            "not in the "
						            "path\n",
						    key, path, pn);
						bad++;
					}
				}
			}
		}
	}
	assert_int_equal(bad, 0);
}

/* Operation ids are unique, tags are declared, responses look right. */
static void
test_operations_well_formed(void **state)
{
	json_t *ids, *tags, *t, *item, *op;
	const char *path, *key;
	size_t i;
	int bad = 0;

	(void)state;
	assert_non_null(doc);
	ids = json_object();
	tags = json_object();
	json_array_foreach(json_object_get(doc, "tags"), i, t)
	{
		const char *name =
		    json_string_value(json_object_get(t, "name"));

		if (name)
			json_object_set_new(tags, name, json_true());
	}
	for (i = 0; required_tags[i]; i++) {
		if (json_object_get(tags, required_tags[i]) == NULL) {
			print_error(
			    "tag %s is not defined\n", required_tags[i]);
			bad++;
		}
	}
	json_object_foreach(json_object_get(doc, "paths"), path, item)
	{
		json_object_foreach(item, key, op)
		{
			const char *id, *code;
			json_t *r;
			size_t k;
			bool ok = false;

			if (!is_http_method(key))
				continue;
			id = json_string_value(
			    json_object_get(op, "operationId"));
			if (id == NULL || json_object_get(ids, id)) {
				print_error("%s %s: operationId %s missing or "
				            "repeated\n",
				    key, path, id ? id : "");
				bad++;
			} else
				json_object_set_new(ids, id, json_true());
			if (json_array_size(json_object_get(op, "tags")) == 0) {
				print_error("%s %s: no tags\n", key, path);
				bad++;
			}
			json_array_foreach(json_object_get(op, "tags"), k, t)
			{
				if (!json_is_string(t) ||
				    !json_object_get(
				        tags, json_string_value(t))) {
					print_error("%s %s: undeclared tag\n",
					    key, path);
					bad++;
				}
			}
			json_object_foreach(
			    json_object_get(op, "responses"), code, r)
			{
				if (strlen(code) == 3 && code[0] >= '1' &&
				    code[0] <= '5' &&
				    strspn(code, "0123456789") == 3) {
					if (code[0] == '2' || code[0] == '3')
						ok = true;
				} else if (strcmp(code, "default") != 0) {
					print_error("%s %s: bad response key "
					            "%s\n",
					    key, path, code);
					bad++;
				}
				if (!json_is_string(json_object_get(
				        deref(r), "description"))) {
					print_error("%s %s: response %s has "
					            "no description\n",
					    key, path, code);
					bad++;
				}
			}
			if (!ok) {
				print_error("%s %s: no 2xx or 3xx response\n",
				    key, path);
				bad++;
			}
		}
	}
	json_decref(ids);
	json_decref(tags);
	assert_int_equal(bad, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parses),
	    cmocka_unit_test(test_every_route_documented),
	    cmocka_unit_test(test_every_operation_routed),
	    cmocka_unit_test(test_permissions_and_audit),
	    cmocka_unit_test(test_security),
	    cmocka_unit_test(test_request_bodies),
	    cmocka_unit_test(test_refs_resolve),
	    cmocka_unit_test(test_path_parameters),
	    cmocka_unit_test(test_operations_well_formed),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
