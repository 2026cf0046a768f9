/*
 * Jobs: the registry of all jobs, and each job's lifecycle: submitted,
 * examined (scan.c), queued and admitted (sched.c), its items (files,
 * directories) kept going files_in_flight at a time, paused, resumed,
 * cancelled, and its end. What happens is told to the layer above
 * through the observer of job_events_set(); job_internal.h shows how the
 * rest of the job layer is split.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "change.h"
#include "cred.h"
#include "device.h"
#include "item.h"
#include "engine.h"
#include "job_internal.h"
#include "journal.h"
#include "log.h"
#include "loop.h"
#include "partial.h"
#include "reserve.h"

#define JOB_TICK_MS		250
#define JOB_ABANDON_MS		1000	/* a cancel's operations are waited for */
#define JOB_RATE_SAMPLES	8	/* ticks in the rate window: 2 s */
#define JOB_KEEP_MAX		10000	/* finished jobs kept at most */

static TAILQ_HEAD(jobhead, job) jobs = TAILQ_HEAD_INITIALIZER(jobs);
static uint64_t		next_id = 1;
static unsigned		nfinished;
struct job_counters job_totals;
static bool		shutting_down;
static void		(*observer)(struct job *, enum job_event);
const struct job_workers *job_workers;

void
job_init(const struct config *conf, const struct job_workers *w)
{
	job_workers = w;
	sched_init();
}

void
job_reconfigure(const struct config *conf)
{
	device_reconfigure();
	sched_schedule();	/* max_running may have grown */
}

void
job_events_set(void (*fn)(struct job *, enum job_event))
{
	observer = fn;
}


static void
job_emit(struct job *job, enum job_event ev)
{
	if (observer)
		observer(job, ev);
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
	struct job_counters c;

	sched_counters(&c);
	return c.queued + c.running + c.paused;
}

/* A job of no state yet, not in the list; NULL when out of memory. */
static struct job *
job_new(void)
{
	struct job *job = calloc(1, sizeof(*job));

	if (job == NULL)
		return NULL;
	job->dirfd = -1;
	job->parked_tail = &job->parked;
	job->itemized_tail = &job->itemized;
	job->prio = PRIO_AUTO;
	return job;
}

static void
job_free(struct job *job)
{
	TAILQ_REMOVE(&jobs, job, entry);
	nfinished--;
	request_free(&job->req);
	free(job->dest_name);
	free(job->dest_parent);
	free(job->error_message);
	failure_free(job);
	change_free(job);
	job->owner->finished--;
	owner_put(job->owner);
	cred_unref(job->cred);
	free(job->identity_name);
	for (unsigned i = 0; i < job->ndevs; i++)
		device_put(job->devs[i]);
	json_object_put(job->final);
	clean_free(job);
	journal_write(job->id, NULL, false, NULL);	/* expired: its record goes too */
	free(job);
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
	job_emit(job, JOB_ACCEPTED);
	/* A reply to the Copy may have run a Cancel of it. */
	if (job_finished(job))
		return;
	if (err < 0) {
		job_fail(job, err, "cannot record the job in '%s'", journal_dir());
		if (job->state == JOB_QUEUED && job->active == 0)
			job_end(job);
		else if (job->paused)
			job_resume(job);	/* so that it can wind down */
		/* Otherwise it ends when its operations in flight come back. */
	}
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
	if ((job = job_new()) == NULL)
		return -ENOMEM;
	if ((job->owner = owner_get(cred->uid)) == NULL) {
		free(job);
		return -ENOMEM;
	}
	job->id = next_id++;
	job->req = *req;
	job->cred = cred;
	job->files_total = req->nsources;
	job->created_usec = loop_wall_usec();
	lanes_init(job);
	TAILQ_INSERT_TAIL(&jobs, job, entry);
	identity_note(job);
	sched_enter(job);
	log_info("job %llu: uid %u, %zu source%s -> %s (%s)", (unsigned long long)job->id,
	    (unsigned)cred->uid, req->nsources, req->nsources == 1 ? "" : "s",
	    req->destination, req->prio == PRIO_AUTO ? "auto" : vocab_prio_name(req->prio));
	*out = job;
	if (job->id >= journal_id_limit())
		journal_reserve_ids(job->id);
	job->accepting = true;
	record_write(job, job_accept_done);
	/*
	 * The sources are examined while the record is written: a small
	 * copy waited for both in turn (two hand-offs to other threads).
	 * Nothing the client hears of the job comes before its record is
	 * written (watch.c); every later record of the job is written after
	 * this one (journal.h), so neither does its end.
	 */
	scan_sources(job);
	return 0;
}

void
job_set_error(struct job *job, int err, char *msg)
{
	if (job->err || (err == -ECANCELED && job->cancelling)) {
		free(msg);
		return;
	}
	job->err = err;
	/* It names a path, of any length: kept as a listed failure's is. */
	job->error_message = msg ? failure_shorten(msg, FAILURE_TEXT_MAX) : NULL;
	free(msg);
	msg = job->error_message;
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

/* Its end is durable (or kept from the journal): now it may be announced. */
static void
job_announce(struct job *job)
{
	job->announced = true;
	job_emit(job, JOB_ENDED);
}

static void
job_end_done(uint64_t id, int err)
{
	struct job *job = job_find(id);

	if (job)
		job_announce(job);
}

/* What its copies, walks and steps kept goes: nothing of it is in flight. */
static void
job_release(struct job *job)
{
	job_workers->end(job);
	if (job->dirfd >= 0)
		engine_close(job->dirfd, job->cred);	/* not on the loop: engine.h */
	job->dirfd = -1;
	free(job->scan);
	job->scan = NULL;
	free(job->seen);
	job->seen = NULL;
	scan_release(job);
	clean_left(job);
	if (job->held)
		log_info("job %llu: its abandoned operations have returned",
		    (unsigned long long)job->id);
	job->held = false;
}

/* Its end, as the others see it: its state, its slot, its record, its announcement. */
static void
job_conclude(struct job *job)
{
	job->finished_usec = loop_wall_usec();
	job->rate = 0;
	sched_leave(job);
	nfinished++;
	job->owner->finished++;
	if (job->cancelling) {
		job->state = JOB_CANCELLED;
		job_totals.cancelled++;
	} else if (job->err) {
		job->state = JOB_FAILED;
		job_totals.failed++;
	} else {
		job->state = JOB_DONE;
		job_totals.done++;
	}
	log_info("job %llu: %s, %llu of %llu files, %llu bytes",
	    (unsigned long long)job->id, vocab_state_name(job->state),
	    (unsigned long long)job->files_done, (unsigned long long)job->files_total,
	    (unsigned long long)job->bytes_done);
	/* A job stopped by a shutdown keeps its record: it runs again. */
	if (job->interrupted)
		job_announce(job);
	else
		record_write(job, job_end_done);
	sched_schedule();
}

void
job_end(struct job *job)
{
	if (partial_end(job))
		return;		/* once the checkpoints nobody took are removed */
	if (!job_finished(job))
		job_conclude(job);
	job_release(job);	/* an abandoned one's: concluded before */
}

/*
 * A cancelled job whose operations do not come back (a file system that
 * stopped answering) ends all the same, JOB_ABANDON_MS after the Cancel:
 * its slot goes to others and its waiters hear "cancelled". What its
 * operations use stays (job->held) until they return, when job_end()
 * runs as for any other job and releases it; until then it is not freed.
 */
static void
job_abandon(struct job *job, unsigned in_flight)
{
	log_warnx("job %llu: cancelled with %u file%s or director%s still in flight (a file "
	    "system that does not answer?): ended, they are reaped when they return",
	    (unsigned long long)job->id, in_flight, in_flight == 1 ? "" : "s",
	    in_flight == 1 ? "y" : "ies");
	job->held = true;
	job_conclude(job);
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
	/*
	 * Its first source's, as scan.c found it (none before); a copy or a
	 * directory of a tree puts its own (copy_job_op(), tree_op()).
	 */
	op->dev = job->ndevs ? device_share_key(job->devs[0]) : 0;
	/* Still "auto": examining the sources, a statx each, for a class. */
	op->interactive = sched_interactive(job) || job->prio == PRIO_AUTO;
	return op;
}

void
job_op_reads(struct eop *op, unsigned major, unsigned minor)
{
	uint64_t key;

	/* 0:0 is no file system's: anonymous numbers start at 0:1. */
	if ((major || minor) && (key = device_fs_share_key(major, minor)) != 0)
		op->dev = key;
}

struct eop *
job_step(struct job *job, enum eop_type type, void (*done)(struct eop *, int))
{
	return job_op_init(job, &job->step, type, done);
}

void
job_run(struct job *job)
{
	job->state = JOB_RUNNING;
	sched_update(job);	/* it holds a slot */
	job->started_usec = loop_wall_usec();
	job->dirty = true;
	/* Not waited for: a restart runs a queued job and a running one alike. */
	record_write(job, NULL);
	/* The owner may have lost groups since the job was submitted. */
	identity_check(job, scan_destination);
}

void
job_cancel(struct job *job)
{
	if (job_finished(job) || job->cancelling)
		return;
	job->cancelling = true;
	job->cancel_usec = loop_now_usec();
	log_info("job %llu: cancelling", (unsigned long long)job->id);
	lanes_unpark(job);		/* parked chunks are dropped */
	if (job->state == JOB_QUEUED && job->active == 0)
		job_end(job);
	else if (job->paused) {
		job_resume(job);	/* so that it can wind down */
		return;
	} else
		job_workers->more(job);	/* directories waiting for fds have no operation */
	/* Otherwise it ends when its operations in flight come back. */
}

void
job_pause(struct job *job)
{
	if (job_finished(job) || job->paused || job->cancelling)
		return;
	job->paused = true;
	sched_update(job);
	job->dirty = true;
	log_info("job %llu: paused", (unsigned long long)job->id);
	sched_schedule();	/* its slot is free for another job */
}

/* Resumed, and its owner is still who it was: new work may start. */
static void
job_go_on(struct job *job)
{
	lanes_unpark(job);
	job_fill(job);
}

void
job_resume(struct job *job)
{
	if (!job->paused)
		return;
	job->paused = false;
	job->dirty = true;
	log_info("job %llu: resumed", (unsigned long long)job->id);
	if (job->state != JOB_RUNNING) {
		sched_schedule();	/* its start looks the owner up */
		return;
	}
	sched_update(job);
	if (job_stopping(job))
		job_go_on(job);		/* only to wind down */
	else
		identity_check(job, job_go_on);
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
	unsigned	 in_flight;

	job_totals.rate = 0;
	device_tick(loop_now_usec());
	if (sched_active(true))
		reserve_touch();	/* interactive jobs still running */
	for (job = TAILQ_FIRST(&jobs); job; job = next) {
		next = TAILQ_NEXT(job, entry);
		if (job->state == JOB_RUNNING && !job->paused) {
			job_sample_rate(job);
			job_totals.rate += job->rate;
			if (job->parked)
				lanes_unpark(job);	/* bandwidth tokens came in */
		}
		if (job->dirty && !job_finished(job)) {
			job->dirty = false;
			job_emit(job, JOB_CHANGED);
		}
		/*
		 * A directory that is being read is no longer among the items
		 * in flight (job_dir_ready()), and its read may be the one
		 * stuck, or wait behind those stuck in the pool.
		 */
		if (job->cancelling && !job_finished(job) && !job->interrupted &&
		    (in_flight = job->active + job_workers->dirs(job)) != 0 &&
		    loop_now_usec() - job->cancel_usec >= JOB_ABANDON_MS * 1000)
			job_abandon(job, in_flight);
		/*
		 * Announced: nobody waits for it any more. The list is
		 * oldest first, so a user's oldest go first.
		 */
		if (job->announced && !job->held && (job->finished_usec + keep < now ||
		    nfinished > JOB_KEEP_MAX ||
		    job->owner->finished > cpd_conf->jobs.keep_finished_per_user))
			job_free(job);
	}
}

void
job_counters(struct job_counters *c)
{
	*c = job_totals;
	sched_counters(c);
}

/* One record of the journal at start-up: a job as it was. */
static int
job_load(uint64_t id, struct json_object *rec)
{
	struct job	*job, *at;
	int		 rc;

	if ((job = job_new()) == NULL) {
		json_object_put(rec);
		return -ENOMEM;
	}
	rc = record_read(id, rec, job);
	json_object_put(rec);
	if (rc == 0 && job->cred->foreign)
		rc = -EPERM;	/* an unprivileged daemon serves its own user only */
	if (rc == 0 && (job->owner = owner_get(job->cred->uid)) == NULL)
		rc = -ENOMEM;
	if (rc < 0) {
		request_free(&job->req);
		cred_unref(job->cred);
		json_object_put(job->final);
		clean_free(job);
		free(job->identity_name);
		free(job);
		return rc;
	}
	if (job_finished(job)) {
		job->announced = true;	/* nobody can be waiting for it */
		nfinished++;
		job->owner->finished++;
		failure_restored(job);
	} else {
		/* Run again from the start: publishing is atomic, so whatever
		 * it had published is whole, and is simply copied again. */
		job->restarts += job->state == JOB_RUNNING;
		job->state = JOB_QUEUED;
		job->accepting = true;		/* started by job_restore(), after its clean-up */
	}
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
		lanes_init(job);
		job->files_total = job->req.nsources;
		sched_enter(job);
		nrun++;
		log_info("job %llu: restored from the journal (%u restart%s), uid %u, -> %s",
		    (unsigned long long)job->id, job->restarts, job->restarts == 1 ? "" : "s",
		    (unsigned)job->cred->uid, job->req.destination);
		record_write(job, NULL);
		/*
		 * Not waited for: start-up answers at once, whatever is left.
		 * Its owner first: what is left is not removed with groups
		 * the owner has lost meanwhile.
		 */
		identity_check(job, clean_restart);
	}
	log_info("journal %s: %u finished job%s kept, %u to run, next id %llu", conf->state_dir,
	    nfinished, nfinished == 1 ? "" : "s", nrun, (unsigned long long)next_id);
}
