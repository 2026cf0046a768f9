/*
 * Each user's share of long-held fds (fdshare.c): takes within the share
 * pass and past it fail with EMFILE, for all of a user's holders
 * together; users are apart; a waiter may wait only while another holder
 * of its user holds fds and waits for none; while a user has waiters
 * nobody of that user passes them; fds given back wake waiters in order,
 * each with its fds taken, and a waiter that does not fit stops the
 * wake-up (a smaller later need does not pass it); a cancelled waiter is
 * never woken; 0 is a quarter of RLIMIT_NOFILE, at least 16.
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
ready(struct fdshare_waiter *w)
{
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
	struct fdshare_holder a = { .uid = 1000 }, b = { .uid = 1000 }, c = { .uid = 1001 };

	assert_int_equal(fdshare_take(&a, 16), 0);
	assert_int_equal(fdshare_take(&b, 4), 0);
	assert_int_equal(fdshare_take(&a, 2), -EMFILE);
	assert_int_equal(fdshare_take(&c, 20), 0);	/* another user's */
	fdshare_give(&b, 2);
	assert_int_equal(fdshare_take(&a, 2), 0);
	fdshare_give(&a, 18);
	fdshare_give(&b, 2);
	fdshare_give(&c, 20);
	assert_false(a.listed || b.listed || c.listed);
	assert_int_equal(fdshare_take(&b, 20), 0);	/* all given back */
	fdshare_give(&b, 20);
}

static void
test_waiters(void **state)
{
	struct fdshare_holder h = { .uid = 1000 }, j = { .uid = 1000 }, k = { .uid = 1000 };
	struct fdshare_waiter a = { .need = 6, .ready = ready };
	struct fdshare_waiter b = { .need = 2, .ready = ready };
	struct fdshare_waiter c = { .need = 2, .ready = ready };
	struct fdshare_waiter d = { .need = 2, .ready = ready };

	assert_int_equal(fdshare_take(&h, 18), 0);
	/* Nothing to wait for: only its own holder holds fds. */
	assert_int_equal(fdshare_wait(&h, &a, false), -EMFILE);
	assert_int_equal(fdshare_wait(&j, &a, false), 0);
	assert_int_equal(fdshare_wait(&j, &b, false), 0);
	assert_int_equal(fdshare_wait(&k, &c, false), 0);
	/* Room for 2, but a waits first: nobody passes it. */
	assert_int_equal(fdshare_take(&k, 2), -EMFILE);
	/* The others hold nothing yet (j and k only wait): h may not wait. */
	assert_int_equal(fdshare_wait(&h, &d, false), -EMFILE);
	fdshare_wake(1000);
	assert_int_equal(nwoken, 0);
	fdshare_give(&h, 6);			/* 12 held: a fits, then b */
	fdshare_wake(1000);
	assert_int_equal(nwoken, 2);
	assert_int_equal(woken[0], 6);
	assert_int_equal(woken[1], 2);
	assert_int_equal(j.held, 8);
	assert_int_equal(j.waiting, 0);
	fdshare_cancel(&c);
	assert_int_equal(k.waiting, 0);
	fdshare_give(&h, 12);
	fdshare_give(&j, 8);
	fdshare_wake(1000);
	assert_int_equal(nwoken, 2);		/* c was cancelled */
	assert_false(h.listed || j.listed || k.listed);
}

/* A holder that gives fds back without its waiter (own) may wait for itself. */
static void
test_wait_own(void **state)
{
	struct fdshare_holder h = { .uid = 1001 };
	struct fdshare_waiter a = { .need = 2, .ready = ready };

	nwoken = 0;
	assert_int_equal(fdshare_take(&h, 20), 0);
	assert_int_equal(fdshare_take(&h, 2), -EMFILE);
	assert_int_equal(fdshare_wait(&h, &a, false), -EMFILE);
	assert_int_equal(fdshare_wait(&h, &a, true), 0);
	assert_int_equal(h.waiting, 1);
	fdshare_wake(1001);
	assert_int_equal(nwoken, 0);		/* nothing given back yet */
	fdshare_give(&h, 2);			/* a parked directory's */
	fdshare_wake(1001);
	assert_int_equal(nwoken, 1);
	assert_int_equal(h.held, 20);
	fdshare_give(&h, 20);
	assert_false(h.listed);
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
		cmocka_unit_test_setup(test_wait_own, setup),
		cmocka_unit_test_setup(test_auto, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
