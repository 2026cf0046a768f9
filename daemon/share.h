/*
 * Shares of a limited set of workers (the pool's threads, io_uring's
 * chunks in flight) among users and among the disks read: what each has
 * running, and whether one more of its operations may start. An
 * operation on a file system that stops answering (a FUSE server that
 * hangs, an NFS server gone) holds its worker for as long as that lasts;
 * with shares, one user's, or one disk's, cannot hold them all, and an
 * operation at its share waits while others go past it.
 *
 * No locking: the pool calls it under its lock, the loop on its thread.
 */
#ifndef CPD_SHARE_H
#define CPD_SHARE_H

#include <stdbool.h>
#include <stdint.h>

struct eop;

#define SHARE_KEYS	64	/* users (disks) running at once that are counted */

struct share_set {
	struct share_running {
		uint64_t key;
		unsigned n;
	}		 r[SHARE_KEYS];
	unsigned	 n;
};

struct shares {
	struct share_set users, devs;
};

/*
 * Of n workers, one user may hold about half (rounded up), one disk all
 * but one; but never less than one, and one is always left over when
 * there are two or more. Not half a disk: several users' work on one
 * disk is the common case, and must not lose half the workers to a rule
 * meant for a file system that hangs.
 */
unsigned share_user(unsigned workers);
unsigned share_dev(unsigned workers);
/* Whether op's user (its cred's uid) and disk (eop.dev) are within their shares. */
bool	 share_within(const struct shares *, const struct eop *op, unsigned workers);
/*
 * op starts, or has ended. The daemon's own (no cred, no dev) are not
 * counted, nor what finds no room (op->shared says what was).
 */
void	 share_count(struct shares *, struct eop *op, bool start);

#endif
