/*
 * cp -b: the file in the way goes to its backup name just before the
 * copy takes its name, as cp does; between the two renames the name is
 * free. A simple backup (name+suffix) replaces an older one there,
 * unless that is the source itself (cp -b a~ a), which is refused as cp
 * does. A numbered one (name.~N~) needs the directory read for the
 * highest N, and its rename does not replace (RENAME_NOREPLACE), so a
 * backup made meanwhile by someone else moves the number on instead of
 * being lost. All of it runs in a pool thread, as the caller.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "copy_int.h"
#include "engine.h"
#include "item.h"
#include "job.h"

/* The N of "name.~N~" in entry, or 0 when entry is no numbered backup of name. */
static unsigned long
copy_backup_number(const char *entry, const char *name, size_t len)
{
	unsigned long	 n;
	char		*end;

	if (strncmp(entry, name, len) != 0 || strncmp(entry + len, ".~", 2) != 0 ||
	    entry[len + 2] < '1' || entry[len + 2] > '9')
		return 0;
	errno = 0;
	n = strtoul(entry + len + 2, &end, 10);
	return errno == 0 && strcmp(end, "~") == 0 ? n : 0;
}

/* The highest N of name's numbered backups in directory dirfd, into *high (0: none). */
static int
copy_backup_highest(int dirfd, const char *name, unsigned long *high)
{
	struct dirent	*e;
	size_t		 len = strlen(name);
	DIR		*d;
	int		 fd;

	*high = 0;
	if ((fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -errno;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return -errno;
	}
	while ((e = readdir(d)) != NULL) {
		unsigned long n = copy_backup_number(e->d_name, name, len);

		if (n > *high)
			*high = n;
	}
	closedir(d);
	return 0;
}

/* name+suffix: the source itself there is not replaced by the file in the way. */
static long
copy_backup_simple(struct copy *c, int dirfd)
{
	const struct statx	*src = &c->stx;
	struct stat		 st;

	if (fstatat(dirfd, c->backup, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    st.st_ino == src->stx_ino &&
	    st.st_dev == makedev(src->stx_dev_major, src->stx_dev_minor)) {
		c->backup_is_src = true;
		return -EINVAL;
	}
	return renameat(dirfd, c->item->name, dirfd, c->backup) < 0 ? -errno : 0;
}

static long
copy_backup_run(struct eop *op)
{
	struct copy		*c = op->owner;
	const struct job_request *req = &c->job->req;
	const char		*name = c->item->name;
	unsigned long		 n = 0;
	int			 rc;

	if (req->backup != BACKUP_SIMPLE && (rc = copy_backup_highest(op->dirfd, name, &n)) < 0)
		return rc;
	for (;;) {
		bool simple = req->backup == BACKUP_SIMPLE ||
		    (req->backup == BACKUP_EXISTING && n == 0);

		free(c->backup);
		if ((simple ? asprintf(&c->backup, "%s%s", name, req->backup_suffix) :
		    asprintf(&c->backup, "%s.~%lu~", name, ++n)) < 0) {
			c->backup = NULL;
			return -ENOMEM;
		}
		if (simple)
			return copy_backup_simple(c, op->dirfd);
		if (renameat2(op->dirfd, name, op->dirfd, c->backup, RENAME_NOREPLACE) == 0)
			return 0;
		if (errno == EINVAL)	/* a file system without RENAME_NOREPLACE */
			return renameat(op->dirfd, name, op->dirfd, c->backup) < 0 ? -errno : 0;
		if (errno != EEXIST)
			return -errno;
	}
}

struct eop *
copy_backup_op(struct copy *c)
{
	struct eop *op = copy_op(c, EOP_CALL);

	op->run = copy_backup_run;
	return op;
}
