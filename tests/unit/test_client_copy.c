/* cpd-client: the options of copy and the Copy parameters they make. */
#include <getopt.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../client/client.h"

/* A client as client_main sets it up, without configuration. */
static void
client_init(struct client *c)
{
	memset(c, 0, sizeof *c);
	c->socket = "/test.sock";
	c->priority = PRIORITY_UNSET;
	c->sync = -1;
	c->reflink = REFLINK_UNSET;
	c->update = -1;
	c->max_delete = -1;
}

/*
 * Parse "copy ARGS..." (a NULL-terminated list) into c; returns what
 * cmd_copy_parse returns, with its status in *status.
 */
static int
parse(struct client *c, int *status, ...)
{
	char		*argv[32];
	int		 argc = 0;
	const char	*arg;
	va_list		 ap;

	argv[argc++] = (char *)"copy";
	va_start(ap, status);
	while ((arg = va_arg(ap, const char *)) != NULL) {
		assert_true(argc < 31);
		argv[argc++] = (char *)arg;
	}
	va_end(ap);
	argv[argc] = NULL;
	*status = -1;
	optind = 0;	/* as client_main leaves it: getopt starts afresh */
	return cmd_copy_parse(c, cmd_find("copy"), argc, argv, status);
}

/* The Copy parameters c makes for /src -> /dest. */
static struct json_object *
params_of(struct client *c)
{
	char			*srcs[] = { (char *)"/src" };
	struct json_object	*params;
	int			 status = -1;

	params = cmd_copy_params(c, 1, srcs, "/dest", &status);
	assert_non_null(params);
	return params;
}

static bool
has_key(struct json_object *obj, const char *key)
{
	return json_object_object_get_ex(obj, key, NULL);
}

static void
test_defaults_send_nothing_new(void **state)
{
	struct client		 c;
	struct json_object	*params;
	int			 status;

	client_init(&c);
	assert_int_equal(parse(&c, &status, "/a", "/b", NULL), 1);
	assert_false(c.recursive);
	assert_false(c.archive);
	assert_false(c.keep_going);
	assert_int_equal(c.reflink, REFLINK_UNSET);
	assert_false(c.detach);

	/* An older daemon would refuse keys it does not know. */
	params = params_of(&c);
	assert_false(has_key(params, "recursive"));
	assert_false(has_key(params, "archive"));
	assert_false(has_key(params, "reflink"));
	assert_false(has_key(params, "keep_going"));
	assert_true(has_key(params, "sources"));
	assert_true(has_key(params, "destination"));
	assert_true(has_key(params, "umask"));
	json_object_put(params);
}

static void
test_recursive_archive_keep_going(void **state)
{
	struct client		 c;
	struct json_object	*params, *v;
	int			 status;

	client_init(&c);
	assert_int_equal(parse(&c, &status, "-r", "--keep-going", "/a", "/b",
	    NULL), 3);
	assert_true(c.recursive);
	assert_false(c.archive);
	assert_true(c.keep_going);
	params = params_of(&c);
	assert_true(json_object_object_get_ex(params, "recursive", &v));
	assert_true(json_object_is_type(v, json_type_boolean));
	assert_true(json_object_get_boolean(v));
	assert_true(json_object_object_get_ex(params, "keep_going", &v));
	assert_true(json_object_get_boolean(v));
	assert_false(has_key(params, "archive"));
	json_object_put(params);

	/* -a alone sends archive only: the daemon takes it to imply -r. */
	client_init(&c);
	assert_int_equal(parse(&c, &status, "--archive", "/a", "/b", NULL), 2);
	assert_true(c.archive);
	assert_false(c.recursive);
	params = params_of(&c);
	assert_true(json_object_object_get_ex(params, "archive", &v));
	assert_true(json_object_get_boolean(v));
	assert_false(has_key(params, "recursive"));
	json_object_put(params);

	/* Long forms, and bundled short options. */
	client_init(&c);
	assert_int_equal(parse(&c, &status, "--recursive", "/a", "/b", NULL),
	    2);
	assert_true(c.recursive);
	client_init(&c);
	assert_int_equal(parse(&c, &status, "-ran", "--detach", "--priority", "bulk",
	    "/a", "/b", NULL), 5);
	assert_true(c.recursive);
	assert_true(c.archive);
	assert_int_equal(c.update, UPDATE_NONE);	/* cp 9.1's -n: skip */
	assert_true(c.detach);
	assert_int_equal(c.priority, PRIORITY_BULK);
}

static void
test_reflink(void **state)
{
	struct client		 c;
	struct json_object	*params, *v;
	int			 status;

	/* Bare --reflink means always, as in cp. */
	client_init(&c);
	assert_int_equal(parse(&c, &status, "--reflink", "/a", "/b", NULL), 2);
	assert_int_equal(c.reflink, REFLINK_ALWAYS);
	params = params_of(&c);
	assert_true(json_object_object_get_ex(params, "reflink", &v));
	assert_string_equal(json_object_get_string(v), "always");
	json_object_put(params);

	client_init(&c);
	assert_int_equal(parse(&c, &status, "--reflink=never", "/a", "/b",
	    NULL), 2);
	assert_int_equal(c.reflink, REFLINK_NEVER);
	params = params_of(&c);
	assert_true(json_object_object_get_ex(params, "reflink", &v));
	assert_string_equal(json_object_get_string(v), "never");
	json_object_put(params);

	/* auto is sent when asked for; the last one wins. */
	client_init(&c);
	assert_int_equal(parse(&c, &status, "--reflink=never",
	    "--reflink=auto", "/a", "/b", NULL), 3);
	assert_int_equal(c.reflink, REFLINK_AUTO);
	params = params_of(&c);
	assert_true(json_object_object_get_ex(params, "reflink", &v));
	assert_string_equal(json_object_get_string(v), "auto");
	json_object_put(params);

	/* The value must be attached: a separate word is an operand. */
	client_init(&c);
	assert_int_equal(parse(&c, &status, "--reflink", "never", "/b", NULL),
	    2);
	assert_int_equal(c.reflink, REFLINK_ALWAYS);
}

static void
test_reflink_invalid(void **state)
{
	struct client	 c;
	int		 status;

	client_init(&c);
	assert_int_equal(parse(&c, &status, "--reflink=sometimes", "/a", "/b",
	    NULL), -1);
	assert_int_equal(status, CLIENT_EXIT_USAGE);
	client_init(&c);
	assert_int_equal(parse(&c, &status, "--reflink=", "/a", "/b", NULL),
	    -1);
	assert_int_equal(status, CLIENT_EXIT_USAGE);
	client_init(&c);
	assert_int_equal(parse(&c, &status, "--reflink=ALWAYS", "/a", "/b",
	    NULL), -1);
	assert_int_equal(status, CLIENT_EXIT_USAGE);
	/* --keep-going takes no value. */
	client_init(&c);
	assert_int_equal(parse(&c, &status, "--keep-going=yes", "/a", "/b",
	    NULL), -1);
	assert_int_equal(status, CLIENT_EXIT_USAGE);
}

static void
test_other_options_still_parse(void **state)
{
	struct client	 c;
	int		 status;

	client_init(&c);
	assert_int_equal(parse(&c, &status, "-n", "--sync", "--bwlimit", "50M",
	    "--json", "--no-progress", "-a", "/a", "/b", NULL), 8);
	assert_int_equal(c.update, UPDATE_NONE);
	assert_int_equal(c.sync, 1);
	assert_true(c.bwlimit == 50 * 1024 * 1024);
	assert_true(c.json);
	assert_int_equal(c.progress, PROGRESS_NEVER);
	assert_true(c.archive);

	client_init(&c);
	assert_int_equal(parse(&c, &status, "-X", "/a", "/b", NULL), -1);
	assert_int_equal(status, CLIENT_EXIT_USAGE);
	client_init(&c);
	assert_int_equal(parse(&c, &status, "--bwlimit=fast", "/a", "/b",
	    NULL), -1);
	assert_int_equal(status, CLIENT_EXIT_USAGE);
	client_init(&c);
	assert_int_equal(parse(&c, &status, "--help", NULL), -1);
	assert_int_equal(status, CLIENT_EXIT_OK);
}

/* The preserve list c sends, as "mode,ownership"; "-" when none is sent. */
static void
check_preserve(struct client *c, const char *want)
{
	struct json_object	*params = params_of(c), *a;
	char			 got[128] = "";

	if (!json_object_object_get_ex(params, "preserve", &a))
		strcpy(got, "-");
	else
		for (size_t i = 0; i < json_object_array_length(a); i++) {
			if (i)
				strcat(got, ",");
			strcat(got, json_object_get_string(json_object_array_get_idx(a, i)));
		}
	assert_string_equal(got, want);
	json_object_put(params);
}

/* cp's letters mean what they mean in cp; cpd's own have long names. */
static void
test_cp_letters(void **state)
{
	struct client		 c;
	struct json_object	*params, *v;
	int			 status;

	client_init(&c);
	assert_int_equal(parse(&c, &status, "-p", "/a", "/b", NULL), 2);
	assert_int_equal(c.priority, PRIORITY_UNSET);
	check_preserve(&c, "mode,ownership,timestamps");
	client_init(&c);
	assert_int_equal(parse(&c, &status, "-dR", "/a", "/b", NULL), 2);
	assert_false(c.detach);
	assert_true(c.recursive);
	check_preserve(&c, "links");
	client_init(&c);
	assert_int_equal(parse(&c, &status, "--preserve=timestamps,xattr", "/a", "/b", NULL), 2);
	check_preserve(&c, "timestamps,xattr");
	/* -a sends archive alone (all); --no-preserve takes from it. */
	client_init(&c);
	assert_int_equal(parse(&c, &status, "-a", "/a", "/b", NULL), 2);
	check_preserve(&c, "-");
	client_init(&c);
	assert_int_equal(parse(&c, &status, "-a", "--no-preserve=ownership,mode", "/a",
	    "/b", NULL), 3);
	check_preserve(&c, "timestamps,links,xattr");
	client_init(&c);
	assert_int_equal(parse(&c, &status, "--preserve=all", "/a", "/b", NULL), 2);
	check_preserve(&c, "mode,ownership,timestamps,links,xattr");
	client_init(&c);
	assert_int_equal(parse(&c, &status, "--preserve=colour", "/a", "/b", NULL), -1);
	assert_int_equal(status, CLIENT_EXIT_USAGE);

	client_init(&c);
	assert_int_equal(parse(&c, &status, "-uvx", "-t", "/d", "/a", NULL), 4);
	assert_int_equal(c.update, UPDATE_OLDER);
	assert_true(c.verbose);
	assert_string_equal(c.target_dir, "/d");
	params = params_of(&c);
	assert_true(json_object_object_get_ex(params, "one_file_system", &v));
	assert_true(json_object_get_boolean(v));
	assert_true(json_object_object_get_ex(params, "itemize", &v));	/* -v's names */
	json_object_put(params);

	/* -n and then --clobber: the last one wins. */
	client_init(&c);
	assert_int_equal(parse(&c, &status, "-n", "--clobber", "/a", "/b", NULL), 3);
	assert_int_equal(c.update, -1);

	/* Refused, never taken for something else. */
	static const char *const refused[] = { "--copy-contents", "--debug" };
	for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
		client_init(&c);
		assert_int_equal(parse(&c, &status, refused[i], "/a", "/b", NULL), -1);
		assert_int_equal(status, CLIENT_EXIT_USAGE);
	}
	/* -S asks for backups, as in cp 9.1. */
	client_init(&c);
	assert_int_equal(parse(&c, &status, "-S", ".bak", "/a", "/b", NULL), 3);
	assert_true(c.backup);
	assert_string_equal(c.backup_suffix, ".bak");
	/* Accepted as cp does with them. */
	client_init(&c);
	assert_int_equal(parse(&c, &status, "-f", "--sparse=auto", "-L", "/a", "/b", NULL), 4);
	client_init(&c);
	assert_int_equal(parse(&c, &status, "--parent", "/a", "/b", NULL), 2);
	assert_true(c.parents);
	/* -i and -n: the later one wins. */
	client_init(&c);
	assert_int_equal(parse(&c, &status, "-n", "-i", "/a", "/b", NULL), 3);
	assert_true(c.interactive);
	assert_int_equal(c.update, -1);
	client_init(&c);
	assert_int_equal(parse(&c, &status, "-i", "-n", "/a", "/b", NULL), 3);
	assert_false(c.interactive);
	assert_int_equal(c.update, UPDATE_NONE);
}

/* The key of params_of(c), as a string ("-" when absent). */
static void
check_key(struct client *c, const char *key, const char *want)
{
	struct json_object	*params = params_of(c), *v;

	assert_string_equal(json_object_object_get_ex(params, key, &v) ?
	    json_object_get_string(v) : "-", want);
	json_object_put(params);
}

/* The options that issue 18 taught: what each sends. */
static void
test_cp_more(void **state)
{
	struct client	c;
	int		status;

	/* -s: symlinks, and an existing file kept (an error) unless -f. */
	client_init(&c);
	assert_int_equal(parse(&c, &status, "-s", "/a", "/b", NULL), 2);
	check_key(&c, "symlink", "true");
	check_key(&c, "no_clobber", "true");
	client_init(&c);
	assert_int_equal(parse(&c, &status, "-sf", "/a", "/b", NULL), 2);
	check_key(&c, "no_clobber", "false");
	/* --no-preserve=mode: a new file's bits; a later -p takes mode back. */
	client_init(&c);
	assert_int_equal(parse(&c, &status, "--no-preserve=mode", "/a", "/b", NULL), 2);
	check_key(&c, "default_mode", "true");
	client_init(&c);
	assert_int_equal(parse(&c, &status, "--no-preserve=mode", "-p", "/a", "/b", NULL), 3);
	check_key(&c, "default_mode", "-");
	check_preserve(&c, "mode,ownership,timestamps");
	client_init(&c);
	assert_int_equal(parse(&c, &status, "--preserve=mode", "--no-preserve=all", "/a", "/b",
	    NULL), 3);
	check_key(&c, "default_mode", "true");
	/* -H and -L with -R; -a after -H is -P again, as in cp. */
	client_init(&c);
	assert_int_equal(parse(&c, &status, "-RH", "/a", "/b", NULL), 2);
	check_key(&c, "follow_sources", "true");
	check_key(&c, "follow_links", "-");
	client_init(&c);
	assert_int_equal(parse(&c, &status, "-RL", "/a", "/b", NULL), 2);
	check_key(&c, "follow_links", "true");
	client_init(&c);
	assert_int_equal(parse(&c, &status, "-Ha", "/a", "/b", NULL), 2);
	check_key(&c, "follow_sources", "-");
	/* cp's abbreviation wins over cpd's own: --b is --backup, not --bwlimit. */
	client_init(&c);
	assert_int_equal(parse(&c, &status, "--b=numbered", "/a", "/b", NULL), 2);
	assert_true(c.backup);
	assert_string_equal(c.backup_control, "numbered");
	client_init(&c);
	assert_int_equal(parse(&c, &status, "--no-p", "mode", "/a", "/b", NULL), 3);
	check_key(&c, "default_mode", "true");
	client_init(&c);
	assert_int_equal(parse(&c, &status, "--p", "/a", "/b", NULL), -1);	/* cp's too */
	assert_int_equal(status, CLIENT_EXIT_USAGE);
}

static void
test_reflink_names(void **state)
{
	assert_int_equal(cmd_copy_parse_reflink("auto"), REFLINK_AUTO);
	assert_int_equal(cmd_copy_parse_reflink("always"), REFLINK_ALWAYS);
	assert_int_equal(cmd_copy_parse_reflink("never"), REFLINK_NEVER);
	assert_int_equal(cmd_copy_parse_reflink(""), -1);
	assert_int_equal(cmd_copy_parse_reflink("yes"), -1);
	assert_string_equal(cmd_copy_reflink_name(REFLINK_AUTO), "auto");
	assert_string_equal(cmd_copy_reflink_name(REFLINK_ALWAYS), "always");
	assert_string_equal(cmd_copy_reflink_name(REFLINK_NEVER), "never");
	assert_null(cmd_copy_reflink_name(REFLINK_UNSET));
	assert_null(cmd_copy_reflink_name(3));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_send_nothing_new),
		cmocka_unit_test(test_recursive_archive_keep_going),
		cmocka_unit_test(test_reflink),
		cmocka_unit_test(test_reflink_invalid),
		cmocka_unit_test(test_other_options_still_parse),
		cmocka_unit_test(test_reflink_names),
		cmocka_unit_test(test_cp_letters),
		cmocka_unit_test(test_cp_more),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
