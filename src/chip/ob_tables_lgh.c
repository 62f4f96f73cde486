/*
 * Option-byte field tables for L4, G0, G4 (64-bit option words: 32-bit value, complement in the next
 * 32 bits) and H7 (decode-only: the ROM exposes the FLASH option registers from 0x5200201C).
 * Bit positions: stm32-rs / embassy SVD tables (docs.rs stm32l4 OPTR, stm32g0 OPTR, stm32g4 OPTR;
 * https://stm32-rs.github.io/stm32-rs/stm32h/FLASH_0x52002000_OPTSR_CUR_0x001C.html).
 * Meanings of the values (ob show): RM0351 §3.7.8-3.7.10 (L4 FLASH_OPTR, PCROP, WRP), RM0444 §3.7.8 (G0),
 * RM0440 §3.7.8, §3.7.16 (G4 OPTR, SEC1R), RM0433 §4.9.7 (H7 OPTSR); shared tables in ob_values.c.
 */
#include "chip/ob.h"
#include "chip/ob_values.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

#define F_SW(nm, w, sh, d, v) {nm, w, sh, 1, 1, OB_K_PLAIN, OB_CAUTION, d, v}
#define F_NRST(nm, w, sh, d, v) {nm, w, sh, 1, 1, OB_K_PLAIN, OB_SAFE, d, v}
#define F_IWDG(nm, w, sh, d, v) {nm, w, sh, 1, 1, OB_K_PLAIN, OB_SAFE, d, v}
/* The bits every L4-style OPTR has at 12-19 (RM0351 §3.7.8, RM0440 §3.7.8, RM0444 §3.7.8). */
#define F_LP_RESETS(stop, stdby, shdw) \
	F_NRST("nRST_STOP", 0, stop, "reset on entering STOP", ob_v_nrst_stop), \
	F_NRST("nRST_STDBY", 0, stdby, "reset on entering STANDBY", ob_v_nrst_stdby), \
	F_NRST("nRST_SHDW", 0, shdw, "reset on entering SHUTDOWN", ob_v_nrst_shdw)
#define F_WDGS \
	F_SW("IWDG_SW", 0, 16, "independent watchdog: software or hardware", ob_v_iwdg_sw), \
	F_IWDG("IWDG_STOP", 0, 17, "IWDG in STOP", ob_v_iwdg_stop), \
	F_IWDG("IWDG_STDBY", 0, 18, "IWDG in STANDBY", ob_v_iwdg_stdby), \
	F_SW("WWDG_SW", 0, 19, "window watchdog: software or hardware", ob_v_wwdg_sw)
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
	{"BOR_LEV", 0, 8, 3, 0, OB_K_PLAIN, OB_CAUTION, "brown-out reset threshold", ob_v_bor_l4},
	F_LP_RESETS(12, 13, 14),
	F_WDGS,
	{"BFB2", 0, 20, 1, 0, OB_K_PLAIN, OB_DANGER, "dual-bank boot (1 MB parts)",
	 OB_VALS2("boot from bank 1 as the BOOT0 rules say", "dual-bank boot: boot from bank 2 when it holds a valid image")},
	{"DUALBANK", 0, 21, 1, 1, OB_K_PLAIN, OB_DANGER, "dual bank on 256/512 KB L47x/L48x",
	 OB_VALS2("256/512 KB parts: single bank", "256/512 KB parts: dual bank")},
	{"nBOOT1", 0, 23, 1, 1, OB_K_NBOOT1, OB_DANGER, "with BOOT0 = 1: 1 = system memory, 0 = SRAM1", ob_v_nboot1},
	{"SRAM2_PE", 0, 24, 1, 1, OB_K_PLAIN, OB_SAFE, "0 = SRAM2 parity check on", ob_v_sram_pe},
	{"SRAM2_RST", 0, 25, 1, 1, OB_K_PLAIN, OB_SAFE, "0 = SRAM2 erased on system reset",
	 OB_VALS2("SRAM2 erased on a system reset", "SRAM2 kept on a system reset")},
	{"nSWBOOT0", 0, 26, 1, 1, OB_K_SWBOOT_0OPT, OB_DANGER, "BOOT0 source (L43x and later)", ob_v_swboot0},
	{"nBOOT0", 0, 27, 1, 1, OB_K_NBOOT0, OB_DANGER, "BOOT0 value when nSWBOOT0 = 0", ob_v_nboot0},
	{"PCROP1_STRT", 1, 0, 16, 0xFFFF, OB_K_PCROP_START, OB_CAUTION, "PCROP area start (double-word offset)", NULL,
	 NULL, 0, 8},
	{"PCROP1_END", 2, 0, 16, 0x0000, OB_K_PCROP_END, OB_CAUTION, "PCROP area end (double-word offset)", NULL, NULL, 0,
	 8},
	{"PCROP_RDP", 2, 31, 1, 0, OB_K_PLAIN, OB_CAUTION, "1 = PCROP area erased on RDP regression", ob_v_pcrop_rdp},
	F_WRP("1A", 3),
	F_WRP("1B", 4),
};
const struct ob_layout ob_layout_l4 = {
	.id = "L4", .address = 0x1FFF7800, .size = 40, .min_size = 40, .rdp_level0 = 0xAA, .has_rdp2 = true,
	.writable = true, .fill = 0xFF, .words = w_l4, .n_words = N(w_l4), .fields = f_l4, .n_fields = N(f_l4),
	.source = "RM0351 §3.4.1 (option bytes), §3.7.8 (FLASH_OPTR); protocol.md §2.6, §3.2",
	.note = "Complement words (+4) and reserved-bit defaults UNCONFIRMED; CubeProgrammer writes only 36 "
		"bytes (protocol.md §2.6). Bank-2 words (0x1FFFF8xx) of dual-bank parts are not decoded."};

/* ---- G0 (RM0444 §3.4.1): OPTR, PCROP1ASR, PCROP1AER, WRP1AR, WRP1BR from 0x1FFF7800, then the
 * zone B and bank-2 rows up to WRP2BR (104 bytes). The ROM's OB alt is not advertised (all alts show
 * the flash; protocol.md §2.6): over DFU the host cannot read them, over USART it can.
 * Default OPTR 0xFFFFFEAA (RM0444 FLASH_OPTR reset value, G07x/G08x). ---- */
/* RM0444 §3.7.8 FLASH_OPTR: BORF_LEV (falling VDD crossing it asserts reset) 00 ~2.0 V, 01 ~2.2 V, 10 ~2.5 V,
 * 11 ~2.8 V; BORR_LEV (rising VDD crossing it releases reset) 00 ~2.1 V, 01 ~2.3 V, 10 ~2.6 V, 11 ~2.9 V. */
static const struct ob_value_name v_borf_g0[] = {
	{0, "1", "BOR falling level 1: reset below around 2.0 V"}, {1, "2", "BOR falling level 2: reset below around 2.2 V"},
	{2, "3", "BOR falling level 3: reset below around 2.5 V"}, {3, "4", "BOR falling level 4: reset below around 2.8 V"},
	{0, NULL, NULL}};
static const struct ob_value_name v_borr_g0[] = {
	{0, "1", "BOR rising level 1: reset released above around 2.1 V"},
	{1, "2", "BOR rising level 2: reset released above around 2.3 V"},
	{2, "3", "BOR rising level 3: reset released above around 2.6 V"},
	{3, "4", "BOR rising level 4: reset released above around 2.9 V"}, {0, NULL, NULL}};
static const struct ob_word w_g0[] = {
	{"OPTR", 0x00, 32, OB_CPL_NEXT32, 0xFFFFFEAA},
	{"PCROP1ASR", 0x08, 32, OB_CPL_NEXT32, 0xFFFFFFFF},
	{"PCROP1AER", 0x10, 32, OB_CPL_NEXT32, 0x00000000},
	{"WRP1AR", 0x18, 32, OB_CPL_NEXT32, 0x000000FF},
	{"WRP1BR", 0x20, 32, OB_CPL_NEXT32, 0x000000FF},
	/* from here the layout follows the registers (docs.rs stm32g0 RegisterBlock: PCROP1BSR 0x34,
	 * PCROP1BER 0x38, PCROP2ASR 0x44, PCROP2AER 0x48, WRP2AR 0x4C, WRP2BR 0x50) at the 8-byte stride
	 * the rows above show (register 0x20 + n -> 0x1FFF7800 + 2n): DERIVED */
	{"PCROP1BSR", 0x28, 32, OB_CPL_NEXT32, 0xFFFFFFFF},
	{"PCROP1BER", 0x30, 32, OB_CPL_NEXT32, 0x00000000},
	{"PCROP2ASR", 0x48, 32, OB_CPL_NEXT32, 0xFFFFFFFF},
	{"PCROP2AER", 0x50, 32, OB_CPL_NEXT32, 0x00000000},
	{"WRP2AR", 0x58, 32, OB_CPL_NEXT32, 0x000000FF},
	{"WRP2BR", 0x60, 32, OB_CPL_NEXT32, 0x000000FF},
};
static const struct ob_field f_g0[] = {
	F_RDP(0),
	{"BOREN", 0, 8, 1, 0, OB_K_PLAIN, OB_CAUTION, "brown-out reset enabled",
	 OB_VALS2("configurable BOR disabled: reset at the POR/PDR levels", "BOR enabled at the BORF_LEV/BORR_LEV thresholds")},
	{"BORF_LEV", 0, 9, 2, 3, OB_K_PLAIN, OB_CAUTION, "BOR falling threshold", v_borf_g0},
	{"BORR_LEV", 0, 11, 2, 3, OB_K_PLAIN, OB_CAUTION, "BOR rising threshold", v_borr_g0},
	F_LP_RESETS(13, 14, 15),
	F_WDGS,
	{"RAM_PARITY_CHECK", 0, 22, 1, 1, OB_K_PLAIN, OB_SAFE, "0 = SRAM parity check on", ob_v_sram_pe},
	{"nBOOT_SEL", 0, 24, 1, 1, OB_K_SWBOOT_1OPT, OB_DANGER, "BOOT0 source", ob_v_nboot_sel},
	{"nBOOT1", 0, 25, 1, 1, OB_K_NBOOT1, OB_DANGER, "with BOOT0 = 1: 1 = system memory, 0 = SRAM", ob_v_nboot1},
	{"nBOOT0", 0, 26, 1, 1, OB_K_NBOOT0, OB_DANGER, "BOOT0 value when nBOOT_SEL = 1", ob_v_nboot0},
	{"NRST_MODE", 0, 27, 2, 3, OB_K_PLAIN, OB_CAUTION, "NRST pin mode", ob_v_nrst_mode},
	{"IRHEN", 0, 29, 1, 1, OB_K_PLAIN, OB_SAFE, "internal reset holder enabled", ob_v_irhen},
	{"WRP1A_STRT", 3, 0, 7, 0x7F, OB_K_WRP_START, OB_DANGER, "write-protected area A start page", NULL},
	{"WRP1A_END", 3, 16, 7, 0x00, OB_K_WRP_END, OB_DANGER, "write-protected area A end page", NULL},
	{"WRP1B_STRT", 4, 0, 7, 0x7F, OB_K_WRP_START, OB_DANGER, "write-protected area B start page", NULL},
	{"WRP1B_END", 4, 16, 7, 0x00, OB_K_WRP_END, OB_DANGER, "write-protected area B end page", NULL},
	/* G0B1/G0C1 (256 and 512 KiB): two banks when DUAL_BANK = 1 (the G0 HAL's FLASH_OPTR_DUAL_BANK;
	 * bit 21 next to nSWAP_BANK: UNCONFIRMED), bank 2's areas counting pages from bank 2's start */
	{"DUAL_BANK", 0, 21, 1, 1, OB_K_PLAIN, OB_DANGER, "1 = two banks (G0B1/G0C1)",
	 OB_VALS2("single bank", "dual bank: bank 2 is the upper half of the flash")},
	{"WRP2A_STRT", 9, 0, 7, 0x7F, OB_K_WRP_START, OB_DANGER, "bank 2 write-protected area A start page", NULL},
	{"WRP2A_END", 9, 16, 7, 0x00, OB_K_WRP_END, OB_DANGER, "bank 2 write-protected area A end page", NULL},
	{"WRP2B_STRT", 10, 0, 7, 0x7F, OB_K_WRP_START, OB_DANGER, "bank 2 write-protected area B start page", NULL},
	{"WRP2B_END", 10, 16, 7, 0x00, OB_K_WRP_END, OB_DANGER, "bank 2 write-protected area B end page", NULL},
};
const struct ob_layout ob_layout_g0 = {
	.id = "G0", .address = 0x1FFF7800, .size = 104, .min_size = 40, .rdp_level0 = 0xAA, .has_rdp2 = true,
	.writable = true, .fill = 0xFF, .words = w_g0, .n_words = N(w_g0), .fields = f_g0, .n_fields = N(f_g0),
	.source = "RM0444 §3.4.1, §3.7.8 (FLASH_OPTR); docs.rs stm32g0 OPTR bit map",
	.note = "Block size, complement words, WRP defaults and the bank-2 rows UNCONFIRMED (no OB alt on the G0 ROM). "
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
	{"BOR_LEV", 0, 8, 3, 0, OB_K_PLAIN, OB_CAUTION, "brown-out reset threshold", ob_v_bor_l4},
	F_LP_RESETS(12, 13, 14),
	F_WDGS,
	{"BFB2", 0, 20, 1, 0, OB_K_PLAIN, OB_DANGER, "dual-bank boot (category 3)",
	 OB_VALS2("boot from bank 1 as the BOOT0 rules say", "dual-bank boot: boot from bank 2 when it holds a valid image")},
	{"DBANK", 0, 22, 1, 1, OB_K_PLAIN, OB_DANGER, "1 = dual bank (category 3)",
	 OB_VALS2("category 3: single bank (128-bit reads)", "category 3: dual bank (64-bit reads)")},
	{"nBOOT1", 0, 23, 1, 1, OB_K_NBOOT1, OB_DANGER, "with BOOT0 = 1: 1 = system memory, 0 = SRAM1", ob_v_nboot1},
	{"SRAM_PE", 0, 24, 1, 1, OB_K_PLAIN, OB_SAFE, "0 = SRAM parity check on", ob_v_sram_pe},
	{"CCMSRAM_RST", 0, 25, 1, 1, OB_K_PLAIN, OB_SAFE, "0 = CCM SRAM erased on system reset",
	 OB_VALS2("CCM SRAM erased on a system reset", "CCM SRAM kept on a system reset")},
	{"nSWBOOT0", 0, 26, 1, 1, OB_K_SWBOOT_0OPT, OB_DANGER, "BOOT0 source", ob_v_swboot0},
	{"nBOOT0", 0, 27, 1, 1, OB_K_NBOOT0, OB_DANGER, "BOOT0 value when nSWBOOT0 = 0", ob_v_nboot0},
	{"NRST_MODE", 0, 28, 2, 3, OB_K_PLAIN, OB_CAUTION, "NRST pin mode", ob_v_nrst_mode},
	{"IRHEN", 0, 30, 1, 1, OB_K_PLAIN, OB_SAFE, "internal reset holder enabled", ob_v_irhen},
	{"PCROP1_STRT", 1, 0, 15, 0x7FFF, OB_K_PCROP_START, OB_CAUTION, "PCROP area start (double-word offset)", NULL,
	 NULL, 0, 8},
	{"PCROP1_END", 2, 0, 15, 0x0000, OB_K_PCROP_END, OB_CAUTION, "PCROP area end (double-word offset)", NULL, NULL, 0,
	 8},
	{"PCROP_RDP", 2, 31, 1, 0, OB_K_PLAIN, OB_CAUTION, "1 = PCROP area erased on RDP regression", ob_v_pcrop_rdp},
	F_WRP("1A", 3),
	F_WRP("1B", 4),
	{"BOOT_LOCK", 5, 16, 1, 0, OB_K_PLAIN, OB_DANGER, "1 = boot forced from main flash (no bootloader)",
	 OB_VALS2("boot as the BOOT0 pin and option bits say", "boot forced from main flash: the bootloader cannot be entered")},
	{"SEC_SIZE1", 5, 0, 8, 0x00, OB_K_COUNT, OB_CAUTION, "pages of bank 1 in the securable area", NULL},
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
/* RM0433 §4.9.7 FLASH_OPTSR ST_RAM_SIZE: DTCM reserved for the ST secure library when SECURITY = 1. */
static const struct ob_value_name v_st_ram_size[] = {
	{0, NULL, "2 KiB of DTCM for ST secure code (with SECURITY = 1)"},
	{1, NULL, "4 KiB of DTCM for ST secure code (with SECURITY = 1)"},
	{2, NULL, "8 KiB of DTCM for ST secure code (with SECURITY = 1)"},
	{3, NULL, "16 KiB of DTCM for ST secure code (with SECURITY = 1)"}, {0, NULL, NULL}};
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
	F_SW("IWDG1_SW", 0, 4, "IWDG1: software or hardware", ob_v_iwdg_sw),
	F_NRST("NRST_STOP_D1", 0, 6, "reset on D1 entering DStop", ob_v_nrst_dstop_d1),
	F_NRST("NRST_STBY_D1", 0, 7, "reset on D1 entering DStandby", ob_v_nrst_dstby_d1),
	{"RDP", 0, 8, 8, 0xAA, OB_K_RDP, OB_DANGER, "read protection: AA = level 0, CC = level 2, else level 1", NULL},
	F_IWDG("FZ_IWDG_STOP", 0, 17, "IWDG in Stop", ob_v_iwdg_stop),
	F_IWDG("FZ_IWDG_SDBY", 0, 18, "IWDG in Standby", ob_v_iwdg_stdby),
	{"ST_RAM_SIZE", 0, 19, 2, 0, OB_K_PLAIN, OB_CAUTION, "DTCM reserved for ST secure code", v_st_ram_size},
	{"SECURITY", 0, 21, 1, 0, OB_K_PLAIN, OB_DANGER, "secure access mode",
	 OB_VALS2("secure access mode disabled", "secure access mode enabled (ST secure library runs at reset)")},
	{"IO_HSLV", 0, 29, 1, 0, OB_K_PLAIN, OB_CAUTION, "I/O high speed at low voltage",
	 OB_VALS2("I/O high speed at low voltage disabled", "I/O high speed at low voltage enabled (VDD below 2.7 V only)")},
	{"SWAP_BANK_OPT", 0, 31, 1, 0, OB_K_PLAIN, OB_DANGER, "1 = banks swapped",
	 OB_VALS2("banks not swapped: bank 1 at 0x08000000", "banks swapped: bank 2 at 0x08000000")},
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
