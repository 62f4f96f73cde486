/*
 * The host against the field reports of data/field/ (issue 22), each on its chip's profile: the
 * F0 that STALLs an early GETSTATUS, the G4 that must never see CLRSTATUS outside dfuERROR, the H7
 * that holds its first status, the F42x that cuts its flash string, the C071 that leaves only
 * after a Set Address. Checked against the emulator's memory and counters, not our own reports.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "chip/chip.h"
#include "chip/ob.h"
#include "core/log.h"
#include "image/image.h"
#include "ops/ops.h"
#include "sim/sim.h"
#include "usb/tp_sim.h"

#include "harness.h"

static struct clock_fake fake;

static void write_ok(struct ops_session *s, const struct img *img)
{
	struct ops_write_opts wo;
	ops_write_opts_init(&wo);
	struct ops_write_result r;
	assert_int_equal(ops_write(s, img, &wo, &r), 0);
	assert_true(r.verified);
	harness_assert_chip_holds(s, img);
}

/* F072 (openmv #1508): an early GETSTATUS is STALLed and leaves dfuERROR in the model; the host
 * knows the family and waits every poll from the start: no early poll, no retry */
static void test_f0_write_waits_every_poll(void **state)
{
	(void)state;
	struct ops_open_opts o = harness_opts("f0-32k", &fake);
	struct ops_session *s = harness_open(&o);
	struct img *img = harness_random_image(3, 0x08000000, 8 * 1024);
	write_ok(s, img);
	assert_int_equal(s->dfu->stats.early_polls, 0);
	assert_int_equal(s->dfu->stats.status_stalls_retried, 0);
	assert_int_equal(s->counters.retries, 0);
	assert_int_equal(s->dfu->poll_mode, DFU_POLL_SPEC);
	assert_string_equal(s->dfu->poll_fallback, "family");
	img_free(img);
	ops_close(s);
}

/* G4-class ROM (dfu-libusb #4): a whole session (open, write, verify) sends no CLRSTATUS outside
 * dfuERROR, and blocks are the ROM's 1024 bytes; also when a GETSTATUS at the start is lost */
static void test_g4_no_clrstatus_outside_error(void **state)
{
	(void)state;
	const char *specs[] = {"g474", "g474,stall_at=9", "g474,stall_at=12"};
	for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
		struct ops_open_opts o = harness_opts(specs[i], &fake);
		o.retries = 3;
		struct ops_session *s = harness_open(&o);
		struct img *img = harness_random_image(4, 0x08000000, 6 * 1024);
		write_ok(s, img);
		struct sim_stats ss;
		sim_get_stats(tp_sim_device(s->tp), &ss);
		assert_int_equal(ss.clrstatus_not_error, 0);
		assert_int_equal(s->dfu->transfer_size, 1024);
		img_free(img);
		ops_close(s);
	}
}

/* H743 (CubeProgrammer log): the first GETSTATUS after an erase is held for the whole erase. Even
 * an erase longer than an ordinary request's timeout (7 s against 5 s) is waited for: the first
 * status's timeout is the operation's ceiling */
static void test_h743_first_status_within_the_ceiling(void **state)
{
	(void)state;
	struct ops_open_opts o = harness_opts("h743,t_erase=128K 7000", &fake);
	struct ops_session *s = harness_open(&o);
	struct img *img = harness_random_image(5, 0x08000000, 4 * 1024);
	write_ok(s, img);
	assert_int_equal(s->counters.retries, 0);
	img_free(img);
	ops_close(s);
}

static char warned[1024];
static void keep_warning(enum log_level level, const char *msg, void *ctx)
{
	(void)ctx;
	if (level == LOG_WARN && !warned[0])
		snprintf(warned, sizeof warned, "%s", msg);
}

/* F42x (community.st.com 27098): the ROM sends 112 of the 166 bytes of the flash string; the host
 * says so instead of taking the cut map silently */
static void test_f42x_cut_string_is_reported(void **state)
{
	(void)state;
	warned[0] = '\0';
	log_set_sink(keep_warning, NULL);
	struct ops_open_opts o = harness_opts("f429,timing=0", &fake);
	struct ops_session *s = harness_open(&o);
	log_set_sink(NULL, NULL);
	assert_true(s->dfu->map.mem[0].name_cut);
	assert_false(s->dfu->map.mem[1].name_cut);
	assert_non_null(strstr(warned, "sent 112 of the 166 bytes"));
	assert_non_null(strstr(warned, "cut short"));
	ops_close(s);
	/* the F407 sends its strings whole: nothing to say */
	warned[0] = '\0';
	log_set_sink(keep_warning, NULL);
	o = harness_opts("f407,timing=0", &fake);
	s = harness_open(&o);
	log_set_sink(NULL, NULL);
	assert_false(s->dfu->map.mem[0].name_cut);
	assert_null(strstr(warned, "bytes of its name"));
	ops_close(s);
}

/* C071 (LibUsbDfu #13): the host's leave sends Set Address right before the zero-length DNLOAD,
 * so the chip leaves, after a write too */
static void test_c071_leave(void **state)
{
	(void)state;
	struct ops_open_opts o = harness_opts("c071,timing=0", &fake);
	struct ops_session *s = harness_open(&o);
	struct img *img = harness_random_image(6, 0x08000000, 2048);
	static const uint8_t vec[8] = {0x00, 0x18, 0x00, 0x20, 0x01, 0x01, 0x00, 0x08};
	memcpy(img->segs[0].data, vec, sizeof vec);
	write_ok(s, img);
	struct ops_leave_result r;
	assert_int_equal(ops_leave(s, false, 0, &r), 0);
	assert_true(r.confirmed);
	assert_true(r.gone);
	img_free(img);
	ops_close(s);
}

/* F4 factory option bytes: the host's table and the emulator's f407 profile give the one value of
 * RM0090 (FLASH_OPTCR reset value 0x0FFFAAED), so a fresh or unprotected F4 reads as the default */
static void test_f4_ob_default_is_the_manuals(void **state)
{
	(void)state;
	const struct chip_family *f4 = chip_family_by_id("F40x");
	assert_non_null(f4);
	uint8_t def[64];
	size_t len = 0;
	assert_int_equal(ob_default_block(f4, def, sizeof def, &len), 0);
	assert_int_equal(len, 16);
	assert_int_equal(def[0], 0xED);
	assert_int_equal(def[1], 0xAA);
	struct ops_open_opts o = harness_opts("f407,timing=0", &fake);
	struct ops_session *s = harness_open(&o);
	uint8_t chip[16];
	assert_true(sim_mem_read(tp_sim_device(s->tp), 0x1FFFC000, chip, sizeof chip));
	assert_memory_equal(chip, def, 2);
	assert_memory_equal(chip + 8, def + 8, 2);
	ops_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_f0_write_waits_every_poll),
		cmocka_unit_test(test_g4_no_clrstatus_outside_error),
		cmocka_unit_test(test_h743_first_status_within_the_ceiling),
		cmocka_unit_test(test_f42x_cut_string_is_reported),
		cmocka_unit_test(test_c071_leave),
		cmocka_unit_test(test_f4_ob_default_is_the_manuals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
