/*
 * The option-byte records of the public API (stm32dfu_ob_read_ex, stm32dfu_ob_set_ex), through the
 * shared library only, against the emulator and against the reference manuals' facts:
 * F746 (RM0385 3.4.1 FLASH_OPTCR/OPTCR1): BOR_LEV is OPTCR[3:2], 0b11 (BOR off) from the factory;
 * RDP 0xAA is level 0; BOOT_ADD0 0x0080 boots from flash via ITCM (0x00200000), BOOT_ADD1 0x0040
 * from system memory (0x00100000); the DFU image stores each 16-bit half with its complement.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <stm32dfu/stm32dfu.h>

#include "../state_dir.h"

static struct stm32dfu_session *open_profile(const char *sim, uint16_t vid, uint16_t pid)
{
	struct stm32dfu_match m = {0};
	m.sim = sim;
	m.vid = vid;
	m.pid = pid;
	struct stm32dfu_session *s = NULL;
	int rc = stm32dfu_open(&m, &s);
	if (rc)
		fprintf(stderr, "open %s: %s\n", sim, stm32dfu_last_error(NULL).message);
	assert_int_equal(rc, 0);
	return s;
}

static const struct stm32dfu_ob_field_info *field(const struct stm32dfu_ob_report *r, const char *name)
{
	for (size_t i = 0; i < r->n_fields; i++)
		if (strcmp(r->fields[i].name, name) == 0)
			return &r->fields[i];
	fail_msg("no field %s", name);
	return NULL;
}

static const struct stm32dfu_ob_named *named(const struct stm32dfu_ob_field_info *f, const char *word)
{
	for (unsigned i = 0; i < f->n_named; i++)
		if (strcmp(f->named[i].word, word) == 0)
			return &f->named[i];
	return NULL;
}

static struct stm32dfu_ob_report *read_report(struct stm32dfu_session *s)
{
	struct stm32dfu_ob_report *r = malloc(sizeof *r);
	assert_non_null(r);
	assert_int_equal(stm32dfu_ob_read_ex(s, r), 0);
	return r;
}

static void test_f746_report(void **state)
{
	(void)state;
	struct stm32dfu_session *s = open_profile("f746,timing=0", 0, 0);
	struct stm32dfu_ob_report *r = read_report(s);
	assert_true(r->decoded);
	assert_string_equal(r->family, "F74x");
	assert_string_equal(r->layout, "F74x");
	assert_int_equal(r->address, 0x1FFF0000);
	assert_int_equal(r->size, 32);
	assert_true(r->writable);
	assert_int_equal(r->rdp_level, 0);
	assert_int_equal(r->complement_errors, 0);
	const struct stm32dfu_ob_field_info *bor = field(r, "BOR_LEV");
	assert_int_equal(bor->width, 2);
	assert_int_equal(bor->value, 3);
	assert_int_equal(bor->default_value, 3);
	assert_true(bor->present && bor->is_default && bor->on_this_chip);
	assert_string_equal(bor->absent_why, "");
	assert_non_null(strstr(bor->meaning, "BOR off"));
	/* the four levels RM0385 names, each a word ob set takes */
	assert_int_equal(bor->n_named, 4);
	assert_int_equal(named(bor, "level1")->value, 2);
	assert_int_equal(named(bor, "off")->value, 3);
	const struct stm32dfu_ob_field_info *rdp = field(r, "RDP");
	assert_int_equal(rdp->width, 8);
	assert_int_equal(rdp->value, 0xAA);
	assert_int_equal(rdp->danger, 2);
	assert_int_equal(rdp->n_named, 3);
	assert_int_equal(named(rdp, "level0")->value, 0xAA);
	assert_int_equal(named(rdp, "level2")->value, 0xCC);
	assert_non_null(strstr(named(rdp, "level2")->meaning, "level 2"));
	assert_int_equal(field(r, "BOOT_ADD0")->default_value, 0x0080);
	assert_int_equal(field(r, "BOOT_ADD1")->value, 0x0040);
	assert_non_null(strstr(field(r, "BOOT_ADD1")->meaning, "0x00100000"));
	assert_int_equal(field(r, "nWRP")->width, 8); /* 8 sectors on the F74x */
	/* the first stored word: OPTCR[15:0] = 0xAAFF (RDP level 0, every USER bit set) and ~0xAAFF above it */
	assert_true(r->n_words >= 4);
	assert_int_equal(r->words[0].offset, 0);
	assert_int_equal(r->words[0].bits, 16);
	assert_int_equal(r->words[0].value, 0xAAFF);
	assert_true(r->words[0].has_complement);
	assert_int_equal(r->words[0].complement, 0x5500);
	assert_int_equal(r->words[0].expected, 0x5500);
	assert_true(r->words[0].ok);
	assert_int_equal(r->raw[0], 0xFF);
	assert_int_equal(r->raw[1], 0xAA);
	assert_int_equal(r->raw[2], 0x00);
	assert_int_equal(r->raw[3], 0x55);
	free(r);
	stm32dfu_close(s);
}

/* Fields of a shared layout that the part lacks, each with its reason. */
static void test_absent_fields(void **state)
{
	(void)state;
	/* RM0368 (F401): no dual-bank boot, so BFB2 of the F42x table is not on the chip */
	struct stm32dfu_session *s = open_profile("f401,timing=0", 0, 0);
	struct stm32dfu_ob_report *r = read_report(s);
	const struct stm32dfu_ob_field_info *bfb2 = field(r, "BFB2");
	assert_true(bfb2->present);
	assert_false(bfb2->on_this_chip);
	assert_non_null(strstr(bfb2->absent_why, "exists only on F42x"));
	assert_true(field(r, "RDP")->on_this_chip);
	struct stm32dfu_ob_set_result res;
	const char *set[] = {"BFB2=1"};
	assert_int_equal(stm32dfu_ob_set_ex(s, set, 1, NULL, &res), STM32DFU_E_USAGE);
	assert_false(res.checked);
	assert_false(res.write_attempted);
	assert_non_null(strstr(stm32dfu_last_error(s).hint, "'-'"));
	free(r);
	stm32dfu_close(s);
	/* F0 with 32 KiB (RM0360: one WRP bit per 4 KiB): WRP0's 8 bits cover it all, WRP1 would start at 0x08008000 */
	s = open_profile("f0-32k,timing=0", 0, 0);
	r = read_report(s);
	assert_true(field(r, "WRP0")->on_this_chip);
	assert_false(field(r, "WRP1")->on_this_chip);
	assert_non_null(strstr(field(r, "WRP1")->absent_why, "0x08008000"));
	free(r);
	stm32dfu_close(s);
}

/* The library's hints name its own parameters and calls, never the command line's flags or commands
 * (issue 24 item 14); the CLI renders the same hints in its words (tests/cli/contract.sh). */
static void test_hints_in_library_words(void **state)
{
	(void)state;
	struct stm32dfu_session *s = open_profile("f746,timing=0", 0, 0);
	uint8_t buf[16];
	assert_int_equal(stm32dfu_read(s, 0x60000000, buf, sizeof buf), STM32DFU_E_RANGE);
	struct stm32dfu_error e = stm32dfu_last_error(s);
	assert_non_null(strstr(e.hint, "the force option reads outside it"));
	assert_null(strstr(e.hint, "--"));
	assert_null(strstr(e.message, "--"));
	assert_null(strstr(e.hint, "{@"));
	stm32dfu_close(s);
}

/* RDP level 2 needs its confirmation; the result names it and nothing reaches the chip. */
static void test_rdp2_needs_confirmation(void **state)
{
	(void)state;
	struct stm32dfu_session *s = open_profile("f746,timing=0", 0, 0);
	struct stm32dfu_ob_report *before = read_report(s);
	struct stm32dfu_ob_set_result res;
	struct stm32dfu_ob_set_options o = {.confirm = STM32DFU_CONFIRM_RDP1}; /* not the one it needs */
	const char *set[] = {"RDP=level2"};
	assert_int_equal(stm32dfu_ob_set_ex(s, set, 1, &o, &res), STM32DFU_E_NEEDS_CONFIRMATION);
	assert_true(res.checked);
	assert_int_equal(res.confirmations_required, STM32DFU_CONFIRM_RDP2);
	assert_int_equal(res.confirmations_missing, STM32DFU_CONFIRM_RDP2);
	assert_int_equal(res.n_changes, 1);
	assert_string_equal(res.changes[0].field, "RDP");
	assert_int_equal(res.changes[0].old_value, 0xAA);
	assert_int_equal(res.changes[0].new_value, 0xCC);
	assert_non_null(strstr(res.changes[0].new_meaning, "level 2"));
	assert_false(res.write_attempted || res.written || res.verified);
	struct stm32dfu_error e = stm32dfu_last_error(s);
	assert_int_equal(e.code, STM32DFU_E_NEEDS_CONFIRMATION);
	assert_string_equal(stm32dfu_confirm_flag(STM32DFU_CONFIRM_RDP2), "--i-understand-rdp2-is-permanent");
	/* the library speaks its own words: the confirmation bit, not the command line's flag (issue 24 item 14) */
	assert_non_null(strstr(e.hint, "add STM32DFU_CONFIRM_RDP2 if this is what you want"));
	assert_null(strstr(e.hint, "--"));
	assert_null(stm32dfu_confirm_flag(STM32DFU_CONFIRM_RDP1 | STM32DFU_CONFIRM_RDP2));
	assert_null(stm32dfu_confirm_flag(0));
	struct stm32dfu_ob_report *after = read_report(s);
	assert_int_equal(after->size, before->size);
	assert_memory_equal(after->raw, before->raw, before->size);
	assert_int_equal(after->rdp_level, 0);
	free(before);
	free(after);
	stm32dfu_close(s);
}

/* A dry run reports the change and the block it would write; the chip keeps its block. Then the
 * same change for real: written, verified, the chip reset, and the block read back. */
static void test_dry_run_then_write(void **state)
{
	(void)state;
	struct stm32dfu_session *s = open_profile("f746,timing=0", 0, 0);
	struct stm32dfu_ob_report *before = read_report(s);
	struct stm32dfu_ob_set_result res;
	struct stm32dfu_ob_set_options o = {.dry_run = 1};
	const char *set[] = {"BOR_LEV=level1"};
	assert_int_equal(stm32dfu_ob_set_ex(s, set, 1, &o, &res), 0);
	assert_true(res.checked && res.dry_run);
	assert_false(res.write_attempted || res.written || res.nothing_to_change || res.has_after);
	assert_string_equal(res.family, "F74x");
	assert_int_equal(res.n_changes, 1);
	assert_int_equal(res.changes[0].width, 2);
	assert_int_equal(res.changes[0].old_value, 3);
	assert_int_equal(res.changes[0].new_value, 2);
	assert_non_null(strstr(res.changes[0].new_meaning, "BOR level 1"));
	assert_int_equal(res.confirmations_required, 0);
	assert_int_equal(res.size, 32);
	assert_memory_equal(res.before, before->raw, 32);
	/* OPTCR[15:0] 0xAAFF with bits 3:2 = 10: 0xAAFB, stored with its complement 0x5504 */
	assert_int_equal(res.requested[0], 0xFB);
	assert_int_equal(res.requested[2], 0x04);
	assert_int_equal(res.requested[3], 0x55);
	assert_memory_equal(res.requested + 4, before->raw + 4, 28);
	struct stm32dfu_ob_report *now = read_report(s);
	assert_memory_equal(now->raw, before->raw, 32);
	free(now);
	o.dry_run = 0;
	assert_int_equal(stm32dfu_ob_set_ex(s, set, 1, &o, &res), 0);
	assert_true(res.write_attempted && res.written && res.verified && res.reset_seen && res.has_after);
	assert_false(res.protection_active);
	assert_memory_equal(res.after, res.requested, 32);
	now = read_report(s);
	assert_memory_equal(now->raw, res.requested, 32);
	assert_int_equal(field(now, "BOR_LEV")->value, 2);
	assert_false(field(now, "BOR_LEV")->is_default);
	free(now);
	/* the same again: nothing to change, nothing sent */
	assert_int_equal(stm32dfu_ob_set_ex(s, set, 1, NULL, &res), 0);
	assert_true(res.nothing_to_change);
	assert_int_equal(res.n_changes, 0);
	assert_false(res.write_attempted);
	free(before);
	stm32dfu_close(s);
}

static void test_bad_values(void **state)
{
	(void)state;
	struct stm32dfu_session *s = open_profile("f746,timing=0", 0, 0);
	struct stm32dfu_ob_set_result res;
	const char *wide[] = {"BOR_LEV=4"}; /* 2 bits */
	assert_int_equal(stm32dfu_ob_set_ex(s, wide, 1, NULL, &res), STM32DFU_E_USAGE);
	assert_false(res.checked);
	assert_non_null(strstr(stm32dfu_last_error(s).message, "BOR_LEV"));
	const char *noeq[] = {"BOR_LEV"};
	assert_int_equal(stm32dfu_ob_set_ex(s, noeq, 1, NULL, &res), STM32DFU_E_USAGE);
	const char *nul[] = {NULL};
	assert_int_equal(stm32dfu_ob_set_ex(s, nul, 1, NULL, NULL), STM32DFU_E_USAGE);
	assert_int_equal(stm32dfu_ob_set_ex(s, NULL, 0, NULL, NULL), STM32DFU_E_USAGE);
	assert_int_equal(stm32dfu_ob_read_ex(s, NULL), STM32DFU_E_USAGE);
	stm32dfu_close(s);
}

/* RDP level 1 written: the chip refuses reads, which confirms it; a later read says PROTECTED. */
static void test_rdp1_protection_active(void **state)
{
	(void)state;
	struct stm32dfu_session *s = open_profile("f746,timing=0", 0, 0);
	struct stm32dfu_ob_set_result res;
	struct stm32dfu_ob_set_options o = {.confirm = STM32DFU_CONFIRM_RDP1};
	const char *set[] = {"RDP=level1"};
	assert_int_equal(stm32dfu_ob_set_ex(s, set, 1, &o, &res), 0);
	assert_int_equal(res.changes[0].new_value, 0x55);
	assert_true(res.written && res.protection_active);
	assert_false(res.verified || res.has_after);
	struct stm32dfu_ob_report *r = malloc(sizeof *r);
	assert_non_null(r);
	assert_int_equal(stm32dfu_ob_read_ex(s, r), STM32DFU_E_PROTECTED);
	free(r);
	stm32dfu_close(s);
}

/* A layout the tool only decodes (H7): the report says so and a set is refused before any write. */
static void test_decode_only(void **state)
{
	(void)state;
	struct stm32dfu_session *s = open_profile("h743,timing=0", 0, 0);
	struct stm32dfu_ob_report *r = read_report(s);
	assert_true(r->decoded);
	assert_false(r->writable);
	assert_non_null(strstr(r->note, "Decode-only"));
	struct stm32dfu_ob_set_result res;
	const char *set[] = {"BOR_LEV=0"};
	assert_int_equal(stm32dfu_ob_set_ex(s, set, 1, NULL, &res), STM32DFU_E_UNSUPPORTED);
	assert_false(res.checked || res.write_attempted);
	free(r);
	stm32dfu_close(s);
	/* the GD32VF103 ROM offers no option-byte alt: nothing to read */
	s = open_profile("gd32vf103,timing=0", 0x28E9, 0x0189);
	r = malloc(sizeof *r);
	assert_non_null(r);
	assert_int_equal(stm32dfu_ob_read_ex(s, r), STM32DFU_E_UNSUPPORTED);
	assert_non_null(strstr(stm32dfu_last_error(s).message, "Option Bytes"));
	free(r);
	stm32dfu_close(s);
}

/* The 0.2 calls run over the same code: the same values, and the same refusal. */
static void test_old_calls_agree(void **state)
{
	(void)state;
	struct stm32dfu_session *s = open_profile("f746,timing=0", 0, 0);
	struct stm32dfu_ob_report *r = read_report(s);
	struct stm32dfu_option_bytes ob;
	assert_int_equal(stm32dfu_ob_read(s, &ob), 0);
	assert_int_equal(ob.n_fields, r->n_fields);
	assert_int_equal(ob.len, r->size);
	assert_memory_equal(ob.raw, r->raw, r->size);
	for (size_t i = 0; i < ob.n_fields; i++) {
		assert_string_equal(ob.fields[i].name, r->fields[i].name);
		assert_int_equal(ob.fields[i].value, r->fields[i].value);
		assert_string_equal(ob.fields[i].meaning, r->fields[i].meaning);
		assert_int_equal(ob.fields[i].dangerous, r->fields[i].danger);
	}
	const char *set[] = {"BOR_LEV=level2"};
	assert_int_equal(stm32dfu_ob_set(s, set, 1, 0, &ob), 0);
	for (size_t i = 0; i < ob.n_fields; i++)
		if (strcmp(ob.fields[i].name, "BOR_LEV") == 0)
			assert_int_equal(ob.fields[i].value, 1);
	free(r);
	stm32dfu_close(s);
}

int main(void)
{
	test_own_state_dir("lib-api-ob");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_f746_report),
		cmocka_unit_test(test_absent_fields),
		cmocka_unit_test(test_rdp2_needs_confirmation),
		cmocka_unit_test(test_hints_in_library_words),
		cmocka_unit_test(test_dry_run_then_write),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_rdp1_protection_active),
		cmocka_unit_test(test_decode_only),
		cmocka_unit_test(test_old_calls_agree),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
