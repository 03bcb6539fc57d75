/*
 * Leaf helpers with no knowledge of the server.  Allocation failure is
 * fatal (a daemon that cannot allocate a few bytes cannot answer anyway).
 */
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <nettle/sha2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "log.h"

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		fatal("malloc");
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		fatal("calloc");
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL)
		fatal("realloc");
	return q;
}

char *
xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		fatal("strdup");
	return p;
}

char *
xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);

	if (p == NULL)
		fatal("strndup");
	return p;
}

char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&p, fmt, ap);
	va_end(ap);
	if (n < 0)
		fatal("vasprintf");
	return p;
}

int
parse_int64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	char *end;
	long long v;

	if (s == NULL || *s == '\0' || *s == ' ' || *s == '+' ||
	    (*s == '-' && min >= 0))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int
parse_hms(const char *s, int *secs)
{
	int h, m, sec;

	if (s == NULL || strlen(s) != 8 || s[2] != ':' || s[5] != ':')
		return -1;
	for (int i = 0; i < 8; i++)
		if (i != 2 && i != 5 && (s[i] < '0' || s[i] > '9'))
			return -1;
	h = (s[0] - '0') * 10 + (s[1] - '0');
	m = (s[3] - '0') * 10 + (s[4] - '0');
	sec = (s[6] - '0') * 10 + (s[7] - '0');
	if (h > 23 || m > 59 || sec > 59)
		return -1;
	*secs = h * 3600 + m * 60 + sec;
	return 0;
}

void
format_bytes(uint64_t n, char buf[32])
{
	static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
	uint64_t unit = 1024;
	size_t i = 0;

	if (n < 1024) {
		snprintf(buf, 32, "%llu byte%s", (unsigned long long)n,
		    n == 1 ? "" : "s");
		return;
	}
	while (i + 1 < NELEM(units) && n / unit >= 1024) {
		unit *= 1024;
		i++;
	}
	if (n % unit == 0)
		snprintf(buf, 32, "%llu %s", (unsigned long long)(n / unit),
		    units[i]);
	else
		snprintf(
		    buf, 32, "%.1f %s", (double)n / (double)unit, units[i]);
}

void
format_hms(int secs, char buf[9])
{
	if (secs < 0)
		secs = 0;
	if (secs > 86399)
		secs = 86399;
	snprintf(
	    buf, 9, "%02d:%02d:%02d", secs / 3600, secs / 60 % 60, secs % 60);
}

int
parse_size(const char *s, uint64_t max, uint64_t *out)
{
	char digits[32];
	size_t n;
	int shift = 0;
	int64_t v;

	if (s == NULL || (n = strlen(s)) == 0 || n >= sizeof(digits))
		return -1;
	memcpy(digits, s, n + 1);
	switch (digits[n - 1]) {
	case 'K':
	case 'k':
		shift = 10;
		break;
	case 'M':
	case 'm':
		shift = 20;
		break;
	case 'G':
	case 'g':
		shift = 30;
		break;
	case 'T':
	case 't':
		shift = 40;
		break;
	}
	if (shift)
		digits[n - 1] = '\0';
	if (parse_int64(digits, 0, INT64_MAX >> shift, &v) == -1)
		return -1;
	if (((uint64_t)v << shift) > max)
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

int
random_bytes(void *buf, size_t len)
{
	unsigned char *p = buf;

	while (len > 0) {
		ssize_t n = getrandom(p, len, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
random_token(char *out, size_t len)
{
	static const char set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                          "abcdefghijklmnopqrstuvwxyz0123456789";
	unsigned char b;
	size_t i = 0;

	while (i < len) {
		if (random_bytes(&b, 1) == -1)
			return -1;
		/* Rejection sampling keeps the 62 symbols equally likely. */
		if (b >= 248)
			continue;
		out[i++] = set[b % 62];
	}
	out[len] = '\0';
	return 0;
}

bool
ct_equal(const void *a, size_t alen, const void *b, size_t blen)
{
	const unsigned char *x = a, *y = b;
	unsigned char d = alen != blen;
	size_t n = alen < blen ? alen : blen;

	for (size_t i = 0; i < n; i++)
		d |= x[i] ^ y[i];
	return d == 0;
}

void
hex_encode(const unsigned char *in, size_t len, char *out)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = hex[in[i] >> 4];
		out[2 * i + 1] = hex[in[i] & 15];
	}
	out[2 * len] = '\0';
}

void
sha256_hex(const char *s, char out[65])
{
	struct sha256_ctx ctx;
	unsigned char md[SHA256_DIGEST_SIZE];

	sha256_init(&ctx);
	sha256_update(&ctx, strlen(s), (const uint8_t *)s);
	sha256_digest(&ctx, sizeof(md), md);
	hex_encode(md, sizeof(md), out);
}

int64_t
now_s(void)
{
	return (int64_t)time(NULL);
}

int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

size_t
utf8_char(const char *str, size_t len, uint32_t *cpp)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n;
	uint32_t cp;

	if (len == 0 || s[0] == 0)
		return 0;
	if (s[0] < 0x80) {
		n = 0;
		cp = s[0];
	} else if ((s[0] & 0xe0) == 0xc0) {
		n = 1;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 2;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 3;
		cp = s[0] & 0x07;
	} else
		return 0;
	if (n >= len)
		return 0;
	for (size_t k = 1; k <= n; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[k] & 0x3f);
	}
	if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) ||
	    (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	if (cpp)
		*cpp = cp;
	return n + 1;
}

bool
utf8_valid(const char *s, size_t len)
{
	size_t i = 0, n;

	while (i < len) {
		if ((n = utf8_char(s + i, len - i, NULL)) == 0)
			return false;
		i += n;
	}
	return true;
}

size_t
utf8_cut(const char *str, size_t max)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n = strnlen(str, max), i = n, need;

	/* Find the lead byte of the last character: at most 3 bytes back. */
	while (i > 0 && n - i < 4 && (s[--i] & 0xc0) == 0x80)
		;
	if (n == 0 || (s[i] & 0xc0) == 0x80)
		return n; /* nothing, or no lead byte: not UTF-8 anyway */
	need = s[i] >= 0xf8   ? 1 /* not a lead byte */
	       : s[i] >= 0xf0 ? 4
	       : s[i] >= 0xe0 ? 3
	       : s[i] >= 0xc0 ? 2
	                      : 1;
	return n - i < need ? i : n;
}

size_t
utf8_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	int n;

	if (size == 0)
		return 0;
	n = vsnprintf(buf, size, fmt, ap);
	if (n < 0) {
		buf[0] = '\0';
		return 0;
	}
	if ((size_t)n < size)
		return (size_t)n;
	n = (int)utf8_cut(buf, size - 1);
	buf[n] = '\0';
	return (size_t)n;
}

size_t
utf8_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	n = utf8_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

char *
utf8_lossy(const char *s)
{
	struct buf b = {0};
	size_t len, i = 0, n;

	if (s == NULL)
		return NULL;
	len = strlen(s);
	while (i < len) {
		if ((n = utf8_char(s + i, len - i, NULL)) == 0) {
			buf_add(&b, "\xef\xbf\xbd", 3); /* U+FFFD */
			i++;
			continue;
		}
		buf_add(&b, s + i, n);
		i += n;
	}
	return buf_take(&b, NULL);
}

/*
 * What shows as nothing or changes how the text around it is shown, per
 * Unicode 15.1: the format characters (Cf, bidi controls among them), the
 * line and paragraph separators (Zl, Zp) and the other default-ignorable
 * code points (Hangul fillers, variation selectors, tags).  Sorted.
 */
/* clang-format off */
static const struct { uint32_t lo, hi; } invisible[] = {
	{0x00ad, 0x00ad}, {0x034f, 0x034f}, {0x0600, 0x0605},
	{0x061c, 0x061c}, {0x06dd, 0x06dd}, {0x070f, 0x070f},
	{0x0890, 0x0891}, {0x08e2, 0x08e2}, {0x115f, 0x1160},
	{0x17b4, 0x17b5}, {0x180b, 0x180f}, {0x200b, 0x200f},
	{0x2028, 0x202e}, {0x2060, 0x206f}, {0x3164, 0x3164},
	{0xfe00, 0xfe0f}, {0xfeff, 0xfeff}, {0xffa0, 0xffa0},
	{0xfff0, 0xfffb}, {0x110bd, 0x110bd}, {0x110cd, 0x110cd},
	{0x13430, 0x1343f}, {0x1bca0, 0x1bca3}, {0x1d173, 0x1d17a},
	{0xe0000, 0xe0fff},
};
/* clang-format on */

bool
unicode_invisible(uint32_t cp)
{
	size_t lo = 0, hi = NELEM(invisible);

	if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
		return true; /* C0, DEL, C1 */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cp < invisible[mid].lo)
			hi = mid;
		else if (cp > invisible[mid].hi)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

bool
unicode_space(uint32_t cp)
{
	return cp == 0x20 || cp == 0xa0 || cp == 0x1680 ||
	       (cp >= 0x2000 && cp <= 0x200a) || cp == 0x202f || cp == 0x205f ||
	       cp == 0x3000;
}

/* Parse a decimal uint64 from *p, advancing it.  -1 if no digits/overflow. */
static int
parse_u64_prefix(const char **p, uint64_t *out)
{
	uint64_t v = 0;
	const char *s = *p;

	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*p = s;
	*out = v;
	return 0;
}

int
parse_range(const char *h, uint64_t size, uint64_t *start, uint64_t *len)
{
	const char *p;
	uint64_t a, b;

	if (h == NULL)
		return 0;
	h += strspn(h, " \t");
	if (strncmp(h, "bytes=", 6) != 0)
		return 0; /* another unit: RFC 9110 says ignore it */
	p = h + 6 + strspn(h + 6, " \t");
	if (strchr(p, ',') != NULL)
		return 0; /* several ranges: send the whole file */
	if (*p == '-') {
		p++;
		if (parse_u64_prefix(&p, &b) == -1 || b == 0)
			return -1;
		p += strspn(p, " \t");
		if (*p != '\0' || size == 0)
			return -1;
		if (b > size)
			b = size;
		*start = size - b;
		*len = b;
		return 1;
	}
	if (parse_u64_prefix(&p, &a) == -1 || *p++ != '-')
		return -1;
	if (*p == '\0' || *p == ' ')
		b = size ? size - 1 : 0;
	else if (parse_u64_prefix(&p, &b) == -1 || b < a)
		return -1;
	p += strspn(p, " \t");
	if (*p != '\0' || a >= size)
		return -1;
	if (b >= size)
		b = size - 1;
	*start = a;
	*len = b - a + 1;
	return 1;
}

char *
url_encode_segment(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(s);
	char *out = xmalloc(3 * n + 1), *o = out;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~')
			*o++ = (char)c;
		else {
			*o++ = '%';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		}
	}
	*o = '\0';
	return out;
}

void
buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = b->cap ? b->cap : 256;
		while (b->len + n + 1 > b->cap)
			b->cap *= 2;
		b->data = xrealloc(b->data, b->cap);
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void
buf_add_json_string(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const char *run = s;
	char esc[6];

	buf_add(b, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f)
			continue;
		buf_add(b, run, (size_t)(s - run));
		run = s + 1;
		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			buf_add(b, esc, 2);
		} else {
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			buf_add(b, esc, 6);
		}
	}
	buf_add(b, run, (size_t)(s - run));
	buf_add(b, "\"", 1);
}

char *
buf_take(struct buf *b, size_t *len)
{
	char *p = b->data ? b->data : xstrdup("");

	if (len)
		*len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}
