/*
 * A job's named temporaries, and what a crash leaves of them.
 *
 * While a job runs, the names of the temporaries it makes (a file that
 * replaces one, a new directory in an existing one: ".cpd-tmp.<job>.
 * <random>") are kept in the job and written into its journal record
 * as they are made, relative to the job's directory. After a crash the
 * restarted job first removes exactly those, as its owner, in a pool
 * thread: start-up never waits for it, and a destination that hangs
 * holds that one job, not the daemon. Before, start-up walked every
 * unfinished tree's destination, 128 levels deep, before it answered:
 * 20 jobs into "/" took 6 s, and a hung destination stopped it for ever.
 *
 * Besides the names, the destination and its parent are searched, not
 * below them and at most CLEAN_MAX_ENTRIES entries each: the record is
 * written as the temporary is made, not waited for, so a crash in that
 * moment can leave a name unrecorded; a small file copied in one pool
 * hand-off (copy_whole.c) is not recorded at all (its temporary lives
 * only in that hand-off: noting it would cost a record per small file);
 * and a record of an older cpd has no names. Such a temporary deeper in
 * a tree is left: at most one per pool thread or file being written at
 * the crash. For an older record the log says what was not searched.
 * A temporary with a checkpoint (partial.c) is not removed: the new run
 * goes on with it.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "job_internal.h"
#include "log.h"
#include "partial.h"
#include "path.h"

#define CLEAN_MAX_NAMES		64	/* recorded per job: more are in flight rarely */
#define CLEAN_MAX_ENTRIES	65536	/* entries of a directory searched */

/* The restart's clean-up, carried out in a pool thread. */
struct clean {
	struct eop	 op;
	struct job	*job;
	char		 prefix[64];	/* ".cpd-tmp.<job>." */
	char		*base;		/* the recorded names are relative to it */
	char		**names;
	unsigned	 nnames;
	char		**keep;		/* checkpointed (partial.c): left for the new run */
	unsigned	 nkeep;
	void		(*then)(struct job *);
	char		 dirs[2][PATH_MAX];	/* searched: the destination, its parent */
	unsigned	 ndirs;
	/* What it did, for the log (on the loop). */
	unsigned	 removed, failed;
	char		 failure[PATH_MAX + 128];
	const char	*capped;	/* a directory searched only in part */
	bool		 legacy;	/* the record has no names (an older cpd's) */
	bool		 partial;	/* it has not all of them */
};

static int
clean_find(const struct job *job, const char *rel)
{
	for (unsigned i = 0; i < job->ntemps; i++)
		if (strcmp(job->temps[i], rel) == 0)
			return (int)i;
	return -1;
}

void
clean_temp_made(struct job *job, char *rel)
{
	char	**t;

	if (rel == NULL || job->ntemps == CLEAN_MAX_NAMES ||
	    (t = realloc(job->temps, (job->ntemps + 1) * sizeof(*t))) == NULL) {
		free(rel);
		job->temps_unrecorded = true;	/* the record says so: not all are named */
	} else {
		job->temps = t;
		job->temps[job->ntemps++] = rel;
	}
	/* Not waited for: the comment at the top says what a crash now costs. */
	record_write(job, NULL);
}

void
clean_temp_gone(struct job *job, char *rel)
{
	int	 i;

	/* Not rewritten now: a name that is gone costs the restart an ENOENT. */
	if (rel && (i = clean_find(job, rel)) >= 0) {
		free(job->temps[i]);
		job->temps[i] = job->temps[--job->ntemps];
	}
	free(rel);
}

void
clean_free(struct job *job)
{
	for (unsigned i = 0; i < job->ntemps; i++)
		free(job->temps[i]);
	free(job->temps);
	free(job->temps_dir);
	job->temps = NULL;
	job->temps_dir = NULL;
	job->ntemps = 0;
	partial_free(job);
}

void
clean_left(const struct job *job)
{
	if (job->temps_legacy)
		log_warnx("job %" PRIu64 ": ended before what a crash left of it was looked for: "
		    "temporaries " PATH_TEMP_PREFIX "%" PRIu64 ".* may be left in %s",
		    job->id, job->id, job->req.destination);
	for (unsigned i = 0; job->temps_dir && i < job->ntemps; i++)
		log_warnx("job %" PRIu64 ": ended before what a crash left of it was removed: "
		    "%s/%s may be left", job->id, job->temps_dir, job->temps[i]);
}

struct json_object *
clean_json(const struct job *job)
{
	struct json_object	*o = json_object_new_object(), *names = json_object_new_array(), *p;
	/* Restored names, not removed yet, are relative to where they were. */
	const char		*dir = job->temps_dir ? job->temps_dir :
				    job->into_dir ? job->req.destination : job->dest_parent;

	for (unsigned i = 0; i < job->ntemps; i++)
		json_object_array_add(names, json_object_new_string(job->temps[i]));
	json_object_object_add(o, "dir", dir ? json_object_new_string(dir) : NULL);
	json_object_object_add(o, "names", names);
	json_object_object_add(o, "all", json_object_new_boolean(!job->temps_unrecorded));
	if ((p = partial_json(job)) != NULL)
		json_object_object_add(o, "partial", p);
	return o;
}

/*
 * A name as recorded: relative, no "." or ".." in it, and (id not 0) one
 * of job id's temporaries.
 */
bool
clean_name_ok(const char *rel, uint64_t id)
{
	const char	*base = strrchr(rel, '/');
	char		 prefix[64] = "";

	if (id)
		snprintf(prefix, sizeof(prefix), PATH_TEMP_PREFIX "%" PRIu64 ".", id);

	for (const char *c = rel; *c; c = strchr(c, '/') ? strchr(c, '/') + 1 : c + strlen(c)) {
		size_t len = strcspn(c, "/");

		if (len == 0 || (len == 1 && c[0] == '.') || (len == 2 && strncmp(c, "..", 2) == 0))
			return false;
	}
	base = base ? base + 1 : rel;
	return *rel && strlen(rel) < PATH_MAX && strncmp(base, prefix, strlen(prefix)) == 0;
}

int
clean_read(struct json_object *rec, struct job *job)
{
	struct json_object	*t, *v, *names;
	int			 rc;

	if (!json_object_object_get_ex(rec, "temporaries", &t)) {
		job->temps_legacy = true;	/* an older cpd's record: no names */
		return 0;
	}
	if (!json_object_is_type(t, json_type_object) ||
	    !json_object_object_get_ex(t, "names", &names) ||
	    !json_object_is_type(names, json_type_array) ||
	    json_object_array_length(names) > CLEAN_MAX_NAMES)
		return -EBADMSG;
	if (json_object_object_get_ex(t, "all", &v) && json_object_is_type(v, json_type_boolean))
		job->temps_unrecorded = !json_object_get_boolean(v);
	if ((rc = partial_read(t, job)) < 0)
		return rc;
	if (json_object_array_length(names) == 0)
		return 0;
	if (!json_object_object_get_ex(t, "dir", &v) || !json_object_is_type(v, json_type_string) ||
	    path_check(json_object_get_string(v), (size_t)json_object_get_string_len(v)) < 0 ||
	    (job->temps_dir = strdup(json_object_get_string(v))) == NULL)
		return -EBADMSG;
	if ((job->temps = calloc(json_object_array_length(names), sizeof(char *))) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < json_object_array_length(names); i++) {
		struct json_object *n = json_object_array_get_idx(names, i);

		if (!json_object_is_type(n, json_type_string) ||
		    !clean_name_ok(json_object_get_string(n), job->id))
			return -EBADMSG;
		if ((job->temps[job->ntemps] = strdup(json_object_get_string(n))) == NULL)
			return -ENOMEM;
		job->ntemps++;
	}
	return 0;
}

/* An operation of the clean-up, carried out here (engine_run) as the job's owner. */
static long
clean_op(struct clean *w, enum eop_type type, int dirfd, const char *path, uint64_t flags,
    uint64_t resolve)
{
	struct eop op = {
		.type = type, .cred = w->op.cred, .dirfd = dirfd, .path = path,
		.flags = flags, .resolve = resolve, .fd = -1, .fd2 = -1,
	};

	return engine_run(&op);
}

/*
 * Remove the temporary name in dfd (a file, or a directory with its
 * contents); a failure is told as dir/shown.
 */
static void
clean_remove(struct clean *w, int dfd, const char *name, const char *dir, const char *shown)
{
	int rc = (int)clean_op(w, EOP_UNLINK, dfd, name, 0, 0);

	if (rc == -EISDIR || rc == -EPERM)	/* EPERM: unlink(2) of a directory */
		rc = path_remove_tree(dfd, name) < 0 ? -errno : 0;
	if (rc == 0)
		w->removed++;
	else if (rc != -ENOENT && w->failed++ == 0)
		snprintf(w->failure, sizeof(w->failure), "%s/%s: %s", dir, shown, strerror(-rc));
}

/* A directory, as the owner sees it, never through a magic link. */
static int
clean_open_dir(struct clean *w, int dirfd, const char *path, uint64_t resolve)
{
	return (int)clean_op(w, EOP_OPEN, dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC,
	    resolve | RESOLVE_NO_MAGICLINKS);
}

/* A checkpointed temporary, by its recorded name (full) or its base name. */
static bool
clean_kept(const struct clean *w, const char *name, bool full)
{
	for (unsigned i = 0; i < w->nkeep; i++) {
		const char *base = strrchr(w->keep[i], '/');

		if (strcmp(full || base == NULL ? w->keep[i] : base + 1, name) == 0)
			return true;
	}
	return false;
}

/* The recorded names, each opened directly below the base: no search. */
static void
clean_names(struct clean *w)
{
	int basefd;

	if (w->nnames == 0)
		return;
	if ((basefd = clean_open_dir(w, AT_FDCWD, w->base, 0)) < 0) {
		/* ENOENT: gone, and what was ours in it with it. */
		if (basefd != -ENOENT) {
			w->failed += w->nnames;
			snprintf(w->failure, sizeof(w->failure), "%s/%s: %s", w->base,
			    w->names[0], strerror(-basefd));
		}
		return;
	}
	for (unsigned i = 0; i < w->nnames; i++) {
		char	*slash = strrchr(w->names[i], '/');
		int	 dfd = basefd;

		if (clean_kept(w, w->names[i], true))
			continue;
		if (slash) {
			*slash = '\0';
			dfd = clean_open_dir(w, basefd, w->names[i],
			    RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS);
			*slash = '/';
		}
		if (dfd >= 0)
			clean_remove(w, dfd, slash ? slash + 1 : w->names[i], w->base, w->names[i]);
		if (dfd >= 0 && dfd != basefd)
			close(dfd);
	}
	close(basefd);
}

/* One directory, not below it, at most CLEAN_MAX_ENTRIES entries. */
static void
clean_search(struct clean *w, const char *path)
{
	struct dirent	*de;
	unsigned	 seen = 0;
	DIR		*d;
	int		 fd;

	if ((fd = clean_open_dir(w, AT_FDCWD, path, 0)) < 0)
		return;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (++seen > CLEAN_MAX_ENTRIES) {
			w->capped = path;
			break;
		}
		if (strncmp(de->d_name, w->prefix, strlen(w->prefix)) == 0 &&
		    !clean_kept(w, de->d_name, false))
			clean_remove(w, dirfd(d), de->d_name, path, de->d_name);
	}
	closedir(d);
}

static long
clean_run(struct eop *op)
{
	struct clean *w = op->owner;

	clean_names(w);
	for (unsigned i = 0; i < w->ndirs; i++)
		clean_search(w, w->dirs[i]);
	return 0;
}

static void
clean_strings_free(char **v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void
clean_done(struct eop *op, int res)
{
	struct clean	*w = (struct clean *)op;
	struct job	*job = w->job;
	void		(*then)(struct job *) = w->then;

	if (res < 0)
		log_warnx("job %" PRIu64 ": cannot remove what a crash left of it: %s", job->id,
		    strerror(-res));
	if (w->removed)
		log_info("job %" PRIu64 ": removed %u leftover temporar%s", job->id, w->removed,
		    w->removed == 1 ? "y" : "ies");
	if (w->failed)
		log_warnx("job %" PRIu64 ": cannot remove %u leftover temporar%s, first %s",
		    job->id, w->failed, w->failed == 1 ? "y" : "ies", w->failure);
	if (w->capped)
		log_warnx("job %" PRIu64 ": only the first %u entries of %s were searched for "
		    "leftover temporaries", job->id, CLEAN_MAX_ENTRIES, w->capped);
	if (w->legacy || w->partial)
		log_notice("job %" PRIu64 ": %s: leftover temporaries were looked for only in "
		    "%s and %s, not below", job->id, w->legacy ?
		    "its record, from an older cpd, names none" : "its record names only some",
		    w->dirs[0], w->ndirs > 1 ? w->dirs[1] : w->dirs[0]);
	clean_strings_free(w->names, w->nnames);
	clean_strings_free(w->keep, w->nkeep);
	free(w->base);
	free(w);
	job->active--;
	then(job);
}

/* The clean-up of names (taken) in base (taken), then then(job), on the loop. */
static struct clean *
clean_new(struct job *job, char *base, char **names, unsigned nnames, void (*then)(struct job *))
{
	struct clean *w = calloc(1, sizeof(*w));

	if (w == NULL) {
		log_warnx("job %" PRIu64 ": no memory to remove temporaries in %s", job->id,
		    base ? base : job->req.destination);
		clean_strings_free(names, nnames);
		free(base);
		return NULL;
	}
	snprintf(w->prefix, sizeof(w->prefix), PATH_TEMP_PREFIX "%" PRIu64 ".", job->id);
	w->job = job;
	w->base = base;
	w->names = names;
	w->nnames = nnames;
	w->then = then;
	return w;
}

static void
clean_submit(struct clean *w)
{
	struct job	*job = w->job;
	struct eop	*op = job_op_init(job, &w->op, EOP_CALL, clean_done);

	op->run = clean_run;
	op->owner = w;
	op->fd = op->fd2 = -1;
	op->interactive = false;	/* in the background: nobody waits for it */
	job->active++;
	engine_submit(op);
}

bool
clean_names_remove(struct job *job, const char *base, char **names, unsigned nnames)
{
	char		*b = NULL;
	struct clean	*w;

	if (nnames == 0 || (b = strdup(base)) == NULL) {
		clean_strings_free(names, nnames);
		return false;
	}
	if ((w = clean_new(job, b, names, nnames, job_end)) == NULL)
		return false;
	clean_submit(w);
	return true;
}

/* After a restart's clean-up: on with the job, or (cancelled meanwhile) its end. */
static void
clean_restarted(struct job *job)
{
	if (!job_stopping(job))
		scan_sources(job);
	else if (job->active == 0)
		job_end(job);
}

/* The checkpointed temporaries stay, for the new run to go on with (partial.c). */
static bool
clean_keep(struct clean *w, const struct job *job)
{
	if (job->npartials == 0)
		return true;
	if ((w->keep = calloc(job->npartials, sizeof(char *))) == NULL)
		return false;
	for (; w->nkeep < job->npartials; w->nkeep++)
		if ((w->keep[w->nkeep] = strdup(job->partials[w->nkeep].temp)) == NULL) {
			clean_strings_free(w->keep, w->nkeep);
			w->keep = NULL;
			w->nkeep = 0;
			return false;
		}
	return true;
}

void
clean_restart(struct job *job)
{
	struct clean	*w;

	/* The names are the last run's: the new run records its own. */
	w = clean_new(job, job->temps_dir, job->temps, job->ntemps, clean_restarted);
	job->temps_dir = NULL;
	job->temps = NULL;
	job->ntemps = 0;
	if (w == NULL) {
		scan_sources(job);
		return;
	}
	if (!clean_keep(w, job))
		partial_free(job);	/* removed as any other: resumed none of them */
	w->legacy = job->temps_legacy;
	w->partial = job->temps_unrecorded;
	job->temps_unrecorded = job->temps_legacy = false;
	snprintf(w->dirs[w->ndirs++], PATH_MAX, "%s", job->req.destination);
	if (path_dirname(job->req.destination, w->dirs[1], PATH_MAX) == 0 &&
	    strcmp(w->dirs[1], w->dirs[0]) != 0)
		w->ndirs++;
	clean_submit(w);
}
