/*
 * libFuzzer target for the request-line parsers: the route matcher with its
 * percent-decoding, query decoding and the Range header parser.  Input:
 * the first byte picks the method, the rest is the path (and the header).
 * The same bytes go through the text helpers every byte cap and log line
 * uses: each utf8_cut of valid UTF-8 is valid UTF-8 within 3 bytes of its
 * cap, utf8_snprintf and utf8_lossy never leave invalid UTF-8, and
 * log_escape leaves no control character, whatever the input.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "route.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The UTF-8 cuts and the log's escaping, on the NUL-terminated s. */
static void
fuzz_text(const char *s, unsigned pick)
{
	size_t len = strlen(s), n, max;
	bool valid = utf8_valid(s, len);
	char small[64], line[4 * 256 + 1], *lossy;

	/* Every cap near either end, and every 7th between, keeps a long
	 * input from costing len * len. */
	for (max = 0; max <= len + 1;
	     max += len > 512 && max >= 16 && max + 16 < len ? 7 : 1) {
		n = utf8_cut(s, max);
		if (n > max || n > len)
			abort();
		if (valid &&
		    (n + 3 < (max < len ? max : len) || !utf8_valid(s, n)))
			abort(); /* a cut inside a character */
	}
	n = utf8_snprintf(small, pick % sizeof(small) + 1, "%s", s);
	if (n != strlen(small) || (valid && !utf8_valid(small, n)))
		abort();
	lossy = utf8_lossy(s);
	if (!utf8_valid(lossy, strlen(lossy)))
		abort();
	free(lossy);
	n = log_escape(line, sizeof(line), len > 256 ? s + len - 256 : s);
	if (n != strlen(line) || !utf8_valid(line, n))
		abort();
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			abort(); /* a control character reached the log */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const methods[] = {
	    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
	const struct route *r;
	char *params[HTTP_PARAMS_MAX], *s, *d;
	uint64_t start, len;
	int n;

	if (size < 1)
		return 0;
	s = malloc(size);
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	if (route_match(methods[data[0] % 7], s, &r, params, &n) == ROUTE_FOUND)
		for (int i = 0; i < n; i++)
			free(params[i]);
	if ((d = route_decode(s, strlen(s), data[0] & 1)) != NULL)
		free(d);
	(void)parse_range(s, (uint64_t)data[0] * 1000, &start, &len);
	fuzz_text(s, data[0]);
	free(s);
	return 0;
}
