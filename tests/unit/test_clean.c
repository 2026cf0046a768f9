/*
 * A job's temporaries in its journal record (clean.c): written as the
 * job keeps them, read back strictly. A name that leaves the recorded
 * directory, or is not one of the job's temporaries, makes the record
 * invalid, so that a restart never removes anything else by it. The
 * same for the checkpoints of large files (partial.c), which a restart
 * keeps and goes on with.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job_internal.h"
#include "partial.h"

static int
read_temps(uint64_t id, const char *json, struct job *job)
{
	struct json_object	*rec = json_tokener_parse(json);
	int			 rc;

	assert_non_null(rec);
	memset(job, 0, sizeof(*job));
	job->id = id;
	rc = clean_read(rec, job);
	json_object_put(rec);
	return rc;
}

static void
test_round_trip(void **state)
{
	struct job		 job, back;
	char			*names[] = { strdup("a/b/.cpd-tmp.7.00ff"), strdup(".cpd-tmp.7.0100") };
	struct json_object	*rec = json_object_new_object();

	(void)state;
	memset(&job, 0, sizeof(job));
	job.id = 7;
	job.into_dir = true;
	job.req.destination = "/dst";
	job.temps = names;
	job.ntemps = 2;
	json_object_object_add(rec, "temporaries", clean_json(&job));
	memset(&back, 0, sizeof(back));
	back.id = 7;
	assert_int_equal(clean_read(rec, &back), 0);
	assert_string_equal(back.temps_dir, "/dst");
	assert_int_equal(back.ntemps, 2);
	assert_string_equal(back.temps[0], "a/b/.cpd-tmp.7.00ff");
	assert_string_equal(back.temps[1], ".cpd-tmp.7.0100");
	assert_false(back.temps_unrecorded);
	assert_false(back.temps_legacy);
	clean_free(&back);
	free(names[0]);
	free(names[1]);
	json_object_put(rec);
}

static void
test_strict(void **state)
{
	/* Each record's "temporaries", and what reading it gives. */
	static const struct {
		const char	*json;
		int		 rc;
	} cases[] = {
		{ "{}", 0 },	/* an older cpd's record: no names, searched for instead */
		{ "{\"temporaries\":{\"dir\":\"/d\",\"names\":[],\"all\":false}}", 0 },
		/* Not one of job 7's temporaries, or out of the directory. */
		{ "{\"temporaries\":{\"dir\":\"/d\",\"names\":[\"x/.cpd-tmp.8.1\"]}}", -EBADMSG },
		{ "{\"temporaries\":{\"dir\":\"/d\",\"names\":[\"x/keep\"]}}", -EBADMSG },
		{ "{\"temporaries\":{\"dir\":\"/d\",\"names\":[\"../.cpd-tmp.7.1\"]}}", -EBADMSG },
		{ "{\"temporaries\":{\"dir\":\"/d\",\"names\":[\"/etc/.cpd-tmp.7.1\"]}}", -EBADMSG },
		{ "{\"temporaries\":{\"dir\":\"/d\",\"names\":[\"a/./.cpd-tmp.7.1\"]}}", -EBADMSG },
		/* A directory that merely has dots in its name is fine. */
		{ "{\"temporaries\":{\"dir\":\"/d\",\"names\":[\"a..b/.cpd-tmp.7.1\"]}}", 0 },
		/* Names without the directory they are in, or a relative one. */
		{ "{\"temporaries\":{\"names\":[\".cpd-tmp.7.1\"]}}", -EBADMSG },
		{ "{\"temporaries\":{\"dir\":\"d\",\"names\":[\".cpd-tmp.7.1\"]}}", -EBADMSG },
		{ "{\"temporaries\":[]}", -EBADMSG },
	};
	struct job job;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (read_temps(7, cases[i].json, &job) != cases[i].rc)
			fail_msg("%s: not %d", cases[i].json, cases[i].rc);
		clean_free(&job);
	}
	assert_int_equal(read_temps(7, "{}", &job), 0);
	assert_true(job.temps_legacy);
	assert_int_equal(read_temps(7, cases[1].json, &job), 0);
	assert_true(job.temps_unrecorded);
	clean_free(&job);
}

static const char partial_rec[] =
    "{\"temporaries\":{\"dir\":\"/d\",\"names\":[],\"partial\":{\"dir\":\"/d\","
    "\"files\":[{\"temp\":\"a/.cpd-tmp.7.1\",\"dest\":\"a/big\",\"head\":%s,"
    "\"tail\":%s,\"size\":100,\"ino\":5,\"mtime_sec\":10,\"mtime_nsec\":20,"
    "\"dev_major\":8,\"dev_minor\":1%s}]}}}";

static int
read_partial(const char *head, const char *tail, const char *more, struct job *job)
{
	char buf[1024];

	snprintf(buf, sizeof(buf), partial_rec, head, tail, more);
	return read_temps(7, buf, job);
}

static void
test_partial_round_trip(void **state)
{
	struct job		 job, back;
	char			 name[64];
	struct statx		 stx = {
		.stx_size = 100, .stx_ino = 5, .stx_mtime = { .tv_sec = 10, .tv_nsec = 20 },
		.stx_dev_major = 8, .stx_dev_minor = 1,
	};
	struct json_object	*rec = json_object_new_object();

	(void)state;
	assert_int_equal(read_partial("40", "90", "", &job), 0);
	assert_int_equal(job.npartials, 1);
	assert_int_equal(job.partials[0].head, 40);
	assert_int_equal(job.partials[0].tail, 90);
	assert_true(partial_matches(&job.partials[0], &stx));
	stx.stx_mtime.tv_nsec = 21;	/* touched: not the file the checkpoint was of */
	assert_false(partial_matches(&job.partials[0], &stx));
	/* Kept from the clean-up by its name, whole or as its directory lists it. */
	assert_true(partial_is_temp(&job, "a/.cpd-tmp.7.1", true));
	assert_true(partial_is_temp(&job, ".cpd-tmp.7.1", false));
	assert_false(partial_is_temp(&job, ".cpd-tmp.7.1", true));
	json_object_object_add(rec, "temporaries", clean_json(&job));
	memset(&back, 0, sizeof(back));
	back.id = 7;
	assert_int_equal(clean_read(rec, &back), 0);
	assert_int_equal(back.npartials, 1);
	assert_string_equal(back.partial_dir, "/d");
	assert_string_equal(back.partials[0].dest, "a/big");
	assert_int_equal(back.partials[0].mtime_nsec, 20);
	/* Taken once, by its destination, and only below the same directory. */
	back.dest_parent = "/elsewhere";
	assert_null(partial_claim(&back, "a/big", false, name, sizeof(name)));
	back.dest_parent = "/d";
	assert_null(partial_claim(&back, "a/other", false, name, sizeof(name)));
	assert_null(partial_claim(&back, "a/big", true, name, sizeof(name)));	/* not a directory's */
	assert_non_null(partial_claim(&back, "a/big", false, name, sizeof(name)));
	assert_string_equal(name, ".cpd-tmp.7.1");
	assert_null(partial_claim(&back, "a/big", false, name, sizeof(name)));
	partial_drop(&back, "a/.cpd-tmp.7.1");
	assert_int_equal(back.npartials, 0);
	back.dest_parent = NULL;
	clean_free(&back);
	clean_free(&job);
	json_object_put(rec);
}

static void
test_partial_strict(void **state)
{
	static const struct {
		const char *head, *tail, *more;
		int rc;
	} cases[] = {
		{ "0", "100", "", 0 },
		{ "101", "101", "", -EBADMSG },	/* past the end */
		{ "50", "40", "", -EBADMSG },	/* the back before the front */
		{ "-1", "100", "", -EBADMSG },
		{ "\"1\"", "100", "", -EBADMSG },
		{ "0", "100", ",\"mtime_nsec\":1000000000", -EBADMSG },
	};
	struct job job;
	char buf[1024];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (read_partial(cases[i].head, cases[i].tail, cases[i].more, &job) != cases[i].rc)
			fail_msg("case %zu: not %d", i, cases[i].rc);
		clean_free(&job);
	}
	/* A temporary of another job, or a destination out of the directory. */
	snprintf(buf, sizeof(buf), partial_rec, "0", "100", "");
	memcpy(strstr(buf, ".cpd-tmp.7."), ".cpd-tmp.8.", 11);
	assert_int_equal(read_temps(7, buf, &job), -EBADMSG);
	clean_free(&job);
	snprintf(buf, sizeof(buf), partial_rec, "0", "100", "");
	memcpy(strstr(buf, "a/big"), "../bi", 5);
	assert_int_equal(read_temps(7, buf, &job), -EBADMSG);
	clean_free(&job);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_strict),
		cmocka_unit_test(test_partial_round_trip),
		cmocka_unit_test(test_partial_strict),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
