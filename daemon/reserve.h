#ifndef CPD_RESERVE_H
#define CPD_RESERVE_H

#include <sched.h>
#include <stdbool.h>

struct config;

/*
 * CPUs kept free of bulk copying while interactive work is about
 * (engine.reserved_cpus). Bulk copying is what io-wq's workers do and
 * the pool's threads do for jobs that are not interactive.
 */
void	reserve_init(const struct config *);
/* Interactive work now: confine bulk copying (again) for a while. */
void	reserve_touch(void);
/* From the loop's tick: lift the confinement once it is quiet. */
void	reserve_tick(void);
/*
 * Put the calling thread (one interactive work waits for: the journal's)
 * on the kept CPUs while bulk copying is confined, anywhere otherwise;
 * a system call only when that has changed since its last call.
 */
void	reserve_place(void);
/* No interactive work for the hold time (tracked with no CPUs reserved too). */
bool	reserve_quiet(void);

#endif
