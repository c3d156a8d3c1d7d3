/* imap-cmd-copy.c: COPY, MOVE (RFC 6851) and their UID forms. Each message
 * is saved anew into the destination's cur/ with its flags, keywords (by
 * name, in the destination's keyword table) and internal date; a failure
 * removes the copies already made (RFC 3501 6.4.7). The destination UIDs,
 * learned by syncing the destination, go out as COPYUID (RFC 4315). MOVE
 * then expunges the sources and reports them like EXPUNGE. */
#include "imap-private.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "imap-flags.h"

struct copied {
	uint32_t src_uid;
	uint32_t dst_uid; /* 0 until learned */
	char *base;       /* base name in the destination */
	char *fname;      /* file name in the destination's cur/ (for undo) */
};

struct copy_job {
	struct imap_session *s;
	struct maildir_mailbox *dst;
	struct copied *done;
	size_t ndone;
};

/* The source's keywords as bits of the destination's table; a name that
 * finds no free letter there is dropped (the message matters more). */
static uint32_t map_keywords(struct maildir_mailbox *src, struct maildir_mailbox *dst,
                             uint32_t bits)
{
	uint32_t out = 0;
	for (unsigned i = 0; i < MAILDIR_KEYWORDS_MAX; i++) {
		const char *name = (bits >> i) & 1 ? maildir_keyword_name(src, i) : NULL;
		const char *err;
		int idx = name != NULL ? maildir_keyword_index(dst, name, 1, &err) : -1;
		if (idx >= 0)
			out |= (uint32_t)1 << idx;
	}
	return out;
}

/* Copy the message file's bytes into a new delivery. */
static int copy_bytes(int fd, struct maildir_delivery *d, const char **error_r)
{
	char chunk[65536];
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*error_r = "read error";
			return -1;
		}
		if (n == 0)
			return 0;
		if (maildir_delivery_write(d, chunk, (size_t)n, error_r) < 0)
			return -1;
	}
}

/* 0 copied (appended to job->done), 1 expunged meanwhile, -1 error. */
static int copy_one(struct copy_job *job, uint32_t uid, const char **error_r)
{
	struct imap_session *s = job->s;
	int fd;
	int r = maildir_msg_open(s->box, uid, &fd, error_r);
	if (r != 0)
		return r;
	/* looked up after the open: a resync there may move the table */
	const struct maildir_msg *m = maildir_mailbox_find_uid(s->box, uid);
	if (m == NULL) {
		close(fd);
		return 1;
	}
	unsigned flags = m->flags;
	time_t date = m->date;
	uint32_t kw = map_keywords(s->box, job->dst, m->keywords);
	struct maildir_delivery d;
	char *base = NULL;
	r = maildir_delivery_begin(&s->store, job->dst->name, &d, error_r);
	if (r == 0) {
		r = copy_bytes(fd, &d, error_r);
		if (r == 0)
			r = maildir_delivery_save(&d, flags, kw, date, &base, error_r);
		maildir_delivery_abort(&d);
	}
	close(fd);
	if (r < 0)
		return -1;
	struct copied *cp = &job->done[job->ndone];
	*cp = (struct copied){.src_uid = uid, .base = base};
	cp->fname = maildir_filename_make(base, flags & MAILDIR_FLAG_ALL, kw);
	job->ndone++;
	if (cp->fname == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	return 0;
}

/* Remove the copies already made: a failed COPY leaves nothing behind. */
static void undo(struct copy_job *job)
{
	struct buf path;
	buf_init(&path, 0);
	for (size_t i = 0; i < job->ndone; i++) {
		buf_reset(&path);
		if (job->done[i].fname != NULL &&
		    buf_printf(&path, "%s/cur/%s", job->dst->path, job->done[i].fname) == 0 &&
		    unlink(path.data) < 0)
			imap_log(job->s, LOG_ERR, "COPY undo: unlink(%s) failed", path.data);
	}
	buf_free(&path);
}

static int copied_base_cmp(const void *a, const void *b)
{
	return strcmp(((const struct copied *)a)->base, ((const struct copied *)b)->base);
}

static int copied_src_cmp(const void *a, const void *b)
{
	uint32_t x = ((const struct copied *)a)->src_uid, y = ((const struct copied *)b)->src_uid;
	return x < y ? -1 : x > y;
}

/* Sync the destination and find the copies' UIDs. Every new file has a UID
 * of at least the UIDNEXT seen when the destination was opened, so only that
 * tail of the table is searched, by base name. */
static int learn_uids(struct copy_job *job, uint32_t first_uid, const char **error_r)
{
	if (maildir_mailbox_sync(job->dst, error_r) < 0)
		return -1;
	qsort(job->done, job->ndone, sizeof(*job->done), copied_base_cmp);
	for (size_t i = job->dst->count; i-- > 0 && job->dst->msgs[i].uid >= first_uid;) {
		struct copied key = {.base = job->dst->msgs[i].base};
		struct copied *cp =
		    bsearch(&key, job->done, job->ndone, sizeof(*job->done), copied_base_cmp);
		if (cp != NULL)
			cp->dst_uid = job->dst->msgs[i].uid;
	}
	qsort(job->done, job->ndone, sizeof(*job->done), copied_src_cmp);
	return 0;
}

/* "<uidvalidity> <source set> <destination set>" of COPYUID: both sets in
 * source UID order, with runs where both sides count up compressed. */
static int render_copyuid(const struct copy_job *job, struct buf *out)
{
	struct buf src, dst;
	buf_init(&src, 0);
	buf_init(&dst, 0);
	int r = buf_printf(out, "%u ", (unsigned)job->dst->uidvalidity);
	for (size_t i = 0; i < job->ndone && r == 0;) {
		const struct copied *a = &job->done[i];
		size_t j = i + 1;
		while (j < job->ndone && a->dst_uid != 0 &&
		       job->done[j].src_uid == job->done[j - 1].src_uid + 1 &&
		       job->done[j].dst_uid == job->done[j - 1].dst_uid + 1)
			j++;
		const struct copied *z = &job->done[j - 1];
		const char *sep = src.len > 0 ? "," : "";
		if (a->dst_uid == 0) { /* expunged before we saw it: not reported */
		} else if (j - i == 1) {
			r = buf_printf(&src, "%s%u", sep, (unsigned)a->src_uid) |
			    buf_printf(&dst, "%s%u", sep, (unsigned)a->dst_uid);
		} else {
			r = buf_printf(&src, "%s%u:%u", sep, (unsigned)a->src_uid,
			               (unsigned)z->src_uid) |
			    buf_printf(&dst, "%s%u:%u", sep, (unsigned)a->dst_uid,
			               (unsigned)z->dst_uid);
		}
		i = j;
	}
	if (r == 0 && src.len > 0)
		r = buf_printf(out, "%s %s", src.data, dst.data);
	else
		r = -1;
	buf_free(&src);
	buf_free(&dst);
	return r;
}

/* Copy the selected messages. 0 (job->ndone copies, UIDs learned), or -1
 * after a tagged answer (and with the copies removed again). */
static int run_copy(struct imap_session *s, const struct imap_command *c, struct copy_job *job,
                    const struct imap_arg *mbox, const size_t *sel, size_t nsel)
{
	char *name = imap_mailbox_arg(s, c, mbox);
	if (name == NULL)
		return -1;
	const char *err = "out of memory";
	int ret = -1;
	if (!maildir_folder_exists(&s->store, name)) {
		imap_cmd_done(s, c, IMAP_NO, "[TRYCREATE] Mailbox doesn't exist: %s", name);
		free(name);
		return -1;
	}
	job->done = calloc(nsel > 0 ? nsel : 1, sizeof(*job->done));
	if (job->done != NULL && maildir_mailbox_open(&s->store, name, 0, &job->dst, &err) == 0) {
		uint32_t first_uid = job->dst->uidnext;
		ret = 0;
		for (size_t i = 0; i < nsel && ret == 0; i++)
			ret = copy_one(job, s->uids[sel[i]], &err) < 0 ? -1 : 0;
		if (ret == 0 && job->ndone > 0)
			ret = learn_uids(job, first_uid, &err);
		if (ret < 0)
			undo(job);
	}
	if (ret < 0) {
		imap_log(s, LOG_ERR, "%s to %s failed: %s", c->name, name, err);
		imap_cmd_done(s, c, IMAP_NO, "[SERVERBUG] Internal error occurred.");
	}
	free(name);
	return ret;
}

static void job_free(struct copy_job *job)
{
	for (size_t i = 0; job->done != NULL && i < job->ndone; i++) {
		free(job->done[i].base);
		free(job->done[i].fname);
	}
	free(job->done);
	maildir_mailbox_close(job->dst);
}

/* Argument checks shared by COPY and MOVE: 0 with the selection, or -1
 * after a tagged answer. */
static int copy_args(struct imap_session *s, const struct imap_command *c,
                     const struct imap_arg *args, unsigned argc, bool uid, const char *verb,
                     size_t **sel_r, size_t *n_r)
{
	if (argc != 2) {
		imap_cmd_done(s, c, IMAP_BAD, "Error in IMAP command %s%s: Invalid arguments.",
		              uid ? "UID " : "", verb);
		return -1;
	}
	if (imap_view_select(s->uids, s->nuids, &args[0], uid, sel_r, n_r) < 0) {
		imap_cmd_done(s, c, IMAP_BAD, "Error in IMAP command %s%s: Invalid messageset",
		              uid ? "UID " : "", verb);
		return -1;
	}
	return 0;
}

void imap_do_copy(struct imap_session *s, const struct imap_command *c, const struct imap_arg *args,
                  unsigned argc, bool uid)
{
	size_t *sel, nsel;
	struct copy_job job = {.s = s};
	if (copy_args(s, c, args, argc, uid, "COPY", &sel, &nsel) < 0)
		return;
	if (run_copy(s, c, &job, &args[1], sel, nsel) == 0) {
		struct buf line;
		buf_init(&line, 0);
		if (buf_append_str(&line, "[COPYUID ") == 0 && render_copyuid(&job, &line) == 0)
			imap_cmd_done(s, c, IMAP_OK, "%s] %sCopy completed.", line.data,
			              uid ? "UID " : "");
		else
			imap_cmd_done(s, c, IMAP_OK, "No messages found.");
		buf_free(&line);
	}
	job_free(&job);
	free(sel);
}

void imap_do_move(struct imap_session *s, const struct imap_command *c, const struct imap_arg *args,
                  unsigned argc, bool uid)
{
	size_t *sel, nsel;
	struct copy_job job = {.s = s};
	if (copy_args(s, c, args, argc, uid, "MOVE", &sel, &nsel) < 0)
		return;
	if (s->readonly) {
		imap_cmd_done(s, c, IMAP_NO, "Mailbox is read-only.");
		free(sel);
		return;
	}
	if (run_copy(s, c, &job, &args[1], sel, nsel) == 0) {
		uint32_t *src = malloc((job.ndone > 0 ? job.ndone : 1) * sizeof(*src));
		const char *err = "out of memory";
		for (size_t i = 0; src != NULL && i < job.ndone; i++)
			src[i] = job.done[i].src_uid;
		struct buf line;
		buf_init(&line, 0);
		int failed =
		    src == NULL ||
		    (job.ndone > 0 && maildir_mailbox_expunge(s->box, src, job.ndone, &err) < 0);
		if (failed) {
			/* the copies stay: a message twice beats a message lost */
			imap_log(s, LOG_ERR, "MOVE expunge in %s failed: %s", s->box->name, err);
		} else if (buf_append_str(&line, "* OK [COPYUID ") == 0 &&
		           render_copyuid(&job, &line) == 0) {
			imap_reply(s, "%s] Moved UIDs.", line.data);
		}
		/* the "* n EXPUNGE" lines come from the table's full sync */
		if (failed)
			imap_cmd_done(s, c, IMAP_NO, "[SERVERBUG] Internal error occurred.");
		else if (job.ndone == 0)
			imap_cmd_done(s, c, IMAP_OK, "No messages found.");
		else
			imap_cmd_done(s, c, IMAP_OK, "%sMove completed.", uid ? "UID " : "");
		buf_free(&line);
		free(src);
	}
	job_free(&job);
	free(sel);
}
