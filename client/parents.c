/*
 * cp --parents: each source goes to DEST/SOURCE, its path as given (cp
 * --parents a/b/c d makes d/a/b/c; /x/y makes d/x/y). The daemon has no
 * such mode: the client composes it from Copy calls, as any Varlink
 * client can. Each directory on the way that DEST lacks is made first,
 * as a copy of the source's directory without its contents (recursive,
 * everything in it excluded, a symlink on the way followed, as cp
 * does), with what the command preserves; then the source is copied into
 * the directory made for it. A directory on the way that DEST has is
 * left as it is. One source after another, as cp; the exit status is the
 * worst of them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "client.h"
#include "cpd-vocab.h"

/* Copy src into the directory dir (with a slash: it must be one), as the command asks. */
static int
parents_run(struct client *c, char *src, const char *dir)
{
	char *srcs[1] = { src };

	c->names = (struct cp_names){ .nsrc = 1, .user = srcs, .user_dest = dir,
	    .into_dir = true };
	return cmd_copy_run(c, 1, srcs, dir);
}

/* The directory src (a source's leading part) made as dst, without its contents. */
static int
parents_make_dir(struct client *c, char *src, const char *dst)
{
	struct json_object	*filters = c->filters, *rule = json_object_new_object();
	bool			 recursive = c->recursive, verbose = c->verbose;
	int			 deref = c->deref, status;
	char			*srcs[1] = { src };

	c->filters = json_object_new_array();
	json_object_object_add(rule, VOCAB_FILTER_RULE, json_object_new_string("exclude"));
	json_object_object_add(rule, VOCAB_FILTER_PATTERN, json_object_new_string("*"));
	json_object_array_add(c->filters, rule);
	c->recursive = true;
	c->deref = 'H';		/* a symlink on the way is looked through */
	c->verbose = false;	/* cp -v names the source only */
	c->names = (struct cp_names){ .nsrc = 1, .user = srcs, .user_dest = dst };
	status = cmd_copy_run(c, 1, srcs, dst);
	json_object_put(c->filters);
	c->filters = filters;
	c->recursive = recursive;
	c->deref = deref;
	c->verbose = verbose;
	return status;
}

/* The directory on the way whose name ends at rel[len], in DEST (into) and as a source (from). */
static int
parents_names(const char *dest, const char *src, size_t lead, const char *rel, size_t len,
    const char *tail, char **into, char **from)
{
	*into = *from = NULL;
	if (asprintf(into, "%s/%.*s", dest, (int)len, rel) < 0 ||
	    asprintf(from, "%.*s%.*s%s", (int)lead, src, (int)len, rel, tail) < 0) {
		free(*into);
		*into = *from = NULL;
		return client_error(CLIENT_EXIT_FAIL, "out of memory");
	}
	return CLIENT_EXIT_OK;
}

/*
 * Whether the directories on the way get the source's attributes again
 * once the source is copied, as cp -p does when it made one of them:
 * those it found too (coreutils' re_protect), the deepest first, their
 * times after their contents changed.
 */
static bool
parents_reprotect(const struct client *c)
{
	int		p = cp_preserve(c);	/* -1: -a's, left to the daemon */
	unsigned	bits = p >= 0 ? (unsigned)p : c->archive ? PRESERVE_ALL : 0;

	return bits & (PRESERVE_BIT(PRESERVE_MODE) | PRESERVE_BIT(PRESERVE_OWNERSHIP) |
	    PRESERVE_BIT(PRESERVE_TIMESTAMPS));
}

/* One source: the directories on its way that DEST lacks, then itself. */
static int
parents_one(struct client *c, const char *dest, char *src)
{
	size_t		 lead = strspn(src, "/"), end = strlen(src), len;
	char		*rel, *into, *from, *slash;
	struct stat	 st;
	int		 status = CLIENT_EXIT_OK, err;
	bool		 made = false;

	while (end > lead + 1 && src[end - 1] == '/')
		end--;
	if ((rel = strndup(src + lead, end - lead)) == NULL)
		return client_error(CLIENT_EXIT_FAIL, "out of memory");
	for (slash = strchr(rel, '/'); slash && status == CLIENT_EXIT_OK;
	    slash = strchr(slash + 1, '/')) {
		if ((status = parents_names(dest, src, lead, rel, (size_t)(slash - rel), "",
		    &into, &from)) != CLIENT_EXIT_OK)
			break;
		/* As cp: what is on the way must be a directory (those before it stay made). */
		if ((err = stat(from, &st) != 0 ? errno : S_ISDIR(st.st_mode) ? 0 : ENOTDIR))
			status = client_error(CLIENT_EXIT_FAIL, "failed to get attributes of "
			    "'%s': %s", from, strerror(err));
		else if (stat(into, &st) == 0) {
			if (!S_ISDIR(st.st_mode))
				status = client_error(CLIENT_EXIT_FAIL, "'%s' is not a directory",
				    into);
		} else if (errno == ENOENT) {
			status = parents_make_dir(c, from, into);
			made = true;
		} else
			status = client_error(CLIENT_EXIT_FAIL, "cannot access '%s': %s", into,
			    strerror(errno));
		free(into);
		free(from);
	}
	slash = strrchr(rel, '/');
	len = slash ? (size_t)(slash - rel) : 0;
	if (status == CLIENT_EXIT_OK && asprintf(&into, "%s/%.*s%s", dest, (int)len, rel,
	    slash ? "/" : "") < 0)
		status = client_error(CLIENT_EXIT_FAIL, "out of memory");
	else if (status == CLIENT_EXIT_OK) {
		status = parents_run(c, src, into);
		free(into);
	}
	/* Deepest first: "a/b/." gives a/b's attributes to the directory that is there. */
	while (made && status == CLIENT_EXIT_OK && parents_reprotect(c) && len > 0) {
		if ((status = parents_names(dest, src, lead, rel, len, "/.", &into, &from)) ==
		    CLIENT_EXIT_OK)
			status = parents_make_dir(c, from, into);
		free(into);
		free(from);
		while (len > 0 && rel[len - 1] != '/')
			len--;
		if (len > 0)
			len--;
	}
	free(rel);
	return status;
}

int
parents_copy(struct client *c)
{
	struct cp_names	 nm = c->names;
	int		 status = CLIENT_EXIT_OK, s;

	if (!nm.into_dir || nm.dot_added)
		return client_error(CLIENT_EXIT_USAGE, "with --parents, the destination "
		    "must be a directory");
	/* The first failure's status; vanished files only if nothing failed. */
	for (int i = 0; i < nm.nsrc; i++)
		if ((s = parents_one(c, nm.user_dest, nm.user[i])) != CLIENT_EXIT_OK &&
		    (status == CLIENT_EXIT_OK || status == CLIENT_EXIT_VANISHED))
			status = s;
	c->names = nm;
	return status;
}
