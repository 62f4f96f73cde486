/*
 * The write operation against the in-process emulator, with the USB transcript as evidence:
 * a 1 MiB image lands byte-exact (checked through the emulator's back door, not our read path);
 * a second write erases and programs nothing; one changed byte rewrites exactly one sector;
 * a write-protected sector is caught by verify and named; every program run is one Set Address
 * followed by consecutive blocks.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "image/image.h"
#include "ops/ops.h"
#include "ops/session.h"
#include "serial/ser_sim.h"
#include "sim/sim.h"
#include "sim/sim_uart.h"
#include "usb/tp_sim.h"
#include "usb/tp_trace.h"
#include "harness.h"

#define MIB (1u << 20)

static struct clock_fake fake;

static struct ops_session *open_sim(const char *spec)
{
	struct ops_open_opts o = harness_opts(spec, &fake);
	return harness_open(&o);
}


/* Every program run: one SET_ADDRESS, then DNLOAD blocks 2, 3, 4... with nothing but status polls
 * between them. Returns the number of runs. */
static unsigned check_runs(struct ops_session *s, unsigned *blocks)
{
	size_t n;
	const struct tp_rec *r = tp_trace_records(s->tp, &n);
	unsigned runs = 0;
	*blocks = 0;
	for (size_t i = 0; i < n; i++) {
		if (r[i].cls != TP_REQ_DNLOAD_DATA)
			continue;
		/* find the command that started this block's run */
		size_t k = i;
		while (k > 0 && r[k - 1].cls != TP_REQ_SET_ADDRESS && r[k - 1].cls != TP_REQ_ERASE)
			k--;
		assert_true(k > 0);
		assert_int_equal(r[k - 1].cls, TP_REQ_SET_ADDRESS);
		/* blocks since that Set Address are numbered 2, 3, ... */
		uint16_t expect = 2;
		for (size_t j = k; j < i; j++)
			if (r[j].cls == TP_REQ_DNLOAD_DATA)
				expect++;
		assert_int_equal(r[i].setup.wValue, expect);
		if (expect == 2)
			runs++;
		(*blocks)++;
	}
	return runs;
}


static void test_write_1mib_then_again_then_one_byte(void **state)
{
	(void)state;
	struct ops_session *s = open_sim("f746,timing=1");
	struct img *img = harness_random_image(1, 0x08000000, MIB);
	struct ops_write_opts wo;
	ops_write_opts_init(&wo);
	struct ops_write_result r;

	tp_trace_forget(s->tp);
	uint64_t t0 = fake.now;
	assert_int_equal(ops_write(s, img, &wo, &r), 0);
	uint64_t write_us = fake.now - t0;
	harness_assert_chip_holds(s, img);
	assert_true(r.verified);
	assert_int_equal(r.sectors_erased, 8);
	assert_int_equal(r.bytes_programmed, MIB);
	assert_int_equal(tp_trace_count(s->tp, TP_REQ_ERASE), 8);
	unsigned blocks;
	assert_int_equal(check_runs(s, &blocks), 1);
	assert_int_equal(blocks, 512);
	print_message("1 MiB write at timing=1 (virtual time): %.1f s, %zu control transfers\n", (double)write_us / 1e6,
	              tp_trace_count(s->tp, TP_REQ_ANY));

	/* the same image again: read back, nothing erased, nothing programmed */
	tp_trace_forget(s->tp);
	assert_int_equal(ops_write(s, img, &wo, &r), 0);
	assert_int_equal(r.sectors_erased, 0);
	assert_int_equal(r.sectors_skipped, 8);
	assert_int_equal(r.bytes_programmed, 0);
	assert_int_equal(tp_trace_count(s->tp, TP_REQ_ERASE), 0);
	assert_int_equal(tp_trace_count(s->tp, TP_REQ_DNLOAD_DATA), 0);
	assert_int_equal(tp_trace_count(s->tp, TP_REQ_MASS_ERASE), 0);

	/* one byte in sector 5 changes: exactly that sector is erased and rewritten */
	img->segs[0].data[0x40000 + 1234] ^= 0xA5;
	tp_trace_forget(s->tp);
	assert_int_equal(ops_write(s, img, &wo, &r), 0);
	assert_int_equal(r.sectors_erased, 1);
	assert_int_equal(tp_trace_count(s->tp, TP_REQ_ERASE), 1);
	size_t n;
	const struct tp_rec *rec = tp_trace_records(s->tp, &n);
	for (size_t i = 0; i < n; i++)
		if (rec[i].cls == TP_REQ_ERASE)
			assert_int_equal(rec[i].data[1] | rec[i].data[2] << 8 | rec[i].data[3] << 16 |
			                     (uint32_t)rec[i].data[4] << 24,
			                 0x08040000);
	assert_int_equal(check_runs(s, &blocks), 1);
	assert_int_equal(blocks, 128); /* 256 KiB / 2048 */
	harness_assert_chip_holds(s, img);

	/* a byte in sector 1 and one in sector 2: the adjacent sectors are programmed and verified as
	 * one run each. Set Addresses: the read-back (1 MiB, one run), the program run, the verify
	 * run. Uploads: 512 for the read-back (once: the image covers every sector), 32 to verify. */
	img->segs[0].data[0x8000 + 7] ^= 0x11;
	img->segs[0].data[0x10000 + 9] ^= 0x22;
	tp_trace_forget(s->tp);
	assert_int_equal(ops_write(s, img, &wo, &r), 0);
	assert_int_equal(r.sectors_erased, 2);
	assert_int_equal(check_runs(s, &blocks), 1);
	assert_int_equal(blocks, 32);
	assert_int_equal(tp_trace_count(s->tp, TP_REQ_SET_ADDRESS), 3);
	assert_int_equal(tp_trace_count(s->tp, TP_REQ_UPLOAD_DATA), 512 + 32);
	assert_int_equal(s->counters.confirm_reads, 0);
	harness_assert_chip_holds(s, img);
	img_free(img);
	ops_close(s);
}

static void test_write_protected_sector_is_named(void **state)
{
	(void)state;
	struct ops_session *s = open_sim("f746,timing=0");
	struct sim_device *d = tp_sim_device(s->tp);
	/* nWRP bit 2 cleared in the F7 OB word at 0x1FFF0008 (value in the low half, complement high) */
	uint8_t w[4];
	assert_true(sim_mem_read(d, 0x1FFF0008, w, 4));
	uint16_t v = (uint16_t)(w[0] | w[1] << 8);
	v &= (uint16_t)~(1u << 2);
	uint16_t cpl = (uint16_t)~v;
	uint8_t nw[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)cpl, (uint8_t)(cpl >> 8)};
	assert_true(sim_mem_write(d, 0x1FFF0008, nw, 4));
	sim_power_cycle(d); /* option bytes load at reset */
	struct img *img = harness_random_image(7, 0x08000000, 0x20000); /* sectors 0-3 */
	struct ops_write_opts wo;
	ops_write_opts_init(&wo);
	struct ops_write_result r;
	int rc = ops_write(s, img, &wo, &r);
	assert_int_equal(rc, STM32DFU_E_PROTECTED);
	assert_int_equal(r.blocked_sector, 2);
	assert_non_null(strstr(s->err.msg, "sector 2"));
	assert_non_null(strstr(s->err.msg, "write-protected"));
	img_free(img);
	ops_close(s);
}

static void test_out_of_flash_is_refused_before_touching_the_chip(void **state)
{
	(void)state;
	struct ops_session *s = open_sim("f746,timing=0");
	uint8_t b[64] = {0};
	struct img *img = img_new();
	assert_int_equal(img_add(img, 0, 0x080FFFF0, b, sizeof b, NULL), 0);
	struct ops_write_opts wo;
	ops_write_opts_init(&wo);
	struct ops_write_result r;
	tp_trace_forget(s->tp);
	assert_int_equal(ops_write(s, img, &wo, &r), STM32DFU_E_RANGE);
	assert_int_equal(tp_trace_count(s->tp, TP_REQ_ERASE), 0);
	assert_int_equal(tp_trace_count(s->tp, TP_REQ_DNLOAD_DATA), 0);
	img_free(img);
	ops_close(s);
}

/* A blank F407 and an image of its whole 1 MiB: the plan erases every sector and keeps nothing,
 * and DS8626's one mass erase (16 s at x8) is faster than its 12 sector erases (16.8 s): one
 * DfuSe mass erase (DNLOAD 0x41 alone), no sector erase, and the chip holds the image. The
 * emulator charges the profile's t_mass_erase. */
static void test_full_flash_f407_is_mass_erased(void **state)
{
	(void)state;
	struct ops_session *s = open_sim("f407,timing=1");
	struct img *img = harness_random_image(23, 0x08000000, MIB);
	struct ops_write_opts wo;
	ops_write_opts_init(&wo);
	struct ops_write_result r;
	tp_trace_forget(s->tp);
	assert_int_equal(ops_write(s, img, &wo, &r), 0);
	assert_int_equal(tp_trace_count(s->tp, TP_REQ_MASS_ERASE), 1);
	assert_int_equal(tp_trace_count(s->tp, TP_REQ_ERASE), 0);
	assert_true(r.mass_erased);
	assert_int_equal(r.sectors_erased, 12);
	assert_true(r.verified);
	assert_true(r.erase.us >= 16000000u && r.erase.us < 16500000u);
	harness_assert_chip_holds(s, img);
	struct sim_stats st;
	sim_get_stats(tp_sim_device(s->tp), &st);
	assert_int_equal(st.mass_erases, 1);
	print_message("f407 full-flash write: erase %.2f s (one mass erase)\n", (double)r.erase.us / 1e6);
	img_free(img);
	ops_close(s);
}

/* The same image but for its last 16 bytes, with one of them holding data on the chip: that byte
 * must be kept, so the sectors are erased one by one (the last one's byte saved and written
 * back, as before); the same with those bytes erased keeps nothing: mass. */
static void test_kept_byte_means_sector_erases(void **state)
{
	(void)state;
	struct ops_session *s = open_sim("f407,timing=0");
	struct sim_device *d = tp_sim_device(s->tp);
	uint8_t k = 0x42;
	assert_true(sim_mem_write(d, 0x08000000 + MIB - 1, &k, 1));
	struct img *img = harness_random_image(24, 0x08000000, MIB - 16);
	struct ops_write_opts wo;
	ops_write_opts_init(&wo);
	struct ops_write_result r;
	tp_trace_forget(s->tp);
	assert_int_equal(ops_write(s, img, &wo, &r), 0);
	assert_int_equal(tp_trace_count(s->tp, TP_REQ_MASS_ERASE), 0);
	assert_int_equal(tp_trace_count(s->tp, TP_REQ_ERASE), 12);
	assert_false(r.mass_erased);
	assert_int_equal(r.preserved_bytes, 1);
	harness_assert_chip_holds(s, img);
	uint8_t back = 0;
	assert_true(sim_mem_read(d, 0x08000000 + MIB - 1, &back, 1));
	assert_int_equal(back, 0x42);
	img_free(img);

	/* the byte erased: nothing outside the image to keep */
	k = 0xFF;
	uint8_t blank[16];
	memset(blank, 0xFF, sizeof blank);
	assert_true(sim_mem_write(d, 0x08000000 + MIB - 16, blank, sizeof blank));
	img = harness_random_image(25, 0x08000000, MIB - 16);
	tp_trace_forget(s->tp);
	assert_int_equal(ops_write(s, img, &wo, &r), 0);
	assert_int_equal(tp_trace_count(s->tp, TP_REQ_MASS_ERASE), 1);
	assert_int_equal(tp_trace_count(s->tp, TP_REQ_ERASE), 0);
	assert_int_equal(r.preserved_bytes, 0);
	harness_assert_chip_holds(s, img);
	img_free(img);
	ops_close(s);
}

/* The F746's 8 sectors take 8.7 s to erase, its mass erase 16 s (DS10916): sectors. */
static void test_full_flash_f746_is_erased_by_sector(void **state)
{
	(void)state;
	struct ops_session *s = open_sim("f746,timing=0");
	struct img *img = harness_random_image(26, 0x08000000, MIB);
	struct ops_write_opts wo;
	ops_write_opts_init(&wo);
	struct ops_write_result r;
	tp_trace_forget(s->tp);
	assert_int_equal(ops_write(s, img, &wo, &r), 0);
	assert_int_equal(tp_trace_count(s->tp, TP_REQ_MASS_ERASE), 0);
	assert_int_equal(tp_trace_count(s->tp, TP_REQ_ERASE), 8);
	assert_false(r.mass_erased);
	harness_assert_chip_holds(s, img);
	img_free(img);
	ops_close(s);
}

/* Over USART the same choice: AN3155 Extended Erase 0xFFFF on the F407's ROM, and the chip
 * holds the image (read through the emulator's back door). */
static void test_full_flash_f407_uart_is_mass_erased(void **state)
{
	(void)state;
	struct ops_session *s = open_sim("f407,link=uart,timing=0");
	struct sim_uart *u = ser_sim_uart(s->ser_raw);
	assert_non_null(u);
	struct sim_device *d = sim_uart_device(u);
	struct img *img = harness_random_image(27, 0x08000000, MIB);
	struct ops_write_opts wo;
	ops_write_opts_init(&wo);
	struct ops_write_result r;
	assert_int_equal(ops_write(s, img, &wo, &r), 0);
	assert_true(r.mass_erased);
	assert_int_equal(r.sectors_erased, 12);
	assert_true(r.verified);
	struct sim_stats st;
	sim_get_stats(d, &st);
	assert_int_equal(st.mass_erases, 1);
	assert_int_equal(st.erases, 0);
	uint8_t *buf = malloc(MIB);
	assert_non_null(buf);
	assert_true(sim_mem_read(d, 0x08000000, buf, MIB));
	assert_memory_equal(buf, img->segs[0].data, MIB);
	free(buf);
	img_free(img);
	ops_close(s);
}

/* Ctrl-C during the mass erase: the write stops at the next transfer boundary, after the erase,
 * and says what the chip holds: every sector erased (one step), nothing programmed. */
static volatile sig_atomic_t stop;
static void stop_after_erase(void *ctx, const struct ops_progress *p)
{
	(void)ctx;
	if (p->phase == OPS_PHASE_ERASE && p->total && p->done >= p->total)
		stop = 1;
}

static void test_stop_after_mass_erase_says_all_erased(void **state)
{
	(void)state;
	struct ops_open_opts o = harness_opts("f407,timing=0", &fake);
	stop = 0;
	o.cancel = &stop;
	struct ops_session *s = harness_open(&o);
	ops_set_progress(s, stop_after_erase, NULL);
	struct img *img = harness_random_image(28, 0x08000000, MIB);
	struct ops_write_opts wo;
	ops_write_opts_init(&wo);
	struct ops_write_result r;
	assert_int_equal(ops_write(s, img, &wo, &r), STM32DFU_E_CANCELED);
	assert_true(r.canceled);
	assert_true(r.mass_erased);
	assert_int_equal(r.sectors_erased, 12);
	assert_int_equal(r.bytes_programmed, 0);
	assert_int_equal(r.n_sectors, 12);
	for (unsigned i = 0; i < r.n_sectors; i++)
		assert_int_equal(r.sectors[i].state, OPS_SECTOR_ERASED);
	print_message("stopped after the mass erase: %s\n", s->err.msg);
	uint8_t *buf = malloc(MIB);
	assert_non_null(buf);
	assert_true(sim_mem_read(tp_sim_device(s->tp), 0x08000000, buf, MIB));
	for (size_t i = 0; i < MIB; i++)
		if (buf[i] != 0xFF)
			fail_msg("byte at +0x%zx is 0x%02x after the mass erase", i, buf[i]);
	free(buf);
	img_free(img);
	ops_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_1mib_then_again_then_one_byte),
		cmocka_unit_test(test_write_protected_sector_is_named),
		cmocka_unit_test(test_out_of_flash_is_refused_before_touching_the_chip),
		cmocka_unit_test(test_full_flash_f407_is_mass_erased),
		cmocka_unit_test(test_kept_byte_means_sector_erases),
		cmocka_unit_test(test_full_flash_f746_is_erased_by_sector),
		cmocka_unit_test(test_full_flash_f407_uart_is_mass_erased),
		cmocka_unit_test(test_stop_after_mass_erase_says_all_erased),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
