/*
 * The calls waiting on jobs (watch.h), and the replies the job layer's
 * events bring them. A final reply ends the call, which may let its
 * connection run its next queued message at once, and that may watch the
 * same job again or act on it: a call is detached before it is replied
 * to, and the list is searched afresh after each final reply.
 *
 * varlink.c calls watch_drop() when a call ends, and watch.c replies
 * through varlink.c: the protocol and the method layer call each other,
 * as they do for the methods themselves (manager_methods).
 */
#include <sys/queue.h>

#include "change.h"
#include "job.h"
#include "varlink.h"
#include "view.h"
#include "watch.h"

static TAILQ_HEAD(, call) watchers = TAILQ_HEAD_INITIALIZER(watchers);

static void
watch_add(struct call *call, struct job *job)
{
	call->watching = job->id;
	TAILQ_INSERT_TAIL(&watchers, call, wentry);
}

void
watch_drop(struct call *call)
{
	if (call->watching == 0)
		return;
	TAILQ_REMOVE(&watchers, call, wentry);
	call->watching = 0;
	call->awaiting_accept = false;
}

/* The first call waiting on job id; accepted: for its record to be durable. */
static struct call *
watch_find(uint64_t id, bool accepted)
{
	struct call *call;

	TAILQ_FOREACH(call, &watchers, wentry)
		if (call->watching == id && (!accepted || call->awaiting_accept))
			break;
	return call;
}

bool
watch_waits(uint64_t id)
{
	return watch_find(id, false) != NULL;
}

/* A streamed reply: the job, and the changes taken for this round (a reference each). */
static struct json_object *
watch_params(const struct job *job, struct json_object *changes)
{
	struct json_object *p = view_params(job);

	if (changes)
		json_object_object_add(p, VOCAB_CHANGES, json_object_get(changes));
	return p;
}

/*
 * A call's first reply: the job's changes so far go with it when the
 * call streams (a job may even have ended before its record was
 * durable, and this is then its last reply).
 */
void
watch_reply(struct call *call, struct job *job, bool wait)
{
	struct json_object *changes = call->more ? change_take(job) : NULL;

	if (call->oneway || (!wait && !call->more) || job_finished(job))
		varlink_reply(call, watch_params(job, changes), false);
	else {
		if (call->more)
			varlink_reply(call, watch_params(job, changes), true);
		watch_add(call, job);
	}
	json_object_put(changes);
}

void
watch_accepted(struct call *call, struct job *job)
{
	call->awaiting_accept = true;
	watch_add(call, job);
}

/* watch_find(), detached: a reply may run the connection's next call. */
static struct call *
watch_take(uint64_t id, bool accepted)
{
	struct call *call = watch_find(id, accepted);

	if (call)
		watch_drop(call);
	return call;
}

/*
 * The changes made since the last round go out with this one, to every
 * call streaming the job, or nowhere: an itemizing job nobody streams
 * (detached) keeps only its counts. A job may run before its record is
 * durable (its sources are examined meanwhile): its changes wait for
 * the call that waits for that.
 */
static void
watch_event(struct job *job, enum job_event ev)
{
	struct call		*call, *next;
	struct json_object	*changes = NULL;

	/* A call still waiting for the job's record gets them with its first update. */
	if (ev == JOB_ENDED || (ev == JOB_CHANGED && !watch_find(job->id, true)))
		changes = change_take(job);

	switch (ev) {
	case JOB_ACCEPTED:
		while ((call = watch_take(job->id, true)) != NULL)
			watch_reply(call, job, false);
		break;
	case JOB_CHANGED:
		for (call = TAILQ_FIRST(&watchers); call; call = next) {
			next = TAILQ_NEXT(call, wentry);
			if (call->watching == job->id && call->more && !call->awaiting_accept)
				varlink_reply(call, watch_params(job, changes), true);
		}
		break;
	case JOB_ENDED:
		/* The job has ended: a reply's next call cannot watch it again. */
		while ((call = watch_take(job->id, false)) != NULL)
			varlink_reply(call, watch_params(job, call->more ? changes : NULL), false);
		break;
	}
	json_object_put(changes);
}

void
watch_init(void)
{
	job_events_set(watch_event);
}
