/* The engine in use: io_uring chains, or the fallback thread pool. */
#include "engine.h"
#include "loop.h"

static const struct engine	*engine;
struct engine_stats		 engine_stats;

int
engine_init(const struct config *conf)
{
	engine = loop_info()->uring ? &engine_uring : &engine_thread;
	return engine->init(conf);
}

void
engine_submit(struct eop *op)
{
	engine_stats.ops_submitted++;
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
	if (engine)
		engine->shutdown();
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
