/* The engine in use: io_uring chains, or the fallback thread pool. */
#include "engine.h"
#include "loop.h"

static const struct engine	*engine;
struct engine_stats		 engine_stats;

int
engine_init(const struct config *conf)
{
	int rc;

	engine = loop_info()->uring ? &engine_uring : &engine_thread;
	if (engine != &engine_thread && (rc = engine_thread.init(conf)) < 0)
		return rc;
	return engine->init(conf);
}

void
engine_submit(struct eop *op)
{
	engine_stats.ops_submitted++;
	if (eop_threaded(op->type))
		engine_thread.submit(op);
	else
		engine->submit(op);
}

void
engine_reconfigure(const struct config *conf)
{
	engine->reconfigure(conf);
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

const char *
engine_method(uint64_t size)
{
	return engine->method(size);
}
