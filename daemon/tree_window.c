/*
 * The fds a tree copy holds, bounded whatever the tree's depth. Every
 * directory being copied held its source's and its destination's fds
 * until its last entry had ended, so a tree N levels deep held 2N: one
 * user's deep trees could take every fd of the daemon, and a tree deeper
 * than half its user's share (fdshare.h) could not be copied at all.
 *
 * A directory that has read all its entries and has only subdirectories
 * under way, none of which uses its fds, needs them again only for its
 * own finish (its metadata, its fsync). Such a directory more than
 * TREE_WINDOW levels above one being set up closes them ("parked"), and
 * gives them back to its user's share. The last of its subdirectories
 * to end reopens them, from its own, by "..", in a pool thread as the
 * caller; the result must be the very directories that were closed
 * (device and inode), or the parked directory fails with ESTALE: its
 * tree was moved under the copy, and nothing is made through whatever
 * now sits at its names. A descent thus costs no reopening at all, and
 * the climb back one pool call per level past the window; a tree of
 * ordinary depth never parks anything.
 *
 * Why ".." and not the path from an open ancestor: on the climb every
 * directory between the top and the window is parked, so reopening by
 * path would cost each level a walk from the top, the depth's square
 * over the tree; and why not file handles: open_by_handle_at() takes
 * CAP_DAC_READ_SEARCH, a root privilege, where every access of a job is
 * made with the caller's credentials.
 *
 * A directory with entries still unread keeps its fds (reopening it
 * would have to find its place in the listing again): a tree whose every
 * level has more entries than one read takes (thousands) still holds
 * fds in proportion to its depth, up to its user's share.
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

/* Nothing of it is in flight but subdirectories that have fds of their own. */
static bool
tree_window_idle(const struct tnode *n)
{
	return n->parent != NULL && n->state == TS_READ && n->eof && !n->reading &&
	    n->srcfd >= 0 && n->children == n->dirs_open && n->pinned == 0;
}

static void
tree_window_park(struct tnode *n)
{
	close(n->srcfd);	/* directories: no FLUSH, nothing waited for (engine.h) */
	if (n->dstfd >= 0)
		close(n->dstfd);
	n->srcfd = n->dstfd = -1;
	n->parked = true;
	if (n->fds_held)
		fdshare_give(&n->job->tree_job->share, TREE_NODE_FDS);
	n->fds_held = false;
}

void
tree_window_trim(struct tnode *n)
{
	struct tnode	*a = n->parent;
	unsigned	 parked = 0;

	for (unsigned up = 1; a != NULL; a = a->parent, up++)
		if (up > TREE_WINDOW && tree_window_idle(a)) {
			tree_window_park(a);
			parked++;
		}
	if (parked == 0)
		return;
	log_debug("job %llu: %u directories above '%s' closed their fds",
	    (unsigned long long)n->job->id, parked, n->name);
	/* A directory that waited for fds may start, once this is done. */
	tree_admit_wake(n->job->cred->uid);
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

	if (p == NULL || !p->parked || p->children != 1 || !tree_finish_uses_fds(p))
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
