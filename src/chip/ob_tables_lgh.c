/*
 * Option-byte field tables for L4, G0, G4 (64-bit option words: 32-bit value, complement in the next
 * 32 bits) and H7 (decode-only: the ROM exposes the FLASH option registers from 0x5200201C).
 * Bit positions: stm32-rs / embassy SVD tables (docs.rs stm32l4 OPTR, stm32g0 OPTR, stm32g4 OPTR;
 * https://stm32-rs.github.io/stm32-rs/stm32h/FLASH_0x52002000_OPTSR_CUR_0x001C.html).
 */
#include "chip/ob.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct ob_value_name v_sw_hw[] = {
	{0, "hw", "hardware watchdog (starts at reset)"}, {1, "sw", "software watchdog"}, {0, NULL, NULL}};
static const struct ob_value_name v_nrst[] = {
	{0, "reset", "reset generated on entering the low-power mode"},
	{1, "noreset", "no reset on entering the low-power mode"}, {0, NULL, NULL}};
static const struct ob_value_name v_iwdg_freeze[] = {
	{0, "freeze", "IWDG frozen in this mode"}, {1, "run", "IWDG keeps running in this mode"}, {0, NULL, NULL}};
/* L4/G4 BOR_LEV (OPTR[10:8]): 0 = 1.7 V ... 4 = 2.8 V (RM0351 §3.4.1); the manual defines no other
 * value, so 5-7 are reserved and refused. */
static const struct ob_value_name v_bor_l4[] = {
	{0, "0", "BOR level 0 (~1.7 V)"}, {1, "1", "BOR level 1 (~2.0 V)"}, {2, "2", "BOR level 2 (~2.2 V)"},
	{3, "3", "BOR level 3 (~2.5 V)"}, {4, "4", "BOR level 4 (~2.8 V)"}, {5, NULL, "reserved"},
	{6, NULL, "reserved"}, {7, NULL, "reserved"}, {0, NULL, NULL}};
static const struct ob_value_name v_swboot0[] = {
	{0, "option", "BOOT0 taken from the nBOOT0 option bit"}, {1, "pin", "BOOT0 taken from the BOOT0 pin"},
	{0, NULL, NULL}};
static const struct ob_value_name v_nboot_sel[] = {
	{0, "pin", "BOOT0 taken from the BOOT0 pin"}, {1, "option", "BOOT0 taken from the nBOOT0 option bit"},
	{0, NULL, NULL}};
static const struct ob_value_name v_nrst_mode[] = {
	{0, NULL, "reserved"}, {1, "input", "NRST input only"}, {2, "gpio", "NRST pin is a GPIO"},
	{3, "bidir", "NRST bidirectional reset (default)"}, {0, NULL, NULL}};

#define F_SW(nm, w, sh, d) {nm, w, sh, 1, 1, OB_K_PLAIN, OB_CAUTION, d, v_sw_hw}
#define F_NRST(nm, w, sh, d) {nm, w, sh, 1, 1, OB_K_PLAIN, OB_SAFE, d, v_nrst}
#define F_IWDG(nm, w, sh, d) {nm, w, sh, 1, 1, OB_K_PLAIN, OB_SAFE, d, v_iwdg_freeze}
#define F_RDP(w) {"RDP", w, 0, 8, 0xAA, OB_K_RDP, OB_DANGER, "read protection: AA = level 0, CC = level 2, else level 1", NULL}

/* WRP areas: protected pages [START, END] when START <= END; factory START = 0xFF, END = 0 (none). */
#define F_WRP(a, w) \
	{"WRP" a "_STRT", w, 0, 8, 0xFF, OB_K_WRP_START, OB_DANGER, "write-protected area start page", NULL}, \
	{"WRP" a "_END", w, 16, 8, 0x00, OB_K_WRP_END, OB_DANGER, "write-protected area end page", NULL}

/* ---- L4 (RM0351 §3.4.1): 0x1FFF7800 OPTR, 0x1FFF7808 PCROP1SR, 0x1FFF7810 PCROP1ER, 0x1FFF7818
 * WRP1AR, 0x1FFF7820 WRP1BR = 40 bytes, the size the alt string advertises (protocol.md §3.2).
 * Default OPTR 0xFFEFF8AA (RM0351 FLASH_OPTR reset value). Reserved-bit defaults of the other words
 * are UNCONFIRMED. ---- */
static const struct ob_word w_l4[] = {
	{"OPTR", 0x00, 32, OB_CPL_NEXT32, 0xFFEFF8AA},
	{"PCROP1SR", 0x08, 32, OB_CPL_NEXT32, 0xFFFFFFFF},
	{"PCROP1ER", 0x10, 32, OB_CPL_NEXT32, 0x7FFF0000},
	{"WRP1AR", 0x18, 32, OB_CPL_NEXT32, 0xFF00FFFF},
	{"WRP1BR", 0x20, 32, OB_CPL_NEXT32, 0xFF00FFFF},
};
static const struct ob_field f_l4[] = {
	F_RDP(0),
	{"BOR_LEV", 0, 8, 3, 0, OB_K_PLAIN, OB_CAUTION, "brown-out reset threshold", v_bor_l4},
	F_NRST("nRST_STOP", 0, 12, "reset on entering STOP"),
	F_NRST("nRST_STDBY", 0, 13, "reset on entering STANDBY"),
	F_NRST("nRST_SHDW", 0, 14, "reset on entering SHUTDOWN"),
	F_SW("IWDG_SW", 0, 16, "independent watchdog: software or hardware"),
	F_IWDG("IWDG_STOP", 0, 17, "IWDG in STOP"),
	F_IWDG("IWDG_STDBY", 0, 18, "IWDG in STANDBY"),
	F_SW("WWDG_SW", 0, 19, "window watchdog: software or hardware"),
	{"BFB2", 0, 20, 1, 0, OB_K_PLAIN, OB_DANGER, "dual-bank boot (1 MB parts)", NULL},
	{"DUALBANK", 0, 21, 1, 1, OB_K_PLAIN, OB_DANGER, "dual bank on 256/512 KB L47x/L48x", NULL},
	{"nBOOT1", 0, 23, 1, 1, OB_K_NBOOT1, OB_DANGER, "with BOOT0 = 1: 1 = system memory, 0 = SRAM1", NULL},
	{"SRAM2_PE", 0, 24, 1, 1, OB_K_PLAIN, OB_SAFE, "0 = SRAM2 parity check on", NULL},
	{"SRAM2_RST", 0, 25, 1, 1, OB_K_PLAIN, OB_SAFE, "0 = SRAM2 erased on system reset", NULL},
	{"nSWBOOT0", 0, 26, 1, 1, OB_K_SWBOOT_0OPT, OB_DANGER, "BOOT0 source (L43x and later)", v_swboot0},
	{"nBOOT0", 0, 27, 1, 1, OB_K_NBOOT0, OB_DANGER, "BOOT0 value when nSWBOOT0 = 0", NULL},
	{"PCROP1_STRT", 1, 0, 16, 0xFFFF, OB_K_PLAIN, OB_CAUTION, "PCROP area start (double-word offset)", NULL},
	{"PCROP1_END", 2, 0, 16, 0x0000, OB_K_PLAIN, OB_CAUTION, "PCROP area end", NULL},
	{"PCROP_RDP", 2, 31, 1, 0, OB_K_PLAIN, OB_CAUTION, "1 = PCROP area erased on RDP regression", NULL},
	F_WRP("1A", 3),
	F_WRP("1B", 4),
};
const struct ob_layout ob_layout_l4 = {
	.id = "L4", .address = 0x1FFF7800, .size = 40, .min_size = 40, .rdp_level0 = 0xAA, .has_rdp2 = true,
	.writable = true, .fill = 0xFF, .words = w_l4, .n_words = N(w_l4), .fields = f_l4, .n_fields = N(f_l4),
	.source = "RM0351 §3.4.1 (option bytes), §3.7.8 (FLASH_OPTR); protocol.md §2.6, §3.2",
	.note = "Complement words (+4) and reserved-bit defaults UNCONFIRMED; CubeProgrammer writes only 36 "
		"bytes (protocol.md §2.6). Bank-2 words (0x1FFFF8xx) of dual-bank parts are not decoded."};

/* ---- G0 (RM0444 §3.4.1): OPTR, PCROP1ASR, PCROP1AER, WRP1AR, WRP1BR from 0x1FFF7800. The ROM's
 * OB alt is not advertised (all alts show the flash; protocol.md §2.6), so 40 bytes is our choice.
 * Default OPTR 0xFFFFFEAA (RM0444 FLASH_OPTR reset value, G07x/G08x). ---- */
static const struct ob_value_name v_bor_g0[] = {
	{0, "1", "level 1 (~2.0 V)"}, {1, "2", "level 2 (~2.2 V)"}, {2, "3", "level 3 (~2.5 V)"},
	{3, "4", "level 4 (~2.8 V)"}, {0, NULL, NULL}};
static const struct ob_word w_g0[] = {
	{"OPTR", 0x00, 32, OB_CPL_NEXT32, 0xFFFFFEAA},
	{"PCROP1ASR", 0x08, 32, OB_CPL_NEXT32, 0xFFFFFFFF},
	{"PCROP1AER", 0x10, 32, OB_CPL_NEXT32, 0x00000000},
	{"WRP1AR", 0x18, 32, OB_CPL_NEXT32, 0x000000FF},
	{"WRP1BR", 0x20, 32, OB_CPL_NEXT32, 0x000000FF},
};
static const struct ob_field f_g0[] = {
	F_RDP(0),
	{"BOREN", 0, 8, 1, 0, OB_K_PLAIN, OB_CAUTION, "brown-out reset enabled", NULL},
	{"BORF_LEV", 0, 9, 2, 3, OB_K_PLAIN, OB_CAUTION, "BOR falling threshold", v_bor_g0},
	{"BORR_LEV", 0, 11, 2, 3, OB_K_PLAIN, OB_CAUTION, "BOR rising threshold", v_bor_g0},
	F_NRST("nRST_STOP", 0, 13, "reset on entering STOP"),
	F_NRST("nRST_STDBY", 0, 14, "reset on entering STANDBY"),
	F_NRST("nRST_SHDW", 0, 15, "reset on entering SHUTDOWN"),
	F_SW("IWDG_SW", 0, 16, "independent watchdog: software or hardware"),
	F_IWDG("IWDG_STOP", 0, 17, "IWDG in STOP"),
	F_IWDG("IWDG_STDBY", 0, 18, "IWDG in STANDBY"),
	F_SW("WWDG_SW", 0, 19, "window watchdog: software or hardware"),
	{"RAM_PARITY_CHECK", 0, 22, 1, 1, OB_K_PLAIN, OB_SAFE, "0 = SRAM parity check on", NULL},
	{"nBOOT_SEL", 0, 24, 1, 1, OB_K_SWBOOT_1OPT, OB_DANGER, "BOOT0 source", v_nboot_sel},
	{"nBOOT1", 0, 25, 1, 1, OB_K_NBOOT1, OB_DANGER, "with BOOT0 = 1: 1 = system memory, 0 = SRAM", NULL},
	{"nBOOT0", 0, 26, 1, 1, OB_K_NBOOT0, OB_DANGER, "BOOT0 value when nBOOT_SEL = 1", NULL},
	{"NRST_MODE", 0, 27, 2, 3, OB_K_PLAIN, OB_CAUTION, "NRST pin mode", v_nrst_mode},
	{"IRHEN", 0, 29, 1, 1, OB_K_PLAIN, OB_SAFE, "internal reset holder enabled", NULL},
	{"WRP1A_STRT", 3, 0, 7, 0x7F, OB_K_WRP_START, OB_DANGER, "write-protected area A start page", NULL},
	{"WRP1A_END", 3, 16, 7, 0x00, OB_K_WRP_END, OB_DANGER, "write-protected area A end page", NULL},
	{"WRP1B_STRT", 4, 0, 7, 0x7F, OB_K_WRP_START, OB_DANGER, "write-protected area B start page", NULL},
	{"WRP1B_END", 4, 16, 7, 0x00, OB_K_WRP_END, OB_DANGER, "write-protected area B end page", NULL},
};
const struct ob_layout ob_layout_g0 = {
	.id = "G0", .address = 0x1FFF7800, .size = 40, .min_size = 40, .rdp_level0 = 0xAA, .has_rdp2 = true,
	.writable = true, .fill = 0xFF, .words = w_g0, .n_words = N(w_g0), .fields = f_g0, .n_fields = N(f_g0),
	.source = "RM0444 §3.4.1, §3.7.8 (FLASH_OPTR); docs.rs stm32g0 OPTR bit map",
	.note = "Block size, complement words and WRP defaults UNCONFIRMED (no OB alt on the G0 ROM). "
		"Note: by default nBOOT_SEL = 1, so BOOT0 comes from nBOOT0; the ROM is reached via the "
		"empty-flash check."};

/* ---- G4 (RM0440 §3.4.1): bank-1 zone 0x1FFF7800 (OPTR, PCROP1SR, PCROP1ER, WRP1AR, WRP1BR, SEC1R,
 * 48 bytes) and bank-2 zone 0x1FFFF800 (48 bytes), concatenated; a 48-byte block decodes bank 1. ---- */
static const struct ob_word w_g4[] = {
	{"OPTR", 0x00, 32, OB_CPL_NEXT32, 0xFFEFF8AA},
	{"PCROP1SR", 0x08, 32, OB_CPL_NEXT32, 0xFFFFFFFF},
	{"PCROP1ER", 0x10, 32, OB_CPL_NEXT32, 0x7FFF0000},
	{"WRP1AR", 0x18, 32, OB_CPL_NEXT32, 0xFF00FFFF},
	{"WRP1BR", 0x20, 32, OB_CPL_NEXT32, 0xFF00FFFF},
	{"SEC1R", 0x28, 32, OB_CPL_NEXT32, 0xFFFEFF00},
	{"WRP2AR", 0x30 + 0x18, 32, OB_CPL_NEXT32, 0xFF00FFFF},
	{"WRP2BR", 0x30 + 0x20, 32, OB_CPL_NEXT32, 0xFF00FFFF},
};
static const struct ob_field f_g4[] = {
	F_RDP(0),
	{"BOR_LEV", 0, 8, 3, 0, OB_K_PLAIN, OB_CAUTION, "brown-out reset threshold", v_bor_l4},
	F_NRST("nRST_STOP", 0, 12, "reset on entering STOP"),
	F_NRST("nRST_STDBY", 0, 13, "reset on entering STANDBY"),
	F_NRST("nRST_SHDW", 0, 14, "reset on entering SHUTDOWN"),
	F_SW("IWDG_SW", 0, 16, "independent watchdog: software or hardware"),
	F_IWDG("IWDG_STOP", 0, 17, "IWDG in STOP"),
	F_IWDG("IWDG_STDBY", 0, 18, "IWDG in STANDBY"),
	F_SW("WWDG_SW", 0, 19, "window watchdog: software or hardware"),
	{"BFB2", 0, 20, 1, 0, OB_K_PLAIN, OB_DANGER, "dual-bank boot (category 3)", NULL},
	{"DBANK", 0, 22, 1, 1, OB_K_PLAIN, OB_DANGER, "1 = dual bank (category 3)", NULL},
	{"nBOOT1", 0, 23, 1, 1, OB_K_NBOOT1, OB_DANGER, "with BOOT0 = 1: 1 = system memory, 0 = SRAM1", NULL},
	{"SRAM_PE", 0, 24, 1, 1, OB_K_PLAIN, OB_SAFE, "0 = SRAM parity check on", NULL},
	{"CCMSRAM_RST", 0, 25, 1, 1, OB_K_PLAIN, OB_SAFE, "0 = CCM SRAM erased on system reset", NULL},
	{"nSWBOOT0", 0, 26, 1, 1, OB_K_SWBOOT_0OPT, OB_DANGER, "BOOT0 source", v_swboot0},
	{"nBOOT0", 0, 27, 1, 1, OB_K_NBOOT0, OB_DANGER, "BOOT0 value when nSWBOOT0 = 0", NULL},
	{"NRST_MODE", 0, 28, 2, 3, OB_K_PLAIN, OB_CAUTION, "NRST pin mode", v_nrst_mode},
	{"IRHEN", 0, 30, 1, 1, OB_K_PLAIN, OB_SAFE, "internal reset holder enabled", NULL},
	{"PCROP1_STRT", 1, 0, 15, 0x7FFF, OB_K_PLAIN, OB_CAUTION, "PCROP area start", NULL},
	{"PCROP1_END", 2, 0, 15, 0x0000, OB_K_PLAIN, OB_CAUTION, "PCROP area end", NULL},
	{"PCROP_RDP", 2, 31, 1, 0, OB_K_PLAIN, OB_CAUTION, "1 = PCROP area erased on RDP regression", NULL},
	F_WRP("1A", 3),
	F_WRP("1B", 4),
	{"BOOT_LOCK", 5, 16, 1, 0, OB_K_PLAIN, OB_DANGER, "1 = boot forced from main flash (no bootloader)", NULL},
	{"SEC_SIZE1", 5, 0, 8, 0x00, OB_K_PLAIN, OB_CAUTION, "securable area size (pages)", NULL},
	F_WRP("2A", 6),
	F_WRP("2B", 7),
};
const struct ob_layout ob_layout_g4 = {
	.id = "G4", .address = 0x1FFF7800, .size = 96, .min_size = 48, .rdp_level0 = 0xAA, .has_rdp2 = true,
	.writable = true, .fill = 0xFF, .words = w_g4, .n_words = N(w_g4), .fields = f_g4, .n_fields = N(f_g4),
	.source = "RM0440 §3.4.1, §3.7.8 (FLASH_OPTR), §3.7.16 (SEC1R); data/dfu-list/hausrack_G474CE_... "
		  "(two 48-byte zones)",
	.note = "Complement words, SEC1R and bank-2 defaults UNCONFIRMED. Bytes 48-95 are the 0x1FFFF800 zone."};

/* ---- H7 (RM0433 §4.9): the ROM's OB alt starts at FLASH_OPTSR_CUR (0x5200201C). Offsets: +0x00
 * OPTSR_CUR, +0x04 OPTSR_PRG, +0x08 OPTCCR, +0x0C PRAR_CUR1, +0x10 PRAR_PRG1, +0x14 SCAR_CUR1,
 * +0x18 SCAR_PRG1, +0x1C WPSN_CUR1R, +0x20 WPSN_PRG1R, +0x24 BOOT_CURR, +0x28 BOOT_PRGR.
 * Registers, no complements. Decode-only. ---- */
static const struct ob_value_name v_bor_h7[] = {
	{0, "off", "BOR off (VBOR0, ~1.67 V)"}, {1, "1", "BOR level 1 (~2.1 V)"}, {2, "2", "BOR level 2 (~2.4 V)"},
	{3, "3", "BOR level 3 (~2.7 V)"}, {0, NULL, NULL}};
static const struct ob_value_name v_boot_h7[] = {
	{0x0800, "flash", "flash bank 1 (factory default for BOOT_ADD0)"},
	{0x1FF0, "sysmem", "system memory (ROM bootloader)"},
	{0x2000, "dtcm", "DTCM RAM"}, {0x2400, "axi-sram", "AXI SRAM"}, {0, NULL, NULL}};
static const struct ob_word w_h7[] = {
	{"OPTSR_CUR", 0x00, 32, OB_CPL_NONE, 0x0006AAD0},
	{"OPTSR_PRG", 0x04, 32, OB_CPL_NONE, 0x0006AAD0},
	{"WPSN_CUR1R", 0x1C, 32, OB_CPL_NONE, 0x000000FF},
	{"BOOT_CURR", 0x24, 32, OB_CPL_NONE, 0x1FF00800},
};
static const struct ob_field f_h7[] = {
	{"BOR_LEV", 0, 2, 2, 0, OB_K_PLAIN, OB_CAUTION, "brown-out reset threshold", v_bor_h7},
	F_SW("IWDG1_SW", 0, 4, "IWDG1: software or hardware"),
	F_NRST("NRST_STOP_D1", 0, 6, "reset on D1 entering DStop"),
	F_NRST("NRST_STBY_D1", 0, 7, "reset on D1 entering DStandby"),
	{"RDP", 0, 8, 8, 0xAA, OB_K_RDP, OB_DANGER, "read protection: AA = level 0, CC = level 2, else level 1", NULL},
	F_IWDG("FZ_IWDG_STOP", 0, 17, "IWDG in Stop"),
	F_IWDG("FZ_IWDG_SDBY", 0, 18, "IWDG in Standby"),
	{"ST_RAM_SIZE", 0, 19, 2, 0, OB_K_PLAIN, OB_CAUTION, "DTCM reserved for ST secure code", NULL},
	{"SECURITY", 0, 21, 1, 0, OB_K_PLAIN, OB_DANGER, "secure access mode", NULL},
	{"IO_HSLV", 0, 29, 1, 0, OB_K_PLAIN, OB_CAUTION, "I/O high speed at low voltage", NULL},
	{"SWAP_BANK_OPT", 0, 31, 1, 0, OB_K_PLAIN, OB_DANGER, "1 = banks swapped", NULL},
	{"nWRP", 2, 0, 8, 0xFF, OB_K_NWRP, OB_DANGER, "bank-1 write protection (WPSN), bit i = 0: sector i protected",
	 NULL},
	{"BOOT_ADD0", 3, 0, 16, 0x0800, OB_K_BOOT_ADDR_H7, OB_DANGER, "boot address [31:16] when BOOT0 = 0",
	 v_boot_h7},
	{"BOOT_ADD1", 3, 16, 16, 0x1FF0, OB_K_BOOT_ADDR_H7, OB_DANGER, "boot address [31:16] when BOOT0 = 1",
	 v_boot_h7},
};
const struct ob_layout ob_layout_h7 = {
	.id = "H7", .address = 0x5200201C, .size = 128, .min_size = 0x28, .rdp_level0 = 0xAA, .has_rdp2 = true,
	.writable = false, .fill = 0x00, .words = w_h7, .n_words = N(w_h7), .fields = f_h7, .n_fields = N(f_h7),
	.source = "RM0433 §4.9.7-4.9.14 (OPTSR, WPSN, BOOT registers); protocol.md §3.2 (alt at 0x5200201C), §6",
	.note = "Decode-only: the window is the FLASH option registers (RM0433 §4.9), which change through "
		"OPTSR_PRG and FLASH_OPTCR.OPTSTART (RM0433, option byte modification); how the ROM applies a "
		"DNLOAD there is UNCONFIRMED (AN3156 names the alt only). Reserved-bit defaults UNCONFIRMED; dual-core "
		"(H745/H747) bits not decoded."};
