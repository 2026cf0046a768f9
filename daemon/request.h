/*
 * A copy request: what a Copy call asks for, and what a job's journal
 * record keeps so that the job can run again exactly as asked. Read and
 * written here only, so that the call, the Job object and the record
 * spell it alike: as Copy's parameters (include/io.cpd.Manager.varlink),
 * where an automatic priority is a priority left out.
 */
#ifndef CPD_REQUEST_H
#define CPD_REQUEST_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "cpd-vocab.h"

/* A filter rule as asked (filter.h compiles them). */
struct job_filter {
	enum filter_rule  rule;
	char		 *pattern;
};

#define REQUEST_MAX_FILTERS	1000
#define REQUEST_MAX_DEST_DIRS	20	/* link_dest and clone_dest together, as rsync's */

struct job_request {
	char		**sources;	/* absolute paths, owned by the job after job_submit */
	size_t		  nsources;
	char		 *destination;
	bool		  no_clobber;
	bool		  sync;
	enum job_prio	  prio;		/* PRIO_AUTO: chosen from the size */
	uint64_t	  bwlimit;	/* bytes per second, 0: none */
	bool		  recursive;
	bool		  archive;	/* implies recursive */
	bool		  keep_going;
	enum reflink_mode reflink;
	mode_t		  umask;
	enum update_mode  update;
	bool		  delete;
	int64_t		  max_delete;	/* -1: no limit */
	struct job_filter *filters;
	size_t		  nfilters;
	char		**link_dest;	/* absolute paths */
	size_t		  nlink_dest;
	char		**clone_dest;
	size_t		  nclone_dest;
	bool		  dry_run;
	bool		  itemize;
	bool		  verify;
	/* PRESERVE_BIT()s: what the copy keeps of its sources (archive: all). */
	unsigned	  preserve;
	bool		  one_file_system;	/* no descent into other mounts */
	bool		  remove_destination;	/* what is in the way is replaced, whatever it is */
	bool		  hard_link;	/* link (cp -l): files are hard-linked, not copied */
	bool		  no_dereference;	/* cp -P: a symlink source is copied as one */
	bool		  default_mode;	/* cp --no-preserve=mode: 0666/0777 less umask */
	bool		  follow_sources;	/* cp -H: a symlink given as a source is followed */
	bool		  follow_links;	/* cp -L: every symlink is followed, in a tree too */
	bool		  symlink;	/* cp -s: files are symlinks to their sources */
	bool		  symlink_relative;	/* by a path relative to the link's directory */
	bool		  force;	/* cp -f: with backups, a file copied onto itself */
	enum sparse_mode  sparse;	/* cp --sparse */
	bool		  attributes_only;	/* cp --attributes-only: no data copied */
	char		 *backup_suffix;	/* cp -b: what is replaced is kept as name+suffix */
	enum backup_mode  backup;	/* or as name.~N~ */
	/* Its names are escaped on the wire, in and out (include/cpd-names.h). */
	bool		  escaped_names;
};

/* Whether the copy keeps attribute p of its sources. */
static inline bool
request_keeps(const struct job_request *req, enum preserve_attr p)
{
	return req->preserve & PRESERVE_BIT(p);
}

/*
 * The permission bits of a new file of mode src_mode (its type's bits
 * too) that does not keep the source's: the source's or (default_mode)
 * the type's default, less the umask.
 */
static inline mode_t
request_new_mode(const struct job_request *req, mode_t src_mode)
{
	mode_t base = !req->default_mode ? src_mode & 0777 : S_ISDIR(src_mode) ? 0777 : 0666;

	return base & ~req->umask;
}

/*
 * Whether a file of nlink links (a source given: top) is to be kept a
 * hard link of another name of the job: one with several links, or
 * with a symlink followed any file, as two symlinks may lead to it (cp).
 */
static inline bool
request_links_file(const struct job_request *req, uint32_t nlink, bool top)
{
	return request_keeps(req, PRESERVE_LINKS) &&
	    (nlink > 1 || req->follow_links || (top && req->follow_sources));
}

/* Whether what is in the way of a file is replaced whatever it is, keeping nothing of it. */
static inline bool
request_replaces(const struct job_request *req)
{
	return req->remove_destination || req->backup_suffix;
}

/*
 * Whether a symlink is copied as a symlink (cp -R, -P): one given as a
 * source (top), unless follow_sources, or one found in a tree; none
 * with follow_links.
 */
static inline bool
request_nofollow(const struct job_request *req, bool top)
{
	return (req->recursive || req->no_dereference) && !req->follow_links &&
	    !(top && req->follow_sources);
}

/* The META_* flags (engine.h) of what the copy keeps: all but links. */
unsigned request_meta_flags(const struct job_request *);

/*
 * Fill req from the parameters of a Copy call (or a record's request);
 * what is left out takes its default. 0, or -EINVAL or -ENOMEM with
 * *bad naming the parameter at fault (for InvalidParameter); req then
 * holds nothing to free.
 */
int	request_from_json(struct json_object *params, struct job_request *req,
	    const char **bad);
/* Add req's parameters to the object o, as a Copy call would give them. */
void	request_to_json(const struct job_request *req, struct json_object *o);
/* A file name (or a text with names in it) of the request's job, as its replies give it. */
struct json_object *request_name_json(const struct job_request *req, const char *name);
void	request_free(struct job_request *req);

#endif
