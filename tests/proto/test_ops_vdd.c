/*
 * --vdd (issue 13 item 5): the board's supply voltage selects the Device Feature voltage range
 * (AN2606; protocol.md 3.2), which the ROM uses as the flash's program/erase parallelism. Checked on
 * the emulated chip: the range reaches the Device Feature memory, the erase and program busy time
 * falls to the datasheet's x32 column (DS10916 typical, profiles/f746.profile), and a chip without
 * Device Feature memory (F0) refuses before any transfer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "dfu/dfu.h"
#include "dfu/dfuse.h"
#include "image/image.h"
#include "ops/ops.h"
#include "ops/vdd.h"
#include "sim/sim.h"
#include "usb/tp_sim.h"
#include "usb/tp_trace.h"
#include "harness.h"

static struct clock_fake fake;

static struct ops_session *open_sim(const char *spec)
{
	struct ops_open_opts o = harness_opts(spec, &fake);
	return harness_open(&o);
}

static struct img *image(size_t len)
{
	uint8_t *buf = malloc(len);
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(i * 31 + 7);
	struct img *img = img_new();
	assert_int_equal(img_add(img, 0, 0x08000000, buf, len, NULL), 0);
	free(buf);
	return img;
}

static void test_volts_to_range(void **state)
{
	(void)state;
	static const struct {
		double v;
		int range;
	} ok[] = {{3.6, 3}, {3.3, 3}, {2.7, 3}, {2.69, 2}, {2.4, 2}, {2.39, 1}, {2.1, 1}, {2.0, 0}, {1.8, 0}};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		int r = -1;
		assert_int_equal(ops_vdd_range(ok[i].v, &r, NULL), 0);
		assert_int_equal(r, ok[i].range);
	}
	int r = -1;
	assert_int_equal(ops_vdd_range(1.79, &r, NULL), STM32DFU_E_USAGE);
	assert_int_equal(ops_vdd_range(3.61, &r, NULL), STM32DFU_E_USAGE);
	assert_int_equal(ops_vdd_range(5.0, &r, NULL), STM32DFU_E_USAGE);
	assert_string_equal(ops_vdd_range_text(3), "2.7-3.6 V, x32");
}

/* Writes the first 256 KiB (sectors 0-4: four of 32 KiB and one of 128 KiB) and returns the
 * device's busy time in ms. */
static double write_256k(bool set_range, int range, uint8_t *feature_after)
{
	struct ops_session *s = open_sim("f746,timing=1");
	struct sim_device *d = tp_sim_device(s->tp);
	struct img *img = image(256 * 1024);
	struct ops_write_opts wo;
	ops_write_opts_init(&wo);
	wo.set_range = set_range;
	wo.range = range;
	struct ops_write_result r;
	struct sim_stats before, after;
	sim_get_stats(d, &before);
	tp_trace_forget(s->tp);
	assert_int_equal(ops_write(s, img, &wo, &r), 0);
	assert_true(r.verified);
	assert_int_equal(r.range_set, set_range ? range : -1);
	sim_get_stats(d, &after);
	assert_true(sim_mem_read(d, OPS_VDD_ADDR, feature_after, 4));
	if (set_range) {
		/* one 4-byte DNLOAD after a Set Address to 0xFFFF0000: range, then the reserved 0xFF bytes */
		size_t n;
		const struct tp_rec *rec = tp_trace_records(s->tp, &n);
		unsigned seen = 0;
		for (size_t i = 1; i < n; i++)
			if (rec[i].cls == TP_REQ_DNLOAD_DATA && rec[i].setup.wLength == 4) {
				assert_int_equal(rec[i - 1].cls == TP_REQ_GETSTATUS || rec[i - 1].cls == TP_REQ_SET_ADDRESS, 1);
				assert_int_equal(rec[i].data[0], range);
				assert_int_equal(rec[i].data[1] & rec[i].data[2] & rec[i].data[3], 0xFF);
				seen++;
			}
		assert_int_equal(seen, 1);
	}
	img_free(img);
	ops_close(s);
	return (double)(after.busy_us - before.busy_us) / 1000.0;
}

static void test_range_reaches_the_chip_and_its_timing(void **state)
{
	(void)state;
	uint8_t feat[4];
	/* without --vdd: the ROM's default range 0 (x8), untouched */
	double x8 = write_256k(false, 0, feat);
	assert_int_equal(feat[0], 0);
	/* DS10916 typical, x8: erase 4 x 400 + 1100 ms; program 262144 byte operations x 16 us */
	assert_true(x8 > 0.99 * (2700 + 4194.304) && x8 < 1.01 * (2700 + 4194.304));

	double x32 = write_256k(true, 3, feat);
	assert_int_equal(feat[0], 3);
	assert_memory_equal(feat + 1, "\xFF\xFF\xFF", 3);
	/* x32: erase 4 x 200 + 550 ms; program 65536 word operations x 16 us */
	assert_true(x32 > 0.99 * (1350 + 1048.576) && x32 < 1.01 * (1350 + 1048.576));

	double x16 = write_256k(true, 1, feat);
	assert_int_equal(feat[0], 1);
	/* x16: erase 4 x 250 + 800 ms; program 131072 half-word operations x 16 us */
	assert_true(x16 > 0.99 * (1800 + 2097.152) && x16 < 1.01 * (1800 + 2097.152));
}

/* issue 22 item 5: at x32 (--vdd 3.3) the flash takes whole words (RM0090 PGPERR otherwise). A
 * 771-byte image: its last block goes out padded with the erased 0xFF to 772 bytes, and the chip
 * holds the image. The emulated ROM refuses a 771-byte block at x32, and every program after it
 * until a reset (AN2606 programming constraints). */
static void test_x32_blocks_are_whole_words(void **state)
{
	(void)state;
	struct ops_session *s = open_sim("f746,timing=0");
	struct sim_device *d = tp_sim_device(s->tp);
	struct img *img = image(771);
	struct ops_write_opts wo;
	ops_write_opts_init(&wo);
	wo.set_range = true;
	wo.range = 3;
	struct ops_write_result r;
	tp_trace_forget(s->tp);
	assert_int_equal(ops_write(s, img, &wo, &r), 0);
	assert_true(r.verified);
	size_t n;
	const struct tp_rec *rec = tp_trace_records(s->tp, &n);
	unsigned blocks = 0;
	for (size_t i = 0; i < n; i++)
		if (rec[i].cls == TP_REQ_DNLOAD_DATA) {
			assert_int_equal(rec[i].setup.wLength % 4, 0);
			blocks++;
		}
	assert_int_equal(blocks, 2); /* the Device Feature word, then the image */
	harness_assert_chip_holds(s, img);
	uint8_t b[4];
	assert_true(sim_mem_read(d, 0x08000300, b, 4));
	assert_int_equal(b[3], 0xFF);
	/* the ROM side: 771 bytes at x32 into erased sector 1 */
	uint8_t blk[771];
	memset(blk, 0, sizeof blk);
	assert_int_equal(dfu_set_alt(s->dfu, 0), 0);
	assert_true(dfuse_write(s->dfu, 0x08008000, blk, sizeof blk) < 0);
	uint8_t tail[8];
	assert_true(sim_mem_read(d, 0x080082FC, tail, 8));
	assert_int_equal(tail[0] | tail[1] | tail[2] | tail[3], 0x00); /* the whole words were written */
	assert_int_equal(tail[4] & tail[5] & tail[6] & tail[7], 0xFF); /* the last 3 bytes were not */
	/* and a well-formed block after it fails too */
	assert_int_equal(dfu_clr_status(s->dfu), 0);
	assert_true(dfuse_write(s->dfu, 0x08010000, blk, 8) < 0);
	assert_true(sim_mem_read(d, 0x08010000, tail, 4));
	assert_int_equal(tail[0] & tail[1] & tail[2] & tail[3], 0xFF);
	img_free(img);
	ops_close(s);
}

static void test_refused_without_device_feature(void **state)
{
	(void)state;
	struct ops_session *s = open_sim("f0-32k,timing=0");
	struct img *img = image(4096);
	struct ops_write_opts wo;
	ops_write_opts_init(&wo);
	wo.set_range = true;
	wo.range = 3;
	struct ops_write_result r;
	tp_trace_forget(s->tp);
	assert_int_equal(ops_write(s, img, &wo, &r), STM32DFU_E_UNSUPPORTED);
	assert_non_null(strstr(s->err.msg, "Device Feature"));
	assert_int_equal(tp_trace_count(s->tp, TP_REQ_ANY), 0); /* refused before any work */
	img_free(img);
	ops_close(s);
}

/* Nothing to erase: the range is not touched. */
static void test_nothing_to_erase_leaves_the_range(void **state)
{
	(void)state;
	struct ops_session *s = open_sim("f746,timing=0");
	struct sim_device *d = tp_sim_device(s->tp);
	uint8_t blank[2048];
	memset(blank, 0xFF, sizeof blank);
	struct img *img = img_new();
	assert_int_equal(img_add(img, 0, 0x08000000, blank, sizeof blank, NULL), 0);
	struct ops_write_opts wo;
	ops_write_opts_init(&wo);
	wo.set_range = true;
	wo.range = 3;
	struct ops_write_result r;
	assert_int_equal(ops_write(s, img, &wo, &r), 0);
	assert_int_equal(r.sectors_erased, 0);
	assert_int_equal(r.range_set, -1);
	uint8_t feat[1];
	assert_true(sim_mem_read(d, OPS_VDD_ADDR, feat, 1));
	assert_int_equal(feat[0], 0);
	img_free(img);
	ops_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_volts_to_range),
		cmocka_unit_test(test_range_reaches_the_chip_and_its_timing),
		cmocka_unit_test(test_x32_blocks_are_whole_words),
		cmocka_unit_test(test_refused_without_device_feature),
		cmocka_unit_test(test_nothing_to_erase_leaves_the_range),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
