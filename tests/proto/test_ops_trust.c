/*
 * No false success (issue 11): leave jumps where the application is and reports only what the bus
 * showed; the emulated chip keeps its address pointer between sessions, as a powered chip does.
 * Checked against the emulator's own state (link, memory) and the USB transcript, not our reports.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/rd.h"
#include "dfu/dfu.h"
#include "dfu/dfuse.h"
#include "image/image.h"
#include "ops/ops.h"
#include "sim/sim.h"
#include "usb/tp_sim.h"
#include "usb/tp_trace.h"
#include "harness.h"

#define KIB 1024u

static struct clock_fake fake;

static struct ops_session *open_sim(const char *spec)
{
	struct ops_open_opts o = harness_opts(spec, &fake);
	return harness_open(&o);
}

/* len bytes at addr; with a vector table (initial MSP at the top of the F7's 320 KiB SRAM, reset
 * vector in flash with the Thumb bit) or without one (filler that is neither) */
static struct img *app_image(uint32_t addr, size_t len, bool runnable)
{
	uint8_t *buf = malloc(len);
	memset(buf, 0x5A, len);
	if (runnable) {
		put_le32(buf, 0x20050000u);
		put_le32(buf + 4, addr + 0x199u);
	}
	struct img *img = img_new();
	assert_int_equal(img_add(img, 0, addr, buf, len, NULL), 0);
	free(buf);
	return img;
}

/* The address of the last Set Address Pointer before the zero-length DNLOAD, or 0 if none. */
static uint32_t pointer_before_leave(struct ops_session *s)
{
	size_t n;
	const struct tp_rec *r = tp_trace_records(s->tp, &n);
	size_t z = n;
	for (size_t i = 0; i < n; i++)
		if (r[i].cls == TP_REQ_DNLOAD_ZERO)
			z = i;
	assert_true(z < n);
	for (size_t i = z; i-- > 0;) {
		if (r[i].cls == TP_REQ_SET_ADDRESS)
			return get_le32(r[i].data + 1);
		/* nothing may move the pointer between the Set Address and the leave */
		assert_true(r[i].cls == TP_REQ_GETSTATUS || r[i].cls == TP_REQ_SET_ALT || r[i].cls == TP_REQ_ABORT);
	}
	return 0;
}

/* write --leave of a 40 KiB image: the verify reads sector 1 last, yet the jump goes to the image's
 * vector table at 0x08000000, and the chip really runs it (the model leaves the bus for good). */
static void test_write_leave_jumps_to_the_image(void **state)
{
	(void)state;
	struct ops_session *s = open_sim("f746,timing=1");
	struct img *img = app_image(0x08000000, 40 * KIB, true);
	struct ops_write_opts wo;
	ops_write_opts_init(&wo);
	wo.leave = true;
	struct ops_write_result r;
	tp_trace_forget(s->tp);
	assert_int_equal(ops_write(s, img, &wo, &r), 0);
	assert_true(r.left);
	assert_true(r.leave.gone);
	assert_true(ops_leave_vector_ok(&r.leave));
	assert_int_equal(pointer_before_leave(s), 0x08000000);
	assert_int_equal(sim_link_state(tp_sim_device(s->tp)), SIM_LINK_GONE);
	img_free(img);
	ops_close(s);
}

/* An image placed after a bootloader: the jump goes to its own lowest address. */
static void test_write_leave_uses_the_lowest_image_address(void **state)
{
	(void)state;
	struct ops_session *s = open_sim("f746,timing=0");
	struct img *img = app_image(0x08008000, 8 * KIB, true);
	struct ops_write_opts wo;
	ops_write_opts_init(&wo);
	wo.leave = true;
	struct ops_write_result r;
	assert_int_equal(ops_write(s, img, &wo, &r), 0);
	assert_int_equal(r.leave.addr, 0x08008000);
	assert_int_equal(pointer_before_leave(s), 0x08008000);
	assert_int_equal(sim_link_state(tp_sim_device(s->tp)), SIM_LINK_GONE);
	img_free(img);
	ops_close(s);
}

/* Counts requests of one class in the transcript. */
static size_t count_req(struct ops_session *s, enum tp_req_class cls)
{
	size_t n, k = 0;
	const struct tp_rec *r = tp_trace_records(s->tp, &n);
	for (size_t i = 0; i < n; i++)
		k += r[i].cls == cls;
	return k;
}

/* issue 22 item 1: configuration data at 0x08004000, the application (vector table, entry point)
 * at 0x08008000: the ROM loads SP and PC at the address pointer (AN3156 §5.5), so the jump goes
 * to the application's table, not to the file's lowest address. */
static struct img *config_and_app(bool entry, bool boot_table)
{
	struct img *img = app_image(0x08008000, 8 * KIB, true);
	uint8_t cfg[1024];
	memset(cfg, 0x5A, sizeof cfg);
	assert_int_equal(img_add(img, 0, 0x08004000, cfg, sizeof cfg, NULL), 0);
	if (boot_table) { /* a bootloader of its own at the flash start */
		uint8_t boot[256];
		memset(boot, 0x11, sizeof boot);
		put_le32(boot, 0x20010000u);
		put_le32(boot + 4, 0x08000101u);
		assert_int_equal(img_add(img, 0, 0x08000000, boot, sizeof boot, NULL), 0);
	}
	img->has_entry = entry;
	img->entry = 0x08008199u;
	return img;
}

static void write_leave_expect(struct img *img, uint32_t at, enum ops_leave_rule rule)
{
	struct ops_session *s = open_sim("f746,timing=0");
	struct ops_write_opts wo;
	ops_write_opts_init(&wo);
	wo.leave = true;
	struct ops_write_result r;
	assert_int_equal(ops_write(s, img, &wo, &r), 0);
	assert_int_equal(r.leave.addr, at);
	assert_int_equal(r.leave.rule, rule);
	assert_int_equal(pointer_before_leave(s), at);
	assert_true(r.leave.gone);
	assert_int_equal(sim_link_state(tp_sim_device(s->tp)), SIM_LINK_GONE);
	img_free(img);
	ops_close(s);
}

static void test_write_leave_goes_to_the_entry_table(void **state)
{
	(void)state;
	write_leave_expect(config_and_app(true, false), 0x08008000, OPS_LEAVE_ENTRY);
}

/* a runnable table lower down (a bootloader in the same file) loses to the entry point's */
static void test_write_leave_entry_beats_the_lowest_table(void **state)
{
	(void)state;
	write_leave_expect(config_and_app(true, true), 0x08008000, OPS_LEAVE_ENTRY);
}

/* no entry point (a .dfu, a .bin): the lowest address holding a vector table, data below it skipped */
static void test_write_leave_without_entry_takes_the_lowest_table(void **state)
{
	(void)state;
	write_leave_expect(config_and_app(false, false), 0x08008000, OPS_LEAVE_FIRST_TABLE);
}

/* no vector table in the file: refused before anything is sent to the flash */
static void test_write_leave_without_a_table_is_refused_first(void **state)
{
	(void)state;
	struct ops_session *s = open_sim("f746,timing=0");
	struct img *img = app_image(0x08004000, 4 * KIB, false);
	struct ops_write_opts wo;
	ops_write_opts_init(&wo);
	wo.leave = true;
	struct ops_write_result r;
	tp_trace_forget(s->tp);
	assert_int_equal(ops_write(s, img, &wo, &r), STM32DFU_E_USAGE);
	assert_non_null(strstr(s->err.hint, "leave ADDR"));
	assert_int_equal(count_req(s, TP_REQ_ERASE) + count_req(s, TP_REQ_DNLOAD_DATA) + count_req(s, TP_REQ_DNLOAD_ZERO), 0);
	img_free(img);
	ops_close(s);
}

/* issue 22 item 2: another program sent Set Address and the zero-length DNLOAD, then exited: the
 * chip waits in dfuMANIFEST-SYNC and jumps at the next GETSTATUS (AN3156 §5.5). Opening a session
 * must ABORT that leave, not run it: the chip stays on the bus, in dfuIDLE. */
static void test_session_start_drops_a_pending_leave(void **state)
{
	(void)state;
	clock_fake_init(&fake);
	struct tp_sim_opts so = {PROFILE_DIR, &fake.clock, false};
	struct tp *tp = NULL;
	struct err e;
	err_clear(&e);
	assert_int_equal(tp_sim_open("f746,timing=0", &so, &tp, &e), 0);
	struct sim_device *dev = tp_sim_device(tp);
	uint8_t vec[8];
	put_le32(vec, 0x20050000u);
	put_le32(vec + 4, 0x08000199u);
	assert_true(sim_mem_write(dev, 0x08000000, vec, sizeof vec)); /* a runnable application */
	struct dfu_dev *d = NULL;
	assert_int_equal(dfu_open(tp, &d, &e), 0);
	assert_int_equal(dfu_session_start(d, NULL), 0);
	assert_int_equal(dfu_set_alt(d, 0), 0);
	assert_int_equal(dfuse_set_address(d, 0x08000000), 0);
	assert_int_equal(dfu_dnload(d, 2, NULL, 0), 0); /* ... and that program exits here */
	dfu_free(d);
	assert_int_equal(dfu_open(tp, &d, &e), 0);
	struct dfu_getstatus first;
	assert_int_equal(dfu_session_start(d, &first), 0);
	assert_int_equal(first.bState, dfuMANIFEST_SYNC);
	assert_int_equal(sim_link_state(dev), SIM_LINK_UP);
	uint8_t st = 0xFF;
	assert_int_equal(dfu_get_state(d, &st), 0);
	assert_int_equal(st, dfuIDLE);
	dfu_free(d);
	tp_close(tp);
}

/* leave after a read elsewhere (what info does): the pointer is set to the flash alt's start. */
static void test_leave_after_a_read_sets_the_flash_start(void **state)
{
	(void)state;
	struct ops_session *s = open_sim("f746,timing=0");
	struct img *img = app_image(0x08000000, 2 * KIB, true);
	struct ops_write_opts wo;
	ops_write_opts_init(&wo);
	struct ops_write_result wr;
	assert_int_equal(ops_write(s, img, &wo, &wr), 0);
	uint8_t uid[12];
	assert_int_equal(ops_read(s, -1, 0x1FF0F420, uid, sizeof uid, false), 0);
	struct ops_leave_result r;
	assert_int_equal(ops_leave(s, false, 0, &r), 0);
	assert_int_equal(r.addr, 0x08000000);
	assert_int_equal(pointer_before_leave(s), 0x08000000);
	assert_true(r.gone);
	assert_int_equal(r.sp, 0x20050000);
	assert_int_equal(r.reset, 0x08000199);
	img_free(img);
	ops_close(s);
}

/* A jump to something that is not a vector table: the model resets into the bootloader; the host
 * sees the same UID come back and says the application did not start. */
static void test_leave_to_garbage_comes_back(void **state)
{
	(void)state;
	struct ops_session *s = open_sim("f746,timing=1");
	struct img *img = app_image(0x08000000, 40 * KIB, true);
	struct ops_write_opts wo;
	ops_write_opts_init(&wo);
	struct ops_write_result wr;
	assert_int_equal(ops_write(s, img, &wo, &wr), 0);
	struct ops_leave_result r;
	assert_int_equal(ops_leave(s, true, 0x08008000, &r), STM32DFU_E_NOT_STARTED);
	assert_false(r.gone);
	assert_true(r.vector_read);
	assert_false(r.sp_in_ram);
	assert_false(ops_leave_vector_ok(&r));
	assert_non_null(strstr(s->err.msg, "did not start"));
	assert_int_equal(sim_link_state(tp_sim_device(s->tp)), SIM_LINK_UP); /* back, in DFU */
	/* the session is usable again: the chip answers as the bootloader */
	uint8_t b[8];
	assert_int_equal(ops_read(s, -1, 0x08000000, b, sizeof b, false), 0);
	assert_int_equal(get_le32(b), 0x20050000);
	img_free(img);
	ops_close(s);
}

/* An erased chip: nothing to run, and the host said so before leaving. */
static void test_leave_blank_flash_warns_and_fails(void **state)
{
	(void)state;
	struct ops_session *s = open_sim("f746,timing=0");
	assert_int_equal(ops_mass_erase(s), 0);
	struct ops_leave_result r;
	assert_int_equal(ops_leave(s, false, 0, &r), STM32DFU_E_NOT_STARTED);
	assert_int_equal(r.sp, 0xFFFFFFFF);
	assert_false(r.sp_in_ram);
	assert_false(r.reset_in_code);
	ops_close(s);
}

/* A reset vector without the Thumb bit faults on its first instruction (ARMv7-M: EPSR.T = 0,
 * INVSTATE): write --leave finds no vector table in such a file and refuses before writing; told
 * the address, the host warns, and the model does not run it either. */
static void test_leave_without_thumb_bit(void **state)
{
	(void)state;
	struct ops_session *s = open_sim("f746,timing=0");
	struct img *img = app_image(0x08000000, 2 * KIB, true);
	put_le32(img->segs[0].data + 4, 0x08000198u);
	struct ops_write_opts wo;
	ops_write_opts_init(&wo);
	wo.leave = true;
	struct ops_write_result r;
	assert_int_equal(ops_write(s, img, &wo, &r), STM32DFU_E_USAGE);
	wo.have_leave_addr = true;
	wo.leave_addr = 0x08000000;
	assert_int_equal(ops_write(s, img, &wo, &r), STM32DFU_E_NOT_STARTED);
	assert_true(r.leave.reset_in_code);
	assert_false(r.leave.reset_thumb);
	img_free(img);
	ops_close(s);
}

/* The emulated chip keeps its DfuSe address pointer between sessions (the state file), as a
 * powered chip does: a bare leave (no Set Address, as old hosts sent it) after a session that
 * read the system memory jumps there, and the chip comes back. */
static void test_sim_keeps_the_pointer_between_sessions(void **state)
{
	(void)state;
	char spec[256], path[128];
	snprintf(path, sizeof path, "/tmp/ops-trust-%ld.state", (long)getpid());
	remove(path);
	snprintf(spec, sizeof spec, "f746,timing=0,state=%s", path);
	struct ops_session *s = open_sim(spec);
	struct img *img = app_image(0x08000000, 2 * KIB, true);
	struct ops_write_opts wo;
	ops_write_opts_init(&wo);
	struct ops_write_result wr;
	assert_int_equal(ops_write(s, img, &wo, &wr), 0);
	uint8_t b[16];
	assert_int_equal(ops_read(s, -1, 0x1FF0F420, b, 12, false), 0);
	ops_close(s);
	/* session 2: the raw leave request, no pointer set in this session */
	s = open_sim(spec);
	assert_true(dfuse_leave(s->dfu, false, 0) >= 0);
	assert_int_equal(sim_link_state(tp_sim_device(s->tp)), SIM_LINK_RESETTING);
	ops_close(s);
	/* session 3: after that reset the pointer is the default again, and the same request runs
	 * the application at 0x08000000 */
	s = open_sim(spec);
	assert_true(dfuse_leave(s->dfu, false, 0) >= 0);
	assert_int_equal(sim_link_state(tp_sim_device(s->tp)), SIM_LINK_GONE);
	ops_close(s);
	remove(path);
	img_free(img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_leave_jumps_to_the_image),
		cmocka_unit_test(test_write_leave_uses_the_lowest_image_address),
		cmocka_unit_test(test_write_leave_goes_to_the_entry_table),
		cmocka_unit_test(test_write_leave_entry_beats_the_lowest_table),
		cmocka_unit_test(test_write_leave_without_entry_takes_the_lowest_table),
		cmocka_unit_test(test_write_leave_without_a_table_is_refused_first),
		cmocka_unit_test(test_session_start_drops_a_pending_leave),
		cmocka_unit_test(test_leave_after_a_read_sets_the_flash_start),
		cmocka_unit_test(test_leave_to_garbage_comes_back),
		cmocka_unit_test(test_leave_blank_flash_warns_and_fails),
		cmocka_unit_test(test_leave_without_thumb_bit),
		cmocka_unit_test(test_sim_keeps_the_pointer_between_sessions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
