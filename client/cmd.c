/* The command table, option parsing helpers, help and version. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"

const struct cmd_entry cmd_table[] = {
	{ "copy",
	  "[cp's OPTIONS] [--priority PRIO] [--detach] [--json] SRC... DEST\n"
	  "       cpd-client copy [OPTIONS] -t DIR SRC...",
	  "copy files with cp's rules and wait until the job has ended",
	  cmd_copy, 0 },
	{ "list", "[--json]",
	  "list your jobs (all jobs for root)",
	  cmd_list, 0 },
	{ "status", "[--json] ID",
	  "show one job",
	  cmd_status, 0 },
	{ "wait", "[--json] ID",
	  "wait for a job to end, showing its progress",
	  cmd_wait, 0 },
	{ "cancel", "[--json] ID",
	  "cancel a queued, running or paused job",
	  cmd_cancel, 0 },
	{ "pause", "[--json] ID",
	  "pause a job: it starts no new work until resumed",
	  cmd_pause, 0 },
	{ "resume", "[--json] ID",
	  "resume a paused job",
	  cmd_resume, 0 },
	{ "daemon-status", "[--json]",
	  "show the daemon's state",
	  cmd_daemon_status, 0 },
	{ "help", "[COMMAND]",
	  "show this help, or a command's usage",
	  cmd_help, CMD_NOCONFIG },
	{ "version", "",
	  "show the client's version",
	  cmd_version, CMD_NOCONFIG },
	{ NULL, NULL, NULL, NULL, 0 }
};

static const char cmd_help_text[] =
"\n"
"Global options (before the command):\n"
"  -s, --socket PATH     the daemon's socket (default " CPD_DEFAULT_SOCKET ");\n"
"                        the environment variable CPD_SOCKET overrides it\n"
"      --json            print results as JSON (also after the command)\n"
"      --progress WHEN   progress bar: auto (on a terminal), always, never\n"
"      --no-progress     the same as --progress=never\n"
"  -h, --help            show this help\n"
"  -V, --version         show the version\n"
"\n";

/* copy's options, grouped: cp's, cpd's own, backups, output. */
static const char cmd_copy_help_text[] =
"Options of copy, as GNU cp's (coreutils 9.1):\n"
"  -a, --archive         -dR --preserve=all: modes, ownership, times, xattrs,\n"
"                        ACLs, hard links; symlinks as symlinks\n"
"  -b, --backup[=CONTROL]  keep a file that is replaced as FILE~ or FILE.~N~:\n"
"                        CONTROL simple, never, numbered, t, existing, nil\n"
"                        (the default), none or off\n"
"  -d                    --no-dereference --preserve=links\n"
"  -f, --force           accepted: an existing file is always replaced (renamed\n"
"                        over, so it need not be writable)\n"
"  -H                    follow symlinks given as sources, also with -R\n"
"  -i, --interactive     ask before replacing a file\n"
"  -L, --dereference     follow all symlinks: those given (a plain copy does)\n"
"                        and, with -R, those in the tree\n"
"  -n, --no-clobber      keep existing files: skip them, exit 0 (cp 9.1)\n"
"  -P, --no-dereference  copy symlinks as symlinks (as -R does in a tree)\n"
"  -p                    --preserve=mode,ownership,timestamps\n"
"  -l, --link            hard-link files instead of copying them (an existing\n"
"                        file is an error, unless -f)\n"
"  -s, --symbolic-link   make symlinks to the sources (absolute) instead\n"
"      --preserve[=LIST] keep LIST: mode, ownership, timestamps, links, xattr,\n"
"                        context (needs SELinux: not supported), all\n"
"      --no-preserve=LIST  do not keep LIST\n"
"  -R, -r, --recursive   copy directories and their contents\n"
"      --reflink[=WHEN]  clone the data (FICLONE): auto (when the file\n"
"                        system can, the daemon's default), always (or\n"
"                        fail; bare --reflink) or never\n"
"      --sparse=WHEN     auto: holes are kept where the source has them;\n"
"                        always: blocks of zeros become holes too; never:\n"
"                        holes are filled in\n"
"  -S, --suffix=SUFFIX   the backup suffix instead of ~ (asks for -b)\n"
"      --remove-destination  replace whatever is in the way (a device, a\n"
"                        FIFO, a symlink) by a new file, keeping nothing of it\n"
"      --strip-trailing-slashes  remove trailing slashes from each SRC\n"
"  -t, --target-directory=DIR  copy all SRC into DIR\n"
"  -T, --no-target-directory   DEST is never a directory to copy into\n"
"  -u                    --update=older (see --update below)\n"
"  -v, --verbose         print \"'SRC' -> 'DEST'\" for each file copied\n"
"  -x, --one-file-system do not descend into other file systems\n"
"  -Z, --context[=CTX]   accepted without SELinux, as cp does\n"
"      --attributes-only  copy no data: a new file is empty, an existing\n"
"                        one keeps its own; only the attributes preserved\n"
"      --parents         copy SRC to DIR/SRC, making the directories on\n"
"                        its way as copies of SRC's\n"
"  Not supported (refused): -i with -R or -a (asked about the files given\n"
"  only), --copy-contents, --debug.\n"
"\n"
"cpd's own options of copy:\n"
"      --priority PRIO   interactive, normal, bulk, or auto (the default:\n"
"                        the daemon chooses from the size of the sources)\n"
"      --detach          print the job id and return at once\n"
"      --keep-going      go on after a file fails; the failures are\n"
"                        listed at the end and the exit status is 1\n"
"      --sync            flush each file to disk before it appears\n"
"      --no-sync         do not (the default)\n"
"      --bwlimit RATE    at most RATE bytes per second, e.g. 50M, 1.5G,\n"
"                        800K or 1048576 (K, M, G, T: powers of 1024;\n"
"                        \"B\", \"iB\" and \"/s\" may follow); 0: no limit\n"
"      --clobber         replace existing files (the default; undoes -n\n"
"                        and the configuration's no_clobber)\n"
"\n"
"Incremental copies, mirrors and snapshots (options of copy):\n"
"      --update[=WHEN]   replace an existing file: all (the default), none,\n"
"                        older (bare --update, as cp -u), quick (unless it\n"
"                        has the source's size and mtime) or checksum\n"
"                        (unless it has the source's content)\n"
"      --checksum        the same as --update=checksum\n"
"      --delete          remove destination entries not in the source\n"
"      --max-delete N    fail rather than delete more than N entries\n"
"      --exclude PAT, --include PAT   filter rules, as rsync's (first match)\n"
"      --exclude-from FILE, --include-from FILE   rules, one a line\n"
"      --link-dest DIR   hard-link unchanged files from DIR (a snapshot)\n"
"      --clone-dest DIR  the same, cloned (FICLONE) instead of linked\n"
"      --dry-run         change nothing; report what would be done\n"
"      --verify          re-read each written file from disk and compare\n"
"      --manifest FILE   write the copied files' XXH3-128 sums to FILE\n"
"                        (for xxh128sum -c); implies --verify\n"
"\n"
"Output of copy:\n"
"      --json            print the final job as JSON\n"
"      --itemize-changes print a line per change (twice: also unchanged)\n"
"      --progress WHEN, --no-progress   as above (also for wait)\n"
"\n"
"Relative paths are taken from the current directory; a DEST ending in\n"
"\"/\" must be a directory. A directory SRC (-r, -a) follows cp's rules\n"
"too: it is copied into DEST/basename(SRC) when DEST is an existing\n"
"directory, otherwise DEST becomes the copy. Ctrl-C while waiting\n"
"cancels the job.\n";

static const char cmd_help_tail[] =
"\n"
"Configuration: " CONF_SYSTEM_FILE ", then\n"
"${XDG_CONFIG_HOME:-~/.config}/cpd/client.conf, section [" CONF_SECTION "]:\n"
"socket, progress (auto|always|never), priority, bwlimit, sync and\n"
"no_clobber (true|false). Options on the command line override them.\n"
"\n"
"Exit status: 0 success; 1 the job failed or was cancelled, some files\n"
"could not be copied (--keep-going), or the daemon refused; 2 usage or\n"
"configuration error; 3 the daemon cannot be reached.\n";

const struct cmd_entry *
cmd_find(const char *name)
{
	const struct cmd_entry	*cmd;

	for (cmd = cmd_table; cmd->name != NULL; cmd++)
		if (strcmp(cmd->name, name) == 0)
			return cmd;
	return NULL;
}

void
cmd_print_usage(const struct cmd_entry *cmd, FILE *f)
{
	if (cmd == NULL)
		fprintf(f, "usage: %s [-s SOCKET] [--json] COMMAND [ARGS]\n",
		    CLIENT_NAME);
	else
		fprintf(f, "usage: %s %s%s%s\n", CLIENT_NAME, cmd->name,
		    *cmd->usage != '\0' ? " " : "", cmd->usage);
}

void
cmd_print_help(FILE *f)
{
	const struct cmd_entry	*cmd;

	cmd_print_usage(NULL, f);
	fputs("\nSubmit and follow the file copy jobs of the cpd daemon.\n"
	    "\nCommands:\n", f);
	for (cmd = cmd_table; cmd->name != NULL; cmd++) {
		fprintf(f, "  %s%s%s\n", cmd->name,
		    *cmd->usage != '\0' ? " " : "", cmd->usage);
		fprintf(f, "        %s\n", cmd->summary);
	}
	fputs(cmd_help_text, f);
	cmd_print_copy_help(f);
	fputs(cmd_help_tail, f);
}

void
cmd_print_copy_help(FILE *f)
{
	fputs(cmd_copy_help_text, f);
}

int
cmd_usage_error(const struct cmd_entry *cmd, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	client_verror(CLIENT_EXIT_USAGE, fmt, ap);
	va_end(ap);
	cmd_print_usage(cmd, stderr);
	fprintf(stderr, "Try '%s --help' for more information.\n",
	    CLIENT_NAME);
	return CLIENT_EXIT_USAGE;
}

int
cmd_option_error(const struct cmd_entry *cmd, int opt, char **argv)
{
	const char	*arg = optind > 0 ? argv[optind - 1] : "";

	/* A long option is named by its argument, a short one by optopt. */
	if (opt == ':') {
		if (strncmp(arg, "--", 2) == 0)
			return cmd_usage_error(cmd, "option '%s' needs an "
			    "argument", arg);
		return cmd_usage_error(cmd, "option '-%c' needs an argument",
		    optopt);
	}
	if (strncmp(arg, "--", 2) == 0)
		return cmd_usage_error(cmd, "invalid option '%s'", arg);
	if (optopt > 0 && optopt < 256)
		return cmd_usage_error(cmd, "invalid option '-%c'", optopt);
	return cmd_usage_error(cmd, "invalid option '%s'", arg);
}

int
cmd_parse_id(const struct cmd_entry *cmd, const char *s, uint64_t *id)
{
	if (client_parse_id(s, id) == -1) {
		cmd_usage_error(cmd, "invalid job id '%s' (expected a positive "
		    "integer)", s);
		return -1;
	}
	return 0;
}

int
cmd_parse_simple(struct client *c, const struct cmd_entry *cmd, int argc,
    char **argv, int nargs, int *status)
{
	static const struct option	 options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int				 opt;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
		switch (opt) {
		case 'j':
			c->json = true;
			break;
		case 'h':
			cmd_print_usage(cmd, stdout);
			*status = CLIENT_EXIT_OK;
			return -1;
		default:
			*status = cmd_option_error(cmd, opt, argv);
			return -1;
		}
	}
	if (argc - optind < nargs) {
		*status = cmd_usage_error(cmd, "missing %s", nargs == 1 ?
		    "job id" : "arguments");
		return -1;
	}
	if (argc - optind > nargs) {
		*status = cmd_usage_error(cmd, "unexpected argument '%s'",
		    argv[optind + nargs]);
		return -1;
	}
	return optind;
}

int
cmd_help(struct client *c, const struct cmd_entry *self, int argc,
    char **argv)
{
	const struct cmd_entry	*cmd;

	if (argc > 2)
		return cmd_usage_error(self, "unexpected argument '%s'",
		    argv[2]);
	if (argc == 2) {
		if ((cmd = cmd_find(argv[1])) == NULL)
			return cmd_usage_error(self, "unknown command '%s'",
			    argv[1]);
		cmd_print_usage(cmd, stdout);
		printf("%s\n", cmd->summary);
		return CLIENT_EXIT_OK;
	}
	cmd_print_help(stdout);
	return CLIENT_EXIT_OK;
}

int
cmd_version(struct client *c, const struct cmd_entry *self, int argc,
    char **argv)
{
	if (argc > 1)
		return cmd_usage_error(self, "unexpected argument '%s'",
		    argv[1]);
	printf("%s %s\n", CLIENT_NAME, CPD_VERSION);
	return CLIENT_EXIT_OK;
}
