/*
 * EOP_META in a pool thread: a copy takes the metadata its job keeps,
 * owner first, then extended attributes and ACLs, then mode and times
 * (engine_meta_apply says why in that order). Part of the thread
 * engine, which every backend's metadata goes through.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "engine.h"
#include "engine_backend.h"

/*
 * Copy extended attributes of from to fd2, of the open file fd, or with
 * fd < 0 of the file at the path from (through /proc/self/fd: an O_PATH
 * descriptor has no f*xattr). which: META_ACLS the POSIX ACLs, and
 * META_XATTRS the others, as cp keeps the one with the mode and the
 * other with xattr. Returns how many were set, or -errno.
 */
static int
engine_meta_xattrs(int fd, const char *from, int fd2, unsigned which)
{
	char	*names = NULL, *val = NULL;
	ssize_t	 n, vn;
	int	 rc = 0;

#define XLIST(buf, len)		(fd >= 0 ? flistxattr(fd, buf, len) : listxattr(from, buf, len))
#define XGET(name, buf, len)	(fd >= 0 ? fgetxattr(fd, name, buf, len) : \
				    getxattr(from, name, buf, len))
	if ((n = XLIST(NULL, 0)) <= 0)
		return n < 0 && errno != ENOTSUP ? -errno : 0;
	if ((names = malloc((size_t)n)) == NULL || (n = XLIST(names, (size_t)n)) < 0) {
		rc = names ? -errno : -ENOMEM;
		goto out;
	}
	for (char *name = names; name < names + n; name += strlen(name) + 1) {
		if (!(which & (strncmp(name, "system.posix_acl_", 17) == 0 ?
		    META_ACLS : META_XATTRS)))
			continue;
		if ((vn = XGET(name, NULL, 0)) < 0)
			continue;	/* gone meanwhile */
		free(val);
		if ((val = malloc((size_t)vn + 1)) == NULL) {
			rc = -ENOMEM;
			break;
		}
		if ((vn = XGET(name, val, (size_t)vn)) < 0)
			continue;
		/* Not every namespace may be written by every caller (as cp). */
		if (fsetxattr(fd2, name, val, (size_t)vn, 0) == 0)
			rc++;
		else if (errno != EPERM && errno != ENOTSUP && errno != EACCES) {
			rc = -errno;
			break;
		}
	}
#undef XLIST
#undef XGET
out:
	free(names);
	free(val);
	return rc;
}

/*
 * The extended attributes of dirfd/path (a file about to be replaced,
 * never one behind a symlink) onto fd2. O_PATH: reading its ACL needs
 * no permission to read the file's data, as with cp.
 */
static int
engine_meta_xattrs_at(const struct eop *op)
{
	char	proc[32];
	int	fd, rc;

	if ((fd = openat(op->dirfd, op->path, O_PATH | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return -errno;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	rc = engine_meta_xattrs(-1, proc, op->fd2, META_ACLS | META_XATTRS);
	close(fd);
	return rc;
}

/*
 * Give fd2 (or dirfd/path, a symlink: no fd, no xattrs) the metadata in
 * stx. Ownership first: a chown clears setuid/setgid and a file's
 * capabilities (security.capability), so the xattrs and the mode after.
 */
int
engine_meta_apply(struct eop *op)
{
	const struct statx *s = op->stx;
	struct timespec	 ts[2] = {
		{ s->stx_atime.tv_sec, s->stx_atime.tv_nsec },
		{ s->stx_mtime.tv_sec, s->stx_mtime.tv_nsec },
	};
	bool		 link = op->fd2 < 0;
	mode_t		 mode = s->stx_mode & 07777;
	struct stat	 st;
	bool		 changed = false;
	int		 rc = 0;

	if (op->meta_flags & META_RECHECK &&
	    statx(op->fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, op->stx_end) < 0)
		return -errno;
	/* What the copy already has need not be set: in a tree of small
	 * files each change is a journaled inode update. */
	if (!link && fstat(op->fd2, &st) < 0)
		return -errno;
	if (op->meta_flags & META_OWNER &&
	    (link || st.st_uid != s->stx_uid || st.st_gid != s->stx_gid) &&
	    (changed = true) &&
	    (link ? fchownat(op->dirfd, op->path, s->stx_uid, s->stx_gid, AT_SYMLINK_NOFOLLOW) :
	    fchown(op->fd2, s->stx_uid, s->stx_gid)) < 0) {
		if (errno != EPERM)
			return -errno;
		/* A caller who may not give the copy away keeps at least the
		 * group where they may, and never gets a setuid or setgid
		 * file of someone else's as their own (as cp -a). */
		if (!link)
			(void)!fchown(op->fd2, (uid_t)-1, s->stx_gid);
		mode &= ~(mode_t)(S_ISUID | S_ISGID);
	}
	if (op->meta_flags & (META_XATTRS | META_ACLS) && !link &&
	    (rc = op->meta_flags & META_XATTRS_AT ? engine_meta_xattrs_at(op) :
	    engine_meta_xattrs(op->fd, NULL, op->fd2, op->meta_flags)) < 0)
		return rc;
	/* A chown or an ACL just set may have changed the mode: look again. */
	if ((changed || rc > 0) && !link && fstat(op->fd2, &st) < 0)
		return -errno;
	if (op->meta_flags & META_MODE && !link && (st.st_mode & 07777) != mode &&
	    fchmod(op->fd2, mode) < 0)
		return -errno;
	/* The same mtime: left alone, atime too (a re-run over an up-to-date
	 * tree must not update every directory's inode to move an atime). */
	if (op->meta_flags & META_TIMES && (link || st.st_mtim.tv_sec != s->stx_mtime.tv_sec ||
	    st.st_mtim.tv_nsec != s->stx_mtime.tv_nsec) &&
	    (link ? utimensat(op->dirfd, op->path, ts, AT_SYMLINK_NOFOLLOW) :
	    futimens(op->fd2, ts)) < 0)
		return -errno;
	return 0;
}
