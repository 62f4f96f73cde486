/*
 * What the proto tests share: an ops session on the in-process emulator with a fake clock, so a
 * test's time is virtual and exact. A test that needs other options (retries, a stop flag) edits
 * the result of harness_opts() before harness_open().
 */
#ifndef STM32DFU_TESTS_PROTO_HARNESS_H
#define STM32DFU_TESTS_PROTO_HARNESS_H

#include <stdint.h>
#include <stdlib.h>

#include "core/clock.h"
#include "core/err.h"
#include "image/image.h"
#include "ops/ops.h"
#include "sim/sim.h"
#include "usb/tp_sim.h"

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

/* A one-segment image of len pseudo-random bytes at addr (the same bytes for the same seed). */
static inline struct img *harness_random_image(uint32_t seed, uint32_t addr, size_t len)
{
	uint8_t *buf = malloc(len);
	assert_non_null(buf);
	uint32_t x = seed;
	for (size_t i = 0; i < len; i++) {
		x = x * 1664525u + 1013904223u;
		buf[i] = (uint8_t)(x >> 24);
	}
	struct img *img = img_new();
	assert_int_equal(img_add(img, 0, addr, buf, len, NULL), 0);
	free(buf);
	return img;
}

/* The emulated chip holds every byte of img: read through the emulator's back door, not our read path. */
static inline void harness_assert_chip_holds(struct ops_session *s, const struct img *img)
{
	struct sim_device *d = tp_sim_device(s->tp);
	assert_non_null(d);
	for (size_t i = 0; i < img->n_segs; i++) {
		uint8_t *buf = malloc(img->segs[i].len);
		assert_non_null(buf);
		assert_true(sim_mem_read(d, img->segs[i].addr, buf, img->segs[i].len));
		assert_memory_equal(buf, img->segs[i].data, img->segs[i].len);
		free(buf);
	}
}

#endif
