/*
 * Option-byte field tables for the F series: F0/F3, F1, F2/F4, F72x, F74x, F76x.
 * F7 is the complete one (protocol.md §7). Bit positions: CMSIS-F7 / stm32-rs SVD tables
 * (https://stm32-rs.github.io/stm32-rs/stm32f/stm32f7/FLASH_0x40023C00_OPTCR_0x0014.html).
 * Meanings of the values (ob show): RM0385 §3.4.1 (F7 user option bytes), RM0090 / RM0390 §3.6.1 (F2/F4),
 * RM0091 §4.1 and §2.5 (F0 user byte, boot), RM0008 §2.5 (F1); shared tables in ob_values.c.
 */
#include "chip/ob.h"
#include "chip/ob_values.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- value tables: the shared ones are in ob_values.c ---- */
/* F2/F4/F7 BOR_LEV (OPTCR[3:2]); symbolic names are the BOR levels (protocol.md §7.1). */
static const struct ob_value_name v_bor_f4[] = {
	{0, "3", "BOR level 3 (2.70-3.60 V)"}, {1, "2", "BOR level 2 (2.40-2.70 V)"},
	{2, "1", "BOR level 1 (2.10-2.40 V)"}, {3, "off", "BOR off (1.62-2.10 V)"}, {0, NULL, NULL}};
/* F7 BOOT_ADDx encodings (HAL-F7; protocol.md §7.1). */
static const struct ob_value_name v_boot_f7[] = {
	{0x0000, "itcm-ram", "ITCM RAM"},
	{0x0040, "sysmem", "system memory (ROM bootloader)"},
	{0x0080, "flash", "flash via ITCM (factory default for BOOT_ADD0)"},
	{0x2000, "flash-axim", "flash via AXIM"},
	{0x8000, "dtcm", "DTCM RAM"},
	{0x8004, "sram1", "SRAM1"},
	{0x8013, "sram2", "SRAM2 (F74x)"},
	{0x800F, "sram2-f76x", "SRAM2 (F72x/F76x)"},
	{0, NULL, NULL}};
static const struct ob_value_name v_ndboot[] = {
	{0, "enabled", "dual boot enabled"}, {1, "disabled", "dual boot disabled"}, {0, NULL, NULL}};
static const struct ob_value_name v_ndbank[] = {
	{0, "dual", "dual bank (2 x 1 MB, sectors renumbered)"}, {1, "single", "single bank"}, {0, NULL, NULL}};

#define F_SW(nm, w, sh, d, v) {nm, w, sh, 1, 1, OB_K_PLAIN, OB_CAUTION, d, v}
#define F_NRST(nm, w, sh, d, v) {nm, w, sh, 1, 1, OB_K_PLAIN, OB_SAFE, d, v}
#define F_IWDG(nm, w, sh, d, v) {nm, w, sh, 1, 1, OB_K_PLAIN, OB_SAFE, d, v}

/* ---- F7 (protocol.md §7.2): four words 8 bytes apart, 16-bit value low, complement high ---- */
static const struct ob_word w_f7[] = {
	{"OPTCR[15:0] (USER, RDP)", 0x00, 16, OB_CPL_HIGH16, 0xAAFF},
	{"OPTCR[31:16] (nWRP, IWDG)", 0x08, 16, OB_CPL_HIGH16, 0xFFFF},
	{"OPTCR1[15:0] BOOT_ADD0", 0x10, 16, OB_CPL_HIGH16, 0x0080},
	{"OPTCR1[31:16] BOOT_ADD1", 0x18, 16, OB_CPL_HIGH16, 0x0040},
};

#define F7_USER_FIELDS \
	{"BOR_LEV", 0, 2, 2, 3, OB_K_PLAIN, OB_CAUTION, "brown-out reset threshold", v_bor_f4}, \
	F_SW("WWDG_SW", 0, 4, "window watchdog: software or hardware", ob_v_wwdg_sw), \
	F_SW("IWDG_SW", 0, 5, "independent watchdog: software or hardware", ob_v_iwdg_sw), \
	F_NRST("nRST_STOP", 0, 6, "reset on entering STOP", ob_v_nrst_stop), \
	F_NRST("nRST_STDBY", 0, 7, "reset on entering STANDBY", ob_v_nrst_stdby), \
	{"RDP", 0, 8, 8, 0xAA, OB_K_RDP, OB_DANGER, "read protection: AA = level 0, CC = level 2, else level 1", NULL}

#define F7_TAIL_FIELDS \
	F_IWDG("IWDG_STDBY", 1, 14, "IWDG in STANDBY", ob_v_iwdg_stdby), \
	F_IWDG("IWDG_STOP", 1, 15, "IWDG in STOP", ob_v_iwdg_stop), \
	{"BOOT_ADD0", 2, 0, 16, 0x0080, OB_K_BOOT_ADDR_F7, OB_DANGER, \
	 "boot address [29:14] when BOOT pin = 0", v_boot_f7}, \
	{"BOOT_ADD1", 3, 0, 16, 0x0040, OB_K_BOOT_ADDR_F7, OB_DANGER, \
	 "boot address [29:14] when BOOT pin = 1 (0x0040 = bootloader)", v_boot_f7}

static const struct ob_field f_f74x[] = {
	F7_USER_FIELDS,
	{"nWRP", 1, 0, 8, 0xFF, OB_K_NWRP, OB_DANGER, "write protection, bit i = 0: sector i protected", NULL},
	F7_TAIL_FIELDS,
};

static const struct ob_field f_f76x[] = {
	F7_USER_FIELDS,
	{"nWRP", 1, 0, 12, 0xFFF, OB_K_NWRP, OB_DANGER,
	 "write protection, bit i = 0: sector i protected (single-bank numbering)", NULL},
	{"nDBOOT", 1, 12, 1, 1, OB_K_NDBOOT, OB_DANGER, "dual boot (AN2606 Pattern 9)", v_ndboot},
	{"nDBANK", 1, 13, 1, 1, OB_K_NDBANK, OB_DANGER, "flash bank mode", v_ndbank},
	F7_TAIL_FIELDS,
};

const struct ob_layout ob_layout_f74x = {
	.id = "F74x", .address = 0x1FFF0000, .size = 32, .min_size = 32, .rdp_level0 = 0xAA, .has_rdp2 = true,
	.writable = true, .fill = 0xFF, .words = w_f7, .n_words = N(w_f7), .fields = f_f74x, .n_fields = N(f_f74x),
	.source = "protocol.md §7.1-7.2 (CMSIS-F7, HAL-F7, BMP defaults, OBSERVED F767 dump)",
	.note = "The reserved words at +4/+0xC/+0x14/+0x1C are kept as read; the exact write image the F74x "
		"ROM expects is UNCONFIRMED (protocol.md §7.2)."};

const struct ob_layout ob_layout_f76x = {
	.id = "F76x", .address = 0x1FFF0000, .size = 32, .min_size = 32, .rdp_level0 = 0xAA, .has_rdp2 = true,
	.writable = true, .fill = 0xFF, .words = w_f7, .n_words = N(w_f7), .fields = f_f76x, .n_fields = N(f_f76x),
	.source = "protocol.md §7.1-7.2 (OBSERVED F767 dump 5500aaff/2000dfff/ff7f0080/ffbf0040)",
	.note = "Pattern 9 dual-boot behaviour (nDBOOT/nDBANK) is UNCONFIRMED; the guard treats "
		"nDBOOT=0 with nDBANK=0 as having no sure path into the bootloader."};

/* F72x: the alt string advertises 48 bytes (protocol.md §3.2); the words past 0x1F (OPTCR2/PCROP) are
 * kept as read and not decoded (UNCONFIRMED layout). */
const struct ob_layout ob_layout_f72x = {
	.id = "F72x", .address = 0x1FFF0000, .size = 48, .min_size = 32, .rdp_level0 = 0xAA, .has_rdp2 = true,
	.writable = true, .fill = 0xFF, .words = w_f7, .n_words = N(w_f7), .fields = f_f74x, .n_fields = N(f_f74x),
	.source = "protocol.md §3.2 (48-byte alt), §7 (F74x layout; BMP writes 3 words for F72x)",
	.note = "Bytes 0x20-0x2F (PCROP, OPTCR2) are not decoded: UNCONFIRMED."};

/* ---- F2/F4 (RM0090 §3.6.1 Table 16 "Option byte organization"): 0x1FFFC000 bits [15:0] = RDP:USER,
 * 0x1FFFC008 bits [15:0] = SPRMOD/DB1M/nWRP; bits [63:16] reserved. RM0090 documents no complement
 * copy, so none is checked; the reserved bytes are kept as read. Bit positions: stm32-rs F4 SVD
 * (https://stm32-rs.github.io/stm32-rs/stm32f/stm32f4/FLASH_0x40023C00_OPTCR_0x0014.html).
 * Defaults: the RM0090 FLASH_OPTCR reset value 0x0FFFAAED, which the option bytes load at reset:
 * USER:RDP = 0xAAED as the manual gives it (bits 1:0 are OPTSTRT/OPTLOCK in the register and
 * unused in the option bytes; the emulator's f407 profile holds the same ED, so an unprotected
 * F4 reads "back to factory defaults"). ---- */
static const struct ob_word w_f4[] = {
	{"0x1FFFC000 (USER, RDP)", 0x00, 16, OB_CPL_NONE, 0xAAED},
	{"0x1FFFC008 (nWRP)", 0x08, 16, OB_CPL_NONE, 0x0FFF},
};
static const struct ob_value_name v_sprmod[] = {
	{0, "wrp", "nWRP bits select write protection"}, {1, "pcrop", "nWRP bits select PCROP (read/write)"},
	{0, NULL, NULL}};
static const struct ob_field f_f4[] = {
	{"BOR_LEV", 0, 2, 2, 3, OB_K_PLAIN, OB_CAUTION, "brown-out reset threshold", v_bor_f4},
	{"BFB2", 0, 4, 1, 0, OB_K_PLAIN, OB_DANGER, "dual-bank boot (F42x/F43x/F469 only; reserved elsewhere)",
	 OB_VALS2("boot from bank 1 or system memory as the BOOT pins say",
	          "dual-bank boot: boot from system memory, which starts bank 2 (else bank 1)"),
	 "F42x"},
	F_SW("WDG_SW", 0, 5, "independent watchdog: software or hardware", ob_v_iwdg_sw),
	F_NRST("nRST_STOP", 0, 6, "reset on entering STOP", ob_v_nrst_stop),
	F_NRST("nRST_STDBY", 0, 7, "reset on entering STANDBY", ob_v_nrst_stdby),
	{"RDP", 0, 8, 8, 0xAA, OB_K_RDP, OB_DANGER, "read protection: AA = level 0, CC = level 2, else level 1", NULL},
	{"nWRP", 1, 0, 12, 0xFFF, OB_K_NWRP, OB_DANGER, "write protection, bit i = 0: sector i protected", NULL},
	{"DB1M", 1, 14, 1, 0, OB_K_PLAIN, OB_DANGER, "dual bank on 1 MB parts (F42x/F43x only)",
	 OB_VALS2("1 MB parts: single bank", "1 MB parts: dual bank (2 x 512 KB)"), "F42x"},
	{"SPRMOD", 1, 15, 1, 0, OB_K_PLAIN, OB_DANGER, "nWRP meaning (F401/F411/F412/F42x/F446...)", v_sprmod,
	 "F401 F411 F412 F42x F446"},
};
const struct ob_layout ob_layout_f4 = {
	.id = "F4", .address = 0x1FFFC000, .size = 16, .min_size = 16, .rdp_level0 = 0xAA, .has_rdp2 = true,
	.writable = true, .fill = 0xFF, .words = w_f4, .n_words = N(w_f4), .fields = f_f4, .n_fields = N(f_f4),
	.source = "RM0090 §3.6.1 Table 16; protocol.md §3.2 (16-byte alt), §6 (CubeProgrammer reads 16 bytes)",
	.note = "Whether the ROM's 16-byte image holds complement copies in the reserved bytes is UNCONFIRMED; "
		"they are not checked and are kept as read."};

/* ---- F0/F3 (RM0091 §4, RM0316 §4, RM0313 Table 9): byte + complement pairs at 0x1FFFF800. ---- */
static const struct ob_word w_f0f1[] = {
	{"RDP/nRDP", 0x0, 8, OB_CPL_BYTE, 0xAA}, {"USER/nUSER", 0x2, 8, OB_CPL_BYTE, 0xFF},
	{"Data0/nData0", 0x4, 8, OB_CPL_BYTE, 0xFF}, {"Data1/nData1", 0x6, 8, OB_CPL_BYTE, 0xFF},
	{"WRP0/nWRP0", 0x8, 8, OB_CPL_BYTE, 0xFF}, {"WRP1/nWRP1", 0xA, 8, OB_CPL_BYTE, 0xFF},
	{"WRP2/nWRP2", 0xC, 8, OB_CPL_BYTE, 0xFF}, {"WRP3/nWRP3", 0xE, 8, OB_CPL_BYTE, 0xFF},
};
static const struct ob_word w_f1[] = {
	{"RDP/nRDP", 0x0, 8, OB_CPL_BYTE, 0xA5}, {"USER/nUSER", 0x2, 8, OB_CPL_BYTE, 0xFF},
	{"Data0/nData0", 0x4, 8, OB_CPL_BYTE, 0xFF}, {"Data1/nData1", 0x6, 8, OB_CPL_BYTE, 0xFF},
	{"WRP0/nWRP0", 0x8, 8, OB_CPL_BYTE, 0xFF}, {"WRP1/nWRP1", 0xA, 8, OB_CPL_BYTE, 0xFF},
	{"WRP2/nWRP2", 0xC, 8, OB_CPL_BYTE, 0xFF}, {"WRP3/nWRP3", 0xE, 8, OB_CPL_BYTE, 0xFF},
};
static const struct ob_value_name v_boot_sel[] = {
	{0, "option", "BOOT0 taken from the nBOOT0 option bit"}, {1, "pin", "BOOT0 taken from the BOOT0 pin"},
	{0, NULL, NULL}};
#define WRP_FIELDS \
	{"WRP0", 4, 0, 8, 0xFF, OB_K_NWRP, OB_DANGER, "write protection, bit i = 0: 4 KiB group i protected", NULL, \
	 NULL, 1}, \
	{"WRP1", 5, 0, 8, 0xFF, OB_K_NWRP, OB_DANGER, "write protection, 4 KiB groups 8-15 (32-64 KiB)", NULL, NULL, 9}, \
	{"WRP2", 6, 0, 8, 0xFF, OB_K_NWRP, OB_DANGER, "write protection, 4 KiB groups 16-23 (64-96 KiB)", NULL, NULL, \
	 17}, \
	{"WRP3", 7, 0, 8, 0xFF, OB_K_NWRP, OB_DANGER, \
	 "write protection, 4 KiB groups 24-31 (96 KiB up; bit 7: rest of flash)", NULL, NULL, 25}
static const struct ob_field f_f0f3[] = {
	{"RDP", 0, 0, 8, 0xAA, OB_K_RDP, OB_DANGER, "read protection: AA = level 0, CC = level 2, else level 1", NULL},
	F_SW("WDG_SW", 1, 0, "independent watchdog: software or hardware", ob_v_iwdg_sw),
	F_NRST("nRST_STOP", 1, 1, "reset on entering STOP", ob_v_nrst_stop),
	F_NRST("nRST_STDBY", 1, 2, "reset on entering STANDBY", ob_v_nrst_stdby),
	{"nBOOT0", 1, 3, 1, 1, OB_K_NBOOT0, OB_DANGER, "BOOT0 value when BOOT_SEL = 0 (F04x/F07x/F09x)", ob_v_nboot0, "F0"},
	{"nBOOT1", 1, 4, 1, 1, OB_K_NBOOT1, OB_DANGER, "with BOOT0 = 1: 1 = system memory, 0 = SRAM", ob_v_nboot1},
	{"VDDA_MONITOR", 1, 5, 1, 1, OB_K_PLAIN, OB_SAFE, "VDDA power-supply supervisor",
	 OB_VALS2("VDDA supply supervisor disabled", "VDDA supply supervisor enabled")},
	{"RAM_PARITY_CHECK", 1, 6, 1, 1, OB_K_PLAIN, OB_SAFE, "0 = SRAM parity check on", ob_v_sram_pe},
	{"BOOT_SEL", 1, 7, 1, 1, OB_K_SWBOOT_0OPT, OB_DANGER, "BOOT0 source (F04x/F07x/F09x; reserved on F3)",
	 v_boot_sel, "F0"},
	{"DATA0", 2, 0, 8, 0xFF, OB_K_DATA, OB_SAFE, "user data byte 0", NULL},
	{"DATA1", 3, 0, 8, 0xFF, OB_K_DATA, OB_SAFE, "user data byte 1", NULL},
	WRP_FIELDS,
};
const struct ob_layout ob_layout_f0f3 = {
	.id = "F0/F3", .address = 0x1FFFF800, .size = 16, .min_size = 16, .rdp_level0 = 0xAA, .has_rdp2 = true,
	.writable = true, .fill = 0xFF, .words = w_f0f1, .n_words = N(w_f0f1), .fields = f_f0f3,
	.n_fields = N(f_f0f3),
	.source = "RM0091 §4.1 (F0), RM0316 §4.1 (F3), RM0313 Table 9 (byte/complement pairs); "
		  "protocol.md §3.2 (16-byte alt)",
	.note = "USER bits 3 and 7 exist only on F04x/F07x/F09x; on F3 bit 3 is reserved.",
	.wrp_bit_bytes = 4096};

static const struct ob_field f_f1[] = {
	{"RDP", 0, 0, 8, 0xA5, OB_K_RDP, OB_DANGER, "read protection: A5 = unprotected, else protected", NULL},
	F_SW("WDG_SW", 1, 0, "independent watchdog: software or hardware", ob_v_iwdg_sw),
	F_NRST("nRST_STOP", 1, 1, "reset on entering STOP", ob_v_nrst_stop),
	F_NRST("nRST_STDBY", 1, 2, "reset on entering STANDBY", ob_v_nrst_stdby),
	{"DATA0", 2, 0, 8, 0xFF, OB_K_DATA, OB_SAFE, "user data byte 0", NULL},
	{"DATA1", 3, 0, 8, 0xFF, OB_K_DATA, OB_SAFE, "user data byte 1", NULL},
	WRP_FIELDS,
};
const struct ob_layout ob_layout_f1 = {
	.id = "F1", .address = 0x1FFFF800, .size = 16, .min_size = 16, .rdp_level0 = 0xA5, .has_rdp2 = false,
	.writable = true, .fill = 0xFF, .words = w_f1, .n_words = N(w_f1), .fields = f_f1, .n_fields = N(f_f1),
	.source = "RM0008 §2.5 / PM0075 §2.5 (option bytes); data/dfu-list/flashfloppy-462_F105-... (16-byte alt)",
	.note = NULL, .wrp_bit_bytes = 4096};
