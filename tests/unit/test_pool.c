/*
 * The pool's queues (engine_thread.c): chunks of mapped copies never take
 * every thread, other work is served beside them, one thread is kept for
 * interactive work, an interactive job's operation goes before the rest,
 * no user, nor file system, takes more than its share of the threads,
 * and every operation's result comes back to the loop. Operations here are EOP_CALLs that wait on a gate;
 * "mapped" puts one in the queue of mapped chunks.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "cred.h"
#include "engine.h"
#include "loop.h"

#define THREADS	3

static struct config	conf;
static sem_t		bulk_gate, busy_gate;
static atomic_int	bulk_started, ran_seq;
static int		done_count, want_done;

static int
setup(void **state)
{
	config_defaults(&conf);
	conf.engine.type = ENGINE_FALLBACK;
	conf.engine.fallback_threads = THREADS;
	cpd_conf = &conf;
	assert_int_equal(loop_init(&conf), 0);
	cred_init(false);
	assert_int_equal(engine_init(&conf), 0);
	sem_init(&bulk_gate, 0, 0);
	sem_init(&busy_gate, 0, 0);
	return 0;
}

static long
run_bulk(struct eop *op)
{
	atomic_fetch_add(&bulk_started, 1);
	sem_wait(&bulk_gate);
	return 0;
}

static long
run_busy(struct eop *op)
{
	sem_wait(&busy_gate);
	return 0;
}

/* Records its place among the operations that ran (op->off). */
static long
run_mark(struct eop *op)
{
	op->off = (uint64_t)atomic_fetch_add(&ran_seq, 1) + 1;
	return 0;
}

static void
op_done(struct eop *op, int res)
{
	assert_int_equal(res, 0);
	done_count++;
}

static bool
all_done(void)
{
	return done_count >= want_done;
}

static void
no_tick(void)
{
}

static const struct cred *submit_cred;	/* whose operations submit() makes */
static uint64_t		 submit_dev;	/* and the file system they read */

static void
submit(struct eop *op, long (*run)(struct eop *), bool mapped, bool interactive)
{
	memset(op, 0, sizeof(*op));
	op->cred = submit_cred;
	op->dev = submit_dev;
	op->type = EOP_CALL;
	op->run = run;
	op->done = op_done;
	op->mapped = mapped;
	op->interactive = interactive;
	engine_submit(op);
}

/* Until cond holds, for up to two seconds. */
static bool
wait_for(bool (*cond)(void))
{
	for (int i = 0; i < 200; i++) {
		if (cond())
			return true;
		usleep(10 * 1000);
	}
	return cond();
}

static bool
two_bulk_started(void)
{
	return atomic_load(&bulk_started) >= 2;
}

static struct eop	mark[3];

static bool
marks_ran(void)
{
	return mark[0].off && mark[1].off && mark[2].off;
}

static void
test_queues(void **state)
{
	struct eop	bulk[4], busy;

	for (int i = 0; i < 4; i++)
		submit(&bulk[i], run_bulk, true, false);
	assert_true(wait_for(two_bulk_started));
	usleep(100 * 1000);
	/* One thread of three is kept from mapped chunks. */
	assert_int_equal(atomic_load(&bulk_started), THREADS - 1);

	/*
	 * And the third is kept for interactive work: other work waits for
	 * a thread beside the chunks, an interactive job's goes at once.
	 */
	submit(&mark[0], run_mark, false, false);
	usleep(100 * 1000);
	assert_int_equal(mark[0].off, 0);
	submit(&busy, run_busy, false, true);
	submit(&mark[1], run_mark, false, true);
	submit(&mark[2], run_mark, false, false);
	usleep(100 * 1000);
	assert_int_equal(atomic_load(&ran_seq), 0);	/* the kept thread is busy */
	sem_post(&busy_gate);
	usleep(100 * 1000);
	assert_int_equal(mark[1].off, 1);
	assert_int_equal(atomic_load(&ran_seq), 1);

	/* A chunk ends: the other work goes before the waiting chunks. */
	sem_post(&bulk_gate);
	assert_true(wait_for(marks_ran));
	assert_int_equal(mark[0].off, 2);
	assert_int_equal(mark[2].off, 3);
	assert_true(atomic_load(&bulk_started) <= THREADS - 1 + 1);

	/* The waiting chunks go as the running ones end; every result
	 * comes back to the loop. */
	for (int i = 1; i < 4; i++)
		sem_post(&bulk_gate);
	want_done = 4 + 1 + 3;
	loop_run(all_done, no_tick, 10);
	assert_int_equal(atomic_load(&bulk_started), 4);
	assert_int_equal(done_count, want_done);
}

static sem_t		hang_gate;
static atomic_int	hang_started;

/* An operation on a file system that stops answering, until the gate opens. */
static long
run_hang(struct eop *op)
{
	atomic_fetch_add(&hang_started, 1);
	sem_wait(&hang_gate);
	return 0;
}

static bool
two_hang_started(void)
{
	return atomic_load(&hang_started) >= 2;
}

static bool
other_ran(void)
{
	return mark[0].off != 0;
}

/*
 * One user's operations that hang take at most half of the threads
 * (2 of 3): another user's operation runs beside them, and the first
 * user's third one only once one of its own has come back.
 */
static void
test_user_share(void **state)
{
	static struct cred	a = { .uid = 1001 }, b = { .uid = 1002 };
	struct eop		hang[3];

	sem_init(&hang_gate, 0, 0);
	atomic_store(&ran_seq, 0);
	done_count = 0;
	submit_cred = &a;
	for (int i = 0; i < 3; i++)
		submit(&hang[i], run_hang, false, true);
	memset(mark, 0, sizeof(mark));
	assert_true(wait_for(two_hang_started));
	usleep(100 * 1000);
	assert_int_equal(atomic_load(&hang_started), 2);
	submit_cred = &b;
	submit(&mark[0], run_mark, false, true);
	submit_cred = NULL;
	assert_true(wait_for(other_ran));
	assert_int_equal(atomic_load(&hang_started), 2);
	sem_post(&hang_gate);		/* one comes back: the third may go */
	for (int i = 0; i < 100 && atomic_load(&hang_started) < 3; i++)
		usleep(10 * 1000);
	assert_int_equal(atomic_load(&hang_started), 3);
	sem_post(&hang_gate);
	sem_post(&hang_gate);
	want_done = 4;
	loop_run(all_done, no_tick, 10);
	assert_int_equal(done_count, 4);
}

/*
 * The operations of jobs reading one file system that hangs take all the
 * threads but one (2 of 3), whoever's they are: two users' of them, one
 * each, leave a third user's operation on another file system a
 * thread, while the second user's other one, and the third user's
 * there, wait for one of them to come back.
 */
static void
test_dev_share(void **state)
{
	static struct cred	a = { .uid = 1001 }, b = { .uid = 1002 }, c = { .uid = 1003 };
	struct eop		hang[3], there;

	sem_init(&hang_gate, 0, 0);
	atomic_store(&hang_started, 0);
	atomic_store(&ran_seq, 0);
	done_count = 0;
	memset(mark, 0, sizeof(mark));
	submit_dev = 42;
	submit_cred = &a;
	submit(&hang[0], run_hang, false, true);
	submit_cred = &b;
	submit(&hang[1], run_hang, false, true);
	submit(&hang[2], run_hang, false, true);
	assert_true(wait_for(two_hang_started));
	usleep(100 * 1000);
	assert_int_equal(atomic_load(&hang_started), 2);	/* b is within its own share */
	submit_cred = &c;
	submit(&there, run_mark, false, true);
	submit_dev = 7;
	submit(&mark[0], run_mark, false, true);
	submit_cred = NULL;
	submit_dev = 0;
	assert_true(wait_for(other_ran));
	usleep(100 * 1000);
	assert_int_equal(there.off, 0);
	assert_int_equal(atomic_load(&hang_started), 2);
	sem_post(&hang_gate);		/* one comes back: the file system's next one goes */
	for (int i = 0; i < 100 && atomic_load(&hang_started) < 3; i++)
		usleep(10 * 1000);
	sem_post(&hang_gate);
	sem_post(&hang_gate);
	want_done = 5;
	loop_run(all_done, no_tick, 10);
	assert_int_equal(done_count, 5);
	assert_int_equal(atomic_load(&hang_started), 3);
	assert_int_not_equal(there.off, 0);
}

static atomic_bool	spinning, spin_stop;

/* Holds CPU 1 (SCHED_FIFO: nothing of the daemon's runs there meanwhile). */
static void *
spin_cpu1(void *arg)
{
	(void)arg;
	atomic_store(&spinning, true);
	while (!atomic_load(&spin_stop))
		;
	return NULL;
}

static bool
mark0_ran(void)
{
	return mark[0].off != 0;
}

/*
 * A thread that did bulk work (placed on the bulk CPU, at worker_nice)
 * and is handed an interactive job's operation runs it at once on the
 * other CPUs, even while the bulk CPU is taken: it is placed before it
 * is woken. When it moved itself, it first had to run where it was, and
 * waited there behind io-wq's workers (13 ms in perf sched; here, for
 * as long as the spinner holds CPU 1).
 */
static void
test_interactive_wakes_placed(void **state)
{
	cpu_set_t		 bulk, other;
	pthread_attr_t		 attr;
	struct sched_param	 prio = { .sched_priority = 1 };
	pthread_t		 spinner;
	struct eop		 normal;
	int			 rc;

	(void)state;
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
		print_message("skip: one CPU, no bulk CPU to keep apart\n");
		skip();
	}
	CPU_ZERO(&bulk);
	CPU_SET(1, &bulk);
	CPU_ZERO(&other);
	CPU_SET(0, &other);
	assert_int_equal(sched_setaffinity(0, sizeof(other), &other), 0);
	engine_confine(&bulk, &other);
	/* The thread that takes the next operation (the idle list's first) did bulk work. */
	memset(mark, 0, sizeof(mark));
	submit(&normal, run_mark, false, false);
	want_done = done_count + 1;
	loop_run(all_done, no_tick, 10);
	pthread_attr_init(&attr);
	pthread_attr_setinheritsched(&attr, PTHREAD_EXPLICIT_SCHED);
	pthread_attr_setschedpolicy(&attr, SCHED_FIFO);
	pthread_attr_setschedparam(&attr, &prio);
	pthread_attr_setaffinity_np(&attr, sizeof(bulk), &bulk);
	if ((rc = pthread_create(&spinner, &attr, spin_cpu1, NULL)) != 0) {
		pthread_attr_destroy(&attr);
		print_message("skip: no real-time priority for the spinner (%s)\n", strerror(rc));
		skip();
	}
	pthread_attr_destroy(&attr);
	while (!atomic_load(&spinning))
		;
	submit(&mark[0], run_mark, false, true);
	/* 200 ms at most: the spinner lets go only after. */
	for (int i = 0; i < 20 && !mark0_ran(); i++)
		usleep(10 * 1000);
	rc = mark0_ran();
	atomic_store(&spin_stop, true);
	pthread_join(spinner, NULL);
	assert_true(rc);
	want_done = done_count + 1;
	loop_run(all_done, no_tick, 10);
	CPU_ZERO(&bulk);
	engine_confine(&bulk, &bulk);	/* anywhere again */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_queues),
		cmocka_unit_test(test_user_share),
		cmocka_unit_test(test_dev_share),
		cmocka_unit_test(test_interactive_wakes_placed),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
