/*
 * A new session meeting a chip still busy with flash work an earlier host left running (that host
 * killed while the ROM held its GETSTATUS): the F746 model at timing=2 erases its whole flash in
 * 32 s, DS10916's maximum tME at x8 (the profile's typical 16 s, doubled). The chip outlives the
 * first host's dfu session on the same in-process emulator (what a second process sees over USB;
 * tests/peer/stm32dfu_busy_start.sh does it with two real processes). Time is the fake clock's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/clock.h"
#include "dfu/dfu.h"
#include "dfu/dfuse.h"
#include "sim/sim.h"
#include "usb/tp_sim.h"

static const uint8_t keep[8] = {0xCA, 0xFE, 0xBA, 0xBE, 0x01, 0x02, 0x03, 0x04};
#define FLASH_LAST 0x080FFFF8u      /* the last 8 bytes of the F746's 1 MiB */
#define MASS_ERASE_US 32000000ull   /* f746 t_mass_erase x8 16000 ms, timing=2 */

static struct clock_fake fake;
static unsigned held_calls, held_last_ms;

static void on_held(void *ctx, unsigned waited_ms, unsigned ceiling_ms)
{
	(void)ctx;
	assert_int_equal(ceiling_ms, 60000);
	held_calls++;
	held_last_ms = waited_ms;
}

static bool erased(struct sim_device *dev, uint32_t addr)
{
	uint8_t b[8];
	assert_true(sim_mem_read(dev, addr, b, 8));
	for (int i = 0; i < 8; i++)
		if (b[i] != 0xFF)
			return false;
	return true;
}

/* Host A starts a mass erase and dies while the ROM holds its early GETSTATUS. Returns the time
 * the erase began (its first GETSTATUS answered dfuDNBUSY). */
static uint64_t first_host_dies_during_mass_erase(struct tp *tp)
{
	struct dfu_dev *a = NULL;
	struct err e;
	err_clear(&e);
	assert_int_equal(dfu_open(tp, &a, &e), 0);
	assert_int_equal(dfu_session_start(a, NULL), 0);
	assert_int_equal(dfu_set_alt(a, 0), 0);
	const uint8_t mass_erase = 0x41; /* DfuSe Erase without an address (AN3156 6.1.3) */
	assert_int_equal(dfu_dnload(a, 0, &mass_erase, 1), 0);
	struct dfu_getstatus st;
	assert_int_equal(dfu_get_status(a, &st), 0);
	assert_int_equal(st.bState, dfuDNBUSY);
	uint64_t t0 = clock_now_us(&fake.clock);
	/* the early GETSTATUS (--poll auto) goes out and is held; the process is killed 100 ms in */
	uint8_t buf[6];
	struct usb_setup gs = {USB_RT_CLASS_IN_INTERFACE, DFU_GETSTATUS, 0, a->interface, 6};
	assert_int_equal(tp_control(tp, &gs, buf, 100), STM32DFU_E_TIMEOUT);
	dfu_free(a);
	/* a new process: its transport has had no answer yet */
	tp->answered = false;
	tp->held_us = 0;
	return t0;
}

static void test_next_session_waits_for_the_erase(void **st)
{
	(void)st;
	clock_fake_init(&fake);
	struct tp_sim_opts so = {PROFILE_DIR, &fake.clock, false};
	struct tp *tp = NULL;
	struct err e;
	err_clear(&e);
	assert_int_equal(tp_sim_open("f746,timing=2", &so, &tp, &e), 0);
	struct sim_device *dev = tp_sim_device(tp);
	assert_true(sim_mem_write(dev, 0x08000000, keep, 8));
	assert_true(sim_mem_write(dev, FLASH_LAST, keep, 8));
	uint64_t t0 = first_host_dies_during_mass_erase(tp);

	/* host B (what ops_open sets: the mass-erase ceiling, a note upward) */
	tp->first_answer_ms = 60000;
	tp->on_held = on_held;
	held_calls = 0;
	struct dfu_dev *b = NULL;
	assert_int_equal(dfu_open(tp, &b, &e), 0); /* its alt-name strings are held until the end */
	uint64_t answered = clock_now_us(&fake.clock) - t0;
	assert_true(answered >= MASS_ERASE_US && answered < MASS_ERASE_US + 100000u);
	assert_int_equal(held_calls, 6); /* one note per 5 s timeout: 5, 10 ... 30 s */
	assert_int_equal(held_last_ms / 1000u, 30);
	assert_true(tp->held_us > 31000000u);
	struct dfu_getstatus first;
	assert_int_equal(dfu_session_start(b, &first), 0);
	/* the dead host's held GETSTATUS ended the busy phase (ST-MW answers it after the work) */
	assert_int_equal(first.bState, dfuDNLOAD_IDLE);
	assert_true(erased(dev, 0x08000000) && erased(dev, FLASH_LAST));
	uint8_t rd[8];
	assert_int_equal(dfu_set_alt(b, 0), 0);
	assert_int_equal(dfuse_read(b, FLASH_LAST, rd, 8), 0); /* and reads erased through the ROM */
	for (int i = 0; i < 8; i++)
		assert_int_equal(rd[i], 0xFF);
	struct sim_stats ss;
	sim_get_stats(dev, &ss);
	assert_int_equal(ss.mass_erases, 1);
	assert_int_equal(ss.resets, 0); /* nothing reset the chip during its erase */
	dfu_free(b);

	/* the same without the first-answer wait (first_answer_ms 0, the tool before it): four 5 s
	 * tries of the first alt-name string end 20 s in, 12 s before the chip answers */
	assert_true(sim_mem_write(dev, 0x08000000, keep, 8));
	t0 = first_host_dies_during_mass_erase(tp);
	tp->first_answer_ms = 0;
	assert_int_equal(dfu_open(tp, &b, &e), STM32DFU_E_TIMEOUT);
	assert_true(clock_now_us(&fake.clock) - t0 < MASS_ERASE_US);
	tp_close(tp);
}

/* A chip that never answers (the F7 ROM hung by an UPLOAD of DBGMCU_IDCODE, protocol.md 2.3) is
 * not busy: the wait ends at the ceiling with an error that says it is hung, and the requests
 * after it are not waited for again. */
static void test_hung_chip_is_not_taken_for_busy(void **st)
{
	(void)st;
	clock_fake_init(&fake);
	struct tp_sim_opts so = {PROFILE_DIR, &fake.clock, false};
	struct tp *tp = NULL;
	struct err e;
	err_clear(&e);
	assert_int_equal(tp_sim_open("f746,timing=2", &so, &tp, &e), 0);
	struct dfu_dev *a = NULL;
	assert_int_equal(dfu_open(tp, &a, &e), 0);
	assert_int_equal(dfu_session_start(a, NULL), 0);
	assert_int_equal(dfu_set_alt(a, 0), 0);
	uint8_t b4[4];
	assert_int_equal(dfuse_read(a, 0xE0042000, b4, 4), STM32DFU_E_TIMEOUT);
	dfu_free(a);
	tp->answered = false;
	tp->first_answer_ms = 60000;
	tp->on_held = on_held;
	held_calls = 0;
	uint64_t t0 = clock_now_us(&fake.clock);
	struct dfu_dev *b = NULL;
	assert_int_equal(dfu_open(tp, &b, &e), STM32DFU_E_TIMEOUT);
	assert_int_equal(clock_now_us(&fake.clock) - t0, 60000000u); /* the ceiling, not 60 s + 4 x 5 s */
	assert_true(tp->first_answer_spent);
	assert_non_null(strstr(e.msg, "answered nothing for 60 s"));
	assert_int_equal(held_calls, 11);
	tp_close(tp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_next_session_waits_for_the_erase),
		cmocka_unit_test(test_hung_chip_is_not_taken_for_busy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
