/*
 * Reader for SWUpdate .swu images: a cpio archive (newc or crc) whose first
 * member is sw-description, optionally followed by sw-description.sig.
 * Pure: bytes in, struct swu_info out; no database, HTTP or globals.
 */
#ifndef SWU_H
#define SWU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Named limits on what an image may hold. */
#define SWU_DESC_MAX (1024 * 1024) /* sw-description bytes */
#define SWU_ENTRIES_MAX 4096       /* cpio members */
#define SWU_NAME_MAX 255           /* member name bytes */
#define SWU_HW_MAX 1024            /* compatibility entries */
#define SWU_SIG_MAX (64 * 1024)    /* sw-description.sig bytes */

enum swu_err {
	SWU_OK,
	SWU_ERR_IO,     /* read error on the file */
	SWU_ERR_FORMAT, /* not a cpio archive, or corrupt/truncated */
	SWU_ERR_FIRST,  /* first member is not sw-description */
	SWU_ERR_LIMIT,  /* too many members, name or description too long */
	SWU_ERR_SYNTAX, /* sw-description is neither valid libconfig nor JSON */
	SWU_ERR_NOSOFTWARE, /* no "software" group at the top */
	SWU_ERR_NOVERSION,  /* software.version missing, not a string or invalid
	                     */
	SWU_ERR_HW,         /* malformed hardware-compatibility */
	SWU_ERR_DUPLICATE,  /* the same member name twice */
};

/*
 * One hardware-compatibility entry.  board is "" for entries that apply to
 * any board (top-level software.hardware-compatibility or a selection
 * without a board level), else the board name of software.<board>.
 * revision is NULL when the subtree has no hardware-compatibility (any
 * revision of that board); is_regex is set for "#RE:" entries, whose
 * revision holds the regex without the prefix (POSIX extended).
 */
struct swu_hw {
	char *board;
	char *revision;
	bool is_regex;
};

struct swu_info {
	char *version;     /* software.version, never NULL on success */
	char *description; /* software.description or NULL */
	struct swu_hw *hw; /* nhw entries; see the matching rule in policy.h */
	size_t nhw;
	bool is_signed;  /* sw-description.sig is the second member */
	size_t nentries; /* cpio members, trailer excluded */
	/* swu_parse_fd and swu_parse_mem only: the bytes the signature
	 * covers and the signature (a CMS, DER), for the caller to check. */
	char *sw_description;
	size_t sw_description_len;
	char *sig; /* NULL unless is_signed */
	size_t sig_len;
};

/*
 * Read the archive open on fd (from its current offset) and fill *out.
 * Returns SWU_OK or an error code; on error *out holds nothing to free.
 * On success the caller owns *out and releases it with swu_info_clear.
 * Walks every member header (skipping data with lseek where it can) so a
 * truncated or lying archive fails; memory stays bounded by the limits.
 */
enum swu_err swu_parse_fd(int fd, struct swu_info *out);
/* The same for an image held in memory (used by the fuzzer and tests). */
enum swu_err swu_parse_mem(const void *buf, size_t len, struct swu_info *out);
/* Parse sw-description text alone (libconfig or JSON syntax). */
enum swu_err swu_parse_description(
    const char *text, size_t len, struct swu_info *out);
void swu_info_clear(struct swu_info *);
const char *swu_strerror(enum swu_err);

#endif
