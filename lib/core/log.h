/* log.h: logging. Every line carries process name, pid and (where there is
 * one) a session id. Children write lines to stderr, which is a pipe to the
 * master; the master stamps and forwards them to syslog or log_path. Messages
 * are sanitised (control characters replaced, length capped) before output. */
#ifndef LOFT_LOG_H
#define LOFT_LOG_H

#include <stddef.h>
#include <syslog.h>

enum log_dest {
	LOG_DEST_PIPE,   /* child: "<prio>name[pid]: text\n" on fd 2 to the master */
	LOG_DEST_FILE,   /* master: append to log_path with a timestamp */
	LOG_DEST_SYSLOG, /* master: syslog(3) */
	LOG_DEST_STDERR, /* master in the foreground with log_path = - */
};

#define LOG_LINE_MAX 2048

struct loft_log {
	char name[32];
	enum log_dest dest;
	int fd;       /* FILE / PIPE / STDERR destination */
	int min_prio; /* LOG_DEBUG .. LOG_ERR: drop lines less urgent than this */
};

/* Child side: name is the process name, e.g. "imap-login". */
void log_open_pipe(struct loft_log *lg, const char *name, int min_prio);
/* Master side: log_path "syslog" (or empty) -> syslog with facility;
 * "-" -> stderr; anything else -> that file (opened O_APPEND). 0 or -1. */
int log_open_master(struct loft_log *lg, const char *name, const char *log_path,
                    const char *facility, int min_prio);
void log_close(struct loft_log *lg);
/* Parse "debug", "info", "notice", "warning", "error" -> syslog priority, or -1. */
int log_prio_parse(const char *s);
/* Parse a syslog facility name ("mail", "local0".."local7", ...) -> LOG_*, or -1. */
int log_facility_parse(const char *s);

void log_msg(const struct loft_log *lg, int prio, const char *session, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define log_error(lg, ...)   log_msg((lg), LOG_ERR, NULL, __VA_ARGS__)
#define log_warning(lg, ...) log_msg((lg), LOG_WARNING, NULL, __VA_ARGS__)
#define log_notice(lg, ...)  log_msg((lg), LOG_NOTICE, NULL, __VA_ARGS__)
#define log_info(lg, ...)    log_msg((lg), LOG_INFO, NULL, __VA_ARGS__)
#define log_debug(lg, ...)   log_msg((lg), LOG_DEBUG, NULL, __VA_ARGS__)

/* Master: one line read from a child's pipe (without its LF). Lines not in
 * the "<prio>" form are logged at LOG_ERR as the child's raw output. */
void log_forward_line(const struct loft_log *lg, const char *line, size_t len);

/* Pure: copy src into dst (size dstlen, always NUL-terminated), replacing
 * CR, LF, NUL and other control bytes by '?'. Returns bytes written. */
size_t log_sanitise(char *dst, size_t dstlen, const char *src, size_t srclen);

#endif
