/*
 * Version ordering, after SWUpdate's compare_versions (core/util.c) with the
 * holes closed.  Three schemes are tried in order, and both versions must
 * parse with the same one:
 *
 *  1. Default numbering: 1 to 4 dot-separated decimal fields, each 0..65535,
 *     packed big-endian into 64 bits with missing fields 0, compared as
 *     integers.  SWUpdate silently drops fields after the 4th, so that
 *     "1.2.3.4" equals "1.2.3.4.5.6"; here 5 or more fields are simply not
 *     default numbering.  Leading zeros are accepted ("01.2" is 1.2.0.0), as
 *     SWUpdate's strtoul accepts them.  0 ("0", "0.0.0") is a version like
 *     any other.
 *  2. SemVer 2.0 with minor and patch optional ("1" is 1.0.0): pre-release
 *     identifiers ordered per semver.org section 11, a pre-release before
 *     its release, build metadata ignored.  Numeric parts follow the spec
 *     (no leading zeros) and may be of any length: they are compared as
 *     digit strings, never converted, so nothing overflows.
 *  3. Anything else, including mixed schemes: strcmp.  "v1.2" is a plain
 *     string.
 *
 * Nothing here allocates; versions are read in place.
 */
#include "version.h"

#include <stdint.h>
#include <string.h>

#define VERSION_FIELDS_MAX 4    /* default-numbering fields */
#define VERSION_FIELD_MAX 65535 /* largest default-numbering field */
#define VERSION_VALID_MAX 255   /* version_valid length limit */

/* A run of characters inside a version string; not NUL-terminated. */
struct span {
	const char *p;
	size_t len;
};

/* A parsed semantic version; spans point into the original string. */
struct semver {
	struct span num[3]; /* major, minor, patch; missing ones are "0" */
	struct span pre;    /* pre-release without the '-'; len 0 if none */
};

static int
sign(int v)
{
	return (v > 0) - (v < 0);
}

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
is_ident_char(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z') || c == '-';
}

/*
 * Parse default numbering into *out.  0 ok, -1 if s is not 1 to 4
 * non-empty decimal fields each at most VERSION_FIELD_MAX.
 */
static int
default_parse(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	int nfields = 0;

	for (;;) {
		uint32_t field = 0;
		const char *start = s;

		for (; is_digit(*s); s++) {
			field = field * 10 + (uint32_t)(*s - '0');
			if (field > VERSION_FIELD_MAX)
				return -1;
		}
		if (s == start || ++nfields > VERSION_FIELDS_MAX)
			return -1;
		v = v << 16 | field;
		if (*s == '\0')
			break;
		if (*s++ != '.')
			return -1;
	}
	*out = v << 16 * (VERSION_FIELDS_MAX - nfields);
	return 0;
}

/*
 * Read a numeric identifier (0 or digits without a leading zero) at *sp into
 * *out and advance *sp.  0 ok, -1 if there is none.
 */
static int
semver_number(const char **sp, struct span *out, int relaxed)
{
	const char *s = *sp;

	while (is_digit(*s))
		s++;
	if (s == *sp || (!relaxed && **sp == '0' && s - *sp > 1))
		return -1;
	out->p = *sp;
	out->len = (size_t)(s - *sp);
	/* Relaxed cores may have leading zeros ("2024.05"): drop them. */
	while (out->len > 1 && out->p[0] == '0') {
		out->p++;
		out->len--;
	}
	*sp = s;
	return 0;
}

/*
 * Check the dot-separated identifiers at *sp, ending at the first character
 * that is neither an identifier character nor a dot, and advance *sp.
 * Identifiers must be non-empty; with `strict` (pre-release) an all-digit
 * identifier must not have a leading zero.  0 ok, -1 malformed.
 */
static int
semver_idents(const char **sp, int strict)
{
	const char *s = *sp;

	for (;;) {
		const char *start = s;
		int numeric = 1;

		for (; is_ident_char(*s); s++)
			if (!is_digit(*s))
				numeric = 0;
		if (s == start)
			return -1;
		if (strict && numeric && *start == '0' && s - start > 1)
			return -1;
		if (*s != '.')
			break;
		s++;
	}
	*sp = s;
	return 0;
}

/*
 * Parse s as SemVer 2.0 with minor and patch optional.  relaxed: core
 * numbers may have leading zeros, as RAUC's min-bundle-version accepts.
 * 0 ok, -1 not.
 */
static int
semver_parse(const char *s, struct semver *out, int relaxed)
{
	int i;

	for (i = 0; i < 3; i++) {
		out->num[i].p = "0";
		out->num[i].len = 1;
	}
	out->pre.p = "";
	out->pre.len = 0;

	for (i = 0; i < 3; i++) {
		if (semver_number(&s, &out->num[i], relaxed) == -1)
			return -1;
		if (i == 2 || *s != '.')
			break;
		s++;
	}
	if (*s == '-') {
		out->pre.p = ++s;
		if (semver_idents(&s, 1) == -1)
			return -1;
		out->pre.len = (size_t)(s - out->pre.p);
	}
	if (*s == '+') {
		s++;
		if (semver_idents(&s, 0) == -1)
			return -1;
	}
	return *s == '\0' ? 0 : -1;
}

/* Compare two digit strings without leading zeros by value. */
static int
span_cmp_numeric(struct span a, struct span b)
{
	if (a.len != b.len)
		return a.len < b.len ? -1 : 1;
	return sign(memcmp(a.p, b.p, a.len));
}

/* Compare two spans in ASCII order, a proper prefix first. */
static int
span_cmp_ascii(struct span a, struct span b)
{
	int c = memcmp(a.p, b.p, a.len < b.len ? a.len : b.len);

	if (c != 0)
		return sign(c);
	return (a.len > b.len) - (a.len < b.len);
}

static int
span_is_numeric(struct span a)
{
	size_t i;

	for (i = 0; i < a.len; i++)
		if (!is_digit(a.p[i]))
			return 0;
	return 1;
}

/* Cut the next dot-separated identifier off the front of *rest. */
static struct span
span_next_ident(struct span *rest)
{
	struct span id = *rest;
	const char *dot = memchr(rest->p, '.', rest->len);

	if (dot == NULL) {
		rest->p += rest->len;
		rest->len = 0;
	} else {
		id.len = (size_t)(dot - rest->p);
		rest->len -= id.len + 1;
		rest->p = dot + 1;
	}
	return id;
}

/*
 * Order two non-empty pre-release strings per semver.org section 11.4:
 * identifier by identifier, numeric ones by value and below alphanumeric
 * ones, alphanumeric ones in ASCII order; a shorter set with an equal
 * prefix comes first.
 */
static int
prerelease_cmp(struct span a, struct span b)
{
	while (a.len > 0 && b.len > 0) {
		struct span ia = span_next_ident(&a);
		struct span ib = span_next_ident(&b);
		int na = span_is_numeric(ia), nb = span_is_numeric(ib);
		int c;

		if (na && nb)
			c = span_cmp_numeric(ia, ib);
		else if (na != nb)
			c = na ? -1 : 1;
		else
			c = span_cmp_ascii(ia, ib);
		if (c != 0)
			return c;
	}
	return (a.len > 0) - (b.len > 0);
}

static int
semver_cmp(const struct semver *a, const struct semver *b)
{
	int c, i;

	for (i = 0; i < 3; i++)
		if ((c = span_cmp_numeric(a->num[i], b->num[i])) != 0)
			return c;
	/* A version without pre-release sorts after any with one. */
	if (a->pre.len == 0 || b->pre.len == 0)
		return (a->pre.len == 0) - (b->pre.len == 0);
	return prerelease_cmp(a->pre, b->pre);
}

int
version_compare(const char *a, const char *b)
{
	struct semver sa, sb;
	uint64_t na, nb;

	if (a == NULL || b == NULL)
		return (a != NULL) - (b != NULL);
	if (default_parse(a, &na) == 0 && default_parse(b, &nb) == 0)
		return (na > nb) - (na < nb);
	if (semver_parse(a, &sa, 0) == 0 && semver_parse(b, &sb, 0) == 0)
		return semver_cmp(&sa, &sb);
	return sign(strcmp(a, b));
}

int
version_compare_scheme(const char *scheme, const char *a, const char *b)
{
	struct semver sa, sb;

	if (scheme == NULL || strcmp(scheme, "semver") != 0)
		return version_compare(a, b);
	if (a == NULL || b == NULL)
		return (a != NULL) - (b != NULL);
	if (semver_parse(a, &sa, 1) == 0 && semver_parse(b, &sb, 1) == 0)
		return semver_cmp(&sa, &sb);
	return sign(strcmp(a, b));
}

bool
version_equal(const char *a, const char *b)
{
	return version_compare(a, b) == 0;
}

bool
version_valid(const char *s)
{
	size_t i;

	if (s == NULL || *s == '\0')
		return false;
	for (i = 0; s[i] != '\0'; i++)
		if (i >= VERSION_VALID_MAX || s[i] < '!' || s[i] > '~')
			return false;
	return true;
}
