/*
 * A job's record in the journal (journal.c keeps the files): everything
 * needed to run the job again exactly as its owner asked, with the
 * owner's credentials, and for a finished job what Get shows. Read back
 * at start-up as strictly as a Copy call is.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cred.h"
#include "job_internal.h"
#include "journal.h"
#include "view.h"

static struct json_object *
record_json(const struct job *job)
{
	struct json_object *o = json_object_new_object(), *r = json_object_new_object();
	struct json_object *g = json_object_new_array();

	json_object_object_add(o, "id", json_object_new_int64((int64_t)job->id));
	/* A paused job is running: a restart runs it (unpaused). */
	json_object_object_add(o, "state", json_object_new_string(vocab_state_name(job->state)));
	json_object_object_add(o, "restarts", json_object_new_int64(job->restarts));
	json_object_object_add(o, "created_usec", json_object_new_int64((int64_t)job->created_usec));
	json_object_object_add(o, "finished_usec", json_object_new_int64((int64_t)job->finished_usec));
	json_object_object_add(o, "uid", json_object_new_int64(job->cred->uid));
	json_object_object_add(o, "gid", json_object_new_int64(job->cred->gid));
	if (job->identity_name)
		json_object_object_add(o, "owner", json_object_new_string(job->identity_name));
	for (int i = 0; i < job->cred->ngroups; i++)
		json_object_array_add(g, json_object_new_int64(job->cred->groups[i]));
	json_object_object_add(o, "groups", g);
	request_to_json(&job->req, r);
	json_object_object_add(o, "request", r);
	if (job_finished(job))
		json_object_object_add(o, "job", view_job(job));
	else
		json_object_object_add(o, "temporaries", clean_json(job));
	return o;
}

void
record_write(struct job *job, void (*done)(uint64_t, int))
{
	/* Made durable only where the job promises durability (journal.c). */
	journal_write(job->id, record_json(job), job->req.sync, done);
}

bool
record_int(struct json_object *o, const char *key, int64_t min, int64_t max, int64_t *out)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return false;
	*out = json_object_get_int64(v);
	return *out >= min && *out <= max;
}

static int
record_cred(struct json_object *rec, struct cred **out)
{
	struct json_object	*g;
	int64_t			 uid, gid, v;
	gid_t			*groups;
	size_t			 n;

	if (!record_int(rec, "uid", 0, UINT32_MAX - 1, &uid) ||
	    !record_int(rec, "gid", 0, UINT32_MAX - 1, &gid) ||
	    !json_object_object_get_ex(rec, "groups", &g) ||
	    !json_object_is_type(g, json_type_array) ||
	    (n = json_object_array_length(g)) > 65536)
		return -EBADMSG;
	if ((groups = calloc(n ? n : 1, sizeof(gid_t))) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(g, i);

		if (!json_object_is_type(e, json_type_int) ||
		    (v = json_object_get_int64(e)) < 0 || v >= UINT32_MAX) {
			free(groups);
			return -EBADMSG;
		}
		groups[i] = (gid_t)v;
	}
	return cred_get((uid_t)uid, (gid_t)gid, groups, (int)n, out);
}

/*
 * The request of a record. Daemons before request.c wrote an automatic
 * priority as "auto", which no call may say: read as left out.
 */
static int
record_request(struct json_object *r, struct job_request *req)
{
	struct json_object	*v;
	const char		*bad;
	int			 rc;

	if (!json_object_is_type(r, json_type_object))
		return -EBADMSG;
	if (json_object_object_get_ex(r, VOCAB_PRIORITY, &v) &&
	    json_object_is_type(v, json_type_string) &&
	    strcmp(json_object_get_string(v), "auto") == 0)
		json_object_object_del(r, VOCAB_PRIORITY);
	rc = request_from_json(r, req, &bad);
	return rc == -EINVAL ? -EBADMSG : rc;
}

int
record_read(uint64_t id, struct json_object *rec, struct job *job)
{
	struct json_object	*v, *final = NULL;
	int64_t			 rid, restarts, created, finished;
	int			 s = -EINVAL, rc;

	if (json_object_object_get_ex(rec, "state", &v) && json_object_is_type(v, json_type_string))
		s = vocab_state_parse(json_object_get_string(v));
	if (!record_int(rec, "id", 1, INT64_MAX, &rid) || (uint64_t)rid != id ||
	    s < 0 || s == JOB_PAUSED ||
	    !record_int(rec, "restarts", 0, UINT32_MAX - 1, &restarts) ||
	    !record_int(rec, "created_usec", 0, INT64_MAX, &created) ||
	    !record_int(rec, "finished_usec", 0, INT64_MAX, &finished) ||
	    !json_object_object_get_ex(rec, "request", &v) ||
	    (s >= JOB_DONE && (!json_object_object_get_ex(rec, "job", &final) ||
	    !json_object_is_type(final, json_type_object))))
		return -EBADMSG;
	job->id = id;
	if ((rc = record_request(v, &job->req)) < 0 || (rc = record_cred(rec, &job->cred)) < 0 ||
	    (s < JOB_DONE && (rc = clean_read(rec, job)) < 0))
		return rc;
	if (json_object_object_get_ex(rec, "owner", &v)) {
		if (!json_object_is_type(v, json_type_string))
			return -EBADMSG;
		if ((job->identity_name = strdup(json_object_get_string(v))) == NULL)
			return -ENOMEM;
	}
	job->state = (enum job_state)s;
	job->restarts = (unsigned)restarts;
	job->created_usec = (uint64_t)created;
	if (s >= JOB_DONE) {
		job->finished_usec = (uint64_t)finished;
		job->final = json_object_get(final);
	}
	return 0;
}
