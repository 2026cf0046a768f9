/*
 * Before a job runs, its sources are examined (statx, as the caller),
 * while it is queued: the totals are then known for progress and for
 * choosing the class, and a missing source fails the job before anything
 * is written. The devices they are on and the destination's (device.c)
 * are known then too, for admission. Once it runs, its destination is
 * resolved: an existing
 * directory takes each source by its name, anything else is the new name
 * of a single source. The sources then become the job's first items.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "cred.h"
#include "device.h"
#include "job_internal.h"
#include "loop.h"
#include "path.h"
#include "item.h"

struct job_scan {
	struct eop	 op;
	struct statx	 stx;
	/* A single source's: probed, and resolved, in the same operation. */
	struct job_probe *probe;
	struct scan_dest *dest;
};

/* What a source is (mode 0: not seen), kept from its scan until it is queued. */
struct job_seen {
	uint64_t	ino, size;
	uint32_t	dev_major, dev_minor;
	uint16_t	mode;
};

/* Which device the destination is on: the path looked at, as it climbs. */
struct job_probe {
	struct eop	op;
	struct statx	stx;
	int		res;
	bool		done;		/* by the source's scan: res is the result */
	char		path[];
};

/*
 * Resolving the destination, in one pool operation: the directory it
 * names, or (a single source to a new name) the parent of that name.
 */
struct scan_dest {
	struct eop	 op;
	const char	*dest;
	int		 pre_res;	/* resolved by the scan (resolved): the result */
	bool		 resolved;
	int		 dest_res;	/* the destination's own open */
	bool		 ran;		/* (not when an injected fault struck the call) */
	bool		 may_be_new;	/* which failures of it mean a new name */
	bool		 loop_is_new;
	int		 split;		/* 0, or -errno: dest cannot be split in two */
	char		 name[NAME_MAX + 1];
	char		 parent[PATH_MAX];
};

static void scan_scanned(struct eop *, int);
static long scan_probe_run(struct eop *);
static void scan_probe_result(struct job *, int);
static void scan_probed(struct eop *, int);
static long scan_dest_resolve(const struct eop *, struct scan_dest *);
static struct scan_dest *scan_dest_new(struct job *);
static void scan_dest_drop(struct job *);

/* The job whose scan has just ended, while it is queued (see scan_destination()). */
static struct job *scan_starting;

/*
 * The device of a source or of the destination joins the job's, once;
 * the sources' only while a place is left for the destination's.
 */
static void
scan_device(struct job *job, const struct statx *stx, bool dest)
{
	struct device	*d = device_get(stx->stx_dev_major, stx->stx_dev_minor);
	unsigned	 i;

	if (d == NULL)
		return;		/* the table is full: not scheduled by device */
	for (i = 0; i < job->ndevs && job->devs[i] != d; i++)
		;
	if (i < job->ndevs)
		device_put(d);
	else if (job->ndevs < JOB_DEVICES - (dest ? 0u : 1u))
		job->devs[job->ndevs++] = d;
	else {
		device_put(d);
		return;
	}
	if (dest)
		job->dest_dev = d;
}

/*
 * In a pool thread, as the caller: path opened O_PATH and the result
 * statx'ed (a statx of the path itself would follow a /proc magic link,
 * which openat2 refuses). One pool operation, not an open and then a
 * statx: each is a hand-off between threads, and under load a queue.
 */
static long
scan_look(const struct eop *call, const char *path, uint64_t flags, struct statx *stx)
{
	struct eop	op = { .type = EOP_OPEN, .cred = call->cred, .dirfd = AT_FDCWD,
	    .path = path, .flags = O_PATH | O_CLOEXEC | flags,
	    .resolve = RESOLVE_NO_MAGICLINKS, .fd = -1, .fd2 = -1 };
	long		fd = engine_run(&op), res;

	if (fd < 0)
		return fd;
	op = (struct eop){ .type = EOP_STATX, .cred = call->cred, .dirfd = (int)fd,
	    .path = "", .flags = AT_EMPTY_PATH, .stx = stx, .fd = -1, .fd2 = -1 };
	res = engine_run(&op);
	close((int)fd);		/* O_PATH: asks nothing of the file system */
	return res;
}

/*
 * One of the scan's pool operations, made ready to submit. A bulk job's
 * runs on the pool thread as that thread is (placeless): a few lookups
 * are too small to move a thread for, and they left it on the bulk CPUs
 * at worker_nice, where the next interactive operation it took waited
 * up to a scheduler tick behind io-wq's workers (4 KiB copy p99 4-5 ms
 * instead of 1.5 under 4 cold bulk copies). An interactive job's is
 * placed as any of its work is.
 */
static void
scan_call(struct job *job, struct eop *op, long (*run)(struct eop *),
    void (*done)(struct eop *, int))
{
	job_op_init(job, op, EOP_CALL, done);
	op->run = run;
	op->placeless = !op->interactive;
	job->active++;
}

static long
scan_source_run(struct eop *op)
{
	struct job_scan *s = (struct job_scan *)op;
	long		 res = scan_look(op, op->path, op->flags, &s->stx);

	if (res >= 0 && s->probe) {
		s->probe->op.cred = op->cred;
		s->probe->res = (int)scan_probe_run(&s->probe->op);
		s->probe->done = true;
	}
	if (res >= 0 && s->dest) {
		s->dest->pre_res = (int)scan_dest_resolve(op, s->dest);
		s->dest->resolved = true;
	}
	return res;
}

/* Look at source i of the scan. */
static void
scan_source(struct job *job, size_t i)
{
	struct job_scan *s = &job->scan[i];

	scan_call(job, &s->op, scan_source_run, scan_scanned);
	s->op.path = job->req.sources[i];
	/* A tree copy (or -P) copies a symlink given as a source as a symlink. */
	s->op.flags = request_nofollow(&job->req, true) ? O_NOFOLLOW : 0;
	engine_submit(&s->op);
}

/* What source s is says how it counts, or why the job fails. */
static void
scan_judge(struct job *job, const struct job_scan *s, int res)
{
	const char *path = job->req.sources[s - job->scan];

	if (res >= 0) {
		scan_device(job, &s->stx, false);
		job->seen[s - job->scan] = (struct job_seen){
		    .ino = s->stx.stx_ino, .size = s->stx.stx_size,
		    .dev_major = s->stx.stx_dev_major, .dev_minor = s->stx.stx_dev_minor,
		    .mode = s->stx.stx_mode };
	}
	if (res < 0)
		job_fail(job, res, "cannot stat '%s'", path);
	else if (path_on_procfs(&s->stx) && !S_ISREG(s->stx.stx_mode))
		job_fail(job, -EPERM, PATH_PROCFS_REFUSED, path);
	else if (S_ISDIR(s->stx.stx_mode) && !job->req.recursive)
		job_fail(job, -EISDIR, "omitting directory '%s'", path);
	else if (S_ISDIR(s->stx.stx_mode)) {
		job->files_total--;	/* its files are counted as the walk finds them */
		job->tree = true;
	} else if (S_ISREG(s->stx.stx_mode))
		job->bytes_total += s->stx.stx_size;
	else if (!job->req.recursive && !(request_nofollow(&job->req, true) &&
	    S_ISLNK(s->stx.stx_mode)))
		job_fail(job, -EINVAL, "'%s' is not a regular file", path);
	job->dirty = true;
}

/* The scan's operations under way: the owner's first lookup may be too (identity.c). */
static unsigned
scan_in_flight(const struct job *job)
{
	return job->active - job->identity_checks;
}

static void
scan_scanned(struct eop *op, int res)
{
	struct job_scan	*s = (struct job_scan *)op;
	struct job	*job = op->owner;

	job->active--;
	scan_judge(job, s, res);
	if (job_stopping(job)) {
		if (job->active == 0)
			job_end(job);
		return;
	}
	if (job->next_source < job->req.nsources) {
		scan_source(job, job->next_source++);
		return;
	}
	if (scan_in_flight(job) == 0) {
		job->next_source = 0;
		free(job->scan);
		job->scan = NULL;
		if (job->probe == NULL)
			sched_queue(job);	/* not scheduled by its destination's device */
		else if (job->probe->done)
			scan_probe_result(job, job->probe->res);
		else {
			scan_call(job, &job->probe->op, scan_probe_run, scan_probed);
			engine_submit(&job->probe->op);
		}
	}
}

/*
 * In a pool thread: the destination's device, or its nearest parent's
 * that exists (a new file or tree goes there), as the caller sees them.
 */
static long
scan_probe_run(struct eop *op)
{
	struct job_probe	*p = (struct job_probe *)op;
	char			 parent[PATH_MAX];
	long			 res;

	while ((res = scan_look(op, p->path, 0, &p->stx)) == -ENOENT || res == -ENOTDIR ||
	    res == -ELOOP) {
		if (path_dirname(p->path, parent, sizeof(parent)) < 0 ||
		    strcmp(parent, p->path) == 0)
			break;
		strcpy(p->path, parent);	/* shorter: it fits */
	}
	return res;
}

/*
 * The destination's device is known by the time the job is queued, for
 * admission. A failure but a missing name fails the job as its run
 * would have, with the message it would have given.
 */
static void
scan_probe_result(struct job *job, int res)
{
	if (res >= 0)
		scan_device(job, &job->probe->stx, true);
	else if (res != -ENOENT && res != -ENOTDIR && res != -ELOOP)
		job_fail(job, res, "cannot copy into '%s'", job->req.destination);
	free(job->probe);
	job->probe = NULL;
	if (job_stopping(job)) {
		scan_dest_drop(job);
		if (job->active == 0)
			job_end(job);
		return;
	}
	scan_starting = job;
	sched_queue(job);
	scan_starting = NULL;
	scan_dest_drop(job);	/* not taken at once: resolved again when it runs */
}

static void
scan_probed(struct eop *op, int res)
{
	struct job *job = op->owner;

	job->active--;
	scan_probe_result(job, res);
}

void
scan_sources(struct job *job)
{
	size_t n = job->req.nsources;

	free(job->seen);
	if ((job->scan = calloc(n, sizeof(*job->scan))) == NULL ||
	    (job->seen = calloc(n, sizeof(*job->seen))) == NULL) {
		job_fail(job, -ENOMEM, "cannot start");
		job_end(job);
		return;
	}
	free(job->probe);
	if ((job->probe = malloc(sizeof(*job->probe) + strlen(job->req.destination) + 1))) {
		strcpy(job->probe->path, job->req.destination);
		job->probe->done = false;
		/*
		 * A single source (most copies) is looked at and the
		 * destination probed in one pool operation: each hand-off
		 * between threads costs a wake-up of another CPU, 0.1 to
		 * 0.3 ms on this VM.
		 */
		if (n == 1)
			job->scan[0].probe = job->probe;
	}
	/* Its destination too, where it may start at once: see scan_destination(). */
	scan_dest_drop(job);
	if (n == 1 && cred_is_self(job->cred) && (job->dest_pre = scan_dest_new(job)))
		job->scan[0].dest = job->dest_pre;
	job->next_source = 0;
	while (job->next_source < n && scan_in_flight(job) < cpd_conf->jobs.files_in_flight)
		scan_source(job, job->next_source++);
}

/* A source's name in the destination directory, into name. */
static int
scan_name(const struct job *job, size_t i, char *name, size_t size)
{
	const char *src = job->req.sources[i];

	/* cp -r SRC/. DIR: SRC's contents go into DIR itself. */
	if (job->into_dir && path_is_dot(src))
		return snprintf(name, size, ".") < 0 ? -EINVAL : 0;
	if (job->into_dir)
		return path_basename(src, name, size);
	return snprintf(name, size, "%s", job->dest_name) < 0 ? -EINVAL : 0;
}

struct scan_named {
	char	name[NAME_MAX + 1];
	size_t	i;
};

static int
scan_named_cmp(const void *a, const void *b)
{
	const struct scan_named *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : (x->i > y->i) - (x->i < y->i);
}

/* Whether sources i and j are one file (or directory), as the scan saw them. */
static bool
scan_same_file(const struct job *job, size_t i, size_t j)
{
	const struct job_seen *a = &job->seen[i], *b = &job->seen[j];

	return a->mode && a->ino == b->ino && a->dev_major == b->dev_major &&
	    a->dev_minor == b->dev_minor;
}

/*
 * cp copies no two sources to one name in the destination directory.
 * One file given twice (cp a ./a d) is copied once (cp warns; without a
 * backup, as the second copy would replace the first with itself), and
 * so is one directory. Another file of a name a source before it has
 * (cp -dR a/1 b/1 c) fails, as in cp: it would replace what that one has
 * just made; and here the items of a job run side by side, and the two
 * would race for the name. Directories of one name are merged, as in cp.
 * first[i]: for a source not to be queued, the earlier one of its name.
 * Sorted: 4096 sources stay cheap.
 */
static void
scan_duplicates(struct job *job, size_t *first)
{
	size_t			 n = job->req.nsources;
	struct scan_named	*v;

	for (size_t i = 0; i < n; i++)
		first[i] = i;
	if (!job->into_dir || n < 2 || job->seen == NULL || (v = calloc(n, sizeof(*v))) == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		v[i].i = i;
		if (scan_name(job, i, v[i].name, sizeof(v[i].name)) < 0 || strcmp(v[i].name, ".") == 0)
			snprintf(v[i].name, sizeof(v[i].name), "/%zu", i);	/* unique */
	}
	qsort(v, n, sizeof(*v), scan_named_cmp);
	/* In each run of one name, the first is the earliest source. */
	for (size_t k = 1, g = 0; k < n; k++) {
		size_t i = v[k].i, f = v[g].i;

		if (strcmp(v[k].name, v[g].name) != 0)
			g = k;
		else if (!S_ISDIR(job->seen[i].mode) ||
		    (S_ISDIR(job->seen[f].mode) && scan_same_file(job, i, f)))
			first[i] = f;
	}
	free(v);
}

/* Source i is not copied: source f, of the same name, is (scan_duplicates). */
static void
scan_duplicate(struct job *job, size_t i, size_t f)
{
	const char	*dst = job->req.destination, *sep = path_trailing_slash(dst) ? "" : "/";
	char		 name[NAME_MAX + 1], *msg = NULL;
	/* What f makes there: a symlink, when it is copied as one. */
	bool		 link = S_ISLNK(job->seen[f].mode);

	if (scan_same_file(job, i, f) && (job->req.backup_suffix == NULL ||
	    S_ISDIR(job->seen[i].mode))) {
		/* Counted once: a directory's files are counted as the walk finds them. */
		if (!S_ISDIR(job->seen[i].mode))
			job->files_total--;
		if (S_ISREG(job->seen[i].mode))
			job->bytes_total -= job->seen[i].size;
		return;
	}
	if (scan_name(job, i, name, sizeof(name)) < 0 ||
	    (link ? asprintf(&msg, "will not copy '%s' through just-created symlink '%s%s%s': %s",
	    job->req.sources[i], dst, sep, name, strerror(EEXIST)) :
	    asprintf(&msg, "will not overwrite just-created '%s%s%s' with '%s': %s",
	    dst, sep, name, job->req.sources[i], strerror(EEXIST))) < 0)
		msg = NULL;
	job_result(job, -EEXIST, job->req.sources[i], msg);
	free(msg);
}

/* The destination is resolved: the sources become the first items. */
static void
scan_queue_sources(struct job *job)
{
	size_t	*first = calloc(job->req.nsources, sizeof(*first));

	if (first)
		scan_duplicates(job, first);
	for (size_t i = job->req.nsources; i-- > 0; ) {
		char		 name[NAME_MAX + 1];
		struct item	*it;
		int		 rc;

		if (first && first[i] != i) {
			scan_duplicate(job, i, first[i]);
			continue;
		}
		rc = scan_name(job, i, name, sizeof(name));
		if (rc < 0 || (it = item_new(NULL, job->req.sources[i], name, DT_UNKNOWN)) == NULL) {
			job_fail(job, rc < 0 ? rc : -ENOMEM, "cannot copy '%s'", job->req.sources[i]);
			break;
		}
		if (job->seen) {
			it->dev_major = job->seen[i].dev_major;
			it->dev_minor = job->seen[i].dev_minor;
		}
		job_push_item(job, it);
	}
	free(first);
	free(job->seen);
	job->seen = NULL;
	job_fill(job);
}

/*
 * cp refuses to copy a directory into itself before it copies anything:
 * the destination directory is the source, or lies inside it. The walk
 * sees it too, when it meets the copy being made among the entries it
 * reads (tree.c), but only if it reads them after that copy's directory
 * was made: with two sources (cp -r a dir dir) the listing may come
 * first, and the job was done with a copy that held part of itself. So
 * the destination directory and each one above it, by "..", are
 * compared with the directory sources first, in a pool thread as the
 * caller.
 */
struct scan_self {
	struct eop	op;
	size_t		found;		/* the source above the destination, or nsources */
};

#define SCAN_SELF_MAX_DEPTH	4096	/* PATH_MAX / 2: deeper than any path to it */

/* The directory source that st (the destination or a directory above it) is, or n. */
static size_t
scan_self_which(const struct job *job, const struct stat *st)
{
	for (size_t i = 0; i < job->req.nsources; i++)
		if (S_ISDIR(job->seen[i].mode) && job->seen[i].ino == st->st_ino &&
		    makedev(job->seen[i].dev_major, job->seen[i].dev_minor) == st->st_dev)
			return i;
	return job->req.nsources;
}

static long
scan_self_run(struct eop *op)
{
	struct scan_self	*s = (struct scan_self *)op;
	const struct job	*job = op->owner;
	const int		 flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
	int			 fd = openat(job->dirfd, ".", flags), up;
	struct stat		 st, above;

	if (fd >= 0 && fstat(fd, &st) < 0) {
		close(fd);
		fd = -1;
	}
	for (int depth = 0; fd >= 0 && depth < SCAN_SELF_MAX_DEPTH; depth++) {
		if ((s->found = scan_self_which(job, &st)) < job->req.nsources)
			break;
		up = openat(fd, "..", flags);
		/* The root is its own "..": the top is reached. */
		if (up < 0 || fstat(up, &above) < 0 ||
		    (above.st_dev == st.st_dev && above.st_ino == st.st_ino)) {
			if (up >= 0)
				close(up);
			break;
		}
		close(fd);
		fd = up;
		st = above;
	}
	if (fd >= 0)
		close(fd);
	return 0;
}

static void
scan_self_done(struct eop *op, int res)
{
	struct scan_self	*s = (struct scan_self *)op;
	struct job		*job = op->owner;
	size_t			 i = s->found;
	char			 name[NAME_MAX + 1], *dst = NULL;

	job->active--;
	free(s);
	if (res < 0)	/* the call never ran (an injected fault) */
		job_fail(job, res, "cannot copy into '%s'", job->req.destination);
	if (i < job->req.nsources && scan_name(job, i, name, sizeof(name)) == 0)
		dst = job->into_dir ? path_join(job->req.destination, name) :
		    strdup(job->req.destination);
	if (i < job->req.nsources)
		job_fail(job, -EINVAL, "cannot copy a directory, '%s', into itself, '%s'",
		    job->req.sources[i], dst ? dst : job->req.destination);
	free(dst);
	if (job_stopping(job))
		job_end(job);
	else
		scan_queue_sources(job);
}

/* A tree's sources are looked at against the destination first; others queued at once. */
static void
scan_self_check(struct job *job)
{
	struct scan_self *s;

	if (!job->tree || job->seen == NULL || (s = calloc(1, sizeof(*s))) == NULL) {
		scan_queue_sources(job);
		return;
	}
	s->found = job->req.nsources;	/* none, unless the call runs and finds one */
	scan_call(job, &s->op, scan_self_run, scan_self_done);
	engine_submit(&s->op);
}

/*
 * Whether the destination's failure to open as a directory means a new
 * name for the single source. ELOOP is a symlink loop (or a magic link,
 * which RESOLVE_NO_MAGICLINKS refuses alike), not a directory: with
 * remove_destination or force, what is in the way of the file (cp
 * --remove-destination and cp -f replace a loop); otherwise refused, as
 * cp's open of it fails.
 */
static bool
scan_dest_is_new(const struct scan_dest *d, int res)
{
	return d->may_be_new &&
	    (res == -ENOTDIR || res == -ENOENT || (res == -ELOOP && d->loop_is_new));
}

/*
 * In a pool thread, as the caller: the destination as a directory, or,
 * when it is a new name for the single source, its parent.
 */
static long
scan_dest_resolve(const struct eop *call, struct scan_dest *d)
{
	struct eop	o = { .type = EOP_OPEN, .cred = call->cred, .dirfd = AT_FDCWD,
	    .path = d->dest, .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
	    .resolve = RESOLVE_NO_MAGICLINKS, .fd = -1, .fd2 = -1 };
	long		res = engine_run(&o);

	d->ran = true;
	d->dest_res = (int)res;
	if (res >= 0 || !scan_dest_is_new(d, (int)res) || d->split < 0)
		return res;
	o.path = d->parent;
	return engine_run(&o);
}

static long
scan_dest_run(struct eop *op)
{
	return scan_dest_resolve(op, (struct scan_dest *)op);
}

static void
scan_dest_done(struct eop *op, int res)
{
	struct scan_dest	*d = (struct scan_dest *)op;
	struct job		*job = op->owner;
	const char		*dest = job->req.destination;
	bool			 in_way;

	job->active--;
	if (res >= 0)
		job->dirfd = res;	/* the directory, or a new name's parent */
	if (res >= 0 && d->dest_res >= 0)
		job->into_dir = true;
	else if (!d->ran || !scan_dest_is_new(d, d->dest_res))
		job_fail(job, res, "cannot copy into '%s'", dest);
	else if (d->split < 0)
		job_fail(job, d->split, "invalid destination '%s'", dest);
	else if ((job->dest_name = strdup(d->name)) == NULL ||
	    (job->dest_parent = strdup(d->parent)) == NULL)
		job_fail(job, -ENOMEM, "invalid destination '%s'", dest);
	else if (res < 0)
		job_fail(job, res, "cannot access '%s'", job->dest_parent);
	/* A file in the way of a new name: the copy fails on it first, as cp's. */
	in_way = !job->into_dir && d->dest_res != -ENOENT;
	free(d);
	if (job_stopping(job))
		job_end(job);
	else if (in_way)
		scan_queue_sources(job);
	else
		scan_self_check(job);
}

/* How the destination of job is resolved: what its request says. */
static struct scan_dest *
scan_dest_new(struct job *job)
{
	struct scan_dest	*d = calloc(1, sizeof(*d));
	const char		*dest = job->req.destination;

	if (d == NULL)
		return NULL;
	d->dest = dest;
	d->may_be_new = job->req.nsources == 1 && !path_trailing_slash(dest);
	d->loop_is_new = job->req.remove_destination || job->req.force;
	if (d->may_be_new && (d->split = path_basename(dest, d->name, sizeof(d->name))) == 0)
		d->split = path_dirname(dest, d->parent, sizeof(d->parent));
	return d;
}

/* The scan's resolution, unused: the job did not start at once. */
static void
scan_dest_drop(struct job *job)
{
	struct scan_dest *d = job->dest_pre;

	if (d == NULL)
		return;
	if (d->resolved && d->pre_res >= 0)
		close(d->pre_res);	/* O_PATH: asks nothing of the file system */
	free(d);
	job->dest_pre = NULL;
}

void
scan_release(struct job *job)
{
	free(job->probe);
	job->probe = NULL;
	scan_dest_drop(job);
}

static void
scan_dest_posted(void *arg)
{
	struct scan_dest *d = arg;

	scan_dest_done(&d->op, d->pre_res);
}

void
scan_destination(struct job *job)
{
	struct scan_dest *d = job->dest_pre;

	/*
	 * A job that starts the moment its scan ends (most interactive
	 * copies) takes the destination that scan resolved: one hand-off
	 * to the pool fewer. It completes from the loop, never in this
	 * call, as the pool's would. A job that waited (queued, or for its
	 * owner's identity) resolves it again, now.
	 */
	if (d && d->resolved && job == scan_starting) {
		job->dest_pre = NULL;
		scan_call(job, &d->op, scan_dest_run, scan_dest_done);
		loop_post(scan_dest_posted, d);
		return;
	}
	scan_dest_drop(job);
	if ((d = scan_dest_new(job)) == NULL) {
		job_fail(job, -ENOMEM, "cannot copy into '%s'", job->req.destination);
		job_end(job);
		return;
	}
	scan_call(job, &d->op, scan_dest_run, scan_dest_done);
	engine_submit(&d->op);
}
