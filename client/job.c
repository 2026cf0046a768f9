/* Job objects: reading their fields, following a job, reporting its end. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"

uint64_t
job_u64(struct json_object *job, const char *key)
{
	struct json_object	*v;
	int64_t			 n;

	if (!json_object_object_get_ex(job, key, &v) ||
	    !json_object_is_type(v, json_type_int))
		return 0;
	n = json_object_get_int64(v);
	return n > 0 ? (uint64_t)n : 0;
}

const char *
job_str(struct json_object *job, const char *key)
{
	struct json_object	*v;

	if (!json_object_object_get_ex(job, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

bool
job_bool(struct json_object *job, const char *key)
{
	struct json_object	*v;

	if (!json_object_object_get_ex(job, key, &v) ||
	    !json_object_is_type(v, json_type_boolean))
		return false;
	return json_object_get_boolean(v);
}

bool
job_valid(struct json_object *job)
{
	struct json_object	*v;

	return json_object_is_type(job, json_type_object) &&
	    json_object_object_get_ex(job, "id", &v) &&
	    json_object_is_type(v, json_type_int) &&
	    json_object_get_int64(v) > 0 &&
	    job_str(job, "state") != NULL;
}

struct json_object *
job_from_params(struct json_object *params)
{
	struct json_object	*job;

	if (!json_object_object_get_ex(params, "job", &job) || !job_valid(job))
		return NULL;
	return job;
}

int
job_state(struct json_object *job)
{
	const char	*state = job_str(job, "state");
	int		 s = state ? vocab_state_parse(state) : -1;

	return s < 0 ? -1 : s;
}

bool
job_ended(struct json_object *job)
{
	return job_state(job) >= JOB_DONE;
}

char *
job_summary(struct json_object *job)
{
	struct json_object	*sources, *first;
	const char		*dest = job_str(job, "destination"), *src = "?";
	size_t			 n = 0;
	char			*out, more[48] = "";

	if (json_object_object_get_ex(job, "sources", &sources) &&
	    json_object_is_type(sources, json_type_array) &&
	    (n = json_object_array_length(sources)) > 0) {
		first = json_object_array_get_idx(sources, 0);
		if (json_object_is_type(first, json_type_string))
			src = json_object_get_string(first);
	}
	if (n > 1)
		snprintf(more, sizeof more, " +%zu more", n - 1);
	if (asprintf(&out, "%s%s -> %s", src, more, dest != NULL ? dest : "?")
	    == -1)
		return NULL;
	return out;
}

size_t
job_print_failures(FILE *f, struct json_object *job)
{
	struct json_object	*failures, *fail;
	const char		*path, *message;
	uint64_t		 failed = job_u64(job, "files_failed");
	size_t			 n = 0, i, lines = 0;

	if (json_object_object_get_ex(job, "failures", &failures) &&
	    json_object_is_type(failures, json_type_array))
		n = json_object_array_length(failures);
	if (n > JOB_FAILURES_MAX)
		n = JOB_FAILURES_MAX;
	for (i = 0; i < n; i++) {
		fail = json_object_array_get_idx(failures, i);
		if ((path = job_str(fail, "path")) == NULL)
			path = "?";
		if ((message = job_str(fail, "error_message")) == NULL &&
		    (message = job_str(fail, "error")) == NULL)
			message = "?";
		fprintf(f, "  %s: %s\n", path, message);
		lines++;
	}
	if (failed > n) {
		fprintf(f, "  (and %" PRIu64 " more)\n", failed - n);
		lines++;
	}
	return lines;
}

char *
job_methods(struct json_object *job, char *buf, size_t len)
{
	struct json_object	*methods;
	size_t			 off = 0;
	int			 n;

	if (len == 0 || !json_object_object_get_ex(job, "methods", &methods) ||
	    !json_object_is_type(methods, json_type_object))
		return NULL;
	/* Whatever methods the daemon counts, in its order. */
	json_object_object_foreach(methods, name, v) {
		if (!json_object_is_type(v, json_type_int) ||
		    json_object_get_int64(v) <= 0)
			continue;
		if (off >= len)
			break;
		n = snprintf(buf + off, len - off, "%s%s %" PRId64,
		    off > 0 ? ", " : "", name, json_object_get_int64(v));
		if (n < 0)
			return NULL;
		off += (size_t)n;
	}
	return off > 0 ? buf : NULL;
}

/*
 * A failed job: a copy's message as cp's ("cannot stat 'x': ...", the
 * paths as the user wrote them), with the job id and the errno name
 * for -v and --json.
 */
static int
job_report_failed(struct client *c, uint64_t id, const char *message, const char *error)
{
	char	*mapped = message ? cp_message(c, message) : NULL, *cp;
	bool	 plain = c->names.nsrc > 0 && !c->verbose && !c->json;
	int	 status;

	if (mapped)
		message = mapped;
	if (plain && mapped && (cp = cp_wording(c, mapped)) != NULL) {
		status = client_error(CLIENT_EXIT_FAIL, "%s", cp);
		free(cp);
	} else if (message != NULL && error != NULL)
		status = client_error(CLIENT_EXIT_FAIL,
		    "job %" PRIu64 " failed: %s (%s)", id, message, error);
	else if (message != NULL || error != NULL)
		status = client_error(CLIENT_EXIT_FAIL, "job %" PRIu64 " failed: %s",
		    id, message != NULL ? message : error);
	else
		status = client_error(CLIENT_EXIT_FAIL, "job %" PRIu64 " failed", id);
	free(mapped);
	return status;
}

int
job_report_end(struct client *c, struct json_object *job)
{
	const char	*state = job_str(job, "state");
	const char	*error = job_str(job, "error");
	const char	*message = job_str(job, "error_message");
	uint64_t	 id = job_u64(job, "id");
	uint64_t	 failed = job_u64(job, "files_failed");

	uint64_t	 vanished = job_u64(job, VOCAB_FILES_VANISHED);

	if (c->json)
		client_print_json(job);
	/* Only sources that vanished while it ran: rsync's exit 24. */
	if (job_state(job) == JOB_DONE && failed > 0 && failed == vanished) {
		if (!c->json) {
			client_error(0, "job %" PRIu64 ": %" PRIu64 " source file%s "
			    "vanished:", id, failed, failed == 1 ? "" : "s");
			job_print_failures(stderr, job);
		}
		return CLIENT_EXIT_VANISHED;
	}
	/* With keep_going some files may be missing: not a success. */
	if (job_state(job) == JOB_DONE && failed > 0) {
		if (c->json)
			return CLIENT_EXIT_FAIL;
		client_error(0, "job %" PRIu64 ": %" PRIu64 " file%s could "
		    "not be copied:", id, failed, failed == 1 ? "" : "s");
		job_print_failures(stderr, job);
		return CLIENT_EXIT_FAIL;
	}
	if (job_state(job) == JOB_DONE)
		return CLIENT_EXIT_OK;
	if (job_state(job) == JOB_FAILED)
		return job_report_failed(c, id, message, error);
	if (job_state(job) == JOB_CANCELLED)
		return client_error(CLIENT_EXIT_FAIL, "job %" PRIu64
		    " cancelled", id);
	return client_error(CLIENT_EXIT_FAIL, "job %" PRIu64 " is still %s",
	    id, state);
}

/*
 * Cancel job id over a new connection (the first one is busy streaming)
 * and report how it ended.
 */
static int
job_cancel(struct client *c, uint64_t id)
{
	struct json_object	*params, *job;
	struct vl_reply		 reply;
	struct vl		*vl;
	int			 status, r;

	if ((status = client_connect(c, &vl)) != CLIENT_EXIT_OK)
		return status;
	/* A second signal gives up waiting for the cancellation. */
	vl_set_interrupt(vl, 2);
	params = json_object_new_object();
	json_object_object_add(params, "id", json_object_new_int64(
	    (int64_t)id));
	r = vl_send(vl, CPD_METHOD("Cancel"), params, false);
	json_object_put(params);
	if (r == VL_OK)
		r = vl_recv(vl, &reply);
	if (r == VL_EINTR) {
		vl_close(vl);
		return client_error(CLIENT_EXIT_FAIL, "interrupted; job %"
		    PRIu64 " may still be running", id);
	}
	if (r != VL_OK) {
		status = vl_report(vl, r);
		vl_close(vl);
		return status;
	}
	vl_close(vl);

	if (reply.error != NULL)
		status = vl_report_error(&reply);
	else if ((job = job_from_params(reply.params)) == NULL)
		status = client_error(CLIENT_EXIT_CONNECT,
		    "malformed reply from the daemon at %s", c->socket);
	else
		status = job_report_end(c, job);
	vl_reply_free(&reply);
	return status;
}

static bool
job_show_progress(struct client *c)
{
	if (c->json)
		return false;
	switch (c->progress) {
	case PROGRESS_ALWAYS:
		return true;
	case PROGRESS_NEVER:
		return false;
	default:
		return isatty(STDOUT_FILENO);
	}
}

int
job_follow(struct client *c, struct vl *vl, uint64_t id)
{
	struct progress		 progress;
	struct vl_reply		 reply;
	struct json_object	*job;
	int			 r, status;

	progress_init(&progress, stdout, job_show_progress(c));
	/*
	 * Until the first reply names the job there is nothing to cancel,
	 * so the first signal only takes effect then; a second one gives up.
	 */
	vl_set_interrupt(vl, id != 0 ? 1 : 2);
	for (;;) {
		r = vl_recv(vl, &reply);
		if (r == VL_EINTR && id != 0) {
			progress_finish(&progress);
			return job_cancel(c, id);
		}
		if (r != VL_OK) {
			progress_finish(&progress);
			return vl_report(vl, r);
		}
		if (reply.error != NULL) {
			progress_finish(&progress);
			status = vl_report_error(&reply);
			vl_reply_free(&reply);
			return status;
		}
		if ((job = job_from_params(reply.params)) == NULL) {
			progress_finish(&progress);
			vl_reply_free(&reply);
			return vl_report(vl, VL_EPROTO);
		}
		if (id == 0) {
			id = job_u64(job, "id");
			vl_set_interrupt(vl, 1);
		}
		progress_update(&progress, job);
		if (itemize_reply(c, reply.params) < 0) {
			progress_finish(&progress);
			vl_reply_free(&reply);
			client_error(0, "cannot write manifest '%s': %s", c->manifest,
			    strerror(errno));
			return job_cancel(c, id);
		}
		if (!reply.continues) {
			progress_finish(&progress);
			status = job_report_end(c, job);
			vl_reply_free(&reply);
			return status;
		}
		vl_reply_free(&reply);
	}
}
