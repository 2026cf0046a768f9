/* Filter rules (filter.c): rsync's include/exclude patterns, first match wins. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "filter.h"

/*
 * Whether rel is excluded by the rules, each "+ PATTERN" or "- PATTERN",
 * NULL-terminated.
 */
static bool
excluded(const char *rel, bool is_dir, ...)
{
	struct job_filter	 rules[16];
	struct filter_set	*set;
	const char		*s;
	size_t			 n = 0;
	va_list			 ap;
	bool			 ex;

	va_start(ap, is_dir);
	while ((s = va_arg(ap, const char *)) != NULL) {
		rules[n].rule = s[0] == '+' ? FILTER_INCLUDE : FILTER_EXCLUDE;
		rules[n++].pattern = (char *)s + 2;
	}
	va_end(ap);
	assert_int_equal(filter_compile(rules, n, &set), 0);
	ex = filter_excluded(set, rel, is_dir);
	filter_free(set);
	return ex;
}

#define EX(rel, dir, ...)	assert_true(excluded(rel, dir, __VA_ARGS__, NULL))
#define IN(rel, dir, ...)	assert_false(excluded(rel, dir, __VA_ARGS__, NULL))

static void
test_name(void **state)
{
	EX("src/a.o", false, "- *.o");
	EX("src/x/y/a.o", false, "- *.o");
	IN("src/a.c", false, "- *.o");
	IN("src/a.o/b", false, "- *.o");	/* only the last name */
	EX("a.o", false, "- *.o");
	EX("src/x/foo", true, "- foo");
	IN("src/x/foobar", false, "- foo");
	IN("src/x/barfoo", false, "- foo");
	EX("src/ab", false, "- a?");
	IN("src/abc", false, "- a?");
	IN("src/a", false, "- a?");
	EX("src/.hidden", false, "- .*");
	EX("src/x", false, "- *");
}

static void
test_dir_only(void **state)
{
	EX("src/build", true, "- build/");
	IN("src/build", false, "- build/");
	EX("src/a/build", true, "- build/");
	EX("src/x.d", true, "- *.d/");
	IN("src/x.d", false, "- *.d/");
}

static void
test_tail(void **state)
{
	/* A "/" inside: the last names of the path, at component boundaries. */
	EX("src/foo/bar", false, "- foo/bar");
	EX("src/a/foo/bar", true, "- foo/bar");
	IN("src/afoo/bar", false, "- foo/bar");
	IN("src/foo/bar/z", false, "- foo/bar");
	IN("bar", false, "- foo/bar");
	EX("foo/bar", false, "- foo/bar");
	EX("src/foo/x/bar", false, "- foo/*/bar");
	IN("src/foo/x/y/bar", false, "- foo/*/bar");
	IN("src/foo/bar", false, "- foo/*/bar");
	IN("src/foo", false, "- rc/foo");
	EX("src/a/foo/bar", true, "- a/foo/bar/");
	IN("src/a/foo/bar", false, "- a/foo/bar/");
}

static void
test_anchored(void **state)
{
	EX("src", true, "- /src");
	IN("src/src", true, "- /src");
	EX("src/top", false, "- /src/top");
	IN("src/a/top", false, "- /src/top");
	IN("src/top", false, "- /top");
	EX("top", false, "- /top");		/* SRC/.: the contents are the root */
	EX("src/foo/x/bar", false, "- /src/foo/**/bar");
	EX("src/foo/x/y/bar", false, "- /src/foo/**/bar");
	IN("src/foo/bar", false, "- /src/foo/**/bar");	/* "**" between two "/" */
	EX("src/a/b", false, "- /src/**");
	IN("src", true, "- /src/**");
	EX("src/d", true, "- /src/d/");
	IN("src/d", false, "- /src/d/");
}

static void
test_starstar(void **state)
{
	EX("src/a/foo/bar/z", false, "- src/**/z");
	EX("src/a/z", false, "- src/**/z");
	IN("src/z", false, "- src/**/z");
	EX("src/a/foo/bar/z", false, "- **/z");
	EX("src/a", true, "- a**");		/* from the start of any name */
	EX("src/a/b/c", false, "- a**");
	EX("src/x/ab/c", false, "- a**");
	IN("src/ba/c", false, "- a**");
	EX("src/x/y", false, "- **");
	EX("src/a/b.tmp", false, "- **.tmp");
	EX("src/a/b/c.tmp", false, "- **.tmp");
	EX("src/a/b/c.tmp", false, "- a/**.tmp");
	IN("src/a/b/c.tmpx", false, "- a/**.tmp");
	EX("src/cache/x/y", false, "- cache/**");
	IN("src/cache", true, "- cache/**");
}

static void
test_dir_and_all(void **state)
{
	EX("src/d", true, "- d/***");
	IN("src/d", false, "- d/***");	/* a file d: not the directory */
	EX("src/d/x", false, "- d/***");
	EX("src/d/x/y", true, "- d/***");
	IN("src/dd/x", false, "- d/***");
	EX("src/a/d/x", false, "- d/***");
	EX("src/d", true, "- /src/d/***");
	IN("src/a/d", true, "- /src/d/***");
}

static void
test_classes(void **state)
{
	EX("src/a1", false, "- a[0-9]");
	IN("src/ax", false, "- a[0-9]");
	EX("src/ax", false, "- a[!0-9]");
	EX("src/ax", false, "- a[^0-9]");
	IN("src/a5", false, "- a[^0-9]");
	EX("src/b", false, "- [abc]");
	IN("src/d", false, "- [abc]");
	EX("src/]", false, "- []]");
	EX("src/x]", false, "- x[]a]");
	EX("src/x-", false, "- x[a-]");
	EX("src/xA", false, "- x[[:upper:]]");
	IN("src/xa", false, "- x[[:upper:]]");
	EX("src/x5", false, "- x[[:alpha:][:digit:]]");
	IN("src/a/b", false, "- src/a[/]b");	/* a class never matches "/" */
	IN("src/a/b", false, "- src/a?b");
	IN("src/a/b", false, "- src/a*b");
}

static void
test_escapes(void **state)
{
	EX("src/a*", false, "- a\\*");
	IN("src/ab", false, "- a\\*");
	EX("src/a?x", false, "- a\\?*");
	EX("src/a\\b", false, "- a\\b");	/* no wildcard: taken as it is */
	EX("src/[x]", false, "- [[]x]");
	EX("src/[x]", false, "- \\[x]");
}

static void
test_first_match(void **state)
{
	IN("src/keep.o", false, "+ keep.o", "- *.o");
	EX("src/other.o", false, "+ keep.o", "- *.o");
	EX("src/keep.o", false, "- *.o", "+ keep.o");
	/* rsync's "only .c files and the directories". */
	IN("src/x", true, "+ */", "+ *.c", "- *");
	IN("src/x/a.c", false, "+ */", "+ *.c", "- *");
	EX("src/x/a.h", false, "+ */", "+ *.c", "- *");
	IN("src/x/a.h", false, "- nothing");
}

static void
test_compile(void **state)
{
	struct job_filter	 r = { FILTER_EXCLUDE, NULL };
	struct filter_set	*set = (struct filter_set *)&r;

	assert_int_equal(filter_compile(&r, 0, &set), 0);
	assert_null(set);
	assert_false(filter_excluded(NULL, "a", false));
	r.pattern = "";
	assert_int_equal(filter_compile(&r, 1, &set), -EINVAL);
	r.pattern = "/";
	assert_int_equal(filter_compile(&r, 1, &set), -EINVAL);
	r.pattern = "a[bc";
	assert_int_equal(filter_compile(&r, 1, &set), -EINVAL);
	r.pattern = "a[]";
	assert_int_equal(filter_compile(&r, 1, &set), -EINVAL);
	r.pattern = "a[";
	assert_int_equal(filter_compile(&r, 1, &set), -EINVAL);
	r.pattern = "a\\[";		/* escaped: no class */
	assert_int_equal(filter_compile(&r, 1, &set), 0);
	filter_free(set);
}

/* A pattern a backtracking matcher takes exponential time on stays fast. */
static void
test_no_blowup(void **state)
{
	char		 name[256], rel[300];
	struct timespec	 a, b;
	double		 sec;

	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	snprintf(rel, sizeof(rel), "src/%s", name);
	clock_gettime(CLOCK_MONOTONIC, &a);
	IN(rel, false, "- *a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b");
	IN(rel, false, "- **a**a**a**a**a**a**a**a**a**a**a**a**b");
	IN(rel, false, "- /src/**a*a*a*a*a*a*a*a*a*a*a*a/b");
	clock_gettime(CLOCK_MONOTONIC, &b);
	sec = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	assert_true(sec < 1.0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name),
		cmocka_unit_test(test_dir_only),
		cmocka_unit_test(test_tail),
		cmocka_unit_test(test_anchored),
		cmocka_unit_test(test_starstar),
		cmocka_unit_test(test_dir_and_all),
		cmocka_unit_test(test_classes),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_first_match),
		cmocka_unit_test(test_compile),
		cmocka_unit_test(test_no_blowup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
