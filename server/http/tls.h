/*
 * HTTPS credentials on GnuTLS, the TLS library libmicrohttpd is built on:
 * the server's certificate chain and key (tls.cert, tls.key), read and
 * checked at start, by `falconet -n` and again on SIGHUP, and the devices'
 * client certificates, checked against tls.client_ca for each DDI request.
 * libmicrohttpd asks for the certificate through tls_cert_callback on each
 * handshake, which hands out the credentials loaded last: a reload swaps
 * them for new connections while open ones keep the old.
 */
#ifndef TLS_H
#define TLS_H

#include <stddef.h>

struct settings;
struct tls;

#define TLS_FILE_MAX (1024 * 1024) /* larger PEM files are refused */
#define TLS_CHAIN_MAX 16           /* certificates in tls.cert */
#define TLS_PEER_CHAIN_MAX 8       /* certificates a client may present */
/* Always taken off tls.priorities: TLS 1.2 is the oldest version spoken. */
#define TLS_MIN_VERSION ":-VERS-SSL3.0:-VERS-TLS1.0:-VERS-TLS1.1"

/*
 * Read tls.cert, tls.key and tls.client_ca and check them: PEM, the key
 * is the certificate's, each certificate of the chain is signed by the
 * next, none has expired, and tls.priorities is a valid priority string.
 * NULL on failure, with a message naming the file in err.  The first
 * struct tls loaded is the one tls_cert_callback serves from.
 */
struct tls *tls_load(const struct settings *, char *err, size_t errlen);
/* Read the files again; on success the next handshakes get the new
 * certificate (and the next requests the new client CA), on failure
 * (err) nothing changes.  0 or -1. */
int tls_reload(struct tls *, char *err, size_t errlen);
/* Free everything loaded, once no daemon uses it (NULL ok). */
void tls_free(struct tls *);

/* tls.priorities with TLS_MIN_VERSION appended (owned by the tls). */
const char *tls_priorities(const struct tls *);
/* The client CA PEM text read at load, or NULL if no tls.client_ca (or
 * tls.client_auth is ignored): libmicrohttpd requests client
 * certificates, without requiring them, when it is given one. */
const char *tls_client_ca_pem(struct tls *);
/* One line about the certificate served: subject and expiry. */
const char *tls_describe(struct tls *);
/* libmicrohttpd's MHD_OPTION_HTTPS_CERT_CALLBACK, a GnuTLS
 * gnutls_certificate_retrieve_function2. */
void *tls_cert_callback_fn(void);

enum tls_client {
	TLS_CLIENT_NONE, /* no certificate presented (or none looked at) */
	TLS_CLIENT_OK,   /* issued by tls.client_ca, valid, for this id */
	TLS_CLIENT_BAD,  /* presented, but refused: see why */
};

/*
 * The client certificate of a TLS session (a gnutls_session_t) for
 * controller id cid: its chain verified against tls.client_ca (expiry and
 * key usage included), then its CN, or a SAN of the type tls.client_id
 * names, compared with cid.  On TLS_CLIENT_BAD why says what was wrong.
 */
enum tls_client tls_check_client(
    struct tls *, void *session, const char *cid, char *why, size_t whylen);

#endif
