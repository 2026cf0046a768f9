/*
 * A copy's data, on the loop: its chunks are moved in lanes, several
 * operations in flight at once (CS_DATA), after the copy was given its
 * blocks when it is to be mapped (CS_ALLOCATE). The data step ends when
 * its last lane does. A small file's data goes in one operation instead,
 * in a pool thread (copy_whole.c), through the same states.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "copy.h"
#include "copy_int.h"
#include "engine.h"
#include "job.h"
#include "reserve.h"

/*
 * The next chunk of the file, in lane op: from the next data extent of a
 * sparse file, or the next bytes of a dense one. A chunk is small enough
 * for a bandwidth limit to be kept smoothly (an eighth of a second's worth).
 */
static bool
copy_lane_more(const struct copy *c)
{
	return c->ext ? c->next_ext < c->next_nr : c->next_off < c->end_off;
}

/*
 * A mapped copy's back lanes (every other lane) take chunks from the
 * end of the file towards its front lanes; a chunk starts on a page,
 * as a mapping must. While interactive work is about they work from the
 * front instead: the back's threads would take CPU time the loop and
 * its clients wait for, on top of the front's (see reserve.c).
 */
static bool
copy_lane_is_back(const struct copy *c, const struct eop *op)
{
	return c->mapped && (op - c->lanes) % 2 == 1 && reserve_quiet();
}

/*
 * A large dense file is copied from both ends at once: its front by the
 * engine's data path, its back by pool threads that read the source
 * into the copy's pages, mapped (see thread_copy_mapped). Both ends fill
 * the page cache, which is where a copy's time goes when the data is
 * cached; a write() to the file holds its inode lock for that, so only
 * one of them runs at a time, while page faults run beside it. The
 * copy is given its blocks and size first: a page fault cannot report
 * a full disk, and a mapping cannot reach past the end of the file.
 * Where the filesystem cannot preallocate, the copy goes on unmapped.
 */
static bool
copy_lane_map_may(const struct copy *c)
{
	uint64_t threshold = cpd_conf->engine.map_threshold;

	return threshold && c->stx.stx_size >= threshold && c->ext == NULL && !c->into &&
	    copy_sparse(c) == SPARSE_AUTO && !c->job->req.attributes_only &&
	    job_file_lanes(c->job) > 1 && !c->mapped && !(c->fs & CF_NO_ALLOCATE);
}

/*
 * The data's way, once it is known not to be a clone: the blocks first
 * (a mapped copy), the lanes, or with nothing to move its publishing.
 * CS_DATA is named only with data to move, so that its lanes (at least
 * one) end it.
 */
enum copy_state
copy_lane_plan(struct copy *c)
{
	uint64_t size = c->job->req.attributes_only ? 0 : c->stx.stx_size;
	uint64_t chunk = cpd_conf->engine.chunk_size;
	unsigned lanes = job_file_lanes(c->job);

	if (c->proc && !c->job->req.attributes_only)
		return CS_PROC;		/* its size says nothing: read to its end */
	if (copy_lane_map_may(c))
		return CS_ALLOCATE;
	/* Resumed (copy_resume.c): only what the checkpoint does not hold. */
	c->next_off = c->ck.taken ? c->ck.head : 0;
	c->end_off = c->ck.taken ? c->ck.tail : size;
	if (!copy_lane_more(c)) {
		/* An empty file (or one all holes) counts under the method
		 * its data would have taken, so that a job's methods add up
		 * to its files: a pool thread's, or the engine's for its size. */
		c->method = c->pooled ? M_COPY_FILE_RANGE : engine_method(size);
		return copy_publish_next(c, CS_DATA);
	}
	if (c->pooled)
		return CS_DATA;		/* in one operation (copy_whole_data_op) */
	if (c->into)
		lanes = 1;	/* a stream takes its chunks in order */
	else if ((size + chunk - 1) / chunk < lanes)
		lanes = (unsigned)((size + chunk - 1) / chunk);
	if ((c->lanes = calloc(lanes, sizeof(*c->lanes))) == NULL) {
		copy_error(c, -ENOMEM, "cannot copy '%s'", c->srcpath);
		return CS_END;
	}
	c->nlanes = lanes;
	return CS_DATA;
}

static void copy_lane_done(struct eop *, int);

static void
copy_lane_start(struct copy *c, struct eop *op)
{
	struct job	*job = c->job;
	uint64_t	 chunk = cpd_conf->engine.chunk_size, off, left;
	bool		 back = copy_lane_is_back(c, op);

	if (job->req.bwlimit && chunk > job->req.bwlimit / 8)
		chunk = job->req.bwlimit / 8 < 4096 ? 4096 : job->req.bwlimit / 8;
	if (c->ext) {
		struct extent *e = &c->ext[c->next_ext];
		off = e->off + c->next_off;
		left = e->len - c->next_off;
	} else if (back) {
		left = c->end_off - c->next_off;
		off = c->end_off - (left < chunk ? left : chunk);
		off -= off % (uint64_t)sysconf(_SC_PAGESIZE);
		if (off < c->next_off)
			off = c->next_off;
		left = c->end_off - off;
	} else {
		off = c->next_off;
		left = c->end_off - c->next_off;
	}
	copy_job_op(c, op, EOP_COPY, copy_lane_done);
	op->fd = c->srcfd;
	op->fd2 = c->tmpfd;
	op->off = off;
	op->len = back || left < chunk ? left : chunk;
	op->bulk = c->stx.stx_size >= cpd_conf->engine.async_threshold;
	op->mapped = back;
	op->stream = c->into;
	op->sparse = copy_sparse(c);
	if (back) {
		c->method = M_MAPPED;
		c->end_off = off;
	} else
		c->next_off += op->len;
	if (c->ext && c->next_off == c->ext[c->next_ext].len) {
		c->next_ext++;
		c->next_off = 0;
	}
	c->busy++;
	c->ck.moving |= 1ULL << (op - c->lanes);
	if (job_lane_begin(job, op))
		engine_submit(op);
}

/* Entering CS_DATA: its lanes start; the last to end ends the step (copy_lane_done). */
void
copy_lane_start_all(struct copy *c)
{
	/* A mapped copy counts as one once a chunk goes mapped; a stream
	 * is written to by both engines (uring_bulk_splice; thread_copy,
	 * where copy_file_range refuses anything but a regular file). */
	c->method = c->into ? M_READWRITE : engine_method(c->stx.stx_size);
	for (unsigned i = 0; i < c->nlanes && copy_lane_more(c); i++)
		copy_lane_start(c, &c->lanes[i]);
}

void
copy_lane_run(struct eop *op)
{
	engine_submit(op);
}

void
copy_lane_drop(struct eop *op)
{
	struct copy *c = op->owner;

	c->busy--;
	c->ck.moving &= ~(1ULL << (op - c->lanes));
	copy_error(c, -ECANCELED, "copy of '%s' cancelled", c->srcpath);
	if (c->busy == 0)
		copy_step_done(&c->step, 0);
}

/* A transfer of len bytes of data ended with res: count it, or say what went wrong. */
static void
copy_lane_result(struct copy *c, int res, uint64_t len)
{
	if (res < 0) {
		copy_error(c, res, "cannot copy '%s' to '%s'", c->srcpath, c->dstpath);
		return;
	}
	c->copied += (uint64_t)res;
	c->progress += (uint64_t)res;
	if ((uint64_t)res < len)	/* EOF before the size statx gave */
		copy_error(c, -EAGAIN, "'%s' shrank while being copied", c->srcpath);
}

/*
 * A lane's chunk is copied (EOP_COPY), and under write behind (see
 * job_write_behind) the chunk of a bulk file is then pushed to the disk
 * (EOP_WRITEBACK, in the same lane slot) before the lane goes on.
 *
 * Why write behind: a bulk copy otherwise leaves gigabytes of dirty pages
 * for the kernel's writeback to flush in bursts, and on ext4 a journal
 * commit waits for the data of the files it allocated blocks for; every
 * small job's file creation and link waits behind such a commit.
 * Starting the writeback of each chunk as it is written keeps the dirty
 * data, and so each commit, small, and paces bulk copies to the disk.
 * It costs a lone copy speed (README.md has the numbers): the default,
 * auto, writes behind only while other jobs share the daemon.
 */
static void
copy_lane_done(struct eop *op, int res)
{
	struct copy	*c = op->owner;
	struct job	*job = c->job;

	if (op->type == EOP_COPY) {
		copy_lane_result(c, res, op->len);
		copy_apply(c);
		c->ck.moving &= ~(1ULL << (op - c->lanes));
		copy_resume_tick(c);
		if (res > 0 && op->bulk && !op->stream && !c->err && job_write_behind()) {
			op->type = EOP_WRITEBACK;
			op->len = (uint64_t)res;
			engine_submit(op);
			return;
		}
	}
	/* A failed writeback is only advice lost: the data is in the page
	 * cache, and a real write error shows at fsync or in the log.
	 * The job hears first: it may hand on or drop this copy's parked
	 * chunks, which must not find the copy idle while this lane counts. */
	job_lane_end(job);
	c->busy--;
	if (job->cancelling)
		copy_error(c, -ECANCELED, "copy of '%s' cancelled", c->srcpath);
	if (!c->err && copy_lane_more(c) && copy_resume_holds(c)) {
		c->ck.held |= 1ULL << (op - c->lanes);	/* the sync holds busy up */
		return;
	}
	if (!c->err && copy_lane_more(c)) {
		copy_lane_start(c, op);
		return;
	}
	if (c->busy == 0)
		copy_step_done(&c->step, 0);
}

/* The checkpoint's sync is done: the lanes it held go on (or stay ended). */
void
copy_lane_release(struct copy *c)
{
	for (unsigned i = 0; i < c->nlanes; i++) {
		if (!(c->ck.held & (1ULL << i)))
			continue;
		c->ck.held &= ~(1ULL << i);
		if (!c->err && !c->job->cancelling && copy_lane_more(c))
			copy_lane_start(c, &c->lanes[i]);
	}
}

struct eop *
copy_lane_allocate_op(struct copy *c)
{
	return copy_size_op(c, EOP_ALLOCATE);
}

enum copy_state
copy_lane_on_allocate(struct copy *c, int res)
{
	if (res == -EOPNOTSUPP || res == -ENOSYS || res == -EINVAL)
		c->fs |= CF_NO_ALLOCATE;	/* this filesystem cannot: stop asking */
	else if (res < 0) {
		copy_error(c, res, "cannot allocate '%s'", c->dstpath);
		return CS_END;
	} else
		c->mapped = true;
	return copy_lane_plan(c);
}

/*
 * The data step ended. Lanes counted their chunks as they ended (res is
 * 0 then); a pool thread's single transfer (no lanes) is counted here.
 */
enum copy_state
copy_lane_on_data(struct copy *c, int res)
{
	if (c->lanes == NULL) {
		copy_lane_result(c, res, c->step.len);
		c->method = c->step.by_rw ? M_READWRITE : M_COPY_FILE_RANGE;
	}
	return copy_publish_next(c, CS_DATA);
}
