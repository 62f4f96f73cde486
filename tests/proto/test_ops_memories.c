/*
 * ops_write into the memories besides flash (issue 15 item 4), against the in-process emulator,
 * the chip's memory read through its back door (sim_mem_read), not our read path:
 *  - OTP (F746 alt 2 at 0x1FF0F000, 1024 + 16 bytes, RM0385) with a 256-byte transfer size: a stop
 *    request (the SIGINT flag) during programming ends the write between two blocks, with only
 *    the blocks sent before it on the chip; a stop before programming writes nothing;
 *  - RAM (0x20010000, served without being listed, AN2606 Table 5): programmed, read back, and
 *    refused in the RAM the F7 bootloader uses (the first 16 KB, protocol.md 2.3), where the
 *    emulated ROM hangs when it is written anyway;
 *  - the raw option-byte block (0x1FFF0000, 32 bytes, protocol.md 7.2): written whole through
 *    ops_ob_write, refused when partial or when it sets RDP level 2 without the named flag.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chip/ob.h"
#include "core/clock.h"
#include "dfu/dfu.h"
#include "dfu/dfuse.h"
#include "image/image.h"
#include "ops/ops.h"
#include "sim/sim.h"
#include "usb/tp_sim.h"
#include "harness.h"

#define OTP 0x1FF0F000u
#define OB 0x1FFF0000u

static struct clock_fake fake;
static volatile sig_atomic_t stop;

static struct ops_session *open_chip(const char *extra)
{
	char spec[200];
	snprintf(spec, sizeof spec, "f746,timing=0%s", extra);
	struct ops_open_opts o = harness_opts(spec, &fake);
	o.retries = 0;
	o.cancel = &stop;
	return harness_open(&o);
}

static void chip_bytes(struct ops_session *s, uint32_t addr, uint8_t *out, size_t n)
{
	assert_true(sim_mem_read(tp_sim_device(s->tp), addr, out, n));
}

static struct img *pattern(uint32_t addr, size_t len, uint8_t seed)
{
	struct img *img = img_new();
	uint8_t *b = malloc(len);
	for (size_t i = 0; i < len; i++)
		b[i] = (uint8_t)((seed + i * 7) % 255); /* never 0xFF, the erased value */
	assert_int_equal(img_add(img, 0, addr, b, len, NULL), 0);
	free(b);
	return img;
}

static uint64_t stop_after; /* bytes programmed when the flag goes up */
static void stop_in_program(void *ctx, const struct ops_progress *p)
{
	(void)ctx;
	if (p->phase == OPS_PHASE_PROGRAM && p->done >= stop_after)
		stop = 1;
}
static void stop_in_read(void *ctx, const struct ops_progress *p)
{
	(void)ctx;
	if (p->phase == OPS_PHASE_READ)
		stop = 1;
}

static size_t programmed_bytes(struct ops_session *s, uint32_t addr, size_t n)
{
	uint8_t *b = malloc(n);
	chip_bytes(s, addr, b, n);
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += b[i] != 0xFF;
	free(b);
	return k;
}

static void test_otp_stops_between_blocks(void **st)
{
	(void)st;
	struct img *img = pattern(OTP, 1024, 1); /* no 0xFF byte: every byte programmed counts */
	struct ops_write_opts wo;
	ops_write_opts_init(&wo);
	wo.otp_ok = true;
	struct ops_write_result r;
	/* Ctrl-C after the first 256-byte block: the second is never sent */
	stop = 0;
	stop_after = 256;
	struct ops_session *s = open_chip(",transfer_size=256");
	ops_set_progress(s, stop_in_program, NULL);
	assert_int_equal(ops_write(s, img, &wo, &r), STM32DFU_E_CANCELED);
	assert_true(r.canceled);
	assert_int_equal(r.bytes_programmed, 256);
	assert_int_equal(r.blocks, 1);
	assert_false(r.verified);
	assert_int_equal(programmed_bytes(s, OTP, 1024), 256);
	assert_int_equal(s->err.code, STM32DFU_E_CANCELED);
	ops_close(s);
	/* Ctrl-C while the OTP is read first: nothing is programmed */
	stop = 0;
	s = open_chip(",transfer_size=256");
	ops_set_progress(s, stop_in_read, NULL);
	assert_int_equal(ops_write(s, img, &wo, &r), STM32DFU_E_CANCELED);
	assert_true(r.canceled);
	assert_int_equal(r.bytes_programmed, 0);
	assert_int_equal(programmed_bytes(s, OTP, 1024), 0);
	ops_close(s);
	/* no request: all four blocks, read back */
	stop = 0;
	s = open_chip(",transfer_size=256");
	assert_int_equal(ops_write(s, img, &wo, &r), 0);
	assert_int_equal(r.blocks, 4);
	assert_true(r.verified && r.otp);
	assert_string_equal(r.memory, "OTP Memory");
	uint8_t b[1024];
	chip_bytes(s, OTP, b, sizeof b);
	assert_memory_equal(b, img->segs[0].data, sizeof b);
	ops_close(s);
	img_free(img);
}

static void test_ram(void **st)
{
	(void)st;
	stop = 0;
	struct ops_session *s = open_chip("");
	struct img *img = pattern(0x20010000, 5000, 3);
	struct ops_write_opts wo;
	ops_write_opts_init(&wo);
	struct ops_write_result r;
	assert_int_equal(ops_write(s, img, &wo, &r), 0);
	assert_string_equal(r.memory, "RAM");
	assert_int_equal(r.memory_addr, 0x20010000);
	assert_int_equal(r.bytes_programmed, 5000);
	assert_int_equal(r.blocks, 3); /* 2048 + 2048 + 904 */
	assert_int_equal(r.sectors_erased, 0);
	assert_true(r.verified);
	uint8_t b[5000];
	chip_bytes(s, 0x20010000, b, sizeof b);
	assert_memory_equal(b, img->segs[0].data, sizeof b);
	img_free(img);
	/* the RAM the bootloader runs in: refused, nothing sent */
	img = pattern(0x20003F00, 512, 9);
	uint8_t before[512], after[512];
	chip_bytes(s, 0x20003F00, before, sizeof before);
	assert_int_equal(ops_write(s, img, &wo, &r), STM32DFU_E_RANGE);
	assert_non_null(strstr(s->err.msg, "RAM the STM32F74x/F75x bootloader uses"));
	chip_bytes(s, 0x20003F00, after, sizeof after);
	assert_memory_equal(before, after, sizeof after);
	/* why: the same bytes sent anyway (below the host's check) hang the emulated ROM, which then
	 * answers nothing more (profile key boot_ram, docs/rom-quirks.md) */
	assert_true(dfuse_write(s->dfu, 0x20003F00, img->segs[0].data, 512) < 0);
	struct dfu_getstatus gs;
	assert_true(dfu_get_status(s->dfu, &gs) < 0);
	img_free(img);
	ops_close(s);
	s = open_chip("");
	/* RAM and flash in one file: refused, naming both */
	img = pattern(0x20010000, 16, 1);
	assert_int_equal(img_add(img, 0, 0x08000000, "abcd", 4, NULL), 0);
	assert_int_equal(ops_write(s, img, &wo, &r), STM32DFU_E_USAGE);
	assert_non_null(strstr(s->err.msg, "Internal Flash at 0x08000000 and in RAM at 0x20010000"));
	img_free(img);
	ops_close(s);
}

static void test_ob_block(void **st)
{
	(void)st;
	stop = 0;
	struct ops_session *s = open_chip("");
	uint8_t ob[32], now[32];
	chip_bytes(s, OB, ob, sizeof ob);
	assert_int_equal(ob[1], 0xAA); /* RDP level 0 (the profile's default block, protocol.md 7.2) */
	struct ops_write_opts wo;
	ops_write_opts_init(&wo);
	struct ops_write_result r;
	/* half the block: refused */
	struct img *img = img_new();
	assert_int_equal(img_add(img, 1, OB, ob, 16, NULL), 0);
	assert_int_equal(ops_write(s, img, &wo, &r), STM32DFU_E_RANGE);
	assert_non_null(strstr(s->err.msg, "partial block is refused"));
	img_free(img);
	/* RDP level 2 without its flag: refused, the block unchanged */
	uint8_t rdp2[32];
	memcpy(rdp2, ob, 32);
	rdp2[1] = 0xCC;
	rdp2[3] = 0x33;
	img = img_new();
	assert_int_equal(img_add(img, 0, OB, rdp2, 32, NULL), 0);
	assert_int_equal(ops_write(s, img, &wo, &r), STM32DFU_E_NEEDS_CONFIRMATION);
	assert_non_null(strstr(s->err.msg, "level 2"));
	chip_bytes(s, OB, now, sizeof now);
	assert_memory_equal(now, ob, 32);
	img_free(img);
	/* BOR_LEV = 1 (OPTCR[3:2], protocol.md 7.1), its complement kept: written, the chip resets,
	 * the block read back */
	uint8_t bor[32];
	memcpy(bor, ob, 32);
	bor[0] = (uint8_t)((bor[0] & ~0x0Cu) | 0x04u);
	bor[2] = (uint8_t)~bor[0];
	img = img_new();
	assert_int_equal(img_add(img, 1, OB, bor, 32, NULL), 0);
	assert_int_equal(ops_write(s, img, &wo, &r), 0);
	assert_string_equal(r.memory, "Option Bytes");
	assert_true(r.verified);
	assert_int_equal(r.bytes_programmed, 32);
	chip_bytes(s, OB, now, sizeof now);
	assert_memory_equal(now, bor, 32);
	img_free(img);
	ops_close(s);
}

/* issue 22 item 4: L4 OTP is programmed once per double word ("If only one bit is at 0, the entire
 * double word cannot be written anymore", RM0351 "OTP area"). Half a double word is written whole
 * (0xFF after the data); the other half of it is then refused by the host before anything is sent,
 * naming the double word, and the emulator refuses it too when it is sent anyway. */
static void test_otp_double_word_once(void **st)
{
	(void)st;
	const uint32_t L4OTP = 0x1FFF7000u;
	struct ops_open_opts oo = harness_opts("l43x,timing=0", &fake);
	oo.retries = 0;
	struct ops_session *s = harness_open(&oo);
	struct ops_write_opts wo;
	ops_write_opts_init(&wo);
	wo.otp_ok = true;
	struct ops_write_result r;
	const uint8_t first[4] = {0x11, 0x22, 0x33, 0x44}, second[4] = {0x55, 0x66, 0x77, 0x00};
	struct img *img = img_new();
	assert_int_equal(img_add(img, 0, L4OTP, first, 4, NULL), 0);
	assert_int_equal(ops_write(s, img, &wo, &r), 0);
	assert_true(r.verified && r.otp);
	img_free(img);
	uint8_t b[16];
	chip_bytes(s, L4OTP, b, 16);
	const uint8_t want[16] = {0x11, 0x22, 0x33, 0x44, 0xFF, 0xFF, 0xFF, 0xFF,
	                          0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
	assert_memory_equal(b, want, 16);
	/* the bytes after it, in the same double word: 1 -> 0 only, yet refused */
	img = img_new();
	assert_int_equal(img_add(img, 0, L4OTP + 4, second, 4, NULL), 0);
	struct sim_stats before, after;
	sim_get_stats(tp_sim_device(s->tp), &before);
	assert_int_equal(ops_write(s, img, &wo, &r), STM32DFU_E_RANGE);
	assert_non_null(strstr(s->err.msg, "0x1FFF7000-0x1FFF7007"));
	sim_get_stats(tp_sim_device(s->tp), &after);
	assert_int_equal(after.bytes_programmed, before.bytes_programmed);
	chip_bytes(s, L4OTP, b, 16);
	assert_memory_equal(b, want, 16);
	img_free(img);
	/* sent anyway (a host without the rule): the emulated ROM refuses the double word */
	uint8_t dw[8] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x00};
	assert_int_equal(dfu_set_alt(s->dfu, 2), 0);
	assert_true(dfuse_write(s->dfu, L4OTP, dw, sizeof dw) < 0);
	chip_bytes(s, L4OTP, b, 16);
	assert_memory_equal(b, want, 16);
	/* the next double word is still virgin: written */
	assert_int_equal(dfu_clr_status(s->dfu), 0);
	img = img_new();
	assert_int_equal(img_add(img, 0, L4OTP + 8, dw, 8, NULL), 0);
	assert_int_equal(ops_write(s, img, &wo, &r), 0);
	chip_bytes(s, L4OTP + 8, b, 8);
	assert_memory_equal(b, dw, 8);
	img_free(img);
	ops_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_otp_stops_between_blocks),
		cmocka_unit_test(test_ram),
		cmocka_unit_test(test_ob_block),
		cmocka_unit_test(test_otp_double_word_once),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
