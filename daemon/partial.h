#ifndef CPD_PARTIAL_H
#define CPD_PARTIAL_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

struct job;

#define PARTIAL_MAX	64	/* checkpointed files per job: few large ones are in flight */

/*
 * A large file's temporary with a checkpoint (partial.c): what of it is
 * copied and synced, so that a job run again after a crash or restart
 * goes on from there (copy_resume.c) instead of copying it all again.
 * Kept in the job's record, with the source's identity as it was. Or
 * (dir) a new directory being made under its temporary name (tree.c),
 * which a job run again merges into instead of making it anew.
 */
struct partial {
	char		*temp;		/* relative to the job's partial_dir, as clean.c's names */
	char		*dest;		/* the file it becomes (item_rel) */
	uint64_t	 head, tail;	/* [0, head) and [tail, size) are copied and synced */
	uint64_t	 size, ino;
	int64_t		 mtime_sec;
	uint32_t	 mtime_nsec;
	uint32_t	 dev_major, dev_minor;
	bool		 dir;		/* a new directory's: only temp and dest */
	bool		 claimed;	/* a copy of this run has taken it */
};

/* The record's "partial" member, NULL without any; read back (0 or -errno). */
struct json_object *partial_json(const struct job *);
int	 partial_read(struct json_object *rec, struct job *);
void	 partial_free(struct job *);
/* Whether name (a base name, or rel with full) is a checkpointed temporary. */
bool	 partial_is_temp(const struct job *, const char *name, bool full);
/*
 * The unclaimed checkpoint for the destination dest (item_rel), of a
 * directory or not, claimed, its temporary's base name in name (of
 * size namelen); or NULL (one whose name does not fit is dropped).
 */
struct partial *partial_claim(struct job *, const char *dest, bool dir, char *name,
	    size_t namelen);
/* Whether the source stx is still the file the checkpoint was taken of. */
bool	 partial_matches(const struct partial *, const struct statx *);
/* A checkpoint of temporary temp (taken) for dest, recorded. */
void	 partial_set(struct job *, char *temp, const char *dest, const struct statx *,
	    uint64_t head, uint64_t tail);
/* The new directory temp (taken) for dest, recorded. */
void	 partial_stage(struct job *, char *temp, const char *dest);
/* The temporary temp is gone: its checkpoint with it. */
void	 partial_drop(struct job *, const char *temp);
/*
 * The job ends: checkpoints this run never took are removed (in a pool
 * thread, as the owner), unless the job is to run again. True when that
 * was started: the job ends when it is done (job_end again).
 */
bool	 partial_end(struct job *);

#endif
