/* Commands on existing jobs: list, status, wait, cancel, pause, resume. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"

/* A parameters object holding {"id": id}. */
static struct json_object *
cmd_job_id_params(uint64_t id)
{
	struct json_object	*params = json_object_new_object();

	json_object_object_add(params, "id", json_object_new_int64(
	    (int64_t)id));
	return params;
}

/*
 * Call method with the job's id and fetch the Job of the reply; returns
 * 0 with the reply (and its Job in *job) or an exit status.
 */
static int
cmd_job_call(struct client *c, const char *method, uint64_t id,
    struct vl_reply *reply, struct json_object **job)
{
	struct json_object	*params = cmd_job_id_params(id);
	int			 status;

	status = client_call(c, method, params, reply);
	json_object_put(params);
	if (status != CLIENT_EXIT_OK)
		return status;
	if ((*job = job_from_params(reply->params)) == NULL) {
		vl_reply_free(reply);
		return client_error(CLIENT_EXIT_CONNECT,
		    "malformed reply from the daemon at %s", c->socket);
	}
	return CLIENT_EXIT_OK;
}

/* ------------------------------------------------------------------ list */

enum {
	LIST_ID, LIST_STATE, LIST_PRIORITY, LIST_PROGRESS, LIST_RATE,
	LIST_WHAT, LIST_NCOLS
};

static const char *const cmd_list_headers[LIST_NCOLS] = {
	"ID", "STATE", "PRIORITY", "PROGRESS", "RATE", "SOURCES -> DEST",
};
/* Numbers are right-aligned. */
static const bool cmd_list_right[LIST_NCOLS] = {
	true, false, false, false, true, false,
};

static void
cmd_list_row(struct json_object *job, char **cells)
{
	char		 done[32], total[32], rate[40];
	const char	*state = job_str(job, "state");
	const char	*priority = job_str(job, "priority");
	uint64_t	 d = job_u64(job, "bytes_done");
	uint64_t	 t = job_u64(job, "bytes_total");

	if (asprintf(&cells[LIST_ID], "%" PRIu64, job_u64(job, "id")) == -1)
		cells[LIST_ID] = NULL;
	cells[LIST_STATE] = strdup(state);
	cells[LIST_PRIORITY] = strdup(priority != NULL ? priority : "-");
	/* A job done with failed files (keep_going) is not all there. */
	if (asprintf(&cells[LIST_PROGRESS], "%3u%% %s / %s",
	    job_state(job) == JOB_DONE && job_u64(job, "files_failed") == 0 ?
	    100 : progress_percent(d, t),
	    human_size(d, done, sizeof done),
	    human_size(t, total, sizeof total)) == -1)
		cells[LIST_PROGRESS] = NULL;
	cells[LIST_RATE] = strdup(job_state(job) == JOB_RUNNING ?
	    human_rate(job_u64(job, "rate"), rate, sizeof rate) : "-");
	cells[LIST_WHAT] = job_summary(job);
}

/*
 * Every job the caller may see, in *all: List's pages one after the
 * other (a daemon before paging sends one page, without next_after).
 * Returns 0 or an exit status, after printing why.
 */
static int
cmd_list_fetch(struct client *c, struct json_object **all)
{
	struct vl_reply		 reply;
	struct json_object	*params, *jobs, *next, *job;
	int64_t			 after = 0;
	size_t			 n, i;
	int			 status;

	*all = json_object_new_array();
	for (;;) {
		params = json_object_new_object();
		json_object_object_add(params, VOCAB_LIST_AFTER, json_object_new_int64(after));
		status = client_call(c, CPD_METHOD("List"), params, &reply);
		json_object_put(params);
		if (status != 0)
			break;
		if (!json_object_object_get_ex(reply.params, VOCAB_LIST_JOBS, &jobs) ||
		    !json_object_is_type(jobs, json_type_array))
			goto malformed;
		n = json_object_array_length(jobs);
		for (i = 0; i < n; i++) {
			job = json_object_array_get_idx(jobs, i);
			if (!job_valid(job))
				goto malformed;
			json_object_array_add(*all, json_object_get(job));
		}
		if (!json_object_object_get_ex(reply.params, VOCAB_LIST_NEXT, &next) ||
		    next == NULL) {
			vl_reply_free(&reply);
			return CLIENT_EXIT_OK;
		}
		/* Each page goes on past the last: a daemon that says otherwise would loop. */
		if (!json_object_is_type(next, json_type_int) ||
		    json_object_get_int64(next) <= after)
			goto malformed;
		after = json_object_get_int64(next);
		vl_reply_free(&reply);
	}
	json_object_put(*all);
	return status;
malformed:
	vl_reply_free(&reply);
	json_object_put(*all);
	return client_error(CLIENT_EXIT_CONNECT, "malformed reply from the daemon at %s",
	    c->socket);
}

int
cmd_list(struct client *c, const struct cmd_entry *cmd, int argc, char **argv)
{
	struct json_object	*jobs, *job;
	char			**cells = NULL;
	const char		*cell;
	size_t			 n, i, j, width[LIST_NCOLS], len;
	int			 status;

	if (cmd_parse_simple(c, cmd, argc, argv, 0, &status) == -1)
		return status;
	if ((status = cmd_list_fetch(c, &jobs)) != 0)
		return status;
	if (c->json) {
		client_print_json(jobs);
		json_object_put(jobs);
		return CLIENT_EXIT_OK;
	}
	n = json_object_array_length(jobs);
	if (n > 0 && (cells = calloc(n * LIST_NCOLS, sizeof *cells)) == NULL) {
		json_object_put(jobs);
		return client_error(CLIENT_EXIT_FAIL, "out of memory");
	}
	for (j = 0; j < LIST_NCOLS; j++)
		width[j] = strlen(cmd_list_headers[j]);
	for (i = 0; i < n; i++) {
		job = json_object_array_get_idx(jobs, i);
		cmd_list_row(job, cells + i * LIST_NCOLS);
		for (j = 0; j < LIST_NCOLS; j++) {
			cell = cells[i * LIST_NCOLS + j];
			len = cell != NULL ? strlen(cell) : 1;
			if (len > width[j])
				width[j] = len;
		}
	}

	for (i = 0; i <= n; i++) {
		for (j = 0; j < LIST_NCOLS; j++) {
			cell = i == 0 ? cmd_list_headers[j] :
			    cells[(i - 1) * LIST_NCOLS + j];
			if (cell == NULL)
				cell = "?";
			if (j == LIST_NCOLS - 1)
				printf("%s\n", cell);
			else
				printf(cmd_list_right[j] ? "%*s  " : "%-*s  ",
				    (int)width[j], cell);
		}
	}

	for (i = 0; i < n * LIST_NCOLS; i++)
		free(cells[i]);
	free(cells);
	json_object_put(jobs);
	return CLIENT_EXIT_OK;
}

/* ---------------------------------------------------------------- status */

static void
cmd_status_bytes(FILE *f, const char *key, uint64_t n)
{
	char	 buf[32];

	if (n < 1024)
		fprintf(f, "%s: %s\n", key, human_size(n, buf, sizeof buf));
	else
		fprintf(f, "%s: %s (%" PRIu64 " bytes)\n", key,
		    human_size(n, buf, sizeof buf), n);
}

static void
cmd_status_time(FILE *f, const char *key, uint64_t usec)
{
	char	 buf[64];

	if (usec > 0)
		fprintf(f, "%s: %s\n", key, human_time(usec, buf, sizeof buf));
}

void
cmd_status_print(FILE *f, struct json_object *job)
{
	struct json_object	*sources, *src;
	const char		*state = job_str(job, "state"), *s;
	char			 buf[64], methods[256];
	uint64_t		 started, finished;
	uint64_t		 failed = job_u64(job, "files_failed");
	size_t			 i, n;

	fprintf(f, "id: %" PRIu64 "\n", job_u64(job, "id"));
	fprintf(f, "state: %s\n", state);
	if ((s = job_str(job, "waiting_for_device")) != NULL)
		fprintf(f, "waiting_for_device: %s\n", s);
	if ((s = job_str(job, "priority")) != NULL)
		fprintf(f, "priority: %s\n", s);
	if (json_object_object_get_ex(job, "sources", &sources) &&
	    json_object_is_type(sources, json_type_array)) {
		n = json_object_array_length(sources);
		for (i = 0; i < n; i++) {
			src = json_object_array_get_idx(sources, i);
			fprintf(f, "source: %s\n", json_object_get_string(src));
		}
	}
	if ((s = job_str(job, "destination")) != NULL)
		fprintf(f, "destination: %s\n", s);
	fprintf(f, "uid: %" PRIu64 "\n", job_u64(job, "uid"));
	fprintf(f, "no_clobber: %s\n", job_bool(job, "no_clobber") ? "yes" :
	    "no");
	fprintf(f, "sync: %s\n", job_bool(job, "sync") ? "yes" : "no");
	/* An older daemon has no bandwidth limits. */
	if (json_object_object_get_ex(job, "bwlimit", NULL))
		fprintf(f, "bwlimit: %s\n", job_u64(job, "bwlimit") > 0 ?
		    human_rate(job_u64(job, "bwlimit"), buf, sizeof buf) :
		    "none");
	/* The options of recursive copies, when set (or not the default). */
	if (job_bool(job, "recursive"))
		fprintf(f, "recursive: yes\n");
	if (job_bool(job, "archive"))
		fprintf(f, "archive: yes\n");
	if ((s = job_str(job, "reflink")) != NULL && strcmp(s, "auto") != 0)
		fprintf(f, "reflink: %s\n", s);
	if (job_bool(job, "keep_going"))
		fprintf(f, "keep_going: yes\n");
	/* Done with failed files (keep_going): what was copied. */
	fprintf(f, "progress: %u%%\n", job_state(job) == JOB_DONE &&
	    failed == 0 ? 100 : progress_percent(job_u64(job, "bytes_done"),
	    job_u64(job, "bytes_total")));
	cmd_status_bytes(f, "bytes_done", job_u64(job, "bytes_done"));
	cmd_status_bytes(f, "bytes_total", job_u64(job, "bytes_total"));
	fprintf(f, "files_done: %" PRIu64 "\n", job_u64(job, "files_done"));
	fprintf(f, "files_total: %" PRIu64 "\n", job_u64(job, "files_total"));
	if (failed > 0 || job_bool(job, "keep_going"))
		fprintf(f, "files_failed: %" PRIu64 "\n", failed);
	if (job_state(job) == JOB_RUNNING)
		fprintf(f, "rate: %s\n", human_rate(job_u64(job, "rate"), buf,
		    sizeof buf));
	cmd_status_time(f, "created", job_u64(job, "created_usec"));
	cmd_status_time(f, "started", job_u64(job, "started_usec"));
	cmd_status_time(f, "finished", job_u64(job, "finished_usec"));
	/* Only when it happened: a crash or restart of the daemon is news. */
	if (job_u64(job, "restarts") > 0)
		fprintf(f, "restarts: %" PRIu64 "\n", job_u64(job, "restarts"));
	if (job_u64(job, "bytes_resumed") > 0)
		cmd_status_bytes(f, "bytes_resumed", job_u64(job, "bytes_resumed"));
	started = job_u64(job, "started_usec");
	finished = job_u64(job, "finished_usec");
	if (started > 0 && finished >= started)
		fprintf(f, "elapsed: %s\n", human_clock((finished - started +
		    500000) / 1000000, buf, sizeof buf));
	if ((s = job_str(job, "method")) != NULL)
		fprintf(f, "method: %s\n", s);
	if (job_methods(job, methods, sizeof methods) != NULL)
		fprintf(f, "methods: %s\n", methods);
	if (failed > 0) {
		fprintf(f, "failures:\n");
		job_print_failures(f, job);
	}
	if ((s = job_str(job, "error")) != NULL)
		fprintf(f, "error: %s\n", s);
	if ((s = job_str(job, "error_message")) != NULL)
		fprintf(f, "error_message: %s\n", s);
}

/*
 * Call method (Get, Cancel, Pause or Resume) on the job named by the
 * command's operand and print the job it returns: as JSON, or with print.
 */
static int
cmd_job_call_print(struct client *c, const struct cmd_entry *cmd, int argc,
    char **argv, const char *method, void (*print)(FILE *, struct json_object *))
{
	struct vl_reply		 reply;
	struct json_object	*job;
	uint64_t		 id;
	int			 status, i;

	if ((i = cmd_parse_simple(c, cmd, argc, argv, 1, &status)) == -1)
		return status;
	if (cmd_parse_id(cmd, argv[i], &id) == -1)
		return CLIENT_EXIT_USAGE;
	status = cmd_job_call(c, method, id, &reply, &job);
	if (status != CLIENT_EXIT_OK)
		return status;
	if (c->json)
		client_print_json(job);
	else
		print(stdout, job);
	vl_reply_free(&reply);
	return CLIENT_EXIT_OK;
}

int
cmd_status(struct client *c, const struct cmd_entry *cmd, int argc,
    char **argv)
{
	return cmd_job_call_print(c, cmd, argc, argv, CPD_METHOD("Get"), cmd_status_print);
}

/* ------------------------------------------------------------------ wait */

enum {
	CMD_WAIT_JSON = 256,
	CMD_WAIT_PROGRESS,
	CMD_WAIT_NO_PROGRESS,
};

int
cmd_wait(struct client *c, const struct cmd_entry *cmd, int argc, char **argv)
{
	static const struct option	 options[] = {
		{ "json",	 no_argument,	    NULL, CMD_WAIT_JSON },
		{ "progress",	 required_argument, NULL, CMD_WAIT_PROGRESS },
		{ "no-progress", no_argument,	    NULL, CMD_WAIT_NO_PROGRESS },
		{ "help",	 no_argument,	    NULL, 'h' },
		{ NULL,		 0,		    NULL, 0 }
	};
	struct json_object		*params;
	struct vl			*vl;
	uint64_t			 id;
	int				 opt, status, r;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
		switch (opt) {
		case CMD_WAIT_JSON:
			c->json = true;
			break;
		case CMD_WAIT_PROGRESS:
			if ((c->progress = conf_parse_progress(optarg)) == -1)
				return cmd_usage_error(cmd, "invalid value "
				    "'%s' for --progress (expected auto, "
				    "always or never)", optarg);
			break;
		case CMD_WAIT_NO_PROGRESS:
			c->progress = PROGRESS_NEVER;
			break;
		case 'h':
			cmd_print_usage(cmd, stdout);
			return CLIENT_EXIT_OK;
		default:
			return cmd_option_error(cmd, opt, argv);
		}
	}
	if (argc - optind < 1)
		return cmd_usage_error(cmd, "missing job id");
	if (argc - optind > 1)
		return cmd_usage_error(cmd, "unexpected argument '%s'",
		    argv[optind + 1]);
	if (cmd_parse_id(cmd, argv[optind], &id) == -1)
		return CLIENT_EXIT_USAGE;

	if (client_signals_catch() == -1)
		return client_error(CLIENT_EXIT_FAIL, "cannot catch signals: %s",
		    strerror(errno));
	if ((status = client_connect(c, &vl)) != CLIENT_EXIT_OK)
		return status;
	params = cmd_job_id_params(id);
	r = vl_send(vl, CPD_METHOD("Wait"), params, true);
	json_object_put(params);
	if (r != VL_OK)
		status = vl_report(vl, r);
	else
		status = job_follow(c, vl, id);
	vl_close(vl);
	return status;
}

/* ------------------------------------------------- cancel, pause, resume */

static void
cmd_state_print(FILE *f, struct json_object *job)
{
	fprintf(f, "job %" PRIu64 ": %s\n", job_u64(job, "id"), job_str(job, "state"));
}

int
cmd_cancel(struct client *c, const struct cmd_entry *cmd, int argc,
    char **argv)
{
	return cmd_job_call_print(c, cmd, argc, argv, CPD_METHOD("Cancel"), cmd_state_print);
}

int
cmd_pause(struct client *c, const struct cmd_entry *cmd, int argc, char **argv)
{
	return cmd_job_call_print(c, cmd, argc, argv, CPD_METHOD("Pause"), cmd_state_print);
}

int
cmd_resume(struct client *c, const struct cmd_entry *cmd, int argc,
    char **argv)
{
	return cmd_job_call_print(c, cmd, argc, argv, CPD_METHOD("Resume"), cmd_state_print);
}