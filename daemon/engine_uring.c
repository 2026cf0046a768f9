/*
 * The io_uring engine. Metadata operations are single SQEs. A copy runs
 * in "lanes": each lane moves one chunk at a time as a linked pair,
 * source -> intermediate -> destination, through a pipe (splice) or a
 * buffer (read/write). Every lane's halves carry IOSQE_ASYNC, so io-wq
 * workers do them and the loop thread never copies data itself, nor
 * waits for a file system that blocks where it was asked not to.
 *
 * A link is not a transaction: a short first half cancels the second
 * (-ECANCELED), and the lane then writes out what did arrive; a short
 * second half is resubmitted for the rest.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cred.h"
#include "engine.h"
#include "engine_backend.h"
#include "ioprio.h"
#include "log.h"
#include "loop.h"
#include "share.h"

struct lane {
	struct loop_op	 a, b;		/* the two halves of a round */
	struct eop	*op;
	int		 pipefd[2];
	size_t		 cap;		/* pipe or buffer size */
	char		*buf;
	bool		 splice;
	unsigned	 sqe_flags;
	uint64_t	 done;		/* bytes of op written by finished rounds */
	uint32_t	 want, got, put;
	bool		 a_done, b_cancelled;
	int		 err;
	struct lane	*next;
};

static struct {
	int		 method, async;
	uint64_t	 threshold, chunk;
	unsigned	 max_inflight;
	unsigned	 lanes_busy;
	struct lane	*idle_splice, *idle_rw;
	/*
	 * Copies over max_inflight, or over their user's or disk's share
	 * of it (share.h: a chunk stuck on a file system that hangs holds
	 * its place in the budget), interactive ones served first.
	 */
	struct eop	*waiting[2], **waiting_tail[2];
	struct shares	 shares;
} U = { .waiting_tail = { &U.waiting[0], &U.waiting[1] } };

static void lane_round(struct lane *);

/*
 * io-wq workers are threads of this process that inherit the loop
 * thread's priority. Copying with several of them at nice 0 on a small
 * machine starves everything else of CPU, the loop thread and the
 * clients waiting for it included; at worker_nice they yield to both.
 * New workers appear at any time, so each tick looks for them. Only
 * them: the journal's threads write what a client waits for, and the
 * pool's set their own priority (engine_thread.c).
 */
#define TASKS_MAX	256
static pid_t	known[TASKS_MAX];	/* threads looked at (workers reniced) */
static size_t	nknown;

/* The process's threads but the calling one, up to max of them. */
static size_t
uring_tasks(pid_t *tids, size_t max)
{
	struct dirent	*e;
	DIR		*d;
	pid_t		 self = gettid();
	size_t		 n = 0;

	if ((d = opendir("/proc/self/task")) == NULL)
		return 0;
	while ((e = readdir(d)) != NULL && n < max) {
		pid_t tid = (pid_t)atoi(e->d_name);

		if (tid > 0 && tid != self)
			tids[n++] = tid;
	}
	closedir(d);
	return n;
}

static bool
uring_is_worker(pid_t tid)
{
	char	path[64], comm[32] = "";
	FILE	*f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/comm", (int)tid);
	if ((f = fopen(path, "re")) == NULL)
		return false;
	if (fgets(comm, sizeof(comm), f) == NULL)
		comm[0] = '\0';
	fclose(f);
	return strncmp(comm, "iou-wrk-", 8) == 0;
}

static void
uring_tick(void)
{
	pid_t	tids[TASKS_MAX], seen[TASKS_MAX];
	size_t	n, nseen = 0;
	int	nice = (int)cpd_conf->engine.worker_nice;

	if (nice == 0)
		return;
	n = uring_tasks(tids, TASKS_MAX);
	for (size_t k = 0; k < n; k++) {
		bool done = false;

		for (size_t i = 0; i < nknown && !done; i++)
			done = known[i] == tids[k];
		if (!done && uring_is_worker(tids[k]) &&
		    setpriority(PRIO_PROCESS, (id_t)tids[k], nice) < 0)
			continue;	/* gone already */
		seen[nseen++] = tids[k];
	}
	memcpy(known, seen, nseen * sizeof(seen[0]));	/* forget exited ones */
	nknown = nseen;
}

static void
uring_configure(const struct config *conf)
{
	U.method = conf->engine.method;
	U.async = conf->engine.async;
	U.threshold = conf->engine.async_threshold;
	U.chunk = conf->engine.chunk_size;
	U.max_inflight = conf->engine.max_inflight;
}

static void
lane_destroy(struct lane *l)
{
	if (l->splice) {
		close(l->pipefd[0]);
		close(l->pipefd[1]);
	}
	free(l->buf);
	free(l);
}

static void
lane_drain_idle(void)
{
	struct lane *l;

	while ((l = U.idle_splice) != NULL) {
		U.idle_splice = l->next;
		lane_destroy(l);
	}
	while ((l = U.idle_rw) != NULL) {
		U.idle_rw = l->next;
		lane_destroy(l);
	}
}

static void
uring_reconfigure(const struct config *conf)
{
	if (conf->engine.chunk_size != U.chunk)
		lane_drain_idle();	/* their pipes and buffers have the old size */
	uring_configure(conf);
}

static int
uring_init(const struct config *conf)
{
	uring_configure(conf);
	return 0;
}

static void
uring_shutdown(void)
{
	lane_drain_idle();
}

/* Not into a stream: every device takes a write(), not every one a splice. */
static bool
uring_bulk_splice(const struct eop *op)
{
	return op->bulk && !op->stream && U.method == METHOD_SPLICE;
}

static enum method
uring_method(uint64_t size)
{
	return size >= U.threshold && U.method == METHOD_SPLICE ? M_SPLICE : M_READWRITE;
}

/* A new lane: a pipe (splice) or a buffer (read/write) of about a chunk. */
static int
lane_new(bool splice, struct lane **out)
{
	struct lane	*l;
	int		 err;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return -ENOMEM;
	l->splice = splice;
	if (splice) {
		if (pipe2(l->pipefd, O_CLOEXEC) < 0) {
			err = -errno;
			free(l);
			return err;
		}
		/* The pipe is the chunk: as large as allowed, up to chunk_size. */
		fcntl(l->pipefd[1], F_SETPIPE_SZ, (int)U.chunk);
		l->cap = (size_t)fcntl(l->pipefd[1], F_GETPIPE_SZ);
	} else {
		l->cap = U.chunk;
		if ((l->buf = aligned_alloc(4096, l->cap)) == NULL) {
			free(l);
			return -ENOMEM;
		}
	}
	*out = l;
	return 0;
}

/*
 * An idle lane, or a new one. A daemon at its fd limit cannot make a
 * pipe: a buffer lane moves the chunk instead (read/write), which costs
 * no fd, so copies go on while the clients that hold the fds are served.
 */
static int
lane_get(bool splice, struct lane **out)
{
	struct lane	**idle = splice ? &U.idle_splice : &U.idle_rw;
	int		  err;

	if ((err = eop_fault_lane()) < 0)
		return err;
	if ((*out = *idle) != NULL) {
		*idle = (*out)->next;
		return 0;
	}
	if ((err = lane_new(splice, out)) < 0 && splice && err != -ENOMEM) {
		log_debug("no pipe for a data lane (%s): read/write instead", strerror(-err));
		return lane_new(false, out);
	}
	return err;
}

static void
lane_put(struct lane *l, bool reusable)
{
	struct lane **idle = l->splice ? &U.idle_splice : &U.idle_rw;

	U.lanes_busy--;
	engine_stats.inflight--;
	if (l->sqe_flags & IOSQE_ASYNC)
		engine_stats.async_inflight--;
	if (!reusable || (!l->splice && l->cap != U.chunk)) {
		lane_destroy(l);
		return;
	}
	l->next = *idle;
	*idle = l;
}

static void uring_copy(struct eop *op);
static void uring_dispatch(void);

static void
lane_finish(struct lane *l)
{
	struct eop *op = l->op;
	int	    res = l->err ? l->err : (int)l->done;

	/* A failed splice may leave bytes in the pipe: do not reuse it. */
	lane_put(l, l->err == 0);
	share_count(&U.shares, op, false);
	uring_dispatch();
	eop_complete(op, res);
}

/* A lane ended: the first waiting copy that may start now does (interactive ones first). */
static void
uring_dispatch(void)
{
	struct eop **pp, *op;

	for (int i = 1; i >= 0 && U.lanes_busy < U.max_inflight; i--) {
		for (pp = &U.waiting[i]; (op = *pp) != NULL; pp = &op->next)
			if (share_within(&U.shares, op, U.max_inflight))
				break;
		if (op == NULL)
			continue;
		if ((*pp = op->next) == NULL)
			U.waiting_tail[i] = pp;
		engine_stats.waiting--;
		uring_copy(op);
		return;
	}
}

/*
 * A half of a round, prepared: its lane's flags and its caller's
 * credentials set last, since liburing's io_uring_prep_*() clear both.
 * (Set first, they were lost: no lane ever carried IOSQE_ASYNC or a
 * personality until this was found.)
 */
static void
lane_sqe_mark(struct lane *l, struct io_uring_sqe *sqe)
{
	sqe->flags |= (unsigned char)l->sqe_flags;
	sqe->personality = (uint16_t)l->op->cred->personality;
	if (l->sqe_flags & IOSQE_ASYNC)
		engine_stats.ops_async++;
}

/* Second half: move bytes put..got of this round into the destination. */
static void
lane_write(struct lane *l, uint32_t from, uint32_t len)
{
	struct io_uring_sqe *sqe = loop_sqe(&l->b);
	/* -1: at the file's position, which a FIFO or a device needs. */
	uint64_t off = l->op->stream ? (uint64_t)-1 : l->op->off + l->done + from;

	if (l->splice)
		io_uring_prep_splice(sqe, l->pipefd[0], -1, l->op->fd2, (int64_t)off, len, 0);
	else {
		io_uring_prep_write(sqe, l->op->fd2, l->buf + from, len, off);
		sqe->ioprio = (uint16_t)ioprio_of(l->op->interactive);	/* see ioprio.c */
	}
	lane_sqe_mark(l, sqe);
}

static void
lane_round_done(struct lane *l)
{
	l->done += l->put;
	if (l->done < l->op->len)
		lane_round(l);	/* also after a short first half: EOF shows as 0 */
	else
		lane_finish(l);
}

static void
lane_after_cancel(struct lane *l)
{
	if (l->err || l->got == 0) {
		lane_finish(l);
		return;
	}
	lane_write(l, 0, l->got);
}

static void
lane_a_done(struct loop_op *lop, int res)
{
	struct lane *l = (struct lane *)((char *)lop - offsetof(struct lane, a));

	l->a_done = true;
	if (res < 0)
		l->err = res;
	else
		l->got = (uint32_t)res;
	if (l->b_cancelled)
		lane_after_cancel(l);
}

static void
lane_b_done(struct loop_op *lop, int res)
{
	struct lane *l = (struct lane *)((char *)lop - offsetof(struct lane, b));

	if (res == -ECANCELED && !l->b_cancelled && l->put == 0) {
		l->b_cancelled = true;
		if (l->a_done)
			lane_after_cancel(l);
		return;
	}
	if (res <= 0) {
		l->err = res < 0 ? res : -EIO;
		lane_finish(l);
		return;
	}
	l->put += (uint32_t)res;
	if (l->put < l->got)
		lane_write(l, l->put, l->got - l->put);
	else
		lane_round_done(l);
}

static void
lane_round(struct lane *l)
{
	struct eop	*op = l->op;
	uint64_t	 left = op->len - l->done, off = op->off + l->done;
	struct io_uring_sqe *sqe;

	l->want = (uint32_t)(left < l->cap ? left : l->cap);
	l->got = l->want;	/* what the linked write assumes */
	l->put = 0;
	l->a_done = l->b_cancelled = false;
	/* Both halves must go to the kernel in one submission, or the link breaks. */
	if (io_uring_sq_space_left(loop_ring()) < 2)
		io_uring_submit(loop_ring());
	sqe = loop_sqe(&l->a);
	if (l->splice)
		io_uring_prep_splice(sqe, op->fd, (int64_t)off, l->pipefd[1], -1, l->want, 0);
	else {
		io_uring_prep_read(sqe, op->fd, l->buf, l->want, off);
		sqe->ioprio = (uint16_t)ioprio_of(op->interactive);	/* see ioprio.c */
	}
	lane_sqe_mark(l, sqe);
	sqe->flags |= IOSQE_IO_LINK;
	lane_write(l, 0, l->want);
}

static void
uring_copy(struct eop *op)
{
	struct lane	*l;
	int		 err;

	if (op->len == 0) {
		eop_post(op, 0);	/* nothing to move: no lane, no round */
		return;
	}
	if (U.lanes_busy >= U.max_inflight || !share_within(&U.shares, op, U.max_inflight)) {
		op->next = NULL;
		*U.waiting_tail[op->interactive] = op;
		U.waiting_tail[op->interactive] = &op->next;
		engine_stats.waiting++;
		return;
	}
	if ((err = lane_get(uring_bulk_splice(op), &l)) < 0) {
		eop_post(op, err);
		return;
	}
	U.lanes_busy++;
	share_count(&U.shares, op, true);
	engine_stats.inflight++;
	l->op = op;
	l->done = 0;
	l->err = 0;
	l->a.cb = lane_a_done;
	l->b.cb = lane_b_done;
	/*
	 * Never tried inline, whatever the size, but under "never" (kept
	 * to measure the difference): a file system may wait even in a
	 * non-blocking attempt, and then the loop thread would wait with
	 * it. FUSE does, in its readahead, unless its server asked for
	 * asynchronous reads: a user's server that never answers stopped
	 * the whole daemon (tests/integration/hung_fs.sh).
	 */
	l->sqe_flags = U.async != ASYNC_NEVER ? IOSQE_ASYNC : 0;
	if (l->sqe_flags & IOSQE_ASYNC)
		engine_stats.async_inflight++;
	lane_round(l);
}

static void
uring_op_done(struct loop_op *lop, int res)
{
	struct eop *op = (struct eop *)((char *)lop - offsetof(struct eop, lop));

	engine_stats.inflight--;
	eop_complete(op, res);
}

static void
uring_submit(struct eop *op)
{
	struct io_uring_sqe *sqe;

	if (op->type == EOP_COPY) {
		uring_copy(op);
		return;
	}
	engine_stats.inflight++;
	op->lop.cb = uring_op_done;
	sqe = loop_sqe(&op->lop);
	switch (op->type) {
	case EOP_OPEN:
		memset(&op->how, 0, sizeof(op->how));
		op->how.flags = op->flags;
		op->how.mode = op->mode;
		op->how.resolve = op->resolve;
		io_uring_prep_openat2(sqe, op->dirfd, op->path, &op->how);
		break;
	case EOP_STATX:
		io_uring_prep_statx(sqe, op->dirfd, op->path, (int)op->flags,
		    ENGINE_STATX_MASK, op->stx);
		break;
	case EOP_FSYNC:
		io_uring_prep_fsync(sqe, op->fd, 0);
		break;
	case EOP_RENAME:
		io_uring_prep_renameat(sqe, op->dirfd, op->path, op->dirfd, op->path2,
		    (unsigned)op->flags);
		break;
	case EOP_UNLINK:
		io_uring_prep_unlinkat(sqe, op->dirfd, op->path, (int)op->flags);
		break;
	case EOP_MKDIR:
		io_uring_prep_mkdirat(sqe, op->dirfd, op->path, op->mode);
		break;
	case EOP_SYMLINK:
		io_uring_prep_symlinkat(sqe, op->path2, op->dirfd, op->path);
		break;
	case EOP_LINK:
		io_uring_prep_linkat(sqe, op->dirfd2, op->path2, op->dirfd, op->path,
		    (int)op->flags);
		break;
	case EOP_WRITEBACK:
		io_uring_prep_sync_file_range(sqe, op->fd2, (unsigned)op->len, op->off,
		    SYNC_FILE_RANGE_WRITE);
		break;
	default:		/* EOP_COPY and the threaded ones never come here */
		break;
	}
	sqe->personality = (uint16_t)op->cred->personality;
}

static int
uring_confine(const cpu_set_t *cpus)
{
	pid_t	tids[TASKS_MAX];
	size_t	n;
	int	rc;

	if ((rc = io_uring_register_iowq_aff(loop_ring(), sizeof(*cpus), cpus)) < 0)
		return rc;
	/* The kernel gives that to new workers only: the others are moved here. */
	n = uring_tasks(tids, TASKS_MAX);
	for (size_t k = 0; k < n; k++)
		if (uring_is_worker(tids[k]))
			sched_setaffinity(tids[k], sizeof(*cpus), cpus);	/* fails if gone: fine */
	return 0;
}

const struct engine engine_uring = {
	.name = "io_uring",
	.init = uring_init,
	.submit = uring_submit,
	.reconfigure = uring_reconfigure,
	.shutdown = uring_shutdown,
	.method = uring_method,
	.tick = uring_tick,
	.confine = uring_confine,
};
