/*
 * The words of the wire protocol that both cpd and cpd-client spell:
 * job states, priorities, reflink modes, data paths (methods) and the
 * names of Copy's and List's parameters, as include/io.cpd.Manager.varlink has
 * them. One table each, here, so that the daemon and the client cannot
 * drift apart; header-only, like cpd-protocol.h, as the client links
 * none of the daemon's objects.
 */
#ifndef CPD_VOCAB_H
#define CPD_VOCAB_H

#include <errno.h>
#include <string.h>

/* Job.state. Ended states last: a job has finished when state >= JOB_DONE. */
enum job_state {
	JOB_QUEUED, JOB_RUNNING, JOB_PAUSED, JOB_DONE, JOB_FAILED, JOB_CANCELLED,
	JOB_NSTATES
};

/*
 * Scheduling classes, most urgent first. PRIO_AUTO is no word on the
 * wire: a Copy that leaves priority out asks the daemon to choose.
 */
enum job_prio { PRIO_INTERACTIVE, PRIO_NORMAL, PRIO_BULK, PRIO_COUNT, PRIO_AUTO = PRIO_COUNT };

enum reflink_mode { REFLINK_AUTO, REFLINK_ALWAYS, REFLINK_NEVER, REFLINK_COUNT };

/*
 * Copy's sparse (cp's --sparse=WHEN): AUTO keeps the source's holes;
 * ALWAYS makes a new file's blocks of zeros holes too; NEVER writes
 * every byte, holes filled in.
 */
enum sparse_mode { SPARSE_AUTO, SPARSE_ALWAYS, SPARSE_NEVER, SPARSE_COUNT };

/* Copy's backup: how a backup is named (cp's --backup=CONTROL). */
enum backup_mode { BACKUP_SIMPLE, BACKUP_NUMBERED, BACKUP_EXISTING, BACKUP_COUNT };

/*
 * Copy's update: what an existing destination file (a regular file in
 * the way of a regular file) gets. ALL replaces it (cp); NONE keeps it
 * (cp -n); OLDER replaces it only when it is older than the source (cp
 * -u); QUICK keeps it when it has the source's size and mtime (rsync's
 * quick check); CHECKSUM keeps it when its content is the source's.
 */
enum update_mode { UPDATE_ALL, UPDATE_NONE, UPDATE_OLDER, UPDATE_QUICK, UPDATE_CHECKSUM,
	UPDATE_COUNT };

/* What a copy keeps of its source (Copy.preserve), as cp's --preserve: bits 1 << P. */
enum preserve_attr { PRESERVE_MODE, PRESERVE_OWNERSHIP, PRESERVE_TIMESTAMPS, PRESERVE_LINKS,
	PRESERVE_XATTR, PRESERVE_COUNT };
#define PRESERVE_BIT(p)	(1u << (p))
#define PRESERVE_ALL	((1u << PRESERVE_COUNT) - 1)

/* What a job did to one destination entry (Change.change, the keys of Job.changes). */
enum change_kind { CHANGE_CREATED, CHANGE_UPDATED, CHANGE_METADATA, CHANGE_DELETED,
	CHANGE_LINKED, CHANGE_CLONED, CHANGE_SKIPPED, CHANGE_COUNT };

/* What the entry is (Change.type). */
enum entry_type { ENTRY_FILE, ENTRY_DIRECTORY, ENTRY_SYMLINK, ENTRY_SPECIAL, ENTRY_COUNT };

/* A filter rule's action (Filter.rule). */
enum filter_rule { FILTER_INCLUDE, FILTER_EXCLUDE, FILTER_RULE_COUNT };

/* The data paths a file can take (Job.method, the keys of Job.methods). */
enum method { M_REFLINK, M_COPY_FILE_RANGE, M_SPLICE, M_READWRITE, M_LINKS, M_MAPPED, M_COUNT };

static const char *const vocab_states[JOB_NSTATES] = {
	"queued", "running", "paused", "done", "failed", "cancelled",
};
static const char *const vocab_updates[UPDATE_COUNT] = {
	"all", "none", "older", "quick", "checksum",
};
static const char *const vocab_preserves[PRESERVE_COUNT] = {
	"mode", "ownership", "timestamps", "links", "xattr",
};
static const char *const vocab_changes[CHANGE_COUNT] = {
	"created", "updated", "metadata", "deleted", "linked", "cloned", "skipped",
};
static const char *const vocab_entries[ENTRY_COUNT] = {
	"file", "directory", "symlink", "special",
};
static const char *const vocab_filter_rules[FILTER_RULE_COUNT] = { "include", "exclude" };
static const char *const vocab_prios[PRIO_COUNT] = { "interactive", "normal", "bulk" };
static const char *const vocab_reflinks[REFLINK_COUNT] = { "auto", "always", "never" };
static const char *const vocab_backups[BACKUP_COUNT] = { "simple", "numbered", "existing" };
static const char *const vocab_sparses[SPARSE_COUNT] = { "auto", "always", "never" };
static const char *const vocab_methods[M_COUNT] = {
	"reflink", "copy_file_range", "splice", "readwrite", "links", "mapped",
};

/* The parameters of Copy, and the request fields of Job and of a journal record. */
#define VOCAB_SOURCES		"sources"
#define VOCAB_DESTINATION	"destination"
#define VOCAB_NO_CLOBBER	"no_clobber"
#define VOCAB_SYNC		"sync"
#define VOCAB_PRIORITY		"priority"
#define VOCAB_BWLIMIT		"bwlimit"
#define VOCAB_RECURSIVE		"recursive"
#define VOCAB_ARCHIVE		"archive"
#define VOCAB_REFLINK		"reflink"
#define VOCAB_KEEP_GOING	"keep_going"
#define VOCAB_UMASK		"umask"
#define VOCAB_UPDATE		"update"
#define VOCAB_DELETE		"delete"
#define VOCAB_MAX_DELETE	"max_delete"
#define VOCAB_FILTERS		"filters"
#define VOCAB_LINK_DEST		"link_dest"
#define VOCAB_CLONE_DEST	"clone_dest"
#define VOCAB_DRY_RUN		"dry_run"
#define VOCAB_ITEMIZE		"itemize"
#define VOCAB_VERIFY		"verify"
#define VOCAB_PRESERVE		"preserve"
#define VOCAB_ONE_FILE_SYSTEM	"one_file_system"
#define VOCAB_REMOVE_DESTINATION "remove_destination"
#define VOCAB_LINK		"link"
#define VOCAB_NO_DEREFERENCE	"no_dereference"
#define VOCAB_DEFAULT_MODE	"default_mode"
#define VOCAB_FOLLOW_SOURCES	"follow_sources"
#define VOCAB_FOLLOW_LINKS	"follow_links"
#define VOCAB_SYMLINK		"symlink"
#define VOCAB_SYMLINK_RELATIVE	"symlink_relative"
#define VOCAB_FORCE		"force"
#define VOCAB_SPARSE		"sparse"
#define VOCAB_ATTRIBUTES_ONLY	"attributes_only"
#define VOCAB_BACKUP_SUFFIX	"backup_suffix"
#define VOCAB_BACKUP		"backup"
#define VOCAB_ESCAPED_NAMES	"escaped_names"

/* A Filter's fields, a Change's, and where a reply carries changes. */
#define VOCAB_FILTER_RULE	"rule"
#define VOCAB_FILTER_PATTERN	"pattern"
#define VOCAB_CHANGE		"change"
#define VOCAB_CHANGE_TYPE	"type"
#define VOCAB_CHANGE_PATH	"path"
#define VOCAB_CHANGE_HASH	"hash"
#define VOCAB_CHANGES		"changes"
#define VOCAB_FILES_VANISHED	"files_vanished"

/*
 * List's parameters and reply: a page of jobs after the job id "after",
 * at most "limit" of them; "next_after" is the "after" of the next page,
 * absent on the last.
 */
#define VOCAB_LIST_AFTER	"after"
#define VOCAB_LIST_LIMIT	"limit"
#define VOCAB_LIST_JOBS		"jobs"
#define VOCAB_LIST_NEXT		"next_after"

/* The index of s in names[0..n), or -EINVAL. */
static inline int
vocab_index(const char *const *names, int n, const char *s)
{
	for (int i = 0; i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -EINVAL;
}

static inline const char *
vocab_state_name(enum job_state s)
{
	return vocab_states[s];
}

/* NULL for PRIO_AUTO, which the wire spells by leaving priority out. */
static inline const char *
vocab_prio_name(enum job_prio p)
{
	return p < PRIO_COUNT ? vocab_prios[p] : NULL;
}

static inline const char *
vocab_reflink_name(enum reflink_mode r)
{
	return vocab_reflinks[r];
}

static inline const char *
vocab_method_name(enum method m)
{
	return vocab_methods[m];
}

static inline const char *
vocab_update_name(enum update_mode u)
{
	return vocab_updates[u];
}

static inline const char *
vocab_preserve_name(enum preserve_attr p)
{
	return vocab_preserves[p];
}

static inline int
vocab_preserve_parse(const char *s)
{
	return vocab_index(vocab_preserves, PRESERVE_COUNT, s);
}

static inline const char *
vocab_change_name(enum change_kind k)
{
	return vocab_changes[k];
}

static inline const char *
vocab_entry_name(enum entry_type t)
{
	return vocab_entries[t];
}

static inline const char *
vocab_filter_rule_name(enum filter_rule r)
{
	return vocab_filter_rules[r];
}

/* Each parse returns the value (an enum) or -EINVAL. */
static inline int
vocab_state_parse(const char *s)
{
	return vocab_index(vocab_states, JOB_NSTATES, s);
}

static inline int
vocab_prio_parse(const char *s)
{
	return vocab_index(vocab_prios, PRIO_COUNT, s);
}

static inline int
vocab_reflink_parse(const char *s)
{
	return vocab_index(vocab_reflinks, REFLINK_COUNT, s);
}

static inline int
vocab_update_parse(const char *s)
{
	return vocab_index(vocab_updates, UPDATE_COUNT, s);
}

static inline const char *
vocab_sparse_name(enum sparse_mode s)
{
	return vocab_sparses[s];
}

static inline int
vocab_sparse_parse(const char *s)
{
	return vocab_index(vocab_sparses, SPARSE_COUNT, s);
}

static inline const char *
vocab_backup_name(enum backup_mode b)
{
	return vocab_backups[b];
}

static inline int
vocab_backup_parse(const char *s)
{
	return vocab_index(vocab_backups, BACKUP_COUNT, s);
}

static inline int
vocab_change_parse(const char *s)
{
	return vocab_index(vocab_changes, CHANGE_COUNT, s);
}

static inline int
vocab_entry_parse(const char *s)
{
	return vocab_index(vocab_entries, ENTRY_COUNT, s);
}

static inline int
vocab_filter_rule_parse(const char *s)
{
	return vocab_index(vocab_filter_rules, FILTER_RULE_COUNT, s);
}

#endif
