/*
 * Logging: stderr with time and level in the foreground, syslog when asked.
 * log_warn appends strerror(errno); log_warnx does not.  fatal and fatalx
 * log and exit 1.  Never pass tokens, passwords or session ids to these.
 * Every message is escaped with log_escape as it is written, so callers
 * may pass client text as it came; a message is one line.
 */
#ifndef LOG_H
#define LOG_H

#include <stdbool.h>
#include <stddef.h>

enum log_level { LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

void log_init(enum log_level level, bool use_syslog);
void log_set_level(enum log_level level);
bool log_enabled(enum log_level level);
void log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));

/*
 * Copy in to out (outlen bytes, NUL included), writing as \xNN each byte
 * of: C0 controls (\n, \r, ESC...), DEL, C1 controls (U+0080..U+009F),
 * the line and paragraph separators (U+2028, U+2029), the bidirectional
 * controls (U+200E, U+200F, U+202A..U+202E, U+2066..U+2069), anything that
 * is not UTF-8, and the backslash itself, so that the line reads back
 * unambiguously.  What does not fit is dropped, never half an escape or a
 * character.  Returns the length written.
 */
size_t log_escape(char *out, size_t outlen, const char *in);

#endif
