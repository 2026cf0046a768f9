/*
 * What tree.c shares with the files that take a concern of it off its
 * hands: tree_read.c (reading directories), tree_admit.c (their fds,
 * and when one may start), tree_ahead.c (a set-up as one operation),
 * tree_window.c (those fds closed and reopened, so that they do not grow
 * with the tree's depth) and tree_delete.c (delete).
 */
#ifndef CPD_TREE_INT_H
#define CPD_TREE_INT_H

#include "filter.h"
#include "tree.h"

#define TREE_NODE_FDS	2		/* a directory's source and destination */
#define TREE_QUEUE_LOW	512		/* a directory reads on while fewer items wait */
#define TREE_DIRS_PER_PARENT	8	/* subdirectories of one directory under way at once */
#define TREE_WINDOW	8		/* levels above a directory that keep their fds */

/*
 * A directory's states, in the order it takes them (some are skipped,
 * TS_READ is taken once per batch of entries). The order is relied on:
 * - before TS_READ the directory is being set up and counts as one of
 *   the job's items in flight: job_dir_ready() when it leaves them
 *   (tree_enter), and a stopping job ends it there (tree_on_stopped);
 * - tree_next(n, from) names the first finishing step after from, so
 *   TS_META .. TS_END are in the order they run.
 */
enum tstate {
	TS_START,	/* made, nothing asked yet */
	TS_OPEN_SRC, TS_STAT_SRC, TS_OPEN_FINAL, TS_MKDIR, TS_OPEN_DST, TS_STAT_DST,
	TS_DELETE,	/* delete: what its source lacks goes (tree_delete.c) */
	TS_READ,	/* its entries are read and copied */
	TS_META, TS_FSYNC, TS_MOVE,
	TS_REMOVE,	/* a copy that could not be put in place goes */
	TS_END,		/* the job hears of it; the node is freed */
	TS_COUNT
};

/* A job's state of tree.c (job->tree_job). */
struct tree_job {
	unsigned	 nodes;		/* directories being copied */
	struct tnode	*readers;	/* directories waiting to read on (tree_kick) */
	struct tnode	*waiting;	/* directories waiting for fds (tree_admit) */
	struct fdshare_holder share;	/* its directories' fds */
	struct filter_set *filters;	/* the job's, compiled once */
	unsigned	 reopening;	/* its directories being reopened (tree_window.c) */
	/* Entries deleted or being deleted: taken by the pool's threads (atomic). */
	uint64_t	 deleted;
};

/* tree.c */
struct eop	*tree_op(struct tnode *, enum eop_type);
/* The operation of state s, made as tree_enter() would submit it. */
struct eop	*tree_step_op(struct tnode *, enum tstate s);
enum tstate	 tree_next(const struct tnode *, enum tstate from);
/* The first error of the directory: fmt has a %s for its path, one for the error. */
void		 tree_error(struct tnode *, int err, const char *fmt, enum tree_path);
/* The directory failed (fmt has a %s for its path, one for the error): its finish. */
enum tstate	 tree_fail(struct tnode *, int err, const char *fmt, enum tree_path);
void		 tree_enter(struct tnode *, enum tstate);
/* The directory and everything in it have ended: its parent hears, it is freed. */
void		 tree_end(struct tnode *);
/* The operations of its finish use its fds (tree_next's TS_META, TS_FSYNC). */
bool		 tree_finish_uses_fds(const struct tnode *);

/* tree_read.c: read on (or, all read and ended, finish); a batch read. */
void		 tree_read_on(struct tnode *);
/* Whether the directory may read its next batch of entries now. */
bool		 tree_may_read(const struct tnode *);
enum tstate	 tree_read_done(struct tnode *, int res);
/* Off the job's list of readers, if it is on it: it reads no more. */
void		 tree_read_unwait(struct tnode *);

/* tree_admit.c: a directory takes its fds from its user's share, or waits for them. */
/* A directory item waits for its siblings: its parent has TREE_DIRS_PER_PARENT under way. */
bool		 tree_held_back(const struct item *);
void		 tree_admit(struct tnode *);
/* Fds of uid's share were given back: its waiting directories start, from the loop. */
void		 tree_admit_wake(uid_t);
/* A stopping job's directories still waiting for fds end without them. */
void		 tree_admit_drop(struct job *);

/*
 * tree_window.c: the fds a tree copy holds do not grow with its depth.
 * Whether n, in state n->state, uses its parent's fds (counted in
 * parent->pinned by tree.c's one place that changes a state).
 */
bool		 tree_window_pins(const struct tnode *);
/* n is set up: close the fds of its ancestors past the window that only wait. */
void		 tree_window_trim(struct tnode *);
/* Nothing in flight uses n's fds any more: closed if it is far above the work (n->far). */
void		 tree_window_check(struct tnode *);
/* An ancestor of n far above it is busy now, and closes its fds when that ends. */
bool		 tree_window_soon(const struct tnode *);
/* n ends, and its parked parent's finish needs fds: reopened from n's, then tree_end(n). */
bool		 tree_window_lift(struct tnode *);
/*
 * n is parked, and has entries to start (or, reads, to read): its fds are
 * reopened by its names, from its nearest open ancestor, one directory
 * of the job at a time; then the job fills (or n reads on).
 */
void		 tree_window_reopen(struct tnode *, bool reads);
/* The name a directory goes by in a path of that kind (tree_path.c). */
const char	*tree_path_name(const struct tnode *, enum tree_path);

/* tree_ahead.c: the set-up's operations, from opening the source, as one. */
struct eop	*tree_ahead_op(struct tnode *);
/*
 * The result of the step of state next, if it ran ahead, into *res: true.
 * Otherwise what ran ahead is dropped (once the set-up goes elsewhere).
 */
bool		 tree_ahead_take(struct tnode *, enum tstate next, int *res);

/* tree_delete.c: the delete pass of a merged directory, before its entries are read. */
struct eop	*tree_delete_op(struct tnode *);
enum tstate	 tree_delete_on(struct tnode *, int res);
void		 tree_delete_free(struct tnode *);

#endif
