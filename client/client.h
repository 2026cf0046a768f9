/*
 * cpd-client: the command-line client of the cpd copy daemon.
 *
 * One file per concern; every function is prefixed by the name of the
 * file that defines it:
 *
 *   client.c	main flow, global options, errors, paths, ids, signals,
 *		connecting and one-shot calls
 *   conf.c	configuration files (inih)
 *   varlink.c	the Varlink connection: sending calls, reading replies
 *   human.c	human-readable sizes, rates, durations and times; parsing
 *		rates
 *   progress.c	the one-line progress bar
 *   job.c	Job objects: accessors, following a job, reporting its end
 *   cmd.c	the command table, option parsing helpers, help and version
 *   cmd-*.c	one command (or a family of commands) each
 *   cp.c	cp's options and operands in copy, and the names the user sees
 */
#ifndef CPD_CLIENT_H
#define CPD_CLIENT_H

#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <json.h>

#include "cpd-protocol.h"
#include "cpd-vocab.h"

#define CLIENT_NAME		"cpd-client"

/* Exit statuses. */
#define CLIENT_EXIT_OK		0	/* success */
#define CLIENT_EXIT_FAIL	1	/* job failed or cancelled, daemon error */
#define CLIENT_EXIT_USAGE	2	/* bad command line or configuration */
#define CLIENT_EXIT_CONNECT	3	/* the daemon cannot be reached or misbehaves */
#define CLIENT_EXIT_VANISHED	24	/* done, but source files vanished meanwhile (rsync's 24) */

#define CONF_SYSTEM_FILE	CPD_SYSCONFDIR "/cpd/client.conf"
#define CONF_SECTION		"client"

#define CLIENT_ATTR_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* ------------------------------------------------------------------ conf.c */

enum progress_mode {
	PROGRESS_AUTO,		/* a bar when stdout is a terminal */
	PROGRESS_ALWAYS,
	PROGRESS_NEVER,
};

/* A class of the daemon's (cpd-vocab.h), or none asked for. */
enum priority {
	PRIORITY_UNSET = -1,	/* let the daemon choose */
	PRIORITY_INTERACTIVE = PRIO_INTERACTIVE,
	PRIORITY_NORMAL = PRIO_NORMAL,
	PRIORITY_BULK = PRIO_BULK,
};

struct conf {
	char	*socket;	/* NULL: CPD_DEFAULT_SOCKET */
	int	 progress;	/* enum progress_mode */
	int	 priority;	/* enum priority */
	int	 sync;		/* -1: unset, the daemon's jobs.sync applies */
	bool	 no_clobber;
	uint64_t bwlimit;	/* bytes per second, 0: none */
};

void		 conf_init(struct conf *);
void		 conf_free(struct conf *);
/*
 * Read one file into conf (values it sets override earlier ones). A
 * missing file is not an error; one the caller may not read is skipped
 * with a warning. On error returns -1 with a message such as
 * "FILE:LINE: unknown key 'x'" in err.
 */
int		 conf_load_file(struct conf *, const char *path, char *err,
		     size_t errlen);
/* The system file, then the user's; stops at the first error. */
int		 conf_load(struct conf *, char *err, size_t errlen);
/* The user's file: ${XDG_CONFIG_HOME:-$HOME/.config}/cpd/client.conf. */
char		*conf_user_path(void);
int		 conf_parse_bool(const char *, bool *);
/*
 * "interactive", "normal", "bulk", or "auto" (PRIORITY_UNSET: the daemon
 * chooses from the job's size). Returns 0, or -1 when invalid.
 */
int		 conf_parse_priority(const char *, int *);
int		 conf_parse_progress(const char *);	/* -1 when invalid */
/* The name sent to the daemon; NULL for PRIORITY_UNSET. */
const char	*conf_priority_name(int);

/* ---------------------------------------------------------------- client.c */

/* Copy's reflink parameter: an enum reflink_mode (cpd-vocab.h), or */
#define REFLINK_UNSET	(-1)	/* not sent: the daemon's default (auto) */

/* copy's operands as the user wrote them (cp.c). */
struct cp_names {
	int		 nsrc;		/* 0: not a copy */
	char		**user;		/* the sources, from argv */
	const char	*user_dest;
	bool		 into_dir;	/* each source goes to DEST/basename */
	bool		 dot_added;	/* -T onto a directory: SRC/. sent */
};

/* What a command runs with: configuration merged with the command line. */
struct client {
	const char	*socket;	/* the socket in use */
	bool		 json;
	int		 progress;	/* enum progress_mode */
	int		 priority;	/* enum priority */
	int		 sync;		/* -1: leave it to the daemon */
	bool		 no_clobber;
	uint64_t	 bwlimit;	/* bytes per second, 0: none */
	/* Options of copy only, sent only when given. */
	bool		 recursive;
	bool		 archive;
	bool		 keep_going;
	int		 reflink;	/* enum reflink_mode, or REFLINK_UNSET */
	bool		 detach;	/* copy --detach */
	/* Incremental copies, mirrors and snapshots: sent only when given. */
	int		 update;	/* enum update_mode, or -1 */
	bool		 delete;
	int64_t		 max_delete;	/* -1: none */
	struct json_object *filters;	/* []Filter, or NULL */
	struct json_object *link_dest;	/* []string, or NULL */
	struct json_object *clone_dest;
	bool		 dry_run;
	int		 itemize;	/* 1: print changes, 2: also what is skipped */
	bool		 verify;
	const char	*manifest;	/* --manifest FILE */
	FILE		*manifest_f;
	/* cp's options (cp.c). */
	bool		 verbose;	/* -v: cp's "'a' -> 'b'" lines */
	const char	*target_dir;	/* -t DIR */
	bool		 no_target_dir;	/* -T */
	bool		 strip_slashes;
	unsigned	 preserve;	/* PRESERVE_BIT()s asked for (-p, --preserve, -d) */
	unsigned	 no_preserve;	/* --no-preserve */
	bool		 one_file_system;
	bool		 remove_destination;
	bool		 hard_link;	/* -l */
	bool		 symlink;	/* -s */
	int		 sparse;	/* --sparse: enum sparse_mode */
	bool		 attributes_only;	/* --attributes-only */
	enum backup_mode backup_mode;	/* with a backup_suffix */
	bool		 force;		/* -f: -l replaces an existing file */
	bool		 parents;	/* --parents (parents.c) */
	bool		 interactive;	/* -i (cp_ask) */
	bool		 backup;	/* -b, --backup, -S */
	const char	*backup_control;	/* --backup=CONTROL */
	const char	*backup_suffix;	/* -S; after cp_operands: the one sent, or NULL */
	int		 deref;		/* 'L', 'H', 'P', or 0: cp's default */
	struct cp_names	 names;
	struct conf	 conf;
};

struct vl;
struct vl_reply;

/* SIGINT and SIGTERM received while client_signals_catch() is in force. */
extern volatile sig_atomic_t client_signal_count;

int		 client_main(int argc, char **argv);
/* Print "cpd-client: MESSAGE" to stderr; returns status. */
int		 client_error(int status, const char *fmt, ...)
		     CLIENT_ATTR_PRINTF(2, 3);
int		 client_verror(int status, const char *fmt, va_list);
/*
 * Make path absolute against cwd without canonicalising: leading "./"
 * components are dropped, everything else (including "..", a trailing
 * "/") is kept as given. Returns a malloc'd string, NULL for an empty
 * path or a relative path without a cwd.
 */
char		*client_abspath(const char *cwd, const char *path);
/* A job id: a positive decimal integer that fits a JSON int. */
int		 client_parse_id(const char *, uint64_t *);
/*
 * Catch SIGINT and SIGTERM: they are blocked except while waiting for
 * the daemon (see vl_recv), where they interrupt the wait.
 */
int		 client_signals_catch(void);
const sigset_t	*client_signals_waitmask(void);
/* Connect to c->socket; on failure print why and return an exit status. */
int		 client_connect(struct client *, struct vl **);
/*
 * Call method and read its single reply. Returns 0 with the reply, or an
 * exit status after printing the error (transport or daemon).
 */
int		 client_call(struct client *, const char *method,
		     struct json_object *params, struct vl_reply *);
/* Print obj as pretty JSON on stdout. */
void		 client_print_json(struct json_object *);

/* --------------------------------------------------------------- varlink.c */

enum {
	VL_OK		=  0,
	VL_EINTR	= -1,	/* a signal arrived (see vl_set_interrupt) */
	VL_ECLOSED	= -2,	/* the daemon closed the connection */
	VL_EPROTO	= -3,	/* a reply that is not a Varlink message */
	VL_ETOOBIG	= -4,	/* a message larger than CPD_MAX_MESSAGE */
	VL_EIO		= -5,	/* a socket error, in vl->error */
};

struct vl {
	int		 fd;
	int		 error;		/* errno of the last VL_EIO */
	/* vl_recv returns VL_EINTR once client_signal_count reaches this
	 * (0: never). */
	int		 intr_at;
	char		*path;
	struct msgbuf	 buf;
};

struct vl_reply {
	struct json_object *root;	/* owned */
	struct json_object *params;	/* in root; an empty object if absent */
	const char	*error;		/* the error name, NULL on success */
	bool		 continues;
};

/* 0 or an errno value. */
int		 vl_connect(const char *path, struct vl **);
void		 vl_close(struct vl *);
void		 vl_set_interrupt(struct vl *, int count);
/* Send a call; params is borrowed (NULL for none). */
int		 vl_send(struct vl *, const char *method,
		     struct json_object *params, bool more);
int		 vl_recv(struct vl *, struct vl_reply *);
void		 vl_reply_free(struct vl_reply *);
/* Print a transport error (VL_E*); returns the exit status to use. */
int		 vl_report(struct vl *, int status);
/* Print a daemon error reply in plain words; returns CLIENT_EXIT_FAIL. */
int		 vl_report_error(const struct vl_reply *);

/* ----------------------------------------------------------------- human.c */

/* "0 B", "1023 B", "1.0 KiB", "1.5 MiB" ... "16.0 EiB". */
char		*human_size(uint64_t, char *, size_t);
/* human_size + "/s". */
char		*human_rate(uint64_t, char *, size_t);
/* "0:05", "12:34", "1:02:03", "3d 04:05:06". */
char		*human_clock(uint64_t seconds, char *, size_t);
/* "5s", "2m 3s", "1h 2m 3s", "3d 4h 5m 6s". */
char		*human_duration(uint64_t seconds, char *, size_t);
/* Local "YYYY-MM-DD HH:MM:SS" of microseconds since the epoch. */
char		*human_time(uint64_t usec, char *, size_t);
/* A short time span: "850us", "1.2ms", "3.4s". */
char		*human_usec(uint64_t usec, char *, size_t);
/* The largest rate human_parse_rate accepts: a JSON int. */
#define HUMAN_RATE_MAX	((uint64_t)INT64_MAX)
/*
 * Parse a rate in bytes per second: a number, optionally with a decimal
 * fraction, then an optional K, M, G or T (powers of 1024, either case),
 * optionally followed by "B" or "iB" ("B" alone without a unit), then an
 * optional "/s": "1048576", "800K", "50M", "1.5GiB/s". A fraction needs
 * a unit; the result is rounded to the nearest byte. Returns 0, EINVAL
 * for bad syntax or ERANGE for a value above HUMAN_RATE_MAX (or a
 * nonzero one that rounds to 0).
 */
int		 human_parse_rate(const char *, uint64_t *);

/* -------------------------------------------------------------- progress.c */

#define PROGRESS_LINE_MAX	512

/*
 * Format the progress line for a terminal of cols columns (0: 80):
 * " 45% [=========>           ] 1.2 GiB / 2.7 GiB  85.3 MiB/s  ETA 0:18"
 * The bar takes what room is left (up to 30 cells) and is dropped when
 * there is too little; the line is always shorter than cols when that is
 * possible. Returns the length written.
 */
size_t		 progress_format(char *, size_t, uint64_t done, uint64_t total,
		     uint64_t rate, unsigned cols);
/*
 * The same for a paused job: no rate and "paused" instead of the ETA.
 */
size_t		 progress_format_paused(char *, size_t, uint64_t done,
		     uint64_t total, unsigned cols);
/* Percentage (0..100, 100 only when done >= total > 0). */
unsigned	 progress_percent(uint64_t done, uint64_t total);

struct progress {
	FILE		*out;
	bool		 active;	/* drawing at all */
	size_t		 drawn;		/* length of the line on screen */
};

void		 progress_init(struct progress *, FILE *, bool active);
/*
 * The line for a Job object in any state, as progress_update draws it:
 * "queued: ...", the bar (with "N/M files" after the sizes when the job
 * has more than one file), "paused", or the whole job once it is done.
 */
size_t		 progress_format_job(char *, size_t, struct json_object *job,
		     unsigned cols);
/* Redraw the line for a Job object. */
void		 progress_update(struct progress *, struct json_object *job);
/* End the line (if anything was drawn). */
void		 progress_finish(struct progress *);

/* ------------------------------------------------------------------- job.c */

/* Fields of a Job object (0, NULL or false when absent). */
uint64_t	 job_u64(struct json_object *, const char *key);
const char	*job_str(struct json_object *, const char *key);
bool		 job_bool(struct json_object *, const char *key);
/* Its state (enum job_state, cpd-vocab.h); -1 when absent or unknown. */
int		 job_state(struct json_object *);
/* Whether a reply's parameters hold a usable Job under "job"; the Job. */
struct json_object *job_from_params(struct json_object *params);
bool		 job_valid(struct json_object *);
bool		 job_ended(struct json_object *);
/* "SOURCE -> DEST" or "SOURCE +N more -> DEST"; malloc'd. */
char		*job_summary(struct json_object *);
/*
 * Read the replies of a streaming Copy or Wait on vl until the final one,
 * drawing progress; on SIGINT/SIGTERM cancel the job over a second
 * connection. id is the job's id if known (0 for Copy). Returns the exit
 * status.
 */
int		 job_follow(struct client *, struct vl *, uint64_t id);
/*
 * Report a job's final state; returns the exit status it implies. A job
 * done with files_failed > 0 (keep_going) is a failure: its failures are
 * listed on stderr (not with --json) and the status is CLIENT_EXIT_FAIL.
 */
int		 job_report_end(struct client *, struct json_object *job);

/* -------------------------------------------------------------- itemize.c */

/*
 * Print the changes a reply carries (copy --itemize-changes), one line
 * each (--json: one Change object a line), and add the hashed ones to
 * the --manifest file. Returns 0, or -1 when the manifest cannot be
 * written (errno set).
 */
int		 itemize_reply(struct client *, struct json_object *params);
/* Open --manifest's file before the job, close it after: CLIENT_EXIT_*. */
int		 itemize_manifest_open(struct client *);
int		 itemize_manifest_close(struct client *);
/* Filters from --exclude-from FILE: one pattern a line. 0, or -1 (errno). */
int		 itemize_read_patterns(struct client *, const char *file, const char *rule);
/* --exclude, --include: one rule ("exclude" or "include") at the end of the list. */
int		 itemize_filter(struct client *, const char *rule, const char *pattern);
/* The most failures job_print_failures lists (what the daemon sends). */
#define JOB_FAILURES_MAX	100
/*
 * Print the failures of a Job on f, "  PATH: ERROR_MESSAGE" each, then
 * "  (and K more)" for the files_failed that are not listed. Returns the
 * number of lines written.
 */
size_t		 job_print_failures(FILE *, struct json_object *job);
/*
 * The nonzero counts of a Job's methods, in the daemon's order:
 * "splice 3, readwrite 12, links 2". NULL (buf untouched) when there
 * are none.
 */
char		*job_methods(struct json_object *job, char *buf, size_t len);

/* ------------------------------------------------------------------- cmd.c */

struct cmd_entry {
	const char	*name;
	const char	*usage;		/* options and arguments */
	const char	*summary;
	int		 (*exec)(struct client *, const struct cmd_entry *,
			     int argc, char **argv);
	int		 flags;
#define CMD_NOCONFIG	0x1		/* runs without the configuration */
};

extern const struct cmd_entry cmd_table[];

const struct cmd_entry *cmd_find(const char *name);
/* Full help on f. */
void		 cmd_print_help(FILE *);
/* copy's options, grouped as cp's, cpd's own, backups and output. */
void		 cmd_print_copy_help(FILE *);
/* "usage: cpd-client NAME USAGE" on f. */
void		 cmd_print_usage(const struct cmd_entry *, FILE *);
/* Print an error and the command's usage line; returns CLIENT_EXIT_USAGE. */
int		 cmd_usage_error(const struct cmd_entry *, const char *fmt, ...)
		     CLIENT_ATTR_PRINTF(2, 3);
/*
 * The error for a getopt_long '?' or ':' result (opt), with argv as
 * given to getopt_long; returns CLIENT_EXIT_USAGE.
 */
int		 cmd_option_error(const struct cmd_entry *, int opt, char **argv);
/* Parse a job id argument, or print a usage error (returns -1). */
int		 cmd_parse_id(const struct cmd_entry *, const char *, uint64_t *);
/*
 * The common shape of commands that take only --json, --help and some
 * fixed number of operands: parse them. Returns -1 when the command
 * should exit with *status.
 */
int		 cmd_parse_simple(struct client *, const struct cmd_entry *,
		     int argc, char **argv, int nargs, int *status);

int		 cmd_help(struct client *, const struct cmd_entry *, int, char **);
int		 cmd_version(struct client *, const struct cmd_entry *, int,
		     char **);

/* cmd-copy.c */
int		 cmd_copy(struct client *, const struct cmd_entry *, int, char **);
/*
 * Parse the options of copy into c; returns the index of the first
 * operand, or -1 when the command should exit with *status (after --help
 * or a usage error). Operands are not checked.
 */
int		 cmd_copy_parse(struct client *, const struct cmd_entry *,
		     int argc, char **argv, int *status);
/* "auto", "always" or "never"; -1 when invalid. */
int		 cmd_copy_parse_reflink(const char *);
/* The name sent to the daemon; NULL for REFLINK_UNSET. */
const char	*cmd_copy_reflink_name(int);
/* Build the parameters of a Copy call; NULL with *status on error. */
struct json_object *cmd_copy_params(struct client *, int nsrc, char **srcs,
		     const char *dest, int *status);
/* One Copy call, as the command asks (followed, or --detach): an exit status. */
int		 cmd_copy_run(struct client *, int nsrc, char **srcs, const char *dest);

/* parents.c */
/* cp --parents: each source to DEST/SOURCE, after the directories on its way. */
int		 parents_copy(struct client *);

/* cp.c */

/* copy's long options that cp has and cpd's letters do not name. */
enum {
	CP_BACKUP = 512, CP_PARENTS, CP_ATTRIBUTES_ONLY, CP_COPY_CONTENTS,
	CP_REMOVE_DESTINATION, CP_DEBUG, CP_PRESERVE, CP_NO_PRESERVE,
	CP_STRIP_TRAILING_SLASHES, CP_SPARSE, CP_CONTEXT,
};
/*
 * A cp option (a letter or CP_*, with optarg): 1 when taken, 0 when it
 * is not cp's, -1 with *status when refused or invalid.
 */
int		 cp_option(struct client *, int opt, int *status);
/*
 * Check the operands of copy (all of argv, options parsed) and note them
 * in c->names; an exit status.
 */
int		 cp_operands(struct client *, const struct cmd_entry *, int argc,
		     char **argv);
/* cp's warning for a source given twice into a directory (copied once). */
void		 cp_warn_twice(const struct client *);
/*
 * -i: ask about each source's file in the way, drop those answered no
 * (in a tree: exclude them); an exit status (cp_ask.c).
 */
int		 cp_ask(struct client *);
/* The last component of path, trailing slashes ignored: its start and length. */
const char	*cp_base(const char *path, size_t *len);
/* The paths to send for c->names (malloc'd); -1 without memory. */
int		 cp_sent_paths(struct client *, char ***srcs, char **dest);
void		 cp_sent_free(int nsrc, char **srcs, char *dest);
/* -s: whether the links are to be relative (cp's relative sources, in the working directory). */
bool		 cp_symlink_relative(const struct client *);
/* The PRESERVE_BIT()s to send, or -1 to leave it to the daemon. */
int		 cp_preserve(const struct client *);
/* Print cp -v's line for a Change's path. */
void		 cp_verbose(struct client *, const char *change, const char *rel);
/* A daemon's message naming paths as the user wrote them; malloc'd, NULL if none. */
char		*cp_message(const struct client *, const char *msg);
/* cp_message's result in cp's words where the daemon's differ; malloc'd. */
char		*cp_wording(const struct client *, const char *mapped);

/* cmd-job.c */
int		 cmd_list(struct client *, const struct cmd_entry *, int, char **);
int		 cmd_status(struct client *, const struct cmd_entry *, int,
		     char **);
/*
 * Print a Job on f as status shows it, one "key: value" per line (the
 * failures indented under "failures:"); options that are not set and
 * fields an older daemon does not send are left out.
 */
void		 cmd_status_print(FILE *, struct json_object *job);
int		 cmd_wait(struct client *, const struct cmd_entry *, int, char **);
int		 cmd_cancel(struct client *, const struct cmd_entry *, int,
		     char **);
int		 cmd_pause(struct client *, const struct cmd_entry *, int, char **);
int		 cmd_resume(struct client *, const struct cmd_entry *, int,
		     char **);

/* cmd-daemon.c */
int		 cmd_daemon_status(struct client *, const struct cmd_entry *, int,
		     char **);
/*
 * Print the parameters of a GetStatus reply on f, one "key: value" per
 * line; fields an older daemon does not send are left out.
 */
void		 cmd_daemon_print_status(FILE *, struct json_object *params);

#endif
