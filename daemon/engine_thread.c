/*
 * The fallback engine, for machines without io_uring: a small pool of
 * threads runs each operation as a plain system call and posts the result
 * back to the loop. A worker takes on the caller's credentials for the
 * operation (thread-local, see cred.c) and drops them after it, so the
 * same permission rules hold as with io_uring personalities.
 */
#include <errno.h>
#include <stdio.h>
#include <pthread.h>
#include <semaphore.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cred.h"
#include "engine.h"
#include "engine_backend.h"
#include "ioprio.h"
#include "log.h"
#include "loop.h"
#include "share.h"

#define RW_BUF	(1 << 20)

/*
 * The queues, in the order they are served: an interactive job's
 * operations, the rest, then the chunks of mapped copies. Those are the
 * longest operations the pool runs, and they never hold every thread:
 * one is always left for the other queues. And one thread is always
 * left for interactive work: a rename over a big file, or its unlink,
 * frees its blocks in the call (on ext4 mounted with discard, tens of
 * milliseconds), and four bulk jobs replacing files held all four
 * threads so while a 4 KiB copy waited (perf sched, under 4 bulk
 * copies with sync).
 *
 * And no user holds more than about half of the threads, nor one disk
 * all of them (share.h): an operation on a file system that stops
 * answering (a FUSE server that hangs, an NFS server gone) holds its
 * thread for as long as that lasts, and one user's four small files
 * there would otherwise stop every other user's copies; two users'
 * files there, two each, did so with a share per user only. An
 * operation of a user or file system at its share waits, while others
 * go past it.
 *
 * Work is handed to an idle thread by name and its own semaphore: the
 * loop thread must never wait for a pool thread. (With a condition
 * variable it did: pthread_cond_signal can wait for woken threads to
 * leave the old wait group, and a pool thread at worker_nice, beside
 * busy copying threads, may not run for milliseconds.)
 */
enum { Q_INTERACTIVE, Q_NORMAL, Q_BULK, Q_COUNT };

struct worker {
	pthread_t	 thread;
	sem_t		 wake;
	struct eop	*op;		/* handed over with wake; NULL: exit */
	struct worker	*next_idle;
	/*
	 * Where it runs (thread_place): changed by itself, or while it is
	 * idle by the thread that hands it an interactive operation. Its
	 * tid is 0 until it has started.
	 */
	_Atomic pid_t	 tid;
	int		 nice;		/* -1: not set yet */
	cpu_set_t	 cpus;
};

static struct {
	pthread_mutex_t	 lock;
	struct eop	*head[Q_COUNT], **tail[Q_COUNT];
	struct worker	*workers, *idle;
	unsigned	 nthreads;
	unsigned	 outstanding;	/* operations queued or running */
	unsigned	 bulk_running;
	unsigned	 other_running;	/* operations of jobs not interactive */
	struct shares	 shares;	/* operations running per user and per disk read */
	bool		 stop;
} P = { .lock = PTHREAD_MUTEX_INITIALIZER,
	.tail = { &P.head[0], &P.head[1], &P.head[2] } };

/* Each thread's read/write buffer: one per call would be an mmap and munmap per small file. */
static __thread char *thread_buf;

/* A block of a sparse copy: its size, and the alignment of the blocks left holes. */
#define SPARSE_BLOCK	4096

static bool
thread_zeros(const char *p, size_t n)
{
	return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

/* n bytes of buf to fd2 at out, but the blocks of zeros (SPARSE_ALWAYS); n or -1. */
static ssize_t
thread_write_sparse(struct eop *op, const char *buf, size_t n, loff_t out)
{
	size_t	 w = 0, len;
	ssize_t	 m;

	while (w < n) {
		len = SPARSE_BLOCK - (size_t)((uint64_t)(out + (loff_t)w) % SPARSE_BLOCK);
		if (len > n - w)
			len = n - w;
		if (thread_zeros(buf + w, len)) {
			w += len;
			continue;
		}
		if ((m = pwrite(op->fd2, buf + w, len, out + (loff_t)w)) <= 0)
			return m < 0 ? -1 : (errno = EIO, -1);
		w += (size_t)m;
	}
	return (ssize_t)n;
}

/*
 * copy_file_range where the filesystems allow it, else pread/pwrite (op->by_rw says
 * which); pread/pwrite when op->sparse says how zeros are written.
 */
static long
thread_copy(struct eop *op)
{
	char	*buf = thread_buf;
	uint64_t done = 0;
	long	 rc = 0;

	op->by_rw = op->sparse != SPARSE_AUTO;
	if (op->by_rw && buf == NULL && (buf = thread_buf = malloc(RW_BUF)) == NULL)
		return -ENOMEM;
	while (done < op->len) {
		size_t	len = op->len - done;
		loff_t	in = (loff_t)(op->off + done), out = in;
		ssize_t	n;

		if (!op->by_rw) {
			n = copy_file_range(op->fd, &in, op->fd2, &out, len, 0);
			if (n < 0 && (errno == EXDEV || errno == EINVAL ||
			    errno == EOPNOTSUPP || errno == ENOSYS)) {
				if (buf == NULL && (buf = thread_buf = malloc(RW_BUF)) == NULL)
					return -ENOMEM;
				op->by_rw = true;
				continue;
			}
		} else {
			ssize_t w = 0;
			if (len > RW_BUF)
				len = RW_BUF;
			n = pread(op->fd, buf, len, in);
			if (op->sparse == SPARSE_ALWAYS && n > 0)
				n = thread_write_sparse(op, buf, (size_t)n, out);
			else for (ssize_t m; n > 0 && w < n; w += m)
				if ((m = op->stream ? write(op->fd2, buf + w, (size_t)(n - w)) :
				    pwrite(op->fd2, buf + w, (size_t)(n - w), out + w)) <= 0) {
					n = m < 0 ? -1 : (errno = EIO, -1);
					break;
				}
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			break;
		}
		if (n == 0)
			break;
		done += (uint64_t)n;
	}
	return rc < 0 ? rc : (long)done;
}

/* The rest of op's chunk, from done on, the usual way (thread_copy). */
static long
thread_copy_rest(struct eop *op, uint64_t done)
{
	uint64_t off = op->off, len = op->len;
	long	 rc;

	op->off += done;
	op->len -= done;
	rc = thread_copy(op);
	op->off = off;
	op->len = len;
	return rc < 0 ? rc : (long)(done + (uint64_t)rc);
}

/*
 * A chunk of a mapped copy (see copy.c): fd2's pages for the chunk are
 * mapped and read into, so that the page faults, not a write(), fill
 * them. A write() to a file holds its inode lock while it copies; page
 * faults do not, so chunks of one file fill in parallel. Only the kernel
 * touches the mapping (inside pread), so a page that cannot be had makes
 * pread fail with EFAULT instead of raising SIGBUS in the daemon; the
 * rest of the chunk is then written the usual way, which can say why.
 * So is a chunk of a file that cannot be mapped (some FUSE filesystems).
 */
static long
thread_copy_mapped(struct eop *op)
{
	uint64_t skew = op->off % (uint64_t)sysconf(_SC_PAGESIZE), done = 0;
	size_t	 maplen = (size_t)(op->len + skew);
	char	*map;
	long	 rc = 0;

	map = mmap(NULL, maplen, PROT_READ | PROT_WRITE, MAP_SHARED, op->fd2, (off_t)(op->off - skew));
	if (map == MAP_FAILED)
		return thread_copy_rest(op, 0);
	while (done < op->len) {
		ssize_t n = pread(op->fd, map + skew + done, (size_t)(op->len - done),
		    (off_t)(op->off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			break;
		}
		if (n == 0)
			break;
		done += (uint64_t)n;
	}
	munmap(map, maplen);
	if (rc == -EFAULT)
		return thread_copy_rest(op, done);
	return rc < 0 ? rc : (long)done;
}

/* Whether fd and fd2 hold the same first len bytes (a file that may be a copy). */
static long
thread_compare(struct eop *op)
{
	const size_t	 chunk = 256 << 10;
	char		*a = malloc(chunk), *b = malloc(chunk);
	uint64_t	 off = 0;
	long		 rc = 0;

	if (a == NULL || b == NULL)
		rc = -ENOMEM;
	while (rc == 0 && off < op->len) {
		size_t	want = op->len - off < chunk ? (size_t)(op->len - off) : chunk;
		ssize_t	n = pread(op->fd, a, want, (off_t)off), m;

		if (n <= 0) {
			rc = n < 0 ? -errno : 1;	/* shorter than it was: not the same */
			break;
		}
		if ((m = pread(op->fd2, b, (size_t)n, (off_t)off)) < 0)
			rc = -errno;
		else if (m != n || memcmp(a, b, (size_t)n) != 0)
			rc = 1;
		off += (uint64_t)n;
	}
	free(a);
	free(b);
	return rc;
}

/* The data extents of a sparse file; -E2BIG when there are too many to list. */
static long
thread_extents(struct eop *op)
{
	off_t	 data, hole = 0;
	long	 n = 0;

	for (;;) {
		if ((data = lseek(op->fd, hole, SEEK_DATA)) < 0)
			return errno == ENXIO ? n : -errno;	/* ENXIO: no more data */
		if ((hole = lseek(op->fd, data, SEEK_HOLE)) < 0)
			return -errno;
		/* A hole punched between the two lseeks: no data there. */
		if (hole == data)
			continue;
		if ((uint64_t)n == op->len)
			return -E2BIG;
		op->ext[n].off = (uint64_t)data;
		op->ext[n].len = (uint64_t)(hole - data);
		n++;
	}
}

/*
 * A directory's entries, as many as buf holds: getdents64 again until
 * it is full or the listing ends (op->eof). A directory of a few
 * hundred entries is then one operation, not two, the second of which
 * only found the end: a hand-off to the pool and back per directory
 * (an up-to-date re-run of 100,000 files in 1,000 directories: 145 ->
 * 138 ms).
 */
static long
thread_readdir(struct eop *op)
{
	/* Room for the longest entry: its header and a name of NAME_MAX. */
	const uint64_t	 room = 24 + 256;
	long		 len = 0, n;

	op->eof = false;
	while (op->len - (uint64_t)len >= room) {
		n = syscall(SYS_getdents64, op->fd, (char *)op->buf + len, op->len - len);
		if (n < 0)
			return len > 0 ? len : -errno;	/* the next read meets it again */
		if (n == 0) {
			op->eof = true;
			break;
		}
		len += n;
	}
	return len;
}

static long
thread_run(struct eop *op)
{
	long rc;

	switch (op->type) {
	case EOP_OPEN:
		memset(&op->how, 0, sizeof(op->how));
		op->how.flags = op->flags;
		op->how.mode = op->mode;
		op->how.resolve = op->resolve;
		rc = syscall(SYS_openat2, op->dirfd, op->path, &op->how, sizeof(op->how));
		break;
	case EOP_STATX:
		rc = statx(op->dirfd, op->path, (int)op->flags, ENGINE_STATX_MASK, op->stx);
		break;
	case EOP_COPY:
		return op->mapped ? thread_copy_mapped(op) : thread_copy(op);
	case EOP_FSYNC:
		rc = fsync(op->fd);
		break;
	case EOP_RENAME:
		rc = renameat2(op->dirfd, op->path, op->dirfd, op->path2, (unsigned)op->flags);
		break;
	case EOP_UNLINK:
		rc = unlinkat(op->dirfd, op->path, (int)op->flags);
		break;
	case EOP_MKDIR:
		rc = mkdirat(op->dirfd, op->path, op->mode);
		break;
	case EOP_SYMLINK:
		rc = symlinkat(op->path2, op->dirfd, op->path);
		break;
	case EOP_LINK:
		rc = linkat(op->dirfd2, op->path2, op->dirfd, op->path, (int)op->flags);
		break;
	case EOP_WRITEBACK:
		rc = sync_file_range(op->fd2, (off_t)op->off, (off_t)op->len,
		    SYNC_FILE_RANGE_WRITE);
		break;
	case EOP_READDIR:
		return thread_readdir(op);
	case EOP_READLINK:
		rc = readlinkat(op->dirfd, op->path, op->buf, op->len);
		break;
	case EOP_MKNOD:
		rc = mknodat(op->dirfd, op->path, op->mode, (dev_t)op->off);
		break;
	case EOP_META:
		return engine_meta_apply(op);
	case EOP_CLONE:
		rc = ioctl(op->fd2, FICLONE, op->fd);
		break;
	case EOP_EXTENTS:
		return thread_extents(op);
	case EOP_TRUNCATE:
		rc = ftruncate(op->fd2, (off_t)op->len);
		break;
	case EOP_ALLOCATE:
		rc = fallocate(op->fd2, 0, 0, (off_t)op->len);
		break;
	case EOP_COMPARE:
		return thread_compare(op);
	case EOP_CALL:
		return op->run(op);
	default:
		rc = -1;
		errno = EINVAL;
	}
	return rc < 0 ? -errno : rc;
}

static void
thread_done(void *arg)
{
	struct eop *op = arg;

	engine_stats.inflight--;
	eop_complete(op, op->res);
}

/* Where bulk work runs (engine_confine), and the rest; unset: anywhere. */
static cpu_set_t	 place_sets[2][2];	/* [generation][bulk, other] */
static _Atomic int	 place_gen = -1;

void
engine_thread_confine(const cpu_set_t *bulk, const cpu_set_t *other)
{
	/* Written by the loop only, into the generation threads are not
	 * told to read; one that read the number just before two changes
	 * may see a set being written: at worst it is placed a moment
	 * wrongly, or (an empty set) not at all, until its next operation. */
	int gen = (atomic_load(&place_gen) + 1) & 1;

	place_sets[gen][0] = *bulk;
	place_sets[gen][1] = *other;
	atomic_store(&place_gen, gen);
}

/*
 * Copying threads yield to the loop and to clients (see engine_uring.c),
 * and do bulk work only where engine_confine() says, except for an
 * interactive job's operation: that one is what a client waits for, and
 * at worker_nice it would wait its turn behind every bulk copy's io-wq
 * worker. Thread w's nice value and CPUs; its I/O priority is set by
 * itself (ioprio_enter).
 */
static void
thread_place(struct worker *w, bool interactive)
{
	int		 nice = interactive ? 0 : (int)cpd_conf->engine.worker_nice;
	int		 gen = atomic_load(&place_gen);
	pid_t		 tid = atomic_load(&w->tid);
	cpu_set_t	 cpus;

	if (nice != w->nice && setpriority(PRIO_PROCESS, (id_t)tid, nice) == 0)
		w->nice = nice;
	if (gen < 0)
		return;		/* never confined: where it started, anywhere */
	cpus = place_sets[gen][interactive ? 1 : 0];
	if (CPU_COUNT(&cpus) > 0 && !CPU_EQUAL(&cpus, &w->cpus) &&
	    sched_setaffinity(tid, sizeof(cpu_set_t), &cpus) == 0)
		w->cpus = cpus;
}

static int
thread_queue(const struct eop *op)
{
	return op->interactive ? Q_INTERACTIVE : op->mapped ? Q_BULK : Q_NORMAL;
}

/* Under the lock: queue q's first operation within its shares, unlinked. */
static struct eop *
thread_unlink(int q)
{
	struct eop **pp, *op;

	for (pp = &P.head[q]; (op = *pp) != NULL; pp = &op->next)
		if (share_within(&P.shares, op, P.nthreads))
			break;
	if (op == NULL)
		return NULL;
	if ((*pp = op->next) == NULL)
		P.tail[q] = pp;
	return op;
}

/* Under the lock: the next operation a thread may start, taken off its queue, or NULL. */
static struct eop *
thread_take(void)
{
	struct eop	*op = NULL;
	int		 q;
	bool		 other = P.other_running + 1 < P.nthreads || P.other_running == 0;

	for (q = 0; q < Q_COUNT && op == NULL; q++) {
		if (q != Q_INTERACTIVE && !other)
			break;
		if (q == Q_BULK && !(P.bulk_running + 1 < P.nthreads || P.bulk_running == 0))
			break;
		op = thread_unlink(q);
	}
	if (op == NULL)
		return NULL;
	q = thread_queue(op);
	P.bulk_running += q == Q_BULK;
	P.other_running += q != Q_INTERACTIVE;
	share_count(&P.shares, op, true);
	return op;
}

/* Under the lock: give idle threads what they may start. */
static void
thread_dispatch(void)
{
	struct worker	*w;
	struct eop	*op;

	while ((w = P.idle) != NULL && (op = thread_take()) != NULL) {
		P.idle = w->next_idle;
		w->op = op;
		/*
		 * An interactive operation's thread is woken where it is to
		 * run. Woken where bulk work runs, at worker_nice, it waited
		 * there behind io-wq's workers before it could move itself
		 * (perf sched, under 4 bulk copies with sync: up to 13 ms,
		 * while a 4 KiB copy's examination waited for it).
		 */
		if (op->interactive && !op->placeless && atomic_load(&w->tid))
			thread_place(w, true);
		sem_post(&w->wake);
	}
}

static void *
thread_main(void *arg)
{
	struct worker	*w = arg;
	struct eop	*op = NULL;

	atomic_store(&w->tid, gettid());
	for (;;) {
		bool	stop;
		int	rc;

		if (op == NULL) {
			while (sem_wait(&w->wake) < 0)
				;	/* EINTR */
			if ((op = w->op) == NULL)
				break;
		}
		if (!op->placeless) {
			thread_place(w, op->interactive);
			ioprio_enter(op->interactive);
		}
		if ((rc = cred_enter(op->cred)) == 0) {
			op->res = (int)thread_run(op);
			cred_leave(op->cred);
		} else
			op->res = rc;
		/*
		 * Waking the loop for each result costs more than a small
		 * file's work. While enough others are still to finish, each
		 * of which posts after this one, the last of them wakes it;
		 * meanwhile the pool has work. An interactive job's result
		 * goes at once.
		 */
		pthread_mutex_lock(&P.lock);
		P.outstanding--;
		P.bulk_running -= thread_queue(op) == Q_BULK;
		P.other_running -= thread_queue(op) != Q_INTERACTIVE;
		share_count(&P.shares, op, false);
		if (!op->interactive && P.outstanding >= P.nthreads)
			loop_post_lazy(thread_done, op);
		else
			loop_post(thread_done, op);
		stop = P.stop;
		if ((op = thread_take()) == NULL && !stop) {
			w->next_idle = P.idle;
			P.idle = w;
		}
		thread_dispatch();	/* a chunk may go now that one has ended */
		pthread_mutex_unlock(&P.lock);
		if (op == NULL && stop)
			break;
	}
	free(thread_buf);
	return NULL;
}

static int
thread_init(const struct config *conf)
{
	unsigned n = conf->engine.fallback_threads;

	if ((P.workers = calloc(n, sizeof(*P.workers))) == NULL)
		return -ENOMEM;
	for (P.nthreads = 0; P.nthreads < n; P.nthreads++) {
		struct worker	*w = &P.workers[P.nthreads];
		int		 rc;

		sem_init(&w->wake, 0, 0);
		w->nice = -1;
		if ((rc = pthread_create(&w->thread, NULL, thread_main, w)) != 0)
			return -rc;
		pthread_setname_np(w->thread, "cpd-pool");	/* for top, ps and tests */
		pthread_mutex_lock(&P.lock);
		w->next_idle = P.idle;
		P.idle = w;
		pthread_mutex_unlock(&P.lock);
	}
	return 0;
}

static void
thread_submit(struct eop *op)
{
	engine_stats.inflight++;
	op->next = NULL;
	pthread_mutex_lock(&P.lock);
	P.outstanding++;
	*P.tail[thread_queue(op)] = op;
	P.tail[thread_queue(op)] = &op->next;
	thread_dispatch();
	pthread_mutex_unlock(&P.lock);
}

static void
thread_reconfigure(const struct config *conf)
{
}

/* Queued work is still done; then every thread ends. */
static void
thread_shutdown(void)
{
	pthread_mutex_lock(&P.lock);
	P.stop = true;
	for (struct worker *w = P.idle; w; w = w->next_idle) {
		w->op = NULL;
		sem_post(&w->wake);
	}
	P.idle = NULL;
	pthread_mutex_unlock(&P.lock);
	for (unsigned i = 0; i < P.nthreads; i++) {
		pthread_join(P.workers[i].thread, NULL);
		sem_destroy(&P.workers[i].wake);
	}
	free(P.workers);
	P.workers = NULL;
	P.nthreads = 0;
	P.stop = false;
}

static enum method
thread_method(uint64_t size)
{
	return M_COPY_FILE_RANGE;
}

const struct engine engine_thread = {
	.name = "fallback",
	.init = thread_init,
	.submit = thread_submit,
	.reconfigure = thread_reconfigure,
	.shutdown = thread_shutdown,
	.method = thread_method,
	.run = thread_run,
};
