/*
 * The F7 (and F2/F4/L4-class) ROM's HSE crystal detection, as arithmetic (protocol.md 4.2-4.3):
 * the ROM times 248 HSE cycles (HSE/31, input prescaler 8) with TIM11 clocked at 24 MHz from the
 * HSI, computes f = 24e6 / D * 31 * 8 in integers and rounds to MHz. When the HSI is off by more
 * than the crystal's safe band, the detected value is one MHz off, the PLL is set for it, and the
 * USB clock is about 48 * f / (f - 1) MHz: ~4 % off at 24-26 MHz, 16x USB full speed's 0.25 %.
 * Pure functions, for `doctor`.
 */
#ifndef CHIP_HSE_H
#define CHIP_HSE_H

#include <stdbool.h>

/* USB 2.0 §7.1.11 (TFDRATE): a full-speed-only device's clock within 2500 ppm. */
#define CHIP_USB_FS_TOLERANCE_PCT 0.25

/* What the ROM believes the crystal is (Hz, a whole MHz), for a capture count rounded down
 * (round_up false) or up; 0 when no count fits. hsi_error_pct > 0: the HSI runs fast. */
double chip_hse_detect(double crystal_hz, double hsi_error_pct, bool round_up);

/* The HSI error band (percent, 0.01 % steps) inside which both captures give the right MHz:
 * 8 MHz -5.77..+6.58, 24 MHz -2.01..+2.01, 25 MHz -1.71..+1.64. */
void chip_hse_safe_band(double crystal_hz, double *lo_pct, double *hi_pct);

/* The USB clock error (percent) when the ROM takes crystal_hz for detected_hz. */
double chip_hse_usb_error_pct(double crystal_hz, double detected_hz);

#endif
