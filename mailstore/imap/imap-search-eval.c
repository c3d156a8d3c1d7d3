/* imap-search-eval.c: matching one message against a SEARCH key tree
 * (imap-search-eval.h). Cheap keys come from the maildir_msg; the file is
 * loaded and parsed at most once per message, and its decoded, case-folded
 * header and body text are cached for further keys. */
#include "imap-search-eval.h"

#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "imap-parse.h"
#include "mime-decode.h"

/* ---- case folding ---- */

static uint32_t fold_cp(uint32_t c)
{
	if (c >= 'A' && c <= 'Z')
		return c + 0x20;
	if (c >= 0xc0 && c <= 0xde && c != 0xd7) /* Latin-1 */
		return c + 0x20;
	if ((c >= 0x100 && c <= 0x12f) || (c >= 0x132 && c <= 0x137) || (c >= 0x14a && c <= 0x177))
		return c | 1; /* Latin Extended-A pairs: even capital, odd small */
	if (((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e)) && (c & 1))
		return c + 1;
	if (c >= 0x391 && c <= 0x3a9 && c != 0x3a2) /* Greek */
		return c + 0x20;
	if (c >= 0x410 && c <= 0x42f) /* Cyrillic */
		return c + 0x20;
	if (c >= 0x400 && c <= 0x40f)
		return c + 0x50;
	return c;
}

int imap_search_fold(const char *p, size_t len, struct buf *out)
{
	size_t i = 0;
	while (i < len) {
		unsigned char b = (unsigned char)p[i];
		if (b < 0x80) {
			char ch = (char)fold_cp(b);
			if (buf_append(out, &ch, 1) < 0)
				return -1;
			i++;
			continue;
		}
		/* Only two-byte sequences can hold the letters folded above. */
		if ((b & 0xe0) == 0xc0 && b >= 0xc2 && i + 1 < len &&
		    ((unsigned char)p[i + 1] & 0xc0) == 0x80) {
			uint32_t c = ((uint32_t)(b & 0x1f) << 6) | ((unsigned char)p[i + 1] & 0x3f);
			c = fold_cp(c);
			char u[2] = {(char)(0xc0 | (c >> 6)), (char)(0x80 | (c & 0x3f))};
			if (buf_append(out, u, 2) < 0)
				return -1;
			i += 2;
			continue;
		}
		if (buf_append(out, p + i, 1) < 0)
			return -1;
		i++;
	}
	return 0;
}

/* Does folded haystack h contain needle n (folded here)? */
static int contains(const struct buf *h, const char *n, size_t nlen)
{
	if (nlen == 0)
		return 1;
	struct buf fn;
	buf_init(&fn, 0);
	int r = -1;
	if (imap_search_fold(n, nlen, &fn) == 0)
		r = h->len >= fn.len && memmem(h->data, h->len, fn.data, fn.len) != NULL;
	buf_free(&fn);
	return r;
}

/* ---- message content ---- */

static int load(struct imap_search_msg *m)
{
	if (m->loaded != 0)
		return m->loaded > 0 ? 0 : -1;
	m->loaded = -1;
	int fd;
	const char *err;
	uint32_t uid = m->msg->uid;
	if (maildir_msg_open(m->box, uid, &fd, &err) != 0)
		return -1;
	/* opening may have resynced the mailbox: msgs[] can have moved */
	if ((m->msg = maildir_mailbox_find_uid(m->box, uid)) == NULL) {
		close(fd);
		return -1;
	}
	char chunk[65536];
	ssize_t n;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
		if (buf_append(&m->text, chunk, (size_t)n) < 0)
			break;
	}
	close(fd);
	if (n != 0)
		return -1;
	m->mime = mime_parse(m->text.data != NULL ? m->text.data : "", m->text.len);
	if (m->mime == NULL)
		return -1;
	m->loaded = 1;
	return 0;
}

/* The decoded value of header field h (unfolded, RFC 2047 words decoded). */
static int header_text(const struct mime_message *mm, const struct mime_hdr *h, struct buf *out)
{
	struct buf raw;
	buf_init(&raw, 0);
	int r = mime_header_value(mm, h, &raw);
	if (r == 0)
		r = mime_decode_words(raw.data != NULL ? raw.data : "", raw.len, out);
	buf_free(&raw);
	return r;
}

/* "Name: value\n" for every top-level field, decoded and folded: TEXT's
 * header half. */
static int header_cache(struct imap_search_msg *m)
{
	if (m->have_hdr)
		return 0;
	const struct mime_message *mm = m->mime;
	struct buf line;
	buf_init(&line, 0);
	int r = 0;
	for (size_t i = 0; i < mm->root->n_hdrs && r == 0; i++) {
		const struct mime_hdr *h = &mm->root->hdrs[i];
		buf_reset(&line);
		r = buf_append(&line, mm->p + h->off, h->name_len) | buf_append_str(&line, ": ") |
		    header_text(mm, h, &line) | buf_append_str(&line, "\n");
		if (r == 0)
			r = imap_search_fold(line.data, line.len, &m->hdr_fold);
	}
	buf_free(&line);
	m->have_hdr = r == 0;
	return r;
}

static bool is_text(const struct mime_part *p)
{
	return p->type == NULL || strcasecmp(p->type, "text") == 0;
}

/* Every text leaf's body, decoded and folded, NUL between parts (a search
 * string holds no NUL, so no match spans two parts). Walks the tree by its
 * links, without recursion. */
static int body_cache(struct imap_search_msg *m)
{
	if (m->have_body)
		return 0;
	struct buf part;
	buf_init(&part, 0);
	int r = 0;
	const struct mime_part *p = m->mime->root;
	while (p != NULL && r == 0) {
		if (p->children == NULL && !p->multipart && !p->opaque && is_text(p)) {
			buf_reset(&part);
			r = mime_part_text(m->mime, p, &part);
			if (r == 0)
				r = imap_search_fold(part.data != NULL ? part.data : "", part.len,
				                     &m->body_fold) |
				    buf_append(&m->body_fold, "", 1);
		}
		if (p->children != NULL) {
			p = p->children;
			continue;
		}
		while (p != NULL && p->next == NULL)
			p = p->parent;
		if (p != NULL)
			p = p->next;
	}
	buf_free(&part);
	m->have_body = r == 0;
	return r;
}

/* ---- keys ---- */

/* FROM, TO, CC and BCC match the field's address list in its normal form
 * (mime_address_write: comments dropped, "Name <local@domain>"), as
 * Dovecot does; other header keys match the raw value. The parser gives
 * those keys the field name only, so the name decides (HEADER FROM too). */
static bool is_address_key(const struct imap_search_key *k)
{
	return k->address != 0; /* HEADER From x matches the raw text, as Dovecot does */
}

/* The decoded value of an address field in its normal form. */
static int address_text(const struct mime_message *mm, const struct mime_hdr *h, struct buf *out)
{
	struct buf raw, norm;
	struct mime_address *a = NULL;
	size_t n = 0;

	buf_init(&raw, 0);
	buf_init(&norm, 0);
	int r = mime_header_value(mm, h, &raw);
	if (r == 0)
		r = mime_address_parse(raw.data != NULL ? raw.data : "", raw.len, &a, &n);
	if (r == 0)
		r = mime_address_write(a, n, &norm);
	if (r == 0)
		r = mime_decode_words(norm.data != NULL ? norm.data : "", norm.len, out);
	mime_address_free(a, n);
	buf_free(&raw);
	buf_free(&norm);
	return r;
}

static int match_header(const struct imap_search_key *k, struct imap_search_msg *m)
{
	if (load(m) < 0)
		return -1;
	const struct mime_message *mm = m->mime;
	struct buf val, fold;
	bool address = is_address_key(k);
	buf_init(&val, 0);
	buf_init(&fold, 0);
	int r = 0;
	for (size_t i = 0; i < mm->root->n_hdrs && r == 0; i++) {
		const struct mime_hdr *h = &mm->root->hdrs[i];
		if (!mime_header_is(mm, h, k->name))
			continue;
		if (k->len == 0) {
			r = 1;
			break;
		}
		buf_reset(&val);
		buf_reset(&fold);
		if ((address ? address_text(mm, h, &val) : header_text(mm, h, &val)) < 0 ||
		    imap_search_fold(val.data != NULL ? val.data : "", val.len, &fold) < 0)
			r = -1;
		else
			r = contains(&fold, k->str, k->len);
	}
	buf_free(&val);
	buf_free(&fold);
	return r;
}

static int match_text(const struct imap_search_key *k, struct imap_search_msg *m)
{
	if (load(m) < 0)
		return -1;
	if (k->kind == IMAP_SK_TEXT) {
		if (header_cache(m) < 0)
			return -1;
		int r = contains(&m->hdr_fold, k->str, k->len);
		if (r != 0)
			return r;
	}
	if (body_cache(m) < 0)
		return -1;
	return contains(&m->body_fold, k->str, k->len);
}

/* The day written in the Date: header; a missing or unreadable one counts
 * as 1-Jan-1970, as in Dovecot (its sent date is then 0). */
static int sent_day(struct imap_search_msg *m, int64_t *day_r)
{
	if (load(m) < 0)
		return -1;
	*day_r = 0;
	const struct mime_hdr *h = mime_header_find(m->mime, m->mime->root, "Date");
	struct buf val;
	buf_init(&val, 0);
	if (h != NULL && mime_header_value(m->mime, h, &val) == 0 &&
	    mime_date_day(val.data != NULL ? val.data : "", val.len, day_r) < 0)
		*day_r = 0;
	buf_free(&val);
	return 0;
}

static int64_t floor_day(time_t t)
{
	int64_t s = (int64_t)t;
	return s >= 0 ? s / 86400 : -((-s + 86399) / 86400);
}

static int compare_day(enum imap_search_kind kind, int64_t have, int64_t want)
{
	switch (kind) {
	case IMAP_SK_BEFORE:
	case IMAP_SK_SENTBEFORE:
		return have < want;
	case IMAP_SK_ON:
	case IMAP_SK_SENTON:
		return have == want;
	default:
		return have >= want;
	}
}

static int size_of(struct imap_search_msg *m, uint64_t *size_r)
{
	if (m->msg->vsize > 0 || m->msg->size == 0) {
		*size_r = m->msg->vsize;
		return 0;
	}
	if (load(m) < 0)
		return -1;
	*size_r = mime_crlf_size(m->text.data, m->text.len);
	return 0;
}

static int has_flag(const struct maildir_msg *msg, unsigned flag)
{
	switch (flag) {
	case IMAP_FLAG_SEEN:
		return (msg->flags & MAILDIR_FLAG_SEEN) != 0;
	case IMAP_FLAG_ANSWERED:
		return (msg->flags & MAILDIR_FLAG_REPLIED) != 0;
	case IMAP_FLAG_FLAGGED:
		return (msg->flags & MAILDIR_FLAG_FLAGGED) != 0;
	case IMAP_FLAG_DELETED:
		return (msg->flags & MAILDIR_FLAG_TRASHED) != 0;
	case IMAP_FLAG_DRAFT:
		return (msg->flags & MAILDIR_FLAG_DRAFT) != 0;
	default:
		return msg->recent != 0;
	}
}

static int eval_key(const struct imap_search_key *k, struct imap_search_msg *m);

static int eval_bool(const struct imap_search_key *k, struct imap_search_msg *m)
{
	int r;
	const struct imap_search_key *c;
	switch (k->kind) {
	case IMAP_SK_AND:
		for (c = k->children; c != NULL; c = c->next) {
			if ((r = eval_key(c, m)) != 1)
				return r;
		}
		return 1;
	case IMAP_SK_OR:
		for (c = k->children; c != NULL; c = c->next) {
			if ((r = eval_key(c, m)) != 0)
				return r;
		}
		return 0;
	default: /* NOT */
		r = eval_key(k->children, m);
		return r < 0 ? r : !r;
	}
}

static int eval_key(const struct imap_search_key *k, struct imap_search_msg *m)
{
	int64_t day;
	uint64_t size;
	if (m->msg == NULL) /* gone while its file was being opened */
		return -1;
	switch (k->kind) {
	case IMAP_SK_ALL:
		return 1;
	case IMAP_SK_AND:
	case IMAP_SK_OR:
	case IMAP_SK_NOT:
		return eval_bool(k, m);
	case IMAP_SK_FLAG:
		return has_flag(m->msg, k->flag);
	case IMAP_SK_KEYWORD:
		return k->kw_index >= 0 && (m->msg->keywords & (1u << k->kw_index)) != 0;
	case IMAP_SK_SEQSET:
		return imap_seqset_contains(k->ranges, k->nranges, m->seq);
	case IMAP_SK_UID:
		return imap_seqset_contains(k->ranges, k->nranges, m->msg->uid);
	case IMAP_SK_BEFORE:
	case IMAP_SK_ON:
	case IMAP_SK_SINCE:
		return compare_day(k->kind, floor_day(m->msg->date), k->day);
	case IMAP_SK_SENTBEFORE:
	case IMAP_SK_SENTON:
	case IMAP_SK_SENTSINCE:
		if (sent_day(m, &day) < 0)
			return -1;
		return compare_day(k->kind, day, k->day);
	case IMAP_SK_LARGER:
	case IMAP_SK_SMALLER:
		if (size_of(m, &size) < 0)
			return -1;
		return k->kind == IMAP_SK_LARGER ? size > k->size : size < k->size;
	case IMAP_SK_HEADER:
		return match_header(k, m);
	default: /* BODY, TEXT */
		return match_text(k, m);
	}
}

int imap_search_eval(const struct imap_search *q, struct imap_search_msg *m)
{
	return q->root != NULL ? eval_key(q->root, m) : 0;
}

void imap_search_eval_prepare(struct imap_search *q, struct maildir_mailbox *box, uint32_t max_seq,
                              uint32_t max_uid)
{
	for (size_t i = 0; i < q->npool; i++) {
		struct imap_search_key *k = &q->pool[i];
		if (k->kind == IMAP_SK_SEQSET || k->kind == IMAP_SK_UID)
			imap_seqset_resolve(k->ranges, k->nranges,
			                    k->kind == IMAP_SK_UID ? max_uid : max_seq);
		if (k->kind != IMAP_SK_KEYWORD)
			continue;
		char name[256];
		const char *err;
		k->kw_index = -1;
		if (k->len > 0 && k->len < sizeof(name) && memchr(k->str, '\0', k->len) == NULL) {
			memcpy(name, k->str, k->len);
			name[k->len] = '\0';
			k->kw_index = maildir_keyword_index(box, name, 0, &err);
		}
	}
}

void imap_search_msg_free(struct imap_search_msg *m)
{
	if (m->mime != NULL)
		mime_message_free(m->mime);
	m->mime = NULL;
	buf_free(&m->text);
	buf_free(&m->hdr_fold);
	buf_free(&m->body_fold);
}
