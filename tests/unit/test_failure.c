/* The bounds of listed failures (failure.c): shortened texts and the byte budgets. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "job_internal.h"

#define MARK	"\xe2\x80\xa6"

static void
test_short_kept(void **state)
{
	char *s = failure_shorten("/a/b", 1024);

	assert_string_equal(s, "/a/b");
	free(s);
	s = failure_shorten("", 16);
	assert_string_equal(s, "");
	free(s);
}

/* A long text keeps its start and its end (the name, the error) around the marker. */
static void
test_long_shortened(void **state)
{
	char	 in[5001], *s;

	memset(in, 'a', 2500);
	memset(in + 2500, 'b', 2500);
	in[0] = '/';
	memcpy(in + 4990, "name': EACCES", 10);
	in[5000] = '\0';
	s = failure_shorten(in, 1024);
	assert_int_equal(strlen(s), 1024);
	assert_non_null(strstr(s, MARK));
	assert_int_equal(strncmp(s, in, 500), 0);
	assert_string_equal(s + strlen(s) - 10, in + 4990);
	free(s);
}

/* The cut never splits a UTF-8 character: a reply stays UTF-8. */
static void
test_utf8_boundaries(void **state)
{
	char	 in[3 * 400 + 1], *s;
	size_t	 len;

	for (int i = 0; i < 400; i++)
		memcpy(in + 3 * i, "\xe2\x82\xac", 3);	/* € */
	in[sizeof(in) - 1] = '\0';
	for (size_t max = 100; max < 110; max++) {
		s = failure_shorten(in, max);
		len = strlen(s);
		assert_true(len <= max);
		/* Whole characters only: a run of euros and one marker. */
		assert_int_equal(len % 3, 0);
		for (size_t i = 0; i < len; i += 3)
			assert_true(memcmp(s + i, "\xe2\x82\xac", 3) == 0 ||
			    memcmp(s + i, MARK, 3) == 0);
		free(s);
	}
}

static void
test_cost_and_budgets(void **state)
{
	struct config c;

	config_defaults(&c);
	c.jobs.failure_bytes = 1000;
	c.jobs.user_failure_bytes = 1500;
	assert_int_equal(failure_cost("/x", "cannot open '/x'"), 2 + 16 + 64);
	assert_true(failure_fits(0, 0, 1000, &c));
	assert_false(failure_fits(1, 0, 1000, &c));	/* the job's budget */
	assert_true(failure_fits(500, 1000, 500, &c));
	assert_false(failure_fits(0, 1001, 500, &c));	/* the user's, over all its jobs */
	c.jobs.failure_bytes = 0;
	assert_false(failure_fits(0, 0, 1, &c));	/* 0: none listed, all counted */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_short_kept),
		cmocka_unit_test(test_long_shortened),
		cmocka_unit_test(test_utf8_boundaries),
		cmocka_unit_test(test_cost_and_budgets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
