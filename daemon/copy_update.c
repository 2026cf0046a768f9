/*
 * Copy's update modes in the chain (copy.c): a file in the way that the
 * mode keeps (update.c decides), compared first with checksum, a
 * symlink in the way kept by its target, a kept file's attributes
 * brought up to date (archive), and what a job run again after a crash
 * keeps of its first run. A directory's up-to-date files are mostly
 * kept before they become items at all (tree_quick.c); what reaches the
 * chain is decided here by the same rules.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "copy_int.h"
#include "engine.h"
#include "hlink.h"
#include "item.h"
#include "job.h"
#include "update.h"

/* Run again after a crash or restart, with no_clobber's own rule off. */
static bool
copy_update_resumed(const struct job *job)
{
	return job->restarts > 0 && !job->req.no_clobber;
}

/*
 * Another name of a link group whose copy was kept (hlink.h), found
 * linked to that very copy already: nothing to do.
 */
static bool
copy_update_linked(const struct copy *c)
{
	const struct hlink *h = c->link_to;

	return c->kind == K_HARDLINK && h && h->kept && c->dstx.stx_ino == h->kept_ino &&
	    c->dstx.stx_dev_major == h->kept_major && c->dstx.stx_dev_minor == h->kept_minor;
}

/*
 * The update mode decides for a regular file in the way of a regular
 * file only: anything else in the way (a symlink, a device) is replaced
 * or written into as without it.
 */
/* A FIFO or device in the way of one of its kind and number: what it holds is the same. */
static bool
copy_update_same_special(const struct copy *c)
{
	return c->kind == K_SPECIAL &&
	    (c->dstx.stx_mode & S_IFMT) == (c->stx.stx_mode & S_IFMT) &&
	    c->dstx.stx_rdev_major == c->stx.stx_rdev_major &&
	    c->dstx.stx_rdev_minor == c->stx.stx_rdev_minor;
}

bool
copy_update_applies(const struct copy *c)
{
	if (c->job->req.update == UPDATE_ALL && !copy_update_resumed(c->job))
		return false;
	return ((c->kind == K_FILE || copy_update_linked(c)) && !c->dst_link &&
	    S_ISREG(c->dstx.stx_mode)) || copy_update_same_special(c);
}
/* The file in the way is kept: refreshed first when the mode says so. */
enum copy_state
copy_update_keep(struct copy *c)
{
	const struct job *job = c->job;

	c->kept = true;
	c->progress += c->stx.stx_size;		/* its bytes are there */
	if (job->req.archive && update_refreshes(job->req.update))
		return CS_REFRESH;
	return CS_END;
}

enum copy_state
copy_update_next(struct copy *c)
{
	const struct job *job = c->job;

	if (c->kind == K_HARDLINK) {
		c->kept = true;		/* linked already; its bytes were counted */
		return CS_END;
	}
	if (c->kind == K_SPECIAL)	/* no content: kept unless older (cp -u) */
		return job->req.update != UPDATE_OLDER ||
		    update_decide(UPDATE_OLDER, &c->stx, &c->dstx) == UPDATE_KEEP ?
		    copy_update_keep(c) : CS_CREATE;
	if (job->req.update == UPDATE_ALL)	/* resumed: what the first run published stays */
		return update_resumed_keeps(&c->stx, &c->dstx, job->req.archive,
		    job->created_usec) ? copy_update_keep(c) : CS_CREATE;
	switch (update_decide(job->req.update, &c->stx, &c->dstx)) {
	case UPDATE_KEEP:
		return copy_update_keep(c);
	case UPDATE_COMPARE:
		c->checking = true;
		return CS_OPEN_DST;
	default:
		return CS_CREATE;
	}
}

/* checksum: the file in the way is kept if it is the same, else replaced. */
enum copy_state
copy_update_on_check(struct copy *c, int res)
{
	engine_close(c->tmpfd, c->job->cred);
	c->tmpfd = -1;
	c->checking = false;
	if (res < 0) {
		copy_error(c, res, "cannot compare '%s' with '%s'", c->dstpath, c->srcpath);
		return CS_END;
	}
	return res == 0 ? copy_update_keep(c) : CS_CREATE;
}

/*
 * archive, a kept file: the source's attributes where they differ, in a
 * pool thread (several calls), never through a symlink put in its place
 * meanwhile. With dry_run it only looks.
 */
static long
copy_update_refresh_run(struct eop *op)
{
	struct copy		*c = op->owner;
	/* A symlink or a special file has no fd: by its name. */
	struct update_file	 src = c->srcfd < 0 ?
	    (struct update_file){ item_srcdir(c->item), c->item->src, AT_SYMLINK_NOFOLLOW } :
	    (struct update_file){ c->srcfd, "", AT_EMPTY_PATH };
	struct update_file	 dst = { op->dirfd, c->item->name, AT_SYMLINK_NOFOLLOW };

	return update_refresh(&src, &c->stx, &dst, &c->dstx, c->job->req.dry_run);
}

struct eop *
copy_update_refresh_op(struct copy *c)
{
	struct eop *op = copy_op(c, EOP_CALL);

	op->run = copy_update_refresh_run;
	return op;
}

enum copy_state
copy_update_on_refresh(struct copy *c, int res)
{
	if (res < 0) {
		copy_error(c, res, "cannot set the attributes of '%s'", c->dstpath);
		return CS_END;
	}
	c->refreshed = res > 0;
	return CS_END;
}

/* A symlink in the way whose target is not the source's: replaced, or with no_clobber kept. */
static enum copy_state
copy_update_link_differs(struct copy *c)
{
	return c->job->req.no_clobber ? copy_dst_kept(c) : CS_CREATE;
}

/*
 * A symlink's content is its target: quick and checksum keep one that
 * has the source's (a target of another length differs without a look),
 * and so does cp -l (which recreates symlinks: copy_dst_symlink_again).
 */
enum copy_state
copy_update_link(struct copy *c)
{
	enum update_mode mode = c->job->req.update;

	if (mode == UPDATE_QUICK || mode == UPDATE_CHECKSUM || c->job->req.hard_link) {
		if (c->dstx.stx_size != strlen(c->target) ||
		    (c->link_path = malloc(PATH_MAX)) == NULL)
			return copy_update_link_differs(c);
		return CS_READLINK_DST;
	}
	return update_decide(mode, &c->stx, &c->dstx) == UPDATE_KEEP ? copy_update_keep(c) : CS_CREATE;
}

struct eop *
copy_update_readlink_op(struct copy *c)
{
	struct eop *op = copy_op(c, EOP_READLINK);

	op->path = c->item->name;
	op->buf = c->link_path;
	op->len = PATH_MAX - 1;
	return op;
}

enum copy_state
copy_update_on_readlink(struct copy *c, int res)
{
	bool same = res >= 0 && (size_t)res == strlen(c->target) &&
	    memcmp(c->link_path, c->target, (size_t)res) == 0;

	free(c->link_path);
	c->link_path = NULL;
	return same ? copy_update_keep(c) : copy_update_link_differs(c);
}
