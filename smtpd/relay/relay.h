/* relay.h: loft-relay, remote delivery over SMTP (docs/relay.md). The pure
 * parsers (SMTP replies, DNS answers, relayhost values) and the types the
 * relay's files share: a job of up to RELAY_MAX_MSGS spooled messages for one
 * destination domain, the route to it (MX hosts and their addresses), and one
 * result per recipient. Functions return 0 / -1 unless they say otherwise. */
#ifndef LOFT_RELAY_H
#define LOFT_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <openssl/ssl.h>

#include "queue-record.h"

#define RELAY_MAX_MSGS      20
#define RELAY_TEXT_MAX      512 /* one recipient's result text */
#define RELAY_REPLY_MAX     512 /* a parsed reply's joined, sanitised text */
#define RELAY_REPLY_LINE    2048
#define RELAY_REPLY_LINES   128
#define RELAY_DNS_NAME      256 /* dotted name, NUL included */
#define RELAY_DNS_MAX_MX    32
#define RELAY_DNS_MAX_ADDR  32
#define RELAY_MAX_HOSTS     16
#define RELAY_HOST_MAX_ADDR 8

/* ---- SMTP replies (relay-reply.c, pure) ---- */

struct relay_reply {
	int code;                   /* 100..599 */
	size_t nlines;              /* lines in the reply */
	char text[RELAY_REPLY_MAX]; /* "250 2.0.0 Ok" (lines joined by a space),
	                             * control bytes replaced, capped */
	/* EHLO keywords found on lines 2..n (meaningful after EHLO only). */
	bool starttls, eightbitmime, pipelining, has_size;
	uint64_t size_max; /* SIZE argument, 0 = no limit given */
};

/* Parse one complete (possibly multi-line) reply at the start of p[0..len).
 * Returns the bytes it spans (> 0), 0 when more input is needed, or -1 when
 * the input cannot be a reply (bad code, mixed codes, a line over
 * RELAY_REPLY_LINE, more than RELAY_REPLY_LINES lines, NUL). Lines end in
 * CRLF or a bare LF. */
int relay_reply_parse(const char *p, size_t len, struct relay_reply *r);

/* ---- DNS answers (relay-mxparse.c, pure) ---- */

enum relay_dns_rcode {
	RELAY_DNS_NOERROR = 0,
	RELAY_DNS_SERVFAIL = 2,
	RELAY_DNS_NXDOMAIN = 3,
};

struct relay_dns_mx {
	uint16_t pref;
	char host[RELAY_DNS_NAME]; /* lowercase, no trailing dot; "" = root (null MX) */
};

struct relay_dns_addr {
	int family; /* AF_INET or AF_INET6 */
	uint8_t a[16];
};

struct relay_dns_answer {
	uint16_t id;
	int rcode; /* the header's RCODE */
	bool truncated;
	size_t nmx; /* MX answers, in message order */
	struct relay_dns_mx mx[RELAY_DNS_MAX_MX];
	size_t naddr; /* A / AAAA answers */
	struct relay_dns_addr addr[RELAY_DNS_MAX_ADDR];
};

/* Parse a DNS response to the question (qname, qtype: 1 A, 28 AAAA, 15 MX).
 * Only answers owned by qname, or by the end of a CNAME chain starting
 * there, count. -1 with *error_r for a malformed message, one that is not a
 * response, or whose question differs. Extra records beyond the array sizes
 * are ignored. */
int relay_dns_parse(const uint8_t *p, size_t len, const char *qname, uint16_t qtype,
                    struct relay_dns_answer *a, const char **error_r);
/* Sort MX answers by preference (stable within equal preference). */
void relay_dns_sort_mx(struct relay_dns_answer *a);

/* ---- routes (relay-dns.c) ---- */

/* A relayhost value: "[host]:port", "[host]", "host:port" or "host".
 * Brackets mean no MX lookup. port stays as given when absent. Pure. */
int relay_host_parse(const char *s, char *host, size_t hostlen, uint16_t *port, bool *no_mx);

struct relay_host {
	char name[RELAY_DNS_NAME];
	uint16_t pref; /* MX preference; 0 for a host that is not an MX */
	size_t naddr;
	struct sockaddr_storage addr[RELAY_HOST_MAX_ADDR];
	socklen_t addrlen[RELAY_HOST_MAX_ADDR];
};

struct relay_route {
	uint16_t port; /* smtp_remote_port, or relayhost's */
	size_t nhost;
	struct relay_host host[RELAY_MAX_HOSTS];
};

enum relay_status {
	RELAY_PENDING = 0,
	RELAY_OK,
	RELAY_TEMP,
	RELAY_PERM,
};
const char *relay_status_name(enum relay_status s);

struct relay_self;

struct relay_opts {
	const char *hostname;          /* our EHLO name */
	const char *relayhost;         /* "" = MX lookup of the job's domain */
	const char *dns_server;        /* "" = /etc/resolv.conf */
	uint16_t port;                 /* smtp_remote_port */
	int timeout_ms;                /* per connect / read / write */
	SSL_CTX *tls;                  /* NULL = never STARTTLS */
	bool tls_verify;               /* check the certificate and host name */
	const struct relay_self *self; /* our own SMTP addresses (relay-self.h) */
};

/* Find the hosts to try for domain. 0, or -1 with *status_r (TEMP or PERM)
 * and err holding an enhanced status and text ("5.1.2 Host or domain name
 * not found: ..."). */
int relay_route_find(const struct relay_opts *o, const char *domain, struct relay_route *rt,
                     enum relay_status *status_r, char *err, size_t errlen);

/* ---- a job (relay-server.c reads it, relay-deliver.c delivers it) ---- */

struct relay_result {
	enum relay_status st;
	char text[RELAY_TEXT_MAX];
};

struct relay_msg {
	char *queue_id;
	char *sender;
	char **rcpts;
	size_t nrcpt;
	struct relay_result *res;
	/* The spool file, mapped; NULL when it could not be read (then every
	 * result was set already). */
	const char *spool;
	size_t spool_len;
	struct queue_msg qm;
	bool decoded;
	bool eightbit;
};

struct relay_job {
	char domain[RELAY_DNS_NAME];
	size_t nmsg;
	struct relay_msg msg[RELAY_MAX_MSGS];
};

/* Set a result (when still pending): text is sanitised to one line. */
void relay_result_set(struct relay_result *r, enum relay_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* snprintf for texts whose truncation is intended (capped one-line texts). */
void relay_textf(char *dst, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Every pending result of the job, set to st/text. */
void relay_job_fail_pending(struct relay_job *job, enum relay_status st, const char *text);
size_t relay_job_pending(const struct relay_job *job);

/* Deliver every pending recipient of job (relay-deliver.c): route, try hosts
 * in order, one SMTP connection for all messages. Never fails: every result
 * ends as OK, TEMP or PERM. */
struct loft_log;
void relay_job_deliver(const struct relay_opts *o, struct relay_job *job,
                       const struct loft_log *lg);

/* Serve one RELAY connection (relay-server.c): handshake, read the job,
 * deliver, answer RCPT lines and DONE. 0, or -1 on a protocol error (logged). */
int relay_server_serve(int fd, const struct relay_opts *o, const struct loft_log *lg);

#endif
