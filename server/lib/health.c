/*
 * A minimal HTTP/1.1 client for one request: the status line of GET
 * /healthz decides, the body is not read.  Every step waits on one
 * deadline, so a server that accepts and never answers costs timeout_ms.
 */
#include "health.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
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
health_addr(const struct settings *s, struct sockaddr_storage *ss,
    socklen_t *sslen, char *err, size_t errlen)
{
	const char *host = s->listen_address;
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (s->listen_port <= 0 || s->listen_port > 65535) {
		snprintf(err, errlen,
		    "listen.port is %d: no fixed port to probe",
		    s->listen_port);
		return -1;
	}
	if (strcmp(host, "0.0.0.0") == 0)
		host = "127.0.0.1";
	else if (strcmp(host, "::") == 0)
		host = "::1";
	if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)s->listen_port);
		*sslen = sizeof(*in);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)s->listen_port);
		*sslen = sizeof(*in6);
		return 0;
	}
	snprintf(err, errlen, "listen.address %s is not an IP address", host);
	return -1;
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
	int fd = -1, rc = -1, soerr, status;
	ssize_t n;

	if (health_addr(s, &ss, &sslen, err, errlen) == -1)
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
	while (sent < sizeof(request) - 1) {
		if (health_wait(fd, POLLOUT, deadline) == -1) {
			snprintf(err, errlen, "send: timed out");
			goto done;
		}
		n = send(fd, request + sent, sizeof(request) - 1 - sent,
		    MSG_NOSIGNAL);
		if (n == -1 && errno != EAGAIN && errno != EINTR) {
			snprintf(err, errlen, "send: %s", strerror(errno));
			goto done;
		}
		if (n > 0)
			sent += (size_t)n;
	}
	/* Read until the status line is complete, the peer closes or the
	 * buffer is full. */
	while (got < HEALTH_ANSWER_MAX) {
		answer[got] = '\0';
		if (memchr(answer, '\n', got) != NULL)
			break;
		if (health_wait(fd, POLLIN, deadline) == -1) {
			snprintf(
			    err, errlen, "no answer within %d ms", timeout_ms);
			goto done;
		}
		n = recv(fd, answer + got, HEALTH_ANSWER_MAX - got, 0);
		if (n == 0)
			break;
		if (n == -1) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			snprintf(err, errlen, "recv: %s", strerror(errno));
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
	if (fd != -1)
		close(fd);
	return rc;
}
