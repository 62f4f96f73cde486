/*
 * A flash block the USART left unsettled (issue 23, "nothing lost"; campaign usart seed 2702
 * session 301, whose clean recover exited 65). A Write Memory data frame that lost two bytes waits
 * for two more, and the resync's first two bytes r1 r2 complete it; when the lost d1 d2 have
 * d1 ^ d2 == r1 ^ r2 the frame's XOR fits and the ROM programs it shifted (docs/usart.md). The
 * write reads such a block back and marks its sector to be erased again, but a session that ends
 * before that erase (here the chip is gone two blocks later) leaves bytes in a saved sector that
 * are neither erased, the kept ones nor the image's. The recovery file must still put the kept
 * bytes back on that chip (recover, or the same write again), and nothing is reported written.
 *
 * The faults are placed by counting from the write's progress (sim_uart_line_next): the two bytes
 * lost are the first two data bytes of the block after the first 4 KiB of the sector, which lie in
 * the image; every word of the image is a b c d with a ^ b == c ^ d == 0xFE and no byte 0x01, so
 * the frame's first free byte, the resync's r1, is 0x01, r2 is 0xFF, and r1 ^ r2 == a ^ b. The
 * chip is read through the emulator's back door.
 */
#define _POSIX_C_SOURCE 200809L
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
#include "image/image.h"
#include "ops/ops.h"
#include "ops/rescue.h"
#include "ops/session.h"
#include "serial/ser_sim.h"
#include "sim/sim.h"
#include "sim/sim_uart.h"
#include "harness.h"

#define SECTOR1 0x08008000u
#define SECTOR_SIZE 0x8000u
#define IMG_OFF 0x1000u
#define IMG_LEN 0x1000u

static struct clock_fake fake;
static char dir[256], state[300], rdir[320];

static int setup(void **st)
{
	(void)st;
	snprintf(dir, sizeof dir, "%s/uartblock.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir))
		return -1;
	snprintf(state, sizeof state, "%s/chip.state", dir);
	snprintf(rdir, sizeof rdir, "%s/recovery", dir);
	return 0;
}

static int teardown(void **st)
{
	(void)st;
	char (*names)[RESCUE_NAME_CHARS + 1] = NULL;
	size_t n = 0;
	struct err e;
	err_clear(&e);
	if (rescue_list(rdir, &names, &n, &e) == 0)
		for (size_t i = 0; i < n; i++) {
			char p[400];
			snprintf(p, sizeof p, "%s/%s.recovery", rdir, names[i]);
			unlink(p);
		}
	free(names);
	unlink(state);
	rmdir(rdir);
	rmdir(dir);
	return 0;
}

static struct ops_session *open_chip(void)
{
	char spec[400];
	snprintf(spec, sizeof spec, "f746,link=uart,timing=0,state=%s", state);
	struct ops_open_opts o = harness_opts(spec, &fake);
	return harness_open(&o);
}

static struct sim_device *chip(struct ops_session *s)
{
	struct sim_uart *u = ser_sim_uart(s->ser_raw);
	assert_non_null(u);
	return sim_uart_device(u);
}

static uint32_t lcg(uint32_t *x)
{
	*x = *x * 1664525u + 1013904223u;
	return *x >> 24;
}

/* Words a b c d with a ^ b == c ^ d == 0xFE, no 0x01, 0x7F or 0xFF: any two first data bytes of a
 * block fit the resync's 0x01 0xFF, and every block's XOR is its length byte (0x03 + 4k). */
static struct img *fitting_image(void)
{
	uint8_t *buf = malloc(IMG_LEN);
	assert_non_null(buf);
	uint32_t x = 23;
	for (uint32_t i = 0; i < IMG_LEN; i += 2) {
		uint8_t a;
		do
			a = (uint8_t)lcg(&x);
		while (a <= 0x01 || a >= 0xFE || a == 0x7F || a == 0x81);
		buf[i] = a;
		buf[i + 1] = a ^ 0xFE;
	}
	struct img *img = img_new();
	assert_int_equal(img_add(img, 0, SECTOR1 + IMG_OFF, buf, IMG_LEN, NULL), 0);
	free(buf);
	return img;
}

struct arm {
	struct sim_uart *u;
	int step; /* 0: waiting for the block after IMG_OFF; 1: the two bytes armed; 2: the chip's end armed */
};

/* After a block: Write Memory 0x31 0xCE (2 bytes), the address and its XOR (5), the length byte,
 * then the data: its first two bytes are the host's 9th and 10th from here. */
static void on_progress(void *ctx, const struct ops_progress *p)
{
	struct arm *a = ctx;
	if (p->phase != OPS_PHASE_PROGRAM)
		return;
	if (a->step == 0 && p->done >= IMG_OFF) {
		sim_uart_line_next(a->u, SIM_UART_DROP, 9);
		sim_uart_fault_next(a->u, true, 1, 10, 0); /* a flipped bit: the ROM's parity check drops it */
		a->step = 1;
	} else if (a->step == 1) {
		sim_uart_line_next(a->u, SIM_UART_GONE, 1); /* before the marked sector's new erase */
		a->step = 2;
	}
}

/* The write that leaves the shifted block: old is sector 1 before it. */
static void failed_write(const struct img *img, uint8_t *old)
{
	struct ops_session *s = open_chip();
	uint32_t x = 7;
	for (uint32_t i = 0; i < SECTOR_SIZE; i++)
		old[i] = (uint8_t)lcg(&x);
	assert_true(sim_mem_write(chip(s), SECTOR1, old, SECTOR_SIZE));
	struct arm a = {ser_sim_uart(s->ser_raw), 0};
	ops_set_progress(s, on_progress, &a);
	struct ops_write_opts wo;
	ops_write_opts_init(&wo);
	struct ops_write_result r;
	int rc = ops_write(s, img, &wo, &r);
	assert_int_equal(a.step, 2);
	assert_true(rc < 0);               /* nothing reported written */
	assert_int_not_equal(r.recovery_file[0], '\0');
	/* the block was noted in the file before the resync's bytes could complete its frame */
	char first[32] = "";
	FILE *f = fopen(r.recovery_file, "rb");
	assert_non_null(f);
	assert_non_null(fgets(first, sizeof first, f));
	fclose(f);
	assert_string_equal(first, "stm32dfu-recovery 3\n");
	/* the sector holds bytes an interrupted write of this image cannot leave: the shifted block */
	uint8_t *now = malloc(SECTOR_SIZE);
	assert_non_null(now);
	assert_true(sim_mem_read(chip(s), SECTOR1, now, SECTOR_SIZE));
	const uint8_t *im = img->segs[0].data;
	unsigned foreign = 0;
	for (uint32_t i = 0; i < SECTOR_SIZE; i++) {
		bool in = i >= IMG_OFF && i < IMG_OFF + IMG_LEN;
		if (now[i] != 0xFF && now[i] != old[i] && !(in && now[i] == im[i - IMG_OFF]))
			foreign++;
	}
	assert_true(foreign > 0);
	free(now);
	ops_close(s); /* the emulated chip kept as the failure left it */
}

static void check_sector(const uint8_t *want)
{
	struct ops_session *s = open_chip();
	uint8_t *now = malloc(SECTOR_SIZE);
	assert_non_null(now);
	assert_true(sim_mem_read(chip(s), SECTOR1, now, SECTOR_SIZE));
	assert_memory_equal(now, want, SECTOR_SIZE);
	free(now);
	ops_close(s);
}

static bool files_left(void)
{
	char (*names)[RESCUE_NAME_CHARS + 1] = NULL;
	size_t n = 0;
	struct err e;
	err_clear(&e);
	assert_int_equal(rescue_list(rdir, &names, &n, &e), 0);
	free(names);
	return n != 0;
}

/* recover puts the sector back as it was before the write */
static void test_recover_after_shifted_block(void **st)
{
	(void)st;
	struct img *img = fitting_image();
	uint8_t *old = malloc(SECTOR_SIZE);
	assert_non_null(old);
	failed_write(img, old);
	struct ops_session *s = open_chip();
	struct ops_write_opts wo;
	ops_write_opts_init(&wo);
	struct ops_write_result r;
	int rc = ops_recover_apply(s, &wo, &r);
	if (rc != 0)
		fail_msg("recover: %d: %s", rc, s->err.msg);
	assert_true(r.verified);
	ops_close(s);
	check_sector(old);
	assert_false(files_left());
	free(old);
	img_free(img);
}

/* the same write again completes: the image over the sector's old bytes */
static void test_write_again_after_shifted_block(void **st)
{
	(void)st;
	struct img *img = fitting_image();
	uint8_t *old = malloc(SECTOR_SIZE);
	assert_non_null(old);
	failed_write(img, old);
	struct ops_session *s = open_chip();
	struct ops_write_opts wo;
	ops_write_opts_init(&wo);
	struct ops_write_result r;
	int rc = ops_write(s, img, &wo, &r);
	if (rc != 0)
		fail_msg("write again: %d: %s", rc, s->err.msg);
	assert_true(r.verified);
	assert_int_not_equal(r.restored_from[0], '\0');
	ops_close(s);
	memcpy(old + IMG_OFF, img->segs[0].data, IMG_LEN);
	check_sector(old);
	assert_false(files_left());
	free(old);
	img_free(img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_recover_after_shifted_block, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_again_after_shifted_block, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
