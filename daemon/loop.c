/*
 * The event loop. One thread, one ring: client sockets, timers and every
 * copy operation complete here. When io_uring cannot be had the same
 * interface is served by epoll, and the fallback engine's threads post
 * their completions back through loop_post().
 */
#include <errno.h>
#include <stdio.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"

#define LAT_WINDOW	4096	/* iterations the percentiles cover */

static struct io_uring	ring;
static struct {
	uint32_t	 window[LAT_WINDOW];
	uint64_t	 iterations, slow;
	uint32_t	 max;
	unsigned	 completions;	/* in the current iteration */
	uint64_t	 woke;		/* when the last wait returned */
} lat;
static struct loop_info	info;
static int		epfd = -1;

/* Cross-thread posts: a locked list, and an eventfd to wake the loop. */
struct post {
	struct post	*next;
	void		(*fn)(void *);
	void		*arg;
};
#define POST_LAZY_MAX	32	/* lazy posts waiting before the loop is woken anyway */
static pthread_mutex_t	post_lock = PTHREAD_MUTEX_INITIALIZER;
static struct post	*posts, **posts_tail = &posts;
static unsigned		 posts_lazy;
static bool		 post_woken;	/* the loop has been woken and not taken the list yet */
static int		wakefd = -1;
static struct loop_op	wake_op;
static uint64_t		wake_buf;

/* epoll backend: the read-side and write-side waiter of each fd. */
struct fdslot {
	struct loop_op	*in, *out;
	unsigned	 in_events;
};
static struct fdslot	*fdslots;
static size_t		 nfdslots;

uint64_t
loop_now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

uint64_t
loop_wall_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void
loop_feature(const char *name)
{
	if (info.nfeatures < LOOP_MAX_FEATURES)
		info.features[info.nfeatures++] = name;
}

/*
 * A one-thread loop is the ring's single issuer (6.0+), and COOP_TASKRUN
 * (5.19+) keeps completions from interrupting it. DEFER_TASKRUN (6.1+)
 * would run completion work only when the loop waits; with io-wq busy
 * copying it measured ten times slower to answer a client (median
 * GetStatus under four bulk copies: 4.7 ms against 0.45 ms), so it is
 * an option, off by default. Older kernels get plainer rings.
 */
static int
loop_uring_init(const struct config *conf)
{
	unsigned tries[] = {
		IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN |
		    IORING_SETUP_SUBMIT_ALL,
		IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SUBMIT_ALL,
		0,
	};
	struct io_uring_params	p;
	struct io_uring_probe	*probe;
	int			rc = -ENOSYS;

	static const struct { int op; const char *name; } needed[] = {
		{ IORING_OP_OPENAT2, "openat2" }, { IORING_OP_STATX, "statx" },
		{ IORING_OP_SPLICE, "splice" }, { IORING_OP_READ, "read" },
		{ IORING_OP_WRITE, "write" }, { IORING_OP_RENAMEAT, "renameat" },
		{ IORING_OP_UNLINKAT, "unlinkat" }, { IORING_OP_POLL_ADD, "poll" },
		{ IORING_OP_FSYNC, "fsync" }, { IORING_OP_MKDIRAT, "mkdirat" },
		{ IORING_OP_SYMLINKAT, "symlinkat" }, { IORING_OP_LINKAT, "linkat" },
	};

	if (conf->engine.defer_taskrun)
		tries[0] = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN |
		    IORING_SETUP_SUBMIT_ALL;

	for (size_t i = 0; i < sizeof(tries) / sizeof(tries[0]); i++) {
		memset(&p, 0, sizeof(p));
		p.flags = tries[i];
		p.cq_entries = conf->engine.ring_entries * 4;
		p.flags |= IORING_SETUP_CQSIZE;
		rc = io_uring_queue_init_params(conf->engine.ring_entries, &ring, &p);
		if (rc != -EINVAL)
			break;
	}
	if (rc < 0)
		return rc;
	if (p.flags & IORING_SETUP_SINGLE_ISSUER)
		loop_feature("single_issuer");
	if (p.flags & IORING_SETUP_DEFER_TASKRUN)
		loop_feature("defer_taskrun");
	if (p.flags & IORING_SETUP_COOP_TASKRUN)
		loop_feature("coop_taskrun");
	if (!(p.features & IORING_FEAT_EXT_ARG) || !(p.features & IORING_FEAT_NODROP)) {
		io_uring_queue_exit(&ring);
		return -ENOSYS;	/* need timed waits and no dropped completions */
	}
	if ((probe = io_uring_get_probe_ring(&ring)) == NULL) {
		io_uring_queue_exit(&ring);
		return -ENOSYS;
	}
	for (size_t i = 0; i < sizeof(needed) / sizeof(needed[0]); i++)
		if (!io_uring_opcode_supported(probe, needed[i].op)) {
			log_warnx("io_uring lacks %s", needed[i].name);
			io_uring_free_probe(probe);
			io_uring_queue_exit(&ring);
			return -ENOSYS;
		}
	io_uring_free_probe(probe);
	if (conf->engine.iowq_bounded || conf->engine.iowq_unbounded) {
		unsigned v[2] = { conf->engine.iowq_bounded, conf->engine.iowq_unbounded };
		if ((rc = io_uring_register_iowq_max_workers(&ring, v)) < 0)
			log_warnx("io_uring_register_iowq_max_workers: %s", strerror(-rc));
		else
			loop_feature("iowq_max_workers");
	}
	return 0;
}

int
loop_init(const struct config *conf)
{
	int	rc;

	info.started_usec = loop_now_usec();
	if (conf->engine.type != ENGINE_FALLBACK) {
		rc = loop_uring_init(conf);
		if (rc == 0) {
			info.uring = true;
			goto common;
		}
		if (conf->engine.type == ENGINE_URING)
			return rc;
		snprintf(info.fallback_reason, sizeof(info.fallback_reason),
		    "io_uring unavailable (%s)", strerror(-rc));
		log_warnx("%s: using the fallback engine (threads, copy_file_range)",
		    info.fallback_reason);
	} else
		snprintf(info.fallback_reason, sizeof(info.fallback_reason),
		    "fallback engine forced by configuration");
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
		return -errno;
common:
	if ((wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0)
		return -errno;
	return 0;
}

void
loop_free(void)
{
	if (info.uring)
		io_uring_queue_exit(&ring);
	info.uring = false;
	if (epfd >= 0)
		close(epfd);
	epfd = -1;
	free(fdslots);
	fdslots = NULL;
	nfdslots = 0;
	if (wakefd >= 0)
		close(wakefd);
	wakefd = -1;	/* so that loop_init() may run again (the unit tests) */
}

const struct loop_info *
loop_info(void)
{
	return &info;
}

struct io_uring *
loop_ring(void)
{
	return &ring;
}

struct io_uring_sqe *
loop_sqe(struct loop_op *op)
{
	struct io_uring_sqe *sqe;

	while ((sqe = io_uring_get_sqe(&ring)) == NULL)
		io_uring_submit(&ring);
	io_uring_sqe_set_data(sqe, op);
	return sqe;
}

static void
loop_epoll_update(int fd, struct fdslot *slot)
{
	struct epoll_event ev = { .data.fd = fd };

	ev.events = (slot->in ? slot->in_events : 0) | (slot->out ? EPOLLOUT : 0);
	if (ev.events == 0) {
		epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
		return;
	}
	ev.events |= EPOLLONESHOT;
	if (epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev) < 0 &&
	    (errno != ENOENT || epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0))
		fatal("epoll_ctl");
}

void
loop_poll(struct loop_op *op, int fd, unsigned events)
{
	struct fdslot *slot;

	if (info.uring) {
		io_uring_prep_poll_add(loop_sqe(op), fd, events);
		return;
	}
	if ((size_t)fd >= nfdslots) {
		size_t n = (size_t)fd * 2 + 16;
		if ((slot = realloc(fdslots, n * sizeof(*slot))) == NULL)
			fatal("realloc");
		memset(slot + nfdslots, 0, (n - nfdslots) * sizeof(*slot));
		fdslots = slot;
		nfdslots = n;
	}
	slot = &fdslots[fd];
	if (events & POLLOUT)
		slot->out = op;
	else {
		slot->in = op;
		slot->in_events = events;
	}
	loop_epoll_update(fd, slot);
}

void
loop_forget(int fd)
{
	if (info.uring || (size_t)fd >= nfdslots)
		return;
	fdslots[fd].in = fdslots[fd].out = NULL;
	epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
}

static void
loop_post_add(void (*fn)(void *), void *arg, bool lazy)
{
	struct post	*p;
	uint64_t	 one = 1;
	bool		 wake;

	if ((p = malloc(sizeof(*p))) == NULL)
		fatal("malloc");
	p->fn = fn;
	p->arg = arg;
	p->next = NULL;
	pthread_mutex_lock(&post_lock);
	*posts_tail = p;
	posts_tail = &p->next;
	/* The loop takes the whole list when it wakes: one wake will do. */
	wake = !post_woken && (!lazy || ++posts_lazy >= POST_LAZY_MAX);
	if (wake)
		post_woken = true;
	pthread_mutex_unlock(&post_lock);
	if (wake && write(wakefd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		fatal("eventfd write");
}

void
loop_post(void (*fn)(void *), void *arg)
{
	loop_post_add(fn, arg, false);
}

void
loop_post_lazy(void (*fn)(void *), void *arg)
{
	loop_post_add(fn, arg, true);
}

/* Submit calls on this thread's stack; only the loop thread submits. */
static __thread unsigned	submitting;

void
loop_submit_enter(void)
{
	submitting++;
}

void
loop_submit_leave(void)
{
	submitting--;
}

void
loop_completion_check(const char *what)
{
	if (submitting)
		fatalx("completion rule broken: the result of %s was delivered inside "
		    "the call that submitted work (a callback must not run before its "
		    "submit returns)", what);
}

/* What threads posted, run on the loop. */
static void
loop_run_posts(void)
{
	struct post *p, *next;

	pthread_mutex_lock(&post_lock);
	p = posts;
	posts = NULL;
	posts_tail = &posts;
	posts_lazy = 0;
	post_woken = false;
	pthread_mutex_unlock(&post_lock);
	for (; p; p = next) {
		next = p->next;
		p->fn(p->arg);
		free(p);
	}
}

static void
loop_woken(struct loop_op *op, int res)
{
	if (read(wakefd, &wake_buf, sizeof(wake_buf)) < 0 && errno != EAGAIN)
		fatal("eventfd read");
	loop_run_posts();
	loop_poll(op, wakefd, POLLIN);
}

static void
loop_wait_uring(int timeout_ms)
{
	struct __kernel_timespec ts = {
		.tv_sec = timeout_ms / 1000,
		.tv_nsec = (long long)(timeout_ms % 1000) * 1000000,
	};
	struct io_uring_cqe	*cqe;
	unsigned		 head, seen = 0;
	int			 rc;

	rc = io_uring_submit_and_wait_timeout(&ring, &cqe, 1, &ts, NULL);
	lat.woke = loop_now_usec();
	if (rc < 0 && rc != -ETIME && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY)
		fatalx("io_uring wait: %s", strerror(-rc));
	io_uring_for_each_cqe(&ring, head, cqe) {
		struct loop_op *op = io_uring_cqe_get_data(cqe);

		seen++;
		lat.completions++;
		if (op)
			op->cb(op, cqe->res);
	}
	io_uring_cq_advance(&ring, seen);
}

static void
loop_wait_epoll(int timeout_ms)
{
	struct epoll_event	evs[64];
	int			n;

	n = epoll_wait(epfd, evs, 64, timeout_ms);
	lat.woke = loop_now_usec();
	if (n < 0 && errno != EINTR)
		fatal("epoll_wait");
	lat.completions += (unsigned)(n > 0 ? n : 0);
	for (int i = 0; i < n; i++) {
		int		 fd = evs[i].data.fd;
		unsigned	 ev = evs[i].events;
		struct fdslot	*slot = &fdslots[fd];
		struct loop_op	*in = NULL, *out = NULL;

		if (slot->in && (ev & (slot->in_events | EPOLLERR | EPOLLHUP))) {
			in = slot->in;
			slot->in = NULL;
		}
		if (slot->out && (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
			out = slot->out;
			slot->out = NULL;
		}
		loop_epoll_update(fd, slot);	/* re-arm whichever still waits */
		if (in)
			in->cb(in, (int)ev);
		if (out)
			out->cb(out, (int)ev);
	}
}

static int
loop_cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

void
loop_latency(struct loop_latency *out)
{
	static uint32_t	sorted[LAT_WINDOW];
	size_t		n = lat.iterations < LAT_WINDOW ? lat.iterations : LAT_WINDOW;

	memset(out, 0, sizeof(*out));
	out->iterations = lat.iterations;
	out->slow = lat.slow;
	out->max_usec = lat.max;
	if (n == 0)
		return;
	memcpy(sorted, lat.window, n * sizeof(sorted[0]));
	qsort(sorted, n, sizeof(sorted[0]), loop_cmp_u32);
	out->p50_usec = sorted[(n - 1) / 2];
	out->p99_usec = sorted[(n * 99 + 99) / 100 - 1];
}

/*
 * Account one iteration: the time from waking up to waiting again. A slow
 * one is logged with what it did, since that is where a stall comes from.
 */
static void
loop_account(uint64_t woke, uint64_t done, bool ticked, unsigned slow_usec)
{
	uint32_t usec = (uint32_t)(done - woke);

	lat.window[lat.iterations % LAT_WINDOW] = usec;
	lat.iterations++;
	if (usec > lat.max)
		lat.max = usec;
	if (usec > slow_usec) {
		lat.slow++;
		log_warnx("slow event loop iteration: %u.%03u ms (%u completions%s)",
		    usec / 1000, usec % 1000, lat.completions,
		    ticked ? ", periodic work" : "");
	}
	lat.completions = 0;
}

void
loop_run(bool (*stop)(void), void (*tick)(void), int period_ms)
{
	uint64_t next_tick = loop_now_usec() + (uint64_t)period_ms * 1000;

	lat.woke = loop_now_usec();
	wake_op.cb = loop_woken;
	loop_poll(&wake_op, wakefd, POLLIN);
	while (!stop()) {
		uint64_t now = loop_now_usec();
		bool	 ticked = false;
		int	 timeout;

		if (now >= next_tick) {
			/*
			 * Lazy posts wait for a later one to wake the loop;
			 * when the threads that would post it are stuck (a
			 * file system that stopped answering), they wait for
			 * the tick instead, not for ever.
			 */
			loop_run_posts();
			tick();
			ticked = true;
			next_tick = now + (uint64_t)period_ms * 1000;
		}
		/*
		 * Submitting is loop work: an SQE without IOSQE_ASYNC is first
		 * tried inline, on this thread, inside io_uring_enter().
		 */
		if (info.uring) {
			int rc = io_uring_submit(&ring);
			if (rc < 0 && rc != -EAGAIN && rc != -EBUSY && rc != -EINTR)
				fatalx("io_uring submit: %s", strerror(-rc));
		}
		now = loop_now_usec();
		loop_account(lat.woke, now, ticked, cpd_conf->engine.slow_iteration);
		timeout = (int)((next_tick - now + 999) / 1000);
		if (timeout > period_ms)
			timeout = period_ms;
		if (info.uring)
			loop_wait_uring(timeout);
		else
			loop_wait_epoll(timeout);
	}
}
