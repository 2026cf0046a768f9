/*
 * cp -i: the user is asked about each file in the way, on the terminal
 * (stderr and stdin), before the copy is sent. Asked here, not by the
 * daemon, which has no way to ask; the client runs as the user, so it
 * sees what the daemon will see as the user, but for what changes
 * meanwhile: a file that appears after its question is replaced unasked.
 *
 * A source answered no is left out. With -R or -a, a directory given is
 * walked, and each of its entries but directories whose destination
 * exists is asked about; one answered no is left out by an exclude rule
 * of its own, anchored at the job's transfer root and put before the
 * user's filters, so that the daemon never touches it.
 */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "client.h"
#include "cpd-vocab.h"

/* The walk of one source tree (nftw has no argument to pass it by). */
static struct {
	size_t			 srclen;	/* a path's part that names the source */
	const char		*dst;		/* the source's destination */
	const char		*root;		/* its path from the transfer root: "/d" or "" */
	struct json_object	*rules;		/* the excludes, in order */
	int			 status;
} cp_ask_walk;

/* cp's question about dst: whether it was answered y or Y. */
static bool
cp_ask_yes(const char *dst)
{
	char line[64];

	fprintf(stderr, "cpd-client: overwrite '%s'? ", dst);
	fflush(stderr);
	return fgets(line, sizeof(line), stdin) != NULL && (line[0] == 'y' || line[0] == 'Y');
}

/* An exclude rule for exactly path (from the transfer root): wildcards escaped. */
static int
cp_ask_exclude(struct json_object *rules, const char *path)
{
	struct json_object	*f;
	char			*pat = malloc(2 * strlen(path) + 1), *p = pat;

	if (pat == NULL)
		return -1;
	for (const char *q = path; *q; q++) {
		if (strchr("*?[\\", *q))
			*p++ = '\\';
		*p++ = *q;
	}
	*p = '\0';
	f = json_object_new_object();
	json_object_object_add(f, VOCAB_FILTER_RULE, json_object_new_string("exclude"));
	json_object_object_add(f, VOCAB_FILTER_PATTERN, json_object_new_string(pat));
	free(pat);
	return json_object_array_add(rules, f);
}

static int
cp_ask_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	const char	*rel = path + cp_ask_walk.srclen;
	char		*dst = NULL, *from = NULL;
	struct stat	 dst_st;

	(void)st;
	(void)ftw;
	if (flag == FTW_D || flag == FTW_DNR || flag == FTW_DP || *rel == '\0')
		return 0;	/* a directory is merged, not replaced: never asked */
	if (asprintf(&dst, "%s%s", cp_ask_walk.dst, rel) < 0 ||
	    asprintf(&from, "%s%s", cp_ask_walk.root, rel) < 0 ||
	    (lstat(dst, &dst_st) == 0 && !cp_ask_yes(dst) &&
	    cp_ask_exclude(cp_ask_walk.rules, from) < 0))
		cp_ask_walk.status = client_error(CLIENT_EXIT_FAIL, "out of memory");
	free(dst);
	free(from);
	return cp_ask_walk.status != CLIENT_EXIT_OK;
}

/* Source src (a directory) goes to dst, its entries named from root: ask about them. */
static int
cp_ask_tree(struct client *c, const char *src, const char *dst, const char *root,
    struct json_object *rules)
{
	size_t	len = strlen(src);

	while (len > 1 && src[len - 1] == '/')
		len--;
	cp_ask_walk.srclen = len;
	cp_ask_walk.dst = dst;
	cp_ask_walk.root = root;
	cp_ask_walk.rules = rules;
	cp_ask_walk.status = CLIENT_EXIT_OK;
	/* As the daemon walks it: symlinks in it followed only with -L. */
	if (nftw(src, cp_ask_entry, 16, c->deref == 'L' ? 0 : FTW_PHYS) < 0 &&
	    cp_ask_walk.status == CLIENT_EXIT_OK)
		return client_error(CLIENT_EXIT_FAIL, "cannot read '%s': %s", src, strerror(errno));
	return cp_ask_walk.status;
}

/* The user's filters after the excludes (the first rule to match decides). */
static void
cp_ask_filters(struct client *c, struct json_object *rules)
{
	size_t n = c->filters ? json_object_array_length(c->filters) : 0;

	if (json_object_array_length(rules) == 0) {
		json_object_put(rules);
		return;
	}
	for (size_t i = 0; i < n; i++)
		json_object_array_add(rules, json_object_get(json_object_array_get_idx(c->filters, i)));
	json_object_put(c->filters);
	c->filters = rules;
}

/* Whether source src is a directory the copy walks (a symlink given: followed with -H, -L). */
static bool
cp_ask_is_tree(const struct client *c, const char *src)
{
	struct stat st;

	if (!c->recursive && !c->archive)
		return false;
	return (c->deref == 'H' || c->deref == 'L' ? stat(src, &st) : lstat(src, &st)) == 0 &&
	    S_ISDIR(st.st_mode);
}

/*
 * Where source i goes (*dst, as cp names it) and how the daemon's
 * filters name it (*root, from the transfer root: "/NAME", or "" for
 * SRC/. whose entries go into DEST itself). 0, or -1 without memory.
 */
static int
cp_ask_names(const struct client *c, int i, char **dst, char **root)
{
	const struct cp_names	*nm = &c->names;
	size_t			 len, dl = strlen(nm->user_dest);
	const char		*base = cp_base(nm->user[i], &len);
	bool			 dot = nm->dot_added || (len == 1 && base[0] == '.');

	*dst = *root = NULL;
	/* cp names SRC/.'s entries "DEST/./f", as it names any source's. */
	if (nm->into_dir && !nm->dot_added ? asprintf(dst, "%s%s%.*s", nm->user_dest,
	    dl && nm->user_dest[dl - 1] == '/' ? "" : "/", (int)len, base) < 0 :
	    (*dst = strdup(nm->user_dest)) == NULL)
		*dst = NULL;
	if (dot ? (*root = strdup("")) == NULL : asprintf(root, "/%.*s", (int)len, base) < 0)
		*root = NULL;
	return *dst && *root ? 0 : -1;
}

int
cp_ask(struct client *c)
{
	struct cp_names		*nm = &c->names;
	struct json_object	*rules = json_object_new_array();
	char			*dst, *root, **kept;
	struct stat		 st;
	int			 n = 0, status = CLIENT_EXIT_OK;

	if ((kept = calloc((size_t)nm->nsrc + 1, sizeof(*kept))) == NULL)
		return client_error(CLIENT_EXIT_FAIL, "out of memory");
	for (int i = 0; i < nm->nsrc && status == CLIENT_EXIT_OK; i++) {
		bool keep = true;

		if (cp_ask_names(c, i, &dst, &root) < 0)
			status = client_error(CLIENT_EXIT_FAIL, "out of memory");
		else if (cp_ask_is_tree(c, nm->user[i]))
			status = cp_ask_tree(c, nm->user[i], dst, root, rules);
		else if (lstat(dst, &st) == 0 && !S_ISDIR(st.st_mode))
			keep = cp_ask_yes(dst);
		if (status == CLIENT_EXIT_OK && keep)
			kept[n++] = nm->user[i];
		free(dst);
		free(root);
	}
	if (status == CLIENT_EXIT_OK) {
		/* The kept ones stand where the sources stood: argv outlives them. */
		memcpy(nm->user, kept, (size_t)n * sizeof(*kept));
		nm->nsrc = n;
		cp_ask_filters(c, rules);
	} else
		json_object_put(rules);
	free(kept);
	return status;
}
