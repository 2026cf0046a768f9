#ifndef CPD_LOOP_H
#define CPD_LOOP_H

#include <liburing.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"

/*
 * Everything the event loop waits for is a loop_op: an SQE's user_data
 * (io_uring backend) or an fd's one-shot readiness (epoll backend, used
 * only by the fallback engine). Its callback runs on the loop thread with
 * the CQE's result: a byte count, revents, or -errno.
 */
struct loop_op {
	void	(*cb)(struct loop_op *, int res);
};

/* The features of the ring, for GetStatus and the start-up log line. */
#define LOOP_MAX_FEATURES	16
struct loop_info {
	bool		 uring;
	const char	*features[LOOP_MAX_FEATURES];
	int		 nfeatures;
	char		 fallback_reason[160];
	uint64_t	 started_usec;	/* CLOCK_MONOTONIC */
};

/* How long the loop's iterations take: the work between two waits. */
struct loop_latency {
	uint32_t	p50_usec, p99_usec, max_usec;
	uint64_t	iterations, slow;
};

int	loop_init(const struct config *);
void	loop_latency(struct loop_latency *);
void	loop_free(void);
const struct loop_info *loop_info(void);
struct io_uring *loop_ring(void);
/* An SQE for op; never NULL (submits to make room). io_uring backend only. */
struct io_uring_sqe *loop_sqe(struct loop_op *op);
/*
 * One-shot readiness of fd; res is revents. An fd may have one read-side
 * poll (POLLIN and/or POLLRDHUP) and one POLLOUT poll pending at a time.
 * There is no cancel: shutdown(2) of a socket fires its pending polls.
 */
void	loop_poll(struct loop_op *, int fd, unsigned events);
/* Forget fd's epoll registration before it is closed (epoll backend). */
void	loop_forget(int fd);
/* Run fn(arg) on the loop thread; callable from any thread. */
void	loop_post(void (*fn)(void *), void *arg);
/*
 * The same, but the loop is not woken for it (unless many are waiting):
 * the caller promises a loop_post() that follows, from itself or another
 * thread, which takes this one along; should that never come (the thread
 * that would post it is stuck), the next tick does.
 */
void	loop_post_lazy(void (*fn)(void *), void *arg);
/* Run until stop() is true; tick() runs about every period_ms. */
void	loop_run(bool (*stop)(void), void (*tick)(void), int period_ms);
/*
 * The completion rule (engine.h, journal.h): a callback never runs inside
 * the call that started its work. A submit call brackets itself with
 * loop_submit_enter()/leave(); every delivery of a result calls
 * loop_completion_check() first, which aborts with what was delivered
 * when a submit call is on the stack. It costs a compare, so it is on in
 * every build: a completion in the wrong place is a use after free
 * waiting to happen, and aborting names it where it starts.
 */
void	loop_submit_enter(void);
void	loop_submit_leave(void);
void	loop_completion_check(const char *what);
uint64_t loop_now_usec(void);	/* CLOCK_MONOTONIC */
uint64_t loop_wall_usec(void);	/* CLOCK_REALTIME */

#endif
