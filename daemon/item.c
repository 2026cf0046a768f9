/*
 * The items of a job: what is to be copied, a source of the request or
 * an entry of a directory being copied, and the paths it goes by. The
 * job keeps them on a stack (job.c); copy.c and tree.c copy them.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "item.h"
#include "job.h"
#include "path.h"
#include "tree.h"

struct item *
item_new(struct tnode *parent, const char *src, const char *name, unsigned char dtype)
{
	size_t		 len = strlen(name) + 1;
	struct item	*it = malloc(sizeof(*it) + len);

	if (it == NULL)
		return NULL;
	it->next = NULL;
	it->parent = parent;
	memcpy(it->name, name, len);
	it->src = parent ? it->name : src;
	it->dtype = dtype;
	it->dev_major = parent ? parent->stx.stx_dev_major : 0;
	it->dev_minor = parent ? parent->stx.stx_dev_minor : 0;
	return it;
}

int
item_srcdir(const struct item *it)
{
	return it->parent ? it->parent->srcfd : AT_FDCWD;
}

int
item_dstdir(const struct job *job, const struct item *it)
{
	return it->parent ? it->parent->dstfd : job->dirfd;
}


char *
item_srcpath(const struct item *it)
{
	return it->parent ? tree_path(it->parent, TREE_SRC, it->name) : strdup(it->src);
}

char *
item_dstpath(const struct job *job, const struct item *it)
{
	if (it->parent)
		return tree_path(it->parent, TREE_DST, it->name);
	if (!job->into_dir)
		return strdup(job->req.destination);
	return path_join(job->req.destination, it->name);
}

char *
item_rel(const struct item *it)
{
	return item_rel_beside(it, it->name);
}

char *
item_final_rel(const struct item *it)
{
	return it->parent ? tree_path(it->parent, TREE_FINAL, it->name) : strdup(it->name);
}

char *
item_rel_beside(const struct item *it, const char *name)
{
	return it->parent ? tree_path(it->parent, TREE_REL, name) : strdup(name);
}

bool
item_hidden(const struct item *it)
{
	return it->parent && it->parent->hidden && !it->parent->adopted;
}
