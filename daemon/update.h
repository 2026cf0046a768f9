/*
 * Copy's update modes: whether an existing destination file is replaced
 * (enum update_mode, cpd-vocab.h), and an archive job's kept file
 * brought up to date. Pure functions and blocking calls for a pool
 * thread (never the loop): copy.c and tree.c ask them.
 */
#ifndef CPD_UPDATE_H
#define CPD_UPDATE_H

#include <stdbool.h>
#include <sys/stat.h>

#include "cpd-vocab.h"

enum update_verdict {
	UPDATE_REPLACE,	/* copy the source over it */
	UPDATE_KEEP,	/* leave its content alone */
	UPDATE_COMPARE,	/* the same size: its content decides (checksum) */
};

/* A regular file dst in the way of the regular file src. */
enum update_verdict update_decide(enum update_mode, const struct statx *src,
	    const struct statx *dst);
/* Whether a kept file of an archive job gets the source's attributes (rsync's quick check does). */
bool	update_refreshes(enum update_mode);

/*
 * Give the kept file dst (a path through /proc/self/fd, see
 * update_proc_path; a symlink there is not followed) the attributes of
 * src (stx, and the xattrs of the file at the path src, followed with
 * follow_src: the /proc/self/fd link of an open source) where they differ: owner and
 * group (EPERM ignored, as cp -a), mode, mtime (with atime), extended
 * attributes (those of the source set, others removed). dst_stx is
 * dst's statx. With look_only nothing is changed. 1 when something
 * differed, 0 when all matched, -errno.
 */
int	update_refresh(const char *src, bool follow_src, const struct statx *stx,
	    const char *dst, const struct statx *dst_stx, bool look_only);
/* "/proc/self/fd/DIRFD/NAME" (an empty NAME: the fd's own) into buf (PATH_MAX), or -ENAMETOOLONG. */
int	update_proc_path(char *buf, int dirfd, const char *name);

#endif
