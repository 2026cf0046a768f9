/*
 * The run queues: which queued job starts next, and the counts of jobs
 * queued and running that admission and the chunk shares (lanes.c) go by.
 *
 * Queued jobs are admitted interactive first, then normal, then bulk;
 * within a class the job whose user has the fewest running jobs goes
 * first, then the one whose user was served least recently, then the
 * oldest. Interactive jobs have extra slots beyond max_running so they
 * never wait behind bulk work.
 *
 * A running job holds a slot only while it can work: a paused job gives
 * its slot up, and so does one that waits for bandwidth tokens with no
 * chunk in flight (lanes.c), or a few jobs with tiny limits would keep
 * everyone else's queued. Such a job takes up its slot again when its
 * tokens come, even if that makes one job more than the slots for a
 * while; max_running_per_user, which counts it all the time, bounds how
 * many a user can have so.
 *
 * max_running_per_user counts a user's interactive jobs apart from the
 * others: a user's own two bulk copies must not keep that user's 4 KiB
 * copy waiting for one of them to end (seconds, even minutes), which is
 * what interactive means. A user so has at most twice the cap running.
 *
 * Each device has slots of its own (devices.CLASS.max_running): a
 * normal or bulk job starts only when every device it reads or writes
 * has one free, and a job whose device is full is passed over, not
 * waited for, so that jobs on other devices start. Interactive jobs are
 * never held by a device: they are small, and must not wait behind a
 * bulk job on theirs. A job holds its device slots exactly when it holds
 * its running slot.
 */
#include <stdint.h>
#include <stdlib.h>

#include "cred.h"
#include "device.h"
#include "job_internal.h"
#include "loop.h"
#include "reserve.h"

static TAILQ_HEAD(jobq, job) runq[PRIO_COUNT];
static struct jobq	running = TAILQ_HEAD_INITIALIZER(running);	/* incl. paused */
static unsigned		nqueued, nrunning;
static unsigned		nactive[2];	/* holding a slot (in_slot): [interactive?] */
static bool		schedule_posted;

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

void
sched_init(void)
{
	for (int i = 0; i < PRIO_COUNT; i++)
		TAILQ_INIT(&runq[i]);
}

bool
sched_interactive(const struct job *job)
{
	return job->prio == PRIO_INTERACTIVE;
}

unsigned
sched_active(bool interactive)
{
	return nactive[interactive];
}

/* The job is counted on its devices n (1 or -1) more times: holding a slot, or queued. */
static void
sched_devices_count(const struct job *job, bool slot, int n)
{
	for (unsigned i = 0; i < job->ndevs; i++)
		if (slot)
			job->devs[i]->running[sched_interactive(job)] += (unsigned)n;
		else
			job->devs[i]->queued += (unsigned)n;
}

static void
sched_posted(void *arg)
{
	schedule_posted = false;
	sched_schedule();
}

void
sched_update(struct job *job)
{
	bool want = job->state == JOB_RUNNING && !job->paused && !job->throttled;

	if (want == job->in_slot)
		return;
	job->in_slot = want;
	nactive[sched_interactive(job)] += want ? 1 : (unsigned)-1;
	sched_devices_count(job, true, want ? 1 : -1);
	/*
	 * A freed slot goes to a queued job from the loop: the job that
	 * freed it may be in the middle of starting a chunk.
	 */
	if (!want && !schedule_posted) {
		schedule_posted = true;
		loop_post(sched_posted, NULL);
	}
}

void
sched_enter(struct job *job)
{
	nqueued++;
}

void
sched_queue(struct job *job)
{
	/* A tree's size is known only once it is walked: never small enough to be sure. */
	job->prio = job->req.prio;
	if (job->prio == PRIO_AUTO)
		job->prio = job->bytes_total <= cpd_conf->jobs.auto_interactive_max && !job->tree ?
		    PRIO_INTERACTIVE : job->bytes_total >= cpd_conf->jobs.auto_bulk_min ?
		    PRIO_BULK : PRIO_NORMAL;
	if (sched_interactive(job))
		reserve_touch();	/* someone waits for it: see reserve.c */
	TAILQ_INSERT_TAIL(&runq[job->prio], job, qentry);
	job->in_runq = true;
	sched_devices_count(job, false, 1);
	sched_schedule();
}

void
sched_leave(struct job *job)
{
	if (job->state == JOB_RUNNING) {
		if (job->in_slot) {
			nactive[sched_interactive(job)]--;
			sched_devices_count(job, true, -1);
		}
		job->in_slot = false;
		TAILQ_REMOVE(&running, job, qentry);
		nrunning--;
	} else {
		if (job->in_runq) {
			TAILQ_REMOVE(&runq[job->prio], job, qentry);
			sched_devices_count(job, false, -1);
		}
		job->in_runq = false;
		nqueued--;
	}
}

/* The user's running jobs of the same kind, interactive or not, as job's. */
static unsigned
sched_user_running(const struct job *like)
{
	struct job *job;
	unsigned    n = 0;

	TAILQ_FOREACH(job, &running, qentry)
		n += job->cred->uid == like->cred->uid && !job->paused &&
		    sched_interactive(job) == sched_interactive(like);
	return n;
}

static uint64_t
sched_user_served(uid_t uid)
{
	for (size_t i = 0; i < nserved; i++)
		if (served[i].uid == uid)
			return served[i].seq;
	return 0;
}

static bool
sched_user_queued(uid_t uid)
{
	struct job *job;

	for (int p = 0; p < PRIO_COUNT; p++)
		TAILQ_FOREACH(job, &runq[p], qentry)
			if (job->cred->uid == uid)
				return true;
	return false;
}

static void
sched_user_serve(uid_t uid)
{
	struct served *s;
	size_t	       i;

	for (i = 0; i < nserved && served[i].uid != uid; i++)
		;
	if (i == nserved) {
		/* Drop users that have nothing queued before growing. */
		for (size_t j = 0; j < nserved; ) {
			if (sched_user_queued(served[j].uid))
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
 * The queued job of class p to start next, of those whose devices have
 * room: its user has the fewest jobs running, then was served least
 * recently; the oldest of that user's.
 */
static struct job *
sched_pick(enum job_prio p)
{
	unsigned	 cap = cpd_conf->jobs.max_running_per_user, best_n = UINT32_MAX;
	uint64_t	 best_seq = UINT64_MAX;
	struct job	*job, *best = NULL;

	TAILQ_FOREACH(job, &runq[p], qentry) {
		unsigned n;
		uint64_t seq;

		if (job->paused || (!sched_interactive(job) &&
		    device_first_full(job->devs, job->ndevs) != NULL))
			continue;
		n = sched_user_running(job);
		if (cap && n >= cap)
			continue;
		seq = sched_user_served(job->cred->uid);
		if (n < best_n || (n == best_n && seq < best_seq)) {
			best = job;
			best_n = n;
			best_seq = seq;
		}
	}
	return best;
}

static void
sched_start(struct job *job)
{
	TAILQ_REMOVE(&runq[job->prio], job, qentry);
	job->in_runq = false;
	sched_devices_count(job, false, -1);
	TAILQ_INSERT_TAIL(&running, job, qentry);
	nqueued--;
	nrunning++;
	sched_user_serve(job->cred->uid);
	job_run(job);
}

void
sched_schedule(void)
{
	for (int p = 0; p < PRIO_COUNT; p++) {
		unsigned slots = cpd_conf->jobs.max_running +
		    (p == PRIO_INTERACTIVE ? cpd_conf->jobs.interactive_slots : 0);
		struct job *job;

		while (nactive[0] + nactive[1] < slots && (job = sched_pick(p)) != NULL)
			sched_start(job);
	}
}

void
sched_counters(struct job_counters *c)
{
	struct job *job;

	c->queued = nqueued;
	c->running = 0;
	TAILQ_FOREACH(job, &running, qentry)
		c->running += !job->paused;	/* waiting for bandwidth too */
	c->paused = nrunning - c->running;
	for (int p = 0; p < PRIO_COUNT; p++) {
		c->queued_prio[p] = 0;
		TAILQ_FOREACH(job, &runq[p], qentry)
			c->queued_prio[p]++;
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
