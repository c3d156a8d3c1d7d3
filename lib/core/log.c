/* log.c: one log line per event for every Loft process. Children write
 * "<prio>name[pid]: text" to the pipe on fd 2; the master stamps those lines
 * (and its own) and sends them to a file, stderr or syslog. Each line leaves in
 * one write(2) of at most LOG_LINE_MAX bytes, so pipe writes stay atomic. */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct name_value {
	const char *name;
	int value;
};

static int lookup(const struct name_value *t, const char *s)
{
	if (s == NULL)
		return -1;
	for (; t->name != NULL; t++) {
		if (strcmp(t->name, s) == 0)
			return t->value;
	}
	return -1;
}

int log_prio_parse(const char *s)
{
	static const struct name_value prios[] = {
	    {"debug", LOG_DEBUG},     {"info", LOG_INFO}, {"notice", LOG_NOTICE},
	    {"warning", LOG_WARNING}, {"error", LOG_ERR}, {NULL, 0},
	};
	return lookup(prios, s);
}

int log_facility_parse(const char *s)
{
	static const struct name_value facs[] = {
	    {"auth", LOG_AUTH},     {"authpriv", LOG_AUTHPRIV},
	    {"cron", LOG_CRON},     {"daemon", LOG_DAEMON},
	    {"ftp", LOG_FTP},       {"lpr", LOG_LPR},
	    {"mail", LOG_MAIL},     {"news", LOG_NEWS},
	    {"syslog", LOG_SYSLOG}, {"user", LOG_USER},
	    {"uucp", LOG_UUCP},     {"local0", LOG_LOCAL0},
	    {"local1", LOG_LOCAL1}, {"local2", LOG_LOCAL2},
	    {"local3", LOG_LOCAL3}, {"local4", LOG_LOCAL4},
	    {"local5", LOG_LOCAL5}, {"local6", LOG_LOCAL6},
	    {"local7", LOG_LOCAL7}, {NULL, 0},
	};
	return lookup(facs, s);
}

size_t log_sanitise(char *dst, size_t dstlen, const char *src, size_t srclen)
{
	size_t n = 0;
	if (dstlen == 0)
		return 0;
	for (; n < srclen && n + 1 < dstlen; n++) {
		unsigned char c = (unsigned char)src[n];
		dst[n] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	dst[n] = '\0';
	return n;
}

static void set_name(struct loft_log *lg, const char *name)
{
	log_sanitise(lg->name, sizeof(lg->name), name, strlen(name));
}

void log_open_pipe(struct loft_log *lg, const char *name, int min_prio)
{
	set_name(lg, name);
	lg->dest = LOG_DEST_PIPE;
	lg->fd = STDERR_FILENO;
	lg->min_prio = min_prio;
}

int log_open_master(struct loft_log *lg, const char *name, const char *log_path,
                    const char *facility, int min_prio)
{
	set_name(lg, name);
	lg->min_prio = min_prio;
	lg->fd = -1;
	if (log_path == NULL || log_path[0] == '\0' || strcmp(log_path, "syslog") == 0) {
		int fac = log_facility_parse(facility != NULL ? facility : "mail");
		if (fac < 0)
			return -1;
		/* No LOG_PID: forwarded lines carry the child's pid, not ours. */
		openlog("loft", LOG_NDELAY, fac);
		lg->dest = LOG_DEST_SYSLOG;
		return 0;
	}
	if (strcmp(log_path, "-") == 0) {
		lg->dest = LOG_DEST_STDERR;
		lg->fd = STDERR_FILENO;
		return 0;
	}
	int fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
	if (fd < 0)
		return -1;
	lg->dest = LOG_DEST_FILE;
	lg->fd = fd;
	return 0;
}

void log_close(struct loft_log *lg)
{
	if (lg->dest == LOG_DEST_FILE && lg->fd >= 0)
		close(lg->fd);
	else if (lg->dest == LOG_DEST_SYSLOG)
		closelog();
	lg->fd = -1;
}

static void write_line(int fd, const char *p, size_t n)
{
	ssize_t r;
	do {
		r = write(fd, p, n);
	} while (r < 0 && errno == EINTR);
	/* A log write that fails has nowhere better to be reported. */
}

/* Output body (sanitised, NUL-terminated) at prio. One write(2) per line. */
static void emit(const struct loft_log *lg, int prio, const char *body)
{
	char line[LOG_LINE_MAX];
	int off;
	if (lg->dest == LOG_DEST_SYSLOG) {
		syslog(prio, "%s", body);
		return;
	}
	if (lg->dest == LOG_DEST_PIPE) {
		off = snprintf(line, sizeof(line), "<%d>", prio);
	} else {
		struct timespec ts;
		struct tm tm;
		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		off = (int)strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%SZ ", &tm);
	}
	size_t n = (size_t)off;
	size_t blen = strlen(body);
	if (blen > sizeof(line) - 1 - n)
		blen = sizeof(line) - 1 - n; /* keep room for the LF */
	memcpy(line + n, body, blen);
	n += blen;
	line[n++] = '\n';
	write_line(lg->fd, line, n);
}

void log_msg(const struct loft_log *lg, int prio, const char *session, const char *fmt, ...)
{
	char msg[LOG_LINE_MAX];
	char body[LOG_LINE_MAX];
	va_list ap;
	if (prio > lg->min_prio)
		return;
	int saved_errno = errno; /* callers may still want theirs after logging */
	va_start(ap, fmt);
	int mlen = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (mlen < 0) {
		errno = saved_errno;
		return;
	}
	if ((size_t)mlen >= sizeof(msg))
		mlen = (int)sizeof(msg) - 1;
	int off = snprintf(body, sizeof(body), "%s[%ld]: ", lg->name, (long)getpid());
	size_t n = (size_t)off;
	if (session != NULL && session[0] != '\0') {
		n += log_sanitise(body + n, sizeof(body) - n, "sess=", 5);
		n += log_sanitise(body + n, sizeof(body) - n, session, strlen(session));
		n += log_sanitise(body + n, sizeof(body) - n, ": ", 2);
	}
	log_sanitise(body + n, sizeof(body) - n, msg, (size_t)mlen);
	emit(lg, prio, body);
	errno = saved_errno;
}

/* Parse "<N>" at the start of line: the priority (facility bits dropped), and
 * the offset of the text after it; -1 when the prefix is missing or bad. */
static int parse_prio(const char *line, size_t len, size_t *off_r)
{
	int v = 0;
	size_t i = 1;
	if (len < 3 || line[0] != '<')
		return -1;
	for (; i < len && i <= 3 && line[i] >= '0' && line[i] <= '9'; i++)
		v = v * 10 + (line[i] - '0');
	if (i == 1 || i >= len || line[i] != '>' || v > 191)
		return -1;
	*off_r = i + 1;
	return v & 7;
}

void log_forward_line(const struct loft_log *lg, const char *line, size_t len)
{
	char body[LOG_LINE_MAX];
	size_t off = 0;
	int prio = parse_prio(line, len, &off);
	if (prio < 0) {
		prio = LOG_ERR;
		off = 0;
	}
	if (prio > lg->min_prio)
		return;
	log_sanitise(body, sizeof(body), line + off, len - off);
	emit(lg, prio, body);
}
