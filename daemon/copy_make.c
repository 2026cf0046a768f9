/*
 * Making the copy (copy.c's CS_CREATE .. CS_EXTENTS): its temporary, or
 * the thing itself (a symlink, a special file, a hard link), then a
 * clone of the data, or the data extents of a sparse file for the lanes
 * (copy_lane.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "copy_int.h"
#include "engine.h"
#include "hlink.h"
#include "job.h"
#include "log.h"
#include "path.h"
#include "tree.h"

#define COPY_MAX_EXTENTS	256	/* more, and a sparse file is copied whole */

/*
 * A hard link's target in a new directory may have been renamed into
 * place with it while the link was on its way (the rename's completion
 * may not even be in yet): a path through a temporary name, or one that
 * has changed, is worth another try.
 */
static bool
copy_make_link_moved(const struct copy *c)
{
	return c->link_path && (strcmp(c->link_path, c->link_to->rel) != 0 ||
	    strstr(c->link_path, PATH_TEMP_PREFIX) != NULL);
}

/* Make the new thing under a temporary name, or none (c->nameless). */
struct eop *
copy_make_op(struct copy *c)
{
	struct job	*job = c->job;
	struct eop	*op;
	bool		 taken = copy_resume_take(c);

	/* Linking in cannot replace a file: a named temporary then; nor
	 * can a checkpointed one be found again after a crash. */
	c->nameless = c->kind == K_FILE && !c->direct && !(c->fs & CF_NO_TMPFILE) &&
	    !c->dst_exists && !c->ck.on;
	if (!c->nameless && !c->direct && !taken)
		copy_new_temp_name(c);
	switch (c->kind) {
	case K_FILE:
		op = copy_op(c, EOP_OPEN);
		/* Read and write: a mapping needs both (copy_lane_map_may). */
		op->flags = c->nameless ? O_RDWR | O_TMPFILE | O_CLOEXEC :
		    c->ck.taken ? O_RDWR | O_NOFOLLOW | O_CLOEXEC :
		    O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
		/* The daemon's umask is 0; the caller's applies, as with cp.
		 * Preserved, the exact mode comes with the metadata, after
		 * the owner; a named temporary is private until then, and a
		 * nameless one, or one in a directory only its owner may
		 * enter, can be opened by nobody else, so it gets the
		 * permission bits at once (one change less to make). One
		 * that replaces a file is private until it has that file's
		 * (copy_publish_keeps_dst). */
		op->mode = copy_publish_keeps_dst(c) ? 0600 :
		    !request_keeps(&job->req, PRESERVE_MODE) ?
		    request_new_mode(&job->req, c->stx.stx_mode) :
		    c->nameless || c->direct ? c->stx.stx_mode & 0777 : 0600;
		if (c->ck.taken)
			op->mode = 0;	/* opened, not made: openat2 refuses a mode */
		op->resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
		break;
	case K_SYMLINK:
		op = copy_op(c, EOP_SYMLINK);
		op->path2 = c->target;
		break;
	case K_SPECIAL:
		op = copy_op(c, EOP_MKNOD);
		op->mode = (c->stx.stx_mode & S_IFMT) | (request_keeps(&job->req, PRESERVE_MODE) ?
		    c->stx.stx_mode & 07777 : request_new_mode(&job->req, c->stx.stx_mode));
		op->off = makedev(c->stx.stx_rdev_major, c->stx.stx_rdev_minor);
		break;
	case K_HARDLINK:
	default:
		op = copy_op(c, EOP_LINK);
		if (c->snapfd >= 0 || c->link_to == NULL) {
			copy_snap_link(c, op);	/* the snapshot's file, or (cp -l) the source */
			break;
		}
		op->dirfd2 = job->dirfd;
		/* Its own copy: link_to->rel changes when a new directory on
		 * the way is renamed into place (hlink_moved). */
		free(c->link_path);
		op->path2 = c->link_path = strdup(c->link_to->rel);
		break;
	}
	op->path = c->nameless ? "." : copy_made_path(c);
	return op;
}

/* The whole file's data, shared: FICLONE, of the source or of its match in a snapshot. */
struct eop *
copy_make_clone_op(struct copy *c)
{
	struct eop *op = copy_size_op(c, EOP_CLONE);

	if (c->snap_clone)
		op->fd = c->snapfd;
	return op;
}

struct eop *
copy_make_extents_op(struct copy *c)
{
	struct eop *op = copy_op(c, EOP_EXTENTS);

	op->fd = c->srcfd;
	op->ext = c->ext;
	op->len = COPY_MAX_EXTENTS;
	return op;
}

/* Without a clone: a sparse file's data extents first, the holes stay holes. */
static enum copy_state
copy_make_sparse_next(struct copy *c)
{
	/* --sparse=never: the holes are read as zeros and written. */
	if ((uint64_t)c->stx.stx_blocks * 512 < c->stx.stx_size &&
	    copy_sparse(c) != SPARSE_NEVER &&
	    (c->ext = calloc(COPY_MAX_EXTENTS, sizeof(*c->ext))) != NULL)
		return CS_EXTENTS;
	return copy_lane_plan(c);
}

enum copy_state
copy_make_on_create(struct copy *c, int res)
{
	const struct job *job = c->job;

	if (c->ck.taken && res == -ENOENT)
		return copy_resume_lost(c, res);
	if (c->nameless && (res == -EOPNOTSUPP || res == -EISDIR)) {
		c->fs |= CF_NO_TMPFILE;		/* this filesystem cannot: named ones */
		log_info("job %llu: no O_TMPFILE beside '%s' (%s): named temporaries",
		    (unsigned long long)job->id, c->dstpath, strerror(-res));
		return CS_CREATE;
	}
	if (res == -EEXIST && !c->direct && ++c->create_tries < 4)
		return CS_CREATE;	/* a temporary name collided */
	if (res == -ENOENT && c->kind == K_HARDLINK && copy_make_link_moved(c) &&
	    ++c->create_tries < 4)
		return CS_CREATE;	/* to where the target is now */
	if (res < 0 && c->snapfd >= 0 && c->kind == K_HARDLINK)
		return copy_snap_fall_back(c);
	if (res < 0 && c->kind == K_HARDLINK && c->link_to == NULL)
		copy_error(c, res, "cannot create hard link '%s' to '%s'", c->dstpath, c->srcpath);
	else if (res < 0)
		copy_error(c, res, "cannot create '%s'", c->dstpath);
	if (res < 0)
		return CS_END;
	c->created = !c->nameless;
	if (c->kind != K_FILE) {
		c->method = M_LINKS;
		if (c->kind == K_HARDLINK && (c->snapfd >= 0 || c->link_to == NULL))
			c->progress += c->stx.stx_size;	/* its bytes are there */
		return copy_publish_next(c, CS_CREATE);
	}
	c->tmpfd = res;
	if (job->req.attributes_only)
		return copy_lane_plan(c);	/* no data: an empty file */
	if (c->ck.taken)
		return CS_RESUME;
	if (c->snap_clone || (job->req.reflink != REFLINK_NEVER && !(c->fs & CF_NO_CLONE) &&
	    c->stx.stx_size > 0))
		return CS_CLONE;
	return copy_make_sparse_next(c);
}

enum copy_state
copy_make_on_clone(struct copy *c, int res)
{
	if (res < 0 && c->snap_clone) {
		/* Not from the snapshot: from the source, as without one. */
		engine_close(c->snapfd, c->job->cred);
		c->snapfd = -1;
		c->snap_clone = false;
		return c->job->req.reflink != REFLINK_NEVER && !(c->fs & CF_NO_CLONE) ?
		    CS_CLONE : copy_make_sparse_next(c);
	}
	if (res == 0) {
		c->method = M_REFLINK;
		c->progress += c->stx.stx_size;
		return copy_publish_next(c, CS_DATA);
	}
	if (c->job->req.reflink == REFLINK_ALWAYS) {
		copy_error(c, res, "cannot clone '%s' to '%s'", c->srcpath, c->dstpath);
		return CS_END;
	}
	c->fs |= CF_NO_CLONE;	/* this filesystem cannot: stop asking */
	return copy_make_sparse_next(c);
}

enum copy_state
copy_make_on_extents(struct copy *c, int res)
{
	uint64_t data = 0;

	if (res < 0) {		/* too many extents, or no SEEK_DATA: copy it all */
		free(c->ext);
		c->ext = NULL;
	} else {
		c->next_nr = (unsigned)res;
		for (int i = 0; i < res; i++)
			data += c->ext[i].len;
		c->progress += c->stx.stx_size - data;	/* the holes */
	}
	return copy_lane_plan(c);
}
