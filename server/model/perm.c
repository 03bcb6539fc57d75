/*
 * Permission matching.  Grants are short strings compared segment by
 * segment; a grant longer than the permission never matches (gooseBit
 * raised an error there instead).
 */
#include "perm.h"

#include <string.h>

#include "util.h"

const char *const perm_names[] = {
    "device.read",
    "device.write",
    "device.delete",
    "software.read",
    "software.write",
    "software.delete",
    "rollout.read",
    "rollout.write",
    "rollout.delete",
    "users.read",
    "users.write",
    "audit.read",
    "settings.read",
    "settings.write",
    "metrics.read",
    NULL,
};

/* Does one grant (without '!') match perm? */
static bool
perm_match(const char *grant, const char *perm)
{
	const char *g = grant, *p = perm;

	for (;;) {
		size_t gl = strcspn(g, "."), pl = strcspn(p, ".");

		if (!(gl == 1 && *g == '*') &&
		    (gl != pl || strncmp(g, p, gl) != 0))
			return false;
		g += gl;
		p += pl;
		if (*g == '\0')
			return true; /* a prefix (or equal) grant */
		if (*p == '\0')
			return false; /* the grant is longer */
		g++;
		p++;
	}
}

bool
perm_allows(const json_t *grants, const char *perm)
{
	bool allowed = false;
	size_t i;
	json_t *v;

	if (perm == NULL)
		return true;
	json_array_foreach(grants, i, v)
	{
		const char *g = json_string_value(v);

		if (g == NULL)
			continue;
		if (g[0] == '!') {
			if (perm_match(g + 1, perm))
				return false;
		} else if (perm_match(g, perm))
			allowed = true;
	}
	return allowed;
}

bool
perm_grant_valid(const char *s)
{
	size_t n = strlen(s), seg = 0;

	if (*s == '!')
		s++, n--;
	if (n == 0 || n > PERM_GRANT_LEN || s[0] == '.' || s[n - 1] == '.')
		return false;
	for (; *s; s++) {
		if (*s == '.') {
			if (seg == 0)
				return false;
			seg = 0;
			continue;
		}
		if (!((*s >= 'a' && *s <= 'z') || *s == '*' || *s == '_'))
			return false;
		seg++;
	}
	return true;
}

bool
perm_grants_valid(const json_t *grants, const char **why)
{
	size_t i;
	json_t *v;

	if (!json_is_array(grants) || json_array_size(grants) > PERM_GRANTS_MAX)
		return *why = "permissions must be an array of at most 64 "
		              "strings",
		       false;
	json_array_foreach(grants, i, v)
	{
		if (!json_is_string(v) ||
		    !perm_grant_valid(json_string_value(v)))
			return *why = "a permission is a dotted name such as "
			              "device.read, with * and a leading ! "
			              "allowed",
			       false;
	}
	return true;
}

bool
perm_subset(const json_t *inner, const json_t *outer)
{
	for (size_t i = 0; perm_names[i]; i++)
		if (perm_allows(inner, perm_names[i]) &&
		    !perm_allows(outer, perm_names[i]))
			return false;
	return true;
}

json_t *
perm_role(const char *name)
{
	if (strcmp(name, "admin") == 0)
		return json_pack("[s]", "*");
	if (strcmp(name, "operator") == 0)
		return json_pack("[s, s, s, s, s, s]", "device", "software",
		    "rollout", "audit.read", "settings.read", "metrics.read");
	if (strcmp(name, "readonly") == 0)
		return json_pack("[s, s, s, s, s, s]", "device.read",
		    "software.read", "rollout.read", "audit.read",
		    "settings.read", "metrics.read");
	return NULL;
}
