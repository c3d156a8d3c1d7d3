/* maildir-index.c: loft-index, a folder's cache of what listing needs (UID,
 * file name, S and W sizes, internal date) plus the directory and uidlist
 * stamps it reflects, so a warm open needs no readdir and no stat. Never the
 * truth: a missing, stale or corrupt file (checked by a count and an FNV-1a
 * checksum line) is ignored and the next sync rebuilds it. */
#include <stdlib.h>
#include <string.h>

#include "maildir-private.h"

#define INDEX_MAGIC "loft-index 1 "
#define INDEX_MAX   ((size_t)1024 * 1024 * 1024)

static uint64_t fnv64(const char *p, size_t len)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)p[i]) * 1099511628211ULL;
	return h;
}

/* Decimal number then one delimiter byte, which must be want. */
static int num(const char **pp, const char *end, int64_t *v_r, char want)
{
	const char *p = *pp;
	uint64_t v = 0;
	int digits = 0;
	while (p < end && *p >= '0' && *p <= '9' && digits < 19) {
		v = v * 10 + (uint64_t)(*p - '0');
		p++;
		digits++;
	}
	if (digits == 0 || v > INT64_MAX || p >= end || *p != want)
		return -1;
	*pp = p + 1;
	*v_r = (int64_t)v;
	return 0;
}

static int parse_header(const char **pp, const char *end, struct maildir_mailbox *box,
                        int64_t *count_r)
{
	const char *p = *pp;
	size_t mlen = strlen(INDEX_MAGIC);
	int64_t v[10];
	if ((size_t)(end - p) < mlen || memcmp(p, INDEX_MAGIC, mlen) != 0)
		return -1;
	p += mlen;
	for (int i = 0; i < 10; i++)
		if (num(&p, end, &v[i], i == 9 ? '\n' : ' ') < 0)
			return -1;
	if (v[1] == 0 || v[1] > UINT32_MAX || v[2] == 0 || v[2] > UINT32_MAX)
		return -1;
	*count_r = v[0];
	box->uidvalidity = (uint32_t)v[1];
	box->uidnext = (uint32_t)v[2];
	box->new_stamp = (struct maildir_dirstamp){v[3], v[4]};
	box->cur_stamp = (struct maildir_dirstamp){v[5], v[6]};
	box->uidlist_ino = v[7];
	box->uidlist_mtime_ns = v[8];
	box->uidlist_size = v[9];
	*pp = p;
	return 0;
}

static int parse_record(const char **pp, const char *end, struct maildir_msg *m)
{
	const char *p = *pp;
	int64_t uid, in_new, size, vsize, date;
	if (num(&p, end, &uid, ' ') < 0 || num(&p, end, &in_new, ' ') < 0 ||
	    num(&p, end, &size, ' ') < 0 || num(&p, end, &vsize, ' ') < 0 ||
	    num(&p, end, &date, ' ') < 0)
		return -1;
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	size_t flen = nl != NULL ? (size_t)(nl - p) : 0;
	if (flen == 0 || flen > MAILDIR_NAME_MAX || uid == 0 || uid > UINT32_MAX || in_new > 1 ||
	    p[0] == '.' || memchr(p, '/', flen) != NULL || memchr(p, '\0', flen) != NULL)
		return -1;
	memset(m, 0, sizeof(*m));
	m->uid = (uint32_t)uid;
	m->in_new = (int)in_new;
	m->size = (uint64_t)size;
	m->vsize = (uint64_t)vsize;
	m->date = (time_t)date;
	m->fname = strndup(p, flen);
	if (m->fname == NULL)
		return -1;
	m->base = strndup(p, maildir_filename_base_len(m->fname));
	if (m->base == NULL) {
		free(m->fname);
		return -1;
	}
	maildir_filename_flags(m->fname, &m->flags, &m->keywords);
	*pp = nl + 1;
	return 0;
}

int maildir_index_parse(const char *p, size_t len, struct maildir_mailbox *box)
{
	const char *end = p + len;
	int64_t count;
	maildir_msgs_clear(box);
	box->have_table = 0;
	/* the checksum line closes the file: "end <16 hex digits>\n" */
	if (len < 21 || p[len - 1] != '\n' || memcmp(end - 21, "end ", 4) != 0)
		return -1;
	char want[17];
	for (int i = 0; i < 16; i++)
		want[i] = end[-17 + i];
	want[16] = '\0';
	char *hexend;
	uint64_t sum = strtoull(want, &hexend, 16);
	if (hexend != want + 16 || sum != fnv64(p, len - 21))
		return -1;
	end -= 21;
	if (parse_header(&p, end, box, &count) < 0)
		return -1;
	/* one allocation for the table instead of a doubling series; a record
	 * takes at least 12 bytes, so count cannot ask for more than that */
	if (count > 0 && (uint64_t)count <= len / 12 && (size_t)count > box->cap) {
		struct maildir_msg *msgs = realloc(box->msgs, (size_t)count * sizeof(*msgs));
		if (msgs == NULL)
			return -1;
		box->msgs = msgs;
		box->cap = (size_t)count;
	}
	uint32_t last = 0;
	while (p < end) {
		struct maildir_msg m;
		if (parse_record(&p, end, &m) < 0)
			goto fail;
		if (m.uid <= last || m.uid >= box->uidnext || maildir_msgs_push(box, &m) < 0) {
			free(m.fname);
			free(m.base);
			goto fail;
		}
		last = m.uid;
	}
	if ((int64_t)box->count != count)
		goto fail;
	box->have_table = 1;
	return 0;
fail:
	maildir_msgs_clear(box);
	return -1;
}

int maildir_index_load(struct maildir_mailbox *box)
{
	char *path = maildir_path_join(box->path, MAILDIR_INDEX);
	if (path == NULL)
		return 0;
	struct buf b;
	buf_init(&b, INDEX_MAX);
	const char *error;
	int r = maildir_file_read(box->store, path, &b, INDEX_MAX, NULL, &error);
	free(path);
	if (r > 0 && maildir_index_parse(b.data, b.len, box) == 0) {
		box->stats.index_loads++;
		buf_free(&b);
		return 1;
	}
	buf_free(&b);
	box->stats.index_rebuilds++;
	box->uidvalidity = box->uidnext = 0;
	box->new_stamp = box->cur_stamp = (struct maildir_dirstamp){0, 0};
	box->uidlist_ino = box->uidlist_mtime_ns = box->uidlist_size = 0;
	return 0;
}

int maildir_index_write(struct maildir_mailbox *box, const char **error_r)
{
	struct buf b;
	buf_init(&b, 0);
	int ret =
	    buf_printf(&b, INDEX_MAGIC "%zu %u %u %lld %lld %lld %lld %lld %lld %lld\n", box->count,
	               box->uidvalidity, box->uidnext, (long long)box->new_stamp.mtime_ns,
	               (long long)box->new_stamp.size, (long long)box->cur_stamp.mtime_ns,
	               (long long)box->cur_stamp.size, (long long)box->uidlist_ino,
	               (long long)box->uidlist_mtime_ns, (long long)box->uidlist_size);
	for (size_t i = 0; i < box->count && ret == 0; i++) {
		const struct maildir_msg *m = &box->msgs[i];
		ret = buf_printf(&b, "%u %d %llu %llu %lld %s\n", m->uid, m->in_new ? 1 : 0,
		                 (unsigned long long)m->size, (unsigned long long)m->vsize,
		                 (long long)(m->date < 0 ? 0 : m->date), m->fname);
	}
	if (ret == 0)
		ret = buf_printf(&b, "end %016llx\n", (unsigned long long)fnv64(b.data, b.len));
	if (ret < 0) {
		buf_free(&b);
		return maildir_fail(box->store, error_r, "out of memory");
	}
	/* a cache: no fsync, a crash only costs a rescan */
	ret = maildir_file_replace(box->store, box->path, MAILDIR_INDEX, b.data, b.len, 0, error_r);
	buf_free(&b);
	if (ret == 0)
		box->stats.index_writes++;
	return ret;
}
