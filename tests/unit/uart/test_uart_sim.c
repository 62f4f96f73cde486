/*
 * The emulator's AN3155 front end (sim/uart.c) driven by our client (uart/an3155.c) through the
 * in-process serial door (serial/ser_sim.c) on a fake clock, and through the trace decorator so
 * the bytes on the wire are asserted. Memories come from the chip model; expectations from AN3155,
 * the profile's datasheet times and the wire arithmetic (11 bits a byte at 8E1).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/clock.h"
#include "serial/ser_sim.h"
#include "serial/ser_trace.h"
#include "sim/sim.h"
#include "sim/sim_uart.h"
#include "uart/an3155.h"


struct rig {
	struct clock_fake clk;
	struct ser *sim, *s; /* s: the trace over sim */
	struct an3155 b;
};

static void rig_open(struct rig *r, const char *spec, const struct ser_trace_rules *rules)
{
	struct err e;
	clock_fake_init(&r->clk);
	err_clear(&e);
	int rc = ser_sim_open(spec, PROFILE_DIR, &r->clk.clock, &r->sim, &e);
	if (rc)
		fail_msg("%s: %s", spec, e.msg);
	r->s = ser_trace_wrap(r->sim, NULL, rules);
	assert_non_null(r->s);
	an3155_init(&r->b, r->s);
}

static void rig_close(struct rig *r)
{
	ser_close(r->s);
}

static struct sim_device *dev(struct rig *r)
{
	return sim_uart_device(ser_sim_uart(r->sim));
}

static void fill(uint8_t *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (uint8_t)(seed >> 16);
	}
}

/* connect: the bytes of stm32flash's order (7F, GET, Get Version, Get ID) and the F746's identity */
static void test_connect_f746(void **st)
{
	(void)st;
	struct rig r;
	rig_open(&r, "f746,timing=1", NULL);
	assert_int_equal(an3155_connect(&r.b), 0);
	assert_int_equal(r.b.pid, 0x449);
	assert_int_equal(r.b.version, 0x31);
	assert_true(an3155_has(&r.b, AN3155_EXT_ERASE));
	assert_false(an3155_has(&r.b, AN3155_ERASE));
	char t[512];
	ser_trace_text(r.s, t, sizeof t);
	/* GET and Get ID twice: their answers have no checksum (an3155_connect) */
	assert_string_equal(t, "> 7f\n< 79\n> 00 ff\n< 79 0b 31 00 01 02 11 21 31 44 63 73 82 92 79\n"
	                       "> 00 ff\n< 79 0b 31 00 01 02 11 21 31 44 63 73 82 92 79\n"
	                       "> 01 fe\n< 79 31 00 00 79\n> 02 fd\n< 79 01 04 49 79\n> 02 fd\n< 79 01 04 49 79");
	rig_close(&r);
}

/* A write of 1 KiB after erasing sector 0, read back; the time taken is the wire plus the flash:
 * per 256-byte block 2 + 5 + 258 bytes out and 3 ACKs in, at 11 bits a byte, plus t_prog for 256
 * bytes at x8 (16 us each, DS10916), and the 32 KiB sector erase (400 ms at x8). */
static void test_erase_write_read_timing(void **st)
{
	(void)st;
	struct rig r;
	rig_open(&r, "f746,timing=1", NULL);
	assert_int_equal(an3155_connect(&r.b), 0);
	uint8_t data[1024], back[1024];
	fill(data, sizeof data, 7);
	uint64_t t0 = clock_now_us(&r.clk.clock);
	uint16_t sec0 = 0;
	assert_int_equal(an3155_erase_pages(&r.b, &sec0, 1), 0);
	uint64_t t1 = clock_now_us(&r.clk.clock);
	/* 44 bb + (00 00 00 00 00) out, 2 ACKs in: 9 bytes of 95.5 us, plus 400 ms */
	assert_in_range(t1 - t0, 400000 + 9 * 95, 400000 + 9 * 96 + 100);
	for (size_t off = 0; off < sizeof data; off += 256)
		assert_int_equal(an3155_write(&r.b, 0x08000000 + (uint32_t)off, data + off, 256), 0);
	uint64_t t2 = clock_now_us(&r.clk.clock);
	uint64_t wire = (uint64_t)4 * (2 + 5 + 258 + 3) * 11 * 1000000 / 115200, flash = 4 * 256 * 16;
	assert_in_range(t2 - t1, wire + flash, wire + flash + 4 * 3 * 100);
	assert_int_equal(an3155_read_all(&r.b, 0x08000000, back, sizeof back), 0);
	assert_memory_equal(back, data, sizeof data);
	/* what the chip holds, by the model's own eyes */
	assert_true(sim_mem_read(dev(&r), 0x08000000, back, sizeof back));
	assert_memory_equal(back, data, sizeof data);
	assert_int_equal(r.b.stats.retries, 0);
	rig_close(&r);
}

/* The line's time is the bytes' exact time at the rate: 11 bits / 115200 = 95.486 us a byte, not a
 * whole 96 us each (0.54 % slower than any real line, both ways). 4 Read Memory of 256 bytes: 9
 * bytes out and 3 ACKs + 256 data in each, back to back: 1072 bytes = 102361.1 us; each byte ends
 * no earlier than on the real line, and at most a microsecond later at each turn of the line. */
static void test_wire_time_is_exact(void **st)
{
	(void)st;
	static const unsigned rates[] = {115200, 921600};
	for (size_t k = 0; k < 2; k++) {
		struct rig r;
		rig_open(&r, "f446,timing=1", NULL);
		struct ser_config c = ser_config_8e1(rates[k]);
		assert_int_equal(ser_configure(r.s, &c), 0);
		assert_int_equal(an3155_connect(&r.b), 0);
		uint8_t back[1024];
		uint64_t t0 = clock_now_us(&r.clk.clock);
		assert_int_equal(an3155_read_all(&r.b, 0x08000000, back, sizeof back), 0);
		uint64_t t = clock_now_us(&r.clk.clock) - t0;
		uint64_t exact = ((uint64_t)4 * (9 + 3 + 256) * 11 * 1000000 + rates[k] - 1) / rates[k];
		assert_in_range(t, exact, exact + 4 * 6);
		rig_close(&r);
	}
}

/* Readout Protect: two ACKs, a reset, re-sync; reads and writes are NACKed on the command byte
 * (PROTECTED), Get ID still answers; Readout Unprotect erases the flash and comes back clean. */
static void test_readout_protect_cycle(void **st)
{
	(void)st;
	struct rig r;
	rig_open(&r, "f746,timing=0", NULL);
	assert_int_equal(an3155_connect(&r.b), 0);
	uint8_t data[256], back[256];
	fill(data, sizeof data, 3);
	assert_int_equal(an3155_write(&r.b, 0x08000000, data, sizeof data), 0);
	assert_int_equal(an3155_readout_protect(&r.b), 0);
	/* until the reset is over and 0x7F came, the ROM does not listen */
	assert_int_equal(an3155_resync_after_reset(&r.b), 0);
	assert_int_equal(an3155_read(&r.b, 0x08000000, back, 16), STM32DFU_E_PROTECTED);
	assert_int_equal(an3155_write(&r.b, 0x08000000, data, 16), STM32DFU_E_PROTECTED);
	assert_int_equal(an3155_get_id(&r.b), 0);
	assert_int_equal(r.b.pid, 0x449);
	assert_true(sim_mem_read(dev(&r), 0x08000000, back, sizeof back));
	assert_memory_equal(back, data, sizeof data); /* protected, not erased */
	assert_int_equal(an3155_readout_unprotect(&r.b), 0);
	assert_int_equal(an3155_resync_after_reset(&r.b), 0);
	assert_int_equal(an3155_read(&r.b, 0x08000000, back, sizeof back), 0);
	for (size_t i = 0; i < sizeof back; i++)
		assert_int_equal(back[i], 0xFF);
	rig_close(&r);
}

/* Write Protect sector 1: after the reset its erase is ACKed and does nothing (AN3155: no error on
 * protected sectors, the host must read back); Write Unprotect undoes it. */
static void test_write_protect_cycle(void **st)
{
	(void)st;
	struct rig r;
	rig_open(&r, "f746,timing=0", NULL);
	assert_int_equal(an3155_connect(&r.b), 0);
	uint8_t data[256], back[256];
	fill(data, sizeof data, 5);
	assert_int_equal(an3155_write(&r.b, 0x08008000, data, sizeof data), 0);
	uint8_t sec = 1;
	assert_int_equal(an3155_write_protect(&r.b, &sec, 1), 0);
	assert_int_equal(an3155_resync_after_reset(&r.b), 0);
	uint16_t p = 1;
	assert_int_equal(an3155_erase_pages(&r.b, &p, 1), 0);
	assert_int_equal(an3155_read(&r.b, 0x08008000, back, sizeof back), 0);
	assert_memory_equal(back, data, sizeof data);
	/* the option bytes read over USART show nWRP bit 1 clear (RM0385: byte 8 of the block) */
	uint8_t ob[32];
	assert_int_equal(an3155_read(&r.b, 0x1FFF0000, ob, sizeof ob), 0);
	assert_int_equal(ob[8], 0xFD);
	assert_int_equal(an3155_write_unprotect(&r.b), 0);
	assert_int_equal(an3155_resync_after_reset(&r.b), 0);
	assert_int_equal(an3155_erase_pages(&r.b, &p, 1), 0);
	assert_int_equal(an3155_read(&r.b, 0x08008000, back, sizeof back), 0);
	for (size_t i = 0; i < sizeof back; i++)
		assert_int_equal(back[i], 0xFF);
	rig_close(&r);
}

/* Write Protect sets exactly the sectors it lists (a second command unprotects what the first
 * protected: AN3155 3.9 note), ignores codes past the flash without an error (the same note), and
 * writes each WRP byte's complement with it; Write Unprotect changes the WRP bits only (the F76x
 * byte that holds nWRP[11:8] also holds nDBANK: RM0410). */
static void test_write_protect_replaces(void **st)
{
	(void)st;
	struct rig r;
	rig_open(&r, "f746,timing=0", NULL);
	assert_int_equal(an3155_connect(&r.b), 0);
	uint8_t sec = 1, ob[32];
	assert_int_equal(an3155_write_protect(&r.b, &sec, 1), 0);
	assert_int_equal(an3155_resync_after_reset(&r.b), 0);
	uint8_t two[2] = {3, 200}; /* 200: no such sector, not checked */
	assert_int_equal(an3155_write_protect(&r.b, two, 2), 0);
	assert_int_equal(an3155_resync_after_reset(&r.b), 0);
	assert_int_equal(an3155_read(&r.b, 0x1FFF0000, ob, sizeof ob), 0);
	assert_int_equal(ob[8], 0xF7);  /* sector 3 alone */
	assert_int_equal(ob[10], 0x08); /* its complement (RM0385 3.4) */
	rig_close(&r);

	rig_open(&r, "f767-db,timing=0", NULL);
	assert_int_equal(an3155_connect(&r.b), 0);
	uint8_t s4 = 4;
	assert_int_equal(an3155_write_protect(&r.b, &s4, 1), 0); /* sectors 4 and 5: nWRP bit 2 */
	assert_int_equal(an3155_resync_after_reset(&r.b), 0);
	assert_int_equal(an3155_read(&r.b, 0x1FFF0000, ob, sizeof ob), 0);
	assert_int_equal(ob[8], 0xFB);
	assert_int_equal(an3155_write_unprotect(&r.b), 0);
	assert_int_equal(an3155_resync_after_reset(&r.b), 0);
	assert_int_equal(an3155_read(&r.b, 0x1FFF0000, ob, sizeof ob), 0);
	assert_int_equal(ob[8], 0xFF);
	assert_int_equal(ob[9], 0xDF); /* nDBANK = 0 still: two banks */
	assert_int_equal(ob[10], 0x00);
	assert_int_equal(ob[11], 0x20);
	rig_close(&r);
}

/* Line faults: a flipped bit in a byte the host sends (the ROM's parity check loses it), a byte
 * dropped, a flipped bit in a data byte the ROM sends (the host's parity check loses it): each
 * ends in a retry after a resync, and the data are right. No silent corruption. */
static void test_faults_are_retried(void **st)
{
	(void)st;
	/* host byte 20 is inside the first Write Memory frame (7f, 00 ff x2, 01 fe, 02 fd x2, 31 ce, addr 5) */
	static const char *const specs[] = {
		"f746,timing=0,uart_noise_at=20",
		"f746,timing=0,uart_drop_at=20",
		"f746,timing=0,uart_noise_tx_at=40", /* a byte of the read's data */
	};
	for (size_t k = 0; k < sizeof specs / sizeof specs[0]; k++) {
		struct rig r;
		rig_open(&r, specs[k], NULL);
		assert_int_equal(an3155_connect(&r.b), 0);
		uint8_t data[256], back[256];
		fill(data, sizeof data, 11 + (unsigned)k);
		assert_int_equal(an3155_write(&r.b, 0x08000000, data, sizeof data), 0);
		assert_int_equal(an3155_read(&r.b, 0x08000000, back, sizeof back), 0);
		assert_memory_equal(back, data, sizeof data);
		struct sim_uart_stats us;
		sim_uart_get_stats(ser_sim_uart(r.sim), &us);
		assert_int_equal(us.faults, 1);
		assert_true(r.b.stats.retries >= 1);
		rig_close(&r);
	}
}

/* A Write Memory data byte lost on the line leaves the ROM one byte short of its frame, and the
 * next byte it gets ends the frame: the frame's XOR then fits exactly when that byte equals the
 * one lost (the frame's XOR without d is d). A resync of 0xFF after a lost 0xFF made the ROM
 * program the frame shifted by one byte (wrong bytes in the flash, seen by the USART campaign).
 * Bytes 9-11 of the block are 0xFF, and host byte 30 (one of them, whichever way the count
 * starts) is lost: the block must end in the flash as written. */
static void test_lost_data_byte_never_shifts_the_block(void **st)
{
	(void)st;
	struct rig r;
	rig_open(&r, "f746,timing=0,uart_drop_at=30", NULL); /* connect 11, 31 ce, addr 5, N: data[10] */
	assert_int_equal(an3155_connect(&r.b), 0);
	uint8_t data[256], back[256];
	fill(data, sizeof data, 7);
	for (size_t i = 0; i < sizeof data; i++)
		if (data[i] == 0xFF)
			data[i] = 0x5A;
	data[9] = data[10] = data[11] = 0xFF;
	assert_int_equal(an3155_write(&r.b, 0x08000000, data, sizeof data), 0);
	assert_int_equal(an3155_read(&r.b, 0x08000000, back, sizeof back), 0);
	assert_memory_equal(back, data, sizeof data);
	struct sim_uart_stats us;
	sim_uart_get_stats(ser_sim_uart(r.sim), &us);
	assert_int_equal(us.faults, 1);
	rig_close(&r);
}

/* Two bytes of a data frame lost on the line (data[10] dropped, data[11] spoiled by one flipped
 * bit, which the ROM's parity check drops): the ROM, two bytes short, takes the resync's first two
 * bytes r1 r2 as the frame's end, and the XOR fits when data[10] ^ data[11] == r1 ^ r2 (campaign
 * seed 2702 session 289). The block then went into the flash shifted, and the blind retry
 * programmed the data over it (bits only clear): the write said 0 with other bytes in the flash.
 * A flash block is read back before it is sent again: here it holds neither the data nor erased
 * flash, and the write says so (its sector must be erased again). */
static void test_two_lost_data_bytes_are_read_back(void **st)
{
	(void)st;
	struct rig r;
	rig_open(&r, "f746,timing=0,uart_drop_at=30,uart_noise_at=31", NULL);
	assert_int_equal(an3155_connect(&r.b), 0);
	uint8_t data[256], back[256];
	fill(data, sizeof data, 11);
	for (size_t i = 0; i < sizeof data; i++)
		if (data[i] <= 0x01 || data[i] == 0xFF)
			data[i] = 0x5A;
	/* the resync's first bytes: 0x01 (the lowest byte the frame does not hold), then 0xFF */
	data[10] = 0x10;
	data[11] = 0x10 ^ 0x01 ^ 0xFF;
	uint8_t x = 0xFF;
	for (size_t i = 0; i < sizeof data; i++)
		x ^= data[i];
	if (x == 0x01) /* the frame's XOR must not be 0x01 either */
		data[200] ^= 0x06, x ^= 0x06;
	r.b.write_flash = true;
	int rc = an3155_write(&r.b, 0x08000000, data, sizeof data);
	assert_int_equal(an3155_read(&r.b, 0x08000000, back, sizeof back), 0);
	if (rc == 0) /* success only with the data in the flash */
		assert_memory_equal(back, data, sizeof data);
	assert_int_equal(rc, STM32DFU_E_TIMEOUT);
	assert_non_null(strstr(r.b.err.msg, "must be erased again"));
	/* the ROM did take the frame shifted by two: the block is wrong, and was not sent again */
	assert_memory_equal(back, data, 10);
	assert_memory_equal(back + 10, data + 12, sizeof data - 12);
	rig_close(&r);
}

/* A Read Memory whose count's ACK the line lost: the host reads the first data byte in its place,
 * and flash that starts with 0x1F reads as a NACK. One NACK after the link failed is not the chip's
 * refusal (cli_uart's noisy write ended "Read Memory: NACK: not readable there", exit 65, on a
 * random image whose sector held 0x1F there); only the same NACK twice is. */
static void test_lost_ack_before_0x1f_is_no_refusal(void **st)
{
	(void)st;
	struct rig r;
	rig_open(&r, "f746,timing=0", NULL);
	assert_int_equal(an3155_connect(&r.b), 0);
	static const uint8_t first[4] = {0x1F, 0x48, 0x0A, 0x78};
	assert_true(sim_mem_write(dev(&r), 0x08003D00, first, sizeof first));
	uint8_t back[256];
	r.b.retries = 0;
	/* the ROM's 3rd byte from here: command ACK, address ACK, count ACK */
	sim_uart_fault_next(ser_sim_uart(r.sim), false, 1, 3, 0);
	int rc = an3155_read(&r.b, 0x08003D00, back, sizeof back);
	assert_int_not_equal(rc, STM32DFU_E_RANGE);
	assert_null(strstr(r.b.err.msg, "not readable there"));
	/* with its retries it reads */
	r.b.retries = 3;
	sim_uart_fault_next(ser_sim_uart(r.sim), false, 1, 3, 0);
	assert_int_equal(an3155_read(&r.b, 0x08003D00, back, sizeof back), 0);
	assert_memory_equal(back, first, sizeof first);
	rig_close(&r);
}

/* The same loss in a RAM block: sent again (RAM takes the whole block again). */
static void test_two_lost_ram_bytes_are_sent_again(void **st)
{
	(void)st;
	struct rig r;
	rig_open(&r, "f746,timing=0,uart_drop_at=30,uart_noise_at=31", NULL);
	assert_int_equal(an3155_connect(&r.b), 0);
	uint8_t data[256], back[256];
	fill(data, sizeof data, 11);
	for (size_t i = 0; i < sizeof data; i++)
		if (data[i] <= 0x01 || data[i] == 0xFF)
			data[i] = 0x5A;
	data[10] = 0x10;
	data[11] = 0x10 ^ 0x01 ^ 0xFF;
	uint8_t x = 0xFF;
	for (size_t i = 0; i < sizeof data; i++)
		x ^= data[i];
	if (x == 0x01)
		data[200] ^= 0x06;
	assert_int_equal(an3155_write(&r.b, 0x20004000, data, sizeof data), 0);
	assert_int_equal(an3155_read(&r.b, 0x20004000, back, sizeof back), 0);
	assert_memory_equal(back, data, sizeof data);
	rig_close(&r);
}

/* A chip that resets inside a Write Memory data frame waits for 0x7F, and a 0x7F among the data
 * synchronised it: the rest of the frame was then taken as commands, here 0x82 0x7D, Readout
 * Protect (campaign usart seed 2702 session 238: the write ended "read protection is active").
 * A frame whose bytes after a 0x7F make a command pair the ROM lists is written as two frames,
 * the 0x7F ending the first: the chip's protection stays as it was. (The block the reset cut
 * short is not in the flash; the write's verify finds it.) */
static void test_reset_mid_frame_never_runs_data_as_commands(void **st)
{
	(void)st;
	struct rig r;
	rig_open(&r, "f746,timing=0,uart_reset_at=23", NULL); /* data[3] */
	assert_int_equal(an3155_connect(&r.b), 0);
	uint8_t data[256], ob[8];
	fill(data, sizeof data, 5);
	for (size_t i = 0; i < sizeof data; i++)
		if (data[i] == 0x7F)
			data[i] = 0x3C;
	data[23] = 0x7F;
	data[24] = 0x82;
	data[25] = 0x7D;
	sim_mem_read(dev(&r), 0x1FFF0000, ob, sizeof ob);
	assert_int_equal(ob[1], 0xAA); /* RDP level 0 */
	r.b.write_flash = true;
	(void)an3155_write(&r.b, 0x08000000, data, sizeof data);
	sim_mem_read(dev(&r), 0x1FFF0000, ob, sizeof ob);
	assert_int_equal(ob[1], 0xAA); /* still level 0: no Readout Protect ran from the data */
	rig_close(&r);
}

/* A Write Memory frame whose length byte the line lost: the ROM takes the first data byte for the
 * length, ends the frame early and runs the bytes after it as commands, a byte and its complement
 * (a noisy cli_uart write left the chip at RDP level 1: 0x82 0x7D in its data). Here d0 = 5 makes
 * the frame end at d7, and d10 d11 = 0x82 0x7D (Readout Protect) follow in step. A frame is never
 * sent with a pair of a listed command and its complement where a wrong length can reach it. */
static void test_lost_length_never_runs_data_as_commands(void **st)
{
	(void)st;
	struct rig r;
	rig_open(&r, "f746,timing=0", NULL);
	assert_int_equal(an3155_connect(&r.b), 0);
	uint8_t data[64], ob[8];
	fill(data, sizeof data, 9);
	for (size_t i = 0; i + 1 < sizeof data; i++)
		if ((uint8_t)(data[i] ^ data[i + 1]) == 0xFF)
			data[i + 1] ^= 0x11; /* no other pair in it */
	data[0] = 0x05;
	data[8] = 0x20;
	data[9] = 0x30;
	data[10] = 0x82;
	data[11] = 0x7D;
	sim_mem_read(dev(&r), 0x1FFF0000, ob, sizeof ob);
	assert_int_equal(ob[1], 0xAA); /* RDP level 0 */
	r.b.write_flash = true;
	/* 0x31 0xCE, the address and its XOR, then the length byte: the 8th byte from here */
	sim_uart_line_next(ser_sim_uart(r.sim), SIM_UART_DROP, 8);
	(void)an3155_write(&r.b, 0x08000000, data, sizeof data);
	sim_mem_read(dev(&r), 0x1FFF0000, ob, sizeof ob);
	assert_int_equal(ob[1], 0xAA); /* still level 0: no Readout Protect ran from the data */
	rig_close(&r);
}

/* The modelled time of a 256-byte Read Memory of the F446 at `baud`, one of whose answer bytes
 * (the 100th data byte) is lost to the host's parity check when `lose`; *timeouts the host's. */
static uint64_t read_time(unsigned baud, bool lose, uint64_t *timeouts)
{
	struct rig r;
	rig_open(&r, "f446,timing=0", NULL);
	struct ser_config c = ser_config_8e1(baud);
	assert_int_equal(ser_configure(r.s, &c), 0);
	assert_int_equal(an3155_connect(&r.b), 0);
	if (lose) /* the command's, the address's and the count's ACKs come first */
		sim_uart_fault_next(ser_sim_uart(r.sim), false, 1, 3 + 100, 0);
	uint8_t back[256], want[256];
	uint64_t t0 = clock_now_us(&r.clk.clock);
	assert_int_equal(an3155_read(&r.b, 0x08000000, back, sizeof back), 0);
	uint64_t dt = clock_now_us(&r.clk.clock) - t0;
	sim_mem_read(dev(&r), 0x08000000, want, sizeof want);
	assert_memory_equal(back, want, sizeof want);
	*timeouts = r.b.stats.timeouts;
	rig_close(&r);
	return dt;
}

/* A lost answer byte costs a timeout scaled to the rate (an3155_answer_ms: 100 ms for the adapter's
 * latency plus twice the answer's wire time), not a fixed second: at 921600 a 256-byte read takes
 * 3 ms of wire, and the loss costs the floor, a resync (its drain, half the floor, and one byte
 * the ROM does not answer, the floor) and the read again; at 9600 the answer alone
 * takes 257 x 11 bits = 294 ms, the wait is never shorter than it (a clean read has no timeout),
 * and the loss costs about three reads. Modelled time (the fake clock), not wall time. */
static void test_lost_answer_costs_by_rate(void **st)
{
	(void)st;
	uint64_t to;
	uint64_t fast = read_time(921600, false, &to);
	assert_int_equal(to, 0);
	uint64_t fast_lost = read_time(921600, true, &to);
	assert_int_equal(to, 1);
	uint64_t slow = read_time(9600, false, &to);
	assert_int_equal(to, 0);
	uint64_t slow_lost = read_time(9600, true, &to);
	assert_int_equal(to, 1);
	uint64_t wire_slow = 257u * 11u * 1000000u / 9600u;
	print_message("lost byte: %llu us at 921600 (read %llu us), %llu us at 9600 (read %llu us)\n",
	              (unsigned long long)(fast_lost - fast), (unsigned long long)fast,
	              (unsigned long long)(slow_lost - slow), (unsigned long long)slow);
	assert_true(slow >= wire_slow);
	assert_true(fast_lost - fast >= 100000);          /* the floor is waited out */
	assert_true(fast_lost - fast < 300000);           /* was 1.4 s */
	assert_true(slow_lost - slow >= 2 * wire_slow);   /* twice the answer before giving up */
	assert_true(slow_lost - slow < 4 * slow + 100000); /* was 1 s + the answer + the resync */
}

/* Two flipped bits pass the 8E1 parity: a command byte that then fails its complement, an address
 * that fails its XOR, a data byte that fails the frame's XOR. The ROM NACKs each; the host repeats
 * the command after a resync and the block ends right. */
static void test_double_flip_nacks_are_retried(void **st)
{
	(void)st;
	/* host bytes: connect 11, then Write Memory 31 ce (12, 13), address (14-18), N (19), data (20-) */
	static const char *const specs[] = {
		"f746,timing=0,uart_noise2_at=12,uart_noise2_mask=0x81",
		"f746,timing=0,uart_noise2_at=13,uart_noise2_mask=0x03",
		"f746,timing=0,uart_noise2_at=15,uart_noise2_mask=0x30",
		"f746,timing=0,uart_noise2_at=44,uart_noise2_mask=0x06",
	};
	for (size_t k = 0; k < sizeof specs / sizeof specs[0]; k++) {
		struct rig r;
		rig_open(&r, specs[k], NULL);
		assert_int_equal(an3155_connect(&r.b), 0);
		uint8_t data[256], back[256];
		fill(data, sizeof data, 31 + (unsigned)k);
		assert_int_equal(an3155_write(&r.b, 0x08000000, data, sizeof data), 0);
		sim_mem_read(dev(&r), 0x08000000, back, sizeof back);
		assert_memory_equal(back, data, sizeof data);
		struct sim_uart_stats us;
		sim_uart_get_stats(ser_sim_uart(r.sim), &us);
		assert_int_equal(us.faults, 1);
		assert_true(us.nacks >= 1);
		assert_true(r.b.stats.nacks >= 1);
		rig_close(&r);
	}
}

/* GET and Get ID answers carry no checksum: two flipped bits in them pass the parity. 0x49 (the
 * F746's ID, 0x449) becomes 0x51 (the F76x's, 0x451) with bits 3 and 4; 0x31 (Write Memory) in
 * the GET list becomes 0xA1 (Get Checksum) with bits 4 and 7. The host asks each twice and takes
 * an answer only when two agree: the right chip, the right command list. */
static void test_identity_survives_double_flips(void **st)
{
	(void)st;
	/* ROM bytes: 79 (1); GET 79 0b 31 00 01 02 11 21 31 ... (2-16, again 17-31); Get Version
	 * (32-36); Get ID 79 01 04 49 79 (37-41, again 42-46) */
	struct rig r;
	rig_open(&r, "f746,timing=0,uart_noise2_tx_at=40,uart_noise2_mask=0x18", NULL);
	assert_int_equal(an3155_connect(&r.b), 0);
	assert_int_equal(r.b.pid, 0x449);
	rig_close(&r);
	rig_open(&r, "f746,timing=0,uart_noise2_tx_at=10,uart_noise2_mask=0x90", NULL);
	assert_int_equal(an3155_connect(&r.b), 0);
	assert_true(an3155_has(&r.b, AN3155_WRITE));
	assert_false(an3155_has(&r.b, AN3155_GET_CHECKSUM));
	rig_close(&r);
}

/* After a reset the host knows the ID it expects: an answer equal to it is taken at once, another
 * (a double flip, 0x449 -> 0x451) only when two in a row agree. Connect's Get ID answers are ROM
 * bytes 37-46 (above); the next one is 47-51, its ID byte 50. */
static void test_id_after_reset_checked_against_known(void **st)
{
	(void)st;
	struct rig r;
	rig_open(&r, "f746,timing=0,uart_noise2_tx_at=50,uart_noise2_mask=0x18", NULL);
	assert_int_equal(an3155_connect(&r.b), 0);
	assert_int_equal(an3155_get_id_expect(&r.b, 0x449), 0);
	assert_int_equal(r.b.pid, 0x449); /* the flipped 0x451 was asked again, not believed */
	struct sim_uart_stats us;
	sim_uart_get_stats(ser_sim_uart(r.sim), &us);
	assert_int_equal(us.faults, 1); /* the flip happened */
	rig_close(&r);
	/* a chip that is another: two agreeing answers, and the caller sees the other ID */
	rig_open(&r, "f746,timing=0", NULL);
	assert_int_equal(an3155_connect(&r.b), 0);
	assert_int_equal(an3155_get_id_expect(&r.b, 0x451), 0);
	assert_int_equal(r.b.pid, 0x449);
	rig_close(&r);
}

/* uart_reset_at: the chip resets as that host byte arrives, mid-write: the write does not complete,
 * the flash keeps the block programmed before it, and the bootloader answers 0x7F again.
 * uart_gone_at: from that byte on nothing answers, a new 0x7F included. */
static void test_reset_and_gone(void **st)
{
	(void)st;
	uint8_t data[512], back[256];
	fill(data, sizeof data, 77);
	struct rig r;
	/* connect is 11 host bytes, a 256-byte Write Memory 2 + 5 + 258: byte 284 is in the second one */
	rig_open(&r, "f746,timing=0,uart_reset_at=284", NULL);
	assert_int_equal(an3155_connect(&r.b), 0);
	assert_int_equal(an3155_write(&r.b, 0x08000000, data, 256), 0);
	assert_int_not_equal(an3155_write(&r.b, 0x08000100, data + 256, 256), 0);
	struct sim_uart_stats us;
	sim_uart_get_stats(ser_sim_uart(r.sim), &us);
	assert_int_equal(us.faults, 1);
	assert_true(us.resets >= 1);
	assert_int_equal(an3155_sync(&r.b), 0);
	assert_int_equal(an3155_read(&r.b, 0x08000000, back, 256), 0);
	assert_memory_equal(back, data, 256);
	rig_close(&r);

	rig_open(&r, "f746,timing=0,uart_gone_at=284", NULL);
	assert_int_equal(an3155_connect(&r.b), 0);
	assert_int_equal(an3155_write(&r.b, 0x08000000, data, 256), 0);
	assert_int_not_equal(an3155_write(&r.b, 0x08000100, data + 256, 256), 0);
	assert_int_equal(an3155_sync(&r.b), STM32DFU_E_TIMEOUT);
	sim_mem_read(dev(&r), 0x08000000, back, 256);
	assert_memory_equal(back, data, 256);
	rig_close(&r);
}

/* Random noise on both directions of a 16 KiB write + read: every block ends right or the call
 * fails; nothing wrong is ever returned as read. */
static void test_noise_campaign(void **st)
{
	(void)st;
	struct rig r;
	rig_open(&r, "f746,timing=0,uart_noise=0.002,seed=42", NULL);
	r.b.retries = 6;
	int rc = an3155_connect(&r.b);
	assert_int_equal(rc, 0);
	static uint8_t data[16384], back[16384];
	fill(data, sizeof data, 99);
	for (size_t off = 0; off < sizeof data; off += 256)
		assert_int_equal(an3155_write(&r.b, 0x08000000 + (uint32_t)off, data + off, 256), 0);
	assert_int_equal(an3155_read_all(&r.b, 0x08000000, back, sizeof back), 0);
	assert_memory_equal(back, data, sizeof data);
	struct sim_uart_stats us;
	sim_uart_get_stats(ser_sim_uart(r.sim), &us);
	assert_true(us.faults > 10);
	rig_close(&r);
}

/* Not in the bootloader: silence (BOOT0 low, RX/TX swapped) or an echo; a rate the ROM cannot
 * follow is silence too. */
static void test_not_in_bootloader(void **st)
{
	(void)st;
	struct rig r;
	rig_open(&r, "f746,uart_mode=silent", NULL);
	assert_int_equal(an3155_sync(&r.b), STM32DFU_E_TIMEOUT);
	assert_non_null(strstr(r.b.err.hint, "BOOT0"));
	rig_close(&r);
	rig_open(&r, "f746,uart_mode=echo", NULL);
	assert_int_equal(an3155_sync(&r.b), STM32DFU_E_PROTOCOL);
	rig_close(&r);
	rig_open(&r, "f746", NULL);
	struct ser_config fast = ser_config_8e1(921600);
	assert_int_equal(ser_configure(r.s, &fast), 0);
	assert_int_equal(an3155_sync(&r.b), STM32DFU_E_TIMEOUT);
	rig_close(&r);
	/* the F4 follows 921600 (betaflight's F405 log) */
	rig_open(&r, "f407", NULL);
	assert_int_equal(ser_configure(r.s, &fast), 0);
	assert_int_equal(an3155_connect(&r.b), 0);
	assert_int_equal(r.b.pid, 0x413);
	rig_close(&r);
}

/* A host at 8N1: 0x7F still syncs (its odd count of ones gives the parity bit the stop bit
 * supplies), GET 00 FF is lost to parity errors: silence, as the F100 report describes. */
static void test_host_without_parity(void **st)
{
	(void)st;
	struct rig r;
	rig_open(&r, "f746", NULL);
	struct ser_config n81 = {115200, SER_PARITY_NONE, 8, 1};
	assert_int_equal(ser_configure(r.s, &n81), 0);
	r.b.retries = 0;
	assert_int_equal(an3155_sync(&r.b), 0);
	assert_true(an3155_get(&r.b) < 0);
	rig_close(&r);
}

/* GET decides: a ROM listing Get Checksum answers the STM32 CRC of what it holds; the L0 ROM
 * NACKs the mass-erase code. */
static void test_checksum_and_no_mass_erase(void **st)
{
	(void)st;
	struct rig r;
	rig_open(&r, "f746,timing=0,uart_commands=00 01 02 11 21 31 44 63 73 82 92 a1", NULL);
	assert_int_equal(an3155_connect(&r.b), 0);
	uint8_t data[1024];
	fill(data, sizeof data, 1);
	for (size_t off = 0; off < sizeof data; off += 256)
		assert_int_equal(an3155_write(&r.b, 0x08000000 + (uint32_t)off, data + off, 256), 0);
	uint32_t crc = 0;
	assert_int_equal(an3155_checksum(&r.b, 0x08000000, sizeof data, &crc), 0);
	assert_int_equal(crc, an3155_crc(0xFFFFFFFFu, data, sizeof data));
	rig_close(&r);
	rig_open(&r, "l0-192k,timing=0", NULL);
	assert_int_equal(an3155_connect(&r.b), 0);
	assert_int_equal(r.b.pid, 0x447);
	assert_int_equal(an3155_erase_mass(&r.b), STM32DFU_E_RANGE);
	uint16_t pages[3] = {0, 1, 2};
	assert_int_equal(an3155_erase_pages(&r.b, pages, 3), 0);
	rig_close(&r);
}

/* The RAM a ROM keeps for itself, and RAM past the range AN2606 gives, are NACKed at the address
 * of a Write Memory or Read Memory, and the chip goes on answering (ST: "we Nack any read/Write to
 * that area", community.st.com td-p/355741; a G474 user could not write below 0x20004000, qa-
 * community 24359). Before, the emulator took a G474 write at 0x20000000 and hung an F746 on one. */
static void test_rom_ram_is_nacked(void **st)
{
	(void)st;
	static const struct {
		const char *profile;
		uint32_t refused[3], taken;
	} c[] = {
		{"g474,timing=0", {0x20000000, 0x20003F00, 0x20018000}, 0x20004000},
		{"f746,timing=0", {0x20000000, 0x20003F00, 0}, 0x20004000},
		{"wb55,timing=0", {0x20000000, 0x2000C000, 0x20020000}, 0x2000BF00},
		{"l43x,timing=0", {0x20003000, 0x2000C000, 0}, 0x20003100},
		{"f407,timing=0", {0x20002F00, 0, 0}, 0x20003000},
	};
	uint8_t data[256], back[256];
	fill(data, sizeof data, 5);
	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		struct rig r;
		rig_open(&r, c[i].profile, NULL);
		assert_int_equal(an3155_connect(&r.b), 0);
		for (size_t k = 0; k < 3 && c[i].refused[k]; k++) {
			uint32_t a = c[i].refused[k];
			if (an3155_write(&r.b, a, data, sizeof data) >= 0)
				fail_msg("%s: a write at 0x%08x was taken", c[i].profile, a);
			if (an3155_read(&r.b, a, back, sizeof back) >= 0)
				fail_msg("%s: a read at 0x%08x was answered", c[i].profile, a);
			assert_int_equal(an3155_get_id(&r.b), 0); /* still answering: not hung */
		}
		assert_int_equal(an3155_get_id(&r.b), 0);
		assert_int_equal(an3155_write(&r.b, c[i].taken, data, sizeof data), 0);
		assert_int_equal(an3155_read(&r.b, c[i].taken, back, sizeof back), 0);
		assert_memory_equal(back, data, sizeof data);
		rig_close(&r);
	}
}

/* One transcript per command (the bytes on the wire, both ways), against the emulator: the frames
 * of AN3155 3.1-3.12 exactly, and nothing more (no extra round trips). */
static void test_transcripts(void **st)
{
	(void)st;
	struct rig r;
	rig_open(&r, "f746,timing=0", NULL);
	assert_int_equal(an3155_connect(&r.b), 0);
	char t[2048];
	uint8_t four[4] = {0x11, 0x22, 0x33, 0x44}, got[4];
	struct {
		const char *name, *want;
	} steps[] = {
		{"erase sector 1", "> 44 bb\n< 79\n> 00 00 00 01 01\n< 79"},
		{"write 4 bytes", "> 31 ce\n< 79\n> 08 00 80 00 88\n< 79\n> 03 11 22 33 44 47\n< 79"},
		{"read 4 bytes", "> 11 ee\n< 79\n> 08 00 80 00 88\n< 79\n> 03 fc\n< 79 11 22 33 44"},
		{"mass erase", "> 44 bb\n< 79\n> ff ff 00\n< 79"},
		{"go", "> 21 de\n< 79\n> 08 00 00 00 08\n< 79"},
	};
	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		ser_trace_clear(r.s);
		uint16_t one = 1;
		switch (i) {
		case 0:
			assert_int_equal(an3155_erase_pages(&r.b, &one, 1), 0);
			break;
		case 1:
			assert_int_equal(an3155_write(&r.b, 0x08008000, four, 4), 0);
			break;
		case 2:
			assert_int_equal(an3155_read(&r.b, 0x08008000, got, 4), 0);
			break;
		case 3:
			assert_int_equal(an3155_erase_mass(&r.b), 0);
			break;
		default:
			assert_int_equal(an3155_go(&r.b, 0x08000000), 0);
			break;
		}
		ser_trace_text(r.s, t, sizeof t);
		if (strcmp(t, steps[i].want))
			fail_msg("%s: the wire had\n%s\nwant\n%s", steps[i].name, t, steps[i].want);
	}
	rig_close(&r);
	/* the protection commands: two ACKs each, then the chip resets and 0x7F is needed again */
	rig_open(&r, "f746,timing=0", NULL);
	assert_int_equal(an3155_connect(&r.b), 0);
	struct {
		const char *want;
		int (*fn)(struct an3155 *);
	} prot[] = {
		{"> 82 7d\n< 79 79", an3155_readout_protect},
		{"> 92 6d\n< 79 79", an3155_readout_unprotect},
		{"> 73 8c\n< 79 79", an3155_write_unprotect},
	};
	for (size_t i = 0; i < sizeof prot / sizeof prot[0]; i++) {
		ser_trace_clear(r.s);
		assert_int_equal(prot[i].fn(&r.b), 0);
		ser_trace_text(r.s, t, sizeof t);
		assert_string_equal(t, prot[i].want);
		ser_trace_clear(r.s);
		assert_int_equal(an3155_resync_after_reset(&r.b), 0);
		ser_trace_text(r.s, t, sizeof t);
		assert_string_equal(t, "> 7f\n< 79");
	}
	uint8_t secs[2] = {2, 3};
	ser_trace_clear(r.s);
	assert_int_equal(an3155_write_protect(&r.b, secs, 2), 0);
	ser_trace_text(r.s, t, sizeof t);
	assert_string_equal(t, "> 63 9c\n< 79\n> 01 02 03 00\n< 79");
	rig_close(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_connect_f746),          cmocka_unit_test(test_erase_write_read_timing),
		cmocka_unit_test(test_wire_time_is_exact),
		cmocka_unit_test(test_readout_protect_cycle), cmocka_unit_test(test_write_protect_cycle),
		cmocka_unit_test(test_write_protect_replaces),
		cmocka_unit_test(test_faults_are_retried),
		cmocka_unit_test(test_lost_data_byte_never_shifts_the_block),
		cmocka_unit_test(test_two_lost_data_bytes_are_read_back),
		cmocka_unit_test(test_two_lost_ram_bytes_are_sent_again),
		cmocka_unit_test(test_lost_ack_before_0x1f_is_no_refusal),
		cmocka_unit_test(test_reset_mid_frame_never_runs_data_as_commands),
		cmocka_unit_test(test_lost_length_never_runs_data_as_commands),
		cmocka_unit_test(test_noise_campaign),
		cmocka_unit_test(test_lost_answer_costs_by_rate),
		cmocka_unit_test(test_double_flip_nacks_are_retried),
		cmocka_unit_test(test_identity_survives_double_flips),
		cmocka_unit_test(test_id_after_reset_checked_against_known),
		cmocka_unit_test(test_reset_and_gone),
		cmocka_unit_test(test_not_in_bootloader),     cmocka_unit_test(test_host_without_parity),
		cmocka_unit_test(test_checksum_and_no_mass_erase),
		cmocka_unit_test(test_rom_ram_is_nacked), cmocka_unit_test(test_transcripts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
