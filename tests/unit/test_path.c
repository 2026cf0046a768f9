/* Path handling of requests: validation, basename/dirname, temporaries. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "path.h"

static void
test_check(void **state)
{
	char long_path[PATH_MAX + 2];

	assert_int_equal(path_check("/a", 2), 0);
	assert_int_equal(path_check("a/b", 3), -EINVAL);
	assert_int_equal(path_check("", 0), -EINVAL);
	assert_int_equal(path_check("/a\0b", 4), -EINVAL);	/* embedded NUL */
	memset(long_path, 'x', sizeof(long_path) - 1);
	long_path[0] = '/';
	long_path[sizeof(long_path) - 1] = '\0';
	assert_int_equal(path_check(long_path, strlen(long_path)), -ENAMETOOLONG);
}

static void
expect_base(const char *path, int rc, const char *want)
{
	char out[NAME_MAX + 1];

	assert_int_equal(path_basename(path, out, sizeof(out)), rc);
	if (rc == 0)
		assert_string_equal(out, want);
}

static void
expect_dir(const char *path, int rc, const char *want)
{
	char out[PATH_MAX];

	assert_int_equal(path_dirname(path, out, sizeof(out)), rc);
	if (rc == 0)
		assert_string_equal(out, want);
}

static void
test_basename(void **state)
{
	expect_base("/a/b", 0, "b");
	expect_base("/a/b/", 0, "b");
	expect_base("/a/b//", 0, "b");
	expect_base("/b", 0, "b");
	expect_base("/a/with space", 0, "with space");
	expect_base("/", -EINVAL, NULL);
	expect_base("//", -EINVAL, NULL);
	expect_base("/a/..", -EINVAL, NULL);
	expect_base("/a/.", -EINVAL, NULL);
}

static void
test_dirname(void **state)
{
	expect_dir("/a/b", 0, "/a");
	expect_dir("/a/b/", 0, "/a");
	expect_dir("/a//b", 0, "/a");
	expect_dir("/a", 0, "/");
	expect_dir("/a/b/c", 0, "/a/b");
	expect_dir("/", -EINVAL, NULL);
}

static void
test_trailing_slash(void **state)
{
	assert_true(path_trailing_slash("/a/"));
	assert_false(path_trailing_slash("/a"));
	assert_false(path_trailing_slash("/"));
}

static void
test_temp_name(void **state)
{
	char a[64], b[64];

	path_temp_name(a, sizeof(a), 42, 0x1234);
	path_temp_name(b, sizeof(b), 42, 0x1235);
	assert_string_equal(a, ".cpd-tmp.42.0000000000001234");
	assert_string_not_equal(a, b);
	assert_int_equal(strncmp(a, PATH_TEMP_PREFIX, strlen(PATH_TEMP_PREFIX)), 0);
	assert_null(strchr(a, '/'));
}

/* Only the proc mounts count, optional tags or not; a reload replaces the list. */
static void
test_procfs(void **state)
{
	char	 file[] = "/tmp/cpd-test-mountinfo.XXXXXX";
	int	 fd = mkstemp(file);
	FILE	*f = fdopen(fd, "w");

	assert_non_null(f);
	fputs("22 27 0:21 / /proc rw,relatime shared:12 - proc proc rw\n"
	    "23 27 0:22 / /sys rw,relatime - sysfs sysfs rw\n"
	    "24 27 8:1 / / rw,relatime - ext4 /dev/sda1 rw\n"
	    "25 24 0:57 / /srv/jail/proc rw - proc proc rw,hidepid=2\n"
	    "26 24 0:58 / /srv/proc rw - tmpfs proc rw\n", f);
	fclose(f);
	assert_int_equal(path_procfs_load(file), 0);
	assert_true(path_on_procfs(0, 21));
	assert_true(path_on_procfs(0, 57));
	assert_false(path_on_procfs(0, 22));
	assert_false(path_on_procfs(8, 1));
	assert_false(path_on_procfs(0, 58));	/* a tmpfs whose source is named proc */

	f = fopen(file, "w");
	fputs("24 27 8:1 / / rw,relatime - ext4 /dev/sda1 rw\n", f);
	fclose(f);
	assert_int_equal(path_procfs_load(file), 0);
	assert_false(path_on_procfs(0, 21));
	unlink(file);
	assert_int_equal(path_procfs_load(file), -ENOENT);
	path_procfs_free();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_basename),
		cmocka_unit_test(test_dirname),
		cmocka_unit_test(test_trailing_slash),
		cmocka_unit_test(test_temp_name),
		cmocka_unit_test(test_procfs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
