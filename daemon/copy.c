/*
 * One file's chain: open the source, statx it, look at the destination,
 * create a hidden temporary beside it, move the data in lanes, fsync if
 * asked, rename into place. Every step is an engine operation made with
 * the caller's credentials; a failure at any step removes the temporary.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "copy.h"
#include "cred.h"
#include "engine.h"
#include "job.h"
#include "log.h"
#include "path.h"

enum copy_state {
	CS_OPEN_SRC, CS_STAT_SRC, CS_STAT_DST, CS_CREATE, CS_DATA, CS_FSYNC,
	CS_RENAME, CS_UNLINK,
};

struct copy {
	struct job	*job;
	enum copy_state	 state;
	const char	*src;
	char		*dst;		/* full destination path, for messages */
	char		 name[NAME_MAX + 1];
	char		 tmp[64];
	int		 srcfd, tmpfd;
	bool		 created;
	unsigned	 create_tries;
	struct statx	 stx, dstx;
	struct eop	 step;
	struct eop	*lanes;
	unsigned	 busy;		/* lanes in flight */
	uint64_t	 next_off, copied;
	int		 err;
	char		*msg;
};


static void copy_step_done(struct eop *, int);
static void copy_lane_done(struct eop *, int);

static void
copy_error(struct copy *c, int err, const char *fmt, ...)
{
	va_list	 ap;
	char	*what = NULL;

	if (c->err)
		return;		/* the first error is the one reported */
	c->err = err;
	va_start(ap, fmt);
	if (vasprintf(&what, fmt, ap) < 0)
		what = NULL;
	va_end(ap);
	if (asprintf(&c->msg, "%s: %s", what ? what : "error", strerror(-err)) < 0)
		c->msg = NULL;
	free(what);
}

static void
copy_free(struct copy *c)
{
	if (c->srcfd >= 0)
		close(c->srcfd);
	if (c->tmpfd >= 0)
		close(c->tmpfd);
	free(c->lanes);
	free(c->dst);
	free(c->msg);
	free(c);
}

static void
copy_finish(struct copy *c)
{
	job_file_done(c->job, c->err, c->msg);
	copy_free(c);
}

/* Prepare the next step: an operation on the destination directory. */
static struct eop *
copy_op(struct copy *c, enum copy_state state, enum eop_type type)
{
	struct eop *op = &c->step;

	memset(op, 0, sizeof(*op));
	c->state = state;
	op->type = type;
	op->cred = c->job->cred;
	op->done = copy_step_done;
	op->owner = c;
	op->dirfd = c->job->dirfd;
	op->interactive = c->job->req.prio == PRIO_INTERACTIVE;
	return op;
}

static void
copy_create(struct copy *c)
{
	struct eop	*op = copy_op(c, CS_CREATE, EOP_OPEN);
	uint64_t	 rnd;

	if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != sizeof(rnd))
		rnd = (uint64_t)random() << 32 | (uint64_t)random();
	path_temp_name(c->tmp, sizeof(c->tmp), c->job->id, rnd);
	op->path = c->tmp;
	op->flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
	/* The daemon's umask is 0; the caller's applies, as with cp. */
	op->mode = c->stx.stx_mode & 0777 & ~c->job->req.umask;
	op->resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
	engine_submit(op);
}

/*
 * The next chunk of the file, in lane op. A chunk is small enough for a
 * bandwidth limit to be kept smoothly (an eighth of a second's worth).
 */
static void
copy_lane_start(struct copy *c, struct eop *op)
{
	struct job *job = c->job;
	uint64_t chunk = cpd_conf->engine.chunk_size;
	uint64_t left = c->stx.stx_size - c->next_off;

	if (job->req.bwlimit && chunk > job->req.bwlimit / 8)
		chunk = job->req.bwlimit / 8 < 4096 ? 4096 : job->req.bwlimit / 8;
	memset(op, 0, sizeof(*op));
	op->type = EOP_COPY;
	op->cred = job->cred;
	op->done = copy_lane_done;
	op->owner = c;
	op->fd = c->srcfd;
	op->fd2 = c->tmpfd;
	op->off = c->next_off;
	op->len = left < chunk ? left : chunk;
	op->bulk = c->stx.stx_size >= cpd_conf->engine.async_threshold;
	op->interactive = job->req.prio == PRIO_INTERACTIVE;
	c->next_off += op->len;
	c->busy++;
	if (job_lane_begin(job, op))
		engine_submit(op);
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
	copy_error(c, -ECANCELED, "copy of '%s' cancelled", c->src);
	if (c->busy == 0)
		copy_step_done(&c->step, 0);
}

static void
copy_data(struct copy *c)
{
	uint64_t size = c->stx.stx_size, chunk = cpd_conf->engine.chunk_size;
	unsigned lanes = cpd_conf->engine.lanes;

	c->state = CS_DATA;
	if (size == 0) {
		copy_step_done(&c->step, 0);
		return;
	}
	if ((size + chunk - 1) / chunk < lanes)
		lanes = (unsigned)((size + chunk - 1) / chunk);
	if ((c->lanes = calloc(lanes, sizeof(*c->lanes))) == NULL) {
		copy_error(c, -ENOMEM, "cannot copy '%s'", c->src);
		copy_step_done(&c->step, 0);
		return;
	}
	if (c->job->method == NULL)
		c->job->method = engine_method(size);
	for (unsigned i = 0; i < lanes; i++)
		copy_lane_start(c, &c->lanes[i]);
}

static void
copy_lane_done(struct eop *op, int res)
{
	struct copy *c = op->owner;

	c->busy--;
	job_lane_end(c->job);
	if (res < 0)
		copy_error(c, res, "cannot copy '%s' to '%s'", c->src, c->dst);
	else {
		c->copied += (uint64_t)res;
		job_progress(c->job, (uint64_t)res);
		if ((uint64_t)res < op->len)	/* EOF before the size statx gave */
			copy_error(c, -EIO, "'%s' shrank while being copied", c->src);
	}
	if (c->job->cancelling)
		copy_error(c, -ECANCELED, "copy of '%s' cancelled", c->src);
	if (!c->err && c->next_off < c->stx.stx_size) {
		copy_lane_start(c, op);
		return;
	}
	if (c->busy == 0)
		copy_step_done(&c->step, 0);
}

static void
copy_cleanup(struct copy *c)
{
	struct eop *op;

	if (!c->created) {
		copy_finish(c);
		return;
	}
	op = copy_op(c, CS_UNLINK, EOP_UNLINK);
	op->path = c->tmp;
	engine_submit(op);
}

/* The result of the step just finished; the start of the next. */
static void
copy_step_done(struct eop *done, int res)
{
	struct copy	*c = done->owner;
	struct job	*job = c->job;
	struct eop	*op;

	if (job->cancelling && res >= 0 && c->state != CS_UNLINK && c->state != CS_RENAME)
		copy_error(c, -ECANCELED, "copy of '%s' cancelled", c->src);
	switch (c->state) {
	case CS_OPEN_SRC:
		if (res < 0) {
			copy_error(c, res, "cannot open '%s'", c->src);
			break;
		}
		c->srcfd = res;
		if (c->err)
			break;
		op = copy_op(c, CS_STAT_SRC, EOP_STATX);
		op->dirfd = c->srcfd;
		op->path = "";
		op->flags = AT_EMPTY_PATH;
		op->stx = &c->stx;
		engine_submit(op);
		return;
	case CS_STAT_SRC:
		if (res < 0)
			copy_error(c, res, "cannot stat '%s'", c->src);
		else if (S_ISDIR(c->stx.stx_mode))
			copy_error(c, -EISDIR, "omitting directory '%s'", c->src);
		else if (!S_ISREG(c->stx.stx_mode))
			copy_error(c, -EINVAL, "'%s' is not a regular file", c->src);
		if (c->err)
			break;
		op = copy_op(c, CS_STAT_DST, EOP_STATX);
		op->path = c->name;
		op->stx = &c->dstx;
		engine_submit(op);
		return;
	case CS_STAT_DST:
		if (res == 0) {
			if (c->dstx.stx_ino == c->stx.stx_ino &&
			    c->dstx.stx_dev_major == c->stx.stx_dev_major &&
			    c->dstx.stx_dev_minor == c->stx.stx_dev_minor)
				copy_error(c, -EINVAL, "'%s' and '%s' are the same file",
				    c->src, c->dst);
			else if (S_ISDIR(c->dstx.stx_mode))
				copy_error(c, -EISDIR,
				    "cannot overwrite directory '%s' with a file", c->dst);
			else if (job->req.no_clobber)
				copy_error(c, -EEXIST, "'%s' not replaced (no-clobber)", c->dst);
		} else if (res != -ENOENT)
			copy_error(c, res, "cannot access '%s'", c->dst);
		if (c->err)
			break;
		copy_create(c);
		return;
	case CS_CREATE:
		if (res == -EEXIST && ++c->create_tries < 4) {
			copy_create(c);		/* a temporary name collided */
			return;
		}
		if (res < 0) {
			copy_error(c, res, "cannot create a file beside '%s'", c->dst);
			break;
		}
		c->tmpfd = res;
		c->created = true;
		if (c->err)
			break;
		copy_data(c);
		return;
	case CS_DATA:
		if (c->err)
			break;
		if (job->req.sync) {
			op = copy_op(c, CS_FSYNC, EOP_FSYNC);
			op->fd = c->tmpfd;
			engine_submit(op);
			return;
		}
		/* FALLTHROUGH */
	case CS_FSYNC:
		/* The first fsync error is final: the data may already be lost. */
		if (res < 0)
			copy_error(c, res, "cannot write '%s'", c->dst);
		if (c->err)
			break;
		op = copy_op(c, CS_RENAME, EOP_RENAME);
		op->path = c->tmp;
		op->path2 = c->name;
		op->flags = job->req.no_clobber ? RENAME_NOREPLACE : 0;
		engine_submit(op);
		return;
	case CS_RENAME:
		if (res == -EEXIST || res == -ENOTEMPTY)
			copy_error(c, res, "'%s' not replaced", c->dst);
		else if (res == -EISDIR)
			copy_error(c, res, "cannot overwrite directory '%s' with a file", c->dst);
		else if (res < 0)
			copy_error(c, res, "cannot rename into '%s'", c->dst);
		else
			c->created = false;	/* published: it is not ours to remove */
		break;
	case CS_UNLINK:
		if (res < 0)
			log_warnx("job %llu: cannot remove temporary '%s' beside '%s': %s",
			    (unsigned long long)job->id, c->tmp, c->dst, strerror(-res));
		copy_finish(c);
		return;
	}
	if (c->err)
		copy_cleanup(c);
	else
		copy_finish(c);
}

int
copy_start(struct job *job, const char *src, const char *name)
{
	struct copy	*c;
	struct eop	*op;
	const char	*dest = job->req.destination;
	size_t		 dlen = strlen(dest);

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -ENOMEM;
	c->job = job;
	c->src = src;
	c->srcfd = c->tmpfd = -1;
	snprintf(c->name, sizeof(c->name), "%s", name);
	if (!job->into_dir)
		c->dst = strdup(dest);
	else if (asprintf(&c->dst, "%.*s/%s", (int)(dlen > 1 && dest[dlen - 1] == '/' ?
	    dlen - 1 : dlen), dest, name) < 0)
		c->dst = NULL;
	if (c->dst == NULL) {
		free(c);
		return -ENOMEM;
	}
	op = copy_op(c, CS_OPEN_SRC, EOP_OPEN);
	op->dirfd = AT_FDCWD;
	op->path = c->src;
	/* O_NONBLOCK: opening a FIFO must not wait for a writer. */
	op->flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
	op->resolve = RESOLVE_NO_MAGICLINKS;
	engine_submit(op);
	return 0;
}
