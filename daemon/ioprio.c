/*
 * I/O priorities of the threads that copy.
 *
 * Measured on kernel 6.18 (block_rq_issue's ioprio): a buffered read
 * goes to the disk at the priority of the thread that makes it; the
 * kernel applies a request's own sqe->ioprio only to direct I/O. And
 * io_uring's workers share the I/O context of the thread that set up the
 * ring (CLONE_IO): the event loop's priority is theirs. So:
 *
 *  - the event loop's thread, and with it every io-wq worker, has the
 *    bulk priority: that is where bulk jobs' data moves;
 *  - a pool thread takes the priority of the job it works for, as it
 *    takes its nice value (engine_thread.c); an interactive job's work
 *    goes to the pool (engine.c), and so to the disk before bulk work;
 *  - the journal's threads have the interactive priority: a client
 *    waits for its job's record;
 *  - read and write SQEs carry the job's priority all the same, for
 *    direct I/O and for kernels that come to honour it.
 */
#include <linux/ioprio.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "config.h"
#include "ioprio.h"
#include "log.h"

int
ioprio_of(bool interactive)
{
	if (cpd_conf == NULL)
		return 0;	/* a unit test's journal, without a configuration */
	switch (cpd_conf->engine.bulk_ioprio) {
	case IOPRIO_BULK_NONE:
		return 0;
	case IOPRIO_BULK_IDLE:
		return interactive ? IOPRIO_PRIO_VALUE(IOPRIO_CLASS_BE, 0) :
		    IOPRIO_PRIO_VALUE(IOPRIO_CLASS_IDLE, 0);
	default:
		return IOPRIO_PRIO_VALUE(IOPRIO_CLASS_BE, interactive ? 0 : 7);
	}
}

/* 0 (IOPRIO_CLASS_NONE) puts the thread back to what its nice value implies. */
static int
ioprio_set_self(int value)
{
	return (int)syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, value);
}

void
ioprio_enter(bool interactive)
{
	static __thread int	now = -1;
	int			want = ioprio_of(interactive);

	if (want != now && ioprio_set_self(want) == 0)
		now = want;
}

void
ioprio_loop(void)
{
	int value = ioprio_of(false);

	if (ioprio_set_self(value) < 0)
		log_warn("ioprio_set %s", ioprio_name(value));
	else
		log_info("bulk copying at I/O priority %s, interactive work at %s",
		    ioprio_name(value), ioprio_name(ioprio_of(true)));
}

const char *
ioprio_name(int value)
{
	static const char *const be[] = {
		"best-effort 0", "best-effort 1", "best-effort 2", "best-effort 3",
		"best-effort 4", "best-effort 5", "best-effort 6", "best-effort 7",
	};

	switch (IOPRIO_PRIO_CLASS(value)) {
	case IOPRIO_CLASS_BE:
		return be[IOPRIO_PRIO_DATA(value) & 7];
	case IOPRIO_CLASS_IDLE:
		return "idle";
	case IOPRIO_CLASS_RT:
		return "real-time";
	default:
		return "none";
	}
}
