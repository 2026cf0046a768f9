/*
 * For unit tests that run operations for real: a scratch directory
 * (fixture_dir), the event loop and an engine, io_uring's or
 * (CPD_TEST_ENGINE=fallback) the pool's, set up with conf (its defaults,
 * 1 MiB chunks); fixture_teardown() takes all of it down, as a cmocka
 * group teardown. Header-only: each test is one file (Makefile).
 */
#ifndef CPD_ENGINE_FIXTURE_H
#define CPD_ENGINE_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "cred.h"
#include "engine.h"
#include "loop.h"

static char	fixture_dir[64];

static void
fixture_up(struct config *conf, const char *name)
{
	config_defaults(conf);
	conf->engine.chunk_size = 1 << 20;
	if (getenv("CPD_TEST_ENGINE") && strcmp(getenv("CPD_TEST_ENGINE"), "fallback") == 0)
		conf->engine.type = ENGINE_FALLBACK;
	cpd_conf = conf;
	snprintf(fixture_dir, sizeof(fixture_dir), "/tmp/cpd-unit-%s.XXXXXX", name);
	assert_non_null(mkdtemp(fixture_dir));
	assert_int_equal(loop_init(conf), 0);
	cred_init(false);
	assert_int_equal(engine_init(conf), 0);
}

static int
fixture_teardown(void **state)
{
	char cmd[128];

	engine_shutdown();
	loop_free();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fixture_dir);
	return system(cmd);
}

#endif
