/* Layout-string and descriptor parsers, table-driven on the real strings in shared/data. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dfu/funcdesc.h"
#include "dfu/layout.h"
#include "dfu/proto.h"

static struct layout L;

static void parse_ok(const char *s)
{
	struct err e;
	err_clear(&e);
	int r = layout_parse(s, strlen(s), &L, &e);
	if (r != 0)
		fail_msg("\"%s\": %s", s, e.msg);
}

static void check_group(unsigned region, unsigned g, uint32_t count, uint32_t size, uint8_t type)
{
	assert_true(region < L.n_regions);
	assert_true(g < L.regions[region].n_groups);
	assert_int_equal(L.regions[region].groups[g].count, count);
	assert_int_equal(L.regions[region].groups[g].size, size);
	assert_int_equal(L.regions[region].groups[g].type, type);
}

/* every `name="@..."` and lsusb `iInterface N @...` string in the shared data parses */
static unsigned strings_seen;

static void scan_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return;
	char line[4096];
	while (fgets(line, sizeof line, f)) {
		const char *p = line;
		while ((p = strstr(p, "name=\"@")) != NULL) {
			p += 6;
			const char *q = strchr(p, '"');
			if (!q)
				break;
			struct err e;
			err_clear(&e);
			if (layout_parse(p, (size_t)(q - p), &L, &e) != 0)
				fail_msg("%s: \"%.*s\": %s", path, (int)(q - p), p, e.msg);
			assert_int_equal(L.trailing_at, 0);
			assert_true(L.n_regions >= 1);
			strings_seen++;
			p = q;
		}
		const char *ii = strstr(line, "iInterface");
		const char *at = ii ? strchr(ii, '@') : NULL;
		if (at) {
			size_t n = strcspn(at, "\r\n");
			struct err e;
			err_clear(&e);
			if (layout_parse(at, n, &L, &e) != 0)
				fail_msg("%s: \"%.*s\": %s", path, (int)n, at, e.msg);
			strings_seen++;
		}
	}
	fclose(f);
}

static void scan_dir(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		char path[1024];
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		struct stat st;
		if (stat(path, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode))
			scan_dir(path);
		else if (strstr(de->d_name, ".txt"))
			scan_file(path);
	}
	closedir(d);
}

static void test_all_real_strings(void **state)
{
	(void)state;
	strings_seen = 0;
	scan_dir(SHARED_DATA_DIR);
	/* 22 distinct strings exist today; many files repeat them */
	assert_true(strings_seen >= 30);
}

static void test_specific_values(void **state)
{
	(void)state;
	struct layout_sector s;
	/* F401 (dhylands G30DEV): 4x16K, 1x64K, 3x128K, end 0x08080000 */
	parse_ok("@Internal Flash  /0x08000000/04*016Kg,01*064Kg,03*128Kg");
	assert_string_equal(L.name, "Internal Flash");
	check_group(0, 0, 4, 16384, 7);
	check_group(0, 1, 1, 65536, 7);
	check_group(0, 2, 3, 131072, 7);
	assert_int_equal(L.regions[0].start + L.regions[0].length, 0x08080000);
	assert_true(layout_find(&L, 0x08010000, &s));
	assert_int_equal(s.index, 4);
	assert_int_equal(s.start, 0x08010000);
	assert_int_equal(s.size, 65536);
	assert_true(layout_find(&L, 0x0807FFFF, &s));
	assert_int_equal(s.index, 7);
	assert_int_equal(s.start, 0x08060000);
	assert_false(layout_find(&L, 0x08080000, &s));
	assert_false(layout_find(&L, 0x07FFFFFF, &s));
	assert_true(layout_sector_at(&L, 0, 5, &s));
	assert_int_equal(s.start, 0x08020000);
	assert_false(layout_sector_at(&L, 0, 8, &s));
	/* L4: 4-digit count and size */
	parse_ok("@Internal Flash  /0x08000000/0128*0002Kg");
	check_group(0, 0, 128, 2048, 7);
	assert_int_equal(layout_total_size(&L), 256 * 1024);
	/* L0: no unit, 128-byte pages */
	parse_ok("@Internal Flash  /0x08000000/1536*128g");
	check_group(0, 0, 1536, 128, 7);
	/* G474: two option-byte regions, 48 B each, three-space padded name */
	parse_ok("@Option Bytes   /0x1FFF7800/01*048 e/0x1FFFF800/01*048 e");
	assert_string_equal(L.name, "Option Bytes");
	assert_int_equal(L.n_regions, 2);
	assert_int_equal(L.regions[0].start, 0x1FFF7800);
	assert_int_equal(L.regions[1].start, 0x1FFFF800);
	check_group(0, 0, 1, 48, DFUSE_MEM_READABLE | DFUSE_MEM_WRITABLE);
	check_group(1, 0, 1, 48, 5);
	assert_true(layout_find(&L, 0x1FFFF82F, &s));
	assert_int_equal(s.region, 1);
	/* F0 32x1K; H750 16x128K */
	parse_ok("@Internal Flash  /0x08000000/032*0001Kg");
	check_group(0, 0, 32, 1024, 7);
	parse_ok("@Internal Flash   /0x08000000/16*128Kg");
	check_group(0, 0, 16, 131072, 7);
	/* README/protocol.md variants: space unit, no space before type, MiB, B unit */
	parse_ok("@OTP /0x1FF0F000/01*32 e");
	check_group(0, 0, 1, 32, 5);
	parse_ok("@OTP/0x1FF0F000/01*528e");
	check_group(0, 0, 1, 528, 5);
	parse_ok("@X/0x90000000/2*1Mg,4*16Ba");
	check_group(0, 0, 2, 1048576, 7);
	check_group(0, 1, 4, 16, 1);
	parse_ok("@Internal Flash  /0x08000000/1024*256 g");
	check_group(0, 0, 1024, 256, 7);
	/* Artery AT32F415 (field/nonST_AT32...): a space before the count, 1-digit size */
	parse_ok("@Internal Flash  /0x08000000/ 128*1Kg");
	check_group(0, 0, 128, 1024, 7);
	assert_int_equal(L.trailing_at, 0);
	parse_ok("@Option Byte   /0x1FFFF800/02*016 e");
	assert_string_equal(L.name, "Option Byte");
	check_group(0, 0, 2, 16, 5);
	/* the Device Feature quirk: readable and writable whatever the letter */
	parse_ok("@Device Feature/0xFFFF0000/01*004 b");
	assert_true(L.quirk_device_feature);
	assert_int_equal(L.regions[0].groups[0].type, 7);
	/* trailing garbage: tolerated, recorded */
	parse_ok("@Internal Flash  /0x08000000/04*016Kg,01*064Kg xyz");
	assert_int_equal(L.trailing_at, 46);
	assert_int_equal(L.regions[0].n_groups, 2);
	parse_ok("@Internal Flash  /0x08000000/04*016Kg/  \r\n");
	assert_int_not_equal(L.trailing_at, 0);
	parse_ok("@Internal Flash  /0x08000000/04*016Kg   \r\n");
	assert_int_equal(L.trailing_at, 0);
}

static void test_errors(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		const char *msg;
	} bad[] = {
		{"", "layout: expected '@' at offset 0"},
		{"Internal Flash/0x08000000/04*016Kg", "layout: expected '@' at offset 0"},
		{"@Internal Flash", "layout: expected '/' after the name at offset 15"},
		{"@Internal Flash  /0x08000000/04016Kg", "layout: expected '*' after sector count at offset 34"},
		{"@Internal Flash  /08000000/04*016Kg", "layout: expected region address '0x...' at offset 18"},
		{"@F/0x/04*016Kg", "layout: expected hex digits after '0x' at offset 5"},
		{"@F/0x100000000/1*1g", "layout: region address wider than 32 bits at offset 13"},
		{"@F/0x08000000", "layout: expected '/' after region address at offset 13"},
		{"@F/0x08000000/*16Kg", "layout: expected count (digits) at offset 14"},
		{"@F/0x08000000/4*Kg", "layout: expected size (digits) at offset 16"},
		{"@F/0x08000000/4*16K", "layout: expected sector type letter a-g at offset 19"},
		{"@F/0x08000000/4*16Kz", "layout: expected sector type letter a-g at offset 19"},
		{"@F/0x08000000/0*16Kg", "layout: sector count is zero at offset 15"},
		{"@F/0x08000000/1*0g", "layout: sector size is zero at offset 18"},
		{"@F/0x08000000/4*16Kg,", "layout: expected count (digits) at offset 21"},
		{"@F/0x08000000/99999999999*1g", "layout: sector count too large at offset 14"},
		{"@F/0x08000000/1*4096Mg", "layout: sector size too large at offset 22"},
		{"@F/0xFFFFFF00/2*256 g", "layout: region runs past the 4 GiB address space at offset 21"},
		/* issue 26 item 2: a map no device has (this one made the write path allocate 12 GiB) */
		{"@Internal Flash /0x00000000/1073741824*1 g",
		 "layout: more sectors than any device has (the limit is 65536) at offset 42"},
		{"@F/0x08000000/32768*1Kg,32769*1Kg", "layout: more sectors than any device has (the limit is 65536) at offset 33"},
		{"@F/0x08000000/40000*1Kg/0x20000000/30000*4 g",
		 "layout: more sectors than any device has (the limit is 65536) at offset 44"},
		{"@F/0x08000000/4*16Kg/0x08008000/1*16Kg", "layout: region overlaps an earlier one at offset 38"},
		{"@F/0x08008000/1*16Kg/0x08000000/4*16Kg", "layout: region overlaps an earlier one at offset 38"},
		{"@F/0x00000000/1*4Mg/0x00000000/1*4Mg", "layout: region overlaps an earlier one at offset 36"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct err e;
		err_clear(&e);
		assert_int_equal(layout_parse(bad[i].s, strlen(bad[i].s), &L, &e), STM32DFU_E_PROTOCOL);
		if (strcmp(e.msg, bad[i].msg) != 0)
			fail_msg("\"%s\": got \"%s\", want \"%s\"", bad[i].s, e.msg, bad[i].msg);
	}
	/* at the bounds: 65536 sectors, regions that touch without overlapping, the top of 4 GiB */
	parse_ok("@F/0x00000000/65536*64Kg");
	parse_ok("@F/0x08000000/4*16Kg/0x08010000/1*64Kg/0xFFFF0000/1*64Ka");
	assert_int_equal(L.n_regions, 3);
	/* (pointer, length): the string is not read past n */
	const char s[] = "@F/0x08000000/4*16Kg";
	struct err e;
	assert_int_equal(layout_parse(s, 19, &L, &e), STM32DFU_E_PROTOCOL);
	assert_int_equal(layout_parse(NULL, 0, &L, &e), STM32DFU_E_PROTOCOL);
}

/* F4 ROM descriptors as rust-dfu's lsusb -v shows them: 4 alt settings, functional descriptor
 * once after the last (bmAttributes 0x0B, wDetachTimeOut 255, wTransferSize 2048, 1.1a) */
static const uint8_t f4_desc[] = {
	0x12, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x40, 0x83, 0x04, 0x11, 0xdf, 0x00, 0x22, 0x01, 0x02, 0x03, 0x01,
	0x09, 0x02, 0x36, 0x00, 0x01, 0x01, 0x00, 0xc0, 0x32,
	0x09, 0x04, 0x00, 0x00, 0x00, 0xfe, 0x01, 0x02, 0x04,
	0x09, 0x04, 0x00, 0x01, 0x00, 0xfe, 0x01, 0x02, 0x05,
	0x09, 0x04, 0x00, 0x02, 0x00, 0xfe, 0x01, 0x02, 0x06,
	0x09, 0x04, 0x00, 0x03, 0x00, 0xfe, 0x01, 0x02, 0x07,
	0x09, 0x21, 0x0b, 0xff, 0x00, 0x00, 0x08, 0x1a, 0x01,
};

static void test_funcdesc(void **state)
{
	(void)state;
	struct dfu_desc d;
	struct err e;
	err_clear(&e);
	assert_int_equal(dfu_desc_parse(f4_desc, sizeof f4_desc, &d, &e), 0);
	assert_int_equal(d.bMaxPacketSize0, 64);
	assert_int_equal(d.n_alts, 4);
	assert_int_equal(d.alts[3].bAlternateSetting, 3);
	assert_int_equal(d.alts[3].iInterface, 7);
	assert_true(d.have_func);
	assert_int_equal(d.func.bmAttributes, 0x0B);
	assert_int_equal(d.func.wDetachTimeOut, 255);
	assert_int_equal(d.func.wTransferSize, 2048);
	assert_int_equal(d.func.bcdDFUVersion, DFU_VERSION_DFUSE);
	/* the configuration alone parses too */
	assert_int_equal(dfu_desc_parse(f4_desc + 18, sizeof f4_desc - 18, &d, &e), 0);
	/* a DFU 1.0 functional descriptor (7 bytes) */
	uint8_t v10[] = {0x09, 0x02, 0x19, 0x00, 0x01, 0x01, 0x00, 0xc0, 0x32, 0x09, 0x04, 0x00, 0x00,
	                 0x00, 0xfe, 0x01, 0x02, 0x00, 0x07, 0x21, 0x03, 0x10, 0x00, 0x00, 0x04};
	assert_int_equal(dfu_desc_parse(v10, sizeof v10, &d, &e), 0);
	assert_int_equal(d.func.bcdDFUVersion, 0x0100);
	assert_int_equal(d.func.wTransferSize, 1024);
	/* truncated: every prefix is rejected or parsed without reading past the end */
	for (size_t n = 0; n < sizeof f4_desc; n++) {
		uint8_t *copy = malloc(n ? n : 1);
		memcpy(copy, f4_desc, n);
		(void)dfu_desc_parse(copy, n, &d, &e);
		free(copy);
	}
	/* a zero bLength inside the configuration must not loop */
	uint8_t bad[sizeof f4_desc];
	memcpy(bad, f4_desc, sizeof bad);
	bad[27] = 0;
	assert_int_equal(dfu_desc_parse(bad, sizeof bad, &d, &e), STM32DFU_E_PROTOCOL);
	assert_string_equal(e.msg, "descriptor at offset 27: bLength 0");
	/* no DFU interface */
	uint8_t nodfu[] = {0x09, 0x02, 0x12, 0x00, 0x01, 0x01, 0x00, 0xc0, 0x32,
	                   0x09, 0x04, 0x00, 0x00, 0x00, 0x08, 0x06, 0x50, 0x00};
	assert_int_equal(dfu_desc_parse(nodfu, sizeof nodfu, &d, &e), STM32DFU_E_PROTOCOL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_real_strings),
		cmocka_unit_test(test_specific_values),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_funcdesc),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
