/*
 * stm32dfu-sim --uart: emulated chips' USART bootloaders on pseudo-terminals. One thread serves
 * every chip: bytes a program writes to the terminal reach the AN3155 front end (sim/sim_uart.h)
 * timed at the rate and framing the program set on its side, and the ROM's answers are written
 * back when the model has them complete on the wire.
 */
#ifndef SIMTOOL_PTY_H
#define SIMTOOL_PTY_H

#include <stddef.h>
#include <stdint.h>

struct sim_uart;

struct simtool_pty {
	struct sim_uart *u;
	int master;     /* our end */
	int slave;      /* kept open, so the terminal and its settings live between the program's opens */
	char path[64];  /* /dev/pts/N, what the program opens */
	unsigned long long rx_free_us; /* when the modelled line from the host is free again */
	uint32_t rx_ahead;             /* sim_uart_byte_next */
};

/* Creates the terminal (raw, 115200 8E1 until the program sets its own). */
int simtool_pty_open(struct simtool_pty *p, struct sim_uart *u, char *err, size_t errlen);
void simtool_pty_close(struct simtool_pty *p);

struct simtool_ptyserver;
struct simtool_ptyserver *simtool_pty_serve(struct simtool_pty *p, int n);
void simtool_pty_stop(struct simtool_ptyserver *s);

#endif
