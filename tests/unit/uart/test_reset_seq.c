/*
 * Reset sequences on DTR/RTS (serial/ser_seq.h) and the fixture the emulator models behind them
 * (sim/uart.c uart_nrst/uart_boot0): the sequence is what makes the chip answer. A wired board is
 * held in reset while the port is open (the OS asserts DTR and RTS), a board started with BOOT0
 * low runs its application (silent), and only a reset with BOOT0 high brings the ROM back.
 * Fake clock: the 100 ms steps cost nothing and are still exact.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "chip/chip.h"
#include "core/clock.h"
#include "target/ports.h"
#include "ops/session.h"
#include "serial/ser_seq.h"
#include "serial/ser_sim.h"
#include "sim/sim_uart.h"
#include "uart/an3155.h"

static void parse_ok(const char *text, struct ser_seq_pair *p)
{
	struct err e;
	err_clear(&e);
	if (ser_seq_parse(text, p, &e) != 0)
		fail_msg("%s: %s", text ? text : "(default)", e.msg);
}

static void step_is(const struct ser_seq_step *s, int dtr, int rts, unsigned ms)
{
	assert_int_equal(s->dtr, dtr);
	assert_int_equal(s->rts, rts);
	assert_int_equal(s->delay_ms, ms);
}

/* stm32flash's -i grammar for the modem lines; the string of a real F407 fixture
 * (data/uart/UNRESOLVED-REPO_rrclite-lab_F407VE-...: -i 'rts&-dtr,dtr:rts&-dtr,-rts') */
static void test_parse(void **st)
{
	(void)st;
	struct ser_seq_pair p;
	parse_ok("rts&-dtr,dtr:rts&-dtr,-rts", &p);
	assert_int_equal(p.entry.n, 2);
	step_is(&p.entry.steps[0], 0, 1, 100);
	step_is(&p.entry.steps[1], 1, -1, 0);
	assert_true(p.has_exit);
	assert_int_equal(p.exit.n, 2);
	step_is(&p.exit.steps[0], 0, 1, 100);
	step_is(&p.exit.steps[1], -1, 0, 0);
	/* the man page's example of waits: "rts,,,,-dtr" sets RTS, waits 400 ms, deasserts DTR */
	parse_ok("rts,,,,-dtr", &p);
	assert_int_equal(p.entry.n, 2);
	step_is(&p.entry.steps[0], -1, 1, 400);
	step_is(&p.entry.steps[1], 0, -1, 0);
	assert_false(p.has_exit);
	/* the default */
	parse_ok(NULL, &p);
	assert_int_equal(p.entry.n, 2);
	step_is(&p.entry.steps[0], 1, 1, 100);
	step_is(&p.entry.steps[1], 0, -1, 100);
	assert_true(p.has_exit);
	step_is(&p.exit.steps[0], 1, 0, 100);
	step_is(&p.exit.steps[1], 0, -1, 0);
	/* refused, each with the problem named */
	static const char *const bad[] = {"4,-3,3", "brk,rts", "rts:dtr:rts", "dtrx", "rts&&x"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct err e;
		err_clear(&e);
		assert_int_equal(ser_seq_parse(bad[i], &p, &e), STM32DFU_E_USAGE);
		assert_non_null(strstr(e.msg, bad[i]));
	}
}

struct rig {
	struct clock_fake clk;
	struct ser *s;
};

static void rig_open(struct rig *r, const char *spec)
{
	struct err e;
	clock_fake_init(&r->clk);
	err_clear(&e);
	if (ser_sim_open(spec, PROFILE_DIR, &r->clk.clock, &r->s, &e))
		fail_msg("%s: %s", spec, e.msg);
}

static enum target_probe_answer probe(struct rig *r, const char *seq_text, struct target_port_probe *out)
{
	struct ser_seq_pair seq;
	if (seq_text)
		parse_ok(seq_text, &seq);
	target_probe_ser(r->s, seq_text ? &seq : NULL, out);
	return out->answer;
}

/* list --probe names a family from GET and Get ID, whose answers carry no checksum: two flipped bits
 * pass the parity (0x449, the F746, reads 0x451, the F76x, with bits 3 and 4 of 0x49 flipped; 0x31
 * Write Memory reads 0xA1 Get Checksum with bits 4 and 7). The probe takes an answer only when two
 * in a row agree, as a session's connect does. ROM bytes of a probe on a clean line: 79 (1); GET
 * 79 0b ... 79 (2-16, again 17-31); Get Version (32-36); Get ID 79 01 04 49 79 (37-41, again 42-46). */
static void test_probe_double_flips(void **st)
{
	(void)st;
	struct rig r;
	struct target_port_probe p;
	struct sim_uart_stats us;
	/* a clean line: GET and Get ID twice, Get Version once (1 + 2 + 2 + 2 + 2 + 2 host bytes) */
	rig_open(&r, "f746,timing=0");
	assert_int_equal(probe(&r, NULL, &p), TARGET_PROBE_ACK);
	assert_true(p.have_id);
	assert_int_equal(p.dev_id, 0x449);
	sim_uart_get_stats(ser_sim_uart(r.s), &us);
	assert_int_equal(us.bytes_in, 11);
	assert_int_equal(us.bytes_out, 46);
	ser_close(r.s);
	/* byte 25 (where one GET and one Get Version end, the ID byte of a single-asked Get ID) and
	 * byte 40 (the first Get ID's ID byte) flipped 0x49 -> 0x51: the F746 all the same */
	static const unsigned at[] = {25, 40, 55};
	for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
		char spec[96];
		snprintf(spec, sizeof spec, "f746,timing=0,uart_noise2_tx_at=%u,uart_noise2_mask=0x18", at[i]);
		rig_open(&r, spec);
		assert_int_equal(probe(&r, NULL, &p), TARGET_PROBE_ACK);
		assert_true(p.have_id);
		assert_int_equal(p.dev_id, 0x449);
		assert_ptr_equal(p.family, chip_family_by_dev_id(0x449));
		ser_close(r.s);
	}
	/* 0x31 (Write Memory) in the first GET answer flipped to 0xA1 (Get Checksum): not believed */
	rig_open(&r, "f746,timing=0,uart_noise2_tx_at=10,uart_noise2_mask=0x90");
	assert_int_equal(probe(&r, NULL, &p), TARGET_PROBE_ACK);
	assert_true(p.have_get);
	assert_non_null(memchr(p.cmds, 0x31, p.ncmds));
	assert_null(memchr(p.cmds, 0xA1, p.ncmds));
	ser_close(r.s);
}

/* The default wiring (DTR asserted: NRST low; RTS asserted: BOOT0 high) with the default sequence */
static void test_default_wiring(void **st)
{
	(void)st;
	struct rig r;
	struct target_port_probe p;
	rig_open(&r, "f746,uart_nrst=dtr,uart_boot0=rts");
	/* the port is open, DTR asserted: the chip is held in reset and nothing answers */
	assert_int_equal(probe(&r, NULL, &p), TARGET_PROBE_NONE);
	/* the entry sequence: BOOT0 high, NRST pulsed: the ROM answers 0x7F with ACK */
	assert_int_equal(probe(&r, "rts&dtr,-dtr,", &p), TARGET_PROBE_ACK);
	assert_true(p.reset_seq);
	assert_true(p.have_id);
	assert_int_equal(p.dev_id, 0x449);
	/* a NRST pulse with BOOT0 low: the application starts, the bootloader is gone */
	assert_int_equal(probe(&r, "-rts&dtr,-dtr,", &p), TARGET_PROBE_NONE);
	assert_int_equal(probe(&r, NULL, &p), TARGET_PROBE_NONE);
	/* the default pair: entry, probe, then exit (BOOT0 low, reset): the board runs its application */
	assert_int_equal(probe(&r, "", &p), TARGET_PROBE_ACK);
	assert_true(p.reset_exit);
	assert_int_equal(probe(&r, NULL, &p), TARGET_PROBE_NONE);
	ser_close(r.s);
}

/* The sequence is what makes it answer: the same chip under another wiring stays silent with the
 * default sequence and answers with the sequence for its wiring; an unwired board with BOOT0 low
 * answers to nothing */
static void test_wiring_matters(void **st)
{
	(void)st;
	struct rig r;
	struct target_port_probe p;
	/* NRST active while DTR is deasserted, BOOT0 high while RTS is deasserted */
	rig_open(&r, "f407,uart_nrst=-dtr,uart_boot0=-rts");
	/* open asserted both: NRST released, and BOOT0 was low when the chip started (lines idle) */
	assert_int_equal(probe(&r, NULL, &p), TARGET_PROBE_NONE);
	assert_int_equal(probe(&r, "rts&dtr,-dtr,", &p), TARGET_PROBE_NONE); /* the default: held in reset */
	assert_int_equal(probe(&r, "-rts&-dtr,dtr,", &p), TARGET_PROBE_ACK);
	assert_int_equal(p.dev_id, 0x413);
	ser_close(r.s);

	rig_open(&r, "f407,uart_boot0=low");
	assert_int_equal(probe(&r, NULL, &p), TARGET_PROBE_NONE);
	assert_int_equal(probe(&r, "", &p), TARGET_PROBE_NONE); /* the lines reach neither pin */
	ser_close(r.s);

	/* unwired and BOOT0 high (every other test's board): the lines change nothing */
	rig_open(&r, "f407");
	assert_int_equal(probe(&r, "", &p), TARGET_PROBE_ACK);
	assert_int_equal(probe(&r, NULL, &p), TARGET_PROBE_NACK); /* still in the bootloader, synchronised */
	ser_close(r.s);
}

/* A reset after a protection command samples BOOT0 again: with BOOT0 held low by the fixture the
 * chip comes back in its application */
static void test_bad_wiring_key(void **st)
{
	(void)st;
	struct ser *s = NULL;
	struct err e;
	struct clock_fake clk;
	clock_fake_init(&clk);
	err_clear(&e);
	assert_int_equal(ser_sim_open("f746,uart_nrst=dsr", PROFILE_DIR, &clk.clock, &s, &e), STM32DFU_E_USAGE);
	assert_non_null(strstr(e.msg, "uart_nrst"));
	err_clear(&e);
	assert_int_equal(ser_sim_open("f746,uart_nrst=rts,uart_boot0=-rts", PROFILE_DIR, &clk.clock, &s, &e),
	                 STM32DFU_E_USAGE);
	assert_non_null(strstr(e.msg, "share"));
}

/* A session over --port (here the in-process door) opened with reset_seq drives the entry sequence
 * before its 0x7F, and ops_reset_exit drives the exit one: the chip restarts in its application */
static int open_wired(struct clock_fake *clk, const char *seq, struct ops_session **s, struct err *e)
{
	struct ops_open_opts o;
	ops_open_opts_init(&o);
	o.sim_spec = "f407,link=uart,uart_nrst=dtr,uart_boot0=rts";
	o.profile_dir = PROFILE_DIR;
	o.clock = &clk->clock;
	o.rescue_dir = "";
	o.reset_seq = seq;
	err_clear(e);
	return ops_open(&o, s, e);
}

static void test_open_path(void **st)
{
	(void)st;
	struct clock_fake clk;
	clock_fake_init(&clk);
	struct ops_session *s = NULL;
	struct err e;
	/* the port open holds NRST low (DTR asserted): without the sequence nothing answers 0x7F */
	assert_int_equal(open_wired(&clk, NULL, &s, &e), STM32DFU_E_TIMEOUT);
	assert_null(s);
	/* with it, the board is reset into its ROM and the session opens */
	assert_int_equal(open_wired(&clk, "", &s, &e), 0);
	assert_int_equal(s->bl->pid, 0x413);
	/* the default exit: BOOT0 low, NRST pulsed: the application runs, no bootloader answers 0x7F */
	assert_int_equal(ops_reset_exit(s), 0);
	assert_int_equal(an3155_sync(s->bl), STM32DFU_E_TIMEOUT);
	ops_close(s);
	/* an exit that leaves BOOT0 high resets into the ROM again: the check above tells them apart */
	assert_int_equal(open_wired(&clk, "rts&dtr,-dtr,:dtr,-dtr,", &s, &e), 0);
	assert_int_equal(ops_reset_exit(s), 0);
	assert_int_equal(an3155_sync(s->bl), 0);
	ops_close(s);
	/* no exit part: refused, nothing driven */
	assert_int_equal(open_wired(&clk, "rts&dtr,-dtr,", &s, &e), 0);
	assert_int_equal(ops_reset_exit(s), STM32DFU_E_USAGE);
	assert_int_equal(an3155_get_id(s->bl), 0);
	ops_close(s);
	/* a wrong sequence is refused before the port is opened */
	assert_int_equal(open_wired(&clk, "brk", &s, &e), STM32DFU_E_USAGE);
	/* and it needs a serial link */
	struct ops_open_opts o;
	ops_open_opts_init(&o);
	o.sim_spec = "f407";
	o.profile_dir = PROFILE_DIR;
	o.reset_seq = "";
	assert_int_equal(ops_open(&o, &s, &e), STM32DFU_E_USAGE);
	assert_non_null(strstr(e.msg, "--port"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_default_wiring),
		cmocka_unit_test(test_probe_double_flips),
		cmocka_unit_test(test_wiring_matters),
		cmocka_unit_test(test_bad_wiring_key),
		cmocka_unit_test(test_open_path),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
