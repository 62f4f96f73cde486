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

/* Every STM32 profile answers Get ID (uart_device_id: issue 23, no profile left without its
 * USART door); the profiles that are no STM32 family of the table have none (their comments say
 * why). */
static const char *const not_in_table[] = {
	"at32f415",  /* Artery: not an STM32 */
	"gd32vf103", /* GigaDevice RISC-V: not an STM32 */
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
	if (!dev_id)
		fail_msg("profile %s: no uart_device_id (an STM32 profile answers AN3155 too; else add it to "
		         "not_in_table[] with the reason)", name);
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
	/* a second option-byte zone (G4 category 3: bank 2 at 0x1FFFF800, the G474's alt string) is in
	 * the table too, so the USART map reads both (the write protection of bank 2 is known) */
	uint32_t ob2 = obalt && obalt->n_zones > 1 ? obalt->zones[1].addr : 0;
	uint32_t ob2_size = obalt && obalt->n_zones > 1 ? obalt->zones[1].total : 0;
	if (ob2 != (m ? m->ob2_addr : 0) || ob2_size != (m ? m->ob2_size : 0))
		fail_msg("profile %s: second option-byte zone 0x%08x %u bytes by DfuSe, 0x%08x %u by the table", name, ob2,
		         ob2_size, m ? m->ob2_addr : 0, m ? m->ob2_size : 0);
	uint32_t size;
	if (m && m->sysmem_size && addr_size(p, "rom", m->sysmem_addr, &size) && size != m->sysmem_size)
		fail_msg("profile %s: system memory %u bytes in the profile, %u in the table", name, size, m->sysmem_size);
	/* a profile that models its system memory is covered by a row that knows it (issue 23: "system
	 * memory for every family we profile"), and every profiled row knows its SRAM */
	const char *roms[4];
	if (sim_profile_get_all(p, "rom", roms, 4) && (!m || !m->sysmem_size))
		fail_msg("profile %s (%s, 0x%03x): the profile has system memory, the table none", name, f->id, dev_id);
	if (!m || !m->ram_size)
		fail_msg("profile %s (%s, 0x%03x): no SRAM in the table", name, f->id, dev_id);
	if (m->ram_boot_end && (m->ram_boot_end <= m->ram_addr || m->ram_boot_end > m->ram_addr + m->ram_size))
		fail_msg("profile %s: the ROM's own RAM ends outside the SRAM", name);
	/* the RAM the host's USART map offers is the RAM the emulated ROM serves (uart_ram), cut to the
	 * SRAM the profile has: neither side kinder than the other */
	const char *ur = sim_profile_get(p, "uart_ram");
	if (!ur && m->ram_boot_end)
		fail_msg("profile %s: the table knows the ROM's RAM (0x%08x up), the profile has no uart_ram", name,
		         m->ram_boot_end);
	if (ur) {
		unsigned long lo = 0, len = 0;
		if (sscanf(ur, "%li %li", (long *)&lo, (long *)&len) != 2)
			fail_msg("profile %s: uart_ram '%s'", name, ur);
		uint64_t ram_end = (uint64_t)m->ram_addr + m->ram_size;
		uint64_t tab_end = m->ram_rom_end && m->ram_rom_end < ram_end ? m->ram_rom_end : ram_end;
		uint64_t prof_end = (uint64_t)lo + len < ram_end ? (uint64_t)lo + len : ram_end;
		if (m->ram_boot_end != lo || (prof_end > lo ? prof_end : lo) != (tab_end > lo ? tab_end : lo))
			fail_msg("profile %s: uart_ram 0x%08lx-0x%08llx, the table 0x%08x-0x%08llx", name, lo,
			         (unsigned long long)prof_end, m->ram_boot_end, (unsigned long long)tab_end);
	}
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
	/* category 3 has a bank-2 option-byte zone (RM0440 "Option bytes organization"); categories 2
	 * and 4 are single bank and have none */
	assert_int_equal(chip_memmap_of(g4, 0x469)->ob2_addr, 0x1FFFF800);
	assert_int_equal(chip_memmap_of(g4, 0x469)->ob2_size, 48);
	assert_int_equal(chip_memmap_of(g4, 0x468)->ob2_addr, 0);
	assert_int_equal(chip_memmap_of(g4, 0x479)->ob2_addr, 0);
	/* F0: the page size is the line's, by device ID */
	const struct chip_family *f0 = chip_family_by_id("F0");
	chip_flash_map(f0, 0x445, 32768, false, r, 16);
	assert_int_equal(r[0].size, 1024);
	chip_flash_map(f0, 0x448, 131072, false, r, 16);
	assert_int_equal(r[0].size, 2048);
}

/* The rows of issue 23 against facts from outside the profiles: the flash maps the reference
 * manuals give for parts no profile models (G431 128 KB and G491 512 KB in 2 KB pages, RM0440
 * 3.3.1; H743 2 MB in 16 x 128 KB, RM0433 4.3.1; F303xE 512 KB in 2 KB pages, RM0316 4.2.1; F105
 * 256 KB in 2 KB pages, RM0008 3.3.3), and the RAM and system memory stm32flash's device table
 * holds (../shared/data/uart/stm32flash-devtable-numbers.md; for 0x446 and 0x448 also what
 * stm32flash printed for the real chips in data/uart: "RAM 64KiB", "System RAM 8KiB", "12KiB") */
static void test_rows_against_outside_facts(void **st)
{
	(void)st;
	static const struct {
		const char *fam;
		uint16_t id;
		uint32_t flash, page;
	} maps[] = {
		{"G4", 0x468, 128 * 1024, 2048}, {"G4", 0x479, 512 * 1024, 2048}, {"H74x", 0x450, 2048 * 1024, 131072},
		{"F3", 0x446, 512 * 1024, 2048}, {"F1", 0x418, 256 * 1024, 2048},  {"C0", 0x493, 128 * 1024, 2048},
		{"L1", 0x427, 256 * 1024, 256},
	};
	for (size_t i = 0; i < sizeof maps / sizeof maps[0]; i++) {
		struct chip_sector_run r[16];
		const struct chip_family *f = chip_family_by_dev_id(maps[i].id);
		if (!f || strcmp(f->id, maps[i].fam))
			fail_msg("0x%03x: family %s, expected %s", maps[i].id, f ? f->id : "(none)", maps[i].fam);
		size_t n = chip_flash_map(f, maps[i].id, maps[i].flash, false, r, 16);
		if (n != 1 || r[0].size != maps[i].page || r[0].count * r[0].size != maps[i].flash)
			fail_msg("0x%03x: flash map %zu runs, first %u x %u", maps[i].id, n, n ? r[0].count : 0,
			         n ? r[0].size : 0);
	}
	/* stm32flash dev_table: [ram_start, ram_end) usable by the host, [sys_start, sys_end) */
	static const struct {
		uint16_t id;
		uint32_t ram_start, ram_end, sys_start, sys_end;
	} sf[] = {
		{0x440, 0, 0, 0x1FFFEC00, 0x1FFFF800}, {0x444, 0, 0, 0x1FFFEC00, 0x1FFFF800},
		{0x448, 0, 0x20004000, 0x1FFFC800, 0x1FFFF800}, {0x446, 0, 0x20010000, 0x1FFFD800, 0x1FFFF800},
		{0x468, 0x20004000, 0x20005800, 0x1FFF0000, 0x1FFF7000}, {0x469, 0, 0x20018000, 0x1FFF0000, 0x1FFF7000},
		{0x450, 0x20004100, 0x20020000, 0x1FF00000, 0x1FF1E800}, {0x482, 0x20004000, 0, 0x0BF90000, 0x0BFA0000},
	};
	for (size_t i = 0; i < sizeof sf / sizeof sf[0]; i++) {
		const struct chip_family *f = chip_family_by_dev_id(sf[i].id);
		const struct chip_memmap *m = chip_memmap_of(f, sf[i].id);
		if (!m || m->dev_id != sf[i].id)
			fail_msg("0x%03x: no row of its own", sf[i].id);
		if (sf[i].ram_end && m->ram_addr + m->ram_size != sf[i].ram_end)
			fail_msg("0x%03x: SRAM ends at 0x%08x, stm32flash 0x%08x", sf[i].id, m->ram_addr + m->ram_size,
			         sf[i].ram_end);
		if (sf[i].ram_start && m->ram_boot_end != sf[i].ram_start)
			fail_msg("0x%03x: the ROM's RAM ends at 0x%08x, stm32flash 0x%08x", sf[i].id, m->ram_boot_end,
			         sf[i].ram_start);
		/* stm32flash's system memory is the ROM's code: inside the table's area, which ends where
		 * the option bytes or OTP begin */
		if (sf[i].sys_start != m->sysmem_addr || sf[i].sys_end > m->sysmem_addr + m->sysmem_size)
			fail_msg("0x%03x: system memory 0x%08x +%u, stm32flash 0x%08x-0x%08x", sf[i].id, m->sysmem_addr,
			         m->sysmem_size, sf[i].sys_start, sf[i].sys_end);
	}
	/* the USART pins of every family a profile covers (AN2606): C0 and both H7 rows included */
	static const char *const fams[] = {"C0", "F0", "G4", "H74x", "H7A3", "L1", "L4", "U5", "WB"};
	for (size_t i = 0; i < sizeof fams / sizeof fams[0]; i++) {
		const char *pins = chip_usart_pins(chip_family_by_id(fams[i]));
		if (!pins || strncmp(pins, "USART1 TX PA9, RX PA10", 22))
			fail_msg("%s: USART pins %s", fams[i], pins ? pins : "(none)");
	}
}

/* Every row that knows the RAM the USART ROM serves against AN2606's device table as stm32flash's
 * dev_table.c transcribes it: ram_start is where the bootloader's own RAM ends, ram_end where the
 * RAM a host may write ends (../shared/data/uart/stm32flash-devtable-numbers.md, read here, so a
 * row of that file our table has is checked). G474 (0x469), WB (0x495) and L43x (0x435) included. */
static void test_rom_ram_against_devtable(void **st)
{
	(void)st;
	char path[1024];
	snprintf(path, sizeof path, "%s/uart/stm32flash-devtable-numbers.md", SHARED_DATA_DIR);
	FILE *fp = fopen(path, "r");
	if (!fp)
		fail_msg("cannot read %s", path);
	char line[1024];
	unsigned rows = 0;
	bool seen469 = false, seen495 = false, seen435 = false;
	while (fgets(line, sizeof line, fp)) {
		unsigned id;
		unsigned long lo, hi;
		char name[128];
		if (sscanf(line, "| 0x%x | %127[^|]| 0x%lx-0x%lx", &id, name, &lo, &hi) != 4)
			continue;
		const struct chip_family *f = chip_family_by_dev_id((uint16_t)id);
		const struct chip_memmap *m = chip_memmap_of(f, (uint16_t)id);
		if (!m || m->dev_id != id || !m->ram_size)
			continue; /* no row of its own in our table */
		uint32_t end = m->ram_rom_end ? m->ram_rom_end : m->ram_addr + m->ram_size;
		if (m->ram_boot_end != lo || end != hi)
			fail_msg("0x%03x: the ROM serves 0x%08x-0x%08x by our table, 0x%08lx-0x%08lx by stm32flash's", id,
			         m->ram_boot_end, end, lo, hi);
		rows++;
		seen469 |= id == 0x469, seen495 |= id == 0x495, seen435 |= id == 0x435;
	}
	fclose(fp);
	assert_true(rows >= 15);
	assert_true(seen469 && seen495 && seen435);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_profile),
		cmocka_unit_test(test_dual_bank),
		cmocka_unit_test(test_rows_against_outside_facts),
		cmocka_unit_test(test_rom_ram_against_devtable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
