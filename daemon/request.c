/*
 * Copy requests to and from JSON: see request.h. A record's request is
 * read as strictly as a call's, so a damaged journal cannot start a job
 * that no client could have asked for.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "cpd-names.h"
#include "engine.h"
#include "filter.h"
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

/*
 * A name of the request as it is (escaped: what its escaped form stands
 * for, include/cpd-names.h), of its own; NULL with *rc on an error. No
 * NUL in it either way.
 */
static char *
request_name(const struct job_request *req, struct json_object *v, int *rc)
{
	const char	*s = json_object_get_string(v);
	char		*out = NULL;

	if (!json_object_is_type(v, json_type_string) ||
	    strlen(s) != (size_t)json_object_get_string_len(v))
		*rc = -EINVAL;
	else if (req->escaped_names)
		*rc = cpd_name_unescape(s, &out);
	else if ((out = strdup(s)) == NULL)
		*rc = -ENOMEM;
	return out;
}

/* A checked path (path.c) of its own, or NULL. */
static char *
request_path(const struct job_request *req, struct json_object *v, int *rc)
{
	char *s = request_name(req, v, rc);

	if (s && path_check(s, strlen(s)) < 0) {
		free(s);
		*rc = -EINVAL;
		return NULL;
	}
	return s;
}

/* An array of checked paths, of at least min and at most max; left out: none. */
static int
request_paths(const struct job_request *req, struct json_object *params, const char *name,
    bool required, size_t min, size_t max, char ***paths, size_t *np)
{
	struct json_object	*a;
	size_t			 n;
	int			 rc;

	if ((rc = request_get(params, name, json_type_array, required, &a)) < 0 || a == NULL)
		return rc;
	if ((n = json_object_array_length(a)) < min || n > max)
		return -EINVAL;
	if (n == 0)
		return 0;
	if ((*paths = calloc(n, sizeof(char *))) == NULL)
		return -ENOMEM;
	for (; *np < n; (*np)++)
		if (((*paths)[*np] = request_path(req, json_object_array_get_idx(a, *np),
		    &rc)) == NULL)
			return rc;
	return 0;
}

/*
 * Filters: objects of a rule and a non-empty pattern (a path's length at
 * most, no NUL), REQUEST_MAX_FILTERS at most.
 */
static int
request_filters(struct json_object *params, struct job_request *req)
{
	struct json_object	*a, *f, *rule, *pat;
	struct filter_set	*set;
	const char		*s;
	size_t			 n;
	int			 rc, r;

	if ((rc = request_get(params, VOCAB_FILTERS, json_type_array, false, &a)) < 0 ||
	    a == NULL)
		return rc;
	if ((n = json_object_array_length(a)) > REQUEST_MAX_FILTERS)
		return -EINVAL;
	if (n && (req->filters = calloc(n, sizeof(*req->filters))) == NULL)
		return -ENOMEM;
	for (; req->nfilters < n; req->nfilters++) {
		f = json_object_array_get_idx(a, req->nfilters);
		if (!json_object_is_type(f, json_type_object) ||
		    request_get(f, VOCAB_FILTER_RULE, json_type_string, true, &rule) < 0 ||
		    request_get(f, VOCAB_FILTER_PATTERN, json_type_string, true, &pat) < 0 ||
		    (r = vocab_filter_rule_parse(json_object_get_string(rule))) < 0)
			return -EINVAL;
		req->filters[req->nfilters].rule = (enum filter_rule)r;
		if ((s = req->filters[req->nfilters].pattern = request_name(req, pat, &rc)) == NULL)
			return rc;
		if (*s == '\0' || strlen(s) >= PATH_MAX)
			return -EINVAL;
	}
	/* One that cannot be matched ("a[b") is refused now, not where a tree meets it. */
	if ((rc = filter_compile(req->filters, req->nfilters, &set)) < 0)
		return rc;
	filter_free(set);
	return 0;
}

/* The options of incremental copies, mirrors and snapshots. */
static int
request_backup(struct json_object *params, struct job_request *req, const char **bad)
{
	int	 update = UPDATE_ALL, rc;

	if ((rc = request_word(params, *bad = VOCAB_UPDATE, vocab_update_parse, &update)) < 0 ||
	    (rc = request_bool(params, *bad = VOCAB_DELETE, &req->delete)) < 0 ||
	    (rc = request_int(params, *bad = VOCAB_MAX_DELETE, -1, INT64_MAX - 1,
	    &req->max_delete)) < 0 ||
	    (*bad = VOCAB_FILTERS, rc = request_filters(params, req)) < 0 ||
	    (rc = request_paths(req, params, *bad = VOCAB_LINK_DEST, false, 0,
	    REQUEST_MAX_DEST_DIRS, &req->link_dest, &req->nlink_dest)) < 0 ||
	    (rc = request_paths(req, params, *bad = VOCAB_CLONE_DEST, false, 0,
	    REQUEST_MAX_DEST_DIRS - req->nlink_dest, &req->clone_dest, &req->nclone_dest)) < 0 ||
	    (rc = request_bool(params, *bad = VOCAB_DRY_RUN, &req->dry_run)) < 0 ||
	    (rc = request_bool(params, *bad = VOCAB_ITEMIZE, &req->itemize)) < 0 ||
	    (rc = request_bool(params, *bad = VOCAB_VERIFY, &req->verify)) < 0)
		return rc;
	/* As rsync: a mirror that walks no directory would silently delete nothing. */
	if (req->delete && !req->recursive && !req->archive) {
		*bad = VOCAB_DELETE;
		return -EINVAL;
	}
	req->update = (enum update_mode)update;
	return 0;
}

unsigned
request_meta_flags(const struct job_request *req)
{
	return (request_keeps(req, PRESERVE_MODE) ? META_MODE | META_ACLS : 0) |
	    (request_keeps(req, PRESERVE_OWNERSHIP) ? META_OWNER : 0) |
	    (request_keeps(req, PRESERVE_TIMESTAMPS) ? META_TIMES : 0) |
	    (request_keeps(req, PRESERVE_XATTR) ? META_XATTRS : 0);
}

/* cp's --preserve list: archive's default is all, a plain copy's none. */
static int
request_preserve(struct json_object *params, struct job_request *req)
{
	struct json_object	*a, *v;
	int			 rc, p;

	req->preserve = req->archive ? PRESERVE_ALL : 0;
	if ((rc = request_get(params, VOCAB_PRESERVE, json_type_array, false, &a)) < 0 ||
	    a == NULL)
		return rc;
	req->preserve = 0;
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		v = json_object_array_get_idx(a, i);
		if (!json_object_is_type(v, json_type_string) ||
		    (p = vocab_preserve_parse(json_object_get_string(v))) < 0)
			return -EINVAL;
		req->preserve |= PRESERVE_BIT(p);
	}
	return 0;
}

/* A backup suffix: a part of a name, not empty, no "/". */
static int
request_suffix(struct json_object *params, struct job_request *req)
{
	struct json_object	*v;
	const char		*s;
	int			 rc;

	if ((rc = request_get(params, VOCAB_BACKUP_SUFFIX, json_type_string, false, &v)) < 0 ||
	    v == NULL)
		return rc;
	if ((s = req->backup_suffix = request_name(req, v, &rc)) == NULL)
		return rc;
	return *s == '\0' || strchr(s, '/') || strlen(s) > NAME_MAX ? -EINVAL : 0;
}

/* The options of cp's own that a plain copy does not take. */
static int
request_cp(struct json_object *params, struct job_request *req, const char **bad)
{
	int rc, backup = BACKUP_SIMPLE, sparse = SPARSE_AUTO;

	if ((*bad = VOCAB_PRESERVE, rc = request_preserve(params, req)) < 0 ||
	    (rc = request_bool(params, *bad = VOCAB_ONE_FILE_SYSTEM, &req->one_file_system)) < 0 ||
	    (rc = request_bool(params, *bad = VOCAB_REMOVE_DESTINATION,
	    &req->remove_destination)) < 0 ||
	    (rc = request_bool(params, *bad = VOCAB_LINK, &req->hard_link)) < 0 ||
	    (rc = request_bool(params, *bad = VOCAB_NO_DEREFERENCE, &req->no_dereference)) < 0 ||
	    (rc = request_bool(params, *bad = VOCAB_DEFAULT_MODE, &req->default_mode)) < 0 ||
	    (rc = request_bool(params, *bad = VOCAB_FOLLOW_SOURCES, &req->follow_sources)) < 0 ||
	    (rc = request_bool(params, *bad = VOCAB_FOLLOW_LINKS, &req->follow_links)) < 0 ||
	    (rc = request_bool(params, *bad = VOCAB_SYMLINK, &req->symlink)) < 0 ||
	    (rc = request_bool(params, *bad = VOCAB_SYMLINK_RELATIVE,
	    &req->symlink_relative)) < 0 ||
	    (rc = request_bool(params, *bad = VOCAB_FORCE, &req->force)) < 0 ||
	    (rc = request_word(params, *bad = VOCAB_SPARSE, vocab_sparse_parse, &sparse)) < 0 ||
	    (rc = request_bool(params, *bad = VOCAB_ATTRIBUTES_ONLY, &req->attributes_only)) < 0 ||
	    (*bad = VOCAB_BACKUP_SUFFIX, rc = request_suffix(params, req)) < 0 ||
	    (rc = request_word(params, *bad = VOCAB_BACKUP, vocab_backup_parse, &backup)) < 0)
		return rc;
	if (req->symlink_relative && !req->symlink) {
		*bad = VOCAB_SYMLINK_RELATIVE;
		return -EINVAL;
	}
	req->backup = (enum backup_mode)backup;
	req->sparse = (enum sparse_mode)sparse;
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
	if ((rc = request_backup(params, req, bad)) < 0)
		return rc;
	return request_cp(params, req, bad);
}

int
request_from_json(struct json_object *params, struct job_request *req, const char **bad)
{
	struct json_object	*v;
	int			 rc;

	*req = (struct job_request){ .sync = cpd_conf->jobs.sync, .prio = PRIO_AUTO,
	    .reflink = REFLINK_AUTO, .umask = 022,
	    .max_delete = -1 };
	/* First: it says how the names are to be read. */
	if ((rc = request_bool(params, *bad = VOCAB_ESCAPED_NAMES, &req->escaped_names)) == 0 &&
	    (rc = request_paths(req, params, *bad = VOCAB_SOURCES, true, 1, REQUEST_MAX_SOURCES,
	    &req->sources, &req->nsources)) == 0) {
		*bad = VOCAB_DESTINATION;
		if ((rc = request_get(params, VOCAB_DESTINATION, json_type_string, true, &v)) == 0 &&
		    (req->destination = request_path(req, v, &rc)) != NULL)
			rc = request_options(params, req, bad);
	}
	if (rc < 0)
		request_free(req);
	return rc;
}

struct json_object *
request_name_json(const struct job_request *req, const char *name)
{
	struct json_object	*o;
	char			*e;

	if (!req->escaped_names)
		return json_object_new_string(name);
	if ((e = cpd_name_escape(name)) == NULL)
		return NULL;
	o = json_object_new_string(e);
	free(e);
	return o;
}

static struct json_object *
request_paths_json(const struct job_request *req, char *const *paths, size_t n)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; i < n; i++)
		json_object_array_add(a, request_name_json(req, paths[i]));
	return a;
}

void
request_to_json(const struct job_request *req, struct json_object *o)
{
	struct json_object *a;

	if (req->escaped_names)
		json_object_object_add(o, VOCAB_ESCAPED_NAMES, json_object_new_boolean(true));
	json_object_object_add(o, VOCAB_SOURCES,
	    request_paths_json(req, req->sources, req->nsources));
	json_object_object_add(o, VOCAB_DESTINATION, request_name_json(req, req->destination));
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
	json_object_object_add(o, VOCAB_UPDATE,
	    json_object_new_string(vocab_update_name(req->update)));
	json_object_object_add(o, VOCAB_DELETE, json_object_new_boolean(req->delete));
	json_object_object_add(o, VOCAB_MAX_DELETE, json_object_new_int64(req->max_delete));
	a = json_object_new_array();
	for (size_t i = 0; i < req->nfilters; i++) {
		struct json_object *f = json_object_new_object();

		json_object_object_add(f, VOCAB_FILTER_RULE,
		    json_object_new_string(vocab_filter_rule_name(req->filters[i].rule)));
		json_object_object_add(f, VOCAB_FILTER_PATTERN,
		    request_name_json(req, req->filters[i].pattern));
		json_object_array_add(a, f);
	}
	json_object_object_add(o, VOCAB_FILTERS, a);
	json_object_object_add(o, VOCAB_LINK_DEST,
	    request_paths_json(req, req->link_dest, req->nlink_dest));
	json_object_object_add(o, VOCAB_CLONE_DEST,
	    request_paths_json(req, req->clone_dest, req->nclone_dest));
	json_object_object_add(o, VOCAB_DRY_RUN, json_object_new_boolean(req->dry_run));
	json_object_object_add(o, VOCAB_ITEMIZE, json_object_new_boolean(req->itemize));
	json_object_object_add(o, VOCAB_VERIFY, json_object_new_boolean(req->verify));
	a = json_object_new_array();
	for (int p = 0; p < PRESERVE_COUNT; p++)
		if (req->preserve & PRESERVE_BIT(p))
			json_object_array_add(a, json_object_new_string(vocab_preserve_name(p)));
	json_object_object_add(o, VOCAB_PRESERVE, a);
	json_object_object_add(o, VOCAB_ONE_FILE_SYSTEM,
	    json_object_new_boolean(req->one_file_system));
	json_object_object_add(o, VOCAB_REMOVE_DESTINATION,
	    json_object_new_boolean(req->remove_destination));
	json_object_object_add(o, VOCAB_LINK, json_object_new_boolean(req->hard_link));
	json_object_object_add(o, VOCAB_NO_DEREFERENCE,
	    json_object_new_boolean(req->no_dereference));
	json_object_object_add(o, VOCAB_DEFAULT_MODE, json_object_new_boolean(req->default_mode));
	json_object_object_add(o, VOCAB_FOLLOW_SOURCES,
	    json_object_new_boolean(req->follow_sources));
	json_object_object_add(o, VOCAB_FOLLOW_LINKS, json_object_new_boolean(req->follow_links));
	json_object_object_add(o, VOCAB_SYMLINK, json_object_new_boolean(req->symlink));
	json_object_object_add(o, VOCAB_SYMLINK_RELATIVE,
	    json_object_new_boolean(req->symlink_relative));
	json_object_object_add(o, VOCAB_FORCE, json_object_new_boolean(req->force));
	json_object_object_add(o, VOCAB_SPARSE, json_object_new_string(vocab_sparse_name(req->sparse)));
	json_object_object_add(o, VOCAB_ATTRIBUTES_ONLY,
	    json_object_new_boolean(req->attributes_only));
	if (req->backup_suffix)
		json_object_object_add(o, VOCAB_BACKUP_SUFFIX,
		    request_name_json(req, req->backup_suffix));
	json_object_object_add(o, VOCAB_BACKUP,
	    json_object_new_string(vocab_backup_name(req->backup)));
}

static void
request_paths_free(char ***paths, size_t *n)
{
	for (size_t i = 0; i < *n; i++)
		free((*paths)[i]);
	free(*paths);
	*paths = NULL;
	*n = 0;
}

void
request_free(struct job_request *req)
{
	request_paths_free(&req->sources, &req->nsources);
	request_paths_free(&req->link_dest, &req->nlink_dest);
	request_paths_free(&req->clone_dest, &req->nclone_dest);
	for (size_t i = 0; i < req->nfilters; i++)
		free(req->filters[i].pattern);
	free(req->filters);
	req->filters = NULL;
	req->nfilters = 0;
	free(req->destination);
	req->destination = NULL;
	free(req->backup_suffix);
	req->backup_suffix = NULL;
}
