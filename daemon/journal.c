/*
 * The job journal in the state directory, so that a restart (or a crash)
 * loses no accepted job.
 *
 * A record is replaced whole, so there is nothing to compact, an expired
 * job is one removal, and a damaged record costs exactly one job. The
 * header carries the length and a CRC-32 of the JSON, so a torn or
 * bit-rotten record is told apart from a valid one even when what is
 * left still parses. A record lives in one of two places:
 *
 * - A slot: the file "slots" is an array of 4 KiB slots, and a job
 *   without sync keeps its record in one of them, overwritten in place.
 *   A write of one aligned page into an existing file is atomic for
 *   every process (the page cache copies it in one piece), so it survives
 *   a crash of the daemon, and it is only that: a write, no name in the
 *   directory created or changed. Why: under bulk writes a create and a
 *   rename in the state directory wait for ext4's journal behind other
 *   files' data (measured under four 1 GiB copies: p99 300 ms), and a
 *   4 KiB interactive copy waited that long to start and to end; a write
 *   into the slot file took 0.05 ms. A torn page after a power cut costs
 *   that job's record; a job without sync promised no durability of its
 *   data either.
 * - A file "job-<id>.json", written as a temporary and renamed over the
 *   old one: for sync jobs (the file is fsynced, then the directory,
 *   so that a reader sees the old record or the new one even after a
 *   crash of the machine), for records too big for a slot, and for
 *   next-id. A job that once had a file keeps to files, so that at
 *   start-up a file always wins over a slot with the same id (the slot
 *   is then the one the file replaced).
 *
 * Two threads do the writing, so that the event loop never waits on the
 * disk. The writer takes everything queued at once (a job whose records
 * queued up meanwhile has only its latest one written), writes it and
 * hands it back at once. Only records that must also survive a crash of
 * the machine (those of sync jobs, and next-id) go on to the syncer,
 * which fsyncs them and then the directory, once per batch (group
 * commit). Why not fsync every record: on ext4 under bulk writes one
 * fsync can take seconds. Completions come back through loop_post().
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
#define JOURNAL_SLOTS		"slots"
#define JOURNAL_SLOT_MAGIC	"cpd-slot"
#define JOURNAL_SLOT_SIZE	4096
#define JOURNAL_SLOT_GROW	256		/* slots added to the file at a time */
#define JOURNAL_SLOTS_MAX	(1u << 22)	/* 16 GiB of slots: not a file of ours */
#define JOURNAL_NO_SLOT		UINT32_MAX

struct jwrite {
	struct jwrite	*next;
	uint64_t	 id;		/* 0: the next-id file */
	char		*data;		/* NULL: remove the file */
	size_t		 len;
	bool		 durable;	/* fsynced before done() */
	void		(*done)(uint64_t id, int err);
	int		 err;
};

/*
 * Where a job's record is. The writer's alone, and before it runs the
 * loader's: an open-addressing table by id (id 0: an empty entry).
 */
struct jplace {
	uint64_t	 id;
	uint32_t	 slot;		/* JOURNAL_NO_SLOT: none */
	bool		 file;		/* it has had a file: files only */
};

/* A record found in a slot at start-up, before it is loaded. */
struct jfound {
	uint64_t		 id;
	uint32_t		 slot;
	struct json_object	*rec;	/* NULL: dropped */
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
static int		 slotfd = -1;
static uint32_t		 nslots;		/* in the file */
static uint32_t		*freeslots;		/* room for nslots */
static size_t		 nfree;
static struct jplace	*places;
static size_t		 nplaces, places_cap;	/* a power of two */
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

/* A decimal number of up to 19 digits at *p, then sep; *p moves past both. */
static bool
journal_number(const char **p, const char *end, char sep, uint64_t *out)
{
	const char	*q = *p;
	uint64_t	 v = 0;

	for (; q < end && *q >= '0' && *q <= '9'; q++) {
		if (q - *p == 19)
			return false;
		v = v * 10 + (uint64_t)(*q - '0');
	}
	if (q == *p || q == end || *q != sep)
		return false;
	*p = q + 1;
	*out = v;
	return true;
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
	p += mlen + 1;
	if (!journal_number(&p, end, ' ', &jlen))
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

static size_t
journal_place_home(uint64_t id)
{
	return (size_t)((id * 0x9e3779b97f4a7c15ULL) >> 20) & (places_cap - 1);
}

static struct jplace *
journal_place_find(uint64_t id)
{
	if (places_cap == 0)
		return NULL;
	for (size_t i = journal_place_home(id);; i = (i + 1) & (places_cap - 1)) {
		if (places[i].id == id)
			return &places[i];
		if (places[i].id == 0)
			return NULL;
	}
}

/* The entry of id, a new one (no slot, no file) if it has none. */
static struct jplace *
journal_place_add(uint64_t id)
{
	struct jplace	*p;
	size_t		 i;

	if ((p = journal_place_find(id)) != NULL)
		return p;
	if ((nplaces + 1) * 2 > places_cap) {
		struct jplace	*old = places;
		size_t		 oldcap = places_cap, cap = oldcap ? oldcap * 2 : 256;

		if ((places = calloc(cap, sizeof(*places))) == NULL) {
			places = old;
			return NULL;
		}
		places_cap = cap;
		for (size_t k = 0; k < oldcap; k++) {
			if (old[k].id == 0)
				continue;
			for (i = journal_place_home(old[k].id); places[i].id; i = (i + 1) & (cap - 1))
				;
			places[i] = old[k];
		}
		free(old);
	}
	for (i = journal_place_home(id); places[i].id; i = (i + 1) & (places_cap - 1))
		;
	places[i] = (struct jplace){ .id = id, .slot = JOURNAL_NO_SLOT };
	nplaces++;
	return &places[i];
}

/* Remove p, moving back the entries after it that probed past it. */
static void
journal_place_del(struct jplace *p)
{
	size_t i = (size_t)(p - places), j = i, mask = places_cap - 1;

	for (;;) {
		size_t h;

		j = (j + 1) & mask;
		if (places[j].id == 0)
			break;
		h = journal_place_home(places[j].id);
		if (i <= j ? (h <= i || h > j) : (h <= i && h > j)) {
			places[i] = places[j];
			i = j;
		}
	}
	places[i].id = 0;
	nplaces--;
}

/* A free slot, the file grown when there is none. */
static int
journal_slot_get(uint32_t *out)
{
	if (nfree == 0) {
		uint32_t	 n = nslots + JOURNAL_SLOT_GROW;
		uint32_t	*f;

		if (n > JOURNAL_SLOTS_MAX)
			return -ENOSPC;
		if ((f = realloc(freeslots, n * sizeof(*f))) == NULL)
			return -ENOMEM;
		freeslots = f;
		/* A hole: the pages are allocated as records are written. */
		if (ftruncate(slotfd, (off_t)n * JOURNAL_SLOT_SIZE) < 0)
			return -errno;
		while (n > nslots)
			freeslots[nfree++] = --n;	/* the lowest on top */
		nslots += JOURNAL_SLOT_GROW;
	}
	*out = freeslots[--nfree];
	return 0;
}

static int
journal_slot_head(char *buf, size_t size, uint64_t id, size_t len)
{
	return snprintf(buf, size, JOURNAL_SLOT_MAGIC " %" PRIu64 " %zu\n", id, len);
}

/* Write slot whole, in one page: a record (data) or zeros (free). */
static int
journal_slot_put(uint32_t slot, uint64_t id, const char *data, size_t len)
{
	char	page[JOURNAL_SLOT_SIZE] = "";
	ssize_t	n;
	int	head = 0;

	if (data) {
		head = journal_slot_head(page, sizeof(page), id, len);
		if ((size_t)head + len > sizeof(page))
			return -E2BIG;
		memcpy(page + head, data, len);
	}
	n = pwrite(slotfd, page, sizeof(page), (off_t)slot * JOURNAL_SLOT_SIZE);
	if (n < 0)
		return -errno;
	return n == (ssize_t)sizeof(page) ? 0 : -ENOSPC;
}

static int
journal_slot_free(uint32_t slot)
{
	int rc;

	if ((rc = journal_slot_put(slot, 0, NULL, 0)) == 0)
		freeslots[nfree++] = slot;
	return rc;
}

/* Whether w goes to a slot (p: where its job's record is, if known). */
static bool
journal_slot_fits(const struct jwrite *w, const struct jplace *p)
{
	return slotfd >= 0 && w->id != 0 && !w->durable && (p == NULL || !p->file) &&
	    (size_t)journal_slot_head(NULL, 0, w->id, w->len) + w->len <= JOURNAL_SLOT_SIZE;
}

/* The writer's work for one record: write it, or remove it, where it belongs. */
static int
journal_store(const struct jwrite *w)
{
	struct jplace	*p = w->id ? journal_place_find(w->id) : NULL;
	char		 name[64];
	int		 rc = 0;

	if (w->data && journal_slot_fits(w, p)) {
		if (p == NULL && (p = journal_place_add(w->id)) == NULL)
			return -ENOMEM;
		if (p->slot == JOURNAL_NO_SLOT && (rc = journal_slot_get(&p->slot)) < 0) {
			journal_place_del(p);
			return rc;
		}
		return journal_slot_put(p->slot, w->id, w->data, w->len);
	}
	/* Files only from now on: noted before the file exists. */
	if (w->data && w->id && (p = journal_place_add(w->id)) == NULL)
		return -ENOMEM;
	journal_name(w->id, name, sizeof(name));
	if (w->data)
		rc = journal_put(name, w->data, w->len);
	else if (unlinkat(dirfd_, name, 0) < 0 && errno != ENOENT)
		rc = -errno;
	if (rc < 0 || p == NULL)
		return rc;
	p->file = w->data != NULL;
	/* The slot it had is superseded (or removed with it). */
	if (p->slot != JOURNAL_NO_SLOT && (rc = journal_slot_free(p->slot)) == 0)
		p->slot = JOURNAL_NO_SLOT;
	if (w->data == NULL && p->slot == JOURNAL_NO_SLOT)
		journal_place_del(p);
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
		if (!journal_find(w->next, w->id))	/* else superseded */
			w->err = journal_store(w);
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
			char what[64];

			if (w->id)
				snprintf(what, sizeof(what), "job %" PRIu64, w->id);
			else
				snprintf(what, sizeof(what), JOURNAL_NEXT_ID);
			snprintf(status, sizeof(status), "failing: %s in %s: %s", what, dir,
			    strerror(-w->err));
			log_warnx("journal: cannot write the record of %s in %s: %s", what, dir,
			    strerror(-w->err));
		}
		if (w->done) {
			loop_completion_check("a journal write");
			w->done(w->id, w->err);
		}
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

	/* As loop_post() does: a daemon out of memory here cannot keep its word. */
	if ((w = calloc(1, sizeof(*w))) == NULL)
		fatal("journal: calloc");
	w->id = id;
	w->durable = durable;
	w->done = done;
	/*
	 * What is known at once (no journal: nothing to wait for; a record
	 * that cannot be encoded) is told from the loop all the same, never
	 * inside this call (the completion rule, journal.h).
	 */
	loop_submit_enter();
	if (!journal_enabled())
		loop_post(journal_completed, w);
	else if (rec && (w->err = journal_encode(rec, &w->data, &w->len)) < 0)
		loop_post(journal_completed, w);
	else
		journal_enqueue(&writer, w);
	loop_submit_leave();
	json_object_put(rec);
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

/* Forget the slot file and where records are: no slots from now on. */
static void
journal_slots_close(void)
{
	if (slotfd >= 0)
		close(slotfd);
	slotfd = -1;
	free(freeslots);
	free(places);
	freeslots = NULL;
	places = NULL;
	nslots = 0;
	nfree = nplaces = places_cap = 0;
}

/* What slot holds: 1 and a record, 0 when free, or -EBADMSG. */
static int
journal_slot_parse(const char *page, uint64_t *id, struct json_object **rec)
{
	const size_t	 mlen = strlen(JOURNAL_SLOT_MAGIC " ");
	const char	*p = page + mlen, *end = page + JOURNAL_SLOT_SIZE;
	uint64_t	 len;
	int		 rc;

	if (page[0] == '\0')
		return 0;
	if (memcmp(page, JOURNAL_SLOT_MAGIC " ", mlen) != 0 ||
	    !journal_number(&p, end, ' ', id) || *id == 0 ||
	    !journal_number(&p, end, '\n', &len) || len > (uint64_t)(end - p))
		return -EBADMSG;
	return (rc = journal_decode(p, (size_t)len, rec)) < 0 ? rc : 1;
}

/* A slot that is not a valid record: its page kept as a file, the slot freed. */
static void
journal_slot_set_aside(uint32_t slot, const char *why)
{
	char	page[JOURNAL_SLOT_SIZE], aside[64];
	int	rc;

	snprintf(aside, sizeof(aside), "slot-%" PRIu32 ".corrupt", slot);
	if (pread(slotfd, page, sizeof(page), (off_t)slot * JOURNAL_SLOT_SIZE) ==
	    (ssize_t)sizeof(page) && (rc = journal_put(aside, page, sizeof(page))) == 0)
		log_warnx("journal: %s/" JOURNAL_SLOTS ", slot %" PRIu32 ": %s; set aside as %s",
		    dir, slot, why, aside);
	else
		log_warnx("journal: %s/" JOURNAL_SLOTS ", slot %" PRIu32 ": %s; removing it", dir,
		    slot, why);
	journal_slot_free(slot);
}

/*
 * The records in the slot file, not loaded yet: a record in a file
 * replaces the one in a slot. Free slots go on the free list.
 */
static size_t
journal_slots_read(struct jfound **out)
{
	struct jfound	*found = NULL;
	struct stat	 st;
	const char	*why = NULL;
	size_t		 n = 0;

	if (slotfd < 0)
		return 0;
	if (fstat(slotfd, &st) < 0)
		why = strerror(errno);
	else if (st.st_size / JOURNAL_SLOT_SIZE > JOURNAL_SLOTS_MAX)
		why = "too large";
	if (why) {
		log_warnx("journal: %s/" JOURNAL_SLOTS ": %s; records go to files", dir, why);
		journal_slots_close();
		return 0;
	}
	nslots = (uint32_t)(st.st_size / JOURNAL_SLOT_SIZE);
	if (nslots && ((freeslots = malloc(nslots * sizeof(*freeslots))) == NULL ||
	    (found = calloc(nslots, sizeof(*found))) == NULL))
		fatal("journal: %u slots", (unsigned)nslots);
	for (uint32_t i = 0; i < nslots; i++) {
		char			 page[JOURNAL_SLOT_SIZE];
		struct json_object	*rec = NULL;
		struct jplace		*p;
		uint64_t		 id;
		int			 rc;

		if (pread(slotfd, page, sizeof(page), (off_t)i * JOURNAL_SLOT_SIZE) !=
		    (ssize_t)sizeof(page))
			rc = -EIO;
		else
			rc = journal_slot_parse(page, &id, &rec);
		if (rc == 0)
			freeslots[nfree++] = i;
		else if (rc < 0)
			journal_slot_set_aside(i, rc == -EBADMSG ? "corrupt or torn record" :
			    strerror(-rc));
		else if (journal_place_find(id)) {
			json_object_put(rec);
			journal_slot_set_aside(i, "a second record of its job");
		} else {
			if ((p = journal_place_add(id)) == NULL)
				fatal("journal: slot %u", (unsigned)i);
			p->slot = i;
			found[n++] = (struct jfound){ .id = id, .slot = i, .rec = rec };
		}
	}
	*out = found;
	return n;
}

uint64_t
journal_load(int (*load)(uint64_t id, struct json_object *rec))
{
	struct json_object	*rec, *v;
	struct jfound		*found = NULL;
	struct dirent		*de;
	uint64_t		 next = 1;
	size_t			 nfound;
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
	nfound = journal_slots_read(&found);
	if ((fd = dup(dirfd_)) < 0 || (d = fdopendir(fd)) == NULL) {
		log_warn("journal: cannot read %s", dir);
		if (fd >= 0)
			close(fd);
		d = NULL;
	}
	while (d && (de = readdir(d)) != NULL) {
		const char	*n = de->d_name;
		struct jplace	*p;
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
		/* The file replaced the slot (and a crash came before the slot was freed). */
		if ((p = journal_place_find(id)) != NULL && p->slot != JOURNAL_NO_SLOT) {
			for (size_t k = 0; k < nfound; k++)
				if (found[k].slot == p->slot) {
					json_object_put(found[k].rec);
					found[k].rec = NULL;
				}
			journal_slot_free(p->slot);
			p->slot = JOURNAL_NO_SLOT;
		}
		if ((rc = journal_read_record(n, &rec)) < 0) {
			journal_set_aside(n, rc == -EBADMSG ? "corrupt or torn record" : strerror(-rc));
			continue;
		}
		if ((rc = load(id, rec)) < 0) {
			journal_set_aside(n, rc == -EBADMSG ? "invalid record" : strerror(-rc));
			continue;
		}
		if ((p = journal_place_add(id)) == NULL)
			fatal("journal: job %" PRIu64, id);
		p->file = true;
		if (id >= next)
			next = id + 1;
	}
	if (d)
		closedir(d);
	for (size_t k = 0; k < nfound; k++) {
		if (found[k].rec == NULL)
			continue;
		if ((rc = load(found[k].id, found[k].rec)) < 0) {
			journal_slot_set_aside(found[k].slot, rc == -EBADMSG ? "invalid record" :
			    strerror(-rc));
			journal_place_del(journal_place_find(found[k].id));
			continue;
		}
		if (found[k].id >= next)
			next = found[k].id + 1;
	}
	free(found);
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
	slotfd = openat(dirfd_, JOURNAL_SLOTS, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (slotfd < 0)
		log_warn("journal: %s/" JOURNAL_SLOTS "; records go to files", dir);
	stopping = false;
	/* Signals are the loop thread's business: the threads block them all. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	if ((rc = pthread_create(&syncer.thread, NULL, journal_thread, &syncer)) == 0) {
		syncer.up = true;
		pthread_setname_np(syncer.thread, "cpd-journal");
		if ((rc = pthread_create(&writer.thread, NULL, journal_thread, &writer)) == 0) {
			writer.up = true;
			pthread_setname_np(writer.thread, "cpd-journal");
		}
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
	journal_slots_close();
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
	journal_slots_close();
	close(dirfd_);
	dirfd_ = -1;
}
