#ifndef CPD_COPY_H
#define CPD_COPY_H

struct eop;
struct item;
struct job;

/*
 * A job's state of copy.c (job->copy): what the destination's
 * filesystems cannot do, and the hard links seen. Made with the job's
 * first file; copy_job_free() when the job ends.
 */
struct copy_job;

/*
 * Copy one non-directory item of a job: a regular file, a symlink, a
 * special file, or (archive) a hard link to a file copied before. A
 * directory found on the way goes to tree_start(). Takes the item; ends
 * with job_file_end().
 */
void	copy_start(struct job *, struct item *);
/* Start a parked data chunk, or abandon it (the job is ending). */
void	copy_lane_run(struct eop *);
void	copy_lane_drop(struct eop *);
void	copy_job_free(struct job *);

/* The job layer's workers (job.h): files here, directories to tree.c. */
extern const struct job_workers copy_workers;

#endif
