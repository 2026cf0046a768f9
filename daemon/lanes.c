/*
 * The data chunks ("lanes") a job may have in flight. A chunk starts
 * only when its job is not paused, its bandwidth tokens allow, and it is
 * within its share: running jobs share the chunks in flight evenly
 * within their class; interactive jobs may use the whole budget
 * (engine.max_inflight), the others bulk_inflight_share of it. A chunk
 * that may not start is parked, and started (or dropped, when the job is
 * cancelled) later: when a chunk of the job ends, at a tick, on resume.
 *
 * Bandwidth is a token bucket that may go into debt: a chunk starts when
 * the job has any token, and its length is taken from them. So a job
 * moves at any limit, even one below the length of a chunk (a limit of
 * 1 byte/s sends a 4 KiB chunk, then waits over an hour), and its average
 * stays within the limit. A job that waits for tokens with no chunk in
 * flight is throttled: it holds no running slot meanwhile (sched.c).
 */
#include <stdint.h>

#include "device.h"
#include "job_internal.h"
#include "loop.h"

void
lanes_init(struct job *job)
{
	job->tokens = (int64_t)(job->req.bwlimit / 4);
	job->tokens_usec = loop_now_usec();
}

/*
 * Chunks of one file of the job in flight: engine.lanes, or fewer for
 * its devices' classes (a disk's head seeks between them).
 */
unsigned
job_file_lanes(const struct job *job)
{
	unsigned lanes = cpd_conf->engine.lanes;

	for (unsigned i = 0; i < job->ndevs; i++)
		if (cpd_conf->devices[job->devs[i]->class].lanes < lanes)
			lanes = cpd_conf->devices[job->devs[i]->class].lanes;
	return lanes;
}

/* The data chunks the job may have in flight: an even share of its class's. */
static unsigned
lanes_share(const struct job *job)
{
	unsigned budget = cpd_conf->engine.max_inflight, n;

	if (!sched_interactive(job))
		budget = budget * cpd_conf->engine.bulk_inflight_share / 100;
	n = sched_active(sched_interactive(job));
	return n > 1 ? (budget / n ? budget / n : 1) : (budget ? budget : 1);
}

static void
lanes_refill(struct job *job)
{
	uint64_t	  now = loop_now_usec(), limit = job->req.bwlimit;
	/* At least one token: below 4 bytes/s a quarter second has none. */
	int64_t		  cap = limit >= 4 ? (int64_t)(limit / 4) : 1;
	/* 128 bits: any limit the request allows times the time elapsed. */
	unsigned __int128 add = (unsigned __int128)limit * (now - job->tokens_usec) / 1000000;

	if (add >= (unsigned __int128)(cap - job->tokens)) {
		job->tokens = cap;	/* a quarter second of burst at most */
		job->tokens_usec = now;
		return;
	}
	job->tokens += (int64_t)add;
	/*
	 * Only the time the new tokens stand for: the rest of a token is
	 * kept, or at a few bytes a second refills more frequent than a
	 * token would never add one.
	 */
	job->tokens_usec += (uint64_t)(add * 1000000 / limit);
}

static void
lanes_throttle(struct job *job, bool on)
{
	if (job->throttled != on) {
		job->throttled = on;
		sched_update(job);
	}
}

static bool
lanes_may_start(struct job *job)
{
	if (job->paused || job->identity_checks || job->lanes_busy >= lanes_share(job))
		return false;
	if (job->req.bwlimit) {
		lanes_refill(job);
		if (job->tokens <= 0) {
			lanes_throttle(job, job->lanes_busy == 0);
			return false;
		}
	}
	return true;
}

static void
lanes_take(struct job *job, const struct eop *op)
{
	job->lanes_busy++;
	job->tokens -= (int64_t)op->len;
	lanes_throttle(job, false);
}

/* Posted by job_lane_begin(): the job may have ended and gone since. */
static void
lanes_drop_posted(void *arg)
{
	struct job *job = job_find((uint64_t)(uintptr_t)arg);

	if (job) {
		job->drop_posted = false;
		lanes_unpark(job);
	}
}

bool
job_lane_begin(struct job *job, struct eop *op)
{
	if (!job->cancelling && lanes_may_start(job)) {
		lanes_take(job, op);
		return true;
	}
	op->next = NULL;
	*job->parked_tail = op;
	job->parked_tail = &op->next;
	/*
	 * Dropping it here would free the caller's copy under it: the drop
	 * comes from the loop, after the caller has returned.
	 */
	if (job->cancelling && !job->drop_posted) {
		job->drop_posted = true;
		loop_post(lanes_drop_posted, (void *)(uintptr_t)job->id);
	}
	return false;
}

void
job_lane_end(struct job *job)
{
	job->lanes_busy--;
	lanes_unpark(job);
}

void
lanes_unpark(struct job *job)
{
	struct eop *op;

	while ((op = job->parked) != NULL &&
	    (job->cancelling || lanes_may_start(job))) {
		if ((job->parked = op->next) == NULL)
			job->parked_tail = &job->parked;
		if (job->cancelling)
			job_workers->lane_drop(op);
		else {
			lanes_take(job, op);
			job_workers->lane_run(op);
		}
	}
}
