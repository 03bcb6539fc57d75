/*
 * libFuzzer target for DDI feedback bodies (action_feedback_parse), the
 * parser every device's POST .../feedback goes through.
 */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "action.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct action_feedback fb;
	const char *why = NULL;
	json_t *root = NULL;

	(void)action_feedback_parse((const char *)data, size, &root, &fb, &why);
	json_decref(root);
	return 0;
}
