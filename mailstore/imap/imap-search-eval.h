/* imap-search-eval.h: evaluating a SEARCH key tree (lib/parse/imap-search.h)
 * against the messages of a selected Maildir mailbox. Flag, UID, size and
 * internal-date keys use the maildir_msg alone; the file is read and
 * MIME-parsed only when a header, body or sent-date key needs it. */
#ifndef LOFT_IMAP_SEARCH_EVAL_H
#define LOFT_IMAP_SEARCH_EVAL_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "imap-search.h"
#include "maildir.h"
#include "mime.h"

/* One message under test; zero it, set box/msg/seq, free it after. */
struct imap_search_msg {
	struct maildir_mailbox *box;
	const struct maildir_msg *msg;
	uint32_t seq; /* sequence number in the client's view */
	/* Loaded on demand: the file, its MIME tree, and case-folded caches of
	 * the decoded header ("Name: value\n" per field) and of the text parts. */
	int loaded; /* 0 not yet, 1 done, -1 failed (gone or unreadable) */
	struct buf text;
	struct mime_message *mime;
	bool have_hdr, have_body;
	struct buf hdr_fold, body_fold;
};

/* Resolve what depends on the mailbox: '*' in sequence sets (max_seq, the
 * number of messages in the view) and UID sets (max_uid, the highest UID in
 * the view), and keyword names to their index. Call once per command. */
void imap_search_eval_prepare(struct imap_search *q, struct maildir_mailbox *box, uint32_t max_seq,
                              uint32_t max_uid);
/* 1 when the message matches, 0 when not, -1 when its content was needed
 * but could not be read (e.g. expunged meanwhile): no match either. */
int imap_search_eval(const struct imap_search *q, struct imap_search_msg *m);
void imap_search_msg_free(struct imap_search_msg *m);

/* Case folding used for every substring match (exposed for tests): ASCII,
 * Latin-1, Latin Extended-A, Greek and Cyrillic capitals to small letters;
 * anything else (and invalid UTF-8) is copied. 0 or -1 (out full). */
int imap_search_fold(const char *p, size_t len, struct buf *out);

#endif
