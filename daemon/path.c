#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "path.h"

int
path_check(const char *path, size_t len)
{
	if (len == 0 || path[0] != '/')
		return -EINVAL;
	if (strlen(path) != len)	/* an embedded NUL from "\u0000" */
		return -EINVAL;
	if (len >= PATH_MAX)
		return -ENAMETOOLONG;
	return 0;
}

/* [*start, *end) of the last component. */
static int
path_last(const char *path, size_t *start, size_t *end)
{
	size_t e = strlen(path), s;

	while (e > 0 && path[e - 1] == '/')
		e--;
	if (e == 0)
		return -EINVAL;
	for (s = e; s > 0 && path[s - 1] != '/'; s--)
		;
	*start = s;
	*end = e;
	return 0;
}

int
path_basename(const char *path, char *out, size_t outlen)
{
	size_t	s, e;
	int	rc;

	if ((rc = path_last(path, &s, &e)) < 0)
		return rc;
	if (e - s >= outlen || e - s > NAME_MAX)
		return -ENAMETOOLONG;
	memcpy(out, path + s, e - s);
	out[e - s] = '\0';
	if (strcmp(out, ".") == 0 || strcmp(out, "..") == 0)
		return -EINVAL;
	return 0;
}

int
path_dirname(const char *path, char *out, size_t outlen)
{
	size_t	s, e;
	int	rc;

	if ((rc = path_last(path, &s, &e)) < 0)
		return rc;
	while (s > 1 && path[s - 1] == '/')
		s--;
	if (s == 0)
		return -EINVAL;		/* relative: cannot happen after path_check */
	if (s >= outlen)
		return -ENAMETOOLONG;
	memcpy(out, path, s);
	out[s] = '\0';
	return 0;
}

bool
path_is_dot(const char *path)
{
	size_t s, e;

	return path_last(path, &s, &e) == 0 && e - s == 1 && path[s] == '.';
}

bool
path_trailing_slash(const char *path)
{
	size_t len = strlen(path);

	return len > 1 && path[len - 1] == '/';
}

void
path_temp_name(char *out, size_t outlen, uint64_t job, uint64_t rnd)
{
	snprintf(out, outlen, PATH_TEMP_PREFIX "%llu.%016llx",
	    (unsigned long long)job, (unsigned long long)rnd);
}

static int
path_remove_at(int dfd, const char *name, int depth)
{
	struct dirent	*de;
	DIR		*d;
	int		 fd, err = 0;

	if (depth >= PATH_TREE_MAX_DEPTH) {
		errno = ELOOP;
		return -1;
	}
	if ((fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return -1;
	/* A copied read-only directory is still ours to empty (an archive
	 * gives it its mode after its contents); a failure shows below. */
	(void)fchmod(fd, 0700);
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		const char *n = de->d_name;

		if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0 || unlinkat(dirfd(d), n, 0) == 0)
			continue;
		if ((errno != EISDIR || path_remove_at(dirfd(d), n, depth + 1) < 0) && !err)
			err = errno;
	}
	closedir(d);
	if (unlinkat(dfd, name, AT_REMOVEDIR) < 0) {
		errno = err ? err : errno;	/* the first cause, not ENOTEMPTY */
		return -1;
	}
	return 0;
}

int
path_remove_tree(int dfd, const char *name)
{
	return path_remove_at(dfd, name, 0);
}

void
path_new_temp_name(char *out, size_t outlen, uint64_t job)
{
	uint64_t rnd;

	if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != sizeof(rnd))
		rnd = (uint64_t)random() << 32 | (uint64_t)random();
	path_temp_name(out, outlen, job, rnd);
}

/*
 * The mounts of the daemon's namespace, as its mountinfo lists them.
 * Under a lock: a small file's copy asks in a pool thread (copy_whole.c).
 */
static pthread_mutex_t mounts_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mount {
	uint64_t	id;
	dev_t		dev;
	bool		proc;
	char		*root, *point;	/* a proc mount's, as mountinfo writes them */
} *mounts;
static size_t	 nmounts;
static char	*mounts_file;	/* where they were read from */
static bool	 mounts_stale;	/* the mount table changed since (atomic) */

static void
path_mounts_free(struct mount *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(list[i].root);
		free(list[i].point);
	}
	free(list);
}

static int
path_mounts_read(const char *mountinfo)
{
	FILE		*f;
	char		*line = NULL;
	size_t		 cap = 0, n = 0;
	struct mount	*list = NULL, *m;
	int		 rc = 0;

	if (mounts_file == NULL || strcmp(mounts_file, mountinfo) != 0) {
		free(mounts_file);
		if ((mounts_file = strdup(mountinfo)) == NULL)
			return -ENOMEM;
	}
	/* Before reading: a change from now on is seen next time. */
	__atomic_store_n(&mounts_stale, false, __ATOMIC_RELAXED);
	if ((f = fopen(mountinfo, "re")) == NULL) {
		rc = -errno;
		__atomic_store_n(&mounts_stale, true, __ATOMIC_RELAXED);
		return rc;
	}
	/* "ID PARENT MAJOR:MINOR ROOT POINT OPTIONS [TAGS...] - FSTYPE ..." */
	while (getline(&line, &cap, f) > 0) {
		unsigned long long	 id;
		unsigned		 major, minor;
		const char		*sep = strstr(line, " - ");

		if (sep == NULL || sscanf(line, "%llu %*u %u:%u", &id, &major, &minor) != 3)
			continue;
		if ((m = realloc(list, (n + 1) * sizeof(*list))) == NULL) {
			rc = -ENOMEM;
			break;
		}
		list = m;
		list[n] = (struct mount){ .id = id, .dev = makedev(major, minor),
		    .proc = strncmp(sep + 3, "proc ", 5) == 0 };
		if (list[n].proc && sscanf(line, "%*u %*u %*u:%*u %ms %ms", &list[n].root,
		    &list[n].point) != 2) {
			free(list[n].root);	/* unknown: its files are judged private */
			list[n].root = NULL;
		}
		n++;
	}
	free(line);
	fclose(f);
	if (rc < 0) {
		path_mounts_free(list, n);	/* keep the list we had, to be read again */
		__atomic_store_n(&mounts_stale, true, __ATOMIC_RELAXED);
		return rc;
	}
	path_mounts_free(mounts, nmounts);
	mounts = list;
	nmounts = n;
	return 0;
}

int
path_procfs_load(const char *mountinfo)
{
	int rc;

	pthread_mutex_lock(&mounts_lock);
	rc = path_mounts_read(mountinfo);
	pthread_mutex_unlock(&mounts_lock);
	return rc;
}

/* Not under the lock: a change while the list is read is not lost (path_mounts_read). */
void
path_procfs_changed(void)
{
	__atomic_store_n(&mounts_stale, true, __ATOMIC_RELAXED);
}

static const struct mount *
path_mount(uint64_t id)
{
	for (size_t i = 0; i < nmounts; i++)
		if (mounts[i].id == id)
			return &mounts[i];
	return NULL;
}

/* Before Linux 5.8 statx tells no mount: the devices of the proc mounts. */
static bool
path_procfs_dev(dev_t dev)
{
	for (size_t i = 0; i < nmounts; i++)
		if (mounts[i].proc && mounts[i].dev == dev)
			return true;
	return false;
}

/*
 * A mount that mountinfo does not list even when read again: mountinfo
 * lists only the mounts below the daemon's root directory, and in a
 * chroot the mount that directory itself is on is not among them. A path
 * resolved from the root never reaches a mount that is not listed except
 * that one, so it is judged by its device, as on old kernels, and added
 * to the list until the list is read again (not read again for every
 * file of it). NULL without memory: not to be trusted.
 */
static const struct mount *
path_mount_unlisted(const struct statx *stx)
{
	dev_t		 dev = makedev(stx->stx_dev_major, stx->stx_dev_minor);
	struct mount	*list;

	if ((list = realloc(mounts, (nmounts + 1) * sizeof(*list))) == NULL)
		return NULL;
	mounts = list;
	mounts[nmounts] = (struct mount){ .id = stx->stx_mnt_id, .dev = dev,
	    .proc = path_procfs_dev(dev) };
	return &mounts[nmounts++];
}

static bool
path_on_procfs_locked(const struct statx *stx)
{
	const struct mount *m;

	if (mounts_file == NULL)
		return false;	/* never loaded: nothing known (unit tests) */
	if (!(stx->stx_mask & STATX_MNT_ID))
		return path_procfs_dev(makedev(stx->stx_dev_major, stx->stx_dev_minor));
	/*
	 * A mount not in the list was mounted since it was read: read it
	 * again. (A failure keeps the old list, and the answer below.)
	 */
	if (__atomic_load_n(&mounts_stale, __ATOMIC_RELAXED) ||
	    (m = path_mount(stx->stx_mnt_id)) == NULL) {
		(void)path_mounts_read(mounts_file);
		m = path_mount(stx->stx_mnt_id);
	}
	if (m == NULL)
		m = path_mount_unlisted(stx);
	return m == NULL || m->proc;
}

bool
path_on_procfs(const struct statx *stx)
{
	bool proc;

	pthread_mutex_lock(&mounts_lock);
	proc = path_on_procfs_locked(stx);
	pthread_mutex_unlock(&mounts_lock);
	return proc;
}

/*
 * Where in its proc file system the open file fd (statx stx, on a proc
 * mount) is: fd's path as the daemon sees it (/proc/self/fd/N), less
 * its mount's mount point, after the mount's root. Whether it is in a
 * process's directory: a number, self or thread-self first. What
 * cannot be told (no mount id, a mount not listed, a path that does
 * not start where the mount is) counts as private.
 */
bool
path_procfs_private(int fd, const struct statx *stx)
{
	char		 link[32], path[PATH_MAX], inner[PATH_MAX];
	const char	*rest, *first;
	size_t		 plen, flen;
	ssize_t		 n;
	const struct mount *m;
	bool		 known = false;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	if (!(stx->stx_mask & STATX_MNT_ID) || (n = readlink(link, path, sizeof(path) - 1)) <= 0)
		return true;
	path[n] = '\0';
	pthread_mutex_lock(&mounts_lock);
	if ((m = path_mount(stx->stx_mnt_id)) != NULL && m->proc && m->root && m->point) {
		plen = strcmp(m->point, "/") == 0 ? 0 : strlen(m->point);
		rest = path + plen;
		known = strncmp(path, m->point, plen) == 0 && (*rest == '/' || *rest == '\0') &&
		    snprintf(inner, sizeof(inner), "%s%s", strcmp(m->root, "/") == 0 ? "" :
		    m->root, rest) < (int)sizeof(inner);
	}
	pthread_mutex_unlock(&mounts_lock);
	if (!known)
		return true;
	first = inner + strspn(inner, "/");
	flen = strcspn(first, "/");
	return (flen > 0 && strspn(first, "0123456789") == flen) ||
	    (flen == 4 && strncmp(first, "self", 4) == 0) ||
	    (flen == 11 && strncmp(first, "thread-self", 11) == 0);
}

void
path_procfs_free(void)
{
	pthread_mutex_lock(&mounts_lock);
	path_mounts_free(mounts, nmounts);
	mounts = NULL;
	nmounts = 0;
	free(mounts_file);
	mounts_file = NULL;
	pthread_mutex_unlock(&mounts_lock);
}

/* The next component of *p (slashes skipped): its length, *p at its start. */
static size_t
path_component(const char **p)
{
	*p += strspn(*p, "/");
	return strcspn(*p, "/");
}

int
path_relative(const char *dir, const char *to, char *out, size_t outlen)
{
	const char	*d = dir, *t = to;
	size_t		 dl, tl, len = 0;

	if (dir[0] != '/' || to[0] != '/')
		return -EINVAL;
	/* The components both begin with. */
	for (;;) {
		const char *d2 = d, *t2 = t;

		dl = path_component(&d2);
		tl = path_component(&t2);
		if (dl == 0 || dl != tl || strncmp(d2, t2, dl) != 0)
			break;
		d = d2 + dl;
		t = t2 + tl;
	}
	out[0] = '\0';
	/* Up from what is left of dir, then down to what is left of to. */
	while ((dl = path_component(&d)) > 0) {
		if (len + 3 >= outlen)
			return -ENAMETOOLONG;
		memcpy(out + len, "../", 4);
		len += 3;
		d += dl;
	}
	t += strspn(t, "/");
	if (len + strlen(t) >= outlen)
		return -ENAMETOOLONG;
	strcpy(out + len, t);
	len += strlen(t);
	if (len == 0 && outlen < 2)
		return -ENAMETOOLONG;
	if (len == 0)		/* to is dir itself */
		strcpy(out, ".");
	else if (out[len - 1] == '/')	/* above it: "../.." */
		out[len - 1] = '\0';
	return 0;
}

char *
path_join(const char *dir, const char *name)
{
	size_t	 dlen = strlen(dir);
	char	*p;

	while (dlen > 1 && dir[dlen - 1] == '/')
		dlen--;
	return asprintf(&p, "%.*s/%s", (int)dlen, dir, name) < 0 ? NULL : p;
}
