/*
 * The job state machine, driven through the real loop and engine on real
 * files: states, totals, errors, cancellation, priority order, limits.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "cred.h"
#include "engine.h"
#include "copy.h"
#include "job.h"
#include "loop.h"
#include "view.h"

#include "engine_fixture.h"

static struct config	conf, base;	/* base: each test starts from it */
static struct cred	*me;
static struct job	*waiting[8];
static int		nwaiting;

/*
 * The loop iteration in which each waiting job was first seen started and
 * finished. Order is asserted on these, not on the jobs' wall-clock times,
 * which a clock step (NTP, a VM's host) can put out of order.
 */
static unsigned		turn, started_turn[8], finished_turn[8];

static void
observe(void)
{
	turn++;
	for (int i = 0; i < nwaiting; i++) {
		if (!started_turn[i] && waiting[i]->started_usec)
			started_turn[i] = turn;
		if (!finished_turn[i] && job_finished(waiting[i]))
			finished_turn[i] = turn;
	}
}

/* Also after run_until_finished: its jobs stay in their slots until the next submit. */
static int
waiting_index(const struct job *job)
{
	for (int i = 0; i < (int)(sizeof(waiting) / sizeof(waiting[0])); i++)
		if (waiting[i] == job)
			return i;
	fail_msg("job %llu is not waited for", (unsigned long long)job->id);
	return -1;
}

static unsigned
started_at(const struct job *job)
{
	unsigned t = started_turn[waiting_index(job)];

	assert_true(t > 0);
	return t;
}

static unsigned
finished_at(const struct job *job)
{
	unsigned t = finished_turn[waiting_index(job)];

	assert_true(t > 0);
	return t;
}

/* Says what went wrong, so that a rare failure explains itself. */
static void
assert_done(const struct job *job)
{
	if (job->state != JOB_DONE)
		fail_msg("job %llu: %s: %s", (unsigned long long)job->id,
		    vocab_state_name(job->state),
		    job->error_message ? job->error_message : "(no error)");
}

static char *
in_dir(const char *name)
{
	char *p;

	assert_true(asprintf(&p, "%s/%s", fixture_dir, name) > 0);
	return p;
}

static void
make_file(const char *name, size_t size)
{
	char	*p = in_dir(name), buf[4096];
	int	 fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (char)(i * 7 + size);
	for (size_t done = 0; done < size; ) {
		size_t n = size - done < sizeof(buf) ? size - done : sizeof(buf);
		assert_int_equal(write(fd, buf, n), (ssize_t)n);
		done += n;
	}
	close(fd);
	free(p);
}

static bool
all_finished(void)
{
	observe();
	for (int i = 0; i < nwaiting; i++)
		if (!job_finished(waiting[i]))
			return false;
	return true;
}

static void
tick(void)
{
	job_tick();
}

static void
run_until_finished(void)
{
	loop_run(all_finished, tick, 20);
	observe();
	nwaiting = 0;
}

static bool
all_scanned(void)
{
	observe();
	for (int i = 0; i < nwaiting; i++)
		if (waiting[i]->state == JOB_QUEUED && !waiting[i]->in_runq)
			return false;
	return true;
}

/* Until every job's sources are examined: each is queued, running or over. */
static void
run_until_scanned(void)
{
	loop_run(all_scanned, tick, 20);
}

static struct job *watched;
static uint64_t watch_bytes;

static bool
copied_some(void)
{
	return watched->bytes_done >= watch_bytes || job_finished(watched);
}

/*
 * Holding a job: the file of a job submitted with submit_held() is kept
 * from the copier until release(), so the job is surely running, and
 * holding its slot, when later jobs are examined. (A tiny bandwidth
 * limit would not do: a job waiting for its tokens gives up its slot.)
 */
static bool		 hold_next;
static struct job	*held_job;
static struct item	*held_item;

static void
held_file(struct job *job, struct item *it)
{
	if (job != held_job) {
		copy_workers.file(job, it);
		return;
	}
	assert_null(held_item);		/* one file a held job */
	held_item = it;
}

/* The copy.c workers, but for held_file(). */
static struct job_workers test_workers;

static void
release(struct job *job)
{
	struct item *it = held_item;

	assert_ptr_equal(job, held_job);
	held_job = NULL;
	held_item = NULL;
	if (it)
		copy_workers.file(job, it);
}

static struct job *
submit_as(struct cred *who, enum job_prio prio, const char *dest, int nsrc, ...)
{
	struct job_request req = { .prio = prio, .umask = 022 };
	struct job	  *job;
	va_list		   ap;

	req.sources = calloc((size_t)nsrc, sizeof(char *));
	va_start(ap, nsrc);
	for (int i = 0; i < nsrc; i++)
		req.sources[i] = in_dir(va_arg(ap, const char *));
	va_end(ap);
	req.nsources = (size_t)nsrc;
	req.destination = in_dir(dest);
	assert_int_equal(job_submit(&req, cred_ref(who), &job), 0);
	if (hold_next) {
		assert_null(held_job);
		held_job = job;
		hold_next = false;
	}
	assert_true(nwaiting < (int)(sizeof(waiting) / sizeof(waiting[0])));
	started_turn[nwaiting] = finished_turn[nwaiting] = 0;
	waiting[nwaiting++] = job;
	return job;
}

#define submit(...)	submit_as(me, __VA_ARGS__)
#define submit_held(...)	(hold_next = true, submit(__VA_ARGS__))

static void
assert_same_file(const char *a, const char *b)
{
	char	cmd[512];

	snprintf(cmd, sizeof(cmd), "cmp -s '%s/%s' '%s/%s'", fixture_dir, a, fixture_dir, b);
	assert_int_equal(system(cmd), 0);
}

static void
test_copy_one(void **state)
{
	struct job	*job;
	struct stat	 st;
	char		*p;

	make_file("one", 3 * 1024 * 1024 + 17);
	job = submit(PRIO_NORMAL, "one.copy", 1, "one");
	assert_int_equal(job->state, JOB_QUEUED);	/* its sources are examined first */
	run_until_finished();
	assert_int_equal(job->state, JOB_DONE);
	assert_int_equal(job->files_done, 1);
	assert_int_equal(job->bytes_total, 3 * 1024 * 1024 + 17);
	assert_int_equal(job->bytes_done, job->bytes_total);
	assert_true(job->started_usec > 0 && job->finished_usec > 0);
	assert_same_file("one", "one.copy");
	p = in_dir("one.copy");
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644 & ~022);
	free(p);
}

static void
test_missing_source(void **state)
{
	struct job	*job;
	char		*p = in_dir("never");

	make_file("exists", 10);
	/* Two sources need a directory, as with cp. */
	job = submit(PRIO_NORMAL, "d1", 2, "exists", "missing");
	run_until_finished();
	assert_int_equal(job->state, JOB_FAILED);
	assert_int_equal(job->err, -ENOENT);
	job = submit(PRIO_NORMAL, "exists", 2, "exists", "exists");
	run_until_finished();
	assert_int_equal(job->state, JOB_FAILED);
	assert_int_equal(job->err, -ENOTDIR);

	assert_int_equal(mkdir(p, 0755), 0);
	job = submit(PRIO_NORMAL, "never", 2, "exists", "missing");
	run_until_finished();
	assert_int_equal(job->state, JOB_FAILED);
	assert_int_equal(job->err, -ENOENT);
	assert_non_null(strstr(job->error_message, "/missing"));
	assert_int_equal(job->files_done, 0);	/* nothing copied before the check */
	assert_int_equal(rmdir(p), 0);		/* still empty: no temporaries either */
	free(p);
}

static void
test_into_directory(void **state)
{
	struct job *job;
	char	   *p = in_dir("into");

	assert_int_equal(mkdir(p, 0755), 0);
	make_file("a", 1);
	make_file("b", 0);
	make_file("c", 300000);
	job = submit(PRIO_NORMAL, "into/", 3, "a", "b", "c");
	run_until_finished();
	assert_int_equal(job->state, JOB_DONE);
	assert_int_equal(job->files_done, 3);
	assert_same_file("a", "into/a");
	assert_same_file("b", "into/b");
	assert_same_file("c", "into/c");
	free(p);
}

static void
test_priority_order(void **state)
{
	struct job *b1, *b2, *b3, *i1;

	/* No reserved slots: the interactive job waits, but ahead of bulk. */
	conf.jobs.max_running = 1;
	conf.jobs.interactive_slots = 0;
	make_file("bulk", 8 * 1024 * 1024);
	make_file("small", 4096);
	/* Each examined before the next is sent: the queue's order is theirs. */
	b1 = submit_held(PRIO_BULK, "bulk.1", 1, "bulk");
	run_until_scanned();
	b2 = submit(PRIO_BULK, "bulk.2", 1, "bulk");
	run_until_scanned();
	b3 = submit(PRIO_BULK, "bulk.3", 1, "bulk");
	run_until_scanned();
	i1 = submit(PRIO_INTERACTIVE, "small.1", 1, "small");
	run_until_scanned();
	assert_int_equal(b1->state, JOB_RUNNING);
	assert_int_equal(i1->state, JOB_QUEUED);
	release(b1);
	run_until_finished();
	assert_done(i1);
	assert_done(b3);
	/* The interactive job overtook the queued bulk jobs. */
	assert_true(finished_at(i1) <= started_at(b2));
	assert_true(finished_at(b2) <= started_at(b3));
}

static void
test_interactive_slots(void **state)
{
	struct job *b1, *b2, *i1;

	/* All ordinary slots busy: an interactive job starts at once anyway. */
	conf.jobs.max_running = 1;
	make_file("bulk", 8 * 1024 * 1024);
	make_file("small", 4096);
	b1 = submit_held(PRIO_BULK, "bulk.s1", 1, "bulk");
	run_until_scanned();
	b2 = submit(PRIO_BULK, "bulk.s2", 1, "bulk");
	run_until_scanned();
	i1 = submit(PRIO_INTERACTIVE, "small.s1", 1, "small");
	run_until_scanned();
	assert_true(i1->state == JOB_RUNNING || i1->state == JOB_DONE);	/* it may be quick */
	assert_int_equal(b1->state, JOB_RUNNING);
	assert_int_equal(b2->state, JOB_QUEUED);
	release(b1);
	run_until_finished();
	assert_int_equal(i1->state, JOB_DONE);
}

static void
test_user_cap_by_kind(void **state)
{
	struct job *b1, *b2, *i1;

	/*
	 * The user's cap is full of bulk work, slots are free: the same
	 * user's interactive job starts at once, a further bulk one waits.
	 */
	conf.jobs.max_running_per_user = 1;
	conf.jobs.interactive_slots = 0;
	make_file("cap.bulk", 8 * 1024 * 1024);
	make_file("cap.small", 4096);
	b1 = submit_held(PRIO_BULK, "cap.b1", 1, "cap.bulk");
	run_until_scanned();
	b2 = submit(PRIO_BULK, "cap.b2", 1, "cap.bulk");
	run_until_scanned();
	i1 = submit(PRIO_INTERACTIVE, "cap.i1", 1, "cap.small");
	run_until_scanned();
	assert_true(i1->state == JOB_RUNNING || i1->state == JOB_DONE);
	assert_int_equal(b1->state, JOB_RUNNING);
	assert_int_equal(b2->state, JOB_QUEUED);
	release(b1);
	run_until_finished();
	assert_done(i1);
	assert_done(b2);
	assert_true(finished_at(i1) <= finished_at(b1));
	assert_true(started_at(b2) >= finished_at(b1));
}

static void
test_users_take_turns(void **state)
{
	struct cred *other = calloc(1, sizeof(*other));
	struct passwd *pw = getpwnam("nobody");
	struct job *a1, *a2, *a3, *b1;

	/*
	 * The other user's files must be readable and writable for it. A
	 * user of the database, with its own group: a job's owner is looked
	 * up before the job starts (identity.c).
	 */
	assert_non_null(pw);
	other->uid = pw->pw_uid;
	other->gid = pw->pw_gid;
	other->refs = 1;
	conf.jobs.max_running = 1;
	make_file("turn", 1024 * 1024);
	a1 = submit_held(PRIO_BULK, "turn.a1", 1, "turn");
	run_until_scanned();
	a2 = submit(PRIO_BULK, "turn.a2", 1, "turn");
	run_until_scanned();
	a3 = submit(PRIO_BULK, "turn.a3", 1, "turn");
	run_until_scanned();
	b1 = submit_as(other, PRIO_BULK, "turn.b1", 1, "turn");
	run_until_scanned();
	assert_int_equal(a1->state, JOB_RUNNING);
	release(a1);
	run_until_finished();
	assert_done(b1);
	assert_done(a3);
	/* b1 came last, but its user had not been served: it goes second. */
	assert_true(started_at(b1) >= finished_at(a1));
	assert_true(finished_at(b1) <= started_at(a2));
	assert_true(finished_at(a2) <= started_at(a3));
	cred_unref(other);
}

static void
test_auto_priority(void **state)
{
	struct job *small, *mid, *big;

	conf.jobs.auto_interactive_max = 64 * 1024;
	conf.jobs.auto_bulk_min = 4 * 1024 * 1024;
	make_file("auto.s", 4096);
	make_file("auto.m", 1024 * 1024);
	make_file("auto.b", 5 * 1024 * 1024);
	small = submit(PRIO_AUTO, "auto.s.copy", 1, "auto.s");
	mid = submit(PRIO_AUTO, "auto.m.copy", 1, "auto.m");
	big = submit(PRIO_AUTO, "auto.b.copy", 1, "auto.b");
	run_until_finished();
	assert_int_equal(small->prio, PRIO_INTERACTIVE);
	assert_int_equal(mid->prio, PRIO_NORMAL);
	assert_int_equal(big->prio, PRIO_BULK);
	assert_int_equal(big->state, JOB_DONE);
}

static bool
paused_and_still(void)
{
	return job_finished(watched) || (watched->lanes_busy == 0 && watched->paused);
}

static void
test_pause_resume(void **state)
{
	struct job *job;
	uint64_t    at_pause;

	conf.engine.chunk_size = 64 * 1024;
	conf.engine.lanes = 1;
	make_file("pause", 64 * 1024 * 1024);
	job = submit(PRIO_BULK, "pause.copy", 1, "pause");
	watched = job;
	watch_bytes = 1024 * 1024;
	loop_run(copied_some, tick, 20);
	assert_int_equal(job->state, JOB_RUNNING);
	job_pause(job);
	assert_int_equal(view_state(job), JOB_PAUSED);
	loop_run(paused_and_still, tick, 20);	/* chunks in flight come back */
	at_pause = job->bytes_done;
	/* Paused: a few ticks pass and nothing moves. */
	watch_bytes = UINT64_MAX;
	{
		uint64_t until = loop_now_usec() + 200000;
		while (loop_now_usec() < until && !job_finished(job))
			loop_run(paused_and_still, tick, 20), usleep(20000);
	}
	assert_int_equal(job->bytes_done, at_pause);
	assert_true(at_pause < job->bytes_total);
	job_resume(job);
	assert_int_equal(job->state, JOB_RUNNING);
	run_until_finished();
	assert_int_equal(job->state, JOB_DONE);
	assert_int_equal(job->bytes_done, job->bytes_total);
	assert_same_file("pause", "pause.copy");
}

static void
test_cancel(void **state)
{
	struct job *run, *queued;

	conf.jobs.max_running = 1;
	make_file("big", 32 * 1024 * 1024);
	run = submit_held(PRIO_NORMAL, "big.1", 1, "big");
	run_until_scanned();
	queued = submit(PRIO_NORMAL, "big.2", 1, "big");
	run_until_scanned();
	assert_int_equal(queued->state, JOB_QUEUED);
	job_cancel(queued);
	assert_int_equal(queued->state, JOB_CANCELLED);	/* at once: never started */
	assert_int_equal(queued->started_usec, 0);
	job_cancel(run);
	release(run);		/* its file meets the cancel */
	run_until_finished();
	assert_int_equal(run->state, JOB_CANCELLED);
	{
		char cmd[256];
		snprintf(cmd, sizeof(cmd), "test -e '%s/big.1' || test -e '%s/big.2' || "
		    "ls -a '%s' | grep -q cpd-tmp", fixture_dir, fixture_dir, fixture_dir);
		assert_int_not_equal(system(cmd), 0);	/* no destination, no temporary */
	}
}

static void
test_per_user_limit(void **state)
{
	struct job_request req = { .prio = PRIO_NORMAL };
	struct job *job;

	conf.jobs.max_per_user = 1;
	conf.jobs.max_running = 1;
	make_file("lim", 1);
	submit(PRIO_NORMAL, "lim.1", 1, "lim");
	req.sources = calloc(1, sizeof(char *));
	req.sources[0] = in_dir("lim");
	req.nsources = 1;
	req.destination = in_dir("lim.2");
	assert_int_equal(job_submit(&req, me, &job), -EUSERS);
	free(req.sources[0]);
	free(req.sources);
	free(req.destination);
	run_until_finished();
}

static uint64_t	give_up_usec;

/* copied_some(), or it is clear that it will not be (the test fails then). */
static bool
copied_some_or_gave_up(void)
{
	return copied_some() || loop_now_usec() > give_up_usec;
}

/*
 * A job that waits for bandwidth with nothing in flight holds no slot: at
 * 1 byte/s it sends one 4 KiB chunk and then waits for over an hour,
 * while another job takes the only slot and finishes.
 */
static void
test_throttled_gives_slot(void **state)
{
	struct job *slow, *quick;

	conf.jobs.max_running = 1;
	conf.jobs.interactive_slots = 0;
	make_file("thr", 1024 * 1024);
	slow = submit(PRIO_NORMAL, "thr.slow", 1, "thr");
	slow->req.bwlimit = 1;
	run_until_scanned();
	quick = submit(PRIO_NORMAL, "thr.quick", 1, "thr");
	watched = quick;
	watch_bytes = UINT64_MAX;
	give_up_usec = loop_now_usec() + 30 * 1000000ULL;
	loop_run(copied_some_or_gave_up, tick, 20);
	assert_done(quick);
	assert_same_file("thr", "thr.quick");
	assert_int_equal(slow->state, JOB_RUNNING);
	assert_true(slow->throttled && !slow->in_slot);
	/* It moves all the same: its first chunk went (and came back). */
	watched = slow;
	watch_bytes = 1;
	give_up_usec = loop_now_usec() + 30 * 1000000ULL;
	loop_run(copied_some_or_gave_up, tick, 20);
	assert_true(slow->bytes_done > 0 && slow->bytes_done < slow->bytes_total);
}

static int	iterations_left;

static bool
iterated(void)
{
	return iterations_left-- <= 0 || all_finished();
}

/*
 * A job cancelled after every number of loop iterations in turn, so that
 * the cancel meets each step of its copies in flight: open, create, the
 * clone tried, a sparse file's extents, the lanes. Each time the job ends
 * cancelled (or done, if it was quicker), with no temporary left behind
 * and no partial file published; under ASan, with nothing used after it
 * is freed.
 */
static void
test_cancel_any_step(void **state)
{
	char	*p = in_dir("sparse"), cmd[512];
	int	 fd;

	make_file("dense", 2 * 1024 * 1024 + 5);
	assert_true((fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644)) >= 0);
	assert_int_equal(pwrite(fd, "x", 1, 3 * 1024 * 1024), 1);
	close(fd);
	free(p);
	for (int n = 0; n < 40; n++) {
		struct job *job;

		snprintf(cmd, sizeof(cmd), "rm -rf '%s/steps' && mkdir '%s/steps'", fixture_dir, fixture_dir);
		assert_int_equal(system(cmd), 0);
		job = submit(PRIO_NORMAL, "steps/", 2, "dense", "sparse");
		iterations_left = n;
		loop_run(iterated, tick, 20);
		job_cancel(job);
		run_until_finished();
		if (job->state != JOB_CANCELLED)
			assert_done(job);
		/* Whatever was published is whole; nothing else is there. */
		snprintf(cmd, sizeof(cmd), "cd '%s' && for f in dense sparse; do "
		    "[ ! -e steps/$f ] || cmp -s $f steps/$f || exit 1; done && "
		    "! ls -A steps | grep -qv '^dense$\\|^sparse$'", fixture_dir);
		if (system(cmd) != 0)
			fail_msg("cancelled after %d iterations: a partial or stray file in steps/", n);
	}
}

static uint64_t	oldest_id;

/* The oldest kept job is gone, or it is clear that it will not be. */
static bool
oldest_gone_or_gave_up(void)
{
	return job_find(oldest_id) == NULL || loop_now_usec() > give_up_usec;
}

/*
 * A user's finished jobs beyond jobs.keep_finished_per_user go at the
 * next tick, oldest first; every job of the earlier tests is older.
 */
static void
test_keep_finished_per_user(void **state)
{
	struct job	*a, *b, *c;
	uint64_t	 ids[3];
	unsigned	 mine = 0;

	make_file("kept", 1);
	a = submit(PRIO_NORMAL, "kept.1", 1, "kept");
	b = submit(PRIO_NORMAL, "kept.2", 1, "kept");
	c = submit(PRIO_NORMAL, "kept.3", 1, "kept");
	ids[0] = a->id, ids[1] = b->id, ids[2] = c->id;
	run_until_finished();
	conf.jobs.keep_finished_per_user = 2;
	oldest_id = ids[0];
	give_up_usec = loop_now_usec() + 5000000;
	loop_run(oldest_gone_or_gave_up, tick, 20);
	assert_null(job_find(ids[0]));
	assert_non_null(job_find(ids[1]));
	assert_non_null(job_find(ids[2]));
	for (struct job *job = job_first(); job; job = job_next(job))
		mine += job->cred->uid == me->uid;
	assert_int_equal(mine, 2);
}

static int
setup(void **state)
{
	fixture_up(&conf, "job");
	assert_int_equal(chmod(fixture_dir, 0777), 0);	/* for test_users_take_turns */
	test_workers = copy_workers;
	test_workers.file = held_file;
	job_init(&conf, &test_workers);
	me = calloc(1, sizeof(*me));
	me->uid = getuid();
	me->gid = getgid();
	me->refs = 1;
	base = conf;
	return 0;
}

/*
 * After each test, passed or not: its jobs are ended and the settings put
 * back, so that a failure is reported once and not again by the tests after.
 */
static int
settle(void **state)
{
	for (int i = 0; i < nwaiting; i++)
		job_cancel(waiting[i]);
	if (held_job)
		release(held_job);
	run_until_finished();
	conf = base;
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_copy_one, settle),
		cmocka_unit_test_teardown(test_missing_source, settle),
		cmocka_unit_test_teardown(test_into_directory, settle),
		cmocka_unit_test_teardown(test_priority_order, settle),
		cmocka_unit_test_teardown(test_interactive_slots, settle),
		cmocka_unit_test_teardown(test_users_take_turns, settle),
		cmocka_unit_test_teardown(test_auto_priority, settle),
		cmocka_unit_test_teardown(test_pause_resume, settle),
		cmocka_unit_test_teardown(test_cancel, settle),
		cmocka_unit_test_teardown(test_cancel_any_step, settle),
		cmocka_unit_test_teardown(test_per_user_limit, settle),
		cmocka_unit_test_teardown(test_user_cap_by_kind, settle),
		cmocka_unit_test_teardown(test_throttled_gives_slot, settle),
		cmocka_unit_test_teardown(test_keep_finished_per_user, settle),
	};
	return cmocka_run_group_tests(tests, setup, fixture_teardown);
}
