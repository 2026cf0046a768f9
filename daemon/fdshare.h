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

/* What holds fds of its user's share: a job's tree. Zeroed, then uid set. */
struct fdshare_holder {
	uid_t			 uid;
	unsigned		 held;		/* fds taken */
	unsigned		 waiting;	/* its waiters queued */
	struct fdshare_holder	*next;		/* listed while it holds or waits */
	bool			 listed;
};

/* Someone waiting for fds of its holder's user's share. */
struct fdshare_waiter {
	struct fdshare_holder	*holder;
	unsigned		 need;
	/* Called by fdshare_wake(), with the fds taken for it. */
	void			(*ready)(struct fdshare_waiter *);
	struct fdshare_waiter	*next;
	bool			 queued;
};

unsigned fdshare_limit(void);
/* Count n more fds against the user's share: 0, or -EMFILE past it (or while others wait). */
int	 fdshare_take(struct fdshare_holder *, unsigned n);
/* The fds are closed: given back (fdshare_wake() then). */
void	 fdshare_give(struct fdshare_holder *, unsigned n);
/*
 * Past the share: wait, first come first served, for w->need fds that
 * the user's other holders give back. Only while one of them holds fds
 * and waits for none: not only for holders that wait themselves (they
 * would wait on each other for ever), and not for the holder's own (a
 * tree's ancestors give theirs back only after their descendants)
 * unless own says it gives some back without the waiter (a tree's
 * directory far above the work, busy now: tree_window.c).
 * 0: queued; -EMFILE: it may not wait.
 */
int	 fdshare_wait(struct fdshare_holder *, struct fdshare_waiter *, bool own);
/* Stop waiting (no harm if it is not). */
void	 fdshare_cancel(struct fdshare_waiter *);
/* Hand the fds the user's holders gave back to the waiters they now fit. */
void	 fdshare_wake(uid_t);

#endif
