/* Unit tests of src/chip: family table, identification, serial rules and verdicts, -S selectors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chip/chip.h"
#include "chip/ob.h"
#include "chip/serial.h"

int chip_ob_run_tests(void);
int chip_families_run_tests(void);

static const struct chip_family *fam(const char *id)
{
	const struct chip_family *f = chip_family_by_id(id);
	assert_non_null(f);
	return f;
}

/* ---- family table ---- */
static void test_table(void **state)
{
	(void)state;
	static const char *const required[] = {"F0", "F1", "F2", "F3", "F40x", "F401", "F411", "F412", "F42x",
					       "F446", "F72x", "F74x", "F76x", "G0", "G4", "H74x", "L0", "L1",
					       "L4", "WB", "U5"};
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		const struct chip_family *f = fam(required[i]);
		assert_non_null(f->source);
		assert_true(f->uid_addr != 0);
		assert_true(f->write_align >= 1);
	}
	for (const struct chip_family *f = chip_families; f->id; f++) {
		assert_non_null(f->source);
		assert_non_null(f->name);
		assert_true(f->dev_ids[0] != 0);
		for (size_t k = 0; k < 6 && f->dev_ids[k]; k++)
			assert_ptr_equal(chip_family_by_dev_id(f->dev_ids[k]), f);
	}
	assert_string_equal(chip_family_by_dev_id(0x449)->id, "F74x");
	assert_string_equal(chip_family_by_dev_id(0x451)->id, "F76x");
	assert_string_equal(chip_family_by_id("f74X")->id, "F74x");
	assert_null(chip_family_by_dev_id(0x999));
	assert_null(chip_family_by_id("Z9"));
	/* F74x facts of protocol.md §3 */
	const struct chip_family *f7 = fam("F74x");
	assert_int_equal(f7->uid_addr, 0x1FF0F420);
	assert_int_equal(f7->flash_size_addr, 0x1FF0F442);
	assert_int_equal(f7->bootloader_id_addr, 0x1FF0EDBE);
	assert_int_equal(f7->ob_addr, 0x1FFF0000);
	assert_int_equal(chip_family_flash_bytes(f7), 1024 * 1024);
	assert_int_equal(chip_family_sector_of(f7, 0), 0);
	assert_int_equal(chip_family_sector_of(f7, 0x18000), 3);
	assert_int_equal(chip_family_sector_of(f7, 0x20000), 4);
	assert_int_equal(chip_family_sector_of(f7, 0xC0000), 7);
	assert_int_equal(chip_family_sector_of(f7, 0x100000), -1);
	assert_true(f7->quirks & CHIP_Q_DBGMCU_HANGS);
	assert_int_equal(chip_family_flash_bytes(fam("F76x")), 2 * 1024 * 1024);
	assert_int_equal(fam("L0")->uid_word2_offset, 0x14);
}

/* ---- identification: layout strings from shared/data/dfu-list and protocol.md §3.2 ---- */
struct id_case {
	const char *what;
	const char *alts[4];
	const char *serial;
	int has_id;
	uint8_t id;
	uint16_t size_kb;
	const char *expect;
	enum chip_confidence conf;
};

static const struct id_case id_cases[] = {
	{"F401CE (data/dfu-list/dhylands-G30HDR_F401CE_...)",
	 {"@Internal Flash  /0x08000000/04*016Kg,01*064Kg,03*128Kg", "@Option Bytes  /0x1FFFC000/01*016 e",
	  "@OTP Memory /0x1FFF7800/01*512 e,01*016 e", "@Device Feature/0xFFFF0000/01*004 e"},
	 "348E37423533", 0, 0, 0, "F401", CHIP_CONF_GUESS},
	{"F446 ID 0x90 (data/dfu-list/ok-STM32F4_F446-bootloaderID-0x90_...)",
	 {"@Internal Flash  /0x08000000/04*016Kg,01*064Kg,03*128Kg", "@Option Bytes  /0x1FFFC000/01*016 e"},
	 "STM32FxSTM32", 1, 0x90, 512, "F446", CHIP_CONF_CERTAIN},
	{"F407VE (data/dfu-list/platformio-ststm32-118_...)",
	 {"@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg", "@Option Bytes  /0x1FFFC000/01*016 e"},
	 "207A389B5848", 0, 0, 512, "F40x", CHIP_CONF_GUESS},
	{"F0 32K (data/dfu-list/EugenePY-AKIRA_F0-32K_...)",
	 {"@Internal Flash  /0x08000000/032*0001Kg", "@Option Bytes  /0x1FFFF800/01*016 e"},
	 "FFFFFFFEFFFF", 0, 0, 0, "F0", CHIP_CONF_LIKELY},
	{"F105 (data/dfu-list/flashfloppy-462_F105-...)",
	 {"@Internal Flash  /0x08000000/128*002Kg", "@Option Bytes  /0x1FFFF800/01*016 e"},
	 "STM32", 0, 0, 0, "F1", CHIP_CONF_LIKELY},
	{"G474 (data/dfu-list/hausrack_G474CE_...)",
	 {"@Internal Flash   /0x08000000/256*02Kg", "@Option Bytes   /0x1FFF7800/01*048 e/0x1FFFF800/01*048 e",
	  "@OTP Memory   /0x1FFF7000/01*1024 e"},
	 "205939885533", 0, 0, 0, "G4", CHIP_CONF_LIKELY},
	{"L4 256K (data/dfu-list/mobilinkd-tnc3-12_...)",
	 {"@Internal Flash  /0x08000000/0128*0002Kg", "@Option Bytes  /0x1FFF7800/01*040 e",
	  "@OTP Memory /0x1FFF7000/01*0001Ke"},
	 "207E32823141", 0, 0, 256, "L4", CHIP_CONF_LIKELY},
	{"H750 (data/dfu-list/nuttx-weact-stm32h750_...)",
	 {"@Internal Flash   /0x08000000/16*128Kg", "@Option Bytes   /0x5200201C/01*128 e"},
	 "200000500000", 0, 0, 0, "H74x", CHIP_CONF_LIKELY},
	{"L0 192K (data/dfu-list/bigclown-notes_L0-192K-...)",
	 {"@Internal Flash  /0x08000000/1536*128g", "@Option Bytes  /0x1FF80000/01*032 e",
	  "@DATA Memory /0x08080000/2*3Ke"},
	 NULL, 0, 0, 0, "L0", CHIP_CONF_LIKELY},
	{"L100RC (data/dfu-list/openbttn_L100RC-256K_...)",
	 {"@Internal Flash  /0x08000000/1024*256 g", "@Option Bytes  /0x1FF80000/01*032 e"},
	 NULL, 0, 0, 0, "L1", CHIP_CONF_LIKELY},
	{"U585 (data/field/dfu-util-l_U585-U575_H7A3_256x8K-listings_...)",
	 {"@Internal Flash   /0x08000000/256*08Kg", "@Option Bytes   /0x40022040/01*64 e",
	  "@OTP Memory   /0x0BFA0000/01*512 e"},
	 "207136863530", 0, 0, 0, "U5", CHIP_CONF_LIKELY},
	{"G0C1 all alts the same (data/dfu-list/st-community_G0C1VET6_...)",
	 {"@Internal Flash /0x08000000/256*02Kg", "@Internal Flash /0x08000000/256*02Kg",
	  "@Internal Flash /0x08000000/256*02Kg"},
	 NULL, 0, 0, 0, "G0", CHIP_CONF_LIKELY},
	{"F74x + ID 0x90 (protocol.md §3.2, §6)",
	 {"@Internal Flash  /0x08000000/04*032Kg,01*128Kg,03*256Kg"}, "00000008FFFF", 1, 0x90, 1024, "F74x",
	 CHIP_CONF_CERTAIN},
	{"F76x (protocol.md §3.2 mboot string) + ID 0x93",
	 {"@Internal Flash  /0x08000000/04*032Kg,01*128Kg,07*256Kg"}, NULL, 1, 0x93, 1024, "F76x",
	 CHIP_CONF_CERTAIN},
	{"F72x (protocol.md §3.2 real dfu-util -l)",
	 {"@Internal Flash  /0x08000000/04*016Kg,01*64Kg,03*128Kg", "@Option Bytes  /0x1FFF0000/01*048 e",
	  "@OTP Memory /0x1FF07800/01*528e", "@Device Feature/0xFFFF0000/01*004 e"},
	 "STM32FxSTM32", 0, 0, 0, "F72x", CHIP_CONF_LIKELY},
};

static void test_identify(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(id_cases) / sizeof(id_cases[0]); i++) {
		const struct id_case *c = &id_cases[i];
		struct chip_evidence ev = {.usb_serial = c->serial, .has_bootloader_id = c->has_id != 0,
					   .bootloader_id = c->id, .has_flash_size = c->size_kb != 0,
					   .flash_size_kb = c->size_kb};
		for (size_t k = 0; k < 4 && c->alts[k]; k++)
			ev.alt_names[ev.n_alts++] = c->alts[k];
		struct chip_identity id;
		int rc = chip_identify(&ev, &id);
		if (rc != 0 || !id.family || strcmp(id.family->id, c->expect) != 0 || id.confidence != c->conf)
			fail_msg("%s: got %s (%s), reason: %s", c->what, id.family ? id.family->id : "none",
				 chip_confidence_name(id.confidence), id.reason);
		assert_true(strlen(id.reason) > 0);
		if (c->size_kb) {
			assert_int_equal(id.flash_size_source, CHIP_SIZE_REGISTER);
			assert_int_equal(id.flash_size, c->size_kb * 1024u);
		} else {
			assert_int_equal(id.flash_size_source, CHIP_SIZE_LAYOUT);
		}
	}
	/* F407VE: the layout says 1 MB, the register 512 KB (protocol.md §2.8) */
	struct chip_evidence ev = {.alt_names = {"@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg"},
				   .n_alts = 1};
	struct chip_identity id;
	assert_int_equal(chip_identify(&ev, &id), 0);
	assert_int_equal(id.layout_flash_size, 1024 * 1024);
	assert_int_equal(id.flash_size_source, CHIP_SIZE_LAYOUT);
	/* nothing known */
	struct chip_evidence none = {.alt_names = {"@SPI Flash /0x90000000/16*4Kg"}, .n_alts = 1};
	assert_int_not_equal(chip_identify(&none, &id), 0);
	assert_null(id.family);
	/* bootloader version text */
	char v[8];
	chip_bootloader_version(0x90, v, sizeof(v));
	assert_string_equal(v, "V9.0");
	ev.has_bootloader_id = true;
	ev.bootloader_id = 0x31;
	chip_identify(&ev, &id);
	assert_string_equal(id.family->id, "F40x");
	assert_string_equal(id.bootloader_version, "V3.1");
}

static void test_parse_alt(void **state)
{
	(void)state;
	struct chip_alt_info a;
	assert_true(chip_parse_alt("@Option Bytes   /0x1FFF7800/01*048 e/0x1FFFF800/01*048 e", &a));
	assert_string_equal(a.name, "Option Bytes");
	assert_int_equal(a.n_zones, 2);
	assert_int_equal(a.zones[1].addr, 0x1FFFF800);
	assert_int_equal(a.zones[0].total, 48);
	assert_true(chip_parse_alt("@OTP Memory /0x1FF07800/01*528e", &a));
	assert_int_equal(a.zones[0].total, 528);
	assert_true(chip_parse_alt("@Internal Flash  /0x08000000/0128*0002Kg", &a));
	assert_int_equal(a.zones[0].total, 256 * 1024);
	assert_false(chip_parse_alt("Internal Flash", &a));
	assert_false(chip_parse_alt("@x/0x0800/", &a));
	assert_false(chip_parse_alt("@x/zz/1*1K", &a));
	assert_false(chip_parse_alt(NULL, &a));
}

/* ---- serials: every UID/serial pair of shared/data/uid-serial ---- */
struct serial_case {
	const char *file;      /* the data file the pair comes from */
	const char *family;    /* NULL = unknown */
	int has_uid;
	uint32_t uid[3];       /* UID0 UID1 UID2 as printed */
	const char *serial;    /* as the ROM reports it */
	enum chip_serial_verdict verdict;
	enum chip_serial_quirk quirk;
};

static const struct serial_case serial_cases[] = {
	{"libopencm3-760_F2F4_F3_uid-to-dfu-serial.txt", "F40x", 1, {0x002d0030, 0x3334510b, 0x32313533},
	 "325e35633334", CHIP_SERIAL_MATCH_HAL, CHIP_SQ_NONE},
	{"libopencm3-760_F2F4_F3_uid-to-dfu-serial.txt", "F2", 1, {0x002d0030, 0x3334510b, 0x32313533},
	 "325E35633334", CHIP_SERIAL_MATCH_HAL, CHIP_SQ_NONE},
	{"libopencm3-760_F2F4_F3_uid-to-dfu-serial.txt", NULL, 1, {0x002d0030, 0x3334510b, 0x32313533},
	 "325E35633334", CHIP_SERIAL_MATCH_HAL, CHIP_SQ_NONE},
	{"st-community_U585_uid-to-dfu-serial_208B317A3331.txt", "U5", 1, {0x00580027, 0x3331500b, 0x20333153},
	 "208B317A3331", CHIP_SERIAL_MATCH_HAL, CHIP_SQ_NONE},
	{"rom-serial-anomalies_static-random-and-constant-serials.txt", "H74x", 1,
	 {0x00200032, 0x3438510E, 0x31373439}, "200364500000", CHIP_SERIAL_KNOWN_QUIRK, CHIP_SQ_H7_NOT_UID},
	{"rom-serial-anomalies_static-random-and-constant-serials.txt", "H74x", 0, {0}, "200000500000",
	 CHIP_SERIAL_KNOWN_QUIRK, CHIP_SQ_H7_NOT_UID},
	{"rom-serial-anomalies_static-random-and-constant-serials.txt", "F72x", 0, {0}, "STM32FxSTM32",
	 CHIP_SERIAL_KNOWN_QUIRK, CHIP_SQ_FXSTM32},
	{"rom-serial-anomalies_static-random-and-constant-serials.txt", "F446", 1,
	 {0x002d0030, 0x3334510b, 0x32313533}, "STM32FxSTM32", CHIP_SERIAL_KNOWN_QUIRK, CHIP_SQ_FXSTM32},
	{"rom-serial-anomalies_static-random-and-constant-serials.txt", NULL, 0, {0}, "STM32FxSTM32",
	 CHIP_SERIAL_KNOWN_QUIRK, CHIP_SQ_FXSTM32},
	{"rom-serial-anomalies_static-random-and-constant-serials.txt", "F0", 0, {0}, "FFFFFFFEFFFF",
	 CHIP_SERIAL_KNOWN_QUIRK, CHIP_SQ_F0_FFFF},
	{"rom-serial-anomalies_static-random-and-constant-serials.txt", "F1", 0, {0}, "STM32",
	 CHIP_SERIAL_KNOWN_QUIRK, CHIP_SQ_CONST_STM32},
	{"rom-serial-anomalies_static-random-and-constant-serials.txt", "F74x", 1,
	 {0x00360024, 0x34385114, 0x32353432}, "00000008FFFF", CHIP_SERIAL_KNOWN_QUIRK, CHIP_SQ_F7_00000008},
	{"rom-serial-anomalies_static-random-and-constant-serials.txt", "L4", 1,
	 {0x00360024, 0x34385114, 0x32353432}, "05FA03B042C5", CHIP_SERIAL_MISMATCH, CHIP_SQ_RANDOM},
	/* F765: the file gives serials only; the UID is DERIVED so that UID0+UID2 = 0x356F3453. */
	{"micropython-discussion-15948_F765_dfu-vs-app-serial.txt", "F76x", 1,
	 {0x0023001E, 0x34385112, 0x354C3435}, "356F345D3438", CHIP_SERIAL_KNOWN_QUIRK, CHIP_SQ_F76X_PLUS_0A},
	{"micropython-discussion-15948_F765_dfu-vs-app-serial.txt", "F76x", 1,
	 {0x0023001E, 0x34385112, 0x354C3435}, "356F34533438", CHIP_SERIAL_MATCH_HAL, CHIP_SQ_NONE},
	/* F401CE: ROM serial = MicroPython's; no UID published, so NO_UID; a DERIVED UID matches. */
	{"micropython-G30HDR_F401CE_rom-serial-equals-micropython-serial.txt", "F401", 0, {0}, "348E37423533",
	 CHIP_SERIAL_NO_UID, CHIP_SQ_NONE},
	{"micropython-G30HDR_F401CE_rom-serial-equals-micropython-serial.txt", "F401", 1,
	 {0x00400031, 0x3533510F, 0x344E3711}, "348E37423533", CHIP_SERIAL_MATCH_HAL, CHIP_SQ_NONE},
	/* a byte sum that carries: only the byte-wise (libopencm3) form matches (protocol.md §5.2) */
	{"(synthetic, protocol.md §5.2)", "F40x", 1, {0x000000FF, 0x12345678, 0x00000001}, "000000001234",
	 CHIP_SERIAL_MATCH_BYTEWISE, CHIP_SQ_NONE},
	{"(synthetic)", "F40x", 1, {0x002d0030, 0x3334510b, 0x32313533}, "325E35633335", CHIP_SERIAL_MISMATCH,
	 CHIP_SQ_NONE},
};

static void test_serial_pairs(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(serial_cases) / sizeof(serial_cases[0]); i++) {
		const struct serial_case *c = &serial_cases[i];
		uint8_t uid[12];
		chip_uid_from_words(c->uid[0], c->uid[1], c->uid[2], uid);
		struct chip_serial_result r;
		chip_serial_check(c->family ? fam(c->family) : NULL, c->serial, c->has_uid ? uid : NULL, &r);
		if (r.verdict != c->verdict || r.quirk != c->quirk)
			fail_msg("case %zu (%s, %s): verdict %s quirk %d (%s)", i, c->file, c->serial,
				 chip_serial_verdict_name(r.verdict), (int)r.quirk, r.explanation);
		assert_non_null(r.explanation);
		if (r.verdict != CHIP_SERIAL_MATCH_HAL)
			assert_true(strlen(r.explanation) > 10);
	}
}

/* The cited files exist and hold the serials the table uses. */
static void test_serial_sources(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(serial_cases) / sizeof(serial_cases[0]); i++) {
		const struct serial_case *c = &serial_cases[i];
		if (c->file[0] == '(' || c->uid[0] == 0x0023001E || c->uid[0] == 0x00400031 ||
		    c->uid[0] == 0x00360024)
			continue; /* synthetic or DERIVED UIDs */
		char path[512], buf[8192];
		snprintf(path, sizeof(path), "%s/uid-serial/%s", SHARED_DATA_DIR, c->file);
		FILE *f = fopen(path, "rb");
		if (!f) {
			skip();
			return;
		}
		size_t n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n] = 0;
		char upper[8192];
		for (size_t k = 0; k <= n; k++)
			upper[k] = (char)((buf[k] >= 'a' && buf[k] <= 'z') ? buf[k] - 32 : buf[k]);
		char want[32];
		snprintf(want, sizeof(want), "%s", c->serial);
		for (char *p = want; *p; p++)
			if (*p >= 'a' && *p <= 'z')
				*p = (char)(*p - 32);
		if (!strstr(upper, want))
			fail_msg("%s does not contain %s", c->file, c->serial);
	}
}

static void test_serial_compute(void **state)
{
	(void)state;
	uint8_t uid[12];
	struct chip_serials s;
	/* locm3 #760 F3 example: no serial published; the F3 rule gives this (DERIVED) */
	chip_uid_from_words(0x003b0041, 0x50335706, 0x20333333, uid);
	chip_serial_compute(fam("F3"), uid, &s);
	assert_string_equal(s.hal, "206E33742033");
	chip_serial_compute(NULL, uid, &s);
	assert_string_equal(s.hal, "206E33745033");
	/* F0: the F3 rule over all-0xFF words is FFFFFFFEFFFF (protocol.md §5.2, DERIVED) */
	memset(uid, 0xFF, sizeof(uid));
	chip_serial_compute(fam("F0"), uid, &s);
	assert_string_equal(s.hal, "FFFFFFFEFFFF");
	/* H745 HAL serial 3157346B3438 (data/uid-serial/rom-serial-anomalies_...; protocol.md §5.2) */
	chip_uid_from_words(0x00200032, 0x3438510E, 0x31373439, uid);
	chip_serial_compute(fam("H74x"), uid, &s);
	assert_string_equal(s.hal, "3157346B3438");
	assert_string_equal(s.bytewise, "3157346B3438");
	/* carry: MicroPython prints 3 digits, libopencm3 truncates */
	chip_uid_from_words(0x000000FF, 0x12345678, 0x00000001, uid);
	chip_serial_compute(fam("F40x"), uid, &s);
	assert_string_equal(s.hal, "000001001234");
	assert_string_equal(s.bytewise, "000000001234");
	assert_string_equal(s.bytewise_mp, "0000001001234");
	/* UID0+UID2 = 0: the HAL keeps its default string */
	chip_uid_from_words(0x1, 0, 0xFFFFFFFF, uid);
	chip_serial_compute(NULL, uid, &s);
	assert_false(s.hal_valid);
}

static void test_selector(void **state)
{
	(void)state;
	struct chip_selector sel;
	uint8_t uid[12];
	chip_uid_from_words(0x002d0030, 0x3334510b, 0x32313533, uid);
	assert_true(chip_serial_parse_selector("002d0030 3334510b 32313533", &sel));
	assert_int_equal(sel.kind, CHIP_SEL_UID);
	assert_memory_equal(sel.uid, uid, 12);
	assert_true(chip_selector_matches(&sel, "whatever", uid));
	assert_false(chip_selector_matches(&sel, "325E35633334", NULL));
	assert_true(chip_serial_parse_selector("002D00303334510B32313533", &sel));
	assert_int_equal(sel.kind, CHIP_SEL_UID);
	assert_true(chip_serial_parse_selector("325e35633334", &sel));
	assert_int_equal(sel.kind, CHIP_SEL_USB_SERIAL);
	assert_true(chip_selector_matches(&sel, "325E35633334", NULL));
	assert_false(chip_selector_matches(&sel, "STM32", NULL));
	assert_true(chip_serial_parse_selector("STM32FxSTM32", &sel));
	assert_int_equal(sel.kind, CHIP_SEL_USB_SERIAL);
	/* 25 hex digits: not a UID */
	assert_true(chip_serial_parse_selector("002d0030 3334510b 325315331", &sel));
	assert_int_equal(sel.kind, CHIP_SEL_USB_SERIAL);
	assert_false(chip_serial_parse_selector("", &sel));
	assert_false(chip_serial_parse_selector(NULL, &sel));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),        cmocka_unit_test(test_parse_alt),
		cmocka_unit_test(test_identify),     cmocka_unit_test(test_serial_compute),
		cmocka_unit_test(test_serial_pairs), cmocka_unit_test(test_serial_sources),
		cmocka_unit_test(test_selector),
	};
	int rc = cmocka_run_group_tests_name("chip", tests, NULL, NULL);
	return rc + chip_ob_run_tests() + chip_families_run_tests();
}
