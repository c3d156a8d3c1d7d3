/* config-schema.c: the one table of every loft.conf key (type, default, one
 * line of help) and the extra checks some keys need beyond their type (word
 * lists, listen addresses). Everything that reads loft.conf relies on it. */
#include "config-private.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

/* Apply fn to each whitespace-separated word of value; stop at the first -1. */
static int each_word(const char *value, int (*fn)(const char *w, size_t n, char *err, size_t el),
                     char *err, size_t errlen)
{
	const char *p = value;
	while (*p != '\0') {
		while (*p == ' ' || *p == '\t')
			p++;
		const char *w = p;
		while (*p != '\0' && *p != ' ' && *p != '\t')
			p++;
		if (p > w && fn(w, (size_t)(p - w), err, errlen) < 0)
			return -1;
	}
	return 0;
}

static bool word_in(const char *w, size_t n, const char *const *set)
{
	for (; *set != NULL; set++) {
		if (strlen(*set) == n && memcmp(*set, w, n) == 0)
			return true;
	}
	return false;
}

static int check_protocol_word(const char *w, size_t n, char *err, size_t errlen)
{
	static const char *const protos[] = {"imap",       "imaps",       "pop3", "pop3s", "smtp",
	                                     "submission", "submissions", "lmtp", NULL};
	if (word_in(w, n, protos))
		return 0;
	snprintf(err, errlen,
	         "unknown protocol '%.*s' (expected imap imaps pop3 pop3s smtp submission "
	         "submissions lmtp)",
	         (int)n, w);
	return -1;
}

static int check_protocols(const char *value, char *err, size_t errlen)
{
	return each_word(value, check_protocol_word, err, errlen);
}

static bool host_ok(const char *h, size_t n)
{
	if (n == 1 && h[0] == '*')
		return true;
	if (n == 0 || n > 253)
		return false;
	bool numeric = true;
	for (size_t i = 0; i < n; i++) {
		char c = h[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '-'))
			return false;
		if (!(c >= '0' && c <= '9') && c != '.')
			numeric = false;
	}
	if (!numeric)
		return true;
	/* all digits and dots: it must be a real IPv4 address, not a typo */
	char addr[INET_ADDRSTRLEN];
	struct in_addr a4;
	if (n >= sizeof(addr))
		return false;
	memcpy(addr, h, n);
	addr[n] = '\0';
	return inet_pton(AF_INET, addr, &a4) == 1;
}

static bool port_ok(const char *p, size_t n)
{
	if (n == 0 || n > 5)
		return false;
	unsigned v = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		v = v * 10 + (unsigned)(p[i] - '0');
	}
	return v >= 1 && v <= 65535;
}

static int check_listen_word(const char *w, size_t n, char *err, size_t errlen)
{
	const char *colon = NULL;
	bool ok = false;
	if (n > 0 && w[0] == '[') {
		const char *close = memchr(w, ']', n);
		char addr[INET6_ADDRSTRLEN + 1];
		struct in6_addr a6;
		size_t alen = close != NULL ? (size_t)(close - w - 1) : 0;
		if (close != NULL && alen > 0 && alen < sizeof(addr) && close + 1 < w + n &&
		    close[1] == ':') {
			memcpy(addr, w + 1, alen);
			addr[alen] = '\0';
			colon = close + 1;
			ok = inet_pton(AF_INET6, addr, &a6) == 1;
		}
	} else {
		colon = memrchr(w, ':', n);
		ok = colon != NULL && host_ok(w, (size_t)(colon - w));
	}
	if (ok && port_ok(colon + 1, (size_t)(w + n - colon - 1)))
		return 0;
	snprintf(err, errlen,
	         "invalid listen address '%.*s' (expected host:port, *:port or [ipv6]:port, "
	         "port 1-65535)",
	         (int)n, w);
	return -1;
}

static int check_listen(const char *value, char *err, size_t errlen)
{
	return each_word(value, check_listen_word, err, errlen);
}

static int check_one_of(const char *value, const char *const *set, const char *what, char *err,
                        size_t errlen)
{
	if (word_in(value, strlen(value), set))
		return 0;
	snprintf(err, errlen, "invalid %s '%s'", what, value);
	return -1;
}

/* login_ipv6_prefix: a network size that makes sense for one client site. */
static int check_ipv6_prefix(const char *value, char *err, size_t errlen)
{
	char *end;
	unsigned long v = strtoul(value, &end, 10);
	if (value[0] >= '0' && value[0] <= '9' && *end == '\0' && v >= 16 && v <= 128)
		return 0;
	snprintf(err, errlen, "invalid login_ipv6_prefix '%s' (expected 16 to 128)", value);
	return -1;
}

static int check_ssl(const char *value, char *err, size_t errlen)
{
	static const char *const set[] = {"yes", "no", "required", NULL};
	return check_one_of(value, set, "ssl value (expected yes, no or required)", err, errlen);
}

static int check_ssl_min_protocol(const char *value, char *err, size_t errlen)
{
	static const char *const set[] = {"TLSv1.2", "TLSv1.3", NULL};
	return check_one_of(value, set, "ssl_min_protocol (expected TLSv1.2 or TLSv1.3)", err,
	                    errlen);
}

static int check_log_level(const char *value, char *err, size_t errlen)
{
	if (log_prio_parse(value) >= 0)
		return 0;
	snprintf(err, errlen,
	         "invalid log_level '%s' (expected debug, info, notice, warning or error)", value);
	return -1;
}

static int check_facility(const char *value, char *err, size_t errlen)
{
	if (log_facility_parse(value) >= 0)
		return 0;
	snprintf(err, errlen, "invalid syslog_facility '%s'", value);
	return -1;
}

/* A connection limit of 0 would refuse everything forever: say so at load. */
static int check_nonzero(const char *value, char *err, size_t errlen)
{
	const char *p = value;
	while (*p == '0')
		p++;
	if (*p != '\0' || value[0] == '\0')
		return 0;
	snprintf(err, errlen, "connection limit '%s' must be at least 1", value);
	return -1;
}

static int check_passdb(const char *value, char *err, size_t errlen)
{
	static const char pf[] = "passwd-file:";
	if (strcmp(value, "pam") == 0)
		return 0;
	if (strncmp(value, pf, sizeof(pf) - 1) == 0 && value[sizeof(pf) - 1] != '\0')
		return 0;
	snprintf(err, errlen, "invalid passdb '%s' (expected pam or passwd-file:PATH)", value);
	return -1;
}

/* One row per key: name, type, default, one line of help, extra check. */
/* clang-format off */
const struct cfg_key cfg_schema[] = {
	/* master and processes */
	{"protocols", CFG_LIST, "imap imaps smtp submission submissions",
	 "protocols to serve: imap imaps pop3 pop3s smtp submission submissions lmtp", check_protocols},
	{"base_dir", CFG_PATH, "/run/loft",
	 "runtime directory: internal sockets, pid file", NULL},
	{"state_dir", CFG_PATH, "/var/lib/loft",
	 "persistent state: spool, tokens, caches", NULL},
	{"libexec_dir", CFG_PATH, LOFT_LIBEXECDIR,
	 "where the loft-* daemons are installed", NULL},
	{"log_path", CFG_STRING, "syslog",
	 "syslog, - for stderr, or a file to append to", NULL},
	{"syslog_facility", CFG_STRING, "mail",
	 "syslog facility when log_path = syslog", check_facility},
	{"log_level", CFG_STRING, "info",
	 "least urgent level logged: debug info notice warning error", check_log_level},
	{"login_user", CFG_STRING, "loft-login",
	 "unprivileged user of the login daemons", NULL},
	{"login_chroot", CFG_PATH, "/var/lib/loft/empty",
	 "empty directory login daemons chroot to", NULL},
	{"smtp_user", CFG_STRING, "loft-smtp",
	 "unprivileged user of smtpd and the relay", NULL},
	{"queue_user", CFG_STRING, "loft-queue",
	 "user owning the mail queue", NULL},
	{"auth_user", CFG_STRING, "root",
	 "user loft-auth runs as (PAM may need root)", NULL},
	{"master_restart_delay_max", CFG_TIME, "60s",
	 "longest back-off before restarting a crashed child", NULL},
	{"shutdown_timeout", CFG_TIME, "10s",
	 "how long to wait for children before SIGKILL", NULL},
	{"seccomp", CFG_BOOL, "yes",
	 "confine every unprivileged process to its system-call allow-list", NULL},
	/* TLS */
	{"ssl", CFG_STRING, "yes",
	 "yes, no, or required (plaintext logins refused)", check_ssl},
	{"ssl_cert", CFG_PATH, "/etc/loft/certs/loft.pem",
	 "server certificate chain (PEM)", NULL},
	{"ssl_key", CFG_PATH, "/etc/loft/private/loft.pem",
	 "server private key (PEM)", NULL},
	{"ssl_cert_chain", CFG_PATH, "",
	 "intermediate certificates sent after ssl_cert; empty = only what ssl_cert holds", NULL},
	{"ssl_min_protocol", CFG_STRING, "TLSv1.2",
	 "oldest TLS version accepted: TLSv1.2 or TLSv1.3", check_ssl_min_protocol},
	{"ssl_handshake_timeout", CFG_TIME, "5s",
	 "close a TLS handshake not finished in this time (login daemons, smtpd)", NULL},
	{"ssl_cipher_list", CFG_STRING, "",
	 "OpenSSL cipher list for TLS 1.2; empty = ECDHE/DHE with AEAD ciphers only", NULL},
	/* authentication */
	{"passdb", CFG_STRING, "pam",
	 "pam, or passwd-file:PATH", check_passdb},
	{"userdb", CFG_STRING, "",
	 "where users are looked up; empty = follows passdb", NULL},
	{"auth_mechanisms", CFG_LIST, "plain login",
	 "SASL mechanisms offered", NULL},
	{"disable_plaintext_auth", CFG_BOOL, "yes",
	 "refuse plaintext logins without TLS", NULL},
	{"auth_loopback_secure", CFG_BOOL, "yes",
	 "loopback clients count as secure for plaintext auth", NULL},
	{"auth_default_domain", CFG_STRING, "",
	 "domain appended to user names without one", NULL},
	{"auth_username_format", CFG_STRING, "%Lu",
	 "how user names are normalised (%Lu = lower-case)", NULL},
	{"auth_worker_count", CFG_UINT, "4",
	 "parallel PAM/passdb workers in loft-auth", NULL},
	{"auth_worker_max_queue", CFG_UINT, "256",
	 "PAM checks waiting for a worker; more get a temporary failure", NULL},
	{"auth_failure_delay", CFG_TIME, "2s",
	 "delay before answering a failed login", NULL},
	{"auth_failure_delay_max", CFG_TIME, "15s",
	 "cap on the per-address growing failure delay", NULL},
	{"auth_token_lifetime", CFG_TIME, "10s",
	 "how long a one-time login token stays valid", NULL},
	{"pam_service", CFG_STRING, "loft",
	 "PAM service name (/etc/pam.d/NAME)", NULL},
	/* mail storage */
	{"mail_location", CFG_STRING, "maildir:~/Maildir",
	 "where mail lives: maildir:PATH, %u %n %d %h ~ expanded", NULL},
	{"mail_uid", CFG_STRING, "",
	 "force this uid for all mail access; empty = the user's", NULL},
	{"mail_gid", CFG_STRING, "",
	 "force this gid for all mail access; empty = the user's", NULL},
	{"first_valid_uid", CFG_UINT, "1000",
	 "lowest uid a mail session or delivery may run as (system accounts below)", NULL},
	{"last_valid_uid", CFG_UINT, "0",
	 "highest uid a mail session or delivery may run as; 0 = no limit", NULL},
	{"mail_hierarchy_separator", CFG_STRING, "/",
	 "IMAP folder hierarchy separator", NULL},
	{"mailbox_autocreate", CFG_LIST, "Drafts Sent Trash Junk Archive",
	 "folders created at first login", NULL},
	{"mail_fsync", CFG_BOOL, "yes",
	 "fsync mail files and folders after writing", NULL},
	/* IMAP / POP3 */
	{"login_max_connections_per_ip", CFG_UINT, "50",
	 "simultaneous pre-login connections per client address; mynetworks exempt", NULL},
	{"login_max_clients", CFG_UINT, "1000",
	 "simultaneous pre-login connections per login daemon; 0 = no limit", NULL},
	{"login_ipv6_prefix", CFG_UINT, "64",
	 "IPv6 clients count per network of this prefix (limits and failure delay)",
	 check_ipv6_prefix},
	{"mail_max_userip_connections", CFG_UINT, "10",
	 "simultaneous IMAP (and, counted apart, POP3) sessions of one user from one "
	 "address (IPv6: login_ipv6_prefix network); 0 = no limit", NULL},
	{"login_idle_timeout", CFG_TIME, "3m",
	 "disconnect idle clients before login", NULL},
	{"login_max_line_length", CFG_SIZE, "64k",
	 "longest command line before login (pop3-login: 8k unless set)", NULL},
	{"imap_max_line_length", CFG_SIZE, "64k",
	 "longest IMAP command line after login", NULL},
	{"imap_idle_timeout", CFG_TIME, "30m",
	 "disconnect idle IMAP sessions after this", NULL},
	{"imap_idle_notify_interval", CFG_TIME, "2m",
	 "send \"* OK Still here\" this often during IDLE", NULL},
	{"imap_max_command_size", CFG_SIZE, "64M",
	 "most bytes one IMAP command may hold, literals included (at least "
	 "message_size_limit plus imap_max_line_length)", NULL},
	{"pop3_idle_timeout", CFG_TIME, "10m",
	 "disconnect idle POP3 sessions after this", NULL},
	/* SMTP and the queue */
	{"myhostname", CFG_STRING, "",
	 "host name in greetings and Received:; empty = system host name", NULL},
	{"mydomains", CFG_LIST, "localhost",
	 "domains delivered locally", NULL},
	{"mynetworks", CFG_LIST, "127.0.0.0/8 [::1]/128",
	 "client networks allowed to relay without AUTH", NULL},
	{"message_size_limit", CFG_SIZE, "50M",
	 "largest message accepted", NULL},
	{"max_hops", CFG_UINT, "50",
	 "Received: headers before a message counts as a loop", NULL},
	{"postmaster_user", CFG_STRING, "root",
	 "local user receiving postmaster mail and double bounces", NULL},
	{"smtpd_timeout", CFG_TIME, "5m",
	 "SMTP server idle timeout", NULL},
	{"smtpd_max_connections_per_ip", CFG_UINT, "50",
	 "simultaneous SMTP connections per client address; mynetworks exempt", NULL},
	{"smtpd_max_clients", CFG_UINT, "100",
	 "simultaneous SMTP connections (smtpd children) in all; 0 = no limit", NULL},
	{"smtpd_max_recipients", CFG_UINT, "1000",
	 "recipients per message", NULL},
	{"queue_lifetime", CFG_TIME, "5d",
	 "retry a message this long before bouncing it", NULL},
	{"queue_retry_min", CFG_TIME, "1m",
	 "first retry delay", NULL},
	{"queue_retry_max", CFG_TIME, "1h",
	 "longest retry delay", NULL},
	{"queue_max_connections", CFG_UINT, "512",
	 "simultaneous connections to loft-queue's queue socket (smtpd)", check_nonzero},
	{"queue_idle_timeout", CFG_TIME, "30m",
	 "close a queue socket connection silent this long", NULL},
	{"pickup_max_connections", CFG_UINT, "128",
	 "simultaneous connections to the pickup socket (sendmail, loft queue)", check_nonzero},
	{"pickup_max_connections_per_uid", CFG_UINT, "16",
	 "simultaneous pickup connections per local uid (root exempt); 0 = no limit", NULL},
	{"pickup_idle_timeout", CFG_TIME, "5m",
	 "close a pickup connection silent this long", NULL},
	{"relayhost", CFG_STRING, "",
	 "send all remote mail via HOST[:PORT]; empty = MX lookup", NULL},
	{"smtp_dns_server", CFG_STRING, "",
	 "DNS server for MX lookups; empty = /etc/resolv.conf", NULL},
	{"smtp_remote_port", CFG_UINT, "25",
	 "port of remote SMTP servers", NULL},
	{"smtp_destination_concurrency", CFG_UINT, "5",
	 "parallel deliveries per destination", NULL},
	{"smtp_tls_ca", CFG_PATH, "",
	 "CA bundle to verify remote servers; empty = system default", NULL},
	/* listeners */
	{"imap_listen", CFG_LIST, "*:143 [::]:143",
	 "IMAP listen addresses", check_listen},
	{"imaps_listen", CFG_LIST, "*:993 [::]:993",
	 "IMAP over TLS listen addresses", check_listen},
	{"pop3_listen", CFG_LIST, "*:110 [::]:110",
	 "POP3 listen addresses", check_listen},
	{"pop3s_listen", CFG_LIST, "*:995 [::]:995",
	 "POP3 over TLS listen addresses", check_listen},
	{"smtp_listen", CFG_LIST, "*:25 [::]:25",
	 "SMTP (MX) listen addresses", check_listen},
	{"submission_listen", CFG_LIST, "*:587 [::]:587",
	 "submission (STARTTLS) listen addresses", check_listen},
	{"submissions_listen", CFG_LIST, "*:465 [::]:465",
	 "submission over TLS listen addresses", check_listen},
	{"lmtp_max_sessions", CFG_UINT, "256",
	 "simultaneous LMTP sessions (UNIX socket and TCP); one more gets 421 4.3.2; "
	 "0 = no limit", NULL},
	{"lmtp_listen", CFG_LIST, "127.0.0.1:24",
	 "LMTP listen addresses (local delivery)", check_listen},
	{NULL, CFG_STRING, NULL, NULL, NULL},
};
/* clang-format on */

int cfg_schema_index(const char *name)
{
	for (int i = 0; cfg_schema[i].name != NULL; i++) {
		if (strcmp(cfg_schema[i].name, name) == 0)
			return i;
	}
	return -1;
}

size_t cfg_schema_count(void)
{
	size_t n = 0;
	while (cfg_schema[n].name != NULL)
		n++;
	return n;
}

const struct cfg_key *cfg_schema_find(const char *name)
{
	int i = cfg_schema_index(name);
	return i < 0 ? NULL : &cfg_schema[i];
}
