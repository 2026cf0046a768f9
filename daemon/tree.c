/*
 * Directories of a recursive copy. A directory is opened (as the caller,
 * never following a symlink), created in the destination (or merged into
 * an existing one), and read in batches on the thread pool, since
 * io_uring cannot read directories. Its entries go on the job's stack of
 * items; the directory is read on only while that stack is short, so a
 * huge tree never sits in memory at once. When its last entry has ended
 * it gets its metadata (times last, after its contents) and is closed.
 *
 * A directory that does not exist yet is made under a temporary name
 * (".cpd-tmp.<job>.<random>") and renamed into place, with RENAME_NOREPLACE,
 * once everything in it has ended: a new tree appears whole, and what is
 * made inside it, where nobody looks, is made under its final name at
 * once. Why: a temporary name per file (or a nameless file linked in)
 * costs one more directory operation and inode update per file than
 * creating it where it belongs, and in a tree of small files that was
 * the largest cost left (README.md). A directory that exists already is
 * merged into, and each file put into it is published on its own
 * (copy.c). Whatever the job's end (done, failed, cancelled), what it
 * made is renamed into place; a crash leaves the temporary, which the
 * job's restart removes, or (a job that keeps times: what it made is
 * whole where its times are the source's) merges into (tree_adopt).
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "change.h"
#include "cred.h"
#include "hlink.h"
#include "job.h"
#include "journal.h"
#include "log.h"
#include "partial.h"
#include "path.h"
#include "tree.h"
#include "tree_int.h"


static const char *const tree_state_names[TS_COUNT] = {
	[TS_START] = "start", [TS_OPEN_SRC] = "open_src", [TS_STAT_SRC] = "stat_src",
	[TS_OPEN_FINAL] = "open_final", [TS_MKDIR] = "mkdir", [TS_OPEN_DST] = "open_dst",
	[TS_STAT_DST] = "stat_dst", [TS_DELETE] = "delete", [TS_READ] = "read", [TS_META] = "meta",
	[TS_FSYNC] = "fsync", [TS_MOVE] = "move", [TS_REMOVE] = "remove", [TS_END] = "end",
};

static void tree_step_done(struct eop *, int);

static void
tree_free(struct tnode *n)
{
	if (n->srcfd >= 0)
		close(n->srcfd);
	if (n->dstfd >= 0)
		close(n->dstfd);
	free(n->dstpath);
	free(n->name);
	free(n->buf);
	free(n->end_msg);
	tree_delete_free(n);
	free(n);
}

static void
tree_change_state(struct tnode *n, enum tstate next)
{
	bool	 pinned = tree_window_pins(n);
	char	*path;

	/* A tree of small files makes many: format nothing unless asked to. */
	if (log_getlevel() >= LOG_DEBUG) {
		path = tree_path(n, TREE_SRC, NULL);
		log_debug("job %llu: directory '%s': %s -> %s", (unsigned long long)n->job->id,
		    path ? path : n->name, tree_state_names[n->state], tree_state_names[next]);
		free(path);
	}
	n->state = next;
	if (n->parent && pinned != tree_window_pins(n)) {
		if (pinned)
			n->parent->pinned--;
		else
			n->parent->pinned++;
		/* Set up, or renamed into it: the parent may be one to close. */
		if (pinned && n->parent->pinned == 0)
			tree_window_check(n->parent);
	}
}

struct eop *
tree_op(struct tnode *n, enum eop_type type)
{
	struct eop *op = job_op_init(n->job, &n->op, type, tree_step_done);

	op->owner = n;
	job_op_reads(op, n->stx.stx_dev_major, n->stx.stx_dev_minor);
	return op;
}

/*
 * The first error of the directory: fmt has a %s for its path (which:
 * the source's or the destination's) and one for the error.
 */
void
tree_error(struct tnode *n, int err, const char *fmt, enum tree_path which)
{
	char *path;

	if (err == 0 || n->end_err != 0)
		return;
	n->end_err = err;
	path = tree_path(n, which, NULL);
	if (asprintf(&n->end_msg, fmt, path ? path : n->name, strerror(-err)) < 0)
		n->end_msg = NULL;
	free(path);
}

/*
 * The finishing step after from, in the order of enum tstate: the
 * directory's own metadata (times last, after its contents), its fsync,
 * its rename into place (a staged one), its end. A stopping job's
 * directory skips to its rename: what it made goes into place as it is.
 */
static bool
tree_finish_meta(const struct tnode *n)
{
	return request_meta_flags(&n->job->req) || !n->existed;
}

bool
tree_finish_uses_fds(const struct tnode *n)
{
	const struct job *job = n->job;

	return !job_stopping(job) && !job->req.dry_run && (tree_finish_meta(n) || job->req.sync);
}

enum tstate
tree_next(const struct tnode *n, enum tstate from)
{
	const struct job *job = n->job;
	/* Without a destination (parked, and not reopened: failed) there is nothing to finish. */
	bool		  more = !job_stopping(job) && n->dstfd >= 0 && !job->req.dry_run;

	if (from < TS_META && more && tree_finish_meta(n) && !tree_quick_meta_current(n))
		return TS_META;
	if (from < TS_FSYNC && more && job->req.sync)
		return TS_FSYNC;
	if (from < TS_MOVE && n->staged)
		return n->into_itself ? TS_REMOVE : TS_MOVE;
	return TS_END;
}

/* The directory failed: what was made of it goes into place, and it ends. */
enum tstate
tree_fail(struct tnode *n, int err, const char *fmt, enum tree_path which)
{
	tree_error(n, err, fmt, which);
	return tree_next(n, TS_FSYNC);
}

/* In a pool thread, as the caller: a copy that cannot be put in place goes. */
static long
tree_remove_run(struct eop *op)
{
	return path_remove_tree(op->dirfd, op->path) < 0 ? -errno : 0;
}

/* Renamed into place: paths kept through the temporary name follow. */
static void
tree_moved(struct tnode *n)
{
	char *old = tree_path(n, TREE_REL, NULL), *rel;

	n->moved = true;
	rel = tree_path(n, TREE_REL, NULL);
	if (old && rel)
		hlink_moved(n->job, old, rel);
	free(old);
	free(rel);
}

/* The source directory is its own destination's ancestor: cp -r a a/b. */
static bool
tree_into_itself(const struct tnode *n)
{
	return n->stx.stx_ino == n->root_ino &&
	    makedev(n->stx.stx_dev_major, n->stx.stx_dev_minor) == n->root_dev;
}

/*
 * The copy met itself while reading its source (the destination lies
 * inside it): named as cp names it, by the top directory's paths, not
 * by the hidden name the copy was being made under, which the user
 * never sees. The job fails, even with keep_going, and the new
 * directory holding it goes instead of into place (tree_next): a copy
 * of a tree that holds its own copy is never a whole one.
 */
static enum tstate
tree_fail_into_itself(struct tnode *n)
{
	const struct tnode	*top = n;
	struct tnode		*made = n;
	char			*msg = NULL;
	const char		*what;

	while (top->parent)
		top = top->parent;
	/* The new directory that holds it: the job's other copies stay. */
	while (made && !made->staged)
		made = made->parent;
	if (made)
		made->into_itself = true;
	if (asprintf(&msg, "cannot copy a directory, '%s', into itself, '%s'",
	    top->src, top->dstpath) < 0)
		msg = NULL;
	what = msg ? msg : "cannot copy a directory into itself";
	job_fail(n->job, -EINVAL, "%s", what);
	if (n->end_err == 0) {
		n->end_err = -EINVAL;
		if (asprintf(&n->end_msg, "%s: %s", what, strerror(EINVAL)) < 0)
			n->end_msg = NULL;
	}
	free(msg);
	return tree_next(n, TS_FSYNC);
}

static int
tree_dst_parent(const struct tnode *n)
{
	return n->parent ? n->parent->dstfd : n->job->dirfd;
}

/* The operations of the states. */

static struct eop *
tree_open_src_op(struct tnode *n)
{
	struct eop *op = tree_op(n, EOP_OPEN);

	op->dirfd = n->parent ? n->parent->srcfd : AT_FDCWD;
	op->path = n->src;
	op->flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC |
	    (request_nofollow(&n->job->req, n->parent == NULL) ? O_NOFOLLOW : 0);
	op->resolve = RESOLVE_NO_MAGICLINKS;
	return op;
}

static struct eop *
tree_statx_op(struct tnode *n, int fd, struct statx *stx)
{
	struct eop *op = tree_op(n, EOP_STATX);

	op->dirfd = fd;
	op->path = "";
	op->flags = AT_EMPTY_PATH;
	op->stx = stx;
	return op;
}

static struct eop *
tree_stat_src_op(struct tnode *n)
{
	return tree_statx_op(n, n->srcfd, &n->stx);
}

static struct eop *
tree_stat_dst_op(struct tnode *n)
{
	return tree_statx_op(n, n->dstfd, &n->dstx);
}

/* The destination: an existing one to merge into (TS_OPEN_FINAL), or the new one. */
static struct eop *
tree_open_dst_op(struct tnode *n)
{
	struct eop *op = tree_op(n, EOP_OPEN);

	op->dirfd = tree_dst_parent(n);
	op->path = n->state == TS_OPEN_DST && n->tmpname[0] ? n->tmpname : n->name;
	op->flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
	op->resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
	return op;
}

/* Its temporary name's path from the job's directory (for clean.c); NULL without memory. */
static char *
tree_temp_rel(const struct tnode *n)
{
	return n->parent ? tree_path(n->parent, TREE_REL, n->tmpname) : strdup(n->tmpname);
}

/*
 * A staged directory is kept over a crash for the job's next run where
 * what is made in it can be told whole: a file's times are set after its
 * data, so one with the source's size and times is (update.c).
 */
static bool
tree_resumable(const struct job *job)
{
	return request_keeps(&job->req, PRESERVE_TIMESTAMPS) && !job->req.dry_run &&
	    journal_enabled();
}

/*
 * A new directory that the job's last run was making when the daemon
 * stopped: its staged temporary, kept by the restart (partial.c), is
 * merged into instead of made anew, and renamed into place as any.
 */
static bool
tree_adopt(struct tnode *n)
{
	struct job	*job = n->job;
	char		*dest;
	bool		 taken;

	if ((n->parent && n->parent->hidden) || !tree_resumable(job) ||
	    (dest = tree_path(n, TREE_FINAL, NULL)) == NULL)
		return false;
	taken = partial_claim(job, dest, true, n->tmpname, sizeof(n->tmpname)) != NULL;
	free(dest);
	if (!taken)
		return false;
	clean_temp_made(job, tree_temp_rel(n));
	n->hidden = n->staged = n->existed = n->adopted = true;
	log_info("job %llu: directory '%s': goes on in what the last run made of it",
	    (unsigned long long)job->id, n->name);
	return true;
}

/* The adopted directory is gone after all: made anew. */
static enum tstate
tree_unadopt(struct tnode *n)
{
	char *rel = tree_temp_rel(n);

	partial_drop(n->job, rel);
	clean_temp_gone(n->job, rel);
	n->tmpname[0] = '\0';
	n->hidden = n->staged = n->existed = n->adopted = false;
	return TS_MKDIR;
}

/* The new directory, made where it goes inside a hidden one, else under a temporary name. */
static struct eop *
tree_mkdir_op(struct tnode *n)
{
	struct eop	*op = tree_op(n, EOP_MKDIR);
	char		*dest;

	n->hidden = true;
	if (!(n->parent && n->parent->hidden)) {
		path_new_temp_name(n->tmpname, sizeof(n->tmpname), n->job->id);
		clean_temp_made(n->job, tree_temp_rel(n));
		if (tree_resumable(n->job) && (dest = tree_path(n, TREE_FINAL, NULL)) != NULL) {
			partial_stage(n->job, tree_temp_rel(n), dest);
			free(dest);
		}
	}
	op->dirfd = tree_dst_parent(n);
	op->path = n->tmpname[0] ? n->tmpname : n->name;
	op->mode = 0700;	/* ours to fill; its real mode comes last */
	return op;
}

static struct eop *
tree_meta_op(struct tnode *n)
{
	struct job *job = n->job;
	struct eop *op = tree_op(n, EOP_META);

	op->fd = n->srcfd;
	op->fd2 = n->dstfd;
	op->stx = &n->stx;
	op->meta_flags = request_meta_flags(&job->req);
	if (!request_keeps(&job->req, PRESERVE_MODE) && !n->existed) {
		/* As cp -r: the source's permission bits less the umask. */
		n->stx.stx_mode = (uint16_t)request_new_mode(&job->req, n->stx.stx_mode);
		op->meta_flags |= META_MODE;
	}
	return op;
}

/*
 * With sync, the directory's entries are made durable once all are in;
 * its own entry in its parent is the parent's to sync, which ends later
 * (the top one's, the job's, in job_files_done()).
 */
static struct eop *
tree_fsync_op(struct tnode *n)
{
	struct eop *op = tree_op(n, EOP_FSYNC);

	op->fd = n->dstfd;
	return op;
}

static struct eop *
tree_move_op(struct tnode *n)
{
	struct eop *op = tree_op(n, EOP_RENAME);

	op->dirfd = tree_dst_parent(n);
	op->path = n->tmpname;
	op->path2 = n->name;
	op->flags = RENAME_NOREPLACE;
	return op;
}

static struct eop *
tree_remove_op(struct tnode *n)
{
	struct eop *op = tree_op(n, EOP_CALL);

	op->run = tree_remove_run;
	op->dirfd = tree_dst_parent(n);
	op->path = n->tmpname;
	return op;
}

/* The handlers of their results. */

/* A new directory is made (or, phantom, would be): reported as created. */
static void
tree_created(const struct tnode *n)
{
	char *rel = n->job->req.itemize ? tree_path(n, TREE_FINAL, NULL) : NULL;

	change_note(n->job, CHANGE_CREATED, ENTRY_DIRECTORY, rel, NULL);
	free(rel);
}

/*
 * dry_run, a directory that does not exist: nothing is made, and what is
 * in it is read and reported as it would be made (in a directory that
 * is not there, nothing is in the way: copy_dst_is_new()).
 */
static enum tstate
tree_phantom(struct tnode *n)
{
	n->phantom = true;
	tree_created(n);
	return TS_READ;
}


static enum tstate
tree_on_open_src(struct tnode *n, int res)
{
	if (res < 0)
		return tree_fail(n, res, "cannot copy directory '%s': %s", TREE_SRC);
	n->srcfd = res;
	return TS_STAT_SRC;
}

static enum tstate
tree_on_stat_src(struct tnode *n, int res)
{
	if (res < 0)
		return tree_fail(n, res, "cannot copy directory '%s': %s", TREE_SRC);
	if (path_on_procfs(&n->stx))
		return tree_fail(n, -EPERM, PATH_PROCFS_REFUSED ": %s", TREE_SRC);
	if (n->parent && tree_into_itself(n))
		return tree_fail_into_itself(n);
	if (n->parent && n->parent->phantom)
		return tree_phantom(n);
	/* Inside a hidden directory nothing can be in the way (unless the last run made it). */
	return n->parent && n->parent->hidden && !n->parent->adopted ? TS_MKDIR : TS_OPEN_FINAL;
}

static enum tstate
tree_on_open_dst(struct tnode *n, int res)
{
	if (res == -ENOENT && n->adopted)
		return tree_unadopt(n);
	if (res < 0)
		return tree_fail(n, res == -ENOTDIR || res == -ELOOP ? -ENOTDIR : res,
		    "cannot copy a directory to '%s': %s", TREE_DST);
	n->dstfd = res;
	return TS_STAT_DST;
}

static enum tstate
tree_on_open_final(struct tnode *n, int res)
{
	const struct job_request *req = &n->job->req;

	if (res == -ENOENT)
		return req->dry_run ? tree_phantom(n) : tree_adopt(n) ? TS_OPEN_DST : TS_MKDIR;
	/* dry_run: the entry in the way was only told deleted (tree_delete.c). */
	if ((res == -ENOTDIR || res == -ELOOP) && req->dry_run && req->delete &&
	    n->parent && n->parent->existed)
		return tree_phantom(n);
	if (res >= 0)
		n->existed = true;	/* merge, as cp does */
	return tree_on_open_dst(n, res);
}

static enum tstate
tree_on_mkdir(struct tnode *n, int res)
{
	if (res < 0)
		return tree_fail(n, res, "cannot create directory '%s': %s", TREE_DST);
	tree_created(n);
	if (n->tmpname[0])
		n->staged = true;
	return TS_OPEN_DST;
}

static enum tstate
tree_on_stat_dst(struct tnode *n, int res)
{
	if (res < 0)
		return tree_fail(n, res, "cannot copy directory '%s': %s", TREE_SRC);
	if (n->parent == NULL) {
		n->root_dev = makedev(n->dstx.stx_dev_major, n->dstx.stx_dev_minor);
		n->root_ino = n->dstx.stx_ino;
		if (tree_into_itself(n))
			return tree_fail_into_itself(n);
	}
	return n->existed && n->job->req.delete ? TS_DELETE : TS_READ;
}

static enum tstate
tree_on_meta(struct tnode *n, int res)
{
	if (res < 0)
		return tree_fail(n, res, "cannot set the attributes of '%s': %s", TREE_DST);
	return tree_next(n, TS_META);
}

static enum tstate
tree_on_fsync(struct tnode *n, int res)
{
	char *path;

	/* As for a file (copy_apply): final, and fatal for the job. */
	if (res < 0) {
		path = tree_path(n, TREE_DST, NULL);
		job_fail(n->job, res, "cannot sync directory '%s'", path ? path : n->name);
		free(path);
	}
	return tree_fail(n, res, "cannot sync directory '%s': %s", TREE_DST);
}

static enum tstate
tree_on_move(struct tnode *n, int res)
{
	if (res < 0) {
		/* EEXIST: the name appeared meanwhile. Not left hidden:
		 * as a file's temporary, it goes. */
		tree_error(n, res, "cannot put the copy in place as '%s': %s", TREE_DST);
		return TS_REMOVE;
	}
	tree_moved(n);
	return tree_next(n, TS_MOVE);
}

static enum tstate
tree_on_remove(struct tnode *n, int res)
{
	char *src, *dst;

	if (res < 0 && res != -ENOENT) {
		src = tree_path(n, TREE_SRC, NULL);
		dst = tree_path(n, TREE_DST, NULL);
		log_warnx("job %llu: cannot remove the copy of '%s' under '%s' beside "
		    "'%s': %s", (unsigned long long)n->job->id, src ? src : n->name,
		    n->tmpname, dst ? dst : n->name, strerror(-res));
		free(src);
		free(dst);
	}
	return tree_next(n, TS_REMOVE);
}

/* A stopping job's directory that is still being set up ends with what it has. */
static enum tstate
tree_on_stopped(struct tnode *n, int res)
{
	if (res >= 0 && (n->state == TS_OPEN_SRC || n->state == TS_OPEN_FINAL ||
	    n->state == TS_OPEN_DST))
		close(res);
	if (n->state == TS_MKDIR && res == 0 && n->tmpname[0])
		n->staged = true;	/* made: it goes into place all the same */
	if (n->state == TS_DELETE)
		(void)tree_delete_on(n, res);	/* what went is told all the same */
	return tree_next(n, TS_FSYNC);
}

/* Every state that has an operation: how to make it, and what its result leads to. */
static const struct tree_step {
	struct eop	*(*op)(struct tnode *);
	enum tstate	 (*on)(struct tnode *, int);
} tree_steps[TS_COUNT] = {
	[TS_OPEN_SRC] =		{ tree_open_src_op,	tree_on_open_src },
	[TS_STAT_SRC] =		{ tree_stat_src_op,	tree_on_stat_src },
	[TS_OPEN_FINAL] =	{ tree_open_dst_op,	tree_on_open_final },
	[TS_MKDIR] =		{ tree_mkdir_op,	tree_on_mkdir },
	[TS_OPEN_DST] =		{ tree_open_dst_op,	tree_on_open_dst },
	[TS_STAT_DST] =		{ tree_stat_dst_op,	tree_on_stat_dst },
	[TS_DELETE] =		{ tree_delete_op,	tree_delete_on },
	[TS_READ] =		{ NULL,			tree_read_done },	/* tree_read_on */
	[TS_META] =		{ tree_meta_op,		tree_on_meta },
	[TS_FSYNC] =		{ tree_fsync_op,	tree_on_fsync },
	[TS_MOVE] =		{ tree_move_op,		tree_on_move },
	[TS_REMOVE] =		{ tree_remove_op,	tree_on_remove },
};

static struct tree_job *
tree_job_get(struct job *job)
{
	struct tree_job *tj = job->tree_job;

	if (tj || (tj = calloc(1, sizeof(*tj))) == NULL)
		return tj;
	tj->share.uid = job->cred->uid;
	/* Checked when the job was asked for (request.c): only memory lacks here. */
	if (filter_compile(job->req.filters, job->req.nfilters, &tj->filters) < 0) {
		free(tj);
		return NULL;
	}
	return job->tree_job = tj;
}

void
tree_job_free(struct job *job)
{
	if (job->tree_job)
		filter_free(job->tree_job->filters);
	free(job->tree_job);
	job->tree_job = NULL;
}

unsigned
tree_nodes(const struct job *job)
{
	return job->tree_job ? job->tree_job->nodes : 0;
}

/*
 * The directory and everything in it have ended. Its fds go back to its
 * user's share last, when the parent has heard of it: a directory that
 * was waiting for them starts then.
 */
void
tree_end(struct tnode *n)
{
	struct job	*job = n->job;
	struct tnode	*parent = n->parent;
	uid_t		 uid = job->cred->uid;
	bool		 held = n->fds_held;
	char		*path, *rel;

	job->tree_job->nodes--;
	/* Renamed into place, or removed (or left, and said so): not ours any more. */
	if (n->tmpname[0] && (rel = tree_temp_rel(n)) != NULL) {
		partial_drop(job, rel);
		clean_temp_gone(job, rel);
	}
	if (held)
		fdshare_give(&job->tree_job->share, TREE_NODE_FDS);
	path = n->end_err ? tree_path(n, TREE_SRC, NULL) : NULL;
	job_dir_end(job, parent, n->end_err, path ? path : n->name, n->end_msg);
	free(path);
	tree_free(n);
	if (parent) {
		parent->dirs_open--;
		tree_child_done(parent);
	}
	if (held)
		tree_admit_wake(uid);
	/* A sibling directory may have waited for this one (tree_may_start). */
	if (parent)
		job_fill(job);
}

void
tree_enter(struct tnode *n, enum tstate next)
{
	bool set_up = n->state < TS_READ && next >= TS_READ;

	tree_change_state(n, next);
	if (set_up)
		job_dir_ready(n->job);	/* no longer one of the job's items in flight */
	switch (next) {
	case TS_READ:
		if (set_up)
			tree_window_trim(n);
		tree_read_on(n);
		return;
	case TS_END:
		if (!tree_window_lift(n))
			tree_end(n);
		return;
	default:
		engine_submit(next == TS_OPEN_SRC ? tree_ahead_op(n) : tree_steps[next].op(n));
	}
}

struct eop *
tree_step_op(struct tnode *n, enum tstate s)
{
	return tree_steps[s].op(n);
}

static void
tree_step_done(struct eop *op, int res)
{
	struct tnode	*n = op->owner;
	struct job	*job = n->job;
	bool		 read = n->state == TS_READ;
	enum tstate	 next;

	for (;;) {
		if (n->state < TS_READ && job_stopping(job))
			next = tree_on_stopped(n, res);
		else
			next = tree_steps[n->state].on(n, res);
		/* The next step's result, if it ran ahead with this one (tree_ahead.c). */
		if (!tree_ahead_take(n, next, &res))
			break;
		tree_change_state(n, next);
	}
	tree_enter(n, next);
	/* Last: starting the entries may end n (a stopping job drops them,
	 * and the last one finishes the directory). */
	if (read)
		job_fill(job);
}

void
tree_child_done(struct tnode *n)
{
	n->children--;
	if (n->children == 0 && (n->eof || job_stopping(n->job)) && !n->reading)
		tree_enter(n, tree_next(n, TS_READ));
	else
		tree_window_check(n);
}

void
tree_start(struct job *job, struct item *it)
{
	struct tnode *n = calloc(1, sizeof(*n));

	if (n) {
		n->srcfd = n->dstfd = -1;	/* tree_free() on the way out closes them */
		n->read_at = -1;
	}
	if (n == NULL || tree_job_get(job) == NULL || (n->name = strdup(it->name)) == NULL ||
	    (it->parent == NULL && (n->dstpath = item_dstpath(job, it)) == NULL)) {
		if (n)
			tree_free(n);
		job_dir_ready(job);
		job_dir_end(job, it->parent, -ENOMEM, it->src, "out of memory");
		if (it->parent)
			tree_child_done(it->parent);
		free(it);
		return;
	}
	n->job = job;
	n->parent = it->parent;
	/* Where it was found, until its own statx says (tree_op()). */
	n->stx.stx_dev_major = it->dev_major;
	n->stx.stx_dev_minor = it->dev_minor;
	if (n->parent) {
		n->parent->dirs_open++;
		n->parent->pinned++;	/* as TS_START does (tree_window_pins) */
		n->root_dev = n->parent->root_dev;
		n->root_ino = n->parent->root_ino;
	}
	job->tree_job->nodes++;
	/* The item's storage goes; the source name is the destination name
	 * in a tree, and a top-level source is the job's own string. */
	n->src = it->parent ? n->name : it->src;
	/* SRC/.: its entries' paths for the filters start below it (rsync's). */
	n->contents_root = it->parent == NULL && path_is_dot(it->src);
	free(it);
	tree_admit(n);
}
