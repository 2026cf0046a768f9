/*
 * A directory's set-up in one hand-off. Opening and looking at its
 * source, then opening and looking at the copy it merges into, took four
 * operations one after the other: each a trip from the loop to io-wq
 * (io_uring runs statx there) or the pool and back (an up-to-date
 * re-run of 100,000 files in 1,000 directories: 137 -> 128 ms, half the
 * context switches). They run together in one pool operation, as
 * the caller, each as the engine runs it on its own (engine_run: the
 * same flags, the same injected faults); the loop then hands each
 * result in turn to its state's handler, as if it had just come. Where
 * a handler goes elsewhere (a copy to make, a failure, a stopping job),
 * what ran ahead is dropped, the copy's fd closed.
 */
#include <stdlib.h>
#include <unistd.h>

#include "engine.h"
#include "job.h"
#include "tree_int.h"

/* The set-up's usual course: that of a directory merged into its copy. */
static const enum tstate tree_ahead_states[] = {
	TS_OPEN_SRC, TS_STAT_SRC, TS_OPEN_FINAL, TS_STAT_DST
};
#define TREE_AHEAD_STEPS	(sizeof(tree_ahead_states) / sizeof(tree_ahead_states[0]))

struct tree_ahead {
	struct eop	 op[TREE_AHEAD_STEPS];
	long		 res[TREE_AHEAD_STEPS];
	unsigned	 steps;		/* to run */
	unsigned	 ran;		/* run: up to the first that failed */
	unsigned	 at;		/* the next result for its handler */
};

/* In a pool thread: each step in turn, the source's and the copy's fds into their statx. */
static long
tree_ahead_run(struct eop *op)
{
	struct tree_ahead *a = op->buf;

	for (a->ran = 0; a->ran < a->steps; a->ran++) {
		struct eop *step = &a->op[a->ran];

		if (tree_ahead_states[a->ran] == TS_STAT_SRC ||
		    tree_ahead_states[a->ran] == TS_STAT_DST)
			step->dirfd = (int)a->res[a->ran - 1];
		if ((a->res[a->ran] = engine_run(step)) < 0) {
			a->ran++;
			break;
		}
	}
	return a->res[0];
}

struct eop *
tree_ahead_op(struct tnode *n)
{
	const struct tnode	*p = n->parent;
	struct tree_ahead	*a = calloc(1, sizeof(*a));
	struct eop		*op;

	if (a == NULL)
		return tree_step_op(n, TS_OPEN_SRC);
	/* Nothing can be in the way in a directory just made (or one not made: dry_run). */
	a->steps = p && (p->phantom || (p->hidden && !p->adopted)) ? 2 : TREE_AHEAD_STEPS;
	for (unsigned i = 0; i < a->steps; i++)
		a->op[i] = *tree_step_op(n, tree_ahead_states[i]);
	a->at = 1;	/* the first result is the operation's own */
	n->ahead = a;
	op = tree_op(n, EOP_CALL);
	op->run = tree_ahead_run;
	op->buf = a;
	return op;
}

bool
tree_ahead_take(struct tnode *n, enum tstate next, int *res)
{
	struct tree_ahead *a = n->ahead;

	if (a == NULL)
		return false;
	if (a->at < a->ran && tree_ahead_states[a->at] == next) {
		*res = (int)a->res[a->at++];
		return true;
	}
	/* Gone elsewhere: the copy opened ahead is not this directory's. */
	for (; a->at < a->ran; a->at++)
		if (tree_ahead_states[a->at] == TS_OPEN_FINAL && a->res[a->at] >= 0)
			close((int)a->res[a->at]);
	free(a);
	n->ahead = NULL;
	return false;
}
