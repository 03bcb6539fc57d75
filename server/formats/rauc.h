/*
 * Reader for RAUC bundles (.raucb): plain, verity, crypt and encrypted
 * crypt.  Pure: a file descriptor in, struct rauc_info out; no database,
 * HTTP, settings or globals.  The file is read by pread only, in bounded
 * pieces, so memory stays constant whatever the bundle's size.
 * See /work/shared/rauc.md for the formats.
 */
#ifndef RAUC_H
#define RAUC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* Named limits on what a bundle may hold. */
#define RAUC_CMS_MAX (64 * 1024) /* as RAUC 1.8 MAX_BUNDLE_SIGNATURE_SIZE */
#define RAUC_MANIFEST_MAX (1024 * 1024) /* manifest bytes */
#define RAUC_IMAGES_MAX 256             /* [image.*] groups */
#define RAUC_GROUPS_MAX 512             /* groups of any kind */
#define RAUC_LINES_MAX 65536            /* manifest lines */
#define RAUC_LINE_MAX 8192              /* bytes of one manifest line */
#define RAUC_RECIPIENTS_MAX 256         /* recipients of an encrypted CMS */

enum rauc_format {
	RAUC_FORMAT_PLAIN,
	RAUC_FORMAT_VERITY,
	RAUC_FORMAT_CRYPT,
	RAUC_FORMAT_CRYPT_ENCRYPTED,
};

enum rauc_sig {
	RAUC_SIG_UNCHECKED,  /* no keyring given */
	RAUC_SIG_VERIFIED,   /* chains to the keyring, purpose any, now */
	RAUC_SIG_FAILED,     /* sig_error says why */
	RAUC_SIG_UNREADABLE, /* encrypted CMS: the SignedData is inside */
};

enum rauc_err {
	RAUC_OK,
	RAUC_ERR_IO,          /* read error on the file */
	RAUC_ERR_NOT_BUNDLE,  /* no valid trailer + CMS: not a RAUC bundle */
	RAUC_ERR_FORMAT,      /* looks like a bundle, corrupt or inconsistent */
	RAUC_ERR_COMPRESSION, /* squashfs compressor libsquashfs lacks (LZO) */
	RAUC_ERR_MANIFEST,  /* manifest missing, too big, bad syntax, invalid */
	RAUC_ERR_LIMIT,     /* more than a RAUC_*_MAX above */
	RAUC_ERR_PAYLOAD,   /* verity tree disagrees with data or root hash */
	RAUC_ERR_SIGNATURE, /* only with require_signature: not verified */
};

/*
 * One [image.<slotclass>] or [image.<slotclass>.<variant>] group.  Lists
 * (hooks, adaptive) are ';'-joined without empty items, NULL when empty.
 * filename is NULL only for an image with an "install" hook and no file.
 */
struct rauc_image {
	char *slotclass;
	char *variant; /* NULL if none */
	char *filename;
	char *sha256; /* 64 hex digits as written; NULL only with filename */
	char *hooks;  /* NULL or e.g. "pre-install;post-install" */
	char *adaptive;
	uint64_t size;
};

/*
 * What a bundle says about itself.  Strings are valid UTF-8 from the
 * manifest (GLib key-file escapes undone), or ASCII from OpenSSL.  The
 * crypt-key of a crypt bundle is NEVER stored here, logged or returned.
 */
struct rauc_info {
	enum rauc_format format;
	char *compatible; /* NULL only for RAUC_FORMAT_CRYPT_ENCRYPTED */
	char *version, *description, *build; /* NULL when absent */
	char *hooks;        /* [hooks] hooks=, ';'-joined, NULL if none */
	bool has_hook_file; /* [hooks] filename= */
	bool has_handler;   /* [handler] filename= */
	struct rauc_image *images;
	size_t nimages;
	char *verity_hash, *verity_salt; /* verity and crypt: 64 hex digits */
	uint64_t verity_size;            /* hash tree bytes */
	uint64_t payload_size;           /* P: bytes before the CMS */
	uint64_t cms_size;               /* S */
	enum rauc_sig sig;
	char *sig_error; /* OpenSSL's reason when sig == RAUC_SIG_FAILED */
	/*
	 * From the signer certificate embedded in the CMS, also when the
	 * signature is unchecked or failed (then they are only claims).
	 * Names are OpenSSL one-line form ("CN = x, O = y"), the SPKI digest
	 * is as rauc info prints it (SHA-256 of the DER SubjectPublicKeyInfo,
	 * colon-separated upper-case hex).  NULL/0 when no certificate.
	 */
	char *signer_subject, *signer_issuer, *signer_spki_sha256;
	int64_t signer_not_after; /* unix seconds */
	/*
	 * Encrypted crypt bundles: who can decrypt.  Each is
	 * "issuer=<one-line name>, serial=<upper-case hex>" or
	 * "skid=<lower-case hex>" (subject key identifier).
	 */
	char **recipients;
	size_t nrecipients;
};

/* A device's keyring ([keyring] path), loaded with trust_store_load. */
struct trust_store;

/*
 * Cheap content check telling a .raucb from a .swu: a valid trailer
 * (0 < S <= RAUC_CMS_MAX, S <= F-8, F >= 8+4096) whose CMS DER parses,
 * consumes exactly S bytes and is SignedData or EnvelopedData.
 */
bool rauc_detect(int fd);

/*
 * Read and check the bundle open on fd (a regular file, read whole by
 * pread; the offset is not used).  Returns RAUC_OK and fills *out, which
 * the caller releases with rauc_info_clear; on error *out holds nothing
 * to free and why (if not NULL) gets a one-line reason.
 *
 * keyring may be NULL: sig = RAUC_SIG_UNCHECKED, but the manifest is
 * still read (verity/crypt: from the CMS without verification).  The
 * dm-verity hash tree of verity and unencrypted crypt bundles is always
 * checked, in constant memory (RAUC_ERR_PAYLOAD when corrupt).  A plain
 * bundle's signature check streams [0,P) through SHA-256.
 *
 * require_signature: a signature that does not verify (or no keyring)
 * gives RAUC_ERR_SIGNATURE; without it the result is RAUC_OK with
 * sig = RAUC_SIG_FAILED and sig_error set.  Encrypted crypt bundles give
 * RAUC_OK with sig = RAUC_SIG_UNREADABLE and their recipients even with
 * require_signature: whether to accept them is the caller's decision.
 */
enum rauc_err rauc_parse_fd(int fd, const struct trust_store *keyring,
    bool require_signature, struct rauc_info *out, char *why, size_t whylen);

/*
 * Parse manifest text alone (GLib key-file syntax) into *out: format,
 * update fields, hooks, handler, images and, for verity/crypt, the verity
 * keys (then required).  Used for bundles and by the tests and fuzzer.
 * Same ownership and error rules as rauc_parse_fd; sig stays UNCHECKED.
 */
enum rauc_err rauc_parse_manifest(const char *text, size_t len,
    struct rauc_info *out, char *why, size_t whylen);

void rauc_info_clear(struct rauc_info *);
const char *rauc_strerror(enum rauc_err);
/* "plain", "verity", "crypt", "crypt-encrypted" */
const char *rauc_format_name(enum rauc_format);
/* "unchecked", "verified", "failed", "unreadable" */
const char *rauc_sig_name(enum rauc_sig);

/*
 * What the reader found, for storing and showing: format, compatible,
 * version, description, build, hooks, handler (bool), hook_file (bool),
 * images [{class, variant, filename, size, sha256, hooks, adaptive}],
 * verity {hash, size}, signature {status, error, signer_subject,
 * signer_issuer, signer_spki_sha256, signer_not_after}, recipients,
 * payload_size, cms_size.  NULL fields are omitted; the crypt-key never
 * appears.  Returns a new reference, or NULL on allocation failure.
 */
json_t *rauc_info_json(const struct rauc_info *);

#endif
