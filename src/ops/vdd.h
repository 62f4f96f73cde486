/*
 * --vdd VOLTS: the board's supply voltage lets the ROM program and erase the flash with a wider
 * parallelism. F2/F4/F7 ROMs expose it as the "Device Feature" memory (alt at 0xFFFF0000, 4 bytes):
 * byte 0 is the voltage range, bytes 1-3 are reserved and stay 0xFF (AN2606 "Device Feature",
 * protocol.md 3.2). By default the ROM programs one byte at a time (range 0, x8).
 *
 *   range  supply        parallelism (RM0090 / RM0385 "Program/erase parallelism")
 *   0      1.8 - 2.1 V   x8
 *   1      2.1 - 2.4 V   x16
 *   2      2.4 - 2.7 V   x16
 *   3      2.7 - 3.6 V   x32
 *   4      2.7 - 3.6 V   x64, only with 9 V on VPP: never selected here
 */
#ifndef OPS_VDD_H
#define OPS_VDD_H

#include "core/err.h"

struct ops_session;

#define OPS_VDD_ADDR 0xFFFF0000u

/* The fastest range a supply of volts allows (never above it). STM32DFU_E_USAGE outside 1.8-3.6 V. */
int ops_vdd_range(double volts, int *range, struct err *e);

/* "2.7-3.6 V, x32" for a range 0-3 (a static string). */
const char *ops_vdd_range_text(int range);
/* Bytes per flash program operation in that range (its parallelism: 1, 2, 2, 4). */
unsigned ops_vdd_unit(int range);

/* STM32DFU_E_UNSUPPORTED (in s->err) when the device has no Device Feature memory. No transfer. */
int ops_vdd_check(struct ops_session *s);

/* Writes the range to the Device Feature memory and reads it back (the value must have reached the
 * chip). Leaves the Device Feature alt selected: callers select their own alt next. */
int ops_vdd_apply(struct ops_session *s, int range);

#endif
