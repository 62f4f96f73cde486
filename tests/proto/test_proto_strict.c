/*
 * The host against the strict ROM models (issue 12): the H743 rev V erase wedge, the L43x that
 * refuses data blocks above 1024 bytes and STALLs an early GETSTATUS, and every shipped profile,
 * each in virtual time with the profile's own timing. A write must land byte-exact (checked
 * through the emulator's back door) and the transcript must show how the host got through.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/rd.h"
#include "image/image.h"
#include "ops/ops.h"
#include "sim/sim.h"
#include "usb/tp_sim.h"
#include "usb/tp_trace.h"
#include "harness.h"

#define KIB 1024u

static struct clock_fake fake;

static struct ops_session *open_sim(const char *spec)
{
	struct ops_open_opts o = harness_opts(spec, &fake);
	o.match.have_vid = o.match.have_pid = false; /* the GD32 clone is not 0483:df11 */
	return harness_open(&o);
}



static int write_image(struct ops_session *s, const struct img *img, struct ops_write_result *r)
{
	struct ops_write_opts wo;
	ops_write_opts_init(&wo);
	int rc = ops_write(s, img, &wo, r);
	if (rc)
		fail_msg("write: %s", s->err.msg);
	return rc;
}

/*
 * H743 rev V (betaflight PR #1861): 300 KiB from 150 KiB below the bank boundary, so sectors 6-7
 * (bank 1) and 8-9 (bank 2, wedged) are erased. Each sector is erased once; the wedged ones are
 * cleared only after the erase's ceiling has passed, blank-checked by a read, then programmed.
 */
static void test_h743_revv_300k_across_banks(void **state)
{
	(void)state;
	struct ops_session *s = open_sim("h743");
	struct img *img = harness_random_image(7, 0x08100000 - 150 * KIB, 300 * KIB);
	struct ops_write_result r;
	tp_trace_forget(s->tp);
	assert_int_equal(write_image(s, img, &r), 0);
	assert_true(r.verified);
	harness_assert_chip_holds(s, img);
	assert_int_equal(r.sectors_erased, 4);
	assert_int_equal(tp_trace_count(s->tp, TP_REQ_ERASE), 4); /* no sector erased twice */
	assert_int_equal(s->counters.wedges_cleared, 2);
	size_t n;
	const struct tp_rec *rec = tp_trace_records(s->tp, &n);
	const struct tp_rec *last_erase = NULL;
	unsigned clears = 0;
	for (size_t i = 0; i < n; i++) {
		if (rec[i].cls == TP_REQ_ERASE)
			last_erase = &rec[i];
		if (rec[i].cls != TP_REQ_CLRSTATUS)
			continue;
		clears++;
		assert_non_null(last_erase);
		uint32_t at = get_le32(last_erase->data + 1);
		assert_true(at >= 0x08100000); /* only the wedged bank */
		/* the operation's ceiling had passed before the first CLRSTATUS */
		assert_true(rec[i].t_us - last_erase->t_us >= (uint64_t)s->dfu->limits.erase_ms * 1000u);
	}
	assert_int_equal(clears, 4); /* two per wedged sector: errUNKNOWN, then dfuIDLE */
	print_message("h743 rev V 300 KiB across banks: %.1f s of device time, %u wedges cleared, poll %s\n",
	              (double)fake.now / 1e6, s->counters.wedges_cleared, dfu_poll_mode_name(s->dfu->poll_mode));
	img_free(img);
	ops_close(s);
}

/* L43x: 2048-byte blocks are refused (GETSTATUS STALLs): the host drops to 1024 without spending a
 * retry; the early GETSTATUS STALLs too, and the session falls back to the poll */
static void test_l43x_write(void **state)
{
	(void)state;
	struct ops_session *s = open_sim("l43x");
	struct img *img = harness_random_image(3, 0x08000000, 64 * KIB + 100);
	struct ops_write_result r;
	tp_trace_forget(s->tp);
	assert_int_equal(write_image(s, img, &r), 0);
	assert_true(r.verified);
	harness_assert_chip_holds(s, img);
	assert_int_equal(s->counters.retries, 0);
	assert_int_equal(s->counters.transfer_splits, 1);
	assert_int_equal(s->dfu->poll_mode, DFU_POLL_SPEC);
	assert_string_equal(s->dfu->poll_fallback, "stall");
	size_t n, longer = 0;
	const struct tp_rec *rec = tp_trace_records(s->tp, &n);
	for (size_t i = 0; i < n; i++)
		longer += rec[i].cls == TP_REQ_DNLOAD_DATA && rec[i].setup.wLength > 1024;
	assert_int_equal(longer, 1); /* the one refused block, nothing after */
	img_free(img);
	ops_close(s);
}

/* every shipped profile: 24 KiB + a tail at the flash start, written and verified */
static void test_every_profile_writes(void **state)
{
	(void)state;
	DIR *dir = opendir(PROFILE_DIR);
	assert_non_null(dir);
	struct dirent *de;
	unsigned done = 0;
	while ((de = readdir(dir)) != NULL) {
		size_t len = strlen(de->d_name);
		if (len < 9 || strcmp(de->d_name + len - 8, ".profile") != 0)
			continue;
		char name[128];
		snprintf(name, sizeof name, "%.*s", (int)(len - 8), de->d_name);
		struct ops_session *s = open_sim(name);
		struct img *img = harness_random_image(done + 1, 0x08000000, 24 * KIB + 20);
		struct ops_write_result r;
		assert_int_equal(write_image(s, img, &r), 0);
		assert_true(r.verified);
		harness_assert_chip_holds(s, img);
		print_message("%-12s poll %s%s%s, %u retries\n", name, dfu_poll_mode_name(s->dfu->poll_mode),
		              s->dfu->poll_fallback ? " after " : "", s->dfu->poll_fallback ? s->dfu->poll_fallback : "",
		              s->counters.retries);
		img_free(img);
		ops_close(s);
		done++;
	}
	closedir(dir);
	assert_true(done >= 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_h743_revv_300k_across_banks),
		cmocka_unit_test(test_l43x_write),
		cmocka_unit_test(test_every_profile_writes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
