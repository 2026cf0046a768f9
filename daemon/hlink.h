#ifndef CPD_HLINK_H
#define CPD_HLINK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

struct copy;
struct copy_job;
struct job;

/*
 * An archive job's hard links: a file with several links is copied once,
 * by the first copy to find it; its other names wait for that copy and
 * are then linked to it (or, if it failed, copied on their own).
 */
struct hlink {
	struct hlink	*next;
	dev_t		 dev;
	uint64_t	 ino;
	char		*rel;		/* the copy, relative to the job's directory */
	int		 state;		/* 0 being copied, 1 done, -1 failed */
	/*
	 * Its copy was a file kept in place (an update mode): that file's
	 * identity. Another name of the group found already linked to it
	 * is kept too: a rename of a new link over it would do nothing
	 * (two names of one inode) and leave the new link behind.
	 */
	bool		 kept;
	uint32_t	 kept_major, kept_minor;
	uint64_t	 kept_ino;
	struct copy	*waiters;
};

/* The group of stx's (dev, ino), created when absent; NULL when out of memory. */
struct hlink *hlink_get(struct copy_job *, const struct statx *, bool *created);
void	hlink_free_all(struct copy_job *);
/* A directory was renamed: copies under from (relative to the job's directory) are under to. */
void	hlink_moved(struct job *, const char *from, const char *to);

#endif
