/* maildir-folder.c: a user's Maildir++ folder tree for loftmaildir callers:
 * the store (root, separator, host name), IMAP name validation and mapping
 * ("Archive/2026" -> "<root>/.Archive.2026", INBOX -> the root), and folder
 * create, rename and delete (each with its children) and listing. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "maildir-private.h"

#define FOLDER_NAME_MAX 200
#define TREE_DEPTH_MAX  8

static void host_sanitise(char *dst, size_t size, const char *src)
{
	/* '/' and ':' would break the file name; Dovecot escapes them too */
	size_t n = 0;
	for (; *src != '\0' && n + 1 < size; src++) {
		unsigned char c = (unsigned char)*src;
		dst[n++] = (c == '/' || c == ':' || c <= ' ' || c >= 0x7f) ? '_' : (char)c;
	}
	dst[n] = '\0';
	if (n == 0)
		snprintf(dst, size, "localhost");
}

int maildir_store_init(struct maildir_store *st, const char *root, char sep, const char *host,
                       const char **error_r)
{
	memset(st, 0, sizeof(*st));
	if (sep != '/' && sep != '.')
		return maildir_fail(st, error_r, "separator must be '/' or '.'");
	if (root == NULL || root[0] == '\0')
		return maildir_fail(st, error_r, "empty Maildir root");
	st->root = strdup(root);
	if (st->root == NULL)
		return maildir_fail(st, error_r, "out of memory");
	size_t len = strlen(st->root);
	while (len > 1 && st->root[len - 1] == '/')
		st->root[--len] = '\0';
	st->sep = sep;
	char hn[256];
	if (host == NULL) {
		if (gethostname(hn, sizeof(hn)) < 0)
			hn[0] = '\0';
		hn[sizeof(hn) - 1] = '\0';
		host = hn;
	}
	host_sanitise(st->host, sizeof(st->host), host);
	return 0;
}

void maildir_store_deinit(struct maildir_store *st)
{
	free(st->root);
	st->root = NULL;
}

int maildir_name_validate(const char *name, char sep, const char **error_r)
{
	size_t len = strlen(name);
	if (len == 0 || len > FOLDER_NAME_MAX) {
		*error_r = len == 0 ? "empty folder name" : "folder name too long";
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c < 0x20 || c == 0x7f) {
			*error_r = "control character in folder name";
			return -1;
		}
		/* '.' is Maildir++'s own hierarchy mark and '/' a path
		 * separator: neither may appear inside a component */
		if ((c == '.' && sep == '/') || (c == '/' && sep == '.')) {
			*error_r = "character not allowed in folder name";
			return -1;
		}
	}
	const char *p = name;
	for (;;) {
		const char *e = strchr(p, sep);
		size_t clen = e != NULL ? (size_t)(e - p) : strlen(p);
		if (clen == 0) {
			*error_r = "empty component in folder name";
			return -1;
		}
		if ((clen == 1 && p[0] == '.') || (clen == 2 && p[0] == '.' && p[1] == '.')) {
			*error_r = "'.' or '..' in folder name";
			return -1;
		}
		if (e == NULL)
			break;
		p = e + 1;
	}
	return 0;
}

static int name_is_inbox(const char *name)
{
	return strcasecmp(name, "INBOX") == 0;
}

/* On-disk directory name under the root: "" for INBOX, ".A.B" otherwise. */
static char *folder_dirname(struct maildir_store *st, const char *name, const char **error_r)
{
	if (maildir_name_validate(name, st->sep, error_r) < 0)
		return NULL;
	if (name_is_inbox(name))
		return strdup("");
	size_t len = strlen(name);
	char *d = malloc(len + 2);
	if (d == NULL) {
		*error_r = "out of memory";
		return NULL;
	}
	d[0] = '.';
	for (size_t i = 0; i <= len; i++)
		d[i + 1] = name[i] == st->sep ? '.' : name[i];
	/* INBOX is case-insensitive, also as the parent of children */
	if (strncasecmp(d + 1, "INBOX.", 6) == 0)
		memcpy(d + 1, "INBOX", 5);
	return d;
}

char *maildir_folder_path(struct maildir_store *st, const char *name, const char **error_r)
{
	char *d = folder_dirname(st, name, error_r);
	if (d == NULL)
		return NULL;
	char *p = d[0] == '\0' ? strdup(st->root) : maildir_path_join(st->root, d);
	free(d);
	if (p == NULL)
		*error_r = "out of memory";
	return p;
}

static int mkdir_if_missing(const char *path)
{
	return mkdir(path, 0700) < 0 && errno != EEXIST ? -1 : 0;
}

/* tmp/ new/ cur/ inside dir (each may already exist). */
static int make_subdirs(struct maildir_store *st, const char *dir, const char **error_r)
{
	static const char *const subs[] = {"tmp", "new", "cur"};
	for (size_t i = 0; i < 3; i++) {
		char *p = maildir_path_join(dir, subs[i]);
		if (p == NULL)
			return maildir_fail(st, error_r, "out of memory");
		int r = mkdir_if_missing(p);
		if (r < 0)
			maildir_fail_errno(st, error_r, "mkdir(%s)", p);
		free(p);
		if (r < 0)
			return -1;
	}
	return 0;
}

static int ensure_root(struct maildir_store *st, const char **error_r)
{
	if (mkdir_if_missing(st->root) < 0)
		return maildir_fail_errno(st, error_r, "mkdir(%s)", st->root);
	return make_subdirs(st, st->root, error_r);
}

int maildir_inbox_ensure(struct maildir_store *st, const char **error_r)
{
	if (ensure_root(st, error_r) < 0)
		return -1;
	static const char *const subs[] = {"", "tmp", "new", "cur"};
	for (size_t i = 0; i < 4; i++) {
		char *p =
		    subs[i][0] != '\0' ? maildir_path_join(st->root, subs[i]) : strdup(st->root);
		if (p == NULL)
			return maildir_fail(st, error_r, "out of memory");
		/* what a later open needs: directories the user may list and
		 * write (the uidlist lock lives in the root) */
		struct stat sb;
		int ok = stat(p, &sb) == 0;
		if (ok && !S_ISDIR(sb.st_mode)) {
			errno = ENOTDIR;
			ok = 0;
		}
		if (ok && access(p, R_OK | W_OK | X_OK) < 0)
			ok = 0;
		if (!ok)
			maildir_fail_errno(st, error_r, "unusable INBOX directory %s", p);
		free(p);
		if (!ok)
			return -1;
	}
	return 0;
}

int maildir_folder_exists(struct maildir_store *st, const char *name)
{
	const char *error;
	char *p = maildir_folder_path(st, name, &error);
	if (p == NULL)
		return 0;
	struct stat sb;
	int ok = lstat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
	free(p);
	return ok;
}

int maildir_folder_create(struct maildir_store *st, const char *name, const char **error_r)
{
	char *path = maildir_folder_path(st, name, error_r);
	if (path == NULL)
		return -1;
	int ret = -1;
	if (name_is_inbox(name)) {
		struct stat sb;
		int existed = stat(st->root, &sb) == 0;
		ret = ensure_root(st, error_r);
		if (ret == 0 && existed)
			ret = maildir_fail(st, error_r, "exists");
		free(path);
		return ret;
	}
	if (ensure_root(st, error_r) < 0)
		goto out;
	if (mkdir(path, 0700) < 0) {
		if (errno == EEXIST)
			maildir_fail(st, error_r, "exists");
		else
			maildir_fail_errno(st, error_r, "mkdir(%s)", path);
		goto out;
	}
	if (make_subdirs(st, path, error_r) < 0)
		goto out;
	/* marks a Maildir++ subfolder for delivery agents */
	char *mf = maildir_path_join(path, "maildirfolder");
	int fd = mf != NULL ? open(mf, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600) : -1;
	if (fd < 0)
		maildir_fail_errno(st, error_r, "create maildirfolder in %s", path);
	else
		close(fd);
	free(mf);
	if (fd >= 0)
		ret = 0;
out:
	free(path);
	return ret;
}

/* Remove dirfd/name and everything below it. */
static int rm_tree_at(int parent, const char *name, int depth)
{
	if (unlinkat(parent, name, 0) == 0 || errno == ENOENT)
		return 0;
	if ((errno != EISDIR && errno != EPERM) || depth > TREE_DEPTH_MAX)
		return -1;
	int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	DIR *d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return -1;
	}
	int ret = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (rm_tree_at(dirfd(d), de->d_name, depth + 1) < 0)
			ret = -1;
	}
	closedir(d);
	if (ret == 0 && unlinkat(parent, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		ret = -1;
	return ret;
}

/* Collect the on-disk names of folder dname and its children. */
static int collect_family(struct maildir_store *st, const char *dname, char ***out_r,
                          size_t *count_r, const char **error_r)
{
	DIR *d = opendir(st->root);
	if (d == NULL)
		return maildir_fail_errno(st, error_r, "opendir(%s)", st->root);
	size_t dlen = strlen(dname), count = 0, cap = 0;
	char **out = NULL;
	struct dirent *de;
	int ret = 0;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, dname, dlen) != 0 ||
		    (de->d_name[dlen] != '\0' && de->d_name[dlen] != '.'))
			continue;
		if (count == cap) {
			cap = cap ? cap * 2 : 8;
			char **n = realloc(out, cap * sizeof(*out));
			if (n == NULL) {
				ret = -1;
				break;
			}
			out = n;
		}
		if ((out[count] = strdup(de->d_name)) == NULL) {
			ret = -1;
			break;
		}
		count++;
	}
	closedir(d);
	if (ret < 0) {
		maildir_names_free(out, count);
		return maildir_fail(st, error_r, "out of memory");
	}
	*out_r = out;
	*count_r = count;
	return 0;
}

static int family_has(char **names, size_t count, const char *dname)
{
	for (size_t i = 0; i < count; i++)
		if (strcmp(names[i], dname) == 0)
			return 1;
	return 0;
}

int maildir_folder_rename(struct maildir_store *st, const char *from, const char *to,
                          const char **error_r)
{
	if (name_is_inbox(from) || name_is_inbox(to))
		return maildir_fail(st, error_r, "INBOX cannot be renamed here");
	char *src = folder_dirname(st, from, error_r);
	char *dst = src != NULL ? folder_dirname(st, to, error_r) : NULL;
	char **fam = NULL, **taken = NULL;
	size_t nfam = 0, ntaken = 0, slen = src != NULL ? strlen(src) : 0;
	int ret = -1;
	if (dst == NULL)
		goto out;
	if (strncmp(dst, src, slen) == 0 && (dst[slen] == '\0' || dst[slen] == '.')) {
		maildir_fail(st, error_r, "cannot rename a folder into itself");
		goto out;
	}
	if (collect_family(st, src, &fam, &nfam, error_r) < 0 ||
	    collect_family(st, dst, &taken, &ntaken, error_r) < 0)
		goto out;
	if (!family_has(fam, nfam, src)) {
		maildir_fail(st, error_r, "no such folder");
		goto out;
	}
	if (ntaken > 0) {
		maildir_fail(st, error_r, "exists");
		goto out;
	}
	ret = 0;
	for (size_t i = 0; i < nfam && ret == 0; i++) {
		struct buf a, b;
		buf_init(&a, 0);
		buf_init(&b, 0);
		if (buf_printf(&a, "%s/%s", st->root, fam[i]) < 0 ||
		    buf_printf(&b, "%s/%s%s", st->root, dst, fam[i] + slen) < 0)
			ret = maildir_fail(st, error_r, "out of memory");
		else if (rename(a.data, b.data) < 0)
			ret = maildir_fail_errno(st, error_r, "rename(%s)", a.data);
		buf_free(&a);
		buf_free(&b);
	}
	if (ret == 0 && maildir_fsync_dir(st->root) < 0)
		ret = maildir_fail_errno(st, error_r, "fsync(%s)", st->root);
out:
	maildir_names_free(fam, nfam);
	maildir_names_free(taken, ntaken);
	free(src);
	free(dst);
	return ret;
}

int maildir_folder_delete(struct maildir_store *st, const char *name, const char **error_r)
{
	if (name_is_inbox(name))
		return maildir_fail(st, error_r, "INBOX cannot be deleted");
	char *dname = folder_dirname(st, name, error_r);
	if (dname == NULL)
		return -1;
	char **fam = NULL;
	size_t nfam = 0;
	int ret = -1;
	if (collect_family(st, dname, &fam, &nfam, error_r) < 0)
		goto out;
	if (!family_has(fam, nfam, dname)) {
		maildir_fail(st, error_r, "no such folder");
		goto out;
	}
	int rootfd = open(st->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0) {
		maildir_fail_errno(st, error_r, "open(%s)", st->root);
		goto out;
	}
	ret = 0;
	for (size_t i = 0; i < nfam; i++) {
		/* Move it out of sight first so nobody opens a half-deleted
		 * folder; names starting with ".." are never listed. */
		char trash[64];
		snprintf(trash, sizeof(trash), "..loft-trash.%ld.%zu", (long)getpid(), i);
		const char *victim = renameat(rootfd, fam[i], rootfd, trash) == 0 ? trash : fam[i];
		if (rm_tree_at(rootfd, victim, 0) < 0 && ret == 0)
			ret = maildir_fail_errno(st, error_r, "delete %s/%s", st->root, fam[i]);
	}
	if (fsync(rootfd) < 0 && ret == 0)
		ret = maildir_fail_errno(st, error_r, "fsync(%s)", st->root);
	close(rootfd);
out:
	maildir_names_free(fam, nfam);
	free(dname);
	return ret;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int maildir_folder_list(struct maildir_store *st, char ***names_r, const char **error_r)
{
	DIR *d = opendir(st->root);
	if (d == NULL)
		return maildir_fail_errno(st, error_r, "opendir(%s)", st->root);
	size_t count = 1, cap = 16;
	char **names = malloc(cap * sizeof(*names));
	int oom = names == NULL || (names[0] = strdup("INBOX")) == NULL;
	struct dirent *de;
	while (!oom && (de = readdir(d)) != NULL) {
		if (de->d_name[0] != '.')
			continue;
		struct stat sb;
		if (fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISDIR(sb.st_mode))
			continue;
		char *n = strdup(de->d_name + 1);
		if (n == NULL) {
			oom = 1;
			break;
		}
		for (char *p = n; *p != '\0'; p++)
			if (*p == '.')
				*p = st->sep;
		const char *err;
		/* skips ".", "..", trash and anything not a valid name */
		if (maildir_name_validate(n, st->sep, &err) < 0 || name_is_inbox(n)) {
			free(n);
			continue;
		}
		if (count == cap) {
			char **nn = realloc(names, cap * 2 * sizeof(*names));
			if (nn == NULL) {
				free(n);
				oom = 1;
				break;
			}
			names = nn;
			cap *= 2;
		}
		names[count++] = n;
	}
	closedir(d);
	if (oom) {
		maildir_names_free(names, names != NULL && names[0] != NULL ? count : 0);
		return maildir_fail(st, error_r, "out of memory");
	}
	qsort(names + 1, count - 1, sizeof(*names), name_cmp);
	*names_r = names;
	return (int)count;
}

void maildir_names_free(char **names, size_t count)
{
	if (names == NULL)
		return;
	for (size_t i = 0; i < count; i++)
		free(names[i]);
	free(names);
}
