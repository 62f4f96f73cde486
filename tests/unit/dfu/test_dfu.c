/*
 * DFU/DfuSe host protocol against scripted devices: each test writes the transcript a device
 * would answer with and replays it (tp_trace replay fails on any request not in the script), so
 * the exact request sequence, the sleeps and the error text are all asserted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "dfu/dfuse.h"
#include "usb/tp_trace.h"

/* the header: an F4-like ROM, one DFU alt setting with iInterface 0, wTransferSize 2048, 1.1a */
static const char header[] =
	"INFO 0483 df11 2200 0\n"
	"DESC 12 01 00 01 00 00 00 40 83 04 11 df 00 22 01 02 03 01"
	" 09 02 1b 00 01 01 00 c0 32 09 04 00 00 00 fe 01 02 00 09 21 0b ff 00 00 08 1a 01\n";

static char script[1 << 16];
static size_t slen;

static void s_reset(void)
{
	slen = (size_t)snprintf(script, sizeof script, "%s", header);
}

static void s_add(const char *fmt, ...) PRINTF_LIKE(1, 2);
static void s_add(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	slen += (size_t)vsnprintf(script + slen, sizeof script - slen, fmt, ap);
	va_end(ap);
}

/* a GETSTATUS answered with (status, poll ms, state) */
static void s_status(int status, unsigned poll, int state)
{
	s_add("IN  a1 03 0000 0000 0006 -> 6 | %02x %02x %02x %02x %02x 00\n", status, poll & 0xFF, (poll >> 8) & 0xFF,
	      (poll >> 16) & 0xFF, state);
}
/* a GETSTATE answered with state (every session opens with it) */
static void s_state(int state)
{
	s_add("IN  a1 05 0000 0000 0001 -> 1 | %02x\n", state);
}
static void s_status_fail(const char *what)
{
	s_add("IN  a1 03 0000 0000 0006 -> %s\n", what);
}
static void s_out(int req, unsigned value, const char *hexdata, unsigned len)
{
	s_add("OUT 21 %02x %04x 0000 %04x%s%s -> %u\n", req, value, len, len ? " | " : "", hexdata, len);
}

static struct tp *tp;
static struct dfu_dev *dev;
static struct clock_fake *fake;

static void open_script(void)
{
	struct err e;
	err_clear(&e);
	if (tp_trace_replay_text(script, slen, &tp, &e) != 0)
		fail_msg("%s", e.msg);
	if (dfu_open(tp, &dev, &e) != 0)
		fail_msg("%s", e.msg);
	/* the replay's clock is a clock_fake (tp_trace.h) */
	fake = (struct clock_fake *)tp->clock->ctx;
	fake->slept_us = 0;
	fake->sleeps = 0;
}

static void close_script(void)
{
	dfu_free(dev);
	tp_close(tp);
	dev = NULL;
	tp = NULL;
}

static void test_status_names(void **state)
{
	(void)state;
	assert_string_equal(dfu_state_name(dfuDNBUSY), "dfuDNBUSY");
	assert_string_equal(dfu_state_name(dfuERROR), "dfuERROR");
	assert_string_equal(dfu_state_name(11), "unknown state");
	assert_string_equal(dfu_status_name(errFIRMWARE), "errFIRMWARE");
	assert_string_equal(dfu_status_name(-1), "unknown status");
	struct dfu_getstatus st;
	const uint8_t raw[6] = {0x00, 0x48, 0x01, 0x02, 0x04, 0x00};
	assert_int_equal(dfu_status_parse(raw, 6, &st), 0);
	assert_int_equal(st.bwPollTimeout, 0x020148);
	assert_int_equal(st.bState, dfuDNBUSY);
	assert_int_equal(dfu_status_parse(raw, 5, &st), STM32DFU_E_PROTOCOL);
}

static void test_open(void **state)
{
	(void)state;
	s_reset();
	open_script();
	assert_int_equal(dev->transfer_size, 2048);
	assert_true(dev->dfuse);
	assert_int_equal(dev->map.n, 1);
	assert_int_equal(dev->interface, 0);
	close_script();
}

/* session start from the capture's state: errFIRMWARE/dfuERROR -> CLRSTATUS -> dfuIDLE */
static void test_session_start_dfuerror(void **state)
{
	(void)state;
	s_reset();
	s_state(dfuERROR);
	s_status(errFIRMWARE, 0, dfuERROR);
	s_out(DFU_CLRSTATUS, 0, "", 0);
	s_status(0, 0, dfuIDLE);
	open_script();
	struct dfu_getstatus first;
	assert_int_equal(dfu_session_start(dev, &first), 0);
	assert_int_equal(first.bStatus, errFIRMWARE);
	assert_int_equal(tp_trace_count(tp, TP_REQ_CLRSTATUS), 1);
	assert_int_equal(fake->sleeps, 0);
	close_script();
}

/* H7: the first CLRSTATUS answers errUNKNOWN/dfuERROR, the second clears */
static void test_session_start_h7_double_clear(void **state)
{
	(void)state;
	s_reset();
	s_state(dfuERROR);
	s_status(errUNKNOWN, 0, dfuERROR);
	s_out(DFU_CLRSTATUS, 0, "", 0);
	s_status(errUNKNOWN, 0, dfuERROR);
	s_out(DFU_CLRSTATUS, 0, "", 0);
	s_status(0, 0, dfuIDLE);
	open_script();
	assert_int_equal(dfu_session_start(dev, NULL), 0);
	assert_int_equal(tp_trace_count(tp, TP_REQ_CLRSTATUS), 2);
	close_script();
	/* a device that stays in dfuERROR is reported with state and status names */
	s_reset();
	s_state(dfuERROR);
	s_status(errVENDOR, 0, dfuERROR);
	s_out(DFU_CLRSTATUS, 0, "", 0);
	s_status(errVENDOR, 0, dfuERROR);
	s_out(DFU_CLRSTATUS, 0, "", 0);
	s_status(errVENDOR, 0, dfuERROR);
	open_script();
	assert_int_equal(dfu_session_start(dev, NULL), STM32DFU_E_PROTECTED);
	assert_string_equal(dev->err.msg, "session start: CLRSTATUS: device reports errVENDOR in dfuERROR");
	close_script();
}

/* a GETSTATUS STALLed at session start is not taken for dfuERROR: GETSTATE says where the device
 * is, and CLRSTATUS goes out only in dfuERROR (a CLRSTATUS in dfuIDLE breaks a G4-class ROM's
 * session: data/field/dfu-libusb-4_G4-class-...) */
static void test_session_start_no_clear_outside_error(void **state)
{
	(void)state;
	s_reset();
	s_state(dfuDNLOAD_IDLE);
	s_out(DFU_ABORT, 0, "", 0);
	s_status_fail("STALL");
	s_state(dfuIDLE);
	s_status(0, 0, dfuIDLE);
	open_script();
	assert_int_equal(dfu_session_start(dev, NULL), 0);
	assert_int_equal(tp_trace_count(tp, TP_REQ_CLRSTATUS), 0);
	close_script();
	/* in dfuERROR after the STALL: cleared once */
	s_reset();
	s_state(dfuDNLOAD_IDLE);
	s_out(DFU_ABORT, 0, "", 0);
	s_status_fail("STALL");
	s_state(dfuERROR);
	s_out(DFU_CLRSTATUS, 0, "", 0);
	s_status(0, 0, dfuIDLE);
	open_script();
	assert_int_equal(dfu_session_start(dev, NULL), 0);
	assert_int_equal(tp_trace_count(tp, TP_REQ_CLRSTATUS), 1);
	close_script();
}

/* an idle transfer left over from a previous session is aborted; a DfuSe command left pending
 * (dfuDNLOAD-SYNC: its DNLOAD went out, its GETSTATUS did not) is aborted before any GETSTATUS,
 * which would execute it (AN3156: the command runs on the GETSTATUS after its DNLOAD) */
static void test_session_start_abort(void **state)
{
	(void)state;
	static const int found[] = {dfuUPLOAD_IDLE, dfuDNLOAD_IDLE, dfuDNLOAD_SYNC};
	for (size_t i = 0; i < sizeof found / sizeof found[0]; i++) {
		s_reset();
		s_state(found[i]);
		s_out(DFU_ABORT, 0, "", 0);
		s_status(0, 0, dfuIDLE);
		open_script();
		struct dfu_getstatus first;
		assert_int_equal(dfu_session_start(dev, &first), 0);
		assert_int_equal(first.bState, found[i]); /* reported as found */
		assert_int_equal(tp_trace_count(tp, TP_REQ_ABORT), 1);
		assert_int_equal(tp_trace_count(tp, TP_REQ_GETSTATUS), 1); /* only after the ABORT */
		close_script();
	}
	/* dfuIDLE: GETSTATE alone (status OK is implied), one transfer */
	s_reset();
	s_state(dfuIDLE);
	open_script();
	struct dfu_getstatus first;
	assert_int_equal(dfu_session_start(dev, &first), 0);
	assert_int_equal(first.bState, dfuIDLE);
	assert_int_equal(tp_trace_count(tp, TP_REQ_GETSTATUS), 0);
	close_script();
}

/* what a device that holds its first request tells the caller (tp->on_held) */
static unsigned held_calls, held_last_ms, held_ceiling_ms;
static void on_held(void *ctx, unsigned waited_ms, unsigned ceiling_ms)
{
	(void)ctx;
	held_calls++;
	held_last_ms = waited_ms;
	held_ceiling_ms = ceiling_ms;
}

/* A new session meets a chip still doing flash work an earlier host started (that host killed):
 * the ROM holds every request until the work ends (protocol.md 2.7a), so the session's first
 * GETSTATE times out and is asked again until the first-answer ceiling, each wait told upward;
 * no reset, no CLRSTATUS. The device found in dfuDNLOAD-IDLE (the held GETSTATUS of the dead host
 * ended the busy phase) is aborted to dfuIDLE. */
static void test_session_start_waits_for_busy_chip(void **state)
{
	(void)state;
	s_reset();
	for (int i = 0; i < 3; i++)
		s_add("IN  a1 05 0000 0000 0001 -> TIMEOUT\n");
	s_state(dfuDNLOAD_IDLE);
	s_out(DFU_ABORT, 0, "", 0);
	s_status(0, 0, dfuIDLE);
	open_script();
	tp->first_answer_ms = 60000;
	tp->on_held = on_held;
	held_calls = 0;
	struct dfu_getstatus first;
	assert_int_equal(dfu_session_start(dev, &first), 0);
	assert_int_equal(first.bState, dfuDNLOAD_IDLE);
	assert_int_equal(held_calls, 3);
	assert_int_equal(held_last_ms, 15000);
	assert_int_equal(held_ceiling_ms, 60000);
	assert_int_equal(fake->slept_us, 15000000); /* three 5 s timeouts, nothing else waited */
	assert_true(tp->held_us >= 15000000);
	assert_int_equal(tp_trace_count(tp, TP_REQ_CLRSTATUS), 0);
	assert_int_equal(tp_trace_count(tp, TP_REQ_RESET), 0);
	close_script();
	/* silent for the whole ceiling: hung, not busy; the last try ends at the ceiling, and the
	 * error says so instead of a plain link timeout */
	s_reset();
	for (int i = 0; i < 12; i++)
		s_add("IN  a1 05 0000 0000 0001 -> TIMEOUT\n");
	open_script();
	tp->first_answer_ms = 60000;
	tp->on_held = on_held;
	held_calls = 0;
	assert_int_equal(dfu_session_start(dev, NULL), STM32DFU_E_TIMEOUT);
	assert_int_equal(fake->slept_us, 60000000);
	assert_int_equal(held_calls, 11);
	assert_true(tp->first_answer_spent);
	assert_non_null(strstr(dev->err.msg, "answered nothing for 60 s"));
	close_script();
	/* without the wait (first_answer_ms 0: before this fix) the first timeout ends the session */
	s_reset();
	s_add("IN  a1 05 0000 0000 0001 -> TIMEOUT\n");
	open_script();
	assert_int_equal(dfu_session_start(dev, NULL), STM32DFU_E_TIMEOUT);
	assert_int_equal(fake->slept_us, 5000000);
	close_script();
	/* a device that answers at once is asked once: a normal open costs nothing more */
	s_reset();
	s_state(dfuIDLE);
	open_script();
	tp->first_answer_ms = 60000;
	tp->on_held = on_held;
	held_calls = 0;
	assert_int_equal(dfu_session_start(dev, NULL), 0);
	assert_int_equal(held_calls, 0);
	assert_int_equal(fake->slept_us, 0);
	assert_int_equal(tp->held_us, 0);
	close_script();
}

/* the wait rule: sleep exactly the busy replies' bwPollTimeout, never after an idle reply */
static void test_wait_rule(void **state)
{
	(void)state;
	s_reset();
	s_out(DFU_DNLOAD, 0, "41 00 40 00 08", 5); /* erase 0x08004000 */
	s_status(0, 40, dfuDNBUSY);
	s_status(0, 25, dfuDNBUSY);
	s_status(0, 0, dfuDNBUSY);
	s_status(0, 72, dfuDNLOAD_IDLE); /* the ROM keeps the poll timeout in the idle reply */
	open_script();
	dev->poll_mode = DFU_POLL_SPEC;
	assert_int_equal(dfuse_erase_page(dev, 0x08004000), 0);
	assert_int_equal(fake->slept_us, 65000);
	assert_int_equal(fake->sleeps, 2); /* no sleep call for a zero timeout */
	assert_int_equal(dev->stats.busy_replies, 3);
	assert_int_equal(tp_trace_count(tp, TP_REQ_GETSTATUS), 4);
	close_script();
	/* an idle first reply: no sleep at all */
	s_reset();
	s_out(DFU_DNLOAD, 0, "21 00 00 00 08", 5);
	s_status(0, 72, dfuDNLOAD_IDLE);
	open_script();
	dev->poll_mode = DFU_POLL_SPEC;
	assert_int_equal(dfuse_set_address(dev, 0x08000000), 0);
	assert_int_equal(fake->sleeps, 0);
	close_script();
}

/* --poll auto: the GETSTATUS after the first dfuDNBUSY goes out at once; a holding ROM answers it
 * with the outcome; an asynchronous one with dfuDNBUSY, and the session waits every poll from then */
static void test_wait_auto(void **state)
{
	(void)state;
	s_reset();
	s_out(DFU_DNLOAD, 0, "41 00 40 00 08", 5);
	s_status(0, 100, dfuDNBUSY);
	s_status(0, 0, dfuDNLOAD_IDLE); /* held by the ROM until the erase was done */
	s_out(DFU_DNLOAD, 0, "41 00 80 00 08", 5);
	s_status(0, 100, dfuDNBUSY);
	s_status(0, 0, dfuDNLOAD_IDLE);
	open_script();
	assert_int_equal(dev->poll_mode, DFU_POLL_AUTO);
	assert_int_equal(dfuse_erase_page(dev, 0x08004000), 0);
	assert_int_equal(dfuse_erase_page(dev, 0x08008000), 0);
	assert_int_equal(fake->sleeps, 0);
	assert_int_equal(dev->stats.early_polls, 2);
	assert_int_equal(dev->poll_mode, DFU_POLL_AUTO);
	assert_null(dev->poll_fallback);
	close_script();
	/* asynchronous: busy again when asked early -> spec for the rest of the session */
	s_reset();
	s_out(DFU_DNLOAD, 0, "41 00 40 00 08", 5);
	s_status(0, 40, dfuDNBUSY);
	s_status(0, 40, dfuDNBUSY); /* the early one */
	s_status(0, 0, dfuDNLOAD_IDLE);
	s_out(DFU_DNLOAD, 0, "41 00 80 00 08", 5);
	s_status(0, 40, dfuDNBUSY);
	s_status(0, 0, dfuDNLOAD_IDLE);
	open_script();
	assert_int_equal(dfuse_erase_page(dev, 0x08004000), 0);
	assert_int_equal(dev->poll_mode, DFU_POLL_SPEC);
	assert_string_equal(dev->poll_fallback, "busy");
	assert_int_equal(fake->slept_us, 40000);
	assert_int_equal(dfuse_erase_page(dev, 0x08008000), 0);
	assert_int_equal(fake->slept_us, 80000); /* the second erase waited its poll */
	assert_int_equal(dev->stats.early_polls, 1);
	close_script();
	/* L4: the early GETSTATUS STALLs -> wait the poll, ask again, spec from now on */
	s_reset();
	s_out(DFU_DNLOAD, 0, "41 00 00 00 08", 5);
	s_status(0, 20, dfuDNBUSY);
	s_status_fail("STALL");
	s_status(0, 0, dfuDNLOAD_IDLE);
	open_script();
	assert_int_equal(dfuse_erase_page(dev, 0x08000000), 0);
	assert_int_equal(fake->slept_us, 20000);
	assert_int_equal(dev->poll_mode, DFU_POLL_SPEC);
	assert_string_equal(dev->poll_fallback, "stall");
	close_script();
}

/* the ceiling bounds the wait, and the message says how long it waited */
static void test_wait_ceiling(void **state)
{
	(void)state;
	s_reset();
	s_out(DFU_DNLOAD, 0, "41 00 00 00 08", 5);
	for (int i = 0; i < 5; i++)
		s_status(0, 1000, dfuDNBUSY);
	open_script();
	dev->poll_mode = DFU_POLL_SPEC;
	dev->limits.erase_ms = 3500;
	assert_int_equal(dfuse_erase_page(dev, 0x08000000), STM32DFU_E_TIMEOUT);
	/* the last question is asked when the ceiling has passed, not a poll before it */
	assert_string_equal(dev->err.msg, "erase 0x08000000: GETSTATUS: still dfuDNBUSY after 3500 ms (limit 3500 ms)");
	assert_int_equal(fake->slept_us, 3500000);
	close_script();
	/* too many zero-timeout busy replies */
	s_reset();
	s_out(DFU_DNLOAD, 0, "41", 1);
	for (int i = 0; i < 4; i++)
		s_status(0, 0, dfuDNBUSY);
	open_script();
	dev->limits.max_zero_polls = 3;
	assert_int_equal(dfuse_mass_erase(dev), STM32DFU_E_TIMEOUT);
	assert_string_equal(dev->err.msg,
	                    "mass erase: GETSTATUS: device stuck in dfuDNBUSY (4 replies with bwPollTimeout 0)");
	close_script();
}

/* errors after a command carry the status and state names; STALLs while busy are retried */
static void test_command_errors(void **state)
{
	(void)state;
	s_reset();
	s_out(DFU_DNLOAD, 0, "21 00 00 00 00", 5);
	s_status(0, 10, dfuDNBUSY);
	s_status(errTARGET, 0, dfuERROR);
	open_script();
	assert_int_equal(dfuse_set_address(dev, 0), STM32DFU_E_DFU_STATUS);
	assert_string_equal(dev->err.msg, "set address 0x00000000: GETSTATUS: device reports errTARGET in dfuERROR");
	assert_true(strstr(dev->err.hint, "errTARGET") != NULL);
	close_script();
	/* L4: GETSTATUS stalls while busy; the last poll timeout is reused */
	s_reset();
	s_out(DFU_DNLOAD, 0, "41 00 00 00 08", 5);
	s_status(0, 20, dfuDNBUSY);
	s_status_fail("STALL");
	s_status(0, 0, dfuDNLOAD_IDLE);
	open_script();
	dev->poll_mode = DFU_POLL_SPEC;
	assert_int_equal(dfuse_erase_page(dev, 0x08000000), 0);
	assert_int_equal(fake->slept_us, 40000);
	assert_int_equal(dev->stats.status_stalls_retried, 1);
	close_script();
	/* a wrong state after a command */
	s_reset();
	s_out(DFU_DNLOAD, 0, "41", 1);
	s_status(0, 0, dfuIDLE);
	open_script();
	assert_int_equal(dfuse_mass_erase(dev), STM32DFU_E_PROTOCOL);
	assert_string_equal(dev->err.msg,
	                    "mass erase: GETSTATUS: unexpected state dfuIDLE after DNLOAD (want dfuDNLOAD-IDLE)");
	close_script();
}

/* leave: dfuMANIFEST is success; a failed GETSTATUS is "probably left"; dfuERROR is an error */
static void test_leave(void **state)
{
	(void)state;
	s_reset();
	s_out(DFU_DNLOAD, 2, "", 0);
	s_status(0, 0, dfuMANIFEST);
	open_script();
	assert_int_equal(dfuse_leave(dev, false, 0), DFUSE_LEFT);
	close_script();
	s_reset();
	s_out(DFU_DNLOAD, 0, "21 00 00 00 08", 5);
	s_status(0, 0, dfuDNLOAD_IDLE);
	s_out(DFU_DNLOAD, 2, "", 0);
	s_status_fail("DISCONNECTED");
	open_script();
	assert_int_equal(dfuse_leave(dev, true, 0x08000000), DFUSE_LEFT_PROBABLY);
	assert_int_equal(dev->err.code, 0);
	close_script();
	s_reset();
	s_out(DFU_DNLOAD, 2, "", 0);
	s_status(errTARGET, 0, dfuERROR);
	open_script();
	assert_int_equal(dfuse_leave(dev, false, 0), STM32DFU_E_DFU_STATUS);
	close_script();
}

/* a read run: one Set Address, ABORT to idle, consecutive UPLOAD blocks, ABORT at the end */
static void test_read_run(void **state)
{
	(void)state;
	s_reset();
	s_out(DFU_DNLOAD, 0, "21 00 10 00 08", 5);
	s_status(0, 0, dfuDNBUSY);
	s_status(0, 0, dfuDNLOAD_IDLE);
	s_out(DFU_ABORT, 0, "", 0);
	s_status(0, 0, dfuIDLE);
	for (unsigned b = 2; b < 5; b++) {
		unsigned n = b < 4 ? 2048 : 100;
		s_add("IN  a1 02 %04x 0000 %04x -> %u |", b, n, n);
		for (unsigned i = 0; i < n; i++)
			s_add(" %02x", (b + i) & 0xFF);
		s_add("\n");
	}
	s_out(DFU_ABORT, 0, "", 0);
	open_script();
	static uint8_t buf[4196];
	assert_int_equal(dfuse_read(dev, 0x08001000, buf, sizeof buf), 0);
	assert_int_equal(buf[0], 2);
	assert_int_equal(buf[2048], 3);
	assert_int_equal(buf[4096 + 99], (4 + 99) & 0xFF);
	assert_int_equal(tp_trace_count(tp, TP_REQ_SET_ADDRESS), 1);
	assert_int_equal(tp_trace_count(tp, TP_REQ_UPLOAD_DATA), 3);
	close_script();
}

/* a mismatching request fails the replay with both setups in the message */
static void test_replay_mismatch(void **state)
{
	(void)state;
	s_reset();
	s_out(DFU_DNLOAD, 0, "21 00 00 00 08", 5);
	open_script();
	assert_int_equal(dfuse_set_address(dev, 0x08000004), STM32DFU_E_PROTOCOL);
	assert_true(strstr(dev->err.msg, "replay: transfer 1 differs") != NULL);
	close_script();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_names),
		cmocka_unit_test(test_open),
		cmocka_unit_test(test_session_start_dfuerror),
		cmocka_unit_test(test_session_start_h7_double_clear),
		cmocka_unit_test(test_session_start_abort),
		cmocka_unit_test(test_session_start_no_clear_outside_error),
		cmocka_unit_test(test_session_start_waits_for_busy_chip),
		cmocka_unit_test(test_wait_rule),
		cmocka_unit_test(test_wait_auto),
		cmocka_unit_test(test_wait_ceiling),
		cmocka_unit_test(test_command_errors),
		cmocka_unit_test(test_leave),
		cmocka_unit_test(test_read_run),
		cmocka_unit_test(test_replay_mismatch),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
