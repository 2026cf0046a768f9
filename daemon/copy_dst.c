/*
 * What is in a copy's way (copy.c's CS_STAT_DST .. CS_COMPARE): the
 * destination is looked at (through a symlink in the way, once), and
 * then replaced, kept (no_clobber, the update modes), compared with the
 * source (a no_clobber job run again), or written into (a device or a
 * FIFO, as cp does).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "copy_int.h"
#include "engine.h"
#include "item.h"
#include "job.h"
#include "log.h"
#include "tree.h"

/*
 * A no_clobber job the daemon runs again after a crash or restart may
 * find files it published itself before. It cannot tell them from files
 * that were there before, so it compares: a regular file of the source's
 * size with the same bytes is the copy asked for, and counts as copied
 * (it is left alone, as no_clobber says). Anything else is not replaced.
 */
static bool
copy_dst_may_be_ours(const struct copy *c)
{
	return c->job->restarts > 0 && c->kind == K_FILE && S_ISREG(c->dstx.stx_mode) &&
	    c->dstx.stx_size == c->stx.stx_size;
}

/*
 * In a directory this job has just created nothing can be in the way:
 * no need to look. (Someone racing to create the name makes the link or
 * rename fail, EEXIST with no_clobber or EISDIR, not clobber it.)
 */
static bool
copy_dst_is_new(const struct copy *c)
{
	return c->item->parent && !c->item->parent->existed;
}

/*
 * dry_run with delete: an entry of another kind in the copy's way was
 * told deleted by its directory's delete pass (tree_delete.c), not
 * removed: the copy is told as it would be once it were gone.
 */
static bool
copy_dst_told_deleted(const struct copy *c)
{
	const struct job_request *req = &c->job->req;

	return req->dry_run && req->delete && c->item->parent && c->item->parent->existed &&
	    (S_ISDIR(c->dstx.stx_mode) || (S_ISLNK(c->dstx.stx_mode) && c->kind != K_SYMLINK));
}

struct eop *
copy_dst_stat_op(struct copy *c)
{
	struct eop *op = copy_op(c, EOP_STATX);

	op->path = c->item->name;
	op->stx = &c->dstx;
	/* A symlink in the way is seen first, and only then looked through
	 * (one step more, only for a symlink): a dangling one is refused,
	 * as cp does; another is replaced, unless it leads to a directory
	 * or to the source itself. */
	op->flags = c->dst_link ? 0 : AT_SYMLINK_NOFOLLOW;
	return op;
}

/* The file found in the way: to compare with (no_clobber), or to write into (c->into). */
struct eop *
copy_dst_open_op(struct copy *c)
{
	struct eop *op = copy_op(c, EOP_OPEN);

	op->path = c->item->name;
	op->flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
	op->resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
	/* O_NONBLOCK: a FIFO without a reader fails ENXIO at once instead
	 * of holding the copy forever (see copy_into_ready). */
	if (c->into)
		op->flags = O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
	return op;
}

struct eop *
copy_dst_compare_op(struct copy *c)
{
	return copy_size_op(c, EOP_COMPARE);
}

/*
 * cp writes into a device or a FIFO found in the way of a file, in every
 * mode. Not one behind a symlink: that is replaced, as any symlink in
 * the way (a symlink planted to a disk must not make a copy write it).
 */
static bool
copy_dst_is_stream(const struct copy *c)
{
	mode_t m = c->dstx.stx_mode;

	return c->kind == K_FILE && !c->dst_link && (S_ISCHR(m) || S_ISBLK(m) || S_ISFIFO(m));
}

/* no_clobber (cp -n, or -l and -s without -f) and something in the way: it stays, and the file fails. */
enum copy_state
copy_dst_kept(struct copy *c)
{
	copy_error(c, -EEXIST, "'%s' not replaced (no-clobber)", c->dstpath);
	return CS_END;
}

/*
 * cp -l, a symlink source (recreated, not linked: cpd-client(1)) and in
 * the way a symlink with the source's target (what an earlier run made,
 * kept as cp keeps the link it made: copy_update_link), or the very file
 * the source leads to (copy_cp_on_stat_target): nothing to do. Looked at
 * before no_clobber refuses what is in the way.
 */
static bool
copy_dst_symlink_again(const struct copy *c)
{
	return c->job->req.hard_link && c->kind == K_SYMLINK &&
	    (S_ISLNK(c->dstx.stx_mode) || S_ISREG(c->dstx.stx_mode));
}

/*
 * cp -l, and in the way is the source's own inode (a name linked by an
 * earlier run, as a re-run of cp -al finds every file, or the source
 * itself): what the link would make is there already. cp does nothing
 * and succeeds; so does cpd, with -f or -b too (but cp -bfl F F).
 */
static bool
copy_dst_is_linked(const struct copy *c)
{
	const struct job_request *req = &c->job->req;

	/* cp -bfl F F: F is kept under its backup name, and linked again. */
	if (req->backup_suffix && req->force && strcmp(c->srcpath, c->dstpath) == 0)
		return false;
	return c->kind == K_HARDLINK && c->link_to == NULL && !c->dst_link &&
	    copy_same_file(&c->dstx, &c->stx);
}

/*
 * The source's own inode in the way of a copy: cp refuses it as "the
 * same file", unless it can keep the data. A backup (-b) or
 * --remove-destination keep it under the source's name when the two are
 * names of one file (a hard link); a backup with -f keeps it under the
 * backup's name even when they are the very same name. cpd reads from
 * the source it has open in any case: what cp refuses, it refuses too.
 * Two names of one file: more than one link, and two paths.
 */
static bool
copy_dst_same_file_ok(const struct copy *c)
{
	const struct job_request *req = &c->job->req;
	bool same_name = strcmp(c->srcpath, c->dstpath) == 0;
	bool two_names = c->stx.stx_nlink > 1 && !same_name;
	/* One link and two paths: a symlink given as the source leads to the file. */
	bool through_link = c->stx.stx_nlink <= 1 && !same_name && !c->dst_link;

	return c->kind == K_FILE && ((req->backup_suffix && req->force && !through_link) ||
	    ((req->backup_suffix || req->remove_destination) && two_names));
}

enum copy_state
copy_dst_on_stat(struct copy *c, int res)
{
	const struct job *job = c->job;

	if (res == 0 && !c->dst_link && copy_dst_told_deleted(c))
		res = -ENOENT;
	if (res == 0 && c->kind == K_FILE && S_ISLNK(c->dstx.stx_mode) && !c->dst_link &&
	    !request_replaces(&job->req)) {
		c->dst_link = true;
		return CS_STAT_DST;	/* again, through it */
	}
	/*
	 * A symlink in the way that cannot be looked through (a loop): cp -f
	 * removes what it cannot open, and so it is replaced. c->dstx still
	 * holds the link itself (a failed statx writes nothing).
	 */
	if (res == -ELOOP && c->dst_link && job->req.force && S_ISLNK(c->dstx.stx_mode)) {
		c->dst_link = false;
		res = 0;
	}
	c->dst_exists = res == 0;
	if (res == -ENOENT && c->dst_link)
		copy_error(c, res, "not writing through dangling symlink '%s'", c->dstpath);
	else if (res == 0 && copy_dst_is_linked(c)) {
		c->kept = true;
		c->progress += c->stx.stx_size;		/* its bytes are there */
		return CS_END;
	} else if (res == 0) {
		if ((c->kind == K_FILE || job->req.symlink) && copy_same_file(&c->dstx, &c->stx) &&
		    !copy_dst_same_file_ok(c))
			copy_error(c, -EINVAL, "'%s' and '%s' are the same file",
			    c->srcpath, c->dstpath);
		else if (S_ISDIR(c->dstx.stx_mode))
			copy_error(c, -EISDIR,
			    "cannot overwrite directory '%s' with a file", c->dstpath);
		else if (copy_update_applies(c))
			return copy_update_next(c);
		else if (job->req.no_clobber && copy_dst_may_be_ours(c))
			return CS_OPEN_DST;
		else if (job->req.no_clobber && !copy_dst_symlink_again(c))
			return copy_dst_kept(c);
		else if (job->req.attributes_only && !request_replaces(&job->req))
			return copy_cp_attributes_only(c);
		else if (copy_dst_is_stream(c) && !request_replaces(&job->req)) {
			c->into = true;
			return CS_OPEN_DST;
		}
	} else if (res != -ENOENT)
		copy_error(c, res, "cannot access '%s'", c->dstpath);
	if (c->err)
		return CS_END;
	if (c->kind == K_SYMLINK && c->target)
		return CS_CREATE;	/* cp -s: the source's path */
	if (c->kind == K_SYMLINK) {
		if ((c->target = malloc(PATH_MAX)) == NULL) {
			copy_error(c, -ENOMEM, "cannot read link '%s'", c->srcpath);
			return CS_END;
		}
		return CS_READLINK;
	}
	return CS_CREATE;
}

/* Look at the destination, or take it as looked at where nothing can be there. */
enum copy_state
copy_dst_next(struct copy *c)
{
	return copy_dst_is_new(c) ? copy_dst_on_stat(c, -ENOENT) : CS_STAT_DST;
}

/*
 * A FIFO opened without blocking is written to blocking, as cp does:
 * its reader sets the pace, in a worker, never on the loop. What is open
 * must still be what was looked at: a regular file put in its place
 * meanwhile would be written over in place, not replaced. In a pool
 * thread: fstat() asks the file system (a FUSE server that never
 * answers would stop the loop).
 */
static long
copy_dst_into_ready_run(struct eop *op)
{
	struct stat	st;
	int		fl;

	if (fstat(op->fd, &st) < 0 || (fl = fcntl(op->fd, F_GETFL)) < 0 ||
	    fcntl(op->fd, F_SETFL, fl & ~O_NONBLOCK) < 0)
		return -errno;
	return S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) || S_ISFIFO(st.st_mode) ?
	    0 : -EAGAIN;
}

struct eop *
copy_dst_into_ready_op(struct copy *c)
{
	struct eop *op = copy_op(c, EOP_CALL);

	op->fd = c->tmpfd;
	op->run = copy_dst_into_ready_run;
	return op;
}

enum copy_state
copy_dst_on_into_ready(struct copy *c, int res)
{
	if (res < 0) {
		copy_error(c, res, "cannot open '%s' for writing", c->dstpath);
		return CS_END;
	}
	return copy_lane_plan(c);
}

static enum copy_state
copy_dst_on_open_into(struct copy *c, int res)
{
	if (res == -ENXIO)
		copy_error(c, res, "cannot write to '%s': the FIFO has no reader", c->dstpath);
	else if (res < 0)
		copy_error(c, res, "cannot open '%s' for writing", c->dstpath);
	if (c->err)
		return CS_END;
	c->tmpfd = res;		/* closed with the copy; never removed */
	if (copy_in_place(c))
		return copy_publish_next(c, CS_DATA);	/* no data: only the attributes */
	return CS_INTO_READY;
}

enum copy_state
copy_dst_on_open(struct copy *c, int res)
{
	if (c->into)
		return copy_dst_on_open_into(c, res);
	if (res < 0 && c->checking) {
		copy_error(c, res, "cannot open '%s' to compare", c->dstpath);
		return CS_END;
	}
	if (res < 0)
		return copy_dst_kept(c);
	c->tmpfd = res;		/* closed with the copy; never removed */
	return CS_COMPARE;
}

enum copy_state
copy_dst_on_compare(struct copy *c, int res)
{
	if (c->checking)
		return copy_update_on_check(c, res);
	if (res != 0)
		return copy_dst_kept(c);
	/* Byte for byte the copy the job was to make: published by this
	 * job before the daemon stopped (or just the same). Done. */
	log_info("job %llu: '%s' is already a copy of '%s'", (unsigned long long)c->job->id,
	    c->dstpath, c->srcpath);
	c->method = engine_method(c->stx.stx_size);
	c->progress += c->stx.stx_size;
	return CS_END;
}
