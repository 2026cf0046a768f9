/*
 * cp's own ways of a copy, beside copying a file's data: -s (a symbolic
 * link to the source instead), --attributes-only onto a file (its data
 * kept), and -d's symlink onto the very file it leads to (refused).
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "copy_int.h"
#include "engine.h"
#include "item.h"
#include "job.h"
#include "path.h"

/*
 * cp -s: the source is not read, only named (c->target): by its path,
 * or (symlink_relative) by its path from the link's directory; 0 or
 * -errno, reported.
 */
int
copy_cp_symlink(struct copy *c)
{
	char	dir[PATH_MAX];
	int	rc = 0;

	c->kind = K_SYMLINK;
	if (!c->job->req.symlink_relative)
		c->target = strdup(c->srcpath);
	else if ((c->target = malloc(PATH_MAX)) != NULL &&
	    ((rc = path_dirname(c->dstpath, dir, sizeof(dir))) < 0 ||
	    (rc = path_relative(dir, c->srcpath, c->target, PATH_MAX)) < 0)) {
		copy_error(c, rc, "cannot make a relative path to '%s' from '%s'", c->srcpath, dir);
		return rc;
	}
	if (c->target == NULL) {
		copy_error(c, -ENOMEM, "cannot copy '%s'", c->srcpath);
		return -ENOMEM;
	}
	return 0;
}

/*
 * cp --attributes-only, something in the way: a regular file of a file
 * is given the attributes in place (opened as by c->into); cp makes
 * nothing of anything else without --remove-destination.
 */
enum copy_state
copy_cp_attributes_only(struct copy *c)
{
	if (c->kind == K_FILE && S_ISREG(c->dstx.stx_mode) && !c->dst_link) {
		c->into = true;
		return CS_OPEN_DST;
	}
	copy_error(c, -EEXIST, "cannot create '%s'", c->dstpath);
	return CS_END;
}

/* A symlink source, followed: is it the file in the way? */
struct eop *
copy_cp_stat_target_op(struct copy *c)
{
	struct eop *op = copy_op(c, EOP_STATX);

	op->dirfd = item_srcdir(c->item);
	op->path = c->item->src;
	op->flags = 0;
	op->stx = &c->ttx;
	return op;
}

/*
 * cp -d symlink file, where the symlink leads to that file: the link in
 * its place would lead to itself and the file's data would be gone. cp
 * refuses it as "the same file", unless a backup keeps the file; with
 * -l it has nothing to do. Another file in the way of -l without -f
 * stays, and the copy fails (no_clobber).
 */
enum copy_state
copy_cp_on_stat_target(struct copy *c, int res)
{
	const struct job_request *req = &c->job->req;

	if (res == 0 && copy_same_file(&c->ttx, &c->dstx)) {
		if (req->hard_link) {
			c->kept = true;
			return CS_END;
		}
		copy_error(c, -EINVAL, "'%s' and '%s' are the same file", c->srcpath, c->dstpath);
		return CS_END;
	}
	return req->hard_link && req->no_clobber ? copy_dst_kept(c) : CS_CREATE;
}
