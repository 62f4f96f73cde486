/*
 * Option-byte field tables for L0, L1 (16-bit value + 16-bit complement per 32-bit word, from
 * 0x1FF80000), WB (L4-style 64-bit option words from 0x1FFF8000) and U5 (the FLASH option
 * registers; decode-only). Sources per table; bit positions cross-checked with the stm32-rs and
 * embassy stm32-metapac register tables named below.
 * Meanings of the values (ob show): RM0367 FLASH_OPTR (L0), RM0038 FLASH_OBR (L1), RM0434 §3.10.8 FLASH_OPTR
 * (WB), RM0456 §7.9.15-7.9.17 (U5 OPTR, NSBOOTADDxR); shared tables in ob_values.c.
 */
#include "chip/ob.h"
#include "chip/ob_values.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* L0/L1 BOR_LEV[3:0] (RM0367 FLASH_OPTR, RM0038 FLASH_OBR "BOR_LEV"; the same figures in HAL-L0/L1
 * OB_BOR_LEVELx): 0x0-0x7 BOR off (reset at the power-down reset level, ~1.5 V), 0x8 level 1 (1.7-1.8 V),
 * 0x9 level 2 (1.9-2.0 V), 0xA level 3 (2.3-2.4 V), 0xB level 4 (2.55-2.65 V), 0xC level 5 (2.8-2.9 V);
 * 0xD-0xF are not defined: reserved and refused. */
#define BOR_OFF_L01 "BOR off: reset only at the power-down reset level (~1.5 V)"
static const struct ob_value_name v_bor_l01[] = {
	{0x0, "off", BOR_OFF_L01}, {0x1, NULL, BOR_OFF_L01}, {0x2, NULL, BOR_OFF_L01}, {0x3, NULL, BOR_OFF_L01},
	{0x4, NULL, BOR_OFF_L01}, {0x5, NULL, BOR_OFF_L01}, {0x6, NULL, BOR_OFF_L01}, {0x7, NULL, BOR_OFF_L01},
	{0x8, "1", "BOR level 1: reset below 1.7-1.8 V"}, {0x9, "2", "BOR level 2: reset below 1.9-2.0 V"},
	{0xA, "3", "BOR level 3: reset below 2.3-2.4 V"}, {0xB, "4", "BOR level 4: reset below 2.55-2.65 V"},
	{0xC, "5", "BOR level 5: reset below 2.8-2.9 V"}, {0xD, NULL, "reserved"}, {0xE, NULL, "reserved"},
	{0xF, NULL, "reserved"}, {0, NULL, NULL}};
static const struct ob_value_name v_wprmod[] = {
	{0, "wrp", "WRP bits select write protection"}, {1, "pcrop", "WRP bits select PCROP (read protection)"},
	{0, NULL, NULL}};

#define F_SW(nm, w, sh, d, v) {nm, w, sh, 1, 1, OB_K_PLAIN, OB_CAUTION, d, v}
#define F_NRST(nm, w, sh, d, v) {nm, w, sh, 1, 1, OB_K_PLAIN, OB_SAFE, d, v}
#define F_IWDG(nm, w, sh, d, v) {nm, w, sh, 1, 1, OB_K_PLAIN, OB_SAFE, d, v}
#define F_RDP(w) {"RDP", w, 0, 8, 0xAA, OB_K_RDP, OB_DANGER, "read protection: AA = level 0, CC = level 2, else level 1", NULL}
/* L0/L1 WRP bits are active high: 1 = the 4 KiB sector is write-protected (factory 0). */
#define F_WRP01(nm, w, g, d) {nm, w, 0, 16, 0x0000, OB_K_PLAIN, OB_DANGER, d, NULL, NULL, g}

/* ---- L0 (RM0367 §3.4.1 "Option bytes", CMSIS stm32l0xx.h OB_TypeDef {RDP, USER, WRP01, WRP23,
 * WRP45}): each word holds a 16-bit value in bits 15:0 and its complement in 31:16. Bit positions:
 * FLASH_OPTR (stm32-rs stm32l0 OPTR: RDPROT 0-7, WPRMOD 8, BOR_LEV 16-19, WDG_SW 20, nRST_STOP 21,
 * nRST_STDBY 22, BFB2 23, nBOOT1 31), the upper half of OPTR being the USER word. Factory values:
 * RDP 0xAA, USER 0x8070 (OPTR reset value 0x807000AA), WRP 0. ---- */
static const struct ob_word w_l0[] = {
	{"RDP/WPRMOD", 0x00, 16, OB_CPL_HIGH16, 0x00AA},
	{"USER", 0x04, 16, OB_CPL_HIGH16, 0x8070},
	{"WRP1[15:0]", 0x08, 16, OB_CPL_HIGH16, 0x0000},
	{"WRP1[31:16]", 0x0C, 16, OB_CPL_HIGH16, 0x0000},
	{"WRP2[15:0]", 0x10, 16, OB_CPL_HIGH16, 0x0000},
};
static const struct ob_field f_l0[] = {
	F_RDP(0),
	{"WPRMOD", 0, 8, 1, 0, OB_K_PLAIN, OB_DANGER, "meaning of the WRP bits", v_wprmod},
	{"BOR_LEV", 1, 0, 4, 0, OB_K_PLAIN, OB_CAUTION, "brown-out reset threshold", v_bor_l01},
	F_SW("WDG_SW", 1, 4, "independent watchdog: software or hardware", ob_v_iwdg_sw),
	F_NRST("nRST_STOP", 1, 5, "reset on entering STOP", ob_v_nrst_stop),
	F_NRST("nRST_STDBY", 1, 6, "reset on entering STANDBY", ob_v_nrst_stdby),
	{"BFB2", 1, 7, 1, 0, OB_K_PLAIN, OB_DANGER, "boot from bank 2 (dual-bank L07x/L08x)",
	 OB_VALS2("boot from bank 1 as the BOOT pins say", "boot from bank 2 when it holds a valid image (via the bootloader)")},
	{"nBOOT1", 1, 15, 1, 1, OB_K_NBOOT1, OB_DANGER, "with BOOT0 = 1: 1 = system memory, 0 = SRAM", ob_v_nboot1},
	F_WRP01("WRP1L", 2, 1, "sectors 0-15 (4 KiB each), bit = 1: write-protected"),
	F_WRP01("WRP1H", 3, 17, "sectors 16-31, bit = 1: write-protected"),
	F_WRP01("WRP2L", 4, 33, "sectors 32-47 (128-192 KiB parts), bit = 1: write-protected"),
};
const struct ob_layout ob_layout_l0 = {
	.id = "L0", .address = 0x1FF80000, .size = 32, .min_size = 20, .rdp_level0 = 0xAA, .has_rdp2 = true,
	.writable = true, .fill = 0x00, .words = w_l0, .n_words = N(w_l0), .fields = f_l0, .n_fields = N(f_l0),
	.wrp_bit_bytes = 4096, .wrp_active_high = true,
	.source = "RM0367 §3.4.1 (option bytes, 32-bit words with complement), FLASH_OPTR; CMSIS stm32l0xx.h "
		  "OB_TypeDef; stm32-rs stm32l0 OPTR field table; data/dfu-list/bigclown-notes_L0-... (32-byte alt)",
	.note = "WRP bits are active high (1 = protected). Bytes "
		"0x14-0x1F of the 32-byte alt are reserved: kept as read."};

/* ---- L1 (RM0038 "Option bytes", CMSIS stm32l1xx.h OB_TypeDef {RDP, USER, WRP01, WRP23, WRP45,
 * WRP67, WRP89, WRP1011}): same word format as L0. USER = FLASH_OBR[23:16] (stm32-rs stm32l1 OBR:
 * RDPRT 0-7, BOR_LEV 16-19, IWDG_SW 20, nRST_STOP 21, nRST_STDBY 22, BFB2 23). Factory RDP 0xAA; the
 * USER factory value 0x0070 (BOR off) is UNCONFIRMED. ---- */
static const struct ob_word w_l1[] = {
	{"RDP", 0x00, 16, OB_CPL_HIGH16, 0x00AA},
	{"USER", 0x04, 16, OB_CPL_HIGH16, 0x0070},
	{"WRP01", 0x08, 16, OB_CPL_HIGH16, 0x0000},
	{"WRP23", 0x0C, 16, OB_CPL_HIGH16, 0x0000},
	{"WRP45", 0x10, 16, OB_CPL_HIGH16, 0x0000},
	{"WRP67", 0x14, 16, OB_CPL_HIGH16, 0x0000},
	{"WRP89", 0x18, 16, OB_CPL_HIGH16, 0x0000},
	{"WRP1011", 0x1C, 16, OB_CPL_HIGH16, 0x0000},
};
static const struct ob_field f_l1[] = {
	F_RDP(0),
	{"BOR_LEV", 1, 0, 4, 0, OB_K_PLAIN, OB_CAUTION, "brown-out reset threshold", v_bor_l01},
	F_SW("IWDG_SW", 1, 4, "independent watchdog: software or hardware", ob_v_iwdg_sw),
	F_NRST("nRST_STOP", 1, 5, "reset on entering STOP", ob_v_nrst_stop),
	F_NRST("nRST_STDBY", 1, 6, "reset on entering STANDBY", ob_v_nrst_stdby),
	{"BFB2", 1, 7, 1, 0, OB_K_PLAIN, OB_DANGER, "boot from bank 2 (cat. 4-6)",
	 OB_VALS2("boot from bank 1 as the BOOT pins say", "boot from bank 2 when it holds a valid image (via the bootloader)")},
	F_WRP01("WRP01", 2, 1, "sectors 0-15 (4 KiB each), bit = 1: write-protected"),
	F_WRP01("WRP23", 3, 17, "sectors 16-31, bit = 1: write-protected"),
	F_WRP01("WRP45", 4, 33, "sectors 32-47, bit = 1: write-protected"),
	F_WRP01("WRP67", 5, 49, "sectors 48-63, bit = 1: write-protected"),
	F_WRP01("WRP89", 6, 65, "sectors 64-79, bit = 1: write-protected"),
	F_WRP01("WRP1011", 7, 81, "sectors 80-95, bit = 1: write-protected"),
};
const struct ob_layout ob_layout_l1 = {
	.id = "L1", .address = 0x1FF80000, .size = 32, .min_size = 12, .rdp_level0 = 0xAA, .has_rdp2 = true,
	.writable = true, .fill = 0x00, .words = w_l1, .n_words = N(w_l1), .fields = f_l1, .n_fields = N(f_l1),
	.wrp_bit_bytes = 4096, .wrp_active_high = true,
	.source = "RM0038 \"Option bytes\" (word format, WRP01..WRP1011), FLASH_OBR; CMSIS stm32l1xx.h OB_TypeDef; "
		  "stm32-rs stm32l1 OBR field table; data/dfu-list/openbttn_L100RC-... (32-byte alt)",
	.note = "WRP bits are active high (1 = protected). USER "
		"factory value UNCONFIRMED."};

/* ---- WB (RM0434 §3.4.1 "Option bytes organization"): from 0x1FFF8000 OPTR, PCROP1ASR, PCROP1AER,
 * WRP1AR, WRP1BR, PCROP1BSR, PCROP1BER, IPCCBR, each a 32-bit value followed by its complement.
 * OPTR bits (docs.rs stm32wb-pac flash::optr): RDP 0-7, ESE 8, BOR_LEV 9-11, nRST_STOP 12,
 * nRST_STDBY 13, nRST_SHDW 14, IWDG_SW 16, IWDG_STOP 17, IWDG_STDBY 18, WWDG_SW 19, nBOOT1 23,
 * SRAM2_PE 24, SRAM2_RST 25, nSWBOOT0 26, nBOOT0 27, AGC_TRIM 29-31. Factory values UNCONFIRMED. ---- */
static const struct ob_word w_wb[] = {
	{"OPTR", 0x00, 32, OB_CPL_NEXT32, 0x0FFFF1AA},
	{"PCROP1ASR", 0x08, 32, OB_CPL_NEXT32, 0x000001FF},
	{"PCROP1AER", 0x10, 32, OB_CPL_NEXT32, 0x00000000},
	{"WRP1AR", 0x18, 32, OB_CPL_NEXT32, 0x000000FF},
	{"WRP1BR", 0x20, 32, OB_CPL_NEXT32, 0x000000FF},
};
static const struct ob_field f_wb[] = {
	F_RDP(0),
	{"ESE", 0, 8, 1, 1, OB_K_PLAIN, OB_DANGER, "security enabled (CPU2 secure flash)",
	 OB_VALS2("CPU2 security disabled", "CPU2 security enabled: secure flash and SRAM areas in force")},
	{"BOR_LEV", 0, 9, 3, 0, OB_K_PLAIN, OB_CAUTION, "brown-out reset threshold", ob_v_bor_l4},
	F_NRST("nRST_STOP", 0, 12, "reset on entering STOP", ob_v_nrst_stop),
	F_NRST("nRST_STDBY", 0, 13, "reset on entering STANDBY", ob_v_nrst_stdby),
	F_NRST("nRST_SHDW", 0, 14, "reset on entering SHUTDOWN", ob_v_nrst_shdw),
	F_SW("IWDG_SW", 0, 16, "independent watchdog: software or hardware", ob_v_iwdg_sw),
	F_IWDG("IWDG_STOP", 0, 17, "IWDG in STOP", ob_v_iwdg_stop),
	F_IWDG("IWDG_STDBY", 0, 18, "IWDG in STANDBY", ob_v_iwdg_stdby),
	F_SW("WWDG_SW", 0, 19, "window watchdog: software or hardware", ob_v_wwdg_sw),
	{"nBOOT1", 0, 23, 1, 1, OB_K_NBOOT1, OB_DANGER, "with BOOT0 = 1: 1 = system memory, 0 = SRAM1", ob_v_nboot1},
	{"SRAM2_PE", 0, 24, 1, 1, OB_K_PLAIN, OB_SAFE, "0 = SRAM2 parity check on", ob_v_sram_pe},
	{"SRAM2_RST", 0, 25, 1, 1, OB_K_PLAIN, OB_SAFE, "0 = SRAM2 erased on system reset",
	 OB_VALS2("SRAM2 erased on a system reset", "SRAM2 kept on a system reset")},
	{"nSWBOOT0", 0, 26, 1, 1, OB_K_SWBOOT_0OPT, OB_DANGER, "BOOT0 source", ob_v_swboot0},
	{"nBOOT0", 0, 27, 1, 1, OB_K_NBOOT0, OB_DANGER, "BOOT0 value when nSWBOOT0 = 0", ob_v_nboot0},
	{"AGC_TRIM", 0, 29, 3, 0, OB_K_COUNT, OB_CAUTION, "radio automatic gain control trimming step", NULL},
	{"PCROP1A_STRT", 1, 0, 9, 0x1FF, OB_K_PCROP_START, OB_CAUTION, "PCROP area A start (2 KiB units)", NULL, NULL, 0,
	 2048},
	{"PCROP1A_END", 2, 0, 9, 0x000, OB_K_PCROP_END, OB_CAUTION, "PCROP area A end (2 KiB units)", NULL, NULL, 0, 2048},
	{"WRP1A_STRT", 3, 0, 8, 0xFF, OB_K_WRP_START, OB_DANGER, "write-protected area A start page", NULL},
	{"WRP1A_END", 3, 16, 8, 0x00, OB_K_WRP_END, OB_DANGER, "write-protected area A end page", NULL},
	{"WRP1B_STRT", 4, 0, 8, 0xFF, OB_K_WRP_START, OB_DANGER, "write-protected area B start page", NULL},
	{"WRP1B_END", 4, 16, 8, 0x00, OB_K_WRP_END, OB_DANGER, "write-protected area B end page", NULL},
};
const struct ob_layout ob_layout_wb = {
	.id = "WB", .address = 0x1FFF8000, .size = 40, .min_size = 8, .rdp_level0 = 0xAA, .has_rdp2 = true,
	.writable = false, .fill = 0xFF, .words = w_wb, .n_words = N(w_wb), .fields = f_wb, .n_fields = N(f_wb),
	.source = "RM0434 §3.4.1 (option bytes organization), FLASH_OPTR; docs.rs stm32wb-pac flash::optr",
	.note = "Decode-only: the WB ROM's DFU option-byte alt was not seen in any listing (address and size "
		"UNCONFIRMED); the secure-flash words (SFR, SRRVR) are not decoded; factory values UNCONFIRMED."};

/* ---- U5 (RM0456 §7.9 FLASH registers): no option-byte memory, the ROM is assumed to expose the
 * registers from FLASH_OPTR (0x40022040): OPTR, NSBOOTADD0R, NSBOOTADD1R, SECBOOTADD0R, SECWM1R1,
 * SECWM1R2, WRP1AR, WRP1BR. OPTR bits in RM0456 order (embassy stm32-metapac stm32u575zi Optr):
 * RDP 0-7, BOR_LEV 8-10, nRST_STOP 12, nRST_STDBY 13, nRST_SHDW 14, SRAM1345_RST 15, IWDG_SW 16,
 * IWDG_STOP 17, IWDG_STDBY 18, WWDG_SW 19, SWAP_BANK 20, DUALBANK 21, BKPRAM_ECC 22, SRAM3_ECC 23,
 * SRAM2_ECC 24, SRAM2_RST 25, nSWBOOT0 26, nBOOT0 27, PA15_PUPEN 28, IO_VDD_HSLV 29,
 * IO_VDDIO2_HSLV 30, TZEN 31. Registers: no complements. Decode-only. ---- */
static const struct ob_value_name v_tzen[] = {
	{0, "off", "TrustZone disabled"}, {1, "on", "TrustZone enabled (RDP regression rules change)"},
	{0, NULL, NULL}};
/* RM0456 §7.9.16-17 NSBOOTADDxR: the boot address [31:7]; factory 0x0800 0000 (flash) and 0x0BF9 0000
 * (the ROM bootloader in system memory). */
static const struct ob_value_name v_boot_u5[] = {
	{0x0100000, NULL, "flash (factory default for NSBOOTADD0)"},
	{0x017F200, NULL, "system memory (ROM bootloader)"}, {0, NULL, NULL}};
static const struct ob_word w_u5[] = {
	{"OPTR", 0x00, 32, OB_CPL_NONE, 0x1FEFF8AA},
	{"NSBOOTADD0R", 0x04, 32, OB_CPL_NONE, 0x0800007F},
	{"NSBOOTADD1R", 0x08, 32, OB_CPL_NONE, 0x0BF9007F},
	{"WRP1AR", 0x18, 32, OB_CPL_NONE, 0x000000FF},
	{"WRP1BR", 0x1C, 32, OB_CPL_NONE, 0x000000FF},
};
static const struct ob_field f_u5[] = {
	F_RDP(0),
	{"BOR_LEV", 0, 8, 3, 0, OB_K_PLAIN, OB_CAUTION, "brown-out reset threshold", ob_v_bor_l4},
	F_NRST("nRST_STOP", 0, 12, "reset on entering STOP", ob_v_nrst_stop),
	F_NRST("nRST_STDBY", 0, 13, "reset on entering STANDBY", ob_v_nrst_stdby),
	F_NRST("nRST_SHDW", 0, 14, "reset on entering SHUTDOWN", ob_v_nrst_shdw),
	{"SRAM1345_RST", 0, 15, 1, 1, OB_K_PLAIN, OB_SAFE, "0 = SRAM1/3/4/5 erased on system reset",
	 OB_VALS2("SRAM1/3/4/5 erased on a system reset", "SRAM1/3/4/5 kept on a system reset")},
	F_SW("IWDG_SW", 0, 16, "independent watchdog: software or hardware", ob_v_iwdg_sw),
	F_IWDG("IWDG_STOP", 0, 17, "IWDG in STOP", ob_v_iwdg_stop),
	F_IWDG("IWDG_STDBY", 0, 18, "IWDG in STANDBY", ob_v_iwdg_stdby),
	F_SW("WWDG_SW", 0, 19, "window watchdog: software or hardware", ob_v_wwdg_sw),
	{"SWAP_BANK", 0, 20, 1, 0, OB_K_PLAIN, OB_DANGER, "1 = banks swapped",
	 OB_VALS2("banks not swapped: bank 1 at 0x08000000", "banks swapped: bank 2 at 0x08000000")},
	{"DUALBANK", 0, 21, 1, 1, OB_K_PLAIN, OB_DANGER, "dual bank on 256/512 KiB parts",
	 OB_VALS2("256/512 KiB parts: single bank", "256/512 KiB parts: dual bank")},
	{"BKPRAM_ECC", 0, 22, 1, 1, OB_K_PLAIN, OB_SAFE, "0 = backup RAM ECC on", OB_VALS2("backup RAM ECC enabled", "backup RAM ECC disabled")},
	{"SRAM3_ECC", 0, 23, 1, 1, OB_K_PLAIN, OB_SAFE, "0 = SRAM3 ECC on", OB_VALS2("SRAM3 ECC enabled", "SRAM3 ECC disabled")},
	{"SRAM2_ECC", 0, 24, 1, 1, OB_K_PLAIN, OB_SAFE, "0 = SRAM2 ECC on", OB_VALS2("SRAM2 ECC enabled", "SRAM2 ECC disabled")},
	{"SRAM2_RST", 0, 25, 1, 1, OB_K_PLAIN, OB_SAFE, "0 = SRAM2 erased on system reset",
	 OB_VALS2("SRAM2 erased on a system reset", "SRAM2 kept on a system reset")},
	{"nSWBOOT0", 0, 26, 1, 1, OB_K_SWBOOT_0OPT, OB_DANGER, "BOOT0 source", ob_v_swboot0},
	{"nBOOT0", 0, 27, 1, 1, OB_K_NBOOT0, OB_DANGER, "BOOT0 value when nSWBOOT0 = 0", ob_v_nboot0},
	{"PA15_PUPEN", 0, 28, 1, 1, OB_K_PLAIN, OB_SAFE, "PA15 pull-up enabled",
	 OB_VALS2("PA15 pull-up off (USB-PD dead-battery pull-down on)", "PA15 pull-up on (USB-PD dead-battery off)")},
	{"IO_VDD_HSLV", 0, 29, 1, 0, OB_K_PLAIN, OB_CAUTION, "I/O high speed at low VDD",
	 OB_VALS2("I/O high speed at low VDD disabled", "I/O high speed at low VDD enabled (VDD below 2.5 V only)")},
	{"IO_VDDIO2_HSLV", 0, 30, 1, 0, OB_K_PLAIN, OB_CAUTION, "I/O high speed at low VDDIO2",
	 OB_VALS2("I/O high speed at low VDDIO2 disabled", "I/O high speed at low VDDIO2 enabled (VDDIO2 below 2.5 V only)")},
	{"TZEN", 0, 31, 1, 0, OB_K_PLAIN, OB_DANGER, "TrustZone", v_tzen},
	{"NSBOOTADD0", 1, 7, 25, 0x0100000, OB_K_BOOT_ADDR_U5, OB_DANGER, "non-secure boot address 0 [31:7]", v_boot_u5},
	{"NSBOOTADD1", 2, 7, 25, 0x017F200, OB_K_BOOT_ADDR_U5, OB_DANGER, "non-secure boot address 1 [31:7]", v_boot_u5},
	{"WRP1A_PSTRT", 3, 0, 7, 0x7F, OB_K_WRP_START, OB_DANGER, "bank-1 WRP area A start page", NULL},
	{"WRP1A_PEND", 3, 16, 7, 0x00, OB_K_WRP_END, OB_DANGER, "bank-1 WRP area A end page", NULL},
	{"WRP1B_PSTRT", 4, 0, 7, 0x7F, OB_K_WRP_START, OB_DANGER, "bank-1 WRP area B start page", NULL},
	{"WRP1B_PEND", 4, 16, 7, 0x00, OB_K_WRP_END, OB_DANGER, "bank-1 WRP area B end page", NULL},
};
const struct ob_layout ob_layout_u5 = {
	.id = "U5", .address = 0x40022040, .size = 64, .min_size = 4, .rdp_level0 = 0xAA, .has_rdp2 = true,
	.writable = false, .fill = 0x00, .words = w_u5, .n_words = N(w_u5), .fields = f_u5, .n_fields = N(f_u5),
	.source = "RM0456 §7.9.15-7.9.25 (FLASH_OPTR, NSBOOTADDxR, WRP1xR); embassy stm32-metapac stm32u575zi Optr",
	.note = "Decode-only (the ROM's guards for an OB write are not in the evidence). The ROM exposes 64 bytes "
		"at 0x40022040 (OBSERVED: data/field/dfu-util-l_U585-U575_H7A3_...: /0x40022040/01*64 e). "
		"Secure registers (SECBOOTADD0R, SECWMxRy) are not decoded. RDP 0x55 (level 0.5, TrustZone) "
		"shows as level 1."};
