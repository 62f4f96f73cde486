/*
 * bench: a write with verify over the USART bootloader, on the emulator with the profile's real
 * timing (flash times from the datasheet, 11 bits a byte at 8E1), in virtual time: how long our
 * AN3155 host takes against the bound (the bytes on the wire at the baud rate plus the flash's own
 * busy time). Reported, never asserted (bench/README.md).
 *   uart_write PROFILE BAUD KIB [mass]     e.g.  uart_write f746 115200 1024
 * With `mass`, one mass erase instead of the sectors (the bound's flash time is the smaller of
 * the two where the image covers the whole flash). Prints: seconds taken, the bound, their ratio, bytes on the wire, the flash's busy time.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "serial/ser_sim.h"
#include "serial/ser_trace.h"
#include "sim/sim.h"
#include "sim/sim_uart.h"
#include "uart/an3155.h"

int main(int argc, char **argv)
{
	if (argc != 4 && !(argc == 5 && strcmp(argv[4], "mass") == 0)) {
		fputs("usage: uart_write PROFILE BAUD KIB [mass]\n", stderr);
		return 2;
	}
	bool mass = argc == 5;
	unsigned baud = (unsigned)strtoul(argv[2], NULL, 10);
	size_t len = strtoul(argv[3], NULL, 10) * 1024u;
	struct clock_fake clk;
	clock_fake_init(&clk);
	struct ser *sim;
	struct err e;
	err_clear(&e);
	if (ser_sim_open(argv[1], NULL, &clk.clock, &sim, &e) < 0) {
		fprintf(stderr, "%s\n", e.msg);
		return 1;
	}
	struct ser *s = ser_trace_wrap(sim, NULL, NULL);
	struct ser_config c = ser_config_8e1(baud);
	struct an3155 b;
	an3155_init(&b, s);
	if (ser_configure(s, &c) < 0 || an3155_connect(&b) < 0) {
		fprintf(stderr, "connect: %s\n", b.err.msg);
		return 1;
	}
	uint8_t *data = malloc(len), *back = malloc(len);
	for (size_t i = 0; i < len; i++)
		data[i] = (uint8_t)(i * 2654435761u >> 13);
	struct sim_device *d = sim_uart_device(ser_sim_uart(sim));
	struct sim_stats st0, st1;
	sim_get_stats(d, &st0);
	struct ser_trace_counts c0, c1;
	ser_trace_counts(s, &c0);
	uint64_t t0 = clock_now_us(&clk.clock);
	/* erase the sectors the image covers: F7 32/32/32/32/128/256.., F4 16/16/16/16/64/128.. */
	uint16_t pages[64];
	size_t np = 0;
	uint32_t a = 0x08000000;
	const uint32_t *sz;
	static const uint32_t f7[] = {32, 32, 32, 32, 128, 256, 256, 256}, f4[] = {16, 16, 16, 16, 64, 128, 128, 128,
	                                                                              128, 128, 128, 128};
	sz = strncmp(argv[1], "f7", 2) == 0 ? f7 : f4;
	size_t nsz = sz == f7 ? 8 : 12;
	for (size_t i = 0; i < nsz && a < 0x08000000 + len; i++) {
		pages[np++] = (uint16_t)i;
		a += sz[i] * 1024;
	}
	if ((mass ? an3155_erase_mass(&b) : an3155_erase_pages(&b, pages, np)) < 0) {
		fprintf(stderr, "erase: %s\n", b.err.msg);
		return 1;
	}
	for (size_t off = 0; off < len; off += 256)
		if (an3155_write(&b, 0x08000000 + (uint32_t)off, data + off, 256) < 0) {
			fprintf(stderr, "write: %s\n", b.err.msg);
			return 1;
		}
	if (an3155_read_all(&b, 0x08000000, back, len) < 0 || memcmp(back, data, len)) {
		fprintf(stderr, "verify failed: %s\n", b.err.msg);
		return 1;
	}
	uint64_t t = clock_now_us(&clk.clock) - t0;
	sim_get_stats(d, &st1);
	ser_trace_counts(s, &c1);
	uint64_t bytes = (c1.bytes_out - c0.bytes_out) + (c1.bytes_in - c0.bytes_in);
	uint64_t wire = ser_wire_us(&c, bytes), busy = st1.busy_us - st0.busy_us;
	/* the payload bound: the image once out (write) and once in (verify) at the rate, plus the
	 * flash's own time; the protocol bound: every byte the protocol put on the wire, plus the flash */
	uint64_t payload = ser_wire_us(&c, 2 * len);
	printf("profile=%s baud=%u bytes=%zu time_s=%.3f payload_bound_s=%.3f ratio_payload=%.3f "
	       "protocol_bound_s=%.3f ratio_protocol=%.3f wire_bytes=%llu flash_busy_s=%.3f retries=%llu\n",
	       argv[1], baud, len, t / 1e6, (payload + busy) / 1e6, (double)t / (double)(payload + busy),
	       (wire + busy) / 1e6, (double)t / (double)(wire + busy), (unsigned long long)bytes, busy / 1e6,
	       (unsigned long long)b.stats.retries);
	ser_close(s);
	free(data);
	free(back);
	return 0;
}
