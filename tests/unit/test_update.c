/* Copy's update modes: which file in the way is kept, and a kept file's attributes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "update.h"

static struct statx
file(uint64_t size, int64_t sec, uint32_t nsec)
{
	struct statx s = { .stx_mode = S_IFREG | 0644, .stx_size = size };

	s.stx_mtime.tv_sec = sec;
	s.stx_mtime.tv_nsec = nsec;
	return s;
}

static void
test_decide(void **state)
{
	struct statx src = file(100, 1000, 5), same = file(100, 1000, 5);
	struct statx older = file(100, 1000, 4), newer = file(100, 1001, 0);
	struct statx bigger = file(101, 1000, 5);

	(void)state;
	assert_int_equal(update_decide(UPDATE_ALL, &src, &same), UPDATE_REPLACE);
	assert_int_equal(update_decide(UPDATE_NONE, &src, &older), UPDATE_KEEP);
	/* cp -u: only a newer source replaces; the nanoseconds count. */
	assert_int_equal(update_decide(UPDATE_OLDER, &src, &older), UPDATE_REPLACE);
	assert_int_equal(update_decide(UPDATE_OLDER, &src, &same), UPDATE_KEEP);
	assert_int_equal(update_decide(UPDATE_OLDER, &src, &newer), UPDATE_KEEP);
	/* rsync's quick check: size and mtime to the nanosecond. */
	assert_int_equal(update_decide(UPDATE_QUICK, &src, &same), UPDATE_KEEP);
	assert_int_equal(update_decide(UPDATE_QUICK, &src, &older), UPDATE_REPLACE);
	assert_int_equal(update_decide(UPDATE_QUICK, &src, &newer), UPDATE_REPLACE);
	assert_int_equal(update_decide(UPDATE_QUICK, &src, &bigger), UPDATE_REPLACE);
	/* checksum reads only files of the same size. */
	assert_int_equal(update_decide(UPDATE_CHECKSUM, &src, &newer), UPDATE_COMPARE);
	assert_int_equal(update_decide(UPDATE_CHECKSUM, &src, &bigger), UPDATE_REPLACE);
	assert_true(update_refreshes(UPDATE_QUICK));
	assert_true(update_refreshes(UPDATE_CHECKSUM));
	assert_false(update_refreshes(UPDATE_OLDER));
	assert_false(update_refreshes(UPDATE_NONE));
}

/*
 * A kept file gets the source's mode, mtime and xattrs (when the source
 * changed after the copy: its ctime is newer), loses xattrs the source
 * has not, and nothing is done when all match.
 */
static void
test_refresh(void **state)
{
	char		 dir[] = "/tmp/cpd-test-update.XXXXXX", sp[64], dp[64], val[8];
	struct statx	 s, d;
	int		 dfd, fd;
	bool		 xattrs;
	struct update_file src, dst;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_true((dfd = open(dir, O_RDONLY | O_DIRECTORY)) >= 0);
	snprintf(sp, sizeof(sp), "%s/s", dir);
	snprintf(dp, sizeof(dp), "%s/d", dir);
	assert_true((fd = openat(dfd, "d", O_CREAT | O_WRONLY, 0644)) >= 0);
	close(fd);
	/* user xattrs may be unsupported where /tmp is: then the rest only. */
	xattrs = setxattr(dp, "user.extra", "x", 1, 0) == 0;
	usleep(20000);
	assert_true((fd = openat(dfd, "s", O_CREAT | O_WRONLY, 0600)) >= 0);
	close(fd);
	if (xattrs)
		assert_int_equal(setxattr(sp, "user.t", "v1", 2, 0), 0);
	src = (struct update_file){ dfd, "s", AT_SYMLINK_NOFOLLOW };
	dst = (struct update_file){ dfd, "d", AT_SYMLINK_NOFOLLOW };
	assert_int_equal(statx(dfd, "s", AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &s), 0);
	assert_int_equal(statx(dfd, "d", AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &d), 0);

	/* look_only changes nothing. */
	assert_int_equal(update_refresh(&src, &s, &dst, &d, true), 1);
	assert_int_equal(statx(dfd, "d", AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &d), 0);
	assert_int_equal(d.stx_mode & 07777, 0644);

	assert_int_equal(update_refresh(&src, &s, &dst, &d, false), 1);
	assert_int_equal(statx(dfd, "d", AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &d), 0);
	assert_int_equal(d.stx_mode & 07777, 0600);
	assert_int_equal(d.stx_mtime.tv_sec, s.stx_mtime.tv_sec);
	assert_int_equal(d.stx_mtime.tv_nsec, s.stx_mtime.tv_nsec);
	if (xattrs) {
		assert_int_equal(getxattr(dp, "user.t", val, sizeof(val)), 2);
		assert_memory_equal(val, "v1", 2);
		assert_int_equal(getxattr(dp, "user.extra", val, sizeof(val)), -1);
		assert_int_equal(errno, ENODATA);
	}
	/* All the same now. */
	assert_int_equal(update_refresh(&src, &s, &dst, &d, false), 0);
	unlinkat(dfd, "s", 0);
	unlinkat(dfd, "d", 0);
	close(dfd);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decide),
		cmocka_unit_test(test_refresh),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
