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
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "update.h"

static int
update_ts_cmp(const struct statx_timestamp *a, const struct statx_timestamp *b)
{
	if (a->tv_sec != b->tv_sec)
		return a->tv_sec < b->tv_sec ? -1 : 1;
	if (a->tv_nsec != b->tv_nsec)
		return a->tv_nsec < b->tv_nsec ? -1 : 1;
	return 0;
}

bool
update_xattrs_may_differ(const struct statx *src, const struct statx *dst)
{
	return update_ts_cmp(&src->stx_ctime, &dst->stx_ctime) > 0;
}

int
update_mtime_cmp(const struct statx *a, const struct statx *b)
{
	return update_ts_cmp(&a->stx_mtime, &b->stx_mtime);
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
update_resumed_keeps(const struct statx *src, const struct statx *dst, bool archive,
    uint64_t since_usec)
{
	struct statx_timestamp since = { .tv_sec = (int64_t)(since_usec / 1000000),
	    .tv_nsec = (uint32_t)(since_usec % 1000000) * 1000 };

	if (dst->stx_size != src->stx_size)
		return false;
	return archive ? update_mtime_cmp(dst, src) == 0 : update_ts_cmp(&dst->stx_mtime, &since) >= 0;
}

bool
update_refreshes(enum update_mode mode)
{
	return mode == UPDATE_QUICK || mode == UPDATE_CHECKSUM;
}

/*
 * The xattr calls take paths; an open file or a name in a directory is
 * reached through /proc/self/fd. Only listing, which every kept file
 * needs, is worth its own call: listxattrat(2) (Linux 6.13) resolves the
 * name from the directory at once, where the /proc path costs a walk
 * through proc and its checks (most of a re-run's time went there).
 */
#ifndef SYS_listxattrat
#define SYS_listxattrat	465	/* the same on every architecture */
#endif

static bool update_no_listxattrat;	/* the kernel has none: ENOSYS once */

struct update_path {
	char	path[PATH_MAX];
	bool	follow;
};

static int
update_path(const struct update_file *f, struct update_path *p)
{
	int n = snprintf(p->path, sizeof(p->path), "/proc/self/fd/%d%s%s", f->dirfd,
	    *f->name ? "/" : "", f->name);

	p->follow = !(f->flags & AT_SYMLINK_NOFOLLOW) || *f->name == '\0';
	return n < 0 || (size_t)n >= sizeof(p->path) ? -ENAMETOOLONG : 0;
}

static ssize_t
update_listxattr(const struct update_file *f, const struct update_path *p, char *buf, size_t len)
{
	ssize_t n;

	if (!update_no_listxattrat) {
		n = syscall(SYS_listxattrat, f->dirfd, f->name, (unsigned)f->flags, buf, len);
		if (n >= 0 || errno != ENOSYS)
			return n;
		update_no_listxattrat = true;
	}
	return p->follow ? listxattr(p->path, buf, len) : llistxattr(p->path, buf, len);
}

#define UPDATE_GET(p, name, buf, len) \
	((p)->follow ? getxattr((p)->path, name, buf, len) : lgetxattr((p)->path, name, buf, len))

/* The names of f's xattrs, malloc'ed into *names; its length, or -errno. */
static ssize_t
update_xattr_names(const struct update_file *f, const struct update_path *p, char **names)
{
	ssize_t n;

	*names = NULL;
	for (;;) {
		if ((n = update_listxattr(f, p, NULL, 0)) <= 0)
			return n < 0 && errno != ENOTSUP ? -errno : 0;
		free(*names);
		if ((*names = malloc((size_t)n)) == NULL)
			return -ENOMEM;
		if ((n = update_listxattr(f, p, *names, (size_t)n)) >= 0)
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

/* The value of name at p, malloc'ed; its length, or -errno. */
static ssize_t
update_xattr_get(const struct update_path *p, const char *name, char **val)
{
	ssize_t n;

	*val = NULL;
	if ((n = UPDATE_GET(p, name, NULL, 0)) < 0)
		return -errno;
	if ((*val = malloc((size_t)n + 1)) == NULL)
		return -ENOMEM;
	if ((n = UPDATE_GET(p, name, *val, (size_t)n)) < 0)
		return -errno;
	return n;
}

/*
 * dst's xattrs made src's. Not every namespace may be written by every
 * caller (trusted., security.): those the caller may not set or remove
 * are left as they are, as cp -a does. 1 when something differed.
 */
static int
update_xattrs(const struct update_file *src, const struct update_file *dst, bool look_only)
{
	struct update_path	 sp, dp;
	char			*sn = NULL, *dn = NULL, *sv = NULL, *dv = NULL;
	ssize_t			 ns, nd, sl, dl;
	int			 changed = 0, rc;

	if ((rc = update_path(src, &sp)) < 0 || (rc = update_path(dst, &dp)) < 0)
		return rc;
	if ((ns = update_xattr_names(src, &sp, &sn)) < 0 ||
	    (nd = update_xattr_names(dst, &dp, &dn)) < 0) {
		rc = ns < 0 ? (int)ns : (int)nd;
		goto out;
	}
	for (const char *p = sn; p < sn + ns; p += strlen(p) + 1) {
		free(sv);
		free(dv);
		dv = NULL;
		if ((sl = update_xattr_get(&sp, p, &sv)) < 0)
			continue;	/* gone meanwhile */
		dl = update_xattr_listed(dn, nd, p) ? update_xattr_get(&dp, p, &dv) : -ENODATA;
		if (dl == sl && memcmp(sv, dv, (size_t)sl) == 0)
			continue;
		changed = 1;
		if (!look_only && lsetxattr(dp.path, p, sv, (size_t)sl, 0) < 0 &&
		    errno != EPERM && errno != ENOTSUP && errno != EACCES) {
			rc = -errno;
			goto out;
		}
	}
	for (const char *p = dn; p < dn + nd; p += strlen(p) + 1) {
		if (update_xattr_listed(sn, ns, p))
			continue;
		changed = 1;
		if (!look_only && lremovexattr(dp.path, p) < 0 && errno != ENODATA &&
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
update_xattrs_differ(const struct update_file *a, const struct update_file *b)
{
	return update_xattrs(a, b, true);
}

int
update_refresh(const struct update_file *src, const struct statx *stx,
    const struct update_file *dst, const struct statx *dst_stx, bool look_only)
{
	struct timespec	 ts[2] = {
		{ stx->stx_atime.tv_sec, stx->stx_atime.tv_nsec },
		{ stx->stx_mtime.tv_sec, stx->stx_mtime.tv_nsec },
	};
	mode_t		 mode = stx->stx_mode & 07777;
	int		 changed = 0;

	/* Listing both sides' xattrs doubled the system calls of a re-run over an up-to-date tree. */
	if (update_xattrs_may_differ(stx, dst_stx) &&
	    (changed = update_xattrs(src, dst, look_only)) < 0)
		return changed;
	/* Ownership first: a chown clears setuid and setgid, so the mode after. */
	if (dst_stx->stx_uid != stx->stx_uid || dst_stx->stx_gid != stx->stx_gid) {
		changed = 1;
		if (!look_only && fchownat(dst->dirfd, dst->name, stx->stx_uid, stx->stx_gid,
		    dst->flags) < 0) {
			if (errno != EPERM)
				return -errno;
			/* As cp -a: no setuid or setgid file of someone else's as the caller's. */
			(void)!fchownat(dst->dirfd, dst->name, (uid_t)-1, stx->stx_gid, dst->flags);
			mode &= ~(mode_t)(S_ISUID | S_ISGID);
		}
	}
	if (S_ISLNK(stx->stx_mode))
		;	/* a symlink's mode is always 0777, and cannot be set */
	else if ((dst_stx->stx_mode & 07777) != mode || (changed && !look_only &&
	    stx->stx_mode & (S_ISUID | S_ISGID))) {
		changed = 1;
		if (!look_only && fchmodat(dst->dirfd, dst->name, mode, dst->flags) < 0)
			return -errno;
	}
	if (update_mtime_cmp(stx, dst_stx) != 0) {
		changed = 1;
		if (!look_only && utimensat(dst->dirfd, dst->name, ts, dst->flags) < 0)
			return -errno;
	}
	return changed;
}
