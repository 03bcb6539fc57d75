/*
 * FIQL/RSQL filter compiler: recursive descent over the query, writing the
 * SQL as it goes.  Every placeholder is pushed in the order it appears in
 * the text, so the caller binds params[i] to placeholder i + 1.
 */
#include "rsql.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"

enum rsql_op {
	RSQL_EQ,
	RSQL_NE,
	RSQL_LT,
	RSQL_LE,
	RSQL_GT,
	RSQL_GE,
	RSQL_IN,
	RSQL_OUT,
	RSQL_LIKE,
};

struct rsql_parser {
	const char *s;
	size_t len, pos;
	const struct rsql_field *fields;
	size_t nfields;
	int depth, terms;
	struct buf sql;
	struct rsql_param *params;
	size_t nparams, cap;
	enum rsql_err err;
	char *why;
	size_t whylen;
};

/* One value: as written (escapes undone) and as a LIKE pattern. */
struct rsql_value {
	char *text;
	char *pattern; /* `*` as %, literal %, _ and \ escaped with \ */
	bool wild;     /* an unescaped `*` */
};

const char *
rsql_strerror(enum rsql_err err)
{
	switch (err) {
	case RSQL_OK:
		return "ok";
	case RSQL_ERR_SYNTAX:
		return "the filter is not well formed";
	case RSQL_ERR_FIELD:
		return "the filter names a field this list does not have";
	case RSQL_ERR_VALUE:
		return "a value does not fit its field";
	case RSQL_ERR_LIMIT:
		return "the filter is too long or too complex";
	}
	return "unknown error";
}

static bool rsql_fail(struct rsql_parser *, enum rsql_err, const char *, ...)
    __attribute__((format(printf, 3, 4)));

/* Record the first error; always false, for `return rsql_fail(...)`. */
static bool
rsql_fail(struct rsql_parser *p, enum rsql_err err, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (p->err != RSQL_OK)
		return false;
	p->err = err;
	va_start(ap, fmt);
	utf8_vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (p->why != NULL && p->whylen > 0)
		utf8_snprintf(
		    p->why, p->whylen, "%s (at byte %zu)", msg, p->pos);
	return false;
}

static bool
rsql_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void
rsql_skip_space(struct rsql_parser *p)
{
	while (p->pos < p->len && rsql_space(p->s[p->pos]))
		p->pos++;
}

static char
rsql_peek(const struct rsql_parser *p)
{
	return p->pos < p->len ? p->s[p->pos] : '\0';
}

/* Characters that end an unquoted value or a selector. */
static bool
rsql_reserved(char c)
{
	return c == '"' || c == '\'' || c == '(' || c == ')' || c == ';' ||
	       c == ',' || c == '=' || c == '!' || c == '~' || c == '<' ||
	       c == '>' || rsql_space(c) || (unsigned char)c < 0x20 ||
	       c == 0x7f;
}

static bool
rsql_selector_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' ||
	       c == ':';
}

static bool
rsql_param(struct rsql_parser *p, bool is_int, int64_t num, const char *text)
{
	struct rsql_param *pa;

	if (p->nparams >= RSQL_PARAMS_MAX)
		return rsql_fail(p, RSQL_ERR_LIMIT,
		    "more than %d values to bind", RSQL_PARAMS_MAX);
	if (p->nparams == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 8;
		p->params = xrealloc(p->params, p->cap * sizeof(*p->params));
	}
	pa = &p->params[p->nparams++];
	pa->is_int = is_int;
	pa->num = num;
	pa->text = is_int ? NULL : xstrdup(text);
	buf_adds(&p->sql, "?");
	return true;
}

/*
 * The keyword "and" / "or" here, after white space: consumed with the
 * space that follows it.
 */
static bool
rsql_keyword(struct rsql_parser *p, const char *word)
{
	size_t n = strlen(word), at = p->pos;
	char next;

	if (at == 0 || !rsql_space(p->s[at - 1]) || p->len - at < n + 1 ||
	    strncasecmp(p->s + at, word, n) != 0)
		return false;
	next = p->s[at + n];
	if (!rsql_space(next) && next != '(')
		return false;
	p->pos = at + n;
	return true;
}

static bool rsql_or(struct rsql_parser *);

static void
rsql_value_free(struct rsql_value *v)
{
	free(v->text);
	free(v->pattern);
	memset(v, 0, sizeof(*v));
}

/* Append c to the literal text and to the LIKE pattern. */
static void
rsql_value_add(struct buf *text, struct buf *pat, char c, bool wildcard)
{
	if (wildcard) {
		buf_add(text, "*", 1);
		buf_add(pat, "%", 1);
		return;
	}
	buf_add(text, &c, 1);
	if (c == '%' || c == '_' || c == '\\')
		buf_add(pat, "\\", 1);
	buf_add(pat, &c, 1);
}

static bool
rsql_value(struct rsql_parser *p, struct rsql_value *v)
{
	struct buf text = {0}, pat = {0};
	size_t start;
	char quote = 0, c;

	memset(v, 0, sizeof(*v));
	rsql_skip_space(p);
	c = rsql_peek(p);
	if (c == '\'' || c == '"') {
		quote = c;
		p->pos++;
	}
	start = p->pos;
	for (;;) {
		if (p->pos >= p->len) {
			if (quote)
				goto unterminated;
			break;
		}
		c = p->s[p->pos];
		if (quote && c == quote) {
			p->pos++;
			break;
		}
		if (!quote && rsql_reserved(c))
			break;
		if ((unsigned char)c < 0x20 || c == 0x7f)
			goto bad_char;
		if (quote && c == '\\') {
			if (++p->pos >= p->len)
				goto unterminated;
			c = p->s[p->pos];
			if ((unsigned char)c < 0x20 || c == 0x7f)
				goto bad_char;
			rsql_value_add(&text, &pat, c, false);
		} else if (c == '*') {
			v->wild = true;
			rsql_value_add(&text, &pat, c, true);
		} else
			rsql_value_add(&text, &pat, c, false);
		p->pos++;
		if (text.len > RSQL_VALUE_MAX) {
			free(text.data);
			free(pat.data);
			return rsql_fail(p, RSQL_ERR_LIMIT,
			    "a value is longer than %d bytes", RSQL_VALUE_MAX);
		}
	}
	if (!quote && p->pos == start) {
		free(text.data);
		free(pat.data);
		return rsql_fail(p, RSQL_ERR_SYNTAX, "a value is missing");
	}
	v->text = buf_take(&text, NULL);
	v->pattern = buf_take(&pat, NULL);
	return true;
unterminated:
	free(text.data);
	free(pat.data);
	return rsql_fail(p, RSQL_ERR_SYNTAX, "a quoted value is not closed");
bad_char:
	free(text.data);
	free(pat.data);
	return rsql_fail(p, RSQL_ERR_SYNTAX, "a control character in a value");
}

static bool
rsql_operator(struct rsql_parser *p, enum rsql_op *op)
{
	static const struct {
		const char *text;
		enum rsql_op op;
	} ops[] = {
	    {"==", RSQL_EQ},
	    {"!=", RSQL_NE},
	    {"=lt=", RSQL_LT},
	    {"=le=", RSQL_LE},
	    {"=gt=", RSQL_GT},
	    {"=ge=", RSQL_GE},
	    {"=in=", RSQL_IN},
	    {"=out=", RSQL_OUT},
	    {"=li=", RSQL_LIKE},
	    {"<=", RSQL_LE},
	    {">=", RSQL_GE},
	    {"<", RSQL_LT},
	    {">", RSQL_GT},
	};
	size_t i, n;

	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		n = strlen(ops[i].text);
		if (p->len - p->pos >= n &&
		    strncasecmp(p->s + p->pos, ops[i].text, n) == 0) {
			*op = ops[i].op;
			p->pos += n;
			return true;
		}
	}
	return rsql_fail(p, RSQL_ERR_SYNTAX, "an operator is missing");
}

/* The field a selector names; *key is set for a keyed field. */
static const struct rsql_field *
rsql_field(struct rsql_parser *p, const char *sel, size_t n, const char **key,
    size_t *keylen)
{
	const struct rsql_field *f;
	size_t i, fl;

	*key = NULL;
	*keylen = 0;
	for (i = 0; i < p->nfields; i++) {
		f = &p->fields[i];
		fl = strlen(f->name);
		if (fl > 0 && f->name[fl - 1] == '.') {
			if (n > fl && strncasecmp(sel, f->name, fl) == 0) {
				*key = sel + fl;
				*keylen = n - fl;
				return f;
			}
		} else if (n == fl && strncasecmp(sel, f->name, n) == 0)
			return f;
	}
	return NULL;
}

/* The field's expression, its key bound where it has one. */
static bool
rsql_expr(struct rsql_parser *p, const struct rsql_field *f, const char *key)
{
	const char *q;

	if (key == NULL) {
		buf_adds(&p->sql, f->sql);
		return true;
	}
	q = strchr(f->sql, '?');
	buf_add(&p->sql, f->sql, (size_t)(q - f->sql));
	if (!rsql_param(p, false, 0, key))
		return false;
	buf_adds(&p->sql, q + 1);
	return true;
}

/* One value of a field, checked against its kind and bound. */
static bool
rsql_bind_value(struct rsql_parser *p, const struct rsql_field *f,
    const struct rsql_value *v, bool pattern)
{
	const struct rsql_enum *e;
	int64_t num;

	switch (f->kind) {
	case RSQL_TEXT:
		return rsql_param(p, false, 0, pattern ? v->pattern : v->text);
	case RSQL_INT:
		if (v->wild ||
		    parse_int64(v->text, INT64_MIN, INT64_MAX, &num) == -1)
			return rsql_fail(p, RSQL_ERR_VALUE,
			    "field %s takes an integer, not \"%s\"", f->name,
			    v->text);
		return rsql_param(p, true, num, NULL);
	case RSQL_BOOL:
		if (strcasecmp(v->text, "true") == 0)
			return rsql_param(p, true, 1, NULL);
		if (strcasecmp(v->text, "false") == 0)
			return rsql_param(p, true, 0, NULL);
		return rsql_fail(p, RSQL_ERR_VALUE,
		    "field %s takes true or false, not \"%s\"", f->name,
		    v->text);
	case RSQL_ENUM:
		for (e = f->enums; e != NULL && e->name != NULL; e++)
			if (strcasecmp(v->text, e->name) == 0)
				return rsql_param(p, false, 0, e->value);
		return rsql_fail(p, RSQL_ERR_VALUE,
		    "field %s has no value \"%s\"", f->name, v->text);
	}
	return rsql_fail(p, RSQL_ERR_VALUE, "field %s", f->name);
}

/* "E op ?" for one value; text compares ignoring case. */
static bool
rsql_compare(struct rsql_parser *p, const struct rsql_field *f, const char *key,
    enum rsql_op op, const struct rsql_value *v)
{
	static const char *const sym[] = {
	    [RSQL_EQ] = " = ",
	    [RSQL_LT] = " < ",
	    [RSQL_LE] = " <= ",
	    [RSQL_GT] = " > ",
	    [RSQL_GE] = " >= ",
	};
	bool text = f->kind == RSQL_TEXT;
	bool like = text && (op == RSQL_LIKE || (op == RSQL_EQ && v->wild));
	bool fold = text && (op == RSQL_EQ || op == RSQL_LIKE);

	if (v->wild && !like)
		return rsql_fail(p, RSQL_ERR_VALUE,
		    "a wildcard works with == and != on text only");
	if (op == RSQL_LIKE && !text)
		return rsql_fail(p, RSQL_ERR_VALUE,
		    "=li= works on text fields only, not %s", f->name);
	if (op != RSQL_EQ && op != RSQL_LIKE &&
	    (f->kind == RSQL_BOOL || f->kind == RSQL_ENUM))
		return rsql_fail(p, RSQL_ERR_VALUE,
		    "field %s takes == and != only", f->name);
	buf_adds(&p->sql, fold ? "LOWER(" : "");
	if (!rsql_expr(p, f, key))
		return false;
	buf_adds(&p->sql, fold ? ")" : "");
	if (like)
		buf_adds(&p->sql, " LIKE LOWER(");
	else
		buf_adds(&p->sql, fold ? " = LOWER(" : sym[op]);
	if (!rsql_bind_value(p, f, v, like))
		return false;
	buf_adds(&p->sql, fold || like ? ")" : "");
	if (like)
		buf_adds(&p->sql, " ESCAPE '\\'");
	return true;
}

/* "E IN (?, ...)" over vals[0..n). */
static bool
rsql_in(struct rsql_parser *p, const struct rsql_field *f, const char *key,
    const struct rsql_value *vals, size_t n)
{
	bool fold = f->kind == RSQL_TEXT;
	size_t i;

	buf_adds(&p->sql, fold ? "LOWER(" : "");
	if (!rsql_expr(p, f, key))
		return false;
	buf_adds(&p->sql, fold ? ") IN (" : " IN (");
	for (i = 0; i < n; i++) {
		if (vals[i].wild)
			return rsql_fail(p, RSQL_ERR_VALUE,
			    "a wildcard works with == and != only");
		buf_adds(&p->sql, i > 0 ? ", " : "");
		buf_adds(&p->sql, fold ? "LOWER(" : "");
		if (!rsql_bind_value(p, f, &vals[i], false))
			return false;
		buf_adds(&p->sql, fold ? ")" : "");
	}
	buf_adds(&p->sql, ")");
	return true;
}

/* The SQL of one comparison with its values. */
static bool
rsql_emit(struct rsql_parser *p, const struct rsql_field *f, const char *key,
    enum rsql_op op, const struct rsql_value *vals, size_t n)
{
	bool negate = op == RSQL_NE || op == RSQL_OUT, ok;

	if ((op == RSQL_IN || op == RSQL_OUT) ? n == 0 : n != 1)
		return rsql_fail(p, RSQL_ERR_SYNTAX,
		    n == 0 ? "an empty list of values"
		           : "a list of values works with =in= and =out= only");
	/* Not equal also matches no value: "(E IS NULL OR NOT (E = ?))". */
	if (negate) {
		buf_adds(&p->sql, "(");
		if (!rsql_expr(p, f, key))
			return false;
		buf_adds(&p->sql, " IS NULL OR NOT (");
	}
	if (op == RSQL_IN || op == RSQL_OUT)
		ok = rsql_in(p, f, key, vals, n);
	else
		ok = rsql_compare(p, f, key, negate ? RSQL_EQ : op, &vals[0]);
	if (ok && negate)
		buf_adds(&p->sql, "))");
	return ok;
}

static bool
rsql_comparison(struct rsql_parser *p)
{
	struct rsql_value vals[RSQL_LIST_MAX];
	const struct rsql_field *f;
	size_t start = p->pos, n = 0, keylen, i;
	const char *key;
	char *keycopy = NULL;
	enum rsql_op op = RSQL_EQ;
	bool ok = false, list;

	while (p->pos < p->len && rsql_selector_char(p->s[p->pos]))
		p->pos++;
	if (p->pos == start)
		return rsql_fail(p, RSQL_ERR_SYNTAX, "a field name is missing");
	if (++p->terms > RSQL_TERMS_MAX)
		return rsql_fail(p, RSQL_ERR_LIMIT, "more than %d comparisons",
		    RSQL_TERMS_MAX);
	f = rsql_field(p, p->s + start, p->pos - start, &key, &keylen);
	if (f == NULL)
		return rsql_fail(p, RSQL_ERR_FIELD, "no field \"%.*s\" here",
		    (int)utf8_cut(p->s + start, p->pos - start), p->s + start);
	if (key != NULL) {
		if (keylen > RSQL_KEY_MAX)
			return rsql_fail(p, RSQL_ERR_LIMIT,
			    "a key is longer than %d bytes", RSQL_KEY_MAX);
		keycopy = xstrndup(key, keylen);
	}
	rsql_skip_space(p);
	if (!rsql_operator(p, &op))
		goto done;
	rsql_skip_space(p);
	list = rsql_peek(p) == '(';
	if (list) {
		p->pos++;
		for (;;) {
			if (n == RSQL_LIST_MAX) {
				rsql_fail(p, RSQL_ERR_LIMIT,
				    "more than %d values in a list",
				    RSQL_LIST_MAX);
				goto done;
			}
			if (!rsql_value(p, &vals[n]))
				goto done;
			n++;
			rsql_skip_space(p);
			if (rsql_peek(p) == ',') {
				p->pos++;
				continue;
			}
			if (rsql_peek(p) == ')') {
				p->pos++;
				break;
			}
			rsql_fail(p, RSQL_ERR_SYNTAX,
			    "a list of values is not closed");
			goto done;
		}
	} else {
		if (!rsql_value(p, &vals[0]))
			goto done;
		n = 1;
	}
	ok = rsql_emit(p, f, keycopy, op, vals, n);
done:
	for (i = 0; i < n; i++)
		rsql_value_free(&vals[i]);
	free(keycopy);
	return ok;
}

static bool
rsql_constraint(struct rsql_parser *p)
{
	bool ok;

	rsql_skip_space(p);
	if (rsql_peek(p) != '(')
		return rsql_comparison(p);
	if (++p->depth > RSQL_DEPTH_MAX)
		return rsql_fail(p, RSQL_ERR_LIMIT,
		    "more than %d nested parentheses", RSQL_DEPTH_MAX);
	p->pos++;
	ok = rsql_or(p);
	rsql_skip_space(p);
	if (ok && rsql_peek(p) != ')')
		return rsql_fail(p, RSQL_ERR_SYNTAX, "a ( is not closed");
	p->pos++;
	p->depth--;
	return ok;
}

static bool
rsql_and(struct rsql_parser *p)
{
	buf_adds(&p->sql, "(");
	if (!rsql_constraint(p))
		return false;
	for (;;) {
		rsql_skip_space(p);
		if (rsql_peek(p) == ';')
			p->pos++;
		else if (!rsql_keyword(p, "and"))
			break;
		buf_adds(&p->sql, " AND ");
		if (!rsql_constraint(p))
			return false;
	}
	buf_adds(&p->sql, ")");
	return true;
}

static bool
rsql_or(struct rsql_parser *p)
{
	buf_adds(&p->sql, "(");
	if (!rsql_and(p))
		return false;
	for (;;) {
		rsql_skip_space(p);
		if (rsql_peek(p) == ',')
			p->pos++;
		else if (!rsql_keyword(p, "or"))
			break;
		buf_adds(&p->sql, " OR ");
		if (!rsql_and(p))
			return false;
	}
	buf_adds(&p->sql, ")");
	return true;
}

void
rsql_query_free(struct rsql_query *q)
{
	size_t i;

	if (q == NULL)
		return;
	for (i = 0; i < q->nparams; i++)
		free(q->params[i].text);
	free(q->params);
	free(q->sql);
	memset(q, 0, sizeof(*q));
}

enum rsql_err
rsql_compile(const char *q, const struct rsql_field *fields, size_t nfields,
    struct rsql_query *out, char *why, size_t whylen)
{
	struct rsql_parser p = {
	    .s = q,
	    .fields = fields,
	    .nfields = nfields,
	    .why = why,
	    .whylen = whylen,
	};
	bool ok;

	memset(out, 0, sizeof(*out));
	if (why != NULL && whylen > 0)
		why[0] = '\0';
	p.len = q != NULL ? strlen(q) : 0;
	if (p.len > RSQL_QUERY_MAX)
		rsql_fail(&p, RSQL_ERR_LIMIT,
		    "the filter is longer than %d "
		    "bytes",
		    RSQL_QUERY_MAX);
	else if (!utf8_valid(q, p.len))
		rsql_fail(&p, RSQL_ERR_SYNTAX, "the filter is not UTF-8");
	else {
		ok = rsql_or(&p);
		rsql_skip_space(&p);
		if (ok && p.pos < p.len)
			rsql_fail(&p, RSQL_ERR_SYNTAX,
			    p.s[p.pos] == ')' ? "a ) without its ("
			                      : "unexpected text");
	}
	out->params = p.params;
	out->nparams = p.nparams;
	out->sql = buf_take(&p.sql, NULL);
	if (p.err != RSQL_OK)
		rsql_query_free(out);
	return p.err;
}
