/* smtp-headers.c: the header text smtpd writes (Received, Message-ID, Date)
 * and the header-section scan used for the hop count and for submissions.
 * Pure: output goes into a caller's buf; time is passed in. */
#include "smtp-headers.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "buf.h"

int smtp_sanitize(struct buf *out, const char *p, size_t len, size_t max)
{
	if (len > max)
		len = max;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];
		char o = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
		if (buf_append(out, &o, 1) < 0)
			return -1;
	}
	return 0;
}

static int sanitize_str(struct buf *out, const char *s)
{
	return smtp_sanitize(out, s, strlen(s), SMTP_SANITIZE_MAX);
}

int smtp_date_build(struct buf *out, time_t when)
{
	static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	struct tm tm;
	if (gmtime_r(&when, &tm) == NULL)
		return -1;
	/* names spelled here, not by strftime, so the locale cannot change them */
	return buf_printf(out, "%s, %d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday % 7],
	                  tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour,
	                  tm.tm_min, tm.tm_sec);
}

int smtp_message_id_build(struct buf *out, time_t when, const char *queue_id, const char *hostname)
{
	struct tm tm;
	if (gmtime_r(&when, &tm) == NULL)
		return -1;
	if (buf_printf(out, "<%04d%02d%02d%02d%02d%02d.", tm.tm_year + 1900, tm.tm_mon + 1,
	               tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec) < 0 ||
	    sanitize_str(out, queue_id) < 0 || buf_append_str(out, "@") < 0 ||
	    sanitize_str(out, hostname) < 0)
		return -1;
	return buf_append_str(out, ">");
}

static int received_from(struct buf *out, const struct smtp_received *r)
{
	if (buf_append_str(out, "Received: from ") < 0 || sanitize_str(out, r->helo) < 0 ||
	    buf_append_str(out, " (") < 0 ||
	    sanitize_str(out, r->rdns != NULL ? r->rdns : "unknown") < 0 ||
	    buf_append_str(out, " [") < 0 || sanitize_str(out, r->ip) < 0 ||
	    buf_append_str(out, "])\r\n") < 0)
		return -1;
	if (r->tls_proto != NULL) {
		if (buf_append_str(out, "\t(using ") < 0 || sanitize_str(out, r->tls_proto) < 0 ||
		    buf_append_str(out, " with cipher ") < 0 ||
		    sanitize_str(out, r->tls_cipher != NULL ? r->tls_cipher : "unknown") < 0)
			return -1;
		if (r->tls_bits > 0 &&
		    buf_printf(out, " (%d/%d bits)", r->tls_bits, r->tls_bits) < 0)
			return -1;
		if (buf_append_str(out, ")\r\n") < 0)
			return -1;
	}
	if (r->auth_user != NULL &&
	    (buf_append_str(out, "\t(Authenticated sender: ") < 0 ||
	     sanitize_str(out, r->auth_user) < 0 || buf_append_str(out, ")\r\n") < 0))
		return -1;
	return 0;
}

int smtp_received_build(struct buf *out, const struct smtp_received *r)
{
	size_t start = out->len;
	if (received_from(out, r) < 0)
		goto fail;
	if (buf_append_str(out, "\tby ") < 0 || sanitize_str(out, r->hostname) < 0 ||
	    buf_printf(out, " (Loft) with %sSMTP%s%s id ", r->esmtp ? "E" : "",
	               r->tls_proto != NULL ? "S" : "", r->auth_user != NULL ? "A" : "") < 0 ||
	    sanitize_str(out, r->queue_id) < 0)
		goto fail;
	if (r->rcpt != NULL) {
		if (buf_append_str(out, "\r\n\tfor <") < 0 || sanitize_str(out, r->rcpt) < 0 ||
		    buf_append_str(out, ">; ") < 0)
			goto fail;
	} else if (buf_append_str(out, ";\r\n\t") < 0) {
		goto fail;
	}
	if (smtp_date_build(out, r->when) < 0 || buf_append_str(out, "\r\n") < 0)
		goto fail;
	return 0;
fail:
	out->len = start;
	if (out->data != NULL)
		out->data[start] = '\0';
	return -1;
}

/* Does the field starting at p (a line start) have this name? */
static bool field_is(const char *p, size_t len, const char *name)
{
	size_t n = strlen(name);
	if (len <= n || strncasecmp(p, name, n) != 0)
		return false;
	/* RFC 5322 obsolete syntax allows spaces before the colon */
	for (size_t i = n; i < len; i++) {
		if (p[i] == ':')
			return true;
		if (p[i] != ' ' && p[i] != '\t')
			return false;
	}
	return false;
}

void smtp_headers_scan(const char *p, size_t len, struct smtp_header_info *info)
{
	size_t i = 0;
	memset(info, 0, sizeof(*info));
	info->header_len = len;
	while (i < len) {
		const char *nl = memchr(p + i, '\n', len - i);
		size_t end = nl != NULL ? (size_t)(nl - p) + 1 : len;
		size_t llen = end - i;
		if ((llen == 2 && p[i] == '\r') || (llen == 1 && p[i] == '\n')) {
			info->header_len = end;
			return;
		}
		if (field_is(p + i, llen, "Received"))
			info->received++;
		else if (field_is(p + i, llen, "Message-ID"))
			info->has_message_id = true;
		else if (field_is(p + i, llen, "Date"))
			info->has_date = true;
		i = end;
	}
}

unsigned smtp_headers_drop(char *p, size_t *len, const char *name)
{
	size_t i = 0, out = 0, n = *len;
	unsigned dropped = 0;
	bool dropping = false;
	while (i < n) {
		const char *nl = memchr(p + i, '\n', n - i);
		size_t end = nl != NULL ? (size_t)(nl - p) + 1 : n;
		size_t llen = end - i;
		if ((llen == 2 && p[i] == '\r') || (llen == 1 && p[i] == '\n')) {
			memmove(p + out, p + i, n - i); /* the empty line and the body */
			out += n - i;
			break;
		}
		bool cont = p[i] == ' ' || p[i] == '\t';
		if (!cont) {
			dropping = field_is(p + i, llen, name);
			dropped += dropping;
		}
		if (!dropping) {
			memmove(p + out, p + i, llen);
			out += llen;
		}
		i = end;
	}
	*len = out;
	return dropped;
}
