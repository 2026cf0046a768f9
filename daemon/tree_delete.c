/*
 * delete (a mirror): a directory merged into one that existed loses the
 * entries its source lacks before any of its own entries is copied.
 *
 * Why before the directory's entries are copied (rsync's
 * --delete-during, a directory at a time) and not after them
 * (--delete-after): an entry of another kind in the way of a source's
 * (a file where the source has a directory, a directory or a symlink
 * where it has a file) must go before the copy of that name starts, or
 * that copy fails on it (EISDIR, ENOTDIR) or, for a symlink, writes
 * through it (copy.c follows a destination symlink, as cp does). What
 * goes first also leaves its space to what comes. Not before the whole
 * job (--delete-before): that would walk the tree twice and hold all of
 * its names. What it costs: the source directory is read twice (its
 * names here, its entries after), and one directory's names are held
 * while its pass runs. A job that fails after a pass leaves that
 * directory with less than it had, as rsync does.
 *
 * The pass runs on the pool as the caller (EOP_CALL): it lists both
 * directories, never follows a symlink (a symlink is unlinked, a
 * directory is opened with RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS and
 * emptied through its fd), and leaves alone what a filter excludes
 * (rsync's default) and the temporaries of copies in flight
 * (PATH_TEMP_PREFIX: they are their jobs' own to publish or remove).
 * What it removed is told on the loop afterwards (change_note), the
 * contents of a directory before the directory, as rsync lists them.
 * A source that cannot be read whole deletes nothing: its copy must
 * not lose entries to a failed read.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "change.h"
#include "job.h"
#include "path.h"
#include "tree_int.h"

#define TREE_DEL_BUF	(32 * 1024)	/* bytes of directory entries per read */
/* Longest path from a deleted entry's directory: as deep as path_remove_tree goes. */
#define TREE_DEL_REL_MAX	(PATH_TREE_MAX_DEPTH * (NAME_MAX + 1))

struct tree_del_gone {
	enum entry_type	 type;
	char		*rel;	/* from the directory of the pass */
};

/* A directory's delete pass: made on the loop, filled on the pool. */
struct tree_del {
	const struct filter_set	*filters;
	char			*root;		/* its path from the transfer root */
	uint64_t		*deleted;	/* the job's count (tree_job) */
	int64_t			 max;		/* max_delete; -1: no limit */
	bool			 dry_run;	/* tell, remove nothing */
	/* The source's names: [kind][name]\0 in names, a hash set of their offsets. */
	char			*names;
	size_t			 names_len, names_cap;
	size_t			*slots, nslots, nnames;
	/* What went; the first entry that would not go, and why. */
	struct tree_del_gone	*gone;
	size_t			 ngone, gone_cap;
	int			 err;
	char			*err_rel;
	char			*rel;		/* TREE_DEL_REL_MAX: the entry being looked at */
};

static size_t
tree_delete_hash(const char *s)
{
	size_t h = 14695981039346656037ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

/* The slot of name in the set: its own, or the empty one it would take. */
static size_t *
tree_delete_slot(const struct tree_del *d, const char *name)
{
	size_t i = tree_delete_hash(name) & (d->nslots - 1);

	while (d->slots[i] && strcmp(d->names + d->slots[i], name) != 0)
		i = (i + 1) & (d->nslots - 1);
	return &d->slots[i];
}

static int
tree_delete_rehash(struct tree_del *d)
{
	size_t	*old = d->slots, n = d->nslots;

	d->nslots = n ? n * 2 : 1024;
	if ((d->slots = calloc(d->nslots, sizeof(*d->slots))) == NULL) {
		d->slots = old;
		d->nslots = n;
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		if (old[i])
			*tree_delete_slot(d, d->names + old[i]) = old[i];
	free(old);
	return 0;
}

static int
tree_delete_add(struct tree_del *d, const char *name, char kind)
{
	size_t	 len = strlen(name) + 2, cap;
	char	*p;

	if ((d->nnames + 1) * 2 > d->nslots && tree_delete_rehash(d) < 0)
		return -ENOMEM;
	if (d->names_len + len > d->names_cap) {
		cap = d->names_cap ? d->names_cap * 2 : 64 * 1024;
		while (cap < d->names_len + len)
			cap *= 2;
		if ((p = realloc(d->names, cap)) == NULL)
			return -ENOMEM;
		d->names = p;
		d->names_cap = cap;
	}
	d->names[d->names_len] = kind;
	memcpy(d->names + d->names_len + 1, name, len - 1);
	/* The slot holds the name's offset: never 0, as a type byte is first. */
	*tree_delete_slot(d, name) = d->names_len + 1;
	d->names_len += len;
	d->nnames++;
	return 0;
}

/* The entry's file type (S_IFMT bits), by its d_type or, unknown, its lstat. 0 or -errno. */
static int
tree_delete_mode(int dfd, const struct linux_dirent64 *e, mode_t *mode)
{
	struct stat st;

	if (e->d_type != DT_UNKNOWN) {
		*mode = DTTOIF(e->d_type);
		return 0;
	}
	if (fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	*mode = st.st_mode & S_IFMT;
	return 0;
}

/*
 * An entry's kind, as far as a copy can replace one by another: a file
 * replaces a file or a special file by a rename, but not a directory;
 * and a copied file goes through a symlink in its way (copy.c, as cp
 * does), which a mirror must not: a symlink is replaced only by a
 * symlink.
 */
static char
tree_delete_kind(mode_t mode)
{
	return S_ISDIR(mode) ? 'd' : S_ISLNK(mode) ? 'l' : 'f';
}

/*
 * Each entry of the directory fd ("." and ".." left out) and its file
 * type to fn, until fn returns non-0 (-E2BIG, -ENOMEM: the pass stops):
 * that, or -errno of reading the directory or looking at an entry. An
 * entry gone since it was listed is left out.
 */
typedef int tree_delete_fn(struct tree_del *, int fd, const char *name, mode_t, void *arg);

static int
tree_delete_each(struct tree_del *d, int fd, tree_delete_fn *fn, void *arg)
{
	char	*buf = malloc(TREE_DEL_BUF);
	long	 len;
	int	 rc = 0;
	mode_t	 mode = 0;

	if (buf == NULL)
		return -ENOMEM;
	while (rc == 0 && (len = syscall(SYS_getdents64, fd, buf, TREE_DEL_BUF)) > 0) {
		for (long at = 0; rc == 0 && at < len; ) {
			const struct linux_dirent64 *e = (void *)(buf + at);

			at += e->d_reclen;
			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			if ((rc = tree_delete_mode(fd, e, &mode)) == 0)
				rc = fn(d, fd, e->d_name, mode, arg);
			else if (rc == -ENOENT)
				rc = 0;
		}
	}
	if (rc == 0 && len < 0)
		rc = -errno;
	free(buf);
	return rc;
}

static int
tree_delete_source(struct tree_del *d, int fd, const char *name, mode_t mode, void *arg)
{
	return tree_delete_add(d, name, tree_delete_kind(mode));
}

/* Every name of the source directory, read from its start, which it is left at. */
static int
tree_delete_sources(struct tree_del *d, int srcfd)
{
	int rc = tree_delete_each(d, srcfd, tree_delete_source, NULL);

	if (lseek(srcfd, 0, SEEK_SET) < 0 && rc == 0)
		rc = -errno;
	return rc;
}

static enum entry_type
tree_delete_type(mode_t mode)
{
	return S_ISREG(mode) ? ENTRY_FILE : S_ISDIR(mode) ? ENTRY_DIRECTORY :
	    S_ISLNK(mode) ? ENTRY_SYMLINK : ENTRY_SPECIAL;
}

/* The first entry that would not go (d->rel), and why; the pass goes on. */
static void
tree_delete_failed(struct tree_del *d, int err)
{
	if (d->err == 0) {
		d->err = err;
		d->err_rel = strdup(d->rel);
	}
}

static int
tree_delete_tell(struct tree_del *d, mode_t mode)
{
	struct tree_del_gone *g;

	if (d->ngone == d->gone_cap) {
		d->gone_cap = d->gone_cap ? d->gone_cap * 2 : 64;
		if ((g = realloc(d->gone, d->gone_cap * sizeof(*g))) == NULL)
			return -ENOMEM;
		d->gone = g;
	}
	if ((d->gone[d->ngone].rel = strdup(d->rel)) == NULL)
		return -ENOMEM;
	d->gone[d->ngone++].type = tree_delete_type(mode);
	return 0;
}

static int tree_delete_entry(struct tree_del *, int dfd, const char *name, mode_t, size_t off,
    unsigned depth);

/* Where an entry of a directory being emptied is: its path's length, its depth. */
struct tree_del_at {
	size_t		off;
	unsigned	depth;
};

static int
tree_delete_inside(struct tree_del *d, int fd, const char *name, mode_t mode, void *arg)
{
	const struct tree_del_at *at = arg;

	d->rel[at->off] = '/';
	strcpy(d->rel + at->off + 1, name);
	return tree_delete_entry(d, fd, name, mode, at->off + 1 + strlen(name), at->depth + 1);
}

/*
 * A failure of the pass: kept if it is one to go on after (the first
 * one is told), or the pass stops (-E2BIG past max_delete, -ENOMEM).
 */
static int
tree_delete_went_on(struct tree_del *d, int err)
{
	if (err == -E2BIG || err == -ENOMEM)
		return err;
	if (err < 0)
		tree_delete_failed(d, err);
	return 0;
}

/* Everything in the directory name of dfd (d->rel, off long) goes. */
static int
tree_delete_contents(struct tree_del *d, int dfd, const char *name, size_t off, unsigned depth)
{
	struct open_how		 how = { .flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC,
				    .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
				    RESOLVE_NO_MAGICLINKS };
	struct tree_del_at	 at = { off, depth };
	int			 fd, rc;

	if (depth >= PATH_TREE_MAX_DEPTH)
		return tree_delete_went_on(d, -ELOOP);
	if ((fd = (int)syscall(SYS_openat2, dfd, name, &how, sizeof(how))) < 0)
		return tree_delete_went_on(d, -errno);
	rc = tree_delete_each(d, fd, tree_delete_inside, &at);
	d->rel[off] = '\0';
	close(fd);
	return tree_delete_went_on(d, rc);
}

/*
 * The entry name of dfd (mode its lstat's; d->rel its path, off long)
 * goes, a directory with its contents first; each counts against
 * max_delete before it goes. A failure is kept and the pass goes on;
 * -E2BIG or -ENOMEM stop it.
 */
static int
tree_delete_entry(struct tree_del *d, int dfd, const char *name, mode_t mode, size_t off,
    unsigned depth)
{
	int rc;

	if (off + 2 + NAME_MAX > TREE_DEL_REL_MAX)
		return tree_delete_went_on(d, -ENAMETOOLONG);
	if (S_ISDIR(mode) && (rc = tree_delete_contents(d, dfd, name, off, depth)) < 0)
		return rc;
	if (d->max >= 0 &&
	    __atomic_fetch_add(d->deleted, 1, __ATOMIC_RELAXED) >= (uint64_t)d->max)
		return -E2BIG;
	if (!d->dry_run && unlinkat(dfd, name, S_ISDIR(mode) ? AT_REMOVEDIR : 0) < 0) {
		return tree_delete_went_on(d, errno == ENOENT ? 0 : -errno);
	}
	return tree_delete_tell(d, mode);
}

/*
 * Whether the destination's entry name (of mode) stays: one of the
 * source's of the same kind, or one the filters exclude.
 */
static bool
tree_delete_keeps(struct tree_del *d, const char *name, mode_t mode)
{
	size_t	slot = d->nslots ? *tree_delete_slot(d, name) : 0;
	size_t	off = strlen(d->root);

	if (slot && d->names[slot - 1] == tree_delete_kind(mode))
		return true;
	if (strncmp(name, PATH_TEMP_PREFIX, strlen(PATH_TEMP_PREFIX)) == 0)
		return true;
	if (d->filters == NULL)
		return false;
	/* Its path from the transfer root (the caller puts back its own rel). */
	memcpy(d->rel, d->root, off);
	if (off > 0)
		d->rel[off++] = '/';
	strcpy(d->rel + off, name);
	return filter_excluded(d->filters, d->rel, S_ISDIR(mode));
}

/* An entry of the destination directory: it goes unless it stays. */
static int
tree_delete_dest(struct tree_del *d, int fd, const char *name, mode_t mode, void *arg)
{
	if (tree_delete_keeps(d, name, mode))
		return 0;
	strcpy(d->rel, name);
	return tree_delete_entry(d, fd, name, mode, strlen(name), 0);
}

/* In a pool thread, as the caller. */
static long
tree_delete_run(struct eop *op)
{
	struct tnode	*n = op->owner;
	struct tree_del	*d = n->del;
	int		 fd, rc;

	if (d == NULL)
		return -ENOMEM;
	if ((rc = tree_delete_sources(d, n->srcfd)) < 0)
		return rc;
	/* A descriptor of its own: n->dstfd's offset is not the pass's to move. */
	if ((fd = openat(n->dstfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -errno;
	d->rel[0] = '\0';
	rc = tree_delete_each(d, fd, tree_delete_dest, NULL);
	close(fd);
	return tree_delete_went_on(d, rc);
}

struct eop *
tree_delete_op(struct tnode *n)
{
	struct job	*job = n->job;
	struct tree_del	*d = calloc(1, sizeof(*d));
	struct eop	*op = tree_op(n, EOP_CALL);

	/* rel holds an entry's path from the pass's directory, or from the root. */
	if (d && ((d->root = tree_path(n, TREE_ROOT, NULL)) == NULL ||
	    (d->rel = malloc(strlen(d->root) + TREE_DEL_REL_MAX)) == NULL)) {
		free(d->root);
		free(d);
		d = NULL;
	}
	if (d) {
		d->filters = job->tree_job->filters;
		d->deleted = &job->tree_job->deleted;
		d->max = job->req.max_delete;
		d->dry_run = job->req.dry_run;
	}
	n->del = d;
	op->run = tree_delete_run;
	return op;
}

/* On the loop: what the pass removed is told, and how it ended. */
enum tstate
tree_delete_on(struct tnode *n, int res)
{
	struct job	*job = n->job;
	struct tree_del	*d = n->del;
	char		*path;

	if (res < 0 || (d && (d->ngone > 0 || d->err)))
		n->dst_touched = true;
	for (size_t i = 0; d && i < d->ngone; i++) {
		path = job->req.itemize ? tree_path(n, TREE_REL, d->gone[i].rel) : NULL;
		change_note(job, CHANGE_DELETED, d->gone[i].type, path, NULL);
		free(path);
	}
	if (d && d->err) {
		path = tree_path(n, TREE_DST, d->err_rel);
		job_dir_failed(job, d->err, path ? path : n->name, "cannot delete '%s': %s");
		free(path);
	}
	if (res == -E2BIG)
		job_fail(job, res, "deleting more than %lld entries refused (max_delete)",
		    (long long)job->req.max_delete);
	else if (res < 0) {
		/* Its source not read whole, its copy not listed, or no memory. */
		path = tree_path(n, TREE_SRC, NULL);
		job_dir_failed(job, res, path ? path : n->name,
		    "cannot delete in the copy of '%s': %s");
		free(path);
	}
	tree_delete_free(n);
	return TS_READ;
}

void
tree_delete_free(struct tnode *n)
{
	struct tree_del *d = n->del;

	if (d == NULL)
		return;
	for (size_t i = 0; i < d->ngone; i++)
		free(d->gone[i].rel);
	free(d->gone);
	free(d->names);
	free(d->slots);
	free(d->root);
	free(d->rel);
	free(d->err_rel);
	free(d);
	n->del = NULL;
}
