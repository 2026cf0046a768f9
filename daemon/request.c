/*
 * Copy requests to and from JSON: see request.h. A record's request is
 * read as strictly as a call's, so a damaged journal cannot start a job
 * that no client could have asked for.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "path.h"
#include "request.h"

#define REQUEST_MAX_SOURCES	4096

/*
 * The parameter name of type type: *out NULL when left out (or null),
 * which only a required one may not be. -EINVAL on the wrong type.
 */
static int
request_get(struct json_object *params, const char *name, json_type type,
    bool required, struct json_object **out)
{
	if (!json_object_object_get_ex(params, name, out) || *out == NULL) {
		*out = NULL;
		return required ? -EINVAL : 0;
	}
	return json_object_is_type(*out, type) ? 0 : -EINVAL;
}

static int
request_bool(struct json_object *params, const char *name, bool *out)
{
	struct json_object	*v;
	int			 rc;

	if ((rc = request_get(params, name, json_type_boolean, false, &v)) == 0 && v)
		*out = json_object_get_boolean(v);
	return rc;
}

/*
 * An integer in [min, max]. json-c clamps numbers beyond 64 bits to the
 * extremes without a word; no parameter of ours is meaningful there.
 */
static int
request_int(struct json_object *params, const char *name, int64_t min, int64_t max,
    int64_t *out)
{
	struct json_object	*v;
	int			 rc;

	if ((rc = request_get(params, name, json_type_int, false, &v)) < 0 || v == NULL)
		return rc;
	*out = json_object_get_int64(v);
	if (*out == INT64_MAX || *out == INT64_MIN || *out < min || *out > max)
		return -EINVAL;
	return 0;
}

/* One of the words of names (cpd-vocab.h), as its index in *out. */
static int
request_word(struct json_object *params, const char *name, int (*parse)(const char *),
    int *out)
{
	struct json_object	*v;
	int			 rc;

	if ((rc = request_get(params, name, json_type_string, false, &v)) < 0 || v == NULL)
		return rc;
	if ((rc = parse(json_object_get_string(v))) < 0)
		return rc;
	*out = rc;
	return 0;
}

/* A checked path (path.c) of its own, or NULL. */
static char *
request_path(struct json_object *v, int *rc)
{
	char *s;

	if (!json_object_is_type(v, json_type_string) || path_check(json_object_get_string(v),
	    (size_t)json_object_get_string_len(v)) < 0) {
		*rc = -EINVAL;
		return NULL;
	}
	if ((s = strdup(json_object_get_string(v))) == NULL)
		*rc = -ENOMEM;
	return s;
}

static int
request_sources(struct json_object *params, struct job_request *req)
{
	struct json_object	*a;
	size_t			 n;
	int			 rc;

	if ((rc = request_get(params, VOCAB_SOURCES, json_type_array, true, &a)) < 0)
		return rc;
	if ((n = json_object_array_length(a)) == 0 || n > REQUEST_MAX_SOURCES)
		return -EINVAL;
	if ((req->sources = calloc(n, sizeof(char *))) == NULL)
		return -ENOMEM;
	for (; req->nsources < n; req->nsources++)
		if ((req->sources[req->nsources] = request_path(
		    json_object_array_get_idx(a, req->nsources), &rc)) == NULL)
			return rc;
	return 0;
}

/* The fields after the paths, in the order a call's are checked. */
static int
request_options(struct json_object *params, struct job_request *req, const char **bad)
{
	int64_t	 umask = 022, bwlimit = 0;
	int	 prio = PRIO_AUTO, reflink = REFLINK_AUTO, rc;

	if ((rc = request_bool(params, *bad = VOCAB_NO_CLOBBER, &req->no_clobber)) < 0 ||
	    (rc = request_bool(params, *bad = VOCAB_SYNC, &req->sync)) < 0 ||
	    (rc = request_bool(params, *bad = VOCAB_RECURSIVE, &req->recursive)) < 0 ||
	    (rc = request_bool(params, *bad = VOCAB_ARCHIVE, &req->archive)) < 0 ||
	    (rc = request_bool(params, *bad = VOCAB_KEEP_GOING, &req->keep_going)) < 0 ||
	    (rc = request_word(params, *bad = VOCAB_REFLINK, vocab_reflink_parse, &reflink)) < 0 ||
	    (rc = request_word(params, *bad = VOCAB_PRIORITY, vocab_prio_parse, &prio)) < 0 ||
	    (rc = request_int(params, *bad = VOCAB_UMASK, 0, 0777, &umask)) < 0 ||
	    (rc = request_int(params, *bad = VOCAB_BWLIMIT, 0, INT64_MAX, &bwlimit)) < 0)
		return rc;
	req->recursive |= req->archive;
	req->reflink = (enum reflink_mode)reflink;
	req->prio = (enum job_prio)prio;
	req->umask = (mode_t)umask;
	req->bwlimit = (uint64_t)bwlimit;
	return 0;
}

int
request_from_json(struct json_object *params, struct job_request *req, const char **bad)
{
	struct json_object	*v;
	int			 rc;

	*req = (struct job_request){ .sync = cpd_conf->jobs.sync, .prio = PRIO_AUTO,
	    .reflink = REFLINK_AUTO, .umask = 022 };
	*bad = VOCAB_SOURCES;
	if ((rc = request_sources(params, req)) == 0) {
		*bad = VOCAB_DESTINATION;
		if ((rc = request_get(params, VOCAB_DESTINATION, json_type_string, true, &v)) == 0 &&
		    (req->destination = request_path(v, &rc)) != NULL)
			rc = request_options(params, req, bad);
	}
	if (rc < 0)
		request_free(req);
	return rc;
}

void
request_to_json(const struct job_request *req, struct json_object *o)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; i < req->nsources; i++)
		json_object_array_add(a, json_object_new_string(req->sources[i]));
	json_object_object_add(o, VOCAB_SOURCES, a);
	json_object_object_add(o, VOCAB_DESTINATION, json_object_new_string(req->destination));
	json_object_object_add(o, VOCAB_NO_CLOBBER, json_object_new_boolean(req->no_clobber));
	json_object_object_add(o, VOCAB_SYNC, json_object_new_boolean(req->sync));
	if (req->prio != PRIO_AUTO)
		json_object_object_add(o, VOCAB_PRIORITY,
		    json_object_new_string(vocab_prio_name(req->prio)));
	json_object_object_add(o, VOCAB_BWLIMIT, json_object_new_int64((int64_t)req->bwlimit));
	json_object_object_add(o, VOCAB_RECURSIVE, json_object_new_boolean(req->recursive));
	json_object_object_add(o, VOCAB_ARCHIVE, json_object_new_boolean(req->archive));
	json_object_object_add(o, VOCAB_REFLINK,
	    json_object_new_string(vocab_reflink_name(req->reflink)));
	json_object_object_add(o, VOCAB_KEEP_GOING, json_object_new_boolean(req->keep_going));
	json_object_object_add(o, VOCAB_UMASK, json_object_new_int64(req->umask));
}

void
request_free(struct job_request *req)
{
	for (size_t i = 0; i < req->nsources; i++)
		free(req->sources[i]);
	free(req->sources);
	free(req->destination);
	req->sources = NULL;
	req->nsources = 0;
	req->destination = NULL;
}
