#ifndef CPD_ENGINE_H
#define CPD_ENGINE_H

#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "config.h"
#include "cpd-vocab.h"
#include "loop.h"

struct cred;

/*
 * One filesystem operation of a copy, run with a caller's credentials.
 * The owner fills the arguments, calls engine_submit(), and gets done()
 * on the loop thread with the result: an fd, 0, a byte count, or -errno.
 * Strings and buffers must stay valid until done() runs.
 *
 * The completion rule: done() never runs before the engine_submit() that
 * submitted the operation has returned, whatever the result and however
 * early it is known (a failure at submit time, no memory, an injected
 * fault, a zero-length copy). So an owner may submit and then go on
 * using its state, and starting several operations in a row can never
 * see the first one's done() free what the loop is still walking. Every
 * result comes from the loop (loop.h checks this in every build).
 */
/* What EOP_STATX asks for: the mount too, to tell proc (path.h). */
#define ENGINE_STATX_MASK	(STATX_BASIC_STATS | STATX_MNT_ID)

enum eop_type {
	EOP_OPEN,	/* openat2(dirfd, path, {flags, mode, resolve}) -> fd */
	EOP_STATX,	/* statx(dirfd, path, flags, ENGINE_STATX_MASK, stx) */
	EOP_COPY,	/* fd -> fd2 at off, len bytes -> bytes copied (< len only at EOF) */
	EOP_FSYNC,	/* fsync(fd) */
	EOP_RENAME,	/* renameat2(dirfd, path, dirfd, path2, flags) */
	EOP_UNLINK,	/* unlinkat(dirfd, path, flags) */
	EOP_MKDIR,	/* mkdirat(dirfd, path, mode) */
	EOP_SYMLINK,	/* symlinkat(path2, dirfd, path) */
	EOP_LINK,	/* linkat(dirfd2, path2, dirfd, path, flags) */
	EOP_WRITEBACK,	/* sync_file_range(fd2, off, len, SYNC_FILE_RANGE_WRITE) */
	/* io_uring has no operation for these: the thread pool runs them. */
	EOP_READDIR,	/* getdents64 until buf is full or eof -> bytes, 0 at the end */
	EOP_READLINK,	/* readlinkat(dirfd, path, buf, len) -> length */
	EOP_MKNOD,	/* mknodat(dirfd, path, mode, off as dev) */
	EOP_META,	/* give fd2 (or dirfd/path) fd's metadata, see meta_flags */
	EOP_CLONE,	/* ioctl(fd2, FICLONE, fd) */
	EOP_EXTENTS,	/* data extents of fd (SEEK_DATA/SEEK_HOLE) into ext */
	EOP_TRUNCATE,	/* ftruncate(fd2, len) */
	EOP_ALLOCATE,	/* fallocate(fd2, 0, 0, len): blocks and size, before a mapped copy */
	EOP_COMPARE,	/* first len bytes of fd and fd2: 0 the same, 1 different */
	EOP_CALL,	/* run(op): several operations in a row, see engine_run() */
	EOP_COUNT
};

/* EOP_META: what to copy from fd (or stx) to fd2, or to dirfd/path (a symlink). */
#define META_OWNER	0x01	/* chown; EPERM is ignored, as cp -a does */
#define META_MODE	0x02	/* chmod to stx's mode bits, after chown */
#define META_TIMES	0x04	/* atime and mtime from stx, in ns */
#define META_XATTRS	0x08	/* extended attributes, but POSIX ACLs */
#define META_RECHECK	0x10	/* first: fd's statx into stx_end (see copy.c) */
#define META_XATTRS_AT	0x20	/* the attributes from dirfd/path (a file replaced), not fd */
#define META_ACLS	0x40	/* POSIX ACLs alone: cp keeps them with the mode */

struct extent {
	uint64_t	off, len;
};

struct eop {
	enum eop_type	 type;
	const struct cred *cred;
	void		(*done)(struct eop *, int res);
	void		*owner;		/* for done() */
	int		 dirfd, dirfd2;
	const char	*path, *path2;
	int		 fd, fd2;
	uint64_t	 flags, resolve;
	unsigned	 mode;
	struct statx	*stx, *stx_end;
	uint64_t	 off, len;
	void		*buf;		/* READDIR, READLINK: len bytes */
	bool		 eof;		/* READDIR: the listing's end was met too */
	struct extent	*ext;		/* EXTENTS: up to len of them; res is the count */
	unsigned	 meta_flags;
	long		(*run)(struct eop *);	/* CALL */
	bool		 bulk;		/* part of a large transfer: spliced, written behind */
	bool		 interactive;	/* of an interactive job: served first */
	bool		 by_rw;		/* out, COPY by the pool: read/write, not copy_file_range */
	bool		 mapped;	/* COPY: read fd into fd2's pages, mapped (see copy.c) */
	bool		 stream;	/* COPY: fd2 (a device, a FIFO) is written in order, at no offset */
	/* COPY: ALWAYS: fd2's all-zero blocks are not written (holes); NEVER:
	 * every byte read and written. Not AUTO: by the pool, read/write. */
	enum sparse_mode sparse;
	/*
	 * OPEN: of a name that may well not exist (not cached: io_uring's
	 * inline attempt fails and io-wq takes it, behind bulk chunks). An
	 * interactive job's goes to the pool instead, as creating opens do.
	 */
	bool		 uncached;
	/*
	 * CALL: runs on the pool thread as it is (nice, I/O priority, CPUs):
	 * a close is too small to move or re-nice a thread for, and doing
	 * so undid what the last job's work had set.
	 */
	bool		 placeless;
	/*
	 * The disk it reads from (device_share_key(): its device number
	 * plus one; 0: not known yet), that of the file it is for where
	 * known (job_op_reads()): the pool gives each a share of its
	 * threads, as it does each user (engine_thread.c). Not the destination's: an operation
	 * stuck reading would hold that one's share too, and a healthy disk
	 * that other users write to would lose its threads with it.
	 */
	uint64_t	 dev;
	/* backend state */
	unsigned char	 shared;	/* counted in its shares (share.c) */
#define SHARED_USER	0x01
#define SHARED_DEV	0x02
	struct open_how	 how;
	struct loop_op	 lop;
	struct eop	*next;
	int		 res;
};

struct engine_stats {
	uint64_t	ops_submitted;
	uint64_t	ops_async;	/* submitted with IOSQE_ASYNC */
	unsigned	inflight;
	unsigned	async_inflight;	/* chunks being copied by io-wq */
	unsigned	waiting;	/* chunks waiting for the in-flight budget */
};

struct engine {
	const char	*name;
	int		(*init)(const struct config *);
	void		(*submit)(struct eop *);
	void		(*reconfigure)(const struct config *);
	void		(*shutdown)(void);
	enum method	 (*method)(uint64_t size);	/* data path a file of size gets */
	void		(*tick)(void);
	long		(*run)(struct eop *);	/* carry op out in the calling thread */
	int		(*confine)(const cpu_set_t *);	/* where its own workers run */
};

extern const struct engine	engine_uring;
extern const struct engine	engine_thread;

/* Operations io_uring cannot do: the thread pool serves them in both modes. */
static inline bool
eop_threaded(enum eop_type t)
{
	return t >= EOP_READDIR;
}
extern struct engine_stats	engine_stats;

int	engine_init(const struct config *);
void	engine_submit(struct eop *);
/*
 * From an EOP_CALL's run(), in a pool thread that has taken on the
 * caller's credentials: carry out op (not a COPY's lanes; a CALL runs its
 * run() here, on this thread as it is placed)
 * here and now, faults included, and return its result. done() is not
 * called.
 */
long	engine_run(struct eop *);
/*
 * Close fd in a pool thread, not waited for. Every file a job opened on
 * a user's file system is closed so, never on the loop: a last close may
 * be slow (an unlinked temporary with its pages still cached: the kernel
 * drops them in close(), about half a second for 1 GiB), and it may
 * wait for the file system (FUSE's FLUSH and RELEASE, an NFS file's
 * write-back), for ever if that hangs. An O_PATH descriptor asks nothing
 * of the file system at its close, nor does a directory's (no FLUSH;
 * FUSE sends RELEASEDIR without waiting for it): those may be closed
 * anywhere. The
 * close counts for the owner's share of the pool (engine_thread.c): a
 * file system that hangs holds that user's threads, not everybody's.
 */
void	engine_close(int fd, struct cred *owner);
/*
 * Where bulk copying runs from now on: io-wq's workers and the pool's
 * threads while they work for jobs that are not interactive; the pool's
 * interactive work runs in other. The policy is reserve.c's; the engine
 * only carries it out, so that it needs nothing from there.
 */
int	engine_confine(const cpu_set_t *bulk, const cpu_set_t *other);
void	engine_reconfigure(const struct config *);
void	engine_shutdown(void);
void	engine_tick(void);
const char *engine_name(void);
/* An operation's name, as --fault spells it: "open", "copy"... (eop.c) */
const char *eop_name(enum eop_type);
enum method engine_method(uint64_t size);
/*
 * A testing aid (cpd --fault OP:N[:ERRNO]): the Nth operation of type OP,
 * counted from start-up, fails with ERRNO (default EIO) without being
 * carried out, as a failure at submit time does. OP "lane" is the Nth
 * data lane the io_uring engine sets up (its pipe or buffer cannot be
 * had). OP "verify" is the Nth look of --verify at a copy (copy_verify.c):
 * one byte of the copy is flipped on the disk first, and the look must
 * see it. Returns 0, or -EINVAL for a malformed spec or one too many.
 */
#define ENGINE_MAX_FAULTS	32	/* one of each kind of operation, and then some */
int	eop_fault_add(const char *spec);
/* The verify fault (see above) strikes the look being made now: -errno, or 0. */
int	eop_fault_verify(void);

#endif
