/*
 * What a job did to each destination entry (Job.changes, Change): every
 * change is counted; with itemize it is also queued for the replies that
 * stream the job (watch.c), which take the queue each time they go out.
 */
#ifndef CPD_CHANGE_H
#define CPD_CHANGE_H

#include <json-c/json.h>

#include "cpd-vocab.h"

struct job;

/* XXH3-128 as xxh128sum prints it, and its NUL. */
#define CHANGE_HASH_LEN	33

/*
 * A change to the entry at rel (its path from the job's destination
 * directory; copied); hash NULL or CHANGE_HASH_LEN-1 hex digits. On the
 * loop only.
 */
void	change_note(struct job *, enum change_kind, enum entry_type, const char *rel,
	    const char *hash);
/* The changes queued since the last take, as an array of Change; NULL when none. */
struct json_object *change_take(struct job *);
/* Job.changes: the counts. */
struct json_object *change_counts(const struct job *);
void	change_free(struct job *);

#endif
