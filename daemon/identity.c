/*
 * Whether a job's owner is still who submitted it. A job runs with the
 * credentials its caller's socket had at connect time (cred.c), and it
 * may run long after: paused for days, or restored from the journal.
 * A user removed from a group meanwhile must not read that group's
 * files through a job made before, and a uid given to someone else must
 * not inherit the old owner's jobs. So the owner is looked up in the
 * user database when the job is submitted (identity_note: its name is
 * kept in the job's record), and again before the job starts, when it
 * is resumed, and when it is restored after a restart: the uid must
 * still have that name, and every group the job runs with (its gid and
 * supplementary groups) must still be the user's, by getgrouplist().
 * Otherwise the job fails. A job that starts while the first lookup is
 * under way takes its verdict.
 *
 * A uid the database does not know when the job is submitted (a
 * container's, chroot --userspec's) runs with the groups the kernel gave
 * its caller: no database grants or revokes them. It is recorded as
 * nameless, and from then on the uid must stay so: given to a user
 * later, its jobs fail. Looked up only later (a restored job of an older
 * daemon), a uid without a name fails as one removed.
 *
 * A group the database never granted (a setgid program's, a service's
 * SupplementaryGroups=) counts as changed too: the daemon cannot tell it
 * from one revoked. Jobs of root, and of an unprivileged daemon's own
 * user, are not checked: they run as the daemon itself.
 *
 * The lookup can go to the network (NSS: LDAP, sssd), so it runs in a
 * pool thread, never on the loop; meanwhile the job starts nothing new.
 */
#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cred.h"
#include "job_internal.h"

#define IDENTITY_MAX_GROUPS	65536	/* as many as the kernel allows */

struct identity_check {
	struct eop	 op;
	struct job	*job;
	void		(*then)(struct job *);
	uid_t		 uid;
	gid_t		 gid;
	int		 ngroups;
	gid_t		*groups;	/* the job's: a copy, the pool thread reads it */
	char		*name;		/* the owner's when submitted ("": none), or NULL */
	bool		 at_submit;	/* identity_note's: a uid without a name is recorded so */
	/* The verdict: empty, or why the job fails; the name found. */
	char		 why[256];
	char		 found[256];
};

/* Whether gid is in the n groups of set. */
static bool
identity_has(const gid_t *set, int n, gid_t gid)
{
	for (int i = 0; i < n; i++)
		if (set[i] == gid)
			return true;
	return false;
}

/* The verdict for a group the user no longer has: by name, if it has one. */
static void
identity_lost(struct identity_check *c, const char *user, gid_t g)
{
	struct group	 gr, *res = NULL;
	char		 buf[4096];

	if (getgrgid_r(g, &gr, buf, sizeof(buf), &res) == 0 && res)
		snprintf(c->why, sizeof(c->why), "the owner's groups changed since the job was "
		    "submitted: '%s' is no longer in group '%s' (%u)", user, gr.gr_name,
		    (unsigned)g);
	else
		snprintf(c->why, sizeof(c->why), "the owner's groups changed since the job was "
		    "submitted: '%s' is no longer in group %u", user, (unsigned)g);
}

/* The user database's word on the owner, in a pool thread, as the daemon. */
static long
identity_run(struct eop *op)
{
	struct identity_check	*c = (struct identity_check *)op;
	struct passwd		 pw, *res = NULL;
	char			 buf[16384];
	gid_t			*db;
	int			 n = 64, rc;

	if ((rc = getpwuid_r(c->uid, &pw, buf, sizeof(buf), &res)) != 0)
		return -rc;	/* the database cannot say: not a verdict */
	if (res == NULL) {
		/* Nameless when submitted, and still: the kernel's groups stand. */
		if ((c->name && c->name[0] == '\0') || (c->name == NULL && c->at_submit))
			return 0;	/* c->found stays "" */
		snprintf(c->why, sizeof(c->why), "the owner, uid %u, is no longer in the user "
		    "database", (unsigned)c->uid);
		return 0;
	}
	snprintf(c->found, sizeof(c->found), "%s", pw.pw_name);
	if (c->name && c->name[0] == '\0') {
		snprintf(c->why, sizeof(c->why), "uid %u is now user '%s', and had no name when "
		    "the job was submitted", (unsigned)c->uid, pw.pw_name);
		return 0;
	}
	if (c->name && strcmp(c->name, pw.pw_name) != 0) {
		snprintf(c->why, sizeof(c->why), "uid %u is now user '%s', not '%s' who "
		    "submitted the job", (unsigned)c->uid, pw.pw_name, c->name);
		return 0;
	}
	for (;;) {
		int want = n;

		if ((db = malloc((size_t)n * sizeof(gid_t))) == NULL)
			return -ENOMEM;
		if (getgrouplist(pw.pw_name, pw.pw_gid, db, &n) >= 0)
			break;
		free(db);
		if (n <= want)
			n = want * 2;
		if (n > IDENTITY_MAX_GROUPS)
			return -E2BIG;
	}
	for (int i = -1; i < c->ngroups && !c->why[0]; i++) {
		gid_t g = i < 0 ? c->gid : c->groups[i];

		if (!identity_has(db, n, g))
			identity_lost(c, pw.pw_name, g);
	}
	free(db);
	return 0;
}

static void
identity_free(struct identity_check *c)
{
	free(c->groups);
	free(c->name);
	free(c);
}

/* The job fails, or was cancelled meanwhile: it winds down from where it is. */
static void
identity_wind_down(struct job *job)
{
	if (job->state == JOB_QUEUED) {
		if (job->active == 0)
			job_end(job);
		return;
	}
	lanes_unpark(job);
	job_fill(job);
}

static void
identity_checked(struct eop *op, int res)
{
	struct identity_check	*c = (struct identity_check *)op;
	struct job		*job = c->job;

	job->active--;
	job->identity_checks--;
	if (job->identity_noting == c)
		job->identity_noting = NULL;
	if (res < 0)
		job_fail(job, res, "cannot look up the owner, uid %u, in the user database",
		    (unsigned)c->uid);
	else if (c->why[0])
		job_fail(job, -EPERM, "%s", c->why);
	else if (job->identity_name == NULL && (job->identity_name = strdup(c->found)) != NULL)
		record_write(job, NULL);	/* the name to compare with from now on */
	if (job_stopping(job))
		identity_wind_down(job);
	else if (c->then)	/* NULL: identity_note's, and nothing waits for it */
		c->then(job);
	identity_free(c);
}

/*
 * Look the owner up, then(job) (may be NULL) if the verdict is that it
 * is who it was. -ENOMEM: nothing started.
 */
static int
identity_start(struct job *job, void (*then)(struct job *), bool at_submit)
{
	const struct cred	*cr = job->cred;
	struct identity_check	*c;
	struct eop		*op;

	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->groups = calloc((size_t)cr->ngroups + 1, sizeof(gid_t))) == NULL ||
	    (job->identity_name && (c->name = strdup(job->identity_name)) == NULL)) {
		if (c)
			identity_free(c);
		return -ENOMEM;
	}
	c->job = job;
	c->then = then;
	c->at_submit = at_submit;
	if (at_submit)
		job->identity_noting = c;
	c->uid = cr->uid;
	c->gid = cr->gid;
	c->ngroups = cr->ngroups;
	if (cr->ngroups > 0)	/* none: groups may be NULL */
		memcpy(c->groups, cr->groups, (size_t)cr->ngroups * sizeof(gid_t));
	op = job_op_init(job, &c->op, EOP_CALL, identity_checked);
	op->cred = NULL;	/* the database is the daemon's to read, not the user's */
	op->run = identity_run;
	op->owner = c;
	op->fd = op->fd2 = -1;
	job->active++;
	job->identity_checks++;
	engine_submit(op);
	return 0;
}

/* Without memory no note is taken: the start looks the owner up as after a restart. */
void
identity_note(struct job *job)
{
	if (!cred_is_self(job->cred))
		(void)identity_start(job, NULL, true);
}

void
identity_check(struct job *job, void (*then)(struct job *))
{
	if (cred_is_self(job->cred))
		then(job);
	else if (job->identity_noting)	/* submitted just now: that lookup's verdict */
		job->identity_noting->then = then;
	else if (identity_start(job, then, false) < 0) {
		job_fail(job, -ENOMEM, "cannot look up the owner, uid %u",
		    (unsigned)job->cred->uid);
		identity_wind_down(job);
	}
}
