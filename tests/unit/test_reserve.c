/*
 * engine.reserved_cpus (reserve.c): which CPUs bulk work keeps to while
 * confined, that nothing is confined until interactive work comes or
 * when the option is 0, and that the confinement is lifted a second
 * after the last interactive work, not before; reserve_quiet says the
 * same, with the option 0 too.
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
	const cpu_set_t	*b;
	cpu_set_t	 want;

	if (CPU_COUNT(&all) < 2)
		skip();
	conf.engine.reserved_cpus = 1;
	reserve_init(&conf);
	assert_null(reserve_bulk_cpus());
	assert_true(CPU_EQUAL(reserve_all_cpus(), &all));
	reserve_touch();
	assert_non_null(b = reserve_bulk_cpus());
	want = all;
	CPU_CLR(first_cpu(&all), &want);
	assert_true(CPU_EQUAL(b, &want));
	reserve_tick();				/* too early to lift */
	assert_non_null(reserve_bulk_cpus());
	usleep(1100 * 1000);
	reserve_tick();
	assert_null(reserve_bulk_cpus());
}

/* Never all of them: bulk work keeps the last CPU. */
static void
test_too_many(void **state)
{
	const cpu_set_t	*b;

	if (CPU_COUNT(&all) < 2)
		skip();
	conf.engine.reserved_cpus = 1024;
	reserve_init(&conf);
	reserve_touch();
	assert_non_null(b = reserve_bulk_cpus());
	assert_int_equal(CPU_COUNT(b), 1);
	for (int c = CPU_SETSIZE - 1; c >= 0; c--)
		if (CPU_ISSET(c, &all)) {
			assert_true(CPU_ISSET(c, b));
			break;
		}
}

/* Nothing confined; interactive work is still noticed (reserve_quiet). */
static void
test_off(void **state)
{
	conf.engine.reserved_cpus = 0;
	reserve_init(&conf);
	reserve_touch();
	assert_null(reserve_bulk_cpus());
	assert_false(reserve_quiet());
	reserve_tick();
	assert_null(reserve_bulk_cpus());
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
