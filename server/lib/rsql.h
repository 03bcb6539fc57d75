/*
 * FIQL/RSQL filters, as hawkBit's Management API takes them in `q=`,
 * compiled to a parameterised SQL condition.  Pure: a string and a table
 * of the fields a list admits in, SQL text with `?` placeholders and the
 * values to bind out.  No database, HTTP or globals.
 *
 *   q          = or
 *   or         = and *( ("," / " or ") and )
 *   and        = constraint *( (";" / " and ") constraint )
 *   constraint = "(" or ")" / selector operator argument
 *   operator   = "==" / "!=" / "=lt=" / "=le=" / "=gt=" / "=ge=" / "<" /
 *                "<=" / ">" / ">=" / "=in=" / "=out=" / "=li="
 *   argument   = value / "(" value *("," value) ")"     (lists: =in=, =out=)
 *   value      = unreserved characters, or '...' / "..." with \ escapes
 *
 * A `*` in a text value is a wildcard (a quoted `\*` is a star).  Text
 * comparisons ignore ASCII case, as hawkBit's do.  `!=` and `=out=` also
 * match rows where the field has no value (a device without that
 * metadata key, say).  The SQL is portable: LOWER, LIKE ... ESCAPE, IN,
 * IS NULL; no engine's extensions.
 */
#ifndef RSQL_H
#define RSQL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Named bounds on what one filter may hold. */
#define RSQL_QUERY_MAX 4096 /* bytes of q */
#define RSQL_DEPTH_MAX 16   /* nested parentheses */
#define RSQL_TERMS_MAX 64   /* comparisons */
#define RSQL_LIST_MAX 100   /* values of one =in= / =out= */
#define RSQL_VALUE_MAX 1024 /* bytes of one value */
#define RSQL_KEY_MAX 128    /* bytes of the key of a keyed field */
#define RSQL_PARAMS_MAX 512 /* placeholders in the SQL */

enum rsql_kind {
	RSQL_TEXT, /* compared as text; `*` wildcards */
	RSQL_INT,  /* a signed 64-bit integer */
	RSQL_BOOL, /* true / false, bound as 1 / 0 */
	RSQL_ENUM, /* one of a list of names, bound as its stored value */
};

/* RSQL_ENUM: the name a query uses (any case) and the value stored. */
struct rsql_enum {
	const char *name;
	const char *value;
};

/*
 * One field a list can be filtered on.  name matches the query's selector
 * ignoring case.  A keyed field (hawkBit's `metadata.<key>`,
 * `controllerAttributes.<key>`) has a name ending in '.', matches every
 * selector with that prefix, and its sql holds exactly one `?`, bound to
 * the key, ahead of the value's own.
 */
struct rsql_field {
	const char *name;
	enum rsql_kind kind;
	const char *sql;
	const struct rsql_enum *enums; /* RSQL_ENUM: ends with {NULL, NULL} */
};

enum rsql_err {
	RSQL_OK,
	RSQL_ERR_SYNTAX, /* not a well-formed filter */
	RSQL_ERR_FIELD,  /* a selector the list does not have */
	RSQL_ERR_VALUE,  /* a value or operator the field's kind refuses */
	RSQL_ERR_LIMIT,  /* more than a RSQL_*_MAX above */
};

struct rsql_param {
	bool is_int;
	int64_t num;
	char *text; /* NULL when is_int */
};

struct rsql_query {
	char *sql; /* a condition, parenthesised, for a WHERE clause */
	struct rsql_param *params;
	size_t nparams;
};

/*
 * Compile q against fields.  On RSQL_OK *out holds the condition; on an
 * error *out is empty and why says what and where (a byte offset).
 */
enum rsql_err rsql_compile(const char *q, const struct rsql_field *fields,
    size_t nfields, struct rsql_query *out, char *why, size_t whylen);
void rsql_query_free(struct rsql_query *);
const char *rsql_strerror(enum rsql_err);

#endif
