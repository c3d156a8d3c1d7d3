/* test-rmtree.h: removing a test's temp directory tree (rm -rf), for the
 * unit tests that work on real files. Header-only. */
#ifndef LOFT_TEST_RMTREE_H
#define LOFT_TEST_RMTREE_H

#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>

static inline int test_rmtree_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static inline void test_rmtree(const char *dir)
{
	nftw(dir, test_rmtree_cb, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
