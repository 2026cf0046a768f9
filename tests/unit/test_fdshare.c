/*
 * Each user's share of long-held fds (fdshare.c): takes within the share
 * pass and past it fail with EMFILE; users are apart; while a user has
 * waiters nobody of that user passes them; fds given back wake waiters
 * in order, each with its fds taken, and a waiter that no longer fits
 * stops the wake-up (a smaller later need does not pass it); a cancelled
 * waiter is never woken; 0 is a quarter of RLIMIT_NOFILE, at least 16.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <sys/resource.h>

#include "config.h"
#include "fdshare.h"

static struct config	conf;
static int		woken[8], nwoken;

static void
ready(struct fdshare_waiter *w, int err)
{
	assert_int_equal(err, 0);
	woken[nwoken++] = (int)w->need;
}

static int
setup(void **state)
{
	config_defaults(&conf);
	conf.jobs.dir_fds_per_user = 20;
	cpd_conf = &conf;
	nwoken = 0;
	return 0;
}

static void
test_share(void **state)
{
	assert_int_equal(fdshare_take(1000, 16), 0);
	assert_int_equal(fdshare_take(1000, 4), 0);
	assert_int_equal(fdshare_take(1000, 2), -EMFILE);
	assert_int_equal(fdshare_take(1001, 20), 0);	/* another user's */
	fdshare_give(1000, 2);
	assert_int_equal(fdshare_take(1000, 2), 0);
	fdshare_give(1000, 20);
	fdshare_give(1001, 20);
	assert_int_equal(fdshare_take(1000, 20), 0);	/* all given back */
	fdshare_give(1000, 20);
}

static void
test_waiters(void **state)
{
	struct fdshare_waiter a = { .uid = 1000, .need = 6, .ready = ready };
	struct fdshare_waiter b = { .uid = 1000, .need = 2, .ready = ready };
	struct fdshare_waiter c = { .uid = 1000, .need = 2, .ready = ready };

	assert_int_equal(fdshare_take(1000, 18), 0);
	fdshare_wait(&a);
	fdshare_wait(&b);
	fdshare_wait(&c);
	/* Room for 2, but a waits first: nobody passes it. */
	assert_int_equal(fdshare_take(1000, 2), -EMFILE);
	fdshare_wake(1000);
	assert_int_equal(nwoken, 0);
	fdshare_give(1000, 6);			/* 12 held: a fits, then b */
	fdshare_wake(1000);
	assert_int_equal(nwoken, 2);
	assert_int_equal(woken[0], 6);
	assert_int_equal(woken[1], 2);
	fdshare_cancel(&c);
	fdshare_give(1000, 20);
	fdshare_wake(1000);
	assert_int_equal(nwoken, 2);		/* c was cancelled */
	assert_int_equal(fdshare_take(1000, 20), 0);
	fdshare_give(1000, 20);
}

static void
test_auto(void **state)
{
	struct rlimit rl;

	conf.jobs.dir_fds_per_user = 0;
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	rl.rlim_cur = 1024;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
	assert_int_equal(fdshare_limit(), 256);
	rl.rlim_cur = 40;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
	assert_int_equal(fdshare_limit(), 16);
	conf.jobs.dir_fds_per_user = 5;
	assert_int_equal(fdshare_limit(), 16);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_share, setup),
		cmocka_unit_test_setup(test_waiters, setup),
		cmocka_unit_test_setup(test_auto, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
