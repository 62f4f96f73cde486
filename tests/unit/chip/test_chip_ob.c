/* Unit tests of the option-byte engine: round trips, F7 defaults, set, diff, guards, complements. */
#include <setjmp.h>
#include <stdarg.h>
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

int chip_ob_run_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_all), cmocka_unit_test(test_f7_defaults),
		cmocka_unit_test(test_f767_dump),      cmocka_unit_test(test_f746_all_zero),
		cmocka_unit_test(test_set_values),     cmocka_unit_test(test_guards),
		cmocka_unit_test(test_short_block),    cmocka_unit_test(test_named_values_are_accepted),
	};
	return cmocka_run_group_tests_name("chip_ob", tests, NULL, NULL);
}
