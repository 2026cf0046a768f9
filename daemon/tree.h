#ifndef CPD_TREE_H
#define CPD_TREE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "engine.h"
#include "fdshare.h"
#include "item.h"

struct job;
struct tree_del;

/*
 * A job's state of tree.c (job->tree_job): its directories in flight.
 * Made with the job's first directory; tree_job_free() when the job ends.
 */
struct tree_job;

/* A directory being copied. */
struct tnode {
	struct job	*job;
	struct tnode	*parent;
	struct tnode	*next_reader;	/* in the job's list of readers (tree_kick) */
	struct tnode	*next_waiting;	/* in the job's list waiting for fds */
	struct fdshare_waiter wait;	/* for its fds, from its user's share */
	bool		 fds_held;	/* counted against the user's share */
	/*
	 * Its fds closed while nothing in flight uses them (tree_window.c):
	 * reopened by its last subdirectory to end, or by its names to read
	 * on (from read_at) or to start an entry.
	 */
	bool		 parked;
	/*
	 * More than TREE_WINDOW levels above a directory set up, with
	 * subdirectories under way: it parks as soon as nothing uses its fds.
	 */
	bool		 far;
	bool		 reopening;	/* parked, and being reopened by its names */
	bool		 reopen_reads;	/* ...to read on */
	bool		 read_waits;	/* on the job's list of readers (reading is set too) */
	int64_t		 read_at;	/* parked before its last entry was read: where it was */
	unsigned	 pinned;	/* its subdirectories that use its fds */
	unsigned	 queued;	/* its entries on the job's stack, not yet started */
	int		 lift_fd[2];	/* reopened: source, destination */
	/*
	 * Paths are built from the names when asked for (tree_path): only
	 * the top directory keeps its destination's path, for messages.
	 */
	char		*dstpath;
	const char	*src;		/* for opening: as in the item */
	char		*name;
	int		 srcfd, dstfd;
	struct statx	 stx, dstx;
	uint64_t	 root_dev, root_ino;	/* the tree's top destination directory */
	unsigned	 children;	/* entries queued or in progress */
	unsigned	 dirs_open;	/* its subdirectories started, not yet ended */
	unsigned	 state;
	bool		 existed;	/* merged into an existing directory */
	bool		 dst_touched;	/* the job made or removed an entry in the copy */
	/*
	 * The top directory's contents are the transfer root (cp's SRC/.),
	 * so its name is not the first of its entries' paths from it, as it
	 * is for a plain SRC (rsync's "rsync -r SRC DST").
	 */
	bool		 contents_root;
	struct tree_del	*del;		/* its delete pass in flight (tree_delete.c) */
	struct tree_ahead *ahead;	/* its set-up's steps run at once (tree_ahead.c) */
	/*
	 * A new directory is made under a temporary name (tmpname, staged)
	 * and renamed into place when everything in it is in; what is made
	 * inside it (hidden) needs no temporary name of its own.
	 */
	bool		 staged, hidden;
	/*
	 * Staged by the job's run before a crash, and merged into by this
	 * one (tree_adopt): what is in it was made, not published, so it
	 * is looked at as in an existing directory.
	 */
	bool		 adopted;
	bool		 moved;		/* staged, and renamed into place since */
	bool		 into_itself;	/* staged, and found inside its source: it goes */
	bool		 phantom;	/* dry_run: it would be made; it has no destination */
	char		 tmpname[64];
	int		 end_err;	/* kept while it is renamed into place */
	char		*end_msg;
	bool		 eof, reading;
	char		*buf;		/* directory entries read, not yet queued */
	struct eop	 op;
};

/* A directory entry as getdents64(2) gives it. */
struct linux_dirent64 {
	uint64_t	d_ino;
	int64_t		d_off;
	unsigned short	d_reclen;
	unsigned char	d_type;
	char		d_name[];
};

/*
 * tree_quick.c: an up-to-date file of a merged directory kept (and
 * refreshed) in the pool thread that reads its entries, never an item.
 */
bool	tree_quick_applies(const struct tnode *);
/* EOP_CALL: getdents64, then each kept regular file's d_type marked (off: checksum's size limit). */
long	tree_quick_read_run(struct eop *);
/* On the loop: a marked entry counted and reported; false for the others. */
bool	tree_quick_entry(struct tnode *, const struct linux_dirent64 *);
/* Whether a merged directory's copy has all the attributes its finish would give it. */
bool	tree_quick_meta_current(const struct tnode *);

enum tree_path {
	TREE_SRC,	/* the source's path */
	TREE_DST,	/* the destination's path, by the names it will have */
	TREE_REL,	/* from the job's directory, by the names it has now */
	TREE_ROOT,	/* from the transfer root, as filters see it (filter.h) */
	TREE_FINAL,	/* from the job's directory, by the names it will have */
};
/* A path of n, with "/leaf" if leaf is not NULL: malloc'ed, NULL without memory. */
char	*tree_path(const struct tnode *n, enum tree_path, const char *leaf);
/*
 * Whether the job's filters exclude the entry name of n, of type dtype
 * (DT_*: an entry of unknown type is taken for a file): 1 or 0, or
 * -ENOMEM. Also in a pool thread: it reads only what does not change.
 */
int	tree_path_excluded(const struct tnode *n, const char *name, unsigned char dtype);

/* Copy a directory item (its lstat in stx when known). Takes the item. */
void	tree_start(struct job *, struct item *);
/* An entry of node ended (copied, failed or dropped). */
void	tree_child_done(struct tnode *);
/* The item leaves the job's stack: started, or dropped. */
void	tree_taken(struct item *);
/*
 * Whether the job may start the item now: a directory waits while its
 * parent has TREE_DIRS_PER_PARENT subdirectories under way, and any
 * entry while its directory's fds are closed (they are reopened then).
 */
bool	tree_may_start(const struct job *, const struct item *);
/* The job has room for more entries: let a directory read on. */
void	tree_kick(struct job *);
/* Directories of the job being copied. */
unsigned tree_nodes(const struct job *);
void	tree_job_free(struct job *);

#endif
