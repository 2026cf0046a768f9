/*
 * Per-user accounting of long-held fds (fdshare.h). A user's count lives
 * only while it is not zero, so the table holds the users with trees in
 * flight: a list is enough.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "config.h"
#include "fdshare.h"

#define FDSHARE_MIN	16	/* a share below this could not copy a shallow tree */

struct fdshare_user {
	uid_t			 uid;
	unsigned		 held;
	struct fdshare_user	*next;
};

static struct fdshare_user	*users;
static struct fdshare_waiter	*waiters, **waiters_tail = &waiters;

unsigned
fdshare_limit(void)
{
	struct rlimit	rl;
	unsigned	n = cpd_conf->jobs.dir_fds_per_user;

	/* Asked each time: a reload or prlimit may have changed either. */
	if (n == 0 && getrlimit(RLIMIT_NOFILE, &rl) == 0)
		n = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur / 4 > 1U << 30 ?
		    1U << 30 : (unsigned)(rl.rlim_cur / 4);
	return n < FDSHARE_MIN ? FDSHARE_MIN : n;
}

static struct fdshare_user **
fdshare_find(uid_t uid)
{
	struct fdshare_user **pp;

	for (pp = &users; *pp && (*pp)->uid != uid; pp = &(*pp)->next)
		;
	return pp;
}

static unsigned
fdshare_held(uid_t uid)
{
	struct fdshare_user *u = *fdshare_find(uid);

	return u ? u->held : 0;
}

static bool
fdshare_waiting(uid_t uid)
{
	for (struct fdshare_waiter *w = waiters; w; w = w->next)
		if (w->uid == uid)
			return true;
	return false;
}

static int
fdshare_add(uid_t uid, unsigned n)
{
	struct fdshare_user **pp = fdshare_find(uid), *u = *pp;

	if (u == NULL) {
		if ((u = calloc(1, sizeof(*u))) == NULL)
			return -ENOMEM;
		u->uid = uid;
		*pp = u;
	}
	u->held += n;
	return 0;
}

int
fdshare_take(uid_t uid, unsigned n)
{
	/* Not past the user's waiters either: they would wait for ever. */
	if (fdshare_held(uid) + n > fdshare_limit() || fdshare_waiting(uid))
		return -EMFILE;
	return fdshare_add(uid, n);
}

void
fdshare_give(uid_t uid, unsigned n)
{
	struct fdshare_user **pp = fdshare_find(uid), *u = *pp;

	if (u == NULL)
		return;
	u->held -= n < u->held ? n : u->held;
	if (u->held == 0) {
		*pp = u->next;
		free(u);
	}
}

void
fdshare_wait(struct fdshare_waiter *w)
{
	w->next = NULL;
	w->queued = true;
	*waiters_tail = w;
	waiters_tail = &w->next;
}

void
fdshare_cancel(struct fdshare_waiter *w)
{
	struct fdshare_waiter **pp;

	if (!w->queued)
		return;
	for (pp = &waiters; *pp != w; pp = &(*pp)->next)
		;
	*pp = w->next;
	if (waiters_tail == &w->next)
		waiters_tail = pp;
	w->queued = false;
}

void
fdshare_wake(uid_t uid)
{
	struct fdshare_waiter *w = waiters;

	/* In order: a later, smaller need does not pass an earlier one. */
	while (w) {
		if (w->uid != uid) {
			w = w->next;
			continue;
		}
		if (fdshare_held(uid) + w->need > fdshare_limit())
			return;
		fdshare_cancel(w);
		w->ready(w, fdshare_add(uid, w->need));
		w = waiters;	/* ready() may have changed the list */
	}
}
