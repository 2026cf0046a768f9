#ifndef CPD_COPY_H
#define CPD_COPY_H

struct job;

/*
 * Copy one regular file of a job: src (absolute) to name in the job's
 * destination directory. Ends with job_file_done().
 */
int	copy_start(struct job *, const char *src, const char *name);

#endif
