/*
 * libFuzzer target for swu.c.  The input is read three ways: as a whole
 * .swu image (swu_parse_mem), as sw-description text alone
 * (swu_parse_description), and as sw-description wrapped in a minimal newc
 * image, so description bugs are also reached through the archive walk.
 * Any result is fine; what a success returns must keep its invariants, and
 * a failure must leave nothing behind.
 */
#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "swu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(enum swu_err err, const struct swu_info *in)
{
	const struct swu_hw *hw;
	regex_t re;
	size_t i;

	if (swu_strerror(err) == NULL)
		abort();
	if (err != SWU_OK) {
		if (in->version != NULL || in->description != NULL ||
		    in->hw != NULL || in->nhw != 0 || in->nentries != 0)
			abort();
		return;
	}
	if (in->version == NULL || in->version[0] == '\0' ||
	    strlen(in->version) > 255 || in->nhw > SWU_HW_MAX ||
	    (in->nhw > 0) != (in->hw != NULL))
		abort();
	for (i = 0; i < in->nhw; i++) {
		hw = &in->hw[i];
		if (hw->board == NULL ||
		    (hw->revision != NULL && hw->revision[0] == '\0') ||
		    (hw->is_regex && hw->revision == NULL))
			abort();
		if (hw->is_regex) {
			if (regcomp(&re, hw->revision,
			        REG_EXTENDED | REG_NOSUB) != 0)
				abort();
			regfree(&re);
		}
	}
}

/* Append a newc header and its name, padded, at *p. */
static unsigned char *
put_header(unsigned char *p, const char *name, size_t size)
{
	size_t n;

	n = (size_t)sprintf((char *)p,
	    "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", 1,
	    0100644, 0, 0, 1, 0, (unsigned)size, 0, 0, 0, 0,
	    (unsigned)strlen(name) + 1, 0);
	memcpy(p + n, name, strlen(name) + 1);
	n += strlen(name) + 1;
	while (n % 4 != 0)
		p[n++] = '\0';
	return p + n;
}

/* data as the sw-description of an otherwise valid image. */
static void
parse_wrapped(const uint8_t *data, size_t size)
{
	struct swu_info in;
	unsigned char *img, *p;
	enum swu_err err;

	if (size > SWU_DESC_MAX)
		return;
	img = malloc(size + 512);
	if (img == NULL)
		abort();
	p = put_header(img, "sw-description", size);
	memcpy(p, data, size);
	p += size;
	while ((size_t)(p - img) % 4 != 0)
		*p++ = '\0';
	p = put_header(p, "TRAILER!!!", 0);
	err = swu_parse_mem(img, (size_t)(p - img), &in);
	check(err, &in);
	if (err == SWU_OK && (in.nentries != 1 || in.is_signed))
		abort();
	swu_info_clear(&in);
	free(img);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct swu_info in;
	enum swu_err err;

	err = swu_parse_mem(data, size, &in);
	check(err, &in);
	if (err == SWU_OK &&
	    (in.nentries == 0 || in.nentries > SWU_ENTRIES_MAX))
		abort();
	swu_info_clear(&in);

	err = swu_parse_description((const char *)data, size, &in);
	check(err, &in);
	swu_info_clear(&in);

	parse_wrapped(data, size);
	return 0;
}
