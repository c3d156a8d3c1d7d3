/* sendmail-input.c: input lines to spool form and the header section the
 * sendmail CLI queues (sendmail-input.h). Pure. */
#include "sendmail-input.h"

#include <string.h>
#include <strings.h>

#include "buf.h"
#include "smtp-headers.h"

int sendmail_input_line(const char *p, size_t len, bool ignore_dots, struct buf *out)
{
	size_t n = len;
	if (n > 0 && p[n - 1] == '\n')
		n--;
	if (n > 0 && p[n - 1] == '\r')
		n--;
	if (!ignore_dots && n == 1 && p[0] == '.')
		return 1;
	/* a CR left inside the line is a line end too: the queue and every
	 * next hop see only CRLF (SMTP smuggling, issue 18) */
	size_t start = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && p[i] != '\r')
			continue;
		if (buf_append(out, p + start, i - start) < 0 || buf_append(out, "\r\n", 2) < 0)
			return -1;
		start = i + 1;
	}
	return 0;
}

/* Length of the line at p (with its LF), at most len. */
static size_t line_len(const char *p, size_t len)
{
	const char *nl = memchr(p, '\n', len);
	return nl != NULL ? (size_t)(nl - p) + 1 : len;
}

/* "name:" with a name of printable ASCII but ':' (RFC 5322 ftext). */
static bool is_field_start(const char *p, size_t len)
{
	size_t i = 0;
	while (i < len && p[i] > ' ' && p[i] < 0x7f && p[i] != ':')
		i++;
	return i > 0 && i < len && p[i] == ':';
}

static bool field_is(const char *p, size_t len, const char *name)
{
	size_t n = strlen(name);
	return len > n && strncasecmp(p, name, n) == 0 && p[n] == ':';
}

void sendmail_header_scan(const char *msg, size_t len, struct sendmail_header_info *h)
{
	memset(h, 0, sizeof(*h));
	size_t i = 0;
	while (i < len) {
		size_t ll = line_len(msg + i, len - i);
		const char *l = msg + i;
		if ((ll == 2 && l[0] == '\r') || (ll == 1 && l[0] == '\n')) {
			h->header_len = i;
			h->body_off = i + ll;
			return;
		}
		if ((l[0] == ' ' || l[0] == '\t') && i > 0) {
			i += ll;
			continue;
		}
		if (!is_field_start(l, ll))
			break;
		h->has_from |= field_is(l, ll, "from");
		h->has_date |= field_is(l, ll, "date");
		h->has_message_id |= field_is(l, ll, "message-id");
		i += ll;
	}
	h->header_len = i;
	h->body_off = i;
}

/* RFC 5322 atext plus space: a display name that needs no quoting. */
static bool plain_phrase(const char *s)
{
	if (*s == '\0' || *s == ' ')
		return false;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || strchr(" !#$%&'*+-/=?^_`{|}~", *s) != NULL))
			return false;
	return true;
}

static int append_from(struct buf *out, const struct sendmail_add *a)
{
	if (buf_append_str(out, "From: ") < 0)
		return -1;
	if (a->fullname != NULL && a->fullname[0] != '\0') {
		struct buf name;
		buf_init(&name, 0);
		int rc = smtp_sanitize(&name, a->fullname, strlen(a->fullname), SMTP_SANITIZE_MAX);
		if (rc == 0 && plain_phrase(name.data)) {
			rc = buf_printf(out, "%s ", name.data);
		} else if (rc == 0) {
			rc = buf_append(out, "\"", 1);
			for (size_t i = 0; rc == 0 && i < name.len; i++) {
				if (name.data[i] == '"' || name.data[i] == '\\')
					rc = buf_append(out, "\\", 1);
				if (rc == 0)
					rc = buf_append(out, &name.data[i], 1);
			}
			if (rc == 0)
				rc = buf_append_str(out, "\" ");
		}
		buf_free(&name);
		if (rc < 0 || buf_printf(out, "<%s>\r\n", a->from) < 0)
			return -1;
		return 0;
	}
	return buf_printf(out, "%s\r\n", a->from);
}

int sendmail_header_build(struct buf *out, const char *msg, const struct sendmail_header_info *h,
                          const struct sendmail_add *a)
{
	size_t i = 0;
	bool skipping = false;
	while (i < h->header_len) {
		size_t ll = line_len(msg + i, h->header_len - i);
		const char *l = msg + i;
		if (!(l[0] == ' ' || l[0] == '\t'))
			skipping = field_is(l, ll, "bcc"); /* a Bcc field with its continuations */
		if (!skipping && buf_append(out, l, ll) < 0)
			return -1;
		i += ll;
	}
	if (!h->has_from && append_from(out, a) < 0)
		return -1;
	if (!h->has_date && (buf_append_str(out, "Date: ") < 0 ||
	                     smtp_date_build(out, a->now) < 0 || buf_append_str(out, "\r\n") < 0))
		return -1;
	if (!h->has_message_id &&
	    (buf_append_str(out, "Message-ID: ") < 0 ||
	     smtp_message_id_build(out, a->now, a->queue_id, a->hostname) < 0 ||
	     buf_append_str(out, "\r\n") < 0))
		return -1;
	return buf_append_str(out, "\r\n");
}
