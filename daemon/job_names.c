/*
 * The names of job states, classes, reflink modes and data paths as the
 * wire protocol spells them (include/io.cpd.Manager.varlink). Apart from
 * job.c so that the fuzz harness, which stands in for the jobs, shares
 * them instead of keeping a copy that could drift.
 */
#include <errno.h>
#include <string.h>

#include "job.h"

static const char *const state_names[] = {
	"queued", "running", "paused", "done", "failed", "cancelled",
};
static const char *const prio_names[] = { "interactive", "normal", "bulk" };
static const char *const reflink_names[] = { "auto", "always", "never" };
static const char *const method_names[] = {
	"reflink", "copy_file_range", "splice", "readwrite", "links", "mapped",
};

const char *
job_state_name(enum job_state s)
{
	return state_names[s];
}

const char *
job_prio_name(enum job_prio p)
{
	return prio_names[p];
}

const char *
job_reflink_name(enum reflink_mode r)
{
	return reflink_names[r];
}

const char *
job_method_name(enum method m)
{
	return method_names[m];
}

/* The index of s in names[0..n), or -EINVAL. */
static int
job_name_index(const char *const *names, int n, const char *s)
{
	for (int i = 0; i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -EINVAL;
}

/* A state's number (enum job_state), or -EINVAL. */
int
job_state_parse(const char *s)
{
	return job_name_index(state_names, JOB_CANCELLED + 1, s);
}

int
job_reflink_parse(const char *s, enum reflink_mode *out)
{
	int i = job_name_index(reflink_names, 3, s);

	if (i < 0)
		return i;
	*out = (enum reflink_mode)i;
	return 0;
}

int
job_prio_parse(const char *s, enum job_prio *out)
{
	int i = job_name_index(prio_names, PRIO_COUNT, s);

	if (i < 0)
		return i;
	*out = (enum job_prio)i;
	return 0;
}
