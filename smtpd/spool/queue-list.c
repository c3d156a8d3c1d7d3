/* queue-list.c: the text listing of the spool for `loft queue list` and
 * mailq (see queue_store_list in queue-store.h). Reads through the store;
 * envelope text is printed as stored, which the store keeps free of CR, LF
 * and NUL, and is sanitised once more since a terminal will show it. */
#include "queue-store.h"

#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

static void put_clean(struct buf *out, const char *s)
{
	char clean[QUEUE_ERROR_MAX + 1];
	log_sanitise(clean, sizeof(clean), s, strlen(s));
	buf_append_str(out, clean);
}

static void list_msg(struct buf *out, const struct queue_msg *m, enum queue_dir d)
{
	char when[32] = "?";
	struct tm tm;
	time_t t = (time_t)m->arrival;
	if (gmtime_r(&t, &tm) != NULL)
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	buf_printf(out, "%s %10zu %s UTC %-8s <", m->id, m->file_len, when, queue_dir_name(d));
	put_clean(out, m->sender);
	buf_append_str(out, ">\n");
	for (size_t i = 0; i < m->nrcpt; i++) {
		const struct queue_rcpt *r = &m->rcpts[i];
		buf_append_str(out, "    <");
		put_clean(out, r->addr);
		buf_printf(out, "> %s attempts=%u", queue_rcpt_state_name(r->state), r->attempts);
		if (r->error != NULL) {
			buf_append_str(out, " (");
			put_clean(out, r->error);
			buf_append_str(out, ")");
		}
		buf_append_str(out, "\n");
	}
}

static void list_corrupt(struct queue_store *qs, struct buf *out, char **names, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		long long size = -1;
		if (fstatat(qs->dfd[QUEUE_DIR_CORRUPT], names[i], &st, AT_SYMLINK_NOFOLLOW) == 0)
			size = (long long)st.st_size;
		buf_printf(out, "%s %10lld corrupt\n", names[i], size);
	}
}

int queue_store_list(struct queue_store *qs, struct buf *out, const char **error_r)
{
	static const enum queue_dir dirs[] = {QUEUE_DIR_ACTIVE, QUEUE_DIR_DEFERRED, QUEUE_DIR_HOLD,
	                                      QUEUE_DIR_CORRUPT};
	size_t total = 0;
	for (size_t k = 0; k < sizeof(dirs) / sizeof(dirs[0]); k++) {
		char **ids;
		size_t n;
		if (queue_store_ids(qs, dirs[k], &ids, &n, error_r) < 0)
			return -1;
		if (dirs[k] == QUEUE_DIR_CORRUPT)
			list_corrupt(qs, out, ids, n);
		for (size_t i = 0; i < n && dirs[k] != QUEUE_DIR_CORRUPT; i++) {
			struct queue_msg m;
			enum queue_dir d;
			const char *e;
			/* The queue manager may move or finish a message meanwhile. */
			if (queue_store_load(qs, ids[i], &m, &d, &e) < 0) {
				buf_printf(out, "%s (unreadable: ", ids[i]);
				put_clean(out, e);
				buf_append_str(out, ")\n");
				continue;
			}
			list_msg(out, &m, d);
			queue_msg_free(&m);
		}
		total += n;
		queue_ids_free(ids, n);
	}
	if (total == 0)
		buf_append_str(out, "Mail queue is empty\n");
	else
		buf_printf(out, "-- %zu message%s in the queue\n", total, total == 1 ? "" : "s");
	return 0;
}
