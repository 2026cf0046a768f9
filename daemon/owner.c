/*
 * A user's share of what the job layer keeps: the jobs it has in the
 * registry, how many of them have ended, and the bytes of their listed
 * failures (failure.c). Finished jobs are kept for jobs.keep_finished
 * seconds; without a share of their own, one user's finished jobs (and
 * their journal records) could fill memory and state_dir for everyone:
 * job_tick() drops a user's oldest beyond jobs.keep_finished_per_user.
 */
#include <stdlib.h>
#include <sys/queue.h>

#include "job_internal.h"

static LIST_HEAD(, owner) owners = LIST_HEAD_INITIALIZER(owners);

struct owner *
owner_get(uid_t uid)
{
	struct owner *o;

	LIST_FOREACH(o, &owners, entry)
		if (o->uid == uid) {
			o->jobs++;
			return o;
		}
	if ((o = calloc(1, sizeof(*o))) == NULL)
		return NULL;
	o->uid = uid;
	o->jobs = 1;
	LIST_INSERT_HEAD(&owners, o, entry);
	return o;
}

void
owner_put(struct owner *o)
{
	if (o == NULL || --o->jobs > 0)
		return;
	LIST_REMOVE(o, entry);
	free(o);
}
