/*
 * libFuzzer target for the request-line parsers: the route matcher with its
 * percent-decoding, query decoding and the Range header parser.  Input:
 * the first byte picks the method, the rest is the path (and the header).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "route.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
	free(s);
	return 0;
}
