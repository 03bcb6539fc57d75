/*
 * Small helpers every module may use: allocation that never returns NULL,
 * bounded number parsing, HH:MM:SS durations, byte sizes, random tokens,
 * constant-time comparison, hex encoding, and UTF-8 checks and cuts.  No
 * I/O beyond the random device.
 */
#ifndef UTIL_H
#define UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What a domain call tells its caller; http.c maps these to status codes. */
enum result {
	RESULT_OK,
	RESULT_NOTFOUND,
	RESULT_INVALID,
	RESULT_CONFLICT,
	RESULT_GONE,
	RESULT_ERROR
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Allocation wrappers: they call fatal() instead of returning NULL. */
void *xmalloc(size_t);
void *xcalloc(size_t, size_t);
void *xrealloc(void *, size_t);
char *xstrdup(const char *);
char *xstrndup(const char *, size_t);
/* printf into a new string the caller frees. */
char *xasprintf(const char *, ...) __attribute__((format(printf, 1, 2)));

/*
 * Parse the whole of `s` as a decimal integer in [min, max].  Leading and
 * trailing garbage, empty strings and overflow fail.  0 ok, -1 failed.
 */
int parse_int64(const char *s, int64_t min, int64_t max, int64_t *out);

/* "HH:MM:SS" <-> seconds in [0, 86399].  0 ok, -1 failed. */
int parse_hms(const char *s, int *secs);
/* Writes "HH:MM:SS" (clamped to 23:59:59) into buf, which holds 9 bytes. */
void format_hms(int secs, char buf[9]);

/*
 * Parse a byte size: a decimal number with an optional K, M, G or T suffix
 * (powers of 1024), e.g. "512M".  0 ok, -1 failed or above max.
 */
int parse_size(const char *s, uint64_t max, uint64_t *out);

/* A byte count as people read it: "100 MiB", "1.5 GiB", "512 bytes"
 * (binary units; a whole number when exact, else one decimal). */
void format_bytes(uint64_t n, char buf[32]);

/* Fill buf with len random bytes from the kernel.  0 ok, -1 failed. */
int random_bytes(void *buf, size_t len);
/* Write a NUL-terminated random token of len alphanumerics into out[len+1]. */
int random_token(char *out, size_t len);

/* Compare two byte strings in time that depends only on their lengths. */
bool ct_equal(const void *a, size_t alen, const void *b, size_t blen);

/* Lower-case hex of len bytes into out, which holds 2*len+1 bytes. */
void hex_encode(const unsigned char *in, size_t len, char *out);

/* SHA-256 of a string as 64 lower-case hex digits in out[65]. */
void sha256_hex(const char *s, char out[65]);

/* Current time in seconds and in milliseconds since the epoch. */
int64_t now_s(void);
int64_t now_ms(void);

/*
 * Parse an HTTP Range header ("bytes=a-b", "bytes=a-", "bytes=-n") against
 * a resource of `size` bytes.  1: one satisfiable range in *start, *len;
 * 0: ignore the header and send everything (several ranges, or another
 * unit); -1: unsatisfiable or malformed (answer 416).
 */
int parse_range(
    const char *header, uint64_t size, uint64_t *start, uint64_t *len);

/* Percent-encode s for use as one URL path segment (new string). */
char *url_encode_segment(const char *s);

/* True if s is valid UTF-8 without NUL bytes in its first len bytes. */
bool utf8_valid(const char *s, size_t len);
/*
 * The length in bytes (1 to 4) of the UTF-8 character at s, which has len
 * bytes, with its code point in *cp (if not NULL); 0 if s does not start
 * with a valid one (a NUL, a stray, overlong or truncated sequence, a
 * surrogate).
 */
size_t utf8_char(const char *s, size_t len, uint32_t *cp);
/*
 * Where to cut s to keep at most max bytes: the length of its longest
 * prefix of at most max bytes that does not end inside a character.  If s
 * is valid UTF-8, so is that prefix, and it is at most 3 bytes shorter than
 * min(strlen(s), max).  utf8_cut(buf, strlen(buf)) drops what a truncating
 * snprintf left of a character.  Every byte cap on text uses this.
 */
size_t utf8_cut(const char *s, size_t max);
/* vsnprintf and snprintf that, when they truncate, cut on a character
 * boundary (utf8_cut).  Return the length written. */
size_t utf8_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
size_t utf8_snprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/*
 * A copy of s (the caller frees it) with every byte that is not part of a
 * valid UTF-8 character replaced by U+FFFD: for text read back from the
 * database or a library that must reach jansson, so that a bad row is
 * shown, not dropped.  NULL for NULL.
 */
char *utf8_lossy(const char *s);

/*
 * Does code point cp show as nothing, or change how the text around it is
 * shown?  Controls (C0, DEL, C1), format characters (Unicode Cf: zero-width
 * and bidi controls), U+2028/U+2029 and the other default-ignorable code
 * points.  For names that must not pass for one another.
 */
bool unicode_invisible(uint32_t cp);
/* Is cp a space separator (Unicode Zs: U+0020, U+00A0, U+3000, ...)? */
bool unicode_space(uint32_t cp);

/*
 * A growing string, for answers written by hand where a general encoder
 * costs more than the handler (the DDI poll).  data is NUL-terminated and
 * owned by the buffer until taken with buf_take.
 */
struct buf {
	char *data;
	size_t len, cap;
};

void buf_add(struct buf *, const char *s, size_t n);
void buf_adds(struct buf *, const char *s);
/* s as a quoted JSON string: ", \ and control characters escaped. */
void buf_add_json_string(struct buf *, const char *s);
char *buf_take(struct buf *, size_t *len);

#endif
