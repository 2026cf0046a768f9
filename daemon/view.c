/*
 * The Job object: the request as Copy's parameters (request.c), the class
 * the job is scheduled in, its state and its progress.
 */
#include <string.h>

#include "change.h"
#include "cred.h"
#include "device.h"
#include "request.h"
#include "view.h"

enum job_state
view_state(const struct job *job)
{
	return job->state == JOB_RUNNING && job->paused ? JOB_PAUSED : job->state;
}

/*
 * Job.method: the data path most of its copied files took; a hard link
 * moves no data. M_COUNT while no file is through.
 */
static enum method
view_method(const struct job *job)
{
	enum method best = M_COUNT;

	for (int m = 0; m < M_COUNT; m++)
		if (m != M_LINKS && job->methods[m] > 0 &&
		    (best == M_COUNT || job->methods[m] > job->methods[best]))
			best = (enum method)m;
	return best;
}

static const char *
view_errname(int err)
{
	return strerrorname_np(-err) ? strerrorname_np(-err) : "EIO";
}

static void
view_failures(const struct job *job, struct json_object *o)
{
	struct json_object *f = json_object_new_array();

	json_object_object_add(o, "files_failed", json_object_new_int64((int64_t)job->files_failed));
	for (unsigned i = 0; i < job->nlisted; i++) {
		const struct failure *fl = &job->failures[i];
		struct json_object *e = json_object_new_object();

		json_object_object_add(e, "path", request_name_json(&job->req,
		    fl->path ? fl->path : ""));
		json_object_object_add(e, "error", json_object_new_string(view_errname(fl->err)));
		json_object_object_add(e, "error_message", request_name_json(&job->req,
		    fl->message ? fl->message : ""));
		json_object_object_add(e, "vanished", json_object_new_boolean(fl->vanished));
		json_object_array_add(f, e);
	}
	json_object_object_add(o, "failures", f);
	json_object_object_add(o, VOCAB_FILES_VANISHED,
	    json_object_new_int64((int64_t)job->files_vanished));
	if (job->state == JOB_FAILED) {
		json_object_object_add(o, "error", json_object_new_string(view_errname(job->err)));
		json_object_object_add(o, "error_message", request_name_json(&job->req,
		    job->error_message ? job->error_message : strerror(-job->err)));
	}
}

struct json_object *
view_job(const struct job *job)
{
	struct json_object	*o, *m;
	const struct device	*d;
	enum method		 method = view_method(job);

	if (job->final)
		return json_object_get(job->final);
	o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_int64((int64_t)job->id));
	json_object_object_add(o, "state", json_object_new_string(
	    vocab_state_name(view_state(job))));
	request_to_json(&job->req, o);
	/* An automatic priority shows once chosen: the class it runs in. */
	if (job->req.prio == PRIO_AUTO && job->prio != PRIO_AUTO)
		json_object_object_add(o, VOCAB_PRIORITY,
		    json_object_new_string(vocab_prio_name(job->prio)));
	json_object_object_add(o, "uid", json_object_new_int64(job->cred->uid));
#define ADD_U64(name, v) json_object_object_add(o, name, json_object_new_int64((int64_t)(v)))
	ADD_U64("bytes_total", job->bytes_total);
	ADD_U64("bytes_done", job->bytes_done);
	ADD_U64("bytes_resumed", job->bytes_resumed);
	ADD_U64("files_total", job->files_total);
	ADD_U64("files_done", job->files_done);
	ADD_U64("rate", job->rate);
	ADD_U64("created_usec", job->created_usec);
	ADD_U64("started_usec", job->started_usec);
	ADD_U64("finished_usec", job->finished_usec);
	ADD_U64("restarts", job->restarts);
#undef ADD_U64
	json_object_object_add(o, "devices", m = json_object_new_array());
	for (unsigned i = 0; i < job->ndevs; i++)
		json_object_array_add(m, json_object_new_string(job->devs[i]->name));
	/* Queued behind a device: sched.c passes it over while one is full. */
	if (job->in_runq && job->prio != PRIO_INTERACTIVE &&
	    (d = device_first_full(job->devs, job->ndevs)) != NULL)
		json_object_object_add(o, "waiting_for_device", json_object_new_string(d->name));
	if (method != M_COUNT)
		json_object_object_add(o, "method",
		    json_object_new_string(vocab_method_name(method)));
	json_object_object_add(o, "methods", m = json_object_new_object());
	for (int i = 0; i < M_COUNT; i++)
		json_object_object_add(m, vocab_method_name((enum method)i),
		    json_object_new_int64((int64_t)job->methods[i]));
	view_failures(job, o);
	json_object_object_add(o, VOCAB_CHANGES, change_counts(job));
	return o;
}

struct json_object *
view_params(const struct job *job)
{
	struct json_object *p = json_object_new_object();

	json_object_object_add(p, "job", view_job(job));
	return p;
}
