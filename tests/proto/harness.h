/*
 * What the proto tests share: an ops session on the in-process emulator with a fake clock, so a
 * test's time is virtual and exact. A test that needs other options (retries, a stop flag) edits
 * the result of harness_opts() before harness_open().
 */
#ifndef STM32DFU_TESTS_PROTO_HARNESS_H
#define STM32DFU_TESTS_PROTO_HARNESS_H

#include "core/clock.h"
#include "core/err.h"
#include "ops/ops.h"

static inline struct ops_open_opts harness_opts(const char *spec, struct clock_fake *fake)
{
	clock_fake_init(fake);
	struct ops_open_opts o;
	ops_open_opts_init(&o);
	o.sim_spec = spec;
	o.profile_dir = PROFILE_DIR;
	o.clock = &fake->clock;
	return o;
}

/* Opens the session or fails the test with the error. */
static inline struct ops_session *harness_open(const struct ops_open_opts *o)
{
	struct ops_session *s = NULL;
	struct err e;
	err_clear(&e);
	if (ops_open(o, &s, &e))
		fail_msg("ops_open %s: %s", o->sim_spec, e.msg);
	return s;
}

#endif
