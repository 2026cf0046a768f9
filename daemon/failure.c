/*
 * A job's listed failures (keep_going), bounded in bytes: every failure
 * is counted, but one is listed only while its job's listed failures
 * stay within jobs.failure_bytes and its owner's, over all of the
 * owner's kept jobs, within jobs.user_failure_bytes. A path or message
 * longer than FAILURE_TEXT_MAX is shortened in its middle, so that both
 * its start and its end (the file's name, the error) are kept. A job
 * with hundreds of failing files under long paths was 4 MB in memory
 * and again in its journal record, and root's List of 30 of them was
 * too large to be sent.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "job_internal.h"

/* A shortened text's marker: "…", UTF-8, so that a reply stays UTF-8. */
#define FAILURE_MARK		"\xe2\x80\xa6"
#define FAILURE_MARK_LEN	(sizeof(FAILURE_MARK) - 1)
/* A listed failure's cost beyond its texts: its error name and the JSON around it. */
#define FAILURE_OVERHEAD	64

/* Back off from s + n to the start of a UTF-8 character (at most 3 bytes). */
static size_t
failure_char_start(const char *s, size_t n)
{
	for (int i = 0; i < 3 && n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80; i++)
		n--;
	return n;
}

char *
failure_shorten(const char *s, size_t max)
{
	size_t	 len = strlen(s), head, tail;
	char	*out;

	if (len <= max || max < FAILURE_MARK_LEN + 2)
		return strndup(s, len <= max ? len : max);
	head = failure_char_start(s, (max - FAILURE_MARK_LEN) / 2);
	/* The tail starts on a character too: move its start forward. */
	tail = len - (max - FAILURE_MARK_LEN - head);
	while (tail < len && ((unsigned char)s[tail] & 0xc0) == 0x80)
		tail++;
	if ((out = malloc(head + FAILURE_MARK_LEN + (len - tail) + 1)) == NULL)
		return NULL;
	memcpy(out, s, head);
	memcpy(out + head, FAILURE_MARK, FAILURE_MARK_LEN);
	memcpy(out + head + FAILURE_MARK_LEN, s + tail, len - tail + 1);
	return out;
}

size_t
failure_cost(const char *path, const char *msg)
{
	return strlen(path) + strlen(msg) + FAILURE_OVERHEAD;
}

bool
failure_fits(uint64_t job_bytes, uint64_t user_bytes, size_t cost,
    const struct config *conf)
{
	return job_bytes + cost <= conf->jobs.failure_bytes &&
	    user_bytes + cost <= conf->jobs.user_failure_bytes;
}

void
failure_add(struct job *job, int err, const char *path, const char *msg, bool vanished)
{
	struct failure	*f = &job->failures[job->nlisted];
	size_t		 cost;

	job->files_failed++;
	if (job->nlisted == JOB_MAX_FAILURES)
		return;
	if ((f->path = failure_shorten(path, FAILURE_TEXT_MAX)) == NULL ||
	    (f->message = failure_shorten(msg, FAILURE_TEXT_MAX)) == NULL) {
		free(f->path);
		f->path = NULL;
		return;
	}
	cost = failure_cost(f->path, f->message);
	if (!failure_fits(job->failure_bytes, job->owner->failure_bytes, cost, cpd_conf)) {
		free(f->path);
		free(f->message);
		f->path = f->message = NULL;
		return;
	}
	f->err = err;
	f->vanished = vanished;
	job->nlisted++;
	job->failure_bytes += cost;
	job->owner->failure_bytes += cost;
}

void
failure_free(struct job *job)
{
	for (unsigned i = 0; i < job->nlisted; i++) {
		free(job->failures[i].path);
		free(job->failures[i].message);
	}
	job->nlisted = 0;
	job->owner->failure_bytes -= job->failure_bytes;
	job->failure_bytes = 0;
}

void
failure_restored(struct job *job)
{
	struct json_object	*a, *e, *path, *msg;
	size_t			 n;

	if (!json_object_object_get_ex(job->final, "failures", &a) ||
	    !json_object_is_type(a, json_type_array))
		return;
	n = json_object_array_length(a);
	for (size_t i = 0; i < n; i++) {
		e = json_object_array_get_idx(a, i);
		if (json_object_object_get_ex(e, "path", &path) &&
		    json_object_object_get_ex(e, "error_message", &msg))
			job->failure_bytes += failure_cost(json_object_get_string(path),
			    json_object_get_string(msg));
	}
	job->owner->failure_bytes += job->failure_bytes;
}
