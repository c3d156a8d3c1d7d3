/* path-check.h: checks on paths that came from a user database, before
 * anything is created or opened there as the mail user. Pure. */
#ifndef LOFT_PATH_CHECK_H
#define LOFT_PATH_CHECK_H

#include <stdbool.h>
#include <stddef.h>

/* Does p[0..len) have a ".." component ("/../", a trailing "/..", or a
 * leading "../")? Such a path could leave the place auth meant. */
bool path_has_dotdot(const char *p, size_t len);

#endif
