/*
 * serial/: the termios door on a real pseudo-terminal (the kernel's tty layer, not a mock), the
 * errors a person meets (no such port, busy, a rate the port does not offer), and the trace
 * decorator's transcript and fault rules over the emulator door.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/clock.h"
#include "serial/ser_sim.h"
#include "serial/ser_trace.h"
#include "serial/serial.h"
#include "sim/sim_uart.h"

static int open_pty(char *path, size_t cap)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY);
	assert_true(m >= 0);
	assert_int_equal(grantpt(m), 0);
	assert_int_equal(unlockpt(m), 0);
	assert_int_equal(ptsname_r(m, path, cap), 0);
	return m;
}

static void test_tty_door(void **st)
{
	(void)st;
	char path[64];
	int m = open_pty(path, sizeof path);
	struct ser *s = NULL;
	struct err e;
	err_clear(&e);
	assert_true(ser_is_pty(path));
	assert_int_equal(ser_open(path, 115200, &s, &e), 0);
	assert_string_equal(s->ops->name, "tty");
	assert_int_equal(s->cfg.baud, 115200);
	assert_int_equal(s->cfg.parity, SER_PARITY_EVEN);
	/* host to chip */
	assert_int_equal(ser_write(s, (const uint8_t *)"\x7f\x00\xff", 3, 100), 3);
	uint8_t b[8];
	assert_int_equal(read(m, b, 3), 3);
	assert_memory_equal(b, "\x7f\x00\xff", 3);
	/* chip to host, and a short read when fewer bytes come than asked */
	assert_int_equal(write(m, "\x79\x1f", 2), 2);
	assert_int_equal(ser_read(s, b, 4, 50), 2);
	assert_int_equal(b[0], 0x79);
	assert_int_equal(b[1], 0x1f);
	assert_int_equal(ser_read(s, b, 1, 20), 0);
	/* a second opener is turned away while we hold the port */
	struct ser *s2 = NULL;
	struct err e2;
	err_clear(&e2);
	assert_int_equal(ser_open(path, 115200, &s2, &e2), STM32DFU_E_USB_IO);
	assert_null(s2);
	assert_non_null(strstr(e2.msg, "busy"));
	assert_non_null(strstr(e2.hint, "close the other program"));
	/* a rate the port does not offer */
	struct ser_config odd = ser_config_8e1(12345);
	assert_int_equal(ser_configure(s, &odd), STM32DFU_E_USAGE);
	ser_close(s);
	/* free again once closed */
	assert_int_equal(ser_open(path, 57600, &s, &e), 0);
	ser_close(s);
	close(m);
}

static void test_no_such_port(void **st)
{
	(void)st;
	struct ser *s = NULL;
	struct err e;
	err_clear(&e);
	assert_int_equal(ser_open("/dev/ttyNOSUCHPORT9", 115200, &s, &e), STM32DFU_E_NO_DEVICE);
	assert_null(s);
	assert_non_null(strstr(e.msg, "/dev/ttyNOSUCHPORT9"));
	assert_non_null(strstr(e.hint, "list --ports"));
	err_clear(&e);
	assert_int_equal(ser_open("", 115200, &s, &e), STM32DFU_E_USAGE);
	/* listing opens nothing; it works (or says the build cannot) */
	struct ser_port_info ports[16];
	size_t total = 0;
	int r = ser_list(ports, 16, &total, &e);
	assert_true(r == 0 || r == STM32DFU_E_UNSUPPORTED);
}

static void test_wire_time(void **st)
{
	(void)st;
	struct ser_config c = ser_config_8e1(115200);
	assert_int_equal(ser_bits_per_byte(&c), 11);
	/* 1 MiB at 115200 8E1: 11 * 1048576 / 115200 = 100.12 s */
	assert_int_equal(ser_wire_us(&c, 1048576) / 1000000, 100);
	struct ser_config n = {9600, SER_PARITY_NONE, 8, 1};
	assert_int_equal(ser_wire_us(&n, 1), 1042);
}

static void test_trace_transcript_and_rules(void **st)
{
	(void)st;
	struct clock_fake clk;
	clock_fake_init(&clk);
	struct ser *sim = NULL;
	struct err e;
	err_clear(&e);
	assert_int_equal(ser_sim_open("f746,timing=0", PROFILE_DIR, &clk.clock, &sim, &e), 0);
	/* flip bit 0 of the 3rd byte written: 00 ff becomes 00 fe, the ROM NACKs the GET */
	struct ser_trace_rules rules = {.tx_flip_at = 3};
	struct ser *s = ser_trace_wrap(sim, NULL, &rules);
	uint8_t b[32];
	assert_int_equal(ser_write(s, (const uint8_t *)"\x7f", 1, 100), 1);
	assert_int_equal(ser_read(s, b, 1, 100), 1);
	assert_int_equal(ser_write(s, (const uint8_t *)"\x00\xff", 2, 100), 2);
	assert_int_equal(ser_read(s, b, 1, 100), 1);
	assert_int_equal(b[0], 0x1f);
	char t[256];
	ser_trace_text(s, t, sizeof t);
	/* the transcript shows what the host meant to send */
	assert_string_equal(t, "> 7f\n< 79\n> 00 ff\n< 1f");
	struct ser_trace_counts c;
	ser_trace_counts(s, &c);
	assert_int_equal(c.bytes_out, 3);
	assert_int_equal(c.bytes_in, 2);
	assert_int_equal(c.faults, 1);
	struct sim_uart_stats us;
	sim_uart_get_stats(ser_sim_uart(sim), &us);
	assert_int_equal(us.nacks, 1);
	ser_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tty_door),
		cmocka_unit_test(test_no_such_port),
		cmocka_unit_test(test_wire_time),
		cmocka_unit_test(test_trace_transcript_and_rules),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
