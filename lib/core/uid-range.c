/* uid-range.c: the uid/gid rule for mail sessions and deliveries
 * (uid-range.h). */
#include "uid-range.h"

int uid_range_check(uint64_t uid, uint64_t gid, uint64_t first_valid_uid, uint64_t last_valid_uid,
                    const char **error_r)
{
	if (uid == 0) {
		*error_r = "uid 0 (root) may not be a mail user";
		return -1;
	}
	if (gid == 0) {
		*error_r = "gid 0 (root's group) may not be a mail user's";
		return -1;
	}
	if (uid < first_valid_uid) {
		*error_r = "uid is below first_valid_uid (a system account)";
		return -1;
	}
	if (last_valid_uid != 0 && uid > last_valid_uid) {
		*error_r = "uid is above last_valid_uid";
		return -1;
	}
	return 0;
}
