/* cpd-client: making paths absolute and parsing job ids. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "../../client/client.h"

static void
check_abs(const char *cwd, const char *path, const char *want)
{
	char	*got = client_abspath(cwd, path);

	if (want == NULL) {
		assert_null(got);
		return;
	}
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void
test_abspath_relative(void **state)
{
	check_abs("/home/u", "x", "/home/u/x");
	check_abs("/home/u", "a/b/c", "/home/u/a/b/c");
	check_abs("/home/u", ".hidden", "/home/u/.hidden");
	check_abs("/home/u", "..x", "/home/u/..x");
	check_abs("/", "x", "/x");
	check_abs("/home/u/", "x", "/home/u/x");
}

static void
test_abspath_absolute(void **state)
{
	check_abs("/home/u", "/abs/x", "/abs/x");
	check_abs("/home/u", "/", "/");
	check_abs(NULL, "/abs/x", "/abs/x");
	/* Absolute paths are sent exactly as given. */
	check_abs("/home/u", "/a/./b/../c//", "/a/./b/../c//");
}

static void
test_abspath_dot(void **state)
{
	check_abs("/home/u", "./x", "/home/u/x");
	check_abs("/home/u", ".//x", "/home/u/x");
	check_abs("/home/u", "././x", "/home/u/x");
	check_abs("/home/u", ".", "/home/u");
	check_abs("/home/u", "./", "/home/u/");
	check_abs("/", ".", "/");
	check_abs("/", "./", "/");
	/* Only leading "./" goes; inner ones stay. */
	check_abs("/home/u", "x/./y", "/home/u/x/./y");
}

static void
test_abspath_trailing_slash(void **state)
{
	check_abs("/home/u", "dir/", "/home/u/dir/");
	check_abs("/home/u", "./dir/", "/home/u/dir/");
	check_abs("/home/u", "dir//", "/home/u/dir//");
}

static void
test_abspath_dotdot(void **state)
{
	check_abs("/home/u", "..", "/home/u/..");
	check_abs("/home/u", "../x", "/home/u/../x");
	check_abs("/home/u", "a/../b", "/home/u/a/../b");
	check_abs("/home/u", "./../x/", "/home/u/../x/");
}

static void
test_abspath_invalid(void **state)
{
	check_abs("/home/u", "", NULL);
	check_abs("/home/u", NULL, NULL);
	check_abs(NULL, "x", NULL);
	check_abs("relative", "x", NULL);
}

static void
check_id(const char *s, int ok, uint64_t want)
{
	uint64_t	 id = 12345;

	if (ok) {
		assert_int_equal(client_parse_id(s, &id), 0);
		assert_true(id == want);
	} else {
		assert_int_equal(client_parse_id(s, &id), -1);
		assert_true(id == 12345);
	}
}

static void
test_parse_id_valid(void **state)
{
	check_id("1", 1, 1);
	check_id("42", 1, 42);
	check_id("007", 1, 7);
	check_id("9223372036854775807", 1, INT64_MAX);
}

static void
test_parse_id_invalid(void **state)
{
	check_id("", 0, 0);
	check_id(NULL, 0, 0);
	check_id("0", 0, 0);
	check_id("000", 0, 0);
	check_id("12x", 0, 0);
	check_id("x12", 0, 0);
	check_id("-1", 0, 0);
	check_id("+1", 0, 0);
	check_id(" 1", 0, 0);
	check_id("1 ", 0, 0);
	check_id("0x10", 0, 0);
	check_id("1.5", 0, 0);
	/* Larger than a JSON int (int64) or than uint64. */
	check_id("9223372036854775808", 0, 0);
	check_id("18446744073709551615", 0, 0);
	check_id("18446744073709551616", 0, 0);
	check_id("99999999999999999999999999", 0, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_abspath_relative),
		cmocka_unit_test(test_abspath_absolute),
		cmocka_unit_test(test_abspath_dot),
		cmocka_unit_test(test_abspath_trailing_slash),
		cmocka_unit_test(test_abspath_dotdot),
		cmocka_unit_test(test_abspath_invalid),
		cmocka_unit_test(test_parse_id_valid),
		cmocka_unit_test(test_parse_id_invalid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
