/*
 * The engine in use: io_uring chains, or the fallback thread pool. Every
 * operation of both passes through engine_submit(), which is where
 * injected faults (cpd --fault, a testing aid) strike.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"
#include "engine_backend.h"
#include "cred.h"
#include "ioprio.h"
#include "log.h"
#include "loop.h"

static const struct engine	*engine;

int
engine_init(const struct config *conf)
{
	int rc;

	engine = loop_info()->uring ? &engine_uring : &engine_thread;
	if (engine != &engine_thread && (rc = engine_thread.init(conf)) < 0)
		return rc;
	if ((rc = engine->init(conf)) == 0)
		ioprio_loop();	/* io-wq's workers share it: see ioprio.c */
	return rc;
}

/*
 * Where op goes: the pool does what io_uring cannot (a mapped copy's
 * chunk needs an mmap before its read and a munmap after), and an interactive
 * job's operations that io_uring would hand to io-wq anyway (all but a
 * plain open, which it tries inline, and the data path). In io-wq they
 * would queue behind bulk chunks and run at worker_nice; the pool takes
 * interactive work first, at nice 0. With I/O priorities its data path
 * too: io-wq's workers read at the bulk priority (ioprio.c), a pool
 * thread at the interactive one.
 */
static bool
engine_to_pool(const struct eop *op)
{
	if (eop_threaded(op->type) || (op->type == EOP_COPY && (op->mapped || op->sparse != SPARSE_AUTO)))
		return true;
	if (!op->interactive)
		return false;
	switch (op->type) {
	case EOP_OPEN:
		return (op->flags & (O_CREAT | O_TRUNC | __O_TMPFILE)) != 0 || op->uncached;
	case EOP_COPY:
		return ioprio_of(true) != ioprio_of(false);
	case EOP_WRITEBACK:
		return false;
	default:
		return true;
	}
}

void
engine_submit(struct eop *op)
{
	int err;

	engine_stats.ops_submitted++;
	loop_submit_enter();
	if ((err = eop_fault(op->type)) < 0)
		eop_post(op, err);
	else if (engine_to_pool(op))
		engine_thread.submit(op);
	else
		engine->submit(op);
	loop_submit_leave();
}

long
engine_run(struct eop *op)
{
	int err;

	if ((err = eop_fault(op->type)) < 0)
		return err;
	return engine_thread.run(op);
}

static long
engine_close_run(struct eop *op)
{
	close(op->fd);
	return 0;
}

static void
engine_close_done(struct eop *op, int res)
{
	if (op->cred)
		cred_unref((struct cred *)op->cred);
	free(op);
}

void
engine_close(int fd, struct cred *owner)
{
	struct eop *op = calloc(1, sizeof(*op));

	if (op == NULL) {
		close(fd);
		return;
	}
	/* No fault to inject; the owner's credentials, and its share. */
	if ((op->cred = owner) != NULL)
		cred_ref(owner);
	op->type = EOP_CALL;
	op->placeless = true;
	op->fd = fd;
	op->run = engine_close_run;
	op->done = engine_close_done;
	engine_thread.submit(op);
}

int
engine_confine(const cpu_set_t *bulk, const cpu_set_t *other)
{
	engine_thread_confine(bulk, other);
	return engine->confine ? engine->confine(bulk) : 0;
}

void
engine_reconfigure(const struct config *conf)
{
	engine->reconfigure(conf);
	ioprio_loop();
}

void
engine_shutdown(void)
{
	if (engine && engine != &engine_thread)
		engine->shutdown();
	engine_thread.shutdown();
}

void
engine_tick(void)
{
	if (engine->tick)
		engine->tick();
}

const char *
engine_name(void)
{
	return engine->name;
}

enum method
engine_method(uint64_t size)
{
	return engine->method(size);
}
