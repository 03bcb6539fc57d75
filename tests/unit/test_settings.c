/*
 * settings.c: defaults, the shipped settings.yaml, each key's good and bad
 * values, the fixtures in tests/data/settings/ and the trusted-proxy match.
 * Run from the repository root, where settings.yaml and tests/ are.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <yaml.h>

#include "settings.h"
#include "util.h"

#define SHIPPED "settings.yaml"
#define DATA_DIR "tests/data/settings"

/* Every dotted key settings.c knows; settings.yaml must list each one. */
/* clang-format off */
static const char *const all_keys[] = {
	"listen.address",
	"listen.port",
	"listen.http_port",
	"tls.cert",
	"tls.key",
	"tls.priorities",
	"tls.hsts_max_age",
	"tls.client_ca",
	"tls.client_auth",
	"tls.client_id",
	"public_url",
	"data_dir",
	"tenant",
	"poll.interval",
	"poll.running_interval",
	"poll.overdue",
	"device_auth.mode",
	"device_auth.gateway_token",
	"device_auth.register_rate",
	"device_auth.register_max",
	"device_auth.register_feed",
	"device_auth.refused_max",
	"device_auth.proxy_cert.enabled",
	"device_auth.proxy_cert.cn_header",
	"device_auth.proxy_cert.issuer_header",
	"device_auth.proxy_cert.trusted_issuers",
	"attributes.hw_model",
	"attributes.hw_revision",
	"attributes.sw_version",
	"attributes.rauc_compatible",
	"swupdate.keyring",
	"swupdate.signature",
	"rauc.keyring",
	"rauc.signature",
	"rauc.accept_encrypted",
	"rauc.compatible_pattern",
	"upload.max_size",
	"upload.fetch_timeout",
	"updates.max_running",
	"updates.stale_timeout",
	"proxy.trusted",
	"proxy.cert_trusted",
	"http.threads",
	"http.connection_limit",
	"http.timeout", "http.per_ip_limit",
	"http.allowed_hosts",
	"http.sse_per_user",
	"http.sse_lifetime",
	"http.request_timeout",
	"http.body_min_rate",
	"http.management_threads",
	"http.management_queue",
	"log.level",
	"log.access",
	"ui.web_dir",
	"auth.session_idle",
	"auth.session_max_hours",
	"auth.argon2_memory_kib",
	"auth.argon2_iterations",
	"auth.argon2_parallelism",
	"auth.login_max_failures",
	"auth.login_window",
	"auth.login_tracked_keys",
	"auth.max_sessions_per_user",
	"auth.session_purge_interval",
	"metrics.public",
	"audit.max_age",
	"audit.max_rows",
};
/* clang-format on */

/* Defaults, then yaml (len 0 = strlen) as "t.yaml".  Returns the result. */
static int
load(const char *yaml, size_t len, struct settings *s, char *err, size_t errlen)
{
	settings_defaults(s);
	return settings_load_mem(
	    s, "t.yaml", yaml, len ? len : strlen(yaml), err, errlen);
}

static void
assert_settings_equal(const struct settings *a, const struct settings *b)
{
	assert_string_equal(a->listen_address, b->listen_address);
	assert_int_equal(a->listen_port, b->listen_port);
	assert_int_equal(a->listen_http_port, b->listen_http_port);
	assert_string_equal(a->tls_cert, b->tls_cert);
	assert_string_equal(a->tls_key, b->tls_key);
	assert_string_equal(a->tls_priorities, b->tls_priorities);
	assert_int_equal(a->tls_hsts_max_age, b->tls_hsts_max_age);
	assert_string_equal(a->tls_client_ca, b->tls_client_ca);
	assert_int_equal(a->tls_client_auth, b->tls_client_auth);
	assert_int_equal(a->tls_client_id, b->tls_client_id);
	assert_string_equal(a->public_url, b->public_url);
	assert_string_equal(a->data_dir, b->data_dir);
	assert_string_equal(a->tenant, b->tenant);
	assert_int_equal(a->poll_interval, b->poll_interval);
	assert_int_equal(a->poll_interval_running, b->poll_interval_running);
	assert_int_equal(a->device_auth, b->device_auth);
	assert_string_equal(a->gateway_token, b->gateway_token);
	assert_int_equal(a->register_rate, b->register_rate);
	assert_int_equal(a->register_max, b->register_max);
	assert_string_equal(a->register_feed, b->register_feed);
	assert_int_equal(a->refused_max, b->refused_max);
	assert_int_equal(a->cert_header_enabled, b->cert_header_enabled);
	assert_string_equal(a->cert_cn_header, b->cert_cn_header);
	assert_string_equal(a->cert_issuer_header, b->cert_issuer_header);
	assert_int_equal(a->ncert_authorities, b->ncert_authorities);
	for (size_t i = 0; i < a->ncert_authorities; i++)
		assert_string_equal(
		    a->cert_authorities[i], b->cert_authorities[i]);
	assert_string_equal(a->attr_hw_model, b->attr_hw_model);
	assert_string_equal(a->attr_hw_revision, b->attr_hw_revision);
	assert_string_equal(a->attr_sw_version, b->attr_sw_version);
	assert_string_equal(a->attr_rauc_compatible, b->attr_rauc_compatible);
	assert_string_equal(a->rauc_keyring, b->rauc_keyring);
	assert_string_equal(a->swu_keyring, b->swu_keyring);
	assert_int_equal(a->swu_signature, b->swu_signature);
	assert_int_equal(a->fetch_timeout, b->fetch_timeout);
	assert_int_equal(a->rauc_signature, b->rauc_signature);
	assert_int_equal(a->rauc_accept_encrypted, b->rauc_accept_encrypted);
	assert_string_equal(
	    a->rauc_compatible_pattern, b->rauc_compatible_pattern);
	assert_int_equal(a->upload_max_size, b->upload_max_size);
	assert_int_equal(a->max_running, b->max_running);
	assert_int_equal(a->stale_timeout, b->stale_timeout);
	assert_int_equal(a->nproxies, b->nproxies);
	for (size_t i = 0; i < a->nproxies; i++) {
		assert_int_equal(a->proxies[i].family, b->proxies[i].family);
		assert_int_equal(a->proxies[i].prefix, b->proxies[i].prefix);
		assert_memory_equal(a->proxies[i].addr, b->proxies[i].addr, 16);
	}
	assert_int_equal(a->ncert_proxies, b->ncert_proxies);
	for (size_t i = 0; i < a->ncert_proxies; i++) {
		assert_int_equal(
		    a->cert_proxies[i].family, b->cert_proxies[i].family);
		assert_int_equal(
		    a->cert_proxies[i].prefix, b->cert_proxies[i].prefix);
		assert_memory_equal(
		    a->cert_proxies[i].addr, b->cert_proxies[i].addr, 16);
	}
	assert_int_equal(
	    a->cert_proxies_from_trusted, b->cert_proxies_from_trusted);
	assert_int_equal(a->http_threads, b->http_threads);
	assert_int_equal(a->http_connection_limit, b->http_connection_limit);
	assert_int_equal(a->http_timeout, b->http_timeout);
	assert_int_equal(a->http_per_ip_limit, b->http_per_ip_limit);
	assert_int_equal(a->nallowed_hosts, b->nallowed_hosts);
	for (size_t i = 0; i < a->nallowed_hosts; i++)
		assert_string_equal(a->allowed_hosts[i], b->allowed_hosts[i]);
	assert_int_equal(a->sse_per_user, b->sse_per_user);
	assert_int_equal(a->sse_lifetime, b->sse_lifetime);
	assert_int_equal(a->http_request_timeout, b->http_request_timeout);
	assert_int_equal(a->http_body_min_rate, b->http_body_min_rate);
	assert_int_equal(a->http_mgmt_threads, b->http_mgmt_threads);
	assert_int_equal(a->http_mgmt_queue, b->http_mgmt_queue);
	assert_int_equal(a->log_level, b->log_level);
	assert_int_equal(a->log_access, b->log_access);
	assert_string_equal(a->web_dir, b->web_dir);
	assert_int_equal(a->session_idle, b->session_idle);
	assert_int_equal(a->session_max_hours, b->session_max_hours);
	assert_int_equal(a->argon2_memory_kib, b->argon2_memory_kib);
	assert_int_equal(a->argon2_iterations, b->argon2_iterations);
	assert_int_equal(a->argon2_parallelism, b->argon2_parallelism);
	assert_int_equal(a->login_max_failures, b->login_max_failures);
	assert_int_equal(a->login_window, b->login_window);
	assert_int_equal(a->login_tracked_keys, b->login_tracked_keys);
	assert_int_equal(a->max_sessions_per_user, b->max_sessions_per_user);
	assert_int_equal(a->session_purge_interval, b->session_purge_interval);
	assert_int_equal(a->metrics_public, b->metrics_public);
	assert_int_equal(a->audit_max_age, b->audit_max_age);
	assert_int_equal(a->audit_max_rows, b->audit_max_rows);
}

static void
test_defaults(void **state)
{
	struct settings s;

	(void)state;
	settings_defaults(&s);
	assert_string_equal(s.listen_address, "0.0.0.0");
	assert_int_equal(s.listen_port, 8080);
	assert_string_equal(s.public_url, "");
	assert_string_equal(s.data_dir, "./data");
	assert_string_equal(s.tenant, "DEFAULT");
	assert_int_equal(s.poll_interval, 300);
	assert_int_equal(s.poll_interval_running, 30);
	assert_int_equal(s.device_auth, DEVICE_AUTH_OPEN);
	assert_string_equal(s.gateway_token, "");
	assert_int_equal(s.register_rate, 1000);
	assert_int_equal(s.register_max, 100000);
	assert_string_equal(s.register_feed, "default");
	assert_int_equal(s.refused_max, 10000);
	assert_false(s.cert_header_enabled);
	assert_string_equal(s.cert_cn_header, "X-Controller-Id");
	assert_string_equal(s.cert_issuer_header, "X-Authority");
	assert_int_equal(s.ncert_authorities, 0);
	assert_string_equal(s.attr_hw_model, "hw_boardname");
	assert_string_equal(s.attr_hw_revision, "hw_revision");
	assert_string_equal(s.attr_sw_version, "sw_version");
	assert_int_equal(s.upload_max_size, 4ULL << 30);
	assert_int_equal(s.max_running, 100);
	assert_int_equal(s.stale_timeout, 3600);
	assert_int_equal(s.nproxies, 0);
	assert_int_equal(s.ncert_proxies, 0);
	assert_false(s.cert_proxies_from_trusted);
	assert_int_equal(s.http_threads, 0);
	assert_int_equal(s.http_connection_limit, 4096);
	assert_int_equal(s.http_timeout, 60);
	assert_int_equal(s.http_per_ip_limit, 64);
	assert_int_equal(s.http_request_timeout, 30);
	assert_int_equal(s.http_body_min_rate, 1024);
	assert_int_equal(s.http_mgmt_threads, 2);
	assert_int_equal(s.http_mgmt_queue, 64);
	assert_int_equal(s.nallowed_hosts, 0);
	assert_int_equal(s.sse_per_user, 8);
	assert_int_equal(s.sse_lifetime, 600);
	assert_int_equal(s.log_level, 2);
	assert_true(s.log_access);
	assert_int_equal(s.audit_max_age, 365);
	assert_int_equal(s.audit_max_rows, 1000000);
}

/* Collect the dotted leaf keys of a YAML mapping tree into keys[]. */
static void
walk_keys(yaml_parser_t *p, const char *prefix, char keys[][64], size_t *n)
{
	char key[64];
	yaml_event_t ev;

	for (;;) {
		assert_true(yaml_parser_parse(p, &ev));
		if (ev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&ev);
			return;
		}
		assert_int_equal(ev.type, YAML_SCALAR_EVENT);
		snprintf(key, sizeof(key), "%s%s%s", prefix, *prefix ? "." : "",
		    (const char *)ev.data.scalar.value);
		yaml_event_delete(&ev);
		assert_true(yaml_parser_parse(p, &ev));
		if (ev.type == YAML_MAPPING_START_EVENT) {
			yaml_event_delete(&ev);
			walk_keys(p, key, keys, n);
			continue;
		}
		if (ev.type == YAML_SEQUENCE_START_EVENT) {
			yaml_event_delete(&ev);
			do {
				assert_true(yaml_parser_parse(p, &ev));
				yaml_event_delete(&ev);
			} while (ev.type != YAML_SEQUENCE_END_EVENT &&
			         ev.type != YAML_NO_EVENT);
		} else
			yaml_event_delete(&ev);
		assert_true(*n < NELEM(all_keys) + 8);
		snprintf(keys[(*n)++], 64, "%s", key);
	}
}

/* The shipped settings.yaml spells out exactly the defaults, every key. */
static void
test_shipped_file(void **state)
{
	char err[512], keys[NELEM(all_keys) + 8][64];
	struct settings def, s;
	yaml_parser_t p;
	yaml_event_t ev;
	FILE *f;
	size_t n = 0;

	(void)state;
	settings_defaults(&def);
	settings_defaults(&s);
	if (settings_load(&s, SHIPPED, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_settings_equal(&s, &def);

	/* Loaded over other values, the file puts every default back. */
	memset(&s, 0, sizeof(s));
	assert_int_equal(settings_load(&s, SHIPPED, err, sizeof(err)), 0);
	s.ncert_authorities = 0;
	s.nproxies = 0;
	s.ncert_proxies = 0;
	s.nallowed_hosts = 0;
	assert_settings_equal(&s, &def);

	assert_non_null(f = fopen(SHIPPED, "r"));
	assert_true(yaml_parser_initialize(&p));
	yaml_parser_set_input_file(&p, f);
	for (int i = 0; i < 3; i++) { /* STREAM, DOCUMENT, MAPPING START */
		assert_true(yaml_parser_parse(&p, &ev));
		yaml_event_delete(&ev);
	}
	walk_keys(&p, "", keys, &n);
	yaml_parser_delete(&p);
	fclose(f);
	for (size_t i = 0; i < NELEM(all_keys); i++) {
		size_t j = 0;

		while (j < n && strcmp(keys[j], all_keys[i]) != 0)
			j++;
		if (j == n)
			fail_msg("%s is missing from %s", all_keys[i], SHIPPED);
	}
	assert_int_equal(n, NELEM(all_keys));
}

enum kind { K_NONE, K_INT, K_U64, K_BOOL, K_STR };

struct good_row {
	const char *yaml;
	enum kind kind;
	size_t off;      /* where the value lands in struct settings */
	int64_t num;     /* K_INT, K_U64, K_BOOL */
	const char *str; /* K_STR */
};

/* clang-format off */
#define G_NONE(y) {y, K_NONE, 0, 0, NULL}
#define G_INT(y, m, v) {y, K_INT, offsetof(struct settings, m), v, NULL}
#define G_U64(y, m, v) {y, K_U64, offsetof(struct settings, m), v, NULL}
#define G_BOOL(y, m, v) {y, K_BOOL, offsetof(struct settings, m), v, NULL}
#define G_STR(y, m, v) {y, K_STR, offsetof(struct settings, m), 0, v}

/* Each row sets one value; every other field must keep its default. */
static const struct good_row good_rows[] = {
	G_NONE(""),
	G_NONE("# nothing but a comment\n"),
	G_NONE("---\n"),
	G_NONE("---\n...\n"),
	G_NONE("{}\n"),
	G_NONE("proxy:\n"),
	G_NONE("proxy:\n  # trusted: [10.0.0.1]\n"),
	G_NONE("proxy:\n  trusted:\n"),
	G_NONE("proxy:\n  trusted: []\n"),
	G_NONE("device_auth:\n  proxy_cert: {}\n"),
	G_NONE("\xef\xbb\xbflog:\n  level: info\n"), /* UTF-8 BOM */
	G_STR("listen:\n  address: 127.0.0.1\n", listen_address, "127.0.0.1"),
	G_STR("attributes:\n  rauc_compatible: rauc_compat\n",
	    attr_rauc_compatible, "rauc_compat"),
	G_STR("rauc:\n  keyring: /etc/rauc/ca.pem\n", rauc_keyring,
	    "/etc/rauc/ca.pem"),
	G_INT("rauc:\n  signature: off\n", rauc_signature, SIGNATURE_OFF),
	G_INT("swupdate:\n  signature: off\n", swu_signature, SIGNATURE_OFF),
	G_STR("swupdate:\n  keyring: /etc/swupdate/cert.pem\n", swu_keyring,
	    "/etc/swupdate/cert.pem"),
	G_BOOL("rauc:\n  accept_encrypted: false\n", rauc_accept_encrypted, 0),
	G_STR("rauc:\n  compatible_pattern: '^(?P<model>.+)-(?P<revision>"
	    "rev[0-9]+)$'\n", rauc_compatible_pattern,
	    "^(?P<model>.+)-(?P<revision>rev[0-9]+)$"),
	G_STR("listen:\n  address: \"::\"\n", listen_address, "::"),
	G_STR("listen: {address: \"::1\"}\n", listen_address, "::1"),
	G_INT("listen:\n  port: 0\n", listen_port, 0),
	G_INT("listen:\n  port: 1\n", listen_port, 1),
	G_INT("listen:\n  port: 65535\n", listen_port, 65535),
	G_INT("listen:\n  port: \"9000\"\n", listen_port, 9000),
	G_INT("{listen: {port: 9001}}", listen_port, 9001),
	G_STR("public_url: https://ota.example.com\n", public_url,
	    "https://ota.example.com"),
	G_STR("public_url: http://10.0.0.1:8080/ota\n", public_url,
	    "http://10.0.0.1:8080/ota"),
	G_STR("public_url: \"http://[::1]:80\"\n", public_url,
	    "http://[::1]:80"),
	G_STR("public_url:\n", public_url, ""),
	G_STR("public_url: ''\n", public_url, ""),
	G_STR("data_dir: /var/lib/falconet\n", data_dir, "/var/lib/falconet"),
	G_STR("data_dir: \"d\xc3\xa4ta dir\"\n", data_dir, "d\xc3\xa4ta dir"),
	G_STR("tenant: default\n", tenant, "default"),
	G_STR("tenant: a\n", tenant, "a"),
	G_STR("tenant: my-tenant_1.x\n", tenant, "my-tenant_1.x"),
	G_INT("poll:\n  interval: \"00:00:01\"\n", poll_interval, 1),
	G_INT("poll:\n  interval: \"23:59:59\"\n", poll_interval, 86399),
	G_INT("poll:\n  interval: 00:10:00\n", poll_interval, 600),
	G_INT("poll:\n  running_interval: \"00:01:05\"\n",
	    poll_interval_running, 65),
	G_INT("device_auth:\n  mode: open\n", device_auth, DEVICE_AUTH_OPEN),
	G_INT("device_auth:\n  mode: token\n", device_auth, DEVICE_AUTH_TOKEN),
	G_INT("device_auth:\n  mode: tofu\n", device_auth, DEVICE_AUTH_TOFU),
	G_STR("device_auth:\n  gateway_token: 0123456789abcdef\n",
	    gateway_token, "0123456789abcdef"),
	G_STR("device_auth:\n  gateway_token: \"!#$%&()*+,-./:;<=>?@[]^_\"\n",
	    gateway_token, "!#$%&()*+,-./:;<=>?@[]^_"),
	G_STR("device_auth:\n  gateway_token: \"\"\n", gateway_token, ""),
	G_INT("device_auth:\n  register_rate: 1\n", register_rate, 1),
	G_INT("device_auth:\n  register_rate: 1000000\n", register_rate,
	    1000000),
	G_INT("device_auth:\n  register_max: 1\n", register_max, 1),
	G_INT("device_auth:\n  register_max: 100000000\n", register_max,
	    100000000),
	G_INT("device_auth:\n  refused_max: 10\n", refused_max, 10),
	G_STR("device_auth:\n  register_feed: quarantine\n", register_feed,
	    "quarantine"),
	G_STR("device_auth:\n  register_feed: New_devices.2-x\n",
	    register_feed, "New_devices.2-x"),
	G_NONE("proxy:\n  cert_trusted: []\n"),
	G_BOOL("device_auth:\n  proxy_cert:\n    enabled: false\n",
	    cert_header_enabled, false),
	G_STR("device_auth:\n  proxy_cert:\n    cn_header: X-Ssl-Client-Cn\n",
	    cert_cn_header, "X-Ssl-Client-Cn"),
	G_STR("device_auth:\n  proxy_cert:\n    issuer_header: "
	      "X-Ssl-Issuer-Hash-1\n",
	    cert_issuer_header, "X-Ssl-Issuer-Hash-1"),
	G_STR("attributes:\n  hw_model: board\n", attr_hw_model, "board"),
	G_STR("attributes:\n  hw_revision: \"rev \xc3\xa9\"\n", attr_hw_revision,
	    "rev \xc3\xa9"),
	G_STR("attributes:\n  sw_version: VERSION_ID\n", attr_sw_version,
	    "VERSION_ID"),
	G_U64("upload:\n  max_size: 1K\n", upload_max_size, 1024),
	G_U64("upload:\n  max_size: 1024\n", upload_max_size, 1024),
	G_U64("upload:\n  max_size: 512M\n", upload_max_size, 512LL << 20),
	G_U64("upload:\n  max_size: 5g\n", upload_max_size, 5LL << 30),
	G_U64("upload:\n  max_size: 1T\n", upload_max_size, 1LL << 40),
	G_INT("updates:\n  max_running: 1\n", max_running, 1),
	G_INT("updates:\n  max_running: 1000000\n", max_running, 1000000),
	G_INT("updates:\n  stale_timeout: \"00:01:00\"\n", stale_timeout, 60),
	G_INT("updates:\n  stale_timeout: \"23:59:59\"\n", stale_timeout,
	    86399),
	G_INT("http:\n  threads: 0\n", http_threads, 0),
	G_INT("http:\n  sse_per_user: 1\n", sse_per_user, 1),
	G_INT("http:\n  sse_per_user: 256\n", sse_per_user, 256),
	G_INT("http:\n  sse_lifetime: \"00:00:05\"\n", sse_lifetime, 5),
	G_INT("audit:\n  max_age: 1\n", audit_max_age, 1),
	G_INT("audit:\n  max_rows: 1000\n", audit_max_rows, 1000),
	G_INT("audit:\n  max_rows: 100000000\n", audit_max_rows, 100000000),
	G_INT("http:\n  threads: 64\n", http_threads, 64),
	G_INT("http:\n  connection_limit: 16\n", http_connection_limit, 16),
	G_INT("http:\n  connection_limit: 1000000\n", http_connection_limit,
	    1000000),
	G_INT("http:\n  timeout: 5\n", http_timeout, 5),
	G_INT("http:\n  timeout: 3600\n", http_timeout, 3600),
	G_INT("http:\n  per_ip_limit: 0\n", http_per_ip_limit, 0),
	G_INT("http:\n  per_ip_limit: 64\n", http_per_ip_limit, 64),
	G_INT("http:\n  request_timeout: 1\n", http_request_timeout, 1),
	G_INT("http:\n  body_min_rate: 0\n", http_body_min_rate, 0),
	G_INT("http:\n  management_threads: 16\n", http_mgmt_threads, 16),
	G_INT("http:\n  management_queue: 1\n", http_mgmt_queue, 1),
	G_INT("log:\n  level: error\n", log_level, 0),
	G_INT("log:\n  level: warn\n", log_level, 1),
	G_INT("log:\n  level: info\n", log_level, 2),
	G_INT("log:\n  level: debug\n", log_level, 3),
	G_BOOL("log:\n  access: false\n", log_access, false),
	G_BOOL("log:\n  access: true\n", log_access, true),
	G_BOOL("log: {access: false}\n", log_access, false),
};
/* clang-format on */

static void
test_good_values(void **state)
{
	struct settings want, got;
	char err[512];

	(void)state;
	for (size_t i = 0; i < NELEM(good_rows); i++) {
		const struct good_row *r = &good_rows[i];
		char *p = (char *)&want + r->off;

		settings_defaults(&want);
		switch (r->kind) {
		case K_INT:
			*(int *)(void *)p = (int)r->num;
			break;
		case K_U64:
			*(uint64_t *)(void *)p = (uint64_t)r->num;
			break;
		case K_BOOL:
			*(bool *)(void *)p = r->num != 0;
			break;
		case K_STR:
			strcpy(p, r->str);
			break;
		case K_NONE:
			break;
		}
		if (load(r->yaml, 0, &got, err, sizeof(err)) != 0)
			fail_msg("row %zu: %s", i, err);
		assert_string_equal(err, "");
		assert_settings_equal(&got, &want);
	}
}

struct bad_row {
	const char *yaml;
	size_t len;        /* 0 = strlen(yaml) */
	const char *where; /* the message starts with this */
	const char *why;   /* and contains this */
};

/* clang-format off */
static const struct bad_row bad_rows[] = {
	/* TLS settings that need one another */
	{"tls:\n  cert: /c.pem\n", 0, "t.yaml:2: tls.cert: ",
	    "needs tls.key"},
	{"tls:\n  key: /k.pem\n", 0, "t.yaml:2: tls.key: ", "needs tls.cert"},
	{"listen:\n  http_port: 80\n", 0, "t.yaml:2: listen.http_port: ",
	    "needs tls.cert"},
	{"listen:\n  http_port: -2\n", 0, "t.yaml:2: listen.http_port: ",
	    "-1"},
	{"listen:\n  port: 443\n  http_port: 443\ntls:\n  cert: /c\n"
	    "  key: /k\n", 0, "t.yaml:3: listen.http_port: ", "must differ"},
	{"tls:\n  client_ca: /ca.pem\n", 0, "t.yaml:2: tls.client_ca: ",
	    "needs tls.cert"},
	{"tls:\n  cert: /c\n  key: /k\n  client_auth: required\n", 0,
	    "t.yaml:4: tls.client_auth: ", "needs tls.client_ca"},
	{"tls:\n  client_auth: always\n", 0, "t.yaml:2: tls.client_auth: ",
	    "required"},
	{"tls:\n  client_id: email\n", 0, "t.yaml:2: tls.client_id: ",
	    "san-uri"},
	/* unknown keys */
	{"listen:\n  prot: 80\n", 0, "t.yaml:2: listen.prot: ", "unknown key"},
	{"port: 80\n", 0, "t.yaml:1: port: ", "unknown key"},
	{"log:\n  level: info\nfoo: 1\n", 0, "t.yaml:3: foo: ", "unknown key"},
	{"listen.port: 80\n", 0, "t.yaml:1: listen.port: ", "unknown key"},
	{"Listen:\n  port: 80\n", 0, "t.yaml:1: Listen: ", "unknown key"},
	{"listen:\n  \"po\\0rt\": 1\n", 0, "t.yaml:2: listen.po: ",
	    "unknown key"},
	{"\"a\\nb\": 1\n", 0, "t.yaml:1: a?b: ", "unknown key"},
	{"\"\": 1\n", 0, "t.yaml:1: \"\": ", "unknown key"},
	{"log:\n  '': 1\n", 0, "t.yaml:2: log.\"\": ", "unknown key"},
	{"device_auth:\n  proxy_cert:\n    x: 1\n", 0,
	    "t.yaml:3: device_auth.proxy_cert.x: ", "unknown key"},
	{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaa: 1\n", 0, "t.yaml:1: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaa...: ", "unknown key"},
	{"? [a]\n: 1\n", 0, "t.yaml:1: ", "expected a key, found a list"},
	{"log:\n  {a: 1}: 1\n", 0, "t.yaml:2: log: ",
	    "expected a key, found a mapping"},
	{"rauc:\n  signature: require\n", 0, "t.yaml:2: rauc.signature: ",
	    "needs rauc.keyring"},
	{"swupdate:\n  signature: require\n", 0,
	    "t.yaml:2: swupdate.signature: ", "needs swupdate.keyring"},
	{"rauc:\n  signature: maybe\n", 0, "t.yaml:2: rauc.signature: ",
	    "must be"},
	{"rauc:\n  compatible_pattern: '(?P<revision>.*)'\n", 0,
	    "t.yaml:2: rauc.compatible_pattern: ", "group named model"},
	{"rauc:\n  compatible_pattern: '(?P<model>[a-'\n", 0,
	    "t.yaml:2: rauc.compatible_pattern: ", "not a valid"},
	{"rauc:\n  compatible_pattern: '(?P<board>.*)'\n", 0,
	    "t.yaml:2: rauc.compatible_pattern: ", "model and revision"},
	/* wrong type */
	{"listen: 8080\n", 0, "t.yaml:1: listen: ",
	    "expected a mapping of keys, found a single value"},
	{"listen: [8080]\n", 0, "t.yaml:1: listen: ",
	    "expected a mapping of keys, found a list"},
	{"listen:\n  port: [1]\n", 0, "t.yaml:2: listen.port: ",
	    "expected an integer, found a list"},
	{"listen:\n  port:\n    a: 1\n", 0, "t.yaml:2: listen.port: ",
	    "expected an integer, found a mapping"},
	{"tenant: {a: b}\n", 0, "t.yaml:1: tenant: ",
	    "expected a string, found a mapping"},
	{"proxy:\n  trusted: 10.0.0.1\n", 0, "t.yaml:2: proxy.trusted: ",
	    "expected a list of addresses or networks, found a single value"},
	{"proxy:\n  trusted: [[10.0.0.1]]\n", 0, "t.yaml:2: proxy.trusted: ",
	    "entry 1 must be a single value"},
	{"proxy:\n  trusted:\n    - a: 1\n", 0, "t.yaml:3: proxy.trusted: ",
	    "entry 1 must be a single value"},
	{"device_auth:\n  proxy_cert:\n    trusted_issuers: abc\n", 0,
	    "t.yaml:3: device_auth.proxy_cert.trusted_issuers: ",
	    "expected a list of strings, found a single value"},
	{"log:\n  access: yes\n", 0, "t.yaml:2: log.access: ",
	    "must be true or false"},
	{"log:\n  access: True\n", 0, "t.yaml:2: log.access: ",
	    "must be true or false"},
	{"log:\n  access: 1\n", 0, "t.yaml:2: log.access: ",
	    "must be true or false"},
	{"log:\n  access:\n", 0, "t.yaml:2: log.access: ",
	    "must be true or false"},
	/* integers out of range or malformed */
	{"listen:\n  port: 65536\n", 0, "t.yaml:2: listen.port: ",
	    "must be an integer from 0 to 65535"},
	{"listen:\n  port: -1\n", 0, "t.yaml:2: listen.port: ", "from 0 to"},
	{"listen:\n  port: 80x\n", 0, "t.yaml:2: listen.port: ", "integer"},
	{"listen:\n  port: 0x50\n", 0, "t.yaml:2: listen.port: ", "integer"},
	{"listen:\n  port: +80\n", 0, "t.yaml:2: listen.port: ", "integer"},
	{"listen:\n  port: 8.0\n", 0, "t.yaml:2: listen.port: ", "integer"},
	{"listen:\n  port: \" 80\"\n", 0, "t.yaml:2: listen.port: ", "integer"},
	{"listen:\n  port:\n", 0, "t.yaml:2: listen.port: ", "integer"},
	{"listen:\n  port: 99999999999999999999999\n", 0,
	    "t.yaml:2: listen.port: ", "integer"},
	{"http:\n  threads: 65\n", 0, "t.yaml:2: http.threads: ",
	    "from 0 to 64"},
	{"http:\n  connection_limit: 15\n", 0,
	    "t.yaml:2: http.connection_limit: ", "from 16 to 1000000"},
	{"http:\n  connection_limit: 1000001\n", 0,
	    "t.yaml:2: http.connection_limit: ", "from 16 to 1000000"},
	{"http:\n  timeout: 4\n", 0, "t.yaml:2: http.timeout: ",
	    "from 5 to 3600"},
	{"http:\n  sse_per_user: 0\n", 0, "t.yaml:2: http.sse_per_user: ",
	    "from 1 to 256"},
	{"http:\n  sse_lifetime: \"00:00:04\"\n", 0,
	    "t.yaml:2: http.sse_lifetime: ", ""},
	{"audit:\n  max_age: 0\n", 0, "t.yaml:2: audit.max_age: ",
	    "from 1 to 36500"},
	{"audit:\n  max_rows: 999\n", 0, "t.yaml:2: audit.max_rows: ",
	    "from 1000 to 100000000"},
	{"http:\n  allowed_hosts: [\"ota.example.com:8080\"]\n", 0,
	    "t.yaml:2: http.allowed_hosts: ", "entry 1 must be *, a host name"},
	{"http:\n  allowed_hosts: [\"a b\"]\n", 0,
	    "t.yaml:2: http.allowed_hosts: ", "entry 1 must be"},
	{"http:\n  timeout: 3601\n", 0, "t.yaml:2: http.timeout: ",
	    "from 5 to 3600"},
	{"http:\n  per_ip_limit: -1\n", 0, "t.yaml:2: http.per_ip_limit: ",
	    "from 0 to 1000000"},
	{"http:\n  request_timeout: 0\n", 0,
	    "t.yaml:2: http.request_timeout: ", "from 1 to 3600"},
	{"http:\n  management_threads: 0\n", 0,
	    "t.yaml:2: http.management_threads: ", "from 1 to 16"},
	{"http:\n  management_threads: 17\n", 0,
	    "t.yaml:2: http.management_threads: ", "from 1 to 16"},
	{"http:\n  management_queue: 0\n", 0,
	    "t.yaml:2: http.management_queue: ", "from 1 to 100000"},
	{"updates:\n  max_running: 0\n", 0, "t.yaml:2: updates.max_running: ",
	    "from 1 to 1000000"},
	{"updates:\n  max_running: 1000001\n", 0,
	    "t.yaml:2: updates.max_running: ", "from 1 to 1000000"},
	/* sizes */
	{"upload:\n  max_size: 1023\n", 0, "t.yaml:2: upload.max_size: ",
	    "must be a size from 1K to 1T"},
	{"upload:\n  max_size: 2T\n", 0, "t.yaml:2: upload.max_size: ",
	    "from 1K to 1T"},
	{"upload:\n  max_size: 4X\n", 0, "t.yaml:2: upload.max_size: ",
	    "from 1K to 1T"},
	{"upload:\n  max_size: 1.5G\n", 0, "t.yaml:2: upload.max_size: ",
	    "size"},
	{"upload:\n  max_size: -1G\n", 0, "t.yaml:2: upload.max_size: ",
	    "size"},
	{"upload:\n  max_size: G\n", 0, "t.yaml:2: upload.max_size: ", "size"},
	{"upload:\n  max_size: 4 G\n", 0, "t.yaml:2: upload.max_size: ",
	    "size"},
	{"upload:\n  max_size: 99999999999999999999T\n", 0,
	    "t.yaml:2: upload.max_size: ", "size"},
	/* durations */
	{"poll:\n  interval: \"00:00:00\"\n", 0, "t.yaml:2: poll.interval: ",
	    "must be a duration \"HH:MM:SS\" from 00:00:01 to 23:59:59"},
	{"poll:\n  interval: \"24:00:00\"\n", 0, "t.yaml:2: poll.interval: ",
	    "HH:MM:SS"},
	{"poll:\n  interval: \"00:60:00\"\n", 0, "t.yaml:2: poll.interval: ",
	    "HH:MM:SS"},
	{"poll:\n  interval: \"00:00:60\"\n", 0, "t.yaml:2: poll.interval: ",
	    "HH:MM:SS"},
	{"poll:\n  interval: \"5:00\"\n", 0, "t.yaml:2: poll.interval: ",
	    "HH:MM:SS"},
	{"poll:\n  interval: 300\n", 0, "t.yaml:2: poll.interval: ",
	    "HH:MM:SS"},
	{"poll:\n  interval: \"00:05:00 \"\n", 0, "t.yaml:2: poll.interval: ",
	    "HH:MM:SS"},
	{"poll:\n  interval: PT5M\n", 0, "t.yaml:2: poll.interval: ",
	    "HH:MM:SS"},
	{"poll:\n  running_interval: \"0a:00:00\"\n", 0,
	    "t.yaml:2: poll.running_interval: ", "HH:MM:SS"},
	{"updates:\n  stale_timeout: \"00:00:59\"\n", 0,
	    "t.yaml:2: updates.stale_timeout: ", "from 00:01:00 to 23:59:59"},
	/* addresses and networks */
	{"listen:\n  address: 1.2.3\n", 0, "t.yaml:2: listen.address: ",
	    "is not an IPv4 or IPv6 address"},
	{"listen:\n  address: localhost\n", 0, "t.yaml:2: listen.address: ",
	    "is not an IPv4 or IPv6 address"},
	{"listen:\n  address: \"::1%lo\"\n", 0, "t.yaml:2: listen.address: ",
	    "is not an IPv4 or IPv6 address"},
	{"listen:\n  address: 010.0.0.1\n", 0, "t.yaml:2: listen.address: ",
	    "is not an IPv4 or IPv6 address"},
	{"listen:\n  address: \"\"\n", 0, "t.yaml:2: listen.address: ",
	    "must not be empty"},
	{"proxy:\n  trusted: [10.0.0.0/33]\n", 0, "t.yaml:2: proxy.trusted: ",
	    "entry 1 needs a prefix length from 0 to 32"},
	{"proxy:\n  trusted: [\"::/129\"]\n", 0, "t.yaml:2: proxy.trusted: ",
	    "entry 1 needs a prefix length from 0 to 128"},
	{"proxy:\n  trusted: [10.0.0.0/]\n", 0, "t.yaml:2: proxy.trusted: ",
	    "prefix length"},
	{"proxy:\n  trusted: [10.0.0.0/-1]\n", 0, "t.yaml:2: proxy.trusted: ",
	    "prefix length"},
	{"proxy:\n  trusted: [10.0.0.0/+8]\n", 0, "t.yaml:2: proxy.trusted: ",
	    "prefix length"},
	{"proxy:\n  trusted: [10.0.0.0/8/8]\n", 0, "t.yaml:2: proxy.trusted: ",
	    "prefix length"},
	{"proxy:\n  trusted: [/8]\n", 0, "t.yaml:2: proxy.trusted: ",
	    "entry 1 is not an IPv4 or IPv6 address"},
	{"proxy:\n  trusted:\n    - 10.0.0.1\n    - \"fe80::1%eth0\"\n", 0,
	    "t.yaml:4: proxy.trusted: ", "entry 2 is not an IPv4 or IPv6"},
	{"proxy:\n  trusted: [\"\"]\n", 0, "t.yaml:2: proxy.trusted: ",
	    "entry 1 is not an IPv4 or IPv6 address"},
	{"proxy:\n  trusted: [aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaa/8]\n", 0, "t.yaml:2: proxy.trusted: ",
	    "entry 1 is not an IPv4 or IPv6 address"},
	/* enums */
	{"device_auth:\n  mode: Open\n", 0, "t.yaml:2: device_auth.mode: ",
	    "must be open, token or tofu"},
	{"device_auth:\n  mode: \"\"\n", 0, "t.yaml:2: device_auth.mode: ",
	    "must be open, token or tofu"},
	{"device_auth:\n  mode: [open]\n", 0, "t.yaml:2: device_auth.mode: ",
	    "expected a name, found a list"},
	{"log:\n  level: verbose\n", 0, "t.yaml:2: log.level: ",
	    "must be error, warn, info or debug"},
	{"log:\n  level: 3\n", 0, "t.yaml:2: log.level: ",
	    "must be error, warn, info or debug"},
	/* string checks */
	{"public_url: ftp://x\n", 0, "t.yaml:1: public_url: ",
	    "must start with http:// or https://"},
	{"public_url: example.com\n", 0, "t.yaml:1: public_url: ",
	    "must start with http:// or https://"},
	{"public_url: http://\n", 0, "t.yaml:1: public_url: ",
	    "needs a host name"},
	{"public_url: https:///x\n", 0, "t.yaml:1: public_url: ",
	    "needs a host name"},
	{"public_url: https://x/\n", 0, "t.yaml:1: public_url: ",
	    "must not end with a slash"},
	{"public_url: https://x/?a=1\n", 0, "t.yaml:1: public_url: ",
	    "query"},
	{"public_url: https://x#f\n", 0, "t.yaml:1: public_url: ", "fragment"},
	{"public_url: https://x y\n", 0, "t.yaml:1: public_url: ",
	    "printable ASCII without spaces"},
	{"public_url: \"https://b\xc3\xa4r\"\n", 0, "t.yaml:1: public_url: ",
	    "printable ASCII without spaces"},
	{"tenant: a/b\n", 0, "t.yaml:1: tenant: ",
	    "may hold only letters, digits"},
	{"tenant: \"a b\"\n", 0, "t.yaml:1: tenant: ", "may hold only"},
	{"tenant: \"\"\n", 0, "t.yaml:1: tenant: ", "must not be empty"},
	{"tenant:\n", 0, "t.yaml:1: tenant: ", "must not be empty"},
	{"data_dir: ''\n", 0, "t.yaml:1: data_dir: ", "must not be empty"},
	{"device_auth:\n  gateway_token: short\n", 0,
	    "t.yaml:2: device_auth.gateway_token: ",
	    "must be empty or at least 16 characters"},
	{"device_auth:\n  gateway_token: \"0123456789 abcdef\"\n", 0,
	    "t.yaml:2: device_auth.gateway_token: ",
	    "printable ASCII without spaces"},
	{"device_auth:\n  gateway_token: \"0123456789abcdef\xc3\xa9\"\n", 0,
	    "t.yaml:2: device_auth.gateway_token: ",
	    "printable ASCII without spaces"},
	{"device_auth:\n  proxy_cert:\n    cn_header: X Controller\n", 0,
	    "t.yaml:3: device_auth.proxy_cert.cn_header: ",
	    "is not an HTTP header name"},
	{"device_auth:\n  proxy_cert:\n    issuer_header: \"X:Id\"\n", 0,
	    "t.yaml:3: device_auth.proxy_cert.issuer_header: ",
	    "is not an HTTP header name"},
	{"device_auth:\n  proxy_cert:\n    cn_header: \"\"\n", 0,
	    "t.yaml:3: device_auth.proxy_cert.cn_header: ", "must not be empty"},
	{"device_auth:\n  proxy_cert:\n    trusted_issuers: [a, \"\"]\n", 0,
	    "t.yaml:3: device_auth.proxy_cert.trusted_issuers: ",
	    "entry 2 must not be empty"},
	{"attributes:\n  hw_model: \"\"\n", 0, "t.yaml:2: attributes.hw_model: ",
	    "must not be empty"},
	/* rules across keys */
	{"device_auth:\n  proxy_cert:\n    enabled: true\n", 0,
	    "t.yaml:3: device_auth.proxy_cert.enabled: ",
	    "needs at least one entry in device_auth.proxy_cert.trusted_issuers"},
	{"device_auth:\n  proxy_cert:\n    enabled: true\n"
	    "    trusted_issuers: [abc]\n", 0,
	    "t.yaml:3: device_auth.proxy_cert.enabled: ",
	    "needs proxy.cert_trusted"},
	{"device_auth:\n  register_rate: 0\n", 0,
	    "t.yaml:2: device_auth.register_rate: ",
	    "must be an integer from 1 to 1000000"},
	{"device_auth:\n  register_rate: 1000001\n", 0,
	    "t.yaml:2: device_auth.register_rate: ", "from 1 to 1000000"},
	{"device_auth:\n  register_max: 0\n", 0,
	    "t.yaml:2: device_auth.register_max: ", "from 1 to 100000000"},
	{"device_auth:\n  register_max: 100000001\n", 0,
	    "t.yaml:2: device_auth.register_max: ", "from 1 to 100000000"},
	{"device_auth:\n  refused_max: 9\n", 0,
	    "t.yaml:2: device_auth.refused_max: ", "from 10 to 1000000"},
	{"device_auth:\n  register_feed: \"\"\n", 0,
	    "t.yaml:2: device_auth.register_feed: ", "must not be empty"},
	{"device_auth:\n  register_feed: \"new devices\"\n", 0,
	    "t.yaml:2: device_auth.register_feed: ",
	    "may hold only letters, digits"},
	{"device_auth:\n  register_feed: caf\xc3\xa9\n", 0,
	    "t.yaml:2: device_auth.register_feed: ", "may hold only"},
	{"proxy:\n  cert_trusted: [10.0.0.0/33]\n", 0,
	    "t.yaml:2: proxy.cert_trusted: ", "prefix length"},
	{"device_auth:\n  proxy_cert:\n    cn_header: X-A\n"
	    "    issuer_header: x-a\n", 0,
	    "t.yaml:4: device_auth.proxy_cert.issuer_header: ",
	    "must differ from device_auth.proxy_cert.cn_header"},
	{"device_auth:\n  proxy_cert:\n    cn_header: X-Authority\n", 0,
	    "t.yaml: device_auth.proxy_cert.issuer_header: ",
	    "must differ from"},
	/* duplicates */
	{"listen:\n  port: 1\n  port: 2\n", 0, "t.yaml:3: listen.port: ",
	    "duplicate key (first on line 2)"},
	{"log: {}\nlog: {}\n", 0, "t.yaml:2: log: ",
	    "duplicate key (first on line 1)"},
	{"tenant: a\n\"tenant\": b\n", 0, "t.yaml:2: tenant: ", "duplicate key"},
	/* anchors, aliases, tags */
	{"listen: &a\n  port: 1\npoll: *a\n", 0, "t.yaml:1: listen: ",
	    "anchors (&name) are not allowed"},
	{"listen:\n  port: *a\n", 0, "t.yaml:2: listen.port: ",
	    "aliases (*name) are not allowed"},
	{"listen:\n  port: &p 80\n", 0, "t.yaml:2: listen.port: ",
	    "anchors (&name) are not allowed"},
	{"proxy:\n  trusted: [&x 10.0.0.1]\n", 0, "t.yaml:2: proxy.trusted: ",
	    "anchors"},
	{"*a : 1\n", 0, "t.yaml:1: ", "aliases (*name) are not allowed"},
	{"&top\nlog: {}\n", 0, "t.yaml:1: ", "anchors"},
	{"listen:\n  port: !!int 80\n", 0, "t.yaml:2: listen.port: ",
	    "tags (!name) are not allowed"},
	{"!!map\nlog: {}\n", 0, "t.yaml:1: ", "tags"},
	/* document shape */
	{"log:\n  level: info\n---\nlog:\n  level: debug\n", 0, "t.yaml:3: ",
	    "only one YAML document is allowed"},
	{"---\n---\n", 0, "t.yaml:2: ", "only one YAML document"},
	{"- a\n- b\n", 0, "t.yaml:1: ",
	    "the top level must be a mapping of keys, not a list"},
	{"hello\n", 0, "t.yaml:1: ",
	    "the top level must be a mapping of keys, not a single value"},
	{"\"\"\n", 0, "t.yaml:1: ", "not a single value"},
	/* bytes */
	{"tenant: ab\xff\n", 0, "t.yaml:1: ", "invalid leading UTF-8 octet"},
	{"log:\n  level: info\ntenant: \xc3\n", 0, "t.yaml:3: ", "UTF-8"},
	{"tenant: a\0b\n", 12, "t.yaml:1: ", "control characters"},
	{"\xff\xfel\0o\0g\0:\0 \0{\0}\0", 16, "t.yaml:1: ", "UTF-8"},
	{"tenant: \"a\\0b\"\n", 0, "t.yaml:1: tenant: ",
	    "holds a NUL byte or invalid UTF-8"},
	{"data_dir: \"a\\tb\"\n", 0, "t.yaml:1: data_dir: ",
	    "holds a control character"},
	{"data_dir: \"a\\x7fb\"\n", 0, "t.yaml:1: data_dir: ",
	    "holds a control character"},
	{"data_dir: \"a\\x85b\"\n", 0, "t.yaml:1: data_dir: ",
	    "holds a control character"},
	{"device_auth:\n  proxy_cert:\n    trusted_issuers: [\"a\\rb\"]\n", 0,
	    "t.yaml:3: device_auth.proxy_cert.trusted_issuers: ",
	    "entry 1 holds a control character"},
	/* syntax */
	{"listen:\n  port: 1\n address: x\n", 0, "t.yaml:3: ",
	    "did not find expected key"},
	{"tenant: \"abc\n", 0, "t.yaml:", "unexpected end of stream"},
	{"listen:\n\tport: 1\n", 0, "t.yaml:2: ", "tab"},
	{"log: {level: info\n", 0, "t.yaml:", "flow"},
};
/* clang-format on */

static void
test_bad_values(void **state)
{
	struct settings def, s;
	char err[512];

	(void)state;
	settings_defaults(&def);
	for (size_t i = 0; i < NELEM(bad_rows); i++) {
		const struct bad_row *r = &bad_rows[i];

		if (load(r->yaml, r->len, &s, err, sizeof(err)) != -1)
			fail_msg("row %zu loaded: %s", i, r->yaml);
		if (strncmp(err, r->where, strlen(r->where)) != 0 ||
		    strstr(err, r->why) == NULL)
			fail_msg("row %zu: got \"%s\", want \"%s...%s\"", i,
			    err, r->where, r->why);
		/* A failed load changes nothing. */
		assert_settings_equal(&s, &def);
	}
}

/*
 * Strings at their longest load; one byte more fails.  The value is lead
 * padded with 'a' to the length.
 */
struct length_row {
	const char *before; /* YAML up to the value */
	const char *lead;
	size_t max;
	const char *where;
};

/* clang-format off */
static const struct length_row length_rows[] = {
	{"tenant: ", "", 63, "t.yaml:1: tenant: "},
	{"data_dir: ", "/", 1023, "t.yaml:1: data_dir: "},
	{"public_url: ", "https://", 511, "t.yaml:1: public_url: "},
	{"device_auth:\n  gateway_token: ", "", 255,
	    "t.yaml:2: device_auth.gateway_token: "},
	{"device_auth:\n  proxy_cert:\n    cn_header: ", "X-", 63,
	    "t.yaml:3: device_auth.proxy_cert.cn_header: "},
	{"device_auth:\n  proxy_cert:\n    issuer_header: ", "X-", 63,
	    "t.yaml:3: device_auth.proxy_cert.issuer_header: "},
	{"device_auth:\n  proxy_cert:\n    trusted_issuers:\n      - ", "", 127,
	    "t.yaml:4: device_auth.proxy_cert.trusted_issuers: "},
	{"device_auth:\n  register_feed: ", "", 64,
	    "t.yaml:2: device_auth.register_feed: "},
	{"attributes:\n  hw_model: ", "", 128, "t.yaml:2: attributes.hw_model: "},
	{"attributes:\n  hw_revision: ", "", 128,
	    "t.yaml:2: attributes.hw_revision: "},
	{"attributes:\n  sw_version: ", "", 128,
	    "t.yaml:2: attributes.sw_version: "},
};
/* clang-format on */

static void
test_lengths(void **state)
{
	char yaml[2048], err[512];
	struct settings s;

	(void)state;
	for (size_t i = 0; i < NELEM(length_rows); i++) {
		const struct length_row *r = &length_rows[i];

		for (size_t len = r->max; len <= r->max + 1; len++) {
			size_t n = (size_t)snprintf(
			    yaml, sizeof(yaml), "%s%s", r->before, r->lead);

			memset(yaml + n, 'a', len - strlen(r->lead));
			strcpy(yaml + n + len - strlen(r->lead), "\n");
			if (len == r->max &&
			    load(yaml, 0, &s, err, sizeof(err)) != 0)
				fail_msg("row %zu: %s", i, err);
			if (len == r->max)
				continue;
			assert_int_equal(
			    load(yaml, 0, &s, err, sizeof(err)), -1);
			if (strncmp(err, r->where, strlen(r->where)) != 0 ||
			    strstr(err, " long") == NULL)
				fail_msg("row %zu: %s", i, err);
		}
	}
	/* The padded values landed whole. */
	assert_int_equal(
	    load("tenant: abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz"
	         "abcdefghijk\n",
	        0, &s, err, sizeof(err)),
	    0);
	assert_int_equal(strlen(s.tenant), 63);
}

static void
test_lists(void **state)
{
	char yaml[4096], err[512];
	struct settings s;
	size_t n;

	(void)state;
	assert_int_equal(load("device_auth:\n  proxy_cert:\n    enabled: true\n"
	                      "    trusted_issuers: [a1b2, \"C3D4\"]\n"
	                      "proxy:\n  trusted:\n    - 10.1.2.3/8\n"
	                      "    - 192.168.1.1\n    - 2001:db8::1/32\n"
	                      "    - ::ffff:10.0.0.0/104\n    - 10.0.0.9/29\n"
	                      "    - \"::/0\"\n    - ::ffff:0:0/95\n",
	                     0, &s, err, sizeof(err)),
	    0);
	assert_true(s.cert_header_enabled);
	assert_int_equal(s.ncert_authorities, 2);
	assert_string_equal(s.cert_authorities[0], "a1b2");
	assert_string_equal(s.cert_authorities[1], "C3D4");
	assert_int_equal(s.nproxies, 7);
	assert_int_equal(s.proxies[0].family, AF_INET);
	assert_int_equal(s.proxies[0].prefix, 8);
	assert_memory_equal(s.proxies[0].addr, "\x0a\0\0\0", 4);
	assert_int_equal(s.proxies[1].prefix, 32);
	assert_memory_equal(s.proxies[1].addr, "\xc0\xa8\x01\x01", 4);
	assert_int_equal(s.proxies[2].family, AF_INET6);
	assert_int_equal(s.proxies[2].prefix, 32);
	assert_memory_equal(
	    s.proxies[2].addr, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\0", 16);
	/* An IPv4-mapped network is kept as the IPv4 network. */
	assert_int_equal(s.proxies[3].family, AF_INET);
	assert_int_equal(s.proxies[3].prefix, 8);
	assert_memory_equal(s.proxies[3].addr, "\x0a\0\0\0", 4);
	assert_int_equal(s.proxies[4].prefix, 29);
	assert_memory_equal(s.proxies[4].addr, "\x0a\0\0\x08", 4);
	assert_int_equal(s.proxies[5].family, AF_INET6);
	assert_int_equal(s.proxies[5].prefix, 0);
	assert_int_equal(s.proxies[6].family, AF_INET6);
	assert_int_equal(s.proxies[6].prefix, 95);

	/* A list in the file replaces the list already in *s. */
	assert_int_equal(
	    settings_load_mem(&s, "t.yaml", "proxy:\n  trusted: [127.0.0.1]\n",
	        29, err, sizeof(err)),
	    0);
	assert_int_equal(s.nproxies, 1);
	/* proxy.trusted stands in for the empty proxy.cert_trusted: the new
	 * list, not the first load's. */
	assert_true(s.cert_proxies_from_trusted);
	assert_int_equal(s.ncert_proxies, 1);
	assert_int_equal(settings_load_mem(&s, "t.yaml", "proxy:\n  trusted:\n",
	                     18, err, sizeof(err)),
	    -1); /* proxy_cert.enabled is still true from the first load */
	assert_string_equal(err, "t.yaml: device_auth.proxy_cert.enabled: "
	                         "needs proxy.cert_trusted, the proxy that "
	                         "checks the certificates");

	/* Exactly the maximum number of entries, then one more. */
	for (size_t extra = 0; extra <= 1; extra++) {
		n = (size_t)snprintf(
		    yaml, sizeof(yaml), "proxy:\n  trusted:\n");
		for (size_t i = 0; i < SETTINGS_MAX_PROXIES + extra; i++)
			n += (size_t)snprintf(yaml + n, sizeof(yaml) - n,
			    "    - 10.0.%zu.0/24\n", i);
		assert_int_equal(
		    load(yaml, 0, &s, err, sizeof(err)), extra ? -1 : 0);
		if (extra)
			assert_string_equal(err,
			    "t.yaml:35: proxy.trusted: entry 33 is one too "
			    "many (at most 32)");
		else
			assert_int_equal(s.nproxies, SETTINGS_MAX_PROXIES);
	}
	for (size_t extra = 0; extra <= 1; extra++) {
		n = (size_t)snprintf(yaml, sizeof(yaml),
		    "device_auth:\n  proxy_cert:\n    trusted_issuers:\n");
		for (size_t i = 0; i < SETTINGS_MAX_AUTHORITIES + extra; i++)
			n += (size_t)snprintf(yaml + n, sizeof(yaml) - n,
			    "      - issuer%zu\n", i);
		assert_int_equal(
		    load(yaml, 0, &s, err, sizeof(err)), extra ? -1 : 0);
		if (extra)
			assert_string_equal(err,
			    "t.yaml:20: device_auth.proxy_cert."
			    "trusted_issuers: entry 17 is one too many (at "
			    "most 16)");
		else
			assert_string_equal(s.cert_authorities[15], "issuer15");
	}
}

/* Fill ss with the IPv4 or IPv6 address a. */
static void
make_peer(const char *a, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (strchr(a, ':') != NULL) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, a, &sin6->sin6_addr), 1);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, a, &sin->sin_addr), 1);
	}
}

struct proxy_row {
	const char *nets; /* YAML flow list for proxy.trusted */
	const char *peer;
	bool trusted;
};

/* clang-format off */
static const struct proxy_row proxy_rows[] = {
	{"[]", "127.0.0.1", false},
	{"[10.0.0.0/8]", "10.1.2.3", true},
	{"[10.0.0.0/8]", "11.0.0.1", false},
	{"[10.0.0.0/8]", "::ffff:10.1.2.3", true},
	{"[10.0.0.0/8]", "::ffff:11.0.0.1", false},
	{"[10.0.0.0/8]", "::a01:203", false}, /* IPv4-compatible, not mapped */
	{"[127.0.0.1]", "127.0.0.1", true},
	{"[127.0.0.1]", "127.0.0.2", false},
	{"[127.0.0.1]", "::ffff:127.0.0.1", true},
	{"[127.0.0.1]", "::1", false},
	{"[\"::1\"]", "::1", true},
	{"[\"::1\"]", "127.0.0.1", false},
	{"[\"2001:db8::/32\"]", "2001:db8:1::1", true},
	{"[\"2001:db8::/32\"]", "2001:db9::1", false},
	{"[\"2001:db8::/32\"]", "10.0.0.1", false},
	{"[\"::ffff:192.168.0.0/112\"]", "192.168.5.5", true},
	{"[\"::ffff:192.168.0.0/112\"]", "::ffff:192.168.5.5", true},
	{"[\"::ffff:192.168.0.0/112\"]", "192.169.0.1", false},
	{"[0.0.0.0/0]", "1.2.3.4", true},
	{"[0.0.0.0/0]", "::1", false},
	{"[\"::/0\"]", "::1", true},
	{"[\"::/0\"]", "1.2.3.4", false},
	{"[\"::/0\"]", "::ffff:1.2.3.4", false},
	{"[10.0.0.8/29]", "10.0.0.15", true},
	{"[10.0.0.8/29]", "10.0.0.8", true},
	{"[10.0.0.8/29]", "10.0.0.16", false},
	{"[10.0.0.8/29]", "10.0.0.7", false},
	{"[10.0.0.9/29]", "10.0.0.12", true},
	{"[\"fe80::/10\"]", "febf::1", true},
	{"[\"fe80::/10\"]", "fec0::1", false},
	{"[1.1.1.1, \"::1\", 10.0.0.0/8]", "10.9.9.9", true},
};
/* clang-format on */

static void
test_trusted_proxy(void **state)
{
	struct sockaddr_storage ss;
	struct sockaddr_un sun;
	char yaml[256], err[512];
	struct settings s;

	(void)state;
	for (size_t i = 0; i < NELEM(proxy_rows); i++) {
		const struct proxy_row *r = &proxy_rows[i];

		snprintf(
		    yaml, sizeof(yaml), "proxy:\n  trusted: %s\n", r->nets);
		if (load(yaml, 0, &s, err, sizeof(err)) != 0)
			fail_msg("row %zu: %s", i, err);
		make_peer(r->peer, &ss);
		if (settings_is_trusted_proxy(&s, &ss) != r->trusted)
			fail_msg("row %zu: %s in %s", i, r->peer, r->nets);
	}
	assert_int_equal(load("proxy:\n  trusted: [0.0.0.0/0, \"::/0\"]\n", 0,
	                     &s, err, sizeof(err)),
	    0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	assert_false(settings_is_trusted_proxy(&s, &sun));
	assert_false(settings_is_trusted_proxy(&s, NULL));
	assert_false(settings_is_trusted_proxy(NULL, &sun));
}

/*
 * proxy.cert_trusted: its own list; with proxy_cert on and the list empty,
 * proxy.trusted stands in (and the load says so); never the other way.
 */
static void
test_cert_proxy(void **state)
{
	static const char on[] = "device_auth:\n  proxy_cert:\n    enabled: "
	                         "true\n    trusted_issuers: [abc]\n";
	struct sockaddr_storage lb, tls;
	char yaml[512], err[512];
	struct settings s;

	(void)state;
	make_peer("10.0.0.1", &lb);
	make_peer("10.0.0.2", &tls);
	/* A load balancer for X-Forwarded-For and a TLS proxy, each apart. */
	snprintf(yaml, sizeof(yaml),
	    "%sproxy:\n  trusted: [10.0.0.1]\n  cert_trusted: [10.0.0.2]\n",
	    on);
	if (load(yaml, 0, &s, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_true(settings_is_trusted_proxy(&s, &lb));
	assert_false(settings_is_cert_proxy(&s, &lb));
	assert_true(settings_is_cert_proxy(&s, &tls));
	assert_false(settings_is_trusted_proxy(&s, &tls));
	assert_false(s.cert_proxies_from_trusted);
	/* Today's settings: proxy.trusted alone stands in, flagged. */
	snprintf(
	    yaml, sizeof(yaml), "%sproxy:\n  trusted: [10.0.0.0/30]\n", on);
	if (load(yaml, 0, &s, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_true(s.cert_proxies_from_trusted);
	assert_int_equal(s.ncert_proxies, 1);
	assert_true(settings_is_cert_proxy(&s, &lb));
	assert_true(settings_is_cert_proxy(&s, &tls));
	/* ... and a later load that lists cert_trusted drops the copy. */
	snprintf(yaml, sizeof(yaml), "proxy:\n  cert_trusted: [10.0.0.2]\n");
	assert_int_equal(settings_load_mem(&s, "t2.yaml", yaml, strlen(yaml),
	                     err, sizeof(err)),
	    0);
	assert_false(s.cert_proxies_from_trusted);
	assert_false(settings_is_cert_proxy(&s, &lb));
	assert_true(settings_is_cert_proxy(&s, &tls));
	/* Without proxy_cert, proxy.trusted never stands in. */
	assert_int_equal(
	    load("proxy:\n  trusted: [10.0.0.1]\n", 0, &s, err, sizeof(err)),
	    0);
	assert_false(s.cert_proxies_from_trusted);
	assert_false(settings_is_cert_proxy(&s, &lb));
	/* cert_trusted alone is enough for proxy_cert. */
	snprintf(
	    yaml, sizeof(yaml), "%sproxy:\n  cert_trusted: [\"::1\"]\n", on);
	if (load(yaml, 0, &s, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(s.nproxies, 0);
	assert_false(settings_is_cert_proxy(&s, &lb));
	assert_false(settings_is_cert_proxy(NULL, &lb));
	assert_false(settings_is_cert_proxy(&s, NULL));
}

static void
test_auth_mode_str(void **state)
{
	(void)state;
	assert_string_equal(settings_auth_mode_str(DEVICE_AUTH_OPEN), "open");
	assert_string_equal(settings_auth_mode_str(DEVICE_AUTH_TOKEN), "token");
	assert_string_equal(settings_auth_mode_str(DEVICE_AUTH_TOFU), "tofu");
	assert_string_equal(
	    settings_auth_mode_str((enum device_auth_mode)7), "unknown");
}

static void
test_files(void **state)
{
	char err[512];
	struct settings def, s;

	(void)state;
	settings_defaults(&def);
	settings_defaults(&s);
	assert_int_equal(
	    settings_load(&s, DATA_DIR "/no-such-file.yaml", err, sizeof(err)),
	    -1);
	assert_string_equal(err, DATA_DIR "/no-such-file.yaml: cannot open: "
	                                  "No such file or directory");
	assert_int_equal(settings_load(&s, DATA_DIR, err, sizeof(err)), -1);
	assert_string_equal(err, DATA_DIR ": not a regular file");
	assert_settings_equal(&s, &def);

	/* Errors are cut to fit, and no buffer is fine too. */
	assert_int_equal(load("x: 1\n", 0, &s, err, 8), -1);
	assert_string_equal(err, "t.yaml:");
	assert_int_equal(load("x: 1\n", 0, &s, NULL, 0), -1);
	assert_int_equal(load("", 0, &s, NULL, 0), 0);
	assert_int_equal(settings_load_mem(&s, NULL, "x: 1", 4, err, 64), -1);
	assert_string_equal(err, "settings:1: x: unknown key");
	assert_int_equal(settings_load_mem(&s, "t", NULL, 0, err, 64), 0);
}

static void
test_file_too_large(void **state)
{
	size_t len = 1024 * 1024 + 1;
	char *yaml = xmalloc(len), err[512];
	struct settings s;

	(void)state;
	memset(yaml, '#', len);
	assert_int_equal(load(yaml, len, &s, err, sizeof(err)), -1);
	assert_string_equal(err, "t.yaml: larger than 1048576 bytes");
	free(yaml);
}

/* good-full.yaml changes every key; check each landed. */
static void
test_good_full(void **state)
{
	struct settings s;
	char err[512];

	(void)state;
	settings_defaults(&s);
	if (settings_load(&s, DATA_DIR "/good-full.yaml", err, sizeof(err)))
		fail_msg("%s", err);
	assert_string_equal(s.listen_address, "::1");
	assert_int_equal(s.listen_port, 18080);
	assert_string_equal(s.public_url, "https://ota.example.com/falconet");
	assert_string_equal(s.data_dir, "/var/lib/falconet");
	assert_string_equal(s.tenant, "acme-prod");
	assert_int_equal(s.poll_interval, 900);
	assert_int_equal(s.poll_interval_running, 10);
	assert_int_equal(s.device_auth, DEVICE_AUTH_TOKEN);
	assert_string_equal(
	    s.gateway_token, "0123456789abcdef0123456789abcdef");
	assert_true(s.cert_header_enabled);
	assert_string_equal(s.cert_cn_header, "X-Ssl-Client-Cn");
	assert_string_equal(s.cert_issuer_header, "X-Ssl-Issuer-Hash-1");
	assert_int_equal(s.ncert_authorities, 2);
	assert_string_equal(s.cert_authorities[0], "5a4c1e2f");
	assert_string_equal(s.cert_authorities[1], "B0D1E2F3");
	assert_string_equal(s.attr_hw_model, "board");
	assert_string_equal(s.attr_hw_revision, "revision");
	assert_string_equal(s.attr_sw_version, "VERSION_ID");
	assert_int_equal(s.upload_max_size, 512ULL << 20);
	assert_int_equal(s.max_running, 25);
	assert_int_equal(s.stale_timeout, 9000);
	assert_int_equal(s.nproxies, 3);
	assert_int_equal(s.proxies[2].family, AF_INET6);
	assert_int_equal(s.proxies[2].prefix, 8);
	assert_int_equal(s.ncert_proxies, 1);
	assert_int_equal(s.cert_proxies[0].prefix, 32);
	assert_false(s.cert_proxies_from_trusted);
	assert_int_equal(s.register_rate, 50);
	assert_int_equal(s.register_max, 2000);
	assert_string_equal(s.register_feed, "quarantine");
	assert_int_equal(s.http_threads, 4);
	assert_int_equal(s.http_connection_limit, 1024);
	assert_int_equal(s.http_timeout, 30);
	assert_int_equal(s.nallowed_hosts, 4);
	assert_string_equal(s.allowed_hosts[0], "ota.example.com");
	assert_string_equal(s.allowed_hosts[1], "*.lan");
	assert_string_equal(s.allowed_hosts[2], "[fd00::1]");
	assert_string_equal(s.allowed_hosts[3], "10.1.2.3");
	assert_int_equal(s.sse_per_user, 2);
	assert_int_equal(s.sse_lifetime, 120);
	assert_int_equal(s.log_level, 3);
	assert_false(s.log_access);
	assert_int_equal(s.audit_max_age, 30);
	assert_int_equal(s.audit_max_rows, 50000);
}

/*
 * Every fixture in tests/data/settings: good-*.yaml loads, bad-*.yaml fails
 * on the line its first line names ("# line N: ...").
 */
static void
test_data_files(void **state)
{
	char path[512], first[256], err[512], want[600];
	size_t ngood = 0, nbad = 0;
	struct settings s;
	struct dirent *de;
	DIR *d;
	FILE *f;
	int line;

	(void)state;
	assert_non_null(d = opendir(DATA_DIR));
	while ((de = readdir(d)) != NULL) {
		const char *name = de->d_name;
		size_t len = strlen(name);

		if (len < 5 || strcmp(name + len - 5, ".yaml") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", DATA_DIR, name);
		settings_defaults(&s);
		if (strncmp(name, "good-", 5) == 0) {
			if (settings_load(&s, path, err, sizeof(err)) != 0)
				fail_msg("%s", err);
			ngood++;
		} else if (strncmp(name, "bad-", 4) == 0) {
			assert_non_null(f = fopen(path, "r"));
			if (fgets(first, sizeof(first), f) == NULL ||
			    sscanf(first, "# line %d", &line) != 1)
				fail_msg("%s: first line must be "
				         "\"# line N: ...\"",
				    path);
			fclose(f);
			if (settings_load(&s, path, err, sizeof(err)) != -1)
				fail_msg("%s loaded", path);
			snprintf(want, sizeof(want), "%s:%d: ", path, line);
			if (strncmp(err, want, strlen(want)) != 0)
				fail_msg("%s: got \"%s\"", path, err);
			nbad++;
		} else
			fail_msg("%s: name must start good- or bad-", path);
	}
	closedir(d);
	assert_true(ngood >= 3);
	assert_true(nbad >= 10);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_shipped_file),
	    cmocka_unit_test(test_good_values),
	    cmocka_unit_test(test_bad_values),
	    cmocka_unit_test(test_lengths),
	    cmocka_unit_test(test_lists),
	    cmocka_unit_test(test_trusted_proxy),
	    cmocka_unit_test(test_cert_proxy),
	    cmocka_unit_test(test_auth_mode_str),
	    cmocka_unit_test(test_files),
	    cmocka_unit_test(test_file_too_large),
	    cmocka_unit_test(test_good_full),
	    cmocka_unit_test(test_data_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
