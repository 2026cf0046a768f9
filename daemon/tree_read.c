/*
 * A directory's entries: read in batches on the thread pool (io_uring
 * cannot read directories), each batch's entries queued on the job's
 * stack of items, but those the job's filters exclude (an excluded
 * directory is thus never entered). A directory reads on only while
 * that stack is short, so a huge tree never sits in memory at once.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "job.h"
#include "tree_int.h"

#define TREE_BUF	(32 * 1024)	/* bytes of directory entries per read */

/* Queue the entries of the batch just read (those the filters keep). */
static int
tree_read_queue(struct tnode *n, size_t len)
{
	struct job	*job = n->job;
	int		 ex;

	for (size_t at = 0; at < len; ) {
		struct linux_dirent64	*d = (struct linux_dirent64 *)(n->buf + at);
		struct item		*it;

		at += d->d_reclen;
		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		if ((ex = tree_path_excluded(n, d->d_name, d->d_type)) < 0)
			return ex;
		if (ex || tree_quick_entry(n, d))
			continue;
		if ((it = item_new(n, NULL, d->d_name, d->d_type)) == NULL)
			return -ENOMEM;
		n->children++;
		n->queued++;
		n->dst_touched = true;	/* maybe: its item may make or replace it */
		if (d->d_type != DT_DIR)
			job_add_total(job, 1, 0);
		job_push_item(job, it);
	}
	return 0;
}

static void
tree_read_failed(struct tnode *n, int err)
{
	char *path = tree_path(n, TREE_SRC, NULL);

	job_dir_failed(n->job, err, path ? path : n->name, "cannot read directory '%s': %s");
	free(path);
}

enum tstate
tree_read_done(struct tnode *n, int res)
{
	n->reading = false;
	if (res > 0 && (res = tree_read_queue(n, (size_t)res)) == 0 && !n->op.eof)
		return TS_READ;
	/* At the end (no read more only to meet it), or failed. */
	n->eof = true;
	free(n->buf);
	n->buf = NULL;
	if (res < 0)
		tree_read_failed(n, res);
	return TS_READ;		/* on, or (all in and ended) to its finish */
}

/* one_file_system (cp -x): a directory on another mount than its tree's top is copied empty. */
static bool
tree_read_other_fs(const struct tnode *n)
{
	const struct tnode *top = n;

	if (!n->job->req.one_file_system)
		return false;
	while (top->parent)
		top = top->parent;
	return n->stx.stx_dev_major != top->stx.stx_dev_major ||
	    n->stx.stx_dev_minor != top->stx.stx_dev_minor;
}

/* The next batch of entries, unless the job's stack of items is long enough already. */
static void
tree_read(struct tnode *n)
{
	struct job	*job = n->job;
	struct eop	*op;

	if (n->eof || n->reading)
		return;
	if (job_stopping(job) || tree_read_other_fs(n)) {
		n->eof = true;
		return;
	}
	if (!tree_may_read(n)) {
		/* Wait for the stack to drain; tree_kick() reads on. */
		n->next_reader = job->tree_job->readers;
		job->tree_job->readers = n;
		n->reading = n->read_waits = true;	/* waiting counts as reading */
		tree_window_check(n);
		return;
	}
	if (n->buf == NULL && (n->buf = malloc(TREE_BUF)) == NULL) {
		n->eof = true;
		job_fail(job, -ENOMEM, "cannot read '%s'", n->name);
		return;
	}
	n->reading = true;
	op = tree_op(n, tree_quick_applies(n) ? EOP_CALL : EOP_READDIR);
	op->run = tree_quick_read_run;
	/* checksum's limit, read here: a pool thread may not read a configuration a reload replaces. */
	op->off = cpd_conf->engine.whole_file_max;
	op->fd = n->srcfd;
	op->buf = n->buf;
	op->len = TREE_BUF;
	engine_submit(op);
}

/* Every entry read and ended: the directory's finish. */
void
tree_read_on(struct tnode *n)
{
	tree_read(n);
	if (n->children == 0 && n->eof && !n->reading)
		tree_enter(n, tree_next(n, TS_READ));
	else if (n->eof)
		tree_window_check(n);	/* read to its end: maybe nothing in flight uses it */
}

void
tree_read_unwait(struct tnode *n)
{
	struct tnode **pp = &n->job->tree_job->readers;

	if (!n->read_waits)
		return;
	while (*pp != n)
		pp = &(*pp)->next_reader;
	*pp = n->next_reader;
	n->read_waits = n->reading = false;
}

/* Off the job's list of readers, through pp, and read on (or reopened to, or finished). */
static void
tree_read_resume(struct tnode **pp, bool reopen)
{
	struct tnode *n = *pp;

	*pp = n->next_reader;
	n->read_waits = false;
	if (reopen) {
		tree_window_reopen(n, true);	/* still reading: it reads once reopened */
		return;
	}
	n->reading = false;
	tree_read_on(n);
}

/*
 * The readers whose fds are open read on first. One whose fds are
 * closed (tree_window.c) is reopened to read only when no open one
 * waits, and one at a time: reopened at once, every closed level of a
 * wide and deep tree would hold its fds again.
 */
void
tree_kick(struct job *job)
{
	struct tree_job	*tj = job->tree_job;
	struct tnode	*n, **closed;
	bool		 open_waits;

	if (job_stopping(job))
		tree_admit_drop(job);
	tj = job->tree_job;
again:
	closed = NULL;
	open_waits = false;
	for (struct tnode **pp = tj ? &tj->readers : NULL; pp && (n = *pp) != NULL; ) {
		if (n->parked && !job_stopping(job)) {
			if (closed == NULL && tree_may_read(n))
				closed = pp;
			pp = &n->next_reader;
			continue;
		}
		if (!tree_may_read(n)) {
			open_waits = true;
			pp = &n->next_reader;
			continue;
		}
		tree_read_resume(pp, false);
		goto again;	/* reading may have changed the list */
	}
	if (closed && !open_waits && tj->reopening == 0)
		tree_read_resume(closed, true);
}

/*
 * Whether n may read its next batch: while the job's stack is short.
 * A long one whose top is a directory held back by its parent's window
 * (tree_held_back) drains only when those siblings end, and they end
 * when what they hold is read and copied: they read on; the parent,
 * whose entries fill the stack, waits.
 */
bool
tree_may_read(const struct tnode *n)
{
	const struct job	*job = n->job;
	const struct item	*top = job->items;

	return job->nitems < TREE_QUEUE_LOW ||
	    (top && tree_held_back(top) && top->parent != n);
}
