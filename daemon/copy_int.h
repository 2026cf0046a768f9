/*
 * Inside the copy of one non-directory item (copy.c): what its files
 * share. copy.c drives the chain and looks at the source; copy_dst.c at
 * what is in the way; copy_make.c makes the temporary; copy_lane.c moves the
 * data in lanes; copy_publish.c puts the result in place; copy_whole.c
 * walks the same steps in a pool thread for a small file; copy_update.c
 * keeps a file in the way that the update mode keeps; copy_snap.c links
 * or clones a file from a snapshot; hlink.c keeps the job's hard links.
 */
#ifndef CPD_COPY_INT_H
#define CPD_COPY_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "change.h"
#include "engine.h"
#include "job.h"

/*
 * The steps of a copy, in the order a regular file takes them; a step
 * may be skipped, or taken again (a retry), but the chain goes back to
 * an earlier one only from CS_OPEN_SRC to CS_LSTAT (the file became a
 * symlink) and from CS_LINK_FINAL to CS_LINK_TEMP (a file appeared under
 * the name: the copy is linked beside it and renamed over it). The order
 * is relied on:
 * - up to CS_LINK_TEMP (< CS_LINK_FINAL) the copy is not published: a
 *   copy of a job that is to stop ends there (copy_next);
 * - copy_publish_next(c, from) names the first publishing step after
 *   from, so CS_RECHECK .. CS_RENAME are in the order they run.
 */
enum copy_state {
	CS_START,	/* made, nothing asked yet */
	CS_LSTAT, CS_OPEN_SRC, CS_STAT_SRC,
	CS_HLINK,	/* archive: the job's link group, or waiting for its first copy */
	CS_STAT_DST, CS_OPEN_DST,
	CS_INTO_READY,	/* a device or FIFO opened to write into: what it is, blocking */
	CS_COMPARE,
	CS_REFRESH,	/* update: a kept file gets the source's attributes (archive) */
	CS_READLINK,
	CS_STAT_TARGET,	/* a symlink onto a file: whether it leads to that very file */
	CS_READLINK_DST,	/* update: the target of a symlink in the way */
	CS_SNAP_FIND,	/* link_dest, clone_dest: the file in a snapshot */
	CS_CREATE,
	CS_RESUME,	/* a checkpointed temporary taken: verified (copy_resume.c) */
	CS_CLONE, CS_EXTENTS, CS_ALLOCATE, CS_DATA,
	CS_PROC,	/* a file of /proc: read to its end (copy_proc.c) */
	CS_RECHECK, CS_TRUNCATE, CS_META, CS_FSYNC,
	CS_VERIFY,	/* --verify: read back from the disk (copy_verify.c) */
	CS_BACKUP,	/* cp -b: what is in the way is renamed to its backup name (a
			 * copy stopped after it leaves the old file as the backup) */
	CS_LINK_TEMP,
	CS_LINK_FINAL, CS_RENAME,
	CS_UNLINK,	/* the temporary of a failed copy goes */
	CS_END,		/* the job hears of it; the copy is freed */
	CS_DIR,		/* a directory after all: the tree takes the item */
	CS_COUNT
};

enum copy_kind { K_FILE, K_SYMLINK, K_SPECIAL, K_HARDLINK };

/* What a destination's filesystem was found not to do: the job stops asking. */
#define CF_NO_CLONE		0x01	/* FICLONE */
#define CF_NO_ALLOCATE		0x02	/* fallocate: copy unmapped */
#define CF_NO_TMPFILE		0x04	/* O_TMPFILE: named temporaries */
#define CF_NO_EMPTY_LINK	0x08	/* linkat(AT_EMPTY_PATH): through /proc */

/* A job's state of copy.c (job->copy). */
struct copy_job {
	unsigned	  fs;		/* CF_* */
	struct hlink	**hlinks;	/* archive: hard links seen, by inode */
};

struct copy {
	struct job	*job;
	struct copy_job	*cj;
	struct item	*item;
	enum copy_state	 state;
	enum copy_kind	 kind;
	char		*srcpath, *dstpath;	/* for messages */
	char		 tmp[64];
	char		 tmpfd_path[32];	/* /proc/self/fd/N of a nameless one */
	int		 srcfd, tmpfd;
	bool		 created;	/* a temporary exists: remove it on failure */
	bool		 temp_noted;	/* tmp is in the job's record (clean.c) */
	bool		 nameless;	/* the temporary is O_TMPFILE: link it in */
	bool		 direct;	/* made under its name, in a hidden directory (tree.c) */
	bool		 linked_by_proc;	/* through /proc/self/fd, not AT_EMPTY_PATH */
	bool		 dst_exists;	/* something is to be replaced */
	bool		 dst_link;	/* the destination is a symlink: looked at through it */
	/*
	 * The destination is a device or a FIFO: written into, opened as
	 * it is (tmpfd), in order and at no offset, as cp does; nothing is
	 * made, and nothing published.
	 */
	bool		 into;
	bool		 proc;		/* a regular file of /proc: its size says nothing */
	/*
	 * update: the file in the way is compared with the source
	 * (checksum: opened as tmpfd, then closed again if it differs),
	 * or kept (its content is the source's, or the mode says so) and
	 * maybe refreshed (its attributes were not the source's).
	 */
	bool		 checking, kept, refreshed;
	bool		 vanished;	/* a listed source was gone when opened */
	/* Snapshots (copy_snap.c): the matching file found, linked or cloned. */
	int		 snapfd;
	bool		 snap_tried, snap_clone;
	char		*snap_rel;	/* its path in a snapshot */
	char		*backup;	/* CS_BACKUP: the name of what is replaced */
	bool		 backup_is_src;	/* that name is the source's: nothing done */
	char		 snap_proc[32];	/* /proc/self/fd/N of snapfd, or (cp -l) of srcfd */
	unsigned	 create_tries;
	struct statx	 stx, dstx;
	struct statx	 stx_end;	/* the source again, after its data */
	struct statx	 ttx;		/* CS_STAT_TARGET: what a symlink source leads to */
	struct eop	 step;
	/*
	 * The steps' effects on the job, kept here until copy_apply() gives
	 * them to it on the loop: a pool thread (copy_whole.c) may not touch
	 * the job, and the steps are the same there.
	 */
	unsigned	 fs;		/* CF_*: the job's, and what the steps found */
	bool		 pooled;	/* a pool thread walks the steps (c->whole) */
	bool		 add_total;	/* the size is known: count it in the job's total */
	bool		 fail_sync;	/* fsync failed: so does the job */
	uint64_t	 progress;	/* bytes done, not yet counted */
	struct eop	 whole;		/* copy_whole_run, whose steps are in step */
	/* Data, in lanes (copy_lane.c). */
	struct eop	*lanes;
	unsigned	 nlanes;
	unsigned	 busy;		/* lanes in flight */
	uint64_t	 next_off, copied;
	uint64_t	 end_off;	/* dense: the back lanes' next chunk ends here */
	bool		 mapped;	/* back lanes read into the copy's pages */
	struct extent	*ext;		/* sparse: the data extents, else NULL */
	unsigned	 next_ext, next_nr;
	char		*target;	/* symlink */
	struct hlink	*hl;		/* the link group this copy is the first of */
	struct hlink	*link_to;	/* K_HARDLINK: the group's copy */
	char		*link_path;	/* K_HARDLINK: link_to's path as linked */
	struct copy	*next_waiter;
	enum method	 method;
	char		 hash[CHANGE_HASH_LEN];	/* verified: its XXH3-128, else "" */
	/* Checkpoints (copy_resume.c): a large file a restart goes on with. */
	struct {
		bool		 on;		/* checkpointed */
		bool		 tried;		/* a checkpoint of the last run looked for */
		bool		 taken;		/* c->tmp is that checkpoint's temporary */
		bool		 same_src;	/* its source is this one */
		bool		 syncing;	/* op in flight */
		uint64_t	 moving;	/* lanes moving a chunk, a bit each */
		uint64_t	 held;		/* lanes waiting for the sync, a bit each */
		uint64_t	 head, tail;	/* taken: kept are [0, head) and [tail, size) */
		uint64_t	 sync_head, sync_tail;	/* what op makes a checkpoint of */
		uint64_t	 done;		/* bytes the last checkpoint holds */
		struct eop	 op;		/* the sync of a checkpoint */
	} ck;
	int		 err;
	char		*msg;
};

/* cp --sparse: how a regular file's zeros are written (a stream gets every byte anyway). */
static inline enum sparse_mode
copy_sparse(const struct copy *c)
{
	return c->kind == K_FILE && !c->into ? c->job->req.sparse : SPARSE_AUTO;
}

/* cp --attributes-only onto a regular file: given attributes where it is, data kept. */
static inline bool
copy_in_place(const struct copy *c)
{
	return c->into && c->job->req.attributes_only;
}

/* copy.c */
void	copy_error(struct copy *, int err, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
struct eop *copy_job_op(struct copy *, struct eop *, enum eop_type,
	    void (*done)(struct eop *, int));
struct eop *copy_op(struct copy *, enum eop_type);
struct eop *copy_src_statx_op(struct copy *, struct statx *);
struct eop *copy_size_op(struct copy *, enum eop_type);
const char *copy_made_path(const struct copy *);
void	copy_new_temp_name(struct copy *);
void	copy_temp_note(struct copy *, bool made);
void	copy_step_done(struct eop *, int);
enum copy_state copy_next(struct copy *, enum copy_state next, bool stopping);
enum copy_state copy_interpret(struct copy *, int res, bool stopping);
void	copy_change_state(struct copy *, enum copy_state);
void	copy_run(struct copy *);
struct eop *copy_state_op(struct copy *);
void	copy_apply(struct copy *);
bool	copy_stopping(const struct copy *);
/* Whether two statx results are of one file (device and inode). */
bool	copy_same_file(const struct statx *, const struct statx *);

/* copy_dst.c: what is in the way */
enum copy_state copy_dst_next(struct copy *);
struct eop *copy_dst_stat_op(struct copy *);
enum copy_state copy_dst_on_stat(struct copy *, int);
enum copy_state copy_dst_kept(struct copy *);
struct eop *copy_dst_open_op(struct copy *);
enum copy_state copy_dst_on_open(struct copy *, int);
struct eop *copy_dst_into_ready_op(struct copy *);
enum copy_state copy_dst_on_into_ready(struct copy *, int);
struct eop *copy_dst_compare_op(struct copy *);
enum copy_state copy_dst_on_compare(struct copy *, int);

/* copy_make.c: the temporary, a clone */
struct eop *copy_make_op(struct copy *);
struct eop *copy_make_clone_op(struct copy *);
struct eop *copy_make_extents_op(struct copy *);
enum copy_state copy_make_on_create(struct copy *, int);
enum copy_state copy_make_on_clone(struct copy *, int);
enum copy_state copy_make_on_extents(struct copy *, int);

/* copy_lane.c: the data */
enum copy_state copy_lane_plan(struct copy *);
void	copy_lane_start_all(struct copy *);
void	copy_lane_release(struct copy *);
struct eop *copy_lane_allocate_op(struct copy *);
enum copy_state copy_lane_on_allocate(struct copy *, int);
enum copy_state copy_lane_on_data(struct copy *, int);

/* copy_publish.c: from the data to its place */
enum copy_state copy_publish_next(struct copy *, enum copy_state from);
bool	copy_publish_keeps_dst(const struct copy *);
struct eop *copy_publish_recheck_op(struct copy *);
struct eop *copy_publish_truncate_op(struct copy *);
struct eop *copy_publish_meta_op(struct copy *);
struct eop *copy_publish_fsync_op(struct copy *);
struct eop *copy_publish_link_op(struct copy *);
struct eop *copy_publish_rename_op(struct copy *);
struct eop *copy_publish_unlink_op(struct copy *);
enum copy_state copy_publish_on_recheck(struct copy *, int);
enum copy_state copy_publish_on_written(struct copy *, int);
enum copy_state copy_publish_on_link(struct copy *, int);
enum copy_state copy_publish_on_rename(struct copy *, int);
enum copy_state copy_publish_on_backup(struct copy *, int);
enum copy_state copy_publish_on_unlink(struct copy *, int);
bool	copy_publish_src_changed(const struct statx *, const struct statx *);

/* copy_cp.c: cp -s, --attributes-only, a symlink onto its target */
int	copy_cp_symlink(struct copy *);
enum copy_state copy_cp_attributes_only(struct copy *);
struct eop *copy_cp_stat_target_op(struct copy *);
enum copy_state copy_cp_on_stat_target(struct copy *, int);

/* copy_backup.c: cp -b, what is in the way keeps a backup name (CS_BACKUP) */
struct eop *copy_backup_op(struct copy *);

/* copy_proc.c: a regular file of /proc, read to its end (CS_PROC) */
struct eop *copy_proc_op(struct copy *);
enum copy_state copy_proc_on(struct copy *, int);

/* copy_verify.c: --verify */
bool	copy_verify_wanted(const struct copy *);
struct eop *copy_verify_op(struct copy *);
enum copy_state copy_verify_on(struct copy *, int);

/* copy_update.c: the update modes */
bool	copy_update_applies(const struct copy *);
enum copy_state copy_update_next(struct copy *);
enum copy_state copy_update_keep(struct copy *);
enum copy_state copy_update_on_check(struct copy *, int);
struct eop *copy_update_refresh_op(struct copy *);
enum copy_state copy_update_on_refresh(struct copy *, int);
enum copy_state copy_update_link(struct copy *);
struct eop *copy_update_readlink_op(struct copy *);
enum copy_state copy_update_on_readlink(struct copy *, int);

/* copy_snap.c: link_dest and clone_dest */
bool	copy_snap_may(const struct copy *);
struct eop *copy_snap_find_op(struct copy *);
enum copy_state copy_snap_on_find(struct copy *, int);
enum copy_state copy_snap_fall_back(struct copy *);
void	copy_snap_link(struct copy *, struct eop *);

/* copy_resume.c: checkpoints of a large file */
bool	copy_resume_take(struct copy *);
enum copy_state copy_resume_lost(struct copy *, int);
struct eop *copy_resume_check_op(struct copy *);
enum copy_state copy_resume_on_check(struct copy *, int);
void	copy_resume_tick(struct copy *);
bool	copy_resume_holds(const struct copy *);
bool	copy_resume_keeps(const struct copy *);

/* copy_whole.c: a small file in one pool thread */
bool	copy_whole_may(const struct copy *);
void	copy_whole(struct copy *);
struct eop *copy_whole_data_op(struct copy *);

#endif
