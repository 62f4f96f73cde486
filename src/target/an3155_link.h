/*
 * The AN3155 link below the memory operations (target_an3155.c): opening the port (or the
 * emulator's USART door) and the bootloader on it, closing them, the fixture's reset sequences,
 * a fresh start at another rate, and the raw commands doctor measures the link with. ops/ decides when (its rates, its counts, its report); the bytes are sent here, so ops/
 * names no uart/ or serial/ call.
 */
#ifndef TARGET_AN3155_LINK_H
#define TARGET_AN3155_LINK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/err.h"
#include "serial/ser_seq.h"
#include "serial/serial.h"
#include "uart/an3155.h"

struct target;

/* Opens the port at baud, 8E1 (0: SER_BAUD_DEFAULT), exclusively; or, with port NULL, the
 * emulator's USART door for sim_spec at the clock given, its chip loaded from sim_state when that
 * is not "" (a file that cannot be read is refused, never overwritten later: *state_refused). */
int target_an3155_port(const char *port, unsigned baud, const char *sim_spec, const char *profile_dir,
                       const struct clock *clock, const char *sim_state, struct ser **raw, bool *state_refused,
                       struct err *e);

/* Closes a port target_an3155_port opened, before anything was made on it. */
void target_an3155_port_close(struct ser *raw);

/* What a session holds of its USART link; each member is set as soon as it exists, so that a
 * failure half-way leaves the caller what to close (target_an3155_close). */
struct target_uart_link {
	struct ser *ser;        /* the port wrapped in a trace (log: the trace file, or none) */
	struct an3155 *bl;      /* the protocol's state */
	struct target *t;       /* the AN3155 target */
};
/*
 * The bootloader on an opened port (raw: owned by link->ser from here): the trace, the fixture's
 * entry sequence when given (the board reset into its ROM before the first 0x7F), then 0x7F, GET,
 * Get Version and Get ID, and the target. where names the port in errors (and baud its rate).
 */
int target_an3155_connect(struct ser *raw, FILE *log, unsigned retries, const struct ser_seq *entry,
                          const char *where, unsigned baud, struct target_uart_link *link, struct err *e);
/* Closes the port (the emulator's chip saved to sim_state first when that is not ""), frees the
 * protocol state; the target is closed by its owner. */
void target_an3155_close(struct target_uart_link *link, struct ser *raw, const char *sim_state);

/* --reset-seq's text: ENTRY[:EXIT] ("" the default wiring), parsed before any port is opened, so a
 * wrong sequence sends nothing (serial/ser_seq.h has the grammar). */
int target_an3155_seq_parse(const char *text, struct ser_seq_pair *out, struct err *e);

/* Writes made so far on a traced port (each a frame or a command: the exchanges the retry budget
 * grows with). */
size_t target_an3155_writes(struct ser *traced);

/* Drives a fixture's DTR/RTS sequence on the port; on failure *e is the port's error. */
int target_an3155_seq(struct ser *ser, const struct ser_seq *seq, struct err *e);

/* The exit sequence was driven: the ROM is gone (the application runs), so the next command on
 * this port starts with its own 0x7F. */
void target_an3155_forget_sync(struct an3155 *b);

/* A fresh start at baud: the port set to 8E1 at baud, the entry sequence (a reset into the ROM),
 * then 0x7F. 0 or the negative error. */
int target_an3155_restart(struct ser *ser, const struct ser_seq *entry, struct an3155 *b, unsigned baud);

/* A read outside the link test (doctor's reference read): the usual retries. */
int target_an3155_read(struct an3155 *b, uint32_t addr, uint8_t *buf, size_t n);

/* doctor's link test: one command sent once, with no retry below it, so every failure counts. */
enum target_uart_try {
	TARGET_UART_TRY_GET,     /* GET */
	TARGET_UART_TRY_ID,      /* Get ID */
	TARGET_UART_TRY_READ,    /* Read Memory of AN3155_MAX_BLOCK bytes at addr, into buf */
};
enum target_uart_outcome {
	TARGET_UART_OK,
	TARGET_UART_NACK,        /* the ROM answered NACK: a parity or checksum error it saw */
	TARGET_UART_TIMEOUT,     /* silence */
	TARGET_UART_ERROR,       /* anything else (a wrong byte, the port) */
};
enum target_uart_outcome target_an3155_try(struct an3155 *b, enum target_uart_try kind, uint32_t addr,
                                           uint8_t buf[AN3155_MAX_BLOCK]);
/* After a failed try: the ROM's parser brought back (0x7F, no retry). 0 or the negative error. */
int target_an3155_try_resync(struct an3155 *b);

#endif
