#ifndef CPD_FDSHARE_H
#define CPD_FDSHARE_H

#include <stdbool.h>
#include <sys/types.h>

/*
 * Each user's share of the daemon's fds for what a job holds for long:
 * the directories a tree copy is inside (tree.c). Without it, one user's
 * deep trees (or paused jobs on them, which keep their directories open)
 * took every fd of the daemon. The share is jobs.dir_fds_per_user, or
 * with 0 a quarter of the daemon's fd limit.
 */

/* Someone waiting for fds of a user's share (in a struct of its own). */
struct fdshare_waiter {
	uid_t			 uid;
	unsigned		 need;
	/* Called by fdshare_wake(): 0 with the fds taken for it, or -ENOMEM. */
	void			(*ready)(struct fdshare_waiter *, int);
	struct fdshare_waiter	*next;
	bool			 queued;
};

unsigned fdshare_limit(void);
/*
 * Count n more fds against uid's share: 0, or -EMFILE past the share (or
 * while others wait for it), -ENOMEM.
 */
int	 fdshare_take(uid_t, unsigned n);
/* The fds are closed: given back (fdshare_wake() then). */
void	 fdshare_give(uid_t, unsigned n);
/* Wait, first come first served, for w->need fds of w->uid's share. */
void	 fdshare_wait(struct fdshare_waiter *);
/* Stop waiting (no harm if it is not). */
void	 fdshare_cancel(struct fdshare_waiter *);
/* Hand the user's fds given back to the waiters they now fit. */
void	 fdshare_wake(uid_t);

#endif
