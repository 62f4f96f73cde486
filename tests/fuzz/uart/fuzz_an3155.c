/*
 * Fuzz target: our AN3155 host (uart/an3155.c) reading whatever the other end of the line sends.
 * The input is the chip's side of a session: connect (sync, GET, Get Version, Get ID), a 256-byte
 * read, a 256-byte write, a page erase, a checksum; then the host paths above the protocol, through
 * the USART target (target/target_an3155.c: the memory map from the device ID and the flash-size
 * register the chip answers, identity with the UID, reads and writes split over blocks, erases by
 * sector number, mass erase, checksum, go, a reconnect after a reset). Lengths the chip announces
 * (GET's N, Get ID's N) and every answer byte are untrusted; nothing may read or write out of
 * bounds or loop forever.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/clock.h"
#include "serial/serial.h"
#include "target/target.h"
#include "uart/an3155.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct feed {
	const uint8_t *p;
	size_t n, at;
};

static int f_configure(struct ser *s, const struct ser_config *c)
{
	(void)s;
	(void)c;
	return 0;
}
static int f_write(struct ser *s, const uint8_t *b, size_t n, unsigned t)
{
	(void)s;
	(void)b;
	(void)t;
	return (int)n;
}
static int f_read(struct ser *s, uint8_t *b, size_t n, unsigned t)
{
	struct feed *f = s->impl;
	size_t k = 0;
	while (k < n && f->at < f->n)
		b[k++] = f->p[f->at++];
	if (k < n)
		clock_sleep_us(s->clock, (uint64_t)t * 1000u);
	return (int)k;
}
static int f_flush(struct ser *s)
{
	(void)s;
	return 0;
}
static void f_close(struct ser *s)
{
	ser_free(s);
}
static const struct ser_ops feed_ops = {"feed", f_configure, f_write, f_read, f_flush, NULL, f_close};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct clock_fake clk;
	clock_fake_init(&clk);
	struct feed f = {data, size, 0};
	struct ser *s = ser_alloc(&feed_ops, &f, "fuzz");
	if (!s)
		return 0;
	s->clock = &clk.clock;
	struct an3155 b;
	an3155_init(&b, s);
	b.retries = 1;
	uint8_t buf[256];
	memset(buf, 0xA5, sizeof buf);
	uint32_t crc;
	uint16_t pages[2] = {0, 1};
	int connected = an3155_connect(&b);
	(void)an3155_read(&b, 0x08000000, buf, sizeof buf);
	(void)an3155_write(&b, 0x08000000, buf, sizeof buf);
	(void)an3155_erase_pages(&b, pages, 2);
	(void)an3155_checksum(&b, 0x08000000, 256, &crc);
	struct target *t = NULL;
	struct err e;
	err_clear(&e);
	if (connected == 0 && target_an3155_new(&b, &t, &e) == 0) {
		struct target_identity id;
		(void)t->ops->identity(t, &id);
		struct target_region regions[TARGET_MAX_REGIONS];
		size_t n = 0;
		uint32_t base = 0x08000000u;
		if (t->ops->regions(t, regions, TARGET_MAX_REGIONS, &n) == 0 && n) {
			base = regions[0].addr;
			uint64_t sum = 0; /* the runs must add up to the region, within 32 bits */
			for (size_t i = 0; i < regions[0].n_runs; i++)
				sum += (uint64_t)regions[0].runs[i].count * regions[0].runs[i].size;
			if (sum != regions[0].size || regions[0].n_runs > TARGET_MAX_RUNS)
				__builtin_trap();
		}
		uint8_t big[600];
		memset(big, 0x5A, sizeof big);
		(void)target_read(t, base, big, sizeof big);
		(void)target_write(t, base, big, sizeof big);
		unsigned sectors[3] = {0, 1, 0x10000};
		(void)target_erase(t, sectors, 2);
		(void)target_erase(t, sectors, 3);
		(void)t->ops->erase_mass(t, 0);
		(void)t->ops->checksum(t, base, 1024, &crc);
		(void)t->ops->reconnect(t, 100);
		(void)t->ops->go(t, false, 0);
		target_close(t);
	}
	ser_close(s);
	return 0;
}
