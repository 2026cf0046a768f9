#ifndef CPD_COPY_H
#define CPD_COPY_H

struct eop;
struct item;
struct job;

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
/* The job's table of hard links. */
void	copy_hlinks_free(struct job *);
/* A directory was renamed: copies under from (relative to the job's directory) are under to. */
void	copy_hlinks_moved(struct job *, const char *from, const char *to);

#endif
