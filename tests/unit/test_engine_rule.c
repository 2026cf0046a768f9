/*
 * The completion rule (engine.h, journal.h): an operation's done() never
 * runs before the call that submitted it has returned, on either engine
 * (CPD_TEST_ENGINE=fallback for the pool), whatever the result and
 * however early it is known: every kind of operation failing at submit
 * time, a zero-length copy, a data lane that cannot be set up, a daemon
 * out of fds for pipes, and the journal's writes when it is disabled.
 * A done() inside its submit would abort the test binary (loop.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "config.h"
#include "cred.h"
#include "engine.h"
#include "journal.h"
#include "loop.h"

#include "engine_fixture.h"

static struct config	conf;
static struct cred	self = { .refs = 1 };
static bool		submitting;	/* inside this test's engine_submit() */
static int		ndone, nwant;

static void
op_done(struct eop *op, int res)
{
	if (submitting)
		fail_msg("%s: done() ran inside engine_submit()", eop_name(op->type));
	op->res = res;
	op->owner = op;		/* delivered */
	ndone++;
}

static bool
all_done(void)
{
	return ndone >= nwant;
}

static void
no_tick(void)
{
}

static void
submit(struct eop *op)
{
	op->cred = &self;
	op->done = op_done;
	op->owner = NULL;
	nwant++;
	submitting = true;
	engine_submit(op);
	submitting = false;
	/* Not delivered yet, whatever it was. */
	assert_null(op->owner);
}

static void
run_until_done(void)
{
	loop_run(all_done, no_tick, 50);
}

static bool
uring(void)
{
	return strcmp(engine_name(), "io_uring") == 0;
}

/* A file of len bytes of a pattern, open for reading; and a new one for writing. */
static void
open_pair(const char *name, size_t len, int *in, int *out)
{
	char	path[128], *buf = malloc(len + 1);
	int	fd;

	for (size_t i = 0; i < len; i++)
		buf[i] = (char)(i * 7 + 3);
	snprintf(path, sizeof(path), "%s/%s", fixture_dir, name);
	assert_true((fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600)) >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	*in = fd;
	snprintf(path, sizeof(path), "%s/%s.copy", fixture_dir, name);
	assert_true((*out = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600)) >= 0);
	free(buf);
}

static void
copy_op(struct eop *op, int in, int out, uint64_t len, bool bulk)
{
	*op = (struct eop){ .type = EOP_COPY, .fd = in, .fd2 = out, .len = len, .bulk = bulk };
}

/* Each kind of operation fails at submit time (an injected fault): later, with its error. */
static void
test_every_kind_at_submit(void **state)
{
	static struct eop ops[EOP_COUNT];
	char spec[64];

	for (int t = 0; t < EOP_COUNT; t++) {
		snprintf(spec, sizeof(spec), "%s:1:EPROTO", eop_name((enum eop_type)t));
		assert_int_equal(eop_fault_add(spec), 0);
	}
	ndone = nwant = 0;
	for (int t = 0; t < EOP_COUNT; t++) {
		ops[t].type = (enum eop_type)t;
		ops[t].fd = ops[t].fd2 = ops[t].dirfd = -1;
		submit(&ops[t]);
	}
	run_until_done();
	for (int t = 0; t < EOP_COUNT; t++)
		if (ops[t].res != -EPROTO)
			fail_msg("%s: %d, not EPROTO", eop_name((enum eop_type)t), ops[t].res);
}

/* Nothing to copy: 0, from the loop. */
static void
test_zero_length_copy(void **state)
{
	struct eop	op[2];
	int		in, out;

	open_pair("zero", 4096, &in, &out);
	ndone = nwant = 0;
	copy_op(&op[0], in, out, 0, false);
	submit(&op[0]);
	copy_op(&op[1], in, out, 0, true);
	submit(&op[1]);
	run_until_done();
	assert_int_equal(op[0].res, 0);
	assert_int_equal(op[1].res, 0);
	close(in);
	close(out);
}

/* A data lane that cannot be set up fails its chunk, later; the next one copies. */
static void
test_lane_fault(void **state)
{
	struct eop	op[2];
	int		in, out;

	if (!uring())
		skip();		/* the pool has no lanes to set up */
	assert_int_equal(eop_fault_add("lane:1:EMFILE"), 0);
	open_pair("lane", 3 << 20, &in, &out);
	ndone = nwant = 0;
	copy_op(&op[0], in, out, 1 << 20, true);
	submit(&op[0]);
	copy_op(&op[1], in, out, 1 << 20, true);
	submit(&op[1]);
	run_until_done();
	assert_int_equal(op[0].res, -EMFILE);
	assert_int_equal(op[1].res, 1 << 20);
	close(in);
	close(out);
}

/*
 * At the fd limit no pipe can be made: the chunk goes through a buffer
 * instead and is copied whole, its result delivered from the loop.
 */
static void
test_no_fds_for_pipes(void **state)
{
	struct rlimit	old, low;
	struct eop	op;
	int		in, out, fd;
	char		*a = malloc(2 << 20), *b = malloc(2 << 20);

	open_pair("nofds", 2 << 20, &in, &out);
	/* No idle lane with a pipe from before: a new chunk size drops them. */
	conf.engine.chunk_size = 2 << 20;
	engine_reconfigure(&conf);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	/* Every fd up to the limit taken: the next one is EMFILE. */
	assert_true((fd = dup(0)) >= 0);
	close(fd);
	low = old;
	low.rlim_cur = (rlim_t)fd;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	assert_true(dup(0) < 0 && errno == EMFILE);
	ndone = nwant = 0;
	copy_op(&op, in, out, 2 << 20, true);
	submit(&op);
	run_until_done();
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	assert_int_equal(op.res, 2 << 20);
	assert_int_equal(pread(in, a, 2 << 20, 0), 2 << 20);
	assert_int_equal(pread(out, b, 2 << 20, 0), 2 << 20);
	assert_memory_equal(a, b, 2 << 20);
	free(a);
	free(b);
	close(in);
	close(out);
}

static uint64_t	journal_ids[2];
static int	journal_errs[2];

static void
journal_done(uint64_t id, int err)
{
	if (submitting)
		fail_msg("journal: done() ran inside journal_write()");
	journal_ids[ndone] = id;
	journal_errs[ndone] = err;
	ndone++;
}

/* No journal (no state directory): the writes are told done, later. */
static void
test_journal_disabled(void **state)
{
	assert_false(journal_enabled());
	ndone = 0;
	nwant = 2;
	submitting = true;
	journal_write(7, json_object_new_object(), false, journal_done);
	journal_write(8, NULL, true, journal_done);
	submitting = false;
	assert_int_equal(ndone, 0);
	run_until_done();
	assert_int_equal(journal_ids[0], 7);
	assert_int_equal(journal_ids[1], 8);
	assert_int_equal(journal_errs[0], 0);
	assert_int_equal(journal_errs[1], 0);
}

static int
setup(void **state)
{
	fixture_up(&conf, "rule");
	self.uid = getuid();
	self.gid = getgid();
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_kind_at_submit),
		cmocka_unit_test(test_zero_length_copy),
		cmocka_unit_test(test_lane_fault),
		cmocka_unit_test(test_no_fds_for_pipes),
		cmocka_unit_test(test_journal_disabled),
	};
	return cmocka_run_group_tests(tests, setup, fixture_teardown);
}
