/*
 * A small file in one hand-off. Step by step, each operation is a round
 * trip from the loop to a worker and back, and for a file of a few KiB
 * those round trips (wakeups, context switches: five per file) cost more
 * than the work; README.md has the numbers. So a regular file of at most
 * engine.whole_file_max bytes is copied by one pool thread, with the
 * caller's credentials, walking the very states of the chain (copy.c):
 * the thread carries out each state's operation (engine_run), and the
 * state's handler names the next one, until a state that needs the loop
 * (the job's table of links, lanes for a file that turns out larger, the
 * end of the copy). The loop then goes on from exactly that state.
 *
 * This runs in a pool thread: the steps use only this copy and what of
 * its job does not change while the job runs. What they find out for
 * the job (progress, its total, what the filesystem cannot do) waits in
 * the copy for copy_apply(), and whether the job is stopping is asked
 * on the loop, when it takes over.
 */
#include <dirent.h>

#include "copy_int.h"
#include "engine.h"
#include "job.h"
#include "path.h"
#include "tree.h"

static bool
copy_whole_fits(const struct copy *c, uint64_t max)
{
	const struct statx *s = &c->stx;

	return S_ISREG(s->stx_mode) && s->stx_size <= max &&
	    (uint64_t)s->stx_blocks * 512 >= s->stx_size &&		/* not sparse */
	    !request_links_file(&c->job->req, s->stx_nlink, c->item->parent == NULL) &&
	    !path_on_procfs(s);
}

/*
 * The states a pool thread carries out: a small regular file's way,
 * its temporary's removal included. The others need the loop: the job's
 * table of links, lanes (a file that does not fit, a mapped copy's
 * allocation), comparing a file found in the way (the engine's method
 * for its size), and whatever makes the job hear of the copy (its end,
 * a directory).
 */
static bool
copy_whole_runs(const struct copy *c, uint64_t max)
{
	switch (c->state) {
	case CS_OPEN_SRC:
	case CS_STAT_SRC:
		return true;
	case CS_STAT_DST:
	case CS_REFRESH:
	case CS_SNAP_FIND:
	case CS_CREATE:
	case CS_CLONE:
	case CS_DATA:
	case CS_RECHECK:
	case CS_META:
	case CS_FSYNC:
	case CS_VERIFY:
	case CS_LINK_TEMP:
	case CS_LINK_FINAL:
	case CS_RENAME:
	case CS_UNLINK:
		return copy_whole_fits(c, max);
	default:
		return false;
	}
}

/* CS_DATA in a pool thread: the whole of a small file in one operation. */
struct eop *
copy_whole_data_op(struct copy *c)
{
	return copy_size_op(c, EOP_COPY);
}

static long
copy_whole_run(struct eop *whole)
{
	struct copy *c = whole->owner;

	while (copy_whole_runs(c, whole->len))
		copy_change_state(c, copy_interpret(c, (int)engine_run(copy_state_op(c)), false));
	return 0;
}

/* Back on the loop: the job hears what the steps found, and the chain goes on from where they stopped. */
static void
copy_whole_done(struct eop *whole, int res)
{
	struct copy	*c = whole->owner;
	bool		 stopping = copy_stopping(c);
	enum copy_state	 next;

	c->pooled = false;
	c->fs |= c->cj->fs;
	/* A hand-off that failed (the call never ran): its first step did. */
	next = res < 0 ? copy_interpret(c, res, stopping) : copy_next(c, c->state, stopping);
	copy_apply(c);
	if (next != c->state)
		copy_change_state(c, next);
	copy_run(c);
}

bool
copy_whole_may(const struct copy *c)
{
	const struct job *job = c->job;

	return cpd_conf->engine.whole_file_max > 0 && !job->req.bwlimit && !job->req.symlink &&
	    !job->req.attributes_only &&
	    !(c->fs & CF_NO_TMPFILE) &&
	    ((c->item->parent && c->item->dtype == DT_REG) || !job->req.recursive);
}

/* Start at c->state (CS_OPEN_SRC) in a pool thread. */
void
copy_whole(struct copy *c)
{
	struct eop *op = copy_job_op(c, &c->whole, EOP_CALL, copy_whole_done);

	op->run = copy_whole_run;
	op->fd = op->fd2 = -1;
	op->len = cpd_conf->engine.whole_file_max;	/* the configuration may be reloaded */
	c->pooled = true;
	engine_submit(op);
}
