/*
 * engine.reserved_cpus (reserve.c): which CPUs bulk work keeps to while
 * confined, that nothing is confined until interactive work comes or
 * when the option is 0, and that the confinement is lifted a second
 * after the last interactive work, not before; reserve_quiet says the
 * same, with the option 0 too. Where bulk work runs is seen from inside
 * a pool thread doing it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <unistd.h>

#include "config.h"
#include "cred.h"
#include "engine.h"
#include "loop.h"
#include "reserve.h"

static struct config	conf;
static cpu_set_t	all;

static int
setup(void **state)
{
	config_defaults(&conf);
	conf.engine.type = ENGINE_FALLBACK;	/* the pool places itself: no io-wq to move */
	cpd_conf = &conf;
	assert_int_equal(sched_getaffinity(0, sizeof(all), &all), 0);
	assert_int_equal(loop_init(&conf), 0);
	cred_init(false);
	assert_int_equal(engine_init(&conf), 0);
	return 0;
}

static long
record_affinity(struct eop *op)
{
	return sched_getaffinity(0, sizeof(cpu_set_t), op->buf);
}

static bool	recorded;

static void
recorded_done(struct eop *op, int res)
{
	assert_int_equal(res, 0);
	recorded = true;
}

static bool
is_recorded(void)
{
	return recorded;
}

static void
no_tick(void)
{
}

/* Where the pool's threads do bulk work now. */
static void
bulk_cpus(cpu_set_t *out)
{
	struct eop op = { .type = EOP_CALL, .run = record_affinity, .done = recorded_done,
	    .buf = out };

	recorded = false;
	engine_submit(&op);
	loop_run(is_recorded, no_tick, 50);
}

static bool
bulk_everywhere(void)
{
	cpu_set_t s;

	bulk_cpus(&s);
	return CPU_EQUAL(&s, &all);
}

static int
first_cpu(const cpu_set_t *s)
{
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, s))
			return c;
	return -1;
}

/* All but the first CPU; nothing before interactive work comes. */
static void
test_one_reserved(void **state)
{
	cpu_set_t	 b, want;

	if (CPU_COUNT(&all) < 2)
		skip();
	conf.engine.reserved_cpus = 1;
	reserve_init(&conf);
	assert_true(bulk_everywhere());
	reserve_touch();
	bulk_cpus(&b);
	want = all;
	CPU_CLR(first_cpu(&all), &want);
	assert_true(CPU_EQUAL(&b, &want));
	reserve_tick();				/* too early to lift */
	bulk_cpus(&b);
	assert_true(CPU_EQUAL(&b, &want));
	usleep(1100 * 1000);
	reserve_tick();
	assert_true(bulk_everywhere());
}

/* Never all of them: bulk work keeps the last CPU. */
static void
test_too_many(void **state)
{
	cpu_set_t	 b;

	if (CPU_COUNT(&all) < 2)
		skip();
	conf.engine.reserved_cpus = 1024;
	reserve_init(&conf);
	reserve_touch();
	bulk_cpus(&b);
	assert_int_equal(CPU_COUNT(&b), 1);
	for (int c = CPU_SETSIZE - 1; c >= 0; c--)
		if (CPU_ISSET(c, &all)) {
			assert_true(CPU_ISSET(c, &b));
			break;
		}
	usleep(1100 * 1000);
	reserve_tick();				/* lifted for the next test */
}

/* Nothing confined; interactive work is still noticed (reserve_quiet). */
static void
test_off(void **state)
{
	conf.engine.reserved_cpus = 0;
	reserve_init(&conf);
	reserve_touch();
	assert_true(bulk_everywhere());
	assert_false(reserve_quiet());
	reserve_tick();
	assert_true(bulk_everywhere());
	usleep(1100 * 1000);
	assert_true(reserve_quiet());
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_reserved),
		cmocka_unit_test(test_too_many),
		cmocka_unit_test(test_off),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
