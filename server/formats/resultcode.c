/*
 * Result codes and failure messages of update clients, as tables.  The
 * codes are aktualizr's data::ResultCode::Numeric; the messages are the
 * ones SWUpdate (core, suricatta) and RAUC (rauc, rauc-hawkbit-updater)
 * print when an install fails, matched as substrings since clients add
 * paths, versions and errno text around them.
 */
#include "resultcode.h"

#include <stddef.h>
#include <string.h>

#include "util.h"

/* clang-format off */
static const char *const resultcode_names[] = {
	"OK",			/* 0 */
	"ALREADY_PROCESSED",
	"DEPENDENCY_FAILURE",
	"VALIDATION_FAILED",
	"INSTALL_FAILED",
	"UPGRADE_FAILED",	/* 5 */
	"REMOVAL_FAILED",
	"FLASH_FAILED",
	"CREATE_PARTITION_FAILED",
	"DELETE_PARTITION_FAILED",
	"RESIZE_PARTITION_FAILED", /* 10 */
	"WRITE_PARTITION_FAILED",
	"PATCH_PARTITION_FAILED",
	"USER_DECLINED",
	"SOFTWARE_BLACKLISTED",
	"DISK_FULL",		/* 15 */
	"NOT_FOUND",
	"OLD_VERSION",
	"INTERNAL_ERROR",
	"GENERAL_ERROR",
	"IN_PROGRESS",		/* 20 */
	"NEED_COMPLETION",
};

/*
 * Columns: a substring of the message, the reason it names.  The more
 * specific first: the first match wins.
 */
static const struct {
	const char *needle, *reason;
} resultcode_messages[] = {
	{ "Compatible mismatch",		"compatible mismatch (RAUC)" },
	{ "signature verification failed",	"signature verification failed" },
	{ "Signature verification",		"signature verification failed" },
	{ "HW compatibility not verified",	"does not fit the hardware (SWUpdate)" },
	{ "not compatible with hardware",	"does not fit the hardware (SWUpdate)" },
	{ "Image invalid or corrupted",		"image invalid or corrupted (SWUpdate)" },
	{ "Invalid checksum",			"checksum mismatch" },
	{ "Hash mismatch",			"checksum mismatch" },
	{ "No space left",			"disk full" },
	{ "Failed to download",			"download failed" },
	{ "Download failed",			"download failed" },
	{ "Failed to install",			"installation failed" },
	{ "installation failed",		"installation failed" },
	{ "Installing failed",			"installation failed" },
	{ "Update Failed",			"installation failed (SWUpdate)" },
};
/* clang-format on */

const char *
resultcode_name(int64_t code)
{
	if (code < 0 || code >= (int64_t)NELEM(resultcode_names))
		return NULL;
	return resultcode_names[code];
}

const char *
resultcode_message(const char *msg)
{
	if (msg == NULL)
		return NULL;
	for (size_t i = 0; i < NELEM(resultcode_messages); i++)
		if (strcasestr(msg, resultcode_messages[i].needle) != NULL)
			return resultcode_messages[i].reason;
	return NULL;
}
