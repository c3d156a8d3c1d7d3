/* imap-flags.h: rendering a message's flags as IMAP text. */
#ifndef LOFT_IMAP_FLAGS_H
#define LOFT_IMAP_FLAGS_H

#include "buf.h"
#include "maildir.h"

/* Append "FLAGS (\Seen \Recent kw ...)": system flags in a fixed order,
 * \Recent when the message is recent for this session, then keywords.
 * 0, or nonzero when out is full. */
int imap_flags_render(const struct maildir_mailbox *box, const struct maildir_msg *m,
                      struct buf *out);

#endif
