/*
 * The job journal in the state directory, so that a restart (or a crash)
 * loses no accepted job.
 *
 * One file per job rather than an append-only log: a record is replaced
 * whole, so there is nothing to compact, an expired job is one unlink,
 * and a damaged file costs exactly one job. Each file is written as a
 * temporary, fsynced, renamed over the old one, and the directory is
 * fsynced: a reader sees the old record or the new one, never a mix.
 * The header carries the length and a CRC-32 of the JSON, so a torn or
 * bit-rotten file is told apart from a valid one even when what is left
 * still parses.
 *
 * Two threads do the writing, so that the event loop never waits on the
 * disk. The writer takes everything queued at once (a job whose records
 * queued up meanwhile has only its latest one written) and writes and
 * renames each file. A rename is atomic for every process, so a record
 * written this way survives a crash of the daemon, and the writer hands
 * it back at once. Only records that must also survive a crash of the
 * machine (those of sync jobs, and next-id) go on to the syncer, which
 * fsyncs them and then the directory, once per batch (group commit).
 * Why not fsync every record: on ext4 under bulk writes one fsync can
 * take seconds (the journal commit waits for other files' data), and a
 * 4 KiB interactive copy would wait that long to be accepted. A job
 * without sync promises no durability of its data either, so losing its
 * record to a power cut costs nothing it had promised.
 * Completions come back through loop_post().
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal.h"
#include "log.h"
#include "loop.h"
#include "path.h"

#define JOURNAL_MAX_FILE	(64 << 20)	/* larger is not a record of ours */
#define JOURNAL_MAX_DEPTH	128		/* temporaries: directories deep */
#define JOURNAL_NEXT_ID		"next-id"

struct jwrite {
	struct jwrite	*next;
	uint64_t	 id;		/* 0: the next-id file */
	char		*data;		/* NULL: remove the file */
	size_t		 len;
	bool		 durable;	/* fsynced before done() */
	void		(*done)(uint64_t id, int err);
	int		 err;
};

/* A thread's work: the writer's, or the syncer's. */
struct jstage {
	struct jwrite	*queue, **tail;
	pthread_cond_t	 cond;
	pthread_t	 thread;
	bool		 up;
	void		(*commit)(struct jwrite *);
};

static int		 dirfd_ = -1;
static char		 dir[4096];
static char		 status[4096 + 256] = "disabled";
static uint64_t		 id_limit;
static pthread_mutex_t	 lock = PTHREAD_MUTEX_INITIALIZER;
static bool		 stopping;
static void		 journal_write_batch(struct jwrite *);
static void		 journal_sync_batch(struct jwrite *);
static struct jstage	 writer = {
	.tail = &writer.queue, .cond = PTHREAD_COND_INITIALIZER, .commit = journal_write_batch,
};
static struct jstage	 syncer = {
	.tail = &syncer.queue, .cond = PTHREAD_COND_INITIALIZER, .commit = journal_sync_batch,
};

uint32_t
journal_crc32(const void *buf, size_t len)
{
	const unsigned char	*p = buf;
	uint32_t		 crc = 0xffffffff;

	while (len--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320 & -(crc & 1));
	}
	return ~crc;
}

int
journal_encode(struct json_object *rec, char **out, size_t *outlen)
{
	size_t		 len;
	const char	*json = json_object_to_json_string_length(rec, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	char		 head[64];
	int		 n;

	if (json == NULL)
		return -ENOMEM;
	n = snprintf(head, sizeof(head), JOURNAL_MAGIC " %zu %08" PRIx32 "\n", len,
	    journal_crc32(json, len));
	if ((*out = malloc((size_t)n + len + 1)) == NULL)
		return -ENOMEM;
	memcpy(*out, head, (size_t)n);
	memcpy(*out + n, json, len);
	(*out)[(size_t)n + len] = '\n';		/* for people who look at it */
	*outlen = (size_t)n + len + 1;
	return 0;
}

int
journal_decode(const char *buf, size_t len, struct json_object **out)
{
	const size_t		 mlen = strlen(JOURNAL_MAGIC);
	const char		*p = buf, *end = buf + len;
	struct json_tokener	*tok;
	struct json_object	*o;
	uint64_t		 jlen = 0;
	uint32_t		 crc = 0;
	int			 digits;

	if (len < mlen + 1 || memcmp(p, JOURNAL_MAGIC " ", mlen + 1) != 0)
		return -EBADMSG;
	for (p += mlen + 1, digits = 0; p < end && *p >= '0' && *p <= '9'; p++, digits++) {
		if (digits == 12)
			return -EBADMSG;
		jlen = jlen * 10 + (uint64_t)(*p - '0');
	}
	if (digits == 0 || p == end || *p++ != ' ')
		return -EBADMSG;
	for (digits = 0; digits < 8; digits++, p++) {
		int v;

		if (p == end)
			return -EBADMSG;
		v = *p >= '0' && *p <= '9' ? *p - '0' : *p >= 'a' && *p <= 'f' ? *p - 'a' + 10 : -1;
		if (v < 0)
			return -EBADMSG;
		crc = crc << 4 | (uint32_t)v;
	}
	if (p == end || *p++ != '\n')
		return -EBADMSG;
	/* The JSON, then the newline journal_encode() adds, then nothing. */
	if ((uint64_t)(end - p) != jlen + 1 || p[jlen] != '\n' ||
	    journal_crc32(p, (size_t)jlen) != crc)
		return -EBADMSG;
	if ((tok = json_tokener_new()) == NULL)
		return -ENOMEM;
	o = json_tokener_parse_ex(tok, p, (int)jlen);
	if (o && (json_tokener_get_parse_end(tok) != (size_t)jlen ||
	    !json_object_is_type(o, json_type_object))) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	if (o == NULL)
		return -EBADMSG;
	*out = o;
	return 0;
}

bool
journal_enabled(void)
{
	return dirfd_ >= 0;
}

const char *
journal_status(void)
{
	return status;
}

const char *
journal_dir(void)
{
	return dir;
}

static void
journal_name(uint64_t id, char *buf, size_t len)
{
	if (id == 0)
		snprintf(buf, len, JOURNAL_NEXT_ID);
	else
		snprintf(buf, len, "job-%" PRIu64 ".json", id);
}

/* Replace name with data: a temporary, renamed over it. */
static int
journal_put(const char *name, const char *data, size_t len)
{
	char	tmp[NAME_MAX + 1];
	int	fd, rc = 0;

	snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
	if ((fd = openat(dirfd_, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	    0600)) < 0)
		return -errno;
	while (len > 0 && rc == 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno != EINTR)
			rc = -errno;
		else if (n > 0) {
			data += n;
			len -= (size_t)n;
		}
	}
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && renameat(dirfd_, tmp, dirfd_, name) < 0)
		rc = -errno;
	if (rc < 0)
		unlinkat(dirfd_, tmp, 0);
	return rc;
}

/* The first write of file id in list, if any. */
static struct jwrite *
journal_find(struct jwrite *list, uint64_t id)
{
	while (list && list->id != id)
		list = list->next;
	return list;
}

static void
journal_enqueue(struct jstage *st, struct jwrite *list)
{
	struct jwrite *last;

	if (list == NULL)
		return;
	for (last = list; last->next; last = last->next)
		;
	pthread_mutex_lock(&lock);
	*st->tail = list;
	st->tail = &last->next;
	pthread_cond_signal(&st->cond);
	pthread_mutex_unlock(&lock);
}

static void journal_completed(void *);

/*
 * The writer: write or remove each file, then hand back what is done and
 * pass on what must be made durable. A superseded record is as far
 * along as the one that replaced it, and goes with it.
 */
static void
journal_write_batch(struct jwrite *batch)
{
	struct jwrite	*w, *next, *later, *done = NULL, *sync = NULL;
	struct jwrite	**done_tail = &done, **sync_tail = &sync;

	for (w = batch; w; w = w->next) {
		char name[64];

		if (journal_find(w->next, w->id))
			continue;	/* superseded: the later record says more */
		journal_name(w->id, name, sizeof(name));
		if (w->data)
			w->err = journal_put(name, w->data, w->len);
		else if (unlinkat(dirfd_, name, 0) < 0 && errno != ENOENT)
			w->err = -errno;
	}
	for (w = batch; w; w = next) {
		next = w->next;
		w->next = NULL;
		for (later = journal_find(next, w->id); later;
		    later = journal_find(later->next, w->id)) {
			w->err = later->err;
			w->durable |= later->durable;
		}
		if (w->durable && w->err == 0) {
			*sync_tail = w;
			sync_tail = &w->next;
		} else {
			*done_tail = w;
			done_tail = &w->next;
		}
	}
	if (done)
		loop_post(journal_completed, done);
	journal_enqueue(&syncer, sync);
}

/* The syncer: fsync each file, then the directory once for them all. */
static void
journal_sync_batch(struct jwrite *batch)
{
	struct jwrite	*w;
	int		 fd, rc = 0;

	for (w = batch; w; w = w->next) {
		char name[64];

		if (w->data == NULL)
			continue;	/* a removal: the directory's fsync */
		journal_name(w->id, name, sizeof(name));
		/* Whatever is under the name now is as new as w, or newer. */
		if ((fd = openat(dirfd_, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
			if (errno != ENOENT)	/* removed since: nothing to sync */
				w->err = -errno;
			continue;
		}
		if (fsync(fd) < 0)
			w->err = -errno;
		close(fd);
	}
	if (fsync(dirfd_) < 0)
		rc = -errno;
	for (w = batch; w; w = w->next)
		if (w->err == 0)
			w->err = rc;
	loop_post(journal_completed, batch);
}

static void
journal_completed(void *arg)
{
	struct jwrite *w = arg, *next;

	for (; w; w = next) {
		next = w->next;
		if (w->err < 0) {
			char name[64];

			journal_name(w->id, name, sizeof(name));
			snprintf(status, sizeof(status), "failing: %s/%s: %s", dir, name,
			    strerror(-w->err));
			log_warnx("journal: cannot write %s/%s: %s", dir, name, strerror(-w->err));
		}
		if (w->done)
			w->done(w->id, w->err);
		free(w->data);
		free(w);
	}
}

/*
 * A stage's thread. The writer stops when told to and its queue is
 * empty; the syncer only after the writer has stopped, so that nothing
 * the writer passes on is lost.
 */
static void *
journal_thread(void *arg)
{
	struct jstage	*st = arg;
	struct jwrite	*batch;

	for (;;) {
		pthread_mutex_lock(&lock);
		while (st->queue == NULL && !(stopping && (st == &writer || !writer.up)))
			pthread_cond_wait(&st->cond, &lock);
		batch = st->queue;
		st->queue = NULL;
		st->tail = &st->queue;
		pthread_mutex_unlock(&lock);
		if (batch == NULL)
			return NULL;
		st->commit(batch);
	}
}

void
journal_write(uint64_t id, struct json_object *rec, bool durable,
    void (*done)(uint64_t, int))
{
	struct jwrite	*w;
	int		 rc = -ENOMEM;

	if (!journal_enabled()) {
		json_object_put(rec);
		if (done)
			done(id, 0);
		return;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL ||
	    (rec && (rc = journal_encode(rec, &w->data, &w->len)) < 0)) {
		json_object_put(rec);
		free(w);
		log_warnx("journal: cannot record job %" PRIu64 ": %s", id, strerror(-rc));
		if (done)
			done(id, rc);
		return;
	}
	json_object_put(rec);
	w->id = id;
	w->durable = durable;
	w->done = done;
	journal_enqueue(&writer, w);
}

uint64_t
journal_id_limit(void)
{
	return journal_enabled() ? id_limit : UINT64_MAX;
}

/*
 * Ids are reserved a block at a time, so that next-id is written once
 * per JOURNAL_ID_BLOCK jobs; a restart skips the rest of the block.
 * The write is queued before the record of the job that needs it, and
 * the thread writes in order, so the job's record is never durable
 * while its id is not reserved.
 */
void
journal_reserve_ids(uint64_t next_id)
{
	struct json_object *o = json_object_new_object();

	id_limit = next_id + JOURNAL_ID_BLOCK;
	json_object_object_add(o, "next_id", json_object_new_int64((int64_t)id_limit));
	journal_write(0, o, true, NULL);
}

/* Read a whole small file of the state directory. */
static int
journal_read(const char *name, char **out, size_t *len)
{
	struct stat	 st;
	char		*buf;
	size_t		 got = 0;
	int		 fd, rc = 0;

	if ((fd = openat(dirfd_, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > JOURNAL_MAX_FILE) {
		close(fd);
		return -EBADMSG;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -errno : -EBADMSG;
			break;
		}
		got += (size_t)n;
	}
	close(fd);
	if (rc < 0) {
		free(buf);
		return rc;
	}
	*out = buf;
	*len = got;
	return 0;
}

/* A file that is not a valid record: keep it for a post-mortem, out of the way. */
static void
journal_set_aside(const char *name, const char *why)
{
	char aside[NAME_MAX + 1];

	snprintf(aside, sizeof(aside), "%s.corrupt", name);
	if (renameat(dirfd_, name, dirfd_, aside) == 0)
		log_warnx("journal: %s/%s: %s; set aside as %s", dir, name, why, aside);
	else {
		log_warnx("journal: %s/%s: %s; cannot set it aside (%s), removing it", dir,
		    name, why, strerror(errno));
		unlinkat(dirfd_, name, 0);
	}
}

static int
journal_read_record(const char *name, struct json_object **rec)
{
	char	*buf = NULL;
	size_t	 len = 0;
	int	 rc;

	if ((rc = journal_read(name, &buf, &len)) < 0)
		return rc;
	rc = journal_decode(buf, len, rec);
	free(buf);
	return rc;
}

uint64_t
journal_load(int (*load)(uint64_t id, struct json_object *rec))
{
	struct json_object	*rec, *v;
	struct dirent		*de;
	uint64_t		 next = 1;
	DIR			*d;
	int			 fd, rc;

	if ((rc = journal_read_record(JOURNAL_NEXT_ID, &rec)) == 0) {
		if (json_object_object_get_ex(rec, "next_id", &v) &&
		    json_object_is_type(v, json_type_int) && json_object_get_int64(v) > 0)
			next = (uint64_t)json_object_get_int64(v);
		else
			rc = -EBADMSG;
		json_object_put(rec);
	}
	if (rc == -EBADMSG)
		journal_set_aside(JOURNAL_NEXT_ID, "corrupt; job ids of expired jobs may be reused");
	else if (rc < 0 && rc != -ENOENT)
		log_warnx("journal: %s/%s: %s", dir, JOURNAL_NEXT_ID, strerror(-rc));
	if ((fd = dup(dirfd_)) < 0 || (d = fdopendir(fd)) == NULL) {
		log_warn("journal: cannot read %s", dir);
		if (fd >= 0)
			close(fd);
		return next;
	}
	while ((de = readdir(d)) != NULL) {
		const char	*n = de->d_name;
		char		*end;
		uint64_t	 id;

		if (n[0] == '.' && strncmp(n, ".job-", 5) == 0) {
			unlinkat(dirfd_, n, 0);		/* a write the crash interrupted */
			continue;
		}
		if (strncmp(n, "job-", 4) != 0 || n[4] < '1' || n[4] > '9')
			continue;
		id = strtoull(n + 4, &end, 10);
		if (strcmp(end, ".json") != 0)
			continue;
		if ((rc = journal_read_record(n, &rec)) < 0) {
			journal_set_aside(n, rc == -EBADMSG ? "corrupt or torn record" : strerror(-rc));
			continue;
		}
		if ((rc = load(id, rec)) < 0) {
			journal_set_aside(n, rc == -EBADMSG ? "invalid record" : strerror(-rc));
			continue;
		}
		if (id >= next)
			next = id + 1;
	}
	closedir(d);
	return next;
}

/*
 * The temporaries of a job in dfd (and below it): ".cpd-tmp.<id>." and
 * anything after, files or whole directories; another job's, or a user's
 * own files, never match.
 */
static void
journal_clean_at(int dfd, const char *path, const char *prefix, bool recursive, int depth)
{
	struct dirent	*de;
	DIR		*d;

	if ((d = fdopendir(dfd)) == NULL) {
		close(dfd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		const char *n = de->d_name;

		if (strncmp(n, prefix, strlen(prefix)) == 0) {
			if (unlinkat(dirfd(d), n, 0) == 0 ||
			    (errno == EISDIR && path_remove_tree(dirfd(d), n) == 0))
				log_info("removed leftover temporary %s/%s", path, n);
			else
				log_warn("cannot remove leftover temporary %s/%s", path, n);
			continue;
		}
		if (!recursive || depth >= JOURNAL_MAX_DEPTH || strcmp(n, ".") == 0 ||
		    strcmp(n, "..") == 0 || (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN))
			continue;
		/* O_NOFOLLOW: a directory swapped for a symlink is not entered. */
		int sub = openat(dirfd(d), n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub >= 0) {
			char *p;

			if (asprintf(&p, "%s/%s", path, n) < 0) {
				close(sub);
				continue;
			}
			journal_clean_at(sub, p, prefix, true, depth + 1);
			free(p);
		}
	}
	closedir(d);
}

void
journal_clean_temporaries(const char *path, uint64_t id, bool recursive)
{
	char	prefix[64];
	int	fd;

	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return;		/* gone, or not a directory: nothing of ours there */
	snprintf(prefix, sizeof(prefix), PATH_TEMP_PREFIX "%" PRIu64 ".", id);
	journal_clean_at(fd, path, prefix, recursive, 0);
}

int
journal_init(const char *path)
{
	sigset_t all, old;
	int	 rc;

	snprintf(dir, sizeof(dir), "%s", path);
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		goto fail;
	if ((dirfd_ = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		goto fail;
	/* Can we write here at all? Better to know now than at the first job. */
	if (faccessat(dirfd_, ".", W_OK, AT_EACCESS) < 0)
		goto fail;
	/*
	 * Two daemons on one journal would run the same jobs twice and remove
	 * each other's temporaries. The lock lives as long as the fd: a
	 * crashed daemon's lock is gone with it.
	 */
	if (flock(dirfd_, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			errno = EBUSY;
		goto fail;
	}
	/* Signals are the loop thread's business: the threads block them all. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	if ((rc = pthread_create(&syncer.thread, NULL, journal_thread, &syncer)) == 0) {
		syncer.up = true;
		if ((rc = pthread_create(&writer.thread, NULL, journal_thread, &writer)) == 0)
			writer.up = true;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		journal_shutdown();
		errno = rc;
		goto fail;
	}
	snprintf(status, sizeof(status), "ok");
	return 0;
fail:
	rc = -errno;
	log_warnx("state directory %s: %s; jobs are not journaled and do not survive a "
	    "restart", path, rc == -EBUSY ? "in use by another cpd" : strerror(-rc));
	if (dirfd_ >= 0)
		close(dirfd_);
	dirfd_ = -1;
	snprintf(status, sizeof(status), "disabled");
	return rc;
}

void
journal_shutdown(void)
{
	if (!syncer.up)
		return;
	pthread_mutex_lock(&lock);
	stopping = true;
	pthread_cond_signal(&writer.cond);
	pthread_mutex_unlock(&lock);
	if (writer.up)
		pthread_join(writer.thread, NULL);
	pthread_mutex_lock(&lock);
	writer.up = false;
	pthread_cond_signal(&syncer.cond);
	pthread_mutex_unlock(&lock);
	pthread_join(syncer.thread, NULL);
	syncer.up = false;
	close(dirfd_);
	dirfd_ = -1;
}
