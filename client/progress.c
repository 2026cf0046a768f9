/* The one-line progress bar drawn while following a job. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "client.h"

#define PROGRESS_BAR_MAX	30
#define PROGRESS_BAR_MIN	10

/* What one line shows. */
struct progress_view {
	uint64_t	 done;
	uint64_t	 total;
	uint64_t	 rate;
	/* "N/M files" after the sizes when files_total > 1. */
	uint64_t	 files_done;
	uint64_t	 files_total;
	bool		 complete;	/* the job is done: a full bar */
	const char	*tail;		/* replaces "ETA ..." when set */
};

/* a * b / c without intermediate overflow, saturating; 0 when c is 0. */
static uint64_t
progress_muldiv(uint64_t a, uint64_t b, uint64_t c)
{
	unsigned __int128	 r;

	if (c == 0)
		return 0;
	r = (unsigned __int128)a * b / c;
	return r > UINT64_MAX ? UINT64_MAX : (uint64_t)r;
}

/* a * b / c for a part a of a whole c: at most b. */
static uint64_t
progress_scale(uint64_t a, uint64_t b, uint64_t c)
{
	return progress_muldiv(a < c ? a : c, b, c);
}

unsigned
progress_percent(uint64_t done, uint64_t total)
{
	return (unsigned)progress_scale(done, 100, total);
}

static size_t
progress_build(char *buf, size_t len, const struct progress_view *v,
    unsigned cols)
{
	char		 sdone[32], stotal[32], rate[40], eta[48], clock[32];
	char		 pct[8], bar[PROGRESS_BAR_MAX + 3], files[56];
	const char	*parts[3];
	size_t		 textlen, nparts, i, w, filled;
	unsigned	 p;
	int		 n;

	if (cols == 0)
		cols = 80;

	p = v->complete ? 100 : progress_percent(v->done, v->total);
	snprintf(pct, sizeof pct, "%3u%%", p);
	human_size(v->done, sdone, sizeof sdone);
	human_size(v->complete && v->total < v->done ? v->done : v->total,
	    stotal, sizeof stotal);
	human_rate(v->rate, rate, sizeof rate);
	if (v->tail != NULL)
		snprintf(eta, sizeof eta, "%s", v->tail);
	else if (v->complete || (v->total > 0 && v->done >= v->total))
		snprintf(eta, sizeof eta, "ETA 0:00");
	else if (v->rate == 0 || v->total == 0)
		snprintf(eta, sizeof eta, "ETA --:--");
	else
		snprintf(eta, sizeof eta, "ETA %s", human_clock(
		    (v->total - v->done + v->rate - 1) / v->rate, clock,
		    sizeof clock));

	/*
	 * "PCT SIZES  FILES  RATE  ETA", dropping the tail parts that do not
	 * fit.
	 */
	nparts = 0;
	if (v->files_total > 1) {
		snprintf(files, sizeof files, "%" PRIu64 "/%" PRIu64 " files",
		    v->files_done, v->files_total);
		parts[nparts++] = files;
	}
	parts[nparts++] = rate;
	parts[nparts++] = eta;
	for (;;) {
		textlen = strlen(pct) + 1 + strlen(sdone) + 3 + strlen(stotal);
		for (i = 0; i < nparts; i++)
			textlen += 2 + strlen(parts[i]);
		if (textlen < cols || nparts == 0)
			break;
		nparts--;
	}

	/* The bar gets what is left: "[...] " costs 3 more. */
	w = 0;
	if (textlen + 3 + PROGRESS_BAR_MIN < cols) {
		w = cols - 1 - textlen - 3;
		if (w > PROGRESS_BAR_MAX)
			w = PROGRESS_BAR_MAX;
	}
	if (w > 0) {
		filled = v->complete ? w : (size_t)progress_scale(v->done, w,
		    v->total);
		bar[0] = '[';
		for (i = 0; i < w; i++) {
			if (i < filled)
				bar[1 + i] = '=';
			else if (i == filled && filled > 0)
				bar[1 + i] = '>';
			else
				bar[1 + i] = ' ';
		}
		bar[1 + w] = ']';
		bar[2 + w] = '\0';
	} else
		bar[0] = '\0';

	n = snprintf(buf, len, "%s%s%s %s / %s%s%s%s%s%s%s", pct,
	    w > 0 ? " " : "", bar, sdone, stotal,
	    nparts > 0 ? "  " : "", nparts > 0 ? parts[0] : "",
	    nparts > 1 ? "  " : "", nparts > 1 ? parts[1] : "",
	    nparts > 2 ? "  " : "", nparts > 2 ? parts[2] : "");
	if (n < 0) {
		if (len > 0)
			buf[0] = '\0';
		return 0;
	}
	return (size_t)n < len ? (size_t)n : (len > 0 ? len - 1 : 0);
}

size_t
progress_format(char *buf, size_t len, uint64_t done, uint64_t total,
    uint64_t rate, unsigned cols)
{
	struct progress_view	 v = {
		.done = done,
		.total = total,
		.rate = rate,
	};

	return progress_build(buf, len, &v, cols);
}

size_t
progress_format_paused(char *buf, size_t len, uint64_t done, uint64_t total,
    unsigned cols)
{
	struct progress_view	 v = {
		.done = done,
		.total = total,
		.tail = "paused",
	};

	return progress_build(buf, len, &v, cols);
}

static unsigned
progress_columns(FILE *out)
{
	struct winsize	 ws;
	const char	*env;
	long		 n;

	if (ioctl(fileno(out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	if ((env = getenv("COLUMNS")) != NULL && (n = strtol(env, NULL, 10)) > 0
	    && n < 10000)
		return (unsigned)n;
	return 80;
}

void
progress_init(struct progress *p, FILE *out, bool active)
{
	p->out = out;
	p->active = active;
	p->drawn = 0;
}

static void
progress_draw(struct progress *p, const char *line, size_t len)
{
	size_t	 pad = p->drawn > len ? p->drawn - len : 0;

	/*
	 * Overwrite the previous line and blank out what it had beyond
	 * ours (no escape sequences: the output may not be a terminal).
	 */
	fprintf(p->out, "\r%s%*s", line, (int)pad, "");
	fflush(p->out);
	p->drawn = len;
}

size_t
progress_format_job(char *buf, size_t len, struct json_object *job,
    unsigned cols)
{
	struct progress_view	 v = { 0 };
	char			 size[32], tail[48], clock[32];
	const char		*state = job_str(job, "state");
	uint64_t		 started, finished, usec;
	size_t			 n;

	if (cols == 0)
		cols = 80;
	if (state == NULL)
		state = "?";

	v.done = job_u64(job, "bytes_done");
	v.total = job_u64(job, "bytes_total");
	v.rate = job_u64(job, "rate");
	/* Recursive jobs: files_total grows while the trees are walked. */
	v.files_done = job_u64(job, "files_done");
	v.files_total = job_u64(job, "files_total");

	if (job_state(job) == JOB_QUEUED) {
		if (len == 0)
			return 0;
		snprintf(buf, len, "queued: %" PRIu64 " file%s, %s",
		    v.files_total, v.files_total == 1 ? "" : "s",
		    human_size(v.total, size, sizeof size));
		n = strlen(buf);
		if (n >= cols) {
			n = cols > 1 ? cols - 1 : 0;
			buf[n] = '\0';
		}
		return n;
	}
	if (job_state(job) == JOB_PAUSED) {
		/* Nothing moves until it is resumed: no rate, no ETA. */
		v.rate = 0;
		v.tail = "paused";
	} else if (job_state(job) == JOB_DONE) {
		/*
		 * The whole job: its average rate and how long it took. With
		 * files that failed (keep_going) it is not all there: the bar
		 * shows what was copied.
		 */
		v.complete = job_u64(job, "files_failed") == 0;
		started = job_u64(job, "started_usec");
		finished = job_u64(job, "finished_usec");
		if (started > 0 && finished > started) {
			usec = finished - started;
			v.rate = progress_muldiv(v.done, 1000000, usec);
			snprintf(tail, sizeof tail, "in %s", human_clock(
			    (usec + 500000) / 1000000, clock, sizeof clock));
			v.tail = tail;
		} else if (!v.complete)
			v.tail = "done";
	}
	return progress_build(buf, len, &v, cols);
}

void
progress_update(struct progress *p, struct json_object *job)
{
	char	 line[PROGRESS_LINE_MAX];
	size_t	 len;

	if (!p->active || job_str(job, "state") == NULL)
		return;
	len = progress_format_job(line, sizeof line, job,
	    progress_columns(p->out));
	progress_draw(p, line, len);
}

void
progress_finish(struct progress *p)
{
	if (p->active && p->drawn > 0) {
		fputc('\n', p->out);
		fflush(p->out);
	}
	p->drawn = 0;
}
