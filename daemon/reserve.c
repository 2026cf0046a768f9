/*
 * CPUs kept free of bulk copying while interactive work is about.
 *
 * A page-cache copy is CPU work in the kernel, and io-wq's workers doing
 * it give the CPU up late: measured on two CPUs under four bulk copies,
 * a woken event loop (nice 0) waited up to 15 ms behind a worker at
 * nice 10, and GetStatus took 8.6 ms at p99, a 4 KiB copy 8.9 ms. With
 * bulk work kept off one CPU: 0.49 ms and 1.38 ms, for 17 % less bulk
 * throughput (README.md). So the confinement lasts only while
 * interactive work comes (calls other than a copy's own Copy and Wait
 * streams, and interactive jobs) and RESERVE_HOLD_USEC after: a lone
 * bulk copy keeps every CPU.
 *
 * Meanwhile what interactive work waits for runs on the kept CPUs: the
 * event loop, the pool's interactive work and the journal's threads.
 * Left anywhere, the scheduler now and then woke one of them on a bulk
 * CPU behind a worker busy in the kernel, which (preempt=none) gives the
 * CPU up only at the next tick: perf sched showed the loop runnable for
 * up to 4.6 ms, and a 4 KiB copy's first journal record took 15 ms at
 * p99 under 4 bulk copies.
 */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include "config.h"
#include "engine.h"
#include "log.h"
#include "loop.h"
#include "reserve.h"

#define RESERVE_HOLD_USEC	(1000 * 1000)

static cpu_set_t	all, bulk, kept_cpus;
static bool		possible;
static atomic_bool	confined;
static atomic_uint	confine_gen;	/* for reserve_place()'s threads */
static uint64_t		last_usec;

void
reserve_init(const struct config *conf)
{
	unsigned n, want = conf->engine.reserved_cpus, kept = 0;

	possible = false;
	atomic_store(&confined, false);
	if (sched_getaffinity(0, sizeof(all), &all) < 0) {
		log_warn("sched_getaffinity");
		return;
	}
	n = (unsigned)CPU_COUNT(&all);
	if (want == 0 || n < 2) {
		if (want)
			log_info("one CPU: bulk copies are not kept off a reserved one");
		return;
	}
	if (want > n - 1)
		want = n - 1;
	/* The first CPUs are kept; the others take the bulk work. */
	memcpy(&bulk, &all, sizeof(bulk));
	CPU_ZERO(&kept_cpus);
	for (int cpu = 0; cpu < CPU_SETSIZE && kept < want; cpu++)
		if (CPU_ISSET(cpu, &bulk)) {
			CPU_CLR(cpu, &bulk);
			CPU_SET(cpu, &kept_cpus);
			kept++;
		}
	possible = true;
}

static void
reserve_set(bool on)
{
	int rc;

	/* Said first: whoever reads the log and then looks at the workers
	 * (tests/integration/reserve.sh) never sees a move not yet logged. */
	log_debug("bulk copying %s", on ? "kept off the reserved CPUs" : "on every CPU");
	atomic_store(&confined, on);
	atomic_fetch_add(&confine_gen, 1);
	if ((rc = engine_confine(on ? &bulk : &all, on ? &kept_cpus : &all)) < 0)
		log_warnx("cannot %s io-wq's workers: %s", on ? "confine" : "release",
		    strerror(-rc));
	if (sched_setaffinity(0, sizeof(cpu_set_t), on ? &kept_cpus : &all) < 0)
		log_warn("sched_setaffinity of the event loop");
}

void
reserve_touch(void)
{
	last_usec = loop_now_usec();
	if (!possible)
		return;
	if (!atomic_load(&confined))
		reserve_set(true);
}

void
reserve_tick(void)
{
	if (atomic_load(&confined) && loop_now_usec() - last_usec > RESERVE_HOLD_USEC)
		reserve_set(false);
}

void
reserve_place(void)
{
	static __thread unsigned	seen;
	unsigned			gen = atomic_load(&confine_gen);

	if (!possible || gen == seen)
		return;
	/* The sets are written once, before any thread reads them. */
	if (sched_setaffinity(0, sizeof(cpu_set_t),
	    atomic_load(&confined) ? &kept_cpus : &all) == 0)
		seen = gen;
}

bool
reserve_quiet(void)
{
	return last_usec == 0 || loop_now_usec() - last_usec > RESERVE_HOLD_USEC;
}

