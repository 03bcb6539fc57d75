/*
 * settings.yaml -> struct settings.  Compiled-in defaults, then the file,
 * then validation.  Unknown keys, wrong types and out-of-range values are
 * errors naming the file, line and dotted key.  Nothing reads YAML after
 * start-up.
 */
#ifndef SETTINGS_H
#define SETTINGS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SETTINGS_MAX_PROXIES 32
#define SETTINGS_MAX_AUTHORITIES 16
#define SETTINGS_MAX_HOSTS 16
/* tls.priorities by default: TLS 1.3 and 1.2, forward-secret key
 * exchange and AEAD ciphers only (tls.c also takes off anything older
 * than TLS 1.2, whatever the setting says).  The client's order counts:
 * every choice left is a strong one, and the server's preference for
 * P-256 over the X25519 key share clients send first would cost a
 * HelloRetryRequest and a slower key exchange in every handshake. */
#define SETTINGS_TLS_PRIORITIES                                                \
	"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:"              \
	"+AES-256-GCM:+AES-128-GCM:+CHACHA20-POLY1305:-MAC-ALL:+AEAD:"         \
	"-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA"

enum device_auth_mode { DEVICE_AUTH_OPEN, DEVICE_AUTH_TOKEN, DEVICE_AUTH_TOFU };

/* What a device's client certificate does (tls.client_auth). */
enum tls_client_auth {
	TLS_AUTH_ACCEPTED, /* authenticates the device, instead of a token */
	TLS_AUTH_REQUIRED, /* DDI requests must present one */
	TLS_AUTH_IGNORED,  /* not requested, never counted */
};

/* Which name of a client certificate is the controller id
 * (tls.client_id). */
enum tls_client_id { TLS_ID_CN, TLS_ID_SAN_DNS, TLS_ID_SAN_URI };

/* What an upload's signature check decides (rauc.signature,
 * swupdate.signature). */
enum signature_policy {
	SIGNATURE_OFF,     /* not checked */
	SIGNATURE_WARN,    /* checked, the result stored and shown */
	SIGNATURE_REQUIRE, /* what a device would refuse is refused */
};

/* A trusted proxy: an IPv4 or IPv6 network (address/prefix). */
struct proxy_net {
	int family;             /* AF_INET or AF_INET6 */
	unsigned char addr[16]; /* network address, in network order */
	int prefix;             /* 0..32 or 0..128 */
};

struct settings {
	char listen_address[64]; /* listen.address, default "0.0.0.0" */
	int listen_port; /* listen.port, 1..65535, default 8080 (0 = any, tests)
	                  */
	int listen_http_port; /* listen.http_port: a second, plain HTTP
	                         listener beside HTTPS, -1 = none */
	char public_url[512]; /* public_url, "" = from Host header */
	/* HTTPS on listen.port (tls.cert set): see server/http/tls.c. */
	char tls_cert[1024];      /* tls.cert: PEM chain, server's first */
	char tls_key[1024];       /* tls.key: its PEM private key */
	char tls_priorities[512]; /* tls.priorities: GnuTLS priority string */
	int tls_hsts_max_age;     /* tls.hsts_max_age s, 0 = no HSTS header */
	char tls_client_ca[1024]; /* tls.client_ca: devices' CA PEM, "" none */
	enum tls_client_auth tls_client_auth; /* tls.client_auth, accepted */
	enum tls_client_id tls_client_id;     /* tls.client_id, cn */
	char data_dir[1024];                  /* data_dir, default "./data" */
	char tenant[64];                      /* tenant, default "DEFAULT" */
	int poll_interval; /* poll.interval "HH:MM:SS" -> s, default 300 */
	int poll_interval_running; /* poll.running_interval, default 30 */
	int poll_overdue; /* poll.overdue: late after interval + this, 300 */
	enum device_auth_mode
	    device_auth;         /* device_auth.mode open|token|tofu */
	char gateway_token[256]; /* device_auth.gateway_token, "" = off */
	/* mTLS terminated by a trusted proxy (hawkBit header auth) */
	bool cert_header_enabled; /* device_auth.proxy_cert.enabled */
	char cert_cn_header[64];  /* ...cn_header, default "X-Controller-Id" */
	char cert_issuer_header[64]; /* ...issuer_header, default "X-Authority"
	                              */
	char cert_authorities[SETTINGS_MAX_AUTHORITIES]
	                     [128]; /* ...trusted_issuers */
	size_t ncert_authorities;
	/* Self-registration (open and tofu modes): see ddi.c. */
	int register_rate;          /* device_auth.register_rate, per minute and
	                               address (IPv6: per /64), default 1000 */
	int register_max;           /* device_auth.register_max: most devices on
	                               register_feed, default 100000 */
	char register_feed[65];     /* device_auth.register_feed, "default" */
	int refused_max;            /* device_auth.refused_max: rows of refused
	                               requests kept, default 10000 */
	char attr_hw_model[129];    /* attributes.hw_model, "hw_boardname" */
	char attr_hw_revision[129]; /* attributes.hw_revision, "hw_revision" */
	char attr_sw_version[129];  /* attributes.sw_version, "sw_version" */
	char attr_rauc_compatible[129]; /* attributes.rauc_compatible,
	                                   "compatible" */
	char swu_keyring[1024]; /* swupdate.keyring: certificate or CA PEM
	                           file (swupdate -k), "" = none */
	enum signature_policy swu_signature; /* swupdate.signature, warn */
	char rauc_keyring[1024]; /* rauc.keyring: CA PEM file, "" = none */
	enum signature_policy rauc_signature; /* rauc.signature, warn */
	bool rauc_accept_encrypted;           /* rauc.accept_encrypted, true */
	char rauc_compatible_pattern[512];    /* rauc.compatible_pattern: regex
	                                         with groups model and revision */
	uint64_t upload_max_size;             /* upload.max_size, default 4G */
	int fetch_timeout; /* upload.fetch_timeout s: reading an external
	                      artifact, default 300 */
	int max_running;   /* updates.max_running, global cap, default 100 */
	int stale_timeout; /* updates.stale_timeout "HH:MM:SS" -> s, default
	                      3600 */
	struct proxy_net proxies[SETTINGS_MAX_PROXIES]; /* proxy.trusted */
	size_t nproxies;
	/* proxy.cert_trusted: the peers whose certificate headers count */
	struct proxy_net cert_proxies[SETTINGS_MAX_PROXIES];
	size_t ncert_proxies;
	/* Set by the load: proxy_cert is on with cert_trusted empty, so
	 * cert_proxies is a copy of proxy.trusted (deprecated; main warns). */
	bool cert_proxies_from_trusted;
	int http_threads;          /* http.threads, 0 = number of cores */
	int http_connection_limit; /* http.connection_limit, default 4096 */
	int http_timeout;          /* http.timeout seconds, default 60 */
	int http_per_ip_limit;     /* http.per_ip_limit connections, 0 = none;
	                              trusted proxies are not limited, default 64 */
	int http_request_timeout;  /* http.request_timeout s for a request's
	                              head,  and the body's grace, default 30 */
	int http_body_min_rate;    /* http.body_min_rate bytes/s a body must
	                              average after that grace, 0 = none, 1024 */
	int http_mgmt_threads;     /* http.management_threads: password hashing
	                              and fleet-wide queries, default 2 */
	int http_mgmt_queue;       /* http.management_queue: requests waiting
	                              for them before 503, default 64 */
	/* http.allowed_hosts: Host names the dashboard and API answer to
	 * (besides IP literals, localhost and public_url's host); "*" = any */
	char allowed_hosts[SETTINGS_MAX_HOSTS][256];
	size_t nallowed_hosts;
	int sse_per_user;      /* http.sse_per_user live streams, 1..256, 8 */
	int sse_lifetime;      /* http.sse_lifetime "HH:MM:SS" -> s, 00:10:00 */
	int log_level;         /* log.level error|warn|info|debug -> 0..3 */
	bool log_access;       /* log.access, default true */
	char web_dir[1024];    /* ui.web_dir, default "./web" */
	int session_idle;      /* auth.session_idle "HH:MM:SS" -> s, 01:00:00 */
	int session_max_hours; /* auth.session_max_hours, 1..720, 24 */
	int argon2_memory_kib; /* auth.argon2_memory_kib, 19456 (OWASP) */
	int argon2_iterations; /* auth.argon2_iterations, 2 */
	int argon2_parallelism; /* auth.argon2_parallelism, 1 */
	int login_max_failures; /* auth.login_max_failures, 5 per window */
	int login_window;    /* auth.login_window "HH:MM:SS" -> s, 00:15:00 */
	bool metrics_public; /* metrics.public: /metrics without a token */

	/* The login limiter's size, sessions per user and their purge. */
	int login_tracked_keys;     /* auth.login_tracked_keys, 16384 */
	int max_sessions_per_user;  /* auth.max_sessions_per_user, 20 */
	int session_purge_interval; /* auth.session_purge_interval s, 60 */
	int audit_max_age;          /* audit.max_age days, 1..36500, 365 */
	int audit_max_rows; /* audit.max_rows, 1000..100000000, 1000000 */
};

/* Fill *s with the compiled-in defaults. */
void settings_defaults(struct settings *s);

/*
 * Read the YAML file `path` over the values in *s (call settings_defaults
 * first), then validate.  0 ok; -1 failed, with a one-line message
 * "path:line: key: what is wrong" in err (errlen bytes).
 */
int settings_load(
    struct settings *s, const char *path, char *err, size_t errlen);
/* The same for YAML held in memory; name stands in for the path in errors. */
int settings_load_mem(struct settings *s, const char *name, const char *buf,
    size_t len, char *err, size_t errlen);

const char *settings_auth_mode_str(enum device_auth_mode);

/* The effective settings as {"dotted.key": value}; secrets masked. */
json_t *settings_to_json(const struct settings *s);

/* True if the peer address (struct sockaddr *) is inside a trusted proxy net.
 */
bool settings_is_trusted_proxy(const struct settings *s, const void *sockaddr);
/* True if the peer address (struct sockaddr *) is inside proxy.cert_trusted:
 * a proxy whose certificate headers (device_auth.proxy_cert) count. */
bool settings_is_cert_proxy(const struct settings *s, const void *sockaddr);

#endif
