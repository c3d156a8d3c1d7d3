/* path-check.c: ".." components in user-database paths (path-check.h). */
#include "path-check.h"

bool path_has_dotdot(const char *p, size_t len)
{
	size_t i = 0;
	while (i < len) {
		size_t j = i;
		while (j < len && p[j] != '/')
			j++;
		if (j - i == 2 && p[i] == '.' && p[i + 1] == '.')
			return true;
		i = j + 1;
	}
	return false;
}
