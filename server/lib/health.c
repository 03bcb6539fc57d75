/*
 * A minimal HTTP/1.1 client for one request: the status line of GET
 * /healthz decides, the body is not read.  Every step waits on one
 * deadline, so a server that accepts and never answers costs timeout_ms.
 * With tls.cert set, listen.port speaks HTTPS: the probe goes to the plain
 * listener (listen.http_port) when there is one, else over TLS on GnuTLS
 * (the certificate is not checked: this asks the server on this host
 * whether it answers, it sends nothing secret).
 */
#include "health.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "settings.h"

#define HEALTH_ANSWER_MAX 512 /* enough for a status line */

/* Milliseconds on a clock that no date change moves. */
static int64_t
health_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for `events` on fd until the deadline: 0 ready, -1 timed out. */
static int
health_wait(int fd, short events, int64_t deadline)
{
	struct pollfd p = {.fd = fd, .events = events};
	int64_t left;
	int n;

	for (;;) {
		if ((left = deadline - health_now_ms()) <= 0)
			return -1;
		n = poll(&p, 1, left > 60000 ? 60000 : (int)left);
		if (n > 0)
			return 0;
		if (n == -1 && errno != EINTR)
			return -1;
	}
}

/* Fill ss with the address to probe, a wildcard one made loopback. */
static int
health_addr(const struct settings *s, int port, struct sockaddr_storage *ss,
    socklen_t *sslen, char *err, size_t errlen)
{
	const char *host = s->listen_address;
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (port <= 0 || port > 65535) {
		snprintf(err, errlen,
		    "listen.port is %d: no fixed port to probe", port);
		return -1;
	}
	if (strcmp(host, "0.0.0.0") == 0)
		host = "127.0.0.1";
	else if (strcmp(host, "::") == 0)
		host = "::1";
	if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		*sslen = sizeof(*in);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		*sslen = sizeof(*in6);
		return 0;
	}
	snprintf(err, errlen, "listen.address %s is not an IP address", host);
	return -1;
}

/*
 * The connection the probe speaks on: the socket, and a TLS session over it
 * when tls is set.  health_io sends src or receives into dst (the other
 * NULL) and returns what send/recv would, -1 with errno EAGAIN when it
 * must wait for *events.
 */
struct health_conn {
	int fd;
	gnutls_session_t tls;
	gnutls_certificate_credentials_t cred;
};

static ssize_t
health_io(struct health_conn *c, const void *src, void *dst, size_t len,
    short *events, char *err, size_t errlen)
{
	bool out = src != NULL;
	ssize_t n;

	*events = out ? POLLOUT : POLLIN;
	if (c->tls == NULL) {
		n = out ? send(c->fd, src, len, MSG_NOSIGNAL)
		        : recv(c->fd, dst, len, 0);
		if (n == -1 && errno != EAGAIN && errno != EINTR)
			snprintf(err, errlen, "%s: %s", out ? "send" : "recv",
			    strerror(errno));
		else if (n == -1)
			errno = EAGAIN;
		return n;
	}
	n = out ? gnutls_record_send(c->tls, src, len)
	        : gnutls_record_recv(c->tls, dst, len);
	if (n >= 0)
		return n;
	if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
		*events =
		    gnutls_record_get_direction(c->tls) ? POLLOUT : POLLIN;
		errno = EAGAIN;
		return -1;
	}
	if (!out && n == GNUTLS_E_PREMATURE_TERMINATION)
		return 0;
	snprintf(err, errlen, "TLS %s: %s", out ? "send" : "recv",
	    gnutls_strerror((int)n));
	errno = EIO;
	return -1;
}

/* A TLS handshake on c->fd within the deadline; 0 or -1 (err set). */
static int
health_tls(struct health_conn *c, int64_t deadline, char *err, size_t errlen)
{
	int rc;

	if (gnutls_certificate_allocate_credentials(&c->cred) < 0 ||
	    gnutls_init(&c->tls, GNUTLS_CLIENT | GNUTLS_NONBLOCK) < 0 ||
	    gnutls_set_default_priority(c->tls) < 0 ||
	    gnutls_credentials_set(c->tls, GNUTLS_CRD_CERTIFICATE, c->cred) <
	        0) {
		snprintf(err, errlen, "TLS: cannot set up a session");
		return -1;
	}
	gnutls_transport_set_int(c->tls, c->fd);
	while ((rc = gnutls_handshake(c->tls)) < 0) {
		if (gnutls_error_is_fatal(rc)) {
			snprintf(err, errlen, "TLS handshake: %s",
			    gnutls_strerror(rc));
			return -1;
		}
		if (health_wait(c->fd,
		        gnutls_record_get_direction(c->tls) ? POLLOUT : POLLIN,
		        deadline) == -1) {
			snprintf(err, errlen, "TLS handshake: timed out");
			return -1;
		}
	}
	return 0;
}

int
health_probe(const struct settings *s, int timeout_ms, char *err, size_t errlen)
{
	static const char request[] = "GET /healthz HTTP/1.1\r\n"
	                              "Host: localhost\r\n"
	                              "Connection: close\r\n\r\n";
	int64_t deadline = health_now_ms() + timeout_ms;
	char answer[HEALTH_ANSWER_MAX + 1];
	struct sockaddr_storage ss;
	socklen_t sslen = 0, elen;
	size_t sent = 0, got = 0;
	struct health_conn c = {.fd = -1};
	bool tls = s->tls_cert[0] != '\0' && s->listen_http_port <= 0;
	int port = s->tls_cert[0] != '\0' && s->listen_http_port > 0
	               ? s->listen_http_port
	               : s->listen_port;
	int fd = -1, rc = -1, soerr, status;
	short events;
	ssize_t n;

	if (health_addr(s, port, &ss, &sslen, err, errlen) == -1)
		return -1;
	fd =
	    socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		goto done;
	}
	if (connect(fd, (struct sockaddr *)&ss, sslen) == -1) {
		if (errno != EINPROGRESS) {
			snprintf(err, errlen, "connect: %s", strerror(errno));
			goto done;
		}
		elen = sizeof(soerr);
		if (health_wait(fd, POLLOUT, deadline) == -1) {
			snprintf(err, errlen, "connect: timed out");
			goto done;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &elen) == -1 ||
		    soerr != 0) {
			snprintf(err, errlen, "connect: %s",
			    strerror(soerr ? soerr : errno));
			goto done;
		}
	}
	c.fd = fd;
	if (tls && health_tls(&c, deadline, err, errlen) == -1)
		goto done;
	events = POLLOUT;
	while (sent < sizeof(request) - 1) {
		if (health_wait(fd, events, deadline) == -1) {
			snprintf(err, errlen, "send: timed out");
			goto done;
		}
		n = health_io(&c, request + sent, NULL,
		    sizeof(request) - 1 - sent, &events, err, errlen);
		if (n == -1 && errno != EAGAIN)
			goto done;
		if (n > 0)
			sent += (size_t)n;
	}
	/* Read until the status line is complete, the peer closes or the
	 * buffer is full. */
	events = POLLIN;
	while (got < HEALTH_ANSWER_MAX) {
		answer[got] = '\0';
		if (memchr(answer, '\n', got) != NULL)
			break;
		/* TLS may hold decrypted bytes the socket no longer shows. */
		if ((c.tls == NULL ||
		        gnutls_record_check_pending(c.tls) == 0) &&
		    health_wait(fd, events, deadline) == -1) {
			snprintf(
			    err, errlen, "no answer within %d ms", timeout_ms);
			goto done;
		}
		n = health_io(&c, NULL, answer + got, HEALTH_ANSWER_MAX - got,
		    &events, err, errlen);
		if (n == 0)
			break;
		if (n == -1) {
			if (errno == EAGAIN)
				continue;
			goto done;
		}
		got += (size_t)n;
	}
	answer[got] = '\0';
	answer[strcspn(answer, "\r\n")] = '\0';
	if (sscanf(answer, "HTTP/1.%*1[01] %3d", &status) != 1 ||
	    strlen(answer) < 12) {
		snprintf(err, errlen, "not an HTTP answer");
		goto done;
	}
	if (status != 200) {
		snprintf(err, errlen, "/healthz answered %.64s", answer + 9);
		goto done;
	}
	rc = 0;
done:
	if (c.tls != NULL)
		gnutls_deinit(c.tls);
	if (c.cred != NULL)
		gnutls_certificate_free_credentials(c.cred);
	if (fd != -1)
		close(fd);
	return rc;
}
