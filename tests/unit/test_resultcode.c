/*
 * Names of update clients' failures (formats/resultcode.c): the ATS
 * Garage codes, as aktualizr numbers them, and the SWUpdate and RAUC
 * messages, found inside the lines clients write around them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "resultcode.h"
#include "util.h"

/* clang-format off */
static const struct {
	int64_t code;
	const char *name; /* NULL: none */
} code_rows[] = {
	{0, "OK"}, {1, "ALREADY_PROCESSED"}, {2, "DEPENDENCY_FAILURE"},
	{3, "VALIDATION_FAILED"}, {4, "INSTALL_FAILED"}, {5, "UPGRADE_FAILED"},
	{6, "REMOVAL_FAILED"}, {7, "FLASH_FAILED"},
	{8, "CREATE_PARTITION_FAILED"}, {9, "DELETE_PARTITION_FAILED"},
	{10, "RESIZE_PARTITION_FAILED"}, {11, "WRITE_PARTITION_FAILED"},
	{12, "PATCH_PARTITION_FAILED"}, {13, "USER_DECLINED"},
	{14, "SOFTWARE_BLACKLISTED"}, {15, "DISK_FULL"}, {16, "NOT_FOUND"},
	{17, "OLD_VERSION"}, {18, "INTERNAL_ERROR"}, {19, "GENERAL_ERROR"},
	{20, "IN_PROGRESS"}, {21, "NEED_COMPLETION"},
	{22, NULL}, {-1, NULL}, {INT64_MAX, NULL}, {INT64_MIN, NULL},
};

static const struct {
	const char *msg, *reason; /* reason NULL: none */
} msg_rows[] = {
	{"Installing failed: Compatible mismatch: Expected 'a' but bundle manifest has 'b'",
	    "compatible mismatch (RAUC)"},
	{"Failed to download bundle https://x/y: Timeout was reached", "download failed"},
	{"Software: image V1.2. Invalid checksum: 00ff expected 11ee", "checksum mismatch"},
	{"Image invalid or corrupted. Not installing ...", "image invalid or corrupted (SWUpdate)"},
	{"HW compatibility not verified", "does not fit the hardware (SWUpdate)"},
	{"write: No space left on device", "disk full"},
	{"Update Failed.", "installation failed (SWUpdate)"},
	{"signature verification failed: bad key", "signature verification failed"},
	{"all went well", NULL},
	{"", NULL},
	{NULL, NULL},
};
/* clang-format on */

static void
test_codes(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(code_rows); i++) {
		const char *got = resultcode_name(code_rows[i].code);

		if (code_rows[i].name == NULL)
			assert_null(got);
		else
			assert_string_equal(got, code_rows[i].name);
	}
}

static void
test_messages(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(msg_rows); i++) {
		const char *got = resultcode_message(msg_rows[i].msg);

		if (msg_rows[i].reason == NULL)
			assert_null(got);
		else
			assert_string_equal(got, msg_rows[i].reason);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_codes),
	    cmocka_unit_test(test_messages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
