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
 * Three threads do the writing, so that the event loop never waits on
 * the disk, each stage taking everything queued for it at once (a job
 * whose records queued up meanwhile has only its latest one written).
 * The writer writes the records that go to slots and hands them back at
 * once; the others go on to the filer, so that a slot record never
 * waits behind a file's create and rename. The filer writes those files
 * and hands them back, but for records that must also survive a crash
 * of the machine (those of sync jobs, and next-id): those go on to the
 * syncer, which fsyncs them and then the directory, once per batch
 * (group commit). Why not fsync every record: on ext4 under bulk writes
 * one fsync can take seconds. Completions come back through loop_post().
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ioprio.h"
#include "journal.h"
#include "jstore.h"
#include "log.h"
#include "loop.h"
#include "reserve.h"

struct jwrite {
	struct jwrite	*next;
	uint64_t	 id;		/* 0: the next-id file */
	char		*data;		/* NULL: remove the file */
	size_t		 len;
	bool		 durable;	/* fsynced before done() */
	bool		 file;		/* not in a slot: the filer writes it */
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
	struct jstage	*from;		/* the stage that passes work on to it */
};

static char		 status[4096 + 256] = "disabled";
static uint64_t		 id_limit;
static pthread_mutex_t	 lock = PTHREAD_MUTEX_INITIALIZER;
static bool		 stopping;
static void		 journal_write_batch(struct jwrite *);
static void		 journal_file_batch(struct jwrite *);
static void		 journal_sync_batch(struct jwrite *);
static struct jstage	 writer = {
	.tail = &writer.queue, .cond = PTHREAD_COND_INITIALIZER, .commit = journal_write_batch,
};
static struct jstage	 filer = {
	.tail = &filer.queue, .cond = PTHREAD_COND_INITIALIZER, .commit = journal_file_batch,
	.from = &writer,
};
static struct jstage	 syncer = {
	.tail = &syncer.queue, .cond = PTHREAD_COND_INITIALIZER, .commit = journal_sync_batch,
	.from = &filer,
};
/* In the order they start; they stop the other way round. */
static struct jstage	*const stages[] = { &syncer, &filer, &writer };
#define NSTAGES		(sizeof(stages) / sizeof(stages[0]))

bool
journal_enabled(void)
{
	return jstore_is_open();
}
const char *
journal_status(void)
{
	return status;
}
const char *
journal_dir(void)
{
	return jstore_dir();
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
 * A batch's records in order, each written by write() unless a later one
 * of the same job supersedes it; then what is done is handed back (a
 * superseded record is as far along as the one that replaced it, and
 * goes with it), and what on(w) says goes on is passed to stage next.
 */
static void
journal_batch(struct jwrite *batch, int (*write)(struct jwrite *),
    bool (*on)(const struct jwrite *), struct jstage *next_stage)
{
	struct jwrite	*w, *next, *later, *done = NULL, *on_list = NULL;
	struct jwrite	**done_tail = &done, **on_tail = &on_list;

	for (w = batch; w; w = w->next)
		if (!journal_find(w->next, w->id))	/* else superseded */
			w->err = write(w);
	for (w = batch; w; w = next) {
		next = w->next;
		w->next = NULL;
		for (later = journal_find(next, w->id); later;
		    later = journal_find(later->next, w->id)) {
			w->err = later->err;
			w->durable |= later->durable;
			w->file |= later->file;
		}
		if (on(w)) {
			*on_tail = w;
			on_tail = &w->next;
		} else {
			*done_tail = w;
			done_tail = &w->next;
		}
	}
	if (done)
		loop_post(journal_completed, done);
	journal_enqueue(next_stage, on_list);
}
/*
 * The writer: each record that belongs in a slot written there, handed
 * back at once; the others go on to the filer. Why two threads: under
 * bulk copies with sync, a create or rename in the state directory
 * waited for ext4's journal, up to 80 ms, and the slot records of
 * interactive jobs queued behind it (a 4 KiB copy's end record: p99 38
 * ms, max 220 ms); a slot write takes a few microseconds.
 */
static int
journal_write_one(struct jwrite *w)
{
	int rc = jstore_write_slot(w->id, w->data, w->len, w->durable);

	w->file = rc == 1;
	return rc == 1 ? 0 : rc;
}
static bool
journal_to_file(const struct jwrite *w)
{
	return w->file;
}
static void
journal_write_batch(struct jwrite *batch)
{
	journal_batch(batch, journal_write_one, journal_to_file, &filer);
}
/*
 * The filer: write or remove each file, then hand back what is done and
 * pass on what must be made durable.
 */
static int
journal_file_one(struct jwrite *w)
{
	return jstore_write_file(w->id, w->data, w->len);
}
static bool
journal_to_sync(const struct jwrite *w)
{
	return w->durable && w->err == 0;
}
static void
journal_file_batch(struct jwrite *batch)
{
	journal_batch(batch, journal_file_one, journal_to_sync, &syncer);
}
/* The syncer: fsync each file, then the directory once for them all. */
static void
journal_sync_batch(struct jwrite *batch)
{
	struct jwrite	*w;
	int		 rc;

	for (w = batch; w; w = w->next)
		if (w->data)	/* a removal needs only the directory's fsync */
			w->err = jstore_sync(w->id);
	rc = jstore_sync_dir();
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
			snprintf(status, sizeof(status), "failing: %s in %s: %s", what,
			    journal_dir(), strerror(-w->err));
			log_warnx("journal: cannot write the record of %s in %s: %s", what,
			    journal_dir(), strerror(-w->err));
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
 * empty; each later stage only after the one before it has stopped, so
 * that nothing passed on is lost.
 */
static void *
journal_thread(void *arg)
{
	struct jstage	*st = arg;
	struct jwrite	*batch;

	/* A client waits for its job's record: not at the bulk I/O priority
	 * this thread would inherit from the loop (ioprio.c). */
	ioprio_enter(true);
	for (;;) {
		pthread_mutex_lock(&lock);
		while (st->queue == NULL && !(stopping && (st->from == NULL || !st->from->up)))
			pthread_cond_wait(&st->cond, &lock);
		batch = st->queue;
		st->queue = NULL;
		st->tail = &st->queue;
		pthread_mutex_unlock(&lock);
		if (batch == NULL)
			return NULL;
		reserve_place();	/* a client may wait for this record */
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
	else if (rec && (w->err = jstore_encode(rec, &w->data, &w->len)) < 0)
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
int
journal_init(const char *path)
{
	sigset_t all, old;
	int	 rc;

	if ((rc = jstore_open(path)) < 0)
		goto fail;
	stopping = false;
	/* Signals are the loop thread's business: the threads block them all. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = 0;
	for (size_t i = 0; i < NSTAGES && rc == 0; i++)
		if ((rc = pthread_create(&stages[i]->thread, NULL, journal_thread, stages[i])) == 0) {
			stages[i]->up = true;
			pthread_setname_np(stages[i]->thread, "cpd-journal");
		}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		journal_shutdown();
		rc = -rc;
		goto fail;
	}
	snprintf(status, sizeof(status), "ok");
	return 0;
fail:
	log_warnx("state directory %s: %s; jobs are not journaled and do not survive a "
	    "restart", path, rc == -EBUSY ? "in use by another cpd" : strerror(-rc));
	jstore_close();
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
	pthread_mutex_unlock(&lock);
	for (size_t i = NSTAGES; i-- > 0; ) {
		struct jstage *st = stages[i];

		pthread_mutex_lock(&lock);
		pthread_cond_signal(&st->cond);
		pthread_mutex_unlock(&lock);
		if (st->up)
			pthread_join(st->thread, NULL);
		pthread_mutex_lock(&lock);
		st->up = false;
		pthread_mutex_unlock(&lock);
	}
	jstore_close();
}
uint64_t
journal_load(int (*load)(uint64_t id, struct json_object *rec))
{
	return jstore_load(load);
}
