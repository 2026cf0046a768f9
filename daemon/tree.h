#ifndef CPD_TREE_H
#define CPD_TREE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "engine.h"

struct job;

/*
 * A job's state of tree.c (job->tree_job): its directories in flight.
 * Made with the job's first directory; tree_job_free() when the job ends.
 */
struct tree_job;

/*
 * One thing for a job to copy: a source given in the request (parent
 * NULL; src is its absolute path) or an entry of a directory being copied
 * (src is name, relative to the parent's source directory). Directories
 * go to tree.c, everything else to copy.c.
 */
struct item {
	struct item	*next;		/* in the job's stack */
	struct tnode	*parent;
	const char	*src;
	unsigned char	 dtype;		/* DT_* from the directory; DT_UNKNOWN on top */
	char		 name[];	/* the name in the destination directory */
};

/* A directory being copied. */
struct tnode {
	struct job	*job;
	struct tnode	*parent;
	struct tnode	*next_reader;	/* in the job's list of readers (tree_kick) */
	char		*srcpath, *dstpath;	/* for messages */
	char		*rel;		/* destination, relative to the job's directory */
	const char	*src;		/* for opening: as in the item */
	char		*name;
	int		 srcfd, dstfd;
	struct statx	 stx, dstx;
	uint64_t	 root_dev, root_ino;	/* the tree's top destination directory */
	unsigned	 children;	/* entries queued or in progress */
	unsigned	 state;
	bool		 existed;	/* merged into an existing directory */
	/*
	 * A new directory is made under a temporary name (tmpname, staged)
	 * and renamed into place when everything in it is in; what is made
	 * inside it (hidden) needs no temporary name of its own.
	 */
	bool		 staged, hidden;
	char		 tmpname[64];
	int		 end_err;	/* kept while it is renamed into place */
	char		*end_msg;
	bool		 eof, reading;
	char		*buf;		/* directory entries read, not yet queued */
	struct eop	 op;
};

struct item *item_new(struct tnode *parent, const char *src, const char *name,
	    unsigned char dtype);
int	item_srcdir(const struct item *);
int	item_dstdir(const struct job *, const struct item *);
/* Full paths for messages, and the destination relative to the job's directory. */
char	*item_srcpath(const struct item *);
char	*item_dstpath(const struct job *, const struct item *);
char	*item_rel(const struct item *);

/* Copy a directory item (its lstat in stx when known). Takes the item. */
void	tree_start(struct job *, struct item *);
/* An entry of node ended (copied, failed or dropped). */
void	tree_child_done(struct tnode *);
/* The job has room for more entries: let a directory read on. */
void	tree_kick(struct job *);
/* Directories of the job being copied. */
unsigned tree_nodes(const struct job *);
void	tree_job_free(struct job *);
/* Whether the item is made inside a new directory not yet in place. */
bool	item_hidden(const struct item *);

#endif
