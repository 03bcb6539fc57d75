/*
 * libcrypto's X509_STORE and CMS_verify.  Nothing here holds more than one
 * signature and its content.
 */
#include "trust.h"

#include <limits.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "util.h"

struct trust_store {
	X509_STORE *store;
};

struct trust_store *
trust_store_load(const char *pem_path, char *why, size_t whylen)
{
	STACK_OF(X509_OBJECT) * objs;
	struct trust_store *ts;
	X509_STORE *store;
	unsigned long e;
	int ncerts = 0;

	ERR_clear_error();
	if ((store = X509_STORE_new()) == NULL)
		fatalx("%s: out of memory", __func__);
	if (pem_path == NULL || X509_STORE_load_file(store, pem_path) != 1) {
		e = ERR_peek_last_error();
		utf8_snprintf(why, whylen, "%s: %s",
		    pem_path != NULL ? pem_path : "(none)",
		    e != 0 && ERR_reason_error_string(e) != NULL
		        ? ERR_reason_error_string(e)
		        : "cannot be loaded");
		ERR_clear_error();
		X509_STORE_free(store);
		return NULL;
	}
	objs = X509_STORE_get0_objects(store);
	for (int i = 0; i < sk_X509_OBJECT_num(objs); i++)
		if (X509_OBJECT_get_type(sk_X509_OBJECT_value(objs, i)) ==
		    X509_LU_X509)
			ncerts++;
	if (ncerts == 0) {
		utf8_snprintf(why, whylen, "%s holds no certificate", pem_path);
		X509_STORE_free(store);
		return NULL;
	}
	if (X509_STORE_set_purpose(store, X509_PURPOSE_ANY) != 1)
		fatalx("%s: X509_STORE_set_purpose failed", __func__);
	ts = xmalloc(sizeof(*ts));
	ts->store = store;
	return ts;
}

void
trust_store_free(struct trust_store *ts)
{
	if (ts == NULL)
		return;
	X509_STORE_free(ts->store);
	free(ts);
}

X509_STORE *
trust_store_x509(const struct trust_store *ts)
{
	return ts->store;
}

char *
trust_ssl_error(void)
{
	char detail[256] = "", reason[256] = "";
	const char *data, *r;
	unsigned long e;
	int flags;

	while ((e = ERR_get_error_all(NULL, NULL, NULL, &data, &flags)) != 0) {
		if (reason[0] == '\0' &&
		    (r = ERR_reason_error_string(e)) != NULL)
			utf8_snprintf(reason, sizeof(reason), "%s", r);
		if ((flags & ERR_TXT_STRING) != 0 && data != NULL &&
		    data[0] != '\0')
			utf8_snprintf(detail, sizeof(detail), "%s", data);
	}
	if (reason[0] == '\0')
		snprintf(reason, sizeof(reason), "verification failed");
	if (detail[0] == '\0')
		return xstrdup(reason);
	return xasprintf("%s: %s", reason, detail);
}

char *
trust_x509_name(const X509_NAME *name)
{
	char *data, *s;
	long n;
	BIO *b;

	if ((b = BIO_new(BIO_s_mem())) == NULL)
		fatalx("%s: out of memory", __func__);
	if (X509_NAME_print_ex(b, name, 0, XN_FLAG_ONELINE) < 0)
		(void)BIO_reset(b);
	if ((n = BIO_get_mem_data(b, &data)) <= 0)
		s = xstrdup("");
	else {
		s = xstrndup(data, (size_t)n);
		s[utf8_cut(s, TRUST_NAME_MAX)] = '\0';
	}
	BIO_free(b);
	return s;
}

void
trust_signer_clear(struct trust_signer *s)
{
	if (s == NULL)
		return;
	free(s->subject);
	free(s->issuer);
	free(s->spki_sha256);
	memset(s, 0, sizeof(*s));
}

/* SHA-256 of the DER SubjectPublicKeyInfo, "AB:CD:..." */
static char *
trust_spki(X509 *x)
{
	unsigned char *der = NULL, md[32];
	char *out, *o;
	int len;

	if ((len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der)) <= 0)
		return NULL;
	if (EVP_Digest(der, (size_t)len, md, NULL, EVP_sha256(), NULL) != 1)
		fatalx("%s: SHA-256 failed", __func__);
	OPENSSL_free(der);
	out = o = xmalloc(sizeof(md) * 3);
	for (size_t i = 0; i < sizeof(md); i++)
		o += snprintf(o, 4, i == 0 ? "%02X" : ":%02X", md[i]);
	return out;
}

void
trust_cms_signer(CMS_ContentInfo *cms, struct trust_signer *out)
{
	STACK_OF(CMS_SignerInfo) *sis = CMS_get0_SignerInfos(cms);
	STACK_OF(X509) * certs;
	CMS_SignerInfo *si;
	const ASN1_TIME *t;
	struct tm tm;
	X509 *x = NULL;

	memset(out, 0, sizeof(*out));
	if (sk_CMS_SignerInfo_num(sis) < 1)
		return;
	si = sk_CMS_SignerInfo_value(sis, 0);
	certs = CMS_get1_certs(cms);
	for (int i = 0; i < sk_X509_num(certs) && x == NULL; i++)
		if (CMS_SignerInfo_cert_cmp(si, sk_X509_value(certs, i)) == 0)
			x = sk_X509_value(certs, i);
	if (x != NULL) {
		out->subject = trust_x509_name(X509_get_subject_name(x));
		out->issuer = trust_x509_name(X509_get_issuer_name(x));
		out->spki_sha256 = trust_spki(x);
		t = X509_get0_notAfter(x);
		if (t != NULL && ASN1_TIME_to_tm(t, &tm) == 1)
			out->not_after = (int64_t)timegm(&tm);
	}
	sk_X509_pop_free(certs, X509_free);
}

int
trust_cms_verify_detached(const struct trust_store *ts, const void *der,
    size_t derlen, const void *content, size_t len, struct trust_signer *signer,
    char **err)
{
	const unsigned char *p = der;
	CMS_ContentInfo *cms;
	BIO *in = NULL;
	int rc = -1;

	*err = NULL;
	if (signer)
		memset(signer, 0, sizeof(*signer));
	ERR_clear_error();
	cms = derlen <= LONG_MAX && len <= INT_MAX
	          ? d2i_CMS_ContentInfo(NULL, &p, (long)derlen)
	          : NULL;
	if (cms == NULL || (size_t)(p - (const unsigned char *)der) != derlen) {
		CMS_ContentInfo_free(cms);
		ERR_clear_error();
		*err = xstrdup("the signature is not a CMS structure");
		return -1;
	}
	if (OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed ||
	    !CMS_is_detached(cms)) {
		*err = xstrdup("the signature is not a detached CMS "
		               "SignedData");
		goto done;
	}
	if (signer)
		trust_cms_signer(cms, signer);
	if ((in = BIO_new_mem_buf(content, (int)len)) == NULL)
		fatalx("%s: out of memory", __func__);
	if (CMS_verify(cms, NULL, ts->store, in, NULL, CMS_BINARY) == 1)
		rc = 0;
	else
		*err = trust_ssl_error();
done:
	ERR_clear_error();
	BIO_free(in);
	CMS_ContentInfo_free(cms);
	return rc;
}
