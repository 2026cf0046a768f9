/*
 * Shares of workers per user and per disk read (share.h).
 */
#include <stddef.h>

#include "cred.h"
#include "engine.h"
#include "share.h"

/* Where key's count is in the set: set->n if it is not. */
static unsigned
share_find(const struct share_set *set, uint64_t key)
{
	unsigned i;

	for (i = 0; i < set->n && set->r[i].key != key; i++)
		;
	return i;
}

static unsigned
share_running(const struct share_set *set, uint64_t key)
{
	unsigned i = share_find(set, key);

	return i < set->n ? set->r[i].n : 0;
}

unsigned
share_user(unsigned workers)
{
	unsigned share = (workers + 1) / 2;

	return workers > 1 && share >= workers ? workers - 1 : share ? share : 1;
}

unsigned
share_dev(unsigned workers)
{
	return workers > 1 ? workers - 1 : 1;
}

bool
share_within(const struct shares *s, const struct eop *op, unsigned workers)
{
	if (op->cred && share_running(&s->users, op->cred->uid) >= share_user(workers))
		return false;
	return !(op->dev && share_running(&s->devs, op->dev) >= share_dev(workers));
}

/* Counted, or uncounted; false: not counted (no room at its start). */
static bool
share_set_count(struct share_set *set, uint64_t key, bool start)
{
	unsigned i = share_find(set, key);

	if (!start) {
		if (--set->r[i].n == 0)
			set->r[i] = set->r[--set->n];
		return true;
	}
	if (i == set->n) {
		if (set->n == SHARE_KEYS)
			return false;	/* more at once than that: no share to keep */
		set->r[set->n++] = (struct share_running){ .key = key };
	}
	set->r[i].n++;
	return true;
}

void
share_count(struct shares *s, struct eop *op, bool start)
{
	if (start)
		op->shared = (op->cred && share_set_count(&s->users, op->cred->uid, true) ?
		    SHARED_USER : 0) |
		    (op->dev && share_set_count(&s->devs, op->dev, true) ? SHARED_DEV : 0);
	else {
		if (op->shared & SHARED_USER)
			share_set_count(&s->users, op->cred->uid, false);
		if (op->shared & SHARED_DEV)
			share_set_count(&s->devs, op->dev, false);
		op->shared = 0;
	}
}
