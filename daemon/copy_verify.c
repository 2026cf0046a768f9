/*
 * --verify (CS_VERIFY): a regular file's copy is read back from the disk
 * before it is published, and its XXH3-128 compared with the source's.
 * The step comes after the data, the metadata and, with sync, the fsync
 * (so a sync job verifies what fsync made durable), and before the link
 * or rename. A mismatch fails the file with EIO; its temporary then goes
 * as any failed copy's does, so nothing is published under its name. A
 * file that passed gives its hash to its Change record (Change.hash:
 * what cpd-client --manifest writes).
 *
 * The source's hash is not taken while the copy reads it: the data moves
 * in the kernel (copy_file_range, splice, a clone), and the daemon never
 * sees the bytes. The step reads the source again, in the same pool
 * operation, just before reading the copy back. Just copied, the source
 * is usually in the page cache; after a clone (or a copy_file_range the
 * file system made a clone of) nothing read it, and it comes from the
 * disk too. So the step checks that the copy on the disk holds what the
 * source holds now: a source changed between the copy and this look
 * fails the file as well (the recheck before it sees most such changes
 * by their mtime).
 *
 * From the disk, not the page cache: the copy is read with O_DIRECT,
 * through a descriptor of its own (reopened through /proc/self/fd/N,
 * since the temporary may have no name), after its dirty pages were
 * written back (sync_file_range: the data, not a journal commit). Why
 * not drop the pages (POSIX_FADV_DONTNEED) and read buffered instead:
 * a drop is advice the kernel need not take (a page mapped, locked or
 * dirtied again stays), and it was slower: 1 GiB read back in 8 MiB
 * reads on this machine's virtio disk went at 1.8-1.9 GB/s direct and
 * 1.2-1.8 GB/s buffered after a drop (filling the page cache costs the
 * reading thread time). Where the reopen or direct I/O is refused (a
 * file system without direct I/O, or a mode the metadata step gave the
 * copy that the caller cannot read it by), its clean pages are dropped
 * and it is read buffered.
 *
 * Not verified: a device or FIFO written into (c->into): a stream cannot
 * be read back, and a device is the caller's. A cloned copy is read back
 * like any other: that costs a read of the shared blocks, and shows that
 * the clone holds what the source does.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "copy_int.h"
#include "engine.h"
#include "job.h"
#include "log.h"

#define VERIFY_CHUNK	(8u << 20)	/* as large as a direct read gains from here */
#define VERIFY_ALIGN	4096u		/* a direct read's buffer, offset and length */

/*
 * fd's bytes from its start into st, read in chunks of buf's size; a
 * direct read's short chunk is its end (the next offset is unaligned).
 * The count of bytes into *bytes. 0 or -errno.
 */
static int
copy_verify_hash(int fd, bool direct, void *buf, size_t size, XXH3_state_t *st,
    uint64_t *bytes)
{
	ssize_t n;

	XXH3_128bits_reset(st);
	*bytes = 0;
	while ((n = pread(fd, buf, size, (off_t)*bytes)) > 0) {
		XXH3_128bits_update(st, buf, (size_t)n);
		*bytes += (uint64_t)n;
		if (direct && (size_t)n % VERIFY_ALIGN)
			break;
	}
	return n < 0 ? -errno : 0;
}

/*
 * The copy's dirty pages to the disk, and waited for. A direct read
 * would write them back itself; done first, apart, it is the same work,
 * timed apart from the read, and the buffered way needs it before its
 * drop.
 */
static int
copy_verify_write_back(int fd)
{
	if (sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
	    SYNC_FILE_RANGE_WAIT_AFTER) < 0 && fdatasync(fd) < 0)
		return -errno;
	return 0;
}

/* The copy (fd), written back, from the disk into st: directly, or dropped and read. */
static int
copy_verify_read_back(int fd, void *buf, size_t size, XXH3_state_t *st, uint64_t *bytes)
{
	char	path[32];
	int	dfd, rc;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if ((dfd = open(path, O_RDONLY | O_DIRECT | O_CLOEXEC | O_NOCTTY)) < 0)
		rc = -errno;
	else {
		rc = copy_verify_hash(dfd, true, buf, size, st, bytes);
		close(dfd);
		if (rc != -EINVAL)
			return rc;
	}
	log_debug("verify: no direct read of the copy (%s): its pages dropped, read",
	    strerrorname_np(-rc));
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);	/* advice: see above */
	return copy_verify_hash(fd, false, buf, size, st, bytes);
}

/*
 * The verify fault (cpd --fault verify:N, a testing aid): the copy is
 * spoiled where the look will read it, one byte flipped in its middle
 * (an empty one gets a byte), so that only a look at the disk sees it.
 */
static int
copy_verify_spoil(int fd, uint64_t size)
{
	unsigned char	b = 0;
	off_t		off = (off_t)(size / 2);

	if (size && pread(fd, &b, 1, off) != 1)
		return -EIO;
	b ^= 0xff;
	return pwrite(fd, &b, 1, off) == 1 ? 0 : -errno;
}

static uint64_t
copy_verify_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Both hashes into hex (op->buf, CHANGE_HASH_LEN) when equal: 0; 1 when not; or -errno. */
static int
copy_verify_compare(struct eop *op, void *buf, size_t size, XXH3_state_t *st)
{
	XXH128_hash_t		 src, dst;
	XXH128_canonical_t	 canon;
	uint64_t		 nsrc, ndst, t0, t1, t2;
	char			*hex = op->buf;
	int			 rc;

	/* The copy's writeback started: the disk writes while the source is hashed. */
	(void)sync_file_range(op->fd2, 0, 0, SYNC_FILE_RANGE_WRITE);
	if ((rc = copy_verify_hash(op->fd, false, buf, size, st, &nsrc)) < 0)
		return rc;
	src = XXH3_128bits_digest(st);
	t0 = copy_verify_ns();
	if ((rc = copy_verify_write_back(op->fd2)) < 0)
		return rc;
	t1 = copy_verify_ns();
	if ((rc = copy_verify_read_back(op->fd2, buf, size, st, &ndst)) < 0)
		return rc;
	dst = XXH3_128bits_digest(st);
	t2 = copy_verify_ns();
	/* The bandwidth of the look at the disk: tests/bench/verify.sh reads it. */
	log_debug("verify: %llu bytes read back in %llu us (written back in %llu us first)",
	    (unsigned long long)ndst, (unsigned long long)((t2 - t1) / 1000),
	    (unsigned long long)((t1 - t0) / 1000));
	if (nsrc != ndst || !XXH128_isEqual(src, dst))
		return 1;
	XXH128_canonicalFromHash(&canon, src);
	for (size_t i = 0; i < sizeof(canon.digest); i++)
		snprintf(hex + 2 * i, 3, "%02x", canon.digest[i]);
	return 0;
}

static long
copy_verify_run(struct eop *op)
{
	size_t		 size = VERIFY_CHUNK;
	void		*buf;
	XXH3_state_t	*st;
	int		 rc;

	if (op->len + 1 < size)		/* a small file: its size, and the read that ends it */
		size = (op->len + VERIFY_ALIGN) & ~(size_t)(VERIFY_ALIGN - 1);
	if (eop_fault_verify() < 0 && (rc = copy_verify_spoil(op->fd2, op->len)) < 0)
		return rc;
	if ((buf = aligned_alloc(VERIFY_ALIGN, size)) == NULL)
		return -ENOMEM;
	if ((st = XXH3_createState()) == NULL) {
		free(buf);
		return -ENOMEM;
	}
	rc = copy_verify_compare(op, buf, size, st);
	XXH3_freeState(st);
	free(buf);
	return rc;
}

bool
copy_verify_wanted(const struct copy *c)
{
	return c->job->req.verify && c->kind == K_FILE && !c->into && !c->proc;
}

struct eop *
copy_verify_op(struct copy *c)
{
	struct eop *op = copy_size_op(c, EOP_CALL);

	op->run = copy_verify_run;
	op->buf = c->hash;
	return op;
}

enum copy_state
copy_verify_on(struct copy *c, int res)
{
	if (res == 1)
		copy_error(c, -EIO, "verify failed: '%s' differs from '%s' after copy",
		    c->dstpath, c->srcpath);
	else if (res < 0)
		copy_error(c, res, "cannot verify '%s'", c->dstpath);
	if (res != 0)
		c->hash[0] = '\0';
	return copy_publish_next(c, CS_VERIFY);
}
