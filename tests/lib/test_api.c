/*
 * The public API (include/stm32dfu/stm32dfu.h) against the emulator, through the installed-style
 * shared library only: every function, its results checked against the F746 profile's facts
 * (profiles/f746.profile) and against what the same session reads back.
 */
#include <setjmp.h>
#include <signal.h>
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

#define SIM "f746,timing=0"

static struct stm32dfu_session *open_sim(void)
{
	struct stm32dfu_match m = {0};
	m.sim = SIM;
	struct stm32dfu_session *s = NULL;
	int rc = stm32dfu_open(&m, &s);
	if (rc)
		fprintf(stderr, "open: %s\n", stm32dfu_last_error(NULL).message);
	assert_int_equal(rc, 0);
	assert_non_null(s);
	return s;
}

static void fill_pattern(uint8_t *b, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(i * 7u + seed + (i >> 8));
}

static void test_version(void **state)
{
	(void)state;
	char want[32];
	snprintf(want, sizeof want, "%d.%d.%d", STM32DFU_VERSION_MAJOR, STM32DFU_VERSION_MINOR, STM32DFU_VERSION_PATCH);
	assert_string_equal(stm32dfu_version(), want);
}

static void test_list_sim(void **state)
{
	(void)state;
	struct stm32dfu_match m = {0};
	m.sim = SIM;
	struct stm32dfu_device *d = NULL;
	size_t n = 0;
	assert_int_equal(stm32dfu_list(&m, &d, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(d[0].vid, 0x0483);
	assert_int_equal(d[0].pid, 0xdf11);
	assert_true(d[0].opened);
	assert_int_equal(d[0].dfu_version, 0x011a);
	assert_int_equal(d[0].transfer_size, 2048);
	assert_true(d[0].n_alts >= 2);
	/* alt 0 is the F74x flash: 04*032Kg,01*128Kg,03*256Kg from 0x08000000 (protocol.md 3.2) */
	const struct stm32dfu_alt *a = &d[0].alts[0];
	assert_true(a->has_layout);
	assert_string_equal(a->name, "Internal Flash");
	assert_int_equal(a->n_regions, 1);
	assert_int_equal(a->regions[0].start, 0x08000000);
	assert_int_equal(a->regions[0].length, 1024 * 1024);
	assert_int_equal(a->regions[0].n_groups, 3);
	assert_int_equal(a->regions[0].groups[0].count, 4);
	assert_int_equal(a->regions[0].groups[0].size, 32 * 1024);
	assert_int_equal(a->regions[0].groups[0].access, STM32DFU_MEM_READ | STM32DFU_MEM_ERASE | STM32DFU_MEM_WRITE);
	assert_int_equal(a->regions[0].groups[2].size, 256 * 1024);
	assert_true(d[0].has_identity);
	assert_string_equal(d[0].identity.family, "F74x");
	assert_true(d[0].identity.has_uid);
	stm32dfu_list_free(d);
}

static void test_info(void **state)
{
	(void)state;
	struct stm32dfu_session *s = open_sim();
	struct stm32dfu_identity id;
	assert_int_equal(stm32dfu_info(s, &id), 0);
	assert_string_equal(id.family, "F74x");
	assert_int_equal(id.flash_size, 1024 * 1024);
	assert_true(id.has_uid);
	assert_string_equal(id.uid_text, stm32dfu_uid(s));
	assert_int_equal(id.rdp_level, 0);
	assert_false(id.read_protected);
	/* the verdict is one of the documented tokens (docs/json.md), and the computed serial fits it */
	assert_true(strcmp(id.serial_verdict, "match_hal") == 0 || strcmp(id.serial_verdict, "known_quirk") == 0 ||
	            strcmp(id.serial_verdict, "match_bytewise") == 0 || strcmp(id.serial_verdict, "mismatch") == 0);
	if (strcmp(id.serial_verdict, "match_hal") == 0)
		assert_string_equal(id.serial_computed, id.usb_serial);
	struct stm32dfu_device dev;
	assert_int_equal(stm32dfu_device_info(s, &dev), 0);
	assert_string_equal(dev.serial, id.usb_serial);
	assert_true(dev.has_identity);
	stm32dfu_close(s);
}

static void test_write_read_verify_mem(void **state)
{
	(void)state;
	struct stm32dfu_session *s = open_sim();
	enum { N = 6000 };
	uint8_t *data = malloc(N), *back = malloc(N);
	fill_pattern(data, N, 3);
	struct stm32dfu_write_result r;
	assert_int_equal(stm32dfu_write_mem(s, 0x08008000, data, N, NULL, &r), 0);
	assert_true(r.verified);
	assert_int_equal(r.image_bytes, N);
	assert_int_equal(r.sectors_erased, 1);
	assert_int_equal(stm32dfu_read(s, 0x08008000, back, N), 0);
	assert_memory_equal(data, back, N);
	assert_int_equal(stm32dfu_verify_mem(s, 0x08008000, data, N), 0);
	/* the same again: nothing to erase */
	assert_int_equal(stm32dfu_write_mem(s, 0x08008000, data, N, NULL, &r), 0);
	assert_int_equal(r.sectors_erased, 0);
	assert_int_equal(r.sectors_skipped, 1);
	data[100] ^= 0x5a;
	assert_int_equal(stm32dfu_verify_mem(s, 0x08008000, data, N), STM32DFU_E_VERIFY);
	struct stm32dfu_error e = stm32dfu_last_error(s);
	assert_int_equal(e.code, STM32DFU_E_VERIFY);
	assert_non_null(strstr(e.message, "0x08008064"));
	free(data);
	free(back);
	stm32dfu_close(s);
}

static void test_read_file_then_verify_file(void **state)
{
	(void)state;
	struct stm32dfu_session *s = open_sim();
	uint8_t data[4096];
	fill_pattern(data, sizeof data, 11);
	assert_int_equal(stm32dfu_write_mem(s, 0x08000000, data, sizeof data, NULL, NULL), 0);
	char path[] = "/tmp/stm32dfu-api-XXXXXX.hex";
	int fd = mkstemps(path, 4);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(stm32dfu_read_file(s, 0x08000000, sizeof data, path), 0);
	assert_int_equal(stm32dfu_verify_file(s, path, NULL), 0);
	FILE *f = fopen(path, "r");
	char line[64];
	assert_non_null(fgets(line, sizeof line, f)); /* Intel HEX, first record an extended address */
	assert_int_equal(line[0], ':');
	fclose(f);
	assert_int_equal(stm32dfu_read_file(s, 0x08000000, 16, "/tmp/x.unknownext"), STM32DFU_E_USAGE);
	unlink(path);
	stm32dfu_close(s);
}

static int all_ff(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b[i] != 0xFF)
			return 0;
	return 1;
}

static void test_erase(void **state)
{
	(void)state;
	struct stm32dfu_session *s = open_sim();
	uint8_t data[512], back[512];
	fill_pattern(data, sizeof data, 5);
	assert_int_equal(stm32dfu_write_mem(s, 0x08000000, data, sizeof data, NULL, NULL), 0);
	assert_int_equal(stm32dfu_write_mem(s, 0x08010000, data, sizeof data, NULL, NULL), 0);
	unsigned sector0 = 0;
	assert_int_equal(stm32dfu_erase_sectors(s, &sector0, 1), 0);
	assert_int_equal(stm32dfu_read(s, 0x08000000, back, sizeof back), 0);
	assert_true(all_ff(back, sizeof back));
	assert_int_equal(stm32dfu_read(s, 0x08010000, back, sizeof back), 0);
	assert_memory_equal(back, data, sizeof data); /* sector 2 untouched */
	unsigned erased = 0;
	assert_int_equal(stm32dfu_erase_range(s, 0x08010000, 1, &erased), 0);
	assert_int_equal(erased, 1);
	assert_int_equal(stm32dfu_read(s, 0x08010000, back, sizeof back), 0);
	assert_true(all_ff(back, sizeof back));
	assert_int_equal(stm32dfu_write_mem(s, 0x08040000, data, sizeof data, NULL, NULL), 0);
	assert_int_equal(stm32dfu_erase_all(s, 0), STM32DFU_E_NEEDS_CONFIRMATION);
	assert_int_equal(stm32dfu_read(s, 0x08040000, back, sizeof back), 0);
	assert_memory_equal(back, data, sizeof data); /* refused: nothing erased */
	assert_int_equal(stm32dfu_erase_all(s, 1), 0);
	assert_int_equal(stm32dfu_read(s, 0x08040000, back, sizeof back), 0);
	assert_true(all_ff(back, sizeof back));
	stm32dfu_close(s);
}

/* erase_ex: each mode's result against the F746 layout (04*032Kg,01*128Kg,03*256Kg, protocol.md 3.2)
 * and what the chip then holds; the voltage range as the Device Feature byte reads back. */
static void test_erase_ex(void **state)
{
	(void)state;
	struct stm32dfu_session *s = open_sim();
	uint8_t data[512], back[512];
	fill_pattern(data, sizeof data, 9);
	assert_int_equal(stm32dfu_write_mem(s, 0x08007E00, data, sizeof data, NULL, NULL), 0); /* end of sector 0 */
	assert_int_equal(stm32dfu_write_mem(s, 0x08008000, data, sizeof data, NULL, NULL), 0); /* sector 1 */
	assert_int_equal(stm32dfu_write_mem(s, 0x08010000, data, sizeof data, NULL, NULL), 0); /* sector 2 */
	/* 32 bytes across the sector 0/1 boundary: both whole sectors, and only they */
	struct stm32dfu_erase_options o = {.mode = STM32DFU_ERASE_RANGE, .address = 0x08007FF0, .length = 0x20};
	struct stm32dfu_erase_result r;
	assert_int_equal(stm32dfu_erase_ex(s, &o, &r), 0);
	assert_int_equal(r.sectors_erased, 2);
	assert_int_equal(r.start, 0x08000000);
	assert_int_equal(r.end, 0x08010000);
	assert_int_equal(r.voltage_range, -1);
	assert_int_equal(stm32dfu_read(s, 0x08007E00, back, sizeof back), 0);
	assert_true(all_ff(back, sizeof back));
	assert_int_equal(stm32dfu_read(s, 0x08008000, back, sizeof back), 0);
	assert_true(all_ff(back, sizeof back));
	assert_int_equal(stm32dfu_read(s, 0x08010000, back, sizeof back), 0);
	assert_memory_equal(back, data, sizeof data);
	/* sectors, at 3.3 V: range 3 (2.7-3.6 V, x32; RM0385 3.3.3), written to the Device Feature byte */
	unsigned two = 2;
	struct stm32dfu_erase_options so = {.mode = STM32DFU_ERASE_SECTORS, .sectors = &two, .n_sectors = 1, .vdd = 3.3};
	assert_int_equal(stm32dfu_erase_ex(s, &so, &r), 0);
	assert_int_equal(r.sectors_erased, 1);
	assert_int_equal(r.end, 0);
	assert_int_equal(r.voltage_range, 3);
	uint8_t feature[4];
	assert_int_equal(stm32dfu_read(s, 0xFFFF0000, feature, sizeof feature), 0);
	assert_int_equal(feature[0], 3);
	assert_int_equal(stm32dfu_read(s, 0x08010000, back, sizeof back), 0);
	assert_true(all_ff(back, sizeof back));
	/* refusals before anything is sent: no confirmation, a bad mode, a supply outside 1.8-3.6 V */
	assert_int_equal(stm32dfu_write_mem(s, 0x08040000, data, sizeof data, NULL, NULL), 0);
	struct stm32dfu_erase_options ao = {.mode = STM32DFU_ERASE_ALL};
	assert_int_equal(stm32dfu_erase_ex(s, &ao, &r), STM32DFU_E_NEEDS_CONFIRMATION);
	struct stm32dfu_erase_options bad = {.mode = 7};
	assert_int_equal(stm32dfu_erase_ex(s, &bad, &r), STM32DFU_E_USAGE);
	struct stm32dfu_erase_options hot = {.mode = STM32DFU_ERASE_ALL, .confirm = 1, .vdd = 5.0};
	assert_int_equal(stm32dfu_erase_ex(s, &hot, &r), STM32DFU_E_USAGE);
	assert_non_null(strstr(stm32dfu_last_error(s).message, "5"));
	assert_int_equal(stm32dfu_erase_ex(s, NULL, &r), STM32DFU_E_USAGE);
	assert_int_equal(stm32dfu_read(s, 0x08040000, back, sizeof back), 0);
	assert_memory_equal(back, data, sizeof data);
	ao.confirm = 1;
	assert_int_equal(stm32dfu_erase_ex(s, &ao, &r), 0);
	assert_int_equal(r.sectors_erased, 0);
	assert_int_equal(stm32dfu_read(s, 0x08040000, back, sizeof back), 0);
	assert_true(all_ff(back, sizeof back));
	stm32dfu_close(s);
}

/* The F0's ROM has no Device Feature memory (AN2606: F2/F4/F7 only): a voltage is refused. */
static void test_erase_ex_vdd_unsupported(void **state)
{
	(void)state;
	struct stm32dfu_match m = {0};
	m.sim = "f0-32k,timing=0";
	struct stm32dfu_session *s = NULL;
	assert_int_equal(stm32dfu_open(&m, &s), 0);
	unsigned zero = 0;
	struct stm32dfu_erase_options o = {.mode = STM32DFU_ERASE_SECTORS, .sectors = &zero, .n_sectors = 1, .vdd = 3.3};
	struct stm32dfu_erase_result r;
	assert_int_equal(stm32dfu_erase_ex(s, &o, &r), STM32DFU_E_UNSUPPORTED);
	assert_int_equal(r.voltage_range, -1);
	assert_int_equal(r.sectors_erased, 0);
	stm32dfu_close(s);
}

/* With the emulator's timing model on, an erase costs the flash's own time: a 32 KiB F7 sector
 * takes at least its typical erase time (DS10916 as profiles/f746.profile models it: 200 ms at x32,
 * the fastest parallelism, up to 400 ms at x8; fwupd issue #2696 saw about 350 ms on an F745). */
static void test_erase_ex_seconds(void **state)
{
	(void)state;
	struct stm32dfu_match m = {0};
	m.sim = "f746";
	struct stm32dfu_session *s = NULL;
	assert_int_equal(stm32dfu_open(&m, &s), 0);
	unsigned zero = 0;
	struct stm32dfu_erase_options o = {.mode = STM32DFU_ERASE_SECTORS, .sectors = &zero, .n_sectors = 1};
	struct stm32dfu_erase_result r;
	assert_int_equal(stm32dfu_erase_ex(s, &o, &r), 0);
	assert_true(r.seconds >= 0.2);
	stm32dfu_close(s);
}

static const struct stm32dfu_ob_field *field(const struct stm32dfu_option_bytes *ob, const char *name)
{
	for (size_t i = 0; i < ob->n_fields; i++)
		if (strcmp(ob->fields[i].name, name) == 0)
			return &ob->fields[i];
	return NULL;
}

static void test_option_bytes(void **state)
{
	(void)state;
	struct stm32dfu_session *s = open_sim();
	struct stm32dfu_option_bytes ob;
	assert_int_equal(stm32dfu_ob_read(s, &ob), 0);
	assert_string_equal(ob.layout, "F74x");
	assert_int_equal(ob.address, 0x1FFF0000);
	assert_int_equal(ob.len, 32);
	/* factory defaults, protocol.md 7.1: RDP 0xAA (level 0), BOR off (3), BOOT_ADD1 0x0040 */
	assert_int_equal(ob.rdp_level, 0);
	assert_int_equal(field(&ob, "RDP")->value, 0xAA);
	assert_int_equal(field(&ob, "BOR_LEV")->value, 3);
	assert_int_equal(field(&ob, "BOOT_ADD1")->value, 0x0040);
	assert_int_equal(ob.complement_errors, 0);
	/* level 2 is permanent: refused without its confirmation, and nothing is written */
	const char *rdp2[] = {"RDP=0xCC"};
	assert_int_equal(stm32dfu_ob_set(s, rdp2, 1, 0, NULL), STM32DFU_E_NEEDS_CONFIRMATION);
	assert_non_null(strstr(stm32dfu_last_error(s).message, "level 2"));
	const char *bad[] = {"NO_SUCH_FIELD=1"};
	assert_int_equal(stm32dfu_ob_set(s, bad, 1, 0, NULL), STM32DFU_E_USAGE);
	struct stm32dfu_option_bytes after;
	const char *bor[] = {"BOR_LEV=0x1"}; /* the raw field value: 01 = level 2 */
	assert_int_equal(stm32dfu_ob_set(s, bor, 1, 0, &after), 0);
	assert_int_equal(field(&after, "BOR_LEV")->value, 1);
	assert_int_equal(field(&after, "RDP")->value, 0xAA);
	assert_int_equal(after.complement_errors, 0);
	assert_int_equal(stm32dfu_ob_read(s, &ob), 0);
	assert_int_equal(field(&ob, "BOR_LEV")->value, 1);
	stm32dfu_close(s);
}

/* A field the part does not have is refused as `ob set` refuses it (tests/cli/families.sh): BFB2
 * is the dual-bank boot bit of the F42x/F43x/F469 (reserved on the F407: RM0090's option-byte
 * description, as src/chip/ob_tables_f.c carries it), and nothing is written. */
static void test_option_bytes_part(void **state)
{
	(void)state;
	struct stm32dfu_match m = {0};
	m.sim = "f407,timing=0";
	struct stm32dfu_session *s = NULL;
	assert_int_equal(stm32dfu_open(&m, &s), 0);
	struct stm32dfu_option_bytes before, after;
	assert_int_equal(stm32dfu_ob_read(s, &before), 0);
	const char *bfb2[] = {"BFB2=1"};
	assert_int_equal(stm32dfu_ob_set(s, bfb2, 1, 0, NULL), STM32DFU_E_USAGE);
	assert_non_null(strstr(stm32dfu_last_error(s).message, "BFB2: this field does not exist on this chip"));
	assert_int_equal(stm32dfu_ob_read(s, &after), 0);
	assert_int_equal(after.len, before.len);
	assert_memory_equal(after.raw, before.raw, before.len);
	stm32dfu_close(s);
}

static void test_unprotect(void **state)
{
	(void)state;
	struct stm32dfu_session *s = open_sim();
	uint8_t data[64], back[64];
	fill_pattern(data, sizeof data, 21);
	assert_int_equal(stm32dfu_write_mem(s, 0x08000000, data, sizeof data, NULL, NULL), 0);
	struct stm32dfu_unprotect_result r;
	assert_int_equal(stm32dfu_unprotect(s, 0, &r), STM32DFU_E_NEEDS_CONFIRMATION);
	const char *rdp1[] = {"RDP=0x55"};
	assert_int_equal(stm32dfu_ob_set(s, rdp1, 1, STM32DFU_CONFIRM_RDP1, NULL), 0);
	assert_int_equal(stm32dfu_read(s, 0x08000000, back, sizeof back), STM32DFU_E_PROTECTED);
	assert_int_equal(stm32dfu_unprotect(s, 1, &r), 0);
	assert_int_equal(r.rdp_before, 1);
	assert_int_equal(r.rdp_after, 0);
	assert_true(r.flash_erased);
	assert_true(r.ob_default);
	assert_int_equal(stm32dfu_read(s, 0x08000000, back, sizeof back), 0);
	assert_true(all_ff(back, sizeof back));
	stm32dfu_close(s);
}

static void test_doctor(void **state)
{
	(void)state;
	struct stm32dfu_session *s = open_sim();
	struct stm32dfu_doctor_report r;
	assert_int_equal(stm32dfu_doctor(s, 30, 25e6, &r), 0);
	assert_true(r.transfers >= 30);
	assert_int_equal(r.failures, 0);
	assert_false(r.link_bad);
	/* protocol.md 4.3: a 25 MHz crystal is detected right for HSI errors of about -1.7 % .. +1.65 % */
	assert_true(r.safe_lo_pct < -1.5 && r.safe_lo_pct > -2.0);
	assert_true(r.safe_hi_pct > 1.5 && r.safe_hi_pct < 2.0);
	assert_true(r.n_findings >= 1);
	stm32dfu_close(s);
}

static void test_leave(void **state)
{
	(void)state;
	struct stm32dfu_session *s = open_sim();
	/* a vector table that runs: SP in RAM, reset vector in flash with the Thumb bit */
	uint8_t vt[8] = {0x00, 0x00, 0x05, 0x20, 0x01, 0x01, 0x00, 0x08};
	assert_int_equal(stm32dfu_write_mem(s, 0x08000000, vt, sizeof vt, NULL, NULL), 0);
	assert_int_equal(stm32dfu_leave(s, 1, 0x08000000), 0);
	stm32dfu_close(s);
}

static void test_leave_ex(void **state)
{
	(void)state;
	struct stm32dfu_session *s = open_sim();
	uint8_t vt[8] = {0x00, 0x00, 0x05, 0x20, 0x01, 0x01, 0x00, 0x08}; /* SP 0x20050000, reset 0x08000101 */
	/* sector 1 (0x08008000) written then erased: no vector table there */
	assert_int_equal(stm32dfu_write_mem(s, 0x08008000, vt, sizeof vt, NULL, NULL), 0);
	unsigned one = 1;
	struct stm32dfu_erase_options eo = {.mode = STM32DFU_ERASE_SECTORS, .sectors = &one, .n_sectors = 1};
	assert_int_equal(stm32dfu_erase_ex(s, &eo, NULL), 0);
	/* an erased table: the ROM's jump fails and the bootloader comes back (AN3156 5.5) */
	struct stm32dfu_leave_result r;
	assert_int_equal(stm32dfu_leave_ex(s, 1, 0x08008000, &r), STM32DFU_E_NOT_STARTED);
	assert_int_equal(r.address, 0x08008000);
	assert_true(r.vector_read);
	assert_int_equal(r.sp, 0xFFFFFFFF);
	assert_false(r.sp_in_ram);
	assert_false(r.vector_ok);
	assert_false(r.gone);
	stm32dfu_close(s);
	/* the runnable table, from the start of flash (no address given); each API session's emulated
	 * chip starts blank */
	s = open_sim();
	assert_int_equal(stm32dfu_write_mem(s, 0x08000000, vt, sizeof vt, NULL, NULL), 0);
	assert_int_equal(stm32dfu_leave_ex(s, 0, 0, &r), 0);
	assert_int_equal(r.address, 0x08000000);
	assert_true(r.vector_read);
	assert_int_equal(r.sp, 0x20050000);
	assert_int_equal(r.reset, 0x08000101);
	assert_true(r.sp_in_ram && r.reset_in_code && r.reset_thumb && r.vector_ok);
	assert_true(r.gone);
	stm32dfu_close(s);
}

static void test_errors(void **state)
{
	(void)state;
	struct stm32dfu_match m = {0};
	m.sim = SIM;
	m.serial = "NO-SUCH-SERIAL";
	struct stm32dfu_session *s = (struct stm32dfu_session *)&m; /* must be reset to NULL */
	assert_int_equal(stm32dfu_open(&m, &s), STM32DFU_E_NO_DEVICE);
	assert_null(s);
	struct stm32dfu_error e = stm32dfu_last_error(NULL);
	assert_int_equal(e.code, STM32DFU_E_NO_DEVICE);
	assert_true(e.message && e.message[0]);
	assert_string_equal(stm32dfu_errname(STM32DFU_E_VERIFY), "STM32DFU_E_VERIFY");
	s = open_sim();
	assert_int_equal(stm32dfu_write_mem(s, 0x08000000, NULL, 0, NULL, NULL), STM32DFU_E_USAGE);
	stm32dfu_close(s);
}

/* stm32dfu_list_ex: the state each device was found in, and where its flash size came from */
static struct stm32dfu_listed *list_ex_one(const char *sim, uint16_t vid, uint16_t pid)
{
	struct stm32dfu_match m = {0};
	m.sim = sim;
	m.vid = vid;
	m.pid = pid;
	struct stm32dfu_listed *x = NULL;
	size_t n = 0;
	assert_int_equal(stm32dfu_list_ex(&m, &x, &n), 0);
	assert_int_equal(n, 1);
	assert_true(x[0].device.opened);
	return x;
}

static void test_list_ex(void **state)
{
	(void)state;
	/* F0: the ROM starts in dfuERROR/errFIRMWARE (profiles/f0-32k.profile, from the ozseccon listing
	 * "state = dfuERROR, status = 10"); opening clears it. Flash: 32 KiB from the register (RM0091). */
	struct stm32dfu_listed *x = list_ex_one("f0-32k,timing=0", 0, 0);
	assert_int_equal(x->found_state, 10);
	assert_int_equal(x->found_status, 10);
	assert_string_equal(x->found_state_name, "dfuERROR");
	assert_string_equal(x->found_status_name, "errFIRMWARE");
	assert_string_equal(x->found_action, "cleared");
	assert_true(x->identity_read);
	assert_int_equal(x->device.identity.flash_size, 32 * 1024);
	assert_string_equal(x->flash_size_source, "register");
	assert_string_equal(x->device.identity.serial_verdict, "known_quirk");
	assert_int_equal(x->device.identity.rdp_level, 0);
	assert_false(x->rdp_from_note);
	assert_false(x->uid_shared);
	stm32dfu_list_ex_free(x);

	/* F746: found idle; 1 MiB (DS10916) from the flash-size register, and the layout string's
	 * sectors (4 x 32K + 128K + 3 x 256K) add up to the same 1 MiB */
	x = list_ex_one(SIM, 0, 0);
	assert_int_equal(x->found_state, 2);
	assert_string_equal(x->found_state_name, "dfuIDLE");
	assert_string_equal(x->found_status_name, "OK");
	assert_string_equal(x->found_action, "none");
	assert_int_equal(x->device.identity.flash_size, 1024 * 1024);
	assert_string_equal(x->flash_size_source, "register");
	assert_int_equal(x->layout_flash_size, 4 * 32768 + 131072 + 3 * 262144);
	assert_true(x->device.n_alts >= 1);
	for (unsigned a = 0; a < x->device.n_alts; a++) {
		assert_true(x->device.alts[a].has_layout);
		assert_string_equal(x->layout_error[a], "");
	}
	assert_true(x->device.identity.has_uid);
	stm32dfu_list_ex_free(x);

	/* a GD32 (vendor 28e9) is listed but no STM32 identity is read from it */
	x = list_ex_one("gd32vf103,timing=0", 0x28e9, 0x0189);
	assert_false(x->identity_read);
	assert_false(x->device.identity.has_uid);
	assert_string_equal(x->found_action, "none");
	stm32dfu_list_ex_free(x);
}

/* stm32dfu_cancel from a signal handler (issue 21 item 8): the write stops at the next transfer
 * boundary with STM32DFU_E_CANCELED, its report saying what each sector holds and naming the
 * recovery file; after stm32dfu_cancel_reset the same session writes again. */
static struct stm32dfu_session *cancel_session;
static unsigned program_reports, reports_after_cancel;
static int canceled_once;

static void on_usr1(int sig)
{
	(void)sig;
	stm32dfu_cancel(cancel_session);
}

static void cancel_progress(void *user, enum stm32dfu_phase phase, uint64_t done, uint64_t total)
{
	(void)user;
	(void)done;
	(void)total;
	if (canceled_once)
		reports_after_cancel++;
	if (phase == STM32DFU_PHASE_PROGRAM && ++program_reports == 3 && !canceled_once) {
		canceled_once = 1;
		raise(SIGUSR1); /* the handler runs before raise returns */
	}
}

static void test_cancel_from_a_signal_handler(void **state)
{
	(void)state;
	char spec[600];
	snprintf(spec, sizeof spec, "f746,timing=0,state=%s/cancel.state", getenv("XDG_STATE_HOME"));
	struct stm32dfu_match m = {0};
	m.sim = spec;
	struct stm32dfu_session_options o = {0};
	o.size = sizeof o;
	o.sim_persist = 1;
	assert_int_equal(stm32dfu_open_session(&m, &o, &cancel_session), 0);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1;
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGUSR1, &sa, NULL), 0);
	static uint8_t data[100000];
	fill_pattern(data, sizeof data, 9);
	struct stm32dfu_segment seg = {0x08000100, 0, data, sizeof data};
	struct stm32dfu_write_report r;
	stm32dfu_set_progress(cancel_session, cancel_progress, NULL);
	assert_int_equal(stm32dfu_write_ex(cancel_session, &seg, 1, NULL, &r), STM32DFU_E_CANCELED);
	assert_true(r.canceled);
	assert_true(reports_after_cancel <= 1); /* within one transfer */
	assert_true(r.recovery_file[0]);          /* sector 0's first 256 bytes are kept there */
	assert_int_equal(access(r.recovery_file, R_OK), 0);
	int partial = 0;
	for (unsigned i = 0; i < r.n_sectors; i++)
		partial += r.sectors[i].state == STM32DFU_SECTOR_PARTIAL || r.sectors[i].state == STM32DFU_SECTOR_ERASED;
	assert_true(partial >= 1);
	assert_non_null(strstr(stm32dfu_last_error(cancel_session).message, "cancel"));
	/* the request stays until reset: a new call stops at once */
	assert_int_equal(stm32dfu_write_ex(cancel_session, &seg, 1, NULL, &r), STM32DFU_E_CANCELED);
	stm32dfu_cancel_reset(cancel_session);
	stm32dfu_set_progress(cancel_session, NULL, NULL);
	assert_int_equal(stm32dfu_write_ex(cancel_session, &seg, 1, NULL, &r), 0);
	assert_true(r.verified);
	signal(SIGUSR1, SIG_DFL);
	stm32dfu_close(cancel_session);
}

/* stm32dfu_erase_bytes (issue 21 item 4): exactly the range; the rest of the touched sectors kept */
static void test_erase_bytes(void **state)
{
	(void)state;
	struct stm32dfu_session *s = open_sim();
	static uint8_t data[0x10000], back[0x10000];
	fill_pattern(data, sizeof data, 5);
	assert_int_equal(stm32dfu_write_mem(s, 0x08000000, data, sizeof data, NULL, NULL), 0);
	struct stm32dfu_write_report r;
	/* 0x20 bytes across the boundary of sectors 0 and 1 (32 KiB each) */
	assert_int_equal(stm32dfu_erase_bytes(s, 0x08007FF0, 0x20, 0, &r), 0);
	assert_int_equal(r.sectors_erased, 2);
	assert_true(r.verified);
	assert_int_equal(stm32dfu_read(s, 0x08000000, back, sizeof back), 0);
	memset(data + 0x7FF0, 0xFF, 0x20);
	assert_memory_equal(back, data, sizeof data);
	/* outside the flash: refused before anything is read or erased */
	assert_int_equal(stm32dfu_erase_bytes(s, 0x20000000, 16, 0, &r), STM32DFU_E_RANGE);
	assert_int_equal(stm32dfu_erase_bytes(s, 0x08000000, 0, 0, &r), STM32DFU_E_USAGE);
	stm32dfu_close(s);
}

int main(void)
{
	test_own_state_dir("lib-api");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_version),
		cmocka_unit_test(test_list_sim),
		cmocka_unit_test(test_list_ex),
		cmocka_unit_test(test_info),
		cmocka_unit_test(test_write_read_verify_mem),
		cmocka_unit_test(test_read_file_then_verify_file),
		cmocka_unit_test(test_erase),
		cmocka_unit_test(test_option_bytes),
		cmocka_unit_test(test_option_bytes_part),
		cmocka_unit_test(test_unprotect),
		cmocka_unit_test(test_doctor),
		cmocka_unit_test(test_leave),
		cmocka_unit_test(test_leave_ex),
		cmocka_unit_test(test_erase_ex),
		cmocka_unit_test(test_erase_ex_vdd_unsupported),
		cmocka_unit_test(test_erase_ex_seconds),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_cancel_from_a_signal_handler),
		cmocka_unit_test(test_erase_bytes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
