/*
 * Named groups over POSIX regular expressions: the pattern is rewritten
 * with plain groups and the number of each named group is remembered.
 * POSIX ERE has no non-capturing groups, so every unescaped "(" outside a
 * bracket expression opens group number n+1.
 */
#include "hwcompat.h"

#include <regex.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

struct named {
	char *ere; /* the pattern with plain groups, anchored */
	int model; /* group numbers, 0 = absent */
	int revision;
	const char *error;
};

static int
named_kind(const char *name, size_t len)
{
	static const struct {
		const char *name;
		int kind;
	} names[] = {{"model", 1}, {"hw_boardname", 1}, {"revision", 2},
	    {"hw_revision", 2}};

	for (size_t i = 0; i < NELEM(names); i++)
		if (strlen(names[i].name) == len &&
		    memcmp(names[i].name, name, len) == 0)
			return names[i].kind;
	return 0;
}

static void
named_parse(const char *p, struct named *n)
{
	size_t len = strlen(p), o = 0;
	int group = 0;
	bool bracket = false;

	memset(n, 0, sizeof(*n));
	n->ere = xmalloc(len + 5);
	n->ere[o++] = '^';
	n->ere[o++] = '(';
	group = 1; /* the whole pattern, so that "a|b" stays anchored */
	for (size_t i = 0; i < len; i++) {
		if (p[i] == '\\' && i + 1 < len && !bracket) {
			n->ere[o++] = p[i++];
			n->ere[o++] = p[i];
			continue;
		}
		if (bracket) {
			if (p[i] == ']')
				bracket = false;
			n->ere[o++] = p[i];
			continue;
		}
		if (p[i] == '[') {
			bracket = true;
			n->ere[o++] = p[i];
			/* "[]...]" and "[^]...]": a leading ] is literal. */
			if (i + 1 < len && p[i + 1] == '^')
				n->ere[o++] = p[++i];
			if (i + 1 < len && p[i + 1] == ']')
				n->ere[o++] = p[++i];
			continue;
		}
		if (p[i] == '(') {
			group++;
			n->ere[o++] = '(';
			if (p[i + 1] == '?') {
				const char *name, *end;
				int kind;

				name = p + i + 2;
				if (*name == 'P')
					name++;
				if (*name != '<' ||
				    (end = strchr(name, '>')) == NULL) {
					n->error = "\"(?\" must start a named "
					           "group: (?P<name>...)";
					return;
				}
				name++;
				if ((kind = named_kind(name, end - name)) ==
				    0) {
					n->error = "group names are model and "
					           "revision";
					return;
				}
				if ((kind == 1 ? n->model : n->revision) != 0) {
					n->error = "a group name is used twice";
					return;
				}
				if (kind == 1)
					n->model = group;
				else
					n->revision = group;
				i = end - p;
			}
			continue;
		}
		n->ere[o++] = p[i];
	}
	n->ere[o++] = ')';
	n->ere[o++] = '$';
	n->ere[o] = '\0';
	if (n->model == 0)
		n->error = "the pattern needs a group named model";
}

const char *
hwcompat_pattern_check(const char *pattern)
{
	struct named n;
	const char *err;
	regex_t re;

	if (strlen(pattern) > HWCOMPAT_PATTERN_MAX)
		return "is too long";
	named_parse(pattern, &n);
	err = n.error;
	if (err == NULL) {
		if (regcomp(&re, n.ere, REG_EXTENDED) != 0)
			err =
			    "is not a valid POSIX extended regular expression";
		else
			regfree(&re);
	}
	free(n.ere);
	return err;
}

static char *
group_dup(const char *s, const regmatch_t *m)
{
	if (m->rm_so < 0 || m->rm_eo <= m->rm_so)
		return NULL;
	return xstrndup(s + m->rm_so, (size_t)(m->rm_eo - m->rm_so));
}

void
hwcompat_split(
    const char *pattern, const char *compatible, char **model, char **revision)
{
	struct named n;
	regmatch_t m[16];
	regex_t re;

	*model = NULL;
	*revision = NULL;
	if (pattern != NULL && *pattern != '\0') {
		named_parse(pattern, &n);
		if (n.error == NULL && n.model < (int)NELEM(m) &&
		    n.revision < (int)NELEM(m) &&
		    regcomp(&re, n.ere, REG_EXTENDED) == 0) {
			if (regexec(&re, compatible, NELEM(m), m, 0) == 0) {
				*model = group_dup(compatible, &m[n.model]);
				if (n.revision)
					*revision = group_dup(
					    compatible, &m[n.revision]);
			}
			regfree(&re);
		}
		free(n.ere);
	}
	if (*model == NULL) {
		free(*revision);
		*revision = NULL;
		*model = xstrdup(compatible);
	}
}
