/* maildir-sync.c: bringing a mailbox's message table in line with its new/
 * and cur/ directories and its uidlist, under the uidlist lock. Directories
 * are read only when their stamps (mtime, size) differ from the table's,
 * message files are stat'ed only when first seen, UIDs go to unseen files in
 * order, vanished files leave the uidlist, and \Recent goes to exactly one
 * session through the uidlist's recent-uid watermark. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "maildir-private.h"

/* A directory changed this recently may change again within the same
 * timestamp tick without its mtime moving: don't trust such a stamp. */
#define STAMP_TRUST_NS (2LL * 1000000000LL)

struct scan_file {
	char *fname;
	size_t base_len;
	int in_new;
	int taken; /* matched to a uidlist entry */
};

struct scan {
	struct scan_file *files;
	size_t count, cap;
	/* open-addressing hash of base name -> files[] index + 1 */
	size_t *slots;
	size_t nslots;
};

static uint64_t hash_mem(const char *p, size_t len)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)p[i]) * 1099511628211ULL;
	return h;
}

static int scan_add(struct scan *sc, const char *fname, int in_new)
{
	if (sc->count == sc->cap) {
		size_t cap = sc->cap ? sc->cap * 2 : 256;
		struct scan_file *n = realloc(sc->files, cap * sizeof(*n));
		if (n == NULL)
			return -1;
		sc->files = n;
		sc->cap = cap;
	}
	struct scan_file *f = &sc->files[sc->count];
	if ((f->fname = strdup(fname)) == NULL)
		return -1;
	f->base_len = maildir_filename_base_len(fname);
	f->in_new = in_new;
	f->taken = 0;
	sc->count++;
	return 0;
}

static void scan_free(struct scan *sc)
{
	for (size_t i = 0; i < sc->count; i++)
		free(sc->files[i].fname);
	free(sc->files);
	free(sc->slots);
	memset(sc, 0, sizeof(*sc));
}

/* Index files by base name; a base seen twice keeps its first file. */
static int scan_hash(struct scan *sc)
{
	sc->nslots = 16;
	while (sc->nslots < sc->count * 2)
		sc->nslots *= 2;
	sc->slots = calloc(sc->nslots, sizeof(*sc->slots));
	if (sc->slots == NULL)
		return -1;
	for (size_t i = 0; i < sc->count; i++) {
		struct scan_file *f = &sc->files[i];
		size_t s = hash_mem(f->fname, f->base_len) & (sc->nslots - 1);
		for (;; s = (s + 1) & (sc->nslots - 1)) {
			if (sc->slots[s] == 0) {
				sc->slots[s] = i + 1;
				break;
			}
			struct scan_file *o = &sc->files[sc->slots[s] - 1];
			if (o->base_len == f->base_len &&
			    memcmp(o->fname, f->fname, f->base_len) == 0) {
				f->taken = 1; /* duplicate: ignored */
				break;
			}
		}
	}
	return 0;
}

static struct scan_file *scan_find(struct scan *sc, const char *base, size_t len)
{
	size_t s = hash_mem(base, len) & (sc->nslots - 1);
	for (; sc->slots[s] != 0; s = (s + 1) & (sc->nslots - 1)) {
		struct scan_file *f = &sc->files[sc->slots[s] - 1];
		if (f->base_len == len && memcmp(f->fname, base, len) == 0)
			return f;
	}
	return NULL;
}

static int name_usable(const char *name)
{
	size_t len = strlen(name);
	if (name[0] == '.' || len > MAILDIR_NAME_MAX)
		return 0;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)name[i] <= ' ' || (unsigned char)name[i] == 0x7f)
			return 0;
	return 1;
}

static int read_dir(struct maildir_mailbox *box, const char *sub, int in_new, struct scan *sc,
                    const char **error_r)
{
	char *path = maildir_path_join(box->path, sub);
	if (path == NULL)
		return maildir_fail(box->store, error_r, "out of memory");
	DIR *d = opendir(path);
	if (d == NULL) {
		maildir_fail_errno(box->store, error_r, "opendir(%s)", path);
		free(path);
		return -1;
	}
	box->stats.readdirs++;
	struct dirent *de;
	int ret = 0;
	while ((de = readdir(d)) != NULL) {
		/* dot files are not messages; names with blanks or control
		 * bytes could not be written to the line-based uidlist */
		if (!name_usable(de->d_name))
			continue;
		if (scan_add(sc, de->d_name, in_new) < 0) {
			ret = maildir_fail(box->store, error_r, "out of memory");
			break;
		}
	}
	closedir(d);
	free(path);
	return ret;
}

static int dir_stamp(struct maildir_mailbox *box, const char *sub, struct maildir_dirstamp *s_r,
                     const char **error_r)
{
	char *path = maildir_path_join(box->path, sub);
	struct stat sb;
	int r = path != NULL ? stat(path, &sb) : -1;
	if (r < 0) {
		maildir_fail_errno(box->store, error_r, "stat(%s)", path != NULL ? path : sub);
		free(path);
		return -1;
	}
	free(path);
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	int64_t now_ns = (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec;
	s_r->mtime_ns = maildir_stat_mtime_ns(&sb);
	s_r->size = (int64_t)sb.st_size;
	if (now_ns - s_r->mtime_ns < STAMP_TRUST_NS)
		s_r->mtime_ns = 0;
	return 0;
}

static int stamp_same(const struct maildir_dirstamp *a, const struct maildir_dirstamp *b)
{
	return a->mtime_ns != 0 && a->mtime_ns == b->mtime_ns && a->size == b->size;
}

/* Files of one directory: from the current table when its stamp is
 * unchanged (no readdir), else from disk. */
static int collect(struct maildir_mailbox *box, int in_new, const struct maildir_dirstamp *now,
                   struct scan *sc, const char **error_r)
{
	const struct maildir_dirstamp *old = in_new ? &box->new_stamp : &box->cur_stamp;
	if (box->have_table && stamp_same(old, now)) {
		for (size_t i = 0; i < box->count; i++)
			if (box->msgs[i].in_new == in_new &&
			    scan_add(sc, box->msgs[i].fname, in_new) < 0)
				return maildir_fail(box->store, error_r, "out of memory");
		return 0;
	}
	return read_dir(box, in_new ? "new" : "cur", in_new, sc, error_r);
}

/* Sizes and date for a file not in the table: from its name, else disk. */
static int file_info(struct maildir_mailbox *box, struct maildir_msg *m)
{
	char *path = maildir_msg_path(box, m);
	if (path == NULL)
		return -1;
	struct stat sb;
	box->stats.file_stats++;
	if (stat(path, &sb) < 0) {
		free(path);
		return -1;
	}
	m->date = sb.st_mtim.tv_sec;
	uint64_t s, w;
	if (maildir_filename_sizes(m->fname, &s, &w) == 0) {
		m->size = s;
		m->vsize = w;
		free(path);
		return 0;
	}
	/* a file some other tool put here: W needs its content, once */
	m->size = (uint64_t)sb.st_size;
	m->vsize = m->size;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	free(path);
	if (fd < 0)
		return -1;
	char chunk[65536];
	int last_cr = 0;
	ssize_t n;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
		for (ssize_t i = 0; i < n; i++)
			if (chunk[i] == '\n' && !(i == 0 ? last_cr : chunk[i - 1] == '\r'))
				m->vsize++;
		last_cr = chunk[n - 1] == '\r';
	}
	close(fd);
	return 0;
}

/* Move a message from new/ to cur/ with an empty info part. */
static int move_to_cur(struct maildir_mailbox *box, struct maildir_msg *m, const char **error_r)
{
	char *dst = maildir_filename_make(m->base, m->flags, m->keywords);
	struct buf a, b;
	buf_init(&a, 0);
	buf_init(&b, 0);
	int ret = 0;
	if (dst == NULL || buf_printf(&a, "%s/new/%s", box->path, m->fname) < 0 ||
	    buf_printf(&b, "%s/cur/%s", box->path, dst) < 0)
		ret = maildir_fail(box->store, error_r, "out of memory");
	else if (rename(a.data, b.data) < 0)
		ret = errno == ENOENT
		          ? 1
		          : maildir_fail_errno(box->store, error_r, "rename(%s)", a.data);
	if (ret == 0) {
		free(m->fname);
		m->fname = dst;
		m->in_new = 0;
		dst = NULL;
	}
	free(dst);
	buf_free(&a);
	buf_free(&b);
	return ret;
}

struct sync_ctx {
	struct maildir_mailbox *box;
	struct maildir_uidlist ul;
	struct scan sc;
	struct maildir_msg *msgs; /* the new table, by UID */
	size_t count;
	int dirty; /* the uidlist must be rewritten */
};

static void msg_free(struct maildir_msg *m)
{
	free(m->base);
	free(m->fname);
}

/* Fill m for file f; reuse what the old table knew about the same base. */
static int build_msg(struct sync_ctx *c, struct scan_file *f, uint32_t uid, struct maildir_msg *m)
{
	struct maildir_mailbox *box = c->box;
	memset(m, 0, sizeof(*m));
	m->uid = uid;
	m->in_new = f->in_new;
	m->fname = strdup(f->fname);
	m->base = strndup(f->fname, f->base_len);
	if (m->fname == NULL || m->base == NULL) {
		msg_free(m);
		return -1;
	}
	maildir_filename_flags(m->fname, &m->flags, &m->keywords);
	struct maildir_msg *old = uid != 0 ? maildir_mailbox_find_uid(box, uid) : NULL;
	if (old != NULL && strcmp(old->base, m->base) == 0) {
		m->date = old->date;
		m->size = old->size;
		m->vsize = old->vsize;
		m->recent = old->recent;
		return 0;
	}
	if (file_info(box, m) < 0) {
		msg_free(m);
		return 1; /* vanished meanwhile */
	}
	return 0;
}

int maildir_fname_cmp(const char *a, const char *b)
{
	while (*a != '\0' && *b != '\0') {
		if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
			while (*a == '0')
				a++;
			while (*b == '0')
				b++;
			size_t na = strspn(a, "0123456789"), nb = strspn(b, "0123456789");
			if (na != nb)
				return na < nb ? -1 : 1;
			int r = strncmp(a, b, na);
			if (r != 0)
				return r;
			a += na;
			b += nb;
			continue;
		}
		if (*a != *b)
			return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
		a++;
		b++;
	}
	return (unsigned char)*a - (unsigned char)*b;
}

/* New files get UIDs in delivery order: names start with the time, then
 * M<usec>P<pid>Q<n>, so numbers must compare as numbers (M99 before M123). */
static int fname_cmp(const void *a, const void *b)
{
	const struct scan_file *x = *(struct scan_file *const *)a;
	const struct scan_file *y = *(struct scan_file *const *)b;
	return maildir_fname_cmp(x->fname, y->fname);
}

/* Known UIDs first (dropping vanished files), then new files get UIDs. */
static int build_table(struct sync_ctx *c, const char **error_r)
{
	struct maildir_mailbox *box = c->box;
	c->msgs = calloc(c->ul.count + c->sc.count + 1, sizeof(*c->msgs));
	struct scan_file **fresh = calloc(c->sc.count + 1, sizeof(*fresh));
	size_t nfresh = 0;
	int ret = 0;
	if (c->msgs == NULL || fresh == NULL) {
		free(fresh);
		return maildir_fail(box->store, error_r, "out of memory");
	}
	for (size_t i = 0; i < c->ul.count && ret == 0; i++) {
		struct maildir_uid_entry *e = &c->ul.ents[i];
		struct scan_file *f = scan_find(&c->sc, e->base, strlen(e->base));
		int r = f == NULL || f->taken ? 1 : build_msg(c, f, e->uid, &c->msgs[c->count]);
		if (f != NULL)
			f->taken = 1;
		if (r < 0)
			ret = maildir_fail(box->store, error_r, "out of memory");
		else if (r > 0)
			c->dirty = 1;
		else
			c->count++;
	}
	for (size_t i = 0; i < c->sc.count; i++)
		if (!c->sc.files[i].taken)
			fresh[nfresh++] = &c->sc.files[i];
	qsort(fresh, nfresh, sizeof(*fresh), fname_cmp);
	for (size_t i = 0; i < nfresh && ret == 0; i++) {
		int r = build_msg(c, fresh[i], 0, &c->msgs[c->count]);
		if (r < 0)
			ret = maildir_fail(box->store, error_r, "out of memory");
		if (r != 0)
			continue;
		c->msgs[c->count++].uid = c->ul.uidnext++;
		c->dirty = 1;
	}
	free(fresh);
	return ret;
}

/* The uidlist entries become exactly the new table's (UID, base) pairs. */
static int rebuild_uidlist(struct sync_ctx *c, const char **error_r)
{
	struct maildir_uidlist nu = c->ul;
	nu.ents = NULL;
	nu.count = nu.cap = 0;
	for (size_t i = 0; i < c->count; i++) {
		if (maildir_uidlist_append(&nu, c->msgs[i].uid, c->msgs[i].base,
		                           strlen(c->msgs[i].base)) < 0) {
			maildir_uidlist_free(&nu);
			return maildir_fail(c->box->store, error_r, "out of memory");
		}
	}
	maildir_uidlist_free(&c->ul);
	c->ul = nu;
	return 0;
}

static int take_recent(struct sync_ctx *c)
{
	int n = 0;
	if (!(c->box->open_flags & MAILDIR_OPEN_TAKE_RECENT))
		return 0;
	for (size_t i = 0; i < c->count; i++) {
		if (c->msgs[i].uid >= c->ul.recent_uid && !c->msgs[i].recent) {
			c->msgs[i].recent = 1;
			n++;
		}
	}
	if (c->ul.recent_uid != c->ul.uidnext) {
		c->ul.recent_uid = c->ul.uidnext;
		c->dirty = 1;
	}
	return n;
}

/* new/ -> cur/ for every message still in new/. 1 if any moved. */
static int move_new(struct maildir_mailbox *box, const char **error_r)
{
	int moved = 0;
	if (!(box->open_flags & MAILDIR_OPEN_MOVE_NEW))
		return 0;
	for (size_t i = 0; i < box->count; i++) {
		if (!box->msgs[i].in_new)
			continue;
		int r = move_to_cur(box, &box->msgs[i], error_r);
		if (r < 0)
			return -1;
		moved = 1;
	}
	return moved;
}

static int sync_full(struct maildir_mailbox *box, const struct maildir_dirstamp *ns,
                     const struct maildir_dirstamp *cs, const char **error_r)
{
	struct sync_ctx c = {.box = box};
	int r = maildir_uidlist_read(box, &c.ul, error_r);
	if (r < 0)
		return -1;
	c.dirty = r == 0;
	/* a new list (new folder, or the old list lost): a UIDVALIDITY no
	 * folder of this Maildir had, above what this process knew */
	if (r == 0 &&
	    maildir_uidvalidity_next(box->store, box->uidvalidity, &c.ul.uidvalidity, error_r) < 0)
		return -1;
	int ret = -1, recent = 0;
	if (maildir_keywords_load(box, error_r) < 0 || collect(box, 1, ns, &c.sc, error_r) < 0 ||
	    collect(box, 0, cs, &c.sc, error_r) < 0)
		goto out;
	if (scan_hash(&c.sc) < 0) {
		maildir_fail(box->store, error_r, "out of memory");
		goto out;
	}
	if (build_table(&c, error_r) < 0 || rebuild_uidlist(&c, error_r) < 0)
		goto out;
	recent = take_recent(&c);
	if (c.dirty && maildir_uidlist_write(box, &c.ul, error_r) < 0)
		goto out;
	/* the new table replaces the old one */
	maildir_msgs_clear(box);
	box->msgs = c.msgs;
	box->count = box->cap = c.count;
	c.msgs = NULL;
	c.count = 0;
	box->uidvalidity = c.ul.uidvalidity;
	box->uidnext = c.ul.uidnext;
	box->new_stamp = *ns;
	box->cur_stamp = *cs;
	box->have_table = 1;
	maildir_uidlist_stamp(box, &box->uidlist_ino, &box->uidlist_mtime_ns, &box->uidlist_size);
	r = move_new(box, error_r);
	if (r < 0)
		goto out;
	if (r > 0) /* our own renames: the stamps no longer describe the dirs */
		box->new_stamp.mtime_ns = box->cur_stamp.mtime_ns = 0;
	/* a cache: failing to write it costs speed, not correctness */
	maildir_index_write(box, error_r);
	ret = recent;
out:
	for (size_t i = 0; i < c.count; i++)
		msg_free(&c.msgs[i]);
	free(c.msgs);
	scan_free(&c.sc);
	maildir_uidlist_free(&c.ul);
	return ret;
}

int maildir_mailbox_sync(struct maildir_mailbox *box, const char **error_r)
{
	if (maildir_uidlist_lock(box, error_r) < 0)
		return -1;
	struct maildir_dirstamp ns, cs;
	int64_t ino, mt, sz;
	int ret = 0;
	if (dir_stamp(box, "new", &ns, error_r) < 0 || dir_stamp(box, "cur", &cs, error_r) < 0) {
		ret = -1;
	} else {
		maildir_uidlist_stamp(box, &ino, &mt, &sz);
		int same = box->have_table && stamp_same(&box->new_stamp, &ns) &&
		           stamp_same(&box->cur_stamp, &cs) && ino != 0 &&
		           ino == box->uidlist_ino && mt == box->uidlist_mtime_ns &&
		           sz == box->uidlist_size;
		/* an unchanged uidlist also means no new \Recent to take:
		 * whoever assigned UIDs rewrote it */
		if (!same)
			ret = sync_full(box, &ns, &cs, error_r);
	}
	maildir_uidlist_unlock(box);
	return ret;
}
