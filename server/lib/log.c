/*
 * The daemon's log: one line per event on stderr ("time level message") or
 * to syslog.  The level is set once at start-up; the functions are safe to
 * call from any thread (each line is written with one call).  Messages
 * carry what clients send (controller ids, user names, URLs), so each is
 * escaped as it is written: no client text can end a line, start a forged
 * one or reach a terminal as an escape sequence.
 */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "util.h"

#define LOG_MSG_MAX 4096 /* bytes of one formatted message */

static enum log_level log_level = LOG_LVL_INFO;
static bool log_syslog;

void
log_init(enum log_level level, bool use_syslog)
{
	log_level = level;
	log_syslog = use_syslog;
	if (use_syslog)
		openlog("falconet", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
log_set_level(enum log_level level)
{
	log_level = level;
}

bool
log_enabled(enum log_level level)
{
	return level <= log_level;
}

/*
 * Must code point cp be escaped?  log_escape handles C0 controls and DEL
 * itself; these are the C1 controls, the line and paragraph separators,
 * and the bidirectional controls that reorder what a terminal shows.
 */
static bool
log_escape_cp(uint32_t cp)
{
	return (cp >= 0x80 && cp <= 0x9f) || cp == 0x200e || cp == 0x200f ||
	       cp == 0x2028 || cp == 0x2029 || (cp >= 0x202a && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069);
}

size_t
log_escape(char *out, size_t outlen, const char *in)
{
	static const char hex[] = "0123456789abcdef";
	size_t len = strlen(in), i = 0, o = 0, n;
	unsigned char c;
	uint32_t cp;
	bool esc;

	if (outlen == 0)
		return 0;
	while (i < len) {
		c = (unsigned char)in[i];
		if (c < 0x80) {
			n = 1;
			esc = c < 0x20 || c == 0x7f || c == '\\';
		} else if ((n = utf8_char(in + i, len - i, &cp)) == 0) {
			n = 1; /* not UTF-8: this byte alone */
			esc = true;
		} else
			esc = log_escape_cp(cp);
		if (o + (esc ? 4 * n : n) >= outlen)
			break; /* never half an escape or a character */
		for (size_t k = 0; k < n; k++, i++) {
			if (!esc) {
				out[o++] = in[i];
				continue;
			}
			c = (unsigned char)in[i];
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
	return o;
}

static void log_vwrite(enum log_level, const char *, const char *, va_list)
    __attribute__((format(printf, 3, 0)));

static void
log_vwrite(
    enum log_level level, const char *errstr, const char *fmt, va_list ap)
{
	static const char *names[] = {"error", "warn", "info", "debug"};
	static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
	char msg[LOG_MSG_MAX], line[4 * LOG_MSG_MAX], stamp[32];
	struct timespec ts;
	struct tm tm;

	if (level > log_level)
		return;
	utf8_vsnprintf(msg, sizeof(msg), fmt, ap);
	log_escape(line, sizeof(line), msg);
	if (log_syslog) {
		if (errstr)
			syslog(prio[level], "%s: %s", line, errstr);
		else
			syslog(prio[level], "%s", line);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	if (errstr)
		fprintf(stderr, "%s.%03ldZ %s %s: %s\n", stamp,
		    ts.tv_nsec / 1000000, names[level], line, errstr);
	else
		fprintf(stderr, "%s.%03ldZ %s %s\n", stamp,
		    ts.tv_nsec / 1000000, names[level], line);
}

void
log_warn(const char *fmt, ...)
{
	const char *e = strerror(errno);
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LVL_WARN, e, fmt, ap);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LVL_WARN, NULL, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LVL_INFO, NULL, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LVL_DEBUG, NULL, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	const char *e = strerror(errno);
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LVL_ERROR, e, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LVL_ERROR, NULL, fmt, ap);
	va_end(ap);
	exit(1);
}
