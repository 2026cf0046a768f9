/*
 * Per-user accounting of long-held fds (fdshare.h). Only holders that
 * hold or wait are listed, so a user's count is the sum over a short
 * list: the jobs with trees in flight.
 */
#include <errno.h>
#include <stddef.h>
#include <sys/resource.h>

#include "config.h"
#include "fdshare.h"

#define FDSHARE_MIN	16	/* a share below this could not copy a shallow tree */

static struct fdshare_holder	*holders;
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

static unsigned
fdshare_held(uid_t uid)
{
	unsigned n = 0;

	for (struct fdshare_holder *h = holders; h; h = h->next)
		if (h->uid == uid)
			n += h->held;
	return n;
}

/* Listed while it holds or waits, so that the list stays short. */
static void
fdshare_list(struct fdshare_holder *h)
{
	struct fdshare_holder **pp;

	if (!h->listed && (h->held || h->waiting)) {
		h->next = holders;
		holders = h;
		h->listed = true;
	} else if (h->listed && !h->held && !h->waiting) {
		for (pp = &holders; *pp != h; pp = &(*pp)->next)
			;
		*pp = h->next;
		h->listed = false;
	}
}

static bool
fdshare_waiting(uid_t uid)
{
	for (struct fdshare_waiter *w = waiters; w; w = w->next)
		if (w->holder->uid == uid)
			return true;
	return false;
}

int
fdshare_take(struct fdshare_holder *h, unsigned n)
{
	/* Not past the user's waiters either: they would wait for ever. */
	if (fdshare_held(h->uid) + n > fdshare_limit() || fdshare_waiting(h->uid))
		return -EMFILE;
	h->held += n;
	fdshare_list(h);
	return 0;
}

void
fdshare_give(struct fdshare_holder *h, unsigned n)
{
	h->held -= n < h->held ? n : h->held;
	fdshare_list(h);
}

int
fdshare_wait(struct fdshare_holder *h, struct fdshare_waiter *w, bool own)
{
	const struct fdshare_holder *o;

	if (!own) {
		for (o = holders; o; o = o->next)
			if (o != h && o->uid == h->uid && o->held > 0 && o->waiting == 0)
				break;
		if (o == NULL)
			return -EMFILE;
	}
	w->holder = h;
	w->next = NULL;
	w->queued = true;
	*waiters_tail = w;
	waiters_tail = &w->next;
	h->waiting++;
	fdshare_list(h);
	return 0;
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
	w->holder->waiting--;
	fdshare_list(w->holder);
}

void
fdshare_wake(uid_t uid)
{
	struct fdshare_waiter *w = waiters;

	/* In order: a later, smaller need does not pass an earlier one. */
	while (w) {
		if (w->holder->uid != uid) {
			w = w->next;
			continue;
		}
		if (fdshare_held(uid) + w->need > fdshare_limit())
			return;
		fdshare_cancel(w);
		w->holder->held += w->need;
		fdshare_list(w->holder);
		w->ready(w);
		w = waiters;	/* ready() may have changed the list */
	}
}
