/*
 * A large file's copy that a crash or restart does not undo (robocopy
 * /Z, rsync --partial): it is made under a named temporary, and every
 * jobs.checkpoint_interval bytes the temporary is synced and its
 * progress written into the job's record (partial.c). The job run again
 * finds the temporary where it was, takes its checkpoint at CS_CREATE,
 * verifies it (CS_RESUME) and moves only the rest.
 *
 * What a checkpoint says is copied: the front [0, head) and, for a copy
 * made from both ends (copy_lane.c), the back [tail, size). A lane's
 * chunk counts once it is moved; head is where the lowest chunk still
 * moving at the front starts, tail where the highest at the back ends.
 * The sync is taken of everything written by then, so what it covers is
 * on the disk before the record says so.
 *
 * Verified before it is used: the source must be the same file (inode,
 * size, modification time) and the temporary a file of its own whose
 * bytes at the start, before head and after tail are the source's. A
 * crash of the machine that lost data the sync did not cover, or a
 * temporary written to meanwhile, then shows; anything else is the quick
 * check's limit, as for an up-to-date file. A checkpoint that does not
 * verify is dropped: the file is copied anew into the same temporary.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "copy_int.h"
#include "engine.h"
#include "item.h"
#include "job.h"
#include "journal.h"
#include "log.h"
#include "partial.h"

#define RESUME_WINDOW	(1U << 20)	/* bytes compared at each end of what is kept */

/* Whether the copy is checkpointed: decided when its temporary is made. */
static bool
copy_resume_wanted(const struct copy *c)
{
	uint64_t min = cpd_conf->jobs.checkpoint_size, size = c->stx.stx_size;

	/* A sparse file goes by its extents (copy_make.c), not in a front and a back;
	 * nor does a copy whose zeros cp's --sparse writes otherwise, nor one
	 * without data (--attributes-only). */
	return min && size >= min && c->kind == K_FILE && !c->direct && !c->pooled &&
	    !c->into && c->snapfd < 0 && !c->job->req.dry_run && journal_enabled() &&
	    (uint64_t)c->stx.stx_blocks * 512 >= size && c->job->req.sparse == SPARSE_AUTO &&
	    !c->job->req.attributes_only;
}

bool
copy_resume_take(struct copy *c)
{
	struct partial	*p;
	char		*rel;

	if (!(c->ck.on = copy_resume_wanted(c)) || c->ck.tried)
		return false;
	c->ck.tried = true;
	if ((rel = item_rel(c->item)) == NULL)
		return false;
	p = partial_claim(c->job, rel, false, c->tmp, sizeof(c->tmp));
	free(rel);
	if (p == NULL)
		return false;
	c->ck.taken = true;
	c->ck.same_src = partial_matches(p, &c->stx);
	c->ck.head = p->head;
	c->ck.tail = p->tail;
	copy_temp_note(c, true);
	return true;
}

/*
 * The temporary of a checkpoint is not there: a new one, from the start.
 * (Another failure to open it fails the copy as a failure to create one.)
 */
enum copy_state
copy_resume_lost(struct copy *c, int res)
{
	log_info("job %" PRIu64 ": the checkpointed temporary of '%s' is gone (%s): "
	    "copying it anew", c->job->id, c->dstpath, strerror(-res));
	copy_temp_note(c, false);	/* its checkpoint with it */
	c->ck.taken = false;
	return CS_CREATE;
}

/* Bytes [off, off + len) of the source and the temporary are the same. */
static bool
copy_resume_same(int src, int tmp, uint64_t off, uint64_t len, char *a, char *b)
{
	return pread(src, a, len, (off_t)off) == (ssize_t)len &&
	    pread(tmp, b, len, (off_t)off) == (ssize_t)len && memcmp(a, b, len) == 0;
}

/*
 * In a pool thread, as the caller: 0 when the checkpoint holds, 1 when
 * it does not (the temporary is emptied), -errno when the temporary is
 * not a file of the copy's own.
 */
static long
copy_resume_check_run(struct eop *op)
{
	uint64_t	 size = op->stx->stx_size, head = op->off, tail = op->len, w;
	char		*a = malloc(RESUME_WINDOW), *b = malloc(RESUME_WINDOW);
	struct stat	 st;
	bool		 ok;

	if (a == NULL || b == NULL || fstat(op->fd2, &st) < 0) {
		free(a);
		free(b);
		return a && b ? -errno : -ENOMEM;
	}
	if (!S_ISREG(st.st_mode) || st.st_nlink != 1) {
		free(a);
		free(b);
		return -ESTALE;
	}
	ok = op->flags && (uint64_t)st.st_size >= head;
	w = head < RESUME_WINDOW ? head : RESUME_WINDOW;
	ok = ok && copy_resume_same(op->fd, op->fd2, 0, w, a, b) &&
	    copy_resume_same(op->fd, op->fd2, head - w, w, a, b);
	w = size - tail < RESUME_WINDOW ? size - tail : RESUME_WINDOW;
	ok = ok && copy_resume_same(op->fd, op->fd2, tail, w, a, b);
	free(a);
	free(b);
	if (ok)
		return 0;
	return ftruncate(op->fd2, 0) < 0 ? -errno : 1;
}

struct eop *
copy_resume_check_op(struct copy *c)
{
	struct eop *op = copy_size_op(c, EOP_CALL);

	op->run = copy_resume_check_run;
	op->stx = &c->stx;
	op->off = c->ck.head;
	op->len = c->ck.tail;
	op->flags = c->ck.same_src;
	return op;
}

enum copy_state
copy_resume_on_check(struct copy *c, int res)
{
	uint64_t size = c->stx.stx_size, kept;

	if (res < 0) {
		copy_error(c, res, "cannot resume '%s' from its checkpoint", c->dstpath);
		return CS_END;
	}
	if (res == 1) {
		log_info("job %" PRIu64 ": the checkpoint of '%s' does not hold (%s): "
		    "copying it anew", c->job->id, c->dstpath, c->ck.same_src ?
		    "the temporary differs from the source" : "the source changed");
		c->ck.head = 0;
		c->ck.tail = size;
		return copy_lane_plan(c);
	}
	kept = c->ck.head + (size - c->ck.tail);
	log_info("job %" PRIu64 ": '%s' resumed from its checkpoint: %" PRIu64 " of %" PRIu64
	    " bytes kept", c->job->id, c->dstpath, kept, size);
	c->ck.done = kept;
	c->progress += kept;
	c->job->bytes_resumed += kept;
	return copy_lane_plan(c);
}

static void
copy_resume_synced(struct eop *op, int res)
{
	struct copy	*c = op->owner;
	char		*dest;

	c->ck.syncing = false;
	if (res < 0)
		copy_error(c, res, "cannot sync '%s'", c->dstpath);
	else if (!c->err && (dest = item_rel(c->item)) != NULL) {
		c->ck.done = c->ck.sync_head + (c->stx.stx_size - c->ck.sync_tail);
		partial_set(c->job, item_rel_beside(c->item, c->tmp), dest, &c->stx,
		    c->ck.sync_head, c->ck.sync_tail);
		free(dest);
	}
	copy_lane_release(c);	/* before busy drops: they count again */
	c->busy--;
	if (c->busy == 0)
		copy_step_done(&c->step, 0);	/* the lanes ended meanwhile */
}

/* A lane's chunk was moved: a checkpoint, once another interval's worth is copied. */
void
copy_resume_tick(struct copy *c)
{
	uint64_t	 size = c->stx.stx_size, head = c->next_off, tail = c->end_off;
	struct eop	*op;

	if (!c->ck.on || c->ck.syncing || c->err || c->job->cancelling)
		return;
	for (unsigned i = 0; i < c->nlanes; i++) {
		if (!(c->ck.moving & (1ULL << i)))
			continue;
		op = &c->lanes[i];
		if (op->mapped && op->off + op->len > tail)
			tail = op->off + op->len;
		else if (!op->mapped && op->off < head)
			head = op->off;
	}
	if (head + (size - tail) < c->ck.done + cpd_conf->jobs.checkpoint_interval)
		return;
	c->ck.sync_head = head;
	c->ck.sync_tail = tail;
	c->ck.syncing = true;
	c->busy++;		/* the data step waits for it too */
	op = copy_job_op(c, &c->ck.op, EOP_FSYNC, copy_resume_synced);
	op->fd = c->tmpfd;
	op->fd2 = -1;
	op->interactive = false;
	engine_submit(op);
}

/*
 * Whether a lane that moved its chunk waits for the checkpoint's sync
 * before it moves another: once the copy is an interval past what the
 * sync covers. A copy faster than the disk would otherwise run on ahead
 * of its syncs, each sync covering more than the last and taking longer,
 * and the checkpoints fall behind (2 GiB from the page cache here,
 * killed at half way: 0.6 to 1 GiB kept, 1 GiB paced). Paced so, the
 * copy goes at the speed its data reaches the disk, with a pause at each
 * sync: jobs.checkpoint_pace.
 */
bool
copy_resume_holds(const struct copy *c)
{
	uint64_t size = c->stx.stx_size;
	/* Started from each end, kept bytes included (no extents here). */
	uint64_t issued = c->next_off + (size - c->end_off);
	uint64_t synced = c->ck.sync_head + (size - c->ck.sync_tail);

	return cpd_conf->jobs.checkpoint_pace && c->ck.syncing &&
	    issued >= synced + cpd_conf->jobs.checkpoint_interval;
}

/*
 * A shutdown stops the copy: its temporary and checkpoint stay for the
 * next run, as after a crash.
 */
bool
copy_resume_keeps(const struct copy *c)
{
	return c->ck.done > 0 && c->job->interrupted;
}
