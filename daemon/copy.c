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
 * Every step is an engine operation made with the caller's credentials;
 * a failure at any step removes the temporary.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "copy.h"
#include "cred.h"
#include "engine.h"
#include "job.h"
#include "log.h"
#include "path.h"
#include "reserve.h"
#include "tree.h"

#define COPY_MAX_EXTENTS	256	/* more, and a sparse file is copied whole */
#define HLINK_BUCKETS		256

enum copy_state {
	CS_LSTAT, CS_OPEN_SRC, CS_STAT_SRC, CS_STAT_DST, CS_OPEN_DST, CS_COMPARE,
	CS_READLINK, CS_CREATE, CS_CLONE, CS_EXTENTS, CS_ALLOCATE, CS_DATA, CS_RECHECK,
	CS_TRUNCATE, CS_META, CS_FSYNC, CS_LINK_TEMP, CS_LINK_FINAL, CS_RENAME,
	CS_UNLINK,
};

enum copy_kind { K_FILE, K_SYMLINK, K_SPECIAL, K_HARDLINK };

/* A file with several links, copied once; its other names are linked to it. */
struct hlink {
	struct hlink	*next;
	dev_t		 dev;
	uint64_t	 ino;
	char		*rel;		/* the copy, relative to the job's directory */
	int		 state;		/* 0 being copied, 1 done, -1 failed */
	struct copy	*waiters;
};

struct copy {
	struct job	*job;
	struct item	*item;
	enum copy_state	 state;
	enum copy_kind	 kind;
	char		*srcpath, *dstpath;	/* for messages */
	char		 tmp[64];
	char		 tmpfd_path[32];	/* /proc/self/fd/N of a nameless one */
	int		 srcfd, tmpfd;
	bool		 created;	/* a named temporary exists: remove it on failure */
	bool		 nameless;	/* the temporary is O_TMPFILE: link it in */
	bool		 direct;	/* made under its name, in a hidden directory (tree.c) */
	bool		 linked_by_proc;	/* through /proc/self/fd, not AT_EMPTY_PATH */
	bool		 dst_exists;	/* something is to be replaced */
	bool		 try_clone;	/* copy_whole_run: FICLONE first */
	bool		 clone_failed;	/* copy_whole_run: this filesystem cannot */
	unsigned	 create_tries;
	struct statx	 stx, dstx;
	struct statx	 stx_end;	/* the source again, after its data */
	struct eop	 step;
	struct eop	 whole;		/* copy_whole_run, whose steps are in step */
	struct eop	*lanes;
	unsigned	 busy;		/* lanes in flight */
	uint64_t	 next_off, copied;
	uint64_t	 end_off;	/* dense: the back lanes' next chunk ends here */
	bool		 mapped;	/* back lanes read into the copy's pages */
	struct extent	*ext;		/* sparse: the data extents, else NULL */
	unsigned	 next_ext, next_nr;
	char		*target;	/* symlink */
	struct hlink	*hl;		/* the link group this copy is the first of */
	struct hlink	*link_to;	/* K_HARDLINK: the group's copy */
	char		*link_path;	/* K_HARDLINK: link_to's path as linked */
	struct copy	*next_waiter;
	enum method	 method;
	int		 err;
	char		*msg;
};

static void copy_step_done(struct eop *, int);
static void copy_lane_done(struct eop *, int);
static void copy_after_stat_src(struct copy *);

/* The job is cancelled, or failed and does not keep going: no more work for this copy. */
static bool
copy_stopping(const struct copy *c)
{
	return c->job->cancelling || (job_stopping(c->job) && !c->job->req.keep_going);
}

/* Go on as if the step state had completed with res. */
static void
copy_step_done_at(struct copy *c, enum copy_state state, int res)
{
	c->state = state;
	c->step.owner = c;
	copy_step_done(&c->step, res);
}

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
	free(c->ext);
	free(c->target);
	free(c->link_path);
	free(c->srcpath);
	free(c->dstpath);
	free(c->msg);
	free(c->item);
	free(c);
}

/* Hard links: the group of (dev, ino), created when absent. */
static struct hlink *
copy_hlink(struct job *job, const struct statx *stx, bool *created)
{
	dev_t		 dev = makedev(stx->stx_dev_major, stx->stx_dev_minor);
	struct hlink	*h, **b;

	*created = false;
	if (job->hlinks == NULL &&
	    (job->hlinks = calloc(HLINK_BUCKETS, sizeof(*job->hlinks))) == NULL)
		return NULL;
	b = &job->hlinks[(stx->stx_ino ^ dev) % HLINK_BUCKETS];
	for (h = *b; h; h = h->next)
		if (h->ino == stx->stx_ino && h->dev == dev)
			return h;
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	h->dev = dev;
	h->ino = stx->stx_ino;
	h->next = *b;
	*b = h;
	*created = true;
	return h;
}

void
copy_hlinks_free(struct job *job)
{
	if (job->hlinks == NULL)
		return;
	for (int i = 0; i < HLINK_BUCKETS; i++)
		while (job->hlinks[i]) {
			struct hlink *h = job->hlinks[i];
			job->hlinks[i] = h->next;
			free(h->rel);
			free(h);
		}
	free(job->hlinks);
	job->hlinks = NULL;
}

void
copy_hlinks_moved(struct job *job, const char *from, const char *to)
{
	size_t	flen = strlen(from);
	char	*rel;

	if (job->hlinks == NULL)
		return;
	for (int i = 0; i < HLINK_BUCKETS; i++)
		for (struct hlink *h = job->hlinks[i]; h; h = h->next) {
			if (h->rel == NULL || strncmp(h->rel, from, flen) != 0 ||
			    h->rel[flen] != '/' ||
			    asprintf(&rel, "%s%s", to, h->rel + flen) < 0)
				continue;
			free(h->rel);
			h->rel = rel;
		}
}

/* The first copy of a link group ended: the others link to it, or copy. */
static void
copy_hlink_settle(struct copy *c, bool ok)
{
	struct hlink *h = c->hl;
	struct copy  *w;

	h->state = ok && (h->rel = item_rel(c->item)) != NULL ? 1 : -1;
	while ((w = h->waiters) != NULL) {
		h->waiters = w->next_waiter;
		copy_after_stat_src(w);
	}
}

static void
copy_finish(struct copy *c)
{
	struct job *job = c->job;

	if (c->hl)
		copy_hlink_settle(c, c->err == 0);
	/* A temporary that was not published goes with its last close. */
	if (c->err && c->tmpfd >= 0) {
		engine_close(c->tmpfd);
		c->tmpfd = -1;
	}
	job_file_end(job, c->item->parent, c->err, c->srcpath, c->msg, c->method);
	copy_free(c);
}

/* Prepare the next step: an operation on the destination directory. */
static struct eop *
copy_op(struct copy *c, enum copy_state state, enum eop_type type)
{
	struct eop *op = job_op_init(c->job, &c->step, type, copy_step_done);

	c->state = state;
	op->owner = c;
	op->dirfd = item_dstdir(c->job, c->item);
	op->fd2 = -1;
	return op;
}

static void
copy_new_temp_name(struct copy *c)
{
	path_new_temp_name(c->tmp, sizeof(c->tmp), c->job->id);
}

/* Where the new thing is made: its temporary name, or its own (direct). */
static const char *
copy_made_path(const struct copy *c)
{
	return c->direct ? c->item->name : c->tmp;
}

/*
 * A hard link's target in a new directory may have been renamed into
 * place with it while the link was on its way (the rename's completion
 * may not even be in yet): a path through a temporary name, or one that
 * has changed, is worth another try.
 */
static bool
copy_link_moved(const struct copy *c)
{
	return c->link_path && (strcmp(c->link_path, c->link_to->rel) != 0 ||
	    strstr(c->link_path, PATH_TEMP_PREFIX) != NULL);
}

/* Make the new thing under a temporary name, or none (c->nameless). */
static struct eop *
copy_create_op(struct copy *c)
{
	struct job	*job = c->job;
	struct eop	*op;

	if (!c->nameless && !c->direct)
		copy_new_temp_name(c);
	switch (c->kind) {
	case K_FILE:
		op = copy_op(c, CS_CREATE, EOP_OPEN);
		/* Read and write: a mapping needs both (copy_map_may). */
		op->flags = c->nameless ? O_RDWR | O_TMPFILE | O_CLOEXEC :
		    O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
		/* The daemon's umask is 0; the caller's applies, as with cp.
		 * With archive the exact mode comes with the metadata, after
		 * the owner; a named temporary is private until then, and a
		 * nameless one, or one in a directory only its owner may
		 * enter, can be opened by nobody else, so it gets the
		 * permission bits at once (one change less to make). */
		op->mode = !job->req.archive ? c->stx.stx_mode & 0777 & ~job->req.umask :
		    c->nameless || c->direct ? c->stx.stx_mode & 0777 : 0600;
		op->resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
		break;
	case K_SYMLINK:
		op = copy_op(c, CS_CREATE, EOP_SYMLINK);
		op->path2 = c->target;
		break;
	case K_SPECIAL:
		op = copy_op(c, CS_CREATE, EOP_MKNOD);
		op->mode = c->stx.stx_mode & (S_IFMT | (job->req.archive ? 07777 :
		    0777 & ~job->req.umask));
		op->off = makedev(c->stx.stx_rdev_major, c->stx.stx_rdev_minor);
		break;
	case K_HARDLINK:
	default:
		op = copy_op(c, CS_CREATE, EOP_LINK);
		op->dirfd2 = job->dirfd;
		/* Its own copy: link_to->rel changes when a new directory on
		 * the way is renamed into place (copy_hlinks_moved). */
		free(c->link_path);
		op->path2 = c->link_path = strdup(c->link_to->rel);
		break;
	}
	op->path = c->nameless ? "." : copy_made_path(c);
	return op;
}

static void
copy_create(struct copy *c)
{
	/* Linking in cannot replace a file: a named temporary then. */
	c->nameless = c->kind == K_FILE && !c->direct && !c->job->no_tmpfile && !c->dst_exists;
	engine_submit(copy_create_op(c));
}

/*
 * The next chunk of the file, in lane op: from the next data extent of a
 * sparse file, or the next bytes of a dense one. A chunk is small enough
 * for a bandwidth limit to be kept smoothly (an eighth of a second's worth).
 */
static bool
copy_more(const struct copy *c)
{
	return c->ext ? c->next_ext < c->next_nr : c->next_off < c->end_off;
}

/*
 * A mapped copy's back lanes (every other lane) take chunks from the
 * end of the file towards its front lanes; a chunk starts on a page,
 * as a mapping must. While interactive work is about they work from the
 * front instead: the back's threads would take CPU time the loop and
 * its clients wait for, on top of the front's (see reserve.c).
 */
static bool
copy_lane_is_back(const struct copy *c, const struct eop *op)
{
	return c->mapped && (op - c->lanes) % 2 == 1 && reserve_quiet();
}

static void
copy_lane_start(struct copy *c, struct eop *op)
{
	struct job	*job = c->job;
	uint64_t	 chunk = cpd_conf->engine.chunk_size, off, left;
	bool		 back = copy_lane_is_back(c, op);

	if (job->req.bwlimit && chunk > job->req.bwlimit / 8)
		chunk = job->req.bwlimit / 8 < 4096 ? 4096 : job->req.bwlimit / 8;
	if (c->ext) {
		struct extent *e = &c->ext[c->next_ext];
		off = e->off + c->next_off;
		left = e->len - c->next_off;
	} else if (back) {
		left = c->end_off - c->next_off;
		off = c->end_off - (left < chunk ? left : chunk);
		off -= off % (uint64_t)sysconf(_SC_PAGESIZE);
		if (off < c->next_off)
			off = c->next_off;
		left = c->end_off - off;
	} else {
		off = c->next_off;
		left = c->end_off - c->next_off;
	}
	job_op_init(job, op, EOP_COPY, copy_lane_done);
	op->owner = c;
	op->fd = c->srcfd;
	op->fd2 = c->tmpfd;
	op->off = off;
	op->len = back || left < chunk ? left : chunk;
	op->bulk = c->stx.stx_size >= cpd_conf->engine.async_threshold;
	op->mapped = back;
	if (back) {
		c->method = M_MAPPED;
		c->end_off = off;
	} else
		c->next_off += op->len;
	if (c->ext && c->next_off == c->ext[c->next_ext].len) {
		c->next_ext++;
		c->next_off = 0;
	}
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
	copy_error(c, -ECANCELED, "copy of '%s' cancelled", c->srcpath);
	if (c->busy == 0)
		copy_step_done(&c->step, 0);
}

/*
 * A no_clobber job the daemon runs again after a crash or restart may
 * find files it published itself before. It cannot tell them from files
 * that were there before, so it compares: a regular file of the source's
 * size with the same bytes is the copy asked for, and counts as copied
 * (it is left alone, as no_clobber says). Anything else is not replaced.
 */
static bool
copy_may_be_ours(const struct copy *c)
{
	return c->job->restarts > 0 && c->kind == K_FILE && S_ISREG(c->dstx.stx_mode) &&
	    c->dstx.stx_size == c->stx.stx_size;
}

/*
 * A large dense file is copied from both ends at once: its front by the
 * engine's data path, its back by pool threads that read the source
 * into the copy's pages, mapped (see thread_copy_mapped). Both ends fill
 * the page cache, which is where a copy's time goes when the data is
 * cached; a write() to the file holds its inode lock for that, so only
 * one of them runs at a time, while page faults run beside it. The
 * copy is given its blocks and size first: a page fault cannot report
 * a full disk, and a mapping cannot reach past the end of the file.
 * Where the filesystem cannot preallocate, the copy goes on unmapped.
 */
static bool
copy_map_may(const struct copy *c)
{
	uint64_t threshold = cpd_conf->engine.map_threshold;

	return threshold && c->stx.stx_size >= threshold && c->ext == NULL &&
	    cpd_conf->engine.lanes > 1 && !c->mapped && !c->job->no_allocate;
}

static void
copy_data(struct copy *c)
{
	uint64_t size = c->stx.stx_size, chunk = cpd_conf->engine.chunk_size;
	unsigned lanes = cpd_conf->engine.lanes;
	struct eop *op;

	if (copy_map_may(c)) {
		op = copy_op(c, CS_ALLOCATE, EOP_ALLOCATE);
		op->fd2 = c->tmpfd;
		op->len = size;
		engine_submit(op);
		return;
	}
	c->state = CS_DATA;
	c->end_off = size;
	/* An empty file (or one all holes) counts under the method its
	 * size would take, so that a job's methods add up to its files; a
	 * mapped copy counts as one once a chunk goes mapped. */
	c->method = engine_method(size);
	/*
	 * None for a copy that is to stop: a failed clone or extent map lets
	 * it come here (the step only falls back), and a cancelled job's
	 * lane is dropped as it starts, so the last one would end the step
	 * and free the copy under this loop. The step ends it instead.
	 */
	if (copy_more(c) && !c->err && !copy_stopping(c)) {
		if ((size + chunk - 1) / chunk < lanes)
			lanes = (unsigned)((size + chunk - 1) / chunk);
		if ((c->lanes = calloc(lanes, sizeof(*c->lanes))) == NULL)
			copy_error(c, -ENOMEM, "cannot copy '%s'", c->srcpath);
		for (unsigned i = 0; c->lanes && i < lanes && copy_more(c); i++)
			copy_lane_start(c, &c->lanes[i]);
	}
	if (c->busy == 0)		/* nothing in flight */
		copy_step_done(&c->step, 0);
}

/* A transfer of len bytes of data ended with res: count it, or say what went wrong. */
static void
copy_data_result(struct copy *c, int res, uint64_t len)
{
	if (res < 0) {
		copy_error(c, res, "cannot copy '%s' to '%s'", c->srcpath, c->dstpath);
		return;
	}
	c->copied += (uint64_t)res;
	job_progress(c->job, (uint64_t)res);
	if ((uint64_t)res < len)	/* EOF before the size statx gave */
		copy_error(c, -EAGAIN, "'%s' shrank while being copied", c->srcpath);
}

/*
 * A lane's chunk is copied (EOP_COPY), and under write behind (see
 * job_write_behind) the chunk of a bulk file is then pushed to the disk
 * (EOP_WRITEBACK, in the same lane slot) before the lane goes on.
 *
 * Why write behind: a bulk copy otherwise leaves gigabytes of dirty pages
 * for the kernel's writeback to flush in bursts, and on ext4 a journal
 * commit waits for the data of the files it allocated blocks for; every
 * small job's file creation and link waits behind such a commit.
 * Starting the writeback of each chunk as it is written keeps the dirty
 * data, and so each commit, small, and paces bulk copies to the disk.
 * It costs a lone copy speed (README.md has the numbers): the default,
 * auto, writes behind only while other jobs share the daemon.
 */
static void
copy_lane_done(struct eop *op, int res)
{
	struct copy *c = op->owner;

	if (op->type == EOP_COPY) {
		copy_data_result(c, res, op->len);
		if (res > 0 && op->bulk && !c->err && job_write_behind()) {
			op->type = EOP_WRITEBACK;
			op->len = (uint64_t)res;
			engine_submit(op);
			return;
		}
	}
	/* A failed writeback is only advice lost: the data is in the page
	 * cache, and a real write error shows at fsync or in the log. */
	c->busy--;
	job_lane_end(c->job);
	if (c->job->cancelling)
		copy_error(c, -ECANCELED, "copy of '%s' cancelled", c->srcpath);
	if (!c->err && copy_more(c)) {
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
	op->path = copy_made_path(c);
	engine_submit(op);
}

/* The open source's statx, into stx. */
static struct eop *
copy_stat_src_op(struct copy *c, enum copy_state state, struct statx *stx)
{
	struct eop *op = copy_op(c, state, EOP_STATX);

	op->dirfd = c->srcfd;
	op->path = "";
	op->flags = AT_EMPTY_PATH;
	op->stx = stx;
	return op;
}

/*
 * A writer that went on while the data was read leaves a copy that is
 * neither the old file nor the new one. Size and mtime show it, and
 * ctime even when the writer set the times back afterwards.
 */
static bool
copy_src_changed(const struct statx *a, const struct statx *b)
{
	return a->stx_size != b->stx_size ||
	    a->stx_mtime.tv_sec != b->stx_mtime.tv_sec ||
	    a->stx_mtime.tv_nsec != b->stx_mtime.tv_nsec ||
	    a->stx_ctime.tv_sec != b->stx_ctime.tv_sec ||
	    a->stx_ctime.tv_nsec != b->stx_ctime.tv_nsec;
}

static struct eop *
copy_rename_op(struct copy *c)
{
	struct eop *op = copy_op(c, CS_RENAME, EOP_RENAME);

	op->path = c->tmp;
	op->path2 = c->item->name;
	op->flags = c->job->req.no_clobber ? RENAME_NOREPLACE : 0;
	return op;
}

/*
 * Give the nameless temporary a name: linkat(fd, "", AT_EMPTY_PATH).
 * That needs CAP_DAC_READ_SEARCH, or (Linux 6.10+) a file opened with
 * the same credentials; where the kernel says no (ENOENT), the job
 * links through /proc/self/fd/N instead (c->linked_by_proc), which
 * anyone may, at the cost of a path lookup in procfs per file (the
 * io_uring workers share the daemon's descriptors).
 */
static struct eop *
copy_link_op(struct copy *c, enum copy_state state, const char *name)
{
	struct eop *op = copy_op(c, state, EOP_LINK);

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
	op->path = name;
	return op;
}

/* The source's second look (stx_end) against its first. */
static void
copy_recheck(struct copy *c)
{
	if (copy_src_changed(&c->stx, &c->stx_end))
		copy_error(c, -EAGAIN, "'%s' changed while being copied", c->srcpath);
}

/*
 * After the data, the step after from: see that the source held still,
 * truncate (sparse), metadata, fsync, link in or rename; in order. The
 * fsync comes after the metadata so that what sync makes durable is the
 * file as published, mode, owner and times included.
 */
static struct eop *
copy_publish_op(struct copy *c, enum copy_state from)
{
	const struct job *job = c->job;
	struct eop	*op;

	/* With archive the look comes with the metadata: one step less. */
	if (from < CS_RECHECK && c->kind == K_FILE && !job->req.archive)
		return copy_stat_src_op(c, CS_RECHECK, &c->stx_end);
	if (from < CS_TRUNCATE && c->ext) {
		op = copy_op(c, CS_TRUNCATE, EOP_TRUNCATE);
		op->fd2 = c->tmpfd;
		op->len = c->stx.stx_size;
		return op;
	}
	if (from < CS_META && job->req.archive && c->kind != K_HARDLINK) {
		op = copy_op(c, CS_META, EOP_META);
		op->stx = &c->stx;
		if (c->kind == K_FILE) {
			op->fd = c->srcfd;
			op->fd2 = c->tmpfd;
			op->meta_flags = META_RECHECK | META_OWNER | META_MODE | META_TIMES |
			    META_XATTRS;
			op->stx_end = &c->stx_end;
		} else {
			op->path = copy_made_path(c);	/* no fd for a symlink or a device */
			op->meta_flags = META_OWNER | META_TIMES;
		}
		return op;
	}
	if (from < CS_FSYNC && job->req.sync && c->kind == K_FILE) {
		op = copy_op(c, CS_FSYNC, EOP_FSYNC);
		op->fd = c->tmpfd;
		return op;
	}
	if (c->direct)
		return NULL;	/* in place already */
	return c->nameless ? copy_link_op(c, CS_LINK_FINAL, c->item->name) : copy_rename_op(c);
}

static void
copy_publish(struct copy *c, enum copy_state from)
{
	struct eop *op;

	c->linked_by_proc |= c->job->no_empty_link;
	if ((op = copy_publish_op(c, from)) != NULL) {
		engine_submit(op);
		return;
	}
	c->created = false;	/* it stays */
	copy_finish(c);
}

/* A directory entry's type decides its way; unknown ones are looked at first. */
static void
copy_lstat(struct copy *c)
{
	struct eop *op = copy_op(c, CS_LSTAT, EOP_STATX);

	op->dirfd = item_srcdir(c->item);
	op->path = c->item->src;
	op->flags = AT_SYMLINK_NOFOLLOW;
	op->stx = &c->stx;
	engine_submit(op);
}

static struct eop *
copy_open_src_op(struct copy *c)
{
	struct eop *op = copy_op(c, CS_OPEN_SRC, EOP_OPEN);

	op->dirfd = item_srcdir(c->item);
	op->path = c->item->src;
	/* O_NONBLOCK: opening a FIFO must not wait for a writer. A plain
	 * copy follows a symlink given as the source, as cp does; in a tree
	 * the entry was a file when listed and must still be one. */
	op->flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK |
	    (c->job->req.recursive ? O_NOFOLLOW : 0);
	op->resolve = RESOLVE_NO_MAGICLINKS;
	return op;
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

static struct eop *
copy_stat_dst_op(struct copy *c)
{
	struct eop *op = copy_op(c, CS_STAT_DST, EOP_STATX);

	op->path = c->item->name;
	op->stx = &c->dstx;
	op->flags = c->kind == K_FILE ? 0 : AT_SYMLINK_NOFOLLOW;
	return op;
}

static void
copy_stat_dst(struct copy *c)
{
	if (copy_dst_is_new(c))
		copy_step_done_at(c, CS_STAT_DST, -ENOENT);
	else
		engine_submit(copy_stat_dst_op(c));
}

static struct eop *
copy_clone_op(struct copy *c)
{
	struct eop *op = copy_op(c, CS_CLONE, EOP_CLONE);

	op->fd = c->srcfd;
	op->fd2 = c->tmpfd;
	return op;
}

/* The source file is open and known: hard link, clone or copy. */
static void
copy_after_stat_src(struct copy *c)
{
	struct job *job = c->job;
	bool	    created;

	if (job->req.archive && c->stx.stx_nlink > 1 && c->kind == K_FILE && !c->hl) {
		struct hlink *h = copy_hlink(job, &c->stx, &created);

		if (h && created)
			c->hl = h;		/* the first: copied, the others link to it */
		else if (h && h->state == 0) {
			c->next_waiter = h->waiters;	/* wait for the first */
			h->waiters = c;
			return;
		} else if (h && h->state == 1) {
			c->kind = K_HARDLINK;
			c->link_to = h;
			close(c->srcfd);
			c->srcfd = -1;
			job_progress(job, c->stx.stx_size);	/* its bytes are there */
		}
	}
	copy_stat_dst(c);
}

static void
copy_step_done(struct eop *done, int res)
{
	struct copy	*c = done->owner;
	struct job	*job = c->job;
	struct eop	*op;
	bool		 stopping = copy_stopping(c);

	/* Once linked in or renamed, the file is published: not undone. */
	if (stopping && res >= 0 && c->state < CS_LINK_FINAL)
		copy_error(c, -ECANCELED, "copy of '%s' cancelled", c->srcpath);
	switch (c->state) {
	case CS_LSTAT:
		if (res < 0) {
			copy_error(c, res, "cannot stat '%s'", c->srcpath);
			break;
		}
		if (path_on_procfs(c->stx.stx_dev_major, c->stx.stx_dev_minor))
			copy_error(c, -EPERM, PATH_PROCFS_REFUSED, c->srcpath);
		if (c->err)
			break;
		if (S_ISDIR(c->stx.stx_mode)) {
			if (!job->req.recursive) {
				copy_error(c, -EISDIR, "omitting directory '%s'", c->srcpath);
				break;
			}
			/* A directory after all: the tree takes the item over. */
			job_file_to_dir(job, c->item);
			tree_start(job, c->item);
			c->item = NULL;
			copy_free(c);
			return;
		}
		if (S_ISREG(c->stx.stx_mode)) {
			engine_submit(copy_open_src_op(c));
			return;
		}
		c->kind = S_ISLNK(c->stx.stx_mode) ? K_SYMLINK : K_SPECIAL;
		if (c->kind == K_SPECIAL && !job->req.recursive) {
			copy_error(c, -EINVAL, "'%s' is not a regular file", c->srcpath);
			break;
		}
		copy_stat_dst(c);
		return;
	case CS_OPEN_SRC:
		if (res == -ELOOP && job->req.recursive) {
			copy_lstat(c);		/* became a symlink meanwhile */
			return;
		}
		if (res < 0) {
			copy_error(c, res, "cannot open '%s'", c->srcpath);
			break;
		}
		c->srcfd = res;
		if (c->err)
			break;
		engine_submit(copy_stat_src_op(c, CS_STAT_SRC, &c->stx));
		return;
	case CS_STAT_SRC:
		if (res < 0)
			copy_error(c, res, "cannot stat '%s'", c->srcpath);
		else if (path_on_procfs(c->stx.stx_dev_major, c->stx.stx_dev_minor))
			copy_error(c, -EPERM, PATH_PROCFS_REFUSED, c->srcpath);
		else if (S_ISDIR(c->stx.stx_mode))
			copy_error(c, -EISDIR, "omitting directory '%s'", c->srcpath);
		else if (!S_ISREG(c->stx.stx_mode))
			copy_error(c, -EINVAL, "'%s' is not a regular file", c->srcpath);
		if (c->err)
			break;
		if (c->item->parent)	/* top-level sources were counted by the scan */
			job_add_total(job, 0, c->stx.stx_size);
		copy_after_stat_src(c);
		return;
	case CS_STAT_DST:
		c->dst_exists = res == 0;
		if (res == 0) {
			if (c->kind == K_FILE && c->dstx.stx_ino == c->stx.stx_ino &&
			    c->dstx.stx_dev_major == c->stx.stx_dev_major &&
			    c->dstx.stx_dev_minor == c->stx.stx_dev_minor)
				copy_error(c, -EINVAL, "'%s' and '%s' are the same file",
				    c->srcpath, c->dstpath);
			else if (S_ISDIR(c->dstx.stx_mode))
				copy_error(c, -EISDIR,
				    "cannot overwrite directory '%s' with a file", c->dstpath);
			else if (job->req.no_clobber && copy_may_be_ours(c)) {
				op = copy_op(c, CS_OPEN_DST, EOP_OPEN);
				op->path = c->item->name;
				op->flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
				op->resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
				engine_submit(op);
				return;
			} else if (job->req.no_clobber)
				copy_error(c, -EEXIST, "'%s' not replaced (no-clobber)", c->dstpath);
		} else if (res != -ENOENT)
			copy_error(c, res, "cannot access '%s'", c->dstpath);
		if (c->err)
			break;
		if (c->kind == K_SYMLINK) {
			op = copy_op(c, CS_READLINK, EOP_READLINK);
			op->dirfd = item_srcdir(c->item);
			op->path = c->item->src;
			if ((c->target = malloc(PATH_MAX)) == NULL) {
				copy_error(c, -ENOMEM, "cannot read link '%s'", c->srcpath);
				break;
			}
			op->buf = c->target;
			op->len = PATH_MAX - 1;
			engine_submit(op);
			return;
		}
		copy_create(c);
		return;
	case CS_OPEN_DST:
		if (res < 0) {
			copy_error(c, -EEXIST, "'%s' not replaced (no-clobber)", c->dstpath);
			break;
		}
		c->tmpfd = res;		/* closed with the copy; never removed */
		if (c->err)
			break;
		op = copy_op(c, CS_COMPARE, EOP_COMPARE);
		op->fd = c->srcfd;
		op->fd2 = c->tmpfd;
		op->len = c->stx.stx_size;
		engine_submit(op);
		return;
	case CS_COMPARE:
		if (res != 0) {
			copy_error(c, -EEXIST, "'%s' not replaced (no-clobber)", c->dstpath);
			break;
		}
		/* Byte for byte the copy the job was to make: published by this
		 * job before the daemon stopped (or just the same). Done. */
		log_info("job %llu: '%s' is already a copy of '%s'", (unsigned long long)job->id,
		    c->dstpath, c->srcpath);
		c->method = engine_method(c->stx.stx_size);
		job_progress(job, c->stx.stx_size);
		break;
	case CS_READLINK:
		if (res < 0) {
			copy_error(c, res, "cannot read link '%s'", c->srcpath);
			break;
		}
		c->target[res] = '\0';
		if (c->err)
			break;
		copy_create(c);
		return;
	case CS_CREATE:
		if (c->nameless && (res == -EOPNOTSUPP || res == -EISDIR)) {
			job->no_tmpfile = true;	/* this filesystem cannot: named ones */
			log_info("job %llu: no O_TMPFILE beside '%s' (%s): named temporaries",
			    (unsigned long long)job->id, c->dstpath, strerror(-res));
			copy_create(c);
			return;
		}
		if (res == -EEXIST && !c->direct && ++c->create_tries < 4) {
			copy_create(c);		/* a temporary name collided */
			return;
		}
		if (res == -ENOENT && c->kind == K_HARDLINK && copy_link_moved(c) &&
		    ++c->create_tries < 4) {
			copy_create(c);		/* to where the target is now */
			return;
		}
		if (res < 0) {
			copy_error(c, res, "cannot create '%s'", c->dstpath);
			break;
		}
		c->created = !c->nameless;
		if (c->kind != K_FILE) {
			c->method = M_LINKS;
			if (c->err)
				break;
			copy_publish(c, CS_CREATE);
			return;
		}
		c->tmpfd = res;
		if (c->err)
			break;
		if (job->req.reflink != REFLINK_NEVER && !job->no_clone && c->stx.stx_size > 0) {
			engine_submit(copy_clone_op(c));
			return;
		}
		res = -EOPNOTSUPP;
		/* FALLTHROUGH */
	case CS_CLONE:
		if (res == 0) {
			c->method = M_REFLINK;
			job_progress(job, c->stx.stx_size);
			copy_publish(c, CS_DATA);
			return;
		}
		if (c->state == CS_CLONE) {
			if (job->req.reflink == REFLINK_ALWAYS) {
				copy_error(c, res, "cannot clone '%s' to '%s'", c->srcpath,
				    c->dstpath);
				break;
			}
			job->no_clone = true;	/* this filesystem cannot: stop asking */
		}
		/* A sparse file: copy only its data, the holes stay holes. */
		if ((uint64_t)c->stx.stx_blocks * 512 < c->stx.stx_size &&
		    (c->ext = calloc(COPY_MAX_EXTENTS, sizeof(*c->ext))) != NULL) {
			op = copy_op(c, CS_EXTENTS, EOP_EXTENTS);
			op->fd = c->srcfd;
			op->ext = c->ext;
			op->len = COPY_MAX_EXTENTS;
			engine_submit(op);
			return;
		}
		copy_data(c);
		return;
	case CS_EXTENTS:
		if (res < 0) {		/* too many extents, or no SEEK_DATA: copy it all */
			free(c->ext);
			c->ext = NULL;
		} else {
			uint64_t data = 0;
			c->next_nr = (unsigned)res;
			for (int i = 0; i < res; i++)
				data += c->ext[i].len;
			job_progress(job, c->stx.stx_size - data);	/* the holes */
		}
		copy_data(c);
		return;
	case CS_ALLOCATE:
		if (res == -EOPNOTSUPP || res == -ENOSYS || res == -EINVAL) {
			job->no_allocate = true;	/* this filesystem cannot: stop asking */
		} else if (res < 0) {
			copy_error(c, res, "cannot allocate '%s'", c->dstpath);
			break;
		} else
			c->mapped = true;
		if (c->err)
			break;
		copy_data(c);
		return;
	case CS_DATA:
		if (c->err)
			break;
		copy_publish(c, CS_DATA);
		return;
	case CS_RECHECK:
		if (res < 0)
			copy_error(c, res, "cannot stat '%s'", c->srcpath);
		else
			copy_recheck(c);
		if (c->err)
			break;
		copy_publish(c, CS_RECHECK);
		return;
	case CS_TRUNCATE:
	case CS_FSYNC:
	case CS_META:
		/*
		 * The first fsync error is final: the kernel may have dropped
		 * the dirty pages already, so a retry could succeed on lost
		 * data. The file is not published, and the job fails even
		 * with keep_going: a sync job promises that what it reports
		 * copied is on disk.
		 */
		if (res < 0 && c->state == CS_FSYNC) {
			copy_error(c, res, "cannot sync '%s'", c->dstpath);
			job_fail(job, res, "cannot sync '%s'", c->dstpath);
		} else if (res < 0)
			copy_error(c, res, c->state == CS_META ?
			    "cannot set the attributes of '%s'" : "cannot write '%s'", c->dstpath);
		else if (c->state == CS_META && c->kind == K_FILE)
			copy_recheck(c);
		if (c->err)
			break;
		copy_publish(c, c->state);
		return;
	case CS_LINK_FINAL:
	case CS_LINK_TEMP:
		if (res == -ENOENT && !c->linked_by_proc) {
			job->no_empty_link = c->linked_by_proc = true;	/* through /proc */
			log_debug("job %llu: linkat(AT_EMPTY_PATH) refused: linking through "
			    "/proc/self/fd", (unsigned long long)job->id);
			engine_submit(copy_link_op(c, c->state, done->path));
			return;
		}
		/* The name appeared since it was looked at: replace it. */
		if (res == -EEXIST && !job->req.no_clobber && !c->err &&
		    (c->state == CS_LINK_FINAL || ++c->create_tries < 4)) {
			copy_new_temp_name(c);
			engine_submit(copy_link_op(c, CS_LINK_TEMP, c->tmp));
			return;
		}
		if (res == -EEXIST)
			copy_error(c, res, "'%s' not replaced", c->dstpath);
		else if (res < 0)
			copy_error(c, res, "cannot create '%s'", c->dstpath);
		else if (c->state == CS_LINK_TEMP) {
			c->created = true;
			if (!c->err) {
				engine_submit(copy_rename_op(c));
				return;
			}
		}
		break;
	case CS_RENAME:
		if (res == -EEXIST || res == -ENOTEMPTY)
			copy_error(c, res, "'%s' not replaced", c->dstpath);
		else if (res == -EISDIR)
			copy_error(c, res, "cannot overwrite directory '%s' with a file", c->dstpath);
		else if (res < 0)
			copy_error(c, res, "cannot rename into '%s'", c->dstpath);
		else
			c->created = false;	/* published: it is not ours to remove */
		break;
	case CS_UNLINK:
		/* ENOENT: removed with its directory, which is fine. */
		if (res < 0 && res != -ENOENT)
			log_warnx("job %llu: cannot remove temporary '%s' beside '%s': %s",
			    (unsigned long long)job->id, copy_made_path(c), c->dstpath,
			    strerror(-res));
		copy_finish(c);
		return;
	}
	if (c->err)
		copy_cleanup(c);
	else
		copy_finish(c);
}

/*
 * A small file in one hand-off. Step by step, each operation is a round
 * trip from the loop to a worker and back, and for a file of a few KiB
 * those round trips (wakeups, context switches: five per file) cost more
 * than the work; README.md has the numbers. So a regular file of at most
 * engine.whole_file_max bytes is copied by one pool thread, with the
 * caller's credentials, through the same operations the steps make, in
 * the same order: open, statx, (the destination's statx), create
 * (O_TMPFILE, or in place: c->direct), clone or copy, then
 * copy_publish_op()'s steps up to the link, if any. It stops
 * at the first result that is an error or asks for the loop (a larger
 * file, a hard link, a name in the way, a failed clone...), and the loop
 * takes that result as the step's own and goes on step by step.
 *
 * This runs in a pool thread: it uses only this copy and what of its job
 * does not change while the job runs; copy_whole() took the rest.
 */
static bool
copy_whole_fits(const struct copy *c, uint64_t max)
{
	const struct statx *s = &c->stx;

	return S_ISREG(s->stx_mode) && s->stx_size <= max &&
	    (uint64_t)s->stx_blocks * 512 >= s->stx_size &&		/* not sparse */
	    (s->stx_nlink == 1 || !c->job->req.archive) &&
	    !path_on_procfs(s->stx_dev_major, s->stx_dev_minor);
}

static long
copy_whole_run(struct eop *whole)
{
	struct copy	*c = whole->owner;
	struct eop	*op;
	long		 res;

	if ((res = engine_run(copy_open_src_op(c))) < 0)
		return res;
	c->srcfd = (int)res;
	if ((res = engine_run(copy_stat_src_op(c, CS_STAT_SRC, &c->stx))) < 0 ||
	    !copy_whole_fits(c, whole->len))
		return res;
	if (!copy_dst_is_new(c) && (res = engine_run(copy_stat_dst_op(c))) != -ENOENT)
		return res;
	c->nameless = !c->direct;
	if ((res = engine_run(copy_create_op(c))) < 0)
		return res;
	c->tmpfd = (int)res;
	c->created = !c->nameless;
	if (c->try_clone && c->stx.stx_size > 0) {
		if ((res = engine_run(copy_clone_op(c))) == 0)
			c->method = M_REFLINK;
		else if (c->job->req.reflink == REFLINK_ALWAYS)
			return res;
		else
			c->clone_failed = true;
	}
	if (c->method != M_REFLINK && c->stx.stx_size > 0) {
		op = copy_op(c, CS_DATA, EOP_COPY);
		op->fd = c->srcfd;
		op->fd2 = c->tmpfd;
		op->len = c->stx.stx_size;
		if ((res = engine_run(op)) < 0 || (uint64_t)res < op->len)
			return res;
		c->method = op->by_rw ? M_READWRITE : M_COPY_FILE_RANGE;
	}
	res = 0;
	for (op = copy_publish_op(c, CS_DATA); op; op = copy_publish_op(c, c->state)) {
		res = engine_run(op);
		if (res < 0 || c->state >= CS_LINK_FINAL ||
		    ((c->state == CS_RECHECK || c->state == CS_META) &&
		    copy_src_changed(&c->stx, &c->stx_end)))
			break;
	}
	return res;
}

/* Back on the loop: what the steps passed would have done here, then the last one. */
static void
copy_whole_done(struct eop *whole, int res)
{
	struct copy	*c = whole->owner;
	struct job	*job = c->job;

	if (c->state > CS_STAT_SRC && c->item->parent)
		job_add_total(job, 0, c->stx.stx_size);
	if (c->clone_failed)
		job->no_clone = true;	/* as the steps do: stop asking */
	if (c->state == CS_DATA) {
		copy_data_result(c, res, c->stx.stx_size);
		res = 0;
	} else if (c->state > CS_DATA) {
		if (c->method == M_REFLINK || c->stx.stx_size == 0)
			job_progress(job, c->stx.stx_size);
		else
			copy_data_result(c, (int)c->stx.stx_size, c->stx.stx_size);
		if (c->method == M_COUNT)	/* empty: the way its data would have gone */
			c->method = M_COPY_FILE_RANGE;
	}
	copy_step_done_at(c, c->state, res);
}

static bool
copy_whole_may(const struct copy *c)
{
	const struct job *job = c->job;

	return cpd_conf->engine.whole_file_max > 0 && !job->req.bwlimit && !job->no_tmpfile &&
	    ((c->item->parent && c->item->dtype == DT_REG) || !job->req.recursive);
}

static void
copy_whole(struct copy *c)
{
	struct job *job = c->job;
	struct eop *op = job_op_init(job, &c->whole, EOP_CALL, copy_whole_done);

	op->run = copy_whole_run;
	op->owner = c;
	op->fd = op->fd2 = -1;
	op->len = cpd_conf->engine.whole_file_max;	/* the configuration may be reloaded */
	c->try_clone = job->req.reflink != REFLINK_NEVER && !job->no_clone;
	engine_submit(op);
}

void
copy_start(struct job *job, struct item *it)
{
	struct copy *c = calloc(1, sizeof(*c));

	if (c == NULL || (c->srcpath = item_srcpath(it)) == NULL ||
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
	c->srcfd = c->tmpfd = -1;
	c->method = M_COUNT;
	c->linked_by_proc = job->no_empty_link;
	c->direct = item_hidden(it);
	/* A listed regular file is opened at once; anything else is looked
	 * at first. Plain copies follow a symlink given as a source. */
	if (copy_whole_may(c))
		copy_whole(c);
	else if ((it->parent && it->dtype == DT_REG) || !job->req.recursive)
		engine_submit(copy_open_src_op(c));
	else
		copy_lstat(c);
}
