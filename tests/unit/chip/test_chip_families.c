/*
 * The families added from real listings: identification from each listing's own strings (read from
 * ../shared/data, not copied), a non-ST vendor never named an STM32, the L0/L1/WB/U5 option-byte
 * decoders on their documented factory values, and fields that do not exist on the identified part.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chip/ob.h"
#include "chip/serial.h"
#include "core/rd.h"
#include "stm32dfu/stm32dfu.h"

int chip_families_run_tests(void);

#define DFU_LIST SHARED_DATA_DIR "/dfu-list/"

/* The name="..." strings, vid and serial of a listing's `Found DFU:` lines, in alt order. */
struct listing {
	char alts[8][128];
	size_t n;
	char serial[64];
	uint16_t vid;
	uint16_t bcd;
};

static void read_listing(const char *path, struct listing *l)
{
	memset(l, 0, sizeof *l);
	FILE *f = fopen(path, "r");
	if (!f)
		fail_msg("cannot open %s", path);
	char line[1024];
	while (fgets(line, sizeof line, f)) {
		const char *p = strstr(line, "Found DFU: [");
		if (!p)
			continue;
		unsigned vid, pid, ver, alt;
		const char *a = strstr(p, "alt="), *nm = strstr(p, "name=\""), *sr = strstr(p, "serial=\"");
		assert_int_equal(sscanf(p, "Found DFU: [%x:%x] ver=%x", &vid, &pid, &ver), 3);
		assert_non_null(a);
		assert_non_null(nm);
		assert_non_null(sr);
		alt = (unsigned)atoi(a + 4);
		assert_true(alt < 8);
		const char *ne = strchr(nm + 6, '"'), *se = strchr(sr + 8, '"');
		snprintf(l->alts[alt], sizeof l->alts[alt], "%.*s", (int)(ne - nm - 6), nm + 6);
		snprintf(l->serial, sizeof l->serial, "%.*s", (int)(se - sr - 8), sr + 8);
		l->vid = (uint16_t)vid;
		l->bcd = (uint16_t)ver;
		if (alt + 1 > l->n)
			l->n = alt + 1;
	}
	fclose(f);
	assert_true(l->n > 0);
}

static const struct chip_family *identify(const struct listing *l, uint16_t flash_kb, struct chip_identity *id)
{
	struct chip_evidence ev = {.has_vid = true, .vid = l->vid, .usb_serial = l->serial,
				   .has_bcd_device = true, .bcd_device = l->bcd,
				   .has_flash_size = flash_kb != 0, .flash_size_kb = flash_kb};
	for (size_t i = 0; i < l->n; i++)
		ev.alt_names[ev.n_alts++] = l->alts[i];
	chip_identify(&ev, id);
	return id->family;
}

static void test_identify_listings(void **state)
{
	(void)state;
	static const struct {
		const char *file, *family;
		uint16_t kb;
	} cases[] = {
		{"dhylands-G30HDR_F401CE_dfu-util-list.txt", "F401", 512},
		{"ok-STM32F4_F446-bootloaderID-0x90_dfu-util-l_serial-STM32FxSTM32.txt", "F401", 512},
		{"nuttx-weact-stm32h750_H750_dmesg_dfu-util-l_download.txt", "H74x", 128},
		{"mobilinkd-tnc3-12_L4-256K_dfu-util-l_207E32823141.txt", "L4", 256},
		{"bigclown-notes_L0-192K-CoreModule_dfu-util-l_7FB4A4356231.txt", "L0", 192},
		{"openbttn_L100RC-256K_dfu-util-l_and_download.txt", "L1", 256},
		{"hausrack_G474CE_dfu-util-l_two-region-option-bytes.txt", "G4", 512},
		{"st-community_G0C1VET6_dfu-util-l_lsusb-head_all-alts-same.txt", "G0", 512},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char path[512];
		snprintf(path, sizeof path, DFU_LIST "%s", cases[i].file);
		struct listing l;
		read_listing(path, &l);
		struct chip_identity id;
		const struct chip_family *f = identify(&l, cases[i].kb, &id);
		if (!f || strcmp(f->id, cases[i].family) != 0)
			fail_msg("%s: got %s (%s)", cases[i].file, f ? f->id : "none", id.reason);
		assert_int_equal(id.flash_size, cases[i].kb * 1024u);
	}
	/* F446: the bootloader ID 0x90 the README gives narrows the three 512 KiB F4 families to F446,
	 * and its constant serial is a known quirk of that family */
	struct listing l;
	read_listing(DFU_LIST "ok-STM32F4_F446-bootloaderID-0x90_dfu-util-l_serial-STM32FxSTM32.txt", &l);
	struct chip_evidence ev = {.has_vid = true, .vid = l.vid, .usb_serial = l.serial, .has_bootloader_id = true,
				   .bootloader_id = 0x90, .has_flash_size = true, .flash_size_kb = 512};
	for (size_t i = 0; i < l.n; i++)
		ev.alt_names[ev.n_alts++] = l.alts[i];
	struct chip_identity id;
	assert_int_equal(chip_identify(&ev, &id), 0);
	assert_string_equal(id.family->id, "F446");
	assert_int_equal(id.confidence, CHIP_CONF_CERTAIN);
	struct chip_serial_result sr;
	const uint8_t uid[12] = {0x21, 0x00, 0x36, 0x00, 0x0B, 0x47, 0x36, 0x34, 0x39, 0x38, 0x38, 0x32};
	chip_serial_check(id.family, l.serial, uid, &sr);
	assert_int_equal(sr.verdict, CHIP_SERIAL_KNOWN_QUIRK);
	/* H750: the layout advertises 2 MiB, the register says 128 KiB */
	read_listing(DFU_LIST "nuttx-weact-stm32h750_H750_dmesg_dfu-util-l_download.txt", &l);
	identify(&l, 128, &id);
	assert_int_equal(id.layout_flash_size, 2u << 20);
	assert_int_equal(id.flash_size_source, CHIP_SIZE_REGISTER);
}

/* GD32VF103 (28e9:0189): github.com/riscv-mcu/gd32-dfu-utils issue 5 lists two variants; the Longan
 * Nano's strings look like an STM32F1's (OB at 0x1FFFF800). Neither may be named an STM32. */
static void test_non_st_vendor(void **state)
{
	(void)state;
	const char *bare[] = {"@Internal Flash  /0x08000000/128*001Kg"};
	const char *longan[] = {"@Option Bytes  /0x1FFFF800/01*016 g", "@Internal Flash  /0x08000000/512*002Kg"};
	const char *const *sets[] = {bare, longan};
	size_t counts[] = {1, 2};
	for (size_t s = 0; s < 2; s++) {
		struct chip_evidence ev = {.has_vid = true, .vid = 0x28E9, .usb_serial = "3CBJ"};
		for (size_t i = 0; i < counts[s]; i++)
			ev.alt_names[ev.n_alts++] = sets[s][i];
		struct chip_identity id;
		assert_int_equal(chip_identify(&ev, &id), STM32DFU_E_UNSUPPORTED);
		assert_null(id.family);
		assert_int_equal(id.confidence, CHIP_CONF_NONE);
		assert_non_null(strstr(id.reason, "not an ST device"));
		/* the same strings from ST's vendor ID do match a family: the vendor is what decides */
		ev.vid = 0x0483;
		chip_identify(&ev, &id);
		if (s == 1)
			assert_non_null(id.family);
	}
}

static uint32_t value(const struct ob_decoded *d, const char *name)
{
	for (size_t i = 0; i < d->n_fields; i++)
		if (strcmp(d->fields[i].field->name, name) == 0 && d->fields[i].present)
			return d->fields[i].value;
	fail_msg("no field %s", name);
	return 0;
}

/* L0: OPTR reset value 0x807000AA (stm32-rs stm32l0 OPTR: RDPROT 0xAA, WDG_SW, nRST_STOP, nRST_STDBY,
 * nBOOT1) stored as words with complements (RM0367 §3.4.1): FF5500AA, 7F8F8070, then WRP. */
static void test_l0_l1_decode(void **state)
{
	(void)state;
	const struct chip_family *l0 = chip_family_by_id("L0"), *l1 = chip_family_by_id("L1");
	uint8_t b[32] = {0};
	put_le32(b, 0xFF5500AA);
	put_le32(b + 4, 0x7F8F8070);
	put_le32(b + 8, 0xFFFF0000);
	put_le32(b + 12, 0xFFFF0000);
	put_le32(b + 16, 0xFFFF0000);
	struct ob_decoded d;
	assert_int_equal(ob_decode(l0, b, 32, &d, NULL), 0);
	assert_int_equal(d.complement_errors, 0);
	assert_int_equal(d.rdp_level, 0);
	assert_int_equal(value(&d, "WDG_SW"), 1);
	assert_int_equal(value(&d, "nBOOT1"), 1);
	assert_int_equal(value(&d, "BOR_LEV"), 0);
	assert_int_equal(value(&d, "WPRMOD"), 0);
	/* BOR level 3 (0xA) and sector 1 write-protected: value and complement both change */
	put_le32(b + 4, 0x7F85807A);
	put_le32(b + 8, 0xFFFD0002);
	assert_int_equal(ob_decode(l0, b, 32, &d, NULL), 0);
	assert_int_equal(d.complement_errors, 0);
	assert_int_equal(value(&d, "BOR_LEV"), 0xA);
	assert_int_equal(value(&d, "WRP1L"), 2);
	/* a wrong complement is reported, not hidden */
	put_le32(b, 0xFF5500CC);
	assert_int_equal(ob_decode(l0, b, 32, &d, NULL), 0);
	assert_int_equal(d.complement_errors, 1);
	assert_int_equal(d.rdp_level, 2);
	/* set: RDP level 1 rewrites the complement */
	uint8_t def[32], out[32];
	size_t len;
	assert_int_equal(ob_default_block(l0, def, sizeof def, &len), 0);
	assert_int_equal(get_le32(def), 0xFF5500AA);
	assert_int_equal(get_le32(def + 4), 0x7F8F8070);
	const char *bor[] = {"BOR_LEV=0xA"};
	assert_int_equal(ob_set(l0, def, 32, bor, 1, out, NULL), 0);
	assert_int_equal(get_le32(out + 4), 0x7F85807A);
	/* L1: the same format, eight words; WRP89 and WRP1011 guard flash past a 256 KiB part */
	assert_int_equal(ob_default_block(l1, def, sizeof def, &len), 0);
	assert_int_equal(len, 32);
	assert_int_equal(ob_decode(l1, def, 32, &d, NULL), 0);
	assert_int_equal(d.complement_errors, 0);
	assert_int_equal(value(&d, "IWDG_SW"), 1);
	ob_mark_part(l1, 256 * 1024, &d);
	for (size_t i = 0; i < d.n_fields; i++) {
		const char *n = d.fields[i].field->name;
		bool gone = strcmp(n, "WRP89") == 0 || strcmp(n, "WRP1011") == 0; /* 16 x 4 KiB per word */
		assert_int_equal(d.fields[i].absent, gone);
	}
}

/* WB: OPTR bits per docs.rs stm32wb-pac (RDP 0-7, ESE 8, BOR_LEV 9-11, ... AGC_TRIM 29-31), stored
 * as value + complement. U5: FLASH_OPTR bits in RM0456 order (embassy stm32-metapac). */
static void test_wb_u5_decode(void **state)
{
	(void)state;
	const struct chip_family *wb = chip_family_by_id("WB"), *u5 = chip_family_by_id("U5");
	uint8_t b[40];
	size_t len;
	assert_int_equal(ob_default_block(wb, b, sizeof b, &len), 0);
	assert_int_equal(len, 40);
	put_le32(b, 0x2DFFF3AA); /* ESE 1, BOR_LEV 1, nSWBOOT0 1, nBOOT0 1, AGC_TRIM 1 */
	put_le32(b + 4, ~0x2DFFF3AAu);
	struct ob_decoded d;
	assert_int_equal(ob_decode(wb, b, len, &d, NULL), 0);
	assert_int_equal(d.complement_errors, 0);
	assert_int_equal(value(&d, "ESE"), 1);
	assert_int_equal(value(&d, "BOR_LEV"), 1);
	assert_int_equal(value(&d, "AGC_TRIM"), 1);
	assert_int_equal(value(&d, "nBOOT0"), 1);
	assert_int_equal(value(&d, "SRAM2_RST"), 0);
	const char *set[] = {"BOR_LEV=2"};
	assert_int_equal(ob_set(wb, b, len, set, 1, b, NULL), STM32DFU_E_UNSUPPORTED); /* decode-only */
	uint8_t u[64];
	assert_int_equal(ob_default_block(u5, u, sizeof u, &len), 0);
	put_le32(u, 0x9FEFF8AA); /* TZEN set */
	assert_int_equal(ob_decode(u5, u, len, &d, NULL), 0);
	assert_int_equal(value(&d, "TZEN"), 1);
	assert_int_equal(value(&d, "DUALBANK"), 1);
	assert_int_equal(value(&d, "SWAP_BANK"), 0);
	assert_int_equal(value(&d, "IWDG_SW"), 1);
	assert_int_equal(value(&d, "NSBOOTADD0"), 0x08000000u >> 7);
	assert_int_equal(d.rdp_level, 0);
}

/* F4's shared 16-byte layout: BFB2 and DB1M only on F42x, SPRMOD not on F40x; F0 32 KiB: WRP1..3
 * guard flash it does not have (RM0091 §4.1.3: 4 KiB per bit). */
static void test_fields_on_part(void **state)
{
	(void)state;
	const struct chip_family *f407 = chip_family_by_id("F40x"), *f42x = chip_family_by_id("F42x"),
				 *f401 = chip_family_by_id("F401"), *f0 = chip_family_by_id("F0");
	const struct ob_field *bfb2 = ob_field_by_name(f407->ob, "BFB2"), *sprmod = ob_field_by_name(f407->ob, "SPRMOD");
	char why[96];
	assert_false(ob_field_on_part(f407, bfb2, 512 * 1024, why, sizeof why));
	assert_non_null(strstr(why, "F42x"));
	assert_true(ob_field_on_part(f42x, bfb2, 2048 * 1024, why, sizeof why));
	assert_false(ob_field_on_part(f407, sprmod, 1024 * 1024, why, sizeof why));
	assert_true(ob_field_on_part(f401, sprmod, 512 * 1024, why, sizeof why));
	const struct ob_field *wrp1 = ob_field_by_name(f0->ob, "WRP1"), *wrp0 = ob_field_by_name(f0->ob, "WRP0");
	assert_false(ob_field_on_part(f0, wrp1, 32 * 1024, why, sizeof why));
	assert_non_null(strstr(why, "0x08008000"));
	assert_true(ob_field_on_part(f0, wrp1, 64 * 1024, why, sizeof why));
	assert_true(ob_field_on_part(f0, wrp0, 32 * 1024, why, sizeof why));
	assert_true(ob_field_on_part(f0, wrp1, 0, why, sizeof why)); /* size unknown: not refused */
	const char *a[] = {"BOR_LEV=1", "BFB2=1"};
	struct err e;
	err_clear(&e);
	assert_int_equal(ob_check_part(f407, 1024 * 1024, a, 2, &e), STM32DFU_E_USAGE);
	assert_non_null(strstr(e.msg, "BFB2"));
	assert_int_equal(ob_check_part(f42x, 2048 * 1024, a, 2, NULL), 0);
	/* F0 WRP1=0 on a 32 KiB part is refused, with the address range in the reason */
	const char *w[] = {"WRP1=0"};
	err_clear(&e);
	assert_int_equal(ob_check_part(f0, 32 * 1024, w, 1, &e), STM32DFU_E_USAGE);
	assert_non_null(strstr(e.msg, "past this part's 32 KiB"));
	/* and on a 64 KiB part its meaning numbers the groups from 8 */
	uint8_t blk[16], out[16];
	ob_default_block(f0, blk, sizeof blk, NULL);
	const char *w2[] = {"WRP1=0xFE"};
	assert_int_equal(ob_set(f0, blk, 16, w2, 1, out, NULL), 0);
	struct ob_decoded d;
	assert_int_equal(ob_decode(f0, out, 16, &d, NULL), 0);
	for (size_t i = 0; i < d.n_fields; i++)
		if (strcmp(d.fields[i].field->name, "WRP1") == 0)
			assert_string_equal(d.fields[i].meaning, "write-protected: 8");
}

int chip_families_run_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identify_listings), cmocka_unit_test(test_non_st_vendor),
		cmocka_unit_test(test_l0_l1_decode),      cmocka_unit_test(test_wb_u5_decode),
		cmocka_unit_test(test_fields_on_part),
	};
	return cmocka_run_group_tests_name("chip families", tests, NULL, NULL);
}
