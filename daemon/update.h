/*
 * Copy's update modes: whether an existing destination file is replaced
 * (enum update_mode, cpd-vocab.h), and an archive job's kept file
 * brought up to date. Pure functions and blocking calls for a pool
 * thread (never the loop): copy.c and tree_quick.c ask them.
 */
#ifndef CPD_UPDATE_H
#define CPD_UPDATE_H

#include <stdbool.h>
#include <stdint.h>
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
/*
 * A job run again after a crash or a restart, asked to replace files
 * (UPDATE_ALL), need not copy again what its first run published: a
 * file of the source's size that has the source's mtime (archive: set
 * from it) or, without archive, was written since the job was made
 * (since_usec) is taken as published. Whether dst is kept so.
 */
bool	update_resumed_keeps(const struct statx *src, const struct statx *dst, bool archive,
	    uint64_t since_usec);
/* Whether a kept file of an archive job gets the source's attributes (rsync's quick check does). */
bool	update_refreshes(enum update_mode);

/*
 * A file by name in a directory, as the *at() calls take it: flags
 * AT_SYMLINK_NOFOLLOW (never through a symlink put in its place), or
 * AT_EMPTY_PATH with name "" (an open file: dirfd itself).
 */
struct update_file {
	int		 dirfd;
	const char	*name;
	int		 flags;
};

/*
 * Give the kept file dst the attributes of src (stx, and src's xattrs)
 * where they differ: owner and group (EPERM ignored, as cp -a), mode,
 * mtime (with atime), extended attributes (those of the source set,
 * others removed; looked at only when the source's ctime is newer than
 * the copy's). dst_stx is dst's statx. With look_only nothing is
 * changed. 1 when something differed, 0 when all matched, -errno.
 */
/*
 * Whether src's extended attributes may differ from those of its copy
 * dst: a source whose xattrs changed since the copy was written or
 * refreshed has a newer ctime than the copy; one that did not cannot
 * have xattrs the copy lacks. (A copy's xattrs changed by hand are not
 * repaired then: see cpd-client(1).)
 */
bool	update_xattrs_may_differ(const struct statx *src, const struct statx *dst);
/* a's mtime against b's, to the nanosecond: -1, 0 or 1. */
int	update_mtime_cmp(const struct statx *a, const struct statx *b);
/* Whether a's and b's extended attributes differ: 1, 0, or -errno. */
int	update_xattrs_differ(const struct update_file *a, const struct update_file *b);
int	update_refresh(const struct update_file *src, const struct statx *stx,
	    const struct update_file *dst, const struct statx *dst_stx, bool look_only);

#endif
