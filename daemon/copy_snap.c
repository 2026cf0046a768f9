/*
 * Snapshots (Copy's link_dest and clone_dest): a file about to be made
 * is looked for at its place in earlier snapshots first. The first one
 * found that the caller can open for reading and that matches the
 * source (a regular file of its size and mtime; with archive, of its
 * mode, owner, group and extended attributes too) is hard-linked in
 * (link_dest: the same inode) or cloned (clone_dest: FICLONE, a new
 * inode sharing its blocks) instead of copied.
 *
 * Everything is done as the caller, in a pool thread: opening the file
 * is what proves the caller may read it, and the link is made through
 * the descriptor opened (/proc/self/fd, AT_SYMLINK_FOLLOW), so what is
 * linked is the very inode that was looked at, whatever is renamed in
 * the snapshot meanwhile. The kernel's protected_hardlinks rule applies
 * as to anyone: a file the caller may read but does not own is copied,
 * not linked (EPERM falls back to a copy).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "copy_int.h"
#include "engine.h"
#include "item.h"
#include "job.h"
#include "path.h"
#include "update.h"

bool
copy_snap_may(const struct copy *c)
{
	const struct job_request *req = &c->job->req;

	return c->kind == K_FILE && !c->into && !c->snap_tried &&
	    (req->nlink_dest > 0 || req->nclone_dest > 0);
}

/* In this pool thread: the engine's comparison of the source and fd, 0 when the same. */
static long
copy_snap_same_bytes(const struct copy *c, int fd)
{
	struct eop op = { .type = EOP_COMPARE, .fd = c->srcfd, .fd2 = fd,
	    .len = c->stx.stx_size, .cred = c->job->cred };

	return engine_run(&op);
}

/* A candidate matches the source: what a link or a clone would give is what a copy would. */
static bool
copy_snap_matches(const struct copy *c, int fd, const struct statx *st)
{
	const struct statx	*s = &c->stx;
	struct update_file	 a = { c->srcfd, "", AT_EMPTY_PATH }, b = { fd, "", AT_EMPTY_PATH };

	if (!S_ISREG(st->stx_mode) || st->stx_size != s->stx_size ||
	    st->stx_mtime.tv_sec != s->stx_mtime.tv_sec ||
	    st->stx_mtime.tv_nsec != s->stx_mtime.tv_nsec)
		return false;
	if (c->job->req.archive && ((st->stx_mode & 07777) != (s->stx_mode & 07777) ||
	    st->stx_uid != s->stx_uid || st->stx_gid != s->stx_gid ||
	    update_xattrs_differ(&a, &b) != 0))
		return false;
	/* checksum: the same bytes, not just the same size and mtime. */
	return c->job->req.update != UPDATE_CHECKSUM || copy_snap_same_bytes(c, fd) == 0;
}

/* Open dir/rel as the caller, a regular file not behind a last symlink; -errno. */
static int
copy_snap_open(const char *dir, const char *rel, struct statx *st)
{
	char	path[PATH_MAX];
	int	fd, n;

	n = *rel ? snprintf(path, sizeof(path), "%s/%s", dir, rel) :
	    snprintf(path, sizeof(path), "%s", dir);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	/* O_NONBLOCK: a FIFO put there must not hold the thread. */
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)) < 0)
		return -errno;
	if (statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, st) < 0) {
		close(fd);
		return -errno;
	}
	return fd;
}

/*
 * The file's path in a snapshot: its path from the destination itself.
 * Copied into a directory, that is its path from the job's directory;
 * copied to a new name, the job's directory is the destination's parent,
 * and the first name (the destination's own) goes.
 */
static char *
copy_snap_rel(const struct copy *c)
{
	char	*rel = item_final_rel(c->item), *slash, *rest;

	if (rel == NULL || c->job->into_dir)
		return rel;
	slash = strchr(rel, '/');
	rest = strdup(slash ? slash + 1 : "");
	free(rel);
	return rest;
}

/*
 * EOP_CALL: the first matching candidate's fd, with c->snap_clone set
 * when it came from clone_dest; -ENOENT when none matched.
 */
static long
copy_snap_find_run(struct eop *op)
{
	struct copy			*c = op->owner;
	const struct job_request	*req = &c->job->req;
	struct statx			 st;
	size_t				 n = req->nlink_dest + req->nclone_dest;
	int				 fd;

	if (c->snap_rel == NULL && (c->snap_rel = copy_snap_rel(c)) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		bool		 clone = i >= req->nlink_dest;
		const char	*dir = clone ? req->clone_dest[i - req->nlink_dest] :
		    req->link_dest[i];

		if ((fd = copy_snap_open(dir, c->snap_rel, &st)) < 0)
			continue;
		if (copy_snap_matches(c, fd, &st)) {
			c->snap_clone = clone;
			return fd;
		}
		close(fd);
	}
	return -ENOENT;
}

struct eop *
copy_snap_find_op(struct copy *c)
{
	struct eop *op = copy_op(c, EOP_CALL);

	c->snap_tried = true;
	op->run = copy_snap_find_run;
	return op;
}

enum copy_state
copy_snap_on_find(struct copy *c, int res)
{
	if (res < 0)
		return CS_CREATE;	/* none: copied as usual */
	c->snapfd = res;
	if (!c->snap_clone)
		c->kind = K_HARDLINK;	/* linked in instead of made */
	return CS_CREATE;
}

/*
 * K_HARDLINK of a snapshot: linkat through the descriptor of the file
 * found; or, cp -l, of the source.
 */
void
copy_snap_link(struct copy *c, struct eop *op)
{
	snprintf(c->snap_proc, sizeof(c->snap_proc), "/proc/self/fd/%d",
	    c->snapfd >= 0 ? c->snapfd : c->srcfd);
	op->dirfd2 = AT_FDCWD;
	op->path2 = c->snap_proc;
	op->flags = AT_SYMLINK_FOLLOW;
}

/*
 * The link or the clone failed (another file system, a file the caller
 * may read but not link, protected_hardlinks): the file is copied from
 * its source after all.
 */
enum copy_state
copy_snap_fall_back(struct copy *c)
{
	engine_close(c->snapfd, c->job->cred);
	c->snapfd = -1;
	c->snap_clone = false;
	c->kind = K_FILE;
	return CS_CREATE;
}
