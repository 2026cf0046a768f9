/*
 * Jobs: examine the sources, admission through the run queues, the
 * job-level steps (resolve the destination, keep files_in_flight copies
 * going), the share of data chunks each job may have in flight, pause,
 * bandwidth limits, progress for watchers, and the end of a job.
 *
 * Scheduling: queued jobs are admitted interactive first, then normal,
 * then bulk; within a class the job whose user has the fewest running
 * jobs goes first, then the one whose user was served least recently,
 * then the oldest. Interactive jobs have extra slots
 * beyond max_running so they never wait behind bulk work. Running jobs
 * share the data chunks in flight evenly within their class; interactive
 * jobs may use the whole budget, the others bulk_inflight_share of it.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "copy.h"
#include "cred.h"
#include "tree.h"
#include "engine.h"
#include "job.h"
#include "journal.h"
#include "log.h"
#include "loop.h"
#include "path.h"
#include "reserve.h"
#include "varlink.h"

#define JOB_TICK_MS		250
#define JOB_RATE_SAMPLES	8	/* ticks in the rate window: 2 s */
#define JOB_KEEP_MAX		10000	/* finished jobs kept at most */

struct job_scan {
	struct eop	op;
	struct statx	stx;
};

static TAILQ_HEAD(jobhead, job) jobs = TAILQ_HEAD_INITIALIZER(jobs);
static TAILQ_HEAD(jobq, job) runq[PRIO_COUNT];
static struct jobq	running = TAILQ_HEAD_INITIALIZER(running);	/* incl. paused */
static uint64_t		next_id = 1;
static unsigned		nqueued, nrunning, nfinished;
static unsigned		nactive[2];	/* running, not paused: [interactive?] */
static struct job_counters totals;
static bool		shutting_down;

static void job_schedule(void);
static void job_end(struct job *);
static void job_notify(struct job *, bool final);
static void job_scan(struct job *);
static void job_unpark(struct job *);
static bool job_is_interactive(const struct job *);
static void job_user_serve(uid_t);
static void job_journal(struct job *, void (*done)(uint64_t, int));

void
job_init(const struct config *conf)
{
	for (int i = 0; i < PRIO_COUNT; i++)
		TAILQ_INIT(&runq[i]);
}

void
job_reconfigure(const struct config *conf)
{
	job_schedule();		/* max_running may have grown */
}

bool
job_finished(const struct job *job)
{
	return job->state >= JOB_DONE;
}

bool
job_accepting(const struct job *job)
{
	return job->accepting;
}

struct job *
job_find(uint64_t id)
{
	struct job *job;

	TAILQ_FOREACH(job, &jobs, entry)
		if (job->id == id)
			return job;
	return NULL;
}

struct job *
job_first(void)
{
	return TAILQ_FIRST(&jobs);
}

struct job *
job_next(struct job *job)
{
	return TAILQ_NEXT(job, entry);
}

unsigned
job_count_active(void)
{
	return nqueued + nrunning;
}

static void
job_free_request(struct job *job)
{
	for (size_t i = 0; i < job->req.nsources; i++)
		free(job->req.sources[i]);
	free(job->req.sources);
	free(job->req.destination);
}

static void
job_free(struct job *job)
{
	TAILQ_REMOVE(&jobs, job, entry);
	nfinished--;
	job_free_request(job);
	free(job->dest_name);
	free(job->dest_parent);
	free(job->error_message);
	for (unsigned i = 0; i < JOB_MAX_FAILURES && i < job->files_failed; i++) {
		free(job->failures[i].path);
		free(job->failures[i].message);
	}
	cred_unref(job->cred);
	json_object_put(job->final);
	journal_write(job->id, NULL, false, NULL);	/* expired: its record goes too */
	free(job);
}

/*
 * The Copy calls waiting for the job's record: it is durable (or failed).
 * A reply may run the connection's next call, which may change the
 * watchers (even end the job): look for the next one from the start.
 */
static void
job_tell_accepted(struct job *job)
{
	struct call *call;

	for (;;) {
		void (*accepted)(struct call *, struct job *);

		TAILQ_FOREACH(call, &job->watchers, wentry)
			if (call->accepted)
				break;
		if (call == NULL)
			return;
		accepted = call->accepted;
		call->accepted = NULL;
		job_unwatch(job, call);
		accepted(call, job);
	}
}

/*
 * The job's first record is durable: only now does it start, so that a
 * job that touched the file system (and may have left temporaries) is
 * always one the journal knows.
 */
static void
job_accept_done(uint64_t id, int err)
{
	struct job *job = job_find(id);

	if (job == NULL || !job->accepting)
		return;
	job->accepting = false;
	job_tell_accepted(job);
	if (job_finished(job))
		return;
	if (err < 0) {
		job_fail(job, err, "cannot record the job in '%s'", journal_dir());
		job_end(job);
		return;
	}
	job_scan(job);
}

int
job_submit(struct job_request *req, struct cred *cred, struct job **out)
{
	struct job	*job;
	unsigned	 mine = 0;

	if (shutting_down)
		return -ESHUTDOWN;
	TAILQ_FOREACH(job, &jobs, entry)
		mine += job->cred->uid == cred->uid && !job_finished(job);
	if (mine >= cpd_conf->jobs.max_per_user)
		return -EUSERS;
	if ((job = calloc(1, sizeof(*job))) == NULL)
		return -ENOMEM;
	job->id = next_id++;
	job->req = *req;
	job->cred = cred;
	job->dirfd = -1;
	job->files_total = req->nsources;
	job->created_usec = loop_wall_usec();
	job->parked_tail = &job->parked;
	job->tokens = (int64_t)(req->bwlimit / 4);
	job->tokens_usec = loop_now_usec();
	TAILQ_INIT(&job->watchers);
	TAILQ_INSERT_TAIL(&jobs, job, entry);
	nqueued++;
	log_info("job %llu: uid %u, %zu source%s -> %s (%s)", (unsigned long long)job->id,
	    (unsigned)cred->uid, req->nsources, req->nsources == 1 ? "" : "s",
	    req->destination, req->prio == PRIO_AUTO ? "auto" : job_prio_name(req->prio));
	*out = job;
	if (job->id >= journal_id_limit())
		journal_reserve_ids(job->id);
	job->accepting = true;
	job_journal(job, job_accept_done);	/* may call it at once */
	return 0;
}

/* Running and not paused: counts for admission and chunk shares. */
static void
job_set_active(struct job *job, bool on)
{
	nactive[job_is_interactive(job)] += on ? 1 : (unsigned)-1;
}

/* The sources are examined: choose the class if asked to, and queue. */
static void
job_admit(struct job *job)
{
	/* A tree's size is known only once it is walked: never small enough to be sure. */
	if (job->req.prio == PRIO_AUTO)
		job->req.prio = job->bytes_total <= cpd_conf->jobs.auto_interactive_max && !job->tree ?
		    PRIO_INTERACTIVE : job->bytes_total >= cpd_conf->jobs.auto_bulk_min ?
		    PRIO_BULK : PRIO_NORMAL;
	if (job_is_interactive(job))
		reserve_touch();	/* someone waits for it: see reserve.c */
	TAILQ_INSERT_TAIL(&runq[job->req.prio], job, qentry);
	job->in_runq = true;
	job_schedule();
}

static void
job_set_error(struct job *job, int err, char *msg)
{
	if (job->err || (err == -ECANCELED && job->cancelling)) {
		free(msg);
		return;
	}
	job->err = err;
	job->error_message = msg;
	log_notice("job %llu: %s", (unsigned long long)job->id, msg ? msg : strerror(-err));
}

void
job_fail(struct job *job, int err, const char *fmt, ...)
{
	va_list	 ap;
	char	*what = NULL, *msg = NULL;

	va_start(ap, fmt);
	if (vasprintf(&what, fmt, ap) < 0)
		what = NULL;
	va_end(ap);
	if (asprintf(&msg, "%s: %s", what ? what : "error", strerror(-err)) < 0)
		msg = NULL;
	free(what);
	job_set_error(job, err, msg);
}

/* The job's end is durable: now it may be announced. */
static void
job_end_done(uint64_t id, int err)
{
	struct job *job = job_find(id);

	if (job)
		job_notify(job, true);
}

static void
job_end(struct job *job)
{
	copy_job_free(job);
	tree_job_free(job);
	if (job->dirfd >= 0)
		close(job->dirfd);
	job->dirfd = -1;
	free(job->scan);
	job->scan = NULL;
	job->finished_usec = loop_wall_usec();
	job->rate = 0;
	if (job->state == JOB_RUNNING || job->state == JOB_PAUSED) {
		if (!job->paused)
			job_set_active(job, false);
		TAILQ_REMOVE(&running, job, qentry);
		nrunning--;
	} else {
		if (job->in_runq)
			TAILQ_REMOVE(&runq[job->req.prio], job, qentry);
		job->in_runq = false;
		nqueued--;
	}
	nfinished++;
	if (job->cancelling) {
		job->state = JOB_CANCELLED;
		totals.cancelled++;
	} else if (job->err) {
		job->state = JOB_FAILED;
		totals.failed++;
	} else {
		job->state = JOB_DONE;
		totals.done++;
	}
	log_info("job %llu: %s, %llu of %llu files, %llu bytes",
	    (unsigned long long)job->id, job_state_name(job->state),
	    (unsigned long long)job->files_done, (unsigned long long)job->files_total,
	    (unsigned long long)job->bytes_done);
	/* A job stopped by a shutdown keeps its record: it runs again. */
	if (job->interrupted)
		job_notify(job, true);
	else
		job_journal(job, job_end_done);
	job_schedule();
}

static bool
job_is_interactive(const struct job *job)
{
	return job->req.prio == PRIO_INTERACTIVE;
}

struct eop *
job_op_init(struct job *job, struct eop *op, enum eop_type type,
    void (*done)(struct eop *, int))
{
	memset(op, 0, sizeof(*op));
	op->type = type;
	op->cred = job->cred;
	op->done = done;
	op->owner = job;
	op->dirfd = AT_FDCWD;
	/* Still "auto": examining the sources, a statx each, for a class. */
	op->interactive = job_is_interactive(job) || job->req.prio == PRIO_AUTO;
	return op;
}

/* A job-level step: one at a time, in job->step. */
static struct eop *
job_op(struct job *job, enum eop_type type, void (*done)(struct eop *, int))
{
	return job_op_init(job, &job->step, type, done);
}

static void
job_dir_synced(struct eop *op, int res)
{
	struct job *job = op->owner;

	if (op->type == EOP_OPEN) {
		if (res < 0) {
			job_fail(job, res, "cannot open '%s' to sync it", job->into_dir ?
			    job->req.destination : job->dest_parent);
			job_end(job);
			return;
		}
		op->type = EOP_FSYNC;
		op->fd = res;
		engine_submit(op);
		return;
	}
	if (res < 0)
		job_fail(job, res, "cannot sync directory '%s'", job->into_dir ?
		    job->req.destination : job->dest_parent);
	close(op->fd);
	job_end(job);
}

/* All files are through: with sync, make their names durable too. */
static void
job_files_done(struct job *job)
{
	struct eop *op;

	if (!job->req.sync || job->err || job->cancelling) {
		job_end(job);
		return;
	}
	op = job_op(job, EOP_OPEN, job_dir_synced);
	op->dirfd = job->dirfd;
	op->path = ".";
	op->flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;
	engine_submit(op);
}

bool
job_stopping(const struct job *job)
{
	return job->err || job->cancelling;
}

void
job_push_item(struct job *job, struct item *it)
{
	it->next = job->items;
	job->items = it;
	job->nitems++;
}

void
job_add_total(struct job *job, uint64_t files, uint64_t bytes)
{
	job->files_total += files;
	job->bytes_total += bytes;
	job->dirty = true;
}

/* Start items while there is room; when all have ended, finish. */
void
job_fill(struct job *job)
{
	struct item *it;

	if (job->finishing)
		return;
	while (job->active < cpd_conf->jobs.files_in_flight && !job->paused &&
	    (it = job->items) != NULL) {
		job->items = it->next;
		job->nitems--;
		if (job_stopping(job)) {
			/* Dropped: it never started, nothing to record. */
			struct tnode *parent = it->parent;
			free(it);
			if (parent)
				tree_child_done(parent);
			continue;
		}
		job->active++;
		if (it->dtype == DT_DIR)
			tree_start(job, it);
		else
			copy_start(job, it);
	}
	tree_kick(job);
	/* Dropping items above may have ended the job already, re-entrantly. */
	if (!job->finishing && job->active == 0 && job->items == NULL && tree_nodes(job) == 0) {
		job->finishing = true;
		job_files_done(job);
	}
}

/* An item's result: counted, listed (keep_going), or the job's error. */
static void
job_record(struct job *job, int err, const char *path, const char *msg)
{
	struct failure *f;

	if (err == 0 || (err == -ECANCELED && job_stopping(job)))
		return;
	if (!job->req.keep_going || err == -ENOMEM) {
		job_set_error(job, err, msg ? strdup(msg) : NULL);
		return;
	}
	if (job->files_failed < JOB_MAX_FAILURES) {
		f = &job->failures[job->files_failed];
		f->path = strdup(path ? path : "");
		f->err = err;
		f->message = strdup(msg ? msg : strerror(-err));
	}
	job->files_failed++;
	log_notice("job %llu: %s", (unsigned long long)job->id, msg ? msg : strerror(-err));
}

void
job_file_end(struct job *job, struct tnode *parent, int err, const char *path,
    const char *msg, enum method method)
{
	job->active--;
	job_record(job, err, path, msg);
	if (err == 0) {
		job->files_done++;
		totals.files_copied++;
		if (method < M_COUNT)
			job->methods[method]++;
	}
	job->dirty = true;
	if (parent)
		tree_child_done(parent);
	job_fill(job);
}

void
job_file_to_dir(struct job *job, const struct item *it)
{
	if (it->parent || !job->req.recursive)
		job->files_total--;	/* listed as a file, found to be a directory */
}

void
job_dir_ready(struct job *job)
{
	job->active--;
	job_fill(job);
}

void
job_dir_end(struct job *job, struct tnode *parent, int err, const char *path,
    const char *msg)
{
	job_record(job, err, path, msg);
	job->dirty = true;
	if (parent == NULL)
		job_fill(job);		/* a top-level directory: maybe the last item */
}

void
job_dir_failed(struct job *job, int err, const char *path, const char *fmt)
{
	char *msg = NULL;

	if (asprintf(&msg, fmt, path, strerror(-err)) < 0)
		msg = NULL;
	job_record(job, err, path, msg);
	free(msg);
}

void
job_progress(struct job *job, uint64_t bytes)
{
	job->bytes_done += bytes;
	totals.bytes_copied += bytes;
	job->dirty = true;
}

static void job_scan_opened(struct eop *, int);

/*
 * Open source i of the scan (O_PATH) and statx the result: a statx of the
 * path itself would follow a /proc magic link, which openat2 refuses.
 */
static void
job_scan_source(struct job *job, size_t i)
{
	struct job_scan *s = &job->scan[i];

	job_op_init(job, &s->op, EOP_OPEN, job_scan_opened);
	s->op.path = job->req.sources[i];
	/* A tree copy copies a symlink given as a source as a symlink. */
	s->op.flags = O_PATH | O_CLOEXEC | (job->req.recursive ? O_NOFOLLOW : 0);
	s->op.resolve = RESOLVE_NO_MAGICLINKS;
	s->op.stx = &s->stx;
	job->active++;
	engine_submit(&s->op);
}

static void
job_scanned(struct eop *op, int res)
{
	struct job_scan	*s = (struct job_scan *)op;
	struct job	*job = op->owner;
	const char	*path = job->req.sources[s - job->scan];

	if (op->type == EOP_STATX)
		close(op->dirfd);
	job->active--;
	if (res < 0)
		job_fail(job, res, "cannot stat '%s'", path);
	else if (path_on_procfs(s->stx.stx_dev_major, s->stx.stx_dev_minor))
		job_fail(job, -EPERM, PATH_PROCFS_REFUSED, path);
	else if (S_ISDIR(s->stx.stx_mode) && !job->req.recursive)
		job_fail(job, -EISDIR, "omitting directory '%s'", path);
	else if (S_ISDIR(s->stx.stx_mode)) {
		job->files_total--;	/* its files are counted as the walk finds them */
		job->tree = true;
	} else if (S_ISREG(s->stx.stx_mode))
		job->bytes_total += s->stx.stx_size;
	else if (!job->req.recursive)
		job_fail(job, -EINVAL, "'%s' is not a regular file", path);
	job->dirty = true;
	if (job_stopping(job)) {
		if (job->active == 0)
			job_end(job);
		return;
	}
	if (job->next_source < job->req.nsources) {
		job_scan_source(job, job->next_source++);
		return;
	}
	if (job->active == 0) {
		job->next_source = 0;
		free(job->scan);
		job->scan = NULL;
		job_admit(job);
	}
}

static void
job_scan_opened(struct eop *op, int res)
{
	if (res < 0) {
		job_scanned(op, res);
		return;
	}
	op->type = EOP_STATX;
	op->done = job_scanned;
	op->dirfd = res;
	op->path = "";
	op->flags = AT_EMPTY_PATH;
	engine_submit(op);
}

/*
 * Examine every source first (statx, as the caller), while the job is
 * queued: the totals are then known for progress and for choosing the
 * class, and a missing source fails the job before anything is written.
 */
static void
job_scan(struct job *job)
{
	size_t n = job->req.nsources;

	if ((job->scan = calloc(n, sizeof(*job->scan))) == NULL) {
		job_fail(job, -ENOMEM, "cannot start");
		job_end(job);
		return;
	}
	job->next_source = 0;
	while (job->next_source < n && job->active < cpd_conf->jobs.files_in_flight)
		job_scan_source(job, job->next_source++);
}

/* The destination is resolved: the sources become the first items. */
static void
job_queue_sources(struct job *job)
{
	for (size_t i = job->req.nsources; i-- > 0; ) {
		const char	*src = job->req.sources[i];
		char		 name[NAME_MAX + 1];
		struct item	*it;
		int		 rc = 0;

		if (job->into_dir)
			rc = path_basename(src, name, sizeof(name));
		else
			snprintf(name, sizeof(name), "%s", job->dest_name);
		if (rc < 0 || (it = item_new(NULL, src, name, DT_UNKNOWN)) == NULL) {
			job_fail(job, rc < 0 ? rc : -ENOMEM, "cannot copy '%s'", src);
			break;
		}
		job_push_item(job, it);
	}
	job_fill(job);
}

static void
job_parent_opened(struct eop *op, int res)
{
	struct job *job = op->owner;

	if (res < 0)
		job_fail(job, res, "cannot access '%s'", job->dest_parent);
	else
		job->dirfd = res;
	if (job_stopping(job))
		job_end(job);
	else
		job_queue_sources(job);
}

static void
job_dest_opened(struct eop *op, int res)
{
	struct job	*job = op->owner;
	const char	*dest = job->req.destination;
	char		 buf[PATH_MAX];
	int		 rc;

	if (res >= 0) {
		job->dirfd = res;
		job->into_dir = true;
		if (job->cancelling)
			job_end(job);
		else
			job_queue_sources(job);
		return;
	}
	if (job->cancelling) {
		job_end(job);
		return;
	}
	if ((res != -ENOTDIR && res != -ENOENT) || job->req.nsources > 1 ||
	    path_trailing_slash(dest)) {
		job_fail(job, res, "cannot copy into '%s'", dest);
		job_end(job);
		return;
	}
	/* A single source to a name that is not a directory: a new file. */
	if ((rc = path_basename(dest, buf, sizeof(buf))) < 0 ||
	    (job->dest_name = strdup(buf)) == NULL ||
	    (rc = path_dirname(dest, buf, sizeof(buf))) < 0 ||
	    (job->dest_parent = strdup(buf)) == NULL) {
		job_fail(job, rc < 0 ? rc : -ENOMEM, "invalid destination '%s'", dest);
		job_end(job);
		return;
	}
	op = job_op(job, EOP_OPEN, job_parent_opened);
	op->path = job->dest_parent;
	op->flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
	op->resolve = RESOLVE_NO_MAGICLINKS;
	engine_submit(op);
}

static void
job_start(struct job *job)
{
	struct eop *op;

	TAILQ_REMOVE(&runq[job->req.prio], job, qentry);
	job->in_runq = false;
	TAILQ_INSERT_TAIL(&running, job, qentry);
	nqueued--;
	nrunning++;
	job_set_active(job, true);
	job_user_serve(job->cred->uid);
	job->state = JOB_RUNNING;
	job->started_usec = loop_wall_usec();
	job->dirty = true;
	/* Not waited for: a restart runs a queued job and a running one alike. */
	job_journal(job, NULL);
	op = job_op(job, EOP_OPEN, job_dest_opened);
	op->path = job->req.destination;
	op->flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
	op->resolve = RESOLVE_NO_MAGICLINKS;
	engine_submit(op);
}

static unsigned
job_user_running(uid_t uid)
{
	struct job *job;
	unsigned    n = 0;

	TAILQ_FOREACH(job, &running, qentry)
		n += job->cred->uid == uid && !job->paused;
	return n;
}

/*
 * When each user last had a job started (a sequence number), for the
 * round robin between users. Users with nothing queued are forgotten.
 */
static struct served {
	uid_t		uid;
	uint64_t	seq;
} *served;
static size_t	nserved;
static uint64_t	serve_seq;

static uint64_t
job_user_served(uid_t uid)
{
	for (size_t i = 0; i < nserved; i++)
		if (served[i].uid == uid)
			return served[i].seq;
	return 0;
}

static void
job_user_serve(uid_t uid)
{
	struct served *s;
	size_t	       i;

	for (i = 0; i < nserved && served[i].uid != uid; i++)
		;
	if (i == nserved) {
		/* Drop users that have nothing queued before growing. */
		for (size_t j = 0; j < nserved; ) {
			bool queued = false;
			for (int p = 0; p < PRIO_COUNT && !queued; p++) {
				struct job *job;
				TAILQ_FOREACH(job, &runq[p], qentry)
					if ((queued = job->cred->uid == served[j].uid))
						break;
			}
			if (queued)
				j++;
			else
				served[j] = served[--nserved];
		}
		if ((s = realloc(served, (nserved + 1) * sizeof(*s))) == NULL)
			return;		/* fairness only; not worth failing for */
		served = s;
		i = nserved++;
		served[i].uid = uid;
	}
	served[i].seq = ++serve_seq;
}

/*
 * The queued job of class p to start next: its user has the fewest jobs
 * running, then was served least recently; the oldest of that user's.
 */
static struct job *
job_pick(enum job_prio p)
{
	unsigned	 cap = cpd_conf->jobs.max_running_per_user, best_n = UINT32_MAX;
	uint64_t	 best_seq = UINT64_MAX;
	struct job	*job, *best = NULL;

	TAILQ_FOREACH(job, &runq[p], qentry) {
		unsigned n;
		uint64_t seq;

		if (job->paused)
			continue;
		n = job_user_running(job->cred->uid);
		if (cap && n >= cap)
			continue;
		seq = job_user_served(job->cred->uid);
		if (n < best_n || (n == best_n && seq < best_seq)) {
			best = job;
			best_n = n;
			best_seq = seq;
		}
	}
	return best;
}

/* Start queued jobs while there is room, interactive ones first. */
static void
job_schedule(void)
{
	for (int p = 0; p < PRIO_COUNT; p++) {
		unsigned slots = cpd_conf->jobs.max_running +
		    (p == PRIO_INTERACTIVE ? cpd_conf->jobs.interactive_slots : 0);
		struct job *job;

		while (nactive[0] + nactive[1] < slots && (job = job_pick(p)) != NULL)
			job_start(job);
	}
}

void
job_cancel(struct job *job)
{
	if (job_finished(job) || job->cancelling)
		return;
	job->cancelling = true;
	log_info("job %llu: cancelling", (unsigned long long)job->id);
	job_unpark(job);		/* parked chunks are dropped */
	if (job->state == JOB_QUEUED && job->active == 0)
		job_end(job);
	else if (job->paused) {
		job_resume(job);	/* so that it can wind down */
		return;
	}
	/* Otherwise it ends when its operations in flight come back. */
}

void
job_pause(struct job *job)
{
	if (job_finished(job) || job->paused || job->cancelling)
		return;
	job->paused = true;
	if (job->state == JOB_RUNNING) {
		job_set_active(job, false);
		job->state = JOB_PAUSED;
	}
	job->dirty = true;
	log_info("job %llu: paused", (unsigned long long)job->id);
	job_schedule();		/* its slot is free for another job */
}

void
job_resume(struct job *job)
{
	if (!job->paused)
		return;
	job->paused = false;
	job->dirty = true;
	log_info("job %llu: resumed", (unsigned long long)job->id);
	if (job->state == JOB_PAUSED) {
		job->state = JOB_RUNNING;
		job_set_active(job, true);
		job_unpark(job);
		job_fill(job);
	} else
		job_schedule();
}

/* The data chunks the job may have in flight: an even share of its class's. */
static unsigned
job_lane_share(const struct job *job)
{
	unsigned budget = cpd_conf->engine.max_inflight, n;

	if (!job_is_interactive(job))
		budget = budget * cpd_conf->engine.bulk_inflight_share / 100;
	n = nactive[job_is_interactive(job)];
	return n > 1 ? (budget / n ? budget / n : 1) : (budget ? budget : 1);
}

static void
job_refill(struct job *job)
{
	uint64_t now = loop_now_usec();
	int64_t	 cap = (int64_t)(job->req.bwlimit / 4);

	job->tokens += (int64_t)(job->req.bwlimit * (now - job->tokens_usec) / 1000000);
	job->tokens_usec = now;
	if (job->tokens > cap)
		job->tokens = cap;	/* a quarter second of burst at most */
}

static bool
job_lane_may_start(struct job *job)
{
	if (job->paused || job->lanes_busy >= job_lane_share(job))
		return false;
	if (job->req.bwlimit) {
		job_refill(job);
		if (job->tokens <= 0)
			return false;
	}
	return true;
}

bool
job_lane_begin(struct job *job, struct eop *op)
{
	if (job->cancelling || !job_lane_may_start(job)) {
		op->next = NULL;
		*job->parked_tail = op;
		job->parked_tail = &op->next;
		if (job->cancelling)
			job_unpark(job);
		return false;
	}
	job->lanes_busy++;
	job->tokens -= (int64_t)op->len;
	return true;
}

void
job_lane_end(struct job *job)
{
	job->lanes_busy--;
	job_unpark(job);
}

/* Start parked chunks that may start now; a cancelled job drops them. */
static void
job_unpark(struct job *job)
{
	struct eop *op;

	while ((op = job->parked) != NULL &&
	    (job->cancelling || job_lane_may_start(job))) {
		if ((job->parked = op->next) == NULL)
			job->parked_tail = &job->parked;
		if (job->cancelling)
			copy_lane_drop(op);
		else {
			job->lanes_busy++;
			job->tokens -= (int64_t)op->len;
			copy_lane_run(op);
		}
	}
}

void
job_shutdown(void)
{
	struct job *job, *next;

	shutting_down = true;
	for (job = TAILQ_FIRST(&jobs); job; job = next) {
		next = TAILQ_NEXT(job, entry);
		job->interrupted = !job_finished(job) && !job->cancelling;
		job_cancel(job);
	}
}

struct json_object *
job_to_json(const struct job *job)
{
	struct json_object *o, *src, *m, *f;

	if (job->final)
		return json_object_get(job->final);
	o = json_object_new_object();
	src = json_object_new_array();
	for (size_t i = 0; i < job->req.nsources; i++)
		json_object_array_add(src, json_object_new_string(job->req.sources[i]));
	json_object_object_add(o, "id", json_object_new_int64((int64_t)job->id));
	json_object_object_add(o, "state", json_object_new_string(job_state_name(job->state)));
	json_object_object_add(o, "priority", json_object_new_string(
	    job->req.prio == PRIO_AUTO ? "normal" : job_prio_name(job->req.prio)));
	json_object_object_add(o, "sources", src);
	json_object_object_add(o, "destination", json_object_new_string(job->req.destination));
	json_object_object_add(o, "uid", json_object_new_int64(job->cred->uid));
	json_object_object_add(o, "no_clobber", json_object_new_boolean(job->req.no_clobber));
	json_object_object_add(o, "sync", json_object_new_boolean(job->req.sync));
	json_object_object_add(o, "bwlimit", json_object_new_int64((int64_t)job->req.bwlimit));
	json_object_object_add(o, "recursive", json_object_new_boolean(job->req.recursive));
	json_object_object_add(o, "archive", json_object_new_boolean(job->req.archive));
	json_object_object_add(o, "reflink", json_object_new_string(
	    job_reflink_name(job->req.reflink)));
	json_object_object_add(o, "keep_going", json_object_new_boolean(job->req.keep_going));
#define ADD_U64(name, v) json_object_object_add(o, name, json_object_new_int64((int64_t)(v)))
	ADD_U64("bytes_total", job->bytes_total);
	ADD_U64("bytes_done", job->bytes_done);
	ADD_U64("files_total", job->files_total);
	ADD_U64("files_done", job->files_done);
	ADD_U64("rate", job->rate);
	ADD_U64("created_usec", job->created_usec);
	ADD_U64("started_usec", job->started_usec);
	ADD_U64("finished_usec", job->finished_usec);
	ADD_U64("restarts", job->restarts);
#undef ADD_U64
	if (job->method)
		json_object_object_add(o, "method", json_object_new_string(job->method));
	json_object_object_add(o, "methods", m = json_object_new_object());
	for (int i = 0; i < M_COUNT; i++)
		json_object_object_add(m, job_method_name((enum method)i), json_object_new_int64(
		    (int64_t)job->methods[i]));
	json_object_object_add(o, "files_failed", json_object_new_int64((int64_t)job->files_failed));
	json_object_object_add(o, "failures", f = json_object_new_array());
	for (uint64_t i = 0; i < job->files_failed && i < JOB_MAX_FAILURES; i++) {
		const struct failure *fl = &job->failures[i];
		struct json_object *e = json_object_new_object();

		json_object_object_add(e, "path", json_object_new_string(fl->path ? fl->path : ""));
		json_object_object_add(e, "error", json_object_new_string(
		    strerrorname_np(-fl->err) ? strerrorname_np(-fl->err) : "EIO"));
		json_object_object_add(e, "error_message",
		    json_object_new_string(fl->message ? fl->message : ""));
		json_object_array_add(f, e);
	}
	if (job->state == JOB_FAILED) {
		json_object_object_add(o, "error", json_object_new_string(
		    strerrorname_np(-job->err) ? strerrorname_np(-job->err) : "EIO"));
		json_object_object_add(o, "error_message", json_object_new_string(
		    job->error_message ? job->error_message : strerror(-job->err)));
	}
	return o;
}

static struct json_object *
job_reply_params(const struct job *job)
{
	struct json_object *p = json_object_new_object();

	json_object_object_add(p, "job", job_to_json(job));
	return p;
}

void
job_watch(struct job *job, struct call *call)
{
	call->job = job;
	TAILQ_INSERT_TAIL(&job->watchers, call, wentry);
}

void
job_unwatch(struct job *job, struct call *call)
{
	TAILQ_REMOVE(&job->watchers, call, wentry);
	call->job = NULL;
}

/*
 * Tell the watchers. A final reply ends the call, which may let its
 * connection run the next queued message at once, and that may watch
 * this job again: detach the current watchers before replying.
 */
static void
job_notify(struct job *job, bool final)
{
	struct call *call, *next;

	if (final) {
		TAILQ_HEAD(, call) done = TAILQ_HEAD_INITIALIZER(done);

		TAILQ_CONCAT(&done, &job->watchers, wentry);
		while ((call = TAILQ_FIRST(&done)) != NULL) {
			TAILQ_REMOVE(&done, call, wentry);
			call->job = NULL;
			varlink_reply(call, job_reply_params(job), false);
		}
		return;
	}
	for (call = TAILQ_FIRST(&job->watchers); call; call = next) {
		next = TAILQ_NEXT(call, wentry);
		if (call->more && call->accepted == NULL)
			varlink_reply(call, job_reply_params(job), true);
	}
}

static void
job_sample_rate(struct job *job)
{
	unsigned n = job->nsamples < JOB_RATE_SAMPLES ? job->nsamples : JOB_RATE_SAMPLES;

	memmove(job->samples + 1, job->samples, sizeof(job->samples) - sizeof(job->samples[0]));
	job->samples[0] = job->bytes_done;
	job->nsamples++;
	if (n > 0)
		job->rate = (job->bytes_done - job->samples[n]) * 1000 / (n * JOB_TICK_MS);
}

void
job_tick(void)
{
	uint64_t	 now = loop_wall_usec();
	uint64_t	 keep = (uint64_t)cpd_conf->jobs.keep_finished * 1000000;
	struct job	*job, *next;

	totals.rate = 0;
	if (nactive[1])
		reserve_touch();	/* interactive jobs still running */
	for (job = TAILQ_FIRST(&jobs); job; job = next) {
		next = TAILQ_NEXT(job, entry);
		if (job->state == JOB_RUNNING) {
			job_sample_rate(job);
			totals.rate += job->rate;
			if (job->parked)
				job_unpark(job);	/* bandwidth tokens came in */
		}
		if (job->dirty && !job_finished(job)) {
			job->dirty = false;
			job_notify(job, false);
		}
		if (job_finished(job) && TAILQ_EMPTY(&job->watchers) &&
		    (job->finished_usec + keep < now || nfinished > JOB_KEEP_MAX))
			job_free(job);
	}
}

/* Whether bulk chunks are written behind (copy.c says why): engine.write_behind. */
bool
job_write_behind(void)
{
	switch (cpd_conf->engine.write_behind) {
	case ASYNC_ALWAYS:
		return true;
	case ASYNC_NEVER:
		return false;
	default:		/* auto: when another job runs or waits */
		return nactive[0] + nactive[1] > 1 || nqueued > 0;
	}
}

void
job_counters(struct job_counters *c)
{
	*c = totals;
	c->queued = nqueued;
	c->running = nactive[0] + nactive[1];
	c->paused = nrunning - c->running;
	for (int p = 0; p < PRIO_COUNT; p++) {
		struct job *job;

		c->queued_prio[p] = 0;
		TAILQ_FOREACH(job, &runq[p], qentry)
			c->queued_prio[p]++;
	}
}

/* ---- The journal: a job's record, and jobs from records. ---- */

/*
 * Everything needed to run the job again exactly as its owner asked,
 * with the owner's credentials, and for a finished job what Get shows.
 */
static struct json_object *
job_record_json(const struct job *job)
{
	struct json_object *o = json_object_new_object(), *r = json_object_new_object();
	struct json_object *a = json_object_new_array(), *g = json_object_new_array();

	json_object_object_add(o, "id", json_object_new_int64((int64_t)job->id));
	/* Paused counts as running: a restart runs it (unpaused). */
	json_object_object_add(o, "state", json_object_new_string(
	    job_state_name(job->state == JOB_PAUSED ? JOB_RUNNING : job->state)));
	json_object_object_add(o, "restarts", json_object_new_int64(job->restarts));
	json_object_object_add(o, "created_usec", json_object_new_int64((int64_t)job->created_usec));
	json_object_object_add(o, "finished_usec", json_object_new_int64((int64_t)job->finished_usec));
	json_object_object_add(o, "uid", json_object_new_int64(job->cred->uid));
	json_object_object_add(o, "gid", json_object_new_int64(job->cred->gid));
	for (int i = 0; i < job->cred->ngroups; i++)
		json_object_array_add(g, json_object_new_int64(job->cred->groups[i]));
	json_object_object_add(o, "groups", g);
	for (size_t i = 0; i < job->req.nsources; i++)
		json_object_array_add(a, json_object_new_string(job->req.sources[i]));
	json_object_object_add(r, "sources", a);
	json_object_object_add(r, "destination", json_object_new_string(job->req.destination));
	json_object_object_add(r, "no_clobber", json_object_new_boolean(job->req.no_clobber));
	json_object_object_add(r, "sync", json_object_new_boolean(job->req.sync));
	json_object_object_add(r, "priority", json_object_new_string(
	    job->req.prio == PRIO_AUTO ? "auto" : job_prio_name(job->req.prio)));
	json_object_object_add(r, "bwlimit", json_object_new_int64((int64_t)job->req.bwlimit));
	json_object_object_add(r, "recursive", json_object_new_boolean(job->req.recursive));
	json_object_object_add(r, "archive", json_object_new_boolean(job->req.archive));
	json_object_object_add(r, "keep_going", json_object_new_boolean(job->req.keep_going));
	json_object_object_add(r, "reflink", json_object_new_string(job_reflink_name(job->req.reflink)));
	json_object_object_add(r, "umask", json_object_new_int64(job->req.umask));
	json_object_object_add(o, "request", r);
	if (job_finished(job))
		json_object_object_add(o, "job", job_to_json(job));
	return o;
}

static void
job_journal(struct job *job, void (*done)(uint64_t, int))
{
	/* Made durable only where the job promises durability (journal.c). */
	journal_write(job->id, job_record_json(job), job->req.sync, done);
}

/* Typed fields of a record; false when absent or of another type. */
static bool
job_rec_int(struct json_object *o, const char *key, int64_t min, int64_t max, int64_t *out)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return false;
	*out = json_object_get_int64(v);
	return *out >= min && *out <= max;
}

static bool
job_rec_bool(struct json_object *o, const char *key, bool *out)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_boolean))
		return false;
	*out = json_object_get_boolean(v);
	return true;
}

static const char *
job_rec_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static char *
job_rec_path(struct json_object *v)
{
	if (!json_object_is_type(v, json_type_string) || path_check(json_object_get_string(v),
	    (size_t)json_object_get_string_len(v)) < 0)
		return NULL;
	return strdup(json_object_get_string(v));
}

/* The request of a record, checked as strictly as a Copy call's. */
static int
job_rec_request(struct json_object *r, struct job_request *req)
{
	struct json_object	*a;
	const char		*prio = job_rec_str(r, "priority");
	const char		*reflink = job_rec_str(r, "reflink");
	int64_t			 bwlimit, umask;
	size_t			 n;

	if (!json_object_object_get_ex(r, "sources", &a) || !json_object_is_type(a, json_type_array) ||
	    (n = json_object_array_length(a)) == 0 || n > 65536 ||
	    (req->sources = calloc(n, sizeof(char *))) == NULL)
		return -EBADMSG;
	for (; req->nsources < n; req->nsources++)
		if ((req->sources[req->nsources] = job_rec_path(
		    json_object_array_get_idx(a, req->nsources))) == NULL)
			return -EBADMSG;
	if (!json_object_object_get_ex(r, "destination", &a) ||
	    (req->destination = job_rec_path(a)) == NULL ||
	    !job_rec_bool(r, "no_clobber", &req->no_clobber) ||
	    !job_rec_bool(r, "sync", &req->sync) ||
	    !job_rec_bool(r, "recursive", &req->recursive) ||
	    !job_rec_bool(r, "archive", &req->archive) ||
	    !job_rec_bool(r, "keep_going", &req->keep_going) ||
	    !job_rec_int(r, "bwlimit", 0, INT64_MAX, &bwlimit) ||
	    !job_rec_int(r, "umask", 0, 0777, &umask) ||
	    prio == NULL || reflink == NULL || job_reflink_parse(reflink, &req->reflink) < 0)
		return -EBADMSG;
	if (strcmp(prio, "auto") == 0)
		req->prio = PRIO_AUTO;
	else if (job_prio_parse(prio, &req->prio) < 0)
		return -EBADMSG;
	req->bwlimit = (uint64_t)bwlimit;
	req->umask = (mode_t)umask;
	return 0;
}

static int
job_rec_cred(struct json_object *rec, struct cred **out)
{
	struct json_object	*g;
	int64_t			 uid, gid, v;
	gid_t			*groups;
	size_t			 n;

	if (!job_rec_int(rec, "uid", 0, UINT32_MAX - 1, &uid) ||
	    !job_rec_int(rec, "gid", 0, UINT32_MAX - 1, &gid) ||
	    !json_object_object_get_ex(rec, "groups", &g) ||
	    !json_object_is_type(g, json_type_array) ||
	    (n = json_object_array_length(g)) > 65536)
		return -EBADMSG;
	if ((groups = calloc(n ? n : 1, sizeof(gid_t))) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(g, i);

		if (!json_object_is_type(e, json_type_int) ||
		    (v = json_object_get_int64(e)) < 0 || v >= UINT32_MAX) {
			free(groups);
			return -EBADMSG;
		}
		groups[i] = (gid_t)v;
	}
	return cred_get((uid_t)uid, (gid_t)gid, groups, (int)n, out);
}

/* Remove what a crash left of the job: its temporaries, as its owner. */
static void
job_clean_temporaries(struct job *job)
{
	char	parent[PATH_MAX];
	int	rc;

	if ((rc = cred_enter(job->cred)) < 0) {
		log_warnx("job %llu: cannot take the credentials of uid %u to remove "
		    "temporaries: %s", (unsigned long long)job->id, (unsigned)job->cred->uid,
		    strerror(-rc));
		return;
	}
	/* A tree can have temporaries anywhere under the destination. */
	journal_clean_temporaries(job->req.destination, job->id, job->req.recursive);
	if (path_dirname(job->req.destination, parent, sizeof(parent)) == 0)
		journal_clean_temporaries(parent, job->id, false);
	cred_leave(job->cred);
}

/* One record of the journal at start-up: a job as it was. */
static int
job_load(uint64_t id, struct json_object *rec)
{
	struct json_object	*final = NULL;
	struct job		*job, *at;
	const char		*state = job_rec_str(rec, "state");
	int64_t			 rid, restarts, created, finished;
	int			 s, rc;

	if ((job = calloc(1, sizeof(*job))) == NULL) {
		json_object_put(rec);
		return -ENOMEM;
	}
	s = state ? job_state_parse(state) : -EINVAL;
	rc = -EBADMSG;
	if (!job_rec_int(rec, "id", 1, INT64_MAX, &rid) || (uint64_t)rid != id ||
	    s < 0 || s == JOB_PAUSED ||
	    !job_rec_int(rec, "restarts", 0, UINT32_MAX - 1, &restarts) ||
	    !job_rec_int(rec, "created_usec", 0, INT64_MAX, &created) ||
	    !job_rec_int(rec, "finished_usec", 0, INT64_MAX, &finished) ||
	    !json_object_object_get_ex(rec, "request", &final) ||
	    (rc = job_rec_request(final, &job->req)) < 0 ||
	    (s >= JOB_DONE && (!json_object_object_get_ex(rec, "job", &final) ||
	    !json_object_is_type(final, json_type_object))) ||
	    (rc = job_rec_cred(rec, &job->cred)) < 0) {
		job_free_request(job);
		free(job);
		json_object_put(rec);
		return rc < 0 ? rc : -EBADMSG;
	}
	job->id = id;
	job->restarts = (unsigned)restarts;
	job->created_usec = (uint64_t)created;
	job->dirfd = -1;
	job->parked_tail = &job->parked;
	TAILQ_INIT(&job->watchers);
	if (job->cred->foreign) {
		/* An unprivileged daemon serves its own user only. */
		job_free_request(job);
		cred_unref(job->cred);
		free(job);
		json_object_put(rec);
		return -EPERM;
	}
	if (s >= JOB_DONE) {
		job->state = (enum job_state)s;
		job->finished_usec = (uint64_t)finished;
		job->final = json_object_get(final);
		nfinished++;
	} else {
		/* Run again from the start: publishing is atomic, so whatever
		 * it had published is whole, and is simply copied again. */
		job->restarts += s == JOB_RUNNING;
		job->state = JOB_QUEUED;
		job->accepting = true;		/* started by job_restore() */
		job_clean_temporaries(job);
	}
	json_object_put(rec);
	/* The list is in id order; the directory is not. */
	for (at = TAILQ_LAST(&jobs, jobhead); at && at->id > id; at = TAILQ_PREV(at, jobhead, entry))
		;
	if (at)
		TAILQ_INSERT_AFTER(&jobs, at, job, entry);
	else
		TAILQ_INSERT_HEAD(&jobs, job, entry);
	return 0;
}

void
job_restore(const struct config *conf)
{
	struct job	*job;
	unsigned	 nrun = 0;

	if (journal_init(conf->state_dir) < 0)
		return;
	next_id = journal_load(job_load);
	journal_reserve_ids(next_id);
	TAILQ_FOREACH(job, &jobs, entry) {
		if (!job->accepting)
			continue;
		/* Its record (with the new restart count) need not be waited for. */
		job->accepting = false;
		job->tokens = (int64_t)(job->req.bwlimit / 4);
		job->tokens_usec = loop_now_usec();
		job->files_total = job->req.nsources;
		nqueued++;
		nrun++;
		log_info("job %llu: restored from the journal (%u restart%s), uid %u, -> %s",
		    (unsigned long long)job->id, job->restarts, job->restarts == 1 ? "" : "s",
		    (unsigned)job->cred->uid, job->req.destination);
		job_journal(job, NULL);
		job_scan(job);
	}
	log_info("journal %s: %u finished job%s kept, %u to run, next id %llu", conf->state_dir,
	    nfinished, nfinished == 1 ? "" : "s", nrun, (unsigned long long)next_id);
}
