/*
 * One non-directory item's chain. For a regular file: open the source,
 * statx it, look at the destination, create a nameless temporary in the
 * destination directory (O_TMPFILE), clone or move the data in lanes
 * (only the data extents of a sparse file), statx the source again to see
 * that it did not change meanwhile, give it the source's metadata
 * (archive), fsync if asked, and link it in under its final name.
 *
 * Why O_TMPFILE: a named temporary costs two exclusive operations on the
 * destination directory (create, then rename: a delete and an insert),
 * and in a tree of small files those are what the copying threads queue
 * on; linking a finished nameless file is one insert, and a crash leaves
 * nothing behind. Where O_TMPFILE is not supported (some network and
 * FUSE filesystems), or a file is to be replaced, the temporary gets a
 * hidden name beside the destination and is renamed over it instead. A
 * symlink, special file or second hard link is always made that way.
 * In a new directory that is not in place yet (tree.c), where nobody
 * looks, everything is made under its own name at once (c->direct).
 * A device or FIFO found in the way is opened and written into, as cp
 * does (c->into): nothing is made, and nothing published.
 * Every step is an engine operation made with the caller's credentials;
 * a failure at any step removes the temporary.
 *
 * The chain is a state machine (enum copy_state, copy_int.h). Each state
 * has an operation (copy_steps[].op) and a handler of its result
 * (copy_steps[].on) that only interprets it and names the next state;
 * copy_change_state() alone moves the copy there, and copy_run() starts
 * the state's work. A step's result only ever comes from a completion
 * (the engine posts even an early failure to the loop), so nothing here
 * runs a step's handler from the code that started the step. A small
 * file walks the same states in a pool thread (copy_whole.c).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "change.h"
#include "copy.h"
#include "copy_int.h"
#include "engine.h"
#include "hlink.h"
#include "job.h"
#include "log.h"
#include "partial.h"
#include "path.h"
#include "tree.h"

static const char *const copy_state_names[CS_COUNT] = {
	[CS_START] = "start", [CS_LSTAT] = "lstat", [CS_OPEN_SRC] = "open_src",
	[CS_STAT_SRC] = "stat_src", [CS_HLINK] = "hlink", [CS_STAT_DST] = "stat_dst",
	[CS_SNAP_FIND] = "snap_find",
	[CS_OPEN_DST] = "open_dst", [CS_INTO_READY] = "into_ready", [CS_COMPARE] = "compare",
	[CS_REFRESH] = "refresh", [CS_READLINK] = "readlink",
	[CS_STAT_TARGET] = "stat_target", [CS_READLINK_DST] = "readlink_dst",
	[CS_CREATE] = "create", [CS_RESUME] = "resume", [CS_CLONE] = "clone", [CS_EXTENTS] = "extents",
	[CS_ALLOCATE] = "allocate", [CS_DATA] = "data", [CS_PROC] = "proc", [CS_RECHECK] = "recheck",
	[CS_TRUNCATE] = "truncate", [CS_META] = "meta", [CS_FSYNC] = "fsync",
	[CS_VERIFY] = "verify", [CS_BACKUP] = "backup",
	[CS_LINK_TEMP] = "link_temp", [CS_LINK_FINAL] = "link_final", [CS_RENAME] = "rename",
	[CS_UNLINK] = "unlink", [CS_END] = "end", [CS_DIR] = "dir",
};

/* The job is cancelled, or failed and does not keep going: no more work for this copy. */
bool
copy_stopping(const struct copy *c)
{
	return c->job->cancelling || (job_stopping(c->job) && !c->job->req.keep_going);
}

void
copy_change_state(struct copy *c, enum copy_state next)
{
	/* A tree of small files makes many: format nothing unless asked to. */
	if (log_getlevel() >= LOG_DEBUG)
		log_debug("job %llu: '%s': %s -> %s", (unsigned long long)c->job->id,
		    c->srcpath, copy_state_names[c->state], copy_state_names[next]);
	c->state = next;
}

void
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

/*
 * The named temporary goes into the job's record, or out of it (clean.c),
 * with its checkpoint (partial.c): on the loop only.
 */
void
copy_temp_note(struct copy *c, bool made)
{
	char *rel;

	if (c->temp_noted == made || c->pooled)
		return;
	rel = item_rel_beside(c->item, c->tmp);
	if (made)
		clean_temp_made(c->job, rel);
	else {
		if (c->ck.on)
			partial_drop(c->job, rel);
		clean_temp_gone(c->job, rel);
	}
	c->temp_noted = made;
}

static void
copy_free(struct copy *c)
{
	if (c->srcfd >= 0)
		engine_close(c->srcfd, c->job->cred);	/* not on the loop: engine.h */
	if (c->tmpfd >= 0)
		engine_close(c->tmpfd, c->job->cred);
	if (c->snapfd >= 0)
		engine_close(c->snapfd, c->job->cred);
	free(c->snap_rel);
	free(c->backup);
	free(c->lanes);
	free(c->ext);
	free(c->target);
	free(c->link_path);
	free(c->srcpath);
	free(c->dstpath);
	free(c->msg);
	free(c->item);
	free(c);
}

/* The first copy of a link group ended: the others link to it, or copy. */
static void
copy_hlink_settle(struct copy *c, bool ok)
{
	struct hlink *h = c->hl;
	struct copy  *w;

	h->state = ok && (h->rel = item_rel(c->item)) != NULL ? 1 : -1;
	if ((h->kept = ok && c->kept)) {
		h->kept_major = c->dstx.stx_dev_major;
		h->kept_minor = c->dstx.stx_dev_minor;
		h->kept_ino = c->dstx.stx_ino;
	}
	while ((w = h->waiters) != NULL) {
		h->waiters = w->next_waiter;
		copy_run(w);		/* CS_HLINK again, now decided */
	}
}

/* What the copy did to its destination entry (change.h), for Job.changes and itemize;
 * a verified file's hash with it. */
static void
copy_change_note(const struct copy *c)
{
	static const enum entry_type types[] = {
		[K_FILE] = ENTRY_FILE, [K_SYMLINK] = ENTRY_SYMLINK,
		[K_SPECIAL] = ENTRY_SPECIAL, [K_HARDLINK] = ENTRY_FILE,
	};
	enum change_kind kind = c->kept ? (c->refreshed ? CHANGE_METADATA : CHANGE_SKIPPED) :
	    c->snapfd >= 0 ? (c->snap_clone ? CHANGE_CLONED : CHANGE_LINKED) :
	    c->dst_exists ? CHANGE_UPDATED : CHANGE_CREATED;
	char *rel = c->job->req.itemize ? item_final_rel(c->item) : NULL;

	change_note(c->job, kind, types[c->kind], rel, c->hash[0] ? c->hash : NULL);
	free(rel);
}

static void
copy_finish(struct copy *c)
{
	struct job *job = c->job;

	if (c->hl)
		copy_hlink_settle(c, c->err == 0);
	/* A temporary that was not published goes with its last close. */
	if (c->err && c->tmpfd >= 0) {
		engine_close(c->tmpfd, c->job->cred);
		c->tmpfd = -1;
	}
	if (!copy_resume_keeps(c))
		copy_temp_note(c, false);
	if (c->err == 0)
		copy_change_note(c);
	if (c->vanished)
		job_file_vanished(job, c->item->parent, c->srcpath, c->msg);
	else
		job_file_end(job, c->item->parent, c->err, c->srcpath, c->msg, c->method);
	copy_free(c);
}

/*
 * Any operation of the copy, counted in the share of the file system it
 * reads: the file's own once looked at, else where the item was found.
 */
struct eop *
copy_job_op(struct copy *c, struct eop *op, enum eop_type type,
    void (*done)(struct eop *, int))
{
	job_op_init(c->job, op, type, done);
	op->owner = c;
	if (c->stx.stx_mask)
		job_op_reads(op, c->stx.stx_dev_major, c->stx.stx_dev_minor);
	else
		job_op_reads(op, c->item->dev_major, c->item->dev_minor);
	return op;
}

/* An operation for the step: on the destination directory, unless the builder says otherwise. */
struct eop *
copy_op(struct copy *c, enum eop_type type)
{
	struct eop *op = copy_job_op(c, &c->step, type, copy_step_done);

	op->dirfd = item_dstdir(c->job, c->item);
	op->fd2 = -1;
	return op;
}

/* An operation from the source to the copy (or on the copy alone) over the source's size. */
struct eop *
copy_size_op(struct copy *c, enum eop_type type)
{
	struct eop *op = copy_op(c, type);

	op->fd = c->srcfd;
	op->fd2 = c->tmpfd;
	op->len = c->stx.stx_size;
	op->sparse = copy_sparse(c);
	return op;
}

void
copy_new_temp_name(struct copy *c)
{
	copy_temp_note(c, false);	/* a name that collided was never made */
	path_new_temp_name(c->tmp, sizeof(c->tmp), c->job->id);
	copy_temp_note(c, true);
}

/* Where the new thing is made: its temporary name, or its own (direct). */
const char *
copy_made_path(const struct copy *c)
{
	return c->direct ? c->item->name : c->tmp;
}

/* The operations of the steps that look at the source (copy_dst.c: the destination). */

/* A directory entry's type decides its way; unknown ones are looked at first. */
static struct eop *
copy_lstat_op(struct copy *c)
{
	struct eop *op = copy_op(c, EOP_STATX);

	op->dirfd = item_srcdir(c->item);
	op->path = c->item->src;
	op->flags = request_nofollow(&c->job->req, c->item->parent == NULL) ?
	    AT_SYMLINK_NOFOLLOW : 0;
	op->stx = &c->stx;
	return op;
}

static struct eop *
copy_open_src_op(struct copy *c)
{
	struct eop *op = copy_op(c, EOP_OPEN);

	op->dirfd = item_srcdir(c->item);
	op->path = c->item->src;
	/* O_NONBLOCK: opening a FIFO must not wait for a writer. A plain
	 * copy follows a symlink given as the source, as cp does; in a tree
	 * the entry was a file when listed and must still be one. */
	op->flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK |
	    (request_nofollow(&c->job->req, c->item->parent == NULL) ? O_NOFOLLOW : 0);
	op->resolve = RESOLVE_NO_MAGICLINKS;
	return op;
}

/* The open source's statx, into stx: its first look, or (CS_RECHECK) its second. */
struct eop *
copy_src_statx_op(struct copy *c, struct statx *stx)
{
	struct eop *op = copy_op(c, EOP_STATX);

	op->dirfd = c->srcfd;
	op->path = "";
	op->flags = AT_EMPTY_PATH;
	op->stx = stx;
	return op;
}

static struct eop *
copy_stat_src_op(struct copy *c)
{
	return copy_src_statx_op(c, &c->stx);
}

static struct eop *
copy_readlink_op(struct copy *c)
{
	struct eop *op = copy_op(c, EOP_READLINK);

	op->dirfd = item_srcdir(c->item);
	op->path = c->item->src;
	op->buf = c->target;
	op->len = PATH_MAX - 1;
	return op;
}

/* The handlers of those steps' results. */

/*
 * A source listed in its directory that is not there any more when it
 * is looked at vanished while the job ran (rsync's exit 24): reported as
 * such, and it does not fail the job.
 */
static void
copy_vanished(struct copy *c, int res)
{
	if (res == -ENOENT && c->item->parent) {
		c->vanished = true;
		copy_error(c, res, "file has vanished: '%s'", c->srcpath);
	}
}

static enum copy_state
copy_on_lstat(struct copy *c, int res)
{
	const struct job *job = c->job;

	if (res < 0) {
		copy_vanished(c, res);
		copy_error(c, res, "cannot stat '%s'", c->srcpath);
		return CS_END;
	}
	if (path_on_procfs(&c->stx) && !S_ISREG(c->stx.stx_mode))
		copy_error(c, -EPERM, PATH_PROCFS_REFUSED, c->srcpath);
	if (c->err)
		return CS_END;
	if (S_ISDIR(c->stx.stx_mode)) {
		if (job->req.recursive)
			return CS_DIR;
		copy_error(c, -EISDIR, "omitting directory '%s'", c->srcpath);
		return CS_END;
	}
	if (job->req.symlink)
		return copy_cp_symlink(c) < 0 ? CS_END : copy_dst_next(c);
	if (S_ISREG(c->stx.stx_mode))
		return CS_OPEN_SRC;
	c->kind = S_ISLNK(c->stx.stx_mode) ? K_SYMLINK : K_SPECIAL;
	if (c->kind == K_SPECIAL && !job->req.recursive) {
		copy_error(c, -EINVAL, "'%s' is not a regular file", c->srcpath);
		return CS_END;
	}
	return copy_dst_next(c);
}

static enum copy_state
copy_on_open_src(struct copy *c, int res)
{
	if (res == -ELOOP && request_nofollow(&c->job->req, c->item->parent == NULL))
		return CS_LSTAT;	/* became a symlink meanwhile */
	if (res < 0) {
		copy_vanished(c, res);
		copy_error(c, res, "cannot open '%s'", c->srcpath);
		return CS_END;
	}
	c->srcfd = res;
	return CS_STAT_SRC;
}

static enum copy_state
copy_on_stat_src(struct copy *c, int res)
{
	const struct job *job = c->job;

	if (res < 0)
		copy_error(c, res, "cannot stat '%s'", c->srcpath);
	else if ((c->proc = path_on_procfs(&c->stx)) && !S_ISREG(c->stx.stx_mode))
		copy_error(c, -EPERM, PATH_PROCFS_REFUSED, c->srcpath);
	else if (S_ISDIR(c->stx.stx_mode))
		copy_error(c, -EISDIR, "omitting directory '%s'", c->srcpath);
	else if (!S_ISREG(c->stx.stx_mode))
		copy_error(c, -EINVAL, "'%s' is not a regular file", c->srcpath);
	if (c->err)
		return CS_END;
	c->add_total = c->item->parent != NULL;	/* top-level sources were counted by the scan */
	if (job->req.hard_link) {
		c->kind = K_HARDLINK;	/* cp -l: to the source itself (link_to NULL) */
		return copy_dst_next(c);
	}
	if (request_links_file(&job->req, c->stx.stx_nlink, c->item->parent == NULL))
		return CS_HLINK;
	return copy_dst_next(c);
}

/*
 * Archive, a file with several links: the first of its names to come
 * copies it; the others wait for that copy (staying in CS_HLINK until
 * copy_hlink_settle() runs them again), then link to it, or copy on
 * their own if it failed. On the loop: the table is the job's.
 */
static enum copy_state
copy_on_hlink(struct copy *c)
{
	struct hlink	*h;
	bool		 created;

	if ((h = hlink_get(c->cj, &c->stx, &created)) != NULL && created)
		c->hl = h;
	else if (h && h->state == 0) {
		c->next_waiter = h->waiters;
		h->waiters = c;
		return CS_HLINK;
	} else if (h && h->state == 1) {
		c->kind = K_HARDLINK;
		c->link_to = h;
		engine_close(c->srcfd, c->job->cred);
		c->srcfd = -1;
		c->progress += c->stx.stx_size;	/* its bytes are there */
		copy_apply(c);
	}
	return copy_dst_next(c);
}

static enum copy_state
copy_on_readlink(struct copy *c, int res)
{
	if (res < 0) {
		copy_error(c, res, "cannot read link '%s'", c->srcpath);
		return CS_END;
	}
	c->target[res] = '\0';
	if (c->dst_exists && !S_ISLNK(c->dstx.stx_mode) && !S_ISDIR(c->dstx.stx_mode) &&
	    !c->job->req.backup_suffix)
		return CS_STAT_TARGET;
	/* A symlink in the way of a symlink: the update mode decides (cp -l: its target). */
	if ((c->job->req.update != UPDATE_ALL || c->job->req.hard_link) && c->dst_exists &&
	    S_ISLNK(c->dstx.stx_mode))
		return copy_update_link(c);
	return CS_CREATE;
}

/* Every state that has an operation: how to make it, and what its result leads to. */
static const struct copy_step {
	struct eop	*(*op)(struct copy *);
	enum copy_state	 (*on)(struct copy *, int);
} copy_steps[CS_COUNT] = {
	[CS_LSTAT] =		{ copy_lstat_op,		copy_on_lstat },
	[CS_OPEN_SRC] =		{ copy_open_src_op,		copy_on_open_src },
	[CS_STAT_SRC] =		{ copy_stat_src_op,		copy_on_stat_src },
	[CS_STAT_DST] =		{ copy_dst_stat_op,		copy_dst_on_stat },
	[CS_OPEN_DST] =		{ copy_dst_open_op,		copy_dst_on_open },
	[CS_INTO_READY] =	{ copy_dst_into_ready_op,	copy_dst_on_into_ready },
	[CS_COMPARE] =		{ copy_dst_compare_op,		copy_dst_on_compare },
	[CS_REFRESH] =		{ copy_update_refresh_op,	copy_update_on_refresh },
	[CS_READLINK] =		{ copy_readlink_op,		copy_on_readlink },
	[CS_STAT_TARGET] =	{ copy_cp_stat_target_op,	copy_cp_on_stat_target },
	[CS_READLINK_DST] =	{ copy_update_readlink_op,	copy_update_on_readlink },
	[CS_SNAP_FIND] =	{ copy_snap_find_op,		copy_snap_on_find },
	[CS_CREATE] =		{ copy_make_op,			copy_make_on_create },
	[CS_RESUME] =		{ copy_resume_check_op,		copy_resume_on_check },
	[CS_CLONE] =		{ copy_make_clone_op,		copy_make_on_clone },
	[CS_EXTENTS] =		{ copy_make_extents_op,		copy_make_on_extents },
	[CS_ALLOCATE] =		{ copy_lane_allocate_op,	copy_lane_on_allocate },
	/* The loop moves the data in lanes; a pool thread in one operation. */
	[CS_DATA] =		{ copy_whole_data_op,		copy_lane_on_data },
	[CS_PROC] =		{ copy_proc_op,			copy_proc_on },
	[CS_RECHECK] =		{ copy_publish_recheck_op,	copy_publish_on_recheck },
	[CS_TRUNCATE] =		{ copy_publish_truncate_op,	copy_publish_on_written },
	[CS_META] =		{ copy_publish_meta_op,		copy_publish_on_written },
	[CS_FSYNC] =		{ copy_publish_fsync_op,	copy_publish_on_written },
	[CS_VERIFY] =		{ copy_verify_op,		copy_verify_on },
	[CS_BACKUP] =		{ copy_backup_op,		copy_publish_on_backup },
	[CS_LINK_TEMP] =	{ copy_publish_link_op,		copy_publish_on_link },
	[CS_LINK_FINAL] =	{ copy_publish_link_op,		copy_publish_on_link },
	[CS_RENAME] =		{ copy_publish_rename_op,	copy_publish_on_rename },
	[CS_UNLINK] =		{ copy_publish_unlink_op,	copy_publish_on_unlink },
};

/* The operation of the copy's state. */
struct eop *
copy_state_op(struct copy *c)
{
	return copy_steps[c->state].op(c);
}

/*
 * Whatever a step named next: a failed copy ends, its temporary removed
 * first; and a copy of a job that is to stop starts nothing more before
 * it is published (no retry, no fallback, no data), so it is cancelled
 * there. Only a step in the pool does not know whether the job stops:
 * the loop asks again when it takes over (copy_whole_done).
 */
enum copy_state
copy_next(struct copy *c, enum copy_state next, bool stopping)
{
	if (stopping && next < CS_LINK_FINAL)
		copy_error(c, -ECANCELED, "copy of '%s' cancelled", c->srcpath);
	if (c->err)
		return c->created && !copy_resume_keeps(c) ? CS_UNLINK : CS_END;
	if (next == CS_CREATE && copy_snap_may(c))
		return CS_SNAP_FIND;
	/* dry_run: decided, and reported as if done; nothing is made or written into. */
	if (c->job->req.dry_run && (next == CS_CREATE || (next == CS_OPEN_DST && c->into)))
		return CS_END;
	return next;
}

/* The step at c->state ended with res: the next state. */
enum copy_state
copy_interpret(struct copy *c, int res, bool stopping)
{
	/* Once linked in or renamed, the file is published: not undone. */
	if (stopping && res >= 0 && c->state < CS_LINK_FINAL)
		copy_error(c, -ECANCELED, "copy of '%s' cancelled", c->srcpath);
	return copy_next(c, copy_steps[c->state].on(c, res), stopping);
}

/* On the loop: what the steps found out for the job, given to it. */
void
copy_apply(struct copy *c)
{
	struct job *job = c->job;

	c->cj->fs |= c->fs;
	/* One a pool thread made, which the loop now goes on with (lanes). */
	if (c->created && !c->nameless && !c->direct)
		copy_temp_note(c, true);
	if (c->add_total)
		job_add_total(job, 0, c->stx.stx_size);
	if (c->progress)
		job_progress(job, c->progress, c->stx.stx_dev_major, c->stx.stx_dev_minor);
	/*
	 * The first fsync error is final: the kernel may have dropped the
	 * dirty pages already, so a retry could succeed on lost data. The
	 * job fails even with keep_going: a sync job promises that what it
	 * reports copied is on disk.
	 */
	if (c->fail_sync)
		job_fail(job, c->err, "cannot sync '%s'", c->dstpath);
	c->add_total = c->fail_sync = false;
	c->progress = 0;
}

static void
copy_to_tree(struct copy *c)
{
	struct job *job = c->job;

	job_file_to_dir(job, c->item);
	c->item->dev_major = c->stx.stx_dev_major;
	c->item->dev_minor = c->stx.stx_dev_minor;
	tree_start(job, c->item);
	c->item = NULL;
	copy_free(c);
}

static void
copy_enter(struct copy *c, enum copy_state next)
{
	copy_change_state(c, next);
	copy_run(c);
}

/* On the loop: start the work of the copy's state. */
void
copy_run(struct copy *c)
{
	enum copy_state next;

	switch (c->state) {
	case CS_HLINK:
		if ((next = copy_on_hlink(c)) != CS_HLINK)
			copy_enter(c, copy_next(c, next, copy_stopping(c)));
		return;
	case CS_DATA:
		copy_lane_start_all(c);
		return;
	case CS_END:
		copy_finish(c);
		return;
	case CS_DIR:
		copy_to_tree(c);
		return;
	default:
		engine_submit(copy_state_op(c));
	}
}

bool
copy_same_file(const struct statx *a, const struct statx *b)
{
	return a->stx_ino == b->stx_ino && a->stx_dev_major == b->stx_dev_major &&
	    a->stx_dev_minor == b->stx_dev_minor;
}

void
copy_step_done(struct eop *op, int res)
{
	struct copy	*c = op->owner;
	enum copy_state	 next;

	c->fs |= c->cj->fs;	/* what the job's other copies found meanwhile */
	next = copy_interpret(c, res, copy_stopping(c));
	copy_apply(c);
	copy_enter(c, next);
}

static struct copy_job *
copy_job_get(struct job *job)
{
	if (job->copy == NULL)
		job->copy = calloc(1, sizeof(*job->copy));
	return job->copy;
}

void
copy_job_free(struct job *job)
{
	if (job->copy == NULL)
		return;
	hlink_free_all(job->copy);
	free(job->copy);
	job->copy = NULL;
}

void
copy_start(struct job *job, struct item *it)
{
	struct copy *c = calloc(1, sizeof(*c));

	if (c == NULL || (c->cj = copy_job_get(job)) == NULL ||
	    (c->srcpath = item_srcpath(it)) == NULL ||
	    (c->dstpath = item_dstpath(job, it)) == NULL) {
		if (c) {
			free(c->srcpath);
			free(c);
		}
		job_file_end(job, it->parent, -ENOMEM, it->src, "out of memory", M_COUNT);
		free(it);
		return;
	}
	c->job = job;
	c->item = it;
	c->srcfd = c->tmpfd = c->snapfd = -1;
	c->method = M_COUNT;
	c->fs = c->cj->fs;
	c->direct = item_hidden(it);
	/* A listed regular file is opened at once; anything else is looked
	 * at first. Plain copies follow a symlink given as a source. */
	if (copy_whole_may(c)) {
		copy_change_state(c, CS_OPEN_SRC);
		copy_whole(c);
	} else if (((it->parent && it->dtype == DT_REG) || !job->req.recursive) &&
	    !job->req.symlink)
		copy_enter(c, CS_OPEN_SRC);
	else
		copy_enter(c, CS_LSTAT);
}

/* The job ended: what copy.c and tree.c kept of it goes. */
static void
copy_workers_end(struct job *job)
{
	copy_job_free(job);
	tree_job_free(job);
}

const struct job_workers copy_workers = {
	.file = copy_start,
	.dir = tree_start,
	.child_done = tree_child_done,
	.taken = tree_taken,
	.more = tree_kick,
	.may_start = tree_may_start,
	.dirs = tree_nodes,
	.lane_run = copy_lane_run,
	.lane_drop = copy_lane_drop,
	.end = copy_workers_end,
};
