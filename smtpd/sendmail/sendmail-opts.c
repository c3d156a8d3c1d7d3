/* sendmail-opts.c: command-line parsing and recipient collection for the
 * sendmail CLI (sendmail-opts.h). Pure: no I/O, messages go into buffers. */
#include "sendmail-opts.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "mime.h"
#include "smtp-parse.h"

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s != NULL ? s + 1 : p;
}

/* -o options: the few that matter, the usual harmless ones, the rest warned. */
static void opt_o(struct sendmail_opts *o, const char *v, struct buf *warn)
{
	if (strcmp(v, "i") == 0) {
		o->ignore_dots = true;
	} else if (strcmp(v, "di") == 0 || strcmp(v, "db") == 0 || strcmp(v, "dq") == 0 ||
	           strcmp(v, "dd") == 0 || (v[0] == 'e' && strlen(v) == 2) || v[0] == 'm') {
		/* delivery mode, error mode, "me too": meaningless for a queue */
	} else if (warn != NULL) {
		buf_printf(warn, "option -o%s ignored\n", v);
	}
}

static int opt_b(struct sendmail_opts *o, const char *v, struct buf *err)
{
	if (strcmp(v, "m") == 0)
		o->mode = SENDMAIL_MODE_DELIVER;
	else if (strcmp(v, "p") == 0)
		o->mode = SENDMAIL_MODE_LIST;
	else if (strcmp(v, "s") == 0)
		o->mode = SENDMAIL_MODE_SMTP;
	else {
		buf_printf(err, "unsupported mode -b%s", v);
		return -1;
	}
	return 0;
}

/* Options that take a value, attached (-fuser) or as the next word. */
static bool takes_value(char c)
{
	return strchr("fFCNRVXBhLOrbo", c) != NULL;
}

static int apply(struct sendmail_opts *o, char c, const char *v, struct buf *warn, struct buf *err)
{
	switch (c) {
	case 'f':
	case 'r': /* old name of -f */
		o->sender = v;
		return 0;
	case 'F':
		o->fullname = v;
		return 0;
	case 'C':
		o->config = v;
		return 0;
	case 'b':
		return opt_b(o, v, err);
	case 'o':
		opt_o(o, v, warn);
		return 0;
	case 'N': /* DSN NOTIFY, RET, ENVID, body type, hop count, syslog label */
	case 'R':
	case 'V':
	case 'B':
	case 'h':
	case 'L':
		return 0;
	case 'X':
	case 'O':
		if (warn != NULL)
			buf_printf(warn, "option -%c %s ignored\n", c, v);
		return 0;
	}
	buf_printf(err, "unknown option -%c", c);
	return -1;
}

int sendmail_opts_parse(int argc, char **argv, struct sendmail_opts *o, struct buf *warn,
                        struct buf *err)
{
	memset(o, 0, sizeof(*o));
	if (argc > 0 && argv[0] != NULL && strcmp(base_name(argv[0]), "mailq") == 0)
		o->mode = SENDMAIL_MODE_LIST;
	int i = 1;
	for (; i < argc; i++) {
		const char *a = argv[i];
		if (a[0] != '-' || a[1] == '\0')
			break;
		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		/* getopt style: flags combine (-ti); a value option takes the rest */
		for (size_t k = 1; a[k] != '\0'; k++) {
			char c = a[k];
			if (c == 'q') { /* -q[time]: run the queue now */
				o->mode = SENDMAIL_MODE_FLUSH;
				break;
			}
			if (!takes_value(c)) {
				if (c == 't')
					o->extract_rcpts = true;
				else if (c == 'i')
					o->ignore_dots = true;
				else if (c == 'v')
					o->verbose = true;
				else if (c == 'n' || c == 'm' || c == 'U' || c == 'G')
					; /* no aliasing, me too, initial submission: accepted */
				else {
					buf_printf(err, "unknown option -%c", c);
					return -1;
				}
				continue;
			}
			const char *v = a + k + 1;
			if (*v == '\0') {
				if (i + 1 >= argc) {
					buf_printf(err, "option -%c needs a value", c);
					return -1;
				}
				v = argv[++i];
			}
			if (apply(o, c, v, warn, err) < 0)
				return -1;
			break;
		}
	}
	o->rcpts = argv + i;
	o->n_rcpts = i < argc ? (size_t)(argc - i) : 0;
	return 0;
}

void sendmail_rcpts_free(struct sendmail_rcpts *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static int rcpts_push(struct sendmail_rcpts *l, const char *s)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		char **v = realloc(l->v, cap * sizeof(*v));
		if (v == NULL)
			return -1;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n] = strdup(s);
	if (l->v[l->n] == NULL)
		return -1;
	l->n++;
	return 0;
}

int sendmail_addr_normalise(const char *p, size_t len, bool allow_null, struct buf *out)
{
	while (len > 0 && (*p == ' ' || *p == '\t')) {
		p++;
		len--;
	}
	while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
		len--;
	if (len >= 2 && p[0] == '<' && p[len - 1] == '>') {
		p++;
		len -= 2;
	}
	if (len == 0)
		return allow_null ? 0 : -1;
	struct smtp_addr a;
	if (smtp_addr_parse(p, len, SMTP_ADDR_ALLOW_NODOMAIN | SMTP_ADDR_ALLOW_UTF8, &a) !=
	    SMTP_PARSE_OK)
		return -1;
	return buf_append_str(out, a.full);
}

/* One mailbox from mime_address_parse: the local part comes unquoted, so it
 * is quoted again (smtp_addr_parse normalises the quotes away when they are
 * not needed). */
static int add_mailbox(struct sendmail_rcpts *l, const struct mime_address *m, struct buf *err)
{
	struct buf t, n;
	buf_init(&t, 4096);
	buf_init(&n, 4096);
	int rc = buf_append_str(&t, "\"");
	for (const char *s = m->mailbox; rc == 0 && *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			rc = buf_append(&t, "\\", 1);
		if (rc == 0)
			rc = buf_append(&t, s, 1);
	}
	if (rc == 0)
		rc = buf_append_str(&t, "\"");
	if (rc == 0 && m->domain != NULL && m->domain[0] != '\0')
		rc = buf_printf(&t, "@%s", m->domain);
	if (rc == 0) {
		if (sendmail_addr_normalise(t.data, t.len, false, &n) < 0) {
			buf_printf(err, "%s%s%s", m->mailbox, m->domain ? "@" : "",
			           m->domain ? m->domain : "");
			rc = 1;
		} else {
			rc = rcpts_push(l, n.data);
		}
	}
	buf_free(&t);
	buf_free(&n);
	return rc;
}

/* Every mailbox of an address list (groups' members included). */
static int add_list(struct sendmail_rcpts *l, const char *p, size_t len, struct buf *err)
{
	struct mime_address *a;
	size_t n;
	if (mime_address_parse(p, len, &a, &n) < 0)
		return -1;
	int rc = 0;
	size_t start = l->n;
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (a[i].group_start || a[i].group_end || a[i].mailbox == NULL)
			continue;
		rc = add_mailbox(l, &a[i], err);
	}
	mime_address_free(a, n);
	if (rc != 0) { /* all or nothing */
		while (l->n > start)
			free(l->v[--l->n]);
	}
	return rc;
}

int sendmail_rcpts_add_arg(struct sendmail_rcpts *l, const char *arg, struct buf *err)
{
	size_t len = strlen(arg);
	/* A plain address is taken as it is (RFC 5321 syntax, e.g. a bare local
	 * user); anything else is read as an RFC 5322 address list. */
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)arg[i] < 0x20 || arg[i] == 0x7f) {
			buf_append_str(err, "(address with a control character)");
			return 1;
		}
	if (strpbrk(arg, ",()\"<") == NULL) {
		struct buf n;
		buf_init(&n, 4096);
		int rc = sendmail_addr_normalise(arg, len, false, &n);
		if (rc == 0)
			rc = rcpts_push(l, n.data);
		else if (buf_append_str(err, arg) == 0)
			rc = 1;
		buf_free(&n);
		return rc;
	}
	size_t before = l->n;
	int rc = add_list(l, arg, len, err);
	if (rc == 0 && l->n == before) {
		buf_append_str(err, arg);
		return 1;
	}
	return rc;
}

static bool field_named(const char *p, size_t len, const char *name)
{
	size_t n = strlen(name);
	if (len <= n || strncasecmp(p, name, n) != 0)
		return false;
	size_t i = n;
	while (i < len && (p[i] == ' ' || p[i] == '\t'))
		i++;
	return i < len && p[i] == ':';
}

int sendmail_rcpts_from_headers(struct sendmail_rcpts *l, const char *hdr, size_t len,
                                struct buf *err)
{
	size_t i = 0;
	while (i < len) {
		/* one field: its first line plus continuation lines */
		size_t start = i;
		do {
			const char *nl = memchr(hdr + i, '\n', len - i);
			i = nl != NULL ? (size_t)(nl - hdr) + 1 : len;
		} while (i < len && (hdr[i] == ' ' || hdr[i] == '\t'));
		const char *f = hdr + start;
		size_t flen = i - start;
		if (!field_named(f, flen, "to") && !field_named(f, flen, "cc") &&
		    !field_named(f, flen, "bcc"))
			continue;
		const char *colon = memchr(f, ':', flen);
		size_t off = (size_t)(colon - f) + 1;
		int rc = add_list(l, f + off, flen - off, err);
		if (rc != 0)
			return rc;
	}
	return 0;
}
