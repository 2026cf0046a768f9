/*
 * An archive job's table of hard links (see hlink.h), hashed by inode.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "copy_int.h"
#include "hlink.h"
#include "job.h"

#define HLINK_BUCKETS		256

struct hlink *
hlink_get(struct copy_job *cj, const struct statx *stx, bool *created)
{
	dev_t		 dev = makedev(stx->stx_dev_major, stx->stx_dev_minor);
	struct hlink	*h, **b;

	*created = false;
	if (cj->hlinks == NULL &&
	    (cj->hlinks = calloc(HLINK_BUCKETS, sizeof(*cj->hlinks))) == NULL)
		return NULL;
	b = &cj->hlinks[(stx->stx_ino ^ dev) % HLINK_BUCKETS];
	for (h = *b; h; h = h->next)
		if (h->ino == stx->stx_ino && h->dev == dev)
			return h;
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	h->dev = dev;
	h->ino = stx->stx_ino;
	h->next = *b;
	*b = h;
	*created = true;
	return h;
}

void
hlink_free_all(struct copy_job *cj)
{
	if (cj->hlinks == NULL)
		return;
	for (int i = 0; i < HLINK_BUCKETS; i++)
		while (cj->hlinks[i]) {
			struct hlink *h = cj->hlinks[i];
			cj->hlinks[i] = h->next;
			free(h->rel);
			free(h);
		}
	free(cj->hlinks);
	cj->hlinks = NULL;
}

void
hlink_moved(struct job *job, const char *from, const char *to)
{
	size_t	flen = strlen(from);
	char	*rel;

	if (job->copy == NULL || job->copy->hlinks == NULL)
		return;
	for (int i = 0; i < HLINK_BUCKETS; i++)
		for (struct hlink *h = job->copy->hlinks[i]; h; h = h->next) {
			if (h->rel == NULL || strncmp(h->rel, from, flen) != 0 ||
			    h->rel[flen] != '/' ||
			    asprintf(&rel, "%s%s", to, h->rel + flen) < 0)
				continue;
			free(h->rel);
			h->rel = rel;
		}
}
