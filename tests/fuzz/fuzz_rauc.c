/*
 * libFuzzer target for rauc.c.  Each input is written to a memfd and read
 * as a whole bundle: rauc_detect, then rauc_parse_fd without a keyring and
 * with one (the CA that signed the seed bundles in corpus/rauc, embedded
 * below), with and without require_signature; the same bytes are also
 * parsed as manifest text alone.  Any result is fine; a success must keep
 * the invariants of rauc.h, a failure must leave nothing behind, and the
 * JSON must always build.
 */
#include <sys/mman.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rauc.h"
#include "trust.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* O = falconet, CN = falconet-test-ca: signed the seed bundles. */
static const char ca_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIDSjCCAjKgAwIBAgIUO24notvEYcwDS/tjHoVI14AqSY8wDQYJKoZIhvcNAQEL\n"
    "BQAwLjERMA8GA1UECgwIZmFsY29uZXQxGTAXBgNVBAMMEGZhbGNvbmV0LXRlc3Qt\n"
    "Y2EwHhcNMjYxMjAxMTk0NTA5WhcNMzYxMTI4MTk0NTA5WjAuMREwDwYDVQQKDAhm\n"
    "YWxjb25ldDEZMBcGA1UEAwwQZmFsY29uZXQtdGVzdC1jYTCCASIwDQYJKoZIhvcN\n"
    "AQEBBQADggEPADCCAQoCggEBALY9jlerUDZFgqFI/2mzKV4RNAA0mgwf+9DPw8Wc\n"
    "WEwNNm8/xuNdQ4nfIBY5mB4zHm6ZDqXHJ98hs/IFuKU+/Tn4wkHGxe8bdBSOf/27\n"
    "6kBtG8lp5Jy0+jy02kTlb0Wv7fG7rfyiuTZy5rH3RiCCOxXYu0OckWa/2H5sMrLe\n"
    "JwzKg0/jga1OCFGFQRmWE1UNSEPc4WXcUtvumq0ii28Kk5E5/ExNcQFpGgZOO+N1\n"
    "WNjWTSuDClJvD8z2be3A/TY3qqZ6YfmtP3EEFp8gigcAOFf2bgqWkSwrZ2XdhR7V\n"
    "3/6+edIcFe4j3bXXPIRyKSjhUl+zLM3obnFGfEMk2rXQ02sCAwEAAaNgMF4wHQYD\n"
    "VR0OBBYEFFMMzzNLktgkHWq26M09PX2sT8AJMB8GA1UdIwQYMBaAFFMMzzNLktgk\n"
    "HWq26M09PX2sT8AJMA8GA1UdEwEB/wQFMAMBAf8wCwYDVR0PBAQDAgEGMA0GCSqG\n"
    "SIb3DQEBCwUAA4IBAQCF5Og+7w9PnzFPbdyJX/QZSJHc3QNphhwtIcdLTidxWVeb\n"
    "GrYiFeVUMW1t7QAmmivXjhDDTlJQbUz7nbws7qgs/x/1+6VifzK3W4dXSHR4wvh+\n"
    "aGs/skikBQFad6lAIUn5RMLOmTCr+dA2R68yenNTDDJ+LY/p+ARUKmdkMOpfJClo\n"
    "lcawYGYzXtcJ4W/cbCSJs0/GOyqQCqsxv6GNHZwbwSD5Wwk9vSBuU5qU+YflevWV\n"
    "evuxMpAGD+7gZ1zbCRXH9P0L6mnOpHZ/1WN2VSW0r+pYAD1EBk2Jy2vSr4p5yA/x\n"
    "G8vj7Ru8B3OBpj8rEfyOyQpxfPXIaX+NM9h6gtbA\n"
    "-----END CERTIFICATE-----\n";

static struct trust_store *keyring;
static int bundle_fd = -1;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char path[64], why[256];
	int fd;

	(void)argc;
	(void)argv;
	fd = memfd_create("keyring", MFD_CLOEXEC);
	if (fd == -1 || write(fd, ca_pem, sizeof(ca_pem) - 1) !=
	                    (ssize_t)sizeof(ca_pem) - 1)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if ((keyring = trust_store_load(path, why, sizeof(why))) == NULL) {
		fprintf(stderr, "fuzz_rauc: %s\n", why);
		abort();
	}
	close(fd);
	if ((bundle_fd = memfd_create("bundle", MFD_CLOEXEC)) == -1)
		abort();
	return 0;
}

static bool
plain_name(const char *s)
{
	return s == NULL || (strchr(s, '/') == NULL && strcmp(s, "..") != 0 &&
	                        strcmp(s, ".") != 0 && s[0] != '\0');
}

static void
check(enum rauc_err err, const struct rauc_info *in, const char *why,
    bool keyed, bool require)
{
	size_t i;
	json_t *j;

	if (rauc_strerror(err) == NULL)
		abort();
	if (err != RAUC_OK) {
		if (why[0] == '\0' || in->compatible != NULL ||
		    in->images != NULL || in->nimages != 0 ||
		    in->recipients != NULL || in->sig_error != NULL ||
		    in->signer_subject != NULL || in->verity_hash != NULL)
			abort();
		return;
	}
	if ((in->compatible == NULL) !=
	        (in->format == RAUC_FORMAT_CRYPT_ENCRYPTED) ||
	    in->nimages > RAUC_IMAGES_MAX ||
	    (in->nimages > 0) != (in->images != NULL) ||
	    in->nrecipients > RAUC_RECIPIENTS_MAX ||
	    (in->sig == RAUC_SIG_FAILED) != (in->sig_error != NULL))
		abort();
	if (in->format == RAUC_FORMAT_CRYPT_ENCRYPTED
	        ? in->sig != RAUC_SIG_UNREADABLE || in->nrecipients == 0
	        : (!keyed && in->sig != RAUC_SIG_UNCHECKED) ||
	              (keyed && require && in->sig != RAUC_SIG_VERIFIED))
		abort();
	if ((in->format == RAUC_FORMAT_VERITY ||
	        in->format == RAUC_FORMAT_CRYPT) &&
	    (in->verity_hash == NULL || in->verity_salt == NULL ||
	        in->verity_size == 0 || in->verity_size % 4096 != 0))
		abort();
	for (i = 0; i < in->nimages; i++)
		if (in->images[i].slotclass == NULL ||
		    !plain_name(in->images[i].filename) ||
		    (in->images[i].filename != NULL &&
		        (in->images[i].sha256 == NULL ||
		            strlen(in->images[i].sha256) != 64)))
			abort();
	if ((j = rauc_info_json(in)) == NULL)
		abort();
	json_decref(j);
}

static void
parse(bool keyed, bool require)
{
	struct rauc_info in;
	enum rauc_err err;
	char why[512];

	why[0] = '\0';
	err = rauc_parse_fd(
	    bundle_fd, keyed ? keyring : NULL, require, &in, why, sizeof(why));
	check(err, &in, why, keyed, require);
	rauc_info_clear(&in);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rauc_info in;
	enum rauc_err err;
	char why[512];

	if (ftruncate(bundle_fd, 0) == -1 ||
	    pwrite(bundle_fd, data, size, 0) != (ssize_t)size)
		abort();
	if (!rauc_detect(bundle_fd)) {
		/* Not even a trailer and CMS: parsing must say so. */
		why[0] = '\0';
		err = rauc_parse_fd(
		    bundle_fd, NULL, false, &in, why, sizeof(why));
		if (err != RAUC_ERR_NOT_BUNDLE && err != RAUC_ERR_IO)
			abort();
		check(err, &in, why, false, false);
	} else {
		parse(false, false);
		parse(true, false);
		parse(true, true);
	}

	why[0] = '\0';
	err = rauc_parse_manifest(
	    (const char *)data, size, &in, why, sizeof(why));
	check(err, &in, why, false, false);
	rauc_info_clear(&in);
	return 0;
}
