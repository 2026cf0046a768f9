/*
 * Update modes (update.h). A kept file's attributes are compared before
 * anything is set: a re-run over an up-to-date tree must not touch its
 * inodes (each change is a journaled inode update, and a changed ctime
 * makes the next backup tool see every file as changed).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "update.h"

static int
update_mtime_cmp(const struct statx *a, const struct statx *b)
{
	if (a->stx_mtime.tv_sec != b->stx_mtime.tv_sec)
		return a->stx_mtime.tv_sec < b->stx_mtime.tv_sec ? -1 : 1;
	if (a->stx_mtime.tv_nsec != b->stx_mtime.tv_nsec)
		return a->stx_mtime.tv_nsec < b->stx_mtime.tv_nsec ? -1 : 1;
	return 0;
}

enum update_verdict
update_decide(enum update_mode mode, const struct statx *src, const struct statx *dst)
{
	switch (mode) {
	case UPDATE_NONE:
		return UPDATE_KEEP;
	case UPDATE_OLDER:
		/* cp -u: only a source newer than the copy replaces it. */
		return update_mtime_cmp(dst, src) < 0 ? UPDATE_REPLACE : UPDATE_KEEP;
	case UPDATE_QUICK:
		return dst->stx_size == src->stx_size && update_mtime_cmp(dst, src) == 0 ?
		    UPDATE_KEEP : UPDATE_REPLACE;
	case UPDATE_CHECKSUM:
		return dst->stx_size == src->stx_size ? UPDATE_COMPARE : UPDATE_REPLACE;
	default:
		return UPDATE_REPLACE;
	}
}

bool
update_refreshes(enum update_mode mode)
{
	return mode == UPDATE_QUICK || mode == UPDATE_CHECKSUM;
}

int
update_proc_path(char *buf, int dirfd, const char *name)
{
	int n = snprintf(buf, PATH_MAX, "/proc/self/fd/%d%s%s", dirfd, *name ? "/" : "", name);

	return n < 0 || n >= PATH_MAX ? -ENAMETOOLONG : 0;
}

/*
 * The source's path is followed (it is an open file's /proc/self/fd
 * link), the destination's never (a symlink put in its place is not
 * looked through).
 */
#define UPDATE_LIST(follow, path, buf, len) \
	((follow) ? listxattr(path, buf, len) : llistxattr(path, buf, len))
#define UPDATE_GET(follow, path, name, buf, len) \
	((follow) ? getxattr(path, name, buf, len) : lgetxattr(path, name, buf, len))

/* The names of path's xattrs, malloc'ed into *names; its length, or -errno. */
static ssize_t
update_xattr_names(const char *path, bool follow, char **names)
{
	ssize_t n;

	*names = NULL;
	for (;;) {
		if ((n = UPDATE_LIST(follow, path, NULL, 0)) <= 0)
			return n < 0 && errno != ENOTSUP ? -errno : 0;
		free(*names);
		if ((*names = malloc((size_t)n)) == NULL)
			return -ENOMEM;
		if ((n = UPDATE_LIST(follow, path, *names, (size_t)n)) >= 0)
			return n;
		if (errno != ERANGE)	/* ERANGE: one was added meanwhile */
			return -errno;
	}
}

/* Whether name is in the list names[0..n). */
static bool
update_xattr_listed(const char *names, ssize_t n, const char *name)
{
	for (const char *p = names; p < names + n; p += strlen(p) + 1)
		if (strcmp(p, name) == 0)
			return true;
	return false;
}

/* The value of name at path, malloc'ed; its length, or -errno. */
static ssize_t
update_xattr_get(const char *path, bool follow, const char *name, char **val)
{
	ssize_t n;

	*val = NULL;
	if ((n = UPDATE_GET(follow, path, name, NULL, 0)) < 0)
		return -errno;
	if ((*val = malloc((size_t)n + 1)) == NULL)
		return -ENOMEM;
	if ((n = UPDATE_GET(follow, path, name, *val, (size_t)n)) < 0)
		return -errno;
	return n;
}

/*
 * dst's xattrs made src's. Not every namespace may be written by every
 * caller (trusted., security.): those the caller may not set or remove
 * are left as they are, as cp -a does. 1 when something differed.
 */
static int
update_xattrs(const char *src, bool follow_src, const char *dst, bool look_only)
{
	char	*sn, *dn = NULL, *sv = NULL, *dv = NULL;
	ssize_t	 ns, nd, sl, dl;
	int	 changed = 0, rc = 0;

	if ((ns = update_xattr_names(src, follow_src, &sn)) < 0 ||
	    (nd = update_xattr_names(dst, false, &dn)) < 0) {
		rc = ns < 0 ? (int)ns : (int)nd;
		goto out;
	}
	for (const char *p = sn; p < sn + ns; p += strlen(p) + 1) {
		free(sv);
		free(dv);
		if ((sl = update_xattr_get(src, follow_src, p, &sv)) < 0) {
			dv = NULL;
			continue;	/* gone meanwhile */
		}
		dl = update_xattr_listed(dn, nd, p) ? update_xattr_get(dst, false, p, &dv) : -ENODATA;
		if (dl == sl && memcmp(sv, dv, (size_t)sl) == 0)
			continue;
		changed = 1;
		if (!look_only && lsetxattr(dst, p, sv, (size_t)sl, 0) < 0 &&
		    errno != EPERM && errno != ENOTSUP && errno != EACCES) {
			rc = -errno;
			goto out;
		}
	}
	for (const char *p = dn; p < dn + nd; p += strlen(p) + 1) {
		if (update_xattr_listed(sn, ns, p))
			continue;
		changed = 1;
		if (!look_only && lremovexattr(dst, p) < 0 && errno != ENODATA &&
		    errno != EPERM && errno != ENOTSUP && errno != EACCES) {
			rc = -errno;
			goto out;
		}
	}
	rc = changed;
out:
	free(sn);
	free(dn);
	free(sv);
	free(dv);
	return rc;
}

int
update_refresh(const char *src, bool follow_src, const struct statx *stx, const char *dst,
    const struct statx *dst_stx, bool look_only)
{
	struct timespec	 ts[2] = {
		{ stx->stx_atime.tv_sec, stx->stx_atime.tv_nsec },
		{ stx->stx_mtime.tv_sec, stx->stx_mtime.tv_nsec },
	};
	mode_t		 mode = stx->stx_mode & 07777;
	int		 changed;

	if ((changed = update_xattrs(src, follow_src, dst, look_only)) < 0)
		return changed;
	/* Ownership first: a chown clears setuid and setgid, so the mode after. */
	if (dst_stx->stx_uid != stx->stx_uid || dst_stx->stx_gid != stx->stx_gid) {
		changed = 1;
		if (!look_only && lchown(dst, stx->stx_uid, stx->stx_gid) < 0) {
			if (errno != EPERM)
				return -errno;
			/* As cp -a: no setuid or setgid file of someone else's as the caller's. */
			(void)!lchown(dst, (uid_t)-1, stx->stx_gid);
			mode &= ~(mode_t)(S_ISUID | S_ISGID);
		}
	}
	if (S_ISLNK(stx->stx_mode))
		;	/* a symlink's mode is always 0777, and cannot be set */
	else if ((dst_stx->stx_mode & 07777) != mode || (changed && !look_only &&
	    stx->stx_mode & (S_ISUID | S_ISGID))) {
		changed = 1;
		if (!look_only && fchmodat(AT_FDCWD, dst, mode, AT_SYMLINK_NOFOLLOW) < 0)
			return -errno;
	}
	if (update_mtime_cmp(stx, dst_stx) != 0) {
		changed = 1;
		if (!look_only && utimensat(AT_FDCWD, dst, ts, AT_SYMLINK_NOFOLLOW) < 0)
			return -errno;
	}
	return changed;
}
