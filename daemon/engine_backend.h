#ifndef CPD_ENGINE_BACKEND_H
#define CPD_ENGINE_BACKEND_H

#include "engine.h"

/*
 * For the engine's backends (engine_uring.c, engine_thread.c) and
 * engine.c only, all in eop.c: the two ways a result reaches an
 * operation's owner. Both keep the completion rule (engine.h).
 *
 * eop_complete(): a result that arrived from the kernel or a pool
 * thread, delivered on the loop thread (a CQE, a posted result). Checks
 * that no submit call is on the stack, then calls done().
 *
 * eop_post(): a result known while the operation is being submitted
 * (it cannot even start: no memory, no lane, an injected fault; or it has
 * nothing to do: a zero-length copy). It is delivered later, from the
 * loop, as any other.
 */
void	eop_complete(struct eop *, int res);
void	eop_post(struct eop *, int res);
/* An injected fault for the operation being submitted now: -errno, or 0. */
int	eop_fault(enum eop_type);
/*
 * A testing aid (cpd --fault lane:N[:ERRNO]): -errno when the data lane
 * being set up now is to fail as if its pipe or buffer could not be
 * had, else 0.
 */
int	eop_fault_lane(void);
/* EOP_META's work, in a pool thread (engine_meta.c): 0 or -errno. */
int	engine_meta_apply(struct eop *);
/* The pool's share of engine_confine(): where its threads do bulk work. */
void	engine_thread_confine(const cpu_set_t *bulk, const cpu_set_t *other);

#endif
