/*
 * Calls that wait on jobs: a Copy until its job's record is durable, a
 * Copy or Wait with "more" for progress, a Wait or Cancel for the end.
 * The method layer keeps them, not the jobs: the job layer only emits
 * events (job_events_set()), and watch.c finds the calls by job id, so
 * that neither a job nor a call holds a pointer to the other.
 */
#ifndef CPD_WATCH_H
#define CPD_WATCH_H

#include <stdbool.h>
#include <stdint.h>

struct call;
struct job;

/* Take the job layer's events. */
void	watch_init(void);
/*
 * Reply now with the job, or (a call with "more") stream it until the job
 * ends; wait: a call without "more" too waits for the end.
 */
void	watch_reply(struct call *, struct job *, bool wait);
/* A Copy: watch_reply() once the job's first record is durable. */
void	watch_accepted(struct call *, struct job *);
/* The call ends (varlink.c): it waits no more. */
void	watch_drop(struct call *);
/* Whether any call waits on job id (for the fuzz harness's fake jobs). */
bool	watch_waits(uint64_t id);

#endif
