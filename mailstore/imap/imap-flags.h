/* imap-flags.h: what the IMAP commands that read or change messages share:
 * the IMAP text of a message's flags (FETCH, STORE, untagged updates), the
 * IMAP -> Maildir flag bits, and which messages of the client's view a
 * message set names (STORE, COPY, MOVE, UID EXPUNGE). */
#ifndef LOFT_IMAP_FLAGS_H
#define LOFT_IMAP_FLAGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "imap-parse.h"
#include "maildir.h"

/* Append "FLAGS (\Seen \Recent kw ...)": system flags in a fixed order,
 * \Recent when the message is recent for this session, then keywords.
 * 0, or nonzero when out is full. */
int imap_flags_render(const struct maildir_mailbox *box, const struct maildir_msg *m,
                      struct buf *out);

/* Pure: IMAP_FLAG_* bits (enum imap_flag_bits, \Recent ignored) as
 * MAILDIR_FLAG_* bits. */
unsigned imap_flags_to_maildir(unsigned imap_bits);

/* Pure: the view indexes (0-based, ascending) that the message set in `set`
 * names, against the client's view uids[0..nuids). Without uid the set holds
 * sequence numbers and each must lie in 1..nuids ("*" is nuids); with uid it
 * holds UIDs and the ones not in the view are ignored ("*" is the highest
 * UID of the view). *sel_r is malloc'd (free it; may be empty). 0, or -1
 * when the set is malformed or names a sequence number outside the view. */
int imap_view_select(const uint32_t *uids, size_t nuids, const struct imap_arg *set, bool uid,
                     size_t **sel_r, size_t *n_r);

#endif
