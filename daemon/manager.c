/*
 * The methods of io.cpd.Manager: validate parameters, enforce who may see
 * and control which job, and hand work to job.c. A caller sees only its
 * own jobs; root sees all.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "cpd-protocol.h"
#include "cred.h"
#include "device.h"
#include "engine.h"
#include "job.h"
#include "journal.h"
#include "loop.h"
#include "request.h"
#include "varlink.h"
#include "view.h"
#include "watch.h"


static bool
manager_may_see(struct call *call, const struct job *job)
{
	const struct cred *c = control_cred(call->conn);

	return c->uid == 0 || c->uid == job->cred->uid;
}

/* The job named by the "id" parameter, or NULL after replying an error. */
static struct job *
manager_lookup(struct call *call, struct json_object *params)
{
	struct job	*job;
	int64_t		 id;

	if (!varlink_get_int(call, params, "id", true, &id))
		return NULL;
	job = id > 0 ? job_find((uint64_t)id) : NULL;
	if (job == NULL) {
		struct json_object *p = json_object_new_object();
		json_object_object_add(p, "id", json_object_new_int64(id));
		varlink_error(call, CPD_ERR_NO_SUCH_JOB, p);
		return NULL;
	}
	if (!manager_may_see(call, job)) {
		struct json_object *p = json_object_new_object();
		json_object_object_add(p, "reason", json_object_new_string(
		    "the job belongs to another user"));
		varlink_error(call, CPD_ERR_PERMISSION_DENIED, p);
		return NULL;
	}
	return job;
}

static void
manager_copy(struct call *call, struct json_object *params)
{
	struct job_request	 req;
	struct json_object	*p;
	const char		*bad;
	struct job		*job;
	int			 rc;

	if (request_from_json(params, &req, &bad) < 0) {
		varlink_invalid(call, bad);
		return;
	}
	rc = job_submit(&req, cred_ref(control_cred(call->conn)), &job);
	if (rc < 0) {
		cred_unref(control_cred(call->conn));
		request_free(&req);
		if (rc == -ESHUTDOWN)
			varlink_error(call, CPD_ERR_SHUTTING_DOWN, NULL);
		else if (rc == -EUSERS) {
			p = json_object_new_object();
			json_object_object_add(p, "limit",
			    json_object_new_int64(cpd_conf->jobs.max_per_user));
			varlink_error(call, CPD_ERR_TOO_MANY_JOBS, p);
		} else
			varlink_invalid(call, VOCAB_SOURCES);
		return;
	}
	/* The reply says the job exists: it must be in the journal first. */
	if (job_accepting(job))
		watch_accepted(call, job);
	else
		watch_reply(call, job, false);
}

static void
manager_get(struct call *call, struct json_object *params)
{
	struct job *job = manager_lookup(call, params);

	if (job)
		varlink_reply(call, view_params(job), false);
}

/*
 * A List page: jobs by id, at most "limit" (MANAGER_PAGE_JOBS when left
 * out) and, past its first job, no more than MANAGER_PAGE_BYTES of them,
 * so that a reply stays far below what a client takes (CPD_MAX_REPLY)
 * and what the daemon buffers (control.c) whatever the jobs hold: a Job
 * is at most one Copy call's request and jobs.failure_bytes of failures.
 */
#define MANAGER_PAGE_JOBS	100
#define MANAGER_PAGE_JOBS_MAX	1000
#define MANAGER_PAGE_BYTES	(1 << 20)

static void
manager_list(struct call *call, struct json_object *params)
{
	struct json_object	*p, *a, *v;
	struct job		*job, *last = NULL;
	int64_t			 after = 0, limit = MANAGER_PAGE_JOBS, n = 0;
	size_t			 bytes = 0, len;

	if (!varlink_get_int(call, params, VOCAB_LIST_AFTER, false, &after) ||
	    !varlink_get_int(call, params, VOCAB_LIST_LIMIT, false, &limit))
		return;
	if (after < 0 || limit < 1 || limit > MANAGER_PAGE_JOBS_MAX) {
		varlink_invalid(call, after < 0 ? VOCAB_LIST_AFTER : VOCAB_LIST_LIMIT);
		return;
	}
	p = json_object_new_object();
	a = json_object_new_array();
	for (job = job_first(); job; job = job_next(job)) {
		if (job->id <= (uint64_t)after || !manager_may_see(call, job))
			continue;
		if (n == limit || bytes >= MANAGER_PAGE_BYTES)
			break;
		v = view_job(job);
		json_object_to_json_string_length(v, JSON_C_TO_STRING_PLAIN, &len);
		if (n > 0 && bytes + len > MANAGER_PAGE_BYTES) {
			json_object_put(v);
			break;
		}
		json_object_array_add(a, v);
		bytes += len;
		n++;
		last = job;
	}
	json_object_object_add(p, VOCAB_LIST_JOBS, a);
	/* Stopped at a job it may see: more follow. */
	if (job)
		json_object_object_add(p, VOCAB_LIST_NEXT, json_object_new_int64((int64_t)last->id));
	varlink_reply(call, p, false);
}

static void
manager_wait(struct call *call, struct json_object *params)
{
	struct job *job = manager_lookup(call, params);

	if (job)
		watch_reply(call, job, true);
}

static void
manager_cancel(struct call *call, struct json_object *params)
{
	struct job *job = manager_lookup(call, params);

	if (job == NULL)
		return;
	job_cancel(job);
	/* The reply comes when the job has stopped and cleaned up. */
	call->more = false;
	watch_reply(call, job, true);
}

/* A change of a job that takes effect at once, answered with the job. */
static void
manager_act(struct call *call, struct json_object *params, void (*act)(struct job *))
{
	struct job *job = manager_lookup(call, params);

	if (job) {
		act(job);
		varlink_reply(call, view_params(job), false);
	}
}

static void
manager_pause(struct call *call, struct json_object *params)
{
	manager_act(call, params, job_pause);
}

static void
manager_resume(struct call *call, struct json_object *params)
{
	manager_act(call, params, job_resume);
}

/* GetStatus.devices: each device jobs have used, with its queues and rates. */
static struct json_object *
manager_devices(void)
{
	struct json_object	*a = json_object_new_array();
	const struct device	*d = NULL;
	char			 dev[24];

	while ((d = device_next(d)) != NULL) {
		struct json_object *o = json_object_new_object();
		const struct {
			const char	*key;
			uint64_t	 v;
		} counts[] = {
			{ "running", d->running[0] + d->running[1] }, { "queued", d->queued },
			{ "read_bytes", d->read_bytes }, { "written_bytes", d->written_bytes },
			{ "read_rate", d->read_rate }, { "write_rate", d->write_rate },
		};

		snprintf(dev, sizeof(dev), "%u:%u", d->major, d->minor);
		json_object_object_add(o, "name", json_object_new_string(d->name));
		json_object_object_add(o, "dev", json_object_new_string(dev));
		json_object_object_add(o, "class", json_object_new_string(device_class_name(d->class)));
		for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
			json_object_object_add(o, counts[i].key,
			    json_object_new_int64((int64_t)counts[i].v));
		json_object_array_add(a, o);
	}
	return a;
}

static void
manager_get_status(struct call *call, struct json_object *params)
{
	const struct loop_info	*li = loop_info();
	struct json_object	*p = json_object_new_object(), *f = json_object_new_array();
	struct json_object	*l = json_object_new_object();
	struct job_counters	 jc;
	struct loop_latency	 lat;

	job_counters(&jc);
	loop_latency(&lat);
	for (int i = 0; i < li->nfeatures; i++)
		json_object_array_add(f, json_object_new_string(li->features[i]));
	json_object_object_add(p, "version", json_object_new_string(CPD_VERSION));
	json_object_object_add(p, "engine", json_object_new_string(engine_name()));
	json_object_object_add(p, "features", f);
	if (!li->uring)
		json_object_object_add(p, "fallback_reason",
		    json_object_new_string(li->fallback_reason));
#define ADD_U64(name, v) json_object_object_add(p, name, json_object_new_int64((int64_t)(v)))
	ADD_U64("uptime_usec", loop_now_usec() - li->started_usec);
	ADD_U64("clients", control_clients());
	ADD_U64("jobs_queued", jc.queued);
	ADD_U64("jobs_running", jc.running);
	ADD_U64("jobs_paused", jc.paused);
	ADD_U64("queued_interactive", jc.queued_prio[PRIO_INTERACTIVE]);
	ADD_U64("queued_normal", jc.queued_prio[PRIO_NORMAL]);
	ADD_U64("queued_bulk", jc.queued_prio[PRIO_BULK]);
	ADD_U64("jobs_done", jc.done);
	ADD_U64("jobs_failed", jc.failed);
	ADD_U64("jobs_cancelled", jc.cancelled);
	ADD_U64("bytes_copied", jc.bytes_copied);
	ADD_U64("files_copied", jc.files_copied);
	ADD_U64("rate", jc.rate);
	ADD_U64("ops_inflight", engine_stats.inflight);
	ADD_U64("ops_async_inflight", engine_stats.async_inflight);
	ADD_U64("ops_waiting", engine_stats.waiting);
	ADD_U64("async_threshold", cpd_conf->engine.async_threshold);
	json_object_object_add(p, "journal", json_object_new_string(journal_status()));
	json_object_object_add(p, "async_policy", json_object_new_string(
	    config_enum_name("engine.async", cpd_conf->engine.async)));
#undef ADD_U64
#define ADD_LAT(name, v) json_object_object_add(l, name, json_object_new_int64((int64_t)(v)))
	ADD_LAT("p50_usec", lat.p50_usec);
	ADD_LAT("p99_usec", lat.p99_usec);
	ADD_LAT("max_usec", lat.max_usec);
	ADD_LAT("iterations", lat.iterations);
	ADD_LAT("slow", lat.slow);
#undef ADD_LAT
	json_object_object_add(p, "loop_latency", l);
	json_object_object_add(p, "devices", manager_devices());
	varlink_reply(call, p, false);
}

static const struct varlink_method manager_methods[] = {
	{ "Copy", manager_copy, true },
	{ "Get", manager_get, false },
	{ "List", manager_list, false },
	{ "Wait", manager_wait, true },
	{ "Cancel", manager_cancel, false },
	{ "Pause", manager_pause, false },
	{ "Resume", manager_resume, false },
	{ "GetStatus", manager_get_status, false },
	{ NULL, NULL, false },
};

const struct varlink_interface manager_interface = {
	.name = CPD_INTERFACE,
	.description = varlink_interface_text,
	.methods = manager_methods,
	.guarded = true,
	.call_end = watch_drop,
};
