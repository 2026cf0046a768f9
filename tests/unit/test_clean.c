/*
 * A job's temporaries in its journal record (clean.c): written as the
 * job keeps them, read back strictly. A name that leaves the recorded
 * directory, or is not one of the job's temporaries, makes the record
 * invalid, so that a restart never removes anything else by it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "job_internal.h"

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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_strict),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
