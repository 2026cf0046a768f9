/*
 * The fds a tree copy holds, bounded whatever the tree's depth. Every
 * directory being copied held its source's and its destination's fds
 * until its last entry had ended, so a tree N levels deep held 2N: one
 * user's deep trees could take every fd of the daemon, and a tree deeper
 * than half its user's share (fdshare.h) could not be copied at all.
 *
 * A directory that nothing in flight uses (no file of it being copied,
 * no read of it, no subdirectory being set up or renamed into it) more
 * than TREE_WINDOW levels above one being set up closes its fds
 * ("parked"), and gives them back to its user's share; a tree of
 * ordinary depth never parks anything. It may still have subdirectories
 * under way, entries on the job's stack, and entries not yet read (its
 * place in the listing is kept, lseek's offset).
 *
 * - Only subdirectories left: it needs its fds again for its own finish
 *   (metadata, fsync). The last of them to end reopens them, from its
 *   own, by "..": on the climb back, one pool call per level.
 * - Entries left to start or to read (a tree both wide and deep: every
 *   level has more entries than the job's stack takes at once): it is
 *   reopened by its names from its nearest open ancestor when the next
 *   of them is to start, or when it is its turn to read (tree_kick: a
 *   parked reader only when no open one waits, and one directory of the
 *   job at a time, or they would all hold fds again), and reads on where
 *   it was. Before, such a level kept its fds, and a tree of 20 levels of
 *   3,000 entries took 2 fds per level (tests/integration/tree_deep_wide.sh).
 *
 * Either way the result must be the very directories that were closed
 * (device and inode), or the parked directory fails with ESTALE: its
 * tree was moved under the copy, and nothing is made through whatever
 * now sits at its names. Why not file handles: open_by_handle_at()
 * takes CAP_DAC_READ_SEARCH, a root privilege, where every access of a
 * job is made with the caller's credentials. Why ".." where it can: by
 * names, a level's reopening costs a walk from the open ancestor, the
 * depth's square over a climb.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cred.h"
#include "fdshare.h"
#include "job.h"
#include "log.h"
#include "tree_int.h"

bool
tree_window_pins(const struct tnode *n)
{
	/* Set up in its parent, and, made under a temporary name, renamed there at its end. */
	return n->state != TS_END && (n->state < TS_DELETE || n->tmpname[0] != '\0');
}

/*
 * Nothing of it is in flight but subdirectories that have fds of their
 * own: no file (its entries are queued, started subdirectories, or
 * files), no read, no subdirectory in its parent's hands (pinned).
 */
static bool
tree_window_idle(const struct tnode *n)
{
	return n->parent != NULL && n->state == TS_READ && (!n->reading || n->read_waits) &&
	    n->srcfd >= 0 && n->children == n->dirs_open + n->queued && n->pinned == 0;
}

static bool
tree_window_park(struct tnode *n)
{
	char *path;

	/* Where its listing goes on: a directory's offset, as telldir() keeps it. */
	n->read_at = n->eof ? -1 : lseek(n->srcfd, 0, SEEK_CUR);
	if (!n->eof && n->read_at < 0)
		return false;
	if (log_getlevel() >= LOG_DEBUG) {
		path = tree_path(n, TREE_SRC, NULL);
		log_debug("job %llu: directory '%s' closes its fds%s", (unsigned long long)n->job->id,
		    path ? path : n->name, n->eof ? "" : ", with entries still to read");
		free(path);
	}
	close(n->srcfd);	/* directories: no FLUSH, nothing waited for (engine.h) */
	if (n->dstfd >= 0)
		close(n->dstfd);
	n->srcfd = n->dstfd = -1;
	n->parked = true;
	if (n->fds_held)
		fdshare_give(&n->job->tree_job->share, TREE_NODE_FDS);
	n->fds_held = false;
	return true;
}

void
tree_window_trim(struct tnode *n)
{
	struct tnode	*a = n->parent;
	unsigned	 parked = 0;

	for (unsigned up = 1; a != NULL; a = a->parent, up++) {
		if (up <= TREE_WINDOW)
			continue;
		/* One busy now (a read, a file) parks when that ends: tree_window_check. */
		a->far = true;
		if (tree_window_idle(a) && tree_window_park(a))
			parked++;
	}
	if (parked == 0)
		return;
	log_debug("job %llu: %u directories above '%s' closed their fds",
	    (unsigned long long)n->job->id, parked, n->name);
	/* A directory that waited for fds may start, once this is done. */
	tree_admit_wake(n->job->cred->uid);
}

void
tree_window_check(struct tnode *n)
{
	/* No subdirectory under way: the work is here now, not below it. */
	if (n->far && n->dirs_open == 0)
		n->far = false;
	if (n->far && tree_window_idle(n) && tree_window_park(n))
		tree_admit_wake(n->job->cred->uid);
}

/*
 * A directory of n's waits for fds its own job holds only where one of
 * them is given back without it: a far ancestor that is reading or has
 * files in flight (not one that waits for a subdirectory being set up,
 * which may be the very one waiting) parks when that ends.
 */
bool
tree_window_soon(const struct tnode *n)
{
	const struct tnode *a = n->parent;

	for (unsigned up = 1; a != NULL; a = a->parent, up++)
		if (up > TREE_WINDOW && a->far && a->srcfd >= 0 && a->pinned == 0 &&
		    a->state == TS_READ && !tree_window_idle(a))
			return true;
	return false;
}

/* Whether fd is the directory stx describes. */
static bool
tree_window_same(int fd, const struct statx *stx)
{
	struct statx now;

	return statx(fd, "", AT_EMPTY_PATH, STATX_INO, &now) == 0 && now.stx_ino == stx->stx_ino &&
	    now.stx_dev_major == stx->stx_dev_major && now.stx_dev_minor == stx->stx_dev_minor;
}

static int
tree_window_up(int fd, const struct statx *stx)
{
	int up = openat(fd, "..", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (up < 0)
		return -errno;
	if (!tree_window_same(up, stx)) {
		close(up);
		return -ESTALE;
	}
	return up;
}

/*
 * EOP_CALL, as the caller: the parents of fd and fd2 (the ending
 * directory's), which must be stx's and stx_end's (the parked one's),
 * into buf (int[2]).
 */
static long
tree_window_lift_run(struct eop *op)
{
	int *fds = op->buf;

	if ((fds[0] = tree_window_up(op->fd, op->stx)) < 0)
		return fds[0];
	if ((fds[1] = tree_window_up(op->fd2, op->stx_end)) < 0) {
		close(fds[0]);
		return fds[1];
	}
	return 0;
}

static void
tree_window_lifted(struct eop *op, int res)
{
	struct tnode	*n = op->owner, *p = n->parent;
	char		*path;

	if (res < 0) {
		path = tree_path(p, TREE_DST, NULL);
		log_warnx("job %llu: cannot reopen directory '%s' to finish it: %s",
		    (unsigned long long)n->job->id, path ? path : p->name, strerror(-res));
		free(path);
		tree_error(p, res, "cannot finish directory '%s': %s (reopening it)",
		    TREE_DST);
	} else {
		p->srcfd = n->lift_fd[0];
		p->dstfd = n->lift_fd[1];
		p->parked = false;
		/* n's fds are closed next: its count of its user's share is p's now. */
		p->fds_held = n->fds_held;
		n->fds_held = false;
	}
	tree_end(n);
}

bool
tree_window_lift(struct tnode *n)
{
	struct tnode	*p = n->parent;
	struct eop	*op;

	/* Entries left to read or start: p is reopened by its names for them. */
	if (p == NULL || !p->parked || !p->eof || p->children != 1 || !tree_finish_uses_fds(p))
		return false;
	if (n->srcfd < 0 || n->dstfd < 0) {
		/* Failed itself, or parked and ended without its fds: said so already. */
		tree_error(p, -ESTALE, "cannot finish directory '%s': %s (reopening it)",
		    TREE_DST);
		return false;
	}
	op = job_op_init(n->job, &n->op, EOP_CALL, tree_window_lifted);
	op->owner = n;
	job_op_reads(op, n->stx.stx_dev_major, n->stx.stx_dev_minor);
	op->run = tree_window_lift_run;
	op->fd = n->srcfd;
	op->fd2 = n->dstfd;
	op->stx = &p->stx;	/* read only, while p is parked */
	op->stx_end = &p->dstx;
	op->buf = n->lift_fd;
	engine_submit(op);
	return true;
}

/* A parked directory's way back by its names, for a pool thread. */
struct tree_reopen {
	int		 from[2];	/* its nearest open ancestor's, dup'ed: source, destination */
	int		 got[2];
	int64_t		 read_at;
	struct statx	 want[2];	/* what was closed */
	unsigned	 depth;		/* levels below the ancestor */
	char		 names[];	/* per level: the source's name, the destination's */
};

/* One side down its names from fd (taken): the directory, or -errno. */
static int
tree_window_walk(int fd, const char *names, unsigned depth, bool dst)
{
	int next;

	for (unsigned i = 0; i < depth; i++) {
		if (dst)
			names += strlen(names) + 1;
		/* One name at a time, none of them a symlink or "..": nothing leads out. */
		next = openat(fd, names, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		next = next < 0 ? -errno : next;
		close(fd);
		if (next < 0)
			return next == -ENOENT || next == -ENOTDIR || next == -ELOOP ? -ESTALE : next;
		fd = next;
		names += strlen(names) + 1;
		if (!dst)
			names += strlen(names) + 1;
	}
	return fd;
}

/* EOP_CALL, as the caller: into r->got, the directories r->want, by r's names. */
static long
tree_window_reopen_run(struct eop *op)
{
	struct tree_reopen	*r = op->buf;
	int			 err = 0;

	for (int side = 0; side < 2; side++) {
		if (r->from[side] < 0)
			continue;
		r->got[side] = tree_window_walk(r->from[side], r->names, r->depth, side == 1);
		r->from[side] = -1;	/* taken */
		if (r->got[side] < 0 && err == 0)
			err = r->got[side];
		else if (r->got[side] >= 0 && !tree_window_same(r->got[side], &r->want[side]) &&
		    err == 0)
			err = -ESTALE;
	}
	if (err == 0 && r->read_at >= 0 && lseek(r->got[0], r->read_at, SEEK_SET) < 0)
		err = -errno;
	return err;
}

static long
tree_window_reopen_none(struct eop *op)
{
	(void)op;
	return -ENOMEM;
}

static void
tree_window_reopen_free(struct tree_reopen *r, bool keep)
{
	if (r == NULL)
		return;
	for (int side = 0; side < 2; side++) {
		if (r->from[side] >= 0)
			close(r->from[side]);
		if (r->got[side] >= 0 && !keep)
			close(r->got[side]);
	}
	free(r);
}

static void
tree_window_reopened(struct eop *op, int res)
{
	struct tnode		*n = op->owner;
	struct job		*job = n->job;
	struct tree_reopen	*r = op->buf;
	char			*path = tree_path(n, TREE_SRC, NULL);
	unsigned		 dropped;

	job->tree_job->reopening--;
	n->reopening = false;
	if (res < 0) {
		log_warnx("job %llu: cannot reopen directory '%s' to go on: %s",
		    (unsigned long long)job->id, path ? path : n->name, strerror(-res));
		tree_error(n, res, "cannot go on in directory '%s': %s (reopening it)", TREE_SRC);
		n->eof = true;
		/* Its entries still on the stack go, counted as neither done
		 * nor failed: the directory's own failure says why. */
		dropped = job_drop_items(job, n);
		n->queued -= dropped;
		n->children -= dropped;
		tree_read_unwait(n);
	} else {
		log_debug("job %llu: directory '%s' reopened to go on", (unsigned long long)job->id,
		    path ? path : n->name);
		n->srcfd = r->got[0];
		n->dstfd = r->got[1];
		n->parked = false;
		/* Given back when it closed them: taken again, or (the share is
		 * taken) held past it, as few as the directories that go on. */
		n->fds_held = fdshare_take(&job->tree_job->share, TREE_NODE_FDS) == 0;
	}
	free(path);
	tree_window_reopen_free(r, res >= 0);
	/* Reads on, or (failed, nothing left in it) finishes; then its entries may start. */
	if (n->reopen_reads || res < 0) {
		if (n->reopen_reads)
			n->reading = false;
		n->reopen_reads = false;
		tree_read_on(n);
	}
	job_fill(job);
}

/* The names from a (open) down to n, then n's own: see struct tree_reopen. */
static struct tree_reopen *
tree_window_reopen_new(struct tnode *n, const struct tnode *a)
{
	struct tree_reopen	*r;
	const struct tnode	*t;
	size_t			 len = 0, off;
	unsigned		 depth = 0;

	for (t = n; t != a; t = t->parent, depth++)
		len += strlen(t->name) + strlen(tree_path_name(t, TREE_REL)) + 2;
	if ((r = calloc(1, sizeof(*r) + len)) == NULL)
		return NULL;
	r->depth = depth;
	off = len;
	for (t = n; t != a; t = t->parent) {
		const char *src = t->name, *dst = tree_path_name(t, TREE_REL);

		off -= strlen(dst) + 1;
		memcpy(r->names + off, dst, strlen(dst) + 1);
		off -= strlen(src) + 1;
		memcpy(r->names + off, src, strlen(src) + 1);
	}
	r->got[0] = r->got[1] = -1;
	r->from[0] = fcntl(a->srcfd, F_DUPFD_CLOEXEC, 0);
	r->from[1] = n->phantom || a->dstfd < 0 ? -1 : fcntl(a->dstfd, F_DUPFD_CLOEXEC, 0);
	if (r->from[0] < 0 || (r->from[1] < 0 && !n->phantom && a->dstfd >= 0)) {
		tree_window_reopen_free(r, false);
		return NULL;
	}
	r->read_at = n->read_at;
	r->want[0] = n->stx;
	r->want[1] = n->dstx;
	return r;
}

void
tree_window_reopen(struct tnode *n, bool reads)
{
	struct tree_job		*tj = n->job->tree_job;
	const struct tnode	*a = n->parent;
	struct tree_reopen	*r;
	struct eop		*op;

	n->reopen_reads |= reads;
	/* One at a time: the job fills, and readers are kicked, when it is done. */
	if (n->reopening || (tj->reopening > 0 && !reads))
		return;
	while (a->srcfd < 0)	/* the top is never parked */
		a = a->parent;
	r = tree_window_reopen_new(n, a);
	op = job_op_init(n->job, &n->op, EOP_CALL, tree_window_reopened);
	/* Without memory (or fds for the dups) it fails from the loop, not in here. */
	op->run = r ? tree_window_reopen_run : tree_window_reopen_none;
	op->buf = r;
	op->owner = n;
	job_op_reads(op, n->stx.stx_dev_major, n->stx.stx_dev_minor);
	n->reopening = true;
	tj->reopening++;
	engine_submit(op);
}
