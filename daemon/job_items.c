/*
 * A running job's items: started files_in_flight at a time from the
 * job's stack, the ends the copy and tree modules report (each file and
 * directory counted, its failure kept or made the job's), the bytes
 * they copy, and the job's end once every item is through (with sync,
 * after its destination directory is made durable).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device.h"
#include "engine.h"
#include "item.h"
#include "job_internal.h"
#include "log.h"

static void
job_dir_synced(struct eop *op, int res)
{
	struct job *job = op->owner;

	if (op->type == EOP_OPEN) {
		if (res < 0) {
			job_fail(job, res, "cannot open '%s' to sync it", job->into_dir ?
			    job->req.destination : job->dest_parent);
			job_end(job);
			return;
		}
		op->type = EOP_FSYNC;
		op->fd = res;
		engine_submit(op);
		return;
	}
	if (res < 0)
		job_fail(job, res, "cannot sync directory '%s'", job->into_dir ?
		    job->req.destination : job->dest_parent);
	engine_close(op->fd, job->cred);
	job_end(job);
}

/* All files are through: with sync, make their names durable too. */
static void
job_files_done(struct job *job)
{
	struct eop *op;

	if (!job->req.sync || job->err || job->cancelling) {
		job_end(job);
		return;
	}
	op = job_step(job, EOP_OPEN, job_dir_synced);
	op->dirfd = job->dirfd;
	op->path = ".";
	op->flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;
	engine_submit(op);
}

bool
job_stopping(const struct job *job)
{
	return job->err || job->cancelling;
}

void
job_push_item(struct job *job, struct item *it)
{
	it->next = job->items;
	job->items = it;
	job->nitems++;
}

unsigned
job_drop_items(struct job *job, const struct tnode *parent)
{
	struct item	*it;
	unsigned	 n = 0;

	for (struct item **pp = &job->items; (it = *pp) != NULL; ) {
		if (it->parent != parent) {
			pp = &it->next;
			continue;
		}
		*pp = it->next;
		job->nitems--;
		free(it);
		n++;
	}
	return n;
}

void
job_add_total(struct job *job, uint64_t files, uint64_t bytes)
{
	job->files_total += files;
	job->bytes_total += bytes;
	job->dirty = true;
}

/* Start items while there is room; when all have ended, finish. */
void
job_fill(struct job *job)
{
	struct item *it;

	if (job->finishing)
		return;
	while (job->active < cpd_conf->jobs.files_in_flight && !job->paused &&
	    !job->identity_checks && (it = job->items) != NULL &&
	    (job_stopping(job) || job_workers->may_start(job, it))) {
		job->items = it->next;
		job->nitems--;
		job_workers->taken(it);
		if (job_stopping(job)) {
			/* Dropped: it never started, nothing to record. */
			struct tnode *parent = it->parent;
			free(it);
			if (parent)
				job_workers->child_done(parent);
			continue;
		}
		job->active++;
		if (it->dtype == DT_DIR)
			job_workers->dir(job, it);
		else
			job_workers->file(job, it);
	}
	job_workers->more(job);
	/* Dropping items above may have ended the job already, re-entrantly. */
	if (!job->finishing && job->active == 0 && job->items == NULL && job_workers->dirs(job) == 0) {
		job->finishing = true;
		job_files_done(job);
	}
}

/* An item's result: counted, listed (keep_going), or the job's error. */
void
job_result(struct job *job, int err, const char *path, const char *msg)
{
	if (err == 0 || (err == -ECANCELED && job_stopping(job)))
		return;
	if (!job->req.keep_going || err == -ENOMEM) {
		job_set_error(job, err, msg ? strdup(msg) : NULL);
		return;
	}
	failure_add(job, err, path ? path : "", msg ? msg : strerror(-err), false);
	log_notice("job %llu: %s", (unsigned long long)job->id, msg ? msg : strerror(-err));
}

/* A file item is no longer in flight: its directory hears of it, and the job fills up. */
static void
job_file_out(struct job *job, struct tnode *parent)
{
	job->active--;
	job->dirty = true;
	if (parent)
		job_workers->child_done(parent);
	job_fill(job);
}

void
job_file_end(struct job *job, struct tnode *parent, int err, const char *path,
    const char *msg, enum method method)
{
	job_result(job, err, path, msg);
	if (err == 0) {
		job->files_done++;
		job_totals.files_copied++;
		if (method < M_COUNT)
			job->methods[method]++;
	}
	job_file_out(job, parent);
}

void
job_file_vanished(struct job *job, struct tnode *parent, const char *path, const char *msg)
{
	job->files_vanished++;
	failure_add(job, -ENOENT, path ? path : "", msg ? msg : strerror(ENOENT), true);
	log_notice("job %llu: %s", (unsigned long long)job->id, msg ? msg : "vanished");
	job_file_out(job, parent);
}

void
job_file_to_dir(struct job *job, const struct item *it)
{
	if (it->parent || !job->req.recursive)
		job->files_total--;	/* listed as a file, found to be a directory */
}

void
job_dir_ready(struct job *job)
{
	job->active--;
	job_fill(job);
}

void
job_dir_end(struct job *job, struct tnode *parent, int err, const char *path,
    const char *msg)
{
	job_result(job, err, path, msg);
	job->dirty = true;
	if (parent == NULL)
		job_fill(job);		/* a top-level directory: maybe the last item */
}

void
job_dir_failed(struct job *job, int err, const char *path, const char *fmt)
{
	char *msg = NULL;

	if (asprintf(&msg, fmt, path, strerror(-err)) < 0)
		msg = NULL;
	job_result(job, err, path, msg);
	free(msg);
}

void
job_progress(struct job *job, uint64_t bytes, unsigned src_major, unsigned src_minor)
{
	struct device *src;

	job->bytes_done += bytes;
	job_totals.bytes_copied += bytes;
	job->dirty = true;
	if (job->dest_dev)
		device_account(job->dest_dev, 0, bytes);
	/* The file's own: in a tree, one below a mount is on another device. */
	if ((src = device_get(src_major, src_minor)) != NULL) {
		device_account(src, bytes, 0);
		device_put(src);
	}
}
