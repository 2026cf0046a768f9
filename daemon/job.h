#ifndef CPD_JOB_H
#define CPD_JOB_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

#include "config.h"
#include "engine.h"

struct call;
struct cred;
struct copy;

/* Ended states last: job_finished() is state >= JOB_DONE. */
enum job_state { JOB_QUEUED, JOB_RUNNING, JOB_PAUSED, JOB_DONE, JOB_FAILED, JOB_CANCELLED };
enum job_prio { PRIO_INTERACTIVE, PRIO_NORMAL, PRIO_BULK, PRIO_COUNT, PRIO_AUTO = PRIO_COUNT };

struct job_request {
	char		**sources;	/* absolute paths, owned by the job after job_submit */
	size_t		  nsources;
	char		 *destination;
	bool		  no_clobber;
	bool		  sync;
	enum job_prio	  prio;		/* PRIO_AUTO: chosen from the size */
	uint64_t	  bwlimit;	/* bytes per second, 0: none */
	mode_t		  umask;
};

struct job_scan;

struct job {
	uint64_t		 id;
	enum job_state		 state;
	struct job_request	 req;
	struct cred		*cred;

	uint64_t		 bytes_total, bytes_done;
	uint64_t		 files_total, files_done;
	uint64_t		 rate;
	uint64_t		 created_usec, started_usec, finished_usec;
	const char		*method;
	int			 err;		/* first error: -errno */
	char			*error_message;

	/* Execution. */
	bool			 cancelling;
	bool			 paused;
	bool			 in_runq;	/* scanned, waiting for a slot */
	unsigned		 lanes_busy;	/* data chunks in flight */
	struct eop		*parked;	/* data chunks waiting to start */
	struct eop		**parked_tail;
	int64_t			 tokens;	/* bwlimit: bytes that may start now */
	uint64_t		 tokens_usec;
	int			 dirfd;		/* destination directory, O_PATH */
	bool			 into_dir;	/* each source goes to dir/basename */
	char			*dest_name;	/* the new file's name when !into_dir */
	struct job_scan		*scan;
	size_t			 next_source;	/* next file to start copying */
	unsigned		 active;	/* files or scans in flight */
	struct eop		 step;		/* job-level operation in flight */
	char			*dest_parent;

	/* Progress reporting. */
	uint64_t		 samples[9];	/* bytes_done at the last ticks */
	unsigned		 nsamples;
	bool			 dirty;
	TAILQ_HEAD(, call)	 watchers;

	TAILQ_ENTRY(job)	 entry;		/* all jobs, by id */
	TAILQ_ENTRY(job)	 qentry;	/* its run queue, or the running list */
};

void	 job_init(const struct config *);
void	 job_reconfigure(const struct config *);
/* Takes ownership of req's strings, and of a reference to cred. */
int	 job_submit(struct job_request *, struct cred *, struct job **);
struct job *job_find(uint64_t id);
struct job *job_first(void);
struct job *job_next(struct job *);
void	 job_cancel(struct job *);
void	 job_pause(struct job *);
void	 job_resume(struct job *);
bool	 job_finished(const struct job *);
/* Attach a call that gets updates (stream) or only the final state. */
void	 job_watch(struct job *, struct call *);
void	 job_unwatch(struct job *, struct call *);
struct json_object *job_to_json(const struct job *);
void	 job_tick(void);
void	 job_shutdown(void);
unsigned job_count_active(void);

/*
 * Called by copy.c. A data chunk of a job starts only when the job is
 * not paused, its bandwidth allows, and it is within its fair share of
 * the chunks in flight; otherwise job_lane_begin() parks it and returns
 * false, and the job later hands it back to copy_lane_run() (or to
 * copy_lane_drop() when the job is cancelled).
 */
bool	 job_lane_begin(struct job *, struct eop *);
void	 job_lane_end(struct job *);
void	 job_file_done(struct job *, int err, const char *msg);
void	 job_progress(struct job *, uint64_t bytes);
void	 job_fail(struct job *, int err, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

struct job_counters {
	unsigned	queued, running, paused;
	unsigned	queued_prio[PRIO_COUNT];
	uint64_t	done, failed, cancelled;
	uint64_t	bytes_copied, files_copied;
	uint64_t	rate;
};
void	 job_counters(struct job_counters *);

const char *job_state_name(enum job_state);
const char *job_prio_name(enum job_prio);
int	 job_prio_parse(const char *, enum job_prio *);

#endif
