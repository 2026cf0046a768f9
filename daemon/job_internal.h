/*
 * Shared among the files of the job layer only; job.h is its face to the
 * rest of the daemon. The layer, one concern a file:
 *
 *	job.c		the jobs (registry) and their lifecycle: submit,
 *			cancel, pause, resume, end, ticks, restart
 *	job_items.c	a running job's items: started, their ends counted,
 *			the job finished when all are through
 *	sched.c		run queues: admission, fairness between users
 *	lanes.c		the data chunks a job may have in flight: its share
 *			of the engine and its bandwidth tokens
 *	scan.c		examining the sources, resolving the destination;
 *			the devices of both (device.c)
 *	record.c	a job's journal record, and a job from one
 *	failure.c	the failures a job lists, bounded in bytes
 *	owner.c		a user's share: its jobs, finished ones, failure bytes
 *	clean.c		its named temporaries, and removing them after a crash
 *	identity.c	whether its owner is still who submitted it
 *	view.c		a job as the wire shows it (Job)
 *	request.c	the request, as Copy's parameters
 *
 * job.c and the other files call each other: they are the parts of one
 * state machine, kept apart for size and so that each concern has one
 * place (sched.c starts a job that job.c then runs; scan.c ends a job
 * whose sources fail; lanes.c looks a job up by id). The layer as a
 * whole calls nothing above it: manager.c and watch.c hear of it through
 * job_events_set().
 */
#ifndef CPD_JOB_INTERNAL_H
#define CPD_JOB_INTERNAL_H

#include "job.h"

/* job.c */
extern const struct job_workers *job_workers;	/* given to job_init() */
extern struct job_counters job_totals;		/* the daemon's, since its start (job.c) */
/* The job has stopped: count it, record its end, tell the watchers. */
void	 job_end(struct job *);
/* The job's error, unless it has one (takes msg: malloc'ed, or NULL). */
void	 job_set_error(struct job *, int err, char *msg);
/* sched.c admitted the job: it runs, from resolving its destination. */
void	 job_run(struct job *);
/* A job-level step: one at a time, in job->step. */
struct eop *job_step(struct job *, enum eop_type, void (*done)(struct eop *, int));
/* A file's (or a source's) failure: listed (keep_going), or the job's error. */
void	 job_result(struct job *, int err, const char *path, const char *msg);

/* sched.c */
void	 sched_init(void);
/* A new job, queued while its sources are examined. */
void	 sched_enter(struct job *);
/* The sources are examined: choose the class if asked to, and queue. */
void	 sched_queue(struct job *);
/* It ended: out of its queue or the running list. */
void	 sched_leave(struct job *);
/* Start queued jobs while there is room. */
void	 sched_schedule(void);
/*
 * The job started, paused, resumed, or began or stopped waiting for
 * bandwidth: whether it holds a slot (and counts for the chunk shares).
 */
void	 sched_update(struct job *);
bool	 sched_interactive(const struct job *);
/* Jobs holding a slot, of the class (interactive or not). */
unsigned sched_active(bool interactive);
/* The queued, running and paused counts of job_counters. */
void	 sched_counters(struct job_counters *);

/* lanes.c */
/* A new or restored job: its bandwidth starts with a quarter second's tokens. */
void	 lanes_init(struct job *);
/* Start the parked chunks that may start now; a cancelled job drops them. */
void	 lanes_unpark(struct job *);

/* scan.c */
/* Examine the sources (while queued), then sched_queue(). */
void	 scan_sources(struct job *);
/* Resolve the destination (once running), then start the items. */
void	 scan_destination(struct job *);
/* What the scan keeps of a job that has ended. */
void	 scan_release(struct job *);

/* record.c */
/* Write the job's record (durable if the job asks for sync), then done. */
void	 record_write(struct job *, void (*done)(uint64_t id, int err));
/* Fill job from its record rec of the journal; 0 or -errno. */
int	 record_read(uint64_t id, struct json_object *rec, struct job *job);
/* An integer member of a record in [min, max]; false when absent, of another type or out of range. */
bool	 record_int(struct json_object *o, const char *key, int64_t min, int64_t max,
	    int64_t *out);

/* identity.c */
/*
 * Look the owner up again (in a pool thread); then(job) if it is still
 * who it was, else the job fails and winds down. At once for a job that
 * runs as the daemon itself.
 */
void	 identity_check(struct job *, void (*then)(struct job *));
/* At submission: the owner's name (or that it has none) for the record; fails nothing it need not. */
void	 identity_note(struct job *);

/* clean.c (and clean_temp_made, clean_temp_gone in job.h) */
/* The temporaries as its record keeps them, and back; 0 or -errno. */
struct json_object *clean_json(const struct job *);
int	 clean_read(struct json_object *rec, struct job *);
void	 clean_free(struct job *);
/* It ends: say in the log what a crash left that was never removed. */
void	 clean_left(const struct job *);
/*
 * A restored job first removes what a crash left of it, in a pool thread
 * as its owner, then examines its sources (scan_sources()).
 */
void	 clean_restart(struct job *);
/* Whether rel is a name as recorded (and, id not 0, one of job id's temporaries). */
bool	 clean_name_ok(const char *rel, uint64_t id);
/*
 * Remove names (taken: the array and its strings), relative to base, in
 * a pool thread as the owner, then job_end(job). False when nothing was
 * started (nothing to do, or no memory).
 */
bool	 clean_names_remove(struct job *, const char *base, char **names, unsigned nnames);

/* failure.c */
/*
 * s, or when longer than max bytes its start and end around a marker,
 * cut on UTF-8 characters, in max bytes at most; malloc'd, NULL when out
 * of memory.
 */
char	*failure_shorten(const char *s, size_t max);
/* What a listed failure of these texts costs of the byte budgets. */
size_t	 failure_cost(const char *path, const char *msg);
/* Whether a failure of cost is listed, beside those listed for its job and its user. */
bool	 failure_fits(uint64_t job_bytes, uint64_t user_bytes, size_t cost,
	    const struct config *);
/* Count a failure of the job, and list it if the budgets allow. */
void	 failure_add(struct job *, int err, const char *path, const char *msg,
	    bool vanished);
/* The job's listed failures go; their bytes are its owner's again. */
void	 failure_free(struct job *);
/* A finished job restored from the journal: count its listed failures' bytes. */
void	 failure_restored(struct job *);

/* owner.c */
struct owner {
	uid_t			 uid;
	unsigned		 jobs;		/* in the registry: references */
	unsigned		 finished;	/* of them, ended */
	uint64_t		 failure_bytes;	/* their listed failures' */
	LIST_ENTRY(owner)	 entry;
};
/* The user's share, with a reference for a job; NULL when out of memory. */
struct owner *owner_get(uid_t);
void	 owner_put(struct owner *);

#endif
