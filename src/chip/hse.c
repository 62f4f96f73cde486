/* The ROM's HSE detection arithmetic (protocol.md 4.2, efton's reverse engineering). */
#include "chip/hse.h"

#include <math.h>
#include <stdint.h>

double chip_hse_detect(double crystal_hz, double hsi_error_pct, bool round_up)
{
	if (!(crystal_hz > 0))
		return 0;
	double exact = 24e6 * (1.0 + hsi_error_pct / 100.0) * 248.0 / crystal_hz;
	double dd = round_up ? ceil(exact) : floor(exact);
	if (!(dd >= 1) || dd > 1e9)
		return 0;
	uint64_t d = (uint64_t)dd;
	uint64_t f = 24000000u / d * 31u * 8u;
	return (double)((f / 100000u + 5u) / 10u) * 1e6;
}

static bool detects_right(double crystal_hz, double err_pct)
{
	double mhz = round(crystal_hz / 1e6) * 1e6;
	return chip_hse_detect(crystal_hz, err_pct, false) == mhz && chip_hse_detect(crystal_hz, err_pct, true) == mhz;
}

void chip_hse_safe_band(double crystal_hz, double *lo_pct, double *hi_pct)
{
	/* integer steps of 0.01 %: no drift from adding floats; 20 % is far past any band */
	int k;
	for (k = 0; k < 2000 && detects_right(crystal_hz, -(k + 1) / 100.0); k++)
		;
	*lo_pct = -k / 100.0;
	for (k = 0; k < 2000 && detects_right(crystal_hz, (k + 1) / 100.0); k++)
		;
	*hi_pct = k / 100.0;
}

double chip_hse_usb_error_pct(double crystal_hz, double detected_hz)
{
	if (!(detected_hz > 0))
		return 0;
	return (crystal_hz / detected_hz - 1.0) * 100.0;
}
