/* Helpers shared by the sim unit tests: a device on a fake clock and one-line requests. */
#ifndef SIM_TEST_H
#define SIM_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/clock.h"
#include "sim/sim.h"
#include "sim/sim_int.h"

struct simt {
	struct clock_fake clk;
	struct sim_profile *p;
	struct sim_device *d;
	uint8_t buf[4096];
	uint16_t actual;
};

static inline struct simt *simt_new(const char *spec)
{
	struct simt *t = calloc(1, sizeof(*t));
	char err[256];
	assert_non_null(t);
	clock_fake_init(&t->clk);
	t->p = sim_profile_load(spec, PROFILE_DIR, err, sizeof(err));
	if (!t->p)
		fail_msg("profile %s: %s", spec, err);
	t->d = sim_device_new(t->p, &t->clk.clock, err, sizeof(err));
	if (!t->d)
		fail_msg("device %s: %s", spec, err);
	return t;
}

static inline void simt_free(struct simt *t)
{
	if (!t)
		return;
	sim_device_free(t->d);
	sim_profile_free(t->p);
	free(t);
}

static inline enum sim_result simt_req(struct simt *t, uint8_t rt, uint8_t req, uint16_t value, uint16_t len,
				       const void *out)
{
	struct usb_setup s = {rt, req, value, 0, len};
	if (out && len)
		memcpy(t->buf, out, len);
	return sim_control(t->d, &s, t->buf, &t->actual);
}

static inline enum sim_result simt_dnload(struct simt *t, uint16_t block, const void *data, uint16_t len)
{
	return simt_req(t, USB_RT_CLASS_OUT_INTERFACE, DFU_DNLOAD, block, len, data);
}

static inline enum sim_result simt_upload(struct simt *t, uint16_t block, uint16_t len)
{
	return simt_req(t, USB_RT_CLASS_IN_INTERFACE, DFU_UPLOAD, block, len, NULL);
}

/* GETSTATUS; returns the state byte (or -1 when not answered), status and poll through pointers. */
static inline int simt_status(struct simt *t, uint8_t *status, uint32_t *poll)
{
	if (simt_req(t, USB_RT_CLASS_IN_INTERFACE, DFU_GETSTATUS, 0, 6, NULL) != SIM_OK || t->actual != 6)
		return -1;
	if (status)
		*status = t->buf[0];
	if (poll)
		*poll = (uint32_t)t->buf[1] | (uint32_t)t->buf[2] << 8 | (uint32_t)t->buf[3] << 16;
	return t->buf[4];
}

static inline enum sim_result simt_simple(struct simt *t, uint8_t req)
{
	return simt_req(t, USB_RT_CLASS_OUT_INTERFACE, req, 0, 0, NULL);
}

static inline void simt_advance_ms(struct simt *t, uint64_t ms)
{
	t->clk.now += ms * 1000;
}

/* A DfuSe command (or data block) run to completion as a host does it: DNLOAD, then GETSTATUS
 * until not busy, waiting bwPollTimeout. Returns the final state; *status the final status. */
static inline int simt_run(struct simt *t, uint16_t block, const void *data, uint16_t len, uint8_t *status)
{
	if (simt_dnload(t, block, data, len) != SIM_OK)
		return -2;
	uint32_t poll = 0;
	int st = simt_status(t, status, &poll);
	for (int i = 0; st == dfuDNBUSY && i < 10000; i++) {
		simt_advance_ms(t, poll ? poll : 1);
		if (sim_link_state(t->d) != SIM_LINK_UP)
			return -3;
		st = simt_status(t, status, &poll);
	}
	return st;
}

static inline int simt_set_address(struct simt *t, uint32_t addr, uint8_t *status)
{
	uint8_t c[5] = {DFUSE_CMD_SET_ADDRESS, (uint8_t)addr, (uint8_t)(addr >> 8), (uint8_t)(addr >> 16),
			(uint8_t)(addr >> 24)};
	return simt_run(t, 0, c, 5, status);
}

static inline int simt_erase(struct simt *t, uint32_t addr, uint8_t *status)
{
	uint8_t c[5] = {DFUSE_CMD_ERASE, (uint8_t)addr, (uint8_t)(addr >> 8), (uint8_t)(addr >> 16),
			(uint8_t)(addr >> 24)};
	return simt_run(t, 0, c, 5, status);
}

/* Set address, then one data block (block 2), as dfu-util does. */
static inline int simt_write(struct simt *t, uint32_t addr, const void *data, uint16_t len, uint8_t *status)
{
	int st = simt_set_address(t, addr, status);
	if (st != dfuDNLOAD_IDLE)
		return st;
	return simt_run(t, 2, data, len, status);
}

/* Abort, set address, abort, upload block 2 (the CubeProgrammer sequence, protocol.md 6). */
static inline enum sim_result simt_read(struct simt *t, uint32_t addr, uint16_t len)
{
	simt_simple(t, DFU_ABORT);
	if (simt_set_address(t, addr, NULL) != dfuDNLOAD_IDLE)
		return SIM_STALL;
	simt_simple(t, DFU_ABORT);
	return simt_upload(t, 2, len);
}

#endif
