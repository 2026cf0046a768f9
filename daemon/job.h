/*
 * The job layer's face to the rest of the daemon: jobs are submitted,
 * found, controlled and counted here (for manager.c and main.c), and
 * driven by copy.c and tree.c, which copy their items. It knows nothing
 * of the protocol: it tells what happens through job_events_set().
 * job_internal.h says which file of the layer does what.
 */
#ifndef CPD_JOB_H
#define CPD_JOB_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

#include "config.h"
#include "cpd-vocab.h"
#include "engine.h"
#include "request.h"

struct change;
struct cred;
struct copy_job;
struct device;
struct identity_check;
struct item;
struct owner;
struct tnode;
struct tree_job;

#define JOB_MAX_FAILURES	100	/* failures listed in a job (all are counted) */
/* A listed failure's path or message is shortened to this many bytes (failure.c). */
#define FAILURE_TEXT_MAX	1024
/*
 * Devices a job is scheduled on: its destination's and its sources'
 * first. Sources on more disks than that are rare (a copy from many
 * mounts at once); the others are read without a slot of their own,
 * and admission looks at a few devices, not a list.
 */
#define JOB_DEVICES		4

struct failure {
	char	*path;
	int	 err;
	char	*message;
	bool	 vanished;	/* the source was gone when opened */
};

struct job_scan;
struct job_seen;
struct partial;
struct job_probe;
struct scan_dest;

struct job {
	uint64_t		 id;
	enum job_state		 state;		/* never JOB_PAUSED: see paused */
	struct job_request	 req;
	enum job_prio		 prio;		/* its class: req.prio, or chosen for PRIO_AUTO */
	struct cred		*cred;
	struct owner		*owner;		/* its user's share (owner.c) */
	char			*identity_name;	/* the uid's user when submitted, "": none (identity.c) */
	unsigned		 identity_checks;	/* identity.c: looking up; starts nothing new */
	struct identity_check	*identity_noting;	/* the lookup made at submission, under way */

	uint64_t		 bytes_total, bytes_done;
	uint64_t		 files_total, files_done;
	uint64_t		 rate;
	uint64_t		 created_usec, started_usec, finished_usec;
	uint64_t		 methods[M_COUNT];
	unsigned		 restarts;	/* interrupted while running, then run again */
	bool			 accepting;	/* its first record is not durable yet */
	bool			 announced;	/* its end was told (JOB_ENDED): may be freed */
	bool			 interrupted;	/* stopped by a shutdown: to be run again */
	bool			 held;		/* ended, its abandoned operations in flight */
	uint64_t		 cancel_usec;	/* when it was cancelled (loop_now_usec) */
	struct json_object	*final;		/* a finished job from the journal: as it was */
	int			 err;		/* first error: -errno */
	char			*error_message;
	uint64_t		 files_failed;	/* all of them... */
	unsigned		 nlisted;	/* ...and those in failures[] (failure.c) */
	uint64_t		 failure_bytes;	/* what the listed ones cost */
	struct failure		 failures[JOB_MAX_FAILURES];
	uint64_t		 files_vanished;	/* of files_failed */
	uint64_t		 changes[CHANGE_COUNT];	/* change.c */
	struct change		*itemized;	/* change.c: not yet sent */
	struct change		**itemized_tail;
	bool			 tree;		/* a source is a directory */
	struct device		*devs[JOB_DEVICES];	/* distinct; referenced */
	unsigned		 ndevs;
	struct device		*dest_dev;	/* the destination's, one of devs */

	/* Execution. */
	bool			 cancelling;
	bool			 paused;	/* queued or running: starts nothing new */
	bool			 finishing;	/* every item has ended */
	bool			 in_runq;	/* scanned, waiting for a slot */
	bool			 in_slot;	/* running and holding a slot (sched.c) */
	bool			 throttled;	/* waits for bandwidth, nothing in flight */
	unsigned		 lanes_busy;	/* data chunks in flight */
	struct eop		*parked;	/* data chunks waiting to start */
	struct eop		**parked_tail;
	bool			 drop_posted;	/* lanes.c drops parked chunks soon */
	int64_t			 tokens;	/* bwlimit: bytes that may start now */
	uint64_t		 tokens_usec;
	int			 dirfd;		/* destination directory, O_PATH */
	bool			 into_dir;	/* each source goes to dir/basename */
	char			*dest_name;	/* the new file's name when !into_dir */
	struct job_scan		*scan;
	struct job_seen		*seen;		/* scan.c: what each source is, until queued */
	struct job_probe	*probe;		/* scan.c: the destination's device */
	struct scan_dest	*dest_pre;	/* scan.c: the destination, as the scan saw it */
	size_t			 next_source;	/* next source to queue */
	unsigned		 active;	/* files or scans in flight */
	/* Items (files, directories) waiting to start: a stack, so that
	 * trees are walked depth first and few directories stay open. */
	struct item		*items;
	unsigned		 nitems;
	struct copy_job		*copy;		/* copy.c's */
	struct tree_job		*tree_job;	/* tree.c's */
	struct eop		 step;		/* job-level operation in flight */
	char			*dest_parent;
	/* clean.c: its named temporaries, relative to its directory (dirfd). */
	char			**temps;
	unsigned		 ntemps;
	bool			 temps_unrecorded;	/* some are not in temps */
	bool			 temps_legacy;		/* restored from a record without them */
	char			*temps_dir;		/* restored: what temps are relative to */
	/* partial.c: its checkpointed temporaries, relative to partial_dir. */
	struct partial		*partials;
	unsigned		 npartials;
	char			*partial_dir;
	uint64_t		 bytes_resumed;	/* of bytes_done: taken from checkpoints */

	/* Progress reporting. */
	uint64_t		 samples[9];	/* bytes_done at the last ticks */
	unsigned		 nsamples;
	bool			 dirty;

	TAILQ_ENTRY(job)	 entry;		/* all jobs, by id */
	TAILQ_ENTRY(job)	 qentry;	/* its run queue, or the running list */
};

/* Load the journal: finished jobs are shown, the others run again. */
void	 job_restore(const struct config *);
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
/*
 * Whether the job's record is still being written: a Copy says the job
 * exists only when it is durable (JOB_ACCEPTED).
 */
bool	 job_accepting(const struct job *);

/*
 * What the job layer tells the layer above it (watch.c), which keeps the
 * calls that wait on jobs; the job layer knows nothing of calls. The
 * observer may reply at once, and a final reply may run the connection's
 * next call, which may act on this very job (cancel it): events are
 * emitted where that is safe, and the job is looked at again after.
 */
enum job_event {
	JOB_ACCEPTED,	/* its first record is durable (or failed to be): it exists */
	JOB_CHANGED,	/* progress or state, at most once a tick */
	JOB_ENDED,	/* it has ended and its end record is durable (or, stopped
			 * by a shutdown, it keeps its record to run again) */
};
void	 job_events_set(void (*observer)(struct job *, enum job_event));

/*
 * What copies a job's items, given by main.c: copy.c for files, tree.c
 * for directories. The job layer hands them items and data chunks
 * through these and they report back through the job_* calls below.
 * Hooks, not calls, so that the job layer stands above them and knows
 * them only by what they do (no module cycle: tests/integration/modules.sh).
 */
struct job_workers {
	void	(*file)(struct job *, struct item *);	/* copy it; takes it */
	void	(*dir)(struct job *, struct item *);	/* copy a directory; takes it */
	/* An entry of the directory ended, or was dropped before it started. */
	void	(*child_done)(struct tnode *);
	void	(*taken)(struct item *);	/* the item leaves the stack: started or dropped */
	void	(*more)(struct job *);		/* room for items: directories read on */
	/* Whether the next item may start now; if not, the job fills no more until an end. */
	bool	(*may_start)(const struct job *, const struct item *);
	unsigned (*dirs)(const struct job *);	/* directories still being copied */
	void	(*lane_run)(struct eop *);	/* a parked data chunk may go... */
	void	(*lane_drop)(struct eop *);	/* ...or is abandoned: the job is ending */
	void	(*end)(struct job *);		/* the job ended: their state of it goes */
};
void	 job_init(const struct config *, const struct job_workers *);
void	 job_tick(void);
void	 job_shutdown(void);
unsigned job_count_active(void);

/*
 * Called by copy.c and tree.c. A file ends with job_file_end(). A
 * directory is one of the job's items in flight until it is set up
 * (job_dir_ready()); it ends, after everything in it, with job_dir_end().
 * With keep_going a failure is listed and the job goes on; otherwise it
 * fails the job. parent is the directory the item was in, if any.
 */
void	 job_file_end(struct job *, struct tnode *parent, int err,
	    const char *path, const char *msg, enum method);
/*
 * A listed source entry was gone when it was opened (it vanished while
 * the job ran): listed as a failure of its own kind, and counted, but
 * the job goes on even without keep_going, as rsync does.
 */
void	 job_file_vanished(struct job *, struct tnode *parent, const char *path,
	    const char *msg);
void	 job_file_to_dir(struct job *, const struct item *);
void	 job_dir_ready(struct job *);
void	 job_dir_end(struct job *, struct tnode *parent, int err,
	    const char *path, const char *msg);
void	 job_dir_failed(struct job *, int err, const char *path, const char *fmt);
/*
 * A named temporary is about to be made at rel (its path from the job's
 * directory; taken, NULL when out of memory), or it is gone (published or
 * removed): kept in the job's journal record, so that a restart after a
 * crash removes it by name (clean.c). On the loop only.
 */
void	 clean_temp_made(struct job *, char *rel);
void	 clean_temp_gone(struct job *, char *rel);
void	 job_push_item(struct job *, struct item *);
/* The items of that directory still on the stack go, unstarted: how many. */
unsigned job_drop_items(struct job *, const struct tnode *parent);
void	 job_add_total(struct job *, uint64_t files, uint64_t bytes);
void	 job_fill(struct job *);
bool	 job_stopping(const struct job *);

/*
 * Called by copy.c. A data chunk of a job starts only when the job is
 * not paused, its bandwidth allows, and it is within its fair share of
 * the chunks in flight; otherwise job_lane_begin() parks it and returns
 * false, and the job later hands it back to copy_lane_run() (or to
 * copy_lane_drop() when the job is cancelled): never from within
 * job_lane_begin(), which would free the caller's copy under it.
 */
bool	 job_lane_begin(struct job *, struct eop *);
/*
 * Clear op for an operation on the job's behalf: its caller's
 * credentials and its priority, done() next, the job as owner (the
 * caller may set another) and AT_FDCWD as dirfd.
 */
struct eop *job_op_init(struct job *, struct eop *op, enum eop_type,
	    void (*done)(struct eop *, int));
/*
 * op reads the file system with device number major:minor (0:0: not
 * known), and counts in the pool's share of that one's disk, not in
 * that of its job's first source (a tree crosses mounts; sources lie
 * on several file systems).
 */
void	 job_op_reads(struct eop *op, unsigned major, unsigned minor);
void	 job_lane_end(struct job *);
/* Chunks of one of its files in flight at most: engine.lanes, or its devices'. */
unsigned job_file_lanes(const struct job *);
void	 job_file_done(struct job *, int err, const char *msg);
/* bytes of a file were copied; its source's statx stx_dev_major, _minor. */
void	 job_progress(struct job *, uint64_t bytes, unsigned src_major, unsigned src_minor);
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
bool	 job_write_behind(void);

#endif
