/*
 * I/O priorities (ioprio.c): the values engine.bulk_ioprio gives to
 * interactive and other work, and that ioprio_enter() really gives them
 * to the calling thread (read back with ioprio_get), change after change.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <linux/ioprio.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "config.h"
#include "ioprio.h"

static struct config conf;

static int
thread_ioprio(void)
{
	return (int)syscall(SYS_ioprio_get, IOPRIO_WHO_PROCESS, 0);
}

static void
test_values(void **state)
{
	config_defaults(&conf);
	cpd_conf = &conf;
	assert_int_equal(ioprio_of(false), IOPRIO_PRIO_VALUE(IOPRIO_CLASS_BE, 7));
	assert_int_equal(ioprio_of(true), IOPRIO_PRIO_VALUE(IOPRIO_CLASS_BE, 0));
	assert_string_equal(ioprio_name(ioprio_of(false)), "best-effort 7");
	conf.engine.bulk_ioprio = IOPRIO_BULK_IDLE;
	assert_int_equal(IOPRIO_PRIO_CLASS(ioprio_of(false)), IOPRIO_CLASS_IDLE);
	assert_int_equal(ioprio_of(true), IOPRIO_PRIO_VALUE(IOPRIO_CLASS_BE, 0));
	assert_string_equal(ioprio_name(ioprio_of(false)), "idle");
	conf.engine.bulk_ioprio = IOPRIO_BULK_NONE;
	assert_int_equal(ioprio_of(false), 0);
	assert_int_equal(ioprio_of(true), 0);
	assert_string_equal(ioprio_name(0), "none");
}

static void
test_enter(void **state)
{
	config_defaults(&conf);
	cpd_conf = &conf;
	ioprio_enter(false);
	assert_int_equal(thread_ioprio(), IOPRIO_PRIO_VALUE(IOPRIO_CLASS_BE, 7));
	ioprio_enter(true);
	assert_int_equal(thread_ioprio(), IOPRIO_PRIO_VALUE(IOPRIO_CLASS_BE, 0));
	conf.engine.bulk_ioprio = IOPRIO_BULK_IDLE;	/* as a reload would */
	ioprio_enter(false);
	assert_int_equal(IOPRIO_PRIO_CLASS(thread_ioprio()), IOPRIO_CLASS_IDLE);
	ioprio_loop();
	assert_int_equal(IOPRIO_PRIO_CLASS(thread_ioprio()), IOPRIO_CLASS_IDLE);
	conf.engine.bulk_ioprio = IOPRIO_BULK_NONE;
	ioprio_enter(false);
	assert_int_not_equal(IOPRIO_PRIO_CLASS(thread_ioprio()), IOPRIO_CLASS_IDLE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_enter),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
