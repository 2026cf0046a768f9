/* cpd-client: configuration files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../client/client.h"

/* A temporary file holding text; its name in path (freed by the test). */
static char *
write_conf(const char *text)
{
	const char	*dir = getenv("TMPDIR");
	char		*path;
	FILE		*f;
	int		 fd;

	if (dir == NULL || *dir == '\0')
		dir = "/tmp";
	assert_true(asprintf(&path, "%s/cpd-client-conf.XXXXXX", dir) != -1);
	fd = mkstemp(path);
	assert_true(fd != -1);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	return path;
}

static void
drop_conf(char *path)
{
	unlink(path);
	free(path);
}

/* Load text; expect an error "PATH:suffix" (or success if suffix is NULL). */
static void
check_load(struct conf *conf, const char *text, const char *suffix)
{
	char	*path = write_conf(text), err[512], *want;
	int	 r;

	r = conf_load_file(conf, path, err, sizeof err);
	if (suffix == NULL) {
		if (r != 0)
			fail_msg("unexpected error: %s", err);
		assert_string_equal(err, "");
	} else {
		assert_int_equal(r, -1);
		assert_true(asprintf(&want, "%s:%s", path, suffix) != -1);
		assert_string_equal(err, want);
		free(want);
	}
	drop_conf(path);
}

static void
test_defaults(void **state)
{
	struct conf	 conf;

	conf_init(&conf);
	assert_null(conf.socket);
	assert_int_equal(conf.progress, PROGRESS_AUTO);
	assert_int_equal(conf.priority, PRIORITY_UNSET);
	assert_int_equal(conf.sync, -1);
	assert_false(conf.no_clobber);
	assert_true(conf.bwlimit == 0);
	conf_free(&conf);
}

static void
test_all_keys(void **state)
{
	struct conf	 conf;

	conf_init(&conf);
	check_load(&conf,
	    "# comment\n"
	    "; another\n"
	    "\n"
	    "[client]\n"
	    "socket = /tmp/cpd.sock\n"
	    "progress = never\n"
	    "priority = bulk\n"
	    "sync = yes\n"
	    "no_clobber = 1\n"
	    "bwlimit = 50MiB/s\n", NULL);
	assert_string_equal(conf.socket, "/tmp/cpd.sock");
	assert_int_equal(conf.progress, PROGRESS_NEVER);
	assert_int_equal(conf.priority, PRIORITY_BULK);
	assert_int_equal(conf.sync, 1);
	assert_true(conf.no_clobber);
	assert_true(conf.bwlimit == 50ULL << 20);
	conf_free(&conf);
}

static void
test_auto_priority_and_no_limit(void **state)
{
	struct conf	 conf;

	/* A user's file can undo the system file's priority and limit. */
	conf_init(&conf);
	check_load(&conf, "[client]\npriority = bulk\nbwlimit = 1.5G\n",
	    NULL);
	assert_int_equal(conf.priority, PRIORITY_BULK);
	assert_true(conf.bwlimit == 3ULL << 29);
	check_load(&conf, "[client]\npriority = auto\nbwlimit = 0\n", NULL);
	assert_int_equal(conf.priority, PRIORITY_UNSET);
	assert_true(conf.bwlimit == 0);
	conf_free(&conf);
}

static void
test_later_overrides(void **state)
{
	struct conf	 conf;

	conf_init(&conf);
	check_load(&conf, "[client]\nsocket = /a\nsync = true\n"
	    "priority = interactive\n", NULL);
	check_load(&conf, "[client]\nsocket = /b\nsync = false\n", NULL);
	assert_string_equal(conf.socket, "/b");
	assert_int_equal(conf.sync, 0);
	/* What the second file does not set stays. */
	assert_int_equal(conf.priority, PRIORITY_INTERACTIVE);
	conf_free(&conf);
}

static void
test_missing_file(void **state)
{
	struct conf	 conf;
	char		 err[256];

	conf_init(&conf);
	assert_int_equal(conf_load_file(&conf, "/nonexistent/cpd/client.conf",
	    err, sizeof err), 0);
	assert_string_equal(err, "");
	assert_null(conf.socket);
	conf_free(&conf);
}

static void
test_unreadable(void **state)
{
	struct conf	 conf;
	char		 err[256];

	/* A directory opens but cannot be read. */
	conf_init(&conf);
	assert_int_equal(conf_load_file(&conf, "/", err, sizeof err), -1);
	assert_string_equal(err, "/: Is a directory");
	conf_free(&conf);
}

static void
test_unknown_key(void **state)
{
	struct conf	 conf;

	conf_init(&conf);
	check_load(&conf, "[client]\nsync = true\ncolour = blue\n",
	    "3: unknown key 'colour'");
	/* Comments and blank lines count. */
	check_load(&conf, "; comment\n\n[client]\n\n# x\nbogus = 1\n",
	    "6: unknown key 'bogus'");
	conf_free(&conf);
}

static void
test_bad_values(void **state)
{
	struct conf	 conf;

	conf_init(&conf);
	check_load(&conf, "[client]\nprogress = sometimes\n",
	    "2: invalid value 'sometimes' for 'progress' "
	    "(expected auto, always or never)");
	check_load(&conf, "[client]\npriority = high\n",
	    "2: invalid value 'high' for 'priority' "
	    "(expected auto, interactive, normal or bulk)");
	check_load(&conf, "[client]\nbwlimit = fast\n",
	    "2: invalid value 'fast' for 'bwlimit' (expected bytes per "
	    "second such as 50M or 1048576, or 0 for none)");
	check_load(&conf, "[client]\nbwlimit = -1\n",
	    "2: invalid value '-1' for 'bwlimit' (expected bytes per "
	    "second such as 50M or 1048576, or 0 for none)");
	check_load(&conf, "[client]\nbwlimit = 8388608T\n",
	    "2: value '8388608T' for 'bwlimit' out of range");
	check_load(&conf, "[client]\nsync = maybe\n",
	    "2: invalid value 'maybe' for 'sync' (expected true or false)");
	check_load(&conf, "[client]\nno_clobber = 2\n",
	    "2: invalid value '2' for 'no_clobber' (expected true or false)");
	check_load(&conf, "[client]\nsocket =\n",
	    "2: empty value for 'socket'");
	conf_free(&conf);
}

static void
test_sections(void **state)
{
	struct conf	 conf;

	conf_init(&conf);
	check_load(&conf, "socket = /x\n",
	    "1: key 'socket' outside of a section (expected [client])");
	check_load(&conf, "[client]\nsync = 1\n[daemon]\nsocket = /x\n",
	    "4: unknown section [daemon]");
	/* An empty foreign section says nothing. */
	check_load(&conf, "[client]\nsync = 1\n[other]\n", NULL);
	conf_free(&conf);
}

static void
test_syntax_error(void **state)
{
	struct conf	 conf;

	conf_init(&conf);
	check_load(&conf, "[client]\nthis is not ini\n", "2: syntax error");
	check_load(&conf, "[client\n", "1: syntax error");
	/* The first error wins, whichever kind it is. */
	check_load(&conf, "[client]\nnonsense\nbogus = 1\n",
	    "2: syntax error");
	check_load(&conf, "[client]\nbogus = 1\nnonsense\n",
	    "2: unknown key 'bogus'");
	conf_free(&conf);
}

static void
test_long_line(void **state)
{
	struct conf	 conf;
	char		 text[1024];

	conf_init(&conf);
	snprintf(text, sizeof text, "[client]\nsocket = /%0600d\nbogus = 1\n",
	    0);
	check_load(&conf, text, "2: line too long (more than 199 characters)");
	/* Line numbers after a long line stay right. */
	snprintf(text, sizeof text, "[client]\n; %0600d\nbogus = 1\n", 0);
	check_load(&conf, text, "2: line too long (more than 199 characters)");
	conf_free(&conf);
}

static void
test_bool_spellings(void **state)
{
	static const char *const yes[] = { "true", "TRUE", "yes", "Yes", "1",
	    "on" };
	static const char *const no[] = { "false", "False", "no", "NO", "0",
	    "off" };
	size_t	 i;
	bool	 b;

	for (i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		b = false;
		assert_int_equal(conf_parse_bool(yes[i], &b), 0);
		assert_true(b);
		b = true;
		assert_int_equal(conf_parse_bool(no[i], &b), 0);
		assert_false(b);
	}
	assert_int_equal(conf_parse_bool("", &b), -1);
	assert_int_equal(conf_parse_bool("truee", &b), -1);
	assert_int_equal(conf_parse_bool("2", &b), -1);
}

static void
test_names(void **state)
{
	int	 prio = 42;

	assert_int_equal(conf_parse_priority("interactive", &prio), 0);
	assert_int_equal(prio, PRIORITY_INTERACTIVE);
	assert_int_equal(conf_parse_priority("normal", &prio), 0);
	assert_int_equal(prio, PRIORITY_NORMAL);
	assert_int_equal(conf_parse_priority("bulk", &prio), 0);
	assert_int_equal(prio, PRIORITY_BULK);
	assert_int_equal(conf_parse_priority("auto", &prio), 0);
	assert_int_equal(prio, PRIORITY_UNSET);
	prio = 42;
	assert_int_equal(conf_parse_priority("Bulk", &prio), -1);
	assert_int_equal(conf_parse_priority("", &prio), -1);
	assert_int_equal(conf_parse_priority("Auto", &prio), -1);
	assert_int_equal(prio, 42);
	assert_string_equal(conf_priority_name(PRIORITY_BULK), "bulk");
	assert_null(conf_priority_name(PRIORITY_UNSET));
	assert_int_equal(conf_parse_progress("auto"), PROGRESS_AUTO);
	assert_int_equal(conf_parse_progress("always"), PROGRESS_ALWAYS);
	assert_int_equal(conf_parse_progress("never"), PROGRESS_NEVER);
	assert_int_equal(conf_parse_progress("yes"), -1);
}

static void
test_user_path(void **state)
{
	char	*p;

	setenv("HOME", "/home/u", 1);
	setenv("XDG_CONFIG_HOME", "/xdg", 1);
	p = conf_user_path();
	assert_string_equal(p, "/xdg/cpd/client.conf");
	free(p);

	/* Unset, empty or relative XDG_CONFIG_HOME: ~/.config. */
	unsetenv("XDG_CONFIG_HOME");
	p = conf_user_path();
	assert_string_equal(p, "/home/u/.config/cpd/client.conf");
	free(p);
	setenv("XDG_CONFIG_HOME", "", 1);
	p = conf_user_path();
	assert_string_equal(p, "/home/u/.config/cpd/client.conf");
	free(p);
	setenv("XDG_CONFIG_HOME", "rel", 1);
	p = conf_user_path();
	assert_string_equal(p, "/home/u/.config/cpd/client.conf");
	free(p);

	unsetenv("XDG_CONFIG_HOME");
	unsetenv("HOME");
	assert_null(conf_user_path());
}

static void
test_load_user_file(void **state)
{
	struct conf	 conf;
	char		 dir[] = "/tmp/cpd-client-xdg.XXXXXX", path[128], err[256];
	FILE		*f;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/cpd", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof path, "%s/cpd/client.conf", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("[client]\npriority = interactive\n", f);
	fclose(f);
	setenv("XDG_CONFIG_HOME", dir, 1);

	conf_init(&conf);
	assert_int_equal(conf_load(&conf, err, sizeof err), 0);
	assert_int_equal(conf.priority, PRIORITY_INTERACTIVE);
	conf_free(&conf);

	f = fopen(path, "w");
	assert_non_null(f);
	fputs("[client]\n\nwhat = ever\n", f);
	fclose(f);
	conf_init(&conf);
	assert_int_equal(conf_load(&conf, err, sizeof err), -1);
	assert_non_null(strstr(err, "/cpd/client.conf:3: unknown key 'what'"));
	conf_free(&conf);

	unlink(path);
	snprintf(path, sizeof path, "%s/cpd", dir);
	rmdir(path);
	rmdir(dir);
	unsetenv("XDG_CONFIG_HOME");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_all_keys),
		cmocka_unit_test(test_auto_priority_and_no_limit),
		cmocka_unit_test(test_later_overrides),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_unreadable),
		cmocka_unit_test(test_unknown_key),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_sections),
		cmocka_unit_test(test_syntax_error),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_bool_spellings),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_user_path),
		cmocka_unit_test(test_load_user_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
