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
 * job's restart removes.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "copy.h"
#include "job.h"
#include "log.h"
#include "path.h"
#include "tree.h"

#define TREE_BUF	(32 * 1024)	/* bytes of directory entries per read */
#define TREE_QUEUE_LOW	512		/* read on while fewer items wait */

enum tstate {
	TS_OPEN_SRC, TS_STAT_SRC, TS_OPEN_FINAL, TS_MKDIR, TS_OPEN_DST, TS_STAT_DST, TS_READ,
	TS_META, TS_FSYNC, TS_MOVE, TS_REMOVE,
};

struct linux_dirent64 {
	uint64_t	d_ino;
	int64_t		d_off;
	unsigned short	d_reclen;
	unsigned char	d_type;
	char		d_name[];
};

static void tree_step_done(struct eop *, int);
static void tree_read(struct tnode *);

struct item *
item_new(struct tnode *parent, const char *src, const char *name, unsigned char dtype)
{
	size_t		 len = strlen(name) + 1;
	struct item	*it = malloc(sizeof(*it) + len);

	if (it == NULL)
		return NULL;
	it->next = NULL;
	it->parent = parent;
	memcpy(it->name, name, len);
	it->src = parent ? it->name : src;
	it->dtype = dtype;
	return it;
}

int
item_srcdir(const struct item *it)
{
	return it->parent ? it->parent->srcfd : AT_FDCWD;
}

int
item_dstdir(const struct job *job, const struct item *it)
{
	return it->parent ? it->parent->dstfd : job->dirfd;
}

static char *
path_join(const char *dir, const char *name)
{
	size_t	 dlen = strlen(dir);
	char	*p;

	while (dlen > 1 && dir[dlen - 1] == '/')
		dlen--;
	return asprintf(&p, "%.*s/%s", (int)dlen, dir, name) < 0 ? NULL : p;
}

char *
item_srcpath(const struct item *it)
{
	return it->parent ? path_join(it->parent->srcpath, it->name) : strdup(it->src);
}

char *
item_dstpath(const struct job *job, const struct item *it)
{
	if (it->parent)
		return path_join(it->parent->dstpath, it->name);
	if (!job->into_dir)
		return strdup(job->req.destination);
	return path_join(job->req.destination, it->name);
}

char *
item_rel(const struct item *it)
{
	return it->parent ? path_join(it->parent->rel, it->name) : strdup(it->name);
}

bool
item_hidden(const struct item *it)
{
	return it->parent && it->parent->hidden;
}

static void
tree_free(struct tnode *n)
{
	if (n->srcfd >= 0)
		close(n->srcfd);
	if (n->dstfd >= 0)
		close(n->dstfd);
	free(n->srcpath);
	free(n->dstpath);
	free(n->rel);
	free(n->name);
	free(n->buf);
	free(n->end_msg);
	free(n);
}

static struct eop *
tree_op(struct tnode *n, enum tstate state, enum eop_type type)
{
	struct eop *op = job_op_init(n->job, &n->op, type, tree_step_done);

	n->state = state;
	op->owner = n;
	return op;
}

/* The first error of the directory: fmt has a %s for path and one for the error. */
static void
tree_error(struct tnode *n, int err, const char *fmt, const char *path)
{
	if (err == 0 || n->end_err != 0)
		return;
	n->end_err = err;
	if (asprintf(&n->end_msg, fmt, path, strerror(-err)) < 0)
		n->end_msg = NULL;
}

/* In a pool thread, as the caller: a copy that cannot be put in place goes. */
static long
tree_remove_run(struct eop *op)
{
	return path_remove_tree(op->dirfd, op->path) < 0 ? -errno : 0;
}

/* The directory and everything in it have ended; a staged one is first put in place. */
static void
tree_end(struct tnode *n, int err, const char *fmt, const char *path)
{
	struct job	*job = n->job;
	struct tnode	*parent = n->parent;
	struct eop	*op;

	tree_error(n, err, fmt, path);
	if (n->staged) {
		n->staged = false;
		op = tree_op(n, TS_MOVE, EOP_RENAME);
		op->dirfd = parent ? parent->dstfd : job->dirfd;
		op->path = n->tmpname;
		op->path2 = n->name;
		op->flags = RENAME_NOREPLACE;
		engine_submit(op);
		return;
	}
	job->nodes--;
	job_dir_end(job, parent, n->end_err, n->srcpath, n->end_msg);
	tree_free(n);
	if (parent)
		tree_child_done(parent);
}

/* The destination directory's path from the job's directory, by the name it has now. */
static int
tree_set_rel(struct tnode *n, const char *name)
{
	char *rel = n->parent ? path_join(n->parent->rel, name) : strdup(name);

	if (rel == NULL)
		return -ENOMEM;
	free(n->rel);
	n->rel = rel;
	return 0;
}

/* Renamed into place: paths kept through the temporary name follow. */
static void
tree_moved(struct tnode *n)
{
	char *old = n->rel;

	n->rel = NULL;
	if (tree_set_rel(n, n->name) < 0) {
		n->rel = old;
		return;
	}
	copy_hlinks_moved(n->job, old, n->rel);
	free(old);
}

/* The new directory, made where it goes inside a hidden one, else under a temporary name. */
static void
tree_mkdir(struct tnode *n)
{
	struct eop *op = tree_op(n, TS_MKDIR, EOP_MKDIR);

	n->hidden = true;
	if (!(n->parent && n->parent->hidden))
		path_new_temp_name(n->tmpname, sizeof(n->tmpname), n->job->id);
	op->dirfd = n->parent ? n->parent->dstfd : n->job->dirfd;
	op->path = n->tmpname[0] ? n->tmpname : n->name;
	op->mode = 0700;	/* ours to fill; its real mode comes last */
	engine_submit(op);
}

static void
tree_open_dst(struct tnode *n, enum tstate state, const char *name)
{
	struct eop *op = tree_op(n, state, EOP_OPEN);

	op->dirfd = n->parent ? n->parent->dstfd : n->job->dirfd;
	op->path = name;
	op->flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
	op->resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
	engine_submit(op);
}

/*
 * With sync, the directory's entries are made durable once all are in;
 * its own entry in its parent is the parent's to sync, which ends later
 * (the top one's, the job's, in job_files_done()).
 */
static void
tree_sync(struct tnode *n)
{
	struct eop *op;

	if (!n->job->req.sync || job_stopping(n->job)) {
		tree_end(n, 0, NULL, NULL);
		return;
	}
	op = tree_op(n, TS_FSYNC, EOP_FSYNC);
	op->fd = n->dstfd;
	engine_submit(op);
}

/* Last: the directory's own metadata, now that its contents are in. */
static void
tree_finish(struct tnode *n)
{
	struct job	*job = n->job;
	struct eop	*op;

	if (job_stopping(job) || n->dstfd < 0) {
		tree_end(n, 0, NULL, NULL);
		return;
	}
	op = tree_op(n, TS_META, EOP_META);
	op->fd = n->srcfd;
	op->fd2 = n->dstfd;
	op->stx = &n->stx;
	if (job->req.archive)
		op->meta_flags = META_OWNER | META_MODE | META_TIMES | META_XATTRS;
	else if (!n->existed) {
		/* As cp -r: the source's permission bits less the umask. */
		n->stx.stx_mode &= (uint16_t)(0777 & ~job->req.umask);
		op->meta_flags = META_MODE;
	} else {
		tree_sync(n);
		return;
	}
	engine_submit(op);
}

void
tree_child_done(struct tnode *n)
{
	n->children--;
	if (n->children == 0 && (n->eof || job_stopping(n->job)) && !n->reading)
		tree_finish(n);
}

/* Queue the entries of the batch just read. */
static int
tree_queue(struct tnode *n, size_t len)
{
	struct job *job = n->job;

	for (size_t off = 0; off < len; ) {
		struct linux_dirent64	*d = (struct linux_dirent64 *)(n->buf + off);
		struct item		*it;

		off += d->d_reclen;
		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		if ((it = item_new(n, NULL, d->d_name, d->d_type)) == NULL)
			return -ENOMEM;
		n->children++;
		if (d->d_type != DT_DIR)
			job_add_total(job, 1, 0);
		job_push_item(job, it);
	}
	return 0;
}

static void
tree_read(struct tnode *n)
{
	struct eop *op;

	if (n->eof || n->reading)
		return;
	if (job_stopping(n->job)) {
		n->eof = true;
		return;
	}
	if (n->job->nitems >= TREE_QUEUE_LOW) {
		/* Wait for the stack to drain; tree_kick() reads on. */
		n->next_reader = n->job->readers;
		n->job->readers = n;
		n->reading = true;	/* parked counts as reading */
		return;
	}
	if (n->buf == NULL && (n->buf = malloc(TREE_BUF)) == NULL) {
		n->eof = true;
		job_fail(n->job, -ENOMEM, "cannot read '%s'", n->srcpath);
		return;
	}
	n->reading = true;
	op = tree_op(n, TS_READ, EOP_READDIR);
	op->fd = n->srcfd;
	op->buf = n->buf;
	op->len = TREE_BUF;
	engine_submit(op);
}

void
tree_kick(struct job *job)
{
	struct tnode *n;

	while (job->nitems < TREE_QUEUE_LOW && (n = job->readers) != NULL) {
		job->readers = n->next_reader;
		n->reading = false;
		tree_read(n);
		if (n->children == 0 && n->eof && !n->reading)
			tree_finish(n);
	}
}

/* The source directory is its own destination's ancestor: cp -r a a/b. */
static bool
tree_into_itself(const struct tnode *n)
{
	return n->stx.stx_ino == n->root_ino &&
	    makedev(n->stx.stx_dev_major, n->stx.stx_dev_minor) == n->root_dev;
}

static void
tree_step_done(struct eop *done, int res)
{
	struct tnode	*n = done->owner;
	struct job	*job = n->job;
	struct eop	*op;

	if (job_stopping(job) && n->state < TS_READ) {
		if (res >= 0 && (n->state == TS_OPEN_SRC || n->state == TS_OPEN_FINAL ||
		    n->state == TS_OPEN_DST))
			close(res);
		if (n->state == TS_MKDIR && res == 0 && n->tmpname[0])
			n->staged = true;	/* made: it goes into place all the same */
		job_dir_ready(job);
		tree_end(n, 0, NULL, NULL);
		return;
	}
	switch ((enum tstate)n->state) {
	case TS_OPEN_SRC:
		if (res < 0)
			goto setup_failed;
		n->srcfd = res;
		op = tree_op(n, TS_STAT_SRC, EOP_STATX);
		op->dirfd = n->srcfd;
		op->path = "";
		op->flags = AT_EMPTY_PATH;
		op->stx = &n->stx;
		engine_submit(op);
		return;
	case TS_STAT_SRC:
		if (res < 0)
			goto setup_failed;
		if (path_on_procfs(n->stx.stx_dev_major, n->stx.stx_dev_minor)) {
			job_dir_ready(job);
			tree_end(n, -EPERM, PATH_PROCFS_REFUSED ": %s", n->srcpath);
			return;
		}
		if (n->parent && tree_into_itself(n)) {
			res = -ELOOP;
			goto into_itself;
		}
		/* Inside a hidden directory nothing can be in the way. */
		if (n->parent && n->parent->hidden)
			tree_mkdir(n);
		else
			tree_open_dst(n, TS_OPEN_FINAL, n->name);
		return;
	case TS_OPEN_FINAL:
		if (res == -ENOENT) {
			tree_mkdir(n);
			return;
		}
		if (res >= 0)
			n->existed = true;	/* merge, as cp does */
		goto opened;
	case TS_MKDIR:
		if (res < 0) {
			job_dir_ready(job);
			tree_end(n, res, "cannot create directory '%s': %s", n->dstpath);
			return;
		}
		if (n->tmpname[0]) {
			n->staged = true;
			if ((res = tree_set_rel(n, n->tmpname)) < 0)
				goto setup_failed;
		}
		tree_open_dst(n, TS_OPEN_DST, n->tmpname[0] ? n->tmpname : n->name);
		return;
	case TS_OPEN_DST:
	opened:
		if (res < 0) {
			job_dir_ready(job);
			tree_end(n, res == -ENOTDIR || res == -ELOOP ? -ENOTDIR : res,
			    "cannot copy a directory to '%s': %s", n->dstpath);
			return;
		}
		n->dstfd = res;
		op = tree_op(n, TS_STAT_DST, EOP_STATX);
		op->dirfd = n->dstfd;
		op->path = "";
		op->flags = AT_EMPTY_PATH;
		op->stx = &n->dstx;
		engine_submit(op);
		return;
	case TS_STAT_DST:
		if (res < 0)
			goto setup_failed;
		if (n->parent == NULL) {
			n->root_dev = makedev(n->dstx.stx_dev_major, n->dstx.stx_dev_minor);
			n->root_ino = n->dstx.stx_ino;
			if (tree_into_itself(n)) {
				res = -ELOOP;
				goto into_itself;
			}
		}
		job_dir_ready(job);	/* set up: no longer one of the files in flight */
		tree_read(n);
		return;
	case TS_READ:
		n->reading = false;
		if (res <= 0) {
			n->eof = true;
			free(n->buf);
			n->buf = NULL;
			if (res < 0)
				job_dir_failed(job, res, n->srcpath, "cannot read directory '%s': %s");
		} else if ((res = tree_queue(n, (size_t)res)) < 0) {
			n->eof = true;
			job_dir_failed(job, res, n->srcpath, "cannot read directory '%s': %s");
		}
		/* Read on first: starting the entries may end n (a stopping
		 * job drops them, and the last one finishes the directory). */
		tree_read(n);
		if (n->children == 0 && n->eof && !n->reading)
			tree_finish(n);
		job_fill(job);
		return;
	case TS_META:
		if (res < 0)
			tree_end(n, res, "cannot set the attributes of '%s': %s", n->dstpath);
		else
			tree_sync(n);
		return;
	case TS_FSYNC:
		/* As for a file (copy.c): final, and fatal for the job. */
		if (res < 0)
			job_fail(job, res, "cannot sync directory '%s'", n->dstpath);
		tree_end(n, res < 0 ? res : 0, "cannot sync directory '%s': %s", n->dstpath);
		return;
	case TS_MOVE:
		if (res < 0) {
			/* EEXIST: the name appeared meanwhile. Not left hidden:
			 * as a file's temporary, it goes. */
			tree_error(n, res, "cannot put the copy in place as '%s': %s", n->dstpath);
			op = tree_op(n, TS_REMOVE, EOP_CALL);
			op->run = tree_remove_run;
			op->dirfd = n->parent ? n->parent->dstfd : job->dirfd;
			op->path = n->tmpname;
			engine_submit(op);
			return;
		}
		tree_moved(n);
		tree_end(n, 0, NULL, NULL);
		return;
	case TS_REMOVE:
		if (res < 0 && res != -ENOENT)
			log_warnx("job %llu: cannot remove the copy of '%s' under '%s' beside "
			    "'%s': %s", (unsigned long long)job->id, n->srcpath, n->tmpname,
			    n->dstpath, strerror(-res));
		tree_end(n, 0, NULL, NULL);
		return;
	}
	return;
into_itself:
	job_dir_ready(job);
	tree_end(n, -EINVAL, "cannot copy '%s' into itself (%s)", n->srcpath);
	(void)res;
	return;
setup_failed:
	job_dir_ready(job);
	tree_end(n, res, "cannot copy directory '%s': %s", n->srcpath);
}

void
tree_start(struct job *job, struct item *it)
{
	struct tnode	*n = calloc(1, sizeof(*n));
	struct eop	*op;

	if (n == NULL || (n->name = strdup(it->name)) == NULL ||
	    (n->srcpath = item_srcpath(it)) == NULL ||
	    (n->dstpath = item_dstpath(job, it)) == NULL ||
	    (n->rel = item_rel(it)) == NULL) {
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
	n->srcfd = n->dstfd = -1;
	if (n->parent) {
		n->root_dev = n->parent->root_dev;
		n->root_ino = n->parent->root_ino;
	}
	job->nodes++;
	op = tree_op(n, TS_OPEN_SRC, EOP_OPEN);
	op->dirfd = item_srcdir(it);
	/* The item's storage goes; the source name is the destination name
	 * in a tree, and a top-level source is the job's own string. */
	n->src = it->parent ? n->name : it->src;
	op->path = n->src;
	op->flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
	op->resolve = RESOLVE_NO_MAGICLINKS;
	free(it);
	engine_submit(op);
}
