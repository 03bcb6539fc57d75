/*
 * libFuzzer target for settings_load_mem: any bytes must either load into
 * a settings struct that keeps its invariants or fail with a message.
 */
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "settings.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* True if a char array holds a NUL-terminated string. */
#define TERMINATED(a) (memchr((a), '\0', sizeof(a)) != NULL)

static void
check(const struct settings *s)
{
	struct sockaddr_in6 sin6;
	struct sockaddr_in sin;

	if (!TERMINATED(s->listen_address) || !TERMINATED(s->public_url) ||
	    !TERMINATED(s->data_dir) || !TERMINATED(s->tenant) ||
	    !TERMINATED(s->gateway_token) || !TERMINATED(s->cert_cn_header) ||
	    !TERMINATED(s->cert_issuer_header) ||
	    !TERMINATED(s->attr_hw_model) || !TERMINATED(s->attr_hw_revision) ||
	    !TERMINATED(s->attr_sw_version))
		abort();
	if (s->ncert_authorities > SETTINGS_MAX_AUTHORITIES ||
	    s->nproxies > SETTINGS_MAX_PROXIES)
		abort();
	for (size_t i = 0; i < s->ncert_authorities; i++)
		if (!TERMINATED(s->cert_authorities[i]) ||
		    s->cert_authorities[i][0] == '\0')
			abort();
	for (size_t i = 0; i < s->nproxies; i++)
		if ((s->proxies[i].family != AF_INET ||
		        s->proxies[i].prefix > 32) &&
		    (s->proxies[i].family != AF_INET6 ||
		        s->proxies[i].prefix > 128))
			abort();
	if (s->listen_port < 0 || s->listen_port > 65535 ||
	    s->poll_interval < 1 || s->poll_interval > 86399 ||
	    s->log_level < 0 || s->log_level > 3 ||
	    (s->cert_header_enabled && s->ncert_authorities == 0))
		abort();
	if (settings_auth_mode_str(s->device_auth)[0] == 'u')
		abort();

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(0x0a000001);
	(void)settings_is_trusted_proxy(s, &sin);
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_addr.s6_addr[15] = 1;
	(void)settings_is_trusted_proxy(s, &sin6);
	sin6.sin6_addr.s6_addr[10] = sin6.sin6_addr.s6_addr[11] = 0xff;
	(void)settings_is_trusted_proxy(s, &sin6);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct settings s;
	char err[256];

	settings_defaults(&s);
	if (settings_load_mem(
	        &s, "fuzz", (const char *)data, size, err, sizeof(err)) == 0)
		check(&s);
	else if (strncmp(err, "fuzz", 4) != 0)
		abort(); /* every failure says what went wrong */
	return 0;
}
