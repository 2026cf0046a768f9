#ifndef CPD_ITEM_H
#define CPD_ITEM_H

#include <stdbool.h>

struct job;
struct tnode;

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
	/*
	 * The file system it is on, as far as known: its directory's (a
	 * file is on it but for a bind mount), or on top the source's as
	 * the scan saw it; 0 if not seen. The pool's shares go by it.
	 */
	unsigned	 dev_major, dev_minor;
	char		 name[];	/* the name in the destination directory */
};

struct item *item_new(struct tnode *parent, const char *src, const char *name,
	    unsigned char dtype);
int	item_srcdir(const struct item *);
int	item_dstdir(const struct job *, const struct item *);
/* Full paths for messages, and the destination relative to the job's directory. */
char	*item_srcpath(const struct item *);
char	*item_dstpath(const struct job *, const struct item *);
char	*item_rel(const struct item *);
/* The same by the names it will have once in place (for what the job reports). */
char	*item_final_rel(const struct item *);
/* The path of name in the item's destination directory, from the job's. */
char	*item_rel_beside(const struct item *, const char *name);

/* Whether the item is made inside a new directory not yet in place. */
bool	item_hidden(const struct item *);

#endif
