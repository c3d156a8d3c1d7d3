/* imap-pattern.h: the matcher for IMAP LIST/LSUB mailbox patterns (RFC 3501
 * 6.3.8): "*" matches anything, "%" anything but the hierarchy delimiter.
 * Pure, and O(pattern * name) in the worst case, so no pattern a client
 * sends can make it backtrack exponentially. */
#ifndef LOFT_IMAP_PATTERN_H
#define LOFT_IMAP_PATTERN_H

#include <stddef.h>

/* Does name[0..name_len) match pat[0..pat_len) with delimiter sep? Bytes
 * compare exactly (INBOX's case rule is the caller's). 1 match, 0 no
 * match, -1 out of memory (with *error_r set). */
int imap_pattern_match(const char *pat, size_t pat_len, const char *name, size_t name_len, char sep,
                       const char **error_r);

#endif
