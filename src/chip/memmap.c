/*
 * The memories of a part by its device ID, for bootloaders that do not describe them (AN3155 has
 * no alt strings: the USART path builds its map here from Get ID and the flash-size register).
 * Sector tables of the sector families are in families.c; this adds uniform page sizes, the
 * dual-bank organisations an option bit selects, OTP, system memory and SRAM. Each row names its
 * reference manual; tests/unit/chip/test_memmap.c checks every row a profile covers against that
 * profile's DfuSe strings (from real listings) and its rom/ram keys. Values not in a row are 0:
 * unknown, and then no region is claimed.
 */
#include "chip/chip.h"

#include <string.h>

#include "chip/ob.h"

/* one bank of a 2 MB dual-bank F76x (nDBANK = 0): RM0410 3.3.2 Table 4 (sectors 0-11, 12-23) */
static const struct chip_sector_run bank_f76x[] = {{4, 16384}, {1, 65536}, {7, 131072}};

#define F4_OTP .otp_addr = 0x1FFF7800, .otp_size = 512, .otp_lock = 16
#define F4_ROM .sysmem_addr = 0x1FFF0000, .sysmem_size = 30720
#define F7_OTP .otp_addr = 0x1FF0F000, .otp_size = 1024, .otp_lock = 16
#define F7_ROM .sysmem_addr = 0x1FF00000, .sysmem_size = 61440
#define RAM(n) .ram_addr = 0x20000000, .ram_size = (n)
/* The RAM the USART ROM serves to Write Memory and Read Memory: from the end of its own (below it,
 * the bootloader's variables and stack: ST's answer "we Nack any read/Write to that area",
 * community.st.com td-p/355741) to the end AN2606's device table gives, which may be below the
 * SRAM's (the figures as stm32flash 0.7's dev_table.c transcribes AN2606: RAM start-end;
 * data/uart/stm32flash-devtable-numbers.md, tests/unit/chip/test_memmap.c checks the rows) */
#define BL(lo, hi) .ram_boot_end = (lo), .ram_rom_end = (hi)

static const struct chip_memmap memmaps[] = {
	/* F2/F4: system memory 0x1FFF0000-0x1FFF77FF, OTP 16 blocks of 32 bytes at 0x1FFF7800 and
	 * 16 lock bytes at 0x1FFF7A00 (RM0090 3.3 Table 5, 3.8; RM0033 2.3.3 for F2) */
	{"F2", 0x411, F4_OTP, F4_ROM, RAM(131072), BL(0x20002000, 0x20020000), .source = "RM0033 2.3 (SRAM1 112 KB + SRAM2 16 KB), 2.3.3"},
	{"F40x", 0x413, F4_OTP, F4_ROM, RAM(131072), BL(0x20003000, 0x20020000), .source = "RM0090 2.3, 3.3 Table 5, 3.8 (SRAM1 112 + SRAM2 16 KB)"},
	{"F42x", 0x419, F4_OTP, F4_ROM, RAM(196608), BL(0x20003000, 0x20030000), .source = "RM0090 2.3, 3.3 Table 6, 3.8 (SRAM1-3 192 KB)"},
	{"F401", 0x423, F4_OTP, F4_ROM, RAM(65536), BL(0x20003000, 0x20010000), .source = "RM0368 2.3 (F401xB/C: 64 KB SRAM), 3.3"},
	{"F401", 0x433, F4_OTP, F4_ROM, RAM(98304), BL(0x20003000, 0x20018000), .source = "RM0368 2.3 (F401xD/E: 96 KB SRAM), 3.3"},
	{"F411", 0x431, F4_OTP, F4_ROM, RAM(131072), BL(0x20003000, 0x20020000), .source = "RM0383 2.3, 3.3"},
	{"F446", 0x421, F4_OTP, F4_ROM, RAM(131072), BL(0x20003000, 0x20020000), .source = "RM0390 2.3 (SRAM1 112 + SRAM2 16 KB), 3.3"},
	/* F7: system memory 0x1FF00000-0x1FF0EDBF, OTP 0x1FF0F000 1024 + 16 lock bytes (RM0385 3.3.1
	 * Table 3, 3.7); SRAM from 0x20000000 includes the DTCM */
	{"F74x", 0x449, F7_OTP, F7_ROM, RAM(327680), BL(0x20004000, 0x20050000), .source = "RM0385 2.2.2 (DTCM 64 + SRAM1 240 + SRAM2 16 KB), 3.3.1, 3.7"},
	{"F76x", 0x451, F7_OTP, F7_ROM, RAM(524288), BL(0x20004000, 0x20080000), .dual_runs = bank_f76x,
	 .n_dual_runs = sizeof bank_f76x / sizeof bank_f76x[0], .dual_field = "nDBANK", .dual_value = 0,
	 .source = "RM0410 2.2.2 (DTCM 128 + SRAM1 368 + SRAM2 16 KB), 3.3.2 Tables 3-4 (single/dual bank), 3.7"},
	/* F0: 1 KB pages on F03x/F04x/F05x, 2 KB on F07x/F09x (RM0091 3.2.1); system memory ends at
	 * 0x1FFFF7FF below the option bytes and starts lower on the parts whose ROM has more in it
	 * (RM0091 Table 3: 3 KB F03x/F05x, 13 KB F04x, 12 KB F07x, 8 KB F09x) */
	{"F0", 0x444, .page_size = 1024, RAM(4096), BL(0x20000800, 0x20001000), .sysmem_addr = 0x1FFFEC00, .sysmem_size = 3072,
	 .source = "RM0091 3.2.1, 2.3 (F03x: 4 KB SRAM), Table 3"},
	{"F0", 0x445, .page_size = 1024, RAM(6144), BL(0x20001800, 0x20001800), .sysmem_addr = 0x1FFFC400, .sysmem_size = 13312,
	 .source = "RM0091 3.2.1, 2.3 (F04x: 6 KB SRAM), Table 3 (F04x: 0x1FFFC400, USB DFU in the ROM)"},
	{"F0", 0x440, .page_size = 1024, RAM(8192), BL(0x20000800, 0x20002000), .sysmem_addr = 0x1FFFEC00, .sysmem_size = 3072,
	 .source = "RM0091 3.2.1, 2.3 (F05x: 8 KB SRAM), Table 3"},
	{"F0", 0x448, .page_size = 2048, RAM(16384), BL(0x20001800, 0x20004000), .sysmem_addr = 0x1FFFC800, .sysmem_size = 12288,
	 .source = "RM0091 3.2.1, 2.3 (F07x: 16 KB SRAM), Table 3; stm32flash's 0x448 System RAM 12KiB (real F072 log)"},
	{"F0", 0x442, .page_size = 2048, RAM(32768), BL(0x20001800, 0x20008000), .sysmem_addr = 0x1FFFD800, .sysmem_size = 8192,
	 .source = "RM0091 3.2.1, 2.3 (F09x: 32 KB SRAM), Table 3"},
	/* F1 connectivity line: 2 KB pages, 64 KB SRAM, system memory 0x1FFFB000-0x1FFFF7FF (RM0008 3.3.3,
	 * Table 8 "connectivity line") */
	{"F1", 0x418, .page_size = 2048, RAM(65536), BL(0x20001000, 0x20010000), .sysmem_addr = 0x1FFFB000, .sysmem_size = 18432,
	 .source = "RM0008 3.3.3 Table 8 (connectivity line: 2 KB pages, 18 KB system memory), 3.3.1 (64 KB SRAM)"},
	/* F3: 2 KB pages, system memory 8 KB at 0x1FFFD800 (RM0316 4.2.1 Table 4, RM0313 3.2.1); SRAM
	 * from 0x20000000 without the CCM (RM0316 3.3) */
	{"F3", 0x422, .page_size = 2048, RAM(40960), BL(0x20001400, 0x2000A000), .sysmem_addr = 0x1FFFD800, .sysmem_size = 8192,
	 .source = "RM0316 3.3 (F303xB/C: 40 KB SRAM), 4.2.1"},
	{"F3", 0x446, .page_size = 2048, RAM(65536), BL(0x20001800, 0x20010000), .sysmem_addr = 0x1FFFD800, .sysmem_size = 8192,
	 .source = "RM0316 3.3 (F303xD/E: 64 KB SRAM), 4.2.1; stm32flash's 0x446 RAM 64KiB, System RAM 8KiB (real F303xE log)"},
	{"F3", 0x438, .page_size = 2048, RAM(12288), BL(0x20001800, 0x20003000), .sysmem_addr = 0x1FFFD800, .sysmem_size = 8192,
	 .source = "RM0364 3.3 (F334: 12 KB SRAM), 4.2.1"},
	{"F3", 0x439, .page_size = 2048, RAM(16384), BL(0x20001800, 0x20004000), .sysmem_addr = 0x1FFFD800, .sysmem_size = 8192,
	 .source = "RM0365 3.3 (F301/F302x6/8: 16 KB SRAM), 4.2.1"},
	{"F3", 0x432, .page_size = 2048, RAM(32768), BL(0x20001400, 0x20008000), .sysmem_addr = 0x1FFFD800, .sysmem_size = 8192,
	 .source = "RM0313 2.3 (F373: 32 KB SRAM), 3.2.1"},
	{"F3", 0, .page_size = 2048, .sysmem_addr = 0x1FFFD800, .sysmem_size = 8192,
	 .source = "RM0316 4.2.1, RM0313 3.2.1 (2 KB pages)"},
	/* C0: 2 KB pages (RM0490 3.3.1); C071 24 KB SRAM (RM0490 2.2 memory map); its system memory size
	 * is not tabled (UNCONFIRMED) */
	{"C0", 0x493, .page_size = 2048, RAM(24576), .source = "RM0490 2.2, 3.3.1 (C071: 128 KB, 2 KB pages, 24 KB SRAM)"},
	{"C0", 0, .page_size = 2048, .source = "RM0490 3.3.1"},
	/* G0: 2 KB pages, OTP 1 KB at 0x1FFF7000, system memory 0x1FFF0000 28 KB (RM0444 3.3.1) */
	{"G0", 0x467, .page_size = 2048, .otp_addr = 0x1FFF7000, .otp_size = 1024, .sysmem_addr = 0x1FFF0000,
	 .sysmem_size = 28672, RAM(147456), BL(0x20004000, 0x20020000),
	 .source = "RM0444 2.5, 3.3.1 (G0B1/G0C1: 144 KB SRAM; the ROM serves 0x20004000-0x2001FFFF)"},
	{"G0", 0, .page_size = 2048, .otp_addr = 0x1FFF7000, .otp_size = 1024, .sysmem_addr = 0x1FFF0000,
	 .sysmem_size = 28672, .source = "RM0444 3.3.1"},
	/* G4 category 3: 4 KB pages in single-bank mode, 2 KB in dual-bank mode (DBANK = 1, the factory
	 * value); categories 2 and 4: 2 KB pages (RM0440 3.3.1) */
	{"G4", 0x469, .page_size = 4096, .dual_page_size = 2048, .dual_field = "DBANK", .dual_value = 1,
	 .otp_addr = 0x1FFF7000, .otp_size = 1024, .sysmem_addr = 0x1FFF0000, .sysmem_size = 28672, RAM(98304),
	 BL(0x20004000, 0x20018000), .ob2_addr = 0x1FFFF800, .ob2_size = 48,
	 .source = "RM0440 2.4 (SRAM1 80 + SRAM2 16 KB), 3.3.1 Tables 7-8, 3.4.1 (bank 2 option bytes at "
	           "0x1FFFF800: the G474 ROM's alt string lists both zones, data/dfu-list/hausrack_G474CE_...)"},
	/* categories 2 (G431/G441) and 4 (G491/G4A1): 2 KB pages, single bank (RM0440 3.3.1 Tables 6, 9);
	 * SRAM1 + SRAM2 contiguous from 0x20000000 (the CCM is elsewhere); the ROM keeps the first 16 KB
	 * (AN2606 G4 section; a G474 user could not write below 0x20004000, qa-community 24359) */
	{"G4", 0x468, .page_size = 2048, .otp_addr = 0x1FFF7000, .otp_size = 1024, .sysmem_addr = 0x1FFF0000,
	 .sysmem_size = 28672, RAM(22528), BL(0x20004000, 0x20005800),
	 .source = "RM0440 2.4 (G431: SRAM1 16 + SRAM2 6 KB), 3.3.1 Table 6"},
	{"G4", 0x479, .page_size = 2048, .otp_addr = 0x1FFF7000, .otp_size = 1024, .sysmem_addr = 0x1FFF0000,
	 .sysmem_size = 28672, RAM(98304), .ram_boot_end = 0x20004000,
	 .source = "RM0440 2.4 (G491: SRAM1 80 + SRAM2 16 KB), 3.3.1 Table 9"},
	{"G4", 0, .page_size = 2048, .otp_addr = 0x1FFF7000, .otp_size = 1024, .sysmem_addr = 0x1FFF0000,
	 .sysmem_size = 28672, .source = "RM0440 3.3.1 Table 6"},
	/* L0: 128-byte pages, system memory 0x1FF00000 (RM0367/RM0376/RM0377 3.3.1) */
	{"L0", 0x447, .page_size = 128, .sysmem_addr = 0x1FF00000, .sysmem_size = 8192, RAM(20480), BL(0x20002000, 0x20005000),
	 .source = "RM0367 3.3.1 (category 5: 20 KB SRAM, 8 KB boot ROM)"},
	{"L0", 0, .page_size = 128, .source = "RM0377 3.3.1"},
	/* L1: 256-byte pages (RM0038 3.2); category 3 (0x427, L1xxxC): 256 KB; SRAM 16 KB on the L100xC
	 * and 32 KB on the L15xxC, so by device ID only the smaller is claimed (RM0038 2.3, the
	 * STM32L100xC datasheet memory map) */
	{"L1", 0x427, .page_size = 256, .sysmem_addr = 0x1FF00000, .sysmem_size = 8192, RAM(16384), BL(0x20001000, 0x20008000),
	 .source = "RM0038 3.2 Table 9 (cat. 3), 2.3; STM32L100xC datasheet (16 KB SRAM)"},
	{"L1", 0, .page_size = 256, .sysmem_addr = 0x1FF00000, .sysmem_size = 8192, .source = "RM0038 3.2 Tables 8-10"},
	/* L4: 2 KB pages, OTP 1 KB at 0x1FFF7000, system memory 28 KB (RM0351 3.3.1); L43x/L44x SRAM
	 * 48 + 16 KB (RM0394 2.4) */
	{"L4", 0x435, .page_size = 2048, .otp_addr = 0x1FFF7000, .otp_size = 1024, .sysmem_addr = 0x1FFF0000,
	 .sysmem_size = 28672, RAM(65536), BL(0x20003100, 0x2000C000),
	 .source = "RM0394 2.4 (SRAM1 48 KB; SRAM2 16 KB at 0x10000000, also at 0x2000C000 right after SRAM1), 3.3.1; "
	           "the ROM serves SRAM1 from 0x20003100 only (AN2606 table, stm32flash 0x435)"},
	{"L4", 0, .page_size = 2048, .otp_addr = 0x1FFF7000, .otp_size = 1024, .sysmem_addr = 0x1FFF0000,
	 .sysmem_size = 28672, .source = "RM0351 3.3.1 Table 7"},
	/* H7A3: 8 KB sectors, OTP 1 KB at 0x08FFF000 (RM0455 4.3.3); the RAM from 0x20000000 is the
	 * 128 KB DTCM (RM0455 2.3.2); the AXI SRAM at 0x24000000 is not tabled */
	{"H7A3", 0x480, .page_size = 8192, .otp_addr = 0x08FFF000, .otp_size = 1024, .sysmem_addr = 0x1FF00000,
	 .sysmem_size = 131072, RAM(131072), BL(0x20004100, 0x20020000),
	 .source = "RM0455 2.3.2 (DTCM 128 KB), 4.3.3; AN2606 RAM 0x20004100 up (stm32flash 0.7, a commented 0x480 row)"},
	/* H74x/H75x: 16 sectors of 128 KB in two banks of 8 (families.c; RM0433 4.3.1 Table 7), system
	 * memory 128 KB; RAM: the 128 KB DTCM at 0x20000000, of which the ROM keeps 0x20000000-0x200040FF
	 * (stm32flash's 0x450 row starts the usable RAM at 0x20004100). The AXI SRAM (0x24000000, 512 KB)
	 * is not tabled: whether the ROM's Write Memory takes it is UNCONFIRMED */
	{"H74x", 0x450, .sysmem_addr = 0x1FF00000, .sysmem_size = 131072, RAM(131072), BL(0x20004100, 0x20020000),
	 .source = "RM0433 2.3.2 (DTCM 128 KB, system memory 128 KB), 4.3.1 Table 7; stm32flash dev_table 0x450"},
	/* U5: 8 KB pages, OTP 512 bytes at 0x0BFA0000 (RM0456 7.3.2); U575/U585: SRAM1-3 768 KB from
	 * 0x20000000 (RM0456 2.3.2); system memory at 0x0BF90000, 64 KB as stm32flash's 0x482 row has it
	 * (the ROM keeps the first 16 KB of SRAM there too) */
	{"U5", 0x482, .page_size = 8192, .otp_addr = 0x0BFA0000, .otp_size = 512, .sysmem_addr = 0x0BF90000,
	 .sysmem_size = 65536, RAM(786432), BL(0x20004000, 0x200C0000),
	 .source = "RM0456 2.3.2 (SRAM1-3 768 KB), 7.3.2; stm32flash dev_table 0x482 (after 0.7, commit cae1bb8)"},
	{"U5", 0, .page_size = 8192, .otp_addr = 0x0BFA0000, .otp_size = 512, .source = "RM0456 7.3.2"},
	/* WB: 4 KB pages, OTP 1 KB at 0x1FFF7000 (RM0434 3.3.1); WB55xG SRAM1 192 KB from 0x20000000
	 * (RM0434 2.2.2; WB parts with less SRAM1 share the ID 0x495: UNCONFIRMED which have less), the
	 * first 16 KB the ROM's (stm32flash's 0x495 row, after 0.7) */
	{"WB", 0x495, .page_size = 4096, .otp_addr = 0x1FFF7000, .otp_size = 1024, .sysmem_addr = 0x1FFF0000,
	 .sysmem_size = 28672, RAM(196608), BL(0x20004000, 0x2000C000),
	 .source = "RM0434 2.2.2 (SRAM1 192 KB on the WB55xG), 3.3.1; the ROM serves 0x20004000-0x2000BFFF only "
	           "(AN2606 table for all 0x495 parts, WB30/35/50/55: stm32flash dev_table 0x495, after 0.7)"},
	{"WB", 0, .page_size = 4096, .otp_addr = 0x1FFF7000, .otp_size = 1024, .sysmem_addr = 0x1FFF0000,
	 .sysmem_size = 28672, .source = "RM0434 3.3.1"},
};

const struct chip_memmap *chip_memmap_of(const struct chip_family *f, uint16_t dev_id)
{
	if (!f)
		return NULL;
	const struct chip_memmap *fallback = NULL;
	for (size_t i = 0; i < sizeof memmaps / sizeof memmaps[0]; i++) {
		const struct chip_memmap *m = &memmaps[i];
		if (strcmp(m->family, f->id) != 0)
			continue;
		if (m->dev_id == dev_id)
			return m;
		if (m->dev_id == 0 && !fallback)
			fallback = m;
	}
	return fallback;
}

/* Appends runs cut to `left` bytes; returns the bytes used. */
static uint32_t cut(const struct chip_sector_run *in, size_t n_in, uint32_t left, struct chip_sector_run *out,
                    size_t cap, size_t *n)
{
	uint32_t used = 0;
	for (size_t i = 0; i < n_in && left; i++) {
		uint32_t count = in[i].count;
		if ((uint64_t)count * in[i].size > left)
			count = left / in[i].size;
		if (!count || *n == cap)
			break;
		out[(*n)++] = (struct chip_sector_run){(uint16_t)count, in[i].size};
		used += count * in[i].size;
		left -= count * in[i].size;
	}
	return used;
}

size_t chip_flash_map(const struct chip_family *f, uint16_t dev_id, uint32_t flash_bytes, bool dual,
                      struct chip_sector_run *runs, size_t cap)
{
	size_t n = 0;
	if (!f)
		return 0;
	const struct chip_memmap *m = chip_memmap_of(f, dev_id);
	if (!flash_bytes)
		flash_bytes = chip_family_flash_bytes(f);
	if (dual && m && m->dual_runs) {
		/* two equal banks, each the bank table cut to half the flash */
		uint32_t half = flash_bytes / 2;
		cut(m->dual_runs, m->n_dual_runs, half, runs, cap, &n);
		cut(m->dual_runs, m->n_dual_runs, half, runs, cap, &n);
		return n;
	}
	if (f->sectors) {
		cut(f->sectors, f->n_sector_runs, flash_bytes, runs, cap, &n);
		return n;
	}
	uint32_t page = m ? (dual && m->dual_page_size ? m->dual_page_size : m->page_size) : 0;
	if (!page || !flash_bytes || flash_bytes / page > UINT16_MAX || !cap)
		return 0;
	runs[0] = (struct chip_sector_run){(uint16_t)(flash_bytes / page), page};
	return 1;
}

int chip_ob_dual_bank(const struct chip_family *f, uint16_t dev_id, const uint8_t *ob, size_t len)
{
	const struct chip_memmap *m = chip_memmap_of(f, dev_id);
	if (!m || !m->dual_field)
		return 0;
	struct ob_decoded d;
	if (!ob || ob_decode(f, ob, len, &d, NULL) != 0)
		return -1;
	for (size_t i = 0; i < d.n_fields; i++)
		if (d.fields[i].field && strcmp(d.fields[i].field->name, m->dual_field) == 0)
			return d.fields[i].present ? d.fields[i].value == m->dual_value : -1;
	return -1;
}

/* ---- the USART bootloader's pins (AN2606, per family) ---- */

static const struct {
	const char *family;
	const char *pins;
} usart_pins[] = {
	/* AN2606's USART sections: USART1 on PA9/PA10 for every family below; a second USART only where
	 * docs/usart.md's pin table has it (graded there; per-part variants UNCONFIRMED) */
	{"C0", "USART1 TX PA9, RX PA10"},
	{"F0", "USART1 TX PA9, RX PA10"},
	{"F1", "USART1 TX PA9, RX PA10"},
	{"F2", "USART1 TX PA9, RX PA10; USART3 TX PB10/PC10, RX PB11/PC11"},
	{"F3", "USART1 TX PA9, RX PA10"},
	{"F40x", "USART1 TX PA9, RX PA10; USART3 TX PB10/PC10, RX PB11/PC11"},
	{"F42x", "USART1 TX PA9, RX PA10; USART3 TX PB10/PC10, RX PB11/PC11"},
	{"F401", "USART1 TX PA9, RX PA10"},
	{"F411", "USART1 TX PA9, RX PA10"},
	{"F412", "USART1 TX PA9, RX PA10"},
	{"F446", "USART1 TX PA9, RX PA10; USART3 TX PB10/PC10, RX PB11/PC11"},
	{"F72x", "USART1 TX PA9, RX PA10; USART3 TX PB10/PC10, RX PB11/PC11"},
	{"F74x", "USART1 TX PA9, RX PA10; USART3 TX PB10/PC10, RX PB11/PC11"},
	{"F76x", "USART1 TX PA9, RX PA10; USART3 TX PB10/PC10, RX PB11/PC11"},
	{"G0", "USART1 TX PA9, RX PA10; USART2 TX PA2, RX PA3"},
	{"G4", "USART1 TX PA9, RX PA10; USART2 TX PA2, RX PA3"},
	{"H74x", "USART1 TX PA9, RX PA10"},
	{"H7A3", "USART1 TX PA9, RX PA10"},
	{"L0", "USART1 TX PA9, RX PA10; USART2 TX PA2, RX PA3"},
	{"L1", "USART1 TX PA9, RX PA10; USART2 TX PA2, RX PA3"},
	{"L4", "USART1 TX PA9, RX PA10; USART2 TX PA2, RX PA3"},
	{"U5", "USART1 TX PA9, RX PA10"},
	{"WB", "USART1 TX PA9, RX PA10"},
};

const char *chip_usart_pins(const struct chip_family *f)
{
	for (size_t i = 0; f && i < sizeof usart_pins / sizeof usart_pins[0]; i++)
		if (!strcmp(usart_pins[i].family, f->id))
			return usart_pins[i].pins;
	return NULL;
}
