/*
 * A regular file of /proc (cpuinfo, sys/kernel/...): its size says 0,
 * or anything, and its content is made as it is read. It is read to its
 * end, as cp reads it, by one pool operation as the caller, into the
 * temporary; then published as any copy. Not from a process's directory
 * (/proc/<pid>/, which /proc/self and links such as /proc/net lead to):
 * in a thread of the daemon those reach the daemon's own process, which
 * the kernel lets its threads read whatever their credentials (path.h).
 * Whether the file is there is told from where its fd leads, once it is
 * open: a path given or found in a tree may lead there through links.
 * Directories of /proc are not copied at all (copy.c, scan.c).
 */
#include <errno.h>
#include <unistd.h>

#include "copy_int.h"
#include "engine.h"
#include "job.h"
#include "path.h"

/* More than any text file of /proc holds; /proc/kcore says 128 TiB. */
#define COPY_PROC_MAX	(64ULL << 20)

/* In a pool thread, as the caller: fd read to its end into fd2. */
static long
copy_proc_run(struct eop *op)
{
	char		buf[65536];
	uint64_t	done = 0;

	if (path_procfs_private(op->fd, op->stx))
		return -EPERM;
	for (;;) {
		ssize_t n = read(op->fd, buf, sizeof(buf)), w = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : (long)done;
		if ((done += (uint64_t)n) > COPY_PROC_MAX)
			return -EFBIG;
		while (w < n) {
			ssize_t m = write(op->fd2, buf + w, (size_t)(n - w));

			if (m < 0 && errno != EINTR)
				return -errno;
			w += m > 0 ? m : 0;
		}
	}
}

struct eop *
copy_proc_op(struct copy *c)
{
	struct eop *op = copy_op(c, EOP_CALL);

	op->fd = c->srcfd;
	op->fd2 = c->tmpfd;
	op->stx = &c->stx;
	op->run = copy_proc_run;
	return op;
}

enum copy_state
copy_proc_on(struct copy *c, int res)
{
	if (res == -EPERM)
		copy_error(c, res, PATH_PROCFS_PRIVATE, c->srcpath);
	else if (res < 0)
		copy_error(c, res, "cannot read '%s'", c->srcpath);
	if (c->err)
		return CS_END;
	/* The job counted its size (0, mostly): what it held beyond it. */
	if ((uint64_t)res > c->stx.stx_size)
		job_add_total(c->job, 0, (uint64_t)res - c->stx.stx_size);
	c->progress += (uint64_t)res;
	c->method = M_READWRITE;
	return copy_publish_next(c, CS_PROC);
}
