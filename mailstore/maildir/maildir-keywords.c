/* maildir-keywords.c: a folder's IMAP keywords. File names carry keyword
 * letters a..z; loft-keywords maps each letter's index to a name ("<index>
 * <name>" per line). The map only grows, is rewritten atomically under the
 * uidlist lock, and is reloaded on every full sync. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "maildir-private.h"

#define KEYWORDS_FILE_MAX (64 * 1024)
#define KEYWORD_NAME_MAX  128

void maildir_keywords_clear(struct maildir_mailbox *box)
{
	for (unsigned i = 0; i < MAILDIR_KEYWORDS_MAX; i++) {
		free(box->keywords[i]);
		box->keywords[i] = NULL;
	}
	box->keyword_count = 0;
}

static int keyword_valid(const char *p, size_t len)
{
	if (len == 0 || len > KEYWORD_NAME_MAX)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c <= ' ' || c >= 0x7f || strchr("(){%*\"\\]", c) != NULL)
			return 0;
	}
	return 1;
}

int maildir_keywords_load(struct maildir_mailbox *box, const char **error_r)
{
	char *path = maildir_path_join(box->path, MAILDIR_KEYWORDS);
	if (path == NULL)
		return maildir_fail(box->store, error_r, "out of memory");
	struct buf b;
	buf_init(&b, KEYWORDS_FILE_MAX);
	int r = maildir_file_read(box->store, path, &b, KEYWORDS_FILE_MAX, NULL, error_r);
	free(path);
	maildir_keywords_clear(box);
	/* lines must be "0 name", "1 name", ... in order: stop at the first
	 * that is not, so a damaged tail never shifts the letters */
	for (size_t off = 0; r > 0 && off < b.len;) {
		const char *line = b.data + off;
		const char *nl = memchr(line, '\n', b.len - off);
		if (nl == NULL)
			break;
		off = (size_t)(nl - b.data) + 1;
		unsigned idx = box->keyword_count;
		char want[8];
		int wl = snprintf(want, sizeof(want), "%u ", idx);
		size_t len = (size_t)(nl - line);
		if (idx >= MAILDIR_KEYWORDS_MAX || len <= (size_t)wl ||
		    memcmp(line, want, (size_t)wl) != 0 || !keyword_valid(line + wl, len - wl))
			break;
		if ((box->keywords[idx] = strndup(line + wl, len - (size_t)wl)) == NULL) {
			r = maildir_fail(box->store, error_r, "out of memory");
			break;
		}
		box->keyword_count++;
	}
	buf_free(&b);
	return r < 0 ? -1 : 0;
}

static int keyword_find(const struct maildir_mailbox *box, const char *name)
{
	for (unsigned i = 0; i < box->keyword_count; i++)
		if (strcasecmp(box->keywords[i], name) == 0)
			return (int)i;
	return -1;
}

static int keywords_write(struct maildir_mailbox *box, const char **error_r)
{
	struct buf b;
	buf_init(&b, 0);
	int ret = 0;
	for (unsigned i = 0; i < box->keyword_count && ret == 0; i++)
		ret = buf_printf(&b, "%u %s\n", i, box->keywords[i]);
	if (ret < 0)
		ret = maildir_fail(box->store, error_r, "out of memory");
	else
		ret = maildir_file_replace(box->store, box->path, MAILDIR_KEYWORDS,
		                           b.data != NULL ? b.data : "", b.len, 1, error_r);
	buf_free(&b);
	return ret;
}

int maildir_keyword_index(struct maildir_mailbox *box, const char *name, int create,
                          const char **error_r)
{
	if (!keyword_valid(name, strlen(name)))
		return maildir_fail(box->store, error_r, "invalid keyword");
	int idx = keyword_find(box, name);
	if (idx >= 0)
		return idx;
	if (!create)
		return maildir_fail(box->store, error_r, "unknown keyword");
	if (maildir_uidlist_lock(box, error_r) < 0)
		return -1;
	/* another process may have added names since we last loaded */
	if (maildir_keywords_load(box, error_r) < 0)
		idx = -1;
	else if ((idx = keyword_find(box, name)) < 0) {
		if (box->keyword_count >= MAILDIR_KEYWORDS_MAX)
			idx = maildir_fail(box->store, error_r, "no free keyword letter");
		else if ((box->keywords[box->keyword_count] = strdup(name)) == NULL)
			idx = maildir_fail(box->store, error_r, "out of memory");
		else {
			idx = (int)box->keyword_count++;
			if (keywords_write(box, error_r) < 0) {
				box->keyword_count--;
				free(box->keywords[idx]);
				box->keywords[idx] = NULL;
				idx = -1;
			}
		}
	}
	maildir_uidlist_unlock(box);
	return idx;
}

const char *maildir_keyword_name(const struct maildir_mailbox *box, unsigned idx)
{
	return idx < box->keyword_count ? box->keywords[idx] : NULL;
}
