/*
 * Example: write an image with libstm32dfu, showing progress, then verify it separately.
 * Uses only the public header. Build against an installed library with
 *   cc write_verify.c $(pkg-config --cflags --libs stm32dfu)
 * Usage: write_verify FILE [SIM_SPEC]
 *   without SIM_SPEC it programs the one STM32 attached in DFU mode; with one (e.g.
 *   "f746,timing=0") it uses the built-in emulator, as the test suite does.
 */
#include <stdio.h>

#include <stm32dfu/stm32dfu.h>

static const char *const phase_names[] = {"read", "erase", "program", "verify"};

/* one line per phase on stderr: every tenth of a phase, and its end */
static void progress(void *user, enum stm32dfu_phase phase, uint64_t done, uint64_t total)
{
	unsigned *last_tenth = user;
	unsigned tenth = total ? (unsigned)(done * 10 / total) : 10;
	if (done == 0 || tenth != *last_tenth || done == total)
		fprintf(stderr, "%-8s %3u%%\n", phase_names[phase], total ? (unsigned)(done * 100 / total) : 100);
	*last_tenth = tenth;
}

static int fail(const char *what, int rc, const struct stm32dfu_session *s)
{
	struct stm32dfu_error e = stm32dfu_last_error(s);
	fprintf(stderr, "write_verify: %s: %s (%s)\n", what, e.message, stm32dfu_errname(rc));
	if (e.hint && e.hint[0])
		fprintf(stderr, "hint: %s\n", e.hint);
	return 1;
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: %s FILE [SIM_SPEC]\n", argv[0]);
		return 2;
	}
	struct stm32dfu_match m = {0};
	m.sim = argc == 3 ? argv[2] : NULL;
	struct stm32dfu_session *s;
	int rc = stm32dfu_open(&m, &s);
	if (rc < 0)
		return fail("open", rc, NULL);
	printf("chip UID %s\n", stm32dfu_uid(s));
	unsigned last = 0;
	stm32dfu_set_progress(s, progress, &last);
	struct stm32dfu_write_result r;
	rc = stm32dfu_write_file(s, argv[1], NULL, &r);
	if (rc < 0) {
		rc = fail("write", rc, s);
		stm32dfu_close(s);
		return rc;
	}
	printf("wrote %llu bytes (%u sectors erased, %u unchanged), verified: %s, %.2f s\n",
	       (unsigned long long)r.bytes_programmed, r.sectors_erased, r.sectors_skipped, r.verified ? "yes" : "no",
	       r.seconds);
	rc = stm32dfu_verify_file(s, argv[1], NULL);
	if (rc < 0) {
		rc = fail("verify", rc, s);
		stm32dfu_close(s);
		return rc;
	}
	printf("verify: the chip holds %s\n", argv[1]);
	stm32dfu_close(s);
	return 0;
}
