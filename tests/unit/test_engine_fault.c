/* cpd --fault specs: what eop_fault_add() accepts and refuses. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>

#include "engine.h"

static void
test_refused(void **state)
{
	static const char *const bad[] = {
		"", "copy", "copy:", "copy:0", "copy:-1", "copy:x", "copy:1x",
		"nosuch:1", "Copy:1", "copy:1:", "copy:1:ENOTANERRNO", "copy:1:0",
		"copy:1:-5", "copy:1:EIO:x", ":1", "copy::EIO", "Verify:1", "verify:0",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (eop_fault_add(bad[i]) != -EINVAL)
			fail_msg("accepted '%s'", bad[i]);
}

/* Names and numbers; at most ENGINE_MAX_FAULTS faults in all. */
static void
test_accepted(void **state)
{
	static const char *const good[] = {
		"copy:1", "fsync:2:EIO", "rename:1:EDQUOT", "open:3:28", "truncate:1",
		"meta:1:EPERM", "statx:18446744073709551615", "readdir:7:ENOSPC",
		"lane:1:EMFILE", "call:2", "verify:3",
	};
	size_t n = sizeof(good) / sizeof(good[0]);

	for (size_t i = 0; i < n; i++)
		assert_int_equal(eop_fault_add(good[i]), 0);
	for (size_t i = n; i < ENGINE_MAX_FAULTS; i++)
		assert_int_equal(eop_fault_add("copy:9"), 0);
	assert_int_equal(eop_fault_add("copy:9"), -EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_accepted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
