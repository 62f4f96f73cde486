/*
 * Reliability campaign: many seeded, randomly faulted sessions against the in-process emulator
 * (virtual time, so it is fast). The chip's memory is carried from session to session by the
 * campaign (set into the emulated silicon after the session opens, read back from it at the end):
 * a failed write's chip is the one its clean run finds, as a board that is plugged back in. Each
 * session is classified as
 *   ok              the operation said OK, and the emulated chip's memory proves it;
 *   clean failure   the operation said it failed, with a message;
 *   SILENT          the operation said OK but the chip (or the data returned) is wrong;
 *   LOST            after a failure and the clean run (the same write again, or recover), a byte
 *                   outside the image is not what it was, or a recovery file is left over;
 *   NO FILE         a failure that changed bytes outside the image and named no recovery file;
 *   WRONG CHIP      a chip's bytes changed to something no write of its own could leave.
 * All but the first two must be 0. Sessions come in legs, in turn, as in the virtual-USB campaign
 * (bench/campaign_vusb.c, issue 21):
 *   faults      f746: a write of a random image, a read of a random range, an option-byte read;
 *               faults fault_rate, stall_at, timeout_at, disconnect_at, corrupt_upload_at,
 *               busy_stuck_after, poll_lie, in random combinations. corrupt_upload_at is a bit flip
 *               that USB's CRC16 missed: sessions with it run with --confirm-reads (issue 13);
 *   no-home     writes with no HOME, XDG_STATE_HOME, XDG_CACHE_HOME, STM32DFU_RECOVERY_DIR: the
 *               recovery file goes to $XDG_RUNTIME_DIR; in a quarter of them that is unset too, and a
 *               write with bytes to keep must refuse before any erase, the chip untouched;
 *   no-verify   a clean write --no-verify, then a faulted write elsewhere: nothing the first wrote
 *               may be undone by a stale recovery file;
 *   flip        one upload corrupted past the CRC during the read-back, no --confirm-reads, no other
 *               fault: the kept bytes must still be right (they are read twice before an erase);
 *   f0-pair     two f0-32k chips (no readable UID, one USB serial) sharing one recovery folder: A's
 *               write is unplugged at a random request, B's write (unplugged half the time) goes on
 *               past A's file, then each chip's clean run brings back its own bytes;
 *   erase-range erase ADDR LEN (a write of erased bytes over exactly the range, as the library's
 *               stm32dfu_erase_bytes) over an unaligned range, with random faults.
 * Usage: stm32dfu-campaign [SESSIONS [SEED]] (default 1000, 1); CAMPAIGN_LEG=NAME runs one leg.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "image/image.h"
#include "ops/ops.h"
#include "ops/session.h"
#include "sim/sim.h"
#include "usb/tp_sim.h"
#include "usb/transport.h"

#include "campaign_common.h"

#define FLASH_BASE CAMP_FLASH_BASE
#define OB_ADDR 0x1FFF0000u
#define SPAN CAMP_SPAN
#define F0_SPAN CAMP_F0_SPAN

enum op { OP_WRITE, OP_READ, OP_OB, OP_N };

struct tally {
	unsigned n[L_N][C_N];
	unsigned ops[OP_N];
	unsigned retries, reconnects, rewrites, splits, open_failed, after_erase, named, refused_nohome,
	    rewrites_clean, recovers, b_past_a, two_files;
};

static char work[512], rdir[600], rundir[600], rundir_rec[700];
static char why[1024]; /* the last failure's message, for the verbose line */

/* Random fault keys for one f746 session; true if they include an upload corrupted past the CRC. */
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
			                         FLASH_BASE + rnd_below(SPAN));
	}
	(void)used;
	return (kinds & 16) != 0;
}

/* How recovery files are found in a session: the campaign's folder (--recovery-dir), or, for the
 * no-home leg, the environment's chain with no state folder (runtime: XDG_RUNTIME_DIR or none). */
enum where { W_DIR, W_RUNTIME, W_NONE };

static const char *const home_vars[] = {"HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME", "XDG_RUNTIME_DIR",
                                        "STM32DFU_RECOVERY_DIR"};
#define N_HOME_VARS (sizeof home_vars / sizeof *home_vars)
static char *saved_env[N_HOME_VARS];

static void env_strip(enum where w)
{
	for (size_t i = 0; i < N_HOME_VARS; i++) {
		const char *v = getenv(home_vars[i]);
		saved_env[i] = v ? strdup(v) : NULL;
		unsetenv(home_vars[i]);
	}
	if (w == W_RUNTIME)
		setenv("XDG_RUNTIME_DIR", rundir, 1);
}

static void env_restore(void)
{
	for (size_t i = 0; i < N_HOME_VARS; i++) {
		if (saved_env[i])
			setenv(home_vars[i], saved_env[i], 1);
		else
			unsetenv(home_vars[i]);
		free(saved_env[i]);
		saved_env[i] = NULL;
	}
}

/* The chip as a device on a bus: the emulator behind a transport the session does not know as
 * one, so the session takes the path of a real USB device (its recovery folder from the options
 * and the environment, not beside an emulator's state file). The no-home leg's door. */
struct bus_ctx {
	const char *spec;
	const struct clock *clock;
	struct tp *inner; /* the emulator's transport: its memory is read before the session closes */
};

static int bus_control(struct tp *tp, const struct usb_setup *setup, uint8_t *data, unsigned timeout_ms)
{
	struct tp *in = tp->impl;
	int r = in->ops->control(in, setup, data, timeout_ms);
	if (r < 0)
		tp->err = in->err;
	return r;
}

static int bus_set_alt(struct tp *tp, uint8_t interface, uint8_t alt)
{
	struct tp *in = tp->impl;
	int r = in->ops->set_alt(in, interface, alt);
	if (r < 0)
		tp->err = in->err;
	return r;
}

static int bus_reopen(struct tp *tp, unsigned timeout_ms)
{
	struct tp *in = tp->impl;
	int r = in->ops->reopen(in, timeout_ms);
	tp->info = in->info;
	if (r < 0)
		tp->err = in->err;
	return r;
}

static void bus_close(struct tp *tp)
{
	tp_close(tp->impl);
	tp_free(tp);
}

static const struct tp_ops bus_ops = {
	.name = "bus",
	.control = bus_control,
	.set_alt = bus_set_alt,
	.reset = NULL,
	.reopen = bus_reopen,
	.close = bus_close,
};

static int bus_open(void *ctx, struct tp **out, struct err *e)
{
	struct bus_ctx *b = ctx;
	struct tp_sim_opts so = {getenv("STM32DFU_PROFILE_DIR") ? NULL : PROFILE_DIR, b->clock, false};
	int rc = tp_sim_open(b->spec, &so, &b->inner, e);
	if (rc < 0)
		return rc;
	struct tp *tp = tp_alloc(&bus_ops, b->inner);
	if (!tp) {
		tp_close(b->inner);
		b->inner = NULL;
		return err_set(e, STM32DFU_E_NO_MEMORY, "out of memory");
	}
	tp->info = b->inner->info;
	tp->clock = b->inner->clock;
	*out = tp;
	return 0;
}

static struct bus_ctx bus; /* the no-home leg's open session's */

/* The emulated chip under a session (through the bus, for the no-home leg). */
static struct sim_device *chip_of(struct ops_session *s)
{
	struct sim_device *d = tp_sim_device(s->tp);
	return d ? d : tp_sim_device(bus.inner);
}

/* A session on a chip holding mem[0, span) at FLASH_BASE; NULL (why set) when it did not open. */
static struct ops_session *open_chip(const char *spec, bool confirm, enum where w, const uint8_t *mem, uint32_t span,
                                     struct clock_fake *fc, struct tally *t)
{
	clock_fake_init(fc);
	struct ops_open_opts oo;
	ops_open_opts_init(&oo);
	oo.sim_spec = spec;
	oo.clock = &fc->clock;
	if (w != W_DIR) {
		bus = (struct bus_ctx){spec, &fc->clock, NULL};
		oo.sim_spec = NULL;
		oo.open_tp = bus_open;
		oo.open_tp_ctx = &bus;
	}
	oo.confirm_reads = confirm;
	oo.profile_dir = getenv("STM32DFU_PROFILE_DIR") ? NULL : PROFILE_DIR;
	oo.rescue_dir = w == W_DIR ? rdir : NULL;
	struct ops_session *s = NULL;
	struct err e;
	err_clear(&e);
	if (w != W_DIR)
		env_strip(w);
	int rc = ops_open(&oo, &s, &e);
	if (w != W_DIR)
		env_restore();
	if (rc < 0) {
		snprintf(why, sizeof why, "%s", e.msg[0] ? e.msg : "(open failed with no message)");
		t->open_failed++;
		return NULL;
	}
	sim_mem_write(chip_of(s), FLASH_BASE, mem, span);
	return s;
}

/* Ends a session: the chip's memory back into mem, the link counters into t. */
static void close_chip(struct ops_session *s, uint8_t *mem, uint32_t span, struct tally *t)
{
	if (!s)
		return;
	sim_mem_read(chip_of(s), FLASH_BASE, mem, span);
	t->retries += s->counters.retries;
	t->reconnects += s->counters.reconnects;
	t->rewrites += s->counters.rewrites;
	t->splits += s->counters.transfer_splits;
	ops_close(s);
}

/*
 * One write of want[off, off+len) onto a chip holding mem (== old), under spec, classified; after a
 * failure, the clean run (the same write, or recover) must bring back every byte outside the image
 * and leave no recovery file. mem holds the chip at the end.
 */
static enum cls write_session(const char *spec, const char *clean_spec, bool confirm, enum where w, uint8_t *mem,
                              const uint8_t *old, const uint8_t *want, uint32_t span, uint32_t off, uint32_t len,
                              bool verify, const char *folder, struct tally *t)
{
	struct clock_fake fc;
	struct img *img = img_new();
	img_add(img, 0, FLASH_BASE + off, want + off, len, NULL);
	struct ops_write_opts wo;
	ops_write_opts_init(&wo);
	wo.verify = verify;
	struct ops_write_result r;
	memset(&r, 0, sizeof r);
	struct ops_session *s = open_chip(spec, confirm, w, mem, span, &fc, t);
	int rc = -1;
	char msg[1024] = "";
	if (s) {
		if (w != W_DIR)
			env_strip(w);
		rc = ops_write(s, img, &wo, &r);
		if (w != W_DIR)
			env_restore();
		if (rc < 0)
			snprintf(msg, sizeof msg, "%s", s->err.msg);
		close_chip(s, mem, span, t);
	} else {
		snprintf(msg, sizeof msg, "%s", why);
	}
	enum cls c;
	if (rc >= 0) {
		c = memcmp(mem, want, span) == 0 && r.verified == verify ? C_OK : C_SILENT;
		if (c == C_OK && count_files(folder)) {
			snprintf(why, sizeof why, "a recovery file is left after a completed write");
			c = C_LOST; /* it would be applied to the next chip with this key */
		}
		img_free(img);
		return c;
	}
	snprintf(why, sizeof why, "%s", msg[0] ? msg : "(failed with no message)");
	c = msg[0] ? C_FAIL : C_SILENT;
	if (w == W_NONE) {
		/* no folder: a write with bytes to keep must refuse before its first erase */
		if (memcmp(mem, old, span) == 0)
			t->refused_nohome++;
		if (!outside_same(mem, old, span, off, len))
			c = C_NOFILE;
		img_free(img);
		return c;
	}
	if (!outside_same(mem, old, span, off, len)) {
		t->after_erase++;
		if (r.recovery_file[0] && count_files(folder))
			t->named++;
		else
			c = C_NOFILE;
	}
	/* the clean run: the same write again, or recover (then only the kept bytes count) */
	bool use_recover = rnd_below(2) == 0;
	use_recover ? t->recovers++ : t->rewrites_clean++;
	s = open_chip(clean_spec, false, w, mem, span, &fc, t);
	int rc2 = -1;
	if (s) {
		if (w != W_DIR)
			env_strip(w);
		struct ops_write_opts co;
		ops_write_opts_init(&co);
		rc2 = use_recover ? ops_recover_apply(s, &co, &r) : ops_write(s, img, &co, &r);
		if (rc2 == 1)
			rc2 = 0; /* recover: nothing pending (the failure came before the file was needed) */
		if (w != W_DIR)
			env_restore();
		if (rc2 < 0)
			snprintf(why, sizeof why, "the clean %s: %s", use_recover ? "recover" : "write", s->err.msg);
		close_chip(s, mem, span, t);
	}
	bool kept = outside_same(mem, old, span, off, len);
	bool left = clear_dir(folder) != 0;
	if (rc2 < 0 || !kept || left || (!use_recover && memcmp(mem, want, span) != 0)) {
		if (rc2 >= 0)
			snprintf(why, sizeof why, "the clean %s: outside bytes %s%s", use_recover ? "recover" : "write",
			         kept ? "kept" : "LOST", left ? ", a recovery file left" : "");
		c = C_LOST;
	}
	img_free(img);
	return c;
}

static enum cls read_session(const char *spec, bool confirm, uint8_t *mem, uint32_t addr, uint32_t len, struct tally *t)
{
	struct clock_fake fc;
	struct ops_session *s = open_chip(spec, confirm, W_DIR, mem, SPAN, &fc, t);
	if (!s)
		return why[0] ? C_FAIL : C_SILENT;
	uint8_t *got = malloc(len), *want = malloc(len);
	int rc = ops_read(s, -1, addr, got, len, true);
	enum cls c;
	if (rc < 0) {
		snprintf(why, sizeof why, "%s", s->err.msg);
		c = s->err.msg[0] ? C_FAIL : C_SILENT;
	} else {
		sim_mem_read(tp_sim_device(s->tp), addr, want, len);
		/* a read that returns wrong data as success is silent corruption too: the user keeps it */
		c = memcmp(got, want, len) == 0 ? C_OK : C_SILENT;
	}
	free(got);
	free(want);
	close_chip(s, mem, SPAN, t);
	return c;
}

/*
 * Two f0-32k chips, one recovery folder, one key (serial-FFFFFFFEFFFF): A's write dies after its
 * erase or not (unplugged at a random request), B's write goes on past A's file (half the time
 * dying too), then each chip's clean run. Every byte of both chips is checked after each step.
 */
static enum cls f0_pair(uint64_t seed, struct tally *t)
{
	static uint8_t oa[F0_SPAN], ob[F0_SPAN], wa[F0_SPAN], wb[F0_SPAN], ma[F0_SPAN], mb[F0_SPAN];
	random_chip(oa, F0_SPAN);
	random_chip(ob, F0_SPAN);
	uint32_t offa, lena, offb, lenb;
	random_image(oa, wa, F0_SPAN, &offa, &lena);
	random_image(ob, wb, F0_SPAN, &offb, &lenb);
	memcpy(ma, oa, F0_SPAN);
	memcpy(mb, ob, F0_SPAN);
	char sa[128], sb[128];
	const char *clean = "f0-32k,timing=0";
	snprintf(sa, sizeof sa, "f0-32k,timing=0,seed=%" PRIu64 ",unplug_at=%u", seed, 10 + rnd_below(200));
	bool b_dies = rnd_below(2) == 0;
	snprintf(sb, sizeof sb, "f0-32k,timing=0,seed=%" PRIu64 ",unplug_at=%u", seed + 1, 10 + rnd_below(200));
	struct clock_fake fc;
	struct img *ia = img_new(), *ib = img_new();
	img_add(ia, 0, FLASH_BASE + offa, wa + offa, lena, NULL);
	img_add(ib, 0, FLASH_BASE + offb, wb + offb, lenb, NULL);
	struct ops_write_opts wo;
	ops_write_opts_init(&wo);
	struct ops_write_result r;
	enum cls c = C_OK;
	/* A */
	struct ops_session *s = open_chip(sa, false, W_DIR, ma, F0_SPAN, &fc, t);
	int rca = -1;
	if (s) {
		rca = ops_write(s, ia, &wo, &r);
		if (rca < 0)
			snprintf(why, sizeof why, "A: %s", s->err.msg);
		close_chip(s, ma, F0_SPAN, t);
	}
	if (rca >= 0 && memcmp(ma, wa, F0_SPAN) != 0)
		c = C_SILENT;
	else if (rca < 0)
		c = C_FAIL;
	bool a_pending = count_files(rdir) != 0;
	if (rca < 0 && !outside_same(ma, oa, F0_SPAN, offa, lena)) {
		t->after_erase++;
		if (a_pending)
			t->named++;
		else
			c = C_NOFILE;
	}
	/* B: never A's bytes; A's file is another chip's (their flash differs), B goes on past it */
	unsigned files_a = count_files(rdir);
	s = open_chip(b_dies ? sb : clean, false, W_DIR, mb, F0_SPAN, &fc, t);
	int rcb = -1;
	if (s) {
		rcb = ops_write(s, ib, &wo, &r);
		if (rcb < 0)
			snprintf(why, sizeof why, "B: %s", s->err.msg);
		close_chip(s, mb, F0_SPAN, t);
	}
	for (uint32_t k = 0; k < F0_SPAN; k++)
		if ((k < offb || k >= offb + lenb) && mb[k] != ob[k] && mb[k] != 0xFF) {
			snprintf(why, sizeof why, "B holds 0x%02X at +0x%X, no write of its own left it", mb[k], (unsigned)k);
			c = C_WRONG;
			break;
		}
	if (c != C_WRONG && rcb >= 0 && memcmp(mb, wb, F0_SPAN) != 0)
		c = C_SILENT;
	if (c != C_WRONG && rcb < 0 && !b_dies) {
		snprintf(why, sizeof why, "B's clean write failed%s", a_pending ? " (A's file pending)" : "");
		c = C_LOST;
	}
	unsigned files_b = count_files(rdir);
	bool b_changed = !outside_same(mb, ob, F0_SPAN, offb, lenb);
	if (c < C_SILENT && (rcb >= 0 ? files_b != files_a : (b_changed && files_b != files_a + 1))) {
		snprintf(why, sizeof why, "B's write (rc %d): %u recovery files before, %u after", rcb, files_a, files_b);
		c = rcb >= 0 ? C_LOST : C_NOFILE;
	}
	if (files_b == 2)
		t->two_files++;
	else if (a_pending && rcb >= 0)
		t->b_past_a++;
	/* A's clean run (the same write, or recover), then B's: each gets its own bytes back */
	for (int k = 0; k < 2 && c < C_SILENT; k++) {
		bool is_a = k == 0;
		if (is_a ? rca >= 0 && !a_pending : rcb >= 0)
			continue;
		uint8_t *m = is_a ? ma : mb;
		const uint8_t *o = is_a ? oa : ob, *w = is_a ? wa : wb;
		uint32_t off = is_a ? offa : offb, len = is_a ? lena : lenb;
		bool use_recover = rnd_below(2) == 0;
		use_recover ? t->recovers++ : t->rewrites_clean++;
		s = open_chip(clean, false, W_DIR, m, F0_SPAN, &fc, t);
		int rc2 = -1;
		if (s) {
			rc2 = use_recover ? ops_recover_apply(s, &wo, &r) : ops_write(s, is_a ? ia : ib, &wo, &r);
			if (rc2 == 1)
				rc2 = 0;
			if (rc2 < 0)
				snprintf(why, sizeof why, "%s's clean %s: %s", is_a ? "A" : "B", use_recover ? "recover" : "write",
				         s->err.msg);
			close_chip(s, m, F0_SPAN, t);
		}
		bool kept = outside_same(m, o, F0_SPAN, off, len);
		if (rc2 < 0 || !kept || (!use_recover && memcmp(m, w, F0_SPAN) != 0)) {
			if (rc2 >= 0)
				snprintf(why, sizeof why, "%s's clean %s: outside bytes %s", is_a ? "A" : "B",
				         use_recover ? "recover" : "write", kept ? "kept" : "LOST");
			c = C_LOST;
		}
	}
	if (c < C_SILENT && count_files(rdir)) {
		snprintf(why, sizeof why, "%u recovery files left after both clean runs", count_files(rdir));
		c = C_LOST;
	}
	clear_dir(rdir);
	img_free(ia);
	img_free(ib);
	return c;
}

int main(int argc, char **argv)
{
	unsigned sessions = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 0) : 1000;
	uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 0) : 1;
	log_set_level(LOG_ERROR);
	struct camp_plan plan;
	if (!camp_plan_init(&plan, sessions, seed, (1u << L_USART) - 1u))
		return 2;
	/* the campaign's own folders: recovery files never meet the user's */
	const char *tmp = getenv("TMPDIR");
	snprintf(work, sizeof work, "%s/stm32dfu-campaign-XXXXXX", tmp && tmp[0] == '/' ? tmp : "/tmp");
	if (!mkdtemp(work)) {
		perror("campaign: mkdtemp");
		return 2;
	}
	snprintf(rdir, sizeof rdir, "%s/recovery", work);
	snprintf(rundir, sizeof rundir, "%s/run", work);
	snprintf(rundir_rec, sizeof rundir_rec, "%s/stm32dfu/recovery", rundir);
	mkdir(rdir, 0700);
	mkdir(rundir, 0700);
	struct tally t;
	memset(&t, 0, sizeof t);
	uint8_t *old = malloc(SPAN), *want = malloc(SPAN), *mem = malloc(SPAN);
	for (unsigned i = plan.first; i < plan.last; i++) {
		enum leg leg = camp_begin(&plan, i);
		uint64_t sseed = seed * 100003u + i;
		char spec[256], clean[64];
		snprintf(clean, sizeof clean, "f746,timing=0");
		why[0] = '\0';
		enum cls c;
		if (leg == L_F0PAIR) {
			c = f0_pair(sseed, &t);
			snprintf(spec, sizeof spec, "f0-32k pair");
		} else {
			random_chip(old, SPAN);
			memcpy(mem, old, SPAN);
			uint32_t off, len;
			random_image(old, want, SPAN, &off, &len);
			bool confirm = false;
			enum where w = W_DIR;
			const char *folder = rdir;
			if (leg == L_FLIP) {
				/* past the identity's uploads, into the read-back of the sectors the image touches */
				snprintf(spec, sizeof spec, "f746,timing=0,seed=%" PRIu64 ",corrupt_upload_at=%u", sseed,
				         8 + rnd_below(40));
			} else {
				confirm = fault_spec(spec, sizeof spec, sseed);
			}
			if (leg == L_NOHOME) {
				w = rnd_below(4) ? W_RUNTIME : W_NONE;
				folder = rundir_rec;
			}
			if (leg == L_ERASE) {
				/* any start, any length: the erase keeps the rest of the sectors it touches */
				off = rnd_below(SPAN / 2);
				len = 1 + rnd_below(SPAN / 2);
				memcpy(want, old, SPAN);
				memset(want + off, 0xFF, len);
			}
			c = C_OK;
			enum op op = OP_WRITE;
			if (leg == L_FAULTS) {
				op = (enum op)rnd_below(OP_N);
				t.ops[op]++;
			}
			if (leg == L_NOVERIFY) {
				/* a clean write --no-verify first; the faulted write then goes elsewhere */
				c = write_session(clean, clean, false, W_DIR, mem, old, want, SPAN, off, len, false, folder, &t);
				memcpy(old, want, SPAN);
				random_image(old, want, SPAN, &off, &len);
			}
			if (c == C_OK && op == OP_WRITE)
				c = write_session(spec, clean, confirm, w, mem, old, want, SPAN, off, len, true, folder, &t);
			else if (op == OP_READ)
				c = read_session(spec, confirm, mem, FLASH_BASE + (rnd_below(512 * 1024) & ~3u), 1 + rnd_below(128 * 1024), &t);
			else if (op == OP_OB)
				c = read_session(spec, confirm, mem, OB_ADDR, 32, &t);
			clear_dir(rdir);
			clear_dir(rundir_rec);
		}
		t.n[leg][c]++;
		if (plan.verbose || c >= C_SILENT)
			fprintf(stderr, "session %u %s [%s]: %s%s%s\n", i, leg_names[leg], spec, cls_names[c], why[0] ? ": " : "",
			        why);
	}
	unsigned tot[C_N];
	camp_table(stdout, "reliability campaign (in-process)", &plan, plan.last - plan.first, t.n, tot);
	printf("faults leg: %u writes, %u reads, %u option-byte reads; recovery: %u retries, %u reconnects, %u sector "
	       "rewrites, %u transfer splits; %u sessions failed to open; %u failures after an erase, %u named their "
	       "recovery file; %u no-home writes with no folder at all failed with the chip untouched; clean runs: %u writes, %u recovers; f0 pairs: "
	       "B written past A's pending file %u times, both files pending %u times\n",
	       t.ops[OP_WRITE], t.ops[OP_READ], t.ops[OP_OB], t.retries, t.reconnects, t.rewrites, t.splits, t.open_failed,
	       t.after_erase, t.named, t.refused_nohome, t.rewrites_clean, t.recovers, t.b_past_a, t.two_files);
	free(old);
	free(want);
	free(mem);
	clear_dir(rdir);
	clear_dir(rundir_rec);
	char p[1024];
	snprintf(p, sizeof p, "%s/stm32dfu", rundir);
	rmdir(rundir_rec);
	rmdir(p);
	rmdir(rundir);
	rmdir(rdir);
	rmdir(work);
	return camp_violations(tot) == 0 ? 0 : 1;
}
