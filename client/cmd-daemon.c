/* daemon-status: the daemon's GetStatus, one "key: value" per line. */
#include <inttypes.h>
#include <string.h>

#include "client.h"

/* The per-priority counts of queued jobs are "queued_" PRIORITY. */

/* An integer field of params; false when absent or not an integer. */
static bool
cmd_daemon_int(struct json_object *params, const char *key, uint64_t *out)
{
	struct json_object	*v;

	if (!json_object_object_get_ex(params, key, &v) ||
	    !json_object_is_type(v, json_type_int))
		return false;
	*out = job_u64(params, key);
	return true;
}

/* snprintf that appends to buf (of len bytes) and never overruns it. */
static void CLIENT_ATTR_PRINTF(3, 4)
cmd_daemon_append(char *buf, size_t len, const char *fmt, ...)
{
	size_t	 used = strlen(buf);
	va_list	 ap;

	if (used + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

/* "jobs_queued: 3 (interactive 1, normal 2, bulk 0)". */
static void
cmd_daemon_queued(FILE *f, struct json_object *params, uint64_t queued)
{
	char		 key[32];
	const char	*sep = " (";
	uint64_t	 n;
	size_t		 i;

	fprintf(f, "jobs_queued: %" PRIu64, queued);
	for (i = 0; i < PRIO_COUNT; i++) {
		snprintf(key, sizeof key, "queued_%s", vocab_prios[i]);
		if (cmd_daemon_int(params, key, &n)) {
			fprintf(f, "%s%s %" PRIu64, sep, vocab_prios[i],
			    n);
			sep = ", ";
		}
	}
	fprintf(f, "%s\n", *sep == ',' ? ")" : "");
}

/* Whether key is one of the counts cmd_daemon_queued shows. */
static bool
cmd_daemon_is_queued(const char *key)
{
	size_t	 i;

	if (strncmp(key, "queued_", 7) != 0)
		return false;
	for (i = 0; i < PRIO_COUNT; i++)
		if (strcmp(key + 7, vocab_prios[i]) == 0)
			return true;
	return false;
}

/*
 * "loop latency: p50 12us, p99 80us, max 1.2ms (N iterations, M slow)";
 * false when lat holds none of these.
 */
static bool
cmd_daemon_latency(FILE *f, struct json_object *lat)
{
	static const struct {
		const char	*key, *label;
	} times[] = {
		{ "p50_usec", "p50" }, { "p99_usec", "p99" }, { "max_usec", "max" },
	};
	char		 line[256] = "", t[32];
	uint64_t	 n;
	size_t		 i;
	bool		 paren = false;

	if (!json_object_is_type(lat, json_type_object))
		return false;
	for (i = 0; i < sizeof times / sizeof times[0]; i++)
		if (cmd_daemon_int(lat, times[i].key, &n))
			cmd_daemon_append(line, sizeof line, "%s %s %s",
			    *line != '\0' ? "," : "", times[i].label,
			    human_usec(n, t, sizeof t));
	if (cmd_daemon_int(lat, "iterations", &n)) {
		cmd_daemon_append(line, sizeof line, " (%" PRIu64
		    " iteration%s", n, n == 1 ? "" : "s");
		paren = true;
	}
	if (cmd_daemon_int(lat, "slow", &n)) {
		cmd_daemon_append(line, sizeof line, "%s%" PRIu64 " slow",
		    paren ? ", " : " (", n);
		paren = true;
	}
	if (*line == '\0')
		return false;
	fprintf(f, "loop latency:%s%s\n", line, paren ? ")" : "");
	return true;
}

/* "operations: X in flight (Y async), Z waiting", with what is known. */
static void
cmd_daemon_ops(FILE *f, struct json_object *params)
{
	char		 line[128] = "";
	uint64_t	 n;
	bool		 inflight;

	if ((inflight = cmd_daemon_int(params, "ops_inflight", &n)))
		cmd_daemon_append(line, sizeof line, " %" PRIu64 " in flight",
		    n);
	if (cmd_daemon_int(params, "ops_async_inflight", &n))
		cmd_daemon_append(line, sizeof line, inflight ? " (%" PRIu64
		    " async)" : " %" PRIu64 " async", n);
	if (cmd_daemon_int(params, "ops_waiting", &n))
		cmd_daemon_append(line, sizeof line, "%s %" PRIu64 " waiting",
		    *line != '\0' ? "," : "", n);
	if (*line != '\0')
		fprintf(f, "operations:%s\n", line);
}

/*
 * "async: auto" and "async_threshold: 256.0 KiB": the policy marks every
 * bulk transfer (auto as always); the size only chooses splice and
 * write-behind, so it is a line of its own.
 */
static void
cmd_daemon_async(FILE *f, struct json_object *params)
{
	const char	*policy = job_str(params, "async_policy");
	char		 size[32];
	uint64_t	 n;

	if (policy != NULL)
		fprintf(f, "async: %s\n", policy);
	if (cmd_daemon_int(params, "async_threshold", &n)) {
		human_size(n, size, sizeof size);
		fprintf(f, "async_threshold: %s\n", size);
	}
}

/*
 * GetStatus.devices as a table, a device a line, in 80 columns (the
 * device numbers are in --json); false when v is not a list of objects
 * (printed as any other field then).
 */
static bool
cmd_daemon_devices(FILE *f, struct json_object *v)
{
	char	 read[32], written[32], rrate[32], wrate[32];
	size_t	 i, len;

	if (!json_object_is_type(v, json_type_array))
		return false;
	len = json_object_array_length(v);
	for (i = 0; i < len; i++)
		if (!json_object_is_type(json_object_array_get_idx(v, i),
		    json_type_object))
			return false;
	if (len == 0) {
		fprintf(f, "devices: -\n");
		return true;
	}
	fprintf(f, "devices:\n  %-10s %-10s %3s %6s %9s %9s %11s %11s\n",
	    "NAME", "CLASS", "RUN", "QUEUED", "READ", "WRITTEN", "READ/S",
	    "WRITE/S");
	for (i = 0; i < len; i++) {
		struct json_object *d = json_object_array_get_idx(v, i);
		const char *name = job_str(d, "name");
		const char *class = job_str(d, "class");

		fprintf(f, "  %-10s %-10s %3" PRIu64 " %6" PRIu64
		    " %9s %9s %11s %11s\n", name ? name : "?",
		    class ? class : "?",
		    job_u64(d, "running"), job_u64(d, "queued"),
		    human_size(job_u64(d, "read_bytes"), read, sizeof read),
		    human_size(job_u64(d, "written_bytes"), written,
		    sizeof written),
		    human_rate(job_u64(d, "read_rate"), rrate, sizeof rrate),
		    human_rate(job_u64(d, "write_rate"), wrate, sizeof wrate));
	}
	return true;
}

/* Any other field; keys whose values read better in human units. */
static void
cmd_daemon_print(FILE *f, const char *key, struct json_object *v)
{
	char		 buf[64];
	uint64_t	 n;
	size_t		 i, len;

	if (json_object_is_type(v, json_type_null)) {
		fprintf(f, "%s: -\n", key);
		return;
	}
	if (json_object_is_type(v, json_type_int)) {
		n = json_object_get_int64(v) > 0 ?
		    (uint64_t)json_object_get_int64(v) : 0;
		if (strcmp(key, "uptime_usec") == 0) {
			fprintf(f, "uptime: %s\n", human_duration(n / 1000000,
			    buf, sizeof buf));
			return;
		}
		if (strcmp(key, "rate") == 0) {
			fprintf(f, "%s: %s\n", key, human_rate(n, buf,
			    sizeof buf));
			return;
		}
		if (strcmp(key, "bytes_copied") == 0 && n >= 1024) {
			fprintf(f, "%s: %s (%" PRIu64 " bytes)\n", key,
			    human_size(n, buf, sizeof buf), n);
			return;
		}
		if (strcmp(key, "bytes_copied") == 0) {
			fprintf(f, "%s: %s\n", key, human_size(n, buf,
			    sizeof buf));
			return;
		}
	}
	if (json_object_is_type(v, json_type_array)) {
		/* A list of words, such as the features. */
		fprintf(f, "%s:", key);
		len = json_object_array_length(v);
		for (i = 0; i < len; i++)
			fprintf(f, "%s %s", i > 0 ? "," : "",
			    json_object_get_string(json_object_array_get_idx(v,
			    i)));
		fprintf(f, "%s\n", len == 0 ? " -" : "");
		return;
	}
	fprintf(f, "%s: %s\n", key, json_object_get_string(v));
}

void
cmd_daemon_print_status(FILE *f, struct json_object *params)
{
	uint64_t	 queued = 0;
	bool		 has_queued, ops_done = false, async_done = false;

	has_queued = cmd_daemon_int(params, "jobs_queued", &queued);
	/*
	 * Every field, in the daemon's order, known or not; related ones
	 * share the line of the first of them.
	 */
	json_object_object_foreach(params, key, v) {
		if (strcmp(key, "jobs_queued") == 0 && has_queued)
			cmd_daemon_queued(f, params, queued);
		else if (cmd_daemon_is_queued(key) && has_queued &&
		    json_object_is_type(v, json_type_int))
			continue;	/* on the jobs_queued line */
		else if (strcmp(key, "loop_latency") == 0) {
			if (!cmd_daemon_latency(f, v) &&
			    !json_object_is_type(v, json_type_object))
				cmd_daemon_print(f, key, v);
		} else if (strcmp(key, "ops_inflight") == 0 ||
		    strcmp(key, "ops_async_inflight") == 0 ||
		    strcmp(key, "ops_waiting") == 0) {
			if (!ops_done)
				cmd_daemon_ops(f, params);
			ops_done = true;
		} else if (strcmp(key, "devices") == 0) {
			if (!cmd_daemon_devices(f, v))
				cmd_daemon_print(f, key, v);
		} else if (strcmp(key, "async_policy") == 0 ||
		    strcmp(key, "async_threshold") == 0) {
			if (!async_done)
				cmd_daemon_async(f, params);
			async_done = true;
		} else
			cmd_daemon_print(f, key, v);
	}
}

int
cmd_daemon_status(struct client *c, const struct cmd_entry *cmd, int argc,
    char **argv)
{
	struct vl_reply	 reply;
	int		 status;

	if (cmd_parse_simple(c, cmd, argc, argv, 0, &status) == -1)
		return status;
	status = client_call(c, CPD_METHOD("GetStatus"), NULL, &reply);
	if (status != CLIENT_EXIT_OK)
		return status;
	if (c->json)
		client_print_json(reply.params);
	else
		cmd_daemon_print_status(stdout, reply.params);
	vl_reply_free(&reply);
	return CLIENT_EXIT_OK;
}
