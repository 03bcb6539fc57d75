/*
 * Trust anchors and signature checks with OpenSSL's libcrypto: a CA file
 * as a device would hold it (RAUC's [keyring] path, SWUpdate's
 * public-key-file), and CMS signatures verified against it.  Pure: no
 * settings, database or HTTP.
 */
#ifndef TRUST_H
#define TRUST_H

#include <openssl/cms.h>
#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>

#define TRUST_NAME_MAX 512 /* bytes of a subject or issuer we keep */

struct trust_store;

/*
 * Load every certificate of a PEM file.  Verification uses purpose "any"
 * (devices may hold codeSigning-only certificates) and the current time.
 * NULL with why on failure, or when the file holds no certificate.
 */
struct trust_store *trust_store_load(
    const char *pem_path, char *why, size_t whylen);
void trust_store_free(struct trust_store *);
X509_STORE *trust_store_x509(const struct trust_store *);

/* The signer certificate's names, key fingerprint (SHA-256 of the
 * SubjectPublicKeyInfo, as rauc info prints it) and expiry (unix s). */
struct trust_signer {
	char *subject, *issuer, *spki_sha256;
	int64_t not_after;
};
void trust_signer_clear(struct trust_signer *);
/* The certificate of a CMS's first SignerInfo, verified or not: *out is
 * all zero when the CMS embeds none. */
void trust_cms_signer(CMS_ContentInfo *, struct trust_signer *out);

/*
 * Verify a detached CMS SignedData (DER) over content held in memory, as
 * SWUpdate checks sw-description.sig.  0 verified; -1 with *err (the
 * caller frees it) naming what failed.  *signer (if not NULL) gets the
 * embedded signer certificate's names, also when verification fails.
 */
int trust_cms_verify_detached(const struct trust_store *, const void *der,
    size_t derlen, const void *content, size_t len, struct trust_signer *signer,
    char **err);

/* The OpenSSL error queue as one line (and emptied). */
char *trust_ssl_error(void);
/* An X.509 name in OpenSSL's one-line form, at most TRUST_NAME_MAX. */
char *trust_x509_name(const X509_NAME *);
/* The store is shared by threads: CMS_verify only reads it. */

#endif
