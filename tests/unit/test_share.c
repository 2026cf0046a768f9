/*
 * share.c: how many workers a user and a disk may hold, whether an
 * operation is within its shares as others start and end, and what is
 * not counted (the daemon's own operations; more users at once than the
 * table holds) is not uncounted either.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "cred.h"
#include "engine.h"
#include "share.h"

static struct eop
op_of(const struct cred *cred, uint64_t dev)
{
	struct eop op;

	memset(&op, 0, sizeof(op));
	op.cred = cred;
	op.dev = dev;
	return op;
}

static void
test_sizes(void **state)
{
	(void)state;
	/* About half for a user, one always left over; all but one for a disk. */
	assert_int_equal(share_user(1), 1);
	assert_int_equal(share_user(2), 1);
	assert_int_equal(share_user(3), 2);
	assert_int_equal(share_user(4), 2);
	assert_int_equal(share_user(512), 256);
	assert_int_equal(share_dev(1), 1);
	assert_int_equal(share_dev(4), 3);
	assert_int_equal(share_dev(12), 11);
}

static void
test_user_and_dev(void **state)
{
	static struct cred	 a = { .uid = 1001 }, b = { .uid = 1002 }, c = { .uid = 1003 };
	struct shares		 s;
	struct eop		 ops[4], daemon_op = op_of(NULL, 0);

	(void)state;
	memset(&s, 0, sizeof(s));
	/* Two of a's on disk 7 fill a's share of 4 workers. */
	for (int i = 0; i < 2; i++) {
		ops[i] = op_of(&a, 7);
		assert_true(share_within(&s, &ops[i], 4));
		share_count(&s, &ops[i], true);
	}
	ops[2] = op_of(&a, 9);
	assert_false(share_within(&s, &ops[2], 4));	/* a's share, whatever the disk */
	/* b's on disk 7 takes the disk's third and last place. */
	ops[3] = op_of(&b, 7);
	assert_true(share_within(&s, &ops[3], 4));
	share_count(&s, &ops[3], true);
	ops[2] = op_of(&c, 7);
	assert_false(share_within(&s, &ops[2], 4));	/* the disk's share */
	ops[2] = op_of(&c, 9);
	assert_true(share_within(&s, &ops[2], 4));	/* another disk goes past */
	/* The daemon's own are never held back, nor counted. */
	assert_true(share_within(&s, &daemon_op, 4));
	share_count(&s, &daemon_op, true);
	assert_int_equal(daemon_op.shared, 0);
	share_count(&s, &daemon_op, false);
	/* One of a's ends: a and the disk have a place again. */
	share_count(&s, &ops[0], false);
	ops[2] = op_of(&a, 7);
	assert_true(share_within(&s, &ops[2], 4));
	share_count(&s, &ops[1], false);
	share_count(&s, &ops[3], false);
	assert_int_equal(s.users.n, 0);
	assert_int_equal(s.devs.n, 0);
}

/* More users at once than the table holds: the one left out is not counted, nor uncounted. */
static void
test_table_full(void **state)
{
	static struct cred	 creds[SHARE_KEYS + 1];
	static struct eop	 ops[SHARE_KEYS + 1];
	struct shares		 s;

	(void)state;
	memset(&s, 0, sizeof(s));
	for (unsigned i = 0; i <= SHARE_KEYS; i++) {
		creds[i].uid = 2000 + i;
		ops[i] = op_of(&creds[i], 0);
		share_count(&s, &ops[i], true);
	}
	assert_int_equal(s.users.n, SHARE_KEYS);
	assert_int_equal(ops[SHARE_KEYS].shared, 0);
	/* One ends, and another of the uncounted user's starts: counted now. */
	share_count(&s, &ops[0], false);
	{
		struct eop late = op_of(&creds[SHARE_KEYS], 0);

		share_count(&s, &late, true);
		assert_int_equal(late.shared, SHARED_USER);
		/* The first, uncounted, ends: late's count stays. */
		share_count(&s, &ops[SHARE_KEYS], false);
		assert_false(share_within(&s, &late, 2));	/* 1 running: the share of 2 */
		share_count(&s, &late, false);
		assert_true(share_within(&s, &late, 2));
	}
	for (unsigned i = 1; i < SHARE_KEYS; i++)
		share_count(&s, &ops[i], false);
	assert_int_equal(s.users.n, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_user_and_dev),
		cmocka_unit_test(test_table_full),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
