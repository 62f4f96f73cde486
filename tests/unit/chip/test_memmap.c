/*
 * chip/memmap.c against every shipped profile (issue 23 item 3): the flash map the USART path
 * makes from the device ID and the flash-size register (chip_flash_map, in the bank mode the
 * profile's option bytes select) must be, sector by sector, the map of the profile's DfuSe
 * "Internal Flash" string (strings from real listings); the OTP and option-byte areas must be the
 * DfuSe alts' addresses and sizes; system memory and SRAM the profile's rom/ram keys (each cites
 * its reference manual). A profile this test does not know fails it, so a new profile is checked.
 */
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
#include "sim/sim.h"
#include "sim/sim_int.h"

/* The device ID of profiles without uart_device_id (their part, from the profile's own comments
 * and the families' ID lists), and the profiles that are no STM32 family of the table. */
static const struct {
	const char *name;
	uint16_t dev_id;
} ids[] = {
	{"f0-32k", 0x445}, /* STM32F042 (F04x) */
	{"g0c1", 0x467},   /* STM32G0C1 */
	{"g474", 0x469},   /* STM32G474 (category 3) */
	{"h743", 0x450}, {"h750", 0x450},
	{"h7a3", 0x480},
	{"l100rc", 0x427}, /* STM32L100RC (category 3) */
	{"l43x", 0x435},
	{"u585", 0x482},
	{"f746-report", 0x449},
	{"wb55", 0x495}, /* STM32WB55 */
};
static const char *const not_in_table[] = {
	"at32f415",  /* Artery: not an STM32 */
	"gd32vf103", /* GigaDevice RISC-V: not an STM32 */
	"c071",      /* STM32C0: no C0 row in chip/families.c yet */
};

struct names {
	char *v[64];
	size_t n;
};

static void add_name(const char *name, void *ctx)
{
	struct names *l = ctx;
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i], name))
			return;
	if (l->n < 64)
		l->v[l->n++] = strdup(name);
}

static const struct chip_alt_info *alt_named(const struct chip_alt_info *a, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(a[i].name, name))
			return &a[i];
	return NULL;
}

static unsigned hexbytes(const char *s, uint8_t *out, size_t cap)
{
	unsigned n = 0;
	while (*s && n < cap) {
		char *end;
		unsigned long v = strtoul(s, &end, 16);
		if (end == s)
			break;
		out[n++] = (uint8_t)v;
		s = end;
	}
	return n;
}

/* the profile's "KEY = 0xADDR SIZE" entry at addr (rom, ram), or false */
static bool addr_size(const struct sim_profile *p, const char *key, uint32_t want_addr, uint32_t *size)
{
	const char *v[8];
	size_t n = sim_profile_get_all(p, key, v, 8);
	for (size_t i = 0; i < n; i++) {
		char *end;
		unsigned long a = strtoul(v[i], &end, 0);
		if (a == want_addr) {
			*size = (uint32_t)strtoul(end, NULL, 0);
			return true;
		}
	}
	return false;
}

static void check_profile(const char *name, unsigned *checked)
{
	char eb[512];
	struct sim_profile *p = sim_profile_load(name, PROFILE_DIR, eb, sizeof eb);
	if (!p)
		fail_msg("%s: %s", name, eb);
	for (size_t i = 0; i < sizeof not_in_table / sizeof not_in_table[0]; i++)
		if (!strcmp(name, not_in_table[i])) {
			sim_profile_free(p);
			return;
		}
	uint32_t dev_id = 0;
	const char *u = sim_profile_get(p, "uart_device_id");
	if (u)
		dev_id = (uint32_t)strtoul(u, NULL, 0);
	for (size_t i = 0; !u && i < sizeof ids / sizeof ids[0]; i++)
		if (!strcmp(name, ids[i].name))
			dev_id = ids[i].dev_id;
	if (!dev_id)
		fail_msg("profile %s: no device ID known to this test (add it to ids[] or not_in_table[])", name);
	const struct chip_family *f = chip_family_by_dev_id((uint16_t)dev_id);
	if (!f)
		fail_msg("profile %s: device ID 0x%03x is in no family", name, dev_id);
	const char *alts[16];
	size_t na = sim_profile_get_all(p, "alt", alts, 16);
	struct chip_alt_info ai[16];
	for (size_t i = 0; i < na; i++)
		if (!chip_parse_alt(alts[i], &ai[i]))
			fail_msg("profile %s: alt '%s' does not parse", name, alts[i]);
	const struct chip_alt_info *fl = alt_named(ai, na, "Internal Flash");
	if (!fl)
		fail_msg("profile %s: no Internal Flash alt", name);
	const char *kb = sim_profile_get(p, "flash_size_kb");
	uint32_t flash = kb ? (uint32_t)strtoul(kb, NULL, 0) * 1024u : fl->zones[0].total;

	/* the bank mode from the option bytes the chip starts with (as the USART target reads them) */
	uint8_t ob[512];
	size_t obn = 0;
	const char *obv = sim_profile_get(p, "ob_default");
	if (obv)
		obn = hexbytes(obv, ob, sizeof ob);
	else if (f->ob)
		ob_default_block(f, ob, sizeof ob, &obn);
	int dual = chip_ob_dual_bank(f, (uint16_t)dev_id, obn ? ob : NULL, obn);
	if (dual < 0)
		fail_msg("profile %s: the option bytes do not tell the bank mode", name);

	struct chip_sector_run runs[16];
	size_t nr = chip_flash_map(f, (uint16_t)dev_id, flash, dual == 1, runs, 16);
	if (!nr)
		fail_msg("profile %s (%s, 0x%03x): no flash map", name, f->id, dev_id);
	/* sector by sector over the part's flash (a DfuSe string may show more: F407VE, H750) */
	assert_int_equal(fl->zones[0].addr, f->flash_base);
	size_t ki = 0, kd = 0;
	uint32_t ci = 0, cd = 0, off = 0;
	while (off < flash) {
		if (ki == nr)
			fail_msg("profile %s: the table's map ends at %u of %u bytes", name, off, flash);
		if (kd == fl->zones[0].n_runs)
			fail_msg("profile %s: the DfuSe map ends at %u of %u bytes", name, off, flash);
		if (runs[ki].size != fl->zones[0].runs[kd].size)
			fail_msg("profile %s: at flash offset 0x%x the table has a %u-byte sector, DfuSe %u", name, off,
			         runs[ki].size, fl->zones[0].runs[kd].size);
		off += runs[ki].size;
		if (++ci == runs[ki].count)
			ki++, ci = 0;
		if (++cd == fl->zones[0].runs[kd].count)
			kd++, cd = 0;
	}
	if (ki != nr)
		fail_msg("profile %s: the table's map is longer than the part's %u bytes", name, flash);

	const struct chip_memmap *m = chip_memmap_of(f, (uint16_t)dev_id);
	const struct chip_alt_info *otp = alt_named(ai, na, "OTP Memory");
	if (otp) {
		if (!m || m->otp_addr != otp->zones[0].addr || m->otp_size != otp->zones[0].runs[0].size)
			fail_msg("profile %s: OTP 0x%08x %u bytes by DfuSe, 0x%08x %u by the table", name,
			         otp->zones[0].addr, otp->zones[0].runs[0].size, m ? m->otp_addr : 0, m ? m->otp_size : 0);
		uint32_t lock = otp->zones[0].n_runs > 1 ? otp->zones[0].runs[1].size : 0;
		assert_int_equal(m->otp_lock, lock);
	}
	const struct chip_alt_info *obalt = alt_named(ai, na, "Option Bytes");
	if (obalt && obalt->zones[0].addr != f->ob_addr)
		fail_msg("profile %s: option bytes at 0x%08x by DfuSe, 0x%08x by the table", name, obalt->zones[0].addr,
		         f->ob_addr);
	uint32_t size;
	if (m && m->sysmem_size && addr_size(p, "rom", m->sysmem_addr, &size) && size != m->sysmem_size)
		fail_msg("profile %s: system memory %u bytes in the profile, %u in the table", name, size, m->sysmem_size);
	if (m && m->ram_size) {
		if (!addr_size(p, "ram", m->ram_addr, &size))
			fail_msg("profile %s: no ram entry at 0x%08x", name, m->ram_addr);
		if (size != m->ram_size)
			fail_msg("profile %s: SRAM %u bytes in the profile, %u in the table", name, size, m->ram_size);
	}
	(*checked)++;
	sim_profile_free(p);
}

static void test_every_profile(void **st)
{
	(void)st;
	struct names l = {.n = 0};
	sim_profile_names(PROFILE_DIR, add_name, &l);
	assert_true(l.n >= 15);
	unsigned checked = 0;
	for (size_t i = 0; i < l.n; i++) {
		check_profile(l.v[i], &checked);
		free(l.v[i]);
	}
	assert_int_equal(checked, l.n - sizeof not_in_table / sizeof not_in_table[0]);
}

/* The dual-bank organisations by hand: F76x 1 MB in dual-bank mode is two 512 KB banks of the F4
 * 512 KB map (RM0410 Table 4); G4 category 3 has 4 KB pages single-bank, 2 KB dual (RM0440) */
static void test_dual_bank(void **st)
{
	(void)st;
	struct chip_sector_run r[16];
	const struct chip_family *f7 = chip_family_by_id("F76x");
	size_t n = chip_flash_map(f7, 0x451, 1024 * 1024, true, r, 16);
	assert_int_equal(n, 6);
	assert_int_equal(r[0].count, 4);
	assert_int_equal(r[0].size, 16384);
	assert_int_equal(r[2].count, 3);
	assert_int_equal(r[2].size, 131072);
	assert_int_equal(r[3].count, 4);
	n = chip_flash_map(f7, 0x451, 1024 * 1024, false, r, 16);
	assert_int_equal(n, 3);
	assert_int_equal(r[0].size, 32768);
	const struct chip_family *g4 = chip_family_by_id("G4");
	n = chip_flash_map(g4, 0x469, 512 * 1024, false, r, 16);
	assert_int_equal(n, 1);
	assert_int_equal(r[0].count, 128);
	assert_int_equal(r[0].size, 4096);
	n = chip_flash_map(g4, 0x469, 512 * 1024, true, r, 16);
	assert_int_equal(r[0].count, 256);
	assert_int_equal(r[0].size, 2048);
	/* F0: the page size is the line's, by device ID */
	const struct chip_family *f0 = chip_family_by_id("F0");
	chip_flash_map(f0, 0x445, 32768, false, r, 16);
	assert_int_equal(r[0].size, 1024);
	chip_flash_map(f0, 0x448, 131072, false, r, 16);
	assert_int_equal(r[0].size, 2048);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_profile),
		cmocka_unit_test(test_dual_bank),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
