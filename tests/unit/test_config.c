/* Configuration parsing: values, sizes, ranges, unknown options, line numbers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

static char path[64];

static int
load(const char *text, struct config *c, char *err, size_t errlen)
{
	FILE *f;
	int fd;

	snprintf(path, sizeof(path), "/tmp/cpd-test-conf.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs(text, f);
	fclose(f);
	config_defaults(c);
	err[0] = '\0';
	int rc = config_load(path, c, err, errlen);
	unlink(path);
	return rc;
}

static void
test_defaults(void **state)
{
	struct config c;

	config_defaults(&c);
	assert_string_equal(c.socket, "/run/cpd/io.cpd.Manager");
	assert_int_equal(c.engine.async_threshold, 256 << 10);
	assert_int_equal(c.engine.async, ASYNC_AUTO);
	assert_int_equal(c.jobs.max_running, 4);
	assert_int_equal(c.jobs.max_running_per_user, 2);
	assert_int_equal(c.jobs.dir_fds_per_user, 0);
	assert_int_equal(c.engine.bulk_ioprio, IOPRIO_BULK_BE);
}

static void
test_values(void **state)
{
	struct config c;
	char err[256];

	assert_int_equal(load(
	    "socket = \"/tmp/x.sock\";\n"
	    "log_level = \"debug\";\n"
	    "jobs = { max_running = 2; sync = true; dir_fds_per_user = 300; };\n"
	    "engine = { type = \"fallback\"; async = \"never\"; async_threshold = \"1M\";\n"
	    "  chunk_size = 65536; method = \"readwrite\"; bulk_ioprio = \"idle\"; };\n",
	    &c, err, sizeof(err)), 0);
	assert_int_equal(c.engine.bulk_ioprio, IOPRIO_BULK_IDLE);
	assert_string_equal(c.socket, "/tmp/x.sock");
	assert_int_equal(c.log_level, 7);
	assert_int_equal(c.jobs.max_running, 2);
	assert_true(c.jobs.sync);
	assert_int_equal(c.jobs.dir_fds_per_user, 300);
	assert_int_equal(c.engine.type, ENGINE_FALLBACK);
	assert_int_equal(c.engine.async, ASYNC_NEVER);
	assert_int_equal(c.engine.async_threshold, 1 << 20);
	assert_int_equal(c.engine.chunk_size, 65536);
	assert_int_equal(c.engine.method, METHOD_READWRITE);
	assert_int_equal(c.engine.lanes, 4);		/* untouched default */
}

static void
test_unknown_option(void **state)
{
	struct config c;
	char err[256];

	assert_int_equal(load("jobs = {\n  max_runing = 2;\n};\n", &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, ":2: unknown option 'jobs.max_runing'"));
	assert_int_equal(load("\n\nbogus = 1;\n", &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, ":3: unknown option 'bogus'"));
	assert_int_equal(load("nope = { a = 1; };\n", &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "unknown section 'nope'"));
}

static void
test_ranges_and_types(void **state)
{
	struct config c;
	char err[256];

	assert_int_equal(load("jobs = { max_running = 0; };\n", &c, err, sizeof(err)), -ERANGE);
	assert_non_null(strstr(err, ":1: jobs.max_running: out of range"));
	assert_int_equal(load("engine = { chunk_size = \"1K\"; };\n", &c, err, sizeof(err)), -ERANGE);
	assert_int_equal(load("engine = { ring_entries = 100; };\n", &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "power of two"));
	assert_int_equal(load("engine = { async = \"sometimes\"; };\n", &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "unknown value 'sometimes'"));
	assert_int_equal(load("engine = { bulk_ioprio = \"low\"; };\n", &c, err, sizeof(err)), -EINVAL);
	assert_int_equal(load("devices = { ssd = { disks = [\"vda\", \"loop3\"]; }; };\n",
	    &c, err, sizeof(err)), 0);
	assert_string_equal(c.devices[DEVICE_SSD].disks, " vda loop3 ");
	assert_int_equal(load("devices = { ssd = { disks = [\"../sda\"]; }; };\n",
	    &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "devices.ssd.disks: must be a list of disk names"));
	assert_int_equal(load("devices = { ssd = { disks = \"vda\"; }; };\n",
	    &c, err, sizeof(err)), -EINVAL);
	assert_int_equal(load("jobs = { sync = 1; };\n", &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "wrong type"));
	assert_int_equal(load("socket = \"relative\";\n", &c, err, sizeof(err)), -EINVAL);
	assert_int_equal(load("engine = { async_threshold = \"12Q\"; };\n", &c, err, sizeof(err)), -EINVAL);
}

/* The devices group: a group per class, each option checked alone. */
static void
test_devices(void **state)
{
	struct config c;
	char err[256];

	config_defaults(&c);
	assert_int_equal(c.devices[DEVICE_ROTATIONAL].max_running, 1);
	assert_int_equal(c.devices[DEVICE_ROTATIONAL].lanes, 1);
	assert_int_equal(c.devices[DEVICE_SSD].max_running, 4);
	assert_int_equal(c.devices[DEVICE_SSD].lanes, 4);
	assert_int_equal(c.devices[DEVICE_OTHER].max_running, 4);
	assert_int_equal(load(
	    "devices = {\n"
	    "  rotational = { max_running = 2; };\n"
	    "  ssd = { lanes = 16; };\n"
	    "  other = { max_running = 7; lanes = 2; };\n"
	    "};\n", &c, err, sizeof(err)), 0);
	assert_int_equal(c.devices[DEVICE_ROTATIONAL].max_running, 2);
	assert_int_equal(c.devices[DEVICE_ROTATIONAL].lanes, 1);	/* untouched default */
	assert_int_equal(c.devices[DEVICE_SSD].max_running, 4);
	assert_int_equal(c.devices[DEVICE_SSD].lanes, 16);
	assert_int_equal(c.devices[DEVICE_OTHER].max_running, 7);
	assert_int_equal(c.devices[DEVICE_OTHER].lanes, 2);
	assert_int_equal(load("devices = { ssd = { max_running = 0; }; };\n", &c, err,
	    sizeof(err)), -ERANGE);
	assert_non_null(strstr(err, ":1: devices.ssd.max_running: out of range (1..1024)"));
	assert_int_equal(load("devices = {\n rotational = { lanes = 65; };\n};\n", &c, err,
	    sizeof(err)), -ERANGE);
	assert_non_null(strstr(err, ":2: devices.rotational.lanes: out of range (1..64)"));
	assert_int_equal(load("devices = {\n hdd = { lanes = 1; };\n};\n", &c, err,
	    sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, ":2: unknown section 'devices.hdd'"));
	assert_int_equal(load("devices = { ssd = { depth = 1; }; };\n", &c, err, sizeof(err)),
	    -EINVAL);
	assert_non_null(strstr(err, "unknown option 'devices.ssd.depth'"));
	assert_int_equal(load("devices = { max_running = 1; };\n", &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "unknown option 'devices.max_running'"));
}

/* What one user may keep: finished jobs and the bytes of listed failures. */
static void
test_user_share(void **state)
{
	struct config c;
	char err[256];

	config_defaults(&c);
	assert_int_equal(c.jobs.keep_finished_per_user, 100);
	assert_int_equal(c.jobs.failure_bytes, 64 << 10);
	assert_int_equal(c.jobs.user_failure_bytes, 1 << 20);
	assert_int_equal(load(
	    "jobs = { keep_finished_per_user = 5; failure_bytes = \"16K\";\n"
	    "  user_failure_bytes = \"256K\"; };\n", &c, err, sizeof(err)), 0);
	assert_int_equal(c.jobs.keep_finished_per_user, 5);
	assert_int_equal(c.jobs.failure_bytes, 16 << 10);
	assert_int_equal(c.jobs.user_failure_bytes, 256 << 10);
	assert_int_equal(load("jobs = { keep_finished_per_user = 10001; };\n", &c, err,
	    sizeof(err)), -ERANGE);
	assert_non_null(strstr(err, "jobs.keep_finished_per_user: out of range (0..10000)"));
	/* A Job must stay far below what a client reads (CPD_MAX_REPLY). */
	assert_int_equal(load("jobs = { failure_bytes = \"2M\"; };\n", &c, err, sizeof(err)),
	    -ERANGE);
	assert_int_equal(load("jobs = { user_failure_bytes = \"2G\"; };\n", &c, err,
	    sizeof(err)), -ERANGE);
}

static void
test_syntax_error(void **state)
{
	struct config c;
	char err[256];

	assert_int_equal(load("jobs = {\n max_running = ;\n};\n", &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, ":2: "));
	/* A failed load leaves the configuration as it was. */
	assert_int_equal(c.jobs.max_running, 4);
}

static void
test_missing_file(void **state)
{
	struct config c;
	char err[256];

	config_defaults(&c);
	assert_int_equal(config_load("/nonexistent/cpd.conf", &c, err, sizeof(err)), -ENOENT);
}

static void
test_parse_size(void **state)
{
	uint64_t v;

	assert_int_equal(config_parse_size("4096", &v), 0); assert_int_equal(v, 4096);
	assert_int_equal(config_parse_size("256K", &v), 0); assert_int_equal(v, 256 << 10);
	assert_int_equal(config_parse_size("1MiB", &v), 0); assert_int_equal(v, 1 << 20);
	assert_int_equal(config_parse_size("2G", &v), 0); assert_int_equal(v, 2ULL << 30);
	assert_int_equal(config_parse_size("", &v), -EINVAL);
	assert_int_equal(config_parse_size("-1", &v), -EINVAL);
	assert_int_equal(config_parse_size("1X", &v), -EINVAL);
	assert_int_equal(config_parse_size("99999999999999999999", &v), -ERANGE);
}

static void
test_reload_keeps_restart_options(void **state)
{
	struct config old, new;

	config_defaults(&old);
	config_defaults(&new);
	snprintf(new.socket, sizeof(new.socket), "/tmp/other");
	new.engine.ring_entries = 1024;
	new.jobs.max_running = 9;
	new.devices[DEVICE_ROTATIONAL].max_running = 3;
	config_merge_reload(&old, &new);
	assert_string_equal(new.socket, old.socket);
	assert_int_equal(new.engine.ring_entries, old.engine.ring_entries);
	assert_int_equal(new.jobs.max_running, 9);
	assert_int_equal(new.devices[DEVICE_ROTATIONAL].max_running, 3);	/* [reload] */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_unknown_option),
		cmocka_unit_test(test_ranges_and_types),
		cmocka_unit_test(test_devices),
		cmocka_unit_test(test_user_share),
		cmocka_unit_test(test_syntax_error),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_reload_keeps_restart_options),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
