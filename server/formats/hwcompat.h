/*
 * A RAUC bundle's `compatible` as Falconet's hardware model and revision.
 * RAUC itself compares the whole string with the device's [system]
 * compatible; devices that report that string are matched exactly (see
 * policy.h).  For the others the string is the hardware model, or, with
 * rauc.compatible_pattern, is split by a regular expression with the named
 * groups `model` and `revision` (gooseBit's `hw_boardname` and
 * `hw_revision` are accepted too).  Pure: no I/O.
 */
#ifndef HWCOMPAT_H
#define HWCOMPAT_H

#include <stddef.h>

#define HWCOMPAT_PATTERN_MAX 511

/*
 * Check a pattern: NULL if it is usable, else why not.  The pattern is a
 * POSIX extended regex in which groups may be named "(?P<name>" or
 * "(?<name>"; it must name a model group.
 */
const char *hwcompat_pattern_check(const char *pattern);

/*
 * Split compatible by pattern ("" or NULL: no pattern).  The pattern must
 * match the whole string; then *model is the model group and *revision the
 * revision group (NULL when that group is absent or empty: any revision).
 * Without a pattern, or when it does not match, *model is the whole string
 * and *revision NULL.  The caller frees both.
 */
void hwcompat_split(
    const char *pattern, const char *compatible, char **model, char **revision);

#endif
