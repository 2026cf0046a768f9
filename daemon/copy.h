#ifndef CPD_COPY_H
#define CPD_COPY_H

struct eop;
struct job;

/*
 * Copy one regular file of a job: src (absolute) to name in the job's
 * destination directory. Ends with job_file_done().
 */
int	copy_start(struct job *, const char *src, const char *name);
/* Start a parked data chunk, or abandon it (the job is ending). */
void	copy_lane_run(struct eop *);
void	copy_lane_drop(struct eop *);

#endif
