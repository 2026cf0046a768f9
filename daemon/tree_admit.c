/*
 * A directory keeps its source's and its destination's fds open while
 * anything in it is copied: they come from its user's share of fds
 * (fdshare.c), and a directory waits here while the share is taken;
 * and a directory item starts only when its siblings under way leave
 * it room (tree_may_start).
 */
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "fdshare.h"
#include "job.h"
#include "log.h"
#include "loop.h"
#include "tree_int.h"

/* Out of the job's list of directories waiting for fds. */
static void
tree_admit_unwait(struct tnode *n)
{
	struct tnode **pp = &n->job->tree_job->waiting;

	while (*pp != n)
		pp = &(*pp)->next_waiting;
	*pp = n->next_waiting;
}

/* The directory's fds are counted (or cannot be): it opens, or fails. */
static void
tree_admit_got(struct tnode *n, int err)
{
	if (err < 0) {
		tree_enter(n, tree_fail(n, err, "cannot copy directory '%s': %s (its user's "
		    "share of directory fds, jobs.dir_fds_per_user, is taken)", TREE_SRC));
		return;
	}
	n->fds_held = true;
	tree_enter(n, TS_OPEN_SRC);	/* a stopping job's ends at its first step */
}

/* fdshare_wake(): the fds a directory waited for are taken. */
static void
tree_admit_ready(struct fdshare_waiter *w)
{
	struct tnode *n = (struct tnode *)((char *)w - offsetof(struct tnode, wait));

	tree_admit_unwait(n);
	tree_admit_got(n, 0);
}

/*
 * A directory keeps two fds open while anything in it is copied: they
 * come from its user's share. Past it, the directory waits for the
 * user's other jobs, or fails with EMFILE (fdshare_wait says which).
 */
void
tree_admit(struct tnode *n)
{
	struct tree_job	*tj = n->job->tree_job;
	int		 rc = fdshare_take(&tj->share, TREE_NODE_FDS);

	n->wait.need = TREE_NODE_FDS;
	n->wait.ready = tree_admit_ready;
	if (rc == -EMFILE && fdshare_wait(&tj->share, &n->wait, tree_window_soon(n)) == 0) {
		n->next_waiting = tj->waiting;
		tj->waiting = n;
		log_debug("job %llu: directory '%s' waits for its user's share of fds",
		    (unsigned long long)n->job->id, n->name);
		return;
	}
	tree_admit_got(n, rc);
}

void
tree_admit_drop(struct job *job)
{
	struct tnode *n;

	while (job->tree_job && (n = job->tree_job->waiting) != NULL) {
		tree_admit_unwait(n);
		fdshare_cancel(&n->wait);
		tree_enter(n, tree_next(n, TS_FSYNC));
	}
}

static void
tree_admit_wake_posted(void *uid)
{
	fdshare_wake((uid_t)(uintptr_t)uid);
}

/*
 * Fds of uid's share were given back: its directories that wait for
 * them start from the loop, not inside the call that gave them back
 * (tree_end, tree_window: in the middle of another directory's change
 * of state). A waiter gone meanwhile is no longer queued.
 */
void
tree_admit_wake(uid_t uid)
{
	loop_post(tree_admit_wake_posted, (void *)(uintptr_t)uid);
}

/*
 * A wide tree (thousands of sibling directories) opened them all at
 * once: each set-up directory leaves the job's items in flight, and the
 * next one started, so its user's share of fds ran out (EMFILE) with
 * nothing else running. A few siblings at a time keep it in bounds: the
 * open directories are at most TREE_DIRS_PER_PARENT per level of depth.
 * It cannot stall: a directory waits only for siblings under way, whose
 * own subdirectories may start (by induction from the deepest).
 */
bool
tree_held_back(const struct item *it)
{
	return it->dtype == DT_DIR && it->parent != NULL &&
	    it->parent->dirs_open >= TREE_DIRS_PER_PARENT;
}

bool
tree_may_start(const struct job *job, const struct item *it)
{
	(void)job;
	/* Its directory closed its fds (tree_window.c): they are reopened first. */
	if (it->parent && it->parent->parked) {
		tree_window_reopen(it->parent, false);
		return false;
	}
	return !tree_held_back(it);
}

void
tree_taken(struct item *it)
{
	if (it->parent)
		it->parent->queued--;
}
