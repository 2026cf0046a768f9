/*
 * A copy after its data: see that the source held still, truncate
 * (sparse), metadata, fsync, verify (copy_verify.c), then link the
 * nameless temporary in, or rename the named one over the destination;
 * and, when the copy failed, remove its temporary. The fsync comes after the metadata so that what
 * sync makes durable is the file as published, mode, owner and times
 * included.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "copy_int.h"
#include "engine.h"
#include "job.h"
#include "log.h"
#include "tree.h"

/*
 * A file that replaces a regular file looks as cp's would, which writes
 * into the old one: the temporary gets the replaced file's owner, group,
 * mode and extended attributes (its ACL) before it is renamed over it,
 * as far as the caller may give them; only times and links preserved,
 * it also takes the source's times. Archive and a preserve of mode,
 * ownership or xattr take the source's (what is left out is a new
 * file's), and remove_destination and backup_suffix none of the old
 * file's. A
 * symlink in the way is what is replaced, not its target: the copy owes
 * the target nothing. A new file costs nothing: only a file found in
 * the way takes this step.
 */
bool
copy_publish_keeps_dst(const struct copy *c)
{
	const unsigned its_own = PRESERVE_BIT(PRESERVE_MODE) | PRESERVE_BIT(PRESERVE_OWNERSHIP) |
	    PRESERVE_BIT(PRESERVE_XATTR);

	return c->kind == K_FILE && c->dst_exists && !c->dst_link && !c->into &&
	    !(c->job->req.preserve & its_own) && !request_replaces(&c->job->req) &&
	    S_ISREG(c->dstx.stx_mode);
}

/* The source is looked at again by the metadata's step (META_RECHECK), not on its own. */
static bool
copy_publish_rechecks_in_meta(const struct copy *c)
{
	return c->kind == K_FILE && c->job->req.preserve && (!c->into || copy_in_place(c)) &&
	    !copy_publish_keeps_dst(c);
}

/* The source's attributes the copy takes: a symlink or a device has no mode to set. */
static unsigned
copy_publish_src_flags(const struct copy *c)
{
	unsigned flags = request_meta_flags(&c->job->req);

	return c->kind == K_FILE ? flags : flags & (META_OWNER | META_TIMES);
}

/* The source's metadata (preserved), or the replaced file's. */
static bool
copy_publish_has_meta(const struct copy *c)
{
	return c->job->req.preserve ? c->kind != K_HARDLINK && (!c->into || copy_in_place(c)) &&
	    (c->kind == K_FILE || copy_publish_src_flags(c)) : copy_publish_keeps_dst(c);
}

/*
 * The publishing step after from, in the order of enum copy_state; with
 * none left (made in place already: c->direct, or written into: c->into)
 * the copy is done.
 */
enum copy_state
copy_publish_next(struct copy *c, enum copy_state from)
{
	const struct job *job = c->job;

	/* Preserving, the look comes with the metadata: one step less. */
	if (from < CS_RECHECK && c->kind == K_FILE && !copy_publish_rechecks_in_meta(c))
		return CS_RECHECK;
	/* The size, which the holes at the end did not give. */
	if (from < CS_TRUNCATE && (c->ext || copy_sparse(c) == SPARSE_ALWAYS))
		return CS_TRUNCATE;
	if (from < CS_META && copy_publish_has_meta(c))
		return CS_META;
	/* A FIFO cannot be synced (EINVAL); a device is the caller's. */
	if (from < CS_FSYNC && job->req.sync && c->kind == K_FILE && !c->into)
		return CS_FSYNC;
	if (from < CS_VERIFY && copy_verify_wanted(c))
		return CS_VERIFY;
	if (from < CS_BACKUP && job->req.backup_suffix && c->dst_exists && !c->into &&
	    !c->direct)
		return CS_BACKUP;
	if (c->direct || c->into)
		return CS_END;
	return c->nameless ? CS_LINK_FINAL : CS_RENAME;
}

/*
 * A writer that went on while the data was read leaves a copy that is
 * neither the old file nor the new one. Size and mtime show it, and
 * ctime even when the writer set the times back afterwards. A name of
 * it removed meanwhile (fewer links) changes ctime too, but not the
 * data: the copy is whole, as rsync would have it (a source deleted
 * while a backup reads it is common, and is not a changed file).
 */
bool
copy_publish_src_changed(const struct statx *a, const struct statx *b)
{
	bool unlinked = b->stx_nlink < a->stx_nlink;

	return a->stx_size != b->stx_size ||
	    a->stx_mtime.tv_sec != b->stx_mtime.tv_sec ||
	    a->stx_mtime.tv_nsec != b->stx_mtime.tv_nsec ||
	    (!unlinked && (a->stx_ctime.tv_sec != b->stx_ctime.tv_sec ||
	    a->stx_ctime.tv_nsec != b->stx_ctime.tv_nsec));
}

/* The source's second look (stx_end) against its first. */
static void
copy_publish_recheck(struct copy *c)
{
	if (copy_publish_src_changed(&c->stx, &c->stx_end))
		copy_error(c, -EAGAIN, "'%s' changed while being copied", c->srcpath);
}

struct eop *
copy_publish_recheck_op(struct copy *c)
{
	return copy_src_statx_op(c, &c->stx_end);
}

struct eop *
copy_publish_truncate_op(struct copy *c)
{
	return copy_size_op(c, EOP_TRUNCATE);
}

struct eop *
copy_publish_meta_op(struct copy *c)
{
	struct eop *op = copy_op(c, EOP_META);

	op->stx = &c->stx;
	if (copy_publish_keeps_dst(c)) {
		op->stx = &c->dstx;
		op->fd2 = c->tmpfd;
		op->path = c->item->name;	/* the file replaced: its attributes */
		op->meta_flags = META_OWNER | META_MODE | META_ACLS | META_XATTRS | META_XATTRS_AT;
		if (request_keeps(&c->job->req, PRESERVE_TIMESTAMPS)) {
			c->dstx.stx_atime = c->stx.stx_atime;	/* but the source's times */
			c->dstx.stx_mtime = c->stx.stx_mtime;
			op->meta_flags |= META_TIMES;
		}
	} else if (c->kind == K_FILE) {
		op->fd = c->srcfd;
		op->fd2 = c->tmpfd;
		op->meta_flags = META_RECHECK | copy_publish_src_flags(c);
		op->stx_end = &c->stx_end;
	} else {
		op->path = copy_made_path(c);	/* no fd for a symlink or a device */
		op->meta_flags = copy_publish_src_flags(c);
	}
	return op;
}

struct eop *
copy_publish_fsync_op(struct copy *c)
{
	struct eop *op = copy_op(c, EOP_FSYNC);

	op->fd = c->tmpfd;
	return op;
}

/*
 * Give the nameless temporary a name: linkat(fd, "", AT_EMPTY_PATH),
 * its final one (CS_LINK_FINAL) or, when a file appeared there
 * meanwhile, a new temporary one to be renamed over it (CS_LINK_TEMP).
 * That needs CAP_DAC_READ_SEARCH, or (Linux 6.10+) a file opened with
 * the same credentials; where the kernel says no (ENOENT), the job
 * links through /proc/self/fd/N instead (CF_NO_EMPTY_LINK), which
 * anyone may, at the cost of a path lookup in procfs per file (the
 * io_uring workers share the daemon's descriptors).
 */
struct eop *
copy_publish_link_op(struct copy *c)
{
	struct eop *op = copy_op(c, EOP_LINK);

	if (c->state == CS_LINK_TEMP)
		copy_new_temp_name(c);
	c->linked_by_proc = c->fs & CF_NO_EMPTY_LINK;
	if (c->linked_by_proc) {
		snprintf(c->tmpfd_path, sizeof(c->tmpfd_path), "/proc/self/fd/%d", c->tmpfd);
		op->dirfd2 = AT_FDCWD;
		op->path2 = c->tmpfd_path;
		op->flags = AT_SYMLINK_FOLLOW;
	} else {
		op->dirfd2 = c->tmpfd;
		op->path2 = "";
		op->flags = AT_EMPTY_PATH;
	}
	op->path = c->state == CS_LINK_TEMP ? c->tmp : c->item->name;
	return op;
}

struct eop *
copy_publish_rename_op(struct copy *c)
{
	struct eop *op = copy_op(c, EOP_RENAME);

	op->path = c->tmp;
	op->path2 = c->item->name;
	op->flags = c->job->req.no_clobber ? RENAME_NOREPLACE : 0;
	return op;
}

struct eop *
copy_publish_unlink_op(struct copy *c)
{
	struct eop *op = copy_op(c, EOP_UNLINK);

	op->path = copy_made_path(c);
	return op;
}

enum copy_state
copy_publish_on_recheck(struct copy *c, int res)
{
	if (res < 0)
		copy_error(c, res, "cannot stat '%s'", c->srcpath);
	else
		copy_publish_recheck(c);
	return copy_publish_next(c, CS_RECHECK);
}

/* CS_TRUNCATE, CS_META, CS_FSYNC: the temporary was written to. */
enum copy_state
copy_publish_on_written(struct copy *c, int res)
{
	if (res < 0 && c->state == CS_FSYNC) {
		copy_error(c, res, "cannot sync '%s'", c->dstpath);
		c->fail_sync = true;	/* see copy_apply */
	} else if (res < 0)
		copy_error(c, res, c->state == CS_META ?
		    "cannot set the attributes of '%s'" : "cannot write '%s'", c->dstpath);
	else if (c->state == CS_META && copy_publish_rechecks_in_meta(c))
		copy_publish_recheck(c);	/* META_RECHECK's look */
	return copy_publish_next(c, c->state);
}

enum copy_state
copy_publish_on_link(struct copy *c, int res)
{
	if (res == -ENOENT && !c->linked_by_proc) {
		c->fs |= CF_NO_EMPTY_LINK;	/* through /proc, this copy and the job's next */
		log_debug("job %llu: linkat(AT_EMPTY_PATH) refused: linking through "
		    "/proc/self/fd", (unsigned long long)c->job->id);
		return c->state;
	}
	/* The name appeared since it was looked at: replace it. */
	if (res == -EEXIST && !c->job->req.no_clobber && !c->err &&
	    (c->state == CS_LINK_FINAL || ++c->create_tries < 4))
		return CS_LINK_TEMP;
	if (res == -EEXIST)
		copy_error(c, res, "'%s' not replaced", c->dstpath);
	else if (res < 0)
		copy_error(c, res, "cannot create '%s'", c->dstpath);
	else if (c->state == CS_LINK_TEMP) {
		c->created = true;
		return CS_RENAME;
	}
	return CS_END;
}

enum copy_state
copy_publish_on_rename(struct copy *c, int res)
{
	if (res == -EEXIST || res == -ENOTEMPTY)
		copy_error(c, res, "'%s' not replaced", c->dstpath);
	else if (res == -EISDIR)
		copy_error(c, res, "cannot overwrite directory '%s' with a file", c->dstpath);
	else if (res < 0)
		copy_error(c, res, "cannot rename into '%s'", c->dstpath);
	else
		c->created = false;	/* published: it is not ours to remove */
	return CS_END;
}

enum copy_state
copy_publish_on_backup(struct copy *c, int res)
{
	if (c->backup == NULL)
		res = -ENOMEM;
	if (c->backup_is_src)
		copy_error(c, res, "backing up '%s' might destroy source;  '%s' not copied",
		    c->dstpath, c->srcpath);
	else if (res < 0)
		copy_error(c, res, "cannot backup '%s'", c->dstpath);
	return copy_publish_next(c, CS_BACKUP);
}

enum copy_state
copy_publish_on_unlink(struct copy *c, int res)
{
	/* ENOENT: removed with its directory, which is fine. */
	if (res < 0 && res != -ENOENT)
		log_warnx("job %llu: cannot remove temporary '%s' beside '%s': %s",
		    (unsigned long long)c->job->id, copy_made_path(c), c->dstpath,
		    strerror(-res));
	c->created = false;
	return CS_END;
}
