/*
 * Nothing lost on a failed write (issue 11, item 4), against the emulator kept in a state file as
 * --sim keeps it: 8 bytes at 0x08007F00 lie outside a two-segment image, inside sector 0. A write
 * that fails after its erase leaves them erased on the chip, but saved in a recovery file beside
 * the state file; the next write of the same chip, or ops_recover_apply, puts them back and
 * deletes the file. The emulator's memory is read through its back door (sim_mem_read), not our
 * read path. Also: the file format's checks, the reported sector states, sectors_erased on a
 * failure, and a stop request (the SIGINT flag) between transfers.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "dfu/dfu.h"
#include "image/image.h"
#include "ops/ops.h"
#include "ops/rescue.h"
#include "sim/sim.h"
#include "usb/tp_sim.h"
#include "harness.h"

static const uint8_t keep[8] = {0xCA, 0xFE, 0xBA, 0xBE, 0x01, 0x02, 0x03, 0x04};
static struct clock_fake fake;
static char dir[256];
static char state[300];
static char recovery[400];

static int setup(void **st)
{
	(void)st;
	snprintf(dir, sizeof dir, "%s/rescue.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir))
		return -1;
	snprintf(state, sizeof state, "%s/chip.state", dir);
	/* the profile's UID (profiles/f746): the file is keyed by it */
	snprintf(recovery, sizeof recovery, "%s/recovery/002200363436510D33323730.recovery", dir);
	return 0;
}

static int teardown(void **st)
{
	(void)st;
	unlink(recovery);
	unlink(state);
	char sub[300];
	snprintf(sub, sizeof sub, "%s/recovery", dir);
	rmdir(sub);
	rmdir(dir);
	return 0;
}

static struct ops_session *open_chip(const char *faults, const volatile sig_atomic_t *cancel)
{
	char spec[600];
	snprintf(spec, sizeof spec, "f746,timing=0,state=%s,poke=0x08007F00 CAFEBABE01020304%s%s", state,
	         faults[0] ? "," : "", faults);
	struct ops_open_opts o = harness_opts(spec, &fake);
	o.retries = 0;
	o.cancel = cancel;
	return harness_open(&o);
}

/* two segments: 0x08000000 + 28 KiB (sector 0 partly: 0x7000-0x7FFF is not in it) and sectors 1-3 */
static struct img *two_segments(void)
{
	struct img *img = img_new();
	uint8_t *buf = malloc(0x18000);
	uint32_t x = 11;
	for (size_t i = 0; i < 0x18000; i++) {
		x = x * 1664525u + 1013904223u;
		buf[i] = (uint8_t)(x >> 24);
	}
	assert_int_equal(img_add(img, 0, 0x08000000, buf, 0x7000, NULL), 0);
	assert_int_equal(img_add(img, 0, 0x08008000, buf, 0x18000, NULL), 0);
	free(buf);
	return img;
}

static void chip_bytes(struct ops_session *s, uint32_t addr, uint8_t *out, size_t n)
{
	assert_true(sim_mem_read(tp_sim_device(s->tp), addr, out, n));
}

/* A write that fails on its first program block: every sector erased, 0x08007F00 blank. */
static void failed_write(const struct img *img)
{
	struct ops_session *s = open_chip("timeout_at=150", NULL);
	uint8_t b[8];
	chip_bytes(s, 0x08007F00, b, 8);
	assert_memory_equal(b, keep, 8);
	struct ops_write_opts wo;
	ops_write_opts_init(&wo);
	struct ops_write_result r;
	int rc = ops_write(s, img, &wo, &r);
	assert_true(rc < 0);
	chip_bytes(s, 0x08007F00, b, 8);
	static const uint8_t blank[8] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
	assert_memory_equal(b, blank, 8); /* lost on the chip ... */
	assert_int_equal(access(recovery, F_OK), 0); /* ... but saved */
	assert_string_equal(r.recovery_file, recovery);
	assert_non_null(strstr(s->err.msg, recovery)); /* the error names the file */
	assert_int_equal(r.sectors_erased, 4);       /* the real erases, although the write failed */
	assert_int_equal(r.n_sectors, 4);
	assert_int_equal(r.sectors[0].state, OPS_SECTOR_PARTIAL); /* its first block was sent */
	for (int i = 1; i < 4; i++)
		assert_int_equal(r.sectors[i].state, OPS_SECTOR_ERASED);
	ops_close(s); /* saves the emulated chip as the failure left it */
}

static void test_write_again_restores(void **st)
{
	(void)st;
	struct img *img = two_segments();
	failed_write(img);
	struct ops_session *s = open_chip("", NULL);
	struct ops_write_opts wo;
	ops_write_opts_init(&wo);
	struct ops_write_result r;
	assert_int_equal(ops_write(s, img, &wo, &r), 0);
	assert_true(r.verified);
	assert_string_equal(r.restored_from, recovery);
	assert_int_equal(r.restored_sectors, 1);
	assert_string_equal(r.recovery_file, "");
	assert_int_not_equal(access(recovery, F_OK), 0); /* deleted on success */
	uint8_t b[8];
	chip_bytes(s, 0x08007F00, b, 8);
	assert_memory_equal(b, keep, 8);
	for (int i = 0; i < 4; i++)
		assert_int_equal(r.sectors[i].state, OPS_SECTOR_NEW);
	ops_close(s);
	img_free(img);
}

static void test_recover_without_image(void **st)
{
	(void)st;
	struct img *img = two_segments();
	failed_write(img);
	struct ops_session *s = open_chip("", NULL);
	struct ops_write_opts wo;
	ops_write_opts_init(&wo);
	struct ops_write_result r;
	assert_int_equal(ops_recover_apply(s, &wo, &r), 0);
	assert_int_equal(r.restored_sectors, 1);
	assert_int_equal(r.n_sectors, 1); /* only the saved sector is touched */
	assert_int_equal(r.sectors[0].state, OPS_SECTOR_NEW);
	uint8_t b[8], first[8];
	chip_bytes(s, 0x08007F00, b, 8);
	assert_memory_equal(b, keep, 8);
	chip_bytes(s, 0x08008000, first, 8); /* sector 1 is not in the file: still erased */
	for (int i = 0; i < 8; i++)
		assert_int_equal(first[i], 0xFF);
	assert_int_not_equal(access(recovery, F_OK), 0);
	/* nothing pending any more */
	assert_int_equal(ops_recover_apply(s, &wo, &r), 1);
	ops_close(s);
	img_free(img);
}

static void test_file_checked(void **st)
{
	(void)st;
	struct rescue r;
	memset(&r, 0, sizeof r);
	snprintf(r.uid, sizeof r.uid, "0011223344556677AABBCCDD");
	r.unique = true;
	uint8_t data[64], target[64], other[64];
	for (int i = 0; i < 64; i++) {
		data[i] = (uint8_t)(i * 7 + 10); /* no newline at the end of the data */
		target[i] = (uint8_t)(i < 16 ? 0x40 + i : data[i]); /* an image over the first 16 bytes */
		other[i] = (uint8_t)(i < 16 ? 0x80 + i : data[i]);
	}
	assert_int_equal(rescue_add(&r, 3, 0x08018000, 64, data, target, NULL), 0);
	assert_int_equal(rescue_add(&r, 1, 0x08008000, 32, data, target, NULL), 0);
	assert_int_equal(rescue_add(&r, 3, 0x08018000, 64, other, other, NULL), 0); /* a second target */
	assert_int_equal(rescue_add_erased(&r, 0x08018000, 64, NULL), 0);
	assert_int_equal(rescue_add_erased(&r, 0x08000000, 0x8000, NULL), 0);
	r.created = 1700000000;
	r.image_sha256[0] = 0xAB;
	char rd[300];
	snprintf(rd, sizeof rd, "%s/recovery", dir);
	assert_int_equal(rescue_save(rd, &r, NULL), 0);
	struct rescue back;
	/* held by its writer until the write ends: no other write takes it */
	assert_int_equal(rescue_load(rd, r.uid, &back, NULL), RESCUE_IN_USE);
	rescue_hold_close(rescue_hold_take(&r));
	assert_int_equal(rescue_load(rd, r.uid, &back, NULL), 0);
	assert_int_equal(back.n, 2);
	assert_int_equal(back.sectors[0].start, 0x08008000); /* address order */
	assert_int_equal(back.sectors[1].index, 3);
	assert_memory_equal(back.sectors[1].data, data, 64); /* the first kept bytes stay */
	assert_int_equal(back.sectors[1].n_targets, 2);
	assert_memory_equal(back.sectors[1].targets, target, 64);
	assert_memory_equal(back.sectors[1].targets + 64, other, 64);
	assert_true(back.unique);
	assert_int_equal(back.n_erased, 2);
	assert_int_equal(back.erased[0].start, 0x08000000);
	assert_true(rescue_erases(&back, 0x08018000, 64));
	assert_false(rescue_erases(&back, 0x08008000, 32));
	/* consistent: erased, kept, or either target's byte; anything else names its offset */
	uint8_t now[64];
	memcpy(now, data, 64);
	uint32_t at = 0;
	assert_true(rescue_consistent(&back, &back.sectors[1], now, &at));
	memset(now, 0xFF, 64);
	now[3] = target[3];
	now[4] = other[4];
	assert_true(rescue_consistent(&back, &back.sectors[1], now, &at));
	now[40] = (uint8_t)(data[40] ^ 0x10);
	assert_false(rescue_consistent(&back, &back.sectors[1], now, &at));
	assert_int_equal(at, 40);
	assert_int_equal(back.created, 1700000000);
	assert_int_equal(back.image_sha256[0], 0xAB);
	assert_int_equal(back.n_unsettled, 0);
	rescue_free(&back);
	char first[32] = "";
	FILE *v = fopen(r.path, "rb");
	assert_non_null(v);
	assert_non_null(fgets(first, sizeof first, v));
	fclose(v);
	assert_string_equal(first, "stm32dfu-recovery 2\n"); /* no block unsettled: an older tool reads it */
	/* version 3: a block left unanswered (40..47 of sector 3) may hold anything; a byte beside it may not */
	assert_int_equal(rescue_add_unsettled(&r, 0x08018000 + 40, 8, NULL), 0);
	assert_int_equal(rescue_add_unsettled(&r, 0x08018000 + 44, 4, NULL), 0); /* inside it: nothing new */
	assert_int_equal(r.n_unsettled, 1);
	assert_int_equal(rescue_save(rd, &r, NULL), 0);
	rescue_hold_close(rescue_hold_take(&r));
	v = fopen(r.path, "rb");
	assert_non_null(v);
	assert_non_null(fgets(first, sizeof first, v));
	fclose(v);
	assert_string_equal(first, "stm32dfu-recovery 3\n");
	assert_int_equal(rescue_load(rd, r.uid, &back, NULL), 0);
	assert_int_equal(back.n_unsettled, 1);
	assert_int_equal(back.unsettled[0].start, 0x08018000 + 40);
	assert_int_equal(back.unsettled[0].size, 8);
	now[47] = (uint8_t)(data[47] ^ 0x20);
	assert_true(rescue_consistent(&back, &back.sectors[1], now, &at));
	now[48] = (uint8_t)(data[48] ^ 0x20);
	if (now[48] == target[48] || now[48] == other[48] || now[48] == 0xFF)
		now[48] ^= 0x41;
	assert_false(rescue_consistent(&back, &back.sectors[1], now, &at));
	assert_int_equal(at, 48);
	rescue_free(&back);
	/* one flipped byte: refused by name */
	FILE *f = fopen(r.path, "r+b");
	assert_non_null(f);
	fseek(f, -100, SEEK_END);
	int ch = fgetc(f);
	fseek(f, -100, SEEK_END);
	fputc(ch ^ 1, f);
	fclose(f);
	struct err e;
	err_clear(&e);
	assert_int_equal(rescue_load(rd, r.uid, &back, &e), STM32DFU_E_FILE_FORMAT);
	assert_non_null(strstr(e.msg, r.path));
	char(*uids)[RESCUE_NAME_CHARS + 1];
	size_t n;
	assert_int_equal(rescue_list(rd, &uids, &n, NULL), 0);
	assert_int_equal(n, 1);
	assert_string_equal(uids[0], r.uid);
	free(uids);
	assert_int_equal(rescue_remove(&r, NULL), 0);
	assert_int_equal(rescue_load(rd, r.uid, &back, NULL), 1);
	rescue_free(&r);
}

/* the SIGINT flag, set while erasing: the write stops before its next transfer */
static volatile sig_atomic_t stop;
static void stop_in_erase(void *ctx, const struct ops_progress *p)
{
	(void)ctx;
	if (p->phase == OPS_PHASE_ERASE && p->done == 2)
		stop = 1;
}

static void test_stop_request(void **st)
{
	(void)st;
	struct img *img = two_segments();
	stop = 1; /* before anything: nothing erased, no file */
	struct ops_session *s = open_chip("", &stop);
	struct ops_write_opts wo;
	ops_write_opts_init(&wo);
	struct ops_write_result r;
	assert_int_equal(ops_write(s, img, &wo, &r), STM32DFU_E_CANCELED);
	assert_true(r.canceled);
	assert_int_equal(r.sectors_erased, 0);
	assert_int_not_equal(access(recovery, F_OK), 0);
	uint8_t b[8];
	chip_bytes(s, 0x08007F00, b, 8);
	assert_memory_equal(b, keep, 8);
	ops_close(s);
	stop = 0;
	s = open_chip("", &stop);
	ops_set_progress(s, stop_in_erase, NULL);
	assert_int_equal(ops_write(s, img, &wo, &r), STM32DFU_E_CANCELED);
	assert_true(r.canceled);
	assert_int_equal(r.sectors_erased, 2);
	assert_int_equal(r.sectors[0].state, OPS_SECTOR_ERASED);
	assert_int_equal(r.sectors[1].state, OPS_SECTOR_ERASED);
	assert_int_equal(r.sectors[2].state, OPS_SECTOR_OLD);
	assert_int_equal(access(recovery, F_OK), 0);
	assert_non_null(strstr(s->err.msg, recovery));
	ops_close(s);
	/* the emulated chip was kept as far as the work got: sector 0 erased */
	stop = 0;
	s = open_chip("", &stop);
	chip_bytes(s, 0x08007F00, b, 8);
	assert_int_equal(b[0], 0xFF);
	assert_int_equal(ops_write(s, img, &wo, &r), 0);
	chip_bytes(s, 0x08007F00, b, 8);
	assert_memory_equal(b, keep, 8);
	ops_close(s);
	img_free(img);
}

static unsigned stop_after_pages;

static void stop_in_page_erase(void *ctx, const struct ops_progress *p)
{
	(void)ctx;
	if (p->phase == OPS_PHASE_ERASE && p->done == stop_after_pages)
		stop = 1;
}

/*
 * A page flash (L0 cat. 5, 128-byte pages): a 32 KiB write touches 256 pages. Stopped in its erase,
 * the message says every page's state as runs ("0-32 erased, 33-255 old"), where a page-by-page
 * list used to stop after page 33 (an L0 Ctrl-C: "0 erased ... 33 erased" of 256).
 */
static void test_page_flash_stop_says_every_page(void **st)
{
	(void)st;
	char spec[400];
	snprintf(spec, sizeof spec, "l0-192k,timing=0,state=%s", state);
	struct img *a = img_new(), *b = img_new();
	uint8_t *buf = malloc(0x8000);
	memset(buf, 0x55, 0x8000);
	assert_int_equal(img_add(a, 0, 0x08000000, buf, 0x8000, NULL), 0);
	memset(buf, 0xA7, 0x8000);
	/* 8 bytes short of the last page: those are kept, so there is a recovery file to name */
	assert_int_equal(img_add(b, 0, 0x08000000, buf, 0x7FF8, NULL), 0);
	free(buf);
	struct ops_write_opts wo;
	ops_write_opts_init(&wo);
	struct ops_write_result r;
	stop = 0;
	struct ops_open_opts o = harness_opts(spec, &fake);
	o.cancel = &stop;
	struct ops_session *s = harness_open(&o);
	assert_int_equal(ops_write(s, a, &wo, &r), 0); /* every page holds 0x55: the next write erases each */
	stop_after_pages = 33;
	ops_set_progress(s, stop_in_page_erase, NULL);
	assert_int_equal(ops_write(s, b, &wo, &r), STM32DFU_E_CANCELED);
	assert_int_equal(r.n_sectors, 256);
	assert_int_equal(r.sectors_erased, 33);
	assert_int_equal(r.sectors[32].state, OPS_SECTOR_ERASED);
	assert_int_equal(r.sectors[33].state, OPS_SECTOR_OLD);
	assert_non_null(strstr(s->err.msg, "on the chip: sectors 0-32 erased, 33-255 old; the bytes to keep"));
	assert_true(r.recovery_file[0]);
	assert_non_null(strstr(s->err.msg, r.recovery_file)); /* not cut off by the list */
	unlink(r.recovery_file);
	ops_close(s);
	stop = 0;
	img_free(a);
	img_free(b);
}

/* A session interrupted between a DfuSe command's DNLOAD and its GETSTATUS leaves the chip in
 * dfuDNLOAD-SYNC with the command pending; the emulator executes it on the next GETSTATUS, as the
 * ROM does. The next session must drop it (GETSTATE, ABORT), not run it: here a mass erase. */
static void test_pending_command_dropped(void **st)
{
	(void)st;
	clock_fake_init(&fake);
	struct tp_sim_opts so = {PROFILE_DIR, &fake.clock, false};
	struct tp *tp = NULL;
	struct err e;
	err_clear(&e);
	assert_int_equal(tp_sim_open("f746,timing=0", &so, &tp, &e), 0);
	struct sim_device *dev = tp_sim_device(tp);
	uint8_t b[8];
	const uint8_t mass_erase = 0x41; /* DfuSe "Erase" with no address (AN3156 §6.1.3) */
	for (int run = 0; run < 2; run++) {
		assert_true(sim_mem_write(dev, 0x08000000, keep, 8));
		struct dfu_dev *d = NULL;
		assert_int_equal(dfu_open(tp, &d, &e), 0);
		assert_int_equal(dfu_session_start(d, NULL), 0);
		assert_int_equal(dfu_set_alt(d, 0), 0);
		assert_int_equal(dfu_dnload(d, 0, &mass_erase, 1), 0); /* ... and the session ends here */
		dfu_free(d);
		assert_int_equal(dfu_open(tp, &d, &e), 0);
		if (run == 0) {
			/* a new session: the pending erase is dropped */
			struct dfu_getstatus first;
			assert_int_equal(dfu_session_start(d, &first), 0);
			assert_int_equal(first.bState, dfuDNLOAD_SYNC);
			assert_true(sim_mem_read(dev, 0x08000000, b, 8));
			assert_memory_equal(b, keep, 8);
		} else {
			/* what a session opening with GETSTATUS would do: the erase runs */
			struct dfu_getstatus stt;
			assert_int_equal(dfu_get_status(d, &stt), 0);
			assert_true(sim_mem_read(dev, 0x08000000, b, 8));
			for (int i = 0; i < 8; i++)
				assert_int_equal(b[i], 0xFF);
		}
		dfu_free(d);
	}
	tp_close(tp);
}

/* a key that is not unique: one file per board, KEY.ID (ID from the file's checksum), each listed
 * and loaded by its name; a file applied again keeps its name */
static void test_shared_key_names(void **st)
{
	(void)st;
	char rd[300];
	snprintf(rd, sizeof rd, "%s/recovery", dir);
	struct rescue r[2];
	uint8_t data[32], target[32];
	for (int k = 0; k < 2; k++) {
		memset(&r[k], 0, sizeof r[k]);
		snprintf(r[k].uid, sizeof r[k].uid, "serial-FFFFFFFEFFFF");
		r[k].unique = false;
		r[k].have_rest = true;
		r[k].rest_sha256[0] = (uint8_t)(0x10 + k); /* two boards: the rest of their flash differs */
		memset(data, 0xA0 + k, sizeof data);
		memset(target, 0x5A, 16);
		memcpy(target + 16, data, 16);
		assert_int_equal(rescue_add(&r[k], 2, 0x08000800, 32, data, target, NULL), 0);
		assert_int_equal(rescue_add_erased(&r[k], 0x08000800, 32, NULL), 0);
		assert_int_equal(rescue_save(rd, &r[k], NULL), 0);
		rescue_hold_close(rescue_hold_take(&r[k]));
		const char *base = strrchr(r[k].path, '/') + 1;
		assert_int_equal(strlen(base), strlen("serial-FFFFFFFEFFFF.") + RESCUE_ID_CHARS + strlen(".recovery"));
		assert_int_equal(strncmp(base, "serial-FFFFFFFEFFFF.", 20), 0);
	}
	assert_string_not_equal(r[0].path, r[1].path); /* neither overwrote the other */
	/* two boards with the same bytes (one firmware on a line) save the same content: two names */
	struct rescue twin;
	memset(&twin, 0, sizeof twin);
	snprintf(twin.uid, sizeof twin.uid, "serial-FFFFFFFEFFFF");
	twin.have_rest = true;
	twin.rest_sha256[0] = 0x11;
	memset(data, 0xA1, sizeof data);
	memset(target, 0x5A, 16);
	memcpy(target + 16, data, 16);
	assert_int_equal(rescue_add(&twin, 2, 0x08000800, 32, data, target, NULL), 0);
	assert_int_equal(rescue_add_erased(&twin, 0x08000800, 32, NULL), 0);
	twin.created = r[1].created;
	assert_int_equal(rescue_save(rd, &twin, NULL), 0);
	assert_string_not_equal(twin.path, r[1].path);
	assert_int_equal(rescue_remove(&twin, NULL), 0);
	rescue_free(&twin);
	char(*names)[RESCUE_NAME_CHARS + 1];
	size_t n;
	assert_int_equal(rescue_list(rd, &names, &n, NULL), 0);
	assert_int_equal(n, 2);
	for (size_t i = 0; i < n; i++) {
		char key[RESCUE_UID_CHARS + 1];
		assert_true(rescue_name_key(names[i], key));
		assert_string_equal(key, "serial-FFFFFFFEFFFF");
		struct rescue back;
		assert_int_equal(rescue_load(rd, names[i], &back, NULL), 0);
		assert_false(back.unique);
		assert_string_equal(back.uid, "serial-FFFFFFFEFFFF");
		assert_true(strcmp(back.path, r[0].path) == 0 || strcmp(back.path, r[1].path) == 0);
		/* saved again (a write that applied it): the same name */
		char was[RESCUE_PATH_MAX];
		snprintf(was, sizeof was, "%s", back.path);
		back.created = 42;
		assert_int_equal(rescue_save(rd, &back, NULL), 0);
		assert_string_equal(back.path, was);
		rescue_free(&back);
	}
	free(names);
	/* names that are not KEY or KEY.ID (12 lower-case hex digits) are no recovery files */
	char key[RESCUE_UID_CHARS + 1];
	assert_false(rescue_name_key("serial-FFFFFFFEFFFF.12", key));
	assert_false(rescue_name_key("serial-FFFFFFFEFFFF.ABCDEF012345", key));
	assert_false(rescue_name_key(".serial", key));
	assert_true(rescue_name_key("0011223344556677AABBCCDD", key));
	for (int k = 0; k < 2; k++) {
		assert_int_equal(rescue_remove(&r[k], NULL), 0);
		rescue_free(&r[k]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_write_again_restores, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recover_without_image, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_checked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shared_key_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_request, setup, teardown),
		cmocka_unit_test_setup_teardown(test_page_flash_stop_says_every_page, setup, teardown),
		cmocka_unit_test(test_pending_command_dropped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
