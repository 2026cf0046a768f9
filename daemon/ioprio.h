#ifndef CPD_IOPRIO_H
#define CPD_IOPRIO_H

#include <stdbool.h>

/*
 * I/O priorities (engine.bulk_ioprio): what the block layer's scheduler
 * goes by when it chooses among reads and writes waiting for a disk
 * (bfq honours class and level, mq-deadline only the class). Work for an
 * interactive job goes at best-effort level 0, the highest below the
 * real-time class; everything else at the configured bulk priority.
 */

/* The priority for a job's work (an ioprio value); 0: none set. */
int	ioprio_of(bool interactive);
/* Give the calling thread that priority; a system call only on a change. */
void	ioprio_enter(bool interactive);
/* Set the event loop's: at start-up and on reload, from the loop thread. */
void	ioprio_loop(void);
/* For GetStatus and the log: "best-effort 7", "idle" or "none". */
const char *ioprio_name(int);

#endif
