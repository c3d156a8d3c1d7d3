/* uid-range.h: may a session or delivery run as this uid/gid? Dovecot's
 * first_valid_uid/last_valid_uid rule, plus gid 0 refused outright: a mail
 * process must never be root or in root's group, and a system account
 * (uid below first_valid_uid) must not have its files opened by the
 * mail server. Pure. */
#ifndef LOFT_UID_RANGE_H
#define LOFT_UID_RANGE_H

#include <stdint.h>

/* 0 when uid is in [first_valid_uid, last_valid_uid] (last 0 = no upper
 * bound) and gid is not 0; else -1 with *error_r a static text. */
int uid_range_check(uint64_t uid, uint64_t gid, uint64_t first_valid_uid, uint64_t last_valid_uid,
                    const char **error_r);

#endif
