/*
 * Reliability campaign over virtual USB: each session runs the real programs, as a user would,
 *     stm32dfu-sim --profile f746,<faults>,state=S -- stm32dfu <selector> write img.bin -a ADDR --json
 * so the tool goes through libusb, not the in-process transport. The selector is the chip's UID,
 * its USB serial or its port path, in turn; some sessions get a SIGINT at a random moment. The
 * chip's memory is then read from the emulator's state file (its back door, not our read path)
 * and every byte of the 256 KiB around the image is checked, the bytes outside the image too.
 * After a failure a second, clean run puts things right (the same write again, or 'recover'),
 * and the bytes the first run had to keep must be back. Classes:
 *   ok              success, and the chip holds exactly the image over its old contents;
 *   clean failure   a failure with a message; if anything was erased it names its recovery file;
 *   SILENT          success claimed, but the chip differs;
 *   LOST            after the clean run, a byte outside the image is not what it was;
 *   CRASH           killed by a signal other than the SIGINT we sent, no JSON document, or a hang;
 *   NO FILE         a failure after an erase that names no recovery file.
 *   WRONG CHIP      a chip's bytes changed to something no write of its own could leave (another
 *                   chip's recovery file applied to it).
 * All but the first three must be 0. Sessions come in legs, in turn (issue 21: the paths the rest
 * of the suite does not walk):
 *   faults      f746, random faults; an upload corrupted past USB's CRC16 (corrupt_upload_at) runs
 *               with --confirm-reads there, as a flip in the identity's reads needs it;
 *   no-home     the same with no HOME, XDG_STATE_HOME, XDG_CACHE_HOME: the recovery file goes to
 *               $XDG_RUNTIME_DIR (a systemd unit, a container, env -i);
 *   no-verify   a clean write --no-verify, then a faulted write elsewhere: nothing the first wrote
 *               may be undone by a stale recovery file;
 *   flip        one upload corrupted past the CRC during the read-back, with no --confirm-reads
 *               and no other fault: the kept bytes must still be right (read twice before an erase);
 *   f0-pair     two f0-32k chips (no readable UID, both USB serial FFFFFFFEFFFF) sharing one
 *               recovery folder: A's write dies (unplugged) or not, then B is written (half the time
 *               dying too): A's file is never applied to B and B's write goes on past it (their flash
 *               differs), so the key may have two files; then each chip's clean run must bring back
 *               its own bytes and leave the other's file alone;
 *   erase-range erase ADDR LEN over an unaligned range, random faults: exactly those bytes erased,
 *               the rest of their sectors kept (after a failure, the erase again or recover);
 *   usart       the write over the ROM's USART bootloader (issue 23): the in-process AN3155 door
 *               (virtual time) or, a quarter of the time, stm32dfu-sim --uart's pseudo-terminal at
 *               921600 baud (real time; SIGKILL can hit the tool there); line noise (one or two
 *               flipped bits), lost bytes, a chip that resets or is gone mid-write; the clean run
 *               through any door to the same chip (USART or USB, in-process or not). The chip in
 *               turn: f746 (sectors), l0-192k (128-byte pages, its first 64 KiB), f767-db (dual
 *               bank); every other round of the three with no state folder, as no-home.
 * CAMPAIGN_LEG=NAME runs that leg only. Usage:
 *   stm32dfu-campaign-vusb SIM_EXE TOOL_EXE WORKDIR [SESSIONS [SEED]]   (env STM32DFU_PROFILE_DIR)
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <dirent.h>
#include <unistd.h>

#include "core/clock.h"
#include "sim/sim.h"

#include "campaign_common.h"

extern char **environ;

#define FLASH_BASE CAMP_FLASH_BASE
#define SPAN CAMP_SPAN
#define F0_SPAN CAMP_F0_SPAN
#define UID "002200363436510D33323730" /* profiles/f746 */
#define SERIAL "335437663436"

enum sel { S_UID, S_SERIAL, S_PATH, S_N };
static const char *const sel_names[S_N] = {"UID", "serial", "path"};

static const char *profile_dir;
static struct sim_profile *profile, *profile_f0;

/* The chip's memory as the emulator kept it in its state file. */
static bool chip_read_p(struct sim_profile *prof, uint32_t span, const char *state, uint8_t *buf)
{
	char eb[256];
	struct clock_fake fc;
	clock_fake_init(&fc);
	struct sim_device *d = sim_device_new(prof, &fc.clock, eb, sizeof eb);
	bool ok = d && sim_state_load(d, state, eb, sizeof eb) == 0 && sim_mem_read(d, FLASH_BASE, buf, span);
	if (!ok)
		fprintf(stderr, "campaign: %s: %s\n", state, eb);
	if (d)
		sim_device_free(d);
	return ok;
}

static bool chip_write_p(struct sim_profile *prof, uint32_t span, const char *state, const uint8_t *buf)
{
	char eb[256];
	struct clock_fake fc;
	clock_fake_init(&fc);
	struct sim_device *d = sim_device_new(prof, &fc.clock, eb, sizeof eb);
	bool ok = d && sim_mem_write(d, FLASH_BASE, buf, span) && sim_state_save(d, state, eb, sizeof eb) == 0;
	if (d)
		sim_device_free(d);
	return ok;
}

/* The session's chip: the f746, or in the usart leg one of usart_chips in turn (its first span
 * bytes of flash checked). */
struct chip_kind {
	const char *name;
	uint32_t span;
	struct sim_profile *prof;
};
static struct chip_kind usart_chips[] = {
	{"f746", SPAN, NULL},            /* sectors of 32 and 128 KiB */
	{"l0-192k", 64u * 1024u, NULL},  /* 128-byte pages, erased by lists of them */
	{"f767-db", SPAN, NULL},         /* dual bank (nDBANK = 0): the map from the option bytes */
};
#define N_USART_CHIPS (sizeof usart_chips / sizeof *usart_chips)
static const struct chip_kind *cur; /* this session's */

static bool chip_read(const char *state, uint8_t *buf)
{
	return chip_read_p(cur->prof, cur->span, state, buf);
}

static bool chip_write(const char *state, const uint8_t *buf)
{
	return chip_write_p(cur->prof, cur->span, state, buf);
}

static bool write_file(const char *path, const uint8_t *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	bool ok = f && fwrite(p, 1, n, f) == n;
	if (f && fclose(f) != 0)
		ok = false;
	return ok;
}

static char *read_text(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return calloc(1, 1);
	char *buf = calloc(1, 1 << 20);
	size_t n = buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
	if (buf)
		buf[n] = '\0';
	fclose(f);
	return buf;
}

/* The tool under stm32dfu-sim pid: its only child. */
static pid_t child_of(pid_t pid)
{
	char p[64];
	snprintf(p, sizeof p, "/proc/%d/task/%d/children", (int)pid, (int)pid);
	FILE *f = fopen(p, "r");
	int c = 0;
	if (f) {
		if (fscanf(f, "%d", &c) != 1)
			c = 0;
		fclose(f);
	}
	return (pid_t)c;
}

/* The longest a session may take. With the chip's wedges bounded per session (src/ops/recover.c,
 * REC_BUSY_SESSION_MAX) and hung links ending after 3 silent timeouts in a row, the slowest
 * sessions take seconds (a timeout_at costs 5 s, a USART chip gone over the pty its timeouts); 300 s
 * is a hang, whatever the machine's load (seed 701's timeout was the wedges, not the load). */
#define RUN_LIMIT_MS 300000u
/* Over the USART pseudo-terminal time is real and a lost byte costs its answer's timeout (about
 * 0.26 s at 921600 baud, docs/usart.md): a 147 KB write at uart_drop=0.001 moves about a MB each
 * way, some 1200 lost bytes, 310 s (usart seed 2902 session 183: classed CRASH at 300 s while it
 * was working). There the limit is three times as long. */
#define RUN_LIMIT_PTY_MS 900000u
static unsigned run_limit_ms = RUN_LIMIT_MS; /* the session's, for run() */
static unsigned slowest_ms; /* the longest run() of the campaign, for the report */

/* Runs argv with stdout/stderr to files, in a process group of its own; SIGINT to it after
 * sigint_ms, SIGKILL to the tool under stm32dfu-sim after kill_ms (< 0: never). The exit status
 * as a shell reports it; 124 after run_limit_ms (then the whole group is killed: a tool left
 * running would go on writing the next session's chip). */
static char **run_env; /* the environment of the next run() (environ, or the no-home one) */

static int run(char *const argv[], const char *out, const char *err, int sigint_ms, int kill_ms)
{
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	posix_spawn_file_actions_addopen(&fa, 2, err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	posix_spawnattr_t at;
	posix_spawnattr_init(&at);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP);
	posix_spawnattr_setpgroup(&at, 0);
	pid_t pid;
	int rc = posix_spawn(&pid, argv[0], &fa, &at, argv, run_env ? run_env : environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	if (rc)
		return 127;
	int st = 0;
	bool sent = false;
	for (unsigned ms = 0;; ms += 5) {
		pid_t w = waitpid(pid, &st, WNOHANG);
		if (w == pid)
			break;
		if (!sent && sigint_ms >= 0 && ms >= (unsigned)sigint_ms) {
			kill(pid, SIGINT); /* stm32dfu-sim passes it on to the tool */
			sent = true;
		}
		if (!sent && kill_ms >= 0 && ms >= (unsigned)kill_ms) {
			/* the tool only: the emulator lives on and keeps the chip's flash (its state file) */
			pid_t tool = child_of(pid);
			if (tool > 0) {
				kill(tool, SIGKILL);
				sent = true;
			}
		}
		if (ms > slowest_ms)
			slowest_ms = ms;
		if (ms > run_limit_ms) {
			kill(-pid, SIGKILL);
			waitpid(pid, &st, 0);
			return 124;
		}
		struct timespec ts = {0, 5 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static bool is_file_left(const char *dir)
{
	return count_files(dir) != 0;
}

static long json_num(const char *doc, const char *key)
{
	char k[64];
	snprintf(k, sizeof k, "\"%s\": ", key);
	const char *p = strstr(doc, k);
	return p ? strtol(p + strlen(k), NULL, 10) : -1;
}

static bool json_has(const char *doc, const char *text)
{
	return strstr(doc, text) != NULL;
}

/* Random fault keys; true if they include an upload corrupted past the CRC. */
static bool fault_spec(char *spec, size_t cap, const char *state, uint64_t seed, bool slow)
{
	size_t used = (size_t)snprintf(spec, cap, "f746,timing=%s,seed=%" PRIu64 ",state=%s", slow ? "0.05" : "0", seed,
	                               state);
	unsigned kinds = rnd_below(32);
	if (kinds & 1) {
		static const char *const rates[] = {"0.002", "0.005", "0.01", "0.02"};
		used += (size_t)snprintf(spec + used, cap - used, ",fault_rate=%s", rates[rnd_below(4)]);
	}
	if (kinds & 2)
		used += (size_t)snprintf(spec + used, cap - used, ",stall_at=%u", 5 + rnd_below(600));
	if ((kinds & 4) && rnd_below(4) == 0) /* a timeout costs 5 s of real time: rarer here */
		used += (size_t)snprintf(spec + used, cap - used, ",timeout_at=%u", 5 + rnd_below(600));
	if (kinds & 8)
		used += (size_t)snprintf(spec + used, cap - used, ",corrupt_upload_at=%u", 1 + rnd_below(300));
	if (kinds & 16)
		used += (size_t)snprintf(spec + used, cap - used, ",busy_stuck_after=0x%08X", FLASH_BASE + rnd_below(SPAN));
	(void)used;
	return (kinds & 8) != 0;
}

/* Random USART faults (src/sim/uart.c, docs/profiles.md): line noise (one flipped bit: the parity
 * check drops the byte; two: it passes, so a command or frame NACK, or Read Memory data wrong),
 * lost bytes, a chip that resets or is gone mid-write, at a random host byte among the write's
 * (the read-back, the erase, about len bytes of Write Memory, the verify). */
static void uart_fault_spec(char *spec, size_t cap, const char *state, uint64_t seed, uint32_t len)
{
	size_t used = (size_t)snprintf(spec, cap, "%s,timing=0,seed=%" PRIu64 ",state=%s", cur->name, seed, state);
	unsigned span = 2u * len + 4000u;
	unsigned kinds = rnd_below(256);
	if (kinds & 1) {
		static const char *const rates[] = {"0.00005", "0.0002", "0.0005", "0.001"};
		used += (size_t)snprintf(spec + used, cap - used, ",uart_noise=%s", rates[rnd_below(4)]);
		if (kinds & 64) { /* a share of the noisy bytes with two bits flipped */
			static const char *const share[] = {"0.1", "0.3", "1"};
			used += (size_t)snprintf(spec + used, cap - used, ",uart_noise2=%s", share[rnd_below(3)]);
		}
	}
	if (kinds & 128)
		used += (size_t)snprintf(spec + used, cap - used, rnd_below(2) ? ",uart_noise2_at=%u" : ",uart_noise2_tx_at=%u",
		                         1 + rnd_below(span));
	if (kinds & 2)
		used += (size_t)snprintf(spec + used, cap - used, ",uart_noise_at=%u", 1 + rnd_below(span));
	if (kinds & 4)
		used += (size_t)snprintf(spec + used, cap - used, ",uart_noise_tx_at=%u", 1 + rnd_below(span));
	if (kinds & 8) {
		if (rnd_below(2))
			used += (size_t)snprintf(spec + used, cap - used, ",uart_drop=%s", rnd_below(2) ? "0.0002" : "0.001");
		else
			used += (size_t)snprintf(spec + used, cap - used, ",uart_drop_at=%u", 1 + rnd_below(span));
	}
	if (kinds & 16)
		used += (size_t)snprintf(spec + used, cap - used, ",uart_reset_at=%u", 8 + rnd_below(span));
	if ((kinds & 32) && !(kinds & 16))
		used += (size_t)snprintf(spec + used, cap - used, ",uart_gone_at=%u", 8 + rnd_below(span));
	(void)used;
}


struct tally {
	unsigned n[L_N][C_N];
	unsigned by_sel[S_N];
	unsigned sigints, sigkills, early, after_erase, named, rewrites, recovers, refused_b, b_past_a, two_files;
	unsigned clean_by_door[4];
};

static void summary(struct tally *t, const struct camp_plan *p, unsigned done, unsigned tot[C_N])
{
	camp_table(stdout, "reliability campaign over virtual USB (libusb) and USART", p, done, t->n, tot);
	printf("f746 sessions selected by %s %u, %s %u, %s %u; SIGINT sent in %u sessions (%u before the tool had "
	       "started), SIGKILL to the tool in %u; %u failures after an erase, %u named their recovery file; clean runs "
	       "after a failure: %u writes, %u recovers (through virtual USB %u, USART pty %u, USART in-process %u, USB "
	       "in-process %u); f0 "
	       "pairs: B written past A's pending file %u times, both files pending %u times, B refused while A's file was "
	       "pending %u times (expected 0: their flash differs); the slowest run took %.1f s\n",
	       sel_names[S_UID], t->by_sel[S_UID], sel_names[S_SERIAL], t->by_sel[S_SERIAL], sel_names[S_PATH],
	       t->by_sel[S_PATH], t->sigints, t->early, t->sigkills, t->after_erase, t->named, t->rewrites, t->recovers,
	       t->clean_by_door[0], t->clean_by_door[1], t->clean_by_door[2], t->clean_by_door[3], t->b_past_a, t->two_files, t->refused_b,
	       slowest_ms / 1000.0);
	fflush(stdout);
}

struct ctx {
	const char *sim, *tool;
	char state[512], img[512], out[512], err[512], rdir[800], rdir_side[800];
	uint64_t seed;
	struct tally t;
	uint8_t *got;
};


/* How a command reaches the chip (its state file x->state in every case, so a failure through one
 * door can be put right through another, as on a board wired to both):
 *   D_VUSB       stm32dfu-sim --profile SPEC -- stm32dfu SEL ...: virtual USB through libusb;
 *   D_UART_PTY   stm32dfu-sim --uart SPEC -- stm32dfu --port $STM32DFU_TTY ...: a pseudo-terminal, real
 *                time at PTY_BAUD (the profile's uart_max_baud raised to it);
 *   D_UART_SIM   stm32dfu --sim=SPEC,link=uart ...: the AN3155 front end in-process (virtual time);
 *   D_USB_SIM    stm32dfu --sim=SPEC ...: the DfuSe ROM in-process.
 * The testbed's doors (the first two) keep emulated chips' recovery files in the state folder's
 * sim/recovery, the in-process ones beside the state file (src/ops/recdir.h): a clean run goes
 * through a door of the same kind as the failed one. */
enum door { D_VUSB, D_UART_PTY, D_UART_SIM, D_USB_SIM, D_N };
static const char *const door_names[D_N] = {"virtual USB", "USART pty", "USART in-process", "USB in-process"};
#define PTY_BAUD "921600"

struct cmdline {
	char *argv[24];
	char spec[1024], sim_opt[1100];
};

/* argv for `cmd` (NULL-ended) through door d, under spec (faults, state=) */
static void cmd_for(struct ctx *x, struct cmdline *c, enum door d, const char *spec, const char *sel_opt,
                    const char *sel_val, const char *const *cmd)
{
	size_t k = 0;
	snprintf(c->spec, sizeof c->spec, "%s%s", spec, d == D_UART_PTY ? ",uart_max_baud=" PTY_BAUD : "");
	if (d == D_UART_SIM || d == D_USB_SIM) {
		snprintf(c->sim_opt, sizeof c->sim_opt, "--sim=%s%s", c->spec, d == D_UART_SIM ? ",link=uart" : "");
		c->argv[k++] = (char *)x->tool;
		c->argv[k++] = c->sim_opt;
	} else {
		c->argv[k++] = (char *)x->sim;
		c->argv[k++] = d == D_UART_PTY ? "--uart" : "--profile";
		c->argv[k++] = c->spec;
		c->argv[k++] = "--";
		if (d == D_UART_PTY) {
			/* the port's path is known only to the command: a shell puts it in, then is the tool */
			c->argv[k++] = "/bin/sh";
			c->argv[k++] = "-c";
			c->argv[k++] = "exec \"$0\" --port \"$STM32DFU_TTY\" --baud " PTY_BAUD " \"$@\"";
		}
		c->argv[k++] = (char *)x->tool;
		if (d == D_VUSB && sel_opt) {
			c->argv[k++] = (char *)sel_opt;
			c->argv[k++] = (char *)sel_val;
		}
	}
	for (size_t j = 0; cmd[j] && k < sizeof c->argv / sizeof *c->argv - 1; j++)
		c->argv[k++] = (char *)cmd[j];
	c->argv[k] = NULL;
}

/*
 * One f746 write (or erase-range) of want[off, off+len) over a chip holding old, with faults per
 * leg, classified; after a failure, the clean run (the same write, or recover) must bring back
 * every byte outside the image. The chip's state file is prepared by the caller.
 */
static enum cls f746_session(struct ctx *x, unsigned i, enum leg leg, const uint8_t *old, const uint8_t *want,
                             uint32_t off, uint32_t len, char *spec, size_t spec_cap, bool *sigint_out, int *rc_out,
                             char **msg_out)
{
	char addr[32], lens[32];
	write_file(x->img, want + off, len);
	snprintf(addr, sizeof addr, "0x%08X", FLASH_BASE + off);
	snprintf(lens, sizeof lens, "%u", (unsigned)len);
	bool erase = leg == L_ERASE;
	enum sel sk = (enum sel)(i % S_N);
	const char *sel_opt = NULL, *sel_val = NULL;
	enum door door = D_VUSB, clean_door = D_VUSB;
	if (leg == L_USART) {
		/* a quarter through a pseudo-terminal in real time (the only door a SIGKILL can hit
		 * without taking the chip with it); the clean run through any door */
		door = rnd_below(4) == 0 ? D_UART_PTY : D_UART_SIM;
		clean_door = door == D_UART_PTY ? (rnd_below(2) ? D_UART_PTY : D_VUSB) : (rnd_below(2) ? D_UART_SIM : D_USB_SIM);
	} else {
		x->t.by_sel[sk]++;
		sel_opt = sk == S_PATH ? "-p" : "-S";
		sel_val = sk == S_UID ? UID : sk == S_SERIAL ? SERIAL : "1-1";
	}
	const char *rd = door >= D_UART_SIM ? x->rdir_side : x->rdir; /* where its recovery file goes */
	run_limit_ms = door == D_UART_PTY ? RUN_LIMIT_PTY_MS : RUN_LIMIT_MS;
	bool sigint = leg != L_FLIP && rnd_below(4) == 0;
	bool sigkill = door == D_UART_PTY && !sigint && rnd_below(3) == 0;
	bool corrupt = false;
	if (leg == L_FLIP) {
		/* past the identity's uploads (UID, flash size, bootloader ID, option bytes, and a
		 * selector's own reads), into the read-back of the sectors the image touches */
		snprintf(spec, spec_cap, "f746,timing=0,seed=%" PRIu64 ",state=%s,corrupt_upload_at=%u",
		         x->seed * 100003u + i, x->state, 8 + rnd_below(40));
	} else if (leg == L_USART) {
		uart_fault_spec(spec, spec_cap, x->state, x->seed * 100003u + i, len);
	} else {
		corrupt = fault_spec(spec, spec_cap, x->state, x->seed * 100003u + i, sigint);
	}
	/* in-process USART runs in virtual time: a whole write takes a fraction of a second */
	int at = sigint || sigkill ? (int)(door == D_UART_SIM ? 20 + rnd_below(300) : 100 + rnd_below(2500)) : -1;
	x->t.sigints += sigint;
	x->t.sigkills += sigkill;
	*sigint_out = sigint;
	/* CAMPAIGN_TRACE=FILE (with CAMPAIGN_SESSION): the failing run's wire in FILE (--trace) */
	const char *tr = getenv("CAMPAIGN_TRACE");
	const char *w1[] = {"write", x->img, "-a", addr, "--json", tr ? "--trace" : corrupt ? "--confirm-reads" : NULL,
	                    tr, tr && corrupt ? "--confirm-reads" : NULL, NULL};
	const char *e1[] = {"erase", addr, lens, "--json", corrupt ? "--confirm-reads" : NULL, NULL};
	struct cmdline c1;
	cmd_for(x, &c1, door, spec, sel_opt, sel_val, erase ? e1 : w1);
	int rc = run(c1.argv, x->out, x->err, sigint ? at : -1, sigkill ? at : -1);
	*rc_out = rc;
	char *doc = read_text(x->out), *msg = read_text(x->err);
	*msg_out = msg;
	enum cls c;
	bool is_doc = doc[0] == '{';
	bool ok = is_doc && json_has(doc, "\"ok\": true");
	bool named_file = json_has(doc, "\"recovery_file\": \"");
	long erased = json_num(doc, "sectors_erased");
	uint8_t *got = x->got;
	if (!chip_read(x->state, got))
		exit(2);
	bool changed = memcmp(got, old, cur->span) != 0;
	bool needs_clean = false;
	if (sigkill && rc == 128 + SIGKILL) {
		/* killed mid-write: no word from the tool; what it erased must be in a file already */
		c = C_KILLED;
		if (!outside_same(got, old, cur->span, off, len) && !is_file_left(rd))
			c = C_NOFILE;
		needs_clean = true;
	} else if (rc == 130 && !is_doc && !changed) {
		/* the SIGINT came before the tool had set its handlers (or the testbed had started
		 * the tool): killed as the signal says, before any USB work; the chip is untouched */
		c = C_CANCEL;
		x->t.early++;
	} else if ((rc >= 124 && rc != 130) || !is_doc || (rc == 130 && !json_has(doc, "STM32DFU_E_CANCELED"))) {
		c = C_CRASH;
	} else if (ok) {
		c = rc == 0 && memcmp(got, want, cur->span) == 0 ? C_OK : C_SILENT;
		if (c == C_OK && clear_dir(rd)) {
			fprintf(stderr, "session %u: a recovery file is left after a completed write\n", i);
			c = C_LOST; /* it would be applied to the next chip with this UID */
		}
	} else {
		c = rc == 130 ? C_CANCEL : C_FAIL;
		if (erased > 0 || changed) {
			x->t.after_erase++;
			if (named_file && strstr(msg, rd))
				x->t.named++;
			else
				c = C_NOFILE;
		}
		needs_clean = true;
	}
	if (needs_clean) {
		/* the clean run: the same write again, or recover (then only the kept bytes count) */
		bool use_recover = rnd_below(2) == 0;
		char clean[700];
		snprintf(clean, sizeof clean, "%s,timing=0,state=%s", cur->name, x->state);
		const char *w2[] = {"write", x->img, "-a", addr, "--json", NULL};
		const char *r2[] = {"recover", "--json", NULL};
		const char *e2[] = {"erase", addr, lens, "--json", NULL};
		struct cmdline c2;
		cmd_for(x, &c2, clean_door, clean, sel_opt, sel_val, use_recover ? r2 : erase ? e2 : w2);
		int rc2 = run(c2.argv, x->out, x->err, -1, -1);
		use_recover ? x->t.recovers++ : x->t.rewrites++;
		x->t.clean_by_door[clean_door]++;
		if (!chip_read(x->state, got))
			exit(2);
		bool kept = outside_same(got, old, cur->span, off, len);
		bool file_left = clear_dir(rd) != 0; /* a clean run ends the file's life */
		if (rc2 != 0 || !kept || file_left || (!use_recover && memcmp(got, want, cur->span) != 0)) {
			if (c != C_CRASH) {
				char *m2 = read_text(x->err);
				fprintf(stderr, "session %u: the clean %s (%s) after the failure: exit %d, outside bytes %s%s: %s\n",
				        i, use_recover ? "recover" : "write", door_names[clean_door], rc2, kept ? "kept" : "LOST",
				        file_left ? ", recovery file left" : "", m2);
				free(m2);
			}
			c = rc2 >= 124 && rc2 != 130 ? C_CRASH : C_LOST;
		}
	}
	free(doc);
	return c;
}

/*
 * Two f0-32k chips, one recovery folder, one key (serial-FFFFFFFEFFFF): A's write dies after its
 * erase or not (unplugged at a random request, no retries), B is written, A gets its clean run, B
 * is written again if it was refused. Every byte of both chips is checked after each step.
 */
static enum cls f0_pair(struct ctx *x, unsigned i, char *spec, size_t spec_cap, int *rc_out, char **msg_out)
{
	char sa[600], sb[600], ia[600], ib[600], pa[700], pb[700], clean_a[700], clean_b[700];
	snprintf(sa, sizeof sa, "%s.A", x->state);
	snprintf(sb, sizeof sb, "%s.B", x->state);
	/* named .bin: a name the tool does not know would have its content sniffed (a random image
	 * starting with ':' reads as Intel HEX) */
	snprintf(ia, sizeof ia, "%s-A.bin", x->state);
	snprintf(ib, sizeof ib, "%s-B.bin", x->state);
	uint8_t oa[F0_SPAN], ob[F0_SPAN], wa[F0_SPAN], wb[F0_SPAN], g[F0_SPAN];
	random_chip(oa, F0_SPAN);
	random_chip(ob, F0_SPAN);
	uint32_t offa, lena, offb, lenb;
	random_image(oa, wa, F0_SPAN, &offa, &lena);
	random_image(ob, wb, F0_SPAN, &offb, &lenb);
	unlink(sa);
	unlink(sb);
	if (!chip_write_p(profile_f0, F0_SPAN, sa, oa) || !chip_write_p(profile_f0, F0_SPAN, sb, ob))
		exit(2);
	write_file(ia, wa + offa, lena);
	write_file(ib, wb + offb, lenb);
	char adda[32], addb[32];
	snprintf(adda, sizeof adda, "0x%08X", FLASH_BASE + offa);
	snprintf(addb, sizeof addb, "0x%08X", FLASH_BASE + offb);
	unsigned unplug = 10 + rnd_below(200);
	snprintf(spec, spec_cap, "f0-32k,timing=0,seed=%" PRIu64 ",state=%s,unplug_at=%u", x->seed * 100003u + i, sa, unplug);
	snprintf(pa, sizeof pa, "%s", spec);
	snprintf(clean_a, sizeof clean_a, "f0-32k,timing=0,state=%s", sa);
	snprintf(clean_b, sizeof clean_b, "f0-32k,timing=0,state=%s", sb);
	snprintf(pb, sizeof pb, "%s", clean_b);
	char *a1[] = {(char *)x->sim, "--profile", pa, "--", (char *)x->tool, "write", ia, "-a", adda, "--json",
	              "--retries", "0", NULL};
	int rc = run(a1, x->out, x->err, -1, -1);
	*rc_out = rc;
	char *doc = read_text(x->out);
	*msg_out = read_text(x->err);
	bool is_doc = doc[0] == '{';
	bool ok = is_doc && json_has(doc, "\"ok\": true");
	bool named_file = json_has(doc, "\"recovery_file\": \"");
	free(doc);
	if (!chip_read_p(profile_f0, F0_SPAN, sa, g))
		exit(2);
	enum cls c = C_FAIL;
	if (rc >= 124 || !is_doc)
		return C_CRASH;
	if (ok)
		c = memcmp(g, wa, F0_SPAN) == 0 ? C_OK : C_SILENT;
	bool a_pending = is_file_left(x->rdir);
	if (!ok && memcmp(g, oa, F0_SPAN) != 0) {
		x->t.after_erase++;
		if (named_file && a_pending)
			x->t.named++;
		else
			return C_NOFILE;
	}
	/* B: never A's bytes. A's pending file is another chip's (their flash differs): B's write goes
	 * on and leaves it; half the time B's write dies too, so that the key has two files */
	unsigned files_a = count_files(x->rdir);
	bool b_dies = rnd_below(2) == 0;
	char pbd[800];
	snprintf(pbd, sizeof pbd, "%s,seed=%" PRIu64 ",unplug_at=%u", clean_b, x->seed * 100019u + i, 10 + rnd_below(200));
	char *b1[] = {(char *)x->sim, "--profile", pb, "--", (char *)x->tool, "write", ib, "-a", addb, "--json", NULL};
	char *b1d[] = {(char *)x->sim, "--profile", pbd, "--", (char *)x->tool, "write", ib, "-a", addb, "--json",
	               "--retries", "0", NULL};
	int rcb = run(b_dies ? b1d : b1, x->out, x->err, -1, -1);
	if (!chip_read_p(profile_f0, F0_SPAN, sb, g))
		exit(2);
	bool b_old = memcmp(g, ob, F0_SPAN) == 0, b_new = memcmp(g, wb, F0_SPAN) == 0;
	bool b_foreign = false; /* a byte outside B's image that is neither B's old one nor erased */
	for (uint32_t k = 0; k < F0_SPAN && !b_foreign; k++)
		if ((k < offb || k >= offb + lenb) && g[k] != ob[k] && g[k] != 0xFF)
			b_foreign = true;
	if (b_foreign || (rcb == 0 && !b_new) || (!b_dies && !b_old && !b_new)) {
		char *m = read_text(x->err);
		fprintf(stderr, "session %u: f0 B after A's %s write: exit %d, B holds bytes no write of its own left: %s\n",
		        i, ok ? "completed" : "failed", rcb, m);
		free(m);
		clear_dir(x->rdir);
		return C_WRONG;
	}
	unsigned files_b = count_files(x->rdir);
	if (rcb == 65 && a_pending) {
		x->t.refused_b++; /* safe, but their flash differs: the fingerprint should have told them apart */
		char *m = read_text(x->err);
		fprintf(stderr, "session %u: f0 B refused while A's file was pending: %s\n", i, m);
		free(m);
	} else if (rcb != 0 && !b_dies) {
		char *m = read_text(x->err);
		fprintf(stderr, "session %u: f0 B's clean write failed (exit %d) with %s: %s\n", i, rcb,
		        a_pending ? "A's file pending" : "no file pending", m);
		free(m);
		clear_dir(x->rdir);
		return rcb >= 124 ? C_CRASH : C_LOST;
	}
	if (rcb == 0 ? files_b != files_a : (!b_old && files_b != files_a + 1)) {
		/* a completed write ends its own file only; a failure after B's erase adds one */
		fprintf(stderr, "session %u: f0 B's write (exit %d, %s): %u recovery files before, %u after\n", i, rcb,
		        b_old ? "B unchanged" : "B changed", files_a, files_b);
		clear_dir(x->rdir);
		return rcb == 0 || b_old ? C_LOST : C_NOFILE;
	}
	if (files_b == 2)
		x->t.two_files++;
	else if (a_pending && rcb == 0)
		x->t.b_past_a++;
	/* A's clean run: the same write, or recover; B's file (if any) stays B's */
	bool use_recover = a_pending && rnd_below(2) == 0;
	if (!ok || a_pending) {
		char *a2w[] = {(char *)x->sim, "--profile", clean_a, "--", (char *)x->tool, "write", ia, "-a", adda, "--json", NULL};
		char *a2r[] = {(char *)x->sim, "--profile", clean_a, "--", (char *)x->tool, "recover", "--json", NULL};
		int rc2 = run(use_recover ? a2r : a2w, x->out, x->err, -1, -1);
		use_recover ? x->t.recovers++ : x->t.rewrites++;
		if (!chip_read_p(profile_f0, F0_SPAN, sa, g))
			exit(2);
		bool kept = true;
		for (uint32_t k = 0; k < F0_SPAN && kept; k++)
			if ((k < offa || k >= offa + lena) && g[k] != oa[k])
				kept = false;
		unsigned left = count_files(x->rdir), want_left = files_b - (a_pending ? 1u : 0u);
		if (rc2 != 0 || !kept || (!use_recover && memcmp(g, wa, F0_SPAN) != 0) || left != want_left) {
			char *m = read_text(x->err);
			fprintf(stderr, "session %u: f0 A's clean %s: exit %d, outside bytes %s, %u recovery files left (%u "
			        "expected): %s\n", i, use_recover ? "recover" : "write", rc2, kept ? "kept" : "LOST", left,
			        want_left, m);
			free(m);
			clear_dir(x->rdir);
			return rc2 >= 124 ? C_CRASH : C_LOST;
		}
	}
	/* B's clean run after its failure, or B again if it was refused */
	if (rcb != 0) {
		int rcb2 = run(b1, x->out, x->err, -1, -1);
		if (!chip_read_p(profile_f0, F0_SPAN, sb, g))
			exit(2);
		if (rcb2 != 0 || memcmp(g, wb, F0_SPAN) != 0 || is_file_left(x->rdir)) {
			char *m = read_text(x->err);
			fprintf(stderr, "session %u: f0 B's clean write: exit %d, B %s, files %s: %s\n", i, rcb2,
			        memcmp(g, wb, F0_SPAN) ? "differs" : "right", is_file_left(x->rdir) ? "left" : "gone", m);
			free(m);
			clear_dir(x->rdir);
			return rcb2 >= 124 ? C_CRASH : C_LOST;
		}
	}
	clear_dir(x->rdir);
	return c;
}

/* The environment without a state folder: no HOME, XDG_STATE_HOME, XDG_CACHE_HOME,
 * STM32DFU_RECOVERY_DIR; XDG_RUNTIME_DIR set to run (as systemd sets it for a user unit), and the
 * programming log named by STM32DFU_LOG (and STM32DFU_SIM_LOG, emulated chips'), as a station configures it (the default log lives in the
 * state folder: without one, write refuses before any work, exit 66). */
static char **env_nohome(const char *run_dir, const char *log)
{
	size_t n = 0;
	while (environ[n])
		n++;
	char **e = calloc(n + 4, sizeof *e);
	size_t k = 0;
	static const char *const drop[] = {"HOME=", "XDG_STATE_HOME=", "XDG_CACHE_HOME=", "XDG_RUNTIME_DIR=",
	                                   "STM32DFU_RECOVERY_DIR=", "STM32DFU_LOG=", "STM32DFU_SIM_LOG="};
	for (size_t i = 0; i < n; i++) {
		bool skip = false;
		for (size_t d = 0; d < sizeof drop / sizeof *drop; d++)
			skip |= strncmp(environ[i], drop[d], strlen(drop[d])) == 0;
		if (!skip)
			e[k++] = environ[i];
	}
	char *v = malloc(strlen(run_dir) + 20);
	sprintf(v, "XDG_RUNTIME_DIR=%s", run_dir);
	e[k++] = v;
	v = malloc(strlen(log) + 32);
	sprintf(v, "STM32DFU_LOG=sqlite:%s", log);
	e[k++] = v;
	v = malloc(strlen(log) + 32); /* the log of emulated chips (src/ops/recdir.h) */
	sprintf(v, "STM32DFU_SIM_LOG=sqlite:%s", log);
	e[k++] = v;
	e[k] = NULL;
	return e;
}

/* The environment of env_nohome: its last three entries are its own. */
static void env_free(char **e)
{
	size_t k = 0;
	while (e[k])
		k++;
	for (size_t i = k >= 3 ? k - 3 : 0; i < k; i++)
		free(e[i]);
	free(e);
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: %s SIM_EXE TOOL_EXE WORKDIR [SESSIONS [SEED]]\n", argv[0]);
		return 2;
	}
	struct ctx x;
	memset(&x, 0, sizeof x);
	x.sim = argv[1];
	x.tool = argv[2];
	unsigned sessions = argc > 4 ? (unsigned)strtoul(argv[4], NULL, 0) : 1000;
	uint64_t seed = argc > 5 ? strtoull(argv[5], NULL, 0) : 1;
	x.seed = seed;
	struct camp_plan plan;
	/* every leg in turn, the USART one too (README: its runs); CAMPAIGN_LEG=usart runs it alone */
	const char *lg = getenv("CAMPAIGN_LEG");
	bool usart_only = lg && strcmp(lg, "usart") == 0;
	if (!camp_plan_init(&plan, sessions, seed, usart_only ? 1u << L_USART : (1u << L_N) - 1u))
		return 2;
	profile_dir = getenv("STM32DFU_PROFILE_DIR");
	char eb[256];
	profile = sim_profile_load("f746", profile_dir, eb, sizeof eb);
	profile_f0 = profile ? sim_profile_load("f0-32k", profile_dir, eb, sizeof eb) : NULL;
	bool loaded = profile && profile_f0;
	usart_chips[0].prof = profile;
	for (size_t k = 1; k < N_USART_CHIPS && loaded; k++)
		loaded = (usart_chips[k].prof = sim_profile_load(usart_chips[k].name, profile_dir, eb, sizeof eb)) != NULL;
	if (!loaded) {
		fprintf(stderr, "campaign: %s\n", eb);
		return 2;
	}
	/* WORKDIR made absolute: every path below reaches the tool, and a relative XDG_STATE_HOME or
	 * XDG_RUNTIME_DIR is ignored (XDG spec), so the tool would keep its recovery files and the
	 * emulated chips' log in ~/.local/state and the campaign would look for them in the wrong
	 * folder (false NO FILE and LOST) */
	if (mkdir(argv[3], 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "campaign: %s: %s\n", argv[3], strerror(errno));
		sim_profile_free(profile);
		sim_profile_free(profile_f0);
		return 2;
	}
	char *work = realpath(argv[3], NULL);
	if (!work || strlen(work) > 400) {
		fprintf(stderr, "campaign: %s: %s\n", argv[3], work ? "path too long (400 bytes at most)" : strerror(errno));
		free(work);
		sim_profile_free(profile);
		sim_profile_free(profile_f0);
		return 2;
	}
	uint8_t *old = malloc(SPAN), *want = malloc(SPAN), *want2 = malloc(SPAN);
	x.got = malloc(SPAN);
	char xdg[512], rdir_home[600], rundir[600], rdir_run[700], spec[1024];
	snprintf(x.state, sizeof x.state, "%s/chip.state", work);
	snprintf(x.img, sizeof x.img, "%s/img.bin", work);
	snprintf(x.out, sizeof x.out, "%s/out.json", work);
	snprintf(x.err, sizeof x.err, "%s/err.txt", work);
	snprintf(xdg, sizeof xdg, "%s/xdg", work);
	snprintf(rdir_home, sizeof rdir_home, "%s/stm32dfu/sim/recovery", xdg); /* emulated chips' (src/ops/recdir.h) */
	/* the in-process emulator's (--sim=...,state=FILE): beside its state file */
	snprintf(x.rdir_side, sizeof x.rdir_side, "%s/recovery", work);
	snprintf(rundir, sizeof rundir, "%s/run", work);
	/* no state folder: nowhere to keep emulated chips apart, the runtime folder's own */
	snprintf(rdir_run, sizeof rdir_run, "%s/stm32dfu/recovery", rundir);
	mkdir(rundir, 0700);
	setenv("XDG_STATE_HOME", xdg, 1); /* the tool's recovery files: this campaign's own */
	char logpath[700];
	snprintf(logpath, sizeof logpath, "%s/log.sqlite3", work);
	char **nohome = env_nohome(rundir, logpath);
	unsigned done = 0;
	for (unsigned i = plan.first; i < plan.last; i++) {
		enum leg leg = camp_begin(&plan, i);
		/* the usart leg's chip in turn, by the session's number (its random stream untouched), and
		 * every other round of them with no state folder, as the no-home leg */
		unsigned turn = plan.only >= 0 ? i : i / (unsigned)__builtin_popcount(plan.legs);
		cur = leg == L_USART ? &usart_chips[turn % N_USART_CHIPS] : &usart_chips[0];
		bool no_home = leg == L_NOHOME || (leg == L_USART && turn / N_USART_CHIPS % 2 == 1);
		run_env = no_home ? nohome : NULL;
		run_limit_ms = RUN_LIMIT_MS; /* f746_session sets the pty door's */
		snprintf(x.rdir, sizeof x.rdir, "%s", no_home ? rdir_run : rdir_home);
		if (clear_dir(rdir_home) + clear_dir(rdir_run) + clear_dir(x.rdir_side)) /* only after a hang: nothing of another session may be applied */
			fprintf(stderr, "session %u: a recovery file of an earlier session was left\n", i);
		enum cls c;
		bool sigint = false;
		int rc = 0;
		char *msg = NULL;
		if (leg == L_F0PAIR) {
			c = f0_pair(&x, i, spec, sizeof spec, &rc, &msg);
		} else {
			/* a fresh chip: old contents, a third of the bytes programmed */
			random_chip(old, cur->span);
			unlink(x.state);
			if (!chip_write(x.state, old)) {
				fprintf(stderr, "campaign: cannot prepare %s\n", x.state);
				return 2;
			}
			uint32_t off, len;
			random_image(old, want, cur->span, &off, &len);
			if (leg == L_ERASE) {
				/* any start, any length: the erase keeps the rest of the sectors it touches */
				off = rnd_below(SPAN / 2);
				len = 1 + rnd_below(SPAN / 2);
				memcpy(want, old, SPAN);
				memset(want + off, 0xFF, len);
			}
			c = C_OK;
			if (leg == L_NOVERIFY) {
				/* a clean write --no-verify first; the faulted write then goes elsewhere */
				char addr[32], clean[700];
				write_file(x.img, want + off, len);
				snprintf(addr, sizeof addr, "0x%08X", FLASH_BASE + off);
				snprintf(clean, sizeof clean, "f746,timing=0,state=%s", x.state);
				char *a0[] = {(char *)x.sim, "--profile", clean, "--", (char *)x.tool, "write", x.img, "-a", addr,
				              "--json", "--no-verify", NULL};
				int rc0 = run(a0, x.out, x.err, -1, -1);
				if (!chip_read(x.state, x.got))
					return 2;
				if (rc0 != 0 || memcmp(x.got, want, SPAN) != 0 || is_file_left(x.rdir)) {
					char *m = read_text(x.err);
					fprintf(stderr, "session %u: the --no-verify write: exit %d, chip %s, file %s: %s\n", i, rc0,
					        memcmp(x.got, want, SPAN) ? "differs" : "right", is_file_left(x.rdir) ? "left" : "gone", m);
					free(m);
					c = rc0 == 0 ? C_SILENT : rc0 >= 124 ? C_CRASH : C_FAIL;
				}
				memcpy(old, want, SPAN);
				random_image(old, want, SPAN, &off, &len);
			}
			if (c == C_OK)
				c = f746_session(&x, i, leg, old, want, off, len, spec, sizeof spec, &sigint, &rc, &msg);
		}
		(void)want2;
		x.t.n[leg][c]++;
		if (plan.verbose || c >= C_SILENT)
			fprintf(stderr, "session %u %s%s [%s]%s: rc %d, %s: %.300s\n", i, leg_names[leg],
			        leg == L_USART && no_home ? " (no home)" : "", spec,
			        sigint ? " SIGINT" : rc == 128 + 9 ? " SIGKILL" : "", rc, cls_names[c], msg ? msg : "");
		free(msg);
		done++;
		if (!plan.verbose && done % 50 == 0 && i + 1 < plan.last) {
			unsigned t[C_N];
			summary(&x.t, &plan, done, t); /* so far */
		}
	}
	unsigned tot[C_N];
	summary(&x.t, &plan, done, tot);
	free(old);
	free(want);
	free(want2);
	free(x.got);
	env_free(nohome);
	for (size_t k = 1; k < N_USART_CHIPS; k++)
		sim_profile_free(usart_chips[k].prof);
	sim_profile_free(profile);
	sim_profile_free(profile_f0);
	free(work);
	return camp_violations(tot) == 0 ? 0 : 1;
}
