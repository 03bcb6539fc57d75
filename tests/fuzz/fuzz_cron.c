/*
 * libFuzzer target for cron.c.  The first line of the input is an
 * expression, the second a UTC offset; bytes after them pick the times to
 * start from.  A parsed expression's next fire time must be later than
 * the start, be a fire time itself, and have no fire time before it in
 * the ten minutes after the start (checked second by second); windows must
 * agree with the fire times.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cron.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK_SPAN 600 /* seconds checked one by one after a start */

static void
check_from(const struct cron *c, int64_t after, int off)
{
	int64_t next, t, start;
	bool open;

	if (cron_next(c, after, off, &next) != 0) {
		/* None: not in the next minutes either. */
		for (t = after + 1; t <= after + CHECK_SPAN; t++)
			if (cron_matches(c, t, off))
				abort();
		return;
	}
	if (next <= after || !cron_matches(c, next, off))
		abort();
	for (t = after + 1; t < next && t <= after + CHECK_SPAN; t++)
		if (cron_matches(c, t, off))
			abort();
	/* A window of 10 s opening at each fire time. */
	open = cron_window(c, next, off, 10, &start);
	if (!open || start > next || next - start >= 10)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* 2026-12-01 and spots near the ends of the supported range. */
	static const int64_t bases[] = {
	    1796083200, 0, 4102444800 - 7200, -86400, 951782400};
	const uint8_t *nl, *nl2, *rest;
	char *expr, *offs;
	struct cron c;
	char why[128];
	int64_t after;
	size_t i;
	int off = 0;

	nl = memchr(data, '\n', size);
	expr = xstrndup((const char *)data, nl ? (size_t)(nl - data) : size);
	rest = nl ? nl + 1 : data + size;
	nl2 = memchr(rest, '\n', (size_t)(data + size - rest));
	offs = xstrndup((const char *)rest,
	    nl2 ? (size_t)(nl2 - rest) : (size_t)(data + size - rest));
	rest = nl2 ? nl2 + 1 : data + size;
	if (cron_parse(expr, &c, why, sizeof(why)) != 0) {
		if (why[0] == '\0' || !utf8_valid(why, strlen(why)))
			abort();
		goto done;
	}
	if (cron_parse_offset(offs, &off) != 0)
		off = 0;
	for (i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
		after = bases[i];
		if (rest + 4 <= data + size) {
			after += (int64_t)((uint32_t)rest[0] << 24 |
			                   (uint32_t)rest[1] << 16 |
			                   (uint32_t)rest[2] << 8 | rest[3]);
			rest += 4;
		}
		check_from(&c, after, off);
	}
done:
	free(expr);
	free(offs);
	return 0;
}
