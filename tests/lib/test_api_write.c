/*
 * The 0.3 write calls of the public API against the emulator, through the shared library alone:
 * stm32dfu_write_ex (segments, the whole report, vdd, leave, OTP), stm32dfu_verify_ex and
 * stm32dfu_recover. Layout facts: the F746 flash is 04*032Kg,01*128Kg,03*256Kg from 0x08000000
 * (protocol.md 3.2); its OTP is 1024 bytes at 0x1FF0F000 (profiles/f746.profile).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <stm32dfu/stm32dfu.h>

#include "../state_dir.h"

static struct stm32dfu_session *open_spec(const char *spec, int retries)
{
	struct stm32dfu_match m = {0};
	m.sim = spec;
	struct stm32dfu_open_options o = {0};
	if (retries >= 0) {
		o.has_retries = 1;
		o.retries = (unsigned)retries;
	}
	struct stm32dfu_session *s = NULL;
	int rc = stm32dfu_open_ex(&m, &o, &s);
	if (rc)
		fprintf(stderr, "open %s: %s\n", spec, stm32dfu_last_error(NULL).message);
	assert_int_equal(rc, 0);
	return s;
}

static void fill(uint8_t *b, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(i * 13u + seed + (i >> 9));
}

static int all_ff(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b[i] != 0xFF)
			return 0;
	return 1;
}

/* Two segments in sectors 0 and 4, next to bytes that are not part of the image. */
static void test_write_ex_report(void **state)
{
	(void)state;
	struct stm32dfu_session *s = open_spec("f746,timing=0", -1);
	uint8_t keep[256], a[1024], b[512], back[1024];
	fill(keep, sizeof keep, 1);
	fill(a, sizeof a, 2);
	fill(b, sizeof b, 3);
	assert_int_equal(stm32dfu_write_mem(s, 0x08004000, keep, sizeof keep, NULL, NULL), 0);
	struct stm32dfu_segment segs[2] = {{0x08000000, 0, a, sizeof a}, {0x08020000, 0, b, sizeof b}};
	struct stm32dfu_write_report r;
	assert_int_equal(stm32dfu_write_ex(s, segs, 2, NULL, &r), 0);
	assert_int_equal(r.image_bytes, sizeof a + sizeof b);
	assert_int_equal(r.sectors_touched, 2);
	assert_int_equal(r.sectors_erased, 2);
	assert_int_equal(r.sectors_skipped, 0);
	assert_true(r.bytes_programmed >= sizeof a + sizeof b);
	assert_int_equal(r.transfer_size, 2048); /* the F746 ROM's wTransferSize (profiles/f746.profile) */
	assert_true(r.blocks >= 2 && (uint64_t)r.blocks * r.transfer_size >= r.bytes_programmed);
	size_t kept = 0; /* the bytes at 0x08004000 that are not blank (0xFF) */
	for (size_t i = 0; i < sizeof keep; i++)
		kept += keep[i] != 0xFF;
	assert_true(kept > 200);
	assert_int_equal(r.preserved_bytes, kept);
	assert_true(r.verified);
	assert_false(r.left);
	assert_int_equal(r.voltage_range, -1);
	assert_int_equal(r.n_sectors, 2);
	assert_int_equal(r.sectors[0].index, 0);
	assert_int_equal(r.sectors[0].address, 0x08000000);
	assert_int_equal(r.sectors[0].size, 32 * 1024);
	assert_int_equal(r.sectors[0].state, STM32DFU_SECTOR_NEW);
	assert_int_equal(r.sectors[1].index, 4);
	assert_int_equal(r.sectors[1].address, 0x08020000);
	assert_int_equal(r.sectors[1].size, 128 * 1024);
	assert_int_equal(r.sectors[1].state, STM32DFU_SECTOR_NEW);
	assert_true(r.verify.bytes >= sizeof a + sizeof b);
	assert_int_equal(r.link.retries, 0);
	assert_string_equal(r.recovery_file, ""); /* a throw-away emulated chip keeps no recovery file */
	assert_int_equal(stm32dfu_read(s, 0x08000000, back, sizeof a), 0);
	assert_memory_equal(back, a, sizeof a);
	assert_int_equal(stm32dfu_read(s, 0x08020000, back, sizeof b), 0);
	assert_memory_equal(back, b, sizeof b);
	assert_int_equal(stm32dfu_read(s, 0x08004000, back, sizeof keep), 0);
	assert_memory_equal(back, keep, sizeof keep);
	/* the same image again: every sector already holds it */
	assert_int_equal(stm32dfu_write_ex(s, segs, 2, NULL, &r), 0);
	assert_int_equal(r.sectors_erased, 0);
	assert_int_equal(r.sectors_skipped, 2);
	assert_int_equal(r.bytes_programmed, 0);
	assert_int_equal(r.sectors[0].state, STM32DFU_SECTOR_OLD);
	/* verify_ex: a match, then one byte changed in the expectation */
	struct stm32dfu_verify_report v;
	assert_int_equal(stm32dfu_verify_ex(s, segs, 2, &v), 0);
	assert_true(v.match);
	assert_int_equal(v.bytes, sizeof a + sizeof b);
	assert_int_equal(v.mismatches, 0);
	b[100] ^= 0x5A;
	assert_int_equal(stm32dfu_verify_ex(s, segs, 2, &v), STM32DFU_E_VERIFY);
	assert_false(v.match);
	assert_int_equal(v.mismatches, 1);
	assert_int_equal(v.first_mismatch, 0x08020000 + 100);
	assert_int_equal(v.expected, b[100]);
	assert_int_equal(v.actual, (uint8_t)(b[100] ^ 0x5A));
	assert_non_null(strstr(stm32dfu_last_error(s).message, "0x08020064"));
	stm32dfu_close(s);
}

/* vdd sets the Device Feature byte before erasing; leave starts what was written. */
static void test_write_ex_vdd_and_leave(void **state)
{
	(void)state;
	struct stm32dfu_session *s = open_spec("f746,timing=0", -1);
	uint8_t vt[8] = {0x00, 0x00, 0x05, 0x20, 0x01, 0x01, 0x00, 0x08}; /* SP 0x20050000, reset 0x08000101 */
	struct stm32dfu_segment seg = {0x08000000, 0, vt, sizeof vt};
	struct stm32dfu_write_ex_options o = {.vdd = 2.5};
	struct stm32dfu_write_report r;
	assert_int_equal(stm32dfu_write_ex(s, &seg, 1, &o, &r), 0);
	assert_int_equal(r.voltage_range, 2); /* 2.4-2.7 V: range 2, x16 (RM0385 3.3.2) */
	uint8_t feature[4];
	assert_int_equal(stm32dfu_read(s, 0xFFFF0000, feature, sizeof feature), 0);
	assert_int_equal(feature[0], 2);
	o.vdd = 0;
	o.full = 1; /* unchanged, but rewritten: then leave */
	o.leave = 1;
	assert_int_equal(stm32dfu_write_ex(s, &seg, 1, &o, &r), 0);
	assert_int_equal(r.sectors_erased, 1);
	assert_true(r.left);
	assert_int_equal(r.leave.address, 0x08000000);
	assert_int_equal(r.leave.sp, 0x20050000);
	assert_true(r.leave.vector_ok);
	assert_true(r.leave.gone);
	stm32dfu_close(s);
}

static void test_write_ex_refusals(void **state)
{
	(void)state;
	struct stm32dfu_session *s = open_spec("f746,timing=0", -1);
	uint8_t d[64];
	fill(d, sizeof d, 4);
	struct stm32dfu_write_report r;
	assert_int_equal(stm32dfu_write_ex(s, NULL, 0, NULL, &r), STM32DFU_E_USAGE);
	struct stm32dfu_segment empty = {0x08000000, 0, d, 0};
	assert_int_equal(stm32dfu_write_ex(s, &empty, 1, NULL, &r), STM32DFU_E_USAGE);
	struct stm32dfu_segment wrap = {0xFFFFFFF0u, 0, d, sizeof d};
	assert_int_equal(stm32dfu_write_ex(s, &wrap, 1, NULL, &r), STM32DFU_E_RANGE);
	struct stm32dfu_write_ex_options hot = {.vdd = 4.2};
	struct stm32dfu_segment seg = {0x08000000, 0, d, sizeof d};
	assert_int_equal(stm32dfu_write_ex(s, &seg, 1, &hot, &r), STM32DFU_E_USAGE);
	/* option bytes are written only as the whole block (the ROM erases it, then programs it) */
	struct stm32dfu_segment part = {0x1FFF0000, 0, d, 16};
	assert_int_equal(stm32dfu_write_ex(s, &part, 1, NULL, &r), STM32DFU_E_RANGE);
	assert_non_null(strstr(stm32dfu_last_error(s).message, "partial block"));
	/* OTP: refused without its confirmation, then programmed once and reported as OTP */
	struct stm32dfu_segment otp = {0x1FF0F000, 0, d, 16};
	assert_int_equal(stm32dfu_write_ex(s, &otp, 1, NULL, &r), STM32DFU_E_NEEDS_CONFIRMATION);
	uint8_t back[16];
	assert_int_equal(stm32dfu_read(s, 0x1FF0F000, back, sizeof back), 0);
	assert_true(all_ff(back, sizeof back));
	struct stm32dfu_write_ex_options permanent = {.otp_permanent = 1};
	assert_int_equal(stm32dfu_write_ex(s, &otp, 1, &permanent, &r), 0);
	assert_true(r.otp);
	assert_true(r.verified);
	assert_int_equal(stm32dfu_read(s, 0x1FF0F000, back, sizeof back), 0);
	assert_memory_equal(back, d, sizeof back);
	/* nothing of it touched the flash */
	assert_int_equal(stm32dfu_read(s, 0x08000000, back, sizeof back), 0);
	assert_true(all_ff(back, sizeof back));
	stm32dfu_close(s);
}

/* A raw option-byte block: the same guards as stm32dfu_ob_set, its risks named in ob_confirm. The
 * F74x block's first word is USER, RDP and their complements (ob_default in profiles/f746.profile:
 * FF AA 00 55); RDP 0x55 is level 1. */
static void test_write_ex_option_block(void **state)
{
	(void)state;
	struct stm32dfu_session *s = open_spec("f746,timing=0", -1);
	struct stm32dfu_option_bytes ob;
	assert_int_equal(stm32dfu_ob_read(s, &ob), 0);
	assert_int_equal(ob.len, 32);
	assert_int_equal(ob.raw[1], 0xAA);
	uint8_t block[32];
	memcpy(block, ob.raw, sizeof block);
	struct stm32dfu_segment seg = {ob.address, 0, block, sizeof block};
	struct stm32dfu_write_report r;
	assert_int_equal(stm32dfu_write_ex(s, &seg, 1, NULL, &r), 0); /* what it holds already */
	assert_string_equal(r.memory, "Option Bytes");
	assert_int_equal(r.memory_address, 0x1FFF0000);
	assert_int_equal(r.bytes_programmed, 0);
	assert_true(r.verified);
	block[1] = 0x55;
	block[3] = 0xAA;
	assert_int_equal(stm32dfu_write_ex(s, &seg, 1, NULL, &r), STM32DFU_E_NEEDS_CONFIRMATION);
	uint8_t back[16];
	assert_int_equal(stm32dfu_read(s, 0x08000000, back, sizeof back), 0); /* nothing written: still readable */
	struct stm32dfu_write_ex_options o = {.ob_confirm = STM32DFU_CONFIRM_RDP1};
	assert_int_equal(stm32dfu_write_ex(s, &seg, 1, &o, &r), 0);
	assert_true(r.ob_protection_active);
	assert_int_equal(r.bytes_programmed, 32);
	assert_int_equal(stm32dfu_read(s, 0x08000000, back, sizeof back), STM32DFU_E_PROTECTED);
	stm32dfu_close(s);
}

/* The file variants: a raw .bin placed by has_address, then checked against the chip. */
static void test_write_file_ex(void **state)
{
	(void)state;
	char path[] = "/tmp/stm32dfu-file-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	char bin[64];
	snprintf(bin, sizeof bin, "%s.bin", path);
	uint8_t d[3000];
	fill(d, sizeof d, 7);
	FILE *f = fopen(bin, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(d, 1, sizeof d, f), sizeof d);
	assert_int_equal(fclose(f), 0);
	struct stm32dfu_session *s = open_spec("f746,timing=0", -1);
	struct stm32dfu_file_options fo = {.has_address = 1, .address = 0x08008000};
	struct stm32dfu_write_report r;
	assert_int_equal(stm32dfu_write_file_ex(s, bin, &fo, NULL, &r), 0);
	assert_int_equal(r.image_bytes, sizeof d);
	assert_int_equal(r.n_sectors, 1);
	assert_int_equal(r.sectors[0].index, 1); /* 0x08008000: the second 32 KiB sector */
	assert_true(r.verified);
	uint8_t back[sizeof d];
	assert_int_equal(stm32dfu_read(s, 0x08008000, back, sizeof back), 0);
	assert_memory_equal(back, d, sizeof d);
	struct stm32dfu_verify_report v;
	assert_int_equal(stm32dfu_verify_file_ex(s, bin, &fo, &v), 0);
	assert_true(v.match);
	assert_int_equal(v.bytes, sizeof d);
	/* without the address the same bytes belong at 0x08000000, which is blank */
	assert_int_equal(stm32dfu_verify_file_ex(s, bin, NULL, &v), STM32DFU_E_VERIFY);
	assert_int_equal(v.first_mismatch, 0x08000000);
	assert_int_equal(v.actual, 0xFF);
	assert_int_equal(v.expected, d[0]);
	char missing[80];
	snprintf(missing, sizeof missing, "%s-missing.bin", path);
	assert_int_equal(stm32dfu_write_file_ex(s, missing, NULL, NULL, &r), STM32DFU_E_FILE_IO);
	assert_int_equal(r.sectors_erased, 0);
	assert_int_equal(stm32dfu_verify_file_ex(s, NULL, NULL, &v), STM32DFU_E_USAGE);
	stm32dfu_close(s);
	unlink(bin);
	unlink(path);
}

/* A write that fails once its erase has begun keeps the bytes it must not lose in a recovery file
 * beside the emulated chip's state; stm32dfu_recover puts them back and deletes it. Where the
 * write fails is found by moving the transfer at which the chip is pulled from the bus
 * (unplug_at) until the write fails with sector 0 no longer what it was. */
static void test_recover(void **state)
{
	(void)state;
	char dir[] = "/tmp/stm32dfu-recover-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char st[128], spec[256];
	snprintf(st, sizeof st, "%s/chip.state", dir);
	uint8_t keep[256], img[16 * 1024], back[256];
	fill(keep, sizeof keep, 5);
	fill(img, sizeof img, 6);
	struct stm32dfu_segment seg = {0x08000100, 0, img, sizeof img};
	struct stm32dfu_write_report r;
	int failed_in_erase = 0;
	for (unsigned at = 20; at < 400 && !failed_in_erase; at += 5) {
		unlink(st);
		snprintf(spec, sizeof spec, "f746,timing=0,state=%s", st);
		struct stm32dfu_session *s = open_spec(spec, -1);
		assert_int_equal(stm32dfu_write_mem(s, 0x08006000, keep, sizeof keep, NULL, NULL), 0);
		stm32dfu_close(s);
		snprintf(spec, sizeof spec, "f746,timing=0,state=%s,unplug_at=%u", st, at);
		s = open_spec(spec, 0);
		int rc = stm32dfu_write_ex(s, &seg, 1, NULL, &r);
		stm32dfu_close(s);
		failed_in_erase = rc < 0 && r.sectors[0].state != STM32DFU_SECTOR_OLD;
		if (rc < 0 && !failed_in_erase) /* a failure before the erase: nothing to put back */
			assert_string_equal(r.recovery_file, "");
	}
	assert_true(failed_in_erase);
	assert_true(r.recovery_file[0]);
	assert_int_equal(access(r.recovery_file, F_OK), 0);
	assert_int_equal(r.sectors[0].index, 0);
	snprintf(spec, sizeof spec, "f746,timing=0,state=%s", st);
	struct stm32dfu_session *s = open_spec(spec, -1);
	struct stm32dfu_write_report rr;
	assert_int_equal(stm32dfu_recover(s, NULL, &rr), 0);
	assert_true(rr.verified);
	assert_int_equal(rr.restored_sectors, 1);
	assert_string_equal(rr.restored_from, r.recovery_file);
	assert_int_equal(access(r.recovery_file, F_OK), -1);
	assert_int_equal(stm32dfu_read(s, 0x08006000, back, sizeof back), 0);
	assert_memory_equal(back, keep, sizeof keep);
	/* once applied there is nothing left to recover */
	assert_int_equal(stm32dfu_recover(s, NULL, &rr), 1);
	stm32dfu_close(s);
	unlink(st);
	char cmd[200];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	test_own_state_dir("lib-api-write");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_ex_report),
		cmocka_unit_test(test_write_ex_vdd_and_leave),
		cmocka_unit_test(test_write_ex_refusals),
		cmocka_unit_test(test_write_ex_option_block),
		cmocka_unit_test(test_write_file_ex),
		cmocka_unit_test(test_recover),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
