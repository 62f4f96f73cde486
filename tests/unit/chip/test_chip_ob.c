/* Unit tests of the option-byte engine: round trips, F7 defaults, set, diff, guards, complements. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "chip/ob.h"
#include "core/rd.h"

int chip_ob_run_tests(void);

static const struct chip_family *fam(const char *id)
{
	const struct chip_family *f = chip_family_by_id(id);
	assert_non_null(f);
	return f;
}

static uint32_t field(const struct ob_decoded *d, const char *name)
{
	for (size_t i = 0; i < d->n_fields; i++)
		if (strcmp(d->fields[i].field->name, name) == 0) {
			assert_true(d->fields[i].present);
			return d->fields[i].value;
		}
	fail_msg("no field %s", name);
	return 0;
}

/* decode(default block) == defaults, and re-encoding every field gives the same bytes, per family. */
static void test_round_trip_all(void **state)
{
	(void)state;
	size_t families = 0;
	for (const struct chip_family *f = chip_families; f->id; f++) {
		if (!f->ob)
			continue;
		families++;
		uint8_t block[512], again[512];
		size_t len;
		struct ob_decoded d;
		assert_int_equal(ob_default_block(f, block, sizeof(block), &len), 0);
		assert_int_equal(len, f->ob->size);
		assert_int_equal(ob_decode(f, block, len, &d, NULL), 0);
		assert_int_equal(d.complement_errors, 0);
		assert_int_equal(d.rdp_level, 0);
		for (size_t i = 0; i < d.n_fields; i++) {
			if (!d.fields[i].present || !d.fields[i].is_default)
				fail_msg("%s: %s = 0x%X, default 0x%X", f->id, d.fields[i].field->name,
					 (unsigned)d.fields[i].value, (unsigned)d.fields[i].field->def);
			assert_true(d.fields[i].meaning[0] != 0);
		}
		memset(again, 0x5A, sizeof(again));
		memcpy(again, block, len);
		for (size_t i = 0; i < d.n_fields; i++)
			assert_int_equal(ob_encode_field(f, again, len, d.fields[i].field, d.fields[i].value, NULL), 0);
		assert_memory_equal(again, block, len);
		/* no-op set keeps the block; guard needs nothing */
		if (f->ob->writable) {
			const char *none[] = {"RDP=level0"};
			assert_int_equal(ob_set(f, block, len, none, 1, again, NULL), 0);
			assert_memory_equal(again, block, len);
			unsigned req = 99;
			assert_int_equal(ob_guard(f, block, again, len, 0, &req, NULL), 0);
			assert_int_equal(req, 0);
		}
	}
	assert_true(families >= 14);
}

/* protocol.md §7.2: the F7 default words as printed, value in the low 16 bits. */
static void test_f7_defaults(void **state)
{
	(void)state;
	uint8_t b[32];
	size_t len;
	assert_int_equal(ob_default_block(fam("F74x"), b, sizeof(b), &len), 0);
	assert_int_equal(get_le32(b + 0x00), 0x5500AAFF);
	assert_int_equal(get_le32(b + 0x08), 0x0000FFFF);
	assert_int_equal(get_le32(b + 0x10), 0xFF7F0080);
	assert_int_equal(get_le32(b + 0x18), 0xFFBF0040);
	struct ob_decoded d;
	assert_int_equal(ob_decode(fam("F74x"), b, len, &d, NULL), 0);
	assert_int_equal(field(&d, "BOR_LEV"), 3);
	assert_int_equal(field(&d, "RDP"), 0xAA);
	assert_int_equal(field(&d, "nWRP"), 0xFF);
	assert_int_equal(field(&d, "BOOT_ADD0"), 0x0080);
	assert_int_equal(field(&d, "BOOT_ADD1"), 0x0040);
	assert_int_equal(field(&d, "IWDG_STOP"), 1);
}

/* OBSERVED F767 dump with nDBANK = 0 (protocol.md §7.2). */
static void test_f767_dump(void **state)
{
	(void)state;
	uint8_t b[32];
	memset(b, 0xFF, sizeof(b));
	put_le32(b + 0x00, 0x5500aaff);
	put_le32(b + 0x08, 0x2000dfff);
	put_le32(b + 0x10, 0xff7f0080);
	put_le32(b + 0x18, 0xffbf0040);
	struct ob_decoded d;
	assert_int_equal(ob_decode(fam("F76x"), b, 32, &d, NULL), 0);
	assert_int_equal(d.complement_errors, 0);
	assert_int_equal(field(&d, "nDBANK"), 0);
	assert_int_equal(field(&d, "nDBOOT"), 1);
	assert_int_equal(field(&d, "nWRP"), 0xFFF);
}

/* The all-zero F746 block from BMP issue #237: every complement mismatches and it is reported. */
static void test_f746_all_zero(void **state)
{
	(void)state;
	uint8_t z[32] = {0};
	struct ob_decoded d;
	assert_int_equal(ob_decode(fam("F74x"), z, 32, &d, NULL), 0);
	assert_int_equal(d.complement_errors, 4);
	for (size_t i = 0; i < d.n_words; i++)
		assert_false(d.words[i].ok);
	assert_int_equal(d.rdp_level, 1); /* RDP 0x00 reads as level 1 */
	/* a set rebuilds all complements and ob_diff says so */
	const char *a[] = {"RDP=level0"};
	uint8_t n[32];
	assert_int_equal(ob_set(fam("F74x"), z, 32, a, 1, n, NULL), 0);
	assert_int_equal(ob_decode(fam("F74x"), n, 32, &d, NULL), 0);
	assert_int_equal(d.complement_errors, 0);
	struct ob_diff diff;
	ob_diff(fam("F74x"), z, n, 32, &diff);
	assert_int_equal(diff.complements_repaired, 4);
	assert_int_equal(diff.n, 1);
	assert_string_equal(diff.changes[0].field->name, "RDP");
	/* and going from "level 1" (0x00) to 0 is the regression that erases */
	struct err e;
	err_clear(&e);
	assert_int_equal(ob_guard(fam("F74x"), z, n, 32, 0, NULL, &e), STM32DFU_E_NEEDS_CONFIRMATION);
	assert_non_null(strstr(e.hint, ob_confirm_flag(OB_CONFIRM_RDP_REGRESSION)));
}

static void test_set_values(void **state)
{
	(void)state;
	const struct chip_family *f = fam("F74x");
	uint8_t b[32], n[32];
	struct ob_decoded d;
	struct err e;
	ob_default_block(f, b, sizeof(b), NULL);
	const char *a[] = {"BOR_LEV=level1", "IWDG_SW=hw", "BOOT_ADD0=flash-axim", "nWRP7=0", "RDP=0xAA"};
	assert_int_equal(ob_set(f, b, 32, a, 5, n, NULL), 0);
	assert_int_equal(ob_decode(f, n, 32, &d, NULL), 0);
	assert_int_equal(field(&d, "BOR_LEV"), 2);
	assert_int_equal(field(&d, "IWDG_SW"), 0);
	assert_int_equal(field(&d, "BOOT_ADD0"), 0x2000);
	assert_int_equal(field(&d, "nWRP"), 0x7F);
	assert_int_equal(d.complement_errors, 0);
	struct ob_diff diff;
	ob_diff(f, b, n, 32, &diff);
	assert_int_equal(diff.n, 4);
	/* a number is the raw field value, decimal or hex alike (issue 15): BOR_LEV 2 = level 1 */
	const char *dec[] = {"BOR_LEV=2"}, *hex[] = {"BOR_LEV=0x2"};
	uint8_t n2[32];
	assert_int_equal(ob_set(f, b, 32, dec, 1, n, NULL), 0);
	assert_int_equal(ob_set(f, b, 32, hex, 1, n2, NULL), 0);
	assert_memory_equal(n, n2, 32);
	ob_decode(f, n, 32, &d, NULL);
	assert_int_equal(field(&d, "BOR_LEV"), 2);
	/* full address form */
	const char *addr[] = {"BOOT_ADD0=0x08000000"};
	assert_int_equal(ob_set(f, b, 32, addr, 1, n, NULL), 0);
	ob_decode(f, n, 32, &d, NULL);
	assert_int_equal(field(&d, "BOOT_ADD0"), 0x2000);
	/* errors */
	static const char *const bad[] = {"FOO=1", "BOR_LEV=7", "RDP=zz", "RDP=1", "RDP=AA", "BOR_LEV=level4", "nWRP8=0", "IWDG_SW", "=1",
					  "BOOT_ADD0=0x08001000", "nWRP=0x1FF", "WWDG_SW=-1"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err_clear(&e);
		if (ob_set(f, b, 32, &bad[i], 1, n, &e) != STM32DFU_E_USAGE)
			fail_msg("'%s' accepted", bad[i]);
		assert_true(e.msg[0] != 0);
	}
	/* F1 has no RDP level 2; H7 is decode-only */
	const char *r2[] = {"RDP=level2"};
	uint8_t f1[16];
	ob_default_block(fam("F1"), f1, sizeof(f1), NULL);
	assert_int_equal(ob_set(fam("F1"), f1, 16, r2, 1, f1, NULL), STM32DFU_E_USAGE);
	uint8_t h7[128];
	ob_default_block(fam("H74x"), h7, sizeof(h7), NULL);
	assert_int_equal(ob_set(fam("H74x"), h7, 128, r2, 1, h7, NULL), STM32DFU_E_UNSUPPORTED);
	/* no table (every family has one now; an unknown chip has none) */
	struct ob_decoded dd;
	assert_int_equal(ob_decode(NULL, h7, 16, &dd, NULL), STM32DFU_E_UNSUPPORTED);
	assert_int_equal(ob_decode(f, b, 8, &dd, NULL), STM32DFU_E_RANGE);
}

struct guard_case {
	const char *family;
	const char *assign;
	unsigned need;
};

static const struct guard_case guard_cases[] = {
	{"F74x", "RDP=level2", OB_CONFIRM_RDP2},
	{"F74x", "RDP=0xCC", OB_CONFIRM_RDP2},
	{"F74x", "RDP=level1", OB_CONFIRM_RDP1},
	{"F74x", "RDP=0x55", OB_CONFIRM_RDP1},
	{"F74x", "nWRP0=0", OB_CONFIRM_WRP_BOOT},
	{"F74x", "nWRP5=0", 0},
	{"F74x", "BOOT_ADD1=flash", OB_CONFIRM_NO_BOOTLOADER},
	{"F74x", "BOOT_ADD0=sysmem", 0},
	{"F74x", "BOR_LEV=1", 0},
	{"F76x", "nDBOOT=0", 0},
	{"F76x", "nDBANK=0", 0},
	{"F4", NULL, 0},
	{"F40x", "RDP=level2", OB_CONFIRM_RDP2},
	{"F40x", "nWRP0=0", OB_CONFIRM_WRP_BOOT},
	{"F40x", "nWRP=0xFFE", OB_CONFIRM_WRP_BOOT},
	{"F0", "WRP0=0xFE", OB_CONFIRM_WRP_BOOT},
	{"F0", "BOOT_SEL=option", OB_CONFIRM_NO_BOOTLOADER},
	{"F3", "nBOOT1=0", OB_CONFIRM_NO_BOOTLOADER},
	{"L4", "WRP1A_STRT=0", OB_CONFIRM_WRP_BOOT},
	/* L0/L1 WRP bits are active high (RM0367 §3.4.1, RM0038): bit 0 = 1 guards sector 0, the boot sector */
	{"L0", "WRP1L=0x1", OB_CONFIRM_WRP_BOOT},
	{"L0", "WRP1L=0x2", 0},
	{"L1", "WRP01=0x1", OB_CONFIRM_WRP_BOOT},
	{"L1", "WRP01=0x8000", 0},
	{"L4", "WRP1A_STRT=4", 0},
	{"L4", "nSWBOOT0=option", OB_CONFIRM_NO_BOOTLOADER},
	{"L4", "RDP=level2", OB_CONFIRM_RDP2},
	{"G4", "nSWBOOT0=0", OB_CONFIRM_NO_BOOTLOADER},
	{"G0", "nBOOT0=0", 0},
	/* G0 default: nBOOT_SEL = 1 and nBOOT0 = 1, so only the empty-flash check reaches the ROM;
	 * the guard compares with the old block, which already had no pin path. */
	{"G0", "nBOOT1=0", 0},
	{"G0", "nBOOT_SEL=pin", 0},
	{"G0", "BOREN=1", 0},
};

static void test_guards(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(guard_cases) / sizeof(guard_cases[0]); i++) {
		const struct guard_case *c = &guard_cases[i];
		const struct chip_family *f = chip_family_by_id(c->family);
		if (!f || !c->assign)
			continue;
		uint8_t b[128], n[128];
		size_t len;
		unsigned req;
		struct err e;
		ob_default_block(f, b, sizeof(b), &len);
		assert_int_equal(ob_set(f, b, len, &c->assign, 1, n, NULL), 0);
		err_clear(&e);
		int rc = ob_guard(f, b, n, len, 0, &req, &e);
		if (req != c->need)
			fail_msg("%s %s: required 0x%X, want 0x%X", c->family, c->assign, req, c->need);
		if (c->need) {
			assert_int_equal(rc, STM32DFU_E_NEEDS_CONFIRMATION);
			assert_non_null(strstr(e.hint, ob_confirm_flag(c->need)));
			assert_int_equal(ob_guard(f, b, n, len, c->need, NULL, NULL), 0);
		} else {
			assert_int_equal(rc, 0);
		}
	}
	/* F76x: dual boot in dual-bank mode counts as no sure path (Pattern 9, UNCONFIRMED) */
	const struct chip_family *f = fam("F76x");
	uint8_t b[32], n[32];
	const char *both[] = {"nDBOOT=0", "nDBANK=0"};
	ob_default_block(f, b, sizeof(b), NULL);
	assert_int_equal(ob_set(f, b, 32, both, 2, n, NULL), 0);
	unsigned req;
	assert_int_equal(ob_guard(f, b, n, 32, 0, &req, NULL), STM32DFU_E_NEEDS_CONFIRMATION);
	assert_int_equal(req, OB_CONFIRM_NO_BOOTLOADER);
	/* boot from flash-axim with sector 0 protected is still sector 0; booting from RAM protects nothing */
	const char *ram[] = {"BOOT_ADD0=dtcm", "nWRP0=0"};
	ob_default_block(fam("F74x"), b, sizeof(b), NULL);
	assert_int_equal(ob_set(fam("F74x"), b, 32, ram, 2, n, NULL), 0);
	assert_int_equal(ob_guard(fam("F74x"), b, n, 32, 0, &req, NULL), 0);
	/* several risks at once: all reported in *required */
	const char *many[] = {"RDP=level2", "nWRP0=0", "BOOT_ADD1=flash"};
	assert_int_equal(ob_set(fam("F74x"), b, 32, many, 3, n, NULL), 0);
	assert_int_equal(ob_guard(fam("F74x"), b, n, 32, OB_CONFIRM_RDP2, &req, NULL),
			 STM32DFU_E_NEEDS_CONFIRMATION);
	assert_int_equal(req, OB_CONFIRM_RDP2 | OB_CONFIRM_WRP_BOOT | OB_CONFIRM_NO_BOOTLOADER);
	for (unsigned bit = 1; bit <= OB_CONFIRM_RDP_REGRESSION; bit <<= 1)
		assert_true(strncmp(ob_confirm_flag(bit), "--i-understand-", 15) == 0);
}

/* Short blocks: G4 with only the bank-1 zone decodes what it covers. */
static void test_short_block(void **state)
{
	(void)state;
	uint8_t b[96];
	size_t len;
	struct ob_decoded d;
	ob_default_block(fam("G4"), b, sizeof(b), &len);
	assert_int_equal(len, 96);
	assert_int_equal(ob_decode(fam("G4"), b, 48, &d, NULL), 0);
	assert_true(d.short_block);
	for (size_t i = 0; i < d.n_fields; i++)
		if (strncmp(d.fields[i].field->name, "WRP2", 4) == 0)
			assert_false(d.fields[i].present);
	/* an L4 block from a real default (OPTR 0xFFEFF8AA): BOR level 0, RDP AA */
	assert_int_equal(ob_decode(fam("L4"), b, 40, &d, NULL), 0);
	assert_int_equal(field(&d, "RDP"), 0xAA);
}

/* Every named value `ob show` offers (ob_named_values) is a word ob_set takes, and it sets the field
 * to the value the list gives, on every writable family; RDP offers level2 only where the family
 * has a level 2 (F1 has none: its RDP is 0xA5 or not, RM0008 2.5). */
static void test_named_values_are_accepted(void **state)
{
	(void)state;
	size_t checked = 0;
	for (const struct chip_family *f = chip_families; f->id; f++) {
		if (!f->ob || !f->ob->writable)
			continue;
		uint8_t block[512], out[512];
		size_t len;
		assert_int_equal(ob_default_block(f, block, sizeof(block), &len), 0);
		for (size_t i = 0; i < f->ob->n_fields; i++) {
			const struct ob_field *fd = &f->ob->fields[i];
			struct ob_named nv[16];
			size_t n = ob_named_values(f->ob, fd, nv, 16);
			if (fd->kind == OB_K_RDP) {
				assert_int_equal(n, f->ob->has_rdp2 ? 3 : 2);
				assert_string_equal(nv[0].word, "level0");
				assert_int_equal(nv[0].value, f->ob->rdp_level0);
			}
			for (size_t k = 0; k < n; k++) {
				char a[96];
				snprintf(a, sizeof a, "%s=%.31s", fd->name, nv[k].word);
				const char *as[] = {a};
				struct ob_decoded d;
				if (ob_set(f, block, len, as, 1, out, NULL) != 0)
					fail_msg("%s: %s refused", f->id, a);
				assert_int_equal(ob_decode(f, out, len, &d, NULL), 0);
				assert_int_equal(field(&d, fd->name), nv[k].value);
				assert_string_equal(d.fields[i].meaning, nv[k].meaning);
				checked++;
			}
		}
	}
	const struct chip_family *f1 = fam("F1");
	struct ob_named nv[16];
	assert_int_equal(ob_named_values(f1->ob, ob_field_by_name(f1->ob, "RDP"), nv, 16), 2);
	assert_int_equal(nv[0].value, 0xA5);
	assert_true(checked > 50);
}


/* ---- what each value means (issue 24 item 5): facts from the reference manuals, not our output ---- */

/* The meaning `ob show` prints for field name = value on family fid, the rest of the block factory;
 * name2 = value2 (if name2) is set too, for fields read as a pair (WRP area start/end). */
static const char *meaning_of(const char *fid, const char *name, uint32_t value, const char *name2, uint32_t value2)
{
	static char out[96];
	const struct chip_family *f = fam(fid);
	uint8_t block[512];
	size_t len;
	struct ob_decoded d;
	assert_int_equal(ob_default_block(f, block, sizeof block, &len), 0);
	const struct ob_field *fd = ob_field_by_name(f->ob, name);
	if (!fd)
		fail_msg("%s: no field %s", fid, name);
	assert_int_equal(ob_encode_field(f, block, len, fd, value, NULL), 0);
	if (name2) {
		const struct ob_field *f2 = ob_field_by_name(f->ob, name2);
		assert_non_null(f2);
		assert_int_equal(ob_encode_field(f, block, len, f2, value2, NULL), 0);
	}
	assert_int_equal(ob_decode(f, block, len, &d, NULL), 0);
	for (size_t i = 0; i < d.n_fields; i++)
		if (d.fields[i].field == fd) {
			assert_int_equal(d.fields[i].value, value);
			snprintf(out, sizeof out, "%s", d.fields[i].meaning);
			return out;
		}
	fail_msg("%s: %s not decoded", fid, name);
	return NULL;
}

static bool bare_number(const char *s)
{
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	if (!*s)
		return true;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'A' && *s <= 'F') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

/* Every field of every family says what its value means: never the bare number, and a one-bit field's
 * two values never read the same. Checked on the factory value and on its opposite (or, for a wider
 * field, on 0, 1 and the all-ones value). */
static void test_every_field_has_a_meaning(void **state)
{
	(void)state;
	size_t checked = 0;
	for (const struct chip_family *f = chip_families; f->id; f++) {
		if (!f->ob)
			continue;
		for (size_t i = 0; i < f->ob->n_fields; i++) {
			const struct ob_field *fd = &f->ob->fields[i];
			uint32_t mask = fd->width >= 32 ? 0xFFFFFFFFu : (1u << fd->width) - 1u;
			uint32_t vals[4] = {fd->def, fd->def ^ 1u, 0, mask};
			char first[96] = "";
			for (unsigned k = 0; k < (fd->width == 1 ? 2u : 4u); k++) {
				const char *m = meaning_of(f->id, fd->name, vals[k] & mask, NULL, 0);
				if (!m[0] || bare_number(m) || strstr(m, "no meaning"))
					fail_msg("%s %s=0x%X means only \"%s\"", f->id, fd->name, (unsigned)(vals[k] & mask), m);
				if (fd->width == 1 && k == 0)
					snprintf(first, sizeof first, "%s", m);
				else if (fd->width == 1 && strcmp(first, m) == 0)
					fail_msg("%s %s: 0 and 1 both read \"%s\"", f->id, fd->name, m);
				checked++;
			}
		}
	}
	assert_true(checked > 500);
}

struct manual_fact {
	const char *family, *field;
	uint32_t value;
	const char *field2;
	uint32_t value2;
	const char *says;   /* the manual's words or figure the meaning must carry */
	const char *source;
};

/* Values and thresholds as the manuals give them. */
static const struct manual_fact manual_facts[] = {
	/* RM0090 §3.6.1 / RM0410 §3.4.1 BOR_LEV: 00 = level 3 (2.70-3.60 V) ... 11 = off (1.62-2.10 V) */
	{"F446", "BOR_LEV", 0, NULL, 0, "2.70-3.60 V", "RM0390 §3.6.1"},
	{"F74x", "BOR_LEV", 3, NULL, 0, "1.62-2.10 V", "RM0385 §3.4.1"},
	{"F74x", "BOR_LEV", 2, NULL, 0, "2.10-2.40 V", "RM0385 §3.4.1"},
	/* the low-power reset bits name their mode */
	{"F74x", "nRST_STOP", 0, NULL, 0, "Stop", "RM0385 §3.4.1"},
	{"F74x", "nRST_STDBY", 0, NULL, 0, "Standby", "RM0385 §3.4.1"},
	{"L4", "nRST_SHDW", 0, NULL, 0, "Shutdown", "RM0351 §3.7.8"},
	{"F74x", "IWDG_SW", 0, NULL, 0, "hardware independent watchdog", "RM0385 §3.4.1"},
	{"F74x", "WWDG_SW", 0, NULL, 0, "hardware window watchdog", "RM0385 §3.4.1"},
	{"F74x", "IWDG_STOP", 0, NULL, 0, "frozen in Stop", "RM0385 §3.4.1"},
	{"F74x", "IWDG_STDBY", 1, NULL, 0, "running in Standby", "RM0385 §3.4.1"},
	{"F74x", "BOOT_ADD0", 0x0080, NULL, 0, "0x00200000", "RM0385 §2.4"},
	/* RM0351 §3.7.8 FLASH_OPTR BOR_LEV: level 0 ~1.7 V .. level 4 ~2.8 V */
	{"L4", "BOR_LEV", 0, NULL, 0, "1.7 V", "RM0351 §3.7.8"},
	{"L4", "BOR_LEV", 4, NULL, 0, "2.8 V", "RM0351 §3.7.8"},
	{"L4", "SRAM2_RST", 0, NULL, 0, "erased", "RM0351 §3.7.8"},
	{"L4", "SRAM2_PE", 0, NULL, 0, "parity check enabled", "RM0351 §3.7.8"},
	{"L4", "nBOOT1", 0, NULL, 0, "SRAM", "RM0351 §2.6"},
	{"L4", "nBOOT1", 1, NULL, 0, "system memory", "RM0351 §2.6"},
	{"L4", "DUALBANK", 0, NULL, 0, "single bank", "RM0351 §3.7.8"},
	{"L4", "PCROP_RDP", 1, NULL, 0, "erased", "RM0351 §3.7.10"},
	/* WRP area: pages START..END protected, none when START > END (RM0351 §3.5.2) */
	{"L4", "WRP1A_STRT", 2, "WRP1A_END", 5, "pages 2-5", "RM0351 §3.5.2"},
	{"L4", "WRP1A_STRT", 0xFF, "WRP1A_END", 0, "no", "RM0351 §3.5.2"},
	{"L4", "PCROP1_STRT", 0x10, "PCROP1_END", 0x1F, "0x08000080", "RM0351 §3.7.9 (double-word offset)"},
	/* RM0444 §3.7.8 FLASH_OPTR: BORF_LEV 00 ~2.0 V .. 11 ~2.8 V; BORR_LEV 00 ~2.1 V .. 11 ~2.9 V */
	{"G0", "BORF_LEV", 0, NULL, 0, "2.0 V", "RM0444 §3.7.8"},
	{"G0", "BORF_LEV", 3, NULL, 0, "2.8 V", "RM0444 §3.7.8"},
	{"G0", "BORR_LEV", 0, NULL, 0, "2.1 V", "RM0444 §3.7.8"},
	{"G0", "BORR_LEV", 3, NULL, 0, "2.9 V", "RM0444 §3.7.8"},
	{"G0", "BOREN", 0, NULL, 0, "POR/PDR", "RM0444 §3.7.8"},
	{"G0", "IRHEN", 1, NULL, 0, "NRST", "RM0444 §3.7.8"},
	{"G0", "RAM_PARITY_CHECK", 1, NULL, 0, "disabled", "RM0444 §3.7.8"},
	{"G4", "BOOT_LOCK", 1, NULL, 0, "main flash", "RM0440 §3.7.16"},
	{"G4", "DBANK", 0, NULL, 0, "single bank", "RM0440 §3.7.8"},
	{"G4", "CCMSRAM_RST", 0, NULL, 0, "erased", "RM0440 §3.7.8"},
	/* RM0367 §3.7.? / HAL-L0 OB_BOR_LEVELx: level 4 = 2.55-2.65 V; 0x0-0x7 = BOR off */
	{"L0", "BOR_LEV", 0xB, NULL, 0, "2.55-2.65 V", "RM0367 FLASH_OPTR; HAL-L0 OB_BOR_LEVEL4"},
	{"L0", "BOR_LEV", 0x3, NULL, 0, "BOR off", "RM0367 FLASH_OPTR"},
	{"L1", "BOR_LEV", 0xC, NULL, 0, "2.8-2.9 V", "RM0038 FLASH_OBR; HAL-L1 OB_BOR_LEVEL5"},
	{"L0", "WRP1L", 0x0003, NULL, 0, "0 1", "RM0367 §3.4.1 (WRP bit = 1 protects)"},
	/* RM0091 §4.1 USER byte (F0) */
	{"F0", "VDDA_MONITOR", 0, NULL, 0, "disabled", "RM0091 §4.1"},
	{"F0", "RAM_PARITY_CHECK", 0, NULL, 0, "enabled", "RM0091 §4.1"},
	{"F0", "nBOOT0", 1, NULL, 0, "main flash", "RM0091 §2.5"},
	{"F0", "DATA0", 0x5A, NULL, 0, "0x5A", "RM0091 §4.1"},
	/* RM0433 §4.9.7 FLASH_OPTSR: ST_RAM_SIZE 10 = 8 Kbytes; SWAP_BANK_OPT */
	{"H74x", "ST_RAM_SIZE", 2, NULL, 0, "8 KiB", "RM0433 §4.9.7"},
	{"H74x", "SWAP_BANK_OPT", 1, NULL, 0, "swapped", "RM0433 §4.9.7"},
	{"H74x", "NRST_STOP_D1", 0, NULL, 0, "DStop", "RM0433 §4.9.7"},
	/* RM0456 §7.9.16 NSBOOTADD: address[31:7]; 0x0BF90000 = the bootloader */
	{"U5", "NSBOOTADD1", 0x017F200, NULL, 0, "0x0BF90000", "RM0456 §7.9.16"},
	{"U5", "TZEN", 1, NULL, 0, "TrustZone enabled", "RM0456 §7.9.15"},
	{"F42x", "DB1M", 1, NULL, 0, "dual bank", "RM0090 §3.6.1"},
	{"F42x", "BFB2", 1, NULL, 0, "bank 2", "RM0090 §3.6.1"},
};

static void test_meanings_match_the_manuals(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof manual_facts / sizeof manual_facts[0]; i++) {
		const struct manual_fact *m = &manual_facts[i];
		const char *got = meaning_of(m->family, m->field, m->value, m->field2, m->value2);
		if (!strstr(got, m->says))
			fail_msg("%s %s=0x%X: \"%s\" lacks \"%s\" (%s)", m->family, m->field, (unsigned)m->value, got, m->says,
			         m->source);
	}
}

int chip_ob_run_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_all), cmocka_unit_test(test_f7_defaults),
		cmocka_unit_test(test_f767_dump),      cmocka_unit_test(test_f746_all_zero),
		cmocka_unit_test(test_set_values),     cmocka_unit_test(test_guards),
		cmocka_unit_test(test_short_block),    cmocka_unit_test(test_named_values_are_accepted),
		cmocka_unit_test(test_every_field_has_a_meaning), cmocka_unit_test(test_meanings_match_the_manuals),
	};
	return cmocka_run_group_tests_name("chip_ob", tests, NULL, NULL);
}
