/*
 * Reliability campaign: many seeded, randomly faulted sessions against the in-process emulator
 * (virtual time, so it is fast), each classified as
 *   success          the operation said OK, and the emulated chip's memory proves it;
 *   clean failure    the operation said it failed, with a message;
 *   SILENT CORRUPTION the operation said OK but the chip (or the data returned) is wrong.
 * The last must be 0. Usage: stm32dfu-campaign [SESSIONS [SEED]] (default 1000, 1).
 * Operations: write of a random image (random place and size, sometimes over old data), read of a
 * random range, option-byte read. Faults: fault_rate, stall_at, timeout_at, disconnect_at,
 * corrupt_upload_at, busy_stuck_after, poll_lie, in random combinations.
 * corrupt_upload_at is a bit flip that USB's CRC16 missed: no host can see it in one read on a link
 * that shows no other fault, so reads are confirmed by a second one only after a link fault, a
 * marginal doctor verdict or with --confirm-reads (issue 13). Sessions with that fault run as a
 * user with --confirm-reads, and prove the second read catches it; all others read once.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "image/image.h"
#include "ops/ops.h"
#include "ops/session.h"
#include "sim/sim.h"
#include "usb/tp_sim.h"

#define FLASH_BASE 0x08000000u
#define OB_ADDR 0x1FFF0000u

static uint64_t rng_state;
static uint64_t rnd(void)
{
	/* splitmix64: the same sequence on every platform for a seed */
	uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}
static unsigned rnd_below(unsigned n)
{
	return n ? (unsigned)(rnd() % n) : 0;
}

enum op { OP_WRITE, OP_READ, OP_OB, OP_N };
static const char *const op_names[OP_N] = {"write", "read", "ob read"};
enum outcome { OK, CLEAN_FAIL, SILENT, OUT_N };

struct tally {
	unsigned n[OP_N][OUT_N];
	unsigned retries, reconnects, rewrites, splits;
};

/* Random fault keys for one session; true if they include an upload corrupted past the CRC. */
static bool fault_spec(char *spec, size_t cap, uint64_t seed)
{
	size_t used = (size_t)snprintf(spec, cap, "f746,timing=0,seed=%" PRIu64, seed);
	unsigned kinds = rnd_below(64);
	if (kinds & 1) {
		static const char *const rates[] = {"0.001", "0.005", "0.01", "0.02", "0.05"};
		used += (size_t)snprintf(spec + used, cap - used, ",fault_rate=%s", rates[rnd_below(5)]);
	}
	if (kinds & 2)
		used += (size_t)snprintf(spec + used, cap - used, ",stall_at=%u", 5 + rnd_below(3000));
	if (kinds & 4)
		used += (size_t)snprintf(spec + used, cap - used, ",timeout_at=%u", 5 + rnd_below(3000));
	if (kinds & 8)
		used += (size_t)snprintf(spec + used, cap - used, ",disconnect_at=%u", 5 + rnd_below(3000));
	if (kinds & 16)
		used += (size_t)snprintf(spec + used, cap - used, ",corrupt_upload_at=%u", 1 + rnd_below(400));
	if (kinds & 32) {
		if (rnd_below(2))
			used += (size_t)snprintf(spec + used, cap - used, ",poll_lie=%s", rnd_below(2) ? "0.5" : "0.1");
		else
			used += (size_t)snprintf(spec + used, cap - used, ",busy_stuck_after=0x%08X",
			                         FLASH_BASE + rnd_below(256 * 1024));
	}
	(void)used;
	return (kinds & 16) != 0;
}

static enum outcome run_write(struct ops_session *s, struct sim_device *dev, struct tally *t)
{
	/* old contents first, set straight into the silicon, so preserved bytes are tested */
	uint32_t span = 256u * 1024u;
	uint8_t *old = malloc(span);
	uint8_t *want = malloc(span);
	uint8_t *got = malloc(span);
	for (uint32_t i = 0; i < span; i++)
		old[i] = rnd_below(3) ? 0xFF : (uint8_t)rnd();
	sim_mem_write(dev, FLASH_BASE, old, span);
	uint32_t off = rnd_below(span / 2) & ~7u;
	uint32_t len = (1 + rnd_below(span - off - 1)) & ~7u;
	if (len == 0)
		len = 8;
	struct img *img = img_new();
	memcpy(want, old, span);
	for (uint32_t i = 0; i < len; i++)
		want[off + i] = (uint8_t)rnd();
	img_add(img, 0, FLASH_BASE + off, want + off, len, NULL);
	struct ops_write_opts wo;
	ops_write_opts_init(&wo);
	struct ops_write_result r;
	int rc = ops_write(s, img, &wo, &r);
	enum outcome o;
	if (rc < 0) {
		o = s->err.msg[0] ? CLEAN_FAIL : SILENT; /* a failure without a message is not clean */
	} else {
		sim_mem_read(dev, FLASH_BASE, got, span);
		o = memcmp(got, want, span) == 0 && r.verified ? OK : SILENT;
	}
	img_free(img);
	free(old);
	free(want);
	free(got);
	(void)t;
	return o;
}

static enum outcome run_read(struct ops_session *s, struct sim_device *dev, uint32_t addr, uint32_t len)
{
	uint8_t *got = malloc(len), *want = malloc(len);
	int rc = ops_read(s, -1, addr, got, len, true);
	enum outcome o;
	if (rc < 0)
		o = s->err.msg[0] ? CLEAN_FAIL : SILENT;
	else {
		sim_mem_read(dev, addr, want, len);
		/* a read that returns wrong data as success is silent corruption too: the user keeps it.
		 * (A flipped bit in an unchecked read is a known limit of DfuSe; counted honestly.) */
		o = memcmp(got, want, len) == 0 ? OK : SILENT;
	}
	free(got);
	free(want);
	return o;
}

int main(int argc, char **argv)
{
	unsigned sessions = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 0) : 1000;
	uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 0) : 1;
	bool verbose = getenv("CAMPAIGN_VERBOSE") != NULL;
	rng_state = seed;
	log_set_level(LOG_ERROR);
	struct tally t;
	memset(&t, 0, sizeof t);
	unsigned opened_fail = 0;
	for (unsigned i = 0; i < sessions; i++) {
		char spec[256];
		bool corrupt = fault_spec(spec, sizeof spec, seed * 100003u + i);
		enum op op = (enum op)rnd_below(OP_N);
		struct clock_fake fc;
		clock_fake_init(&fc);
		struct ops_open_opts oo;
		ops_open_opts_init(&oo);
		oo.sim_spec = spec;
		oo.clock = &fc.clock;
		oo.confirm_reads = corrupt;
		oo.profile_dir = getenv("STM32DFU_PROFILE_DIR") ? NULL : PROFILE_DIR;
		struct ops_session *s = NULL;
		struct err e;
		err_clear(&e);
		enum outcome o;
		if (ops_open(&oo, &s, &e) < 0) {
			o = e.msg[0] ? CLEAN_FAIL : SILENT;
			opened_fail++;
		} else {
			struct sim_device *dev = tp_sim_device(s->tp);
			if (op == OP_WRITE)
				o = run_write(s, dev, &t);
			else if (op == OP_READ)
				o = run_read(s, dev, FLASH_BASE + (rnd_below(512 * 1024) & ~3u), 1 + rnd_below(128 * 1024));
			else
				o = run_read(s, dev, OB_ADDR, 32);
			t.retries += s->counters.retries;
			t.reconnects += s->counters.reconnects;
			t.rewrites += s->counters.rewrites;
			t.splits += s->counters.transfer_splits;
		}
		if (verbose || o == SILENT)
			fprintf(stderr, "session %u %s [%s]: %s%s%s\n", i, op_names[op], spec,
			        o == OK ? "ok" : o == CLEAN_FAIL ? "failed: " : "SILENT CORRUPTION",
			        o == CLEAN_FAIL ? (s ? s->err.msg : e.msg) : "", "");
		t.n[op][o]++;
		ops_close(s);
	}
	printf("reliability campaign: %u sessions, seed %" PRIu64 "\n", sessions, seed);
	printf("%-10s %8s %8s %14s %18s\n", "operation", "sessions", "success", "clean failure", "silent corruption");
	unsigned tot[OUT_N] = {0};
	for (int op = 0; op < OP_N; op++) {
		unsigned n = t.n[op][OK] + t.n[op][CLEAN_FAIL] + t.n[op][SILENT];
		printf("%-10s %8u %8u %14u %18u\n", op_names[op], n, t.n[op][OK], t.n[op][CLEAN_FAIL], t.n[op][SILENT]);
		for (int k = 0; k < OUT_N; k++)
			tot[k] += t.n[op][k];
	}
	printf("%-10s %8u %8u %14u %18u\n", "total", sessions, tot[OK], tot[CLEAN_FAIL], tot[SILENT]);
	printf("recovery: %u retries, %u reconnects, %u sector rewrites, %u transfer splits; %u sessions failed to open\n",
	       t.retries, t.reconnects, t.rewrites, t.splits, opened_fail);
	return tot[SILENT] == 0 ? 0 : 1;
}
