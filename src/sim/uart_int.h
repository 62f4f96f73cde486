/*
 * The emulated AN3155 USART bootloader's state, shared by its three parts (sim_uart.h is the
 * public face): uart_cfg.c reads the profile keys, uart.c is the line (bytes in and out at the
 * host's rate, faults, resets, the fixture's modem lines) and the parser that turns bytes into
 * commands, uart_cmd.c runs the commands on the chip model.
 */
#ifndef SIM_UART_INT_H
#define SIM_UART_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/sim_int.h"
#include "sim/sim_uart.h"

#define ACK 0x79
#define NACK 0x1F
#define TXQ 1024 /* the longest answer is GET (16) or Read Memory (1 + 256): room for several */

enum ustate {
	U_SYNC,     /* after reset: waiting for 0x7F */
	U_LOST,     /* autobaud locked to a rate the host is not at: nothing is understood until reset */
	U_CMD,      /* waiting for a command byte */
	U_COMPL,    /* waiting for its complement */
	U_FRAME,    /* collecting `need` bytes of the command's next frame */
	U_GONE,     /* jumped to the application, or started it (BOOT0 low): the bootloader is not listening */
	U_HELD,     /* NRST held low by the fixture: the chip is in reset, nothing is received or sent */
};

enum uphase { P_RM_ADDR, P_RM_N, P_GO_ADDR, P_WM_ADDR, P_WM_N, P_WM_DATA, P_ER_N, P_ER_LIST, P_EE_N,
	      P_EE_LIST, P_WP_N, P_WP_LIST, P_CRC_ADDR, P_CRC_LEN };

enum umode { M_BOOT, M_SILENT, M_ECHO };

struct txb {
	uint8_t b;
	uint64_t at;
};

struct sim_uart {
	struct sim_device *d;
	/* identity and ROM build */
	uint16_t device_id;
	uint8_t version, gv[2];
	uint8_t cmds[32];
	size_t ncmds;
	unsigned max_baud;
	bool mass_erase; /* the special erase codes are taken (L0: no, stm32flash F_NO_ME) */
	int banks;
	unsigned max_erase_pages; /* pages one Extended Erase may list, 0: no limit (L0: 511) */
	/* the RAM Write Memory and Read Memory may reach (AN2606's device table): RAM elsewhere is
	 * NACKed, the bootloader's own below it included; without the key: the boot_ram rule alone */
	bool ram_limited;
	uint32_t ram_lo, ram_hi;
	double reset_ms;
	enum umode mode;
	/* faults */
	double noise, drop;
	unsigned noise_above;    /* uart_noise only at host rates above this (0: at every rate) */
	uint64_t noise_at, noise_tx_at, drop_at;
	double noise2;           /* the share of noisy bytes with two bits flipped: parity passes them */
	uint64_t noise2_at, noise2_tx_at; /* two bits flipped in the Nth host / ROM byte */
	uint8_t noise2_mask;     /* which two bits the _at keys flip (0: chosen at random) */
	uint32_t noise2_read_at; /* two bits flipped in the byte of this address, the first time a Read
	                          * Memory returns it (0: none) */
	bool noise2_read_done;
	uint64_t reset_at_byte, gone_at; /* the chip resets (a brown-out, an NRST glitch) / loses power
	                                  * or its cable as this host byte arrives (uart_reset_at, uart_gone_at) */
	uint64_t host_bytes, rom_bytes;
	/* the fixture: NRST and BOOT0 wired to the host's modem lines (uart_nrst, uart_boot0) */
	char nrst_line, boot0_line; /* 0 not wired, 'd' DTR, 'r' RTS */
	bool nrst_neg, boot0_neg;   /* the pin is active while its line is deasserted */
	bool boot0_strap;           /* BOOT0's level where no line drives it */
	bool dtr, rts;              /* the host's lines as last set (deasserted before the port opens) */
	bool in_reset;
	/* line */
	unsigned host_baud, locked_baud;
	char host_parity;
	bool host_checks;
	/* machine */
	enum ustate st;
	uint8_t cmd;
	enum uphase ph;
	uint8_t buf[2 * 65536 + 8];
	size_t have, need;
	uint32_t addr, len;
	uint64_t busy_until;  /* flash work or reset in progress: received bytes are lost */
	uint64_t reset_at;    /* 0, or when a pending reset ends (U_SYNC again) */
	/* transmit queue */
	struct txb q[TXQ];
	size_t qh, qn;
	uint64_t line_free;
	uint32_t line_ahead; /* sim_uart_byte_next */
	struct sim_uart_stats stats;
};

/* uart_cfg.c: the profile's uart_* keys into u (u->d set); -1 with errbuf filled. */
int sim_uart_configure(struct sim_uart *u, const struct sim_profile *p, char *errbuf, size_t errlen);

/* uart.c: the ROM sends a byte once it has decided to at `at` (faults applied); ACK and NACK
 * (a NACK returns the parser to waiting for a command); a reset after the answer is out. */
void sim_uart_emit(struct sim_uart *u, uint8_t b, uint64_t at);
void sim_uart_ack(struct sim_uart *u, uint64_t at);
void sim_uart_nack(struct sim_uart *u, uint64_t at);
void sim_uart_reset_after(struct sim_uart *u, uint64_t at);

/* uart_cmd.c: a command whose byte and complement arrived at t; a whole frame of it at t. */
void sim_uart_cmd_start(struct sim_uart *u, uint64_t t);
void sim_uart_cmd_frame(struct sim_uart *u, uint64_t t);

#endif
