/*
 * The in-process emulator door: a serial transport whose other end is the chip model's AN3155
 * front end (sim/sim_uart.h). Bytes take their wire time at the configured rate (11 bits at 8E1);
 * the ROM's answers arrive when the model sends them. Time is the clock's: a fake clock makes a
 * 1 MiB session instant and still exact, the real one makes it take as long as the wire would.
 */
#ifndef SERIAL_SER_SIM_H
#define SERIAL_SER_SIM_H

#include "serial/serial.h"

struct sim_uart;

/* A transport to u (not owned; it and its device must outlive the ser), on clock, which must be
 * the clock the device was made with. */
int ser_sim_wrap(struct sim_uart *u, const struct clock *clock, struct ser **out, struct err *e);

/* A transport that owns its emulated chip: spec is a profile spec as for stm32dfu-sim --uart
 * ("f746,uart_noise=0.001"); profile_dir may be NULL. */
int ser_sim_open(const char *spec, const char *profile_dir, const struct clock *clock, struct ser **out,
                 struct err *e);

/* The front end behind a ser made by either call (NULL for other transports). */
struct sim_uart *ser_sim_uart(struct ser *s);

#endif
