/*
 * Unit tests for sysconf.c's pure parts: key names, each key's type and
 * bounds (sysconf_parse), the JSON value of stored text, the first values
 * taken from settings, stored values over them, and the readers before
 * any snapshot is published (settings.yaml's values).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "settings.h"
#include "sysconf.h"

/* A value (JSON text) for key and the stored text, NULL: refused. */
struct parse_case {
	const char *key;
	const char *json;
	const char *want;
};

/* clang-format off */
static const struct parse_case parse_cases[] = {
	{ "pollingTime",		"\"00:00:30\"",		"00:00:30" },
	{ "pollingTime",		"\"23:59:59\"",		"23:59:59" },
	{ "pollingTime",		"\"00:00:01\"",		"00:00:01" },
	{ "pollingTime",		"\"00:00:00\"",		NULL },
	{ "pollingTime",		"\"24:00:00\"",		NULL },
	{ "pollingTime",		"\"0:05:00\"",		NULL },
	{ "pollingTime",		"\"00:05:00~10%\"",	NULL },
	{ "pollingTime",		"300",			NULL },
	{ "pollingTime",		"null",			NULL },
	{ "pollingOverdueTime",		"\"00:00:00\"",		"00:00:00" },
	{ "pollingOverdueTime",		"\"00:60:00\"",		NULL },
	{ "authentication.targettoken.enabled", "true",		"true" },
	{ "authentication.targettoken.enabled", "false",	"false" },
	{ "authentication.targettoken.enabled", "\"true\"",	NULL },
	{ "authentication.gatewaytoken.enabled", "1",		NULL },
	{ "authentication.gatewaytoken.key", "\"\"",		"" },
	{ "authentication.gatewaytoken.key", "\"0123456789abcdef\"", "0123456789abcdef" },
	{ "authentication.gatewaytoken.key", "\"0123456789abcde\"", NULL },
	{ "authentication.gatewaytoken.key", "\"0123456789 abcdef\"", NULL },
	{ "authentication.gatewaytoken.key", "\"0123456789abcdef\\u00e9\"", NULL },
	{ "authentication.gatewaytoken.key", "true",		NULL },
	{ "authentication.header.enabled", "true",		"true" },
	{ "authentication.header.authority", "\"\"",		"" },
	{ "authentication.header.authority", "\"ce275665\"",	"ce275665" },
	{ "authentication.header.authority", "\"a, b;c\"",	"a, b;c" },
	{ "authentication.header.authority", "\"a\\nb\"",	NULL },
	{ "authentication.header.authority",
	  "\"1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16\"",
	  "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16" },
	{ "authentication.header.authority",
	  "\"1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17\"",	NULL },
	{ "authentication.header.authority", "[\"a\"]",		NULL },
	{ "maintenanceWindowPollCount",	"3",			"3" },
	{ "maintenanceWindowPollCount",	"100",			"100" },
	{ "maintenanceWindowPollCount",	"0",			NULL },
	{ "maintenanceWindowPollCount",	"101",			NULL },
	{ "maintenanceWindowPollCount",	"2.5",			NULL },
	{ "maintenanceWindowPollCount",	"\"3\"",		NULL },
};
/* clang-format on */

static void
test_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]);
	     i++) {
		const struct parse_case *c = &parse_cases[i];
		json_t *v = json_loads(c->json, JSON_DECODE_ANY, NULL);
		char out[SYSCONF_VALUE_MAX] = "";
		int k = sysconf_key_find(c->key);
		const char *why;

		assert_true(k >= 0);
		assert_non_null(v);
		why = sysconf_parse((enum sysconf_key)k, v, out);
		if (c->want == NULL) {
			if (why == NULL)
				print_error("%s = %s: taken as %s\n", c->key,
				    c->json, out);
			assert_non_null(why);
		} else {
			if (why != NULL)
				print_error(
				    "%s = %s: %s\n", c->key, c->json, why);
			assert_null(why);
			assert_string_equal(out, c->want);
		}
		json_decref(v);
	}
}

static void
test_keys(void **state)
{
	(void)state;
	assert_int_equal(sysconf_key_find("pollingTime"), SYSCONF_POLLING_TIME);
	assert_int_equal(sysconf_key_find("polltime"), -1);
	assert_int_equal(sysconf_key_find("POLLINGTIME"), -1);
	assert_int_equal(sysconf_key_find(""), -1);
	for (int k = 0; k < SYSCONF_NKEYS; k++)
		assert_int_equal(
		    sysconf_key_find(sysconf_key_name((enum sysconf_key)k)), k);
	assert_string_equal(
	    sysconf_type_name(sysconf_key_type(SYSCONF_MW_POLL_COUNT)), "int");
	assert_true(sysconf_key_secret(SYSCONF_GATEWAY_KEY));
	assert_false(sysconf_key_secret(SYSCONF_HEADER_AUTHORITY));
}

/* Stored text back to JSON: the type per key, and text today's rules
 * refuse is no value. */
static void
test_value_json(void **state)
{
	json_t *v;

	(void)state;
	v = sysconf_value_json(SYSCONF_TARGETTOKEN_ENABLED, "true");
	assert_true(json_is_true(v));
	json_decref(v);
	v = sysconf_value_json(SYSCONF_MW_POLL_COUNT, "7");
	assert_int_equal(json_integer_value(v), 7);
	json_decref(v);
	v = sysconf_value_json(SYSCONF_POLLING_TIME, "00:00:30");
	assert_string_equal(json_string_value(v), "00:00:30");
	json_decref(v);
	assert_null(sysconf_value_json(SYSCONF_TARGETTOKEN_ENABLED, "yes"));
	assert_null(sysconf_value_json(SYSCONF_MW_POLL_COUNT, "7x"));
	assert_null(sysconf_value_json(SYSCONF_MW_POLL_COUNT, ""));
	assert_null(sysconf_value_json(SYSCONF_MW_POLL_COUNT, "0"));
	assert_null(sysconf_value_json(SYSCONF_POLLING_TIME, "00:00:00"));
	assert_null(sysconf_value_json(SYSCONF_GATEWAY_KEY, "short"));
}

static void
test_build_from_settings(void **state)
{
	static struct settings s;
	static struct sysconf_snap sn;

	(void)state;
	settings_defaults(&s);
	sysconf_build(&s, &sn);
	assert_string_equal(sn.e[SYSCONF_POLLING_TIME].text, "00:05:00");
	assert_string_equal(sn.e[SYSCONF_POLLING_OVERDUE].text, "00:05:00");
	assert_string_equal(sn.e[SYSCONF_TARGETTOKEN_ENABLED].text, "true");
	assert_string_equal(sn.e[SYSCONF_GATEWAY_ENABLED].text, "false");
	assert_string_equal(sn.e[SYSCONF_GATEWAY_KEY].text, "");
	assert_string_equal(sn.e[SYSCONF_HEADER_ENABLED].text, "false");
	assert_string_equal(sn.e[SYSCONF_MW_POLL_COUNT].text, "3");
	assert_int_equal(sn.polling_time, 300);
	assert_int_equal(sn.mw_poll_count, 3);
	assert_false(sn.e[SYSCONF_POLLING_TIME].stored);

	s.poll_interval = 60;
	snprintf(s.gateway_token, sizeof(s.gateway_token), "%s",
	    "0123456789abcdefGW");
	s.cert_header_enabled = true;
	snprintf(s.cert_authorities[0], sizeof(s.cert_authorities[0]), "AB");
	snprintf(s.cert_authorities[1], sizeof(s.cert_authorities[1]), "cd");
	s.ncert_authorities = 2;
	sysconf_build(&s, &sn);
	assert_string_equal(sn.e[SYSCONF_POLLING_TIME].text, "00:01:00");
	assert_true(sn.gateway);
	assert_string_equal(sn.gateway_key, "0123456789abcdefGW");
	assert_true(sn.header);
	assert_string_equal(sn.e[SYSCONF_HEADER_AUTHORITY].text, "AB,cd");
	assert_int_equal(sn.nauthorities, 2);

	/* A stored value over it, and one today's rules refuse. */
	assert_int_equal(sysconf_snap_set(&sn, SYSCONF_HEADER_AUTHORITY,
	                     " x1 ;; y2 ,", 1000, "admin"),
	    0);
	assert_int_equal(sn.nauthorities, 2);
	assert_string_equal(sn.authorities[0], "x1");
	assert_string_equal(sn.authorities[1], "y2");
	assert_true(sn.e[SYSCONF_HEADER_AUTHORITY].stored);
	assert_string_equal(sn.e[SYSCONF_HEADER_AUTHORITY].updated_by, "admin");
	assert_int_equal(sysconf_snap_set(&sn, SYSCONF_POLLING_TIME, "99:00:00",
	                     1000, "admin"),
	    -1);
	assert_int_equal(sn.polling_time, 60);
	assert_false(sn.e[SYSCONF_POLLING_TIME].stored);
}

/* Before a snapshot is published the readers give settings.yaml's. */
static void
test_readers_unpublished(void **state)
{
	static struct settings s;

	(void)state;
	settings_defaults(&s);
	s.poll_interval = 42;
	s.poll_overdue = 7;
	assert_int_equal(sysconf_polling_time(&s), 42);
	assert_int_equal(sysconf_polling_overdue(&s), 7);
	assert_true(sysconf_targettoken_enabled(&s));
	assert_int_equal(sysconf_mw_poll_count(&s), 3);
	assert_false(sysconf_gateway_ok(&s, ""));
	snprintf(s.gateway_token, sizeof(s.gateway_token), "%s",
	    "0123456789abcdefGW");
	assert_true(sysconf_gateway_ok(&s, "0123456789abcdefGW"));
	assert_false(sysconf_gateway_ok(&s, "0123456789abcdefGw"));
	snprintf(s.cert_authorities[0], sizeof(s.cert_authorities[0]), "AB");
	s.ncert_authorities = 1;
	assert_true(sysconf_authority_trusted(&s, "ab"));
	assert_false(sysconf_authority_trusted(&s, "abc"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_keys),
	    cmocka_unit_test(test_value_json),
	    cmocka_unit_test(test_build_from_settings),
	    cmocka_unit_test(test_readers_unpublished),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
