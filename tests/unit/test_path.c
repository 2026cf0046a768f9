/* Path handling of requests: validation, basename/dirname, temporaries. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_basename),
		cmocka_unit_test(test_dirname),
		cmocka_unit_test(test_trailing_slash),
		cmocka_unit_test(test_temp_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
