/*
 * Value tables shared across families (ob_values.h). Wording after the reference manuals' bit
 * descriptions, which read alike on every family: RM0385 §3.4.1 (F7 USER bits), RM0351 §3.7.8 (L4
 * FLASH_OPTR), RM0444 §3.7.8 (G0 FLASH_OPTR), RM0433 §4.9.7 (H7 FLASH_OPTSR), RM0091 §2.5 / RM0351
 * §2.6 (boot configuration). Symbolic words ("hw", "reset", "freeze") are what `ob set` accepts.
 */
#include "chip/ob_values.h"

/* IWDG_SW / WDG_SW: 0 = hardware independent watchdog (runs from reset), 1 = software (started by code) */
const struct ob_value_name ob_v_iwdg_sw[] = {
	{0, "hw", "hardware independent watchdog: runs from reset"},
	{1, "sw", "software independent watchdog: started by the application"}, {0, NULL, NULL}};
/* WWDG_SW: 0 = hardware window watchdog (enabled at reset), 1 = software */
const struct ob_value_name ob_v_wwdg_sw[] = {
	{0, "hw", "hardware window watchdog: enabled at reset"},
	{1, "sw", "software window watchdog: started by the application"}, {0, NULL, NULL}};

/* nRST_STOP / nRST_STDBY / nRST_SHDW: 0 = reset generated on entering the mode, 1 = no reset */
const struct ob_value_name ob_v_nrst_stop[] = {
	{0, "reset", "reset generated on entering Stop mode"}, {1, "noreset", "no reset on entering Stop mode"},
	{0, NULL, NULL}};
const struct ob_value_name ob_v_nrst_stdby[] = {
	{0, "reset", "reset generated on entering Standby mode"}, {1, "noreset", "no reset on entering Standby mode"},
	{0, NULL, NULL}};
const struct ob_value_name ob_v_nrst_shdw[] = {
	{0, "reset", "reset generated on entering Shutdown mode"},
	{1, "noreset", "no reset on entering Shutdown mode"}, {0, NULL, NULL}};
/* H7 (RM0433 §4.9.7): the D1 domain's DStop / DStandby */
const struct ob_value_name ob_v_nrst_dstop_d1[] = {
	{0, "reset", "reset generated when D1 enters DStop mode"}, {1, "noreset", "no reset when D1 enters DStop mode"},
	{0, NULL, NULL}};
const struct ob_value_name ob_v_nrst_dstby_d1[] = {
	{0, "reset", "reset generated when D1 enters DStandby mode"},
	{1, "noreset", "no reset when D1 enters DStandby mode"}, {0, NULL, NULL}};

/* IWDG_STOP / IWDG_STDBY: 0 = counter frozen in the mode, 1 = running */
const struct ob_value_name ob_v_iwdg_stop[] = {
	{0, "freeze", "IWDG counter frozen in Stop mode"}, {1, "run", "IWDG counter running in Stop mode"},
	{0, NULL, NULL}};
const struct ob_value_name ob_v_iwdg_stdby[] = {
	{0, "freeze", "IWDG counter frozen in Standby mode"}, {1, "run", "IWDG counter running in Standby mode"},
	{0, NULL, NULL}};

/* nBOOT0 (when BOOT0 is taken from the option bit): BOOT0 = !nBOOT0; BOOT0 = 0 boots the main flash,
 * BOOT0 = 1 system memory or SRAM as nBOOT1 says (RM0091 §2.5 Table 3, RM0351 §2.6 Table 7) */
const struct ob_value_name ob_v_nboot0[] = {
	{0, NULL, "BOOT0 = 1 when taken from this bit: boot from system memory or SRAM (nBOOT1)"},
	{1, NULL, "BOOT0 = 0 when taken from this bit: boot from main flash"}, {0, NULL, NULL}};
/* nBOOT1, with BOOT0 = 1: 1 = system memory (bootloader), 0 = embedded SRAM */
const struct ob_value_name ob_v_nboot1[] = {
	{0, NULL, "with BOOT0 = 1: boot from embedded SRAM"},
	{1, NULL, "with BOOT0 = 1: boot from system memory (ROM bootloader)"}, {0, NULL, NULL}};
/* nSWBOOT0 (L4/G4/WB/U5), BOOT_SEL (F0): 0 = BOOT0 from the nBOOT0 option bit, 1 = from the pin */
const struct ob_value_name ob_v_swboot0[] = {
	{0, "option", "BOOT0 taken from the nBOOT0 option bit"}, {1, "pin", "BOOT0 taken from the BOOT0 pin"},
	{0, NULL, NULL}};
/* nBOOT_SEL (G0, C0): 0 = BOOT0 pin (legacy), 1 = nBOOT0 option bit */
const struct ob_value_name ob_v_nboot_sel[] = {
	{0, "pin", "BOOT0 taken from the BOOT0 pin"}, {1, "option", "BOOT0 taken from the nBOOT0 option bit"},
	{0, NULL, NULL}};

/* L4/G4/WB/U5 BOR_LEV[2:0]: level 0 ~1.7 V .. level 4 ~2.8 V (RM0351 §3.7.8: "reset level threshold is
 * around"); the manual defines no other value, so 5-7 are reserved and refused. */
const struct ob_value_name ob_v_bor_l4[] = {
	{0, "0", "BOR level 0: reset threshold around 1.7 V"}, {1, "1", "BOR level 1: reset threshold around 2.0 V"},
	{2, "2", "BOR level 2: reset threshold around 2.2 V"}, {3, "3", "BOR level 3: reset threshold around 2.5 V"},
	{4, "4", "BOR level 4: reset threshold around 2.8 V"}, {5, NULL, "reserved"},
	{6, NULL, "reserved"}, {7, NULL, "reserved"}, {0, NULL, NULL}};
/* G0/G4 NRST_MODE[1:0] (RM0444 §3.7.8, RM0440 §3.7.8) */
const struct ob_value_name ob_v_nrst_mode[] = {
	{0, NULL, "reserved"},
	{1, "input", "reset input only: NRST low resets the chip, internal resets are not driven on the pin"},
	{2, "gpio", "NRST pin is a GPIO: only internal resets"},
	{3, "bidir", "bidirectional reset: NRST is reset input and output (default)"}, {0, NULL, NULL}};
/* IRHEN (RM0444 §3.7.8): how an internal reset shows on NRST */
const struct ob_value_name ob_v_irhen[] = {
	{0, NULL, "internal resets are a short pulse on NRST"},
	{1, NULL, "internal resets hold NRST low until it reads low"}, {0, NULL, NULL}};
/* SRAM parity check (SRAM2_PE, SRAM_PE, RAM_PARITY_CHECK): 0 = enabled */
const struct ob_value_name ob_v_sram_pe[] = {
	{0, NULL, "SRAM parity check enabled"}, {1, NULL, "SRAM parity check disabled"}, {0, NULL, NULL}};
/* PCROP_RDP (RM0351 §3.7.10): PCROP area erased by the mass erase of an RDP 1 -> 0 regression */
const struct ob_value_name ob_v_pcrop_rdp[] = {
	{0, NULL, "PCROP area kept when RDP goes from level 1 to 0"},
	{1, NULL, "PCROP area erased when RDP goes from level 1 to 0"}, {0, NULL, NULL}};
