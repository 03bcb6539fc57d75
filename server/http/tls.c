/*
 * HTTPS credentials and client certificates on GnuTLS (see tls.h).
 *
 * A load makes one struct tls_creds: the chain as GnuTLS pcerts, the
 * private key, the client CA as a trust list.  The one in use is published
 * through an atomic pointer; a reload publishes a new one and keeps the
 * old on a list until tls_free, since a handshake or a request on another
 * thread may still hold it (a few kilobytes per reload).  GnuTLS's
 * certificate callback takes no closure argument, so that pointer is the
 * one file-level variable: only the first struct tls loaded (the serving
 * daemon has one) publishes to it.
 */
#include "tls.h"

#include <errno.h>
#include <fcntl.h>
#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "settings.h"
#include "util.h"

struct tls_creds {
	gnutls_pcert_st pcert[TLS_CHAIN_MAX];
	unsigned int npcert;
	gnutls_privkey_t key;
	gnutls_x509_trust_list_t client_ca; /* NULL: no tls.client_ca */
	char *client_ca_pem;
	char describe[512];
	struct tls_creds *older; /* superseded, freed by tls_free */
};

struct tls {
	const struct settings *s;
	char *priorities;
	_Atomic(struct tls_creds *) current;
	bool publishes; /* the one tls_cert_callback serves from */
};

/* The serving credentials (see the top of the file). */
static _Atomic(struct tls_creds *) tls_serving;
static atomic_flag tls_claimed = ATOMIC_FLAG_INIT;

/* printf into err (errlen bytes); returns -1 for the caller to return. */
static int __attribute__((format(printf, 3, 4)))
tls_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (err && errlen)
		vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* Read a whole (small) file into a NUL-terminated buffer. */
static int
tls_read_file(const char *key, const char *path, gnutls_datum_t *out, char *err,
    size_t errlen)
{
	struct stat st;
	ssize_t n;
	size_t len = 0;
	char *buf;
	int fd;

	out->data = NULL;
	out->size = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return tls_err(err, errlen, "%s %s: cannot open: %s", key, path,
		    strerror(errno));
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > TLS_FILE_MAX) {
		close(fd);
		return tls_err(err, errlen,
		    "%s %s: not a regular file of at most %d bytes", key, path,
		    TLS_FILE_MAX);
	}
	buf = xmalloc((size_t)st.st_size + 1);
	while (len < (size_t)st.st_size) {
		n = read(fd, buf + len, (size_t)st.st_size - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (len != (size_t)st.st_size) {
		free(buf);
		return tls_err(err, errlen, "%s %s: cannot read it", key, path);
	}
	buf[len] = '\0';
	out->data = (unsigned char *)buf;
	out->size = (unsigned int)len;
	return 0;
}

static void
tls_wipe(gnutls_datum_t *d)
{
	if (d->data)
		explicit_bzero(d->data, d->size);
	free(d->data);
	d->data = NULL;
}

static void
tls_format_time(time_t t, char *out, size_t size)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(out, size, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(out, size, "%lld", (long long)t);
}

/* A certificate's subject DN into out ("?" if it has none). */
static void
tls_subject(gnutls_x509_crt_t crt, char *out, size_t size)
{
	size_t n = size;

	if (gnutls_x509_crt_get_dn(crt, out, &n) != 0)
		snprintf(out, size, "?");
}

/*
 * The chain of tls.cert: every certificate in date, each signed by the
 * next (the leaf first, as TLS sends it).  The last one need not be a
 * root: clients hold that.
 */
static int
tls_check_chain(const char *path, gnutls_x509_crt_t *crts, unsigned int n,
    char *err, size_t errlen)
{
	time_t now = time(NULL), t;
	char when[64], subject[256];
	unsigned int status;

	for (unsigned int i = 0; i < n; i++) {
		tls_subject(crts[i], subject, sizeof(subject));
		if ((t = gnutls_x509_crt_get_expiration_time(crts[i])) != -1 &&
		    t < now) {
			tls_format_time(t, when, sizeof(when));
			return tls_err(err, errlen,
			    "tls.cert %s: certificate %u (%s) expired on %s",
			    path, i + 1, subject, when);
		}
		if ((t = gnutls_x509_crt_get_activation_time(crts[i])) != -1 &&
		    t > now) {
			tls_format_time(t, when, sizeof(when));
			return tls_err(err, errlen,
			    "tls.cert %s: certificate %u (%s) is not valid "
			    "before %s",
			    path, i + 1, subject, when);
		}
		if (i + 1 == n)
			break;
		if (gnutls_x509_crt_check_issuer(crts[i], crts[i + 1]) == 0)
			return tls_err(err, errlen,
			    "tls.cert %s: certificate %u (%s) is not issued "
			    "by certificate %u; put the server's certificate "
			    "first, then each issuer",
			    path, i + 1, subject, i + 2);
		if (gnutls_x509_crt_verify(crts[i], &crts[i + 1], 1,
		        GNUTLS_VERIFY_DISABLE_TIME_CHECKS, &status) < 0 ||
		    status != 0)
			return tls_err(err, errlen,
			    "tls.cert %s: the signature of certificate %u (%s) "
			    "does not verify with certificate %u",
			    path, i + 1, subject, i + 2);
	}
	return 0;
}

/* Does the private key belong to the certificate? */
static bool
tls_key_matches(gnutls_privkey_t key, gnutls_x509_crt_t crt)
{
	unsigned char a[64], b[64];
	size_t na = sizeof(a), nb = sizeof(b);
	gnutls_pubkey_t pub = NULL;
	bool ok = false;

	if (gnutls_pubkey_init(&pub) == 0 &&
	    gnutls_pubkey_import_privkey(pub, key, 0, 0) == 0 &&
	    gnutls_pubkey_get_key_id(pub, GNUTLS_KEYID_USE_SHA256, a, &na) ==
	        0 &&
	    gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA256, b, &nb) ==
	        0)
		ok = na == nb && memcmp(a, b, na) == 0;
	gnutls_pubkey_deinit(pub);
	return ok;
}

static void
tls_creds_free(struct tls_creds *c)
{
	if (c == NULL)
		return;
	for (unsigned int i = 0; i < c->npcert; i++)
		gnutls_pcert_deinit(&c->pcert[i]);
	gnutls_privkey_deinit(c->key);
	if (c->client_ca)
		gnutls_x509_trust_list_deinit(c->client_ca, 1);
	free(c->client_ca_pem);
	free(c);
}

/* tls.client_ca into c: a trust list, and its PEM text for MHD. */
static int
tls_load_client_ca(
    const struct settings *s, struct tls_creds *c, char *err, size_t errlen)
{
	gnutls_datum_t pem;
	int n;

	if (s->tls_client_ca[0] == '\0' ||
	    s->tls_client_auth == TLS_AUTH_IGNORED)
		return 0;
	if (tls_read_file(
	        "tls.client_ca", s->tls_client_ca, &pem, err, errlen) == -1)
		return -1;
	if (gnutls_x509_trust_list_init(&c->client_ca, 0) < 0) {
		free(pem.data);
		return tls_err(err, errlen, "tls.client_ca: out of memory");
	}
	n = gnutls_x509_trust_list_add_trust_mem(
	    c->client_ca, &pem, NULL, GNUTLS_X509_FMT_PEM, 0, 0);
	if (n <= 0) {
		free(pem.data);
		return tls_err(err, errlen,
		    "tls.client_ca %s: no PEM certificate in it%s%s",
		    s->tls_client_ca, n < 0 ? ": " : "",
		    n < 0 ? gnutls_strerror(n) : "");
	}
	c->client_ca_pem = (char *)pem.data;
	return 0;
}

/* Read and check every file; a new tls_creds, or NULL (err). */
static struct tls_creds *
tls_creds_load(const struct settings *s, char *err, size_t errlen)
{
	struct tls_creds *c = xcalloc(1, sizeof(*c));
	gnutls_x509_crt_t *crts = NULL;
	gnutls_datum_t cert = {NULL, 0}, key = {NULL, 0};
	unsigned int n = 0;
	char subject[256], when[64];
	int rc;
	bool ok = false;

	if (tls_read_file("tls.cert", s->tls_cert, &cert, err, errlen) == -1 ||
	    tls_read_file("tls.key", s->tls_key, &key, err, errlen) == -1)
		goto done;
	rc = gnutls_x509_crt_list_import2(&crts, &n, &cert, GNUTLS_X509_FMT_PEM,
	    GNUTLS_X509_CRT_LIST_FAIL_IF_UNSORTED);
	if (rc < 0 || n == 0) {
		tls_err(err, errlen, "tls.cert %s: %s", s->tls_cert,
		    rc == GNUTLS_E_CERTIFICATE_LIST_UNSORTED
		        ? "the chain is out of order: put the server's "
		          "certificate first, then each issuer"
		    : rc < 0 ? gnutls_strerror(rc)
		             : "no PEM certificate in it");
		crts = rc < 0 ? NULL : crts;
		n = rc < 0 ? 0 : n;
		goto done;
	}
	if (n > TLS_CHAIN_MAX) {
		tls_err(err, errlen, "tls.cert %s: more than %d certificates",
		    s->tls_cert, TLS_CHAIN_MAX);
		goto done;
	}
	if (tls_check_chain(s->tls_cert, crts, n, err, errlen) == -1)
		goto done;
	if (gnutls_privkey_init(&c->key) < 0) {
		tls_err(err, errlen, "tls.key: out of memory");
		goto done;
	}
	if ((rc = gnutls_privkey_import_x509_raw(
	         c->key, &key, GNUTLS_X509_FMT_PEM, NULL, 0)) < 0) {
		tls_err(err, errlen,
		    "tls.key %s: not an unencrypted PEM private key (%s)",
		    s->tls_key, gnutls_strerror(rc));
		goto done;
	}
	if (!tls_key_matches(c->key, crts[0])) {
		tls_err(err, errlen,
		    "tls.key %s: does not match the certificate in tls.cert %s",
		    s->tls_key, s->tls_cert);
		goto done;
	}
	c->npcert = n;
	if ((rc = gnutls_pcert_import_x509_list(
	         c->pcert, crts, &c->npcert, 0)) < 0) {
		c->npcert = 0;
		tls_err(err, errlen, "tls.cert %s: %s", s->tls_cert,
		    gnutls_strerror(rc));
		goto done;
	}
	if (tls_load_client_ca(s, c, err, errlen) == -1)
		goto done;
	tls_subject(crts[0], subject, sizeof(subject));
	tls_format_time(
	    gnutls_x509_crt_get_expiration_time(crts[0]), when, sizeof(when));
	snprintf(c->describe, sizeof(c->describe),
	    "%s (%u in the chain), valid until %s", subject, n, when);
	ok = true;
done:
	for (unsigned int i = 0; i < n; i++)
		gnutls_x509_crt_deinit(crts[i]);
	gnutls_free(crts);
	free(cert.data);
	tls_wipe(&key);
	if (!ok) {
		tls_creds_free(c);
		return NULL;
	}
	return c;
}

struct tls *
tls_load(const struct settings *s, char *err, size_t errlen)
{
	gnutls_priority_t prio;
	const char *where = NULL;
	struct tls_creds *c;
	struct tls *t;
	char *p;
	int rc;

	p = xasprintf("%s%s", s->tls_priorities, TLS_MIN_VERSION);
	if ((rc = gnutls_priority_init(&prio, p, &where)) < 0) {
		tls_err(err, errlen, "tls.priorities: %s at \"%.40s\"",
		    gnutls_strerror(rc), where ? where : p);
		free(p);
		return NULL;
	}
	gnutls_priority_deinit(prio);
	if ((c = tls_creds_load(s, err, errlen)) == NULL) {
		free(p);
		return NULL;
	}
	t = xcalloc(1, sizeof(*t));
	t->s = s;
	t->priorities = p;
	atomic_store(&t->current, c);
	if (!atomic_flag_test_and_set(&tls_claimed)) {
		t->publishes = true;
		atomic_store(&tls_serving, c);
	}
	return t;
}

int
tls_reload(struct tls *t, char *err, size_t errlen)
{
	struct tls_creds *c = tls_creds_load(t->s, err, errlen);

	if (c == NULL)
		return -1;
	c->older = atomic_load(&t->current);
	atomic_store(&t->current, c);
	if (t->publishes)
		atomic_store(&tls_serving, c);
	return 0;
}

void
tls_free(struct tls *t)
{
	struct tls_creds *c, *next;

	if (t == NULL)
		return;
	if (t->publishes) {
		atomic_store(&tls_serving, NULL);
		atomic_flag_clear(&tls_claimed);
	}
	for (c = atomic_load(&t->current); c; c = next) {
		next = c->older;
		tls_creds_free(c);
	}
	free(t->priorities);
	free(t);
}

const char *
tls_priorities(const struct tls *t)
{
	return t->priorities;
}

const char *
tls_client_ca_pem(struct tls *t)
{
	return atomic_load(&t->current)->client_ca_pem;
}

const char *
tls_describe(struct tls *t)
{
	return atomic_load(&t->current)->describe;
}

/* The server's certificate for a handshake: the credentials in use. */
static int
tls_cert_callback(gnutls_session_t session, const gnutls_datum_t *req_ca_dn,
    int nreqs, const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
    gnutls_pcert_st **pcert, unsigned int *pcert_length,
    gnutls_privkey_t *privkey)
{
	struct tls_creds *c = atomic_load(&tls_serving);

	(void)session;
	(void)req_ca_dn;
	(void)nreqs;
	(void)pk_algos;
	(void)pk_algos_length;
	if (c == NULL)
		return -1; /* stopping: the handshake fails */
	*pcert = c->pcert;
	*pcert_length = c->npcert;
	*privkey = c->key;
	return 0;
}

void *
tls_cert_callback_fn(void)
{
	gnutls_certificate_retrieve_function2 *fn = tls_cert_callback;

	return (void *)fn;
}

/* Does a SAN of type `type` equal cid? */
static bool
tls_san_matches(gnutls_x509_crt_t crt, int type, const char *cid)
{
	char buf[1024];

	for (unsigned int i = 0; i < 64; i++) {
		size_t n = sizeof(buf) - 1;
		int rc =
		    gnutls_x509_crt_get_subject_alt_name(crt, i, buf, &n, NULL);

		if (rc == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (rc == GNUTLS_E_SHORT_MEMORY_BUFFER)
			continue;
		if (rc < 0)
			break;
		buf[n] = '\0';
		if (rc == type && strlen(buf) == n && strcmp(buf, cid) == 0)
			return true;
	}
	return false;
}

/* The identity the certificate gives, compared with cid. */
static bool
tls_identity_matches(const struct settings *s, gnutls_x509_crt_t crt,
    const char *cid, char *why, size_t whylen)
{
	char cn[512];
	size_t n = sizeof(cn) - 1;
	int rc;

	switch (s->tls_client_id) {
	case TLS_ID_SAN_DNS:
		if (tls_san_matches(crt, GNUTLS_SAN_DNSNAME, cid))
			return true;
		snprintf(why, whylen,
		    "has no DNS name SAN equal to the "
		    "controller id");
		return false;
	case TLS_ID_SAN_URI:
		if (tls_san_matches(crt, GNUTLS_SAN_URI, cid))
			return true;
		snprintf(
		    why, whylen, "has no URI SAN equal to the controller id");
		return false;
	default:
		break;
	}
	rc = gnutls_x509_crt_get_dn_by_oid(
	    crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, cn, &n);
	if (rc < 0) {
		snprintf(why, whylen, "has no common name (CN)");
		return false;
	}
	cn[n] = '\0';
	if (strlen(cn) == n && strcmp(cn, cid) == 0)
		return true;
	snprintf(why, whylen, "is for CN \"%.*s\", not this controller id",
	    (int)utf8_cut(cn, 64), cn);
	return false;
}

enum tls_client
tls_check_client(
    struct tls *t, void *session, const char *cid, char *why, size_t whylen)
{
	struct tls_creds *c = atomic_load(&t->current);
	gnutls_x509_crt_t crts[TLS_PEER_CHAIN_MAX];
	gnutls_typed_vdata_st purpose = {.type = GNUTLS_DT_KEY_PURPOSE_OID,
	    .data = (void *)GNUTLS_KP_TLS_WWW_CLIENT};
	const gnutls_datum_t *peers;
	unsigned int npeers = 0, n = 0, status = 0;
	enum tls_client r = TLS_CLIENT_BAD;
	gnutls_datum_t text = {NULL, 0};

	why[0] = '\0';
	if (c->client_ca == NULL || session == NULL ||
	    gnutls_certificate_type_get((gnutls_session_t)session) !=
	        GNUTLS_CRT_X509)
		return TLS_CLIENT_NONE;
	peers =
	    gnutls_certificate_get_peers((gnutls_session_t)session, &npeers);
	if (peers == NULL || npeers == 0)
		return TLS_CLIENT_NONE;
	if (npeers > TLS_PEER_CHAIN_MAX) {
		snprintf(why, whylen, "chain is longer than %d certificates",
		    TLS_PEER_CHAIN_MAX);
		return TLS_CLIENT_BAD;
	}
	for (n = 0; n < npeers; n++) {
		if (gnutls_x509_crt_init(&crts[n]) < 0) {
			snprintf(why, whylen, "cannot be parsed");
			goto done;
		}
		if (gnutls_x509_crt_import(
		        crts[n], &peers[n], GNUTLS_X509_FMT_DER) < 0) {
			gnutls_x509_crt_deinit(crts[n]);
			snprintf(why, whylen, "cannot be parsed");
			goto done;
		}
	}
	if (gnutls_x509_trust_list_verify_crt2(c->client_ca, crts, npeers,
	        &purpose, 1, 0, &status, NULL) < 0) {
		snprintf(why, whylen, "cannot be verified");
		goto done;
	}
	if (status != 0) {
		if (status & GNUTLS_CERT_EXPIRED)
			snprintf(why, whylen, "has expired");
		else if (status & GNUTLS_CERT_NOT_ACTIVATED)
			snprintf(why, whylen, "is not valid yet");
		else if (status & (GNUTLS_CERT_SIGNER_NOT_FOUND |
		                      GNUTLS_CERT_SIGNER_NOT_CA))
			snprintf(why, whylen, "is not issued by tls.client_ca");
		else if (status & GNUTLS_CERT_PURPOSE_MISMATCH)
			snprintf(why, whylen,
			    "is not for TLS clients (extended key usage)");
		else if (gnutls_certificate_verification_status_print(
		             status, GNUTLS_CRT_X509, &text, 0) == 0) {
			snprintf(why, whylen, "does not verify: %s",
			    (const char *)text.data);
			gnutls_free(text.data);
		} else
			snprintf(why, whylen, "does not verify");
		goto done;
	}
	if (tls_identity_matches(t->s, crts[0], cid, why, whylen))
		r = TLS_CLIENT_OK;
done:
	for (unsigned int i = 0; i < n; i++)
		gnutls_x509_crt_deinit(crts[i]);
	return r;
}
