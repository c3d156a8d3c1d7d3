/* queue-store.c: the spool directories (see queue-store.h): creating them,
 * writing a message crash-safely, reading it back with its recipient states,
 * moving, deleting and start-up recovery. Used by smtpd and the queue
 * manager; every change that matters is fsync'd, file and directory. */
#include "queue-store.h"

#include "queue-committed.h"
#include "write-all.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Encoded records are written out once this many bytes are staged. */
#define QUEUE_WRITE_BATCH (2 * QUEUE_BODY_CHUNK)
#define QUEUE_STATE_MAX   (16u * 1024 * 1024)

static const char *const dir_names[QUEUE_NDIRS] = {
    "incoming", "active", "deferred", "hold", "corrupt", "state",
};

const char *queue_dir_name(enum queue_dir d)
{
	return (unsigned)d < QUEUE_NDIRS ? dir_names[d] : "?";
}

__attribute__((format(printf, 3, 4))) static int fail(struct queue_store *qs, const char **error_r,
                                                      const char *fmt, ...)
{
	int saved = errno;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(qs->error, sizeof(qs->error), fmt, ap);
	va_end(ap);
	*error_r = qs->error;
	errno = saved;
	return -1;
}

int queue_store_open(struct queue_store *qs, const char *state_dir, const char **error_r)
{
	memset(qs, 0, sizeof(*qs));
	for (int i = 0; i < QUEUE_NDIRS; i++)
		qs->dfd[i] = -1;
	qs->rootfd = qs->jfd = -1;
	int sfd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sfd < 0)
		return fail(qs, error_r, "open %s: %s", state_dir, strerror(errno));
	if (mkdirat(sfd, "queue", 0700) < 0 && errno != EEXIST) {
		fail(qs, error_r, "mkdir %s/queue: %s", state_dir, strerror(errno));
		close(sfd);
		return -1;
	}
	int qfd = openat(sfd, "queue", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	close(sfd);
	if (qfd < 0)
		return fail(qs, error_r, "open %s/queue: %s", state_dir, strerror(errno));
	for (int i = 0; i < QUEUE_NDIRS; i++) {
		if (mkdirat(qfd, dir_names[i], 0700) < 0 && errno != EEXIST)
			break;
		qs->dfd[i] =
		    openat(qfd, dir_names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (qs->dfd[i] < 0)
			break;
	}
	if (qs->dfd[QUEUE_NDIRS - 1] < 0) {
		fail(qs, error_r, "spool folders under %s/queue: %s", state_dir, strerror(errno));
		close(qfd);
		queue_store_close(qs);
		return -1;
	}
	/* The new folders' names must be durable before any message is. */
	int rc = fsync(qfd);
	qs->rootfd = qfd;
	if (rc < 0) {
		fail(qs, error_r, "fsync %s/queue: %s", state_dir, strerror(errno));
		queue_store_close(qs);
		return -1;
	}
	return 0;
}

void queue_store_close(struct queue_store *qs)
{
	for (int i = 0; i < QUEUE_NDIRS; i++) {
		if (qs->dfd[i] >= 0)
			close(qs->dfd[i]);
		qs->dfd[i] = -1;
	}
	if (qs->rootfd >= 0)
		close(qs->rootfd);
	if (qs->jfd >= 0)
		close(qs->jfd);
	qs->rootfd = qs->jfd = -1;
}

/* Write the staged records out, keeping the running CRC. */
static int writer_flush(struct queue_writer *w, const char **error_r)
{
	if (w->out.len == 0)
		return 0;
	w->crc = queue_crc32(w->crc, w->out.data, w->out.len);
	if (write_all(w->fd, w->out.data, w->out.len) < 0)
		return fail(w->qs, error_r, "write incoming/%s: %s", w->id, strerror(errno));
	w->size += w->out.len;
	buf_reset(&w->out);
	return 0;
}

static void writer_free(struct queue_writer *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	buf_free(&w->out);
	buf_free(&w->body);
}

int queue_writer_begin(struct queue_store *qs, struct queue_msg *m, struct queue_writer *w,
                       const char **error_r)
{
	memset(w, 0, sizeof(*w));
	w->qs = qs;
	w->fd = -1;
	buf_init(&w->out, 0);
	buf_init(&w->body, QUEUE_BODY_CHUNK);
	/* A clash is practically impossible, but O_EXCL makes it harmless. */
	for (int tries = 0; w->fd < 0 && tries < 8; tries++) {
		if (queue_id_new(w->id, &qs->counter) < 0) {
			fail(qs, error_r, "queue id: %s", strerror(errno));
			goto err;
		}
		w->fd = openat(qs->dfd[QUEUE_DIR_INCOMING], w->id,
		               O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (w->fd < 0 && errno != EEXIST) {
			fail(qs, error_r, "create incoming/%s: %s", w->id, strerror(errno));
			goto err;
		}
	}
	if (w->fd < 0) {
		fail(qs, error_r, "no free queue id");
		goto err;
	}
	memcpy(m->id, w->id, sizeof(m->id));
	if (m->arrival == 0)
		m->arrival = (int64_t)time(NULL);
	const char *e;
	m->version = QUEUE_FORMAT_VERSION;
	if (queue_msg_encode_head(m, &w->out, 0, &e) < 0) {
		fail(qs, error_r, "envelope of %s: %s", w->id, e);
		queue_writer_abort(w);
		return -1;
	}
	if (writer_flush(w, error_r) < 0) {
		queue_writer_abort(w);
		return -1;
	}
	w->crc = 0; /* HEAD_END covered the envelope; END covers the body */
	return 0;
err:
	writer_free(w);
	return -1;
}

/* Turn the pending body bytes into one BODY record. */
static int writer_chunk(struct queue_writer *w, const char **error_r)
{
	if (w->body.len == 0)
		return 0;
	if (queue_encode_body_chunk(w->body.data, w->body.len, &w->out) < 0)
		return fail(w->qs, error_r, "out of memory");
	buf_reset(&w->body);
	return w->out.len >= QUEUE_WRITE_BATCH ? writer_flush(w, error_r) : 0;
}

int queue_writer_body(struct queue_writer *w, const char *p, size_t n, const char **error_r)
{
	while (n > 0) {
		size_t room = QUEUE_BODY_CHUNK - w->body.len;
		size_t take = n < room ? n : room;
		if (buf_append(&w->body, p, take) < 0)
			return fail(w->qs, error_r, "out of memory");
		p += take;
		n -= take;
		if (w->body.len == QUEUE_BODY_CHUNK && writer_chunk(w, error_r) < 0)
			return -1;
	}
	return 0;
}

static int fsync_dir(struct queue_store *qs, enum queue_dir d, const char **error_r)
{
	if (fsync(qs->dfd[d]) < 0)
		return fail(qs, error_r, "fsync %s/: %s", dir_names[d], strerror(errno));
	return 0;
}

int queue_writer_commit(struct queue_writer *w, const char **error_r)
{
	struct queue_store *qs = w->qs;
	if (writer_chunk(w, error_r) < 0 || writer_flush(w, error_r) < 0)
		goto err;
	if (queue_encode_end(w->crc, &w->out) < 0) {
		fail(qs, error_r, "out of memory");
		goto err;
	}
	if (writer_flush(w, error_r) < 0)
		goto err;
	if (fsync(w->fd) < 0) {
		fail(qs, error_r, "fsync incoming/%s: %s", w->id, strerror(errno));
		goto err;
	}
	if (renameat(qs->dfd[QUEUE_DIR_INCOMING], w->id, qs->dfd[QUEUE_DIR_ACTIVE], w->id) < 0) {
		fail(qs, error_r, "rename %s into active/: %s", w->id, strerror(errno));
		goto err;
	}
	writer_free(w);
	/* Until active/ is synced the rename may not survive a crash; an
	 * error here means no 250, and the message may still be delivered
	 * (the client then retries: a duplicate, never a loss). */
	return fsync_dir(qs, QUEUE_DIR_ACTIVE, error_r);
err:
	queue_writer_abort(w);
	return -1;
}

void queue_writer_abort(struct queue_writer *w)
{
	if (w->fd >= 0)
		unlinkat(w->qs->dfd[QUEUE_DIR_INCOMING], w->id, 0);
	writer_free(w);
}

/* Open dir/name as a regular file of at most max bytes: the fd, its size
 * into *size_r; -1 with errno (ENOENT when absent). */
static int open_regular(int dfd, const char *name, size_t max, size_t *size_r)
{
	struct stat st;
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int e = 0;
	if (fstat(fd, &st) < 0)
		e = errno;
	else if (!S_ISREG(st.st_mode))
		e = EINVAL;
	else if ((uint64_t)st.st_size > max)
		e = EFBIG;
	if (e != 0) {
		close(fd);
		errno = e;
		return -1;
	}
	*size_r = (size_t)st.st_size;
	return fd;
}

/* Read up to want bytes of fd from offset got on into p; the new total
 * (short when the file shrank underneath: it then decodes as truncated). */
static size_t read_more(int fd, char *p, size_t got, size_t want)
{
	while (got < want) {
		ssize_t r = pread(fd, p + got, want - got, (off_t)got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	return got;
}

int queue_store_read_file(int dfd, const char *name, size_t max, char **p_r, size_t *len_r)
{
	size_t len;
	int fd = open_regular(dfd, name, max, &len);
	if (fd < 0)
		return -1;
	char *p = malloc(len + 1);
	if (p == NULL) {
		close(fd);
		errno = ENOMEM;
		return -1;
	}
	*len_r = read_more(fd, p, 0, len);
	close(fd);
	*p_r = p;
	return 0;
}

static const enum queue_dir msg_dirs[] = {QUEUE_DIR_ACTIVE, QUEUE_DIR_DEFERRED, QUEUE_DIR_HOLD,
                                          QUEUE_DIR_CORRUPT};

int queue_store_find(struct queue_store *qs, const char *id, enum queue_dir *dir_r)
{
	struct stat st;
	if (!queue_id_valid(id, strlen(id)))
		return -1;
	for (size_t i = 0; i < sizeof(msg_dirs) / sizeof(msg_dirs[0]); i++) {
		if (fstatat(qs->dfd[msg_dirs[i]], id, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			*dir_r = msg_dirs[i];
			return 0;
		}
	}
	return -1;
}

/* Apply state/<id> to m, if there is one. */
static int load_state(struct queue_store *qs, struct queue_msg *m, const char **error_r)
{
	char *p;
	size_t len;
	const char *e;
	if (queue_store_read_file(qs->dfd[QUEUE_DIR_STATE], m->id, QUEUE_STATE_MAX, &p, &len) < 0) {
		if (errno == ENOENT)
			return 0;
		return fail(qs, error_r, "read state/%s: %s", m->id, strerror(errno));
	}
	int rc = queue_state_decode(p, len, m->id, m->rcpts, m->nrcpt, &e);
	free(p);
	if (rc < 0)
		return fail(qs, error_r, "state/%s: %s", m->id, e);
	return 0;
}

/* The first read of a spool file: most envelopes fit, and a small body
 * comes along in the same read. */
#define QUEUE_HEAD_READ 8192

/* Decode the envelope of dir/id, reading no more of the file than the
 * envelope needs (a version 1 file is read and checked whole). */
static int load_head(struct queue_store *qs, enum queue_dir d, const char *id, struct queue_msg *m,
                     const char **error_r)
{
	size_t size, got = 0, want = QUEUE_HEAD_READ;
	const char *e = "no envelope";
	int fd = open_regular(qs->dfd[d], id, SIZE_MAX / 2, &size);
	if (fd < 0)
		return fail(qs, error_r, "read %s/%s: %s", dir_names[d], id, strerror(errno));
	char *p = NULL;
	int rc = 1;
	while (rc == 1) {
		want = want < size ? want : size;
		char *np = realloc(p, want + 1);
		if (np == NULL) {
			e = "out of memory";
			rc = -1;
			break;
		}
		p = np;
		got = read_more(fd, p, got, want);
		if (got < want || got == size)
			break; /* everything there is: decode it whole */
		rc = queue_msg_decode_head(p, got, m, &e);
		want *= 4;
	}
	close(fd);
	if (rc == 1) {
		rc = queue_msg_decode(p, got, m, &e);
		if (rc == 0) {
			m->raw = p; /* read whole anyway: keep it as the body */
			p = NULL;
		}
	}
	free(p);
	if (rc < 0)
		return fail(qs, error_r, "%s/%s: %s", dir_names[d], id, e);
	m->file_len = size;
	if (strcmp(m->id, id) != 0) {
		fail(qs, error_r, "%s/%s: holds message %s", dir_names[d], id, m->id);
		queue_msg_free(m);
		return -1;
	}
	return 0;
}

/* Read and decode the envelope of dir/id (id already validated) with its
 * state. */
static int load_in(struct queue_store *qs, enum queue_dir d, const char *id, struct queue_msg *m,
                   const char **error_r)
{
	if (load_head(qs, d, id, m, error_r) < 0)
		return -1;
	if (load_state(qs, m, error_r) < 0) {
		queue_msg_free(m);
		return -1;
	}
	return 0;
}

int queue_store_load(struct queue_store *qs, const char *id, struct queue_msg *m,
                     enum queue_dir *dir_r, const char **error_r)
{
	enum queue_dir d;
	memset(m, 0, sizeof(*m));
	if (queue_store_find(qs, id, &d) < 0)
		return fail(qs, error_r, "no such message: %.*s", QUEUE_ID_LEN, id);
	if (dir_r != NULL)
		*dir_r = d;
	return load_in(qs, d, id, m, error_r);
}

int queue_store_load_body(struct queue_store *qs, struct queue_msg *m, enum queue_dir d,
                          const char **error_r)
{
	struct queue_msg whole;
	char *p;
	size_t len;
	const char *e;
	if (m->raw != NULL)
		return 0;
	if ((unsigned)d >= QUEUE_NDIRS || d == QUEUE_DIR_STATE)
		return fail(qs, error_r, "bad queue folder");
	if (queue_store_read_file(qs->dfd[d], m->id, SIZE_MAX / 2, &p, &len) < 0)
		return fail(qs, error_r, "read %s/%s: %s", dir_names[d], m->id, strerror(errno));
	/* Every checksum, the body's too: damage is found here, before a
	 * byte of it is delivered. */
	if (queue_msg_decode(p, len, &whole, &e) < 0) {
		free(p);
		return fail(qs, error_r, "%s/%s: %s", dir_names[d], m->id, e);
	}
	if (strcmp(whole.id, m->id) != 0 || whole.nrcpt != m->nrcpt) {
		queue_msg_free(&whole);
		free(p);
		return fail(qs, error_r, "%s/%s: not the message loaded", dir_names[d], m->id);
	}
	m->body_off = whole.body_off;
	m->body_len = whole.body_len;
	m->file_len = len;
	m->raw = p;
	queue_msg_free(&whole);
	return 0;
}

void queue_msg_drop_body(struct queue_msg *m)
{
	free(m->raw);
	m->raw = NULL;
}

int queue_store_state_save(struct queue_store *qs, const struct queue_msg *m, const char **error_r)
{
	char tmp[QUEUE_ID_LEN + 5];
	struct buf b;
	const char *e;
	int dfd = qs->dfd[QUEUE_DIR_STATE], fd = -1;
	buf_init(&b, QUEUE_STATE_MAX);
	if (queue_state_encode(m->id, m->rcpts, m->nrcpt, &b, &e) < 0) {
		fail(qs, error_r, "state of %s: %s", m->id, e);
		goto out;
	}
	memcpy(tmp, m->id, QUEUE_ID_LEN);
	memcpy(tmp + QUEUE_ID_LEN, ".tmp", 5);
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || write_all(fd, b.data, b.len) < 0 || fsync(fd) < 0) {
		fail(qs, error_r, "write state/%s: %s", tmp, strerror(errno));
		goto out;
	}
	if (renameat(dfd, tmp, dfd, m->id) < 0) {
		fail(qs, error_r, "rename state/%s: %s", tmp, strerror(errno));
		goto out;
	}
	close(fd);
	buf_free(&b);
	return fsync_dir(qs, QUEUE_DIR_STATE, error_r);
out:
	if (fd >= 0) {
		close(fd);
		unlinkat(dfd, tmp, 0);
	}
	buf_free(&b);
	return -1;
}

int queue_store_move(struct queue_store *qs, const char *id, enum queue_dir from, enum queue_dir to,
                     const char **error_r)
{
	if (!queue_id_valid(id, strlen(id)) || from == QUEUE_DIR_STATE || to == QUEUE_DIR_STATE ||
	    to == QUEUE_DIR_INCOMING || (unsigned)from >= QUEUE_NDIRS ||
	    (unsigned)to >= QUEUE_NDIRS)
		return fail(qs, error_r, "bad queue move");
	if (renameat(qs->dfd[from], id, qs->dfd[to], id) < 0)
		return fail(qs, error_r, "move %s from %s/ to %s/: %s", id, dir_names[from],
		            dir_names[to], strerror(errno));
	/* rename is atomic: after a crash the message is in one of the two
	 * folders; the syncs make the move itself durable. */
	if (fsync_dir(qs, to, error_r) < 0 || fsync_dir(qs, from, error_r) < 0)
		return -1;
	return 0;
}

int queue_store_delete(struct queue_store *qs, const char *id, const char **error_r)
{
	enum queue_dir d;
	if (queue_store_find(qs, id, &d) < 0)
		return fail(qs, error_r, "no such message: %.*s", QUEUE_ID_LEN, id);
	if (unlinkat(qs->dfd[d], id, 0) < 0)
		return fail(qs, error_r, "unlink %s/%s: %s", dir_names[d], id, strerror(errno));
	if (fsync_dir(qs, d, error_r) < 0)
		return -1;
	/* The message goes first: a state file left alone is an orphan that
	 * recovery removes; the reverse order could redeliver. */
	if (unlinkat(qs->dfd[QUEUE_DIR_STATE], id, 0) < 0 && errno != ENOENT)
		return fail(qs, error_r, "unlink state/%s: %s", id, strerror(errno));
	return fsync_dir(qs, QUEUE_DIR_STATE, error_r);
}

void queue_ids_free(char **ids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every entry name of folder d except . and .. (sorted); with only_ids,
 * only valid queue ids. */
static int list_names(struct queue_store *qs, enum queue_dir d, int only_ids, char ***names_r,
                      size_t *n_r, const char **error_r)
{
	int fd = openat(qs->dfd[d], ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *dir = fd < 0 ? NULL : fdopendir(fd);
	char **v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	if (dir == NULL) {
		if (fd >= 0)
			close(fd);
		return fail(qs, error_r, "open %s/: %s", dir_names[d], strerror(errno));
	}
	while ((de = readdir(dir)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (only_ids && !queue_id_valid(de->d_name, strlen(de->d_name)))
			continue;
		if (n == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			char **nv = realloc(v, cap * sizeof(*nv));
			if (nv == NULL)
				goto oom;
			v = nv;
		}
		if ((v[n] = strdup(de->d_name)) == NULL)
			goto oom;
		n++;
	}
	closedir(dir);
	if (n > 0)
		qsort(v, n, sizeof(*v), cmp_str);
	*names_r = v;
	*n_r = n;
	return 0;
oom:
	closedir(dir);
	queue_ids_free(v, n);
	return fail(qs, error_r, "out of memory");
}

int queue_store_ids(struct queue_store *qs, enum queue_dir d, char ***ids_r, size_t *n_r,
                    const char **error_r)
{
	if ((unsigned)d >= QUEUE_NDIRS)
		return fail(qs, error_r, "bad queue folder");
	return list_names(qs, d, 1, ids_r, n_r, error_r);
}

/* Move a bad file aside (corrupt/ keeps it for the administrator). */
static int to_corrupt(struct queue_store *qs, enum queue_dir d, const char *name, const char *why,
                      struct queue_recover_stats *st, const char **error_r)
{
	if (qs->log != NULL)
		log_error(qs->log, "queue: %s/%s is corrupt (%s); moved to corrupt/", dir_names[d],
		          name, why);
	if (renameat(qs->dfd[d], name, qs->dfd[QUEUE_DIR_CORRUPT], name) < 0)
		return fail(qs, error_r, "move %s/%s to corrupt/: %s", dir_names[d], name,
		            strerror(errno));
	st->corrupt++;
	return 0;
}

static int recover_dir(struct queue_store *qs, enum queue_dir d, struct queue_recover_stats *st,
                       const char **error_r)
{
	char **names;
	size_t n;
	int rc = 0;
	if (list_names(qs, d, 0, &names, &n, error_r) < 0)
		return -1;
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct queue_msg m;
		const char *e;
		if (!queue_id_valid(names[i], strlen(names[i]))) {
			rc = to_corrupt(qs, d, names[i], "not a queue id", st, error_r);
		} else if (load_in(qs, d, names[i], &m, &e) < 0) {
			/* e points into qs->error, which to_corrupt may reuse */
			char why[QUEUE_ERROR_LEN];
			snprintf(why, sizeof(why), "%s", e);
			rc = to_corrupt(qs, d, names[i], why, st, error_r);
		} else {
			queue_msg_free(&m);
			st->ok++;
			/* committed by an instance that may have died before it
			 * said so: remember it before anything can deliver it */
			if (d == QUEUE_DIR_ACTIVE)
				rc = queue_committed_note(qs, names[i], error_r);
		}
	}
	queue_ids_free(names, n);
	if (rc == 0)
		rc = fsync_dir(qs, d, error_r);
	return rc;
}

/* Drop incoming/ leftovers and state files that are temporary or belong to
 * no queued message. */
static int recover_unlink(struct queue_store *qs, enum queue_dir d, struct queue_recover_stats *st,
                          const char **error_r)
{
	char **names;
	size_t n;
	enum queue_dir where;
	if (list_names(qs, d, 0, &names, &n, error_r) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (d == QUEUE_DIR_STATE && queue_store_find(qs, names[i], &where) == 0 &&
		    where != QUEUE_DIR_CORRUPT)
			continue;
		if (unlinkat(qs->dfd[d], names[i], 0) < 0 && errno != ENOENT) {
			fail(qs, error_r, "unlink %s/%s: %s", dir_names[d], names[i],
			     strerror(errno));
			queue_ids_free(names, n);
			return -1;
		}
		if (d == QUEUE_DIR_INCOMING)
			st->incoming_removed++;
		else
			st->state_removed++;
	}
	queue_ids_free(names, n);
	return fsync_dir(qs, d, error_r);
}

int queue_store_recover(struct queue_store *qs, struct queue_recover_stats *st,
                        const char **error_r)
{
	memset(st, 0, sizeof(*st));
	if (recover_unlink(qs, QUEUE_DIR_INCOMING, st, error_r) < 0)
		return -1;
	for (size_t i = 0; i < 3; i++) {
		if (recover_dir(qs, msg_dirs[i], st, error_r) < 0)
			return -1;
	}
	if (recover_unlink(qs, QUEUE_DIR_STATE, st, error_r) < 0 ||
	    fsync_dir(qs, QUEUE_DIR_CORRUPT, error_r) < 0)
		return -1;
	return 0;
}
