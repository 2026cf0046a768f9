/*
 * A job's checkpointed temporaries (partial.h), in its record and back.
 *
 * A large file is copied under a named temporary, and from time to time
 * the copy syncs it and records how far it got (copy_resume.c). After a
 * crash or a restart the job's clean-up leaves those temporaries alone
 * (clean.c), and the file's copy in the new run takes its checkpoint,
 * verifies it, and goes on from there. A checkpoint the new run does not
 * take (its source went, the job was cancelled first) is removed when
 * the job ends, so that nothing of it is left in the destination.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "job_internal.h"
#include "log.h"
#include "partial.h"
#include "path.h"

/* What the checkpoints are relative to now: the job's directory (dirfd). */
static const char *
partial_base(const struct job *job)
{
	return job->into_dir ? job->req.destination : job->dest_parent;
}

static struct partial *
partial_find(const struct job *job, const char *temp)
{
	for (unsigned i = 0; i < job->npartials; i++)
		if (strcmp(job->partials[i].temp, temp) == 0)
			return &job->partials[i];
	return NULL;
}

static void
partial_remove(struct job *job, unsigned i)
{
	free(job->partials[i].temp);
	free(job->partials[i].dest);
	job->partials[i] = job->partials[--job->npartials];
}

struct json_object *
partial_json(const struct job *job)
{
	struct json_object *o, *files;

	if (job->npartials == 0 || job->partial_dir == NULL)
		return NULL;
	o = json_object_new_object();
	files = json_object_new_array();
	json_object_object_add(o, "dir", json_object_new_string(job->partial_dir));
	for (unsigned i = 0; i < job->npartials; i++) {
		const struct partial	*p = &job->partials[i];
		struct json_object	*f = json_object_new_object();

		json_object_object_add(f, "temp", json_object_new_string(p->temp));
		json_object_object_add(f, "dest", json_object_new_string(p->dest));
		if (p->dir)
			json_object_object_add(f, "dir", json_object_new_boolean(true));
#define ADD(k, v) json_object_object_add(f, k, json_object_new_int64((int64_t)(v)))
		ADD("head", p->head);
		ADD("tail", p->tail);
		ADD("size", p->size);
		ADD("ino", p->ino);
		ADD("mtime_sec", p->mtime_sec);
		ADD("mtime_nsec", p->mtime_nsec);
		ADD("dev_major", p->dev_major);
		ADD("dev_minor", p->dev_minor);
#undef ADD
		json_object_array_add(files, f);
	}
	json_object_object_add(o, "files", files);
	return o;
}

static const char *
partial_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* One file's checkpoint, as strictly as clean.c reads the names. */
static int
partial_read_one(struct json_object *f, struct job *job, struct partial *p)
{
	int64_t		 head, tail, size, ino, sec, nsec, maj, min;
	const char	*temp = partial_str(f, "temp"), *dest = partial_str(f, "dest");
	struct json_object *d;
	bool		 dir = false;

	if (!json_object_is_type(f, json_type_object) || temp == NULL || dest == NULL ||
	    !clean_name_ok(temp, job->id) || !clean_name_ok(dest, 0) ||
	    !record_int(f, "size", 0, INT64_MAX, &size) ||
	    !record_int(f, "head", 0, size, &head) ||
	    !record_int(f, "tail", head, size, &tail) ||
	    !record_int(f, "ino", 0, INT64_MAX, &ino) ||
	    !record_int(f, "mtime_sec", INT64_MIN, INT64_MAX, &sec) ||
	    !record_int(f, "mtime_nsec", 0, 999999999, &nsec) ||
	    !record_int(f, "dev_major", 0, UINT32_MAX, &maj) ||
	    !record_int(f, "dev_minor", 0, UINT32_MAX, &min))
		return -EBADMSG;
	if (json_object_object_get_ex(f, "dir", &d)) {
		if (!json_object_is_type(d, json_type_boolean))
			return -EBADMSG;
		dir = json_object_get_boolean(d);
	}
	*p = (struct partial){
		.dir = dir, .head = (uint64_t)head, .tail = (uint64_t)tail, .size = (uint64_t)size,
		.ino = (uint64_t)ino, .mtime_sec = sec, .mtime_nsec = (uint32_t)nsec,
		.dev_major = (uint32_t)maj, .dev_minor = (uint32_t)min,
	};
	if ((p->temp = strdup(temp)) == NULL || (p->dest = strdup(dest)) == NULL) {
		free(p->temp);
		return -ENOMEM;
	}
	return 0;
}

int
partial_read(struct json_object *rec, struct job *job)
{
	struct json_object	*o, *files;
	const char		*dir;
	size_t			 n;
	int			 rc;

	if (!json_object_object_get_ex(rec, "partial", &o))
		return 0;
	if (!json_object_is_type(o, json_type_object) || (dir = partial_str(o, "dir")) == NULL ||
	    path_check(dir, strlen(dir)) < 0 ||
	    !json_object_object_get_ex(o, "files", &files) ||
	    !json_object_is_type(files, json_type_array) ||
	    (n = json_object_array_length(files)) > PARTIAL_MAX)
		return -EBADMSG;
	if ((job->partial_dir = strdup(dir)) == NULL ||
	    (job->partials = calloc(n ? n : 1, sizeof(*job->partials))) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if ((rc = partial_read_one(json_object_array_get_idx(files, i), job,
		    &job->partials[i])) < 0)
			return rc;
		job->npartials++;
	}
	return 0;
}


void
partial_free(struct job *job)
{
	while (job->npartials)
		partial_remove(job, 0);
	free(job->partials);
	free(job->partial_dir);
	job->partials = NULL;
	job->partial_dir = NULL;
}

bool
partial_is_temp(const struct job *job, const char *name, bool full)
{
	for (unsigned i = 0; i < job->npartials; i++) {
		const char *t = job->partials[i].temp, *base = strrchr(t, '/');

		if (strcmp(full ? t : base ? base + 1 : t, name) == 0)
			return true;
	}
	return false;
}

struct partial *
partial_claim(struct job *job, const char *dest, bool dir, char *name, size_t namelen)
{
	const char	*base = partial_base(job), *t;
	struct partial	*p;

	if (job->partial_dir == NULL || base == NULL || strcmp(job->partial_dir, base) != 0)
		return NULL;
	for (unsigned i = 0; i < job->npartials; i++) {
		p = &job->partials[i];
		if (p->claimed || p->dir != dir || strcmp(p->dest, dest) != 0)
			continue;
		t = strrchr(p->temp, '/') ? strrchr(p->temp, '/') + 1 : p->temp;
		if (strlen(t) >= namelen) {
			partial_remove(job, i);
			return NULL;
		}
		strcpy(name, t);
		p->claimed = true;
		return p;
	}
	return NULL;
}

bool
partial_matches(const struct partial *p, const struct statx *stx)
{
	return p->size == stx->stx_size && p->ino == stx->stx_ino &&
	    p->mtime_sec == stx->stx_mtime.tv_sec && p->mtime_nsec == stx->stx_mtime.tv_nsec &&
	    p->dev_major == stx->stx_dev_major && p->dev_minor == stx->stx_dev_minor;
}

/* temp's entry (temp taken), made if need be; NULL when it cannot be kept. */
static struct partial *
partial_get(struct job *job, char *temp, const char *dest)
{
	struct partial	*p, *grown;
	const char	*base = partial_base(job);

	if (temp == NULL || base == NULL)
		goto out;
	/* One directory for all: a job's files all go below its own. */
	if (job->partial_dir == NULL && (job->partial_dir = strdup(base)) == NULL)
		goto out;
	if ((p = partial_find(job, temp)) != NULL) {
		free(temp);
		return p;
	}
	if (job->npartials == PARTIAL_MAX || (grown = realloc(job->partials,
	    (job->npartials + 1) * sizeof(*grown))) == NULL)
		goto out;	/* not resumable: copied whole again after a crash */
	job->partials = grown;
	p = &job->partials[job->npartials];
	*p = (struct partial){ .claimed = true };
	if ((p->dest = strdup(dest)) == NULL)
		goto out;
	p->temp = temp;
	job->npartials++;
	return p;
out:
	free(temp);
	return NULL;
}

void
partial_stage(struct job *job, char *temp, const char *dest)
{
	struct partial *p = partial_get(job, temp, dest);

	if (p == NULL)
		return;
	p->dir = true;
	/* Not waited for: a crash before it is written makes the tree anew. */
	record_write(job, NULL);
}

void
partial_set(struct job *job, char *temp, const char *dest, const struct statx *stx,
    uint64_t head, uint64_t tail)
{
	struct partial *p = partial_get(job, temp, dest);

	if (p == NULL)
		return;
	p->head = head;
	p->tail = tail;
	p->size = stx->stx_size;
	p->ino = stx->stx_ino;
	p->mtime_sec = stx->stx_mtime.tv_sec;
	p->mtime_nsec = stx->stx_mtime.tv_nsec;
	p->dev_major = stx->stx_dev_major;
	p->dev_minor = stx->stx_dev_minor;
	/* Not waited for: a crash before it is written costs the last stretch again. */
	record_write(job, NULL);
}

void
partial_drop(struct job *job, const char *temp)
{
	for (unsigned i = 0; temp && i < job->npartials; i++)
		if (strcmp(job->partials[i].temp, temp) == 0) {
			partial_remove(job, i);
			return;
		}
}

bool
partial_end(struct job *job)
{
	char		**names;
	unsigned	  n = 0;
	bool		  rc;

	if (job->npartials == 0 || job->interrupted)
		return false;
	if ((names = calloc(job->npartials, sizeof(*names))) == NULL) {
		log_warnx("job %" PRIu64 ": no memory to remove checkpointed temporaries in %s",
		    job->id, job->partial_dir);
		partial_free(job);
		return false;
	}
	/* Those of this run were removed or published by their copies. */
	for (unsigned i = 0; i < job->npartials; i++)
		if (!job->partials[i].claimed) {
			names[n++] = job->partials[i].temp;
			job->partials[i].temp = NULL;
		}
	rc = clean_names_remove(job, job->partial_dir, names, n);
	partial_free(job);
	return rc;
}
