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
 * All but the first two must be 0. As in bench/campaign.c, a session whose faults include an upload
 * corrupted past USB's CRC16 (corrupt_upload_at) runs with --confirm-reads: one read cannot see
 * such a flip on a link that shows no other fault (issue 13's read-once rule). Usage:
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
#include <sys/wait.h>
#include <time.h>
#include <dirent.h>
#include <unistd.h>

#include "core/clock.h"
#include "sim/sim.h"

extern char **environ;

#define FLASH_BASE 0x08000000u
#define SPAN (256u * 1024u)
#define UID "002200363436510D33323730" /* profiles/f746 */
#define SERIAL "335437663436"

static uint64_t rng_state;
static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull); /* splitmix64 */
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}
static unsigned rnd_below(unsigned n)
{
	return n ? (unsigned)(rnd() % n) : 0;
}

enum cls { C_OK, C_FAIL, C_CANCEL, C_SILENT, C_LOST, C_CRASH, C_NOFILE, C_N };
static const char *const cls_names[C_N] = {"ok", "clean failure", "stopped (SIGINT)", "SILENT", "LOST", "CRASH",
                                           "NO FILE"};
enum sel { S_UID, S_SERIAL, S_PATH, S_N };
static const char *const sel_names[S_N] = {"UID", "serial", "path"};

static const char *profile_dir;
static struct sim_profile *profile;

/* The chip's memory as the emulator kept it in its state file. */
static bool chip_read(const char *state, uint8_t *buf)
{
	char eb[256];
	struct clock_fake fc;
	clock_fake_init(&fc);
	struct sim_device *d = sim_device_new(profile, &fc.clock, eb, sizeof eb);
	bool ok = d && sim_state_load(d, state, eb, sizeof eb) == 0 && sim_mem_read(d, FLASH_BASE, buf, SPAN);
	if (!ok)
		fprintf(stderr, "campaign: %s: %s\n", state, eb);
	if (d)
		sim_device_free(d);
	return ok;
}

static bool chip_write(const char *state, const uint8_t *buf)
{
	char eb[256];
	struct clock_fake fc;
	clock_fake_init(&fc);
	struct sim_device *d = sim_device_new(profile, &fc.clock, eb, sizeof eb);
	bool ok = d && sim_mem_write(d, FLASH_BASE, buf, SPAN) && sim_state_save(d, state, eb, sizeof eb) == 0;
	if (d)
		sim_device_free(d);
	return ok;
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

/* Runs argv with stdout/stderr to files, in a process group of its own; SIGINT to it after
 * sigint_ms (< 0: never). The exit status as a shell reports it; 124 after 300 s (then the whole
 * group is killed: a tool left running would go on writing the next session's chip). */
static int run(char *const argv[], const char *out, const char *err, int sigint_ms)
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
	int rc = posix_spawn(&pid, argv[0], &fa, &at, argv, environ);
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
		if (ms > 300000) {
			kill(-pid, SIGKILL);
			waitpid(pid, &st, 0);
			return 124;
		}
		struct timespec ts = {0, 5 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Deletes what is left in the recovery folder; returns how many files there were. */
static unsigned clear_dir(const char *dir)
{
	DIR *d = opendir(dir);
	unsigned k = 0;
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char p[1024];
		snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
		unlink(p);
		k++;
	}
	if (d)
		closedir(d);
	return k;
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

static unsigned done_sessions;
static unsigned i_done(unsigned s)
{
	return done_sessions < s ? done_sessions : s;
}

static void summary(unsigned n[S_N][C_N], unsigned sessions, uint64_t seed, unsigned sigints, unsigned early,
                    unsigned after_erase, unsigned named, unsigned rewrites, unsigned recovers, unsigned tot[C_N])
{
	printf("reliability campaign over virtual USB (libusb): %u sessions, seed %" PRIu64 "\n", sessions, seed);
	printf("%-8s %8s", "select", "sessions");
	for (int k = 0; k < C_N; k++)
		printf(" %*s", (int)strlen(cls_names[k]) > 8 ? (int)strlen(cls_names[k]) : 8, cls_names[k]);
	printf("\n");
	memset(tot, 0, C_N * sizeof *tot);
	for (int s = 0; s < S_N; s++) {
		unsigned sum = 0;
		for (int k = 0; k < C_N; k++)
			sum += n[s][k];
		printf("%-8s %8u", sel_names[s], sum);
		for (int k = 0; k < C_N; k++) {
			printf(" %*u", (int)strlen(cls_names[k]) > 8 ? (int)strlen(cls_names[k]) : 8, n[s][k]);
			tot[k] += n[s][k];
		}
		printf("\n");
	}
	printf("%-8s %8u", "total", sessions);
	for (int k = 0; k < C_N; k++)
		printf(" %*u", (int)strlen(cls_names[k]) > 8 ? (int)strlen(cls_names[k]) : 8, tot[k]);
	printf("\n");
	printf("SIGINT sent in %u sessions (%u before the tool had started); %u failures after an erase, %u named their recovery file; clean runs after a "
	       "failure: %u writes, %u recovers\n", sigints, early, after_erase, named, rewrites, recovers);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: %s SIM_EXE TOOL_EXE WORKDIR [SESSIONS [SEED]]\n", argv[0]);
		return 2;
	}
	const char *sim = argv[1], *tool = argv[2], *work = argv[3];
	unsigned sessions = argc > 4 ? (unsigned)strtoul(argv[4], NULL, 0) : 1000;
	uint64_t seed = argc > 5 ? strtoull(argv[5], NULL, 0) : 1;
	bool verbose = getenv("CAMPAIGN_VERBOSE") != NULL;
	profile_dir = getenv("STM32DFU_PROFILE_DIR");
	char eb[256];
	profile = sim_profile_load("f746", profile_dir, eb, sizeof eb);
	if (!profile) {
		fprintf(stderr, "campaign: %s\n", eb);
		return 2;
	}
	rng_state = seed;
	unsigned n[S_N][C_N];
	memset(n, 0, sizeof n);
	unsigned early = 0, sigints = 0, after_erase = 0, named = 0, rewrites = 0, recovers = 0;
	uint8_t *old = malloc(SPAN), *want = malloc(SPAN), *got = malloc(SPAN);
	char state[512], img[512], out[512], err[512], xdg[512], rdir[600], spec[1024], addr[32];
	snprintf(state, sizeof state, "%s/chip.state", work);
	snprintf(img, sizeof img, "%s/img.bin", work);
	snprintf(out, sizeof out, "%s/out.json", work);
	snprintf(err, sizeof err, "%s/err.txt", work);
	snprintf(xdg, sizeof xdg, "%s/xdg", work);
	snprintf(rdir, sizeof rdir, "%s/stm32dfu/sim/recovery", xdg); /* emulated chips' (src/ops/recdir.h) */
	setenv("XDG_STATE_HOME", xdg, 1); /* the tool's recovery files: this campaign's own */
	for (unsigned i = 0; i < sessions; i++) {
		/* a fresh chip: old contents, a third of the bytes programmed */
		for (uint32_t k = 0; k < SPAN; k++)
			old[k] = rnd_below(3) ? 0xFF : (uint8_t)rnd();
		unlink(state);
		if (clear_dir(rdir)) /* only after a hang: nothing of another session may be applied */
			fprintf(stderr, "session %u: a recovery file of an earlier session was left\n", i);
		if (!chip_write(state, old)) {
			fprintf(stderr, "campaign: cannot prepare %s\n", state);
			return 2;
		}
		uint32_t off = rnd_below(SPAN / 2) & ~7u;
		uint32_t len = (8 + rnd_below(SPAN - off - 8)) & ~7u;
		memcpy(want, old, SPAN);
		for (uint32_t k = 0; k < len; k++)
			want[off + k] = (uint8_t)rnd();
		write_file(img, want + off, len);
		snprintf(addr, sizeof addr, "0x%08X", FLASH_BASE + off);
		enum sel sk = (enum sel)(i % S_N);
		const char *sel_opt = sk == S_PATH ? "-p" : "-S";
		const char *sel_val = sk == S_UID ? UID : sk == S_SERIAL ? SERIAL : "1-1";
		bool sigint = rnd_below(4) == 0;
		bool corrupt = fault_spec(spec, sizeof spec, state, seed * 100003u + i, sigint);
		int at = sigint ? (int)(100 + rnd_below(2500)) : -1;
		sigints += sigint;
		char *a1[] = {(char *)sim, "--profile", spec, "--", (char *)tool, (char *)sel_opt, (char *)sel_val, "write",
		              img, "-a", addr, "--json", corrupt ? "--confirm-reads" : NULL, NULL};
		int rc = run(a1, out, err, at);
		char *doc = read_text(out), *msg = read_text(err);
		enum cls c;
		bool is_doc = doc[0] == '{';
		bool ok = is_doc && json_has(doc, "\"ok\": true");
		bool named_file = json_has(doc, "\"recovery_file\": \"");
		long erased = json_num(doc, "sectors_erased");
		if (!chip_read(state, got))
			return 2;
		bool changed = memcmp(got, old, SPAN) != 0;
		if (rc == 130 && !is_doc && !changed) {
			/* the SIGINT came before the tool had set its handlers (or the testbed had started
			 * the tool): killed as the signal says, before any USB work; the chip is untouched */
			c = C_CANCEL;
			early++;
		} else if ((rc >= 124 && rc != 130) || !is_doc || (rc == 130 && !json_has(doc, "STM32DFU_E_CANCELED"))) {
			c = C_CRASH;
		} else if (ok) {
			c = rc == 0 && memcmp(got, want, SPAN) == 0 ? C_OK : C_SILENT;
			if (c == C_OK && clear_dir(rdir)) {
				fprintf(stderr, "session %u: a recovery file is left after a verified write\n", i);
				c = C_LOST; /* it would be applied to the next chip with this UID */
			}
		} else {
			c = rc == 130 ? C_CANCEL : C_FAIL;
			if (erased > 0 || changed) {
				after_erase++;
				if (named_file && strstr(msg, rdir))
					named++;
				else
					c = C_NOFILE;
			}
			/* the clean run: the same write again, or recover (then only the kept bytes count) */
			bool use_recover = rnd_below(2) == 0;
			char *a2w[] = {(char *)sim, "--profile", "f746,timing=0,state=", "--", (char *)tool, (char *)sel_opt,
			               (char *)sel_val, "write", img, "-a", addr, "--json", NULL};
			char *a2r[] = {(char *)sim, "--profile", "f746,timing=0,state=", "--", (char *)tool, (char *)sel_opt,
			               (char *)sel_val, "recover", "--json", NULL};
			char clean[700];
			snprintf(clean, sizeof clean, "f746,timing=0,state=%s", state);
			a2w[2] = a2r[2] = clean;
			int rc2 = run(use_recover ? a2r : a2w, out, err, -1);
			use_recover ? recovers++ : rewrites++;
			if (!chip_read(state, got))
				return 2;
			bool kept = true;
			for (uint32_t k = 0; k < SPAN && kept; k++)
				if ((k < off || k >= off + len) && got[k] != old[k])
					kept = false;
			bool file_left = clear_dir(rdir) != 0; /* a verified clean run deletes it */
			if (rc2 != 0 || !kept || file_left || (!use_recover && memcmp(got, want, SPAN) != 0)) {
				if (c != C_CRASH) {
					char *m2 = read_text(err);
					fprintf(stderr, "session %u: the clean %s after the failure: exit %d, outside bytes %s%s: %s\n", i,
					        use_recover ? "recover" : "write", rc2, kept ? "kept" : "LOST",
					        file_left ? ", recovery file left" : "", m2);
					free(m2);
				}
				c = rc2 >= 124 && rc2 != 130 ? C_CRASH : C_LOST;
			}
		}
		n[sk][c]++;
		if (verbose || c >= C_SILENT)
			fprintf(stderr, "session %u %s [%s]%s: rc %d, %s: %.300s\n", i, sel_names[sk], spec,
			        sigint ? " SIGINT" : "", rc, cls_names[c], msg);
		free(doc);
		free(msg);
		done_sessions = i + 1;
		if (!verbose && (i + 1) % 50 == 0 && i + 1 < sessions) {
			unsigned t[C_N];
			summary(n, i + 1, seed, sigints, early, after_erase, named, rewrites, recovers, t); /* so far */
		}
	}
	unsigned tot[C_N];
	summary(n, i_done(sessions), seed, sigints, early, after_erase, named, rewrites, recovers, tot);
	free(old);
	free(want);
	free(got);
	sim_profile_free(profile);
	(void)tot;
	return tot[C_SILENT] + tot[C_LOST] + tot[C_CRASH] + tot[C_NOFILE] == 0 ? 0 : 1;
}
