/* cpd-client: human-readable units, the progress line, job reports. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../client/client.h"
#include "print_fixture.h"

#define KiB	1024ULL
#define MiB	(1024 * KiB)
#define GiB	(1024 * MiB)
#define TiB	(1024 * GiB)

static void
check_size(uint64_t n, const char *want)
{
	char	 buf[32];

	assert_ptr_equal(human_size(n, buf, sizeof buf), buf);
	assert_string_equal(buf, want);
}

static void
test_human_size_bytes(void **state)
{
	check_size(0, "0 B");
	check_size(1, "1 B");
	check_size(1023, "1023 B");
}

static void
test_human_size_units(void **state)
{
	check_size(KiB, "1.0 KiB");
	check_size(1536, "1.5 KiB");
	check_size(1126, "1.1 KiB");		/* 1.0996 rounds up */
	check_size(10 * KiB - 1, "10.0 KiB");
	check_size(MiB, "1.0 MiB");
	check_size(512 * MiB, "512.0 MiB");
	check_size(GiB + GiB / 2, "1.5 GiB");
	check_size(TiB, "1.0 TiB");
	check_size(1024 * TiB, "1.0 PiB");
	check_size(1024 * 1024 * TiB, "1.0 EiB");
	check_size(UINT64_MAX, "16.0 EiB");
}

static void
test_human_size_rounds_to_next_unit(void **state)
{
	/* Never "1024.0 KiB": that is 1.0 MiB. */
	check_size(MiB - 1, "1.0 MiB");
	check_size(MiB - 51, "1.0 MiB");	/* 1023.9502 KiB */
	check_size(MiB - 52, "1023.9 KiB");	/* 1023.9492 KiB */
	check_size(1023 * KiB, "1023.0 KiB");
	check_size(GiB - 1, "1.0 GiB");
}

static void
test_human_size_small_buffer(void **state)
{
	char	 buf[4];

	human_size(1536, buf, sizeof buf);
	assert_string_equal(buf, "1.5");
}

static void
test_human_rate(void **state)
{
	char	 buf[32];

	assert_string_equal(human_rate(0, buf, sizeof buf), "0 B/s");
	assert_string_equal(human_rate(85 * MiB, buf, sizeof buf),
	    "85.0 MiB/s");
}

static void
test_human_clock(void **state)
{
	char	 buf[32];

	assert_string_equal(human_clock(0, buf, sizeof buf), "0:00");
	assert_string_equal(human_clock(5, buf, sizeof buf), "0:05");
	assert_string_equal(human_clock(754, buf, sizeof buf), "12:34");
	assert_string_equal(human_clock(3723, buf, sizeof buf), "1:02:03");
	assert_string_equal(human_clock(3 * 86400 + 4 * 3600 + 5 * 60 + 6,
	    buf, sizeof buf), "3d 04:05:06");
}

static void
test_human_duration(void **state)
{
	char	 buf[32];

	assert_string_equal(human_duration(0, buf, sizeof buf), "0s");
	assert_string_equal(human_duration(59, buf, sizeof buf), "59s");
	assert_string_equal(human_duration(123, buf, sizeof buf), "2m 3s");
	assert_string_equal(human_duration(3723, buf, sizeof buf),
	    "1h 2m 3s");
	assert_string_equal(human_duration(3 * 86400 + 4 * 3600 + 5 * 60 + 6,
	    buf, sizeof buf), "3d 4h 5m 6s");
}

static void
check_progress(uint64_t done, uint64_t total, uint64_t rate, unsigned cols,
    const char *want)
{
	char	 buf[PROGRESS_LINE_MAX];
	size_t	 len;

	len = progress_format(buf, sizeof buf, done, total, rate, cols);
	assert_string_equal(buf, want);
	assert_int_equal(len, strlen(want));
	if (cols > 0)
		assert_true(len < cols);
}

static void
test_progress_half(void **state)
{
	check_progress(512 * MiB, GiB, 64 * MiB, 80,
	    " 50% [===============>              ] 512.0 MiB / 1.0 GiB"
	    "  64.0 MiB/s  ETA 0:08");
}

static void
test_progress_start_unknown_rate(void **state)
{
	check_progress(0, 10 * GiB, 0, 80,
	    "  0% [                              ] 0 B / 10.0 GiB"
	    "  0 B/s  ETA --:--");
	/* Nothing known yet. */
	check_progress(0, 0, 0, 80,
	    "  0% [                              ] 0 B / 0 B"
	    "  0 B/s  ETA --:--");
}

static void
test_progress_complete(void **state)
{
	check_progress(GiB, GiB, 0, 80,
	    "100% [==============================] 1.0 GiB / 1.0 GiB"
	    "  0 B/s  ETA 0:00");
}

static void
test_progress_long_eta(void **state)
{
	/* 10 GiB at 1 MiB/s: 10240 s. */
	check_progress(0, 10 * GiB, MiB, 80,
	    "  0% [                              ] 0 B / 10.0 GiB"
	    "  1.0 MiB/s  ETA 2:50:40");
	/* The ETA rounds up: 1 byte left is 1 s, not 0. */
	check_progress(GiB - 1, GiB, MiB, 80,
	    " 99% [=============================>] 1.0 GiB / 1.0 GiB"
	    "  1.0 MiB/s  ETA 0:01");
}

static void
test_progress_narrow(void **state)
{
	/* The bar shrinks first (46 columns of text, 3 of brackets)... */
	check_progress(512 * MiB, GiB, 64 * MiB, 62,
	    " 50% [======>     ] 512.0 MiB / 1.0 GiB  64.0 MiB/s  ETA 0:08");
	/* ...down to 10 cells... */
	check_progress(512 * MiB, GiB, 64 * MiB, 60,
	    " 50% [=====>    ] 512.0 MiB / 1.0 GiB  64.0 MiB/s  ETA 0:08");
	/* ...then goes, then the ETA, then the rate. */
	check_progress(512 * MiB, GiB, 64 * MiB, 50,
	    " 50% 512.0 MiB / 1.0 GiB  64.0 MiB/s  ETA 0:08");
	check_progress(512 * MiB, GiB, 64 * MiB, 40,
	    " 50% 512.0 MiB / 1.0 GiB  64.0 MiB/s");
	check_progress(512 * MiB, GiB, 64 * MiB, 30,
	    " 50% 512.0 MiB / 1.0 GiB");
}

static void
test_progress_wide_and_default(void **state)
{
	char	 a[PROGRESS_LINE_MAX], b[PROGRESS_LINE_MAX];

	/* The bar stops growing at 30 cells; 0 columns means 80. */
	check_progress(512 * MiB, GiB, 64 * MiB, 200,
	    " 50% [===============>              ] 512.0 MiB / 1.0 GiB"
	    "  64.0 MiB/s  ETA 0:08");
	progress_format(a, sizeof a, 3, 7, 1, 0);
	progress_format(b, sizeof b, 3, 7, 1, 80);
	assert_string_equal(a, b);
}

static void
test_progress_overflow(void **state)
{
	/* done > total (files grew) and huge numbers stay sane. */
	check_progress(2 * GiB, GiB, 0, 80,
	    "100% [==============================] 2.0 GiB / 1.0 GiB"
	    "  0 B/s  ETA 0:00");
	assert_int_equal(progress_percent(UINT64_MAX - 1, UINT64_MAX), 99);
	assert_int_equal(progress_percent(UINT64_MAX, UINT64_MAX), 100);
	assert_int_equal(progress_percent(5, 0), 0);
	assert_int_equal(progress_percent(1, 3), 33);
}

static void
test_progress_truncates(void **state)
{
	char	 buf[10];
	size_t	 len;

	len = progress_format(buf, sizeof buf, 512 * MiB, GiB, 64 * MiB, 80);
	assert_int_equal(len, sizeof buf - 1);
	assert_string_equal(buf, " 50% [===");
}

static void
test_progress_paused(void **state)
{
	struct progress		 pr;
	struct json_object	*job;
	char			 buf[PROGRESS_LINE_MAX], *out = NULL;
	size_t			 len = 0;
	FILE			*f;

	/* No rate and no ETA: "paused" takes the ETA's place. */
	progress_format_paused(buf, sizeof buf, 512 * MiB, GiB, 80);
	assert_string_equal(buf,
	    " 50% [===============>              ] 512.0 MiB / 1.0 GiB"
	    "  0 B/s  paused");

	/* The same for a paused Job, whatever rate it reports. */
	job = json_tokener_parse("{\"id\": 3, \"state\": \"paused\", "
	    "\"bytes_done\": 536870912, \"bytes_total\": 1073741824, "
	    "\"rate\": 1000000}");
	assert_non_null(job);
	assert_false(job_ended(job));
	setenv("COLUMNS", "80", 1);
	f = open_memstream(&out, &len);
	assert_non_null(f);
	progress_init(&pr, f, true);
	progress_update(&pr, job);
	progress_finish(&pr);
	fclose(f);
	assert_string_equal(out, "\r 50% [===============>              ] "
	    "512.0 MiB / 1.0 GiB  0 B/s  paused\n");
	free(out);
	json_object_put(job);
}

static void
test_daemon_status(void **state)
{
	char	*out;

	out = daemon_status("{\"version\": \"0.1.0\", \"engine\": \"io_uring\", "
	    "\"features\": [\"single_issuer\", \"defer_taskrun\"], "
	    "\"fallback_reason\": null, \"uptime_usec\": 3723000000, "
	    "\"clients\": 1, \"jobs_queued\": 3, \"jobs_running\": 4, "
	    "\"jobs_paused\": 1, \"queued_interactive\": 1, "
	    "\"queued_normal\": 2, \"queued_bulk\": 0, \"jobs_done\": 12, "
	    "\"jobs_failed\": 0, \"jobs_cancelled\": 2, "
	    "\"bytes_copied\": 1536, \"files_copied\": 9, "
	    "\"rate\": 1048576, \"loop_latency\": {\"p50_usec\": 12, "
	    "\"p99_usec\": 80, \"max_usec\": 1234, \"iterations\": 5000, "
	    "\"slow\": 1}, \"ops_inflight\": 40, "
	    "\"ops_async_inflight\": 8, \"ops_waiting\": 3, "
	    "\"async_policy\": \"auto\", \"async_threshold\": 262144}");
	assert_string_equal(out,
	    "version: 0.1.0\n"
	    "engine: io_uring\n"
	    "features: single_issuer, defer_taskrun\n"
	    "fallback_reason: -\n"
	    "uptime: 1h 2m 3s\n"
	    "clients: 1\n"
	    "jobs_queued: 3 (interactive 1, normal 2, bulk 0)\n"
	    "jobs_running: 4\n"
	    "jobs_paused: 1\n"
	    "jobs_done: 12\n"
	    "jobs_failed: 0\n"
	    "jobs_cancelled: 2\n"
	    "bytes_copied: 1.5 KiB (1536 bytes)\n"
	    "files_copied: 9\n"
	    "rate: 1.0 MiB/s\n"
	    "loop latency: p50 12us, p99 80us, max 1.2ms "
	    "(5000 iterations, 1 slow)\n"
	    "operations: 40 in flight (8 async), 3 waiting\n"
	    "async: auto\n"
	    "async_threshold: 256.0 KiB\n");
	free(out);

	/* Every policy with the threshold, a line of its own (splice, write-behind). */
	out = daemon_status("{\"async_threshold\": 262144, "
	    "\"async_policy\": \"never\"}");
	assert_string_equal(out, "async: never\nasync_threshold: 256.0 KiB\n");
	free(out);
}

static void
test_daemon_status_partial(void **state)
{
	char	*out;

	/* An older daemon: nothing of the new fields. */
	out = daemon_status("{\"version\": \"0.1.0\", \"jobs_queued\": 2, "
	    "\"jobs_running\": 0, \"rate\": 0}");
	assert_string_equal(out, "version: 0.1.0\n"
	    "jobs_queued: 2\n"
	    "jobs_running: 0\n"
	    "rate: 0 B/s\n");
	free(out);

	/* Some of them: what is there is shown. */
	out = daemon_status("{\"jobs_queued\": 2, \"queued_bulk\": 2, "
	    "\"loop_latency\": {\"max_usec\": 2500000}, "
	    "\"ops_waiting\": 0, \"async_threshold\": 1024}");
	assert_string_equal(out, "jobs_queued: 2 (bulk 2)\n"
	    "loop latency: max 2.5s\n"
	    "operations: 0 waiting\n"
	    "async_threshold: 1.0 KiB\n");
	free(out);

	out = daemon_status("{\"loop_latency\": {\"p99_usec\": 7, "
	    "\"iterations\": 1}, \"ops_async_inflight\": 5, "
	    "\"ops_inflight\": 6}");
	assert_string_equal(out, "loop latency: p99 7us (1 iteration)\n"
	    "operations: 6 in flight (5 async)\n");
	free(out);

	/* Per-priority counts without the total stand on their own. */
	out = daemon_status("{\"queued_normal\": 4, \"loop_latency\": {}}");
	assert_string_equal(out, "queued_normal: 4\n");
	free(out);

	/* Fields this client does not know are shown as they are. */
	out = daemon_status("{\"jobs_queued\": 1, \"queued_urgent\": 1, "
	    "\"loop_latency\": 5, \"shiny\": \"yes\"}");
	assert_string_equal(out, "jobs_queued: 1\n"
	    "queued_urgent: 1\n"
	    "loop_latency: 5\n"
	    "shiny: yes\n");
	free(out);
}

static void
test_job_summary(void **state)
{
	struct json_object	*job;
	char			*s;

	job = json_tokener_parse("{\"id\": 1, \"state\": \"queued\", "
	    "\"sources\": [\"/a\"], \"destination\": \"/d/\"}");
	s = job_summary(job);
	assert_string_equal(s, "/a -> /d/");
	free(s);
	json_object_put(job);

	job = json_tokener_parse("{\"id\": 1, \"state\": \"queued\", "
	    "\"sources\": [\"/a\", \"/b\", \"/c\"], \"destination\": \"/d\"}");
	s = job_summary(job);
	assert_string_equal(s, "/a +2 more -> /d");
	free(s);
	assert_true(job_valid(job));
	assert_false(job_ended(job));
	json_object_put(job);
}

/* The line progress_format_job makes of the JSON text job. */
static void
check_job_line(const char *job, unsigned cols, const char *want)
{
	struct json_object	*obj = json_tokener_parse(job);
	char			 buf[PROGRESS_LINE_MAX];
	size_t			 len;

	assert_non_null(obj);
	len = progress_format_job(buf, sizeof buf, obj, cols);
	assert_string_equal(buf, want);
	assert_int_equal(len, strlen(want));
	json_object_put(obj);
}

static void
test_progress_files(void **state)
{
	/* One file: as before, no file count. */
	check_job_line("{\"id\": 1, \"state\": \"running\", "
	    "\"bytes_done\": 536870912, \"bytes_total\": 1073741824, "
	    "\"files_done\": 0, \"files_total\": 1, \"rate\": 67108864}",
	    80, " 50% [===============>              ] 512.0 MiB / 1.0 GiB"
	    "  64.0 MiB/s  ETA 0:08");
	/* A tree being walked: the count goes next to the sizes... */
	check_job_line("{\"id\": 1, \"state\": \"running\", "
	    "\"bytes_done\": 536870912, \"bytes_total\": 1073741824, "
	    "\"files_done\": 12, \"files_total\": 40, \"rate\": 67108864}",
	    100, " 50% [===============>              ] 512.0 MiB / 1.0 GiB"
	    "  12/40 files  64.0 MiB/s  ETA 0:08");
	/* ...and the bar shrinks for it on 80 columns... */
	check_job_line("{\"id\": 1, \"state\": \"running\", "
	    "\"bytes_done\": 536870912, \"bytes_total\": 1073741824, "
	    "\"files_done\": 12, \"files_total\": 40, \"rate\": 67108864}",
	    80, " 50% [========>        ] 512.0 MiB / 1.0 GiB"
	    "  12/40 files  64.0 MiB/s  ETA 0:08");
	/* ...and is the last part to go after the ETA and the rate. */
	check_job_line("{\"id\": 1, \"state\": \"running\", "
	    "\"bytes_done\": 536870912, \"bytes_total\": 1073741824, "
	    "\"files_done\": 12, \"files_total\": 40, \"rate\": 67108864}",
	    40, " 50% 512.0 MiB / 1.0 GiB  12/40 files");
	check_job_line("{\"id\": 1, \"state\": \"paused\", "
	    "\"bytes_done\": 0, \"bytes_total\": 0, "
	    "\"files_done\": 0, \"files_total\": 2, \"rate\": 5}",
	    80, "  0% [                              ] 0 B / 0 B  0/2 files"
	    "  0 B/s  paused");
	check_job_line("{\"id\": 1, \"state\": \"queued\", "
	    "\"bytes_total\": 2048, \"files_total\": 3}", 80,
	    "queued: 3 files, 2.0 KiB");
}

static void
test_progress_done(void **state)
{
	/* The whole job: full bar, average rate and time. */
	check_job_line("{\"id\": 1, \"state\": \"done\", "
	    "\"bytes_done\": 1073741824, \"bytes_total\": 1073741824, "
	    "\"files_done\": 40, \"files_total\": 40, "
	    "\"started_usec\": 1000000, \"finished_usec\": 17000000}",
	    100, "100% [==============================] 1.0 GiB / 1.0 GiB"
	    "  40/40 files  64.0 MiB/s  in 0:16");
	/* Files failed (keep_going): the bar shows what was copied. */
	check_job_line("{\"id\": 1, \"state\": \"done\", "
	    "\"bytes_done\": 536870912, \"bytes_total\": 1073741824, "
	    "\"files_done\": 38, \"files_total\": 40, \"files_failed\": 2, "
	    "\"started_usec\": 1000000, \"finished_usec\": 9000000}",
	    100, " 50% [===============>              ] 512.0 MiB / 1.0 GiB"
	    "  38/40 files  64.0 MiB/s  in 0:08");
	check_job_line("{\"id\": 1, \"state\": \"done\", "
	    "\"bytes_done\": 5, \"bytes_total\": 10, \"files_failed\": 1}",
	    80, " 50% [===============>              ] 5 B / 10 B  0 B/s  done");
}

static void
test_job_methods(void **state)
{
	struct json_object	*job;
	char			 buf[128], small[12];

	job = json_tokener_parse("{\"methods\": {\"reflink\": 0, "
	    "\"copy_file_range\": 0, \"splice\": 3, \"readwrite\": 12, "
	    "\"links\": 2}}");
	assert_ptr_equal(job_methods(job, buf, sizeof buf), buf);
	assert_string_equal(buf, "splice 3, readwrite 12, links 2");
	/* Truncated, but terminated. */
	assert_ptr_equal(job_methods(job, small, sizeof small), small);
	assert_string_equal(small, "splice 3, r");
	json_object_put(job);

	/* Methods a newer daemon counts are shown as they are. */
	job = json_tokener_parse("{\"methods\": {\"reflink\": 7, "
	    "\"teleport\": 1, \"bogus\": \"x\"}}");
	assert_non_null(job_methods(job, buf, sizeof buf));
	assert_string_equal(buf, "reflink 7, teleport 1");
	json_object_put(job);

	/* Nothing copied yet, or an older daemon. */
	job = json_tokener_parse("{\"methods\": {\"reflink\": 0, "
	    "\"splice\": 0}}");
	assert_null(job_methods(job, buf, sizeof buf));
	json_object_put(job);
	job = json_tokener_parse("{\"method\": \"splice\"}");
	assert_null(job_methods(job, buf, sizeof buf));
	json_object_put(job);
}

/* What job_print_failures prints for the JSON text job, and its line count. */
static size_t failures_lines;

static void
print_failures(FILE *f, struct json_object *job)
{
	failures_lines = job_print_failures(f, job);
}

static char *
failures_of(const char *text, size_t *lines)
{
	char *out = printed(print_failures, text);

	*lines = failures_lines;
	return out;
}

static void
test_job_failures(void **state)
{
	struct json_object	*job, *failures, *fail;
	char			*out, *text;
	size_t			 lines, i;

	out = failures_of("{\"files_failed\": 2, \"failures\": ["
	    "{\"path\": \"/s/a\", \"error\": \"EACCES\", "
	    "\"error_message\": \"cannot open '/s/a': Permission denied\"}, "
	    "{\"path\": \"/s/b\", \"error\": \"EIO\"}]}", &lines);
	assert_string_equal(out,
	    "  /s/a: cannot open '/s/a': Permission denied\n"
	    "  /s/b: EIO\n");
	assert_int_equal(lines, 2);
	free(out);

	/* The daemon lists the first 100; the rest are counted. */
	out = failures_of("{\"files_failed\": 250, \"failures\": ["
	    "{\"path\": \"/s/a\", \"error\": \"EIO\", "
	    "\"error_message\": \"read error\"}]}", &lines);
	assert_string_equal(out, "  /s/a: read error\n  (and 249 more)\n");
	assert_int_equal(lines, 2);
	free(out);

	out = failures_of("{\"files_failed\": 0, \"failures\": []}", &lines);
	assert_string_equal(out, "");
	assert_int_equal(lines, 0);
	free(out);

	/* Never more than JOB_FAILURES_MAX lines of paths. */
	job = json_object_new_object();
	failures = json_object_new_array();
	for (i = 0; i < JOB_FAILURES_MAX + 5; i++) {
		fail = json_object_new_object();
		json_object_object_add(fail, "path",
		    json_object_new_string("/x"));
		json_object_object_add(fail, "error_message",
		    json_object_new_string("m"));
		json_object_array_add(failures, fail);
	}
	json_object_object_add(job, "failures", failures);
	json_object_object_add(job, "files_failed",
	    json_object_new_int(JOB_FAILURES_MAX + 5));
	text = strdup(json_object_to_json_string(job));
	json_object_put(job);
	out = failures_of(text, &lines);
	assert_int_equal(lines, JOB_FAILURES_MAX + 1);
	assert_non_null(strstr(out, "  /x: m\n  (and 5 more)\n"));
	assert_int_equal(strlen(out), JOB_FAILURES_MAX * strlen("  /x: m\n") +
	    strlen("  (and 5 more)\n"));
	free(out);
	free(text);
}

/* What cmd_status_print prints for the JSON text job. */
static char *
status_of(const char *text)
{
	return printed(cmd_status_print, text);
}

static void
test_status_recursive(void **state)
{
	char	*out;

	out = status_of("{\"id\": 7, \"state\": \"done\", "
	    "\"priority\": \"bulk\", \"sources\": [\"/s\"], "
	    "\"destination\": \"/d\", \"uid\": 1000, "
	    "\"no_clobber\": false, \"sync\": false, \"bwlimit\": 0, "
	    "\"recursive\": true, \"archive\": true, "
	    "\"reflink\": \"never\", \"keep_going\": true, "
	    "\"bytes_total\": 100, \"bytes_done\": 50, "
	    "\"files_total\": 20, \"files_done\": 17, \"rate\": 0, "
	    "\"created_usec\": 0, \"started_usec\": 0, "
	    "\"finished_usec\": 0, \"method\": \"splice\", "
	    "\"methods\": {\"reflink\": 0, \"copy_file_range\": 0, "
	    "\"splice\": 3, \"readwrite\": 12, \"links\": 2}, "
	    "\"files_failed\": 3, \"failures\": [{\"path\": \"/s/x\", "
	    "\"error\": \"EACCES\", \"error_message\": \"denied\"}], "
	    "\"error\": null, \"error_message\": null}");
	assert_string_equal(out,
	    "id: 7\n"
	    "state: done\n"
	    "priority: bulk\n"
	    "source: /s\n"
	    "destination: /d\n"
	    "uid: 1000\n"
	    "no_clobber: no\n"
	    "sync: no\n"
	    "bwlimit: none\n"
	    "recursive: yes\n"
	    "archive: yes\n"
	    "reflink: never\n"
	    "keep_going: yes\n"
	    "progress: 50%\n"
	    "bytes_done: 50 B\n"
	    "bytes_total: 100 B\n"
	    "files_done: 17\n"
	    "files_total: 20\n"
	    "files_failed: 3\n"
	    "method: splice\n"
	    "methods: splice 3, readwrite 12, links 2\n"
	    "failures:\n"
	    "  /s/x: denied\n"
	    "  (and 2 more)\n");
	free(out);

	/* Options at their defaults are left out, as is files_failed. */
	out = status_of("{\"id\": 8, \"state\": \"done\", "
	    "\"recursive\": false, \"archive\": false, "
	    "\"reflink\": \"auto\", \"keep_going\": false, "
	    "\"bytes_total\": 1, \"bytes_done\": 1, \"files_total\": 1, "
	    "\"files_done\": 1, \"methods\": {\"readwrite\": 1}, "
	    "\"files_failed\": 0, \"failures\": []}");
	assert_string_equal(out,
	    "id: 8\n"
	    "state: done\n"
	    "uid: 0\n"
	    "no_clobber: no\n"
	    "sync: no\n"
	    "progress: 100%\n"
	    "bytes_done: 1 B\n"
	    "bytes_total: 1 B\n"
	    "files_done: 1\n"
	    "files_total: 1\n"
	    "methods: readwrite 1\n");
	free(out);

	/* keep_going without failures says so. */
	out = status_of("{\"id\": 9, \"state\": \"running\", "
	    "\"keep_going\": true, \"files_failed\": 0, \"rate\": 0}");
	assert_non_null(strstr(out, "keep_going: yes\n"));
	assert_non_null(strstr(out, "files_failed: 0\n"));
	assert_null(strstr(out, "failures:"));
	free(out);
}

/*
 * Run job_report_end on the JSON text job, with what it writes to stderr
 * in *err (and stdout, for --json, thrown away).
 */
static int
report_end(const char *text, bool json, char **err)
{
	struct client		 c = { .json = json };
	struct json_object	*job = json_tokener_parse(text);
	FILE			*tmp;
	long			 size;
	int			 saved_err, saved_out, null, status;

	assert_non_null(job);
	tmp = tmpfile();
	assert_non_null(tmp);
	fflush(stdout);
	fflush(stderr);
	saved_err = dup(STDERR_FILENO);
	saved_out = dup(STDOUT_FILENO);
	assert_true(saved_err != -1 && saved_out != -1);
	assert_int_equal(dup2(fileno(tmp), STDERR_FILENO), STDERR_FILENO);
	null = open("/dev/null", O_WRONLY);
	assert_int_equal(dup2(null, STDOUT_FILENO), STDOUT_FILENO);
	close(null);
	status = job_report_end(&c, job);
	fflush(stdout);
	fflush(stderr);
	dup2(saved_err, STDERR_FILENO);
	dup2(saved_out, STDOUT_FILENO);
	close(saved_err);
	close(saved_out);
	json_object_put(job);

	size = ftell(tmp);
	assert_true(size >= 0);
	*err = calloc(1, (size_t)size + 1);
	assert_non_null(*err);
	rewind(tmp);
	assert_int_equal(fread(*err, 1, (size_t)size, tmp), (size_t)size);
	fclose(tmp);
	return status;
}

static void
test_report_end_failures(void **state)
{
	static const char job[] = "{\"id\": 12, \"state\": \"done\", "
	    "\"files_failed\": 2, \"failures\": ["
	    "{\"path\": \"/s/a\", \"error\": \"EACCES\", "
	    "\"error_message\": \"cannot open '/s/a': Permission denied\"}, "
	    "{\"path\": \"/s/b\", \"error\": \"ELOOP\", "
	    "\"error_message\": \"too many links\"}]}";
	char	*err;

	/* A partial copy is not a success. */
	assert_int_equal(report_end(job, false, &err), CLIENT_EXIT_FAIL);
	assert_string_equal(err,
	    "cpd-client: job 12: 2 files could not be copied:\n"
	    "  /s/a: cannot open '/s/a': Permission denied\n"
	    "  /s/b: too many links\n");
	free(err);

	/* With --json the job says it all. */
	assert_int_equal(report_end(job, true, &err), CLIENT_EXIT_FAIL);
	assert_string_equal(err, "");
	free(err);

	assert_int_equal(report_end("{\"id\": 13, \"state\": \"done\", "
	    "\"files_failed\": 101, \"failures\": [{\"path\": \"/p\", "
	    "\"error\": \"EIO\", \"error_message\": \"m\"}]}", false,
	    &err), CLIENT_EXIT_FAIL);
	assert_string_equal(err,
	    "cpd-client: job 13: 101 files could not be copied:\n"
	    "  /p: m\n"
	    "  (and 100 more)\n");
	free(err);

	assert_int_equal(report_end("{\"id\": 14, \"state\": \"done\", "
	    "\"files_failed\": 1, \"failures\": [{\"path\": \"/p\", "
	    "\"error\": \"EIO\", \"error_message\": \"m\"}]}", false,
	    &err), CLIENT_EXIT_FAIL);
	assert_string_equal(err,
	    "cpd-client: job 14: 1 file could not be copied:\n"
	    "  /p: m\n");
	free(err);

	/* Done without failures, as before. */
	assert_int_equal(report_end("{\"id\": 15, \"state\": \"done\", "
	    "\"files_failed\": 0, \"failures\": []}", false, &err),
	    CLIENT_EXIT_OK);
	assert_string_equal(err, "");
	free(err);
	assert_int_equal(report_end("{\"id\": 16, \"state\": \"done\"}",
	    false, &err), CLIENT_EXIT_OK);
	free(err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_human_size_bytes),
		cmocka_unit_test(test_human_size_units),
		cmocka_unit_test(test_human_size_rounds_to_next_unit),
		cmocka_unit_test(test_human_size_small_buffer),
		cmocka_unit_test(test_human_rate),
		cmocka_unit_test(test_human_clock),
		cmocka_unit_test(test_human_duration),
		cmocka_unit_test(test_progress_half),
		cmocka_unit_test(test_progress_start_unknown_rate),
		cmocka_unit_test(test_progress_complete),
		cmocka_unit_test(test_progress_long_eta),
		cmocka_unit_test(test_progress_narrow),
		cmocka_unit_test(test_progress_wide_and_default),
		cmocka_unit_test(test_progress_overflow),
		cmocka_unit_test(test_progress_truncates),
		cmocka_unit_test(test_progress_paused),
		cmocka_unit_test(test_daemon_status),
		cmocka_unit_test(test_daemon_status_partial),
		cmocka_unit_test(test_job_summary),
		cmocka_unit_test(test_progress_files),
		cmocka_unit_test(test_progress_done),
		cmocka_unit_test(test_job_methods),
		cmocka_unit_test(test_job_failures),
		cmocka_unit_test(test_status_recursive),
		cmocka_unit_test(test_report_end_failures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
