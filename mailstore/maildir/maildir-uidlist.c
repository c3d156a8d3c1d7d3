/* maildir-uidlist.c: a folder's loft-uidlist, the truth about its IMAP UIDs:
 * a header "loft-uidlist 1 <uidvalidity> <uidnext> <recent-uid>" and then one
 * "<uid> <base name>" line per message in UID order. Changed only while
 * holding an OFD write lock on loft-uidlist.lock and always rewritten whole
 * (tmp file, fsync, rename), so readers never see a torn file. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "maildir-private.h"

#define UIDLIST_MAGIC "loft-uidlist 1 "
#define UIDLIST_MAX   ((size_t)512 * 1024 * 1024)

/* Parse a decimal uint32 at *pp up to a delimiter; advances *pp. */
static int parse_u32(const char **pp, const char *end, uint32_t *v_r)
{
	const char *p = *pp;
	uint64_t v = 0;
	if (p >= end || *p < '0' || *p > '9')
		return -1;
	while (p < end && *p >= '0' && *p <= '9') {
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > UINT32_MAX)
			return -1;
		p++;
	}
	*pp = p;
	*v_r = (uint32_t)v;
	return 0;
}

static int base_valid(const char *p, size_t len)
{
	if (len == 0 || len > MAILDIR_NAME_MAX || p[0] == '.')
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c <= ' ' || c == 0x7f || c == '/' || c == ':')
			return 0;
	}
	return 1;
}

int maildir_uidlist_append(struct maildir_uidlist *ul, uint32_t uid, const char *base, size_t len)
{
	if (ul->count == ul->cap) {
		size_t cap = ul->cap ? ul->cap * 2 : 64;
		struct maildir_uid_entry *n = realloc(ul->ents, cap * sizeof(*n));
		if (n == NULL)
			return -1;
		ul->ents = n;
		ul->cap = cap;
	}
	char *b = strndup(base, len);
	if (b == NULL)
		return -1;
	ul->ents[ul->count].uid = uid;
	ul->ents[ul->count].base = b;
	ul->count++;
	return 0;
}

static int parse_header(const char **pp, const char *end, struct maildir_uidlist *ul)
{
	size_t mlen = strlen(UIDLIST_MAGIC);
	const char *p = *pp;
	if ((size_t)(end - p) < mlen || memcmp(p, UIDLIST_MAGIC, mlen) != 0)
		return -1;
	p += mlen;
	if (parse_u32(&p, end, &ul->uidvalidity) < 0 || p >= end || *p++ != ' ' ||
	    parse_u32(&p, end, &ul->uidnext) < 0 || p >= end || *p++ != ' ' ||
	    parse_u32(&p, end, &ul->recent_uid) < 0 || p >= end || *p++ != '\n')
		return -1;
	if (ul->uidvalidity == 0 || ul->uidnext == 0 || ul->recent_uid == 0 ||
	    ul->recent_uid > ul->uidnext)
		return -1;
	*pp = p;
	return 0;
}

int maildir_uidlist_parse(const char *p, size_t len, struct maildir_uidlist *ul,
                          const char **error_r)
{
	const char *end = p + len;
	memset(ul, 0, sizeof(*ul));
	if (parse_header(&p, end, ul) < 0) {
		*error_r = "bad uidlist header";
		return -1;
	}
	uint32_t last = 0;
	while (p < end) {
		uint32_t uid;
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL || parse_u32(&p, nl, &uid) < 0 || p >= nl || *p++ != ' ' ||
		    !base_valid(p, (size_t)(nl - p))) {
			*error_r = "bad uidlist line";
			goto fail;
		}
		/* UIDs strictly increase and stay below UIDNEXT */
		if (uid <= last || uid >= ul->uidnext) {
			*error_r = "uidlist UIDs out of order";
			goto fail;
		}
		if (maildir_uidlist_append(ul, uid, p, (size_t)(nl - p)) < 0) {
			*error_r = "out of memory";
			goto fail;
		}
		last = uid;
		p = nl + 1;
	}
	return 0;
fail:
	maildir_uidlist_free(ul);
	return -1;
}

void maildir_uidlist_free(struct maildir_uidlist *ul)
{
	for (size_t i = 0; i < ul->count; i++)
		free(ul->ents[i].base);
	free(ul->ents);
	ul->ents = NULL;
	ul->count = ul->cap = 0;
}

int maildir_uidlist_lock(struct maildir_mailbox *box, const char **error_r)
{
	if (box->lock_depth++ > 0)
		return 0;
	char *path = maildir_path_join(box->path, MAILDIR_UIDLIST_LOCK);
	if (path == NULL) {
		box->lock_depth--;
		return maildir_fail(box->store, error_r, "out of memory");
	}
	int fd;
	int r = maildir_lock_file(box->store, path, &fd, error_r);
	free(path);
	if (r < 0) {
		box->lock_depth--;
		return -1;
	}
	box->lock_fd = fd;
	return 0;
}

void maildir_uidlist_unlock(struct maildir_mailbox *box)
{
	if (box->lock_depth == 0 || --box->lock_depth > 0)
		return;
	/* closing the descriptor releases the lock */
	close(box->lock_fd);
	box->lock_fd = -1;
}

int maildir_uidlist_read(struct maildir_mailbox *box, struct maildir_uidlist *ul,
                         const char **error_r)
{
	char *path = maildir_path_join(box->path, MAILDIR_UIDLIST);
	if (path == NULL)
		return maildir_fail(box->store, error_r, "out of memory");
	struct buf b;
	buf_init(&b, UIDLIST_MAX);
	int r = maildir_file_read(box->store, path, &b, UIDLIST_MAX, NULL, error_r);
	free(path);
	const char *perr;
	if (r > 0 && maildir_uidlist_parse(b.data != NULL ? b.data : "", b.len, ul, &perr) == 0) {
		box->stats.uidlist_reads++;
		buf_free(&b);
		return 1;
	}
	buf_free(&b);
	if (r < 0)
		return -1;
	/* Missing or corrupt: the caller starts over with a new UIDVALIDITY
	 * (maildir-uidvalidity.c), so UIDs clients cached are void. */
	memset(ul, 0, sizeof(*ul));
	ul->uidnext = 1;
	ul->recent_uid = 1;
	return 0;
}

int maildir_uidlist_write(struct maildir_mailbox *box, const struct maildir_uidlist *ul,
                          const char **error_r)
{
	struct buf b;
	buf_init(&b, 0);
	int ret = buf_printf(&b, UIDLIST_MAGIC "%u %u %u\n", ul->uidvalidity, ul->uidnext,
	                     ul->recent_uid);
	for (size_t i = 0; i < ul->count && ret == 0; i++)
		ret = buf_printf(&b, "%u %s\n", ul->ents[i].uid, ul->ents[i].base);
	if (ret < 0)
		ret = maildir_fail(box->store, error_r, "out of memory");
	else
		ret = maildir_file_replace(box->store, box->path, MAILDIR_UIDLIST, b.data, b.len, 1,
		                           error_r);
	buf_free(&b);
	if (ret == 0)
		box->stats.uidlist_writes++;
	return ret;
}

int maildir_uidlist_stamp(struct maildir_mailbox *box, int64_t *ino_r, int64_t *mtime_r,
                          int64_t *size_r)
{
	char *path = maildir_path_join(box->path, MAILDIR_UIDLIST);
	struct stat sb;
	int r = path != NULL ? stat(path, &sb) : -1;
	free(path);
	if (r < 0) {
		*ino_r = *mtime_r = *size_r = 0;
		return -1;
	}
	*ino_r = (int64_t)sb.st_ino;
	*mtime_r = maildir_stat_mtime_ns(&sb);
	*size_r = (int64_t)sb.st_size;
	return 0;
}
