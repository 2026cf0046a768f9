#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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

static dev_t	*procfs_devs;
static size_t	 nprocfs;

int
path_procfs_load(const char *mountinfo)
{
	FILE	*f;
	char	*line = NULL;
	size_t	 cap = 0, n = 0;
	dev_t	*devs = NULL, *d;
	int	 rc = 0;

	if ((f = fopen(mountinfo, "re")) == NULL)
		return -errno;
	/* "ID PARENT MAJOR:MINOR ROOT POINT OPTIONS [TAGS...] - FSTYPE ..." */
	while (getline(&line, &cap, f) > 0) {
		unsigned	 major, minor;
		const char	*sep = strstr(line, " - ");

		if (sep == NULL || strncmp(sep + 3, "proc ", 5) != 0 ||
		    sscanf(line, "%*u %*u %u:%u", &major, &minor) != 2)
			continue;
		if ((d = realloc(devs, (n + 1) * sizeof(*devs))) == NULL) {
			rc = -ENOMEM;
			break;
		}
		devs = d;
		devs[n++] = makedev(major, minor);
	}
	free(line);
	fclose(f);
	if (rc < 0) {
		free(devs);	/* keep the list we had */
		return rc;
	}
	free(procfs_devs);
	procfs_devs = devs;
	nprocfs = n;
	return 0;
}

bool
path_on_procfs(unsigned major, unsigned minor)
{
	dev_t dev = makedev(major, minor);

	for (size_t i = 0; i < nprocfs; i++)
		if (procfs_devs[i] == dev)
			return true;
	return false;
}

void
path_procfs_free(void)
{
	free(procfs_devs);
	procfs_devs = NULL;
	nprocfs = 0;
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
