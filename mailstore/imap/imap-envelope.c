/* imap-envelope.c: IMAP string quoting (Dovecot's quoted-or-literal rules)
 * and the ENVELOPE of a message for FETCH: header values kept raw (encoded
 * words not decoded, as Dovecot does), address lists parsed. */
#include <string.h>

#include "imap-fetch-render.h"

static int append_literal(struct buf *out, const char *s, size_t len)
{
	if (buf_printf(out, "{%zu}\r\n", len) < 0)
		return -1;
	return buf_append(out, s, len);
}

int imap_append_nstring(struct buf *out, const char *s, size_t len)
{
	size_t escapes = 0;

	if (s == NULL)
		return buf_append_str(out, "NIL");
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '"' || ch == '\\')
			escapes++;
		if (ch == '\r' || ch == '\n' || ch == '\0' || ch >= 0x80 || escapes > 4)
			return append_literal(out, s, len);
	}
	if (buf_append(out, "\"", 1) < 0)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if ((s[i] == '"' || s[i] == '\\') && buf_append(out, "\\", 1) < 0)
			return -1;
		if (buf_append(out, s + i, 1) < 0)
			return -1;
	}
	return buf_append(out, "\"", 1);
}

int imap_append_cstring(struct buf *out, const char *s)
{
	return imap_append_nstring(out, s, s == NULL ? 0 : strlen(s));
}

int imap_append_nstring_nolf(struct buf *out, const char *s, size_t len)
{
	struct buf v;
	int ret;

	if (s == NULL || (memchr(s, '\n', len) == NULL && memchr(s, '\r', len) == NULL))
		return imap_append_nstring(out, s, len);
	buf_init(&v, 0);
	ret = 0;
	for (size_t i = 0; i < len && ret == 0; i++) {
		if (s[i] != '\r' && s[i] != '\n')
			ret = buf_append(&v, s + i, 1);
		else if (i + 1 < len && s[i + 1] != ' ' && s[i + 1] != '\t' && s[i + 1] != '\r' &&
		         s[i + 1] != '\n')
			ret = buf_append(&v, " ", 1); /* keep the lines apart */
	}
	/* Dovecot sends a folded value as a literal even once unfolded */
	if (ret == 0)
		ret = append_literal(out, v.data != NULL ? v.data : "", v.len);
	buf_free(&v);
	return ret;
}

/* ENVELOPE takes the last field of a name, as Dovecot does. */
static const struct mime_hdr *find_last(const struct mime_message *m, const struct mime_part *msg,
                                        const char *name)
{
	for (size_t i = msg->n_hdrs; i > 0; i--)
		if (mime_header_is(m, &msg->hdrs[i - 1], name))
			return &msg->hdrs[i - 1];
	return NULL;
}

/* Text for humans (Subject, address names), as Dovecot writes it: runs of
 * blanks and line breaks become one space, leading and trailing ones go,
 * NUL becomes 0x80; sent quoted when nothing needed changing and there is
 * no '"', '\\' or 8-bit byte, else as a literal. */
int imap_append_string_for_humans(struct buf *out, const char *s, size_t len)
{
	bool modify = false, lwsp = true;
	struct buf v;
	int ret;

	for (size_t i = 0; i < len && !modify; i++) {
		unsigned char ch = (unsigned char)s[i];
		bool blank = ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
		if (ch == '\0' || ch == '"' || ch == '\\' || ch >= 0x80 || ch == '\t' ||
		    ch == '\r' || ch == '\n' || (blank && lwsp))
			modify = true;
		lwsp = blank;
	}
	if (len > 0 && lwsp)
		modify = true;
	if (!modify)
		return imap_append_nstring(out, s, len);
	buf_init(&v, 0);
	ret = 0;
	lwsp = true;
	for (size_t i = 0; i < len && ret == 0; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n') {
			if (!lwsp)
				ret = buf_append(&v, " ", 1);
			lwsp = true;
			continue;
		}
		lwsp = false;
		ret = buf_append(&v, ch == '\0' ? "\x80" : s + i, 1);
	}
	if (ret == 0 && v.len > 0 && lwsp)
		v.len--;
	if (ret == 0)
		ret = v.len == 0 ? buf_append_str(out, "\"\"") : append_literal(out, v.data, v.len);
	buf_free(&v);
	return ret;
}

/* The raw value of the field called name, or NIL. Subject is text for
 * humans; the others are sent with only their line breaks removed. */
static int append_field(struct buf *out, const struct mime_message *m, const struct mime_part *msg,
                        const char *name)
{
	const struct mime_hdr *h = find_last(m, msg, name);

	if (h == NULL)
		return buf_append_str(out, "NIL");
	const char *v = m->p + h->value_off;
	size_t len = h->off + h->len - h->value_off;
	if (len > 0 && v[len - 1] == '\n')
		len--;
	if (len > 0 && v[len - 1] == '\r')
		len--;
	if (strcmp(name, "subject") == 0)
		return imap_append_string_for_humans(out, v, len);
	return imap_append_nstring_nolf(out, v, len);
}

/* A mailbox without local part or domain gets Dovecot's placeholders. */
static int append_address(struct buf *out, const struct mime_address *a)
{
	bool group = a->group_start || a->group_end;
	const char *mbox = a->mailbox, *dom = a->domain;

	if (!group && (mbox == NULL || *mbox == '\0'))
		mbox = "MISSING_MAILBOX";
	if (!group && (dom == NULL || *dom == '\0'))
		dom = "MISSING_DOMAIN";
	if (buf_append(out, "(", 1) < 0)
		return -1;
	if (a->name == NULL ? buf_append_str(out, "NIL") < 0
	                    : imap_append_string_for_humans(out, a->name, strlen(a->name)) < 0)
		return -1;
	if (buf_append(out, " ", 1) < 0 || imap_append_cstring(out, a->route) < 0 ||
	    buf_append(out, " ", 1) < 0 || imap_append_cstring(out, mbox) < 0 ||
	    buf_append(out, " ", 1) < 0 || imap_append_cstring(out, dom) < 0)
		return -1;
	return buf_append(out, ")", 1);
}

/* Parse the last field called name into *a_r (*n_r entries; none when the
 * field is missing or holds no address). 0 or -1 (memory). */
static int parse_addresses(const struct mime_message *m, const struct mime_part *msg,
                           const char *name, struct mime_address **a_r, size_t *n_r)
{
	const struct mime_hdr *h = find_last(m, msg, name);
	struct buf v;
	int ret;

	*a_r = NULL;
	*n_r = 0;
	if (h == NULL)
		return 0;
	buf_init(&v, 0);
	ret = mime_header_value(m, h, &v);
	if (ret == 0)
		ret = mime_address_parse(v.data != NULL ? v.data : "", v.len, a_r, n_r);
	buf_free(&v);
	return ret;
}

/* An address list field as "((..)(..))", or NIL when it is missing or has
 * no address in it. Sender and Reply-To then default to From (RFC 3501
 * 7.4.2): Dovecot applies that to an empty "Sender: " field too. */
static int append_addresses(struct buf *out, const struct mime_message *m,
                            const struct mime_part *msg, const char *name, const char *fallback)
{
	struct mime_address *a;
	size_t n;
	int ret;

	if (parse_addresses(m, msg, name, &a, &n) < 0)
		return -1;
	if (n == 0 && fallback != NULL)
		return append_addresses(out, m, msg, fallback, NULL);
	ret = n == 0 ? buf_append_str(out, "NIL") : buf_append(out, "(", 1);
	for (size_t i = 0; i < n && ret == 0; i++)
		ret = append_address(out, &a[i]);
	if (n > 0 && ret == 0)
		ret = buf_append(out, ")", 1);
	mime_address_free(a, n);
	return ret;
}

int imap_envelope_render(const struct mime_message *m, const struct mime_part *msg, struct buf *out)
{
	static const char *const addr_fields[][2] = {
	    {"from", NULL}, {"sender", "from"}, {"reply-to", "from"},
	    {"to", NULL},   {"cc", NULL},       {"bcc", NULL},
	};

	if (buf_append(out, "(", 1) < 0 || append_field(out, m, msg, "date") < 0 ||
	    buf_append(out, " ", 1) < 0 || append_field(out, m, msg, "subject") < 0)
		return -1;
	for (size_t i = 0; i < sizeof(addr_fields) / sizeof(addr_fields[0]); i++)
		if (buf_append(out, " ", 1) < 0 ||
		    append_addresses(out, m, msg, addr_fields[i][0], addr_fields[i][1]) < 0)
			return -1;
	if (buf_append(out, " ", 1) < 0 || append_field(out, m, msg, "in-reply-to") < 0 ||
	    buf_append(out, " ", 1) < 0 || append_field(out, m, msg, "message-id") < 0)
		return -1;
	return buf_append(out, ")", 1);
}
