/*
 * Shared by the fuzz harness (fuzz_varlink.c) and its stand-ins for the
 * daemon's control, job, loop, engine and cred modules (stubs.c).
 */
#ifndef CPD_FUZZ_H
#define CPD_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cpd-protocol.h"

struct call;

/*
 * The fake control connection: the state control.c keeps for a client,
 * minus the socket. Replies are checked and counted, not sent.
 */
struct conn {
	struct msgbuf	 in;
	struct call	*call;		/* the open call */
	bool		 eof;		/* the input is all fed */
	bool		 closing;
	bool		 dispatching;
	unsigned	 calls;		/* calls begun */
	unsigned	 replies;	/* replies sent */
};

/*
 * How the fake world behaves for one input, from its first byte (flags)
 * and the high bit of its second byte (FUZZ_FALLBACK, shifted in as 0x100).
 */
#define FUZZ_FOREIGN		0x01	/* the caller is refused io.cpd.Manager */
#define FUZZ_ROOT		0x02	/* the caller is uid 0 (else 1000) */
#define FUZZ_SUBMIT_MASK	0x0c	/* job_submit: 0 ok, else an error: */
#define FUZZ_SUBMIT_SHUTDOWN	0x04	/*   -ESHUTDOWN */
#define FUZZ_SUBMIT_USERS	0x08	/*   -EUSERS */
#define FUZZ_SUBMIT_NOMEM	0x0c	/*   -ENOMEM */
#define FUZZ_NEW_DONE		0x10	/* submitted jobs are already finished */
#define FUZZ_END_NOW		0x20	/* watched jobs finish right after the call */
#define FUZZ_PROGRESS		0x40	/* stream an update to watchers between pieces */
#define FUZZ_ABORT		0x80	/* at the end, close with the call open */
#define FUZZ_FALLBACK		0x100	/* the loop runs without io_uring */

/* A new fake world: configuration, caller, a few jobs of various owners. */
void	fuzz_setup(unsigned flags);
/* Run the connection's complete messages until a call stays open. */
void	fuzz_conn_process(struct conn *);
/* A progress update to every watcher that asked for "more". */
void	fuzz_progress(void);
/* Finish every job somebody watches (final replies); false if none. */
bool	fuzz_finish_watched(void);
/* Free everything; abort() on leaked or over-released references. */
void	fuzz_teardown(void);

#endif
