/*
 * Stand-ins for the modules the fuzzed code calls but that are not linked
 * into the fuzzer: control (the socket), job (the registry, as the method
 * layer sees it: the request, the Job object and the watchers are the
 * daemon's own), journal, loop, engine, reserve, device and cred. They
 * keep just enough state for the Varlink and manager code to run as in the
 * daemon, never touch the filesystem, and check what they are handed:
 * every reply must be a well-formed Varlink reply to the open call, every
 * request must be what manager.c promises job_submit(), and references
 * must balance. A violation is a finding: abort().
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "control.h"
#include "cpd-protocol.h"
#include "cred.h"
#include "device.h"
#include "engine.h"
#include "job.h"
#include "journal.h"
#include "loop.h"
#include "reserve.h"
#include "varlink.h"
#include "view.h"
#include "watch.h"

#include "fuzz.h"

#define FUZZ_MAX_JOBS	64	/* beyond this, job_submit says -EUSERS */

static unsigned		 flags;
static struct config	 conf;
static TAILQ_HEAD(, job) jobs = TAILQ_HEAD_INITIALIZER(jobs);
static unsigned		 njobs;
static uint64_t		 next_id;
/* The caller; another user; root. Each holds one reference of its own. */
static struct cred	 caller, other, root;
static struct loop_info	 info;
static void		(*observer)(struct job *, enum job_event);
struct engine_stats	 engine_stats;

static void __attribute__((noreturn, format(printf, 1, 2)))
finding(const char *fmt, ...)
{
	va_list	ap;

	fputs("fuzz: finding: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

/* ---- control.c ---- */

static const char *const known_errors[] = {
	VARLINK_ERR_INTERFACE_NOT_FOUND, VARLINK_ERR_METHOD_NOT_FOUND,
	VARLINK_ERR_METHOD_NOT_IMPL, VARLINK_ERR_INVALID_PARAMETER,
	CPD_ERR_NO_SUCH_JOB, CPD_ERR_PERMISSION_DENIED, CPD_ERR_TOO_MANY_JOBS,
	CPD_ERR_SHUTTING_DOWN, NULL
};

/* A reply must be one JSON object: parameters, and error or continues. */
static void
check_reply(struct conn *c, const char *json, size_t len)
{
	struct json_tokener	*tok;
	struct json_object	*o, *params = NULL, *v;
	const char		*error = NULL;
	bool			 continues = false;

	if (c->call == NULL)
		finding("a reply with no call open: %.*s", (int)len, json);
	if (c->call->oneway)
		finding("a reply to a oneway call: %.*s", (int)len, json);
	if (len + 1 > CPD_MAX_REPLY)
		finding("a reply of %zu bytes, more than a client accepts", len);
	if (strlen(json) != len)
		finding("a NUL inside a reply: %.*s", (int)len, json);
	if ((tok = json_tokener_new_ex(JSON_TOKENER_DEFAULT_DEPTH)) == NULL)
		abort();
	o = json_tokener_parse_ex(tok, json, (int)len);
	if (o == NULL || json_tokener_get_parse_end(tok) != len ||
	    !json_object_is_type(o, json_type_object))
		finding("a malformed reply: %.*s", (int)len, json);
	json_tokener_free(tok);
	json_object_object_foreach(o, key, val) {
		if (strcmp(key, "parameters") == 0 && json_object_is_type(val, json_type_object))
			params = val;
		else if (strcmp(key, "error") == 0 && json_object_is_type(val, json_type_string))
			error = json_object_get_string(val);
		else if (strcmp(key, "continues") == 0 && json_object_is_type(val, json_type_boolean) &&
		    json_object_get_boolean(val))
			continues = true;
		else
			finding("a reply with a bad member \"%s\": %.*s", key, (int)len, json);
	}
	if (params == NULL)
		finding("a reply without parameters: %.*s", (int)len, json);
	if (error) {
		bool known = false;

		for (int i = 0; known_errors[i]; i++)
			known |= strcmp(error, known_errors[i]) == 0;
		if (!known)
			finding("an unknown error: %.*s", (int)len, json);
		if (continues)
			finding("an error that continues: %.*s", (int)len, json);
		if (strcmp(error, VARLINK_ERR_INVALID_PARAMETER) == 0 &&
		    (!json_object_object_get_ex(params, "parameter", &v) ||
		    !json_object_is_type(v, json_type_string)))
			finding("InvalidParameter without the parameter: %.*s", (int)len, json);
	}
	if (continues && !c->call->more)
		finding("a continued reply to a call without more: %.*s", (int)len, json);
	json_object_put(o);
}

void
control_send(struct conn *c, const char *json, size_t len)
{
	if (c->closing)
		return;
	check_reply(c, json, len);
	c->replies++;
}

void
control_call_begin(struct conn *c, struct call *call)
{
	if (c->call)
		finding("a call begun while another is open");
	c->call = call;
	c->calls++;
}

void
control_call_end(struct conn *c)
{
	c->call = NULL;
	fuzz_conn_process(c);
}

void
control_close(struct conn *c, const char *why)
{
	if (c->closing)
		return;
	c->closing = true;
	if (c->call) {
		struct call *call = c->call;

		c->call = NULL;
		varlink_abort(call);
	}
}

struct cred *
control_cred(struct conn *c)
{
	return &caller;
}

unsigned
control_clients(void)
{
	return 1;
}

/* As control.c's conn_process(): run queued messages until a call stays open. */
void
fuzz_conn_process(struct conn *c)
{
	char	*msg;
	int	 full;

	if (c->dispatching || c->closing)
		return;
	c->dispatching = true;
	while (!c->closing && c->call == NULL) {
		if ((msg = msgbuf_next(&c->in, &full)) == NULL) {
			if (full)
				control_close(c, "message too large");
			break;
		}
		varlink_dispatch(c, msg);
		/* A call that stays open must be waiting for a job. */
		if (!c->closing && c->call && c->call->watching == 0)
			finding("a call left open without a reply or a job to wait for");
		if ((flags & FUZZ_END_NOW) && c->call)
			fuzz_finish_watched();
	}
	c->dispatching = false;
	if (!c->closing && c->eof && c->call == NULL && !msgbuf_pending(&c->in))
		control_close(c, "end of input");
}

/* ---- cred.c ---- */

struct cred *
cred_ref(struct cred *c)
{
	if (c == NULL || c->refs == 0)
		finding("cred_ref of a released cred");
	c->refs++;
	return c;
}

void
cred_unref(struct cred *c)
{
	if (c == NULL)
		return;
	if (c->refs <= 1)
		finding("cred_unref of a reference never taken (uid %u)", (unsigned)c->uid);
	c->refs--;
}

/* ---- loop.c, engine.c ---- */

const struct loop_info *
loop_info(void)
{
	return &info;
}

void
loop_latency(struct loop_latency *l)
{
	*l = (struct loop_latency){ .p50_usec = 12, .p99_usec = 340, .max_usec = 5000,
	    .iterations = 123456, .slow = 2 };
}

uint64_t
loop_now_usec(void)
{
	return 7000000;
}

uint64_t
loop_wall_usec(void)
{
	return 1700000000000000ULL;
}

const char *
engine_name(void)
{
	return info.uring ? "io_uring" : "fallback";
}

/* ---- reserve.c: CPU placement is no protocol matter ---- */

void
reserve_touch(void)
{
}

/* ---- device.c: no job reads a device here, so none is listed ---- */

const struct device *
device_next(const struct device *prev)
{
	return NULL;
}

const char *
device_class_name(enum device_class c)
{
	return "other";
}

const struct device *
device_first_full(struct device *const *devs, unsigned n)
{
	return NULL;
}

/* ---- job.c ---- */

bool
job_finished(const struct job *job)
{
	return job->state >= JOB_DONE;
}

/* No journal here: a job exists as soon as job_submit() returns. */
bool
job_accepting(const struct job *job)
{
	return false;
}

/* ---- journal.c ---- */

const char *
journal_status(void)
{
	return "disabled";
}

static struct job *
job_add(struct job_request *req, struct cred *cred, enum job_state state)
{
	struct job *job = calloc(1, sizeof(*job));

	if (job == NULL)
		abort();
	job->id = next_id++;
	job->state = state;
	job->req = *req;
	job->cred = cred;
	job->files_total = req->nsources;
	job->created_usec = loop_wall_usec();
	job->dirfd = -1;
	job->prio = req->prio == PRIO_AUTO ? PRIO_NORMAL : req->prio;
	TAILQ_INSERT_TAIL(&jobs, job, entry);
	njobs++;
	return job;
}

/* A job that was there before the input: one source, src -> dst. */
static struct job *
job_fake(struct cred *cred, enum job_state state, const char *src, const char *dst)
{
	struct job_request req = { .nsources = 1, .prio = PRIO_NORMAL, .umask = 022 };

	if ((req.sources = calloc(1, sizeof(char *))) == NULL ||
	    (req.sources[0] = strdup(src)) == NULL || (req.destination = strdup(dst)) == NULL)
		abort();
	return job_add(&req, cred_ref(cred), state);
}

static void
job_free(struct job *job)
{
	request_free(&job->req);
	free(job->error_message);
	cred_unref(job->cred);
	free(job);
}

int
job_submit(struct job_request *req, struct cred *cred, struct job **out)
{
	struct job	*job;
	unsigned	 mine = 0;

	/* What manager.c checked, job.c relies on. */
	if (cred == NULL || req->nsources == 0 || req->sources == NULL || req->destination == NULL)
		finding("job_submit: an incomplete request");
	for (size_t i = 0; i < req->nsources; i++)
		if (req->sources[i] == NULL || req->sources[i][0] != '/')
			finding("job_submit: source %zu not absolute", i);
	if (req->destination[0] != '/')
		finding("job_submit: destination not absolute");
	if (req->prio > PRIO_AUTO || req->reflink > REFLINK_NEVER || (req->umask & ~0777u))
		finding("job_submit: priority %d, reflink %d, umask %o out of range",
		    req->prio, req->reflink, (unsigned)req->umask);
	if (req->archive && !req->recursive)
		finding("job_submit: archive without recursive");

	switch (flags & FUZZ_SUBMIT_MASK) {
	case FUZZ_SUBMIT_SHUTDOWN:
		return -ESHUTDOWN;
	case FUZZ_SUBMIT_USERS:
		return -EUSERS;
	case FUZZ_SUBMIT_NOMEM:
		return -ENOMEM;
	}
	TAILQ_FOREACH(job, &jobs, entry)
		mine += job->cred->uid == cred->uid && !job_finished(job);
	if (mine >= cpd_conf->jobs.max_per_user || njobs >= FUZZ_MAX_JOBS)
		return -EUSERS;
	*out = job_add(req, cred, (flags & FUZZ_NEW_DONE) ? JOB_DONE : JOB_QUEUED);
	return 0;
}

struct job *
job_find(uint64_t id)
{
	struct job *job;

	TAILQ_FOREACH(job, &jobs, entry)
		if (job->id == id)
			return job;
	return NULL;
}

struct job *
job_first(void)
{
	return TAILQ_FIRST(&jobs);
}

struct job *
job_next(struct job *job)
{
	return TAILQ_NEXT(job, entry);
}

void
job_events_set(void (*fn)(struct job *, enum job_event))
{
	observer = fn;
}

/* As job.c: the end is told once it is (here at once) durable. */
static void
job_end(struct job *job, enum job_state state)
{
	job->state = state;
	job->paused = false;
	job->finished_usec = loop_wall_usec();
	observer(job, JOB_ENDED);
}

void
job_cancel(struct job *job)
{
	if (job_finished(job) || job->cancelling)
		return;
	job->cancelling = true;
	if (job->state == JOB_QUEUED)
		job_end(job, JOB_CANCELLED);
	else if (job->paused)
		job_resume(job);
}

void
job_pause(struct job *job)
{
	if (job_finished(job) || job->paused || job->cancelling)
		return;
	job->paused = true;
}

void
job_resume(struct job *job)
{
	if (!job->paused)
		return;
	job->paused = false;
}

void
job_counters(struct job_counters *jc)
{
	struct job *job;

	memset(jc, 0, sizeof(*jc));
	TAILQ_FOREACH(job, &jobs, entry) {
		switch (view_state(job)) {
		case JOB_QUEUED:
			jc->queued++;
			jc->queued_prio[job->prio]++;
			break;
		case JOB_RUNNING: jc->running++; break;
		case JOB_PAUSED: jc->paused++; break;
		case JOB_DONE: jc->done++; break;
		case JOB_FAILED: jc->failed++; break;
		case JOB_CANCELLED: jc->cancelled++; break;
		case JOB_NSTATES: break;
		}
		jc->bytes_copied += job->bytes_done;
	}
}

/* ---- the harness's side ---- */

void
fuzz_progress(void)
{
	struct job *job;

	TAILQ_FOREACH(job, &jobs, entry) {
		job->bytes_done += 4096;
		if (!job_finished(job))
			observer(job, JOB_CHANGED);
	}
}

bool
fuzz_finish_watched(void)
{
	struct job	*job;
	bool		 any = false;

	/* A final reply may run queued calls, which may add jobs (at the tail). */
	TAILQ_FOREACH(job, &jobs, entry)
		if (watch_waits(job->id)) {
			job_end(job, job->cancelling ? JOB_CANCELLED : JOB_DONE);
			any = true;
		}
	return any;
}

void
fuzz_setup(unsigned f)
{
	struct job *job;

	flags = f;
	config_defaults(&conf);
	cpd_conf = &conf;
	caller = (struct cred){ .uid = (flags & FUZZ_ROOT) ? 0 : 1000,
	    .gid = (flags & FUZZ_ROOT) ? 0 : 1000, .foreign = flags & FUZZ_FOREIGN, .refs = 1 };
	other = (struct cred){ .uid = 1001, .gid = 1001, .refs = 1 };
	root = (struct cred){ .uid = 0, .gid = 0, .refs = 1 };
	info = (struct loop_info){ .uring = !(flags & FUZZ_FALLBACK), .started_usec = 1000 };
	if (info.uring) {
		info.features[info.nfeatures++] = "nodrop";
		info.features[info.nfeatures++] = "fast_poll";
	} else
		snprintf(info.fallback_reason, sizeof(info.fallback_reason),
		    "io_uring_setup: %s", strerror(EPERM));
	engine_stats = (struct engine_stats){ .inflight = 3, .waiting = 1 };
	next_id = 1;
	watch_init();
	varlink_init(&manager_interface);
	/* Jobs 1-5: the caller's, running and failed; root's; another user's. */
	job_fake(&caller, JOB_RUNNING, "/home/u/big.iso", "/mnt/backup/");
	job_fake(&root, JOB_DONE, "/etc/passwd", "/root/passwd.bak");
	job = job_fake(&other, JOB_RUNNING, "/home/o/a", "/home/o/b");
	job->paused = true;
	job = job_fake(&caller, JOB_FAILED, "/home/u/secret", "/tmp/x");
	job->error_message = strdup("cannot open '/home/u/secret': Permission denied");
	job_fake(&caller, JOB_QUEUED, "/home/u/q", "/home/u/q2");
}

void
fuzz_teardown(void)
{
	struct job *job;

	while ((job = TAILQ_FIRST(&jobs)) != NULL) {
		if (watch_waits(job->id))
			finding("job %llu still watched at the end", (unsigned long long)job->id);
		TAILQ_REMOVE(&jobs, job, entry);
		job_free(job);
	}
	njobs = 0;
	if (caller.refs != 1 || other.refs != 1 || root.refs != 1)
		finding("cred references left: caller %u, other %u, root %u (1 each expected)",
		    caller.refs - 1, other.refs - 1, root.refs - 1);
}
