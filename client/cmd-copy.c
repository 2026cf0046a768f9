/* copy: submit a Copy job and, unless detached, follow it to its end. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client.h"
#include "cpd-names.h"

enum {
	CMD_COPY_JSON = 256,
	CMD_COPY_SYNC,
	CMD_COPY_NO_SYNC,
	CMD_COPY_CLOBBER,
	CMD_COPY_PROGRESS,
	CMD_COPY_NO_PROGRESS,
	CMD_COPY_BWLIMIT,
	CMD_COPY_REFLINK,
	CMD_COPY_KEEP_GOING,
	CMD_COPY_UPDATE,
	CMD_COPY_CHECKSUM,
	CMD_COPY_DELETE,
	CMD_COPY_MAX_DELETE,
	CMD_COPY_EXCLUDE,
	CMD_COPY_INCLUDE,
	CMD_COPY_EXCLUDE_FROM,
	CMD_COPY_INCLUDE_FROM,
	CMD_COPY_LINK_DEST,
	CMD_COPY_CLONE_DEST,
	CMD_COPY_DRY_RUN,
	CMD_COPY_ITEMIZE,
	CMD_COPY_VERIFY,
	CMD_COPY_MANIFEST,
	CMD_COPY_PRIORITY,
	CMD_COPY_DETACH,
};

/* cp's letters (cp.c), -S and -t with their argument, and -h. */
#define CMD_COPY_SHORT	":abdfHilLnpPrRsS:t:TuvxZh"

static const struct option cmd_copy_options[] = {
	/* cp's */
	{ "archive",	 no_argument,		NULL, 'a' },
	{ "attributes-only", no_argument,	NULL, CP_ATTRIBUTES_ONLY },
	{ "backup",	 optional_argument,	NULL, CP_BACKUP },
	{ "copy-contents", no_argument,		NULL, CP_COPY_CONTENTS },
	{ "debug",	 no_argument,		NULL, CP_DEBUG },
	{ "force",	 no_argument,		NULL, 'f' },
	{ "interactive", no_argument,		NULL, 'i' },
	{ "link",	 no_argument,		NULL, 'l' },
	{ "dereference", no_argument,		NULL, 'L' },
	{ "no-clobber",	 no_argument,		NULL, 'n' },
	{ "no-dereference", no_argument,	NULL, 'P' },
	{ "preserve",	 optional_argument,	NULL, CP_PRESERVE },
	{ "no-preserve", required_argument,	NULL, CP_NO_PRESERVE },
	{ "parents",	 no_argument,		NULL, CP_PARENTS },
	{ "recursive",	 no_argument,		NULL, 'R' },
	{ "reflink",	 optional_argument,	NULL, CMD_COPY_REFLINK },
	{ "remove-destination", no_argument,	NULL, CP_REMOVE_DESTINATION },
	{ "sparse",	 required_argument,	NULL, CP_SPARSE },
	{ "strip-trailing-slashes", no_argument, NULL, CP_STRIP_TRAILING_SLASHES },
	{ "symbolic-link", no_argument,		NULL, 's' },
	{ "suffix",	 required_argument,	NULL, 'S' },
	{ "target-directory", required_argument, NULL, 't' },
	{ "no-target-directory", no_argument,	NULL, 'T' },
	{ "verbose",	 no_argument,		NULL, 'v' },
	{ "one-file-system", no_argument,	NULL, 'x' },
	{ "context",	 optional_argument,	NULL, CP_CONTEXT },
	/* cpd's own */
	{ "keep-going",	 no_argument,		NULL, CMD_COPY_KEEP_GOING },
	{ "clobber",	 no_argument,		NULL, CMD_COPY_CLOBBER },
	{ "sync",	 no_argument,		NULL, CMD_COPY_SYNC },
	{ "no-sync",	 no_argument,		NULL, CMD_COPY_NO_SYNC },
	{ "priority",	 required_argument,	NULL, CMD_COPY_PRIORITY },
	{ "bwlimit",	 required_argument,	NULL, CMD_COPY_BWLIMIT },
	{ "detach",	 no_argument,		NULL, CMD_COPY_DETACH },
	{ "json",	 no_argument,		NULL, CMD_COPY_JSON },
	{ "progress",	 required_argument,	NULL, CMD_COPY_PROGRESS },
	{ "no-progress", no_argument,		NULL, CMD_COPY_NO_PROGRESS },
	{ "update",	 optional_argument,	NULL, CMD_COPY_UPDATE },
	{ "checksum",	 no_argument,		NULL, CMD_COPY_CHECKSUM },
	{ "delete",	 no_argument,		NULL, CMD_COPY_DELETE },
	{ "max-delete",	 required_argument,	NULL, CMD_COPY_MAX_DELETE },
	{ "exclude",	 required_argument,	NULL, CMD_COPY_EXCLUDE },
	{ "include",	 required_argument,	NULL, CMD_COPY_INCLUDE },
	{ "exclude-from", required_argument,	NULL, CMD_COPY_EXCLUDE_FROM },
	{ "include-from", required_argument,	NULL, CMD_COPY_INCLUDE_FROM },
	{ "link-dest",	 required_argument,	NULL, CMD_COPY_LINK_DEST },
	{ "clone-dest",	 required_argument,	NULL, CMD_COPY_CLONE_DEST },
	{ "dry-run",	 no_argument,		NULL, CMD_COPY_DRY_RUN },
	{ "itemize-changes", no_argument,	NULL, CMD_COPY_ITEMIZE },
	{ "verify",	 no_argument,		NULL, CMD_COPY_VERIFY },
	{ "manifest",	 required_argument,	NULL, CMD_COPY_MANIFEST },
	{ "help",	 no_argument,		NULL, 'h' },
	{ NULL,		 0,			NULL, 0 }
};

int
cmd_copy_parse_reflink(const char *s)
{
	int	 r = vocab_reflink_parse(s);

	return r < 0 ? -1 : r;
}

const char *
cmd_copy_reflink_name(int reflink)
{
	if (reflink < 0 || reflink >= REFLINK_COUNT)
		return NULL;
	return vocab_reflink_name((enum reflink_mode)reflink);
}

static mode_t
cmd_copy_umask(void)
{
	mode_t	 mask = umask(0);

	umask(mask);
	return mask;
}

/*
 * The names of a Copy's parameters (paths, filter patterns, a suffix):
 * whether one is not UTF-8; with escape, each is put in the escaped
 * form (include/cpd-names.h), which the call then says it uses, and
 * whether all were (false: out of memory).
 */
static bool
cmd_copy_name(struct json_object *v, bool escape, struct json_object **out)
{
	const char	*s = json_object_get_string(v);
	char		*e;

	if (!escape)
		return !cpd_utf8(s, strlen(s));
	if ((e = cpd_name_escape(s)) == NULL)
		return false;
	*out = json_object_new_string(e);
	free(e);
	return true;
}

/* One name (v, in *slot of its array or object); what cmd_copy_names() adds up. */
static bool
cmd_copy_name_at(struct json_object *holder, const char *key, size_t idx, bool escape)
{
	struct json_object	*v = key ? NULL : json_object_array_get_idx(holder, idx), *n;
	bool			 r;

	if (key)
		json_object_object_get_ex(holder, key, &v);
	if ((r = cmd_copy_name(v, escape, &n)) && escape) {
		if (key)
			json_object_object_add(holder, key, n);
		else
			json_object_array_put_idx(holder, idx, n);
	}
	return r;
}

static bool
cmd_copy_names(struct json_object *params, bool escape)
{
	static const char *const keys[] = {
		VOCAB_SOURCES, VOCAB_DESTINATION, VOCAB_LINK_DEST, VOCAB_CLONE_DEST,
		VOCAB_FILTERS, VOCAB_BACKUP_SUFFIX,
	};
	struct json_object	*v, *e;
	bool			 all = true, any = false, r;

	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		if (!json_object_object_get_ex(params, keys[k], &v))
			continue;
		for (size_t i = 0; i < (json_object_is_type(v, json_type_array) ?
		    json_object_array_length(v) : 1); i++) {
			e = json_object_is_type(v, json_type_array) ?
			    json_object_array_get_idx(v, i) : NULL;
			if (e == NULL)
				r = cmd_copy_name_at(params, keys[k], 0, escape);
			else if (json_object_is_type(e, json_type_string))
				r = cmd_copy_name_at(v, NULL, i, escape);
			else
				r = cmd_copy_name_at(e, VOCAB_FILTER_PATTERN, 0, escape);
			all &= r;
			any |= r;
		}
	}
	return escape ? all : any;
}

/* The options of incremental copies, mirrors and snapshots: only those given. */
static void
cmd_copy_backup_params(struct client *c, struct json_object *params)
{
	if (c->update >= 0)
		json_object_object_add(params, VOCAB_UPDATE,
		    json_object_new_string(vocab_update_name((enum update_mode)c->update)));
	if (c->delete)
		json_object_object_add(params, VOCAB_DELETE, json_object_new_boolean(1));
	if (c->max_delete >= 0)
		json_object_object_add(params, VOCAB_MAX_DELETE,
		    json_object_new_int64(c->max_delete));
	if (c->filters)
		json_object_object_add(params, VOCAB_FILTERS, json_object_get(c->filters));
	if (c->link_dest)
		json_object_object_add(params, VOCAB_LINK_DEST, json_object_get(c->link_dest));
	if (c->clone_dest)
		json_object_object_add(params, VOCAB_CLONE_DEST, json_object_get(c->clone_dest));
	if (c->dry_run)
		json_object_object_add(params, VOCAB_DRY_RUN, json_object_new_boolean(1));
	if (c->itemize || c->manifest || c->verbose)
		json_object_object_add(params, VOCAB_ITEMIZE, json_object_new_boolean(1));
	if (c->verify || c->manifest)
		json_object_object_add(params, VOCAB_VERIFY, json_object_new_boolean(1));
}

/* cp's options that have a parameter of their own: only those given. */
static void
cmd_copy_cp_params(struct client *c, struct json_object *params)
{
	int			 preserve = cp_preserve(c);
	struct json_object	*a;

	if (preserve >= 0) {
		a = json_object_new_array();
		for (int p = 0; p < PRESERVE_COUNT; p++)
			if (preserve & (int)PRESERVE_BIT(p))
				json_object_array_add(a, json_object_new_string(
				    vocab_preserve_name((enum preserve_attr)p)));
		json_object_object_add(params, VOCAB_PRESERVE, a);
	}
	/* cp --no-preserve=mode: not the source's bits, a new file's. */
	if (c->no_preserve & PRESERVE_BIT(PRESERVE_MODE))
		json_object_object_add(params, VOCAB_DEFAULT_MODE, json_object_new_boolean(1));
	if (c->one_file_system)
		json_object_object_add(params, VOCAB_ONE_FILE_SYSTEM, json_object_new_boolean(1));
	if (c->remove_destination)
		json_object_object_add(params, VOCAB_REMOVE_DESTINATION,
		    json_object_new_boolean(1));
	if (c->backup_suffix)
		json_object_object_add(params, VOCAB_BACKUP_SUFFIX,
		    json_object_new_string(c->backup_suffix));
	if (c->attributes_only)
		json_object_object_add(params, VOCAB_ATTRIBUTES_ONLY, json_object_new_boolean(1));
	if (c->sparse > SPARSE_AUTO)
		json_object_object_add(params, VOCAB_SPARSE,
		    json_object_new_string(vocab_sparse_name((enum sparse_mode)c->sparse)));
	if (c->force)
		json_object_object_add(params, VOCAB_FORCE, json_object_new_boolean(1));
	if (c->backup_suffix && c->backup_mode != BACKUP_SIMPLE)
		json_object_object_add(params, VOCAB_BACKUP,
		    json_object_new_string(vocab_backup_name(c->backup_mode)));
	/* -P, -d: what a tree copy does with a symlink source, for a plain one. */
	if (c->deref == 'P' && !c->recursive && !c->archive)
		json_object_object_add(params, VOCAB_NO_DEREFERENCE, json_object_new_boolean(1));
	/* -H: the sources given are followed, in a tree too; -L: every symlink. */
	if (c->deref == 'H' && (c->recursive || c->archive))
		json_object_object_add(params, VOCAB_FOLLOW_SOURCES, json_object_new_boolean(1));
	if (c->deref == 'L' && (c->recursive || c->archive))
		json_object_object_add(params, VOCAB_FOLLOW_LINKS, json_object_new_boolean(1));
	/* cp -l, -s fail on an existing file, unless -f, --remove-destination or -b. */
	if (c->symlink)
		json_object_object_add(params, VOCAB_SYMLINK, json_object_new_boolean(1));
	if (cp_symlink_relative(c))
		json_object_object_add(params, VOCAB_SYMLINK_RELATIVE, json_object_new_boolean(1));
	else if (c->hard_link)
		json_object_object_add(params, VOCAB_LINK, json_object_new_boolean(1));
	if (c->hard_link || c->symlink) {
		if (!c->force && !c->remove_destination && !c->backup_suffix)
			json_object_object_add(params, VOCAB_NO_CLOBBER,
			    json_object_new_boolean(1));
	}
}

/* --link-dest DIR, --clone-dest DIR: absolute, as every path sent. */
static int
cmd_copy_add_dir(const struct cmd_entry *cmd, struct json_object **list,
    const char *dir)
{
	char	*cwd = dir[0] == '/' ? NULL : getcwd(NULL, 0);
	char	*path;

	if (dir[0] == '\0')
		return cmd_usage_error(cmd, "empty path");
	if (dir[0] != '/' && cwd == NULL)
		return client_error(CLIENT_EXIT_FAIL, "cannot resolve '%s': current "
		    "directory: %s", dir, strerror(errno));
	path = client_abspath(cwd, dir);
	free(cwd);
	if (path == NULL)
		return client_error(CLIENT_EXIT_FAIL, "out of memory");
	if (*list == NULL)
		*list = json_object_new_array();
	json_object_array_add(*list, json_object_new_string(path));
	free(path);
	return CLIENT_EXIT_OK;
}

/* An option of incremental copies, mirrors and snapshots; -1 with *status when bad. */
static int
cmd_copy_backup_option(struct client *c, const struct cmd_entry *cmd, int opt,
    int *status)
{
	char	*end;

	switch (opt) {
	case CMD_COPY_UPDATE:
		/* Bare --update is cp's: --update=older. */
		if ((c->update = optarg ? vocab_update_parse(optarg) : UPDATE_OLDER) < 0) {
			*status = cmd_usage_error(cmd, "invalid value '%s' for --update "
			    "(expected all, none, older, quick or checksum)", optarg);
			return -1;
		}
		return 0;
	case CMD_COPY_CHECKSUM:
		c->update = UPDATE_CHECKSUM;
		return 0;
	case CMD_COPY_DELETE:
		c->delete = true;
		return 0;
	case CMD_COPY_MAX_DELETE:
		errno = 0;
		c->max_delete = strtoll(optarg, &end, 10);
		if (errno || end == optarg || *end || c->max_delete < 0) {
			*status = cmd_usage_error(cmd, "invalid value '%s' for --max-delete "
			    "(expected a count, 0 or more)", optarg);
			return -1;
		}
		return 0;
	case CMD_COPY_EXCLUDE:
	case CMD_COPY_INCLUDE:
		if (*optarg == '\0') {
			*status = cmd_usage_error(cmd, "empty pattern");
			return -1;
		}
		itemize_filter(c, opt == CMD_COPY_EXCLUDE ? "exclude" : "include", optarg);
		return 0;
	case CMD_COPY_EXCLUDE_FROM:
	case CMD_COPY_INCLUDE_FROM:
		if (itemize_read_patterns(c, optarg,
		    opt == CMD_COPY_EXCLUDE_FROM ? "exclude" : "include") < 0) {
			*status = client_error(CLIENT_EXIT_USAGE, "cannot read patterns "
			    "from '%s': %s", optarg, strerror(errno));
			return -1;
		}
		return 0;
	case CMD_COPY_LINK_DEST:
	case CMD_COPY_CLONE_DEST:
		*status = cmd_copy_add_dir(cmd, opt == CMD_COPY_LINK_DEST ?
		    &c->link_dest : &c->clone_dest, optarg);
		return *status == CLIENT_EXIT_OK ? 0 : -1;
	case CMD_COPY_DRY_RUN:
		c->dry_run = true;
		return 0;
	case CMD_COPY_ITEMIZE:
		c->itemize++;
		return 0;
	case CMD_COPY_VERIFY:
		c->verify = true;
		return 0;
	default:	/* CMD_COPY_MANIFEST */
		c->manifest = optarg;
		return 0;
	}
}

struct json_object *
cmd_copy_params(struct client *c, int nsrc, char **srcs, const char *dest,
    int *status)
{
	struct json_object	*params, *sources;
	char			*cwd = NULL, *path;
	int			 i;
	bool			 relative = dest[0] != '/';

	for (i = 0; i < nsrc; i++)
		if (srcs[i][0] != '/')
			relative = true;
	if (relative && (cwd = getcwd(NULL, 0)) == NULL) {
		*status = client_error(CLIENT_EXIT_FAIL, "cannot resolve "
		    "relative paths: current directory: %s", strerror(errno));
		return NULL;
	}

	params = json_object_new_object();
	sources = json_object_new_array();
	json_object_object_add(params, VOCAB_SOURCES, sources);
	for (i = 0; i < nsrc; i++) {
		if ((path = client_abspath(cwd, srcs[i])) == NULL)
			goto fail;
		json_object_array_add(sources, json_object_new_string(path));
		free(path);
	}
	if ((path = client_abspath(cwd, dest)) == NULL)
		goto fail;
	json_object_object_add(params, VOCAB_DESTINATION,
	    json_object_new_string(path));
	free(path);
	free(cwd);

	json_object_object_add(params, VOCAB_NO_CLOBBER,
	    json_object_new_boolean(c->no_clobber));
	if (c->sync >= 0)	/* unset: the daemon's default (jobs.sync) */
		json_object_object_add(params, VOCAB_SYNC, json_object_new_boolean(c->sync));
	/* Unset: the daemon chooses from the job's size. */
	if (c->priority != PRIORITY_UNSET)
		json_object_object_add(params, VOCAB_PRIORITY,
		    json_object_new_string(conf_priority_name(c->priority)));
	/* Only a limit is sent: an older daemon does not know the key. */
	if (c->bwlimit > 0)
		json_object_object_add(params, VOCAB_BWLIMIT,
		    json_object_new_int64((int64_t)c->bwlimit));
	/* The same for these: plain copies work with any daemon. */
	if (c->recursive)
		json_object_object_add(params, VOCAB_RECURSIVE,
		    json_object_new_boolean(1));
	if (c->archive)
		json_object_object_add(params, VOCAB_ARCHIVE,
		    json_object_new_boolean(1));
	if (c->reflink != REFLINK_UNSET)
		json_object_object_add(params, VOCAB_REFLINK,
		    json_object_new_string(cmd_copy_reflink_name(c->reflink)));
	if (c->keep_going)
		json_object_object_add(params, VOCAB_KEEP_GOING,
		    json_object_new_boolean(1));
	json_object_object_add(params, VOCAB_UMASK,
	    json_object_new_int((int)cmd_copy_umask()));
	cmd_copy_backup_params(c, params);
	cmd_copy_cp_params(c, params);
	if (cmd_copy_names(params, false)) {
		if (!cmd_copy_names(params, true))
			goto fail;
		json_object_object_add(params, VOCAB_ESCAPED_NAMES, json_object_new_boolean(1));
	}
	return params;

fail:
	/* Paths are non-empty and cwd is known: only memory can run out. */
	free(cwd);
	json_object_put(params);
	*status = client_error(CLIENT_EXIT_FAIL, "out of memory");
	return NULL;
}

/* --detach: submit and print the accepted job. */
static int
cmd_copy_detached(struct client *c, struct json_object *params)
{
	struct vl_reply		 reply;
	struct json_object	*job;
	int			 status;

	status = client_call(c, CPD_METHOD("Copy"), params, &reply);
	if (status != CLIENT_EXIT_OK)
		return status;
	if ((job = job_from_params(reply.params)) == NULL)
		status = client_error(CLIENT_EXIT_CONNECT,
		    "malformed reply from the daemon at %s", c->socket);
	else if (c->json)
		client_print_json(job);
	else
		printf("%" PRIu64 "\n", job_u64(job, "id"));
	vl_reply_free(&reply);
	return status;
}

static int
cmd_copy_follow(struct client *c, struct json_object *params)
{
	struct vl	*vl;
	int		 status, r;

	if (client_signals_catch() == -1)
		return client_error(CLIENT_EXIT_FAIL, "cannot catch signals: %s",
		    strerror(errno));
	if ((status = client_connect(c, &vl)) != CLIENT_EXIT_OK)
		return status;
	r = vl_send(vl, CPD_METHOD("Copy"), params, true);
	if (r != VL_OK)
		status = vl_report(vl, r);
	else
		status = job_follow(c, vl, 0);
	vl_close(vl);
	return status;
}

/* An option of cp's (cmd_copy_options' values), not one of cpd's own. */
static bool
cmd_copy_is_cp(int val)
{
	return val < 256 || val >= CP_BACKUP || val == CMD_COPY_REFLINK;
}

/*
 * The long option getopt_long just found ambiguous (opt '?'), taken as
 * cp takes it: an abbreviation of one of cp's options only ("--b" is
 * cp's --backup, not also cpd's --bwlimit), with its argument in optarg
 * (optind moved past a separate one). 0: none such.
 */
static int
cmd_copy_cp_abbrev(int argc, char **argv)
{
	const char		*arg = optind > 0 ? argv[optind - 1] : "";
	const struct option	*found = NULL;
	const char		*eq;
	size_t			 len;

	if (strncmp(arg, "--", 2) != 0)
		return 0;
	arg += 2;
	eq = strchr(arg, '=');
	len = eq ? (size_t)(eq - arg) : strlen(arg);
	for (const struct option *o = cmd_copy_options; o->name && len; o++)
		if (cmd_copy_is_cp(o->val) && strncmp(o->name, arg, len) == 0) {
			if (found)
				return 0;	/* ambiguous in cp too */
			found = o;
		}
	if (found == NULL || (eq && found->has_arg == no_argument))
		return 0;
	optarg = eq ? (char *)eq + 1 : NULL;
	if (found->has_arg == required_argument && eq == NULL) {
		if (optind >= argc)
			return ':';
		optarg = argv[optind++];
	}
	return found->val;
}

int
cmd_copy_parse(struct client *c, const struct cmd_entry *cmd, int argc,
    char **argv, int *status)
{
	int	 opt;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, CMD_COPY_SHORT, cmd_copy_options,
	    NULL)) != -1) {
		if (opt == '?' && optopt == 0)
			opt = cmd_copy_cp_abbrev(argc, argv) ?: '?';
		switch (opt == ':' || opt == '?' ? 0 : cp_option(c, opt, status)) {
		case 1:
			continue;
		case -1:
			return -1;
		}
		switch (opt) {
		case CMD_COPY_CLOBBER:
			c->no_clobber = false;
			if (c->update == UPDATE_NONE)
				c->update = -1;
			break;
		case CMD_COPY_REFLINK:
			/* Bare --reflink is --reflink=always, as in cp. */
			if (optarg == NULL)
				c->reflink = REFLINK_ALWAYS;
			else if ((c->reflink = cmd_copy_parse_reflink(optarg))
			    == -1) {
				*status = cmd_usage_error(cmd, "invalid value "
				    "'%s' for --reflink (expected auto, always "
				    "or never)", optarg);
				return -1;
			}
			break;
		case CMD_COPY_KEEP_GOING:
			c->keep_going = true;
			break;
		case CMD_COPY_SYNC:
			c->sync = true;
			break;
		case CMD_COPY_NO_SYNC:
			c->sync = false;
			break;
		case CMD_COPY_PRIORITY:
			if (conf_parse_priority(optarg, &c->priority) == -1) {
				*status = cmd_usage_error(cmd, "invalid "
				    "priority '%s' (expected auto, "
				    "interactive, normal or bulk)", optarg);
				return -1;
			}
			break;
		case CMD_COPY_BWLIMIT:
			switch (human_parse_rate(optarg, &c->bwlimit)) {
			case 0:
				break;
			case ERANGE:
				*status = cmd_usage_error(cmd, "bandwidth "
				    "limit '%s' out of range", optarg);
				return -1;
			default:
				*status = cmd_usage_error(cmd, "invalid "
				    "bandwidth limit '%s' (expected bytes per "
				    "second such as 50M, 1.5G or 1048576, or 0 "
				    "for none)", optarg);
				return -1;
			}
			break;
		case CMD_COPY_DETACH:
			c->detach = true;
			break;
		case CMD_COPY_JSON:
			c->json = true;
			break;
		case CMD_COPY_PROGRESS:
			if ((c->progress = conf_parse_progress(optarg)) == -1) {
				*status = cmd_usage_error(cmd, "invalid value "
				    "'%s' for --progress (expected auto, "
				    "always or never)", optarg);
				return -1;
			}
			break;
		case CMD_COPY_NO_PROGRESS:
			c->progress = PROGRESS_NEVER;
			break;
		case 'h':
			cmd_print_usage(cmd, stdout);
			fputc('\n', stdout);
			cmd_print_copy_help(stdout);
			*status = CLIENT_EXIT_OK;
			return -1;
		default:
			if (opt >= CMD_COPY_UPDATE && opt <= CMD_COPY_MANIFEST) {
				if (cmd_copy_backup_option(c, cmd, opt, status) < 0)
					return -1;
				break;
			}
			*status = cmd_option_error(cmd, opt, argv);
			return -1;
		}
	}
	return optind;
}

int
cmd_copy_run(struct client *c, int nsrc, char **srcs, const char *dest)
{
	struct json_object	*params;
	int			 status;

	if ((params = cmd_copy_params(c, nsrc, srcs, dest, &status)) == NULL)
		return status;
	status = c->detach ? cmd_copy_detached(c, params) : cmd_copy_follow(c, params);
	json_object_put(params);
	return status;
}

int
cmd_copy(struct client *c, const struct cmd_entry *cmd, int argc, char **argv)
{
	char	**srcs = NULL, *dest = NULL;
	int	  status, i;

	if ((i = cmd_copy_parse(c, cmd, argc, argv, &status)) == -1)
		return status;
	if ((status = cp_operands(c, cmd, argc - i, argv + i)) != CLIENT_EXIT_OK)
		return status;
	if (c->interactive && (status = cp_ask(c)) != CLIENT_EXIT_OK)
		return status;
	if (c->names.nsrc == 0)
		return CLIENT_EXIT_OK;		/* -i: every one answered no */
	if (!c->parents)
		cp_warn_twice(c);
	if (c->detach && (c->itemize || c->manifest))
		return cmd_usage_error(cmd, "--itemize-changes and --manifest need "
		    "the job followed, not --detach");
	if (c->itemize || c->verbose)
		c->progress = PROGRESS_NEVER;	/* the lines are the progress */
	if (!c->detach && (status = itemize_manifest_open(c)) != CLIENT_EXIT_OK)
		return status;
	if (c->parents)
		status = parents_copy(c);
	else if (cp_sent_paths(c, &srcs, &dest) < 0)
		status = client_error(CLIENT_EXIT_FAIL, "out of memory");
	else
		status = cmd_copy_run(c, c->names.nsrc, srcs, dest);
	if (!c->parents)
		cp_sent_free(c->names.nsrc, srcs, dest);
	if (!c->detach && itemize_manifest_close(c) != CLIENT_EXIT_OK && status == CLIENT_EXIT_OK)
		status = CLIENT_EXIT_FAIL;
	return status;
}
