/*
 * The paths of a tree copy's directories, built from their names when
 * they are asked for (a message, a hard link's destination, a filter). A
 * directory keeps only its own name: a path kept in each would cost
 * memory of the square of the tree's depth (90 MB for 2,600 levels).
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "job.h"
#include "tree_int.h"

const char *
tree_path_name(const struct tnode *n, enum tree_path which)
{
	/* Made under a temporary name and not yet renamed into place. */
	if (which == TREE_REL && n->staged && !n->moved)
		return n->tmpname;
	return n->name;
}

char *
tree_path(const struct tnode *n, enum tree_path which, const char *leaf)
{
	const struct tnode	*t;
	const char		*base, *name, *end;
	size_t			 len = leaf ? strlen(leaf) + 1 : 0, blen, off, nlen;
	char			*p;

	for (t = n; t->parent; t = t->parent)
		len += strlen(tree_path_name(t, which)) + 1;
	base = which == TREE_SRC || which == TREE_ROOT ? t->src :
	    which == TREE_DST ? t->dstpath : tree_path_name(t, which);
	blen = strlen(base);
	/* As path_join(): "dir/" and "dir" give the same path. */
	while (blen > 1 && base[blen - 1] == '/')
		blen--;
	if (which == TREE_ROOT) {
		/* The source's last name, or nothing when its contents are the root. */
		if (t->contents_root)
			blen = 0;
		for (end = base + blen; blen > 0 && base[blen - 1] != '/'; blen--)
			;
		base += blen;
		blen = (size_t)(end - base);
	}
	len += blen;
	if ((p = malloc(len + 1)) == NULL)
		return NULL;
	off = len;
	p[off] = '\0';
	for (t = n, name = leaf; ; name = tree_path_name(t, which), t = t->parent) {
		if (name) {
			nlen = strlen(name);
			off -= nlen;
			memcpy(p + off, name, nlen);
			p[--off] = '/';
		}
		if (t->parent == NULL)
			break;
	}
	memcpy(p, base, blen);
	if (blen == 0 && len > 0)	/* no "/" before the first name */
		memmove(p, p + 1, len);
	return p;
}

int
tree_path_excluded(const struct tnode *n, const char *name, unsigned char dtype)
{
	const struct filter_set	*set = n->job->tree_job->filters;
	char			*rel;
	bool			 ex;

	if (set == NULL)
		return 0;
	if ((rel = tree_path(n, TREE_ROOT, name)) == NULL)
		return -ENOMEM;
	ex = filter_excluded(set, rel, dtype == DT_DIR);
	free(rel);
	return ex;
}
