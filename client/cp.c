/*
 * cp's command line in copy: the options of GNU cp (coreutils 9.1) that
 * mean what they mean in cp, the ones refused as not supported, the
 * operands (-t, -T, --strip-trailing-slashes), and the names the user
 * sees: cp -v's lines and the daemon's messages with each path as the
 * user wrote it rather than as sent (absolute).
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client.h"

/* What cpd cannot do, and why it says so rather than do something else. */
static const struct {
	int		 opt;
	const char	*name;
	const char	*what;
} cp_refused[] = {
	{ CP_COPY_CONTENTS, "--copy-contents", "the contents of special files in a tree" },
	{ CP_DEBUG, "--debug", "cp's debugging output" },
};


/* SELinux is there: then -Z would have to mean something. */
static bool
cp_selinux(void)
{
	return access("/sys/fs/selinux/enforce", F_OK) == 0;
}

static int
cp_refuse(const char *name, const char *what)
{
	return client_error(CLIENT_EXIT_USAGE, "option '%s' is not supported (%s); "
	    "see cpd-client(1)", name, what);
}

/*
 * "mode,ownership" of --preserve (keep) or --no-preserve; context and all
 * as cp takes them. The later option wins for an attribute named in both.
 */
static int
cp_preserve_list(struct client *c, const char *opt, const char *list, bool keep)
{
	char		*copy = strdup(list), *word, *save = NULL;
	int		 p, rc = 0;
	unsigned	 b = 0;

	if (copy == NULL)
		return client_error(CLIENT_EXIT_FAIL, "out of memory");
	for (word = strtok_r(copy, ",", &save); word && rc == 0;
	    word = strtok_r(NULL, ",", &save)) {
		if (strcmp(word, "all") == 0)
			b |= PRESERVE_ALL;
		else if (strcmp(word, "context") == 0) {
			if (keep && !cp_selinux())
				rc = client_error(CLIENT_EXIT_FAIL, "cannot preserve security "
				    "context without an SELinux-enabled kernel");
			else if (keep)
				rc = cp_refuse("--preserve=context", "SELinux contexts");
		} else if ((p = vocab_preserve_parse(word)) >= 0)
			b |= PRESERVE_BIT(p);
		else
			rc = client_error(CLIENT_EXIT_USAGE, "invalid argument '%s' for '%s' "
			    "(expected mode, ownership, timestamps, links, context, xattr or all)",
			    word, opt);
	}
	if (list[0] == '\0')
		rc = client_error(CLIENT_EXIT_USAGE, "invalid argument '' for '%s'", opt);
	free(copy);
	c->preserve = keep ? c->preserve | b : c->preserve & ~b;
	c->no_preserve = keep ? c->no_preserve & ~b : c->no_preserve | b;
	return rc;
}

int
cp_option(struct client *c, int opt, int *status)
{
	*status = CLIENT_EXIT_OK;
	for (size_t i = 0; i < sizeof cp_refused / sizeof cp_refused[0]; i++)
		if (cp_refused[i].opt == opt) {
			*status = cp_refuse(cp_refused[i].name, cp_refused[i].what);
			return -1;
		}
	switch (opt) {
	case 'R':
	case 'r':
		c->recursive = true;
		break;
	case 'a':
		c->archive = true;	/* the daemon takes archive to imply -R, -P */
		c->deref = 'P';		/* a -H before it is undone, as in cp */
		break;
	case 'd':
		c->deref = 'P';
		c->preserve |= PRESERVE_BIT(PRESERVE_LINKS);
		break;
	case 'p':
		c->preserve |= PRESERVE_BIT(PRESERVE_MODE) | PRESERVE_BIT(PRESERVE_OWNERSHIP) |
		    PRESERVE_BIT(PRESERVE_TIMESTAMPS);
		c->no_preserve &= ~c->preserve;
		break;
	case CP_PRESERVE:
		if (optarg == NULL)
			return cp_option(c, 'p', status);
		*status = cp_preserve_list(c, "--preserve", optarg, true);
		break;
	case CP_NO_PRESERVE:
		*status = cp_preserve_list(c, "--no-preserve", optarg, false);
		break;
	case 'L':
	case 'H':
	case 'P':
		c->deref = opt;
		break;
	case 'n':
		c->update = UPDATE_NONE;	/* cp 9.1: skip, exit 0 */
		c->interactive = false;		/* the later of -i and -n wins */
		break;
	case 'i':
		c->interactive = true;
		if (c->update == UPDATE_NONE)
			c->update = -1;
		break;
	case 'u':
		c->update = UPDATE_OLDER;
		break;
	case 'f':
		c->force = true;	/* the way cpd replaces already (renamed over), but -l's */
		break;
	case 'l':
		c->hard_link = true;
		break;
	case 's':
		c->symlink = true;
		break;
	case CP_ATTRIBUTES_ONLY:
		c->attributes_only = true;
		break;
	case 'v':
		c->verbose = true;
		break;
	case 'x':
		c->one_file_system = true;
		break;
	case 't':
		c->target_dir = optarg;
		break;
	case 'T':
		c->no_target_dir = true;
		break;
	case CP_STRIP_TRAILING_SLASHES:
		c->strip_slashes = true;
		break;
	case 'b':
		c->backup = true;
		break;
	case CP_BACKUP:
		c->backup = true;
		c->backup_control = optarg;
		break;
	case 'S':
		c->backup = true;	/* as cp 9.1: a suffix asks for backups */
		c->backup_suffix = optarg;
		break;
	case CP_REMOVE_DESTINATION:
		c->remove_destination = true;
		break;
	case CP_PARENTS:
		c->parents = true;
		break;
	case CP_SPARSE:
		if ((c->sparse = vocab_sparse_parse(optarg)) < 0)
			*status = client_error(CLIENT_EXIT_USAGE, "invalid argument '%s' for "
			    "'--sparse' (expected auto, always or never)", optarg);
		break;
	case 'Z':
	case CP_CONTEXT:
		/* As cp: without SELinux there is no context to set. */
		if (cp_selinux())
			*status = cp_refuse("-Z", "SELinux contexts");
		else if (optarg)
			client_error(0, "warning: ignoring --context; it requires an "
			    "SELinux-enabled kernel");
		break;
	default:
		return 0;
	}
	return *status == CLIENT_EXIT_OK ? 1 : -1;
}

/*
 * -b, --backup[=CONTROL], -S: the suffix to send in c->backup_suffix
 * (NULL: no backups), and how backups are named in c->backup_mode.
 */
static int
cp_check_backup(struct client *c, const struct cmd_entry *cmd)
{
	const char *control = c->backup_control, *env;

	if (!c->backup) {
		c->backup_suffix = NULL;
		return CLIENT_EXIT_OK;
	}
	if (c->update == UPDATE_NONE)
		return cmd_usage_error(cmd, "options --backup and --no-clobber are mutually "
		    "exclusive");
	if (control == NULL && (env = getenv("VERSION_CONTROL")) != NULL && *env)
		control = env;
	if (control == NULL || strcmp(control, "existing") == 0 || strcmp(control, "nil") == 0)
		c->backup_mode = BACKUP_EXISTING;
	else if (strcmp(control, "numbered") == 0 || strcmp(control, "t") == 0)
		c->backup_mode = BACKUP_NUMBERED;
	if (c->backup_mode != BACKUP_SIMPLE ||
	    strcmp(control, "simple") == 0 || strcmp(control, "never") == 0) {
		if (c->backup_suffix == NULL && (env = getenv("SIMPLE_BACKUP_SUFFIX")) && *env)
			c->backup_suffix = env;
		if (c->backup_suffix == NULL)
			c->backup_suffix = "~";
		if (*c->backup_suffix == '\0' || strchr(c->backup_suffix, '/'))
			return cmd_usage_error(cmd, "invalid backup suffix '%s'", c->backup_suffix);
		return CLIENT_EXIT_OK;
	}
	if (strcmp(control, "none") == 0 || strcmp(control, "off") == 0) {
		c->backup_suffix = NULL;
		return CLIENT_EXIT_OK;
	}
	return cmd_usage_error(cmd, "invalid argument '%s' for 'backup type' (expected none, "
	    "off, numbered, t, existing, nil, simple or never)", control);
}

/* The preserve list to send: -1 for none (the daemon's default for archive or not). */
int
cp_preserve(const struct client *c)
{
	unsigned p = (c->archive ? PRESERVE_ALL : 0) | c->preserve;

	if (!c->archive && p == 0)
		return -1;
	if (c->archive && c->no_preserve == 0)
		return -1;
	return (int)(p & ~c->no_preserve);
}

static bool
cp_is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void
cp_strip(char *path)
{
	size_t n = strlen(path);

	while (n > 1 && path[n - 1] == '/')
		path[--n] = '\0';
}

int
cp_operands(struct client *c, const struct cmd_entry *cmd, int argc, char **argv)
{
	int	 nsrc, status;

	if (c->reflink == REFLINK_ALWAYS && c->sparse != SPARSE_AUTO)
		return client_error(CLIENT_EXIT_FAIL, "--reflink can be used only with "
		    "--sparse=auto");	/* as cp: a failure, not a usage error */
	if (c->hard_link && c->symlink)
		return cmd_usage_error(cmd, "cannot make both hard and symbolic links");
	if (c->target_dir && c->no_target_dir)
		return cmd_usage_error(cmd, "cannot combine --target-directory (-t) and "
		    "--no-target-directory (-T)");
	if (argc == 0)
		return cmd_usage_error(cmd, "missing file operand");
	if (argc == 1 && c->target_dir == NULL)
		return cmd_usage_error(cmd, "missing destination file operand after '%s'",
		    argv[0]);
	if (c->no_target_dir && argc > 2)
		return cmd_usage_error(cmd, "extra operand '%s'", argv[2]);
	for (int i = 0; i < argc; i++)
		if (argv[i][0] == '\0')
			return cmd_usage_error(cmd, "empty path");
	if (c->target_dir && c->target_dir[0] == '\0')
		return cmd_usage_error(cmd, "empty path");
	nsrc = c->target_dir ? argc : argc - 1;
	if (c->strip_slashes)
		for (int i = 0; i < nsrc; i++)
			cp_strip(argv[i]);
	if ((status = cp_check_backup(c, cmd)) != CLIENT_EXIT_OK)
		return status;
	/* cp 9.1: -l -R without -H, -L or -P follows every symlink. */
	if (c->deref == 0 && c->hard_link && (c->recursive || c->archive))
		c->deref = 'L';

	c->names.nsrc = nsrc;
	c->names.user = argv;
	c->names.user_dest = c->target_dir ? c->target_dir : argv[nsrc];
	/* "new/" for one source: a new directory's name (cp -r d new/), not into. */
	c->names.into_dir = c->target_dir || nsrc > 1 ||
	    (c->names.user_dest[strlen(c->names.user_dest) - 1] == '/' &&
	    access(c->names.user_dest, F_OK) == 0) ||
	    (!c->no_target_dir && cp_is_dir(c->names.user_dest));
	/* -T onto a directory: a directory's contents go into it, as SRC/. does. */
	if (c->no_target_dir && cp_is_dir(argv[1])) {
		if (!cp_is_dir(argv[0]) && access(argv[0], F_OK) == 0)
			return client_error(CLIENT_EXIT_FAIL, "cannot overwrite directory "
			    "'%s' with non-directory", argv[1]);
		c->names.into_dir = c->names.dot_added = true;
	}
	return CLIENT_EXIT_OK;
}

/*
 * cp's warning for a file or directory given twice into a directory: the
 * daemon copies it once (scan.c), and cannot warn. Told from the same
 * name and the same file, looked at as the daemon does (a symlink given
 * is itself with -R or -P, unless -H or -L); with a backup a file given
 * twice fails instead, and the daemon says so.
 */
void
cp_warn_twice(const struct client *c)
{
	const struct cp_names	*nm = &c->names;
	bool			 nofollow = (c->recursive || c->archive || c->deref == 'P') &&
				    c->deref != 'L' && c->deref != 'H';
	struct stat		*st;
	const char		*a, *b;
	size_t			 la, lb;

	if (!nm->into_dir || nm->dot_added || nm->nsrc < 2 ||
	    (st = calloc((size_t)nm->nsrc, sizeof(*st))) == NULL)
		return;
	for (int i = 0; i < nm->nsrc; i++)
		if ((nofollow ? lstat(nm->user[i], &st[i]) : stat(nm->user[i], &st[i])) != 0)
			st[i].st_mode = 0;
	for (int i = 1; i < nm->nsrc; i++) {
		a = cp_base(nm->user[i], &la);
		for (int j = 0; j < i && st[i].st_mode; j++) {
			b = cp_base(nm->user[j], &lb);
			if (la != lb || strncmp(a, b, la) != 0 || st[i].st_ino != st[j].st_ino ||
			    st[i].st_dev != st[j].st_dev || S_ISDIR(st[i].st_mode) != S_ISDIR(st[j].st_mode))
				continue;
			if (S_ISDIR(st[i].st_mode) || c->backup_suffix == NULL)
				client_error(0, "warning: source %s '%s' specified more than once",
				    S_ISDIR(st[i].st_mode) ? "directory" : "file", nm->user[i]);
			break;
		}
	}
	free(st);
}

/*
 * With POSIXLY_CORRECT, cp writes through a destination that is a
 * dangling symlink (by default it refuses, and so does the daemon): the
 * file is made where the link leads. Only for the destination operand
 * itself, as a plain file copy, when nothing asks for the link to go
 * (-n keeps it, -b and --remove-destination replace it): the path the
 * link gives, from the link's directory, is sent instead of it. NULL:
 * not so (or out of memory: the destination goes as it is).
 */
static char *
cp_through_dangling(const struct client *c)
{
	const struct cp_names	*nm = &c->names;
	struct stat		 st;
	char			 target[PATH_MAX], *out = NULL;
	const char		*slash;
	ssize_t			 len;

	if (getenv("POSIXLY_CORRECT") == NULL || nm->into_dir || c->target_dir ||
	    c->recursive || c->archive || c->no_clobber || c->backup ||
	    c->remove_destination || c->hard_link || c->symlink ||
	    lstat(nm->user_dest, &st) != 0 || !S_ISLNK(st.st_mode) ||
	    stat(nm->user_dest, &st) == 0 || errno != ENOENT ||
	    (len = readlink(nm->user_dest, target, sizeof(target) - 1)) <= 0)
		return NULL;
	target[len] = '\0';
	slash = strrchr(nm->user_dest, '/');
	if (target[0] == '/' || slash == NULL)
		out = strdup(target);
	else if (asprintf(&out, "%.*s/%s", (int)(slash - nm->user_dest), nm->user_dest,
	    target) < 0)
		out = NULL;
	return out;
}

/*
 * The paths to send: -t's directory must be one ("DIR/"), -T's SRC/.
 * copies into DEST. "new/" (not there: into_dir is false) names a new
 * directory for a directory (cp -r d new/), sent without its slash; for
 * anything else the slash stays, and the daemon refuses it, as cp does.
 */
int
cp_sent_paths(struct client *c, char ***srcs, char **dest)
{
	const struct cp_names *nm = &c->names;
	size_t n = strlen(nm->user_dest);

	*srcs = calloc((size_t)nm->nsrc, sizeof(char *));
	*dest = NULL;
	if (*srcs == NULL)
		return -1;
	for (int i = 0; i < nm->nsrc; i++)
		if (asprintf(&(*srcs)[i], "%s%s", nm->user[i],
		    nm->dot_added ? "/." : "") < 0)
			return -1;
	if (!nm->into_dir && !c->target_dir && cp_is_dir(nm->user[0]) &&
	    access(nm->user_dest, F_OK) < 0 && errno == ENOENT)
		while (n > 1 && nm->user_dest[n - 1] == '/')
			n--;
	if ((*dest = cp_through_dangling(c)) != NULL)
		return 0;
	if (asprintf(dest, "%.*s%s", (int)n, nm->user_dest, c->target_dir ? "/" : "") < 0) {
		*dest = NULL;
		return -1;
	}
	return 0;
}

/* A path as written, its leading "./"s left out: "" for "." itself. */
static const char *
cp_undotted(const char *p)
{
	while (p[0] == '.' && (p[1] == '/' || p[1] == '\0'))
		p += 1 + strspn(p + 1, "/");
	return p;
}

/*
 * cp -s with relative sources writes them as given, which is right only
 * in the working directory: there the links are made relative (the
 * daemon's symlink_relative, the same path as written). Elsewhere cp
 * refuses; cpd makes absolute links (cpd-client(1)).
 */
bool
cp_symlink_relative(const struct client *c)
{
	const struct cp_names	*nm = &c->names;
	const char		*d;

	if (!c->symlink || c->recursive || c->archive || nm->user_dest == NULL)
		return false;
	d = cp_undotted(nm->user_dest);
	for (int i = 0; i < nm->nsrc; i++)
		if (nm->user[i][0] == '/')
			return false;
	/* Into ".", or a name with no directory before it. */
	return nm->into_dir ? d[0] == '\0' : d[0] != '\0' && strchr(d, '/') == NULL;
}

void
cp_sent_free(int nsrc, char **srcs, char *dest)
{
	for (int i = 0; srcs && i < nsrc; i++)
		free(srcs[i]);
	free(srcs);
	free(dest);
}

/* a/b, without a doubled slash; b may be empty. */
static char *
cp_join(const char *a, const char *b)
{
	char	*out;
	size_t	 n = strlen(a);

	if (*b == '\0')
		return strdup(a);
	if (asprintf(&out, "%s%s%s", a, n && a[n - 1] == '/' ? "" : "/", b) < 0)
		return NULL;
	return out;
}

const char *
cp_base(const char *path, size_t *len)
{
	size_t e = strlen(path), s;

	while (e > 1 && path[e - 1] == '/')
		e--;
	for (s = e; s > 0 && path[s - 1] != '/'; s--)
		;
	*len = e - s;
	return path + s;
}

/*
 * A Change's path (from the job's directory) as cp -v names both sides:
 * "'s/sub/b' -> 'd/s/sub/b'". Into a directory the first component is a
 * source's name; otherwise it is the new name of the only source. What
 * --remove-destination replaced was "removed" first.
 */
void
cp_verbose(struct client *c, const char *change, const char *rel)
{
	const struct cp_names	*nm = &c->names;
	const char		*rest = strchr(rel, '/'), *src = nm->user[0], *b;
	size_t			 head = rest ? (size_t)(rest - rel) : strlen(rel), len;
	char			*s = NULL, *d = NULL, *top = NULL;

	rest = rest ? rest + 1 : "";
	if (nm->dot_added) {
		/* -T: "./x" is x in the directory the user named. */
		s = cp_join(src, rest);
		d = cp_join(nm->user_dest, rest);
	} else if (nm->into_dir) {
		for (int i = 0; i < nm->nsrc; i++) {
			b = cp_base(nm->user[i], &len);
			if (len == head && strncmp(b, rel, head) == 0) {
				src = nm->user[i];
				break;
			}
		}
		s = cp_join(src, rest);
		if ((top = strndup(rel, head)) != NULL) {
			char *t = cp_join(nm->user_dest, top);

			d = t ? cp_join(t, rest) : NULL;
			free(t);
		}
	} else {
		s = cp_join(src, rest);
		d = cp_join(nm->user_dest, rest);
	}
	if (d && c->remove_destination && !c->backup_suffix && strcmp(change, "updated") == 0)
		printf("removed '%s'\n", d);
	if (s && d && c->backup_suffix && strcmp(change, "updated") == 0)
		printf("'%s' -> '%s' (backup: '%s%s')\n", s, d, d, c->backup_suffix);
	else if (s && d)
		printf("'%s' -> '%s'\n", s, d);
	free(s);
	free(d);
	free(top);
}

/*
 * The daemon's message with each quoted absolute path it was sent
 * (or one under it) named as the user wrote it: the longest match wins.
 */
char *
cp_message(const struct client *c, const char *msg)
{
	const struct cp_names	*nm = &c->names;
	char			*out = NULL, *cwd;
	size_t			 size = 0;
	FILE			*f;

	if (nm->nsrc == 0 || (f = open_memstream(&out, &size)) == NULL)
		return NULL;
	cwd = getcwd(NULL, 0);
	for (const char *p = msg; *p; ) {
		const char	*q = *p == '\'' ? strchr(p + 1, '\'') : NULL;
		const char	*best = NULL, *path = p + 1;
		size_t		 best_len = 0;

		if (q == NULL) {
			fputc(*p++, f);
			continue;
		}
		for (int i = 0; i <= nm->nsrc; i++) {
			const char *user = i < nm->nsrc ? nm->user[i] : nm->user_dest;
			char *abs = client_abspath(cwd, user);
			size_t n = abs ? strlen(abs) : 0;

			while (n > 1 && abs[n - 1] == '/')
				n--;
			if (abs && n > best_len && n <= (size_t)(q - path) &&
			    strncmp(path, abs, n) == 0 && (path[n] == '/' || path + n == q)) {
				best = user;
				best_len = n;
			}
			free(abs);
		}
		if (best) {
			size_t ulen = strlen(best);

			while (ulen > 1 && best[ulen - 1] == '/' && path[best_len] == '/')
				ulen--;
			fprintf(f, "'%.*s%.*s'", (int)ulen, best, (int)(q - path - best_len),
			    path + best_len);
		} else
			fprintf(f, "%.*s", (int)(q - p + 1), p);
		p = q + 1;
	}
	free(cwd);
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

/* The message without its ": strerror" tail, which cp leaves off these. */
static bool
cp_bare(const char *msg)
{
	return strstr(msg, "' are the same file") || strstr(msg, "', into itself, '") ||
	    strncmp(msg, "omitting directory '", 20) == 0 ||
	    strncmp(msg, "not writing through dangling symlink '", 38) == 0 ||
	    strncmp(msg, "will not overwrite just-created '", 33) == 0 ||
	    strncmp(msg, "will not copy '", 15) == 0 ||
	    strstr(msg, "' might destroy source;  '");
}

/* How the daemon says that no_clobber kept a file (copy.c). */
#define CP_KEPT	"' not replaced (no-clobber)"

/*
 * The source path, as the user would name it, of destination path dst
 * (for -l's and -s's message): the source given and, in a tree, the
 * entry's path under it, as cp names it ('src/./sub/c' for 'd/./sub/c').
 * malloc'd, or NULL.
 */
static char *
cp_source_of(const struct client *c, const char *dst, size_t dlen)
{
	const struct cp_names	*nm = &c->names;
	size_t			 dl = strlen(nm->user_dest), len;
	const char		*b;
	char			*out;

	while (dl > 1 && nm->user_dest[dl - 1] == '/')
		dl--;
	for (int i = 0; dlen >= dl && strncmp(dst, nm->user_dest, dl) == 0 && i < nm->nsrc; i++) {
		const char	*rest = dst + dl;
		size_t		 rlen = dlen - dl;

		if (nm->into_dir) {
			if ((b = cp_base(nm->user[i], &len)) == NULL || rlen < len + 1 ||
			    rest[0] != '/' || strncmp(rest + 1, b, len) != 0)
				continue;
			rest += len + 1;
			rlen -= len + 1;
		}
		if (rlen == 0 || rest[0] == '/')
			return asprintf(&out, "%s%.*s", nm->user[i], (int)rlen, rest) < 0 ? NULL : out;
	}
	return strdup(nm->user[0]);
}

/* -l, -s without -f: the file dst in the way stays, as cp's "File exists". */
static char *
cp_link_wording(const struct client *c, const char *dst, size_t dlen, const char *why)
{
	char	*src = cp_source_of(c, dst, dlen), *out;
	int	 r;

	r = asprintf(&out, "cannot create %s '%.*s' to '%s': %s",
	    c->symlink ? "symbolic link" : "hard link", (int)dlen, dst, src ? src : "?", why);
	free(src);
	return r < 0 ? NULL : out;
}

/*
 * A failed copy's message in cp's words, where the daemon words it its
 * own way; mapped is cp_message's. malloc'd.
 */
char *
cp_wording(const struct client *c, const char *mapped)
{
	const struct cp_names	*nm = &c->names;
	const char		*tail = strrchr(mapped, ':'), *why = tail ? tail + 2 : "";
	const char		*kept = strstr(mapped, CP_KEPT);
	char			*out = NULL;
	int			 r = 0;

	if (tail && cp_bare(mapped))
		r = asprintf(&out, "%s%.*s", strncmp(mapped, "omitting", 8) == 0 ?
		    "-r not specified; " : "", (int)(tail - mapped), mapped);
	else if ((c->hard_link || c->symlink) && mapped[0] == '\'' && kept &&
	    kept + strlen(CP_KEPT) == tail)
		out = cp_link_wording(c, mapped + 1, (size_t)(kept - mapped - 1), why);
	else if (strncmp(mapped, "cannot copy into '", 18) == 0 && nm->into_dir)
		r = asprintf(&out, "target %s'%s': %s", c->target_dir ? "directory " : "",
		    nm->user_dest, why);
	else if (strncmp(mapped, "cannot copy into '", 18) == 0 &&
	    strcmp(why, strerror(ENOTDIR)) == 0)
		/* "file/": cp looks at it first, as a directory. */
		r = asprintf(&out, "cannot stat '%s': %s", nm->user_dest, why);
	else if (strncmp(mapped, "cannot copy into '", 18) == 0 &&
	    strcmp(why, strerror(ENOENT)) == 0)
		/* "new/" for a file: not a directory's name. */
		r = asprintf(&out, "cannot create regular file '%s': %s", nm->user_dest,
		    strerror(ENOTDIR));
	else if (strncmp(mapped, "cannot access '", 15) == 0 && !nm->into_dir)
		/* The destination's directory, named by its parent. */
		r = asprintf(&out, "cannot create %s '%s': %s", cp_is_dir(nm->user[0]) ?
		    "directory" : "regular file", nm->user_dest, why);
	else if (strncmp(mapped, "cannot overwrite directory '", 28) == 0 && tail &&
	    tail - mapped > 41 && strncmp(tail - 13, "' with a file", 13) == 0)
		/* In a tree: cp's words, without the errno's. */
		r = asprintf(&out, "%.*s' with non-directory", (int)(tail - mapped - 13), mapped);
	else if (strncmp(mapped, "cannot copy a directory to '", 28) == 0 && nm->nsrc == 1 &&
	    strcmp(why, strerror(ENOTDIR)) == 0)
		r = asprintf(&out, "cannot overwrite non-directory '%s' with directory '%s'",
		    nm->user_dest, nm->user[0]);
	else
		out = strdup(mapped);
	return r < 0 ? NULL : out;
}
