/*
 * Software versions ordered the way SWUpdate orders them: up to four
 * dot-separated numeric fields (each 0..65535) compare as numbers; otherwise
 * both parse as semantic versions (minor and patch optional, pre-releases
 * before the release, build metadata ignored); otherwise plain strcmp.
 * Equality is semantic: "1.0" equals "1.0.0" and "1.0.0+build7".
 */
#ifndef VERSION_H
#define VERSION_H

#include <stdbool.h>

/* <0, 0 or >0 as a orders before, equal to or after b. NULL sorts first. */
int version_compare(const char *a, const char *b);
bool version_equal(const char *a, const char *b);
/*
 * Compare in a distribution set's version scheme: "semver" (RAUC bundles)
 * is SemVer with relaxed cores, 1 to 3 numeric fields that may have
 * leading zeros ("2024", "2024.05.1-rc1"), as RAUC's min-bundle-version
 * orders them, then strcmp; anything else is version_compare.
 */
int version_compare_scheme(const char *scheme, const char *a, const char *b);
/* True if s is a version we accept for software: non-empty, <= 255 bytes,
 * printable ASCII without spaces. */
bool version_valid(const char *s);

#endif
