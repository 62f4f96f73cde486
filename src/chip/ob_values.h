/*
 * Value tables shared by the option-byte field tables of every family (ob_tables_*.c): the bits whose
 * meaning the reference manuals word the same way on every STM32 (watchdog selection, reset on
 * entering a low-power mode, watchdog freeze, boot configuration). Each names the mode it is about,
 * so `ob show` says "no reset on entering Stop mode", not "the low-power mode".
 */
#ifndef CHIP_OB_VALUES_H
#define CHIP_OB_VALUES_H

#include "chip/ob.h"

/* A one-bit field's two meanings, no symbolic word (ob set takes the number). */
#define OB_VALS2(m0, m1) ((const struct ob_value_name[]){{0, NULL, m0}, {1, NULL, m1}, {0, NULL, NULL}})

extern const struct ob_value_name ob_v_iwdg_sw[], ob_v_wwdg_sw[];
extern const struct ob_value_name ob_v_nrst_stop[], ob_v_nrst_stdby[], ob_v_nrst_shdw[];
extern const struct ob_value_name ob_v_nrst_dstop_d1[], ob_v_nrst_dstby_d1[];
extern const struct ob_value_name ob_v_iwdg_stop[], ob_v_iwdg_stdby[];
extern const struct ob_value_name ob_v_nboot0[], ob_v_nboot1[];
extern const struct ob_value_name ob_v_swboot0[], ob_v_nboot_sel[];
extern const struct ob_value_name ob_v_bor_l4[], ob_v_nrst_mode[], ob_v_irhen[];
extern const struct ob_value_name ob_v_sram_pe[], ob_v_pcrop_rdp[];

#endif
