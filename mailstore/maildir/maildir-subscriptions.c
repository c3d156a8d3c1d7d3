/* maildir-subscriptions.c: the IMAP subscription list of a Maildir, kept in
 * <root>/subscriptions as one folder name per line (like Dovecot) and always
 * replaced atomically (tmp file + rename), never edited in place. */
#include <stdlib.h>
#include <string.h>

#include "maildir-private.h"

#define SUBSCRIPTIONS_MAX (1024 * 1024)

static int push_name(char ***names, size_t *count, const char *p, size_t len)
{
	char **n = realloc(*names, (*count + 1) * sizeof(**names));
	if (n == NULL)
		return -1;
	*names = n;
	if ((n[*count] = strndup(p, len)) == NULL)
		return -1;
	(*count)++;
	return 0;
}

int maildir_subscriptions_read(struct maildir_store *st, char ***names_r, const char **error_r)
{
	char *path = maildir_path_join(st->root, MAILDIR_SUBSCRIPTIONS);
	if (path == NULL)
		return maildir_fail(st, error_r, "out of memory");
	struct buf b;
	buf_init(&b, SUBSCRIPTIONS_MAX);
	int r = maildir_file_read(st, path, &b, SUBSCRIPTIONS_MAX, NULL, error_r);
	free(path);
	char **names = NULL;
	size_t count = 0;
	for (size_t off = 0; r > 0 && off < b.len;) {
		const char *line = b.data + off;
		const char *nl = memchr(line, '\n', b.len - off);
		size_t len = nl != NULL ? (size_t)(nl - line) : b.len - off;
		off += len + 1;
		if (len > 0 && line[len - 1] == '\r')
			len--;
		if (len == 0 || memchr(line, '\0', len) != NULL)
			continue;
		if (push_name(&names, &count, line, len) < 0) {
			r = maildir_fail(st, error_r, "out of memory");
			break;
		}
	}
	buf_free(&b);
	if (r < 0) {
		maildir_names_free(names, count);
		return -1;
	}
	*names_r = names;
	return (int)count;
}

int maildir_subscription_set(struct maildir_store *st, const char *name, int subscribe,
                             const char **error_r)
{
	if (maildir_name_validate(name, st->sep, error_r) < 0)
		return -1;
	subscribe = subscribe != 0;
	char **names;
	int n = maildir_subscriptions_read(st, &names, error_r);
	if (n < 0)
		return -1;
	struct buf out;
	buf_init(&out, 0);
	int found = 0, ret = 0;
	for (int i = 0; i < n && ret == 0; i++) {
		if (strcmp(names[i], name) == 0) {
			found = 1;
			if (!subscribe)
				continue;
		}
		if (buf_printf(&out, "%s\n", names[i]) < 0)
			ret = maildir_fail(st, error_r, "out of memory");
	}
	if (ret == 0 && subscribe && !found && buf_printf(&out, "%s\n", name) < 0)
		ret = maildir_fail(st, error_r, "out of memory");
	/* nothing to change: spare the rewrite */
	if (ret == 0 && found != subscribe)
		ret = maildir_file_replace(st, st->root, MAILDIR_SUBSCRIPTIONS,
		                           out.data != NULL ? out.data : "", out.len, 1, error_r);
	buf_free(&out);
	maildir_names_free(names, (size_t)n);
	return ret;
}
