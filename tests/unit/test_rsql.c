/*
 * Unit tests for rsql.c: FIQL/RSQL filters compiled to SQL and run against
 * a small table in an in-memory SQLite database, so every case checks the
 * rows a filter selects, not the SQL text; then the errors and the bounds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "rsql.h"
#include "util.h"

static const struct rsql_enum status_enums[] = {
    {"IN_SYNC", "in_sync"},
    {"PENDING", "pending"},
    {"ERROR", "error"},
    {"REGISTERED", "registered"},
    {NULL, NULL},
};

static const struct rsql_field fields[] = {
    {"id", RSQL_INT, "d.id", NULL},
    {"controllerId", RSQL_TEXT, "d.cid", NULL},
    {"name", RSQL_TEXT, "d.name", NULL},
    {"updateStatus", RSQL_ENUM, "d.state", status_enums},
    {"lastTargetQuery", RSQL_INT, "d.seen", NULL},
    {"valid", RSQL_BOOL, "d.ok", NULL},
    {"metadata.", RSQL_TEXT,
        "(SELECT m.value FROM meta m WHERE m.dev_id = d.id AND "
        "m.meta_key = ?)",
        NULL},
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

static sqlite3 *db;

static int
setup(void **state)
{
	static const char schema[] =
	    "CREATE TABLE dev (id INTEGER PRIMARY KEY, cid TEXT NOT NULL, "
	    "  name TEXT, state TEXT NOT NULL, seen BIGINT, ok INTEGER);"
	    "CREATE TABLE meta (dev_id INTEGER, meta_key TEXT, value TEXT);"
	    "INSERT INTO dev VALUES (1, 'dev-001', 'Kitchen', 'in_sync', 100, "
	    "1);"
	    "INSERT INTO dev VALUES (2, 'dev-002', 'Hall', 'pending', 200, 0);"
	    "INSERT INTO dev VALUES (3, 'DEV-003', NULL, 'error', NULL, 1);"
	    "INSERT INTO dev VALUES (4, 'gw-1', '50%-off', 'registered', 300, "
	    "0);"
	    "INSERT INTO dev VALUES (5, 'gw-2', '50_off', 'pending', 400, 1);"
	    "INSERT INTO dev VALUES (6, 'star*', 'it''s \"quoted\"', "
	    "'in_sync', "
	    "  500, 1);"
	    "INSERT INTO meta VALUES (1, 'location', 'factory-A');"
	    "INSERT INTO meta VALUES (2, 'location', 'factory-B');"
	    "INSERT INTO meta VALUES (4, 'location', 'Factory-A');"
	    "INSERT INTO meta VALUES (4, 'owner', 'ops');";

	(void)state;
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, schema, NULL, NULL, NULL), SQLITE_OK);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	sqlite3_close(db);
	return 0;
}

/* The ids q selects, "1,3", or "ERR<n>" with n the rsql_err. */
static const char *
ids(const char *q)
{
	static char out[256];
	struct rsql_query rq;
	enum rsql_err err;
	sqlite3_stmt *st;
	char why[256], *sql;
	size_t i, len = 0;
	int rc;

	err = rsql_compile(q, fields, NFIELDS, &rq, why, sizeof(why));
	if (err != RSQL_OK) {
		assert_null(rq.sql);
		assert_int_equal(rq.nparams, 0);
		assert_non_null(strstr(why, "at byte"));
		snprintf(out, sizeof(out), "ERR%d", (int)err);
		return out;
	}
	sql =
	    xasprintf("SELECT d.id FROM dev d WHERE %s ORDER BY d.id", rq.sql);
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	assert_int_equal(sqlite3_bind_parameter_count(st), (int)rq.nparams);
	for (i = 0; i < rq.nparams; i++) {
		if (rq.params[i].is_int)
			rc = sqlite3_bind_int64(
			    st, (int)i + 1, rq.params[i].num);
		else
			rc = sqlite3_bind_text(st, (int)i + 1,
			    rq.params[i].text, -1, SQLITE_STATIC);
		assert_int_equal(rc, SQLITE_OK);
	}
	out[0] = '\0';
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%lld",
		    len ? "," : "", (long long)sqlite3_column_int64(st, 0));
	assert_int_equal(rc, SQLITE_DONE);
	sqlite3_finalize(st);
	free(sql);
	rsql_query_free(&rq);
	return out;
}

struct rcase {
	const char *q, *want;
};

static void
run_cases(const struct rcase *c, size_t n)
{
	size_t i;
	const char *got;

	for (i = 0; i < n; i++) {
		got = ids(c[i].q);
		if (strcmp(got, c[i].want) != 0)
			fail_msg(
			    "q=%s: got %s, want %s", c[i].q, got, c[i].want);
	}
}

static void
test_text(void **state)
{
	static const struct rcase cases[] = {
	    {"controllerId==dev-001", "1"},
	    /* Values and field names ignore ASCII case, as hawkBit's. */
	    {"controllerid==DEV-001", "1"},
	    {"CONTROLLERID==dev-003", "3"},
	    {"controllerId==dev-*", "1,2,3"},
	    {"controllerId==*-2", "5"},
	    {"controllerId==*1*", "1,4"},
	    {"controllerId==*", "1,2,3,4,5,6"},
	    /* != matches rows without a value too. */
	    {"name!=Kitchen", "2,3,4,5,6"},
	    {"name!=*a*", "1,3,4,5,6"},
	    {"name==*", "1,2,4,5,6"},
	    /* % and _ are no wildcards; a quoted \* is a star. */
	    {"name==50%*", "4"},
	    {"name==50_*", "5"},
	    {"controllerId=='star\\*'", "6"},
	    {"controllerId==star*", "6"},
	    {"controllerId=='sta\\*'", ""},
	    {"name==\"it's \\\"quoted\\\"\"", "6"},
	    {"name=='it\\'s \"quoted\"'", "6"},
	    {"name=li=k*", "1"},
	    /* Quoting keeps an injection a value. */
	    {"name==\"x' OR 1=1 --\"", ""},
	    {"name=='Kitchen'", "1"},
	    {"name==''", ""},
	    /* Ordering compares text as stored. */
	    {"controllerId=ge=gw", "4,5,6"},
	    {"controllerId<dev-002", "1,3"},
	    {"controllerId=in=(dev-001,GW-2)", "1,5"},
	    {"name=out=(Kitchen,Hall)", "3,4,5,6"},
	    {"controllerId=in=('star\\*',x)", "6"},
	};

	(void)state;
	run_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void
test_kinds(void **state)
{
	static const struct rcase cases[] = {
	    {"id==3", "3"},
	    {"id=gt=4", "5,6"},
	    {"id>=4", "4,5,6"},
	    {"id=lt=2", "1"},
	    {"id<=2", "1,2"},
	    {"id!=1", "2,3,4,5,6"},
	    {"id=in=(1,3,5)", "1,3,5"},
	    {"id=out=(1,3,5)", "2,4,6"},
	    {"lastTargetQuery=lt=250", "1,2"},
	    {"lastTargetQuery!=100", "2,3,4,5,6"},
	    {"lastTargetQuery=ge=-9223372036854775808", "1,2,4,5,6"},
	    {"valid==true", "1,3,5,6"},
	    {"valid==FALSE", "2,4"},
	    {"valid!=true", "2,4"},
	    {"updateStatus==pending", "2,5"},
	    {"updateStatus==IN_SYNC", "1,6"},
	    {"updateStatus!=in_sync", "2,3,4,5"},
	    {"updateStatus=in=(error,registered)", "3,4"},
	    {"updateStatus=out=(error,registered)", "1,2,5,6"},
	    /* Keyed fields: the key is bound, not written into the SQL. */
	    {"metadata.location==factory-a", "1,4"},
	    {"metadata.location==factory-*", "1,2,4"},
	    {"metadata.location!=factory-A", "2,3,5,6"},
	    {"metadata.owner==ops", "4"},
	    {"metadata.nothing==x", ""},
	    {"metadata.location=in=(factory-B)", "2"},
	    {"metadata.location=out=(factory-B)", "1,3,4,5,6"},
	    {"METADATA.location==factory-b", "2"},
	};

	(void)state;
	run_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void
test_logic(void **state)
{
	static const struct rcase cases[] = {
	    /* ; binds tighter than , */
	    {"id==1,id==2;valid==true", "1"},
	    {"id==1,id==2;valid==false", "1,2"},
	    {"(id==1,id==2);valid==true", "1"},
	    {"(id==1,id==2);valid==false", "2"},
	    {"id=gt=1;id=lt=5;valid==true", "3"},
	    {"((((id==4))))", "4"},
	    {"(id==1,(id==2,(id==3)))", "1,2,3"},
	    /* The words, with white space around them. */
	    {"id==1 or id==2", "1,2"},
	    {"id=gt=1 and valid==true", "3,5,6"},
	    {"id=gt=1 AND (valid==true OR id==2)", "2,3,5,6"},
	    {"  id == 1 ; valid == true  ", "1"},
	    {"id==1 ,id==2", "1,2"},
	    {"name==android", ""},
	    {"name==orange", ""},
	};

	(void)state;
	run_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void
test_errors(void **state)
{
	char syntax[8], field[8], value[8];
	const char *bad_syntax[] = {
	    "",
	    "   ",
	    "name",
	    "name==",
	    "==x",
	    "name==a;",
	    "name==a,",
	    ";name==a",
	    "(name==a",
	    "name==a)",
	    "()",
	    "name=xx=a",
	    "name=~a",
	    "name=='a",
	    "name==\"a\\",
	    "name==a b",
	    "name==a and",
	    "name==a andid==1",
	    "id=in=(1,2",
	    "id=in=()",
	    "id=in=(1,)",
	    "name==(a,b)",
	    "name==a\x01",
	    "name=='a\x01'",
	    "name==\xff",
	    "name==\xc3",
	};
	const char *bad_field[] = {
	    "nosuch==1",
	    "metadata==x",
	    "metadata.==x",
	    "name.x==1",
	    "d.cid==1",
	};
	const char *bad_value[] = {
	    "id==abc",
	    "id==1.5",
	    "id==1*",
	    "id==99999999999999999999",
	    "valid==yes",
	    "valid=gt=true",
	    "updateStatus==sleeping",
	    "updateStatus=lt=pending",
	    "id=li=1",
	    "name=gt=a*",
	    "name=in=(a,b*)",
	};
	size_t i;

	(void)state;
	snprintf(syntax, sizeof(syntax), "ERR%d", RSQL_ERR_SYNTAX);
	snprintf(field, sizeof(field), "ERR%d", RSQL_ERR_FIELD);
	snprintf(value, sizeof(value), "ERR%d", RSQL_ERR_VALUE);
	for (i = 0; i < sizeof(bad_syntax) / sizeof(bad_syntax[0]); i++)
		if (strcmp(ids(bad_syntax[i]), syntax) != 0)
			fail_msg("q=%s: got %s, want a syntax error",
			    bad_syntax[i], ids(bad_syntax[i]));
	for (i = 0; i < sizeof(bad_field) / sizeof(bad_field[0]); i++)
		if (strcmp(ids(bad_field[i]), field) != 0)
			fail_msg("q=%s: got %s, want a field error",
			    bad_field[i], ids(bad_field[i]));
	for (i = 0; i < sizeof(bad_value) / sizeof(bad_value[0]); i++)
		if (strcmp(ids(bad_value[i]), value) != 0)
			fail_msg("q=%s: got %s, want a value error",
			    bad_value[i], ids(bad_value[i]));
	assert_string_equal(rsql_strerror(RSQL_ERR_FIELD),
	    "the filter names a field this list does not have");
}

/* Build a string into a fresh buffer. */
static char *
repeat(const char *head, const char *unit, size_t n, const char *tail)
{
	struct buf b = {0};
	size_t i;

	buf_adds(&b, head);
	for (i = 0; i < n; i++)
		buf_adds(&b, unit);
	buf_adds(&b, tail);
	return buf_take(&b, NULL);
}

static void
test_limits(void **state)
{
	char limit[8], *q, *inner;
	struct rsql_query rq;
	char why[256];

	(void)state;
	snprintf(limit, sizeof(limit), "ERR%d", RSQL_ERR_LIMIT);
	/* Depth: 16 parentheses pass, 17 do not. */
	q = repeat("", "(", RSQL_DEPTH_MAX, "id==1");
	inner = repeat(q, ")", RSQL_DEPTH_MAX, "");
	assert_string_equal(ids(inner), "1");
	free(q);
	free(inner);
	q = repeat("", "(", RSQL_DEPTH_MAX + 1, "id==1");
	inner = repeat(q, ")", RSQL_DEPTH_MAX + 1, "");
	assert_string_equal(ids(inner), limit);
	free(q);
	free(inner);
	/* Thousands of opening parentheses: a limit, not a deep recursion. */
	q = repeat("", "(", 4000, "");
	assert_int_equal(
	    rsql_compile(q, fields, NFIELDS, &rq, why, sizeof(why)),
	    RSQL_ERR_LIMIT);
	free(q);
	/* Comparisons. */
	q = repeat("id==0", ",id==1", RSQL_TERMS_MAX - 1, "");
	assert_string_equal(ids(q), "1");
	free(q);
	q = repeat("id==0", ",id==1", RSQL_TERMS_MAX, "");
	assert_string_equal(ids(q), limit);
	free(q);
	/* Values of a list. */
	q = repeat("id=in=(0", ",1", RSQL_LIST_MAX - 1, ")");
	assert_string_equal(ids(q), "1");
	free(q);
	q = repeat("id=in=(0", ",1", RSQL_LIST_MAX, ")");
	assert_string_equal(ids(q), limit);
	free(q);
	/* One value, one key, the whole query. */
	q = repeat("name==", "a", RSQL_VALUE_MAX, "");
	assert_string_equal(ids(q), "");
	free(q);
	q = repeat("name==", "a", RSQL_VALUE_MAX + 1, "");
	assert_string_equal(ids(q), limit);
	free(q);
	q = repeat("metadata.", "k", RSQL_KEY_MAX, "==x");
	assert_string_equal(ids(q), "");
	free(q);
	q = repeat("metadata.", "k", RSQL_KEY_MAX + 1, "==x");
	assert_string_equal(ids(q), limit);
	free(q);
	q = repeat("name==", "a", RSQL_QUERY_MAX, "");
	assert_string_equal(ids(q), limit);
	free(q);
	/* A keyed =out= binds its key twice, then every value. */
	q = repeat("metadata.location=out=(x", ",y", RSQL_LIST_MAX - 1, ")");
	assert_string_equal(ids(q), "1,2,3,4,5,6");
	free(q);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_text),
	    cmocka_unit_test(test_kinds),
	    cmocka_unit_test(test_logic),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_limits),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
